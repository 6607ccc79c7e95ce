//! Revoking documents and DS certificates.

use custody::audit::AuditEvent;
use time::OffsetDateTime;

use super::errors::EngineError;
use super::issuer::Issuer;
use crate::audit::events;
use crate::store::{Document, DocumentId, RevocationReason};

/// What a revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeOutcome {
    /// Whether this call changed anything (revoking twice is not an error).
    pub changed: bool,
    /// Documents revoked by this call (DS revocation).
    pub documents: u64,
}

/// Parses a revocation reason name.
pub fn parse_reason(name: &str) -> Option<RevocationReason> {
    Some(match name {
        "unspecified" => RevocationReason::Unspecified,
        "key_compromise" => RevocationReason::KeyCompromise,
        "superseded" => RevocationReason::Superseded,
        "cessation_of_operation" => RevocationReason::CessationOfOperation,
        "holder_request" => RevocationReason::HolderRequest,
        _ => return None,
    })
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
        let changed = self.store.revoke_document(document, reason, now).await?;
        if changed {
            self.publisher.invalidate();
            self.metrics
                .revocations
                .with_label_values(&[reason_name(reason)])
                .inc();
        }
        self.audit
            .record(
                AuditEvent::success(events::REVOKE)
                    .actor(client_id)
                    .detail("document", document.to_hex())
                    .detail("reason", reason_name(reason))
                    .detail("changed", changed.to_string()),
            )
            .await?;
        Ok(RevokeOutcome {
            changed,
            documents: u64::from(changed),
        })
    }

    /// Revokes a DS certificate (after the root revoked it): it never signs again, and every
    /// document with an MSO it signed is revoked (policy §4.4.1.2).
    pub async fn revoke_ds(
        &self,
        client_id: &str,
        serial: &str,
        now: OffsetDateTime,
    ) -> Result<RevokeOutcome, EngineError> {
        let serial = serial.to_ascii_lowercase();
        // Stop signing with it first, before the store is touched.
        self.forget_ds(&serial)?;
        let documents = self.store.revoke_by_ds(&serial, now).await?;
        self.publisher.invalidate();
        self.metrics
            .revocations
            .with_label_values(&["ds_revoked"])
            .inc_by(documents);
        self.audit
            .record(
                AuditEvent::success(events::REVOKE_DS)
                    .actor(client_id)
                    .detail("ds_serial", &serial)
                    .detail("documents", documents.to_string()),
            )
            .await?;
        Ok(RevokeOutcome {
            changed: true,
            documents,
        })
    }
}
