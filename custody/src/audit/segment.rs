//! Sealed, chained segments of an audit log: CA policy §5.4.3 keeps the audit log for one year
//! and §5.4.4 lets auditors delete it; a log that only grows can do neither without breaking
//! its chain. So the live log is cut into segments that stay one chain.
//!
//! # Sealing
//!
//! [`AuditLog::seal_at`] closes the live segment (`audit.log`):
//!
//! 1. a checkpoint signed by the audit key covers its last record, so a sealed segment is
//!    anchored to its end;
//! 2. the next segment is written beside it as `audit.log.next`: one record, event
//!    [`SEGMENT_EVENT`], whose `seq` and `prev` continue the chain (the sealed head) and whose
//!    details name the sealed file, its SHA-256 and its sequence range;
//! 3. the live file is renamed `audit.log.<first seq>-<last seq>.sealed` (20 digits each) and
//!    made read-only, and `audit.log.next` becomes `audit.log`.
//!
//! A crash between the steps leaves either the old live log and a stray `.next` (the seal did
//! not happen: the `.next` is removed) or a sealed file and a `.next` without a live log (the
//! seal happened: the `.next` becomes the live log). [`AuditLog::open`] finishes either case
//! before it reads the log.
//!
//! # Verifying
//!
//! Each segment verifies alone ([`verify`](super::verify) accepts a log that begins with a
//! segment record). [`verify_segments`] checks them together: every sealed segment in sequence
//! order, each ending on a checkpoint, each next segment opening with a segment record that
//! names the previous file's digest, range and head, and the live log last.
//!
//! # Retention
//!
//! [`prune_sealed`] deletes the sealed segments whose every record is older than a cut-off at
//! least [`RETENTION`] in the past, oldest first, after the whole set verified, and records
//! what it deleted (files, digests, ranges) in the live log first. The earliest segment left
//! then opens with a segment record whose predecessor is gone, which [`verify_segments`]
//! reports as [`SegmentsSummary::first_seq`] above 1 — and accepts only when a prune record
//! accounts for every missing record, so deleting segments by hand is found.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use mso::crypto::{PublicKey, Signer};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{
    encode_line, format_time, io_err, open_append, refused, scan, sync_parent_dir, AuditEvent,
    AuditLog, AuditRecord, Outcome, ScanState, VerifySummary, MAX_LINE_LEN,
};
use crate::error::{Error, Result};

/// The event type of the record that opens a segment after a sealed one (reserved:
/// [`AuditLog::append`] refuses it).
pub const SEGMENT_EVENT: &str = "audit.segment";

/// The event type of the record [`prune_sealed`] writes before deleting sealed segments.
pub const PRUNED_EVENT: &str = "audit.segment.pruned";

/// The shortest retention (CA policy §5.4.3: one year): [`prune_sealed`] refuses a cut-off
/// closer to now.
pub const RETENTION: Duration = Duration::days(365);

/// Where [`AuditLog::seal_at`] writes the next segment before it becomes the live log.
fn next_path(live: &Path) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    live.with_file_name(name)
}

/// The name of the sealed segment of `live` holding records `first..=last`.
fn sealed_path(live: &Path, first: u64, last: u64) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{first:020}-{last:020}.sealed"));
    live.with_file_name(name)
}

/// `(first, last)` if `name` is a sealed segment's name of the log named `live_name`.
fn sealed_range(live_name: &str, name: &str) -> Option<(u64, u64)> {
    let range = name
        .strip_prefix(live_name)?
        .strip_prefix('.')?
        .strip_suffix(".sealed")?;
    let (first, last) = range.split_once('-')?;
    let digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return None;
    }
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// If `line` is a segment record, its `(seq, prev)`: where the chain it continues left off.
pub(super) fn segment_start(line: &[u8]) -> Option<(u64, String)> {
    let record: AuditRecord = serde_json::from_slice(line).ok()?;
    (record.event == SEGMENT_EVENT).then_some((record.seq, record.prev))
}

