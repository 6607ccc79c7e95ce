//! Proximity presentation against the verifier SDK's reader session.

use std::sync::Arc;

use mso::cbor::{from_slice, Limits};
use mso::model::{DeviceResponse, MDL_DOCTYPE, MDL_NAMESPACE};
use test_kit::reader::ReaderPki;
use verifier_sdk::{
    default_verification_options, DocumentRequest, ElementRequest, NamespaceRequest, ReaderAuthKey,
    ReaderSession, SigningPrivateKey,
};
use wallet_sdk::{
    ApprovedDocument, ApprovedElement, ConsentRequest, PresentationSession, ReaderAuthStatus,
    WalletError, WalletPolicy,
};

use crate::common::{at, Fixture};

pub fn mdl_request(elements: &[(&str, bool)]) -> Vec<DocumentRequest> {
    vec![DocumentRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![NamespaceRequest {
            namespace: MDL_NAMESPACE.into(),
            elements: elements
                .iter()
                .map(|(id, retain)| ElementRequest {
                    identifier: (*id).into(),
                    intent_to_retain: *retain,
                })
                .collect(),
        }],
    }]
}

pub fn reader_auth(pki: &ReaderPki) -> ReaderAuthKey {
    ReaderAuthKey {
        private_key: SigningPrivateKey::Pkcs8Der {
            der: pki.reader_key.to_pkcs8_der().unwrap().to_vec(),
        },
        certificate_chain: vec![pki.reader_der.clone()],
    }
}

/// A reader engaged by the wallet's QR code; the SessionEstablishment it sends.
pub fn engage(
    f: &Fixture,
    auth: Option<&ReaderPki>,
) -> (Arc<PresentationSession>, Arc<ReaderSession>, Vec<u8>) {
    let session = f.wallet.clone().start_presentation().unwrap();
    let reader = ReaderSession::from_qr_code(session.qr_code_uri().unwrap()).unwrap();
    let request = reader
        .device_request(
            mdl_request(&[
                ("family_name", false),
                ("age_over_18", true),
                ("portrait", false),
            ]),
            auth.map(reader_auth),
        )
        .unwrap();
    let establishment = reader.establish(request).unwrap();
    (session, reader, establishment)
}

fn approve(consent: &ConsentRequest, ids: &[&str]) -> Vec<ApprovedDocument> {
    consent
        .documents
        .iter()
        .map(|d| ApprovedDocument {
            doc_type: d.doc_type.clone(),
            elements: ids
                .iter()
                .map(|id| ApprovedElement {
                    namespace: MDL_NAMESPACE.into(),
                    identifier: (*id).into(),
                })
                .collect(),
        })
        .collect()
}

