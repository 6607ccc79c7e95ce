//! Status-list allocation, DS and list signer certificates, revocation and the revocation
//! lists' contents.

use sqlx::Row;
use time::OffsetDateTime;

use super::error::{Result, StoreError};
use super::model::{DocumentId, DsCertificate, DsState, RevocationReason};
use super::{from_secs, in_tx, on_pool, on_read_pool, secs, to_array, to_i64, to_u64, Store};

const ALLOCATE: &str = "INSERT INTO status_lists (uri, next_index) VALUES ($1, $2) \
     ON CONFLICT (uri) DO UPDATE SET next_index = status_lists.next_index + excluded.next_index \
     RETURNING next_index";
const REVOKE_DOCUMENT: &str = "UPDATE documents SET state = 'revoked', revoked_at = $2, \
     revocation_reason = $3 WHERE id = $1 AND state = 'active'";
const REVOKE_MSOS_OF_DOCUMENT: &str =
    "UPDATE msos SET revoked_at = $2 WHERE document_id = $1 AND revoked_at IS NULL";
const REVOKE_DS: &str = "UPDATE ds_certificates SET state = 'revoked' WHERE serial = $1";
const REVOKE_DOCUMENTS_OF_DS: &str = "UPDATE documents SET state = 'revoked', \
     revoked_at = $2, revocation_reason = $3 WHERE state = 'active' \
     AND id IN (SELECT document_id FROM msos WHERE ds_serial = $1)";
const REVOKE_MSOS_OF_DS: &str = "UPDATE msos SET revoked_at = $2 WHERE revoked_at IS NULL \
     AND document_id IN (SELECT document_id FROM msos WHERE ds_serial = $1)";
/// The two tables of signer certificates (same columns).
#[derive(Debug, Clone, Copy)]
enum SignerTable {
    Ds,
    ListSigner,
}

impl SignerTable {
    fn name(self) -> &'static str {
        match self {
            SignerTable::Ds => "ds_certificates",
            SignerTable::ListSigner => "list_signer_certificates",
        }
    }
}

const DS_COLUMNS: &str = "serial, der, not_before, not_after, state, key_uri, created_at";

macro_rules! ds_from_row {
    ($row:expr) => {{
        let row = $row;
        let state: String = row.try_get("state")?;
        DsCertificate {
            serial: row.try_get("serial")?,
            der: row.try_get("der")?,
            not_before: from_secs(row.try_get("not_before")?)?,
            not_after: from_secs(row.try_get("not_after")?)?,
            state: DsState::parse(&state).ok_or(StoreError::Corrupt("DS state"))?,
            key_uri: row.try_get("key_uri")?,
            installed_at: from_secs(row.try_get("created_at")?)?,
        }
    }};
}

