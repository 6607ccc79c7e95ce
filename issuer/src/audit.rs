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
    /// `mdoc-issuer audit repair` cut a torn final record.
    pub const AUDIT_REPAIR: &str = "issuer.audit_repair";
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

type Job = (AuditEvent, oneshot::Sender<Result<u64, String>>);

/// The most records written by one flush (bounds a batch's latency and memory).
const MAX_BATCH: usize = 256;

/// A handle to the audit writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Audit {
    tx: mpsc::SyncSender<Job>,
}

impl Audit {
    /// Opens (verifying the existing chain) or creates the log at `path` and starts its writer.
    pub fn open(path: &Path, terminal_id: &str) -> Result<Self, AuditError> {
        let mut log =
            AuditLog::open(path, terminal_id).map_err(|e| AuditError::Log(e.to_string()))?;
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
                    let (events, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
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
            })
            .map_err(|e| AuditError::Log(e.to_string()))?;
        Ok(Audit { tx })
    }

    /// Appends `event` and waits until it is on disk; returns its sequence number.
    pub async fn record(&self, event: AuditEvent) -> Result<u64, AuditError> {
        let (reply, done) = oneshot::channel();
        match self.tx.try_send((event, reply)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(AuditError::Stopped),
            // 4096 records queued: wait for room off the async threads.
            Err(mpsc::TrySendError::Full(job)) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || tx.send(job))
                    .await
                    .map_err(|_| AuditError::Stopped)?
                    .map_err(|_| AuditError::Stopped)?;
            }
        }
        done.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Log)
    }
}
