//! The portal's credential-offer routes (scope `issue`): make an offer for an identified
//! applicant, look at it, give a pending offer its record, withdraw it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use super::auth::Caller;
use super::documents::{body_bytes, json_response, parse};
use super::error::ApiError;
use super::spec::{
    BadRequest, Forbidden, InternalError, NotFound, OfferConflict, PayloadTooLarge,
    ServiceUnavailable, TooManyRequests, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use super::AppState;
use crate::oid4vci::{OfferClaims, OfferCreated, OfferRequest, OfferView};
use crate::store::Scope;

/// The offer of a route (`/v1/offers/{id}/...`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct OfferPath {
    /// The offer id (32 hex digits). Anything else, or another client's offer, is 404.
    #[param(pattern = "^[0-9a-fA-F]{32}$")]
    id: String,
}

/// Make an OpenID4VCI credential offer.
///
/// For an identified applicant (or, without `claims`, one whose record comes later with
/// `PUT /v1/offers/{id}/claims`): 201 with the offer by value and by reference, its link, QR
/// code and transaction code. The wallet redeems it at the OpenID4VCI endpoints.
#[utoipa::path(
    post,
    path = "/v1/offers",
    operation_id = "createOffer",
    tag = "offers",
    security(("bearer" = ["issue"])),
    request_body(content = OfferRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The offer.", body = OfferCreated,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let body = body_bytes(&headers, body)?;
    let req: OfferRequest = parse(&body)?;
    let created = state
        .vci
        .create_offer(&caller.0.id, &req, OffsetDateTime::now_utc())
        .await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

/// An offer's state.
///
/// No secrets, no personal data.
#[utoipa::path(
    get,
    path = "/v1/offers/{id}",
    operation_id = "getOffer",
    tag = "offers",
    security(("bearer" = ["issue"])),
    params(OfferPath),
    responses(
        (status = 200, description = "The offer.", body = OfferView,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(OfferPath { id }): Path<OfferPath>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let view = state
        .vci
        .offer_view(
            &caller.0.id,
            caller.is_admin(),
            &id,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// Give a pending offer its record.
///
/// The applicant's record for an offer made without one; the wallet's deferred request is
/// then answered.
#[utoipa::path(
    put,
    path = "/v1/offers/{id}/claims",
    operation_id = "giveOfferClaims",
    tag = "offers",
    security(("bearer" = ["issue"])),
    params(OfferPath),
    request_body(content = OfferClaims, content_type = "application/json"),
    responses(
        (status = 200, description = "The offer.", body = OfferView,
            headers(("Cache-Control" = String, description = "`no-store`."))),
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
pub(super) async fn claims(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(OfferPath { id }): Path<OfferPath>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let body = body_bytes(&headers, body)?;
    let req: OfferClaims = parse(&body)?;
    let view = state
        .vci
        .give_claims(
            &caller.0.id,
            caller.is_admin(),
            &id,
            &req.claims,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// Withdraw an offer not yet issued.
#[utoipa::path(
    delete,
    path = "/v1/offers/{id}",
    operation_id = "withdrawOffer",
    tag = "offers",
    security(("bearer" = ["issue"])),
    params(OfferPath),
    responses(
        (status = 200, description = "The offer, withdrawn.", body = OfferView,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = OfferConflict),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn withdraw(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(OfferPath { id }): Path<OfferPath>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let view = state
        .vci
        .withdraw_offer(
            &caller.0.id,
            caller.is_admin(),
            &id,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json_response(StatusCode::OK, &view))
}