/// One full presentation approving `ids`; the DeviceResponse the reader decrypted.
fn present(f: &Fixture, ids: &[&str]) -> Result<DeviceResponse, WalletError> {
    let (session, reader, establishment) = engage(f, None);
    let consent = session.receive_establishment(establishment, at())?;
    let message = session.respond(approve(&consent, ids), at())?;
    let data = reader.decrypt(message).unwrap().data.unwrap();
    let report = reader
        .verify_response(
            data.clone(),
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(report.valid, "{report:?}");
    Ok(from_slice(&data, &Limits::DEFAULT).unwrap())
}

#[test]
fn only_approved_elements_are_presented_and_the_verifier_accepts() {
    let f = Fixture::new();
    let id = f.holding(2);
    let readers = ReaderPki::new("Tokyo Police Reader");
    f.wallet
        .set_reader_trust_anchors(vec![readers.root_der.clone()])
        .unwrap();
    let (session, reader, establishment) = engage(&f, Some(&readers));
    let consent = session.receive_establishment(establishment, at()).unwrap();
    let doc = &consent.documents[0];
    assert_eq!(doc.doc_type, MDL_DOCTYPE);
    assert_eq!(doc.credential_id.as_deref(), Some(id.as_str()));
    assert_eq!(doc.reader.auth, ReaderAuthStatus::Verified);
    assert!(doc
        .reader
        .subject
        .as_deref()
        .unwrap()
        .contains("Tokyo Police Reader"));
    let asked: Vec<_> = doc
        .elements
        .iter()
        .map(|e| (e.identifier.as_str(), e.intent_to_retain, e.available))
        .collect();
    assert_eq!(
        asked,
        [
            ("age_over_18", true, true),
            ("family_name", false, true),
            ("portrait", false, true)
        ]
    );
    // No key is used before the holder answers.
    assert_eq!(f.signs(), 0);

    // The holder approves two of the three.
    let message = session
        .respond(approve(&consent, &["age_over_18", "family_name"]), at())
        .unwrap();
    assert_eq!(f.signs(), 1);
    let data = reader.decrypt(message).unwrap().data.unwrap();
    let report = reader
        .verify_response(data, f.trust.clone(), default_verification_options(at()))
        .unwrap();
    assert!(report.valid, "{report:?}");
    let mut disclosed: Vec<_> = report.documents[0]
        .elements
        .iter()
        .map(|e| e.identifier.clone())
        .collect();
    disclosed.sort();
    assert_eq!(disclosed, ["age_over_18", "family_name"]);
    let used: Vec<_> = f
        .wallet
        .credential(id)
        .unwrap()
        .msos
        .iter()
        .map(|m| m.use_count)
        .collect();
    assert_eq!(used, [1, 0]);
    // The reader ends the session.
    assert_eq!(
        session
            .receive_message(reader.terminate().unwrap(), at())
            .unwrap(),
        None
    );
    assert!(session.is_terminated().unwrap());
}

#[test]
fn each_presentation_uses_another_mso_until_the_batch_is_used_up() {
    let f = Fixture::new();
    f.holding(2);
    let first = present(&f, &["family_name"]).unwrap();
    let second = present(&f, &["family_name"]).unwrap();
    let parts = |r: &DeviceResponse| {
        let doc = &r.documents.as_ref().unwrap()[0];
        let mso = doc.issuer_signed.issuer_auth.mso().tagged_bytes().to_vec();
        let item = doc.issuer_signed.name_spaces.as_ref().unwrap()[MDL_NAMESPACE][0]
            .value()
            .random
            .clone();
        (mso, item)
    };
    let (mso1, salt1) = parts(&first);
    let (mso2, salt2) = parts(&second);
    assert_ne!(mso1, mso2, "the same MSO (same digests) was shown twice");
    assert_ne!(salt1, salt2, "the same salt was shown twice");
    // Used up: refused by default, the least-used one again when the app allows it.
    assert!(matches!(
        present(&f, &["family_name"]),
        Err(WalletError::NoUsableMso { .. })
    ));
    f.wallet
        .set_policy(WalletPolicy {
            reuse_when_exhausted: true,
            ..f.wallet.policy().unwrap()
        })
        .unwrap();
    present(&f, &["family_name"]).unwrap();
}

#[test]
fn a_reader_whose_authentication_fails_is_reported_unverified() {
    let f = Fixture::new();
    f.holding(1);
    let trusted = ReaderPki::new("Trusted Reader");
    f.wallet
        .set_reader_trust_anchors(vec![trusted.root_der.clone()])
        .unwrap();
    // Certified by a CA the wallet does not trust.
    let rogue = ReaderPki::new("Rogue Reader");
    let (session, _, establishment) = engage(&f, Some(&rogue));
    let consent = session.receive_establishment(establishment, at()).unwrap();
    let reader = &consent.documents[0].reader;
    assert!(
        matches!(reader.auth, ReaderAuthStatus::Unverified { .. }),
        "{reader:?}"
    );
    assert!(reader.subject.as_deref().unwrap().contains("Rogue Reader"));
    // Certified by a trusted CA, but not for reader authentication.
    let other_purpose = ReaderPki::without_reader_eku("Other Purpose");
    f.wallet
        .set_reader_trust_anchors(vec![other_purpose.root_der.clone()])
        .unwrap();
    let (session, _, establishment) = engage(&f, Some(&other_purpose));
    let consent = session.receive_establishment(establishment, at()).unwrap();
    match &consent.documents[0].reader.auth {
        ReaderAuthStatus::Unverified { reason } => assert!(reason.contains("1.0.18013.5.1.6")),
        other => panic!("{other:?}"),
    }
    // No reader authentication at all.
    let (session, _, establishment) = engage(&f, None);
    let consent = session.receive_establishment(establishment, at()).unwrap();
    assert_eq!(consent.documents[0].reader.auth, ReaderAuthStatus::Absent);
}

#[test]
fn nothing_beyond_the_request_can_be_approved() {
    let f = Fixture::new();
    let id = f.holding(1);
    let (session, _, establishment) = engage(&f, None);
    let consent = session.receive_establishment(establishment, at()).unwrap();
    let err = session
        .respond(approve(&consent, &["family_name", "birth_date"]), at())
        .unwrap_err();
    assert!(matches!(err, WalletError::InvalidArgument { .. }), "{err}");
    assert_eq!(f.signs(), 0);
    assert_eq!(f.wallet.credential(id).unwrap().msos[0].use_count, 0);
    // The holder can still answer within the request.
    session
        .respond(approve(&consent, &["family_name"]), at())
        .unwrap();
}
