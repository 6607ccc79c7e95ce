//! Producing a compact JWS with a [`Signer`]: the DS, metadata or wallet key may sit in an HSM,
//! which an in-memory JOSE key type cannot hold, so the signature comes from the seam like
//! every COSE signature, and is the same raw `r ‖ s` (RFC 7518 §3.4) or Ed25519 signature.
//!
//! Used for signed credential-issuer metadata ([`ISSUER_METADATA_TYP`], with `x5c` from
//! [`x5c`]) and by the wallet-side helpers of the tests, the dev stack and the load generator
//! (`proof::make_key_proof`, `dpop::make_dpop`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mso::crypto::Signer;
use serde_json::{Map, Value as Json};

use super::jws::{alg_name, b64url};

/// The `typ` of signed credential-issuer metadata (OpenID4VCI 1.0 §12.2.3).
pub const ISSUER_METADATA_TYP: &str = "openid4vci-issuer-metadata+jwt";

/// Why a JWS could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The signer failed (HSM unavailable, key missing, …).
    #[error("signer: {0}")]
    Signer(#[from] mso::Error),
    /// `extra_header` tried to set a member this function owns (`alg`, `typ`) or one that would
    /// make verifiers refuse the token (`crit`).
    #[error("header member {0:?} is set by sign_jwt")]
    ReservedHeader(String),
    /// The claims are not a JSON object.
    #[error("JWT claims must be a JSON object")]
    ClaimsNotObject,
    /// The signer returned a signature of the wrong length for its algorithm (e.g. DER instead
    /// of raw `r ‖ s`), which no verifier would accept.
    #[error("{alg} signature must be {expected} bytes, the signer returned {found}")]
    SignatureLength {
        /// The signer's algorithm.
        alg: mso::crypto::Algorithm,
        /// The raw signature length of the algorithm.
        expected: usize,
        /// What the signer returned.
        found: usize,
    },
}

/// Signs `claims` as a compact JWS with header `{"alg": <signer's JWS alg>, "typ": typ}` plus
/// `extra_header` (e.g. `jwk`, `x5c`, `kid`).
pub fn sign_jwt(
    signer: &dyn Signer,
    typ: &str,
    extra_header: Map<String, Json>,
    claims: &Json,
) -> Result<String, JoseError> {
    if !claims.is_object() {
        return Err(JoseError::ClaimsNotObject);
    }
    let alg = signer.algorithm();
    let mut header = Map::new();
    header.insert("alg".into(), Json::String(alg_name(alg).into()));
    header.insert("typ".into(), Json::String(typ.into()));
    for (name, value) in extra_header {
        if matches!(name.as_str(), "alg" | "typ" | "crit") {
            return Err(JoseError::ReservedHeader(name));
        }
        header.insert(name, value);
    }
    let input = format!(
        "{}.{}",
        b64url(Json::Object(header).to_string()),
        b64url(claims.to_string())
    );
    let signature = signer.sign(input.as_bytes())?;
    if signature.len() != alg.signature_len() {
        return Err(JoseError::SignatureLength {
            alg,
            expected: alg.signature_len(),
            found: signature.len(),
        });
    }
    Ok(format!("{input}.{}", b64url(signature)))
}

/// The `x5c` header value of a certificate chain (DER, leaf first): standard base64 with
/// padding, as RFC 7515 §4.1.6 requires (not base64url).
pub fn x5c(chain: &[impl AsRef<[u8]>]) -> Json {
    Json::Array(
        chain
            .iter()
            .map(|der| Json::String(STANDARD.encode(der)))
            .collect(),
    )
}
