//! HTTP integration tests of the issuer API (`mdoc-issuer`'s `/v1` routes and operational
//! endpoints), against a full [`DevStack`] on loopback: a dev IACA, a DS certificate it
//! issued, SQLite in a temporary directory (or PostgreSQL in a fresh schema), the audit log.
//!
//! Every refusal is checked for its status, its error code and the field path in `details`,
//! for the absence of any side effect (no document, MSO, device-key binding, consumed nonce,
//! idempotency record or status-list index), and for its `issuer.refusal` audit record. The
//! audit log must never contain personal data.
//!
//! Refusal tables collect every mismatch and fail once at the end with the full list, so one
//! run shows every deviation rather than the first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use custody::softstore::KdfParams;
use devstack::sample::{self, MDL, MDL_NS};
use devstack::{DevStack, StackOptions};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::device_key::to_jwk;
use mdoc_issuer::engine::{Credential, IssueResponse, ServerSecret};
use mdoc_issuer::pop::{make_proof, Nonces};
use mdoc_issuer::store::{DocumentId, DocumentState, RevocationReason, Scope};
use mso::cbor::{encode_value, from_slice, Limits, Value as Cbor};
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::IssuerSigned;
use mso::status::{cose_key_thumbprint, IdentifierListToken, StatusListToken};
use mso::verify::{verify_issuer_signed, CheckKind, IssuerTrust, VerifyOptions};
use mso::x509::TrustAnchors;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// PostgreSQL server for the PostgreSQL half (`ISSUER_TEST_POSTGRES_URL` overrides it).
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Every route of `mdoc_issuer::api::router`, as the OpenAPI document must list them.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/nonces"),
    ("post", "/v1/documents"),
    ("get", "/v1/documents/{id}"),
    ("post", "/v1/documents/{id}/refresh"),
    ("post", "/v1/documents/{id}/revoke"),
    ("post", "/v1/ds/{serial}/revoke"),
    ("get", "/v1/status-lists/{n}"),
    ("get", "/v1/identifier-list"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// Every top-level error code the service can answer with (engine/errors.rs and api/*.rs).
const ERROR_CODES: &[&str] = &[
    "malformed_request",
    "validation_failed",
    "unknown_doctype",
    "invalid_device_key",
    "invalid_proof",
    "invalid_nonce",
    "device_key_in_use",
    "not_found",
    "document_revoked",
    "applicant_mismatch",
    "idempotency_conflict",
    "no_signing_key",
    "audit_unavailable",
    "storage_unavailable",
    "internal_error",
    "unauthorized",
    "insufficient_scope",
    "rate_limited",
    "body_too_large",
    "unsupported_media_type",
    "method_not_allowed",
];

/// Personal data of the sample applicant that must never reach the audit log.
const PERSONAL: &[&str] = &["Jansen", "Eva Maria", "DEV0012345", "1990-02-28"];

// ---------------------------------------------------------------------------------------------
// The stack under test
// ---------------------------------------------------------------------------------------------

/// A direct connection to the issuer's database, to count rows (the store has no list API).
enum Db {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Db {
    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
            Db::Pg(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        }
    }

    async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

/// Everything a refused request must leave untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    documents: i64,
    msos: i64,
    device_keys: i64,
    used_nonces: i64,
    idempotency: i64,
    /// Status-list indices handed out so far (over every list).
    indices: u64,
}

#[derive(Debug, Clone, Copy)]
struct Snapshot {
    counts: Counts,
    audit_len: usize,
}

/// One HTTP response, fully read.
#[derive(Debug, Clone)]
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} response is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

struct Env {
    stack: DevStack,
    http: reqwest::Client,
    db: Db,
    /// A client with the `issue` and `revoke` scopes.
    token: String,
    /// Whether [`Env::refused`] brackets each refusal with two probe issuances, to prove
    /// that the refusal took no status-list index (so nothing was signed): indices are
    /// reserved from the store in blocks, so the store's counter alone cannot show it.
    probes: bool,
    _tmp: tempfile::TempDir,
}

fn cheap_kdf() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

fn device_key() -> SoftwareKey {
    SoftwareKey::generate(Algorithm::Es256)
}

