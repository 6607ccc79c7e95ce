//! Where the wallet's bytes live: the [`Storage`] foreign trait and [`FileStorage`].
//!
//! The SDK stores opaque values under short keys it chooses (see [`check_key`]); the app
//! decides where they live (an encrypted database, the platform's protected files) by
//! implementing [`Storage`], or uses [`FileStorage`]: one file per key in a directory, each
//! write atomic (a temporary file, fsynced, renamed over the old one, the directory fsynced).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use rand_core::{OsRng, RngCore as _};

use crate::error::{Result, WalletError};

/// Longest storage key.
pub const MAX_KEY_LEN: usize = 128;
/// Largest value [`FileStorage`] reads back (a batch of credentials with portraits fits).
pub const MAX_VALUE_LEN: usize = 16 * 1024 * 1024;

/// The app's key-value store of wallet records (implemented in Kotlin, Swift or Python).
///
/// Keys are at most [`MAX_KEY_LEN`] characters of `A-Z a-z 0-9 . _ -`, never starting with a
/// dot. A `put` must replace the value atomically: after a crash the old or the new value is
/// there, never a mix.
#[uniffi::export(with_foreign)]
pub trait Storage: Send + Sync {
    /// The value under `key`, or `None`.
    fn get(&self, key: String) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`, replacing any value (atomically).
    fn put(&self, key: String, value: Vec<u8>) -> Result<()>;
    /// Deletes `key`; deleting an absent key is not an error.
    fn delete(&self, key: String) -> Result<()>;
    /// Every key starting with `prefix`, in any order.
    fn list(&self, prefix: String) -> Result<Vec<String>>;
}

/// Checks that `key` is a storage key: 1 to [`MAX_KEY_LEN`] characters of
/// `A-Z a-z 0-9 . _ -`, not starting with a dot (so never `.` or `..`, never a hidden
/// temporary file, never a path).
pub(crate) fn check_key(key: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if key.is_empty()
        || key.len() > MAX_KEY_LEN
        || key.starts_with('.')
        || !key.chars().all(allowed)
    {
        return Err(WalletError::invalid_argument(format!(
            "{key:?} is not a storage key"
        )));
    }
    Ok(())
}

/// A [`Storage`] in a directory: one file per key.
#[derive(Debug, uniffi::Object)]
pub struct FileStorage {
    dir: PathBuf,
}

fn io(what: &str, e: &std::io::Error) -> WalletError {
    WalletError::storage(format!("{what}: {e}"))
}

#[uniffi::export]
impl FileStorage {
    /// A store in `directory` (created if absent). Keep it in the app's private files: the
    /// records hold credentials.
    #[uniffi::constructor]
    pub fn new(directory: String) -> Result<Self> {
        let dir = PathBuf::from(directory);
        fs::create_dir_all(&dir).map_err(|e| io("creating the directory", &e))?;
        Ok(FileStorage { dir })
    }
}

/// A [`FileStorage`] in `directory` as a [`Storage`], for the foreign languages (where a
/// Rust object is not an implementation of the foreign trait): pass it to `Wallet`.
#[uniffi::export]
pub fn file_storage(directory: String) -> Result<Arc<dyn Storage>> {
    Ok(Arc::new(FileStorage::new(directory)?))
}

impl FileStorage {
    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.dir.join(key))
    }

    fn sync_dir(&self) -> Result<()> {
        // Makes the rename durable. Directories cannot be opened for sync everywhere
        // (Windows); there the rename is as durable as the platform makes it.
        if let Ok(dir) = File::open(&self.dir) {
            match dir.sync_all() {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::PermissionDenied => {}
                Err(e) => return Err(io("syncing the directory", &e)),
            }
        }
        Ok(())
    }
}

impl Storage for FileStorage {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>> {
        let path = self.path(&key)?;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening a record", &e)),
        };
        let limit = u64::try_from(MAX_VALUE_LEN).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| io("reading a record", &e))?;
        if out.len() > MAX_VALUE_LEN {
            return Err(WalletError::SizeLimit {
                reason: format!("record {key:?} exceeds {MAX_VALUE_LEN} bytes"),
            });
        }
        Ok(Some(out))
    }

    fn put(&self, key: String, value: Vec<u8>) -> Result<()> {
        let path = self.path(&key)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(WalletError::SizeLimit {
                reason: format!("a value of {} bytes exceeds {MAX_VALUE_LEN}", value.len()),
            });
        }
        let tmp = self
            .dir
            .join(format!(".{key}.{:016x}.tmp", OsRng.next_u64()));
        let written = (|| {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(&value)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            // Best effort: the temporary file is hidden from `list` either way.
            let _ = fs::remove_file(&tmp);
            return Err(io("writing a record", &e));
        }
        self.sync_dir()
    }

    fn delete(&self, key: String) -> Result<()> {
        let path = self.path(&key)?;
        match fs::remove_file(path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("deleting a record", &e)),
        }
    }

    fn list(&self, prefix: String) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| io("listing", &e))? {
            let entry = entry.map_err(|e| io("listing", &e))?;
            if let Some(name) = entry.file_name().to_str() {
                if name.starts_with(&prefix) && check_key(name).is_ok() {
                    keys.push(name.to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wallet-storage-{:016x}", OsRng.next_u64()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "é", "a b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
        check_key("cred.0123-abc_DEF").unwrap();
    }

    #[test]
    fn file_storage_round_trips_and_replaces() {
        let dir = temp_dir();
        let s = FileStorage::new(dir.to_string_lossy().into_owned()).unwrap();
        assert_eq!(s.get("a.1".into()).unwrap(), None);
        s.put("a.1".into(), b"one".to_vec()).unwrap();
        s.put("a.1".into(), b"two".to_vec()).unwrap();
        s.put("b.1".into(), Vec::new()).unwrap();
        assert_eq!(s.get("a.1".into()).unwrap(), Some(b"two".to_vec()));
        assert_eq!(s.list("a.".into()).unwrap(), vec!["a.1".to_owned()]);
        assert!(s.put("../escape".into(), b"x".to_vec()).is_err());
        assert!(!dir.parent().unwrap().join("escape").exists());
        s.delete("a.1".into()).unwrap();
        s.delete("a.1".into()).unwrap();
        assert_eq!(s.get("a.1".into()).unwrap(), None);
        // No temporary file left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }
}
