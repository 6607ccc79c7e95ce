//! The tamper-evident audit trail (CA policy §5.4): an append-only file of JSON lines, each
//! record hash-chained to the one before it, with checkpoints signed by a dedicated audit key.
//!
//! # Record format
//!
//! One record per line, UTF-8, terminated by `\n`, at most [`MAX_LINE_LEN`] bytes. The fields
//! appear in exactly this order (the serialisation is *canonical*: `verify` re-encodes every
//! record and refuses a line whose bytes differ):
//!
//! ```text
//! {"seq":1,"time":"2026-01-02T03:04:05Z","terminal_id":"ca-offline-01","event":"ds.issue",
//!  "actors":["op-alice","mgr-bob"],"result":"success","details":{"serial":"01ab"},
//!  "prev":"0000…0000","hash":"9f2c…"}
//! ```
//!
//! (shown wrapped; on disk it is one line with no spaces outside strings)
//!
//! - `seq`: 1 for the first record, then +1 with no gaps;
//! - `time`: RFC 3339 in UTC (`Z`), from the caller or the log's [`Clock`];
//! - `terminal_id`: the unique id of the terminal or system that wrote the record;
//! - `event`: the event type ([`events`] lists the common ones), `[a-z0-9._-]`, 1–64 bytes;
//! - `actors`: operator, custodian or system ids (the originator, §5.4.1);
//! - `result`: `"success"` or `"failure"`;
//! - `details`: a string → string map, serialised with its keys sorted (a `BTreeMap`);
//! - `prev`: the `hash` of the previous record, 64 zeros ([`GENESIS_PREV`]) for the first;
//! - `sig`: present on checkpoint records only (see below);
//! - `hash`: lowercase hex SHA-256 of the *canonical bytes* of the record: the record serialised
//!   as above with the `hash` field left out (`serde_json`, compact, fields in the order listed,
//!   `sig` omitted when absent). Since `prev` is inside those bytes, every hash commits to the
//!   whole history before it.
//!
//! # Checkpoints
//!
//! [`AuditLog::checkpoint`] appends a record with event [`CHECKPOINT_EVENT`] whose `details` are
//! exactly `alg` (e.g. `ES256`), `covers_seq` (the seq of the head it covers, `0` for an empty
//! log), `covers_hash` (that head's hash, which is also the record's `prev`) and
//! `key_fingerprint` ([`key_fingerprint`] of the audit key). Its `sig` is the base64 (standard
//! alphabet, padded) raw signature (`r ‖ s` for ECDSA) by the audit key over
//! [`CHECKPOINT_CONTEXT`] followed by the canonical bytes of the record *without* `sig` (and
//! without `hash`); the record's `hash` is then computed with `sig` included.
//!
//! **The audit key is used for nothing else** (CA policy §5.4.4): not the root, not a DS key,
//! not a TLS key. A dedicated key means a compromise or misuse of any operational key cannot
//! forge audit checkpoints, and an audit signature can never be confused with a certificate,
//! CRL or MSO signature. The library cannot tell what else a key signs; the ceremony script must
//! generate the audit key on its own and record its fingerprint. Within one log, every
//! checkpoint must be signed by the same key ([`AuditLog::checkpoint`] refuses another one).
//!
//! # What verification can and cannot detect
//!
//! [`verify`] recomputes every hash, the sequence and the chain, and checks every checkpoint
//! signature against the trusted audit public key, reporting the *first* problem as
//! [`Error::AuditTampered`] with the sequence number at which it was found: an edited record
//! (hash mismatch), a deleted, reordered or duplicated record (sequence gap), an inserted record
//! (chain mismatch), a bad or foreign checkpoint signature, a torn final line (a crash mid-write
//! or a truncation), a garbage or over-long line, a non-canonical encoding.
//!
//! Records after the last checkpoint are chained but not signed: someone with write access can
//! delete them (truncate the tail back to the last checkpoint, or any earlier record boundary if
//! there is no checkpoint) without leaving a trace in the file. [`VerifySummary::unanchored`]
//! counts them. Only an external anchor — the head hash written on paper in the ceremony record,
//! sent to a second system, or time-stamped (RFC 3161) — detects that; take a checkpoint at the
//! end of every ceremony and anchor [`VerifySummary::head`] externally. Likewise the whole file
//! can be replaced by an older copy of itself; the external anchor of the latest head detects
//! that too.
//!
//! # Segments
//!
//! A log is kept one year and then may be deleted by auditors (CA policy §5.4.3, §5.4.4): the
//! live file is sealed into read-only segments that stay one chain, and old segments are
//! pruned whole ([`AuditLog::seal_at`], [`verify_segments`], [`prune_sealed`]; the `segment`
//! module has the details). A segment after a sealed one opens with a [`SEGMENT_EVENT`] record
//! that continues the sequence and the chain, so its first `seq` is above 1 and its first
//! `prev` is the sealed segment's head.
//!
//! [`crate::timestamp::anchor`] keeps RFC 3161 time-stamp tokens over checkpoints in the log
//! itself (event [`TIMESTAMP_EVENT`]); [`verify`] checks their records' chain only, and
//! [`crate::timestamp::anchor::verify_log`] checks the tokens too.
//!
//! # Secrets
//!
//! No record ever carries a private key, PIN, passphrase or custodian share (§5.4.1). Before
//! writing, [`AuditEvent::check_no_secrets`] refuses `details` keys that name a secret (`pin`,
//! `passphrase`, `password`, `secret`, `share`, `seed`, `private…`, in any case or word
//! position) and any field containing a PEM private-key block. This is a guard against mistakes,
//! not a classifier: callers must still never pass secret material.
//!
//! # Durability and concurrency
//!
//! [`AuditLog::append`] writes each line with one `write` call on a file opened for appending,
//! then `fsync`s it before returning, so a crash leaves at most one torn final line, which
//! [`verify`] reports and [`AuditLog::open`] refuses to append after. One [`AuditLog`] must be
//! the only writer of its file: there is no inter-process lock, and two writers would break the
//! chain (which `verify` would then report).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareVerifier, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

