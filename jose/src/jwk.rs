//! Public JWKs (RFC 7517/7518, RFC 8037) ↔ [`mso::crypto::PublicKey`], and the RFC 7638
//! JWK SHA-256 thumbprint.
//!
//! Only public keys are read: a JWK with a private member (`d`, RSA's `p`, `q`, …, or an `oct`
//! key's `k`) is refused rather than ignored, since a client that sends one has leaked the
//! holder's key. The point is validated by [`PublicKey::from_sec1`] (on the curve, not the
//! identity), after each coordinate was checked for the curve's exact length.

use mso::crypto::{Curve, PublicKey};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::jws::{b64url, b64url_decode};

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// The JWK is not a JSON object.
    #[error("jwk must be a JSON object")]
    NotAnObject,
    /// The JWK carries private key material.
    #[error("jwk contains private key material ({0})")]
    PrivateKey(&'static str),
    /// A required member is missing or not a string.
    #[error("jwk.{0} is missing or not a string")]
    Member(&'static str),
    /// A `kty` other than `EC` or `OKP`.
    #[error("jwk.kty {0:?} is not supported (EC, OKP)")]
    UnsupportedKty(String),
    /// A curve this issuer does not take for the key type.
    #[error("jwk.crv {crv:?} is not supported for kty {kty}")]
    UnsupportedCurve {
        /// The key type.
        kty: &'static str,
        /// The curve as written (shortened).
        crv: String,
    },
    /// A coordinate is not unpadded base64url.
    #[error("jwk.{0} is not base64url")]
    NotBase64(&'static str),
    /// A coordinate has the wrong length for the curve.
    #[error("jwk.{member} must be {expected} bytes, found {found}")]
    CoordinateLength {
        /// `x` or `y`.
        member: &'static str,
        /// The curve's coordinate length.
        expected: usize,
        /// The decoded length.
        found: usize,
    },
    /// The coordinates are not a valid point of the curve (off the curve, or the identity).
    #[error("jwk is not a valid {0} public key")]
    InvalidPoint(&'static str),
}

fn member<'a>(jwk: &'a Map<String, Json>, name: &'static str) -> Result<&'a str, JwkError> {
    jwk.get(name)
        .and_then(Json::as_str)
        .ok_or(JwkError::Member(name))
}

fn coordinate(
    jwk: &Map<String, Json>,
    name: &'static str,
    len: usize,
) -> Result<Vec<u8>, JwkError> {
    let v = b64url_decode(member(jwk, name)?).ok_or(JwkError::NotBase64(name))?;
    if v.len() != len {
        return Err(JwkError::CoordinateLength {
            member: name,
            expected: len,
            found: v.len(),
        });
    }
    Ok(v)
}

/// Parses a public JWK: `EC` on P-256/P-384/P-521 or `OKP` Ed25519.
pub fn from_jwk(jwk: &Json) -> Result<PublicKey, JwkError> {
    let jwk = jwk.as_object().ok_or(JwkError::NotAnObject)?;
    if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(JwkError::PrivateKey(private));
    }
    let crv = || member(jwk, "crv");
    let unsupported = |kty, crv: &str| JwkError::UnsupportedCurve {
        kty,
        crv: crv.chars().take(40).collect(),
    };
    let (curve, point) = match member(jwk, "kty")? {
        "EC" => {
            let (curve, len) = match crv()? {
                "P-256" => (Curve::P256, 32),
                "P-384" => (Curve::P384, 48),
                "P-521" => (Curve::P521, 66),
                other => return Err(unsupported("EC", other)),
            };
            let mut sec1 = Vec::with_capacity(1 + 2 * len);
            sec1.push(0x04);
            sec1.extend(coordinate(jwk, "x", len)?);
            sec1.extend(coordinate(jwk, "y", len)?);
            (curve, sec1)
        }
        "OKP" => match crv()? {
            "Ed25519" => (Curve::Ed25519, coordinate(jwk, "x", 32)?),
            other => return Err(unsupported("OKP", other)),
        },
        other => return Err(JwkError::UnsupportedKty(other.chars().take(40).collect())),
    };
    PublicKey::from_sec1(curve, &point).map_err(|_| JwkError::InvalidPoint(curve.name()))
}

/// The uncompressed coordinates of an EC key (`x`, `y`); `None` for Ed25519.
fn ec_coordinates(key: &PublicKey) -> Option<(Vec<u8>, Vec<u8>)> {
    if key.curve() == Curve::Ed25519 {
        return None;
    }
    let sec1 = key.to_sec1();
    let coords = sec1.get(1..)?;
    let (x, y) = coords.split_at(coords.len() / 2);
    Some((x.to_vec(), y.to_vec()))
}

/// The public JWK of `key`, with only the members RFC 7638 requires (the form wallets put in
/// proof headers).
pub fn to_jwk(key: &PublicKey) -> Json {
    match ec_coordinates(key) {
        Some((x, y)) => serde_json::json!({
            "kty": "EC", "crv": key.curve().name(), "x": b64url(x), "y": b64url(y)
        }),
        None => serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(key.to_sec1())}),
    }
}

/// The RFC 7638 JWK SHA-256 thumbprint of `key`, unpadded base64url: SHA-256 over the
/// required members in lexicographic order without whitespace (`crv`, `kty`, `x`, `y` for EC;
/// `crv`, `kty`, `x` for OKP, RFC 8037 §2). This is DPoP's `jkt` (RFC 9449 §6.1).
pub fn thumbprint(key: &PublicKey) -> String {
    b64url(thumbprint_bytes(key))
}

/// The raw RFC 7638 JWK SHA-256 thumbprint of `key` (what [`thumbprint`] encodes): OpenID4VP's
/// SessionTranscript hashes the verifier's encryption key by these bytes.
pub fn thumbprint_bytes(key: &PublicKey) -> [u8; 32] {
    // Every value is a fixed curve name or base64url, so none needs JSON escaping.
    let canonical = match ec_coordinates(key) {
        Some((x, y)) => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            key.curve().name(),
            b64url(x),
            b64url(y)
        ),
        None => format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            b64url(key.to_sec1())
        ),
    };
    Sha256::digest(canonical.as_bytes()).into()
}
