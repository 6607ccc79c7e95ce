//! Reading a CA export bundle, from a directory (`mdoc-dts ingest DIR`) or a tar upload, into
//! named byte strings checked against the bundle's manifest.
//!
//! A bundle is what `mdoc-ca export` writes: `iaca/*.der`, `link/*.der`, `crl/*.crl` and
//! `MANIFEST.sha256` (`<sha256-hex>  <name>` per file, `#` comments). Names are data, never
//! paths: each is checked to be at most two plain segments (`dir/file`, ASCII letters, digits,
//! `.`, `_`, `-`, not starting with `.`), so no `..`, absolute name, or odd byte gets as far
//! as the file system or the database. Links, devices and other non-regular entries are
//! refused, as are duplicates. Every size is bounded before it is read.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::Limits;
use crate::error::Refusal;

/// The manifest's name.
pub const MANIFEST: &str = "MANIFEST.sha256";

/// The files of a bundle by name (sorted), manifest checked and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    files: BTreeMap<String, Vec<u8>>,
    sha256: String,
}

impl Bundle {
    /// The files, sorted by name.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(n, b)| (n.as_str(), b.as_slice()))
    }

    /// SHA-256 (hex) of the manifest: names the bundle in the audit log.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Reads the bundle directory `dir`.
    pub fn from_dir(dir: &Path, limits: &Limits) -> Result<Bundle, Refusal> {
        let mut files = Collector::new(limits);
        let meta = std::fs::symlink_metadata(dir).map_err(|e| Refusal::Unreadable {
            reason: format!("{}: {e}", dir.display()),
        })?;
        if !meta.is_dir() {
            return Err(Refusal::Unreadable {
                reason: format!("{} is not a directory", dir.display()),
            });
        }
        walk(dir, "", 0, &mut files)?;
        files.finish()
    }

    /// Reads a tar archive of a bundle directory (entries may start with `./`).
    pub fn from_tar(bytes: &[u8], limits: &Limits) -> Result<Bundle, Refusal> {
        let unreadable = |e: std::io::Error| Refusal::Unreadable {
            reason: format!("tar: {e}"),
        };
        let mut files = Collector::new(limits);
        let mut archive = tar::Archive::new(bytes);
        for entry in archive.entries().map_err(unreadable)? {
            let mut entry = entry.map_err(unreadable)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            let name = raw.strip_prefix("./").unwrap_or(&raw).to_owned();
            if kind.is_dir() {
                if name.is_empty() || name == "." {
                    continue;
                }
                check_name(name.trim_end_matches('/'), true)?;
                continue;
            }
            if !kind.is_file() {
                return Err(Refusal::NotRegularFile { name: raw });
            }
            let size = entry.header().size().map_err(unreadable)?;
            let name = check_name(&name, false)?;
            files.admit(&name, size)?;
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry
                .by_ref()
                .take(size)
                .read_to_end(&mut data)
                .map_err(unreadable)?;
            files.insert(name, data)?;
        }
        files.finish()
    }
}

fn walk(dir: &Path, prefix: &str, depth: usize, files: &mut Collector<'_>) -> Result<(), Refusal> {
    let unreadable = |e: std::io::Error| Refusal::Unreadable {
        reason: format!("{}: {e}", dir.display()),
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(unreadable)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let raw = entry.file_name().to_string_lossy().into_owned();
        let name = format!("{prefix}{raw}");
        // Never follows a link: the entry's own type decides.
        let meta = std::fs::symlink_metadata(entry.path()).map_err(unreadable)?;
        if meta.is_dir() {
            if depth > 0 {
                return Err(Refusal::UnsafeName {
                    name,
                    reason: "nested deeper than one directory",
                });
            }
            check_name(&name, true)?;
            walk(&entry.path(), &format!("{name}/"), depth + 1, files)?;
        } else if meta.is_file() {
            let name = check_name(&name, false)?;
            files.admit(&name, meta.len())?;
            let mut data = Vec::new();
            std::fs::File::open(entry.path())
                .map_err(unreadable)?
                .take(files.limits.max_file_bytes.saturating_add(1))
                .read_to_end(&mut data)
                .map_err(unreadable)?;
            files.insert(name, data)?;
        } else {
            return Err(Refusal::NotRegularFile { name });
        }
    }
    Ok(())
}

