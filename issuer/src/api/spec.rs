//! The parts of the OpenAPI document that are not request or response types: the error
//! responses by status (each names the `error.code` values it may carry, and its schema allows
//! only those), the header parameters, and the name of the security scheme. Handlers name them
//! in their `#[utoipa::path]` attributes; [`super::openapi`] registers the responses as
//! components.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{
    Components, ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{IntoParams, ToResponse, ToSchema};

use super::error::{ErrorBody, OAuthErrorBody};
use crate::engine::ErrorCode;

/// The security scheme of the API clients' operations, with the scope each needs.
pub const BEARER: &str = "bearer";

/// The security scheme of the wallet's OpenID4VCI resource endpoints: an access token.
pub const ACCESS_TOKEN: &str = "access_token";

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// `Cache-Control: no-store`, on every answer carrying a document or an error.
fn no_store() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["no-store"])),
        )
        .description(Some(
            "Responses carrying documents or errors are never cached.",
        ))
        .build()
}

/// `Retry-After`, on 429 and 503.
fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before retrying."))
        .build()
}

/// The error body whose `error.code` is one of `codes`.
fn error_schema(codes: &[ErrorCode]) -> Schema {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())));
    Schema::AllOf(
        AllOfBuilder::new()
            .item(Ref::from_schema_name(ErrorBody::name()))
            .item(ObjectBuilder::new().property(
                "error",
                ObjectBuilder::new().property("code", code).required("code"),
            ))
            .build(),
    )
}

/// An error response: `description`, then the codes it may carry.
fn error_response(description: &str, codes: &[ErrorCode], retry: bool) -> Response {
    let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let mut r = ResponseBuilder::new()
        .description(format!(
            "{description} Possible `error.code` values: {}.",
            listed.join(", ")
        ))
        .header("Cache-Control", no_store())
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(error_schema(codes)))
                .build(),
        );
    if retry {
        r = r.header("Retry-After", retry_after());
    }
    r.build()
}

/// What an OAuth error response carries besides `Cache-Control`.
enum Extra {
    None,
    WwwAuthenticate,
    RetryAfter,
}

/// An OAuth error response of the wallet routes: `description`, then the codes it may carry.
fn oauth_response(description: &str, codes: &[&str], extra: Extra) -> Response {
    let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let schema = Schema::AllOf(
        AllOfBuilder::new()
            .item(Ref::from_schema_name(OAuthErrorBody::name()))
            .item(
                ObjectBuilder::new().property(
                    "error",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes.iter().copied())),
                ),
            )
            .build(),
    );
    let mut r = ResponseBuilder::new()
        .description(format!(
            "{description} Possible `error` values: {}.",
            listed.join(", ")
        ))
        .header("Cache-Control", no_store())
        .header("DPoP-Nonce", dpop_nonce())
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        );
    r = match extra {
        Extra::None => r,
        Extra::RetryAfter => r.header("Retry-After", retry_after()),
        Extra::WwwAuthenticate => r.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(
                    "`Bearer` or `DPoP`, with `error` and `error_description` (RFC 6750 §3).",
                ))
                .build(),
        ),
    };
    r.build()
}

/// `DPoP-Nonce`: the nonce for the wallet's next DPoP proof, when the issuer requires them.
pub fn dpop_nonce() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "A fresh server nonce for the next DPoP proof (RFC 9449 §8), when DPoP nonces are \
             required.",
        ))
        .build()
}

/// Declares each response as a type implementing [`ToResponse`] (for `response = Name` in
/// `#[utoipa::path]`), and [`register_error_responses`] adding them all as components.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident = $build:expr;)+) => {
        $(
            $(#[$doc])*
            pub enum $name {}

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), $build.into())
                }
            }
        )+

        /// Adds every error response of this module to `components`.
        pub fn register_error_responses(components: &mut Components) {
            $(
                let (name, response) = <$name as ToResponse>::response();
                components.responses.insert(name.to_owned(), response);
            )+
        }
    };
}

