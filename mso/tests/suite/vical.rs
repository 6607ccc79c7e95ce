//! VICAL verification (ISO 18013-5 Annex C): the real AAMVA list, and lists signed by a test
//! PKI that break one rule at a time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use coset::{CborSerializable, TaggedCborSerializable};
use mso::cbor::{encode_value, Value};
use mso::cose::PreparedSign1;
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::vical::*;
use mso::x509::policy::{DEFAULT_MAX_CHAIN_LEN, DEFAULT_SKEW};
use mso::x509::{oid, Certificate, NotCaReason, PathError, Position, TrustAnchors};
use mso::Error;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use sha1::{Digest, Sha1};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const MDL: &str = "org.iso.18013.5.1.mDL";

/// The trust anchors of a test.
fn ta(certs: Vec<Certificate>) -> TrustAnchors {
    TrustAnchors::new(certs)
}

/// The path error of a refused VICAL signer.
fn signer_error(e: &Error) -> &PathError {
    match e {
        Error::Vical(VicalError::Signer(p)) => p,
        other => panic!("expected a VICAL signer path error, got {other:?}"),
    }
}

// ---- the AAMVA VICAL ------------------------------------------------------------------------

const AAMVA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/aamva/");
/// `date` of the AAMVA list.
const AAMVA_DATE: OffsetDateTime = datetime!(2025-11-18 18:38:12 UTC);
/// `nextUpdate` of the AAMVA list.
const AAMVA_NEXT_UPDATE: OffsetDateTime = datetime!(2025-11-19 18:38:12 UTC);
/// notAfter of "AAMVA Prod Vical-Signer-01".
const AAMVA_SIGNER_NOT_AFTER: OffsetDateTime = datetime!(2026-04-18 17:38:41 UTC);

fn aamva_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{AAMVA_DIR}{name}")).expect("AAMVA vector")
}

fn aamva_vical() -> Vec<u8> {
    aamva_file("aamva-vical-2025-11-18-1763491092481.cbor")
}

fn aamva_root() -> Certificate {
    Certificate::from_pem(std::str::from_utf8(&aamva_file("aamva_ca_root.crt")).unwrap()).unwrap()
}

fn aamva_intermediate() -> Certificate {
    Certificate::from_pem(std::str::from_utf8(&aamva_file("aamva_ca_intermediate.crt")).unwrap())
        .unwrap()
}

fn annex_d_iaca() -> Certificate {
    let der = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/annex-d/annex_d_iaca.der"
    ))
    .unwrap();
    Certificate::from_der(&der).unwrap()
}

#[test]
fn aamva_vical_verifies_at_its_issue_date() {
    let anchors = ta(vec![aamva_root()]);
    let v = VerifiedVical::verify(&aamva_vical(), AAMVA_DATE, &anchors, &SoftwareVerifier).unwrap();

    assert_eq!(v.version(), "1.0");
    assert_eq!(v.provider(), "AAMVA");
    assert_eq!(v.date(), AAMVA_DATE);
    assert_eq!(v.issue_id(), Some(227_602));
    assert_eq!(v.next_update(), Some(AAMVA_NEXT_UPDATE));
    assert_eq!(v.url(), None);
    assert_eq!(v.freshness(), &VicalFreshness::Fresh);

    // Exactly the 14 extracted IACAs, byte for byte, in some order.
    let mut listed: Vec<Vec<u8>> = v
        .entries()
        .iter()
        .map(|e| e.certificate.der().to_vec())
        .collect();
    let mut expected: Vec<Vec<u8>> = (0..14)
        .map(|i| aamva_file(&format!("vical_iaca_{i:02}.der")))
        .collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed.len(), 14);
    assert_eq!(listed, expected);
    for e in v.entries() {
        assert_eq!(e.doc_types, [MDL]);
    }
    assert_eq!(v.iacas_for(MDL).count(), 14);
    assert_eq!(v.iacas_for("org.iso.23220.photoid.1").count(), 0);
    assert_eq!(v.iaca_anchors(MDL).anchors().len(), 14);

    // The path: signer → AAMVA DTS Issuing CA → the root anchor (the x5chain's own copy of the
    // root is not needed once the anchor is reached).
    let path = v.signer_path();
    assert_eq!(path.len(), 3);
    assert_eq!(path[1], (Position::Chain(0), aamva_intermediate()));
    assert_eq!(path[2], (Position::Anchor(0), aamva_root()));
    let signer = v.signer().unwrap();
    assert_eq!(signer.not_after(), AAMVA_SIGNER_NOT_AFTER);
    assert_eq!(
        signer.extended_key_usage().unwrap().unwrap(),
        [oid::VICAL_SIGNER_EKU]
    );
}

