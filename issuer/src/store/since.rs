//! The MSOs recorded after a point of the `msos` row order, for start-up reconciliation: each
//! start records the highest MSO row id, and everything above it was committed by the run
//! that followed, so those are the rows whose audit records that run's log must hold.
//!
//! Row ids only grow (SQLite's rowid without deletions, PostgreSQL's identity), and an id is
//! taken inside the transaction, after the issuance's audit record was queued.

use sqlx::Row;

use super::error::Result;
use super::model::DocumentId;
use super::{on_read_pool, to_array, to_u64, Store};

/// An MSO row as reconciliation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsoRow {
    /// The row id (the order of recording).
    pub id: i64,
    /// The document it belongs to.
    pub document: DocumentId,
    /// The document's doc type.
    pub doctype: String,
    /// The API client that issued the document (`None` for documents older than owners).
    pub owner: Option<String>,
    /// Whether this is the document's oldest MSO (so its transaction issued the document).
    pub first_of_document: bool,
    /// The DS that signed it.
    pub ds_serial: String,
    /// Its status list.
    pub status_list_uri: String,
    /// Its index in that list.
    pub status_index: u64,
    /// When it was signed (Unix seconds): the MSOs of one issuance or refresh share it.
    pub created_at: i64,
}

/// Rows read per query (bounds the memory of one page).
const PAGE: i64 = 1000;

impl Store {
    /// The highest MSO row id (0 when there is none).
    pub async fn max_mso_id(&self) -> Result<i64> {
        on_read_pool!(self, pool => {
            let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM msos")
                .fetch_one(pool)
                .await?;
            Ok(max.unwrap_or(0))
        })
    }

    /// Up to a page (1,000) of MSO rows with an id above `after`, in id order.
    pub async fn msos_after(&self, after: i64) -> Result<Vec<MsoRow>> {
        const SQL: &str = "SELECT m.id, m.document_id, m.ds_serial, m.status_list_uri, \
             m.status_index, m.created_at, d.doctype, d.client_id, \
             (SELECT MIN(f.id) FROM msos f WHERE f.document_id = m.document_id) AS first_id \
             FROM msos m JOIN documents d ON d.id = m.document_id \
             WHERE m.id > $1 ORDER BY m.id LIMIT $2";
        on_read_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(after).bind(PAGE).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let first: Option<i64> = row.try_get("first_id")?;
                out.push(MsoRow {
                    id,
                    document: DocumentId(to_array(row.try_get("document_id")?, "document id")?),
                    doctype: row.try_get("doctype")?,
                    owner: row.try_get("client_id")?,
                    first_of_document: first == Some(id),
                    ds_serial: row.try_get("ds_serial")?,
                    status_list_uri: row.try_get("status_list_uri")?,
                    status_index: to_u64(row.try_get("status_index")?)?,
                    created_at: row.try_get("created_at")?,
                });
            }
            Ok(out)
        })
    }
}
