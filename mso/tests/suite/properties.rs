//! Property tests: encode → decode is the identity, and any single mutated byte of a signed
//! document is rejected (a decode error or a failed check, never "valid").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::pki;

use std::sync::OnceLock;

use mso::cbor::{encode_value, from_slice, node, Limits, TDate, Tag24, ToCbor, Value};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::issue::{validity_for_days, MdocBuilder};
use mso::model::{
    DeviceResponse, Document, Handover, IssuerSigned, IssuerSignedItem, SessionTranscript,
    MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::present::{device_response, present_with_signature};
use mso::verify::{
    verify_device_response, verify_issuer_signed, DeviceAuthInput, IssuerTrust, VerifyOptions,
};
use proptest::prelude::*;
use time::Duration;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| Value::Integer(i.into())),
        any::<u64>().prop_map(|i| Value::Integer(i.into())),
        ".{0,20}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (1900i32..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
            Value::Tag(1004, Box::new(Value::Text(format!("{y:04}-{m:02}-{d:02}"))))
        }),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4).prop_map(|m| {
                Value::Map(m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect())
            }),
        ]
    })
}

/// Map keys of the kinds sorted without encoding (integers, text, bytes of lengths around the
/// head-size boundaries) and of kinds that are encoded to sort (arrays, tags, floats).
fn map_key() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|i| Value::Integer(i.into())),
        (0u64..300).prop_map(|i| Value::Integer(i.into())),
        (-300i64..0).prop_map(|i| Value::Integer(i.into())),
        any::<u64>().prop_map(|i| Value::Integer(i.into())),
        "[a-c]{0,3}".prop_map(Value::Text),
        ".{20,30}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..30).prop_map(Value::Bytes),
        proptest::collection::vec(any::<u8>(), 250..260).prop_map(Value::Bytes),
        (0u64..3).prop_map(|i| Value::Array(vec![Value::Integer(i.into())])),
        Just(Value::Float(1.5)),
    ]
}

fn item() -> impl Strategy<Value = IssuerSignedItem> {
    (
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 16..48),
        "[a-z_0-9]{1,30}",
        value(),
    )
        .prop_map(
            |(digest_id, random, element_identifier, element_value)| IssuerSignedItem {
                digest_id,
                random,
                element_identifier,
                element_value,
            },
        )
}

struct Sample {
    pki: pki::TestPki,
    issuer_signed: Vec<u8>,
    response: Vec<u8>,
    transcript: SessionTranscript,
}

/// A small signed mDL (so mutations spread over every structure, not only a portrait).
fn sample() -> &'static Sample {
    static S: OnceLock<Sample> = OnceLock::new();
    S.get_or_init(|| {
        let pki = pki::TestPki::new();
        let device = SoftwareKey::generate(Algorithm::Es256);
        let is = MdocBuilder::new(MDL_DOCTYPE)
            .element(MDL_NAMESPACE, "family_name", Value::Text("Yamada".into()))
            .element(MDL_NAMESPACE, "given_name", Value::Text("Hanako".into()))
            .element(
                MDL_NAMESPACE,
                "birth_date",
                Value::Tag(1004, Box::new(Value::Text("1990-02-28".into()))),
            )
            .element(MDL_NAMESPACE, "age_over_18", Value::Bool(true))
            .element(
                MDL_NAMESPACE,
                "portrait",
                Value::Bytes(vec![0xff, 0xd8, 0xff, 0xd9]),
            )
            .device_key(&device.public_key().unwrap())
            .validity(validity_for_days(pki::AT - Duration::days(1), 30))
            .prepare(
                Algorithm::Es256,
                std::slice::from_ref(&pki.ds_der),
                &mut rand_core::OsRng,
            )
            .unwrap()
            .sign(&pki.ds_key)
            .unwrap();
        let transcript = SessionTranscript::online(&Handover::OpenId4VpDcApi {
            origin: "https://verifier.example.jp".into(),
            nonce: "abc".into(),
            jwk_thumbprint: None,
        });
        let doc = present_with_signature(&is, None, &transcript, &device).unwrap();
        Sample {
            issuer_signed: mso::cbor::to_vec(&is),
            response: mso::cbor::to_vec(&device_response(vec![doc])),
            pki,
            transcript,
        }
    })
}

fn opts<'a>(trust: &'a IssuerTrust) -> VerifyOptions<'a> {
    VerifyOptions {
        skew: Duration::ZERO,
        ..VerifyOptions::new(pki::AT, trust, &SoftwareVerifier)
    }
}

