//! Proof of possession of a device key: server nonces and OpenID4VCI key-proof JWTs.
//!
//! A nonce is `base64url(expiry ‖ 16 random bytes ‖ HMAC-SHA-256(server key, expiry ‖ random))`:
//! any instance holding the server secret can check it without shared state, and the store
//! consumes each one exactly once, in the issuance's own transaction (so a replayed proof is
//! refused even within the nonce's lifetime).
//!
//! A proof is a compact JWS (`typ: openid4vci-proof+jwt`, OpenID4VCI 1.0 §F.1) signed by the
//! device key over `aud` (the issuer identifier), `iat` and `nonce`, read and checked by
//! [`crate::jose::proof`]; this file adapts it to the `/v1` API (the key may travel beside the
//! proof, every refusal is `invalid_proof`). Signatures go through the [`Verifier`] seam like
//! every other signature in the system.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use mso::crypto::{Algorithm, PublicKey, Verifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::jose;
use crate::jose::jws::JwsError;
use crate::jose::proof::{self, KeyProofCheck, KeyProofClaims, ProofError};
use crate::jose::sign::JoseError;
use crate::store::UsedNonce;

pub use crate::jose::proof::{IAT_SKEW, MAX_PROOF_LEN, PROOF_TYP};

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

fn from_proof_error(e: ProofError) -> PopError {
    match e {
        ProofError::Jws(JwsError::BadSignature) => PopError::BadSignature,
        other => PopError::InvalidProof(other.to_string()),
    }
}

/// The JWS `alg` name of a device-key algorithm.
pub fn jws_name(alg: Algorithm) -> &'static str {
    jose::jws::alg_name(alg)
}

/// The device key a proof carries in its `jwk` header, if any (a `kid` or `x5c` is refused).
pub fn proof_jwk(proof: &str) -> Result<Option<PublicKey>, PopError> {
    proof::proof_key(proof).map_err(from_proof_error)
}

/// Verifies that `proof` was signed by `key` for `cx` ([`proof::verify_key_proof_with_key`]:
/// the header's `jwk`, if any, must be `key`; `iss` is not checked).
pub fn verify_proof(
    proof: &str,
    key: &PublicKey,
    cx: &ProofContext<'_>,
    verifier: &dyn Verifier,
) -> Result<(), PopError> {
    let check = KeyProofCheck {
        audience: cx.audience,
        expected_nonce: Some(cx.nonce),
        client_id: None,
        now: cx.now,
        max_age: cx.max_age,
    };
    proof::verify_key_proof_with_key(proof, key, &check, verifier)
        .map(|_| ())
        .map_err(from_proof_error)
}

/// Builds a key proof (wallet side; used by the demo, tests and load generator).
pub fn make_proof(
    signer: &dyn mso::crypto::Signer,
    audience: &str,
    nonce: &str,
    iat: OffsetDateTime,
    include_jwk: bool,
) -> mso::Result<String> {
    let claims = KeyProofClaims {
        audience,
        nonce: Some(nonce),
        iss: None,
        iat,
    };
    proof::make_key_proof(signer, &claims, include_jwk).map_err(|e| match e {
        JoseError::Signer(e) => e,
        other => mso::Error::Signer(other.to_string()),
    })
}
