//! The DTS's storage: a SQLite file by default, PostgreSQL (`postgres://`) when several
//! replicas share state. One SQL text for both through sqlx's `Any` driver; the two migration
//! directories differ only in column types.
//!
//! # Atomicity
//!
//! An ingest is one transaction whose first statement updates the single `write_lock` row:
//! on SQLite that takes the database write lock before anything is read (so the checks and
//! the writes see one state, and a concurrent `mdoc-dts ingest` waits instead of failing); on
//! PostgreSQL it takes a row lock that serialises ingests across replicas, and every later
//! read sees what the previous ingest committed. The state is read, checked and extended
//! inside that transaction, so a refused or interrupted ingest leaves nothing behind.

mod model;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use time::OffsetDateTime;

pub use model::{
    sha256_hex, CrlNumberHex, CrlRecord, IngestRecord, LinkRecord, RootRecord, State, VicalRecord,
};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value is not what this code wrote.
    #[error("corrupt stored {0}")]
    Corrupt(&'static str),
    /// The URL names no supported database.
    #[error("unsupported database URL (sqlite: path or postgres://)")]
    UnsupportedUrl,
}

/// Results of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static DRIVERS: Once = Once::new();

impl Store {
    /// Opens (creating a SQLite file if missing, mode 0600) and migrates the database `url`
    /// names: `postgres://…`, `sqlite:…` or a file path.
    pub async fn open(url: &str) -> Result<Store> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            (Backend::Sqlite, sqlite_url(path)?)
        } else if url.contains("://") || url.is_empty() {
            return Err(StoreError::UnsupportedUrl);
        } else {
            (Backend::Sqlite, sqlite_url(url)?)
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let mut pool = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            pool = pool.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    // Durable commits and writers that queue rather than fail.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 30000",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        } else {
            pool = pool.max_connections(8);
        }
        let pool = pool.connect_with(options).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A number that changes whenever what is published changes (an accepted ingest or a new
    /// VICAL): replicas poll it to know when to rebuild.
    pub async fn generation(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM ingests WHERE outcome = 'accepted'), \
                    (SELECT COALESCE(MAX(issue_id), 0) FROM vicals)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Everything published, without CRL bytes.
    pub async fn state(&self) -> Result<State> {
        let mut conn = self.pool.acquire().await?;
        model::load_state(&mut conn).await
    }

    /// A CRL's DER.
    pub async fn crl_der(&self, root: &str, number: &CrlNumberHex) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT der FROM crls WHERE root = $1 AND number = $2")
            .bind(root)
            .bind(number.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Every ingest attempt, oldest first.
    pub async fn ingests(&self) -> Result<Vec<IngestRecord>> {
        let mut conn = self.pool.acquire().await?;
        model::load_ingests(&mut conn).await
    }

    /// Runs `f` inside the write transaction (see the module documentation): `f` gets the
    /// current state and the connection; its error rolls everything back.
    pub async fn write<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
        F: for<'c> FnOnce(
            &'c mut AnyConnection,
            State,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = std::result::Result<T, E>> + Send + 'c>,
        >,
    {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
        let mut tx = conn.begin().await.map_err(StoreError::from)?;
        sqlx::query("UPDATE write_lock SET n = n + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let state = model::load_state(&mut tx).await?;
        let out = f(&mut tx, state).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(out)
    }

    /// Records a refused ingest (its own small transaction: nothing else is written).
    pub async fn record_refusal(
        &self,
        at: OffsetDateTime,
        source: &str,
        actor: &str,
        bundle_sha256: &str,
        code: &str,
        detail: &str,
    ) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::query("UPDATE write_lock SET n = n + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let id = model::insert_ingest(
            &mut tx,
            at,
            source,
            actor,
            bundle_sha256,
            &format!("refused:{code}"),
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A `sqlite://` URL for `path`, creating the file with mode 0600 first so the database is
/// never world-readable.
fn sqlite_url(path: &str) -> Result<String> {
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok("sqlite::memory:".into());
    }
    custody::operator::owner_only_file(std::path::Path::new(path))
        .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
    Ok(format!("sqlite://{path}?mode=rwc"))
}

pub(crate) use model::{insert_crl, insert_ingest, insert_link, insert_root, insert_vical};
