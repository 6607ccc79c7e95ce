//! Discovery: Credential Issuer Metadata (OpenID4VCI 1.0 §12.2) and the authorization
//! server's metadata (RFC 8414, with the OpenID Connect Discovery location as a fallback),
//! each fetched at its well-known location and refused unless it names the identifier it was
//! fetched for; every endpoint must satisfy the URL policy (`https`).
//!
//! Endpoints need not share the issuer's origin: OpenID4VCI 1.0 and RFC 8414 require only
//! that they be `https` URLs, and deployments put the credential endpoint or the
//! authorization server on other hosts. What binds them to the issuer is that they come from
//! metadata fetched over TLS from the issuer identifier's own origin and naming that exact
//! identifier. An offer's `authorization_server` must be one the metadata lists (§4.1.1).

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use url::Url;

use super::offer::check_issuer_id;
use crate::error::{Result, WalletError};
use crate::http::{header, Answer, Http, HttpMethod, UrlPolicy};
use crate::json::parse;

/// Credential Issuer Metadata's well-known name.
const ISSUER_WELL_KNOWN: &str = "openid-credential-issuer";
/// RFC 8414's well-known name.
const AS_WELL_KNOWN: &str = "oauth-authorization-server";
/// OpenID Connect Discovery's well-known name (appended to the issuer's path).
const OIDC_WELL_KNOWN: &str = "openid-configuration";
/// Most credential configurations read from one issuer.
pub const MAX_CONFIGURATIONS: usize = 256;

/// A name in one locale.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalizedName {
    /// The name.
    pub name: String,
    /// Its BCP 47 language tag, if the issuer gives one.
    pub locale: Option<String>,
}

/// A claim (data element) of a credential configuration.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClaimInfo {
    /// The claim path: `[namespace, element]` for an mdoc.
    pub path: Vec<String>,
    /// Whether the issuer always includes it.
    pub mandatory: bool,
    /// Its display names.
    pub display: Vec<LocalizedName>,
}

