//! One reviewed config file per ceremony (Let's Encrypt ceremony-tool style).
//!
//! The file names the ceremony, the state directory, the terminal and people present, the root
//! key, and the parameters of exactly that ceremony. Every policy number has the CPS value as
//! its default. Unknown keys are refused so a typo cannot silently fall back to a default.

use std::path::{Path, PathBuf};

use mso::x509::policy;
use serde::Deserialize;
use time::OffsetDateTime;

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
    /// The file is not valid TOML for a ceremony.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value violates the policy.
    #[error("policy violation: {0}")]
    Policy(String),
}

/// The ceremonies `mdoc-ca` performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CeremonyKind {
    /// Create the root key and self-signed IACA, split the activation secret.
    Init,
    /// Issue DS certificates from PKCS#10 CSRs.
    SignDs,
    /// Issue MSO revocation list signer certificates from PKCS#10 CSRs.
    SignListSigner,
    /// Revoke certificates by serial.
    Revoke,
    /// Pre-sign a CRL series.
    Crl,
    /// New root key and link certificates.
    Rollover,
    /// Root-compromise procedure (policy §5.7.3).
    Compromise,
    /// Export what the DTS publishes.
    Export,
}

impl CeremonyKind {
    /// The name used in files and records.
    pub fn name(self) -> &'static str {
        match self {
            CeremonyKind::Init => "init",
            CeremonyKind::SignDs => "sign-ds",
            CeremonyKind::SignListSigner => "sign-list-signer",
            CeremonyKind::Revoke => "revoke",
            CeremonyKind::Crl => "crl",
            CeremonyKind::Rollover => "rollover",
            CeremonyKind::Compromise => "compromise",
            CeremonyKind::Export => "export",
        }
    }
}

/// A ceremony config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyConfig {
    /// Which ceremony this file drives.
    pub ceremony: CeremonyKind,
    /// Where the ledger, archive, shares and audit log live.
    pub state_dir: PathBuf,
    /// This terminal's unique id (recorded in every audit record).
    pub terminal_id: String,
    /// Operator ids present (besides custodians).
    #[serde(default)]
    pub operators: Vec<String>,
    /// The ceremony's moment; defaults to the clock. Lets a ceremony be rehearsed exactly.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// Root key custody.
    pub key: KeyConfig,
    /// Policy numbers.
    #[serde(default)]
    pub policy: Policy,
    /// `init` and `rollover`: the IACA subject and extensions.
    pub iaca: Option<IacaConfig>,
    /// `sign-ds`.
    pub sign_ds: Option<SignDsConfig>,
    /// `sign-list-signer` (the same fields as `sign-ds`).
    pub sign_list_signer: Option<SignDsConfig>,
    /// `revoke`.
    pub revoke: Option<RevokeConfig>,
    /// `crl`.
    pub crl: Option<CrlConfig>,
    /// `export`.
    pub export: Option<ExportConfig>,
    /// `compromise`.
    pub compromise: Option<CompromiseConfig>,
}

/// Root key custody.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// `pkcs11` (an HSM) or `file` (encrypted software keystore, development and tests only).
    pub backend: KeyBackend,
    /// Label of the root key to create (`init`, `rollover`) or use.
    pub label: String,
    /// PKCS#11 module (shared library) path; defaults to SoftHSM2's.
    pub module: Option<PathBuf>,
    /// PKCS#11 token label.
    pub token: Option<String>,
    /// Custodian ids; at `init` every one receives a sealed share.
    pub custodians: Vec<String>,
    /// Shares needed to activate the key (M of N).
    pub threshold: u8,
    /// Custodians present at this ceremony (at least `threshold` of them, except at `init`).
    #[serde(default)]
    pub present: Vec<String>,
    /// A separate key, used for nothing else, that signs audit checkpoints.
    pub audit_key_label: Option<String>,
}

/// Root key backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyBackend {
    /// PKCS#11 token.
    Pkcs11,
    /// Encrypted software keystore (DEVELOPMENT AND TESTS ONLY).
    File,
}

