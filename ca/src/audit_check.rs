//! `mdoc-ca audit verify`: the audit chain and its checkpoint signatures, the RFC 3161
//! time-stamps over checkpoints, the archive against the ledger, and the ledger's artifacts
//! against the digests the audit log recorded; `mdoc-ca audit timestamp`: a TSA's reply to a
//! checkpoint's request recorded in the log.
//!
//! Archived artifacts (certificates, CRLs) are time-stamped transitively: the audit record of
//! each carries its SHA-256, and a token over a later checkpoint covers that record through the
//! hash chain. The report names, for each, the earliest time-stamp covering it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use custody::timestamp::anchor::{self, AnchorReport};
use custody::timestamp::{TimeStampRequest, TsaTrust};
use der::Decode;
use time::OffsetDateTime;

use crate::ledger::{sha256_hex, Ledger};

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// The audit public key could not be read.
    #[error("audit key {path}: {reason}")]
    Key {
        /// File.
        path: String,
        /// Cause.
        reason: String,
    },
    /// The audit log is broken or was tampered with.
    #[error(transparent)]
    Audit(#[from] custody::Error),
    /// The archive or ledger does not match.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// An artifact in the ledger was never recorded in the audit log.
    #[error("{0}")]
    Unrecorded(String),
    /// A time-stamp request or reply file could not be used.
    #[error("{path}: {reason}")]
    TimeStampFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Where ceremonies write the time-stamp request of their checkpoint, under the state dir.
pub const TIMESTAMP_REQUESTS_DIR: &str = "timestamp-requests";

/// The request file of checkpoint `seq`.
pub fn timestamp_request_path(state_dir: &Path, seq: u64) -> std::path::PathBuf {
    state_dir
        .join(TIMESTAMP_REQUESTS_DIR)
        .join(format!("checkpoint-{seq}.tsq"))
}

fn audit_key_for(
    state_dir: &Path,
    audit_key: Option<&Path>,
) -> Result<mso::crypto::PublicKey, AuditCheckError> {
    let key_path =
        audit_key.map_or_else(|| state_dir.join("audit-key.spki.der"), Path::to_path_buf);
    let key_err = |reason: String| AuditCheckError::Key {
        path: key_path.display().to_string(),
        reason,
    };
    let der = std::fs::read(&key_path).map_err(|e| key_err(e.to_string()))?;
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| key_err(e.to_string()))?;
    mso::x509::spki::decode(&spki).map_err(|e| key_err(e.to_string()))
}

/// Reads TSA trust anchors (PEM) for [`verify_state_with`] and [`record_timestamp`].
pub fn tsa_trust(pem_file: &Path) -> Result<TsaTrust, AuditCheckError> {
    let file_err = |reason: String| AuditCheckError::TimeStampFile {
        path: pem_file.display().to_string(),
        reason,
    };
    let pem = std::fs::read(pem_file).map_err(|e| file_err(e.to_string()))?;
    TsaTrust::from_pem(&pem).map_err(|e| file_err(e.to_string()))
}

/// `mdoc-ca audit timestamp`: verifies the whole log, then the TSA's `response` to the request
/// written for the log's last checkpoint (`query`, by default the ceremony's
/// [`timestamp_request_path`]) against `trust`, and appends the time-stamp record. Returns a
/// printable line.
pub fn record_timestamp(
    state_dir: &Path,
    audit_key_file: Option<&Path>,
    terminal_id: &str,
    response: &Path,
    query: Option<&Path>,
    trust: &TsaTrust,
) -> Result<String, AuditCheckError> {
    let key = audit_key_for(state_dir, audit_key_file)?;
    let log_path = state_dir.join("audit.log");
    let report = anchor::verify_log(&log_path, &key, Some(trust))?;
    let checkpoint = report
        .last_checkpoint
        .ok_or_else(|| AuditCheckError::TimeStampFile {
            path: log_path.display().to_string(),
            reason: "the log has no checkpoint to time-stamp".to_owned(),
        })?;
    let query = query.map_or_else(
        || timestamp_request_path(state_dir, checkpoint.seq),
        Path::to_path_buf,
    );
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| AuditCheckError::TimeStampFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    let request =
        TimeStampRequest::from_der(&read(&query)?).map_err(|e| AuditCheckError::TimeStampFile {
            path: query.display().to_string(),
            reason: e.to_string(),
        })?;
    let reply = read(response)?;
    let mut log = custody::audit::AuditLog::open_verified(&log_path, terminal_id, &key)?;
    let (seq, stamp) = anchor::record_response(
        &mut log,
        &checkpoint,
        &request,
        &reply,
        trust,
        OffsetDateTime::now_utc(),
    )?;
    Ok(format!(
        "checkpoint {} time-stamped at {} by TSA certificate {} (SHA-256 {}): record {seq}",
        checkpoint.seq,
        crate::ledger::ts(stamp.gen_time),
        stamp.tsa_certificate.subject(),
        stamp.tsa_fingerprint
    ))
}