#[test]
fn aamva_metadata_quirks_are_tolerated_and_reported() {
    let v = VerifiedVical::verify(
        &aamva_vical(),
        AAMVA_DATE,
        &ta(vec![aamva_root()]),
        &SoftwareVerifier,
    )
    .unwrap();
    // The `ski` wrapper, capitalised keys, serials, countries, states and DNs all match the
    // certificates; only the 12-hours-off notBefore/notAfter of six entries are reported.
    let mut off_entries = Vec::new();
    for w in v.warnings() {
        let VicalWarning::MetadataMismatch {
            index,
            field,
            listed,
            certificate,
        } = w
        else {
            panic!("unexpected warning {w:?}");
        };
        assert!(
            *field == "notBefore" || *field == "notAfter",
            "unexpected mismatch {w:?}"
        );
        let parse = |s: &str| mso::cbor::TDate::parse(s).unwrap().datetime();
        assert_eq!(
            (parse(listed) - parse(certificate)).abs(),
            Duration::hours(12),
            "{w:?}"
        );
        off_entries.push(*index);
    }
    off_entries.dedup();
    assert_eq!(off_entries, [2, 3, 6, 9, 10, 11]);
    assert_eq!(v.warnings().len(), 12);
}

#[test]
fn aamva_vical_from_the_intermediate_anchor() {
    let v = VerifiedVical::verify(
        &aamva_vical(),
        AAMVA_DATE,
        &ta(vec![aamva_intermediate()]),
        &SoftwareVerifier,
    )
    .unwrap();
    assert_eq!(v.signer_path().len(), 2);
    assert_eq!(v.entries().len(), 14);
}

#[test]
fn aamva_vical_is_stale_a_year_later() {
    let at = datetime!(2026-11-22 00:00:00 UTC);
    let v = VerifiedVical::verify(
        &aamva_vical(),
        at,
        &ta(vec![aamva_root()]),
        &SoftwareVerifier,
    )
    .unwrap();
    assert!(!v.freshness().is_fresh());
    assert_eq!(
        v.freshness().reasons(),
        [
            StaleReason::PastNextUpdate {
                next_update: AAMVA_NEXT_UPDATE
            },
            StaleReason::CertificateExpired {
                which: Position::Leaf,
                not_after: AAMVA_SIGNER_NOT_AFTER
            },
        ]
    );
    // The entries are still the authentic ones.
    assert_eq!(v.entries().len(), 14);

    // A day after the issue date only nextUpdate has passed; a list kept since the issue date
    // is re-evaluated without verifying again.
    let fresh = VerifiedVical::verify(
        &aamva_vical(),
        AAMVA_DATE,
        &ta(vec![aamva_root()]),
        &SoftwareVerifier,
    )
    .unwrap();
    assert_eq!(
        fresh
            .freshness_at(
                datetime!(2025-11-20 00:00:00 UTC),
                DEFAULT_SKEW,
                DEFAULT_MAX_AGE
            )
            .reasons(),
        [StaleReason::PastNextUpdate {
            next_update: AAMVA_NEXT_UPDATE
        }]
    );
    assert_eq!(
        fresh.freshness_at(at, DEFAULT_SKEW, DEFAULT_MAX_AGE),
        *v.freshness()
    );
}

#[test]
fn aamva_vical_dated_after_the_verification_time_is_refused() {
    let e = VerifiedVical::verify(
        &aamva_vical(),
        datetime!(2025-11-17 00:00:00 UTC),
        &ta(vec![aamva_root()]),
        &SoftwareVerifier,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Vical(VicalError::DateInFuture { date, .. }) if date == AAMVA_DATE),
        "{e:?}"
    );
}

#[test]
fn aamva_flipped_payload_byte_fails_the_signature() {
    let bytes = aamva_vical();
    let sign1 = coset::CoseSign1::from_slice(&bytes).unwrap();
    let payload = sign1.payload.unwrap();
    let start = bytes
        .windows(payload.len())
        .position(|w| w == payload.as_slice())
        .unwrap();
    // The provider name, the first certificate byte of the last entry, and the last byte.
    let provider = payload.windows(5).position(|w| w == b"AAMVA").unwrap();
    let last_cert = aamva_file("vical_iaca_13.der");
    let cert = payload
        .windows(last_cert.len())
        .position(|w| w == last_cert.as_slice())
        .unwrap();
    for offset in [provider, cert + 40, payload.len() - 1] {
        let mut bad = bytes.clone();
        bad[start + offset] ^= 0x01;
        let e = VerifiedVical::verify(&bad, AAMVA_DATE, &ta(vec![aamva_root()]), &SoftwareVerifier)
            .unwrap_err();
        assert_eq!(e, Error::BadSignature, "payload byte {offset}");
    }
}

