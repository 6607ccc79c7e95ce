//! The published site: every path the DTS serves, with its exact bytes and caching facts, as
//! one immutable snapshot computed from the store at a moment. The HTTP server and the export
//! tree both read a [`Site`], so what a CDN serves is byte for byte what the DTS serves.
//!
//! A snapshot only changes when what is held changes (an ingest, a new VICAL) or when a
//! root's served CRL switches ([`crate::schedule`]); it never contains the time it was built,
//! so two replicas, or a replica and an export, agree.

mod index;
mod page;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::layout::PublicUrl;
use crate::schedule;
use crate::store::{sha256_hex, CrlNumberHex, State};

/// `application/pkix-cert` (RFC 2585).
pub const MEDIA_CERT: &str = "application/pkix-cert";
/// `application/pkix-crl` (RFC 2585).
pub const MEDIA_CRL: &str = "application/pkix-crl";
/// PEM certificates (`application/x-pem-file`, as widely served).
pub const MEDIA_PEM: &str = "application/x-pem-file";
/// The index.
pub const MEDIA_JSON: &str = "application/json";
/// The page.
pub const MEDIA_HTML: &str = "text/html; charset=utf-8";
/// The VICAL: a COSE_Sign1 (RFC 9052 media type with its cose-type parameter).
pub const MEDIA_COSE_SIGN1: &str = "application/cose; cose-type=\"cose-sign1\"";

/// What never changes at its URL (certificates by fingerprint) is kept for a year.
const IMMUTABLE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Headers sent with every published file, whoever serves it (the DTS or an exported tree):
/// CORS for web verifiers, and no content sniffing.
pub const COMMON_HEADERS: [(HeaderName, &str); 3] = [
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    (header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag, Last-Modified"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// How long a cache may keep a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Never changes at this URL.
    Immutable,
    /// May change at this moment (or at any time, with `None`): a cache keeps it until then,
    /// at most the configured maximum.
    Until(Option<OffsetDateTime>),
}

/// Header values computed once per resource, so serving it allocates almost nothing.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The headers of a 304 answer: ETag, Last-Modified, Cache-Control (final when the
    /// resource is immutable, else a slot the server fills per request) and
    /// [`COMMON_HEADERS`].
    pub not_modified: HeaderMap,
    /// The headers of a 200 answer: those of a 304 plus Content-Type and Content-Length.
    pub ok: HeaderMap,
    /// `ETag`.
    pub etag: HeaderValue,
    /// `ETag`, parsed for RFC 9110 comparisons.
    pub typed_etag: Option<headers::ETag>,
    /// `Last-Modified` as a system time.
    pub modified: std::time::SystemTime,
}

/// One served file.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The bytes.
    pub body: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Strong `ETag`, quoted: the SHA-256 of the body, base64url.
    pub etag: String,
    /// `Last-Modified`: when this content appeared at this URL.
    pub last_modified: OffsetDateTime,
    /// Caching.
    pub freshness: Freshness,
    /// The header values.
    pub prepared: Prepared,
}

impl Resource {
    /// A resource with `body`, computing its ETag and header values.
    pub fn new(
        body: Vec<u8>,
        content_type: &'static str,
        last_modified: OffsetDateTime,
        freshness: Freshness,
    ) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
        );
        let modified = std::time::SystemTime::from(last_modified);
        let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
        let last_modified_value = HeaderValue::from_str(&httpdate::fmt_http_date(modified))
            .unwrap_or(HeaderValue::from_static(""));
        // Every header is in the map already, so the server's per-request Cache-Control
        // replaces a value in place instead of growing a cloned map.
        let cache_control = match freshness {
            Freshness::Immutable => HeaderValue::from_static(IMMUTABLE_CACHE_CONTROL),
            Freshness::Until(_) => HeaderValue::from_static("no-cache"),
        };
        let mut not_modified = HeaderMap::with_capacity(COMMON_HEADERS.len() + 5);
        not_modified.insert(header::ETAG, etag_value.clone());
        not_modified.insert(header::LAST_MODIFIED, last_modified_value);
        not_modified.insert(header::CACHE_CONTROL, cache_control);
        for (name, value) in COMMON_HEADERS {
            not_modified.insert(name, HeaderValue::from_static(value));
        }
        let mut ok = not_modified.clone();
        ok.reserve(2);
        ok.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        ok.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let prepared = Prepared {
            not_modified,
            ok,
            etag: etag_value,
            typed_etag: etag.parse().ok(),
            modified,
        };
        Resource {
            body: Bytes::from(body),
            content_type,
            etag,
            last_modified,
            freshness,
            prepared,
        }
    }

    /// The `Cache-Control` header value at `now` when it changes with time (`None` when it
    /// is the prepared one).
    pub fn timed_cache_control(
        &self,
        now: OffsetDateTime,
        cap_seconds: u32,
    ) -> Option<HeaderValue> {
        match self.freshness {
            Freshness::Immutable => None,
            Freshness::Until(_) => {
                HeaderValue::from_str(&self.cache_control(now, cap_seconds)).ok()
            }
        }
    }

    /// The `Cache-Control` value at `now`: immutable for a year, or until the next change,
    /// capped at `cap_seconds`, never negative.
    pub fn cache_control(&self, now: OffsetDateTime, cap_seconds: u32) -> String {
        match self.freshness {
            Freshness::Immutable => IMMUTABLE_CACHE_CONTROL.to_owned(),
            Freshness::Until(until) => {
                let cap = i64::from(cap_seconds);
                let left = until.map_or(cap, |u| (u - now).whole_seconds().clamp(0, cap));
                format!("public, max-age={left}, must-revalidate")
            }
        }
    }
}

