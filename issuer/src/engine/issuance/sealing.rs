//! Encryption of stored replay records (see [`super::replay`]).
//!
//! A replay record holds no personal data, but its seeds and signatures are what rebuild a
//! credential from a retried request, so it is stored encrypted (AES-256-GCM) under a key
//! derived from the server secret *and the request itself*: only a retry carrying the same
//! request can open it, and neither the database nor the server secret alone can.

use sha2::{Digest, Sha256};

use super::RequestContext;
use crate::engine::errors::EngineError;
use crate::engine::secrets::{open_with, seal_with, ServerSecret};

fn key(secret: &ServerSecret, cx: &RequestContext<'_>) -> [u8; 32] {
    // Keyed by the SHA-256 of the body (never stored: the stored request hash covers the route
    // too), so the key needs both the server secret and the request.
    let body_hash: [u8; 32] = Sha256::digest(cx.body).into();
    secret.mac(
        b"idempotent-response",
        &[cx.client_id.as_bytes(), cx.route.as_bytes(), &body_hash],
    )
}

/// Encrypts a replay record for storage: random nonce ‖ ciphertext.
pub(crate) fn seal(
    secret: &ServerSecret,
    cx: &RequestContext<'_>,
    body: &[u8],
) -> Result<Vec<u8>, EngineError> {
    seal_with(&key(secret, cx), b"", body)
}

/// Decrypts a stored replay record for a retry of the same request.
pub(crate) fn open(
    secret: &ServerSecret,
    cx: &RequestContext<'_>,
    sealed: &[u8],
) -> Result<Vec<u8>, EngineError> {
    open_with(&key(secret, cx), b"", sealed)
}
