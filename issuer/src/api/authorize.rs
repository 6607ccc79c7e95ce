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
use super::oid4vci::{form, read_body, with_dpop_nonce};
use super::AppState;
use crate::jose::attestation::{MAX_ATTESTATION_LEN, MAX_POP_LEN};
use crate::oid4vci::{ClientAuth, HandoffRequest, VciError, PAR_PATH};
use crate::store::Scope;

/// The one value of header `name`, at most `max` bytes.
fn one_header(headers: &HeaderMap, name: &str, max: usize) -> Result<Option<String>, VciError> {
    let mut values = headers.get_all(name).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() || v.len() > max {
        return Err(VciError::InvalidClient(format!(
            "exactly one {name} header of at most {max} bytes"
        )));
    }
    v.to_str()
        .map(|s| Some(s.trim().to_owned()))
        .map_err(|_| VciError::InvalidClient(format!("{name} is not a JWT")))
}

/// The wallet attestation headers of a request (both or neither).
pub(super) fn client_auth(headers: &HeaderMap) -> Result<Option<ClientAuth>, VciError> {
    let attestation = one_header(headers, "oauth-client-attestation", MAX_ATTESTATION_LEN)?;
    let pop = one_header(headers, "oauth-client-attestation-pop", MAX_POP_LEN)?;
    match (attestation, pop) {
        (None, None) => Ok(None),
        (Some(attestation), Some(pop)) => Ok(Some(ClientAuth { attestation, pop })),
        _ => Err(VciError::InvalidClient(
            "send both OAuth-Client-Attestation and OAuth-Client-Attestation-PoP".into(),
        )),
    }
}

/// `POST /oid4vci/par`: 201 `{request_uri, expires_in}`.
pub(super) async fn par(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
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

/// `GET /oid4vci/authorize?client_id=…&request_uri=…`: 302 to the portal's login page.
/// Refusals are answered to the browser (400, the OAuth error), never redirected.
pub(super) async fn authorize(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
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

/// `POST /v1/authorizations/{session}`: the portal's verdict; 200 `{redirect_to}`.
pub(super) async fn handoff(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(session): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
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
