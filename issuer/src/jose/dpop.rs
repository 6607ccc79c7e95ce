//! RFC 9449 DPoP proofs: checking one as §4.3 lists (server side) and making one (wallet side:
//! tests, the dev stack, the load generator).
//!
//! [`verify_dpop`] checks the structure, `typ: dpop+jwt`, an asymmetric `alg` of the seam
//! (ES256, ES384, ES512, EdDSA), the public `jwk` and the signature under it, `htm`, `htu`
//! (query and fragment ignored, scheme and host case and the default port normalised by the
//! WHATWG URL parser of the `url` crate), `iat` within the window, `ath` when an access token
//! is presented, and the server's `nonce` when one is required. It returns the key's RFC 7638
//! thumbprint (`jkt`), which the caller compares with the access token's `cnf.jkt`.
//!
//! **Replay is the caller's job**: this function does not remember `jti`s. The caller stores
//! each returned `jti` (with `iat`, for at least `max_age` plus the skew) and refuses one seen
//! before (RFC 9449 §11.1).

use mso::crypto::{PublicKey, Signer, Verifier};
use serde::Deserialize;
use serde_json::{Map, Number, Value as Json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::jwk::{from_jwk, thumbprint, to_jwk, JwkError};
use super::jws::{self, b64url, numeric_date, JwsError, KeyRef};
use super::sign::{sign_jwt, JoseError};

/// The JWT `typ` of a DPoP proof.
pub const DPOP_TYP: &str = "dpop+jwt";
/// Largest accepted DPoP proof, bytes.
pub const MAX_DPOP_LEN: usize = 8 * 1024;
/// Longest accepted `jti`, characters (a UUID is 36; 96 random bits in base64url are 16).
pub const MAX_JTI_LEN: usize = 256;
/// Tolerated clock difference for an `iat` in the future.
pub const IAT_SKEW: Duration = Duration::seconds(60);

/// What a DPoP proof must match: the request it came with.
#[derive(Debug, Clone, Copy)]
pub struct DpopCheck<'a> {
    /// The request's HTTP method (`htm`, compared exactly: methods are case-sensitive).
    pub method: &'a str,
    /// The request's URL (`htu`); query and fragment are ignored on both sides.
    pub htu: &'a str,
    /// The access token presented with the request; then `ath` must be its hash.
    pub access_token: Option<&'a str>,
    /// The server-provided nonce the proof must carry, when the server requires one.
    pub nonce: Option<&'a str>,
    /// Verification time.
    pub now: OffsetDateTime,
    /// The oldest accepted `iat` is `now - max_age`.
    pub max_age: Duration,
}

/// A DPoP proof that verified. Its `jti` is not yet known to be fresh (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof key (base64url).
    pub jkt: String,
    /// The proof key.
    pub key: PublicKey,
    /// The proof's unique identifier, to store against replay.
    pub jti: String,
    /// When the proof was made.
    pub iat: OffsetDateTime,
    /// The server-provided nonce the proof carries, if any (for a server whose nonces are
    /// stateless to check it itself; [`DpopCheck::nonce`] checks an expected one).
    pub nonce: Option<String>,
}

