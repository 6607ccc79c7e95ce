//! The cryptographic seam: algorithms, public keys, the [`Signer`] and [`Verifier`] traits and
//! the software backend.
//!
//! Like rustls' `CryptoProvider`, everything above this module talks to narrow traits: an HSM,
//! a remote signing service or a faster backend plugs in by implementing [`Signer`] or
//! [`Verifier`], without touching the mdoc code.

pub(crate) mod algorithm;
mod digest;
pub mod ecdh;
mod keys;
mod signer;
mod verifier;

pub use algorithm::{Algorithm, Curve};
pub use digest::DigestAlgorithm;
pub use keys::PublicKey;
pub use signer::{Signer, SoftwareKey};
pub use verifier::{check_signature_input, SoftwareVerifier, Verifier};
