//! CRL parsing and verification against an IACA (ISO 18013-5 Annex B profile of RFC 5280).
//!
//! Well-formed CRLs come from rcgen (an independent encoder); CRLs that break one rule at a time
//! come from a small DER builder below, signed with the test IACA key so that the rule under
//! test is the only thing wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use der::asn1::{BitString, Int, ObjectIdentifier, OctetString, UtcTime};
use der::{Encode, Header, Length, Tag};
use mso::crl::*;
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::x509::policy::DEFAULT_SKEW;
use mso::x509::Certificate;
use mso::Error;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SerialNumber,
};
use sha1::{Digest, Sha1};
use spki::AlgorithmIdentifierOwned;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::time::Time;

const THIS_UPDATE: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);
const NEXT_UPDATE: OffsetDateTime = datetime!(2026-06-08 00:00:00 UTC);
const AT: OffsetDateTime = datetime!(2026-06-02 12:00:00 UTC);

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const OID_REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const OID_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
const OID_DELTA: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const OID_PRIVATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

/// The CRL error inside `e`.
fn crl_err(e: &Error) -> &CrlError {
    match e {
        Error::Crl(c) => c,
        other => panic!("expected a CRL error, got {other:?}"),
    }
}

fn annex_d_iaca() -> Certificate {
    let der = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/annex-d/annex_d_iaca.der"
    ))
    .expect("Annex D IACA vector");
    Certificate::from_der(&der).unwrap()
}

fn annex_d_ds() -> Certificate {
    let der = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/annex-d/annex_d_ds.der"
    ))
    .expect("Annex D DS vector");
    Certificate::from_der(&der).unwrap()
}

// ---- test IACA ------------------------------------------------------------------------------

struct Iaca {
    key: SoftwareKey,
    ski: Vec<u8>,
    rcgen_key: KeyPair,
    rcgen_cert: rcgen::Certificate,
    cert: Certificate,
}

fn rcgen_key(key: &SoftwareKey) -> KeyPair {
    KeyPair::try_from(key.to_pkcs8_der().unwrap().as_slice()).unwrap()
}

fn ski_of(key: &SoftwareKey) -> Vec<u8> {
    Sha1::digest(key.public_key().unwrap().to_sec1()).to_vec()
}

impl Iaca {
    /// A P-384 IACA shaped like Annex B, with `key_usages` (keyCertSign + cRLSign by default).
    fn with_key_usages(key_usages: Vec<KeyUsagePurpose>) -> Self {
        let key = SoftwareKey::generate(Algorithm::Es384);
        let rcgen_key = rcgen_key(&key);
        let ski = ski_of(&key);
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CountryName, "JP");
        p.distinguished_name
            .push(DnType::CommonName, "CRL Test IACA");
        p.not_before = datetime!(2025-01-01 00:00:00 UTC);
        p.not_after = datetime!(2030-05-01 00:00:00 UTC);
        p.serial_number = Some(SerialNumber::from_slice(&[0x42; 16]));
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = key_usages;
        p.key_identifier_method = KeyIdMethod::PreSpecified(ski.clone());
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec!["https://iaca.example.jp/crl".into()],
        }];
        let rcgen_cert = p.self_signed(&rcgen_key).unwrap();
        let cert = Certificate::from_der(rcgen_cert.der()).unwrap();
        Iaca {
            key,
            ski,
            rcgen_key,
            rcgen_cert,
            cert,
        }
    }

    fn new() -> Self {
        Self::with_key_usages(vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign])
    }

    fn name(&self) -> Name {
        self.cert.inner().tbs_certificate.subject.clone()
    }

    /// A DS certificate with `serial` issued by this IACA.
    fn issue_ds(&self, serial: &[u8]) -> Certificate {
        let key = SoftwareKey::generate(Algorithm::Es256);
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CountryName, "JP");
        p.distinguished_name.push(DnType::CommonName, "CRL Test DS");
        p.not_before = datetime!(2026-01-01 00:00:00 UTC);
        p.not_after = datetime!(2027-01-01 00:00:00 UTC);
        p.serial_number = Some(SerialNumber::from_slice(serial));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.use_authority_key_identifier_extension = true;
        p.key_identifier_method = KeyIdMethod::PreSpecified(ski_of(&key));
        let der = p
            .signed_by(&rcgen_key(&key), &self.rcgen_cert, &self.rcgen_key)
            .unwrap()
            .der()
            .to_vec();
        Certificate::from_der(&der).unwrap()
    }

    /// An rcgen CRL listing `serials` (big-endian magnitudes).
    fn rcgen_crl(&self, serials: &[&[u8]], crl_number: u64) -> Vec<u8> {
        self.rcgen_crl_with(serials, crl_number, |_| {})
    }

    fn rcgen_crl_with(
        &self,
        serials: &[&[u8]],
        crl_number: u64,
        tweak: impl FnOnce(&mut CertificateRevocationListParams),
    ) -> Vec<u8> {
        let mut params = CertificateRevocationListParams {
            this_update: THIS_UPDATE,
            next_update: NEXT_UPDATE,
            crl_number: SerialNumber::from(crl_number),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: datetime!(2026-05-30 00:00:00 UTC),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(self.ski.clone()),
        };
        tweak(&mut params);
        params
            .signed_by(&self.rcgen_cert, &self.rcgen_key)
            .unwrap()
            .der()
            .to_vec()
    }

    /// A CRL from the DER builder, well-formed unless `tweak` breaks it, signed by this IACA.
    fn raw(&self, tweak: impl FnOnce(&mut RawCrl)) -> Vec<u8> {
        let mut raw = RawCrl::new(self.name(), &self.ski);
        tweak(&mut raw);
        raw.sign(&self.key)
    }
}

