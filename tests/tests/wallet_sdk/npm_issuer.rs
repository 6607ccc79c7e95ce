//! The wallet SDK against an independent OpenID4VCI 1.0 issuer: `tests/interop/oid4vci-issuer/
//! issuer.mjs`, whose protocol messages are made and checked by the OpenWallet Foundation's
//! oid4vc-ts — `@openid4vc/openid4vci` **0.4.6** (`Openid4vciIssuer`: credential issuer
//! metadata, credential offer, credential request, jwt key proofs, nonce and credential
//! responses) and `@openid4vc/oauth2` **0.4.6** (`Oauth2AuthorizationServer`: RFC 8414
//! metadata, the pre-authorized code token request with `tx_code` and DPoP, the access token;
//! `Oauth2ResourceServer`: access token and DPoP proof at the credential and notification
//! endpoints), with `@openid4vc/utils` 0.4.6 — and whose IssuerSigned is built and signed by
//! `@animo-id/mdoc` **0.5.2** (MSO, salts, digests, COSE_Sign1 with the x5chain), all pinned
//! by its `package-lock.json`. The script is only glue (node:http, webcrypto callbacks, the
//! offer's and nonces' state).
//!
//! The test makes an IACA and a DS with `mdoc-test-kit`, hands the DS certificate and key and
//! the mDL's element values to the issuer, and drives the SDK: the offer by reference (with a
//! transaction code) or by value, the issuer's and the authorization server's metadata, the
//! token (a wrong transaction code first: the library's `invalid_grant`), a `c_nonce`, two key
//! proofs from the wallet's key store in one batch request, the credentials; then
//! `Wallet::receive_issued` with a trust store holding the test IACA stores them — each MSO
//! bound to its key, the element values those the issuer was given — and tells the issuer
//! `credential_accepted`. With another IACA in the trust store the same issuance is refused
//! (`UntrustedIssuer`): nothing stored, the keys deleted, `credential_failure` sent.
//!
//! `#[ignore]`d: needs Node >= 20 with the issuer installed (`bash scripts/node-interop.sh
//! oid4vci-issuer`, exported as `OID4VCI_ISSUER` by `scripts/test.sh`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::cbor::{from_slice, Limits, Value as Cbor};
use mso::model::IssuerSigned;
use serde_json::{json, Value};
use test_kit::pki::TestPki;
use time::OffsetDateTime;
use wallet_sdk::{
    default_oid4vci_options, Issuance, IssuedCredentials, KeyStore, Oid4vciClient, RefusalReason,
    SoftwareKeyStore, TxCodeInputMode, WalletError,
};

use crate::app::wallet_trusting;
use crate::http::{header, Reqwest};

const MDL: &str = "org.iso.18013.5.1.mDL";
const MDL_NS: &str = "org.iso.18013.5.1";

/// The issuer project (`OID4VCI_ISSUER`, else `tests/interop/oid4vci-issuer`), installed.
fn issuer_dir() -> PathBuf {
    let dir = std::env::var_os("OID4VCI_ISSUER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/oid4vci-issuer")
        });
    assert!(
        dir.join("node_modules/@animo-id/mdoc").is_dir()
            && dir.join("node_modules/@openid4vc/openid4vci").is_dir(),
        "the OpenID4VCI issuer is not installed in {}: run `bash scripts/node-interop.sh \
         oid4vci-issuer` or set OID4VCI_ISSUER to an installed copy",
        dir.display()
    );
    dir
}

/// The mDL the issuer is given, as `issuer.mjs --claims` reads it (`{"full-date": …}` is a
/// CBOR full-date).
fn claims() -> Value {
    json!({ MDL_NS: {
        "family_name": "Jones",
        "given_name": "Ava",
        "birth_date": {"full-date": "2007-03-25"},
        "issue_date": {"full-date": "2026-01-10"},
        "expiry_date": {"full-date": "2031-01-09"},
        "issuing_country": "JP",
        "issuing_authority": "Interop Test Authority",
        "document_number": "NPM-0001",
        "age_over_18": true,
        "driving_privileges": [
            {"vehicle_category_code": "B", "issue_date": {"full-date": "2026-01-10"}}
        ],
    }})
}

/// The CBOR value `claims()` describes for `element`.
fn expected(v: &Value) -> Cbor {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("full-date") => Cbor::Tag(
            1004,
            Box::new(Cbor::Text(m["full-date"].as_str().unwrap().into())),
        ),
        Value::Object(m) => Cbor::Map(
            m.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), expected(v)))
                .collect(),
        ),
        Value::Array(a) => Cbor::Array(a.iter().map(expected).collect()),
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Bool(b) => Cbor::Bool(*b),
        other => panic!("no test claims of this kind: {other}"),
    }
}

/// `issuer.mjs` running, with its first line (the offer) read and later lines (events)
/// collected by a thread.
struct NodeIssuer {
    child: Child,
    start: Value,
    events: Receiver<Value>,
    _dir: tempfile::TempDir,
}

