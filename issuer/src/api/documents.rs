//! Handlers of the authenticated routes: nonces, issuance, refresh, revocation.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, Modify, ToSchema};

use super::auth::Caller;
use super::error::ApiError;
use super::spec::{
    BadRequest, Forbidden, IdempotencyKey, InternalError, IssuanceUnavailable, IssueConflict,
    NotFound, PayloadTooLarge, RefreshConflict, ServiceUnavailable, TooManyRequests, Unauthorized,
    Unprocessable, UnsupportedMediaType, MAX_IDEMPOTENCY_KEY_LEN,
};
use super::AppState;
use crate::engine::{
    ErrorCode, IdentifierListEntry, IssueOutcome, IssueRequest, IssueResponse, OutcomeKind,
    RefreshRequest, RequestContext, StatusListEntry,
};
use crate::store::{DocumentId, DocumentState, RevocationReason, Scope};
use crate::timefmt::rfc3339;

pub(super) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => raw_json(status, body),
        Err(e) => ApiError::internal(format!("JSON answer: {e}")).into_response(),
    }
}

fn raw_json(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// The body, refused unless it is JSON within the size limit.
pub(super) fn body_bytes(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                "the request body exceeds the size limit",
            )
        } else {
            ApiError::malformed("", format!("cannot read the body: {rejection}"))
        }
    })?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Content-Type must be application/json",
        ));
    }
    Ok(body)
}

/// Parses a JSON body into `T`, naming the field at fault as a `/`-separated path
/// (`device_keys/0/proof`); a missing field is named too. The body is one JSON value and
/// nothing else: anything after it but whitespace is refused.
pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        use serde_path_to_error::Segment;
        let mut parts: Vec<String> = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                Segment::Seq { index } => Some(index.to_string()),
                Segment::Map { key } | Segment::Enum { variant: key } => Some(key.clone()),
                Segment::Unknown => None,
            })
            .collect();
        let message = e.into_inner().to_string();
        if let Some(rest) = message.strip_prefix("missing field `") {
            if let Some(field) = rest.split('`').next() {
                parts.push(field.to_owned());
            }
        }
        ApiError::malformed(&parts.join("/"), message)
    })?;
    de.end()
        .map_err(|e| ApiError::malformed("", format!("data after the JSON body: {e}")))?;
    Ok(value)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::malformed("Idempotency-Key", "must be visible ASCII"))?;
    if v.is_empty() || v.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::malformed(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// The document of a route (`/v1/documents/{id}/...`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct DocumentPath {
    /// Document id: 32 hex digits. Anything else is answered 404 `not_found`.
    #[param(pattern = "^[0-9a-fA-F]{32}$")]
    id: String,
}

impl DocumentPath {
    fn document_id(&self) -> Result<DocumentId, ApiError> {
        DocumentId::from_hex(&self.id).ok_or_else(|| ApiError::not_found("document"))
    }
}

/// The HTTP answer to an issuance or refresh: 201 for a new document, 200 for a refresh, and
/// for a replay the status of the answer it replays, marked `Idempotent-Replayed: true`.
fn outcome_response(o: IssueOutcome) -> Response {
    let (kind, replayed, response) = match o {
        IssueOutcome::Issued(r) => (OutcomeKind::Issued, false, r),
        IssueOutcome::Refreshed(r) => (OutcomeKind::Refreshed, false, r),
        IssueOutcome::Replayed { original, response } => (original, true, response),
    };
    let status = match kind {
        OutcomeKind::Issued => StatusCode::CREATED,
        OutcomeKind::Refreshed => StatusCode::OK,
    };
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(e) => return ApiError::internal(format!("JSON answer: {e}")).into_response(),
    };
    let mut resp = raw_json(status, body);
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// A proof-of-possession nonce.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NonceResponse {
    /// Put it in the key proofs' `nonce` claim and in the request's `nonce`. Single use.
    #[schema(pattern = "^[A-Za-z0-9_-]+$", content_encoding = "base64url")]
    nonce: String,
    /// After this (`issuance.nonce_ttl_secs`, default 300 s) it is refused.
    #[schema(format = DateTime)]
    expires_at: String,
}