// ---- DER builder ----------------------------------------------------------------------------

fn tlv(tag: Tag, content: &[u8]) -> Vec<u8> {
    let mut out = Header::new(tag, Length::try_from(content.len()).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(Tag::Sequence, &parts.concat())
}

fn utc(t: OffsetDateTime) -> Vec<u8> {
    let secs = u64::try_from(t.unix_timestamp()).unwrap();
    Time::UtcTime(UtcTime::from_unix_duration(std::time::Duration::from_secs(secs)).unwrap())
        .to_der()
        .unwrap()
}

fn ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn aki_ext(ski: &[u8]) -> Extension {
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ski.to_vec()).unwrap()),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    ext(OID_AKI, false, aki.to_der().unwrap())
}

fn crl_number_ext(n: u8) -> Extension {
    ext(
        OID_CRL_NUMBER,
        false,
        Int::new(&[n]).unwrap().to_der().unwrap(),
    )
}

/// One revokedCertificates entry; `serial` is the raw INTEGER content (two's complement).
fn entry(serial: &[u8], extensions: &[Extension]) -> Vec<u8> {
    let mut parts = vec![
        tlv(Tag::Integer, serial),
        utc(datetime!(2026-05-30 00:00:00 UTC)),
    ];
    if !extensions.is_empty() {
        parts.push(extensions.to_vec().to_der().unwrap());
    }
    seq(&parts)
}

struct RawCrl {
    version: Option<u8>,
    tbs_alg: Option<ObjectIdentifier>,
    outer_alg: Option<ObjectIdentifier>,
    issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    entries: Vec<Vec<u8>>,
    extensions: Vec<Extension>,
}

impl RawCrl {
    fn new(issuer: Name, ski: &[u8]) -> Self {
        RawCrl {
            version: Some(1),
            tbs_alg: None,
            outer_alg: None,
            issuer,
            this_update: THIS_UPDATE,
            next_update: Some(NEXT_UPDATE),
            entries: vec![entry(&[0x01, 0x02], &[])],
            extensions: vec![aki_ext(ski), crl_number_ext(7)],
        }
    }

    fn sign(self, key: &SoftwareKey) -> Vec<u8> {
        let natural = match key.algorithm() {
            Algorithm::Es256 => ECDSA_SHA256,
            Algorithm::Es384 => ECDSA_SHA384,
            other => panic!("unsupported {other}"),
        };
        let alg = |oid: Option<ObjectIdentifier>| {
            AlgorithmIdentifierOwned {
                oid: oid.unwrap_or(natural),
                parameters: None,
            }
            .to_der()
            .unwrap()
        };
        let mut tbs = Vec::new();
        if let Some(v) = self.version {
            tbs.push(Int::new(&[v]).unwrap().to_der().unwrap());
        }
        tbs.push(alg(self.tbs_alg));
        tbs.push(self.issuer.to_der().unwrap());
        tbs.push(utc(self.this_update));
        if let Some(n) = self.next_update {
            tbs.push(utc(n));
        }
        if !self.entries.is_empty() {
            tbs.push(seq(&self.entries));
        }
        if !self.extensions.is_empty() {
            tbs.push(tlv(
                Tag::ContextSpecific {
                    constructed: true,
                    number: der::TagNumber::N0,
                },
                &self.extensions.to_der().unwrap(),
            ));
        }
        let tbs = seq(&tbs);
        let raw = key.sign(&tbs).unwrap();
        let sig_der = match key.algorithm() {
            Algorithm::Es256 => p256::ecdsa::Signature::from_slice(&raw)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec(),
            _ => p384::ecdsa::Signature::from_slice(&raw)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec(),
        };
        seq(&[
            tbs,
            alg(self.outer_alg),
            BitString::from_bytes(&sig_der).unwrap().to_der().unwrap(),
        ])
    }
}

