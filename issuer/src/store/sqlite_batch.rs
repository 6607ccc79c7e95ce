//! Group commit for SQLite issuances of one MSO, OpenID4VCI code exchanges and DPoP proof
//! `jti`s, the hot paths of the service.
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for a disk flush. One
//! task owns the issuance writes: it takes every issuance queued while the previous batch was
//! being written and records them in one `BEGIN IMMEDIATE` transaction — each under its own
//! savepoint, so one issuance's failure (a reused nonce, a duplicate index) rolls back only that
//! issuance — and commits once. Each caller gets its own outcome only after the commit, so an
//! answered issuance is on disk exactly as before; under load the flush and the hand-offs to
//! the database thread are shared by the batch. An idle service sees batches of one, with the
//! same four round trips as a lone transaction.
//!
//! If the batch as a whole fails (the transaction cannot start or commit, or a savepoint cannot
//! be rolled back), nothing of it was committed and each issuance is retried alone, so each
//! caller gets the error its own issuance causes.

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::error::{Result, StoreError};
use super::model::{
    DsState, Idempotency, IssuanceRecord, MsoRecord, OutcomeKind, RecordOutcome, StoredResponse,
};
use super::offers::{redeem_on, Redeem, Redemption, JTI_INSERT};
use super::{secs, to_i64};

/// The most issuances committed together (bounds one batch's latency).
const MAX_BATCH: usize = 64;
/// Issuances waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 1024;

/// One issuance waiting to be written.
struct Job {
    record: IssuanceRecord,
    idempotency: Option<Idempotency>,
    response: StoredResponse,
    now: i64,
    reply: oneshot::Sender<Result<RecordOutcome>>,
}

/// What the writer task writes: issuances, pre-authorized code exchanges (each a few
/// statements on one offer row) and DPoP proof `jti`s (one insert), committed with the batch.
enum Work {
    Issue(Job),
    Redeem(Redeem, oneshot::Sender<Result<Redemption>>),
    Jti([u8; 32], i64, oneshot::Sender<Result<bool>>),
}

impl Work {
    /// Hands the job's outcome to its caller.
    fn answer(self, outcome: Done) {
        // A caller that gave up (client gone) does not undo its committed write; its audit
        // record was queued before the write was (and start-up recovers it if lost).
        match (self, outcome) {
            (Work::Issue(job), Done::Issued(o)) => {
                let _ = job.reply.send(o);
            }
            (Work::Redeem(_, reply), Done::Redeemed(o)) => {
                let _ = reply.send(o);
            }
            (Work::Jti(_, _, reply), Done::Jti(o)) => {
                let _ = reply.send(o);
            }
            // Outcomes are made from their own jobs, in order: never reached.
            (Work::Issue(job), _) => {
                let _ = job.reply.send(Err(StoreError::WriterStopped));
            }
            (Work::Redeem(_, reply), _) => {
                let _ = reply.send(Err(StoreError::WriterStopped));
            }
            (Work::Jti(_, _, reply), _) => {
                let _ = reply.send(Err(StoreError::WriterStopped));
            }
        }
    }
}

/// The handle to the issuance writer task. Cheap to clone; the task stops when the last handle
/// is dropped.
#[derive(Debug, Clone)]
pub(crate) struct IssuanceBatcher {
    jobs: mpsc::Sender<Work>,
}

impl IssuanceBatcher {
    /// Starts the writer task on the current Tokio runtime, writing through `pool` (the single
    /// writer connection, which other writes share between batches).
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        IssuanceBatcher { jobs }
    }

    /// Records a one-MSO issuance (`record.msos` has exactly one element) and waits for its
    /// commit. Same contract as [`Store::record_issuance`](super::Store::record_issuance).
    pub(crate) async fn record(
        &self,
        record: &IssuanceRecord,
        idempotency: Option<&Idempotency>,
        response: &StoredResponse,
        now: i64,
    ) -> Result<RecordOutcome> {
        let (reply, done) = oneshot::channel();
        let job = Job {
            record: record.clone(),
            idempotency: idempotency.cloned(),
            response: response.clone(),
            now,
            reply,
        };
        self.jobs
            .send(Work::Issue(job))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Exchanges a pre-authorized code and waits for the commit. Same contract as
    /// [`Store::redeem_pre_auth`](super::Store::redeem_pre_auth).
    pub(crate) async fn redeem(&self, redeem: Redeem) -> Result<Redemption> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Work::Redeem(redeem, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Records a DPoP proof's `jti` (by hash) until `expires_at`; false if it was already
    /// recorded. Same contract as [`Store::use_dpop_jti`](super::Store::use_dpop_jti).
    pub(crate) async fn use_jti(&self, sha256: [u8; 32], expires_at: i64) -> Result<bool> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Work::Jti(sha256, expires_at, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// The writer loop: one batch per wake-up, of everything queued (up to [`MAX_BATCH`]).
async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Work>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let outcomes = match write_batch(&pool, &jobs).await {
            Ok(outcomes) => outcomes,
            // A batch of one already had its own transaction.
            Err(e) if jobs.len() == 1 => jobs
                .first()
                .map(|job| vec![Done::failed(job, e)])
                .unwrap_or_default(),
            Err(_) => {
                // Nothing of the batch was committed: give each issuance its own transaction
                // and so its own precise outcome.
                let mut outcomes = Vec::with_capacity(jobs.len());
                for job in &jobs {
                    let alone = write_batch(&pool, std::slice::from_ref(job)).await;
                    outcomes.push(match alone {
                        Ok(mut one) => one
                            .pop()
                            .unwrap_or_else(|| Done::failed(job, StoreError::WriterStopped)),
                        Err(e) => Done::failed(job, e),
                    });
                }
                outcomes
            }
        };
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            job.answer(outcome);
        }
    }
}