mod segment;

pub use segment::{
    prune_sealed, sealed_segments, verify_segments, Pruned, SealedSegment, Segment,
    SegmentsSummary, PRUNED_EVENT, RETENTION, SEGMENT_EVENT,
};

/// Longest accepted line in bytes, without its `\n`. Longer lines are refused on append and
/// reported by [`verify`] without being read into memory past this bound.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// The `prev` of the first record: 64 zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The event type of a checkpoint record (reserved: [`AuditLog::append`] refuses it).
pub const CHECKPOINT_EVENT: &str = "audit.checkpoint";

/// The event type of a record holding an RFC 3161 time-stamp token over a checkpoint
/// (reserved: written and checked by [`crate::timestamp::anchor`]).
pub const TIMESTAMP_EVENT: &str = "audit.timestamp";

/// The domain-separation prefix of the bytes a checkpoint signature covers.
pub const CHECKPOINT_CONTEXT: &[u8] = b"mdoc-custody audit checkpoint v1\n";

/// Longest accepted event type.
const MAX_EVENT_LEN: usize = 64;

/// Event types used by the CA tool and the issuer service (any `[a-z0-9._-]` name is accepted).
pub mod events {
    /// A key ceremony started.
    pub const CEREMONY_INIT: &str = "ceremony.init";
    /// A key ceremony ended.
    pub const CEREMONY_CLOSE: &str = "ceremony.close";
    /// A key was generated (root, DS, audit).
    pub const KEY_GENERATE: &str = "key.generate";
    /// A DS certificate was issued.
    pub const DS_ISSUE: &str = "ds.issue";
    /// A DS certificate request was refused.
    pub const DS_REFUSED: &str = "ds.refused";
    /// A CRL was issued.
    pub const CRL_ISSUE: &str = "crl.issue";
    /// A certificate or MSO was revoked.
    pub const REVOKE: &str = "revoke";
    /// A quorum of custodians activated a key.
    pub const QUORUM_ACTIVATE: &str = "quorum.activate";
    /// A quorum activation was refused (too few or wrong shares).
    pub const QUORUM_REFUSED: &str = "quorum.refused";
    /// An operator logged in (or failed to).
    pub const LOGIN: &str = "access.login";
    /// Configuration changed.
    pub const CONFIG_CHANGE: &str = "config.change";
}

/// Where records get their time when the caller does not pass one. Tests fix it; production
/// uses [`SystemClock`] (on the offline CA, a clock set from a trusted source at the ceremony).
pub trait Clock: Send + Sync {
    /// The current time (any offset; records store it converted to UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The operating system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that always returns the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The `result` of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `"success"`.
    Success,
    /// `"failure"`.
    Failure,
}

/// What the caller logs; [`AuditLog::append`] adds `seq`, `time`, `terminal_id`, `prev`, `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The event type, e.g. [`events::DS_ISSUE`].
    pub event: String,
    /// Who did it: operator, custodian or system ids.
    pub actors: Vec<String>,
    /// Whether it succeeded.
    pub result: Outcome,
    /// Further facts (serial numbers, key URIs, reasons). Never secrets.
    pub details: BTreeMap<String, String>,
}

impl AuditEvent {
    /// An event with no actors and no details.
    pub fn new(event: impl Into<String>, result: Outcome) -> Self {
        AuditEvent {
            event: event.into(),
            actors: Vec::new(),
            result,
            details: BTreeMap::new(),
        }
    }

    /// A successful event.
    pub fn success(event: impl Into<String>) -> Self {
        Self::new(event, Outcome::Success)
    }

    /// A failed or refused event.
    pub fn failure(event: impl Into<String>) -> Self {
        Self::new(event, Outcome::Failure)
    }

    /// Adds one actor.
    #[must_use]
    pub fn actor(mut self, id: impl Into<String>) -> Self {
        self.actors.push(id.into());
        self
    }