/// Hex SHA-256 of a file, read in blocks.
fn file_sha256(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut block).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(block.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Finishes or undoes a seal a crash interrupted (see the [module docs](self)); called by
/// [`AuditLog::open`] before anything else.
pub(super) fn finish_interrupted_seal(live: &Path) -> Result<()> {
    let next = next_path(live);
    if !next.exists() {
        return Ok(());
    }
    if live.exists() {
        // The live log was never renamed: the seal did not happen.
        std::fs::remove_file(&next).map_err(|e| io_err(&next, e))?;
    } else {
        std::fs::rename(&next, live).map_err(|e| io_err(live, e))?;
    }
    sync_parent_dir(live)
}

/// What [`AuditLog::seal_at`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSegment {
    /// The sealed file.
    pub path: PathBuf,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Its first and last sequence numbers.
    pub first_seq: u64,
    /// The last (a checkpoint).
    pub last_seq: u64,
}

impl AuditLog {
    /// The first sequence number of the live segment (1, unless it continues a sealed one).
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The time of the live segment's first record (`None` for an empty log): how old the
    /// segment is, to decide when to seal it.
    pub fn segment_started(&self) -> Result<Option<OffsetDateTime>> {
        let file = File::open(&self.path).map_err(|e| io_err(&self.path, e))?;
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_LINE_LEN).unwrap_or(u64::MAX);
        BufReader::new(file)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| io_err(&self.path, e))?;
        if line.is_empty() {
            return Ok(None);
        }
        let record: AuditRecord = serde_json::from_slice(line.strip_suffix(b"\n").unwrap_or(&line))
            .map_err(|e| Error::AuditTampered {
                seq: self.first_seq,
                reason: format!("first record does not parse: {e}"),
            })?;
        OffsetDateTime::parse(&record.time, &Rfc3339)
            .map(Some)
            .map_err(|_| Error::AuditTampered {
                seq: record.seq,
                reason: "first record's time is not RFC 3339".into(),
            })
    }

    /// Seals the live segment and continues the chain in a new one (see the [module
    /// docs](self)), stamped `at`; `signer` is the audit key, which signs the closing
    /// checkpoint (unless the last record already is one). Refused on an empty log.
    pub fn seal_at(&mut self, signer: &dyn Signer, at: OffsetDateTime) -> Result<SealedSegment> {
        self.check_writable()?;
        if self.records == 0 {
            return Err(refused("an empty log has nothing to seal"));
        }
        let last_before = self.next_seq.saturating_sub(1);
        if self.last_checkpoint_seq != Some(last_before) {
            self.checkpoint_at(signer, at)?;
        }
        let (first_seq, last_seq) = (self.first_seq, self.next_seq.saturating_sub(1));
        let sealed = sealed_path(&self.path, first_seq, last_seq);
        if sealed.exists() {
            return Err(refused(format!("{} exists", sealed.display())));
        }
        let sha256 = file_sha256(&self.path)?;
        let name = sealed
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let event = AuditEvent::new(SEGMENT_EVENT, Outcome::Success)
            .detail("sealed_file", name)
            .detail("sealed_sha256", sha256.clone())
            .detail("sealed_first_seq", first_seq.to_string())
            .detail("sealed_last_seq", last_seq.to_string());
        let mut record = self.build_record(event, at)?;
        let line = encode_line(&mut record)?;
        let next_seq = record
            .seq
            .checked_add(1)
            .ok_or_else(|| refused("sequence number space exhausted"))?;

        // From here on a failure leaves the files to `finish_interrupted_seal`.
        self.poisoned = true;
        let next = next_path(&self.path);
        let mut create = OpenOptions::new();
        create.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            create.mode(0o640);
        }
        let mut out = create.open(&next).map_err(|e| io_err(&next, e))?;
        out.write_all(&line).map_err(|e| io_err(&next, e))?;
        out.sync_all().map_err(|e| io_err(&next, e))?;
        drop(out);
        std::fs::rename(&self.path, &sealed).map_err(|e| io_err(&sealed, e))?;
        read_only(&sealed)?;
        std::fs::rename(&next, &self.path).map_err(|e| io_err(&self.path, e))?;
        sync_parent_dir(&self.path)?;
        let (file, _) = open_append(&self.path)?;
        self.file = file;
        self.poisoned = false;
        self.next_seq = next_seq;
        self.head = record.hash;
        self.first_seq = record.seq;
        self.records = 1;
        self.checkpoints = 0;
        self.last_checkpoint_seq = None;
        Ok(SealedSegment {
            path: sealed,
            sha256,
            first_seq,
            last_seq,
        })
    }
}

