//! OpenID4VP 1.0 between the two SDKs, in each response mode (`direct_post`,
//! `direct_post.jwt`, `dc_api`, `dc_api.jwt`), unsigned and with signed request objects, and
//! the verifier's refusals, each by name.

use std::sync::Arc;

use mso::model::{MDL_DOCTYPE, MDL_NAMESPACE};
use test_kit::reader::ReaderPki;
use verifier_sdk::{
    default_verification_options, ClaimQuery, CredentialQuery, OnlineVerifier,
    OpenId4VpRequestConfig, RequestSigner, ResponseEncryption, ResponseFinding, ResponseMode,
    ResponseRefusal, SigningPrivateKey, VerifierError,
};
use wallet_sdk::{
    ApprovedElement, OnlineAnswer, OnlineApproval, OnlineRequest, ReaderAuthStatus, WalletError,
};

use crate::common::{at, Fixture};

const ORIGIN: &str = "https://verifier.example";
const RESPONSE_URI: &str = "https://verifier.example/response";
const MODES: [ResponseMode; 4] = [
    ResponseMode::DirectPost,
    ResponseMode::DirectPostJwt,
    ResponseMode::DcApi,
    ResponseMode::DcApiJwt,
];

fn claim(element: &str, retain: bool) -> ClaimQuery {
    ClaimQuery {
        id: None,
        namespace: MDL_NAMESPACE.into(),
        element: element.into(),
        intent_to_retain: retain,
        values: Vec::new(),
    }
}

fn config(mode: ResponseMode) -> OpenId4VpRequestConfig {
    OpenId4VpRequestConfig {
        response_mode: mode,
        client_id: None,
        response_uri: Some(RESPONSE_URI.into()),
        origin: Some(ORIGIN.into()),
        credentials: vec![CredentialQuery {
            id: "mdl".into(),
            doc_type: MDL_DOCTYPE.into(),
            claims: vec![
                claim("family_name", false),
                claim("age_over_18", true),
                claim("portrait", false),
            ],
            claim_sets: Vec::new(),
            multiple: false,
        }],
        credential_sets: Vec::new(),
        encryption: ResponseEncryption::A128Gcm,
        signer: None,
    }
}

fn signer(pki: &ReaderPki) -> RequestSigner {
    RequestSigner {
        private_key: SigningPrivateKey::Pkcs8Der {
            der: pki.reader_key.to_pkcs8_der().unwrap().to_vec(),
        },
        certificate_chain: vec![pki.reader_der.clone()],
    }
}

fn verifier(mode: ResponseMode) -> Arc<OnlineVerifier> {
    OnlineVerifier::openid4vp(config(mode)).unwrap()
}

/// What the wallet app receives for `v`'s request: over the DC API from `origin`, or by URL.
fn delivered(v: &OnlineVerifier, origin: &str) -> OnlineRequest {
    let r = v.request();
    if r.protocol.starts_with("openid4vp-v1") {
        OnlineRequest::DigitalCredentials {
            protocol: r.protocol,
            data_json: r.data_json,
            origin: origin.into(),
        }
    } else {
        OnlineRequest::Url {
            url: r.authorization_url.unwrap(),
        }
    }
}

fn approve(ids: &[&str]) -> Vec<OnlineApproval> {
    vec![OnlineApproval {
        query_id: "mdl".into(),
        elements: ids
            .iter()
            .map(|id| ApprovedElement {
                namespace: MDL_NAMESPACE.into(),
                identifier: (*id).into(),
            })
            .collect(),
    }]
}

/// What the verifier receives: the posted form body or the DC API response data.
fn received(answer: OnlineAnswer) -> String {
    match answer {
        OnlineAnswer::Post {
            url,
            content_type,
            body,
        } => {
            assert_eq!(url, RESPONSE_URI);
            assert_eq!(content_type, "application/x-www-form-urlencoded");
            body
        }
        OnlineAnswer::DigitalCredentials { data_json, .. } => data_json,
    }
}

const ALL: [&str; 3] = ["age_over_18", "family_name", "portrait"];