    /// Adds several actors.
    #[must_use]
    pub fn actors<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.actors.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Sets one detail (a later value for the same key replaces the earlier one).
    #[must_use]
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// Refuses details keys that name a secret and any field holding a PEM private key.
    ///
    /// A key is split into words (at non-alphanumerics and lower→upper case changes) and refused
    /// if a word is `pin`, `passphrase`, `password`, `passwd`, `pwd`, `secret`, `share`, `seed`,
    /// `mnemonic` (or their plurals) or starts with `private`/`privkey`. So `user_pin`,
    /// `custodianShare` and `private_key` are refused; `shares_presented` is refused too — use
    /// `presented` or `threshold` for counts. The error names the key, never the value.
    pub fn check_no_secrets(&self) -> Result<()> {
        if contains_private_key_block(&self.event) {
            return Err(refused("the event type contains a PEM private key"));
        }
        for actor in &self.actors {
            if contains_private_key_block(actor) {
                return Err(refused("an actor id contains a PEM private key"));
            }
        }
        for (key, value) in &self.details {
            if key_names_secret(key) {
                return Err(refused(format!(
                    "details key {key:?} names a secret (PIN, passphrase, password, share, \
                     private key): secrets are never written to the audit log"
                )));
            }
            if contains_private_key_block(key) || contains_private_key_block(value) {
                return Err(refused(format!(
                    "details entry {:?} contains a PEM private key: secrets are never written \
                     to the audit log",
                    truncate_for_message(key)
                )));
            }
        }
        Ok(())
    }
}

/// One record, as stored on its line (see the [module docs](self) for the format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Sequence number, from 1, contiguous.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: String,
    /// Terminal or system id.
    pub terminal_id: String,
    /// Event type.
    pub event: String,
    /// Operator, custodian or system ids.
    pub actors: Vec<String>,
    /// Success or failure.
    pub result: Outcome,
    /// Further facts, sorted by key.
    pub details: BTreeMap<String, String>,
    /// Hash of the previous record ([`GENESIS_PREV`] for the first).
    pub prev: String,
    /// Base64 checkpoint signature; `None` (and absent from the line) on other records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// Hex SHA-256 of [`AuditRecord::canonical_bytes`].
    pub hash: String,
}

/// The record without `hash`, in the canonical field order; `sig` optional so the checkpoint's
/// signed bytes are the same serialisation with `sig` left out.
#[derive(Serialize)]
struct CanonicalView<'a> {
    seq: u64,
    time: &'a str,
    terminal_id: &'a str,
    event: &'a str,
    actors: &'a [String],
    result: Outcome,
    details: &'a BTreeMap<String, String>,
    prev: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<&'a str>,
}

impl AuditRecord {
    fn view(&self, with_sig: bool) -> CanonicalView<'_> {
        CanonicalView {
            seq: self.seq,
            time: &self.time,
            terminal_id: &self.terminal_id,
            event: &self.event,
            actors: &self.actors,
            result: self.result,
            details: &self.details,
            prev: &self.prev,
            sig: if with_sig { self.sig.as_deref() } else { None },
        }
    }

    /// The bytes `hash` covers: every field but `hash`, compact JSON, canonical order.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(&self.view(true)).map_err(|e| refused(format!("serialising: {e}")))
    }

    /// Hex SHA-256 of [`canonical_bytes`](Self::canonical_bytes).
    pub fn compute_hash(&self) -> Result<String> {
        Ok(hex::encode(Sha256::digest(self.canonical_bytes()?)))
    }

    /// For a checkpoint: [`CHECKPOINT_CONTEXT`] ‖ the canonical bytes without `sig`.
    pub fn signed_message(&self) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(&self.view(false))
            .map_err(|e| refused(format!("serialising: {e}")))?;
        let mut message = Vec::with_capacity(CHECKPOINT_CONTEXT.len() + body.len());
        message.extend_from_slice(CHECKPOINT_CONTEXT);
        message.extend_from_slice(&body);
        Ok(message)
    }

    /// The line as written to the file (without the trailing `\n`).
    pub fn to_line(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| refused(format!("serialising: {e}")))
    }

    /// Whether this is a checkpoint record.
    pub fn is_checkpoint(&self) -> bool {
        self.event == CHECKPOINT_EVENT
    }
}

/// Hex SHA-256 of the audit key's public point (uncompressed SEC1 for EC keys, the raw 32 bytes
/// for Ed25519): the `key_fingerprint` of checkpoints.
pub fn key_fingerprint(key: &PublicKey) -> String {
    hex::encode(Sha256::digest(key.to_sec1()))
}

/// What [`repair_torn_tail`] cut from a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The sequence number the torn record would have had.
    pub seq: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// SHA-256 (hex) of the bytes cut.
    pub sha256: String,
    /// Where the cut bytes were kept.
    pub saved_to: PathBuf,
}

