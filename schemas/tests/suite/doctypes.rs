//! EU PID, both ISO/IEC 23220 photo-ID identifier sets and the Japanese example profile.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use ciborium::Value as Cbor;
use common::*;
use schemas::ErrorCode;
use serde_json::json;

const PID: &str = "eu.europa.ec.eudi.pid.1";

fn valid_pid() -> serde_json::Value {
    json!({ PID: {
        "family_name": "Dupont",
        "given_name": "Jean",
        "birth_date": "1985-07-14",
        "place_of_birth": {"country": "FR", "locality": "Lyon"},
        "nationality": ["FR", "BE"],
        "portrait": b64(&jpeg_bytes()),
        "issuing_authority": "Ministère de l'Intérieur",
        "issuing_country": "FR",
        "expiry_date": "2035-07-14",
        "sex": 1,
        "age_over_18": true
    }})
}

#[test]
fn eu_pid_valid() {
    let v = registry().validate(PID, &valid_pid()).expect("valid PID");
    assert_eq!(
        v.get(PID, "nationality"),
        Some(&Cbor::Array(vec![
            Cbor::Text("FR".into()),
            Cbor::Text("BE".into())
        ]))
    );
    assert_eq!(
        v.get(PID, "place_of_birth"),
        Some(&Cbor::Map(vec![
            (Cbor::Text("country".into()), Cbor::Text("FR".into())),
            (Cbor::Text("locality".into()), Cbor::Text("Lyon".into())),
        ]))
    );
    assert_eq!(
        v.get(PID, "birth_date"),
        Some(&Cbor::Tag(1004, Box::new(Cbor::Text("1985-07-14".into()))))
    );
}

#[test]
fn eu_pid_errors() {
    let mut body = valid_pid();
    body[PID]["family_name"] = json!("x".repeat(151));
    body[PID]["nationality"] = json!(["FR", "ZZ"]);
    body[PID]["place_of_birth"] = json!({"country": "France", "planet": "Earth"});
    body[PID].as_object_mut().unwrap().remove("issuing_country");
    let errs = registry().validate(PID, &body).unwrap_err();
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/family_name",
        ErrorCode::TooLong,
    );
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/nationality/1",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/place_of_birth/country",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/place_of_birth/planet",
        ErrorCode::UnknownElement,
    );
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/issuing_country",
        ErrorCode::MissingMandatory,
    );
    assert_eq!(errs.len(), 5, "{errs:#?}");

    body = valid_pid();
    body[PID]["nationality"] = json!([]);
    let errs = registry().validate(PID, &body).unwrap_err();
    assert_error(
        &errs,
        "/eu.europa.ec.eudi.pid.1/nationality",
        ErrorCode::TooShort,
    );
}

#[test]
fn iso23220_photoid_two_namespaces() {
    let dt = "org.iso.23220.photoID.1";
    let body = json!({
        "org.iso.23220.1": {
            "family_name_unicode": "Søren", "given_name_unicode": "Kierkegaard",
            "birth_date": "1970-05-05", "portrait": b64(&jpeg_bytes()),
            "issue_date": "2024-01-01", "expiry_date": "2034-01-01",
            "issuing_authority_unicode": "Politiet", "issuing_country": "DK",
            "age_over_21": true
        },
        "org.iso.23220.photoID.1": {"birth_country": "DK", "person_id": "0505701234"}
    });
    let v = registry().validate(dt, &body).expect("valid photo ID");
    assert_eq!(
        v.get("org.iso.23220.photoID.1", "birth_country"),
        Some(&Cbor::Text("DK".into()))
    );
    assert_eq!(v.namespaces.len(), 2);

    // An element of one namespace sent under the other is unknown there.
    let bad = json!({
        "org.iso.23220.1": {"person_id": "x"},
    });
    let errs = registry().validate(dt, &bad).unwrap_err();
    assert_error(
        &errs,
        "/org.iso.23220.1/person_id",
        ErrorCode::UnknownElement,
    );
    assert_error(
        &errs,
        "/org.iso.23220.1/family_name_unicode",
        ErrorCode::MissingMandatory,
    );
}

#[test]
fn iso23220_second_identifier_set() {
    let dt = "org.iso.23220.2.photoid.1";
    let body = json!({ dt: {
        "family_name": "Rossi", "given_name": "Maria", "birth_date": "1980-10-10",
        "portrait": b64(&jpeg_bytes()), "issue_date": "2024-02-02",
        "expiry_date": "2034-02-01T12:00:00Z", "issuing_authority": "Comune di Roma",
        "issuing_country": "IT", "sex": 2
    }});
    let v = registry().validate(dt, &body).expect("valid");
    assert_eq!(
        v.get(dt, "expiry_date"),
        Some(&Cbor::Tag(
            0,
            Box::new(Cbor::Text("2034-02-01T12:00:00Z".into()))
        ))
    );
    // The other set's namespace is not part of this doctype.
    let errs = registry()
        .validate(dt, &json!({"org.iso.23220.1": {}}))
        .unwrap_err();
    assert_error(&errs, "/org.iso.23220.1", ErrorCode::UnknownNamespace);
}

#[test]
fn japan_example_profile() {
    let dt = "jp.go.digital.mynumber.1";
    let reg = registry();
    assert!(reg.get(dt).unwrap().display_name().contains("EXAMPLE"));
    let body = json!({ dt: {
        "name": "山田 太郎", "address": "東京都千代田区永田町1-7-1",
        "birth_date": "1980-04-01", "sex": 1, "individual_number": "123456789012",
        "portrait": b64(&jpeg_bytes())
    }});
    let v = reg.validate(dt, &body).expect("valid");
    assert_eq!(v.get(dt, "name"), Some(&Cbor::Text("山田 太郎".into())));

    let mut bad = body.clone();
    bad[dt]["individual_number"] = json!("1234-5678-9012");
    bad[dt]["sex"] = json!(5);
    bad[dt]["portrait"] = json!(b64(&[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]));
    let errs = reg.validate(dt, &bad).unwrap_err();
    assert_error(
        &errs,
        "/jp.go.digital.mynumber.1/individual_number",
        ErrorCode::PatternMismatch,
    );
    assert_error(
        &errs,
        "/jp.go.digital.mynumber.1/sex",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/jp.go.digital.mynumber.1/portrait",
        ErrorCode::NotJpeg,
    );
}
