//! The DTS configuration: one TOML file, unknown keys refused (a typo must not fall back to a
//! default). Secrets (the VICAL key's passphrase or PIN) are never in the file: the file names
//! the environment variables that hold them. Every number has the policy value as default.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Duration;

/// Config errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for the DTS.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The DTS configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtsConfig {
    /// The public base URL verifiers reach this DTS at (`https://dts.example.go.jp`, or with a
    /// path prefix). Every IACA's CRLDistributionPoints URL must lie under it: that is where
    /// the DTS serves the IACA's current CRL.
    pub public_url: String,
    /// SHA-256 fingerprints (hex, colons and case ignored) of the roots the operator published
    /// on its website (policy §2.2). Other roots are accepted only through a link certificate.
    pub pinned_roots: Vec<String>,
    /// `sqlite:` URL or file path (the default, embedded) or `postgres://` URL shared by
    /// replicas. Relative paths are relative to the config file.
    pub database_url: String,
    /// The hash-chained audit log (custody format). Relative to the config file.
    pub audit_log: PathBuf,
    /// This installation's terminal id, in every audit record.
    pub terminal_id: String,
    /// Listen address for reads (and, without `ops_listen`, for operations).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Optional separate listener for `/metrics`, `/readyz` and the admin upload, so they can
    /// stay off the public network.
    pub ops_listen: Option<String>,
    /// Limits on bundles.
    #[serde(default)]
    pub limits: Limits,
    /// HTTP caching.
    #[serde(default)]
    pub cache: CacheConfig,
    /// CRL freshness alarms.
    #[serde(default)]
    pub crl: CrlConfig,
    /// The VICAL; without it no VICAL is published.
    pub vical: Option<VicalConfig>,
    /// The admin upload endpoint; without it the endpoint answers 404.
    pub admin: Option<AdminConfig>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

/// Bounds on what a bundle may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest single file (a CRL with a million entries is about 40 MB).
    pub max_file_bytes: u64,
    /// Largest bundle (all files together; also the upload body limit).
    pub max_bundle_bytes: u64,
    /// Most files in a bundle.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_bundle_bytes: 256 * 1024 * 1024,
            max_files: 4096,
        }
    }
}

/// HTTP caching of what can change (certificates by hash are immutable).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// The longest `max-age` for a CRL, the index, the page or the VICAL, in seconds. A cache
    /// never keeps a CRL past its nextUpdate or past the moment the next pre-signed CRL takes
    /// over; this bounds how late an emergency CRL can reach a cache.
    pub max_age_seconds: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_age_seconds: 3600,
        }
    }
}

/// CRL freshness alarms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrlConfig {
    /// Alarm when the pre-signed reserve of a root (time until the last held CRL's nextUpdate)
    /// falls under this many days.
    pub reserve_alarm_days: u32,
    /// Longest CRL validity (nextUpdate − thisUpdate) accepted, in days (CPS §7.2.2: 3).
    pub max_validity_days: u32,
}

impl Default for CrlConfig {
    fn default() -> Self {
        CrlConfig {
            reserve_alarm_days: 2,
            max_validity_days: mso::x509::policy::MAX_CRL_VALIDITY_DAYS,
        }
    }
}

/// The VICAL this DTS signs over the IACAs it publishes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VicalConfig {
    /// `vicalProvider`.
    pub provider: String,
    /// The signer key: `file:PATH` (encrypted file keystore, development) or
    /// `pkcs11:token=…;object=…` (RFC 7512).
    pub key: String,
    /// PEM file with the signer's certificate first, then any intermediate CA certificates.
    pub certificates: PathBuf,
    /// PKCS#11 module for a `pkcs11:` key; defaults to SoftHSM2's.
    pub module: Option<PathBuf>,
    /// Environment variable holding the file keystore passphrase or the token PIN.
    #[serde(default = "default_secret_env")]
    pub secret_env: String,
    /// Doc types every listed IACA is trusted for.
    #[serde(default = "default_doc_types")]
    pub doc_types: Vec<String>,
    /// Days from a VICAL's date to its nextUpdate; a new VICAL is signed at half of it.
    #[serde(default = "default_vical_days")]
    pub validity_days: u32,
}

