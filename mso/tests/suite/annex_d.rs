//! ISO/IEC 18013-5 Annex D test vectors: the standard's own DeviceResponse, SessionTranscript,
//! DeviceEngagement and DeviceRequest, read from `../shared/vectors/annex-d/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use mso::cbor::{from_slice, Limits, Tag24};
use mso::cose::{sign1_verify_detached, x5chain};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{PublicKey, SoftwareVerifier};
use mso::model::{
    reader_authentication_bytes, DeviceAuth, DeviceEngagement, DeviceRequest, DeviceResponse,
    Handover, SessionTranscript, MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::verify::{
    verify_device_response, CheckKind, DeviceAuthInput, Failure, IssuerTrust, VerifyOptions,
};
use mso::x509::Certificate;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/annex-d")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(vector(name)).unwrap()
}

fn response() -> DeviceResponse {
    from_slice(&vector("annex_d_device_response.cbor"), &Limits::DEFAULT).unwrap()
}

fn transcript() -> SessionTranscript {
    SessionTranscript::from_bytes(
        &vector("annex_d_session_transcript_bytes.cbor"),
        &Limits::DEFAULT,
    )
    .unwrap()
}

fn reader_key() -> AgreementKey {
    AgreementKey::from_pkcs8_pem(&text("annex_d_ereader_key.pem")).unwrap()
}

fn verify_at(at: OffsetDateTime, trust: &IssuerTrust) -> mso::verify::ResponseReport {
    verify_response_at(&response(), at, trust)
}

fn verify_response_at(
    response: &DeviceResponse,
    at: OffsetDateTime,
    trust: &IssuerTrust,
) -> mso::verify::ResponseReport {
    let transcript = transcript();
    let reader = reader_key();
    let session = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: Some(&reader),
    };
    let opts = VerifyOptions {
        skew: Duration::ZERO,
        ..VerifyOptions::new(at, trust, &SoftwareVerifier)
    };
    verify_device_response(response, &session, &opts)
}

const IN_WINDOW: OffsetDateTime = datetime!(2021-01-01 00:00:00 UTC);

#[test]
fn device_response_parses_with_six_items() {
    let r = response();
    assert_eq!(r.version, "1.0");
    assert_eq!(r.status, 0);
    let docs = r.documents.as_ref().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].doc_type, MDL_DOCTYPE);
    let ns = docs[0].issuer_signed.name_spaces.as_ref().unwrap();
    let items = &ns[MDL_NAMESPACE];
    let names: Vec<_> = items
        .iter()
        .map(|i| i.value().element_identifier.as_str())
        .collect();
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
    let mso = docs[0].issuer_signed.issuer_auth.mso().value();
    assert_eq!(mso.doc_type, MDL_DOCTYPE);
    assert_eq!(
        mso.validity_info.signed.to_rfc3339(),
        "2020-10-01T13:30:02Z"
    );
    assert!(matches!(
        docs[0].device_signed.device_auth,
        DeviceAuth::Mac(_)
    ));
}

#[test]
fn x5chain_is_the_published_ds_certificate() {
    let r = response();
    let doc = &r.documents.as_ref().unwrap()[0];
    let chain = x5chain(doc.issuer_auth_sign1()).unwrap();
    assert_eq!(chain, vec![vector("annex_d_ds.der")]);
}

trait Sign1Of {
    fn issuer_auth_sign1(&self) -> &coset::CoseSign1;
}
impl Sign1Of for mso::model::Document {
    fn issuer_auth_sign1(&self) -> &coset::CoseSign1 {
        self.issuer_signed.issuer_auth.sign1()
    }
}

#[test]
fn verifies_at_2021_01_01_with_the_pinned_ds_certificate_and_device_mac() {
    let ds = Certificate::from_der(&vector("annex_d_ds.der")).unwrap();
    let report = verify_at(IN_WINDOW, &IssuerTrust::PinnedDocumentSigner(Box::new(ds)));
    let failures: Vec<_> = report.failures().collect();
    assert!(report.is_valid(), "{failures:?}");
    let doc = &report.documents[0];
    for kind in [
        CheckKind::IssuerSignature,
        CheckKind::DsValidity,
        CheckKind::MsoValidity,
        CheckKind::DocType,
        CheckKind::DeviceAuthentication,
    ] {
        assert_eq!(doc.outcome(kind), Some(&Ok(())), "{kind:?}");
    }
    let digests = doc
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ValueDigest)
        .count();
    assert_eq!(digests, 6);
}