/// A proof-of-possession nonce.
///
/// A single-use nonce, stateless (HMAC under the server secret) until it is consumed by an
/// issuance or refresh. No request body.
#[utoipa::path(
    post,
    path = "/v1/nonces",
    operation_id = "createNonce",
    tag = "issuance",
    security(("bearer" = ["issue"])),
    responses(
        (status = 200, description = "A nonce.", body = NonceResponse,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn nonce(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let (nonce, expires) = state.issuer.new_nonce(OffsetDateTime::now_utc())?;
    Ok(json_response(
        StatusCode::OK,
        &NonceResponse {
            nonce,
            expires_at: rfc3339(expires).map_err(ApiError::internal)?,
        },
    ))
}

/// Issue a document.
///
/// Validates the claims, the nonce and every device key and proof, then signs one MSO per
/// device key with the current DS and records the document, its MSOs and device-key bindings,
/// the consumed nonce and the idempotency record in one transaction. The applicant data itself
/// is not stored.
#[utoipa::path(
    post,
    path = "/v1/documents",
    operation_id = "issueDocument",
    tag = "issuance",
    security(("bearer" = ["issue"])),
    params(IdempotencyKey),
    request_body(content = IssueRequest, content_type = "application/json"),
    responses(
        (status = 201, body = IssueResponse,
            description = "Issued (or, with `Idempotent-Replayed: true`, the stored answer of \
                           the first attempt).",
            headers(
                ("Cache-Control" = String, description = "`no-store`."),
                ("Idempotent-Replayed" = String, description = "Present (`true`) when this \
                  response is the stored response of an earlier request with the same \
                  `Idempotency-Key` and the same body: byte for byte what the first attempt \
                  returned; nothing was signed or stored again."),
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = IssueConflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = IssuanceUnavailable),
    )
)]
pub(super) async fn issue(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let body = body_bytes(&headers, body)?;
    let key = idempotency_key(&headers)?;
    let req: IssueRequest = parse(&body)?;
    let cx = RequestContext {
        client_id: &caller.0.id,
        admin: caller.is_admin(),
        idempotency_key: key.as_deref(),
        route: "POST /v1/documents",
        body: &body,
        now: OffsetDateTime::now_utc(),
        offer: None,
    };
    Ok(outcome_response(state.issuer.issue(cx, &req).await?))
}

/// New MSOs for an active document.
///
/// Signs new MSOs (new salts, status indices and validity) for an active document, given the
/// same applicant data.
#[utoipa::path(
    post,
    path = "/v1/documents/{id}/refresh",
    operation_id = "refreshDocument",
    tag = "issuance",
    security(("bearer" = ["issue"])),
    params(DocumentPath, IdempotencyKey),
    request_body(content = RefreshRequest, content_type = "application/json"),
    responses(
        (status = 200, body = IssueResponse,
            description = "Refreshed (or the replayed answer of the first attempt).",
            headers(
                ("Cache-Control" = String, description = "`no-store`."),
                ("Idempotent-Replayed" = String, description = "Present (`true`) when this \
                  response is the stored response of an earlier request with the same \
                  `Idempotency-Key` and the same body."),
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = RefreshConflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = IssuanceUnavailable),
    )
)]
pub(super) async fn refresh(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let doc = path.document_id()?;
    let body = body_bytes(&headers, body)?;
    let key = idempotency_key(&headers)?;
    let req: RefreshRequest = parse(&body)?;
    let route = format!("POST /v1/documents/{}/refresh", doc.to_hex());
    let cx = RequestContext {
        client_id: &caller.0.id,
        admin: caller.is_admin(),
        idempotency_key: key.as_deref(),
        route: &route,
        body: &body,
        now: OffsetDateTime::now_utc(),
        offer: None,
    };
    Ok(outcome_response(state.issuer.refresh(cx, doc, &req).await?))
}

/// Why a client revokes a document (`ds_revoked` is the issuer's own). Anything else is 400
/// `malformed_request`, path `reason`.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum RevokeReason {
    /// No reason given.
    #[default]
    Unspecified,
    /// The device key was compromised or the phone lost.
    KeyCompromise,
    /// Replaced by a new document.
    Superseded,
    /// The holder is no longer entitled to the document.
    CessationOfOperation,
    /// The holder asked for revocation.
    HolderRequest,
}

