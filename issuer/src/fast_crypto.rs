//! The server's signature backend: aws-lc-rs behind `mso`'s [`Signer`] / [`Verifier`] seam.
//!
//! `mso` uses the pure-Rust RustCrypto backend so it compiles for phones; the issuer signs and
//! verifies at server rates, where aws-lc's assembly is several times faster (measured by
//! `issuer-load` and the `crypto_backends` bench). Both produce and accept the same COSE
//! signatures (raw `r ‖ s`), so either side can check the other's output — the tests do.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use mso::crypto::{check_signature_input, Algorithm, PublicKey, Signer, SoftwareKey, Verifier};
use mso::{Error, Result};

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
        UnparsedPublicKey::new(verification_algorithm(alg), key.to_sec1())
            .verify(message, signature)
            .map_err(|_| Error::BadSignature)
    }
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key held by aws-lc (loaded from PKCS#8). Like [`SoftwareKey`], it lives in
/// process memory: for the development keystore and tests; production DS keys are in an HSM.
pub struct AwsLcSigner {
    alg: Algorithm,
    pair: Pair,
    public: PublicKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for AwsLcSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

fn curve_of(alg: Algorithm) -> mso::crypto::Curve {
    use mso::crypto::Curve;
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
