//! The response bodies of the four modes, written by the wallet and read by the verifier:
//! direct_post (form `vp_token=<JSON>&state=…`, §8.2), direct_post.jwt (form `response=<JWE>`,
//! §8.3.1), dc_api (`{vp_token}`, A.4) and dc_api.jwt (`{response: <JWE>}`). The JWE itself
//! (ECDH-ES to the request's key, payload [`ResponseParams::to_json`]) is `mdoc_jose::jwe`'s.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::error::ResponseError;
use super::limits::MAX_RESPONSE_LEN;
use super::token::{check_state, ResponseParams, VpToken};

fn bounded(body: &[u8]) -> Result<(), ResponseError> {
    if body.len() > MAX_RESPONSE_LEN {
        return Err(ResponseError::TooLong {
            max: MAX_RESPONSE_LEN,
        });
    }
    Ok(())
}

/// A form body's parameters, each at most once; unknown ones are kept for the caller to ignore.
fn form(body: &[u8]) -> Result<BTreeMap<String, String>, ResponseError> {
    bounded(body)?;
    let mut params = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if params.insert(name.to_string(), value.to_string()).is_some() {
            return Err(ResponseError::Malformed(format!(
                "parameter {} given twice",
                name.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(params)
}

fn json_object(body: &[u8]) -> Result<Map<String, Json>, ResponseError> {
    bounded(body)?;
    match serde_json::from_slice(body) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(ResponseError::Malformed("not a JSON object".into())),
        Err(e) => Err(ResponseError::Malformed(e.to_string())),
    }
}

/// The direct_post body (`application/x-www-form-urlencoded`).
pub fn direct_post_body(params: &ResponseParams) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("vp_token", &params.vp_token.to_json().to_string());
    if let Some(state) = &params.state {
        form.append_pair("state", state);
    }
    form.finish()
}

/// Reads a direct_post body on the verifier's response endpoint.
pub fn parse_direct_post_body(body: &[u8]) -> Result<ResponseParams, ResponseError> {
    let params = form(body)?;
    let vp_token = params
        .get("vp_token")
        .ok_or(ResponseError::Missing("vp_token"))?;
    let vp_token: Json =
        serde_json::from_str(vp_token).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let state = params.get("state").cloned();
    if let Some(s) = &state {
        check_state(s)?;
    }
    Ok(ResponseParams {
        vp_token: VpToken::from_json(&vp_token)?,
        state,
    })
}

/// The direct_post.jwt body: `response=<JWE>`.
pub fn direct_post_jwt_body(jwe: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("response", jwe)
        .finish()
}

/// Reads a direct_post.jwt body: the JWE to decrypt, then read with
/// [`ResponseParams::from_json`].
pub fn parse_direct_post_jwt_body(body: &[u8]) -> Result<String, ResponseError> {
    form(body)?
        .remove("response")
        .ok_or(ResponseError::Missing("response"))
}

/// The dc_api response data: `{"vp_token": {…}}` (no `state` over the DC API).
pub fn dc_api_response(vp_token: &VpToken) -> Json {
    serde_json::json!({ "vp_token": vp_token.to_json() })
}

/// Reads dc_api response data.
pub fn parse_dc_api_response(data: &[u8]) -> Result<VpToken, ResponseError> {
    let map = json_object(data)?;
    VpToken::from_json(
        map.get("vp_token")
            .ok_or(ResponseError::Missing("vp_token"))?,
    )
}

/// The dc_api.jwt response data: `{"response": "<JWE>"}`.
pub fn dc_api_jwt_response(jwe: &str) -> Json {
    serde_json::json!({ "response": jwe })
}

/// Reads dc_api.jwt response data: the JWE to decrypt.
pub fn parse_dc_api_jwt_response(data: &[u8]) -> Result<String, ResponseError> {
    match json_object(data)?.remove("response") {
        Some(Json::String(jwe)) => Ok(jwe),
        Some(_) => Err(ResponseError::Malformed("response is not a string".into())),
        None => Err(ResponseError::Missing("response")),
    }
}

/// The wallet's error response (§8.5): the holder declined, or the request cannot be
/// answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The error code (e.g. `access_denied`).
    pub error: String,
    /// A description for the verifier's logs.
    pub description: Option<String>,
    /// The request's `state` (direct_post).
    pub state: Option<String>,
}

/// What a response body carries, before its mode's parser reads it: the response in the
/// clear, a JWE, or an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// `vp_token` (direct_post, dc_api).
    Plain,
    /// `response`, a JWE (direct_post.jwt, dc_api.jwt).
    Encrypted,
    /// `error`.
    Error(ErrorResponse),
}

/// Longest `error` or `error_description` read back.
const MAX_ERROR_LEN: usize = 1024;

fn error_text(v: Option<&str>) -> Option<String> {
    v.map(|s| s.chars().take(MAX_ERROR_LEN).collect())
}

/// Classifies a body: a form for direct_post*, the DC API response `data` (JSON) otherwise.
/// A body with both `vp_token` and `response`, or neither and no `error`, is malformed.
pub fn body_kind(body: &[u8], dc_api: bool) -> Result<BodyKind, ResponseError> {
    let params: BTreeMap<String, Option<String>> = if dc_api {
        json_object(body)?
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_owned)))
            .collect()
    } else {
        form(body)?.into_iter().map(|(k, v)| (k, Some(v))).collect()
    };
    if let Some(error) = params.get("error") {
        return Ok(BodyKind::Error(ErrorResponse {
            error: error_text(error.as_deref()).unwrap_or_default(),
            description: error_text(params.get("error_description").and_then(|d| d.as_deref())),
            state: error_text(params.get("state").and_then(|s| s.as_deref())),
        }));
    }
    match (
        params.contains_key("vp_token"),
        params.contains_key("response"),
    ) {
        (true, false) => Ok(BodyKind::Plain),
        (false, true) => Ok(BodyKind::Encrypted),
        (true, true) => Err(ResponseError::Malformed(
            "both vp_token and response".into(),
        )),
        (false, false) => Err(ResponseError::Missing("vp_token")),
    }
}

/// The error response body: a form for direct_post*, JSON for the DC API.
pub fn error_body(error: &ErrorResponse, dc_api: bool) -> String {
    if dc_api {
        let mut map = Map::new();
        map.insert("error".into(), Json::String(error.error.clone()));
        if let Some(d) = &error.description {
            map.insert("error_description".into(), Json::String(d.clone()));
        }
        return Json::Object(map).to_string();
    }
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("error", &error.error);
    if let Some(d) = &error.description {
        form.append_pair("error_description", d);
    }
    if let Some(state) = &error.state {
        form.append_pair("state", state);
    }
    form.finish()
}
