//! OpenID4VCI 1.0 authorization-code flow (HAIP 1.0): pushed authorization requests with PKCE
//! S256 and DPoP, the authorization endpoint's 302 to the portal, the portal hand-off, the
//! token endpoint's `authorization_code` grant, wallet attestation and key attestations. The
//! test plays the wallet, the browser (following each 302 by hand) and the portal. Every
//! refusal is checked for its OAuth error code, no side effect and its audit record.

use std::path::PathBuf;
use std::sync::LazyLock;

use super::oid4vci::{urlencode, verified, wallet_config};
use super::*;
use mdoc_issuer::config::{AttestationPolicy, KeyAttestationPolicy};
use mdoc_issuer::jose::attestation::{
    CLIENT_ATTESTATION_POP_TYP, CLIENT_ATTESTATION_TYP, KEY_ATTESTATION_TYP,
};
use mdoc_issuer::jose::dpop::make_dpop;
use mdoc_issuer::jose::jwk::to_jwk;
use mdoc_issuer::jose::sign::{sign_jwt, x5c};
use serde_json::Map;
use test_kit::pki::TestPki;

pub(crate) const LOGIN: &str = "https://portal.example/login";
pub(crate) const CLIENT: &str = "wallet-app";
pub(crate) const REDIRECT: &str = "https://wallet.example/cb";
const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// A wallet provider whose CA the issuer trusts (`oid4vci.wallet_providers`).
struct Provider {
    pki: TestPki,
    pem: PathBuf,
    _dir: tempfile::TempDir,
}

static PROVIDER: LazyLock<Provider> = LazyLock::new(|| {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("wallet-provider.pem");
    std::fs::write(&pem, TestPki::pem(&pki.iaca_der)).unwrap();
    Provider {
        pki,
        pem,
        _dir: dir,
    }
});

fn haip_config(c: &mut ServiceConfig) {
    wallet_config(c);
    c.oid4vci.portal_login_url = Some(LOGIN.into());
    c.oid4vci.require_dpop = true;
    c.oid4vci.wallet_attestation = AttestationPolicy::Required;
    c.oid4vci.key_attestation = KeyAttestationPolicy::Required;
    c.oid4vci.wallet_providers = vec![PROVIDER.pem.clone()];
}

fn portal_config(c: &mut ServiceConfig) {
    wallet_config(c);
    c.oid4vci.portal_login_url = Some(LOGIN.into());
    // Short, for the expiry check below, but not 1 s: expiry is stored in whole seconds, so
    // a request_uri lives between TTL - 1 and TTL seconds, and with a TTL of 1 a loaded
    // machine could see a fresh one expire between the push and the browser's visit.
    c.oid4vci.par_ttl_secs = 3;
}

fn jti() -> String {
    hex::encode(random::<16>())
}

