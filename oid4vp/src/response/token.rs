//! The VP Token of an `mso_mdoc` response (§8.1, B.2.5): a JSON object keyed by DCQL credential
//! query id, each value an array of base64url DeviceResponses.

use std::collections::BTreeMap;

use mdoc_jose::jws::{b64url, b64url_decode};
use serde_json::{Map, Value as Json};

use super::error::ResponseError;
use super::limits::{
    MAX_ID_LEN, MAX_NONCE_LEN, MAX_PRESENTATIONS, MAX_PRESENTATION_LEN, MAX_QUERIES,
};

/// Credential query id → DeviceResponse bytes (CBOR), one or more each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpToken(BTreeMap<String, Vec<Vec<u8>>>);

/// The response parameters: the VP Token and, for direct_post, the request's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseParams {
    /// The presentations.
    pub vp_token: VpToken,
    /// The request's `state`, returned unchanged (not used over the DC API).
    pub state: Option<String>,
}

/// DCQL ids: non-empty alphanumerics, `_` and `-`.
fn is_dcql_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn check_state(state: &str) -> Result<(), ResponseError> {
    let ok = state.len() <= MAX_NONCE_LEN
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    ok.then_some(()).ok_or(ResponseError::State)
}

impl VpToken {
    /// An empty token.
    pub fn new() -> Self {
        VpToken::default()
    }

    /// Adds a DeviceResponse (CBOR bytes) under a credential query id.
    pub fn push(&mut self, query_id: impl Into<String>, device_response: Vec<u8>) {
        self.0
            .entry(query_id.into())
            .or_default()
            .push(device_response);
    }

    /// The DeviceResponses for a credential query id.
    pub fn get(&self, query_id: &str) -> Option<&[Vec<u8>]> {
        self.0.get(query_id).map(Vec::as_slice)
    }

    /// Every (query id, DeviceResponses) pair, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Vec<u8>])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The JSON object `{id: [base64url(DeviceResponse), …]}`.
    pub fn to_json(&self) -> Json {
        Json::Object(
            self.0
                .iter()
                .map(|(id, list)| {
                    let list = list.iter().map(|d| Json::String(b64url(d))).collect();
                    (id.clone(), Json::Array(list))
                })
                .collect::<Map<_, _>>(),
        )
    }

    /// Reads an untrusted VP Token: 1..=16 ids of DCQL syntax, each 1..=8 presentations of
    /// strict unpadded base64url decoding to at most 1 MiB. The DeviceResponses themselves are
    /// left to `mso::verify`.
    pub fn from_json(json: &Json) -> Result<Self, ResponseError> {
        let object = json
            .as_object()
            .ok_or_else(|| ResponseError::Malformed("vp_token is not a JSON object".into()))?;
        if object.is_empty() || object.len() > MAX_QUERIES {
            return Err(ResponseError::QueryCount { max: MAX_QUERIES });
        }
        let mut token = BTreeMap::new();
        for (id, list) in object {
            let short: String = id.chars().take(40).collect();
            if !is_dcql_id(id) {
                return Err(ResponseError::QueryId(short));
            }
            let list = list.as_array().ok_or_else(|| {
                ResponseError::Malformed(format!("vp_token[{short:?}] is not an array"))
            })?;
            if list.is_empty() || list.len() > MAX_PRESENTATIONS {
                return Err(ResponseError::PresentationCount {
                    id: short,
                    max: MAX_PRESENTATIONS,
                });
            }
            let bad = |index| ResponseError::Presentation {
                id: short.clone(),
                index,
                max: MAX_PRESENTATION_LEN,
            };
            let mut decoded = Vec::with_capacity(list.len());
            for (index, p) in list.iter().enumerate() {
                let s = p.as_str().ok_or_else(|| bad(index))?;
                // base64url is 4/3 of the bytes: refuse before decoding.
                if s.len() > MAX_PRESENTATION_LEN / 3 * 4 + 4 {
                    return Err(bad(index));
                }
                let bytes = b64url_decode(s).ok_or_else(|| bad(index))?;
                if bytes.is_empty() || bytes.len() > MAX_PRESENTATION_LEN {
                    return Err(bad(index));
                }
                decoded.push(bytes);
            }
            token.insert(id.clone(), decoded);
        }
        Ok(VpToken(token))
    }
}

impl ResponseParams {
    /// The JSON object of the response parameters: `{vp_token, state?}`, the payload of the
    /// encrypted modes' JWE (§8.3).
    pub fn to_json(&self) -> Json {
        let mut map = Map::new();
        map.insert("vp_token".into(), self.vp_token.to_json());
        if let Some(state) = &self.state {
            map.insert("state".into(), Json::String(state.clone()));
        }
        Json::Object(map)
    }

    /// Reads the response parameters from a JSON object (a decrypted JWE payload, or a DC API
    /// response's `data`); other members are ignored (§8.1).
    pub fn from_json(json: &Json) -> Result<Self, ResponseError> {
        let object = json
            .as_object()
            .ok_or_else(|| ResponseError::Malformed("response is not a JSON object".into()))?;
        let vp_token = VpToken::from_json(
            object
                .get("vp_token")
                .ok_or(ResponseError::Missing("vp_token"))?,
        )?;
        let state = match object.get("state") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => {
                check_state(s)?;
                Some(s.clone())
            }
            Some(_) => return Err(ResponseError::Malformed("state is not a string".into())),
        };
        Ok(ResponseParams { vp_token, state })
    }
}
