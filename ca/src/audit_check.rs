//! `mdoc-ca audit verify`: the audit chain and its checkpoint signatures, the archive against
//! the ledger, and the ledger's artifacts against the digests the audit log recorded.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use der::Decode;

use crate::ledger::{sha256_hex, Ledger};

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// The audit public key could not be read.
    #[error("audit key {path}: {reason}")]
    Key {
        /// File.
        path: String,
        /// Cause.
        reason: String,
    },
    /// The audit log is broken or was tampered with.
    #[error(transparent)]
    Audit(#[from] custody::Error),
    /// The archive or ledger does not match.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// An artifact in the ledger was never recorded in the audit log.
    #[error("{0}")]
    Unrecorded(String),
}

/// Verifies everything under `state_dir`; returns a printable report.
pub async fn verify_state(
    state_dir: &Path,
    audit_key: Option<&Path>,
) -> Result<String, AuditCheckError> {
    let key_path =
        audit_key.map_or_else(|| state_dir.join("audit-key.spki.der"), Path::to_path_buf);
    let key_err = |reason: String| AuditCheckError::Key {
        path: key_path.display().to_string(),
        reason,
    };
    let der = std::fs::read(&key_path).map_err(|e| key_err(e.to_string()))?;
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| key_err(e.to_string()))?;
    let key = mso::x509::spki::decode(&spki).map_err(|e| key_err(e.to_string()))?;
    let log = state_dir.join("audit.log");
    let summary = custody::audit::verify(&log, &key)?;
    let ledger = Ledger::open(state_dir).await?;
    let archived = ledger.verify_archive().await?;

    // Every certificate and CRL in the ledger must appear, by digest, in the audit log.
    let text = std::fs::read_to_string(&log).map_err(|source| custody::Error::Io {
        path: log.display().to_string(),
        source,
    })?;
    let recorded: BTreeSet<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.pointer("/details/sha256")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        })
        .collect();
    for c in ledger.certificates(None).await? {
        if !recorded.contains(&sha256_hex(&c.der)) {
            return Err(AuditCheckError::Unrecorded(format!(
                "certificate {} is in the ledger but not in the audit log",
                c.serial
            )));
        }
    }
    for crl in ledger.crls().await? {
        if !recorded.contains(&sha256_hex(&crl.der)) {
            return Err(AuditCheckError::Unrecorded(format!(
                "CRL #{} is in the ledger but not in the audit log",
                crl.number
            )));
        }
    }
    let mut report = String::new();
    let _ = writeln!(report, "audit log {}: OK", log.display());
    let _ = writeln!(report, "  {summary:?}");
    let _ = writeln!(
        report,
        "  audit key fingerprint {}",
        custody::audit::key_fingerprint(&key)
    );
    let _ = writeln!(
        report,
        "archive: {archived} files match the ledger; every artifact is in the audit log"
    );
    Ok(report)
}