/// Verifies everything under `state_dir`; returns a printable report.
pub async fn verify_state(
    state_dir: &Path,
    audit_key: Option<&Path>,
) -> Result<String, AuditCheckError> {
    verify_state_with(state_dir, audit_key, None).await
}

/// [`verify_state`], checking the time-stamp tokens against `tsa` when given (without, they are
/// reported as present but unchecked).
pub async fn verify_state_with(
    state_dir: &Path,
    audit_key: Option<&Path>,
    tsa: Option<&TsaTrust>,
) -> Result<String, AuditCheckError> {
    let mut report = verify_records_with(state_dir, audit_key, tsa).await?;
    let archived = Ledger::open(state_dir).await?.verify_archive().await?;
    let _ = writeln!(report, "archive: {archived} files match the ledger");
    Ok(report)
}

/// [`verify_state`] but for the archive: the audit chain and its checkpoints, and the ledger
/// against the log both ways. A ceremony runs this before it writes anything (even the
/// archive files a crash left unwritten), then checks the archive.
pub async fn verify_records(
    state_dir: &Path,
    audit_key: Option<&Path>,
) -> Result<String, AuditCheckError> {
    verify_records_with(state_dir, audit_key, None).await
}

/// [`verify_records`] with the time-stamp tokens checked against `tsa` when given.
pub async fn verify_records_with(
    state_dir: &Path,
    audit_key: Option<&Path>,
    tsa: Option<&TsaTrust>,
) -> Result<String, AuditCheckError> {
    let key = audit_key_for(state_dir, audit_key)?;
    let log = state_dir.join("audit.log");
    let anchored = anchor::verify_log(&log, &key, tsa)?;
    let summary = anchored.summary.clone();
    let ledger = Ledger::open(state_dir).await?;

    let text = std::fs::read_to_string(&log).map_err(|source| custody::Error::Io {
        path: log.display().to_string(),
        source,
    })?;
    let recorded = Recorded::from_log(&text);
    reconcile(&ledger, &recorded).await?;
    let mut report = String::new();
    let _ = writeln!(report, "audit log {}: OK", log.display());
    let _ = writeln!(report, "  {summary:?}");
    let _ = writeln!(
        report,
        "  audit key fingerprint {}",
        custody::audit::key_fingerprint(&key)
    );
    let _ = writeln!(
        report,
        "ledger: agrees with the audit log both ways (certificates, revocations, CRLs); every \
         CRL keeps what the one before listed"
    );
    report_timestamps(&mut report, &anchored, &recorded);
    Ok(report)
}

/// A ceremony as the audit log and the ledger both describe it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CeremonySeen {
    kind: String,
    config_sha256: String,
    terminal_id: String,
    actors: Vec<String>,
    /// The ceremony's moment (RFC 3339, as both write it).
    at: String,
    /// Refused (a `ceremony.<kind>.refused` failure record; a `failure` row).
    refused: bool,
}

/// The time-stamp records and, for each archived artifact, the earliest one covering it.
fn report_timestamps(report: &mut String, anchored: &AnchorReport, recorded: &Recorded) {
    let state = if anchored.tokens_verified {
        "verified against the TSA trust anchors"
    } else {
        "NOT verified (no --tsa-anchors): present but unchecked"
    };
    let _ = writeln!(
        report,
        "time-stamps: {} record(s), {state}",
        anchored.stamps.len()
    );
    for stamp in &anchored.stamps {
        let _ = writeln!(
            report,
            "  record {} stamps checkpoint {} at {} (TSA certificate SHA-256 {})",
            stamp.seq,
            stamp.covers_seq,
            crate::ledger::ts(stamp.gen_time),
            stamp.tsa
        );
    }
    let mut covered = 0usize;
    let mut lines = Vec::new();
    for (seq, what) in &recorded.artifacts {
        match anchored.stamp_covering(*seq) {
            Some(stamp) => {
                covered += 1;
                lines.push(format!(
                    "  {what} (record {seq}): time-stamped by record {} at {}",
                    stamp.seq,
                    crate::ledger::ts(stamp.gen_time)
                ));
            }
            None => lines.push(format!("  {what} (record {seq}): not yet time-stamped")),
        }
    }
    let _ = writeln!(
        report,
        "archived artifacts: {covered} of {} covered by a time-stamped checkpoint{}",
        recorded.artifacts.len(),
        if anchored.tokens_verified {
            ""
        } else {
            " (unverified)"
        }
    );
    for line in lines {
        let _ = writeln!(report, "{line}");
    }
}