/// The documented repair of a log whose last write was torn by a crash (a final line without
/// its newline), which [`AuditLog::open`] refuses to append after.
///
/// Everything before the torn line must verify (with `audit_key`, when given, every checkpoint
/// too): anything else is tampering, not a torn write, and is refused with the same error
/// [`verify`] gives, changing nothing. The torn bytes are first saved, owner-only, beside the
/// log (`<log>.torn-<seq>`) and synced, then the log is truncated to its last complete record
/// and synced. Returns `None` (changing nothing) when the log ends on a complete record. The
/// caller records the repair in the log itself once it is open again.
pub fn repair_torn_tail(path: &Path, audit_key: Option<&PublicKey>) -> Result<Option<TornTail>> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let (complete, torn) = bytes.split_at(keep);
    let state = scan(complete, path, audit_key)?;
    let saved_to = PathBuf::from(format!("{}.torn-{}", path.display(), state.next_seq));
    let mut save = OpenOptions::new();
    save.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        save.mode(0o600);
    }
    let mut out = save.open(&saved_to).map_err(|e| io_err(&saved_to, e))?;
    out.write_all(torn).map_err(|e| io_err(&saved_to, e))?;
    out.sync_all().map_err(|e| io_err(&saved_to, e))?;
    let log = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    log.set_len(u64::try_from(keep).unwrap_or(u64::MAX))
        .map_err(|e| io_err(path, e))?;
    log.sync_all().map_err(|e| io_err(path, e))?;
    sync_parent_dir(path)?;
    Ok(Some(TornTail {
        seq: state.next_seq,
        bytes: u64::try_from(torn.len()).unwrap_or(u64::MAX),
        sha256: hex::encode(Sha256::digest(torn)),
        saved_to,
    }))
}

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifySummary {
    /// Records in the log, checkpoints included.
    pub records: u64,
    /// Checkpoint records.
    pub checkpoints: u64,
    /// Sequence number of the last checkpoint, if any.
    pub last_checkpoint_seq: Option<u64>,
    /// Records after the last checkpoint (all records if there is none): hash-chained but not
    /// signed, so their deletion from the tail is undetectable without an external anchor.
    pub unanchored: u64,
    /// Hash of the last record ([`GENESIS_PREV`] for an empty log): anchor it externally.
    pub head: String,
}

/// Verifies the whole log at `path` against the trusted audit public key: every line's bounds
/// and encoding, hash, sequence number and chain link, and every checkpoint's signature.
///
/// Returns the first problem as [`Error::AuditTampered`] whose `seq` is the sequence number the
/// offending line should have had (the one after the last good record); [`Error::Io`] if the file
/// cannot be read. An empty file is a valid, empty log. See the [module docs](self) for what
/// cannot be detected (tail truncation after the last checkpoint).
pub fn verify(path: impl AsRef<Path>, audit_key: &PublicKey) -> Result<VerifySummary> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let state = scan(file, path, Some(audit_key))?;
    Ok(state.summary())
}

/// An open audit log, ready to append. The only writer of its file.
pub struct AuditLog {
    path: PathBuf,
    file: File,
    terminal_id: String,
    clock: Box<dyn Clock>,
    next_seq: u64,
    head: String,
    /// The first sequence number in the file (above 1 in a segment after a sealed one).
    first_seq: u64,
    records: u64,
    checkpoints: u64,
    last_checkpoint_seq: Option<u64>,
    audit_key_fingerprint: Option<String>,
    poisoned: bool,
}

