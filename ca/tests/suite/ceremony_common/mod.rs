//! Shared by the ceremony tests: passphrases from a map, and running one config file.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use mdoc_ca::ceremony::{self, CeremonyError, PassphraseSource};
use mdoc_ca::config::CeremonyConfig;
use zeroize::Zeroizing;

/// Custodian (or `token-initial-pin`) id → passphrase.
pub struct Passphrases(pub HashMap<String, String>);

impl PassphraseSource for Passphrases {
    fn passphrase(&self, id: &str) -> custody::Result<Zeroizing<Vec<u8>>> {
        self.0
            .get(id)
            .map(|p| Zeroizing::new(p.clone().into_bytes()))
            .ok_or_else(|| custody::Error::WrongSecret(id.into()))
    }
}

/// Writes `body` to `path`, loads it and runs the ceremony, printing its output.
pub async fn run_config(
    path: &Path,
    body: &str,
    p: &dyn PassphraseSource,
) -> Result<ceremony::Outcome, CeremonyError> {
    std::fs::write(path, body).unwrap();
    let (cfg, sha) = CeremonyConfig::load(path)?;
    let mut out = Vec::new();
    let r = ceremony::run(cfg, sha, p, &mut out, false).await;
    eprintln!("{}", String::from_utf8_lossy(&out));
    r
}
