//! Requests passed by reference (`request_uri`, RFC 9101 and OpenID4VP 1.0 §5.10): the SDK
//! fetches the request object through the app's [`HttpClient`] under its URL rules (https
//! only, no redirects, bounded answers) and hands back the request by value.

use std::sync::Arc;

use mdoc_oid4vp::request::limits::MAX_REQUEST_LEN;
use mdoc_oid4vp::request::{parse_request_url, RequestUriMethod, RequestUrl};

use super::types::OnlineRequest;
use crate::error::{Result, WalletError};
use crate::http::{header, Http, HttpClient, HttpMethod, UrlPolicy};
use crate::wallet::Wallet;

/// The media type of a request object (RFC 9101 §10.2).
const REQUEST_OBJECT_TYPE: &str = "application/oauth-authz-req+jwt";

#[uniffi::export]
impl Wallet {
    /// Resolves an OpenID4VP request URL: one with `request_uri` is fetched through `http`
    /// (GET, or POST when `request_uri_method=post`) and returned as the same request by
    /// value, which [`Wallet::start_online_presentation`] then verifies; any other request URL
    /// is returned as it is. Nothing is disclosed here.
    pub fn resolve_online_request(
        &self,
        url: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<OnlineRequest> {
        let parsed = parse_request_url(&url).map_err(|e| WalletError::Protocol {
            reason: format!("OpenID4VP request URL refused: {e}"),
        })?;
        let RequestUrl::ByReference {
            client_id,
            request_uri,
            method,
        } = parsed
        else {
            return Ok(OnlineRequest::Url { url });
        };
        let http = Http::new(
            http,
            UrlPolicy {
                allow_http_loopback: false,
            },
        );
        let target = http.policy.check(&request_uri)?;
        let accept = vec![header("accept", REQUEST_OBJECT_TYPE)];
        let answer = match method {
            RequestUriMethod::Get => http.send(
                HttpMethod::Get,
                &target,
                accept,
                Vec::new(),
                MAX_REQUEST_LEN,
            )?,
            // No wallet_metadata or wallet_nonce: both are optional (§5.10).
            RequestUriMethod::Post => {
                let mut headers = accept;
                headers.push(header("content-type", "application/x-www-form-urlencoded"));
                http.send(
                    HttpMethod::Post,
                    &target,
                    headers,
                    Vec::new(),
                    MAX_REQUEST_LEN,
                )?
            }
        };
        if !answer.is_success() {
            return Err(WalletError::HttpStatus {
                url: answer.url,
                status: answer.status,
            });
        }
        let jwt = String::from_utf8(answer.body).map_err(|_| WalletError::Malformed {
            reason: "the request object is not UTF-8".into(),
        })?;
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(id) = &client_id {
            query.append_pair("client_id", id);
        }
        query.append_pair("request", jwt.trim());
        Ok(OnlineRequest::Url {
            url: format!("openid4vp://?{}", query.finish()),
        })
    }
}
