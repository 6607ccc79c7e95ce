//! Malformed, truncated, oversized and hostile input: always a typed error or an invalid
//! report, never a panic and never a valid verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{text, vector, ANNEX_D_AT};
use mso::cbor::Value;
use verifier_sdk::{
    decode_session_transcript, default_verification_options, parse_device_engagement,
    parse_device_engagement_qr, session_transcript_bytes, verify_device_response,
    verify_issuer_signed, AgreementPrivateKey, ElementValue, ProximityHandover, ReaderSession,
    SessionTranscriptInput, TrustStore, VerificationOptions, VerifierError, MAX_VALUE_DEPTH,
};

fn options() -> VerificationOptions {
    VerificationOptions {
        reader_key: Some(AgreementPrivateKey::Pkcs8Pem {
            pem: text("annex_d_ereader_key.pem"),
        }),
        ..default_verification_options(ANNEX_D_AT)
    }
}

fn trust() -> std::sync::Arc<TrustStore> {
    let trust = TrustStore::new();
    trust
        .pin_document_signer_der(vector("annex_d_ds.der"))
        .unwrap();
    trust
}

fn transcript() -> SessionTranscriptInput {
    SessionTranscriptInput::Encoded {
        bytes: vector("annex_d_session_transcript_bytes.cbor"),
    }
}

fn verify(bytes: Vec<u8>) -> Result<verifier_sdk::VerificationReport, VerifierError> {
    verify_device_response(bytes, transcript(), trust(), options())
}

#[test]
fn every_truncation_of_the_annex_d_response_is_a_typed_error() {
    let full = vector("annex_d_device_response.cbor");
    for len in 0..full.len() {
        match verify(full[..len].to_vec()) {
            Err(VerifierError::Malformed { .. }) => {}
            other => panic!("prefix of {len} bytes: {other:?}"),
        }
    }
}

#[test]
fn every_flipped_byte_of_the_annex_d_response_is_never_valid_except_two_unauthenticated_ones() {
    let full = vector("annex_d_device_response.cbor");
    let mut still_valid = Vec::new();
    for i in 0..full.len() {
        let mut bytes = full.clone();
        bytes[i] ^= 0x01;
        if let Ok(report) = verify(bytes) {
            if report.valid {
                still_valid.push(i);
            }
        }
    }
    // Outside every signature and MAC: the DeviceResponse's own version ("1.0" → "1.1", still
    // a valid version) and the response status (0 → 1), which the report carries as `status`
    // beside the documents' verdict. The deviceMac's detached-payload `null` turned into
    // `undefined` (0xf6 → 0xf7) is refused: COSE allows only bstr / nil there.
    assert_eq!(&full[9..13], b"c1.0");
    assert_eq!(full[3519], 0xf6);
    assert_eq!(&full[3554..], b"fstatus\x00");
    assert_eq!(still_valid, [12, 3561]);
}

#[test]
fn garbage_is_a_typed_error() {
    // A deterministic xorshift stream: the same garbage on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 2, 7, 64, 1000, 5000] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if let Ok(report) = verify(bytes.clone()) {
                assert!(!report.valid);
            }
            assert!(
                verify_issuer_signed(bytes.clone(), None, trust(), options())
                    .map_or(true, |r| !r.valid)
            );
            let _ = decode_session_transcript(bytes.clone());
            let _ = parse_device_engagement(bytes);
        }
    }
}

#[test]
fn oversized_input_is_a_size_limit_error() {
    let huge = vec![0u8; mso::cbor::Limits::DEFAULT.max_size + 1];
    assert!(matches!(
        verify(huge.clone()),
        Err(VerifierError::SizeLimit { .. })
    ));
    assert!(matches!(
        verify_issuer_signed(huge.clone(), None, trust(), options()),
        Err(VerifierError::SizeLimit { .. })
    ));
    assert!(matches!(
        TrustStore::new().add_iaca_der(huge.clone()),
        Err(VerifierError::SizeLimit { .. })
    ));
    assert!(matches!(
        TrustStore::new().add_iaca_pem("A".repeat(verifier_sdk::MAX_PEM_LEN + 1)),
        Err(VerifierError::SizeLimit { .. })
    ));
    assert!(matches!(
        parse_device_engagement_qr(format!("mdoc:{}", "A".repeat(huge.len()))),
        Err(VerifierError::SizeLimit { .. })
    ));
}

