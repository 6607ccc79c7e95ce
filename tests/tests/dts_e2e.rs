//! The trust chain end to end, with real components: the root's ceremonies (`mdoc-ca`: init,
//! sign-ds from the issuer's CSR, a CRL series, export), the DTS ingesting the export and
//! serving it on loopback, `openssl verify -x509_strict -crl_check` with the CRL fetched from
//! the URL the DS certificate names, then a revocation ceremony: the DTS serves the new CRL,
//! openssl reports the DS revoked, and the issuer, following the DTS, has revoked the DS and
//! its documents while its lists, signed by the list signer the root certified
//! (`sign-list-signer`), stay published and list the document's device key. Last, the root
//! is declared compromised: the DTS serves the emergency CRL, which lists the root's own
//! certificate, and the verifier refuses everything under it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use custody::softstore::KdfParams;
use devstack::sample::{issue_body, mdl_claims, MDL};
use mdoc_ca::ceremony::{self, PassphraseSource};
use mdoc_ca::config::CeremonyConfig;
use mdoc_dts::bundle::Bundle;
use mdoc_dts::http::{serve, App, Routes};
use mdoc_dts::{Dts, DtsConfig, SystemClock};
use mdoc_issuer::config::{KeystoreSection, ServiceConfig};
use mdoc_issuer::crl_follow::CrlFollower;
use mdoc_issuer::ds::{
    csr_pem, generate_csr, install_certificate, install_list_signer_certificate, DsKeys, DsSubject,
    KeystoreConfig,
};
use mdoc_issuer::engine::ServerSecret;
use mdoc_issuer::server;
use mdoc_issuer::store::{DsCertificate, DsState, Scope, Store};
use mso::crypto::{Algorithm, SoftwareKey};
use mso::x509::Certificate;
use time::OffsetDateTime;
use zeroize::Zeroizing;

struct Custodians(HashMap<String, String>);

impl PassphraseSource for Custodians {
    fn passphrase(&self, id: &str) -> custody::Result<Zeroizing<Vec<u8>>> {
        self.0
            .get(id)
            .map(|p| Zeroizing::new(p.clone().into_bytes()))
            .ok_or_else(|| custody::Error::WrongSecret(id.into()))
    }
}

fn custodians() -> Custodians {
    Custodians(
        ["alice", "bob", "carol"]
            .iter()
            .map(|c| (c.to_string(), format!("{c}-correct horse battery staple")))
            .collect(),
    )
}

/// Runs one ceremony config in `dir`; returns its artifacts' paths.
async fn ceremony(dir: &Path, name: &str, body: &str) -> Vec<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    let (cfg, sha) = CeremonyConfig::load(&path).unwrap();
    let mut out = Vec::new();
    let outcome = ceremony::run(cfg, sha, &custodians(), &mut out, false)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", String::from_utf8_lossy(&out)));
    outcome.artifacts.into_iter().map(|(_, p, _)| p).collect()
}

fn head(cdp: &str) -> String {
    format!(
        r#"state_dir = "state"
terminal_id = "ca-terminal-01"
operators = ["op-yamada"]
[key]
backend = "file"
label = "iaca-2026"
custodians = ["alice", "bob", "carol"]
threshold = 2
present = ["alice", "carol"]
[iaca]
country = "NL"
organization = "Digital Agency"
common_name = "Japan mDL IACA"
issuer_alt_name_uri = "https://www.digital.go.jp/iaca"
crl_distribution_point = "{cdp}"
"#
    )
}

fn pem(der_path: &Path, kind: &str, out: &Path) -> PathBuf {
    let st = Command::new("openssl")
        .args([kind, "-inform", "DER", "-in"])
        .arg(der_path)
        .arg("-out")
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
    out.to_path_buf()
}

fn openssl_verify(iaca: &Path, crl: &Path, ds: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["verify", "-x509_strict", "-crl_check", "-CAfile"])
        .arg(iaca)
        .arg("-CRLfile")
        .arg(crl)
        .arg(ds)
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

