//! The versioned HTTP API (`/v1`), built on axum.
//!
//! | route | scope | what |
//! |---|---|---|
//! | `POST /v1/nonces` | issue | a proof-of-possession nonce |
//! | `POST /v1/documents` | issue | issue a document (one MSO per device key) |
//! | `GET /v1/documents/{id}` | issue or revoke | a document's state and MSOs (no personal data) |
//! | `POST /v1/documents/{id}/refresh` | issue | new MSOs with new validity |
//! | `POST /v1/documents/{id}/revoke` | revoke | revoke the document and all its MSOs |
//! | `POST /v1/ds/{serial}/revoke` | admin | revoke everything a DS signed |
//! | `GET /v1/admin/issuance` | admin | whether new issuance is suspended |
//! | `POST /v1/admin/issuance/suspend` | admin | the emergency stop of new issuance (audited) |
//! | `POST /v1/admin/issuance/resume` | admin | resume new issuance (audited) |
//! | `GET /v1/status-lists/{n}` | public | Token Status List CWT |
//! | `GET /v1/identifier-list` | public | Identifier List CWT |
//! | `POST /v1/offers` | issue | an OpenID4VCI credential offer for an identified applicant |
//! | `GET /v1/offers/{id}` | issue | an offer's state (no secrets, no personal data) |
//! | `PUT /v1/offers/{id}/claims` | issue | the record of a pending (deferred) offer |
//! | `DELETE /v1/offers/{id}` | issue | withdraw an offer not yet issued |
//! | `GET /.well-known/openid-credential-issuer`, `/.well-known/oauth-authorization-server` | public | OpenID4VCI and RFC 8414 metadata |
//! | `GET /oid4vci/offers/{ref}` | public (the reference is the secret) | a credential offer by reference |
//! | `POST /oid4vci/par`, `GET /oid4vci/authorize` | wallet, browser | pushed authorization request; 302 to the portal's login (only with `oid4vci.portal_login_url`) |
//! | `POST /v1/authorizations/{session}` | issue | the portal's hand-off verdict → `{redirect_to}` (only with `oid4vci.portal_login_url`) |
//! | `POST /oid4vci/token`, `/oid4vci/nonce` | wallet | pre-authorized or authorization code → access token; `c_nonce` |
//! | `POST /oid4vci/credential`, `/oid4vci/deferred`, `/oid4vci/notification` | wallet (access token, DPoP) | credentials, deferred credentials, notifications |
//! | `GET /healthz`, `/readyz`, `/metrics`, `/openapi.json` | public | operations |
//!
//! Every refusal is a JSON error ([`error::ApiError`]; on the wallet routes the OAuth form
//! [`error::VciReply`]) with a 4xx status naming the field and the reason, and gets an audit
//! record; 5xx only for faults of the service itself.
//!
//! The routes are one table (`routes.rs`) of handlers annotated with `#[utoipa::path]`; the
//! OpenAPI document served at `/openapi.json` ([`openapi::document`]) is generated from that
//! table and the request and response types, so it lists exactly the routes served.

mod admin;
pub mod auth;
mod authorize;
mod documents;
mod dpop;
pub mod error;
mod offers;
mod oid4vci;
pub mod openapi;
mod ops;
mod routes;
pub mod spec;
mod wallet_io;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use custody::audit::AuditEvent;
use tower_http::catch_panic::CatchPanicLayer;

use crate::audit::events;
use crate::engine::{ErrorCode, Issuer};
use crate::oid4vci::Vci;
use auth::{CallerSlot, Guard};
use error::{ApiError, Refusal};

/// Shared state of every handler.
#[derive(Debug)]
pub struct AppState {
    /// The engine.
    pub issuer: Arc<Issuer>,
    /// Authentication and rate limits.
    pub guard: Guard,
    /// OpenID4VCI over the same engine.
    pub vci: Vci,
    /// The OpenAPI document as served at `/openapi.json` ([`openapi::json`]).
    pub openapi: &'static str,
}

