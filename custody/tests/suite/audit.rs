//! The audit log: format, chaining, checkpoints, tamper detection, secret guard.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use custody::audit::{
    self, key_fingerprint, AuditEvent, AuditLog, AuditRecord, FixedClock, Outcome,
    CHECKPOINT_EVENT, GENESIS_PREV, MAX_LINE_LEN,
};
use custody::Error;
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey};
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2026-01-02 03:04:05 UTC);
const TERMINAL: &str = "ca-offline-01";

fn clock() -> Box<FixedClock> {
    Box::new(FixedClock(T0))
}

fn public(key: &SoftwareKey) -> PublicKey {
    key.public_key().unwrap()
}

fn open(path: &Path) -> AuditLog {
    AuditLog::open(path, TERMINAL).unwrap().with_clock(clock())
}

fn event(i: u64) -> AuditEvent {
    AuditEvent::success("ds.issue")
        .actor("op-alice")
        .actor("mgr-bob")
        .detail("serial", format!("{i:04x}"))
        .detail("csr_sha256", "ab".repeat(32))
}

/// seq 1–4 events, 5 checkpoint, 6–7 events, 8 checkpoint.
fn build_log(dir: &Path, key: &SoftwareKey) -> PathBuf {
    let path = dir.join("audit.log");
    let mut log = open(&path);
    for i in 1..=4 {
        assert_eq!(log.append(event(i)).unwrap(), i);
    }
    assert_eq!(log.checkpoint(key).unwrap(), 5);
    assert_eq!(log.append(event(6)).unwrap(), 6);
    assert_eq!(
        log.append(
            AuditEvent::failure("ds.refused")
                .actor("op-carol")
                .detail("reason", "weak key")
        )
        .unwrap(),
        7
    );
    assert_eq!(log.checkpoint(key).unwrap(), 8);
    path
}

fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'));
    text.lines().map(str::to_owned).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn parse(line: &str) -> AuditRecord {
    serde_json::from_str(line).unwrap()
}

/// What an attacker with write access does: edit a record and recompute its own hash.
fn rewrite(line: &str, edit: impl FnOnce(&mut AuditRecord)) -> String {
    let mut record = parse(line);
    edit(&mut record);
    record.hash = record.compute_hash().unwrap();
    record.to_line().unwrap()
}

#[track_caller]
fn assert_tampered<T: std::fmt::Debug>(result: custody::Result<T>, want_seq: u64, needle: &str) {
    match result {
        Err(Error::AuditTampered { seq, reason }) => {
            assert_eq!(seq, want_seq, "wrong seq; reason: {reason}");
            assert!(
                reason.contains(needle),
                "reason {reason:?} does not mention {needle:?}"
            );
        }
        other => panic!("expected AuditTampered at {want_seq}, got {other:?}"),
    }
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: custody::Result<T>, needle: &str) -> String {
    match result {
        Err(Error::AuditRefused(reason)) => {
            assert!(
                reason.contains(needle),
                "reason {reason:?} does not mention {needle:?}"
            );
            reason
        }
        other => panic!("expected AuditRefused, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Happy paths and format
// ---------------------------------------------------------------------------------------------

#[test]
fn append_checkpoint_verify_ok() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    assert_eq!(log.next_seq(), 1);
    assert_eq!(log.head(), GENESIS_PREV);
    assert_eq!(log.append(event(1)).unwrap(), 1);
    assert_eq!(log.append(event(2)).unwrap(), 2);
    assert_eq!(log.checkpoint(&key).unwrap(), 3);
    assert_eq!(log.append(event(4)).unwrap(), 4);

    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!(summary.records, 4);
    assert_eq!(summary.checkpoints, 1);
    assert_eq!(summary.last_checkpoint_seq, Some(3));
    assert_eq!(summary.unanchored, 1);
    assert_eq!(summary.head, log.head());
    assert_eq!(summary, log.summary());

    let records: Vec<AuditRecord> = lines(&path).iter().map(|l| parse(l)).collect();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].prev, GENESIS_PREV);
    for (i, pair) in records.windows(2).enumerate() {
        assert_eq!(pair[1].prev, pair[0].hash, "link {i}");
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    let cp = &records[2];
    assert!(cp.is_checkpoint());
    assert_eq!(cp.event, CHECKPOINT_EVENT);
    assert_eq!(cp.details["covers_seq"], "2");
    assert_eq!(cp.details["covers_hash"], records[1].hash);
    assert_eq!(cp.details["alg"], "ES256");
    assert_eq!(
        cp.details["key_fingerprint"],
        key_fingerprint(&public(&key))
    );
    assert!(cp.sig.is_some());
    assert!(records[3].sig.is_none());
}

#[test]
fn record_format_is_the_documented_canonical_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    // Details inserted out of order: the line must have them sorted.
    log.append(
        AuditEvent::success("ds.issue")
            .actor("op-alice")
            .detail("serial", "01ab")
            .detail("key_uri", "pkcs11:token=ds;object=ds-2026"),
    )
    .unwrap();
    let canonical = format!(
        concat!(
            r#"{{"seq":1,"time":"2026-01-02T03:04:05Z","terminal_id":"ca-offline-01","#,
            r#""event":"ds.issue","actors":["op-alice"],"result":"success","#,
            r#""details":{{"key_uri":"pkcs11:token=ds;object=ds-2026","serial":"01ab"}},"#,
            r#""prev":"{}"}}"#
        ),
        GENESIS_PREV
    );
    let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
    let expected_line = format!(
        "{},\"hash\":\"{hash}\"}}",
        canonical.strip_suffix('}').unwrap()
    );
    assert_eq!(lines(&path), vec![expected_line]);
    assert_eq!(log.head(), hash);
}

