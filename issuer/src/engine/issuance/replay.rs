//! Idempotent replay without storing the credential.
//!
//! A retried request (same client, same `Idempotency-Key`, same bytes) must get the same answer
//! and never cause a second issuance. Storing the answer would store the signed credential —
//! and with it the applicant's personal data — and, at about 30 KB per issuance, would also
//! dominate the database's write volume. Instead the store keeps a small sealed
//! [`ReplayRecord`]: the document id, validity, DS serial, status indices, each MSO's 32-byte
//! randomness seed and its signature. Because MSO construction is deterministic given the seed
//! (salts, digest IDs and order are drawn from `mso::issue::SeededRng`), the retry's own request
//! rebuilds exactly the same MSOs, the stored signatures complete them, and the answer is
//! byte-identical. Each rebuilt MSO's signature is verified under the DS key before it is
//! returned, so a rebuild that diverged could never hand out a broken credential.

use mso::cbor::{TDate, ToCbor};
use mso::crypto::Verifier as _;
use mso::model::ValidityInfo;
use mso::x509::Certificate;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::sealing::open;
use super::{Inputs, IssueOutcome, IssueResponse, RequestContext};
use crate::engine::errors::EngineError;
use crate::engine::issuer::Issuer;
use crate::store::{DocumentId, StoredResponse};

/// What a replay needs besides the retried request itself, sealed in the store as JSON.
///
/// Records sealed before migration 0004 also hold `status`, the HTTP status of the first
/// answer. It is ignored when reading (so those records still open and rebuild byte for byte);
/// what the request did is now kept beside the record, as the store's
/// [`OutcomeKind`](crate::store::OutcomeKind), which the migration derived from the same status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ReplayRecord {
    document_id: String,
    doctype: String,
    signed: i64,
    valid_until: i64,
    expected_update: Option<i64>,
    decoys: usize,
    ds_serial: String,
    list_uri: String,
    msos: Vec<ReplayMso>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReplayMso {
    idx: u64,
    seed: String,
    signature: String,
}

fn corrupt(what: &str) -> EngineError {
    EngineError::Internal(format!("stored replay record: {what}"))
}

fn time(secs: i64) -> Result<TDate, EngineError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map(TDate::new)
        .map_err(|_| corrupt("time out of range"))
}

impl ReplayRecord {
    /// The record of a signed answer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        document: DocumentId,
        doctype: &str,
        validity: ValidityInfo,
        decoys: usize,
        ds_serial: &str,
        list_uri: &str,
        indices: &[u64],
        seeds: &[[u8; 32]],
        signatures: &[Vec<u8>],
    ) -> Self {
        ReplayRecord {
            document_id: document.to_hex(),
            doctype: doctype.to_owned(),
            signed: validity.signed.datetime().unix_timestamp(),
            valid_until: validity.valid_until.datetime().unix_timestamp(),
            expected_update: validity
                .expected_update
                .map(|t| t.datetime().unix_timestamp()),
            decoys,
            ds_serial: ds_serial.to_owned(),
            list_uri: list_uri.to_owned(),
            msos: indices
                .iter()
                .zip(seeds)
                .zip(signatures)
                .map(|((&idx, seed), sig)| ReplayMso {
                    idx,
                    seed: hex::encode(seed),
                    signature: hex::encode(sig),
                })
                .collect(),
        }
    }

    /// The plaintext to seal.
    pub(super) fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        serde_json::to_vec(self).map_err(|e| EngineError::Internal(format!("replay record: {e}")))
    }

    /// A record from opened plaintext.
    fn from_bytes(plain: &[u8]) -> Result<Self, EngineError> {
        serde_json::from_slice(plain).map_err(|_| corrupt("not a replay record"))
    }
}

impl Issuer {
    /// The answer to a retry of an earlier identical request, if any: rebuilt byte for byte
    /// from the request and the stored replay record.
    pub(super) async fn replay(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
    ) -> Result<Option<IssueOutcome>, EngineError> {
        let Some(key) = cx.idempotency_key else {
            return Ok(None);
        };
        let hash = cx.request_hash();
        match self
            .store
            .idempotent_response(cx.client_id, key, &hash, cx.now)
            .await?
        {
            Some(stored) => Ok(Some(self.regenerate(cx, inputs, &stored).await?)),
            None => Ok(None),
        }
    }

