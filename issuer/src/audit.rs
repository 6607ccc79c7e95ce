//! The service's side of the shared hash-chained audit log ([`custody::audit`]).
//!
//! One thread owns the log file and appends records in arrival order; request handlers send
//! events and wait until the record is on disk (records queued together are written and
//! `fsync`ed together), so an answered request always has its audit record. Records name
//! clients, documents, doc types, DS serials and error codes — never personal data, element
//! values, tokens or keys.
//!
//! With a TSA configured (`audit.tsa_url`), checkpoints are time-stamped (RFC 3161; at most one
//! token per `audit.tsa_interval_secs`, see [`Tsa::with_interval`]): the
//! request is POSTed from the async side, so the writer never waits on the network, and the
//! writer verifies the reply against the TSA trust anchors and appends it after the checkpoint
//! ([`custody::timestamp::anchor`]). A TSA that is down or answers wrongly is logged and counted
//! (`mdoc_issuer_audit_timestamp_failures_total`); issuance goes on and the checkpoint stays.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use custody::audit::{AuditEvent, AuditLog};
use custody::timestamp::anchor::{self, CheckpointRef};
use custody::timestamp::{TimeStampError, TimeStampRequest, TsaTrust, MAX_RESPONSE_LEN};
use der::asn1::ObjectIdentifier;
use mso::crypto::Signer;
use prometheus::IntCounter;
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// Event types written by the issuer.
pub mod events {
    /// A document was issued.
    pub const ISSUE: &str = "issuer.issue";
    /// New MSOs were signed for an existing document.
    pub const REFRESH: &str = "issuer.refresh";
    /// A request was refused (validation, proof, authentication, scope, rate limit...).
    pub const REFUSAL: &str = "issuer.refusal";
    /// A document was revoked.
    pub const REVOKE: &str = "issuer.revoke";
    /// A DS certificate was revoked, with every document it signed.
    pub const REVOKE_DS: &str = "issuer.revoke_ds";
    /// A CRL of one of the issuer's roots was applied (with the DS serials it revoked).
    pub const CRL_INTAKE: &str = "issuer.crl_intake";
    /// The service started.
    pub const START: &str = "issuer.start";
    /// Every MSO up to a row id has its record before this one (start-up reconciliation's
    /// lower bound while the start record is in an older segment).
    pub const MARK: &str = "issuer.mark";
    /// The service stopped.
    pub const STOP: &str = "issuer.stop";
    /// An admin suspended new issuance (the emergency stop).
    pub const ISSUANCE_SUSPEND: &str = "issuer.issuance_suspend";
    /// An admin resumed new issuance.
    pub const ISSUANCE_RESUME: &str = "issuer.issuance_resume";
    /// `mdoc-issuer audit repair` cut a torn final record.
    pub const AUDIT_REPAIR: &str = "issuer.audit_repair";
    /// A portal made an OpenID4VCI credential offer.
    pub const OFFER_CREATE: &str = "issuer.offer_create";
    /// A wallet pushed an authorization request (RFC 9126).
    pub const AUTHORIZATION_PUSH: &str = "issuer.authorization_push";
    /// The portal approved an authorization request in its hand-off: a code was issued.
    pub const AUTHORIZATION_APPROVE: &str = "issuer.authorization_approve";
    /// The portal refused an authorization request in its hand-off.
    pub const AUTHORIZATION_DENY: &str = "issuer.authorization_deny";
    /// A portal gave a pending offer its applicant record.
    pub const OFFER_CLAIMS: &str = "issuer.offer_claims";
    /// A portal withdrew an offer.
    pub const OFFER_WITHDRAW: &str = "issuer.offer_withdraw";
    /// A wallet redeemed an offer's code at the token endpoint (or was refused).
    pub const TOKEN: &str = "issuer.token";
    /// A credential request was accepted for deferred issuance.
    pub const DEFER: &str = "issuer.defer";
    /// A wallet's OpenID4VCI request was refused (the error code the specification names).
    pub const VCI_REFUSAL: &str = "issuer.vci_refusal";
    /// A wallet sent a notification (credential accepted, failure or deleted).
    pub const NOTIFICATION: &str = "issuer.notification";
}

/// The SHA-256 (hex) of operator or client text that the log must not carry verbatim.
pub fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The audit log could not record an event.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Opening or appending failed (the message is the log's own error).
    #[error("audit log: {0}")]
    Log(String),
    /// The writer thread is gone.
    #[error("audit writer stopped")]
    Stopped,
    /// A committed change lost its record (see [`Audit::fence`]): nothing more is recorded
    /// until a restart has reconciled the log with the database.
    #[error("audit log fenced after a lost record; restart the service to reconcile")]
    Fenced,
}

