//! Proof of possession of a device key: server nonces and OpenID4VCI key-proof JWTs.
//!
//! A nonce is `base64url(expiry ‖ 16 random bytes ‖ HMAC-SHA-256(server key, expiry ‖ random))`:
//! any instance holding the server secret can check it without shared state, and the store
//! consumes each one exactly once, in the issuance's own transaction (so a replayed proof is
//! refused even within the nonce's lifetime).
//!
//! A proof is a compact JWS (`typ: openid4vci-proof+jwt`, OpenID4VCI 1.0 §F.1) signed by the
//! device key over `aud` (the issuer identifier), `iat` and `nonce`. Signatures go through the
//! [`Verifier`] seam like every other signature in the system.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use mso::crypto::{Algorithm, PublicKey, Verifier};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::device_key::{b64url, from_jwk};
use crate::store::UsedNonce;

/// The JWT `typ` of a key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// Largest accepted proof, bytes.
pub const MAX_PROOF_LEN: usize = 8 * 1024;
/// Tolerated clock difference for `iat` in the future.
pub const IAT_SKEW: Duration = Duration::seconds(60);

const NONCE_RANDOM: usize = 16;
const NONCE_LEN: usize = 8 + NONCE_RANDOM + 32;
/// Length of a nonce's text: unpadded base64url of [`NONCE_LEN`] bytes.
const NONCE_TEXT_LEN: usize = (NONCE_LEN * 4).div_ceil(3);

/// Why a nonce or proof was refused. The message says which part failed; it never includes
/// key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PopError {
    /// The nonce was not issued by this service, or was altered.
    #[error("nonce is not valid")]
    InvalidNonce,
    /// The nonce's lifetime is over.
    #[error("nonce has expired")]
    ExpiredNonce,
    /// The proof is malformed or does not meet the profile.
    #[error("proof: {0}")]
    InvalidProof(String),
    /// The proof's signature does not verify under the device key.
    #[error("proof signature does not verify under the device key")]
    BadSignature,
}

fn proof_err(m: impl Into<String>) -> PopError {
    PopError::InvalidProof(m.into())
}

/// Issues and checks nonces under a key derived from the server secret.
#[derive(Clone)]
pub struct Nonces {
    mac: Hmac<Sha256>,
    ttl: Duration,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces keyed by `key` (derive it from the server secret), valid for `ttl`.
    pub fn new(key: [u8; 32], ttl: Duration) -> Self {
        // HMAC accepts keys of any length, so the fallback is never taken.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
        Nonces { mac, ttl }
    }

    fn tag(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"mdoc-issuer nonce v1");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// A fresh nonce and its expiry.
    pub fn issue(
        &self,
        now: OffsetDateTime,
        random: [u8; NONCE_RANDOM],
    ) -> (String, OffsetDateTime) {
        let expires = now.saturating_add(self.ttl);
        let mut body = Vec::with_capacity(NONCE_LEN);
        body.extend_from_slice(&expires.unix_timestamp().to_be_bytes());
        body.extend_from_slice(&random);
        let tag = self.tag(&body);
        body.extend_from_slice(&tag);
        (URL_SAFE_NO_PAD.encode(body), expires)
    }

    /// Checks a nonce's integrity and lifetime at `now`; returns what the store records to
    /// consume it.
    pub fn check(&self, nonce: &str, now: OffsetDateTime) -> Result<UsedNonce, PopError> {
        // Exactly the unpadded base64url form `issue` produces: a padded or otherwise
        // re-encoded copy would hash differently and slip past single-use.
        if nonce.len() != NONCE_TEXT_LEN || nonce.contains('=') {
            return Err(PopError::InvalidNonce);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| PopError::InvalidNonce)?;
        if raw.len() != NONCE_LEN {
            return Err(PopError::InvalidNonce);
        }
        let (body, tag) = raw.split_at(8 + NONCE_RANDOM);
        if !bool::from(self.tag(body).ct_eq(tag)) {
            return Err(PopError::InvalidNonce);
        }
        let mut secs = [0u8; 8];
        secs.copy_from_slice(body.get(..8).ok_or(PopError::InvalidNonce)?);
        let expires_at = OffsetDateTime::from_unix_timestamp(i64::from_be_bytes(secs))
            .map_err(|_| PopError::InvalidNonce)?;
        if now >= expires_at {
            return Err(PopError::ExpiredNonce);
        }
        Ok(UsedNonce {
            // Of the decoded bytes, so no alternative spelling can count as a new nonce.
            sha256: Sha256::digest(&raw).into(),
            expires_at,
        })
    }
}

/// What a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// The issuer identifier (`aud`).
    pub audience: &'a str,
    /// The server nonce (`nonce`).
    pub nonce: &'a str,
    /// Verification time.
    pub now: OffsetDateTime,
    /// Oldest accepted `iat` is `now - max_age`.
    pub max_age: Duration,
}

fn decode_json(part: &str, what: &str) -> Result<serde_json::Map<String, Json>, PopError> {
    let raw = b64url(part).ok_or_else(|| proof_err(format!("{what} is not base64url")))?;
    match serde_json::from_slice::<Json>(&raw) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(proof_err(format!("{what} is not a JSON object"))),
        Err(e) => Err(proof_err(format!("{what} is not JSON: {e}"))),
    }
}