/// Policy numbers, defaulting to the CPS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// IACA certificate validity in months (§6.3.2: 5 years 4 months).
    pub iaca_validity_months: u32,
    /// Root key usage period in months (§6.3.2: 5 years): past it, DS signing is refused until
    /// a rollover. (Link certificate dates follow §7.1.2.2 from the two IACAs.)
    pub root_key_usage_months: u32,
    /// Longest DS certificate validity in days (at most the Annex B maximum, 457).
    pub ds_max_validity_days: u32,
    /// Longest list signer certificate validity in days (at most the Table B.9 maximum,
    /// 1187; default 457, a DS's, so a list signer key is renewed as often as a DS's).
    pub list_signer_max_validity_days: u32,
    /// Days between CRL thisUpdates (§7.2.2: 1).
    pub crl_interval_days: u32,
    /// CRL validity in days: nextUpdate = thisUpdate + this (§7.2.2: 3).
    pub crl_validity_days: u32,
    /// Curves a DS key may use.
    pub ds_curves: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            iaca_validity_months: crate::profile::DEFAULT_IACA_VALIDITY_MONTHS,
            root_key_usage_months: 60,
            ds_max_validity_days: policy::MAX_DS_VALIDITY_DAYS,
            list_signer_max_validity_days: policy::MAX_DS_VALIDITY_DAYS,
            crl_interval_days: crate::crl::DEFAULT_CRL_UPDATE_INTERVAL_DAYS,
            crl_validity_days: crate::crl::DEFAULT_CRL_VALIDITY_DAYS,
            ds_curves: vec!["P-256".into(), "P-384".into(), "P-521".into()],
        }
    }
}

/// IACA subject and extensions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IacaConfig {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// stateOrProvinceName, if used.
    pub state: Option<String>,
    /// organizationName.
    pub organization: Option<String>,
    /// commonName.
    pub common_name: String,
    /// issuerAltName URI.
    pub issuer_alt_name_uri: Option<String>,
    /// issuerAltName email.
    pub issuer_alt_name_email: Option<String>,
    /// CRL distribution point URI.
    pub crl_distribution_point: String,
}

/// `sign-ds` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignDsConfig {
    /// CSR files (DER or PEM), relative to the config file.
    pub csrs: Vec<PathBuf>,
    /// Validity in days (≤ policy).
    pub validity_days: u32,
}

/// `revoke` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeConfig {
    /// Serials (hex) to revoke.
    pub serials: Vec<String>,
    /// Reason, recorded in the ledger, never published.
    pub reason: String,
}

/// `crl` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrlConfig {
    /// How many days the pre-signed series covers (until the next ceremony).
    pub series_days: u32,
}

/// `export` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// Directory the bundle is written to (must not exist yet).
    pub out_dir: PathBuf,
}

/// `compromise` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompromiseConfig {
    /// Label of the compromised root key.
    pub compromised_label: String,
    /// What happened (recorded, not published).
    pub note: String,
}

