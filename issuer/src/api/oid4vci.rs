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

use super::dpop::dpop_key;
use super::error::{ApiError, VciReply};
use super::spec::{
    NotFound, OAuthBadRequest, OAuthServerError, OAuthUnauthorized, OAuthUnavailable, TokenForm,
};
use super::wallet_io::{client_auth, form, read_body, with_dpop_nonce};
use super::AppState;
use crate::oid4vci::{
    authorization_server_metadata, issuer_metadata, CredentialAnswer, Presented, TokenResponse,
    VciError, AS_METADATA_PATH, AS_METADATA_SUFFIXED_PATH, CREDENTIAL_PATH, DEFERRED_PATH,
    ISSUER_METADATA_PATH, ISSUER_METADATA_SUFFIXED_PATH, NONCE_PATH, NOTIFICATION_PATH,
    OFFER_BY_REFERENCE_PATH, TOKEN_PATH,
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

/// Credential Issuer Metadata.
///
/// OpenID4VCI 1.0 §12.2: the endpoints, and one credential configuration (`mso_mdoc`) per
/// doc type, generated from the doc-type registry.
#[utoipa::path(
    get,
    path = ISSUER_METADATA_PATH,
    operation_id = "credentialIssuerMetadata",
    tag = "oid4vci",
    responses(
        (status = 200, description = "The metadata.", body = Object,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    )
)]
pub(super) async fn issuer_metadata_doc(State(state): State<Arc<AppState>>) -> Response {
    let doc = issuer_metadata(&state.issuer, OffsetDateTime::now_utc());
    json(StatusCode::OK, &doc, "public, max-age=300")
}

/// Credential Issuer Metadata, under a path suffix.
///
/// The same document, for issuer identifiers with a path and clients that append the
/// well-known name to it.
#[utoipa::path(
    get,
    path = ISSUER_METADATA_SUFFIXED_PATH,
    operation_id = "credentialIssuerMetadataSuffixed",
    tag = "oid4vci",
    params(("issuer_path" = String, Path, description = "Any path (may contain `/`).")),
    responses(
        (status = 200, description = "The metadata.", body = Object,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    )
)]
pub(super) async fn issuer_metadata_doc_suffixed(state: State<Arc<AppState>>) -> Response {
    issuer_metadata_doc(state).await
}

/// Authorization Server Metadata.
///
/// RFC 8414: the issuer is its own authorization server (pre-authorized code grant, DPoP).
#[utoipa::path(
    get,
    path = AS_METADATA_PATH,
    operation_id = "authorizationServerMetadata",
    tag = "oid4vci",
    responses(
        (status = 200, description = "The metadata.", body = Object,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    )
)]
pub(super) async fn as_metadata_doc(State(state): State<Arc<AppState>>) -> Response {
    let doc = authorization_server_metadata(&state.issuer);
    json(StatusCode::OK, &doc, "public, max-age=300")
}

/// Authorization Server Metadata, under a path suffix.
#[utoipa::path(
    get,
    path = AS_METADATA_SUFFIXED_PATH,
    operation_id = "authorizationServerMetadataSuffixed",
    tag = "oid4vci",
    params(("issuer_path" = String, Path, description = "Any path (may contain `/`).")),
    responses(
        (status = 200, description = "The metadata.", body = Object,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    )
)]
pub(super) async fn as_metadata_doc_suffixed(state: State<Arc<AppState>>) -> Response {
    as_metadata_doc(state).await
}

/// A credential offer by reference.
///
/// The offer while it waits for its wallet (`credential_offer_uri`, OpenID4VCI 1.0 §4.1.3).
/// Public: the reference is the secret.
#[utoipa::path(
    get,
    path = OFFER_BY_REFERENCE_PATH,
    operation_id = "credentialOfferByReference",
    tag = "oid4vci",
    params(("reference" = String, Path, description = "The offer's reference.")),
    responses(
        (status = 200, description = "The credential offer (OpenID4VCI 1.0 §4.1.1).",
            body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = OAuthBadRequest),
        (status = 404, response = NotFound),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
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

/// Token endpoint.
///
/// RFC 6749 §3.2 with the pre-authorized code grant (OpenID4VCI 1.0 §6): the code from the
/// offer (and its transaction code) for an access token, DPoP-bound when the request carries
/// a `DPoP` proof. When the grant was asked for with `authorization_details` (here, or in the
/// pushed authorization request of an authorization code), the answer grants them back with
/// a `credential_identifier` bound to the token (§6.2).
#[utoipa::path(
    post,
    path = TOKEN_PATH,
    operation_id = "token",
    tag = "oid4vci",
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) to bind \
        the token to.")),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The access token.", body = TokenResponse,
            headers(
                ("Cache-Control" = String, description = "`no-store`."),
                ("DPoP-Nonce" = String, description = "The nonce for the next DPoP proof."),
            )),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
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
        let auth = client_auth(&headers)?;
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

