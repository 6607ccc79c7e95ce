//! The OpenID4VCI client against a fake issuer (a Rust `HttpClient` answering as a
//! conformant issuer would, with the test PKI's DS signing real mDLs for the proven keys),
//! then against hostile answers: oversized bodies, wrong JSON types, redirects, wrong
//! issuer identifiers, broken token and credential responses, OAuth errors. Each must be a
//! typed error, never a panic, with no device key created (or none left behind) and the key
//! store's calls counted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::crypto::{Curve, PublicKey};
use serde_json::{json, Value};
use test_kit::pki::TestPki;
use wallet_sdk::{
    default_oid4vci_options, HttpClient, HttpHeader, HttpMethod, HttpRequest, Issuance, KeyStore,
    NotificationEvent, Oid4vciClient, Oid4vciOptions, SoftwareKeyStore, WalletError,
    WalletHttpResponse,
};

const ISSUER: &str = "https://issuer.example";
const OFFER_URI: &str = "https://issuer.example/offers/1";
const MDL: &str = "org.iso.18013.5.1.mDL";

/// What a refusal must be.
type Check = fn(&WalletError) -> bool;
/// Canned answers by URL.
type Canned<'a> = Vec<(&'a str, WalletHttpResponse)>;

static PKI: LazyLock<TestPki> = LazyLock::new(TestPki::new);

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt_part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn answer(status: u16, body: Value) -> WalletHttpResponse {
    WalletHttpResponse {
        status,
        headers: vec![HttpHeader {
            name: "Content-Type".into(),
            value: "application/json".into(),
        }],
        body: body.to_string().into_bytes(),
    }
}

fn raw(status: u16, body: &[u8]) -> WalletHttpResponse {
    WalletHttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

fn with_header(mut r: WalletHttpResponse, name: &str, value: &str) -> WalletHttpResponse {
    r.headers.push(HttpHeader {
        name: name.into(),
        value: value.into(),
    });
    r
}

fn offer_json() -> Value {
    json!({
        "credential_issuer": ISSUER,
        "credential_configuration_ids": [MDL],
        "grants": {
            "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "code-1",
                "tx_code": {"length": 6, "input_mode": "numeric", "description": "by SMS"}
            },
            "authorization_code": {"issuer_state": "st-1"}
        }
    })
}

fn issuer_metadata() -> Value {
    json!({
        "credential_issuer": ISSUER,
        "credential_endpoint": format!("{ISSUER}/credential"),
        "nonce_endpoint": format!("{ISSUER}/nonce"),
        "deferred_credential_endpoint": format!("{ISSUER}/deferred"),
        "notification_endpoint": format!("{ISSUER}/notification"),
        "batch_credential_issuance": {"batch_size": 5},
        "display": [{"name": "Example issuer", "locale": "en"}],
        "credential_configurations_supported": {
            MDL: {
                "format": "mso_mdoc", "doctype": MDL, "scope": MDL,
                "cryptographic_binding_methods_supported": ["cose_key"],
                "credential_signing_alg_values_supported": [-7],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
                "credential_metadata": {
                    "display": [{"name": "Driving licence", "locale": "en"}],
                    "claims": [{"path": ["org.iso.18013.5.1", "family_name"], "mandatory": true,
                        "display": [{"name": "Family name"}]}]
                }
            },
            "pid-sd-jwt": {"format": "dc+sd-jwt", "vct": "urn:pid"}
        }
    })
}