#[test]
fn time_comes_from_the_clock_or_the_caller_and_is_utc() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(event(1)).unwrap();
    log.append_at(event(2), datetime!(2026-03-04 14:00:00.25 +09:00))
        .unwrap();
    let records: Vec<AuditRecord> = lines(&path).iter().map(|l| parse(l)).collect();
    assert_eq!(records[0].time, "2026-01-02T03:04:05Z");
    assert_eq!(records[1].time, "2026-03-04T05:00:00.25Z");
    let key = SoftwareKey::generate(Algorithm::Es256);
    audit::verify(&path, &public(&key)).unwrap();
}

#[test]
fn batch_append_writes_the_accepted_events_chained_and_refuses_the_bad_one_alone() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    assert_eq!(log.append(event(1)).unwrap(), 1);
    let secret = AuditEvent::success("ds.issue").detail("pin", "123456");
    let outcomes = log
        .append_batch(vec![event(2), secret, event(3), event(4)])
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(*outcomes[0].as_ref().unwrap(), 2);
    assert!(matches!(outcomes[1], Err(Error::AuditRefused(_))));
    assert_eq!(*outcomes[2].as_ref().unwrap(), 3);
    assert_eq!(*outcomes[3].as_ref().unwrap(), 4);
    assert_eq!(log.next_seq(), 5);
    // An all-refused batch writes nothing and moves nothing.
    let head = log.head().to_owned();
    let refused = log
        .append_batch(vec![AuditEvent::success(CHECKPOINT_EVENT)])
        .unwrap();
    assert!(matches!(refused[0], Err(Error::AuditRefused(_))));
    assert_eq!((log.next_seq(), log.head()), (5, head.as_str()));
    assert_eq!(log.append(event(5)).unwrap(), 5);
    drop(log);

    let records: Vec<AuditRecord> = lines(&path).iter().map(|l| parse(l)).collect();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| !r.details.contains_key("pin")));
    // The batch is indistinguishable from one-by-one appends: the whole chain verifies.
    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!(summary.records, 5);
    assert_eq!(summary.head, records[4].hash);
}

#[test]
fn reopen_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    let head;
    {
        let mut log = open(&path);
        log.append(event(1)).unwrap();
        log.append(event(2)).unwrap();
        log.checkpoint(&key).unwrap();
        head = log.head().to_owned();
    }
    let mut log = AuditLog::open_verified(&path, "issuer-02", &public(&key))
        .unwrap()
        .with_clock(clock());
    assert_eq!(log.next_seq(), 4);
    assert_eq!(log.head(), head);
    assert_eq!(log.summary().checkpoints, 1);
    assert_eq!(log.append(event(4)).unwrap(), 4);
    assert_eq!(log.checkpoint(&key).unwrap(), 5);
    drop(log);

    let records: Vec<AuditRecord> = lines(&path).iter().map(|l| parse(l)).collect();
    assert_eq!(records[3].prev, head);
    assert_eq!(records[3].terminal_id, "issuer-02");
    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!(
        (
            summary.records,
            summary.checkpoints,
            summary.last_checkpoint_seq,
            summary.unanchored
        ),
        (5, 2, Some(5), 0)
    );
}

#[test]
fn checkpoint_of_an_empty_log_covers_seq_zero() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::EdDsa);
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    assert_eq!(log.checkpoint(&key).unwrap(), 1);
    let record = parse(&lines(&path)[0]);
    assert_eq!(record.details["covers_seq"], "0");
    assert_eq!(record.details["covers_hash"], GENESIS_PREV);
    assert_eq!(record.details["alg"], "EdDSA");
    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!(summary.last_checkpoint_seq, Some(1));
}

#[test]
fn empty_file_is_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    drop(open(&path));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!((summary.records, summary.unanchored), (0, 0));
    assert_eq!(summary.last_checkpoint_seq, None);
    assert_eq!(summary.head, GENESIS_PREV);
}

