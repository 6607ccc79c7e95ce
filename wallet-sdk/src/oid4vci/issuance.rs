//! The credential endpoint's side of issuance (OpenID4VCI 1.0 §7-§9): the `c_nonce`, one
//! `jwt` key proof per device key (`typ: openid4vci-proof+jwt`, ES256, `jwk` header, `aud` =
//! the credential issuer, `iat`, `nonce`), the credential and deferred credential answers,
//! and each credential decoded (base64url, then ISO 18013-5 `IssuerSigned` under `mso`'s
//! CBOR limits) and paired with the device key its MSO binds. Signatures and trust are for
//! verify-on-receipt; this module only refuses what is not an mdoc for one of this wallet's
//! keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::cbor::{from_slice, Limits};
use mso::model::IssuerSigned;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use time::OffsetDateTime;

use super::jws::StoreKey;
use crate::error::{Result, WalletError};
use crate::http::Answer;
use crate::json::parse;
use crate::keystore::KeyStore;
use crate::receive::IssuedCredential;

/// The JWT `typ` of a key proof.
pub(crate) const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// Seconds between deferred polls when the issuer does not say.
const DEFAULT_INTERVAL: u64 = 5;
/// Longest wait between polls accepted from an issuer.
const MAX_INTERVAL: u64 = 24 * 3600;
/// Longest identifier (`c_nonce`, `transaction_id`, `notification_id`) accepted.
const MAX_ID_LEN: usize = 1024;

/// What a credential request or a deferred poll gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialAnswer {
    /// The credentials (decoded from base64url) and the notification id.
    Issued {
        credentials: Vec<Vec<u8>>,
        notification_id: Option<String>,
    },
    /// Not yet: ask the deferred endpoint after `interval` seconds.
    Deferred {
        transaction_id: Option<String>,
        interval: u64,
    },
}

fn violation(reason: impl Into<String>) -> WalletError {
    WalletError::Protocol {
        reason: reason.into(),
    }
}

fn bounded_id(v: &str, what: &str) -> Result<String> {
    if v.is_empty() || v.len() > MAX_ID_LEN {
        return Err(violation(format!("{what} is empty or too long")));
    }
    Ok(v.to_owned())
}

#[derive(Deserialize)]
struct NonceResponse {
    c_nonce: String,
}

/// The `c_nonce` of a nonce endpoint's 200 answer.
pub(crate) fn c_nonce(answer: &Answer) -> Result<String> {
    let n: NonceResponse = parse(&answer.body, "nonce response")?;
    bounded_id(&n.c_nonce, "c_nonce")
}

/// A key proof by `key` for `audience` (the credential issuer identifier).
pub(crate) fn key_proof(
    keys: &dyn KeyStore,
    key: &StoreKey,
    audience: &str,
    nonce: Option<&str>,
    client_id: Option<&str>,
    key_attestation: Option<String>,
) -> Result<String> {
    let mut claims = Map::new();
    claims.insert("aud".into(), json!(audience));
    claims.insert(
        "iat".into(),
        json!(OffsetDateTime::now_utc().unix_timestamp()),
    );
    if let Some(n) = nonce {
        claims.insert("nonce".into(), json!(n));
    }
    if let Some(c) = client_id {
        claims.insert("iss".into(), json!(c));
    }
    let mut header = Map::new();
    header.insert("jwk".into(), key.jwk()?);
    if let Some(a) = key_attestation {
        header.insert("key_attestation".into(), json!(a));
    }
    key.sign_jwt(keys, PROOF_TYP, header, &Json::Object(claims))
}

#[derive(Deserialize)]
struct CredentialObject {
    credential: Json,
}

#[derive(Deserialize)]
struct RawCredentialResponse {
    #[serde(default)]
    credentials: Option<Vec<CredentialObject>>,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    interval: Option<u64>,
    #[serde(default)]
    notification_id: Option<String>,
}

