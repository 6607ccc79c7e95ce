//! The credential endpoint (OpenID4VCI 1.0 §8), the deferred credential endpoint (§9) and
//! the notification endpoint (§11).
//!
//! A credential request becomes an issuance request of the engine: the claims are the
//! offer's record, the device keys are the keys of the `jwt` proofs (one MSO each, with
//! independent salts: batch issuance), and the request's idempotency key is the offer's, so
//! a retry of the same request is answered byte for byte from the stored record and
//! nothing is signed twice. The offer moves to `issued` only after the engine committed; a
//! crash in between leaves the offer redeemed and the identical retry replays.
//!
//! A request names what it asks for by `credential_configuration_id`, or, when the access
//! token came with a credential identifier (the wallet asked with `authorization_details`,
//! §6.2), by that `credential_identifier` and never by configuration (§8.2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::CborSerializable;
use serde_json::{json, Map, Value as Json};
use time::OffsetDateTime;

use super::error::VciError;
use super::offers::{random_token, sha256};
use super::service::Vci;
use crate::audit::events;
use crate::engine::{DeviceKeyInput, IssueOutcome, IssueRequest, IssueResponse, RequestContext};
use crate::store::{Offer, OfferIssued, OfferState};

/// The notification events a wallet may send (§11.1).
pub const NOTIFICATION_EVENTS: [&str; 3] = [
    "credential_accepted",
    "credential_failure",
    "credential_deleted",
];
/// Longest accepted `event_description` (it is only digested into the audit log).
const MAX_EVENT_DESCRIPTION: usize = 1024;

/// The answer to a credential or deferred request.
#[derive(Debug, Clone)]
pub enum CredentialAnswer {
    /// 200: the credentials, one per proof, and the notification id.
    Issued(Json),
    /// 202: the request was accepted; poll the deferred endpoint.
    Deferred(Json),
}

fn object(body: &[u8]) -> Result<Map<String, Json>, VciError> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(VciError::InvalidCredentialRequest(
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(VciError::InvalidCredentialRequest(format!(
            "the body is not JSON: {e}"
        ))),
    }
}

fn text<'a>(m: &'a Map<String, Json>, name: &str) -> Result<Option<&'a str>, VciError> {
    match m.get(name) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(VciError::InvalidCredentialRequest(format!(
            "{name} must be a string"
        ))),
    }
}

/// The `jwt` proofs of a credential request (`proofs: {jwt: [...]}`), checked for shape.
fn jwt_proofs(m: &Map<String, Json>, max: usize) -> Result<Vec<String>, VciError> {
    if m.contains_key("proof") {
        return Err(VciError::InvalidCredentialRequest(
            "`proof` was removed in OpenID4VCI 1.0: send `proofs: {\"jwt\": [...]}`".into(),
        ));
    }
    let proofs = match m.get("proofs") {
        Some(Json::Object(p)) => p,
        Some(_) => {
            return Err(VciError::InvalidCredentialRequest(
                "proofs must be an object".into(),
            ))
        }
        None => {
            return Err(VciError::InvalidProof(
                "proofs is required: this issuer binds every credential to a key".into(),
            ))
        }
    };
    if let Some(other) = proofs.keys().find(|k| k.as_str() != "jwt") {
        return Err(VciError::InvalidProof(format!(
            "proof type {other:?} is not supported (only jwt)"
        )));
    }
    let list = match proofs.get("jwt") {
        Some(Json::Array(a)) => a,
        _ => {
            return Err(VciError::InvalidCredentialRequest(
                "proofs.jwt must be an array".into(),
            ))
        }
    };
    if list.is_empty() || list.len() > max {
        return Err(VciError::InvalidCredentialRequest(format!(
            "give 1 to {max} proofs (the batch size), found {}",
            list.len()
        )));
    }
    list.iter()
        .map(|p| {
            p.as_str()
                .map(str::to_owned)
                .ok_or_else(|| VciError::InvalidProof("each jwt proof must be a string".into()))
        })
        .collect()
}

/// The credentials of an engine answer, as §8.3 shapes them.
fn credentials(response: &IssueResponse, notification_id: &str) -> Json {
    let list: Vec<Json> = response
        .credentials
        .iter()
        .map(|c| json!({"credential": c.issuer_signed}))
        .collect();
    json!({"credentials": list, "notification_id": notification_id})
}

impl Vci {
    /// The idempotency key of every issuance request of one offer: the offer can lead to one
    /// document only, and a retry of its request is answered from the record.
    fn idempotency_key(offer: &Offer) -> String {
        format!("oid4vci-offer-{}", hex::encode(offer.id))
    }