#[test]
fn verify_of_a_missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let result = audit::verify(dir.path().join("nope.log"), &public(&key));
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// Tampering
// ---------------------------------------------------------------------------------------------

#[test]
fn untouched_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let summary = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!(
        (
            summary.records,
            summary.checkpoints,
            summary.last_checkpoint_seq,
            summary.unanchored
        ),
        (8, 2, Some(8), 0)
    );
}

#[test]
fn edited_middle_record_is_a_hash_mismatch_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    assert!(l[2].contains("\"op-alice\""));
    l[2] = l[2].replace("\"op-alice\"", "\"op-mallory\"");
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "hash mismatch");
}

#[test]
fn edited_result_is_a_hash_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l[6] = l[6].replace("\"result\":\"failure\"", "\"result\":\"success\"");
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 7, "hash mismatch");
}

#[test]
fn edited_record_with_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l[2] = rewrite(&l[2], |r| r.actors = vec!["op-mallory".into()]);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 4, "chain broken");
}

#[test]
fn deleted_record_is_a_seq_gap() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l.remove(2);
    write_lines(&path, &l);
    assert_tampered(
        audit::verify(&path, &public(&key)),
        3,
        "expected record 3, found record 4",
    );
}

#[test]
fn deleted_and_renumbered_records_break_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l.remove(2);
    // Renumber record 4 as 3 and re-hash it: the gap is hidden, the chain is not.
    l[2] = rewrite(&l[2], |r| r.seq = 3);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "chain broken");
}

#[test]
fn swapped_records_are_detected_at_the_first_position() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l.swap(1, 2);
    write_lines(&path, &l);
    assert_tampered(
        audit::verify(&path, &public(&key)),
        2,
        "expected record 2, found record 3",
    );
}

#[test]
fn inserted_record_with_valid_hash_but_wrong_prev_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    let record2_hash = parse(&l[1]).hash;
    // A forged record 4, chained to record 2 instead of 3, with its own hash recomputed.
    let forged = rewrite(&l[3], |r| {
        r.details.insert("serial".into(), "ffff".into());
        r.prev = record2_hash;
    });
    assert_eq!(parse(&forged).hash, parse(&forged).compute_hash().unwrap());
    l.insert(3, forged);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 4, "chain broken");
}

#[test]
fn inserted_record_with_correct_prev_shows_as_a_duplicate_seq() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    let record3_hash = parse(&l[2]).hash;
    let forged = rewrite(&l[3], |r| {
        r.details.insert("serial".into(), "ffff".into());
        r.prev = record3_hash;
    });
    l.insert(3, forged);
    write_lines(&path, &l);
    assert_tampered(
        audit::verify(&path, &public(&key)),
        5,
        "expected record 5, found record 4",
    );
}

#[test]
fn changed_checkpoint_signature_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let original = lines(&path);
    let flip_sig = |r: &mut AuditRecord| {
        let sig = r.sig.as_mut().unwrap();
        // Change one base64 character in the middle (still valid base64, same length).
        let mid = sig.len() / 2;
        let c = if &sig[mid..=mid] == "A" { "B" } else { "A" };
        sig.replace_range(mid..=mid, c);
    };

    // Signature changed, hash left alone: the record's hash no longer matches.
    let mut l = original.clone();
    let mut record = parse(&l[4]);
    flip_sig(&mut record);
    l[4] = record.to_line().unwrap();
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 5, "hash mismatch");

    // Signature changed and hash recomputed: the signature itself fails.
    let mut l = original;
    l[4] = rewrite(&l[4], flip_sig);
    write_lines(&path, &l);
    assert_tampered(
        audit::verify(&path, &public(&key)),
        5,
        "signature does not verify",
    );
}

#[test]
fn checkpoint_signed_by_another_key_is_detected() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let other = SoftwareKey::generate(Algorithm::Es256);
    let dir = tempfile::tempdir().unwrap();
    let genuine = build_log(dir.path(), &key);

    // The attacker rebuilds records 1-4 identically (same clock, same content) and signs the
    // checkpoint with their own key; the rest of the genuine log follows.
    let forged_dir = tempfile::tempdir().unwrap();
    let forged_path = forged_dir.path().join("audit.log");
    {
        let mut log = open(&forged_path);
        for i in 1..=4 {
            log.append(event(i)).unwrap();
        }
        log.checkpoint(&other).unwrap();
    }
    let forged = lines(&forged_path);
    let mut l = lines(&genuine);
    assert_eq!(forged[..4], l[..4]);
    assert_ne!(forged[4], l[4]);
    l[4] = forged[4].clone();
    write_lines(&genuine, &l);
    assert_tampered(audit::verify(&genuine, &public(&key)), 5, "another key");

    // Same, but claiming the genuine key's fingerprint: the signature fails.
    let fingerprint = key_fingerprint(&public(&key));
    l[4] = rewrite(&forged[4], |r| {
        r.details.insert("key_fingerprint".into(), fingerprint);
    });
    write_lines(&genuine, &l);
    assert_tampered(
        audit::verify(&genuine, &public(&key)),
        5,
        "signature does not verify",
    );

    // A wholly forged log signed by `other` fails against the trusted key at its first
    // checkpoint (and passes against `other`: trust is in the key, not the file).
    let summary = audit::verify(&forged_path, &public(&other)).unwrap();
    assert_eq!(summary.checkpoints, 1);
    assert_tampered(audit::verify(&forged_path, &public(&key)), 5, "another key");
}

