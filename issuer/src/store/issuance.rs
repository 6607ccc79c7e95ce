//! Recording issuances and refreshes, with idempotency, and reading documents back.

use sqlx::Row;
use time::OffsetDateTime;

use super::error::{Result, StoreError};
use super::model::{
    Document, DocumentId, DocumentState, DsState, Idempotency, IssuanceRecord, MsoRecord,
    OutcomeKind, RecordOutcome, RevocationReason, StoredMso, StoredResponse, UsedNonce,
};
use super::{from_secs, in_tx, on_pool, on_read_pool, secs, to_array, to_i64, to_u64, Store};

const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency \
     (client_id, idem_key, request_sha256, response_kind, response_body, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id, idem_key) DO NOTHING";
const SELECT_IDEMPOTENCY: &str = "SELECT request_sha256, response_kind, response_body \
     FROM idempotency WHERE client_id = $1 AND idem_key = $2";
const REPLACE_IDEMPOTENCY: &str = "UPDATE idempotency SET request_sha256 = $3, \
     response_kind = $4, response_body = $5, created_at = $6, expires_at = $7 \
     WHERE client_id = $1 AND idem_key = $2 AND expires_at <= $6";
const INSERT_DOCUMENT: &str = "INSERT INTO documents \
     (id, doctype, state, created_at, revoked_at, revocation_reason, applicant_ref, client_id) \
     VALUES ($1, $2, 'active', $3, NULL, NULL, $4, $5)";
const INSERT_MSO: &str = "INSERT INTO msos (document_id, ds_serial, status_list_uri, \
     status_index, identifier, device_key_thumbprint, valid_from, valid_until, created_at, \
     revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)";
/// Closes the OpenID4VCI offer an issuance redeems (`$1` offer, `$2` document, `$3`
/// notification id, `$4` now); affects no row if the offer is no longer open.
pub(super) const CLOSE_OFFER: &str = "UPDATE credential_offers SET state = 'issued', \
     document_id = $2, notification_id = $3, updated_at = $4 \
     WHERE id = $1 AND state IN ('redeemed', 'deferred')";
pub(super) const INSERT_NONCE: &str =
    "INSERT INTO used_nonces (nonce_sha256, expires_at) VALUES ($1, $2) \
     ON CONFLICT (nonce_sha256) DO NOTHING";
/// Binds a key to a document, or (on conflict) returns the document it is already bound to,
/// in one statement: the no-op update makes `RETURNING` yield the existing row.
const BIND_DEVICE_KEY: &str = "INSERT INTO device_keys (thumbprint, document_id) VALUES ($1, $2) \
     ON CONFLICT (thumbprint) DO UPDATE SET thumbprint = excluded.thumbprint \
     RETURNING document_id";
const DEVICE_KEY_OWNER: &str = "SELECT document_id FROM device_keys WHERE thumbprint = $1";
/// The state of the DS that signed the MSOs, read under a lock `revoke_by_ds`'s update of the
/// same row waits for (and that waits for it): on PostgreSQL a `FOR SHARE` row lock; on SQLite
/// the write transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
const DS_STATE_PG: &str = "SELECT state FROM ds_certificates WHERE serial = $1 FOR SHARE";
const DS_STATE_SQLITE: &str = "SELECT state FROM ds_certificates WHERE serial = $1";
const LOCK_DOCUMENT: &str = "UPDATE documents SET state = state WHERE id = $1 RETURNING state";
const DOCUMENT_COLUMNS: &str =
    "id, doctype, state, created_at, revoked_at, revocation_reason, applicant_ref, client_id";
const MSO_COLUMNS: &str = "document_id, ds_serial, status_list_uri, status_index, identifier, \
     device_key_thumbprint, valid_from, valid_until, created_at, revoked_at";

