//! The `mdoc-ca` binary as operators use it: dry runs, progress output with fingerprints, exit
//! codes, `audit verify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::{Command, Output};

const CUSTODIANS: [&str; 3] = ["ann", "ben", "cho"];

fn config(dir: &Path, name: &str, ceremony: &str, extra: &str) -> std::path::PathBuf {
    let body = format!(
        r#"ceremony = "{ceremony}"
state_dir = "state"
terminal_id = "ca-terminal-cli"
operators = ["op-1"]
at = "2026-06-01T09:00:00Z"
[key]
backend = "file"
label = "iaca-cli"
custodians = ["ann", "ben", "cho"]
threshold = 2
present = ["ann", "cho"]
[iaca]
country = "JP"
common_name = "CLI test IACA"
issuer_alt_name_email = "iaca@example.jp"
crl_distribution_point = "https://crl.example.jp/iaca.crl"
{extra}"#
    );
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn mdoc_ca(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mdoc-ca"));
    cmd.args(args);
    for c in CUSTODIANS {
        cmd.env(
            format!("MDOC_CA_PASSPHRASE_{}", c.to_uppercase()),
            format!("{c} passphrase"),
        );
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `mdoc-ca audit verify | head -0`: the reader is gone before the report is written. The
/// tool ends as a SIGPIPE'd C tool would (status 141), without a panic message.
fn closed_stdout_ends_quietly(state: &Path) {
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_mdoc-ca"))
        .args(["audit", "verify", "--state-dir", state.to_str().unwrap()])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        o.status.code(),
        Some(custody::operator::EXIT_CLOSED_PIPE),
        "{stderr}"
    );
}

#[test]
fn operators_get_dry_runs_fingerprints_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let init = config(dir.path(), "init.toml", "init", "");
    let init = init.to_str().unwrap();

    // A dry run prints the plan and leaves no trace.
    let o = mdoc_ca(&["run", init, "--dry-run", "--passphrases", "env"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("would create root key"), "{}", text(&o));
    assert!(!dir.path().join("state/keys").exists());

    let o = mdoc_ca(&["run", init, "--passphrases", "env"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("SHA-256"), "{out}");
    assert!(out.contains("init ceremony complete"), "{out}");

    // Refused: already initialised (exit 3).
    let o = mdoc_ca(&["run", init, "--passphrases", "env"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // Unknown config keys are a config error (exit 2); so is a missing file.
    let bad = config(
        dir.path(),
        "bad.toml",
        "crl",
        "[crl]\nseries_days = 3\ncolour = \"red\"\n",
    );
    let o = mdoc_ca(&["run", bad.to_str().unwrap(), "--passphrases", "env"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = mdoc_ca(&["run", "/nonexistent.toml", "--passphrases", "env"]);
    assert_eq!(o.status.code(), Some(2));

    // No terminal and no --passphrases env: refuse to guess (exit 2).
    let crl = config(dir.path(), "crl.toml", "crl", "[crl]\nseries_days = 2\n");
    let o = mdoc_ca(&["run", crl.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = mdoc_ca(&["run", crl.to_str().unwrap(), "--passphrases", "env"]);
    assert!(o.status.success(), "{}", text(&o));

    // A wrong passphrase is an activation failure (exit 4).
    let o = Command::new(env!("CARGO_BIN_EXE_mdoc-ca"))
        .args(["run", crl.to_str().unwrap(), "--passphrases", "env"])
        .env("MDOC_CA_PASSPHRASE_ANN", "ann passphrase")
        .env("MDOC_CA_PASSPHRASE_CHO", "not it")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("cho"), "{}", text(&o));

    // The audit trail verifies; an edited record is found (exit 6).
    let state = dir.path().join("state");
    let o = mdoc_ca(&["audit", "verify", "--state-dir", state.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    closed_stdout_ends_quietly(&state);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ledger = std::fs::metadata(state.join("ledger.sqlite")).unwrap();
        assert_eq!(
            ledger.permissions().mode() & 0o777,
            0o600,
            "ledger not owner-only"
        );
    }
    let log = state.join("audit.log");
    let lines = std::fs::read_to_string(&log).unwrap();
    std::fs::write(
        &log,
        lines.replacen("ca-terminal-cli", "ca-terminal-evil", 1),
    )
    .unwrap();
    let o = mdoc_ca(&["audit", "verify", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(text(&o).contains("record 1"), "{}", text(&o));
}

/// The offline CA's time-stamping (RFC 3161) through files: each ceremony's checkpoint leaves a
/// `.tsq`, a real TSA (`openssl ts -reply`) answers it, `audit timestamp` records the reply,
/// `audit verify --tsa-anchors` checks the tokens and names the artifacts they cover.
#[test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
fn checkpoints_are_time_stamped_through_files_and_verified() {
    use custody::audit::AuditRecord;
    use test_kit::tsa::{OpensslTsa, TsaOptions};

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let s = state.to_str().unwrap();
    let make_tsa = |name: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        OpensslTsa::new(&d, TsaOptions::default())
    };
    let tsa = make_tsa("tsa");
    let rogue = make_tsa("rogue");
    let anchors = tsa.root_pem_path();
    let anchors = anchors.to_str().unwrap();
    let rogue_anchors = rogue.root_pem_path();
    let requests = |n: usize| {
        let mut found: Vec<_> = std::fs::read_dir(state.join("timestamp-requests"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        found.sort();
        assert_eq!(found.len(), n, "{found:?}");
        found
    };
    let answer = |tsa: &OpensslTsa, tsq: &Path, name: &str| {
        let tsr = dir.path().join(name);
        std::fs::write(&tsr, tsa.reply(&std::fs::read(tsq).unwrap())).unwrap();
        tsr
    };
    let stamp = |tsr: &Path| {
        mdoc_ca(&[
            "audit",
            "timestamp",
            "--state-dir",
            s,
            "--terminal-id",
            "ca-terminal-cli",
            "--response",
            tsr.to_str().unwrap(),
            "--tsa-anchors",
            anchors,
        ])
    };
    let verify = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--state-dir", s];
        args.extend_from_slice(extra);
        mdoc_ca(&args)
    };

    let init = config(dir.path(), "init.toml", "init", "");
    let o = mdoc_ca(&["run", init.to_str().unwrap(), "--passphrases", "env"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("time-stamp request"), "{}", text(&o));
    let tsq = &requests(1)[0];

    // A reply from a TSA that is not trusted is refused (exit 3) and nothing is written.
    let log = state.join("audit.log");
    let before = std::fs::read(&log).unwrap();
    let o = stamp(&answer(&rogue, tsq, "rogue.tsr"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(std::fs::read(&log).unwrap(), before);

    let o = stamp(&answer(&tsa, tsq, "init.tsr"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("time-stamped"), "{}", text(&o));

    // A second ceremony, its checkpoint stamped too.
    let crl = config(dir.path(), "crl.toml", "crl", "[crl]\nseries_days = 2\n");
    let o = mdoc_ca(&["run", crl.to_str().unwrap(), "--passphrases", "env"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = stamp(&answer(&tsa, &requests(2)[1], "crl.tsr"));
    assert!(o.status.success(), "{}", text(&o));

    let o = verify(&["--tsa-anchors", anchors]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("time-stamps: 2 record(s), verified"), "{out}");
    assert!(out.contains("iaca certificate"), "{out}");
    assert!(!out.contains("not yet time-stamped"), "{out}");
    let o = verify(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("NOT verified"), "{}", text(&o));
    // Tokens checked against another TSA's root: tampering, naming the record (exit 6).
    let o = verify(&["--tsa-anchors", rogue_anchors.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(text(&o).contains("time-stamp record"), "{}", text(&o));

    // The last token replaced by the first (for another checkpoint), the chain recomputed.
    let text_log = std::fs::read_to_string(&log).unwrap();
    let mut records: Vec<AuditRecord> = text_log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stamps: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].event == "audit.timestamp")
        .collect();
    let first_token = records[stamps[0]].details["token"].clone();
    let last = stamps[1];
    records[last].details.insert("token".into(), first_token);
    let mut prev = records[last].prev.clone();
    let mut lines = Vec::new();
    for (i, r) in records.iter_mut().enumerate() {
        if i >= last {
            r.prev = prev.clone();
            r.hash = r.compute_hash().unwrap();
        }
        prev = r.hash.clone();
        lines.push(r.to_line().unwrap());
    }
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let o = verify(&["--tsa-anchors", anchors]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("time-stamp record {}", last + 1)),
        "{}",
        text(&o)
    );
}