fn verify(der: &[u8], iaca: &Certificate, at: OffsetDateTime) -> mso::Result<VerifiedCrl> {
    VerifiedCrl::from_der(der, iaca, &CrlVerifyOptions::new(at), &SoftwareVerifier)
}

// ---- well-formed CRLs -----------------------------------------------------------------------

#[test]
fn rcgen_crl_verifies_and_answers_by_integer_value() {
    let iaca = Iaca::new();
    // 0x8a.. has its high bit set, so its DER INTEGER carries a leading zero octet.
    let high: &[u8] = &[0x8a, 0xbf, 0xd4, 0x0c, 0xfb, 0x04, 0x0e, 0xe8];
    let low: &[u8] = &[0x01, 0x02, 0x03];
    let twenty: &[u8] = &[0x7f; 20];
    let der = iaca.rcgen_crl(&[high, low, twenty], 42);

    let parsed = Crl::from_der(&der).unwrap();
    assert_eq!(parsed.authority_key_id(), Some(iaca.ski.as_slice()));
    assert_eq!(parsed.len(), 3);

    let crl = parsed
        .verify(&iaca.cert, &CrlVerifyOptions::new(AT), &SoftwareVerifier)
        .unwrap();
    assert_eq!(
        crl.freshness(),
        CrlFreshness::Fresh {
            next_update: NEXT_UPDATE
        }
    );
    assert!(crl.freshness().is_fresh());
    assert_eq!(crl.this_update(), THIS_UPDATE);
    assert_eq!(crl.next_update(), NEXT_UPDATE);
    assert_eq!(crl.crl_number(), Some(&CrlNumber::from(42)));
    assert_eq!(crl.crl_number().unwrap().to_u128(), Some(42));
    assert_eq!(crl.issuer(), &iaca.name());
    assert_eq!(crl.len(), 3);

    // By value: with or without the sign octet, with extra leading zeros.
    assert!(crl.is_revoked(high));
    assert!(crl.is_revoked(&[&[0x00][..], high].concat()));
    assert!(crl.is_revoked(&[&[0x00, 0x00, 0x00][..], low].concat()));
    assert!(crl.is_revoked(low));
    assert!(crl.is_revoked(twenty));
    // Neighbours are not listed.
    assert!(!crl.is_revoked(&[0x01, 0x02, 0x04]));
    assert!(!crl.is_revoked(&[0x01, 0x02]));
    assert!(!crl.is_revoked(&[0x01, 0x02, 0x03, 0x00]));
    assert!(!crl.is_revoked(&[]));
    assert!(!crl.is_revoked(&[0x01; 32]));
}

#[test]
fn certificate_lookup_checks_scope() {
    let iaca = Iaca::new();
    let revoked = iaca.issue_ds(&[0x55, 0x66, 0x77]);
    let good = iaca.issue_ds(&[0x55, 0x66, 0x78]);
    let der = iaca.rcgen_crl(&[&[0x55, 0x66, 0x77]], 1);
    let crl = verify(&der, &iaca.cert, AT).unwrap();
    assert!(crl.is_certificate_revoked(&revoked).unwrap());
    assert!(!crl.is_certificate_revoked(&good).unwrap());

    // A certificate from another issuer is out of scope: an error, never "not revoked".
    let e = crl.is_certificate_revoked(&annex_d_ds()).unwrap_err();
    assert_eq!(
        crl_err(&e),
        &CrlError::OutOfScope(ScopeProblem::OtherIssuer)
    );

    // Same DN, other key (a rollover): the AKI tells them apart.
    let other_key = Iaca::new();
    let sibling = other_key.issue_ds(&[0x55, 0x66, 0x77]);
    let e = crl.is_certificate_revoked(&sibling).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::OutOfScope(ScopeProblem::OtherKey));
}

