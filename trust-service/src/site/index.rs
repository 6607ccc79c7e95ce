//! The machine-readable index (`index.json`): every published artifact with its absolute URL,
//! SHA-256, size, validity and, for CRLs, thisUpdate/nextUpdate. Consumers (the verifier SDK's
//! trust sync) read it first, then fetch each artifact and check its digest.
//!
//! ```json
//! { "format": "mdoc-dts-index/1", "public_url": "...", "updated": "RFC 3339",
//!   "roots": [ { "fingerprint", "subject", "not_before", "not_after", "pinned",
//!                "reached_by_link", "crl_url", "der": {url, sha256, size}, "pem": {...} } ],
//!   "links": [ { "fingerprint", "issuer_root", "subject_root", "not_before", "not_after",
//!                "der": {...}, "pem": {...} } ],
//!   "crls":  [ { "root", "number", "this_update", "next_update", "entries",
//!                "url", "sha256", "size" } ],
//!   "vical": { "issue_id", "date", "next_update", "url", "sha256", "size" } | null }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{body_sha256, Resource};
use crate::layout::PublicUrl;
use crate::schedule;
use crate::store::State;

/// The index format identifier.
pub const FORMAT: &str = "mdoc-dts-index/1";

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// A published file as the index names it.
#[derive(Debug, Clone)]
pub(crate) struct FileRef {
    pub url: String,
    pub sha256: String,
    pub size: usize,
}

impl FileRef {
    fn json(&self) -> Value {
        json!({ "url": self.url, "sha256": self.sha256, "size": self.size })
    }
}

pub(crate) struct RootEntry {
    pub fingerprint: String,
    pub subject: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub pinned: bool,
    pub via_link: Option<String>,
    pub crl_url: String,
    pub der: Option<FileRef>,
    pub pem: Option<FileRef>,
}

pub(crate) struct LinkEntry {
    pub fingerprint: String,
    pub issuer_root: String,
    pub subject_root: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub der: Option<FileRef>,
    pub pem: Option<FileRef>,
}

pub(crate) struct CrlEntry {
    pub root: String,
    pub number: String,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub entries: u64,
    pub file: Option<FileRef>,
}

pub(crate) struct VicalEntry {
    pub issue_id: u64,
    pub date: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub file: Option<FileRef>,
}

/// What the index and the page list.
pub(crate) struct Listing {
    pub public_url: String,
    pub roots: Vec<RootEntry>,
    pub links: Vec<LinkEntry>,
    pub crls: Vec<CrlEntry>,
    pub vical: Option<VicalEntry>,
}

impl Listing {
    pub fn new(
        state: &State,
        public: &PublicUrl,
        at: OffsetDateTime,
        resources: &HashMap<String, Arc<Resource>>,
    ) -> Self {
        let file = |path: String| {
            resources.get(&path).map(|r| FileRef {
                url: public.absolute(&path),
                sha256: body_sha256(r),
                size: r.body.len(),
            })
        };
        Listing {
            public_url: public.absolute(public.prefix()),
            roots: state
                .roots
                .iter()
                .map(|r| RootEntry {
                    fingerprint: r.fingerprint.clone(),
                    subject: r.certificate.subject().to_string(),
                    not_before: r.certificate.not_before(),
                    not_after: r.certificate.not_after(),
                    pinned: r.pinned,
                    via_link: r.via_link.clone(),
                    crl_url: r.crl_url.clone(),
                    der: file(public.root(&r.fingerprint, false)),
                    pem: file(public.root(&r.fingerprint, true)),
                })
                .collect(),
            links: state
                .links
                .iter()
                .map(|l| LinkEntry {
                    fingerprint: l.fingerprint.clone(),
                    issuer_root: l.issuer_root.clone(),
                    subject_root: l.subject_root.clone(),
                    not_before: l.certificate.not_before(),
                    not_after: l.certificate.not_after(),
                    der: file(public.link(&l.fingerprint, false)),
                    pem: file(public.link(&l.fingerprint, true)),
                })
                .collect(),
            crls: state
                .roots
                .iter()
                .filter_map(|r| {
                    let c = schedule::current(state, &r.fingerprint, at)?;
                    Some(CrlEntry {
                        root: c.root.clone(),
                        number: c.number.short().to_owned(),
                        this_update: c.this_update,
                        next_update: c.next_update,
                        entries: c.entries,
                        file: public.crl_path(&r.crl_url).ok().and_then(file),
                    })
                })
                .collect(),
            vical: state.vical.as_ref().map(|v| VicalEntry {
                issue_id: v.issue_id,
                date: v.date,
                next_update: v.next_update,
                file: file(public.vical()),
            }),
        }
    }

    /// The JSON document (pretty-printed, keys sorted: deterministic bytes).
    pub fn json(&self, updated: OffsetDateTime) -> Vec<u8> {
        let opt = |f: &Option<FileRef>| f.as_ref().map_or(Value::Null, FileRef::json);
        let doc = json!({
            "format": FORMAT,
            "public_url": self.public_url,
            "updated": rfc3339(updated),
            "roots": self.roots.iter().map(|r| json!({
                "fingerprint": r.fingerprint,
                "subject": r.subject,
                "not_before": rfc3339(r.not_before),
                "not_after": rfc3339(r.not_after),
                "pinned": r.pinned,
                "reached_by_link": r.via_link,
                "crl_url": r.crl_url,
                "der": opt(&r.der),
                "pem": opt(&r.pem),
            })).collect::<Vec<_>>(),
            "links": self.links.iter().map(|l| json!({
                "fingerprint": l.fingerprint,
                "issuer_root": l.issuer_root,
                "subject_root": l.subject_root,
                "not_before": rfc3339(l.not_before),
                "not_after": rfc3339(l.not_after),
                "der": opt(&l.der),
                "pem": opt(&l.pem),
            })).collect::<Vec<_>>(),
            "crls": self.crls.iter().map(|c| {
                let mut v = json!({
                    "root": c.root,
                    "number": c.number,
                    "this_update": rfc3339(c.this_update),
                    "next_update": rfc3339(c.next_update),
                    "entries": c.entries,
                });
                if let (Some(f), Some(m)) = (&c.file, v.as_object_mut()) {
                    m.insert("url".into(), json!(f.url));
                    m.insert("sha256".into(), json!(f.sha256));
                    m.insert("size".into(), json!(f.size));
                }
                v
            }).collect::<Vec<_>>(),
            "vical": self.vical.as_ref().map_or(Value::Null, |v| json!({
                "issue_id": v.issue_id,
                "date": rfc3339(v.date),
                "next_update": rfc3339(v.next_update),
                "url": v.file.as_ref().map(|f| f.url.clone()),
                "sha256": v.file.as_ref().map(|f| f.sha256.clone()),
                "size": v.file.as_ref().map(|f| f.size),
            })),
        });
        let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        out.push(b'\n');
        out
    }
}