/// Fetches the CRL at the URL the DS certificate names, with a plain HTTP client.
async fn fetch_crl(ds_der: &[u8], dir: &Path, name: &str) -> PathBuf {
    let url = Certificate::from_der(ds_der)
        .unwrap()
        .crl_distribution_uris()
        .unwrap();
    assert_eq!(url.len(), 1);
    let r = reqwest::get(&url[0]).await.unwrap();
    assert_eq!(r.status(), 200, "{}", url[0]);
    assert_eq!(r.headers()["content-type"], "application/pkix-crl");
    let der = dir.join(format!("{name}.der"));
    std::fs::write(&der, r.bytes().await.unwrap()).unwrap();
    pem(&der, "crl", &dir.join(format!("{name}.pem")))
}

#[tokio::test]
#[ignore = "needs openssl (scripts/test.sh runs it)"]
async fn ca_ceremonies_to_dts_to_openssl_and_the_issuer_follows_a_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The DTS's address is known before the root is made: its CRL URL points there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let cdp = format!("{public}/crl/iaca-2026.crl");
    let head = head(&cdp);

    // Root ceremony.
    let init = ceremony(dir, "init.toml", &format!("ceremony = \"init\"\n{head}")).await;
    let iaca_der = std::fs::read(&init[0]).unwrap();
    let iaca_pem = pem(&init[0], "x509", &dir.join("iaca.pem"));

    // The issuer's DS key and CSR, certified by a sign-ds ceremony, installed in the issuer.
    let keys_dir = dir.join("ds-keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let keys = DsKeys::open(KeystoreConfig::DevFile {
        dir: keys_dir.clone(),
        secret: Zeroizing::new(b"ds keystore secret for the test".to_vec()),
        kdf: KdfParams::new(1024, 1, 1).unwrap(),
    })
    .unwrap();
    let key = keys.generate("ds-1", Algorithm::Es256).unwrap();
    let subject = DsSubject {
        country: "NL".into(),
        state: None,
        organization: Some("Digital Agency".into()),
        common_name: "Japan mDL DS 1".into(),
    };
    let csr = generate_csr(key.signer.as_ref(), &subject).unwrap();
    std::fs::write(dir.join("ds.csr.pem"), csr_pem(&csr).unwrap()).unwrap();
    let signed = ceremony(
        dir,
        "sign.toml",
        &format!(
            "ceremony = \"sign-ds\"\n{head}\n[sign_ds]\ncsrs = [\"ds.csr.pem\"]\nvalidity_days = 365\n"
        ),
    )
    .await;
    let ds_der = std::fs::read(&signed[0]).unwrap();
    let ds_pem = pem(&signed[0], "x509", &dir.join("ds.pem"));
    let now = OffsetDateTime::now_utc();
    let iaca = Certificate::from_der(&iaca_der).unwrap();
    let checked = install_certificate(&ds_der, key.signer.as_ref(), &[iaca], now).unwrap();
    let db = dir.join("issuer.sqlite").display().to_string();
    let store = Store::open(&db).await.unwrap();
    store
        .insert_ds_certificate(&DsCertificate {
            serial: checked.serial().to_owned(),
            der: ds_der.clone(),
            not_before: checked.not_before(),
            not_after: checked.not_after(),
            state: DsState::Active,
            key_uri: key.uri.to_string(),
            installed_at: now - time::Duration::minutes(5),
        })
        .await
        .unwrap();
    // The list signer: a key of its own, certified by a sign-list-signer ceremony.
    let ls_key = keys.generate("lists-1", Algorithm::Es256).unwrap();
    let ls_subject = DsSubject {
        common_name: "Japan mDL revocation lists".into(),
        ..subject.clone()
    };
    let ls_csr = generate_csr(ls_key.signer.as_ref(), &ls_subject).unwrap();
    std::fs::write(dir.join("ls.csr.pem"), csr_pem(&ls_csr).unwrap()).unwrap();
    let ls_signed = ceremony(
        dir,
        "sign-ls.toml",
        &format!(
            "ceremony = \"sign-list-signer\"\n{head}\n[sign_list_signer]\ncsrs = [\"ls.csr.pem\"]\nvalidity_days = 365\n"
        ),
    )
    .await;
    let ls_der = std::fs::read(&ls_signed[0]).unwrap();
    let ls_checked = install_list_signer_certificate(
        &ls_der,
        ls_key.signer.as_ref(),
        &[Certificate::from_der(&iaca_der).unwrap()],
        now,
    )
    .unwrap();
    store
        .insert_list_signer_certificate(&DsCertificate {
            serial: ls_checked.serial().to_owned(),
            der: ls_der.clone(),
            not_before: ls_checked.not_before(),
            not_after: ls_checked.not_after(),
            state: DsState::Active,
            key_uri: ls_key.uri.to_string(),
            installed_at: now - time::Duration::minutes(5),
        })
        .await
        .unwrap();
    store.close().await;

    // CRL series and export, ingested by the DTS, served on loopback.
    ceremony(
        dir,
        "crl.toml",
        &format!("ceremony = \"crl\"\n{head}\n[crl]\nseries_days = 3\n"),
    )
    .await;
    ceremony(
        dir,
        "export.toml",
        &format!("ceremony = \"export\"\n{head}\n[export]\nout_dir = \"bundle-1\"\n"),
    )
    .await;
    let dts_config = DtsConfig::parse(&format!(
        "public_url = {public:?}\npinned_roots = [{:?}]\ndatabase_url = {:?}\naudit_log = {:?}\nterminal_id = \"dts-01\"\n",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&iaca_der)),
        dir.join("dts.sqlite").display().to_string(),
        dir.join("dts-audit.log").display().to_string(),
    ))
    .unwrap();
    let dts = Dts::open_with(dts_config.clone(), None, Arc::new(SystemClock))
        .await
        .unwrap();
    let limits = dts_config.limits.clone();
    dts.ingest(
        Bundle::from_dir(&dir.join("bundle-1"), &limits),
        "cli:bundle-1",
        "op-yamada",
    )
    .await
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, App::new(dts.clone(), Routes::All), async {
        let _ = stop_rx.await;
    }));

    // openssl, with the CRL fetched from the URL in the DS certificate: valid.
    let crl1 = fetch_crl(&ds_der, dir, "crl-1").await;
    let (ok, text) = openssl_verify(&iaca_pem, &crl1, &ds_pem);
    assert!(ok, "{text}");

    // The issuer issues a document with that DS.
    let mut config = ServiceConfig::default();
    config.database.url = db.clone();
    config.keystore = KeystoreSection::DevFile {
        dir: keys_dir.clone(),
        secret_env: "unused".into(),
    };
    config.trust.iaca = vec![init[0].clone()];
    config.audit.path = dir.join("issuer-audit.log");
    let issuer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer_url = format!("http://{}", issuer_listener.local_addr().unwrap());
    config.server.public_url = issuer_url.clone();
    let issuer = server::build_with(
        config.clone(),
        keys,
        ServerSecret::new(b"issuer server secret of at least 32 bytes".to_vec()).unwrap(),
    )
    .await
    .unwrap();
    let running = server::start(issuer.clone(), issuer_listener)
        .await
        .unwrap();
    let (_, token) = issuer
        .store()
        .create_client("portal", &[Scope::Issue])
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let nonce: serde_json::Value = serde_json::from_slice(
        &http
            .post(format!("{issuer_url}/v1/nonces"))
            .bearer_auth(&token.0)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let body = issue_body(
        MDL,
        &mdl_claims(),
        nonce["nonce"].as_str().unwrap(),
        &issuer_url,
        std::slice::from_ref(&device),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let resp = http
        .post(format!("{issuer_url}/v1/documents"))
        .bearer_auth(&token.0)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    // The issuer follows the DTS: nothing to revoke yet.
    let mut follower = CrlFollower::new(&issuer, &config.crl_intake);
    assert_eq!(follower.urls(), std::slice::from_ref(&cdp));
    let polled = follower.poll(&issuer, OffsetDateTime::now_utc()).await;
    let done = polled[0].1.as_ref().unwrap().as_ref().unwrap();
    assert!(done.revoked.is_empty());

    // Revocation ceremony, a new CRL, a new export: the DTS serves it at once.
    let serial = checked.serial().to_owned();
    ceremony(
        dir,
        "revoke.toml",
        &format!("ceremony = \"revoke\"\n{head}\n[revoke]\nserials = [\"{serial}\"]\nreason = \"keyCompromise\"\n"),
    )
    .await;
    ceremony(
        dir,
        "crl2.toml",
        &format!("ceremony = \"crl\"\n{head}\n[crl]\nseries_days = 1\n"),
    )
    .await;
    ceremony(
        dir,
        "export2.toml",
        &format!("ceremony = \"export\"\n{head}\n[export]\nout_dir = \"bundle-2\"\n"),
    )
    .await;
    let done = dts
        .ingest(
            Bundle::from_dir(&dir.join("bundle-2"), &limits),
            "cli:bundle-2",
            "op-yamada",
        )
        .await
        .unwrap();
    assert_eq!(done.plan.crls.len(), 1, "{:?}", done.plan.summary());
    let crl2 = fetch_crl(&ds_der, dir, "crl-2").await;
    let (ok, text) = openssl_verify(&iaca_pem, &crl2, &ds_pem);
    assert!(!ok && text.contains("certificate revoked"), "{text}");

    // The issuer's next poll revokes the DS and its document, audited as crl-intake.
    let polled = follower.poll(&issuer, OffsetDateTime::now_utc()).await;
    let done = polled[0].1.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(done.revoked, [(serial.clone(), 1)]);
    let ds = issuer.store().ds_certificate(&serial).await.unwrap();
    assert_eq!(ds.state, DsState::Revoked);

    // With its only DS revoked, the issuer's identifier list is still published, signed by
    // the list signer the root certified, and lists the document's device key.
    let list_uri = format!("{issuer_url}/v1/identifier-list");
    let r = http.get(&list_uri).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let anchors = mso::x509::TrustAnchors::new(vec![Certificate::from_der(&iaca_der).unwrap()]);
    let ids = mso::status::IdentifierListToken::verify(
        &r.bytes().await.unwrap(),
        &list_uri,
        OffsetDateTime::now_utc(),
        &anchors,
        &mso::crypto::SoftwareVerifier,
    )
    .unwrap();
    assert_eq!(ids.signer.der(), ls_der.as_slice());
    assert!(ids.contains(&mso::status::cose_key_thumbprint(
        &mso::crypto::Signer::public_key(&device).unwrap()
    )));
    // An unchanged CRL is a 304 the next time.
    let polled = follower.poll(&issuer, OffsetDateTime::now_utc()).await;
    assert!(polled[0].1.as_ref().unwrap().is_none());
    running.shutdown().await.unwrap();
    let audit = std::fs::read_to_string(dir.join("issuer-audit.log")).unwrap();
    assert!(
        audit.contains("issuer.revoke_ds") && audit.contains("crl-intake"),
        "{audit}"
    );

    // The root is compromised: the emergency CRL lists the root's own certificate, the DTS
    // publishes it at the same URL, and a verifier holding it trusts nothing under the root.
    ceremony(
        dir,
        "compromise.toml",
        &format!("ceremony = \"compromise\"\n{head}\n[compromise]\ncompromised_label = \"iaca-2026\"\nnote = \"HSM tamper alarm\"\n"),
    )
    .await;
    ceremony(
        dir,
        "export3.toml",
        &format!("ceremony = \"export\"\n{head}\n[export]\nout_dir = \"bundle-3\"\n"),
    )
    .await;
    dts.ingest(
        Bundle::from_dir(&dir.join("bundle-3"), &limits),
        "cli:bundle-3",
        "op-yamada",
    )
    .await
    .unwrap();
    let crl3 = reqwest::get(&cdp).await.unwrap().bytes().await.unwrap();
    let crl3 = mso::crl::Crl::from_der(&crl3).unwrap();
    let iaca = Certificate::from_der(&iaca_der).unwrap();
    assert!(
        crl3.is_revoked(iaca.serial_number()),
        "the root lists itself"
    );
    assert!(crl3.is_revoked(Certificate::from_der(&ls_der).unwrap().serial_number()));
    let crl3 = crl3
        .verify(
            &iaca,
            &mso::crl::CrlVerifyOptions::new(OffsetDateTime::now_utc()),
            &mso::crypto::SoftwareVerifier,
        )
        .unwrap();
    // The check a verifier runs before anything else under this root (IacaRevoked).
    assert!(crl3.is_certificate_revoked(&iaca).unwrap());
    let _ = stop_tx.send(());
}
