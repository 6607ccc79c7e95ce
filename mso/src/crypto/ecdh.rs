//! ECDH and HKDF for the keys 18013-5 derives from the session: EMacKey (deviceMac) and the
//! session encryption keys SKReader / SKDevice.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::PublicKey;
use crate::error::{Error, Result};

/// An ephemeral or static private key usable for ECDH.
#[derive(Clone)]
pub enum AgreementKey {
    /// P-256 scalar.
    P256(p256::SecretKey),
    /// P-384 scalar.
    P384(p384::SecretKey),
}

impl core::fmt::Debug for AgreementKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AgreementKey(..)")
    }
}

impl AgreementKey {
    /// Reads a PEM `PRIVATE KEY` (PKCS#8) on P-256 or P-384.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        use p256::pkcs8::DecodePrivateKey;
        if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Ok(AgreementKey::P256(k));
        }
        p384::SecretKey::from_pkcs8_pem(pem)
            .map(AgreementKey::P384)
            .map_err(|_| Error::InvalidKey("not a P-256 or P-384 PKCS#8 private key".into()))
    }

    /// Reads a raw private scalar for `curve`.
    pub fn from_scalar(curve: super::Curve, d: &[u8]) -> Result<Self> {
        let bad = || Error::InvalidKey("private scalar out of range".into());
        match curve {
            super::Curve::P256 => p256::SecretKey::from_slice(d)
                .map(AgreementKey::P256)
                .map_err(|_| bad()),
            super::Curve::P384 => p384::SecretKey::from_slice(d)
                .map(AgreementKey::P384)
                .map_err(|_| bad()),
            other => Err(Error::UnsupportedAlgorithm(format!(
                "ECDH on {}",
                other.name()
            ))),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            AgreementKey::P256(k) => PublicKey::P256(k.public_key()),
            AgreementKey::P384(k) => PublicKey::P384(k.public_key()),
        }
    }

    /// ECDH with `peer`; the shared secret is the x-coordinate.
    pub fn shared_secret(&self, peer: &PublicKey) -> Result<Zeroizing<Vec<u8>>> {
        match (self, peer) {
            (AgreementKey::P256(k), PublicKey::P256(p)) => {
                let s = p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine());
                Ok(Zeroizing::new(s.raw_secret_bytes().to_vec()))
            }
            (AgreementKey::P384(k), PublicKey::P384(p)) => {
                let s = p384::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine());
                Ok(Zeroizing::new(s.raw_secret_bytes().to_vec()))
            }
            _ => Err(Error::InvalidKey(
                "ECDH keys are on different curves".into(),
            )),
        }
    }
}

/// HKDF-SHA256 with `salt = SHA-256(session_transcript_bytes)` as 18013-5 §9.1.1.5 and §9.1.3.5
/// define it, returning `len` bytes.
pub fn derive_session_key(
    shared_secret: &[u8],
    session_transcript_bytes: &[u8],
    info: &[u8],
) -> Zeroizing<[u8; 32]> {
    let salt = Sha256::digest(session_transcript_bytes);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared_secret);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let _ = hk.expand(info, out.as_mut());
    out
}
