//! X.509 signatures: the signature AlgorithmIdentifiers (RFC 5758, RFC 8410), the conversion
//! between the raw `r ‖ s` form a [`Signer`](crate::crypto::Signer) produces and the DER
//! `ECDSA-Sig-Value` X.509 carries, and verification through a [`Verifier`].

use der::asn1::ObjectIdentifier;
use ecdsa::signature::hazmat::PrehashVerifier;
use spki::AlgorithmIdentifierOwned;

use super::oid;
use crate::crypto::{Algorithm, Curve, DigestAlgorithm, PublicKey, Verifier};
use crate::error::{Error, Result};

/// The signature AlgorithmIdentifier for a COSE algorithm, parameters absent (RFC 5758 §3.2,
/// RFC 8410 §3).
pub fn algorithm_identifier(alg: Algorithm) -> AlgorithmIdentifierOwned {
    let oid = match alg {
        Algorithm::Es256 => oid::ECDSA_WITH_SHA256,
        Algorithm::Es384 => oid::ECDSA_WITH_SHA384,
        Algorithm::Es512 => oid::ECDSA_WITH_SHA512,
        Algorithm::EdDsa => oid::ED25519,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// The COSE algorithm an X.509 signature algorithm OID corresponds to when its hash is the one
/// the curve pairs with (ecdsa-with-SHA256 ↔ ES256, …, Ed25519 ↔ EdDSA); `None` for algorithms
/// this crate does not support.
pub fn algorithm_from_oid(oid: &ObjectIdentifier) -> Option<Algorithm> {
    [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ]
    .into_iter()
    .find(|a| algorithm_identifier(*a).oid == *oid)
}

fn malformed(alg: Algorithm, what: &str) -> Error {
    Error::MalformedSignature(format!("{alg} signature: {what}"))
}

/// Converts a raw signature (`r ‖ s` for ECDSA, as COSE and signers produce it) to the form
/// X.509 carries: a DER `ECDSA-Sig-Value` (RFC 3279), or the 64 bytes unchanged for Ed25519.
/// Refuses a wrong length or an out-of-range `r` or `s`.
pub fn der_from_raw(alg: Algorithm, raw: &[u8]) -> Result<Vec<u8>> {
    if raw.len() != alg.signature_len() {
        return Err(malformed(
            alg,
            &format!("{} bytes, expected {}", raw.len(), alg.signature_len()),
        ));
    }
    let range = |_| malformed(alg, "r or s out of range");
    Ok(match alg {
        Algorithm::Es256 => p256::ecdsa::Signature::from_slice(raw)
            .map_err(range)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Algorithm::Es384 => p384::ecdsa::Signature::from_slice(raw)
            .map_err(range)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Algorithm::Es512 => p521::ecdsa::Signature::from_slice(raw)
            .map_err(range)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Algorithm::EdDsa => raw.to_vec(),
    })
}

/// Converts an X.509 signature on `curve` to the raw form a [`Verifier`] takes (the inverse of
/// [`der_from_raw`]).
pub fn raw_from_der(curve: Curve, der: &[u8]) -> Result<Vec<u8>> {
    let alg = curve.algorithm();
    let bad = |_| malformed(alg, "not a DER ECDSA-Sig-Value");
    Ok(match curve {
        Curve::P256 => p256::ecdsa::Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec(),
        Curve::P384 => p384::ecdsa::Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec(),
        Curve::P521 => p521::ecdsa::Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec(),
        Curve::Ed25519 => der.to_vec(),
    })
}

/// Verifies an X.509 signature through `verifier` when `alg_oid` is the COSE-equivalent
/// algorithm of the key's curve (ecdsa-with-SHA256 on P-256, SHA384 on P-384, SHA512 on P-521,
/// Ed25519), converting the DER signature to its fixed-size form; any other combination is
/// checked in software by [`verify_x509_signature`].
pub fn verify_x509_signature_with(
    verifier: &dyn Verifier,
    key: &PublicKey,
    alg_oid: &ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let curve = key.curve();
    if algorithm_from_oid(alg_oid) != Some(curve.algorithm()) {
        return verify_x509_signature(key, alg_oid, message, signature);
    }
    let raw = raw_from_der(curve, signature)?;
    verifier.verify(curve.algorithm(), key, message, &raw)
}

/// Verifies an X.509 signature (DER ECDSA with any of SHA-256/384/512 on any supported curve,
/// or Ed25519) identified by `alg_oid`, in software.
pub fn verify_x509_signature(
    key: &PublicKey,
    alg_oid: &ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let hash = match algorithm_from_oid(alg_oid) {
        Some(Algorithm::Es256) => DigestAlgorithm::Sha256,
        Some(Algorithm::Es384) => DigestAlgorithm::Sha384,
        Some(Algorithm::Es512) => DigestAlgorithm::Sha512,
        Some(Algorithm::EdDsa) => {
            let PublicKey::Ed25519(k) = key else {
                return Err(Error::AlgorithmMismatch {
                    alg: "Ed25519".into(),
                    key: key.curve().name().into(),
                });
            };
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| Error::MalformedSignature("Ed25519".into()))?;
            return k
                .verify_strict(message, &sig)
                .map_err(|_| Error::BadSignature);
        }
        None => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "signature algorithm {alg_oid}"
            )))
        }
    };
    let prehash = hash.digest(message);
    let malformed = |_| Error::MalformedSignature("DER ECDSA signature".into());
    let ok = match key {
        PublicKey::P256(k) => {
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(malformed)?;
            p256::ecdsa::VerifyingKey::from(k)
                .verify_prehash(&prehash, &sig)
                .is_ok()
        }
        PublicKey::P384(k) => {
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(malformed)?;
            p384::ecdsa::VerifyingKey::from(k)
                .verify_prehash(&prehash, &sig)
                .is_ok()
        }
        PublicKey::P521(k) => {
            let sig = p521::ecdsa::Signature::from_der(signature).map_err(malformed)?;
            let vk = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                .map_err(|_| Error::InvalidKey("P-521 point".into()))?;
            vk.verify_prehash(&prehash, &sig).is_ok()
        }
        PublicKey::Ed25519(_) => {
            return Err(Error::AlgorithmMismatch {
                alg: "ECDSA".into(),
                key: "Ed25519".into(),
            })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}
