//! ISO 18013-5 §9.1.1 session encryption: the Annex D session vectors decrypt and re-encrypt
//! byte for byte, fresh sessions round-trip, and every damaged, replayed, mis-keyed or
//! malformed message gives its specific error without a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use mso::cbor::{encode_value, from_slice, node, Limits, Tag24, Value};
use mso::crypto::ecdh::{derive_session_key, AgreementKey};
use mso::crypto::{Curve, PublicKey};
use mso::model::{DeviceEngagement, DeviceRequest, DeviceResponse, Handover, SessionTranscript};
use mso::session::{
    DeviceSession, ReaderSession, Received, SessionData, SessionEstablishment, SessionStatus,
    SK_DEVICE_INFO, SK_READER_INFO,
};
use mso::Error;
use proptest::prelude::*;
use rand_core::OsRng;
use sha2::{Digest, Sha256};

fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/annex-d")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pem_key(name: &str) -> AgreementKey {
    AgreementKey::from_pkcs8_pem(&String::from_utf8(vector(name)).unwrap()).unwrap()
}

fn reader_key() -> AgreementKey {
    pem_key("annex_d_ereader_key.pem")
}

fn device_key() -> AgreementKey {
    pem_key("annex_d_edevice_key.pem")
}

/// The Annex D DeviceEngagement and Handover, taken from the vector SessionTranscript: the
/// session README warns that the transcript holds the NFC-form engagement (88 bytes), not
/// `annex_d_device_engagement.cbor` (the QR form), and that the keys come from the former.
fn annex_d_engagement_and_handover() -> (DeviceEngagement, Handover) {
    let transcript = SessionTranscript::from_bytes(
        &vector("annex_d_session_transcript_bytes.cbor"),
        &Limits::DEFAULT,
    )
    .unwrap();
    let [de, _ek, handover] = transcript.parts().unwrap();
    let de: Tag24<Value> = Tag24::from_tagged_slice(&de, &Limits::DEFAULT).unwrap();
    let engagement = DeviceEngagement::from_bytes(de.inner_bytes(), &Limits::DEFAULT).unwrap();
    let n = node::parse(&handover, &Limits::DEFAULT).unwrap();
    let [select, request] = n.array("Handover").unwrap() else {
        panic!("NFC handover is [select, request]")
    };
    let handover = Handover::Nfc {
        select: select.bytes(&handover, "select").unwrap().to_vec(),
        request: (!request.is_null())
            .then(|| request.bytes(&handover, "request").unwrap().to_vec()),
    };
    (engagement, handover)
}

fn annex_d_reader() -> ReaderSession {
    let (engagement, handover) = annex_d_engagement_and_handover();
    ReaderSession::with_ephemeral_key(&engagement, reader_key(), &handover).unwrap()
}

/// A reader session that has sent the Annex D SessionEstablishment (reader counter 1 used).
fn annex_d_established_reader() -> ReaderSession {
    let mut reader = annex_d_reader();
    reader
        .establish(&vector("session/device_request.cbor"))
        .unwrap();
    reader
}

fn vector_establishment() -> SessionEstablishment {
    SessionEstablishment::from_bytes(
        &vector("session/session_establishment.cbor"),
        &Limits::DEFAULT,
    )
    .unwrap()
}

fn annex_d_device() -> (DeviceSession, Vec<u8>) {
    let (engagement, handover) = annex_d_engagement_and_handover();
    DeviceSession::establish(
        &engagement,
        &device_key(),
        &handover,
        &vector_establishment(),
    )
    .unwrap()
}

fn session_data(name: &str) -> SessionData {
    SessionData::from_bytes(&vector(name), &Limits::DEFAULT).unwrap()
}

// ---- Annex D vectors -------------------------------------------------------------------------