fn answer(f: &Fixture, v: &OnlineVerifier, origin: &str, ids: &[&str]) -> String {
    let session = f
        .wallet
        .clone()
        .start_online_presentation(delivered(v, origin), at())
        .unwrap();
    received(session.respond(approve(ids), at()).unwrap())
}

fn refusal(e: VerifierError) -> ResponseRefusal {
    match e {
        VerifierError::ResponseRefused { refusal, .. } => refusal,
        other => panic!("not a refusal: {other:?}"),
    }
}

fn verify(
    f: &Fixture,
    v: &OnlineVerifier,
    response: String,
) -> Result<verifier_sdk::OnlineVerificationReport, VerifierError> {
    v.verify_response(
        response,
        f.trust.clone(),
        default_verification_options(at()),
    )
}

#[test]
fn every_mode_round_trips_and_discloses_exactly_the_query() {
    let f = Fixture::new();
    f.holding(MODES.len() as u32);
    for mode in MODES {
        let v = verifier(mode);
        let session = f
            .wallet
            .clone()
            .start_online_presentation(delivered(&v, ORIGIN), at())
            .unwrap();
        let consent = session.consent_request();
        assert!(consent.satisfiable, "{mode:?}");
        assert_eq!(consent.verifier.auth, ReaderAuthStatus::Absent);
        let asked: Vec<_> = consent.credentials[0]
            .elements
            .iter()
            .map(|e| (e.identifier.as_str(), e.intent_to_retain, e.available))
            .collect();
        assert_eq!(
            asked,
            [
                ("family_name", false, true),
                ("age_over_18", true, true),
                ("portrait", false, true)
            ],
            "{mode:?}"
        );
        let response = received(session.respond(approve(&ALL), at()).unwrap());
        let report = verify(&f, &v, response).unwrap();
        assert!(report.valid, "{mode:?}: {report:?}");
        let mut disclosed: Vec<_> = report.presentations[0].report.documents[0]
            .elements
            .iter()
            .map(|e| e.identifier.clone())
            .collect();
        disclosed.sort();
        assert_eq!(disclosed, ALL, "{mode:?}");
        assert_eq!(report.presentations[0].query_id, "mdl");
        assert!(report.queries[0].satisfied);
    }
}

#[test]
fn encrypted_modes_do_not_carry_the_response_in_the_clear() {
    let f = Fixture::new();
    f.holding(2);
    for mode in [ResponseMode::DirectPostJwt, ResponseMode::DcApiJwt] {
        let v = verifier(mode);
        let response = answer(&f, &v, ORIGIN, &ALL);
        assert!(!response.contains("vp_token"), "{mode:?}: {response:.80}");
        assert!(response.contains("response"), "{mode:?}");
    }
}

#[test]
fn signed_request_objects_name_a_verified_verifier() {
    let f = Fixture::new();
    f.holding(2);
    let readers = ReaderPki::new("Kyoto Rental Cars");
    f.wallet
        .set_reader_trust_anchors(vec![readers.root_der.clone()])
        .unwrap();
    for mode in [ResponseMode::DirectPostJwt, ResponseMode::DcApiJwt] {
        let mut c = config(mode);
        c.signer = Some(signer(&readers));
        let v = OnlineVerifier::openid4vp(c).unwrap();
        let r = v.request();
        assert!(r.request_object.is_some());
        let session = f
            .wallet
            .clone()
            .start_online_presentation(delivered(&v, ORIGIN), at())
            .unwrap();
        let consent = session.consent_request();
        assert_eq!(
            consent.verifier.auth,
            ReaderAuthStatus::Verified,
            "{mode:?}"
        );
        assert!(consent
            .verifier
            .client_id
            .as_deref()
            .unwrap()
            .starts_with("x509_hash:"));
        assert!(consent
            .verifier
            .subject
            .as_deref()
            .unwrap()
            .contains("Kyoto Rental Cars"));
        let report = verify(
            &f,
            &v,
            received(session.respond(approve(&ALL), at()).unwrap()),
        )
        .unwrap();
        assert!(report.valid, "{mode:?}: {report:?}");
    }
}

