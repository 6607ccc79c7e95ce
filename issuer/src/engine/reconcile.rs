//! Start-up reconciliation of the audit log with the database.
//!
//! An issuance, refresh, revocation or DS revocation writes its success record *before* its
//! transaction, so that no signed MSO can leave the service, and no revocation be committed,
//! without a record on disk; if the transaction then fails, a second record says the first was
//! rolled back. A crash (`kill -9`, power loss) between the record and the commit leaves a
//! success record for a change that was never committed nor answered, and no rollback record.
//! At start-up, before the `issuer.start` record, every such operation recorded since the
//! previous start without a rollback is checked against the database (the MSOs are there; the
//! document, or the DS, is revoked), and each one not committed gets its rollback record now,
//! naming the record it corrects. A revocation recorded as changing nothing (`"changed":
//! "false"`) has nothing to reconcile.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};

use custody::audit::AuditEvent;

use super::{EngineError, Issuer};
use crate::audit::events;
use crate::store::{DocumentId, DocumentState, DsState, RevocationReason, StoreError};

/// The reason written into the rollback record of an operation found uncommitted.
pub const NOT_COMMITTED: &str = "not_committed_at_crash";

/// An operation the log recorded as a success.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    seq: u64,
    event: String,
    actor: String,
    /// What it changed: the document (issue, refresh, revoke) or the DS serial (DS revoke).
    subject: String,
    status_list: String,
    indices: BTreeSet<u64>,
}

/// The detail naming what an operation of `event` changed.
fn subject_key(event: &str) -> &'static str {
    if event == events::REVOKE_DS {
        "ds_serial"
    } else {
        "document"
    }
}

/// What reconciliation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Success records checked against the database.
    pub checked: u64,
    /// Sequence numbers of the success records found uncommitted (each now has its rollback
    /// record).
    pub rolled_back: Vec<u64>,
}

/// The operations recorded since the last `issuer.start` and not rolled back, in the live log
/// and the segment sealed last before it (a seal while running may have closed the segment an
/// interrupted operation's record is in; an operation is in flight for far less than a
/// segment's lifetime, so none is older).
fn since_last_start(path: &std::path::Path) -> Result<Vec<Recorded>, EngineError> {
    let internal = |e: custody::Error| EngineError::Internal(format!("audit log: {e}"));
    let mut files: Vec<std::path::PathBuf> = match custody::audit::sealed_segments(path) {
        Ok(sealed) => sealed
            .into_iter()
            .last()
            .map(|s| s.path)
            .into_iter()
            .collect(),
        Err(custody::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Vec::new()
        }
        Err(e) => return Err(internal(e)),
    };
    files.push(path.to_path_buf());
    let mut open: Vec<Recorded> = Vec::new();
    for file in files {
        let file = match std::fs::File::open(&file) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(EngineError::Internal(format!("audit log: {e}"))),
        };
        scan_for_open(file, &mut open)?;
    }
    Ok(open)
}

/// Adds to `open` the success records of `file` (dropping them at each start record and when
/// their rollback record follows).
fn scan_for_open(file: std::fs::File, open: &mut Vec<Recorded>) -> Result<(), EngineError> {
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| EngineError::Internal(format!("audit log: {e}")))?;
        // Only these events matter (`issuer.revoke` also finds `issuer.revoke_ds`); skip the
        // rest without parsing them.
        if !(line.contains(events::START)
            || line.contains(events::ISSUE)
            || line.contains(events::REFRESH)
            || line.contains(events::REVOKE))
        {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = |p: &str| v.pointer(p).and_then(|s| s.as_str()).unwrap_or_default();
        let event = text("/event");
        if event == events::START {
            open.clear();
            continue;
        }
        if ![
            events::ISSUE,
            events::REFRESH,
            events::REVOKE,
            events::REVOKE_DS,
        ]
        .contains(&event)
        {
            continue;
        }
        let subject = text(&format!("/details/{}", subject_key(event))).to_owned();
        if text("/result") == "failure" {
            // A rollback record closes the success record it follows.
            if !text("/details/rolled_back").is_empty() {
                if let Some(i) = open
                    .iter()
                    .rposition(|r| r.event == event && r.subject == subject)
                {
                    open.remove(i);
                }
            }
            continue;
        }
        // A revocation that found the document already revoked changed nothing.
        if event == events::REVOKE && text("/details/changed") != "true" {
            continue;
        }
        open.push(Recorded {
            seq: v.get("seq").and_then(|s| s.as_u64()).unwrap_or(0),
            event: event.to_owned(),
            actor: v
                .pointer("/actors/0")
                .and_then(|s| s.as_str())
                .unwrap_or("system")
                .to_owned(),
            subject,
            status_list: text("/details/status_list").to_owned(),
            indices: text("/details/status_indices")
                .split(',')
                .filter_map(|i| i.parse().ok())
                .collect(),
        });
    }
    Ok(())
}

impl Issuer {
    /// Reconciles the audit log with the database (see the module documentation). Run at
    /// start-up, before any request is served.
    pub async fn reconcile_audit(&self) -> Result<Reconciled, EngineError> {
        let mut done = Reconciled::default();
        for r in since_last_start(&self.config.audit.path)? {
            done.checked += 1;
            if self.committed(&r).await? {
                continue;
            }
            let event = AuditEvent::failure(r.event.as_str())
                .actor(r.actor.as_str())
                .detail(subject_key(&r.event), r.subject.as_str())
                .detail("rolled_back", NOT_COMMITTED)
                .detail("record", r.seq.to_string());
            self.audit.record(event).await?;
            tracing::warn!(
                record = r.seq,
                subject = %r.subject,
                "an audited {} was never committed (crash): rollback recorded",
                r.event
            );
            done.rolled_back.push(r.seq);
        }
        Ok(done)
    }

    /// Whether the database holds what `r` recorded.
    async fn committed(&self, r: &Recorded) -> Result<bool, EngineError> {
        let found = |e: StoreError| match e {
            StoreError::NotFound(_) => Ok(false),
            e => Err(EngineError::from(e)),
        };
        if r.event == events::REVOKE_DS {
            return match self.store.ds_certificate(&r.subject).await {
                Ok(ds) => Ok(ds.state == DsState::Revoked),
                Err(e) => found(e),
            };
        }
        let Some(id) = DocumentId::from_hex(&r.subject) else {
            return Ok(false);
        };
        if r.event == events::REVOKE {
            // Committed if the document is revoked by this request, not by a DS revocation
            // that won the race (a client never gives that reason; the first reason stays).
            return match self.store.get_document(id).await {
                Ok(doc) => Ok(doc.state == DocumentState::Revoked
                    && doc.revocation_reason != Some(RevocationReason::DsRevoked)),
                Err(e) => found(e),
            };
        }
        match self.store.msos_of(id).await {
            Ok(msos) => {
                let held: BTreeSet<u64> = msos
                    .iter()
                    .filter(|m| m.record.status_list_uri == r.status_list)
                    .map(|m| m.record.status_index)
                    .collect();
                Ok(!r.indices.is_empty() && r.indices.is_subset(&held))
            }
            Err(e) => found(e),
        }
    }
}
