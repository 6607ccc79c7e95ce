//! Pushed authorization requests and their portal hand-off (`migrations/*/0008`, `0011`).
//!
//! A request moves `pushed` (its `request_uri` handed to the wallet) → `login` (the browser
//! was sent to the portal with a hand-off session) → `approved` (an authorization code was
//! issued and the offer it redeems exists) or `denied`. Each step is one conditional statement
//! on the row, so a `request_uri` or a session is used once; approval writes the offer and the
//! request in one transaction.

use sqlx::Row;
use time::OffsetDateTime;

use super::error::{Result, StoreError};
use super::offers::{insert_offer, NewOffer};
use super::{from_secs, in_tx, on_pool, on_read_pool, secs, to_array as array, Store};

/// Where an authorization request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationStatus {
    /// Pushed; its `request_uri` not yet used.
    Pushed,
    /// The browser was sent to the portal's login page.
    Login,
    /// The portal approved it: a code was issued.
    Approved,
    /// The portal (or the user) refused it.
    Denied,
}

impl AuthorizationStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationStatus::Pushed => "pushed",
            AuthorizationStatus::Login => "login",
            AuthorizationStatus::Approved => "approved",
            AuthorizationStatus::Denied => "denied",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pushed" => AuthorizationStatus::Pushed,
            "login" => AuthorizationStatus::Login,
            "approved" => AuthorizationStatus::Approved,
            "denied" => AuthorizationStatus::Denied,
            _ => return Err(StoreError::Corrupt("authorization status")),
        })
    }
}

/// A pushed authorization request, as the service checked it.
#[derive(Debug, Clone)]
pub struct NewAuthorization {
    /// Random id.
    pub id: [u8; 16],
    /// SHA-256 of the `request_uri` handed out.
    pub request_uri_sha256: [u8; 32],
    /// The wallet's `client_id`.
    pub client_id: String,
    /// The `redirect_uri` the code goes to.
    pub redirect_uri: String,
    /// The PKCE `code_challenge` (S256).
    pub code_challenge: String,
    /// The doc type asked for.
    pub doctype: String,
    /// Whether `authorization_details` named it (then the token response grants a credential
    /// identifier, OpenID4VCI 1.0 §6.2), rather than `scope` alone.
    pub by_authorization_details: bool,
    /// The wallet's `state`, returned with the code.
    pub oauth_state: Option<String>,
    /// The DPoP key thumbprint the code is bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    /// Who attested the wallet (the provider, or the attested client), for the audit.
    pub attested_by: Option<String>,
    /// The portal offer an `issuer_state` linked the request to.
    pub offer_id: Option<[u8; 16]>,
    /// When the `request_uri` expires.
    pub request_expires_at: OffsetDateTime,
    /// When it was pushed.
    pub created_at: OffsetDateTime,
}

/// A stored authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// Its id.
    pub id: [u8; 16],
    /// The wallet's `client_id`.
    pub client_id: String,
    /// The `redirect_uri`.
    pub redirect_uri: String,
    /// The PKCE `code_challenge`.
    pub code_challenge: String,
    /// The doc type.
    pub doctype: String,
    /// Whether `authorization_details` named it.
    pub by_authorization_details: bool,
    /// The wallet's `state`.
    pub oauth_state: Option<String>,
    /// The bound DPoP key thumbprint.
    pub dpop_jkt: Option<String>,
    /// Who attested the wallet.
    pub attested_by: Option<String>,
    /// Where it is.
    pub status: AuthorizationStatus,
    /// When the `request_uri` expires.
    pub request_expires_at: OffsetDateTime,
    /// When the hand-off session expires.
    pub session_expires_at: Option<OffsetDateTime>,
    /// The offer it is linked to (from `issuer_state`, or made at approval).
    pub offer_id: Option<[u8; 16]>,
}

/// The offer an approval redeems through.
#[derive(Debug, Clone)]
pub enum ApprovedOffer {
    /// A new offer made from the record the portal gave at the hand-off.
    New(Box<NewOffer>),
    /// The portal's offer the request was linked to: its pre-authorized code hash becomes the
    /// authorization code's, its expiry the code's, and it gets `claims_sealed` if it had no
    /// record yet.
    Linked {
        /// The offer.
        id: [u8; 16],
        /// Its new expiry (the code's, never later than the offer's own).
        expires_at: OffsetDateTime,
        /// The record the portal gave at the hand-off, if any.
        claims_sealed: Option<Vec<u8>>,
    },
}

const COLUMNS: &str = "id, client_id, redirect_uri, code_challenge, doctype, \
     by_authorization_details, oauth_state, dpop_jkt, attested_by, status, request_expires_at, \
     session_expires_at, offer_id";

macro_rules! fetch_authorization {
    ($exec:expr, $sql:expr, $($bind:expr),*) => {{
        let row = sqlx::query($sql)$(.bind($bind))*.fetch_optional($exec).await?;
        match row {
            Some(row) => {
                let status: String = row.try_get("status")?;
                let session: Option<i64> = row.try_get("session_expires_at")?;
                let offer: Option<Vec<u8>> = row.try_get("offer_id")?;
                Ok::<_, StoreError>(Some(Authorization {
                    id: array(row.try_get("id")?, "authorization id")?,
                    client_id: row.try_get("client_id")?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    code_challenge: row.try_get("code_challenge")?,
                    doctype: row.try_get("doctype")?,
                    by_authorization_details: row.try_get("by_authorization_details")?,
                    oauth_state: row.try_get("oauth_state")?,
                    dpop_jkt: row.try_get("dpop_jkt")?,
                    attested_by: row.try_get("attested_by")?,
                    status: AuthorizationStatus::parse(&status)?,
                    request_expires_at: from_secs(row.try_get("request_expires_at")?)?,
                    session_expires_at: session.map(from_secs).transpose()?,
                    offer_id: offer.map(|o| array(o, "offer id")).transpose()?,
                }))
            }
            None => Ok(None),
        }
    }};
}

