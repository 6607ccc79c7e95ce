//! The engine's error type. Each variant says what went wrong and whose fault it is, and has a
//! stable code (also written to the audit log); the API layer (`api::error`) alone maps the
//! variants to HTTP statuses.

use crate::audit::AuditError;
use crate::pop::PopError;
use crate::store::StoreError;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldError {
    /// Where, `/`-separated: `claims/<namespace>/<element>`, `device_keys/<i>/proof`,
    /// `device_keys`, `nonce`, `reason`, `serial`, `Idempotency-Key`; empty for the whole body.
    pub path: String,
    /// What is wrong with the field, machine-readable.
    #[schema(examples(
        "malformed",
        "missing_mandatory",
        "wrong_type",
        "too_long",
        "too_short",
        "out_of_range",
        "pattern_mismatch",
        "not_allowed_value",
        "invalid_character",
        "invalid_encoding",
        "invalid_date",
        "not_jpeg",
        "too_large",
        "too_deep",
        "unknown_namespace",
        "unknown_element",
        "too_many_errors",
        "ds_mismatch",
        "invalid_device_key",
        "invalid_proof",
        "batch_size"
    ))]
    pub code: String,
    /// What is wrong, for people.
    pub message: String,
}

/// The stable, machine-readable code of every refusal or failure a client can be answered
/// with: the engine's ([`EngineError::code`]) and the HTTP layer's own (authentication, rate
/// limits, body, routing). The API's error body carries it; the audit log and the metrics use
/// [`ErrorCode::as_str`], the same spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not the expected JSON shape, or a header or path parameter is malformed.
    MalformedRequest,
    /// 422: the claims do not match the doc type (every problem listed).
    ValidationFailed,
    /// 422: the doc type is not configured.
    UnknownDoctype,
    /// 422: a device key cannot be used.
    InvalidDeviceKey,
    /// 422: a proof of possession failed.
    InvalidProof,
    /// 422: the nonce is forged, expired or already used.
    InvalidNonce,
    /// 409: a device key is bound to another document.
    DeviceKeyInUse,
    /// 404: no such document, DS certificate, status list or route.
    NotFound,
    /// 409: the document is revoked (final).
    DocumentRevoked,
    /// 409: a refresh carried other applicant data than the document's.
    ApplicantMismatch,
    /// 409: the `Idempotency-Key` was used for a different request.
    IdempotencyConflict,
    /// 409: the credential offer is not in a state that allows the operation.
    OfferState,
    /// 503: no DS certificate may sign now.
    NoSigningKey,
    /// 503: an admin suspended new issuance.
    IssuanceSuspended,
    /// 503: the audit log cannot record.
    AuditUnavailable,
    /// 503: the database is unavailable.
    StorageUnavailable,
    /// 503: the request took longer than `server.request_timeout_secs` and was abandoned.
    Timeout,
    /// 500: a fault of the service itself.
    InternalError,
    /// 401: no bearer token, an unknown one, or a disabled client.
    Unauthorized,
    /// 403: the client lacks the scope the operation needs.
    InsufficientScope,
    /// 429: the client's (or the source address's) request rate is exceeded.
    RateLimited,
    /// 413: the body exceeds `server.max_body_bytes`.
    BodyTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 405: the route exists, but not for this method.
    MethodNotAllowed,
}