/// What the audit log says the CA did.
#[derive(Debug, Default)]
struct Recorded {
    /// Certificate digest → (kind, serial), from `ca.{iaca,ds,link,list_signer}.issue`.
    certificates: BTreeMap<String, (String, String)>,
    /// Revoked serial → the time of its `ca.revoke` record (the ceremony's moment, which is
    /// the revocation's time).
    revocations: BTreeMap<String, String>,
    /// The ceremonies the log records (from every record a ceremony wrote with its config
    /// digest), as the ledger's `ceremonies` rows must read.
    ceremonies: BTreeSet<CeremonySeen>,
    /// CRL digest → number, from `ca.crl.issue`.
    crls: BTreeMap<String, i64>,
    /// (record seq, what) of every archived artifact (certificate or CRL), in log order.
    artifacts: Vec<(u64, String)>,
}

impl Recorded {
    /// Reads a verified log (its chain and signatures were checked first).
    fn from_log(text: &str) -> Recorded {
        let mut r = Recorded::default();
        for v in text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        {
            let detail = |k: &str| {
                v.pointer(&format!("/details/{k}"))
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            };
            let event = v.get("event").and_then(|e| e.as_str()).unwrap_or_default();
            let text = |k: &str| v.get(k).and_then(|s| s.as_str()).unwrap_or_default();
            if let (Some(kind), Some(config_sha256)) = (detail("ceremony"), detail("config_sha256"))
            {
                let actors = v
                    .get("actors")
                    .and_then(|a| serde_json::from_value(a.clone()).ok())
                    .unwrap_or_default();
                r.ceremonies.insert(CeremonySeen {
                    refused: event == format!("ceremony.{kind}.refused")
                        && text("result") == "failure",
                    kind,
                    config_sha256,
                    terminal_id: text("terminal_id").to_owned(),
                    actors,
                    at: text("time").to_owned(),
                });
            }
            let seq = v
                .get("seq")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            match event {
                "ca.iaca.issue" | "ca.ds.issue" | "ca.link.issue" | "ca.list_signer.issue" => {
                    let kind = event.trim_start_matches("ca.").trim_end_matches(".issue");
                    if let (Some(sha), Some(serial)) = (detail("sha256"), detail("serial")) {
                        r.artifacts
                            .push((seq, format!("{kind} certificate {serial} (SHA-256 {sha})")));
                        r.certificates.insert(sha, (kind.to_owned(), serial));
                    }
                }
                "ca.revoke" => {
                    if let Some(serial) = detail("serial") {
                        let at = v.get("time").and_then(|t| t.as_str()).unwrap_or_default();
                        r.revocations.insert(serial, at.to_owned());
                    }
                }
                "ca.crl.issue" => {
                    if let (Some(sha), Some(n)) = (detail("sha256"), detail("number")) {
                        r.artifacts.push((seq, format!("CRL #{n} (SHA-256 {sha})")));
                        r.crls.insert(sha, n.parse().unwrap_or(-1));
                    }
                }
                _ => {}
            }
        }
        r
    }
}

fn unrecorded(what: String) -> AuditCheckError {
    AuditCheckError::Unrecorded(what)
}

