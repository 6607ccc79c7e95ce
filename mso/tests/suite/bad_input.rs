//! Hostile and malformed input: every error path gives its specific error, never a panic and
//! never a "valid" verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{forge, mdl, pki};

use mso::cbor::{from_slice, node, Limits, TDate, Value};
use mso::crypto::{Algorithm, DigestAlgorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{DeviceResponse, IssuerSigned, MobileSecurityObject, MDL_DOCTYPE, MDL_NAMESPACE};
use mso::verify::{
    verify_issuer_signed, CheckKind, DocumentReport, Failure, IssuerTrust, VerifyOptions,
};
use mso::Error;
use sha2::{Digest, Sha256};
use time::Duration;

fn parse(hex_str: &str) -> Result<node::Node, Error> {
    node::parse(&hex::decode(hex_str).unwrap(), &Limits::DEFAULT)
}

#[test]
fn truncated_input() {
    assert!(matches!(parse("a16161"), Err(Error::Truncated { .. })));
    assert!(matches!(parse("5820aabb"), Err(Error::Truncated { .. })));
    assert!(matches!(parse("19"), Err(Error::Truncated { .. })));
    assert!(matches!(parse(""), Err(Error::Truncated { .. })));
}

#[test]
fn oversized_claims_do_not_allocate() {
    // A byte string claiming 2^64-1 bytes, an array claiming 2^64-1 items.
    assert!(matches!(
        parse("5bffffffffffffffff"),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse("9bffffffffffffffff"),
        Err(Error::TooManyItems { .. })
    ));
    assert!(matches!(
        parse("bbffffffffffffffff"),
        Err(Error::TooManyItems { .. })
    ));
}

#[test]
fn trailing_bytes() {
    assert_eq!(
        parse("0102"),
        Err(Error::TrailingBytes {
            offset: 1,
            count: 1
        })
    );
}

#[test]
fn input_larger_than_the_limit() {
    let limits = Limits {
        max_size: 4,
        ..Limits::DEFAULT
    };
    assert_eq!(
        node::parse(&[0x45, 1, 2, 3, 4, 5], &limits),
        Err(Error::TooLarge { size: 6, limit: 4 })
    );
}

#[test]
fn nesting_deeper_than_the_limit() {
    let mut deep = vec![0x81u8; 100];
    deep.push(0x00);
    assert!(matches!(
        node::parse(&deep, &Limits::DEFAULT),
        Err(Error::TooDeep { limit: 24, .. })
    ));
    // Tags count as nesting too.
    let mut tags = vec![0xc6u8; 100];
    tags.push(0x00);
    assert!(matches!(
        node::parse(&tags, &Limits::DEFAULT),
        Err(Error::TooDeep { .. })
    ));
}

#[test]
fn too_many_items_in_total() {
    let limits = Limits {
        max_total_items: 10,
        ..Limits::DEFAULT
    };
    let mut arr = vec![0x8f];
    arr.extend([0u8; 15]);
    assert!(matches!(
        node::parse(&arr, &limits),
        Err(Error::TooManyItems { .. })
    ));
}

#[test]
fn indefinite_lengths_are_refused() {
    for h in ["9f01ff", "bf6161 01ff", "5f4100ff", "7f6161ff"] {
        let h = h.replace(' ', "");
        assert_eq!(parse(&h), Err(Error::IndefiniteLength { offset: 0 }), "{h}");
    }
}

#[test]
fn duplicate_map_keys_are_refused() {
    assert_eq!(
        parse("a2616101616102"),
        Err(Error::DuplicateKey { offset: 4 })
    );
    // The same key in a non-shortest encoding is still the same key.
    assert!(matches!(
        parse("a20100180100"),
        Err(Error::DuplicateKey { .. })
    ));
    // Nested maps are checked too.
    assert!(matches!(
        parse("a1 00 a2 0101 0102".replace(' ', "").as_str()),
        Err(Error::DuplicateKey { .. })
    ));
}

#[test]
fn invalid_utf8_and_reserved_encodings() {
    assert_eq!(parse("62c328"), Err(Error::InvalidUtf8 { offset: 0 }));
    assert!(matches!(parse("1c"), Err(Error::Malformed { .. })));
    assert!(matches!(parse("ff"), Err(Error::Malformed { .. })));
    assert_eq!(
        parse("f0"),
        Err(Error::UnsupportedSimple {
            value: 16,
            offset: 0
        })
    );
}

#[test]
fn wrong_types_and_missing_fields_name_the_structure() {
    let l = Limits::DEFAULT;
    // IssuerSigned is a map; here it is an array.
    assert!(matches!(
        from_slice::<IssuerSigned>(&[0x80], &l),
        Err(Error::WrongType {
            context: "IssuerSigned",
            ..
        })
    ));
    // {"nameSpaces": {}} without issuerAuth.
    let v = forge::map(vec![("nameSpaces", Value::Map(vec![]))]);
    assert_eq!(
        from_slice::<IssuerSigned>(&mso::cbor::encode_value(&v), &l),
        Err(Error::MissingField {
            context: "IssuerSigned",
            field: "issuerAuth"
        })
    );
    // issuerAuth is a map instead of a COSE_Sign1.
    let v = forge::map(vec![("issuerAuth", Value::Map(vec![]))]);
    assert!(matches!(
        from_slice::<IssuerSigned>(&mso::cbor::encode_value(&v), &l),
        Err(Error::WrongType {
            context: "COSE_Sign1",
            ..
        })
    ));
    // DeviceResponse status as text.
    let v = forge::map(vec![
        ("version", Value::Text("1.0".into())),
        ("status", Value::Text("0".into())),
    ]);
    assert!(matches!(
        from_slice::<DeviceResponse>(&mso::cbor::encode_value(&v), &l),
        Err(Error::WrongType {
            context: "DeviceResponse",
            ..
        })
    ));
    // Unsupported major version.
    let v = forge::map(vec![
        ("version", Value::Text("2.0".into())),
        ("status", Value::Integer(0.into())),
    ]);
    assert!(matches!(
        from_slice::<DeviceResponse>(&mso::cbor::encode_value(&v), &l),
        Err(Error::InvalidValue {
            context: "DeviceResponse",
            ..
        })
    ));
}

#[test]
fn wrong_tags_are_reported_with_expected_and_found() {
    let l = Limits::DEFAULT;
    // tdate must be tag 0.
    let untagged = mso::cbor::encode_value(&Value::Text("2026-01-01T00:00:00Z".into()));
    assert_eq!(
        from_slice::<TDate>(&untagged, &l),
        Err(Error::WrongTag {
            context: "tdate",
            expected: 0,
            found: None,
            offset: 0
        })
    );
    let tag1 = mso::cbor::encode_value(&Value::Tag(1, Box::new(Value::Integer(0.into()))));
    assert!(matches!(
        from_slice::<TDate>(&tag1, &l),
        Err(Error::WrongTag { found: Some(1), .. })
    ));
    // full-date must be tag 1004.
    let wrong = mso::cbor::encode_value(&Value::Tag(0, Box::new(Value::Text("1990-01-01".into()))));
    assert!(matches!(
        from_slice::<mso::cbor::FullDate>(&wrong, &l),
        Err(Error::WrongTag {
            context: "full-date",
            expected: 1004,
            found: Some(0),
            ..
        })
    ));
    // An IssuerSignedItemBytes with tag 25 instead of 24.
    let item = mso::cbor::encode_value(&Value::Tag(25, Box::new(Value::Bytes(vec![0xa0]))));
    assert!(matches!(
        mso::cbor::Tag24::<mso::model::IssuerSignedItem>::from_tagged_slice(&item, &l),
        Err(Error::WrongTag {
            expected: 24,
            found: Some(25),
            ..
        })
    ));
    // COSE_Sign1 under a tag other than 18.
    let v = forge::map(vec![(
        "issuerAuth",
        Value::Tag(98, Box::new(Value::Array(vec![]))),
    )]);
    assert!(matches!(
        from_slice::<IssuerSigned>(&mso::cbor::encode_value(&v), &l),
        Err(Error::WrongTag {
            context: "COSE_Sign1",
            expected: 18,
            found: Some(98),
            ..
        })
    ));
}

#[test]
fn bad_dates_are_refused() {
    assert!(matches!(
        TDate::parse("2026-13-01T00:00:00Z"),
        Err(Error::InvalidDate { kind: "tdate", .. })
    ));
    assert!(matches!(
        TDate::parse("yesterday"),
        Err(Error::InvalidDate { .. })
    ));
    assert!(matches!(
        mso::cbor::FullDate::parse("1990-1-01"),
        Err(Error::InvalidDate {
            kind: "full-date",
            ..
        })
    ));
    assert!(matches!(
        mso::cbor::FullDate::parse("1990-02-30"),
        Err(Error::InvalidDate { .. })
    ));
    // Producers write UTC without fractions; consumers normalise.
    let t = TDate::parse("2026-01-01T09:00:00.75+09:00").unwrap();
    assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00Z");
}

struct Fixture {
    pki: pki::TestPki,
    device: SoftwareKey,
}

fn fixture() -> Fixture {
    Fixture {
        pki: pki::TestPki::new(),
        device: SoftwareKey::generate(Algorithm::Es256),
    }
}

fn verify(
    bytes: &[u8],
    trust: &IssuerTrust,
    at: time::OffsetDateTime,
) -> Result<DocumentReport, Error> {
    let is: IssuerSigned = from_slice(bytes, &Limits::DEFAULT)?;
    Ok(verify_issuer_signed(
        &is,
        Some(MDL_DOCTYPE),
        &VerifyOptions {
            skew: Duration::ZERO,
            ..VerifyOptions::new(at, trust, &SoftwareVerifier)
        },
    ))
}

/// `mso` signed by the fixture's DS (ES256, x5chain = the DS certificate).
fn ds_signed(f: &Fixture, mso: &Value) -> Vec<u8> {
    forge::sign_mso(
        mso,
        Algorithm::Es256,
        &f.pki.ds_key,
        std::slice::from_ref(&f.pki.ds_der),
    )
}

/// Verifies IssuerSigned bytes against the fixture's IACA at the standard time.
fn verify_iaca(f: &Fixture, bytes: &[u8]) -> DocumentReport {
    verify(bytes, &IssuerTrust::iacas(vec![f.pki.iaca()]), pki::AT).unwrap()
}

/// One item, its digest, and the MSO built around it, signed by the fixture's DS.
fn forged(f: &Fixture, digest_alg: &str, digest: Option<Vec<u8>>, random_len: usize) -> Vec<u8> {
    let item = forge::item(
        7,
        vec![0x11; random_len],
        "family_name",
        Value::Text("Yamada".into()),
    );
    let digest = digest.unwrap_or_else(|| Sha256::digest(&item).to_vec());
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        digest_alg,
        vec![(7, digest)],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    let sign1 = ds_signed(f, &mso);
    forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1)
}