fn random<const N: usize>() -> [u8; N] {
    use rand_core::RngCore as _;
    let mut b = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

/// A client attestation by `pki` (in `x5c`) for the wallet instance key `instance`.
fn attestation(pki: &TestPki, instance: &SoftwareKey, exp: OffsetDateTime) -> String {
    let mut h = Map::new();
    h.insert("x5c".into(), x5c(&[&pki.ds_der]));
    let claims = json!({
        "iss": "https://wallet-provider.example", "sub": CLIENT,
        "iat": (now() - Duration::hours(1)).unix_timestamp(),
        "exp": exp.unix_timestamp(),
        "cnf": {"jwk": to_jwk(&public(instance))}
    });
    sign_jwt(&pki.ds_key, CLIENT_ATTESTATION_TYP, h, &claims).unwrap()
}

fn pop(signer: &SoftwareKey, aud: &str) -> String {
    let claims = json!({"iss": CLIENT, "aud": aud, "jti": jti(), "iat": now().unix_timestamp()});
    sign_jwt(signer, CLIENT_ATTESTATION_POP_TYP, Map::new(), &claims).unwrap()
}

/// A key attestation by the trusted provider for `keys`.
fn key_attestation(keys: &[&SoftwareKey], nonce: &str) -> String {
    let pki = &PROVIDER.pki;
    let mut h = Map::new();
    h.insert("x5c".into(), x5c(&[&pki.ds_der]));
    let claims = json!({
        "iat": now().unix_timestamp(),
        "exp": (now() + Duration::days(30)).unix_timestamp(),
        "attested_keys": keys.iter().map(|k| to_jwk(&public(k))).collect::<Vec<_>>(),
        "key_storage": ["iso_18045_high"],
        "nonce": nonce,
    });
    sign_jwt(&pki.ds_key, KEY_ATTESTATION_TYP, h, &claims).unwrap()
}

/// A key proof by `key`, carrying `key_attestation` in its header when given.
fn attested_proof(key: &SoftwareKey, aud: &str, nonce: &str, ka: Option<&str>) -> String {
    let mut h = Map::new();
    h.insert("jwk".into(), to_jwk(&public(key)));
    if let Some(ka) = ka {
        h.insert("key_attestation".into(), json!(ka));
    }
    let claims = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": nonce});
    sign_jwt(key, PROOF_TYP, h, &claims).unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    let verifier = b64(&random::<32>());
    let challenge = b64(&Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of query parameter `name` of `url`.
fn query(url: &str, name: &str) -> Option<String> {
    let (_, q) = url.split_once('?')?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The wallet: its instance key (attested), its DPoP key, and its attestation.
pub(crate) struct Wallet {
    instance: SoftwareKey,
    dpop: SoftwareKey,
    attestation: Option<String>,
}

impl Wallet {
    pub(crate) fn new(attested: bool) -> Wallet {
        let instance = device_key();
        let attestation =
            attested.then(|| attestation(&PROVIDER.pki, &instance, now() + Duration::days(1)));
        Wallet {
            instance,
            dpop: device_key(),
            attestation,
        }
    }

    /// Adds the attestation headers (with a fresh PoP) and a DPoP proof for `url`.
    fn headers(&self, env: &Env, mut rb: RequestBuilder, url: &str, dpop: bool) -> RequestBuilder {
        if let Some(a) = &self.attestation {
            rb = rb.header("oauth-client-attestation", a).header(
                "oauth-client-attestation-pop",
                pop(&self.instance, &env.aud()),
            );
        }
        if dpop {
            rb = rb.header(
                "dpop",
                make_dpop(&self.dpop, "POST", url, None, None, now(), &jti()).unwrap(),
            );
        }
        rb
    }
}

pub(crate) fn par_params<'a>(
    challenge: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("scope", MDL),
        ("state", "wallet-state-1"),
    ];
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push((k, v));
        }
    }
    p
}

