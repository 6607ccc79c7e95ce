//! OpenID4VP responses as a verifier reads them: the four bodies, error responses and the VP
//! Token; untrusted input never panics, and a VP Token or response that parses round-trips
//! through its JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdoc_oid4vp::response::{
    body_kind, parse_dc_api_jwt_response, parse_dc_api_response, parse_direct_post_body,
    parse_direct_post_jwt_body, ResponseParams, VpToken,
};

fuzz_target!(|input: &[u8]| {
    for dc_api in [false, true] {
        let _ = body_kind(input, dc_api);
    }
    if let Ok(params) = parse_direct_post_body(input) {
        let again = ResponseParams::from_json(&params.to_json()).expect("params round-trip");
        assert!(again == params, "direct_post params changed through JSON");
    }
    let _ = parse_direct_post_jwt_body(input);
    if let Ok(token) = parse_dc_api_response(input) {
        let again = VpToken::from_json(&token.to_json()).expect("a VP Token round-trips");
        assert!(again == token, "a VP Token changed through JSON");
    }
    let _ = parse_dc_api_jwt_response(input);
    if let Ok(json) = serde_json::from_slice(input) {
        let _ = ResponseParams::from_json(&json);
        let _ = VpToken::from_json(&json);
    }
});