#[test]
fn key_derivation_matches_the_annex_d_values_step_by_step() {
    let shared = reader_key()
        .shared_secret(&device_key().public_key())
        .unwrap();
    assert_eq!(
        hex::encode(&*shared),
        "6423502f843d8cda01fbd9fa46cb397534a740ab1ec3d1076fbcb12e1dca2589"
    );
    let transcript_bytes = vector("annex_d_session_transcript_bytes.cbor");
    assert_eq!(
        hex::encode(Sha256::digest(&transcript_bytes)),
        "f823ac566e22b2106c9b7c02fadc7482e559a1de8a809b56c828779e6d67570e"
    );
    let sk_reader = derive_session_key(&shared, &transcript_bytes, SK_READER_INFO);
    let sk_device = derive_session_key(&shared, &transcript_bytes, SK_DEVICE_INFO);
    assert_eq!(
        hex::encode(*sk_reader),
        "58d277d8719e62a1561d248f403f477e9e6c37bf5d5fc5126f8f4c727c22dfc9"
    );
    assert_eq!(
        hex::encode(*sk_device),
        "81d170e07fbdac93c1a676242c2576124a380d87bb73ed9ce4834de2272cf409"
    );
}

#[test]
fn reader_session_builds_the_annex_d_session_transcript() {
    let reader = annex_d_reader();
    let expected = vector("annex_d_session_transcript_bytes.cbor");
    assert_eq!(reader.session_transcript_bytes(), expected);
    assert_eq!(reader.transcript().tagged_bytes(), expected);
    // The EReaderKeyBytes the reader sends are the ones in the transcript and in the vector.
    assert_eq!(
        reader.e_reader_key_bytes(),
        vector_establishment().e_reader_key_bytes()
    );
    assert_eq!(
        reader.transcript().parts().unwrap()[1],
        reader.e_reader_key_bytes()
    );
}

#[test]
fn session_establishment_vector_decodes_keeping_e_reader_key_bytes() {
    let raw = vector("session/session_establishment.cbor");
    let se = vector_establishment();
    assert_eq!(se.e_reader_key(), &reader_key().public_key());
    // Kept as received: a slice of the vector itself, not a re-encoding.
    let key = se.e_reader_key_bytes();
    assert_eq!(&key[..2], [0xd8, 0x18]);
    assert!(raw.windows(key.len()).any(|w| w == key));
    assert_eq!(se.data().len(), 719 + 16);
}

#[test]
fn device_decrypts_the_session_establishment_to_the_device_request() {
    let (device, request) = annex_d_device();
    assert_eq!(request, vector("session/device_request.cbor"));
    let parsed: DeviceRequest = from_slice(&request, &Limits::DEFAULT).unwrap();
    assert_eq!(parsed.doc_requests.len(), 1);
    // The mdoc's transcript, built from the received EReaderKeyBytes, is the vector's too.
    assert_eq!(
        device.session_transcript_bytes(),
        vector("annex_d_session_transcript_bytes.cbor")
    );
    assert_eq!(device.e_reader_key(), &reader_key().public_key());
}

#[test]
fn reader_re_encrypts_the_session_establishment_byte_for_byte() {
    let mut reader = annex_d_reader();
    let ours = reader
        .establish(&vector("session/device_request.cbor"))
        .unwrap();
    let theirs = vector_establishment();
    // GCM is deterministic for one key and IV: the ciphertext and tag are the vector's.
    assert_eq!(ours.data(), theirs.data());
    assert_eq!(ours, theirs);

    // The vector writes "eReaderKey" first; we write RFC 8949 §4.2.1 order ("data" first).
    // Apart from the order of the two entries, the bytes are identical.
    let raw = vector("session/session_establishment.cbor");
    let n = node::parse(&raw, &Limits::DEFAULT).unwrap();
    let entries = n
        .map(&raw, "SessionEstablishment")
        .unwrap()
        .entries()
        .to_vec();
    let [(k_key, v_key), (k_data, v_data)] = entries.as_slice() else {
        panic!("two entries")
    };
    assert_eq!(k_key.text(&raw, "k").unwrap(), "eReaderKey");
    assert_eq!(k_data.text(&raw, "k").unwrap(), "data");
    let mut reordered = vec![0xa2];
    for part in [k_data, v_data, k_key, v_key] {
        reordered.extend_from_slice(part.raw(&raw));
    }
    assert_eq!(ours.to_bytes(), reordered);
    assert_eq!(ours.to_bytes().len(), raw.len());
}