impl Env {
    fn no_redirects(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub(crate) fn par(&self, w: &Wallet, params: &[(&str, &str)], dpop: bool) -> RequestBuilder {
        let rb = self.form("/oid4vci/par", params);
        w.headers(self, rb, &self.url("/oid4vci/par"), dpop)
    }

    /// PAR; panics unless 201. Returns the request_uri.
    pub(crate) async fn pushed(&self, w: &Wallet, params: &[(&str, &str)], dpop: bool) -> String {
        let r = self.send(self.par(w, params, dpop)).await;
        assert_eq!(r.status, StatusCode::CREATED, "par: {}", r.text());
        let v = r.json();
        assert!(v["expires_in"].as_u64().unwrap() > 0);
        let uri = v["request_uri"].as_str().unwrap().to_owned();
        assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
        uri
    }

    fn authorize_req(&self, client: &str, request_uri: &str) -> RequestBuilder {
        self.no_redirects().get(self.url(&format!(
            "/oid4vci/authorize?client_id={}&request_uri={}",
            urlencode(client),
            urlencode(request_uri)
        )))
    }

    /// The browser at the authorization endpoint: 302 to the portal; returns the session.
    pub(crate) async fn login(&self, request_uri: &str) -> String {
        let r = self.send(self.authorize_req(CLIENT, request_uri)).await;
        assert_eq!(r.status, StatusCode::FOUND, "authorize: {}", r.text());
        let location = r.header("location").unwrap();
        assert!(location.starts_with(LOGIN), "{location}");
        assert_eq!(query(&location, "doctype").as_deref(), Some(MDL));
        query(&location, "session").unwrap()
    }

    /// The portal's call back; returns the status and body.
    async fn handoff(&self, session: &str, body: &Value) -> Resp {
        self.send(self.post_json(
            &format!("/v1/authorizations/{session}"),
            Some(&self.token),
            body,
        ))
        .await
    }

    /// The portal approves; returns the code from `redirect_to`.
    pub(crate) async fn approve(&self, session: &str, body: &Value) -> String {
        let r = self.handoff(session, body).await;
        assert_eq!(r.status, StatusCode::OK, "handoff: {}", r.text());
        let to = r.json()["redirect_to"].as_str().unwrap().to_owned();
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(query(&to, "iss").as_deref(), Some(self.aud().as_str()));
        assert_eq!(query(&to, "state").as_deref(), Some("wallet-state-1"));
        query(&to, "code").unwrap()
    }

    pub(crate) fn code_token(
        &self,
        w: &Wallet,
        code: &str,
        verifier: &str,
        redirect: &str,
        dpop: bool,
    ) -> RequestBuilder {
        let rb = self.form(
            "/oid4vci/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", redirect),
                ("client_id", CLIENT),
            ],
        );
        w.headers(self, rb, &self.url("/oid4vci/token"), dpop)
    }

    fn dpop_credential(&self, w: &Wallet, token: &str, body: &Value) -> RequestBuilder {
        let url = self.url("/oid4vci/credential");
        let p = make_dpop(&w.dpop, "POST", &url, Some(token), None, now(), &jti()).unwrap();
        self.post_raw(
            "/oid4vci/credential",
            None,
            "application/json",
            body.to_string().into_bytes(),
        )
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", p)
    }

    async fn offers(&self) -> i64 {
        self.db.count("credential_offers").await
    }
}

