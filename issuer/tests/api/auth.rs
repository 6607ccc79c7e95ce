//! Authentication, scopes, client isolation, body size and rate limits.

use super::*;

// ---------------------------------------------------------------------------------------------
// Authentication, scopes, limits
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn authentication_and_scopes_are_enforced() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let doc = env.issue(&claims, &[device_key()]).await;
    let doc_path = format!("/v1/documents/{}", doc.document_id);
    let revoke_only = env.client("revoker", &[Scope::Revoke]).await;
    let issue_only = env.client("issuer-portal", &[Scope::Issue]).await;
    let no_scope = env.client("nothing", &[]).await;
    let (disabled_client, disabled) = env
        .stack
        .issuer
        .store()
        .create_client("disabled", &[Scope::Issue, Scope::Revoke, Scope::Admin])
        .await
        .unwrap();
    env.stack
        .issuer
        .store()
        .disable_client(&disabled_client.id)
        .await
        .unwrap();

    // A valid issuance request: if authentication were skipped it would issue.
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let cases = vec![
        (
            "no Authorization header",
            env.post_json("/v1/documents", None, &body),
        ),
        (
            "Basic credentials",
            env.post_json("/v1/documents", None, &body)
                .header("authorization", "Basic dXNlcjpwYXNz"),
        ),
        (
            "unknown bearer token",
            env.post_json(
                "/v1/documents",
                Some("mdi_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                &body,
            ),
        ),
        (
            "disabled client",
            env.post_json("/v1/documents", Some(&disabled.0), &body),
        ),
        (
            "oversized Authorization header",
            env.post_json("/v1/documents", Some(&"x".repeat(600)), &body),
        ),
        (
            "nonce without a token",
            env.http.post(env.url("/v1/nonces")),
        ),
        ("document view without a token", env.get(&doc_path, None)),
        (
            "revocation without a token",
            env.post_json(&format!("{doc_path}/revoke"), None, &json!({})),
        ),
        (
            "DS revocation by a disabled admin",
            env.post_json("/v1/ds/01/revoke", Some(&disabled.0), &json!({})),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(401, "unauthorized", PathExp::None),
            rb,
        )
        .await;
    }
    let audit = env.audit();
    if !audit
        .iter()
        .any(|r| r["event"] == "issuer.refusal" && r["actors"] == json!(["unauthenticated"]))
    {
        fails.push("no refusal names the unauthenticated caller".into());
    }

    let nonce2 = env.nonce().await;
    let refresh = env.refresh_body(&claims, &nonce2, &[device_key()]);
    let cases = vec![
        (
            "nonce with the revoke scope only",
            env.http
                .post(env.url("/v1/nonces"))
                .bearer_auth(&revoke_only),
        ),
        (
            "issuance with the revoke scope only",
            env.post_json("/v1/documents", Some(&revoke_only), &body),
        ),
        (
            "refresh with the revoke scope only",
            env.post_json(&format!("{doc_path}/refresh"), Some(&revoke_only), &refresh),
        ),
        (
            "revocation with the issue scope only",
            env.post_json(&format!("{doc_path}/revoke"), Some(&issue_only), &json!({})),
        ),
        (
            "DS revocation without the admin scope",
            env.post_json("/v1/ds/01/revoke", Some(&env.token), &json!({})),
        ),
        (
            "document view without scopes",
            env.get(&doc_path, Some(&no_scope)),
        ),
        (
            "issuance without scopes",
            env.post_json("/v1/documents", Some(&no_scope), &body),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(403, "insufficient_scope", PathExp::None),
            rb,
        )
        .await;
    }
    // 403 refusals name the client in the audit record.
    let audit = env.audit();
    let revoker_id = {
        // The client id is not returned by DevStack::client; find it through the token.
        env.stack
            .issuer
            .store()
            .client_by_token(&revoke_only)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    if !audit.iter().any(|r| {
        r["event"] == "issuer.refusal"
            && r["details"]["code"] == "insufficient_scope"
            && r["actors"] == json!([revoker_id])
    }) {
        fails.push("no insufficient_scope refusal names the client".into());
    }

    // What each scope may do.
    let r = env.send(env.get(&doc_path, Some(&revoke_only))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "revoke scope may read: {}",
        r.text()
    );
    let r = env.send(env.get(&doc_path, Some(&issue_only))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "issue scope may read: {}",
        r.text()
    );
    let r = env
        .send(env.post_json("/v1/documents", Some(&issue_only), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = env
        .send(
            env.http
                .post(env.url(&format!("{doc_path}/revoke")))
                .bearer_auth(&revoke_only),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let view = env
        .send(env.get(&doc_path, Some(&revoke_only)))
        .await
        .json();
    assert_eq!(
        view["revocation_reason"], "unspecified",
        "an empty body means unspecified"
    );
    env.assert_no_personal_data_in_audit(&[&revoke_only, &issue_only, &no_scope, &disabled.0]);
    finish(fails);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn isolated_clients_reach_only_their_own_documents() {
    let env = Env::start(|c| c.issuance.client_isolation = true).await;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let doc = env.issue(&claims, &[device_key()]).await;
    let doc_path = format!("/v1/documents/{}", doc.document_id);
    let other = env
        .client("other-portal", &[Scope::Issue, Scope::Revoke])
        .await;
    let admin = env.client("operator", &[Scope::Admin, Scope::Revoke]).await;

    // Another portal cannot tell the document exists, let alone change it.
    let nonce = env.nonce().await;
    let refresh = env.refresh_body(&claims, &nonce, &[device_key()]);
    let cases = vec![
        ("another client's view", env.get(&doc_path, Some(&other))),
        (
            "another client's refresh",
            env.post_json(&format!("{doc_path}/refresh"), Some(&other), &refresh),
        ),
        (
            "another client's revocation",
            env.post_json(&format!("{doc_path}/revoke"), Some(&other), &json!({})),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(404, "not_found", PathExp::None),
            rb,
        )
        .await;
    }
    let id = DocumentId::from_hex(&doc.document_id).unwrap();
    let stored = env.stack.issuer.store().get_document(id).await.unwrap();
    assert_eq!(stored.state, DocumentState::Active);
    assert_eq!(
        env.stack.issuer.store().msos_of(id).await.unwrap().len(),
        1,
        "the refused refresh added no MSO"
    );
    let owner = env
        .stack
        .issuer
        .store()
        .client_by_token(&env.token)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(stored.client_id.as_deref(), Some(owner.as_str()));

    // Its issuer reads it; an admin (the operator) reaches it too.
    let r = env.send(env.get(&doc_path, Some(&env.token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = env
        .send(env.post_json(&format!("{doc_path}/revoke"), Some(&admin), &json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let stored = env.stack.issuer.store().get_document(id).await.unwrap();
    assert_eq!(stored.state, DocumentState::Revoked);
    finish(fails);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn body_size_and_rate_limits() {
    let env = Env::start(|c| {
        c.server.max_body_bytes = 1024;
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 2;
    })
    .await;
    let mut fails = Vec::new();

    // A body over server.max_body_bytes (the rest of the JSON is never read).
    let sizer = env.client("sizer", &[Scope::Issue, Scope::Revoke]).await;
    let mut big = br#"{"doctype":"org.iso.18013.5.1.mDL","claims":{"x":""#.to_vec();
    big.resize(3000, b'a');
    big.extend_from_slice(br#""},"nonce":"n","device_keys":[]}"#);
    env.refused(
        &mut fails,
        "body over server.max_body_bytes",
        expect(413, "body_too_large", PathExp::None),
        env.post_raw("/v1/documents", Some(&sizer), "application/json", big),
    )
    .await;

    // Rate limit: burst 2, then 429 with Retry-After.
    let busy = env.client("busy", &[Scope::Issue]).await;
    let mut limited = None;
    for i in 0..50 {
        let before = env.snapshot().await;
        let r = env
            .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&busy))
            .await;
        if i == 0 {
            assert_eq!(r.status, StatusCode::OK, "first request within the burst");
        }
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((before, r));
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let (before, r) = limited.expect("no request was rate limited");
    env.check_refusal(
        &mut fails,
        "over the rate limit",
        &before,
        &r,
        &expect(429, "rate_limited", PathExp::None),
    )
    .await;
    // Limits are per client: another client is not affected.
    let r = env
        .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&env.token))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Public routes are not limited per client.
    let r = env.send(env.get("/healthz", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    finish(fails);
}

/// A flood without credentials costs a bounded number of audit records (issue 12, item 5:
/// 20,000 requests without a token wrote 7.8 MB of fsynced records), every refusal is still
/// counted, the records say how many were not written, and past its rate the source gets 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn unauthenticated_floods_are_counted_and_rate_limited_per_source() {
    let env = Env::start(|c| {
        c.rate_limit.unauthenticated_per_second = 1;
        c.rate_limit.unauthenticated_burst = 50;
        c.rate_limit.unauthenticated_audit_per_second = 1;
        c.rate_limit.unauthenticated_audit_burst = 5;
    })
    .await;
    let before = env.audit().len();
    let flood = 300;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..flood {
        let token = if i % 2 == 0 {
            None
        } else {
            Some("mdi_not-a-token")
        };
        let r = env
            .send(env.post_json("/v1/nonces", token, &json!({})))
            .await;
        *statuses.entry(r.status.as_u16()).or_insert(0) += 1;
    }
    // The burst is refused as unauthorized, the rest of the flood as rate limited.
    assert!(
        statuses.get(&401).is_some_and(|n| (50..60).contains(n)),
        "{statuses:?}"
    );
    assert!(
        statuses.get(&429).is_some_and(|n| *n >= 240),
        "{statuses:?}"
    );
    let audit = env.audit();
    let records: Vec<&Value> = audit[before..]
        .iter()
        .filter(|r| r["event"] == "issuer.refusal")
        .collect();
    assert!(
        (5..=10).contains(&records.len()),
        "{} audit records for {flood} refusals",
        records.len()
    );
    for r in &records {
        assert_eq!(r["actors"], json!(["unauthenticated"]));
        assert_eq!(r["details"]["source"], "127.0.0.1");
    }
    let m = env.send(env.get("/metrics", None)).await.text();
    let unaudited = metric_value(&m, "mdoc_issuer_unaudited_refusals_total", &[]).unwrap();
    assert_eq!(unaudited as usize + records.len(), flood, "{m}");
    // A later record reports what was not written before it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = env
        .send(env.post_json("/v1/nonces", None, &json!({})))
        .await;
    assert!(matches!(r.status.as_u16(), 401 | 429), "{}", r.text());
    let audit = env.audit();
    let last = audit.last().unwrap();
    assert_eq!(last["event"], "issuer.refusal");
    let reported: usize = last["details"]["suppressed"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(reported, unaudited as usize);
    // A client with a valid token is untouched by the source's limit.
    let r = env
        .send(env.post_json("/v1/nonces", Some(&env.token), &json!({})))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
}
