//! OpenID4VCI 1.0 key proofs of type `jwt` (Appendix F.1): a compact JWS with
//! `typ: openid4vci-proof+jwt`, signed by the key the credential is to be bound to, over
//! `aud` (the credential issuer identifier), `iat`, `nonce` (the `c_nonce`) and `iss` (the
//! client, omitted in the anonymous pre-authorized flow).
//!
//! This issuer binds by `cose_key` taken from the header's `jwk`: a proof naming its key by
//! `kid` or `x5c` (or a URL) is refused with [`ProofError::KeyReference`]. The `/v1` API, where
//! the key may travel beside the proof, uses [`verify_key_proof_with_key`].
//!
//! The order is: structure and header, key, signature, then the claims; an error about a claim
//! therefore speaks about a proof the key really signed. The HTTP layer answers
//! [`ProofError::NonceMismatch`] with `invalid_nonce` ([`ProofError::is_nonce_error`]) and
//! everything else with `invalid_proof`.

use mso::crypto::{PublicKey, Signer, Verifier};
use serde::Deserialize;
use serde_json::{Map, Number, Value as Json};
use time::{Duration, OffsetDateTime};

use super::jwk::{from_jwk, to_jwk, JwkError};
use super::jws::{self, numeric_date, Audience, Compact, JwsError, KeyRef};
use super::sign::{sign_jwt, JoseError};

/// The JWT `typ` of a key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// Largest accepted proof, bytes (room for a `key_attestation` header).
pub const MAX_PROOF_LEN: usize = 8 * 1024;
/// Tolerated clock difference for an `iat` in the future (and an `exp` in the past).
pub const IAT_SKEW: Duration = Duration::seconds(60);

/// What a key proof must match.
#[derive(Debug, Clone, Copy)]
pub struct KeyProofCheck<'a> {
    /// The credential issuer identifier: `aud` must be (or contain) it.
    pub audience: &'a str,
    /// The `c_nonce` the issuer handed out; when `Some`, `nonce` must equal it.
    pub expected_nonce: Option<&'a str>,
    /// The authenticated client; when `Some`, `iss` must equal it, when `None` `iss` may be
    /// absent (anonymous pre-authorized flow) and is returned as found.
    pub client_id: Option<&'a str>,
    /// Verification time.
    pub now: OffsetDateTime,
    /// The oldest accepted `iat` is `now - max_age`.
    pub max_age: Duration,
}

/// A key proof that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedKeyProof {
    /// The key the proof was signed with: the one to bind the credential to.
    pub key: PublicKey,
    /// The `nonce` claim.
    pub nonce: Option<String>,
    /// The `iss` claim.
    pub iss: Option<String>,
    /// The `key_attestation` header (a JWT for [`super::attestation::verify_key_attestation`]).
    pub key_attestation: Option<String>,
}