fn read_only(path: &Path) -> Result<()> {
    let mut perms = std::fs::metadata(path)
        .map_err(|e| io_err(path, e))?
        .permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        perms.set_mode(0o440);
    }
    #[cfg(not(unix))]
    perms.set_readonly(true);
    std::fs::set_permissions(path, perms).map_err(|e| io_err(path, e))
}

/// One sealed segment found beside a live log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The file.
    pub path: PathBuf,
    /// Its sequence range, from its name.
    pub first_seq: u64,
    /// The last.
    pub last_seq: u64,
}

/// The sealed segments beside the live log at `live`, in sequence order.
pub fn sealed_segments(live: &Path) -> Result<Vec<Segment>> {
    let dir = match live.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let live_name = live.file_name().unwrap_or_default().to_string_lossy();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name();
        if let Some((first_seq, last_seq)) = sealed_range(&live_name, &name.to_string_lossy()) {
            out.push(Segment {
                path: entry.path(),
                first_seq,
                last_seq,
            });
        }
    }
    out.sort_by_key(|s| s.first_seq);
    Ok(out)
}

/// What [`verify_segments`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentsSummary {
    /// The sealed segments, oldest first, each with what verifying it found.
    pub sealed: Vec<(Segment, VerifySummary)>,
    /// The live log.
    pub live: VerifySummary,
    /// The first sequence number still held: above 1 when older segments were pruned.
    pub first_seq: u64,
}

/// Verifies the sealed segments of the log at `live` and the live log itself, as one chain,
/// against the audit key (see the [module docs](self)). The first problem is
/// [`Error::AuditTampered`] at the sequence number where it was found, naming the file.
pub fn verify_segments(live: &Path, audit_key: &PublicKey) -> Result<SegmentsSummary> {
    let mut sealed = Vec::new();
    let mut sealed_states = Vec::new();
    let mut previous: Option<(Segment, ScanState)> = None;
    for segment in sealed_segments(live)? {
        let state = scan_file(&segment.path, audit_key)?;
        let at = |reason: String| Error::AuditTampered {
            seq: segment.first_seq,
            reason: format!("{}: {reason}", segment.path.display()),
        };
        if state.first_seq != segment.first_seq
            || state.next_seq.saturating_sub(1) != segment.last_seq
        {
            return Err(at(format!(
                "holds records {}..={}, not the range its name gives",
                state.first_seq,
                state.next_seq.saturating_sub(1)
            )));
        }
        if state.last_checkpoint_seq != Some(segment.last_seq) {
            return Err(at("a sealed segment must end on a checkpoint".into()));
        }
        if let Some((before, before_state)) = &previous {
            check_link(before, before_state, &state).map_err(at)?;
        }
        sealed.push((segment.clone(), state.summary()));
        sealed_states.push(state.pruned_through);
        previous = Some((segment, state));
    }
    let live_state = scan_file(live, audit_key)?;
    if let Some((before, before_state)) = &previous {
        check_link(before, before_state, &live_state).map_err(|reason| Error::AuditTampered {
            seq: live_state.first_seq,
            reason: format!("{}: {reason}", live.display()),
        })?;
    }
    // Records missing before the oldest segment held must have been pruned, and recorded as
    // such by a prune record in a later segment: otherwise segments were deleted.
    let first_seq = sealed
        .first()
        .map_or(live_state.first_seq, |(s, _)| s.first_seq);
    let pruned_through = previous_pruned(&sealed_states).max(live_state.pruned_through);
    if first_seq > 1 && pruned_through.is_none_or(|p| p.saturating_add(1) < first_seq) {
        return Err(Error::AuditTampered {
            seq: first_seq,
            reason: format!(
                "records before #{first_seq} are missing and no prune record accounts for them: \
                 sealed segments were deleted"
            ),
        });
    }
    Ok(SegmentsSummary {
        sealed,
        live: live_state.summary(),
        first_seq,
    })
}