impl From<RevokeReason> for RevocationReason {
    fn from(r: RevokeReason) -> Self {
        match r {
            RevokeReason::Unspecified => RevocationReason::Unspecified,
            RevokeReason::KeyCompromise => RevocationReason::KeyCompromise,
            RevokeReason::Superseded => RevocationReason::Superseded,
            RevokeReason::CessationOfOperation => RevocationReason::CessationOfOperation,
            RevokeReason::HolderRequest => RevocationReason::HolderRequest,
        }
    }
}

/// The optional body of a document revocation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "holder_request"})))]
pub(super) struct RevokeRequest {
    /// Why; `unspecified` when absent.
    #[serde(default)]
    #[schema(nullable = false)]
    reason: Option<RevokeReason>,
}

/// The revocation's body is optional (an empty body means reason `unspecified`). The path
/// attribute can say so only with a nullable schema, which would document a JSON `null` body
/// (refused); this marks the body not required instead, on the operation [`revoke`] declares.
pub(super) struct OptionalRevokeBody;

impl Modify for OptionalRevokeBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let path = <__path_revoke as utoipa::Path>::path();
        let body = openapi
            .paths
            .paths
            .get_mut(&path)
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut());
        if let Some(body) = body {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// A document revoked.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeResponse {
    /// The document id (32 hex digits).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    document_id: String,
    /// Always `revoked`.
    #[schema(inline)]
    state: RevokedState,
    /// `false` when the document was already revoked (its first time and reason stay).
    changed: bool,
}

/// The state a revocation leaves: `revoked`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum RevokedState {
    /// Revoked (final).
    Revoked,
}

/// Revoke a document and all its MSOs.
///
/// Final and idempotent. The status and identifier lists show it from the next fetch. The body
/// is optional: an empty body means reason `unspecified`; a non-empty body must be
/// `application/json`.
#[utoipa::path(
    post,
    path = "/v1/documents/{id}/revoke",
    operation_id = "revokeDocument",
    tag = "revocation",
    security(("bearer" = ["revoke"])),
    params(DocumentPath),
    request_body(content = RevokeRequest, content_type = "application/json",
        description = "Optional: an empty body means reason `unspecified`."),
    responses(
        (status = 200, description = "Revoked.", body = RevokeResponse,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn revoke(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Revoke)?;
    let doc = path.document_id()?;
    // The body is optional: an empty one means reason `unspecified`.
    let req: RevokeRequest = match &body {
        Ok(b) if b.is_empty() => RevokeRequest::default(),
        _ => parse(&body_bytes(&headers, body)?)?,
    };
    let reason = RevocationReason::from(req.reason.unwrap_or_default());
    let out = state
        .issuer
        .revoke(
            &caller.0.id,
            caller.is_admin(),
            doc,
            reason,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &RevokeResponse {
            document_id: doc.to_hex(),
            state: RevokedState::Revoked,
            changed: out.changed,
        },
    ))
}

/// The DS certificate of a route (`/v1/ds/{serial}/revoke`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct DsPath {
    /// Serial number of the DS certificate, hex (case-insensitive). Anything else is 400
    /// `malformed_request` with `details[0].path` = `serial`.
    #[param(pattern = "^[0-9a-fA-F]{1,64}$")]
    serial: String,
}

/// A DS certificate revoked, with what it signed.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeDsResponse {
    /// The serial, lowercase hex.
    #[schema(pattern = "^[0-9a-f]+$")]
    ds_serial: String,
    /// Documents this call revoked (reason `ds_revoked`).
    documents_revoked: u64,
}

