//! Device keys as clients send them: a COSE_Key (base64url of its CBOR) or a JWK (RFC 7517).
//!
//! Both become an [`mso::crypto::PublicKey`], which validates the point. Private key members
//! are refused rather than ignored: a client that sends one has leaked the holder's key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::CborSerializable;
use mso::crypto::{Curve, PublicKey};
use serde_json::{Map, Value as Json};

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
pub(crate) fn b64url(s: &str) -> Option<Vec<u8>> {
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

fn member<'a>(jwk: &'a Map<String, Json>, name: &str) -> Result<&'a str, DeviceKeyError> {
    jwk.get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| bad(format!("jwk.{name} is missing or not a string")))
}

fn coordinate(jwk: &Map<String, Json>, name: &str, len: usize) -> Result<Vec<u8>, DeviceKeyError> {
    let v =
        b64url(member(jwk, name)?).ok_or_else(|| bad(format!("jwk.{name} is not base64url")))?;
    if v.len() != len {
        return Err(bad(format!(
            "jwk.{name} must be {len} bytes, found {}",
            v.len()
        )));
    }
    Ok(v)
}

/// Parses a public JWK: `EC` on P-256/P-384/P-521 or `OKP` Ed25519.
pub fn from_jwk(jwk: &Json) -> Result<PublicKey, DeviceKeyError> {
    let jwk = jwk
        .as_object()
        .ok_or_else(|| bad("jwk must be an object"))?;
    if jwk.contains_key("d") {
        return Err(bad("jwk contains private key material (d)"));
    }
    match member(jwk, "kty")? {
        "EC" => {
            let (curve, len) = match member(jwk, "crv")? {
                "P-256" => (Curve::P256, 32),
                "P-384" => (Curve::P384, 48),
                "P-521" => (Curve::P521, 66),
                other => return Err(bad(format!("jwk.crv {other:?} is not supported"))),
            };
            let mut sec1 = vec![0x04];
            sec1.extend(coordinate(jwk, "x", len)?);
            sec1.extend(coordinate(jwk, "y", len)?);
            PublicKey::from_sec1(curve, &sec1).map_err(|e| bad(format!("jwk: {e}")))
        }
        "OKP" => match member(jwk, "crv")? {
            "Ed25519" => PublicKey::from_sec1(Curve::Ed25519, &coordinate(jwk, "x", 32)?)
                .map_err(|e| bad(format!("jwk: {e}"))),
            other => Err(bad(format!("jwk.crv {other:?} is not supported"))),
        },
        other => Err(bad(format!("jwk.kty {other:?} is not supported"))),
    }
}

/// The public JWK of `key` (the form wallets put in proof headers).
pub fn to_jwk(key: &PublicKey) -> Json {
    let sec1 = key.to_sec1();
    let enc = |b: &[u8]| Json::String(URL_SAFE_NO_PAD.encode(b));
    match key.curve() {
        Curve::Ed25519 => serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": enc(&sec1)}),
        curve => {
            let coords = sec1.get(1..).unwrap_or_default();
            let (x, y) = coords.split_at(coords.len() / 2);
            serde_json::json!({"kty": "EC", "crv": curve.name(), "x": enc(x), "y": enc(y)})
        }
    }
}
