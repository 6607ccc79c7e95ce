//! The one table of the API's routes. Each handler is registered from its own
//! `#[utoipa::path]` attribute (method and path), so the router [`super::router`] serves and
//! the OpenAPI document [`super::openapi`] lists are the same routes by construction: a route
//! cannot be served undocumented, nor documented unserved. Add a route here with `routes!`,
//! never with a bare `.route(...)`.

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{admin, authorize, documents, offers, oid4vci, ops, AppState};

/// Every route with its handler and its OpenAPI operation.
pub(super) fn table() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(documents::nonce))
        .routes(routes!(documents::issue))
        .routes(routes!(documents::get_document))
        .routes(routes!(documents::refresh))
        .routes(routes!(documents::revoke))
        .routes(routes!(documents::revoke_ds))
        .routes(routes!(admin::state))
        .routes(routes!(admin::suspend))
        .routes(routes!(admin::resume))
        .routes(routes!(offers::create))
        .routes(routes!(offers::get, offers::withdraw))
        .routes(routes!(offers::claims))
        .routes(routes!(authorize::handoff))
        .routes(routes!(authorize::par))
        .routes(routes!(authorize::authorize))
        .routes(routes!(oid4vci::issuer_metadata_doc))
        .routes(routes!(oid4vci::issuer_metadata_doc_suffixed))
        .routes(routes!(oid4vci::as_metadata_doc))
        .routes(routes!(oid4vci::as_metadata_doc_suffixed))
        .routes(routes!(oid4vci::offer_by_reference))
        .routes(routes!(oid4vci::token))
        .routes(routes!(oid4vci::nonce))
        .routes(routes!(oid4vci::credential))
        .routes(routes!(oid4vci::deferred))
        .routes(routes!(oid4vci::notification))
        .routes(routes!(ops::status_list))
        .routes(routes!(ops::identifier_list))
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
}
