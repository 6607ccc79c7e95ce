//! The X.509 certificates an mdoc carries: reading a DS certificate out of x5chain, its key,
//! validity and subject country/state, and the one-step signature check DS ← IACA.
//!
//! Full Annex B profile validation and CRL handling build on this module.

use der::{Decode, DecodePem, Encode};
use ecdsa::signature::hazmat::PrehashVerifier;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};

use crate::crypto::{DigestAlgorithm, PublicKey, Verifier};
use crate::error::{Error, Result};

const OID_COUNTRY: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_STATE: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.8");
const ECDSA_SHA256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");

/// Largest certificate accepted (Annex B certificates are well under 2 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;

/// A parsed certificate with its DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
}

fn cert_err(e: impl core::fmt::Display) -> Error {
    Error::Certificate(e.to_string())
}

impl Certificate {
    /// Parses DER, refusing oversized input and trailing bytes.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if der.len() > MAX_CERT_LEN {
            return Err(Error::TooLarge {
                size: der.len(),
                limit: MAX_CERT_LEN,
            });
        }
        let cert = x509_cert::Certificate::from_der(der).map_err(cert_err)?;
        Ok(Certificate {
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses one PEM `CERTIFICATE`.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let cert = x509_cert::Certificate::from_pem(pem.as_bytes()).map_err(cert_err)?;
        let der = cert.to_der().map_err(cert_err)?;
        Ok(Certificate { der, cert })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed structure.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// The subject public key, validated.
    pub fn public_key(&self) -> Result<PublicKey> {
        let spki_der = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(cert_err)?;
        let spki = spki::SubjectPublicKeyInfoRef::from_der(&spki_der).map_err(cert_err)?;
        PublicKey::from_spki(&spki)
    }

    /// notBefore.
    pub fn not_before(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate.validity.not_before)
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate.validity.not_after)
    }

    fn subject_attr(&self, oid: der::asn1::ObjectIdentifier) -> Option<String> {
        self.cert
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|atv| atv.oid == oid)
            .and_then(|atv| {
                core::str::from_utf8(atv.value.value())
                    .ok()
                    .map(str::to_owned)
            })
    }

    /// Subject countryName.
    pub fn country(&self) -> Option<String> {
        self.subject_attr(OID_COUNTRY)
    }

    /// Subject stateOrProvinceName.
    pub fn state_or_province(&self) -> Option<String> {
        self.subject_attr(OID_STATE)
    }

    /// The subjectKeyIdentifier, if present.
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        self.cert
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .map(|(_, ski)| ski.0.as_bytes().to_vec())
    }

    /// The keyIdentifier of authorityKeyIdentifier, if present.
    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        self.cert
            .tbs_certificate
            .get::<AuthorityKeyIdentifier>()
            .ok()
            .flatten()
            .and_then(|(_, aki)| aki.key_identifier.map(|k| k.as_bytes().to_vec()))
    }

    /// The serial number as the DER INTEGER content octets (two's complement, big-endian; a
    /// positive serial with its high bit set keeps its leading zero octet).
    pub fn serial_number(&self) -> &[u8] {
        self.cert.tbs_certificate.serial_number.as_bytes()
    }

    /// The keyUsage extension, if present. A present but undecodable (or duplicated) extension
    /// is an error, never "absent".
    pub fn key_usage(&self) -> Result<Option<KeyUsage>> {
        Ok(self
            .cert
            .tbs_certificate
            .get::<KeyUsage>()
            .map_err(cert_err)?
            .map(|(_, ku)| ku))
    }

    /// The basicConstraints extension, if present (an undecodable one is an error).
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>> {
        Ok(self
            .cert
            .tbs_certificate
            .get::<BasicConstraints>()
            .map_err(cert_err)?
            .map(|(_, bc)| bc))
    }

    /// The key purposes of the extendedKeyUsage extension, if present (an undecodable one is an
    /// error).
    pub fn extended_key_usage(&self) -> Result<Option<Vec<der::asn1::ObjectIdentifier>>> {
        Ok(self
            .cert
            .tbs_certificate
            .get::<ExtendedKeyUsage>()
            .map_err(cert_err)?
            .map(|(_, eku)| eku.0))
    }

    /// The OIDs of the extensions marked critical.
    pub fn critical_extensions(&self) -> impl Iterator<Item = der::asn1::ObjectIdentifier> + '_ {
        self.cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.critical)
            .map(|e| e.extn_id)
    }

    /// Whether the certificate is valid at `at`, allowing `skew` either side.
    pub fn validity_at(&self, at: OffsetDateTime, skew: time::Duration) -> CertValidity {
        if at.saturating_add(skew) < self.not_before() {
            CertValidity::NotYetValid
        } else if at.saturating_sub(skew) > self.not_after() {
            CertValidity::Expired
        } else {
            CertValidity::Valid
        }
    }

    /// Checks that `issuer`'s key signed this certificate, and that the names chain. The
    /// signature goes through `verifier` when its hash is the one the curve pairs with (the
    /// usual case), so a platform backend accelerates chain checks too.
    pub fn verify_issued_by(&self, issuer: &Certificate, verifier: &dyn Verifier) -> Result<()> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(Error::Certificate(
                "issuer name does not match the issuer certificate's subject".into(),
            ));
        }
        if self.cert.signature_algorithm != self.cert.tbs_certificate.signature {
            return Err(Error::Certificate(
                "signatureAlgorithm differs from tbsCertificate.signature".into(),
            ));
        }
        let tbs = self.cert.tbs_certificate.to_der().map_err(cert_err)?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| Error::Certificate("signature BIT STRING has unused bits".into()))?;
        verify_x509_signature_with(
            verifier,
            &issuer.public_key()?,
            &self.cert.signature_algorithm.oid,
            &tbs,
            sig,
        )
    }
}

