//! The server secret and the keys derived from it.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::errors::EngineError;

/// Shortest accepted server secret, bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The server secret: keys the applicant-reference HMAC, the proof-of-possession nonces and the
/// encryption of stored idempotent responses. Every instance must share it, and it must never
/// change (refresh matching depends on it). Zeroized on drop; `Debug` hides it.
#[derive(Clone)]
pub struct ServerSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Wraps secret bytes; refuses fewer than [`MIN_SECRET_LEN`].
    pub fn new(bytes: Vec<u8>) -> Result<Self, EngineError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < MIN_SECRET_LEN {
            return Err(EngineError::Config(format!(
                "the server secret must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        Ok(ServerSecret(bytes))
    }

    /// A 32-byte key for one purpose: HMAC-SHA-256(secret, label).
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        self.mac(label, &[])
    }

    /// HMAC-SHA-256 under the key derived for `label`, over `parts` in order.
    pub fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length: the fallback is never taken.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
        mac.update(&(label.len() as u64).to_be_bytes());
        mac.update(label);
        for p in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

/// Bytes of the random AES-GCM nonce that prefixes a sealed value.
const SEAL_NONCE_LEN: usize = 12;

/// Encrypts `body` under `key` (AES-256-GCM, `aad` authenticated): random nonce ‖ ciphertext.
/// Used for everything the store keeps that only the service may read.
pub(crate) fn seal_with(key: &[u8; 32], aad: &[u8], body: &[u8]) -> Result<Vec<u8>, EngineError> {
    let nonce: [u8; SEAL_NONCE_LEN] = crate::store::random_bytes()?;
    let ct = Aes256Gcm::new(key.into())
        .encrypt(&Nonce::from(nonce), Payload { msg: body, aad })
        .map_err(|_| EngineError::Internal("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(out)
}

/// Decrypts what [`seal_with`] sealed under the same key and `aad`.
pub(crate) fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EngineError> {
    let truncated = || EngineError::Internal("sealed value is truncated".into());
    if sealed.len() < SEAL_NONCE_LEN {
        return Err(truncated());
    }
    let (nonce, ct) = sealed.split_at(SEAL_NONCE_LEN);
    let nonce: [u8; SEAL_NONCE_LEN] = nonce.try_into().map_err(|_| truncated())?;
    Aes256Gcm::new(key.into())
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad })
        .map_err(|_| EngineError::Internal("sealed value does not open".into()))
}
