//! The ceremonies end to end on the file keystore, checked with `openssl`: init, sign-ds, crl,
//! revoke, rollover with link certificates, compromise, export, audit verification, and the
//! refusals (each recorded, nothing signed).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ceremony_common;

use ceremony_common::{run_config, Passphrases};
use mdoc_ca::ceremony::{self, CeremonyError, PassphraseSource};

fn custodians() -> Passphrases {
    Passphrases(
        ["alice", "bob", "carol", "dave", "erin"]
            .iter()
            .map(|c| (c.to_string(), format!("{c}-correct horse battery staple")))
            .collect(),
    )
}

struct Ca {
    dir: tempfile::TempDir,
}

const HEAD: &str = r#"
state_dir = "state"
terminal_id = "ca-terminal-01"
operators = ["op-yamada"]
at = "2026-06-01T09:00:00Z"
[key]
backend = "file"
label = "iaca-2026"
custodians = ["alice", "bob", "carol", "dave", "erin"]
threshold = 3
present = ["alice", "carol", "erin"]
[iaca]
country = "JP"
organization = "Digital Agency"
common_name = "Japan mDL IACA"
issuer_alt_name_uri = "https://www.digital.go.jp/iaca"
crl_distribution_point = "https://crl.example.go.jp/iaca.crl"
"#;

impl Ca {
    fn new() -> Self {
        Ca {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    async fn run_with(
        &self,
        name: &str,
        body: &str,
        p: &dyn PassphraseSource,
    ) -> Result<ceremony::Outcome, CeremonyError> {
        run_config(&self.path(name), body, p).await
    }

    async fn run(&self, name: &str, body: &str) -> ceremony::Outcome {
        self.run_with(name, body, &custodians()).await.unwrap()
    }

    fn csr(&self, name: &str, country: &str) -> PathBuf {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, country);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("DS {name}"));
        let csr = params.serialize_request(&key).unwrap();
        let path = self.path(&format!("{name}.csr"));
        std::fs::write(&path, csr.pem().unwrap()).unwrap();
        path
    }

