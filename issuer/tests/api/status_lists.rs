//! Status lists filling up and rolling over.

use super::*;

// ---------------------------------------------------------------------------------------------
// Status lists filling up
// ---------------------------------------------------------------------------------------------

/// When a status list is full, new MSOs go to the next list; both lists are served and show
/// their own revocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn full_status_lists_roll_over_to_the_next_list() {
    let env = Env::start(|c| c.status.list_size = 4).await;
    let claims = claims_with_portrait(2048);
    let base = env.stack.base_url.clone();
    let keys_a = [device_key(), device_key(), device_key()];
    let keys_b = [device_key(), device_key(), device_key()];
    let a = env.issue(&claims, &keys_a).await;
    let b = env.issue(&claims, &keys_b).await;
    let c = env.issue(&claims, &[device_key()]).await;
    let list = |n: u64| format!("{base}/v1/status-lists/{n}");
    for (cred, k) in a.credentials.iter().zip(&keys_a) {
        check_credential(&env, cred, &public(k));
        assert_eq!(cred.status_list.uri, list(1));
    }
    for (cred, k) in b.credentials.iter().zip(&keys_b) {
        check_credential(&env, cred, &public(k));
        assert_eq!(cred.status_list.uri, list(2), "a batch stays in one list");
    }
    assert_eq!(c.credentials[0].status_list.uri, list(2));
    let idx = |d: &IssueResponse| -> Vec<u64> {
        d.credentials.iter().map(|c| c.status_list.idx).collect()
    };
    assert_eq!(idx(&a), vec![0, 1, 2]);
    assert_eq!(idx(&b), vec![0, 1, 2]);
    assert_eq!(idx(&c), vec![3]);

    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/revoke", b.document_id),
            Some(&env.token),
            &json!({"reason": "holder_request"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let anchors = iaca_anchors(&env);
    let r1 = env.send(env.get("/v1/status-lists/1", None)).await;
    assert_eq!(r1.status, StatusCode::OK);
    let l1 =
        StatusListToken::verify(&r1.body, &list(1), now(), &anchors, &SoftwareVerifier).unwrap();
    let r2 = env.send(env.get("/v1/status-lists/2", None)).await;
    assert_eq!(r2.status, StatusCode::OK);
    let l2 =
        StatusListToken::verify(&r2.body, &list(2), now(), &anchors, &SoftwareVerifier).unwrap();
    for i in 0..3 {
        assert_eq!(l1.status(i).unwrap(), mso::status::Status::Valid);
        assert_eq!(l2.status(i).unwrap(), mso::status::Status::Invalid);
    }
    assert_eq!(l2.status(3).unwrap(), mso::status::Status::Valid);
    let r3 = env.send(env.get("/v1/status-lists/3", None)).await;
    assert_eq!(r3.status, StatusCode::NOT_FOUND);
}

/// A batch with more keys than a status list has entries can never be placed. The
/// configuration check must refuse such a configuration, and a service started with it anyway
/// (DevStack does not run the check) must answer with an error — not loop over ever-new lists
/// until the request times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn batch_larger_than_a_status_list_is_refused() {
    let tweak = |c: &mut ServiceConfig| {
        c.status.list_size = 2;
        c.issuance.max_batch = 3;
        c.server.request_timeout_secs = 3;
    };
    let mut fails = Vec::new();
    let mut config = ServiceConfig::default();
    tweak(&mut config);
    if config.check().is_ok() {
        fails.push(
            "ServiceConfig::check accepts status.list_size (2) < issuance.max_batch (3)".into(),
        );
    }

    let env = Env::start(tweak).await;
    let claims = claims_with_portrait(2048);
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key(), device_key(), device_key()]);
    let before = env.counts().await;
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    let code = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
    let answered = matches!(
        (r.status.as_u16(), code.as_deref()),
        (422, Some("invalid_device_key")) | (500, Some("internal_error"))
    );
    if !answered {
        fails.push(format!(
            "3 keys, lists of 2 entries: {} {:?} (expected a JSON 422 invalid_device_key or \
             500 internal_error)",
            r.status,
            r.text()
        ));
    }
    let after = env.counts().await;
    if after.documents != before.documents {
        fails.push("a document was issued".into());
    }
    let lists = env.stack.issuer.store().status_lists().await.unwrap().len();
    if lists > 1 {
        fails.push(format!("the refused batch created {lists} status lists"));
    }
    finish(fails);
}