impl Store {
    /// Allocates `n` consecutive fresh indices in the status list at `list_uri` (created on
    /// first use) in one atomic statement. Concurrent callers never receive the same index, and
    /// an index is never handed out twice, even if the issuance that got it failed.
    pub async fn allocate_status_indices(&self, list_uri: &str, n: u64) -> Result<Vec<u64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let count = to_i64(n)?;
        let end: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(ALLOCATE)
                .bind(list_uri)
                .bind(count)
                .fetch_one(pool)
                .await?
        });
        let end = to_u64(end)?;
        let start = end
            .checked_sub(n)
            .ok_or(StoreError::Corrupt("status list counter"))?;
        Ok((start..end).collect())
    }

    /// Every status list with the number of indices allocated in it, by URI.
    pub async fn status_lists(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_read_pool!(self, pool => {
            sqlx::query_as("SELECT uri, next_index FROM status_lists ORDER BY uri")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(uri, n)| Ok((uri, to_u64(n)?)))
            .collect()
    }

    /// Revokes a document and all its MSOs at `at`. Idempotent: revoking a revoked document
    /// succeeds and keeps the original time and reason (revocation is final). Returns whether
    /// this call changed anything.
    pub async fn revoke_document(
        &self,
        id: DocumentId,
        reason: RevocationReason,
        at: OffsetDateTime,
    ) -> Result<bool> {
        in_tx!(self, tx => {
            let changed = sqlx::query(REVOKE_DOCUMENT)
                .bind(&id.0[..])
                .bind(secs(at))
                .bind(reason.code())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE id = $1")
                    .bind(&id.0[..])
                    .fetch_one(&mut *tx)
                    .await?;
                if count == 0 {
                    return Err(StoreError::NotFound("document"));
                }
            }
            // Also catches MSOs recorded for an already revoked document, should any exist.
            sqlx::query(REVOKE_MSOS_OF_DOCUMENT)
                .bind(&id.0[..])
                .bind(secs(at))
                .execute(&mut *tx)
                .await?;
            Ok(changed > 0)
        })
    }

    /// Marks the DS certificate `serial` revoked and revokes, at `at`, every document with an
    /// MSO it signed (with all of those documents' MSOs, whichever DS signed them), with reason
    /// [`RevocationReason::DsRevoked`]. Idempotent. Returns how many documents this call
    /// revoked.
    pub async fn revoke_by_ds(&self, serial: &str, at: OffsetDateTime) -> Result<u64> {
        in_tx!(self, tx => {
            let found = sqlx::query(REVOKE_DS)
                .bind(serial)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(StoreError::NotFound("DS certificate"));
            }
            let revoked = sqlx::query(REVOKE_DOCUMENTS_OF_DS)
                .bind(serial)
                .bind(secs(at))
                .bind(RevocationReason::DsRevoked.code())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(REVOKE_MSOS_OF_DS)
                .bind(serial)
                .bind(secs(at))
                .execute(&mut *tx)
                .await?;
            Ok(revoked)
        })
    }

    /// Status-list indices of revoked MSOs in `list_uri` that have not expired at `at`
    /// (`validUntil >= at`), ascending. Expired MSOs drop off the list.
    pub async fn revoked_entries(&self, list_uri: &str, at: OffsetDateTime) -> Result<Vec<u64>> {
        let rows: Vec<i64> = on_read_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT status_index FROM msos WHERE status_list_uri = $1 \
                 AND revoked_at IS NOT NULL AND valid_until >= $2 ORDER BY status_index",
            )
            .bind(list_uri)
            .bind(secs(at))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(to_u64).collect()
    }

    /// Identifiers (for the identifier list) of revoked MSOs that have not expired at `at`,
    /// sorted.
    pub async fn revoked_identifiers(&self, at: OffsetDateTime) -> Result<Vec<Vec<u8>>> {
        let rows: Vec<Vec<u8>> = on_read_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT identifier FROM msos WHERE revoked_at IS NOT NULL \
                 AND valid_until >= $1 ORDER BY identifier",
            )
            .bind(secs(at))
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// RFC 9679 thumbprints of device keys bound by revoked MSOs that have not expired at
    /// `at`, sorted and without duplicates.
    pub async fn revoked_device_thumbprints(&self, at: OffsetDateTime) -> Result<Vec<[u8; 32]>> {
        let rows: Vec<Vec<u8>> = on_read_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT device_key_thumbprint FROM msos WHERE revoked_at IS NOT NULL \
                 AND valid_until >= $1 ORDER BY device_key_thumbprint",
            )
            .bind(secs(at))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|t| to_array(t, "device key thumbprint"))
            .collect()
    }

    /// Records an installed DS certificate. Fails with a database error if the serial exists.
    pub async fn insert_ds_certificate(&self, cert: &DsCertificate) -> Result<()> {
        self.insert_signer(SignerTable::Ds, cert).await
    }

    /// Records an installed list signer certificate (state active). Fails with a database
    /// error if the serial exists.
    pub async fn insert_list_signer_certificate(&self, cert: &DsCertificate) -> Result<()> {
        if cert.state != DsState::Active {
            return Err(StoreError::Invalid("a list signer is installed active"));
        }
        self.insert_signer(SignerTable::ListSigner, cert).await
    }

    /// Every list signer certificate, newest notBefore first.
    pub async fn list_signer_certificates(&self) -> Result<Vec<DsCertificate>> {
        self.signers(SignerTable::ListSigner).await
    }

    /// Marks a list signer revoked (its root listed it on a CRL); final. Whether it changed.
    pub async fn revoke_list_signer(&self, serial: &str) -> Result<bool> {
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE list_signer_certificates SET state = 'revoked' \
                 WHERE serial = $1 AND state <> 'revoked'",
            )
            .bind(serial)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    async fn insert_signer(&self, table: SignerTable, cert: &DsCertificate) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (serial, der, not_before, not_after, state, key_uri, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            table.name()
        );
        on_pool!(self, pool => {
            sqlx::query(&sql)
            .bind(&cert.serial)
            .bind(&cert.der[..])
            .bind(secs(cert.not_before))
            .bind(secs(cert.not_after))
            .bind(cert.state.as_str())
            .bind(&cert.key_uri)
            .bind(secs(cert.installed_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Changes a DS certificate's state. A revoked certificate stays revoked (use
    /// [`Store::revoke_by_ds`] to revoke, which also revokes its MSOs).
    pub async fn set_ds_state(&self, serial: &str, state: DsState) -> Result<()> {
        if state == DsState::Revoked {
            return Err(StoreError::Invalid(
                "use revoke_by_ds to revoke a DS certificate",
            ));
        }
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE ds_certificates SET state = $2 WHERE serial = $1 AND state <> 'revoked'",
            )
            .bind(serial)
            .bind(state.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::NotFound("unrevoked DS certificate"));
        }
        Ok(())
    }

    /// The DS certificate with this serial.
    pub async fn ds_certificate(&self, serial: &str) -> Result<DsCertificate> {
        let sql = format!("SELECT {DS_COLUMNS} FROM ds_certificates WHERE serial = $1");
        on_read_pool!(self, pool => {
            let row = sqlx::query(&sql)
                .bind(serial)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound("DS certificate"))?;
            Ok(ds_from_row!(row))
        })
    }

    /// Every DS certificate, newest notBefore first.
    pub async fn ds_certificates(&self) -> Result<Vec<DsCertificate>> {
        self.signers(SignerTable::Ds).await
    }

    async fn signers(&self, table: SignerTable) -> Result<Vec<DsCertificate>> {
        let sql = format!(
            "SELECT {DS_COLUMNS} FROM {} ORDER BY not_before DESC, serial",
            table.name()
        );
        on_read_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(ds_from_row!(row));
            }
            Ok(out)
        })
    }
}
