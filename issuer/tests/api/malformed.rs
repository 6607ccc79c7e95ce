//! Bad input: malformed requests, unknown routes and ids.

use super::*;

// ---------------------------------------------------------------------------------------------
// Bad input: HTTP, JSON, routes, ids
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn malformed_requests_routes_and_ids_are_refused() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let t = Some(env.token.as_str());
    let doc = env.issue(&claims, &[device_key()]).await;
    let admin = env.client("admin", &[Scope::Admin]).await;

    let nonce = env.nonce().await;
    let good = env.issue_body(&claims, &nonce, &[device_key()]);
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let json_cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "truncated JSON",
            b"{\"doctype\": \"org.iso".to_vec(),
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "JSON nested 10,000 deep",
            {
                let mut b = b"{\"doctype\":\"x\",\"claims\":".to_vec();
                b.extend(std::iter::repeat_n(b'[', 10_000));
                b.extend(std::iter::repeat_n(b']', 10_000));
                b.extend_from_slice(b",\"nonce\":\"n\",\"device_keys\":[]}");
                b
            },
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "duplicate field",
            br#"{"doctype":"a","doctype":"b","claims":{},"nonce":"n","device_keys":[]}"#.to_vec(),
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "a valid body followed by junk",
            {
                let mut b = good.to_string().into_bytes();
                b.extend_from_slice(b"{\"doctype\":\"other\"}junk");
                b
            },
            expect(400, "malformed_request", PathExp::Exact("")),
        ),
        (
            "JSON array body",
            b"[]".to_vec(),
            expect(400, "malformed_request", PathExp::Exact("")),
        ),
        (
            "empty body",
            Vec::new(),
            expect(400, "malformed_request", PathExp::Exact("")),
        ),
        (
            "not UTF-8",
            b"{\"doctype\": \"\xff\xfe\"}".to_vec(),
            expect(400, "malformed_request", PathExp::Exact("doctype")),
        ),
        (
            "unknown top-level field",
            mutate(&|b: &mut Value| b["extra"] = json!(1))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("extra")),
        ),
        (
            "missing nonce",
            mutate(&|b: &mut Value| {
                b.as_object_mut().unwrap().remove("nonce");
            })
            .to_string()
            .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("nonce")),
        ),
        (
            "doctype of the wrong JSON type",
            mutate(&|b: &mut Value| b["doctype"] = json!(5))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("doctype")),
        ),
        (
            "device_keys not an array",
            mutate(&|b: &mut Value| b["device_keys"] = json!("k"))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("device_keys")),
        ),
        (
            "proof of the wrong JSON type",
            mutate(&|b: &mut Value| b["device_keys"][0]["proof"] = json!(7))
                .to_string()
                .into_bytes(),
            expect(
                400,
                "malformed_request",
                PathExp::Exact("device_keys/0/proof"),
            ),
        ),
        (
            "unknown field in a device key",
            mutate(&|b: &mut Value| b["device_keys"][0]["x5c"] = json!("z"))
                .to_string()
                .into_bytes(),
            expect(
                400,
                "malformed_request",
                PathExp::Exact("device_keys/0/x5c"),
            ),
        ),
    ];
    for (name, body, exp) in json_cases {
        env.refused(
            &mut fails,
            name,
            exp,
            env.post_raw("/v1/documents", t, "application/json", body),
        )
        .await;
    }

    let body = good.to_string().into_bytes();
    env.refused(
        &mut fails,
        "text/plain body",
        expect(415, "unsupported_media_type", PathExp::None),
        env.post_raw("/v1/documents", t, "text/plain", body.clone()),
    )
    .await;
    env.refused(
        &mut fails,
        "no Content-Type",
        expect(415, "unsupported_media_type", PathExp::None),
        env.http
            .post(env.url("/v1/documents"))
            .bearer_auth(&env.token)
            .body(body.clone()),
    )
    .await;
    env.refused(
        &mut fails,
        "Idempotency-Key too long",
        expect(400, "malformed_request", PathExp::Exact("Idempotency-Key")),
        env.post_raw("/v1/documents", t, "application/json", body.clone())
            .header("Idempotency-Key", "k".repeat(256)),
    )
    .await;
    env.refused(
        &mut fails,
        "empty Idempotency-Key",
        expect(400, "malformed_request", PathExp::Exact("Idempotency-Key")),
        env.post_raw("/v1/documents", t, "application/json", body.clone())
            .header("Idempotency-Key", ""),
    )
    .await;

    // Routes and methods.
    env.refused(
        &mut fails,
        "unknown route",
        expect(404, "not_found", PathExp::None).not_audited(),
        env.get("/v1/nothing-here", t),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown route outside /v1",
        expect(404, "not_found", PathExp::None).not_audited(),
        env.post_json("/admin", None, &json!({})),
    )
    .await;
    env.refused(
        &mut fails,
        "GET on a POST route",
        expect(405, "method_not_allowed", PathExp::None).not_audited(),
        env.get("/v1/documents", t),
    )
    .await;
    env.refused(
        &mut fails,
        "DELETE on a document",
        expect(405, "method_not_allowed", PathExp::None).not_audited(),
        env.http
            .delete(env.url(&format!("/v1/documents/{}", doc.document_id)))
            .bearer_auth(&env.token),
    )
    .await;

    // Document ids.
    for (name, id) in [
        ("document id not hex", "not-a-document-id"),
        ("document id too short", "abcdef"),
        ("unknown document id", "00000000000000000000000000000000"),
    ] {
        env.refused(
            &mut fails,
            &format!("GET: {name}"),
            expect(404, "not_found", PathExp::None),
            env.get(&format!("/v1/documents/{id}"), t),
        )
        .await;
        let nonce = env.nonce().await;
        let body = env.refresh_body(&claims, &nonce, &[device_key()]);
        env.refused(
            &mut fails,
            &format!("refresh: {name}"),
            expect(404, "not_found", PathExp::None),
            env.post_json(&format!("/v1/documents/{id}/refresh"), t, &body),
        )
        .await;
        env.refused(
            &mut fails,
            &format!("revoke: {name}"),
            expect(404, "not_found", PathExp::None),
            env.post_json(&format!("/v1/documents/{id}/revoke"), t, &json!({})),
        )
        .await;
    }

    // Revocation bodies.
    let revoke = format!("/v1/documents/{}/revoke", doc.document_id);
    env.refused(
        &mut fails,
        "unknown revocation reason",
        expect(400, "malformed_request", PathExp::Exact("reason")),
        env.post_json(&revoke, t, &json!({"reason": "ds_revoked"})),
    )
    .await;
    env.refused(
        &mut fails,
        "revocation reason of the wrong type",
        expect(400, "malformed_request", PathExp::Exact("reason")),
        env.post_json(&revoke, t, &json!({"reason": 3})),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown field in a revocation",
        expect(400, "malformed_request", PathExp::Exact("because")),
        env.post_json(&revoke, t, &json!({"because": "x"})),
    )
    .await;
    env.refused(
        &mut fails,
        "revocation with a text/plain body",
        expect(415, "unsupported_media_type", PathExp::None),
        env.post_raw(&revoke, t, "text/plain", b"{}".to_vec()),
    )
    .await;
    let id = DocumentId::from_hex(&doc.document_id).unwrap();
    assert_eq!(
        env.stack
            .issuer
            .store()
            .get_document(id)
            .await
            .unwrap()
            .state,
        DocumentState::Active,
        "refused revocations revoked nothing"
    );

    // DS serials.
    env.refused(
        &mut fails,
        "DS serial not hex",
        expect(400, "malformed_request", PathExp::Exact("serial")),
        env.post_json("/v1/ds/zz-top/revoke", Some(&admin), &json!({})),
    )
    .await;
    env.refused(
        &mut fails,
        "DS serial too long",
        expect(400, "malformed_request", PathExp::Exact("serial")),
        env.post_json(
            &format!("/v1/ds/{}/revoke", "a".repeat(65)),
            Some(&admin),
            &json!({}),
        ),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown DS serial",
        expect(404, "not_found", PathExp::None),
        env.post_json("/v1/ds/0123456789abcdef/revoke", Some(&admin), &json!({})),
    )
    .await;

    // Refresh with other applicant data.
    let nonce = env.nonce().await;
    let other = with(&claims, "given_name", json!("Eva"));
    let body = env.refresh_body(&other, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "refresh with other applicant data",
        expect(409, "applicant_mismatch", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc.document_id),
            t,
            &body,
        ),
    )
    .await;

    // Public list routes: 404 for unknown lists, not audited.
    for path in [
        "/v1/status-lists/999",
        "/v1/status-lists/abc",
        "/v1/status-lists/-1",
    ] {
        env.refused(
            &mut fails,
            path,
            expect(404, "not_found", PathExp::None).not_audited(),
            env.get(path, None),
        )
        .await;
    }

    // A valid request still works on this stack.
    let r = env
        .send(env.post_raw(
            "/v1/documents",
            t,
            "application/json; charset=utf-8",
            good.to_string().into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

/// A client chooses its JSON keys: as personal data, as a word that reads as a secret, or
/// 70 kB long. None of them reaches the audit log, and each is a 400 with its audit record,
/// never a 503 (issue 12, item 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn client_chosen_keys_never_reach_the_audit_log() {
    let env = Env::start(|_| {}).await;
    let claims = claims_with_portrait(2048);
    let long = "k".repeat(70 * 1024);
    for key in ["passport_AB1234567", "pin", "private_key", long.as_str()] {
        let nonce = env.nonce().await;
        let mut body = env.issue_body(&claims, &nonce, &[device_key()]);
        body[key] = json!(1);
        let before = env.audit().len();
        let r = env
            .send(env.post_json("/v1/documents", Some(&env.token), &body))
            .await;
        let shown = &key[..key.len().min(20)];
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{shown}: {}", r.text());
        let audit = env.audit();
        let record = audit[before..]
            .iter()
            .find(|r| r["event"] == "issuer.refusal")
            .unwrap_or_else(|| panic!("{shown}: no refusal record"));
        assert_eq!(record["details"]["fields"], "1", "{shown}");
        let line = serde_json::to_string(record).unwrap();
        assert!(!line.contains(key), "{shown}: the key is in the audit log");
        assert!(line.len() < 2048, "{shown}: a {} byte record", line.len());
    }
    env.assert_no_personal_data_in_audit(&["AB1234567"]);
}
