//! mDL: valid data yields the right CBOR; each error code comes from a targeted bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use ciborium::Value as Cbor;
use common::*;
use schemas::{ErrorCode, ValidateOptions};
use serde_json::json;

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

#[test]
fn full_valid_mdl_yields_typed_cbor() {
    let v = registry().validate(MDL, &valid_mdl()).expect("valid");
    assert_eq!(v.doctype, MDL);
    assert!(v.elements().count() >= 12);
    assert_eq!(
        v.get(MDL_NS, "birth_date"),
        Some(&Cbor::Tag(1004, Box::new(text("1990-02-28"))))
    );
    assert_eq!(
        v.get(MDL_NS, "issue_date"),
        Some(&Cbor::Tag(1004, Box::new(text("2024-01-15"))))
    );
    assert_eq!(
        v.get(MDL_NS, "expiry_date"),
        Some(&Cbor::Tag(0, Box::new(text("2034-01-14T00:00:00Z"))))
    );
    // tdate normalised to UTC, as mso's TDate writes it.
    assert_eq!(
        v.get(MDL_NS, "portrait_capture_date"),
        Some(&Cbor::Tag(0, Box::new(text("2023-12-01T09:00:00Z"))))
    );
    assert_eq!(v.get(MDL_NS, "portrait"), Some(&Cbor::Bytes(jpeg_bytes())));
    assert_eq!(v.get(MDL_NS, "family_name"), Some(&text("Müller")));
    assert_eq!(v.get(MDL_NS, "sex"), Some(&Cbor::Integer(2u8.into())));
    assert_eq!(v.get(MDL_NS, "age_over_18"), Some(&Cbor::Bool(true)));
    assert_eq!(v.get(MDL_NS, "age_over_65"), Some(&Cbor::Bool(false)));
    assert_eq!(
        v.get(MDL_NS, "family_name_national_character"),
        Some(&text("ミュラー"))
    );

    let dp = v.get(MDL_NS, "driving_privileges").unwrap();
    let expected = Cbor::Array(vec![
        Cbor::Map(vec![
            (text("vehicle_category_code"), text("B")),
            (
                text("issue_date"),
                Cbor::Tag(1004, Box::new(text("2008-05-01"))),
            ),
            (
                text("expiry_date"),
                Cbor::Tag(1004, Box::new(text("2034-01-14"))),
            ),
            (
                text("codes"),
                Cbor::Array(vec![
                    Cbor::Map(vec![(text("code"), text("78"))]),
                    Cbor::Map(vec![
                        (text("code"), text("01")),
                        (text("sign"), text("=")),
                        (text("value"), text("02")),
                    ]),
                ]),
            ),
        ]),
        Cbor::Map(vec![(text("vehicle_category_code"), text("AM"))]),
    ]);
    assert_eq!(dp, &expected);

    // Same encoding as mso's own date types.
    use mso::cbor::{FullDate, ToCbor};
    assert_eq!(
        v.get(MDL_NS, "birth_date"),
        Some(&FullDate::parse("1990-02-28").unwrap().to_value())
    );
}

#[test]
fn validated_feeds_the_mdoc_builder() {
    let v = registry().validate(MDL, &valid_mdl()).unwrap();
    let _builder = v.apply(mso::issue::MdocBuilder::new(MDL));
}

#[test]
fn aamva_namespace_optional_but_checked_when_present() {
    let mut body = valid_mdl();
    body["org.iso.18013.5.1.aamva"] = json!({
        "aamva_version": 1, "DHS_compliance": "F", "organ_donor": 1, "veteran": 1,
        "family_name_truncation": "N", "sex": 2, "resident_county": "037",
        "domestic_driving_privileges": [{
            "domestic_vehicle_class": {"domestic_vehicle_class_code": "C",
                "domestic_vehicle_class_description": "Class C", "issue_date": "2010-01-01"},
            "domestic_vehicle_restrictions": [{"domestic_vehicle_restriction_description": "Corrective lenses"}]
        }]
    });
    let v = registry().validate(MDL, &body).expect("valid with AAMVA");
    assert_eq!(
        v.get("org.iso.18013.5.1.aamva", "DHS_compliance"),
        Some(&text("F"))
    );

    body["org.iso.18013.5.1.aamva"] = json!({"DHS_compliance": "X"});
    let errs = registry().validate(MDL, &body).unwrap_err();
    assert_error(
        &errs,
        "/org.iso.18013.5.1.aamva/DHS_compliance",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1.aamva/aamva_version",
        ErrorCode::MissingMandatory,
    );
}

