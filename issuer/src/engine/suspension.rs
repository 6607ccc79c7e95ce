//! The emergency stop of new issuance (policy §5.7.3: on a compromise, issuance stops until
//! it is safe again). An admin suspends and resumes it through the API; the state lives in the
//! database, so every instance honours it and it survives restarts. Revocation, the status
//! and identifier lists and reads go on while it is suspended.

use std::time::{Duration, Instant};

use custody::audit::AuditEvent;
use time::OffsetDateTime;

use super::{EngineError, Issuer};
use crate::audit::events;
use crate::store::Suspension;

/// How long an instance trusts its last look at the suspension state. Another instance's
/// suspension takes effect here within this time; this instance's own, at once.
pub const SUSPENSION_CACHE: Duration = Duration::from_secs(2);

/// Longest accepted reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// The suspension cache: when it was read, and what.
pub(crate) type SuspensionCache = std::sync::Mutex<Option<(Instant, Option<Suspension>)>>;

impl Issuer {
    /// Refuses with [`EngineError::IssuanceSuspended`] while new issuance is suspended, and
    /// with [`EngineError::Audit`] while the audit log is fenced ([`crate::audit::Audit::fence`]).
    pub(crate) async fn check_issuance_allowed(&self) -> Result<(), EngineError> {
        // Refused before anything is signed: a fenced log would refuse the record anyway.
        if self.audit.is_fenced() {
            return Err(crate::audit::AuditError::Fenced.into());
        }
        match self.issuance_suspension().await? {
            Some(s) => Err(EngineError::IssuanceSuspended(s.reason)),
            None => Ok(()),
        }
    }

    /// The suspension in force, if any (cached for [`SUSPENSION_CACHE`]).
    pub async fn issuance_suspension(&self) -> Result<Option<Suspension>, EngineError> {
        if let Ok(cache) = self.suspension.lock() {
            if let Some((at, s)) = cache.as_ref() {
                if at.elapsed() < SUSPENSION_CACHE {
                    return Ok(s.clone());
                }
            }
        }
        let current = self.store.issuance_suspension().await?;
        self.remember_suspension(current.clone());
        Ok(current)
    }

    fn remember_suspension(&self, s: Option<Suspension>) {
        if let Ok(mut cache) = self.suspension.lock() {
            *cache = Some((Instant::now(), s));
        }
    }

    /// Suspends new issuance (audited). Returns the suspension in force: the new one, or the
    /// earlier one if issuance was already suspended.
    pub async fn suspend_issuance(
        &self,
        reason: &str,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<Suspension, EngineError> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(EngineError::Malformed(format!(
                "reason: 1 to {MAX_REASON_CHARS} printable characters"
            )));
        }
        let wanted = Suspension {
            since: at,
            reason: reason.to_owned(),
            by: by.to_owned(),
        };
        let added = self.store.suspend_issuance(&wanted).await?;
        let current = self
            .store
            .issuance_suspension()
            .await?
            .unwrap_or_else(|| wanted.clone());
        self.remember_suspension(Some(current.clone()));
        if added {
            self.audit
                .record(
                    AuditEvent::success(events::ISSUANCE_SUSPEND)
                        .actor(by)
                        .detail("reason_sha256", crate::audit::digest(reason)),
                )
                .await?;
        }
        Ok(current)
    }

    /// Resumes new issuance (audited when it was suspended). Returns the suspension it ended.
    pub async fn resume_issuance(&self, by: &str) -> Result<Option<Suspension>, EngineError> {
        let ended = self.store.resume_issuance().await?;
        self.remember_suspension(None);
        if let Some(s) = &ended {
            self.audit
                .record(
                    AuditEvent::success(events::ISSUANCE_RESUME)
                        .actor(by)
                        .detail("suspended_since", s.since.unix_timestamp().to_string())
                        .detail("suspended_by", s.by.as_str()),
                )
                .await?;
        }
        Ok(ended)
    }
}
