//! The portal's credential-offer routes (scope `issue`): make an offer for an identified
//! applicant, look at it, give a pending offer its record, withdraw it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use time::OffsetDateTime;

use super::auth::Caller;
use super::documents::{body_bytes, json_response, parse};
use super::error::ApiError;
use super::AppState;
use crate::oid4vci::{OfferClaims, OfferRequest};
use crate::store::Scope;

/// `POST /v1/offers`: 201 with the offer by value and by reference, its link, QR code and
/// transaction code.
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

/// `GET /v1/offers/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
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

/// `PUT /v1/offers/{id}/claims`: the record of a pending offer.
pub(super) async fn claims(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
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

/// `DELETE /v1/offers/{id}`: withdraw an offer not yet issued.
pub(super) async fn withdraw(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
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
