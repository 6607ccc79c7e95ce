//! The authorization-code flow's routes: pushed authorization requests and the authorization
//! endpoint (wallet-facing, OAuth errors), and the portal's hand-off back channel (`/v1`,
//! scope `issue`). The logic and the hand-off protocol are in [`crate::oid4vci`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::auth::Caller;
use super::documents::{body_bytes, json_response, parse};
use super::dpop::dpop_key;
use super::error::{ApiError, VciReply};
use super::spec::{
    BadRequest, Forbidden, InternalError, NotFound, OAuthBadRequest, OAuthServerError,
    OAuthUnauthorized, OAuthUnavailable, OfferConflict, PayloadTooLarge, ServiceUnavailable,
    TooManyRequests, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use super::wallet_io::{client_auth, form, read_body, with_dpop_nonce};
use super::AppState;
use crate::oid4vci::{HandoffAnswer, HandoffRequest, PushedRequest, AUTHORIZE_PATH, PAR_PATH};
use crate::store::Scope;

/// 404 when the authorization-code flow is off (no `oid4vci.portal_login_url`): its routes
/// exist in the one route table, so they answer, but as unknown.
fn disabled(state: &AppState) -> Option<Response> {
    state
        .issuer
        .config()
        .oid4vci
        .portal_login_url
        .is_none()
        .then(|| ApiError::not_found("the authorization-code flow").into_response())
}

/// Push an authorization request (RFC 9126).
///
/// Form body: `response_type=code`, `client_id`, `redirect_uri`, `code_challenge` with
/// `code_challenge_method=S256`, `scope` (a doc type) and/or `authorization_details` (a JSON
/// array of `{"type": "openid_credential", "credential_configuration_id": …}`; the token
/// response then grants a `credential_identifier`, which the credential request must name
/// instead of the configuration), optional `state` and `issuer_state`; a DPoP proof binds the
/// later token. 201 with the single-use `request_uri`. Served only when `oid4vci.portal_login_url` is configured (else 404).
#[utoipa::path(
    post,
    path = PAR_PATH,
    operation_id = "pushedAuthorizationRequest",
    tag = "oid4vci",
    params(
        ("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) to bind the \
            authorization to."),
        ("OAuth-Client-Attestation" = Option<String>, Header, description = "The wallet \
            attestation (attestation-based client authentication)."),
        ("OAuth-Client-Attestation-PoP" = Option<String>, Header, description = "Its proof of \
            possession."),
    ),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "The request URI.", body = PushedRequest,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn par(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(off) = disabled(&state) {
        return off;
    }
    let now = OffsetDateTime::now_utc();
    let answer = async {
        let body = read_body(body)?;
        let params = form(&headers, &body)?;
        let auth = client_auth(&headers)?;
        let jkt = dpop_key(&state, &headers, &Method::POST, PAR_PATH, None, false, now).await?;
        let pushed = state
            .vci
            .push_authorization(&params, jkt, auth.as_ref(), now)
            .await?;
        let mut resp = json_response(StatusCode::CREATED, &pushed);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    };
    with_dpop_nonce(&state, answer.await, now)
}

/// The authorization endpoint (pushed requests only).
///
/// `?client_id=…&request_uri=…`: 302 to the portal's login page with a hand-off `session`.
/// Refusals are answered to the browser (400, the OAuth error), never redirected. Served only
/// when `oid4vci.portal_login_url` is configured (else 404).
#[utoipa::path(
    get,
    path = AUTHORIZE_PATH,
    operation_id = "authorize",
    tag = "oid4vci",
    params(
        ("client_id" = String, Query, description = "The wallet's client id."),
        ("request_uri" = String, Query, description = "From the pushed request."),
    ),
    responses(
        (status = 302, description = "To the portal's login page.",
            headers(("Location" = String, description = "`<portal_login_url>?session=…&doctype=…`."))),
        (status = 400, response = OAuthBadRequest),
        (status = 404, response = NotFound),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn authorize(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(off) = disabled(&state) {
        return off;
    }
    let now = OffsetDateTime::now_utc();
    let query = query.unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    match state.vci.authorize_login(&params, now).await {
        Ok(location) => match HeaderValue::from_str(&location) {
            Ok(loc) => (
                StatusCode::FOUND,
                [
                    (header::LOCATION, loc),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response(),
            Err(e) => ApiError::internal(format!("login URL: {e}")).into_response(),
        },
        Err(e) => VciReply::from(e).into_response(),
    }
}

/// The portal's hand-off verdict.
///
/// After authenticating the user of hand-off `session`, the portal gives the identified
/// record (`claims`, checked against the doc type at once) or `error: access_denied`; 200 with
/// `redirect_to`, the wallet's redirect URI with `code` (or `error`), `state` and `iss`, for
/// the portal to send the browser to. Served only when `oid4vci.portal_login_url` is
/// configured (else 404).
#[utoipa::path(
    post,
    path = "/v1/authorizations/{session}",
    operation_id = "completeAuthorization",
    tag = "offers",
    security(("bearer" = ["issue"])),
    params(("session" = String, Path, description = "The hand-off session from the login redirect.")),
    request_body(content = HandoffRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Where to send the browser.", body = HandoffAnswer),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = OfferConflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn handoff(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(session): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    if let Some(off) = disabled(&state) {
        return Ok(off);
    }
    let body = body_bytes(&headers, body)?;
    let req: HandoffRequest = parse(&body)?;
    let answer = state
        .vci
        .complete_authorization(
            &caller.0.id,
            caller.is_admin(),
            &session,
            &req,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json_response(StatusCode::OK, &answer))
}
