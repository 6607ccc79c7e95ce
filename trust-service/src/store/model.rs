//! What the store holds, and the statements that read and write it.

use mso::x509::Certificate;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::{Result, StoreError};

/// A cRLNumber as 40 lower-case hex digits (20 octets, the RFC 5280 maximum), so that text
/// order is number order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrlNumberHex(String);

impl CrlNumberHex {
    /// From the number's big-endian bytes; `None` above 20 octets.
    pub fn from_be_bytes(bytes: &[u8]) -> Option<Self> {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let magnitude = bytes.get(first..)?;
        (magnitude.len() <= 20).then(|| CrlNumberHex(format!("{:0>40}", hex::encode(magnitude))))
    }

    fn from_stored(s: String) -> Result<Self> {
        if s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(CrlNumberHex(s))
        } else {
            Err(StoreError::Corrupt("CRL number"))
        }
    }

    /// The 40-digit form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number without leading zeros, as hex (`0x` not included): how people read it.
    pub fn short(&self) -> &str {
        let s = self.0.trim_start_matches('0');
        if s.is_empty() {
            "0"
        } else {
            s
        }
    }

    /// The value, when it fits in 128 bits.
    pub fn to_u128(&self) -> Option<u128> {
        u128::from_str_radix(self.short(), 16).ok()
    }
}

/// A published root (self-signed IACA).
#[derive(Debug, Clone)]
pub struct RootRecord {
    /// SHA-256 of the DER, hex.
    pub fingerprint: String,
    /// The certificate.
    pub certificate: Certificate,
    /// Its CRLDistributionPoints URI: where its CRL is served.
    pub crl_url: String,
    /// Whether its fingerprint was pinned when it was accepted.
    pub pinned: bool,
    /// The link certificate through which it was accepted, if not pinned.
    pub via_link: Option<String>,
    /// When it was ingested.
    pub added_at: OffsetDateTime,
}

/// A published link certificate.
#[derive(Debug, Clone)]
pub struct LinkRecord {
    /// SHA-256 of the DER, hex.
    pub fingerprint: String,
    /// The certificate.
    pub certificate: Certificate,
    /// The root that signed it.
    pub issuer_root: String,
    /// The root whose name and key it certifies.
    pub subject_root: String,
    /// When it was ingested.
    pub added_at: OffsetDateTime,
}

/// A held CRL (its DER is loaded on demand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    /// The root that signed it.
    pub root: String,
    /// Its cRLNumber.
    pub number: CrlNumberHex,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Number of revoked entries.
    pub entries: u64,
    /// When it was ingested.
    pub added_at: OffsetDateTime,
}

impl CrlRecord {
    /// When it can first be served: its thisUpdate, or its ingest if later.
    pub fn publishable_from(&self) -> OffsetDateTime {
        self.this_update.max(self.added_at)
    }
}

/// A signed VICAL.
#[derive(Debug, Clone)]
pub struct VicalRecord {
    /// vicalIssueID.
    pub issue_id: u64,
    /// Its date.
    pub date: OffsetDateTime,
    /// Its nextUpdate.
    pub next_update: OffsetDateTime,
    /// The fingerprints of the IACAs listed.
    pub roots: Vec<String>,
    /// The COSE_Sign1.
    pub bytes: Vec<u8>,
}

/// One ingest attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestRecord {
    /// Its id.
    pub id: i64,
    /// When.
    pub at: OffsetDateTime,
    /// `cli:<dir name>` or `upload`.
    pub source: String,
    /// Who.
    pub actor: String,
    /// SHA-256 of the bundle's manifest (empty when it had none).
    pub bundle_sha256: String,
    /// `accepted` or `refused:<code>`.
    pub outcome: String,
    /// What was added, or why it was refused.
    pub detail: String,
}

/// Everything published.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Roots, oldest first.
    pub roots: Vec<RootRecord>,
    /// Link certificates, oldest first.
    pub links: Vec<LinkRecord>,
    /// CRLs by root, then number.
    pub crls: Vec<CrlRecord>,
    /// The latest VICAL.
    pub vical: Option<VicalRecord>,
}

impl State {
    /// The root with this fingerprint.
    pub fn root(&self, fingerprint: &str) -> Option<&RootRecord> {
        self.roots.iter().find(|r| r.fingerprint == fingerprint)
    }

    /// The CRLs of one root, by number.
    pub fn crls_of<'s>(&'s self, root: &str) -> impl Iterator<Item = &'s CrlRecord> + 's {
        let root = root.to_owned();
        self.crls.iter().filter(move |c| c.root == root)
    }
}

/// SHA-256 hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn time(s: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|_| StoreError::Corrupt("timestamp"))
}

fn certificate(der: &[u8]) -> Result<Certificate> {
    Certificate::from_der(der).map_err(|_| StoreError::Corrupt("certificate"))
}