#[test]
fn aamva_vical_with_a_wrong_anchor_is_refused() {
    for anchors in [vec![annex_d_iaca()], vec![], vec![TestPki::new().root]] {
        let e = VerifiedVical::verify(&aamva_vical(), AAMVA_DATE, &ta(anchors), &SoftwareVerifier)
            .unwrap_err();
        assert!(
            matches!(signer_error(&e), PathError::UnknownIssuer { .. }),
            "{e:?}"
        );
    }
    // A certificate from the list itself is not a VICAL anchor either.
    let iaca = Certificate::from_der(&aamva_file("vical_iaca_00.der")).unwrap();
    let e = VerifiedVical::verify(
        &aamva_vical(),
        AAMVA_DATE,
        &ta(vec![iaca]),
        &SoftwareVerifier,
    )
    .unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::UnknownIssuer { .. }),
        "{e:?}"
    );
}

#[test]
fn aamva_vical_truncated_or_mutated_never_panics() {
    let bytes = aamva_vical();
    let anchors = ta(vec![aamva_root()]);
    let good = VerifiedVical::verify(&bytes, AAMVA_DATE, &anchors, &SoftwareVerifier).unwrap();
    for len in (0..bytes.len()).step_by(3) {
        let e = VerifiedVical::verify(&bytes[..len], AAMVA_DATE, &anchors, &SoftwareVerifier)
            .unwrap_err();
        assert!(
            matches!(e, Error::Truncated { .. } | Error::WrongType { .. }),
            "prefix {len}: {e:?}"
        );
    }
    // A mutation may only verify if it left the signed content alone (e.g. a byte of the
    // x5chain's copy of the root, which the path does not use).
    for i in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x5a;
        if let Ok(v) = VerifiedVical::verify(&bad, AAMVA_DATE, &anchors, &SoftwareVerifier) {
            assert_eq!(v.entries(), good.entries(), "byte {i}");
            assert_eq!(v.date(), good.date());
        }
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        let len = (state % 200) as usize;
        let garbage: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(VerifiedVical::verify(&garbage, AAMVA_DATE, &anchors, &SoftwareVerifier).is_err());
    }
}

// ---- a test PKI -----------------------------------------------------------------------------

const OID_VICAL_SIGNER: &[u64] = &[1, 0, 18013, 5, 1, 8];
const AT: OffsetDateTime = datetime!(2026-06-02 12:00:00 UTC);
const DATE: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);
const NEXT: OffsetDateTime = datetime!(2026-06-08 00:00:00 UTC);

fn rcgen_key(key: &SoftwareKey) -> KeyPair {
    KeyPair::try_from(key.to_pkcs8_der().unwrap().as_slice()).unwrap()
}

fn ski_of(key: &SoftwareKey) -> Vec<u8> {
    Sha1::digest(key.public_key().unwrap().to_sec1()).to_vec()
}

struct Issued {
    cert: rcgen::Certificate,
    key: KeyPair,
    soft: SoftwareKey,
}

impl Issued {
    fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }
}

fn params(cn: &str, serial: u8) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CountryName, "JP");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = datetime!(2025-01-01 00:00:00 UTC);
    p.not_after = datetime!(2030-01-01 00:00:00 UTC);
    p.serial_number = Some(SerialNumber::from_slice(&[serial, 0x11, 0x22, 0x33]));
    p
}

