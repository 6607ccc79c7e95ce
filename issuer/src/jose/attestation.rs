//! Attestations a wallet presents, as HAIP 1.0 requires them:
//!
//! - OAuth 2.0 Attestation-Based Client Authentication
//!   (draft-ietf-oauth-attestation-based-client-auth): the `OAuth-Client-Attestation` JWT
//!   (`typ: oauth-client-attestation+jwt`), signed by the wallet provider, names the client
//!   (`sub`), its expiry (`exp`) and the wallet instance's key (`cnf.jwk`); the
//!   `OAuth-Client-Attestation-PoP` JWT (`typ: oauth-client-attestation-pop+jwt`), signed by
//!   that key, is bound to this server (`aud`), fresh (`iat`, `jti`) and optionally to the
//!   server's `challenge` ([`verify_client_attestation`]);
//! - OpenID4VCI 1.0 key attestations (Appendix D.1, `typ: key-attestation+jwt`): a key storage
//!   provider vouches for `attested_keys`; the caller checks that every proof key is one of them
//!   ([`KeyAttestation::ensure_attested`]).
//!
//! # Trust
//!
//! The provider's signing key is trusted either through its `x5c` chain, validated to the
//! configured anchors by the one PKI layer ([`mso::x509::path::validate_with`]: names,
//! signatures, CA flags, path length, critical extensions, validity at `now`, a work budget), or
//! by being one of the configured public keys. `mso::x509` has no role for attestation
//! signers: the path is validated with the shape of [`Role::VicalSigner`] (intermediates
//! allowed, as provider chains have them) and `inspect_leaf: false`, since no mdoc profile
//! (Annex B) describes a wallet provider's certificate. Adding an attestation-signer role to
//! `mso::x509::profile` would let the leaf be profiled too.
//!
//! `jti` replay of the PoP is the caller's job, as for DPoP.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mso::crypto::{PublicKey, Verifier};
use mso::x509::path::{parse_chain, validate_with, PathPolicy};
use mso::x509::profile::Role;
use mso::x509::{Certificate, PathError, TrustAnchors};
use serde::Deserialize;
use serde_json::{Number, Value as Json};
use time::{Duration, OffsetDateTime};

use super::jwk::{from_jwk, JwkError};
use super::jws::{self, numeric_date, Audience, Compact, JwsError, KeyRef};

/// `typ` of the client attestation JWT.
pub const CLIENT_ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// `typ` of the client attestation PoP JWT.
pub const CLIENT_ATTESTATION_POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// `typ` of an OpenID4VCI key attestation.
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";
/// Largest accepted attestation, bytes (an `x5c` chain of a few certificates fits).
pub const MAX_ATTESTATION_LEN: usize = 32 * 1024;
/// Largest accepted PoP, bytes.
pub const MAX_POP_LEN: usize = 8 * 1024;
/// Most certificates read from an `x5c` header.
pub const MAX_X5C: usize = 5;
/// Most keys one key attestation may attest.
pub const MAX_ATTESTED_KEYS: usize = 64;
/// Tolerated clock difference for `iat`, `nbf` and `exp`.
pub const SKEW: Duration = Duration::seconds(60);

/// Whom attestations are trusted from: wallet (or key storage) providers.
#[derive(Debug)]
pub struct AttestationTrust {
    anchors: TrustAnchors,
    keys: Vec<PublicKey>,
}

impl AttestationTrust {
    /// Providers whose `x5c` chains lead to one of `anchors`, or who sign with one of `keys`.
    pub fn new(anchors: Vec<Certificate>, keys: Vec<PublicKey>) -> Self {
        AttestationTrust {
            anchors: TrustAnchors::new(anchors),
            keys,
        }
    }
}

