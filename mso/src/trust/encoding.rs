//! The offline form of a [`TrustStore`]: its raw inputs, re-verified on reload.
//!
//! ```text
//! TrustStoreFile = #6.55799({          ; self-described CBOR, deterministic encoding
//!   "format": "mso-trust-store",
//!   "version": 1,
//!   "policy": { "expiredCrl": "fail" / "warn", "missingCrl": "warn" / "fail" },
//!   "iacas": [* bstr],                 ; IACA certificates, DER
//!   "links": [* bstr],                 ; link certificates, DER, in the order added
//!   "vicalAnchors": [* bstr],          ; VICAL trust anchors, DER
//!   "vicals": [* bstr],                ; VICAL COSE_Sign1 bytes as received
//!   "crls": [* bstr],                  ; CRLs, DER as received
//! })
//! ```
//!
//! Nothing verified is stored: reload parses and verifies every input again (profiles,
//! signatures, chains) at the caller's time, so a tampered signed input fails to load. A VICAL
//! whose signer has expired since it was added still loads (it was accepted while valid) and
//! is reported stale. The roots (`iacas`, `vicalAnchors`) cannot be verified by anyone but
//! their holder: keep the file where the platform protects its integrity.
//!
//! The whole file is refused, with a typed error, if anything is wrong: oversized
//! ([`Error::TooLarge`]), truncated or malformed CBOR, an unknown format, version or key
//! ([`Error::TrustStoreFormat`]), an input that no longer verifies, or an entry that would not
//! be added as new (a duplicate: the file was not written by [`TrustStore::to_bytes`]).

use time::OffsetDateTime;

use super::{AddOutcome, ExpiredCrlPolicy, MissingCrlPolicy, RevocationPolicy, TrustStore};
use crate::cbor::{encode_value, node, text_map, Kind, Limits, MapView, Node, Value};
use crate::crypto::Verifier;
use crate::error::{Error, Result};
use crate::vical::VerifiedVical;

/// The `format` value.
pub const STORE_FORMAT: &str = "mso-trust-store";
/// The format version written and read.
pub const STORE_VERSION: u64 = 1;
/// Default bound on a serialised store: 64 MiB (CRLs of large issuers dominate).
pub const DEFAULT_MAX_STORE_LEN: usize = 64 * 1024 * 1024;

/// RFC 8949 §3.4.6 self-described CBOR.
const SELF_DESCRIBED: u64 = 55799;
const KEYS: &[&str] = &[
    "format",
    "version",
    "policy",
    "iacas",
    "links",
    "vicalAnchors",
    "vicals",
    "crls",
];

fn format_err(reason: impl Into<String>) -> Error {
    Error::TrustStoreFormat(reason.into())
}

fn bstrs<'a>(items: impl Iterator<Item = &'a [u8]>) -> Value {
    Value::Array(items.map(|b| Value::Bytes(b.to_vec())).collect())
}

/// The byte strings of array `key`.
fn read_bstrs<'s>(m: &MapView<'_, 's>, key: &'static str) -> Result<Vec<&'s [u8]>> {
    let src = m.src();
    m.required(key)?
        .array(key)?
        .iter()
        .map(|n| n.bytes(src, key))
        .collect()
}

fn read_policy(n: &Node, src: &[u8]) -> Result<RevocationPolicy> {
    let m = n.map(src, "policy")?;
    m.deny_unknown(&["expiredCrl", "missingCrl"])?;
    let expired_crl = match m.required("expiredCrl")?.text(src, "expiredCrl")? {
        "fail" => ExpiredCrlPolicy::Fail,
        "warn" => ExpiredCrlPolicy::Warn,
        other => return Err(format_err(format!("unknown expiredCrl policy {other:?}"))),
    };
    let missing_crl = match m.required("missingCrl")?.text(src, "missingCrl")? {
        "fail" => MissingCrlPolicy::Fail,
        "warn" => MissingCrlPolicy::Warn,
        other => return Err(format_err(format!("unknown missingCrl policy {other:?}"))),
    };
    Ok(RevocationPolicy {
        expired_crl,
        missing_crl,
    })
}

/// Every reloaded entry must be new: anything else means the file was edited.
fn expect_added(outcome: AddOutcome, what: &str, index: usize) -> Result<()> {
    if outcome == AddOutcome::Added {
        Ok(())
    } else {
        Err(format_err(format!(
            "{what} {index} is not a new entry ({outcome:?})"
        )))
    }
}

