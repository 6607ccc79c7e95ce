//! The emergency stop of new issuance (policy §5.7.3; issue 12, Build 6).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_admin_suspends_and_resumes_issuance_and_revocation_goes_on() {
    let env = Env::start(|_| {}).await;
    let claims = claims_with_portrait(2048);
    let admin = env.client("admin", &[Scope::Admin]).await;
    let doc = env.issue(&claims, &[device_key()]).await;

    // Only an admin may suspend; a reason is required.
    let r = env
        .send(env.post_json(
            "/v1/admin/issuance/suspend",
            Some(&env.token),
            &json!({"reason": "DS key compromise suspected"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for bad in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": "x".repeat(201)}),
    ] {
        let r = env
            .send(env.post_json("/v1/admin/issuance/suspend", Some(&admin), &bad))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
    }
    let r = env.send(env.get("/v1/admin/issuance", Some(&admin))).await;
    assert_eq!(r.json(), json!({"suspended": false}));

    let r = env
        .send(env.post_json(
            "/v1/admin/issuance/suspend",
            Some(&admin),
            &json!({"reason": "DS key compromise suspected"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["suspended"], true);
    assert_eq!(r.json()["reason"], "DS key compromise suspected");

    // Issue and refresh are refused with a 503 and Retry-After, never signed.
    let msos_before = env.counts().await;
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "issuance_suspended");
    assert!(r.header("retry-after").is_some());
    let nonce = env.nonce().await;
    let body = env.refresh_body(&claims, &nonce, &[device_key()]);
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", doc.document_id),
            Some(&env.token),
            &body,
        ))
        .await;
    assert_eq!(r.json()["error"]["code"], "issuance_suspended");
    assert_eq!(
        env.counts().await,
        msos_before,
        "nothing was signed or stored"
    );

    // Revocation and the lists go on.
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/revoke", doc.document_id),
            Some(&env.token),
            &json!({"reason": "key_compromise"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK);

    // The suspension lives in the database (so restarts and other instances keep it).
    let state = env
        .stack
        .issuer
        .store()
        .issuance_suspension()
        .await
        .unwrap();
    assert_eq!(state.unwrap().reason, "DS key compromise suspected");

    // Resume: issuance works again.
    let r = env
        .send(env.post_json("/v1/admin/issuance/resume", Some(&admin), &json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"suspended": false}));
    env.issue(&claims, &[device_key()]).await;

    // Both are audited, and the reason's text is not in the log (its digest is).
    let audit = env.audit();
    let suspend = audit
        .iter()
        .find(|r| r["event"] == "issuer.issuance_suspend")
        .expect("suspension audited");
    assert_eq!(
        suspend["details"]["reason_sha256"],
        mdoc_issuer::audit::digest("DS key compromise suspected")
    );
    assert!(audit.iter().any(|r| r["event"] == "issuer.issuance_resume"));
    assert!(!std::fs::read_to_string(env.audit_path())
        .unwrap()
        .contains("compromise suspected"));
}

/// Another instance on the same database sees the suspension within the cache time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_suspension_reaches_every_instance_through_the_database() {
    let env = Env::start(|_| {}).await;
    let issuer = &env.stack.issuer;
    assert!(issuer.issuance_suspension().await.unwrap().is_none());
    // As another instance would: straight into the shared database.
    let other = mdoc_issuer::store::Suspension {
        since: now(),
        reason: "set by another instance".into(),
        by: "admin-elsewhere".into(),
    };
    assert!(issuer.store().suspend_issuance(&other).await.unwrap());
    tokio::time::sleep(
        mdoc_issuer::engine::SUSPENSION_CACHE + std::time::Duration::from_millis(200),
    )
    .await;
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims_with_portrait(1024), &nonce, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(
        r.json()["error"]["code"],
        "issuance_suspended",
        "{}",
        r.text()
    );
}
