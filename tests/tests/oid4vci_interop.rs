//! The issuer's OpenID4VCI 1.0 endpoints against an independent wallet client: the portal creates
//! an offer over `POST /v1/offers`, and `tests/interop/oid4vci-wallet/wallet.mjs` redeems it
//! with `@openid4vc/openid4vci` (the OpenWallet Foundation's oid4vc-ts, which Credo uses): offer
//! by reference, issuer and RFC 8414 metadata, pre-authorized code with the transaction code
//! (DPoP when the AS advertises it), nonce, ES256 `jwt` key proof, credential, notification.
//! The credential it received is then verified by pymdoccbor (a second independent
//! implementation) and by `mso` against the dev IACA, and its MSO must bind the wallet's key.
//! Refusals: a wrong transaction code (`invalid_grant` as the client reports it; the right one
//! still works afterwards) and a second redemption of the same offer, by reference and by value.
//!
//! Plain http on loopback (INTEROP.md item 20): the issuer runs at `http://127.0.0.1:PORT`;
//! oid4vc-ts refuses `http://` URLs unless its global `allowInsecureUrls` is set, which
//! `wallet.mjs` does only for an offer on a loopback address (see the comment there).
//!
//! `#[ignore]`d: they need Node >= 20 with the wallet installed (`bash scripts/node-interop.sh`,
//! exported as `OID4VCI_WALLET` by `scripts/test.sh`) and the pymdoccbor venv
//! (`bash scripts/python-venv.sh`, `MDOC_PYTHON`). `MDOC_KEEP_TMP=1` keeps the wallet's output
//! (its `http.log` records every exchange).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::iana::{Ec2KeyParameter, EllipticCurve, KeyType};
use coset::{KeyType as CoseKeyType, Label};
use devstack::sample::{mdl_claims, MDL, MDL_NS};
use devstack::{DevStack, StackOptions};
use mdoc_issuer::store::Scope;
use mso::cbor::{from_slice, Limits, Value as Cbor};
use mso::crypto::SoftwareVerifier;
use mso::model::IssuerSigned;
use mso::verify::{verify_issuer_signed, IssuerTrust, VerifyOptions};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The credential configuration id of the mDL in the issuer's metadata.
const MDL_CONFIGURATION: &str = "org.iso.18013.5.1.mDL";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

// ------------------------------------------------------------------------------------------
// The independent components.

/// The wallet project (`OID4VCI_WALLET`, else `tests/interop/oid4vci-wallet`), installed.
fn wallet_dir() -> PathBuf {
    let dir = std::env::var_os("OID4VCI_WALLET")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tests/interop/oid4vci-wallet"));
    assert!(
        dir.join("node_modules/@openid4vc/openid4vci").is_dir(),
        "the OpenID4VCI wallet client is not installed in {}: run `bash scripts/node-interop.sh` \
         (npm ci of tests/interop/oid4vci-wallet) or set OID4VCI_WALLET to an installed copy",
        dir.display()
    );
    dir
}

fn python() -> PathBuf {
    let python = std::env::var_os("MDOC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python at {}: run `bash scripts/python-venv.sh` or set MDOC_PYTHON",
        python.display()
    );
    python
}

/// One run of `wallet.mjs`.
struct WalletRun {
    code: Option<i32>,
    stderr: String,
    out: PathBuf,
}

impl WalletRun {
    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.out.join(name))
            .unwrap_or_else(|e| panic!("wallet output {name}: {e}\nstderr:\n{}", self.stderr))
    }

    fn json(&self, name: &str) -> Value {
        serde_json::from_str(&self.file(name)).unwrap()
    }

    /// Panics with the client's error and every HTTP exchange unless the flow succeeded.
    fn assert_ok(&self) {
        assert_eq!(
            self.code,
            Some(0),
            "the wallet client failed:\n{}\nHTTP exchanges:\n{}",
            self.stderr,
            std::fs::read_to_string(self.out.join("http.log")).unwrap_or_default()
        );
    }

    /// The client's error (`error.json`), after asserting that it failed.
    fn error(&self) -> Value {
        assert_eq!(
            self.code,
            Some(1),
            "the wallet client should have failed; stderr:\n{}",
            self.stderr
        );
        self.json("error.json")
    }
}

