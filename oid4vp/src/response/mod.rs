//! OpenID4VP 1.0 responses for `mso_mdoc`: the VP Token ([`token`]), the bodies of the four
//! response modes ([`body`]), the encrypted modes' JWE ([`encrypt`]) and the SessionTranscript handover ([`handover`]). Bounds are in
//! [`limits`]; every refusal is a [`ResponseError`].

pub mod body;
pub mod encrypt;
pub mod error;
pub mod handover;
pub mod limits;
pub mod token;

pub use body::{
    body_kind, dc_api_jwt_response, dc_api_response, direct_post_body, direct_post_jwt_body,
    error_body, parse_dc_api_jwt_response, parse_dc_api_response, parse_direct_post_body,
    parse_direct_post_jwt_body, BodyKind, ErrorResponse,
};
pub use encrypt::{decrypt_response, encrypt_response, SUPPORTED_ENCS};
pub use error::ResponseError;
pub use handover::handover;
pub use token::{ResponseParams, VpToken};