    /// The earlier answer to this exact issuance request, if one was recorded under its
    /// idempotency key (`None` if none was; [`EngineError::IdempotencyConflict`] if the key
    /// holds a different request). Signs nothing.
    pub async fn replay_issue(
        &self,
        cx: RequestContext<'_>,
        req: &super::IssueRequest,
    ) -> Result<Option<IssueOutcome>, EngineError> {
        let inputs = Inputs {
            kind: crate::store::OutcomeKind::Issued,
            claims: &req.claims,
            device_keys: &req.device_keys,
        };
        self.replay(&cx, &inputs).await
    }

    /// Rebuilds the answer to a retried request from its stored replay record.
    pub(super) async fn regenerate(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        stored: &StoredResponse,
    ) -> Result<IssueOutcome, EngineError> {
        // The record opens only for the same route, so it was stored by the same kind of
        // request; anything else is a damaged record, not an answer to give.
        if stored.kind != inputs.kind {
            return Err(corrupt("it answers another kind of request"));
        }
        // The request that stored this answer queued its audit record before committing and
        // may still be waiting for it: the answer leaves only once that record is on disk.
        self.audit.barrier().await?;
        let plain = open(&self.secret, cx, &stored.body)?;
        let rec = ReplayRecord::from_bytes(&plain)?;
        // The request's hash matched the recorded one: these are the claims accepted then,
        // taken as they were even if an image policy tightened since.
        let validated = self.validate_as(&rec.doctype, inputs.claims, true)?;
        let keys = self.parse_device_keys(inputs.device_keys)?;
        if keys.len() != rec.msos.len() {
            return Err(corrupt("MSO count differs from the request"));
        }
        let ds = self.store.ds_certificate(&rec.ds_serial).await?;
        let cert = Certificate::from_der(&ds.der).map_err(|_| corrupt("DS certificate"))?;
        let ds_key = cert.public_key().map_err(|_| corrupt("DS key"))?;
        let alg = ds_key.curve().algorithm();
        let signed = time(rec.signed)?;
        let validity = ValidityInfo {
            signed,
            valid_from: signed,
            valid_until: time(rec.valid_until)?,
            expected_update: rec.expected_update.map(time).transpose()?,
        };
        let mut indices = Vec::with_capacity(rec.msos.len());
        let mut seeds = Vec::with_capacity(rec.msos.len());
        let mut signatures = Vec::with_capacity(rec.msos.len());
        for m in &rec.msos {
            indices.push(m.idx);
            let seed: [u8; 32] = hex::decode(&m.seed)
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| corrupt("seed"))?;
            seeds.push(seed);
            signatures.push(hex::decode(&m.signature).map_err(|_| corrupt("signature"))?);
        }
        let prepared = self.prepare_all(
            &validated,
            &keys,
            &ds.der,
            alg,
            validity,
            rec.decoys,
            &rec.list_uri,
            &indices,
            &seeds,
        )?;
        let mut out = Vec::with_capacity(prepared.len());
        for (p, sig) in prepared.into_iter().zip(signatures) {
            self.verifier
                .verify(alg, &ds_key, p.to_be_signed(), &sig)
                .map_err(|_| corrupt("the rebuilt MSO does not match its signature"))?;
            let issued = p
                .complete(sig)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            out.push(mso::cbor::encode_value(&issued.to_value()));
        }
        let credentials = self.credentials(
            out,
            &keys,
            &rec.ds_serial,
            validity,
            &rec.list_uri,
            &indices,
        )?;
        Ok(IssueOutcome::Replayed {
            original: stored.kind,
            response: IssueResponse {
                document_id: rec.document_id,
                doctype: rec.doctype,
                credentials,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn record() -> ReplayRecord {
        let t = TDate::new(OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap());
        let validity = ValidityInfo {
            signed: t,
            valid_from: t,
            valid_until: t,
            expected_update: None,
        };
        ReplayRecord::new(
            DocumentId([7; 16]),
            "org.iso.18013.5.1.mDL",
            validity,
            0,
            "0a",
            "https://issuer.example/v1/status-lists/1",
            &[3],
            &[[1; 32]],
            &[vec![2; 64]],
        )
    }

    #[test]
    fn records_sealed_before_migration_0004_still_read() {
        let rec = record();
        let mut old: serde_json::Value = serde_json::from_slice(&rec.to_bytes().unwrap()).unwrap();
        // Schema-0003 code wrote the HTTP status of the first answer into the record.
        old["status"] = 201.into();
        let old = serde_json::to_vec(&old).unwrap();
        assert_eq!(ReplayRecord::from_bytes(&old).unwrap(), rec);
    }

    #[test]
    fn new_records_hold_no_http_status() {
        let v: serde_json::Value = serde_json::from_slice(&record().to_bytes().unwrap()).unwrap();
        assert!(v.get("status").is_none(), "{v}");
    }
}
