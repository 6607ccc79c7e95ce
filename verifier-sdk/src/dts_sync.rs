//! Keeping a [`TrustStore`] in step with a Digital Trust Service, through the app's own HTTP
//! client (the [`DtsHttpClient`] foreign trait: proxies, pinning and timeouts stay the app's).
//!
//! [`TrustStore::sync_from_dts`] reads the DTS's `index.json`, then fetches every root, link
//! certificate and CRL it lists (and the VICAL, when the store has VICAL anchors), each checked
//! against the digest the index gives and bounded in size; only URLs on the index's own origin
//! are fetched. Nothing the index *says* is trusted: a root is trusted only if its SHA-256
//! fingerprint is one the app pinned (shipped with the app, as the operator publishes them) or
//! if a link certificate, verified under a root already trusted, certifies its exact name and
//! key; CRLs and the VICAL are verified as `add_crl` / `add_vical` do. Every change is applied
//! to a copy of the store and published at the end, so a failed sync changes nothing. CRLs are
//! fetched with `If-None-Match`; an unchanged index (304) ends the sync at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use der::Encode;
use mso::crypto::DefaultVerifier;
use mso::trust::AddOutcome;
use mso::x509::Certificate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::{Result, VerifierError};
use crate::trust::TrustStore;

/// Largest index accepted.
pub const MAX_INDEX_LEN: usize = 1024 * 1024;
/// Largest certificate accepted.
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;
/// Largest CRL accepted.
pub const MAX_CRL_LEN: usize = 64 * 1024 * 1024;
/// Largest VICAL accepted.
pub const MAX_VICAL_LEN: usize = 16 * 1024 * 1024;
/// Most roots, links or CRLs taken from one index.
pub const MAX_INDEX_ENTRIES: usize = 256;

/// One HTTP answer from the app's client.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// The status code (200, 304, …).
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The body (empty for a 304).
    pub body: Vec<u8>,
}

/// The app's HTTP client for the DTS (implemented in Kotlin, Swift or Python).
#[uniffi::export(with_foreign)]
pub trait DtsHttpClient: Send + Sync {
    /// `GET url`, with `If-None-Match: if_none_match` when given. Raise `VerifierError.Fetch`
    /// when no answer can be had; any HTTP status is an answer.
    fn get(&self, url: String, if_none_match: Option<String>) -> Result<HttpResponse>;
}

/// What a sync changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DtsSyncReport {
    /// False when the index was unchanged since the last sync (nothing else was fetched).
    pub changed: bool,
    /// Fingerprints of the roots trusted after this sync that were not before.
    pub roots_added: Vec<String>,
    /// Fingerprints of listed roots neither pinned nor reached by a link certificate.
    pub roots_skipped: Vec<String>,
    /// Link certificates newly trusted.
    pub links_added: u32,
    /// CRLs that replaced an older one (or were the first for their root).
    pub crls_updated: u32,
    /// CRLs unchanged (304, or not newer than the one held).
    pub crls_unchanged: u32,
    /// The VICAL's issue id, when one was taken.
    pub vical_issue_id: Option<u64>,
}

#[derive(Deserialize)]
struct FileRef {
    url: String,
    sha256: String,
}

#[derive(Deserialize)]
struct RootEntry {
    fingerprint: String,
    der: FileRef,
}

#[derive(Deserialize)]
struct LinkEntry {
    der: FileRef,
}

#[derive(Deserialize)]
struct CrlEntry {
    root: String,
    url: String,
    sha256: String,
}

#[derive(Deserialize)]
struct VicalEntry {
    issue_id: u64,
    url: String,
    sha256: String,
}

#[derive(Deserialize)]
struct Index {
    format: String,
    roots: Vec<RootEntry>,
    #[serde(default)]
    links: Vec<LinkEntry>,
    #[serde(default)]
    crls: Vec<CrlEntry>,
    #[serde(default)]
    vical: Option<VicalEntry>,
}

/// The index format this SDK reads.
const INDEX_FORMAT: &str = "mdoc-dts-index/1";

fn sync_error(url: &str, reason: impl Into<String>) -> VerifierError {
    VerifierError::DtsSync {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

/// `scheme://authority` of an absolute http(s) URL.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    url.get(..url.len() - rest.len() + authority.len())
}

fn normalise(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

struct Fetcher<'a> {
    http: &'a dyn DtsHttpClient,
    origin: String,
}

impl Fetcher<'_> {
    /// Fetches `url` (on the index's origin), with `etag` as If-None-Match. `None` on 304.
    fn get(
        &self,
        url: &str,
        etag: Option<String>,
        max: usize,
        sha256: Option<&str>,
    ) -> Result<Option<HttpResponse>> {
        if !url.starts_with(&format!("{}/", self.origin)) {
            return Err(sync_error(url, "not on the DTS's own origin"));
        }
        let response = self.http.get(url.to_owned(), etag.clone())?;
        match response.status {
            304 if etag.is_some() => return Ok(None),
            200 => {}
            other => return Err(sync_error(url, format!("HTTP {other}"))),
        }
        if response.body.len() > max {
            return Err(VerifierError::SizeLimit {
                reason: format!("{url}: {} bytes, at most {max}", response.body.len()),
            });
        }
        if let Some(want) = sha256 {
            let got = hex::encode(Sha256::digest(&response.body));
            if !got.eq_ignore_ascii_case(want) {
                return Err(sync_error(
                    url,
                    format!("SHA-256 {got} is not the index's {want}"),
                ));
            }
        }
        Ok(Some(response))
    }
}

