//! ISO 18013-7 Annex C between the two SDKs: the verifier SDK's request, the wallet SDK's
//! answer sealed to the request's HPKE key, and the verifier's refusals, each by name.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::cbor::{to_vec, Limits};
use mso::crypto::{Signer as _, SoftwareKey};
use mso::model::{seal_response, DeviceResponse, EncryptionInfo, MDL_DOCTYPE, MDL_NAMESPACE};
use mso::present::present_with_signature;
use test_kit::mdl;
use test_kit::reader::ReaderPki;
use verifier_sdk::{
    default_verification_options, AnnexCRequestConfig, OnlineVerifier, ResponseFinding,
    ResponseRefusal, VerifierError,
};
use wallet_sdk::{
    ApprovedElement, OnlineAnswer, OnlineApproval, OnlineRequest, ReaderAuthStatus, WalletError,
};

use crate::common::{at, Fixture};
use crate::present::{mdl_request, reader_auth};

const ORIGIN: &str = "https://verifier.example";

fn verifier(auth: Option<&ReaderPki>) -> std::sync::Arc<OnlineVerifier> {
    OnlineVerifier::annex_c(AnnexCRequestConfig {
        origin: ORIGIN.into(),
        documents: mdl_request(&[
            ("family_name", false),
            ("age_over_18", true),
            ("portrait", false),
        ]),
        reader_auth: auth.map(reader_auth),
    })
    .unwrap()
}

fn dc_request(v: &OnlineVerifier, origin: &str) -> OnlineRequest {
    let r = v.request();
    assert_eq!(r.protocol, "org-iso-mdoc");
    OnlineRequest::DigitalCredentials {
        protocol: r.protocol,
        data_json: r.data_json,
        origin: origin.into(),
    }
}

fn approve(ids: &[&str]) -> Vec<OnlineApproval> {
    vec![OnlineApproval {
        query_id: MDL_DOCTYPE.into(),
        elements: ids
            .iter()
            .map(|id| ApprovedElement {
                namespace: MDL_NAMESPACE.into(),
                identifier: (*id).into(),
            })
            .collect(),
    }]
}

fn data(answer: OnlineAnswer) -> String {
    match answer {
        OnlineAnswer::DigitalCredentials {
            protocol,
            data_json,
        } => {
            assert_eq!(protocol, "org-iso-mdoc");
            data_json
        }
        other => panic!("not a DC API answer: {other:?}"),
    }
}

/// The wallet's answer to `v`'s request made from `origin`, approving `ids`.
fn answer(f: &Fixture, v: &OnlineVerifier, origin: &str, ids: &[&str]) -> String {
    let session = f
        .wallet
        .clone()
        .start_online_presentation(dc_request(v, origin), at())
        .unwrap();
    data(session.respond(approve(ids), at()).unwrap())
}

fn refusal(e: VerifierError) -> ResponseRefusal {
    match e {
        VerifierError::ResponseRefused { refusal, .. } => refusal,
        other => panic!("not a refusal: {other:?}"),
    }
}