/// Builds the router; fails if the OpenID4VCI wallet providers cannot be read.
pub fn router(issuer: Arc<Issuer>) -> Result<Router, crate::engine::EngineError> {
    let config = issuer.config().clone();
    let state = Arc::new(AppState {
        guard: Guard::new(&config.rate_limit),
        vci: Vci::new(Arc::clone(&issuer))?,
        openapi: openapi::json()
            .map_err(|e| crate::engine::EngineError::Internal(format!("OpenAPI document: {e}")))?,
        issuer,
    });
    let (served, _document) = routes::table().split_for_parts();
    Ok(served
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "method not allowed on this route",
            )
        })
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .layer(DefaultBodyLimit::max(config.server.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "internal error",
            )
            .into_response()
        }))
        .with_state(state))
}

/// The SHA-256 (hex) of the field paths at fault, `/`-joined and newline-separated. A path
/// can name a client-chosen JSON key, and the client chooses what it says (personal data, a
/// word that reads as a secret, 70 kB): the audit record carries only their number and this
/// digest, which matches the paths the client was told in its 400 answer.
fn fields_digest(paths: &[String]) -> String {
    let listed: String = paths.iter().map(|p| format!("{p}\n")).collect();
    crate::audit::digest(&listed)
}

/// Metrics, the access log line, and the audit record of every refusal.
async fn observe(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let source = auth::source_key(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    );
    let slot = CallerSlot::default();
    req.extensions_mut().insert(slot.clone());
    let limit = Duration::from_secs(state.issuer.config().server.request_timeout_secs);
    let mut resp = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Timeout,
                "the request took too long and was abandoned",
            )
        }
        .into_response(),
    };
    let status = resp.status();
    let client = slot.get();
    if let Some(refusal) = resp.extensions().get::<Refusal>().cloned() {
        state
            .issuer
            .metrics()
            .refusals
            .with_label_values(&[refusal.code])
            .inc();
        // Refusals of public routes (404 on a list) are not security events.
        let auditable = status.is_client_error()
            && (route.starts_with("/v1/") || route.starts_with("/oid4vci/"))
            && !route.starts_with("/v1/status")
            && !route.starts_with("/v1/identifier");
        // Unauthenticated refusals are recorded at a bounded rate per source (each record
        // is an fsync anyone could ask for); the rest are counted into the source's next
        // record and the metrics.
        let record = match (auditable, &client) {
            (false, _) => None,
            (true, Some(_)) => Some(None),
            (true, None) => {
                let admitted = state.guard.audit_unauthenticated(source);
                if admitted.is_none() {
                    state.issuer.metrics().unaudited_refusals.inc();
                }
                admitted.map(Some)
            }
        };
        if let Some(suppressed) = record {
            let name = if route.starts_with("/oid4vci/") {
                events::VCI_REFUSAL
            } else {
                events::REFUSAL
            };
            let mut event = AuditEvent::failure(name)
                .actor(client.clone().unwrap_or_else(|| "unauthenticated".into()));
            if client.is_none() {
                event = event.detail("source", source.to_string());
            }
            if let Some(n) = suppressed.filter(|n| *n > 0) {
                event = event.detail("suppressed", n.to_string());
            }
            let event = event
                .detail("route", format!("{method} {route}"))
                .detail("status", status.as_u16().to_string())
                .detail("code", refusal.code)
                .detail("fields", refusal.paths.len().to_string())
                .detail("fields_sha256", fields_digest(&refusal.paths));
            if let Err(e) = state.issuer.audit_record(event).await {
                tracing::error!(error = %e, "audit record of a refusal failed");
                resp = ApiError::from(crate::engine::EngineError::Audit(e)).into_response();
            }
        }
    }
    let elapsed = started.elapsed();
    let m = state.issuer.metrics();
    m.requests
        .with_label_values(&[&route, &method, status.as_str()])
        .inc();
    m.latency
        .with_label_values(&[&route])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "access",
        method = %method,
        route = %route,
        status = status.as_u16(),
        client = client.as_deref().unwrap_or("-"),
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
    );
    resp
}
