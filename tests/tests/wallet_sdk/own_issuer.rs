//! The wallet SDK's OpenID4VCI client against the real issuer on loopback: the portal makes
//! an offer with a transaction code and the SDK redeems it (pre-authorized code, DPoP with
//! the issuer's nonces, batch key proofs, notification); then the authorization-code flow
//! (PAR, PKCE, DPoP) with the test playing the browser (the 302 to the portal) and the
//! portal (the hand-off call back). Every credential must verify against the dev IACA and be
//! bound to the key the SDK made for it in the key store. With key attestation required, an
//! attesting key store's attestations travel in every proof, and a store without them is
//! refused before any credential request. HTTP goes through a blocking
//! reqwest client that follows no redirects (as the SDK's `HttpClient` contract says).

use std::sync::{Arc, LazyLock, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mdoc_issuer::config::KeyAttestationPolicy;
use mdoc_issuer::jose::attestation::KEY_ATTESTATION_TYP;
use mdoc_issuer::jose::jwk::to_jwk;
use mdoc_issuer::jose::sign::{sign_jwt, x5c};
use mso::crypto::{Curve, PublicKey};
use test_kit::pki::TestPki;

use devstack::sample::{mdl_claims, MDL};
use devstack::{DevStack, StackOptions};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::store::Scope;
use mso::cbor::{from_slice, Limits};
use mso::crypto::SoftwareVerifier;
use mso::model::IssuerSigned;
use mso::verify::{verify_issuer_signed, IssuerTrust, VerifyOptions};
use mso::x509::Certificate;
use time::OffsetDateTime;
use wallet_sdk::{
    default_oid4vci_options, Issuance, IssuedCredentials, KeyStore, Oid4vciClient, RefusalReason,
    SoftwareKeyStore, TxCodeInputMode, WalletError,
};

use crate::app::wallet_trusting;
use crate::http::{header, Reqwest};

const LOGIN: &str = "https://portal.example/login";
const CLIENT: &str = "wallet-app";
const REDIRECT: &str = "https://wallet.example/cb";

fn haip(c: &mut ServiceConfig) {
    c.rate_limit.unauthenticated_audit_burst = 10_000;
    c.rate_limit.unauthenticated_burst = 10_000;
    c.oid4vci.require_dpop = true;
    c.oid4vci.dpop_nonce = true;
    c.oid4vci.portal_login_url = Some(LOGIN.into());
}

/// The issuer configured by `tweak` on loopback, a portal's API token, the state directory.
async fn issuer(tweak: fn(&mut ServiceConfig)) -> (DevStack, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = StackOptions::new(dir.path());
    opts.kdf = custody::softstore::KdfParams::new(1024, 1, 1).unwrap();
    opts.tweak = tweak;
    let stack = DevStack::start(opts).await.unwrap();
    let portal = stack.client("portal", &[Scope::Issue]).await.unwrap().0;
    (stack, portal, dir)
}

/// Every credential verifies against the IACA as an mDL and its MSO binds the key store's
/// key of its alias; the aliases are distinct.
fn check_issued(result: &IssuedCredentials, iaca: &Certificate, keys: &dyn KeyStore) {
    assert_eq!(result.doctype, MDL);
    let trust = IssuerTrust::iacas(vec![iaca.clone()]);
    let mut aliases = Vec::new();
    for c in &result.credentials {
        let signed: IssuerSigned = from_slice(&c.issuer_signed, &Limits::DEFAULT).unwrap();
        let report = verify_issuer_signed(
            &signed,
            Some(MDL),
            &VerifyOptions::new(OffsetDateTime::now_utc(), &trust, &SoftwareVerifier),
        );
        assert!(
            report.is_valid(),
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
        let device = signed
            .issuer_auth
            .mso()
            .value()
            .device_key_info
            .public_key()
            .unwrap()
            .to_sec1();
        assert_eq!(device, keys.public_key(c.key_alias.clone()).unwrap());
        aliases.push(c.key_alias.clone());
    }
    aliases.sort();
    aliases.dedup();
    assert_eq!(aliases.len(), result.credentials.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_sdk_obtains_mdls_over_both_flows() {
    let (stack, portal, _dir) = issuer(haip).await;
    let base = stack.base_url.clone();
    let iaca = stack.iaca().unwrap();

    // The portal's offer, with a transaction code.
    let offer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v1/offers"))
        .bearer_auth(&portal)
        .json(&serde_json::json!({
            "doctype": MDL, "claims": mdl_claims(),
            "tx_code": {"length": 6, "description": "sent by SMS"},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = offer["offer_link"].as_str().unwrap().to_owned();
    let tx_code = offer["tx_code"].as_str().unwrap().to_owned();

    let (base2, portal2, iaca2) = (base.clone(), portal.clone(), iaca.clone());
    tokio::task::spawn_blocking(move || {
        pre_authorized(&link, &tx_code, &iaca2);
        authorization_code(&base2, &portal2, &iaca2);
    })
    .await
    .unwrap();
    stack.stop().await.unwrap();
}

/// A wallet provider whose CA the issuer trusts (`oid4vci.wallet_providers`); its DS-shaped
/// certificate signs the key attestations.
struct Provider {
    pki: TestPki,
    pem: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

static PROVIDER: LazyLock<Provider> = LazyLock::new(|| {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("wallet-provider.pem");
    std::fs::write(&pem, TestPki::pem(&pki.iaca_der)).unwrap();
    Provider {
        pki,
        pem,
        _dir: dir,
    }
});

fn attested(c: &mut ServiceConfig) {
    c.rate_limit.unauthenticated_audit_burst = 10_000;
    c.rate_limit.unauthenticated_burst = 10_000;
    c.oid4vci.key_attestation = KeyAttestationPolicy::Required;
    c.oid4vci.wallet_providers = vec![PROVIDER.pem.clone()];
}

/// A platform key store that attests its keys, as a Secure Enclave or StrongBox-backed
/// Android Keystore app would through its wallet provider: an OpenID4VCI key attestation
/// (`key-attestation+jwt`) naming the alias's key and the issuer's `c_nonce`.
struct AttestingKeyStore {
    inner: SoftwareKeyStore,
    attested: Mutex<Vec<String>>,
}

impl KeyStore for AttestingKeyStore {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.inner.create_key(alias)
    }
    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.inner.public_key(alias)
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        self.inner.sign(alias, message)
    }
    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.inner.delete_key(alias)
    }
    fn key_attestation(
        &self,
        alias: String,
        nonce: Option<String>,
    ) -> Result<Option<String>, WalletError> {
        let sec1 = self.inner.public_key(alias.clone())?;
        let key = PublicKey::from_sec1(Curve::P256, &sec1).unwrap();
        let pki = &PROVIDER.pki;
        let mut header = serde_json::Map::new();
        header.insert("x5c".into(), x5c(&[&pki.ds_der]));
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = serde_json::json!({
            "iat": now,
            "exp": now + 86_400,
            "attested_keys": [to_jwk(&key)],
            "key_storage": ["iso_18045_high"],
            "user_authentication": ["iso_18045_high"],
            "nonce": nonce,
        });
        self.attested.lock().unwrap().push(alias);
        Ok(Some(
            sign_jwt(&pki.ds_key, KEY_ATTESTATION_TYP, header, &claims).unwrap(),
        ))
    }
}

/// An issuer requiring key attestations: the SDK reads that from the metadata, asks its
/// key store for one per key and sends it in each proof; a key store that gives none is a
/// typed `Unsupported` before anything is requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_sdk_attests_its_keys_when_the_issuer_requires_it() {
    let (stack, portal, _dir) = issuer(attested).await;
    let iaca = stack.iaca().unwrap();
    let mut links = Vec::new();
    for _ in 0..2 {
        let offer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/offers", stack.base_url))
            .bearer_auth(&portal)
            .json(&serde_json::json!({"doctype": MDL, "claims": mdl_claims()}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        links.push(offer["offer_link"].as_str().unwrap().to_owned());
    }
    tokio::task::spawn_blocking(move || {
        let mut options = default_oid4vci_options();
        options.allow_http_loopback = true;

        // Software keys only: refused before a credential request is sent.
        let http = Reqwest::new();
        let plain = Arc::new(SoftwareKeyStore::new());
        let client = Oid4vciClient::new(http.clone(), plain, options.clone()).unwrap();
        let info = client.resolve_offer(links[0].clone()).unwrap();
        assert!(info.credentials[0].key_attestation_required);
        client.token_pre_authorized(None).unwrap();
        assert!(matches!(
            client.request_credentials(MDL.into(), 1),
            Err(WalletError::Unsupported { .. })
        ));
        assert!(http.requests_to("/oid4vci/credential").is_empty());

        // Attested keys: issued, one credential per attested key.
        let http = Reqwest::new();
        let keys = Arc::new(AttestingKeyStore {
            inner: SoftwareKeyStore::new(),
            attested: Mutex::new(Vec::new()),
        });
        let client = Oid4vciClient::new(http.clone(), keys.clone(), options).unwrap();
        client.resolve_offer(links[1].clone()).unwrap();
        client.token_pre_authorized(None).unwrap();
        let result = match client.request_credentials(MDL.into(), 2).unwrap() {
            Issuance::Issued { result } => result,
            other => panic!("{other:?}"),
        };
        check_issued(&result, &iaca, &*keys);
        let mut bound: Vec<String> = result
            .credentials
            .iter()
            .map(|c| c.key_alias.clone())
            .collect();
        let mut attested = keys.attested.lock().unwrap().clone();
        bound.sort();
        attested.sort();
        assert_eq!(bound, attested, "every bound key was attested");
        // The attestation travelled in each proof's header.
        let request = &http.requests_to("/oid4vci/credential")[0];
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        for proof in body["proofs"]["jwt"].as_array().unwrap() {
            let header = proof.as_str().unwrap().split('.').next().unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            assert!(header["key_attestation"].is_string(), "{header}");
        }
    })
    .await
    .unwrap();
    stack.stop().await.unwrap();
}

fn pre_authorized(link: &str, tx_code: &str, iaca: &Certificate) {
    let http = Reqwest::new();
    let keys = Arc::new(SoftwareKeyStore::new());
    let mut options = default_oid4vci_options();
    // Plain http on loopback (INTEROP.md item 20): the dev issuer is http://127.0.0.1.
    options.allow_http_loopback = true;
    let client = Oid4vciClient::new(http.clone(), keys.clone(), options).unwrap();
    let info = client.resolve_offer(link.to_owned()).unwrap();
    assert_eq!(info.credentials.len(), 1);
    assert_eq!(info.credentials[0].id, MDL);
    assert_eq!(info.credentials[0].doctype, MDL);
    assert!(info.credentials[0]
        .claims
        .iter()
        .any(|c| c.path == ["org.iso.18013.5.1", "family_name"] && c.mandatory));
    let tx = info.pre_authorized.unwrap().tx_code.unwrap();
    assert_eq!(tx.input_mode, TxCodeInputMode::Numeric);
    assert_eq!(tx.length, Some(6));
    assert_eq!(tx.description.as_deref(), Some("sent by SMS"));
    assert!(info.batch_size >= 2);

    // A wrong code is the issuer's invalid_grant; the right one still works.
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    match client.token_pre_authorized(Some(wrong.into())) {
        Err(WalletError::IssuerError { code, status, .. }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_grant"))
        }
        other => panic!("{other:?}"),
    }
    client.token_pre_authorized(Some(tx_code.into())).unwrap();

    let result = match client.request_credentials(MDL.into(), 2).unwrap() {
        Issuance::Issued { result } => result,
        other => panic!("{other:?}"),
    };
    assert_eq!(result.credentials.len(), 2);
    check_issued(&result, iaca, &*keys);
    // The wallet, trusting the issuer's IACA, stores both and tells the issuer.
    let (wallet, _dir) = wallet_trusting(keys.clone(), &[iaca.der()]);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let stored = wallet.receive_issued(client.clone(), result, now).unwrap();
    assert_eq!((stored.doc_type.as_str(), stored.msos.len()), (MDL, 2));
    assert_eq!(wallet.credentials().unwrap().len(), 1);
    let notified = http.requests_to("/oid4vci/notification");
    let body: serde_json::Value = serde_json::from_slice(&notified[0].body).unwrap();
    assert_eq!(body["event"], "credential_accepted");

    // DPoP all along: the issuer's first nonce challenge was answered, the credential and
    // notification requests carried a DPoP-bound token with a proof.
    let tokens = http.requests_to("/oid4vci/token");
    assert!(tokens.iter().all(|r| header(r, "dpop").is_some()));
    assert_eq!(tokens.len(), 3, "nonce retry, wrong code, right code");
    for path in ["/oid4vci/credential", "/oid4vci/notification"] {
        let reqs = http.requests_to(path);
        assert!(!reqs.is_empty(), "{path}");
        for r in reqs {
            assert!(header(&r, "authorization").unwrap().starts_with("DPoP "));
            assert!(header(&r, "dpop").is_some());
        }
    }
    client.close().unwrap();
}

fn authorization_code(base: &str, portal: &str, iaca: &Certificate) {
    let http = Reqwest::new();
    let keys = Arc::new(SoftwareKeyStore::new());
    let mut options = default_oid4vci_options();
    options.allow_http_loopback = true;
    options.client_id = Some(CLIENT.into());
    options.redirect_uri = Some(REDIRECT.into());
    let client = Oid4vciClient::new(http.clone(), keys.clone(), options).unwrap();
    // Wallet-initiated: the wallet knows the issuer.
    let info = client.resolve_issuer(base.to_owned()).unwrap();
    assert!(info.authorization_code);
    assert!(info.credentials.iter().any(|c| c.id == MDL));
    let url = client.authorization_url(MDL.into()).unwrap();
    assert!(
        url.starts_with(&format!("{base}/oid4vci/authorize?")),
        "{url}"
    );
    let par = http.requests_to("/oid4vci/par");
    let par = par.last().unwrap();
    assert!(header(par, "dpop").is_some());
    let form: Vec<(String, String)> = form_urlencoded::parse(&par.body).into_owned().collect();
    let value = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(value("code_challenge_method"), Some("S256"));
    assert_eq!(value("redirect_uri"), Some(REDIRECT));

    // The browser: the authorization endpoint sends it to the portal's login page.
    let browser = reqwest::blocking::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = browser.get(&url).send().unwrap();
    assert_eq!(login.status(), 302);
    let location = login.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(LOGIN), "{location}");
    let session = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "session")
        .unwrap()
        .1
        .into_owned();
    // The portal authenticates the user and hands the record back.
    let handoff: serde_json::Value = browser
        .post(format!("{base}/v1/authorizations/{session}"))
        .bearer_auth(portal)
        .json(&serde_json::json!({"claims": mdl_claims()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let redirect_to = handoff["redirect_to"].as_str().unwrap().to_owned();

    // A redirect with another state is refused, and so is a replay of the real one.
    let forged = redirect_to.replace("state=", "state=x");
    assert!(matches!(
        client.finish_authorization(forged),
        Err(WalletError::Protocol { .. })
    ));
    let url = client.authorization_url(MDL.into()).unwrap();
    let session = {
        let loc = browser.get(&url).send().unwrap().headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
        url::Url::parse(&loc)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "session")
            .unwrap()
            .1
            .into_owned()
    };
    let handoff: serde_json::Value = browser
        .post(format!("{base}/v1/authorizations/{session}"))
        .bearer_auth(portal)
        .json(&serde_json::json!({"claims": mdl_claims()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    client
        .finish_authorization(handoff["redirect_to"].as_str().unwrap().to_owned())
        .unwrap();
    let result = match client.request_credentials(MDL.into(), 1).unwrap() {
        Issuance::Issued { result } => result,
        other => panic!("{other:?}"),
    };
    assert_eq!(result.credentials.len(), 1);
    check_issued(&result, iaca, &*keys);
    // A wallet that does not trust this issuer's IACA refuses the credential, stores
    // nothing, deletes its key, and tells the issuer it failed.
    let (wallet, dir) = wallet_trusting(keys.clone(), &[]);
    let alias = result.credentials[0].key_alias.clone();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match wallet.receive_issued(client.clone(), result, now) {
        Err(WalletError::CredentialRefused { reason, .. }) => {
            assert_eq!(reason, RefusalReason::UntrustedIssuer)
        }
        other => panic!("{other:?}"),
    }
    assert!(wallet.credentials().unwrap().is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(keys.public_key(alias).is_err());
    let notified = http.requests_to("/oid4vci/notification");
    let body: serde_json::Value = serde_json::from_slice(&notified[0].body).unwrap();
    assert_eq!(body["event"], "credential_failure");
    assert!(body["event_description"]
        .as_str()
        .unwrap()
        .contains("UntrustedIssuer"));
    let token = http.requests_to("/oid4vci/token");
    let token = token.last().unwrap();
    let form: Vec<(String, String)> = form_urlencoded::parse(&token.body).into_owned().collect();
    assert!(form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "authorization_code"));
    assert!(form.iter().any(|(k, _)| k == "code_verifier"));
    client.close().unwrap();
}
