//! A throwaway OpenID4VP verifier PKI: a relying-party CA root (P-256) and one verifier
//! (access) certificate with dNSName SANs, whose key signs request objects.

use mso::crypto::{Algorithm, SoftwareKey};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyUsagePurpose, SanType};
use time::OffsetDateTime;

use crate::pki::{random_serial, rcgen_key};

/// A verifier CA root and one verifier certificate with their keys.
pub struct VerifierPki {
    /// The verifier CA root (DER): the wallet's verifier trust anchor.
    pub root_der: Vec<u8>,
    /// The verifier certificate (DER).
    pub leaf_der: Vec<u8>,
    /// The verifier certificate's private key (signs request objects).
    pub leaf_key: SoftwareKey,
}

impl VerifierPki {
    /// A fresh root and a verifier certificate for `dns_names` (subject CN the first name),
    /// both valid from `not_before` to `not_after`.
    pub fn new(dns_names: &[&str], not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        let root_soft = SoftwareKey::generate(Algorithm::Es256);
        let root_key = rcgen_key(&root_soft);
        let mut root = CertificateParams::default();
        root.distinguished_name = rcgen::DistinguishedName::new();
        root.distinguished_name
            .push(DnType::CommonName, "Test Verifier CA");
        root.not_before = not_before;
        root.not_after = not_after;
        root.serial_number = Some(random_serial());
        root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root_cert = root.self_signed(&root_key).unwrap();

        let leaf_key = SoftwareKey::generate(Algorithm::Es256);
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name.push(
            DnType::CommonName,
            dns_names.first().copied().unwrap_or("verifier"),
        );
        leaf.not_before = not_before;
        leaf.not_after = not_after;
        leaf.serial_number = Some(random_serial());
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.subject_alt_names = dns_names
            .iter()
            .map(|d| SanType::DnsName((*d).try_into().unwrap()))
            .collect();
        let leaf_cert = leaf
            .signed_by(&rcgen_key(&leaf_key), &root_cert, &root_key)
            .unwrap();
        VerifierPki {
            root_der: root_cert.der().to_vec(),
            leaf_der: leaf_cert.der().to_vec(),
            leaf_key,
        }
    }
}