fn plain(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 128
        && !segment.starts_with('.')
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks a bundle name: one or two plain segments (one for a directory).
fn check_name(name: &str, directory: bool) -> Result<String, Refusal> {
    let bad = |reason| Refusal::UnsafeName {
        name: name.to_owned(),
        reason,
    };
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(bad("absolute"));
    }
    if name.split(['/', '\\']).any(|s| s == "..") {
        return Err(bad("parent directory"));
    }
    let segments: Vec<&str> = name.split('/').collect();
    let max = if directory { 1 } else { 2 };
    if segments.len() > max {
        return Err(bad("nested deeper than one directory"));
    }
    if !segments.iter().all(|s| plain(s)) {
        return Err(bad("not a plain name"));
    }
    Ok(name.to_owned())
}

struct Collector<'l> {
    limits: &'l Limits,
    files: BTreeMap<String, Vec<u8>>,
    total: u64,
}

impl<'l> Collector<'l> {
    fn new(limits: &'l Limits) -> Self {
        Collector {
            limits,
            files: BTreeMap::new(),
            total: 0,
        }
    }

    /// Admits a file of `size` bytes before it is read.
    fn admit(&mut self, name: &str, size: u64) -> Result<(), Refusal> {
        if self.files.len() >= self.limits.max_files {
            return Err(Refusal::TooManyFiles {
                max: self.limits.max_files,
            });
        }
        if size > self.limits.max_file_bytes {
            return Err(Refusal::FileTooLarge {
                name: name.to_owned(),
                max: self.limits.max_file_bytes,
            });
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_bundle_bytes {
            return Err(Refusal::BundleTooLarge {
                max: self.limits.max_bundle_bytes,
            });
        }
        Ok(())
    }

    fn insert(&mut self, name: String, data: Vec<u8>) -> Result<(), Refusal> {
        // A file that grew between its metadata and its read.
        if data.len() as u64 > self.limits.max_file_bytes {
            return Err(Refusal::FileTooLarge {
                name,
                max: self.limits.max_file_bytes,
            });
        }
        if self.files.contains_key(&name) {
            return Err(Refusal::DuplicateName { name });
        }
        self.files.insert(name, data);
        Ok(())
    }

    fn finish(mut self) -> Result<Bundle, Refusal> {
        let manifest = self.files.remove(MANIFEST).ok_or(Refusal::NoManifest)?;
        let sha256 = hex::encode(Sha256::digest(&manifest));
        let text =
            std::str::from_utf8(&manifest).map_err(|_| Refusal::ManifestMalformed { line: 1 })?;
        let mut listed: BTreeMap<&str, &str> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = Refusal::ManifestMalformed { line: i + 1 };
            let (digest, name) = line.split_once("  ").ok_or(malformed.clone())?;
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(malformed);
            }
            if listed.insert(name, digest).is_some() {
                return Err(Refusal::DuplicateName {
                    name: name.to_owned(),
                });
            }
        }
        for (name, bytes) in &self.files {
            match listed.get(name.as_str()) {
                None => {
                    return Err(Refusal::Manifest {
                        name: name.clone(),
                        problem: "not listed in the manifest",
                    })
                }
                Some(d) if !d.eq_ignore_ascii_case(&hex::encode(Sha256::digest(bytes))) => {
                    return Err(Refusal::Manifest {
                        name: name.clone(),
                        problem: "digest differs from the manifest",
                    })
                }
                Some(_) => {}
            }
        }
        if let Some(name) = listed.keys().find(|n| !self.files.contains_key(**n)) {
            return Err(Refusal::Manifest {
                name: (*name).to_owned(),
                problem: "listed in the manifest but missing",
            });
        }
        Ok(Bundle {
            files: self.files,
            sha256,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_shallow() {
        assert!(check_name("crl/00000001.crl", false).is_ok());
        for bad in [
            "../x",
            "/etc/passwd",
            "a/b/c",
            "crl/.hidden",
            "crl/a b",
            "a\\..\\b",
            "crl/",
        ] {
            assert!(
                matches!(check_name(bad, false), Err(Refusal::UnsafeName { .. })),
                "{bad}"
            );
        }
    }
}