#[test]
fn empty_crl_lists_nothing() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[], 3);
    let crl = verify(&der, &iaca.cert, AT).unwrap();
    assert!(crl.is_empty());
    assert!(!crl.is_revoked(&[0x01]));
}

#[test]
fn duplicate_serials_count_once() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.entries = vec![entry(&[0x05], &[]), entry(&[0x05], &[])]);
    let crl = verify(&der, &iaca.cert, AT).unwrap();
    assert_eq!(crl.len(), 1);
    assert!(crl.is_revoked(&[0x05]));
}

#[test]
fn reason_code_is_accepted() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl_with(&[&[0x09]], 1, |p| {
        p.revoked_certs[0].reason_code = Some(RevocationReason::KeyCompromise);
        p.revoked_certs[0].invalidity_date = Some(datetime!(2026-05-29 00:00:00 UTC));
    });
    assert!(verify(&der, &iaca.cert, AT).unwrap().is_revoked(&[0x09]));
}

#[test]
fn unknown_non_critical_extensions_are_ignored() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| {
        c.extensions.push(ext(OID_PRIVATE, false, vec![0x05, 0x00]));
        c.entries = vec![entry(&[0x07], &[ext(OID_PRIVATE, false, vec![0x05, 0x00])])];
    });
    assert!(verify(&der, &iaca.cert, AT).unwrap().is_revoked(&[0x07]));
}

#[test]
fn crl_without_aki_verifies_by_name_and_signature() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.extensions = vec![crl_number_ext(1)]);
    let crl = verify(&der, &iaca.cert, AT).unwrap();
    assert_eq!(crl.authority_key_id(), None);
}

// ---- freshness and time ---------------------------------------------------------------------

#[test]
fn expired_crl_is_a_typed_result() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[&[0x01]], 1);
    let late = NEXT_UPDATE + Duration::days(1);
    let crl = verify(&der, &iaca.cert, late).unwrap();
    assert_eq!(
        crl.freshness(),
        CrlFreshness::Expired {
            next_update: NEXT_UPDATE
        }
    );
    // The entries are still authentic.
    assert!(crl.is_revoked(&[0x01]));

    // Within the skew of nextUpdate it is still fresh; a cached CRL can be re-evaluated.
    let fresh = verify(&der, &iaca.cert, AT).unwrap();
    assert!(fresh
        .freshness_at(NEXT_UPDATE + Duration::minutes(4), DEFAULT_SKEW)
        .is_fresh());
    assert!(!fresh
        .freshness_at(NEXT_UPDATE + Duration::minutes(6), DEFAULT_SKEW)
        .is_fresh());
}

#[test]
fn this_update_in_the_future_is_refused() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[], 1);
    let early = THIS_UPDATE - Duration::hours(1);
    let e = verify(&der, &iaca.cert, early).unwrap_err();
    assert_eq!(
        crl_err(&e),
        &CrlError::ThisUpdateInFuture {
            this_update: THIS_UPDATE,
            at: early
        }
    );
    // Inside the skew it passes.
    verify(&der, &iaca.cert, THIS_UPDATE - Duration::minutes(4)).unwrap();
}

#[test]
fn next_update_must_be_present_and_after_this_update() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.next_update = None);
    let parsed = Crl::from_der(&der).unwrap();
    assert_eq!(parsed.next_update(), None);
    let e = verify(&der, &iaca.cert, AT).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::NoNextUpdate);

    let der = iaca.raw(|c| c.next_update = Some(THIS_UPDATE - Duration::days(1)));
    let e = verify(&der, &iaca.cert, AT).unwrap_err();
    assert_eq!(
        crl_err(&e),
        &CrlError::NextUpdateBeforeThisUpdate {
            this_update: THIS_UPDATE,
            next_update: THIS_UPDATE - Duration::days(1)
        }
    );
}

// ---- issuer, key and signature --------------------------------------------------------------

#[test]
fn wrong_iaca_is_refused_by_name() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[&[0x01]], 1);
    let e = verify(&der, &annex_d_iaca(), AT).unwrap_err();
    assert!(matches!(crl_err(&e), CrlError::IssuerName { .. }), "{e:?}");
}