#[test]
fn verify_against_the_wrong_key_fails_at_the_first_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let wrong = SoftwareKey::generate(Algorithm::Es256);
    assert_tampered(audit::verify(&path, &public(&wrong)), 5, "another key");
}

#[test]
fn forged_signature_on_an_ordinary_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    let sig = parse(&l[4]).sig;
    l[5] = rewrite(&l[5], |r| r.sig = sig);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 6, "not a checkpoint");
}

#[test]
fn checkpoint_relabelled_as_ordinary_event_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l[4] = rewrite(&l[4], |r| {
        r.event = "ds.issue".into();
        r.sig = None;
    });
    write_lines(&path, &l);
    // Hash recomputed, so the break shows at the next link.
    assert_tampered(audit::verify(&path, &public(&key)), 6, "chain broken");
}

#[test]
fn torn_final_line_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let bytes = std::fs::read(&path).unwrap();
    let last_line_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let cut = last_line_start + (bytes.len() - last_line_start) / 2;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    assert_tampered(
        audit::verify(&path, &public(&key)),
        8,
        "incomplete final line",
    );

    // Cut just before the newline: the JSON is complete, but the line is still torn.
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    assert_tampered(
        audit::verify(&path, &public(&key)),
        8,
        "incomplete final line",
    );
}

#[test]
fn line_cut_in_the_middle_of_the_file_is_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    let half = l[2].len() / 2;
    l[2].truncate(half);
    write_lines(&path, &l);
    assert_tampered(
        audit::verify(&path, &public(&key)),
        3,
        "not a valid audit record",
    );
}

#[test]
fn garbage_empty_and_non_canonical_lines_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let original = lines(&path);

    let mut l = original.clone();
    l.insert(2, "hello".into());
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "not a valid");

    let mut l = original.clone();
    l.insert(2, String::new());
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "empty line");

    // Same record, extra whitespace: semantically equal JSON, but not the canonical bytes.
    let mut l = original.clone();
    l[2] = l[2].replacen(",", ", ", 1);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "canonical");

    // An unknown field is refused.
    let mut l = original.clone();
    l[2] = l[2].replacen("{", "{\"note\":\"x\",", 1);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 3, "unknown field");

    // Non-UTF-8 bytes.
    let mut bytes = Vec::new();
    for (i, line) in original.iter().enumerate() {
        if i == 2 {
            bytes.extend_from_slice(b"\xff\xfe\n");
        }
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    std::fs::write(&path, bytes).unwrap();
    assert_tampered(audit::verify(&path, &public(&key)), 3, "UTF-8");
}

#[test]
fn over_long_line_is_refused_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l.insert(1, "x".repeat(10 * MAX_LINE_LEN));
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 2, "longer than");

    // Exactly at the limit is read (and then fails as garbage, not as over-long).
    let mut l = lines(&path);
    l[1] = "x".repeat(MAX_LINE_LEN);
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 2, "not a valid");
}

#[test]
fn non_utc_time_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l[0] = rewrite(&l[0], |r| r.time = "2026-01-02T12:04:05+09:00".into());
    // Hash recomputed: the record is intact as bytes, but its time is not UTC.
    write_lines(&path, &l);
    assert_tampered(audit::verify(&path, &public(&key)), 1, "UTC");
}

#[test]
fn tail_truncation_after_the_last_checkpoint_is_only_visible_as_unanchored() {
    // The documented limitation: records after the last checkpoint can be cut off at a record
    // boundary without a trace; the summary says how many records are at risk.
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(event(1)).unwrap();
    log.checkpoint(&key).unwrap();
    log.append(event(3)).unwrap();
    log.append(event(4)).unwrap();
    let head = log.head().to_owned();
    drop(log);
    let full = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!((full.records, full.unanchored), (4, 2));
    assert_eq!(full.head, head);

    let mut l = lines(&path);
    l.pop();
    write_lines(&path, &l);
    let cut = audit::verify(&path, &public(&key)).unwrap();
    assert_eq!((cut.records, cut.unanchored), (3, 1));
    // Only an external anchor of the head notices.
    assert_ne!(cut.head, head);
}