fn ca_params(cn: &str, serial: u8, path_len: Option<u8>) -> CertificateParams {
    let mut p = params(cn, serial);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn signer_params() -> CertificateParams {
    let mut p = params("Test VICAL Signer", 3);
    p.key_usages = vec![KeyUsagePurpose::ContentCommitment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(OID_VICAL_SIGNER.to_vec())];
    p
}

fn issue(mut p: CertificateParams, issuer: Option<&Issued>) -> Issued {
    let soft = SoftwareKey::generate(Algorithm::Es256);
    let key = rcgen_key(&soft);
    p.key_identifier_method = KeyIdMethod::PreSpecified(ski_of(&soft));
    p.use_authority_key_identifier_extension = issuer.is_some();
    let cert = match issuer {
        Some(i) => p.signed_by(&key, &i.cert, &i.key).unwrap(),
        None => p.self_signed(&key).unwrap(),
    };
    Issued { cert, key, soft }
}

/// Root → intermediate (pathLen 0) → VICAL signer, plus two IACAs to list.
struct TestPki {
    root: Certificate,
    root_issued: Issued,
    intermediate: Issued,
    signer: Issued,
    iacas: Vec<Vec<u8>>,
}

impl TestPki {
    fn new() -> Self {
        Self::with(
            None,
            ca_params("Test Intermediate", 2, Some(0)),
            signer_params(),
        )
    }

    fn with(
        root_path_len: Option<u8>,
        intermediate: CertificateParams,
        signer: CertificateParams,
    ) -> Self {
        let root_issued = issue(ca_params("Test VICAL Root", 1, root_path_len), None);
        let intermediate = issue(intermediate, Some(&root_issued));
        let signer = issue(signer, Some(&intermediate));
        let iacas = ["JP", "US"]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut p = ca_params("Test IACA", 10 + i as u8, Some(0));
                p.distinguished_name = rcgen::DistinguishedName::new();
                p.distinguished_name.push(DnType::CountryName, *c);
                p.distinguished_name
                    .push(DnType::StateOrProvinceName, "Tokyo");
                p.distinguished_name.push(DnType::CommonName, "Test IACA");
                issue(p, None).der()
            })
            .collect();
        TestPki {
            root: Certificate::from_der(&root_issued.der()).unwrap(),
            root_issued,
            intermediate,
            signer,
            iacas,
        }
    }

    fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.signer.der(), self.intermediate.der()]
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// A CertificateInfo whose metadata agrees with `der`.
fn info(der: &[u8], doc_types: &[&str]) -> Vec<(Value, Value)> {
    let cert = Certificate::from_der(der).unwrap();
    let serial = cert.serial_number().to_vec();
    vec![
        (text("certificate"), Value::Bytes(der.to_vec())),
        (
            text("serialNumber"),
            Value::Tag(2, Box::new(Value::Bytes(serial))),
        ),
        (text("ski"), Value::Bytes(cert.subject_key_id().unwrap())),
        (
            text("docType"),
            Value::Array(doc_types.iter().map(|d| text(d)).collect()),
        ),
        (text("issuingCountry"), text(&cert.country().unwrap())),
        (
            text("stateOrProvinceName"),
            text(&cert.state_or_province().unwrap()),
        ),
        (
            text("notBefore"),
            mso::cbor::ToCbor::to_value(&mso::cbor::TDate::new(cert.not_before())),
        ),
        (
            text("notAfter"),
            mso::cbor::ToCbor::to_value(&mso::cbor::TDate::new(cert.not_after())),
        ),
    ]
}

fn tdate(t: OffsetDateTime) -> Value {
    mso::cbor::ToCbor::to_value(&mso::cbor::TDate::new(t))
}

/// The VICAL payload with `infos`, dated [`DATE`], next update [`NEXT`].
fn payload(infos: Vec<Vec<(Value, Value)>>) -> Vec<(Value, Value)> {
    vec![
        (text("version"), text("1.0")),
        (text("vicalProvider"), text("Test Provider")),
        (text("date"), tdate(DATE)),
        (text("vicalIssueID"), Value::from(7)),
        (text("nextUpdate"), tdate(NEXT)),
        (
            text("certificateInfos"),
            Value::Array(infos.into_iter().map(Value::Map).collect()),
        ),
        (text("vicalURL"), text("https://vical.example.jp/vical")),
    ]
}

fn sign(map: Vec<(Value, Value)>, chain: &[Vec<u8>], key: &SoftwareKey) -> Vec<u8> {
    PreparedSign1::new(
        key.algorithm(),
        encode_value(&Value::Map(map)),
        chain,
        false,
    )
    .unwrap()
    .sign(key)
    .unwrap()
    .to_vec()
    .unwrap()
}

impl TestPki {
    fn default_payload(&self) -> Vec<(Value, Value)> {
        payload(vec![
            info(&self.iacas[0], &[MDL]),
            info(&self.iacas[1], &[MDL, "org.iso.23220.photoid.1"]),
        ])
    }

    fn vical(&self, map: Vec<(Value, Value)>) -> Vec<u8> {
        sign(map, &self.chain(), &self.signer.soft)
    }

    fn verify(&self, bytes: &[u8], at: OffsetDateTime) -> mso::Result<VerifiedVical> {
        VerifiedVical::verify(bytes, at, &ta(vec![self.root.clone()]), &SoftwareVerifier)
    }
}

fn replace(map: &mut [(Value, Value)], key: &str, value: Value) {
    map.iter_mut().find(|(k, _)| *k == text(key)).unwrap().1 = value;
}

