//! OpenID4VCI 1.0: metadata, the portal's offers, the pre-authorized code flow with a
//! transaction code, batch issuance, deferred issuance, notifications, DPoP, and every error
//! code the specification names, each refusal leaving nothing signed or stored and an
//! `issuer.vci_refusal` audit record.

use super::*;
use mdoc_issuer::jose::dpop::make_dpop;

pub(crate) const PRE_AUTH: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
pub(crate) const PID: &str = "eu.europa.ec.eudi.pid.1";

/// A wallet's view of one offer: what the portal made, and the tokens it got.
pub(crate) struct Flow {
    pub(crate) offer: Value,
    pub(crate) code: String,
    pub(crate) tx_code: Option<String>,
    pub(crate) offer_id: String,
}

impl Env {
    /// `POST /v1/offers` as the portal; panics unless 201.
    pub(crate) async fn make_offer(&self, body: &Value) -> Flow {
        let r = self
            .send(self.post_json("/v1/offers", Some(&self.token), body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "offer: {}", r.text());
        let v = r.json();
        let offer = v["credential_offer"].clone();
        Flow {
            code: offer["grants"][PRE_AUTH]["pre-authorized_code"]
                .as_str()
                .unwrap()
                .to_owned(),
            tx_code: v["tx_code"].as_str().map(str::to_owned),
            offer_id: v["offer_id"].as_str().unwrap().to_owned(),
            offer: v,
        }
    }

    pub(crate) async fn mdl_offer(&self, tx_code: bool) -> Flow {
        let mut body = json!({"doctype": MDL, "claims": claims_with_portrait(2048)});
        if tx_code {
            body["tx_code"] = json!({"length": 6, "description": "sent by SMS"});
        }
        self.make_offer(&body).await
    }

    pub(crate) fn form(&self, path: &str, params: &[(&str, &str)]) -> RequestBuilder {
        let body: String = params
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_raw(
            path,
            None,
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
    }

    async fn token(&self, code: &str, tx: Option<&str>) -> Resp {
        let mut p = vec![("grant_type", PRE_AUTH), ("pre-authorized_code", code)];
        if let Some(t) = tx {
            p.push(("tx_code", t));
        }
        self.send(self.form("/oid4vci/token", &p)).await
    }

    async fn access_token(&self, f: &Flow) -> String {
        let r = self.token(&f.code, f.tx_code.as_deref()).await;
        assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
        let v = r.json();
        assert_eq!(v["token_type"], "Bearer");
        assert!(
            v.get("c_nonce").is_none(),
            "1.0 has no c_nonce in the token response"
        );
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        v["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn c_nonce(&self) -> String {
        let r = self
            .send(self.post_raw("/oid4vci/nonce", None, "application/json", vec![]))
            .await;
        assert_eq!(r.status, StatusCode::OK, "nonce: {}", r.text());
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        r.json()["c_nonce"].as_str().unwrap().to_owned()
    }

    pub(crate) fn credential_request(&self, token: &str, body: &Value) -> RequestBuilder {
        self.post_json("/oid4vci/credential", Some(token), body)
    }

    pub(crate) fn proofs_body(&self, nonce: &str, keys: &[SoftwareKey]) -> Value {
        let proofs: Vec<String> = keys
            .iter()
            .map(|k| proof(k, &self.aud(), nonce, true))
            .collect();
        json!({"credential_configuration_id": MDL, "proofs": {"jwt": proofs}})
    }

    /// Sends `rb`, expecting the OAuth error `code` with `status`, nothing signed or stored,
    /// and an `issuer.vci_refusal` record; mismatches go to `fails`.
    pub(crate) async fn vci_refused(
        &self,
        fails: &mut Vec<String>,
        name: &str,
        status: u16,
        code: &str,
        rb: RequestBuilder,
    ) -> Resp {
        let before = self.snapshot().await;
        let r = self.send(rb).await;
        let after = self.snapshot().await;
        let mut problems = Vec::new();
        if r.status.as_u16() != status {
            problems.push(format!("status {} (want {status})", r.status));
        }
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if body["error"] != code {
            problems.push(format!("body {}", r.text()));
        }
        if !body["error_description"].is_string() {
            problems.push("no error_description".into());
        }
        if after.counts.documents != before.counts.documents
            || after.counts.msos != before.counts.msos
            || after.counts.used_nonces != before.counts.used_nonces
            || after.counts.device_keys != before.counts.device_keys
        {
            problems.push(format!(
                "side effects: {:?} -> {:?}",
                before.counts, after.counts
            ));
        }
        let audit = self.audit();
        let audited = audit[before.audit_len..]
            .iter()
            .any(|rec| rec["event"] == "issuer.vci_refusal" && rec["details"]["code"] == code);
        if !audited {
            problems.push("no issuer.vci_refusal audit record".into());
        }
        if status == 401 && r.header("www-authenticate").is_none() {
            problems.push("401 without WWW-Authenticate".into());
        }
        if !problems.is_empty() {
            fails.push(format!("[{name}] {}", problems.join("; ")));
        }
        r
    }
}

/// Wallets are unauthenticated clients, whose refusals are audited at a bounded rate per
/// address: these tests make dozens from one address and check every record.
pub(crate) fn wallet_config(c: &mut ServiceConfig) {
    c.rate_limit.unauthenticated_audit_burst = 10_000;
    c.rate_limit.unauthenticated_burst = 10_000;
}

/// `s` percent-encoded for a form body or query (the `form_urlencoded` crate's encoding).
pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Decodes a credential (base64url of an IssuerSigned), verifies it against the dev IACA at
/// the present time, and checks it is bound to `key`.
pub(crate) fn verified(env: &Env, cred: &str, key: &SoftwareKey) -> IssuerSigned {
    let issued: IssuerSigned = from_slice(&b64d(cred), &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![env.stack.iaca().unwrap()]);
    let opts = VerifyOptions::new(now(), &trust, &SoftwareVerifier);
    let report = verify_issuer_signed(&issued, Some(MDL), &opts);
    assert!(
        report.is_valid(),
        "credential does not verify: {:?}",
        report.failures().collect::<Vec<_>>()
    );
    let mso = issued.issuer_auth.mso().value();
    assert_eq!(
        mso.device_key_info.public_key().unwrap(),
        public(key),
        "bound to its own key"
    );
    issued
}

#[tokio::test]
async fn metadata_is_generated_from_the_doc_types() {
    let env = Env::start(wallet_config).await;
    let r = env
        .send(env.get("/.well-known/openid-credential-issuer", None))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let m = r.json();
    let id = env.aud();
    assert_eq!(m["credential_issuer"], id.as_str());
    for (field, path) in [
        ("credential_endpoint", "/oid4vci/credential"),
        ("nonce_endpoint", "/oid4vci/nonce"),
        ("deferred_credential_endpoint", "/oid4vci/deferred"),
        ("notification_endpoint", "/oid4vci/notification"),
    ] {
        assert_eq!(m[field], format!("{id}{path}").as_str(), "{field}");
    }
    assert_eq!(m["batch_credential_issuance"]["batch_size"], 20);
    let configs = m["credential_configurations_supported"]
        .as_object()
        .unwrap();
    let registry = env.stack.issuer.registry();
    assert_eq!(configs.len(), registry.len());
    for d in registry.doctypes() {
        assert!(configs.contains_key(d.doctype()), "{}", d.doctype());
    }
    let mdl = &configs[MDL];
    assert_eq!(mdl["format"], "mso_mdoc");
    assert_eq!(mdl["doctype"], MDL);
    assert_eq!(
        mdl["cryptographic_binding_methods_supported"],
        json!(["cose_key"])
    );
    // Numeric COSE ids: the dev DS signs with ES256.
    assert_eq!(mdl["credential_signing_alg_values_supported"], json!([-7]));
    assert!(
        mdl["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256"))
    );
    let claims = mdl["credential_metadata"]["claims"].as_array().unwrap();
    let family = claims
        .iter()
        .find(|c| c["path"] == json!([MDL_NS, "family_name"]))
        .unwrap();
    assert_eq!(family["mandatory"], true);
    assert_eq!(family["display"][0]["name"], "Family name");
    let sex = claims
        .iter()
        .find(|c| c["path"] == json!([MDL_NS, "sex"]))
        .unwrap();
    assert_eq!(sex["mandatory"], false);
    // Every element with a fixed identifier is listed, with its schema's mandatory flag.
    let def = registry.get(MDL).unwrap().definition();
    let fixed: usize = def
        .namespaces
        .iter()
        .map(|ns| {
            ns.elements
                .iter()
                .filter(|e| e.identifier.is_some())
                .count()
        })
        .sum();
    assert_eq!(claims.len(), fixed);

    // Served after the host and, for clients that append it to the issuer path, under it.
    let r2 = env
        .send(env.get("/.well-known/openid-credential-issuer/some/path", None))
        .await;
    assert_eq!(r2.json(), m);

    let r = env
        .send(env.get("/.well-known/oauth-authorization-server", None))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let a = r.json();
    assert_eq!(a["issuer"], id.as_str());
    assert_eq!(a["token_endpoint"], format!("{id}/oid4vci/token").as_str());
    assert!(a["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(PRE_AUTH)));
    assert!(a["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
    env.stack.stop().await.unwrap();
}

/// The whole pre-authorized flow: offer with a transaction code, by reference and by value,
/// token, nonce, a batch of three proofs → three unlinkable MSOs bound to three keys,
/// replay of the same request, refusal of a second one, notification.
async fn pre_authorized_flow(env: &Env) {
    let f = env.mdl_offer(true).await;
    let tx = f.tx_code.clone().unwrap();
    assert_eq!(tx.len(), 6);
    assert!(tx.bytes().all(|b| b.is_ascii_digit()));
    let offer = &f.offer["credential_offer"];
    assert_eq!(offer["credential_issuer"], env.aud().as_str());
    assert_eq!(offer["credential_configuration_ids"], json!([MDL]));
    assert_eq!(
        offer["grants"][PRE_AUTH]["tx_code"],
        json!({"input_mode": "numeric", "length": 6, "description": "sent by SMS"})
    );
    assert!(
        !offer.to_string().contains(&tx),
        "the PIN never travels in the offer"
    );
    let link = f.offer["offer_link"].as_str().unwrap();
    assert!(link.starts_with("openid-credential-offer://?credential_offer_uri=http"));
    assert!(f.offer["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    assert!(f.offer["offer_link_by_value"]
        .as_str()
        .unwrap()
        .starts_with("openid-credential-offer://?credential_offer=%7B"));

    // By reference: the same offer, until it is redeemed.
    let uri = f.offer["credential_offer_uri"].as_str().unwrap();
    let by_ref = env.send(env.http.get(uri)).await;
    assert_eq!(by_ref.status, StatusCode::OK);
    assert_eq!(&by_ref.json(), offer);

    let token = env.access_token(&f).await;
    assert_eq!(
        env.send(env.http.get(uri)).await.status,
        StatusCode::NOT_FOUND
    );

    let keys: Vec<SoftwareKey> = (0..3).map(|_| device_key()).collect();
    let nonce = env.c_nonce().await;
    let body = env.proofs_body(&nonce, &keys);
    let r = env.send(env.credential_request(&token, &body)).await;
    assert_eq!(r.status, StatusCode::OK, "credential: {}", r.text());
    let v = r.json();
    let creds = v["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 3);
    let notification_id = v["notification_id"].as_str().unwrap().to_owned();
    let mut digests = BTreeSet::new();
    for (c, key) in creds.iter().zip(&keys) {
        let issued = verified(env, c["credential"].as_str().unwrap(), key);
        // Independent salts: no digest repeats across the batch.
        let mso = issued.issuer_auth.mso().value();
        for d in mso.value_digests.values().flat_map(|m| m.values()) {
            assert!(
                digests.insert(d.clone()),
                "a digest repeats across the batch"
            );
        }
    }
    let view = env
        .send(env.get(&format!("/v1/offers/{}", f.offer_id), Some(&env.token)))
        .await
        .json();
    assert_eq!(view["state"], "issued");
    let document = view["document_id"].as_str().unwrap().to_owned();
    let doc = env
        .send(env.get(&format!("/v1/documents/{document}"), Some(&env.token)))
        .await;
    assert_eq!(doc.status, StatusCode::OK, "the portal sees the document");

    // The same request again (a lost answer): the same credentials, nothing new signed.
    let before = env.counts().await;
    let again = env.send(env.credential_request(&token, &body)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json(), v);
    assert_eq!(env.counts().await.msos, before.msos);

    // A different request on the same offer is refused: one offer, one document.
    let mut fails = Vec::new();
    let other = env.proofs_body(&env.c_nonce().await, &[device_key()]);
    env.vci_refused(
        &mut fails,
        "second credential request",
        400,
        "credential_request_denied",
        env.credential_request(&token, &other),
    )
    .await;
    // The code is single-use.
    env.vci_refused(
        &mut fails,
        "code redeemed twice",
        400,
        "invalid_grant",
        env.form(
            "/oid4vci/token",
            &[
                ("grant_type", PRE_AUTH),
                ("pre-authorized_code", &f.code),
                ("tx_code", &tx),
            ],
        ),
    )
    .await;

    // Notification.
    let n = env
        .send(env.post_json(
            "/oid4vci/notification",
            Some(&token),
            &json!({"notification_id": notification_id, "event": "credential_accepted"}),
        ))
        .await;
    assert_eq!(n.status, StatusCode::NO_CONTENT, "{}", n.text());
    let view = env
        .send(env.get(&format!("/v1/offers/{}", f.offer_id), Some(&env.token)))
        .await
        .json();
    assert_eq!(view["wallet_event"], "credential_accepted");
    assert!(env
        .audit()
        .iter()
        .any(|r| r["event"] == "issuer.notification"
            && r["details"]["event"] == "credential_accepted"
            && r["details"]["document"] == document.as_str()));
    env.vci_refused(
        &mut fails,
        "unknown notification id",
        400,
        "invalid_notification_id",
        env.post_json(
            "/oid4vci/notification",
            Some(&token),
            &json!({"notification_id": "nope", "event": "credential_deleted"}),
        ),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "unknown notification event",
        400,
        "invalid_notification_request",
        env.post_json(
            "/oid4vci/notification",
            Some(&token),
            &json!({"notification_id": notification_id, "event": "credential_liked"}),
        ),
    )
    .await;
    finish(fails);
    env.assert_no_personal_data_in_audit(&[&tx, &f.code, &token]);
}

#[tokio::test]
async fn pre_authorized_flow_with_tx_code_and_batch_sqlite() {
    run_on(Backend::Sqlite, wallet_config, pre_authorized_flow).await;
}

#[tokio::test]
async fn pre_authorized_flow_with_tx_code_and_batch_postgres() {
    run_on(Backend::Postgres, wallet_config, pre_authorized_flow).await;
}

#[tokio::test]
async fn wrong_transaction_codes_lock_the_offer() {
    let env = Env::start(|c| {
        wallet_config(c);
        c.oid4vci.tx_code_max_attempts = 3;
    })
    .await;
    let f = env.mdl_offer(true).await;
    let right = f.tx_code.clone().unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut fails = Vec::new();
    env.vci_refused(
        &mut fails,
        "tx_code missing",
        400,
        "invalid_request",
        env.form(
            "/oid4vci/token",
            &[("grant_type", PRE_AUTH), ("pre-authorized_code", &f.code)],
        ),
    )
    .await;
    for left in [2, 1, 0] {
        let r = env
            .vci_refused(
                &mut fails,
                "wrong tx_code",
                400,
                "invalid_grant",
                env.form(
                    "/oid4vci/token",
                    &[
                        ("grant_type", PRE_AUTH),
                        ("pre-authorized_code", &f.code),
                        ("tx_code", wrong),
                    ],
                ),
            )
            .await;
        let d = r.json()["error_description"].as_str().unwrap().to_owned();
        let want = if left == 0 {
            "locked".to_owned()
        } else {
            format!("{left} attempt")
        };
        if !d.contains(&want) {
            fails.push(format!("description {d:?} does not say {want:?}"));
        }
    }
    // Past the limit even the right code is refused.
    let r = env
        .vci_refused(
            &mut fails,
            "right tx_code after lock",
            400,
            "invalid_grant",
            env.form(
                "/oid4vci/token",
                &[
                    ("grant_type", PRE_AUTH),
                    ("pre-authorized_code", &f.code),
                    ("tx_code", &right),
                ],
            ),
        )
        .await;
    assert!(r.text().contains("locked"), "{}", r.text());
    let view = env
        .send(env.get(&format!("/v1/offers/{}", f.offer_id), Some(&env.token)))
        .await
        .json();
    assert_eq!(view["state"], "locked");
    assert_eq!(view["tx_code_failures"], 3);
    finish(fails);
    env.stack.stop().await.unwrap();
}

#[tokio::test]
async fn expired_and_withdrawn_offers_are_refused() {
    let env = Env::start(wallet_config).await;
    let mut fails = Vec::new();
    // Expired.
    let f = env
        .make_offer(&json!({"doctype": MDL, "claims": claims_with_portrait(512), "expires_in": 1}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = env
        .vci_refused(
            &mut fails,
            "expired offer",
            400,
            "invalid_grant",
            env.form(
                "/oid4vci/token",
                &[("grant_type", PRE_AUTH), ("pre-authorized_code", &f.code)],
            ),
        )
        .await;
    assert!(r.text().contains("expired"), "{}", r.text());
    let uri = f.offer["credential_offer_uri"].as_str().unwrap();
    assert_eq!(
        env.send(env.http.get(uri)).await.status,
        StatusCode::NOT_FOUND
    );

    // Withdrawn before redemption.
    let f = env.mdl_offer(false).await;
    let w = env
        .send(
            env.http
                .delete(env.url(&format!("/v1/offers/{}", f.offer_id)))
                .bearer_auth(&env.token),
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    assert_eq!(w.json()["state"], "withdrawn");
    let r = env
        .vci_refused(
            &mut fails,
            "withdrawn offer",
            400,
            "invalid_grant",
            env.form(
                "/oid4vci/token",
                &[("grant_type", PRE_AUTH), ("pre-authorized_code", &f.code)],
            ),
        )
        .await;
    assert!(r.text().contains("withdrawn"), "{}", r.text());

    // Withdrawn after redemption: the access token stops working.
    let f = env.mdl_offer(false).await;
    let token = env.access_token(&f).await;
    env.send(
        env.http
            .delete(env.url(&format!("/v1/offers/{}", f.offer_id)))
            .bearer_auth(&env.token),
    )
    .await;
    let body = env.proofs_body(&env.c_nonce().await, &[device_key()]);
    env.vci_refused(
        &mut fails,
        "token of a withdrawn offer",
        401,
        "invalid_token",
        env.credential_request(&token, &body),
    )
    .await;

    // An issued offer cannot be withdrawn; another client cannot see it.
    let f = env.mdl_offer(false).await;
    let token = env.access_token(&f).await;
    let body = env.proofs_body(&env.c_nonce().await, &[device_key()]);
    assert_eq!(
        env.send(env.credential_request(&token, &body)).await.status,
        StatusCode::OK
    );
    let w = env
        .send(
            env.http
                .delete(env.url(&format!("/v1/offers/{}", f.offer_id)))
                .bearer_auth(&env.token),
        )
        .await;
    assert_eq!(w.status, StatusCode::CONFLICT, "{}", w.text());
    assert_eq!(w.json()["error"]["code"], "offer_state");
    finish(fails);
    env.stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_record_fails_at_the_portal_not_in_the_wallet() {
    let env = Env::start(wallet_config).await;
    let before = env.db.count("credential_offers").await;
    let mut claims = claims_with_portrait(512);
    claims[MDL_NS]["birth_date"] = json!("28.02.1990");
    let r = env
        .send(env.post_json(
            "/v1/offers",
            Some(&env.token),
            &json!({"doctype": MDL, "claims": claims}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "validation_failed");
    for bad in [
        json!({"doctype": "org.example.unknown", "claims": {}}),
        json!({"doctype": MDL, "claims": claims_with_portrait(64), "tx_code": {"length": 3}}),
        json!({"doctype": MDL, "claims": claims_with_portrait(64), "tx_code": {"input_mode": "text"}}),
        json!({"doctype": MDL, "claims": claims_with_portrait(64), "expires_in": 0}),
        json!({"doctype": MDL, "claims": claims_with_portrait(64), "expires_in": 99_999_999}),
        json!({"doctype": MDL, "claims": claims_with_portrait(64), "surprise": true}),
    ] {
        let r = env
            .send(env.post_json("/v1/offers", Some(&env.token), &bad))
            .await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.text());
    }
    // Only a client with the issue scope makes offers.
    let revoker = env.client("desk", &[Scope::Revoke]).await;
    let r = env
        .send(env.post_json(
            "/v1/offers",
            Some(&revoker),
            &json!({"doctype": MDL, "claims": claims_with_portrait(64)}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(env.db.count("credential_offers").await, before);
    env.stack.stop().await.unwrap();
}

#[tokio::test]
async fn every_named_error_of_the_token_and_credential_endpoints() {
    let env = Env::start(wallet_config).await;
    let mut fails = Vec::new();
    let f = env.mdl_offer(false).await;
    let form = |p: &[(&str, &str)]| env.form("/oid4vci/token", p);

    env.vci_refused(
        &mut fails,
        "grant type",
        400,
        "unsupported_grant_type",
        form(&[("grant_type", "authorization_code"), ("code", "x")]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "no grant type",
        400,
        "invalid_request",
        form(&[("pre-authorized_code", &f.code)]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "no code",
        400,
        "invalid_request",
        form(&[("grant_type", PRE_AUTH)]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "repeated parameter",
        400,
        "invalid_request",
        form(&[
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", &f.code),
            ("pre-authorized_code", &f.code),
        ]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "unknown code",
        400,
        "invalid_grant",
        form(&[("grant_type", PRE_AUTH), ("pre-authorized_code", "bm9wZQ")]),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "JSON token request",
        400,
        "invalid_request",
        env.post_json("/oid4vci/token", None, &json!({"grant_type": PRE_AUTH})),
    )
    .await;

    // Extra parameters wallets send are ignored (INTEROP 16).
    let r = env
        .send(form(&[
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", &f.code),
            ("resource", &env.aud()),
            ("client_id", "wallet"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let token = r.json()["access_token"].as_str().unwrap().to_owned();

    let key = device_key();
    let nonce = env.c_nonce().await;
    let good = env.proofs_body(&nonce, std::slice::from_ref(&key));
    let with = |patch: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        patch(&mut b);
        b
    };
    let cases: Vec<(&str, u16, &str, Value)> = vec![
        (
            "unknown configuration",
            400,
            "unknown_credential_configuration",
            with(&|b| b["credential_configuration_id"] = json!("org.example.nothing")),
        ),
        (
            "configuration not granted",
            400,
            "credential_request_denied",
            with(&|b| b["credential_configuration_id"] = json!(PID)),
        ),
        (
            "no configuration",
            400,
            "invalid_credential_request",
            with(&|b| {
                b.as_object_mut()
                    .unwrap()
                    .remove("credential_configuration_id");
            }),
        ),
        (
            "draft format/doctype",
            400,
            "invalid_credential_request",
            with(&|b| {
                b.as_object_mut()
                    .unwrap()
                    .remove("credential_configuration_id");
                b["format"] = json!("mso_mdoc");
                b["doctype"] = json!(MDL);
            }),
        ),
        (
            "credential identifier",
            400,
            "unknown_credential_identifier",
            with(&|b| {
                b.as_object_mut()
                    .unwrap()
                    .remove("credential_configuration_id");
                b["credential_identifier"] = json!("x");
            }),
        ),
        (
            "singular proof",
            400,
            "invalid_credential_request",
            with(&|b| {
                let p = b["proofs"]["jwt"][0].clone();
                b.as_object_mut().unwrap().remove("proofs");
                b["proof"] = json!({"proof_type": "jwt", "jwt": p});
            }),
        ),
        (
            "no proofs",
            400,
            "invalid_proof",
            with(&|b| {
                b.as_object_mut().unwrap().remove("proofs");
            }),
        ),
        (
            "cwt proof type",
            400,
            "invalid_proof",
            with(&|b| b["proofs"] = json!({"cwt": ["x"]})),
        ),
        (
            "empty batch",
            400,
            "invalid_credential_request",
            with(&|b| b["proofs"]["jwt"] = json!([])),
        ),
        (
            "response encryption",
            400,
            "invalid_encryption_parameters",
            with(&|b| b["credential_response_encryption"] = json!({"enc": "A128GCM"})),
        ),
        (
            "proof for another audience",
            400,
            "invalid_proof",
            with(&|b| {
                b["proofs"]["jwt"] = json!([proof(&key, "https://elsewhere.example", &nonce, true)])
            }),
        ),
        (
            "proof without nonce",
            400,
            "invalid_nonce",
            with(&|b| {
                b["proofs"]["jwt"] = json!([jws(
                    &key,
                    &json!({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": to_jwk(&public(&key))}),
                    &json!({"aud": env.aud(), "iat": now().unix_timestamp()})
                )])
            }),
        ),
        (
            "forged nonce",
            400,
            "invalid_nonce",
            with(&|b| {
                b["proofs"]["jwt"] = json!([proof(
                    &key,
                    &env.aud(),
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    true
                )])
            }),
        ),
        (
            "alg none",
            400,
            "invalid_proof",
            with(&|b| {
                b["proofs"]["jwt"] = json!([format!("{}.{}.", b64(json!({"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": to_jwk(&public(&key))}).to_string().as_bytes()), b64(json!({"aud": env.aud(), "iat": now().unix_timestamp(), "nonce": nonce}).to_string().as_bytes()))])
            }),
        ),
    ];
    for (name, status, code, body) in cases {
        env.vci_refused(
            &mut fails,
            name,
            status,
            code,
            env.credential_request(&token, &body),
        )
        .await;
    }
    env.vci_refused(
        &mut fails,
        "no token",
        401,
        "invalid_token",
        env.post_json("/oid4vci/credential", None, &good),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "unknown token",
        401,
        "invalid_token",
        env.credential_request("bm90LWEtdG9rZW4", &good),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "DPoP scheme for a bearer token",
        401,
        "invalid_token",
        env.post_raw(
            "/oid4vci/credential",
            None,
            "application/json",
            good.to_string().into_bytes(),
        )
        .header("authorization", format!("DPoP {token}")),
    )
    .await;

    // The refusals consumed nothing: the good request still works with the same nonce.
    let r = env.send(env.credential_request(&token, &good)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // ...and that nonce is now spent, for any other offer too.
    let f2 = env.mdl_offer(false).await;
    let t2 = env.access_token(&f2).await;
    env.vci_refused(
        &mut fails,
        "reused c_nonce",
        400,
        "invalid_nonce",
        env.credential_request(&t2, &env.proofs_body(&nonce, &[device_key()])),
    )
    .await;
    // A key already bound to a credential cannot be bound again.
    env.vci_refused(
        &mut fails,
        "key already bound",
        400,
        "invalid_proof",
        env.credential_request(
            &t2,
            &env.proofs_body(&env.c_nonce().await, std::slice::from_ref(&key)),
        ),
    )
    .await;
    finish(fails);
    env.stack.stop().await.unwrap();
}

fn deferred_config(c: &mut ServiceConfig) {
    wallet_config(c);
    c.oid4vci.token_ttl_secs = 2;
}

/// Also a regression test: the wallet polls with its access token, which used to expire
/// after `token_ttl_secs` even when the portal had not given the record yet. Here the token
/// lives 2 s and the wallet polls after 3.
async fn deferred_issuance_waits_for_the_portal_record(env: &Env) {
    let f = env.make_offer(&json!({"doctype": MDL})).await;
    assert_eq!(f.offer["pending"], true);
    let token = env.access_token(&f).await;
    let key = device_key();
    let body = env.proofs_body(&env.c_nonce().await, std::slice::from_ref(&key));
    let r = env.send(env.credential_request(&token, &body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let tx = r.json()["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["interval"], 5);
    assert_eq!(env.db.count("documents").await, 0);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;

    let deferred = json!({"transaction_id": tx});
    let mut fails = Vec::new();
    let r = env
        .vci_refused(
            &mut fails,
            "pending",
            400,
            "issuance_pending",
            env.post_json("/oid4vci/deferred", Some(&token), &deferred),
        )
        .await;
    assert_eq!(r.json()["interval"], 5);
    env.vci_refused(
        &mut fails,
        "unknown transaction",
        400,
        "invalid_transaction_id",
        env.post_json(
            "/oid4vci/deferred",
            Some(&token),
            &json!({"transaction_id": "nope"}),
        ),
    )
    .await;

    // The portal gives the record (checked against the doc type first).
    let path = format!("/v1/offers/{}/claims", f.offer_id);
    let bad = env
        .send(
            env.http
                .put(env.url(&path))
                .bearer_auth(&env.token)
                .json(&json!({"claims": {MDL_NS: {"family_name": 7}}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = env
        .send(
            env.http
                .put(env.url(&path))
                .bearer_auth(&env.token)
                .json(&json!({"claims": claims_with_portrait(1024)})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());

    let r = env
        .send(env.post_json("/oid4vci/deferred", Some(&token), &deferred))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    // Bound to the key proven when the request was accepted.
    verified(
        env,
        v["credentials"][0]["credential"].as_str().unwrap(),
        &key,
    );
    // A retry gets the same answer.
    let again = env
        .send(env.post_json("/oid4vci/deferred", Some(&token), &deferred))
        .await;
    assert_eq!(again.json(), v);
    assert_eq!(env.db.count("documents").await, 1);
    finish(fails);
}

#[tokio::test]
async fn deferred_issuance_waits_for_the_portal_record_sqlite() {
    run_on(
        Backend::Sqlite,
        deferred_config,
        deferred_issuance_waits_for_the_portal_record,
    )
    .await;
}

#[tokio::test]
async fn deferred_issuance_waits_for_the_portal_record_postgres() {
    run_on(
        Backend::Postgres,
        deferred_config,
        deferred_issuance_waits_for_the_portal_record,
    )
    .await;
}

fn dpop_config(c: &mut ServiceConfig) {
    wallet_config(c);
    c.oid4vci.require_dpop = true;
    c.oid4vci.dpop_nonce = true;
}

async fn dpop_bound_tokens(env: &Env) {
    let mut fails = Vec::new();
    let f = env.mdl_offer(false).await;
    let dpop_key = device_key();
    let token_url = env.url("/oid4vci/token");
    let cred_url = env.url("/oid4vci/credential");
    let jti = || hex::encode(Sha256::digest(now().unix_timestamp_nanos().to_be_bytes()));
    let token_form = format!(
        "grant_type={}&pre-authorized_code={}",
        urlencode(PRE_AUTH),
        f.code
    );
    let token_req = |proof: Option<String>| {
        let mut rb = env.post_raw(
            "/oid4vci/token",
            None,
            "application/x-www-form-urlencoded",
            token_form.clone().into_bytes(),
        );
        if let Some(p) = proof {
            rb = rb.header("dpop", p);
        }
        rb
    };

    env.vci_refused(
        &mut fails,
        "no DPoP proof",
        400,
        "invalid_dpop_proof",
        token_req(None),
    )
    .await;
    // Without the server's nonce: use_dpop_nonce, with the nonce to use.
    let p = make_dpop(&dpop_key, "POST", &token_url, None, None, now(), &jti()).unwrap();
    let r = env
        .vci_refused(
            &mut fails,
            "no DPoP nonce",
            400,
            "use_dpop_nonce",
            token_req(Some(p)),
        )
        .await;
    let dpop_nonce = r.header("dpop-nonce").expect("a DPoP-Nonce to retry with");
    // For another URL or method.
    let p = make_dpop(
        &dpop_key,
        "POST",
        &cred_url,
        None,
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "DPoP for another URL",
        400,
        "invalid_dpop_proof",
        token_req(Some(p)),
    )
    .await;
    let p = make_dpop(
        &dpop_key,
        "GET",
        &token_url,
        None,
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "DPoP for another method",
        400,
        "invalid_dpop_proof",
        token_req(Some(p)),
    )
    .await;

    let p = make_dpop(
        &dpop_key,
        "POST",
        &token_url,
        None,
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    let r = env.send(token_req(Some(p.clone()))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["token_type"], "DPoP");
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let dpop_nonce = r.header("dpop-nonce").unwrap();

    let key = device_key();
    let c_nonce = env.c_nonce().await;
    let body = env.proofs_body(&c_nonce, &[key]);
    let cred = |proof: Option<String>, scheme: &str| {
        let mut rb = env
            .post_raw(
                "/oid4vci/credential",
                None,
                "application/json",
                body.to_string().into_bytes(),
            )
            .header("authorization", format!("{scheme} {token}"));
        if let Some(p) = proof {
            rb = rb.header("dpop", p);
        }
        rb
    };
    env.vci_refused(
        &mut fails,
        "bound token as Bearer",
        401,
        "invalid_token",
        cred(None, "Bearer"),
    )
    .await;
    env.vci_refused(
        &mut fails,
        "bound token without proof",
        401,
        "invalid_dpop_proof",
        cred(None, "DPoP"),
    )
    .await;
    let other = device_key();
    let p = make_dpop(
        &other,
        "POST",
        &cred_url,
        Some(&token),
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "proof by another key",
        401,
        "invalid_token",
        cred(Some(p), "DPoP"),
    )
    .await;
    let p = make_dpop(
        &dpop_key,
        "POST",
        &cred_url,
        Some("another-token"),
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "wrong ath",
        401,
        "invalid_dpop_proof",
        cred(Some(p), "DPoP"),
    )
    .await;
    let p = make_dpop(
        &dpop_key,
        "POST",
        &cred_url,
        Some(&token),
        None,
        now(),
        &jti(),
    )
    .unwrap();
    env.vci_refused(
        &mut fails,
        "resource without DPoP nonce",
        401,
        "use_dpop_nonce",
        cred(Some(p), "DPoP"),
    )
    .await;

    // The wallet retries with the same c_nonce after use_dpop_nonce (INTEROP 18): accepted.
    let p = make_dpop(
        &dpop_key,
        "POST",
        &cred_url,
        Some(&token),
        Some(&dpop_nonce),
        now(),
        &jti(),
    )
    .unwrap();
    let r = env.send(cred(Some(p.clone()), "DPoP")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The same DPoP proof again is a replay.
    env.vci_refused(
        &mut fails,
        "replayed DPoP proof",
        401,
        "invalid_dpop_proof",
        cred(Some(p), "DPoP"),
    )
    .await;
    finish(fails);
}

#[tokio::test]
async fn dpop_bound_tokens_sqlite() {
    run_on(Backend::Sqlite, dpop_config, dpop_bound_tokens).await;
}

#[tokio::test]
async fn dpop_bound_tokens_postgres() {
    run_on(Backend::Postgres, dpop_config, dpop_bound_tokens).await;
}