error_responses! {
    /// 400.
    BadRequest = error_response(
        "The body is not the expected JSON shape (syntax error, unknown or missing field, wrong \
         JSON type), or a header or path parameter is malformed. `details[0].path` names the \
         field (`nonce`, `device_keys/0/proof`, `reason`, `serial`, `Idempotency-Key`; empty \
         for the body as a whole).",
        &[ErrorCode::MalformedRequest],
        false
    );
    /// 401.
    Unauthorized = error_response(
        "No `Authorization: Bearer <token>` header, an unknown token, or a disabled client.",
        &[ErrorCode::Unauthorized],
        false
    );
    /// 403.
    Forbidden = error_response(
        "The client lacks the scope the operation needs.",
        &[ErrorCode::InsufficientScope],
        false
    );
    /// 404.
    NotFound = error_response(
        "The document (or DS certificate, status list or route) does not exist; a document id \
         that is not 32 hex digits is also 404.",
        &[ErrorCode::NotFound],
        false
    );
    /// 405, for any method an operation of the path does not list.
    MethodNotAllowed = error_response(
        "The route exists but not for this method.",
        &[ErrorCode::MethodNotAllowed],
        false
    );
    /// 409 of an issuance.
    IssueConflict = error_response(
        "A device key is already bound to another document, or the `Idempotency-Key` was used \
         for a different request.",
        &[ErrorCode::DeviceKeyInUse, ErrorCode::IdempotencyConflict],
        false
    );
    /// 409 of a refresh.
    RefreshConflict = error_response(
        "The document is revoked (final), the claims differ from the document's, a device key \
         is bound to another document, or the `Idempotency-Key` was used for a different \
         request.",
        &[ErrorCode::DocumentRevoked, ErrorCode::ApplicantMismatch, ErrorCode::DeviceKeyInUse, ErrorCode::IdempotencyConflict],
        false
    );
    /// 409 of the offer routes.
    OfferConflict = error_response(
        "The offer is not in a state that allows this (already issued, withdrawn, or its record \
         already given).",
        &[ErrorCode::OfferState],
        false
    );
    /// 413.
    PayloadTooLarge = error_response(
        "The body exceeds `server.max_body_bytes` (default 1 MiB).",
        &[ErrorCode::BodyTooLarge],
        false
    );
    /// 415.
    UnsupportedMediaType = error_response(
        "The body is not `Content-Type: application/json`.",
        &[ErrorCode::UnsupportedMediaType],
        false
    );
    /// 422 of an issuance or refresh.
    Unprocessable = error_response(
        "The request is well-formed but refused; nothing was signed or stored and the nonce \
         was not consumed (except for a replayed nonce). `validation_failed` lists every claims \
         problem (`claims/...`); `unknown_doctype` names `doctype`; `invalid_device_key` / \
         `invalid_proof` name `device_keys/<i>/...` (`device_keys` for a batch of the wrong \
         size); `invalid_nonce`: the nonce is forged, expired or already used.",
        &[ErrorCode::ValidationFailed, ErrorCode::UnknownDoctype, ErrorCode::InvalidDeviceKey, ErrorCode::InvalidProof, ErrorCode::InvalidNonce],
        false
    );
    /// 429.
    TooManyRequests = error_response(
        "The client's request rate exceeds its token bucket (`rate_limit.per_second`, \
         `rate_limit.burst`), or the source address sent too many unauthenticated requests. \
         Retry after `Retry-After` seconds.",
        &[ErrorCode::RateLimited],
        true
    );
    /// 500.
    InternalError = error_response(
        "A fault of the service itself; never caused by the request.",
        &[ErrorCode::InternalError],
        false
    );
    /// 503 of every route but issuance and refresh.
    ServiceUnavailable = error_response(
        "The service cannot act now and did nothing: no usable DS certificate, the database or \
         the audit log is unavailable, or the request exceeded `server.request_timeout_secs`. \
         Retry after `Retry-After` seconds.",
        &[ErrorCode::NoSigningKey, ErrorCode::StorageUnavailable, ErrorCode::AuditUnavailable, ErrorCode::Timeout],
        true
    );
    /// 503 of issuance and refresh: also the emergency stop.
    IssuanceUnavailable = error_response(
        "The service cannot sign now and did nothing: new issuance is suspended by an admin \
         (`issuance_suspended`), no usable DS certificate, the database or the audit log is \
         unavailable, or the request exceeded `server.request_timeout_secs`. Retry after \
         `Retry-After` seconds.",
        &[ErrorCode::IssuanceSuspended, ErrorCode::NoSigningKey, ErrorCode::StorageUnavailable, ErrorCode::AuditUnavailable, ErrorCode::Timeout],
        true
    );
    /// 400 of the wallet routes.
    OAuthBadRequest = oauth_response(
        "The request is refused (RFC 6749 §5.2, OpenID4VCI 1.0 §8.3.1.2, §9.3, §11.3); \
         `issuance_pending` carries the `interval` to wait. A service fault caused by the \
         request's content is `server_error`.",
        &[
            "invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_dpop_proof",
            "use_dpop_nonce", "invalid_credential_request", "unknown_credential_configuration",
            "unknown_credential_identifier", "invalid_proof", "invalid_nonce",
            "invalid_encryption_parameters", "credential_request_denied", "issuance_pending",
            "invalid_transaction_id", "invalid_notification_id", "invalid_notification_request",
            "invalid_scope", "invalid_authorization_details", "invalid_request_uri",
            "unsupported_response_type", "server_error",
        ],
        Extra::None
    );
    /// 401 of the wallet routes.
    OAuthUnauthorized = oauth_response(
        "No access token, an unknown or expired one, a DPoP proof that does not fit it, or a \
         DPoP nonce to use (RFC 6750 §3.1, RFC 9449 §7.1, §8); `WWW-Authenticate` names the \
         scheme to use.",
        &["invalid_token", "invalid_dpop_proof", "use_dpop_nonce", "invalid_client"],
        Extra::WwwAuthenticate
    );
    /// 500 of the wallet routes.
    OAuthServerError = oauth_response(
        "A fault of the service itself.",
        &["server_error"],
        Extra::None
    );
    /// 503 of the wallet routes.
    OAuthUnavailable = oauth_response(
        "The service cannot act now and did nothing (no usable DS certificate, issuance \
         suspended, the database or the audit log unavailable). Retry after `Retry-After` \
         seconds.",
        &["temporarily_unavailable"],
        Extra::RetryAfter
    );
}

