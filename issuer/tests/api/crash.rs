//! Issue 12: `kill -9` under load. The real `mdoc-issuer serve` process is killed with SIGKILL
//! at seeded moments while eight clients issue, batch-issue, refresh and revoke, wallets obtain
//! documents over OpenID4VCI from the clients' offers, and an admin revokes DS certificates,
//! and restarted each time; every unanswered request is retried with the same bytes (and the
//! same `Idempotency-Key`) until it is answered. Then nothing answered may be lost, nothing
//! duplicated, and the audit log must verify and agree with the database; an offer whose
//! token answer was lost (its code is single-use) must hold no document.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use tokio::sync::watch;

use mdoc_issuer::oid4vci::PRE_AUTHORIZED_GRANT as PRE_AUTH;

use super::oid4vci::urlencode;
use super::*;

/// Kills per backend.
const KILLS: u64 = 5;
/// Concurrent API clients.
const CLIENTS: u64 = 8;
/// DS certificates revoked per run (each kill with an odd number races one); one DS is left.
const DS_REVOKES: usize = 2;

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Issue,
    Batch,
    Refresh,
    Revoke,
    RevokeDs,
    /// An OpenID4VCI issuance: the client's offer, then token, nonce and credential as a
    /// wallet sends them.
    Vci,
}

/// One request and the answer it finally got.
#[derive(Debug, Clone)]
struct Exchange {
    kind: Kind,
    /// The document (refresh, revoke) or DS serial (DS revoke) it names.
    target: String,
    idempotency_key: Option<String>,
    /// How often it was sent: more than once means an answer was lost to a kill.
    attempts: u32,
    status: u16,
    replayed: bool,
    body: Value,
}

