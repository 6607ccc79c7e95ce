//! A minimal OpenID4VCI 1.0 wallet for the `issuer-load` benchmark: it obtains credentials
//! through the issuer's public endpoints (metadata, pre-authorized code with transaction code,
//! DPoP, nonce, key proofs, credential) with as little client-side work as possible, so the
//! benchmark measures the issuer. A holder that verifies, stores and presents what it obtains
//! is the wallet SDK (`wallet-sdk`), which the main job (`mdoc-dev`) uses; the independent
//! client that proves interop is `tests/interop/oid4vci-wallet` (an npm library).

use mdoc_issuer::jose::dpop::make_dpop;
use mdoc_issuer::pop::make_proof;
use mso::crypto::Signer;
use rand_core::{OsRng, RngCore};
use reqwest::StatusCode;
use serde_json::Value as Json;
use time::OffsetDateTime;

use crate::Result;

/// The pre-authorized code grant type.
const PRE_AUTH: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// What the wallet learned about an issuer from its offer and metadata.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The credential issuer identifier.
    pub id: String,
    /// Credential Issuer Metadata.
    pub metadata: Json,
    /// Token endpoint.
    pub token_endpoint: String,
}

/// An access token and what came with it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The access token.
    pub access_token: String,
    /// Whether it is DPoP-bound.
    pub dpop: bool,
    /// The last `DPoP-Nonce` the issuer gave, if any.
    pub dpop_nonce: Option<String>,
}

/// The credentials of one credential request.
#[derive(Debug, Clone)]
pub struct Obtained {
    /// base64url IssuerSigned, one per proof.
    pub credentials: Vec<String>,
}

fn text<'a>(v: &'a Json, pointer: &str) -> Result<&'a str> {
    v.pointer(pointer)
        .and_then(Json::as_str)
        .ok_or_else(|| format!("{pointer} missing in {v}").into())
}

fn jti() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Fetches the issuer's metadata and its authorization server's token endpoint.
pub async fn discover(http: &reqwest::Client, offer: &Json) -> Result<Issuer> {
    let id = text(offer, "/credential_issuer")?.to_owned();
    let metadata: Json = http
        .get(format!("{id}/.well-known/openid-credential-issuer"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let server = metadata
        .pointer("/authorization_servers/0")
        .and_then(Json::as_str)
        .unwrap_or(&id)
        .to_owned();
    let as_meta: Json = http
        .get(format!("{server}/.well-known/oauth-authorization-server"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(Issuer {
        id,
        token_endpoint: text(&as_meta, "/token_endpoint")?.to_owned(),
        metadata,
    })
}

/// Redeems the offer's pre-authorized code (with `tx_code` if it needs one), DPoP-bound to
/// `dpop` when given; retries once with the issuer's DPoP nonce if it asks for one.
pub async fn redeem(
    http: &reqwest::Client,
    issuer: &Issuer,
    offer: &Json,
    tx_code: Option<&str>,
    dpop: Option<&dyn Signer>,
) -> Result<Session> {
    let code = offer
        .pointer(&format!("/grants/{PRE_AUTH}/pre-authorized_code"))
        .and_then(Json::as_str)
        .ok_or("the offer has no pre-authorized code")?;
    let mut form = format!(
        "grant_type={}&pre-authorized_code={code}",
        urlencode(PRE_AUTH)
    );
    if let Some(t) = tx_code {
        form.push_str(&format!("&tx_code={}", urlencode(t)));
    }
    let mut nonce: Option<String> = None;
    for _ in 0..2 {
        let mut req = http
            .post(&issuer.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone());
        if let Some(key) = dpop {
            let proof = make_dpop(
                key,
                "POST",
                &issuer.token_endpoint,
                None,
                nonce.as_deref(),
                OffsetDateTime::now_utc(),
                &jti(),
            )?;
            req = req.header("dpop", proof);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let given = resp
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Json = resp.json().await?;
        if status == StatusCode::OK {
            return Ok(Session {
                access_token: text(&body, "/access_token")?.to_owned(),
                dpop: body.get("token_type").and_then(Json::as_str) == Some("DPoP"),
                dpop_nonce: given,
            });
        }
        if body.get("error").and_then(Json::as_str) == Some("use_dpop_nonce") && given.is_some() {
            nonce = given;
            continue;
        }
        return Err(format!("token endpoint: {status} {body}").into());
    }
    Err("token endpoint: DPoP nonce not accepted".into())
}

/// A fresh `c_nonce`.
pub async fn c_nonce(http: &reqwest::Client, issuer: &Issuer) -> Result<String> {
    let endpoint = text(&issuer.metadata, "/nonce_endpoint")?;
    let body: Json = http
        .post(endpoint)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(text(&body, "/c_nonce")?.to_owned())
}

fn authorize(
    req: reqwest::RequestBuilder,
    session: &Session,
    url: &str,
    dpop: Option<&dyn Signer>,
) -> Result<reqwest::RequestBuilder> {
    Ok(match (session.dpop, dpop) {
        (true, Some(key)) => {
            let proof = make_dpop(
                key,
                "POST",
                url,
                Some(&session.access_token),
                session.dpop_nonce.as_deref(),
                OffsetDateTime::now_utc(),
                &jti(),
            )?;
            req.header("authorization", format!("DPoP {}", session.access_token))
                .header("dpop", proof)
        }
        (true, None) => return Err("a DPoP-bound token needs the DPoP key".into()),
        (false, _) => req.bearer_auth(&session.access_token),
    })
}

/// Requests `configuration` with one key proof per device key (a batch).
pub async fn request_credential(
    http: &reqwest::Client,
    issuer: &Issuer,
    session: &Session,
    configuration: &str,
    nonce: &str,
    device_keys: &[&dyn Signer],
    dpop: Option<&dyn Signer>,
) -> Result<Obtained> {
    let endpoint = text(&issuer.metadata, "/credential_endpoint")?;
    let now = OffsetDateTime::now_utc();
    let proofs = device_keys
        .iter()
        .map(|k| make_proof(*k, &issuer.id, nonce, now, true))
        .collect::<mso::Result<Vec<_>>>()?;
    let body = serde_json::json!({
        "credential_configuration_id": configuration,
        "proofs": {"jwt": proofs},
    });
    let req = authorize(http.post(endpoint).json(&body), session, endpoint, dpop)?;
    let resp = req.send().await?;
    let status = resp.status();
    let body: Json = resp.json().await?;
    if status != StatusCode::OK {
        return Err(format!("credential endpoint: {status} {body}").into());
    }
    let credentials = body
        .get("credentials")
        .and_then(Json::as_array)
        .ok_or("no credentials")?
        .iter()
        .map(|c| text(c, "/credential").map(str::to_owned))
        .collect::<Result<Vec<_>>>()?;
    Ok(Obtained { credentials })
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
