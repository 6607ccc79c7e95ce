//! JOSE (RFC 7515/7516/7517/7518/7638) shared by the issuer and both SDKs: the compact-JWS
//! reader ([`jws`]), public JWKs and their RFC 7638 thumbprints ([`jwk`]), compact-JWS signing
//! ([`sign`]), compact JWE with ECDH-ES for OpenID4VP's encrypted responses ([`jwe`]), and the
//! nesting-depth bound every reader of untrusted JSON applies first ([`json`]).
//!
//! # Signatures go through the project's seam
//!
//! Every signature is made by a [`mso::crypto::Signer`] (DS and metadata keys live in an HSM)
//! and checked by a [`mso::crypto::Verifier`] given by the caller, as everywhere else in the
//! system; JWS signatures are the same raw `r ‖ s` the seam produces for COSE.
//!
//! # Why not a JOSE crate for verification
//!
//! The issue asked for a maintained JOSE library where one fits. `jsonwebtoken` 10.4 (the
//! most used Rust JWT crate; 12.0 still has the first two points) was read source first and
//! does not fit the verifying side; the tests in `tests/jose/` pin each point, and it is a
//! dev-dependency there as an independent implementation our tokens are checked against:
//!
//! - its `Algorithm` has no `ES512`, so `decode_header` refuses every ES512 token, which the
//!   published `/v1` API accepts (a P-521 device key's proof) and RFC 9449 allows;
//! - `Validation` reads the wall clock (`get_current_timestamp`) for `exp`/`nbf`, where the house
//!   rule is an explicit verification time, and runs only inside `decode`, whose signature check
//!   goes through a process-global `CryptoProvider` of plain `fn` pointers: it cannot carry the
//!   caller's [`mso::crypto::Verifier`], and its `EncodingKey` cannot hold an HSM key;
//! - `jwk::Jwk` silently drops a private `d`, accepts `kty: EC` with `crv: Ed25519`, and its
//!   untagged-enum errors do not say which member is wrong; `Jwk::thumbprint` panics
//!   (`panic!`) on such a JWK, which is untrusted input here (10.3 also hashed OKP keys wrongly).
//!
//! Other crates fit less: `jwt-compact` (newest release a 0.9 beta, `chrono` time, `anyhow`),
//! `josekit` (OpenSSL), RustCrypto's `jose-jws` (still 0.1). So this module reads the compact
//! serialization with `serde` into typed structures, refuses what the profiles do not allow with
//! typed errors, and is proven against joserfc (Python) and jsonwebtoken (`issuer/tests/jose/`). The one
//! piece of URL knowledge it needs (the RFC 9449 `htu` comparison) comes from the `url` crate.

#![forbid(unsafe_code)]

pub mod json;
pub mod jwe;
pub mod jwk;
pub mod jws;
pub mod sign;