impl ErrorCode {
    /// The code as written on the wire, in the audit log and in the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::UnknownDoctype => "unknown_doctype",
            ErrorCode::InvalidDeviceKey => "invalid_device_key",
            ErrorCode::InvalidProof => "invalid_proof",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::DeviceKeyInUse => "device_key_in_use",
            ErrorCode::NotFound => "not_found",
            ErrorCode::DocumentRevoked => "document_revoked",
            ErrorCode::ApplicantMismatch => "applicant_mismatch",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::OfferState => "offer_state",
            ErrorCode::NoSigningKey => "no_signing_key",
            ErrorCode::IssuanceSuspended => "issuance_suspended",
            ErrorCode::AuditUnavailable => "audit_unavailable",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FieldError {
    /// A field error.
    pub fn new(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Why the engine refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is malformed (not the expected JSON shape).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Claims failed the doc-type schema (every problem listed).
    #[error("claims do not match the doc type")]
    Validation(Vec<FieldError>),
    /// The doc type is not configured.
    #[error("unknown doc type {0:?}")]
    UnknownDoctype(String),
    /// A device key could not be used.
    #[error("invalid device key")]
    DeviceKey(FieldError),
    /// A proof of possession failed.
    #[error("invalid proof of possession")]
    Proof(FieldError),
    /// The nonce is invalid, expired or already used.
    #[error("{0}")]
    Nonce(PopError),
    /// The nonce was already consumed.
    #[error("nonce was already used")]
    NonceReused,
    /// A device key is bound to another document (with its index in the request, when known).
    #[error("device key is already bound to another document")]
    DeviceKeyInUse(Option<usize>),
    /// The document does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The document is revoked (final), so it cannot be refreshed.
    #[error("document is revoked")]
    Revoked,
    /// A refresh carried different applicant data than the document was issued with.
    #[error("claims differ from the document's: issue a new document instead")]
    ApplicantMismatch,
    /// The `Idempotency-Key` was used for another request.
    #[error("Idempotency-Key was already used for a different request")]
    IdempotencyConflict,
    /// A credential offer cannot make this change in its present state (withdrawing an issued
    /// offer, giving a record to an offer that has one).
    #[error("the offer is {0}")]
    OfferState(&'static str),
    /// No DS certificate may sign now.
    #[error("no usable DS certificate")]
    NoSigningDs,
    /// An admin suspended new issuance (the emergency stop); the reason is theirs.
    #[error("new issuance is suspended: {0}")]
    IssuanceSuspended(String),
    /// The audit log could not record the operation.
    #[error("{0}")]
    Audit(#[from] AuditError),
    /// Storage failed (not the client's fault).
    #[error("storage: {0}")]
    Storage(StoreError),
    /// Configuration problem at start-up.
    #[error("configuration: {0}")]
    Config(String),
    /// Anything else that is not the client's fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => EngineError::NotFound(what),
            StoreError::Conflict => EngineError::IdempotencyConflict,
            StoreError::Revoked => EngineError::Revoked,
            StoreError::DeviceKeyInUse => EngineError::DeviceKeyInUse(None),
            StoreError::NonceReused => EngineError::NonceReused,
            // Signed by a DS revoked meanwhile: a retry signs with a usable one.
            StoreError::DsRevoked => EngineError::NoSigningDs,
            StoreError::OfferClosed => EngineError::OfferState("closed"),
            other => EngineError::Storage(other),
        }
    }
}

impl From<crate::ds::DsError> for EngineError {
    fn from(e: crate::ds::DsError) -> Self {
        EngineError::Internal(format!("DS: {e}"))
    }
}

impl EngineError {
    /// The stable error code clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Malformed(_) => ErrorCode::MalformedRequest,
            EngineError::Validation(_) => ErrorCode::ValidationFailed,
            EngineError::UnknownDoctype(_) => ErrorCode::UnknownDoctype,
            EngineError::DeviceKey(_) => ErrorCode::InvalidDeviceKey,
            EngineError::Proof(_) => ErrorCode::InvalidProof,
            EngineError::Nonce(_) | EngineError::NonceReused => ErrorCode::InvalidNonce,
            EngineError::DeviceKeyInUse(_) => ErrorCode::DeviceKeyInUse,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::Revoked => ErrorCode::DocumentRevoked,
            EngineError::ApplicantMismatch => ErrorCode::ApplicantMismatch,
            EngineError::IdempotencyConflict => ErrorCode::IdempotencyConflict,
            EngineError::OfferState(_) => ErrorCode::OfferState,
            EngineError::NoSigningDs => ErrorCode::NoSigningKey,
            EngineError::IssuanceSuspended(_) => ErrorCode::IssuanceSuspended,
            EngineError::Audit(_) => ErrorCode::AuditUnavailable,
            EngineError::Storage(_) => ErrorCode::StorageUnavailable,
            EngineError::Config(_) | EngineError::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The field errors to report.
    pub fn details(&self) -> Vec<FieldError> {
        match self {
            EngineError::Validation(v) => v.clone(),
            EngineError::DeviceKey(f) | EngineError::Proof(f) => vec![f.clone()],
            EngineError::UnknownDoctype(_) => {
                vec![FieldError::new(
                    "doctype",
                    "unknown_doctype",
                    self.to_string(),
                )]
            }
            EngineError::Nonce(_) | EngineError::NonceReused => {
                vec![FieldError::new("nonce", "invalid_nonce", self.to_string())]
            }
            EngineError::DeviceKeyInUse(i) => vec![FieldError::new(
                i.map_or_else(|| "device_keys".to_owned(), |i| format!("device_keys/{i}")),
                "device_key_in_use",
                self.to_string(),
            )],
            _ => Vec::new(),
        }
    }

    /// Whether the client caused it rather than the service (a refused request may then be
    /// the retry of one that succeeded).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            EngineError::NoSigningDs
                | EngineError::IssuanceSuspended(_)
                | EngineError::Audit(_)
                | EngineError::Storage(_)
                | EngineError::Config(_)
                | EngineError::Internal(_)
        )
    }

    /// The message clients see: never storage or internal detail.
    pub fn public_message(&self) -> String {
        match self {
            EngineError::Storage(e) => e.public_message().to_owned(),
            EngineError::Audit(_) => "the audit log is unavailable; retry later".into(),
            EngineError::Config(_) | EngineError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::ErrorCode::{self, *};
    use utoipa::PartialSchema;

    /// The spelling of the audit log and the metrics is the one on the wire and in the
    /// OpenAPI document, for every code.
    #[test]
    fn as_str_is_the_wire_spelling() {
        let all = [
            MalformedRequest,
            ValidationFailed,
            UnknownDoctype,
            InvalidDeviceKey,
            InvalidProof,
            InvalidNonce,
            DeviceKeyInUse,
            NotFound,
            DocumentRevoked,
            ApplicantMismatch,
            IdempotencyConflict,
            OfferState,
            NoSigningKey,
            IssuanceSuspended,
            AuditUnavailable,
            StorageUnavailable,
            Timeout,
            InternalError,
            Unauthorized,
            InsufficientScope,
            RateLimited,
            BodyTooLarge,
            UnsupportedMediaType,
            MethodNotAllowed,
        ];
        for code in all {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        // The list above is every variant: the schema enumerates as many.
        let schema = serde_json::to_value(ErrorCode::schema()).unwrap();
        assert_eq!(schema["enum"].as_array().unwrap().len(), all.len());
    }
}
