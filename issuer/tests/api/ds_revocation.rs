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

/// Issue 12, item 10: the lists were signed by the DS in use, so once the only DS was revoked
/// the list endpoints failed (`NoSigningDs`) exactly when policy §4.4.1.2 needs the revoked
/// device keys published. Now the list signer signs them: after the last DS is revoked, a
/// verifier fetching the lists sees every MSO of that DS revoked and every device key listed,
/// in tokens signed by the list signer (x5chain in the protected header, 12.3.6.3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn after_the_last_ds_is_revoked_the_lists_list_every_key_it_signed_for() {
    let env = Env::start(|_| {}).await;
    let claims = claims_with_portrait(2048);
    let admin = env.client("admin", &[Scope::Admin]).await;
    let keys = [device_key(), device_key(), device_key()];
    let d1 = env.issue(&claims, &keys[..2]).await;
    let d2 = env.issue(&claims, &keys[2..]).await;
    let serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    let r = env
        .send(env.post_json(&format!("/v1/ds/{serial}/revoke"), Some(&admin), &json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(env
        .stack
        .issuer
        .store()
        .ds_certificates()
        .await
        .unwrap()
        .iter()
        .all(|c| c.state == mdoc_issuer::store::DsState::Revoked));

    let anchors = iaca_anchors(&env);
    let base = env.stack.base_url.clone();
    for c in d1.credentials.iter().chain(&d2.credentials) {
        let uri = c.status_list.uri.clone();
        let r = env
            .send(env.get(uri.strip_prefix(&base).unwrap(), None))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let list =
            StatusListToken::verify(&r.body, &uri, now(), &anchors, &SoftwareVerifier).unwrap();
        assert_eq!(list.signer.der(), env.stack.list_signer_der.as_slice());
        assert_eq!(
            list.status(c.status_list.idx).unwrap(),
            mso::status::Status::Invalid
        );
        assert!(x5chain_is_protected(&r.body));
    }
    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let ids = IdentifierListToken::verify(
        &r.body,
        &format!("{base}/v1/identifier-list"),
        now(),
        &anchors,
        &SoftwareVerifier,
    )
    .unwrap();
    assert_eq!(ids.signer.der(), env.stack.list_signer_der.as_slice());
    assert!(x5chain_is_protected(&r.body));
    for k in &keys {
        assert!(ids.contains(&cose_key_thumbprint(&public(k))));
    }
    assert!(env
        .stack
        .issuer
        .metrics()
        .render()
        .contains("list_tokens_signed_total{kind=\"identifier_list\",signer=\"list_signer\"}"));
}

/// Whether a list token carries its x5chain (label 33) in the protected header and not in the
/// unprotected one.
fn x5chain_is_protected(token: &[u8]) -> bool {
    let Cbor::Tag(18, sign1) = from_slice::<Cbor>(token, &Limits::DEFAULT).unwrap() else {
        panic!("not a tagged COSE_Sign1");
    };
    let Cbor::Array(parts) = *sign1 else {
        panic!("COSE_Sign1 is not an array");
    };
    let Cbor::Bytes(protected) = &parts[0] else {
        panic!("protected header is not a bstr");
    };
    let has_x5chain = |m: &Cbor| match m {
        Cbor::Map(entries) => entries.iter().any(|(k, _)| *k == Cbor::Integer(33.into())),
        _ => false,
    };
    has_x5chain(&from_slice::<Cbor>(protected, &Limits::DEFAULT).unwrap())
        && !has_x5chain(&parts[1])
}
