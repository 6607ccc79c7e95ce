//! OpenID4VP 1.0 authorization requests for `mso_mdoc`: the model ([`model`]), client
//! identifier prefixes ([`client_id`]), the checks that depend on the channel ([`check`]),
//! signed request objects ([`object`]), request URLs ([`url`]) and
//! Digital Credentials API requests ([`dc_api`]). Every bound is in
//! [`limits`]; every refusal is a [`RequestError`].

pub mod check;
pub mod client_id;
pub mod dc_api;
pub mod error;
pub mod limits;
pub mod model;
pub mod object;
pub mod url;

pub use check::{parse_unsigned, RequestContext, VerifiedRequest, VerifierIdentity};
pub use client_id::{ClientId, ClientIdError};
pub use dc_api::{dc_api_request, PROTOCOL_SIGNED, PROTOCOL_UNSIGNED};
pub use error::RequestError;
pub use model::{
    AuthorizationRequest, ClientMetadata, EncryptionKey, Jwks, ResponseMode, DEFAULT_ENC,
    RESPONSE_TYPE,
};
pub use object::{sign_request_object, verify_request_object, REQUEST_OBJECT_TYP, SELF_ISSUED_AUD};
pub use url::{parse_request_url, request_uri_url, request_url, RequestUriMethod, RequestUrl};
