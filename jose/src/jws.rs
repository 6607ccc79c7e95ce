//! Reading a compact JWS (RFC 7515 §7.1) the way every profile here needs it: bounded size,
//! exactly three strict base64url parts, a typed protected header, an asymmetric `alg` of the
//! [`Verifier`] seam, the profile's `typ`, no `crit`, and the signature checked by the caller's
//! [`Verifier`] before any claim is read.
//!
//! Profiles (the issuer's key proofs, DPoP and attestations; OpenID4VP request objects) add their own claims
//! and key rules on top; this file knows nothing about them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::crypto::{Algorithm, PublicKey, Verifier};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value as Json;
use time::OffsetDateTime;

/// Why a compact JWS was refused before any profile rule. Never carries key material; names
/// taken from the token are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Longer than the profile allows.
    #[error("JWS is longer than {max} bytes")]
    TooLong {
        /// The limit, bytes.
        max: usize,
    },
    /// Not three dot-separated parts, or a part is not strict unpadded base64url, or not the
    /// JSON the part must hold.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// `alg` is `none`, symmetric (`HS*`), RSA, or anything else the seam does not verify.
    #[error("alg {0:?} is not supported (ES256, ES384, ES512, EdDSA)")]
    UnsupportedAlg(String),
    /// `typ` is not the profile's.
    #[error("typ must be {expected:?}, found {found:?}")]
    Typ {
        /// The profile's media type.
        expected: &'static str,
        /// What the header carried.
        found: Option<String>,
    },
    /// The header names critical extensions (RFC 7515 §4.1.11); none is understood here.
    #[error("crit header parameters are not understood: {0:?}")]
    Crit(Vec<String>),
    /// The header names its key in more than one way (`jwk`, `kid`, `x5c`, `jku`, `x5u`).
    #[error("header must identify the key one way only, found {0:?}")]
    AmbiguousKey(Vec<&'static str>),
    /// `alg` does not fit the key's curve.
    #[error("alg {alg} does not fit a {curve} key")]
    AlgKeyMismatch {
        /// The header's algorithm.
        alg: Algorithm,
        /// The key's curve name.
        curve: &'static str,
    },
    /// The signature does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
}

/// At most this many characters of a name taken from a token go into an error.
const MAX_ECHO: usize = 40;

fn short(s: &str) -> String {
    s.chars().take(MAX_ECHO).collect()
}

fn malformed(m: impl Into<String>) -> JwsError {
    JwsError::Malformed(m.into())
}

/// Decodes strict unpadded base64url (RFC 7515 §2), `None` otherwise.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Encodes unpadded base64url.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The seam algorithm of a JWS `alg` name (`Ed25519`, the fully specified name, is EdDSA).
pub fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "ES256" => Algorithm::Es256,
        "ES384" => Algorithm::Es384,
        "ES512" => Algorithm::Es512,
        "EdDSA" | "Ed25519" => Algorithm::EdDsa,
        _ => return None,
    })
}

/// The JWS `alg` name of a seam algorithm (the same names [`Algorithm::name`] uses).
pub fn alg_name(alg: Algorithm) -> &'static str {
    alg.name()
}

/// The protected header members the profiles read. Other members are ignored, as RFC 7515
/// allows, unless `crit` names them. A member given twice is refused (serde's duplicate-field
/// error), so no reader can see a different value than this one.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// The signature algorithm's name as written.
    pub alg: String,
    /// The media type of the whole JWS.
    pub typ: Option<String>,
    /// A public JWK (read by [`super::jwk::from_jwk`]).
    pub jwk: Option<Json>,
    /// A key identifier.
    pub kid: Option<String>,
    /// A certificate chain, standard base64 DER, leaf first (RFC 7515 §4.1.6).
    pub x5c: Option<Vec<String>>,
    /// A JWK Set URL (never fetched here).
    pub jku: Option<Json>,
    /// A certificate URL (never fetched here).
    pub x5u: Option<Json>,
    /// Critical extensions.
    pub crit: Option<Vec<String>>,
    /// OpenID4VCI 1.0 Appendix F.1: a key attestation JWT carried in a key proof's header.
    pub key_attestation: Option<String>,
}