impl core::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("terminal_id", &self.terminal_id)
            .field("next_seq", &self.next_seq)
            .field("head", &self.head)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log at `path`, creating it (empty, mode 0640 on Unix) if it does not exist.
    ///
    /// An existing log is verified first — bounds, encoding, hashes, sequence, chain and the
    /// form of checkpoints (their signatures need the trusted key: use
    /// [`open_verified`](Self::open_verified) or [`verify`]) — and refused with
    /// [`Error::AuditTampered`] if anything is wrong, including a torn final line: nothing is
    /// ever appended to a broken log. Records are stamped with [`SystemClock`] unless
    /// [`with_clock`](Self::with_clock) sets another.
    pub fn open(path: impl AsRef<Path>, terminal_id: impl Into<String>) -> Result<Self> {
        Self::open_inner(path.as_ref(), terminal_id.into(), None)
    }

    /// Like [`open`](Self::open), and also checks every checkpoint signature against the trusted
    /// audit key (and so refuses a log whose checkpoints another key signed).
    pub fn open_verified(
        path: impl AsRef<Path>,
        terminal_id: impl Into<String>,
        audit_key: &PublicKey,
    ) -> Result<Self> {
        Self::open_inner(path.as_ref(), terminal_id.into(), Some(audit_key))
    }

    fn open_inner(path: &Path, terminal_id: String, key: Option<&PublicKey>) -> Result<Self> {
        check_terminal_id(&terminal_id)?;
        segment::finish_interrupted_seal(path)?;
        let (file, created) = open_append(path)?;
        if created {
            sync_parent_dir(path)?;
        }
        let state = scan(&file, path, key)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            terminal_id,
            clock: Box::new(SystemClock),
            next_seq: state.next_seq,
            head: state.head,
            first_seq: state.first_seq,
            records: state.records,
            checkpoints: state.checkpoints,
            last_checkpoint_seq: state.last_checkpoint_seq,
            audit_key_fingerprint: state.key_fingerprint,
            poisoned: false,
        })
    }

    /// Uses `clock` for the time of records appended without an explicit time.
    #[must_use]
    pub fn with_clock(mut self, clock: Box<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The terminal id stamped on records appended through this handle.
    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The hash of the last record ([`GENESIS_PREV`] if the log is empty).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The log's state as [`verify`] would summarise it (without re-reading the file).
    pub fn summary(&self) -> VerifySummary {
        summarise(
            self.records,
            self.checkpoints,
            self.last_checkpoint_seq,
            self.next_seq,
            &self.head,
        )
    }

    /// Appends `event` stamped with the log's clock; returns its sequence number once it is on
    /// disk (written in one `write`, then `fsync`ed).
    ///
    /// Refused with [`Error::AuditRefused`] (nothing written) if a detail looks like a secret
    /// ([`AuditEvent::check_no_secrets`]), the event type is malformed or reserved
    /// ([`CHECKPOINT_EVENT`], [`TIMESTAMP_EVENT`]), an actor id is empty, or the line would
    /// exceed [`MAX_LINE_LEN`].
    pub fn append(&mut self, event: AuditEvent) -> Result<u64> {
        let at = self.clock.now();
        self.append_at(event, at)
    }

    /// Like [`append`](Self::append) with the time given by the caller.
    pub fn append_at(&mut self, event: AuditEvent, at: OffsetDateTime) -> Result<u64> {
        let record = self.new_record(event, at)?;
        self.write_record(record)
    }

    /// Appends `events` in order with one `write` and one `fsync` for all of them (group commit:
    /// a busy service pays one disk flush per batch instead of one per event), stamped with the
    /// log's clock.
    ///
    /// Each event is checked as by [`append`](Self::append); a refused event gets its own `Err`
    /// in the returned vector and is not written, while the others are. The outer `Err` means
    /// the batch write itself failed: then none of its records counts as written (the handle is
    /// poisoned as after a failed [`append`](Self::append)).
    pub fn append_batch(&mut self, events: Vec<AuditEvent>) -> Result<Vec<Result<u64>>> {
        self.check_writable()?;
        let at = self.clock.now();
        let mut buffer = Vec::new();
        let mut outcomes = Vec::with_capacity(events.len());
        // Chain state as if each accepted record were already written.
        let (mut next_seq, mut head, mut records) = (self.next_seq, self.head.clone(), 0u64);
        for event in events {
            let prepared = self.new_record(event, at).and_then(|mut record| {
                record.seq = next_seq;
                record.prev = head.clone();
                let line = encode_line(&mut record)?;
                let after = record
                    .seq
                    .checked_add(1)
                    .ok_or_else(|| refused("sequence number space exhausted"))?;
                Ok((record, line, after))
            });
            match prepared {
                Ok((record, line, after)) => {
                    buffer.extend_from_slice(&line);
                    outcomes.push(Ok(record.seq));
                    next_seq = after;
                    head = record.hash;
                    records = records.saturating_add(1);
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }
        if buffer.is_empty() {
            return Ok(outcomes);
        }
        // As in `write_record`: a failure from here on leaves the file in an unknown state.
        self.poisoned = true;
        self.file
            .write_all(&buffer)
            .map_err(|e| io_err(&self.path, e))?;
        self.file.sync_data().map_err(|e| io_err(&self.path, e))?;
        self.poisoned = false;
        self.next_seq = next_seq;
        self.head = head;
        self.records = self.records.saturating_add(records);
        Ok(outcomes)
    }

    /// Appends a record of a reserved event type (the time-stamp records of
    /// [`crate::timestamp::anchor`]), checked as by [`append`](Self::append) otherwise.
    pub(crate) fn append_reserved_at(
        &mut self,
        event: AuditEvent,
        at: OffsetDateTime,
    ) -> Result<u64> {
        let record = self.build_record(event, at)?;
        self.write_record(record)
    }

    /// Checks `event` and builds its record, chained to the current head.
    fn new_record(&self, event: AuditEvent, at: OffsetDateTime) -> Result<AuditRecord> {
        if [CHECKPOINT_EVENT, TIMESTAMP_EVENT, SEGMENT_EVENT].contains(&event.event.as_str()) {
            return Err(refused(format!(
                "event type {:?} is reserved for the audit log's own records",
                event.event
            )));
        }
        self.build_record(event, at)
    }

    fn build_record(&self, event: AuditEvent, at: OffsetDateTime) -> Result<AuditRecord> {
        // Secrets first, so a secret is always refused as such, whatever else is wrong.
        event.check_no_secrets()?;
        check_event_type(&event.event).map_err(refused)?;
        for actor in &event.actors {
            check_id("actor id", actor).map_err(refused)?;
        }
        Ok(AuditRecord {
            seq: self.next_seq,
            time: format_time(at)?,
            terminal_id: self.terminal_id.clone(),
            event: event.event,
            actors: event.actors,
            result: event.result,
            details: event.details,
            prev: self.head.clone(),
            sig: None,
            hash: String::new(),
        })
    }

    /// Appends a checkpoint covering the current head, signed by `signer`, the dedicated audit
    /// key (used for nothing else — see the [module docs](self)); returns its sequence number.
    ///
    /// Refused if `signer` is not the key earlier checkpoints of this log were signed with, or if
    /// its signature does not verify under its own public key (a broken signer).
    pub fn checkpoint(&mut self, signer: &dyn Signer) -> Result<u64> {
        let at = self.clock.now();
        self.checkpoint_at(signer, at)
    }

    /// Like [`checkpoint`](Self::checkpoint) with the time given by the caller.
    pub fn checkpoint_at(&mut self, signer: &dyn Signer, at: OffsetDateTime) -> Result<u64> {
        self.check_writable()?;
        let alg = signer.algorithm();
        let public = signer.public_key()?;
        public.check_algorithm(alg)?;
        let fingerprint = key_fingerprint(&public);
        if let Some(expected) = &self.audit_key_fingerprint {
            if *expected != fingerprint {
                return Err(refused(format!(
                    "checkpoint key {fingerprint} is not the audit key {expected} that signed \
                     this log's earlier checkpoints"
                )));
            }
        }
        let covers_seq = self.next_seq.saturating_sub(1);
        let mut details = BTreeMap::new();
        details.insert("alg".to_owned(), alg.name().to_owned());
        details.insert("covers_seq".to_owned(), covers_seq.to_string());
        details.insert("covers_hash".to_owned(), self.head.clone());
        details.insert("key_fingerprint".to_owned(), fingerprint.clone());
        let mut record = AuditRecord {
            seq: self.next_seq,
            time: format_time(at)?,
            terminal_id: self.terminal_id.clone(),
            event: CHECKPOINT_EVENT.to_owned(),
            actors: Vec::new(),
            result: Outcome::Success,
            details,
            prev: self.head.clone(),
            sig: None,
            hash: String::new(),
        };
        let message = record.signed_message()?;
        let signature = signer.sign(&message)?;
        // A signer that returns garbage must not produce a checkpoint `verify` will reject.
        SoftwareVerifier.verify(alg, &public, &message, &signature)?;
        record.sig = Some(BASE64.encode(&signature));
        let seq = self.write_record(record)?;
        self.checkpoints = self.checkpoints.saturating_add(1);
        self.last_checkpoint_seq = Some(seq);
        self.audit_key_fingerprint = Some(fingerprint);
        Ok(seq)
    }

    fn check_writable(&self) -> Result<()> {
        if self.poisoned {
            Err(refused(
                "an earlier write to this log failed and may have left a torn line: re-open it \
                 (which re-verifies the file) before appending",
            ))
        } else {
            Ok(())
        }
    }

    fn write_record(&mut self, mut record: AuditRecord) -> Result<u64> {
        self.check_writable()?;
        let line = encode_line(&mut record)?;
        let next_seq = record
            .seq
            .checked_add(1)
            .ok_or_else(|| refused("sequence number space exhausted"))?;
        // From here on a failure leaves the file in an unknown state: refuse further appends
        // through this handle until the file is re-opened and re-verified.
        self.poisoned = true;
        let written = self.file.write(&line).map_err(|e| io_err(&self.path, e))?;
        if written != line.len() {
            return Err(io_err(
                &self.path,
                std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    format!("short write: {written} of {} bytes", line.len()),
                ),
            ));
        }
        self.file.sync_data().map_err(|e| io_err(&self.path, e))?;
        self.poisoned = false;
        self.next_seq = next_seq;
        self.head = record.hash;
        self.records = self.records.saturating_add(1);
        Ok(record.seq)
    }
}

/// Hashes `record` (setting its `hash`) and encodes it as one newline-terminated line, refused
/// over [`MAX_LINE_LEN`].
fn encode_line(record: &mut AuditRecord) -> Result<Vec<u8>> {
    record.hash = record.compute_hash()?;
    let mut line = record.to_line()?.into_bytes();
    if line.len() > MAX_LINE_LEN {
        return Err(refused(format!(
            "record would be {} bytes, over the {MAX_LINE_LEN}-byte line limit",
            line.len()
        )));
    }
    line.push(b'\n');
    Ok(line)
}

/// Running state of a scan over the log.
struct ScanState {
    next_seq: u64,
    head: String,
    records: u64,
    checkpoints: u64,
    last_checkpoint_seq: Option<u64>,
    key_fingerprint: Option<String>,
    /// The first sequence number read (1, or where a segment record continues the chain).
    first_seq: u64,
    /// The segment record the file opens with, if it continues a sealed segment.
    opening: Option<AuditRecord>,
    /// The time of the last record read.
    last_time: Option<String>,
    /// The highest sequence number a prune record says was deleted (pruning is oldest first,
    /// so every record up to it is gone on purpose).
    pruned_through: Option<u64>,
}

impl ScanState {
    fn summary(&self) -> VerifySummary {
        summarise(
            self.records,
            self.checkpoints,
            self.last_checkpoint_seq,
            self.next_seq,
            &self.head,
        )
    }
}

fn summarise(
    records: u64,
    checkpoints: u64,
    last_checkpoint_seq: Option<u64>,
    next_seq: u64,
    head: &str,
) -> VerifySummary {
    // The records after the last checkpoint (every record when there is none).
    let unanchored =
        last_checkpoint_seq.map_or(records, |cp| next_seq.saturating_sub(1).saturating_sub(cp));
    VerifySummary {
        records,
        checkpoints,
        last_checkpoint_seq,
        unanchored,
        head: head.to_owned(),
    }
}

/// Reads the log line by line (never more than `MAX_LINE_LEN + 1` bytes of one line) and checks
/// it; with `key`, checkpoint signatures too.
fn scan(reader: impl Read, path: &Path, key: Option<&PublicKey>) -> Result<ScanState> {
    scan_visiting(reader, path, key, &mut |_| Ok(()))
}

/// What checks records beyond the chain: called on each record once it verified, in order; an
/// `Err` is reported as tampering at that record.
pub(crate) type Visitor<'v> = dyn FnMut(&AuditRecord) -> core::result::Result<(), String> + 'v;

/// [`verify`], handing every verified record to `visit` (see [`Visitor`]).
pub(crate) fn verify_visiting(
    path: &Path,
    audit_key: &PublicKey,
    visit: &mut Visitor<'_>,
) -> Result<VerifySummary> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    Ok(scan_visiting(file, path, Some(audit_key), visit)?.summary())
}

