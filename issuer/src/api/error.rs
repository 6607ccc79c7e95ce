//! The JSON error body every refusal uses, and the mapping from engine errors to HTTP.
//!
//! ```json
//! {"error": {"code": "validation_failed", "message": "...",
//!            "details": [{"path": "claims/org.iso.18013.5.1/birth_date", "code": "...", "message": "..."}]}}
//! ```

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::{EngineError, ErrorCode, FieldError};

/// What the audit/metrics middleware learns about a refusal (attached to the response).
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The error code ([`ErrorCode::as_str`], or an OAuth error code on the wallet routes).
    pub code: &'static str,
    /// The paths of the fields at fault (never their values).
    pub paths: Vec<String>,
}

/// An error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable message (never internal detail).
    pub message: String,
    /// Field-level problems.
    pub details: Vec<FieldError>,
    /// `Retry-After` seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

/// The body of every refusal: a stable code, a message for people and, when the problem is
/// with fields, the fields at fault.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"error": {
    "code": "validation_failed",
    "message": "claims do not match the doc type",
    "details": [{
        "path": "claims/org.iso.18013.5.1/birth_date",
        "code": "invalid_date",
        "message": "\"1990-02-30\" is not a valid full-date"
    }]
}})))]
pub struct ErrorBody<'a> {
    /// What went wrong.
    pub error: ErrorDetail<'a>,
}

/// The `error` member of an [`ErrorBody`].
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail<'a> {
    /// Stable machine-readable reason.
    pub code: ErrorCode,
    /// For people; never internal detail or personal data.
    pub message: &'a str,
    /// The fields at fault, when the problem is with fields; absent otherwise.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    #[schema(min_items = 1)]
    pub details: &'a [FieldError],
}

impl ApiError {
    /// An error without field details.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 `malformed_request`, naming the field.
    pub fn malformed(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            details: vec![FieldError::new(path, "malformed", message.clone())],
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedRequest,
                message,
            )
        }
    }

    /// 500 `internal_error` for a fault of the service; `reason` is logged, never shown.
    pub fn internal(reason: impl std::fmt::Display) -> Self {
        tracing::error!(error = %reason, code = "internal_error", "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "internal error",
        )
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::Malformed(_) => StatusCode::BAD_REQUEST,
            EngineError::Validation(_)
            | EngineError::UnknownDoctype(_)
            | EngineError::DeviceKey(_)
            | EngineError::Proof(_)
            | EngineError::Nonce(_)
            | EngineError::NonceReused => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::NotFound(_) => StatusCode::NOT_FOUND,
            EngineError::Revoked
            | EngineError::ApplicantMismatch
            | EngineError::IdempotencyConflict
            | EngineError::OfferState(_)
            | EngineError::DeviceKeyInUse(_) => StatusCode::CONFLICT,
            EngineError::NoSigningDs
            | EngineError::IssuanceSuspended(_)
            | EngineError::Audit(_)
            | EngineError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Config(_) | EngineError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if !e.is_client_error() {
            tracing::error!(error = %e, code = e.code().as_str(), "request failed");
        }
        ApiError {
            status,
            code: e.code(),
            message: e.public_message(),
            details: e.details(),
            retry_after: (status == StatusCode::SERVICE_UNAVAILABLE).then_some(5),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                details: &self.details,
            },
        })
        .unwrap_or_default();
        let mut resp = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp.extensions_mut().insert(Refusal {
            code: self.code.as_str(),
            paths: self.details.iter().map(|d| d.path.clone()).collect(),
        });
        resp
    }
}

/// The OAuth error body of the wallet routes (RFC 6749 §5.2, RFC 6750 §3.1, RFC 9449,
/// OpenID4VCI 1.0 §8.3.1.2).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthErrorBody {
    /// The error code the specifications name (`invalid_request`, `invalid_grant`,
    /// `invalid_token`, `invalid_proof`, `invalid_nonce`, `use_dpop_nonce`, ...).
    pub error: &'static str,
    /// For the wallet's developer: what was wrong, never what the service holds.
    pub error_description: String,
    /// `issuance_pending`: seconds to wait before polling the deferred endpoint again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interval: Option<u64>,
}

/// The answer to a wallet's OpenID4VCI or OAuth request that failed: the specification's
/// body `{"error", "error_description"}` (RFC 6749 §5.2, OpenID4VCI 1.0 §8.3.1.2), with
/// `WWW-Authenticate` on 401 (RFC 6750 §3, RFC 9449 §7.1) and the `DPoP-Nonce` to retry with.
#[derive(Debug)]
pub struct VciReply {
    /// The error.
    pub error: crate::oid4vci::VciError,
    /// A fresh DPoP nonce for the wallet to use (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
}

impl From<crate::oid4vci::VciError> for VciReply {
    fn from(error: crate::oid4vci::VciError) -> Self {
        VciReply {
            error,
            dpop_nonce: None,
        }
    }
}

impl From<EngineError> for VciReply {
    fn from(e: EngineError) -> Self {
        VciReply::from(crate::oid4vci::VciError::from(e))
    }
}

impl IntoResponse for VciReply {
    fn into_response(self) -> Response {
        use crate::oid4vci::VciError;
        let e = &self.error;
        if !e.is_client_error() {
            tracing::error!(error = %e, code = e.code(), "wallet request failed");
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = OAuthErrorBody {
            error: e.code(),
            error_description: e.description(),
            interval: match e {
                VciError::IssuancePending { interval } => Some(*interval),
                _ => None,
            },
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut resp = (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response();
        let h = resp.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            // The scheme the wallet should use: DPoP when the error is about DPoP.
            let scheme = match e {
                VciError::UseDpopNonce { .. } | VciError::InvalidDpopProof { .. } => "DPoP",
                _ => "Bearer",
            };
            let challenge = format!(
                "{scheme} error=\"{}\", error_description=\"{}\"",
                e.code(),
                e.description().replace(['"', '\\'], "'")
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let Some(n) = self.dpop_nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            h.insert("dpop-nonce", n);
        }
        resp.extensions_mut().insert(Refusal {
            code: e.code(),
            paths: Vec::new(),
        });
        resp
    }
}