/// Decodes a `documents` row selected with `DOCUMENT_COLUMNS`.
macro_rules! document_from_row {
    ($row:expr) => {{
        let row = $row;
        let state: String = row.try_get("state")?;
        let reason: Option<i64> = row.try_get("revocation_reason")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        Document {
            id: DocumentId(to_array(row.try_get("id")?, "document id")?),
            doctype: row.try_get("doctype")?,
            applicant_ref: to_array(row.try_get("applicant_ref")?, "applicant ref")?,
            created_at: from_secs(row.try_get("created_at")?)?,
            state: match state.as_str() {
                "active" => DocumentState::Active,
                "revoked" => DocumentState::Revoked,
                _ => return Err(StoreError::Corrupt("document state")),
            },
            revoked_at: revoked_at.map(from_secs).transpose()?,
            revocation_reason: match reason {
                Some(code) => Some(
                    RevocationReason::from_code(code)
                        .ok_or(StoreError::Corrupt("revocation reason"))?,
                ),
                None => None,
            },
            client_id: row.try_get("client_id")?,
        }
    }};
}

/// Decodes an `msos` row selected with `MSO_COLUMNS`.
macro_rules! mso_from_row {
    ($row:expr) => {{
        let row = $row;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        StoredMso {
            document_id: DocumentId(to_array(row.try_get("document_id")?, "document id")?),
            record: MsoRecord {
                ds_serial: row.try_get("ds_serial")?,
                status_list_uri: row.try_get("status_list_uri")?,
                status_index: to_u64(row.try_get("status_index")?)?,
                identifier: row.try_get("identifier")?,
                device_key_thumbprint: to_array(
                    row.try_get("device_key_thumbprint")?,
                    "device key thumbprint",
                )?,
                valid_from: from_secs(row.try_get("valid_from")?)?,
                valid_until: from_secs(row.try_get("valid_until")?)?,
                created_at: from_secs(row.try_get("created_at")?)?,
            },
            revoked_at: revoked_at.map(from_secs).transpose()?,
        }
    }};
}

/// Claims the idempotency key inside `$tx`. Evaluates to `Some(outcome)` when the request must
/// not be processed again (replay), `None` when the caller should go on and write.
macro_rules! claim_idempotency {
    ($tx:ident, $idem:expr, $response:expr, $now:expr) => {{
        match $idem {
            None => None,
            Some(idem) => {
                let kind = $response.kind.as_str();
                let inserted = sqlx::query(INSERT_IDEMPOTENCY)
                    .bind(&idem.client_id)
                    .bind(&idem.key)
                    .bind(&idem.request_hash[..])
                    .bind(kind)
                    .bind(&$response.body[..])
                    .bind($now)
                    .bind(secs(idem.expires_at))
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
                // An expired record frees the key: take it over. The condition is re-checked
                // under the row lock, so two concurrent takers cannot both win.
                let taken = if inserted == 1 {
                    1
                } else {
                    sqlx::query(REPLACE_IDEMPOTENCY)
                        .bind(&idem.client_id)
                        .bind(&idem.key)
                        .bind(&idem.request_hash[..])
                        .bind(kind)
                        .bind(&$response.body[..])
                        .bind($now)
                        .bind(secs(idem.expires_at))
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected()
                };
                if taken == 1 {
                    None
                } else {
                    let row = sqlx::query(SELECT_IDEMPOTENCY)
                        .bind(&idem.client_id)
                        .bind(&idem.key)
                        .fetch_one(&mut *$tx)
                        .await?;
                    let stored_hash: Vec<u8> = row.try_get("request_sha256")?;
                    if stored_hash.as_slice() == idem.request_hash.as_slice() {
                        let kind: String = row.try_get("response_kind")?;
                        Some(RecordOutcome::Replayed(StoredResponse {
                            kind: OutcomeKind::parse(&kind)
                                .ok_or(StoreError::Corrupt("response kind"))?,
                            body: row.try_get("response_body")?,
                        }))
                    } else {
                        return Err(StoreError::Conflict);
                    }
                }
            }
        }
    }};
}