fn scan_visiting(
    reader: impl Read,
    path: &Path,
    key: Option<&PublicKey>,
    visit: &mut Visitor<'_>,
) -> Result<ScanState> {
    let expected_fingerprint = key.map(key_fingerprint);
    let mut reader = BufReader::new(reader);
    let mut state = ScanState {
        next_seq: 1,
        head: GENESIS_PREV.to_owned(),
        records: 0,
        checkpoints: 0,
        last_checkpoint_seq: None,
        key_fingerprint: None,
        first_seq: 1,
        opening: None,
        last_time: None,
        pruned_through: None,
    };
    let limit = u64::try_from(MAX_LINE_LEN)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_err(path, e))?;
        if read == 0 {
            break;
        }
        let seq = state.next_seq;
        let tampered = |reason: String| Error::AuditTampered { seq, reason };
        let line = match buf.strip_suffix(b"\n") {
            Some(line) => line,
            None if buf.len() > MAX_LINE_LEN => {
                return Err(tampered(format!("line longer than {MAX_LINE_LEN} bytes")))
            }
            None => {
                return Err(tampered(format!(
                    "incomplete final line ({} bytes, no newline): a torn write or a truncated \
                     file",
                    buf.len()
                )))
            }
        };
        // A segment after a sealed one continues the chain where the sealed one ended.
        let start = if state.records == 0 {
            segment::segment_start(line)
        } else {
            None
        };
        let opens_segment = start.is_some();
        if let Some((first, prev)) = start {
            state.next_seq = first;
            state.head = prev;
            state.first_seq = first;
        }
        let seq = state.next_seq;
        let tampered = |reason: String| Error::AuditTampered { seq, reason };
        let record =
            check_line(line, &state, expected_fingerprint.as_deref(), key).map_err(tampered)?;
        if record.event == SEGMENT_EVENT {
            if !opens_segment {
                return Err(tampered(
                    "a segment record anywhere but at the start of a file".to_owned(),
                ));
            }
            state.opening = Some(record.clone());
        }
        state.last_time = Some(record.time.clone());
        if record.event == PRUNED_EVENT {
            let last = record.details.get("last_seq").and_then(|v| v.parse().ok());
            state.pruned_through = state.pruned_through.max(last);
        }
        visit(&record).map_err(tampered)?;
        if record.is_checkpoint() {
            state.checkpoints = state.checkpoints.saturating_add(1);
            state.last_checkpoint_seq = Some(record.seq);
            if state.key_fingerprint.is_none() {
                state.key_fingerprint = record.details.get("key_fingerprint").cloned();
            }
        }
        state.records = state.records.saturating_add(1);
        state.next_seq = seq
            .checked_add(1)
            .ok_or_else(|| tampered("sequence number overflows".to_owned()))?;
        state.head = record.hash;
    }
    Ok(state)
}

