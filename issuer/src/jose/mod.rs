//! The issuer's JOSE layer (RFC 7515/7517/7519/7638): OpenID4VCI 1.0 key proofs ([`proof`]),
//! RFC 9449 DPoP proofs ([`dpop`]), OAuth 2.0 attestation-based client authentication and
//! OpenID4VCI key attestations ([`attestation`]), compact JWS signing ([`sign`]), public JWKs
//! and their RFC 7638 thumbprints ([`jwk`]), on one compact-JWS reader ([`jws`]).
//!
//! # Signatures go through the project's seam
//!
//! Every signature is made by a [`mso::crypto::Signer`] (DS and metadata keys live in an HSM)
//! and checked by a [`mso::crypto::Verifier`] given by the caller (the server passes
//! [`mso::crypto::DefaultVerifier`]), as everywhere else in the system; JWS signatures
//! are the same raw `r ‖ s` the seam produces for COSE.
//!
//! The compact-JWS reader, JWKs and signing are the shared `mdoc-jose` crate (re-exported
//! here); its crate documentation says why no JOSE crate from crates.io verifies for us.

pub use mdoc_jose::{jwk, jws, sign};

pub mod attestation;
pub mod dpop;
pub mod proof;
