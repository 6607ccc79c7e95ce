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

use super::error::ErrorBody;
use crate::engine::ErrorCode;

/// The security scheme every authenticated operation names, with the scope it needs.
pub const BEARER: &str = "bearer";

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

/// Declares each error response as a type implementing [`ToResponse`] (for `response = Name`
/// in `#[utoipa::path]`), and [`register_error_responses`] adding them all as components.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident = ($desc:expr, [$($code:ident),+ $(,)?], $retry:expr);)+) => {
        $(
            $(#[$doc])*
            pub enum $name {}

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (
                        stringify!($name),
                        error_response($desc, &[$(ErrorCode::$code),+], $retry).into(),
                    )
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
    BadRequest = (
        "The body is not the expected JSON shape (syntax error, unknown or missing field, wrong \
         JSON type), or a header or path parameter is malformed. `details[0].path` names the \
         field (`nonce`, `device_keys/0/proof`, `reason`, `serial`, `Idempotency-Key`; empty \
         for the body as a whole).",
        [MalformedRequest],
        false
    );
    /// 401.
    Unauthorized = (
        "No `Authorization: Bearer <token>` header, an unknown token, or a disabled client.",
        [Unauthorized],
        false
    );
    /// 403.
    Forbidden = (
        "The client lacks the scope the operation needs.",
        [InsufficientScope],
        false
    );
    /// 404.
    NotFound = (
        "The document (or DS certificate, status list or route) does not exist; a document id \
         that is not 32 hex digits is also 404.",
        [NotFound],
        false
    );
    /// 405, for any method an operation of the path does not list.
    MethodNotAllowed = (
        "The route exists but not for this method.",
        [MethodNotAllowed],
        false
    );
    /// 409 of an issuance.
    IssueConflict = (
        "A device key is already bound to another document, or the `Idempotency-Key` was used \
         for a different request.",
        [DeviceKeyInUse, IdempotencyConflict],
        false
    );
    /// 409 of a refresh.
    RefreshConflict = (
        "The document is revoked (final), the claims differ from the document's, a device key \
         is bound to another document, or the `Idempotency-Key` was used for a different \
         request.",
        [DocumentRevoked, ApplicantMismatch, DeviceKeyInUse, IdempotencyConflict],
        false
    );
    /// 413.
    PayloadTooLarge = (
        "The body exceeds `server.max_body_bytes` (default 1 MiB).",
        [BodyTooLarge],
        false
    );
    /// 415.
    UnsupportedMediaType = (
        "The body is not `Content-Type: application/json`.",
        [UnsupportedMediaType],
        false
    );
    /// 422 of an issuance or refresh.
    Unprocessable = (
        "The request is well-formed but refused; nothing was signed or stored and the nonce \
         was not consumed (except for a replayed nonce). `validation_failed` lists every claims \
         problem (`claims/...`); `unknown_doctype` names `doctype`; `invalid_device_key` / \
         `invalid_proof` name `device_keys/<i>/...` (`device_keys` for a batch of the wrong \
         size); `invalid_nonce`: the nonce is forged, expired or already used.",
        [ValidationFailed, UnknownDoctype, InvalidDeviceKey, InvalidProof, InvalidNonce],
        false
    );
    /// 429.
    TooManyRequests = (
        "The client's request rate exceeds its token bucket (`rate_limit.per_second`, \
         `rate_limit.burst`), or the source address sent too many unauthenticated requests. \
         Retry after `Retry-After` seconds.",
        [RateLimited],
        true
    );
    /// 500.
    InternalError = (
        "A fault of the service itself; never caused by the request.",
        [InternalError],
        false
    );
    /// 503 of every route but issuance and refresh.
    ServiceUnavailable = (
        "The service cannot act now and did nothing: no usable DS certificate, the database or \
         the audit log is unavailable, or the request exceeded `server.request_timeout_secs`. \
         Retry after `Retry-After` seconds.",
        [NoSigningKey, StorageUnavailable, AuditUnavailable, Timeout],
        true
    );
    /// 503 of issuance and refresh: also the emergency stop.
    IssuanceUnavailable = (
        "The service cannot sign now and did nothing: new issuance is suspended by an admin \
         (`issuance_suspended`), no usable DS certificate, the database or the audit log is \
         unavailable, or the request exceeded `server.request_timeout_secs`. Retry after \
         `Retry-After` seconds.",
        [IssuanceSuspended, NoSigningKey, StorageUnavailable, AuditUnavailable, Timeout],
        true
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
