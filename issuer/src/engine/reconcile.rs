//! Start-up reconciliation of the audit log with the database.
//!
//! A revocation or DS revocation writes its success record *before* its transaction, so that
//! no revocation is committed without a record on disk; if the transaction then fails, a
//! second record says the first was rolled back. An issuance or refresh queues its record
//! before its transaction and answers only once both are durable, so the log's flush and the
//! commit overlap; no signed MSO leaves the service before its record is on disk.
//!
//! A crash (`kill -9`, power loss) can therefore leave two kinds of disagreement, both
//! repaired here before the `issuer.start` record and before anything is served:
//! - **a success record for a change never committed** (nor answered), with no rollback
//!   record: every such operation recorded since the previous start is checked against the
//!   database (the MSOs are there; the document, or the DS, is revoked), and each one not
//!   committed gets its rollback record now, naming the record it corrects. A revocation
//!   recorded as changing nothing (`"changed": "false"`) has nothing to reconcile.
//! - **an issuance or refresh committed without its record** (never answered either; a retry
//!   replays it once the record exists): each start records the highest MSO row id
//!   (`msos_high_water`), so every MSO above the last start's mark was committed by the run
//!   since, and must be named by one of that run's records. Those that are not get their
//!   record now, written by `system` with `"recovered": "committed_before_crash"`. The
//!   upkeep writes the same mark (`issuer.mark`) each minute new MSOs were recorded, so that
//!   a long run whose start record is in an older segment than the one read here still has
//!   one.
//!
//! A mark of `H` is sound: every MSO whose row id is at most `H` was committed, or had its
//! id taken, before `H` was read, and its record was queued before its transaction began, so
//! before the mark; records are written in queue order, so a mark on disk has every such
//! record before it.

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::sync::atomic::Ordering;

use custody::audit::AuditEvent;

use super::{EngineError, Issuer};
use crate::audit::events;
use crate::store::{DocumentId, DocumentState, DsState, MsoRow, RevocationReason, StoreError};

/// The reason written into the rollback record of an operation found uncommitted.
pub const NOT_COMMITTED: &str = "not_committed_at_crash";

/// The `recovered` detail of a record written at start-up for a change committed without one.
pub const RECOVERED: &str = "committed_before_crash";

/// The `issuer.start` and `issuer.mark` detail holding the highest MSO row id at that point.
pub const HIGH_WATER: &str = "msos_high_water";

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
    /// Sequence numbers of the records written for issuances and refreshes committed without
    /// one.
    pub recovered: Vec<u64>,
    /// The highest MSO row id once reconciled: the mark the start record carries.
    pub high_water: i64,
}

/// What the log holds since the last start.
#[derive(Debug, Default)]
struct SinceStart {
    /// Success records without their rollback.
    open: Vec<Recorded>,
    /// The last start's or mark's [`HIGH_WATER`] (`None` if the files read hold neither, or
    /// only ones older than it).
    high_water: Option<i64>,
    /// Every MSO an issuance or refresh success record names: (document, list, index).
    named: HashSet<(String, String, u64)>,
}

/// What the log holds since the last `issuer.start`, read from the live log and the segment
/// sealed last before it (a seal while running may have closed the segment an interrupted
/// operation's record is in; an operation is in flight for far less than a segment's
/// lifetime, so none is older). If neither holds a start or mark record (a run longer than a
/// segment, idle when it was sealed), older segments are read too, back to the last one that
/// does: the MSO check needs a mark.
fn since_last_start(path: &std::path::Path) -> Result<SinceStart, EngineError> {
    let internal = |e: custody::Error| EngineError::Internal(format!("audit log: {e}"));
    let sealed: Vec<std::path::PathBuf> = match custody::audit::sealed_segments(path) {
        Ok(sealed) => sealed.into_iter().map(|s| s.path).collect(),
        Err(custody::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Vec::new()
        }
        Err(e) => return Err(internal(e)),
    };
    let files_from = |from: usize| -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = sealed.iter().skip(from).cloned().collect();
        files.push(path.to_path_buf());
        files
    };
    let last = sealed.len().saturating_sub(1);
    let since = scan_files(&files_from(last))?;
    if since.high_water.is_some() {
        return Ok(since);
    }
    for from in (0..last).rev() {
        if sealed.get(from).is_some_and(|f| holds_mark(f)) {
            return scan_files(&files_from(from));
        }
    }
    Ok(since)
}

/// Whether the sealed segment at `file` holds a start or mark record (an unreadable one
/// counts as holding none).
fn holds_mark(file: &std::path::Path) -> bool {
    std::fs::File::open(file).is_ok_and(|f| {
        BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .any(|l| may_be_mark(&l))
    })
}

/// Whether `line` may be a start or mark record (cheaper than parsing it).
fn may_be_mark(line: &str) -> bool {
    line.contains(events::START) || line.contains(events::MARK)
}

/// [`scan`] over `files` in order (a missing file is skipped).
fn scan_files(files: &[std::path::PathBuf]) -> Result<SinceStart, EngineError> {
    let mut since = SinceStart::default();
    for file in files {
        let file = match std::fs::File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(EngineError::Internal(format!("audit log: {e}"))),
        };
        scan(file, &mut since)?;
    }
    Ok(since)
}

