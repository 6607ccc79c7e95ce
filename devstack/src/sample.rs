//! Sample applicant data and the wallet side of an issuance request. **DEVELOPMENT ONLY.**

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mdoc_issuer::pop::make_proof;
use mso::crypto::SoftwareKey;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::pki::COUNTRY;
use crate::Result;

/// The mDL doc type.
pub const MDL: &str = "org.iso.18013.5.1.mDL";
/// The mDL namespace.
pub const MDL_NS: &str = "org.iso.18013.5.1";

/// A stand-in portrait of about `len` bytes: a valid 8×8 grey JPEG padded with a comment.
pub fn portrait(len: usize) -> Vec<u8> {
    schemas::image::sample_jpeg(len)
}

/// A fictitious applicant's mDL: the 12 elements the load benchmark issues (11 mandatory ones
/// plus `age_over_18`), with a 20 KB portrait.
pub fn mdl_claims() -> Value {
    json!({ MDL_NS: {
        "family_name": "Jansen",
        "given_name": "Eva Maria",
        "birth_date": "1990-02-28",
        "issue_date": "2026-01-15",
        "expiry_date": "2036-01-14",
        "issuing_country": COUNTRY,
        "issuing_authority": "DEV-ONLY Test Authority",
        "document_number": "DEV0012345",
        "portrait": URL_SAFE_NO_PAD.encode(portrait(20 * 1024)),
        "driving_privileges": [
            {"vehicle_category_code": "B", "issue_date": "2008-05-01", "expiry_date": "2036-01-14"}
        ],
        "un_distinguishing_sign": "NL",
        "age_over_18": true
    }})
}

/// The JSON body of `POST /v1/documents` for `claims`, binding one MSO to each of `keys`
/// with a proof over `nonce` for the issuer `audience`.
pub fn issue_body(
    doctype: &str,
    claims: &Value,
    nonce: &str,
    audience: &str,
    keys: &[SoftwareKey],
    now: OffsetDateTime,
) -> Result<Value> {
    let mut device_keys = Vec::with_capacity(keys.len());
    for k in keys {
        device_keys.push(json!({"proof": make_proof(k, audience, nonce, now, true)?}));
    }
    Ok(json!({
        "doctype": doctype,
        "claims": claims,
        "nonce": nonce,
        "device_keys": device_keys,
    }))
}
