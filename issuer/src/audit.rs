//! The service's side of the shared hash-chained audit log ([`custody::audit`]).
//!
//! One thread owns the log file and appends records in arrival order; request handlers send
//! events and wait until the record is on disk (records queued together are written and
//! `fsync`ed together), so an answered request always has its audit record. Records name
//! clients, documents, doc types, DS serials and error codes — never personal data, element
//! values, tokens or keys.

use std::path::Path;
use std::sync::mpsc;
use std::thread;

use custody::audit::{AuditEvent, AuditLog};
use mso::crypto::Signer;
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
    /// The service stopped.
    pub const STOP: &str = "issuer.stop";
    /// An admin suspended new issuance (the emergency stop).
    pub const ISSUANCE_SUSPEND: &str = "issuer.issuance_suspend";
    /// An admin resumed new issuance.
    pub const ISSUANCE_RESUME: &str = "issuer.issuance_resume";
    /// `mdoc-issuer audit repair` cut a torn final record.
    pub const AUDIT_REPAIR: &str = "issuer.audit_repair";
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
}

type Reply = oneshot::Sender<Result<u64, String>>;

/// What the writer thread is asked to do.
enum Job {
    /// Append a record.
    Append(AuditEvent, Reply),
    /// Sign a checkpoint over the records since the last one (answers 0 when there are
    /// none, or no checkpoint key).
    Checkpoint(Reply),
}

/// The most records written by one flush (bounds a batch's latency and memory).
const MAX_BATCH: usize = 256;

/// A handle to the audit writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Audit {
    tx: mpsc::SyncSender<Job>,
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
                    for job in jobs {
                        match job {
                            Job::Append(event, reply) => {
                                events.push(event);
                                replies.push(reply);
                            }
                            Job::Checkpoint(reply) => checkpoints.push(reply),
                        }
                    }
                    if !events.is_empty() {
                        append(&mut log, events, replies);
                    }
                    if !checkpoints.is_empty() {
                        let done =
                            checkpoint(&mut log, checkpoint_key.as_deref()).and_then(|seq| {
                                seal_if_due(&mut log, checkpoint_key.as_deref(), segmenting)
                                    .map(|_| seq)
                            });
                        for reply in checkpoints {
                            let _ = reply.send(done.clone());
                        }
                    }
                }
            })
            .map_err(|e| AuditError::Log(e.to_string()))?;
        Ok(Audit { tx })
    }

    /// Signs a checkpoint over the records since the last one; returns its sequence number,
    /// or 0 when there was nothing to sign or no checkpoint key is configured.
    pub async fn checkpoint(&self) -> Result<u64, AuditError> {
        let (reply, done) = oneshot::channel();
        self.send(Job::Checkpoint(reply)).await?;
        done.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
    }

    async fn send(&self, job: Job) -> Result<(), AuditError> {
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
        let (reply, done) = oneshot::channel();
        self.send(Job::Append(event, reply)).await?;
        done.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
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

/// Seals the live log if `segmenting` says it is due and there is a key to close it with.
fn seal_if_due(
    log: &mut AuditLog,
    key: Option<&dyn Signer>,
    segmenting: Segmenting,
) -> Result<(), String> {
    let Some(key) = key else { return Ok(()) };
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
    Ok(())
}

/// Signs a checkpoint if there is a key and something to cover.
fn checkpoint(log: &mut AuditLog, key: Option<&dyn Signer>) -> Result<u64, String> {
    match key {
        Some(key) if log.summary().unanchored > 0 => log.checkpoint(key).map_err(|e| e.to_string()),
        _ => Ok(0),
    }
}
