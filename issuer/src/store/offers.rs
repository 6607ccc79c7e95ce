//! OpenID4VCI credential offers and the grants they carry (`migrations/*/0007`; the
//! credential identifier granted with a token, `0011`).
//!
//! An offer moves `offered` → `redeemed` (its pre-authorized code exchanged for an access
//! token) → `issued` (a credential request signed the document; closed in the issuance's own
//! transaction, see [`IssuanceRecord::offer`](super::IssuanceRecord::offer)), or `redeemed` → `deferred`
//! (the portal has not yet given the record) → `issued`. The portal may withdraw an offer not
//! yet issued; too many wrong transaction codes lock it. Every transition is one conditional
//! statement or one transaction whose first statement updates the row, so concurrent
//! redemptions of one code serialise on its row (PostgreSQL) or on the writer (SQLite) and
//! exactly one wins.

use sqlx::Row;
use time::OffsetDateTime;

use super::error::{Result, StoreError};
use super::issuance::{consume_nonce, INSERT_NONCE};
use super::model::{DocumentId, UsedNonce};
use super::{from_secs, in_tx, on_pool, on_read_pool, secs, to_array as array, Store};

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    /// Made by the portal; its pre-authorized code not yet used.
    Offered,
    /// Its code was exchanged for an access token.
    Redeemed,
    /// A credential request was accepted and waits for the portal's record.
    Deferred,
    /// The document was issued.
    Issued,
    /// The portal withdrew it.
    Withdrawn,
    /// Too many wrong transaction codes.
    Locked,
}

impl OfferState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Offered => "offered",
            OfferState::Redeemed => "redeemed",
            OfferState::Deferred => "deferred",
            OfferState::Issued => "issued",
            OfferState::Withdrawn => "withdrawn",
            OfferState::Locked => "locked",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "offered" => OfferState::Offered,
            "redeemed" => OfferState::Redeemed,
            "deferred" => OfferState::Deferred,
            "issued" => OfferState::Issued,
            "withdrawn" => OfferState::Withdrawn,
            "locked" => OfferState::Locked,
            _ => return Err(StoreError::Corrupt("offer state")),
        })
    }
}