#[test]
fn forged_baseline_is_valid() {
    let f = fixture();
    let r = verify(
        &forged(&f, "SHA-256", None, 16),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
}

#[test]
fn digest_of_the_wrong_length() {
    let f = fixture();
    let bytes = forged(&f, "SHA-256", Some(vec![0; 31]), 16);
    assert_eq!(
        from_slice::<IssuerSigned>(&bytes, &Limits::DEFAULT),
        Err(Error::DigestLength {
            algorithm: "SHA-256",
            expected: 32,
            found: 31
        })
    );
    let bytes = forged(&f, "SHA-384", Some(vec![0; 32]), 16);
    assert!(matches!(
        from_slice::<IssuerSigned>(&bytes, &Limits::DEFAULT),
        Err(Error::DigestLength {
            algorithm: "SHA-384",
            expected: 48,
            found: 32
        })
    ));
}

#[test]
fn unknown_digest_algorithm() {
    let f = fixture();
    let bytes = forged(&f, "MD5", Some(vec![0; 16]), 16);
    assert!(matches!(
        from_slice::<IssuerSigned>(&bytes, &Limits::DEFAULT),
        Err(Error::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn salt_shorter_than_16_bytes() {
    let f = fixture();
    assert!(matches!(
        from_slice::<IssuerSigned>(&forged(&f, "SHA-256", None, 15), &Limits::DEFAULT),
        Err(Error::InvalidValue {
            context: "IssuerSignedItem",
            ..
        })
    ));
}

#[test]
fn digest_algorithm_is_honoured() {
    // SHA-384 digests verify as SHA-384 (one verifier always used SHA-256).
    let f = fixture();
    let item = forge::item(
        7,
        vec![0x11; 16],
        "family_name",
        Value::Text("Yamada".into()),
    );
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-384",
        vec![(7, DigestAlgorithm::Sha384.digest(&item))],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    let sign1 = ds_signed(&f, &mso);
    let bytes = forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1);
    let r = verify_iaca(&f, &bytes);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
}

#[test]
fn digests_are_over_the_received_bytes_even_when_not_shortest_form() {
    // digestID written with an 8-byte head: re-encoding would shorten it and break the digest.
    let f = fixture();
    let mut inner = vec![0xa4];
    inner.extend(mso::cbor::encode_value(&Value::Text("digestID".into())));
    inner.extend([0x1b, 0, 0, 0, 0, 0x28, 0x3e, 0xe6, 0x99]);
    inner.extend(mso::cbor::encode_value(&Value::Text("random".into())));
    inner.extend(mso::cbor::encode_value(&Value::Bytes(vec![0x22; 16])));
    inner.extend(mso::cbor::encode_value(&Value::Text(
        "elementIdentifier".into(),
    )));
    inner.extend(mso::cbor::encode_value(&Value::Text("family_name".into())));
    inner.extend(mso::cbor::encode_value(&Value::Text("elementValue".into())));
    inner.extend(mso::cbor::encode_value(&Value::Text("Yamada".into())));
    // The bstr head is non-shortest too (2-byte length for a short string).
    let mut item = vec![0xd8, 0x18, 0x59];
    item.extend((inner.len() as u16).to_be_bytes());
    item.extend(&inner);
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![(0x283e_e699, Sha256::digest(&item).to_vec())],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    let sign1 = ds_signed(&f, &mso);
    let bytes = forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1);
    let r = verify_iaca(&f, &bytes);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
}

#[test]
fn digest_ids_of_2_pow_31_and_above_are_accepted_when_verifying() {
    let f = fixture();
    let id = (1u64 << 32) + 5;
    let item = forge::item(
        id,
        vec![0x11; 16],
        "family_name",
        Value::Text("Yamada".into()),
    );
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![(id, Sha256::digest(&item).to_vec())],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    let sign1 = ds_signed(&f, &mso);
    let bytes = forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1);
    let r = verify_iaca(&f, &bytes);
    assert!(r.is_valid());
}

#[test]
fn unknown_and_mismatched_algorithms() {
    let f = fixture();
    let item = forge::item(
        7,
        vec![0x11; 16],
        "family_name",
        Value::Text("Yamada".into()),
    );
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![(7, Sha256::digest(&item).to_vec())],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    // ES384 header over a P-256 DS key: the signer refuses to produce it...
    let p384 = SoftwareKey::generate(Algorithm::Es384);
    let prepared = mso::cose::PreparedSign1::new(
        Algorithm::Es384,
        forge::tag24(mso::cbor::encode_value(&mso)),
        std::slice::from_ref(&f.pki.ds_der),
        false,
    )
    .unwrap();
    assert!(matches!(
        prepared.clone().sign(&f.pki.ds_key),
        Err(Error::AlgorithmMismatch { .. })
    ));
    // ...and a verifier reports it when someone else did.
    use coset::CborSerializable;
    let sign1 = prepared.sign(&p384).unwrap().to_vec().unwrap();
    let bytes = forge::issuer_signed_bytes(MDL_NAMESPACE, std::slice::from_ref(&item), &sign1);
    let r = verify_iaca(&f, &bytes);
    assert!(matches!(
        r.outcome(CheckKind::IssuerSignature),
        Some(Err(Failure::Error(Error::AlgorithmMismatch { .. })))
    ));

    // An algorithm id nobody knows.
    let mut s1 = coset::CoseSign1::from_slice(&ds_signed(&f, &mso)).unwrap();
    s1.protected = coset::ProtectedHeader {
        original_data: None,
        header: coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::PS256)
            .build(),
    };
    let bytes = forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &s1.to_vec().unwrap());
    let r = verify_iaca(&f, &bytes);
    assert!(matches!(
        r.outcome(CheckKind::IssuerAlgorithm),
        Some(Err(Failure::Error(Error::UnsupportedAlgorithm(_))))
    ));
    assert!(!r.is_valid());
}