fn server_metadata() -> Value {
    json!({
        "issuer": ISSUER,
        "token_endpoint": format!("{ISSUER}/token"),
        "authorization_endpoint": format!("{ISSUER}/authorize"),
        "pushed_authorization_request_endpoint": format!("{ISSUER}/par"),
        "require_pushed_authorization_requests": true,
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// The device key of a key proof, from its `jwk` header.
fn proof_key(proof: &str) -> PublicKey {
    let h = jwt_part(proof, 0);
    assert_eq!(h["typ"], "openid4vci-proof+jwt");
    assert_eq!(h["alg"], "ES256");
    let x = URL_SAFE_NO_PAD
        .decode(h["jwk"]["x"].as_str().unwrap())
        .unwrap();
    let y = URL_SAFE_NO_PAD
        .decode(h["jwk"]["y"].as_str().unwrap())
        .unwrap();
    PublicKey::from_sec1(Curve::P256, &[vec![4], x, y].concat()).unwrap()
}

/// An mDL signed by the test DS for `key`, base64url.
fn mdl_for(key: &PublicKey) -> String {
    let signed = test_kit::mdl::issue_mdl(&PKI.ds_key, &PKI.ds_der, key);
    b64(&mso::cbor::to_vec(&signed))
}

/// A conformant issuer, with canned answers per URL taking precedence (first in, first out).
#[derive(Default)]
struct Fake {
    canned: Mutex<HashMap<String, VecDeque<WalletHttpResponse>>>,
    log: Mutex<Vec<HttpRequest>>,
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::new(Fake::default())
    }

    fn can(&self, url: &str, r: WalletHttpResponse) {
        self.canned
            .lock()
            .unwrap()
            .entry(url.into())
            .or_default()
            .push_back(r);
    }

    fn requests(&self, url: &str) -> Vec<HttpRequest> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.url == url)
            .cloned()
            .collect()
    }

    fn conformant(&self, r: &HttpRequest) -> WalletHttpResponse {
        let path = r.url.strip_prefix(ISSUER).unwrap_or("?");
        match (r.method, path) {
            (HttpMethod::Get, "/offers/1") => answer(200, offer_json()),
            (HttpMethod::Get, "/.well-known/openid-credential-issuer") => {
                answer(200, issuer_metadata())
            }
            (HttpMethod::Get, "/.well-known/oauth-authorization-server") => {
                answer(200, server_metadata())
            }
            (HttpMethod::Post, "/token") => answer(
                200,
                json!({"access_token": "at-1", "token_type": "DPoP", "expires_in": 300}),
            ),
            (HttpMethod::Post, "/par") => answer(
                201,
                json!({"request_uri": "urn:ietf:params:oauth:request_uri:r1", "expires_in": 60}),
            ),
            (HttpMethod::Post, "/nonce") => answer(200, json!({"c_nonce": "n-1"})),
            (HttpMethod::Post, "/credential" | "/deferred") => {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                let proofs = body["proofs"]["jwt"].as_array().unwrap();
                let credentials: Vec<Value> = proofs
                    .iter()
                    .map(|p| json!({"credential": mdl_for(&proof_key(p.as_str().unwrap()))}))
                    .collect();
                answer(
                    200,
                    json!({"credentials": credentials, "notification_id": "nid-1"}),
                )
            }
            (HttpMethod::Post, "/notification") => raw(204, b""),
            _ => raw(404, b"not found"),
        }
    }
}

impl HttpClient for Fake {
    fn send(&self, request: HttpRequest) -> Result<WalletHttpResponse, WalletError> {
        self.log.lock().unwrap().push(request.clone());
        let canned = self
            .canned
            .lock()
            .unwrap()
            .get_mut(&request.url)
            .and_then(VecDeque::pop_front);
        Ok(canned.unwrap_or_else(|| self.conformant(&request)))
    }
}

/// A key store that counts what it is asked and knows which keys are alive.
#[derive(Default)]
struct Counting {
    inner: SoftwareKeyStore,
    created: Mutex<Vec<String>>,
    signs: Mutex<u32>,
    live: Mutex<Vec<String>>,
}

impl Counting {
    fn device_keys_created(&self) -> usize {
        let created = self.created.lock().unwrap();
        created.iter().filter(|a| !a.contains("dpop")).count()
    }

    fn device_keys_live(&self) -> usize {
        let live = self.live.lock().unwrap();
        live.iter().filter(|a| !a.contains("dpop")).count()
    }

    fn calls(&self) -> usize {
        self.created.lock().unwrap().len() + *self.signs.lock().unwrap() as usize
    }
}

impl KeyStore for Counting {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.created.lock().unwrap().push(alias.clone());
        self.live.lock().unwrap().push(alias.clone());
        self.inner.create_key(alias)
    }
    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.inner.public_key(alias)
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        *self.signs.lock().unwrap() += 1;
        self.inner.sign(alias, message)
    }
    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.live.lock().unwrap().retain(|a| a != &alias);
        self.inner.delete_key(alias)
    }
    fn key_attestation(
        &self,
        alias: String,
        nonce: Option<String>,
    ) -> Result<Option<String>, WalletError> {
        self.inner.key_attestation(alias, nonce)
    }
}

fn options() -> Oid4vciOptions {
    let mut o = default_oid4vci_options();
    o.client_id = Some("wallet-app".into());
    o.redirect_uri = Some("https://wallet.example/cb".into());
    o
}

