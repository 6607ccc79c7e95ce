//! Documents issued by this project's own stack (mso's issuer, the test PKI) through the facade:
//! end-to-end verification with typed values, and each single mutation reported as the
//! specific failed check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use std::sync::Arc;

use common::{failed, failure};
use mso::cbor::{to_vec, Limits, Tag24, Value};
use mso::cose::{sign1_verify_detached, x5chain, CoseSign1};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{
    reader_authentication_bytes, DeviceRequest, IssuerAuth, IssuerSigned, IssuerSignedItem,
    SessionTranscript, MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::present::{device_response, present_with_signature};
use mso::x509::Certificate;
use test_kit::{mdl, pki};
use verifier_sdk::{
    default_verification_options, encode_device_request, session_transcript_bytes,
    verify_device_response, verify_issuer_signed, AddOutcome, CheckFailure, CheckKind,
    DocumentRequest, ElementRequest, ElementValue, ErrorCategory, NamespaceRequest,
    ProximityHandover, ReaderAuthKey, ReaderSession, RevocationPolicy, SessionTranscriptInput,
    SignatureAlgorithm, SigningPrivateKey, TrustStore, VerificationOptions, VerificationReport,
    VerifierError,
};
use verifier_sdk::{CertificatePosition, PathFailure};

fn oid4vp(nonce: &str) -> SessionTranscriptInput {
    SessionTranscriptInput::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: nonce.into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    }
}

const NONCE: &str = "n-0S6_WzA2Mj";

fn mso_transcript() -> SessionTranscript {
    let bytes = session_transcript_bytes(oid4vp(NONCE)).unwrap();
    SessionTranscript::from_bytes(&bytes, &Limits::DEFAULT).unwrap()
}

struct Fixture {
    pki: pki::TestPki,
    device: SoftwareKey,
    issued: IssuerSigned,
}

impl Fixture {
    fn new() -> Self {
        Self::with_pki(pki::TestPki::new())
    }

    fn with_pki(pki: pki::TestPki) -> Self {
        let device = SoftwareKey::generate(Algorithm::Es256);
        let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
        Fixture {
            pki,
            device,
            issued,
        }
    }

    fn trust(&self) -> Arc<TrustStore> {
        let trust = TrustStore::new();
        trust.add_iaca_der(self.pki.iaca_der.clone()).unwrap();
        trust
    }

    fn response(&self, issued: &IssuerSigned) -> Vec<u8> {
        let doc = present_with_signature(issued, None, &mso_transcript(), &self.device).unwrap();
        to_vec(&device_response(vec![doc]))
    }

    fn verify(&self, issued: &IssuerSigned) -> VerificationReport {
        self.verify_with(issued, default_verification_options(at()))
    }

    fn verify_with(
        &self,
        issued: &IssuerSigned,
        options: VerificationOptions,
    ) -> VerificationReport {
        verify_device_response(self.response(issued), oid4vp(NONCE), self.trust(), options).unwrap()
    }

    /// The sample response verified against `trust` with the default options.
    fn verify_in(&self, trust: &Arc<TrustStore>) -> VerificationReport {
        verify_device_response(
            self.response(&self.issued),
            oid4vp(NONCE),
            Arc::clone(trust),
            default_verification_options(at()),
        )
        .unwrap()
    }
}

fn at() -> i64 {
    pki::AT.unix_timestamp()
}

/// `issued` with the item `id` replaced by `change(item)`, re-encoded (its digest no longer
/// matches unless `change` is the identity).
fn with_item(
    issued: &IssuerSigned,
    id: &str,
    change: impl Fn(&mut IssuerSignedItem),
) -> IssuerSigned {
    let mut out = issued.clone();
    let items = out
        .name_spaces
        .as_mut()
        .unwrap()
        .get_mut(MDL_NAMESPACE)
        .unwrap();
    let item = items
        .iter_mut()
        .find(|i| i.value().element_identifier == id)
        .unwrap();
    let mut value = item.value().clone();
    change(&mut value);
    *item = Tag24::new(value);
    out
}

fn with_sign1(issued: &IssuerSigned, change: impl Fn(&mut CoseSign1)) -> IssuerSigned {
    let mut sign1 = issued.issuer_auth.sign1().clone();
    change(&mut sign1);
    IssuerSigned {
        name_spaces: issued.name_spaces.clone(),
        issuer_auth: IssuerAuth::from_sign1(sign1, &Limits::DEFAULT).unwrap(),
    }
}