impl Store {
    /// Stores a pushed authorization request.
    pub async fn insert_authorization(&self, a: &NewAuthorization) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO authorization_requests (id, request_uri_sha256, client_id, \
                 redirect_uri, code_challenge, doctype, oauth_state, dpop_jkt, attested_by, \
                 status, request_expires_at, offer_id, created_at, updated_at, \
                 by_authorization_details) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pushed', $10, $11, $12, $12, $13)",
            )
            .bind(&a.id[..])
            .bind(&a.request_uri_sha256[..])
            .bind(&a.client_id)
            .bind(&a.redirect_uri)
            .bind(&a.code_challenge)
            .bind(&a.doctype)
            .bind(a.oauth_state.as_deref())
            .bind(a.dpop_jkt.as_deref())
            .bind(a.attested_by.as_deref())
            .bind(secs(a.request_expires_at))
            .bind(a.offer_id.as_ref().map(|o| &o[..]))
            .bind(secs(a.created_at))
            .bind(a.by_authorization_details)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The request a `request_uri` (by hash) names.
    pub async fn authorization_by_request_uri(
        &self,
        sha256: &[u8; 32],
    ) -> Result<Option<Authorization>> {
        let sql =
            format!("SELECT {COLUMNS} FROM authorization_requests WHERE request_uri_sha256 = $1");
        on_read_pool!(self, pool => { fetch_authorization!(pool, &sql, &sha256[..]) })
    }

    /// The request a hand-off session (by hash) belongs to.
    pub async fn authorization_by_session(
        &self,
        sha256: &[u8; 32],
    ) -> Result<Option<Authorization>> {
        let sql = format!("SELECT {COLUMNS} FROM authorization_requests WHERE session_sha256 = $1");
        on_read_pool!(self, pool => { fetch_authorization!(pool, &sql, &sha256[..]) })
    }

    /// The request an authorization code (by hash) was issued for.
    pub async fn authorization_by_code(&self, sha256: &[u8; 32]) -> Result<Option<Authorization>> {
        let sql = format!("SELECT {COLUMNS} FROM authorization_requests WHERE code_sha256 = $1");
        on_read_pool!(self, pool => { fetch_authorization!(pool, &sql, &sha256[..]) })
    }

    /// Uses a pushed request's `request_uri` (once, before it expires) and opens its
    /// hand-off session. False if it was used or expired meanwhile.
    pub async fn start_login(
        &self,
        id: &[u8; 16],
        session_sha256: &[u8; 32],
        session_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE authorization_requests SET status = 'login', session_sha256 = $2, \
                 session_expires_at = $3, updated_at = $4 \
                 WHERE id = $1 AND status = 'pushed' AND request_expires_at > $4",
            )
            .bind(&id[..])
            .bind(&session_sha256[..])
            .bind(secs(session_expires_at))
            .bind(secs(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Approves a request in its hand-off: the code (by hash) is recorded and the offer it
    /// redeems is made or linked, in one transaction. False (nothing written) if the session
    /// ended, was used, or the linked offer is no longer waiting.
    pub async fn approve_authorization(
        &self,
        id: &[u8; 16],
        code_sha256: &[u8; 32],
        offer: &ApprovedOffer,
        now: OffsetDateTime,
    ) -> Result<bool> {
        Ok(in_tx!(self, tx => {
            let offer_id = match offer {
                ApprovedOffer::New(o) => {
                    insert_offer!(tx, o.as_ref());
                    o.id
                }
                ApprovedOffer::Linked { id, expires_at, claims_sealed } => {
                    let n = sqlx::query(
                        "UPDATE credential_offers SET pre_auth_sha256 = $2, expires_at = $3, \
                         updated_at = $4 WHERE id = $1 AND state = 'offered' AND expires_at > $4",
                    )
                    .bind(&id[..])
                    .bind(&code_sha256[..])
                    .bind(secs(*expires_at))
                    .bind(secs(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Ok(false);
                    }
                    // The offer keeps the record it has; one it lacks is given now.
                    if let Some(claims) = claims_sealed {
                        sqlx::query(super::offers::INSERT_CLAIMS)
                            .bind(&id[..])
                            .bind(&claims[..])
                            .execute(&mut *tx)
                            .await?;
                    }
                    *id
                }
            };
            let n = sqlx::query(
                "UPDATE authorization_requests SET status = 'approved', code_sha256 = $2, \
                 offer_id = $3, updated_at = $4 \
                 WHERE id = $1 AND status = 'login' AND session_expires_at > $4",
            )
            .bind(&id[..])
            .bind(&code_sha256[..])
            .bind(&offer_id[..])
            .bind(secs(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            true
        }))
    }

    /// Records the portal's refusal of a request in its hand-off. False if the session
    /// ended or was used.
    pub async fn deny_authorization(&self, id: &[u8; 16], now: OffsetDateTime) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE authorization_requests SET status = 'denied', updated_at = $2 \
                 WHERE id = $1 AND status = 'login' AND session_expires_at > $2",
            )
            .bind(&id[..])
            .bind(secs(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Drops requests that can no longer lead anywhere (not approved, past their
    /// `request_uri` or session lifetime). Returns the rows dropped.
    pub async fn purge_authorizations(&self, now: OffsetDateTime) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM authorization_requests WHERE status <> 'approved' \
                 AND COALESCE(session_expires_at, request_expires_at) <= $1",
            )
            .bind(secs(now))
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