#[test]
fn verifies_through_the_annex_d_iaca() {
    let iaca = Certificate::from_der(&vector("annex_d_iaca.der")).unwrap();
    let report = verify_at(IN_WINDOW, &IssuerTrust::iacas(vec![iaca]));
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(
        report.documents[0].outcome(CheckKind::DsTrusted),
        Some(&Ok(()))
    );
}

#[test]
fn at_todays_date_the_ds_certificate_and_mso_are_reported_expired() {
    let ds = Certificate::from_der(&vector("annex_d_ds.der")).unwrap();
    let at = datetime!(2026-11-21 00:00:00 UTC);
    let report = verify_at(at, &IssuerTrust::PinnedDocumentSigner(Box::new(ds)));
    assert!(!report.is_valid());
    let doc = &report.documents[0];
    assert_eq!(
        doc.outcome(CheckKind::DsValidity),
        Some(&Err(Failure::CertificateExpired {
            which: "DS",
            not_after: datetime!(2021-10-01 00:00:00 UTC),
            at,
        }))
    );
    assert_eq!(
        doc.outcome(CheckKind::MsoValidity),
        Some(&Err(Failure::MsoExpired {
            valid_until: datetime!(2021-10-01 13:30:02 UTC),
            at,
        }))
    );
    // The signature itself is still good: expiry is not reported as a bad signature.
    assert_eq!(doc.outcome(CheckKind::IssuerSignature), Some(&Ok(())));
    assert_eq!(doc.outcome(CheckKind::DeviceAuthentication), Some(&Ok(())));
}

#[test]
fn wrong_reader_key_fails_the_device_mac_only() {
    let ds = Certificate::from_der(&vector("annex_d_ds.der")).unwrap();
    let trust = IssuerTrust::PinnedDocumentSigner(Box::new(ds));
    let transcript = transcript();
    // The device's own ephemeral key is a valid P-256 key but not the reader's.
    let wrong = AgreementKey::from_pkcs8_pem(&text("annex_d_edevice_key.pem")).unwrap();
    let session = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: Some(&wrong),
    };
    let opts = VerifyOptions {
        skew: Duration::ZERO,
        ..VerifyOptions::new(IN_WINDOW, &trust, &SoftwareVerifier)
    };
    let report = verify_device_response(&response(), &session, &opts);
    let failed: Vec<_> = report.failures().map(|c| c.kind).collect();
    assert_eq!(failed, vec![CheckKind::DeviceAuthentication]);

    let no_key = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: None,
    };
    let report = verify_device_response(&response(), &no_key, &opts);
    assert_eq!(
        report.documents[0].outcome(CheckKind::DeviceAuthentication),
        Some(&Err(Failure::MissingReaderKey))
    );
}

#[test]
fn session_transcript_is_reproduced_byte_for_byte() {
    let original = vector("annex_d_session_transcript_bytes.cbor");
    let t = transcript();
    assert_eq!(t.tagged_bytes(), original);
    let [de, ek, handover] = t.parts().unwrap();

    // DeviceEngagementBytes: a tag-24 DeviceEngagement (the NFC form, 88 bytes).
    let de_tagged: Tag24<mso::cbor::Value> =
        Tag24::from_tagged_slice(&de, &Limits::DEFAULT).unwrap();
    let engagement =
        DeviceEngagement::from_bytes(de_tagged.inner_bytes(), &Limits::DEFAULT).unwrap();
    assert_eq!(engagement.version, "1.0");
    assert_eq!(engagement.tagged_bytes(), de);

    // EReaderKeyBytes: the reader's ephemeral public key.
    let ek_tagged: Tag24<coset::CoseKey> = Tag24::from_tagged_slice(&ek, &Limits::DEFAULT).unwrap();
    let ek_public = PublicKey::from_cose_key(ek_tagged.value()).unwrap();
    assert_eq!(ek_public, reader_key().public_key());

    // Handover: NFC negotiated handover [HandoverSelect, HandoverRequest].
    let node = mso::cbor::node::parse(&handover, &Limits::DEFAULT).unwrap();
    let [select, request] = node.array("Handover").unwrap() else {
        panic!("NFC handover is a 2-element array")
    };
    let rebuilt_handover = Handover::Nfc {
        select: select.bytes(&handover, "select").unwrap().to_vec(),
        request: (!request.is_null())
            .then(|| request.bytes(&handover, "request").unwrap().to_vec()),
    }
    .to_bytes();
    assert_eq!(rebuilt_handover, handover);

    let rebuilt = SessionTranscript::proximity(&engagement.tagged_bytes(), &ek, &rebuilt_handover);
    assert_eq!(rebuilt.tagged_bytes(), original);
}

