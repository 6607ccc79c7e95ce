//! End to end across the system: a DS key generated in the issuer's keystore, its CSR
//! certified by the `mdoc-ca` library (dev root), installed in `mdoc-issuer`; an mDL issued
//! over HTTP on loopback, verified by `mso` and by pymdoccbor (an independent implementation);
//! then revoked, and both published lists show it revoked. The wallet SDK against the same
//! issuer is `tests/tests/wallet_sdk/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::PathBuf;
use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use devstack::sample::{issue_body, mdl_claims, MDL, MDL_NS};
use devstack::{DevStack, StackOptions};
use mdoc_issuer::engine::IssueResponse;
use mdoc_issuer::store::Scope;
use mso::cbor::{from_slice, Limits};
use mso::crypto::{Algorithm, Signer as _, SoftwareKey, SoftwareVerifier};
use mso::model::IssuerSigned;
use mso::status::{cose_key_thumbprint, IdentifierListToken, Status, StatusListToken};
use mso::verify::{verify_issuer_signed, IssuerTrust, VerifyOptions};
use mso::x509::TrustAnchors;
use time::OffsetDateTime;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

struct Issued {
    stack: DevStack,
    token: String,
    http: reqwest::Client,
    response: IssueResponse,
    issuer_signed: IssuerSigned,
    issuer_signed_bytes: Vec<u8>,
    device: SoftwareKey,
}

async fn issue_one(dir: &std::path::Path) -> Issued {
    let stack = DevStack::start(StackOptions::new(dir)).await.unwrap();
    let token = stack
        .client("e2e", &[Scope::Issue, Scope::Revoke])
        .await
        .unwrap()
        .0;
    let http = reqwest::Client::new();
    let nonce: serde_json::Value = http
        .post(format!("{}/v1/nonces", stack.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let body = issue_body(
        MDL,
        &mdl_claims(),
        nonce["nonce"].as_str().unwrap(),
        &stack.base_url,
        std::slice::from_ref(&device),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let resp = http
        .post(format!("{}/v1/documents", stack.base_url))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let response: IssueResponse = resp.json().await.unwrap();
    let issuer_signed_bytes = URL_SAFE_NO_PAD
        .decode(&response.credentials[0].issuer_signed)
        .unwrap();
    let issuer_signed = from_slice(&issuer_signed_bytes, &Limits::DEFAULT).unwrap();
    Issued {
        stack,
        token,
        http,
        response,
        issuer_signed,
        issuer_signed_bytes,
        device,
    }
}

/// The status-list entry and identifier-list membership of `issued`, fetched over HTTP and
/// verified against the IACA.
async fn published_status(i: &Issued) -> (Status, bool) {
    let now = OffsetDateTime::now_utc();
    let anchors = TrustAnchors::new(vec![i.stack.iaca().unwrap()]);
    let status = i
        .issuer_signed
        .issuer_auth
        .mso()
        .value()
        .status
        .clone()
        .unwrap();
    let sl = status.status_list.unwrap();
    let il = status.identifier_list.unwrap();
    let bytes = i
        .http
        .get(&sl.uri)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let list = StatusListToken::verify(&bytes, &sl.uri, now, &anchors, &SoftwareVerifier).unwrap();
    let bytes = i
        .http
        .get(&il.uri)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let ids =
        IdentifierListToken::verify(&bytes, &il.uri, now, &anchors, &SoftwareVerifier).unwrap();
    (list.status(sl.idx).unwrap(), ids.contains(&il.id))
}

async fn revoke(i: &Issued) {
    let resp = i
        .http
        .post(format!(
            "{}/v1/documents/{}/revoke",
            i.stack.base_url, i.response.document_id
        ))
        .bearer_auth(&i.token)
        .json(&serde_json::json!({"reason": "key_compromise"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csr_to_root_to_issuer_to_verifier_then_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let i = issue_one(dir.path()).await;

    // mso verifies it against the dev IACA at the current time.
    let trust = IssuerTrust::iacas(vec![i.stack.iaca().unwrap()]);
    let report = verify_issuer_signed(
        &i.issuer_signed,
        Some(MDL),
        &VerifyOptions::new(OffsetDateTime::now_utc(), &trust, &SoftwareVerifier),
    );
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    // The MSO binds the wallet's key and points into both lists.
    let mso = i.issuer_signed.issuer_auth.mso().value();
    let thumbprint = cose_key_thumbprint(&i.device.public_key().unwrap());
    assert_eq!(
        mso.status
            .as_ref()
            .unwrap()
            .identifier_list
            .as_ref()
            .unwrap()
            .id,
        thumbprint.to_vec()
    );
    assert_eq!(published_status(&i).await, (Status::Valid, false));

    revoke(&i).await;
    assert_eq!(published_status(&i).await, (Status::Invalid, true));
    i.stack.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
async fn pymdoccbor_verifies_an_mdl_issued_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let i = issue_one(dir.path()).await;
    let input = dir.path().join("issuer_signed.cbor");
    std::fs::write(&input, &i.issuer_signed_bytes).unwrap();
    let iaca = dir.path().join("iaca.der");
    std::fs::write(&iaca, &i.stack.pki.iaca_der).unwrap();
    let python = repo_root().join(".venv/bin/python");
    let out = Command::new(&python)
        .arg(repo_root().join("tests/interop/py_verify.py"))
        .arg(&input)
        .args(["--shape", "issuer-signed", "--strict", "--trust-root"])
        .arg(&iaca)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "py_verify.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(0), "{summary:#}");
    assert_eq!(summary["result"], "VERIFIED");
    let doc = &summary["documents"][0];
    assert_eq!(doc["docType"], MDL);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["disclosed"][MDL_NS]["family_name"], "Jansen");
    assert_eq!(doc["hash_verification"]["total"], 12);
    assert_eq!(doc["hash_verification"]["verified"], 12);

    // A tampered copy is rejected by pymdoccbor too.
    let mut tampered = i.issuer_signed_bytes.clone();
    let at = tampered.windows(6).position(|w| w == b"Jansen").unwrap();
    tampered[at] = b'X';
    std::fs::write(&input, &tampered).unwrap();
    let out = Command::new(&python)
        .arg(repo_root().join("tests/interop/py_verify.py"))
        .arg(&input)
        .args(["--shape", "issuer-signed", "--trust-root"])
        .arg(&iaca)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    i.stack.stop().await.unwrap();
}
