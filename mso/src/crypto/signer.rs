//! The signing seam and the software key.

use ecdsa::signature::Signer as _;
use rand_core::{CryptoRngCore, OsRng};
use zeroize::Zeroizing;

use super::{Algorithm, PublicKey};
use crate::error::{Error, Result};

/// Something that signs COSE to-be-signed bytes: a software key, a PKCS#11 object, a remote
/// signing service.
///
/// `sign` receives the complete `Sig_structure` bytes and returns the raw COSE signature
/// (`r ‖ s` for ECDSA, fixed size), never DER.
pub trait Signer: Send + Sync {
    /// The algorithm every signature from this signer uses.
    fn algorithm(&self) -> Algorithm;
    /// The public key, so callers can check it against a certificate.
    fn public_key(&self) -> Result<PublicKey>;
    /// Signs `tbs`.
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>>;
}

/// A private key held in process memory. Zeroized on drop by the underlying key types.
///
/// Suitable for device keys in tests and for development keystores; production issuer keys
/// belong in an HSM behind the same [`Signer`] trait.
#[derive(Clone)]
pub enum SoftwareKey {
    /// P-256 / ES256.
    P256(p256::ecdsa::SigningKey),
    /// P-384 / ES384.
    P384(p384::ecdsa::SigningKey),
    /// P-521 / ES512.
    P521(p521::ecdsa::SigningKey),
    /// Ed25519 / EdDSA.
    Ed25519(ed25519_dalek::SigningKey),
}

impl core::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        write!(f, "SoftwareKey({})", self.algorithm())
    }
}

impl SoftwareKey {
    /// Generates a fresh key for `alg` from the OS random source.
    pub fn generate(alg: Algorithm) -> Self {
        Self::generate_with(alg, &mut OsRng)
    }

    /// Generates a fresh key for `alg` from `rng`.
    pub fn generate_with(alg: Algorithm, rng: &mut impl CryptoRngCore) -> Self {
        match alg {
            Algorithm::Es256 => SoftwareKey::P256(p256::ecdsa::SigningKey::random(rng)),
            Algorithm::Es384 => SoftwareKey::P384(p384::ecdsa::SigningKey::random(rng)),
            Algorithm::Es512 => SoftwareKey::P521(p521::ecdsa::SigningKey::random(rng)),
            Algorithm::EdDsa => SoftwareKey::Ed25519(ed25519_dalek::SigningKey::generate(rng)),
        }
    }

    /// Reads a PKCS#8 DER private key (EC on P-256/384/521, or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        use p256::pkcs8::DecodePrivateKey;
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(SoftwareKey::P256(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
            return Ok(SoftwareKey::P384(k.into()));
        }
        if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            let signing = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                .map_err(|_| Error::InvalidKey("P-521 scalar".into()))?;
            return Ok(SoftwareKey::P521(signing));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(SoftwareKey::Ed25519(k));
        }
        Err(Error::InvalidKey(
            "not a PKCS#8 P-256, P-384, P-521 or Ed25519 private key".into(),
        ))
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        let (label, der) = der::pem::decode_vec(pem.as_bytes())
            .map_err(|e| Error::InvalidKey(format!("PEM: {e}")))?;
        let der = Zeroizing::new(der);
        if label != "PRIVATE KEY" {
            return Err(Error::InvalidKey(format!(
                "PEM label {label:?}, expected PRIVATE KEY"
            )));
        }
        Self::from_pkcs8_der(&der)
    }

    /// Writes the key as PKCS#8 DER (for a keystore file; the buffer zeroizes on drop).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        use p256::pkcs8::EncodePrivateKey;
        let doc = match self {
            SoftwareKey::P256(k) => p256::SecretKey::from(k.as_nonzero_scalar()).to_pkcs8_der(),
            SoftwareKey::P384(k) => p384::SecretKey::from(k.as_nonzero_scalar()).to_pkcs8_der(),
            SoftwareKey::P521(k) => p521::SecretKey::from_bytes(&k.to_bytes())
                .map_err(|_| Error::InvalidKey("P-521 scalar".into()))?
                .to_pkcs8_der(),
            SoftwareKey::Ed25519(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| Error::InvalidKey(format!("PKCS#8 encoding: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The private scalar of a P-256 key, for ECDH (device MAC keys, session keys).
    pub fn p256_secret(&self) -> Option<p256::SecretKey> {
        match self {
            SoftwareKey::P256(k) => Some(p256::SecretKey::from(k.as_nonzero_scalar())),
            _ => None,
        }
    }
}

impl Signer for SoftwareKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            SoftwareKey::P256(_) => Algorithm::Es256,
            SoftwareKey::P384(_) => Algorithm::Es384,
            SoftwareKey::P521(_) => Algorithm::Es512,
            SoftwareKey::Ed25519(_) => Algorithm::EdDsa,
        }
    }

    fn public_key(&self) -> Result<PublicKey> {
        Ok(match self {
            SoftwareKey::P256(k) => PublicKey::P256(k.verifying_key().into()),
            SoftwareKey::P384(k) => PublicKey::P384(k.verifying_key().into()),
            SoftwareKey::P521(k) => {
                let secret = p521::SecretKey::from_bytes(&k.to_bytes())
                    .map_err(|_| Error::InvalidKey("P-521 scalar".into()))?;
                PublicKey::P521(secret.public_key())
            }
            SoftwareKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        })
    }

    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>> {
        Ok(match self {
            SoftwareKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(tbs).map_err(signer_err)?;
                sig.to_bytes().to_vec()
            }
            SoftwareKey::P384(k) => {
                let sig: p384::ecdsa::Signature = k.try_sign(tbs).map_err(signer_err)?;
                sig.to_bytes().to_vec()
            }
            SoftwareKey::P521(k) => {
                let sig: p521::ecdsa::Signature = k.try_sign(tbs).map_err(signer_err)?;
                sig.to_bytes().to_vec()
            }
            SoftwareKey::Ed25519(k) => k.try_sign(tbs).map_err(signer_err)?.to_bytes().to_vec(),
        })
    }
}

fn signer_err(e: ecdsa::Error) -> Error {
    Error::Signer(e.to_string())
}
