//! The aws-lc-rs backend behind the [`Signer`] / [`Verifier`] seam (cargo feature `aws-lc`).
//!
//! aws-lc's assembly verifies and signs several times faster than the pure-Rust backend
//! (`benches/issue_verify.rs` and `verifier-sdk/benches/verify.rs` report both in one run).
//! It produces and accepts the same COSE signatures (raw `r ‖ s`), and it starts with the same
//! [`check_signature_input`] as [`super::SoftwareVerifier`], so the two refuse the same inputs
//! the same way (`tests/suite/backends.rs` holds them to it). Without the feature `mso` is pure
//! Rust, for targets aws-lc does not build for.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use super::algorithm::{Algorithm, Curve};
use super::keys::PublicKey;
use super::signer::{Signer, SoftwareKey};
use super::verifier::{check_signature_input, Verifier};
use crate::error::{Error, Result};

fn verification_algorithm(alg: Algorithm) -> &'static dyn VerificationAlgorithm {
    match alg {
        Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::Es512 => &signature::ECDSA_P521_SHA512_FIXED,
        Algorithm::EdDsa => &signature::ED25519,
    }
}

/// Verifies with aws-lc-rs.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcVerifier;

impl Verifier for AwsLcVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        check_signature_input(alg, key, signature)?;
        let algorithm = verification_algorithm(alg);
        let bad = |_| Error::BadSignature;
        // The SEC1 point on the stack: no allocation per verification.
        match key {
            PublicKey::P256(k) => UnparsedPublicKey::new(algorithm, k.to_encoded_point(false))
                .verify(message, signature)
                .map_err(bad),
            PublicKey::P384(k) => UnparsedPublicKey::new(algorithm, k.to_encoded_point(false))
                .verify(message, signature)
                .map_err(bad),
            PublicKey::P521(k) => UnparsedPublicKey::new(algorithm, k.to_encoded_point(false))
                .verify(message, signature)
                .map_err(bad),
            PublicKey::Ed25519(k) => UnparsedPublicKey::new(algorithm, k.as_bytes())
                .verify(message, signature)
                .map_err(bad),
        }
    }
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key held by aws-lc (loaded from PKCS#8). Like [`SoftwareKey`], it lives in
/// process memory: for development keystores, device keys and tests; production DS keys are in
/// an HSM.
pub struct AwsLcSigner {
    alg: Algorithm,
    pair: Pair,
    public: PublicKey,
    rng: SystemRandom,
}

impl core::fmt::Debug for AwsLcSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.debug_struct("AwsLcSigner")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl AwsLcSigner {
    /// Loads a PKCS#8 private key for `alg`.
    pub fn from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<Self> {
        let bad = |e: aws_lc_rs::error::KeyRejected| Error::InvalidKey(format!("PKCS#8: {e}"));
        let signing = match alg {
            Algorithm::Es256 => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            Algorithm::Es384 => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            Algorithm::Es512 => Some(&signature::ECDSA_P521_SHA512_FIXED_SIGNING),
            Algorithm::EdDsa => None,
        };
        let pair = match signing {
            Some(s) => Pair::Ecdsa(EcdsaKeyPair::from_pkcs8(s, der).map_err(bad)?),
            None => Pair::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(bad)?),
        };
        let raw = match &pair {
            Pair::Ecdsa(p) => p.public_key().as_ref().to_vec(),
            Pair::Ed25519(p) => p.public_key().as_ref().to_vec(),
        };
        let public = PublicKey::from_sec1(curve_of(alg), &raw)?;
        Ok(AwsLcSigner {
            alg,
            pair,
            public,
            rng: SystemRandom::new(),
        })
    }

    /// The same key as a software key, moved into aws-lc.
    pub fn from_software(key: &SoftwareKey) -> Result<Self> {
        Self::from_pkcs8(key.algorithm(), &key.to_pkcs8_der()?)
    }
}

fn curve_of(alg: Algorithm) -> Curve {
    match alg {
        Algorithm::Es256 => Curve::P256,
        Algorithm::Es384 => Curve::P384,
        Algorithm::Es512 => Curve::P521,
        Algorithm::EdDsa => Curve::Ed25519,
    }
}

impl Signer for AwsLcSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn public_key(&self) -> Result<PublicKey> {
        Ok(self.public.clone())
    }

    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>> {
        match &self.pair {
            Pair::Ecdsa(p) => p
                .sign(&self.rng, tbs)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::Signer("aws-lc ECDSA signing failed".into())),
            Pair::Ed25519(p) => Ok(p.sign(tbs).as_ref().to_vec()),
        }
    }
}
