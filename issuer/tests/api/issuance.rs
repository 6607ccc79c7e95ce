//! The happy path and idempotency, on SQLite and on PostgreSQL.

use super::*;

// ---------------------------------------------------------------------------------------------
// Happy path and idempotency (run on SQLite and on PostgreSQL)
// ---------------------------------------------------------------------------------------------

/// nonce → issue → verify → batch → refresh → lists → revoke → lists show it → refresh refused.
pub(crate) async fn happy_path(env: &Env) {
    let base = env.stack.base_url.clone();
    let start = env.counts().await;

    // A nonce.
    let r = env
        .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&env.token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let n = r.json();
    let nonce = n["nonce"].as_str().unwrap().to_owned();
    let expires = OffsetDateTime::parse(n["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(expires > now());

    // One mDL, one device key.
    let k1 = device_key();
    let body = env.issue_body(&sample::mdl_claims(), &nonce, std::slice::from_ref(&k1));
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("idempotent-replayed"), None);
    let doc1: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc1.doctype, MDL);
    assert_eq!(doc1.document_id.len(), 32);
    assert_eq!(doc1.credentials.len(), 1);
    let cred1 = &doc1.credentials[0];
    let issued1 = check_credential(env, cred1, &public(&k1));
    let idx1 = cred1.status_list.idx;
    let list_uri = cred1.status_list.uri.clone();
    let ds_serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    assert_eq!(cred1.ds_serial, ds_serial);
    assert!(cred1.expected_update.is_some());

    // What was stored: the document, its MSO, the binding, the nonce — no personal data.
    let id1 = DocumentId::from_hex(&doc1.document_id).unwrap();
    let store = env.stack.issuer.store();
    let stored = store.get_document(id1).await.unwrap();
    assert_eq!(stored.doctype, MDL);
    assert_eq!(stored.state, DocumentState::Active);
    let msos = store.msos_of(id1).await.unwrap();
    assert_eq!(msos.len(), 1);
    assert_eq!(msos[0].record.status_index, idx1);
    assert_eq!(msos[0].record.status_list_uri, list_uri);
    assert_eq!(
        msos[0].record.device_key_thumbprint,
        cose_key_thumbprint(&public(&k1))
    );
    let c = env.counts().await;
    assert_eq!(c.documents, start.documents + 1);
    assert_eq!(c.msos, start.msos + 1);
    assert_eq!(c.device_keys, start.device_keys + 1);
    assert_eq!(c.used_nonces, start.used_nonces + 1);
    assert!(
        c.indices > start.indices,
        "a block of status-list indices was reserved"
    );
    assert_eq!(c.idempotency, start.idempotency);

    // A batch of three keys: three MSOs, independent salts and digests, distinct indices.
    let batch_keys = [device_key(), device_key(), device_key()];
    let doc2 = env.issue(&sample::mdl_claims(), &batch_keys).await;
    assert_eq!(doc2.credentials.len(), 3);
    assert_ne!(doc2.document_id, doc1.document_id);
    let issued2: Vec<IssuerSigned> = doc2
        .credentials
        .iter()
        .zip(&batch_keys)
        .map(|(c, k)| check_credential(env, c, &public(k)))
        .collect();
    let idx2: Vec<u64> = doc2.credentials.iter().map(|c| c.status_list.idx).collect();
    let mut all_idx: BTreeSet<u64> = idx2.iter().copied().collect();
    all_idx.insert(idx1);
    assert_eq!(
        all_idx.len(),
        4,
        "distinct status indices {idx2:?} and {idx1}"
    );
    let refs: Vec<&IssuerSigned> = issued2.iter().chain([&issued1]).collect();
    let (salts, digests) = salts_and_digests(&refs);
    assert_eq!(salts.len(), 4 * 12);
    assert!(all_distinct(&salts), "salts repeat across MSOs");
    assert!(all_distinct(&digests), "digests repeat across MSOs");
    let ids: BTreeSet<_> = doc2
        .credentials
        .iter()
        .map(|c| c.identifier_list.id.clone())
        .collect();
    assert_eq!(ids.len(), 3);

    // The document view: state and MSO references, no personal data.
    let r = env
        .send(env.get(
            &format!("/v1/documents/{}", doc2.document_id),
            Some(&env.token),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let view = r.json();
    assert_eq!(view["document_id"], doc2.document_id.as_str());
    assert_eq!(view["doctype"], MDL);
    assert_eq!(view["state"], "active");
    assert!(view.get("revoked_at").is_none());
    let vm = view["msos"].as_array().unwrap();
    assert_eq!(vm.len(), 3);
    for (m, c) in vm.iter().zip(&doc2.credentials) {
        assert_eq!(m["status_list"]["idx"], json!(c.status_list.idx));
        assert_eq!(m["status_list"]["uri"], c.status_list.uri.as_str());
        assert_eq!(
            m["identifier_list"]["id"],
            json!(c.identifier_list.id.clone())
        );
        assert_eq!(m["ds_serial"], ds_serial.as_str());
        assert_eq!(m["revoked"], false);
        assert_eq!(m["valid_until"], c.valid_until.as_str());
    }
    for p in PERSONAL {
        assert!(!r.text().contains(p));
    }

    // Refresh document 1: new MSOs (same key and a new one), new salts, new indices.
    let k4 = device_key();
    let nonce = env.nonce().await;
    let refresh_keys = [k1.clone(), k4.clone()];
    let body = env.refresh_body(&sample::mdl_claims(), &nonce, &refresh_keys);
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", doc1.document_id),
            Some(&env.token),
            &body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);
    let refreshed: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(refreshed.document_id, doc1.document_id);
    assert_eq!(refreshed.doctype, MDL);
    assert_eq!(refreshed.credentials.len(), 2);
    let issued3: Vec<IssuerSigned> = refreshed
        .credentials
        .iter()
        .zip(&refresh_keys)
        .map(|(c, k)| check_credential(env, c, &public(k)))
        .collect();
    let idx3: Vec<u64> = refreshed
        .credentials
        .iter()
        .map(|c| c.status_list.idx)
        .collect();
    for i in &idx3 {
        assert!(all_idx.insert(*i), "refresh reused status index {i}");
    }
    let refs: Vec<&IssuerSigned> = issued3.iter().chain([&issued1]).collect();
    let (salts, _) = salts_and_digests(&refs);
    assert!(all_distinct(&salts), "refreshed MSOs reuse salts");
    assert_ne!(
        refreshed.credentials[0].issuer_signed, cred1.issuer_signed,
        "a refresh signs a new MSO"
    );
    assert_eq!(store.msos_of(id1).await.unwrap().len(), 3);

    // The status list before revocation: everything valid; caching headers; 304.
    assert!(list_uri.starts_with(&base));
    let list_path = list_uri.strip_prefix(&base).unwrap().to_owned();
    let r = env.send(env.get(&list_path, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/statuslist+cwt")
    );
    let etag_before = r.header("etag").expect("ETag");
    assert_eq!(
        etag_before,
        format!("\"{}\"", hex::encode(Sha256::digest(&r.body)))
    );
    let cc = r.header("cache-control").expect("Cache-Control");
    assert!(cc.starts_with("public, max-age="), "{cc}");
    let max_age: u64 = cc.trim_start_matches("public, max-age=").parse().unwrap();
    assert!(max_age <= 300, "{cc}");
    assert!(r.header("last-modified").is_some());
    let anchors = iaca_anchors(env);
    let list =
        StatusListToken::verify(&r.body, &list_uri, now(), &anchors, &SoftwareVerifier).unwrap();
    for i in &all_idx {
        assert_eq!(list.status(*i).unwrap(), mso::status::Status::Valid, "{i}");
    }
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_before),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(etag_before.as_str()));
    assert!(r.header("cache-control").is_some());

    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let id_etag_before = r.header("etag").expect("ETag");
    let ids = IdentifierListToken::verify(
        &r.body,
        &format!("{base}/v1/identifier-list"),
        now(),
        &anchors,
        &SoftwareVerifier,
    )
    .unwrap();
    assert!(!ids.contains(&cose_key_thumbprint(&public(&k1))));

    // Revoke document 1 (all three of its MSOs).
    let revoke_path = format!("/v1/documents/{}/revoke", doc1.document_id);
    let r = env
        .send(env.post_json(
            &revoke_path,
            Some(&env.token),
            &json!({"reason": "key_compromise"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"document_id": doc1.document_id.as_str(), "state": "revoked", "changed": true})
    );
    // Again: idempotent, nothing changes, the first reason stays.
    let r = env
        .send(env.post_json(
            &revoke_path,
            Some(&env.token),
            &json!({"reason": "superseded"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["changed"], false);
    let stored = store.get_document(id1).await.unwrap();
    assert_eq!(stored.state, DocumentState::Revoked);
    assert_eq!(
        stored.revocation_reason,
        Some(RevocationReason::KeyCompromise)
    );

    // The status list shows document 1's indices revoked, document 2's valid.
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_before),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a revocation changes the list");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/statuslist+cwt")
    );
    let etag_after = r.header("etag").unwrap();
    assert_ne!(etag_after, etag_before);
    let list =
        StatusListToken::verify(&r.body, &list_uri, now(), &anchors, &SoftwareVerifier).unwrap();
    for i in std::iter::once(idx1).chain(idx3.iter().copied()) {
        assert_eq!(list.status(i).unwrap(), mso::status::Status::Invalid, "{i}");
    }
    for i in &idx2 {
        assert_eq!(list.status(*i).unwrap(), mso::status::Status::Valid, "{i}");
    }
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_after),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // The identifier list names document 1's device keys, not document 2's.
    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/identifierlist+cwt")
    );
    let id_etag = r.header("etag").expect("ETag");
    assert_ne!(id_etag, id_etag_before);
    assert!(r
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public, max-age=")));
    let ids = IdentifierListToken::verify(
        &r.body,
        &format!("{base}/v1/identifier-list"),
        now(),
        &anchors,
        &SoftwareVerifier,
    )
    .unwrap();
    assert!(ids.contains(&cose_key_thumbprint(&public(&k1))));
    assert!(ids.contains(&cose_key_thumbprint(&public(&k4))));
    for k in &batch_keys {
        assert!(!ids.contains(&cose_key_thumbprint(&public(k))));
    }
    let r = env
        .send(
            env.get("/v1/identifier-list", None)
                .header("if-none-match", &id_etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // The document view says revoked.
    let r = env
        .send(env.get(
            &format!("/v1/documents/{}", doc1.document_id),
            Some(&env.token),
        ))
        .await;
    let view = r.json();
    assert_eq!(view["state"], "revoked");
    assert_eq!(view["revocation_reason"], "key_compromise");
    assert!(view["revoked_at"].is_string());
    assert_eq!(view["msos"].as_array().unwrap().len(), 3);
    assert!(view["msos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["revoked"] == true));

    // A revoked document cannot be refreshed.
    let mut fails = Vec::new();
    let nonce = env.nonce().await;
    let body = env.refresh_body(&sample::mdl_claims(), &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "refresh of a revoked document",
        expect(409, "document_revoked", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc1.document_id),
            Some(&env.token),
            &body,
        ),
    )
    .await;
    finish(fails);

    // Metrics count what was signed.
    let r = env.send(env.get("/metrics", None)).await;
    let m = r.text();
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_msos_signed_total",
            &["operation=\"issue\"", MDL]
        ),
        Some(4.0)
    );
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_msos_signed_total",
            &["operation=\"refresh\""]
        ),
        Some(2.0)
    );

    // The audit log recorded the operations, and no personal data.
    let audit = env.audit();
    let count = |event: &str| {
        audit
            .iter()
            .filter(|r| r["event"] == event && r["result"] == "success")
            .count()
    };
    assert_eq!(count("issuer.issue"), 2);
    assert_eq!(count("issuer.refresh"), 1);
    assert_eq!(count("issuer.revoke"), 2);
    env.assert_no_personal_data_in_audit(&[]);
}