#[test]
fn forged_crl_for_the_annex_d_iaca_fails_the_signature() {
    // Right name, right AKI, wrong key: only the signature can catch it.
    let annex_d = annex_d_iaca();
    let ski = annex_d.subject_key_id().unwrap();
    let mut raw = RawCrl::new(annex_d.inner().tbs_certificate.subject.clone(), &ski);
    raw.this_update = datetime!(2021-01-01 00:00:00 UTC);
    raw.next_update = Some(datetime!(2021-02-01 00:00:00 UTC));
    let der = raw.sign(&SoftwareKey::generate(Algorithm::Es256));
    let e = verify(&der, &annex_d, datetime!(2021-01-02 00:00:00 UTC)).unwrap_err();
    assert_eq!(e, Error::BadSignature);
}

#[test]
fn same_name_other_key_is_refused_by_aki() {
    // Two IACAs with one DN (a key rollover): the CRL of one must not verify with the other,
    // and the AKI says so before any signature is checked.
    let old = Iaca::new();
    let new = Iaca::new();
    let der = old.rcgen_crl(&[&[0x01]], 1);
    let e = verify(&der, &new.cert, AT).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::KeyIdentifierMismatch);

    // Without an AKI the signature still refuses it.
    let der = old.raw(|c| c.extensions = vec![crl_number_ext(1)]);
    assert_eq!(
        verify(&der, &new.cert, AT).unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn iaca_without_crl_sign_is_refused() {
    let iaca = Iaca::with_key_usages(vec![KeyUsagePurpose::KeyCertSign]);
    let der = iaca.raw(|_| {});
    let e = verify(&der, &iaca.cert, AT).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::NoCrlSign);
}

#[test]
fn tampered_tbs_fails_the_signature() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[&[0x11, 0x22, 0x33]], 1);
    // Change the listed serial 11 22 33 to 11 22 34: still well-formed, no longer signed.
    let pos = der
        .windows(3)
        .position(|w| w == [0x11, 0x22, 0x33])
        .unwrap();
    let mut bad = der.clone();
    bad[pos + 2] = 0x34;
    assert_eq!(
        verify(&bad, &iaca.cert, AT).unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn algorithm_must_match_between_tbs_and_outer() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.outer_alg = Some(ECDSA_SHA256));
    let e = Crl::from_der(&der).unwrap_err();
    assert!(
        matches!(crl_err(&e), CrlError::AlgorithmMismatch { .. }),
        "{e:?}"
    );
}

// ---- profile: version, extensions, entries --------------------------------------------------

#[test]
fn v1_and_unknown_versions_are_refused() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| {
        c.version = None;
        c.extensions.clear();
    });
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::Version { found: None });
    let der = iaca.raw(|c| c.version = Some(2));
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::Version { found: Some(2) });
}

#[test]
fn unknown_critical_crl_extension_is_refused() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.extensions.push(ext(OID_PRIVATE, true, vec![0x05, 0x00])));
    let e = Crl::from_der(&der).unwrap_err();
    assert!(
        matches!(crl_err(&e), CrlError::UnknownCriticalExtension { oid } if *oid == OID_PRIVATE),
        "{e:?}"
    );
}

#[test]
fn duplicate_crl_extension_is_refused() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.extensions.push(crl_number_ext(8)));
    let e = Crl::from_der(&der).unwrap_err();
    assert!(
        matches!(crl_err(&e), CrlError::DuplicateExtension { .. }),
        "{e:?}"
    );
}

#[test]
fn delta_and_partitioned_crls_are_refused() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| {
        c.extensions.push(ext(
            OID_DELTA,
            true,
            Int::new(&[6]).unwrap().to_der().unwrap(),
        ))
    });
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::DeltaCrl);

    // rcgen writes issuingDistributionPoint (critical) when asked.
    let der = iaca.rcgen_crl_with(&[&[0x01]], 1, |p| {
        p.issuing_distribution_point = Some(CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint {
                uris: vec!["https://iaca.example.jp/crl-1".into()],
            },
            scope: None,
        });
    });
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::Partitioned);
}

