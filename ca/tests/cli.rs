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