fn element<'a>(report: &'a VerificationReport, id: &str) -> &'a verifier_sdk::DisclosedElement {
    report.documents[0]
        .elements
        .iter()
        .find(|e| e.identifier == id)
        .unwrap()
}

#[test]
fn an_issued_mdl_verifies_end_to_end_with_typed_values() {
    let f = Fixture::new();
    let report = f.verify(&f.issued);
    assert!(report.valid, "{:?}", failed(&report));
    let doc = &report.documents[0];
    assert_eq!(doc.doc_type, MDL_DOCTYPE);
    assert_eq!(doc.elements.len(), 12);
    assert!(doc.elements.iter().all(|e| e.verified));
    assert_eq!(
        element(&report, "family_name").value,
        ElementValue::Text {
            value: "Yamada".into()
        }
    );
    assert_eq!(
        element(&report, "birth_date").value,
        ElementValue::FullDate {
            iso: "1990-02-28".into()
        }
    );
    assert_eq!(
        element(&report, "age_over_18").value,
        ElementValue::Bool { value: true }
    );
    assert!(matches!(
        &element(&report, "portrait").value,
        ElementValue::Bytes { value } if value.len() == 20 * 1024
    ));
    let ElementValue::Array { items } = &element(&report, "driving_privileges").value else {
        panic!("driving_privileges is an array")
    };
    let ElementValue::Map { entries } = &items[0] else {
        panic!("a driving privilege is a map")
    };
    assert!(entries.iter().any(|e| e.key
        == ElementValue::Text {
            value: "issue_date".into()
        }
        && e.value
            == ElementValue::FullDate {
                iso: "2020-04-01".into()
            }));
    for kind in [
        CheckKind::IssuerAlgorithm,
        CheckKind::DsTrusted,
        CheckKind::IacaValidity,
        CheckKind::IssuerSignature,
        CheckKind::DeviceAuthentication,
    ] {
        assert_eq!(common::checks(doc, kind).len(), 1, "{kind:?}");
    }
    // Every element is typed by the mDL definition in schemas/doctypes, and conforms to it
    // (age_over_18 through the age_over_NN family).
    for e in &doc.elements {
        let schema = e
            .schema
            .as_ref()
            .unwrap_or_else(|| panic!("{}", e.identifier));
        assert!(schema.type_matches, "{}: {schema:?}", e.identifier);
    }
    let declared = |id: &str| element(&report, id).schema.clone().unwrap().declared_type;
    assert_eq!(declared("family_name"), "tstr");
    assert_eq!(declared("birth_date"), "full-date");
    assert_eq!(declared("age_over_18"), "bool");
    assert_eq!(declared("driving_privileges"), "array");
}