#[test]
fn x5chain_garbage_and_absence() {
    let f = fixture();
    let item = forge::item(
        7,
        vec![0x11; 16],
        "family_name",
        Value::Text("Yamada".into()),
    );
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![(7, Sha256::digest(&item).to_vec())],
        forge::cose_key_value(&f.device.public_key().unwrap()),
        MDL_DOCTYPE,
    );
    let trust = IssuerTrust::iacas(vec![f.pki.iaca()]);
    // Garbage certificate bytes.
    let sign1 = forge::sign_mso(
        &mso,
        Algorithm::Es256,
        &f.pki.ds_key,
        &[b"garbage".to_vec()],
    );
    let r = verify(
        &forge::issuer_signed_bytes(MDL_NAMESPACE, std::slice::from_ref(&item), &sign1),
        &trust,
        pki::AT,
    )
    .unwrap();
    assert!(matches!(
        r.outcome(CheckKind::DsCertificate),
        Some(Err(Failure::Error(Error::Certificate(_))))
    ));
    assert!(matches!(
        r.outcome(CheckKind::IssuerSignature),
        Some(Err(Failure::NotChecked(_)))
    ));
    assert!(!r.is_valid());
    // 11,000 copies of the DS certificate: refused by count (the valid chain is the first).
    let ds = f.pki.ds_der.clone();
    let sign1 = forge::sign_mso(&mso, Algorithm::Es256, &f.pki.ds_key, &vec![ds; 11_000]);
    let r = verify(
        &forge::issuer_signed_bytes(MDL_NAMESPACE, std::slice::from_ref(&item), &sign1),
        &trust,
        pki::AT,
    )
    .unwrap();
    assert!(
        matches!(
            r.outcome(CheckKind::DsCertificate),
            Some(Err(Failure::Error(Error::X5Chain(m)))) if m.contains("11000")
        ),
        "{:?}",
        r.outcome(CheckKind::DsCertificate)
    );
    assert!(!r.is_valid());
    // No x5chain at all.
    let sign1 = forge::sign_mso(&mso, Algorithm::Es256, &f.pki.ds_key, &[]);
    let r = verify(
        &forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1),
        &trust,
        pki::AT,
    )
    .unwrap();
    assert!(matches!(
        r.outcome(CheckKind::DsCertificate),
        Some(Err(Failure::Error(Error::X5Chain(_))))
    ));
    assert!(!r.is_valid());
}

