//! PKCS#10 certificate requests from Document Signers (CPS §4.3.1): parsing (DER or PEM, size
//! bounded), proof of possession (the request's signature verifies with its own key, §3.2.1.3)
//! and public key validation (allowed curve, on the curve, not the identity, not blocked).
//!
//! Only the subject and the key are taken from a request; requested extensions and other
//! attributes are ignored: the CA alone decides what a DS certificate contains.

use der::{Decode, Encode};
use mso::crypto::{Curve, PublicKey};
use mso::x509::{oid, signature, spki as x509_spki};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

/// Default largest request accepted, DER or PEM (a P-521 request is well under 1 KiB).
pub const DEFAULT_MAX_CSR_LEN: usize = 16 * 1024;

/// What a request must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrPolicy {
    /// Largest input accepted, in bytes (DER or PEM).
    pub max_len: usize,
    /// Curves a DS key may be on (default P-256, P-384, P-521).
    pub allowed_curves: Vec<Curve>,
    /// SHA-256 digests of DER SubjectPublicKeyInfos that must never be certified (known weak or
    /// compromised keys, keys already certified elsewhere, ...).
    pub blocked_spki_sha256: Vec<[u8; 32]>,
}

impl Default for CsrPolicy {
    fn default() -> Self {
        CsrPolicy {
            max_len: DEFAULT_MAX_CSR_LEN,
            allowed_curves: vec![Curve::P256, Curve::P384, Curve::P521],
            blocked_spki_sha256: Vec::new(),
        }
    }
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedCsr {
    /// The requested subject DN (its C and ST are checked against the IACA when certifying).
    pub subject: Name,
    /// The validated public key.
    pub public_key: PublicKey,
    /// The key's SubjectPublicKeyInfo in canonical DER (named curve, uncompressed point): what
    /// the certificate will carry.
    pub spki_der: Vec<u8>,
    /// SHA-256 of `spki_der`, to recognise a key (e.g. refuse to certify one twice).
    pub spki_sha256: [u8; 32],
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    /// The input is larger than the policy allows.
    #[error("request of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a PKCS#10 request (bad PEM, bad DER, trailing data, not DER-canonical, ...).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The request is signed with an algorithm other than ECDSA with SHA-2 or Ed25519.
    #[error("unsupported request signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// The signature does not verify with the request's key: no proof of possession.
    #[error("request signature does not verify (no proof of possession): {0}")]
    BadSignature(String),
    /// The key is not an EC or Ed25519 key.
    #[error("unsupported public key algorithm {0}")]
    UnsupportedKeyAlgorithm(String),
    /// The key is on a curve the policy does not allow.
    #[error("unsupported curve {0}")]
    UnsupportedCurve(String),
    /// The key is not a valid point on its curve (or is the identity).
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// The key is on the policy's block list.
    #[error("the public key is blocked by policy")]
    BlockedKey,
    /// The request has an empty subject DN.
    #[error("the request has an empty subject")]
    EmptySubject,
}

/// Decodes PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or takes DER as is.
fn to_der(input: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, CsrError> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace());
    let end = input.iter().rposition(|b| !b.is_ascii_whitespace());
    let trimmed = match (start, end) {
        (Some(s), Some(e)) => input.get(s..=e).unwrap_or_default(),
        _ => &[],
    };
    if !trimmed.starts_with(b"-----BEGIN") {
        return Ok(std::borrow::Cow::Borrowed(input));
    }
    let (label, der) =
        der::pem::decode_vec(trimmed).map_err(|e| CsrError::Malformed(format!("PEM: {e}")))?;
    if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
        return Err(CsrError::Malformed(format!(
            "PEM label {label:?}, expected CERTIFICATE REQUEST"
        )));
    }
    Ok(std::borrow::Cow::Owned(der))
}

