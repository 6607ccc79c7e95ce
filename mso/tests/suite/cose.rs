//! COSE layer: every algorithm signs and verifies, x5chain is read from either header in either
//! shape, tag 18 is accepted, and header rules are enforced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use coset::{CborSerializable, HeaderBuilder, TaggedCborSerializable};
use mso::cbor::{node, Limits, Value};
use mso::cose::{
    decode_sign1, decode_sign1_bytes, sign1_algorithm, sign1_verify, sign1_verify_detached,
    x5chain, PreparedSign1,
};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::Error;

const ALL: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::EdDsa,
];

#[test]
fn every_algorithm_signs_and_verifies_embedded_and_detached() {
    for alg in ALL {
        let key = SoftwareKey::generate(alg);
        let public = key.public_key().unwrap();
        let s = PreparedSign1::new(alg, b"payload".to_vec(), &[], false)
            .unwrap()
            .sign(&key)
            .unwrap();
        assert_eq!(s.signature.len(), alg.signature_len(), "{alg}");
        assert_eq!(sign1_algorithm(&s).unwrap(), alg);
        sign1_verify(&s, &public, &SoftwareVerifier).unwrap();

        let d = PreparedSign1::new(alg, b"detached".to_vec(), &[], true)
            .unwrap()
            .sign(&key)
            .unwrap();
        assert!(d.payload.is_none());
        sign1_verify_detached(&d, b"detached", &public, &SoftwareVerifier).unwrap();
        assert_eq!(
            sign1_verify_detached(&d, b"detachee", &public, &SoftwareVerifier),
            Err(Error::BadSignature),
            "{alg}"
        );
        // Another key of the same curve does not verify it.
        let other = SoftwareKey::generate(alg).public_key().unwrap();
        assert_eq!(
            sign1_verify(&s, &other, &SoftwareVerifier),
            Err(Error::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn keys_round_trip_through_pkcs8_and_cose_key() {
    for alg in ALL {
        let key = SoftwareKey::generate(alg);
        let again = SoftwareKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(
            again.public_key().unwrap(),
            key.public_key().unwrap(),
            "{alg}"
        );
        let public = key.public_key().unwrap();
        let cose = public.to_cose_key();
        assert_eq!(
            mso::crypto::PublicKey::from_cose_key(&cose).unwrap(),
            public,
            "{alg}"
        );
    }
    assert!(matches!(
        SoftwareKey::from_pkcs8_der(b"not a key"),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn two_phase_signing_matches_one_phase() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let prepared = PreparedSign1::new(Algorithm::Es256, b"mso".to_vec(), &[], false).unwrap();
    // An external signer (HSM, remote service) only ever sees the to-be-signed bytes.
    let signature = key.sign(prepared.to_be_signed()).unwrap();
    let s = prepared.complete(signature).unwrap();
    sign1_verify(&s, &key.public_key().unwrap(), &SoftwareVerifier).unwrap();
}

#[test]
fn to_be_signed_is_cosets_sig_structure() {
    // The Sig_structure is written directly; it must be the bytes coset (RFC 9052 §4.4) makes,
    // for payloads whose length heads take 1, 2, 3 and 5 bytes.
    for (alg, len) in [
        (Algorithm::Es256, 0),
        (Algorithm::Es384, 23),
        (Algorithm::Es512, 200),
        (Algorithm::EdDsa, 70_000),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let prepared = PreparedSign1::new(alg, payload.clone(), &[vec![0x30, 0]], false).unwrap();
        let tbs = prepared.to_be_signed().to_vec();
        let sign1 = prepared.complete(vec![0; alg.signature_len()]).unwrap();
        let expected = coset::sig_structure_data(
            coset::SignatureContext::CoseSign1,
            sign1.protected.clone(),
            None,
            &[],
            &payload,
        );
        assert_eq!(tbs, expected, "{alg} payload {len}");
    }
}

fn parse_sign1(bytes: &[u8]) -> Result<coset::CoseSign1, Error> {
    decode_sign1_bytes(bytes, &Limits::DEFAULT)
}

#[test]
fn x5chain_shapes_and_headers() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let one = vec![vec![1u8, 2, 3]];
    let two = vec![vec![1u8, 2, 3], vec![4u8, 5]];
    // Written: bstr for one certificate, array for two, in the unprotected header.
    let s1 = PreparedSign1::new(Algorithm::Es256, vec![], &one, false)
        .unwrap()
        .sign(&key)
        .unwrap();
    assert!(matches!(
        s1.unprotected.rest[0],
        (coset::Label::Int(33), Value::Bytes(_))
    ));
    assert_eq!(
        x5chain(&parse_sign1(&s1.clone().to_vec().unwrap()).unwrap()).unwrap(),
        one
    );
    let s2 = PreparedSign1::new(Algorithm::Es256, vec![], &two, false)
        .unwrap()
        .sign(&key)
        .unwrap();
    assert!(matches!(
        s2.unprotected.rest[0],
        (coset::Label::Int(33), Value::Array(_))
    ));
    assert_eq!(
        x5chain(&parse_sign1(&s2.clone().to_vec().unwrap()).unwrap()).unwrap(),
        two
    );

    // Read from the protected header as well.
    let mut p = s2.clone();
    p.protected = coset::ProtectedHeader {
        original_data: None,
        header: HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::ES256)
            .value(33, Value::Bytes(vec![9, 9]))
            .build(),
    };
    p.unprotected = Default::default();
    assert_eq!(
        x5chain(&parse_sign1(&p.to_vec().unwrap()).unwrap()).unwrap(),
        vec![vec![9u8, 9]]
    );

    // Wrong shapes.
    let mut bad = s1.clone();
    bad.unprotected.rest = vec![(coset::Label::Int(33), Value::Integer(5.into()))];
    assert!(matches!(x5chain(&bad), Err(Error::X5Chain(_))));
    bad.unprotected.rest = vec![(coset::Label::Int(33), Value::Array(vec![]))];
    assert!(matches!(x5chain(&bad), Err(Error::X5Chain(_))));
    bad.unprotected.rest = vec![];
    assert!(matches!(x5chain(&bad), Err(Error::X5Chain(_))));
}

#[test]
fn issuer_auth_is_written_untagged_and_read_tagged_or_not() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let s = PreparedSign1::new(Algorithm::Es256, b"p".to_vec(), &[], false)
        .unwrap()
        .sign(&key)
        .unwrap();
    let untagged = s.clone().to_vec().unwrap();
    assert_eq!(untagged[0], 0x84);
    let tagged = s.to_tagged_vec().unwrap();
    assert_eq!(tagged[0], 0xd2);
    for bytes in [untagged, tagged] {
        let n = node::parse(&bytes, &Limits::DEFAULT).unwrap();
        let back = decode_sign1(&n, &bytes).unwrap();
        sign1_verify(&back, &key.public_key().unwrap(), &SoftwareVerifier).unwrap();
    }
}

#[test]
fn alg_must_be_in_the_protected_header() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let mut s = PreparedSign1::new(Algorithm::Es256, b"p".to_vec(), &[], false)
        .unwrap()
        .sign(&key)
        .unwrap();
    s.protected = coset::ProtectedHeader::default();
    s.unprotected.alg = Some(coset::RegisteredLabelWithPrivate::Assigned(
        coset::iana::Algorithm::ES256,
    ));
    assert!(matches!(sign1_algorithm(&s), Err(Error::Cose(_))));
    s.unprotected.alg = None;
    assert!(matches!(sign1_algorithm(&s), Err(Error::Cose(_))));
}

#[test]
fn kid_must_be_a_byte_string() {
    // [h'a10126', {4: h'746578742d6b6964'}, h'', h'00']: kid as bstr is read.
    let bytes = hex::decode("8443a10126a10448746578742d6b6964404100").unwrap();
    let sign1 = parse_sign1(&bytes).unwrap();
    assert_eq!(sign1.unprotected.key_id, b"text-kid");
    // The same with kid as a text string is refused.
    let bytes = hex::decode("8443a10126a10468746578742d6b6964404100").unwrap();
    assert!(matches!(parse_sign1(&bytes), Err(Error::Cose(_))));
}

#[test]
fn malformed_cose_structures() {
    // Not an array, wrong length, undefined payload, signature as text.
    for h in ["a0", "83404040", "8440a0f740", "8440a04060"] {
        let bytes = hex::decode(h).unwrap();
        assert!(
            matches!(
                parse_sign1(&bytes),
                Err(Error::WrongType { .. }) | Err(Error::Cose(_))
            ),
            "{h}"
        );
    }
    // Signature of the wrong length for the algorithm.
    let key = SoftwareKey::generate(Algorithm::Es256);
    let mut s = PreparedSign1::new(Algorithm::Es256, b"p".to_vec(), &[], false)
        .unwrap()
        .sign(&key)
        .unwrap();
    s.signature.pop();
    assert!(matches!(
        sign1_verify(&s, &key.public_key().unwrap(), &SoftwareVerifier),
        Err(Error::MalformedSignature(_))
    ));
    // r = 0 is out of range, not a panic.
    s.signature = vec![0; 64];
    assert!(matches!(
        sign1_verify(&s, &key.public_key().unwrap(), &SoftwareVerifier),
        Err(Error::MalformedSignature(_))
    ));
}
