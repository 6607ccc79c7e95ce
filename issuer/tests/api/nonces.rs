//! Bad input: nonces (unknown, expired, replayed) and device keys already bound.

use super::*;

// ---------------------------------------------------------------------------------------------
// Bad input: nonces
// ---------------------------------------------------------------------------------------------

/// A nonce minted with this stack's real nonce key at `issued` (for expiry tests).
pub(crate) fn mint_nonce(env: &Env, issued: OffsetDateTime) -> String {
    let raw = std::fs::read_to_string(env.stack.dir.join("DEV-ONLY-server.secret")).unwrap();
    let secret = ServerSecret::new(raw.trim().as_bytes().to_vec()).unwrap();
    let ttl = i64::try_from(env.stack.issuer.config().issuance.nonce_ttl_secs).unwrap();
    Nonces::new(secret.derive(b"pop-nonce"), Duration::seconds(ttl))
        .issue(issued, rand_bytes16())
        .0
}

pub(crate) fn rand_bytes16() -> [u8; 16] {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn bad_nonces_are_refused() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();

    // The minting helper is right: a nonce minted now is accepted.
    let fresh = mint_nonce(&env, now());
    let body = env.issue_body(&claims, &fresh, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let valid = env.nonce().await;
    let mut tampered = b64d(&valid);
    tampered[7] ^= 0x01; // the expiry's last byte
    let foreign = Nonces::new([9; 32], Duration::minutes(5))
        .issue(now(), rand_bytes16())
        .0;
    let cases: Vec<(&str, String)> = vec![
        (
            "expired nonce",
            mint_nonce(&env, now() - Duration::hours(1)),
        ),
        ("forged nonce (random bytes)", b64(&[0x5a; 56])),
        ("garbage nonce", "not-a-nonce".into()),
        ("empty nonce", String::new()),
        ("tampered nonce", b64(&tampered)),
        ("nonce of another issuer", foreign),
        ("oversized nonce", "A".repeat(4096)),
    ];
    for (name, nonce) in cases {
        let body = env.issue_body(&claims, &nonce, &[device_key()]);
        env.refused(
            &mut fails,
            name,
            expect(422, "invalid_nonce", PathExp::Exact("nonce")),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

/// A reused nonce and a device key bound to another document are refused — and refused
/// before the DS signs anything or a status-list index is spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn replayed_nonce_and_bound_device_key_are_refused_before_signing() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let aud = env.aud();

    let k = device_key();
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, std::slice::from_ref(&k));
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first: IssueResponse = serde_json::from_slice(&r.body).unwrap();

    // The same nonce again (a new key and proof over it): a replay.
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "reused nonce",
        expect(422, "invalid_nonce", PathExp::Exact("nonce")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // The same nonce with base64 padding appended: still the same nonce.
    for padded in [format!("{nonce}="), format!("{nonce}==")] {
        let body = env.issue_body(&claims, &padded, &[device_key()]);
        env.refused(
            &mut fails,
            &format!("reused nonce with padding ({} chars)", padded.len()),
            expect(422, "invalid_nonce", PathExp::Exact("nonce")),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }
    // The same nonce on refresh.
    let body = env.refresh_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "reused nonce on refresh",
        expect(422, "invalid_nonce", PathExp::Exact("nonce")),
        env.post_json(
            &format!("/v1/documents/{}/refresh", first.document_id),
            Some(&env.token),
            &body,
        ),
    )
    .await;

    // The first document's device key for a second document.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [{"proof": proof(&k, &aud, &nonce, true)}],
    });
    env.refused(
        &mut fails,
        "device key bound to another document",
        expect(409, "device_key_in_use", PathExp::Prefix("device_keys/0")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // ... also as the second key of a batch.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [
            {"proof": proof(&device_key(), &aud, &nonce, true)},
            {"proof": proof(&k, &aud, &nonce, true)},
        ],
    });
    env.refused(
        &mut fails,
        "bound device key second in a batch",
        expect(409, "device_key_in_use", PathExp::Prefix("device_keys/1")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // The document's own key may be reused when it is refreshed.
    let nonce = env.nonce().await;
    let body = env.refresh_body(&claims, &nonce, std::slice::from_ref(&k));
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", first.document_id),
            Some(&env.token),
            &body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}
