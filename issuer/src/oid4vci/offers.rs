//! Credential offers made by the portal (OpenID4VCI 1.0 §4): the identified applicant's
//! record, checked against the doc type at once, becomes an offer with a pre-authorized code
//! and, if asked, a transaction code the portal delivers out of band.
//!
//! What is kept: the record sealed under a key from the server secret (bound to the offer id),
//! SHA-256 of the pre-authorized code and of the offer's reference, an HMAC of the
//! transaction code, and the offer JSON sealed under a key that needs both the server secret
//! and the reference, so neither the database nor the secret alone yields a usable code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::error::VciError;
use super::metadata::{AUTHORIZATION_CODE_GRANT, OFFERS_PATH, PRE_AUTHORIZED_GRANT};
use super::service::Vci;
use crate::audit::events;
use crate::engine::{open_with, seal_with, EngineError, FieldError};
use crate::store::{random_bytes, NewOffer, Offer, OfferState};
use crate::timefmt::rfc3339;

/// Longest accepted transaction-code description (OpenID4VCI 1.0 §4.1.1: at most 300).
const MAX_TX_DESCRIPTION: usize = 300;

/// `tx_code` of an offer request: the portal asks for a transaction code.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TxCodeRequest {
    /// Digits (default `oid4vci.tx_code_length`).
    #[serde(default)]
    #[schema(nullable = false)]
    pub length: Option<u32>,
    /// `numeric` (the default; the only mode: a code typed on a phone keypad).
    #[serde(default)]
    #[schema(nullable = false)]
    pub input_mode: Option<String>,
    /// What the wallet shows beside the input field (at most 300 characters).
    #[serde(default)]
    #[schema(nullable = false, max_length = 300)]
    pub description: Option<String>,
}

/// `POST /v1/offers`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// The doc type offered (its credential configuration id).
    pub doctype: String,
    /// The identified applicant's record, `{namespace: {element: value}}`. Omitted: the
    /// record is not ready, the wallet's request is deferred until `PUT /v1/offers/{id}/claims`.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, Object>>, nullable = false)]
    pub claims: Option<Json>,
    /// Ask for a transaction code.
    #[serde(default)]
    #[schema(nullable = false)]
    pub tx_code: Option<TxCodeRequest>,
    /// Lifetime of the offer and its code, seconds (default and maximum from `[oid4vci]`).
    #[serde(default)]
    #[schema(nullable = false)]
    pub expires_in: Option<u64>,
    /// The grants the offer carries: `pre-authorized_code` (the default) and/or
    /// `authorization_code` (the wallet starts the authorization-code flow with the offer's
    /// `issuer_state`, and the user is authenticated at the portal's login page).
    #[serde(default)]
    pub grants: Option<Vec<String>>,
}

/// `PUT /v1/offers/{id}/claims`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferClaims {
    /// The applicant's record.
    #[schema(value_type = HashMap<String, Object>)]
    pub claims: Json,
}

/// The answer to `POST /v1/offers`: everything the portal needs to hand the offer over.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferCreated {
    /// The offer's id (32 hex digits), for the portal's later calls.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub offer_id: String,
    /// The credential offer by value.
    #[schema(value_type = Object)]
    pub credential_offer: Json,
    /// The credential offer by reference (a single-use secret: show it to the applicant only).
    pub credential_offer_uri: String,
    /// `openid-credential-offer://?credential_offer_uri=…`, for a link or a QR code.
    pub offer_link: String,
    /// `openid-credential-offer://?credential_offer=…` (the offer by value).
    pub offer_link_by_value: String,
    /// The QR code of `offer_link`, as an SVG image.
    pub qr_svg: String,
    /// The transaction code, for the portal to send by another channel (never in the offer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tx_code: Option<String>,
    /// When the offer and its code expire (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Whether the wallet's request will be deferred until the record is given.
    pub pending: bool,
}

