//! The CA's ledger (SQLite through sqlx) and its file archive.
//!
//! The database is the source of truth and holds every certificate and CRL as DER. Each
//! ceremony's results are written in one transaction, so a failed or interrupted ceremony leaves
//! nothing behind. The archive (`archive/certs/<serial>.der`, `archive/crls/<number>.crl`) is
//! written from the committed ledger, and [`Ledger::verify_archive`] detects any archived file
//! that was altered, removed or never recorded.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, Sqlite, Transaction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Ledger errors.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database refused an operation.
    #[error("ledger database: {0}")]
    Db(#[from] sqlx::Error),
    /// Schema migration failed.
    #[error("ledger migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Archive I/O.
    #[error("archive {path}: {source}")]
    Io {
        /// File involved.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The archive does not match the ledger.
    #[error("archive mismatch: {0}")]
    Archive(String),
}

type Result<T, E = LedgerError> = core::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// RFC 3339 text of `t` (UTC), as stored in the ledger.
pub fn ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn parse_ts(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRecord {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// "iaca", "ds", "link" or "list_signer".
    pub kind: String,
    /// Subject DN as text.
    pub subject: String,
    /// SHA-256 of the subject public key info.
    pub spki_sha256: String,
    /// Label of the root key that signed it.
    pub signed_by: String,
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// DER.
    pub der: Vec<u8>,
}

/// A ceremony the ledger recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRow {
    /// Row id (what the other rows' `ceremony_id` refer to).
    pub id: i64,
    /// Ceremony kind ("init", "sign-ds", …).
    pub kind: String,
    /// SHA-256 of the reviewed config file.
    pub config_sha256: String,
    /// Terminal that ran it.
    pub terminal_id: String,
    /// Operators and custodians present.
    pub actors: Vec<String>,
    /// Start time (RFC 3339, as stored).
    pub started_at: String,
    /// "success" or "failure".
    pub result: String,
}

/// A root key known to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootKey {
    /// Label (also the PKCS#11 object name or keystore file stem).
    pub label: String,
    /// Key URI.
    pub key_uri: String,
    /// SHA-256 of its SPKI.
    pub spki_sha256: String,
    /// Serial of its self-signed IACA certificate.
    pub cert_serial: String,
    /// "active", "retired" or "compromised".
    pub state: String,
}

/// A CRL the CA issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    /// cRLNumber.
    pub number: i64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Label of the signing root key.
    pub signed_by: String,
    /// DER.
    pub der: Vec<u8>,
}

/// What the ledger knows about a DS public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHistory {
    /// Never seen.
    Unknown,
    /// Already certified (serial).
    Certified(String),
    /// Reported compromised.
    Compromised,
}

/// Everything one ceremony records, committed atomically by [`Ledger::commit`].
#[derive(Debug, Default)]
pub struct CeremonyRecord {
    /// Ceremony kind ("init", "sign-ds", …).
    pub kind: String,
    /// SHA-256 of the reviewed config file.
    pub config_sha256: String,
    /// Terminal that ran it.
    pub terminal_id: String,
    /// Operators and custodians present.
    pub actors: Vec<String>,
    /// Start time.
    pub started_at: Option<OffsetDateTime>,
    /// New root keys.
    pub root_keys: Vec<RootKey>,
    /// Root keys whose state changes (label, new state).
    pub root_key_states: Vec<(String, String)>,
    /// New certificates.
    pub certificates: Vec<CertRecord>,
    /// New revocations (serial, reason, time).
    pub revocations: Vec<(String, String, OffsetDateTime)>,
    /// Newly compromised keys (SPKI SHA-256, note).
    pub compromised: Vec<(String, String)>,
    /// New CRLs.
    pub crls: Vec<CrlRecord>,
    /// Suspend DS signing (reason), or lift a suspension (`Some(None)`).
    pub suspend_ds_signing: Option<Option<String>>,
}

/// The ledger plus archive under one state directory.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: SqlitePool,
    dir: PathBuf,
}

