//! Builders for deliberately malformed or unusual documents, each properly signed so that only
//! the intended defect is present.

use coset::CborSerializable;
use mso::cbor::{encode_value, Value};
use mso::cose::PreparedSign1;
use mso::crypto::{Algorithm, SoftwareKey};

/// Text-keyed CBOR map.
pub fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    )
}

/// `#6.24(bstr)` around `inner`.
pub fn tag24(inner: Vec<u8>) -> Vec<u8> {
    encode_value(&Value::Tag(24, Box::new(Value::Bytes(inner))))
}

/// Signs `mso_value` (as `#6.24` payload) with `key`/`alg` and returns the COSE_Sign1 bytes.
pub fn sign_mso(
    mso_value: &Value,
    alg: Algorithm,
    key: &SoftwareKey,
    x5chain: &[Vec<u8>],
) -> Vec<u8> {
    sign_payload(tag24(encode_value(mso_value)), alg, key, x5chain)
}

/// Signs an arbitrary payload.
pub fn sign_payload(
    payload: Vec<u8>,
    alg: Algorithm,
    key: &SoftwareKey,
    x5chain: &[Vec<u8>],
) -> Vec<u8> {
    PreparedSign1::new(alg, payload, x5chain, false)
        .unwrap()
        .sign(key)
        .unwrap()
        .to_vec()
        .unwrap()
}

/// `{ "nameSpaces": {ns: [items...]}, "issuerAuth": <sign1 bytes> }` from raw parts, without
/// re-encoding any of them.
pub fn issuer_signed_bytes(namespace: &str, items_tagged: &[Vec<u8>], sign1: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa2];
    out.extend(encode_value(&Value::Text("nameSpaces".into())));
    out.push(0xa1);
    out.extend(encode_value(&Value::Text(namespace.into())));
    assert!(items_tagged.len() < 24);
    out.push(0x80 | items_tagged.len() as u8);
    for item in items_tagged {
        out.extend_from_slice(item);
    }
    out.extend(encode_value(&Value::Text("issuerAuth".into())));
    out.extend_from_slice(sign1);
    out
}

/// An MSO value over `digests` (digestID → digest) for one namespace.
pub fn mso_value(
    namespace: &str,
    digest_alg: &str,
    digests: Vec<(u64, Vec<u8>)>,
    device_key: Value,
    doc_type: &str,
) -> Value {
    let tdate = |s: &str| Value::Tag(0, Box::new(Value::Text(s.into())));
    map(vec![
        ("version", Value::Text("1.0".into())),
        ("digestAlgorithm", Value::Text(digest_alg.into())),
        (
            "valueDigests",
            map(vec![(
                namespace,
                Value::Map(
                    digests
                        .into_iter()
                        .map(|(id, d)| (Value::Integer(id.into()), Value::Bytes(d)))
                        .collect(),
                ),
            )]),
        ),
        ("deviceKeyInfo", map(vec![("deviceKey", device_key)])),
        ("docType", Value::Text(doc_type.into())),
        (
            "validityInfo",
            map(vec![
                ("signed", tdate("2026-05-01T00:00:00Z")),
                ("validFrom", tdate("2026-05-01T00:00:00Z")),
                ("validUntil", tdate("2027-05-01T00:00:00Z")),
            ]),
        ),
    ])
}

/// The COSE_Key value of `key`.
pub fn cose_key_value(key: &mso::crypto::PublicKey) -> Value {
    use coset::AsCborValue;
    key.to_cose_key().to_cbor_value().unwrap()
}

/// A tag-24 IssuerSignedItem with the given fields, deterministically encoded.
pub fn item(digest_id: u64, random: Vec<u8>, id: &str, value: Value) -> Vec<u8> {
    tag24(encode_value(&map(vec![
        ("digestID", Value::Integer(digest_id.into())),
        ("random", Value::Bytes(random)),
        ("elementIdentifier", Value::Text(id.into())),
        ("elementValue", value),
    ])))
}
