//! The authorization-code flow of HAIP 1.0: pushed authorization requests (RFC 9126) with
//! PKCE S256 (RFC 7636) and optional DPoP binding (RFC 9449 §10), the authorization endpoint
//! (pushed requests only), and the portal hand-off that authenticates the user.
//!
//! # The portal hand-off
//!
//! 1. The wallet pushes its request to `POST /oid4vci/par` and sends the browser to
//!    `GET /oid4vci/authorize?client_id=…&request_uri=…`.
//! 2. The issuer answers 302 to `oid4vci.portal_login_url?session=<id>&doctype=<doc type>`.
//! 3. The portal authenticates the user its own way, then calls the issuer back (bearer API
//!    client, scope `issue`): `POST /v1/authorizations/{session}` with `{"claims": {…}}` (the
//!    identified record, validated against the doc type at once) or `{"error":
//!    "access_denied"}`. A request that carried the `issuer_state` of a portal offer with the
//!    `authorization_code` grant already has the offer's record: `claims` may be omitted.
//! 4. The issuer answers `{"redirect_to": "<redirect_uri>?code=…&state=…&iss=…"}` (RFC 9207
//!    `iss`); the portal sends the browser there.
//! 5. The wallet redeems the code at the token endpoint (`code_verifier`, `redirect_uri`,
//!    `client_id`, the DPoP key the request was bound to) within 60 seconds, once.
//!
//! At approval the authorization becomes an offer row whose `pre_auth_sha256` is the code's
//! SHA-256 (or the linked portal offer takes it), so the token endpoint redeems it through the
//! offers' single-transaction path and the credential, deferred and notification endpoints
//! serve it unchanged. The document belongs to the portal client that completed the hand-off
//! (or made the linked offer).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::attest::{attested_by, ClientAuth};
use super::error::VciError;
use super::metadata::{AUTHORIZATION_CODE_GRANT, REQUEST_URI_PREFIX};
use super::offers::{random_token, sha256};
use super::service::Vci;
use super::token::{bounded_form, param, required, MAX_PARAMS, MAX_PARAM_LEN};
use crate::audit::events;
use crate::engine::{seal_with, EngineError, FieldError};
use crate::store::{
    random_bytes, ApprovedOffer, Authorization, AuthorizationStatus, NewAuthorization, NewOffer,
    OfferState,
};

/// Lifetime of an authorization code (HAIP: short-lived, single use).
pub const AUTHORIZATION_CODE_TTL: Duration = Duration::seconds(60);
/// Longest `client_id`, `state` or `redirect_uri`.
const MAX_TEXT_LEN: usize = 512;

/// The answer to a pushed authorization request (RFC 9126 §2.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PushedRequest {
    /// `urn:ietf:params:oauth:request_uri:<random>`, single use.
    pub request_uri: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// `POST /v1/authorizations/{session}`: the portal's verdict on a hand-off.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    /// The identified applicant's record, `{namespace: {element: value}}`.
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, Object>>, nullable = false)]
    pub claims: Option<Json>,
    /// `access_denied`: the user was not authenticated or declined.
    #[serde(default)]
    #[schema(nullable = false)]
    pub error: Option<String>,
}

/// The answer to the hand-off: where the portal sends the browser.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffAnswer {
    /// The wallet's `redirect_uri` with `code` (or `error`), `state` and `iss`.
    pub redirect_to: String,
}

fn malformed(path: &str, message: impl Into<String>) -> EngineError {
    EngineError::Validation(vec![FieldError::new(path, "invalid", message)])
}

/// A `redirect_uri` a wallet may push: an absolute URL without a fragment, `https`, `http` on
/// loopback, or a private-use scheme of an app (RFC 8252 §7.1).
fn check_redirect_uri(uri: &str) -> Result<(), VciError> {
    let bad = |m: &str| VciError::InvalidRequest(format!("redirect_uri {m}"));
    if uri.len() > MAX_TEXT_LEN {
        return Err(bad("is too long"));
    }
    let u = url::Url::parse(uri).map_err(|_| bad("must be an absolute URL"))?;
    if u.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" => match u.host() {
            Some(url::Host::Domain("localhost")) => Ok(()),
            Some(url::Host::Ipv4(a)) if a.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(a)) if a.is_loopback() => Ok(()),
            _ => Err(bad("may use http on loopback only")),
        },
        "javascript" | "data" | "file" | "vbscript" => Err(bad("has a refused scheme")),
        s if s.contains('.') || s.len() > 3 => Ok(()),
        _ => Err(bad("must use https or an app's private-use scheme")),
    }
}

