//! A request received through the Digital Credentials API (A.1, A.3): the exchange protocol
//! names whether `data` is the unsigned request itself or `{"request": "<JWS>"}`.

use mso::crypto::Verifier;
use mso::x509::TrustAnchors;
use serde::Deserialize;
use time::OffsetDateTime;

use super::check::{parse_unsigned, RequestContext, VerifiedRequest};
use super::error::RequestError;
use super::limits::MAX_REQUEST_LEN;
use super::object::verify_request_object;

/// The DC API protocol of unsigned requests.
pub const PROTOCOL_UNSIGNED: &str = "openid4vp-v1-unsigned";
/// The DC API protocol of signed requests (JWS compact serialization).
pub const PROTOCOL_SIGNED: &str = "openid4vp-v1-signed";

/// `data` of a signed request: only `request` is read (A.3.1).
#[derive(Deserialize)]
struct Signed {
    request: String,
}

/// Reads a DC API request: `protocol` is [`PROTOCOL_UNSIGNED`] (checked by [`parse_unsigned`])
/// or [`PROTOCOL_SIGNED`] (checked by [`verify_request_object`] against `anchors` at `at`);
/// `origin` is the verifier origin the platform reported. Multi-signed requests
/// (`openid4vp-v1-multisigned`) and other protocols are refused.
pub fn dc_api_request(
    protocol: &str,
    data: &[u8],
    origin: &str,
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    verifier: &dyn Verifier,
) -> Result<VerifiedRequest, RequestError> {
    let context = RequestContext {
        dc_api_origin: Some(origin.to_owned()),
        ..RequestContext::default()
    };
    match protocol {
        PROTOCOL_UNSIGNED => parse_unsigned(data, &context),
        PROTOCOL_SIGNED => {
            if data.len() > MAX_REQUEST_LEN {
                return Err(RequestError::TooLong {
                    max: MAX_REQUEST_LEN,
                });
            }
            let signed: Signed =
                serde_json::from_slice(data).map_err(|e| RequestError::Malformed(e.to_string()))?;
            verify_request_object(&signed.request, anchors, at, verifier, &context)
        }
        other => Err(RequestError::Protocol(other.chars().take(40).collect())),
    }
}