type Reply = oneshot::Sender<Result<u64, String>>;

/// What the writer thread is asked to do.
enum Job {
    /// Append a record.
    Append(AuditEvent, Reply),
    /// Sign a checkpoint over the records since the last one (answers `None` when there are
    /// none, or no checkpoint key).
    Checkpoint(oneshot::Sender<Result<Option<CheckpointRef>, String>>),
    /// Verify a TSA's reply for a checkpoint and append its time-stamp record.
    Timestamp(Box<Stamp>, Reply),
    /// Answer once every record queued before it is on disk (an error if one could not be
    /// written: a failed write leaves the log refusing appends).
    Barrier(oneshot::Sender<Result<(), String>>),
}

/// A TSA's reply to the request for a checkpoint.
struct Stamp {
    checkpoint: CheckpointRef,
    request: TimeStampRequest,
    response: Vec<u8>,
}

/// An RFC 3161 time-stamping authority over HTTP (§3.4): the request is POSTed as
/// `application/timestamp-query`, the reply must come back as `application/timestamp-reply`.
#[derive(Debug)]
pub struct Tsa {
    url: String,
    trust: TsaTrust,
    policy: Option<ObjectIdentifier>,
    client: reqwest::Client,
    interval: Duration,
}

impl Tsa {
    /// A TSA at `url` whose tokens verify under `trust`, asked for `policy` when given (and
    /// then only tokens under it are accepted), each exchange bounded by `timeout`.
    pub fn new(
        url: String,
        trust: TsaTrust,
        policy: Option<ObjectIdentifier>,
        timeout: Duration,
    ) -> Result<Self, AuditError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| AuditError::Log(format!("TSA client: {e}")))?;
        let trust = match policy {
            Some(p) => trust.with_policies(vec![p]),
            None => trust,
        };
        Ok(Tsa {
            url,
            trust,
            policy,
            client,
            interval: Duration::ZERO,
        })
    }

    /// Time-stamps a checkpoint only when the last token is at least `interval` old (a token
    /// with its chain is a few KiB: one a minute would grow the log by over a GiB a year). The
    /// checkpoints in between are covered by the next token, which commits to them.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// POSTs a DER TimeStampReq; returns the DER TimeStampResp (size-bounded).
    pub async fn post(&self, request: &[u8]) -> Result<Vec<u8>, TimeStampError> {
        let transport = |e: reqwest::Error| TimeStampError::Transport(e.to_string());
        let mut response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .body(request.to_vec())
            .send()
            .await
            .map_err(transport)?;
        if !response.status().is_success() {
            return Err(TimeStampError::Transport(format!(
                "HTTP status {}",
                response.status()
            )));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type != "application/timestamp-reply" {
            return Err(TimeStampError::Transport(format!(
                "content type {content_type:?}, expected application/timestamp-reply"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_RESPONSE_LEN {
                return Err(TimeStampError::TooLarge {
                    what: "time-stamp response",
                    size: body.len() + chunk.len(),
                    limit: MAX_RESPONSE_LEN,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The most records written by one flush (bounds a batch's latency and memory).
const MAX_BATCH: usize = 256;

/// The TSA `[audit]` configures, if any: `tsa_url` with `tsa_trust_anchors` (PEM), optional
/// `tsa_policy`, `tsa_timeout_secs`, `tsa_interval_secs`.
pub fn tsa_from_config(config: &crate::config::AuditConfig) -> Result<Option<Tsa>, AuditError> {
    let Some(url) = &config.tsa_url else {
        return Ok(None);
    };
    let anchors = config.tsa_trust_anchors.as_ref().ok_or_else(|| {
        AuditError::Log("audit.tsa_url needs audit.tsa_trust_anchors (PEM)".to_owned())
    })?;
    let pem = std::fs::read(anchors).map_err(|e| {
        AuditError::Log(format!(
            "audit.tsa_trust_anchors {}: {e}",
            anchors.display()
        ))
    })?;
    let trust = TsaTrust::from_pem(&pem)
        .map_err(|e| AuditError::Log(format!("audit.tsa_trust_anchors: {e}")))?;
    let policy = config
        .tsa_policy
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| AuditError::Log(format!("audit.tsa_policy: {e}")))?;
    Tsa::new(
        url.clone(),
        trust,
        policy,
        Duration::from_secs(config.tsa_timeout_secs.max(1)),
    )
    .map(|tsa| Some(tsa.with_interval(Duration::from_secs(config.tsa_interval_secs))))
}

/// A handle to the audit writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Audit {
    tx: mpsc::SyncSender<Job>,
    tsa: Option<Arc<Tsa>>,
    timestamp_failures: IntCounter,
    /// When the last token was recorded (see [`Tsa::with_interval`]).
    last_stamp: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// Set by [`Audit::fence`].
    fenced: Arc<AtomicBool>,
}

/// A record queued by [`Audit::submit`], not yet known to be on disk.
#[derive(Debug)]
#[must_use = "a submitted record is on disk only once `written` says so"]
pub struct Pending(oneshot::Receiver<Result<u64, String>>);

impl Pending {
    /// Waits until the record is on disk; returns its sequence number.
    pub async fn written(self) -> Result<u64, AuditError> {
        self.0
            .await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
    }
}

impl Audit {
    /// Opens (verifying the existing chain) or creates the log at `path` and starts its writer.
    /// With `checkpoint_key`, every existing checkpoint must verify under it (a log rewritten
    /// without the key is refused) and [`Audit::checkpoint`] signs new ones.
    /// The live log is sealed at a checkpoint when `segmenting` says it is due (never without
    /// a checkpoint key, which signs the closing checkpoint).
    pub fn open(
        path: &Path,
        terminal_id: &str,
        checkpoint_key: Option<Box<dyn Signer>>,
        segmenting: Segmenting,
    ) -> Result<Self, AuditError> {
        Self::open_with_tsa(path, terminal_id, checkpoint_key, None, segmenting)
    }

    /// [`open`](Self::open), time-stamping every checkpoint with `tsa` (see the module docs).
    pub fn open_with_tsa(
        path: &Path,
        terminal_id: &str,
        checkpoint_key: Option<Box<dyn Signer>>,
        tsa: Option<Tsa>,
        segmenting: Segmenting,
    ) -> Result<Self, AuditError> {
        let tsa = tsa.map(Arc::new);
        let writer_tsa = tsa.clone();
        let timestamp_failures = IntCounter::new(
            "audit_timestamp_failures_total",
            "Audit checkpoints the TSA did not time-stamp (unreachable, refused, or a reply that \
             does not verify)",
        )
        .map_err(|e| AuditError::Log(e.to_string()))?;
        let mut log = match &checkpoint_key {
            Some(key) => {
                let public = key
                    .public_key()
                    .map_err(|e| AuditError::Log(format!("checkpoint key: {e}")))?;
                AuditLog::open_verified(path, terminal_id, &public)
            }
            None => AuditLog::open(path, terminal_id),
        }
        .map_err(|e| AuditError::Log(e.to_string()))?;
        // Bounded: if the disk stalls, handlers wait instead of memory growing without limit.
        let (tx, rx) = mpsc::sync_channel::<Job>(4096);
        thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                // Group commit: everything queued while the last flush ran is written with
                // one write and one fsync, so the disk's flush time is paid once per batch
                // rather than once per request.
                let mut stamps_since_checkpoint = 0u64;
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let mut events = Vec::new();
                    let mut replies = Vec::new();
                    let mut checkpoints = Vec::new();
                    let mut stamps = Vec::new();
                    let mut barriers = Vec::new();
                    for job in jobs {
                        match job {
                            Job::Append(event, reply) => {
                                events.push(event);
                                replies.push(reply);
                            }
                            Job::Checkpoint(reply) => checkpoints.push(reply),
                            Job::Timestamp(stamp, reply) => stamps.push((stamp, reply)),
                            Job::Barrier(reply) => barriers.push(reply),
                        }
                    }
                    for (stamp, reply) in stamps {
                        // A time-stamp record alone does not call for another checkpoint (the
                        // token anchors itself): otherwise an idle service would ask the TSA
                        // at every upkeep forever.
                        let done = match &writer_tsa {
                            Some(tsa) => anchor::record_response(
                                &mut log,
                                &stamp.checkpoint,
                                &stamp.request,
                                &stamp.response,
                                &tsa.trust,
                                OffsetDateTime::now_utc(),
                            )
                            .map(|(seq, _)| {
                                stamps_since_checkpoint += 1;
                                seq
                            })
                            .map_err(|e| e.to_string()),
                            None => Err("no TSA configured".to_owned()),
                        };
                        let _ = reply.send(done);
                    }
                    if !events.is_empty() {
                        append(&mut log, events, replies);
                    }
                    if !barriers.is_empty() {
                        // An empty batch writes nothing and fails only if the log refuses
                        // appends, which is what a failed earlier write leaves behind.
                        let done = log
                            .append_batch(Vec::new())
                            .map(drop)
                            .map_err(|e| e.to_string());
                        for reply in barriers {
                            let _ = reply.send(done.clone());
                        }
                    }
                    if !checkpoints.is_empty() {
                        // A segment due is sealed first, so the checkpoint (and its
                        // time-stamp) is the new segment's, covering the sealed one through
                        // its opening record.
                        match seal_if_due(&mut log, checkpoint_key.as_deref(), segmenting) {
                            Ok(true) => stamps_since_checkpoint = 0,
                            Ok(false) => {}
                            // The handle refuses appends until reopened: fail safe.
                            Err(e) => tracing::error!(error = %e, "sealing the audit log failed"),
                        }
                        let done = checkpoint(
                            &mut log,
                            checkpoint_key.as_deref(),
                            stamps_since_checkpoint,
                        );
                        if matches!(done, Ok(Some(_))) {
                            stamps_since_checkpoint = 0;
                        }
                        for reply in checkpoints {
                            let _ = reply.send(done.clone());
                        }
                    }
                }
            })
            .map_err(|e| AuditError::Log(e.to_string()))?;
        Ok(Audit {
            tx,
            tsa,
            timestamp_failures,
            last_stamp: Arc::default(),
            fenced: Arc::default(),
        })
    }

    /// The counter of checkpoints left without a time-stamp, for the service's metrics.
    pub fn timestamp_failures(&self) -> IntCounter {
        self.timestamp_failures.clone()
    }

    /// Signs a checkpoint over the records since the last one; returns its sequence number,
    /// or 0 when there was nothing to sign or no checkpoint key is configured. With a TSA,
    /// then time-stamps it; a failure to do so is logged and counted, never returned.
    pub async fn checkpoint(&self) -> Result<u64, AuditError> {
        let (reply, done) = oneshot::channel();
        self.send(Job::Checkpoint(reply)).await?;
        let checkpoint = done
            .await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)?;
        let Some(checkpoint) = checkpoint else {
            return Ok(0);
        };
        if let Some(tsa) = &self.tsa {
            let due = self
                .last_stamp
                .lock()
                .map(|last| last.is_none_or(|t| t.elapsed() >= tsa.interval))
                .unwrap_or(true);
            if due {
                match self.timestamp(tsa, &checkpoint).await {
                    Ok(_) => {
                        if let Ok(mut last) = self.last_stamp.lock() {
                            *last = Some(std::time::Instant::now());
                        }
                    }
                    Err(e) => {
                        self.timestamp_failures.inc();
                        tracing::error!(
                            checkpoint = checkpoint.seq,
                            error = %e,
                            "audit checkpoint not time-stamped"
                        );
                    }
                }
            }
        }
        Ok(checkpoint.seq)
    }

    /// Asks the TSA for a token over `checkpoint` and has the writer record it.
    async fn timestamp(&self, tsa: &Tsa, checkpoint: &CheckpointRef) -> Result<u64, AuditError> {
        let request = checkpoint
            .request(tsa.policy)
            .map_err(|e| AuditError::Log(e.to_string()))?;
        let response = tsa
            .post(request.der())
            .await
            .map_err(|e| AuditError::Log(e.to_string()))?;
        let (reply, done) = oneshot::channel();
        let stamp = Stamp {
            checkpoint: checkpoint.clone(),
            request,
            response,
        };
        self.send(Job::Timestamp(Box::new(stamp), reply)).await?;
        done.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
    }

    async fn send(&self, job: Job) -> Result<(), AuditError> {
        if self.is_fenced() {
            return Err(AuditError::Fenced);
        }
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Disconnected(_)) => Err(AuditError::Stopped),
            // 4096 records queued: wait for room off the async threads.
            Err(mpsc::TrySendError::Full(job)) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || tx.send(job))
                    .await
                    .map_err(|_| AuditError::Stopped)?
                    .map_err(|_| AuditError::Stopped)
            }
        }
    }

    /// Appends `event` and waits until it is on disk; returns its sequence number.
    pub async fn record(&self, event: AuditEvent) -> Result<u64, AuditError> {
        self.submit(event).await?.written().await
    }

    /// Queues `event` for appending without waiting for the disk, so that the caller can
    /// commit its change meanwhile. Records are written in the order they are queued.
    pub async fn submit(&self, event: AuditEvent) -> Result<Pending, AuditError> {
        let (reply, done) = oneshot::channel();
        self.send(Job::Append(event, reply)).await?;
        Ok(Pending(done))
    }

    /// Waits until every record queued before this call is on disk; fails if one of them
    /// could not be written. Used before answering with something a concurrent request has
    /// committed, whose record may still be on its way to the disk.
    pub async fn barrier(&self) -> Result<(), AuditError> {
        let (reply, done) = oneshot::channel();
        self.send(Job::Barrier(reply)).await?;
        done.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
    }

    /// Refuses every further record until the service restarts: called when a change was
    /// committed but its record could not be written, so that nothing more happens before
    /// start-up reconciliation writes the missing record
    /// ([`Issuer::reconcile_audit`](crate::engine::Issuer::reconcile_audit)).
    pub fn fence(&self) {
        self.fenced.store(true, Ordering::Release);
    }

    /// Whether [`fence`](Self::fence) was called.
    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }
}

