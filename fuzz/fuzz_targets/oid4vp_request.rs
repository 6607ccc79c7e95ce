//! OpenID4VP authorization requests as a wallet reads them: unsigned (DC API or not), as a
//! request URL, and as a signed request object against an empty anchor set; untrusted input
//! never panics, and an unsigned request that parses re-parses from its own JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdoc_oid4vp::request::{
    parse_request_url, parse_unsigned, verify_request_object, AuthorizationRequest,
    RequestContext,
};
use mso::crypto::DefaultVerifier;
use mso::x509::TrustAnchors;
use time::macros::datetime;

fuzz_target!(|input: &[u8]| {
    let dc_api = RequestContext {
        dc_api_origin: Some("https://verifier.example".into()),
        ..RequestContext::default()
    };
    for context in [&RequestContext::default(), &dc_api] {
        if let Ok(verified) = parse_unsigned(input, context) {
            let json = verified.request.to_json();
            AuthorizationRequest::from_value(json).expect("a parsed request re-parses");
        }
    }
    let _ = AuthorizationRequest::from_json(input);
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = parse_request_url(text);
        let anchors = TrustAnchors::new(Vec::new());
        let at = datetime!(2026-06-01 12:00:00 UTC);
        for context in [&RequestContext::default(), &dc_api] {
            assert!(
                verify_request_object(text, &anchors, at, &DefaultVerifier, context).is_err(),
                "no request object verifies without an anchor"
            );
        }
    }
});