/// Why a DPoP proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// Malformed, too long, unsupported `alg` (`none`, `HS256`, …), wrong `typ`, `crit`, a key
    /// named twice, `alg` not fitting the key, or a bad signature (see [`JwsError`]).
    #[error("DPoP proof: {0}")]
    Jws(#[from] JwsError),
    /// The header does not carry the key as a `jwk`.
    #[error("DPoP proof: the header must carry the key as a jwk")]
    KeyReference,
    /// The `jwk` is not a usable public key (private part, curve, point, lengths).
    #[error("DPoP proof: header {0}")]
    Key(#[from] JwkError),
    /// A required claim is missing.
    #[error("DPoP proof: claim {0} is missing")]
    MissingClaim(&'static str),
    /// `jti` is empty or longer than [`MAX_JTI_LEN`].
    #[error("DPoP proof: jti must be 1 to {MAX_JTI_LEN} characters")]
    BadJti,
    /// `iat` is not a date.
    #[error("DPoP proof: iat is not a NumericDate in range")]
    BadDate,
    /// `htm` is not the request's method.
    #[error("DPoP proof: htm {found:?} is not the request method {expected:?}")]
    Method {
        /// The request's method.
        expected: String,
        /// The proof's `htm` (shortened).
        found: String,
    },
    /// `htu` is not an http(s) URL.
    #[error("DPoP proof: htu is not an absolute http(s) URL")]
    BadHtu,
    /// `htu` is not the request's URL.
    #[error("DPoP proof: htu is not the request URL {expected:?}")]
    Url {
        /// The request's URL, normalised.
        expected: String,
    },
    /// An access token was presented and `ath` is missing.
    #[error("DPoP proof: ath is required with an access token")]
    MissingAth,
    /// `ath` is not the hash of the presented access token.
    #[error("DPoP proof: ath does not match the access token")]
    AthMismatch,
    /// The server requires a nonce and the proof has none or a stale one: answer
    /// `use_dpop_nonce` with a fresh `DPoP-Nonce` (RFC 9449 §8).
    #[error("DPoP proof: use the server's DPoP nonce")]
    UseDpopNonce,
    /// `iat` is more than [`IAT_SKEW`] ahead of the verification time.
    #[error("DPoP proof: iat is in the future")]
    IatInFuture,
    /// `iat` is older than the allowed age.
    #[error("DPoP proof: iat is too old")]
    IatTooOld,
}

impl DpopError {
    /// Whether to answer `use_dpop_nonce` (with a fresh nonce) rather than `invalid_dpop_proof`.
    pub fn is_use_dpop_nonce(&self) -> bool {
        matches!(self, DpopError::UseDpopNonce)
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<Number>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// `url` as RFC 9449 §4.3 compares it: an absolute http(s) URL without query and fragment,
/// with scheme and host lower-cased, the default port dropped, an empty path as `/` and dot
/// segments resolved (RFC 3986 §6.2.2–6.2.3, by the WHATWG parser). `None` if not such a URL.
pub fn normalize_htu(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return None;
    }
    u.set_query(None);
    u.set_fragment(None);
    Some(u.into())
}

/// The `ath` of an access token: base64url(SHA-256(token)).
pub fn access_token_hash(access_token: &str) -> String {
    b64url(Sha256::digest(access_token.as_bytes()))
}

/// Verifies a DPoP proof for the request described by `check` (see the module doc; `jti`
/// replay is not checked here). `verifier` checks the signature.
pub fn verify_dpop(
    proof: &str,
    check: &DpopCheck<'_>,
    verifier: &dyn Verifier,
) -> Result<DpopProof, DpopError> {
    let jws = jws::parse(proof, MAX_DPOP_LEN, DPOP_TYP)?;
    let key = match jws.header().key_ref()? {
        KeyRef::Jwk(j) => from_jwk(j)?,
        _ => return Err(DpopError::KeyReference),
    };
    jws.verify(&key, verifier)?;
    let claims: Claims = jws.claims()?;

    let jti = claims.jti.ok_or(DpopError::MissingClaim("jti"))?;
    if jti.is_empty() || jti.chars().count() > MAX_JTI_LEN {
        return Err(DpopError::BadJti);
    }
    let htm = claims.htm.ok_or(DpopError::MissingClaim("htm"))?;
    if htm != check.method {
        return Err(DpopError::Method {
            expected: check.method.to_owned(),
            found: htm.chars().take(16).collect(),
        });
    }
    let htu = claims.htu.ok_or(DpopError::MissingClaim("htu"))?;
    let expected = normalize_htu(check.htu).ok_or(DpopError::BadHtu)?;
    if normalize_htu(&htu).ok_or(DpopError::BadHtu)? != expected {
        return Err(DpopError::Url { expected });
    }
    let iat = claims.iat.ok_or(DpopError::MissingClaim("iat"))?;
    let iat = numeric_date(&iat).ok_or(DpopError::BadDate)?;
    if iat > check.now.saturating_add(IAT_SKEW) {
        return Err(DpopError::IatInFuture);
    }
    if iat < check.now.saturating_sub(check.max_age) {
        return Err(DpopError::IatTooOld);
    }
    if let Some(token) = check.access_token {
        let ath = claims.ath.ok_or(DpopError::MissingAth)?;
        // Both sides are public (a hash of a token the request carries): no timing concern.
        if ath != access_token_hash(token) {
            return Err(DpopError::AthMismatch);
        }
    }
    if let Some(expected) = check.nonce {
        if claims.nonce.as_deref() != Some(expected) {
            return Err(DpopError::UseDpopNonce);
        }
    }
    Ok(DpopProof {
        jkt: thumbprint(&key),
        key,
        jti,
        iat,
        nonce: claims.nonce,
    })
}

/// Makes a DPoP proof (wallet side) for `method` on `htu`, with `ath` when `access_token` is
/// given and the server's `nonce` when one is.
pub fn make_dpop(
    signer: &dyn Signer,
    method: &str,
    htu: &str,
    access_token: Option<&str>,
    nonce: Option<&str>,
    iat: OffsetDateTime,
    jti: &str,
) -> Result<String, JoseError> {
    let mut header = Map::new();
    header.insert("jwk".into(), to_jwk(&signer.public_key()?));
    let mut claims = Map::new();
    claims.insert("jti".into(), Json::String(jti.into()));
    claims.insert("htm".into(), Json::String(method.into()));
    claims.insert("htu".into(), Json::String(htu.into()));
    claims.insert("iat".into(), Json::from(iat.unix_timestamp()));
    if let Some(token) = access_token {
        claims.insert("ath".into(), Json::String(access_token_hash(token)));
    }
    if let Some(n) = nonce {
        claims.insert("nonce".into(), Json::String(n.into()));
    }
    sign_jwt(signer, DPOP_TYP, header, &Json::Object(claims))
}
