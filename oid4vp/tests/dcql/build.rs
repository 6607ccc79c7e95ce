//! The verifier's builder: the JSON it writes, and that it never writes an invalid query.

use mdoc_oid4vp::dcql::{ClaimsQuery, CredentialQuery, DcqlError, DcqlQuery};
use serde_json::{json, Value};

use crate::{MDL, MDL_NS};

#[test]
fn an_mdoc_query_is_written_as_the_specification_shows_it() {
    let json = DcqlQuery::mdoc(
        "mdl",
        MDL,
        &[
            (MDL_NS, "family_name", true),
            (MDL_NS, "age_over_18", false),
        ],
    )
    .to_json()
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        json!({"credentials": [{
            "id": "mdl",
            "format": "mso_mdoc",
            "meta": {"doctype_value": MDL},
            "claims": [
                {"path": [MDL_NS, "family_name"], "intent_to_retain": true},
                {"path": [MDL_NS, "age_over_18"]}
            ]
        }]})
    );
}

#[test]
fn claim_sets_credential_sets_values_and_multiple_round_trip() {
    let q = DcqlQuery::of(
        CredentialQuery::mdoc(
            "age",
            MDL,
            &[(MDL_NS, "age_over_18", false), (MDL_NS, "birth_date", true)],
        )
        .with_element_ids()
        .with_claim_sets(&[&["age_over_18"], &["birth_date"]])
        .with_multiple(true),
    )
    .with_credential(CredentialQuery::mdoc("country", MDL, &[]).with_claim(
        ClaimsQuery::mdoc(MDL_NS, "issuing_country", false).with_values(vec![json!("JP")]),
    ))
    .with_credential_set(&[&["age"]], true)
    .with_credential_set(&[&["country"]], false);
    let json = q.to_json().unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["credentials"][0]["claim_sets"],
        json!([["age_over_18"], ["birth_date"]])
    );
    assert_eq!(v["credentials"][0]["multiple"], json!(true));
    assert_eq!(v["credentials"][1]["claims"][0]["values"], json!(["JP"]));
    assert_eq!(
        v["credential_sets"],
        json!([{"options": [["age"]]}, {"options": [["country"]], "required": false}])
    );
    assert_eq!(DcqlQuery::parse(json.as_bytes()).unwrap(), q);
}

#[test]
fn to_json_refuses_what_a_wallet_would_refuse() {
    // claim_sets over claims without ids
    let q = DcqlQuery::of(
        CredentialQuery::mdoc("a", MDL, &[(MDL_NS, "x", false)]).with_claim_sets(&[&["x"]]),
    );
    assert!(matches!(q.to_json(), Err(DcqlError::ClaimWithoutId { .. })));
    // an element identifier that is not a valid id
    let q = DcqlQuery::of(
        CredentialQuery::mdoc("a", MDL, &[(MDL_NS, "x.y", false)]).with_element_ids(),
    );
    assert!(matches!(q.to_json(), Err(DcqlError::InvalidClaimId { .. })));
    let q = DcqlQuery::mdoc("a", MDL, &[]).with_credential_set(&[&["b"]], true);
    assert!(matches!(
        q.to_json(),
        Err(DcqlError::UnknownCredentialId { .. })
    ));
    assert!(matches!(
        DcqlQuery::mdoc("a b", MDL, &[]).to_json(),
        Err(DcqlError::InvalidCredentialId { .. })
    ));
}