#[test]
fn deep_nesting_is_a_size_limit_error() {
    let mut bytes = vec![0x81u8; 10_000];
    bytes.push(0x00);
    assert!(matches!(
        verify(bytes),
        Err(VerifierError::SizeLimit { .. })
    ));
}

#[test]
fn bad_transcripts_keys_certificates_and_times_are_typed_errors() {
    let response = vector("annex_d_device_response.cbor");
    let bad_transcript = SessionTranscriptInput::Encoded {
        bytes: vec![0x83, 0xf6],
    };
    assert!(matches!(
        verify_device_response(response.clone(), bad_transcript, trust(), options()),
        Err(VerifierError::Malformed { .. })
    ));
    let bad_proximity = SessionTranscriptInput::Proximity {
        device_engagement: vector("annex_d_device_engagement.cbor"),
        e_reader_key_bytes: vec![0xd8, 0x18, 0x41, 0xa0],
        handover: ProximityHandover::Qr,
    };
    assert!(session_transcript_bytes(bad_proximity).is_err());

    let bad_key = VerificationOptions {
        reader_key: Some(AgreementPrivateKey::Pkcs8Pem {
            pem: "not a key".into(),
        }),
        ..options()
    };
    assert!(matches!(
        verify_device_response(response.clone(), transcript(), trust(), bad_key),
        Err(VerifierError::InvalidKey { .. })
    ));
    let bad_time = VerificationOptions {
        at_unix_seconds: i64::MAX,
        ..options()
    };
    assert!(matches!(
        verify_device_response(response, transcript(), trust(), bad_time),
        Err(VerifierError::InvalidArgument { .. })
    ));
    assert!(matches!(
        TrustStore::new().add_iaca_der(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
        Err(VerifierError::Certificate { .. })
    ));
    assert!(matches!(
        TrustStore::new().add_iaca_pem("no certificate here".into()),
        Err(VerifierError::Certificate { .. })
    ));
    assert!(matches!(
        TrustStore::new().pin_document_signer_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into()
        ),
        Err(VerifierError::Certificate { .. })
    ));
    assert!(matches!(
        parse_device_engagement_qr("https://example.com".into()),
        Err(VerifierError::Malformed { .. })
    ));
    assert!(matches!(
        ReaderSession::new(vec![0xa0], ProximityHandover::Qr),
        Err(VerifierError::Malformed { .. })
    ));
}

#[test]
fn a_garbage_session_message_is_malformed() {
    let session = ReaderSession::new(
        vector("annex_d_device_engagement.cbor"),
        ProximityHandover::Qr,
    )
    .unwrap();
    session.establish(vec![0xa0]).unwrap();
    assert!(matches!(
        session.decrypt(vec![0xff, 0x00]),
        Err(VerifierError::Malformed { .. })
    ));
    assert!(matches!(
        session.decrypt(vec![0xa0]),
        Err(VerifierError::Malformed { .. })
    ));
}

#[test]
fn element_values_deeper_than_the_bound_are_cut_off() {
    let mut value = Value::Bool(true);
    for _ in 0..40 {
        value = Value::Array(vec![value]);
    }
    let mut converted = ElementValue::from_cbor(&value);
    let mut depth = 0;
    while let ElementValue::Array { mut items } = converted {
        converted = items.pop().unwrap();
        depth += 1;
    }
    assert_eq!(converted, ElementValue::TooDeep);
    assert_eq!(depth, MAX_VALUE_DEPTH + 1);
}

#[test]
fn integers_beyond_64_bits_are_kept_exactly() {
    let v = Value::Integer(u64::MAX.into());
    assert_eq!(
        ElementValue::from_cbor(&v),
        ElementValue::BigInteger {
            decimal: u64::MAX.to_string()
        }
    );
    let v = Value::Tag(1004, Box::new(Value::Text("2024-02-30".into())));
    assert!(matches!(
        ElementValue::from_cbor(&v),
        ElementValue::Tagged { tag: 1004, .. }
    ));
}
