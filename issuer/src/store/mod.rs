//! The issuer's storage layer, through sqlx: a SQLite file by default, PostgreSQL when given a
//! `postgres://` URL.
//!
//! # What is stored
//!
//! Only what revocation, audit and refresh need (policy §9.4): documents (id, doctype, state,
//! revocation time and reason, and an HMAC of the applicant record — never the record itself),
//! their MSOs (DS serial, status-list index, identifier-list identifier, device-key thumbprint,
//! validity), status-list index allocation, DS certificates, API clients (credential stored as
//! a SHA-256 hash) and idempotency records.
//!
//! # Backends
//!
//! Both backends share one schema (`migrations/sqlite`, `migrations/postgres`, identical but
//! for `BLOB`/`BYTEA` and the MSO row id) and the same SQL text: `$N` placeholders, `ON
//! CONFLICT` upserts and `RETURNING` work on both. Times are stored as Unix seconds.
//!
//! The hot writes are shaped per backend, with the same statements and outcomes: on SQLite one
//! task group-commits one-MSO issuances, code exchanges and DPoP `jti`s (`sqlite_batch`); on
//! PostgreSQL a one-MSO issuance is one call of the `record_one_issuance` function
//! (`migrations/postgres/0009`) and a successful code exchange one `UPDATE`, each a single
//! round trip and commit, whose WAL flushes concurrent commits share.
//!
//! # Atomicity and concurrency
//!
//! Every multi-statement operation runs in one transaction. On SQLite write transactions start
//! with `BEGIN IMMEDIATE`, so concurrent writers queue on the database lock (busy timeout)
//! instead of failing on a lock upgrade. On PostgreSQL (READ COMMITTED) each write transaction
//! starts with a statement that takes the relevant row lock — the idempotency-record insert,
//! or the `UPDATE` of the row being changed — so concurrent retries of one request serialise on
//! that row. Status-list indices are allocated by a single atomic upsert.
//!
//! # API client credentials
//!
//! A client token is 256 bits from the OS RNG. It is stored as its SHA-256, not Argon2id:
//! Argon2id exists to slow down guessing of low-entropy passwords, but a 256-bit random token
//! cannot be guessed whatever the hash, so a fast hash loses nothing — and it allows an indexed
//! lookup by hash and costs microseconds per request instead of tens of milliseconds (the
//! service must sustain over 1,000 authenticated requests per second on two cores). The fetched
//! hash is compared to the computed one in constant time.

mod authorizations;
mod clients;
mod error;
mod issuance;
mod model;
mod offers;
mod revocation;
mod since;
mod sqlite_batch;
mod suspension;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;

pub use authorizations::{ApprovedOffer, Authorization, AuthorizationStatus, NewAuthorization};
pub use error::{Result, StoreError};
pub(crate) use model::random_bytes;
pub use model::{
    applicant_ref, ApiToken, Client, Document, DocumentId, DocumentState, DsCertificate, DsState,
    Idempotency, IssuanceRecord, MsoRecord, NewDocument, OfferIssued, OutcomeKind, RecordOutcome,
    RevocationReason, Scope, StoredMso, StoredResponse, UsedNonce,
};
pub use offers::{NewOffer, NewToken, Offer, OfferState, Redemption};
pub use since::MsoRow;
pub use suspension::Suspension;

/// Runs `$body` once per backend with `$pool` bound to the concrete pool (on SQLite, the
/// single writer connection).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pools {
            $crate::store::Pools::Sqlite { write: $pool, .. } => $body,
            $crate::store::Pools::Postgres($pool) => $body,
        }
    };
}

/// Like `on_pool!` for read-only statements: on SQLite they use the reader connections, which
/// WAL mode lets run beside the writer.
macro_rules! on_read_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pools {
            $crate::store::Pools::Sqlite { read: $pool, .. } => $body,
            $crate::store::Pools::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a write transaction bound to `$tx`, committing if it finishes. An early
/// `return` or `?` inside the body drops the transaction, which rolls it back.
macro_rules! in_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.pools {
            $crate::store::Pools::Sqlite { write: pool, .. } => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::store::Pools::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

pub(crate) use {in_tx, on_pool, on_read_pool};

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite {
        /// The one writer connection.
        write: SqlitePool,
        /// Read-only connections.
        read: SqlitePool,
        /// The group-commit writer of one-MSO issuances (through `write`).
        issuances: sqlite_batch::IssuanceBatcher,
    },
    Postgres(PgPool),
}

/// The issuer's database. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pools: Pools,
}

/// Which database a [`Store`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Store {
    /// Opens the database named by `url` and applies the migrations.
    ///
    /// `postgres://` or `postgresql://` URLs select PostgreSQL (URL parameters such as
    /// `options=-csearch_path%3Dmy_schema` are honoured). `sqlite:` URLs and bare file paths
    /// select SQLite; the file is created if missing and opened in WAL mode with
    /// `synchronous=FULL`, so a committed issuance survives power loss.
    pub async fn open(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Store {
                pools: Pools::Postgres(pool),
            })
        } else {
            let options = if url.starts_with("sqlite:") {
                SqliteConnectOptions::from_str(url)?
            } else if url.contains("://") || url.is_empty() {
                return Err(StoreError::UnsupportedUrl);
            } else {
                SqliteConnectOptions::new().filename(url)
            };
            let file = options.get_filename();
            if file != std::path::Path::new(":memory:") && !file.as_os_str().is_empty() {
                // Owner-only before SQLite creates it (its -wal and -shm files follow suit).
                custody::operator::owner_only_file(file).map_err(sqlx::Error::Io)?;
            }
            let options = options
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                // Sub-journals (the issuance batch's savepoints) in memory, not in temporary
                // files: they only serve a rollback inside the live transaction, never
                // recovery, and written to a file they cost a `pwrite` per page.
                .pragma("temp_store", "memory");
            // One connection: SQLite has one writer at a time anyway, and writers queueing on
            // the pool (async, FIFO) is far faster than writers contending for the database
            // lock (SQLite's busy handler sleeps in millisecond steps). Reads are microseconds.
            // No ping before each acquire: an SQLite connection is a file in this process,
            // and sqlx's ping is only a round trip to the connection's worker thread (two
            // context switches) that cannot find anything the statement itself would not.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.read_only(true))
                .await?;
            let issuances = sqlite_batch::IssuanceBatcher::start(write.clone());
            Ok(Store {
                pools: Pools::Sqlite {
                    write,
                    read,
                    issuances,
                },
            })
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks that the database answers (for readiness probes).
    pub async fn ping(&self) -> Result<()> {
        on_read_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Every `(table, column)` of the store's schema, sorted — for compliance checks that no
    /// personal-data column exists.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> =
            match &self.pools {
                Pools::Sqlite { read: pool, .. } => {
                    sqlx::query_as(
                        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                    )
                    .fetch_all(pool)
                    .await?
                }
                Pools::Postgres(pool) => sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema()",
                )
                .fetch_all(pool)
                .await?,
            };
        out.sort();
        Ok(out)
    }
}

/// Unix seconds of `t`.
pub(crate) fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// The time for stored Unix seconds.
pub(crate) fn from_secs(s: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|_| StoreError::Corrupt("timestamp"))
}

/// A stored non-negative integer as `u64`.
pub(crate) fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("negative index"))
}

/// A `u64` for storage.
pub(crate) fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid("integer too large"))
}

/// Stored bytes as a fixed-size array.
pub(crate) fn to_array<const N: usize>(v: Vec<u8>, what: &'static str) -> Result<[u8; N]> {
    v.try_into().map_err(|_| StoreError::Corrupt(what))
}