/// Checks one line (without its newline) at the position where record `state.next_seq` belongs.
fn check_line(
    line: &[u8],
    state: &ScanState,
    expected_fingerprint: Option<&str>,
    key: Option<&PublicKey>,
) -> core::result::Result<AuditRecord, String> {
    let seq = state.next_seq;
    if line.is_empty() {
        return Err("empty line".to_owned());
    }
    let text = core::str::from_utf8(line).map_err(|_| "line is not UTF-8".to_owned())?;
    let record: AuditRecord =
        serde_json::from_str(text).map_err(|e| format!("not a valid audit record: {e}"))?;
    let canonical = serde_json::to_string(&record).map_err(|e| format!("re-encoding: {e}"))?;
    if canonical != text {
        return Err(format!(
            "line is not in canonical form (record seq {} re-encodes differently)",
            record.seq
        ));
    }
    let hash = hex::encode(Sha256::digest(
        record.canonical_bytes().map_err(|e| e.to_string())?,
    ));
    if hash != record.hash {
        return Err(format!(
            "hash mismatch on record seq {}: the record was altered (stored {}, computed {hash})",
            record.seq, record.hash
        ));
    }
    if record.seq != seq {
        return Err(format!(
            "expected record {seq}, found record {}: a record was deleted, reordered or \
             duplicated",
            record.seq
        ));
    }
    if record.prev != state.head {
        return Err(format!(
            "chain broken: prev {} is not the hash {} of record {}: a record was inserted or \
             replaced",
            record.prev,
            state.head,
            seq.saturating_sub(1)
        ));
    }
    check_time(&record.time)?;
    check_id("terminal_id", &record.terminal_id)?;
    check_event_type(&record.event)?;
    for actor in &record.actors {
        check_id("actor id", actor)?;
    }
    if record.is_checkpoint() {
        check_checkpoint(&record, state, expected_fingerprint, key)?;
    } else if record.sig.is_some() {
        return Err("a signature on a record that is not a checkpoint".to_owned());
    }
    Ok(record)
}