// ---------------------------------------------------------------------------------------------
// open() refuses broken logs
// ---------------------------------------------------------------------------------------------

#[test]
fn open_refuses_to_append_to_a_tampered_log() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    l[2] = l[2].replace("\"op-alice\"", "\"op-mallory\"");
    write_lines(&path, &l);
    let before = std::fs::read(&path).unwrap();
    assert_tampered(AuditLog::open(&path, TERMINAL), 3, "hash mismatch");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "file must be untouched"
    );
}

#[test]
fn open_refuses_a_log_with_a_deleted_record_or_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let original = std::fs::read(&path).unwrap();

    let mut l = lines(&path);
    l.remove(5);
    write_lines(&path, &l);
    assert_tampered(AuditLog::open(&path, TERMINAL), 6, "expected record 6");

    std::fs::write(&path, &original[..original.len() - 10]).unwrap();
    assert_tampered(AuditLog::open(&path, TERMINAL), 8, "incomplete final line");
}

#[test]
fn open_verified_refuses_a_forged_checkpoint_that_open_cannot_see() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    // Truncate after the first checkpoint and replace its signature (re-hashed): the chain is
    // intact, only the signature is wrong.
    l.truncate(5);
    l[4] = rewrite(&l[4], |r| {
        let sig = r.sig.as_mut().unwrap();
        let replacement = if sig.starts_with('A') { "B" } else { "A" };
        sig.replace_range(0..1, replacement);
    });
    write_lines(&path, &l);
    // Without the key, open() checks structure only.
    assert_eq!(AuditLog::open(&path, TERMINAL).unwrap().next_seq(), 6);
    assert_tampered(
        AuditLog::open_verified(&path, TERMINAL, &public(&key)),
        5,
        "signature does not verify",
    );
}

#[test]
fn open_refuses_checkpoints_by_two_different_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let other = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let mut l = lines(&path);
    let fp_other = key_fingerprint(&public(&other));
    // Record 8 claims another key (hash recomputed; it is the last record, so the chain holds).
    l[7] = rewrite(&l[7], |r| {
        r.details.insert("key_fingerprint".into(), fp_other);
    });
    write_lines(&path, &l);
    assert_tampered(AuditLog::open(&path, TERMINAL), 8, "another key");
}

// ---------------------------------------------------------------------------------------------
// Refusals on append
// ---------------------------------------------------------------------------------------------

#[test]
fn secret_looking_details_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(event(1)).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();

    let secret_value = "correct horse battery staple";
    for key in [
        "pin",
        "PIN",
        "user_pin",
        "userPin",
        "so-pin",
        "passphrase",
        "custodian.passphrase",
        "password",
        "Password",
        "secret",
        "client_secret",
        "share",
        "custodian_share",
        "shares",
        "private_key",
        "privateKey",
        "private",
        "seed",
    ] {
        let reason = assert_refused(
            log.append(AuditEvent::success("quorum.activate").detail(key, secret_value)),
            "names a secret",
        );
        assert!(reason.contains(key), "{reason}");
        assert!(!reason.contains(secret_value), "the value leaked: {reason}");
    }

    let pems = [
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB",
        "note: -----begin openssh private key----- abc",
    ];
    for pem in pems {
        let reason = assert_refused(
            log.append(AuditEvent::success("key.generate").detail("note", pem)),
            "PEM private key",
        );
        assert!(
            !reason.contains("MII") && !reason.contains("MHc"),
            "{reason}"
        );
    }
    assert_refused(
        log.append(AuditEvent::success("key.generate").actor(pems[0])),
        "PEM private key",
    );

    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    assert_eq!(log.next_seq(), 2);

    // Ordinary details, including ones that merely resemble secret words, go through.
    let ok = AuditEvent::success("quorum.activate")
        .actors(["cust-1", "cust-2", "cust-3"])
        .detail("key_uri", "pkcs11:token=root;object=iaca-2026")
        .detail("threshold", "3")
        .detail("presented", "3")
        .detail("pinned_version", "1.2")
        .detail(
            "public_key",
            "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
        )
        .detail("spinner", "ok");
    assert_eq!(ok.check_no_secrets().map_err(|e| e.to_string()), Ok(()));
    assert_eq!(log.append(ok).unwrap(), 2);
}

