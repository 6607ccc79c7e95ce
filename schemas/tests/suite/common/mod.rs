//! Shared helpers.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use base64::Engine as _;
use schemas::{ErrorCode, Registry, ValidationError};
use serde_json::{json, Value};

pub const MDL: &str = "org.iso.18013.5.1.mDL";
pub const MDL_NS: &str = "org.iso.18013.5.1";

/// A small valid JPEG.
pub fn jpeg_bytes() -> Vec<u8> {
    schemas::image::sample_jpeg(200)
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn registry() -> Registry {
    Registry::builtin().expect("builtin registry loads")
}

/// A complete, valid mDL request body.
pub fn valid_mdl() -> Value {
    json!({
        MDL_NS: {
            "family_name": "Müller",
            "given_name": "Anna Lena",
            "birth_date": "1990-02-28",
            "issue_date": "2024-01-15",
            "expiry_date": "2034-01-14T00:00:00Z",
            "issuing_country": "DE",
            "issuing_authority": "Stadt Köln",
            "document_number": "B072RRE2I55",
            "portrait": b64(&jpeg_bytes()),
            "driving_privileges": [
                {"vehicle_category_code": "B", "issue_date": "2008-05-01",
                 "expiry_date": "2034-01-14",
                 "codes": [{"code": "78"}, {"code": "01", "sign": "=", "value": "02"}]},
                {"vehicle_category_code": "AM"}
            ],
            "un_distinguishing_sign": "D",
            "sex": 2,
            "height": 172,
            "eye_colour": "blue",
            "age_over_18": true,
            "age_over_65": false,
            "age_birth_year": 1990,
            "issuing_jurisdiction": "DE-NW",
            "nationality": "DE",
            "family_name_national_character": "ミュラー",
            "portrait_capture_date": "2023-12-01T10:00:00+01:00"
        }
    })
}

/// Asserts `errors` contains exactly one error at `path` and that it has `code`.
pub fn assert_error(errors: &[ValidationError], path: &str, code: ErrorCode) {
    let at: Vec<&ValidationError> = errors.iter().filter(|e| e.path == path).collect();
    assert!(
        at.iter().any(|e| e.code == code),
        "expected {code} at {path}, got {errors:#?}"
    );
}

/// Validates the mDL body after `edit`, expecting failure.
pub fn mdl_errors(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<ValidationError> {
    let mut body = valid_mdl();
    edit(body[MDL_NS].as_object_mut().unwrap());
    registry()
        .validate(MDL, &body)
        .expect_err("expected validation to fail")
}
