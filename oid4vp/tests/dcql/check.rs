//! The verifier's check of what was presented against its query.

use std::collections::BTreeMap;

use mdoc_oid4vp::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery, Finding, Presented};
use serde_json::{json, Value};

use crate::{MDL, MDL_NS};

fn doc(doctype: &str, elements: &[(&str, Value)]) -> Presented {
    Presented {
        doctype: doctype.to_owned(),
        elements: elements
            .iter()
            .map(|(e, v)| (MDL_NS.to_owned(), (*e).to_owned(), Some(v.clone())))
            .collect(),
    }
}

fn response(entries: Vec<(&str, Vec<Presented>)>) -> BTreeMap<String, Vec<Presented>> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn age_query() -> DcqlQuery {
    DcqlQuery::of(
        CredentialQuery::mdoc("age", MDL, &[])
            .with_claim(
                ClaimsQuery::mdoc(MDL_NS, "age_over_18", false).with_values(vec![json!(true)]),
            )
            .with_claim(ClaimsQuery::mdoc(MDL_NS, "birth_date", false))
            .with_element_ids()
            .with_claim_sets(&[&["age_over_18"], &["birth_date"]]),
    )
}

#[test]
fn an_exact_answer_is_accepted_with_the_option_it_used() {
    let q = age_query();
    let r = q.check(&response(vec![(
        "age",
        vec![doc(MDL, &[("birth_date", json!("2000-01-01"))])],
    )]));
    assert!(r.accepted(), "{r:?}");
    assert_eq!(r.query("age").unwrap().claim_sets, [Some(1)]);
    let r = q.check(&response(vec![(
        "age",
        vec![doc(MDL, &[("age_over_18", json!(true))])],
    )]));
    assert!(r.accepted());
    assert_eq!(r.query("age").unwrap().claim_sets, [Some(0)]);
}

#[test]
fn claims_not_asked_for_are_named_and_refused() {
    let q = age_query();
    // Both options at once: the first is satisfied, birth_date was not requested with it.
    let r = q.check(&response(vec![(
        "age",
        vec![doc(
            MDL,
            &[
                ("age_over_18", json!(true)),
                ("birth_date", json!("2000-01-01")),
            ],
        )],
    )]));
    assert!(!r.accepted());
    let c = r.query("age").unwrap();
    assert_eq!(c.claim_sets, [Some(0)]);
    assert_eq!(
        c.findings,
        [Finding::NotRequested {
            document: 0,
            namespace: MDL_NS.into(),
            element: "birth_date".into()
        }]
    );
    let r = q.check(&response(vec![(
        "age",
        vec![doc(
            MDL,
            &[("age_over_18", json!(true)), ("portrait", json!("AA"))],
        )],
    )]));
    assert_eq!(
        r.query("age").unwrap().findings,
        [Finding::NotRequested {
            document: 0,
            namespace: MDL_NS.into(),
            element: "portrait".into()
        }]
    );
}

#[test]
fn missing_claims_wrong_values_doctype_and_count_are_findings() {
    let q = DcqlQuery::mdoc(
        "d",
        MDL,
        &[
            (MDL_NS, "given_name", false),
            (MDL_NS, "family_name", false),
        ],
    );
    let r = q.check(&response(vec![(
        "d",
        vec![doc(MDL, &[("given_name", json!("X"))])],
    )]));
    assert_eq!(
        r.query("d").unwrap().findings,
        [Finding::MissingClaim {
            document: 0,
            namespace: MDL_NS.into(),
            element: "family_name".into()
        }]
    );
    assert!(!r.requirements_met());

    let full = [("given_name", json!("X")), ("family_name", json!("Y"))];
    let r = q.check(&response(vec![("d", vec![doc("other", &full)])]));
    assert_eq!(
        r.query("d").unwrap().findings,
        [Finding::DoctypeMismatch {
            document: 0,
            expected: MDL.into(),
            found: "other".into()
        }]
    );
    let r = q.check(&response(vec![(
        "d",
        vec![doc(MDL, &full), doc(MDL, &full)],
    )]));
    assert_eq!(
        r.query("d").unwrap().findings,
        [Finding::TooManyDocuments { count: 2 }]
    );
    let many = DcqlQuery::of(
        CredentialQuery::mdoc("d", MDL, &[(MDL_NS, "given_name", false)]).with_multiple(true),
    );
    let one = [("given_name", json!("X"))];
    assert!(many
        .check(&response(vec![("d", vec![doc(MDL, &one), doc(MDL, &one)])]))
        .accepted());

    let r = age_query().check(&response(vec![(
        "age",
        vec![doc(MDL, &[("age_over_18", json!(false))])],
    )]));
    assert!(!r.accepted());
    assert!(r
        .query("age")
        .unwrap()
        .findings
        .contains(&Finding::ValueNotAllowed {
            document: 0,
            namespace: MDL_NS.into(),
            element: "age_over_18".into()
        }));
}

#[test]
fn credential_sets_and_unknown_keys_decide_the_whole_response() {
    let q = DcqlQuery::mdoc("id", MDL, &[(MDL_NS, "given_name", false)])
        .with_credential(CredentialQuery::mdoc(
            "alt",
            "photo",
            &[(MDL_NS, "given_name", false)],
        ))
        .with_credential(CredentialQuery::mdoc(
            "extra",
            MDL,
            &[(MDL_NS, "portrait", false)],
        ))
        .with_credential_set(&[&["id"], &["alt"]], true)
        .with_credential_set(&[&["extra"]], false);
    let name = [("given_name", json!("X"))];
    let r = q.check(&response(vec![("alt", vec![doc("photo", &name)])]));
    assert!(r.accepted(), "{r:?}");
    assert_eq!(r.sets[0].satisfied_options, [1]);
    assert_eq!(r.query("id").unwrap().findings, [Finding::NotPresented]);
    // Nothing for the required set.
    let r = q.check(&response(vec![(
        "extra",
        vec![doc(MDL, &[("portrait", json!("AA"))])],
    )]));
    assert!(!r.requirements_met());
    // A bad presentation for an optional query still refuses the response.
    let r = q.check(&response(vec![
        ("id", vec![doc(MDL, &name)]),
        ("extra", vec![doc(MDL, &name)]),
    ]));
    assert!(r.requirements_met() && !r.accepted());
    // A key the query never had.
    let r = q.check(&response(vec![
        ("id", vec![doc(MDL, &name)]),
        ("nope", vec![]),
    ]));
    assert_eq!(r.unknown_ids, ["nope"]);
    assert!(!r.accepted());
}

#[test]
fn queries_of_other_formats_are_never_checked_as_satisfied() {
    let q = DcqlQuery::parse(include_bytes!("fixtures/multi_credentials.json")).unwrap();
    let r = q.check(&response(vec![("pid", vec![doc(MDL, &[])])]));
    assert_eq!(
        r.query("pid").unwrap().findings,
        [Finding::UnsupportedFormat {
            format: "dc+sd-jwt".into()
        }]
    );
    assert!(!r.accepted());
}

#[test]
fn a_query_without_claims_accepts_no_element() {
    let q = DcqlQuery::mdoc("d", MDL, &[]);
    assert!(q
        .check(&response(vec![("d", vec![doc(MDL, &[])])]))
        .accepted());
    let r = q.check(&response(vec![(
        "d",
        vec![doc(MDL, &[("given_name", json!("X"))])],
    )]));
    assert_eq!(
        r.query("d").unwrap().findings,
        [Finding::NotRequested {
            document: 0,
            namespace: MDL_NS.into(),
            element: "given_name".into()
        }]
    );
}