#[test]
fn reserved_malformed_and_oversized_events_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = dir.path().join("audit.log");
    let mut log = open(&path);

    assert_refused(
        log.append(AuditEvent::success(CHECKPOINT_EVENT)),
        "reserved",
    );
    assert_refused(log.append(AuditEvent::success("")), "event type");
    assert_refused(log.append(AuditEvent::success("DS Issue")), "event type");
    assert_refused(
        log.append(AuditEvent::success("ds.issue").actor(" ")),
        "actor",
    );
    assert_refused(
        log.append(AuditEvent::success("ds.issue").detail("blob", "x".repeat(MAX_LINE_LEN))),
        "line limit",
    );
    assert!(matches!(
        AuditLog::open(dir.path().join("other.log"), ""),
        Err(Error::AuditRefused(_))
    ));

    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(log.append(event(1)).unwrap(), 1);
    log.checkpoint(&key).unwrap();
    audit::verify(&path, &public(&key)).unwrap();
}

#[test]
fn checkpoint_with_a_different_key_than_before_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let other = SoftwareKey::generate(Algorithm::Es384);
    let path = build_log(dir.path(), &key);
    let mut log = open(&path);
    assert_refused(log.checkpoint(&other), "not the audit key");
    assert_eq!(log.next_seq(), 9);
    assert_eq!(log.checkpoint(&key).unwrap(), 9);
    audit::verify(&path, &public(&key)).unwrap();
}

/// A signer whose signatures are garbage (a broken HSM).
struct BrokenSigner(SoftwareKey);

impl Signer for BrokenSigner {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn public_key(&self) -> mso::Result<PublicKey> {
        self.0.public_key()
    }
    fn sign(&self, _tbs: &[u8]) -> mso::Result<Vec<u8>> {
        Ok(vec![1; self.0.algorithm().signature_len()])
    }
}

#[test]
fn checkpoint_from_a_broken_signer_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(event(1)).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    let broken = BrokenSigner(SoftwareKey::generate(Algorithm::Es256));
    assert!(matches!(log.checkpoint(&broken), Err(Error::Mso(_))));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    assert_eq!(log.append(event(2)).unwrap(), 2);
}

#[test]
fn outcome_serialises_as_lowercase() {
    assert_eq!(
        serde_json::to_string(&Outcome::Success).unwrap(),
        "\"success\""
    );
    assert_eq!(
        serde_json::to_string(&Outcome::Failure).unwrap(),
        "\"failure\""
    );
}

/// Issue 12, item 3: a torn last line stopped the issuer from starting and no repair existed.
/// The repair keeps the torn bytes aside, cuts them, and the log verifies and opens again; it
/// refuses (changing nothing) when the damage is not a torn tail.
#[test]
fn a_torn_tail_is_repaired_and_anything_else_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = build_log(dir.path(), &key);
    let whole = std::fs::read(&path).unwrap();
    // Nothing to repair on an intact log.
    assert_eq!(
        audit::repair_torn_tail(&path, Some(&public(&key))).unwrap(),
        None
    );
    assert_eq!(std::fs::read(&path).unwrap(), whole);

    // A crash mid-write of record 9.
    let mut log = open(&path);
    log.append(event(9)).unwrap();
    drop(log);
    let with9 = std::fs::read(&path).unwrap();
    let torn = &with9[..whole.len() + 40];
    std::fs::write(&path, torn).unwrap();
    assert!(AuditLog::open(&path, TERMINAL).is_err());
    let repaired = audit::repair_torn_tail(&path, Some(&public(&key)))
        .unwrap()
        .expect("a torn tail");
    assert_eq!(repaired.seq, 9);
    assert_eq!(repaired.bytes, 40);
    assert_eq!(
        std::fs::read(&repaired.saved_to).unwrap(),
        &torn[whole.len()..]
    );
    assert_eq!(
        repaired.sha256,
        hex::encode(Sha256::digest(&torn[whole.len()..]))
    );
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    audit::verify(&path, &public(&key)).unwrap();
    let mut log = open(&path);
    assert_eq!(
        log.append(event(9)).unwrap(),
        9,
        "the log goes on at the torn seq"
    );
    drop(log);

    // An edited record before a torn tail is tampering: refused, nothing changed.
    let mut l = lines(&path);
    l[2] = rewrite(&l[2], |r| r.actors = vec!["op-mallory".into()]);
    write_lines(&path, &l);
    let mut tampered = std::fs::read(&path).unwrap();
    tampered.extend_from_slice(b"{\"seq\":10");
    std::fs::write(&path, &tampered).unwrap();
    assert!(audit::repair_torn_tail(&path, Some(&public(&key))).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), tampered);
}

// ---- sealed segments (CA policy §5.4.3: kept one year) ----------------------------------------