#[test]
fn a_request_signed_by_an_untrusted_key_is_refused_before_consent() {
    let f = Fixture::new();
    f.holding(1);
    let trusted = ReaderPki::new("Trusted Verifier CA");
    let stranger = ReaderPki::new("Someone Else");
    f.wallet
        .set_reader_trust_anchors(vec![trusted.root_der.clone()])
        .unwrap();
    let mut c = config(ResponseMode::DcApiJwt);
    c.signer = Some(signer(&stranger));
    let v = OnlineVerifier::openid4vp(c).unwrap();
    let e = f
        .wallet
        .clone()
        .start_online_presentation(delivered(&v, ORIGIN), at())
        .unwrap_err();
    assert!(matches!(e, WalletError::Protocol { .. }), "{e:?}");
    assert_eq!(f.signs(), 0);
}

#[test]
fn a_replayed_response_is_refused() {
    let f = Fixture::new();
    f.holding(2);
    for mode in [ResponseMode::DirectPost, ResponseMode::DcApiJwt] {
        let v = verifier(mode);
        let response = answer(&f, &v, ORIGIN, &ALL);
        assert!(verify(&f, &v, response.clone()).unwrap().valid);
        assert_eq!(
            refusal(verify(&f, &v, response).unwrap_err()),
            ResponseRefusal::Replayed,
            "{mode:?}"
        );
    }
}

#[test]
fn a_response_for_another_request_is_refused_by_name() {
    let f = Fixture::new();
    f.holding(8);
    // direct_post: another request's state.
    let (a, b) = (
        verifier(ResponseMode::DirectPost),
        verifier(ResponseMode::DirectPost),
    );
    let e = verify(&f, &b, answer(&f, &a, ORIGIN, &ALL)).unwrap_err();
    assert_eq!(refusal(e), ResponseRefusal::StateMismatch);
    // The encrypted modes: encrypted to another request's key.
    for mode in [ResponseMode::DirectPostJwt, ResponseMode::DcApiJwt] {
        let (a, b) = (verifier(mode), verifier(mode));
        let e = verify(&f, &b, answer(&f, &a, ORIGIN, &ALL)).unwrap_err();
        assert_eq!(refusal(e), ResponseRefusal::NotForThisKey, "{mode:?}");
    }
    // dc_api in the clear: another request's nonce, so device authentication fails over
    // this request's transcript.
    let (a, b) = (verifier(ResponseMode::DcApi), verifier(ResponseMode::DcApi));
    let report = verify(&f, &b, answer(&f, &a, ORIGIN, &ALL)).unwrap();
    assert!(!report.valid);
    assert_eq!(
        report.findings,
        [ResponseFinding::TranscriptMismatch {
            query_id: "mdl".into()
        }]
    );
    // A plain response where the request asked for encryption.
    let (plain, jwt) = (
        verifier(ResponseMode::DcApi),
        verifier(ResponseMode::DcApiJwt),
    );
    let e = verify(&f, &jwt, answer(&f, &plain, ORIGIN, &ALL)).unwrap_err();
    assert_eq!(refusal(e), ResponseRefusal::WrongEncryption);
}

#[test]
fn a_response_bound_to_another_origin_is_named() {
    let f = Fixture::new();
    f.holding(2);
    for mode in [ResponseMode::DcApi, ResponseMode::DcApiJwt] {
        let v = verifier(mode);
        // The browser told the wallet the request came from another origin (a relaying page).
        let response = answer(&f, &v, "https://verifier.example.evil", &ALL);
        let report = verify(&f, &v, response).unwrap();
        assert!(!report.valid, "{mode:?}");
        assert_eq!(
            report.findings,
            [ResponseFinding::TranscriptMismatch {
                query_id: "mdl".into()
            }],
            "{mode:?}"
        );
    }
}

#[test]
fn nothing_beyond_the_query_can_be_disclosed() {
    let f = Fixture::new();
    f.holding(1);
    let v = verifier(ResponseMode::DcApi);
    let session = f
        .wallet
        .clone()
        .start_online_presentation(delivered(&v, ORIGIN), at())
        .unwrap();
    // birth_date is held but not asked for.
    let e = session
        .respond(approve(&["age_over_18", "birth_date"]), at())
        .unwrap_err();
    assert!(matches!(e, WalletError::InvalidArgument { .. }), "{e:?}");
    let e = session
        .respond(
            vec![OnlineApproval {
                query_id: "pid".into(),
                elements: Vec::new(),
            }],
            at(),
        )
        .unwrap_err();
    assert!(matches!(e, WalletError::InvalidArgument { .. }), "{e:?}");
    assert_eq!(f.signs(), 0);
}