    fn pem(&self, der_path: &Path, name: &str) -> PathBuf {
        let out = self.path(name);
        let kind = if der_path.extension().is_some_and(|e| e == "crl") {
            "crl"
        } else {
            "x509"
        };
        let st = Command::new("openssl")
            .args([kind, "-inform", "DER", "-in"])
            .arg(der_path)
            .arg("-out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        out
    }
}

fn openssl(args: &[&Path]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn verify_ds(ca_pem: &Path, crl_pem: &Path, ds_pem: &Path, at: &str) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["verify", "-x509_strict", "-attime", at, "-CAfile"])
        .arg(ca_pem)
        .arg("-crl_check")
        .arg("-CRLfile")
        .arg(crl_pem)
        .arg(ds_pem)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

// 2026-06-01T12:00:00Z as seconds since the epoch, for `openssl verify -attime`.
const AT: &str = "1780315200";

#[tokio::test]
async fn the_ca_lifecycle_end_to_end() {
    let ca = Ca::new();
    let init = ca
        .run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    let iaca = ca.pem(&init.artifacts[0].1, "iaca.pem");
    let (ok, text) = openssl(&[
        Path::new("x509"),
        Path::new("-noout"),
        Path::new("-text"),
        Path::new("-in"),
        &iaca,
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("ecdsa-with-SHA384"), "{text}");
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");

    // A second init is refused.
    let again = ca
        .run_with(
            "init2.toml",
            &format!("ceremony = \"init\"\n{HEAD}"),
            &custodians(),
        )
        .await;
    assert!(matches!(again, Err(CeremonyError::Refused(_))));

    // DS from a CSR, then a CRL series; openssl verifies the DS against IACA + CRL.
    let csr = ca.csr("ds1", "JP");
    let sign = format!(
        "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
        csr.display()
    );
    let ds = ca.run("sign1.toml", &sign).await;
    let ds_pem = ca.pem(&ds.artifacts[0].1, "ds1.pem");
    let crl = ca
        .run(
            "crl1.toml",
            &format!("ceremony = \"crl\"\n{HEAD}\n[crl]\nseries_days = 3\n"),
        )
        .await;
    assert_eq!(crl.artifacts.len(), 3, "one CRL per day");
    let crl_pem = ca.pem(&crl.artifacts[0].1, "crl1.pem");
    let (ok, text) = verify_ds(&iaca, &crl_pem, &ds_pem, AT);
    assert!(ok, "{text}");
    for (_, path, _) in &crl.artifacts {
        let pem = ca.pem(path, "check.crl.pem");
        let (ok, text) = openssl(&[
            Path::new("crl"),
            Path::new("-verify"),
            Path::new("-noout"),
            Path::new("-CAfile"),
            &iaca,
            Path::new("-in"),
            &pem,
        ]);
        assert!(ok && text.contains("verify OK"), "{text}");
    }

    // The same key again: refused, recorded, nothing signed.
    let refused = ca.run_with("sign1b.toml", &sign, &custodians()).await;
    assert!(
        matches!(&refused, Err(CeremonyError::Refused(m)) if m.contains("already certified")),
        "{refused:?}"
    );

    // Revoke, then a new CRL series lists it; openssl reports it revoked.
    let serial = {
        let c =
            mso::x509::Certificate::from_der(&std::fs::read(&ds.artifacts[0].1).unwrap()).unwrap();
        hex::encode(c.inner().tbs_certificate.serial_number.as_bytes())
    };
    ca.run("revoke.toml", &format!("ceremony = \"revoke\"\n{HEAD}\n[revoke]\nserials = [\"{serial}\"]\nreason = \"key compromise reported by issuer\"\n")).await;
    let crl2 = ca
        .run(
            "crl2.toml",
            &format!("ceremony = \"crl\"\n{HEAD}\n[crl]\nseries_days = 1\n"),
        )
        .await;
    let crl2_pem = ca.pem(&crl2.artifacts[0].1, "crl2.pem");
    let (ok, text) = verify_ds(&iaca, &crl2_pem, &ds_pem, AT);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    // CRL numbers only grow.
    let n = |p: &Path| {
        let (_, t) = openssl(&[
            Path::new("crl"),
            Path::new("-noout"),
            Path::new("-crlnumber"),
            Path::new("-in"),
            p,
        ]);
        t.trim().trim_start_matches("crlNumber=").to_owned()
    };
    assert_eq!(n(&crl_pem), "0x01");
    assert_eq!(n(&crl2_pem), "0x04");

    // Rollover: same DN, new key; a DS under the new key verifies from the old root.
    let roll_head = HEAD.replace("label = \"iaca-2026\"", "label = \"iaca-2031\"");
    // The new root needs its own CRL URL: the same one is refused.
    let same_url = ca
        .run_with(
            "roll-same-url.toml",
            &format!("ceremony = \"rollover\"\n{roll_head}"),
            &custodians(),
        )
        .await;
    assert!(
        matches!(&same_url, Err(CeremonyError::Refused(m)) if m.contains("its own CRL URL")),
        "{same_url:?}"
    );
    let roll_head = roll_head.replace("/iaca.crl", "/iaca-2031.crl");
    let roll = ca
        .run(
            "roll.toml",
            &format!("ceremony = \"rollover\"\n{roll_head}"),
        )
        .await;
    assert_eq!(
        roll.artifacts.len(),
        3,
        "NewWithNew, NewWithOld, OldWithNew"
    );
    let new_with_old = ca.pem(&roll.artifacts[1].1, "newwithold.pem");
    let csr2 = ca.csr("ds2", "JP");
    let sign2 = format!(
        "ceremony = \"sign-ds\"\n{roll_head}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
        csr2.display()
    );
    let ds2 = ca.run("sign2.toml", &sign2).await;
    let ds2_pem = ca.pem(&ds2.artifacts[0].1, "ds2.pem");
    let (ok, text) = openssl(&[
        Path::new("verify"),
        Path::new("-x509_strict"),
        Path::new("-attime"),
        Path::new(AT),
        Path::new("-CAfile"),
        &iaca,
        Path::new("-untrusted"),
        &new_with_old,
        &ds2_pem,
    ]);
    assert!(ok, "{text}");

    // Compromise of the new key: everything it signed is revoked on an emergency CRL, and DS
    // signing stops.
    let comp = ca.run("comp.toml", &format!("ceremony = \"compromise\"\n{roll_head}\n[compromise]\ncompromised_label = \"iaca-2031\"\nnote = \"HSM tamper alarm\"\n")).await;
    let new_iaca = ca.pem(&roll.artifacts[0].1, "iaca2031.pem");
    let emergency = ca.pem(&comp.artifacts[0].1, "emergency.pem");
    let (ok, text) = verify_ds(&new_iaca, &emergency, &ds2_pem, AT);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    // The emergency CRL also lists the compromised root's own certificate.
    let root_serial =
        mso::x509::Certificate::from_der(&std::fs::read(&roll.artifacts[0].1).unwrap())
            .unwrap()
            .serial_number()
            .to_vec();
    let emergency_der = std::fs::read(&comp.artifacts[0].1).unwrap();
    let emergency_crl = mso::crl::Crl::from_der(&emergency_der).unwrap();
    assert!(
        emergency_crl.is_revoked(&root_serial),
        "the root is not on its emergency CRL"
    );
    let csr3 = ca.csr("ds3", "JP");
    let sign3 = format!(
        "ceremony = \"sign-ds\"\n{roll_head}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
        csr3.display()
    );
    let suspended = ca.run_with("sign3.toml", &sign3, &custodians()).await;
    assert!(
        matches!(&suspended, Err(CeremonyError::Refused(m)) if m.contains("suspended")),
        "{suspended:?}"
    );

    // Export: public material only, with a manifest.
    let export = ca
        .run(
            "export.toml",
            &format!("ceremony = \"export\"\n{HEAD}\n[export]\nout_dir = \"bundle\"\n"),
        )
        .await;
    let manifest = std::fs::read_to_string(&export.artifacts[0].1).unwrap();
    assert!(manifest.contains("iaca/") && manifest.contains("link/") && manifest.contains("crl/"));
    for entry in walk(&ca.path("bundle")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE"),
            "{}",
            entry.display()
        );
    }

    // The audit trail and archive verify; tampering with either is detected.
    let state = ca.path("state");
    let report = mdoc_ca::audit_check::verify_state(&state, None)
        .await
        .unwrap();
    assert!(report.contains("OK"), "{report}");
    let archived = std::fs::read_dir(state.join("archive/certs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = std::fs::read(&archived).unwrap();
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(&archived, &changed).unwrap();
    assert!(mdoc_ca::audit_check::verify_state(&state, None)
        .await
        .is_err());
    std::fs::write(&archived, &original).unwrap();
    // A deleted archive file is reported, not silently re-created.
    std::fs::remove_file(&archived).unwrap();
    let missing = mdoc_ca::audit_check::verify_state(&state, None).await;
    assert!(
        matches!(&missing, Err(e) if e.to_string().contains("missing")),
        "{missing:?}"
    );
    std::fs::write(&archived, &original).unwrap();
    let log = state.join("audit.log");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("op-yamada", "op-mallory", 1)).unwrap();
    assert!(mdoc_ca::audit_check::verify_state(&state, None)
        .await
        .is_err());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn refusals_sign_nothing_and_are_audited() {
    let ca = Ca::new();
    ca.run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    let certs = || {
        std::fs::read_dir(ca.path("state/archive/certs"))
            .unwrap()
            .count()
    };
    let before = certs();

    // Two custodians are not a quorum.
    let two = HEAD.replace(
        "present = [\"alice\", \"carol\", \"erin\"]",
        "present = [\"alice\", \"carol\"]",
    );
    let csr = ca.csr("ds1", "JP");
    let sign = |head: &str| {
        format!(
            "ceremony = \"sign-ds\"\n{head}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
            csr.display()
        )
    };
    let r = ca.run_with("two.toml", &sign(&two), &custodians()).await;
    assert!(
        matches!(
            r,
            Err(CeremonyError::Activation(custody::Error::NotEnoughShares {
                have: 2,
                need: 3
            }))
        ),
        "{r:?}"
    );

    // A wrong passphrase names the custodian.
    let mut wrong = custodians();
    wrong.0.insert("carol".into(), "guess".into());
    let r = ca.run_with("wrong.toml", &sign(HEAD), &wrong).await;
    assert!(
        matches!(&r, Err(CeremonyError::Activation(custody::Error::WrongSecret(who))) if who.contains("carol")),
        "{r:?}"
    );

    // A CSR whose country differs from the IACA's.
    let us = ca.csr("us", "US");
    let r = ca
        .run_with(
            "us.toml",
            &format!(
                "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
                us.display()
            ),
            &custodians(),
        )
        .await;
    assert!(r.is_err(), "{r:?}");

    // A malformed CSR.
    let junk = ca.path("junk.csr");
    std::fs::write(
        &junk,
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    )
    .unwrap();
    let r = ca
        .run_with(
            "junk.toml",
            &format!(
                "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
                junk.display()
            ),
            &custodians(),
        )
        .await;
    assert!(matches!(r, Err(CeremonyError::Refused(_))), "{r:?}");

    // A config that violates the policy (DS validity beyond 457 days).
    let r = ca
        .run_with(
            "long.toml",
            &format!(
                "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 500\n",
                csr.display()
            ),
            &custodians(),
        )
        .await;
    assert!(matches!(r, Err(CeremonyError::Config(_))), "{r:?}");

    assert_eq!(certs(), before, "nothing was signed");
    let log = std::fs::read_to_string(ca.path("state/audit.log")).unwrap();
    assert!(log.matches("refused").count() >= 4, "{log}");
    assert!(
        !log.contains("correct horse"),
        "no passphrase in the audit log"
    );
    mdoc_ca::audit_check::verify_state(&ca.path("state"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_root_key_past_its_usage_period_signs_no_ds() {
    let ca = Ca::new();
    ca.run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    // Five years after the key was created (policy §6.3.2): a rollover is due.
    let late = HEAD.replace(
        "at = \"2026-06-01T09:00:00Z\"",
        "at = \"2031-06-01T09:00:00Z\"",
    );
    let csr = ca.csr("late", "JP");
    let r = ca
        .run_with(
            "late.toml",
            &format!(
                "ceremony = \"sign-ds\"\n{late}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 90\n",
                csr.display()
            ),
            &custodians(),
        )
        .await;
    assert!(
        matches!(&r, Err(CeremonyError::Refused(m)) if m.contains("usage period")),
        "{r:?}"
    );
}

/// Runs `sql` on the ledger as someone with file access would (triggers dropped first).
async fn tamper(ca: &Ca, sql: &str) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", ca.path("state/ledger.sqlite").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let triggers: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut db)
            .await
            .unwrap();
    for t in triggers {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&mut db)
            .await
            .unwrap();
    }
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut db).await.unwrap();
    db.close().await.unwrap();
}

async fn audit_verify(ca: &Ca) -> Result<String, String> {
    mdoc_ca::audit_check::verify_state(&ca.path("state"), None)
        .await
        .map_err(|e| e.to_string())
}

/// Issue 12, item 1: with the ledger's trigger dropped and a revocation deleted, `audit verify`
/// passed and the next CRL no longer listed the revoked DS. Each alteration of the ledger is
/// now found by `audit verify`, names what was altered, and no ceremony starts from it.
#[tokio::test]
async fn an_altered_ledger_is_found_and_no_ceremony_starts_from_it() {
    let ca = Ca::new();
    ca.run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    let sign = |n: &str| {
        format!(
            "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
            ca.csr(n, "JP").display()
        )
    };
    let ds = ca.run("sign1.toml", &sign("ds1")).await;
    ca.run("sign2.toml", &sign("ds2")).await;
    let serial = {
        let c =
            mso::x509::Certificate::from_der(&std::fs::read(&ds.artifacts[0].1).unwrap()).unwrap();
        hex::encode(c.inner().tbs_certificate.serial_number.as_bytes())
    };
    ca.run("revoke.toml", &format!("ceremony = \"revoke\"\n{HEAD}\n[revoke]\nserials = [\"{serial}\"]\nreason = \"key compromise\"\n")).await;
    let crl = format!("ceremony = \"crl\"\n{HEAD}\n[crl]\nseries_days = 1\n");
    ca.run("crl1.toml", &crl).await;
    audit_verify(&ca)
        .await
        .expect("the untouched state verifies");
    let backup = ca.path("backup");
    std::fs::create_dir(&backup).unwrap();
    let files = ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"];
    let save = || {
        for f in files {
            let from = ca.path("state").join(f);
            if from.exists() {
                std::fs::copy(&from, backup.join(f)).unwrap();
            }
        }
    };
    let restore = || {
        for f in files {
            let to = ca.path("state").join(f);
            let _ = std::fs::remove_file(&to);
            if backup.join(f).exists() {
                std::fs::copy(backup.join(f), &to).unwrap();
            }
        }
    };
    save();
    let crls = std::fs::read_dir(ca.path("state/archive/crls"))
        .unwrap()
        .count();

    let cases: &[(&str, String, &str)] = &[
        (
            "deleted revocation",
            format!("DELETE FROM revocations WHERE serial = '{serial}'"),
            "revocation",
        ),
        (
            "edited notAfter",
            "UPDATE certificates SET not_after = '2099-01-01T00:00:00Z' WHERE kind = 'ds'".into(),
            "edited row",
        ),
        (
            "edited kind",
            format!("UPDATE certificates SET kind = 'link' WHERE serial = '{serial}'"),
            "the ledger says link",
        ),
        (
            "edited subject",
            format!("UPDATE certificates SET subject = 'CN=Evil' WHERE serial = '{serial}'"),
            "edited row",
        ),
        (
            "inserted revocation",
            "INSERT INTO revocations (serial, revoked_at, reason, ceremony_id) \
             SELECT serial, '2026-06-01T09:00:00Z', 'x', 1 FROM certificates \
             WHERE kind = 'ds' AND serial NOT IN (SELECT serial FROM revocations)"
                .into(),
            "revocation",
        ),
        (
            "a DS row copied under a new serial",
            format!(
                "INSERT INTO certificates (serial, kind, subject, spki_sha256, signed_by, \
                 not_before, not_after, sha256, der, ceremony_id) SELECT '7777', kind, \
                 subject, 'other', signed_by, not_before, not_after, 'copy', der, \
                 ceremony_id FROM certificates WHERE serial = '{serial}'"
            ),
            "7777",
        ),
        (
            "edited digest",
            format!("UPDATE certificates SET sha256 = 'ff' WHERE serial = '{serial}'"),
            "stored digest",
        ),
        (
            "deleted ceremony",
            "DELETE FROM ceremonies WHERE id = (SELECT ceremony_id FROM revocations LIMIT 1)"
                .into(),
            "missing row of ceremonies",
        ),
        (
            "deleted CRL",
            "DELETE FROM crls WHERE number = (SELECT MAX(number) FROM crls)".into(),
            "CRL #",
        ),
        (
            "deleted certificate row",
            "DELETE FROM certificates WHERE kind = 'ds' \
             AND serial NOT IN (SELECT serial FROM revocations)"
                .into(),
            "which the ledger does not hold",
        ),
        (
            // The next CRLs would give the forged date as the revocation date.
            "edited revocation time",
            format!(
                "UPDATE revocations SET revoked_at = '2026-01-01T00:00:00Z' WHERE serial = '{serial}'"
            ),
            "revoked at 2026-01-01T00:00:00Z",
        ),
        (
            "edited CRL number",
            "UPDATE crls SET number = 99 WHERE number = (SELECT MAX(number) FROM crls)".into(),
            "CRL #99",
        ),
        (
            "edited CRL bytes",
            "UPDATE crls SET der = (SELECT der FROM certificates LIMIT 1) \
             WHERE number = (SELECT MIN(number) FROM crls)"
                .into(),
            "is in the ledger but not in the audit log",
        ),
        (
            "inserted CRL row",
            "INSERT INTO crls (number, this_update, next_update, signed_by, sha256, der, \
             ceremony_id) SELECT number + 100, this_update, next_update, signed_by, sha256, der, \
             ceremony_id FROM crls WHERE number = (SELECT MAX(number) FROM crls)"
                .into(),
            "is in the ledger but not in the audit log",
        ),
        (
            "edited ceremony actors",
            "UPDATE ceremonies SET actors = '[\"op-mallory\"]' WHERE kind = 'revoke'".into(),
            "edited or inserted row",
        ),
        (
            "edited ceremony result",
            "UPDATE ceremonies SET result = 'failure' WHERE kind = 'sign-ds'".into(),
            "edited or inserted row",
        ),
        (
            "inserted ceremony row",
            "INSERT INTO ceremonies (kind, config_sha256, terminal_id, actors, started_at, \
             finished_at, result) SELECT 'revoke', config_sha256, terminal_id, actors, \
             started_at, finished_at, result FROM ceremonies WHERE kind = 'crl'"
                .into(),
            "edited or inserted row",
        ),
    ];
    for (name, sql, says) in cases {
        tamper(&ca, sql).await;
        let found = audit_verify(&ca).await;
        assert!(
            matches!(&found, Err(m) if m.contains(says)),
            "{name}: {found:?}"
        );
        let next = ca.run_with("crl2.toml", &crl, &custodians()).await;
        assert!(
            matches!(&next, Err(CeremonyError::Refused(m)) if m.contains("does not verify")),
            "{name}: {next:?}"
        );
        assert_eq!(
            std::fs::read_dir(ca.path("state/archive/crls"))
                .unwrap()
                .count(),
            crls,
            "{name}: a CRL was signed"
        );
        restore();
        audit_verify(&ca).await.expect("restored");
    }
}

/// Issue 12, Build 4: the list signer (ISO/IEC 18013-5 second edition, Table B.9) is certified
/// from a CSR under its own profile — issued by the IACA, keyUsage critical digitalSignature
/// only, no extendedKeyUsage — recorded as its own kind, verified by `openssl`, and its key is
/// never certified for the other role (nor a DS key for lists).
#[tokio::test]
async fn a_list_signer_is_certified_under_its_own_profile_and_never_as_a_ds() {
    let ca = Ca::new();
    let init = ca
        .run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    let iaca_der = std::fs::read(&init.artifacts[0].1).unwrap();
    let iaca = mso::x509::Certificate::from_der(&iaca_der).unwrap();
    let body = |kind: &str, section: &str, csr: &Path, days: u32| {
        format!(
            "ceremony = \"{kind}\"\n{HEAD}\n[{section}]\ncsrs = [\"{}\"]\nvalidity_days = {days}\n",
            csr.display()
        )
    };
    let ls_csr = ca.csr("ls1", "JP");
    let out = ca
        .run(
            "ls.toml",
            &body("sign-list-signer", "sign_list_signer", &ls_csr, 457),
        )
        .await;
    let der = std::fs::read(&out.artifacts[0].1).unwrap();
    let cert = mso::x509::Certificate::from_der(&der).unwrap();
    assert_eq!(cert.extended_key_usage().unwrap(), None, "no purpose");
    assert!(cert.key_usage().unwrap().unwrap().digital_signature());
    let findings =
        mso::x509::profile::inspect_list_signer(cert.tbs(), Some(iaca.tbs())).into_findings();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(
        cert.authority_key_id(),
        iaca.subject_key_id(),
        "issued by the IACA itself"
    );
    // A DS profile check would refuse it: it is not a DS.
    assert!(
        !mso::x509::profile::inspect_ds(cert.tbs(), Some(iaca.tbs()))
            .into_findings()
            .is_empty()
    );

    // openssl builds the path to the IACA (strict X.509).
    let iaca_pem = ca.pem(&init.artifacts[0].1, "iaca.pem");
    let ls_pem = ca.pem(&out.artifacts[0].1, "ls.pem");
    let (ok, text) = openssl(&[
        Path::new("verify"),
        Path::new("-x509_strict"),
        Path::new("-attime"),
        Path::new(AT),
        Path::new("-CAfile"),
        &iaca_pem,
        &ls_pem,
    ]);
    assert!(ok, "{text}");

    // The ledger and the log agree on the new kind.
    let verified = audit_verify(&ca).await;
    assert!(verified.is_ok(), "{verified:?}");
    let log = std::fs::read_to_string(ca.path("state/audit.log")).unwrap();
    assert!(log.contains("\"event\":\"ca.list_signer.issue\""), "{log}");

    // One key, one role: the list signer's key is refused as a DS, a DS key as a list signer.
    let r = ca
        .run_with(
            "ls-as-ds.toml",
            &body("sign-ds", "sign_ds", &ls_csr, 365),
            &custodians(),
        )
        .await;
    assert!(
        matches!(&r, Err(CeremonyError::Refused(m)) if m.contains("already certified")),
        "{r:?}"
    );
    let ds_csr = ca.csr("ds1", "JP");
    ca.run("ds.toml", &body("sign-ds", "sign_ds", &ds_csr, 365))
        .await;
    let r = ca
        .run_with(
            "ds-as-ls.toml",
            &body("sign-list-signer", "sign_list_signer", &ds_csr, 365),
            &custodians(),
        )
        .await;
    assert!(
        matches!(&r, Err(CeremonyError::Refused(m)) if m.contains("already certified")),
        "{r:?}"
    );

    // Past Table B.9's 1187 days (and the default policy's 457): refused by the config.
    let r = ca
        .run_with(
            "long.toml",
            &body(
                "sign-list-signer",
                "sign_list_signer",
                &ca.csr("ls2", "JP"),
                1188,
            ),
            &custodians(),
        )
        .await;
    assert!(matches!(r, Err(CeremonyError::Config(_))), "{r:?}");

    // The DTS bundle carries no signer certificate of either kind.
    let export = ca.path("export");
    ca.run(
        "export.toml",
        &format!(
            "ceremony = \"export\"\n{HEAD}\n[export]\nout_dir = \"{}\"\n",
            export.display()
        ),
    )
    .await;
    let manifest = std::fs::read_to_string(export.join("MANIFEST.sha256")).unwrap();
    assert!(!manifest.contains(&hex::encode(cert.serial_number())));
}

/// The list signer migration rebuilds `certificates` and `revocations` on a ledger made by the
/// earlier schema: every row is kept, references still hold, revocations stay irreversible,
/// and the new kind is accepted while an unknown one is still refused.
#[tokio::test]
async fn a_ledger_of_the_earlier_schema_is_migrated_keeping_every_row() {
    use sqlx::{Connection, Row};
    let state = tempfile::tempdir().unwrap();
    let migrations = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_ledger.sql"),
        migrations.path().join("0001_ledger.sql"),
    )
    .unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        state.path().join("ledger.sqlite").display()
    );
    {
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(migrations.path())
            .await
            .unwrap()
            .run(&mut db)
            .await
            .unwrap();
        for sql in [
            "PRAGMA foreign_keys = ON",
            "INSERT INTO ceremonies VALUES (1, 'sign-ds', 'aa', 't', '[]', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'success')",
            "INSERT INTO certificates VALUES ('01ab', 'ds', 'CN=DS', 'bb', 'iaca-2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'cc', x'3000', 1)",
            "INSERT INTO certificates VALUES ('02cd', 'ds', 'CN=DS2', 'dd', 'iaca-2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'ee', x'3001', 1)",
            "INSERT INTO revocations VALUES ('01ab', '2026-02-01T00:00:00Z', 'keyCompromise', 1)",
        ] {
            sqlx::query(sql).execute(&mut db).await.unwrap();
        }
        db.close().await.unwrap();
    }

    let ledger = mdoc_ca::ledger::Ledger::open(state.path()).await.unwrap();
    assert!(ledger.is_revoked("01ab").await.unwrap());
    assert!(!ledger.is_revoked("02cd").await.unwrap());
    assert_eq!(ledger.certificates(None).await.unwrap().len(), 2);
    drop(ledger);

    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut db)
        .await
        .unwrap();
    let orphans = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert!(orphans.is_empty());
    let e = sqlx::query("DELETE FROM revocations WHERE serial = '01ab'")
        .execute(&mut db)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("revocation is irreversible"), "{e}");
    let e = sqlx::query("INSERT INTO revocations VALUES ('ffff', 'x', 'y', 1)")
        .execute(&mut db)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
    sqlx::query("INSERT INTO certificates VALUES ('03ef', 'list_signer', 'CN=LS', 'ff', 'iaca-2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', '11', x'3002', 1)")
        .execute(&mut db)
        .await
        .unwrap();
    // One key, one role, across the two signer kinds.
    let e = sqlx::query("INSERT INTO certificates VALUES ('04aa', 'list_signer', 'CN=LS', 'bb', 'iaca-2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', '22', x'3003', 1)")
        .execute(&mut db)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    let e = sqlx::query("INSERT INTO certificates VALUES ('05bb', 'bogus', 'CN=X', '33', 'iaca-2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', '44', x'3004', 1)")
        .execute(&mut db)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("CHECK"), "{e}");
    let kinds: Vec<String> = sqlx::query("SELECT kind FROM certificates ORDER BY serial")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kinds, ["ds", "ds", "list_signer"]);
}

