//! Public routes: the revocation lists and the operational endpoints.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use super::error::ApiError;
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

/// `GET /v1/status-lists/{n}`.
pub(super) async fn status_list(
    State(state): State<Arc<AppState>>,
    Path(n): Path<String>,
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

/// `GET /v1/identifier-list`.
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

/// `GET /healthz`: the process is alive.
pub(super) async fn health() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// `GET /readyz`: the database answers and a DS may sign.
pub(super) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.issuer.readiness(OffsetDateTime::now_utc()).await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready"}"#.to_owned(),
        )
            .into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({"status": "not_ready", "reason": reason}).to_string(),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub(super) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.issuer.metrics().render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub(super) async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        super::OPENAPI,
    )
        .into_response()
}