fn spki(cert: &Certificate) -> Vec<u8> {
    cert.tbs()
        .subject_public_key_info
        .to_der()
        .unwrap_or_default()
}

#[uniffi::export]
impl TrustStore {
    /// Synchronises the store with the DTS whose index is at `index_url` at
    /// `at_unix_seconds` (see the module documentation). `pinned_root_fingerprints` are the
    /// SHA-256 fingerprints (hex; colons and case ignored) of the roots the app trusts from the
    /// start. All or nothing: on error the store is unchanged.
    pub fn sync_from_dts(
        &self,
        index_url: String,
        pinned_root_fingerprints: Vec<String>,
        http: Arc<dyn DtsHttpClient>,
        at_unix_seconds: i64,
    ) -> Result<DtsSyncReport> {
        let at = OffsetDateTime::from_unix_timestamp(at_unix_seconds).map_err(|_| {
            VerifierError::invalid_argument(format!("time {at_unix_seconds} is out of range"))
        })?;
        let origin = origin(&index_url)
            .ok_or_else(|| sync_error(&index_url, "not an absolute http(s) URL"))?
            .to_owned();
        let pins: BTreeSet<String> = pinned_root_fingerprints
            .iter()
            .map(|f| normalise(f))
            .collect();
        let fetcher = Fetcher {
            http: http.as_ref(),
            origin,
        };
        let known_etag = |url: &str| -> Option<String> {
            self.etags.lock().ok().and_then(|e| e.get(url).cloned())
        };
        let mut new_etags: HashMap<String, String> = HashMap::new();

        // The index's ETag stands for "nothing new" only under the pins it was synced with.
        let pins_key = format!(
            "{index_url}#pins={}",
            pins.iter().cloned().collect::<Vec<_>>().join(",")
        );
        let index_etag = known_etag(&pins_key);
        let Some(index_response) = fetcher.get(&index_url, index_etag, MAX_INDEX_LEN, None)? else {
            return Ok(DtsSyncReport {
                changed: false,
                roots_added: Vec::new(),
                roots_skipped: Vec::new(),
                links_added: 0,
                crls_updated: 0,
                crls_unchanged: 0,
                vical_issue_id: None,
            });
        };
        let index: Index =
            serde_json::from_slice(&index_response.body).map_err(|e| VerifierError::Malformed {
                reason: format!("{index_url}: {e}"),
            })?;
        if index.format != INDEX_FORMAT {
            return Err(sync_error(
                &index_url,
                format!("index format {:?}, expected {INDEX_FORMAT}", index.format),
            ));
        }
        if index.roots.len() > MAX_INDEX_ENTRIES
            || index.links.len() > MAX_INDEX_ENTRIES
            || index.crls.len() > MAX_INDEX_ENTRIES
        {
            return Err(VerifierError::SizeLimit {
                reason: format!("{index_url}: more than {MAX_INDEX_ENTRIES} entries of a kind"),
            });
        }

        // Network first, then the store: nothing is applied until everything is in hand.
        let mut roots = Vec::new();
        for r in &index.roots {
            let fp = normalise(&r.fingerprint);
            if !normalise(&r.der.sha256).eq(&fp) {
                return Err(sync_error(
                    &r.der.url,
                    "the root's digest is not its fingerprint",
                ));
            }
            let body = fetcher
                .get(&r.der.url, None, MAX_CERTIFICATE_LEN, Some(&fp))?
                .map(|r| r.body)
                .unwrap_or_default();
            roots.push((fp, Certificate::from_der(&body)?, body));
        }
        let mut links = Vec::new();
        for l in &index.links {
            let body = fetcher
                .get(&l.der.url, None, MAX_CERTIFICATE_LEN, Some(&l.der.sha256))?
                .map(|r| r.body)
                .unwrap_or_default();
            links.push((Certificate::from_der(&body)?, body));
        }
        let mut crls = Vec::new();
        let mut unchanged = 0u32;
        for c in &index.crls {
            match fetcher.get(&c.url, known_etag(&c.url), MAX_CRL_LEN, Some(&c.sha256))? {
                Some(response) => {
                    crls.push((
                        normalise(&c.root),
                        c.url.clone(),
                        response.body,
                        response.etag,
                    ));
                }
                None => unchanged += 1,
            }
        }
        let has_vical_anchors = !self.snapshot()?.store()?.vical_anchors().is_empty();
        let vical = match (&index.vical, has_vical_anchors) {
            (Some(v), true) => fetcher
                .get(&v.url, None, MAX_VICAL_LEN, Some(&v.sha256))?
                .map(|r| (v.issue_id, r.body)),
            _ => None,
        };

        let mut skipped_crls: Vec<String> = Vec::new();
        let mut applied_etags: Vec<(String, String)> = Vec::new();
        let report = self.update_store(|store| {
            let before: BTreeSet<Vec<u8>> =
                store.iacas().iter().map(|c| c.der().to_vec()).collect();
            let mut accepted: Vec<&Certificate> = Vec::new();
            for (fp, cert, der) in &roots {
                if pins.contains(fp) || before.contains(der.as_slice()) {
                    store.add_iaca(der, &DefaultVerifier)?;
                    accepted.push(cert);
                }
            }
            // Links verified under trusted roots reach further roots, until nothing changes.
            let mut links_added = 0u32;
            let mut linked: Vec<bool> = vec![false; links.len()];
            loop {
                let mut progress = false;
                for (i, (link, der)) in links.iter().enumerate() {
                    if linked.get(i).copied().unwrap_or(true) {
                        continue;
                    }
                    let issuer_trusted = accepted.iter().any(|r| r.subject() == link.issuer());
                    if !issuer_trusted {
                        continue;
                    }
                    // A link that does not verify is for a root this app does not trust: not
                    // ours to follow.
                    if let Ok(outcome) = store.add_link(der, &DefaultVerifier) {
                        if outcome == AddOutcome::Added {
                            links_added += 1;
                        }
                        if let Some(l) = linked.get_mut(i) {
                            *l = true;
                        }
                        progress = true;
                        let key = spki(link);
                        for (_, cert, root_der) in &roots {
                            let reached = cert.subject() == link.subject()
                                && spki(cert) == key
                                && !accepted.iter().any(|a| a.der() == cert.der());
                            if reached {
                                store.add_iaca(root_der, &DefaultVerifier)?;
                                accepted.push(cert);
                            }
                        }
                    }
                }
                if !progress {
                    break;
                }
            }
            if accepted.is_empty() {
                return Err(VerifierError::Untrusted {
                    reason: format!(
                        "{index_url}: none of the DTS's roots is pinned or reached by a link"
                    ),
                });
            }
            let mut crls_updated = 0u32;
            let mut crls_unchanged = unchanged;
            let accepted_fps: BTreeSet<&str> = roots
                .iter()
                .filter(|(_, c, _)| accepted.iter().any(|a| a.der() == c.der()))
                .map(|(fp, _, _)| fp.as_str())
                .collect();
            for (root, url, der, etag) in &crls {
                // The CRL of a root this app does not trust is not its to hold (and would not
                // verify): skipped, and fetched in full by the next sync.
                if !accepted_fps.contains(root.as_str()) {
                    skipped_crls.push(url.clone());
                    continue;
                }
                if let Some(etag) = etag {
                    applied_etags.push((url.clone(), etag.clone()));
                }
                match store.add_crl(der, at, &DefaultVerifier)? {
                    AddOutcome::Added | AddOutcome::Replaced => crls_updated += 1,
                    _ => crls_unchanged += 1,
                }
            }
            let vical_issue_id = match &vical {
                Some((_, bytes)) => {
                    store.add_vical(bytes, at, &DefaultVerifier)?;
                    // The id the signed list carries, not the index's word for it.
                    let anchors = mso::x509::TrustAnchors::new(store.vical_anchors().to_vec());
                    mso::vical::VerifiedVical::verify(bytes, at, &anchors, &DefaultVerifier)?
                        .issue_id()
                }
                None => None,
            };
            let roots_added = roots
                .iter()
                .filter(|(_, c, der)| {
                    accepted.iter().any(|a| a.der() == c.der()) && !before.contains(der.as_slice())
                })
                .map(|(fp, _, _)| fp.clone())
                .collect();
            let roots_skipped = roots
                .iter()
                .filter(|(_, c, _)| !accepted.iter().any(|a| a.der() == c.der()))
                .map(|(fp, _, _)| fp.clone())
                .collect();
            Ok(DtsSyncReport {
                changed: true,
                roots_added,
                roots_skipped,
                links_added,
                crls_updated,
                crls_unchanged,
                vical_issue_id,
            })
        })?;
        new_etags.extend(applied_etags);
        // A sync that had to skip CRLs is not "done": the next one fetches the index again.
        if let (Some(etag), true) = (index_response.etag, skipped_crls.is_empty()) {
            new_etags.insert(pins_key, etag);
        }
        if let Ok(mut etags) = self.etags.lock() {
            etags.extend(new_etags);
        }
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_authority_only() {
        assert_eq!(
            origin("http://a.example:8080/x/index.json"),
            Some("http://a.example:8080")
        );
        assert_eq!(origin("https://a.example"), Some("https://a.example"));
        assert_eq!(
            origin("https://a.example@evil/x"),
            Some("https://a.example@evil")
        );
        assert_eq!(origin("ftp://a/x"), None);
        assert_eq!(origin("http:///x"), None);
        assert_eq!(normalise("AB:cd"), "abcd");
    }
}
