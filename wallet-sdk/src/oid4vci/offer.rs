//! Credential Offers (OpenID4VCI 1.0 §4.1): the link or QR code the app scanned, by value
//! (`credential_offer=`) or by reference (`credential_offer_uri=`), in the
//! `openid-credential-offer://` scheme, HAIP's `haip-vci://`, an `https` universal link, or
//! the bare JSON object; and the offer's checks.

use serde::Deserialize;
use url::Url;

use crate::error::{Result, WalletError};
use crate::http::UrlPolicy;

/// The pre-authorized code grant type (OpenID4VCI 1.0 §3.5).
pub(crate) const PRE_AUTHORIZED_GRANT: &str =
    "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// Largest offer accepted (by value or by reference).
pub const MAX_OFFER_LEN: usize = 64 * 1024;
/// Most credential configurations one offer may name.
pub const MAX_OFFERED_CONFIGURATIONS: usize = 64;
/// Longest transaction code description (OpenID4VCI 1.0 §4.1.1: at most 300 characters).
const MAX_TX_DESCRIPTION: usize = 300;
/// Longest transaction code the SDK will send.
pub(crate) const MAX_TX_CODE_LEN: usize = 64;

/// The schemes of credential offer links.
const OFFER_SCHEMES: [&str; 3] = ["openid-credential-offer", "haip-vci", "haip"];

/// How the user must enter the transaction code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TxCodeInputMode {
    /// Digits only.
    Numeric,
    /// Any characters.
    Text,
}

/// The transaction code the user must type (sent to them out of band).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TxCodeInfo {
    /// Digits only, or any characters.
    pub input_mode: TxCodeInputMode,
    /// Its length, when the issuer says (a hint for the input screen).
    pub length: Option<u32>,
    /// The issuer's guidance for the user (where to find the code), if any.
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TxCodeSpec {
    #[serde(default)]
    input_mode: Option<String>,
    #[serde(default)]
    length: Option<u32>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PreAuthorizedGrant {
    #[serde(rename = "pre-authorized_code")]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) tx_code: Option<TxCodeSpec>,
    #[serde(default)]
    pub(crate) authorization_server: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AuthorizationCodeGrant {
    #[serde(default)]
    pub(crate) issuer_state: Option<String>,
    #[serde(default)]
    pub(crate) authorization_server: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Grants {
    #[serde(default)]
    pub(crate) authorization_code: Option<AuthorizationCodeGrant>,
    #[serde(
        default,
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    )]
    pub(crate) pre_authorized: Option<PreAuthorizedGrant>,
}

/// A Credential Offer (§4.1.1). Unknown members are ignored.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CredentialOffer {
    pub(crate) credential_issuer: String,
    pub(crate) credential_configuration_ids: Vec<String>,
    #[serde(default)]
    pub(crate) grants: Option<Grants>,
}

/// Where the offer is: in the link, or at a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OfferSource {
    /// The offer's JSON.
    Value(String),
    /// `credential_offer_uri`.
    Reference(Url),
}

fn invalid(reason: impl Into<String>) -> WalletError {
    WalletError::InvalidInput {
        reason: reason.into(),
    }
}

/// Reads what the app scanned: a link with `credential_offer` or `credential_offer_uri` (not
/// both), or the bare JSON object.
pub(crate) fn offer_source(input: &str, policy: &UrlPolicy) -> Result<OfferSource> {
    let input = input.trim();
    if input.len() > MAX_OFFER_LEN * 3 {
        return Err(WalletError::SizeLimit {
            reason: format!(
                "the credential offer link is over {} bytes",
                MAX_OFFER_LEN * 3
            ),
        });
    }
    if input.starts_with('{') {
        return Ok(OfferSource::Value(input.to_owned()));
    }
    let link = Url::parse(input).map_err(|_| invalid("not a credential offer link"))?;
    let scheme_ok = OFFER_SCHEMES.contains(&link.scheme()) || link.scheme() == "https";
    if !scheme_ok {
        return Err(invalid(format!(
            "a credential offer link has the scheme {:?}",
            link.scheme()
        )));
    }
    let (mut by_value, mut by_reference) = (Vec::new(), Vec::new());
    for (k, v) in link.query_pairs() {
        match k.as_ref() {
            "credential_offer" => by_value.push(v.into_owned()),
            "credential_offer_uri" => by_reference.push(v.into_owned()),
            _ => {}
        }
    }
    match (by_value.as_slice(), by_reference.as_slice()) {
        ([json], []) => Ok(OfferSource::Value(json.clone())),
        ([], [uri]) => Ok(OfferSource::Reference(policy.check(uri)?)),
        ([], []) => Err(invalid(
            "the link has neither credential_offer nor credential_offer_uri",
        )),
        _ => Err(invalid(
            "the link must have exactly one credential_offer or credential_offer_uri",
        )),
    }
}

fn bad_offer(reason: impl Into<String>) -> WalletError {
    WalletError::Protocol {
        reason: format!("credential offer: {}", reason.into()),
    }
}