/// The ledger against the audit log, both ways, and the CRLs against each other.
async fn reconcile(ledger: &Ledger, recorded: &Recorded) -> Result<(), AuditCheckError> {
    if let Some(problem) = ledger.integrity_problems().await?.into_iter().next() {
        return Err(unrecorded(problem));
    }
    // Every ceremony row is a ceremony the log recorded, as it recorded it (who, where,
    // when, with which reviewed config, and whether it was refused).
    for c in ledger.ceremonies().await? {
        let seen = CeremonySeen {
            kind: c.kind.clone(),
            config_sha256: c.config_sha256.clone(),
            terminal_id: c.terminal_id.clone(),
            actors: c.actors.clone(),
            at: c.started_at.clone(),
            refused: c.result == "failure",
        };
        if !recorded.ceremonies.contains(&seen) {
            return Err(unrecorded(format!(
                "ceremony {} ({} {}, {}) in the ledger is not a ceremony the audit log \
                 recorded (edited or inserted row)",
                c.id, c.kind, c.result, c.started_at
            )));
        }
    }
    let certs = ledger.certificates(None).await?;
    let by_serial: BTreeMap<&str, &crate::ledger::CertRecord> =
        certs.iter().map(|c| (c.serial.as_str(), c)).collect();
    let roots = ledger.root_keys().await?;
    let root_cert = |label: &str| {
        roots
            .iter()
            .find(|k| k.label == label)
            .and_then(|k| by_serial.get(k.cert_serial.as_str()))
            .and_then(|c| mso::x509::Certificate::from_der(&c.der).ok())
    };
    for c in &certs {
        let digest = sha256_hex(&c.der);
        let name = format!("certificate {}", c.serial);
        match recorded.certificates.get(&digest) {
            None => {
                return Err(unrecorded(format!(
                    "{name} is in the ledger but not in the audit log"
                )))
            }
            Some((kind, serial)) if *kind != c.kind || *serial != c.serial => {
                return Err(unrecorded(format!(
                    "{name}: the ledger says {} {}, the audit log recorded {kind} {serial}",
                    c.kind, c.serial
                )))
            }
            Some(_) => {}
        }
        // Every column is what the DER says (serial, subject, key, validity).
        let derived = crate::ceremony::init::cert_record(&c.der, &c.kind, &c.signed_by)
            .map_err(|e| unrecorded(format!("{name}: {e}")))?;
        if derived != *c {
            return Err(unrecorded(format!(
                "{name}: the ledger row differs from its certificate (edited row)"
            )));
        }
        // And it was signed by the root key the ledger names.
        let signer = root_cert(&c.signed_by).ok_or_else(|| {
            unrecorded(format!(
                "{name}: signed by unknown root key {}",
                c.signed_by
            ))
        })?;
        let cert = mso::x509::Certificate::from_der(&c.der)
            .map_err(|e| unrecorded(format!("{name}: {e}")))?;
        cert.verify_issued_by(&signer, &mso::crypto::SoftwareVerifier)
            .map_err(|_| {
                unrecorded(format!(
                    "{name}: not signed by root key {} as the ledger says",
                    c.signed_by
                ))
            })?;
    }
    let held: BTreeSet<String> = certs.iter().map(|c| sha256_hex(&c.der)).collect();
    if let Some((_, (kind, serial))) = recorded
        .certificates
        .iter()
        .find(|(sha, _)| !held.contains(*sha))
    {
        return Err(unrecorded(format!(
            "the audit log recorded {kind} certificate {serial}, which the ledger does not hold"
        )));
    }

    let revoked: BTreeMap<String, String> = ledger
        .revocations()
        .await?
        .into_iter()
        .map(|(s, at)| (s, crate::ledger::ts(at)))
        .collect();
    for (s, at) in &revoked {
        match recorded.revocations.get(s) {
            None => {
                return Err(unrecorded(format!(
                    "revocation of {s} is in the ledger but not in the audit log"
                )))
            }
            // The time the next CRLs give as its revocation date.
            Some(logged) if logged != at => {
                return Err(unrecorded(format!(
                    "revocation of {s}: the ledger says revoked at {at}, the audit log \
                     recorded {logged} (edited row)"
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(s) = recorded
        .revocations
        .keys()
        .find(|s| !revoked.contains_key(*s))
    {
        return Err(unrecorded(format!(
            "the audit log recorded the revocation of {s}, which the ledger does not hold"
        )));
    }

    let crls = ledger.crls().await?;
    for crl in &crls {
        match recorded.crls.get(&sha256_hex(&crl.der)) {
            Some(n) if *n == crl.number => {}
            _ => {
                return Err(unrecorded(format!(
                    "CRL #{} is in the ledger but not in the audit log",
                    crl.number
                )))
            }
        }
    }
    let numbers: BTreeSet<i64> = crls.iter().map(|c| c.number).collect();
    if let Some(n) = recorded.crls.values().find(|n| !numbers.contains(n)) {
        return Err(unrecorded(format!(
            "the audit log recorded CRL #{n}, which the ledger does not hold"
        )));
    }

    // A certificate a CRL lists stays on every later CRL of the same key until it expires.
    for key in &roots {
        let mut series: Vec<_> = crls.iter().filter(|c| c.signed_by == key.label).collect();
        series.sort_by_key(|c| c.number);
        let parsed = series
            .iter()
            .map(|c| {
                mso::crl::Crl::from_der(&c.der)
                    .map_err(|e| unrecorded(format!("CRL #{} is unreadable: {e}", c.number)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let own = || certs.iter().filter(|c| c.signed_by == key.label);
        for (i, (earlier, later)) in parsed.iter().zip(parsed.iter().skip(1)).enumerate() {
            let kept = |c: &crate::ledger::CertRecord| {
                hex::decode(&c.serial).is_ok_and(|serial| later.is_revoked(&serial))
            };
            if let Some(c) =
                crate::crl::dropped_before_expiry(own(), earlier, later.this_update(), kept)
            {
                return Err(unrecorded(format!(
                    "certificate {} is on CRL #{} but dropped from CRL #{} before it expires",
                    c.serial,
                    series.get(i).map_or(0, |s| s.number),
                    series.get(i + 1).map_or(0, |s| s.number),
                )));
            }
        }
    }
    Ok(())
}