/// The `mdoc-issuer serve` process over a state directory an [`Env`] made.
struct Server {
    config: PathBuf,
    dir: PathBuf,
    base: String,
    secrets: Vec<(&'static str, String)>,
    child: Option<Child>,
    starts: u32,
}

impl Server {
    fn spawn(&mut self) {
        self.starts += 1;
        let log =
            std::fs::File::create(self.dir.join(format!("serve-{}.log", self.starts))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mdoc-issuer"))
            .args(["serve", "--config", self.config.to_str().unwrap()])
            .envs(self.secrets.iter().map(|(k, v)| (*k, v.as_str())))
            .env("MDOC_ISSUER_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Waits (generously: the machine is shared) until `/readyz` answers 200.
    async fn ready(&mut self, http: &reqwest::Client) {
        let mut respawns = 0;
        for _ in 0..1200 {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                // A parallel test's connection may hold the port for a moment.
                if self.log().contains("cannot listen") && respawns < 20 {
                    respawns += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    self.spawn();
                    continue;
                }
                panic!("mdoc-issuer exited ({status}) at start:\n{}", self.log());
            }
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("mdoc-issuer not ready after 120 s:\n{}", self.log());
    }

    /// SIGKILL: no shutdown, no final checkpoint, whatever was in flight is cut.
    fn kill9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM: the graceful stop, which ends the log on a signed checkpoint.
    fn stop(&mut self) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("serve-{}.log", self.starts)))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What the clients share with the killer.
struct Shared {
    http: reqwest::Client,
    base: String,
    /// Whether the server is up (false from a kill until it is ready again).
    up: watch::Receiver<bool>,
    stop: AtomicBool,
    answered: AtomicU64,
    exchanges: Mutex<Vec<Exchange>>,
    /// The DS that signed the latest issuance.
    signing_ds: Mutex<String>,
    /// Offers (with their client's token) whose token answer a kill cut after the exchange
    /// committed: the retry of a single-use code is `invalid_grant`, so the wallet cannot go
    /// on, nor may anything be issued from them.
    lost_offers: Mutex<Vec<(String, String)>>,
}

impl Shared {
    /// Sends the request `rb` builds until it is answered, waiting for the server between
    /// attempts; returns the answer and the number of attempts.
    async fn until_answered(&self, rb: impl Fn() -> RequestBuilder) -> (Resp, u32) {
        let mut attempts = 0;
        let mut up = self.up.clone();
        loop {
            up.wait_for(|u| *u).await.unwrap();
            attempts += 1;
            let sent = async {
                let r = rb().send().await?;
                let status = r.status();
                let headers = r.headers().clone();
                let body = r.bytes().await?.to_vec();
                Ok::<_, reqwest::Error>(Resp {
                    status,
                    headers,
                    body,
                })
            };
            match sent.await {
                Ok(resp) => return (resp, attempts),
                // A request cut by the kill: the same bytes again once the server is back.
                Err(e) => {
                    assert!(!e.is_timeout(), "a request hung for 60 s: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn post(&self, path: &str, token: &str, key: Option<&str>, body: &[u8]) -> RequestBuilder {
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        rb
    }

    async fn nonce(&self, token: &str) -> String {
        let (r, _) = self
            .until_answered(|| {
                self.http
                    .post(format!("{}/v1/nonces", self.base))
                    .bearer_auth(token)
            })
            .await;
        assert_eq!(r.status, StatusCode::OK, "nonce: {}", r.text());
        r.json()["nonce"].as_str().unwrap().to_owned()
    }

    /// Sends until answered and records the exchange.
    async fn exchange(
        &self,
        kind: Kind,
        target: &str,
        path: &str,
        token: &str,
        key: Option<String>,
        body: Vec<u8>,
    ) -> Exchange {
        let mut attempts = 0;
        let r = loop {
            let (r, sent) = self
                .until_answered(|| self.post(path, token, key.as_deref(), &body))
                .await;
            attempts += sent;
            // The DS that signed it was revoked meanwhile: retry, as Retry-After says.
            if r.status == StatusCode::SERVICE_UNAVAILABLE
                && r.json()["error"]["code"] == "no_signing_key"
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
            break r;
        };
        let x = Exchange {
            kind,
            target: target.to_owned(),
            idempotency_key: key,
            attempts,
            status: r.status.as_u16(),
            replayed: r.header("idempotent-replayed").as_deref() == Some("true"),
            body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        };
        if matches!(kind, Kind::Issue | Kind::Batch) && x.status == 201 {
            *self.signing_ds.lock().unwrap() = x.body["credentials"][0]["ds_serial"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        self.exchanges.lock().unwrap().push(x.clone());
        self.answered.fetch_add(1, Ordering::SeqCst);
        x
    }

    /// Sends `rb` until it is answered with a status other than 503 (a kill's restart or a
    /// DS revocation in flight: retried with the same bytes, as `Retry-After` says).
    async fn until_served(&self, rb: impl Fn() -> RequestBuilder) -> (Resp, u32) {
        let mut attempts = 0;
        loop {
            let (r, sent) = self.until_answered(&rb).await;
            attempts += sent;
            if r.status != StatusCode::SERVICE_UNAVAILABLE {
                return (r, attempts);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// A wallet's OpenID4VCI issuance of an offer `token`'s client makes: the offer, then the
    /// token (pre-authorized code), a `c_nonce` and one credential request, each sent until
    /// answered, the credential request with the same bytes every time. The exchange is
    /// recorded like a `/v1` issuance, its document read from the offer and its MSO's status
    /// entry from the credential itself; `None` if the token answer was lost (see
    /// [`Shared::lost_offers`]).
    async fn vci(&self, token: &str, claims: &Value) -> Option<Exchange> {
        let offer = serde_json::to_vec(&json!({"doctype": MDL, "claims": claims})).unwrap();
        let (r, _) = self
            .until_answered(|| self.post("/v1/offers", token, None, &offer))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "offer: {}", r.text());
        let made = r.json();
        let offer_id = made["offer_id"].as_str().unwrap().to_owned();
        let code = made["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        let form = format!(
            "grant_type={}&pre-authorized_code={code}",
            urlencode(PRE_AUTH)
        );
        let (r, attempts) = self
            .until_served(|| {
                self.http
                    .post(format!("{}/oid4vci/token", self.base))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form.clone())
            })
            .await;
        if attempts > 1
            && r.status == StatusCode::BAD_REQUEST
            && r.json()["error"] == "invalid_grant"
        {
            self.lost_offers
                .lock()
                .unwrap()
                .push((offer_id, token.to_owned()));
            return None;
        }
        assert_eq!(r.status, StatusCode::OK, "token: {}", r.text());
        let access = r.json()["access_token"].as_str().unwrap().to_owned();
        let (r, _) = self
            .until_served(|| self.http.post(format!("{}/oid4vci/nonce", self.base)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "nonce: {}", r.text());
        let nonce = r.json()["c_nonce"].as_str().unwrap().to_owned();
        let key = device_key();
        let request = json!({
            "credential_configuration_id": MDL,
            "proofs": {"jwt": [proof(&key, &self.base, &nonce, true)]},
        });
        let request = serde_json::to_vec(&request).unwrap();
        let (r, attempts) = self
            .until_served(|| self.post("/oid4vci/credential", &access, None, &request))
            .await;
        let body = r.json();
        let mut x = Exchange {
            kind: Kind::Vci,
            target: offer_id.clone(),
            idempotency_key: Some(format!("oid4vci-offer-{offer_id}")),
            attempts,
            status: r.status.as_u16(),
            replayed: false,
            body: body.clone(),
        };
        if r.status == StatusCode::OK {
            let issued: IssuerSigned = from_slice(
                &b64d(body["credentials"][0]["credential"].as_str().unwrap()),
                &Limits::DEFAULT,
            )
            .unwrap();
            let mso = issued.issuer_auth.mso().value();
            let status = mso
                .status
                .as_ref()
                .and_then(|s| s.status_list.clone())
                .unwrap();
            let (v, _) = self
                .until_answered(|| {
                    self.http
                        .get(format!("{}/v1/offers/{offer_id}", self.base))
                        .bearer_auth(token)
                })
                .await;
            let view = v.json();
            assert_eq!(view["state"], "issued", "{view}");
            x.body = json!({
                "document_id": view["document_id"],
                "credentials": [{"status_list": {"uri": status.uri, "idx": status.idx}}],
            });
        }
        self.exchanges.lock().unwrap().push(x.clone());
        self.answered.fetch_add(1, Ordering::SeqCst);
        Some(x)
    }

    /// One API client: a seeded mix of issuance (one key), batch issuance (two or three),
    /// OpenID4VCI issuance of its offers, refresh and revocation of its own documents, until
    /// told to stop.
    async fn client(&self, n: u64, token: String, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ n);
        let claims = claims_with_portrait(1024);
        let mut mine: Vec<String> = Vec::new();
        let mut count = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            count += 1;
            let key = format!("client{n}-{count}");
            let roll = rng.next_u32() % 100;
            let kind = match roll {
                0..=24 => Kind::Issue,
                25..=44 => Kind::Vci,
                45..=59 => Kind::Batch,
                60..=79 if !mine.is_empty() => Kind::Refresh,
                80..=94 if !mine.is_empty() => Kind::Revoke,
                _ => Kind::Issue,
            };
            match kind {
                Kind::Issue | Kind::Batch => {
                    let n_keys = if kind == Kind::Batch {
                        2 + (rng.next_u32() % 2) as usize
                    } else {
                        1
                    };
                    let keys: Vec<_> = (0..n_keys).map(|_| device_key()).collect();
                    let nonce = self.nonce(&token).await;
                    let body =
                        sample::issue_body(MDL, &claims, &nonce, &self.base, &keys, now()).unwrap();
                    let x = self
                        .exchange(
                            kind,
                            "",
                            "/v1/documents",
                            &token,
                            Some(key),
                            body.to_string().into_bytes(),
                        )
                        .await;
                    if x.status == 201 {
                        mine.push(x.body["document_id"].as_str().unwrap().to_owned());
                    }
                }
                Kind::Refresh => {
                    let doc = mine[(rng.next_u32() as usize) % mine.len()].clone();
                    let nonce = self.nonce(&token).await;
                    let mut body = sample::issue_body(
                        MDL,
                        &claims,
                        &nonce,
                        &self.base,
                        &[device_key()],
                        now(),
                    )
                    .unwrap();
                    body.as_object_mut().unwrap().remove("doctype");
                    self.exchange(
                        kind,
                        &doc,
                        &format!("/v1/documents/{doc}/refresh"),
                        &token,
                        Some(key),
                        body.to_string().into_bytes(),
                    )
                    .await;
                }
                Kind::Revoke => {
                    let doc = mine.swap_remove((rng.next_u32() as usize) % mine.len());
                    self.exchange(
                        kind,
                        &doc,
                        &format!("/v1/documents/{doc}/revoke"),
                        &token,
                        None,
                        br#"{"reason":"holder_request"}"#.to_vec(),
                    )
                    .await;
                }
                Kind::Vci => {
                    if let Some(x) = self.vci(&token, &claims).await {
                        if x.status == 200 {
                            mine.push(x.body["document_id"].as_str().unwrap().to_owned());
                        }
                    }
                }
                Kind::RevokeDs => unreachable!(),
            }
        }
    }
}

/// The numbers of one run, for the report (read through `Debug`).
#[allow(dead_code)]
#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    by_kind: BTreeMap<String, usize>,
    retried: usize,
    retried_replayed: usize,
    vci_retried: usize,
    vci_lost_offers: usize,
    kills: u64,
    rolled_back_at_start: usize,
    /// Issuances and refreshes committed before a kill whose record was written at start-up.
    recovered_at_start: usize,
    documents: i64,
    msos: i64,
    seconds: u64,
}

/// Provisions a stack (dev root, three DS certificates, clients), then runs the kill loop
/// against the `mdoc-issuer` binary on `database_url` (SQLite in the state directory when
/// `None`) and checks the outcome.
async fn kill_nine_under_load(database_url: Option<String>, seed: u64) -> Tally {
    let started = std::time::Instant::now();
    let env = Env::start_on(database_url.clone(), |_| {}).await;
    let mut tokens = Vec::new();
    for n in 0..CLIENTS {
        tokens.push(
            env.client(&format!("portal-{n}"), &[Scope::Issue, Scope::Revoke])
                .await,
        );
    }
    let admin = env.client("admin", &[Scope::Admin]).await;
    // Spares, so issuance goes on after each DS revocation.
    for _ in 0..DS_REVOKES {
        env.stack.add_ds(cheap_kdf()).await.unwrap();
    }
    let anchors = iaca_anchors(&env);
    let stopped = env.stop_keeping_state().await;
    let dir = stopped.dir.clone();

    // The binary's configuration over the same state, on a fixed port: the status-list URIs
    // name it, so every restart must keep it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let db_url = database_url
        .clone()
        .unwrap_or_else(|| dir.join("issuer.sqlite").display().to_string());
    let checkpoint_uri = stopped.checkpoint_key_uri();
    let iaca = devstack::DevPki::cert_path(&dir.join("root"));
    let config = dir.join("issuer.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = {base:?}\n\
             shutdown_grace_secs = 10\n\
             [database]\nurl = {db_url:?}\n\
             [keystore]\nkind = \"dev-file\"\ndir = {:?}\nsecret_env = \"TEST_DS_KEYSTORE_SECRET\"\n\
             [issuance]\nsecret_env = \"TEST_SERVER_SECRET\"\n\
             [trust]\niaca = [{:?}]\n\
             [audit]\npath = {:?}\ncheckpoint_key_uri = {checkpoint_uri:?}\n",
            dir.join("ds-keys").display().to_string(),
            iaca.display().to_string(),
            stopped.audit_path.display().to_string(),
        ),
    )
    .unwrap();
    let secrets = vec![
        (
            "TEST_DS_KEYSTORE_SECRET",
            stopped.secret("DEV-ONLY-ds-keystore.secret"),
        ),
        (
            "TEST_SERVER_SECRET",
            stopped.secret("DEV-ONLY-server.secret"),
        ),
    ];
    let mut server = Server {
        config,
        dir: dir.clone(),
        base: base.clone(),
        secrets,
        child: None,
        starts: 0,
    };
    // Pooled connections to a killed server fail on first use: that request is retried.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    server.spawn();
    server.ready(&http).await;
    let (up_tx, up) = watch::channel(true);
    let shared = Arc::new(Shared {
        http: http.clone(),
        base: base.clone(),
        up,
        stop: AtomicBool::new(false),
        answered: AtomicU64::new(0),
        exchanges: Mutex::new(Vec::new()),
        signing_ds: Mutex::new(String::new()),
        lost_offers: Mutex::new(Vec::new()),
    });
    let mut clients = tokio::task::JoinSet::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        clients.spawn(async move { shared.client(n as u64, token, seed).await });
    }

    // The killer: each kill comes a seeded number of answers after the restart, so it falls
    // under load whatever the machine's speed; every other kill races a DS revocation.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ds_revokers = Vec::new();
    let wait_answers = |at_least: u64| {
        let shared = Arc::clone(&shared);
        async move {
            while shared.answered.load(Ordering::SeqCst) < at_least {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    for kill in 0..KILLS {
        let target = shared.answered.load(Ordering::SeqCst) + 15 + u64::from(rng.next_u32() % 45);
        wait_answers(target).await;
        if kill % 2 == 1 && ds_revokers.len() < DS_REVOKES {
            let serial = shared.signing_ds.lock().unwrap().clone();
            let (shared, admin) = (Arc::clone(&shared), admin.clone());
            ds_revokers.push(tokio::spawn(async move {
                let path = format!("/v1/ds/{serial}/revoke");
                shared
                    .exchange(Kind::RevokeDs, &serial, &path, &admin, None, b"{}".to_vec())
                    .await
            }));
            let delay = u64::from(rng.next_u32() % 30);
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        up_tx.send(false).unwrap();
        server.kill9();
        server.spawn();
        server.ready(&http).await;
        up_tx.send(true).unwrap();
    }
    // Load on the last start too, then every client finishes its request.
    let target = shared.answered.load(Ordering::SeqCst) + 40;
    wait_answers(target).await;
    shared.stop.store(true, Ordering::SeqCst);
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    for r in ds_revokers {
        r.await.unwrap();
    }

    // What the published lists say, before the graceful stop.
    let status_lists = {
        let mut lists = BTreeMap::new();
        for n in 1..=4u64 {
            let uri = format!("{base}/v1/status-lists/{n}");
            let r = http.get(&uri).send().await.unwrap();
            if r.status() == StatusCode::OK {
                let body = r.bytes().await.unwrap();
                let list = StatusListToken::verify(&body, &uri, now(), &anchors, &SoftwareVerifier)
                    .unwrap();
                lists.insert(uri, list);
            }
        }
        lists
    };
    let identifiers = {
        let uri = format!("{base}/v1/identifier-list");
        let body = http.get(&uri).send().await.unwrap().bytes().await.unwrap();
        IdentifierListToken::verify(&body, &uri, now(), &anchors, &SoftwareVerifier).unwrap()
    };
    // An offer whose token answer was lost stays redeemed, with no document.
    let lost_offers = shared.lost_offers.lock().unwrap().clone();
    let mut lost_views = Vec::new();
    for (id, owner) in &lost_offers {
        let r = http
            .get(format!("{base}/v1/offers/{id}"))
            .bearer_auth(owner)
            .send()
            .await
            .unwrap();
        lost_views.push(r.json::<Value>().await.unwrap());
    }
    server.stop();

    let exchanges = shared.exchanges.lock().unwrap().clone();
    let store = mdoc_issuer::store::Store::open(&db_url).await.unwrap();
    let mut fails = Vec::new();
    let mut tally = Tally {
        requests: exchanges.len(),
        vci_lost_offers: lost_offers.len(),
        kills: KILLS,
        ..Tally::default()
    };
    for x in &exchanges {
        *tally.by_kind.entry(format!("{:?}", x.kind)).or_default() += 1;
        if x.attempts > 1 {
            tally.retried += 1;
            tally.vci_retried += usize::from(x.kind == Kind::Vci);
            tally.retried_replayed += usize::from(x.replayed);
        }
    }

    // Every answer is one the request may get: a success, or a typed refusal for a document
    // a DS revocation took away.
    for x in &exchanges {
        let code = x.body["error"]["code"].as_str().unwrap_or_default();
        let fine = match x.kind {
            Kind::Issue | Kind::Batch => x.status == 201,
            Kind::Vci => x.status == 200,
            Kind::Refresh => x.status == 200 || code == "document_revoked",
            Kind::Revoke | Kind::RevokeDs => x.status == 200,
        };
        if !fine {
            fails.push(format!("unexpected answer {x:?}"));
        }
    }

    for view in &lost_views {
        if view["state"] != "redeemed" || view.get("document_id").is_some() {
            fails.push(format!("an offer whose token answer was lost: {view}"));
        }
    }

    // Nothing lost, nothing duplicated: each answered issuance is one document holding exactly
    // its answer's MSOs; each refresh answered added exactly its MSOs; the database holds
    // nothing else.
    let mut documents = BTreeSet::new();
    let mut msos_answered = 0i64;
    let mut by_key: BTreeMap<&str, &str> = BTreeMap::new();
    for x in exchanges.iter().filter(|x| matches!(x.status, 200 | 201)) {
        let Some(creds) = x.body["credentials"].as_array() else {
            continue;
        };
        msos_answered += creds.len() as i64;
        let doc = x.body["document_id"].as_str().unwrap();
        let key = x.idempotency_key.as_deref().unwrap();
        if let Some(other) = by_key.insert(key, doc) {
            fails.push(format!("idempotency key {key} answered {other} and {doc}"));
        }
        if x.kind != Kind::Refresh && !documents.insert(doc.to_owned()) {
            fails.push(format!("document {doc} answered twice"));
        }
        let id = DocumentId::from_hex(doc).unwrap();
        let held: BTreeSet<(String, u64)> = store
            .msos_of(id)
            .await
            .map(|m| {
                m.into_iter()
                    .map(|m| (m.record.status_list_uri, m.record.status_index))
                    .collect()
            })
            .unwrap_or_default();
        for c in creds {
            let entry = (
                c["status_list"]["uri"].as_str().unwrap().to_owned(),
                c["status_list"]["idx"].as_u64().unwrap(),
            );
            if !held.contains(&entry) {
                fails.push(format!(
                    "{:?} {doc} answered {} (retried {}x), MSO {entry:?} not in the database",
                    x.kind, x.status, x.attempts
                ));
            }
        }
    }
    let db = Db::open(database_url.as_deref(), &dir).await;
    tally.documents = db.count("documents").await;
    tally.msos = db.count("msos").await;
    if tally.documents != documents.len() as i64 || tally.msos != msos_answered {
        fails.push(format!(
            "the database holds {} documents and {} MSOs; the answers name {} and {}",
            tally.documents,
            tally.msos,
            documents.len(),
            msos_answered
        ));
    }

    // Revocations answered are in the database and on the published lists.
    let now = now();
    let revoked_ds: Vec<&str> = exchanges
        .iter()
        .filter(|x| x.kind == Kind::RevokeDs && x.status == 200)
        .map(|x| x.target.as_str())
        .collect();
    for serial in &revoked_ds {
        let unrevoked = db
            .count_where(
                "msos",
                &format!("ds_serial = '{serial}' AND revoked_at IS NULL"),
            )
            .await;
        if unrevoked != 0 {
            fails.push(format!(
                "DS {serial} was revoked but {unrevoked} MSOs it signed are not"
            ));
        }
    }
    let revoked_docs: BTreeSet<&str> = exchanges
        .iter()
        .filter(|x| x.kind == Kind::Revoke && x.status == 200)
        .map(|x| x.target.as_str())
        .collect();
    for doc in &documents {
        let id = DocumentId::from_hex(doc).unwrap();
        let (Ok(d), Ok(msos)) = (store.get_document(id).await, store.msos_of(id).await) else {
            continue; // reported above
        };
        let by_ds = msos
            .iter()
            .any(|m| revoked_ds.contains(&m.record.ds_serial.as_str()));
        let should = revoked_docs.contains(doc.as_str()) || by_ds;
        if (d.state == DocumentState::Revoked) != should {
            fails.push(format!(
                "document {doc} is {:?}; revoked by a client: {}, by a DS: {by_ds}",
                d.state,
                revoked_docs.contains(doc.as_str())
            ));
        }
        for m in &msos {
            let listed = status_lists
                .get(&m.record.status_list_uri)
                .map(|l| l.status(m.record.status_index).unwrap() == mso::status::Status::Invalid);
            let identified = identifiers.contains(&m.record.identifier);
            if m.record.valid_until > now && (listed != Some(should) || identified != should) {
                fails.push(format!(
                    "document {doc} (revoked: {should}): status list says {listed:?}, \
                     identifier list {identified}"
                ));
            }
        }
    }

    // The audit log verifies under its checkpoint key...
    let (code, said) = stopped.audit_verify();
    if code != Some(0) {
        fails.push(format!("audit verify: {code:?} {said}"));
    }
    // ... and agrees with the database: each issuance or refresh it records as a success was
    // committed, or has its rollback (by the request, or at start-up naming the record); each
    // answered operation has its record.
    let log = stopped.audit();
    let mut committed_issues: BTreeMap<String, usize> = BTreeMap::new();
    let mut committed_refreshes = 0usize;
    let mut committed_revocations: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_committed = 0usize;
    for (i, r) in log.iter().enumerate() {
        let event = r["event"].as_str().unwrap_or_default();
        let subject_key = if event == "issuer.revoke_ds" {
            "ds_serial"
        } else {
            "document"
        };
        let recorded_change = match event {
            "issuer.issue" | "issuer.refresh" | "issuer.revoke_ds" => true,
            "issuer.revoke" => r["details"]["changed"] == "true",
            _ => false,
        };
        if !recorded_change || r["result"] != "success" {
            continue;
        }
        let subject = r["details"][subject_key].as_str().unwrap();
        let committed = match event {
            "issuer.revoke_ds" => {
                store.ds_certificate(subject).await.unwrap().state
                    == mdoc_issuer::store::DsState::Revoked
            }
            "issuer.revoke" => {
                store
                    .get_document(DocumentId::from_hex(subject).unwrap())
                    .await
                    .unwrap()
                    .state
                    == DocumentState::Revoked
            }
            _ => {
                let list = r["details"]["status_list"].as_str().unwrap();
                let indices: BTreeSet<u64> = r["details"]["status_indices"]
                    .as_str()
                    .unwrap()
                    .split(',')
                    .map(|i| i.parse().unwrap())
                    .collect();
                let held: BTreeSet<u64> =
                    match store.msos_of(DocumentId::from_hex(subject).unwrap()).await {
                        Ok(m) => m
                            .into_iter()
                            .filter(|m| m.record.status_list_uri == list)
                            .map(|m| m.record.status_index)
                            .collect(),
                        Err(_) => BTreeSet::new(),
                    };
                indices.is_subset(&held)
            }
        };
        // Its rollback: written at start-up naming it, or by the request itself before the
        // next record of the same change (each document has one client, which waits for each
        // answer).
        let same = |f: &Value| f["event"] == event && f["details"][subject_key] == subject;
        let rollback = log[i + 1..]
            .iter()
            .find(|f| {
                same(f)
                    && f["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED
                    && f["details"]["record"].as_str().and_then(|s| s.parse().ok())
                        == r["seq"].as_u64()
            })
            .or_else(|| {
                log[i + 1..]
                    .iter()
                    .take_while(|f| !(same(f) && f["result"] == "success"))
                    .find(|f| {
                        same(f)
                            && f["result"] == "failure"
                            && f["details"]["rolled_back"].is_string()
                            && f["details"]["rolled_back"] != mdoc_issuer::engine::NOT_COMMITTED
                    })
            });
        // A revocation is committed by its retry too: the database shows the final state, so a
        // rollback at start-up is right when a later record of the same change stands.
        let retried = |f: &Value| {
            f["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED
                && log[i + 1..].iter().any(|l| {
                    l["seq"].as_u64() > f["seq"].as_u64()
                        && l["event"] == event
                        && l["result"] == "success"
                        && l["details"][subject_key] == subject
                })
        };
        match (committed, rollback) {
            // A revocation another one beat is rolled back though the document is revoked.
            (true, Some(f))
                if f["details"]["rolled_back"] == mdoc_issuer::engine::ALREADY_REVOKED => {}
            (true, Some(f)) if event.starts_with("issuer.revoke") && retried(f) => {
                not_committed += 1
            }
            (true, Some(f)) => fails.push(format!(
                "record {} ({event} {subject}) was committed but record {} rolls it back",
                r["seq"], f["seq"]
            )),
            (false, None) => fails.push(format!(
                "record {} ({event} {subject}) was never committed and has no rollback",
                r["seq"]
            )),
            (true, None) => match event {
                "issuer.issue" => *committed_issues.entry(subject.to_owned()).or_default() += 1,
                "issuer.refresh" => committed_refreshes += 1,
                "issuer.revoke" => {
                    *committed_revocations.entry(subject.to_owned()).or_default() += 1
                }
                _ => {}
            },
            (false, Some(f)) => {
                not_committed +=
                    usize::from(f["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED)
            }
        }
    }
    let said: usize = log
        .iter()
        .filter(|r| r["event"] == "issuer.start")
        .map(|r| {
            r["details"]["rolled_back"]
                .as_str()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let written = log
        .iter()
        .filter(|r| r["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED)
        .count();
    tally.rolled_back_at_start = written;
    // Each change committed without its record got one at the next start, as the start
    // records say (the loop above checked that its MSOs are committed).
    let recovered = log
        .iter()
        .filter(|r| r["details"]["recovered"] == mdoc_issuer::engine::RECOVERED)
        .count();
    let said_recovered: usize = log
        .iter()
        .filter(|r| r["event"] == "issuer.start")
        .filter_map(|r| r["details"]["recovered"].as_str())
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    tally.recovered_at_start = recovered;
    if recovered != said_recovered {
        fails.push(format!(
            "the start records say {said_recovered} recovered, {recovered} records were written"
        ));
    }
    if said != written || written != not_committed {
        fails.push(format!(
            "the start records say {said} rolled back, {written} rollbacks were written at \
             start-up, {not_committed} match an uncommitted record"
        ));
    }
    for doc in &documents {
        if committed_issues.get(doc) != Some(&1) {
            fails.push(format!(
                "document {doc} has {:?} committed issuance records",
                committed_issues.get(doc)
            ));
        }
    }
    if committed_issues.len() != documents.len() {
        fails.push(format!(
            "{} committed issuance records, {} documents",
            committed_issues.len(),
            documents.len()
        ));
    }
    let refreshes = exchanges
        .iter()
        .filter(|x| x.kind == Kind::Refresh && x.status == 200)
        .count();
    if committed_refreshes != refreshes {
        fails.push(format!(
            "{committed_refreshes} committed refresh records, {refreshes} refreshes answered"
        ));
    }
    // Each document a client revoked has one record of the change that stands (none if a DS
    // revocation had revoked it first).
    for doc in &revoked_docs {
        let d = store
            .get_document(DocumentId::from_hex(doc).unwrap())
            .await
            .unwrap();
        let want = usize::from(d.revocation_reason != Some(RevocationReason::DsRevoked));
        let have = committed_revocations.get(*doc).copied().unwrap_or(0);
        if have != want {
            fails.push(format!(
                "document {doc} ({:?}) has {have} standing records of its revocation",
                d.revocation_reason
            ));
        }
    }
    for serial in &revoked_ds {
        if !log
            .iter()
            .any(|r| r["event"] == "issuer.revoke_ds" && r["details"]["ds_serial"] == *serial)
        {
            fails.push(format!("DS {serial} was revoked without an audit record"));
        }
    }
    store.close().await;
    db.close().await;
    tally.seconds = started.elapsed().as_secs();
    eprintln!("kill -9 under load: {tally:?}");
    finish(fails);
    assert!(tally.retried > 0, "no request was cut by a kill: {tally:?}");
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn kill_nine_under_load_loses_and_duplicates_nothing_sqlite() {
    kill_nine_under_load(None, 0x5eed_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn kill_nine_under_load_loses_and_duplicates_nothing_postgres() {
    let pg = PgSchema::create().await;
    let url = pg.url.clone();
    let result =
        tokio::spawn(async move { kill_nine_under_load(Some(url), 0x5eed_0002).await }).await;
    pg.drop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
