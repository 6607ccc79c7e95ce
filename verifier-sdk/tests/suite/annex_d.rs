//! The ISO 18013-5 Annex D vectors through the facade: verification with the pinned DS and the
//! IACA, expiry at today's date, and the session vectors through `ReaderSession`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{failed, failure, text, vector, ANNEX_D_AT};
use verifier_sdk::{
    decode_session_transcript, default_verification_options, parse_device_engagement,
    parse_device_engagement_qr, session_transcript_bytes, verify_device_response,
    AgreementPrivateKey, CertificateRole, CheckFailure, CheckKind, ElementSource, ElementValue,
    ProximityHandover, ReaderSession, SessionStatus, SessionTranscriptInput, TrustStore,
    VerificationOptions, VerifierError,
};
use verifier_sdk::{CertificatePosition, PathFailure};

fn reader_key() -> AgreementPrivateKey {
    AgreementPrivateKey::Pkcs8Pem {
        pem: text("annex_d_ereader_key.pem"),
    }
}

fn options(at: i64) -> VerificationOptions {
    VerificationOptions {
        clock_skew_seconds: 0,
        reader_key: Some(reader_key()),
        ..default_verification_options(at)
    }
}

fn pinned() -> std::sync::Arc<TrustStore> {
    let trust = TrustStore::new();
    let info = trust
        .pin_document_signer_der(vector("annex_d_ds.der"))
        .unwrap();
    assert_eq!(info.subject, "C=US,CN=utopia ds");
    trust
}

fn transcript() -> SessionTranscriptInput {
    SessionTranscriptInput::Encoded {
        bytes: vector("annex_d_session_transcript_bytes.cbor"),
    }
}

#[test]
fn verifies_at_2021_01_01_with_the_pinned_ds_and_the_device_mac() {
    let report = verify_device_response(
        vector("annex_d_device_response.cbor"),
        transcript(),
        pinned(),
        options(ANNEX_D_AT),
    )
    .unwrap();
    assert!(report.valid, "{:?}", failed(&report));
    assert_eq!(report.documents.len(), 1);
    let doc = &report.documents[0];
    assert_eq!(doc.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(common::checks(doc, CheckKind::ValueDigest).len(), 6);
    assert_eq!(failure(doc, CheckKind::DeviceAuthentication), None);

    let names: Vec<_> = doc.elements.iter().map(|e| e.identifier.as_str()).collect();
    assert_eq!(
        names,
        [
            "family_name",
            "issue_date",
            "expiry_date",
            "document_number",
            "portrait",
            "driving_privileges"
        ]
    );
    assert!(doc
        .elements
        .iter()
        .all(|e| e.verified && e.source == ElementSource::IssuerSigned));
    assert_eq!(
        doc.elements[0].value,
        ElementValue::Text {
            value: "Doe".into()
        }
    );
    assert_eq!(
        doc.elements[1].value,
        ElementValue::FullDate {
            iso: "2019-10-20".into()
        }
    );
    assert!(
        matches!(&doc.elements[4].value, ElementValue::Bytes { value } if value.starts_with(&[0xff, 0xd8]))
    );
    let ElementValue::Array { items } = &doc.elements[5].value else {
        panic!("driving_privileges is an array")
    };
    assert!(matches!(&items[0], ElementValue::Map { entries } if !entries.is_empty()));
}

#[test]
fn verifies_through_the_annex_d_iaca() {
    let trust = TrustStore::new();
    let infos = trust.add_iaca_pem(text("annex_d_iaca.pem")).unwrap();
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].country.as_deref(), Some("US"));
    let report = verify_device_response(
        vector("annex_d_device_response.cbor"),
        transcript(),
        trust,
        options(ANNEX_D_AT),
    )
    .unwrap();
    assert!(report.valid, "{:?}", failed(&report));
    assert_eq!(failure(&report.documents[0], CheckKind::DsTrusted), None);
    assert_eq!(failure(&report.documents[0], CheckKind::IacaValidity), None);
}