async fn haip_flow_end_to_end_and_its_refusals(env: &Env) {
    let mut fails = Vec::new();
    let aud = env.aud();

    // Metadata: the flow and the attestation policies are announced.
    let m = env
        .send(env.get("/.well-known/oauth-authorization-server", None))
        .await
        .json();
    assert_eq!(
        m["authorization_endpoint"],
        format!("{aud}/oid4vci/authorize")
    );
    assert_eq!(
        m["pushed_authorization_request_endpoint"],
        format!("{aud}/oid4vci/par")
    );
    assert_eq!(m["require_pushed_authorization_requests"], true);
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["attest_jwt_client_auth"])
    );
    assert!(m["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("authorization_code")));
    let im = env
        .send(env.get("/.well-known/openid-credential-issuer", None))
        .await
        .json();
    assert_eq!(
        im["credential_configurations_supported"][MDL]["proof_types_supported"]["jwt"]
            ["key_attestations_required"],
        json!({})
    );

    let w = Wallet::new(true);
    let (verifier, challenge) = pkce();

    // PAR refusals.
    let plain = par_params(&challenge, &[("code_challenge_method", "plain")]);
    env.vci_refused(
        &mut fails,
        "plain PKCE",
        400,
        "invalid_request",
        env.par(&w, &plain, true),
    )
    .await;
    let no_pkce = par_params(&challenge, &[("code_challenge_method", "")]);
    env.vci_refused(
        &mut fails,
        "no PKCE method",
        400,
        "invalid_request",
        env.par(&w, &no_pkce, true),
    )
    .await;
    let bad_scope = par_params(&challenge, &[("scope", "org.example.unknown")]);
    env.vci_refused(
        &mut fails,
        "unknown scope",
        400,
        "invalid_scope",
        env.par(&w, &bad_scope, true),
    )
    .await;
    let params = par_params(&challenge, &[]);
    let unattested = Wallet::new(false);
    env.vci_refused(
        &mut fails,
        "no wallet attestation",
        401,
        "invalid_client",
        env.par(&unattested, &params, true),
    )
    .await;
    let base = env.form("/oid4vci/par", &params);
    let a = w.attestation.clone().unwrap();
    let pop_other_key = base
        .header("oauth-client-attestation", &a)
        .header("oauth-client-attestation-pop", pop(&device_key(), &aud));
    env.vci_refused(
        &mut fails,
        "PoP by another key",
        401,
        "invalid_client",
        pop_other_key,
    )
    .await;
    let pop_other_aud = env
        .form("/oid4vci/par", &params)
        .header("oauth-client-attestation", &a)
        .header(
            "oauth-client-attestation-pop",
            pop(&w.instance, "https://other.example"),
        );
    env.vci_refused(
        &mut fails,
        "PoP for another audience",
        401,
        "invalid_client",
        pop_other_aud,
    )
    .await;
    let expired = attestation(&PROVIDER.pki, &w.instance, now() - Duration::hours(1));
    let rb = env
        .form("/oid4vci/par", &params)
        .header("oauth-client-attestation", expired)
        .header("oauth-client-attestation-pop", pop(&w.instance, &aud));
    env.vci_refused(&mut fails, "expired attestation", 401, "invalid_client", rb)
        .await;
    let stranger = TestPki::new();
    let untrusted = attestation(&stranger, &w.instance, now() + Duration::days(1));
    let rb = env
        .form("/oid4vci/par", &params)
        .header("oauth-client-attestation", untrusted)
        .header("oauth-client-attestation-pop", pop(&w.instance, &aud));
    env.vci_refused(&mut fails, "untrusted provider", 401, "invalid_client", rb)
        .await;
    let only_one = env
        .form("/oid4vci/par", &params)
        .header("oauth-client-attestation", &a);
    env.vci_refused(
        &mut fails,
        "attestation without PoP",
        401,
        "invalid_client",
        only_one,
    )
    .await;

    // PAR with DPoP binding, then the browser at the authorization endpoint.
    let request_uri = env.pushed(&w, &params, true).await;
    env.vci_refused(
        &mut fails,
        "request_uri of another client",
        400,
        "invalid_request_uri",
        env.authorize_req("another-wallet", &request_uri),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "unknown request_uri",
        400,
        "invalid_request_uri",
        env.authorize_req(CLIENT, "urn:ietf:params:oauth:request_uri:nope"),
    )
    .await;
    let session = env.login(&request_uri).await;
    env.vci_refused(
        &mut fails,
        "used request_uri",
        400,
        "invalid_request_uri",
        env.authorize_req(CLIENT, &request_uri),
    )
    .await;

    // The portal: an invalid record is refused at once, then the identified record.
    let offers_before = env.offers().await;
    let bad = env
        .handoff(&session, &json!({"claims": {MDL_NS: {"family_name": 7}}}))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert_eq!(env.offers().await, offers_before);
    let code = env
        .approve(&session, &json!({"claims": claims_with_portrait(1024)}))
        .await;
    let again = env
        .handoff(&session, &json!({"claims": claims_with_portrait(1024)}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());

    // Token refusals: none consumes the code.
    env.vci_refused(
        &mut fails,
        "wrong code_verifier",
        400,
        "invalid_grant",
        env.code_token(&w, &code, &pkce().0, REDIRECT, true),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "redirect_uri mismatch",
        400,
        "invalid_grant",
        env.code_token(&w, &code, &verifier, "https://wallet.example/other", true),
    )
    .await;
    let other_dpop = Wallet {
        instance: SoftwareKey::generate(Algorithm::Es256),
        dpop: device_key(),
        attestation: None,
    };
    let rb = env
        .code_token(&other_dpop, &code, &verifier, REDIRECT, true)
        .header("oauth-client-attestation", &a)
        .header("oauth-client-attestation-pop", pop(&w.instance, &aud));
    env.vci_refused(
        &mut fails,
        "DPoP key mismatch",
        400,
        "invalid_dpop_proof",
        rb,
    )
    .await;
    env.vci_refused(
        &mut fails,
        "token without wallet attestation",
        401,
        "invalid_client",
        env.code_token(&unattested, &code, &verifier, REDIRECT, true),
    )
    .await;
    let as_pre_auth = env.form(
        "/oid4vci/token",
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", &code),
        ],
    );
    let as_pre_auth = w.headers(env, as_pre_auth, &env.url("/oid4vci/token"), true);
    env.vci_refused(
        &mut fails,
        "code as pre-authorized code",
        400,
        "invalid_grant",
        as_pre_auth,
    )
    .await;

    let r = env
        .send(env.code_token(&w, &code, &verifier, REDIRECT, true))
        .await;
    assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
    assert_eq!(r.json()["token_type"], "DPoP");
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    env.vci_refused(
        &mut fails,
        "code reuse",
        400,
        "invalid_grant",
        env.code_token(&w, &code, &verifier, REDIRECT, true),
    )
    .await;
    let audit = env.audit();
    let tok = audit
        .iter()
        .rev()
        .find(|r| r["event"] == "issuer.token")
        .unwrap();
    assert_eq!(tok["details"]["grant"], "authorization_code");
    assert_eq!(
        tok["details"]["attested_by"],
        "https://wallet-provider.example"
    );

    // Credential: key proofs need a key attestation of their own key.
    let key = device_key();
    let c_nonce = env.c_nonce().await;
    let body =
        |proof: String| json!({"credential_configuration_id": MDL, "proofs": {"jwt": [proof]}});
    env.vci_refused(
        &mut fails,
        "proof without key attestation",
        400,
        "invalid_proof",
        env.dpop_credential(
            &w,
            &token,
            &body(attested_proof(&key, &aud, &c_nonce, None)),
        ),
    )
    .await;
    let other_ka = key_attestation(&[&device_key()], &c_nonce);
    env.vci_refused(
        &mut fails,
        "key attestation of another key",
        400,
        "invalid_proof",
        env.dpop_credential(
            &w,
            &token,
            &body(attested_proof(&key, &aud, &c_nonce, Some(&other_ka))),
        ),
    )
    .await;
    let mut h = Map::new();
    h.insert("x5c".into(), x5c(&[&stranger.ds_der]));
    let untrusted_ka = sign_jwt(
        &stranger.ds_key,
        KEY_ATTESTATION_TYP,
        h,
        &json!({"iat": now().unix_timestamp(), "attested_keys": [to_jwk(&public(&key))]}),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "untrusted key attestation",
        400,
        "invalid_proof",
        env.dpop_credential(
            &w,
            &token,
            &body(attested_proof(&key, &aud, &c_nonce, Some(&untrusted_ka))),
        ),
    )
    .await;
    let ka = key_attestation(&[&key], &c_nonce);
    let r = env
        .send(env.dpop_credential(
            &w,
            &token,
            &body(attested_proof(&key, &aud, &c_nonce, Some(&ka))),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    let cred = r.json()["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    verified(env, &cred, &key);

    // The portal refuses another user: the browser goes back with access_denied.
    let (_, challenge2) = pkce();
    let uri = env.pushed(&w, &par_params(&challenge2, &[]), true).await;
    let session = env.login(&uri).await;
    let offers_before = env.offers().await;
    let r = env
        .handoff(&session, &json!({"error": "access_denied"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let to = r.json()["redirect_to"].as_str().unwrap().to_owned();
    assert!(to.starts_with(REDIRECT));
    assert_eq!(query(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&to, "state").as_deref(), Some("wallet-state-1"));
    assert_eq!(query(&to, "iss").as_deref(), Some(aud.as_str()));
    assert!(query(&to, "code").is_none());
    assert_eq!(env.offers().await, offers_before, "nothing to redeem");

    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

#[tokio::test]
async fn haip_flow_end_to_end_and_its_refusals_sqlite() {
    run_on(
        Backend::Sqlite,
        haip_config,
        haip_flow_end_to_end_and_its_refusals,
    )
    .await;
}

#[tokio::test]
async fn haip_flow_end_to_end_and_its_refusals_postgres() {
    run_on(
        Backend::Postgres,
        haip_config,
        haip_flow_end_to_end_and_its_refusals,
    )
    .await;
}

#[tokio::test]
async fn portal_offer_with_the_authorization_code_grant() {
    let env = Env::start(portal_config).await;
    let mut fails = Vec::new();
    let aud = env.aud();
    let m = env
        .send(env.get("/.well-known/oauth-authorization-server", None))
        .await
        .json();
    assert_eq!(m["token_endpoint_auth_methods_supported"], json!(["none"]));

    // The portal's offer carries issuer_state and no pre-authorized code.
    let r = env
        .send(env.post_json(
            "/v1/offers",
            Some(&env.token),
            &json!({"doctype": MDL, "claims": claims_with_portrait(1024),
                    "grants": ["authorization_code"]}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let grants = &v["credential_offer"]["grants"];
    assert!(grants
        .get("urn:ietf:params:oauth:grant-type:pre-authorized_code")
        .is_none());
    let issuer_state = grants["authorization_code"]["issuer_state"]
        .as_str()
        .unwrap()
        .to_owned();
    let offer_id = v["offer_id"].as_str().unwrap().to_owned();

    let w = Wallet::new(false);
    let (verifier, challenge) = pkce();
    let forged = par_params(&challenge, &[("issuer_state", "AAAA")]);
    env.vci_refused(
        &mut fails,
        "forged issuer_state",
        400,
        "invalid_request",
        env.par(&w, &forged, false),
    )
    .await;
    let params = par_params(&challenge, &[("issuer_state", &issuer_state)]);
    let uri = env.pushed(&w, &params, false).await;
    let session = env.login(&uri).await;
    let offers_before = env.offers().await;
    // The record came with the offer: the portal only confirms the user.
    let code = env.approve(&session, &json!({})).await;
    assert_eq!(
        env.offers().await,
        offers_before,
        "the offer itself is redeemed"
    );
    let r = env
        .send(env.code_token(&w, &code, &verifier, REDIRECT, false))
        .await;
    assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
    assert_eq!(r.json()["token_type"], "Bearer");
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let key = device_key();
    let c_nonce = env.c_nonce().await;
    let body = json!({"credential_configuration_id": MDL,
        "proofs": {"jwt": [proof(&key, &aud, &c_nonce, true)]}});
    let r = env
        .send(env.post_json("/oid4vci/credential", Some(&token), &body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    verified(
        &env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key,
    );
    let view = env
        .send(env.get(&format!("/v1/offers/{offer_id}"), Some(&env.token)))
        .await
        .json();
    assert_eq!(view["state"], "issued");

    // The offer is spent: its issuer_state starts nothing more.
    env.vci_refused(
        &mut fails,
        "spent issuer_state",
        400,
        "invalid_request",
        env.par(&w, &params, false),
    )
    .await;

    // A request_uri expires (oid4vci.par_ttl_secs = 3 here).
    let uri = env.pushed(&w, &par_params(&challenge, &[]), false).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    env.vci_refused(
        &mut fails,
        "expired request_uri",
        400,
        "invalid_request_uri",
        env.authorize_req(CLIENT, &uri),
    )
    .await;

    // A portal cannot complete a session that does not exist.
    let r = env.handoff("no-such-session", &json!({"claims": {}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    finish(fails);
    env.stack.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_portal_login_url_the_flow_is_off() {
    let env = Env::start(wallet_config).await;
    let m = env
        .send(env.get("/.well-known/oauth-authorization-server", None))
        .await
        .json();
    assert!(m.get("authorization_endpoint").is_none());
    assert!(m.get("pushed_authorization_request_endpoint").is_none());
    assert_eq!(
        m["grant_types_supported"],
        json!(["urn:ietf:params:oauth:grant-type:pre-authorized_code"])
    );
    let (_, challenge) = pkce();
    let r = env
        .send(env.form("/oid4vci/par", &par_params(&challenge, &[])))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = env
        .send(env.post_json(
            "/v1/offers",
            Some(&env.token),
            &json!({"doctype": MDL, "claims": claims_with_portrait(64),
                    "grants": ["authorization_code"]}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    env.stack.stop().await.unwrap();
}
