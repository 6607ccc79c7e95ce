//! `authorization_details` of type `openid_credential` (RFC 9396, OpenID4VCI 1.0 §5.1.1,
//! §6.2): reading those a pushed authorization request or a token request carries, and
//! shaping those a token response grants, each with the credential identifiers the wallet's
//! credential requests must then name (§8.2).
//!
//! An offer is one credential dataset of one configuration, so a grant is one configuration
//! with one identifier: 256 random bits, stored as its SHA-256 on the offer beside the access
//! token it came with (`migrations/*/0011`), and accepted with that token only.

use serde::Serialize;
use serde_json::Value as Json;

use super::error::VciError;
use super::service::Vci;

/// Longest `authorization_details` accepted, bytes (it bounds the entries too).
pub(super) const MAX_DETAILS_LEN: usize = 4096;

/// The authorization details type of OpenID4VCI (§5.1.1), the only one this issuer knows.
pub const OPENID_CREDENTIAL: &str = "openid_credential";

/// The `type` of an authorization detail this issuer grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetailsType {
    /// `openid_credential`.
    OpenidCredential,
}

/// One authorization detail as the token response grants it (OpenID4VCI 1.0 §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantedCredential {
    /// `openid_credential`.
    #[serde(rename = "type")]
    pub kind: DetailsType,
    /// The credential configuration granted.
    pub credential_configuration_id: String,
    /// The opaque identifiers of the credential datasets granted, which the credential
    /// requests must name as `credential_identifier` (never `credential_configuration_id`).
    #[schema(min_items = 1)]
    pub credential_identifiers: Vec<String>,
}

impl GrantedCredential {
    /// The grant of `configuration` with its one `identifier`.
    pub(super) fn one(configuration: &str, identifier: String) -> Self {
        GrantedCredential {
            kind: DetailsType::OpenidCredential,
            credential_configuration_id: configuration.to_owned(),
            credential_identifiers: vec![identifier],
        }
    }
}

impl Vci {
    /// The credential configurations an `authorization_details` parameter names, sorted,
    /// each once: a non-empty JSON array of `openid_credential` entries, each naming a
    /// configuration of this issuer by `credential_configuration_id`. Other members of an
    /// entry (`locations`, `claims`) are not acted on: the whole dataset is granted.
    pub(super) fn detailed_configurations(&self, details: &str) -> Result<Vec<String>, VciError> {
        let bad = |m: &str| VciError::InvalidAuthorizationDetails(m.to_owned());
        if details.len() > MAX_DETAILS_LEN {
            return Err(bad("authorization_details is too long"));
        }
        let list: Vec<Json> =
            serde_json::from_str(details).map_err(|_| bad("must be a JSON array"))?;
        if list.is_empty() {
            return Err(bad("authorization_details must not be empty"));
        }
        let mut named = Vec::with_capacity(list.len());
        for d in &list {
            if d.get("type").and_then(Json::as_str) != Some(OPENID_CREDENTIAL) {
                return Err(bad("each entry must have type openid_credential"));
            }
            let id = d
                .get("credential_configuration_id")
                .and_then(Json::as_str)
                .ok_or_else(|| bad("each entry needs a credential_configuration_id"))?;
            if self.issuer.registry().get(id).is_none() {
                return Err(bad("unknown credential_configuration_id"));
            }
            named.push(id.to_owned());
        }
        named.sort_unstable();
        named.dedup();
        Ok(named)
    }
}

/// Checks the configurations a token request's `authorization_details` named (RFC 9396
/// §6.1) against the one its grant is for: they may only name that one.
pub(super) fn check_granted(named: &[String], granted: &str) -> Result<(), VciError> {
    if named != [granted] {
        return Err(VciError::InvalidAuthorizationDetails(
            "authorization_details may only name the credential configuration the code was \
             issued for"
                .into(),
        ));
    }
    Ok(())
}