#[test]
fn invalid_device_key_is_reported() {
    let f = fixture();
    let item = forge::item(
        7,
        vec![0x11; 16],
        "family_name",
        Value::Text("Yamada".into()),
    );
    // x and y that are not a point on P-256.
    let bad_key = Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer(2.into())),
        (Value::Integer((-1).into()), Value::Integer(1.into())),
        (Value::Integer((-2).into()), Value::Bytes(vec![1; 32])),
        (Value::Integer((-3).into()), Value::Bytes(vec![2; 32])),
    ]);
    let mso = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![(7, Sha256::digest(&item).to_vec())],
        bad_key,
        MDL_DOCTYPE,
    );
    let sign1 = ds_signed(&f, &mso);
    let r = verify(
        &forge::issuer_signed_bytes(MDL_NAMESPACE, &[item], &sign1),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert!(matches!(
        r.outcome(CheckKind::DeviceKey),
        Some(Err(Failure::Error(Error::InvalidKey(_))))
    ));
    assert!(!r.is_valid());
}

#[test]
fn mso_of_the_wrong_shape_is_refused() {
    let l = Limits::DEFAULT;
    // MSO without docType.
    let key = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let mut v = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![],
        forge::cose_key_value(&key),
        MDL_DOCTYPE,
    );
    if let Value::Map(entries) = &mut v {
        entries.retain(|(k, _)| k != &Value::Text("docType".into()));
    }
    assert!(matches!(
        from_slice::<MobileSecurityObject>(&mso::cbor::encode_value(&v), &l),
        Err(Error::MissingField {
            context: "MobileSecurityObject",
            field: "docType"
        })
    ));
    // A deviceKey that is not a COSE_Key.
    let v = forge::mso_value(
        MDL_NAMESPACE,
        "SHA-256",
        vec![],
        Value::Text("key".into()),
        MDL_DOCTYPE,
    );
    assert!(matches!(
        from_slice::<MobileSecurityObject>(&mso::cbor::encode_value(&v), &l),
        Err(Error::WrongType {
            context: "COSE_Key",
            ..
        })
    ));
}

