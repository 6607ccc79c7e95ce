//! Public reads: GET and HEAD of the site's paths with strong ETags, Last-Modified, conditional
//! requests (RFC 9110 §13: If-None-Match first, If-Modified-Since only without it), a
//! Cache-Control computed for this moment, and CORS for web verifiers. OPTIONS answers a CORS
//! preflight; any other method gets 405 with `Allow`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch};

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
    if headers.contains_key(header::IF_NONE_MATCH) {
        let Some(inm) = headers.typed_get::<IfNoneMatch>() else {
            return false;
        };
        return match r.etag.parse::<ETag>() {
            Ok(etag) => !inm.precondition_passes(&etag),
            Err(_) => false,
        };
    }
    match headers.typed_get::<IfModifiedSince>() {
        Some(ims) => !ims.is_modified(SystemTime::from(r.last_modified)),
        None => false,
    }
}

pub(super) async fn serve(
    State(dts): State<Arc<Dts>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
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
    let Some(resource) = site.resources.get(uri.path()) else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let now = dts.now();
    let cache = resource.cache_control(now, dts.config().cache.max_age_seconds);
    let status = if not_modified(&headers, resource) {
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
    if let Ok(v) = HeaderValue::from_str(&resource.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::from(
        resource.last_modified,
    ))) {
        h.insert(header::LAST_MODIFIED, v);
    }
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
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(resource.content_type),
        );
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(resource.body.len()),
        );
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
        Resource {
            body: bytes::Bytes::from_static(b"x"),
            content_type: "text/plain",
            etag: "\"abc\"".into(),
            last_modified: datetime!(2026-06-01 00:00 UTC),
            freshness: Freshness::Immutable,
        }
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