/// Revoke a DS certificate and everything it signed.
///
/// After the root revoked a DS certificate: it never signs again (in this instance at once, in
/// others within a minute), and every document with an MSO it signed is revoked with reason
/// `ds_revoked`. No request body.
#[utoipa::path(
    post,
    path = "/v1/ds/{serial}/revoke",
    operation_id = "revokeDs",
    tag = "revocation",
    security(("bearer" = ["admin"])),
    params(DsPath),
    responses(
        (status = 200, description = "Revoked.", body = RevokeDsResponse,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn revoke_ds(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(DsPath { serial }): Path<DsPath>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    if serial.is_empty() || serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::malformed("serial", "must be 1 to 64 hex digits"));
    }
    let out = state
        .issuer
        .revoke_ds(&caller.0.id, &serial, OffsetDateTime::now_utc())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &RevokeDsResponse {
            ds_serial: serial.to_ascii_lowercase(),
            documents_revoked: out.documents,
        },
    ))
}

/// One MSO of a document.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MsoView {
    /// Serial of the DS certificate that signed it (lowercase hex).
    #[schema(pattern = "^[0-9a-f]+$")]
    ds_serial: String,
    /// Its status-list entry.
    status_list: StatusListEntry,
    /// Its identifier-list entry.
    identifier_list: IdentifierListEntry,
    /// validFrom (RFC 3339).
    #[schema(format = DateTime)]
    valid_from: String,
    /// validUntil (RFC 3339).
    #[schema(format = DateTime)]
    valid_until: String,
    /// Whether it is revoked.
    revoked: bool,
}

/// A document's state and MSO references. No personal data is stored, so none is returned.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentView {
    /// The document id (32 hex digits).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    document_id: String,
    /// The doc type.
    doctype: String,
    /// Active or revoked.
    state: DocumentState,
    /// When it was issued (RFC 3339).
    #[schema(format = DateTime)]
    created_at: String,
    /// When it was revoked (RFC 3339), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    revoked_at: Option<String>,
    /// Why it was revoked, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    revocation_reason: Option<RevocationReason>,
    /// Its MSOs.
    msos: Vec<MsoView>,
}

/// A document's state and MSOs.
///
/// Needs the `issue` or the `revoke` scope.
#[utoipa::path(
    get,
    path = "/v1/documents/{id}",
    operation_id = "getDocument",
    tags = ["issuance", "revocation"],
    security(("bearer" = ["issue"]), ("bearer" = ["revoke"])),
    params(DocumentPath),
    responses(
        (status = 200, description = "The document.", body = DocumentView,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(super) async fn get_document(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(path): Path<DocumentPath>,
) -> Result<Response, ApiError> {
    if caller.require(Scope::Issue).is_err() {
        caller.require(Scope::Revoke)?;
    }
    let doc_id = path.document_id()?;
    let store = state.issuer.store();
    let doc = store
        .get_document(doc_id)
        .await
        .map_err(|e| ApiError::from(crate::engine::EngineError::from(e)))?;
    // Another client's document is answered as unknown, so ids cannot be probed.
    if !state
        .issuer
        .may_access(&doc, &caller.0.id, caller.is_admin())
    {
        return Err(crate::engine::EngineError::NotFound("document").into());
    }
    let msos = store
        .msos_of(doc_id)
        .await
        .map_err(|e| ApiError::from(crate::engine::EngineError::from(e)))?;
    use base64::Engine as _;
    let view = DocumentView {
        document_id: doc.id.to_hex(),
        doctype: doc.doctype,
        state: doc.state,
        created_at: rfc3339(doc.created_at).map_err(ApiError::internal)?,
        revoked_at: doc
            .revoked_at
            .map(rfc3339)
            .transpose()
            .map_err(ApiError::internal)?,
        revocation_reason: doc.revocation_reason,
        msos: msos
            .into_iter()
            .map(|m| {
                Ok(MsoView {
                    ds_serial: m.record.ds_serial,
                    status_list: StatusListEntry {
                        uri: m.record.status_list_uri,
                        idx: m.record.status_index,
                    },
                    identifier_list: IdentifierListEntry {
                        uri: state.issuer.identifier_list_uri(),
                        id: base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(&m.record.identifier),
                    },
                    valid_from: rfc3339(m.record.valid_from).map_err(ApiError::internal)?,
                    valid_until: rfc3339(m.record.valid_until).map_err(ApiError::internal)?,
                    revoked: m.revoked_at.is_some(),
                })
            })
            .collect::<Result<_, ApiError>>()?,
    };
    Ok(json_response(StatusCode::OK, &view))
}
