//! One exchange with an issuer or authorization server: the request's headers (DPoP proof
//! with the server's latest nonce, access token, client attestation), the one retry RFC 9449
//! §8/§9 allows when the server answers `use_dpop_nonce`, and the typed error of an answer
//! that is not a success (the OAuth error code and description when the body has them).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value as Json;
use url::Url;

use super::attestation::ClientAttestationKey;
use super::dpop::dpop_proof;
use super::jws::StoreKey;
use crate::error::{Result, WalletError};
use crate::http::{header, Answer, Http, HttpHeader, HttpMethod};
use crate::keystore::KeyStore;

/// Largest answer of a token, PAR, nonce or notification endpoint.
pub const DEFAULT_MAX_TOKEN_BYTES: u64 = 64 * 1024;
/// Largest metadata document or offer by reference.
pub const DEFAULT_MAX_METADATA_BYTES: u64 = 512 * 1024;
/// Largest credential or deferred credential answer (a batch of mdocs with portraits).
pub const DEFAULT_MAX_CREDENTIAL_BYTES: u64 = 16 * 1024 * 1024;

/// An OAuth error body (RFC 6749 §5.2); other members ignored.
#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<Json>,
}

/// The `error` of a `WWW-Authenticate` challenge (RFC 6750 §3), if any.
fn challenge_error(value: &str) -> Option<String> {
    let at = value.find("error=\"")?;
    let rest = value.get(at + 7..)?;
    let end = rest.find('"')?;
    rest.get(..end).map(str::to_owned)
}

/// The OAuth error of an answer, if it carries one (body first, then `WWW-Authenticate`).
pub(crate) fn oauth_error(answer: &Answer) -> Option<(String, Option<String>)> {
    if let Ok(e) = serde_json::from_slice::<OAuthError>(&answer.body) {
        let description = match e.error_description {
            Some(Json::String(s)) => Some(s.chars().take(512).collect()),
            _ => None,
        };
        return Some((e.error.chars().take(128).collect(), description));
    }
    answer
        .header("www-authenticate")
        .and_then(challenge_error)
        .map(|code| (code, None))
}

/// The typed error of an answer the step does not accept.
pub(crate) fn error_of(answer: &Answer) -> WalletError {
    match oauth_error(answer) {
        Some((code, description)) if !answer.is_success() => WalletError::IssuerError {
            status: answer.status,
            code,
            description,
        },
        _ if answer.is_success() => WalletError::Protocol {
            reason: format!(
                "{} answered {}, not the expected status",
                answer.url, answer.status
            ),
        },
        _ => WalletError::HttpStatus {
            url: answer.url.clone(),
            status: answer.status,
        },
    }
}

/// A request body.
pub(crate) enum Body {
    None,
    Form(Vec<(String, String)>),
    Json(Json),
}

/// What a request carries besides its body.
pub(crate) struct Call<'a> {
    pub(crate) method: HttpMethod,
    pub(crate) url: &'a Url,
    pub(crate) body: Body,
    pub(crate) max: usize,
    /// The access token, with its scheme (`DPoP` when `dpop` is given, else `Bearer`).
    pub(crate) access_token: Option<&'a str>,
    /// The DPoP key, when the request carries a DPoP proof.
    pub(crate) dpop: Option<&'a StoreKey>,
    /// Client attestation headers (PAR and token endpoints), for this audience.
    pub(crate) attestation: Option<(&'a ClientAttestationKey, &'a str)>,
}

/// The client's view of its servers' DPoP nonces, by origin.
#[derive(Debug, Default)]
pub(crate) struct DpopNonces(HashMap<String, String>);

impl DpopNonces {
    fn get(&self, url: &Url) -> Option<&str> {
        self.0
            .get(&url.origin().ascii_serialization())
            .map(String::as_str)
    }

    /// Remembers the `DPoP-Nonce` of an answer; true if it is new.
    fn update(&mut self, url: &Url, answer: &Answer) -> bool {
        let Some(n) = answer.header("dpop-nonce") else {
            return false;
        };
        if n.is_empty() || n.len() > 1024 {
            return false;
        }
        let key = url.origin().ascii_serialization();
        let new = self.0.get(&key).map(String::as_str) != Some(n);
        self.0.insert(key, n.to_owned());
        new
    }
}

/// Sends `call`, once more if the server asks for a (new) DPoP nonce.
pub(crate) fn exchange(
    http: &Http,
    keys: &dyn KeyStore,
    nonces: &mut DpopNonces,
    call: Call<'_>,
) -> Result<Answer> {
    let (content_type, body) = match &call.body {
        Body::None => (None, Vec::new()),
        Body::Form(pairs) => {
            let mut f = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                f.append_pair(k, v);
            }
            (
                Some("application/x-www-form-urlencoded"),
                f.finish().into_bytes(),
            )
        }
        Body::Json(v) => (Some("application/json"), v.to_string().into_bytes()),
    };
    let mut retried = false;
    loop {
        let mut headers: Vec<HttpHeader> = vec![header("Accept", "application/json")];
        if let Some(ct) = content_type {
            headers.push(header("Content-Type", ct));
        }
        if let Some(key) = call.dpop {
            let proof = dpop_proof(
                keys,
                key,
                call.method,
                call.url,
                call.access_token,
                nonces.get(call.url),
            )?;
            headers.push(header("DPoP", proof));
        }
        if let Some(token) = call.access_token {
            let scheme = if call.dpop.is_some() {
                "DPoP"
            } else {
                "Bearer"
            };
            headers.push(header("Authorization", format!("{scheme} {token}")));
        }
        if let Some((attestation, audience)) = call.attestation {
            headers.extend(attestation.headers(keys, audience)?);
        }
        let answer = http.send(call.method, call.url, headers, body.clone(), call.max)?;
        let fresh = nonces.update(call.url, &answer);
        let wants_nonce = matches!(answer.status, 400 | 401)
            && oauth_error(&answer).is_some_and(|(code, _)| code == "use_dpop_nonce");
        if wants_nonce && call.dpop.is_some() && fresh && !retried {
            retried = true;
            continue;
        }
        return Ok(answer);
    }
}