    /// `POST /oid4vci/nonce`: a fresh `c_nonce`.
    pub fn nonce(&self, now: OffsetDateTime) -> Result<Json, VciError> {
        let (nonce, _) = self.issuer.new_nonce(now).map_err(VciError::Service)?;
        Ok(json!({"c_nonce": nonce}))
    }

    /// Checks what a credential request names (§8.2) against what the access token was
    /// granted: the credential identifier that came with the token, when one did (then a
    /// `credential_configuration_id` is refused), else the offer's configuration.
    fn requested_configuration(
        &self,
        offer: &Offer,
        m: &Map<String, Json>,
    ) -> Result<(), VciError> {
        let config_id = text(m, "credential_configuration_id")?;
        let identifier = text(m, "credential_identifier")?;
        let granted = offer.credential_identifier_sha256.as_ref();
        match (config_id, identifier, granted) {
            (Some(_), Some(_), _) => Err(VciError::InvalidCredentialRequest(
                "give credential_configuration_id or credential_identifier, not both".into(),
            )),
            (None, Some(i), Some(granted)) => {
                // Both are SHA-256 digests: comparing them tells nothing of the identifier.
                if sha256(i) == *granted {
                    Ok(())
                } else {
                    Err(VciError::UnknownCredentialIdentifier(
                        "not a credential identifier granted with this access token".into(),
                    ))
                }
            }
            (None, Some(_), None) => Err(VciError::UnknownCredentialIdentifier(
                "no credential identifier was granted with this access token (it was not \
                 asked for with authorization_details): use credential_configuration_id"
                    .into(),
            )),
            (Some(_), None, Some(_)) => Err(VciError::InvalidCredentialRequest(
                "a credential identifier was granted with this access token \
                 (authorization_details): send credential_identifier, not \
                 credential_configuration_id"
                    .into(),
            )),
            (None, None, Some(_)) => Err(VciError::InvalidCredentialRequest(
                "credential_identifier is required".into(),
            )),
            (None, None, None) if m.contains_key("format") || m.contains_key("doctype") => {
                Err(VciError::InvalidCredentialRequest(
                    "format/doctype requests are from drafts before 1.0: send \
                     credential_configuration_id"
                        .into(),
                ))
            }
            (None, None, None) => Err(VciError::InvalidCredentialRequest(
                "credential_configuration_id is required".into(),
            )),
            (Some(c), None, None) => {
                if self.issuer.registry().get(c).is_none() {
                    return Err(VciError::UnknownCredentialConfiguration(format!(
                        "{c:?} is not offered by this issuer"
                    )));
                }
                if c != offer.doctype {
                    return Err(VciError::CredentialRequestDenied(format!(
                        "the access token was granted for {:?} only",
                        offer.doctype
                    )));
                }
                Ok(())
            }
        }
    }