/// What the portal may see of an offer (no secrets, no personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferView {
    /// The id.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub offer_id: String,
    /// The doc type.
    pub doctype: String,
    /// `offered`, `redeemed`, `deferred`, `issued`, `withdrawn` or `locked`.
    #[schema(examples("offered", "redeemed", "deferred", "issued", "withdrawn", "locked"))]
    pub state: &'static str,
    /// Whether the offer lapsed before its document was issued (its code, or the access
    /// token it was redeemed for, expired).
    pub expired: bool,
    /// Whether the record is still awaited (deferred issuance).
    pub pending: bool,
    /// Whether a transaction code is required, and the wrong codes so far.
    pub tx_code_required: bool,
    /// Wrong transaction codes so far.
    pub tx_code_failures: u32,
    /// The document issued from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = "^[0-9a-f]{32}$")]
    pub document_id: Option<String>,
    /// The wallet's last notification (`credential_accepted`, `credential_failure`,
    /// `credential_deleted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub wallet_event: Option<String>,
    /// When it expires (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When it was made (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl OfferView {
    fn of(o: &Offer, now: OffsetDateTime) -> Result<Self, EngineError> {
        Ok(OfferView {
            offer_id: hex::encode(o.id),
            doctype: o.doctype.clone(),
            state: o.state.as_str(),
            expired: expired(o, now),
            pending: o.claims_sealed.is_none()
                && matches!(
                    o.state,
                    OfferState::Offered | OfferState::Redeemed | OfferState::Deferred
                ),
            tx_code_required: o.tx_code_required,
            tx_code_failures: o.tx_attempts,
            document_id: o.document_id.map(|d| d.to_hex()),
            wallet_event: o.last_event.clone(),
            expires_at: time_text(o.expires_at)?,
            created_at: time_text(o.created_at)?,
        })
    }
}

/// Whether an offer can no longer lead to a document by lapse of time: an offered code past
/// its lifetime, or a redeemed or deferred offer whose access token has expired.
fn expired(o: &Offer, now: OffsetDateTime) -> bool {
    match o.state {
        OfferState::Offered => now >= o.expires_at,
        OfferState::Redeemed | OfferState::Deferred => o.token_expires_at.is_none_or(|t| now >= t),
        OfferState::Issued | OfferState::Withdrawn | OfferState::Locked => false,
    }
}

fn time_text(t: OffsetDateTime) -> Result<String, EngineError> {
    rfc3339(t).map_err(|e| EngineError::Internal(format!("time: {e}")))
}

fn malformed(path: &str, message: impl Into<String>) -> EngineError {
    EngineError::Validation(vec![FieldError::new(path, "invalid", message)])
}

/// A random base64url string of `N` bytes.
pub(super) fn random_token<const N: usize>() -> Result<String, EngineError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<N>()?))
}