/// The highest `pruned_through` of the sealed segments.
fn previous_pruned(states: &[Option<u64>]) -> Option<u64> {
    states.iter().copied().flatten().max()
}

/// Scans one segment; a problem names the file.
fn scan_file(path: &Path, key: &PublicKey) -> Result<ScanState> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    scan(file, path, Some(key)).map_err(|e| match e {
        Error::AuditTampered { seq, reason } => Error::AuditTampered {
            seq,
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    })
}

/// Checks that the segment scanned as `state` opens with the segment record that continues
/// `before` (scanned as `before_state`).
fn check_link(
    before: &Segment,
    before_state: &ScanState,
    state: &ScanState,
) -> core::result::Result<(), String> {
    let opening = state
        .opening
        .as_ref()
        .ok_or("does not open with a segment record after a sealed segment")?;
    if opening.prev != before_state.head || opening.seq != before_state.next_seq {
        return Err(format!(
            "does not continue {}: the chain is broken between the two segments",
            before.path.display()
        ));
    }
    let name = before
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let sha256 = file_sha256(&before.path).map_err(|e| e.to_string())?;
    let detail = |k: &str| opening.details.get(k).map(String::as_str);
    if detail("sealed_file") != Some(&*name)
        || detail("sealed_sha256") != Some(sha256.as_str())
        || detail("sealed_first_seq") != Some(&*before.first_seq.to_string())
        || detail("sealed_last_seq") != Some(&*before.last_seq.to_string())
    {
        return Err(format!(
            "its segment record does not describe {} (name, SHA-256 {sha256}, range): the sealed \
             file was replaced",
            before.path.display()
        ));
    }
    Ok(())
}

/// What [`prune_sealed`] deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// The deleted segments, oldest first.
    pub segments: Vec<Segment>,
    /// The sequence number of the record that lists them in the live log.
    pub record_seq: u64,
}

/// Deletes the sealed segments of `log` whose every record is older than `before`, which must
/// be at least [`RETENTION`] before `now` (refused otherwise, changing nothing). The whole set
/// is verified against `audit_key` first, and the deletion recorded in the live log (event
/// [`PRUNED_EVENT`], originator `actor`) before any file is removed. Returns `None` when no
/// segment is that old.
pub fn prune_sealed(
    log: &mut AuditLog,
    audit_key: &PublicKey,
    before: OffsetDateTime,
    now: OffsetDateTime,
    actor: &str,
) -> Result<Option<Pruned>> {
    if before > now - RETENTION {
        return Err(refused(format!(
            "audit records are kept {} days (CA policy §5.4.3): a cut-off of {before} is too recent",
            RETENTION.whole_days()
        )));
    }
    let summary = verify_segments(log.path(), audit_key)?;
    let mut old = Vec::new();
    for (segment, _) in &summary.sealed {
        let state = scan_file(&segment.path, audit_key)?;
        let last = state
            .last_time
            .as_deref()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .ok_or_else(|| refused(format!("{}: no last record time", segment.path.display())))?;
        if last >= before {
            break;
        }
        old.push((segment.clone(), file_sha256(&segment.path)?));
    }
    if old.is_empty() {
        return Ok(None);
    }
    let list =
        |f: fn(&(Segment, String)) -> String| old.iter().map(f).collect::<Vec<_>>().join(",");
    let event = AuditEvent::new(PRUNED_EVENT, Outcome::Success)
        .actor(actor)
        .detail(
            "files",
            list(|(s, _)| {
                s.path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            }),
        )
        .detail("sha256", list(|(_, d)| d.clone()))
        .detail(
            "first_seq",
            old.first().map_or(0, |(s, _)| s.first_seq).to_string(),
        )
        .detail(
            "last_seq",
            old.last().map_or(0, |(s, _)| s.last_seq).to_string(),
        )
        .detail("before", format_time(before)?);
    let record_seq = log.append_at(event, now)?;
    for (segment, _) in &old {
        std::fs::remove_file(&segment.path).map_err(|e| io_err(&segment.path, e))?;
    }
    sync_parent_dir(log.path())?;
    Ok(Some(Pruned {
        segments: old.into_iter().map(|(s, _)| s).collect(),
        record_seq,
    }))
}