/// Writes `events` with one write and one fsync, answering each.
fn append(log: &mut AuditLog, events: Vec<AuditEvent>, replies: Vec<Reply>) {
    match log.append_batch(events) {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome.map_err(|e| e.to_string()));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(message.clone()));
            }
        }
    }
}

/// When the live log is sealed into a segment (see [`custody::audit::AuditLog::seal_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segmenting {
    /// Once its first record is this old.
    pub max_age: Option<time::Duration>,
    /// Once the file holds this many bytes.
    pub max_bytes: Option<u64>,
}

impl Segmenting {
    /// The `[audit]` section's `segment_days` and `segment_max_bytes` (0 disables either).
    pub fn from_config(config: &crate::config::AuditConfig) -> Self {
        Segmenting {
            max_age: (config.segment_days > 0)
                .then(|| time::Duration::days(i64::from(config.segment_days))),
            max_bytes: (config.segment_max_bytes > 0).then_some(config.segment_max_bytes),
        }
    }
}

/// Seals the live log if `segmenting` says it is due and there is a key to close it with;
/// whether it did.
fn seal_if_due(
    log: &mut AuditLog,
    key: Option<&dyn Signer>,
    segmenting: Segmenting,
) -> Result<bool, String> {
    let Some(key) = key else { return Ok(false) };
    let now = time::OffsetDateTime::now_utc();
    let old = match (
        segmenting.max_age,
        log.segment_started().map_err(|e| e.to_string())?,
    ) {
        (Some(age), Some(started)) => now - started >= age,
        _ => false,
    };
    let big = match segmenting.max_bytes {
        Some(max) => {
            std::fs::metadata(log.path())
                .map_err(|e| e.to_string())?
                .len()
                >= max
        }
        None => false,
    };
    if old || big {
        let sealed = log.seal_at(key, now).map_err(|e| e.to_string())?;
        tracing::info!(
            file = %sealed.path.display(),
            first_seq = sealed.first_seq,
            last_seq = sealed.last_seq,
            "audit log segment sealed"
        );
    }
    Ok(old || big)
}

