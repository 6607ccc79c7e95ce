//! Public reads: GET and HEAD of the site's paths with strong ETags, Last-Modified, conditional
//! requests (RFC 9110 §13: If-None-Match first, If-Modified-Since only without it), a
//! Cache-Control computed for this moment, and CORS for web verifiers. OPTIONS answers a CORS
//! preflight; any other method gets 405 with `Allow`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use headers::{HeaderMapExt, IfModifiedSince, IfNoneMatch};

use crate::service::Dts;
use crate::site::Resource;

const ALLOW: &str = "GET, HEAD, OPTIONS";

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
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

pub(super) async fn serve(State(dts): State<Arc<Dts>>, request: Request) -> Response {
    let method = request.method();
    if method == Method::OPTIONS {
        let mut r = plain(StatusCode::NO_CONTENT, "");
        *r.body_mut() = Body::empty();
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
    let site = dts.site();
    let Some(resource) = site.resources.get(request.uri().path()) else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let status = if not_modified(request.headers(), resource) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let body = if status == StatusCode::OK && method == Method::GET {
        Body::from(resource.body.clone())
    } else {
        Body::empty()
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    let p = &resource.prepared;
    h.insert(header::ETAG, p.etag.clone());
    h.insert(header::LAST_MODIFIED, p.last_modified.clone());
    let cache = resource.cache_control(dts.now(), dts.config().cache.max_age_seconds);
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Last-Modified"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if status == StatusCode::OK {
        h.insert(header::CONTENT_TYPE, p.content_type.clone());
        h.insert(header::CONTENT_LENGTH, p.content_length.clone());
    }
    r
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