fn check_checkpoint(
    record: &AuditRecord,
    state: &ScanState,
    expected_fingerprint: Option<&str>,
    key: Option<&PublicKey>,
) -> core::result::Result<(), String> {
    let detail = |name: &str| {
        record
            .details
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("checkpoint without {name}"))
    };
    if record.details.len() != 4 {
        return Err(
            "checkpoint details must be exactly alg, covers_seq, covers_hash, key_fingerprint"
                .to_owned(),
        );
    }
    let alg = match detail("alg")? {
        "ES256" => Algorithm::Es256,
        "ES384" => Algorithm::Es384,
        "ES512" => Algorithm::Es512,
        "EdDSA" => Algorithm::EdDsa,
        other => return Err(format!("checkpoint algorithm {other:?} is not supported")),
    };
    let covers_seq = state.next_seq.saturating_sub(1).to_string();
    if detail("covers_seq")? != covers_seq {
        return Err(format!(
            "checkpoint covers_seq {} is not the preceding record {covers_seq}",
            detail("covers_seq")?
        ));
    }
    if detail("covers_hash")? != state.head {
        return Err("checkpoint covers_hash is not the hash of the preceding record".to_owned());
    }
    let fingerprint = detail("key_fingerprint")?;
    let expected = expected_fingerprint.or(state.key_fingerprint.as_deref());
    if let Some(expected) = expected {
        if fingerprint != expected {
            return Err(format!(
                "checkpoint signed by another key (fingerprint {fingerprint}, audit key \
                 {expected})"
            ));
        }
    }
    let signature = record
        .sig
        .as_deref()
        .ok_or_else(|| "checkpoint without signature".to_owned())?;
    let signature = BASE64
        .decode(signature)
        .map_err(|_| "checkpoint signature is not valid base64".to_owned())?;
    if signature.len() != alg.signature_len() {
        return Err(format!(
            "checkpoint signature is {} bytes, {alg} signatures are {}",
            signature.len(),
            alg.signature_len()
        ));
    }
    if let Some(key) = key {
        key.check_algorithm(alg)
            .map_err(|_| format!("checkpoint algorithm {alg} does not fit the audit key"))?;
        let message = record.signed_message().map_err(|e| e.to_string())?;
        SoftwareVerifier
            .verify(alg, key, &message, &signature)
            .map_err(|_| "checkpoint signature does not verify under the audit key".to_owned())?;
    }
    Ok(())
}

fn open_append(path: &Path) -> Result<(File, bool)> {
    let mut create = OpenOptions::new();
    create.read(true).append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        create.mode(0o640);
    }
    match create.open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(path)
                .map_err(|e| io_err(path, e))?;
            Ok((file, false))
        }
        Err(e) => Err(io_err(path, e)),
    }
}

/// Makes a newly created log file's directory entry durable.
fn sync_parent_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_err(parent, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn format_time(at: OffsetDateTime) -> Result<String> {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| refused(format!("time {at} cannot be written as RFC 3339: {e}")))
}

fn check_time(time: &str) -> core::result::Result<(), String> {
    let parsed = OffsetDateTime::parse(time, &Rfc3339)
        .map_err(|_| format!("time {time:?} is not RFC 3339"))?;
    if parsed.offset() != UtcOffset::UTC || !time.ends_with('Z') {
        return Err(format!("time {time:?} is not in UTC (Z)"));
    }
    Ok(())
}

fn check_event_type(event: &str) -> core::result::Result<(), String> {
    let ok = !event.is_empty()
        && event.len() <= MAX_EVENT_LEN
        && event.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "event type {:?} is not 1-{MAX_EVENT_LEN} characters of [a-z0-9._-]",
            truncate_for_message(event)
        ))
    }
}

fn check_id(what: &str, id: &str) -> core::result::Result<(), String> {
    if id.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(())
}

fn check_terminal_id(id: &str) -> Result<()> {
    check_id("terminal_id", id).map_err(refused)
}

/// Words of a details key that name a secret.
const SECRET_WORDS: &[&str] = &[
    "pin",
    "pins",
    "passphrase",
    "passphrases",
    "password",
    "passwords",
    "passwd",
    "pwd",
    "secret",
    "secrets",
    "share",
    "shares",
    "seed",
    "mnemonic",
];

fn key_names_secret(key: &str) -> bool {
    split_words(key).iter().any(|word| {
        SECRET_WORDS.contains(&word.as_str())
            || word.starts_with("private")
            || word.starts_with("privkey")
    })
}

/// Splits at non-alphanumerics and at lower→upper case changes, lowercasing: `userPIN_hash` →
/// `user`, `pin`, `hash`.
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(core::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(core::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_numeric();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A PEM private-key block: `-----BEGIN … PRIVATE KEY-----` (PKCS#8, SEC1, RSA, OpenSSH,
/// encrypted), in any case.
fn contains_private_key_block(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    upper.contains("PRIVATE KEY-----")
        || upper
            .find("-----BEGIN")
            .is_some_and(|at| upper.get(at..).is_some_and(|rest| rest.contains("PRIVATE")))
}

fn truncate_for_message(s: &str) -> String {
    s.chars().take(64).collect()
}

fn refused(reason: impl Into<String>) -> Error {
    Error::AuditRefused(reason.into())
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}