fn issuer_signed_is_valid(bytes: &[u8], trust: &IssuerTrust) -> bool {
    match from_slice::<IssuerSigned>(bytes, &Limits::DEFAULT) {
        Ok(is) => verify_issuer_signed(&is, Some(MDL_DOCTYPE), &opts(trust)).is_valid(),
        Err(_) => false,
    }
}

fn response_is_valid(bytes: &[u8], s: &Sample, trust: &IssuerTrust) -> bool {
    match from_slice::<DeviceResponse>(bytes, &Limits::DEFAULT) {
        Ok(r) => verify_device_response(
            &r,
            &DeviceAuthInput {
                transcript: &s.transcript,
                e_reader_key: None,
            },
            &opts(trust),
        )
        .is_valid(),
        Err(_) => false,
    }
}

/// The byte range of `documents[0]` inside the response (status and version are not signed).
fn document_span(bytes: &[u8]) -> core::ops::Range<usize> {
    let n = node::parse(bytes, &Limits::DEFAULT).unwrap();
    let m = n.map(bytes, "DeviceResponse").unwrap();
    m.required("documents").unwrap().array("documents").unwrap()[0]
        .span
        .clone()
}

#[test]
fn unmutated_samples_are_valid() {
    let s = sample();
    for trust in [
        IssuerTrust::iacas(vec![s.pki.iaca()]),
        IssuerTrust::PinnedDocumentSigner(Box::new(s.pki.ds())),
    ] {
        assert!(issuer_signed_is_valid(&s.issuer_signed, &trust));
        assert!(response_is_valid(&s.response, s, &trust));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn issuer_signed_item_round_trips(it in item()) {
        // The direct encoder used by issuance writes exactly the generic deterministic form.
        prop_assert_eq!(it.encode(), encode_value(&it.to_value()));
        let tagged = it.clone().into_tagged();
        let generic = Tag24::new(it.clone());
        prop_assert_eq!(tagged.tagged_bytes(), generic.tagged_bytes());
        let decoded: Tag24<IssuerSignedItem> =
            Tag24::from_tagged_slice(tagged.tagged_bytes(), &Limits::DEFAULT).unwrap();
        prop_assert_eq!(decoded.tagged_bytes(), tagged.tagged_bytes());
        prop_assert_eq!(decoded.value().digest_id, it.digest_id);
        prop_assert_eq!(&decoded.value().random, &it.random);
        prop_assert_eq!(&decoded.value().element_identifier, &it.element_identifier);
        prop_assert_eq!(encode_value(&decoded.value().element_value), encode_value(&it.element_value));
    }

    #[test]
    fn map_keys_of_every_kind_sort_by_their_encoding(
        entries in proptest::collection::vec((map_key(), value()), 0..20)
    ) {
        // RFC 8949 §4.2.1: entries ordered by the bytes of their encoded keys.
        let mut reference: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(k, v)| (encode_value(k), encode_value(v)))
            .collect();
        reference.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = vec![0xa0 + reference.len() as u8];
        for (k, v) in reference {
            expected.extend(k);
            expected.extend(v);
        }
        let map = Value::Map(entries);
        prop_assert_eq!(encode_value(&map), expected.clone());
        prop_assert_eq!(mso::cbor::encoded_len(&map), expected.len());
    }

    #[test]
    fn encoded_len_is_the_encoding_length(v in value()) {
        prop_assert_eq!(mso::cbor::encoded_len(&v), encode_value(&v).len());
    }

    #[test]
    fn any_value_round_trips_deterministically(v in value()) {
        let bytes = encode_value(&v);
        let n = node::parse(&bytes, &Limits::DEFAULT).unwrap();
        let back = n.to_value(&bytes);
        prop_assert_eq!(encode_value(&back), bytes.clone());
        // Deterministic: re-encoding the decoded value is stable.
        prop_assert_eq!(encode_value(&encode_roundtrip(&back)), bytes);
    }

    #[test]
    fn tdate_round_trips(secs in 0i64..4_102_444_800) {
        let t = TDate::new(time::OffsetDateTime::from_unix_timestamp(secs).unwrap());
        let back: TDate = from_slice(&encode_value(&t.to_value()), &Limits::DEFAULT).unwrap();
        prop_assert_eq!(back, t);
    }

    /// The digit-by-digit writer against `time`'s own formatter, over every writable year
    /// (0000 to 9999) and every second of a day.
    #[test]
    fn tdate_text_is_what_the_time_formatter_writes(secs in -62_167_219_200i64..=253_402_300_799) {
        let t = TDate::new(time::OffsetDateTime::from_unix_timestamp(secs).unwrap());
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        );
        prop_assert_eq!(t.to_rfc3339(), t.datetime().format(&fmt).unwrap());
        prop_assert_eq!(TDate::parse(&t.to_rfc3339()).unwrap(), t);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = from_slice::<DeviceResponse>(&bytes, &Limits::DEFAULT);
        let _ = from_slice::<IssuerSigned>(&bytes, &Limits::DEFAULT);
        let _ = from_slice::<Document>(&bytes, &Limits::DEFAULT);
        let _ = SessionTranscript::from_bytes(&bytes, &Limits::DEFAULT);
    }

    #[test]
    fn any_mutated_byte_of_issuer_signed_is_rejected(pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let s = sample();
        let mut bytes = s.issuer_signed.clone();
        let i = pos.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(!issuer_signed_is_valid(&bytes, &IssuerTrust::iacas(vec![s.pki.iaca()])), "byte {} ^ {:#x}", i, flip);
    }

    #[test]
    fn any_mutated_byte_of_a_presented_document_is_rejected(pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let s = sample();
        let mut bytes = s.response.clone();
        let span = document_span(&bytes);
        let i = span.start + pos.index(span.len());
        bytes[i] ^= flip;
        prop_assert!(!response_is_valid(&bytes, s, &IssuerTrust::iacas(vec![s.pki.iaca()])), "byte {} ^ {:#x}", i, flip);
    }
}