fn client(fake: &Arc<Fake>, keys: &Arc<Counting>) -> Arc<Oid4vciClient> {
    Oid4vciClient::new(fake.clone(), keys.clone(), options()).unwrap()
}

fn link() -> String {
    let enc: String = form_urlencoded::byte_serialize(OFFER_URI.as_bytes()).collect();
    format!("openid-credential-offer://?credential_offer_uri={enc}")
}

/// A client with a resolved offer and an access token.
fn with_token(fake: &Arc<Fake>, keys: &Arc<Counting>) -> Arc<Oid4vciClient> {
    let c = client(fake, keys);
    c.resolve_offer(link()).unwrap();
    c.token_pre_authorized(Some("123456".into())).unwrap();
    c
}

#[test]
fn pre_authorized_flow_with_dpop_and_a_batch() {
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let c = client(&fake, &keys);
    let info = c.resolve_offer(link()).unwrap();
    assert_eq!(info.credential_issuer, ISSUER);
    assert_eq!(info.credentials.len(), 1);
    assert_eq!(info.credentials[0].doctype, MDL);
    assert_eq!(info.credentials[0].display[0].name, "Driving licence");
    assert_eq!(
        info.credentials[0].claims[0].path,
        ["org.iso.18013.5.1", "family_name"]
    );
    assert_eq!(info.issuer_display[0].name, "Example issuer");
    assert_eq!(info.batch_size, 5);
    assert!(info.authorization_code);
    let tx = info.pre_authorized.unwrap().tx_code.unwrap();
    assert_eq!(
        (tx.length, tx.description.as_deref()),
        (Some(6), Some("by SMS"))
    );
    assert_eq!(keys.calls(), 0, "discovery uses no key");

    // The transaction code is required and must be digits.
    for bad in [None, Some("".into()), Some("12ab56".into())] {
        assert!(matches!(
            c.token_pre_authorized(bad),
            Err(WalletError::InvalidInput { .. })
        ));
    }
    assert!(fake.requests(&format!("{ISSUER}/token")).is_empty());
    // The token endpoint asks for a DPoP nonce first; the SDK retries once with it.
    fake.can(
        &format!("{ISSUER}/token"),
        with_header(
            answer(400, json!({"error": "use_dpop_nonce"})),
            "DPoP-Nonce",
            "dn-1",
        ),
    );
    c.token_pre_authorized(Some("123456".into())).unwrap();
    let tokens = fake.requests(&format!("{ISSUER}/token"));
    assert_eq!(tokens.len(), 2);
    let form: Vec<(String, String)> = form_urlencoded::parse(&tokens[1].body)
        .into_owned()
        .collect();
    assert!(form.contains(&("tx_code".into(), "123456".into())));
    assert!(form.contains(&("pre-authorized_code".into(), "code-1".into())));
    let dpop = |r: &HttpRequest| {
        let v = &r.headers.iter().find(|h| h.name == "DPoP").unwrap().value;
        (jwt_part(v, 0), jwt_part(v, 1))
    };
    assert_eq!(dpop(&tokens[0]).1.get("nonce"), None);
    let (h, claims) = dpop(&tokens[1]);
    assert_eq!(h["typ"], "dpop+jwt");
    assert_eq!(claims["nonce"], "dn-1");
    assert_eq!(claims["htu"], format!("{ISSUER}/token"));
    assert_eq!(claims["htm"], "POST");
    assert_eq!(keys.device_keys_created(), 0);

    let Issuance::Issued { result } = c.request_credentials(MDL.into(), 3).unwrap() else {
        panic!("deferred")
    };
    assert_eq!(result.doctype, MDL);
    assert_eq!(result.credentials.len(), 3);
    assert_eq!(result.notification_id.as_deref(), Some("nid-1"));
    for cred in &result.credentials {
        let signed: mso::model::IssuerSigned =
            mso::cbor::from_slice(&cred.issuer_signed, &mso::cbor::Limits::DEFAULT).unwrap();
        let device = signed
            .issuer_auth
            .mso()
            .value()
            .device_key_info
            .public_key();
        assert_eq!(
            device.unwrap().to_sec1(),
            keys.public_key(cred.key_alias.clone()).unwrap()
        );
    }
    let req = &fake.requests(&format!("{ISSUER}/credential"))[0];
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["credential_configuration_id"], MDL);
    let proof = body["proofs"]["jwt"][0].as_str().unwrap();
    let claims = jwt_part(proof, 1);
    assert_eq!(
        (claims["aud"].as_str(), claims["nonce"].as_str()),
        (Some(ISSUER), Some("n-1"))
    );
    let auth = &req
        .headers
        .iter()
        .find(|h| h.name == "Authorization")
        .unwrap()
        .value;
    assert_eq!(auth, "DPoP at-1");
    let (_, claims) = dpop(req);
    assert_eq!(
        claims["ath"],
        b64(&<sha2::Sha256 as sha2::Digest>::digest(b"at-1"))
    );
    assert_eq!(
        claims["nonce"], "dn-1",
        "the token endpoint's nonce, same origin"
    );
    assert_eq!(keys.device_keys_created(), 3);

    assert!(c
        .notify(NotificationEvent::CredentialAccepted, Some("stored".into()))
        .unwrap());
    let n: Value =
        serde_json::from_slice(&fake.requests(&format!("{ISSUER}/notification"))[0].body).unwrap();
    assert_eq!(
        n,
        json!({"notification_id": "nid-1", "event": "credential_accepted", "event_description": "stored"})
    );
    c.close().unwrap();
    assert_eq!(keys.live.lock().unwrap().len(), 3, "the DPoP key is gone");
}

