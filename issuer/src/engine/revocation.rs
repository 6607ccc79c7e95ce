//! Revoking documents and DS certificates.

use custody::audit::AuditEvent;
use time::OffsetDateTime;

use super::errors::EngineError;
use super::issuer::Issuer;
use crate::audit::events;
use crate::store::{Document, DocumentId, DocumentState, RevocationReason};

/// The reason in the rollback record of a revocation a concurrent one beat: it changed
/// nothing.
pub const ALREADY_REVOKED: &str = "already_revoked";

/// What a revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeOutcome {
    /// Whether this call changed anything (revoking twice is not an error).
    pub changed: bool,
    /// Documents revoked by this call (DS revocation).
    pub documents: u64,
}

/// The name of a revocation reason.
pub fn reason_name(r: RevocationReason) -> &'static str {
    match r {
        RevocationReason::Unspecified => "unspecified",
        RevocationReason::KeyCompromise => "key_compromise",
        RevocationReason::Superseded => "superseded",
        RevocationReason::CessationOfOperation => "cessation_of_operation",
        RevocationReason::HolderRequest => "holder_request",
        RevocationReason::DsRevoked => "ds_revoked",
    }
}

impl Issuer {
    /// Whether `client_id` may read, refresh or revoke `doc`: any client when clients are not
    /// isolated (its scopes decide), else its issuer or an admin.
    pub fn may_access(&self, doc: &Document, client_id: &str, admin: bool) -> bool {
        !self.config.issuance.client_isolation || doc.is_accessible_by(client_id, admin)
    }

    /// Revokes a document and all its MSOs; the lists show it from the next fetch.
    ///
    /// With `client_isolation`, only the client that issued the document, or an `admin` client,
    /// may revoke it; for any other client the document is [`EngineError::NotFound`], so ids
    /// cannot be probed.
    ///
    /// As for issuance, the audit record is written *before* the transaction, so no revocation
    /// is ever committed without its record (a crash between a commit and its record used to
    /// leave a revoked document whose retry was recorded as `"changed": "false"`, and none that
    /// changed it). If the transaction fails, or a concurrent revocation changed the document
    /// first, a second record says so; a crash between the record and the commit is reconciled
    /// at the next start (`reconcile`).
    pub async fn revoke(
        &self,
        client_id: &str,
        admin: bool,
        document: DocumentId,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<RevokeOutcome, EngineError> {
        // The owner never changes, so checking it before the revocation is race free.
        let doc = self.store.get_document(document).await?;
        if !self.may_access(&doc, client_id, admin) {
            return Err(EngineError::NotFound("document"));
        }
        // Revocation is final: a revoked document stays revoked, so only an active one can
        // change (unless a concurrent revocation wins, recorded below).
        let expected = doc.state == DocumentState::Active;
        let id = document.to_hex();
        self.audit
            .record(
                AuditEvent::success(events::REVOKE)
                    .actor(client_id)
                    .detail("document", id.as_str())
                    .detail("reason", reason_name(reason))
                    .detail("changed", expected.to_string()),
            )
            .await?;
        let rollback = |why: &str| {
            AuditEvent::failure(events::REVOKE)
                .actor(client_id)
                .detail("document", id.as_str())
                .detail("rolled_back", why)
        };
        let changed = match self.store.revoke_document(document, reason, now).await {
            Ok(changed) => changed,
            Err(e) => {
                let e = EngineError::from(e);
                // Only a record that claims a change needs its rollback.
                if expected {
                    self.audit.record(rollback(e.code().as_str())).await?;
                }
                return Err(e);
            }
        };
        if expected && !changed {
            self.audit.record(rollback(ALREADY_REVOKED)).await?;
        }
        if changed {
            self.publisher.invalidate();
            self.metrics
                .revocations
                .with_label_values(&[reason_name(reason)])
                .inc();
        }
        Ok(RevokeOutcome {
            changed,
            documents: u64::from(changed),
        })
    }

    /// Revokes a DS certificate (after the root revoked it): it never signs again, and every
    /// document with an MSO it signed is revoked (policy §4.4.1.2).
    ///
    /// Recorded before the transaction, as [`Issuer::revoke`] is; how many documents it revoked
    /// is in the answer (the record cannot know it yet).
    pub async fn revoke_ds(
        &self,
        client_id: &str,
        serial: &str,
        now: OffsetDateTime,
    ) -> Result<RevokeOutcome, EngineError> {
        let serial = serial.to_ascii_lowercase();
        // An unknown serial is refused before anything is recorded.
        self.store.ds_certificate(&serial).await?;
        self.audit
            .record(
                AuditEvent::success(events::REVOKE_DS)
                    .actor(client_id)
                    .detail("ds_serial", &serial),
            )
            .await?;
        // Stop signing with it first, before the store is touched.
        self.forget_ds(&serial)?;
        let documents = match self.store.revoke_by_ds(&serial, now).await {
            Ok(documents) => documents,
            Err(e) => {
                let e = EngineError::from(e);
                self.audit
                    .record(
                        AuditEvent::failure(events::REVOKE_DS)
                            .actor(client_id)
                            .detail("ds_serial", &serial)
                            .detail("rolled_back", e.code().as_str()),
                    )
                    .await?;
                return Err(e);
            }
        };
        self.publisher.invalidate();
        self.metrics
            .revocations
            .with_label_values(&["ds_revoked"])
            .inc_by(documents);
        tracing::warn!(ds_serial = %serial, documents, "DS certificate revoked with its documents");
        Ok(RevokeOutcome {
            changed: true,
            documents,
        })
    }
}