/// A new offer, as the engine builds it (every secret already hashed or sealed).
#[derive(Debug, Clone)]
pub struct NewOffer {
    /// Random id, shown to the portal as hex.
    pub id: [u8; 16],
    /// The portal client that made it (owner of the document it leads to).
    pub client_id: String,
    /// The doc type offered.
    pub doctype: String,
    /// The sealed applicant record; `None` while the portal has not given it (deferred).
    pub claims_sealed: Option<Vec<u8>>,
    /// SHA-256 of the pre-authorized code.
    pub pre_auth_sha256: [u8; 32],
    /// SHA-256 of the `credential_offer_uri` reference.
    pub offer_ref_sha256: [u8; 32],
    /// The offer JSON, sealed under a key from the reference.
    pub offer_sealed: Vec<u8>,
    /// HMAC of the transaction code, when one is required.
    pub tx_code_mac: Option<[u8; 32]>,
    /// When the offer and its code expire.
    pub expires_at: OffsetDateTime,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// A stored offer.
#[derive(Debug, Clone)]
pub struct Offer {
    /// Its id.
    pub id: [u8; 16],
    /// The portal client that made it.
    pub client_id: String,
    /// The doc type.
    pub doctype: String,
    /// The sealed applicant record, while it is kept.
    pub claims_sealed: Option<Vec<u8>>,
    /// Where it is in its life.
    pub state: OfferState,
    /// Whether a transaction code is required.
    pub tx_code_required: bool,
    /// The HMAC of the transaction code under the server secret (never the code itself).
    pub tx_code_mac: Option<Vec<u8>>,
    /// Wrong transaction codes so far.
    pub tx_attempts: u32,
    /// When the offer and its pre-authorized code expire.
    pub expires_at: OffsetDateTime,
    /// When the access token expires, once redeemed.
    pub token_expires_at: Option<OffsetDateTime>,
    /// The RFC 7638 thumbprint of the DPoP key the token is bound to.
    pub dpop_jkt: Option<String>,
    /// SHA-256 of the credential identifier granted with the token (OpenID4VCI 1.0 §6.2),
    /// when the wallet asked with `authorization_details`: its credential requests must then
    /// name that identifier, never the configuration.
    pub credential_identifier_sha256: Option<[u8; 32]>,
    /// The COSE_Keys (CBOR array) a deferred request bound the credential to.
    pub deferred_keys: Option<Vec<u8>>,
    /// The document issued from it.
    pub document_id: Option<DocumentId>,
    /// The notification id given to the wallet with the credential.
    pub notification_id: Option<String>,
    /// The last notification event the wallet sent.
    pub last_event: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// What redeeming a pre-authorized code did.
#[derive(Debug, Clone)]
pub enum Redemption {
    /// The code was valid: the access token is now the offer's (its id).
    Redeemed([u8; 16]),
    /// No offer has this code.
    Unknown,
    /// The offer expired.
    Expired,
    /// The code was already used, or the offer withdrawn or locked.
    Spent(OfferState),
    /// A transaction code is required and none was given.
    TxCodeMissing,
    /// The transaction code was wrong; `left` more attempts (0: the offer is now locked).
    TxCodeWrong {
        /// Attempts left.
        left: u32,
    },
}

/// The access token an offer is redeemed for.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// Its expiry.
    pub expires_at: OffsetDateTime,
    /// The DPoP key it is bound to.
    pub dpop_jkt: Option<String>,
    /// SHA-256 of the credential identifier granted with it, if any (OpenID4VCI 1.0 §6.2).
    pub credential_identifier_sha256: Option<[u8; 32]>,
}

/// A pre-authorized code exchange, as [`Store::redeem_pre_auth`] takes it.
#[derive(Debug, Clone)]
pub(crate) struct Redeem {
    pub(crate) code_sha256: [u8; 32],
    pub(crate) tx_mac: Option<[u8; 32]>,
    pub(crate) max_attempts: u32,
    pub(crate) token: NewToken,
    pub(crate) now: OffsetDateTime,
    /// The pre-authorized code grant: a code of an authorization request (redeemable only
    /// with its PKCE verifier, redirect URI and DPoP key, checked before) is unknown to it.
    pub(crate) pre_authorized: bool,
}

/// The exchange itself when it succeeds, binding `$r: &Redeem`: the offer, still offered,
/// unexpired and with the right transaction code (or none), becomes redeemed with the new
/// token, returning its id. One atomic statement, so on PostgreSQL it runs alone first (one
/// round trip, one commit) and only a refusal takes `redeem_in!`'s transaction to find out why.
macro_rules! redeem_query {
    ($r:expr) => {{
        let r: &Redeem = $r;
        sqlx::query_scalar(
            "UPDATE credential_offers SET state = 'redeemed', token_sha256 = $3, \
             token_expires_at = $4, dpop_jkt = $5, credential_identifier_sha256 = $8, \
             updated_at = $2 \
             WHERE pre_auth_sha256 = $1 AND state = 'offered' AND expires_at > $2 \
             AND (tx_code_mac IS NULL OR tx_code_mac = $6) \
             AND NOT ($7 AND EXISTS (SELECT 1 FROM authorization_requests a \
                                     WHERE a.code_sha256 = $1)) RETURNING id",
        )
        .bind(&r.code_sha256[..])
        .bind(secs(r.now))
        .bind(&r.token.sha256[..])
        .bind(secs(r.token.expires_at))
        .bind(r.token.dpop_jkt.as_deref())
        .bind(r.tx_mac.as_ref().map(|m| &m[..]))
        .bind(r.pre_authorized)
        .bind(
            r.token
                .credential_identifier_sha256
                .as_ref()
                .map(|h| &h[..]),
        )
    }};
}

/// The exchange inside the write transaction `$tx` (either backend): evaluates to the
/// [`Redemption`]; `?` on a database error.
///
/// The common case is one statement: the conditional update that redeems an open, unexpired
/// offer whose transaction code (if any) matches. Only when it changes nothing does a second
/// look find out why, counting a wrong transaction code. Each first statement takes the
/// offer's row lock, so concurrent exchanges of one code serialise and exactly one wins. (The
/// code comparison happens in SQL, not in constant time: it compares HMACs under the server
/// secret of what the wallet typed, whose timing tells nothing usable, and wrong codes are
/// counted and bounded.)
macro_rules! redeem_in {
    ($tx:ident, $r:expr) => {{
        let r: &Redeem = $r;
        let lock = format!(
            "UPDATE credential_offers SET updated_at = $2 WHERE pre_auth_sha256 = $1 \
             RETURNING {OFFER_COLUMNS}"
        );
        // The common case in one statement that returns only the id: the row's sealed
        // record and offer are not copied out.
        let redeemed: Option<Vec<u8>> = redeem_query!(r).fetch_optional(&mut *$tx).await?;
        if let Some(id) = redeemed {
            Redemption::Redeemed(array(id, "offer id")?)
        } else if r.pre_authorized
            && sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM authorization_requests WHERE code_sha256 = $1)",
            )
            .bind(&r.code_sha256[..])
            .fetch_one(&mut *$tx)
            .await?
        {
            // An authorization code is not a pre-authorized code.
            Redemption::Unknown
        } else {
            match fetch_offer!(&mut *$tx, &lock, &r.code_sha256[..], secs(r.now))? {
                None => Redemption::Unknown,
                Some(offer) => {
                    let stored: Option<Vec<u8>> = sqlx::query_scalar(
                        "SELECT tx_code_mac FROM credential_offers WHERE id = $1",
                    )
                    .bind(&offer.id[..])
                    .fetch_one(&mut *$tx)
                    .await?;
                    let verdict = if offer.state != OfferState::Offered {
                        Redemption::Spent(offer.state)
                    } else if r.now >= offer.expires_at {
                        Redemption::Expired
                    } else {
                        match (stored, r.tx_mac) {
                            // The first statement redeems these; the row changed in between
                            // only if the database is not serialising (never on either backend).
                            (None, _) => Redemption::Spent(offer.state),
                            (Some(_), None) => Redemption::TxCodeMissing,
                            (Some(_), Some(_)) => {
                                let attempts = offer.tx_attempts.saturating_add(1);
                                let left = r.max_attempts.saturating_sub(attempts);
                                let state = if left == 0 {
                                    OfferState::Locked
                                } else {
                                    OfferState::Offered
                                };
                                sqlx::query(
                                    "UPDATE credential_offers SET tx_attempts = $2, state = $3 \
                                 WHERE id = $1",
                                )
                                .bind(&offer.id[..])
                                .bind(i64::from(attempts))
                                .bind(state.as_str())
                                .execute(&mut *$tx)
                                .await?;
                                Redemption::TxCodeWrong { left }
                            }
                        }
                    };
                    verdict
                }
            }
        }
    }};
}

