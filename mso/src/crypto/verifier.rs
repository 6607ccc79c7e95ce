//! The verification seam and the software verifier.

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
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

/// The checks every [`Verifier`] makes before the arithmetic, so backends refuse the same inputs
/// the same way (each backend calls it first):
///
/// - `key` is of `alg`'s curve, and `signature` has `alg`'s fixed length;
/// - ECDSA: `r` and `s` are in `[1, n-1]` (high `s` is valid ECDSA and accepted, as COSE does);
/// - EdDSA: `S` is reduced (`S < L`), and neither the key nor `R` is a point of small order:
///   with such a key a cofactorless check (aws-lc's) accepts forged signatures, which
///   `ed25519-dalek`'s `verify_strict` refuses. Checked here once, for both.
///
/// Out-of-range values are [`Error::MalformedSignature`], a small-order key
/// [`Error::InvalidKey`].
pub fn check_signature_input(alg: Algorithm, key: &PublicKey, signature: &[u8]) -> Result<()> {
    key.check_algorithm(alg)?;
    if signature.len() != alg.signature_len() {
        return Err(Error::MalformedSignature(format!(
            "{alg} signature must be {} bytes, found {}",
            alg.signature_len(),
            signature.len()
        )));
    }
    let out_of_range = || Error::MalformedSignature(format!("{alg} signature out of range"));
    // RustCrypto's signature types hold the range rule (non-zero scalars below the order).
    match key {
        PublicKey::P256(_) => {
            p256::ecdsa::Signature::from_slice(signature).map_err(|_| out_of_range())?;
        }
        PublicKey::P384(_) => {
            p384::ecdsa::Signature::from_slice(signature).map_err(|_| out_of_range())?;
        }
        PublicKey::P521(_) => {
            p521::ecdsa::Signature::from_slice(signature).map_err(|_| out_of_range())?;
        }
        PublicKey::Ed25519(k) => {
            if k.is_weak() {
                return Err(Error::InvalidKey("Ed25519 key of small order".into()));
            }
            let (r, s) = signature.split_at(32);
            let s: [u8; 32] = s.try_into().map_err(|_| out_of_range())?;
            if bool::from(Scalar::from_canonical_bytes(s).is_none()) {
                return Err(out_of_range());
            }
            let r: [u8; 32] = r.try_into().map_err(|_| out_of_range())?;
            // An R that does not decode is left to the arithmetic, which refuses it either way.
            if CompressedEdwardsY(r)
                .decompress()
                .is_some_and(|p| p.is_small_order())
            {
                return Err(Error::MalformedSignature(
                    "EdDSA signature R of small order".into(),
                ));
            }
        }
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
