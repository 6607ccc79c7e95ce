//! A throwaway reader authentication PKI (ISO 18013-5 Annex B, Table B.7): a reader CA root
//! (P-256) and one reader certificate with extendedKeyUsage 1.0.18013.5.1.6 (mdlReaderAuth).

use mso::crypto::{Algorithm, SoftwareKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
};
use time::macros::datetime;

use crate::pki::{random_serial, rcgen_key};

/// A reader CA root and one reader authentication certificate with their keys.
pub struct ReaderPki {
    /// The reader CA root certificate (DER): the wallet's reader trust anchor.
    pub root_der: Vec<u8>,
    /// The reader authentication certificate (DER).
    pub reader_der: Vec<u8>,
    /// The reader authentication private key.
    pub reader_key: SoftwareKey,
}

impl Default for ReaderPki {
    fn default() -> Self {
        Self::new("Test Reader")
    }
}

impl ReaderPki {
    /// A fresh root and a reader certificate whose subject CN is `reader_name`, valid
    /// 2025-01-01 to 2030-01-01.
    pub fn new(reader_name: &str) -> Self {
        Self::build(reader_name, true)
    }

    /// Like [`ReaderPki::new`], with a reader certificate that lacks the mdlReaderAuth EKU
    /// (a certificate its CA issued for something else).
    pub fn without_reader_eku(reader_name: &str) -> Self {
        Self::build(reader_name, false)
    }

    fn build(reader_name: &str, reader_eku: bool) -> Self {
        let root_soft = SoftwareKey::generate(Algorithm::Es256);
        let root_key = rcgen_key(&root_soft);
        let mut root = CertificateParams::default();
        root.distinguished_name = rcgen::DistinguishedName::new();
        root.distinguished_name
            .push(DnType::CommonName, "Test Reader CA");
        root.not_before = datetime!(2025-01-01 00:00:00 UTC);
        root.not_after = datetime!(2030-01-01 00:00:00 UTC);
        root.serial_number = Some(random_serial());
        root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root_cert = root.self_signed(&root_key).unwrap();

        let reader_key = SoftwareKey::generate(Algorithm::Es256);
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name
            .push(DnType::CommonName, reader_name);
        leaf.not_before = datetime!(2025-01-01 00:00:00 UTC);
        leaf.not_after = datetime!(2030-01-01 00:00:00 UTC);
        leaf.serial_number = Some(random_serial());
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = if reader_eku {
            vec![ExtendedKeyUsagePurpose::Other(vec![1, 0, 18013, 5, 1, 6])]
        } else {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        };
        let reader_cert = leaf
            .signed_by(&rcgen_key(&reader_key), &root_cert, &root_key)
            .unwrap();
        ReaderPki {
            root_der: root_cert.der().to_vec(),
            reader_der: reader_cert.der().to_vec(),
            reader_key,
        }
    }
}