/// An `mso_mdoc` credential configuration the issuer offers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialConfigurationInfo {
    /// The configuration id (what the credential request names).
    pub id: String,
    /// The ISO 18013-5 doc type.
    pub doctype: String,
    /// The credential's display names.
    pub display: Vec<LocalizedName>,
    /// Its claims, as the issuer describes them.
    pub claims: Vec<ClaimInfo>,
    /// Whether every key proof must carry a key attestation (from
    /// [`crate::KeyStore::key_attestation`]).
    pub key_attestation_required: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct BatchIssuance {
    batch_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
struct ResponseEncryption {
    #[serde(default)]
    encryption_required: bool,
}

/// Credential Issuer Metadata as read (unknown members ignored).
#[derive(Debug, Clone, Deserialize)]
struct RawIssuerMetadata {
    credential_issuer: String,
    #[serde(default)]
    authorization_servers: Option<Vec<String>>,
    credential_endpoint: String,
    #[serde(default)]
    nonce_endpoint: Option<String>,
    #[serde(default)]
    deferred_credential_endpoint: Option<String>,
    #[serde(default)]
    notification_endpoint: Option<String>,
    #[serde(default)]
    batch_credential_issuance: Option<BatchIssuance>,
    #[serde(default)]
    credential_response_encryption: Option<ResponseEncryption>,
    #[serde(default)]
    display: Option<Vec<Json>>,
    credential_configurations_supported: Map<String, Json>,
}

#[derive(Debug, Clone, Deserialize)]
struct JwtProofType {
    #[serde(default)]
    proof_signing_alg_values_supported: Vec<Json>,
    #[serde(default)]
    key_attestations_required: Option<Json>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ProofTypes {
    #[serde(default)]
    jwt: Option<JwtProofType>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct CredentialMetadata {
    #[serde(default)]
    display: Option<Vec<Json>>,
    #[serde(default)]
    claims: Option<Vec<Json>>,
}

#[derive(Debug, Clone, Deserialize)]
struct MdocConfiguration {
    doctype: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    proof_types_supported: Option<ProofTypes>,
    #[serde(default)]
    credential_metadata: Option<CredentialMetadata>,
    /// Drafts before 1.0 put `display` here.
    #[serde(default)]
    display: Option<Vec<Json>>,
}

/// An `mso_mdoc` configuration the SDK can request.
#[derive(Debug, Clone)]
pub(crate) struct Configuration {
    pub(crate) info: CredentialConfigurationInfo,
    pub(crate) scope: Option<String>,
}

/// Credential Issuer Metadata, checked.
#[derive(Debug, Clone)]
pub(crate) struct IssuerMetadata {
    pub(crate) credential_issuer: String,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) credential_endpoint: Url,
    pub(crate) nonce_endpoint: Option<Url>,
    pub(crate) deferred_credential_endpoint: Option<Url>,
    pub(crate) notification_endpoint: Option<Url>,
    pub(crate) batch_size: u32,
    pub(crate) display: Vec<LocalizedName>,
    /// Every configuration id the issuer lists.
    pub(crate) all_ids: Vec<String>,
    /// The `mso_mdoc` configurations with `jwt` ES256 proofs.
    pub(crate) mdoc: Vec<Configuration>,
}

/// RFC 8414 metadata, checked.
#[derive(Debug, Clone)]
pub(crate) struct ServerMetadata {
    pub(crate) issuer: String,
    pub(crate) token_endpoint: Url,
    pub(crate) authorization_endpoint: Option<Url>,
    pub(crate) par_endpoint: Option<Url>,
    pub(crate) require_par: bool,
    pub(crate) dpop: bool,
    pub(crate) iss_parameter: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct RawServerMetadata {
    issuer: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    pushed_authorization_request_endpoint: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// `https://host[:port]/.well-known/{name}{path}` (RFC 8414 §3.1, OpenID4VCI 1.0 §12.2.2:
/// the well-known name goes between the host and the identifier's path).
pub(crate) fn well_known(id: &Url, name: &str) -> Result<Url> {
    let path = id.path().trim_end_matches('/');
    let mut u = id.clone();
    u.set_path(&format!("/.well-known/{name}{path}"));
    u.set_query(None);
    Ok(u)
}

/// `{id}/.well-known/{name}` (the name appended to the identifier's path).
fn appended(id: &Url, name: &str) -> Url {
    let mut u = id.clone();
    let path = format!("{}/.well-known/{name}", id.path().trim_end_matches('/'));
    u.set_path(&path);
    u.set_query(None);
    u
}

fn get(http: &Http, url: &Url, max: usize) -> Result<Answer> {
    http.send(
        HttpMethod::Get,
        url,
        vec![header("Accept", "application/json")],
        Vec::new(),
        max,
    )
}

/// A GET answer that must be 200, or the typed error.
fn ok(answer: Answer) -> Result<Answer> {
    if answer.status == 200 {
        Ok(answer)
    } else {
        Err(super::exchange::error_of(&answer))
    }
}

fn names(values: Option<&[Json]>) -> Vec<LocalizedName> {
    values
        .unwrap_or_default()
        .iter()
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?;
            Some(LocalizedName {
                name: name.chars().take(256).collect(),
                locale: v
                    .get("locale")
                    .and_then(Json::as_str)
                    .map(|l| l.chars().take(64).collect()),
            })
        })
        .take(32)
        .collect()
}

fn claims(values: Option<&[Json]>) -> Vec<ClaimInfo> {
    values
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let path = c
                .get("path")?
                .as_array()?
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?;
            Some(ClaimInfo {
                path,
                mandatory: c.get("mandatory").and_then(Json::as_bool).unwrap_or(false),
                display: names(c.get("display").and_then(Json::as_array).map(Vec::as_slice)),
            })
        })
        .take(1024)
        .collect()
}