/// Checks a credential issuer identifier (§12.2.1): `https` (or loopback `http` when the
/// policy allows), no query, no fragment.
pub(crate) fn check_issuer_id(id: &str, policy: &UrlPolicy) -> Result<Url> {
    let u = policy.check(id)?;
    if u.query().is_some() {
        return Err(WalletError::UrlRefused {
            url: id.chars().take(200).collect(),
            reason: "an issuer identifier has no query".into(),
        });
    }
    Ok(u)
}

impl CredentialOffer {
    /// The offer's checks: a usable issuer identifier, 1 to
    /// [`MAX_OFFERED_CONFIGURATIONS`] distinct non-empty configuration ids, well-formed grants.
    pub(crate) fn check(&self, policy: &UrlPolicy) -> Result<()> {
        check_issuer_id(&self.credential_issuer, policy)?;
        let ids = &self.credential_configuration_ids;
        if ids.is_empty() || ids.len() > MAX_OFFERED_CONFIGURATIONS {
            return Err(bad_offer(format!(
                "credential_configuration_ids must name 1 to {MAX_OFFERED_CONFIGURATIONS} configurations"
            )));
        }
        for (i, id) in ids.iter().enumerate() {
            if id.is_empty() || id.len() > 256 || ids.iter().skip(i + 1).any(|o| o == id) {
                return Err(bad_offer(
                    "a configuration id is empty, too long or repeated",
                ));
            }
        }
        let Some(grants) = &self.grants else {
            return Ok(());
        };
        if let Some(p) = &grants.pre_authorized {
            if p.code.is_empty() || p.code.len() > 4096 {
                return Err(bad_offer("the pre-authorized_code is empty or too long"));
            }
            if let Some(t) = &p.tx_code {
                t.info()?;
            }
        }
        Ok(())
    }
}

impl TxCodeSpec {
    /// The checked transaction code description.
    pub(crate) fn info(&self) -> Result<TxCodeInfo> {
        let input_mode = match self.input_mode.as_deref() {
            None | Some("numeric") => TxCodeInputMode::Numeric,
            Some("text") => TxCodeInputMode::Text,
            Some(other) => {
                return Err(bad_offer(format!(
                    "tx_code input_mode {:?} is neither numeric nor text",
                    other.chars().take(32).collect::<String>()
                )))
            }
        };
        if let Some(l) = self.length {
            if l == 0 || usize::try_from(l).map_or(true, |l| l > MAX_TX_CODE_LEN) {
                return Err(bad_offer(format!(
                    "tx_code length {l} is not 1 to {MAX_TX_CODE_LEN}"
                )));
            }
        }
        if let Some(d) = &self.description {
            if d.chars().count() > MAX_TX_DESCRIPTION {
                return Err(bad_offer(format!(
                    "tx_code description is over {MAX_TX_DESCRIPTION} characters"
                )));
            }
        }
        Ok(TxCodeInfo {
            input_mode,
            length: self.length,
            description: self.description.clone(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const P: UrlPolicy = UrlPolicy {
        allow_http_loopback: false,
    };

    #[test]
    fn links_by_value_and_reference() {
        let json =
            r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"]}"#;
        let enc: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
        for link in [
            format!("openid-credential-offer://?credential_offer={enc}"),
            format!("haip-vci://?credential_offer={enc}"),
            format!("https://wallet.example/offer?credential_offer={enc}"),
            json.to_owned(),
        ] {
            assert_eq!(
                offer_source(&link, &P).unwrap(),
                OfferSource::Value(json.into())
            );
        }
        let uri = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi.example%2Fo%2F1";
        assert_eq!(
            offer_source(uri, &P).unwrap(),
            OfferSource::Reference(Url::parse("https://i.example/o/1").unwrap())
        );
        for bad in [
            "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fi.example%2Fo",
            "openid-credential-offer://?x=1",
            "javascript:alert(1)",
            "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fi.example",
        ] {
            assert!(offer_source(bad, &P).is_err(), "{bad}");
        }
    }

    #[test]
    fn offer_checks() {
        let offer =
            |v: serde_json::Value| -> CredentialOffer { serde_json::from_value(v).unwrap() };
        let ok = offer(serde_json::json!({
            "credential_issuer": "https://i.example/tenant",
            "credential_configuration_ids": ["mdl"],
            "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c",
                "tx_code": {"length": 6, "input_mode": "numeric", "description": "SMS"}}}
        }));
        ok.check(&P).unwrap();
        for bad in [
            serde_json::json!({"credential_issuer": "http://i.example", "credential_configuration_ids": ["a"]}),
            serde_json::json!({"credential_issuer": "https://i.example?x=1", "credential_configuration_ids": ["a"]}),
            serde_json::json!({"credential_issuer": "https://i.example", "credential_configuration_ids": []}),
            serde_json::json!({"credential_issuer": "https://i.example", "credential_configuration_ids": ["a", "a"]}),
            serde_json::json!({"credential_issuer": "https://i.example", "credential_configuration_ids": ["a"],
                "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c", "tx_code": {"input_mode": "voice"}}}}),
        ] {
            assert!(offer(bad.clone()).check(&P).is_err(), "{bad}");
        }
    }
}