/// Runs `resolve_offer(input)` against a fake with `canned` answers; returns the error, and
/// checks the key store was never called.
fn resolve_fails(input: &str, canned: Vec<(&str, WalletHttpResponse)>) -> WalletError {
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    for (url, r) in canned {
        fake.can(url, r);
    }
    let err = client(&fake, &keys)
        .resolve_offer(input.into())
        .unwrap_err();
    assert_eq!(keys.calls(), 0, "{err:?}");
    err
}

#[test]
fn hostile_offers_and_metadata() {
    let well_known = format!("{ISSUER}/.well-known/openid-credential-issuer");
    let as_well_known = format!("{ISSUER}/.well-known/oauth-authorization-server");
    let meta = |f: &dyn Fn(&mut Value)| {
        let mut m = issuer_metadata();
        f(&mut m);
        answer(200, m)
    };
    let offer = |f: &dyn Fn(&mut Value)| {
        let mut o = offer_json();
        f(&mut o);
        answer(200, o)
    };
    let cases: Vec<(&str, Canned, Check)> = vec![
        (
            "oversized offer",
            vec![(OFFER_URI, raw(200, &vec![b' '; 70 * 1024]))],
            |e| matches!(e, WalletError::SizeLimit { .. }),
        ),
        (
            "offer redirects elsewhere",
            vec![(
                OFFER_URI,
                with_header(raw(302, b""), "Location", "https://evil.example/offer"),
            )],
            |e| matches!(e, WalletError::Redirect { status: 302, .. }),
        ),
        (
            "offer not JSON",
            vec![(OFFER_URI, raw(200, b"<html>"))],
            |e| matches!(e, WalletError::Malformed { .. }),
        ),
        (
            "offer with wrong types",
            vec![(
                OFFER_URI,
                offer(&|o| o["credential_configuration_ids"] = json!(MDL)),
            )],
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            "offer from an http issuer",
            vec![(
                OFFER_URI,
                offer(&|o| o["credential_issuer"] = json!("http://issuer.example")),
            )],
            |e| matches!(e, WalletError::UrlRefused { .. }),
        ),
        (
            "offer by reference answers an OAuth error",
            vec![(OFFER_URI, answer(400, json!({"error": "invalid_request"})))],
            |e| matches!(e, WalletError::IssuerError { status: 400, code, .. } if code == "invalid_request"),
        ),
        (
            "offer deeply nested",
            vec![(
                OFFER_URI,
                raw(
                    200,
                    format!("{}{}", "[".repeat(100), "]".repeat(100)).as_bytes(),
                ),
            )],
            |e| matches!(e, WalletError::SizeLimit { .. }),
        ),
        (
            "metadata for another issuer",
            vec![(
                &well_known,
                meta(&|m| m["credential_issuer"] = json!("https://evil.example")),
            )],
            |e| matches!(e, WalletError::IssuerMismatch { found, .. } if found == "https://evil.example"),
        ),
        (
            "server metadata for another issuer",
            vec![(&as_well_known, {
                let mut s = server_metadata();
                s["issuer"] = json!("https://evil.example");
                answer(200, s)
            })],
            |e| matches!(e, WalletError::IssuerMismatch { .. }),
        ),
        (
            "credential endpoint over http",
            vec![(
                &well_known,
                meta(&|m| m["credential_endpoint"] = json!("http://issuer.example/credential")),
            )],
            |e| matches!(e, WalletError::UrlRefused { .. }),
        ),
        (
            "token endpoint over http",
            vec![(&as_well_known, {
                let mut s = server_metadata();
                s["token_endpoint"] = json!("http://issuer.example/token");
                answer(200, s)
            })],
            |e| matches!(e, WalletError::UrlRefused { .. }),
        ),
        (
            "metadata with wrong types",
            vec![(
                &well_known,
                meta(&|m| m["credential_configurations_supported"] = json!([1, 2])),
            )],
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            "metadata missing the credential endpoint",
            vec![(
                &well_known,
                meta(&|m| {
                    m.as_object_mut().unwrap().remove("credential_endpoint");
                }),
            )],
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            "metadata oversized",
            vec![(&well_known, raw(200, &vec![b' '; 600 * 1024]))],
            |e| matches!(e, WalletError::SizeLimit { .. }),
        ),
        (
            "metadata redirect",
            vec![(
                &well_known,
                with_header(raw(301, b""), "Location", "https://evil.example/m"),
            )],
            |e| matches!(e, WalletError::Redirect { .. }),
        ),
        (
            "metadata lacks the offered configuration",
            vec![(
                &well_known,
                meta(&|m| {
                    m["credential_configurations_supported"]
                        .as_object_mut()
                        .unwrap()
                        .remove(MDL);
                }),
            )],
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            "offer names only a non-mdoc configuration",
            vec![(
                OFFER_URI,
                offer(&|o| o["credential_configuration_ids"] = json!(["pid-sd-jwt"])),
            )],
            |e| matches!(e, WalletError::Unsupported { .. }),
        ),
        (
            "mdoc configuration without ES256 jwt proofs",
            vec![(
                &well_known,
                meta(&|m| {
                    m["credential_configurations_supported"][MDL]["proof_types_supported"] =
                        json!({"jwt": {"proof_signing_alg_values_supported": ["RS256"]}})
                }),
            )],
            |e| matches!(e, WalletError::Unsupported { .. }),
        ),
        (
            "offer names an authorization server the issuer does not list",
            vec![(
                OFFER_URI,
                offer(&|o| {
                    o["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
                        ["authorization_server"] = json!("https://evil.example")
                }),
            )],
            |e| matches!(e, WalletError::IssuerMismatch { .. }),
        ),
        (
            "metadata answers 500",
            vec![(&well_known, raw(500, b"oops"))],
            |e| matches!(e, WalletError::HttpStatus { status: 500, .. }),
        ),
    ];
    for (name, canned, expected) in cases {
        let err = resolve_fails(&link(), canned);
        assert!(expected(&err), "{name}: {err:?}");
    }
    // Links refused before any request.
    for bad in [
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.example%2Fo",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fuser%40issuer.example%2Fo",
        "mailto:someone@example.com",
        "openid-credential-offer://?nothing=here",
    ] {
        let fake = Fake::new();
        let keys = Arc::new(Counting::default());
        assert!(
            client(&fake, &keys).resolve_offer(bad.into()).is_err(),
            "{bad}"
        );
        assert!(fake.log.lock().unwrap().is_empty(), "{bad}");
    }
    // By value works without fetching the offer.
    let by_value: String =
        form_urlencoded::byte_serialize(offer_json().to_string().as_bytes()).collect();
    let fake = Fake::new();
    let keys = Arc::new(Counting::default());
    client(&fake, &keys)
        .resolve_offer(format!(
            "openid-credential-offer://?credential_offer={by_value}"
        ))
        .unwrap();
    assert!(fake.requests(OFFER_URI).is_empty());
}

#[test]
fn hostile_token_responses() {
    let token = format!("{ISSUER}/token");
    let cases: Vec<(WalletHttpResponse, Check)> = vec![
        (answer(200, json!({"token_type": "DPoP"})), |e| {
            matches!(e, WalletError::Protocol { .. })
        }),
        (
            answer(200, json!({"access_token": "a", "token_type": "mac"})),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            answer(200, json!({"access_token": 7, "token_type": "DPoP"})),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            answer(
                200,
                json!({"access_token": "a\r\nX-Evil: 1", "token_type": "Bearer"}),
            ),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (raw(200, b"access_token=a"), |e| {
            matches!(e, WalletError::Malformed { .. })
        }),
        (
            answer(
                400,
                json!({"error": "invalid_grant", "error_description": "wrong tx_code"}),
            ),
            |e| {
                matches!(e, WalletError::IssuerError { status: 400, code, description }
                if code == "invalid_grant" && description.as_deref() == Some("wrong tx_code"))
            },
        ),
        (
            with_header(raw(307, b""), "Location", "https://evil.example/token"),
            |e| matches!(e, WalletError::Redirect { status: 307, .. }),
        ),
        (raw(200, &vec![b'{'; 100 * 1024]), |e| {
            matches!(e, WalletError::SizeLimit { .. })
        }),
        (raw(503, b""), |e| {
            matches!(e, WalletError::HttpStatus { status: 503, .. })
        }),
    ];
    for (canned, expected) in cases {
        let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
        let c = client(&fake, &keys);
        c.resolve_offer(link()).unwrap();
        fake.can(&token, canned);
        let err = c.token_pre_authorized(Some("123456".into())).unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_eq!(keys.device_keys_created(), 0);
        // No token: no credential request can be made.
        assert!(matches!(
            c.request_credentials(MDL.into(), 1),
            Err(WalletError::FlowState { .. })
        ));
        assert_eq!(keys.device_keys_created(), 0);
    }

    // A DPoP token type for a request without a DPoP proof (the server announced no DPoP).
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let mut s = server_metadata();
    s.as_object_mut()
        .unwrap()
        .remove("dpop_signing_alg_values_supported");
    fake.can(
        &format!("{ISSUER}/.well-known/oauth-authorization-server"),
        answer(200, s),
    );
    let c = client(&fake, &keys);
    c.resolve_offer(link()).unwrap();
    assert!(matches!(
        c.token_pre_authorized(Some("123456".into())),
        Err(WalletError::Protocol { .. })
    ));
    assert_eq!(keys.calls(), 0, "no DPoP key without DPoP");
}

#[test]
fn hostile_credential_responses_leave_no_key() {
    let credential = format!("{ISSUER}/credential");
    let stranger = mso::crypto::SoftwareKey::generate(mso::crypto::Algorithm::Es256);
    let foreign = mdl_for(&mso::crypto::Signer::public_key(&stranger).unwrap());
    let cases: Vec<(WalletHttpResponse, Check)> = vec![
        (
            answer(
                200,
                json!({"credentials": [{"credential": "!!not base64!!"}]}),
            ),
            |e| matches!(e, WalletError::Malformed { .. }),
        ),
        (
            answer(
                200,
                json!({"credentials": [{"credential": b64(b"not cbor at all")}]}),
            ),
            |e| matches!(e, WalletError::Malformed { .. }),
        ),
        (
            answer(
                200,
                json!({"credentials": [{"credential": {"issuerAuth": 1}}]}),
            ),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            answer(200, json!({"credentials": [{"credential": foreign}]})),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (answer(200, json!({"credentials": "x"})), |e| {
            matches!(e, WalletError::Protocol { .. })
        }),
        (answer(200, json!({"credentials": []})), |e| {
            matches!(e, WalletError::Protocol { .. })
        }),
        (answer(202, json!({"interval": 5})), |e| {
            matches!(e, WalletError::Protocol { .. })
        }),
        (
            answer(
                400,
                json!({"error": "invalid_proof", "error_description": "bad"}),
            ),
            |e| matches!(e, WalletError::IssuerError { code, .. } if code == "invalid_proof"),
        ),
        (
            with_header(raw(302, b""), "Location", "https://evil.example/c"),
            |e| matches!(e, WalletError::Redirect { .. }),
        ),
        (raw(200, &vec![b' '; 17 * 1024 * 1024]), |e| {
            matches!(e, WalletError::SizeLimit { .. })
        }),
    ];
    for (canned, expected) in cases {
        let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
        let c = with_token(&fake, &keys);
        fake.can(&credential, canned);
        let err = c.request_credentials(MDL.into(), 1).unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_eq!(keys.device_keys_live(), 0, "{err:?}: a device key was left");
    }

    // More credentials than proofs.
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let c = with_token(&fake, &keys);
    let one = mdl_for(&mso::crypto::Signer::public_key(&stranger).unwrap());
    fake.can(
        &credential,
        answer(
            200,
            json!({"credentials": [{"credential": one}, {"credential": one}]}),
        ),
    );
    assert!(matches!(
        c.request_credentials(MDL.into(), 1),
        Err(WalletError::Protocol { .. })
    ));
    assert_eq!(keys.device_keys_live(), 0);

    // A broken nonce answer: no device key is even created.
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let c = with_token(&fake, &keys);
    fake.can(
        &format!("{ISSUER}/nonce"),
        answer(200, json!({"c_nonce": 5})),
    );
    assert!(matches!(
        c.request_credentials(MDL.into(), 1),
        Err(WalletError::Protocol { .. })
    ));
    assert_eq!(keys.device_keys_created(), 0);
    // Out-of-range batches are refused before any key.
    for n in [0, 6] {
        assert!(matches!(
            c.request_credentials(MDL.into(), n),
            Err(WalletError::InvalidInput { .. })
        ));
    }
    assert_eq!(keys.device_keys_created(), 0);
}

#[test]
fn nonce_retries_and_deferred_issuance() {
    let credential = format!("{ISSUER}/credential");
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let c = with_token(&fake, &keys);
    // The resource server wants a DPoP nonce, then the c_nonce went stale.
    fake.can(
        &credential,
        with_header(
            with_header(
                answer(401, json!({"error": "use_dpop_nonce"})),
                "WWW-Authenticate",
                "DPoP error=\"use_dpop_nonce\"",
            ),
            "DPoP-Nonce",
            "rs-1",
        ),
    );
    fake.can(&credential, answer(400, json!({"error": "invalid_nonce"})));
    fake.can(
        &format!("{ISSUER}/nonce"),
        answer(200, json!({"c_nonce": "n-1"})),
    );
    fake.can(
        &format!("{ISSUER}/nonce"),
        answer(200, json!({"c_nonce": "n-2"})),
    );
    fake.can(
        &credential,
        answer(202, json!({"transaction_id": "tx-1", "interval": 3})),
    );
    let out = c.request_credentials(MDL.into(), 2).unwrap();
    assert_eq!(
        out,
        Issuance::Deferred {
            transaction_id: "tx-1".into(),
            interval_seconds: 3
        }
    );
    let reqs = fake.requests(&credential);
    assert_eq!(reqs.len(), 3);
    let dpop_nonce = |r: &HttpRequest| {
        let v = &r.headers.iter().find(|h| h.name == "DPoP").unwrap().value;
        jwt_part(v, 1)["nonce"].clone()
    };
    assert_eq!(dpop_nonce(&reqs[1]), "rs-1");
    let proof_nonce = |r: &HttpRequest| {
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        jwt_part(b["proofs"]["jwt"][0].as_str().unwrap(), 1)["nonce"].clone()
    };
    assert_eq!(proof_nonce(&reqs[1]), "n-1");
    assert_eq!(proof_nonce(&reqs[2]), "n-2");
    // The same keys were proven again.
    let jwks = |r: &HttpRequest| {
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        b["proofs"]["jwt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| jwt_part(p.as_str().unwrap(), 0)["jwk"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(jwks(&reqs[0]), jwks(&reqs[2]));
    assert_eq!(keys.device_keys_live(), 2);
    assert!(matches!(
        c.request_credentials(MDL.into(), 1),
        Err(WalletError::FlowState { .. })
    ));

    // Still pending twice (1.0's 202, the drafts' issuance_pending), then issued.
    let deferred = format!("{ISSUER}/deferred");
    fake.can(&deferred, answer(202, json!({"interval": 7})));
    fake.can(
        &deferred,
        answer(400, json!({"error": "issuance_pending", "interval": 9})),
    );
    assert!(matches!(
        c.poll_deferred().unwrap(),
        Issuance::Deferred {
            interval_seconds: 7,
            ..
        }
    ));
    assert!(matches!(
        c.poll_deferred().unwrap(),
        Issuance::Deferred {
            interval_seconds: 9,
            ..
        }
    ));
    // The deferred answer echoes the proofs of the request (the fake issues for them).
    let first = serde_json::from_slice::<Value>(&reqs[2].body).unwrap();
    fake.can(&deferred, {
        let creds: Vec<Value> = first["proofs"]["jwt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json!({"credential": mdl_for(&proof_key(p.as_str().unwrap()))}))
            .collect();
        answer(200, json!({"credentials": creds}))
    });
    let Issuance::Issued { result } = c.poll_deferred().unwrap() else {
        panic!()
    };
    assert_eq!(result.credentials.len(), 2);
    assert_eq!(result.notification_id, None);
    assert!(!c
        .notify(NotificationEvent::CredentialAccepted, None)
        .unwrap());
    let polled: Value = serde_json::from_slice(&fake.requests(&deferred)[0].body).unwrap();
    assert_eq!(polled, json!({"transaction_id": "tx-1"}));
}

#[test]
fn authorization_code_flow_checks_the_redirect() {
    let (fake, keys) = (Fake::new(), Arc::new(Counting::default()));
    let c = client(&fake, &keys);
    c.resolve_offer(link()).unwrap();
    let url = c.authorization_url(MDL.into()).unwrap();
    let u = url::Url::parse(&url).unwrap();
    assert_eq!(u.path(), "/authorize");
    let q: HashMap<String, String> = u.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "wallet-app");
    assert_eq!(q["request_uri"], "urn:ietf:params:oauth:request_uri:r1");
    let par = &fake.requests(&format!("{ISSUER}/par"))[0];
    let form: HashMap<String, String> = form_urlencoded::parse(&par.body).into_owned().collect();
    assert_eq!(form["code_challenge_method"], "S256");
    assert_eq!(form["code_challenge"].len(), 43);
    assert_eq!(form["issuer_state"], "st-1");
    assert_eq!(form["scope"], MDL);
    assert_eq!(form["response_type"], "code");
    assert!(par.headers.iter().any(|h| h.name == "DPoP"));

    let iss: String = form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect();
    type Case = (fn(&str, &str) -> String, Check);
    let cases: Vec<Case> = vec![
        (
            |_, iss| format!("https://wallet.example/cb?code=c1&state=other&iss={iss}"),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            |_, iss| format!("https://wallet.example/cb?code=c1&iss={iss}"),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            |st, _| {
                format!(
                    "https://wallet.example/cb?code=c1&state={st}&iss=https%3A%2F%2Fevil.example"
                )
            },
            |e| matches!(e, WalletError::IssuerMismatch { .. }),
        ),
        (
            |st, _| format!("https://wallet.example/cb?code=c1&state={st}"),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            |st, iss| format!("https://wallet.example/cb?code=c1&code=c2&state={st}&iss={iss}"),
            |e| matches!(e, WalletError::Protocol { .. }),
        ),
        (
            |st, iss| format!("https://evil.example/cb?code=c1&state={st}&iss={iss}"),
            |e| matches!(e, WalletError::InvalidInput { .. }),
        ),
        (
            |st, iss| {
                format!(
                    "https://wallet.example/cb?error=access_denied&error_description=no&state={st}&iss={iss}"
                )
            },
            |e| matches!(e, WalletError::IssuerError { status: 0, code, .. } if code == "access_denied"),
        ),
    ];
    let last_par = |fake: &Fake| -> HashMap<String, String> {
        let par = fake.requests(&format!("{ISSUER}/par"));
        form_urlencoded::parse(&par.last().unwrap().body)
            .into_owned()
            .collect()
    };
    for (make, expected) in cases {
        let r = make(&last_par(&fake)["state"], &iss);
        let err = c.finish_authorization(r.clone()).unwrap_err();
        assert!(expected(&err), "{r}: {err:?}");
        // The pending request is consumed: start again.
        assert!(matches!(
            c.finish_authorization(r),
            Err(WalletError::FlowState { .. })
        ));
        c.authorization_url(MDL.into()).unwrap();
    }
    assert!(fake.requests(&format!("{ISSUER}/token")).is_empty());
    let form = last_par(&fake);
    c.finish_authorization(format!(
        "https://wallet.example/cb?code=c1&state={}&iss={iss}",
        form["state"]
    ))
    .unwrap();
    let token = &fake.requests(&format!("{ISSUER}/token"))[0];
    let tf: HashMap<String, String> = form_urlencoded::parse(&token.body).into_owned().collect();
    assert_eq!(tf["grant_type"], "authorization_code");
    assert_eq!(tf["code"], "c1");
    assert_eq!(tf["redirect_uri"], "https://wallet.example/cb");
    let verifier = &tf["code_verifier"];
    assert_eq!(
        b64(&<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes())),
        form["code_challenge"]
    );
    let Issuance::Issued { result } = c.request_credentials(MDL.into(), 1).unwrap() else {
        panic!()
    };
    assert_eq!(result.credentials.len(), 1);
    // One DPoP key for the whole flow.
    let created = keys.created.lock().unwrap();
    assert_eq!(created.iter().filter(|a| a.contains("dpop")).count(), 1);
}
