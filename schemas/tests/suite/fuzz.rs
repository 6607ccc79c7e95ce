//! Arbitrary JSON never panics the validator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?".prop_map(Value::String),
        "[A-Za-z0-9_-]{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Keys drawn mostly from real namespace, element and field names so deep paths get exercised.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "org.iso.18013.5.1",
            "org.iso.18013.5.1.aamva",
            "eu.europa.ec.eudi.pid.1",
            "family_name",
            "birth_date",
            "issue_date",
            "expiry_date",
            "portrait",
            "driving_privileges",
            "vehicle_category_code",
            "codes",
            "code",
            "sign",
            "sex",
            "height",
            "age_over_18",
            "issuing_country",
            "issuing_jurisdiction",
            "nationality",
            "place_of_birth",
            "domestic_driving_privileges",
            "domestic_vehicle_class",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validator_never_panics(data in arb_json(), doctype in prop::sample::select(vec![
        "org.iso.18013.5.1.mDL", "eu.europa.ec.eudi.pid.1", "org.iso.23220.photoID.1",
        "org.iso.23220.2.photoid.1", "jp.go.digital.mynumber.1", "nope",
    ])) {
        let reg = common::registry();
        match reg.validate(doctype, &data) {
            Ok(v) => prop_assert_eq!(v.doctype.as_str(), doctype),
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                prop_assert!(errs.len() <= schemas::MAX_ERRORS + 1);
            }
        }
        // Also wrapped in the mDL namespace so element-level paths are reached.
        let _ = reg.validate("org.iso.18013.5.1.mDL", &json!({"org.iso.18013.5.1": data}));
    }
}
