//! Request and answer plumbing shared by the wallet-facing routes (`oid4vci`, `authorize`):
//! form bodies, the wallet attestation headers, and the `DPoP-Nonce` every answer carries when
//! the issuer requires DPoP nonces.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::dpop::dpop_nonce_header;
use super::error::VciReply;
use super::AppState;
use crate::jose::attestation::{MAX_ATTESTATION_LEN, MAX_POP_LEN};
use crate::oid4vci::{ClientAuth, VciError};

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

/// The body, or `invalid_request` if it could not be read (too large, broken).
pub(super) fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, VciError> {
    body.map_err(|r| VciError::InvalidRequest(format!("cannot read the body: {r}")))
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
