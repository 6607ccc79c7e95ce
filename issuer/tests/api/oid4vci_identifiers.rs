//! OpenID4VCI 1.0 credential identifiers (§5.1.1, §6.2, §8.2): a wallet that asks with
//! `authorization_details` — in its pushed authorization request, or in its token request of
//! either grant — gets them back in the token response with a `credential_identifier` bound
//! to its access token, and must then name that identifier, not the configuration, in its
//! credential request (the deferred flow included). Scope-only and plain pre-authorized
//! requests are unchanged. Every refusal is checked for its OAuth error code, no side effect
//! and its audit record.

use super::oid4vci::{verified, wallet_config, Flow, PID, PRE_AUTH};
use super::oid4vci_authcode::{par_params, pkce, Wallet, CLIENT, LOGIN, REDIRECT};
use super::*;

fn details(configuration: &str) -> String {
    json!([{"type": "openid_credential", "credential_configuration_id": configuration}]).to_string()
}

fn code_flow_config(c: &mut ServiceConfig) {
    wallet_config(c);
    c.oid4vci.portal_login_url = Some(LOGIN.into());
}

/// The one granted identifier of `configuration` in a token response; panics unless the
/// response grants exactly that, as §6.2 shapes it.
fn granted_identifier(token_response: &Value, configuration: &str) -> String {
    let d = token_response["authorization_details"]
        .as_array()
        .unwrap_or_else(|| panic!("no authorization_details in {token_response}"));
    assert_eq!(d.len(), 1, "{token_response}");
    assert_eq!(d[0]["type"], "openid_credential");
    assert_eq!(d[0]["credential_configuration_id"], configuration);
    let ids = d[0]["credential_identifiers"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{token_response}");
    let id = ids[0].as_str().unwrap().to_owned();
    // Opaque and unguessable: 256 random bits, base64url.
    assert_eq!(b64d(&id).len(), 32, "{id}");
    id
}

/// The credential identifier hashes the store holds, in no order.
async fn stored_identifier_hashes(env: &Env) -> Vec<Vec<u8>> {
    let sql = "SELECT credential_identifier_sha256 FROM credential_offers \
               WHERE credential_identifier_sha256 IS NOT NULL";
    match &env.db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Pg(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

fn by_identifier(identifier: &str, nonce: &str, key: &SoftwareKey, aud: &str) -> Value {
    json!({"credential_identifier": identifier,
           "proofs": {"jwt": [proof(key, aud, nonce, true)]}})
}

impl Env {
    /// The authorization-code flow up to the token response: PAR with `par_extra`, the
    /// portal's approval with a record, and the token request with `token_extra`.
    async fn code_flow_token(
        &self,
        w: &Wallet,
        par_extra: &[(&str, &str)],
        token_extra: &[(&str, &str)],
    ) -> Resp {
        let (verifier, challenge) = pkce();
        let uri = self
            .pushed(w, &par_params(&challenge, par_extra), false)
            .await;
        let session = self.login(&uri).await;
        let code = self
            .approve(&session, &json!({"claims": claims_with_portrait(512)}))
            .await;
        let mut p = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
        ];
        p.extend_from_slice(token_extra);
        self.send(self.form("/oid4vci/token", &p)).await
    }

    fn pre_auth_token(&self, f: &Flow, extra: &[(&str, &str)]) -> RequestBuilder {
        let mut p = vec![
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", f.code.as_str()),
        ];
        p.extend_from_slice(extra);
        self.form("/oid4vci/token", &p)
    }
}

async fn authorization_code_flow_with_authorization_details(env: &Env) {
    let mut fails = Vec::new();
    let aud = env.aud();
    let w = Wallet::new(false);
    let only_details = details(MDL);
    let by_details: &[(&str, &str)] = &[("scope", ""), ("authorization_details", &only_details)];

    // PAR refusals of malformed authorization_details.
    let (_, challenge) = pkce();
    for (name, value) in [
        ("empty authorization_details", "[]".to_owned()),
        (
            "authorization_details not an array",
            json!({"type": "openid_credential"}).to_string(),
        ),
        ("unknown configuration", details("org.example.nothing")),
        (
            "another type",
            json!([{"type": "payment_initiation", "credential_configuration_id": MDL}]).to_string(),
        ),
    ] {
        let p = par_params(
            &challenge,
            &[("scope", ""), ("authorization_details", &value)],
        );
        env.vci_refused(
            &mut fails,
            name,
            400,
            "invalid_authorization_details",
            env.par(&w, &p, false),
        )
        .await;
    }

    // Two wallets ask with authorization_details only: each token comes with an identifier.
    let r1 = env.code_flow_token(&w, by_details, &[]).await;
    assert_eq!(r1.status, StatusCode::OK, "token: {}", r1.text());
    let t1 = r1.json()["access_token"].as_str().unwrap().to_owned();
    let id1 = granted_identifier(&r1.json(), MDL);
    let r2 = env
        .code_flow_token(&Wallet::new(false), by_details, &[])
        .await;
    assert_eq!(r2.status, StatusCode::OK, "token: {}", r2.text());
    let t2 = r2.json()["access_token"].as_str().unwrap().to_owned();
    let id2 = granted_identifier(&r2.json(), MDL);
    assert_ne!(id1, id2);
    // Stored as hashes only, one per token.
    let mut stored = stored_identifier_hashes(env).await;
    stored.sort();
    let mut want: Vec<Vec<u8>> = [&id1, &id2]
        .iter()
        .map(|i| Sha256::digest(i.as_bytes()).to_vec())
        .collect();
    want.sort();
    assert_eq!(stored, want);
    let tok = env
        .audit()
        .into_iter()
        .rev()
        .find(|r| r["event"] == "issuer.token")
        .unwrap();
    assert_eq!(tok["details"]["credential_identifier"], "true");

    // A scope-only wallet is unchanged: no authorization_details, the configuration by id.
    let r3 = env.code_flow_token(&Wallet::new(false), &[], &[]).await;
    assert_eq!(r3.status, StatusCode::OK, "token: {}", r3.text());
    assert!(
        r3.json().get("authorization_details").is_none(),
        "{}",
        r3.text()
    );
    let t3 = r3.json()["access_token"].as_str().unwrap().to_owned();

    // Credential refusals; none consumes the nonce or signs anything.
    let key = device_key();
    let nonce = env.c_nonce().await;
    let good = by_identifier(&id1, &nonce, &key, &aud);
    let with = |patch: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        patch(&mut b);
        b
    };
    let cases: Vec<(&str, &str, &str, Value)> = vec![
        (
            "configuration id where an identifier was granted",
            &t1,
            "invalid_credential_request",
            with(&|b| {
                b.as_object_mut().unwrap().remove("credential_identifier");
                b["credential_configuration_id"] = json!(MDL);
            }),
        ),
        (
            "both identifier and configuration id",
            &t1,
            "invalid_credential_request",
            with(&|b| b["credential_configuration_id"] = json!(MDL)),
        ),
        (
            "neither identifier nor configuration id",
            &t1,
            "invalid_credential_request",
            with(&|b| {
                b.as_object_mut().unwrap().remove("credential_identifier");
            }),
        ),
        (
            "unknown identifier",
            &t1,
            "unknown_credential_identifier",
            with(&|b| b["credential_identifier"] = json!(b64(&[7u8; 32]))),
        ),
        (
            "identifier of another token",
            &t2,
            "unknown_credential_identifier",
            good.clone(),
        ),
        (
            "identifier with a scope-only token",
            &t3,
            "unknown_credential_identifier",
            good.clone(),
        ),
        (
            "identifier not a string",
            &t1,
            "invalid_credential_request",
            with(&|b| b["credential_identifier"] = json!(["x"])),
        ),
    ];
    for (name, token, code, body) in cases {
        env.vci_refused(
            &mut fails,
            name,
            400,
            code,
            env.credential_request(token, &body),
        )
        .await;
    }

    // The granted identifier obtains the credential, and a retry replays it.
    let r = env.send(env.credential_request(&t1, &good)).await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    verified(
        env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key,
    );
    let before = env.counts().await;
    let again = env.send(env.credential_request(&t1, &good)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json(), r.json());
    assert_eq!(env.counts().await.msos, before.msos);

    // The scope-only token still obtains its credential by configuration id.
    let key3 = device_key();
    let body3 = env.proofs_body(&env.c_nonce().await, std::slice::from_ref(&key3));
    let r = env.send(env.credential_request(&t3, &body3)).await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    verified(
        env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key3,
    );

    // The token request may ask with authorization_details too (RFC 9396 §6.1), for the
    // configuration the code was issued for only; a refusal leaves the code usable.
    let w4 = Wallet::new(false);
    let (verifier, challenge) = pkce();
    let uri = env.pushed(&w4, &par_params(&challenge, &[]), false).await;
    let session = env.login(&uri).await;
    let code = env
        .approve(&session, &json!({"claims": claims_with_portrait(512)}))
        .await;
    let token_form = |d: &str| {
        env.form(
            "/oid4vci/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", &verifier),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT),
                ("authorization_details", d),
            ],
        )
    };
    env.vci_refused(
        &mut fails,
        "token details for another configuration",
        400,
        "invalid_authorization_details",
        token_form(&details(PID)),
    )
    .await;
    let r = env.send(token_form(&details(MDL))).await;
    assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
    let t4 = r.json()["access_token"].as_str().unwrap().to_owned();
    let id4 = granted_identifier(&r.json(), MDL);
    let key4 = device_key();
    let r = env
        .send(env.credential_request(&t4, &by_identifier(&id4, &env.c_nonce().await, &key4, &aud)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    verified(
        env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key4,
    );

    env.assert_no_personal_data_in_audit(&[&id1, &id2, &id4]);
    finish(fails);
}

#[tokio::test]
async fn authorization_code_flow_with_authorization_details_sqlite() {
    run_on(
        Backend::Sqlite,
        code_flow_config,
        authorization_code_flow_with_authorization_details,
    )
    .await;
}

#[tokio::test]
async fn authorization_code_flow_with_authorization_details_postgres() {
    run_on(
        Backend::Postgres,
        code_flow_config,
        authorization_code_flow_with_authorization_details,
    )
    .await;
}

/// Spends `offer`'s pre-authorized code with `authorization_details` for the mDL, checks that
/// the granted identifier is then required (a request by configuration id is refused without
/// spending the nonce), and asks by that identifier: the access token, the device key the
/// request binds, and the credential endpoint's response.
async fn granted_and_required(
    env: &Env,
    fails: &mut Vec<String>,
    label: &str,
    offer: &Flow,
) -> (String, SoftwareKey, Resp) {
    let r = env
        .send(env.pre_auth_token(offer, &[("authorization_details", &details(MDL))]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{label} token: {}", r.text());
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let id = granted_identifier(&r.json(), MDL);
    let key = device_key();
    let nonce = env.c_nonce().await;
    env.vci_refused(
        fails,
        &format!("{label}: configuration id where an identifier was granted"),
        400,
        "invalid_credential_request",
        env.credential_request(&token, &env.proofs_body(&nonce, std::slice::from_ref(&key))),
    )
    .await;
    let r = env
        .send(env.credential_request(&token, &by_identifier(&id, &nonce, &key, &env.aud())))
        .await;
    (token, key, r)
}

async fn pre_authorized_flow_with_authorization_details(env: &Env) {
    let mut fails = Vec::new();

    // A plain pre-authorized token request gets no authorization_details.
    let plain = env.mdl_offer(false).await;
    let r = env.send(env.pre_auth_token(&plain, &[])).await;
    assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
    assert!(
        r.json().get("authorization_details").is_none(),
        "{}",
        r.text()
    );

    // Narrowing to another configuration, or malformed details, is refused before the code
    // is spent.
    let f = env.mdl_offer(false).await;
    let pid = details(PID);
    env.vci_refused(
        &mut fails,
        "details for a configuration not offered",
        400,
        "invalid_authorization_details",
        env.pre_auth_token(&f, &[("authorization_details", &pid)]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "details not JSON",
        400,
        "invalid_authorization_details",
        env.pre_auth_token(&f, &[("authorization_details", "openid_credential")]),
    )
    .await;
    let long = format!(
        "[{}]",
        vec![r#"{"type":"openid_credential"}"#; 200].join(",")
    );
    env.vci_refused(
        &mut fails,
        "details too long",
        400,
        "invalid_request",
        env.pre_auth_token(&f, &[("authorization_details", &long)]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "details with an unknown code",
        400,
        "invalid_grant",
        env.form(
            "/oid4vci/token",
            &[
                ("grant_type", PRE_AUTH),
                ("pre-authorized_code", "bm9wZQ"),
                ("authorization_details", &details(MDL)),
            ],
        ),
    )
    .await;
    let (_, key, r) = granted_and_required(env, &mut fails, "immediate", &f).await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    verified(
        env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key,
    );

    // Deferred: the request by identifier is accepted, then served once the record comes.
    let pending = env.make_offer(&json!({"doctype": MDL})).await;
    let (token, key, r) = granted_and_required(env, &mut fails, "deferred", &pending).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let tx = r.json()["transaction_id"].as_str().unwrap().to_owned();
    let ok = env
        .send(
            env.http
                .put(env.url(&format!("/v1/offers/{}/claims", pending.offer_id)))
                .bearer_auth(&env.token)
                .json(&json!({"claims": claims_with_portrait(512)})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let r = env
        .send(env.post_json(
            "/oid4vci/deferred",
            Some(&token),
            &json!({"transaction_id": tx}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    verified(
        env,
        r.json()["credentials"][0]["credential"].as_str().unwrap(),
        &key,
    );
    finish(fails);
}

#[tokio::test]
async fn pre_authorized_flow_with_authorization_details_sqlite() {
    run_on(
        Backend::Sqlite,
        wallet_config,
        pre_authorized_flow_with_authorization_details,
    )
    .await;
}

#[tokio::test]
async fn pre_authorized_flow_with_authorization_details_postgres() {
    run_on(
        Backend::Postgres,
        wallet_config,
        pre_authorized_flow_with_authorization_details,
    )
    .await;
}