/// Adds to `since` what `file` records (starting afresh at each start record, and dropping a
/// success record from `open` when its rollback record follows).
fn scan(file: std::fs::File, since: &mut SinceStart) -> Result<(), EngineError> {
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| EngineError::Internal(format!("audit log: {e}")))?;
        // Only these events matter (`issuer.revoke` also finds `issuer.revoke_ds`); skip the
        // rest without parsing them.
        if !(may_be_mark(&line)
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
        if event == events::START || event == events::MARK {
            let mark = text(&format!("/details/{HIGH_WATER}")).parse().ok();
            if event == events::START {
                // A start without a mark (older than marks) leaves none to check against.
                since.open.clear();
                since.named.clear();
                since.high_water = mark;
            } else if mark.is_some() {
                // A mark narrows what the MSO check reads; the records before it stay named,
                // since those queued just before it may be for MSOs above it.
                since.high_water = mark;
            }
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
                if let Some(i) = since
                    .open
                    .iter()
                    .rposition(|r| r.event == event && r.subject == subject)
                {
                    since.open.remove(i);
                }
            }
            continue;
        }
        // A revocation that found the document already revoked changed nothing.
        if event == events::REVOKE && text("/details/changed") != "true" {
            continue;
        }
        let indices: BTreeSet<u64> = text("/details/status_indices")
            .split(',')
            .filter_map(|i| i.parse().ok())
            .collect();
        let status_list = text("/details/status_list").to_owned();
        if event == events::ISSUE || event == events::REFRESH {
            for &i in &indices {
                since
                    .named
                    .insert((subject.clone(), status_list.clone(), i));
            }
        }
        since.open.push(Recorded {
            seq: v.get("seq").and_then(|s| s.as_u64()).unwrap_or(0),
            event: event.to_owned(),
            actor: v
                .pointer("/actors/0")
                .and_then(|s| s.as_str())
                .unwrap_or("system")
                .to_owned(),
            subject,
            status_list,
            indices,
        });
    }
    Ok(())
}

impl Issuer {
    /// Reconciles the audit log with the database (see the module documentation). Run at
    /// start-up, before any request is served.
    pub async fn reconcile_audit(&self) -> Result<Reconciled, EngineError> {
        let mut done = Reconciled::default();
        let since = since_last_start(&self.config.audit.path)?;
        for r in since.open {
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
        if let Some(mark) = since.high_water {
            done.recovered = self.recover_unrecorded(mark, &since.named).await?;
        }
        done.high_water = self.store.max_mso_id().await?;
        self.marked.store(done.high_water, Ordering::Release);
        Ok(done)
    }

    /// Writes an `issuer.mark` record of the highest MSO row id, if it grew since the last
    /// start or mark (an idle service writes none).
    pub async fn mark_high_water(&self) -> Result<(), EngineError> {
        let high = self.store.max_mso_id().await?;
        if high <= self.marked.load(Ordering::Acquire) {
            return Ok(());
        }
        self.audit
            .record(
                AuditEvent::success(events::MARK)
                    .actor("system")
                    .detail(HIGH_WATER, high.to_string()),
            )
            .await?;
        self.marked.fetch_max(high, Ordering::AcqRel);
        Ok(())
    }

    /// Writes the records of the issuances and refreshes committed above `mark` whose MSOs
    /// no record names; returns their sequence numbers.
    async fn recover_unrecorded(
        &self,
        mark: i64,
        named: &HashSet<(String, String, u64)>,
    ) -> Result<Vec<u64>, EngineError> {
        let mut unnamed: Vec<MsoRow> = Vec::new();
        let mut after = mark;
        loop {
            let page = self.store.msos_after(after).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            unnamed.extend(page.into_iter().filter(|m| {
                !named.contains(&(
                    m.document.to_hex(),
                    m.status_list_uri.clone(),
                    m.status_index,
                ))
            }));
        }
        let mut written = Vec::new();
        for group in transactions(unnamed) {
            let Some(first) = group.first() else {
                continue;
            };
            let event = if group.iter().any(|m| m.first_of_document) {
                events::ISSUE
            } else {
                events::REFRESH
            };
            let document = first.document.to_hex();
            let indices: Vec<String> = group.iter().map(|m| m.status_index.to_string()).collect();
            let mut record = AuditEvent::success(event)
                .actor("system")
                .detail("document", document.as_str())
                .detail("doctype", first.doctype.as_str())
                .detail("ds_serial", first.ds_serial.as_str())
                .detail("msos", group.len().to_string())
                .detail("status_list", first.status_list_uri.as_str())
                .detail("status_indices", indices.join(","))
                .detail("recovered", RECOVERED);
            if let Some(owner) = &first.owner {
                record = record.detail("owner", owner.as_str());
            }
            let seq = self.audit.record(record).await?;
            tracing::warn!(
                record = seq,
                document = %document,
                "a committed {event} had no audit record (crash): record written"
            );
            written.push(seq);
        }
        Ok(written)
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

/// `rows` (in id order) grouped into the transactions that recorded them: an issuance or
/// refresh records its MSOs together, for one document, signed at one time by one DS into
/// one status list. Times are whole seconds, so if a crash lost the records of both an
/// issuance and a refresh of the same document signed in the same second, they come back as
/// one issuance naming all their MSOs: every MSO is still named, the split is what is lost.
fn transactions(rows: Vec<MsoRow>) -> Vec<Vec<MsoRow>> {
    let mut groups: Vec<Vec<MsoRow>> = Vec::new();
    for row in rows {
        let same = |m: &MsoRow| {
            m.document == row.document
                && m.created_at == row.created_at
                && m.ds_serial == row.ds_serial
                && m.status_list_uri == row.status_list_uri
        };
        match groups
            .iter_mut()
            .rev()
            .find(|g| g.first().is_some_and(same))
        {
            Some(group) => group.push(row),
            None => groups.push(vec![row]),
        }
    }
    groups
}