#[test]
fn reader_decrypts_the_session_data_to_the_annex_d_device_response() {
    let mut reader = annex_d_established_reader();
    let received = reader
        .decrypt(&session_data("session/session_data.cbor"))
        .unwrap();
    assert_eq!(received.status, None);
    let response = received.data.unwrap();
    assert_eq!(response, vector("annex_d_device_response.cbor"));
    let parsed: DeviceResponse = from_slice(&response, &Limits::DEFAULT).unwrap();
    assert_eq!(parsed.status, 0);
    assert!(!reader.is_terminated());
}

#[test]
fn device_re_encrypts_the_session_data_byte_for_byte() {
    let (mut device, _) = annex_d_device();
    let message = device
        .encrypt(&vector("annex_d_device_response.cbor"))
        .unwrap();
    assert_eq!(message.to_bytes(), vector("session/session_data.cbor"));
}

#[test]
fn session_termination_vector_is_status_20() {
    let raw = vector("session/session_termination.cbor");
    let termination = session_data("session/session_termination.cbor");
    assert_eq!(termination.status, Some(SessionStatus::Termination));
    assert_eq!(termination.data, None);
    assert_eq!(SessionData::termination().to_bytes(), raw);

    // The reader's termination message is those 9 bytes, and it ends the reader's session.
    let mut reader = annex_d_established_reader();
    assert_eq!(reader.terminate().to_bytes(), raw);
    assert!(reader.is_terminated());
    assert!(matches!(
        reader.decrypt(&session_data("session/session_data.cbor")),
        Err(Error::InvalidRequest(_))
    ));

    // Received by the mdoc, it ends the mdoc's session.
    let (mut device, _) = annex_d_device();
    assert_eq!(
        device.decrypt(&termination).unwrap(),
        Received {
            data: None,
            status: Some(SessionStatus::Termination)
        }
    );
    assert!(device.is_terminated());
    assert!(matches!(
        device.encrypt(b"late"),
        Err(Error::InvalidRequest(_))
    ));
}

// ---- fresh sessions --------------------------------------------------------------------------

fn engagement_for(key: &PublicKey, cipher_suite: u64) -> DeviceEngagement {
    let cose_key = Tag24::new(key.to_cose_key()).tagged_bytes().to_vec();
    let cose_key = node::parse(&cose_key, &Limits::DEFAULT)
        .unwrap()
        .to_value(&cose_key);
    let bytes = encode_value(&Value::Map(vec![
        (Value::Integer(0.into()), Value::Text("1.0".into())),
        (
            Value::Integer(1.into()),
            Value::Array(vec![Value::Integer(cipher_suite.into()), cose_key]),
        ),
    ]));
    DeviceEngagement::from_bytes(&bytes, &Limits::DEFAULT).unwrap()
}

fn fresh_device_key(curve: Curve) -> AgreementKey {
    match curve {
        Curve::P256 => AgreementKey::P256(p256::SecretKey::random(&mut OsRng)),
        Curve::P384 => AgreementKey::P384(p384::SecretKey::random(&mut OsRng)),
        other => panic!("no ECDH on {}", other.name()),
    }
}

#[test]
fn fresh_sessions_round_trip_in_both_directions() {
    for curve in [Curve::P256, Curve::P384] {
        let e_device_key = fresh_device_key(curve);
        let engagement = engagement_for(&e_device_key.public_key(), 1);
        let handover = Handover::Qr;

        let mut reader = ReaderSession::new(&engagement, &handover).unwrap();
        assert_eq!(reader.e_reader_key().public_key().curve(), curve);
        let request = vector("session/device_request.cbor");
        let wire = reader.establish(&request).unwrap().to_bytes();

        let se = SessionEstablishment::from_bytes(&wire, &Limits::DEFAULT).unwrap();
        let (mut device, received_request) =
            DeviceSession::establish(&engagement, &e_device_key, &handover, &se).unwrap();
        assert_eq!(received_request, request);
        assert_eq!(
            device.session_transcript_bytes(),
            reader.session_transcript_bytes()
        );
        assert_eq!(device.e_reader_key(), &reader.e_reader_key().public_key());

        // Several messages each way, each through the wire encoding.
        let through = |m: SessionData| SessionData::from_bytes(&m.to_bytes(), &Limits::DEFAULT);
        for i in 0..3u8 {
            let response = vec![i; 100 + usize::from(i)];
            let m = through(device.encrypt(&response).unwrap()).unwrap();
            assert_eq!(reader.decrypt(&m).unwrap().data.unwrap(), response);
            let follow_up = vec![0x80 | i; 10];
            let m = through(reader.encrypt(&follow_up).unwrap()).unwrap();
            assert_eq!(device.decrypt(&m).unwrap().data.unwrap(), follow_up);
        }
        let last = through(device.encrypt_final(b"last").unwrap()).unwrap();
        assert!(device.is_terminated());
        let received = reader.decrypt(&last).unwrap();
        assert_eq!(received.data.as_deref(), Some(&b"last"[..]));
        assert_eq!(received.status, Some(SessionStatus::Termination));
        assert!(reader.is_terminated());
    }
}