impl Ledger {
    /// Opens (creating if needed) `state_dir/ledger.sqlite` and the archive directories,
    /// applying migrations. Nothing is written to the archive here, so a verification sees it
    /// exactly as found; ceremonies call [`Ledger::export_archive`].
    pub async fn open(state_dir: &Path) -> Result<Self> {
        for sub in ["archive/certs", "archive/crls"] {
            let p = state_dir.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let file = state_dir.join("ledger.sqlite");
        // Owner-only before SQLite creates it (its -wal and -shm files follow suit).
        custody::operator::owner_only_file(&file).map_err(io(&file))?;
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Ledger {
            pool,
            dir: state_dir.to_path_buf(),
        })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The archive path of a certificate.
    pub fn cert_path(&self, serial: &str) -> PathBuf {
        self.dir.join("archive/certs").join(format!("{serial}.der"))
    }

    /// The archive path of a CRL.
    pub fn crl_path(&self, number: i64) -> PathBuf {
        self.dir
            .join("archive/crls")
            .join(format!("{number:08}.crl"))
    }

    /// The active root key, if initialised.
    pub async fn active_root(&self) -> Result<Option<RootKey>> {
        let row = sqlx::query(
            "SELECT label, key_uri, spki_sha256, cert_serial, state FROM root_keys \
             WHERE state = 'active' ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| RootKey {
            label: r.get(0),
            key_uri: r.get(1),
            spki_sha256: r.get(2),
            cert_serial: r.get(3),
            state: r.get(4),
        }))
    }

    /// Every root key ever created, oldest first.
    pub async fn root_keys(&self) -> Result<Vec<RootKey>> {
        let rows = sqlx::query(
            "SELECT label, key_uri, spki_sha256, cert_serial, state FROM root_keys ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RootKey {
                label: r.get(0),
                key_uri: r.get(1),
                spki_sha256: r.get(2),
                cert_serial: r.get(3),
                state: r.get(4),
            })
            .collect())
    }

    /// A certificate by serial.
    pub async fn certificate(&self, serial: &str) -> Result<Option<CertRecord>> {
        let row = sqlx::query(
            "SELECT serial, kind, subject, spki_sha256, signed_by, not_before, not_after, der \
             FROM certificates WHERE serial = ?",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(cert_from_row))
    }

    /// Every certificate, optionally only those signed by root key `label`.
    pub async fn certificates(&self, signed_by: Option<&str>) -> Result<Vec<CertRecord>> {
        let rows = sqlx::query(
            "SELECT serial, kind, subject, spki_sha256, signed_by, not_before, not_after, der \
             FROM certificates WHERE (?1 IS NULL OR signed_by = ?1) ORDER BY rowid",
        )
        .bind(signed_by)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(cert_from_row).collect())
    }

    /// What the ledger knows about a DS key (by SPKI SHA-256).
    pub async fn key_history(&self, spki_sha256: &str) -> Result<KeyHistory> {
        let compromised = sqlx::query("SELECT 1 FROM compromised_keys WHERE spki_sha256 = ?")
            .bind(spki_sha256)
            .fetch_optional(&self.pool)
            .await?;
        if compromised.is_some() {
            return Ok(KeyHistory::Compromised);
        }
        let cert = sqlx::query("SELECT serial FROM certificates WHERE spki_sha256 = ? LIMIT 1")
            .bind(spki_sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(cert.map_or(KeyHistory::Unknown, |r| KeyHistory::Certified(r.get(0))))
    }

    /// Whether `serial` is revoked.
    pub async fn is_revoked(&self, serial: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM revocations WHERE serial = ?")
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Revoked certificates signed by `signed_by` that have not expired by `at` (entries stay
    /// on the CRL until the certificate expires, policy §4.9.7), as (serial hex, revoked at).
    pub async fn crl_entries(
        &self,
        signed_by: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<(String, OffsetDateTime)>> {
        let rows = sqlx::query(
            "SELECT r.serial, r.revoked_at, c.not_after FROM revocations r \
             JOIN certificates c ON c.serial = r.serial WHERE c.signed_by = ? ORDER BY r.revoked_at",
        )
        .bind(signed_by)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| parse_ts(r.get::<String, _>(2).as_str()) >= at)
            .map(|r| (r.get(0), parse_ts(r.get::<String, _>(1).as_str())))
            .collect())
    }

    /// What the database itself can tell is wrong with the ledger: rows whose references
    /// point nowhere (`PRAGMA foreign_key_check`: a deleted ceremony, a revocation of an unknown
    /// certificate) and certificates whose stored digest is not that of their DER.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for r in sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&self.pool)
            .await?
        {
            let table: String = r.get(0);
            let rowid: Option<i64> = r.try_get(1).ok();
            let parent: String = r.get(2);
            out.push(format!(
                "a row of {table} (rowid {}) refers to a missing row of {parent}",
                rowid.map_or_else(|| "-".into(), |n| n.to_string())
            ));
        }
        for r in sqlx::query("SELECT serial, sha256, der FROM certificates")
            .fetch_all(&self.pool)
            .await?
        {
            let (serial, stored, der): (String, String, Vec<u8>) = (r.get(0), r.get(1), r.get(2));
            if stored != sha256_hex(&der) {
                out.push(format!(
                    "certificate {serial}: the stored digest is not that of its DER"
                ));
            }
        }
        Ok(out)
    }

    /// Every ceremony, by id. Actors that are not a JSON list of ids read as none.
    pub async fn ceremonies(&self) -> Result<Vec<CeremonyRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, config_sha256, terminal_id, actors, started_at, result \
             FROM ceremonies ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CeremonyRow {
                id: r.get(0),
                kind: r.get(1),
                config_sha256: r.get(2),
                terminal_id: r.get(3),
                actors: serde_json::from_str(r.get::<String, _>(4).as_str()).unwrap_or_default(),
                started_at: r.get(5),
                result: r.get(6),
            })
            .collect())
    }

    /// Every revocation, as (serial hex, revoked at).
    pub async fn revocations(&self) -> Result<Vec<(String, OffsetDateTime)>> {
        let rows = sqlx::query("SELECT serial, revoked_at FROM revocations ORDER BY serial")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), parse_ts(r.get::<String, _>(1).as_str())))
            .collect())
    }

    /// The next CRL number: one more than any number ever issued.
    pub async fn next_crl_number(&self) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(number) FROM crls")
            .fetch_one(&self.pool)
            .await?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Every CRL issued, by number.
    pub async fn crls(&self) -> Result<Vec<CrlRecord>> {
        let rows = sqlx::query(
            "SELECT number, this_update, next_update, signed_by, der FROM crls ORDER BY number",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CrlRecord {
                number: r.get(0),
                this_update: parse_ts(r.get::<String, _>(1).as_str()),
                next_update: parse_ts(r.get::<String, _>(2).as_str()),
                signed_by: r.get(3),
                der: r.get(4),
            })
            .collect())
    }

    /// The reason DS signing is suspended, if it is.
    pub async fn ds_signing_suspended(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT reason FROM ds_signing_suspended WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Writes a ceremony's results in one transaction, then archives the new files.
    pub async fn commit(&self, rec: &CeremonyRecord, result: &str) -> Result<i64> {
        let now = OffsetDateTime::now_utc();
        let mut tx: Transaction<'_, Sqlite> = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ceremonies (kind, config_sha256, terminal_id, actors, started_at, finished_at, result) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&rec.kind)
        .bind(&rec.config_sha256)
        .bind(&rec.terminal_id)
        .bind(serde_json::to_string(&rec.actors).unwrap_or_default())
        .bind(ts(rec.started_at.unwrap_or(now)))
        .bind(ts(now))
        .bind(result)
        .fetch_one(&mut *tx)
        .await?;
        for c in &rec.certificates {
            sqlx::query(
                "INSERT INTO certificates (serial, kind, subject, spki_sha256, signed_by, not_before, not_after, sha256, der, ceremony_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&c.serial)
            .bind(&c.kind)
            .bind(&c.subject)
            .bind(&c.spki_sha256)
            .bind(&c.signed_by)
            .bind(ts(c.not_before))
            .bind(ts(c.not_after))
            .bind(sha256_hex(&c.der))
            .bind(&c.der)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for k in &rec.root_keys {
            sqlx::query(
                "INSERT INTO root_keys (label, key_uri, spki_sha256, cert_serial, state, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&k.label)
            .bind(&k.key_uri)
            .bind(&k.spki_sha256)
            .bind(&k.cert_serial)
            .bind(&k.state)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        for (label, state) in &rec.root_key_states {
            sqlx::query("UPDATE root_keys SET state = ? WHERE label = ?")
                .bind(state)
                .bind(label)
                .execute(&mut *tx)
                .await?;
        }
        for (serial, reason, at) in &rec.revocations {
            sqlx::query(
                "INSERT INTO revocations (serial, revoked_at, reason, ceremony_id) VALUES (?, ?, ?, ?)",
            )
            .bind(serial)
            .bind(ts(*at))
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for (spki, note) in &rec.compromised {
            sqlx::query(
                "INSERT OR IGNORE INTO compromised_keys (spki_sha256, reported_at, note) VALUES (?, ?, ?)",
            )
            .bind(spki)
            .bind(ts(now))
            .bind(note)
            .execute(&mut *tx)
            .await?;
        }
        for crl in &rec.crls {
            sqlx::query(
                "INSERT INTO crls (number, this_update, next_update, signed_by, sha256, der, ceremony_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(crl.number)
            .bind(ts(crl.this_update))
            .bind(ts(crl.next_update))
            .bind(&crl.signed_by)
            .bind(sha256_hex(&crl.der))
            .bind(&crl.der)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        match &rec.suspend_ds_signing {
            Some(Some(reason)) => {
                sqlx::query(
                    "INSERT OR REPLACE INTO ds_signing_suspended (id, since, reason) VALUES (1, ?, ?)",
                )
                .bind(ts(now))
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            }
            Some(None) => {
                sqlx::query("DELETE FROM ds_signing_suspended")
                    .execute(&mut *tx)
                    .await?;
            }
            None => {}
        }
        tx.commit().await?;
        // Only what this ceremony added: a refusal on an altered ledger must not archive rows
        // someone else slipped in.
        for c in &rec.certificates {
            write_once(&self.cert_path(&c.serial), &c.der)?;
        }
        for crl in &rec.crls {
            write_once(&self.crl_path(crl.number), &crl.der)?;
        }
        Ok(id)
    }

    /// Records a refused ceremony (nothing else changes).
    pub async fn record_refusal(&self, rec: &CeremonyRecord) -> Result<i64> {
        let refusal = CeremonyRecord {
            kind: rec.kind.clone(),
            config_sha256: rec.config_sha256.clone(),
            terminal_id: rec.terminal_id.clone(),
            actors: rec.actors.clone(),
            started_at: rec.started_at,
            ..CeremonyRecord::default()
        };
        self.commit(&refusal, "failure").await
    }

    /// Writes every ledger certificate and CRL that is missing from the archive (after a crash
    /// between a commit and its archive write). Existing files are never rewritten.
    pub async fn export_archive(&self) -> Result<()> {
        for c in self.certificates(None).await? {
            write_once(&self.cert_path(&c.serial), &c.der)?;
        }
        for crl in self.crls().await? {
            write_once(&self.crl_path(crl.number), &crl.der)?;
        }
        Ok(())
    }

    /// Checks that every archived file matches the ledger byte for byte, that none is missing
    /// and that the archive holds nothing the ledger does not know.
    pub async fn verify_archive(&self) -> Result<usize> {
        let mut expected = std::collections::BTreeMap::new();
        for c in self.certificates(None).await? {
            expected.insert(self.cert_path(&c.serial), c.der);
        }
        for crl in self.crls().await? {
            expected.insert(self.crl_path(crl.number), crl.der);
        }
        for (path, der) in &expected {
            let found = std::fs::read(path)
                .map_err(|_| LedgerError::Archive(format!("{} is missing", path.display())))?;
            if &found != der {
                return Err(LedgerError::Archive(format!(
                    "{} differs from the ledger (sha256 {} != {})",
                    path.display(),
                    sha256_hex(&found),
                    sha256_hex(der)
                )));
            }
        }
        for sub in ["archive/certs", "archive/crls"] {
            let dir = self.dir.join(sub);
            for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
                let path = entry.map_err(io(&dir))?.path();
                if !expected.contains_key(&path) {
                    return Err(LedgerError::Archive(format!(
                        "{} is not in the ledger",
                        path.display()
                    )));
                }
            }
        }
        Ok(expected.len())
    }
}

fn cert_from_row(r: sqlx::sqlite::SqliteRow) -> CertRecord {
    CertRecord {
        serial: r.get(0),
        kind: r.get(1),
        subject: r.get(2),
        spki_sha256: r.get(3),
        signed_by: r.get(4),
        not_before: parse_ts(r.get::<String, _>(5).as_str()),
        not_after: parse_ts(r.get::<String, _>(6).as_str()),
        der: r.get(7),
    }
}

/// Writes `bytes` to `path` atomically unless the file exists (archived files never change).
fn write_once(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
