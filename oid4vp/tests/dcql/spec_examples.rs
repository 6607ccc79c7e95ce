//! The DCQL examples of OpenID4VP 1.0 (§6 and Appendix D, `1.0/examples/query_lang/` of
//! openid/OpenID4VP) with the outcomes the specification's prose gives them. The two examples
//! written for SD-JWT VC (`claims_alternatives`, `value_matching_simple`) are also run as mdoc
//! translations (`*_mdoc.json`, same structure, mdoc paths).

use mdoc_oid4vp::dcql::{ClaimProblem, DcqlQuery, Unsatisfiable, MSO_MDOC};
use serde_json::json;

use crate::{candidate, mdl, triples, MDL, MDL_NS};

fn fixture(name: &str) -> DcqlQuery {
    let bytes = match name {
        "simple_mdoc" => include_str!("fixtures/simple_mdoc.json"),
        "complex_mdoc" => include_str!("fixtures/complex_mdoc.json"),
        "multi_credentials" => include_str!("fixtures/multi_credentials.json"),
        "credentials_alternatives" => include_str!("fixtures/credentials_alternatives.json"),
        "claims_alternatives" => include_str!("fixtures/claims_alternatives.json"),
        "value_matching_simple" => include_str!("fixtures/value_matching_simple.json"),
        "claims_alternatives_mdoc" => include_str!("fixtures/claims_alternatives_mdoc.json"),
        "value_matching_mdoc" => include_str!("fixtures/value_matching_mdoc.json"),
        _ => unreachable!(),
    };
    DcqlQuery::parse(bytes.as_bytes()).unwrap()
}

#[test]
fn every_example_parses_and_round_trips() {
    for name in [
        "simple_mdoc",
        "complex_mdoc",
        "multi_credentials",
        "credentials_alternatives",
        "claims_alternatives",
        "value_matching_simple",
        "claims_alternatives_mdoc",
        "value_matching_mdoc",
    ] {
        let query = fixture(name);
        let again = DcqlQuery::parse(query.to_json().unwrap().as_bytes()).unwrap();
        assert_eq!(again, query, "{name}");
    }
}

#[test]
fn simple_mdoc_asks_two_elements_of_two_namespaces() {
    let query = fixture("simple_mdoc");
    let mvrc = candidate(
        "car",
        "org.iso.7367.1.mVRC",
        &[
            ("org.iso.7367.1", "vehicle_holder", Some(json!("Erika"))),
            (
                "org.iso.7367.1",
                "registration_number",
                Some(json!("B-X 1")),
            ),
            (MDL_NS, "given_name", Some(json!("Erika"))),
        ],
    );
    let found = query.evaluate(&[mvrc, mdl("licence", &[("given_name", json!("Erika"))])]);
    assert!(found.satisfiable);
    let q = found.query("my_credential").unwrap();
    assert_eq!(q.candidates.len(), 1);
    assert_eq!(q.candidates[0].handle, "car");
    assert_eq!(
        triples(&q.candidates[0].disclose),
        [
            ("org.iso.7367.1", "vehicle_holder", false),
            (MDL_NS, "given_name", false)
        ]
    );
}

#[test]
fn complex_mdoc_needs_an_id_from_either_document_and_the_address_is_optional() {
    let query = fixture("complex_mdoc");
    let full = [
        ("given_name", json!("A")),
        ("family_name", json!("B")),
        ("portrait", json!("AAAA")),
    ];
    // An mDL with the identity claims but no address: the required set is met by its first
    // option, the optional address set by nothing, and that is still a valid answer.
    let found = query.evaluate(&[mdl("mdl", &full)]);
    assert!(found.satisfiable);
    assert_eq!(found.sets[0].satisfiable_options, [0]);
    assert!(found.sets[1].satisfiable_options.is_empty());
    assert!(!found.sets[1].required);
    assert!(matches!(
        found.query("mdl-address").unwrap().unsatisfiable,
        Some(Unsatisfiable::ClaimsNotSatisfied { .. })
    ));
    assert!(matches!(
        found.query("photo_card-id").unwrap().unsatisfiable,
        Some(Unsatisfiable::NoCredentialOfDoctype { ref doctype }) if doctype == "org.iso.23220.photoid.1"
    ));

    // Only a photo ID: the second option of each set.
    let photo = candidate(
        "photo",
        "org.iso.23220.photoid.1",
        &[
            (MDL_NS, "given_name", Some(json!("A"))),
            (MDL_NS, "family_name", Some(json!("B"))),
            (MDL_NS, "portrait", None),
            (MDL_NS, "resident_address", Some(json!("1 Street"))),
            (MDL_NS, "resident_country", Some(json!("JP"))),
        ],
    );
    let found = query.evaluate(&[photo]);
    assert!(found.satisfiable);
    assert_eq!(found.sets[0].satisfiable_options, [1]);
    assert_eq!(found.sets[1].satisfiable_options, [1]);

    // No identity document at all: the required set fails, so nothing may be returned.
    let found = query.evaluate(&[mdl("mdl", &[("given_name", json!("A"))])]);
    assert!(!found.satisfiable);
}