/// How a header names its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyRef<'h> {
    /// An embedded public JWK.
    Jwk(&'h Json),
    /// A key identifier.
    Kid(&'h str),
    /// A certificate chain.
    X5c(&'h [String]),
    /// A URL (`jku` or `x5u`, named), which this layer never dereferences.
    Url(&'static str),
    /// No key reference.
    None,
}

impl Header {
    /// The one way the header names its key; two or more is [`JwsError::AmbiguousKey`].
    pub fn key_ref(&self) -> Result<KeyRef<'_>, JwsError> {
        let mut found = Vec::new();
        let mut key = KeyRef::None;
        if let Some(j) = &self.jwk {
            found.push("jwk");
            key = KeyRef::Jwk(j);
        }
        if let Some(k) = &self.kid {
            found.push("kid");
            key = KeyRef::Kid(k);
        }
        if let Some(c) = &self.x5c {
            found.push("x5c");
            key = KeyRef::X5c(c);
        }
        if self.jku.is_some() {
            found.push("jku");
            key = KeyRef::Url("jku");
        }
        if self.x5u.is_some() {
            found.push("x5u");
            key = KeyRef::Url("x5u");
        }
        if found.len() > 1 {
            return Err(JwsError::AmbiguousKey(found));
        }
        Ok(key)
    }
}

/// A compact JWS whose structure and header passed; its signature is not yet checked.
#[derive(Debug, Clone)]
pub struct Compact<'a> {
    header: Header,
    alg: Algorithm,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// `typ` as RFC 7515 §4.1.9 compares it: ASCII case-insensitive, `application/` optional.
fn typ_matches(found: &str, expected: &str) -> bool {
    let found = match found.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => {
            found.get(12..).unwrap_or_default()
        }
        _ => found,
    };
    found.eq_ignore_ascii_case(expected)
}

/// Splits and checks `jwt`: at most `max_len` bytes, three strict base64url parts, a JSON
/// header with a supported asymmetric `alg`, `typ` equal to `typ`, no `crit`.
pub fn parse<'a>(jwt: &'a str, max_len: usize, typ: &'static str) -> Result<Compact<'a>, JwsError> {
    if jwt.len() > max_len {
        return Err(JwsError::TooLong { max: max_len });
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not a compact JWS (three dot-separated parts)"));
    };
    let raw_header = b64url_decode(h).ok_or_else(|| malformed("header is not base64url"))?;
    let header: Header =
        serde_json::from_slice(&raw_header).map_err(|e| malformed(format!("header: {e}")))?;
    let alg = algorithm(&header.alg).ok_or_else(|| JwsError::UnsupportedAlg(short(&header.alg)))?;
    match &header.typ {
        Some(t) if typ_matches(t, typ) => {}
        other => {
            return Err(JwsError::Typ {
                expected: typ,
                found: other.as_deref().map(short),
            })
        }
    }
    if let Some(crit) = &header.crit {
        return Err(JwsError::Crit(
            crit.iter().take(8).map(|c| short(c)).collect(),
        ));
    }
    let payload = b64url_decode(p).ok_or_else(|| malformed("payload is not base64url"))?;
    let signature = b64url_decode(s).ok_or_else(|| malformed("signature is not base64url"))?;
    let signing_input = jwt
        .get(..h.len() + 1 + p.len())
        .ok_or_else(|| malformed("not a compact JWS"))?;
    Ok(Compact {
        header,
        alg,
        signing_input,
        payload,
        signature,
    })
}

impl Compact<'_> {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The signature algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Checks the signature under `key` with `verifier`; `alg` must fit the key's curve.
    pub fn verify(&self, key: &PublicKey, verifier: &dyn Verifier) -> Result<(), JwsError> {
        if key.curve().algorithm() != self.alg {
            return Err(JwsError::AlgKeyMismatch {
                alg: self.alg,
                curve: key.curve().name(),
            });
        }
        verifier
            .verify(
                self.alg,
                key,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .map_err(|_| JwsError::BadSignature)
    }

    /// The claims as `T` (a JSON object). Read them only after [`Compact::verify`], except to
    /// pick what to verify with.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JwsError> {
        serde_json::from_slice(&self.payload).map_err(|e| malformed(format!("claims: {e}")))
    }
}

/// An `aud` claim: one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `expected` is one of the audiences (exact string comparison).
    pub fn contains(&self, expected: &str) -> bool {
        match self {
            Audience::One(a) => a == expected,
            Audience::Many(list) => list.iter().any(|a| a == expected),
        }
    }
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, an integer or a finite number whose
/// fraction is dropped; `None` when out of `OffsetDateTime`'s range.
pub fn numeric_date(n: &serde_json::Number) -> Option<OffsetDateTime> {
    let secs = match n.as_i64() {
        Some(s) => s,
        None => {
            let f = n.as_f64()?.floor();
            // Within ±2^53 the conversion is exact; far beyond any date `time` holds anyway.
            if !f.is_finite() || f.abs() > 9_007_199_254_740_992.0 {
                return None;
            }
            f as i64
        }
    };
    OffsetDateTime::from_unix_timestamp(secs).ok()
}