#[test]
fn at_todays_date_the_ds_certificate_is_reported_expired() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let report = verify_device_response(
        vector("annex_d_device_response.cbor"),
        transcript(),
        pinned(),
        options(now),
    )
    .unwrap();
    assert!(!report.valid);
    let doc = &report.documents[0];
    assert_eq!(
        failure(doc, CheckKind::DsValidity),
        Some(CheckFailure::CertificateExpired {
            certificate: CertificateRole::DocumentSigner,
            not_after: 1_633_046_400, // 2021-10-01T00:00:00Z
            at: now,
        })
    );
    assert_eq!(
        failure(doc, CheckKind::MsoValidity),
        Some(CheckFailure::MsoExpired {
            valid_until: 1_633_095_002, // 2021-10-01T13:30:02Z
            at: now,
        })
    );
    let reason = match &common::checks(doc, CheckKind::DsValidity)[0].outcome {
        verifier_sdk::CheckOutcome::Failed { reason, .. } => reason.clone(),
        verifier_sdk::CheckOutcome::Passed => panic!("DS validity passed"),
    };
    assert!(
        reason.starts_with("DS certificate expired: notAfter 2021-10-01T00:00:00Z, at "),
        "{reason}"
    );
    // Expiry is not reported as a bad signature: only the two time checks fail.
    let kinds: Vec<_> = failed(&report).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [CheckKind::DsValidity, CheckKind::MsoValidity]);
}

#[test]
fn a_device_mac_without_the_reader_key_is_reported_missing() {
    let report = verify_device_response(
        vector("annex_d_device_response.cbor"),
        transcript(),
        pinned(),
        default_verification_options(ANNEX_D_AT),
    )
    .unwrap();
    assert!(!report.valid);
    assert_eq!(
        failure(&report.documents[0], CheckKind::DeviceAuthentication),
        Some(CheckFailure::MissingReaderKey)
    );
}

#[test]
fn an_untrusting_store_reports_no_trusted_issuer() {
    let report = verify_device_response(
        vector("annex_d_device_response.cbor"),
        transcript(),
        TrustStore::new(),
        options(ANNEX_D_AT),
    )
    .unwrap();
    assert!(!report.valid);
    // Only the trust check fails; revocation cannot be judged for an untrusted DS.
    assert_eq!(
        failed(&report),
        [
            (CheckKind::DsTrusted, None),
            (CheckKind::DsRevocation, None)
        ],
    );
    assert_eq!(
        failure(&report.documents[0], CheckKind::DsRevocation),
        Some(CheckFailure::NotChecked)
    );
    // The empty store holds no certificate with the DS's issuer name.
    assert!(matches!(
        failure(&report.documents[0], CheckKind::DsTrusted),
        Some(CheckFailure::NoTrustedIssuer {
            path: PathFailure::UnknownIssuer {
                position: CertificatePosition::Leaf,
                ..
            }
        })
    ));
}

/// A reader session rebuilt from the Annex D transcript (NFC engagement and handover) with the
/// vector's ephemeral reader key.
fn annex_d_reader() -> std::sync::Arc<ReaderSession> {
    let parts = decode_session_transcript(vector("annex_d_session_transcript_bytes.cbor")).unwrap();
    let handover = parts.proximity_handover.unwrap();
    assert!(matches!(handover, ProximityHandover::Nfc { .. }));
    ReaderSession::with_ephemeral_key(parts.device_engagement.unwrap(), handover, reader_key())
        .unwrap()
}

