//! Shared helpers: keys, hand-made (forged) tokens, the verification time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::crypto::{Algorithm, DefaultVerifier, Signer, SoftwareKey};
use serde_json::Value as Json;
use time::macros::datetime;
use time::OffsetDateTime;

/// The verification time of every test (inside the test PKI's validity).
pub const NOW: OffsetDateTime = datetime!(2026-06-01 12:00:00 UTC);

/// The server's verifier.
pub const VERIFIER: DefaultVerifier = DefaultVerifier;

/// Every algorithm of the seam.
pub const ALGS: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::EdDsa,
];

pub fn key(alg: Algorithm) -> SoftwareKey {
    SoftwareKey::generate(alg)
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS with exactly this header and these claims, signed by `signer` whatever the
/// header says (to build tokens the library would never make).
pub fn forge(signer: &dyn Signer, header: &Json, claims: &Json) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let sig = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig))
}

/// A compact JWS with this header, claims and signature bytes.
pub fn with_signature(header: &Json, claims: &Json, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string()),
        b64(claims.to_string()),
        b64(sig)
    )
}

/// The public JWK of a signer.
pub fn jwk_of(signer: &dyn Signer) -> Json {
    mdoc_issuer::jose::jwk::to_jwk(&signer.public_key().unwrap())
}

/// A P-256 JWK whose point is not on the curve (x = y = 1).
pub fn off_curve_jwk() -> Json {
    let mut one = [0u8; 32];
    one[31] = 1;
    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(one), "y": b64(one)})
}