#[test]
fn each_reader_session_has_a_fresh_ephemeral_key() {
    let engagement = engagement_for(&fresh_device_key(Curve::P256).public_key(), 1);
    let a = ReaderSession::new(&engagement, &Handover::Qr).unwrap();
    let b = ReaderSession::new(&engagement, &Handover::Qr).unwrap();
    assert_ne!(a.e_reader_key_bytes(), b.e_reader_key_bytes());
    assert_ne!(a.session_transcript_bytes(), b.session_transcript_bytes());
}

#[test]
fn e_reader_key_bytes_are_used_as_received_even_when_not_shortest() {
    // A reader that wrote the COSE_Key's bstr head in 2 bytes (59 00 4b, not 58 4b): the
    // transcript, and so the keys, must use its bytes, not a re-encoding.
    let e_device_key = fresh_device_key(Curve::P256);
    let engagement = engagement_for(&e_device_key.public_key(), 1);
    let reader = reader_key();
    let cose = mso::cbor::to_vec(&reader.public_key().to_cose_key());
    let mut long_key = vec![0xd8, 0x18, 0x59];
    long_key.extend_from_slice(&(cose.len() as u16).to_be_bytes());
    long_key.extend_from_slice(&cose);

    let transcript = SessionTranscript::proximity(&engagement.tagged_bytes(), &long_key, &[0xf6]);
    let shared = reader.shared_secret(&e_device_key.public_key()).unwrap();
    let sk_reader = derive_session_key(&shared, &transcript.tagged_bytes(), SK_READER_INFO);
    let data = {
        use aes_gcm::aead::{Aead, KeyInit};
        let mut iv = [0u8; 12];
        iv[11] = 1;
        aes_gcm::Aes256Gcm::new_from_slice(&*sk_reader)
            .unwrap()
            .encrypt(&iv.into(), &b"request"[..])
            .unwrap()
    };
    let mut wire = vec![0xa2];
    wire.extend_from_slice(&encode_value(&Value::Text("eReaderKey".into())));
    wire.extend_from_slice(&long_key);
    wire.extend_from_slice(&encode_value(&Value::Text("data".into())));
    wire.extend_from_slice(&encode_value(&Value::Bytes(data)));

    let se = SessionEstablishment::from_bytes(&wire, &Limits::DEFAULT).unwrap();
    assert_eq!(se.e_reader_key_bytes(), long_key);
    let (device, request) =
        DeviceSession::establish(&engagement, &e_device_key, &Handover::Qr, &se).unwrap();
    assert_eq!(request, b"request");
    assert_eq!(device.transcript(), &transcript);
    // Re-encoding the message keeps the received key bytes.
    assert!(se.to_bytes().windows(long_key.len()).any(|w| w == long_key));
}

// ---- damage, replay, wrong keys, session rules ------------------------------------------------

#[test]
fn every_flipped_byte_of_the_establishment_ciphertext_is_a_decryption_error() {
    let (engagement, handover) = annex_d_engagement_and_handover();
    let device_key = device_key();
    let se = vector_establishment();
    for i in 0..se.data().len() {
        let mut data = se.data().to_vec();
        data[i] ^= 0x01;
        let damaged = SessionEstablishment::new(se.e_reader_key(), data);
        assert_eq!(
            DeviceSession::establish(&engagement, &device_key, &handover, &damaged).unwrap_err(),
            Error::SessionDecryption,
            "byte {i}"
        );
    }
}

