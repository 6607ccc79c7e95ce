//! The app's HTTP stack for the wallet SDK in these tests: a blocking reqwest client behind the
//! SDK's `HttpClient` trait.

use std::sync::{Arc, Mutex};

use wallet_sdk::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, WalletError, WalletHttpResponse,
};

/// The app's HTTP stack: blocking reqwest, no redirects, every request recorded.
pub struct Reqwest {
    client: reqwest::blocking::Client,
    log: Mutex<Vec<HttpRequest>>,
}

impl Reqwest {
    /// A client with no proxy and no redirects, and an empty log.
    pub fn new() -> Arc<Self> {
        Arc::new(Reqwest {
            client: reqwest::blocking::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            log: Mutex::new(Vec::new()),
        })
    }

    /// The requests sent so far to `path` (any host), in order.
    pub fn requests_to(&self, path: &str) -> Vec<HttpRequest> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|r| url::Url::parse(&r.url).unwrap().path() == path)
            .cloned()
            .collect()
    }
}

/// The first value of header `name` (any case) of `r`.
pub fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

impl HttpClient for Reqwest {
    fn send(&self, request: HttpRequest) -> Result<WalletHttpResponse, WalletError> {
        self.log.lock().unwrap().push(request.clone());
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut rb = self.client.request(method, &request.url);
        for h in &request.headers {
            rb = rb.header(&h.name, &h.value);
        }
        let resp = rb
            .body(request.body)
            .send()
            .map_err(|e| WalletError::Http {
                reason: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                Some(HttpHeader {
                    name: k.to_string(),
                    value: v.to_str().ok()?.to_owned(),
                })
            })
            .collect();
        let body = resp.bytes().map_err(|e| WalletError::Http {
            reason: e.to_string(),
        })?;
        Ok(WalletHttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}