fn remove(map: &mut Vec<(Value, Value)>, key: &str) {
    map.retain(|(k, _)| *k != text(key));
}

#[test]
fn test_vical_verifies_with_consistent_metadata() {
    let pki = TestPki::new();
    let v = pki.verify(&pki.vical(pki.default_payload()), AT).unwrap();
    assert_eq!(v.provider(), "Test Provider");
    assert_eq!(v.issue_id(), Some(7));
    assert_eq!(v.url(), Some("https://vical.example.jp/vical"));
    assert_eq!(v.freshness(), &VicalFreshness::Fresh);
    assert!(v.warnings().is_empty(), "{:?}", v.warnings());
    assert_eq!(v.entries().len(), 2);
    assert_eq!(v.entries()[1].doc_types, [MDL, "org.iso.23220.photoid.1"]);
    assert_eq!(v.iacas_for(MDL).count(), 2);
    assert_eq!(v.iacas_for("org.iso.23220.photoid.1").count(), 1);
    assert_eq!(v.signer_path().len(), 3);

    // Tagged COSE_Sign1 (18) is accepted as well.
    let sign1 = coset::CoseSign1::from_slice(&pki.vical(pki.default_payload())).unwrap();
    pki.verify(&sign1.to_tagged_vec().unwrap(), AT).unwrap();
}

