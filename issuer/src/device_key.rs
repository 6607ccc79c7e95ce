//! Device keys as clients send them: a COSE_Key (base64url of its CBOR) or a JWK (RFC 7517,
//! read by [`crate::jose::jwk`]).
//!
//! Both become an [`mso::crypto::PublicKey`], which validates the point. Private key members
//! are refused rather than ignored: a client that sends one has leaked the holder's key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::CborSerializable;
use mso::crypto::PublicKey;
use serde_json::Value as Json;

use crate::jose;

/// Largest accepted COSE_Key encoding, bytes (a P-521 key is about 150).
const MAX_COSE_KEY_LEN: usize = 512;

/// Why a device key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceKeyError(pub String);

fn bad(m: impl Into<String>) -> DeviceKeyError {
    DeviceKeyError(m.into())
}

/// Decodes base64url without padding (padding is tolerated).
fn b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Parses a COSE_Key given as base64url of its CBOR encoding.
pub fn from_cose_key_b64(text: &str) -> Result<PublicKey, DeviceKeyError> {
    if text.len() > MAX_COSE_KEY_LEN * 4 / 3 + 4 {
        return Err(bad("COSE_Key is too long"));
    }
    let bytes = b64url(text).ok_or_else(|| bad("cose_key is not base64url"))?;
    let key = coset::CoseKey::from_slice(&bytes)
        .map_err(|e| bad(format!("cose_key is not a COSE_Key: {e}")))?;
    let private = [-4i64]; // EC2 and OKP `d`
    if key
        .params
        .iter()
        .any(|(l, _)| matches!(l, coset::Label::Int(i) if private.contains(i)))
    {
        return Err(bad("cose_key contains private key material (d)"));
    }
    PublicKey::from_cose_key(&key).map_err(|e| bad(format!("cose_key: {e}")))
}

/// Parses a public JWK: `EC` on P-256/P-384/P-521 or `OKP` Ed25519 (see
/// [`crate::jose::jwk::from_jwk`], which this delegates to).
pub fn from_jwk(jwk: &Json) -> Result<PublicKey, DeviceKeyError> {
    jose::jwk::from_jwk(jwk).map_err(|e| bad(e.to_string()))
}

/// The public JWK of `key` (the form wallets put in proof headers; see
/// [`crate::jose::jwk::to_jwk`]).
pub fn to_jwk(key: &PublicKey) -> Json {
    jose::jwk::to_jwk(key)
}