fn endpoint(policy: &UrlPolicy, name: &str, url: &str) -> Result<Url> {
    policy.check(url).map_err(|e| match e {
        WalletError::UrlRefused { url, reason } => WalletError::UrlRefused {
            url,
            reason: format!("{name}: {reason}"),
        },
        other => other,
    })
}

/// Reads one `mso_mdoc` configuration; `None` when the SDK cannot request it (no `jwt`
/// proofs with ES256: an mdoc must be bound to a device key).
fn mdoc_configuration(id: &str, v: &Json) -> Result<Option<Configuration>> {
    let c: MdocConfiguration =
        serde_json::from_value(v.clone()).map_err(|e| WalletError::Protocol {
            reason: format!("credential configuration {id:?}: {e}"),
        })?;
    if c.doctype.is_empty() || c.doctype.len() > 256 {
        return Err(WalletError::Protocol {
            reason: format!("credential configuration {id:?}: doctype is empty or too long"),
        });
    }
    let Some(jwt) = c.proof_types_supported.unwrap_or_default().jwt else {
        return Ok(None);
    };
    if !jwt
        .proof_signing_alg_values_supported
        .iter()
        .any(|a| a.as_str() == Some("ES256"))
    {
        return Ok(None);
    }
    let meta = c.credential_metadata.unwrap_or_default();
    let display = meta.display.or(c.display);
    Ok(Some(Configuration {
        info: CredentialConfigurationInfo {
            id: id.to_owned(),
            doctype: c.doctype,
            display: names(display.as_deref()),
            claims: claims(meta.claims.as_deref()),
            key_attestation_required: jwt.key_attestations_required.is_some(),
        },
        scope: c.scope,
    }))
}

/// Fetches and checks the Credential Issuer Metadata of `id` (the 1.0 location; the
/// identifier's path appended, as older issuers serve it, only after a 404).
pub(crate) fn issuer_metadata(http: &Http, id: &str, max: usize) -> Result<IssuerMetadata> {
    let policy = http.policy;
    let id_url = check_issuer_id(id, &policy)?;
    let first = well_known(&id_url, ISSUER_WELL_KNOWN)?;
    let mut answer = get(http, &first, max)?;
    let has_path = !id_url.path().trim_end_matches('/').is_empty();
    if answer.status == 404 && has_path {
        answer = get(http, &appended(&id_url, ISSUER_WELL_KNOWN), max)?;
    }
    let answer = ok(answer)?;
    let raw: RawIssuerMetadata = parse(&answer.body, "credential issuer metadata")?;
    if raw.credential_issuer != id {
        return Err(WalletError::IssuerMismatch {
            expected: id.to_owned(),
            found: raw.credential_issuer.chars().take(200).collect(),
        });
    }
    if raw
        .credential_response_encryption
        .is_some_and(|e| e.encryption_required)
    {
        return Err(WalletError::Unsupported {
            reason: "the issuer requires credential response encryption".into(),
        });
    }
    let servers = raw.authorization_servers.unwrap_or_default();
    if servers.len() > 16 {
        return Err(WalletError::Protocol {
            reason: "more than 16 authorization_servers".into(),
        });
    }
    for s in &servers {
        check_issuer_id(s, &policy)?;
    }
    let opt = |name: &str, v: &Option<String>| -> Result<Option<Url>> {
        v.as_deref().map(|u| endpoint(&policy, name, u)).transpose()
    };
    let configs = &raw.credential_configurations_supported;
    if configs.len() > MAX_CONFIGURATIONS {
        return Err(WalletError::SizeLimit {
            reason: format!("more than {MAX_CONFIGURATIONS} credential configurations"),
        });
    }
    let mut mdoc = Vec::new();
    for (cid, v) in configs {
        if v.get("format").and_then(Json::as_str) == Some("mso_mdoc") {
            if let Some(c) = mdoc_configuration(cid, v)? {
                mdoc.push(c);
            }
        }
    }
    let batch_size = match raw.batch_credential_issuance {
        None => 1,
        Some(b) if b.batch_size >= 2 => b
            .batch_size
            .min(u32::try_from(crate::credentials::MAX_BATCH).unwrap_or(u32::MAX)),
        Some(b) => {
            return Err(WalletError::Protocol {
                reason: format!("batch_size {} is below 2", b.batch_size),
            })
        }
    };
    Ok(IssuerMetadata {
        credential_endpoint: endpoint(&policy, "credential_endpoint", &raw.credential_endpoint)?,
        nonce_endpoint: opt("nonce_endpoint", &raw.nonce_endpoint)?,
        deferred_credential_endpoint: opt(
            "deferred_credential_endpoint",
            &raw.deferred_credential_endpoint,
        )?,
        notification_endpoint: opt("notification_endpoint", &raw.notification_endpoint)?,
        credential_issuer: raw.credential_issuer,
        authorization_servers: servers,
        batch_size,
        display: names(raw.display.as_deref()),
        all_ids: configs.keys().cloned().collect(),
        mdoc,
    })
}