fn jws_algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "ES256" => Algorithm::Es256,
        "ES384" => Algorithm::Es384,
        "ES512" => Algorithm::Es512,
        "EdDSA" | "Ed25519" => Algorithm::EdDsa,
        _ => return None,
    })
}

/// The JWS `alg` name of a device-key algorithm.
pub fn jws_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "ES256",
        Algorithm::Es384 => "ES384",
        Algorithm::Es512 => "ES512",
        Algorithm::EdDsa => "EdDSA",
    }
}

/// The device key a proof carries in its `jwk` header, if any.
pub fn proof_jwk(proof: &str) -> Result<Option<PublicKey>, PopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(proof_err(format!("longer than {MAX_PROOF_LEN} bytes")));
    }
    let header = proof
        .split('.')
        .next()
        .ok_or_else(|| proof_err("not a compact JWS"))?;
    let header = decode_json(header, "header")?;
    header
        .get("jwk")
        .map(|j| from_jwk(j).map_err(|e| proof_err(format!("header jwk: {e}"))))
        .transpose()
}

/// Verifies that `proof` was signed by `key` for `cx`.
pub fn verify_proof(
    proof: &str,
    key: &PublicKey,
    cx: &ProofContext<'_>,
    verifier: &dyn Verifier,
) -> Result<(), PopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(proof_err(format!("longer than {MAX_PROOF_LEN} bytes")));
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(proof_err("not a compact JWS (three dot-separated parts)"));
    };
    let header = decode_json(h, "header")?;
    if header.get("typ").and_then(Json::as_str) != Some(PROOF_TYP) {
        return Err(proof_err(format!("header typ must be {PROOF_TYP:?}")));
    }
    let alg_name = header
        .get("alg")
        .and_then(Json::as_str)
        .ok_or_else(|| proof_err("header alg is missing"))?;
    let alg = jws_algorithm(alg_name)
        .ok_or_else(|| proof_err(format!("header alg {alg_name:?} is not supported")))?;
    if alg != key.curve().algorithm() {
        return Err(proof_err(format!(
            "header alg {alg_name} does not match the {} device key",
            key.curve().name()
        )));
    }
    if header.contains_key("x5c") || header.contains_key("kid") {
        return Err(proof_err("header must identify the key by jwk only"));
    }
    if let Some(j) = header.get("jwk") {
        let in_header = from_jwk(j).map_err(|e| proof_err(format!("header jwk: {e}")))?;
        if &in_header != key {
            return Err(proof_err("header jwk differs from the device key"));
        }
    }
    if header.get("crit").is_some() {
        return Err(proof_err("header crit is not supported"));
    }

    let claims = decode_json(p, "payload")?;
    let aud_ok = match claims.get("aud") {
        Some(Json::String(a)) => a == cx.audience,
        Some(Json::Array(list)) => list.iter().any(|a| a.as_str() == Some(cx.audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(proof_err(format!("aud must be {:?}", cx.audience)));
    }
    if claims.get("nonce").and_then(Json::as_str) != Some(cx.nonce) {
        return Err(proof_err("nonce does not match the request's nonce"));
    }
    let iat = claims
        .get("iat")
        .and_then(Json::as_i64)
        .ok_or_else(|| proof_err("iat is missing or not an integer"))?;
    let iat =
        OffsetDateTime::from_unix_timestamp(iat).map_err(|_| proof_err("iat out of range"))?;
    if iat > cx.now.saturating_add(IAT_SKEW) {
        return Err(proof_err("iat is in the future"));
    }
    if iat < cx.now.saturating_sub(cx.max_age) {
        return Err(proof_err("iat is too old"));
    }

    let sig = b64url(s).ok_or_else(|| proof_err("signature is not base64url"))?;
    let signing_input_len = h.len() + 1 + p.len();
    let signing_input = proof
        .get(..signing_input_len)
        .ok_or_else(|| proof_err("not a compact JWS"))?;
    verifier
        .verify(alg, key, signing_input.as_bytes(), &sig)
        .map_err(|_| PopError::BadSignature)
}

/// Builds a key proof (wallet side; used by the demo, tests and load generator).
pub fn make_proof(
    signer: &dyn mso::crypto::Signer,
    audience: &str,
    nonce: &str,
    iat: OffsetDateTime,
    include_jwk: bool,
) -> mso::Result<String> {
    let key = signer.public_key()?;
    let mut header = serde_json::json!({"typ": PROOF_TYP, "alg": jws_name(signer.algorithm())});
    if include_jwk {
        if let Some(h) = header.as_object_mut() {
            h.insert("jwk".into(), crate::device_key::to_jwk(&key));
        }
    }
    let claims = serde_json::json!({"aud": audience, "iat": iat.unix_timestamp(), "nonce": nonce});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// The `nonce` claim of a proof, read without verifying anything (the credential endpoint
/// learns from it which `c_nonce` the batch is over; [`verify_proof`] then checks it).
pub fn proof_nonce(proof: &str) -> Result<Option<String>, PopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(proof_err(format!("longer than {MAX_PROOF_LEN} bytes")));
    }
    let payload = proof
        .split('.')
        .nth(1)
        .ok_or_else(|| proof_err("not a compact JWS"))?;
    let claims = decode_json(payload, "payload")?;
    Ok(claims
        .get("nonce")
        .and_then(Json::as_str)
        .map(str::to_owned))
}
