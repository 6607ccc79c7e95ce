//! Device keys: created, used and deleted by the app's platform key store.
//!
//! The SDK never sees a device private key. It asks the app's [`KeyStore`] (Secure Enclave,
//! Android Keystore/StrongBox) to create a P-256 key under an alias, to sign a message with
//! it, and for its public key; it checks every answer (a point on the curve, a well-formed
//! signature that verifies under that key) before using it. [`SoftwareKeyStore`] is the
//! in-memory implementation for tests and for platforms without a hardware store.

use std::collections::HashMap;
use std::sync::Mutex;

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;

use crate::error::{Result, WalletError};

/// The app's store of device keys (implemented in Kotlin, Swift or Python).
///
/// Keys are ECDSA P-256 (ES256), the curve every platform store offers. Aliases are chosen
/// by the SDK; an implementation must not reuse a deleted alias's key.
#[uniffi::export(with_foreign)]
pub trait KeyStore: Send + Sync {
    /// Creates a new P-256 key under `alias` and returns its public key as an uncompressed
    /// SEC1 point (65 bytes, `0x04 || x || y`). Raise `WalletError.KeyStore` if `alias`
    /// exists or the key cannot be made.
    fn create_key(&self, alias: String) -> Result<Vec<u8>>;
    /// The public key of `alias`, as an uncompressed SEC1 point.
    fn public_key(&self, alias: String) -> Result<Vec<u8>>;
    /// Signs `message` (not a digest: the store hashes it with SHA-256) with `alias`'s key;
    /// returns the ECDSA signature either DER-encoded (as Android and Apple produce it) or
    /// as the 64-byte `r || s`.
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>>;
    /// Deletes `alias`'s key; deleting an unknown alias is not an error.
    fn delete_key(&self, alias: String) -> Result<()>;
    /// A key attestation for `alias` (for OpenID4VCI's `key_attestation` JWT), or `None`
    /// when the platform gives none. `nonce` is the issuer's `c_nonce`, when there is one.
    fn key_attestation(&self, alias: String, nonce: Option<String>) -> Result<Option<String>>;
}

/// In-memory P-256 keys from the operating system's randomness: for tests and platforms
/// without a hardware key store. Keys are zeroized when dropped.
#[derive(Default, uniffi::Object)]
pub struct SoftwareKeyStore {
    keys: Mutex<HashMap<String, SigningKey>>,
}

#[uniffi::export]
impl SoftwareKeyStore {
    /// An empty store.
    #[uniffi::constructor]
    pub fn new() -> Self {
        Self::default()
    }
}

impl SoftwareKeyStore {
    fn with_key<T>(&self, alias: &str, f: impl FnOnce(&SigningKey) -> T) -> Result<T> {
        let keys = self.keys.lock().map_err(|_| poisoned())?;
        keys.get(alias).map(f).ok_or_else(|| WalletError::KeyStore {
            reason: format!("no key {alias:?}"),
        })
    }
}

fn poisoned() -> WalletError {
    WalletError::KeyStore {
        reason: "the key store's lock is poisoned".into(),
    }
}

fn sec1(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}

impl KeyStore for SoftwareKeyStore {
    fn create_key(&self, alias: String) -> Result<Vec<u8>> {
        let mut keys = self.keys.lock().map_err(|_| poisoned())?;
        if keys.contains_key(&alias) {
            return Err(WalletError::KeyStore {
                reason: format!("key {alias:?} exists"),
            });
        }
        let key = SigningKey::random(&mut OsRng);
        let public = sec1(&key);
        keys.insert(alias, key);
        Ok(public)
    }

    fn public_key(&self, alias: String) -> Result<Vec<u8>> {
        self.with_key(&alias, sec1)
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>> {
        self.with_key(&alias, |k| {
            let sig: Signature = k.sign(&message);
            sig.to_der().as_bytes().to_vec()
        })
    }

    fn delete_key(&self, alias: String) -> Result<()> {
        self.keys.lock().map_err(|_| poisoned())?.remove(&alias);
        Ok(())
    }

    fn key_attestation(&self, _alias: String, _nonce: Option<String>) -> Result<Option<String>> {
        Ok(None)
    }
}

/// Signs `message` with `alias` through `store` and returns the 64-byte `r || s`, after
/// checking the store's answer: DER or raw, low or high S, it must verify under `public`
/// (the SEC1 key the store gave for `alias`), so a faulty store cannot make the SDK emit a
/// signature that will not verify.
pub(crate) fn sign_checked(
    store: &dyn KeyStore,
    alias: &str,
    public: &[u8],
    message: &[u8],
) -> Result<[u8; 64]> {
    let bad = |reason: String| WalletError::KeyStore { reason };
    let key = VerifyingKey::from_sec1_bytes(public)
        .map_err(|_| bad(format!("the public key of {alias:?} is not a P-256 point")))?;
    let raw = store.sign(alias.to_owned(), message.to_vec())?;
    if raw.len() > 80 {
        return Err(bad(format!("a {}-byte signature", raw.len())));
    }
    let sig = if raw.len() == 64 {
        Signature::from_slice(&raw)
    } else {
        Signature::from_der(&raw)
    }
    .map_err(|_| bad("the signature is neither DER nor r || s".into()))?;
    let sig = sig.normalize_s().unwrap_or(sig);
    key.verify(message, &sig)
        .map_err(|_| bad(format!("the signature of {alias:?} does not verify")))?;
    Ok(sig.to_bytes().into())
}

/// The public key of `alias`, checked to be an uncompressed P-256 point.
pub(crate) fn public_key_checked(store: &dyn KeyStore, alias: &str) -> Result<Vec<u8>> {
    let public = store.public_key(alias.to_owned())?;
    check_point(alias, public)
}

/// Checks that `public` (from the store, for `alias`) is an uncompressed P-256 point.
pub(crate) fn check_point(alias: &str, public: Vec<u8>) -> Result<Vec<u8>> {
    if public.len() != 65 || VerifyingKey::from_sec1_bytes(&public).is_err() {
        return Err(WalletError::KeyStore {
            reason: format!("the public key of {alias:?} is not an uncompressed P-256 point"),
        });
    }
    Ok(public)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn software_keys_sign_and_are_checked() {
        let store = SoftwareKeyStore::new();
        let public = check_point("a", store.create_key("a".into()).unwrap()).unwrap();
        assert!(store.create_key("a".into()).is_err());
        let sig = sign_checked(&store, "a", &public, b"hello").unwrap();
        let key = VerifyingKey::from_sec1_bytes(&public).unwrap();
        key.verify(b"hello", &Signature::from_slice(&sig).unwrap())
            .unwrap();
        // A store that answers for the wrong key is caught.
        let other = store.create_key("b".into()).unwrap();
        assert!(sign_checked(&store, "b", &public, b"hello").is_err());
        assert!(sign_checked(&store, "a", &other, b"hello").is_err());
        store.delete_key("a".into()).unwrap();
        assert!(store.public_key("a".into()).is_err());
    }
}