/// Why an attestation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// The attestation itself: malformed, unsupported `alg` (`none`, `HS256`, …), wrong `typ`,
    /// `crit`, keys named twice, or its signature does not verify under the key that is
    /// trusted (see [`JwsError`]).
    #[error("attestation: {0}")]
    Jws(JwsError),
    /// The PoP: malformed, wrong `typ`, or not signed by the attestation's `cnf` key.
    #[error("attestation PoP: {0}")]
    Pop(JwsError),
    /// An `x5c` entry is not base64 DER of a certificate.
    #[error("attestation x5c: {0}")]
    X5c(String),
    /// The `x5c` chain does not validate to a configured trust anchor.
    #[error("attestation signer is not trusted: {0}")]
    UntrustedChain(PathError),
    /// No `x5c`, and no configured provider key verifies the signature.
    #[error("attestation is not signed by a configured provider")]
    UntrustedProvider,
    /// A required claim is missing.
    #[error("attestation: claim {0} is missing")]
    MissingClaim(&'static str),
    /// A date claim is not a NumericDate in range.
    #[error("attestation: {0} is not a NumericDate in range")]
    BadDate(&'static str),
    /// `exp` is over.
    #[error("attestation has expired")]
    Expired,
    /// `nbf` (or `iat`) is in the future.
    #[error("attestation is not valid yet")]
    NotYetValid,
    /// The client attestation's `cnf.jwk` is not a usable public key.
    #[error("attestation cnf.jwk: {0}")]
    CnfKey(JwkError),
    /// The attested client is not the client of the request.
    #[error("attestation sub is not the client_id {expected:?}")]
    Subject {
        /// The request's client identifier.
        expected: String,
    },
    /// The PoP names another client in `iss`.
    #[error("attestation PoP iss is not the attested client")]
    PopIssuer,
    /// The PoP is not for this server.
    #[error("attestation PoP aud must be {expected:?}")]
    Audience {
        /// The server's identifier.
        expected: String,
    },
    /// The PoP does not carry the server's challenge.
    #[error("attestation PoP challenge does not match")]
    Challenge,
    /// The PoP's `iat` is older than allowed.
    #[error("attestation PoP is too old")]
    PopTooOld,
    /// An attested key is not a usable public key.
    #[error("attested_keys[{index}]: {error}")]
    AttestedKey {
        /// Its position.
        index: usize,
        /// What is wrong.
        error: JwkError,
    },
    /// `attested_keys` is empty or longer than [`MAX_ATTESTED_KEYS`].
    #[error("attested_keys must hold 1 to {MAX_ATTESTED_KEYS} keys")]
    AttestedKeyCount,
    /// A proof key is not among the attested keys.
    #[error("the key is not among the attested keys")]
    KeyNotAttested,
}

/// Finds the provider key that signed `jws` and checks the signature under it.
fn check_provider(
    jws: &Compact<'_>,
    trust: &AttestationTrust,
    now: OffsetDateTime,
    verifier: &dyn Verifier,
) -> Result<(), AttestationError> {
    match jws.header().key_ref().map_err(AttestationError::Jws)? {
        KeyRef::X5c(entries) => {
            if entries.is_empty() || entries.len() > MAX_X5C {
                return Err(AttestationError::X5c(format!(
                    "must hold 1 to {MAX_X5C} certificates"
                )));
            }
            let ders = entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    STANDARD
                        .decode(e)
                        .map_err(|_| AttestationError::X5c(format!("entry {i} is not base64")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let certs = parse_chain(&ders).map_err(AttestationError::UntrustedChain)?;
            let (leaf, chain) = certs
                .split_first()
                .ok_or_else(|| AttestationError::X5c("empty".into()))?;
            let policy = PathPolicy {
                inspect_leaf: false,
                ..PathPolicy::default()
            };
            validate_with(
                leaf,
                chain,
                &trust.anchors,
                now,
                Role::VicalSigner,
                verifier,
                &policy,
            )
            .map_err(AttestationError::UntrustedChain)?;
            let key = leaf
                .public_key()
                .map_err(|e| AttestationError::X5c(format!("leaf key: {e}")))?;
            jws.verify(&key, verifier).map_err(AttestationError::Jws)
        }
        // A key the token brings itself (`jwk`) proves nothing; a `kid` only hints. Either way
        // one of the configured keys must verify the signature.
        _ => {
            let alg = jws.alg();
            let verified = trust
                .keys
                .iter()
                .filter(|k| k.curve().algorithm() == alg)
                .any(|k| jws.verify(k, verifier).is_ok());
            if verified {
                Ok(())
            } else {
                Err(AttestationError::UntrustedProvider)
            }
        }
    }
}

fn date(n: &Number, name: &'static str) -> Result<OffsetDateTime, AttestationError> {
    numeric_date(n).ok_or(AttestationError::BadDate(name))
}

/// `exp` over, or `nbf` ahead of `now` beyond [`SKEW`].
fn check_window(
    exp: Option<&Number>,
    nbf: Option<&Number>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, AttestationError> {
    let exp = exp.map(|e| date(e, "exp")).transpose()?;
    if exp.is_some_and(|e| e.saturating_add(SKEW) < now) {
        return Err(AttestationError::Expired);
    }
    if let Some(nbf) = nbf {
        if date(nbf, "nbf")? > now.saturating_add(SKEW) {
            return Err(AttestationError::NotYetValid);
        }
    }
    Ok(exp)
}

/// What a client attestation and its PoP must match.
#[derive(Debug, Clone, Copy)]
pub struct ClientAttestationCheck<'a> {
    /// This server's identifier (the credential issuer or authorization server): the PoP's
    /// `aud`.
    pub audience: &'a str,
    /// The request's `client_id`, when it carries one: the attestation's `sub` must equal it.
    pub client_id: Option<&'a str>,
    /// The challenge this server handed out, when it uses them: the PoP's `challenge`.
    pub challenge: Option<&'a str>,
    /// Verification time.
    pub now: OffsetDateTime,
    /// The oldest accepted PoP `iat` is `now - max_age`.
    pub max_age: Duration,
}

/// A client attestation and PoP that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAttestation {
    /// The attested client (`sub`).
    pub client_id: String,
    /// The wallet provider (`iss`), if named.
    pub provider: Option<String>,
    /// The wallet instance's key (`cnf.jwk`), which signed the PoP.
    pub key: PublicKey,
    /// When the attestation expires.
    pub expires_at: OffsetDateTime,
    /// The PoP's `jti`, to store against replay.
    pub pop_jti: String,
    /// The PoP's `iat`.
    pub pop_iat: OffsetDateTime,
}

#[derive(Debug, Deserialize)]
struct Cnf {
    jwk: Option<Json>,
}

#[derive(Debug, Deserialize)]
struct AttestationClaims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<Number>,
    nbf: Option<Number>,
    cnf: Option<Cnf>,
}

#[derive(Debug, Deserialize)]
struct PopClaims {
    iss: Option<String>,
    aud: Option<Audience>,
    jti: Option<String>,
    iat: Option<Number>,
    exp: Option<Number>,
    nbf: Option<Number>,
    challenge: Option<String>,
}

/// Verifies an `OAuth-Client-Attestation` and its `OAuth-Client-Attestation-PoP` (see the
/// module doc). `verifier` checks every signature, certificates' included.
pub fn verify_client_attestation(
    attestation: &str,
    pop: &str,
    check: &ClientAttestationCheck<'_>,
    trust: &AttestationTrust,
    verifier: &dyn Verifier,
) -> Result<ClientAttestation, AttestationError> {
    let att = jws::parse(attestation, MAX_ATTESTATION_LEN, CLIENT_ATTESTATION_TYP)
        .map_err(AttestationError::Jws)?;
    check_provider(&att, trust, check.now, verifier)?;
    let claims: AttestationClaims = att.claims().map_err(AttestationError::Jws)?;
    let sub = claims.sub.ok_or(AttestationError::MissingClaim("sub"))?;
    let exp = claims
        .exp
        .as_ref()
        .ok_or(AttestationError::MissingClaim("exp"))?;
    let expires_at = check_window(Some(exp), claims.nbf.as_ref(), check.now)?.unwrap_or(check.now);
    if let Some(expected) = check.client_id {
        if sub != expected {
            return Err(AttestationError::Subject {
                expected: expected.to_owned(),
            });
        }
    }
    let jwk = claims
        .cnf
        .and_then(|c| c.jwk)
        .ok_or(AttestationError::MissingClaim("cnf.jwk"))?;
    let key = from_jwk(&jwk).map_err(AttestationError::CnfKey)?;

    let pop =
        jws::parse(pop, MAX_POP_LEN, CLIENT_ATTESTATION_POP_TYP).map_err(AttestationError::Pop)?;
    pop.verify(&key, verifier).map_err(AttestationError::Pop)?;
    let pc: PopClaims = pop.claims().map_err(AttestationError::Pop)?;
    if pc.iss.as_ref().is_some_and(|iss| *iss != sub) {
        return Err(AttestationError::PopIssuer);
    }
    if !pc.aud.as_ref().is_some_and(|a| a.contains(check.audience)) {
        return Err(AttestationError::Audience {
            expected: check.audience.to_owned(),
        });
    }
    let jti = pc.jti.ok_or(AttestationError::MissingClaim("jti"))?;
    let iat = date(
        pc.iat
            .as_ref()
            .ok_or(AttestationError::MissingClaim("iat"))?,
        "iat",
    )?;
    if iat > check.now.saturating_add(SKEW) {
        return Err(AttestationError::NotYetValid);
    }
    if iat < check.now.saturating_sub(check.max_age) {
        return Err(AttestationError::PopTooOld);
    }
    check_window(pc.exp.as_ref(), pc.nbf.as_ref(), check.now)?;
    if let Some(expected) = check.challenge {
        if pc.challenge.as_deref() != Some(expected) {
            return Err(AttestationError::Challenge);
        }
    }
    Ok(ClientAttestation {
        client_id: sub,
        provider: claims.iss,
        key,
        expires_at,
        pop_jti: jti,
        pop_iat: iat,
    })
}

/// A key attestation that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttestation {
    /// The attested keys, in order.
    pub keys: Vec<PublicKey>,
    /// `key_storage`: the attack potential resistance of the key storage, as claimed.
    pub key_storage: Vec<String>,
    /// `user_authentication`: how the keys are unlocked, as claimed.
    pub user_authentication: Vec<String>,
    /// The attestation's issuer (`iss`), if named.
    pub iss: Option<String>,
    /// When it was issued.
    pub iat: OffsetDateTime,
    /// When it expires, if it says.
    pub exp: Option<OffsetDateTime>,
    /// The `c_nonce` it was made for, if any (the caller compares it).
    pub nonce: Option<String>,
}

