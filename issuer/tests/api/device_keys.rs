//! Bad input: device keys and proofs of possession are checked before anything is signed.

use super::*;

// ---------------------------------------------------------------------------------------------
// Bad input: device keys and proofs
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn device_keys_and_proofs_are_checked_before_anything_is_signed() {
    let mut env = Env::start(|c| c.issuance.max_batch = 3).await;
    env.probes = true;
    let aud = env.aud();
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let a = device_key();
    let b = device_key();
    let pa = public(&a);
    let (ox, oy) = off_curve(&pa);

    type Build = Box<dyn Fn(&str) -> Value>;
    let cases: Vec<(&str, Build, Expect)> = vec![
        (
            "COSE_Key that is not CBOR",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"cose_key": b64(b"\xff\xfe not cbor"), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key that is not base64url",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"cose_key": "!!not base64!!", "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key with the private key (d)",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    json!([{
                        "cose_key": cose_key_b64(&pa, &[(-4, Cbor::Bytes(vec![7; 32]))]),
                        "proof": proof(&a, &aud, n, false)
                    }])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key with an off-curve point",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let (ox, oy) = (ox.clone(), oy.clone());
                move |n: &str| json!([{"cose_key": cose_key_xy(&ox, &oy, &[]), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "JWK with the private key (d)",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let mut jwk = to_jwk(&pa);
                    jwk["d"] = json!(b64(&[7; 32]));
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "JWK with an off-curve point",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let (ox, oy) = (ox.clone(), oy.clone());
                move |n: &str| {
                    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&ox), "y": b64(&oy)});
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "JWK on an unsupported curve",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let mut jwk = to_jwk(&pa);
                    jwk["crv"] = json!("secp256k1");
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "both cose_key and jwk",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "jwk": to_jwk(&pa), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/0/")),
        ),
        (
            "no key anywhere",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": proof(&a, &aud, n, false)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/0")),
        ),
        (
            "proof signed by another key",
            (Box::new({
                let b = b.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&b, &aud, n, false)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof whose jwk header is another key",
            (Box::new({
                let b = b.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&b, &aud, n, true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof over another nonce",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |_: &str| json!([{"proof": proof(&a, &aud, "c29tZSBvdGhlciBub25jZQ", true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof for another audience",
            (Box::new({
                let a = a.clone();
                move |n: &str| json!([{"proof": proof(&a, "https://other-issuer.example", n, true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with the wrong typ",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h = json!({"typ": "JWT", "alg": "ES256", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    json!([{"proof": jws(&a, &h, &c)}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with alg none",
            (Box::new({
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h =
                        json!({"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    let unsigned = format!(
                        "{}.{}.",
                        b64(h.to_string().as_bytes()),
                        b64(c.to_string().as_bytes())
                    );
                    json!([{"proof": unsigned}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with an alg that does not match the key",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h =
                        json!({"typ": "openid4vci-proof+jwt", "alg": "ES384", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    json!([{"proof": jws(&a, &h, &c)}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof issued an hour ago",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": make_proof(&a, &aud, n, now() - Duration::hours(1), true).unwrap()}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof issued in the future",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": make_proof(&a, &aud, n, now() + Duration::hours(1), true).unwrap()}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof that is not a JWS",
            (Box::new(|_: &str| json!([{"proof": "not-a-jws"}]))),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with a corrupted signature",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| {
                    let p = proof(&a, &aud, n, true);
                    let (head, sig) = p.rsplit_once('.').unwrap();
                    let mut s = b64d(sig);
                    s[0] ^= 0x80;
                    json!([{"proof": format!("{head}.{}", b64(&s))}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "second key of a batch with a bad proof",
            (Box::new({
                let a = a.clone();
                let b = b.clone();
                let aud = aud.clone();
                move |n: &str| {
                    json!([
                        {"proof": proof(&a, &aud, n, true)},
                        {"proof": proof(&b, "https://other-issuer.example", n, true)}
                    ])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/1/proof")),
        ),
        (
            "the same key twice in a batch",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": proof(&a, &aud, n, true)}, {"proof": proof(&a, &aud, n, true)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/1")),
        ),
        (
            "batch larger than issuance.max_batch",
            (Box::new({
                let aud = aud.clone();
                move |n: &str| {
                    let keys: Vec<Value> = (0..4)
                        .map(|_| json!({"proof": proof(&device_key(), &aud, n, true)}))
                        .collect();
                    json!(keys)
                }
            })),
            expect(422, "invalid_device_key", PathExp::Exact("device_keys")).detail("batch_size"),
        ),
        (
            "empty batch",
            (Box::new(|_: &str| json!([]))),
            expect(422, "invalid_device_key", PathExp::Exact("device_keys")).detail("batch_size"),
        ),
    ];
    for (name, build, exp) in &cases {
        let nonce = env.nonce().await;
        let body = json!({
            "doctype": MDL,
            "claims": claims,
            "nonce": nonce,
            "device_keys": build(&nonce),
        });
        env.refused(
            &mut fails,
            name,
            *exp,
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }

    // Positive controls: a COSE_Key or a JWK with a proof without a jwk header are accepted.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [
            {"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&a, &aud, &nonce, false)},
            {"jwk": to_jwk(&public(&b)), "proof": proof(&b, &aud, &nonce, false)},
        ],
    });
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let doc: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        doc.credentials[0].identifier_list.id,
        b64(&cose_key_thumbprint(&pa))
    );
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}