#[test]
fn metadata_mismatches_are_warnings_and_the_certificate_wins() {
    let pki = TestPki::new();
    let mut first = info(&pki.iacas[0], &[MDL]);
    replace(
        &mut first,
        "serialNumber",
        Value::Tag(2, Box::new(Value::Bytes(vec![0x01]))),
    );
    replace(&mut first, "ski", Value::Bytes(vec![0xaa; 20]));
    replace(&mut first, "issuingCountry", text("FR"));
    // The AAMVA wrapper form of the SKI is not a mismatch.
    let mut second = info(&pki.iacas[1], &[MDL]);
    let ski = Certificate::from_der(&pki.iacas[1])
        .unwrap()
        .subject_key_id()
        .unwrap();
    let mut wrapped = vec![0x04, 0x16, 0x04, 0x14];
    wrapped.extend_from_slice(&ski);
    replace(&mut second, "ski", Value::Bytes(wrapped));
    // Capitalised keys are read too.
    second.push((
        text("CertificateProfile"),
        Value::Array(vec![text("https://profile.example")]),
    ));
    let v = pki
        .verify(&pki.vical(payload(vec![first, second])), AT)
        .unwrap();
    let fields: Vec<(usize, &str)> = v
        .warnings()
        .iter()
        .map(|w| match w {
            VicalWarning::MetadataMismatch { index, field, .. } => (*index, *field),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        [(0, "serialNumber"), (0, "ski"), (0, "issuingCountry")]
    );
    assert_eq!(v.entries()[0].certificate.country().as_deref(), Some("JP"));
    assert_eq!(
        v.entries()[1].certificate_profiles,
        ["https://profile.example"]
    );
}

#[test]
fn unusable_certificate_is_reported_and_left_out() {
    let pki = TestPki::new();
    let mut bad = info(&pki.iacas[0], &[MDL]);
    replace(
        &mut bad,
        "certificate",
        Value::Bytes(vec![0x30, 0x03, 0x02, 0x01]),
    );
    let v = pki
        .verify(
            &pki.vical(payload(vec![bad, info(&pki.iacas[1], &[MDL])])),
            AT,
        )
        .unwrap();
    assert_eq!(v.entries().len(), 1);
    assert_eq!(v.entries()[0].index, 1);
    assert!(matches!(
        v.warnings(),
        [VicalWarning::UnusableCertificate { index: 0, .. }]
    ));
}

#[test]
fn malformed_entries_and_fields_are_errors() {
    let pki = TestPki::new();
    let mut no_doc_type = info(&pki.iacas[0], &[MDL]);
    remove(&mut no_doc_type, "docType");
    let e = pki
        .verify(&pki.vical(payload(vec![no_doc_type])), AT)
        .unwrap_err();
    assert_eq!(
        e,
        Error::MissingField {
            context: "CertificateInfo",
            field: "docType"
        }
    );

    let e = pki
        .verify(&pki.vical(payload(vec![info(&pki.iacas[0], &[])])), AT)
        .unwrap_err();
    assert_eq!(e, Error::Vical(VicalError::EmptyDocType { index: 0 }));

    let mut m = pki.default_payload();
    remove(&mut m, "vicalProvider");
    assert!(matches!(
        pki.verify(&pki.vical(m), AT).unwrap_err(),
        Error::MissingField {
            field: "vicalProvider",
            ..
        }
    ));

    let mut m = pki.default_payload();
    replace(&mut m, "date", text("2026-06-01T00:00:00Z"));
    assert!(matches!(
        pki.verify(&pki.vical(m), AT).unwrap_err(),
        Error::WrongTag { .. }
    ));

    let e = pki.verify(&pki.vical(vec![]), AT).unwrap_err();
    assert!(matches!(e, Error::MissingField { .. }), "{e:?}");

    let bytes = sign(vec![], &pki.chain(), &pki.signer.soft);
    let not_a_map = {
        let mut s = coset::CoseSign1::from_slice(&bytes).unwrap();
        s.payload = Some(encode_value(&Value::Array(vec![])));
        s.to_vec().unwrap()
    };
    // The payload changed, so the signature catches it first.
    assert_eq!(pki.verify(&not_a_map, AT).unwrap_err(), Error::BadSignature);
    let signed_array = PreparedSign1::new(
        Algorithm::Es256,
        encode_value(&Value::Array(vec![])),
        &pki.chain(),
        false,
    )
    .unwrap()
    .sign(&pki.signer.soft)
    .unwrap()
    .to_vec()
    .unwrap();
    assert!(matches!(
        pki.verify(&signed_array, AT).unwrap_err(),
        Error::WrongType { .. }
    ));
}

#[test]
fn detached_payload_is_refused() {
    let pki = TestPki::new();
    let detached = PreparedSign1::new(
        Algorithm::Es256,
        encode_value(&Value::Map(pki.default_payload())),
        &pki.chain(),
        true,
    )
    .unwrap()
    .sign(&pki.signer.soft)
    .unwrap()
    .to_vec()
    .unwrap();
    assert!(matches!(
        pki.verify(&detached, AT).unwrap_err(),
        Error::Cose(_)
    ));
}

#[test]
fn algorithm_policy_is_applied() {
    let pki = TestPki::new();
    let bytes = pki.vical(pki.default_payload());
    let anchors = ta(vec![pki.root.clone()]);
    let mut opts = VicalVerifyOptions::new(AT, &anchors);
    opts.allowed_algorithms = &[Algorithm::Es384];
    let e = VerifiedVical::verify_with(&bytes, &opts, &SoftwareVerifier).unwrap_err();
    assert_eq!(
        e,
        Error::Vical(VicalError::AlgorithmNotAllowed {
            algorithm: Algorithm::Es256
        })
    );
}

#[test]
fn signer_needs_the_vical_eku_and_a_signing_key_usage() {
    let mut no_eku = signer_params();
    no_eku.extended_key_usages = vec![];
    let mut ds_eku = signer_params();
    ds_eku.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![1, 0, 18013, 5, 1, 2])];
    let mut cert_sign_only = signer_params();
    cert_sign_only.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let mut critical = signer_params();
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
    ext.set_criticality(true);
    critical.custom_extensions = vec![ext];
    for signer in [no_eku, ds_eku, cert_sign_only, critical] {
        let pki = TestPki::with(None, ca_params("Test Intermediate", 2, Some(0)), signer);
        let e = pki
            .verify(&pki.vical(pki.default_payload()), AT)
            .unwrap_err();
        assert!(
            matches!(
                signer_error(&e),
                PathError::Profile { .. } | PathError::UnknownCriticalExtension { .. }
            ),
            "{e:?}"
        );
    }
    // digitalSignature instead of contentCommitment is tolerated.
    let mut digital = signer_params();
    digital.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let pki = TestPki::with(None, ca_params("Test Intermediate", 2, Some(0)), digital);
    pki.verify(&pki.vical(pki.default_payload()), AT).unwrap();
}