#[test]
fn qr_device_engagement_keeps_raw_bytes() {
    let bytes = vector("annex_d_device_engagement.cbor");
    let de = DeviceEngagement::from_bytes(&bytes, &Limits::DEFAULT).unwrap();
    assert_eq!(de.raw(), bytes.as_slice());
    assert_eq!(de.cipher_suite, 1);
    let key = PublicKey::from_cose_key(de.e_device_key.value()).unwrap();
    let expected = AgreementKey::from_pkcs8_pem(&text("annex_d_edevice_key.pem"))
        .unwrap()
        .public_key();
    assert_eq!(key, expected);
    assert!(de.device_retrieval_methods.is_some());
    use base64::Engine;
    let uri = format!(
        "mdoc:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
    );
    assert_eq!(
        DeviceEngagement::from_qr_uri(&uri, &Limits::DEFAULT).unwrap(),
        de
    );
}

#[test]
fn device_request_reader_auth_verifies() {
    let request: DeviceRequest =
        from_slice(&vector("session/device_request.cbor"), &Limits::DEFAULT).unwrap();
    assert_eq!(request.version, "1.0");
    let doc_request = &request.doc_requests[0];
    assert_eq!(
        doc_request.items_request.inner_bytes(),
        vector("session/items_request.cbor")
    );
    let items = doc_request.items_request.value();
    assert_eq!(items.doc_type, MDL_DOCTYPE);
    assert!(!items.name_spaces[MDL_NAMESPACE]["portrait"]);
    assert!(items.name_spaces[MDL_NAMESPACE]["family_name"]);

    let auth_bytes =
        reader_authentication_bytes(&transcript(), doc_request.items_request.tagged_bytes());
    assert_eq!(auth_bytes.len(), 755);
    assert_eq!(
        hex::encode(Sha256::digest(&auth_bytes)),
        "d6e35addfc49a676827927344952930758be15354bc022a3da8524bff0ba35c9"
    );
    let reader_auth = doc_request.reader_auth.as_ref().unwrap();
    let cert = Certificate::from_der(&x5chain(reader_auth).unwrap()[0]).unwrap();
    assert_eq!(cert.der(), vector("session/reader_cert.der"));
    sign1_verify_detached(
        reader_auth,
        &auth_bytes,
        &cert.public_key().unwrap(),
        &SoftwareVerifier,
    )
    .unwrap();
    // One changed byte of the request breaks it.
    let mut tampered = auth_bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(sign1_verify_detached(
        reader_auth,
        &tampered,
        &cert.public_key().unwrap(),
        &SoftwareVerifier
    )
    .is_err());
}

/// The mdoc's status is judged: a response whose status is not 0 is not valid, even with
/// documents that verify (issue 12, item 8: `status: 20` reported valid).
#[test]
fn a_response_with_a_status_other_than_ok_is_not_valid() {
    let ds = Certificate::from_der(&vector("annex_d_ds.der")).unwrap();
    let trust = IssuerTrust::PinnedDocumentSigner(Box::new(ds));
    for (status, valid) in [
        (0, true),
        (10, false),
        (11, false),
        (12, false),
        (20, false),
    ] {
        let mut r = response();
        r.status = status;
        let report = verify_response_at(&r, IN_WINDOW, &trust);
        assert_eq!(report.is_valid(), valid, "status {status}");
        assert!(
            report.documents.iter().all(|d| d.is_valid()),
            "status {status}"
        );
    }
}
