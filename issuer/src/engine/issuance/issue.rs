//! The order of work of an issuance or a refresh, and its transaction.

use custody::audit::AuditEvent;
use mso::crypto::PublicKey;
use mso::status::cose_key_thumbprint;
use schemas::Validated;
use time::Duration;

use super::replay::ReplayRecord;
use super::sealing::seal;
use super::{
    DeviceKeyInput, Inputs, IssueOutcome, IssueRequest, IssueResponse, RefreshRequest,
    RequestContext,
};
use crate::audit::events;
use crate::engine::errors::EngineError;
use crate::engine::issuer::Issuer;
use crate::store::{
    DocumentId, DocumentState, Idempotency, IssuanceRecord, MsoRecord, NewDocument, OutcomeKind,
    RecordOutcome, StoredResponse, UsedNonce,
};

impl Issuer {
    /// The idempotency record for this request, if a key was given.
    fn idempotency(&self, cx: &RequestContext<'_>) -> Option<Idempotency> {
        let key = cx.idempotency_key?;
        let ttl = i64::try_from(self.config.issuance.idempotency_ttl_secs).unwrap_or(86400);
        Some(Idempotency {
            client_id: cx.client_id.to_owned(),
            key: key.to_owned(),
            request_hash: cx.request_hash(),
            expires_at: cx.now.saturating_add(Duration::seconds(ttl)),
        })
    }

    /// Refuses a nonce already consumed or a key bound to a document other than `document`,
    /// before anything is signed (the transaction checks both again, race free). A concurrent
    /// twin of this request may have just committed: then its answer is the answer.
    async fn precheck(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        nonce: Option<&UsedNonce>,
        keys: &[PublicKey],
        document: Option<DocumentId>,
    ) -> Result<Option<IssueOutcome>, EngineError> {
        let thumbprints: Vec<[u8; 32]> = keys.iter().map(cose_key_thumbprint).collect();
        let (used, owners) = match nonce {
            Some(n) => self.store.precheck(&n.sha256, &thumbprints).await?,
            None => {
                let mut owners = Vec::with_capacity(thumbprints.len());
                for t in &thumbprints {
                    owners.push(self.store.device_key_owner(t).await?);
                }
                (false, owners)
            }
        };
        let refusal = if used {
            Some(EngineError::NonceReused)
        } else {
            owners
                .iter()
                .position(|o| o.is_some_and(|o| Some(o) != document))
                .map(|i| EngineError::DeviceKeyInUse(Some(i)))
        };
        let Some(refusal) = refusal else {
            return Ok(None);
        };
        if let Some(replayed) = self.replay(cx, inputs).await? {
            return Ok(Some(replayed));
        }
        // The key may be bound because this very nonce's issuance won the race.
        if let Some(n) = nonce {
            if self.store.nonce_used(&n.sha256).await? {
                return Err(EngineError::NonceReused);
            }
        }
        Err(refusal)
    }

