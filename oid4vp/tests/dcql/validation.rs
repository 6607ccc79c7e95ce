//! Every refusal of `DcqlQuery::parse`, each named as the specification rule it enforces.

use mdoc_oid4vp::dcql::limits::{
    MAX_CLAIMS, MAX_CREDENTIALS, MAX_DEPTH, MAX_ID_LEN, MAX_QUERY_BYTES, MAX_STRING_LEN, MAX_VALUES,
};
use mdoc_oid4vp::dcql::{ClaimRef, Counted, DcqlError, DcqlQuery, Field, JsonCategory};
use serde_json::{json, Value};

/// One valid mdoc credential query, to be broken one member at a time.
fn base() -> Value {
    json!({
        "credentials": [{
            "id": "mdl",
            "format": "mso_mdoc",
            "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
            "claims": [
                {"id": "a", "path": ["org.iso.18013.5.1", "age_over_18"]},
                {"id": "b", "path": ["org.iso.18013.5.1", "birth_date"]}
            ]
        }]
    })
}

fn parse(v: &Value) -> Result<DcqlQuery, DcqlError> {
    DcqlQuery::parse(v.to_string().as_bytes())
}

fn with(edit: impl FnOnce(&mut Value)) -> Result<DcqlQuery, DcqlError> {
    let mut v = base();
    edit(&mut v);
    parse(&v)
}

fn claim(index: usize, id: Option<&str>) -> ClaimRef {
    ClaimRef {
        index,
        id: id.map(str::to_owned),
    }
}

#[test]
fn the_base_query_is_valid_and_unknown_members_are_ignored() {
    let q = with(|v| {
        v["future_top_level"] = json!({"x": 1});
        v["credentials"][0]["future"] = json!(true);
        v["credentials"][0]["claims"][0]["future"] = json!([1]);
        v["credentials"][0]["meta"]["other"] = json!("kept");
    })
    .unwrap();
    let c = &q.credentials[0];
    assert!(!c.multiple && c.require_cryptographic_holder_binding);
    assert!(!c.claims.as_ref().unwrap()[0].intent_to_retain);
    assert_eq!(c.meta.other["other"], json!("kept"));
}

#[test]
fn bytes_and_depth_are_bounded_before_parsing() {
    let big = vec![b' '; MAX_QUERY_BYTES + 1];
    assert_eq!(
        DcqlQuery::parse(&big),
        Err(DcqlError::TooLarge {
            len: MAX_QUERY_BYTES + 1,
            max: MAX_QUERY_BYTES
        })
    );
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(
        DcqlQuery::parse(deep.as_bytes()),
        Err(DcqlError::TooDeep { max: MAX_DEPTH })
    );
    // Brackets inside strings (escaped quotes included) do not count.
    let q = with(|v| v["credentials"][0]["meta"]["note"] = json!("\"[[[[[[[[[[[[[[[[[[[[[[[["))
        .unwrap();
    assert_eq!(q.credentials.len(), 1);
    // Within the depth bound, meta may nest.
    let mut nested = json!(1);
    for _ in 0..MAX_DEPTH - 4 {
        nested = json!([nested]);
    }
    with(|v| v["credentials"][0]["meta"]["n"] = nested).unwrap();
}

