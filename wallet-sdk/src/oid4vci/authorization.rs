//! The authorization-code flow's front half: PKCE S256 (RFC 7636) and `state`, the pushed
//! authorization request (RFC 9126; a plain request URL only for a server without a PAR
//! endpoint that does not require one), and the checks of the redirect the app hands back
//! (`state`, RFC 9207 `iss`, the redirect URI itself).

use sha2::{Digest, Sha256};
use url::Url;
use zeroize::Zeroizing;

use super::jws::{b64, random_token};
use super::metadata::ServerMetadata;
use crate::error::{Result, WalletError};

/// Longest authorization code accepted.
const MAX_CODE_LEN: usize = 4096;

/// An authorization request waiting for its redirect.
pub(crate) struct PendingAuthorization {
    pub(crate) code_verifier: Zeroizing<String>,
    pub(crate) state: String,
    pub(crate) redirect_uri: String,
    pub(crate) client_id: String,
    pub(crate) configuration_id: String,
}

impl PendingAuthorization {
    /// A fresh verifier (256 bits) and state (128 bits).
    pub(crate) fn new(
        client_id: &str,
        redirect_uri: &str,
        configuration_id: &str,
    ) -> Result<(Self, String)> {
        let verifier = Zeroizing::new(random_token::<32>()?);
        let challenge = b64(&Sha256::digest(verifier.as_bytes()));
        Ok((
            PendingAuthorization {
                code_verifier: verifier,
                state: random_token::<16>()?,
                redirect_uri: redirect_uri.to_owned(),
                client_id: client_id.to_owned(),
                configuration_id: configuration_id.to_owned(),
            },
            challenge,
        ))
    }
}

/// The authorization request's parameters (RFC 6749 §4.1.1, RFC 7636, OpenID4VCI 1.0 §5.1).
pub(crate) fn request_params(
    pending: &PendingAuthorization,
    challenge: &str,
    scope: Option<&str>,
    issuer_state: Option<&str>,
    dpop_jkt: Option<&str>,
) -> Vec<(String, String)> {
    let mut p = vec![
        ("response_type".to_owned(), "code".to_owned()),
        ("client_id".to_owned(), pending.client_id.clone()),
        ("redirect_uri".to_owned(), pending.redirect_uri.clone()),
        ("code_challenge".to_owned(), challenge.to_owned()),
        ("code_challenge_method".to_owned(), "S256".to_owned()),
        ("state".to_owned(), pending.state.clone()),
    ];
    match scope {
        Some(s) => p.push(("scope".into(), s.into())),
        None => p.push((
            "authorization_details".into(),
            serde_json::json!([{
                "type": "openid_credential",
                "credential_configuration_id": pending.configuration_id,
            }])
            .to_string(),
        )),
    }
    if let Some(s) = issuer_state {
        p.push(("issuer_state".into(), s.into()));
    }
    if let Some(j) = dpop_jkt {
        p.push(("dpop_jkt".into(), j.into()));
    }
    p
}

/// The URL the browser opens: `authorization_endpoint?client_id=…&request_uri=…` after a
/// PAR, or with every parameter when there was none.
pub(crate) fn browser_url(endpoint: &Url, params: &[(String, String)]) -> Url {
    let mut u = endpoint.clone();
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    u
}

fn violation(reason: impl Into<String>) -> WalletError {
    WalletError::Protocol {
        reason: format!("authorization response: {}", reason.into()),
    }
}

/// Checks the redirect the app received and returns the authorization code.
pub(crate) fn authorization_code(
    redirect: &str,
    pending: &PendingAuthorization,
    server: &ServerMetadata,
) -> Result<Zeroizing<String>> {
    let got = Url::parse(redirect).map_err(|_| WalletError::InvalidInput {
        reason: "the redirect is not an absolute URL".into(),
    })?;
    let want = Url::parse(&pending.redirect_uri).map_err(|_| WalletError::InvalidInput {
        reason: "the options' redirect_uri is not an absolute URL".into(),
    })?;
    let same = got.scheme() == want.scheme()
        && got.host_str() == want.host_str()
        && got.port_or_known_default() == want.port_or_known_default()
        && got.path() == want.path();
    if !same {
        return Err(WalletError::InvalidInput {
            reason: "the redirect is not to the redirect_uri of the request".into(),
        });
    }
    let one = |name: &str| -> Result<Option<String>> {
        let mut values = got.query_pairs().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.into_owned());
        if values.next().is_some() {
            return Err(violation(format!("{name} is repeated")));
        }
        Ok(first)
    };
    let state = one("state")?;
    let iss = one("iss")?;
    let error = one("error")?;
    let description = one("error_description")?;
    let code = one("code")?;
    if state.as_deref() != Some(pending.state.as_str()) {
        return Err(violation("state is missing or not the request's"));
    }
    match iss.as_deref() {
        Some(i) if i != server.issuer => {
            return Err(WalletError::IssuerMismatch {
                expected: server.issuer.clone(),
                found: i.chars().take(200).collect(),
            })
        }
        None if server.iss_parameter => {
            return Err(violation(
                "iss is missing, though the server says it sends it (RFC 9207)",
            ))
        }
        _ => {}
    }
    if let Some(code) = error {
        return Err(WalletError::IssuerError {
            status: 0,
            code: code.chars().take(128).collect(),
            description: description.map(|d| d.chars().take(512).collect()),
        });
    }
    match code {
        Some(c) if !c.is_empty() && c.len() <= MAX_CODE_LEN => Ok(Zeroizing::new(c)),
        _ => Err(violation("no usable code")),
    }
}
