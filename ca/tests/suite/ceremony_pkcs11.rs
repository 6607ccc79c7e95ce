//! The HSM path: the root CA initialised on a SoftHSM2 token with the PIN split 3-of-5, a CRL
//! ceremony activated by 3 custodians, refused with 2, and the root key non-extractable.
//!
//! Needs SoftHSM2 (`bash scripts/softhsm.sh`); `#[ignore]`d so a plain `cargo test` passes
//! without it. `scripts/test.sh` runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::ceremony_common;

use ceremony_common::{run_config, Passphrases};
use mdoc_ca::ceremony::{self, CeremonyError};
use test_kit::softhsm::{SoftHsm, Token};

const INITIAL_PIN: &str = "initial-user-pin-from-hsm-admin";

fn config(present: &[&str], ceremony: &str, extra: &str, module: &std::path::Path) -> String {
    format!(
        r#"ceremony = "{ceremony}"
state_dir = "state"
terminal_id = "ca-terminal-hsm"
operators = ["op-1"]
at = "2026-06-01T09:00:00Z"
[key]
backend = "pkcs11"
module = "{}"
token = "mdoc-iaca"
label = "iaca-hsm"
custodians = ["c1", "c2", "c3", "c4", "c5"]
threshold = 3
present = {present:?}
[iaca]
country = "JP"
common_name = "HSM test IACA"
issuer_alt_name_uri = "https://iaca.example.jp"
crl_distribution_point = "https://crl.example.jp/iaca.crl"
{extra}"#,
        module.display()
    )
}

async fn run(
    dir: &std::path::Path,
    body: &str,
    p: &Passphrases,
) -> Result<ceremony::Outcome, CeremonyError> {
    run_config(&dir.join("ceremony.toml"), body, p).await
}

#[tokio::test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
async fn root_key_in_softhsm_activated_by_three_of_five() {
    // A private SoftHSM2 configuration, set before the module is first loaded in this process
    // (this test binary holds one test).
    let hsm = SoftHsm::init(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &[Token {
            label: "mdoc-iaca",
            so_pin: b"so-pin-123456",
            pin: INITIAL_PIN.as_bytes(),
        }],
    )
    .expect("SoftHSM2 set-up: run `bash scripts/softhsm.sh`");
    let module = hsm.module;
    let dir = tempfile::tempdir().unwrap();

    let mut pass: HashMap<String, String> = (1..=5)
        .map(|i| (format!("c{i}"), format!("custodian {i} passphrase")))
        .collect();
    pass.insert("token-initial-pin".into(), INITIAL_PIN.into());
    let pass = Passphrases(pass);

    let init = run(
        dir.path(),
        &config(&["c1", "c2", "c3"], "init", "", &module),
        &pass,
    )
    .await
    .unwrap();
    let iaca = std::fs::read(&init.artifacts[0].1).unwrap();
    let cert = mso::x509::Certificate::from_der(&iaca).unwrap();
    assert_eq!(cert.public_key().unwrap().curve(), mso::crypto::Curve::P384);

    // The HSM administrator's PIN no longer opens the token: only the quorum secret does.
    assert!(
        custody::pkcs11::Pkcs11Token::activate(&module, "mdoc-iaca", INITIAL_PIN.as_bytes())
            .is_err()
    );

    // Three custodians activate the key for a CRL ceremony.
    let crl = run(
        dir.path(),
        &config(
            &["c2", "c4", "c5"],
            "crl",
            "[crl]\nseries_days = 2\n",
            &module,
        ),
        &pass,
    )
    .await
    .unwrap();
    assert_eq!(crl.artifacts.len(), 2);
    // Every CRL verifies with the IACA (openssl).
    let pem = dir.path().join("iaca.pem");
    assert!(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&init.artifacts[0].1)
        .arg("-out")
        .arg(&pem)
        .status()
        .unwrap()
        .success());
    let pem_crl = dir.path().join("crl.pem");
    assert!(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in"])
        .arg(&crl.artifacts[0].1)
        .arg("-out")
        .arg(&pem_crl)
        .status()
        .unwrap()
        .success());
    let v = Command::new("openssl")
        .args(["crl", "-noout", "-verify", "-CAfile"])
        .arg(&pem)
        .arg("-in")
        .arg(&pem_crl)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&v.stderr).contains("verify OK")
            || String::from_utf8_lossy(&v.stdout).contains("verify OK")
    );

    // Two custodians are refused, and nothing is signed.
    let crls_before = std::fs::read_dir(dir.path().join("state/archive/crls"))
        .unwrap()
        .count();
    let r = run(
        dir.path(),
        &config(&["c1", "c3"], "crl", "[crl]\nseries_days = 2\n", &module),
        &pass,
    )
    .await;
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
    assert_eq!(
        std::fs::read_dir(dir.path().join("state/archive/crls"))
            .unwrap()
            .count(),
        crls_before
    );

    // The root key never leaves the token.
    let secret = {
        let shares: Vec<(custody::quorum::SealedShare, Vec<u8>)> = ["c1", "c2", "c3"]
            .iter()
            .map(|c| {
                let s = custody::quorum::SealedShare::load(
                    dir.path().join(format!("state/shares/{c}.share.json")),
                )
                .unwrap();
                (s, pass.0[*c].clone().into_bytes())
            })
            .collect();
        let pairs: Vec<_> = shares
            .iter()
            .map(|(s, p)| (s.clone(), p.as_slice()))
            .collect();
        custody::quorum::combine(&pairs).unwrap()
    };
    let token = custody::pkcs11::Pkcs11Token::activate(&module, "mdoc-iaca", &secret).unwrap();
    let key = token.open("iaca-hsm").unwrap();
    let protection = key.protection().unwrap();
    assert!(protection.is_protected(), "{protection:?}");
    let log = std::fs::read_to_string(dir.path().join("state/audit.log")).unwrap();
    assert!(!log.contains(INITIAL_PIN));
}