fn encode_roundtrip(v: &Value) -> Value {
    let bytes = encode_value(v);
    node::parse(&bytes, &Limits::DEFAULT)
        .unwrap()
        .to_value(&bytes)
}

/// Exhaustive companion of the property tests: flip the lowest and highest bit of every byte.
#[test]
fn every_single_bit_flip_is_rejected() {
    let s = sample();
    let trust = IssuerTrust::iacas(vec![s.pki.iaca()]);
    let mut accepted = Vec::new();
    for i in 0..s.issuer_signed.len() {
        for flip in [0x01u8, 0x80] {
            let mut b = s.issuer_signed.clone();
            b[i] ^= flip;
            if issuer_signed_is_valid(&b, &trust) {
                accepted.push(("IssuerSigned", i, flip));
            }
        }
    }
    for i in document_span(&s.response) {
        for flip in [0x01u8, 0x80] {
            let mut b = s.response.clone();
            b[i] ^= flip;
            if response_is_valid(&b, s, &trust) {
                accepted.push(("Document", i, flip));
            }
        }
    }
    if !accepted.is_empty() {
        std::fs::write(
            std::env::temp_dir().join("mso_accepted_mutation.cbor"),
            &s.response,
        )
        .ok();
    }
    assert!(accepted.is_empty(), "mutations accepted: {accepted:?}");
}

#[test]
fn deterministic_map_order_is_by_encoded_key() {
    // RFC 8949 §4.2.1: 10 < 100 < -1 < "z" < "aa" (shorter encodings first, then bytewise).
    let v = Value::Map(vec![
        (Value::Text("aa".into()), Value::Null),
        (Value::Text("z".into()), Value::Null),
        (Value::Integer((-1).into()), Value::Null),
        (Value::Integer(100.into()), Value::Null),
        (Value::Integer(10.into()), Value::Null),
    ]);
    assert_eq!(
        hex::encode(encode_value(&v)),
        "a50af61864f620f6617af6626161f6"
    );
}

#[test]
fn empty_device_namespaces_encode_as_in_the_standard() {
    let empty = Tag24::new(mso::model::DeviceNameSpaces::default());
    assert_eq!(empty.tagged_bytes(), [0xd8, 0x18, 0x41, 0xa0]);
}

#[test]
fn tdate_text_at_the_ends_of_its_range() {
    assert_eq!(TDate::MIN.to_rfc3339(), "0000-01-01T00:00:00Z");
    assert_eq!(TDate::MAX.to_rfc3339(), "9999-12-31T23:59:59Z");
    let leap = TDate::new(time::macros::datetime!(2024-02-29 07:08:09.999 UTC));
    assert_eq!(leap.to_rfc3339(), "2024-02-29T07:08:09Z");
}