#[test]
fn unknown_critical_entry_extension_is_refused() {
    let iaca = Iaca::new();
    let der =
        iaca.raw(|c| c.entries = vec![entry(&[0x07], &[ext(OID_PRIVATE, true, vec![0x05, 0x00])])]);
    let e = Crl::from_der(&der).unwrap_err();
    assert!(
        matches!(crl_err(&e), CrlError::UnknownCriticalEntryExtension { oid } if *oid == OID_PRIVATE),
        "{e:?}"
    );

    // A critical reasonCode is odd but understood.
    let reason = ext(OID_REASON_CODE, true, vec![0x0a, 0x01, 0x01]);
    let der = iaca.raw(|c| c.entries = vec![entry(&[0x07], &[reason])]);
    assert!(verify(&der, &iaca.cert, AT).unwrap().is_revoked(&[0x07]));

    // certificateIssuer would move the entry to another issuer: unsupported, even non-critical.
    let der = iaca.raw(|c| {
        c.entries = vec![entry(
            &[0x07],
            &[ext(OID_CERTIFICATE_ISSUER, false, vec![0x30, 0x00])],
        )]
    });
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::IndirectEntry);
}

#[test]
fn negative_serials_are_refused() {
    let iaca = Iaca::new();
    let der = iaca.raw(|c| c.entries = vec![entry(&[0xff, 0x01], &[])]);
    let e = Crl::from_der(&der).unwrap_err();
    assert_eq!(crl_err(&e), &CrlError::NegativeSerial);
}

#[test]
fn overlong_serials_are_refused() {
    let iaca = Iaca::new();
    // 22 content octets: beyond RFC 5280's bound even with a sign octet.
    let mut serial = vec![0x00];
    serial.extend_from_slice(&[0x81; 21]);
    let der = iaca.raw(|c| c.entries = vec![entry(&serial, &[])]);
    assert!(Crl::from_der(&der).is_err());
}

// ---- untrusted bytes ------------------------------------------------------------------------

#[test]
fn size_bound_is_enforced() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[&[0x01]], 1);
    assert_eq!(
        Crl::from_der_with_limit(&der, der.len() - 1).unwrap_err(),
        Error::TooLarge {
            size: der.len(),
            limit: der.len() - 1
        }
    );
    let mut opts = CrlVerifyOptions::new(AT);
    opts.max_len = 16;
    assert!(matches!(
        VerifiedCrl::from_der(&der, &iaca.cert, &opts, &SoftwareVerifier),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn trailing_bytes_are_refused() {
    let iaca = Iaca::new();
    let mut der = iaca.rcgen_crl(&[&[0x01]], 1);
    der.push(0x00);
    let e = Crl::from_der(&der).unwrap_err();
    assert!(matches!(crl_err(&e), CrlError::Der { .. }), "{e:?}");
}

#[test]
fn truncations_and_garbage_give_typed_errors() {
    let iaca = Iaca::new();
    let der = iaca.rcgen_crl(&[&[0x01], &[0x02, 0x03], &[0x8f; 20]], 5);
    for len in 0..der.len() {
        let e = Crl::from_der(&der[..len]).unwrap_err();
        assert!(
            matches!(e, Error::Crl(CrlError::Der { .. })),
            "prefix {len}: {e:?}"
        );
    }
    // Every single-byte corruption either fails to parse or fails verification; none panics
    // and none verifies.
    for i in 0..der.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = der.clone();
            bad[i] ^= flip;
            if let Ok(crl) = verify(&bad, &iaca.cert, AT) {
                panic!("byte {i} ^ {flip:#x} still verifies: {crl:?}");
            }
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let len = (state % 300) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(Crl::from_der(&bytes).is_err());
    }
}

#[test]
fn agrees_with_the_x509_cert_crl_module() {
    // The parser walks tbsCertList by hand (to hash the received bytes and skip per-entry
    // allocations); x509-cert's CertificateList must read the same CRL the same way.
    use der::Decode;
    let iaca = Iaca::new();
    let serials: Vec<Vec<u8>> = (1u8..=40)
        .map(|i| vec![i.wrapping_mul(37) | 0x80, i, 0x00, i])
        .collect();
    let refs: Vec<&[u8]> = serials.iter().map(Vec::as_slice).collect();
    let der = iaca.rcgen_crl(&refs, 77);
    let ours = verify(&der, &iaca.cert, AT).unwrap();
    let theirs = x509_cert::crl::CertificateList::from_der(&der).unwrap();
    let listed = theirs.tbs_cert_list.revoked_certificates.unwrap();
    assert_eq!(listed.len(), ours.len());
    for entry in &listed {
        assert!(ours.is_revoked(entry.serial_number.as_bytes()));
    }
    assert_eq!(
        ours.this_update(),
        OffsetDateTime::from_unix_timestamp(
            theirs
                .tbs_cert_list
                .this_update
                .to_unix_duration()
                .as_secs() as i64
        )
        .unwrap()
    );
}