pub(crate) async fn load_state(conn: &mut AnyConnection) -> Result<State> {
    let mut state = State::default();
    for row in sqlx::query(
        "SELECT fingerprint, der, crl_url, pinned, via_link, added_at FROM roots \
         ORDER BY added_at, fingerprint",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let der: Vec<u8> = row.try_get(1)?;
        state.roots.push(RootRecord {
            fingerprint: row.try_get(0)?,
            certificate: certificate(&der)?,
            crl_url: row.try_get(2)?,
            pinned: row.try_get::<i64, _>(3)? != 0,
            via_link: row.try_get(4)?,
            added_at: time(row.try_get(5)?)?,
        });
    }
    for row in sqlx::query(
        "SELECT fingerprint, der, issuer_root, subject_root, added_at FROM links \
         ORDER BY added_at, fingerprint",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let der: Vec<u8> = row.try_get(1)?;
        state.links.push(LinkRecord {
            fingerprint: row.try_get(0)?,
            certificate: certificate(&der)?,
            issuer_root: row.try_get(2)?,
            subject_root: row.try_get(3)?,
            added_at: time(row.try_get(4)?)?,
        });
    }
    for row in sqlx::query(
        "SELECT root, number, sha256, this_update, next_update, entries, added_at FROM crls \
         ORDER BY root, number",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        state.crls.push(CrlRecord {
            root: row.try_get(0)?,
            number: CrlNumberHex::from_stored(row.try_get(1)?)?,
            sha256: row.try_get(2)?,
            this_update: time(row.try_get(3)?)?,
            next_update: time(row.try_get(4)?)?,
            entries: u64::try_from(row.try_get::<i64, _>(5)?)
                .map_err(|_| StoreError::Corrupt("CRL entries"))?,
            added_at: time(row.try_get(6)?)?,
        });
    }
    if let Some(row) = sqlx::query(
        "SELECT issue_id, date, next_update, roots, bytes FROM vicals \
         ORDER BY issue_id DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?
    {
        let roots: String = row.try_get(3)?;
        state.vical = Some(VicalRecord {
            issue_id: u64::try_from(row.try_get::<i64, _>(0)?)
                .map_err(|_| StoreError::Corrupt("VICAL issue id"))?,
            date: time(row.try_get(1)?)?,
            next_update: time(row.try_get(2)?)?,
            roots: roots
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            bytes: row.try_get(4)?,
        });
    }
    Ok(state)
}

pub(crate) async fn load_ingests(conn: &mut AnyConnection) -> Result<Vec<IngestRecord>> {
    sqlx::query(
        "SELECT id, at, source, actor, bundle_sha256, outcome, detail FROM ingests ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(IngestRecord {
            id: row.try_get(0)?,
            at: time(row.try_get(1)?)?,
            source: row.try_get(2)?,
            actor: row.try_get(3)?,
            bundle_sha256: row.try_get(4)?,
            outcome: row.try_get(5)?,
            detail: row.try_get(6)?,
        })
    })
    .collect()
}

/// Inserts an ingest record with the next id.
pub(crate) async fn insert_ingest(
    conn: &mut AnyConnection,
    at: OffsetDateTime,
    source: &str,
    actor: &str,
    bundle_sha256: &str,
    outcome: &str,
    detail: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO ingests (id, at, source, actor, bundle_sha256, outcome, detail) \
         SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM ingests RETURNING id",
    )
    .bind(at.unix_timestamp())
    .bind(source)
    .bind(actor)
    .bind(bundle_sha256)
    .bind(outcome)
    .bind(detail)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

pub(crate) async fn insert_root(
    conn: &mut AnyConnection,
    root: &RootRecord,
    ingest_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO roots (fingerprint, der, crl_url, pinned, via_link, ingest_id, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&root.fingerprint)
    .bind(root.certificate.der())
    .bind(&root.crl_url)
    .bind(i64::from(root.pinned))
    .bind(root.via_link.clone())
    .bind(ingest_id)
    .bind(root.added_at.unix_timestamp())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_link(
    conn: &mut AnyConnection,
    link: &LinkRecord,
    ingest_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO links (fingerprint, der, issuer_root, subject_root, ingest_id, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&link.fingerprint)
    .bind(link.certificate.der())
    .bind(&link.issuer_root)
    .bind(&link.subject_root)
    .bind(ingest_id)
    .bind(link.added_at.unix_timestamp())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_crl(
    conn: &mut AnyConnection,
    crl: &CrlRecord,
    der: &[u8],
    ingest_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO crls (root, number, sha256, der, this_update, next_update, entries, \
         ingest_id, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&crl.root)
    .bind(crl.number.as_str())
    .bind(&crl.sha256)
    .bind(der)
    .bind(crl.this_update.unix_timestamp())
    .bind(crl.next_update.unix_timestamp())
    .bind(i64::try_from(crl.entries).map_err(|_| StoreError::Corrupt("CRL entries"))?)
    .bind(ingest_id)
    .bind(crl.added_at.unix_timestamp())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_vical(conn: &mut AnyConnection, vical: &VicalRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO vicals (issue_id, date, next_update, roots, bytes) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(i64::try_from(vical.issue_id).map_err(|_| StoreError::Corrupt("VICAL issue id"))?)
    .bind(vical.date.unix_timestamp())
    .bind(vical.next_update.unix_timestamp())
    .bind(vical.roots.join(","))
    .bind(vical.bytes.as_slice())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