fn public(k: &SoftwareKey) -> PublicKey {
    k.public_key().unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The sample mDL with a portrait of `len` bytes.
fn claims_with_portrait(len: usize) -> Value {
    let mut c = sample::mdl_claims();
    c[MDL_NS]["portrait"] = json!(URL_SAFE_NO_PAD.encode(sample::portrait(len)));
    c
}

impl Env {
    async fn start(tweak: fn(&mut ServiceConfig)) -> Env {
        Env::start_on(None, tweak).await
    }

    async fn start_on(database_url: Option<String>, tweak: fn(&mut ServiceConfig)) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stack");
        let mut opts = StackOptions::new(&dir);
        opts.kdf = cheap_kdf();
        opts.tweak = tweak;
        opts.database_url = database_url.clone();
        let stack = DevStack::start(opts).await.unwrap();
        let db = match database_url {
            Some(url) => Db::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(&url)
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
        };
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    /// The issuer identifier: the `aud` of key proofs.
    fn aud(&self) -> String {
        self.stack.issuer.issuer_id().to_owned()
    }

    async fn client(&self, name: &str, scopes: &[Scope]) -> String {
        self.stack.client(name, scopes).await.unwrap().0
    }

    async fn send(&self, rb: RequestBuilder) -> Resp {
        let r = rb.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> RequestBuilder {
        self.post_raw(
            path,
            token,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    fn post_raw(
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

    fn get(&self, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut rb = self.http.get(self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// A fresh proof-of-possession nonce.
    async fn nonce(&self) -> String {
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
    fn issue_body(&self, claims: &Value, nonce: &str, keys: &[SoftwareKey]) -> Value {
        sample::issue_body(MDL, claims, nonce, &self.aud(), keys, now()).unwrap()
    }

    /// `POST /v1/documents/{id}/refresh` body.
    fn refresh_body(&self, claims: &Value, nonce: &str, keys: &[SoftwareKey]) -> Value {
        let mut b = self.issue_body(claims, nonce, keys);
        b.as_object_mut().unwrap().remove("doctype");
        b
    }

    /// Issues a document for `keys`; panics unless 201.
    async fn issue(&self, claims: &Value, keys: &[SoftwareKey]) -> IssueResponse {
        let nonce = self.nonce().await;
        let body = self.issue_body(claims, &nonce, keys);
        let r = self
            .send(self.post_json("/v1/documents", Some(&self.token), &body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "issue: {}", r.text());
        serde_json::from_slice(&r.body).unwrap()
    }

    async fn counts(&self) -> Counts {
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

    fn audit_path(&self) -> PathBuf {
        self.stack.dir.join("issuer-audit.log")
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self.counts().await,
            audit_len: self.audit().len(),
        }
    }

    /// The audit log holds none of the applicant's data, no portrait bytes and no token.
    fn assert_no_personal_data_in_audit(&self, extra: &[&str]) {
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
    async fn refused(
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
    async fn probe(&self) -> (String, u64) {
        let d = self
            .issue(&claims_with_portrait(1024), &[device_key()])
            .await;
        let s = &d.credentials[0].status_list;
        (s.uri.clone(), s.idx.unwrap())
    }

    async fn check_refusal(
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
                    let fields = r["details"]["fields"].as_str().unwrap_or_default();
                    if let PathExp::Exact(p) = exp.path {
                        if !p.is_empty() && !fields.split(',').any(|f| f == p) {
                            problems.push(format!("audit fields {fields:?} do not name {p:?}"));
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
enum PathExp {
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
    fn matches(&self, path: &str) -> bool {
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
struct Expect {
    status: u16,
    code: &'static str,
    path: PathExp,
    detail_code: Option<&'static str>,
    audited: bool,
    indices_may_advance: bool,
}

fn expect(status: u16, code: &'static str, path: PathExp) -> Expect {
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
    fn detail(mut self, code: &'static str) -> Self {
        self.detail_code = Some(code);
        self
    }

    fn not_audited(mut self) -> Self {
        self.audited = false;
        self
    }
}

fn finish(fails: Vec<String>) {
    assert!(
        fails.is_empty(),
        "{} check(s) failed:\n  {}",
        fails.len(),
        fails.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Wallet-side helpers
// ---------------------------------------------------------------------------------------------

/// A compact JWS over `header` and `claims` signed by `key`.
fn jws(key: &SoftwareKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn proof(key: &SoftwareKey, aud: &str, nonce: &str, with_jwk: bool) -> String {
    make_proof(key, aud, nonce, now(), with_jwk).unwrap()
}

/// base64url of an EC2 P-256 COSE_Key, optionally with extra members.
fn cose_key_b64(key: &PublicKey, extra: &[(i64, Cbor)]) -> String {
    let sec1 = key.to_sec1();
    let (x, y) = sec1[1..].split_at(32);
    cose_key_xy(x, y, extra)
}

fn cose_key_xy(x: &[u8], y: &[u8], extra: &[(i64, Cbor)]) -> String {
    let mut map = vec![
        (Cbor::from(1), Cbor::from(2)),
        (Cbor::from(-1), Cbor::from(1)),
        (Cbor::from(-2), Cbor::Bytes(x.to_vec())),
        (Cbor::from(-3), Cbor::Bytes(y.to_vec())),
    ];
    map.extend(extra.iter().map(|(k, v)| (Cbor::from(*k), v.clone())));
    URL_SAFE_NO_PAD.encode(encode_value(&Cbor::Map(map)))
}

/// A P-256 point that is not on the curve (y off by one).
fn off_curve(key: &PublicKey) -> (Vec<u8>, Vec<u8>) {
    let sec1 = key.to_sec1();
    let x = sec1[1..33].to_vec();
    let mut y = sec1[33..65].to_vec();
    y[31] ^= 0x01;
    (x, y)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64d(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn iaca_anchors(env: &Env) -> TrustAnchors {
    TrustAnchors::new(vec![env.stack.iaca().unwrap()])
}

/// Decodes and verifies one credential against the dev IACA and checks its MSO's status
/// references; returns the decoded IssuerSigned.
fn check_credential(env: &Env, cred: &Credential, key: &PublicKey) -> IssuerSigned {
    let at = now();
    let bytes = b64d(&cred.issuer_signed);
    let issued: IssuerSigned = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![env.stack.iaca().unwrap()]);
    let opts = VerifyOptions::new(at, &trust, &SoftwareVerifier);
    let report = verify_issuer_signed(&issued, Some(MDL), &opts);
    assert!(
        report.is_valid(),
        "IssuerSigned does not verify: {:?}",
        report.failures().collect::<Vec<_>>()
    );
    let digests = report
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ValueDigest)
        .count();
    assert_eq!(digests, 12, "every element of the sample mDL is disclosed");

    let mso = issued.issuer_auth.mso().value();
    assert_eq!(mso.doc_type, MDL);
    assert_eq!(&mso.device_key_info.public_key().unwrap(), key);
    let status = mso.status.as_ref().expect("MSO carries status");
    let sl = status.status_list.as_ref().expect("status_list");
    assert_eq!(Some(sl.idx), cred.status_list.idx);
    assert_eq!(sl.uri, cred.status_list.uri);
    assert!(
        sl.uri
            .starts_with(&format!("{}/v1/status-lists/", env.stack.base_url)),
        "{}",
        sl.uri
    );
    let il = status.identifier_list.as_ref().expect("identifier_list");
    let thumbprint = cose_key_thumbprint(key);
    assert_eq!(
        il.id,
        thumbprint.to_vec(),
        "identifier = RFC 9679 thumbprint"
    );
    assert_eq!(il.uri, format!("{}/v1/identifier-list", env.stack.base_url));
    assert_eq!(cred.identifier_list.uri, il.uri);
    assert_eq!(
        cred.identifier_list.id.as_deref(),
        Some(b64(&thumbprint).as_str())
    );
    assert_eq!(cred.identifier_list.idx, None);
    assert_eq!(cred.status_list.id, None);

    let v = &mso.validity_info;
    assert_eq!(
        cred.valid_from,
        v.valid_from.datetime().format(&Rfc3339).unwrap()
    );
    assert_eq!(
        cred.valid_until,
        v.valid_until.datetime().format(&Rfc3339).unwrap()
    );
    assert!(v.valid_until.datetime() > at);
    assert!(v.valid_from.datetime() <= at + Duration::minutes(5));
    issued
}

/// Every salt (`random`) and every value digest of the MSOs.
fn salts_and_digests(issued: &[&IssuerSigned]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut salts = Vec::new();
    let mut digests = Vec::new();
    for i in issued {
        for items in i.name_spaces.as_ref().unwrap().values() {
            for item in items {
                salts.push(item.value().random.clone());
            }
        }
        for ds in i.issuer_auth.mso().value().value_digests.values() {
            digests.extend(ds.values().cloned());
        }
    }
    (salts, digests)
}

fn all_distinct(v: &[Vec<u8>]) -> bool {
    v.iter().collect::<BTreeSet<_>>().len() == v.len()
}

/// The value of the first sample of `metric` whose labels contain every one of `labels`.
fn metric_value(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Happy path and idempotency (run on SQLite and on PostgreSQL)
// ---------------------------------------------------------------------------------------------

/// nonce → issue → verify → batch → refresh → lists → revoke → lists show it → refresh refused.
async fn happy_path(env: &Env) {
    let base = env.stack.base_url.clone();
    let start = env.counts().await;

    // A nonce.
    let r = env
        .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&env.token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let n = r.json();
    let nonce = n["nonce"].as_str().unwrap().to_owned();
    let expires = OffsetDateTime::parse(n["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(expires > now());

    // One mDL, one device key.
    let k1 = device_key();
    let body = env.issue_body(&sample::mdl_claims(), &nonce, std::slice::from_ref(&k1));
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("idempotent-replayed"), None);
    let doc1: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc1.doctype, MDL);
    assert_eq!(doc1.document_id.len(), 32);
    assert_eq!(doc1.credentials.len(), 1);
    let cred1 = &doc1.credentials[0];
    let issued1 = check_credential(env, cred1, &public(&k1));
    let idx1 = cred1.status_list.idx.unwrap();
    let list_uri = cred1.status_list.uri.clone();
    let ds_serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    assert_eq!(cred1.ds_serial, ds_serial);
    assert!(cred1.expected_update.is_some());

    // What was stored: the document, its MSO, the binding, the nonce — no personal data.
    let id1 = DocumentId::from_hex(&doc1.document_id).unwrap();
    let store = env.stack.issuer.store();
    let stored = store.get_document(id1).await.unwrap();
    assert_eq!(stored.doctype, MDL);
    assert_eq!(stored.state, DocumentState::Active);
    let msos = store.msos_of(id1).await.unwrap();
    assert_eq!(msos.len(), 1);
    assert_eq!(msos[0].record.status_index, idx1);
    assert_eq!(msos[0].record.status_list_uri, list_uri);
    assert_eq!(
        msos[0].record.device_key_thumbprint,
        cose_key_thumbprint(&public(&k1))
    );
    let c = env.counts().await;
    assert_eq!(c.documents, start.documents + 1);
    assert_eq!(c.msos, start.msos + 1);
    assert_eq!(c.device_keys, start.device_keys + 1);
    assert_eq!(c.used_nonces, start.used_nonces + 1);
    assert!(
        c.indices > start.indices,
        "a block of status-list indices was reserved"
    );
    assert_eq!(c.idempotency, start.idempotency);

    // A batch of three keys: three MSOs, independent salts and digests, distinct indices.
    let batch_keys = [device_key(), device_key(), device_key()];
    let doc2 = env.issue(&sample::mdl_claims(), &batch_keys).await;
    assert_eq!(doc2.credentials.len(), 3);
    assert_ne!(doc2.document_id, doc1.document_id);
    let issued2: Vec<IssuerSigned> = doc2
        .credentials
        .iter()
        .zip(&batch_keys)
        .map(|(c, k)| check_credential(env, c, &public(k)))
        .collect();
    let idx2: Vec<u64> = doc2
        .credentials
        .iter()
        .map(|c| c.status_list.idx.unwrap())
        .collect();
    let mut all_idx: BTreeSet<u64> = idx2.iter().copied().collect();
    all_idx.insert(idx1);
    assert_eq!(
        all_idx.len(),
        4,
        "distinct status indices {idx2:?} and {idx1}"
    );
    let refs: Vec<&IssuerSigned> = issued2.iter().chain([&issued1]).collect();
    let (salts, digests) = salts_and_digests(&refs);
    assert_eq!(salts.len(), 4 * 12);
    assert!(all_distinct(&salts), "salts repeat across MSOs");
    assert!(all_distinct(&digests), "digests repeat across MSOs");
    let ids: BTreeSet<_> = doc2
        .credentials
        .iter()
        .map(|c| c.identifier_list.id.clone())
        .collect();
    assert_eq!(ids.len(), 3);

    // The document view: state and MSO references, no personal data.
    let r = env
        .send(env.get(
            &format!("/v1/documents/{}", doc2.document_id),
            Some(&env.token),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let view = r.json();
    assert_eq!(view["document_id"], doc2.document_id.as_str());
    assert_eq!(view["doctype"], MDL);
    assert_eq!(view["state"], "active");
    assert!(view.get("revoked_at").is_none());
    let vm = view["msos"].as_array().unwrap();
    assert_eq!(vm.len(), 3);
    for (m, c) in vm.iter().zip(&doc2.credentials) {
        assert_eq!(m["status_list"]["idx"], json!(c.status_list.idx.unwrap()));
        assert_eq!(m["status_list"]["uri"], c.status_list.uri.as_str());
        assert_eq!(
            m["identifier_list"]["id"],
            json!(c.identifier_list.id.clone().unwrap())
        );
        assert_eq!(m["ds_serial"], ds_serial.as_str());
        assert_eq!(m["revoked"], false);
        assert_eq!(m["valid_until"], c.valid_until.as_str());
    }
    for p in PERSONAL {
        assert!(!r.text().contains(p));
    }

    // Refresh document 1: new MSOs (same key and a new one), new salts, new indices.
    let k4 = device_key();
    let nonce = env.nonce().await;
    let refresh_keys = [k1.clone(), k4.clone()];
    let body = env.refresh_body(&sample::mdl_claims(), &nonce, &refresh_keys);
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", doc1.document_id),
            Some(&env.token),
            &body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);
    let refreshed: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(refreshed.document_id, doc1.document_id);
    assert_eq!(refreshed.doctype, MDL);
    assert_eq!(refreshed.credentials.len(), 2);
    let issued3: Vec<IssuerSigned> = refreshed
        .credentials
        .iter()
        .zip(&refresh_keys)
        .map(|(c, k)| check_credential(env, c, &public(k)))
        .collect();
    let idx3: Vec<u64> = refreshed
        .credentials
        .iter()
        .map(|c| c.status_list.idx.unwrap())
        .collect();
    for i in &idx3 {
        assert!(all_idx.insert(*i), "refresh reused status index {i}");
    }
    let refs: Vec<&IssuerSigned> = issued3.iter().chain([&issued1]).collect();
    let (salts, _) = salts_and_digests(&refs);
    assert!(all_distinct(&salts), "refreshed MSOs reuse salts");
    assert_ne!(
        refreshed.credentials[0].issuer_signed, cred1.issuer_signed,
        "a refresh signs a new MSO"
    );
    assert_eq!(store.msos_of(id1).await.unwrap().len(), 3);

    // The status list before revocation: everything valid; caching headers; 304.
    assert!(list_uri.starts_with(&base));
    let list_path = list_uri.strip_prefix(&base).unwrap().to_owned();
    let r = env.send(env.get(&list_path, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/statuslist+cwt")
    );
    let etag_before = r.header("etag").expect("ETag");
    assert_eq!(
        etag_before,
        format!("\"{}\"", hex::encode(Sha256::digest(&r.body)))
    );
    let cc = r.header("cache-control").expect("Cache-Control");
    assert!(cc.starts_with("public, max-age="), "{cc}");
    let max_age: u64 = cc.trim_start_matches("public, max-age=").parse().unwrap();
    assert!(max_age <= 300, "{cc}");
    assert!(r.header("last-modified").is_some());
    let anchors = iaca_anchors(env);
    let list =
        StatusListToken::verify(&r.body, &list_uri, now(), &anchors, &SoftwareVerifier).unwrap();
    for i in &all_idx {
        assert_eq!(list.status(*i).unwrap(), mso::status::Status::Valid, "{i}");
    }
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_before),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(etag_before.as_str()));
    assert!(r.header("cache-control").is_some());

    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let id_etag_before = r.header("etag").expect("ETag");
    let ids = IdentifierListToken::verify(
        &r.body,
        &format!("{base}/v1/identifier-list"),
        now(),
        &anchors,
        &SoftwareVerifier,
    )
    .unwrap();
    assert!(!ids.contains(&cose_key_thumbprint(&public(&k1))));

    // Revoke document 1 (all three of its MSOs).
    let revoke_path = format!("/v1/documents/{}/revoke", doc1.document_id);
    let r = env
        .send(env.post_json(
            &revoke_path,
            Some(&env.token),
            &json!({"reason": "key_compromise"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"document_id": doc1.document_id.as_str(), "state": "revoked", "changed": true})
    );
    // Again: idempotent, nothing changes, the first reason stays.
    let r = env
        .send(env.post_json(
            &revoke_path,
            Some(&env.token),
            &json!({"reason": "superseded"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["changed"], false);
    let stored = store.get_document(id1).await.unwrap();
    assert_eq!(stored.state, DocumentState::Revoked);
    assert_eq!(
        stored.revocation_reason,
        Some(RevocationReason::KeyCompromise)
    );

    // The status list shows document 1's indices revoked, document 2's valid.
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_before),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a revocation changes the list");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/statuslist+cwt")
    );
    let etag_after = r.header("etag").unwrap();
    assert_ne!(etag_after, etag_before);
    let list =
        StatusListToken::verify(&r.body, &list_uri, now(), &anchors, &SoftwareVerifier).unwrap();
    for i in std::iter::once(idx1).chain(idx3.iter().copied()) {
        assert_eq!(list.status(i).unwrap(), mso::status::Status::Invalid, "{i}");
    }
    for i in &idx2 {
        assert_eq!(list.status(*i).unwrap(), mso::status::Status::Valid, "{i}");
    }
    let r = env
        .send(
            env.get(&list_path, None)
                .header("if-none-match", &etag_after),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // The identifier list names document 1's device keys, not document 2's.
    let r = env.send(env.get("/v1/identifier-list", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/identifierlist+cwt")
    );
    let id_etag = r.header("etag").expect("ETag");
    assert_ne!(id_etag, id_etag_before);
    assert!(r
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public, max-age=")));
    let ids = IdentifierListToken::verify(
        &r.body,
        &format!("{base}/v1/identifier-list"),
        now(),
        &anchors,
        &SoftwareVerifier,
    )
    .unwrap();
    assert!(ids.contains(&cose_key_thumbprint(&public(&k1))));
    assert!(ids.contains(&cose_key_thumbprint(&public(&k4))));
    for k in &batch_keys {
        assert!(!ids.contains(&cose_key_thumbprint(&public(k))));
    }
    let r = env
        .send(
            env.get("/v1/identifier-list", None)
                .header("if-none-match", &id_etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // The document view says revoked.
    let r = env
        .send(env.get(
            &format!("/v1/documents/{}", doc1.document_id),
            Some(&env.token),
        ))
        .await;
    let view = r.json();
    assert_eq!(view["state"], "revoked");
    assert_eq!(view["revocation_reason"], "key_compromise");
    assert!(view["revoked_at"].is_string());
    assert_eq!(view["msos"].as_array().unwrap().len(), 3);
    assert!(view["msos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["revoked"] == true));

    // A revoked document cannot be refreshed.
    let mut fails = Vec::new();
    let nonce = env.nonce().await;
    let body = env.refresh_body(&sample::mdl_claims(), &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "refresh of a revoked document",
        expect(409, "document_revoked", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc1.document_id),
            Some(&env.token),
            &body,
        ),
    )
    .await;
    finish(fails);

    // Metrics count what was signed.
    let r = env.send(env.get("/metrics", None)).await;
    let m = r.text();
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_msos_signed_total",
            &["operation=\"issue\"", MDL]
        ),
        Some(4.0)
    );
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_msos_signed_total",
            &["operation=\"refresh\""]
        ),
        Some(2.0)
    );

    // The audit log recorded the operations, and no personal data.
    let audit = env.audit();
    let count = |event: &str| {
        audit
            .iter()
            .filter(|r| r["event"] == event && r["result"] == "success")
            .count()
    };
    assert_eq!(count("issuer.issue"), 2);
    assert_eq!(count("issuer.refresh"), 1);
    assert_eq!(count("issuer.revoke"), 2);
    env.assert_no_personal_data_in_audit(&[]);
}

/// Same key + same body → same bytes, replay header, one document; same key + other body →
/// 409; concurrent identical requests → one document.
async fn idempotency(env: &Env) {
    let idem = format!("idem-{}", hex::encode(rand_bytes()));
    let k = device_key();
    let nonce = env.nonce().await;
    let body = env.issue_body(&sample::mdl_claims(), &nonce, std::slice::from_ref(&k));
    let send = || {
        env.post_json("/v1/documents", Some(&env.token), &body)
            .header("Idempotency-Key", &idem)
    };
    let before = env.counts().await;
    let first = env.send(send()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = env.send(send()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(second.body, first.body, "a replay returns the same bytes");
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/json")
    );
    let after = env.counts().await;
    assert_eq!(after.documents, before.documents + 1, "one document");
    assert_eq!(after.msos, before.msos + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);
    assert_eq!(after.idempotency, before.idempotency + 1);
    let doc: IssueResponse = serde_json::from_slice(&first.body).unwrap();
    // The replay took no status-list index (so nothing was signed): the next issuance gets
    // the index right after the first attempt's.
    let first_idx = doc.credentials[0].status_list.idx.unwrap();
    let next = env.probe().await;
    assert_eq!(
        next,
        (doc.credentials[0].status_list.uri.clone(), first_idx + 1),
        "a replay signs nothing"
    );
    check_credential(env, &doc.credentials[0], &public(&k));

    // Stored responses hold personal data (the credential), so they are stored sealed: no
    // stored response is readable JSON, and the database has no applicant data in clear.
    let stored: Vec<Vec<u8>> = match &env.db {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT response_body FROM idempotency")
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Pg(p) => sqlx::query_scalar("SELECT response_body FROM idempotency")
            .fetch_all(p)
            .await
            .unwrap(),
    };
    assert!(!stored.is_empty());
    for body in &stored {
        assert!(
            serde_json::from_slice::<Value>(body).is_err(),
            "a stored response is in clear"
        );
        assert!(!contains(body, b"issuer_signed"));
        assert!(!contains(body, doc.document_id.as_bytes()));
    }
    if let Db::Sqlite(_) = env.db {
        for file in ["issuer.sqlite", "issuer.sqlite-wal"] {
            if let Ok(bytes) = std::fs::read(env.stack.dir.join(file)) {
                for p in PERSONAL.iter().chain(&["issuer_signed"]) {
                    assert!(!contains(&bytes, p.as_bytes()), "{file} contains {p:?}");
                }
            }
        }
    }

    // A refused request does not claim its Idempotency-Key: the corrected retry is served.
    let idem_retry = format!("idem-{}", hex::encode(rand_bytes()));
    let nonce_r = env.nonce().await;
    let bad = env.issue_body(
        &without(&sample::mdl_claims(), "portrait"),
        &nonce_r,
        &[device_key()],
    );
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&env.token), &bad)
                .header("Idempotency-Key", &idem_retry),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let fixed = env.issue_body(&sample::mdl_claims(), &nonce_r, &[device_key()]);
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&env.token), &fixed)
                .header("Idempotency-Key", &idem_retry),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);

    // Same key, different body: 409, nothing done.
    let mut fails = Vec::new();
    let nonce2 = env.nonce().await;
    let other = env.issue_body(&sample::mdl_claims(), &nonce2, &[device_key()]);
    env.refused(
        &mut fails,
        "same Idempotency-Key, different body",
        expect(409, "idempotency_conflict", PathExp::None),
        env.post_json("/v1/documents", Some(&env.token), &other)
            .header("Idempotency-Key", &idem),
    )
    .await;
    // The same key on another route is another request too.
    let nonce3 = env.nonce().await;
    let refresh = env.refresh_body(&sample::mdl_claims(), &nonce3, &[device_key()]);
    env.refused(
        &mut fails,
        "same Idempotency-Key on refresh",
        expect(409, "idempotency_conflict", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc.document_id),
            Some(&env.token),
            &refresh,
        )
        .header("Idempotency-Key", &idem),
    )
    .await;
    finish(fails);
    // The key belongs to its client: another client may use the same key.
    let other_client = env.client("other-portal", &[Scope::Issue]).await;
    let r = env
        .send(
            env.post_json("/v1/documents", Some(&other_client), &other)
                .header("Idempotency-Key", &idem),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);

    // Eight identical requests at once: one document, eight identical answers.
    let idem = format!("idem-{}", hex::encode(rand_bytes()));
    let nonce = env.nonce().await;
    let body = env
        .issue_body(&sample::mdl_claims(), &nonce, &[device_key()])
        .to_string();
    let before = env.counts().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let rb = env
            .post_raw(
                "/v1/documents",
                Some(&env.token),
                "application/json",
                body.clone().into_bytes(),
            )
            .header("Idempotency-Key", &idem);
        set.spawn(async move {
            let r = rb.send().await.unwrap();
            let status = r.status();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (status, replayed, r.bytes().await.unwrap().to_vec())
        });
    }
    let results = set.join_all().await;
    let bodies: BTreeSet<&Vec<u8>> = results.iter().map(|r| &r.2).collect();
    for (status, _, b) in &results {
        assert_eq!(
            *status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(b)
        );
    }
    assert_eq!(bodies.len(), 1, "every answer is the same bytes");
    assert_eq!(
        results.iter().filter(|r| !r.1).count(),
        1,
        "exactly one answer is the original, the rest are replays"
    );
    let after = env.counts().await;
    assert_eq!(
        after.documents,
        before.documents + 1,
        "exactly one document"
    );
    assert_eq!(after.msos, before.msos + 1);
    assert_eq!(after.idempotency, before.idempotency + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);

    // Eight identical requests without a key share one nonce: exactly one wins.
    let nonce = env.nonce().await;
    let body = env
        .issue_body(&sample::mdl_claims(), &nonce, &[device_key()])
        .to_string();
    let before = env.counts().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let rb = env.post_raw(
            "/v1/documents",
            Some(&env.token),
            "application/json",
            body.clone().into_bytes(),
        );
        set.spawn(async move {
            let r = rb.send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body)
        });
    }
    let results = set.join_all().await;
    let won = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .count();
    assert_eq!(won, 1, "{results:?}");
    for (status, body) in results.iter().filter(|r| r.0 != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "invalid_nonce");
    }
    let after = env.counts().await;
    assert_eq!(after.documents, before.documents + 1);
    assert_eq!(after.used_nonces, before.used_nonces + 1);
    env.assert_no_personal_data_in_audit(&[]);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn rand_bytes() -> [u8; 12] {
    use rand_core::RngCore;
    let mut b = [0u8; 12];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_sqlite() {
    let env = Env::start(|_| {}).await;
    happy_path(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_sqlite() {
    let env = Env::start(|_| {}).await;
    idempotency(&env).await;
}

/// The happy path and the idempotency checks against PostgreSQL, in a fresh schema that is
/// dropped afterwards. A missing server fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_and_idempotency_postgres() {
    use sqlx::Connection;
    let base = std::env::var("ISSUER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => panic!(
            "the PostgreSQL API test needs a server: cannot connect to {base}: {e}. \
             Start PostgreSQL or set ISSUER_TEST_POSTGRES_URL."
        ),
    };
    let schema = format!("api_{}", hex::encode(rand_bytes()));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let result = tokio::spawn(async move {
        let env = Env::start_on(Some(url), |_| {}).await;
        assert_eq!(
            env.stack.issuer.store().backend(),
            mdoc_issuer::store::Backend::Postgres
        );
        happy_path(&env).await;
        idempotency(&env).await;
        env.db.close().await;
        env.stack.stop().await.unwrap();
    })
    .await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: claims
// ---------------------------------------------------------------------------------------------

fn with(claims: &Value, element: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[MDL_NS][element] = value;
    c
}

fn without(claims: &Value, element: &str) -> Value {
    let mut c = claims.clone();
    c[MDL_NS].as_object_mut().unwrap().remove(element);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_validated_before_anything_is_signed() {
    let mut env = Env::start(|c| c.issuance.portrait_max_bytes = Some(10_000)).await;
    env.probes = true;
    let good = claims_with_portrait(4 * 1024);
    let mut fails = Vec::new();

    struct Case {
        name: &'static str,
        doctype: &'static str,
        claims: Value,
        exp: Expect,
    }
    let cases = vec![
        Case {
            name: "unknown doctype",
            doctype: "org.example.unknown.1",
            claims: good.clone(),
            exp: expect(422, "unknown_doctype", PathExp::Exact("doctype")),
        },
        Case {
            name: "missing mandatory element",
            doctype: MDL,
            claims: without(&good, "family_name"),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/family_name"),
            )
            .detail("missing_mandatory"),
        },
        Case {
            name: "wrong type (number for a full-date)",
            doctype: MDL,
            claims: with(&good, "birth_date", json!(19900228)),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/birth_date"),
            )
            .detail("wrong_type"),
        },
        Case {
            name: "wrong type (string for a bool)",
            doctype: MDL,
            claims: with(&good, "age_over_18", json!("yes")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/age_over_18"),
            )
            .detail("wrong_type"),
        },
        Case {
            name: "out-of-range value",
            doctype: MDL,
            claims: with(&good, "height", json!(500)),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/height"),
            )
            .detail("out_of_range"),
        },
        Case {
            name: "invalid date",
            doctype: MDL,
            claims: with(&good, "birth_date", json!("1990-02-30")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/birth_date"),
            )
            .detail("invalid_date"),
        },
        Case {
            name: "portrait over issuance.portrait_max_bytes",
            doctype: MDL,
            claims: claims_with_portrait(20 * 1024),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
            )
            .detail("too_large"),
        },
        Case {
            name: "portrait that is not a JPEG",
            doctype: MDL,
            claims: with(&good, "portrait", json!(b64(b"GIF89a not a jpeg at all"))),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
            )
            .detail("not_jpeg"),
        },
        Case {
            name: "unknown element",
            doctype: MDL,
            claims: with(&good, "favourite_colour", json!("blue")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/favourite_colour"),
            )
            .detail("unknown_element"),
        },
        Case {
            name: "unknown namespace",
            doctype: MDL,
            claims: {
                let mut c = good.clone();
                c["org.example.ns"] = json!({"x": 1});
                c
            },
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.example.ns"),
            )
            .detail("unknown_namespace"),
        },
        Case {
            name: "nested field missing",
            doctype: MDL,
            claims: with(
                &good,
                "driving_privileges",
                json!([{"issue_date": "2008-05-01"}]),
            ),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact(
                    "claims/org.iso.18013.5.1/driving_privileges/0/vehicle_category_code",
                ),
            )
            .detail("missing_mandatory"),
        },
        Case {
            name: "claims not an object",
            doctype: MDL,
            claims: json!("Jansen"),
            exp: expect(422, "validation_failed", PathExp::Exact("claims")).detail("wrong_type"),
        },
        Case {
            name: "character outside Latin-1",
            doctype: MDL,
            claims: with(&good, "family_name", json!("Jansen \u{65e5}\u{672c}")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/family_name"),
            )
            .detail("invalid_character"),
        },
        Case {
            name: "issuing_country differs from the DS certificate",
            doctype: MDL,
            claims: with(&good, "issuing_country", json!("DE")),
            exp: expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/issuing_country"),
            )
            .detail("ds_mismatch"),
        },
    ];
    for case in cases {
        let nonce = env.nonce().await;
        let mut body = env.issue_body(&case.claims, &nonce, &[device_key()]);
        body["doctype"] = json!(case.doctype);
        env.refused(
            &mut fails,
            case.name,
            case.exp,
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }

    // Every problem is listed, not just the first.
    let nonce = env.nonce().await;
    let claims = with(&without(&good, "family_name"), "height", json!(0));
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let r = env
        .refused(
            &mut fails,
            "two problems at once",
            expect(
                422,
                "validation_failed",
                PathExp::Exact("claims/org.iso.18013.5.1/height"),
            ),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    let n = r.json()["error"]["details"].as_array().map_or(0, Vec::len);
    if n != 2 {
        fails.push(format!("[two problems at once] {n} details, expected 2"));
    }

    // A refusal consumes nothing: the nonce of a refused request still works.
    let nonce = env.nonce().await;
    let bad = env.issue_body(&without(&good, "portrait"), &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "missing portrait",
        expect(
            422,
            "validation_failed",
            PathExp::Exact("claims/org.iso.18013.5.1/portrait"),
        ),
        env.post_json("/v1/documents", Some(&env.token), &bad),
    )
    .await;
    let ok = env.issue_body(&good, &nonce, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &ok))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// Bad input: device keys and proofs
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_keys_and_proofs_are_checked_before_anything_is_signed() {
    let mut env = Env::start(|c| c.issuance.max_batch = 3).await;
    env.probes = true;
    let aud = env.aud();
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let a = device_key();
    let b = device_key();
    let pa = public(&a);
    let (ox, oy) = off_curve(&pa);

    type Build = Box<dyn Fn(&str) -> Value>;
    let cases: Vec<(&str, Build, Expect)> = vec![
        (
            "COSE_Key that is not CBOR",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"cose_key": b64(b"\xff\xfe not cbor"), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key that is not base64url",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"cose_key": "!!not base64!!", "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key with the private key (d)",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    json!([{
                        "cose_key": cose_key_b64(&pa, &[(-4, Cbor::Bytes(vec![7; 32]))]),
                        "proof": proof(&a, &aud, n, false)
                    }])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "COSE_Key with an off-curve point",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let (ox, oy) = (ox.clone(), oy.clone());
                move |n: &str| json!([{"cose_key": cose_key_xy(&ox, &oy, &[]), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/cose_key"),
            ),
        ),
        (
            "JWK with the private key (d)",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let mut jwk = to_jwk(&pa);
                    jwk["d"] = json!(b64(&[7; 32]));
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "JWK with an off-curve point",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let (ox, oy) = (ox.clone(), oy.clone());
                move |n: &str| {
                    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&ox), "y": b64(&oy)});
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "JWK on an unsupported curve",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let mut jwk = to_jwk(&pa);
                    jwk["crv"] = json!("secp256k1");
                    json!([{"jwk": jwk, "proof": proof(&a, &aud, n, false)}])
                }
            })),
            expect(
                422,
                "invalid_device_key",
                PathExp::Exact("device_keys/0/jwk"),
            ),
        ),
        (
            "both cose_key and jwk",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "jwk": to_jwk(&pa), "proof": proof(&a, &aud, n, false)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/0/")),
        ),
        (
            "no key anywhere",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": proof(&a, &aud, n, false)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/0")),
        ),
        (
            "proof signed by another key",
            (Box::new({
                let b = b.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&b, &aud, n, false)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof whose jwk header is another key",
            (Box::new({
                let b = b.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| json!([{"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&b, &aud, n, true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof over another nonce",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |_: &str| json!([{"proof": proof(&a, &aud, "c29tZSBvdGhlciBub25jZQ", true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof for another audience",
            (Box::new({
                let a = a.clone();
                move |n: &str| json!([{"proof": proof(&a, "https://other-issuer.example", n, true)}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with the wrong typ",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h = json!({"typ": "JWT", "alg": "ES256", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    json!([{"proof": jws(&a, &h, &c)}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with alg none",
            (Box::new({
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h =
                        json!({"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    let unsigned = format!(
                        "{}.{}.",
                        b64(h.to_string().as_bytes()),
                        b64(c.to_string().as_bytes())
                    );
                    json!([{"proof": unsigned}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with an alg that does not match the key",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                let pa = pa.clone();
                move |n: &str| {
                    let h =
                        json!({"typ": "openid4vci-proof+jwt", "alg": "ES384", "jwk": to_jwk(&pa)});
                    let c = json!({"aud": aud, "iat": now().unix_timestamp(), "nonce": n});
                    json!([{"proof": jws(&a, &h, &c)}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof issued an hour ago",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": make_proof(&a, &aud, n, now() - Duration::hours(1), true).unwrap()}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof issued in the future",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": make_proof(&a, &aud, n, now() + Duration::hours(1), true).unwrap()}])
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof that is not a JWS",
            (Box::new(|_: &str| json!([{"proof": "not-a-jws"}]))),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "proof with a corrupted signature",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| {
                    let p = proof(&a, &aud, n, true);
                    let (head, sig) = p.rsplit_once('.').unwrap();
                    let mut s = b64d(sig);
                    s[0] ^= 0x80;
                    json!([{"proof": format!("{head}.{}", b64(&s))}])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/0/proof")),
        ),
        (
            "second key of a batch with a bad proof",
            (Box::new({
                let a = a.clone();
                let b = b.clone();
                let aud = aud.clone();
                move |n: &str| {
                    json!([
                        {"proof": proof(&a, &aud, n, true)},
                        {"proof": proof(&b, "https://other-issuer.example", n, true)}
                    ])
                }
            })),
            expect(422, "invalid_proof", PathExp::Exact("device_keys/1/proof")),
        ),
        (
            "the same key twice in a batch",
            (Box::new({
                let a = a.clone();
                let aud = aud.clone();
                move |n: &str| json!([{"proof": proof(&a, &aud, n, true)}, {"proof": proof(&a, &aud, n, true)}])
            })),
            expect(422, "invalid_device_key", PathExp::Prefix("device_keys/1")),
        ),
        (
            "batch larger than issuance.max_batch",
            (Box::new({
                let aud = aud.clone();
                move |n: &str| {
                    let keys: Vec<Value> = (0..4)
                        .map(|_| json!({"proof": proof(&device_key(), &aud, n, true)}))
                        .collect();
                    json!(keys)
                }
            })),
            expect(422, "invalid_device_key", PathExp::Exact("device_keys")).detail("batch_size"),
        ),
        (
            "empty batch",
            (Box::new(|_: &str| json!([]))),
            expect(422, "invalid_device_key", PathExp::Exact("device_keys")).detail("batch_size"),
        ),
    ];
    for (name, build, exp) in &cases {
        let nonce = env.nonce().await;
        let body = json!({
            "doctype": MDL,
            "claims": claims,
            "nonce": nonce,
            "device_keys": build(&nonce),
        });
        env.refused(
            &mut fails,
            name,
            *exp,
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }

    // Positive controls: a COSE_Key or a JWK with a proof without a jwk header are accepted.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [
            {"cose_key": cose_key_b64(&pa, &[]), "proof": proof(&a, &aud, &nonce, false)},
            {"jwk": to_jwk(&public(&b)), "proof": proof(&b, &aud, &nonce, false)},
        ],
    });
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let doc: IssueResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        doc.credentials[0].identifier_list.id.as_deref(),
        Some(b64(&cose_key_thumbprint(&pa)).as_str())
    );
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// Bad input: nonces
// ---------------------------------------------------------------------------------------------

/// A nonce minted with this stack's real nonce key at `issued` (for expiry tests).
fn mint_nonce(env: &Env, issued: OffsetDateTime) -> String {
    let raw = std::fs::read_to_string(env.stack.dir.join("DEV-ONLY-server.secret")).unwrap();
    let secret = ServerSecret::new(raw.trim().as_bytes().to_vec()).unwrap();
    let ttl = i64::try_from(env.stack.issuer.config().issuance.nonce_ttl_secs).unwrap();
    Nonces::new(secret.derive(b"pop-nonce"), Duration::seconds(ttl))
        .issue(issued, rand_bytes16())
        .0
}

fn rand_bytes16() -> [u8; 16] {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_nonces_are_refused() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();

    // The minting helper is right: a nonce minted now is accepted.
    let fresh = mint_nonce(&env, now());
    let body = env.issue_body(&claims, &fresh, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let valid = env.nonce().await;
    let mut tampered = b64d(&valid);
    tampered[7] ^= 0x01; // the expiry's last byte
    let foreign = Nonces::new([9; 32], Duration::minutes(5))
        .issue(now(), rand_bytes16())
        .0;
    let cases: Vec<(&str, String)> = vec![
        (
            "expired nonce",
            mint_nonce(&env, now() - Duration::hours(1)),
        ),
        ("forged nonce (random bytes)", b64(&[0x5a; 56])),
        ("garbage nonce", "not-a-nonce".into()),
        ("empty nonce", String::new()),
        ("tampered nonce", b64(&tampered)),
        ("nonce of another issuer", foreign),
        ("oversized nonce", "A".repeat(4096)),
    ];
    for (name, nonce) in cases {
        let body = env.issue_body(&claims, &nonce, &[device_key()]);
        env.refused(
            &mut fails,
            name,
            expect(422, "invalid_nonce", PathExp::Exact("nonce")),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

/// A reused nonce and a device key bound to another document are refused — and refused
/// before the DS signs anything or a status-list index is spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_nonce_and_bound_device_key_are_refused_before_signing() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let aud = env.aud();

    let k = device_key();
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, std::slice::from_ref(&k));
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first: IssueResponse = serde_json::from_slice(&r.body).unwrap();

    // The same nonce again (a new key and proof over it): a replay.
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "reused nonce",
        expect(422, "invalid_nonce", PathExp::Exact("nonce")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // The same nonce with base64 padding appended: still the same nonce.
    for padded in [format!("{nonce}="), format!("{nonce}==")] {
        let body = env.issue_body(&claims, &padded, &[device_key()]);
        env.refused(
            &mut fails,
            &format!("reused nonce with padding ({} chars)", padded.len()),
            expect(422, "invalid_nonce", PathExp::Exact("nonce")),
            env.post_json("/v1/documents", Some(&env.token), &body),
        )
        .await;
    }
    // The same nonce on refresh.
    let body = env.refresh_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "reused nonce on refresh",
        expect(422, "invalid_nonce", PathExp::Exact("nonce")),
        env.post_json(
            &format!("/v1/documents/{}/refresh", first.document_id),
            Some(&env.token),
            &body,
        ),
    )
    .await;

    // The first document's device key for a second document.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [{"proof": proof(&k, &aud, &nonce, true)}],
    });
    env.refused(
        &mut fails,
        "device key bound to another document",
        expect(409, "device_key_in_use", PathExp::Prefix("device_keys/0")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // ... also as the second key of a batch.
    let nonce = env.nonce().await;
    let body = json!({
        "doctype": MDL, "claims": claims, "nonce": nonce,
        "device_keys": [
            {"proof": proof(&device_key(), &aud, &nonce, true)},
            {"proof": proof(&k, &aud, &nonce, true)},
        ],
    });
    env.refused(
        &mut fails,
        "bound device key second in a batch",
        expect(409, "device_key_in_use", PathExp::Prefix("device_keys/1")),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    // The document's own key may be reused when it is refreshed.
    let nonce = env.nonce().await;
    let body = env.refresh_body(&claims, &nonce, std::slice::from_ref(&k));
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", first.document_id),
            Some(&env.token),
            &body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// Bad input: HTTP, JSON, routes, ids
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_routes_and_ids_are_refused() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let t = Some(env.token.as_str());
    let doc = env.issue(&claims, &[device_key()]).await;
    let admin = env.client("admin", &[Scope::Admin]).await;

    let nonce = env.nonce().await;
    let good = env.issue_body(&claims, &nonce, &[device_key()]);
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let json_cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "truncated JSON",
            b"{\"doctype\": \"org.iso".to_vec(),
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "JSON nested 10,000 deep",
            {
                let mut b = b"{\"doctype\":\"x\",\"claims\":".to_vec();
                b.extend(std::iter::repeat_n(b'[', 10_000));
                b.extend(std::iter::repeat_n(b']', 10_000));
                b.extend_from_slice(b",\"nonce\":\"n\",\"device_keys\":[]}");
                b
            },
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "duplicate field",
            br#"{"doctype":"a","doctype":"b","claims":{},"nonce":"n","device_keys":[]}"#.to_vec(),
            expect(400, "malformed_request", PathExp::Any),
        ),
        (
            "JSON array body",
            b"[]".to_vec(),
            expect(400, "malformed_request", PathExp::Exact("")),
        ),
        (
            "empty body",
            Vec::new(),
            expect(400, "malformed_request", PathExp::Exact("")),
        ),
        (
            "not UTF-8",
            b"{\"doctype\": \"\xff\xfe\"}".to_vec(),
            expect(400, "malformed_request", PathExp::Exact("doctype")),
        ),
        (
            "unknown top-level field",
            mutate(&|b: &mut Value| b["extra"] = json!(1))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("extra")),
        ),
        (
            "missing nonce",
            mutate(&|b: &mut Value| {
                b.as_object_mut().unwrap().remove("nonce");
            })
            .to_string()
            .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("nonce")),
        ),
        (
            "doctype of the wrong JSON type",
            mutate(&|b: &mut Value| b["doctype"] = json!(5))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("doctype")),
        ),
        (
            "device_keys not an array",
            mutate(&|b: &mut Value| b["device_keys"] = json!("k"))
                .to_string()
                .into_bytes(),
            expect(400, "malformed_request", PathExp::Exact("device_keys")),
        ),
        (
            "proof of the wrong JSON type",
            mutate(&|b: &mut Value| b["device_keys"][0]["proof"] = json!(7))
                .to_string()
                .into_bytes(),
            expect(
                400,
                "malformed_request",
                PathExp::Exact("device_keys/0/proof"),
            ),
        ),
        (
            "unknown field in a device key",
            mutate(&|b: &mut Value| b["device_keys"][0]["x5c"] = json!("z"))
                .to_string()
                .into_bytes(),
            expect(
                400,
                "malformed_request",
                PathExp::Exact("device_keys/0/x5c"),
            ),
        ),
    ];
    for (name, body, exp) in json_cases {
        env.refused(
            &mut fails,
            name,
            exp,
            env.post_raw("/v1/documents", t, "application/json", body),
        )
        .await;
    }

    let body = good.to_string().into_bytes();
    env.refused(
        &mut fails,
        "text/plain body",
        expect(415, "unsupported_media_type", PathExp::None),
        env.post_raw("/v1/documents", t, "text/plain", body.clone()),
    )
    .await;
    env.refused(
        &mut fails,
        "no Content-Type",
        expect(415, "unsupported_media_type", PathExp::None),
        env.http
            .post(env.url("/v1/documents"))
            .bearer_auth(&env.token)
            .body(body.clone()),
    )
    .await;
    env.refused(
        &mut fails,
        "Idempotency-Key too long",
        expect(400, "malformed_request", PathExp::Exact("Idempotency-Key")),
        env.post_raw("/v1/documents", t, "application/json", body.clone())
            .header("Idempotency-Key", "k".repeat(256)),
    )
    .await;
    env.refused(
        &mut fails,
        "empty Idempotency-Key",
        expect(400, "malformed_request", PathExp::Exact("Idempotency-Key")),
        env.post_raw("/v1/documents", t, "application/json", body.clone())
            .header("Idempotency-Key", ""),
    )
    .await;

    // Routes and methods.
    env.refused(
        &mut fails,
        "unknown route",
        expect(404, "not_found", PathExp::None).not_audited(),
        env.get("/v1/nothing-here", t),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown route outside /v1",
        expect(404, "not_found", PathExp::None).not_audited(),
        env.post_json("/admin", None, &json!({})),
    )
    .await;
    env.refused(
        &mut fails,
        "GET on a POST route",
        expect(405, "method_not_allowed", PathExp::None).not_audited(),
        env.get("/v1/documents", t),
    )
    .await;
    env.refused(
        &mut fails,
        "DELETE on a document",
        expect(405, "method_not_allowed", PathExp::None).not_audited(),
        env.http
            .delete(env.url(&format!("/v1/documents/{}", doc.document_id)))
            .bearer_auth(&env.token),
    )
    .await;

    // Document ids.
    for (name, id) in [
        ("document id not hex", "not-a-document-id"),
        ("document id too short", "abcdef"),
        ("unknown document id", "00000000000000000000000000000000"),
    ] {
        env.refused(
            &mut fails,
            &format!("GET: {name}"),
            expect(404, "not_found", PathExp::None),
            env.get(&format!("/v1/documents/{id}"), t),
        )
        .await;
        let nonce = env.nonce().await;
        let body = env.refresh_body(&claims, &nonce, &[device_key()]);
        env.refused(
            &mut fails,
            &format!("refresh: {name}"),
            expect(404, "not_found", PathExp::None),
            env.post_json(&format!("/v1/documents/{id}/refresh"), t, &body),
        )
        .await;
        env.refused(
            &mut fails,
            &format!("revoke: {name}"),
            expect(404, "not_found", PathExp::None),
            env.post_json(&format!("/v1/documents/{id}/revoke"), t, &json!({})),
        )
        .await;
    }

    // Revocation bodies.
    let revoke = format!("/v1/documents/{}/revoke", doc.document_id);
    env.refused(
        &mut fails,
        "unknown revocation reason",
        expect(400, "malformed_request", PathExp::Exact("reason")),
        env.post_json(&revoke, t, &json!({"reason": "ds_revoked"})),
    )
    .await;
    env.refused(
        &mut fails,
        "revocation reason of the wrong type",
        expect(400, "malformed_request", PathExp::Exact("reason")),
        env.post_json(&revoke, t, &json!({"reason": 3})),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown field in a revocation",
        expect(400, "malformed_request", PathExp::Exact("because")),
        env.post_json(&revoke, t, &json!({"because": "x"})),
    )
    .await;
    env.refused(
        &mut fails,
        "revocation with a text/plain body",
        expect(415, "unsupported_media_type", PathExp::None),
        env.post_raw(&revoke, t, "text/plain", b"{}".to_vec()),
    )
    .await;
    let id = DocumentId::from_hex(&doc.document_id).unwrap();
    assert_eq!(
        env.stack
            .issuer
            .store()
            .get_document(id)
            .await
            .unwrap()
            .state,
        DocumentState::Active,
        "refused revocations revoked nothing"
    );

    // DS serials.
    env.refused(
        &mut fails,
        "DS serial not hex",
        expect(400, "malformed_request", PathExp::Exact("serial")),
        env.post_json("/v1/ds/zz-top/revoke", Some(&admin), &json!({})),
    )
    .await;
    env.refused(
        &mut fails,
        "DS serial too long",
        expect(400, "malformed_request", PathExp::Exact("serial")),
        env.post_json(
            &format!("/v1/ds/{}/revoke", "a".repeat(65)),
            Some(&admin),
            &json!({}),
        ),
    )
    .await;
    env.refused(
        &mut fails,
        "unknown DS serial",
        expect(404, "not_found", PathExp::None),
        env.post_json("/v1/ds/0123456789abcdef/revoke", Some(&admin), &json!({})),
    )
    .await;

    // Refresh with other applicant data.
    let nonce = env.nonce().await;
    let other = with(&claims, "given_name", json!("Eva"));
    let body = env.refresh_body(&other, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "refresh with other applicant data",
        expect(409, "applicant_mismatch", PathExp::None),
        env.post_json(
            &format!("/v1/documents/{}/refresh", doc.document_id),
            t,
            &body,
        ),
    )
    .await;

    // Public list routes: 404 for unknown lists, not audited.
    for path in [
        "/v1/status-lists/999",
        "/v1/status-lists/abc",
        "/v1/status-lists/-1",
    ] {
        env.refused(
            &mut fails,
            path,
            expect(404, "not_found", PathExp::None).not_audited(),
            env.get(path, None),
        )
        .await;
    }

    // A valid request still works on this stack.
    let r = env
        .send(env.post_raw(
            "/v1/documents",
            t,
            "application/json; charset=utf-8",
            good.to_string().into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    env.assert_no_personal_data_in_audit(&[]);
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// Authentication, scopes, limits
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_scopes_are_enforced() {
    let mut env = Env::start(|_| {}).await;
    env.probes = true;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let doc = env.issue(&claims, &[device_key()]).await;
    let doc_path = format!("/v1/documents/{}", doc.document_id);
    let revoke_only = env.client("revoker", &[Scope::Revoke]).await;
    let issue_only = env.client("issuer-portal", &[Scope::Issue]).await;
    let no_scope = env.client("nothing", &[]).await;
    let (disabled_client, disabled) = env
        .stack
        .issuer
        .store()
        .create_client("disabled", &[Scope::Issue, Scope::Revoke, Scope::Admin])
        .await
        .unwrap();
    env.stack
        .issuer
        .store()
        .disable_client(&disabled_client.id)
        .await
        .unwrap();

    // A valid issuance request: if authentication were skipped it would issue.
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let cases = vec![
        (
            "no Authorization header",
            env.post_json("/v1/documents", None, &body),
        ),
        (
            "Basic credentials",
            env.post_json("/v1/documents", None, &body)
                .header("authorization", "Basic dXNlcjpwYXNz"),
        ),
        (
            "unknown bearer token",
            env.post_json(
                "/v1/documents",
                Some("mdi_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                &body,
            ),
        ),
        (
            "disabled client",
            env.post_json("/v1/documents", Some(&disabled.0), &body),
        ),
        (
            "oversized Authorization header",
            env.post_json("/v1/documents", Some(&"x".repeat(600)), &body),
        ),
        (
            "nonce without a token",
            env.http.post(env.url("/v1/nonces")),
        ),
        ("document view without a token", env.get(&doc_path, None)),
        (
            "revocation without a token",
            env.post_json(&format!("{doc_path}/revoke"), None, &json!({})),
        ),
        (
            "DS revocation by a disabled admin",
            env.post_json("/v1/ds/01/revoke", Some(&disabled.0), &json!({})),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(401, "unauthorized", PathExp::None),
            rb,
        )
        .await;
    }
    let audit = env.audit();
    if !audit
        .iter()
        .any(|r| r["event"] == "issuer.refusal" && r["actors"] == json!(["unauthenticated"]))
    {
        fails.push("no refusal names the unauthenticated caller".into());
    }

    let nonce2 = env.nonce().await;
    let refresh = env.refresh_body(&claims, &nonce2, &[device_key()]);
    let cases = vec![
        (
            "nonce with the revoke scope only",
            env.http
                .post(env.url("/v1/nonces"))
                .bearer_auth(&revoke_only),
        ),
        (
            "issuance with the revoke scope only",
            env.post_json("/v1/documents", Some(&revoke_only), &body),
        ),
        (
            "refresh with the revoke scope only",
            env.post_json(&format!("{doc_path}/refresh"), Some(&revoke_only), &refresh),
        ),
        (
            "revocation with the issue scope only",
            env.post_json(&format!("{doc_path}/revoke"), Some(&issue_only), &json!({})),
        ),
        (
            "DS revocation without the admin scope",
            env.post_json("/v1/ds/01/revoke", Some(&env.token), &json!({})),
        ),
        (
            "document view without scopes",
            env.get(&doc_path, Some(&no_scope)),
        ),
        (
            "issuance without scopes",
            env.post_json("/v1/documents", Some(&no_scope), &body),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(403, "insufficient_scope", PathExp::None),
            rb,
        )
        .await;
    }
    // 403 refusals name the client in the audit record.
    let audit = env.audit();
    let revoker_id = {
        // The client id is not returned by DevStack::client; find it through the token.
        env.stack
            .issuer
            .store()
            .client_by_token(&revoke_only)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    if !audit.iter().any(|r| {
        r["event"] == "issuer.refusal"
            && r["details"]["code"] == "insufficient_scope"
            && r["actors"] == json!([revoker_id])
    }) {
        fails.push("no insufficient_scope refusal names the client".into());
    }

    // What each scope may do.
    let r = env.send(env.get(&doc_path, Some(&revoke_only))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "revoke scope may read: {}",
        r.text()
    );
    let r = env.send(env.get(&doc_path, Some(&issue_only))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "issue scope may read: {}",
        r.text()
    );
    let r = env
        .send(env.post_json("/v1/documents", Some(&issue_only), &body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = env
        .send(
            env.http
                .post(env.url(&format!("{doc_path}/revoke")))
                .bearer_auth(&revoke_only),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let view = env
        .send(env.get(&doc_path, Some(&revoke_only)))
        .await
        .json();
    assert_eq!(
        view["revocation_reason"], "unspecified",
        "an empty body means unspecified"
    );
    env.assert_no_personal_data_in_audit(&[&revoke_only, &issue_only, &no_scope, &disabled.0]);
    finish(fails);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_clients_reach_only_their_own_documents() {
    let env = Env::start(|c| c.issuance.client_isolation = true).await;
    let claims = claims_with_portrait(2048);
    let mut fails = Vec::new();
    let doc = env.issue(&claims, &[device_key()]).await;
    let doc_path = format!("/v1/documents/{}", doc.document_id);
    let other = env
        .client("other-portal", &[Scope::Issue, Scope::Revoke])
        .await;
    let admin = env.client("operator", &[Scope::Admin, Scope::Revoke]).await;

    // Another portal cannot tell the document exists, let alone change it.
    let nonce = env.nonce().await;
    let refresh = env.refresh_body(&claims, &nonce, &[device_key()]);
    let cases = vec![
        ("another client's view", env.get(&doc_path, Some(&other))),
        (
            "another client's refresh",
            env.post_json(&format!("{doc_path}/refresh"), Some(&other), &refresh),
        ),
        (
            "another client's revocation",
            env.post_json(&format!("{doc_path}/revoke"), Some(&other), &json!({})),
        ),
    ];
    for (name, rb) in cases {
        env.refused(
            &mut fails,
            name,
            expect(404, "not_found", PathExp::None),
            rb,
        )
        .await;
    }
    let id = DocumentId::from_hex(&doc.document_id).unwrap();
    let stored = env.stack.issuer.store().get_document(id).await.unwrap();
    assert_eq!(stored.state, DocumentState::Active);
    assert_eq!(
        env.stack.issuer.store().msos_of(id).await.unwrap().len(),
        1,
        "the refused refresh added no MSO"
    );
    let owner = env
        .stack
        .issuer
        .store()
        .client_by_token(&env.token)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(stored.client_id.as_deref(), Some(owner.as_str()));

    // Its issuer reads it; an admin (the operator) reaches it too.
    let r = env.send(env.get(&doc_path, Some(&env.token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = env
        .send(env.post_json(&format!("{doc_path}/revoke"), Some(&admin), &json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let stored = env.stack.issuer.store().get_document(id).await.unwrap();
    assert_eq!(stored.state, DocumentState::Revoked);
    finish(fails);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_size_and_rate_limits() {
    let env = Env::start(|c| {
        c.server.max_body_bytes = 1024;
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 2;
    })
    .await;
    let mut fails = Vec::new();

    // A body over server.max_body_bytes (the rest of the JSON is never read).
    let sizer = env.client("sizer", &[Scope::Issue, Scope::Revoke]).await;
    let mut big = br#"{"doctype":"org.iso.18013.5.1.mDL","claims":{"x":""#.to_vec();
    big.resize(3000, b'a');
    big.extend_from_slice(br#""},"nonce":"n","device_keys":[]}"#);
    env.refused(
        &mut fails,
        "body over server.max_body_bytes",
        expect(413, "body_too_large", PathExp::None),
        env.post_raw("/v1/documents", Some(&sizer), "application/json", big),
    )
    .await;

    // Rate limit: burst 2, then 429 with Retry-After.
    let busy = env.client("busy", &[Scope::Issue]).await;
    let mut limited = None;
    for i in 0..50 {
        let before = env.snapshot().await;
        let r = env
            .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&busy))
            .await;
        if i == 0 {
            assert_eq!(r.status, StatusCode::OK, "first request within the burst");
        }
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((before, r));
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let (before, r) = limited.expect("no request was rate limited");
    env.check_refusal(
        &mut fails,
        "over the rate limit",
        &before,
        &r,
        &expect(429, "rate_limited", PathExp::None),
    )
    .await;
    // Limits are per client: another client is not affected.
    let r = env
        .send(env.http.post(env.url("/v1/nonces")).bearer_auth(&env.token))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Public routes are not limited per client.
    let r = env.send(env.get("/healthz", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// DS revocation
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ds_revocation_revokes_its_documents_and_stops_signing() {
    let env = Env::start(|_| {}).await;
    let claims = claims_with_portrait(2048);
    let admin = env.client("admin", &[Scope::Admin]).await;
    let d1 = env.issue(&claims, &[device_key(), device_key()]).await;
    let d2 = env.issue(&claims, &[device_key()]).await;
    let serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    let r = env
        .send(env.post_json(
            &format!("/v1/ds/{}/revoke", serial.to_ascii_uppercase()),
            Some(&admin),
            &json!({}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"ds_serial": serial.as_str(), "documents_revoked": 2})
    );
    for d in [&d1, &d2] {
        let id = DocumentId::from_hex(&d.document_id).unwrap();
        let doc = env.stack.issuer.store().get_document(id).await.unwrap();
        assert_eq!(doc.state, DocumentState::Revoked);
        assert_eq!(doc.revocation_reason, Some(RevocationReason::DsRevoked));
    }
    let audit = env.audit();
    assert!(audit
        .iter()
        .any(|r| r["event"] == "issuer.revoke_ds" && r["details"]["ds_serial"] == serial.as_str()));

    // No DS left: not ready, issuance is a 503 with Retry-After, never a 500.
    let r = env.send(env.get("/readyz", None)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "not_ready");
    let mut fails = Vec::new();
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    env.refused(
        &mut fails,
        "issuance without a usable DS",
        expect(503, "no_signing_key", PathExp::None).not_audited(),
        env.post_json("/v1/documents", Some(&env.token), &body),
    )
    .await;
    finish(fails);
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_openapi_and_graceful_shutdown() {
    let env = Env::start(|c| c.server.shutdown_grace_secs = 5).await;
    let r = env.send(env.get("/healthz", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = env.send(env.get("/readyz", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"status": "ready"}));

    env.issue(&claims_with_portrait(2048), &[device_key()])
        .await;
    let r = env.send(env.get("/metrics", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    let m = r.text();
    assert!(m.contains("mdoc_issuer_http_requests_total"), "{m}");
    assert!(m.contains("mdoc_issuer_msos_signed_total"), "{m}");
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_http_requests_total",
            &[
                "route=\"/v1/documents\"",
                "status=\"201\"",
                "method=\"POST\""
            ]
        ),
        Some(1.0)
    );
    assert!(metric_value(
        &m,
        "mdoc_issuer_http_requests_total",
        &["route=\"/healthz\""]
    )
    .is_some());

    // The OpenAPI document lists exactly the router's routes.
    let r = env.send(env.get("/openapi.json", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let methods = [
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ];
    let mut listed = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (k, op) in item.as_object().unwrap() {
            if methods.contains(&k.as_str()) {
                listed.insert((k.clone(), path.clone()));
                assert!(op["responses"].is_object(), "{k} {path} has responses");
                assert!(
                    op["operationId"].is_string(),
                    "{k} {path} has an operationId"
                );
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        listed, expected,
        "OpenAPI paths differ from the router's routes"
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert!(schemes.as_object().is_some_and(|s| !s.is_empty()));
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("components.schemas.ErrorCode.enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    assert_eq!(codes, want, "documented error codes");
    for media in [
        "application/statuslist+cwt",
        "application/identifierlist+cwt",
    ] {
        assert!(r.text().contains(media), "{media} is documented");
    }
    // Each listed route exists on the router (not the fallback) for its method.
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{id}", "00000000000000000000000000000000")
            .replace("{serial}", "01")
            .replace("{n}", "1");
        let rb = match *method {
            "get" => env.http.get(env.url(&concrete)),
            _ => env.http.post(env.url(&concrete)),
        };
        let r = env.send(rb).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if r.status == StatusCode::NOT_FOUND {
            assert_ne!(
                r.json()["error"]["message"],
                "no such route",
                "{method} {path}"
            );
        }
    }

    // Refusals are counted by code.
    let m = env.send(env.get("/metrics", None)).await.text();
    assert!(
        metric_value(&m, "mdoc_issuer_refusals_total", &["code=\"unauthorized\""])
            .is_some_and(|v| v >= 1.0),
        "{m}"
    );

    // Graceful shutdown completes, the port closes, the audit log records the stop.
    let base = env.stack.base_url.clone();
    let audit_path = env.audit_path();
    let http = env.http.clone();
    env.db.close().await;
    let Env { stack, _tmp, .. } = env;
    tokio::time::timeout(std::time::Duration::from_secs(120), stack.stop())
        .await
        .expect("graceful shutdown hangs")
        .unwrap();
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "the server still answers after shutdown"
    );
    let last = std::fs::read_to_string(audit_path)
        .unwrap()
        .lines()
        .last()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .unwrap();
    assert_eq!(last["event"], "issuer.stop");
}

// ---------------------------------------------------------------------------------------------
// Status lists filling up
// ---------------------------------------------------------------------------------------------

/// When a status list is full, new MSOs go to the next list; both lists are served and show
/// their own revocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_status_lists_roll_over_to_the_next_list() {
    let env = Env::start(|c| c.status.list_size = 4).await;
    let claims = claims_with_portrait(2048);
    let base = env.stack.base_url.clone();
    let keys_a = [device_key(), device_key(), device_key()];
    let keys_b = [device_key(), device_key(), device_key()];
    let a = env.issue(&claims, &keys_a).await;
    let b = env.issue(&claims, &keys_b).await;
    let c = env.issue(&claims, &[device_key()]).await;
    let list = |n: u64| format!("{base}/v1/status-lists/{n}");
    for (cred, k) in a.credentials.iter().zip(&keys_a) {
        check_credential(&env, cred, &public(k));
        assert_eq!(cred.status_list.uri, list(1));
    }
    for (cred, k) in b.credentials.iter().zip(&keys_b) {
        check_credential(&env, cred, &public(k));
        assert_eq!(cred.status_list.uri, list(2), "a batch stays in one list");
    }
    assert_eq!(c.credentials[0].status_list.uri, list(2));
    let idx = |d: &IssueResponse| -> Vec<u64> {
        d.credentials
            .iter()
            .map(|c| c.status_list.idx.unwrap())
            .collect()
    };
    assert_eq!(idx(&a), vec![0, 1, 2]);
    assert_eq!(idx(&b), vec![0, 1, 2]);
    assert_eq!(idx(&c), vec![3]);

    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/revoke", b.document_id),
            Some(&env.token),
            &json!({"reason": "holder_request"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let anchors = iaca_anchors(&env);
    let r1 = env.send(env.get("/v1/status-lists/1", None)).await;
    assert_eq!(r1.status, StatusCode::OK);
    let l1 =
        StatusListToken::verify(&r1.body, &list(1), now(), &anchors, &SoftwareVerifier).unwrap();
    let r2 = env.send(env.get("/v1/status-lists/2", None)).await;
    assert_eq!(r2.status, StatusCode::OK);
    let l2 =
        StatusListToken::verify(&r2.body, &list(2), now(), &anchors, &SoftwareVerifier).unwrap();
    for i in 0..3 {
        assert_eq!(l1.status(i).unwrap(), mso::status::Status::Valid);
        assert_eq!(l2.status(i).unwrap(), mso::status::Status::Invalid);
    }
    assert_eq!(l2.status(3).unwrap(), mso::status::Status::Valid);
    let r3 = env.send(env.get("/v1/status-lists/3", None)).await;
    assert_eq!(r3.status, StatusCode::NOT_FOUND);
}

/// A batch with more keys than a status list has entries can never be placed. The
/// configuration check must refuse such a configuration, and a service started with it anyway
/// (DevStack does not run the check) must answer with an error — not loop over ever-new lists
/// until the request times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_larger_than_a_status_list_is_refused() {
    let tweak = |c: &mut ServiceConfig| {
        c.status.list_size = 2;
        c.issuance.max_batch = 3;
        c.server.request_timeout_secs = 3;
    };
    let mut fails = Vec::new();
    let mut config = ServiceConfig::default();
    tweak(&mut config);
    if config.check().is_ok() {
        fails.push(
            "ServiceConfig::check accepts status.list_size (2) < issuance.max_batch (3)".into(),
        );
    }

    let env = Env::start(tweak).await;
    let claims = claims_with_portrait(2048);
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key(), device_key(), device_key()]);
    let before = env.counts().await;
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    let code = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
    let answered = matches!(
        (r.status.as_u16(), code.as_deref()),
        (422, Some("invalid_device_key")) | (500, Some("internal_error"))
    );
    if !answered {
        fails.push(format!(
            "3 keys, lists of 2 entries: {} {:?} (expected a JSON 422 invalid_device_key or \
             500 internal_error)",
            r.status,
            r.text()
        ));
    }
    let after = env.counts().await;
    if after.documents != before.documents {
        fails.push("a document was issued".into());
    }
    let lists = env.stack.issuer.store().status_lists().await.unwrap().len();
    if lists > 1 {
        fails.push(format!("the refused batch created {lists} status lists"));
    }
    finish(fails);
}
