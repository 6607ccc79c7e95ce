//! A throwaway test PKI (IACA P-384 → DS P-256) shaped like ISO 18013-5 Annex B, made with
//! rcgen. Shared by the mso tests, the benches and the cross-crate tests.

use mso::crypto::{Algorithm, Signer, SoftwareKey};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DnType, DnValue,
    IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use sha1::{Digest, Sha1};
use time::macros::datetime;
use time::OffsetDateTime;

/// The DS validity used by default: inside it, `TestPki::AT` is a good verification time.
pub const DS_NOT_BEFORE: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
/// End of the default DS validity (456 days later).
pub const DS_NOT_AFTER: OffsetDateTime = datetime!(2027-04-01 00:00:00 UTC);
/// A verification time inside every default validity period.
pub const AT: OffsetDateTime = datetime!(2026-06-01 12:00:00 UTC);

/// A Document Signer certificate that departs from the Annex B profile on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsVariant {
    /// The profile exactly.
    Exact,
    /// No extendedKeyUsage: a certificate the IACA issued for some other purpose.
    NoEku,
    /// An extra critical extension nobody understands (OID 1.3.6.1.4.1.99999.1).
    UnknownCritical,
}

/// An IACA and one DS certificate with their keys.
pub struct TestPki {
    /// The IACA certificate (DER).
    pub iaca_der: Vec<u8>,
    /// The DS certificate (DER).
    pub ds_der: Vec<u8>,
    /// The DS private key.
    pub ds_key: SoftwareKey,
    iaca_cert: rcgen::Certificate,
    iaca_key: KeyPair,
    iaca_ski: Vec<u8>,
}

/// `key` as an rcgen key pair (to sign certificates with rcgen).
pub fn rcgen_key(key: &SoftwareKey) -> KeyPair {
    let der = key.to_pkcs8_der().unwrap();
    KeyPair::try_from(der.as_slice()).unwrap()
}

fn ski(key: &SoftwareKey) -> Vec<u8> {
    // RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents.
    Sha1::digest(key.public_key().unwrap().to_sec1()).to_vec()
}

/// issuerAlternativeName `https://iaca.example.jp`, as the Annex B profiles ask.
pub fn ian() -> CustomExtension {
    // GeneralNames [ uniformResourceIdentifier "https://iaca.example.jp" ]
    let uri = b"https://iaca.example.jp";
    let mut gn = vec![0x86, uri.len() as u8];
    gn.extend_from_slice(uri);
    let mut content = vec![0x30, gn.len() as u8];
    content.extend_from_slice(&gn);
    CustomExtension::from_oid_content(&[2, 5, 29, 18], content)
}

/// A DER TLV with a short-form length (every value here is under 128 bytes).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag, content.len() as u8];
    out.extend_from_slice(content);
    out
}

/// keyUsage digitalSignature, critical, in DER (rcgen writes nine bits with trailing zeros,
/// which is not DER: the Annex B fixture must be exact).
fn ds_key_usage() -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 15], tlv(0x03, &[0x07, 0x80]));
    ext.set_criticality(true);
    ext
}

/// extendedKeyUsage id-mdl-kp-mdlDS (1.0.18013.5.1.2), critical as Annex B lists it.
fn ds_ext_key_usage() -> CustomExtension {
    let oid = tlv(0x06, &[0x28, 0x81, 0x8c, 0x5d, 0x05, 0x01, 0x02]);
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], tlv(0x30, &oid));
    ext.set_criticality(true);
    ext
}

/// subjectKeyIdentifier (RFC 5280 method 1) of `key`.
fn ski_extension(key: &SoftwareKey) -> CustomExtension {
    CustomExtension::from_oid_content(&[2, 5, 29, 14], tlv(0x04, &ski(key)))
}

/// countryName as a PrintableString (RFC 5280; rcgen's default is UTF8String).
fn country(code: &str) -> DnValue {
    DnValue::PrintableString(code.try_into().unwrap())
}