/// Signs a checkpoint if there is a key and something to cover besides the `stamps` time-stamp
/// records written since the last one.
fn checkpoint(
    log: &mut AuditLog,
    key: Option<&dyn Signer>,
    stamps: u64,
) -> Result<Option<CheckpointRef>, String> {
    match key {
        Some(key) if log.summary().unanchored > stamps => {
            let at = OffsetDateTime::now_utc();
            let seq = log.checkpoint_at(key, at).map_err(|e| e.to_string())?;
            Ok(Some(CheckpointRef {
                seq,
                hash: log.head().to_owned(),
                time: at,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_barrier_waits_for_every_record_queued_before_it_and_a_fence_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let audit = Audit::open(&path, "mdoc-issuer", None, Segmenting::default()).unwrap();
        let lines = || std::fs::read_to_string(&path).unwrap().lines().count();
        // More than one batch, so the writer is still busy when the barrier is queued.
        let mut pending = Vec::new();
        for i in 0..(2 * MAX_BATCH + 1) {
            let event = AuditEvent::success(events::ISSUE)
                .actor("portal")
                .detail("n", i.to_string());
            pending.push(audit.submit(event).await.unwrap());
        }
        audit.barrier().await.unwrap();
        assert_eq!(lines(), 2 * MAX_BATCH + 1);
        for p in pending {
            p.written().await.unwrap();
        }

        audit.fence();
        let event = AuditEvent::success(events::ISSUE).actor("portal");
        assert!(matches!(audit.record(event).await, Err(AuditError::Fenced)));
        assert!(matches!(audit.barrier().await, Err(AuditError::Fenced)));
        assert_eq!(lines(), 2 * MAX_BATCH + 1, "a fenced log was written to");
    }
}
