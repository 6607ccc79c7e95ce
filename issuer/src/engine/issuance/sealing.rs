//! Encryption of stored replay records (see [`super::replay`]).
//!
//! A replay record holds no personal data, but its seeds and signatures are what rebuild a
//! credential from a retried request, so it is stored encrypted (AES-256-GCM) under a key
//! derived from the server secret *and the request itself*: only a retry carrying the same
//! request can open it, and neither the database nor the server secret alone can.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

use super::RequestContext;
use crate::engine::errors::EngineError;
use crate::engine::secrets::ServerSecret;

const NONCE_LEN: usize = 12;

fn cipher(secret: &ServerSecret, cx: &RequestContext<'_>) -> Aes256Gcm {
    // Keyed by the SHA-256 of the body (never stored: the stored request hash covers the route
    // too), so the key needs both the server secret and the request.
    let body_hash: [u8; 32] = Sha256::digest(cx.body).into();
    let key = secret.mac(
        b"idempotent-response",
        &[cx.client_id.as_bytes(), cx.route.as_bytes(), &body_hash],
    );
    Aes256Gcm::new(&key.into())
}

/// Encrypts a replay record for storage: random nonce ‖ ciphertext.
pub(crate) fn seal(
    secret: &ServerSecret,
    cx: &RequestContext<'_>,
    body: &[u8],
) -> Result<Vec<u8>, EngineError> {
    let nonce: [u8; NONCE_LEN] = crate::store::random_bytes()?;
    let ct = cipher(secret, cx)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: b"",
            },
        )
        .map_err(|_| EngineError::Internal("sealing the response failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(out)
}

/// Decrypts a stored replay record for a retry of the same request.
pub(crate) fn open(
    secret: &ServerSecret,
    cx: &RequestContext<'_>,
    sealed: &[u8],
) -> Result<Vec<u8>, EngineError> {
    if sealed.len() < NONCE_LEN {
        return Err(EngineError::Internal("stored response is truncated".into()));
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| EngineError::Internal("stored response is truncated".into()))?;
    cipher(secret, cx)
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: b"" })
        .map_err(|_| EngineError::Internal("stored response does not open".into()))
}
