//! The wallet's evaluation: preference order of claim_sets, values, multiple, credential_sets,
//! and that a candidate discloses only what was asked.

use mdoc_oid4vp::dcql::{
    ClaimProblem, ClaimsQuery, CredentialQuery, DcqlQuery, Rejected, Unsatisfiable,
};
use serde_json::json;

use crate::{candidate, mdl, triples, MDL, MDL_NS};

fn age_query() -> DcqlQuery {
    DcqlQuery::of(
        CredentialQuery::mdoc("age", MDL, &[])
            .with_claim(ClaimsQuery::mdoc(MDL_NS, "age_over_18", false).with_id("over18"))
            .with_claim(ClaimsQuery::mdoc(MDL_NS, "birth_date", true).with_id("dob"))
            .with_claim_sets(&[&["over18"], &["dob"]]),
    )
}

#[test]
fn claim_sets_prefer_the_first_satisfiable_option_per_candidate() {
    let both = mdl(
        "both",
        &[
            ("age_over_18", json!(true)),
            ("birth_date", json!("2000-01-01")),
        ],
    );
    let dob_only = mdl(
        "dob",
        &[
            ("birth_date", json!("2000-01-01")),
            ("given_name", json!("X")),
        ],
    );
    let found = age_query().evaluate(&[both, dob_only]);
    assert!(found.satisfiable);
    let q = &found.queries[0];
    assert_eq!(q.candidates[0].claim_set, Some(0));
    assert_eq!(
        triples(&q.candidates[0].disclose),
        [(MDL_NS, "age_over_18", false)]
    );
    assert_eq!(q.candidates[1].claim_set, Some(1));
    assert_eq!(
        triples(&q.candidates[1].disclose),
        [(MDL_NS, "birth_date", true)]
    );
}

#[test]
fn a_value_mismatch_counts_as_absent_and_the_next_option_is_tried() {
    let q = DcqlQuery::of(
        CredentialQuery::mdoc("age", MDL, &[])
            .with_claim(
                ClaimsQuery::mdoc(MDL_NS, "age_over_18", false)
                    .with_id("o")
                    .with_values(vec![json!(true)]),
            )
            .with_claim(ClaimsQuery::mdoc(MDL_NS, "birth_date", false).with_id("d"))
            .with_claim_sets(&[&["o"], &["d"]]),
    );
    let minor = mdl(
        "m",
        &[
            ("age_over_18", json!(false)),
            ("birth_date", json!("2012-01-01")),
        ],
    );
    let found = q.evaluate(&[minor]);
    assert_eq!(found.queries[0].candidates[0].claim_set, Some(1));
    // A value with no JSON form never matches a values constraint.
    let opaque = candidate("x", MDL, &[(MDL_NS, "age_over_18", None)]);
    let found = q.evaluate(&[opaque]);
    assert_eq!(
        found.queries[0].unsatisfiable,
        Some(Unsatisfiable::ClaimsNotSatisfied {
            rejected: vec![Rejected {
                handle: "x".into(),
                problems: vec![
                    ClaimProblem::ValueNotAllowed {
                        namespace: MDL_NS.into(),
                        element: "age_over_18".into()
                    },
                    ClaimProblem::Missing {
                        namespace: MDL_NS.into(),
                        element: "birth_date".into()
                    },
                ],
            }],
        })
    );
}

#[test]
fn integer_values_match_by_value_and_type() {
    let q =
        DcqlQuery::of(CredentialQuery::mdoc("s", MDL, &[]).with_claim(
            ClaimsQuery::mdoc(MDL_NS, "sex", false).with_values(vec![json!(1), json!(2)]),
        ));
    assert!(q.evaluate(&[mdl("a", &[("sex", json!(2))])]).satisfiable);
    assert!(!q.evaluate(&[mdl("a", &[("sex", json!(9))])]).satisfiable);
    assert!(!q.evaluate(&[mdl("a", &[("sex", json!("2"))])]).satisfiable);
    assert!(!q.evaluate(&[mdl("a", &[("sex", json!(2.0))])]).satisfiable);
}

#[test]
fn without_claims_only_the_doctype_is_matched_and_nothing_disclosed() {
    let q = DcqlQuery::mdoc("any", MDL, &[]);
    let found = q.evaluate(&[
        mdl("a", &[("given_name", json!("X"))]),
        candidate("p", "other", &[]),
    ]);
    assert_eq!(found.queries[0].candidates.len(), 1);
    assert!(found.queries[0].candidates[0].disclose.is_empty());
}

#[test]
fn duplicate_claims_are_disclosed_once_retained_if_any_says_so() {
    let q = DcqlQuery::mdoc(
        "d",
        MDL,
        &[(MDL_NS, "given_name", false), (MDL_NS, "given_name", true)],
    );
    let found = q.evaluate(&[mdl("a", &[("given_name", json!("X"))])]);
    assert_eq!(
        triples(&found.queries[0].candidates[0].disclose),
        [(MDL_NS, "given_name", true)]
    );
}

#[test]
fn multiple_is_reported_and_every_candidate_is_offered() {
    let two = [
        mdl("a", &[("given_name", json!("X"))]),
        mdl("b", &[("given_name", json!("Y"))]),
    ];
    let single = DcqlQuery::mdoc("d", MDL, &[(MDL_NS, "given_name", false)]);
    let found = single.evaluate(&two);
    assert!(!found.queries[0].multiple);
    assert_eq!(
        found.queries[0].candidates.len(),
        2,
        "the user chooses one of both"
    );
    let many = DcqlQuery::of(
        CredentialQuery::mdoc("d", MDL, &[(MDL_NS, "given_name", false)]).with_multiple(true),
    );
    assert!(many.evaluate(&two).queries[0].multiple);
}

#[test]
fn the_doctype_must_be_equal_and_absence_is_named() {
    let q = DcqlQuery::mdoc("d", MDL, &[(MDL_NS, "given_name", false)]);
    let found = q.evaluate(&[candidate(
        "p",
        "org.iso.18013.5.1.mDL2",
        &[(MDL_NS, "given_name", None)],
    )]);
    assert_eq!(
        found.queries[0].unsatisfiable,
        Some(Unsatisfiable::NoCredentialOfDoctype {
            doctype: MDL.into()
        })
    );
    assert!(!found.satisfiable);
}

#[test]
fn credential_sets_optional_sets_do_not_block_and_required_ones_do() {
    let q = DcqlQuery::mdoc("id", MDL, &[(MDL_NS, "given_name", false)])
        .with_credential(CredentialQuery::mdoc("pid", "eu.europa.ec.eudi.pid.1", &[]))
        .with_credential(CredentialQuery::mdoc(
            "extra",
            MDL,
            &[(MDL_NS, "portrait", false)],
        ))
        .with_credential_set(&[&["pid"], &["id"]], true)
        .with_credential_set(&[&["extra"]], false);
    let found = q.evaluate(&[mdl("a", &[("given_name", json!("X"))])]);
    assert!(found.satisfiable);
    assert_eq!(found.sets[0].satisfiable_options, [1]);
    assert!(found.sets[1].satisfiable_options.is_empty());
    let found = q.evaluate(&[mdl("a", &[("portrait", json!("AA"))])]);
    assert!(!found.satisfiable);
}