/// The live log at `dir/audit.log` sealed twice: segments 1..=5 (4 events, a checkpoint) and
/// 6..=9 (the segment record, 2 events, a checkpoint), then a live log holding the second
/// segment record and one event (10, 11).
fn sealed_twice(dir: &Path, key: &SoftwareKey, times: [OffsetDateTime; 3]) -> PathBuf {
    let path = dir.join("audit.log");
    let mut log = AuditLog::open_verified(&path, TERMINAL, &public(key))
        .unwrap()
        .with_clock(Box::new(FixedClock(times[0])));
    for i in 1..=4 {
        log.append(event(i)).unwrap();
    }
    let first = log.seal_at(key, times[0]).unwrap();
    assert_eq!((first.first_seq, first.last_seq), (1, 5));
    let mut log = log.with_clock(Box::new(FixedClock(times[1])));
    assert_eq!(log.append(event(7)).unwrap(), 7, "6 opened the segment");
    log.append(event(8)).unwrap();
    let second = log.seal_at(key, times[1]).unwrap();
    assert_eq!((second.first_seq, second.last_seq), (6, 9));
    let mut log = log.with_clock(Box::new(FixedClock(times[2])));
    assert_eq!(log.append(event(11)).unwrap(), 11);
    path
}

const YEARS: [OffsetDateTime; 3] = [
    datetime!(2024-03-01 00:00:00 UTC),
    datetime!(2026-01-15 00:00:00 UTC),
    datetime!(2026-11-01 00:00:00 UTC),
];

#[test]
fn sealed_segments_are_read_only_and_verify_as_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = sealed_twice(dir.path(), &key, YEARS);
    let summary = audit::verify_segments(&path, &public(&key)).unwrap();
    assert_eq!(summary.first_seq, 1);
    let ranges: Vec<(u64, u64)> = summary
        .sealed
        .iter()
        .map(|(s, _)| (s.first_seq, s.last_seq))
        .collect();
    assert_eq!(ranges, [(1, 5), (6, 9)]);
    assert_eq!(summary.live.records, 2);
    assert_eq!(summary.live.unanchored, 2);
    #[cfg(unix)]
    for (s, _) in &summary.sealed {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&s.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o440, "{}", s.path.display());
    }
    // Each segment verifies alone too, and the live log reopens and continues the chain.
    for (s, _) in &summary.sealed {
        audit::verify(&s.path, &public(&key)).unwrap();
    }
    let mut log = AuditLog::open_verified(&path, TERMINAL, &public(&key))
        .unwrap()
        .with_clock(clock());
    assert_eq!(log.append(event(12)).unwrap(), 12);
    audit::verify_segments(&path, &public(&key)).unwrap();
    // The segment record is reserved.
    let e = log
        .append(AuditEvent::success(audit::SEGMENT_EVENT))
        .unwrap_err();
    assert!(matches!(e, Error::AuditRefused(_)), "{e:?}");
}

#[test]
fn a_missing_replaced_or_rechained_segment_is_found_with_the_file_named() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let writable = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
    };

    // A deleted middle segment: the next one no longer continues the chain.
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_twice(dir.path(), &key, YEARS);
    let segs = audit::sealed_segments(&path).unwrap();
    std::fs::remove_file(&segs[1].path).unwrap();
    let e = audit::verify_segments(&path, &public(&key)).unwrap_err();
    assert!(
        matches!(&e, Error::AuditTampered { seq: 10, reason } if reason.contains("audit.log:") && reason.contains("does not continue")),
        "{e:?}"
    );

    // A sealed segment replaced by another log with the same name and a valid chain of its
    // own: its digest no longer matches the record that sealed it.
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_twice(dir.path(), &key, YEARS);
    let segs = audit::sealed_segments(&path).unwrap();
    let mut sealed: Vec<String> = lines(&segs[0].path);
    let mut third = parse(&sealed[2]);
    third.details.insert("serial".into(), "ffff".into());
    // Recompute the chain from the edited record on (as someone with the file would), which
    // breaks the checkpoint signature: replace the checkpoint too, with a forged key's.
    let forger = SoftwareKey::generate(Algorithm::Es256);
    third.hash = third.compute_hash().unwrap();
    sealed[2] = third.to_line().unwrap();
    let mut prev = third.hash.clone();
    for line in sealed.iter_mut().skip(3) {
        let mut r = parse(line);
        r.prev = prev.clone();
        if r.is_checkpoint() {
            r.details.insert("covers_hash".into(), prev.clone());
            r.details
                .insert("key_fingerprint".into(), key_fingerprint(&public(&forger)));
            r.sig = None;
            let sig = forger.sign(&r.signed_message().unwrap()).unwrap();
            r.sig = Some(base64_std(&sig));
        }
        r.hash = r.compute_hash().unwrap();
        prev = r.hash.clone();
        *line = r.to_line().unwrap();
    }
    writable(&segs[0].path);
    write_lines(&segs[0].path, &sealed);
    let e = audit::verify_segments(&path, &public(&key)).unwrap_err();
    assert!(
        matches!(&e, Error::AuditTampered { seq: 5, reason } if reason.contains("00000000000000000001-00000000000000000005.sealed") && reason.contains("audit key")),
        "{e:?}"
    );

    // A live log whose segment record was rewritten to name a different digest.
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_twice(dir.path(), &key, YEARS);
    let lines_live = lines(&path);
    let mut opening = parse(&lines_live[0]);
    opening
        .details
        .insert("sealed_sha256".into(), "00".repeat(32));
    opening.hash = opening.compute_hash().unwrap();
    let mut next = parse(&lines_live[1]);
    next.prev = opening.hash.clone();
    next.hash = next.compute_hash().unwrap();
    write_lines(
        &path,
        &[opening.to_line().unwrap(), next.to_line().unwrap()],
    );
    let e = audit::verify_segments(&path, &public(&key)).unwrap_err();
    assert!(
        matches!(&e, Error::AuditTampered { seq: 10, reason } if reason.contains("was replaced")),
        "{e:?}"
    );
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn an_interrupted_seal_is_finished_or_undone_when_the_log_is_opened() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    // Crash after the live log was renamed, before the next segment took its place.
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_twice(dir.path(), &key, YEARS);
    let next = dir.path().join("audit.log.next");
    std::fs::rename(&path, &next).unwrap();
    let mut log = AuditLog::open_verified(&path, TERMINAL, &public(&key)).unwrap();
    assert!(!next.exists());
    assert_eq!(log.append(event(12)).unwrap(), 12);
    audit::verify_segments(&path, &public(&key)).unwrap();

    // Crash before the rename: a stray next segment beside an intact live log is dropped.
    std::fs::write(&next, b"{\"partial\":").unwrap();
    drop(log);
    let mut log = AuditLog::open_verified(&path, TERMINAL, &public(&key)).unwrap();
    assert!(!next.exists());
    assert_eq!(log.append(event(13)).unwrap(), 13);
    audit::verify_segments(&path, &public(&key)).unwrap();
}

