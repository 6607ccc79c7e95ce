//! API clients and their hashed bearer tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::error::{Result, StoreError};
use super::model::{random_bytes, ApiToken, Client, Scope};
use super::{from_secs, on_pool, on_read_pool, secs, Store};

/// Prefix of every token, so leaked tokens are recognisable by secret scanners.
const TOKEN_PREFIX: &str = "mdi_";

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn scopes_text(scopes: &[Scope]) -> (Vec<Scope>, String) {
    let mut s = scopes.to_vec();
    s.sort();
    s.dedup();
    let text = s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ");
    (s, text)
}

macro_rules! client_from_row {
    ($row:expr) => {{
        let row = $row;
        let scopes: String = row.try_get("scopes")?;
        let scopes = scopes
            .split_whitespace()
            .map(|s| Scope::parse(s).ok_or(StoreError::Corrupt("scope")))
            .collect::<Result<Vec<_>>>()?;
        Client {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            scopes,
            created_at: from_secs(row.try_get("created_at")?)?,
            disabled: row.try_get("disabled")?,
        }
    }};
}

impl Store {
    /// Creates an API client with `scopes` and returns it with its bearer token. The token
    /// (`mdi_` + base64url of 256 random bits) is shown only here; the store keeps its SHA-256.
    pub async fn create_client(&self, name: &str, scopes: &[Scope]) -> Result<(Client, ApiToken)> {
        let id = hex::encode(random_bytes::<16>()?);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
        );
        let (scopes, text) = scopes_text(scopes);
        let now = OffsetDateTime::now_utc();
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO api_clients (id, name, scopes, credential_sha256, created_at, disabled) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(name)
            .bind(&text)
            .bind(&token_hash(&token)[..])
            .bind(secs(now))
            .bind(false)
            .execute(pool)
            .await?;
        });
        let client = Client {
            id,
            name: name.to_owned(),
            scopes,
            created_at: from_secs(secs(now))?,
            disabled: false,
        };
        Ok((client, ApiToken(token)))
    }

    /// The enabled client holding `token`, or `None` for an unknown token or a disabled
    /// client. The token's SHA-256 selects the row through the unique index and is then
    /// compared with the stored hash in constant time.
    pub async fn client_by_token(&self, token: &str) -> Result<Option<Client>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let client = on_read_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id, name, scopes, credential_sha256, created_at, disabled \
                 FROM api_clients WHERE credential_sha256 = $1",
            )
            .bind(&hash[..])
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => {
                    let stored: Vec<u8> = row.try_get("credential_sha256")?;
                    if bool::from(stored.as_slice().ct_eq(&hash[..])) {
                        Some(client_from_row!(row))
                    } else {
                        None
                    }
                }
            }
        });
        Ok(client.filter(|c| !c.disabled))
    }

    /// The client with this id (enabled or not).
    pub async fn client(&self, id: &str) -> Result<Client> {
        on_read_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id, name, scopes, created_at, disabled FROM api_clients WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound("client"))?;
            Ok(client_from_row!(row))
        })
    }

    /// Disables a client: its token stops working. Idempotent.
    pub async fn disable_client(&self, id: &str) -> Result<()> {
        let changed = on_pool!(self, pool => {
            sqlx::query("UPDATE api_clients SET disabled = $2 WHERE id = $1")
                .bind(id)
                .bind(true)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::NotFound("client"));
        }
        Ok(())
    }
}
