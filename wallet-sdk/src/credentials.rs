//! The credential store: what the wallet holds, above the app's [`Storage`].
//!
//! A credential is one document (doc type, issuer) issued as a batch of IssuerSigned, one per
//! device key, each with its own MSO. The batch exists for unlinkability: each MSO is
//! presented at most once by default ([`WalletPolicy::reuse_when_exhausted`] allows the
//! least-used one to be reused when every MSO has been shown). [`CredentialHealth`] tells the
//! app when to refresh: few unused MSOs left, or MSOs near their validUntil or
//! expectedUpdate.
//!
//! Each credential is one record, `cred.<id>`, in a versioned JSON format; reading one back
//! is bounded and a damaged or foreign record is a typed [`WalletError::StoredFormat`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use mso::cbor::{from_slice, Limits};
use mso::model::IssuerSigned;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WalletError};
use crate::storage::Storage;

/// The stored record format this SDK writes and reads.
pub const CREDENTIAL_FORMAT: u32 = 1;
/// Most MSOs in one credential's batch, and so the most the OpenID4VCI client requests at
/// once, whatever the issuer allows.
pub const MAX_BATCH: usize = 100;
/// Largest stored credential record read back.
pub const MAX_RECORD_LEN: usize = crate::storage::MAX_VALUE_LEN;

const PREFIX: &str = "cred.";

/// How the wallet uses a credential's batch and when it asks for a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct WalletPolicy {
    /// When every MSO of a batch has been presented, present the least-used one again
    /// (linkable) rather than refuse. Default false.
    pub reuse_when_exhausted: bool,
    /// A credential runs low when fewer than this many MSOs are unused. Default 3.
    pub low_batch_threshold: u32,
    /// An MSO nears its end when its validUntil or expectedUpdate is less than this many
    /// seconds away. Default 7 days.
    pub refresh_before_seconds: u64,
}

impl Default for WalletPolicy {
    fn default() -> Self {
        WalletPolicy {
            reuse_when_exhausted: false,
            low_batch_threshold: 3,
            refresh_before_seconds: 7 * 24 * 3600,
        }
    }
}

/// The policy with its defaults.
#[uniffi::export]
pub fn default_wallet_policy() -> WalletPolicy {
    WalletPolicy::default()
}

/// One MSO of a credential's batch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MsoInfo {
    /// The device key it is bound to.
    pub key_alias: String,
    /// How many times it has been presented.
    pub use_count: u32,
    /// validityInfo `signed`, Unix seconds.
    pub signed: i64,
    /// validityInfo `validFrom`, Unix seconds.
    pub valid_from: i64,
    /// validityInfo `validUntil`, Unix seconds.
    pub valid_until: i64,
    /// validityInfo `expectedUpdate`, Unix seconds, if the issuer set one.
    pub expected_update: Option<i64>,
    /// The Token Status List this MSO is listed in (`status.status_list.uri`).
    pub status_list_uri: Option<String>,
    /// Its index in that list.
    pub status_list_index: Option<u64>,
    /// The Identifier List this MSO is listed in (`status.identifier_list.uri`).
    pub identifier_list_uri: Option<String>,
}

/// A stored credential, without its element values.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialSummary {
    /// The wallet's identifier of the credential.
    pub id: String,
    /// The doc type (e.g. `org.iso.18013.5.1.mDL`).
    pub doc_type: String,
    /// Who issued it (the credential issuer identifier the app gave on receipt).
    pub issuer: String,
    /// When it was received, Unix seconds.
    pub received_at: i64,
    /// The batch.
    pub msos: Vec<MsoInfo>,
}

/// Whether a credential needs a refresh, at a given time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialHealth {
    /// The credential.
    pub id: String,
    /// MSOs in the batch.
    pub total: u32,
    /// MSOs never presented and valid at the time asked about.
    pub unused: u32,
    /// MSOs past validUntil.
    pub expired: u32,
    /// Fewer than [`WalletPolicy::low_batch_threshold`] unused MSOs remain.
    pub runs_low: bool,
    /// No unused valid MSO remains: the next presentation is refused (or linkable under
    /// [`WalletPolicy::reuse_when_exhausted`]).
    pub exhausted: bool,
    /// An MSO still valid reaches validUntil within [`WalletPolicy::refresh_before_seconds`].
    pub nearing_expiry: bool,
    /// An MSO's expectedUpdate is past or within [`WalletPolicy::refresh_before_seconds`].
    pub update_expected: bool,
    /// Any of the above: ask the issuer for a fresh batch.
    pub needs_refresh: bool,
    /// The earliest validUntil of the batch, Unix seconds.
    pub earliest_valid_until: Option<i64>,
    /// The earliest expectedUpdate of the batch, Unix seconds.
    pub earliest_expected_update: Option<i64>,
}

/// The stored form of one MSO (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MsoRecord {
    pub(crate) key_alias: String,
    /// The IssuerSigned as received, base64url.
    issuer_signed: String,
    pub(crate) use_count: u32,
    signed: i64,
    pub(crate) valid_from: i64,
    pub(crate) valid_until: i64,
    expected_update: Option<i64>,
    status_list_uri: Option<String>,
    status_list_index: Option<u64>,
    identifier_list_uri: Option<String>,
}