/// Nonce endpoint.
///
/// OpenID4VCI 1.0 §7: a fresh `c_nonce` for the key proofs of a credential request.
#[utoipa::path(
    post,
    path = NONCE_PATH,
    operation_id = "credentialNonce",
    tag = "oid4vci",
    responses(
        (status = 200, description = "`{\"c_nonce\": ...}`.", body = Object,
            headers(
                ("Cache-Control" = String, description = "`no-store`."),
                ("DPoP-Nonce" = String, description = "The nonce for the next DPoP proof."),
            ),
            example = json!({"c_nonce": "p3hY2u0b7cTq8W1fI4mZ5A"})),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn nonce(State(state): State<Arc<AppState>>) -> Response {
    let now = OffsetDateTime::now_utc();
    let answer = state
        .vci
        .nonce(now)
        .map(|value| json(StatusCode::OK, &value, "no-store"));
    with_dpop_nonce(&state, answer, now)
}

/// The offer a resource request's access token (and DPoP proof) authorises.
async fn authorized(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    now: OffsetDateTime,
) -> Result<crate::store::Offer, VciError> {
    let presented = presented(state, headers, path, now).await?;
    state.vci.authorize(&presented, now).await
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

/// Credential endpoint.
///
/// OpenID4VCI 1.0 §8: one `mso_mdoc` credential per key proof (`proofs.jwt`), from the same
/// issuing engine as `/v1/documents`; 202 with a `transaction_id` while the offer's record is
/// pending.
#[utoipa::path(
    post,
    path = CREDENTIAL_PATH,
    operation_id = "credential",
    tag = "oid4vci",
    security(("access_token" = [])),
    params(("DPoP" = Option<String>, Header, description = "The DPoP proof, for a \
        DPoP-bound token.")),
    request_body(content = Object, content_type = "application/json",
        description = "The credential request (OpenID4VCI 1.0 §8.2): \
            `credential_configuration_id`, or the `credential_identifier` the token response \
            granted (then required instead), and `proofs`."),
    responses(
        (status = 200, description = "`credentials` (base64url IssuerSigned each) and \
            `notification_id`.", body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 202, description = "Deferred: `transaction_id` and `interval`.",
            body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn credential(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let offer = authorized(&state, &headers, CREDENTIAL_PATH, now).await?;
        let body = json_body(&headers, body)?;
        Ok(answer(state.vci.credential(&offer, &body, now).await?))
    };
    with_dpop_nonce(&state, result.await, now)
}

/// Deferred credential endpoint.
///
/// OpenID4VCI 1.0 §9: the credentials of a deferred request, by `transaction_id`, once the
/// record was given; before, 400 `issuance_pending` with the `interval` to wait.
#[utoipa::path(
    post,
    path = DEFERRED_PATH,
    operation_id = "deferredCredential",
    tag = "oid4vci",
    security(("access_token" = [])),
    params(("DPoP" = Option<String>, Header, description = "The DPoP proof, for a \
        DPoP-bound token.")),
    request_body(content = Object, content_type = "application/json",
        description = "`{\"transaction_id\": ...}` (OpenID4VCI 1.0 §9.1)."),
    responses(
        (status = 200, description = "`credentials` and `notification_id`.", body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 202, description = "Still deferred.", body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn deferred(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let offer = authorized(&state, &headers, DEFERRED_PATH, now).await?;
        let body = json_body(&headers, body)?;
        Ok(answer(state.vci.deferred(&offer, &body, now).await?))
    };
    with_dpop_nonce(&state, result.await, now)
}

/// Notification endpoint.
///
/// OpenID4VCI 1.0 §11: the wallet says it accepted, failed to store or deleted the
/// credential (`notification_id`, `event`, `event_description`); recorded on the offer.
#[utoipa::path(
    post,
    path = NOTIFICATION_PATH,
    operation_id = "notification",
    tag = "oid4vci",
    security(("access_token" = [])),
    params(("DPoP" = Option<String>, Header, description = "The DPoP proof, for a \
        DPoP-bound token.")),
    request_body(content = Object, content_type = "application/json",
        description = "The notification (OpenID4VCI 1.0 §11.1)."),
    responses(
        (status = 204, description = "Recorded."),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
pub(super) async fn notification(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let result = async {
        let offer = authorized(&state, &headers, NOTIFICATION_PATH, now).await?;
        let body = read_body(body)?;
        state.vci.notification(&offer, &body, now).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    with_dpop_nonce(&state, result.await, now)
}