#[test]
fn unknown_doctype() {
    let errs = registry()
        .validate("org.example.nope", &valid_mdl())
        .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::UnknownDoctype);
    assert_eq!(errs[0].path, "");
}

#[test]
fn unknown_namespace_and_element() {
    let mut body = valid_mdl();
    body["org.example.other"] = json!({"x": 1});
    body[MDL_NS]["favourite_colour"] = json!("red");
    let errs = registry().validate(MDL, &body).unwrap_err();
    assert_error(&errs, "/org.example.other", ErrorCode::UnknownNamespace);
    assert_error(
        &errs,
        "/org.iso.18013.5.1/favourite_colour",
        ErrorCode::UnknownElement,
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn age_over_family_requires_two_digits() {
    let errs = mdl_errors(|m| {
        m.insert("age_over_100".into(), json!(true));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/age_over_100",
        ErrorCode::UnknownElement,
    );
    let errs = mdl_errors(|m| {
        m.insert("age_over_21".into(), json!("yes"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/age_over_21",
        ErrorCode::WrongType,
    );
}

#[test]
fn missing_mandatory_reports_all() {
    let errs = mdl_errors(|m| {
        m.remove("family_name");
        m.remove("portrait");
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/family_name",
        ErrorCode::MissingMandatory,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/portrait",
        ErrorCode::MissingMandatory,
    );
    assert_eq!(errs.len(), 2);

    // Whole namespace absent: every mandatory element is reported.
    let errs = registry().validate(MDL, &json!({})).unwrap_err();
    assert_eq!(errs.len(), 11, "{errs:#?}");
    assert!(errs.iter().all(|e| e.code == ErrorCode::MissingMandatory));
}

#[test]
fn nested_paths_are_exact() {
    let errs = mdl_errors(|m| {
        m.insert(
            "driving_privileges".into(),
            json!([
                {"vehicle_category_code": "B"},
                {"issue_date": "2020-01-01", "codes": [{"code": "78", "sign": "~"}, {"value": "x"}]},
                {"vehicle_category_code": 5, "extra": 1}
            ]),
        );
    });
    let dp = "/org.iso.18013.5.1/driving_privileges";
    assert_error(
        &errs,
        &format!("{dp}/1/vehicle_category_code"),
        ErrorCode::MissingMandatory,
    );
    assert_error(
        &errs,
        &format!("{dp}/1/codes/0/sign"),
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        &format!("{dp}/1/codes/1/code"),
        ErrorCode::MissingMandatory,
    );
    assert_error(
        &errs,
        &format!("{dp}/2/vehicle_category_code"),
        ErrorCode::WrongType,
    );
    assert_error(&errs, &format!("{dp}/2/extra"), ErrorCode::UnknownElement);
    assert_eq!(errs.len(), 5, "{errs:#?}");
}

#[test]
fn wrong_types() {
    let errs = mdl_errors(|m| {
        m.insert("family_name".into(), json!(42));
        m.insert("sex".into(), json!("F"));
        m.insert("height".into(), json!(172.5));
        m.insert("age_over_18".into(), json!(null));
        m.insert(
            "driving_privileges".into(),
            json!({"vehicle_category_code": "B"}),
        );
        m.insert("birth_date".into(), json!(19900228));
    });
    for el in [
        "family_name",
        "sex",
        "height",
        "age_over_18",
        "driving_privileges",
        "birth_date",
    ] {
        assert_error(&errs, &format!("/{MDL_NS}/{el}"), ErrorCode::WrongType);
    }
    assert_eq!(errs.len(), 6);
    let top = registry().validate(MDL, &json!([1, 2])).unwrap_err();
    assert_error(&top, "", ErrorCode::WrongType);
    let ns = registry().validate(MDL, &json!({MDL_NS: "x"})).unwrap_err();
    assert_error(&ns, "/org.iso.18013.5.1", ErrorCode::WrongType);
}

#[test]
fn lengths() {
    let errs = mdl_errors(|m| {
        m.insert("family_name".into(), json!("a".repeat(151)));
        m.insert("document_number".into(), json!(""));
    });
    assert_error(&errs, "/org.iso.18013.5.1/family_name", ErrorCode::TooLong);
    assert_error(
        &errs,
        "/org.iso.18013.5.1/document_number",
        ErrorCode::TooShort,
    );
    // 150 multi-byte characters are fine: limits count characters, not bytes.
    let mut body = valid_mdl();
    body[MDL_NS]["family_name"] = json!("é".repeat(150));
    registry().validate(MDL, &body).expect("150 chars ok");
}

#[test]
fn out_of_range_and_not_allowed() {
    let errs = mdl_errors(|m| {
        m.insert("height".into(), json!(400));
        m.insert("weight".into(), json!(-3));
        m.insert("sex".into(), json!(3));
        m.insert("eye_colour".into(), json!("purple"));
        m.insert("issuing_country".into(), json!("XX"));
        m.insert("nationality".into(), json!("de"));
    });
    assert_error(&errs, "/org.iso.18013.5.1/height", ErrorCode::OutOfRange);
    assert_error(&errs, "/org.iso.18013.5.1/weight", ErrorCode::OutOfRange);
    assert_error(&errs, "/org.iso.18013.5.1/sex", ErrorCode::NotAllowedValue);
    assert_error(
        &errs,
        "/org.iso.18013.5.1/eye_colour",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/issuing_country",
        ErrorCode::NotAllowedValue,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/nationality",
        ErrorCode::NotAllowedValue,
    );
    assert_eq!(errs.len(), 6, "{errs:#?}");
}

#[test]
fn patterns() {
    let errs = mdl_errors(|m| {
        m.insert("un_distinguishing_sign".into(), json!("usa"));
        m.insert("issuing_jurisdiction".into(), json!("DE_NW"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/un_distinguishing_sign",
        ErrorCode::PatternMismatch,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/issuing_jurisdiction",
        ErrorCode::PatternMismatch,
    );
    let errs = mdl_errors(|m| {
        m.insert("issuing_jurisdiction".into(), json!("QQ-NW"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/issuing_jurisdiction",
        ErrorCode::PatternMismatch,
    );
    let mut body = valid_mdl();
    body[MDL_NS]["issuing_jurisdiction"] = json!("US-CA");
    registry().validate(MDL, &body).expect("US-CA ok");
}

#[test]
fn dates() {
    let errs = mdl_errors(|m| {
        m.insert("birth_date".into(), json!("1990-02-30"));
        m.insert("issue_date".into(), json!("15.01.2024"));
        m.insert("portrait_capture_date".into(), json!("2023-12-01"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/birth_date",
        ErrorCode::InvalidDate,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/issue_date",
        ErrorCode::InvalidDate,
    );
    assert_error(
        &errs,
        "/org.iso.18013.5.1/portrait_capture_date",
        ErrorCode::InvalidDate,
    );
}

#[test]
fn portrait_checks() {
    let errs = mdl_errors(|m| {
        m.insert(
            "portrait".into(),
            json!(b64(b"\x89PNG\r\n\x1a\nnot a jpeg")),
        );
    });
    assert_error(&errs, "/org.iso.18013.5.1/portrait", ErrorCode::NotJpeg);

    let errs = mdl_errors(|m| {
        m.insert("portrait".into(), json!("not*base64!"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/portrait",
        ErrorCode::InvalidEncoding,
    );

    // Issue 12, item 9: the three magic bytes alone passed as a JPEG; so did a JP2 signature
    // box followed by anything.
    let signature = [
        0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
    ];
    for fake in [
        vec![0xFF, 0xD8, 0xFF],
        [&signature[..], &[1, 2, 3]].concat(),
    ] {
        let errs = mdl_errors(|m| {
            m.insert("portrait".into(), json!(b64(&fake)));
        });
        assert_error(&errs, "/org.iso.18013.5.1/portrait", ErrorCode::NotJpeg);
    }

    // Rebuilding a replay takes the image as accepted before.
    let mut body = valid_mdl();
    body[MDL_NS]["portrait"] = json!(b64(&[0xFF, 0xD8, 0xFF]));
    let replay = ValidateOptions {
        replay: true,
        image_max_bytes: Some(1),
    };
    registry()
        .validate_with(MDL, &body, &replay)
        .expect("replay takes the image as it is");

    // A JPEG 2000 file (JP2: signature, file type, header and codestream boxes) is accepted
    // for the mDL portrait.
    let boxed = |kind: &[u8; 4], body: &[u8]| {
        [
            &u32::try_from(body.len() + 8).unwrap().to_be_bytes()[..],
            kind,
            body,
        ]
        .concat()
    };
    let mut codestream = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0];
    for v in [320u32, 400, 0, 0, 320, 400, 0, 0] {
        codestream.extend_from_slice(&v.to_be_bytes());
    }
    codestream.extend_from_slice(&[0, 1, 7, 1, 1, 0xFF, 0x90, 0, 0, 0xFF, 0xD9]);
    let jp2 = [
        signature.to_vec(),
        boxed(b"ftyp", b"jp2 \0\0\0\0jp2 "),
        boxed(b"jp2h", &boxed(b"ihdr", &[0; 14])),
        boxed(b"jp2c", &codestream),
    ]
    .concat();
    let mut body = valid_mdl();
    body[MDL_NS]["portrait"] = json!(b64(&jp2));
    registry().validate(MDL, &body).expect("jp2 ok");

    // Padded base64url is accepted too.
    let padded = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, jpeg_bytes());
    body[MDL_NS]["portrait"] = json!(padded);
    registry().validate(MDL, &body).expect("padded ok");
}

#[test]
fn oversized_portrait() {
    // Over the file's 1 MiB limit.
    let mut big = jpeg_bytes();
    big.resize(1_048_577, 0);
    let errs = mdl_errors(|m| {
        m.insert("portrait".into(), json!(b64(&big)));
    });
    assert_error(&errs, "/org.iso.18013.5.1/portrait", ErrorCode::TooLarge);

    // The operator's configured limit replaces the file's.
    let body = valid_mdl();
    let opts = ValidateOptions {
        image_max_bytes: Some(16),
        ..ValidateOptions::default()
    };
    let errs = registry().validate_with(MDL, &body, &opts).unwrap_err();
    assert_error(&errs, "/org.iso.18013.5.1/portrait", ErrorCode::TooLarge);
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn latin1_rule() {
    let errs = mdl_errors(|m| {
        m.insert("family_name".into(), json!("山田"));
        m.insert("given_name".into(), json!("Zoë\u{0152}"));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/family_name",
        ErrorCode::InvalidCharacter,
    );
    // Œ (U+0152) is in Windows-1252 but not ISO/IEC 8859-1.
    assert_error(
        &errs,
        "/org.iso.18013.5.1/given_name",
        ErrorCode::InvalidCharacter,
    );
    assert!(errs[0].message.contains("8859-1"));

    let mut body = valid_mdl();
    body[MDL_NS]["family_name"] = json!("Yamada");
    body[MDL_NS]["family_name_national_character"] = json!("山田");
    body[MDL_NS]["given_name_national_character"] = json!("太郎");
    let v = registry()
        .validate(MDL, &body)
        .expect("kanji in national character");
    assert_eq!(
        v.get(MDL_NS, "family_name_national_character"),
        Some(&text("山田"))
    );
}

#[test]
fn array_item_count() {
    let many: Vec<_> = (0..65)
        .map(|_| json!({"vehicle_category_code": "B"}))
        .collect();
    let errs = mdl_errors(|m| {
        m.insert("driving_privileges".into(), json!(many));
    });
    assert_error(
        &errs,
        "/org.iso.18013.5.1/driving_privileges",
        ErrorCode::TooLong,
    );
}

#[test]
fn errors_serialize_as_json() {
    let errs = mdl_errors(|m| {
        m.remove("family_name");
    });
    let j = serde_json::to_value(&errs).unwrap();
    assert_eq!(
        j,
        json!([{"path": "/org.iso.18013.5.1/family_name", "code": "missing_mandatory",
                "message": "mandatory element \"family_name\" is missing"}])
    );
    assert_eq!(
        errs[0].to_string(),
        "/org.iso.18013.5.1/family_name: missing_mandatory: mandatory element \"family_name\" is missing"
    );
}

#[test]
fn json_pointer_escapes() {
    let mut body = valid_mdl();
    body[MDL_NS]["a/b~c"] = json!(1);
    let errs = registry().validate(MDL, &body).unwrap_err();
    assert_error(
        &errs,
        "/org.iso.18013.5.1/a~1b~0c",
        ErrorCode::UnknownElement,
    );
}

#[test]
fn error_list_is_bounded() {
    let mut ns = serde_json::Map::new();
    for i in 0..500 {
        ns.insert(format!("junk_{i}"), json!(i));
    }
    let errs = registry().validate(MDL, &json!({MDL_NS: ns})).unwrap_err();
    assert_eq!(errs.len(), schemas::MAX_ERRORS + 1);
    assert_eq!(errs.last().unwrap().code, ErrorCode::TooManyErrors);
}