impl NodeIssuer {
    fn start(pki: &TestPki) -> NodeIssuer {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("ds.der");
        let key = dir.path().join("ds.pkcs8.der");
        let claims_file = dir.path().join("claims.json");
        std::fs::write(&cert, &pki.ds_der).unwrap();
        std::fs::write(&key, pki.ds_key.to_pkcs8_der().unwrap().as_slice()).unwrap();
        std::fs::write(&claims_file, claims().to_string()).unwrap();
        let mut child = Command::new("node")
            .arg(issuer_dir().join("issuer.mjs"))
            .arg("--ds-cert")
            .arg(&cert)
            .arg("--ds-key")
            .arg(&key)
            .arg("--claims")
            .arg(&claims_file)
            .arg("--tx-code")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (>= 20) must be on PATH");
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).expect("issuer.mjs prints JSON lines");
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let start = events
            .recv_timeout(Duration::from_secs(60))
            .expect("issuer.mjs printed no offer");
        NodeIssuer {
            child,
            start,
            events,
            _dir: dir,
        }
    }

    fn get(&self, key: &str) -> String {
        self.start[key].as_str().unwrap().to_owned()
    }

    /// The next event with member `kind` (`issued`, `notification`).
    fn next(&self, kind: &str) -> Value {
        loop {
            let e = self
                .events
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {kind} event from issuer.mjs"));
            if let Some(v) = e.get(kind) {
                return v.clone();
            }
        }
    }
}

impl Drop for NodeIssuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(http: &Arc<Reqwest>, keys: &Arc<SoftwareKeyStore>) -> Arc<Oid4vciClient> {
    let mut options = default_oid4vci_options();
    // Plain http on loopback (INTEROP.md item 20): the node issuer is http://127.0.0.1.
    options.allow_http_loopback = true;
    Oid4vciClient::new(http.clone(), keys.clone(), options).unwrap()
}

/// Offer, metadata, token (a wrong transaction code first), nonce and a batch of two: what
/// the SDK obtained, not yet verified.
fn obtain(
    issuer: &NodeIssuer,
    offer: &str,
    http: &Arc<Reqwest>,
    keys: &Arc<SoftwareKeyStore>,
) -> (Arc<Oid4vciClient>, IssuedCredentials) {
    let client = client(http, keys);
    let info = client.resolve_offer(offer.to_owned()).unwrap();
    assert_eq!(info.credential_issuer, issuer.get("credential_issuer"));
    assert_eq!(info.credentials.len(), 1);
    let configuration = &info.credentials[0];
    assert_eq!(
        (configuration.id.as_str(), configuration.doctype.as_str()),
        (MDL, MDL)
    );
    assert!(configuration
        .claims
        .iter()
        .any(|c| c.path == [MDL_NS, "family_name"] && c.mandatory));
    let tx = info.pre_authorized.unwrap().tx_code.unwrap();
    assert_eq!(
        (tx.input_mode, tx.length),
        (TxCodeInputMode::Numeric, Some(6))
    );
    assert_eq!(info.batch_size, 2);

    let tx_code = issuer.get("tx_code");
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    match client.token_pre_authorized(Some(wrong.into())) {
        Err(WalletError::IssuerError { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_grant"))
        }
        other => panic!("{other:?}"),
    }
    client.token_pre_authorized(Some(tx_code)).unwrap();
    let result = match client.request_credentials(MDL.into(), 2).unwrap() {
        Issuance::Issued { result } => result,
        other => panic!("{other:?}"),
    };
    assert_eq!(result.credentials.len(), 2);
    assert_eq!(result.doctype, MDL);

    // The issuer saw exactly the keys the SDK's key store holds for these credentials.
    let issued = issuer.next("issued");
    let mut sent: Vec<Vec<u8>> = issued["device_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| {
            let coord = |c: &str| URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
            [vec![4], coord("x"), coord("y")].concat()
        })
        .collect();
    let mut held: Vec<Vec<u8>> = result
        .credentials
        .iter()
        .map(|c| keys.public_key(c.key_alias.clone()).unwrap())
        .collect();
    sent.sort();
    held.sort();
    assert_eq!(sent, held);

    // DPoP all along (the authorization server lists ES256).
    let tokens = http.requests_to("/token");
    assert_eq!(tokens.len(), 2, "wrong code, right code");
    assert!(tokens.iter().all(|r| header(r, "dpop").is_some()));
    for r in http.requests_to("/credential") {
        assert!(header(&r, "authorization").unwrap().starts_with("DPoP "));
        assert!(header(&r, "dpop").is_some());
    }
    (client, result)
}

