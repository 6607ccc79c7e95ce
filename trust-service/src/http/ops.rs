//! Operations: metrics, liveness, readiness and the authenticated bundle upload.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::bundle::Bundle;
use crate::error::DtsError;
use crate::service::Dts;

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

pub(super) async fn metrics(State(dts): State<Arc<Dts>>) -> Response {
    let text = dts
        .metrics()
        .render(&dts.site(), dts.now(), dts.config().crl.reserve_alarm_days);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready while the database answers and every root serves a CRL that is not past its
/// nextUpdate: a verifier must never be handed a stale CRL by a replica that says it is fine.
pub(super) async fn readyz(State(dts): State<Arc<Dts>>) -> Response {
    if let Err(e) = dts.store().ping().await {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "ready": false, "reason": format!("database: {e}") }),
        );
    }
    let site = dts.site();
    let stale: Vec<_> = site
        .stale_roots(dts.now())
        .into_iter()
        .map(|r| r.fingerprint.clone())
        .collect();
    if stale.is_empty() {
        json_response(StatusCode::OK, json!({ "ready": true }))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "ready": false, "reason": "CRL missing or past its nextUpdate", "roots": stale }),
        )
    }
}

/// Whether `headers` carry a bearer token whose SHA-256 is configured.
fn authorised(dts: &Dts, headers: &HeaderMap) -> bool {
    let Some(admin) = &dts.config().admin else {
        return false;
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let digest = Sha256::digest(token.trim().as_bytes());
    admin
        .token_sha256
        .iter()
        .any(|h| hex::decode(h).is_ok_and(|h| bool::from(h.as_slice().ct_eq(&digest[..]))))
}

/// `POST …/admin/bundles` with a tar of an export bundle: the same ingest as the CLI.
pub(super) async fn upload(
    State(dts): State<Arc<Dts>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if dts.config().admin.is_none() {
        return json_response(StatusCode::NOT_FOUND, json!({ "error": "not found" }));
    }
    if !authorised(&dts, &headers) {
        tracing::warn!("bundle upload without a valid admin token");
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "a valid admin bearer token is required" }),
        );
    }
    let limits = dts.config().limits.clone();
    let bundle = tokio::task::spawn_blocking(move || Bundle::from_tar(&body, &limits))
        .await
        .unwrap_or_else(|e| {
            Err(crate::error::Refusal::Unreadable {
                reason: format!("reader failed: {e}"),
            })
        });
    match dts.ingest(bundle, "upload", "admin-api").await {
        Ok(done) => json_response(
            StatusCode::OK,
            json!({
                "outcome": "accepted",
                "ingest_id": done.id,
                "added": done.plan.summary(),
                "vical_signed": done.new_vical,
            }),
        ),
        Err(DtsError::Refused(r)) => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "outcome": "refused", "code": r.code(), "reason": r.to_string() }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "ingest failed");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "outcome": "error", "reason": "the ingest could not be completed; nothing was published" }),
            )
        }
    }
}
