//! The emergency stop of new issuance: one row, shared by every instance on the database.

use time::OffsetDateTime;

use super::{from_secs, on_pool, secs, Result, Store};

/// New issuance is suspended: since when, why, and by which API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    /// When it was suspended.
    pub since: OffsetDateTime,
    /// Why (operator text, bounded by the API).
    pub reason: String,
    /// The API client that suspended it.
    pub by: String,
}

impl Store {
    /// The suspension in force, if any.
    pub async fn issuance_suspension(&self) -> Result<Option<Suspension>> {
        let row: Option<(i64, String, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT since, reason, suspended_by FROM issuance_suspension WHERE id = 1",
            )
            .fetch_optional(pool)
            .await?
        });
        row.map(|(since, reason, by)| {
            Ok(Suspension {
                since: from_secs(since)?,
                reason,
                by,
            })
        })
        .transpose()
    }

    /// Suspends new issuance; `false` if it already was (the first suspension stays).
    pub async fn suspend_issuance(&self, s: &Suspension) -> Result<bool> {
        let added = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO issuance_suspension (id, since, reason, suspended_by) \
                 VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(secs(s.since))
            .bind(&s.reason)
            .bind(&s.by)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(added == 1)
    }

    /// Resumes new issuance; returns the suspension it ended, if there was one.
    pub async fn resume_issuance(&self) -> Result<Option<Suspension>> {
        let current = self.issuance_suspension().await?;
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM issuance_suspension WHERE id = 1")
                .execute(pool)
                .await?;
        });
        Ok(current)
    }
}