#[test]
fn multi_credentials_requires_both_and_the_sd_jwt_one_is_unsupported() {
    let query = fixture("multi_credentials");
    let mvrc = candidate(
        "car",
        "org.iso.7367.1.mVRC",
        &[
            ("org.iso.7367.1", "vehicle_holder", Some(json!("E"))),
            (MDL_NS, "given_name", Some(json!("E"))),
        ],
    );
    let found = query.evaluate(&[mvrc]);
    // Without credential_sets every credential query is required, and this wallet presents no
    // SD-JWT VC, so the query cannot be answered, although the mdoc part matches.
    assert!(!found.satisfiable);
    assert_eq!(
        found.query("pid").unwrap().unsatisfiable,
        Some(Unsatisfiable::UnsupportedFormat {
            format: "dc+sd-jwt".into()
        })
    );
    assert_eq!(found.query("mdl").unwrap().candidates.len(), 1);
    assert_eq!(query.credentials[1].format, MSO_MDOC);
}

#[test]
fn credentials_alternatives_is_valid_but_unanswerable_by_an_mdoc_wallet() {
    let query = fixture("credentials_alternatives");
    let found = query.evaluate(&[mdl("mdl", &[("given_name", json!("A"))])]);
    assert!(!found.satisfiable);
    assert!(found.sets[0].required && found.sets[0].satisfiable_options.is_empty());
    assert!(!found.sets[1].required);
}

#[test]
fn claims_alternatives_prefer_city_and_state_and_fall_back_to_postal_code() {
    let query = fixture("claims_alternatives_mdoc");
    let pid = "eu.europa.ec.eudi.pid.1";
    let person = |extra: &[(&str, &str)]| {
        let mut elements = vec![
            (pid, "family_name", Some(json!("D"))),
            (pid, "birth_date", Some(json!("1990-01-01"))),
        ];
        elements.extend(extra.iter().map(|(e, v)| (pid, *e, Some(json!(v)))));
        candidate("pid", pid, &elements)
    };
    // Both options satisfiable: the first (the verifier's preference) is chosen.
    let all = person(&[
        ("resident_postal_code", "1"),
        ("resident_city", "C"),
        ("resident_state", "S"),
    ]);
    let m = &query.evaluate(&[all]).queries[0].candidates[0];
    assert_eq!(m.claim_set, Some(0));
    assert_eq!(
        triples(&m.disclose),
        [
            (pid, "family_name", false),
            (pid, "resident_city", false),
            (pid, "resident_state", false),
            (pid, "birth_date", false)
        ]
    );
    // Only the postal code: the second option, and the city/state are not disclosed.
    let postal = person(&[("resident_postal_code", "1"), ("resident_city", "C")]);
    let m = &query.evaluate(&[postal]).queries[0].candidates[0];
    assert_eq!(m.claim_set, Some(1));
    assert_eq!(
        triples(&m.disclose),
        [
            (pid, "family_name", false),
            (pid, "resident_postal_code", false),
            (pid, "birth_date", false)
        ]
    );
    // Neither: unsatisfiable, naming what is missing.
    let found = query.evaluate(&[person(&[("resident_city", "C")])]);
    let Some(Unsatisfiable::ClaimsNotSatisfied { rejected }) = &found.queries[0].unsatisfiable
    else {
        panic!("{found:?}")
    };
    assert_eq!(
        rejected[0].problems,
        [
            ClaimProblem::Missing {
                namespace: pid.into(),
                element: "resident_postal_code".into()
            },
            ClaimProblem::Missing {
                namespace: pid.into(),
                element: "resident_state".into()
            },
        ]
    );
}

#[test]
fn value_matching_returns_the_credential_only_when_the_values_match() {
    let query = fixture("value_matching_mdoc");
    let holder = |family: &str, postal: serde_json::Value| {
        mdl(
            "m",
            &[
                ("family_name", json!(family)),
                ("given_name", json!("J")),
                ("resident_address", json!("1 Road")),
                ("resident_postal_code", postal),
            ],
        )
    };
    assert!(query.evaluate(&[holder("Doe", json!("90211"))]).satisfiable);
    // Same digits, other JSON type: "type and value" must both match.
    let found = query.evaluate(&[holder("Doe", json!(90211))]);
    assert!(!found.satisfiable);
    let Some(Unsatisfiable::ClaimsNotSatisfied { rejected }) = &found.queries[0].unsatisfiable
    else {
        panic!("{found:?}")
    };
    assert_eq!(
        rejected[0].problems,
        [ClaimProblem::ValueNotAllowed {
            namespace: MDL_NS.into(),
            element: "resident_postal_code".into()
        }]
    );
    assert!(!query.evaluate(&[holder("Roe", json!("90210"))]).satisfiable);
    assert_eq!(
        query.credentials[0].meta.doctype_value.as_deref(),
        Some(MDL)
    );
}