/// An offer's columns, its sealed record (kept in `credential_offer_claims`, `migrations/*/0010`)
/// included: a correlated subquery, so it also works in `UPDATE ... RETURNING`.
const OFFER_COLUMNS: &str = "id, client_id, doctype, (SELECT c.claims_sealed FROM \
     credential_offer_claims c WHERE c.offer_id = credential_offers.id) AS claims_sealed, \
     state, tx_code_mac, tx_attempts, expires_at, token_expires_at, dpop_jkt, \
     credential_identifier_sha256, deferred_keys, document_id, notification_id, last_event, \
     created_at, updated_at";

/// Builds an [`Offer`] from a row of either backend.
macro_rules! offer_from_row {
    ($row:expr) => {{
        let row = $row;
        let state: String = row.try_get("state")?;
        let tx: Option<Vec<u8>> = row.try_get("tx_code_mac")?;
        let token_exp: Option<i64> = row.try_get("token_expires_at")?;
        let doc: Option<Vec<u8>> = row.try_get("document_id")?;
        let identifier: Option<Vec<u8>> = row.try_get("credential_identifier_sha256")?;
        let attempts: i64 = row.try_get("tx_attempts")?;
        Offer {
            id: array(row.try_get("id")?, "offer id")?,
            client_id: row.try_get("client_id")?,
            doctype: row.try_get("doctype")?,
            claims_sealed: row.try_get("claims_sealed")?,
            state: OfferState::parse(&state)?,
            tx_code_required: tx.is_some(),
            tx_code_mac: tx,
            tx_attempts: u32::try_from(attempts).map_err(|_| StoreError::Corrupt("tx_attempts"))?,
            expires_at: from_secs(row.try_get("expires_at")?)?,
            token_expires_at: token_exp.map(from_secs).transpose()?,
            dpop_jkt: row.try_get("dpop_jkt")?,
            credential_identifier_sha256: identifier
                .map(|h| array(h, "credential identifier hash"))
                .transpose()?,
            deferred_keys: row.try_get("deferred_keys")?,
            document_id: doc
                .map(|d| array(d, "document id").map(DocumentId))
                .transpose()?,
            notification_id: row.try_get("notification_id")?,
            last_event: row.try_get("last_event")?,
            created_at: from_secs(row.try_get("created_at")?)?,
            updated_at: from_secs(row.try_get("updated_at")?)?,
        }
    }};
}