/// Every credential's MSO binds the key of its alias, and its elements are exactly the values
/// the issuer was given.
fn check_contents(result: &IssuedCredentials, keys: &SoftwareKeyStore) {
    let claims = claims();
    let want = claims[MDL_NS].as_object().unwrap();
    for c in &result.credentials {
        let signed: IssuerSigned = from_slice(&c.issuer_signed, &Limits::DEFAULT).unwrap();
        let mso = signed.issuer_auth.mso();
        let mso = mso.value();
        assert_eq!(mso.doc_type, MDL);
        let device = mso.device_key_info.public_key().unwrap().to_sec1();
        assert_eq!(device, keys.public_key(c.key_alias.clone()).unwrap());
        let name_spaces = signed.name_spaces.as_ref().unwrap();
        assert_eq!(name_spaces.len(), 1);
        let items = &name_spaces[MDL_NS];
        assert_eq!(items.len(), want.len());
        for item in items {
            let item = item.value();
            let value = want
                .get(&item.element_identifier)
                .unwrap_or_else(|| panic!("unexpected element {}", item.element_identifier));
            assert_eq!(
                item.element_value,
                expected(value),
                "{}",
                item.element_identifier
            );
        }
    }
}

#[test]
#[ignore = "needs Node with the OID4VCI issuer (scripts/node-interop.sh oid4vci-issuer)"]
fn wallet_sdk_receives_an_mdl_from_the_npm_issuer() {
    let now = OffsetDateTime::now_utc();
    let pki = TestPki::with_ds_validity(
        now - time::Duration::days(1),
        now + time::Duration::days(400),
    );
    let issuer = NodeIssuer::start(&pki);
    let http = Reqwest::new();
    let keys = Arc::new(SoftwareKeyStore::new());
    // By reference: the SDK fetches the offer from credential_offer_uri.
    let offer = issuer.get("offer_uri");
    assert!(offer.starts_with("openid-credential-offer://?credential_offer_uri="));
    let (client, result) = obtain(&issuer, &offer, &http, &keys);
    let reference = url::Url::parse(&offer)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "credential_offer_uri")
        .unwrap()
        .1
        .into_owned();
    let reference = url::Url::parse(&reference).unwrap();
    assert_eq!(http.requests_to(reference.path()).len(), 1);
    check_contents(&result, &keys);

    let (wallet, _dir) = wallet_trusting(keys.clone(), &[&pki.iaca_der]);
    let aliases: Vec<String> = result
        .credentials
        .iter()
        .map(|c| c.key_alias.clone())
        .collect();
    let stored = wallet
        .receive_issued(client.clone(), result, now.unix_timestamp())
        .unwrap();
    assert_eq!(stored.doc_type, MDL);
    assert_eq!(stored.issuer, issuer.get("credential_issuer"));
    assert_eq!(stored.msos.len(), 2);
    let mut bound: Vec<String> = stored.msos.iter().map(|m| m.key_alias.clone()).collect();
    bound.sort();
    let mut want = aliases.clone();
    want.sort();
    assert_eq!(bound, want);
    let all = wallet.credentials().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, stored.id);
    for alias in aliases {
        assert!(keys.public_key(alias).is_ok());
    }
    let notification = issuer.next("notification");
    assert_eq!(notification["event"], "credential_accepted");
    client.close().unwrap();
}

#[test]
#[ignore = "needs Node with the OID4VCI issuer (scripts/node-interop.sh oid4vci-issuer)"]
fn wallet_sdk_refuses_the_npm_issuer_under_an_untrusted_iaca() {
    let now = OffsetDateTime::now_utc();
    let pki = TestPki::with_ds_validity(
        now - time::Duration::days(1),
        now + time::Duration::days(400),
    );
    let other = TestPki::new();
    let issuer = NodeIssuer::start(&pki);
    let http = Reqwest::new();
    let keys = Arc::new(SoftwareKeyStore::new());
    // By value this time: the offer is inside the link.
    let offer = issuer.get("offer_link");
    assert!(offer.starts_with("openid-credential-offer://?credential_offer="));
    let (client, result) = obtain(&issuer, &offer, &http, &keys);
    // What the issuer sent is fine in itself; only the trust is missing.
    check_contents(&result, &keys);

    let (wallet, dir) = wallet_trusting(keys.clone(), &[&other.iaca_der]);
    let aliases: Vec<String> = result
        .credentials
        .iter()
        .map(|c| c.key_alias.clone())
        .collect();
    match wallet.receive_issued(client.clone(), result, now.unix_timestamp()) {
        Err(WalletError::CredentialRefused { reason, .. }) => {
            assert_eq!(reason, RefusalReason::UntrustedIssuer)
        }
        other => panic!("{other:?}"),
    }
    assert!(wallet.credentials().unwrap().is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    for alias in aliases {
        assert!(keys.public_key(alias).is_err());
    }
    let notification = issuer.next("notification");
    assert_eq!(notification["event"], "credential_failure");
    assert!(notification["event_description"]
        .as_str()
        .unwrap()
        .contains("UntrustedIssuer"));
    client.close().unwrap();
}
