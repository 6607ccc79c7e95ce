//! The wallet app around the SDK: a `Wallet` with file storage in a fresh directory, its key
//! store, and a trust store holding the given IACAs (none: it trusts no issuer).

use std::sync::Arc;

use wallet_sdk::verifier_sdk::TrustStore;
use wallet_sdk::{file_storage, KeyStore, Wallet};

/// A wallet over `keys` trusting `iacas` (DER); its storage directory, to look into.
pub fn wallet_trusting(
    keys: Arc<dyn KeyStore>,
    iacas: &[&[u8]],
) -> (Arc<Wallet>, tempfile::TempDir) {
    let trust = TrustStore::new();
    for iaca in iacas {
        trust.add_iaca_der(iaca.to_vec()).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let storage = file_storage(dir.path().to_str().unwrap().to_owned()).unwrap();
    (Wallet::new(keys, storage, trust), dir)
}