#[test]
fn a_declined_request_posts_access_denied() {
    let f = Fixture::new();
    f.holding(1);
    let v = verifier(ResponseMode::DirectPost);
    let session = f
        .wallet
        .clone()
        .start_online_presentation(delivered(&v, ORIGIN), at())
        .unwrap();
    // Approving nothing is not an answer: the holder declines instead.
    assert!(matches!(
        session.respond(Vec::new(), at()),
        Err(WalletError::InvalidArgument { .. })
    ));
    let body = received(session.decline().unwrap().unwrap());
    assert!(body.starts_with("error=access_denied"), "{body}");
    assert!(matches!(
        session.decline(),
        Err(WalletError::FlowState { .. })
    ));
    assert_eq!(
        refusal(verify(&f, &v, body).unwrap_err()),
        ResponseRefusal::WalletError
    );
    assert_eq!(f.signs(), 0);
}

/// A dc_api response built by hand over `v`'s transcript from an mDL bound to a key we hold,
/// disclosing `disclose`.
fn forged_dc_api(f: &Fixture, v: &OnlineVerifier, disclose: &[&str]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use mso::crypto::Signer as _;

    let device = mso::crypto::SoftwareKey::generate(mso::crypto::Algorithm::Es256);
    let issued =
        test_kit::mdl::issue_mdl(&f.pki.ds_key, &f.pki.ds_der, &device.public_key().unwrap());
    let transcript = mso::model::SessionTranscript::online(&mso::model::Handover::OpenId4VpDcApi {
        origin: ORIGIN.into(),
        nonce: v.nonce(),
        jwk_thumbprint: None,
    });
    let selection = std::collections::BTreeMap::from([(
        MDL_NAMESPACE.to_owned(),
        disclose.iter().map(|s| (*s).to_owned()).collect(),
    )]);
    let doc = mso::present::present_with_signature(&issued, Some(&selection), &transcript, &device)
        .unwrap();
    let response = mso::cbor::to_vec(&mso::model::DeviceResponse {
        version: "1.0".into(),
        documents: Some(vec![doc]),
        document_errors: None,
        status: 0,
    });
    serde_json::json!({ "vp_token": { "mdl": [URL_SAFE_NO_PAD.encode(response)] } }).to_string()
}

#[test]
fn claims_the_query_did_not_ask_for_are_named() {
    let f = Fixture::new();
    let v = verifier(ResponseMode::DcApi);
    let report = verify(
        &f,
        &v,
        forged_dc_api(
            &f,
            &v,
            &["age_over_18", "family_name", "portrait", "birth_date"],
        ),
    )
    .unwrap();
    assert!(
        report.presentations[0].report.valid,
        "the document itself verifies"
    );
    assert!(!report.valid);
    assert_eq!(
        report.findings,
        [
            ResponseFinding::UnrequestedClaims {
                query_id: "mdl".into(),
                claims: vec![verifier_sdk::ClaimRef {
                    namespace: MDL_NAMESPACE.into(),
                    element: "birth_date".into()
                }],
            },
            // A presentation with a finding does not satisfy its query.
            ResponseFinding::RequiredQueryUnsatisfied {
                query_id: "mdl".into()
            }
        ]
    );
    // The control: exactly what was asked for is accepted from the same forger's key.
    let v = verifier(ResponseMode::DcApi);
    assert!(verify(&f, &v, forged_dc_api(&f, &v, &ALL)).unwrap().valid);
}

/// The verifier's web server as the wallet's HTTP client sees it: serves one request object.
struct RequestObjectServer {
    uri: String,
    jwt: String,
    asked: std::sync::Mutex<Vec<wallet_sdk::HttpRequest>>,
}

