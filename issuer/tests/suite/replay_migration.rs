//! Idempotent replays survive migration 0004 byte for byte, on SQLite and on PostgreSQL.
//!
//! `fixtures/replay_0003.json` holds what the schema-0003 code stored and answered (see
//! `fixtures/README.md`): three requests sent with an `Idempotency-Key`, the first answer to
//! each, and every table row afterwards. Each test loads those rows into a database migrated to
//! 0003 only, exactly as that code stored them, lets the issuer apply the later migrations on
//! start, and retries every request over HTTP: the answer must be the stored status and body
//! bytes, marked as a replay. A record with a status the old code never wrote must stop the
//! migration instead of being given a guessed kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::borrow::Cow;
use std::path::Path;

use custody::softstore::KdfParams;
use mdoc_issuer::config::{KeystoreSection, ServiceConfig};
use mdoc_issuer::ds::{DsKeys, KeystoreConfig};
use mdoc_issuer::engine::ServerSecret;
use mdoc_issuer::server;
use mdoc_issuer::store::Store;
use rand_core::{OsRng, RngCore};
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::Connection;
use time::OffsetDateTime;
use zeroize::Zeroizing;

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const FIXTURE: &str = include_str!("../fixtures/replay_0003.json");
/// The last migration the fixture's code knew.
const FIXTURE_SCHEMA: i64 = 3;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// The migrations up to version `last` only.
fn up_to(mut m: Migrator, last: i64) -> Migrator {
    let kept: Vec<_> = m
        .migrations
        .iter()
        .filter(|x| x.version <= last)
        .cloned()
        .collect();
    m.migrations = Cow::Owned(kept);
    m
}

/// A database at an older schema (0003 for the fixture's rows).
pub(crate) enum OldDb {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

/// One fixture value bound to a query of either backend.
macro_rules! bind_value {
    ($q:expr, $kind:expr, $v:expr) => {
        match $kind {
            "int" => $q.bind($v.as_i64()),
            "bool" => $q.bind($v.as_bool()),
            "text" => $q.bind($v.as_str().map(str::to_owned)),
            "blob" => $q.bind($v.as_str().map(|h| hex::decode(h).unwrap())),
            other => panic!("unknown column kind {other}"),
        }
    };
}

impl OldDb {
    /// The database at `url`, migrated up to version `last` only.
    pub(crate) async fn open(url: &str, last: i64) -> OldDb {
        if url.starts_with("postgres") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .unwrap();
            up_to(sqlx::migrate!("./migrations/postgres"), last)
                .run(&pool)
                .await
                .unwrap();
            OldDb::Pg(pool)
        } else {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(url)
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            up_to(sqlx::migrate!("./migrations/sqlite"), last)
                .run(&pool)
                .await
                .unwrap();
            OldDb::Sqlite(pool)
        }
    }

    /// Inserts every fixture row as the old code stored it. Only the idempotency records'
    /// expiry moves (an hour from now), so that they can still be replayed: it is not part of
    /// any answer. MSO row ids are left to the database (PostgreSQL generates them).
    async fn load(&self, fixture: &Value) {
        let expires = OffsetDateTime::now_utc().unix_timestamp() + 3600;
        for table in fixture["tables"].as_array().unwrap() {
            let name = text(&table["table"]);
            let columns: Vec<(&str, &str)> = table["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (text(&c[0]), text(&c[1])))
                .collect();
            let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
            let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {name} ({}) VALUES ({})",
                names.join(", "),
                params.join(", ")
            );
            for row in table["rows"].as_array().unwrap() {
                let mut row = row.as_array().unwrap().clone();
                if name == "idempotency" {
                    let at = names.iter().position(|n| *n == "expires_at").unwrap();
                    row[at] = Value::from(expires);
                }
                match self {
                    OldDb::Sqlite(pool) => {
                        let mut q = sqlx::query(&sql);
                        for ((_, kind), v) in columns.iter().zip(&row) {
                            q = bind_value!(q, *kind, v);
                        }
                        q.execute(pool).await.unwrap();
                    }
                    OldDb::Pg(pool) => {
                        let mut q = sqlx::query(&sql);
                        for ((_, kind), v) in columns.iter().zip(&row) {
                            q = bind_value!(q, *kind, v);
                        }
                        q.execute(pool).await.unwrap();
                    }
                }
            }
        }
    }