/// A string header parameter.
fn header_param(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The `Idempotency-Key` request header (`params(IdempotencyKey)`).
pub enum IdempotencyKey {}

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_param(
            "Idempotency-Key",
            "Makes the request safe to retry. Scoped to the API client and remembered for \
             `issuance.idempotency_ttl_secs` (default 24 h). A retry with the same key and the \
             same route and body gets the stored response (header `Idempotent-Replayed: true`), \
             even while the first attempt is still running elsewhere; the same key with a \
             different route or body is 409 `idempotency_conflict`. Stored responses are \
             encrypted under a key derived from the request itself.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_IDEMPOTENCY_KEY_LEN)),
        )]
    }
}

/// The `If-None-Match` request header of the lists (`params(IfNoneMatch)`).
pub enum IfNoneMatch {}

impl IntoParams for IfNoneMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_param(
            "If-None-Match",
            "An `ETag` from an earlier response (or `*`): answered 304 when the token is \
             unchanged.",
            ObjectBuilder::new().schema_type(Type::String),
        )]
    }
}

/// The form parameters of a token request with the pre-authorized code grant
/// (`application/x-www-form-urlencoded`, RFC 6749 §4.1.3, OpenID4VCI 1.0 §6.1). The handler
/// reads the form as name-value pairs (refusing duplicates); this type only describes it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    grant_type: String,
    /// The pre-authorized code from the credential offer.
    #[schema(rename = "pre-authorized_code")]
    pre_authorized_code: String,
    /// The transaction code the portal sent by another channel, when the offer asks for one.
    tx_code: Option<String>,
    /// A JSON array of `{"type": "openid_credential", "credential_configuration_id": …}`
    /// naming the offered configuration (RFC 9396 §6.1, OpenID4VCI 1.0 §6.1): the answer
    /// then grants a `credential_identifier` for it.
    authorization_details: Option<String>,
}
