//! Public reads: GET and HEAD of the site's paths with strong ETags, Last-Modified, conditional
//! requests (RFC 9110 §13: If-None-Match first, If-Modified-Since only without it), a
//! Cache-Control computed for this moment, and CORS for web verifiers. OPTIONS answers a CORS
//! preflight; any other method gets 405 with `Allow`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use headers::{HeaderMapExt, IfModifiedSince, IfNoneMatch};
use http_body_util::Full;

use crate::service::Dts;
use crate::site::Resource;

const ALLOW: &str = "GET, HEAD, OPTIONS";

/// An answer to a public read.
pub(super) type ReadResponse = axum::http::Response<Full<Bytes>>;

fn plain(status: StatusCode, text: &'static str) -> ReadResponse {
    let mut r = ReadResponse::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// Whether the request's validators match `r` (so the answer is 304).
fn not_modified(headers: &HeaderMap, r: &Resource) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        // What caches send back: exactly our ETag. Anything else goes through the full
        // RFC 9110 comparison (lists, weak validators, `*`).
        if value.as_bytes() == r.prepared.etag.as_bytes() {
            return true;
        }
        let (Some(inm), Some(etag)) = (headers.typed_get::<IfNoneMatch>(), &r.prepared.typed_etag)
        else {
            return false;
        };
        return !inm.precondition_passes(etag);
    }
    match headers.typed_get::<IfModifiedSince>() {
        Some(ims) => !ims.is_modified(r.prepared.modified),
        None => false,
    }
}

/// A GET or HEAD of the published `resource`: 200 or 304, with headers prepared when the
/// site was built and only a time-dependent Cache-Control computed here.
pub(super) fn resource(
    dts: &Dts,
    method: &Method,
    headers: &HeaderMap,
    resource: &Resource,
) -> ReadResponse {
    let (status, mut h) = if not_modified(headers, resource) {
        (
            StatusCode::NOT_MODIFIED,
            resource.prepared.not_modified.clone(),
        )
    } else {
        (StatusCode::OK, resource.prepared.ok.clone())
    };
    if let Some(cache) = resource.timed_cache_control(dts.now(), dts.config().cache.max_age_seconds)
    {
        h.insert(header::CACHE_CONTROL, cache);
    }
    let body = if status == StatusCode::OK && method == Method::GET {
        Full::new(resource.body.clone())
    } else {
        Full::default()
    };
    let mut r = ReadResponse::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = h;
    r
}

/// Any request on the public side: a published path (GET, HEAD), a CORS preflight, 404 for
/// an unknown path and 405 for another method.
pub(super) fn answer(dts: &Dts, method: &Method, path: &str, headers: &HeaderMap) -> ReadResponse {
    if method == Method::OPTIONS {
        let mut r = plain(StatusCode::NO_CONTENT, "");
        *r.body_mut() = Full::default();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("If-None-Match, If-Modified-Since"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        h.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return r;
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return r;
    }
    match dts.site().resources.get(path) {
        Some(r) => resource(dts, method, headers, r),
        None => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// The router's fallback: [`answer`] for whatever no operations route took.
pub(super) async fn fallback(
    State(dts): State<Arc<Dts>>,
    request: Request,
) -> axum::response::Response {
    answer(
        &dts,
        request.method(),
        request.uri().path(),
        request.headers(),
    )
    .map(axum::body::Body::new)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::site::Freshness;
    use time::macros::datetime;

    fn resource() -> Resource {
        let mut r = Resource::new(
            b"x".to_vec(),
            "text/plain",
            datetime!(2026-06-01 00:00 UTC),
            Freshness::Immutable,
        );
        r.etag = "\"abc\"".into();
        r.prepared.etag = HeaderValue::from_static("\"abc\"");
        r.prepared.typed_etag = r.etag.parse().ok();
        r
    }

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let r = resource();
        assert!(not_modified(&with(&[("if-none-match", "\"abc\"")]), &r));
        assert!(not_modified(
            &with(&[("if-none-match", "\"x\", \"abc\"")]),
            &r
        ));
        assert!(not_modified(&with(&[("if-none-match", "*")]), &r));
        assert!(!not_modified(&with(&[("if-none-match", "\"other\"")]), &r));
        // A weak validator matches too (weak comparison for GET, RFC 9110 §13.1.2).
        assert!(not_modified(&with(&[("if-none-match", "W/\"abc\"")]), &r));
        let late = "Tue, 02 Jun 2026 00:00:00 GMT";
        let early = "Sun, 31 May 2026 00:00:00 GMT";
        assert!(not_modified(&with(&[("if-modified-since", late)]), &r));
        assert!(!not_modified(&with(&[("if-modified-since", early)]), &r));
        assert!(!not_modified(
            &with(&[("if-none-match", "\"other\""), ("if-modified-since", late)]),
            &r
        ));
        assert!(!not_modified(&with(&[("if-none-match", "garbage")]), &r));
    }
}
