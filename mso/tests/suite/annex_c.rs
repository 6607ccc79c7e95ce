//! ISO 18013-7 Annex C (`org-iso-mdoc` over the DC API): a DeviceResponse signed over the
//! Annex C transcript, sealed by the wallet, opened and verified by the reader; a response
//! for another key, origin or EncryptionInfo, or a damaged one, is `HpkeDecryption`; every
//! malformed envelope is its own typed error; arbitrary bytes never panic the parsers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use mso::cbor::{encode_value, from_slice, to_vec, Limits, Value};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::annex_c::{MAX_ENCRYPTION_INFO_LEN, MAX_NONCE_LEN, MIN_NONCE_LEN};
use mso::model::{
    open_response, seal_response, DeviceResponse, EncryptedResponse, EncryptionInfo, Handover,
    SessionTranscript,
};
use mso::present::{device_response, present_with_signature};
use mso::verify::{verify_device_response, DeviceAuthInput, IssuerTrust, VerifyOptions};
use mso::Error;
use proptest::prelude::*;
use rand_core::OsRng;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "https://verifier.example.jp";
const L: Limits = Limits::DEFAULT;

fn reader_key() -> AgreementKey {
    AgreementKey::P256(p256::SecretKey::random(&mut OsRng))
}

fn info_for(key: &AgreementKey, nonce: &[u8]) -> EncryptionInfo {
    EncryptionInfo::new(nonce, &key.public_key()).unwrap()
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn cose_key(key: &PublicKey) -> Value {
    use coset::AsCborValue;
    key.to_cose_key().to_cbor_value().unwrap()
}

/// `[tag, {entries}]` encoded, for hand-made envelopes.
fn envelope(tag: &str, entries: Vec<(Value, Value)>) -> Vec<u8> {
    encode_value(&Value::Array(vec![t(tag), Value::Map(entries)]))
}

#[test]
fn a_signed_device_response_travels_sealed_and_verifies_at_the_reader() {
    // Reader: a key and a nonce, sent as base64url beside the DeviceRequest.
    let reader = reader_key();
    let request_info = info_for(&reader, &[0x5a; 16]).to_base64url();

    // Wallet: the transcript from the received string and the browser's origin; a
    // DeviceResponse signed over it; sealed to the reader's key.
    let info = EncryptionInfo::from_base64url(&request_info, &L).unwrap();
    assert_eq!(info.to_base64url(), request_info);
    let transcript = info.session_transcript(ORIGIN);
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let doc = present_with_signature(&issued, None, &transcript, &device).unwrap();
    let response_bytes = to_vec(&device_response(vec![doc]));
    let (sealed, wallet_transcript) =
        seal_response(info.as_bytes(), ORIGIN, &response_bytes, &L).unwrap();
    assert_eq!(wallet_transcript, transcript);
    let envelope = EncryptedResponse::from_bytes(&sealed, &L).unwrap();
    assert_eq!(envelope.to_bytes(), sealed, "deterministic envelope");
    assert_eq!(envelope.enc.len(), 65);
    assert_eq!(envelope.cipher_text.len(), response_bytes.len() + 16);

    // Reader: open with its key and verify device authentication against the transcript.
    let (opened, reader_transcript) =
        open_response(&reader, info.as_bytes(), ORIGIN, &sealed, &L).unwrap();
    assert_eq!(opened, response_bytes);
    assert_eq!(reader_transcript, transcript);
    let response: DeviceResponse = from_slice(&opened, &L).unwrap();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let report = verify_device_response(
        &response,
        &DeviceAuthInput {
            transcript: &reader_transcript,
            e_reader_key: None,
        },
        &VerifyOptions::new(pki::AT, &trust, &SoftwareVerifier),
    );
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn the_transcript_is_the_dcapi_handover_over_the_base64url_and_origin() {
    let info = info_for(&reader_key(), &[1; 32]);
    let transcript = info.session_transcript(ORIGIN);
    // Built by hand: [null, null, ["dcapi", SHA-256(cbor([b64, origin]))]].
    let hash = Sha256::digest(encode_value(&Value::Array(vec![
        t(&info.to_base64url()),
        t(ORIGIN),
    ])));
    let expected = encode_value(&Value::Array(vec![
        Value::Null,
        Value::Null,
        Value::Array(vec![t("dcapi"), Value::Bytes(hash.to_vec())]),
    ]));
    assert_eq!(transcript.as_bytes(), expected);
    assert_eq!(
        transcript,
        SessionTranscript::online(&Handover::Iso18013_7AnnexC {
            encryption_info_b64: info.to_base64url(),
            origin: ORIGIN.into(),
        })
    );
    assert!(!info.to_base64url().contains(['=', '+', '/']));
}

#[test]
fn another_key_origin_or_encryption_info_does_not_open() {
    let reader = reader_key();
    let info = info_for(&reader, &[2; 16]);
    let (sealed, _) = seal_response(info.as_bytes(), ORIGIN, b"response", &L).unwrap();
    let other_nonce = info_for(&reader, &[3; 16]);
    let cases: [(&AgreementKey, &[u8], &str); 4] = [
        (&reader_key(), info.as_bytes(), ORIGIN),
        (&reader, info.as_bytes(), "https://evil.example"),
        (&reader, info.as_bytes(), "https://verifier.example.jp/"),
        (&reader, other_nonce.as_bytes(), ORIGIN),
    ];
    for (key, info_bytes, origin) in cases {
        assert_eq!(
            open_response(key, info_bytes, origin, &sealed, &L),
            Err(Error::HpkeDecryption),
            "{origin}"
        );
    }
    // The right ones still open it.
    assert!(open_response(&reader, info.as_bytes(), ORIGIN, &sealed, &L).is_ok());
}

#[test]
fn flipped_bits_in_enc_and_cipher_text_are_refused() {
    let reader = reader_key();
    let info = info_for(&reader, &[4; 16]);
    let (sealed, _) = seal_response(info.as_bytes(), ORIGIN, b"device response", &L).unwrap();
    let good = EncryptedResponse::from_bytes(&sealed, &L).unwrap();
    let mut tampered = Vec::new();
    for i in 0..good.enc.len() * 8 {
        let mut r = good.clone();
        r.enc[i / 8] ^= 1 << (i % 8);
        tampered.push(r);
    }
    for i in 0..good.cipher_text.len() * 8 {
        let mut r = good.clone();
        r.cipher_text[i / 8] ^= 1 << (i % 8);
        tampered.push(r);
    }
    for r in tampered {
        assert_eq!(
            open_response(&reader, info.as_bytes(), ORIGIN, &r.to_bytes(), &L),
            Err(Error::HpkeDecryption)
        );
    }
}

#[test]
fn encryption_info_round_trips_and_keeps_its_bytes() {
    let reader = reader_key();
    for len in [MIN_NONCE_LEN, 32, MAX_NONCE_LEN] {
        let info = info_for(&reader, &vec![9; len]);
        let back = EncryptionInfo::from_bytes(info.as_bytes(), &L).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.nonce(), vec![9; len]);
        assert_eq!(back.recipient_key(), &reader.public_key());
    }
    // Received bytes are kept as they are, even when not deterministic (map keys in another
    // order): the transcript hashes what the reader sent.
    let key = cose_key(&reader.public_key());
    // (encode_value would sort the keys, so the map is assembled by hand.)
    let mut unsorted = vec![0x82];
    for part in [
        t("dcapi"),
        t("recipientPublicKey"),
        key,
        t("nonce"),
        Value::Bytes(vec![7; 16]),
    ] {
        if part == t("recipientPublicKey") {
            unsorted.push(0xa2);
        }
        unsorted.extend(encode_value(&part));
    }
    let info = EncryptionInfo::from_bytes(&unsorted, &L).unwrap();
    assert_eq!(info.as_bytes(), unsorted);
    assert_ne!(info, info_for(&reader, &[7; 16]));
    // A key with an `alg` (here ECDH-ES + HKDF-256) is read for its point only.
    let mut with_alg = reader.public_key().to_cose_key();
    with_alg.alg = Some(coset::Algorithm::Assigned(
        coset::iana::Algorithm::ECDH_ES_HKDF_256,
    ));
    let bytes = envelope(
        "dcapi",
        vec![
            (t("nonce"), Value::Bytes(vec![7; 16])),
            (t("recipientPublicKey"), {
                use coset::AsCborValue;
                with_alg.to_cbor_value().unwrap()
            }),
        ],
    );
    assert_eq!(
        EncryptionInfo::from_bytes(&bytes, &L)
            .unwrap()
            .recipient_key(),
        &reader.public_key()
    );
}

#[test]
fn malformed_encryption_info_gives_typed_errors() {
    let pk = reader_key().public_key();
    let nonce = || (t("nonce"), Value::Bytes(vec![1; 16]));
    let key = || (t("recipientPublicKey"), cose_key(&pk));
    let p384 = AgreementKey::P384(p384::SecretKey::random(&mut OsRng)).public_key();
    // A P-256 COSE_Key whose point is off the curve (y + 1).
    let off_curve = {
        let sec1 = pk.to_sec1();
        let mut y = sec1[33..].to_vec();
        y[31] ^= 1;
        coset::CoseKeyBuilder::new_ec2_pub_key(
            coset::iana::EllipticCurve::P_256,
            sec1[1..33].to_vec(),
            y,
        )
        .build()
    };
    let parse = |b: &[u8]| EncryptionInfo::from_bytes(b, &L);
    let invalid = |r: Result<EncryptionInfo, Error>| {
        matches!(
            r,
            Err(Error::InvalidValue {
                context: "EncryptionInfo",
                ..
            })
        )
    };

    assert!(invalid(parse(&envelope("dcapI", vec![nonce(), key()]))));
    assert!(invalid(parse(&envelope("", vec![nonce(), key()]))));
    assert!(matches!(
        parse(&encode_value(&Value::Array(vec![
            Value::Bytes(b"dcapi".to_vec()),
            Value::Map(vec![nonce(), key()])
        ]))),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        parse(&envelope("dcapi", vec![key()])),
        Err(Error::MissingField { field: "nonce", .. })
    ));
    assert!(matches!(
        parse(&envelope("dcapi", vec![nonce()])),
        Err(Error::MissingField {
            field: "recipientPublicKey",
            ..
        })
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![nonce(), key(), (t("extra"), Value::Null)]
        )),
        Err(Error::UnknownField { .. })
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![(t("nonce"), t("0123456789abcdef")), key()]
        )),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![
                nonce(),
                (t("recipientPublicKey"), Value::Bytes(pk.to_sec1()))
            ]
        )),
        Err(Error::WrongType { .. })
    ));
    for len in [0, MIN_NONCE_LEN - 1, MAX_NONCE_LEN + 1] {
        assert!(invalid(parse(&envelope(
            "dcapi",
            vec![(t("nonce"), Value::Bytes(vec![1; len])), key()]
        ))));
    }
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![nonce(), (t("recipientPublicKey"), cose_key(&p384))]
        )),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![
                nonce(),
                (t("recipientPublicKey"), {
                    use coset::AsCborValue;
                    off_curve.to_cbor_value().unwrap()
                })
            ]
        )),
        Err(Error::InvalidKey(_))
    ));
    // Arrays of the wrong shape, a map, trailing bytes.
    let map = encode_value(&Value::Map(vec![nonce(), key()]));
    assert!(matches!(parse(&map), Err(Error::WrongType { .. })));
    for items in [
        vec![t("dcapi")],
        vec![t("dcapi"), Value::Map(vec![nonce(), key()]), Value::Null],
    ] {
        assert!(invalid(parse(&encode_value(&Value::Array(items)))));
    }
    let mut trailing = envelope("dcapi", vec![nonce(), key()]);
    trailing.push(0);
    assert!(matches!(parse(&trailing), Err(Error::TrailingBytes { .. })));
    // Oversized: past the EncryptionInfo cap whatever the limits, and past tighter limits.
    let big = envelope(
        "dcapi",
        vec![
            nonce(),
            key(),
            (t("pad"), Value::Bytes(vec![0; MAX_ENCRYPTION_INFO_LEN])),
        ],
    );
    assert!(matches!(parse(&big), Err(Error::TooLarge { .. })));
    let good = envelope("dcapi", vec![nonce(), key()]);
    let tight = Limits {
        max_size: good.len() - 1,
        ..L
    };
    assert!(matches!(
        EncryptionInfo::from_bytes(&good, &tight),
        Err(Error::TooLarge { .. })
    ));
    assert!(parse(&good).is_ok());
    // EncryptionInfo::new refuses what parsing refuses.
    assert!(matches!(
        EncryptionInfo::new(&[0; 15], &pk),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        EncryptionInfo::new(&[0; 16], &p384),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    // base64url: padding and the standard alphabet are refused.
    let b64 = EncryptionInfo::from_bytes(&good, &L)
        .unwrap()
        .to_base64url();
    for bad in [format!("{b64}="), b64.replace('-', "+"), format!("{b64}!")] {
        if bad != b64 {
            assert!(matches!(
                EncryptionInfo::from_base64url(&bad, &L),
                Err(Error::InvalidValue { .. })
            ));
        }
    }
}

#[test]
fn malformed_encrypted_response_gives_typed_errors() {
    let enc = || (t("enc"), Value::Bytes(vec![4; 65]));
    let ct = || (t("cipherText"), Value::Bytes(vec![0; 32]));
    let parse = |b: &[u8]| EncryptedResponse::from_bytes(b, &L);
    assert!(parse(&envelope("dcapi", vec![enc(), ct()])).is_ok());
    assert!(matches!(
        parse(&envelope("openid4vp", vec![enc(), ct()])),
        Err(Error::InvalidValue {
            context: "EncryptedResponse",
            ..
        })
    ));
    assert!(matches!(
        parse(&envelope("dcapi", vec![ct()])),
        Err(Error::MissingField { field: "enc", .. })
    ));
    assert!(matches!(
        parse(&envelope("dcapi", vec![enc()])),
        Err(Error::MissingField {
            field: "cipherText",
            ..
        })
    ));
    assert!(matches!(
        parse(&envelope("dcapi", vec![enc(), (t("cipherText"), t("x"))])),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![enc(), ct(), (t("pkEM"), Value::Null)]
        )),
        Err(Error::UnknownField { .. })
    ));
    assert!(matches!(
        parse(&envelope(
            "dcapi",
            vec![enc(), (t("ciphertext"), Value::Null)]
        )),
        Err(Error::UnknownField { .. })
    ));
    let good = envelope("dcapi", vec![enc(), ct()]);
    let tight = Limits {
        max_size: good.len() - 1,
        ..L
    };
    assert!(matches!(
        EncryptedResponse::from_bytes(&good, &tight),
        Err(Error::TooLarge { .. })
    ));
    // Opening checks the envelope before HPKE: a malformed one is its parse error.
    let reader = reader_key();
    let info = info_for(&reader, &[5; 16]);
    assert!(matches!(
        open_response(
            &reader,
            info.as_bytes(),
            ORIGIN,
            &envelope("dcapi", vec![enc()]),
            &L
        ),
        Err(Error::MissingField { .. })
    ));
    // A well-formed envelope whose enc is not a point is a decryption failure.
    assert_eq!(
        open_response(&reader, info.as_bytes(), ORIGIN, &good, &L),
        Err(Error::HpkeDecryption)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic either parser (nor the high-level functions).
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = EncryptionInfo::from_bytes(&bytes, &L);
        let _ = EncryptedResponse::from_bytes(&bytes, &L);
        let _ = seal_response(&bytes, ORIGIN, b"x", &L);
    }

    /// Mutations of a valid envelope pair never panic, and never open to anything but the
    /// sealed plaintext.
    #[test]
    fn mutated_envelopes_never_panic(
        which in 0usize..2,
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let reader = AgreementKey::from_scalar(mso::crypto::Curve::P256, &[7; 32]).unwrap();
        let info = info_for(&reader, &[6; 16]);
        let (sealed, _) = seal_response(info.as_bytes(), ORIGIN, b"plaintext", &L).unwrap();
        let (mut i, mut r) = (info.as_bytes().to_vec(), sealed);
        let target = if which == 0 { &mut i } else { &mut r };
        let at = pos.index(target.len());
        target[at] = byte;
        if let Ok((pt, _)) = open_response(&reader, &i, ORIGIN, &r, &L) {
            prop_assert_eq!(pt, b"plaintext".to_vec());
        }
    }
}