/// Visible ASCII, non-empty, bounded.
fn check_text(name: &str, v: &str) -> Result<(), VciError> {
    if v.is_empty() || v.len() > MAX_TEXT_LEN || !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(VciError::InvalidRequest(format!(
            "{name} must be 1 to {MAX_TEXT_LEN} visible ASCII characters"
        )));
    }
    Ok(())
}

/// The S256 code challenge of a verifier (RFC 7636 §4.2).
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `redirect_uri` with the query parameters added.
fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> Result<String, EngineError> {
    let mut u = url::Url::parse(redirect_uri)
        .map_err(|e| EngineError::Internal(format!("stored redirect_uri: {e}")))?;
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Ok(u.into())
}

impl Vci {
    /// The one doc type a request names by `scope` and/or `authorization_details`, and
    /// whether `authorization_details` named it (then its token response grants a credential
    /// identifier, OpenID4VCI 1.0 §6.2).
    fn requested_doctype(
        &self,
        scope: Option<&str>,
        details: Option<&str>,
    ) -> Result<(String, bool), VciError> {
        let mut named: Vec<String> = Vec::new();
        if let Some(scope) = scope {
            for s in scope.split(' ').filter(|s| !s.is_empty()) {
                if self.issuer.registry().get(s).is_none() {
                    return Err(VciError::InvalidScope(format!(
                        "{s:?} is not a credential configuration scope of this issuer"
                    )));
                }
                named.push(s.to_owned());
            }
        }
        let by_details = details.is_some();
        if let Some(details) = details {
            named.extend(self.detailed_configurations(details)?);
        }
        named.sort_unstable();
        named.dedup();
        match named.as_slice() {
            [one] => Ok((one.clone(), by_details)),
            [] => Err(VciError::InvalidScope(
                "name a credential configuration by scope or authorization_details".into(),
            )),
            _ => Err(VciError::InvalidScope(
                "one credential configuration per authorization request".into(),
            )),
        }
    }

