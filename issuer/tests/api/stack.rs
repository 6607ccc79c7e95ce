//! The stack under test: a DevStack on loopback with SQLite or PostgreSQL, its clients, and the side-effect probes every refusal test uses.

use super::*;

// ---------------------------------------------------------------------------------------------
// The stack under test
// ---------------------------------------------------------------------------------------------

/// A direct connection to the issuer's database, to count rows (the store has no list API).
pub(crate) enum Db {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Db {
    /// The database at `url` (PostgreSQL), or the SQLite file of the stack in `dir`, read-only.
    pub(crate) async fn open(url: Option<&str>, dir: &Path) -> Db {
        match url {
            Some(url) => Db::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await
                    .unwrap(),
            ),
            None => Db::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(
                        sqlx::sqlite::SqliteConnectOptions::new()
                            .filename(dir.join("issuer.sqlite"))
                            .read_only(true),
                    )
                    .await
                    .unwrap(),
            ),
        }
    }

    pub(crate) async fn count(&self, table: &str) -> i64 {
        self.count_where(table, "TRUE").await
    }

    /// Rows of `table` where `condition` (SQL both backends read alike) holds.
    pub(crate) async fn count_where(&self, table: &str, condition: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
            Db::Pg(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

/// Everything a refused request must leave untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) documents: i64,
    pub(crate) msos: i64,
    pub(crate) device_keys: i64,
    pub(crate) used_nonces: i64,
    pub(crate) idempotency: i64,
    /// Status-list indices handed out so far (over every list).
    pub(crate) indices: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub(crate) counts: Counts,
    pub(crate) audit_len: usize,
}

/// One HTTP response, fully read.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} response is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A fresh PostgreSQL schema on the test server (`ISSUER_TEST_POSTGRES_URL`, else
/// [`DEFAULT_PG`]), dropped by [`PgSchema::drop`]. A missing server fails the test.
pub(crate) struct PgSchema {
    /// The server URL with the schema as its search path.
    pub(crate) url: String,
    name: String,
    admin: sqlx::PgConnection,
}

impl PgSchema {
    pub(crate) async fn create() -> PgSchema {
        use sqlx::Connection;
        let base = std::env::var("ISSUER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.into());
        let mut admin = match sqlx::PgConnection::connect(&base).await {
            Ok(c) => c,
            Err(e) => panic!(
                "the PostgreSQL API test needs a server: cannot connect to {base}: {e}. \
                 Start PostgreSQL or set ISSUER_TEST_POSTGRES_URL."
            ),
        };
        let name = format!("api_{}", hex::encode(rand_bytes()));
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        PgSchema { url, name, admin }
    }

    pub(crate) async fn drop(mut self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&mut self.admin)
            .await
            .unwrap();
    }
}

/// A stopped [`Env`]'s state directory, kept for a restart.
pub(crate) struct Stopped {
    pub(crate) dir: PathBuf,
    pub(crate) audit_path: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Stopped {
    /// Starts the stack again on the same state. The dev DTS must get its recorded address
    /// back, which a parallel test's connection may hold for a moment: a few tries.
    pub(crate) async fn start(&self) -> devstack::Result<DevStack> {
        self.start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
    }

    /// [`start`](Self::start) with the issuer listening on `listen` (its earlier address, so
    /// that the public URL, and what MSOs carry of it, stays the same).
    pub(crate) async fn start_at(
        &self,
        listen: std::net::SocketAddr,
    ) -> devstack::Result<DevStack> {
        let mut tries = 0;
        loop {
            let mut opts = StackOptions::new(&self.dir);
            opts.kdf = cheap_kdf();
            opts.listen = listen;
            match DevStack::start(opts).await {
                Err(e)
                    if (e.to_string().contains("is taken") || e.to_string().contains("in use"))
                        && tries < 20 =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    /// The URI of the key that signs the log's checkpoints (the dev stack makes it).
    pub(crate) fn checkpoint_key_uri(&self) -> String {
        let path = self
            .dir
            .join("ds-keys")
            .join(format!("{}.key", devstack::stack::AUDIT_KEY_LABEL));
        custody::uri::KeyUri::file(path).to_string()
    }

    /// Writes the checkpoint key's public key (SPKI, DER) as `mdoc-issuer audit key` does, for
    /// `mdoc-issuer audit verify --key`; returns its path.
    pub(crate) fn audit_public_key_file(&self) -> PathBuf {
        let spki = mso::x509::spki::encode(&self.audit_public_key()).unwrap();
        let path = self.dir.join("audit-key.spki.der");
        std::fs::write(&path, der::Encode::to_der(&spki).unwrap()).unwrap();
        path
    }

    /// The public key of the dev stack's audit checkpoint key.
    pub(crate) fn audit_public_key(&self) -> PublicKey {
        let keys = mdoc_issuer::ds::DsKeys::open(mdoc_issuer::ds::KeystoreConfig::DevFile {
            dir: self.dir.join("ds-keys"),
            secret: self
                .secret("DEV-ONLY-ds-keystore.secret")
                .into_bytes()
                .into(),
            kdf: cheap_kdf(),
        })
        .unwrap();
        keys.open_key(&self.checkpoint_key_uri().parse().unwrap())
            .unwrap()
            .public_key()
            .unwrap()
    }

    /// A dev secret of the stack (DEV ONLY: kept in files of the state directory).
    pub(crate) fn secret(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }

    /// Runs `mdoc-issuer audit verify` on the log with the checkpoint key; returns the exit
    /// code and everything printed.
    pub(crate) fn audit_verify(&self) -> (Option<i32>, String) {
        let config = self.dir.join("verify.toml");
        std::fs::write(
            &config,
            format!(
                "[audit]\npath = {:?}\n",
                self.audit_path.display().to_string()
            ),
        )
        .unwrap();
        let key = self.audit_public_key_file();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdoc-issuer"))
            .args(["audit", "verify", "--config", config.to_str().unwrap()])
            .args(["--key", key.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    /// The audit log's lines as JSON.
    pub(crate) fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit_path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub(crate) struct Env {
    pub(crate) stack: DevStack,
    pub(crate) http: reqwest::Client,
    pub(crate) db: Db,
    /// A client with the `issue` and `revoke` scopes.
    pub(crate) token: String,
    /// Whether [`Env::refused`] brackets each refusal with two probe issuances, to prove
    /// that the refusal took no status-list index (so nothing was signed): indices are
    /// reserved from the store in blocks, so the store's counter alone cannot show it.
    pub(crate) probes: bool,
    pub(crate) _tmp: tempfile::TempDir,
}

pub(crate) fn cheap_kdf() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

pub(crate) fn device_key() -> SoftwareKey {
    SoftwareKey::generate(Algorithm::Es256)
}

pub(crate) fn public(k: &SoftwareKey) -> PublicKey {
    k.public_key().unwrap()
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The sample mDL with a portrait of `len` bytes.
pub(crate) fn claims_with_portrait(len: usize) -> Value {
    let mut c = sample::mdl_claims();
    c[MDL_NS]["portrait"] = json!(URL_SAFE_NO_PAD.encode(sample::portrait(len)));
    c
}

/// The store a test runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `body` on a fresh stack configured by `tweak`, over `backend` (PostgreSQL: a fresh
/// schema, dropped afterwards), then stops the stack.
pub(crate) async fn run_on(
    backend: Backend,
    tweak: fn(&mut ServiceConfig),
    body: impl AsyncFnOnce(&Env),
) {
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgSchema::create().await),
    };
    let env = Env::start_on(schema.as_ref().map(|s| s.url.clone()), tweak).await;
    body(&env).await;
    env.db.close().await;
    env.stack.stop().await.unwrap();
    if let Some(schema) = schema {
        schema.drop().await;
    }
}

impl Env {
    pub(crate) async fn start(tweak: fn(&mut ServiceConfig)) -> Env {
        Env::start_on(None, tweak).await
    }

    pub(crate) async fn start_on(
        database_url: Option<String>,
        tweak: fn(&mut ServiceConfig),
    ) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stack");
        let mut opts = StackOptions::new(&dir);
        opts.kdf = cheap_kdf();
        opts.tweak = tweak;
        opts.database_url = database_url.clone();
        let stack = DevStack::start(opts).await.unwrap();
        let db = Db::open(database_url.as_deref(), &dir).await;
        let token = stack
            .client("portal", &[Scope::Issue, Scope::Revoke])
            .await
            .unwrap()
            .0;
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Env {
            stack,
            http,
            db,
            token,
            probes: false,
            _tmp: tmp,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    /// The issuer identifier: the `aud` of key proofs.
    pub(crate) fn aud(&self) -> String {
        self.stack.issuer.issuer_id().to_owned()
    }

    pub(crate) async fn client(&self, name: &str, scopes: &[Scope]) -> String {
        self.stack.client(name, scopes).await.unwrap().0
    }

    /// Sends the request; the answer must be as the OpenAPI document says
    /// ([`Contract::conform`]), whatever the test then asserts about it.
    pub(crate) async fn send(&self, rb: RequestBuilder) -> Resp {
        let (client, request) = rb.build_split();
        let request = request.unwrap();
        let (method, path) = (
            request.method().to_string(),
            request.url().path().to_owned(),
        );
        let r = client.execute(request).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap().to_vec();
        let resp = Resp {
            status,
            headers,
            body,
        };
        if let Err(e) = Contract::get().conform(&method, &path, &resp) {
            panic!("answer not as documented in the OpenAPI document: {e}");
        }
        resp
    }

    pub(crate) fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> RequestBuilder {
        self.post_raw(
            path,
            token,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    pub(crate) fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> RequestBuilder {
        let mut rb = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    pub(crate) fn get(&self, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut rb = self.http.get(self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// A fresh proof-of-possession nonce.
    pub(crate) async fn nonce(&self) -> String {
        let r = self
            .send(
                self.http
                    .post(self.url("/v1/nonces"))
                    .bearer_auth(&self.token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "nonce: {}", r.text());
        r.json()["nonce"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/documents` body binding one MSO to each of `keys` (proofs carry the jwk).
    pub(crate) fn issue_body(&self, claims: &Value, nonce: &str, keys: &[SoftwareKey]) -> Value {
        sample::issue_body(MDL, claims, nonce, &self.aud(), keys, now()).unwrap()
    }

    /// `POST /v1/documents/{id}/refresh` body.
    pub(crate) fn refresh_body(&self, claims: &Value, nonce: &str, keys: &[SoftwareKey]) -> Value {
        let mut b = self.issue_body(claims, nonce, keys);
        b.as_object_mut().unwrap().remove("doctype");
        b
    }

    /// Issues a document for `keys`; panics unless 201.
    pub(crate) async fn issue(&self, claims: &Value, keys: &[SoftwareKey]) -> IssueResponse {
        let nonce = self.nonce().await;
        let body = self.issue_body(claims, &nonce, keys);
        let r = self
            .send(self.post_json("/v1/documents", Some(&self.token), &body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "issue: {}", r.text());
        serde_json::from_slice(&r.body).unwrap()
    }

    pub(crate) async fn counts(&self) -> Counts {
        let indices = self
            .stack
            .issuer
            .store()
            .status_lists()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        Counts {
            documents: self.db.count("documents").await,
            msos: self.db.count("msos").await,
            device_keys: self.db.count("device_keys").await,
            used_nonces: self.db.count("used_nonces").await,
            idempotency: self.db.count("idempotency").await,
            indices,
        }
    }

    pub(crate) fn audit_path(&self) -> PathBuf {
        self.stack.dir.join("issuer-audit.log")
    }

    /// Stops the service gracefully and keeps its state directory, to start it again.
    pub(crate) async fn stop_keeping_state(self) -> Stopped {
        let audit_path = self.audit_path();
        let dir = self.stack.dir.clone();
        self.db.close().await;
        let Env { stack, _tmp, .. } = self;
        stack.stop().await.unwrap();
        Stopped {
            dir,
            audit_path,
            _tmp,
        }
    }

    pub(crate) fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub(crate) async fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self.counts().await,
            audit_len: self.audit().len(),
        }
    }

    /// The audit log holds none of the applicant's data, no portrait bytes and no token.
    pub(crate) fn assert_no_personal_data_in_audit(&self, extra: &[&str]) {
        let log = std::fs::read_to_string(self.audit_path()).unwrap();
        assert!(!log.is_empty());
        let portrait = URL_SAFE_NO_PAD.encode(sample::portrait(20 * 1024));
        let mut needles: Vec<&str> = PERSONAL.to_vec();
        needles.push(&portrait[..40]);
        needles.push(self.token.as_str());
        needles.push("mdi_");
        needles.extend_from_slice(extra);
        for n in needles {
            assert!(!log.contains(n), "the audit log contains {n:?}");
        }
    }

    /// Sends `rb` and checks it is refused as `exp` says with no side effect and an audit
    /// record; mismatches are appended to `fails`.
    pub(crate) async fn refused(
        &self,
        fails: &mut Vec<String>,
        name: &str,
        exp: Expect,
        rb: RequestBuilder,
    ) -> Resp {
        let probe = if self.probes {
            Some(self.probe().await)
        } else {
            None
        };
        let before = self.snapshot().await;
        let resp = self.send(rb).await;
        self.check_refusal(fails, name, &before, &resp, &exp).await;
        if let Some((list, idx)) = probe {
            let next = self.probe().await;
            if next != (list.clone(), idx + 1) {
                fails.push(format!(
                    "[{name}] the refusal took status-list indices (so the DS signed MSOs for \
                     it): the issuance before it got {list} #{idx}, the one after it {} #{}",
                    next.0, next.1
                ));
            }
        }
        resp
    }

    /// Issues a one-key document and returns its status list and index.
    pub(crate) async fn probe(&self) -> (String, u64) {
        let d = self
            .issue(&claims_with_portrait(1024), &[device_key()])
            .await;
        let s = &d.credentials[0].status_list;
        (s.uri.clone(), s.idx)
    }

    pub(crate) async fn check_refusal(
        &self,
        fails: &mut Vec<String>,
        name: &str,
        before: &Snapshot,
        resp: &Resp,
        exp: &Expect,
    ) {
        let mut problems = Vec::new();
        if resp.status.is_server_error() && exp.status < 500 {
            problems.push(format!("server error {}", resp.status));
        }
        if resp.status.as_u16() != exp.status {
            problems.push(format!("status {} (expected {})", resp.status, exp.status));
        }
        let ct = resp.header("content-type").unwrap_or_default();
        if !ct.starts_with("application/json") {
            problems.push(format!("content-type {ct:?} (expected application/json)"));
        }
        if resp.header("cache-control").as_deref() != Some("no-store") {
            problems.push("missing Cache-Control: no-store".into());
        }
        if matches!(exp.status, 429 | 503) {
            match resp.header("retry-after").map(|v| v.parse::<u64>()) {
                Some(Ok(s)) if s >= 1 => {}
                other => problems.push(format!("Retry-After {other:?}")),
            }
        }
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let err = body.as_ref().map(|b| &b["error"]);
        let code = err.and_then(|e| e["code"].as_str()).unwrap_or("<none>");
        if code != exp.code {
            problems.push(format!("code {code:?} (expected {:?})", exp.code));
        }
        let message = err.and_then(|e| e["message"].as_str()).unwrap_or_default();
        if message.is_empty() {
            problems.push("no error.message".into());
        }
        let details: Vec<(String, String)> = err
            .and_then(|e| e["details"].as_array())
            .map(|d| {
                d.iter()
                    .map(|x| {
                        (
                            x["path"].as_str().unwrap_or("<no path>").to_owned(),
                            x["code"].as_str().unwrap_or("<no code>").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hit = |d: &(String, String)| {
            exp.path.matches(&d.0) && exp.detail_code.is_none_or(|c| d.1 == c)
        };
        match exp.path {
            PathExp::None => {
                if !details.is_empty() {
                    problems.push(format!("unexpected details {details:?}"));
                }
            }
            _ => {
                if !details.iter().any(hit) {
                    problems.push(format!(
                        "details {details:?} name no field {:?}{}",
                        exp.path,
                        exp.detail_code
                            .map(|c| format!(" with code {c:?}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        let after = self.snapshot().await;
        let mut want = before.counts;
        if exp.indices_may_advance {
            want.indices = after.counts.indices;
        }
        if after.counts != want {
            problems.push(format!(
                "side effects: before {:?}, after {:?}",
                before.counts, after.counts
            ));
        }
        if exp.audited {
            let audit = self.audit();
            let new = audit.get(before.audit_len..).unwrap_or_default();
            let record = new.iter().find(|r| {
                r["event"] == "issuer.refusal"
                    && r["result"] == "failure"
                    && r["details"]["code"] == exp.code
            });
            match record {
                None => problems.push(format!(
                    "no issuer.refusal audit record with code {:?} (new records: {})",
                    exp.code,
                    serde_json::to_string(new).unwrap()
                )),
                Some(r) => {
                    // The record names the fields by number and digest only (client-chosen
                    // keys never reach the log): those of the answer's details.
                    let answer = resp.json();
                    let paths: Vec<&str> = answer["error"]["details"]
                        .as_array()
                        .map(|d| {
                            d.iter()
                                .map(|e| e["path"].as_str().unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_default();
                    let digest = {
                        use sha2::{Digest, Sha256};
                        let mut h = Sha256::new();
                        for p in &paths {
                            h.update(p.as_bytes());
                            h.update(b"\n");
                        }
                        hex::encode(h.finalize())
                    };
                    if r["details"]["fields"] != paths.len().to_string().as_str()
                        || r["details"]["fields_sha256"] != digest.as_str()
                    {
                        problems.push(format!(
                            "audit fields {} do not match the answer's {paths:?}",
                            r["details"]
                        ));
                    }
                    if let PathExp::Exact(p) = exp.path {
                        if !p.is_empty() && !paths.contains(&p) {
                            problems
                                .push(format!("the answer's fields {paths:?} do not name {p:?}"));
                        }
                    }
                    if r["details"]["status"] != resp.status.as_str() {
                        problems.push(format!("audit status {}", r["details"]["status"]));
                    }
                }
            }
        }
        if !problems.is_empty() {
            fails.push(format!(
                "[{name}] {}\n      body: {}",
                problems.join("; "),
                resp.text().chars().take(600).collect::<String>()
            ));
        }
    }
}

/// What a refused request's `details` must name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PathExp {
    /// No `details` at all.
    None,
    /// A detail with exactly this path.
    Exact(&'static str),
    /// A detail whose path starts with this.
    Prefix(&'static str),
    /// At least one detail, whatever its path (e.g. where a JSON syntax error stopped).
    Any,
}

impl PathExp {
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            PathExp::None => false,
            PathExp::Exact(p) => path == *p,
            PathExp::Prefix(p) => path.starts_with(p),
            PathExp::Any => true,
        }
    }
}

/// The expected refusal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) path: PathExp,
    pub(crate) detail_code: Option<&'static str>,
    pub(crate) audited: bool,
    pub(crate) indices_may_advance: bool,
}

pub(crate) fn expect(status: u16, code: &'static str, path: PathExp) -> Expect {
    Expect {
        status,
        code,
        path,
        detail_code: None,
        audited: true,
        indices_may_advance: false,
    }
}

impl Expect {
    pub(crate) fn detail(mut self, code: &'static str) -> Self {
        self.detail_code = Some(code);
        self
    }

    pub(crate) fn not_audited(mut self) -> Self {
        self.audited = false;
        self
    }
}

pub(crate) fn finish(fails: Vec<String>) {
    assert!(
        fails.is_empty(),
        "{} check(s) failed:\n  {}",
        fails.len(),
        fails.join("\n  ")
    );
}