#[test]
fn malformed_json_is_a_typed_json_error() {
    let e = DcqlQuery::parse(b"{\"credentials\": [").unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::Json {
                category: JsonCategory::Eof,
                ..
            }
        ),
        "{e:?}"
    );
    let e = DcqlQuery::parse(b"{]").unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::Json {
                category: JsonCategory::Syntax,
                ..
            }
        ),
        "{e:?}"
    );
    // A missing required member (format) is a shape error.
    let e = with(|v| {
        v["credentials"][0]
            .as_object_mut()
            .unwrap()
            .remove("format");
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::Json {
                category: JsonCategory::Data,
                ..
            }
        ),
        "{e:?}"
    );
    let e = with(|v| {
        v["credentials"][0].as_object_mut().unwrap().remove("meta");
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::Json {
                category: JsonCategory::Data,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn credentials_must_be_present_non_empty_and_bounded() {
    assert_eq!(
        parse(&json!({"credentials": []})),
        Err(DcqlError::NoCredentials)
    );
    let many: Vec<Value> = (0..=MAX_CREDENTIALS)
        .map(|i| json!({"id": format!("c{i}"), "format": "mso_mdoc", "meta": {"doctype_value": "d"}}))
        .collect();
    assert_eq!(
        parse(&json!({ "credentials": many })),
        Err(DcqlError::TooMany {
            what: Counted::Credentials,
            query: None,
            count: MAX_CREDENTIALS + 1,
            max: MAX_CREDENTIALS
        })
    );
}

#[test]
fn credential_ids_are_non_empty_safe_characters_and_unique() {
    for bad in ["", "has space", "dot.ted", "ü", &"x".repeat(MAX_ID_LEN + 1)] {
        let e = with(|v| v["credentials"][0]["id"] = json!(bad)).unwrap_err();
        assert!(
            matches!(e, DcqlError::InvalidCredentialId { index: 0, .. }),
            "{bad:?}: {e:?}"
        );
    }
    with(|v| v["credentials"][0]["id"] = json!("A-z_09")).unwrap();
    let e = with(|v| {
        let first = v["credentials"][0].clone();
        v["credentials"].as_array_mut().unwrap().push(first);
    })
    .unwrap_err();
    assert_eq!(e, DcqlError::DuplicateCredentialId { id: "mdl".into() });
}

#[test]
fn mdoc_needs_a_doctype() {
    let e = with(|v| v["credentials"][0]["meta"] = json!({})).unwrap_err();
    assert_eq!(
        e,
        DcqlError::MissingDoctype {
            query: "mdl".into()
        }
    );
    let e = with(|v| {
        v["credentials"][0]["meta"]["doctype_value"] = json!("d".repeat(MAX_STRING_LEN + 1))
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::TooLong {
                what: Field::Doctype,
                ..
            }
        ),
        "{e:?}"
    );
    // Other formats have no doctype rule.
    with(|v| {
        v["credentials"][0]["format"] = json!("dc+sd-jwt");
        v["credentials"][0]["meta"] = json!({"vct_values": ["x"]});
        v["credentials"][0]["claims"] = json!([{"path": ["address", null, 0]}]);
    })
    .unwrap();
}

#[test]
fn claims_rules() {
    assert_eq!(
        with(|v| v["credentials"][0]["claims"] = json!([])),
        Err(DcqlError::EmptyClaims {
            query: "mdl".into()
        })
    );
    let many: Vec<Value> = (0..=MAX_CLAIMS)
        .map(|i| json!({"path": ["ns", format!("e{i}")]}))
        .collect();
    assert!(matches!(
        with(|v| v["credentials"][0]["claims"] = json!(many)),
        Err(DcqlError::TooMany {
            what: Counted::Claims,
            ..
        })
    ));
    assert_eq!(
        with(|v| v["credentials"][0]["claims"][1]["id"] = json!("a")),
        Err(DcqlError::DuplicateClaimId {
            query: "mdl".into(),
            id: "a".into()
        })
    );
    assert_eq!(
        with(|v| v["credentials"][0]["claims"][1]["id"] = json!("b.1")),
        Err(DcqlError::InvalidClaimId {
            query: "mdl".into(),
            claim: claim(1, Some("b.1"))
        })
    );
}

#[test]
fn mdoc_paths_are_exactly_namespace_and_element() {
    for bad in [
        json!(["org.iso.18013.5.1"]),
        json!(["a", "b", "c"]),
        json!(["a", 1]),
        json!(["a", null]),
        json!(["", "x"]),
        json!([]),
    ] {
        let e = with(|v| v["credentials"][0]["claims"][0]["path"] = bad.clone()).unwrap_err();
        assert_eq!(
            e,
            DcqlError::MdocPath {
                query: "mdl".into(),
                claim: claim(0, Some("a"))
            },
            "{bad}"
        );
    }
    // Generic pointers: negative integers and objects are invalid for any format.
    for bad in [json!(["a", -1]), json!([{"k": 1}]), json!([])] {
        let e = with(|v| {
            v["credentials"][0]["format"] = json!("dc+sd-jwt");
            v["credentials"][0]["claims"][0]["path"] = bad.clone();
        })
        .unwrap_err();
        assert_eq!(
            e,
            DcqlError::InvalidPath {
                query: "mdl".into(),
                claim: claim(0, Some("a"))
            },
            "{bad}"
        );
    }
    let e = with(|v| {
        v["credentials"][0]["claims"][0]["path"] = json!(["ns", "e".repeat(MAX_STRING_LEN + 1)])
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            DcqlError::TooLong {
                what: Field::Path,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn values_are_non_empty_bounded_scalars() {
    assert_eq!(
        with(|v| v["credentials"][0]["claims"][0]["values"] = json!([])),
        Err(DcqlError::EmptyValues {
            query: "mdl".into(),
            claim: claim(0, Some("a"))
        })
    );
    for (i, bad) in [json!(null), json!(1.5), json!([1]), json!({"a": 1})]
        .into_iter()
        .enumerate()
    {
        let e = with(|v| v["credentials"][0]["claims"][1]["values"] = json!(["ok", 1, true, bad]))
            .unwrap_err();
        assert_eq!(
            e,
            DcqlError::InvalidValue {
                query: "mdl".into(),
                claim: claim(1, Some("b")),
                value: 3
            },
            "{i}"
        );
    }
    let many: Vec<Value> = (0..=MAX_VALUES).map(|i| json!(i)).collect();
    assert!(matches!(
        with(|v| v["credentials"][0]["claims"][0]["values"] = json!(many)),
        Err(DcqlError::TooMany {
            what: Counted::Values,
            ..
        })
    ));
    with(|v| v["credentials"][0]["claims"][0]["values"] = json!([true, -3, u64::MAX, "x"]))
        .unwrap();
}

#[test]
fn claim_sets_rules() {
    assert_eq!(
        with(|v| {
            v["credentials"][0]
                .as_object_mut()
                .unwrap()
                .remove("claims");
            v["credentials"][0]["claim_sets"] = json!([["a"]]);
        }),
        Err(DcqlError::ClaimSetsWithoutClaims {
            query: "mdl".into()
        })
    );
    assert_eq!(
        with(|v| v["credentials"][0]["claim_sets"] = json!([])),
        Err(DcqlError::EmptyClaimSet {
            query: "mdl".into(),
            option: None
        })
    );
    assert_eq!(
        with(|v| v["credentials"][0]["claim_sets"] = json!([["a"], []])),
        Err(DcqlError::EmptyClaimSet {
            query: "mdl".into(),
            option: Some(1)
        })
    );
    assert_eq!(
        with(|v| v["credentials"][0]["claim_sets"] = json!([["a"], ["a", "z"]])),
        Err(DcqlError::UnknownClaimId {
            query: "mdl".into(),
            option: 1,
            id: "z".into()
        })
    );
    assert_eq!(
        with(|v| {
            v["credentials"][0]["claims"][1]
                .as_object_mut()
                .unwrap()
                .remove("id");
            v["credentials"][0]["claim_sets"] = json!([["a"]]);
        }),
        Err(DcqlError::ClaimWithoutId {
            query: "mdl".into(),
            claim: claim(1, None)
        })
    );
    // Without claim_sets, ids are optional.
    with(|v| {
        v["credentials"][0]["claims"][1]
            .as_object_mut()
            .unwrap()
            .remove("id");
    })
    .unwrap();
}

#[test]
fn credential_sets_rules() {
    assert_eq!(
        with(|v| v["credential_sets"] = json!([])),
        Err(DcqlError::NoCredentialSets)
    );
    assert_eq!(
        with(|v| v["credential_sets"] = json!([{"options": []}])),
        Err(DcqlError::EmptyOption {
            set: 0,
            option: None
        })
    );
    assert_eq!(
        with(|v| v["credential_sets"] = json!([{"options": [["mdl"]]}, {"options": [["mdl"], []]}])),
        Err(DcqlError::EmptyOption {
            set: 1,
            option: Some(1)
        })
    );
    assert_eq!(
        with(|v| v["credential_sets"] = json!([{"options": [["mdl", "pid"]]}])),
        Err(DcqlError::UnknownCredentialId {
            set: 0,
            option: 0,
            id: "pid".into()
        })
    );
    let q =
        with(|v| v["credential_sets"] = json!([{"options": [["mdl"]], "purpose": "age check"}]))
            .unwrap();
    let sets = q.credential_sets.unwrap();
    assert!(sets[0].required);
    assert_eq!(sets[0].purpose, Some(json!("age check")));
}

#[test]
fn trusted_authorities_are_kept_and_must_not_be_empty() {
    assert_eq!(
        with(|v| v["credentials"][0]["trusted_authorities"] = json!([])),
        Err(DcqlError::EmptyTrustedAuthorities {
            query: "mdl".into(),
            entry: None
        })
    );
    assert_eq!(
        with(
            |v| v["credentials"][0]["trusted_authorities"] = json!([{"type": "aki", "values": []}])
        ),
        Err(DcqlError::EmptyTrustedAuthorities {
            query: "mdl".into(),
            entry: Some(0)
        })
    );
    let q = with(|v| {
        v["credentials"][0]["trusted_authorities"] =
            json!([{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}])
    })
    .unwrap();
    let ta = q.credentials[0].trusted_authorities.as_ref().unwrap();
    assert_eq!((ta[0].kind.as_str(), ta[0].values.len()), ("aki", 1));
    assert!(q.to_json().unwrap().contains("\"type\":\"aki\""));
}
