//! The verification seam and the software verifier.

use ecdsa::signature::Verifier as _;

use super::{Algorithm, PublicKey};
use crate::error::{Error, Result};

/// Checks a COSE signature (raw `r ‖ s` for ECDSA) over `message`.
///
/// A platform backend (e.g. a hardware-accelerated library) implements this; the software
/// backend is [`SoftwareVerifier`].
pub trait Verifier: Send + Sync {
    /// Returns `Ok(())` only for a valid signature by `key` under `alg`.
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()>;
}

/// The checks every [`Verifier`] makes before the arithmetic: `key` is of `alg`'s curve and
/// `signature` has `alg`'s fixed length. Backends call it so they refuse the same inputs the same
/// way.
pub fn check_signature_input(alg: Algorithm, key: &PublicKey, signature: &[u8]) -> Result<()> {
    key.check_algorithm(alg)?;
    if signature.len() != alg.signature_len() {
        return Err(Error::MalformedSignature(format!(
            "{alg} signature must be {} bytes, found {}",
            alg.signature_len(),
            signature.len()
        )));
    }
    Ok(())
}

/// The pure-Rust verifier (RustCrypto `p256`/`p384`/`p521`, `ed25519-dalek`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftwareVerifier;

impl Verifier for SoftwareVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        check_signature_input(alg, key, signature)?;
        let malformed = |_| Error::MalformedSignature(format!("{alg} signature out of range"));
        let ok = match key {
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(malformed)?;
                p256::ecdsa::VerifyingKey::from(k)
                    .verify(message, &sig)
                    .is_ok()
            }
            PublicKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_slice(signature).map_err(malformed)?;
                p384::ecdsa::VerifyingKey::from(k)
                    .verify(message, &sig)
                    .is_ok()
            }
            PublicKey::P521(k) => {
                let sig = p521::ecdsa::Signature::from_slice(signature).map_err(malformed)?;
                let vk = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                    .map_err(|_| Error::InvalidKey("P-521 point".into()))?;
                vk.verify(message, &sig).is_ok()
            }
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| Error::MalformedSignature("Ed25519 signature".into()))?;
                k.verify_strict(message, &sig).is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }
}