    async fn execute(&self, sql: &str) {
        match self {
            OldDb::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            OldDb::Pg(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }

    /// `(idem_key, response_kind)` of every idempotency record, by key.
    async fn kinds(&self) -> Vec<(String, String)> {
        let sql = "SELECT idem_key, response_kind FROM idempotency ORDER BY idem_key";
        match self {
            OldDb::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
            OldDb::Pg(p) => sqlx::query_as(sql).fetch_all(p).await,
        }
        .unwrap()
    }

    /// The applied migration versions.
    async fn versions(&self) -> Vec<i64> {
        let sql = "SELECT version FROM _sqlx_migrations ORDER BY version";
        match self {
            OldDb::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
            OldDb::Pg(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .unwrap()
    }

    pub(crate) async fn close(&self) {
        match self {
            OldDb::Sqlite(p) => p.close().await,
            OldDb::Pg(p) => p.close().await,
        }
    }
}

/// Runs `f(url)` against a SQLite file in a temporary directory.
pub(crate) async fn on_sqlite<F, Fut>(f: F)
where
    F: FnOnce(String, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("issuer.sqlite").display().to_string();
    f(url, dir.path().to_path_buf()).await;
}

/// Runs `f(url)` against PostgreSQL in a fresh schema, dropped afterwards.
pub(crate) async fn on_postgres<F, Fut>(f: F)
where
    F: FnOnce(String, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let base = std::env::var("ISSUER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => panic!(
            "the PostgreSQL migration test needs a server: cannot connect to {base}: {e}. \
             Start PostgreSQL or set ISSUER_TEST_POSTGRES_URL."
        ),
    };
    let mut raw = [0u8; 8];
    OsRng.fill_bytes(&mut raw);
    let schema = format!("m_{}", hex::encode(raw));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let result = tokio::spawn(f(url, dir.path().to_path_buf())).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The issuer on loopback over `url`, configured as the fixture's issuer was (its public URL
/// is in every answer), with an empty keystore: a replay signs nothing.
async fn start_issuer(
    fixture: &Value,
    url: &str,
    dir: &Path,
) -> (std::sync::Arc<mdoc_issuer::engine::Issuer>, server::Running) {
    let iaca = dir.join("iaca.der");
    std::fs::write(&iaca, hex::decode(text(&fixture["iaca_der"])).unwrap()).unwrap();
    let mut config = ServiceConfig::default();
    config.database.url = url.to_owned();
    config.server.public_url = text(&fixture["public_url"]).to_owned();
    config.keystore = KeystoreSection::DevFile {
        dir: dir.join("ds-keys"),
        secret_env: "unused".into(),
    };
    config.trust.iaca = vec![iaca];
    config.audit.path = dir.join("audit.log");
    std::fs::create_dir_all(dir.join("ds-keys")).unwrap();
    let keys = DsKeys::open(KeystoreConfig::DevFile {
        dir: dir.join("ds-keys"),
        secret: Zeroizing::new(b"no key is opened".to_vec()),
        kdf: KdfParams::new(8, 1, 1).unwrap(),
    })
    .unwrap();
    let secret = ServerSecret::new(text(&fixture["server_secret"]).as_bytes().to_vec()).unwrap();
    let issuer = server::build_with(config, keys, secret).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = server::start(std::sync::Arc::clone(&issuer), listener)
        .await
        .unwrap();
    (issuer, running)
}

/// Migrates the fixture's database to the current schema through the issuer's start-up and
/// retries every recorded request: same status, same bytes, marked as a replay.
async fn replays_are_unchanged(url: String, dir: std::path::PathBuf) {
    let fixture = fixture();
    let old = OldDb::open(&url, FIXTURE_SCHEMA).await;
    old.load(&fixture).await;
    assert_eq!(old.versions().await, vec![1, 2, 3]);

    let (issuer, running) = start_issuer(&fixture, &url, &dir).await;
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let exchanges = fixture["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 3);
    for x in exchanges {
        let name = text(&x["name"]);
        let r = http
            .post(format!("{base}{}", text(&x["path"])))
            .bearer_auth(text(&fixture["api_token"]))
            .header("content-type", "application/json")
            .header("Idempotency-Key", text(&x["idempotency_key"]))
            .body(text(&x["request_body"]).as_bytes().to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        assert_eq!(
            i64::from(status),
            x["status"].as_i64().unwrap(),
            "{name}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            headers
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true"),
            "{name}: a replay"
        );
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{name}"
        );
        assert!(
            body.as_ref() == text(&x["body"]).as_bytes(),
            "{name}: the replay differs from the first answer"
        );
    }
    running.shutdown().await.unwrap();
    issuer.store().close().await;

    // 201 meant a new issuance and 200 a refresh.
    // Every later migration of the backend was applied on start.
    let all = match &old {
        OldDb::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        OldDb::Pg(_) => sqlx::migrate!("./migrations/postgres"),
    };
    let all: Vec<i64> = all.migrations.iter().map(|m| m.version).collect();
    assert!(all.len() > 3, "later migrations exist: {all:?}");
    assert_eq!(old.versions().await, all);
    assert_eq!(
        old.kinds().await,
        vec![
            ("fixture-batch".to_owned(), "issued".to_owned()),
            ("fixture-issue".to_owned(), "issued".to_owned()),
            ("fixture-refresh".to_owned(), "refreshed".to_owned()),
        ]
    );
    old.close().await;
}

/// A stored status the old code never wrote stops the migration, which changes nothing.
async fn unknown_status_fails_the_migration(url: String, _dir: std::path::PathBuf) {
    let fixture = fixture();
    let old = OldDb::open(&url, FIXTURE_SCHEMA).await;
    old.load(&fixture).await;
    old.execute("UPDATE idempotency SET response_status = 202 WHERE idem_key = 'fixture-batch'")
        .await;
    let err = Store::open(&url).await.unwrap_err().to_string();
    assert!(err.contains("migration 0004"), "{err}");
    assert!(err.contains("response_status"), "{err}");
    assert_eq!(old.versions().await, vec![1, 2, 3], "0004 was rolled back");
    let statuses: Vec<i64> = match &old {
        OldDb::Sqlite(p) => {
            sqlx::query_scalar("SELECT response_status FROM idempotency ORDER BY idem_key")
                .fetch_all(p)
                .await
        }
        OldDb::Pg(p) => {
            sqlx::query_scalar("SELECT response_status FROM idempotency ORDER BY idem_key")
                .fetch_all(p)
                .await
        }
    }
    .unwrap();
    assert_eq!(statuses, vec![202, 201, 200], "the old column is untouched");
    old.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_unchanged_sqlite() {
    on_sqlite(replays_are_unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_unchanged_postgres() {
    on_postgres(replays_are_unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_status_fails_the_migration_sqlite() {
    on_sqlite(unknown_status_fails_the_migration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_status_fails_the_migration_postgres() {
    on_postgres(unknown_status_fails_the_migration).await;
}