#[test]
fn every_link_must_be_a_ca_within_its_path_length() {
    // Intermediate without CA=TRUE.
    let mut not_ca = params("Test Intermediate", 2);
    not_ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let pki = TestPki::with(None, not_ca, signer_params());
    let e = pki
        .verify(&pki.vical(pki.default_payload()), AT)
        .unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::IssuerNotCa { cert, reason: NotCaReason::NoBasicConstraints | NotCaReason::NotCa } if cert.position == Position::Chain(0)),
        "{e:?}"
    );

    // Intermediate CA without keyCertSign.
    let mut no_cert_sign = ca_params("Test Intermediate", 2, Some(0));
    no_cert_sign.key_usages = vec![KeyUsagePurpose::CrlSign];
    let pki = TestPki::with(None, no_cert_sign, signer_params());
    let e = pki
        .verify(&pki.vical(pki.default_payload()), AT)
        .unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::IssuerNotCa { cert, reason: NotCaReason::NoKeyCertSign } if cert.position == Position::Chain(0)),
        "{e:?}"
    );

    // Root with pathLen 0 cannot have an intermediate below it.
    let pki = TestPki::with(
        Some(0),
        ca_params("Test Intermediate", 2, Some(0)),
        signer_params(),
    );
    let e = pki
        .verify(&pki.vical(pki.default_payload()), AT)
        .unwrap_err();
    assert!(
        matches!(
            signer_error(&e),
            PathError::PathLenExceeded { path_len: 0, .. }
        ),
        "{e:?}"
    );
    // …but the intermediate itself may be the anchor.
    VerifiedVical::verify(
        &pki.vical(pki.default_payload()),
        AT,
        &ta(vec![Certificate::from_der(&pki.intermediate.der()).unwrap()]),
        &SoftwareVerifier,
    )
    .unwrap();

    // Unknown critical extension on the intermediate.
    let mut critical = ca_params("Test Intermediate", 2, Some(0));
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 2], vec![0x05, 0x00]);
    ext.set_criticality(true);
    critical.custom_extensions = vec![ext];
    let pki = TestPki::with(None, critical, signer_params());
    let e = pki
        .verify(&pki.vical(pki.default_payload()), AT)
        .unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::UnknownCriticalExtension { cert, .. } if cert.position == Position::Chain(0)),
        "{e:?}"
    );
}

#[test]
fn chain_shape_is_checked() {
    let pki = TestPki::new();
    let map = pki.default_payload();

    // Missing intermediate: the signer's issuer is not an anchor.
    let bytes = sign(map.clone(), &[pki.signer.der()], &pki.signer.soft);
    let e = pki.verify(&bytes, AT).unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::UnknownIssuer { cert, .. } if cert.position == Position::Leaf),
        "{e:?}"
    );

    // Another order: the x5chain after the leaf is a set of candidates (as in rustls-webpki),
    // so the path is still found.
    let bytes = sign(
        map.clone(),
        &[
            pki.signer.der(),
            pki.root_issued.der(),
            pki.intermediate.der(),
        ],
        &pki.signer.soft,
    );
    pki.verify(&bytes, AT).unwrap();

    // The root in the chain is fine (AAMVA sends it); too many certificates are not.
    let bytes = sign(
        map.clone(),
        &[
            pki.signer.der(),
            pki.intermediate.der(),
            pki.root_issued.der(),
        ],
        &pki.signer.soft,
    );
    pki.verify(&bytes, AT).unwrap();
    let long: Vec<Vec<u8>> = std::iter::once(pki.signer.der())
        .chain(std::iter::repeat_n(
            pki.intermediate.der(),
            DEFAULT_MAX_CHAIN_LEN,
        ))
        .collect();
    let bytes = sign(map.clone(), &long, &pki.signer.soft);
    let e = pki.verify(&bytes, AT).unwrap_err();
    assert_eq!(
        signer_error(&e),
        &PathError::ChainTooLong {
            len: DEFAULT_MAX_CHAIN_LEN + 1,
            max: DEFAULT_MAX_CHAIN_LEN
        }
    );

    // Signed by a key other than the x5chain leaf's.
    let bytes = sign(map, &pki.chain(), &pki.intermediate.soft);
    assert_eq!(pki.verify(&bytes, AT).unwrap_err(), Error::BadSignature);
}

#[test]
fn signer_must_have_been_valid_at_the_vical_date() {
    let mut late_signer = signer_params();
    late_signer.not_before = datetime!(2026-06-01 12:00:00 UTC);
    let pki = TestPki::with(
        None,
        ca_params("Test Intermediate", 2, Some(0)),
        late_signer,
    );
    let e = pki
        .verify(&pki.vical(pki.default_payload()), AT)
        .unwrap_err();
    assert!(
        matches!(signer_error(&e), PathError::NotYetValid { cert, at, .. } if cert.position == Position::Leaf && *at == DATE),
        "{e:?}"
    );
}

#[test]
fn dates_are_checked() {
    let pki = TestPki::new();
    let mut m = pki.default_payload();
    replace(&mut m, "nextUpdate", tdate(DATE - Duration::days(1)));
    assert_eq!(
        pki.verify(&pki.vical(m), AT).unwrap_err(),
        Error::Vical(VicalError::NextUpdateBeforeDate {
            date: DATE,
            next_update: DATE - Duration::days(1)
        })
    );
    let bytes = pki.vical(pki.default_payload());
    assert_eq!(
        pki.verify(&bytes, DATE - Duration::hours(1)).unwrap_err(),
        Error::Vical(VicalError::DateInFuture {
            date: DATE,
            at: DATE - Duration::hours(1)
        })
    );
    // Within the skew, fine.
    pki.verify(&bytes, DATE - Duration::minutes(4)).unwrap();
}

