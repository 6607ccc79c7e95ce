//! The wallet-facing OpenID4VCI 1.0 routes: metadata, offers by reference, token, nonce,
//! credential, deferred credential and notification. Errors are the specifications' own
//! (`{"error", "error_description"}`, [`VciReply`]); the logic is in [`crate::oid4vci`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;
use time::OffsetDateTime;

use super::dpop::{dpop_key, dpop_nonce_header};
use super::error::{ApiError, VciReply};
use super::AppState;
use crate::oid4vci::{
    authorization_server_metadata, issuer_metadata, CredentialAnswer, Presented, VciError,
    CREDENTIAL_PATH, DEFERRED_PATH, NOTIFICATION_PATH, TOKEN_PATH,
};

/// Longest accepted `Authorization` header value.
const MAX_AUTHORIZATION_LEN: usize = 2048;

fn json(status: StatusCode, value: &Json, cache: &'static str) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        value.to_string(),
    )
        .into_response()
}

/// `GET /.well-known/openid-credential-issuer` (also with a path suffix, for issuer
/// identifiers with a path and clients that append the well-known name to it).
pub(super) async fn issuer_metadata_doc(State(state): State<Arc<AppState>>) -> Response {
    let doc = issuer_metadata(&state.issuer, OffsetDateTime::now_utc());
    json(StatusCode::OK, &doc, "public, max-age=300")
}

/// `GET /.well-known/oauth-authorization-server`.
pub(super) async fn as_metadata_doc(State(state): State<Arc<AppState>>) -> Response {
    let doc = authorization_server_metadata(&state.issuer);
    json(StatusCode::OK, &doc, "public, max-age=300")
}

/// `GET /oid4vci/offers/{ref}`: the credential offer while it waits for its wallet.
pub(super) async fn offer_by_reference(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
) -> Result<Response, VciReply> {
    match state
        .vci
        .offer_by_reference(&reference, OffsetDateTime::now_utc())
        .await?
    {
        Some(bytes) => Ok((
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response()),
        None => Ok(ApiError::not_found("credential offer").into_response()),
    }
}

/// The form parameters of a token or pushed authorization request, in order (duplicates kept, so they can be
/// refused); only `application/x-www-form-urlencoded` bodies.
pub(super) fn form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, VciError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(VciError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded".into(),
        ));
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

pub(super) fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, VciError> {
    body.map_err(|r| VciError::InvalidRequest(format!("cannot read the body: {r}")))
}

fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Bytes, VciError> {
    let body = read_body(body)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(VciError::InvalidCredentialRequest(
            "the body must be application/json".into(),
        ));
    }
    Ok(body)
}

/// `POST /oid4vci/token`.
pub(super) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let answer = async {
        let body = read_body(body)?;
        let params = form(&headers, &body)?;
        let jkt = dpop_key(
            &state,
            &headers,
            &Method::POST,
            TOKEN_PATH,
            None,
            false,
            now,
        )
        .await?;
        let auth = super::authorize::client_auth(&headers)?;
        let answer = state.vci.token(&params, jkt, auth.as_ref(), now).await?;
        let value = serde_json::to_value(&answer)
            .map_err(|e| VciError::Service(crate::engine::EngineError::Internal(e.to_string())))?;
        let mut resp = json(StatusCode::OK, &value, "no-store");
        resp.headers_mut()
            .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        Ok(resp)
    };
    with_dpop_nonce(&state, answer.await, now)
}

/// `POST /oid4vci/nonce`.
pub(super) async fn nonce(State(state): State<Arc<AppState>>) -> Response {
    let now = OffsetDateTime::now_utc();
    let answer = state
        .vci
        .nonce(now)
        .map(|value| json(StatusCode::OK, &value, "no-store"));
    with_dpop_nonce(&state, answer, now)
}

/// The answer, success or error, with a fresh `DPoP-Nonce` when the issuer requires them.
pub(super) fn with_dpop_nonce(
    state: &AppState,
    answer: Result<Response, VciError>,
    now: OffsetDateTime,
) -> Response {
    let mut resp = match answer {
        Ok(r) => r,
        Err(e) => VciReply::from(e).into_response(),
    };
    dpop_nonce_header(state, &mut resp, now);
    resp
}

/// The access token of a resource request and its verified DPoP key.
async fn presented(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    now: OffsetDateTime,
) -> Result<Presented, VciError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| VciError::InvalidToken("an access token is required".into()))?;
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(VciError::InvalidToken(
            "the access token is too long".into(),
        ));
    }
    let (scheme, token) = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .ok_or_else(|| VciError::InvalidToken("Authorization must be `<scheme> <token>`".into()))?;
    let dpop_scheme = if scheme.eq_ignore_ascii_case("dpop") {
        true
    } else if scheme.eq_ignore_ascii_case("bearer") {
        false
    } else {
        return Err(VciError::InvalidToken(
            "the Authorization scheme must be Bearer or DPoP".into(),
        ));
    };
    let token = token.trim().to_owned();
    let dpop_jkt = dpop_key(state, headers, &Method::POST, path, Some(&token), true, now).await?;
    Ok(Presented {
        token,
        dpop_scheme,
        dpop_jkt,
    })
}

fn answer(a: CredentialAnswer) -> Response {
    match a {
        CredentialAnswer::Issued(v) => json(StatusCode::OK, &v, "no-store"),
        CredentialAnswer::Deferred(v) => json(StatusCode::ACCEPTED, &v, "no-store"),
    }
}

/// `POST /oid4vci/credential`.
pub(super) async fn credential(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let p = presented(&state, &headers, CREDENTIAL_PATH, now).await?;
        let offer = state.vci.authorize(&p, now).await?;
        let body = json_body(&headers, body)?;
        Ok(answer(state.vci.credential(&offer, &body, now).await?))
    };
    with_dpop_nonce(&state, result.await, now)
}

/// `POST /oid4vci/deferred`.
pub(super) async fn deferred(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let p = presented(&state, &headers, DEFERRED_PATH, now).await?;
        let offer = state.vci.authorize(&p, now).await?;
        let body = json_body(&headers, body)?;
        Ok(answer(state.vci.deferred(&offer, &body, now).await?))
    };
    with_dpop_nonce(&state, result.await, now)
}

/// `POST /oid4vci/notification`: 204.
pub(super) async fn notification(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let p = presented(&state, &headers, NOTIFICATION_PATH, now).await?;
        let offer = state.vci.authorize(&p, now).await?;
        let body = read_body(body)?;
        state.vci.notification(&offer, &body, now).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    with_dpop_nonce(&state, result.await, now)
}