#[test]
fn the_reader_session_reproduces_the_annex_d_session_byte_for_byte() {
    let reader = annex_d_reader();
    assert_eq!(
        reader.session_transcript_bytes().unwrap(),
        vector("annex_d_session_transcript_bytes.cbor")
    );
    let establishment = reader
        .establish(vector("session/device_request.cbor"))
        .unwrap();
    // The same two entries as the vector; mso writes them in deterministic order ("data"
    // first), the vector has "eReaderKey" first.
    let key_entry = b"\x6aeReaderKey";
    let split = establishment
        .windows(key_entry.len())
        .position(|w| w == key_entry)
        .unwrap();
    let (data_entry, key_entry) = establishment[1..].split_at(split - 1);
    assert_eq!(
        [&[0xa2][..], key_entry, data_entry].concat(),
        vector("session/session_establishment.cbor")
    );
    assert!(matches!(
        reader.establish(vector("session/device_request.cbor")),
        Err(VerifierError::SessionState { .. })
    ));

    let received = reader.decrypt(vector("session/session_data.cbor")).unwrap();
    assert_eq!(received.status, None);
    let response = received.data.unwrap();
    assert_eq!(response, vector("annex_d_device_response.cbor"));

    // The session's own transcript and ephemeral key verify the deviceMac.
    let report = reader
        .verify_response(response, pinned(), default_verification_options(ANNEX_D_AT))
        .unwrap();
    assert!(report.valid, "{:?}", failed(&report));

    let end = reader
        .decrypt(vector("session/session_termination.cbor"))
        .unwrap();
    assert_eq!(end.data, None);
    assert_eq!(end.status, Some(SessionStatus::Termination));
    assert!(reader.is_terminated().unwrap());
}

#[test]
fn a_tampered_session_message_is_a_decryption_error_and_ends_the_session() {
    let reader = annex_d_reader();
    reader
        .establish(vector("session/device_request.cbor"))
        .unwrap();
    let mut data = vector("session/session_data.cbor");
    let last = data.len() - 1;
    data[last] ^= 0x01;
    assert_eq!(reader.decrypt(data), Err(VerifierError::SessionDecryption));
    assert!(reader.is_terminated().unwrap());
    assert!(matches!(
        reader.decrypt(vector("session/session_data.cbor")),
        Err(VerifierError::SessionState { .. })
    ));
}

#[test]
fn decrypting_before_establishing_is_a_session_state_error() {
    let reader = annex_d_reader();
    assert!(matches!(
        reader.decrypt(vector("session/session_data.cbor")),
        Err(VerifierError::SessionState { .. })
    ));
}

#[test]
fn the_transcript_rebuilt_from_typed_parts_is_the_vector() {
    let parts = decode_session_transcript(vector("annex_d_session_transcript_bytes.cbor")).unwrap();
    let de = parts.device_engagement.unwrap();
    assert_eq!(de.len(), 88, "the NFC-form engagement");
    let rebuilt = session_transcript_bytes(SessionTranscriptInput::Proximity {
        device_engagement: de,
        e_reader_key_bytes: parts.e_reader_key_bytes.unwrap(),
        handover: parts.proximity_handover.unwrap(),
    })
    .unwrap();
    assert_eq!(rebuilt, vector("annex_d_session_transcript_bytes.cbor"));
}

#[test]
fn the_qr_engagement_parses_keeping_its_bytes() {
    let bytes = vector("annex_d_device_engagement.cbor");
    let info = parse_device_engagement(bytes.clone()).unwrap();
    assert_eq!(info.device_engagement, bytes);
    assert_eq!(info.version, "1.0");
    assert_eq!(info.cipher_suite, 1);
    assert!(info.has_device_retrieval_methods);
    use base64::Engine;
    let uri = format!(
        "mdoc:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
    );
    assert_eq!(parse_device_engagement_qr(uri.clone()).unwrap(), info);
    let session = ReaderSession::from_qr_code(uri).unwrap();
    assert_eq!(session.device_engagement(), info);
    // A fresh key each time: two sessions never share EReaderKeyBytes.
    let other = ReaderSession::new(bytes, ProximityHandover::Qr).unwrap();
    assert_ne!(
        session.e_reader_key_bytes().unwrap(),
        other.e_reader_key_bytes().unwrap()
    );
}