/// Same key + same body → same bytes, replay header, one document; same key + other body →
/// 409; concurrent identical requests → one document.
pub(crate) async fn idempotency(env: &Env) {
    let idem = format!("idem-{}", hex::encode(rand_bytes()));
    let k = device_key();
    let nonce = env.nonce().await;
    let body = env.issue_body(&sample::mdl_claims(), &nonce, std::slice::from_ref(&k));
    let send = || {
        env.post_json("/v1/documents", Some(&env.token), &body)
            .header("Idempotency-Key", &idem)
    };
    let before = env.counts().await;
    let first = env.send(send()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = env.send(send()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(second.body, first.body, "a replay returns the same bytes");
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/json")
    );
    let after = env.counts().await;
    assert_eq!(after.documents, before.documents + 1, "one document");
    assert_eq!(after.msos, before.msos + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);
    assert_eq!(after.idempotency, before.idempotency + 1);
    let doc: IssueResponse = serde_json::from_slice(&first.body).unwrap();
    // The replay took no status-list index (so nothing was signed): the next issuance gets
    // the index right after the first attempt's.
    let first_idx = doc.credentials[0].status_list.idx;
    let next = env.probe().await;
    assert_eq!(
        next,
        (doc.credentials[0].status_list.uri.clone(), first_idx + 1),
        "a replay signs nothing"
    );
    check_credential(env, &doc.credentials[0], &public(&k));

    // Stored responses hold personal data (the credential), so they are stored sealed: no
    // stored response is readable JSON, and the database has no applicant data in clear.
    let stored: Vec<Vec<u8>> = match &env.db {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT response_body FROM idempotency")
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Pg(p) => sqlx::query_scalar("SELECT response_body FROM idempotency")
            .fetch_all(p)
            .await
            .unwrap(),
    };
    assert!(!stored.is_empty());
    for body in &stored {
        assert!(
            serde_json::from_slice::<Value>(body).is_err(),
            "a stored response is in clear"
        );
        assert!(!contains(body, b"issuer_signed"));
        assert!(!contains(body, doc.document_id.as_bytes()));
    }
    if let Db::Sqlite(_) = env.db {
        for file in ["issuer.sqlite", "issuer.sqlite-wal"] {
            if let Ok(bytes) = std::fs::read(env.stack.dir.join(file)) {
                for p in PERSONAL.iter().chain(&["issuer_signed"]) {
                    assert!(!contains(&bytes, p.as_bytes()), "{file} contains {p:?}");
                }
            }
        }
    }

    // A refused request does not claim its Idempotency-Key: the corrected retry is served.
    let idem_retry = format!("idem-{}", hex::encode(rand_bytes()));
    let nonce_r = env.nonce().await;
    let bad = env.issue_body(
        &without(&sample::mdl_claims(), "portrait"),
        &nonce_r,
        &[device_key()],
    );
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&env.token), &bad)
                .header("Idempotency-Key", &idem_retry),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let fixed = env.issue_body(&sample::mdl_claims(), &nonce_r, &[device_key()]);
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&env.token), &fixed)
                .header("Idempotency-Key", &idem_retry),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);

    // Same key, different body: 409, nothing done.
    let mut fails = Vec::new();
    let nonce2 = env.nonce().await;
    let other = env.issue_body(&sample::mdl_claims(), &nonce2, &[device_key()]);
    env.refused(
        &mut fails,
        "same Idempotency-Key, different body",
        expect(409, "idempotency_conflict", PathExp::None),
        env.post_json("/v1/documents", Some(&env.token), &other)
            .header("Idempotency-Key", &idem),
    )
    .await;
    // The same key on another route is another request too.
    let nonce3 = env.nonce().await;
    let refresh = env.refresh_body(&sample::mdl_claims(), &nonce3, &[device_key()]);
    env.refused(
        &mut fails,
        "same Idempotency-Key on refresh",
        expect(409, "idempotency_conflict", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc.document_id),
            Some(&env.token),
            &refresh,
        )
        .header("Idempotency-Key", &idem),
    )
    .await;
    finish(fails);
    // The key belongs to its client: another client may use the same key.
    let other_client = env.client("other-portal", &[Scope::Issue]).await;
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&other_client), &other)
                .header("Idempotency-Key", &idem),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);

    // Eight identical requests at once: one document, eight identical answers.
    let idem = format!("idem-{}", hex::encode(rand_bytes()));
    let nonce = env.nonce().await;
    let body = env
        .issue_body(&sample::mdl_claims(), &nonce, &[device_key()])
        .to_string();
    let before = env.counts().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let rb = env
            .post_raw(
                "/v1/documents",
                Some(&env.token),
                "application/json",
                body.clone().into_bytes(),
            )
            .header("Idempotency-Key", &idem);
        set.spawn(async move {
            let r = rb.send().await.unwrap();
            let status = r.status();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (status, replayed, r.bytes().await.unwrap().to_vec())
        });
    }
    let results = set.join_all().await;
    let bodies: BTreeSet<&Vec<u8>> = results.iter().map(|r| &r.2).collect();
    for (status, _, b) in &results {
        assert_eq!(
            *status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(b)
        );
    }
    assert_eq!(bodies.len(), 1, "every answer is the same bytes");
    assert_eq!(
        results.iter().filter(|r| !r.1).count(),
        1,
        "exactly one answer is the original, the rest are replays"
    );
    let after = env.counts().await;
    assert_eq!(
        after.documents,
        before.documents + 1,
        "exactly one document"
    );
    assert_eq!(after.msos, before.msos + 1);
    assert_eq!(after.idempotency, before.idempotency + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);

    // Eight identical requests without a key share one nonce: exactly one wins.
    let nonce = env.nonce().await;
    let body = env
        .issue_body(&sample::mdl_claims(), &nonce, &[device_key()])
        .to_string();
    let before = env.counts().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let rb = env.post_raw(
            "/v1/documents",
            Some(&env.token),
            "application/json",
            body.clone().into_bytes(),
        );
        set.spawn(async move {
            let r = rb.send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body)
        });
    }
    let results = set.join_all().await;
    let won = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .count();
    assert_eq!(won, 1, "{results:?}");
    for (status, body) in results.iter().filter(|r| r.0 != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "invalid_nonce");
    }
    let after = env.counts().await;
    assert_eq!(after.documents, before.documents + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);
    env.assert_no_personal_data_in_audit(&[]);
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) fn rand_bytes() -> [u8; 12] {
    use rand_core::RngCore;
    let mut b = [0u8; 12];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn happy_path_sqlite() {
    let env = Env::start(|_| {}).await;
    happy_path(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn idempotency_sqlite() {
    let env = Env::start(|_| {}).await;
    idempotency(&env).await;
}

/// The happy path and the idempotency checks against PostgreSQL, in a fresh schema that is
/// dropped afterwards. A missing server fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn happy_path_and_idempotency_postgres() {
    let pg = PgSchema::create().await;
    let url = pg.url.clone();
    let result = tokio::spawn(async move {
        let env = Env::start_on(Some(url), |_| {}).await;
        assert_eq!(
            env.stack.issuer.store().backend(),
            mdoc_issuer::store::Backend::Postgres
        );
        happy_path(&env).await;
        idempotency(&env).await;
        env.db.close().await;
        env.stack.stop().await.unwrap();
    })
    .await;
    pg.drop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