/// Why a key proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Malformed, too long, unsupported `alg` (`none`, `HS256`, …), wrong `typ`, `crit`, a key
    /// named twice, `alg` not fitting the key, or a bad signature (see [`JwsError`]).
    #[error("{0}")]
    Jws(#[from] JwsError),
    /// The header does not carry the key as a `jwk` (it uses `kid`, `x5c`, a URL, or nothing).
    #[error("{0}")]
    KeyReference(&'static str),
    /// The header `jwk` is not a usable public key (private part, unsupported or wrong curve,
    /// off-curve point, wrong coordinate length).
    #[error("header {0}")]
    Key(#[from] JwkError),
    /// The header `jwk` is not the device key given beside the proof (`/v1`).
    #[error("header jwk differs from the device key")]
    KeyDiffers,
    /// `aud` is missing or does not name this issuer.
    #[error("aud must be {expected:?}")]
    Audience {
        /// The issuer identifier.
        expected: String,
    },
    /// `iss` is missing or is not the authenticated client.
    #[error("iss must be {expected:?}")]
    Issuer {
        /// The client identifier.
        expected: String,
    },
    /// `nonce` is missing or is not the `c_nonce` expected.
    #[error("nonce does not match the expected c_nonce")]
    NonceMismatch,
    /// `iat` is missing.
    #[error("iat is missing")]
    IatMissing,
    /// `iat` (or `exp`) is not a date.
    #[error("{0} is not a NumericDate in range")]
    BadDate(&'static str),
    /// `iat` is more than [`IAT_SKEW`] ahead of the verification time.
    #[error("iat is in the future")]
    IatInFuture,
    /// `iat` is older than the allowed age.
    #[error("iat is too old")]
    IatTooOld,
    /// `exp` is present and over.
    #[error("exp is in the past")]
    Expired,
}

impl ProofError {
    /// Whether the client should fetch a fresh `c_nonce` (`invalid_nonce`) rather than fix
    /// the proof (`invalid_proof`).
    pub fn is_nonce_error(&self) -> bool {
        matches!(self, ProofError::NonceMismatch)
    }
}

/// The claims a key proof may carry; others are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    aud: Option<Audience>,
    iat: Option<Number>,
    exp: Option<Number>,
    nonce: Option<String>,
    iss: Option<String>,
}

fn parse(jwt: &str) -> Result<Compact<'_>, ProofError> {
    Ok(jws::parse(jwt, MAX_PROOF_LEN, PROOF_TYP)?)
}

/// The header's key: a `jwk` or nothing; any other reference is refused.
fn header_key(proof: &Compact<'_>) -> Result<Option<PublicKey>, ProofError> {
    match proof.header().key_ref()? {
        KeyRef::Jwk(j) => Ok(Some(from_jwk(j)?)),
        KeyRef::None => Ok(None),
        KeyRef::Kid(_) => Err(ProofError::KeyReference(
            "kid is not accepted: this issuer binds the credential to the jwk in the header",
        )),
        KeyRef::X5c(_) => Err(ProofError::KeyReference(
            "x5c is not accepted: this issuer binds the credential to the jwk in the header",
        )),
        KeyRef::Url(_) => Err(ProofError::KeyReference(
            "jku/x5u are not accepted: put the key in the header as a jwk",
        )),
    }
}

/// Verifies an OpenID4VCI key proof whose header carries the key as `jwk`, and returns that
/// key. `verifier` checks the signature (the server's is
/// [`mso::crypto::DefaultVerifier`]).
pub fn verify_key_proof(
    jwt: &str,
    check: &KeyProofCheck<'_>,
    verifier: &dyn Verifier,
) -> Result<VerifiedKeyProof, ProofError> {
    let proof = parse(jwt)?;
    let key = header_key(&proof)?.ok_or(ProofError::KeyReference(
        "the header must carry the key as a jwk",
    ))?;
    finish(&proof, key, check, verifier)
}

/// [`verify_key_proof`] for a key given beside the proof (the `/v1` API's `cose_key` or
/// `jwk`): the header may omit `jwk`, and if it has one it must be that key.
pub fn verify_key_proof_with_key(
    jwt: &str,
    key: &PublicKey,
    check: &KeyProofCheck<'_>,
    verifier: &dyn Verifier,
) -> Result<VerifiedKeyProof, ProofError> {
    let proof = parse(jwt)?;
    if let Some(in_header) = header_key(&proof)? {
        if &in_header != key {
            return Err(ProofError::KeyDiffers);
        }
    }
    finish(&proof, key.clone(), check, verifier)
}

fn finish(
    proof: &Compact<'_>,
    key: PublicKey,
    check: &KeyProofCheck<'_>,
    verifier: &dyn Verifier,
) -> Result<VerifiedKeyProof, ProofError> {
    proof.verify(&key, verifier)?;
    let claims: Claims = proof.claims()?;
    if !claims
        .aud
        .as_ref()
        .is_some_and(|a| a.contains(check.audience))
    {
        return Err(ProofError::Audience {
            expected: check.audience.to_owned(),
        });
    }
    let iat = claims.iat.as_ref().ok_or(ProofError::IatMissing)?;
    let iat = numeric_date(iat).ok_or(ProofError::BadDate("iat"))?;
    if iat > check.now.saturating_add(IAT_SKEW) {
        return Err(ProofError::IatInFuture);
    }
    if iat < check.now.saturating_sub(check.max_age) {
        return Err(ProofError::IatTooOld);
    }
    if let Some(exp) = &claims.exp {
        let exp = numeric_date(exp).ok_or(ProofError::BadDate("exp"))?;
        if exp.saturating_add(IAT_SKEW) < check.now {
            return Err(ProofError::Expired);
        }
    }
    if let Some(expected) = check.client_id {
        if claims.iss.as_deref() != Some(expected) {
            return Err(ProofError::Issuer {
                expected: expected.to_owned(),
            });
        }
    }
    if let Some(expected) = check.expected_nonce {
        if claims.nonce.as_deref() != Some(expected) {
            return Err(ProofError::NonceMismatch);
        }
    }
    Ok(VerifiedKeyProof {
        key,
        nonce: claims.nonce,
        iss: claims.iss,
        key_attestation: proof.header().key_attestation.clone(),
    })
}

/// The `nonce` claim of a proof **before** it is verified, so the credential endpoint can
/// check the `c_nonce` first (and answer `invalid_nonce`). The proof's structure and header are
/// checked; its signature is not, so use the value only to decide whether to verify.
pub fn unverified_nonce(jwt: &str) -> Result<Option<String>, ProofError> {
    let claims: Claims = parse(jwt)?.claims()?;
    Ok(claims.nonce)
}

/// The key a proof's header carries as `jwk`, if any, without verifying the proof (the `/v1`
/// API reads the device key from it when the request gives none).
pub fn proof_key(jwt: &str) -> Result<Option<PublicKey>, ProofError> {
    header_key(&parse(jwt)?)
}

/// The claims of a key proof a wallet makes.
#[derive(Debug, Clone, Copy)]
pub struct KeyProofClaims<'a> {
    /// The credential issuer identifier (`aud`).
    pub audience: &'a str,
    /// The `c_nonce`, if the issuer gave one.
    pub nonce: Option<&'a str>,
    /// The client identifier (`iss`), omitted in the anonymous pre-authorized flow.
    pub iss: Option<&'a str>,
    /// Issue time.
    pub iat: OffsetDateTime,
}

/// Makes a key proof (wallet side: tests, the dev stack, the load generator), with the
/// signer's public key as `jwk` when `include_jwk` (the `/v1` API may take the key beside it).
pub fn make_key_proof(
    signer: &dyn Signer,
    claims: &KeyProofClaims<'_>,
    include_jwk: bool,
) -> Result<String, JoseError> {
    let mut header = Map::new();
    if include_jwk {
        header.insert("jwk".into(), to_jwk(&signer.public_key()?));
    }
    let mut body = Map::new();
    body.insert("aud".into(), Json::String(claims.audience.into()));
    body.insert("iat".into(), Json::from(claims.iat.unix_timestamp()));
    if let Some(n) = claims.nonce {
        body.insert("nonce".into(), Json::String(n.into()));
    }
    if let Some(i) = claims.iss {
        body.insert("iss".into(), Json::String(i.into()));
    }
    sign_jwt(signer, PROOF_TYP, header, &Json::Object(body))
}