impl MsoRecord {
    /// The record of a verified IssuerSigned.
    pub(crate) fn new(key_alias: String, bytes: &[u8], decoded: &IssuerSigned) -> Self {
        let mso = decoded.issuer_auth.mso().value();
        let v = &mso.validity_info;
        let status = mso.status.as_ref();
        let status_list = status.and_then(|s| s.status_list.as_ref());
        MsoRecord {
            key_alias,
            issuer_signed: B64.encode(bytes),
            use_count: 0,
            signed: v.signed.datetime().unix_timestamp(),
            valid_from: v.valid_from.datetime().unix_timestamp(),
            valid_until: v.valid_until.datetime().unix_timestamp(),
            expected_update: v
                .expected_update
                .as_ref()
                .map(|t| t.datetime().unix_timestamp()),
            status_list_uri: status_list.map(|s| s.uri.clone()),
            status_list_index: status_list.map(|s| s.idx),
            identifier_list_uri: status
                .and_then(|s| s.identifier_list.as_ref())
                .map(|s| s.uri.clone()),
        }
    }

    /// The IssuerSigned, decoded under `mso`'s limits.
    pub(crate) fn issuer_signed(&self) -> Result<IssuerSigned> {
        let bytes = B64
            .decode(&self.issuer_signed)
            .map_err(|_| WalletError::Malformed {
                reason: "a stored IssuerSigned is not base64url".into(),
            })?;
        Ok(from_slice(&bytes, &Limits::DEFAULT)?)
    }

    pub(crate) fn valid_at(&self, at: i64) -> bool {
        self.valid_from <= at && at <= self.valid_until
    }

    fn info(&self) -> MsoInfo {
        MsoInfo {
            key_alias: self.key_alias.clone(),
            use_count: self.use_count,
            signed: self.signed,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            expected_update: self.expected_update,
            status_list_uri: self.status_list_uri.clone(),
            status_list_index: self.status_list_index,
            identifier_list_uri: self.identifier_list_uri.clone(),
        }
    }
}

/// The stored form of one credential (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialRecord {
    format: u32,
    pub(crate) id: String,
    pub(crate) doc_type: String,
    issuer: String,
    received_at: i64,
    pub(crate) msos: Vec<MsoRecord>,
}

impl CredentialRecord {
    pub(crate) fn new(
        id: String,
        doc_type: String,
        issuer: String,
        received_at: i64,
        msos: Vec<MsoRecord>,
    ) -> Self {
        CredentialRecord {
            format: CREDENTIAL_FORMAT,
            id,
            doc_type,
            issuer,
            received_at,
            msos,
        }
    }

    pub(crate) fn summary(&self) -> CredentialSummary {
        CredentialSummary {
            id: self.id.clone(),
            doc_type: self.doc_type.clone(),
            issuer: self.issuer.clone(),
            received_at: self.received_at,
            msos: self.msos.iter().map(MsoRecord::info).collect(),
        }
    }

    /// The MSO to present at `at`: an unused one valid at `at` (the first in batch order),
    /// else, when the policy allows reuse, the least-used valid one.
    pub(crate) fn select_mso(&self, at: i64, policy: &WalletPolicy) -> Result<usize> {
        let valid = || self.msos.iter().enumerate().filter(|(_, m)| m.valid_at(at));
        if let Some((i, _)) = valid().find(|(_, m)| m.use_count == 0) {
            return Ok(i);
        }
        if policy.reuse_when_exhausted {
            if let Some((i, _)) = valid().min_by_key(|(_, m)| m.use_count) {
                return Ok(i);
            }
            return Err(WalletError::NoUsableMso {
                reason: format!("no MSO of credential {} is valid now", self.id),
            });
        }
        Err(WalletError::NoUsableMso {
            reason: format!(
                "every valid MSO of credential {} has been presented; refresh it",
                self.id
            ),
        })
    }

