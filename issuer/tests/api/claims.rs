//! Bad input: applicant claims are validated before anything is signed.

use super::*;

// ---------------------------------------------------------------------------------------------
// Bad input: claims
// ---------------------------------------------------------------------------------------------

pub(crate) fn with(claims: &Value, element: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[MDL_NS][element] = value;
    c
}

pub(crate) fn without(claims: &Value, element: &str) -> Value {
    let mut c = claims.clone();
    c[MDL_NS].as_object_mut().unwrap().remove(element);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn claims_are_validated_before_anything_is_signed() {
    let mut env = Env::start(|c| c.issuance.portrait_max_bytes = Some(10_000)).await;
    env.probes = true;
    let good = claims_with_portrait(4 * 1024);
    let mut fails = Vec::new();

    struct Case {
        name: &'static str,
        doctype: &'static str,
        claims: Value,
        exp: Expect,
    }
    let cases = vec![
        Case {
            name: "unknown doctype",
            doctype: "org.example.unknown.1",
            claims: good.clone(),
            exp: expect(422, "unknown_doctype", PathExp::Exact("doctype")),
        },
        Case {
            name: "missing mandatory element",
            doctype: MDL,
            claims: without(&good, "family_name"),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/family_name"),
            )
            .detail("missing_mandatory"),
        },
        Case {
            name: "wrong type (number for a full-date)",
            doctype: MDL,
            claims: with(&good, "birth_date", json!(19900228)),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/birth_date"),
            )
            .detail("wrong_type"),
        },
        Case {
            name: "wrong type (string for a bool)",
            doctype: MDL,
            claims: with(&good, "age_over_18", json!("yes")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/age_over_18"),
            )
            .detail("wrong_type"),
        },
        Case {
            name: "out-of-range value",
            doctype: MDL,
            claims: with(&good, "height", json!(500)),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/height"),
            )
            .detail("out_of_range"),
        },
        Case {
            name: "invalid date",
            doctype: MDL,
            claims: with(&good, "birth_date", json!("1990-02-30")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/birth_date"),
            )
            .detail("invalid_date"),
        },
        Case {
            name: "portrait over issuance.portrait_max_bytes",
            doctype: MDL,
            claims: claims_with_portrait(20 * 1024),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
            )
            .detail("too_large"),
        },
        Case {
            name: "portrait that is not a JPEG",
            doctype: MDL,
            claims: with(&good, "portrait", json!(b64(b"GIF89a not a jpeg at all"))),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
            )
            .detail("not_jpeg"),
        },
        Case {
            name: "unknown element",
            doctype: MDL,
            claims: with(&good, "favourite_colour", json!("blue")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/favourite_colour"),
            )
            .detail("unknown_element"),
        },
        Case {
            name: "unknown namespace",
            doctype: MDL,
            claims: {
                let mut c = good.clone();
                c["org.example.ns"] = json!({"x": 1});
                c
            },
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.example.ns"),
            )
            .detail("unknown_namespace"),
        },
        Case {
            name: "nested field missing",
            doctype: MDL,
            claims: with(
                &good,
                "driving_privileges",
                json!([{"issue_date": "2008-05-01"}]),
            ),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact(
                    "claims/org.iso.18013.5.1/driving_privileges/0/vehicle_category_code",
                ),
            )
            .detail("missing_mandatory"),
        },
        Case {
            name: "claims not an object",
            doctype: MDL,
            claims: json!("Jansen"),
            exp: expect(422, "validation_failed", PathExp::Exact("claims")).detail("wrong_type"),
        },
        Case {
            name: "character outside Latin-1",
            doctype: MDL,
            claims: with(&good, "family_name", json!("Jansen \u{65e5}\u{672c}")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/family_name"),
            )
            .detail("invalid_character"),
        },
        Case {
            name: "issuing_country differs from the DS certificate",
            doctype: MDL,
            claims: with(&good, "issuing_country", json!("DE")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/issuing_country"),
            )
            .detail("ds_mismatch"),
        },
    ];
    for case in cases {
        let nonce = env.nonce().await;
        let mut body = env.issue_body(&case.claims, &nonce, &[device_key()]);
        body["doctype"] = json!(case.doctype);
        env.refused(
            &mut fails,
            case.name,
            case.exp,
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }

    // Every problem is listed, not just the first.
    let nonce = env.nonce().await;
    let claims = with(&without(&good, "family_name"), "height", json!(0));
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let r = env
        .refused(
            &mut fails,
            "two problems at once",
            expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/height"),
            ),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    let n = r.json()["error"]["details"].as_array().map_or(0, Vec::len);
    if n != 2 {
        fails.push(format!("[two problems at once] {n} details, expected 2"));
    }

    // A refusal consumes nothing: the nonce of a refused request still works.
    let nonce = env.nonce().await;
    let bad = env.issue_body(&without(&good, "portrait"), &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "missing portrait",
        expect(
            422,
            "validation_failed",
            PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
        ),
        env.post_json("/v1/documents", Some(&env.token), &bad),
    )
    .await;
    let ok = env.issue_body(&good, &nonce, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &ok))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}