    /// `POST /oid4vci/credential` for the offer the access token authorised.
    pub async fn credential(
        &self,
        offer: &Offer,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<CredentialAnswer, VciError> {
        let m = object(body)?;
        if m.contains_key("credential_response_encryption") {
            return Err(VciError::InvalidEncryptionParameters(
                "credential response encryption is not offered by this issuer".into(),
            ));
        }
        self.requested_configuration(offer, &m)?;
        let proofs = jwt_proofs(&m, self.issuer.config().issuance.max_batch)?;
        let first = proofs.first().map(String::as_str).unwrap_or_default();
        let nonce = crate::jose::proof::unverified_nonce(first)
            .map_err(|e| VciError::InvalidProof(e.to_string()))?
            .ok_or_else(|| {
                VciError::InvalidNonce("the proof has no nonce: get a c_nonce first".into())
            })?;
        self.check_key_attestations(&proofs, &nonce, now)?;
        let device_keys: Vec<DeviceKeyInput> = proofs
            .into_iter()
            .map(|proof| DeviceKeyInput {
                cose_key: None,
                jwk: None,
                proof,
            })
            .collect();
        let key = Self::idempotency_key(offer);
        let closing = OfferIssued {
            id: offer.id,
            notification_id: random_token::<16>()?,
        };
        let cx = RequestContext {
            client_id: &offer.client_id,
            admin: false,
            idempotency_key: Some(&key),
            route: "POST /oid4vci/credential",
            body,
            now,
            offer: Some(&closing),
        };
        match offer.state {
            OfferState::Redeemed => {}
            OfferState::Issued => {
                // Only the exact request that was answered may be answered again.
                let req = IssueRequest {
                    doctype: offer.doctype.clone(),
                    claims: self.open_claims(offer)?.unwrap_or(Json::Null),
                    nonce,
                    device_keys,
                };
                return match self.issuer.replay_issue(cx, &req).await {
                    Ok(Some(outcome)) => Ok(self.answer(offer, &closing, outcome).await?),
                    Ok(None) | Err(crate::engine::EngineError::IdempotencyConflict) => {
                        Err(VciError::CredentialRequestDenied(
                            "this offer's credential was already issued; ask the portal for \
                             a new offer"
                                .into(),
                        ))
                    }
                    Err(e) => Err(e.into()),
                };
            }
            OfferState::Deferred => {
                return Err(VciError::CredentialRequestDenied(
                    "this offer's request was deferred: poll the deferred endpoint".into(),
                ))
            }
            OfferState::Offered | OfferState::Withdrawn | OfferState::Locked => {
                return Err(VciError::InvalidToken("the offer is not redeemed".into()))
            }
        }
        let Some(claims) = self.open_claims(offer)? else {
            return self.defer(offer, &device_keys, &nonce, now).await;
        };
        let req = IssueRequest {
            doctype: offer.doctype.clone(),
            claims,
            nonce,
            device_keys,
        };
        let outcome = self.issuer.issue(cx, &req).await?;
        self.answer(offer, &closing, outcome).await
    }

    /// Shapes the engine's answer: a first issuance closed the offer with `closing`'s
    /// notification id in its own transaction; a replay answers with the id stored then.
    async fn answer(
        &self,
        offer: &Offer,
        closing: &OfferIssued,
        outcome: IssueOutcome,
    ) -> Result<CredentialAnswer, VciError> {
        let (response, first) = match outcome {
            IssueOutcome::Issued(r) | IssueOutcome::Refreshed(r) => (r, true),
            IssueOutcome::Replayed { response, .. } => (response, false),
        };
        let notification_id = if first {
            closing.notification_id.clone()
        } else {
            match &offer.notification_id {
                Some(n) => n.clone(),
                // Closed by a concurrent twin of this request after the offer was read.
                None => self
                    .issuer
                    .store()
                    .offer(&offer.id)
                    .await?
                    .notification_id
                    .ok_or_else(|| {
                        VciError::Service(crate::engine::EngineError::Internal(
                            "an issued offer without a notification id".into(),
                        ))
                    })?,
            }
        };
        Ok(CredentialAnswer::Issued(credentials(
            &response,
            &notification_id,
        )))
    }

    /// Accepts a request whose record the portal has not given yet: the proofs and nonce are
    /// checked now, the keys kept, the nonce consumed; the wallet polls with the transaction id.
    async fn defer(
        &self,
        offer: &Offer,
        device_keys: &[DeviceKeyInput],
        nonce: &str,
        now: OffsetDateTime,
    ) -> Result<CredentialAnswer, VciError> {
        let (keys, used) = self
            .issuer
            .check_key_proofs(device_keys, nonce, now)
            .await?;
        let encoded: Vec<String> = keys
            .iter()
            .map(|k| {
                k.to_cose_key()
                    .to_vec()
                    .map(|b| URL_SAFE_NO_PAD.encode(b))
                    .map_err(|e| {
                        VciError::Service(crate::engine::EngineError::Internal(e.to_string()))
                    })
            })
            .collect::<Result<_, _>>()?;
        let keys_blob = serde_json::to_vec(&encoded)
            .map_err(|e| VciError::Service(crate::engine::EngineError::Internal(e.to_string())))?;
        let transaction = random_token::<32>()?;
        let event = custody::audit::AuditEvent::success(events::DEFER)
            .actor(&offer.client_id)
            .detail("offer", hex::encode(offer.id))
            .detail("keys", keys.len().to_string());
        self.issuer.audit_record(event).await?;
        let wait = self.issuer.config().oid4vci.deferred_ttl_secs;
        let until = now.saturating_add(time::Duration::seconds(
            i64::try_from(wait).unwrap_or(i64::MAX),
        ));
        let stored = self
            .issuer
            .store()
            .defer_offer(
                &offer.id,
                &sha256(&transaction),
                &keys_blob,
                &used,
                now,
                until,
            )
            .await;
        if !matches!(stored, Ok(true)) {
            let rollback = custody::audit::AuditEvent::failure(events::DEFER)
                .actor(&offer.client_id)
                .detail("offer", hex::encode(offer.id))
                .detail("rolled_back", "offer_state");
            self.issuer.audit_record(rollback).await?;
            return match stored {
                Err(crate::store::StoreError::NonceReused) => Err(VciError::InvalidNonce(
                    "the c_nonce was already used".into(),
                )),
                Err(e) => Err(e.into()),
                Ok(_) => Err(VciError::CredentialRequestDenied(
                    "the offer changed meanwhile".into(),
                )),
            };
        }
        let interval = self.issuer.config().oid4vci.deferred_interval_secs;
        Ok(CredentialAnswer::Deferred(
            json!({"transaction_id": transaction, "interval": interval}),
        ))
    }

    /// `POST /oid4vci/deferred`.
    pub async fn deferred(
        &self,
        offer: &Offer,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<CredentialAnswer, VciError> {
        let m = object(body)?;
        let transaction = text(&m, "transaction_id")?.ok_or_else(|| {
            VciError::InvalidCredentialRequest("transaction_id is required".into())
        })?;
        if transaction.len() > 128 {
            return Err(VciError::InvalidTransactionId);
        }
        let owner = self
            .issuer
            .store()
            .offer_by_transaction(&sha256(transaction))
            .await?;
        if owner.as_ref().map(|o| o.id) != Some(offer.id) {
            return Err(VciError::InvalidTransactionId);
        }
        let key = Self::idempotency_key(offer);
        let closing = OfferIssued {
            id: offer.id,
            notification_id: random_token::<16>()?,
        };
        let cx = RequestContext {
            client_id: &offer.client_id,
            admin: false,
            idempotency_key: Some(&key),
            route: "POST /oid4vci/deferred",
            body,
            now,
            offer: Some(&closing),
        };
        let claims = match (offer.state, self.open_claims(offer)?) {
            (OfferState::Deferred | OfferState::Issued, Some(c)) => c,
            (OfferState::Deferred, None) => {
                return Err(VciError::IssuancePending {
                    interval: self.issuer.config().oid4vci.deferred_interval_secs,
                })
            }
            _ => return Err(VciError::InvalidTransactionId),
        };
        let keys = match &offer.deferred_keys {
            Some(blob) => serde_json::from_slice::<Vec<String>>(blob).map_err(|e| {
                VciError::Service(crate::engine::EngineError::Internal(format!(
                    "stored deferred keys: {e}"
                )))
            })?,
            None => Vec::new(),
        };
        let device_keys: Vec<DeviceKeyInput> = keys
            .into_iter()
            .map(|k| DeviceKeyInput {
                cose_key: Some(k),
                jwk: None,
                proof: String::new(),
            })
            .collect();
        if offer.state == OfferState::Issued {
            // The keys were dropped when it was issued: only the stored answer remains.
            let req = IssueRequest {
                doctype: offer.doctype.clone(),
                claims,
                nonce: String::new(),
                device_keys,
            };
            return match self.issuer.replay_issue(cx, &req).await {
                Ok(Some(outcome)) => self.answer(offer, &closing, outcome).await,
                Ok(None) | Err(crate::engine::EngineError::IdempotencyConflict) => {
                    Err(VciError::InvalidTransactionId)
                }
                Err(e) => Err(e.into()),
            };
        }
        let outcome = self
            .issuer
            .issue_bound(cx, &offer.doctype, &claims, &device_keys)
            .await?;
        self.answer(offer, &closing, outcome).await
    }

    /// `POST /oid4vci/notification`: recorded on the offer and audited.
    pub async fn notification(
        &self,
        offer: &Offer,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), VciError> {
        let bad = |m: &str| VciError::InvalidNotificationRequest(m.to_owned());
        let m = match serde_json::from_slice::<Json>(body) {
            Ok(Json::Object(m)) => m,
            _ => return Err(bad("the body must be a JSON object")),
        };
        let id = m
            .get("notification_id")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("notification_id is required"))?;
        let event = m
            .get("event")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("event is required"))?;
        if !NOTIFICATION_EVENTS.contains(&event) {
            return Err(bad(
                "event must be credential_accepted, credential_failure or credential_deleted",
            ));
        }
        let description = match m.get("event_description") {
            None => None,
            Some(Json::String(d)) if d.len() <= MAX_EVENT_DESCRIPTION && d.is_ascii() => {
                Some(d.as_str())
            }
            Some(_) => {
                return Err(bad(
                    "event_description must be ASCII text of at most 1024 bytes",
                ))
            }
        };
        if offer.notification_id.as_deref() != Some(id) {
            return Err(VciError::InvalidNotificationId);
        }
        let mut audit = custody::audit::AuditEvent::success(events::NOTIFICATION)
            .actor(&offer.client_id)
            .detail("offer", hex::encode(offer.id))
            .detail("event", event);
        if let Some(doc) = offer.document_id {
            audit = audit.detail("document", doc.to_hex());
        }
        if let Some(d) = description {
            audit = audit.detail("description_sha256", crate::audit::digest(d));
        }
        self.issuer.audit_record(audit).await?;
        self.issuer
            .store()
            .record_notification(id, event, now)
            .await?
            .ok_or(VciError::InvalidNotificationId)?;
        Ok(())
    }
}
