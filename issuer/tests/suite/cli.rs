//! The `mdoc-issuer` command line, run as an operator would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

use custody::audit::{AuditEvent, AuditLog};

/// A configuration with a dev keystore and an audit log in a temporary directory, the
/// checkpoint key `mdoc-issuer audit key` made there, and the CLI run on it.
struct AuditCli {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    log_path: std::path::PathBuf,
    /// The public key `audit key` wrote (SPKI, DER).
    spki: std::path::PathBuf,
    /// The checkpoint key itself, to write logs as the service does.
    signer: Box<dyn mso::crypto::Signer>,
}

const KEYSTORE_SECRET: &str = "test keystore secret, long enough";

impl AuditCli {
    fn new() -> Self {
        use mdoc_issuer::ds::{DsKeys, KeystoreConfig};
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        std::fs::create_dir(&keys_dir).unwrap();
        let log_path = dir.path().join("issuer-audit.log");
        let config = dir.path().join("issuer.toml");
        std::fs::write(
            &config,
            format!(
                "[keystore]\nkind = \"dev-file\"\ndir = \"{}\"\nsecret_env = \"TEST_KEYSTORE_SECRET\"\n\
                 [audit]\npath = \"{}\"\n",
                keys_dir.display(),
                log_path.display()
            ),
        )
        .unwrap();
        let spki = dir.path().join("audit-key.spki.der");
        let mut cli = AuditCli {
            dir,
            config,
            log_path,
            spki,
            signer: Box::new(mso::crypto::SoftwareKey::generate(
                mso::crypto::Algorithm::Es256,
            )),
        };
        let out = cli.run(&[
            "audit",
            "key",
            "--label",
            "audit-test",
            "--out",
            cli.spki.to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let uri = said
            .lines()
            .find_map(|l| l.strip_prefix("checkpoint_key_uri = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let keys = DsKeys::open(KeystoreConfig::DevFile {
            dir: keys_dir,
            secret: KEYSTORE_SECRET.as_bytes().to_vec().into(),
            kdf: custody::softstore::KdfParams::RECOMMENDED,
        })
        .unwrap();
        cli.signer = keys.open_key(&uri.parse().unwrap()).unwrap();
        cli
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_mdoc-issuer"))
            .args(args)
            .args(["--config", self.config.to_str().unwrap()])
            .env("TEST_KEYSTORE_SECRET", KEYSTORE_SECRET)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }
}

/// Issue 12, item 3: a crash that tears the audit log's last write used to leave the issuer
/// unable to start, with no repair. `mdoc-issuer audit repair` cuts the torn record (kept
/// aside), records the repair, and the log opens again; an intact log is left alone.
#[test]
fn audit_repair_cuts_a_torn_tail_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("issuer-audit.log");
    {
        let mut log = AuditLog::open(&log_path, "mdoc-issuer").unwrap();
        for i in 0..3 {
            log.append(AuditEvent::success("issuer.issue").detail("n", i.to_string()))
                .unwrap();
        }
    }
    let complete = std::fs::read(&log_path).unwrap();
    let mut torn = complete.clone();
    torn.extend_from_slice(b"{\"seq\":4,\"time\":\"2026-");
    std::fs::write(&log_path, &torn).unwrap();
    assert!(AuditLog::open(&log_path, "mdoc-issuer").is_err());

    let config = dir.path().join("issuer.toml");
    std::fs::write(
        &config,
        format!(
            "[audit]\npath = \"{}\"\nterminal_id = \"mdoc-issuer\"\n",
            log_path.display()
        ),
    )
    .unwrap();
    let repair = || {
        Command::new(env!("CARGO_BIN_EXE_mdoc-issuer"))
            .args(["audit", "repair", "--config", config.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = repair();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("torn record #4"), "{text}");
    let saved = dir.path().join("issuer-audit.log.torn-4");
    assert_eq!(std::fs::read(&saved).unwrap(), &torn[complete.len()..]);
    // The log opens, and its last record is the repair, at the torn record's number.
    let log = AuditLog::open(&log_path, "mdoc-issuer").unwrap();
    assert_eq!(log.next_seq(), 5);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "issuer.audit_repair");
    assert_eq!(last["seq"], 4);
    assert_eq!(last["details"]["torn_bytes"], "22");

    // Intact now: a second repair changes nothing.
    let before = std::fs::read(&log_path).unwrap();
    let out = repair();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to repair"));
    assert_eq!(std::fs::read(&log_path).unwrap(), before);

    // Damage that is not a torn tail is refused (exit 3), nothing changed.
    let edited =
        String::from_utf8(before.clone())
            .unwrap()
            .replacen("issuer.issue", "issuer.issuX", 1);
    let mut edited = edited.into_bytes();
    edited.extend_from_slice(b"{\"seq\"");
    std::fs::write(&log_path, &edited).unwrap();
    let out = repair();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&log_path).unwrap(), edited);
}

