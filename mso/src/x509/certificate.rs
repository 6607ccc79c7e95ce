//! A parsed X.509 certificate with its DER bytes, and the accessors the mdoc checks read.

use std::sync::OnceLock;

use der::{Decode, DecodePem, Encode};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::TbsCertificate;

use super::{name, oid, signature, spki, time::to_datetime};
use crate::crypto::{PublicKey, Verifier};
use crate::error::{Error, Result};

/// Largest certificate accepted (Annex B certificates are well under 2 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;

/// A parsed certificate with its DER bytes. Two certificates are equal when their DER is.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    /// SHA-256 of `der`, computed on first use: trust anchors key their memory by it, several
    /// times per verification.
    fingerprint: OnceLock<[u8; 32]>,
    /// The decoded subject public key, computed on first use: a remembered DS certificate
    /// ([`super::TrustAnchors::leaf`]) then verifies many documents without decoding it again.
    public_key: OnceLock<Result<PublicKey>>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        // The parsed form, the fingerprint and the key are all functions of the DER.
        self.der == other.der
    }
}

impl Eq for Certificate {}

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
        Ok(Certificate::new(der.to_vec(), cert))
    }

    fn new(der: Vec<u8>, cert: x509_cert::Certificate) -> Self {
        Certificate {
            der,
            cert,
            fingerprint: OnceLock::new(),
            public_key: OnceLock::new(),
        }
    }

    /// Parses one PEM `CERTIFICATE`.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let cert = x509_cert::Certificate::from_pem(pem.as_bytes()).map_err(cert_err)?;
        let der = cert.to_der().map_err(cert_err)?;
        Ok(Certificate::new(der, cert))
    }

    /// Parses a certificate given as DER or as one PEM `CERTIFICATE` block (what apps and
    /// operators hand over), size-bounded.
    pub fn from_der_or_pem(input: &[u8]) -> Result<Self> {
        let trimmed = input.trim_ascii_start();
        if !trimmed.starts_with(b"-----BEGIN") {
            return Certificate::from_der(input);
        }
        // Base64 is 4/3 of the DER, plus line breaks and armour.
        let limit = MAX_CERT_LEN * 2;
        if input.len() > limit {
            return Err(Error::TooLarge {
                size: input.len(),
                limit,
            });
        }
        let pem = core::str::from_utf8(input)
            .map_err(|_| Error::Certificate("PEM is not UTF-8".into()))?;
        Certificate::from_pem(pem)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 of the DER encoding, computed once per value.
    pub fn sha256(&self) -> [u8; 32] {
        *self
            .fingerprint
            .get_or_init(|| Sha256::digest(&self.der).into())
    }

    /// The parsed structure.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// The TBSCertificate.
    pub fn tbs(&self) -> &TbsCertificate {
        &self.cert.tbs_certificate
    }

    /// The issuer DN.
    pub fn issuer(&self) -> &Name {
        &self.cert.tbs_certificate.issuer
    }

    /// The subject DN.
    pub fn subject(&self) -> &Name {
        &self.cert.tbs_certificate.subject
    }

    /// Whether issuer and subject are the same DN (a root, or a link certificate across a key
    /// rollover).
    pub fn is_self_issued(&self) -> bool {
        self.issuer() == self.subject()
    }

    /// The subject public key, validated (decoded once per value).
    pub fn public_key(&self) -> Result<PublicKey> {
        self.public_key
            .get_or_init(|| spki::decode_owned(&self.cert.tbs_certificate.subject_public_key_info))
            .clone()
    }

    /// notBefore.
    pub fn not_before(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate.validity.not_before)
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate.validity.not_after)
    }

    /// Subject countryName.
    pub fn country(&self) -> Option<String> {
        name::first_text(self.subject(), oid::COUNTRY_NAME).map(str::to_owned)
    }

    /// Subject stateOrProvinceName.
    pub fn state_or_province(&self) -> Option<String> {
        name::first_text(self.subject(), oid::STATE_OR_PROVINCE_NAME).map(str::to_owned)
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

    /// The URIs of the cRLDistributionPoints extension (full names only), in order; empty when
    /// the extension is absent. A present but undecodable extension is an error.
    pub fn crl_distribution_uris(&self) -> Result<Vec<String>> {
        let Some((_, CrlDistributionPoints(points))) = self
            .cert
            .tbs_certificate
            .get::<CrlDistributionPoints>()
            .map_err(cert_err)?
        else {
            return Ok(Vec::new());
        };
        let mut uris = Vec::new();
        for point in points {
            if let Some(DistributionPointName::FullName(names)) = point.distribution_point {
                uris.extend(names.into_iter().filter_map(|n| match n {
                    GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                    _ => None,
                }));
            }
        }
        Ok(uris)
    }

    /// The dNSName entries of the subjectAltName extension, in order; empty when the extension is
    /// absent. A present but undecodable extension is an error. (OpenID4VP `x509_san_dns`.)
    pub fn san_dns_names(&self) -> Result<Vec<String>> {
        let Some((_, SubjectAltName(names))) = self
            .cert
            .tbs_certificate
            .get::<SubjectAltName>()
            .map_err(cert_err)?
        else {
            return Ok(Vec::new());
        };
        Ok(names
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect())
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
        signature::verify_x509_signature_with(
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