/// A positive 20-octet serial number from the OS CSPRNG.
pub fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 20];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// A fresh IACA (JP, P-384) and DS (P-256) with the default validity periods.
    pub fn new() -> Self {
        Self::with_ds_validity(DS_NOT_BEFORE, DS_NOT_AFTER)
    }

    /// Same, with a chosen DS validity.
    pub fn with_ds_validity(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        Self::with_iaca_key(
            &SoftwareKey::generate(Algorithm::Es384),
            not_before,
            not_after,
        )
    }

    /// The IACA certificate parameters for `key` (the DN is the same for every key, as across
    /// a key rollover).
    fn iaca_params(key: &SoftwareKey) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CountryName, country("JP"));
        p.distinguished_name.push(DnType::CommonName, "Test IACA");
        p.not_before = datetime!(2025-01-01 00:00:00 UTC);
        p.not_after = datetime!(2030-05-01 00:00:00 UTC);
        p.serial_number = Some(random_serial());
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.key_identifier_method = KeyIdMethod::PreSpecified(ski(key));
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec!["https://iaca.example.jp/crl".into()],
        }];
        p.custom_extensions = vec![ian()];
        p
    }

    /// An IACA with key `iaca_soft` and a DS with the given validity.
    pub fn with_iaca_key(
        iaca_soft: &SoftwareKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        let iaca_key = rcgen_key(iaca_soft);
        let iaca_cert = Self::iaca_params(iaca_soft).self_signed(&iaca_key).unwrap();
        let mut pki = TestPki {
            iaca_der: iaca_cert.der().to_vec(),
            ds_der: Vec::new(),
            ds_key: SoftwareKey::generate(Algorithm::Es256),
            iaca_cert,
            iaca_key,
            iaca_ski: ski(iaca_soft),
        };
        let ds_key = SoftwareKey::generate(Algorithm::Es256);
        pki.ds_der = pki.issue_ds(&ds_key, not_before, not_after);
        pki.ds_key = ds_key;
        pki
    }

    /// Issues a DS certificate for `key`.
    pub fn issue_ds(
        &self,
        key: &SoftwareKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Vec<u8> {
        self.issue_ds_variant(key, not_before, not_after, DsVariant::Exact)
    }

    /// Issues a DS certificate for `key`, exact or broken as `variant` says.
    pub fn issue_ds_variant(
        &self,
        key: &SoftwareKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        variant: DsVariant,
    ) -> Vec<u8> {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CountryName, country("JP"));
        p.distinguished_name.push(DnType::CommonName, "Test DS");
        p.not_before = not_before;
        p.not_after = not_after;
        p.serial_number = Some(random_serial());
        // The Annex B DS profile exactly: keyUsage and EKU critical, SKI, AKI, IAN, CRLDP.
        p.use_authority_key_identifier_extension = true;
        p.key_identifier_method = KeyIdMethod::PreSpecified(ski(key));
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec!["https://iaca.example.jp/crl".into()],
        }];
        p.custom_extensions = vec![
            ski_extension(key),
            ds_key_usage(),
            ds_ext_key_usage(),
            ian(),
        ];
        match variant {
            DsVariant::Exact => {}
            DsVariant::NoEku => p
                .custom_extensions
                .retain(|e| e.oid_components().ne([2, 5, 29, 37])),
            DsVariant::UnknownCritical => {
                let mut ext = CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 4, 1, 99999, 1],
                    vec![0x05, 0x00],
                );
                ext.set_criticality(true);
                p.custom_extensions.push(ext);
            }
        }
        p.signed_by(&rcgen_key(key), &self.iaca_cert, &self.iaca_key)
            .unwrap()
            .der()
            .to_vec()
    }

    /// A key rollover: a new IACA key under the same DN (with its own self-signed certificate
    /// and DS), and the link certificate (NewWithOld: the new key, signed by this IACA).
    pub fn rollover(&self) -> (TestPki, Vec<u8>) {
        let new_soft = SoftwareKey::generate(Algorithm::Es384);
        let new = Self::with_iaca_key(&new_soft, DS_NOT_BEFORE, DS_NOT_AFTER);
        let mut p = Self::iaca_params(&new_soft);
        p.use_authority_key_identifier_extension = true;
        let link = p
            .signed_by(&new.iaca_key, &self.iaca_cert, &self.iaca_key)
            .unwrap()
            .der()
            .to_vec();
        (new, link)
    }

    /// A CRL signed by this IACA listing `serials` (DER INTEGER contents or magnitudes).
    pub fn crl(
        &self,
        serials: &[&[u8]],
        crl_number: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Vec<u8> {
        let params = rcgen::CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(crl_number),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| rcgen::RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: this_update,
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(self.iaca_ski.clone()),
        };
        params
            .signed_by(&self.iaca_cert, &self.iaca_key)
            .unwrap()
            .der()
            .to_vec()
    }

    /// The IACA as a parsed certificate.
    pub fn iaca(&self) -> mso::x509::Certificate {
        mso::x509::Certificate::from_der(&self.iaca_der).unwrap()
    }

    /// The DS as a parsed certificate.
    pub fn ds(&self) -> mso::x509::Certificate {
        mso::x509::Certificate::from_der(&self.ds_der).unwrap()
    }

    /// PEM of a DER certificate.
    pub fn pem(der: &[u8]) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}