/// Runs `node wallet.mjs OFFER TX_CODE OUT ARGS...` off the runtime's worker threads (the
/// issuer under test is served by the same runtime).
async fn run_wallet(offer: &str, tx_code: &str, out: &Path, args: &[&str]) -> WalletRun {
    let dir = wallet_dir();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .arg(dir.join("wallet.mjs"))
        .args([offer, tx_code])
        .arg(out)
        .args(args);
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run node (Node >= 20 is needed): {e}"));
    WalletRun {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out: out.to_path_buf(),
    }
}

/// `py_verify.py FILE --shape issuer-signed --strict --trust-root IACA`: exit code and summary.
async fn pymdoccbor_verify(issuer_signed: &Path, iaca: &Path) -> (Option<i32>, Value) {
    let mut cmd = Command::new(python());
    cmd.arg(repo_root().join("tests/interop/py_verify.py"))
        .arg(issuer_signed)
        .args(["--shape", "issuer-signed", "--strict", "--trust-root"])
        .arg(iaca);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "py_verify.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), summary)
}

/// A temporary directory, kept (also after a failure) when MDOC_KEEP_TMP is set.
fn workdir() -> tempfile::TempDir {
    let keep = std::env::var_os("MDOC_KEEP_TMP").is_some();
    let dir = tempfile::Builder::new()
        .prefix("mdoc-oid4vci-")
        .disable_cleanup(keep)
        .tempdir()
        .unwrap();
    if keep {
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

// ------------------------------------------------------------------------------------------
// The portal side.

struct Portal {
    stack: DevStack,
    token: String,
    http: reqwest::Client,
}

impl Portal {
    async fn start(dir: &Path) -> Portal {
        let stack = DevStack::start(StackOptions::new(dir.join("stack")))
            .await
            .unwrap();
        let token = stack.client("portal", &[Scope::Issue]).await.unwrap().0;
        Portal {
            stack,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// `POST /v1/offers` for the sample mDL with a 6-digit numeric transaction code; checks the
    /// answer's shape and returns it.
    async fn offer(&self) -> Value {
        let resp = self
            .http
            .post(format!("{}/v1/offers", self.stack.base_url))
            .bearer_auth(&self.token)
            .json(&json!({
                "doctype": MDL,
                "claims": mdl_claims(),
                "tx_code": {"length": 6, "input_mode": "numeric"},
            }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body:#}");

        let issuer = &self.stack.base_url;
        let offer = &body["credential_offer"];
        assert_eq!(offer["credential_issuer"], json!(issuer), "{body:#}");
        assert_eq!(
            offer["credential_configuration_ids"],
            json!([MDL_CONFIGURATION])
        );
        let grant = &offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"];
        assert!(grant["pre-authorized_code"].is_string(), "{body:#}");
        assert_eq!(grant["tx_code"]["length"], 6, "{body:#}");
        assert_eq!(grant["tx_code"]["input_mode"], "numeric", "{body:#}");
        let pin = body["tx_code"].as_str().expect("tx_code for the portal");
        assert!(
            pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
            "{pin:?}"
        );
        assert!(
            !offer.to_string().contains(pin),
            "the offer must not carry the transaction code: {offer}"
        );
        let uri = body["credential_offer_uri"].as_str().unwrap();
        assert!(
            uri.starts_with(&format!("{issuer}/oid4vci/offers/")),
            "{uri}"
        );
        let link = body["offer_link"].as_str().unwrap();
        assert!(
            link.starts_with("openid-credential-offer://?credential_offer_uri="),
            "{link}"
        );
        body
    }
}

/// The x and y coordinates of a P-256 COSE_Key (kty EC2, crv P-256), from its parameters.
fn cose_p256_xy(key: &coset::CoseKey) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(key.kty, CoseKeyType::Assigned(KeyType::EC2));
    let param = |label: Ec2KeyParameter| {
        key.params
            .iter()
            .find(|(l, _)| *l == Label::Int(label as i64))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        param(Ec2KeyParameter::Crv),
        Some(Cbor::from(EllipticCurve::P_256 as i64))
    );
    let bytes = |label| match param(label) {
        Some(Cbor::Bytes(b)) => b,
        other => panic!("{label:?}: {other:?}"),
    };
    (bytes(Ec2KeyParameter::X), bytes(Ec2KeyParameter::Y))
}

fn jwk_p256_xy(jwk: &Value) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    let coord = |c: &str| URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
    (coord("x"), coord("y"))
}

/// Decodes one received credential: base64url (no padding) of a CBOR IssuerSigned
/// (INTEROP.md item 10), and checks it with `mso` against the dev IACA.
fn decode_and_verify(stack: &DevStack, credential: &str) -> (Vec<u8>, IssuerSigned) {
    let bytes = URL_SAFE_NO_PAD
        .decode(credential.trim_end())
        .unwrap_or_else(|e| panic!("the credential is not unpadded base64url: {e}"));
    let issuer_signed: IssuerSigned = from_slice(&bytes, &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("the credential is not a CBOR IssuerSigned: {e:?}"));
    let trust = IssuerTrust::iacas(vec![stack.iaca().unwrap()]);
    let report = verify_issuer_signed(
        &issuer_signed,
        Some(MDL),
        &VerifyOptions::new(OffsetDateTime::now_utc(), &trust, &SoftwareVerifier),
    );
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    (bytes, issuer_signed)
}

// ------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node with the wallet client (scripts/node-interop.sh) and pymdoccbor (scripts/python-venv.sh)"]
async fn an_independent_wallet_redeems_an_offer_once_and_its_mdl_verifies_independently() {
    let tmp = workdir();
    let portal = Portal::start(tmp.path()).await;
    let offer = portal.offer().await;
    let link = offer["offer_link"].as_str().unwrap();
    let pin = offer["tx_code"].as_str().unwrap();

    let run = run_wallet(link, pin, &tmp.path().join("wallet-1"), &[]).await;
    run.assert_ok();
    let result = run.json("result.json");
    // The client spoke OpenID4VCI 1.0 (INTEROP.md item 15), not a draft.
    assert_eq!(result["metadata_version"], "V1", "{result:#}");
    assert_eq!(result["credentials"], 1, "{result:#}");

    // (a) The credential as received verifies with mso against the dev IACA ...
    let credential = run.file("credential.b64");
    let (bytes, issuer_signed) = decode_and_verify(&portal.stack, &credential);
    // ... and with pymdoccbor, which also reads back what the portal put in.
    let cbor = tmp.path().join("issuer_signed.cbor");
    std::fs::write(&cbor, &bytes).unwrap();
    let iaca = tmp.path().join("iaca.der");
    std::fs::write(&iaca, &portal.stack.pki.iaca_der).unwrap();
    let (code, summary) = pymdoccbor_verify(&cbor, &iaca).await;
    assert_eq!(code, Some(0), "{summary:#}");
    let doc = &summary["documents"][0];
    assert_eq!(doc["docType"], MDL);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["disclosed"][MDL_NS]["family_name"], "Jansen");
    assert_eq!(doc["disclosed"][MDL_NS]["given_name"], "Eva Maria");
    assert_eq!(doc["hash_verification"]["total"], 12, "{doc:#}");
    assert_eq!(doc["hash_verification"]["verified"], 12, "{doc:#}");

    // (b) The MSO binds exactly the key the wallet proved possession of.
    let mso = issuer_signed.issuer_auth.mso().value();
    assert_eq!(mso.doc_type, MDL);
    assert_eq!(
        cose_p256_xy(&mso.device_key_info.device_key),
        jwk_p256_xy(&run.json("device_key.jwk.json"))
    );

    // (d) The same offer cannot be redeemed twice: either the offer is gone, or the token
    // endpoint refuses the used pre-authorized code with invalid_grant.
    let again = run_wallet(link, pin, &tmp.path().join("wallet-2"), &[]).await;
    let err = again.error();
    match err["stage"].as_str() {
        Some("offer") => assert!(
            matches!(err["status"].as_u64(), Some(404 | 410)),
            "a used offer should be gone (404/410): {err:#}"
        ),
        Some("token") => assert_eq!(err["error"], "invalid_grant", "{err:#}"),
        _ => panic!("a second redemption must fail at the offer or the token: {err:#}"),
    }
    assert!(!again.out.join("credential.b64").exists());
    // The same offer passed by value (as a wallet that kept it would) skips the reference, so
    // the used pre-authorized code reaches the token endpoint, which must refuse it.
    let by_value = reqwest::Url::parse_with_params(
        "openid-credential-offer://",
        &[("credential_offer", offer["credential_offer"].to_string())],
    )
    .unwrap();
    let again = run_wallet(by_value.as_str(), pin, &tmp.path().join("wallet-3"), &[]).await;
    let err = again.error();
    assert_eq!(err["stage"], "token", "{err:#}");
    assert_eq!(err["error"], "invalid_grant", "{err:#}");
    assert!(!again.out.join("credential.b64").exists());

    portal.stack.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node with the wallet client (scripts/node-interop.sh)"]
async fn a_wrong_transaction_code_is_invalid_grant_for_the_wallet_and_the_right_one_still_works() {
    let tmp = workdir();
    let portal = Portal::start(tmp.path()).await;
    let offer = portal.offer().await;
    let pin = offer["tx_code"].as_str().unwrap();
    // Another 6-digit code: each digit shifted by one.
    let wrong: String = pin
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect();

    let run = run_wallet(
        offer["credential_offer_uri"].as_str().unwrap(),
        &wrong,
        &tmp.path().join("wallet"),
        &[],
    )
    .await;
    let err = run.error();
    assert_eq!(err["stage"], "token", "{err:#}");
    assert_eq!(err["error"], "invalid_grant", "{err:#}");
    assert_eq!(err["status"], 400, "{err:#}");
    assert!(!run.out.join("credential.b64").exists());

    // One mistyped code does not burn the offer: the right one still redeems it.
    let run = run_wallet(
        offer["credential_offer_uri"].as_str().unwrap(),
        pin,
        &tmp.path().join("wallet-retry"),
        &[],
    )
    .await;
    run.assert_ok();
    decode_and_verify(&portal.stack, &run.file("credential.b64"));

    portal.stack.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node with the wallet client (scripts/node-interop.sh)"]
async fn a_batch_request_binds_one_mdl_to_each_wallet_key_with_a_bearer_token() {
    let tmp = workdir();
    let portal = Portal::start(tmp.path()).await;
    let metadata: Value = portal
        .http
        .get(format!(
            "{}/.well-known/openid-credential-issuer",
            portal.stack.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let batch_size = metadata["batch_credential_issuance"]["batch_size"]
        .as_u64()
        .unwrap_or(1);
    assert!(
        batch_size >= 2,
        "the issuer advertises no batch issuance: {metadata:#}"
    );
    let offer = portal.offer().await;

    // Two fresh keys, two proofs in one credential request; a plain Bearer access token even if
    // the AS offers DPoP (the contract accepts both).
    let run = run_wallet(
        offer["offer_link"].as_str().unwrap(),
        offer["tx_code"].as_str().unwrap(),
        &tmp.path().join("wallet"),
        &["--batch", "2", "--no-dpop"],
    )
    .await;
    run.assert_ok();
    assert_eq!(run.json("result.json")["token_type"], "Bearer");
    let credentials = run.json("credentials.json");
    let credentials = credentials.as_array().unwrap();
    assert_eq!(credentials.len(), 2);
    // OpenID4VCI 1.0 does not tie the order of `credentials` to the proofs: compare as sets.
    let mut bound: Vec<_> = credentials
        .iter()
        .map(|c| {
            let (_, signed) = decode_and_verify(&portal.stack, c.as_str().unwrap());
            cose_p256_xy(&signed.issuer_auth.mso().value().device_key_info.device_key)
        })
        .collect();
    let mut keys: Vec<_> = run
        .json("device_keys.json")
        .as_array()
        .unwrap()
        .iter()
        .map(jwk_p256_xy)
        .collect();
    bound.sort();
    keys.sort();
    assert_eq!(bound, keys);
    assert_ne!(keys[0], keys[1]);

    portal.stack.stop().await.unwrap();
}