#[test]
fn a_flipped_session_data_byte_is_a_decryption_error_and_ends_the_session() {
    let good = session_data("session/session_data.cbor");
    let len = good.data.as_ref().unwrap().len();
    // First byte, a middle byte, the first and last bytes of the tag.
    for i in [0, len / 2, len - 16, len - 1] {
        let mut damaged = good.clone();
        damaged.data.as_mut().unwrap()[i] ^= 0x80;
        let mut reader = annex_d_established_reader();
        assert_eq!(reader.decrypt(&damaged), Err(Error::SessionDecryption));
        assert!(reader.is_terminated());
        // 18013-5: an error ends the session, so not even the genuine message is accepted now.
        assert!(matches!(
            reader.decrypt(&good),
            Err(Error::InvalidRequest(_))
        ));
    }
}

#[test]
fn a_replayed_or_reordered_message_is_a_decryption_error() {
    let (mut device, _) = annex_d_device();
    let first = device.encrypt(b"first").unwrap();
    let second = device.encrypt(b"second").unwrap();

    let mut reader = annex_d_established_reader();
    assert_eq!(reader.decrypt(&first).unwrap().data.unwrap(), b"first");
    // Replay: counter 1 again where 2 is expected.
    assert_eq!(reader.decrypt(&first), Err(Error::SessionDecryption));

    // Reordered: counter 2 where 1 is expected.
    let mut reader = annex_d_established_reader();
    assert_eq!(reader.decrypt(&second), Err(Error::SessionDecryption));

    // The SessionEstablishment's data replayed to the mdoc as SessionData (reader counter 2).
    let (mut device, _) = annex_d_device();
    let replay = SessionData {
        data: Some(vector_establishment().data().to_vec()),
        status: None,
    };
    assert_eq!(device.decrypt(&replay), Err(Error::SessionDecryption));
}

#[test]
fn wrong_keys_are_refused() {
    let (engagement, handover) = annex_d_engagement_and_handover();
    let se = vector_establishment();

    // An mdoc key that is not the engagement's EDeviceKey.
    let other = fresh_device_key(Curve::P256);
    assert!(matches!(
        DeviceSession::establish(&engagement, &other, &handover, &se),
        Err(Error::InvalidKey(_))
    ));

    // The vector ciphertext under another (valid) eReaderKey: other session keys.
    let swapped = SessionEstablishment::new(&other.public_key(), se.data().to_vec());
    assert_eq!(
        DeviceSession::establish(&engagement, &device_key(), &handover, &swapped).unwrap_err(),
        Error::SessionDecryption
    );

    // A P-384 eReaderKey against a P-256 EDeviceKey.
    let p384 = fresh_device_key(Curve::P384);
    let mixed = SessionEstablishment::new(&p384.public_key(), se.data().to_vec());
    assert!(matches!(
        DeviceSession::establish(&engagement, &device_key(), &handover, &mixed),
        Err(Error::InvalidKey(_))
    ));

    // A message from another session.
    let fresh_key = fresh_device_key(Curve::P256);
    let fresh_engagement = engagement_for(&fresh_key.public_key(), 1);
    let mut other_reader = ReaderSession::new(&fresh_engagement, &Handover::Qr).unwrap();
    let other_se = other_reader.establish(b"x").unwrap();
    let (mut other_device, _) =
        DeviceSession::establish(&fresh_engagement, &fresh_key, &Handover::Qr, &other_se).unwrap();
    let foreign = other_device.encrypt(b"response").unwrap();
    let mut reader = annex_d_established_reader();
    assert_eq!(reader.decrypt(&foreign), Err(Error::SessionDecryption));

    // The reader's own message fed back to it (SKReader, not SKDevice).
    let mut reader = annex_d_established_reader();
    let own = reader.encrypt(b"request").unwrap();
    assert_eq!(reader.decrypt(&own), Err(Error::SessionDecryption));
}

