//! The emergency stop of new issuance (admin scope): suspend, resume, and read the state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Caller;
use super::documents::{body_bytes, json_response, parse};
use super::error::ApiError;
use super::spec::{
    BadRequest, Forbidden, InternalError, PayloadTooLarge, ServiceUnavailable, TooManyRequests,
    Unauthorized, UnsupportedMediaType,
};
use super::AppState;
use crate::store::{Scope, Suspension};
use crate::timefmt::rfc3339;

/// The body of a suspension.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SuspendRequest {
    /// Why; printable, at most 200 characters. Shown to admins; the audit log keeps its
    /// SHA-256 only.
    #[schema(min_length = 1, max_length = 200)]
    reason: String,
}

/// Whether new issuance is suspended, since when, why and by whom.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IssuanceState {
    /// Whether new issuance is suspended.
    suspended: bool,
    /// Since when (RFC 3339), when suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    since: Option<String>,
    /// The admin's reason, when suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<String>,
    /// The API client id that suspended it, when suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    suspended_by: Option<String>,
}

impl From<Option<Suspension>> for IssuanceState {
    fn from(s: Option<Suspension>) -> Self {
        IssuanceState {
            suspended: s.is_some(),
            since: s.as_ref().and_then(|s| rfc3339(s.since).ok()),
            reason: s.as_ref().map(|s| s.reason.clone()),
            suspended_by: s.map(|s| s.by),
        }
    }
}

/// Whether new issuance is suspended.
#[utoipa::path(
    get,
    path = "/v1/admin/issuance",
    operation_id = "getIssuanceState",
    tag = "administration",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The state.", body = IssuanceState,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn state(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let current = state.issuer.issuance_suspension().await?;
    Ok(json_response(StatusCode::OK, &IssuanceState::from(current)))
}

/// The emergency stop of new issuance.
///
/// Policy §5.7.3. While suspended, every instance refuses issue and refresh with 503
/// `issuance_suspended` (within 2 s on other instances, at once on this one); revocation and
/// the status and identifier lists go on. Survives restarts. Audited
/// (`issuer.issuance_suspend`, with a digest of the reason). Suspending again keeps the first
/// suspension.
#[utoipa::path(
    post,
    path = "/v1/admin/issuance/suspend",
    operation_id = "suspendIssuance",
    tag = "administration",
    security(("bearer" = ["admin"])),
    request_body(content = SuspendRequest, content_type = "application/json"),
    responses(
        (status = 200, body = IssuanceState,
            description = "Suspended (or already suspended: the suspension in force).",
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn suspend(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let req: SuspendRequest = parse(&body_bytes(&headers, body)?)?;
    let current = state
        .issuer
        .suspend_issuance(&req.reason, &caller.0.id, OffsetDateTime::now_utc())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &IssuanceState::from(Some(current)),
    ))
}

/// Resume new issuance.
///
/// Audited (`issuer.issuance_resume`) when issuance was suspended. No request body.
#[utoipa::path(
    post,
    path = "/v1/admin/issuance/resume",
    operation_id = "resumeIssuance",
    tag = "administration",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Issuance is allowed.", body = IssuanceState,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn resume(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    state.issuer.resume_issuance(&caller.0.id).await?;
    Ok(json_response(StatusCode::OK, &IssuanceState::from(None)))
}