impl wallet_sdk::HttpClient for RequestObjectServer {
    fn send(
        &self,
        request: wallet_sdk::HttpRequest,
    ) -> Result<wallet_sdk::WalletHttpResponse, WalletError> {
        self.asked.lock().unwrap().push(request.clone());
        let found = request.url == self.uri;
        Ok(wallet_sdk::WalletHttpResponse {
            status: if found { 200 } else { 404 },
            headers: vec![wallet_sdk::HttpHeader {
                name: "content-type".into(),
                value: "application/oauth-authz-req+jwt".into(),
            }],
            body: if found {
                self.jwt.clone().into_bytes()
            } else {
                Vec::new()
            },
        })
    }
}

#[test]
fn a_signed_request_by_reference_is_fetched_then_verified() {
    let f = Fixture::new();
    f.holding(1);
    let readers = ReaderPki::new("Nagoya Hotel Check-in");
    f.wallet
        .set_reader_trust_anchors(vec![readers.root_der.clone()])
        .unwrap();
    let mut c = config(ResponseMode::DirectPostJwt);
    c.signer = Some(signer(&readers));
    let v = OnlineVerifier::openid4vp(c).unwrap();
    let uri = "https://verifier.example/request/abc";
    let url = v.authorization_url_by_reference(uri.into()).unwrap();
    assert!(url.starts_with("openid4vp://?client_id=x509_hash"), "{url}");
    assert!(!url.contains("request="), "by reference only: {url}");
    let server = Arc::new(RequestObjectServer {
        uri: uri.into(),
        jwt: v.request().request_object.unwrap(),
        asked: Default::default(),
    });
    let resolved = f
        .wallet
        .resolve_online_request(url, server.clone())
        .unwrap();
    assert_eq!(server.asked.lock().unwrap().len(), 1);
    let session = f
        .wallet
        .clone()
        .start_online_presentation(resolved, at())
        .unwrap();
    assert_eq!(
        session.consent_request().verifier.auth,
        ReaderAuthStatus::Verified
    );
    let report = verify(
        &f,
        &v,
        received(session.respond(approve(&ALL), at()).unwrap()),
    )
    .unwrap();
    assert!(report.valid, "{report:?}");
    // A request URL by value is handed back unchanged, with no request made.
    let by_value = v.request().authorization_url.unwrap();
    assert_eq!(
        f.wallet
            .resolve_online_request(by_value.clone(), server.clone())
            .unwrap(),
        OnlineRequest::Url { url: by_value }
    );
    assert_eq!(server.asked.lock().unwrap().len(), 1);
    // A request_uri that is not https is refused before any request.
    let e = f
        .wallet
        .resolve_online_request(
            "openid4vp://?client_id=x509_hash%3Aabc&request_uri=http%3A%2F%2Fverifier.example%2Fr"
                .into(),
            server.clone(),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            WalletError::Protocol { .. } | WalletError::UrlRefused { .. }
        ),
        "{e:?}"
    );
    assert_eq!(server.asked.lock().unwrap().len(), 1);
}

#[test]
fn an_x509_san_dns_verifier_is_bound_to_its_response_uri_host() {
    use time::Duration;

    let f = Fixture::new();
    f.holding(1);
    let when = test_kit::pki::AT;
    let pki = test_kit::verifier::VerifierPki::new(
        &["verifier.example"],
        when - Duration::days(30),
        when + Duration::days(300),
    );
    f.wallet
        .set_reader_trust_anchors(vec![pki.root_der.clone()])
        .unwrap();
    let signer_of = |pki: &test_kit::verifier::VerifierPki| RequestSigner {
        private_key: SigningPrivateKey::Pkcs8Der {
            der: pki.leaf_key.to_pkcs8_der().unwrap().to_vec(),
        },
        certificate_chain: vec![pki.leaf_der.clone()],
    };
    let mut c = config(ResponseMode::DirectPostJwt);
    c.client_id = Some("x509_san_dns:verifier.example".into());
    c.signer = Some(signer_of(&pki));
    let v = OnlineVerifier::openid4vp(c).unwrap();
    let session = f
        .wallet
        .clone()
        .start_online_presentation(delivered(&v, ORIGIN), at())
        .unwrap();
    let consent = session.consent_request();
    assert_eq!(consent.verifier.auth, ReaderAuthStatus::Verified);
    assert_eq!(
        consent.verifier.client_id.as_deref(),
        Some("x509_san_dns:verifier.example")
    );
    let report = verify(
        &f,
        &v,
        received(session.respond(approve(&ALL), at()).unwrap()),
    )
    .unwrap();
    assert!(report.valid, "{report:?}");

    // The same certificate cannot speak for another response URI host.
    let mut c = config(ResponseMode::DirectPostJwt);
    c.client_id = Some("x509_san_dns:verifier.example".into());
    c.response_uri = Some("https://collector.example/response".into());
    c.signer = Some(signer_of(&pki));
    let v = OnlineVerifier::openid4vp(c).unwrap();
    let e = f
        .wallet
        .clone()
        .start_online_presentation(delivered(&v, ORIGIN), at())
        .unwrap_err();
    assert!(matches!(e, WalletError::Protocol { .. }), "{e:?}");
    assert_eq!(f.signs(), 1, "only the first request was answered");
}

