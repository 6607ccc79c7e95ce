//! Public routes: the revocation lists and the operational endpoints.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::spec::{IfNoneMatch, InternalError, NotFound, ServiceUnavailable};
use super::AppState;
use crate::engine::Published;

fn serve_token(p: &Published, headers: &HeaderMap, max_age: u64) -> Response {
    // A strong ETag: the quoted hex of the token's SHA-256.
    let etag = format!("\"{}\"", hex::encode(p.sha256));
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        // Weak comparison (RFC 9110 §13.1.2): a `W/` prefix still matches.
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        }) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(p.media_type))],
            p.bytes.clone(),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    if let Ok(v) = p.issued_at.format(&Rfc2822) {
        if let Ok(v) = HeaderValue::from_str(&v.replace("+0000", "GMT")) {
            h.insert(header::LAST_MODIFIED, v);
        }
    }
    resp
}

/// The status list of a route (`/v1/status-lists/{n}`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct ListPath {
    /// Status list number, as written in the MSO's `status.status_list.uri`. Unknown or
    /// non-numeric is 404.
    #[param(value_type = u64, minimum = 0)]
    n: String,
}

/// Token Status List.
///
/// Public. One bit per MSO (1 = revoked), zlib-compressed, as referenced by the MSOs'
/// `status.status_list`.
#[utoipa::path(
    get,
    path = "/v1/status-lists/{n}",
    operation_id = "getStatusList",
    tag = "lists",
    params(ListPath, IfNoneMatch),
    responses(
        (status = 200, content(("application/statuslist+cwt")),
            description = "The signed Token Status List (COSE_Sign1 CWT, signed by the list \
                signer, or the DS in use when none is installed). Re-signed at least every \
                `status.refresh_secs` and at once after a revocation in this instance.",
            headers(
                ("ETag" = String, description = "Strong validator: the quoted hex SHA-256 of \
                    the token bytes. Send it back in `If-None-Match`."),
                ("Cache-Control" = String, description = "`public, max-age=N`: N is at most \
                    `status.ttl_secs` (default 300) and never past the token's re-signing \
                    time or `exp`."),
                ("Last-Modified" = String, description = "The token's `iat`."),
            )),
        (status = 304, description = "`If-None-Match` matched: the token is unchanged.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn status_list(
    State(state): State<Arc<AppState>>,
    Path(ListPath { n }): Path<ListPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let n: u64 = n.parse().map_err(|_| ApiError::not_found("status list"))?;
    let now = OffsetDateTime::now_utc();
    let p = state.issuer.status_list_token(n, now).await?;
    Ok(serve_token(
        &p,
        &headers,
        p.max_age(now, &state.issuer.config().status),
    ))
}

/// Identifier List.
///
/// Public. The identifiers (device-key thumbprints) of revoked, unexpired MSOs.
#[utoipa::path(
    get,
    path = "/v1/identifier-list",
    operation_id = "getIdentifierList",
    tag = "lists",
    params(IfNoneMatch),
    responses(
        (status = 200, content(("application/identifierlist+cwt")),
            description = "The signed Identifier List (COSE_Sign1 CWT, signed by the list \
                signer, or the DS in use when none is installed). Re-signed at least every \
                `status.refresh_secs` and at once after a revocation in this instance.",
            headers(
                ("ETag" = String, description = "Strong validator: the quoted hex SHA-256 of \
                    the token bytes. Send it back in `If-None-Match`."),
                ("Cache-Control" = String, description = "`public, max-age=N`."),
                ("Last-Modified" = String, description = "The token's `iat`."),
            )),
        (status = 304, description = "`If-None-Match` matched: the token is unchanged.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn identifier_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let p = state.issuer.identifier_list_token(now).await?;
    Ok(serve_token(
        &p,
        &headers,
        p.max_age(now, &state.issuer.config().status),
    ))
}

/// A JSON answer without caching headers (the operational endpoints).
fn plain_json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError::internal(format!("JSON answer: {e}")).into_response(),
    }
}

/// The liveness answer.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Health {
    /// Always `ok`.
    #[schema(inline)]
    status: Alive,
}

/// The only liveness state: `ok`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum Alive {
    /// The process answers.
    Ok,
}

/// The readiness answer.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Readiness {
    /// Ready or not.
    #[schema(inline)]
    status: ReadyState,
    /// Why not ready (database, or no usable DS certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<String>,
}

/// Whether the instance can serve.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum ReadyState {
    /// The database answers and a DS certificate may sign.
    Ready,
    /// It cannot serve now.
    NotReady,
}

/// Liveness.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = Health)),
)]
pub(super) async fn health() -> Response {
    plain_json(StatusCode::OK, &Health { status: Alive::Ok })
}

/// Readiness.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "ready",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers and a DS certificate may sign.",
            body = Readiness, example = json!({"status": "ready"})),
        (status = 503, description = "Not ready.", body = Readiness,
            example = json!({"status": "not_ready", "reason": "no usable DS certificate"})),
    ),
)]
pub(super) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.issuer.readiness(OffsetDateTime::now_utc()).await {
        Ok(()) => plain_json(
            StatusCode::OK,
            &Readiness {
                status: ReadyState::Ready,
                reason: None,
            },
        ),
        Err(reason) => plain_json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Readiness {
                status: ReadyState::NotReady,
                reason: Some(reason),
            },
        ),
    }
}

/// Prometheus metrics.
///
/// Text exposition format: `mdoc_issuer_http_requests_total`,
/// `mdoc_issuer_http_request_duration_seconds`, `mdoc_issuer_msos_signed_total`,
/// `mdoc_issuer_refusals_total`, `mdoc_issuer_revocations_total`,
/// `mdoc_issuer_list_tokens_signed_total`, `mdoc_issuer_ds_rotation_due`,
/// `mdoc_issuer_ds_not_after_seconds`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Metrics.", body = String,
            content_type = "text/plain; version=0.0.4"),
    ),
)]
pub(super) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.issuer.metrics().render(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document, generated from the code.",
            body = Object),
    ),
)]
pub(super) async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    // Serialized once when the router was built (`AppState::openapi`), from the same route
    // table this handler is registered in.
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi,
    )
        .into_response()
}
