//! The installed DS certificates and the rotation policy that picks the one to sign with.
//!
//! The inventory is a plain value (serde-serialisable) that the service persists; it holds no
//! key material, only each DS key's URI.

use custody::uri::KeyUri;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::error::{DsError, Result};
use super::install::DsCertificate;

/// When DS certificates are rotated (CPS §4.9.7: DS keys are re-issued every 3 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationPolicy {
    /// How long a DS is the newest before a new one is due (default 91 days, three months).
    #[serde(with = "duration_secs")]
    pub rotate_every: Duration,
    /// How long a DS may keep signing after `rotate_every` while its successor is being
    /// certified and installed (default 14 days). After `rotate_every + overlap` it is never
    /// used again even if its certificate is still valid.
    #[serde(with = "duration_secs")]
    pub overlap: Duration,
}

impl RotationPolicy {
    /// Three months: 91 days (a quarter of a year, rounded down).
    pub const DEFAULT_ROTATE_EVERY: Duration = Duration::days(91);
    /// Default overlap: 14 days.
    pub const DEFAULT_OVERLAP: Duration = Duration::days(14);
}

impl Default for RotationPolicy {
    fn default() -> Self {
        RotationPolicy {
            rotate_every: Self::DEFAULT_ROTATE_EVERY,
            overlap: Self::DEFAULT_OVERLAP,
        }
    }
}

/// One installed DS certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsEntry {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// The DS key's URI (canonical [`KeyUri`] form).
    pub key_uri: String,
    /// The certificate, DER (hex in serialised form).
    #[serde(with = "hex_bytes")]
    pub cert_der: Vec<u8>,
    /// Certificate notBefore.
    #[serde(with = "rfc3339")]
    pub not_before: OffsetDateTime,
    /// Certificate notAfter.
    #[serde(with = "rfc3339")]
    pub not_after: OffsetDateTime,
    /// Revoked (final: never undone).
    pub revoked: bool,
    /// When the certificate was installed.
    #[serde(with = "rfc3339")]
    pub installed_at: OffsetDateTime,
}

impl DsEntry {
    /// The key URI, parsed.
    pub fn key_uri(&self) -> Result<KeyUri> {
        Ok(self.key_uri.parse()?)
    }

    /// When this DS entered service: the later of notBefore and installation.
    pub fn in_service_from(&self) -> OffsetDateTime {
        self.not_before.max(self.installed_at)
    }

    /// The end of its rotation window: in service + `rotate_every` + `overlap`.
    pub fn retire_at(&self, policy: &RotationPolicy) -> OffsetDateTime {
        self.in_service_from()
            .saturating_add(policy.rotate_every)
            .saturating_add(policy.overlap)
    }

    /// Whether it may sign at `at`: not revoked, its certificate valid at `at`
    /// (notBefore ≤ at ≤ notAfter), installed by `at`, and `at` before the end of its rotation
    /// window.
    pub fn usable_at(&self, at: OffsetDateTime, policy: &RotationPolicy) -> bool {
        !self.revoked
            && self.in_service_from() <= at
            && at <= self.not_after
            && at < self.retire_at(policy)
    }
}

/// The installed DS certificates with their rotation policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsInventory {
    /// The rotation policy.
    pub policy: RotationPolicy,
    entries: Vec<DsEntry>,
}

impl DsInventory {
    /// An empty inventory with `policy`.
    pub fn new(policy: RotationPolicy) -> Self {
        DsInventory {
            policy,
            entries: Vec::new(),
        }
    }

    /// Every entry, in installation order.
    pub fn entries(&self) -> &[DsEntry] {
        &self.entries
    }

    /// The entry with `serial` (lower-case hex).
    pub fn get(&self, serial: &str) -> Option<&DsEntry> {
        self.entries.iter().find(|e| e.serial == serial)
    }

    /// Records a certificate accepted by
    /// [`install_certificate`](super::install_certificate) for the key at `key_uri`.
    ///
    /// Refuses a serial already present and a key that already has a certificate (no renewal
    /// without re-key).
    pub fn add(
        &mut self,
        cert: &DsCertificate,
        key_uri: &KeyUri,
        installed_at: OffsetDateTime,
    ) -> Result<&DsEntry> {
        let serial = cert.serial().to_owned();
        let key_uri = key_uri.to_string();
        if self.get(&serial).is_some() {
            return Err(DsError::DuplicateSerial(serial));
        }
        if self.entries.iter().any(|e| e.key_uri == key_uri) {
            return Err(DsError::KeyAlreadyCertified(key_uri));
        }
        self.entries.push(DsEntry {
            serial: serial.clone(),
            key_uri,
            cert_der: cert.der().to_vec(),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            revoked: false,
            installed_at,
        });
        self.get(&serial).ok_or(DsError::UnknownSerial(serial))
    }

    /// The DS to sign with at `at`: the newest (latest [`DsEntry::in_service_from`]) entry that
    /// is [usable](DsEntry::usable_at). Never an expired, not-yet-valid, revoked or retired
    /// one; `None` if there is none, and then nothing may be signed.
    pub fn signing_ds(&self, at: OffsetDateTime) -> Option<&DsEntry> {
        self.entries
            .iter()
            .filter(|e| e.usable_at(at, &self.policy))
            .max_by(|a, b| {
                (a.in_service_from(), a.not_before, &a.serial).cmp(&(
                    b.in_service_from(),
                    b.not_before,
                    &b.serial,
                ))
            })
    }

    /// Whether a new DS should be requested at `at`: no DS is usable, or the one in use has
    /// been in service for `rotate_every` or longer.
    pub fn needs_rotation(&self, at: OffsetDateTime) -> bool {
        match self.signing_ds(at) {
            None => true,
            Some(ds) => {
                at >= ds
                    .in_service_from()
                    .saturating_add(self.policy.rotate_every)
            }
        }
    }

    /// The latest validUntil an MSO signed by `ds` may carry: `requested`, clamped to the DS
    /// notAfter.
    pub fn max_valid_until(ds: &DsEntry, requested: OffsetDateTime) -> OffsetDateTime {
        requested.min(ds.not_after)
    }

    /// Marks the DS with `serial` revoked. Final: it never signs again (revoking twice is a
    /// no-op).
    pub fn revoke(&mut self, serial: &str) -> Result<()> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.serial == serial)
            .ok_or_else(|| DsError::UnknownSerial(serial.to_owned()))?;
        entry.revoked = true;
        Ok(())
    }
}

mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub(super) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = crate::timefmt::rfc3339(*t).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = i64::deserialize(d)?;
        if secs < 0 {
            return Err(serde::de::Error::custom(
                "a rotation duration must not be negative",
            ));
        }
        Ok(Duration::seconds(secs))
    }
}