/// Parses and validates a PKCS#10 request (DER, or PEM `CERTIFICATE REQUEST`).
pub fn parse_csr(input: &[u8], policy: &CsrPolicy) -> Result<ValidatedCsr, CsrError> {
    if input.len() > policy.max_len {
        return Err(CsrError::TooLarge {
            size: input.len(),
            limit: policy.max_len,
        });
    }
    let der = to_der(input)?;
    let req = CertReq::from_der(&der).map_err(|e| CsrError::Malformed(e.to_string()))?;
    // The signature covers the CertificationRequestInfo bytes as received; requiring a
    // canonical encoding lets us re-encode them exactly.
    if req.to_der().ok().as_deref() != Some(der.as_ref()) {
        return Err(CsrError::Malformed("not DER-canonical".into()));
    }
    let info_der = req
        .info
        .to_der()
        .map_err(|e| CsrError::Malformed(e.to_string()))?;

    // The key: algorithm and curve first, for precise errors, then full validation.
    let spki_der_in = req
        .info
        .public_key
        .to_der()
        .map_err(|e| CsrError::Malformed(e.to_string()))?;
    let spki = SubjectPublicKeyInfoRef::from_der(&spki_der_in)
        .map_err(|e| CsrError::Malformed(e.to_string()))?;
    let alg = &spki.algorithm;
    let curve = if alg.oid == oid::EC_PUBLIC_KEY {
        let named: der::asn1::ObjectIdentifier = alg
            .parameters
            .as_ref()
            .ok_or_else(|| CsrError::InvalidKey("EC key without a named curve".into()))?
            .decode_as()
            .map_err(|_| {
                CsrError::UnsupportedCurve("explicit curve parameters (only named curves)".into())
            })?;
        x509_spki::curve_from_oid(&named)
            .ok_or_else(|| CsrError::UnsupportedCurve(x509_spki::curve_name(&named)))?
    } else if alg.oid == oid::ED25519 {
        Curve::Ed25519
    } else {
        return Err(CsrError::UnsupportedKeyAlgorithm(alg.oid.to_string()));
    };
    if !policy.allowed_curves.contains(&curve) {
        return Err(CsrError::UnsupportedCurve(curve.name().into()));
    }
    let public_key = x509_spki::decode(&spki).map_err(|e| CsrError::InvalidKey(e.to_string()))?;

    // Proof of possession.
    let sig_oid = req.algorithm.oid;
    if signature::algorithm_from_oid(&sig_oid).is_none() {
        return Err(CsrError::UnsupportedSignatureAlgorithm(sig_oid.to_string()));
    }
    if curve == Curve::P521 && sig_oid == oid::ECDSA_WITH_SHA256 {
        // A 256-bit digest is shorter than half of P-521's 521-bit order, which the ECDSA
        // backend (RustCrypto `ecdsa`) refuses; say so instead of "bad signature".
        return Err(CsrError::UnsupportedSignatureAlgorithm(
            "ecdsa-with-SHA256 on a P-521 key (sign the request with SHA-384 or SHA-512)".into(),
        ));
    }
    let signature = req
        .signature
        .as_bytes()
        .ok_or_else(|| CsrError::BadSignature("signature BIT STRING has unused bits".into()))?;
    mso::x509::verify_x509_signature(&public_key, &sig_oid, &info_der, signature)
        .map_err(|e| CsrError::BadSignature(e.to_string()))?;

    if req.info.subject.0.is_empty() {
        return Err(CsrError::EmptySubject);
    }
    let spki_der = x509_spki::encode(&public_key)
        .map_err(|e| CsrError::InvalidKey(e.to_string()))?
        .to_der()
        .map_err(|e| CsrError::InvalidKey(e.to_string()))?;
    let spki_sha256: [u8; 32] = Sha256::digest(&spki_der).into();
    if policy.blocked_spki_sha256.contains(&spki_sha256) {
        return Err(CsrError::BlockedKey);
    }
    Ok(ValidatedCsr {
        subject: req.info.subject,
        public_key,
        spki_der,
        spki_sha256,
    })
}