impl KeyAttestation {
    /// `Ok` if `key` is one of the attested keys.
    pub fn ensure_attested(&self, key: &PublicKey) -> Result<(), AttestationError> {
        if self.keys.contains(key) {
            Ok(())
        } else {
            Err(AttestationError::KeyNotAttested)
        }
    }
}

#[derive(Debug, Deserialize)]
struct KeyAttestationClaims {
    iss: Option<String>,
    iat: Option<Number>,
    exp: Option<Number>,
    nbf: Option<Number>,
    attested_keys: Option<Vec<Json>>,
    key_storage: Option<Vec<String>>,
    user_authentication: Option<Vec<String>>,
    nonce: Option<String>,
}

/// Verifies an OpenID4VCI key attestation (`typ: key-attestation+jwt`) at `now` and returns the
/// attested keys. `exp` is checked when present; `iat` is required and not in the future.
pub fn verify_key_attestation(
    jwt: &str,
    trust: &AttestationTrust,
    now: OffsetDateTime,
    verifier: &dyn Verifier,
) -> Result<KeyAttestation, AttestationError> {
    let att =
        jws::parse(jwt, MAX_ATTESTATION_LEN, KEY_ATTESTATION_TYP).map_err(AttestationError::Jws)?;
    check_provider(&att, trust, now, verifier)?;
    let claims: KeyAttestationClaims = att.claims().map_err(AttestationError::Jws)?;
    let iat = date(
        claims
            .iat
            .as_ref()
            .ok_or(AttestationError::MissingClaim("iat"))?,
        "iat",
    )?;
    if iat > now.saturating_add(SKEW) {
        return Err(AttestationError::NotYetValid);
    }
    let exp = check_window(claims.exp.as_ref(), claims.nbf.as_ref(), now)?;
    let jwks = claims
        .attested_keys
        .ok_or(AttestationError::MissingClaim("attested_keys"))?;
    if jwks.is_empty() || jwks.len() > MAX_ATTESTED_KEYS {
        return Err(AttestationError::AttestedKeyCount);
    }
    let keys = jwks
        .iter()
        .enumerate()
        .map(|(index, j)| {
            from_jwk(j).map_err(|error| AttestationError::AttestedKey { index, error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyAttestation {
        keys,
        key_storage: claims.key_storage.unwrap_or_default(),
        user_authentication: claims.user_authentication.unwrap_or_default(),
        iss: claims.iss,
        iat,
        exp,
        nonce: claims.nonce,
    })
}
