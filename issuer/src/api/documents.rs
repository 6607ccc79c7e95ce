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

use super::auth::Caller;
use super::error::ApiError;
use super::AppState;
use crate::engine::{
    parse_reason, reason_name, IssueOutcome, IssueRequest, OutcomeKind, RefreshRequest,
    RequestContext,
};
use crate::store::{DocumentId, DocumentState, RevocationReason, Scope};
use crate::timefmt::rfc3339;

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

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
                "body_too_large",
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
            "unsupported_media_type",
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

fn document_id(id: &str) -> Result<DocumentId, ApiError> {
    DocumentId::from_hex(id).ok_or_else(|| ApiError::not_found("document"))
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

#[derive(Serialize)]
struct NonceResponse {
    nonce: String,
    expires_at: String,
}

/// `POST /v1/nonces`.
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

/// `POST /v1/documents`.
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

/// `POST /v1/documents/{id}/refresh`.
pub(super) async fn refresh(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Issue)?;
    let doc = document_id(&id)?;
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Serialize)]
struct RevokeResponse {
    document_id: String,
    state: &'static str,
    changed: bool,
}

/// `POST /v1/documents/{id}/revoke`.
pub(super) async fn revoke(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Revoke)?;
    let doc = document_id(&id)?;
    // The body is optional: an empty one means reason `unspecified`.
    let req: RevokeRequest = match &body {
        Ok(b) if b.is_empty() => RevokeRequest::default(),
        _ => parse(&body_bytes(&headers, body)?)?,
    };
    let reason = match req.reason.as_deref() {
        None => RevocationReason::Unspecified,
        Some(name) => parse_reason(name).ok_or_else(|| {
            ApiError::malformed(
                "reason",
                "one of unspecified, key_compromise, superseded, cessation_of_operation, \
                 holder_request",
            )
        })?,
    };
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
            state: "revoked",
            changed: out.changed,
        },
    ))
}

#[derive(Serialize)]
struct RevokeDsResponse {
    ds_serial: String,
    documents_revoked: u64,
}

/// `POST /v1/ds/{serial}/revoke`.
pub(super) async fn revoke_ds(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(serial): Path<String>,
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

#[derive(Serialize)]
struct MsoView {
    ds_serial: String,
    status_list: crate::engine::StatusOut,
    identifier_list: crate::engine::StatusOut,
    valid_from: String,
    valid_until: String,
    revoked: bool,
}

#[derive(Serialize)]
struct DocumentView {
    document_id: String,
    doctype: String,
    state: &'static str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_reason: Option<&'static str>,
    msos: Vec<MsoView>,
}

/// `GET /v1/documents/{id}`.
pub(super) async fn get_document(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if caller.require(Scope::Issue).is_err() {
        caller.require(Scope::Revoke)?;
    }
    let doc_id = document_id(&id)?;
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
        state: match doc.state {
            DocumentState::Active => "active",
            DocumentState::Revoked => "revoked",
        },
        created_at: rfc3339(doc.created_at).map_err(ApiError::internal)?,
        revoked_at: doc
            .revoked_at
            .map(rfc3339)
            .transpose()
            .map_err(ApiError::internal)?,
        revocation_reason: doc.revocation_reason.map(reason_name),
        msos: msos
            .into_iter()
            .map(|m| {
                Ok(MsoView {
                    ds_serial: m.record.ds_serial,
                    status_list: crate::engine::StatusOut {
                        uri: m.record.status_list_uri,
                        idx: Some(m.record.status_index),
                        id: None,
                    },
                    identifier_list: crate::engine::StatusOut {
                        uri: state.issuer.identifier_list_uri(),
                        idx: None,
                        id: Some(
                            base64::engine::general_purpose::URL_SAFE_NO_PAD
                                .encode(&m.record.identifier),
                        ),
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
