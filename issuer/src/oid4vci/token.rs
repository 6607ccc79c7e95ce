//! The token endpoint (RFC 6749 §3.2, OpenID4VCI 1.0 §6) for the pre-authorized code and
//! authorization code grants, and the checks of the access tokens it hands out.
//!
//! An access token is 256 random bits, stored as its SHA-256 on the offer it was redeemed
//! from: it authorises credential, deferred and notification requests for that offer only,
//! until it expires or the portal withdraws the offer. When the token request carried a DPoP
//! proof, the token is bound to the proof's key (RFC 9449 §6) and is accepted only with a
//! DPoP proof by that key.
//!
//! A grant asked for with `authorization_details` (in the pushed authorization request or in
//! the token request itself, OpenID4VCI 1.0 §5.1.1, §6.1) is answered with them: the granted
//! configuration with a credential identifier bound to the new token (§6.2, see `details`).

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::attest::{attested_by, ClientAuth};
use super::details::{check_granted, GrantedCredential, MAX_DETAILS_LEN};
use super::error::VciError;
use super::metadata::{AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT};
use super::offers::{random_token, sha256};
use super::service::Vci;
use crate::audit::events;
use crate::jose::attestation::ClientAttestation;
use crate::store::{NewToken, Offer, OfferState, Redemption};