/// `audit key` makes the checkpoint key and writes its public key; `audit verify` checks the
/// log under it (exit 0), finds an edited record (exit 5), and refuses to call a log without
/// any signed checkpoint verified.
#[test]
fn audit_key_and_verify() {
    let t = AuditCli::new();
    let cli = |args: &[&str]| t.run(args);
    let (log_path, spki, signer) = (&t.log_path, &t.spki, &t.signer);
    let verify = || cli(&["audit", "verify", "--key", spki.to_str().unwrap()]);
    {
        let mut log = AuditLog::open(log_path, "mdoc-issuer").unwrap();
        log.append(AuditEvent::success("issuer.start")).unwrap();
    }
    assert_eq!(
        verify().status.code(),
        Some(5),
        "no checkpoint: nothing is signed"
    );
    {
        let mut log = AuditLog::open(log_path, "mdoc-issuer").unwrap();
        log.append(AuditEvent::success("issuer.issue").detail("document", "ab"))
            .unwrap();
        log.checkpoint(signer.as_ref()).unwrap();
    }
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(log_path).unwrap();
    std::fs::write(log_path, text.replacen("\"ab\"", "\"cd\"", 1)).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED"));
}

/// Issue 12, Build 2 (CA policy §5.4.3, one year): `audit verify` checks the sealed segments
/// and the live log as one chain (exit 5 when a sealed segment was altered), and `audit prune`
/// deletes whole segments only past the year, recording the deletion and the auditor.
#[test]
fn audit_verify_and_prune_cover_the_sealed_segments() {
    use custody::audit::FixedClock;
    use time::macros::datetime;
    let t = AuditCli::new();
    let cli = |args: &[&str]| t.run(args);
    let (log_path, spki, signer) = (&t.log_path, &t.spki, &t.signer);

    // Two segments sealed long ago and a live log, as the service leaves them.
    {
        let old = datetime!(2024-01-10 00:00:00 UTC);
        let mut log = AuditLog::open(log_path, "mdoc-issuer")
            .unwrap()
            .with_clock(Box::new(FixedClock(old)));
        log.append(AuditEvent::success("issuer.start")).unwrap();
        log.seal_at(signer.as_ref(), old).unwrap();
        let recent = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        let mut log = log.with_clock(Box::new(FixedClock(recent)));
        log.append(AuditEvent::success("issuer.stop")).unwrap();
        log.seal_at(signer.as_ref(), recent).unwrap();
        log.append(AuditEvent::success("issuer.start")).unwrap();
        log.checkpoint(signer.as_ref()).unwrap();
    }
    let key = spki.to_str().unwrap();
    let out = cli(&["audit", "verify", "--key", key]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert_eq!(said.matches("OK (sealed)").count(), 2, "{said}");

    // Within the year: refused (exit 3), nothing deleted.
    let recent = (time::OffsetDateTime::now_utc() - time::Duration::days(100))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let out = cli(&[
        "audit",
        "prune",
        "--key",
        key,
        "--before",
        &recent,
        "--auditor",
        "auditor-01",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(custody::audit::sealed_segments(log_path).unwrap().len(), 2);

    // A year back: the 2024 segment goes, recorded with the auditor.
    let year = (time::OffsetDateTime::now_utc() - time::Duration::days(366))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let out = cli(&[
        "audit",
        "prune",
        "--key",
        key,
        "--before",
        &year,
        "--auditor",
        "auditor-01",
    ]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("deleted"), "{said}");
    let remaining = custody::audit::sealed_segments(log_path).unwrap();
    assert_eq!(remaining.len(), 1);
    let text = std::fs::read_to_string(log_path).unwrap();
    assert!(text.contains("\"event\":\"audit.segment.pruned\""));
    assert!(text.contains("\"actors\":[\"auditor-01\"]"));
    let out = cli(&["audit", "verify", "--key", key]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("were pruned"), "{said}");

    // A sealed segment altered: exit 5, the file named.
    let sealed = &remaining[0].path;
    let mut perms = std::fs::metadata(sealed).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(sealed, perms).unwrap();
    let text = std::fs::read_to_string(sealed).unwrap();
    std::fs::write(sealed, text.replacen("issuer.stop", "issuer.stap", 1)).unwrap();
    let out = cli(&["audit", "verify", "--key", key]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".sealed"));
}

/// RFC 3161 over HTTP (§3.4) with a real TSA (`openssl ts -reply` behind a loopback server):
/// every checkpoint is time-stamped and the token kept in the log, an idle service does not ask
/// again, a TSA that is down is counted and issuance goes on, and `audit verify --tsa-anchors`
/// checks the tokens.
#[tokio::test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
async fn checkpoints_are_time_stamped_over_http_and_verified() {
    use der::Encode;
    use mdoc_issuer::audit::{Audit, Tsa};
    use mso::crypto::{Algorithm, Signer, SoftwareKey};
    use test_kit::tsa::{OpensslTsa, TsaOptions, TsaServer};

    let dir = tempfile::tempdir().unwrap();
    let tsa_dir = dir.path().join("tsa");
    std::fs::create_dir(&tsa_dir).unwrap();
    let tsa = OpensslTsa::new(&tsa_dir, TsaOptions::default());
    let anchors = tsa.root_pem_path();
    let server = TsaServer::start(tsa);
    let trust = custody::timestamp::TsaTrust::from_pem(&std::fs::read(&anchors).unwrap()).unwrap();
    let client = Tsa::new(server.url(), trust, None, std::time::Duration::from_secs(5)).unwrap();

    let key = SoftwareKey::generate(Algorithm::Es256);
    let spki = dir.path().join("audit-key.spki.der");
    let public = key.public_key().unwrap();
    std::fs::write(
        &spki,
        mso::x509::spki::encode(&public).unwrap().to_der().unwrap(),
    )
    .unwrap();
    let log_path = dir.path().join("issuer-audit.log");
    let audit = Audit::open_with_tsa(
        &log_path,
        "mdoc-issuer",
        Some(Box::new(key)),
        Some(client),
        mdoc_issuer::audit::Segmenting::default(),
    )
    .unwrap();
    let failures = audit.timestamp_failures();
    audit
        .record(AuditEvent::success("issuer.issue").detail("document", "ab"))
        .await
        .unwrap();
    assert_eq!(audit.checkpoint().await.unwrap(), 2);
    assert_eq!(failures.get(), 0);
    // Idle: only the time-stamp record since the checkpoint, nothing to sign or stamp.
    assert_eq!(audit.checkpoint().await.unwrap(), 0);

    // The TSA goes away: the checkpoint is still signed, the failure counted.
    drop(server);
    audit
        .record(AuditEvent::success("issuer.issue").detail("document", "cd"))
        .await
        .unwrap();
    assert_eq!(audit.checkpoint().await.unwrap(), 5);
    assert_eq!(failures.get(), 1);
    drop(audit);

    let events: Vec<String> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
        .collect();
    assert_eq!(
        events,
        [
            "\"issuer.issue\"",
            "\"audit.checkpoint\"",
            "\"audit.timestamp\"",
            "\"issuer.issue\"",
            "\"audit.checkpoint\""
        ]
    );

    let config = dir.path().join("issuer.toml");
    std::fs::write(
        &config,
        format!("[audit]\npath = \"{}\"\n", log_path.display()),
    )
    .unwrap();
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mdoc-issuer"))
            .args(["audit", "verify", "--config", config.to_str().unwrap()])
            .args(["--key", spki.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = verify(&["--tsa-anchors", anchors.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("time-stamps: 1 verified"), "{said}");
    let out = verify(&[]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("NOT verified"), "{said}");

    // The token edited (one byte), the chain recomputed from there: exit 5, the record named.
    let text = std::fs::read_to_string(&log_path).unwrap();
    let mut records: Vec<custody::audit::AuditRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut token = b64.decode(&records[2].details["token"]).unwrap();
    let at = token.len() - 10;
    token[at] ^= 0x01;
    records[2].details.insert("token".into(), b64.encode(token));
    let mut prev = records[1].hash.clone();
    let lines: Vec<String> = records
        .iter_mut()
        .enumerate()
        .map(|(i, r)| {
            if i >= 2 {
                r.prev = prev.clone();
                r.hash = r.compute_hash().unwrap();
            }
            prev = r.hash.clone();
            r.to_line().unwrap()
        })
        .collect();
    std::fs::write(&log_path, lines.join("\n") + "\n").unwrap();
    let out = verify(&["--tsa-anchors", anchors.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time-stamp record 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
