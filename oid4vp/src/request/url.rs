//! The request URL of the same-device and cross-device flows (§5, RFC 9101 §5): the request by
//! value (`request=<JWT>`), by reference (`request_uri=…`, which the caller fetches: the SDK
//! does the HTTP), or as plain parameters.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::check::{parse_unsigned, RequestContext, VerifiedRequest};
use super::client_id::is_https_url;
use super::error::RequestError;
use super::limits::{MAX_REQUEST_LEN, MAX_URI_LEN};

/// How the wallet fetches a request object from `request_uri` (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestUriMethod {
    /// A plain GET (RFC 9101), the default.
    Get,
    /// A form POST with `wallet_metadata` and `wallet_nonce` (§5.10).
    Post,
}

/// What a request URL holds.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestUrl {
    /// A request object by value: verify it with
    /// [`verify_request_object`](super::object::verify_request_object), passing `client_id`
    /// as [`RequestContext::url_client_id`].
    ByValue {
        /// The `client_id` beside it.
        client_id: Option<String>,
        /// The compact JWS.
        request: String,
    },
    /// A request object by reference: fetch `request_uri` with `method`, then verify the body
    /// as for [`RequestUrl::ByValue`].
    ByReference {
        /// The `client_id` beside it.
        client_id: Option<String>,
        /// Where the request object is (https).
        request_uri: String,
        /// How to fetch it.
        method: RequestUriMethod,
    },
    /// The request as URL parameters, already checked by
    /// [`parse_unsigned`](super::check::parse_unsigned).
    Unsigned(Box<VerifiedRequest>),
}

/// Parameters that carry JSON in a URL (§5.1: objects are JSON-serialized strings).
const JSON_PARAMS: &[&str] = &["dcql_query", "client_metadata", "expected_origins"];

/// Reads a request URL (`openid4vp://?…`, `haip-vp://?…`, or an https universal link): bounded
/// size, each parameter at most once, `request` and `request_uri` not both,
/// `request_uri_method` only `get`/`post` and only with `request_uri`, `request_uri` https.
pub fn parse_request_url(url: &str) -> Result<RequestUrl, RequestError> {
    if url.len() > MAX_REQUEST_LEN {
        return Err(RequestError::TooLong {
            max: MAX_REQUEST_LEN,
        });
    }
    let parsed = url::Url::parse(url).map_err(|e| RequestError::Malformed(e.to_string()))?;
    let mut params = BTreeMap::new();
    for (name, value) in parsed.query_pairs() {
        if params.insert(name.to_string(), value.to_string()).is_some() {
            return Err(RequestError::Malformed(format!(
                "parameter {} given twice",
                name.chars().take(40).collect::<String>()
            )));
        }
    }
    let client_id = params.get("client_id").cloned();
    let method = match params.get("request_uri_method").map(String::as_str) {
        None | Some("get") => RequestUriMethod::Get,
        Some("post") => RequestUriMethod::Post,
        Some(_) => return Err(RequestError::Url("request_uri_method must be get or post")),
    };
    match (params.remove("request"), params.remove("request_uri")) {
        (Some(_), Some(_)) => Err(RequestError::Url("both request and request_uri")),
        (Some(request), None) => {
            if params.contains_key("request_uri_method") {
                return Err(RequestError::Url("request_uri_method without request_uri"));
            }
            Ok(RequestUrl::ByValue { client_id, request })
        }
        (None, Some(request_uri)) => {
            if request_uri.len() > MAX_URI_LEN || !is_https_url(&request_uri) {
                return Err(RequestError::Uri("request_uri"));
            }
            Ok(RequestUrl::ByReference {
                client_id,
                request_uri,
                method,
            })
        }
        (None, None) => {
            if params.contains_key("request_uri_method") {
                return Err(RequestError::Url("request_uri_method without request_uri"));
            }
            let mut object = Map::new();
            for (name, value) in params {
                let value = if JSON_PARAMS.contains(&name.as_str()) {
                    serde_json::from_str(&value)
                        .map_err(|_| RequestError::Malformed(format!("{name} is not JSON")))?
                } else {
                    Json::String(value)
                };
                object.insert(name, value);
            }
            let json = Json::Object(object).to_string();
            parse_unsigned(json.as_bytes(), &RequestContext::default())
                .map(|r| RequestUrl::Unsigned(Box::new(r)))
        }
    }
}

/// The verifier's request URL by reference: `<base>?client_id=…&request_uri=…`, with
/// `request_uri_method=post` when asked. `base` is the wallet's authorization endpoint, e.g.
/// `openid4vp://`.
pub fn request_uri_url(
    base: &str,
    client_id: &str,
    request_uri: &str,
    method: RequestUriMethod,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", client_id);
    query.append_pair("request_uri", request_uri);
    if method == RequestUriMethod::Post {
        query.append_pair("request_uri_method", "post");
    }
    format!("{base}?{}", query.finish())
}

/// The verifier's request URL carrying the request by value (§5): `client_id` and the signed
/// `request` object when there is one, else every parameter of `request` (objects and arrays
/// JSON-serialized, as [`parse_request_url`] reads them back). `base` is the wallet's scheme
/// or universal link, e.g. `openid4vp://`.
pub fn request_url(
    base: &str,
    request: &super::model::AuthorizationRequest,
    request_object: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    match request_object {
        Some(jwt) => {
            if let Some(id) = &request.client_id {
                query.append_pair("client_id", id);
            }
            query.append_pair("request", jwt);
        }
        None => {
            if let Json::Object(params) = request.to_json() {
                for (name, value) in &params {
                    match value {
                        Json::String(s) => query.append_pair(name, s),
                        other => query.append_pair(name, &other.to_string()),
                    };
                }
            }
        }
    }
    format!("{base}?{}", query.finish())
}
