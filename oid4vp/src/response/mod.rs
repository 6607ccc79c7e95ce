//! The authorization response (OpenID4VP 1.0 §8) for `mso_mdoc`: the `vp_token` (a JSON
//! object keyed by DCQL credential query id, each an array of base64url DeviceResponses) and
//! `state`, and the bodies that carry them: a form POST for `direct_post` (`vp_token`,
//! `state`) and `direct_post.jwt` (`response=<JWE>`), a JSON object for `dc_api`
//! (`{vp_token}`) and `dc_api.jwt` (`{response}`), or an error (`error`,
//! `error_description`, `state`). The JWE itself is `mdoc_jose::jwe`; its plaintext is
//! [`ResponseParams::to_payload`].

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value as Json};

/// Largest response body read (a few mdocs with portraits, base64url inside JSON inside a
/// form or a JWE).
pub const MAX_RESPONSE_LEN: usize = 4 * 1024 * 1024;

/// Most credential query ids in one `vp_token`.
pub const MAX_QUERIES: usize = 32;

/// Most presentations for one credential query.
pub const MAX_PRESENTATIONS: usize = 16;

/// Longest `state`, `error` or `error_description` read.
pub const MAX_PARAM_LEN: usize = 1024;

/// Why a response body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The body is larger than [`MAX_RESPONSE_LEN`].
    #[error("response of {len} bytes, at most {MAX_RESPONSE_LEN}")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// The body is not the form or JSON object its mode uses.
    #[error("response body: {0}")]
    Malformed(&'static str),
    /// A parameter appears twice.
    #[error("parameter {0} given twice")]
    Duplicate(String),
    /// The body has neither a response nor an error, or the wrong one for the mode.
    #[error("response body: {0}")]
    Shape(&'static str),
    /// `vp_token` is not an object of arrays of base64url strings within the bounds.
    #[error("vp_token: {0}")]
    VpToken(String),
    /// A parameter is longer than [`MAX_PARAM_LEN`].
    #[error("{0} longer than {MAX_PARAM_LEN}")]
    TooLong(&'static str),
}

/// The presentations of a response: credential query id → DeviceResponse bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VpToken {
    /// The DeviceResponses (decoded from base64url), per credential query id.
    pub presentations: BTreeMap<String, Vec<Vec<u8>>>,
}

impl VpToken {
    /// The `vp_token` JSON object.
    pub fn to_json(&self) -> Json {
        Json::Object(
            self.presentations
                .iter()
                .map(|(id, list)| {
                    let list = list
                        .iter()
                        .map(|p| Json::String(URL_SAFE_NO_PAD.encode(p)))
                        .collect();
                    (id.clone(), Json::Array(list))
                })
                .collect(),
        )
    }

    /// Reads an untrusted `vp_token`: an object of at most [`MAX_QUERIES`] ids, each a
    /// non-empty array of at most [`MAX_PRESENTATIONS`] strict base64url strings.
    pub fn from_json(json: &Json) -> Result<Self, ResponseError> {
        let bad = |why: String| ResponseError::VpToken(why);
        let map = json
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        if map.is_empty() || map.len() > MAX_QUERIES {
            return Err(bad(format!("{} ids, 1 to {MAX_QUERIES}", map.len())));
        }
        let mut presentations = BTreeMap::new();
        for (id, list) in map {
            let list = list
                .as_array()
                .ok_or_else(|| bad(format!("{id:?} is not an array")))?;
            if list.is_empty() || list.len() > MAX_PRESENTATIONS {
                return Err(bad(format!(
                    "{id:?} has {} presentations, 1 to {MAX_PRESENTATIONS}",
                    list.len()
                )));
            }
            let decoded = list
                .iter()
                .map(|p| {
                    p.as_str()
                        .and_then(|s| URL_SAFE_NO_PAD.decode(s.as_bytes()).ok())
                        .ok_or_else(|| bad(format!("a presentation of {id:?} is not base64url")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            presentations.insert(id.clone(), decoded);
        }
        Ok(VpToken { presentations })
    }
}

/// A response: the presentations and the request's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseParams {
    /// The presentations.
    pub vp_token: VpToken,
    /// The request's `state`, returned unchanged.
    pub state: Option<String>,
}

impl ResponseParams {
    /// The JSON object a JWE response encrypts (`{"vp_token": …, "state": …}`).
    pub fn to_payload(&self) -> Vec<u8> {
        let mut map = Map::new();
        map.insert("vp_token".into(), self.vp_token.to_json());
        if let Some(state) = &self.state {
            map.insert("state".into(), Json::String(state.clone()));
        }
        Json::Object(map).to_string().into_bytes()
    }

    /// Reads a decrypted JWE payload.
    pub fn from_payload(payload: &[u8]) -> Result<Self, ResponseError> {
        let json: Json = serde_json::from_slice(payload)
            .map_err(|_| ResponseError::Malformed("the decrypted payload is not JSON"))?;
        let map = json
            .as_object()
            .ok_or(ResponseError::Malformed("the decrypted payload is not an object"))?;
        Ok(ResponseParams {
            vp_token: VpToken::from_json(
                map.get("vp_token")
                    .ok_or(ResponseError::Shape("no vp_token in the payload"))?,
            )?,
            state: bounded_str(map.get("state"), "state")?,
        })
    }
}

/// What a response body carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The response in the clear (`direct_post`, `dc_api`).
    Plain(ResponseParams),
    /// The response as a JWE (`direct_post.jwt`, `dc_api.jwt`).
    Encrypted(String),
    /// The wallet's error response (§8.5).
    Error {
        /// The error code (e.g. `access_denied`).
        error: String,
        /// Its description, if any.
        description: Option<String>,
        /// The request's `state`.
        state: Option<String>,
    },
}

fn bounded_str(v: Option<&Json>, what: &'static str) -> Result<Option<String>, ResponseError> {
    match v {
        None => Ok(None),
        Some(Json::String(s)) if s.len() <= MAX_PARAM_LEN => Ok(Some(s.clone())),
        Some(Json::String(_)) => Err(ResponseError::TooLong(what)),
        Some(_) => Err(ResponseError::Malformed("a parameter is not a string")),
    }
}

fn check_len(len: usize) -> Result<(), ResponseError> {
    if len > MAX_RESPONSE_LEN {
        return Err(ResponseError::TooLarge { len });
    }
    Ok(())
}

/// The body from its parameters, whichever way they came.
fn body(params: &Map<String, Json>) -> Result<Body, ResponseError> {
    if let Some(error) = bounded_str(params.get("error"), "error")? {
        return Ok(Body::Error {
            error,
            description: bounded_str(params.get("error_description"), "error_description")?,
            state: bounded_str(params.get("state"), "state")?,
        });
    }
    match (params.get("response"), params.get("vp_token")) {
        (Some(Json::String(jwe)), None) => Ok(Body::Encrypted(jwe.clone())),
        (None, Some(vp_token)) => Ok(Body::Plain(ResponseParams {
            vp_token: VpToken::from_json(vp_token)?,
            state: bounded_str(params.get("state"), "state")?,
        })),
        (Some(_), Some(_)) => Err(ResponseError::Shape("both response and vp_token")),
        (Some(_), None) => Err(ResponseError::Shape("response is not a string")),
        (None, None) => Err(ResponseError::Shape("neither response, vp_token nor error")),
    }
}

/// Reads a `direct_post` / `direct_post.jwt` form body (`application/x-www-form-urlencoded`);
/// `vp_token` is JSON inside the form.
pub fn read_form(form: &str) -> Result<Body, ResponseError> {
    check_len(form.len())?;
    let mut params = Map::new();
    for (k, v) in form_urlencoded::parse(form.as_bytes()) {
        let value = if k == "vp_token" {
            serde_json::from_str(&v).map_err(|_| ResponseError::VpToken("not JSON".into()))?
        } else {
            Json::String(v.into_owned())
        };
        if params.insert(k.clone().into_owned(), value).is_some() {
            return Err(ResponseError::Duplicate(k.into_owned()));
        }
    }
    body(&params)
}

/// Reads a `dc_api` / `dc_api.jwt` response: the Digital Credentials API response's `data`.
pub fn read_dc_api(data_json: &str) -> Result<Body, ResponseError> {
    check_len(data_json.len())?;
    let json: Json = serde_json::from_str(data_json)
        .map_err(|_| ResponseError::Malformed("the response data is not JSON"))?;
    body(
        json.as_object()
            .ok_or(ResponseError::Malformed("the response data is not an object"))?,
    )
}

/// Writes a body as the `direct_post` form.
pub fn write_form(body: &Body) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match body {
        Body::Plain(p) => {
            form.append_pair("vp_token", &p.vp_token.to_json().to_string());
            if let Some(state) = &p.state {
                form.append_pair("state", state);
            }
        }
        Body::Encrypted(jwe) => {
            form.append_pair("response", jwe);
        }
        Body::Error {
            error,
            description,
            state,
        } => {
            form.append_pair("error", error);
            if let Some(d) = description {
                form.append_pair("error_description", d);
            }
            if let Some(state) = state {
                form.append_pair("state", state);
            }
        }
    }
    form.finish()
}

/// Writes a body as the Digital Credentials API response's `data`.
pub fn write_dc_api(body: &Body) -> String {
    let mut map = Map::new();
    match body {
        Body::Plain(p) => {
            map.insert("vp_token".into(), p.vp_token.to_json());
        }
        Body::Encrypted(jwe) => {
            map.insert("response".into(), Json::String(jwe.clone()));
        }
        Body::Error {
            error, description, ..
        } => {
            map.insert("error".into(), Json::String(error.clone()));
            if let Some(d) = description {
                map.insert("error_description".into(), Json::String(d.clone()));
            }
        }
    }
    Json::Object(map).to_string()
}