// ---- Each single mutation of a valid document is reported as its own failed check. ----

fn sample() -> (Fixture, IssuerSigned) {
    let f = fixture();
    let is = mdl::issue_mdl(
        &f.pki.ds_key,
        &f.pki.ds_der,
        &f.device.public_key().unwrap(),
    );
    (f, is)
}

fn only_failure(r: &DocumentReport) -> (CheckKind, Failure) {
    let failed: Vec<_> = r.failures().collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    (failed[0].kind, failed[0].outcome.clone().unwrap_err())
}

#[test]
fn changed_element_value_is_a_digest_mismatch() {
    let (f, is) = sample();
    let mut bytes = mso::cbor::to_vec(&is);
    let pos = bytes.windows(6).position(|w| w == b"Yamada").unwrap();
    bytes[pos] = b'X';
    let r = verify_iaca(&f, &bytes);
    assert_eq!(
        only_failure(&r),
        (CheckKind::ValueDigest, Failure::DigestMismatch)
    );
    let failed = r.failures().next().unwrap();
    assert_eq!(
        failed.subject.as_deref(),
        Some("org.iso.18013.5.1/family_name")
    );
}

#[test]
fn element_not_in_the_mso_is_reported() {
    let (f, mut is) = sample();
    let ns = is.name_spaces.as_mut().unwrap();
    let items = ns.get(MDL_NAMESPACE).unwrap().clone();
    ns.insert("org.example.injected".into(), items[..1].to_vec());
    let r = verify(
        &mso::cbor::to_vec(&is),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert_eq!(
        only_failure(&r),
        (CheckKind::ValueDigest, Failure::DigestNotInMso)
    );
}

#[test]
fn duplicated_element_is_reported() {
    let (f, mut is) = sample();
    let items = is
        .name_spaces
        .as_mut()
        .unwrap()
        .get_mut(MDL_NAMESPACE)
        .unwrap();
    let first = items[0].clone();
    items.push(first);
    let r = verify(
        &mso::cbor::to_vec(&is),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert_eq!(
        only_failure(&r),
        (CheckKind::ValueDigest, Failure::DuplicateElement)
    );
}

#[test]
fn tampered_signature_is_an_issuer_signature_failure() {
    let (f, is) = sample();
    let mut sign1 = is.issuer_auth.sign1().clone();
    sign1.signature[10] ^= 0x01;
    let tampered = IssuerSigned {
        name_spaces: is.name_spaces.clone(),
        issuer_auth: mso::model::IssuerAuth::from_sign1(sign1, &Limits::DEFAULT).unwrap(),
    };
    let r = verify(
        &mso::cbor::to_vec(&tampered),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert_eq!(
        only_failure(&r),
        (
            CheckKind::IssuerSignature,
            Failure::Error(Error::BadSignature)
        )
    );
}

#[test]
fn untrusted_issuer_and_pinned_mismatch() {
    let (_f, is) = sample();
    let other = pki::TestPki::new();
    let r = verify(
        &mso::cbor::to_vec(&is),
        &IssuerTrust::iacas(vec![other.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert!(matches!(
        only_failure(&r),
        (CheckKind::DsTrusted, Failure::NoTrustedIssuer(_))
    ));
    let r = verify(
        &mso::cbor::to_vec(&is),
        &IssuerTrust::PinnedDocumentSigner(Box::new(other.ds())),
        pki::AT,
    )
    .unwrap();
    assert_eq!(
        only_failure(&r),
        (CheckKind::DsTrusted, Failure::NotThePinnedCertificate)
    );
}

#[test]
fn expired_and_not_yet_valid_mso() {
    let (f, is) = sample();
    let trust = IssuerTrust::iacas(vec![f.pki.iaca()]);
    let bytes = mso::cbor::to_vec(&is);
    // The sample is valid 2026-05-01T09:30:00Z .. 2027-05-01T09:30:00Z; the DS until 2027-04-01.
    let before = time::macros::datetime!(2026-04-30 00:00:00 UTC);
    let r = verify(&bytes, &trust, before).unwrap();
    assert!(matches!(
        only_failure(&r),
        (CheckKind::MsoValidity, Failure::MsoNotYetValid { .. })
    ));
    let after_ds = time::macros::datetime!(2027-04-15 00:00:00 UTC);
    let r = verify(&bytes, &trust, after_ds).unwrap();
    assert!(matches!(
        only_failure(&r),
        (
            CheckKind::DsValidity,
            Failure::CertificateExpired { which: "DS", .. }
        )
    ));
}

#[test]
fn signed_outside_ds_validity() {
    let f = fixture();
    let is = mdl::mdl_builder(&f.device.public_key().unwrap())
        .validity(mso::issue::validity_for_days(
            time::macros::datetime!(2025-12-01 00:00:00 UTC),
            400,
        ))
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&f.pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&f.pki.ds_key)
        .unwrap();
    let r = verify(
        &mso::cbor::to_vec(&is),
        &IssuerTrust::iacas(vec![f.pki.iaca()]),
        pki::AT,
    )
    .unwrap();
    assert!(matches!(
        only_failure(&r),
        (
            CheckKind::SignedWithinDsValidity,
            Failure::SignedOutsideDsValidity { .. }
        )
    ));
}

#[test]
fn doc_type_mismatch() {
    let (f, is) = sample();
    let r = verify_issuer_signed(
        &is,
        Some("eu.europa.ec.eudi.pid.1"),
        &VerifyOptions {
            skew: Duration::ZERO,
            ..VerifyOptions::new(
                pki::AT,
                &IssuerTrust::iacas(vec![f.pki.iaca()]),
                &SoftwareVerifier,
            )
        },
    );
    assert!(matches!(
        only_failure(&r),
        (CheckKind::DocType, Failure::DocTypeMismatch { .. })
    ));
}

#[test]
fn algorithm_outside_policy() {
    let (f, is) = sample();
    let r = verify_issuer_signed(
        &is,
        Some(MDL_DOCTYPE),
        &VerifyOptions {
            skew: Duration::ZERO,
            allowed_algorithms: &[Algorithm::Es384],
            ..VerifyOptions::new(
                pki::AT,
                &IssuerTrust::iacas(vec![f.pki.iaca()]),
                &SoftwareVerifier,
            )
        },
    );
    assert!(matches!(
        r.outcome(CheckKind::IssuerAlgorithm),
        Some(Err(Failure::AlgorithmNotAllowed(Algorithm::Es256)))
    ));
    assert!(!r.is_valid());
}

#[test]
fn builder_refuses_inconsistent_requests() {
    let f = fixture();
    let device = f.device.public_key().unwrap();
    let chain = [f.pki.ds_der.clone()];
    let rng = &mut rand_core::OsRng;
    // No elements.
    let empty = mso::issue::MdocBuilder::new(MDL_DOCTYPE)
        .device_key(&device)
        .validity(mso::issue::validity_for_days(pki::AT, 30));
    assert!(matches!(
        empty.prepare(Algorithm::Es256, &chain, rng),
        Err(Error::InvalidRequest(_))
    ));
    // Duplicate element.
    let dup = mdl::mdl_builder(&device).element(
        MDL_NAMESPACE,
        "family_name",
        Value::Text("Again".into()),
    );
    assert!(matches!(
        dup.prepare(Algorithm::Es256, &chain, rng),
        Err(Error::InvalidRequest(_))
    ));
    // validFrom after validUntil.
    let mut v = mso::issue::validity_for_days(pki::AT, 30);
    std::mem::swap(&mut v.valid_from, &mut v.valid_until);
    assert!(matches!(
        mdl::mdl_builder(&device)
            .validity(v)
            .prepare(Algorithm::Es256, &chain, rng),
        Err(Error::InvalidRequest(_))
    ));
    // No DS certificate.
    assert!(matches!(
        mdl::mdl_builder(&device).prepare(Algorithm::Es256, &[], rng),
        Err(Error::X5Chain(_))
    ));
    // A signature of the wrong length from a (remote) signer.
    let prepared = mdl::mdl_builder(&device)
        .prepare(Algorithm::Es256, &chain, rng)
        .unwrap();
    assert!(matches!(
        prepared.complete(vec![0; 63]),
        Err(Error::MalformedSignature(_))
    ));
}

#[test]
fn unknown_keys_in_closed_maps_are_refused() {
    let (_f, is) = sample();
    let bytes = mso::cbor::to_vec(&is);
    // Rename "issuerAuth" → "issuerAutH": the map now has a key IssuerSigned does not define.
    let mut renamed = bytes.clone();
    let pos = renamed
        .windows(10)
        .position(|w| w == b"issuerAuth")
        .unwrap();
    renamed[pos + 9] = b'H';
    assert_eq!(
        from_slice::<IssuerSigned>(&renamed, &Limits::DEFAULT),
        Err(Error::UnknownField {
            context: "IssuerSigned",
            field: "issuerAutH".into()
        })
    );
}