/// Fetches and checks the metadata of authorization server `id`: RFC 8414's location, then
/// OpenID Connect Discovery's after a 404.
pub(crate) fn server_metadata(http: &Http, id: &str, max: usize) -> Result<ServerMetadata> {
    let policy = http.policy;
    let id_url = check_issuer_id(id, &policy)?;
    let mut answer = get(http, &well_known(&id_url, AS_WELL_KNOWN)?, max)?;
    if answer.status == 404 {
        answer = get(http, &appended(&id_url, OIDC_WELL_KNOWN), max)?;
    }
    let answer = ok(answer)?;
    let raw: RawServerMetadata = parse(&answer.body, "authorization server metadata")?;
    if raw.issuer != id {
        return Err(WalletError::IssuerMismatch {
            expected: id.to_owned(),
            found: raw.issuer.chars().take(200).collect(),
        });
    }
    let token = raw
        .token_endpoint
        .as_deref()
        .ok_or_else(|| WalletError::Protocol {
            reason: "authorization server metadata: no token_endpoint".into(),
        })?;
    let opt = |name: &str, v: &Option<String>| -> Result<Option<Url>> {
        v.as_deref().map(|u| endpoint(&policy, name, u)).transpose()
    };
    if let Some(methods) = &raw.code_challenge_methods_supported {
        if raw.authorization_endpoint.is_some() && !methods.iter().any(|m| m == "S256") {
            return Err(WalletError::Unsupported {
                reason: "the authorization server does not support PKCE S256".into(),
            });
        }
    }
    Ok(ServerMetadata {
        token_endpoint: endpoint(&policy, "token_endpoint", token)?,
        authorization_endpoint: opt("authorization_endpoint", &raw.authorization_endpoint)?,
        par_endpoint: opt(
            "pushed_authorization_request_endpoint",
            &raw.pushed_authorization_request_endpoint,
        )?,
        require_par: raw.require_pushed_authorization_requests,
        dpop: raw
            .dpop_signing_alg_values_supported
            .unwrap_or_default()
            .iter()
            .any(|a| a == "ES256"),
        iss_parameter: raw.authorization_response_iss_parameter_supported,
        issuer: raw.issuer,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn well_known_locations() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            well_known(&u("https://i.example"), ISSUER_WELL_KNOWN)
                .unwrap()
                .as_str(),
            "https://i.example/.well-known/openid-credential-issuer"
        );
        assert_eq!(
            well_known(&u("https://i.example:8443/tenant/x/"), AS_WELL_KNOWN)
                .unwrap()
                .as_str(),
            "https://i.example:8443/.well-known/oauth-authorization-server/tenant/x"
        );
        assert_eq!(
            appended(&u("https://i.example/tenant"), OIDC_WELL_KNOWN).as_str(),
            "https://i.example/tenant/.well-known/openid-configuration"
        );
    }
}
