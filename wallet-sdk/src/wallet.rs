//! The [`Wallet`] object: the app's key store, storage and trust, and the credentials held.
//!
//! Receiving is in `receive.rs`, presenting in `proximity.rs`; this module holds what they
//! share and the credential management calls.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use mso::x509::{Certificate, TrustAnchors};
use rand_core::{OsRng, RngCore as _};
use verifier_sdk::TrustStore;

use crate::credentials::{
    CredentialHealth, CredentialRecord, CredentialStore, CredentialSummary, WalletPolicy,
};
use crate::error::{Result, WalletError};
use crate::keystore::{check_point, KeyStore};
use crate::storage::Storage;

/// Most device keys made in one call (an OpenID4VCI batch).
pub const MAX_NEW_KEYS: u32 = crate::credentials::MAX_BATCH as u32;

/// A holder's wallet: device keys in the app's [`KeyStore`], credentials in the app's
/// [`Storage`], issuers trusted through the verifier SDK's `TrustStore`, readers through the
/// reader trust anchors. Thread-safe.
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(crate) keys: Arc<dyn KeyStore>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) trust: Arc<TrustStore>,
    policy: RwLock<WalletPolicy>,
    reader_anchors: RwLock<Arc<TrustAnchors>>,
    /// Serialises read-modify-write of credential records (use counts).
    records: Mutex<()>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

fn poisoned() -> WalletError {
    WalletError::internal("a wallet lock is poisoned")
}

impl Wallet {
    pub(crate) fn store(&self) -> CredentialStore<'_> {
        CredentialStore {
            storage: self.storage.as_ref(),
        }
    }

    /// Holds the record lock for a read-modify-write of credential records.
    pub(crate) fn lock_records(&self) -> Result<MutexGuard<'_, ()>> {
        self.records.lock().map_err(|_| poisoned())
    }

    pub(crate) fn current_policy(&self) -> Result<WalletPolicy> {
        self.policy.read().map(|p| *p).map_err(|_| poisoned())
    }

    pub(crate) fn reader_trust(&self) -> Result<Arc<TrustAnchors>> {
        self.reader_anchors
            .read()
            .map(|a| Arc::clone(&a))
            .map_err(|_| poisoned())
    }

    /// Deletes the device keys `aliases` (best effort: every alias is tried; the first error
    /// is returned).
    pub(crate) fn delete_keys<'a>(&self, aliases: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut first = Ok(());
        for alias in aliases {
            if let Err(e) = self.keys.delete_key(alias.to_owned()) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// A fresh random identifier: 16 bytes from the OS, hex.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[uniffi::export]
impl Wallet {
    /// A wallet over the app's key store, storage and issuer trust store (e.g. one synced
    /// from the DTS with the verifier SDK's `TrustStore.sync_from_dts`). No reader is trusted
    /// until [`Wallet::set_reader_trust_anchors`].
    #[uniffi::constructor]
    pub fn new(
        key_store: Arc<dyn KeyStore>,
        storage: Arc<dyn Storage>,
        trust: Arc<TrustStore>,
    ) -> Arc<Self> {
        Arc::new(Wallet {
            keys: key_store,
            storage,
            trust,
            policy: RwLock::new(WalletPolicy::default()),
            reader_anchors: RwLock::new(Arc::new(TrustAnchors::new(Vec::new()))),
            records: Mutex::new(()),
        })
    }

    /// The issuer trust store credentials are verified against on receipt.
    pub fn trust_store(&self) -> Arc<TrustStore> {
        Arc::clone(&self.trust)
    }

    /// The batch and refresh policy.
    pub fn policy(&self) -> Result<WalletPolicy> {
        self.current_policy()
    }

    /// Changes the batch and refresh policy.
    pub fn set_policy(&self, policy: WalletPolicy) -> Result<()> {
        *self.policy.write().map_err(|_| poisoned())? = policy;
        Ok(())
    }

    /// Replaces the reader trust anchors (DER certificates of the reader CAs whose reader
    /// authentication certificates the consent request reports as verified). All or none:
    /// one certificate that does not parse changes nothing.
    pub fn set_reader_trust_anchors(&self, certificates: Vec<Vec<u8>>) -> Result<()> {
        let certs = certificates
            .iter()
            .map(|der| Certificate::from_der_or_pem(der))
            .collect::<mso::Result<Vec<_>>>()?;
        *self.reader_anchors.write().map_err(|_| poisoned())? = Arc::new(TrustAnchors::new(certs));
        Ok(())
    }

    /// Creates `count` device keys (1 to [`MAX_NEW_KEYS`]) in the key store under fresh
    /// random aliases and returns the aliases, one per credential of the batch to request.
    /// If one cannot be made, those already made are deleted.
    pub fn new_device_keys(&self, count: u32) -> Result<Vec<String>> {
        if count == 0 || count > MAX_NEW_KEYS {
            return Err(WalletError::invalid_argument(format!(
                "{count} keys; 1 to {MAX_NEW_KEYS} at a time"
            )));
        }
        let mut made = Vec::new();
        for _ in 0..count {
            let alias = format!("device-{}", random_id());
            let created = self
                .keys
                .create_key(alias.clone())
                .and_then(|public| check_point(&alias, public));
            if let Err(e) = created {
                // A store that made the key but answered badly: delete it too.
                made.push(alias);
                let _ = self.delete_keys(made.iter().map(String::as_str));
                return Err(e);
            }
            made.push(alias);
        }
        Ok(made)
    }

    /// The public key of device key `alias` (uncompressed SEC1 P-256 point), checked.
    pub fn device_public_key(&self, alias: String) -> Result<Vec<u8>> {
        crate::keystore::public_key_checked(self.keys.as_ref(), &alias)
    }

    /// Every stored credential.
    pub fn credentials(&self) -> Result<Vec<CredentialSummary>> {
        let store = self.store();
        store
            .ids()?
            .iter()
            .map(|id| store.load(id).map(|r| r.summary()))
            .collect()
    }

    /// One stored credential.
    pub fn credential(&self, id: String) -> Result<CredentialSummary> {
        Ok(self.store().load(&id)?.summary())
    }

    /// Whether credential `id` needs a refresh at `at_unix_seconds`: its batch runs low or is
    /// used up, or its MSOs near validUntil or expectedUpdate (see [`WalletPolicy`]).
    pub fn credential_health(&self, id: String, at_unix_seconds: i64) -> Result<CredentialHealth> {
        let policy = self.current_policy()?;
        Ok(self.store().load(&id)?.health(at_unix_seconds, &policy))
    }

    /// Deletes credential `id` and its device keys.
    pub fn delete_credential(&self, id: String) -> Result<()> {
        let _guard = self.lock_records()?;
        let store = self.store();
        let record: CredentialRecord = store.load(&id)?;
        self.delete_keys(record.msos.iter().map(|m| m.key_alias.as_str()))?;
        store.delete(&id)
    }
}