/// The state of one root's CRL at the snapshot's moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootStatus {
    /// The root's fingerprint.
    pub fingerprint: String,
    /// The served CRL's number and nextUpdate, if any.
    pub crl: Option<(CrlNumberHex, OffsetDateTime)>,
    /// How long the held CRLs cover the root from the snapshot's moment.
    pub reserve: Duration,
}

/// The whole published site at one moment.
#[derive(Debug, Clone)]
pub struct Site {
    /// Path → resource.
    pub resources: HashMap<String, Arc<Resource>>,
    /// The moment it describes.
    pub at: OffsetDateTime,
    /// The next moment a served CRL switches (rebuild then).
    pub next_switch: Option<OffsetDateTime>,
    /// Per-root CRL status, for readiness and metrics.
    pub roots: Vec<RootStatus>,
}

impl Site {
    /// Builds the site for `state` at `at`. `crl_der` gives the DER of the CRLs being served
    /// (see [`Site::served_crls`]).
    pub fn build(
        state: &State,
        public: &PublicUrl,
        at: OffsetDateTime,
        crl_der: &HashMap<(String, CrlNumberHex), Vec<u8>>,
    ) -> Site {
        let mut resources = HashMap::new();
        let mut roots = Vec::new();
        let mut next_switch: Option<OffsetDateTime> = None;
        let put = |resources: &mut HashMap<String, Arc<Resource>>, path: String, r: Resource| {
            resources.insert(path, Arc::new(r));
        };
        let mut newest = OffsetDateTime::UNIX_EPOCH;
        for root in &state.roots {
            let der = root.certificate.der().to_vec();
            let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
                .unwrap_or_default()
                .into_bytes();
            newest = newest.max(root.added_at);
            put(
                &mut resources,
                public.root(&root.fingerprint, false),
                Resource::new(der, MEDIA_CERT, root.added_at, Freshness::Immutable),
            );
            put(
                &mut resources,
                public.root(&root.fingerprint, true),
                Resource::new(pem, MEDIA_PEM, root.added_at, Freshness::Immutable),
            );
            let switch = schedule::next_switch(state, &root.fingerprint, at);
            let served = schedule::current(state, &root.fingerprint, at);
            if let (Some(crl), Ok(path)) = (served, public.crl_path(&root.crl_url)) {
                if let Some(der) = crl_der.get(&(crl.root.clone(), crl.number.clone())) {
                    let until = switch.map_or(crl.next_update, |s| s.min(crl.next_update));
                    newest = newest.max(crl.publishable_from());
                    put(
                        &mut resources,
                        path,
                        Resource::new(
                            der.clone(),
                            MEDIA_CRL,
                            crl.publishable_from(),
                            Freshness::Until(Some(until)),
                        ),
                    );
                }
            }
            next_switch = match (next_switch, switch) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            roots.push(RootStatus {
                fingerprint: root.fingerprint.clone(),
                crl: served.map(|c| (c.number.clone(), c.next_update)),
                reserve: schedule::reserve(state, &root.fingerprint, at),
            });
        }
        for link in &state.links {
            let der = link.certificate.der().to_vec();
            let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
                .unwrap_or_default()
                .into_bytes();
            newest = newest.max(link.added_at);
            put(
                &mut resources,
                public.link(&link.fingerprint, false),
                Resource::new(der, MEDIA_CERT, link.added_at, Freshness::Immutable),
            );
            put(
                &mut resources,
                public.link(&link.fingerprint, true),
                Resource::new(pem, MEDIA_PEM, link.added_at, Freshness::Immutable),
            );
        }
        if let Some(v) = &state.vical {
            newest = newest.max(v.date);
            put(
                &mut resources,
                public.vical(),
                Resource::new(
                    v.bytes.clone(),
                    MEDIA_COSE_SIGN1,
                    v.date,
                    Freshness::Until(Some(v.next_update)),
                ),
            );
        }
        // The index and the page change with any CRL switch or VICAL.
        let until = [next_switch, state.vical.as_ref().map(|v| v.next_update)]
            .into_iter()
            .flatten()
            .min();
        let listing = index::Listing::new(state, public, at, &resources);
        put(
            &mut resources,
            public.index(),
            Resource::new(
                listing.json(newest),
                MEDIA_JSON,
                newest,
                Freshness::Until(until),
            ),
        );
        let html = page::render(&listing);
        put(
            &mut resources,
            public.page(),
            Resource::new(html.clone(), MEDIA_HTML, newest, Freshness::Until(until)),
        );
        put(
            &mut resources,
            format!("{}index.html", public.prefix()),
            Resource::new(html, MEDIA_HTML, newest, Freshness::Until(until)),
        );
        Site {
            resources,
            at,
            next_switch,
            roots,
        }
    }

    /// The (root, number) of every CRL served at `at`: what [`Site::build`] needs the DER of.
    pub fn served_crls(state: &State, at: OffsetDateTime) -> Vec<(String, CrlNumberHex)> {
        state
            .roots
            .iter()
            .filter_map(|r| schedule::current(state, &r.fingerprint, at))
            .map(|c| (c.root.clone(), c.number.clone()))
            .collect()
    }

    /// Roots whose served CRL is missing or past its nextUpdate at `now`.
    pub fn stale_roots(&self, now: OffsetDateTime) -> Vec<&RootStatus> {
        self.roots
            .iter()
            .filter(|r| r.crl.as_ref().is_none_or(|(_, next)| *next < now))
            .collect()
    }

    /// The site's paths, sorted (for the export and tests).
    pub fn paths(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.resources.keys().map(String::as_str).collect();
        p.sort_unstable();
        p
    }
}

/// SHA-256 hex of a resource body (the index lists it).
pub(crate) fn body_sha256(r: &Resource) -> String {
    sha256_hex(&r.body)
}