/// Consumes the nonce `$nonce` (an `Option<UsedNonce>`) inside `$tx`: a nonce already used
/// fails the transaction with [`StoreError::NonceReused`].
macro_rules! consume_nonce {
    ($tx:ident, $nonce:expr) => {{
        let nonce: Option<&UsedNonce> = $nonce;
        if let Some(n) = nonce {
            let fresh = sqlx::query(INSERT_NONCE)
                .bind(&n.sha256[..])
                .bind(secs(n.expires_at))
                .execute(&mut *$tx)
                .await?
                .rows_affected();
            if fresh != 1 {
                return Err(StoreError::NonceReused);
            }
        }
    }};
}
pub(super) use consume_nonce;

/// Refuses, inside `$tx` and before anything is written, MSOs signed by a DS that is revoked:
/// a DS revocation that committed while they were being signed would otherwise miss them (its
/// documents revoked, these left valid). Lock order: this row first, as in `revoke_by_ds`, so
/// the two cannot deadlock.
macro_rules! check_ds_not_revoked {
    ($store:expr, $tx:ident, $msos:expr) => {{
        let sql = match $store.backend() {
            super::Backend::Postgres => DS_STATE_PG,
            super::Backend::Sqlite => DS_STATE_SQLITE,
        };
        let serials: std::collections::BTreeSet<&str> =
            $msos.iter().map(|m| m.ds_serial.as_str()).collect();
        for serial in serials {
            let state: Option<String> = sqlx::query_scalar(sql)
                .bind(serial)
                .fetch_optional(&mut *$tx)
                .await?;
            if state.as_deref() == Some(DsState::Revoked.as_str()) {
                return Err(StoreError::DsRevoked);
            }
        }
    }};
}

