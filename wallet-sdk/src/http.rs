//! The app's HTTP stack, behind the [`HttpClient`] foreign trait (proxies, certificate
//! pinning, timeouts and the user agent stay the app's), and the rules the SDK enforces on
//! every exchange whatever the app's stack does:
//!
//! - only absolute `https` URLs without user info or fragment; plain `http` only to a
//!   loopback host (`localhost`, `127.0.0.0/8`, `::1`) and only when the options allow it
//!   (tests, development);
//! - no redirects: the app's client is told not to follow them and a 3xx answer is
//!   [`WalletError::Redirect`] (a redirect could carry an access token, a DPoP proof or key
//!   proofs to another host);
//! - a bounded body per kind of answer, announced to the app's client so it can stop reading,
//!   and checked again here.

use std::sync::Arc;

use url::{Host, Url};

use crate::error::{Result, WalletError};

/// An HTTP method the SDK uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// The field name (compare case-insensitively).
    pub name: String,
    /// The field value.
    pub value: String,
}

/// A request the SDK asks the app's client to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// The method.
    pub method: HttpMethod,
    /// The absolute URL, already checked by the SDK.
    pub url: String,
    /// Header fields to send (`Content-Type`, `Accept`, `Authorization`, `DPoP`, …).
    pub headers: Vec<HttpHeader>,
    /// The body (empty for a `GET`).
    pub body: Vec<u8>,
    /// The largest body the SDK will accept in the answer: the client may stop reading
    /// and raise `WalletError.SizeLimit` beyond it.
    pub max_response_bytes: u64,
}

/// The app client's answer (named apart from the verifier SDK's `HttpResponse`: one Swift
/// module may hold both SDKs).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletHttpResponse {
    /// The status code.
    pub status: u16,
    /// The header fields received (at least `Content-Type`, `DPoP-Nonce`,
    /// `WWW-Authenticate` when present).
    pub headers: Vec<HttpHeader>,
    /// The body.
    pub body: Vec<u8>,
}

/// The app's HTTP client (implemented in Kotlin, Swift or Python).
///
/// The implementation **must not follow redirects**: it returns a 3xx answer as it is (the
/// SDK refuses it). It raises `WalletError.Http` when no answer can be had; any HTTP status
/// is an answer.
#[uniffi::export(with_foreign)]
pub trait HttpClient: Send + Sync {
    /// Sends `request` and returns the answer.
    fn send(&self, request: HttpRequest) -> Result<WalletHttpResponse>;
}

/// Longest URL accepted or sent.
pub const MAX_URL_LEN: usize = 4096;

/// Whether `host` is a loopback host.
fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

fn refused(url: &str, reason: &str) -> WalletError {
    WalletError::UrlRefused {
        url: url.chars().take(200).collect(),
        reason: reason.into(),
    }
}

/// The URL policy: `https`, or `http` to loopback when `allow_http_loopback`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UrlPolicy {
    pub(crate) allow_http_loopback: bool,
}

impl UrlPolicy {
    /// Parses `url` and checks it against the policy.
    pub(crate) fn check(&self, url: &str) -> Result<Url> {
        if url.len() > MAX_URL_LEN {
            return Err(refused(url, "too long"));
        }
        let u = Url::parse(url).map_err(|_| refused(url, "not an absolute URL"))?;
        if u.fragment().is_some() {
            return Err(refused(url, "has a fragment"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(refused(url, "carries user info"));
        }
        match u.scheme() {
            "https" if u.host().is_some() => Ok(u),
            "http" if self.allow_http_loopback && is_loopback(u.host()) => Ok(u),
            "http" if is_loopback(u.host()) => Err(refused(
                url,
                "plain http (allowed to loopback hosts only when the options say so)",
            )),
            _ => Err(refused(url, "must be https")),
        }
    }
}

/// An answer the SDK accepted (no redirect, body within its bound).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) url: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<HttpHeader>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim())
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The app's client with the SDK's rules around it.
#[derive(Clone)]
pub(crate) struct Http {
    client: Arc<dyn HttpClient>,
    pub(crate) policy: UrlPolicy,
}

impl Http {
    pub(crate) fn new(client: Arc<dyn HttpClient>, policy: UrlPolicy) -> Self {
        Http { client, policy }
    }

    /// Sends one request to `url` (checked against the policy) and returns the answer;
    /// a redirect or a body over `max` bytes is an error.
    pub(crate) fn send(
        &self,
        method: HttpMethod,
        url: &Url,
        headers: Vec<HttpHeader>,
        body: Vec<u8>,
        max: usize,
    ) -> Result<Answer> {
        let checked = self.policy.check(url.as_str())?;
        let response = self.client.send(HttpRequest {
            method,
            url: checked.to_string(),
            headers,
            body,
            max_response_bytes: u64::try_from(max).unwrap_or(u64::MAX),
        })?;
        let url = checked.to_string();
        if (300..400).contains(&response.status) {
            return Err(WalletError::Redirect {
                url,
                status: response.status,
            });
        }
        if !(100..600).contains(&response.status) {
            return Err(WalletError::Protocol {
                reason: format!("{url} answered the HTTP status {}", response.status),
            });
        }
        if response.body.len() > max {
            return Err(WalletError::SizeLimit {
                reason: format!("{url}: {} bytes, at most {max}", response.body.len()),
            });
        }
        Ok(Answer {
            url,
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

/// A header field.
pub(crate) fn header(name: &str, value: impl Into<String>) -> HttpHeader {
    HttpHeader {
        name: name.into(),
        value: value.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn url_policy() {
        let strict = UrlPolicy {
            allow_http_loopback: false,
        };
        let dev = UrlPolicy {
            allow_http_loopback: true,
        };
        assert!(strict.check("https://issuer.example/a?b=c").is_ok());
        for bad in [
            "http://issuer.example/",
            "http://127.0.0.1:8080/",
            "ftp://issuer.example/",
            "https://user:pw@issuer.example/",
            "https://issuer.example/#frag",
            "/relative",
            "data:text/plain,hi",
        ] {
            assert!(strict.check(bad).is_err(), "{bad}");
        }
        assert!(dev.check("http://127.0.0.1:8080/x").is_ok());
        assert!(dev.check("http://[::1]:8080/x").is_ok());
        assert!(dev.check("http://localhost/x").is_ok());
        assert!(dev.check("http://10.0.0.1/x").is_err());
        assert!(dev.check("http://localhost.evil.example/x").is_err());
    }
}