#[test]
fn an_element_of_the_wrong_type_is_flagged_against_its_schema() {
    // The digest holds (it is what the issuer signed); the schema annotation says the value
    // does not conform to the doc type's definition.
    let f = Fixture::new();
    // ISO/IEC 5218 `sex` is a uint; this issuer wrote text.
    let issued = mdl::mdl_builder(&f.device.public_key().unwrap())
        .element(MDL_NAMESPACE, "sex", Value::Text("female".into()))
        .prepare(
            f.pki.ds_key.algorithm(),
            std::slice::from_ref(&f.pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&f.pki.ds_key)
        .unwrap();
    let report = f.verify(&issued);
    assert!(report.valid, "{:?}", failed(&report));
    let sex = element(&report, "sex");
    assert!(sex.verified);
    let schema = sex.schema.as_ref().unwrap();
    assert_eq!(schema.declared_type, "uint");
    assert!(!schema.type_matches);
    assert!(
        element(&report, "family_name")
            .schema
            .as_ref()
            .unwrap()
            .type_matches
    );
}

#[test]
fn a_changed_element_value_fails_its_digest_only() {
    let f = Fixture::new();
    let changed = with_item(&f.issued, "family_name", |i| {
        i.element_value = Value::Text("Tanaka".into())
    });
    let report = f.verify(&changed);
    assert!(!report.valid);
    assert_eq!(
        failed(&report),
        [(
            CheckKind::ValueDigest,
            Some(format!("{MDL_NAMESPACE}/family_name"))
        )]
    );
    // Every other element's digest check passed (items are shuffled at issuance, so no
    // position is assumed).
    let family_name = format!("{MDL_NAMESPACE}/family_name");
    let others = common::checks(&report.documents[0], CheckKind::ValueDigest)
        .into_iter()
        .filter(|c| c.subject.as_deref() != Some(family_name.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(others.len(), 11);
    assert!(others.iter().all(|c| c.passed()));
    let e = element(&report, "family_name");
    assert!(!e.verified);
    assert!(element(&report, "given_name").verified);
}

#[test]
fn a_changed_digest_id_is_not_in_the_mso() {
    let f = Fixture::new();
    let changed = with_item(&f.issued, "given_name", |i| i.digest_id = 4_000_000_000);
    let report = f.verify(&changed);
    let digest = report.documents[0]
        .checks
        .iter()
        .find(|c| c.subject.as_deref() == Some("org.iso.18013.5.1/given_name"))
        .unwrap();
    assert!(matches!(
        &digest.outcome,
        verifier_sdk::CheckOutcome::Failed {
            failure: CheckFailure::DigestNotInMso,
            ..
        }
    ));
    assert_eq!(failed(&report).len(), 1);
}

#[test]
fn a_changed_issuer_signature_fails_the_signature_check() {
    let f = Fixture::new();
    let changed = with_sign1(&f.issued, |s| s.signature[10] ^= 0x40);
    let report = f.verify(&changed);
    assert_eq!(failed(&report), [(CheckKind::IssuerSignature, None)]);
    assert_eq!(
        failure(&report.documents[0], CheckKind::IssuerSignature),
        Some(CheckFailure::Error {
            category: ErrorCategory::BadSignature
        })
    );
}

/// `issued` with its MSO changed by `change` and re-encoded as the payload, signature kept.
fn with_mso(
    issued: &IssuerSigned,
    change: impl Fn(&mut mso::model::MobileSecurityObject),
) -> IssuerSigned {
    let mut mso = issued.issuer_auth.mso().value().clone();
    change(&mut mso);
    with_sign1(issued, |s| {
        s.payload = Some(Tag24::new(mso.clone()).tagged_bytes().to_vec())
    })
}

#[test]
fn a_changed_mso_fails_the_signature_check() {
    let f = Fixture::new();
    let changed = with_mso(&f.issued, |m| m.version = "1.1".into());
    let report = f.verify(&changed);
    assert_eq!(failed(&report), [(CheckKind::IssuerSignature, None)]);
}

#[test]
fn a_changed_mso_digest_fails_the_signature_and_that_digest() {
    let f = Fixture::new();
    let id = f.issued.name_spaces.as_ref().unwrap()[MDL_NAMESPACE]
        .iter()
        .find(|i| i.value().element_identifier == "document_number")
        .unwrap()
        .value()
        .digest_id;
    let changed = with_mso(&f.issued, |m| {
        let d = m
            .value_digests
            .get_mut(MDL_NAMESPACE)
            .unwrap()
            .get_mut(&id)
            .unwrap();
        d[0] ^= 1;
    });
    let report = f.verify(&changed);
    assert_eq!(
        failed(&report),
        [
            (CheckKind::IssuerSignature, None),
            (
                CheckKind::ValueDigest,
                Some(format!("{MDL_NAMESPACE}/document_number"))
            )
        ]
    );
}

#[test]
fn a_replaced_x5chain_fails_the_signature_not_the_trust() {
    let f = Fixture::new();
    // Another DS of the same IACA: trusted, but not the key that signed.
    let other = SoftwareKey::generate(Algorithm::Es256);
    let other_ds = f
        .pki
        .issue_ds(&other, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let changed = with_sign1(&f.issued, |s| {
        for (label, value) in s.unprotected.rest.iter_mut() {
            if *label == coset::Label::Int(33) {
                *value = Value::Bytes(other_ds.clone());
            }
        }
    });
    assert_eq!(x5chain(changed.issuer_auth.sign1()).unwrap(), [other_ds]);
    let report = f.verify(&changed);
    assert_eq!(failed(&report), [(CheckKind::IssuerSignature, None)]);
}

#[test]
fn a_document_from_an_untrusted_iaca_fails_the_trust_check() {
    let f = Fixture::new();
    let stranger = pki::TestPki::new();
    let trust = TrustStore::new();
    trust.add_iaca_der(stranger.iaca_der.clone()).unwrap();
    let report = f.verify_in(&trust);
    // Revocation cannot be judged for an untrusted DS: it is reported as not checked.
    assert_eq!(
        failed(&report),
        [
            (CheckKind::DsTrusted, None),
            (CheckKind::DsRevocation, None)
        ]
    );
    // No trusted certificate carries the DS's issuer name, or one does and did not sign it.
    assert!(matches!(
        failure(&report.documents[0], CheckKind::DsTrusted),
        Some(CheckFailure::NoTrustedIssuer {
            path: PathFailure::UnknownIssuer {
                position: CertificatePosition::Leaf,
                ..
            } | PathFailure::BadSignature {
                position: CertificatePosition::Leaf,
                ..
            }
        })
    ));
}

#[test]
fn a_wrong_transcript_fails_device_authentication_only() {
    let f = Fixture::new();
    let report = verify_device_response(
        f.response(&f.issued),
        oid4vp("another-nonce"),
        f.trust(),
        default_verification_options(at()),
    )
    .unwrap();
    assert_eq!(failed(&report), [(CheckKind::DeviceAuthentication, None)]);
    assert_eq!(
        failure(&report.documents[0], CheckKind::DeviceAuthentication),
        Some(CheckFailure::Error {
            category: ErrorCategory::BadSignature
        })
    );
}

#[test]
fn an_expired_mso_fails_the_mso_validity_only() {
    let f = Fixture::with_pki(pki::TestPki::with_ds_validity(
        pki::DS_NOT_BEFORE,
        time::macros::datetime!(2028-01-01 00:00:00 UTC),
    ));
    let later = time::macros::datetime!(2027-06-01 00:00:00 UTC).unix_timestamp();
    let report = f.verify_with(&f.issued, default_verification_options(later));
    assert_eq!(failed(&report), [(CheckKind::MsoValidity, None)]);
    assert!(matches!(
        failure(&report.documents[0], CheckKind::MsoValidity),
        Some(CheckFailure::MsoExpired { at, .. }) if at == later
    ));
}

#[test]
fn a_disallowed_algorithm_is_reported_as_such() {
    let f = Fixture::new();
    let options = VerificationOptions {
        allowed_algorithms: vec![SignatureAlgorithm::Es384],
        ..default_verification_options(at())
    };
    let report = f.verify_with(&f.issued, options);
    assert_eq!(
        failure(&report.documents[0], CheckKind::IssuerAlgorithm),
        Some(CheckFailure::AlgorithmNotAllowed {
            algorithm: SignatureAlgorithm::Es256
        })
    );
    assert!(!report.valid);
}

#[test]
fn a_bare_issuer_signed_verifies_as_a_wallet_does() {
    let f = Fixture::new();
    let bytes = to_vec(&f.issued);
    let report = verify_issuer_signed(
        bytes.clone(),
        Some(MDL_DOCTYPE.into()),
        f.trust(),
        default_verification_options(at()),
    )
    .unwrap();
    assert!(report.valid, "{:?}", failed(&report));
    assert_eq!(report.documents[0].elements.len(), 12);
    assert!(common::checks(&report.documents[0], CheckKind::DeviceAuthentication).is_empty());

    let report = verify_issuer_signed(
        bytes,
        Some("org.example.other".into()),
        f.trust(),
        default_verification_options(at()),
    )
    .unwrap();
    assert_eq!(failed(&report), [(CheckKind::DocType, None)]);
}

#[test]
fn a_pinned_ds_is_used_only_for_its_own_documents() {
    let f = Fixture::new();
    let trust = TrustStore::new();
    trust
        .pin_document_signer_pem(pki::TestPki::pem(&f.pki.ds_der))
        .unwrap();
    let report = f.verify_in(&trust);
    assert!(report.valid, "{:?}", failed(&report));
    assert!(common::checks(&report.documents[0], CheckKind::IacaValidity).is_empty());

    // A document from another DS falls back to the (empty) IACA list.
    let other = Fixture::new();
    let report = other.verify_in(&trust);
    assert_eq!(
        failed(&report),
        [
            (CheckKind::DsTrusted, None),
            (CheckKind::DsRevocation, None)
        ]
    );
}

#[test]
fn a_device_request_with_reader_auth_verifies_over_the_session_transcript() {
    // A reader certificate for a fresh key (self-signed is enough to check the signature).
    let key = SoftwareKey::generate(Algorithm::Es256);
    let der = key.to_pkcs8_der().unwrap();
    let kp = rcgen::KeyPair::try_from(der.as_slice()).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["reader.example.jp".into()])
        .unwrap()
        .self_signed(&kp)
        .unwrap()
        .der()
        .to_vec();
    let session = ReaderSession::new(
        common::vector("annex_d_device_engagement.cbor"),
        ProximityHandover::Qr,
    )
    .unwrap();
    let requests = vec![DocumentRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![NamespaceRequest {
            namespace: MDL_NAMESPACE.into(),
            elements: vec![
                ElementRequest {
                    identifier: "family_name".into(),
                    intent_to_retain: false,
                },
                ElementRequest {
                    identifier: "portrait".into(),
                    intent_to_retain: true,
                },
            ],
        }],
    }];
    let bytes = session
        .device_request(
            requests.clone(),
            Some(ReaderAuthKey {
                private_key: SigningPrivateKey::Pkcs8Der { der: der.to_vec() },
                certificate_chain: vec![cert.clone()],
            }),
        )
        .unwrap();
    let request: DeviceRequest = mso::cbor::from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let doc = &request.doc_requests[0];
    let items = doc.items_request.value();
    assert_eq!(items.doc_type, MDL_DOCTYPE);
    assert!(items.name_spaces[MDL_NAMESPACE]["portrait"]);
    assert!(!items.name_spaces[MDL_NAMESPACE]["family_name"]);
    let transcript = SessionTranscript::from_bytes(
        &session.session_transcript_bytes().unwrap(),
        &Limits::DEFAULT,
    )
    .unwrap();
    let payload = reader_authentication_bytes(&transcript, doc.items_request.tagged_bytes());
    let reader_auth = doc.reader_auth.as_ref().unwrap();
    assert_eq!(x5chain(reader_auth).unwrap(), std::slice::from_ref(&cert));
    let public = Certificate::from_der(&cert).unwrap().public_key().unwrap();
    sign1_verify_detached(reader_auth, &payload, &public, &SoftwareVerifier).unwrap();

    // Unsigned, the same request has no readerAuth.
    let plain: DeviceRequest = mso::cbor::from_slice(
        &encode_device_request(requests.clone()).unwrap(),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert!(plain.doc_requests[0].reader_auth.is_none());

    // A key that is not the certificate's is refused.
    let wrong = SoftwareKey::generate(Algorithm::Es256)
        .to_pkcs8_der()
        .unwrap();
    assert!(matches!(
        session.device_request(
            requests,
            Some(ReaderAuthKey {
                private_key: SigningPrivateKey::Pkcs8Der {
                    der: wrong.to_vec()
                },
                certificate_chain: vec![cert],
            }),
        ),
        Err(VerifierError::InvalidKey { .. })
    ));
}

#[test]
fn invalid_device_requests_are_refused() {
    let bad = |requests: Vec<DocumentRequest>| {
        assert!(matches!(
            encode_device_request(requests),
            Err(VerifierError::InvalidArgument { .. })
        ))
    };
    bad(vec![]);
    bad(vec![DocumentRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![],
    }]);
    let e = ElementRequest {
        identifier: "family_name".into(),
        intent_to_retain: false,
    };
    bad(vec![DocumentRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![NamespaceRequest {
            namespace: MDL_NAMESPACE.into(),
            elements: vec![e.clone(), e],
        }],
    }]);
}

#[test]
fn the_online_transcripts_match_mso_by_name() {
    use mso::model::Handover;
    let cases = [
        (
            oid4vp(NONCE),
            Handover::OpenId4Vp {
                client_id: "x509_san_dns:verifier.example.jp".into(),
                nonce: NONCE.into(),
                jwk_thumbprint: None,
                response_uri: "https://verifier.example.jp/response".into(),
            },
        ),
        (
            SessionTranscriptInput::OpenId4VpDcApi {
                origin: "https://verifier.example.jp".into(),
                nonce: NONCE.into(),
                jwk_thumbprint: Some(vec![7; 32]),
            },
            Handover::OpenId4VpDcApi {
                origin: "https://verifier.example.jp".into(),
                nonce: NONCE.into(),
                jwk_thumbprint: Some(vec![7; 32]),
            },
        ),
        (
            SessionTranscriptInput::Iso18013Part7AnnexC {
                encryption_info_base64url: "gmVkY2FwaQ".into(),
                origin: "https://verifier.example.jp".into(),
            },
            Handover::Iso18013_7AnnexC {
                encryption_info_b64: "gmVkY2FwaQ".into(),
                origin: "https://verifier.example.jp".into(),
            },
        ),
        (
            SessionTranscriptInput::Iso18013Part7AnnexB {
                client_id: "verifier".into(),
                response_uri: "https://verifier.example.jp/r".into(),
                nonce: NONCE.into(),
                mdoc_generated_nonce: "mdoc-nonce".into(),
            },
            Handover::Iso18013_7AnnexB {
                client_id: "verifier".into(),
                response_uri: "https://verifier.example.jp/r".into(),
                nonce: NONCE.into(),
                mdoc_generated_nonce: "mdoc-nonce".into(),
            },
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (input, handover) in cases {
        let bytes = session_transcript_bytes(input).unwrap();
        assert_eq!(bytes, SessionTranscript::online(&handover).tagged_bytes());
        assert!(seen.insert(bytes), "each protocol gives its own transcript");
        let parts = verifier_sdk::decode_session_transcript(
            SessionTranscript::online(&handover).tagged_bytes(),
        )
        .unwrap();
        assert_eq!(parts.device_engagement, None);
        assert_eq!(parts.proximity_handover, None);
    }
}

#[test]
fn a_ds_on_its_iacas_crl_is_reported_revoked_and_the_newest_crl_wins() {
    let f = Fixture::new();
    let trust = f.trust();
    let (before, after) = (
        pki::AT - time::Duration::days(1),
        pki::AT + time::Duration::days(7),
    );
    let serial = f.pki.ds().serial_number().to_vec();
    let revoking = f.pki.crl(&[&serial], 2, before, after);
    let clean = f.pki.crl(&[], 1, before, after);
    assert_eq!(trust.add_crl(revoking, at()).unwrap(), AddOutcome::Added);
    // An older CRL (lower cRLNumber) cannot un-revoke the DS.
    assert_eq!(trust.add_crl(clean, at()).unwrap(), AddOutcome::NotNewer);
    assert_eq!(trust.crls().unwrap().len(), 1);
    let report = f.verify_in(&trust);
    assert!(!report.valid);
    assert_eq!(failed(&report), [(CheckKind::DsRevocation, None)]);
    assert!(matches!(
        failure(&report.documents[0], CheckKind::DsRevocation),
        Some(CheckFailure::DsRevoked { .. })
    ));
    // A CRL from an IACA the store does not trust is refused, and changes nothing.
    let stranger = pki::TestPki::new();
    assert!(matches!(
        trust.add_crl(stranger.crl(&[], 9, before, after), at()),
        Err(VerifierError::Untrusted { .. })
    ));
    assert_eq!(trust.crls().unwrap().len(), 1);
}

#[test]
fn an_expired_crl_is_a_hard_or_a_soft_failure_by_policy() {
    let f = Fixture::new();
    let trust = f.trust();
    let (before, soon) = (
        pki::AT - time::Duration::days(2),
        pki::AT - time::Duration::days(1),
    );
    trust
        .add_crl(f.pki.crl(&[], 1, before, soon), at())
        .unwrap();
    let hard = f.verify_in(&trust);
    assert!(matches!(
        failure(&hard.documents[0], CheckKind::DsRevocation),
        Some(CheckFailure::CrlExpired { .. })
    ));
    assert!(!hard.valid);
    trust
        .set_revocation_policy(RevocationPolicy {
            expired_crl_fails: false,
            missing_crl_fails: false,
        })
        .unwrap();
    let soft = f.verify_in(&trust);
    assert!(soft.valid, "{:?}", failed(&soft));
    assert!(soft.documents[0].warnings.iter().any(|w| {
        w.kind == CheckKind::DsRevocation && matches!(w.failure, CheckFailure::CrlExpired { .. })
    }));
}

#[test]
fn the_serialised_store_reloads_equivalent_and_refuses_damage() {
    let f = Fixture::new();
    let trust = f.trust();
    let (before, after) = (
        pki::AT - time::Duration::days(1),
        pki::AT + time::Duration::days(7),
    );
    let serial = f.pki.ds().serial_number().to_vec();
    trust
        .add_crl(f.pki.crl(&[&serial], 1, before, after), at())
        .unwrap();
    let saved = trust.to_bytes().unwrap();
    let reloaded = TrustStore::from_bytes(saved.clone(), at()).unwrap();
    assert_eq!(reloaded.to_bytes().unwrap(), saved);
    assert_eq!(reloaded.iacas().unwrap(), trust.iacas().unwrap());
    let report = f.verify_in(&reloaded);
    assert_eq!(failed(&report), [(CheckKind::DsRevocation, None)]);
    for i in 0..saved.len() {
        let mut damaged = saved.clone();
        damaged[i] ^= 0x01;
        // Never a panic; a store that reloads must not have silently lost the revocation.
        if let Ok(store) = TrustStore::from_bytes(damaged, at()) {
            let report = f.verify_in(&store);
            assert!(!report.valid, "byte {i}");
        }
    }
    assert!(TrustStore::from_bytes(saved[..saved.len() - 1].to_vec(), at()).is_err());
}