#[test]
fn annex_c_round_trip_discloses_only_the_approved_subset() {
    let f = Fixture::new();
    let id = f.holding(2);
    let readers = ReaderPki::new("Osaka Bank Web");
    f.wallet
        .set_reader_trust_anchors(vec![readers.root_der.clone()])
        .unwrap();
    let v = verifier(Some(&readers));
    let session = f
        .wallet
        .clone()
        .start_online_presentation(dc_request(&v, ORIGIN), at())
        .unwrap();
    let consent = session.consent_request();
    assert!(consent.satisfiable);
    assert_eq!(consent.verifier.origin.as_deref(), Some(ORIGIN));
    assert_eq!(consent.verifier.auth, ReaderAuthStatus::Verified);
    let asked = &consent.credentials[0];
    assert_eq!(asked.credential_id.as_deref(), Some(id.as_str()));
    assert_eq!(asked.elements.len(), 3);
    assert_eq!(f.signs(), 0, "no device key is used before consent");

    let response = data(
        session
            .respond(approve(&["age_over_18", "family_name", "portrait"]), at())
            .unwrap(),
    );
    assert_eq!(f.signs(), 1);
    let report = v
        .verify_response(
            response,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(report.valid, "{report:?}");
    let mut disclosed: Vec<_> = report.presentations[0].report.documents[0]
        .elements
        .iter()
        .map(|e| e.identifier.clone())
        .collect();
    disclosed.sort();
    // The mDL holds twelve elements; exactly the three asked for are disclosed.
    assert_eq!(disclosed, ["age_over_18", "family_name", "portrait"]);
    assert!(report.queries[0].satisfied);
    assert_eq!(report.queries[0].query_id, MDL_DOCTYPE);
    // One answer per request.
    assert!(matches!(
        session.respond(approve(&["age_over_18"]), at()),
        Err(WalletError::FlowState { .. })
    ));
}

#[test]
fn a_replayed_response_is_refused() {
    let f = Fixture::new();
    f.holding(2);
    let v = verifier(None);
    let response = answer(&f, &v, ORIGIN, &["age_over_18", "family_name", "portrait"]);
    let report = v
        .verify_response(
            response.clone(),
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(report.valid, "{report:?}");
    let e = v
        .verify_response(
            response,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap_err();
    assert_eq!(refusal(e), ResponseRefusal::Replayed);
}

#[test]
fn a_response_for_another_origin_or_request_does_not_open() {
    let f = Fixture::new();
    f.holding(3);
    let v = verifier(None);
    // A page at another origin relayed the request: the wallet bound its answer to that
    // origin, so it does not open for this verifier.
    let phished = answer(&f, &v, "https://verifier.example.evil", &["age_over_18"]);
    let e = v
        .verify_response(phished, f.trust.clone(), default_verification_options(at()))
        .unwrap_err();
    assert_eq!(refusal(e), ResponseRefusal::NotForThisKey);
    // An answer to another request (another key and nonce).
    let other = verifier(None);
    let elsewhere = answer(&f, &other, ORIGIN, &["age_over_18"]);
    let e = v
        .verify_response(
            elsewhere,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap_err();
    assert_eq!(refusal(e), ResponseRefusal::NotForThisKey);
    // Refusals do not answer the request: the genuine response is still accepted.
    let genuine = answer(&f, &v, ORIGIN, &["age_over_18", "family_name", "portrait"]);
    let report = v
        .verify_response(genuine, f.trust.clone(), default_verification_options(at()))
        .unwrap();
    assert!(report.valid, "{report:?}");
}

#[test]
fn a_holder_who_declines_an_element_leaves_the_request_unsatisfied() {
    let f = Fixture::new();
    f.holding(1);
    let v = verifier(None);
    let response = answer(&f, &v, ORIGIN, &["age_over_18", "family_name"]);
    let report = v
        .verify_response(
            response,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(
        report.presentations[0].report.valid,
        "what was presented verifies"
    );
    assert!(!report.valid);
    let portrait = verifier_sdk::ClaimRef {
        namespace: MDL_NAMESPACE.into(),
        element: "portrait".into(),
    };
    assert_eq!(
        report.findings,
        [
            ResponseFinding::MissingClaims {
                query_id: MDL_DOCTYPE.into(),
                claims: vec![portrait.clone()],
            },
            ResponseFinding::RequiredQueryUnsatisfied {
                query_id: MDL_DOCTYPE.into()
            },
        ]
    );
    assert_eq!(report.queries[0].missing, [portrait]);
}

/// A response sealed to `v`'s request by hand: `disclose` from an mDL bound to a key we hold,
/// signed over `transcript_origin`'s transcript, sealed for `ORIGIN`.
fn forged(f: &Fixture, v: &OnlineVerifier, disclose: &[&str], transcript_origin: &str) -> String {
    let device = SoftwareKey::generate(mso::crypto::Algorithm::Es256);
    let issued = mdl::issue_mdl(&f.pki.ds_key, &f.pki.ds_der, &device.public_key().unwrap());
    let request: serde_json::Value = serde_json::from_str(&v.request().data_json).unwrap();
    let info_b64 = request["encryptionInfo"].as_str().unwrap();
    let info = EncryptionInfo::from_base64url(info_b64, &Limits::DEFAULT).unwrap();
    let transcript = info.session_transcript(transcript_origin);
    let selection = BTreeMap::from([(
        MDL_NAMESPACE.to_owned(),
        disclose.iter().map(|s| (*s).to_owned()).collect(),
    )]);
    let doc = present_with_signature(&issued, Some(&selection), &transcript, &device).unwrap();
    let response = to_vec(&DeviceResponse {
        version: "1.0".into(),
        documents: Some(vec![doc]),
        document_errors: None,
        status: 0,
    });
    let (sealed, _) = seal_response(info.as_bytes(), ORIGIN, &response, &Limits::DEFAULT).unwrap();
    serde_json::json!({ "response": URL_SAFE_NO_PAD.encode(sealed) }).to_string()
}

#[test]
fn claims_the_request_did_not_ask_for_are_named() {
    let f = Fixture::new();
    let v = verifier(None);
    let response = forged(&f, &v, &["age_over_18", "birth_date"], ORIGIN);
    let report = v
        .verify_response(
            response,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(!report.valid);
    assert!(
        report.presentations[0].report.valid,
        "the document itself verifies"
    );
    assert!(
        report.findings.iter().any(|x| matches!(
            x,
            ResponseFinding::UnrequestedClaims { claims, .. }
                if claims.len() == 1 && claims[0].element == "birth_date"
        )),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_device_response_over_another_transcript_is_named() {
    let f = Fixture::new();
    let v = verifier(None);
    // Sealed correctly, but device-signed over the transcript of another origin.
    let response = forged(&f, &v, &["age_over_18"], "https://elsewhere.example");
    let report = v
        .verify_response(
            response,
            f.trust.clone(),
            default_verification_options(at()),
        )
        .unwrap();
    assert!(!report.valid);
    assert!(
        report
            .findings
            .contains(&ResponseFinding::TranscriptMismatch {
                query_id: MDL_DOCTYPE.into()
            }),
        "{:?}",
        report.findings
    );
}

#[test]
fn malformed_annex_c_requests_are_typed_errors() {
    let f = Fixture::new();
    f.holding(1);
    let v = verifier(None);
    let good: serde_json::Value = serde_json::from_str(&v.request().data_json).unwrap();
    let cases = [
        "not json".to_owned(),
        "{}".to_owned(),
        serde_json::json!({"deviceRequest": good["deviceRequest"], "encryptionInfo": "AAAA"})
            .to_string(),
        serde_json::json!({"deviceRequest": "!!", "encryptionInfo": good["encryptionInfo"]})
            .to_string(),
        serde_json::json!({"deviceRequest": good["deviceRequest"], "encryptionInfo": good["encryptionInfo"], "extra": 1})
            .to_string(),
        "x".repeat(70_000),
    ];
    for data_json in cases {
        let e = f
            .wallet
            .clone()
            .start_online_presentation(
                OnlineRequest::DigitalCredentials {
                    protocol: "org-iso-mdoc".into(),
                    data_json: data_json.clone(),
                    origin: ORIGIN.into(),
                },
                at(),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                WalletError::Malformed { .. }
                    | WalletError::SizeLimit { .. }
                    | WalletError::Protocol { .. }
            ),
            "{data_json:.60}: {e:?}"
        );
    }
    assert_eq!(f.signs(), 0);
}