#[test]
fn session_rules_are_enforced() {
    let (engagement, handover) = annex_d_engagement_and_handover();

    // Nothing may be sent or received before the SessionEstablishment, nor it twice.
    let mut reader = annex_d_reader();
    assert!(matches!(
        reader.encrypt(b"x"),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        reader.decrypt(&session_data("session/session_data.cbor")),
        Err(Error::InvalidRequest(_))
    ));
    reader.establish(b"x").unwrap();
    assert!(matches!(
        reader.establish(b"x"),
        Err(Error::InvalidRequest(_))
    ));

    // A terminated session sends nothing more.
    reader.terminate();
    assert!(matches!(
        reader.encrypt(b"x"),
        Err(Error::InvalidRequest(_))
    ));

    // A received status (here 10) ends the session too.
    let mut reader = annex_d_established_reader();
    let error = SessionData::with_status(SessionStatus::EncryptionError);
    assert_eq!(
        reader.decrypt(&error).unwrap().status,
        Some(SessionStatus::EncryptionError)
    );
    assert!(reader.is_terminated());

    // Online handovers cannot key a proximity session.
    let online = Handover::OpenId4VpDcApi {
        origin: "https://example.com".into(),
        nonce: "n".into(),
        jwk_thumbprint: None,
    };
    assert!(matches!(
        ReaderSession::with_ephemeral_key(&engagement, reader_key(), &online),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        DeviceSession::establish(&engagement, &device_key(), &online, &vector_establishment()),
        Err(Error::InvalidRequest(_))
    ));

    // Only cipher suite 1 exists.
    let suite_2 = engagement_for(&device_key().public_key(), 2);
    assert!(matches!(
        ReaderSession::new(&suite_2, &handover),
        Err(Error::InvalidValue { .. })
    ));
}

#[test]
fn status_codes_are_typed_and_unknown_codes_kept() {
    for (code, status) in [
        (10, SessionStatus::EncryptionError),
        (11, SessionStatus::CborDecodingError),
        (20, SessionStatus::Termination),
        (99, SessionStatus::Unknown(99)),
    ] {
        assert_eq!(SessionStatus::from_code(code), status);
        assert_eq!(status.code(), code);
        let bytes = SessionData::with_status(status).to_bytes();
        assert_eq!(
            SessionData::from_bytes(&bytes, &Limits::DEFAULT)
                .unwrap()
                .status,
            Some(status)
        );
    }
    assert_eq!(
        SessionStatus::for_error(&Error::SessionDecryption),
        SessionStatus::EncryptionError
    );
    assert_eq!(
        SessionStatus::for_error(&Error::Truncated { offset: 3 }),
        SessionStatus::CborDecodingError
    );
    // A request that decrypts but is not a DeviceRequest answers 11.
    let not_a_request = from_slice::<DeviceRequest>(&[0xa0], &Limits::DEFAULT).unwrap_err();
    assert_eq!(
        SessionStatus::for_error(&not_a_request),
        SessionStatus::CborDecodingError
    );
}

fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn malformed_messages_give_specific_errors() {
    let limits = Limits::DEFAULT;
    let se_raw = vector("session/session_establishment.cbor");
    let sd_raw = vector("session/session_data.cbor");

    // Every truncation.
    for cut in 0..se_raw.len() {
        assert!(
            matches!(
                SessionEstablishment::from_bytes(&se_raw[..cut], &limits),
                Err(Error::Truncated { .. })
            ),
            "cut {cut}"
        );
    }
    for cut in [0, 1, 5, sd_raw.len() / 2, sd_raw.len() - 1] {
        assert!(matches!(
            SessionData::from_bytes(&sd_raw[..cut], &limits),
            Err(Error::Truncated { .. })
        ));
    }

    // Oversized for the caller's limits, and trailing bytes.
    let small = Limits {
        max_size: 1024,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        SessionData::from_bytes(&sd_raw, &small),
        Err(Error::TooLarge {
            size: 3587,
            limit: 1024
        })
    ));
    let mut trailing = se_raw.clone();
    trailing.push(0x00);
    assert!(matches!(
        SessionEstablishment::from_bytes(&trailing, &limits),
        Err(Error::TrailingBytes { count: 1, .. })
    ));

    // Garbage.
    assert!(matches!(
        SessionData::from_bytes(&[0xff], &limits),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        SessionData::from_bytes(&hex_bytes("bf6464617461ff"), &limits),
        Err(Error::IndefiniteLength { .. })
    ));

    // Wrong shapes. {}:
    assert!(matches!(
        SessionData::from_bytes(&[0xa0], &limits),
        Err(Error::MissingField {
            context: "SessionData",
            ..
        })
    ));
    // {"data": "x"}, {"status": -1}, {"status": 20, "status": 20}, [] :
    assert!(matches!(
        SessionData::from_bytes(&hex_bytes("a164646174616178"), &limits),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        SessionData::from_bytes(&hex_bytes("a16673746174757320"), &limits),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        SessionData::from_bytes(&hex_bytes("a266737461747573146673746174757314"), &limits),
        Err(Error::DuplicateKey { .. })
    ));
    assert!(matches!(
        SessionEstablishment::from_bytes(&[0x80], &limits),
        Err(Error::WrongType { .. })
    ));
    // {"data": h''} is missing eReaderKey.
    assert!(matches!(
        SessionEstablishment::from_bytes(&hex_bytes("a1646461746140"), &limits),
        Err(Error::MissingField {
            field: "eReaderKey",
            ..
        })
    ));

    // eReaderKey without tag 24, and with a point off the curve.
    let se = vector_establishment();
    let key_bytes = se.e_reader_key_bytes();
    let untagged = se_raw
        .iter()
        .copied()
        .take(12)
        .chain(se_raw[14..].iter().copied())
        .collect::<Vec<u8>>();
    assert_eq!(&se_raw[12..14], [0xd8, 0x18]);
    assert!(matches!(
        SessionEstablishment::from_bytes(&untagged, &limits),
        Err(Error::WrongTag {
            expected: 24,
            found: None,
            ..
        })
    ));
    let mut off_curve = se_raw.clone();
    let y_last = 12 + key_bytes.len() - 1;
    off_curve[y_last] ^= 0x01;
    assert!(matches!(
        SessionEstablishment::from_bytes(&off_curve, &limits),
        Err(Error::InvalidKey(_))
    ));

    // Ciphertext shorter than the GCM tag, and empty.
    let mut reader = annex_d_established_reader();
    let short = SessionData {
        data: Some(vec![0; 15]),
        status: None,
    };
    assert_eq!(reader.decrypt(&short), Err(Error::SessionDecryption));
    let mut reader = annex_d_established_reader();
    let empty = SessionData::from_bytes(&hex_bytes("a1646461746140"), &limits).unwrap();
    assert_eq!(reader.decrypt(&empty), Err(Error::SessionDecryption));
}

#[test]
fn unknown_map_keys_are_tolerated() {
    // {"data": <vector ciphertext>, "x": 1}: the outer map is unauthenticated, so extra keys
    // are ignored rather than refused.
    let sd = session_data("session/session_data.cbor");
    let mut raw = vector("session/session_data.cbor");
    raw[0] = 0xa2;
    raw.extend_from_slice(&hex_bytes("617801"));
    let extended = SessionData::from_bytes(&raw, &Limits::DEFAULT).unwrap();
    assert_eq!(extended, sd);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SessionData::from_bytes(&bytes, &Limits::DEFAULT);
        let _ = SessionEstablishment::from_bytes(&bytes, &Limits::DEFAULT);
    }

    #[test]
    fn arbitrary_ciphertext_is_a_decryption_error(
        bytes in proptest::collection::vec(any::<u8>(), 0..200)
    ) {
        let mut reader = annex_d_established_reader();
        let message = SessionData { data: Some(bytes), status: None };
        prop_assert_eq!(reader.decrypt(&message), Err(Error::SessionDecryption));
    }

    #[test]
    fn a_mutated_session_data_never_decrypts_to_something_else(
        index in 0usize..3587,
        bit in 0u8..8,
    ) {
        let mut raw = vector("session/session_data.cbor");
        raw[index] ^= 1 << bit;
        let Ok(message) = SessionData::from_bytes(&raw, &Limits::DEFAULT) else {
            return Ok(());
        };
        let mut reader = annex_d_established_reader();
        match reader.decrypt(&message) {
            Ok(received) => prop_assert!(
                received.data.is_none()
                    || received.data == Some(vector("annex_d_device_response.cbor"))
            ),
            Err(e) => prop_assert_eq!(e, Error::SessionDecryption),
        }
    }
}