#[test]
fn garbage_responses_are_typed_errors_and_leave_the_request_open() {
    let f = Fixture::new();
    f.holding(MODES.len() as u32);
    for mode in MODES {
        let v = verifier(mode);
        let jwe_none = "eyJhbGciOiJub25lIiwiZW5jIjoiQTEyOEdDTSJ9....";
        let garbage = [
            String::new(),
            "x".repeat(5 * 1024 * 1024),
            "not json, not a form".into(),
            "{\"vp_token\": {\"mdl\": [\"!!!\"]}}".into(),
            "{\"vp_token\": {\"mdl\": [\"AAAA\"]}}".into(),
            "vp_token=%7B%22mdl%22%3A%5B%22AAAA%22%5D%7D".into(),
            format!("{{\"response\": \"{jwe_none}\"}}"),
            format!("response={jwe_none}"),
            "[".repeat(100_000),
        ];
        for g in garbage {
            match verify(&f, &v, g.clone()) {
                Err(
                    VerifierError::Malformed { .. }
                    | VerifierError::SizeLimit { .. }
                    | VerifierError::ResponseRefused { .. },
                ) => {}
                other => panic!("{mode:?} {:.40}: {other:?}", g),
            }
        }
        // Nothing above answered the request.
        let report = verify(&f, &v, answer(&f, &v, ORIGIN, &ALL)).unwrap();
        assert!(report.valid, "{mode:?}: {report:?}");
    }
}

#[test]
fn a_verifier_cannot_make_a_request_wallets_must_refuse() {
    // An x509 prefix without a signature.
    let mut c = config(ResponseMode::DirectPostJwt);
    c.client_id = Some("x509_san_dns:verifier.example".into());
    assert!(matches!(
        OnlineVerifier::openid4vp(c),
        Err(VerifierError::InvalidArgument { .. })
    ));
    // A signed redirect_uri: client.
    let mut c = config(ResponseMode::DirectPost);
    c.client_id = Some(format!("redirect_uri:{RESPONSE_URI}"));
    c.signer = Some(signer(&ReaderPki::new("Anyone")));
    assert!(matches!(
        OnlineVerifier::openid4vp(c),
        Err(VerifierError::InvalidArgument { .. })
    ));
    // direct_post without a response URI; a DC API request without an origin; a plain-http
    // origin; a DCQL claim set naming an unknown claim.
    let mut c = config(ResponseMode::DirectPost);
    c.response_uri = None;
    assert!(OnlineVerifier::openid4vp(c).is_err());
    let mut c = config(ResponseMode::DcApi);
    c.origin = None;
    assert!(OnlineVerifier::openid4vp(c).is_err());
    let mut c = config(ResponseMode::DcApi);
    c.origin = Some("http://verifier.example".into());
    assert!(OnlineVerifier::openid4vp(c).is_err());
    let mut c = config(ResponseMode::DcApi);
    c.credentials[0].claim_sets = vec![vec!["nope".into()]];
    assert!(matches!(
        OnlineVerifier::openid4vp(c),
        Err(VerifierError::InvalidQuery { .. })
    ));
}