    /// Signs one MSO per key for `document` and commits it with its audit record: a new
    /// document or a refresh of an existing one, as `inputs.kind` says.
    #[allow(clippy::too_many_arguments)]
    async fn sign_and_commit(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        validated: &Validated,
        keys: &[PublicKey],
        nonce: Option<UsedNonce>,
        document: DocumentId,
        doctype: &str,
    ) -> Result<IssueOutcome, EngineError> {
        let kind = inputs.kind;
        let ds = self.signing_ds(cx.now)?;
        Self::check_ds_consistency(validated, &ds)?;
        let validity = self.validity(doctype, &ds, cx.now)?;
        let n = u64::try_from(keys.len()).map_err(|e| EngineError::Internal(e.to_string()))?;
        let (list_uri, indices) = self.allocate(n).await?;
        let seeds = (0..keys.len())
            .map(|_| crate::store::random_bytes::<32>())
            .collect::<Result<Vec<_>, _>>()?;
        let decoys = self.config.issuance.decoys;
        let prepared = self.prepare_all(
            validated,
            keys,
            ds.cert.der(),
            ds.signer.algorithm(),
            validity,
            decoys,
            &list_uri,
            &indices,
            &seeds,
        )?;
        let (signed, signatures) = self.sign_prepared(prepared, &ds).await?;
        let credentials =
            self.credentials(signed, keys, &ds.serial, validity, &list_uri, &indices)?;
        let msos: Vec<MsoRecord> = keys
            .iter()
            .zip(&indices)
            .map(|(key, &idx)| {
                let thumbprint = cose_key_thumbprint(key);
                MsoRecord {
                    ds_serial: ds.serial.clone(),
                    status_list_uri: list_uri.clone(),
                    status_index: idx,
                    identifier: thumbprint.to_vec(),
                    device_key_thumbprint: thumbprint,
                    valid_from: validity.valid_from.datetime(),
                    valid_until: validity.valid_until.datetime(),
                    created_at: validity.signed.datetime(),
                }
            })
            .collect();
        let response = IssueResponse {
            document_id: document.to_hex(),
            doctype: doctype.to_owned(),
            credentials,
        };
        let replay = ReplayRecord::new(
            document,
            doctype,
            validity,
            decoys,
            &ds.serial,
            &list_uri,
            &indices,
            &seeds,
            &signatures,
        );
        let (event, label) = match kind {
            OutcomeKind::Issued => (events::ISSUE, "issue"),
            OutcomeKind::Refreshed => (events::REFRESH, "refresh"),
        };
        let audit = AuditEvent::success(event)
            .actor(cx.client_id)
            .detail("document", document.to_hex())
            .detail("doctype", doctype)
            .detail("ds_serial", &ds.serial)
            .detail("msos", n.to_string())
            .detail("status_list", &list_uri)
            .detail(
                "status_indices",
                indices
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        let (stored, idem) = self.to_store(cx, &replay, kind)?;
        // The record is queued before the transaction begins and the answer waits for both:
        // the log's fsync and the database's commit overlap instead of following each other.
        // A crash between them leaves a committed change without its record, which start-up
        // reconciliation writes (`reconcile`); a replay of this answer first waits for the
        // records queued before it (`regenerate`).
        let audited = self.audit.submit(audit).await?;
        let result = match kind {
            OutcomeKind::Refreshed => {
                self.store
                    .record_refresh(document, &msos, nonce.as_ref(), idem.as_ref(), &stored)
                    .await
            }
            OutcomeKind::Issued => {
                let record = IssuanceRecord {
                    document: NewDocument {
                        id: document,
                        doctype: doctype.to_owned(),
                        applicant_ref: self.applicant_ref(validated),
                        created_at: validity.signed.datetime(),
                        client_id: cx.client_id.to_owned(),
                    },
                    msos,
                    nonce,
                    offer: cx.offer.cloned(),
                };
                self.store
                    .record_issuance(&record, idem.as_ref(), &stored)
                    .await
            }
        };
        if let Err(e) = audited.written().await {
            if matches!(result, Ok(RecordOutcome::Recorded)) {
                // Committed without its record: nothing more may happen until a restart has
                // reconciled, and this answer is not given (a retry replays it then).
                self.audit.fence();
                tracing::error!(
                    document = %document.to_hex(),
                    error = %e,
                    "an issuance was committed but its audit record was not written: \
                     the audit log is fenced until restart"
                );
            }
            return Err(e.into());
        }
        let outcome = self
            .finish(cx, inputs, result, event, &document.to_hex(), response)
            .await?;
        if !matches!(outcome, IssueOutcome::Replayed { .. }) {
            self.metrics
                .msos_signed
                .with_label_values(&[doctype, label])
                .inc_by(n);
        }
        Ok(outcome)
    }

    /// Issues a new document: one MSO per device key.
    pub async fn issue(
        &self,
        cx: RequestContext<'_>,
        req: &IssueRequest,
    ) -> Result<IssueOutcome, EngineError> {
        self.check_issuance_allowed().await?;
        let inputs = Inputs {
            kind: OutcomeKind::Issued,
            claims: &req.claims,
            device_keys: &req.device_keys,
        };
        match self.issue_new(&cx, &inputs, req).await {
            Err(e) if e.is_client_error() => self.replay_or(&cx, &inputs, e).await,
            other => other,
        }
    }

    /// A refused request may be the retry of one that succeeded (its nonce is used now, or
    /// expired): then the earlier answer is the answer. Retries are rare, so the lookup is
    /// made only on refusal, not on every request.
    async fn replay_or(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        refusal: EngineError,
    ) -> Result<IssueOutcome, EngineError> {
        match self.replay(cx, inputs).await {
            Ok(Some(replayed)) => Ok(replayed),
            Ok(None) => Err(refusal),
            // A different request under the same key: that is the client's real error.
            Err(EngineError::IdempotencyConflict) => Err(EngineError::IdempotencyConflict),
            Err(_) => Err(refusal),
        }
    }

    async fn issue_new(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        req: &IssueRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let cx = *cx;
        let inputs = *inputs;
        let validated = self.validate(&req.doctype, &req.claims)?;
        let nonce = self
            .nonces
            .check(&req.nonce, cx.now)
            .map_err(EngineError::Nonce)?;
        let keys = self.device_keys(&req.device_keys, &req.nonce, cx.now)?;
        if let Some(replayed) = self
            .precheck(&cx, &inputs, Some(&nonce), &keys, None)
            .await?
        {
            return Ok(replayed);
        }
        let id = DocumentId::random()?;
        self.sign_and_commit(
            &cx,
            &inputs,
            &validated,
            &keys,
            Some(nonce),
            id,
            &req.doctype,
        )
        .await
    }

    /// Issues a new document to device keys whose possession was proven earlier (a deferred
    /// OpenID4VCI request: its proofs were checked and its nonce consumed when it was
    /// accepted). Each entry of `device_keys` must carry a `cose_key`; proofs are not read.
    pub async fn issue_bound(
        &self,
        cx: RequestContext<'_>,
        doctype: &str,
        claims: &serde_json::Value,
        device_keys: &[DeviceKeyInput],
    ) -> Result<IssueOutcome, EngineError> {
        self.check_issuance_allowed().await?;
        let inputs = Inputs {
            kind: OutcomeKind::Issued,
            claims,
            device_keys,
        };
        let attempt = async {
            let validated = self.validate(doctype, claims)?;
            if device_keys.iter().any(|k| k.cose_key.is_none()) {
                return Err(EngineError::Internal("bound keys without cose_key".into()));
            }
            let keys = self.parse_device_keys(device_keys)?;
            if let Some(replayed) = self.precheck(&cx, &inputs, None, &keys, None).await? {
                return Ok(replayed);
            }
            let id = DocumentId::random()?;
            self.sign_and_commit(&cx, &inputs, &validated, &keys, None, id, doctype)
                .await
        };
        match attempt.await {
            Err(e) if e.is_client_error() => self.replay_or(&cx, &inputs, e).await,
            other => other,
        }
    }

    /// Signs new MSOs for an existing active document, with new validity. The claims must be
    /// the ones the document was issued with (checked through the applicant reference).
    pub async fn refresh(
        &self,
        cx: RequestContext<'_>,
        document: DocumentId,
        req: &RefreshRequest,
    ) -> Result<IssueOutcome, EngineError> {
        self.check_issuance_allowed().await?;
        let inputs = Inputs {
            kind: OutcomeKind::Refreshed,
            claims: &req.claims,
            device_keys: &req.device_keys,
        };
        match self.refresh_existing(&cx, &inputs, document, req).await {
            Err(e) if e.is_client_error() => self.replay_or(&cx, &inputs, e).await,
            other => other,
        }
    }

    async fn refresh_existing(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        document: DocumentId,
        req: &RefreshRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let cx = *cx;
        let inputs = *inputs;
        let doc = self.store.get_document(document).await?;
        // Another client's document is answered as unknown, so ids cannot be probed.
        if !self.may_access(&doc, cx.client_id, cx.admin) {
            return Err(EngineError::NotFound("document"));
        }
        if doc.state == DocumentState::Revoked {
            return Err(EngineError::Revoked);
        }
        let validated = self.validate(&doc.doctype, &req.claims)?;
        if self.applicant_ref(&validated) != doc.applicant_ref {
            return Err(EngineError::ApplicantMismatch);
        }
        let nonce = self
            .nonces
            .check(&req.nonce, cx.now)
            .map_err(EngineError::Nonce)?;
        let keys = self.device_keys(&req.device_keys, &req.nonce, cx.now)?;
        if let Some(replayed) = self
            .precheck(&cx, &inputs, Some(&nonce), &keys, Some(document))
            .await?
        {
            return Ok(replayed);
        }
        self.sign_and_commit(
            &cx,
            &inputs,
            &validated,
            &keys,
            Some(nonce),
            document,
            &doc.doctype,
        )
        .await
    }

    /// The sealed replay record and idempotency record to store with the transaction.
    fn to_store(
        &self,
        cx: &RequestContext<'_>,
        replay: &ReplayRecord,
        kind: OutcomeKind,
    ) -> Result<(StoredResponse, Option<Idempotency>), EngineError> {
        let plain = replay.to_bytes()?;
        let sealed = seal(&self.secret, cx, &plain)?;
        Ok((StoredResponse { kind, body: sealed }, self.idempotency(cx)))
    }

    /// Turns the store's answer into the outcome. The audit record of the operation is on
    /// disk by now; if the transaction did not record (a concurrent identical request won,
    /// or it failed), a second record says the first was rolled back. So no signed MSO
    /// leaves the service without its audit record on disk.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        result: crate::store::Result<RecordOutcome>,
        event: &str,
        document: &str,
        response: IssueResponse,
    ) -> Result<IssueOutcome, EngineError> {
        let rollback = |reason: &str| {
            AuditEvent::failure(event)
                .actor(cx.client_id)
                .detail("document", document)
                .detail("rolled_back", reason)
        };
        match result {
            Ok(RecordOutcome::Recorded) => Ok(IssueOutcome::first(inputs.kind, response)),
            Ok(RecordOutcome::Replayed(earlier)) => {
                self.audit.record(rollback("idempotent_replay")).await?;
                self.regenerate(cx, inputs, &earlier).await
            }
            Err(e) => {
                let e = EngineError::from(e);
                self.audit.record(rollback(e.code().as_str())).await?;
                Err(e)
            }
        }
    }
}
