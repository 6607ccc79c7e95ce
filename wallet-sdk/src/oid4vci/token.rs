//! Token responses (RFC 6749 §5.1, OpenID4VCI 1.0 §6.2, RFC 9449 §5): the access token (a
//! bounded header-safe string), its type (`Bearer`, or `DPoP` only if the request carried a
//! DPoP proof), and the `credential_identifiers` of `authorization_details`, which the
//! credential request must then name instead of the configuration id.

use serde::Deserialize;
use serde_json::Value as Json;
use zeroize::Zeroizing;

use crate::error::{Result, WalletError};
use crate::http::Answer;
use crate::json::parse;

/// Longest access token accepted.
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    token_type: String,
    #[serde(default)]
    authorization_details: Option<Vec<Json>>,
}

/// An access token.
pub(crate) struct AccessToken {
    pub(crate) token: Zeroizing<String>,
    /// DPoP-bound (else Bearer).
    pub(crate) dpop: bool,
    /// `(configuration id, credential identifiers)` from `authorization_details`.
    pub(crate) credential_identifiers: Vec<(String, Vec<String>)>,
}

fn violation(reason: impl Into<String>) -> WalletError {
    WalletError::Protocol {
        reason: format!("token response: {}", reason.into()),
    }
}

/// Reads a 200 token response; `sent_dpop` says whether the request carried a DPoP proof.
pub(crate) fn access_token(answer: &Answer, sent_dpop: bool) -> Result<AccessToken> {
    let raw: RawToken = parse(&answer.body, "token response")?;
    let token = Zeroizing::new(raw.access_token);
    let printable = token.bytes().all(|b| (0x21..0x7f).contains(&b));
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || !printable {
        return Err(violation(format!(
            "access_token must be 1 to {MAX_TOKEN_LEN} visible ASCII characters"
        )));
    }
    let dpop = if raw.token_type.eq_ignore_ascii_case("dpop") {
        if !sent_dpop {
            return Err(violation(
                "token_type DPoP, but the request carried no DPoP proof",
            ));
        }
        true
    } else if raw.token_type.eq_ignore_ascii_case("bearer") {
        false
    } else {
        return Err(violation(format!(
            "token_type {:?} is neither Bearer nor DPoP",
            raw.token_type.chars().take(32).collect::<String>()
        )));
    };
    let mut credential_identifiers = Vec::new();
    for d in raw
        .authorization_details
        .unwrap_or_default()
        .iter()
        .take(64)
    {
        if d.get("type").and_then(Json::as_str) != Some("openid_credential") {
            continue;
        }
        let Some(config) = d.get("credential_configuration_id").and_then(Json::as_str) else {
            continue;
        };
        let ids = d
            .get("credential_identifiers")
            .and_then(Json::as_array)
            .ok_or_else(|| violation("authorization_details without credential_identifiers"))?
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty() && s.len() <= 1024))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| violation("a credential identifier is not a usable string"))?;
        credential_identifiers.push((
            config.to_owned(),
            ids.into_iter().map(str::to_owned).collect(),
        ));
    }
    Ok(AccessToken {
        token,
        dpop,
        credential_identifiers,
    })
}
