//! Issue 12: the tamper matrix of the issuer's audit log through the product. Each alteration
//! of a real log (records of issuances, a revocation, starts and stops, two signed
//! checkpoints) is found by `mdoc-issuer audit verify` (exit 5, naming the record), and the
//! service refuses to start on it, appending nothing. The log format's own matrix is in
//! `custody/tests/suite/audit.rs`.

use custody::audit::{AuditEvent, AuditLog, AuditRecord, CHECKPOINT_EVENT};

use super::*;

fn records(path: &Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn lines(records: &[AuditRecord]) -> String {
    records
        .iter()
        .map(|r| r.to_line().unwrap() + "\n")
        .collect()
}

/// Renumbers and re-links every record from `from` on, recomputing the hashes and the
/// checkpoints' claims, as someone with write access but without the audit key would.
fn rechain(records: &mut [AuditRecord], from: usize) {
    for i in from..records.len() {
        records[i].seq = records[i - 1].seq + 1;
        records[i].prev = records[i - 1].hash.clone();
        if records[i].event == CHECKPOINT_EVENT {
            let (seq, prev) = (records[i].seq - 1, records[i].prev.clone());
            records[i]
                .details
                .insert("covers_seq".into(), seq.to_string());
            records[i].details.insert("covers_hash".into(), prev);
        }
        records[i].hash = records[i].compute_hash().unwrap();
    }
}

/// Signs checkpoint `records[i]` with `key` (claiming `fingerprint`) and re-links the rest.
fn forge_checkpoint(records: &mut [AuditRecord], i: usize, key: &SoftwareKey, fingerprint: &str) {
    use base64::engine::general_purpose::STANDARD;
    records[i]
        .details
        .insert("key_fingerprint".into(), fingerprint.to_owned());
    records[i].sig = None;
    let message = records[i].signed_message().unwrap();
    records[i].sig = Some(STANDARD.encode(key.sign(&message).unwrap()));
    records[i].hash = records[i].compute_hash().unwrap();
    rechain(records, i + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn every_alteration_of_the_issuer_log_is_named_by_audit_verify_and_refused_at_start(
) {
    // A real log: issuances (one a batch), a revocation, a stop and its checkpoint, then a
    // second start, stop and checkpoint.
    let env = Env::start(|_| {}).await;
    let d1 = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    env.issue(&claims_with_portrait(1024), &[device_key(), device_key()])
        .await;
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/revoke", d1.document_id),
            Some(&env.token),
            &json!({}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let stopped = env.stop_keeping_state().await;
    stopped.start().await.unwrap().stop().await.unwrap();
    let original = records(&stopped.audit_path);
    let (code, said) = stopped.audit_verify();
    assert_eq!(code, Some(0), "{said}");

    let at = |event: &str| original.iter().position(|r| r.event == event).unwrap();
    let issue = at("issuer.issue");
    let seq = |i: usize| original[i].seq;
    let first_checkpoint = at(CHECKPOINT_EVENT);
    let last_checkpoint = original.len() - 1;
    assert_eq!(original[last_checkpoint].event, CHECKPOINT_EVENT);
    assert!(first_checkpoint < last_checkpoint);
    let other_key = SoftwareKey::generate(Algorithm::Es256);
    let other_fingerprint = custody::audit::key_fingerprint(&public(&other_key));
    let audit_fingerprint = original[first_checkpoint].details["key_fingerprint"].clone();

    type Alter = Box<dyn Fn(&mut Vec<AuditRecord>)>;
    let cases: Vec<(&str, Alter, u64, &str)> = vec![
        (
            "a deleted issuance record",
            Box::new(move |r| {
                r.remove(issue);
            }),
            seq(issue),
            "was deleted, reordered or duplicated",
        ),
        (
            "an edited document id",
            Box::new(move |r| {
                r[issue].details.insert("document".into(), "00".repeat(16));
            }),
            seq(issue),
            "hash mismatch",
        ),
        (
            "an edited record with its hash recomputed",
            Box::new(move |r| {
                r[issue].actors = vec!["someone-else".into()];
                r[issue].hash = r[issue].compute_hash().unwrap();
            }),
            seq(issue) + 1,
            "chain broken",
        ),
        (
            "two records swapped",
            Box::new(move |r| r.swap(issue, issue + 1)),
            seq(issue),
            "was deleted, reordered or duplicated",
        ),
        (
            "an inserted record, chained to the one before",
            Box::new(move |r| {
                let mut forged = r[issue].clone();
                forged.details.insert("document".into(), "11".repeat(16));
                forged.hash = forged.compute_hash().unwrap();
                r.insert(issue, forged);
            }),
            seq(issue) + 1,
            "was deleted, reordered or duplicated",
        ),
        (
            "a deleted record with the chain and checkpoints recomputed",
            Box::new(move |r| {
                r.remove(issue);
                rechain(r, issue);
            }),
            seq(first_checkpoint) - 1,
            "checkpoint signature does not verify under the audit key",
        ),
        (
            "a checkpoint replaced by one another key signed",
            Box::new(move |r| {
                forge_checkpoint(r, first_checkpoint, &other_key, &other_fingerprint)
            }),
            seq(first_checkpoint),
            "checkpoint signed by another key",
        ),
        (
            "a checkpoint re-signed by another key under the audit key's fingerprint",
            Box::new({
                let key = SoftwareKey::generate(Algorithm::Es256);
                move |r| forge_checkpoint(r, first_checkpoint, &key, &audit_fingerprint)
            }),
            seq(first_checkpoint),
            "checkpoint signature does not verify under the audit key",
        ),
        (
            "a checkpoint deleted",
            Box::new(move |r| {
                r.remove(first_checkpoint);
            }),
            seq(first_checkpoint),
            "was deleted, reordered or duplicated",
        ),
    ];
    let mut fails = Vec::new();
    for (name, alter, want_seq, reason) in &cases {
        let mut altered = original.clone();
        alter(&mut altered);
        let text = lines(&altered);
        std::fs::write(&stopped.audit_path, &text).unwrap();
        check_refused(&stopped, &mut fails, name, *want_seq, reason, &text).await;
    }

    // Truncation inside a record: a torn last line, refused until `audit repair`.
    let text = lines(&original);
    let cut = &text[..text.len() - 20];
    std::fs::write(&stopped.audit_path, cut).unwrap();
    let torn = original.last().unwrap().seq;
    check_refused(
        &stopped,
        &mut fails,
        "a log cut inside its last record",
        torn,
        "incomplete final line",
        cut,
    )
    .await;
    std::fs::write(&stopped.audit_path, &text).unwrap();
    finish(fails);
}

/// `audit verify` exits 5 naming record `seq` and `reason`; the service does not start on the
/// log and leaves it as it is.
async fn check_refused(
    stopped: &Stopped,
    fails: &mut Vec<String>,
    name: &str,
    seq: u64,
    reason: &str,
    text: &str,
) {
    let (code, said) = stopped.audit_verify();
    let named = format!("record {seq}: ");
    if code != Some(5) || !said.contains(&named) || !said.contains(reason) {
        fails.push(format!(
            "[{name}] audit verify exit {code:?}, wanted 5 naming {named:?} and {reason:?}: {said}"
        ));
    }
    match stopped.start().await {
        Ok(stack) => {
            stack.stop().await.unwrap();
            fails.push(format!("[{name}] the issuer started on the altered log"));
        }
        Err(e) => {
            let e = e.to_string();
            if !e.contains(&named) || !e.contains(reason) {
                fails.push(format!("[{name}] refused to start, but says {e:?}"));
            }
        }
    }
    if std::fs::read_to_string(&stopped.audit_path).unwrap() != text {
        fails.push(format!("[{name}] the refused start changed the log"));
    }
}

/// Records after the last checkpoint (what a `kill -9` leaves) are chained but unsigned:
/// cutting them back to the checkpoint leaves a log that verifies. `audit verify` says how many
/// records are unanchored, so the operator knows what only an external anchor of the head
/// protects; cut to a record boundary, the log still verifies and starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn records_after_the_last_checkpoint_show_as_unanchored() {
    let env = Env::start(|_| {}).await;
    env.issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let stopped = env.stop_keeping_state().await;
    let anchored = std::fs::read_to_string(&stopped.audit_path).unwrap();
    {
        let mut log = AuditLog::open(&stopped.audit_path, "mdoc-issuer").unwrap();
        for _ in 0..2 {
            log.append(AuditEvent::success("issuer.revoke").actor("portal"))
                .unwrap();
        }
    }
    let (code, said) = stopped.audit_verify();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("unanchored: 2"), "{said}");
    std::fs::write(&stopped.audit_path, &anchored).unwrap();
    let (code, said) = stopped.audit_verify();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("unanchored: 0"), "{said}");
}