/// Inserts every MSO of `$msos` for document `$doc` inside `$tx`, binding each device key to
/// the document first: a key bound to another document fails the transaction with
/// [`StoreError::DeviceKeyInUse`] (the primary key serialises concurrent binders).
macro_rules! insert_msos {
    ($tx:ident, $doc:expr, $msos:expr) => {{
        for m in $msos {
            let owner: Vec<u8> = sqlx::query_scalar(BIND_DEVICE_KEY)
                .bind(&m.device_key_thumbprint[..])
                .bind(&$doc.0[..])
                .fetch_one(&mut *$tx)
                .await?;
            if owner.as_slice() != &$doc.0[..] {
                return Err(StoreError::DeviceKeyInUse);
            }
            sqlx::query(INSERT_MSO)
                .bind(&$doc.0[..])
                .bind(&m.ds_serial)
                .bind(&m.status_list_uri)
                .bind(to_i64(m.status_index)?)
                .bind(&m.identifier[..])
                .bind(&m.device_key_thumbprint[..])
                .bind(secs(m.valid_from))
                .bind(secs(m.valid_until))
                .bind(secs(m.created_at))
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

fn check_msos(msos: &[MsoRecord]) -> Result<()> {
    for m in msos {
        if m.valid_until < m.valid_from {
            return Err(StoreError::Invalid("MSO validUntil precedes validFrom"));
        }
        if m.identifier.is_empty() {
            return Err(StoreError::Invalid("empty MSO identifier"));
        }
        to_i64(m.status_index)?;
    }
    Ok(())
}

impl Store {
    /// Records a new document and its MSOs, all or nothing.
    ///
    /// With `idempotency`, the key is claimed in the same transaction: if this client already
    /// used the key (and the record has not expired) with the same request hash, nothing is
    /// written and the stored response is returned as [`RecordOutcome::Replayed`]; with a
    /// different request hash the call fails with [`StoreError::Conflict`]. Otherwise `response`
    /// is stored for later replays. A failure part-way (e.g. a duplicate MSO identifier or
    /// status index) leaves nothing behind, including the idempotency record.
    pub async fn record_issuance(
        &self,
        record: &IssuanceRecord,
        idempotency: Option<&Idempotency>,
        response: &StoredResponse,
    ) -> Result<RecordOutcome> {
        check_msos(&record.msos)?;
        let now = secs(OffsetDateTime::now_utc());
        match (&self.pools, record.msos.as_slice()) {
            (super::Pools::Sqlite { issuances, .. }, [_]) => {
                return issuances.record(record, idempotency, response, now).await;
            }
            (super::Pools::Postgres(pool), [m]) => {
                return record_one_pg(pool, record, m, idempotency, response, now).await;
            }
            _ => {}
        }
        let doc = &record.document;
        in_tx!(self, tx => {
            if let Some(replay) = claim_idempotency!(tx, idempotency, response, now) {
                return Ok(replay);
            }
            check_ds_not_revoked!(self, tx, &record.msos);
            consume_nonce!(tx, record.nonce.as_ref());
            sqlx::query(INSERT_DOCUMENT)
                .bind(&doc.id.0[..])
                .bind(&doc.doctype)
                .bind(secs(doc.created_at))
                .bind(&doc.applicant_ref[..])
                .bind(&doc.client_id)
                .execute(&mut *tx)
                .await?;
            insert_msos!(tx, doc.id, &record.msos);
            if let Some(offer) = &record.offer {
                let closed = sqlx::query(CLOSE_OFFER)
                    .bind(&offer.id[..])
                    .bind(&doc.id.0[..])
                    .bind(&offer.notification_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if closed != 1 {
                    return Err(StoreError::OfferClosed);
                }
            }
            Ok(RecordOutcome::Recorded)
        })
    }

    /// Records new MSOs for an existing, active document (refresh), all or nothing, with the
    /// same idempotency rules as [`Store::record_issuance`]. Fails with
    /// [`StoreError::NotFound`] for an unknown document and [`StoreError::Revoked`] for a
    /// revoked one (the revocation and the refresh are serialised on the document row).
    pub async fn record_refresh(
        &self,
        document: DocumentId,
        msos: &[MsoRecord],
        nonce: Option<&UsedNonce>,
        idempotency: Option<&Idempotency>,
        response: &StoredResponse,
    ) -> Result<RecordOutcome> {
        check_msos(msos)?;
        let now = secs(OffsetDateTime::now_utc());
        in_tx!(self, tx => {
            if let Some(replay) = claim_idempotency!(tx, idempotency, response, now) {
                return Ok(replay);
            }
            check_ds_not_revoked!(self, tx, msos);
            let state: Option<String> = sqlx::query_scalar(LOCK_DOCUMENT)
                .bind(&document.0[..])
                .fetch_optional(&mut *tx)
                .await?;
            match state.as_deref() {
                None => return Err(StoreError::NotFound("document")),
                Some("active") => {}
                Some(_) => return Err(StoreError::Revoked),
            }
            consume_nonce!(tx, nonce);
            insert_msos!(tx, document, msos);
            Ok(RecordOutcome::Recorded)
        })
    }

    /// The document with this id.
    pub async fn get_document(&self, id: DocumentId) -> Result<Document> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        on_read_pool!(self, pool => {
            let row = sqlx::query(&sql)
                .bind(&id.0[..])
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound("document"))?;
            Ok(document_from_row!(row))
        })
    }

    /// Documents of `doctype` issued for the applicant with this
    /// [`applicant_ref`](super::applicant_ref), oldest first (for refresh matching).
    pub async fn documents_by_applicant(
        &self,
        doctype: &str,
        applicant_ref: &[u8; 32],
    ) -> Result<Vec<Document>> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doctype = $1 AND applicant_ref = $2 \
             ORDER BY created_at, id"
        );
        on_read_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(doctype)
                .bind(&applicant_ref[..])
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(document_from_row!(row));
            }
            Ok(out)
        })
    }

    /// The MSOs of a document, in the order they were recorded. Fails with
    /// [`StoreError::NotFound`] if the document does not exist.
    pub async fn msos_of(&self, id: DocumentId) -> Result<Vec<StoredMso>> {
        let sql = format!("SELECT {MSO_COLUMNS} FROM msos WHERE document_id = $1 ORDER BY id");
        on_read_pool!(self, pool => {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE id = $1")
                .bind(&id.0[..])
                .fetch_one(pool)
                .await?;
            if count == 0 {
                return Err(StoreError::NotFound("document"));
            }
            let rows = sqlx::query(&sql).bind(&id.0[..]).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(mso_from_row!(row));
            }
            Ok(out)
        })
    }

    /// The stored response for a retried request, looked up before any work is done: `None`
    /// if this client has not used `key` (or its record expired), the stored response if it
    /// used it for the same request, [`StoreError::Conflict`] if for a different one.
    pub async fn idempotent_response(
        &self,
        client_id: &str,
        key: &str,
        request_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<Option<StoredResponse>> {
        let found: Option<(Vec<u8>, String, Vec<u8>)> = on_read_pool!(self, pool => {
            sqlx::query_as(
                "SELECT request_sha256, response_kind, response_body FROM idempotency \
                 WHERE client_id = $1 AND idem_key = $2 AND expires_at > $3",
            )
            .bind(client_id)
            .bind(key)
            .bind(secs(now))
            .fetch_optional(pool)
            .await?
        });
        let Some((stored_hash, kind, body)) = found else {
            return Ok(None);
        };
        if stored_hash.as_slice() != request_hash.as_slice() {
            return Err(StoreError::Conflict);
        }
        Ok(Some(StoredResponse {
            kind: OutcomeKind::parse(&kind).ok_or(StoreError::Corrupt("response kind"))?,
            body,
        }))
    }

    /// Whether the nonce with this SHA-256 was already consumed (a cheap pre-check; the
    /// issuance transaction settles races).
    pub async fn nonce_used(&self, sha256: &[u8; 32]) -> Result<bool> {
        let n: i64 = on_read_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM used_nonces WHERE nonce_sha256 = $1")
                .bind(&sha256[..])
                .fetch_one(pool)
                .await?
        });
        Ok(n > 0)
    }

    /// In one round trip for the usual single key: whether the nonce was used, and the
    /// document each device key (by thumbprint) is bound to.
    pub async fn precheck(
        &self,
        nonce_sha256: &[u8; 32],
        thumbprints: &[[u8; 32]],
    ) -> Result<(bool, Vec<Option<DocumentId>>)> {
        let Some((first, rest)) = thumbprints.split_first() else {
            return Ok((self.nonce_used(nonce_sha256).await?, Vec::new()));
        };
        let (used, owner): (i64, Option<Vec<u8>>) = on_read_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM used_nonces WHERE nonce_sha256 = $1), \
                 (SELECT document_id FROM device_keys WHERE thumbprint = $2)",
            )
            .bind(&nonce_sha256[..])
            .bind(&first[..])
            .fetch_one(pool)
            .await?
        });
        let mut owners = vec![owner
            .map(|o| Ok::<_, StoreError>(DocumentId(to_array(o, "document id")?)))
            .transpose()?];
        for t in rest {
            owners.push(self.device_key_owner(t).await?);
        }
        Ok((used > 0, owners))
    }

    /// The document a device key (by RFC 9679 thumbprint) is bound to, if any.
    pub async fn device_key_owner(&self, thumbprint: &[u8; 32]) -> Result<Option<DocumentId>> {
        let owner: Option<Vec<u8>> = on_read_pool!(self, pool => {
            sqlx::query_scalar(DEVICE_KEY_OWNER)
                .bind(&thumbprint[..])
                .fetch_optional(pool)
                .await?
        });
        owner
            .map(|o| Ok(DocumentId(to_array(o, "document id")?)))
            .transpose()
    }

    /// Deletes used nonces that expired before `now` (they can no longer verify anyway);
    /// returns how many.
    pub async fn purge_expired_nonces(&self, now: OffsetDateTime) -> Result<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("DELETE FROM used_nonces WHERE expires_at <= $1")
                .bind(secs(now))
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    /// Deletes idempotency records that expired before `now`; returns how many.
    pub async fn purge_expired_idempotency(&self, now: OffsetDateTime) -> Result<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("DELETE FROM idempotency WHERE expires_at <= $1")
                .bind(secs(now))
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}

