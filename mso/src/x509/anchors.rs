//! Trust anchors: the certificates a path must end at (IACAs for documents, CRLs and list
//! tokens; the VICAL provider's root for VICALs), with a memory of verified signatures.
//!
//! # The memory
//!
//! Whether an anchor's key signed a certificate is a pure function of the two certificates'
//! bytes, so [`TrustAnchors`] remembers, per leaf certificate (by the SHA-256 of its DER), which
//! anchor it verified under when the path had no intermediate. A verifier checking many
//! documents from the same few Document Signers then pays for each chain signature once (a
//! "warm" trust store). The profile inspection of such a leaf against its anchor is just as
//! pure and is remembered the same way ([`TrustAnchors::inspect_under`]), and so is the parsing
//! of a leaf's DER ([`TrustAnchors::leaf`]). Names, the anchor's
//! authority and validity at the verification time are checked on every call. The
//! memory holds at most [`MAX_REMEMBERED`] leaves (and the parsed leaves at most
//! [`MAX_REMEMBERED_LEAF_BYTES`] of DER) and starts over when full; it is not copied by
//! [`Clone`] and is never part of a serialised trust store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use x509_cert::name::Name;

use super::certificate::Certificate;
use super::profile::{self, Inspection, Role};
use crate::error::Result;

/// Remembered inspections: (leaf digest, role, anchor index) → the inspection.
type Inspections = HashMap<([u8; 32], Role, usize), Arc<Inspection>>;

/// Most leaf certificates whose verified anchor is remembered; beyond this the memory starts
/// over.
pub const MAX_REMEMBERED: usize = 4096;

/// Most DER bytes of parsed leaves remembered ([`TrustAnchors::leaf`]), beside the count: a
/// stream of large, distinct certificates (up to 16 KiB each) holds at most this much memory,
/// while a few thousand real Document Signers (under 1 KiB each) fit.
pub const MAX_REMEMBERED_LEAF_BYTES: usize = 2 << 20;

/// Parsed leaves by the SHA-256 of their DER, and the DER bytes they hold.
#[derive(Debug, Default)]
struct ParsedLeaves {
    by_digest: HashMap<[u8; 32], Arc<Certificate>>,
    bytes: usize,
}

/// A set of trust anchors and the memory of signatures verified under them. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
    verified: Mutex<HashMap<[u8; 32], usize>>,
    inspections: Mutex<Inspections>,
    parsed: Mutex<ParsedLeaves>,
}

impl TrustAnchors {
    /// Anchors with an empty memory. Duplicates (same DER) are kept once.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        let mut unique: Vec<Certificate> = Vec::with_capacity(anchors.len());
        for a in anchors {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        TrustAnchors {
            anchors: unique,
            verified: Mutex::new(HashMap::new()),
            inspections: Mutex::new(HashMap::new()),
            parsed: Mutex::new(ParsedLeaves::default()),
        }
    }

    /// The anchor certificates.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Whether there is no anchor.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchors that may have issued a certificate or CRL naming `issuer` with authority key
    /// identifier `aki`, by index: those whose subject is `issuer`, the ones whose
    /// subjectKeyIdentifier equals `aki` first. Several anchors may share a DN across key
    /// rollovers (PROFILES.md), so the AKI picks the likely key, and the others remain
    /// candidates for issuers that wrote no (or a wrong) AKI.
    pub fn candidates<'s>(
        &'s self,
        issuer: &'s Name,
        aki: Option<&'s [u8]>,
    ) -> impl Iterator<Item = (usize, &'s Certificate)> + 's {
        let named = move || {
            self.anchors
                .iter()
                .enumerate()
                .filter(move |(_, a)| a.subject() == issuer)
        };
        let matches_aki =
            move |a: &Certificate| aki.is_some() && a.subject_key_id().as_deref() == aki;
        named()
            .filter(move |(_, a)| matches_aki(a))
            .chain(named().filter(move |(_, a)| !matches_aki(a)))
    }

    /// The anchor `leaf` was remembered to verify under, if any.
    pub(crate) fn recall(&self, leaf: &Certificate) -> Option<usize> {
        let key = leaf.sha256();
        self.verified
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .filter(|&i| i < self.anchors.len())
    }

    /// Remembers that `leaf`'s signature verified under anchor `index`.
    pub(crate) fn remember(&self, leaf: &Certificate, index: usize) {
        if let Ok(mut m) = self.verified.lock() {
            if m.len() >= MAX_REMEMBERED {
                m.clear();
            }
            m.insert(leaf.sha256(), index);
        }
    }
}

impl TrustAnchors {
    /// The profile inspection of `leaf` in `role` with anchor `index` as its issuer, computed
    /// once per (leaf, role, anchor) and then remembered (at most [`MAX_REMEMBERED`]).
    pub fn inspect_under(&self, leaf: &Certificate, role: Role, index: usize) -> Arc<Inspection> {
        let issuer = self.anchors.get(index);
        let key = (leaf.sha256(), role, index);
        if let Some(found) = self
            .inspections
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return found;
        }
        let inspection = Arc::new(profile::inspect(
            role,
            leaf.tbs(),
            issuer.map(Certificate::tbs),
        ));
        if let Ok(mut m) = self.inspections.lock() {
            if m.len() >= MAX_REMEMBERED {
                m.clear();
            }
            m.insert(key, Arc::clone(&inspection));
        }
        inspection
    }

    /// `der` parsed as a certificate ([`Certificate::from_der`]), the same value for the same
    /// bytes: a verifier meeting the same few Document Signers parses each once (at most
    /// [`MAX_REMEMBERED`] leaves and [`MAX_REMEMBERED_LEAF_BYTES`] of DER remembered, then the
    /// memory starts over). Bytes that do not parse are not remembered.
    pub fn leaf(&self, der: &[u8]) -> Result<Arc<Certificate>> {
        let key: [u8; 32] = Sha256::digest(der).into();
        if let Some(found) = self
            .parsed
            .lock()
            .ok()
            .and_then(|m| m.by_digest.get(&key).cloned())
        {
            return Ok(found);
        }
        let cert = Arc::new(Certificate::from_der(der)?);
        if let Ok(mut m) = self.parsed.lock() {
            if m.by_digest.len() >= MAX_REMEMBERED
                || m.bytes + der.len() > MAX_REMEMBERED_LEAF_BYTES
            {
                *m = ParsedLeaves::default();
            }
            if m.by_digest.insert(key, Arc::clone(&cert)).is_none() {
                m.bytes += der.len();
            }
        }
        Ok(cert)
    }
}

/// A copy has the same anchors and an empty memory.
impl Clone for TrustAnchors {
    fn clone(&self) -> Self {
        TrustAnchors::new(self.anchors.clone())
    }
}
