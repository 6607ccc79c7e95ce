//! The configured wallet providers (`oid4vci.wallet_providers`): the trust anchors wallet and
//! key attestations must chain to, read once at start-up.

use std::path::Path;

use mso::x509::Certificate;

use crate::engine::EngineError;
use crate::jose::attestation::AttestationTrust;

/// Reads the wallet providers' trust anchors (PEM or DER certificate files).
pub(super) fn load_trust(paths: &[impl AsRef<Path>]) -> Result<AttestationTrust, EngineError> {
    let mut anchors = Vec::with_capacity(paths.len());
    for p in paths {
        let p = p.as_ref();
        let bytes = std::fs::read(p)
            .map_err(|e| EngineError::Config(format!("cannot read {}: {e}", p.display())))?;
        let cert = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => Certificate::from_pem(text),
            _ => Certificate::from_der(&bytes),
        }
        .map_err(|e| EngineError::Config(format!("{}: {e}", p.display())))?;
        anchors.push(cert);
    }
    Ok(AttestationTrust::new(anchors, Vec::new()))
}