/// Result of a validity-period check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertValidity {
    /// Inside notBefore..notAfter.
    Valid,
    /// Before notBefore.
    NotYetValid,
    /// After notAfter.
    Expired,
}

pub(crate) fn to_datetime(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = t.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Verifies an X.509 signature through `verifier` when `alg_oid` is the COSE-equivalent
/// algorithm of the key's curve (ecdsa-with-SHA256 on P-256, SHA384 on P-384, SHA512 on P-521,
/// Ed25519), converting the DER signature to its fixed-size form; any other combination is
/// checked in software by [`verify_x509_signature`].
pub fn verify_x509_signature_with(
    verifier: &dyn Verifier,
    key: &PublicKey,
    alg_oid: &der::asn1::ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let malformed = |_| Error::MalformedSignature("DER ECDSA signature".into());
    let raw = match (key, *alg_oid) {
        (PublicKey::P256(_), o) if o == ECDSA_SHA256 => p256::ecdsa::Signature::from_der(signature)
            .map_err(malformed)?
            .to_bytes()
            .to_vec(),
        (PublicKey::P384(_), o) if o == ECDSA_SHA384 => p384::ecdsa::Signature::from_der(signature)
            .map_err(malformed)?
            .to_bytes()
            .to_vec(),
        (PublicKey::P521(_), o) if o == ECDSA_SHA512 => p521::ecdsa::Signature::from_der(signature)
            .map_err(malformed)?
            .to_bytes()
            .to_vec(),
        (PublicKey::Ed25519(_), o) if o == ED25519 => signature.to_vec(),
        _ => return verify_x509_signature(key, alg_oid, message, signature),
    };
    verifier.verify(key.curve().algorithm(), key, message, &raw)
}

/// Verifies an X.509 signature (DER ECDSA or Ed25519) identified by `alg_oid` in software.
pub fn verify_x509_signature(
    key: &PublicKey,
    alg_oid: &der::asn1::ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let hash = match *alg_oid {
        o if o == ECDSA_SHA256 => DigestAlgorithm::Sha256,
        o if o == ECDSA_SHA384 => DigestAlgorithm::Sha384,
        o if o == ECDSA_SHA512 => DigestAlgorithm::Sha512,
        o if o == ED25519 => {
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
        other => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "signature algorithm {other}"
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