/// Longest accepted form parameter value (codes and tokens are 43 characters).
pub(super) const MAX_PARAM_LEN: usize = 1024;
/// Most parameters in one token request.
pub(super) const MAX_PARAMS: usize = 32;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `DPoP` when bound to a DPoP key, else `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// What was granted, when the wallet asked with `authorization_details` (OpenID4VCI 1.0
    /// §6.2): the configuration and the credential identifiers its credential requests must
    /// name. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 1)]
    pub authorization_details: Option<Vec<GrantedCredential>>,
}

/// An access token as a request presented it, with the key of the DPoP proof that came with
/// it (already verified against the request, its `ath` included).
#[derive(Debug, Clone)]
pub struct Presented {
    /// The token.
    pub token: String,
    /// Whether it came under the `DPoP` scheme (else `Bearer`).
    pub dpop_scheme: bool,
    /// The RFC 7638 thumbprint of the verified DPoP proof's key, if a proof came.
    pub dpop_jkt: Option<String>,
}

/// The one value of parameter `name`: a repeated parameter is refused (RFC 6749 §3.2).
pub(super) fn param<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, VciError> {
    let mut found = params.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(VciError::InvalidRequest(format!(
            "parameter {name} is repeated"
        )));
    }
    Ok(first)
}

/// Refuses a form with too many parameters or too long a value (`authorization_details` may
/// be longer than the others).
pub(super) fn bounded_form(params: &[(String, String)]) -> Result<(), VciError> {
    let too_long = params.iter().any(|(k, v)| {
        let limit = if k == "authorization_details" {
            MAX_DETAILS_LEN
        } else {
            MAX_PARAM_LEN
        };
        v.len() > limit
    });
    if params.len() > MAX_PARAMS || too_long {
        return Err(VciError::InvalidRequest(
            "too many or too long parameters".into(),
        ));
    }
    Ok(())
}

pub(super) fn required<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<&'a str, VciError> {
    param(params, name)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| VciError::InvalidRequest(format!("parameter {name} is required")))
}

impl Vci {
    /// Answers a token request: `params` is the form body in order, `dpop_jkt` the key of
    /// the request's verified DPoP proof, if it had one, `client_auth` its wallet attestation.
    pub async fn token(
        &self,
        params: &[(String, String)],
        dpop_jkt: Option<String>,
        client_auth: Option<&ClientAuth>,
        now: OffsetDateTime,
    ) -> Result<TokenResponse, VciError> {
        bounded_form(params)?;
        let grant = required(params, "grant_type")?;
        let cfg = &self.issuer.config().oid4vci;
        let code_grant = grant == AUTHORIZATION_CODE_GRANT && cfg.portal_login_url.is_some();
        if grant != PRE_AUTHORIZED_GRANT && !code_grant {
            return Err(VciError::UnsupportedGrantType(format!(
                "grant_type must be {PRE_AUTHORIZED_GRANT}{}",
                if cfg.portal_login_url.is_some() {
                    " or authorization_code"
                } else {
                    ""
                }
            )));
        }
        let client_id = param(params, "client_id")?;
        if cfg.require_dpop && dpop_jkt.is_none() {
            return Err(VciError::InvalidDpopProof {
                description: "this issuer issues DPoP-bound access tokens only: send a DPoP \
                              proof"
                    .into(),
                resource: false,
            });
        }
        let details = param(params, "authorization_details")?
            .map(|d| self.detailed_configurations(d))
            .transpose()?;
        if code_grant {
            let code = required(params, "code")?;
            let verifier = required(params, "code_verifier")?;
            let redirect_uri = required(params, "redirect_uri")?;
            let attestation = self.client_attestation(client_auth, client_id, now).await?;
            let client = client_id
                .map(str::to_owned)
                .or_else(|| attestation.as_ref().map(|a| a.client_id.clone()))
                .ok_or_else(|| {
                    VciError::InvalidRequest("parameter client_id is required".into())
                })?;
            let (code_sha, request) = self
                .check_authorization_code(
                    code,
                    verifier,
                    redirect_uri,
                    &client,
                    dpop_jkt.as_deref(),
                )
                .await?;
            if let Some(named) = &details {
                check_granted(named, &request.doctype)?;
            }
            let granted = (details.is_some() || request.by_authorization_details)
                .then_some(request.doctype.as_str());
            return self
                .redeem(
                    &code_sha,
                    None,
                    dpop_jkt,
                    attestation.as_ref(),
                    grant,
                    granted,
                    now,
                )
                .await;
        }
        let code = required(params, "pre-authorized_code")?;
        // `user_pin` is the name drafts before 13 used; some wallets still send it alone.
        let tx_code = match param(params, "tx_code")? {
            Some(t) => Some(t),
            None => param(params, "user_pin")?,
        };
        let attestation = self.client_attestation(client_auth, client_id, now).await?;
        // An authorization code is redeemed with its PKCE verifier, redirect_uri and DPoP key
        // only: the store's pre-authorized exchange does not know it.
        let code_sha = sha256(code);
        // Narrowed to the offer's configuration (§6.1), checked before the code is spent; an
        // unknown code is left to the exchange to refuse.
        let offered = match &details {
            Some(named) => {
                let offered = self
                    .issuer
                    .store()
                    .pre_authorized_doctype(&code_sha)
                    .await?;
                if let Some(doctype) = &offered {
                    check_granted(named, doctype)?;
                }
                offered
            }
            None => None,
        };
        let tx_mac = tx_code.map(|t| self.tx_code_mac(&code_sha, t));
        self.redeem(
            &code_sha,
            tx_mac,
            dpop_jkt,
            attestation.as_ref(),
            grant,
            offered.as_deref(),
            now,
        )
        .await
    }

    /// Exchanges a code (by hash) for an access token in one write (one statement on
    /// PostgreSQL; on SQLite committed with the writes queued beside it), then writes the
    /// audit record of an exchange that succeeded before answering. `granted` is the
    /// configuration asked for with `authorization_details`: the token then comes with a
    /// credential identifier for it, stored (as its hash) in the same write.
    #[allow(clippy::too_many_arguments)]
    async fn redeem(
        &self,
        code_sha: &[u8; 32],
        tx_mac: Option<[u8; 32]>,
        dpop_jkt: Option<String>,
        attestation: Option<&ClientAttestation>,
        grant: &str,
        granted: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<TokenResponse, VciError> {
        let cfg = &self.issuer.config().oid4vci;
        let token = random_token::<32>()?;
        let ttl = cfg.token_ttl_secs;
        let identifier = granted.map(|_| random_token::<32>()).transpose()?;
        let new = NewToken {
            sha256: sha256(&token),
            expires_at: now.saturating_add(Duration::seconds(i64::try_from(ttl).unwrap_or(300))),
            dpop_jkt: dpop_jkt.clone(),
            credential_identifier_sha256: identifier.as_deref().map(sha256),
        };
        let store = self.issuer.store();
        let outcome = if grant == AUTHORIZATION_CODE_GRANT {
            store.redeem_authorization_code(code_sha, &new, now).await?
        } else {
            store
                .redeem_pre_auth(code_sha, tx_mac, cfg.tx_code_max_attempts, &new, now)
                .await?
        };
        let what = if grant == AUTHORIZATION_CODE_GRANT {
            "authorization code"
        } else {
            "pre-authorized code"
        };
        match outcome {
            Redemption::Redeemed(offer) => {
                let event = custody::audit::AuditEvent::success(events::TOKEN)
                    .actor("wallet")
                    .detail("offer", hex::encode(offer))
                    .detail("grant", grant)
                    .detail("dpop", dpop_jkt.is_some().to_string())
                    .detail("credential_identifier", identifier.is_some().to_string())
                    .detail(
                        "attested_by",
                        attestation.map_or_else(|| "-".into(), attested_by),
                    );
                self.issuer.audit_record(event).await?;
                let authorization_details = granted
                    .zip(identifier)
                    .map(|(c, id)| vec![GrantedCredential::one(c, id)]);
                Ok(TokenResponse {
                    access_token: token,
                    token_type: if dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
                    expires_in: ttl,
                    authorization_details,
                })
            }
            Redemption::Unknown => Err(VciError::InvalidGrant(format!("unknown {what}"))),
            Redemption::Expired => Err(VciError::InvalidGrant(format!("the {what} has expired"))),
            Redemption::Spent(state) => Err(VciError::InvalidGrant(match state {
                OfferState::Withdrawn => "the offer was withdrawn".into(),
                OfferState::Locked => {
                    "the offer is locked after too many wrong transaction codes".into()
                }
                _ => format!("the {what} was already used"),
            })),
            Redemption::TxCodeMissing => Err(VciError::InvalidRequest(
                "this offer requires a tx_code".into(),
            )),
            Redemption::TxCodeWrong { left: 0 } => Err(VciError::InvalidGrant(
                "wrong tx_code; the offer is now locked".into(),
            )),
            Redemption::TxCodeWrong { left } => Err(VciError::InvalidGrant(format!(
                "wrong tx_code; {left} attempt(s) left"
            ))),
        }
    }

    /// The offer a presented access token authorises, checked: known, not expired, its
    /// offer still live, and presented with a proof by its DPoP key when it is bound to one.
    pub async fn authorize(
        &self,
        presented: &Presented,
        now: OffsetDateTime,
    ) -> Result<Offer, VciError> {
        if presented.token.is_empty() || presented.token.len() > MAX_PARAM_LEN {
            return Err(VciError::InvalidToken("no access token".into()));
        }
        let offer = self
            .issuer
            .store()
            .offer_by_token(&sha256(&presented.token))
            .await?
            .ok_or_else(|| VciError::InvalidToken("unknown access token".into()))?;
        if offer.token_expires_at.is_none_or(|t| now >= t) {
            return Err(VciError::InvalidToken(
                "the access token has expired".into(),
            ));
        }
        if matches!(offer.state, OfferState::Withdrawn | OfferState::Locked) {
            return Err(VciError::InvalidToken("the offer was withdrawn".into()));
        }
        match (&offer.dpop_jkt, presented.dpop_scheme, &presented.dpop_jkt) {
            (None, false, _) => {}
            (None, true, _) => {
                return Err(VciError::InvalidToken(
                    "this access token is not DPoP-bound: use the Bearer scheme".into(),
                ))
            }
            (Some(_), false, _) => {
                return Err(VciError::InvalidToken(
                    "this access token is DPoP-bound: use the DPoP scheme with a proof".into(),
                ))
            }
            (Some(_), true, None) => {
                return Err(VciError::InvalidDpopProof {
                    description: "a DPoP proof is required".into(),
                    resource: true,
                })
            }
            (Some(bound), true, Some(jkt)) if bound != jkt => {
                return Err(VciError::InvalidToken(
                    "the DPoP proof is not by the key the token is bound to".into(),
                ))
            }
            (Some(_), true, Some(_)) => {}
        }
        Ok(offer)
    }
}