/// SHA-256 of a secret as the store keeps it.
pub(super) fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// `n` random decimal digits, without modulo bias.
fn random_digits(n: u32) -> Result<String, EngineError> {
    let mut out = String::with_capacity(n as usize);
    while out.len() < n as usize {
        for b in random_bytes::<32>()? {
            // 250 = 25 × 10: bytes above it would favour the low digits.
            if b < 250 && out.len() < n as usize {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(out)
}

fn qr_svg(text: &str) -> Result<String, EngineError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| EngineError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

impl Vci {
    fn claims_key(&self) -> [u8; 32] {
        self.secret().derive(b"oid4vci offer claims")
    }

    pub(super) fn offer_key(&self, reference: &str) -> [u8; 32] {
        self.secret()
            .mac(b"oid4vci offer by reference", &[reference.as_bytes()])
    }

    /// The `issuer_state` of an offer with the authorization-code grant: its id and a MAC
    /// under the server secret, so nothing is stored for it and it cannot be forged.
    pub(super) fn issuer_state(&self, id: &[u8; 16]) -> String {
        let mac = self.secret().mac(b"oid4vci issuer_state", &[&id[..]]);
        let mut raw = id.to_vec();
        raw.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The offer an `issuer_state` names, if it is one this issuer made.
    pub(super) fn offer_of_issuer_state(&self, state: &str) -> Option<[u8; 16]> {
        if state.len() > 128 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(state).ok()?;
        let (id, mac) = raw.split_at_checked(16)?;
        let id: [u8; 16] = id.try_into().ok()?;
        let expected = self.secret().mac(b"oid4vci issuer_state", &[&id[..]]);
        bool::from(subtle::ConstantTimeEq::ct_eq(mac, &expected[..])).then_some(id)
    }

    /// The HMAC the store keeps of a transaction code, bound to its pre-authorized code.
    pub(super) fn tx_code_mac(&self, code_sha256: &[u8; 32], tx_code: &str) -> [u8; 32] {
        self.secret()
            .mac(b"oid4vci tx_code", &[&code_sha256[..], tx_code.as_bytes()])
    }

    /// Seals an applicant record for offer `id`.
    pub(super) fn seal_claims(&self, id: &[u8; 16], claims: &Json) -> Result<Vec<u8>, EngineError> {
        let plain = serde_json::to_vec(claims).map_err(|e| EngineError::Internal(e.to_string()))?;
        seal_with(&self.claims_key(), &id[..], &plain)
    }

    /// Opens the applicant record of an offer.
    pub(super) fn open_claims(&self, o: &Offer) -> Result<Option<Json>, EngineError> {
        let Some(sealed) = &o.claims_sealed else {
            return Ok(None);
        };
        let plain = open_with(&self.claims_key(), &o.id[..], sealed)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| EngineError::Internal(format!("stored record: {e}")))
    }

    /// Makes an offer for `client`'s identified applicant.
    pub async fn create_offer(
        &self,
        client: &str,
        req: &OfferRequest,
        now: OffsetDateTime,
    ) -> Result<OfferCreated, EngineError> {
        let cfg = &self.issuer.config().oid4vci;
        if self.issuer.registry().get(&req.doctype).is_none() {
            return Err(EngineError::UnknownDoctype(req.doctype.clone()));
        }
        if let Some(claims) = &req.claims {
            self.issuer.check_claims(&req.doctype, claims)?;
        }
        let (pre_auth, auth_code) = match &req.grants {
            None => (true, false),
            Some(g) => {
                let mut pair = (false, false);
                for name in g {
                    match name.as_str() {
                        "pre-authorized_code" | PRE_AUTHORIZED_GRANT => pair.0 = true,
                        AUTHORIZATION_CODE_GRANT => pair.1 = true,
                        _ => {
                            return Err(malformed(
                                "grants",
                                "grants are pre-authorized_code and authorization_code",
                            ))
                        }
                    }
                }
                pair
            }
        };
        if !pre_auth && !auth_code {
            return Err(malformed("grants", "name at least one grant"));
        }
        if auth_code && cfg.portal_login_url.is_none() {
            return Err(malformed(
                "grants",
                "the authorization-code flow is not enabled (oid4vci.portal_login_url)",
            ));
        }
        if req.tx_code.is_some() && !pre_auth {
            return Err(malformed(
                "tx_code",
                "a transaction code goes with the pre-authorized_code grant only",
            ));
        }
        let ttl = req.expires_in.unwrap_or(cfg.offer_ttl_secs);
        if ttl == 0 || ttl > cfg.max_offer_ttl_secs {
            return Err(malformed(
                "expires_in",
                format!("must be 1 to {} seconds", cfg.max_offer_ttl_secs),
            ));
        }
        let tx = match &req.tx_code {
            None => None,
            Some(t) => {
                let length = t.length.unwrap_or(cfg.tx_code_length);
                if !(4..=12).contains(&length) {
                    return Err(malformed("tx_code/length", "must be 4 to 12 digits"));
                }
                if t.input_mode.as_deref().is_some_and(|m| m != "numeric") {
                    return Err(malformed(
                        "tx_code/input_mode",
                        "only \"numeric\" codes are issued",
                    ));
                }
                if t.description
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > MAX_TX_DESCRIPTION)
                {
                    return Err(malformed(
                        "tx_code/description",
                        format!("at most {MAX_TX_DESCRIPTION} characters"),
                    ));
                }
                Some((random_digits(length)?, length, t.description.clone()))
            }
        };

        let id: [u8; 16] = random_bytes()?;
        let code = random_token::<32>()?;
        let reference = random_token::<32>()?;
        let issuer_id = self.issuer.issuer_id();
        let mut grant = serde_json::Map::new();
        grant.insert("pre-authorized_code".into(), json!(code));
        if let Some((_, length, description)) = &tx {
            let mut spec = serde_json::Map::new();
            spec.insert("input_mode".into(), json!("numeric"));
            spec.insert("length".into(), json!(length));
            if let Some(d) = description {
                spec.insert("description".into(), json!(d));
            }
            grant.insert("tx_code".into(), Json::Object(spec));
        }
        let mut grants = serde_json::Map::new();
        if pre_auth {
            grants.insert(PRE_AUTHORIZED_GRANT.into(), Json::Object(grant));
        }
        if auth_code {
            grants.insert(
                AUTHORIZATION_CODE_GRANT.into(),
                json!({"issuer_state": self.issuer_state(&id)}),
            );
        }
        let offer = json!({
            "credential_issuer": issuer_id,
            "credential_configuration_ids": [req.doctype],
            "grants": grants,
        });
        let offer_bytes =
            serde_json::to_vec(&offer).map_err(|e| EngineError::Internal(e.to_string()))?;
        let expires_at = now.saturating_add(Duration::seconds(i64::try_from(ttl).unwrap_or(0)));
        let record = NewOffer {
            id,
            client_id: client.to_owned(),
            doctype: req.doctype.clone(),
            claims_sealed: req
                .claims
                .as_ref()
                .map(|c| self.seal_claims(&id, c))
                .transpose()?,
            pre_auth_sha256: sha256(&code),
            offer_ref_sha256: sha256(&reference),
            offer_sealed: seal_with(&self.offer_key(&reference), &id[..], &offer_bytes)?,
            tx_code_mac: tx
                .as_ref()
                .map(|(c, _, _)| self.tx_code_mac(&sha256(&code), c)),
            expires_at,
            created_at: now,
        };
        let event = custody::audit::AuditEvent::success(events::OFFER_CREATE)
            .actor(client)
            .detail("offer", hex::encode(id))
            .detail("doctype", &req.doctype)
            .detail("tx_code", tx.is_some().to_string())
            .detail("authorization_code", auth_code.to_string())
            .detail("pending", req.claims.is_none().to_string())
            .detail("expires_at", time_text(expires_at)?);
        self.issuer.audit_record(event).await?;
        if let Err(e) = self.issuer.store().insert_offer(&record).await {
            let rollback = custody::audit::AuditEvent::failure(events::OFFER_CREATE)
                .actor(client)
                .detail("offer", hex::encode(id))
                .detail("rolled_back", "storage");
            self.issuer.audit_record(rollback).await?;
            return Err(e.into());
        }

        let uri = format!("{issuer_id}{OFFERS_PATH}/{reference}");
        let offer_link = format!(
            "openid-credential-offer://?credential_offer_uri={}",
            form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
        );
        let offer_text = String::from_utf8_lossy(&offer_bytes).into_owned();
        Ok(OfferCreated {
            offer_id: hex::encode(id),
            offer_link_by_value: format!(
                "openid-credential-offer://?credential_offer={}",
                form_urlencoded::byte_serialize(offer_text.as_bytes()).collect::<String>()
            ),
            qr_svg: qr_svg(&offer_link)?,
            credential_offer: offer,
            credential_offer_uri: uri,
            offer_link,
            tx_code: tx.map(|(c, _, _)| c),
            expires_at: time_text(expires_at)?,
            pending: req.claims.is_none(),
        })
    }

    /// The offer `id` as its owner (or an admin) may see it; another client's offer is
    /// answered as unknown.
    async fn owned_offer(&self, client: &str, admin: bool, id: &str) -> Result<Offer, EngineError> {
        let raw = hex::decode(id)
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or(EngineError::NotFound("offer"))?;
        let offer = self.issuer.store().offer(&raw).await?;
        if offer.client_id != client && !admin {
            return Err(EngineError::NotFound("offer"));
        }
        Ok(offer)
    }

    /// `GET /v1/offers/{id}`.
    pub async fn offer_view(
        &self,
        client: &str,
        admin: bool,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<OfferView, EngineError> {
        OfferView::of(&self.owned_offer(client, admin, id).await?, now)
    }

    /// `DELETE /v1/offers/{id}`: the code, token and transaction stop working at once.
    pub async fn withdraw_offer(
        &self,
        client: &str,
        admin: bool,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<OfferView, EngineError> {
        let offer = self.owned_offer(client, admin, id).await?;
        let event = custody::audit::AuditEvent::success(events::OFFER_WITHDRAW)
            .actor(client)
            .detail("offer", hex::encode(offer.id));
        self.issuer.audit_record(event).await?;
        if !self.issuer.store().withdraw_offer(&offer.id, now).await? {
            let rollback = custody::audit::AuditEvent::failure(events::OFFER_WITHDRAW)
                .actor(client)
                .detail("offer", hex::encode(offer.id))
                .detail("rolled_back", "offer_state");
            self.issuer.audit_record(rollback).await?;
            let now_state = self.issuer.store().offer(&offer.id).await?.state;
            return Err(EngineError::OfferState(now_state.as_str()));
        }
        self.offer_view(client, admin, id, now).await
    }

    /// `PUT /v1/offers/{id}/claims`: the record of a pending offer, checked against the doc
    /// type; a deferred request is issued when the wallet next polls.
    pub async fn give_claims(
        &self,
        client: &str,
        admin: bool,
        id: &str,
        claims: &Json,
        now: OffsetDateTime,
    ) -> Result<OfferView, EngineError> {
        let offer = self.owned_offer(client, admin, id).await?;
        self.issuer.check_claims(&offer.doctype, claims)?;
        let sealed = self.seal_claims(&offer.id, claims)?;
        let event = custody::audit::AuditEvent::success(events::OFFER_CLAIMS)
            .actor(client)
            .detail("offer", hex::encode(offer.id));
        self.issuer.audit_record(event).await?;
        if !self
            .issuer
            .store()
            .set_offer_claims(&offer.id, &sealed, now)
            .await?
        {
            let rollback = custody::audit::AuditEvent::failure(events::OFFER_CLAIMS)
                .actor(client)
                .detail("offer", hex::encode(offer.id))
                .detail("rolled_back", "offer_state");
            self.issuer.audit_record(rollback).await?;
            return Err(EngineError::OfferState(if offer.claims_sealed.is_some() {
                "not pending"
            } else if expired(&offer, now) {
                "expired"
            } else {
                offer.state.as_str()
            }));
        }
        self.offer_view(client, admin, id, now).await
    }

    /// `GET /oid4vci/offers/{ref}`: the offer JSON while it waits for its wallet.
    pub async fn offer_by_reference(
        &self,
        reference: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>, VciError> {
        if reference.len() > 64 {
            return Ok(None);
        }
        let Some((id, state, expires, sealed)) =
            self.issuer.store().offer_by_ref(&sha256(reference)).await?
        else {
            return Ok(None);
        };
        if state != OfferState::Offered || now >= expires {
            return Ok(None);
        }
        Ok(Some(open_with(
            &self.offer_key(reference),
            &id[..],
            &sealed,
        )?))
    }
}
