//! RFC 3161 time-stamping against a real TSA (`openssl ts -reply`), both ways (`openssl ts
//! -verify` accepts what we obtained), and the audit log anchored by time-stamp tokens with its
//! tamper matrix. Needs `openssl`: `#[ignore]`d, run by the second pass of `scripts/test.sh`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use custody::audit::{AuditEvent, AuditLog, AuditRecord, FixedClock, TIMESTAMP_EVENT};
use custody::timestamp::anchor::{self, CheckpointRef};
use custody::timestamp::{
    verify_response, verify_token, TimeStampError, TimeStampRequest, TsaTrust,
};
use custody::Error;
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey};
use sha2::{Digest, Sha256};
use test_kit::tsa::{OpensslTsa, TsaOptions, DEFAULT_POLICY, OTHER_POLICY};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-01-02 03:04:05 UTC);

fn tsa(dir: &Path, name: &str, options: TsaOptions) -> OpensslTsa {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    OpensslTsa::new(&dir, options)
}

fn trust(tsa: &OpensslTsa) -> TsaTrust {
    TsaTrust::from_pem(&tsa.root_pem()).unwrap()
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[track_caller]
fn assert_ts_err<T: std::fmt::Debug>(
    result: Result<T, TimeStampError>,
    want: impl Fn(&TimeStampError) -> bool,
) {
    match result {
        Err(e) if want(&e) => {}
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn openssl_tokens_verify_here_and_ours_verify_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        TsaOptions::default(),
        // P-384, an intermediate carried in the token, ESS signingCertificate v1 (SHA-1).
        TsaOptions {
            curve: "P-384",
            intermediate: true,
            ess_cert_id_alg: "sha1",
        },
    ];
    for (i, options) in cases.into_iter().enumerate() {
        let tsa = tsa(dir.path(), &format!("tsa{i}"), options);
        let d = digest("a checkpoint hash");
        let request = TimeStampRequest::new(d, None).unwrap();
        let response = tsa.reply(request.der());
        let before = OffsetDateTime::now_utc() - Duration::minutes(1);
        let stamp = verify_response(&response, &request, &trust(&tsa)).unwrap();
        assert!(stamp.gen_time > before, "{options:?}");
        assert_eq!(stamp.policy.to_string(), DEFAULT_POLICY);
        assert_eq!(
            stamp.tsa_fingerprint,
            hex::encode(Sha256::digest(stamp.tsa_certificate.der()))
        );
        let (ok, out) = tsa.openssl_verifies(&stamp.token, &d);
        assert!(
            ok,
            "openssl ts -verify refused our token ({options:?}): {out}"
        );
        // A written request reads back with what the reply must echo.
        let again = TimeStampRequest::from_der(request.der()).unwrap();
        assert_eq!(again, request);
    }
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn each_check_of_a_response_fails_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = tsa(dir.path(), "good", TsaOptions::default());
    let other = tsa(dir.path(), "other", TsaOptions::default());
    let d = digest("x");
    let request = TimeStampRequest::new(d, None).unwrap();
    let response = good.reply(request.der());
    let stamp = verify_response(&response, &request, &trust(&good)).unwrap();

    // A token for another digest.
    assert_ts_err(
        verify_token(&stamp.token, &digest("y"), None, &trust(&good)),
        |e| matches!(e, TimeStampError::ImprintMismatch { .. }),
    );
    // The reply to another request (another nonce) for the same digest.
    let second = TimeStampRequest::new(d, None).unwrap();
    assert_ts_err(verify_response(&response, &second, &trust(&good)), |e| {
        matches!(e, TimeStampError::NonceMismatch)
    });
    // Signed by a TSA under another root.
    assert_ts_err(verify_response(&response, &request, &trust(&other)), |e| {
        matches!(e, TimeStampError::Untrusted(_))
    });
    // A policy that is not accepted; and one that is, when asked for.
    let only_other = trust(&good).with_policies(vec![OTHER_POLICY.parse().unwrap()]);
    assert_ts_err(verify_response(&response, &request, &only_other), |e| {
        matches!(e, TimeStampError::PolicyNotAccepted(_))
    });
    let asked = TimeStampRequest::new(d, Some(OTHER_POLICY.parse().unwrap())).unwrap();
    let stamp_other = verify_response(&good.reply(asked.der()), &asked, &only_other).unwrap();
    assert_eq!(stamp_other.policy.to_string(), OTHER_POLICY);
    // A policy the TSA does not offer: it answers with a rejection, no token.
    let unoffered = TimeStampRequest::new(d, Some("1.2.3.9".parse().unwrap())).unwrap();
    assert_ts_err(
        verify_response(&good.reply(unoffered.der()), &unoffered, &trust(&good)),
        |e| matches!(e, TimeStampError::NotGranted { status: 2, .. }),
    );
    // Oversized and garbage input: typed errors.
    assert_ts_err(
        verify_token(&vec![0x30; 40 * 1024], &d, None, &trust(&good)),
        |e| matches!(e, TimeStampError::TooLarge { .. }),
    );
    assert_ts_err(
        verify_token(b"\x30\x03\x02\x01\x01", &d, None, &trust(&good)),
        |e| matches!(e, TimeStampError::Malformed { .. }),
    );
    // No single changed byte gets through, and none panics.
    for i in 0..stamp.token.len() {
        let mut bent = stamp.token.clone();
        bent[i] ^= 0x01;
        assert!(
            verify_token(&bent, &d, None, &trust(&good)).is_err(),
            "byte {i} changed and still verified"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The audit log anchored by tokens
// ---------------------------------------------------------------------------------------------

fn audit_key() -> SoftwareKey {
    SoftwareKey::generate(Algorithm::Es256)
}

fn open(path: &Path) -> AuditLog {
    AuditLog::open(path, "ca-offline-01")
        .unwrap()
        .with_clock(Box::new(FixedClock(T0)))
}

fn last_checkpoint(path: &Path, key: &PublicKey) -> CheckpointRef {
    anchor::verify_log(path, key, None)
        .unwrap()
        .last_checkpoint
        .unwrap()
}

/// Time-stamps the log's last checkpoint with `tsa`, as the CA's two-step flow does.
fn stamp(path: &Path, key: &PublicKey, tsa: &OpensslTsa) -> u64 {
    let checkpoint = last_checkpoint(path, key);
    let request = checkpoint.request(None).unwrap();
    let response = tsa.reply(request.der());
    let mut log = open(path);
    let (seq, _) = anchor::record_response(
        &mut log,
        &checkpoint,
        &request,
        &response,
        &trust(tsa),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    seq
}

/// 1–2 events, 3 checkpoint, 4 its stamp, 5 event, 6 checkpoint, 7 its stamp.
fn anchored_log(dir: &Path, key: &SoftwareKey, tsa: &OpensslTsa) -> PathBuf {
    let path = dir.join("audit.log");
    let public = key.public_key().unwrap();
    let mut log = open(&path);
    log.append(AuditEvent::success("ds.issue").detail("serial", "01"))
        .unwrap();
    log.append(AuditEvent::success("crl.issue").detail("number", "1"))
        .unwrap();
    assert_eq!(log.checkpoint(key).unwrap(), 3);
    drop(log);
    assert_eq!(stamp(&path, &public, tsa), 4);
    let mut log = open(&path);
    assert_eq!(
        log.append(AuditEvent::success("ds.issue").detail("serial", "02"))
            .unwrap(),
        5
    );
    assert_eq!(log.checkpoint(key).unwrap(), 6);
    drop(log);
    assert_eq!(stamp(&path, &public, tsa), 7);
    path
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What an attacker with write access but without the audit key does: edit record `seq` and
/// recompute its hash and every later link (possible after the last checkpoint).
fn tamper(path: &Path, seq: usize, edit: impl FnOnce(&mut AuditRecord)) {
    let mut all = lines(path);
    let mut record: AuditRecord = serde_json::from_str(&all[seq - 1]).unwrap();
    edit(&mut record);
    record.hash = record.compute_hash().unwrap();
    all[seq - 1] = record.to_line().unwrap();
    let mut prev = record.hash;
    for line in all.iter_mut().skip(seq) {
        let mut next: AuditRecord = serde_json::from_str(line).unwrap();
        next.prev = prev;
        next.hash = next.compute_hash().unwrap();
        prev = next.hash.clone();
        *line = next.to_line().unwrap();
    }
    std::fs::write(path, all.join("\n") + "\n").unwrap();
}

fn record(path: &Path, seq: usize) -> AuditRecord {
    serde_json::from_str(&lines(path)[seq - 1]).unwrap()
}

#[track_caller]
fn assert_stamp_tampered(
    result: custody::Result<anchor::AnchorReport>,
    want_seq: u64,
    needle: &str,
) {
    match result {
        Err(Error::AuditTampered { seq, reason }) => {
            assert_eq!(seq, want_seq, "wrong seq; reason: {reason}");
            assert!(
                reason.contains(&format!("time-stamp record {want_seq}")),
                "reason {reason:?} does not name the record"
            );
            assert!(
                reason.contains(needle),
                "reason {reason:?} lacks {needle:?}"
            );
        }
        other => panic!("expected AuditTampered at {want_seq}, got {other:?}"),
    }
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn checkpoints_are_stamped_in_the_log_and_verify_with_and_without_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = tsa(dir.path(), "tsa", TsaOptions::default());
    let key = audit_key();
    let public = key.public_key().unwrap();
    let path = anchored_log(dir.path(), &key, &tsa);

    let report = anchor::verify_log(&path, &public, Some(&trust(&tsa))).unwrap();
    assert!(report.tokens_verified);
    assert_eq!(report.summary.records, 7);
    let covered: Vec<(u64, u64)> = report
        .stamps
        .iter()
        .map(|s| (s.seq, s.covers_seq))
        .collect();
    assert_eq!(covered, [(4, 3), (7, 6)]);
    assert_eq!(report.stamped_through(), Some(6));
    assert_eq!(report.stamp_covering(1).unwrap().covers_seq, 3);
    assert_eq!(report.stamp_covering(5).unwrap().covers_seq, 6);
    assert!(report.stamp_covering(7).is_none());

    // Without anchors: counted, not verified.
    let unchecked = anchor::verify_log(&path, &public, None).unwrap();
    assert!(!unchecked.tokens_verified);
    assert_eq!(unchecked.stamps.len(), 2);
    // The plain chain check is unchanged by the new records.
    assert_eq!(custody::audit::verify(&path, &public).unwrap().records, 7);

    // Anyone can check a stored token with openssl, the imprint being the checkpoint's hash.
    let r7 = record(&path, 7);
    let token = BASE64.decode(&r7.details["token"]).unwrap();
    let hash: [u8; 32] = hex::decode(record(&path, 6).hash)
        .unwrap()
        .try_into()
        .unwrap();
    let (ok, out) = tsa.openssl_verifies(&token, &hash);
    assert!(ok, "{out}");

    // The reserved event cannot be appended by hand.
    let mut log = open(&path);
    let refused = log.append(AuditEvent::success(TIMESTAMP_EVENT));
    assert!(matches!(refused, Err(Error::AuditRefused(r)) if r.contains("reserved")));
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn a_reply_for_another_checkpoint_or_from_an_untrusted_tsa_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let tsa_a = tsa(dir.path(), "a", TsaOptions::default());
    let tsa_b = tsa(dir.path(), "b", TsaOptions::default());
    let key = audit_key();
    let public = key.public_key().unwrap();
    let path = anchored_log(dir.path(), &key, &tsa_a);
    let before = lines(&path);
    let mut log = open(&path);
    log.checkpoint(&key).unwrap();
    drop(log);
    let checkpoint = last_checkpoint(&path, &public);
    let earlier = CheckpointRef {
        seq: 6,
        hash: record(&path, 6).hash,
        time: T0,
    };
    let request = earlier.request(None).unwrap();
    let mut log = open(&path);
    let now = OffsetDateTime::now_utc();
    let wrong = anchor::record_response(
        &mut log,
        &checkpoint,
        &request,
        &tsa_a.reply(request.der()),
        &trust(&tsa_a),
        now,
    );
    assert!(matches!(wrong, Err(Error::AuditRefused(r)) if r.contains("not for checkpoint")));
    let request = checkpoint.request(None).unwrap();
    let untrusted = anchor::record_response(
        &mut log,
        &checkpoint,
        &request,
        &tsa_b.reply(request.der()),
        &trust(&tsa_a),
        now,
    );
    assert!(matches!(
        untrusted,
        Err(Error::TimeStamp(TimeStampError::Untrusted(_)))
    ));
    assert_eq!(
        lines(&path).len(),
        before.len() + 1,
        "only the checkpoint was added"
    );
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn tamper_matrix_of_time_stamp_records() {
    let dir = tempfile::tempdir().unwrap();
    let tsa_a = tsa(dir.path(), "a", TsaOptions::default());
    let tsa_b = tsa(dir.path(), "b", TsaOptions::default());
    let key = audit_key();
    let public = key.public_key().unwrap();
    let path = anchored_log(dir.path(), &key, &tsa_a);
    let pristine = std::fs::read(&path).unwrap();
    let trusted = trust(&tsa_a);
    let verify = |p: &Path| anchor::verify_log(p, &public, Some(&trusted));
    verify(&path).unwrap();
    let reset = || std::fs::write(&path, &pristine).unwrap();

    // Replaced by the (genuine) token of another checkpoint.
    let token_of_3 = record(&path, 4).details["token"].clone();
    tamper(&path, 7, |r| {
        r.details.insert("token".into(), token_of_3.clone());
    });
    assert_stamp_tampered(verify(&path), 7, "does not verify for checkpoint 6");
    reset();

    // One byte of the token edited.
    tamper(&path, 7, |r| {
        let mut token = BASE64.decode(&r.details["token"]).unwrap();
        let at = token.len() - 20;
        token[at] ^= 0x01;
        r.details.insert("token".into(), BASE64.encode(token));
    });
    assert_stamp_tampered(verify(&path), 7, "does not verify");
    reset();

    // A genuine token for the same checkpoint from a TSA that is not trusted.
    let checkpoint = CheckpointRef {
        seq: 6,
        hash: record(&path, 6).hash,
        time: T0,
    };
    let request = checkpoint.request(None).unwrap();
    let foreign =
        custody::timestamp::verify_response(&tsa_b.reply(request.der()), &request, &trust(&tsa_b))
            .unwrap();
    tamper(&path, 7, |r| {
        r.details
            .insert("token".into(), BASE64.encode(&foreign.token));
        r.details
            .insert("tsa".into(), foreign.tsa_fingerprint.clone());
        r.details.insert("serial".into(), foreign.serial.clone());
    });
    assert_stamp_tampered(verify(&path), 7, "not trusted");
    reset();

    // Pointing at a record that is not a checkpoint (even without anchors).
    tamper(&path, 7, |r| {
        r.details.insert("covers_seq".into(), "5".into());
        r.details
            .insert("covers_hash".into(), record(&path, 5).hash);
    });
    assert_stamp_tampered(verify(&path), 7, "not an earlier checkpoint");
    assert_stamp_tampered(
        anchor::verify_log(&path, &public, None),
        7,
        "not an earlier checkpoint",
    );
    reset();

    // A gen_time detail that is not the token's.
    tamper(&path, 7, |r| {
        r.details
            .insert("gen_time".into(), "2027-01-01T00:00:00Z".into());
    });
    assert_stamp_tampered(verify(&path), 7, "gen_time differs");
    reset();
    verify(&path).unwrap();
}

#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn tokens_out_of_time_order_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = tsa(dir.path(), "tsa", TsaOptions::default());
    let key = audit_key();
    let public = key.public_key().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(AuditEvent::success("ds.issue")).unwrap();
    let first = log.checkpoint(&key).unwrap();
    log.append(AuditEvent::success("ds.issue")).unwrap();
    let second = log.checkpoint(&key).unwrap();
    let cp = |seq: u64| CheckpointRef {
        seq,
        hash: record(&path, usize::try_from(seq).unwrap()).hash,
        time: T0,
    };
    let (cp1, cp2) = (cp(first), cp(second));
    // The second checkpoint is stamped first; genTime has one-second resolution.
    let request2 = cp2.request(None).unwrap();
    let response2 = tsa.reply(request2.der());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let request1 = cp1.request(None).unwrap();
    let response1 = tsa.reply(request1.der());
    let now = OffsetDateTime::now_utc();
    let trusted = trust(&tsa);
    let (later, _) =
        anchor::record_response(&mut log, &cp1, &request1, &response1, &trusted, now).unwrap();
    let (earlier, _) =
        anchor::record_response(&mut log, &cp2, &request2, &response2, &trusted, now).unwrap();
    assert_eq!((later, earlier), (5, 6));
    assert_stamp_tampered(
        anchor::verify_log(&path, &public, Some(&trusted)),
        6,
        "out of order",
    );
}

// ---------------------------------------------------------------------------------------------
// Without openssl: requests, bounds, untrusted input
// ---------------------------------------------------------------------------------------------

#[test]
fn a_request_is_sha256_with_a_fresh_positive_nonce_and_reads_back() {
    let d = digest("checkpoint");
    let a = TimeStampRequest::new(d, None).unwrap();
    let b = TimeStampRequest::new(d, Some(OTHER_POLICY.parse().unwrap())).unwrap();
    assert_ne!(a.nonce(), b.nonce());
    assert_eq!(a.nonce().len(), 8);
    assert!(a.nonce()[0] > 0 && a.nonce()[0] < 0x80);
    assert_eq!(TimeStampRequest::from_der(a.der()).unwrap(), a);
    let b2 = TimeStampRequest::from_der(b.der()).unwrap();
    assert_eq!(b2.policy().unwrap().to_string(), OTHER_POLICY);
    assert_eq!(b2.digest(), &d);
    assert!(matches!(
        TimeStampRequest::from_der(&[0x30; 5000]),
        Err(TimeStampError::TooLarge { .. })
    ));
    assert!(matches!(
        TimeStampRequest::from_der(b"\x30\x00"),
        Err(TimeStampError::Malformed { .. })
    ));
}

#[test]
fn trust_anchors_and_untrusted_bytes_are_refused_with_typed_errors() {
    assert!(matches!(
        TsaTrust::new(Vec::new()),
        Err(TimeStampError::Anchors(_))
    ));
    assert!(matches!(
        TsaTrust::from_pem(b"not a certificate"),
        Err(TimeStampError::Anchors(_))
    ));
    let pki = test_kit::pki::TestPki::new();
    let iaca = mso::x509::Certificate::from_der(&pki.iaca_der).unwrap();
    let trust = TsaTrust::new(vec![iaca]).unwrap();
    let d = digest("x");
    for garbage in [&b""[..], b"\x30", b"\x30\x03\x02\x01\x01", &[0xff; 100]] {
        assert!(verify_token(garbage, &d, None, &trust).is_err());
        assert!(custody::timestamp::token_from_response(garbage).is_err());
    }
    assert!(matches!(
        custody::timestamp::token_from_response(&vec![0x30; 64 * 1024]),
        Err(TimeStampError::TooLarge { .. })
    ));
}

#[test]
fn a_log_without_time_stamps_verifies_as_before_and_a_forged_one_is_caught_without_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let key = audit_key();
    let public = key.public_key().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = open(&path);
    log.append(AuditEvent::success("ds.issue")).unwrap();
    log.checkpoint(&key).unwrap();
    log.append(AuditEvent::success("ds.issue")).unwrap();
    drop(log);
    let report = anchor::verify_log(&path, &public, None).unwrap();
    assert!(report.stamps.is_empty());
    assert_eq!(
        report.summary,
        custody::audit::verify(&path, &public).unwrap()
    );
    assert_eq!(report.last_checkpoint.unwrap().seq, 2);
    // A time-stamp record written by hand (the reserved event bypassed) over a non-checkpoint.
    tamper(&path, 3, |r| {
        r.event = TIMESTAMP_EVENT.into();
        for (k, v) in [
            ("covers_seq", "1"),
            ("covers_hash", "00"),
            ("gen_time", "2026-01-02T03:04:05Z"),
            ("policy", DEFAULT_POLICY),
            ("serial", "01"),
            ("token", "AA=="),
            ("tsa", "00"),
        ] {
            r.details.insert(k.into(), v.into());
        }
    });
    assert_stamp_tampered(
        anchor::verify_log(&path, &public, None),
        3,
        "covers_seq 1 is not an earlier checkpoint",
    );
}