fn default_secret_env() -> String {
    "MDOC_DTS_VICAL_SECRET".into()
}

fn default_doc_types() -> Vec<String> {
    vec!["org.iso.18013.5.1.mDL".into()]
}

fn default_vical_days() -> u32 {
    30
}

/// The authenticated admin upload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// SHA-256 (hex) of each admin bearer token; tokens themselves are never stored.
    pub token_sha256: Vec<String>,
}

impl DtsConfig {
    /// Reads and checks `path`; relative paths in it become relative to its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.check()?;
        Ok(config)
    }

    /// Parses TOML text (no path resolution, no checks).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<text>".into(),
            message: e.to_string(),
        })
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.audit_log);
        if let Some(v) = &mut self.vical {
            join(&mut v.certificates);
        }
        if !self.database_url.contains("://") && !self.database_url.starts_with("sqlite:") {
            let p = Path::new(&self.database_url);
            if p.is_relative() {
                self.database_url = base.join(p).display().to_string();
            }
        }
    }

    /// Checks values that TOML types cannot express.
    pub fn check(&self) -> Result<(), ConfigError> {
        crate::layout::PublicUrl::parse(&self.public_url)
            .map_err(|e| ConfigError::Invalid(format!("public_url: {e}")))?;
        if self.pinned_roots.is_empty() {
            return Err(ConfigError::Invalid(
                "pinned_roots is empty: the DTS would trust nothing".into(),
            ));
        }
        for fp in &self.pinned_roots {
            normalise_fingerprint(fp).ok_or_else(|| {
                ConfigError::Invalid(format!("pinned_roots: {fp:?} is not a SHA-256 fingerprint"))
            })?;
        }
        if self.terminal_id.trim().is_empty() {
            return Err(ConfigError::Invalid("terminal_id is empty".into()));
        }
        if self.cache.max_age_seconds == 0 {
            return Err(ConfigError::Invalid("cache.max_age_seconds is 0".into()));
        }
        if let Some(v) = &self.vical {
            if v.doc_types.is_empty() || v.validity_days == 0 || v.provider.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "vical: provider, doc_types and validity_days must be set".into(),
                ));
            }
        }
        if let Some(a) = &self.admin {
            for t in &a.token_sha256 {
                if t.len() != 64 || hex::decode(t).is_err() {
                    return Err(ConfigError::Invalid(
                        "admin.token_sha256: each entry is 64 hex digits".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The pinned fingerprints, normalised (lower-case hex, no separators).
    pub fn pins(&self) -> Vec<String> {
        self.pinned_roots
            .iter()
            .filter_map(|f| normalise_fingerprint(f))
            .collect()
    }

    /// The VICAL validity as a duration.
    pub fn vical_validity(&self) -> Option<Duration> {
        self.vical
            .as_ref()
            .map(|v| Duration::days(i64::from(v.validity_days)))
    }
}

/// A SHA-256 fingerprint in lower-case hex without separators, or `None` if `text` is not one.
pub fn normalise_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_accept_colons_and_case_only() {
        let fp = "AB:".repeat(31) + "AB";
        assert_eq!(normalise_fingerprint(&fp), Some("ab".repeat(32)));
        assert_eq!(normalise_fingerprint("ab"), None);
        assert_eq!(normalise_fingerprint(&"zz".repeat(32)), None);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = DtsConfig::parse(
            "public_url='http://x'\npinned_roots=[]\ndatabase_url='a'\naudit_log='b'\nterminal_id='t'\ntypo=1\n",
        );
        assert!(matches!(e, Err(ConfigError::Parse { message, .. }) if message.contains("typo")));
    }
}