#[test]
fn pruning_keeps_a_year_records_what_it_deleted_and_leaves_a_verifiable_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let path = sealed_twice(dir.path(), &key, YEARS);
    let now = datetime!(2026-11-02 00:00:00 UTC);
    let mut log = AuditLog::open_verified(&path, TERMINAL, &public(&key)).unwrap();

    // A cut-off inside the year is refused, nothing deleted.
    let e = audit::prune_sealed(
        &mut log,
        &public(&key),
        now - time::Duration::days(100),
        now,
        "auditor-01",
    )
    .unwrap_err();
    assert!(matches!(e, Error::AuditRefused(_)), "{e:?}");
    assert_eq!(audit::sealed_segments(&path).unwrap().len(), 2);

    // A year back: the segment that ended in 2024 goes; the one that ended in January 2026
    // (under a year before now) stays.
    let pruned = audit::prune_sealed(
        &mut log,
        &public(&key),
        now - audit::RETENTION,
        now,
        "auditor-01",
    )
    .unwrap()
    .unwrap();
    assert_eq!(pruned.segments.len(), 1);
    assert_eq!(pruned.segments[0].first_seq, 1);
    assert!(!pruned.segments[0].path.exists());
    let summary = audit::verify_segments(&path, &public(&key)).unwrap();
    assert_eq!(summary.first_seq, 6, "records before 6 were pruned");
    let last = parse(lines(&path).last().unwrap());
    assert_eq!(last.seq, pruned.record_seq);
    assert_eq!(last.event, audit::PRUNED_EVENT);
    assert_eq!(last.actors, ["auditor-01"]);
    assert_eq!(last.details["first_seq"], "1");
    assert_eq!(last.details["last_seq"], "5");
    assert_eq!(last.details["sha256"].len(), 64);
    // Nothing else is old enough.
    assert!(audit::prune_sealed(
        &mut log,
        &public(&key),
        now - audit::RETENTION,
        now,
        "auditor-01"
    )
    .unwrap()
    .is_none());
}

/// Deleting sealed segments by hand (all of them, or the oldest) leaves records missing that
/// no prune record accounts for: found, at the first sequence number held.
#[test]
fn sealed_segments_deleted_by_hand_are_found() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_twice(dir.path(), &key, YEARS);
    let segs = audit::sealed_segments(&path).unwrap();
    std::fs::remove_file(&segs[0].path).unwrap();
    let e = audit::verify_segments(&path, &public(&key)).unwrap_err();
    assert!(
        matches!(&e, Error::AuditTampered { seq: 6, reason } if reason.contains("no prune record")),
        "{e:?}"
    );
    std::fs::remove_file(&segs[1].path).unwrap();
    let e = audit::verify_segments(&path, &public(&key)).unwrap_err();
    assert!(
        matches!(&e, Error::AuditTampered { seq: 10, reason } if reason.contains("no prune record")),
        "{e:?}"
    );
}