fn interval(v: Option<u64>) -> Result<u64> {
    match v {
        None => Ok(DEFAULT_INTERVAL),
        Some(i) if (1..=MAX_INTERVAL).contains(&i) => Ok(i),
        Some(i) => Err(violation(format!(
            "interval {i} is not 1 to {MAX_INTERVAL} seconds"
        ))),
    }
}

/// One credential, base64url (padding tolerated) into bytes.
fn decode_credential(v: &Json) -> Result<Vec<u8>> {
    let text = v.as_str().ok_or_else(|| {
        violation("an mso_mdoc credential must be a base64url string of IssuerSigned")
    })?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| WalletError::Malformed {
            reason: "a credential is not base64url".into(),
        })
}

/// Reads a 200 or 202 answer of the credential or deferred credential endpoint.
pub(crate) fn credential_answer(
    answer: &Answer,
    max_credentials: usize,
) -> Result<CredentialAnswer> {
    let raw: RawCredentialResponse = parse(&answer.body, "credential response")?;
    match (answer.status, raw.credentials) {
        (200, Some(list)) => {
            if list.is_empty() || list.len() > max_credentials {
                return Err(violation(format!(
                    "{} credentials for at most {max_credentials} key proofs",
                    list.len()
                )));
            }
            let credentials = list
                .iter()
                .map(|c| decode_credential(&c.credential))
                .collect::<Result<Vec<_>>>()?;
            let notification_id = raw
                .notification_id
                .as_deref()
                .map(|n| bounded_id(n, "notification_id"))
                .transpose()?;
            Ok(CredentialAnswer::Issued {
                credentials,
                notification_id,
            })
        }
        (200 | 202, None) if raw.transaction_id.is_some() || answer.status == 202 => {
            Ok(CredentialAnswer::Deferred {
                transaction_id: raw
                    .transaction_id
                    .as_deref()
                    .map(|t| bounded_id(t, "transaction_id"))
                    .transpose()?,
                interval: interval(raw.interval)?,
            })
        }
        (status, _) => Err(violation(format!(
            "credential response {status} with neither credentials nor transaction_id"
        ))),
    }
}

/// `issuance_pending` from a deferred endpoint (the pre-1.0 form of "not yet"): its interval.
pub(crate) fn pending_interval(answer: &Answer) -> Option<u64> {
    #[derive(Deserialize)]
    struct Pending {
        error: String,
        #[serde(default)]
        interval: Option<u64>,
    }
    let p: Pending = serde_json::from_slice(&answer.body).ok()?;
    (answer.status == 400 && p.error == "issuance_pending")
        .then(|| interval(p.interval).unwrap_or(DEFAULT_INTERVAL))
}

/// Decodes each credential and pairs it with the key (of `keys`) its MSO binds; a
/// credential that is not an `IssuerSigned`, or binds no key of this request (or one
/// already paired), is refused.
pub(crate) fn bind(credentials: Vec<Vec<u8>>, keys: &[StoreKey]) -> Result<Vec<IssuedCredential>> {
    let mut used = vec![false; keys.len()];
    let mut out = Vec::with_capacity(credentials.len());
    for bytes in credentials {
        let signed: IssuerSigned =
            from_slice(&bytes, &Limits::DEFAULT).map_err(|e| WalletError::Malformed {
                reason: format!("a credential is not an ISO 18013-5 IssuerSigned: {e}"),
            })?;
        let device = signed
            .issuer_auth
            .mso()
            .value()
            .device_key_info
            .public_key()
            .map_err(|e| WalletError::Malformed {
                reason: format!("a credential's deviceKey: {e}"),
            })?
            .to_sec1();
        let at = keys
            .iter()
            .zip(used.iter())
            .position(|(k, u)| !u && k.public == device)
            .ok_or_else(|| {
                violation("a credential is bound to a key this request did not prove (or twice)")
            })?;
        if let (Some(u), Some(k)) = (used.get_mut(at), keys.get(at)) {
            *u = true;
            out.push(IssuedCredential {
                issuer_signed: bytes,
                key_alias: k.alias.clone(),
            });
        }
    }
    Ok(out)
}