#[test]
fn staleness_without_next_update_uses_the_maximum_age() {
    let pki = TestPki::new();
    let mut m = pki.default_payload();
    remove(&mut m, "nextUpdate");
    let bytes = pki.vical(m);
    let v = pki.verify(&bytes, DATE + Duration::days(29)).unwrap();
    assert!(v.freshness().is_fresh());
    let v = pki.verify(&bytes, DATE + Duration::days(31)).unwrap();
    assert_eq!(
        v.freshness().reasons(),
        [StaleReason::TooOld {
            date: DATE,
            max_age: DEFAULT_MAX_AGE
        }]
    );
    let anchors = ta(vec![pki.root.clone()]);
    let mut opts = VicalVerifyOptions::new(DATE + Duration::days(31), &anchors);
    opts.max_age = Duration::days(60);
    assert!(VerifiedVical::verify_with(&bytes, &opts, &SoftwareVerifier)
        .unwrap()
        .freshness()
        .is_fresh());
}

#[test]
fn expired_path_is_staleness_not_an_error() {
    let pki = TestPki::new();
    let bytes = pki.vical(pki.default_payload());
    let v = pki
        .verify(&bytes, datetime!(2031-01-01 00:00:00 UTC))
        .unwrap();
    assert_eq!(
        v.freshness().reasons(),
        [
            StaleReason::PastNextUpdate { next_update: NEXT },
            StaleReason::CertificateExpired {
                which: Position::Leaf,
                not_after: datetime!(2030-01-01 00:00:00 UTC)
            },
            StaleReason::CertificateExpired {
                which: Position::Chain(0),
                not_after: datetime!(2030-01-01 00:00:00 UTC)
            },
            StaleReason::CertificateExpired {
                which: Position::Anchor(0),
                not_after: datetime!(2030-01-01 00:00:00 UTC)
            },
        ]
    );
}

/// The producer side: a list written by `VicalContent` verifies with the reader, carries every
/// entry with metadata that agrees with its certificate (no warnings), and is tagged COSE_Sign1.
#[test]
fn written_vical_reads_back_without_warnings() {
    let pki = TestPki::new();
    let content = VicalContent {
        provider: "Test Provider".into(),
        date: DATE,
        issue_id: Some(8),
        next_update: Some(NEXT),
        url: Some("https://dts.example.jp/vical.cbor".into()),
        iacas: pki
            .iacas
            .iter()
            .map(|der| ListedIaca {
                certificate: Certificate::from_der(der).unwrap(),
                doc_types: vec![MDL.into()],
                certificate_profiles: Vec::new(),
            })
            .collect(),
    };
    let bytes = content.sign(&pki.chain(), &pki.signer.soft).unwrap();
    assert_eq!(bytes[0], 0xd2, "tag 18");
    let v = pki.verify(&bytes, AT).unwrap();
    assert!(v.warnings().is_empty(), "{:?}", v.warnings());
    assert_eq!(v.issue_id(), Some(8));
    assert_eq!(v.provider(), "Test Provider");
    assert_eq!(v.next_update(), Some(NEXT));
    assert_eq!(v.url(), Some("https://dts.example.jp/vical.cbor"));
    assert_eq!(v.iacas_for(MDL).count(), 2);
    assert_eq!(v.entries()[0].certificate.der(), pki.iacas[0].as_slice());
}

#[test]
fn writer_refuses_an_empty_doc_type_a_reversed_next_update_and_no_signer() {
    let pki = TestPki::new();
    let mut content = VicalContent {
        provider: "P".into(),
        date: DATE,
        issue_id: None,
        next_update: None,
        url: None,
        iacas: vec![ListedIaca {
            certificate: Certificate::from_der(&pki.iacas[0]).unwrap(),
            doc_types: Vec::new(),
            certificate_profiles: Vec::new(),
        }],
    };
    assert!(matches!(
        content.to_payload(),
        Err(Error::Vical(VicalError::EmptyDocType { index: 0 }))
    ));
    content.iacas[0].doc_types = vec![MDL.into()];
    content.next_update = Some(DATE - Duration::days(1));
    assert!(matches!(
        content.to_payload(),
        Err(Error::Vical(VicalError::NextUpdateBeforeDate { .. }))
    ));
    content.next_update = None;
    assert!(matches!(
        content.sign(&[], &pki.signer.soft),
        Err(Error::Vical(VicalError::NoSignerCertificate))
    ));
}
