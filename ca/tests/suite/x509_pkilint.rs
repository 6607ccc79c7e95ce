//! pkilint (Digicert's PKI linter, PyPI) on every artefact the CA makes: IACA, DS, both link
//! certificates, the issuer/subject pairs, and CRLs (empty and with entries). No finding at
//! WARNING or above is allowed, except those listed in [`ACCEPTED`].
//!
//! pkilint has no ISO 18013-5 linter, so the RFC 5280 linters are used: `lint_pkix_cert`,
//! `lint_pkix_signer_signee_cert_chain` and `lint_crl -t CRL -p PKIX`.
//!
//! Ignored by default: run `scripts/pkilint-venv.sh` first, then
//! `cargo test -p mdoc-ca --test suite x509_pkilint -- --include-ignored`. The interpreter is
//! `$PKILINT_PYTHON`, or `<repo>/.venv-pkilint/bin/python`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::x509_common;

use std::path::{Path, PathBuf};

use mdoc_ca::crl::RevokedEntry;
use time::Duration;
use x509_common::*;

/// pkilint finding codes at WARNING or above that are accepted, with the reason.
const ACCEPTED: &[(&str, &str)] = &[];

fn python() -> PathBuf {
    let path = std::env::var_os("PKILINT_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-pkilint/bin/python"),
        PathBuf::from,
    );
    let ok = std::process::Command::new(&path)
        .args(["-c", "import pkilint"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "pkilint is not installed at {} — run scripts/pkilint-venv.sh, or set PKILINT_PYTHON \
         to an interpreter that has pkilint",
        path.display()
    );
    path
}

/// Runs a pkilint CLI module with JSON output at NOTICE and above; returns every finding as
/// (severity, code, message, node path), and fails on findings at WARNING or above.
fn pkilint(what: &str, module: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let py = python();
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"-m", &module, &"lint", &"-f", &"JSON", &"-s", &"NOTICE"];
    all.extend_from_slice(args);
    // The findings are the JSON on stdout; stderr may carry the Python libraries' warnings
    // (cryptography 51 warns that DSA is deprecated whenever pkilint checks a key's type).
    let (_, out, err) = run_split(py.to_str().unwrap(), &all);
    if !err.trim().is_empty() {
        eprintln!("pkilint {what} (stderr): {}", err.trim());
    }
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| {
        panic!("{what}: pkilint output is not JSON ({e}): {out}\nstderr: {err}")
    });
    let mut blocking = Vec::new();
    let mut count = 0;
    for result in json["results"].as_array().unwrap() {
        for f in result["finding_descriptions"].as_array().unwrap() {
            count += 1;
            let severity = f["severity"].as_str().unwrap();
            let code = f["code"].as_str().unwrap();
            let line = format!(
                "{severity} {code} @ {}: {}",
                result["node_path"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or("")
            );
            eprintln!("pkilint {what}: {line}");
            if matches!(severity, "WARNING" | "ERROR" | "FATAL")
                && !ACCEPTED.iter().any(|(c, _)| *c == code)
            {
                blocking.push(line);
            }
        }
    }
    eprintln!("pkilint {what}: {count} finding(s) at NOTICE or above");
    assert!(blocking.is_empty(), "{what}: {blocking:#?}");
}

fn lint_cert(what: &str, path: &Path) {
    pkilint(what, "pkilint.bin.lint_pkix_cert", &[&path]);
}

fn lint_pair(what: &str, issuer: &Path, subject: &Path) {
    pkilint(
        what,
        "pkilint.bin.lint_pkix_signer_signee_cert_chain",
        &[&issuer, &subject],
    );
}

fn lint_crl(what: &str, path: &Path) {
    pkilint(
        what,
        "pkilint.bin.lint_crl",
        &[&"-t", &"CRL", &"-p", &"PKIX", &path],
    );
}

#[test]
#[ignore = "needs pkilint: scripts/pkilint-venv.sh"]
fn pkilint_certificates() {
    let dir = Dir::new();
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let ds = make_ds(&iaca, &key, now());
    let iaca_pem = dir.cert("iaca.pem", &iaca);
    let ds_pem = dir.cert("ds.pem", &ds);
    lint_cert("IACA", &iaca_pem);
    lint_cert("DS", &ds_pem);
    // Not `lint_pair(iaca, iaca)`: the pair linter expects an authorityKeyIdentifier in the
    // subject, which a self-signed IACA omits (RFC 5280 §4.2.1.1 allows it; Annex B lists
    // none for the IACA). It reports pkix.authority_key_id_extension_missing (ERROR) there.
    lint_pair("IACA→DS", &iaca_pem, &ds_pem);

    // An IACA with ST and a DS under it.
    let mut params = iaca_params(now());
    params.subject.state_or_province = Some("Tokyo".into());
    let iaca_st = mdoc_ca::profile::build_iaca(&params, &key).unwrap();
    let csr = mdoc_ca::csr::parse_csr(
        &rcgen_csr(
            &rcgen::PKCS_ECDSA_P384_SHA384,
            Some("JP"),
            Some("Tokyo"),
            "DS st",
        ),
        &Default::default(),
    )
    .unwrap();
    let ds_st = mdoc_ca::profile::build_ds(&csr, &iaca_st, &ds_params(now()), &key).unwrap();
    let iaca_st_pem = dir.cert("iaca_st.pem", &iaca_st);
    let ds_st_pem = dir.cert("ds_st.pem", &ds_st);
    lint_cert("IACA with ST", &iaca_st_pem);
    lint_cert("DS with ST", &ds_st_pem);
    lint_pair("IACA→DS with ST", &iaca_st_pem, &ds_st_pem);
}

#[test]
#[ignore = "needs pkilint: scripts/pkilint-venv.sh"]
fn pkilint_link_certificates() {
    let dir = Dir::new();
    let r = rollover();
    let old = dir.cert("old.pem", &r.old_iaca);
    let new = dir.cert("new.pem", &r.new_iaca);
    let nwo = dir.cert("nwo.pem", &r.new_with_old);
    let own = dir.cert("own.pem", &r.old_with_new);
    lint_cert("NewWithNew", &new);
    lint_cert("NewWithOld", &nwo);
    lint_cert("OldWithNew", &own);
    lint_pair("old→NewWithOld", &old, &nwo);
    lint_pair("new→OldWithNew", &new, &own);
    let ds_new = dir.cert("ds_new.pem", &make_ds(&r.new_iaca, &r.new_key, now()));
    lint_pair("NewWithOld→DS(new)", &nwo, &ds_new);
}

#[test]
#[ignore = "needs pkilint: scripts/pkilint-venv.sh"]
fn pkilint_crls() {
    let dir = Dir::new();
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let ds = make_ds(&iaca, &key, now());
    let t = now();
    let empty = dir.crl("empty.crl", &crl(&iaca, &key, 1, t, &[]));
    lint_crl("empty CRL", &empty);
    let revoked = vec![
        RevokedEntry {
            serial: serial_of(&ds),
            revocation_date: t - Duration::hours(1),
        },
        RevokedEntry {
            serial: vec![0x80, 0x01],
            revocation_date: t,
        },
    ];
    let full = dir.crl("full.crl", &crl(&iaca, &key, 2, t, &revoked));
    lint_crl("CRL with entries", &full);
}