    /// `POST /oid4vci/par`: checks and stores a pushed authorization request. `dpop_jkt` is
    /// the key of the request's verified DPoP proof, `client_auth` its wallet attestation.
    pub async fn push_authorization(
        &self,
        params: &[(String, String)],
        dpop_jkt: Option<String>,
        client_auth: Option<&ClientAuth>,
        now: OffsetDateTime,
    ) -> Result<PushedRequest, VciError> {
        let cfg = &self.issuer.config().oid4vci;
        if cfg.portal_login_url.is_none() {
            return Err(VciError::InvalidRequest(
                "the authorization-code flow is not enabled".into(),
            ));
        }
        bounded_form(params)?;
        if param(params, "request_uri")?.is_some() || param(params, "request")?.is_some() {
            return Err(VciError::InvalidRequest(
                "request_uri and request objects are not accepted in a pushed request".into(),
            ));
        }
        let client_id = required(params, "client_id")?;
        check_text("client_id", client_id)?;
        let attestation = self
            .client_attestation(client_auth, Some(client_id), now)
            .await?;
        let response_type = required(params, "response_type")?;
        if response_type != "code" {
            return Err(VciError::UnsupportedResponseType(
                "response_type must be code".into(),
            ));
        }
        let redirect_uri = required(params, "redirect_uri")?;
        check_redirect_uri(redirect_uri)?;
        let challenge = required(params, "code_challenge")?;
        match param(params, "code_challenge_method")? {
            Some("S256") => {}
            Some("plain") => {
                return Err(VciError::InvalidRequest(
                    "code_challenge_method plain is refused: use S256".into(),
                ))
            }
            _ => {
                return Err(VciError::InvalidRequest(
                    "PKCE is required: code_challenge_method must be S256".into(),
                ))
            }
        }
        let challenge_ok = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !challenge_ok {
            return Err(VciError::InvalidRequest(
                "code_challenge must be the base64url SHA-256 of the code_verifier".into(),
            ));
        }
        let (doctype, by_authorization_details) = self.requested_doctype(
            param(params, "scope")?,
            param(params, "authorization_details")?,
        )?;
        let state = param(params, "state")?;
        if let Some(s) = state {
            check_text("state", s)?;
        }
        let jkt = match (dpop_jkt, param(params, "dpop_jkt")?) {
            (Some(h), Some(p)) if h != p => {
                return Err(VciError::InvalidDpopProof {
                    description: "dpop_jkt is not the key of the DPoP proof".into(),
                    resource: false,
                })
            }
            (Some(h), _) => Some(h),
            (None, Some(p)) => {
                check_text("dpop_jkt", p)?;
                Some(p.to_owned())
            }
            (None, None) => None,
        };
        let offer_id = match param(params, "issuer_state")? {
            None => None,
            Some(s) => {
                let bad = |m: &str| VciError::InvalidRequest(format!("issuer_state: {m}"));
                let id = self
                    .offer_of_issuer_state(s)
                    .ok_or_else(|| bad("not one this issuer made"))?;
                let offer = self.issuer.store().offer(&id).await.map_err(|e| match e {
                    crate::store::StoreError::NotFound(_) => bad("its offer is gone"),
                    other => other.into(),
                })?;
                if offer.state != OfferState::Offered || now >= offer.expires_at {
                    return Err(bad("its offer was used, withdrawn or has expired"));
                }
                if offer.doctype != doctype {
                    return Err(bad("its offer is for another credential configuration"));
                }
                Some(id)
            }
        };

        let id: [u8; 16] = random_bytes()?;
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token::<32>()?);
        let ttl = cfg.par_ttl_secs;
        let record = NewAuthorization {
            id,
            request_uri_sha256: sha256(&request_uri),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: challenge.to_owned(),
            doctype: doctype.clone(),
            by_authorization_details,
            oauth_state: state.map(str::to_owned),
            dpop_jkt: jkt.clone(),
            attested_by: attestation.as_ref().map(attested_by),
            offer_id,
            request_expires_at: now
                .saturating_add(Duration::seconds(i64::try_from(ttl).unwrap_or(60))),
            created_at: now,
        };
        let mut event = custody::audit::AuditEvent::success(events::AUTHORIZATION_PUSH)
            .actor("wallet")
            .detail("authorization", hex::encode(id))
            .detail("client_id_sha256", crate::audit::digest(client_id))
            .detail("doctype", &doctype)
            .detail(
                "authorization_details",
                by_authorization_details.to_string(),
            )
            .detail("dpop", jkt.is_some().to_string())
            .detail(
                "attested_by",
                record.attested_by.clone().unwrap_or_else(|| "-".into()),
            );
        if let Some(o) = offer_id {
            event = event.detail("offer", hex::encode(o));
        }
        self.issuer.audit_record(event).await?;
        if let Err(e) = self.issuer.store().insert_authorization(&record).await {
            let rollback = custody::audit::AuditEvent::failure(events::AUTHORIZATION_PUSH)
                .actor("wallet")
                .detail("authorization", hex::encode(id))
                .detail("rolled_back", "storage");
            self.issuer.audit_record(rollback).await?;
            return Err(e.into());
        }
        Ok(PushedRequest {
            request_uri,
            expires_in: ttl,
        })
    }

    /// `GET /oid4vci/authorize`: uses a pushed request's `request_uri` (once, by the client
    /// that pushed it, before it expires) and returns the portal login URL to redirect the
    /// browser to. Every refusal is answered to the browser, never redirected (the
    /// `redirect_uri` of an unknown or foreign request is not verified).
    pub async fn authorize_login(
        &self,
        params: &[(String, String)],
        now: OffsetDateTime,
    ) -> Result<String, VciError> {
        let cfg = &self.issuer.config().oid4vci;
        let Some(login) = &cfg.portal_login_url else {
            return Err(VciError::InvalidRequest(
                "the authorization-code flow is not enabled".into(),
            ));
        };
        if params.len() > MAX_PARAMS || params.iter().any(|(_, v)| v.len() > MAX_PARAM_LEN) {
            return Err(VciError::InvalidRequest(
                "too many or too long parameters".into(),
            ));
        }
        let client_id = required(params, "client_id")?;
        let request_uri = param(params, "request_uri")?.ok_or_else(|| {
            VciError::InvalidRequest("only pushed requests are accepted: send request_uri".into())
        })?;
        let unknown = || VciError::InvalidRequestUri("unknown request_uri".into());
        if !request_uri.starts_with(REQUEST_URI_PREFIX) {
            return Err(unknown());
        }
        let a = self
            .issuer
            .store()
            .authorization_by_request_uri(&sha256(request_uri))
            .await?
            .ok_or_else(unknown)?;
        if a.client_id != client_id {
            return Err(VciError::InvalidRequestUri(
                "the request_uri was pushed by another client".into(),
            ));
        }
        if a.status != AuthorizationStatus::Pushed {
            return Err(VciError::InvalidRequestUri(
                "the request_uri was already used".into(),
            ));
        }
        if now >= a.request_expires_at {
            return Err(VciError::InvalidRequestUri(
                "the request_uri has expired".into(),
            ));
        }
        let session = random_token::<32>()?;
        let ttl = Duration::seconds(i64::try_from(cfg.login_ttl_secs).unwrap_or(600));
        let started = self
            .issuer
            .store()
            .start_login(&a.id, &sha256(&session), now.saturating_add(ttl), now)
            .await?;
        if !started {
            return Err(VciError::InvalidRequestUri(
                "the request_uri was already used or has expired".into(),
            ));
        }
        with_query(login, &[("session", &session), ("doctype", &a.doctype)])
            .map_err(VciError::Service)
    }

    /// `POST /v1/authorizations/{session}`: the portal's verdict on a hand-off, by API client
    /// `client`. Returns where to send the browser.
    pub async fn complete_authorization(
        &self,
        client: &str,
        admin: bool,
        session: &str,
        req: &HandoffRequest,
        now: OffsetDateTime,
    ) -> Result<HandoffAnswer, EngineError> {
        if session.is_empty() || session.len() > 128 {
            return Err(EngineError::NotFound("authorization session"));
        }
        let a = self
            .issuer
            .store()
            .authorization_by_session(&sha256(session))
            .await?
            .ok_or(EngineError::NotFound("authorization session"))?;
        let linked = match a.offer_id {
            Some(id) => {
                let offer = self.issuer.store().offer(&id).await?;
                if offer.client_id != client && !admin {
                    return Err(EngineError::NotFound("authorization session"));
                }
                Some(offer)
            }
            None => None,
        };
        let live =
            a.status == AuthorizationStatus::Login && a.session_expires_at.is_some_and(|t| now < t);
        if !live {
            return Err(EngineError::OfferState(
                "the authorization session has ended or was already completed",
            ));
        }
        let iss = self.issuer.issuer_id();
        let mut back: Vec<(&str, &str)> = Vec::new();
        let audit = |name: &'static str| {
            let mut e = custody::audit::AuditEvent::success(name)
                .actor(client)
                .detail("authorization", hex::encode(a.id))
                .detail("doctype", &a.doctype)
                .detail(
                    "attested_by",
                    a.attested_by.clone().unwrap_or_else(|| "-".into()),
                );
            if let Some(o) = &linked {
                e = e.detail("offer", hex::encode(o.id));
            }
            e
        };
        match (&req.claims, req.error.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(malformed("error", "give claims or error, not both"));
            }
            (None, Some("access_denied")) => {
                self.issuer
                    .audit_record(audit(events::AUTHORIZATION_DENY))
                    .await?;
                if !self.issuer.store().deny_authorization(&a.id, now).await? {
                    return Err(EngineError::OfferState(
                        "the authorization session has ended or was already completed",
                    ));
                }
                back.push(("error", "access_denied"));
                if let Some(s) = &a.oauth_state {
                    back.push(("state", s));
                }
                back.push(("iss", iss));
                return Ok(HandoffAnswer {
                    redirect_to: with_query(&a.redirect_uri, &back)?,
                });
            }
            (None, Some(_)) => {
                return Err(malformed("error", "the only error is access_denied"));
            }
            _ => {}
        }
        if let Some(claims) = &req.claims {
            self.issuer.check_claims(&a.doctype, claims)?;
        }
        let code = random_token::<32>()?;
        let code_sha = sha256(&code);
        let code_expires = now.saturating_add(AUTHORIZATION_CODE_TTL);
        let approved = match &linked {
            Some(offer) => {
                if req.claims.is_some() && offer.claims_sealed.is_some() {
                    return Err(malformed("claims", "the offer already has its record"));
                }
                ApprovedOffer::Linked {
                    id: offer.id,
                    expires_at: code_expires.min(offer.expires_at),
                    claims_sealed: req
                        .claims
                        .as_ref()
                        .map(|c| self.seal_claims(&offer.id, c))
                        .transpose()?,
                }
            }
            None => {
                let claims = req
                    .claims
                    .as_ref()
                    .ok_or_else(|| malformed("claims", "give the claims or error"))?;
                let id: [u8; 16] = random_bytes()?;
                // The offer is never shown by reference: its reference is thrown away.
                let reference = random_token::<32>()?;
                let offer_json = json!({
                    "credential_issuer": iss,
                    "credential_configuration_ids": [a.doctype],
                    "grants": {AUTHORIZATION_CODE_GRANT: {}},
                });
                ApprovedOffer::New(Box::new(NewOffer {
                    id,
                    client_id: client.to_owned(),
                    doctype: a.doctype.clone(),
                    claims_sealed: Some(self.seal_claims(&id, claims)?),
                    pre_auth_sha256: code_sha,
                    offer_ref_sha256: sha256(&reference),
                    offer_sealed: seal_with(
                        &self.offer_key(&reference),
                        &id[..],
                        offer_json.to_string().as_bytes(),
                    )?,
                    tx_code_mac: None,
                    expires_at: code_expires,
                    created_at: now,
                }))
            }
        };
        let offer_id = match &approved {
            ApprovedOffer::New(o) => o.id,
            ApprovedOffer::Linked { id, .. } => *id,
        };
        self.issuer
            .audit_record(
                audit(events::AUTHORIZATION_APPROVE).detail("code_offer", hex::encode(offer_id)),
            )
            .await?;
        let stored = self
            .issuer
            .store()
            .approve_authorization(&a.id, &code_sha, &approved, now)
            .await;
        if !matches!(stored, Ok(true)) {
            let rollback = custody::audit::AuditEvent::failure(events::AUTHORIZATION_APPROVE)
                .actor(client)
                .detail("authorization", hex::encode(a.id))
                .detail("rolled_back", "storage");
            self.issuer.audit_record(rollback).await?;
            stored?;
            return Err(EngineError::OfferState(
                "the authorization session or its offer changed meanwhile",
            ));
        }
        back.push(("code", &code));
        if let Some(s) = &a.oauth_state {
            back.push(("state", s));
        }
        back.push(("iss", iss));
        Ok(HandoffAnswer {
            redirect_to: with_query(&a.redirect_uri, &back)?,
        })
    }

    /// Checks an authorization-code token request against its pushed request (PKCE S256,
    /// `redirect_uri`, `client_id`, DPoP key); returns the code's SHA-256 to redeem and the
    /// request.
    pub(super) async fn check_authorization_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        client_id: &str,
        dpop_jkt: Option<&str>,
    ) -> Result<([u8; 32], Authorization), VciError> {
        let code_sha = sha256(code);
        let a = self
            .issuer
            .store()
            .authorization_by_code(&code_sha)
            .await?
            .ok_or_else(|| VciError::InvalidGrant("unknown authorization code".into()))?;
        if a.client_id != client_id {
            return Err(VciError::InvalidGrant(
                "the code was issued to another client".into(),
            ));
        }
        if a.redirect_uri != redirect_uri {
            return Err(VciError::InvalidGrant(
                "redirect_uri is not the authorization request's".into(),
            ));
        }
        let verifier_ok = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let matches =
            verifier_ok && bool::from(s256(verifier).as_bytes().ct_eq(a.code_challenge.as_bytes()));
        if !matches {
            return Err(VciError::InvalidGrant(
                "code_verifier does not match the code_challenge (S256)".into(),
            ));
        }
        if let Some(bound) = &a.dpop_jkt {
            if dpop_jkt != Some(bound.as_str()) {
                return Err(VciError::InvalidDpopProof {
                    description: "the DPoP proof is not by the key the authorization request \
                                  was bound to"
                        .into(),
                    resource: false,
                });
            }
        }
        Ok((code_sha, a))
    }
}