/// Runs a query returning one offer row (or none) on either backend.
macro_rules! fetch_offer {
    ($exec:expr, $sql:expr, $($bind:expr),*) => {{
        let row = sqlx::query($sql)$(.bind($bind))*.fetch_optional($exec).await?;
        match row {
            Some(r) => Ok::<_, StoreError>(Some(offer_from_row!(r))),
            None => Ok(None),
        }
    }};
}

/// Inserts a [`NewOffer`] and its sealed record, if it has one, inside the transaction `$tx`.
macro_rules! insert_offer {
    ($tx:ident, $o:expr) => {{
        let o: &NewOffer = $o;
        sqlx::query(
            "INSERT INTO credential_offers (id, client_id, doctype, state, \
             pre_auth_sha256, offer_ref_sha256, offer_sealed, tx_code_mac, tx_attempts, \
             expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, 'offered', $4, $5, $6, $7, 0, $8, $9, $9)",
        )
        .bind(&o.id[..])
        .bind(&o.client_id)
        .bind(&o.doctype)
        .bind(&o.pre_auth_sha256[..])
        .bind(&o.offer_ref_sha256[..])
        .bind(&o.offer_sealed)
        .bind(o.tx_code_mac.as_ref().map(|m| &m[..]))
        .bind(secs(o.expires_at))
        .bind(secs(o.created_at))
        .execute(&mut *$tx)
        .await?;
        if let Some(claims) = &o.claims_sealed {
            sqlx::query($crate::store::offers::INSERT_CLAIMS)
                .bind(&o.id[..])
                .bind(&claims[..])
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Gives offer `$1` its sealed record `$2` unless it has one.
pub(super) const INSERT_CLAIMS: &str = "INSERT INTO credential_offer_claims \
     (offer_id, claims_sealed) VALUES ($1, $2) ON CONFLICT (offer_id) DO NOTHING";
/// Drops the sealed record of offer `$1`.
const DELETE_CLAIMS: &str = "DELETE FROM credential_offer_claims WHERE offer_id = $1";
pub(super) use insert_offer;

impl Store {
    /// Stores a new offer.
    pub async fn insert_offer(&self, o: &NewOffer) -> Result<()> {
        in_tx!(self, tx => { insert_offer!(tx, o); });
        Ok(())
    }

    /// The offer with this id.
    pub async fn offer(&self, id: &[u8; 16]) -> Result<Offer> {
        let sql = format!("SELECT {OFFER_COLUMNS} FROM credential_offers WHERE id = $1");
        on_read_pool!(self, pool => {
            fetch_offer!(pool, &sql, &id[..])?.ok_or(StoreError::NotFound("offer"))
        })
    }

    /// The offer a live access token belongs to.
    pub async fn offer_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<Offer>> {
        let sql = format!("SELECT {OFFER_COLUMNS} FROM credential_offers WHERE token_sha256 = $1");
        on_read_pool!(self, pool => { fetch_offer!(pool, &sql, &token_sha256[..]) })
    }

    /// The offer a deferred transaction belongs to.
    pub async fn offer_by_transaction(&self, sha256: &[u8; 32]) -> Result<Option<Offer>> {
        let sql =
            format!("SELECT {OFFER_COLUMNS} FROM credential_offers WHERE transaction_sha256 = $1");
        on_read_pool!(self, pool => { fetch_offer!(pool, &sql, &sha256[..]) })
    }

    /// The doc type of the offer a pre-authorized code (by hash) belongs to, whatever its
    /// state; `None` for an unknown code or an authorization code (which is no pre-authorized
    /// code). Read before the exchange when the token request narrows it with
    /// `authorization_details`: an offer's doc type never changes.
    pub async fn pre_authorized_doctype(&self, code_sha256: &[u8; 32]) -> Result<Option<String>> {
        on_read_pool!(self, pool => {
            Ok(sqlx::query_scalar(
                "SELECT doctype FROM credential_offers WHERE pre_auth_sha256 = $1 \
                 AND NOT EXISTS (SELECT 1 FROM authorization_requests a \
                                 WHERE a.code_sha256 = $1)",
            )
            .bind(&code_sha256[..])
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The sealed offer JSON of an offer still waiting for its wallet, by reference hash.
    pub async fn offer_by_ref(
        &self,
        ref_sha256: &[u8; 32],
    ) -> Result<Option<([u8; 16], OfferState, OffsetDateTime, Vec<u8>)>> {
        let row: Option<(Vec<u8>, String, i64, Vec<u8>)> = on_read_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, state, expires_at, offer_sealed FROM credential_offers \
                 WHERE offer_ref_sha256 = $1",
            )
            .bind(&ref_sha256[..])
            .fetch_optional(pool)
            .await?
        });
        row.map(|(id, state, exp, sealed)| {
            Ok((
                array(id, "offer id")?,
                OfferState::parse(&state)?,
                from_secs(exp)?,
                sealed,
            ))
        })
        .transpose()
    }

    /// Exchanges a pre-authorized code for an access token, checking the transaction code
    /// (`tx_mac`: the HMAC of what the wallet sent) and counting wrong ones: the
    /// `max_attempts`-th wrong code locks the offer. On SQLite the exchange is committed with
    /// the issuances and exchanges queued beside it (one flush for all, see `sqlite_batch`).
    pub async fn redeem_pre_auth(
        &self,
        code_sha256: &[u8; 32],
        tx_mac: Option<[u8; 32]>,
        max_attempts: u32,
        token: &NewToken,
        now: OffsetDateTime,
    ) -> Result<Redemption> {
        self.redeem(Redeem {
            code_sha256: *code_sha256,
            tx_mac,
            max_attempts,
            token: token.clone(),
            now,
            pre_authorized: true,
        })
        .await
    }

    /// Exchanges an authorization code (by hash; its PKCE verifier, redirect URI, client and
    /// DPoP key already checked against its request) for an access token, as
    /// [`Store::redeem_pre_auth`] does a pre-authorized code.
    pub async fn redeem_authorization_code(
        &self,
        code_sha256: &[u8; 32],
        token: &NewToken,
        now: OffsetDateTime,
    ) -> Result<Redemption> {
        self.redeem(Redeem {
            code_sha256: *code_sha256,
            tx_mac: None,
            max_attempts: 0,
            token: token.clone(),
            now,
            pre_authorized: false,
        })
        .await
    }

    /// One code exchange: on SQLite in the writer's batch; on PostgreSQL the exchange's one
    /// statement alone, then only a refusal takes a transaction to find out why.
    async fn redeem(&self, redeem: Redeem) -> Result<Redemption> {
        match &self.pools {
            super::Pools::Sqlite { issuances, .. } => return issuances.redeem(redeem).await,
            super::Pools::Postgres(pool) => {
                let redeemed: Option<Vec<u8>> = redeem_query!(&redeem).fetch_optional(pool).await?;
                if let Some(id) = redeemed {
                    return Ok(Redemption::Redeemed(array(id, "offer id")?));
                }
            }
        }
        Ok(in_tx!(self, tx => redeem_in!(tx, &redeem)))
    }

    /// Accepts a credential request for later: the keys it binds are kept, its nonce is
    /// consumed, and the wallet polls with the transaction id. The access token the wallet
    /// polls with stays valid until `until` (the portal may take days), no longer.
    pub async fn defer_offer(
        &self,
        id: &[u8; 16],
        transaction_sha256: &[u8; 32],
        keys_cbor: &[u8],
        nonce: &UsedNonce,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        Ok(in_tx!(self, tx => {
            let n = sqlx::query(
                "UPDATE credential_offers SET state = 'deferred', transaction_sha256 = $2, \
                 deferred_keys = $3, updated_at = $4, token_expires_at = $5 \
                 WHERE id = $1 AND state = 'redeemed' AND token_expires_at > $4",
            )
            .bind(&id[..])
            .bind(&transaction_sha256[..])
            .bind(keys_cbor)
            .bind(secs(now))
            .bind(secs(until))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            consume_nonce!(tx, Some(nonce));
            true
        }))
    }

    /// Gives a pending offer its (sealed) applicant record.
    pub async fn set_offer_claims(
        &self,
        id: &[u8; 16],
        sealed: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool> {
        Ok(in_tx!(self, tx => {
            // The offer's row lock first, so a concurrent withdrawal waits or wins.
            let n = sqlx::query(
                "UPDATE credential_offers SET updated_at = $2 \
                 WHERE id = $1 AND state IN ('offered', 'redeemed', 'deferred') \
                 AND COALESCE(token_expires_at, expires_at) > $2",
            )
            .bind(&id[..])
            .bind(secs(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            let given = sqlx::query(INSERT_CLAIMS)
                .bind(&id[..])
                .bind(sealed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if given != 1 {
                // It already has a record: nothing is changed.
                return Ok(false);
            }
            true
        }))
    }

    /// Withdraws an offer not yet issued: its code, token and transaction stop working and
    /// its record is dropped. Returns false if it is already issued, withdrawn or locked.
    pub async fn withdraw_offer(&self, id: &[u8; 16], now: OffsetDateTime) -> Result<bool> {
        Ok(in_tx!(self, tx => {
            let n = sqlx::query(
                "UPDATE credential_offers SET state = 'withdrawn', deferred_keys = NULL, \
                 updated_at = $2 WHERE id = $1 AND state IN ('offered', 'redeemed', 'deferred')",
            )
            .bind(&id[..])
            .bind(secs(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(DELETE_CLAIMS).bind(&id[..]).execute(&mut *tx).await?;
            }
            n == 1
        }))
    }

    /// Records a wallet's notification for the offer with this notification id; returns the
    /// offer's id and document, or `None` if no issued offer has it.
    pub async fn record_notification(
        &self,
        notification_id: &str,
        event: &str,
        now: OffsetDateTime,
    ) -> Result<Option<([u8; 16], Option<DocumentId>, String)>> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE credential_offers SET last_event = $2, updated_at = $3 \
                 WHERE notification_id = $1 AND state = 'issued' \
                 RETURNING id, document_id, client_id",
            )
            .bind(notification_id)
            .bind(event)
            .bind(secs(now))
            .fetch_optional(pool)
            .await?
        });
        row.map(|(id, doc, client)| {
            Ok((
                array(id, "offer id")?,
                doc.map(|d| array(d, "document id").map(DocumentId))
                    .transpose()?,
                client,
            ))
        })
        .transpose()
    }

    /// Accepts a DPoP proof's `jti` once within its window: false if it was seen. On SQLite
    /// the insert is committed with the issuances queued beside it (see `sqlite_batch`).
    pub async fn use_dpop_jti(
        &self,
        sha256: &[u8; 32],
        expires_at: OffsetDateTime,
    ) -> Result<bool> {
        if let super::Pools::Sqlite { issuances, .. } = &self.pools {
            return issuances.use_jti(*sha256, secs(expires_at)).await;
        }
        let n = on_pool!(self, pool => {
            sqlx::query(JTI_INSERT)
            .bind(&sha256[..])
            .bind(secs(expires_at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Drops what offers no longer need: the applicant record and deferred keys of offers
    /// past their token's (or their own) lifetime — a deferred request's token lives as long
    /// as it may wait — and DPoP `jti`s past their window. Returns rows changed.
    pub async fn purge_offers(&self, now: OffsetDateTime) -> Result<u64> {
        let t = secs(now);
        let mut n = 0;
        on_pool!(self, pool => {
            n += sqlx::query(
                "DELETE FROM credential_offer_claims WHERE offer_id IN (SELECT id FROM \
                 credential_offers WHERE COALESCE(token_expires_at, expires_at) <= $1)",
            )
            .bind(t)
            .execute(pool)
            .await?
            .rows_affected();
            n += sqlx::query(
                "UPDATE credential_offers SET deferred_keys = NULL \
                 WHERE deferred_keys IS NOT NULL \
                 AND COALESCE(token_expires_at, expires_at) <= $1",
            )
            .bind(t)
            .execute(pool)
            .await?
            .rows_affected();
            n += sqlx::query("DELETE FROM dpop_jtis WHERE expires_at <= $1")
                .bind(t)
                .execute(pool)
                .await?
                .rows_affected();
        });
        Ok(n)
    }
}

/// Records a DPoP proof's `jti` hash; inserts nothing if it is known (a replay).
pub(super) const JTI_INSERT: &str =
    "INSERT INTO dpop_jtis (jti_sha256, expires_at) VALUES ($1, $2) \
                                     ON CONFLICT (jti_sha256) DO NOTHING";

/// The exchange on SQLite's writer connection, inside the issuance batch's transaction.
pub(super) async fn redeem_on(conn: &mut sqlx::SqliteConnection, r: &Redeem) -> Result<Redemption> {
    Ok(redeem_in!(conn, r))
}
