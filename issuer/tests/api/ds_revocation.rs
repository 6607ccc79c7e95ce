//! Revoking a DS certificate revokes its documents and stops signing with it.

use super::*;

// ---------------------------------------------------------------------------------------------
// DS revocation
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn ds_revocation_revokes_its_documents_and_stops_signing() {
    let env = Env::start(|_| {}).await;
    let claims = claims_with_portrait(2048);
    let admin = env.client("admin", &[Scope::Admin]).await;
    let d1 = env.issue(&claims, &[device_key(), device_key()]).await;
    let d2 = env.issue(&claims, &[device_key()]).await;
    let serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    let r = env
        .send(env.post_json(
            &format!("/v1/ds/{}/revoke", serial.to_ascii_uppercase()),
            Some(&admin),
            &json!({}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"ds_serial": serial.as_str(), "documents_revoked": 2})
    );
    for d in [&d1, &d2] {
        let id = DocumentId::from_hex(&d.document_id).unwrap();
        let doc = env.stack.issuer.store().get_document(id).await.unwrap();
        assert_eq!(doc.state, DocumentState::Revoked);
        assert_eq!(doc.revocation_reason, Some(RevocationReason::DsRevoked));
    }
    let audit = env.audit();
    assert!(audit
        .iter()
        .any(|r| r["event"] == "issuer.revoke_ds" && r["details"]["ds_serial"] == serial.as_str()));

    // No DS left: not ready, issuance is a 503 with Retry-After, never a 500.
    let r = env.send(env.get("/readyz", None)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "not_ready");
    let mut fails = Vec::new();
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "issuance without a usable DS",
        expect(503, "no_signing_key", PathExp::None).not_audited(),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    finish(fails);
}