/// Copies the directory `from` to `to` (created), recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// `mdoc-ca audit verify` on `state`: the exit code and everything printed.
fn audit_verify_cli(state: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mdoc-ca"))
        .args(["audit", "verify", "--state-dir", state.to_str().unwrap()])
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

fn audit_records(state: &Path) -> Vec<custody::audit::AuditRecord> {
    std::fs::read_to_string(state.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Renumbers and re-links the records from `from` on, checkpoints' claims included, as
/// someone with file access but without the audit key would.
fn rechain(records: &mut [custody::audit::AuditRecord], from: usize) {
    for i in from..records.len() {
        records[i].seq = records[i - 1].seq + 1;
        records[i].prev = records[i - 1].hash.clone();
        if records[i].is_checkpoint() {
            let (seq, prev) = (records[i].seq - 1, records[i].prev.clone());
            records[i]
                .details
                .insert("covers_seq".into(), seq.to_string());
            records[i].details.insert("covers_hash".into(), prev);
        }
        records[i].hash = records[i].compute_hash().unwrap();
    }
}

/// Issue 12: the tamper matrix of the root CA's audit log and archive through the product
/// (the ledger's rows are in `an_altered_ledger_is_found_and_no_ceremony_starts_from_it`, the
/// log format's own matrix in `custody/tests/suite/audit.rs`). Each alteration is found by
/// `mdoc-ca audit verify` (exit 6, naming the record or file), and no ceremony starts from it:
/// nothing is signed.
#[tokio::test]
async fn an_altered_audit_log_or_archive_is_found_and_no_ceremony_starts_from_it() {
    use custody::audit::AuditRecord;
    let ca = Ca::new();
    ca.run("init.toml", &format!("ceremony = \"init\"\n{HEAD}"))
        .await;
    let sign = |n: &str| {
        format!(
            "ceremony = \"sign-ds\"\n{HEAD}\n[sign_ds]\ncsrs = [\"{}\"]\nvalidity_days = 365\n",
            ca.csr(n, "JP").display()
        )
    };
    let ds = ca.run("sign1.toml", &sign("ds1")).await;
    ca.run("sign2.toml", &sign("ds2")).await;
    let serial = {
        let c =
            mso::x509::Certificate::from_der(&std::fs::read(&ds.artifacts[0].1).unwrap()).unwrap();
        hex::encode(c.inner().tbs_certificate.serial_number.as_bytes())
    };
    ca.run("revoke.toml", &format!("ceremony = \"revoke\"\n{HEAD}\n[revoke]\nserials = [\"{serial}\"]\nreason = \"key compromise\"\n")).await;
    let crl = format!("ceremony = \"crl\"\n{HEAD}\n[crl]\nseries_days = 1\n");
    ca.run("crl1.toml", &crl).await;
    let state = ca.path("state");
    let (code, said) = audit_verify_cli(&state);
    assert_eq!(code, Some(0), "{said}");
    let backup = ca.path("backup");
    copy_dir(&state, &backup);
    let restore = || {
        std::fs::remove_dir_all(&state).unwrap();
        copy_dir(&backup, &state);
    };
    let crls = || {
        std::fs::read_dir(state.join("archive/crls"))
            .unwrap()
            .count()
    };
    let signed_crls = crls();

    let original = audit_records(&state);
    let at = |event: &str| original.iter().position(|r| r.event == event).unwrap();
    let ds_issue = at("ca.ds.issue");
    let revoke = at("ca.revoke");
    let seq = |i: usize| original[i].seq;
    let next_checkpoint = |i: usize| (i..original.len()).find(|&j| original[j].is_checkpoint());
    let after_revoke = next_checkpoint(revoke).unwrap();
    let crl_issue = at("ca.crl.issue");
    // The checkpoint before the CRL ceremony: cutting the log back to it loses only unanchored
    // history as far as the log can tell.
    let before_crl = (0..crl_issue)
        .rev()
        .find(|&j| original[j].is_checkpoint())
        .unwrap();
    let other_key = mso::crypto::SoftwareKey::generate(mso::crypto::Algorithm::Es256);

    type Alter = Box<dyn Fn(&mut Vec<AuditRecord>)>;
    let log_cases: Vec<(&str, Alter, String)> = vec![
        (
            "a deleted record",
            Box::new(move |r| {
                r.remove(ds_issue);
            }),
            format!(
                "record {}: expected record {}",
                seq(ds_issue),
                seq(ds_issue)
            ),
        ),
        (
            "an edited revocation record",
            Box::new(move |r| {
                r[revoke].details.insert("serial".into(), "01".into());
            }),
            format!("record {}: hash mismatch", seq(revoke)),
        ),
        (
            "two records swapped",
            Box::new(move |r| r.swap(ds_issue, ds_issue + 1)),
            format!("record {}: expected record", seq(ds_issue)),
        ),
        (
            "an inserted record chained to the one before",
            Box::new(move |r| {
                let mut forged = r[revoke].clone();
                forged.details.insert("serial".into(), "02".into());
                forged.hash = forged.compute_hash().unwrap();
                r.insert(revoke, forged);
            }),
            format!("record {}: expected record", seq(revoke) + 1),
        ),
        (
            "the revocation deleted and the chain recomputed",
            Box::new(move |r| {
                r.remove(revoke);
                rechain(r, revoke);
            }),
            format!(
                "record {}: checkpoint signature does not verify",
                seq(after_revoke) - 1
            ),
        ),
        (
            "a checkpoint replaced by one another key signed",
            Box::new(move |r| {
                use base64::Engine as _;
                use mso::crypto::Signer as _;
                let fingerprint = custody::audit::key_fingerprint(&other_key.public_key().unwrap());
                let c = &mut r[after_revoke];
                c.details.insert("key_fingerprint".into(), fingerprint);
                c.sig = None;
                let sig = other_key.sign(&c.signed_message().unwrap()).unwrap();
                c.sig = Some(base64::engine::general_purpose::STANDARD.encode(sig));
                c.hash = c.compute_hash().unwrap();
                rechain(r, after_revoke + 1);
            }),
            format!(
                "record {}: checkpoint signed by another key",
                seq(after_revoke)
            ),
        ),
        (
            // The chain and every checkpoint left verify: the ledger's rows of the ceremonies
            // cut (the revocation's, which signs no checkpoint, and the CRL's) are what tell.
            "the log cut back to the checkpoint before the CRL ceremony",
            Box::new(move |r| r.truncate(before_crl + 1)),
            "in the ledger".into(),
        ),
    ];
    let mut fails = Vec::new();
    let check = |fails: &mut Vec<String>,
                 name: &str,
                 says: &str,
                 next: Result<ceremony::Outcome, CeremonyError>| {
        let (code, said) = audit_verify_cli(&state);
        if code != Some(6) || !said.contains(says) {
            fails.push(format!(
                "[{name}] audit verify exit {code:?}, wanted 6 saying {says:?}: {said}"
            ));
        }
        if next.is_ok() || crls() != signed_crls {
            fails.push(format!("[{name}] a ceremony ran on it: {next:?}"));
        }
    };
    for (name, alter, says) in &log_cases {
        let mut records = original.clone();
        alter(&mut records);
        let text: String = records
            .iter()
            .map(|r| r.to_line().unwrap() + "\n")
            .collect();
        std::fs::write(state.join("audit.log"), text).unwrap();
        let next = ca.run_with("crl2.toml", &crl, &custodians()).await;
        check(&mut fails, name, says, next);
        restore();
    }

    // A log cut inside its last record (a torn write or a truncation).
    let log = state.join("audit.log");
    let text = std::fs::read(&log).unwrap();
    std::fs::write(&log, &text[..text.len() - 25]).unwrap();
    let says = format!(
        "record {}: incomplete final line",
        original.last().unwrap().seq
    );
    let next = ca.run_with("crl2.toml", &crl, &custodians()).await;
    check(&mut fails, "a log cut inside its last record", &says, next);
    restore();

    // The archive: a certificate replaced by another the CA issued, and a file it never
    // issued.
    let certs = state.join("archive/certs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&certs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    std::fs::copy(&files[1], &files[0]).unwrap();
    let says = format!("{} differs from the ledger", files[0].display());
    let next = ca.run_with("crl2.toml", &crl, &custodians()).await;
    check(&mut fails, "an archived certificate replaced", &says, next);
    restore();
    let planted = certs.join("0badc0de.der");
    std::fs::copy(&files[1], &planted).unwrap();
    let says = format!("{} is not in the ledger", planted.display());
    let next = ca.run_with("crl2.toml", &crl, &custodians()).await;
    check(
        &mut fails,
        "a certificate planted in the archive",
        &says,
        next,
    );
    restore();

    assert!(
        fails.is_empty(),
        "{} check(s) failed:\n  {}",
        fails.len(),
        fails.join("\n  ")
    );
    // Untouched again, the next ceremony runs.
    ca.run("crl2.toml", &crl).await;
}
