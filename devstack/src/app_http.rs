//! The HTTP stack the dev wallet and verifier apps hand to the SDKs, as a phone app implements
//! their foreign traits with its platform client: [`wallet_sdk::HttpClient`] (the OpenID4VCI
//! client), [`verifier_sdk::DtsHttpClient`] (trust from the DTS) and
//! [`verifier_sdk::ListFetcher`] (status and identifier lists). Blocking reqwest, no proxy,
//! redirects never followed (the wallet SDK refuses a 3xx answer itself), bodies read only up
//! to the bound the SDK announces. **DEVELOPMENT ONLY.**
//!
//! Every exchange is recorded, so the walkthrough shows what the SDKs did on the wire and keeps
//! the list tokens the verifier was given. The SDK calls are blocking: use [`AppHttp`] inside
//! `tokio::task::spawn_blocking` (a blocking reqwest client may be neither made nor dropped
//! on an async worker thread).

use std::io::Read as _;
use std::sync::{Arc, Mutex};

use verifier_sdk::{
    DtsHttpClient, HttpResponse, ListFetcher, VerifierError, MAX_CERTIFICATE_LEN, MAX_CRL_LEN,
    MAX_INDEX_LEN, MAX_LIST_TOKEN_LEN, MAX_VICAL_LEN,
};
use wallet_sdk::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, WalletError, WalletHttpResponse,
};

use crate::Result;

/// One request an SDK made and the answer it got.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The URL.
    pub url: String,
    /// The request's header fields.
    pub request_headers: Vec<(String, String)>,
    /// The request's body.
    pub request_body: Vec<u8>,
    /// The status code of the answer.
    pub status: u16,
    /// The answer's body (as far as it was read).
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// The first request header `name` (case-insensitive).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The URL's path (the whole URL if it has none).
    pub fn path(&self) -> &str {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or(rest)
    }
}

/// Why an exchange failed before an answer was read whole.
enum Failure {
    /// No answer (connection, I/O).
    Transport(String),
    /// The body is larger than the bound.
    TooLarge(u64),
}

/// An app's HTTP client for the SDKs, recording every exchange.
pub struct AppHttp {
    client: reqwest::blocking::Client,
    log: Mutex<Vec<Exchange>>,
}

impl std::fmt::Debug for AppHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppHttp").finish_non_exhaustive()
    }
}

impl AppHttp {
    /// A client that follows no redirect and uses no proxy (everything is on loopback).
    pub fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(AppHttp {
            client: reqwest::blocking::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            log: Mutex::new(Vec::new()),
        }))
    }

    /// The exchanges recorded so far, oldest first; the record is emptied.
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Sends one request and reads at most `max` bytes of the answer.
    fn exchange(
        &self,
        method: &'static str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        max: u64,
    ) -> std::result::Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        let mut request = match method {
            "POST" => self.client.post(url),
            _ => self.client.get(url),
        };
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = request
            .body(body.clone())
            .send()
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        // One byte more than allowed tells "at the bound" from "over it".
        let mut read = Vec::new();
        response
            .take(max.saturating_add(1))
            .read_to_end(&mut read)
            .map_err(|e| Failure::Transport(e.to_string()))?;
        if u64::try_from(read.len()).unwrap_or(u64::MAX) > max {
            return Err(Failure::TooLarge(max));
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(Exchange {
                method,
                url: url.to_owned(),
                request_headers: headers,
                request_body: body,
                status,
                response_body: read.clone(),
            });
        }
        Ok((status, answer_headers, read))
    }
}

impl HttpClient for AppHttp {
    fn send(&self, request: HttpRequest) -> wallet_sdk::Result<WalletHttpResponse> {
        let method = match request.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        let headers = request
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        let (status, answer_headers, body) = self
            .exchange(
                method,
                &request.url,
                headers,
                request.body,
                request.max_response_bytes,
            )
            .map_err(|f| match f {
                Failure::Transport(reason) => WalletError::Http { reason },
                Failure::TooLarge(max) => WalletError::SizeLimit {
                    reason: format!("{}: more than {max} bytes", request.url),
                },
            })?;
        Ok(WalletHttpResponse {
            status,
            headers: answer_headers
                .iter()
                .filter_map(|(name, value)| {
                    Some(HttpHeader {
                        name: name.to_string(),
                        value: value.to_str().ok()?.to_owned(),
                    })
                })
                .collect(),
            body,
        })
    }
}

/// The largest file a DTS serves that the verifier SDK accepts (it checks each kind's own
/// bound again).
fn dts_bound() -> u64 {
    let largest = [
        MAX_INDEX_LEN,
        MAX_CERTIFICATE_LEN,
        MAX_CRL_LEN,
        MAX_VICAL_LEN,
    ]
    .into_iter()
    .max()
    .unwrap_or(MAX_CRL_LEN);
    u64::try_from(largest).unwrap_or(u64::MAX)
}

fn fetch_error(uri: &str, failure: Failure) -> VerifierError {
    VerifierError::Fetch {
        uri: uri.to_owned(),
        reason: match failure {
            Failure::Transport(reason) => reason,
            Failure::TooLarge(max) => format!("more than {max} bytes"),
        },
    }
}

impl DtsHttpClient for AppHttp {
    fn get(
        &self,
        url: String,
        if_none_match: Option<String>,
    ) -> verifier_sdk::Result<HttpResponse> {
        let headers = if_none_match
            .map(|etag| vec![("If-None-Match".to_owned(), etag)])
            .unwrap_or_default();
        let (status, answer_headers, body) = self
            .exchange("GET", &url, headers, Vec::new(), dts_bound())
            .map_err(|f| fetch_error(&url, f))?;
        Ok(HttpResponse {
            status,
            etag: answer_headers
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body,
        })
    }
}

impl ListFetcher for AppHttp {
    fn fetch(&self, uri: String) -> verifier_sdk::Result<Vec<u8>> {
        let (status, _, body) = self
            .exchange("GET", &uri, Vec::new(), Vec::new(), MAX_LIST_TOKEN_LEN)
            .map_err(|f| fetch_error(&uri, f))?;
        if status != 200 {
            return Err(VerifierError::Fetch {
                uri,
                reason: format!("HTTP {status}"),
            });
        }
        Ok(body)
    }
}
