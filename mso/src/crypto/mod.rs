//! The cryptographic seam: algorithms, public keys, the [`Signer`] and [`Verifier`] traits and
//! the software backend.
//!
//! Like rustls' `CryptoProvider`, everything above this module talks to narrow traits: an HSM,
//! a remote signing service or a faster backend plugs in by implementing [`Signer`] or
//! [`Verifier`], without touching the mdoc code.
//!
//! Two backends ship: RustCrypto (always built, pure Rust) and aws-lc-rs (cargo feature
//! `aws-lc`, on by default). [`DefaultVerifier`] and [`DefaultSigner`] name the one a build
//! should use; both begin with [`check_signature_input`], so they refuse the same inputs.

pub(crate) mod algorithm;
#[cfg(feature = "aws-lc")]
mod aws_lc;
mod digest;
pub mod ecdh;
pub mod hpke;
mod keys;
mod signer;
mod verifier;

pub use algorithm::{Algorithm, Curve};
pub use digest::DigestAlgorithm;
pub use keys::PublicKey;
pub use signer::{Signer, SoftwareKey};
pub use verifier::{check_signature_input, SoftwareVerifier, Verifier};

#[cfg(feature = "aws-lc")]
pub use aws_lc::{AwsLcSigner, AwsLcVerifier};

/// The platform's fast verifier: [`AwsLcVerifier`] with the `aws-lc` feature (the default),
/// [`SoftwareVerifier`] without it. Production paths name this, so one feature decides the
/// backend of every crate; code that means RustCrypto in particular names [`SoftwareVerifier`].
/// A re-export (not a type alias) so that `&DefaultVerifier` is a value, like the unit structs.
#[cfg(feature = "aws-lc")]
pub use aws_lc::AwsLcVerifier as DefaultVerifier;
/// The platform's fast verifier: [`AwsLcVerifier`] with the `aws-lc` feature (the default),
/// [`SoftwareVerifier`] without it. Production paths name this, so one feature decides the
/// backend of every crate; code that means RustCrypto in particular names [`SoftwareVerifier`].
#[cfg(not(feature = "aws-lc"))]
pub use verifier::SoftwareVerifier as DefaultVerifier;

/// The platform's fast in-memory signer: [`AwsLcSigner`] with the `aws-lc` feature,
/// [`SoftwareKey`] without it. Made from a [`SoftwareKey`] by [`default_signer`].
#[cfg(feature = "aws-lc")]
pub type DefaultSigner = AwsLcSigner;
/// The platform's fast in-memory signer: [`AwsLcSigner`] with the `aws-lc` feature,
/// [`SoftwareKey`] without it. Made from a [`SoftwareKey`] by [`default_signer`].
#[cfg(not(feature = "aws-lc"))]
pub type DefaultSigner = SoftwareKey;

/// The same key in the platform's fast backend ([`DefaultSigner`]).
pub fn default_signer(key: &SoftwareKey) -> crate::error::Result<DefaultSigner> {
    #[cfg(feature = "aws-lc")]
    return AwsLcSigner::from_software(key);
    #[cfg(not(feature = "aws-lc"))]
    return Ok(key.clone());
}
