//! The emergency stop of new issuance (admin scope): suspend, resume, and read the state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::Caller;
use super::documents::{body_bytes, json_response, parse};
use super::error::ApiError;
use super::AppState;
use crate::store::{Scope, Suspension};
use crate::timefmt::rfc3339;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuspendRequest {
    reason: String,
}

#[derive(Serialize)]
struct IssuanceState {
    suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// `GET /v1/admin/issuance`.
pub(super) async fn state(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let current = state.issuer.issuance_suspension().await?;
    Ok(json_response(StatusCode::OK, &IssuanceState::from(current)))
}

/// `POST /v1/admin/issuance/suspend`.
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

/// `POST /v1/admin/issuance/resume`.
pub(super) async fn resume(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    state.issuer.resume_issuance(&caller.0.id).await?;
    Ok(json_response(StatusCode::OK, &IssuanceState::from(None)))
}
