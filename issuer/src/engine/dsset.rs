//! The DS certificates the engine may sign with, and their opened keys (the data; choosing,
//! reloading and forgetting them is in `ds_keys`); the list signer in use (the data; choosing
//! and reloading it is in `list_signer`).

use std::collections::HashMap;
use std::sync::Arc;

use mso::crypto::Signer;
use mso::x509::Certificate;

use crate::ds::{DsInventory, DsKeys};

/// The DS set: the rotation inventory plus an opened signer and parsed certificate per entry.
pub(crate) struct DsSet {
    pub(crate) inventory: DsInventory,
    /// The opened key and parsed certificate of each inventory entry, by serial.
    pub(super) loaded: HashMap<String, Loaded>,
}

/// One DS ready to sign.
pub(super) struct Loaded {
    pub(super) signer: Arc<dyn Signer>,
    pub(super) cert: Certificate,
}

/// Whether keys of this keystore sign in microseconds in process (the dev file keystore), so
/// signing inline beats a hand-off to the blocking pool; an HSM call may block for
/// milliseconds and goes to the blocking pool.
pub(super) fn signs_inline(keys: &DsKeys) -> bool {
    keys.is_dev_only()
}

impl DsSet {
    pub(crate) fn new(inventory: DsInventory) -> Self {
        DsSet {
            inventory,
            loaded: HashMap::new(),
        }
    }
}

/// The DS chosen to sign now.
#[derive(Clone)]
pub struct SigningDs {
    /// Certificate serial (lower-case hex).
    pub serial: String,
    /// The certificate.
    pub cert: Certificate,
    /// Its key.
    pub signer: Arc<dyn Signer>,
    /// Sign on the calling thread (in-process key) rather than on the blocking pool.
    pub inline: bool,
}

impl std::fmt::Debug for SigningDs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningDs")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

/// The list signer in use.
pub(crate) struct ListSigner {
    pub(super) serial: String,
    pub(super) cert: Certificate,
    pub(super) signer: Arc<dyn Signer>,
}