impl TrustStore {
    /// The inputs, in the versioned self-describing CBOR form of [`crate::trust::encoding`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let policy = text_map(vec![
            (
                "expiredCrl",
                Value::Text(
                    match self.policy.expired_crl {
                        ExpiredCrlPolicy::Fail => "fail",
                        ExpiredCrlPolicy::Warn => "warn",
                    }
                    .into(),
                ),
            ),
            (
                "missingCrl",
                Value::Text(
                    match self.policy.missing_crl {
                        MissingCrlPolicy::Fail => "fail",
                        MissingCrlPolicy::Warn => "warn",
                    }
                    .into(),
                ),
            ),
        ]);
        let file = text_map(vec![
            ("format", Value::Text(STORE_FORMAT.into())),
            ("version", Value::Integer(STORE_VERSION.into())),
            ("policy", policy),
            ("iacas", bstrs(self.iacas.iter().map(|c| c.der()))),
            ("links", bstrs(self.links.iter().map(|c| c.der()))),
            (
                "vicalAnchors",
                bstrs(self.vical_anchors.anchors().iter().map(|c| c.der())),
            ),
            (
                "vicals",
                bstrs(self.vicals.iter().map(|v| v.bytes.as_slice())),
            ),
            ("crls", bstrs(self.crls.iter().map(|c| c.der.as_slice()))),
        ]);
        encode_value(&Value::Tag(SELF_DESCRIBED, Box::new(file)))
    }

    /// Reloads a store written by [`TrustStore::to_bytes`], re-verifying every input at `at`,
    /// with the default size bound [`DEFAULT_MAX_STORE_LEN`].
    pub fn from_bytes(bytes: &[u8], at: OffsetDateTime, verifier: &dyn Verifier) -> Result<Self> {
        Self::from_bytes_with_limit(bytes, DEFAULT_MAX_STORE_LEN, at, verifier)
    }

    /// Reloads a store of at most `max_len` bytes, re-verifying every input at `at`.
    pub fn from_bytes_with_limit(
        bytes: &[u8],
        max_len: usize,
        at: OffsetDateTime,
        verifier: &dyn Verifier,
    ) -> Result<Self> {
        let limits = Limits {
            max_size: max_len,
            max_depth: 8,
            ..Limits::DEFAULT
        };
        let root = node::parse(bytes, &limits)?;
        let body = match &root.kind {
            Kind::Tag(SELF_DESCRIBED, inner) => inner.as_ref(),
            _ => return Err(format_err("not a self-described CBOR trust store")),
        };
        let m = body.map(bytes, "trust store")?;
        let format = m.required("format")?.text(bytes, "format")?;
        if format != STORE_FORMAT {
            return Err(format_err(format!(
                "format {format:?}, expected {STORE_FORMAT:?}"
            )));
        }
        let version = m.required("version")?.uint("version")?;
        if version != STORE_VERSION {
            return Err(format_err(format!(
                "version {version}, this reader knows {STORE_VERSION}"
            )));
        }
        m.deny_unknown(KEYS)?;

        let mut store = TrustStore::new(read_policy(m.required("policy")?, bytes)?);
        for (i, der) in read_bstrs(&m, "vicalAnchors")?.into_iter().enumerate() {
            expect_added(store.add_vical_anchor(der)?, "VICAL anchor", i)?;
        }
        for (i, der) in read_bstrs(&m, "iacas")?.into_iter().enumerate() {
            expect_added(store.add_iaca(der, verifier)?, "IACA", i)?;
        }
        for (i, vical) in read_bstrs(&m, "vicals")?.into_iter().enumerate() {
            // Accepted once while its signer was valid: expiry since then is staleness.
            let verified = VerifiedVical::verify(vical, at, &store.vical_anchors, verifier)?;
            expect_added(store.insert_vical(vical, verified)?, "VICAL", i)?;
        }
        for (i, der) in read_bstrs(&m, "links")?.into_iter().enumerate() {
            expect_added(store.add_link(der, verifier)?, "link certificate", i)?;
        }
        for (i, der) in read_bstrs(&m, "crls")?.into_iter().enumerate() {
            expect_added(store.add_crl(der, at, verifier)?, "CRL", i)?;
        }
        Ok(store)
    }
}