impl CeremonyConfig {
    /// Reads and parses a config file; returns it with the SHA-256 of its bytes. Policy checks
    /// ([`CeremonyConfig::check`]) run when the ceremony starts.
    pub fn load(path: &Path) -> Result<(Self, String), ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let text = String::from_utf8(bytes.clone()).map_err(|_| ConfigError::Parse {
            path: path.display().to_string(),
            message: "not UTF-8".into(),
        })?;
        let mut cfg: CeremonyConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // Relative paths are relative to the config file, so a ceremony folder is portable.
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.state_dir = base.join(&cfg.state_dir);
        for s in [cfg.sign_ds.as_mut(), cfg.sign_list_signer.as_mut()]
            .into_iter()
            .flatten()
        {
            s.csrs = s.csrs.iter().map(|c| base.join(c)).collect();
        }
        if let Some(e) = cfg.export.as_mut() {
            e.out_dir = base.join(&e.out_dir);
        }
        // Policy checks run inside the ceremony, so a refusal is recorded in the audit log.
        Ok((cfg, crate::ledger::sha256_hex(&bytes)))
    }

    /// Policy and consistency checks that need no state.
    pub fn check(&self) -> Result<(), ConfigError> {
        let p = |m: String| Err(ConfigError::Policy(m));
        let k = &self.key;
        let n = k.custodians.len();
        if k.threshold < 2 || usize::from(k.threshold) > n {
            return p(format!(
                "threshold {} must be at least 2 and at most the {n} custodians",
                k.threshold
            ));
        }
        let unique: std::collections::BTreeSet<_> = k.custodians.iter().collect();
        if unique.len() != n {
            return p("custodian ids must be unique".into());
        }
        if let Some(stranger) = k.present.iter().find(|c| !k.custodians.contains(c)) {
            return p(format!("{stranger:?} is not a custodian of this key"));
        }
        let max_months = policy::MAX_IACA_VALIDITY_MONTHS;
        if self.policy.iaca_validity_months == 0 || self.policy.iaca_validity_months > max_months {
            return p(format!(
                "IACA validity must be 1 to {max_months} months (Annex B)"
            ));
        }
        let max_days = policy::MAX_DS_VALIDITY_DAYS;
        if self.policy.ds_max_validity_days == 0 || self.policy.ds_max_validity_days > max_days {
            return p(format!(
                "DS validity must be at most {max_days} days (Annex B)"
            ));
        }
        let max_days = policy::MAX_LIST_SIGNER_VALIDITY_DAYS;
        if self.policy.list_signer_max_validity_days == 0
            || self.policy.list_signer_max_validity_days > max_days
        {
            return p(format!(
                "list signer validity must be at most {max_days} days (Table B.9)"
            ));
        }
        if self.policy.crl_interval_days == 0
            || self.policy.crl_validity_days < self.policy.crl_interval_days
        {
            return p("CRL validity must be at least the issue interval".into());
        }
        let section = |present: bool, name: &str| {
            if present {
                Ok(())
            } else {
                Err(ConfigError::Policy(format!(
                    "a {} ceremony needs a [{name}] section",
                    self.ceremony.name()
                )))
            }
        };
        match self.ceremony {
            CeremonyKind::Init | CeremonyKind::Rollover => section(self.iaca.is_some(), "iaca")?,
            CeremonyKind::SignDs => {
                section(self.sign_ds.is_some(), "sign_ds")?;
                if let Some(s) = &self.sign_ds {
                    if s.validity_days == 0 || s.validity_days > self.policy.ds_max_validity_days {
                        return p(format!(
                            "DS validity {} days exceeds the policy maximum of {}",
                            s.validity_days, self.policy.ds_max_validity_days
                        ));
                    }
                }
            }
            CeremonyKind::SignListSigner => {
                section(self.sign_list_signer.is_some(), "sign_list_signer")?;
                if let Some(s) = &self.sign_list_signer {
                    let max = self.policy.list_signer_max_validity_days;
                    if s.validity_days == 0 || s.validity_days > max {
                        return p(format!(
                            "list signer validity {} days exceeds the policy maximum of {max}",
                            s.validity_days
                        ));
                    }
                }
            }
            CeremonyKind::Revoke => section(self.revoke.is_some(), "revoke")?,
            CeremonyKind::Crl => section(self.crl.is_some(), "crl")?,
            CeremonyKind::Export => section(self.export.is_some(), "export")?,
            CeremonyKind::Compromise => section(self.compromise.is_some(), "compromise")?,
        }
        if let Some(iaca) = &self.iaca {
            if iaca.issuer_alt_name_uri.is_none() && iaca.issuer_alt_name_email.is_none() {
                return p("Annex B requires an issuerAltName: set issuer_alt_name_uri or issuer_alt_name_email".into());
            }
            let c = &iaca.country;
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return p(format!(
                    "country {c:?} is not an upper-case ISO 3166-1 alpha-2 code"
                ));
            }
        }
        Ok(())
    }
}