/// Each job's own outcome.
enum Done {
    Issued(Result<RecordOutcome>),
    Redeemed(Result<Redemption>),
    Jti(Result<bool>),
}

impl Done {
    /// `job` failed with `e` (nothing of it committed).
    fn failed(job: &Work, e: StoreError) -> Self {
        match job {
            Work::Issue(_) => Done::Issued(Err(e)),
            Work::Redeem(..) => Done::Redeemed(Err(e)),
            Work::Jti(..) => Done::Jti(Err(e)),
        }
    }
}

/// Writes `jobs` in one transaction; the outer `Err` means nothing was committed.
async fn write_batch(pool: &SqlitePool, jobs: &[Work]) -> Result<Vec<Done>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(match job {
            Work::Issue(job) => Done::Issued(write_one(&mut tx, job).await?),
            // Its statements either all run or fail the batch (then it is retried alone).
            Work::Redeem(r, _) => Done::Redeemed(Ok(redeem_on(&mut tx, r).await?)),
            Work::Jti(sha256, expires_at, _) => Done::Jti(Ok(sqlx::query(JTI_INSERT)
                .bind(&sha256[..])
                .bind(*expires_at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1)),
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The single MSO of a job's record.
fn only_mso(record: &IssuanceRecord) -> Result<&MsoRecord> {
    match record.msos.as_slice() {
        [mso] => Ok(mso),
        _ => Err(StoreError::Invalid(
            "batched issuance must have exactly one MSO",
        )),
    }
}

/// Stored idempotency hash, outcome kind and body; nonce use count; the key's document; the
/// signing DS's state; the redeemed offer's state.
type CheckRow = (
    Option<Vec<u8>>,
    Option<String>,
    Option<Vec<u8>>,
    i64,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
);

/// Checks and writes one issuance inside the batch's transaction: the inner result is the
/// issuance's own outcome (its refusal leaves nothing behind), the outer `Err` a failure of the
/// whole batch.
async fn write_one(conn: &mut SqliteConnection, job: &Job) -> Result<Result<RecordOutcome>> {
    // Every check in one statement, so it costs one round trip.
    const CHECK: &str = "SELECT i.request_sha256, i.response_kind, i.response_body, \
         (SELECT COUNT(*) FROM used_nonces WHERE nonce_sha256 = $3), \
         (SELECT document_id FROM device_keys WHERE thumbprint = $4), \
         (SELECT state FROM ds_certificates WHERE serial = $6), \
         (SELECT state FROM credential_offers WHERE id = $7) \
         FROM (SELECT 1) LEFT JOIN idempotency i \
         ON i.client_id = $1 AND i.idem_key = $2 AND i.expires_at > $5";
    let (record, idempotency) = (&job.record, job.idempotency.as_ref());
    let m = match only_mso(record) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let (client, key) = idempotency.map_or(("", ""), |i| (i.client_id.as_str(), i.key.as_str()));
    let (hash, kind, body, used, owner, ds_state, offer_state): CheckRow = sqlx::query_as(CHECK)
        .bind(client)
        .bind(key)
        .bind(record.nonce.as_ref().map(|n| n.sha256.to_vec()))
        .bind(&m.device_key_thumbprint[..])
        .bind(job.now)
        .bind(&m.ds_serial)
        .bind(record.offer.as_ref().map(|o| o.id.to_vec()))
        .fetch_one(&mut *conn)
        .await?;
    if let (Some(idem), Some(hash)) = (idempotency, hash) {
        if hash.as_slice() != idem.request_hash.as_slice() {
            return Ok(Err(StoreError::Conflict));
        }
        return Ok(replayed(kind, body));
    }
    // A DS revocation committed while this MSO was signed (the batch's transaction keeps any
    // other from committing now): see `check_ds_not_revoked` in `issuance.rs`.
    if ds_state.as_deref() == Some(DsState::Revoked.as_str()) {
        return Ok(Err(StoreError::DsRevoked));
    }
    if used > 0 {
        return Ok(Err(StoreError::NonceReused));
    }
    // The batch's transaction holds the write lock, so the offer cannot change before the
    // write below closes it.
    if record.offer.is_some()
        && !matches!(offer_state.as_deref(), Some("redeemed") | Some("deferred"))
    {
        return Ok(Err(StoreError::OfferClosed));
    }
    if owner.is_some_and(|o| o.as_slice() != record.document.id.0.as_slice()) {
        return Ok(Err(StoreError::DeviceKeyInUse));
    }
    let index = match to_i64(m.status_index) {
        Ok(index) => index,
        Err(e) => return Ok(Err(e)),
    };
    match write_rows(conn, job, m, index).await {
        Ok(()) => Ok(Ok(RecordOutcome::Recorded)),
        Err(e) => {
            // Undo whatever part of the write ran; the batch goes on without this issuance.
            sqlx::query("ROLLBACK TO issuance; RELEASE issuance;")
                .execute(&mut *conn)
                .await?;
            Ok(Err(e))
        }
    }
}

/// The stored answer of an earlier identical request.
fn replayed(kind: Option<String>, body: Option<Vec<u8>>) -> Result<RecordOutcome> {
    let kind = kind.as_deref().and_then(OutcomeKind::parse);
    Ok(RecordOutcome::Replayed(StoredResponse {
        kind: kind.ok_or(StoreError::Corrupt("response kind"))?,
        body: body.ok_or(StoreError::Corrupt("response body"))?,
    }))
}

/// Every row of one issuance in one multi-statement call, under the savepoint `issuance`
/// (`$N` parameters bind by number in each statement of the call).
async fn write_rows(
    conn: &mut SqliteConnection,
    job: &Job,
    m: &MsoRecord,
    status_index: i64,
) -> Result<()> {
    const SAVEPOINT: &str = "SAVEPOINT issuance;";
    const WRITE_IDEMPOTENCY: &str = "INSERT INTO idempotency (client_id, idem_key, \
         request_sha256, response_kind, response_body, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id, idem_key) DO UPDATE SET \
         request_sha256 = excluded.request_sha256, response_kind = excluded.response_kind, \
         response_body = excluded.response_body, created_at = excluded.created_at, \
         expires_at = excluded.expires_at;";
    const WRITE_NONCE: &str = "INSERT INTO used_nonces (nonce_sha256, expires_at) VALUES ($8, $9);";
    const WRITE_DOCUMENT: &str = "INSERT INTO documents \
         (id, doctype, state, created_at, revoked_at, revocation_reason, applicant_ref, \
         client_id) VALUES ($10, $11, 'active', $12, NULL, NULL, $13, $22); \
         INSERT INTO device_keys (thumbprint, document_id) VALUES ($14, $10) \
         ON CONFLICT (thumbprint) DO NOTHING; \
         INSERT INTO msos (document_id, ds_serial, status_list_uri, status_index, identifier, \
         device_key_thumbprint, valid_from, valid_until, created_at, revoked_at) \
         VALUES ($10, $15, $16, $17, $18, $14, $19, $20, $21, NULL);";
    const CLOSE_OFFER: &str = "UPDATE credential_offers SET state = 'issued', \
         document_id = $10, notification_id = $24, updated_at = $6 WHERE id = $23;";
    const RELEASE: &str = "RELEASE issuance;";

    let (record, idempotency, response) = (&job.record, job.idempotency.as_ref(), &job.response);
    let doc = &record.document;
    let (client, key) = idempotency.map_or(("", ""), |i| (i.client_id.as_str(), i.key.as_str()));
    let mut sql = String::from(SAVEPOINT);
    if idempotency.is_some() {
        sql.push_str(WRITE_IDEMPOTENCY);
    }
    if record.nonce.is_some() {
        sql.push_str(WRITE_NONCE);
    }
    sql.push_str(WRITE_DOCUMENT);
    if record.offer.is_some() {
        sql.push_str(CLOSE_OFFER);
    }
    sql.push_str(RELEASE);
    sqlx::query(&sql)
        .bind(client)
        .bind(key)
        .bind(idempotency.map(|i| i.request_hash.to_vec()))
        .bind(response.kind.as_str())
        .bind(&response.body[..])
        .bind(job.now)
        .bind(idempotency.map(|i| secs(i.expires_at)))
        .bind(record.nonce.as_ref().map(|n| n.sha256.to_vec()))
        .bind(record.nonce.as_ref().map(|n| secs(n.expires_at)))
        .bind(&doc.id.0[..])
        .bind(&doc.doctype)
        .bind(secs(doc.created_at))
        .bind(&doc.applicant_ref[..])
        .bind(&m.device_key_thumbprint[..])
        .bind(&m.ds_serial)
        .bind(&m.status_list_uri)
        .bind(status_index)
        .bind(&m.identifier[..])
        .bind(secs(m.valid_from))
        .bind(secs(m.valid_until))
        .bind(secs(m.created_at))
        .bind(&doc.client_id)
        .bind(record.offer.as_ref().map(|o| o.id.to_vec()))
        .bind(record.offer.as_ref().map(|o| o.notification_id.clone()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