/// What `record_one_issuance` answers: the outcome, and a replay's stored kind and body.
type OneIssuanceRow = (String, Option<String>, Option<Vec<u8>>);

/// Records a one-MSO issuance on PostgreSQL with one call of `record_one_issuance`
/// (`migrations/postgres/0009`): the statements of [`Store::record_issuance`]'s transaction, in
/// the same order, run by the server in one round trip and one commit. Its refusals come back
/// as its own SQLSTATEs, mapped here to the errors the transaction returns.
async fn record_one_pg(
    pool: &sqlx::PgPool,
    record: &IssuanceRecord,
    m: &MsoRecord,
    idempotency: Option<&Idempotency>,
    response: &StoredResponse,
    now: i64,
) -> Result<RecordOutcome> {
    const CALL: &str = "SELECT outcome, response_kind, response_body FROM record_one_issuance(\
         $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23, $24)";
    let doc = &record.document;
    let row: std::result::Result<OneIssuanceRow, sqlx::Error> = sqlx::query_as(CALL)
        .bind(idempotency.map(|i| i.client_id.as_str()))
        .bind(idempotency.map(|i| i.key.as_str()))
        .bind(idempotency.map(|i| &i.request_hash[..]))
        .bind(response.kind.as_str())
        .bind(&response.body[..])
        .bind(now)
        .bind(idempotency.map(|i| secs(i.expires_at)))
        .bind(record.nonce.as_ref().map(|n| &n.sha256[..]))
        .bind(record.nonce.as_ref().map(|n| secs(n.expires_at)))
        .bind(&doc.id.0[..])
        .bind(&doc.doctype)
        .bind(secs(doc.created_at))
        .bind(&doc.applicant_ref[..])
        .bind(&doc.client_id)
        .bind(&m.device_key_thumbprint[..])
        .bind(&m.ds_serial)
        .bind(&m.status_list_uri)
        .bind(to_i64(m.status_index)?)
        .bind(&m.identifier[..])
        .bind(secs(m.valid_from))
        .bind(secs(m.valid_until))
        .bind(secs(m.created_at))
        .bind(record.offer.as_ref().map(|o| &o.id[..]))
        .bind(record.offer.as_ref().map(|o| o.notification_id.as_str()))
        .fetch_one(pool)
        .await;
    let refusal = |e: &sqlx::Error| match e.as_database_error().and_then(|d| d.code()) {
        Some(code) => match code.as_ref() {
            "MDC01" => Some(StoreError::Conflict),
            "MDC02" => Some(StoreError::DsRevoked),
            "MDC03" => Some(StoreError::NonceReused),
            "MDC04" => Some(StoreError::DeviceKeyInUse),
            "MDC05" => Some(StoreError::OfferClosed),
            _ => None,
        },
        None => None,
    };
    match row {
        Ok((outcome, kind, body)) => match outcome.as_str() {
            "recorded" => Ok(RecordOutcome::Recorded),
            "replayed" => Ok(RecordOutcome::Replayed(StoredResponse {
                kind: kind
                    .as_deref()
                    .and_then(OutcomeKind::parse)
                    .ok_or(StoreError::Corrupt("response kind"))?,
                body: body.ok_or(StoreError::Corrupt("response body"))?,
            })),
            _ => Err(StoreError::Corrupt("issuance outcome")),
        },
        Err(e) => Err(refusal(&e).unwrap_or(StoreError::Db(e))),
    }
}