    pub(crate) fn health(&self, at: i64, policy: &WalletPolicy) -> CredentialHealth {
        let count = |f: &dyn Fn(&MsoRecord) -> bool| {
            u32::try_from(self.msos.iter().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
        };
        let horizon =
            at.saturating_add(i64::try_from(policy.refresh_before_seconds).unwrap_or(i64::MAX));
        let unused = count(&|m| m.use_count == 0 && m.valid_at(at));
        let expired = count(&|m| m.valid_until < at);
        let runs_low = unused < policy.low_batch_threshold;
        let exhausted = unused == 0;
        let nearing_expiry = self
            .msos
            .iter()
            .any(|m| m.valid_until >= at && m.valid_until <= horizon);
        let update_expected = self
            .msos
            .iter()
            .any(|m| m.expected_update.is_some_and(|u| u <= horizon));
        CredentialHealth {
            id: self.id.clone(),
            total: count(&|_| true),
            unused,
            expired,
            runs_low,
            exhausted,
            nearing_expiry,
            update_expected,
            needs_refresh: runs_low || exhausted || nearing_expiry || update_expected,
            earliest_valid_until: self.msos.iter().map(|m| m.valid_until).min(),
            earliest_expected_update: self.msos.iter().filter_map(|m| m.expected_update).min(),
        }
    }

    fn decode(key: &str, bytes: &[u8]) -> Result<Self> {
        let bad = |reason: String| WalletError::StoredFormat {
            key: key.to_owned(),
            reason,
        };
        if bytes.len() > MAX_RECORD_LEN {
            return Err(bad(format!(
                "{} bytes exceed {MAX_RECORD_LEN}",
                bytes.len()
            )));
        }
        // Read the version first, so a record of a later format is named as such.
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not a credential record: {e}")))?;
        if version.format != CREDENTIAL_FORMAT {
            return Err(bad(format!(
                "format {} (this SDK reads {CREDENTIAL_FORMAT})",
                version.format
            )));
        }
        let record: CredentialRecord =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("damaged: {e}")))?;
        if record.msos.is_empty() || record.msos.len() > MAX_BATCH {
            return Err(bad(format!("a batch of {} MSOs", record.msos.len())));
        }
        if key.strip_prefix(PREFIX) != Some(record.id.as_str()) {
            return Err(bad("the record's id is not its key's".into()));
        }
        Ok(record)
    }
}

/// The credential records in the app's [`Storage`].
pub(crate) struct CredentialStore<'a> {
    pub(crate) storage: &'a dyn Storage,
}

fn key_of(id: &str) -> Result<String> {
    let key = format!("{PREFIX}{id}");
    crate::storage::check_key(&key)?;
    Ok(key)
}

impl CredentialStore<'_> {
    pub(crate) fn load(&self, id: &str) -> Result<CredentialRecord> {
        let key = key_of(id)?;
        let bytes = self
            .storage
            .get(key.clone())?
            .ok_or_else(|| WalletError::NotFound {
                what: format!("credential {id:?}"),
            })?;
        CredentialRecord::decode(&key, &bytes)
    }

    pub(crate) fn save(&self, record: &CredentialRecord) -> Result<()> {
        let bytes = serde_json::to_vec(record)
            .map_err(|e| WalletError::internal(format!("encoding a credential record: {e}")))?;
        self.storage.put(key_of(&record.id)?, bytes)
    }

    pub(crate) fn delete(&self, id: &str) -> Result<()> {
        self.storage.delete(key_of(id)?)
    }

    /// Every credential's id.
    pub(crate) fn ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self
            .storage
            .list(PREFIX.to_owned())?
            .into_iter()
            .filter_map(|k| k.strip_prefix(PREFIX).map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn mso(alias: &str, valid_until: i64, uses: u32) -> MsoRecord {
        MsoRecord {
            key_alias: alias.into(),
            issuer_signed: String::new(),
            use_count: uses,
            signed: 0,
            valid_from: 0,
            valid_until,
            expected_update: None,
            status_list_uri: None,
            status_list_index: None,
            identifier_list_uri: None,
        }
    }

    #[test]
    fn selection_uses_each_mso_once_then_follows_the_policy() {
        let mut r = CredentialRecord::new(
            "c1".into(),
            "d".into(),
            "i".into(),
            0,
            vec![mso("a", 100, 1), mso("b", 10, 0), mso("c", 100, 0)],
        );
        let policy = WalletPolicy::default();
        // "b" has expired at 50: "c" is the only unused valid one.
        assert_eq!(r.select_mso(50, &policy).unwrap(), 2);
        let h = r.health(50, &policy);
        assert_eq!((h.total, h.unused, h.expired), (3, 1, 1));
        assert!(h.runs_low && !h.exhausted && h.needs_refresh);
        if let Some(m) = r.msos.get_mut(2) {
            m.use_count = 1;
        }
        assert!(matches!(
            r.select_mso(50, &policy),
            Err(WalletError::NoUsableMso { .. })
        ));
        assert!(r.health(50, &policy).exhausted);
        let reuse = WalletPolicy {
            reuse_when_exhausted: true,
            ..policy
        };
        assert_eq!(r.select_mso(50, &reuse).unwrap(), 0);
        assert!(r.select_mso(200, &reuse).is_err());
    }

    #[test]
    fn damaged_or_foreign_records_are_typed_errors() {
        let r = CredentialRecord::new("c1".into(), "d".into(), "i".into(), 0, vec![mso("a", 1, 0)]);
        let good = serde_json::to_vec(&r).unwrap();
        assert_eq!(CredentialRecord::decode("cred.c1", &good).unwrap(), r);
        let later = String::from_utf8(good.clone())
            .unwrap()
            .replace("\"format\":1", "\"format\":2");
        for bad in [
            &good[..good.len() / 2],
            b"null".as_slice(),
            b"[]".as_slice(),
            later.as_bytes(),
            &[0xff; 10],
        ] {
            assert!(matches!(
                CredentialRecord::decode("cred.c1", bad),
                Err(WalletError::StoredFormat { .. })
            ));
        }
        // A record copied under another id is refused.
        assert!(CredentialRecord::decode("cred.c2", &good).is_err());
    }
}
