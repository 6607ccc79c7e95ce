//! RFC 9449 DPoP proofs, signed by a key in the app's store: `typ: dpop+jwt`, ES256, the
//! public `jwk`; claims `jti`, `htm`, `htu` (the URL without query and fragment), `iat`,
//! `ath` (the access token's SHA-256) on resource requests, and the server's `nonce` when it
//! gave one.

use serde_json::{json, Map};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use super::jws::{b64, random_token, StoreKey};
use crate::error::Result;
use crate::http::HttpMethod;
use crate::keystore::KeyStore;

/// The JWT `typ` of a DPoP proof.
pub(crate) const DPOP_TYP: &str = "dpop+jwt";

/// A DPoP proof for one request.
pub(crate) fn dpop_proof(
    keys: &dyn KeyStore,
    key: &StoreKey,
    method: HttpMethod,
    url: &Url,
    access_token: Option<&str>,
    nonce: Option<&str>,
) -> Result<String> {
    let mut htu = url.clone();
    htu.set_query(None);
    htu.set_fragment(None);
    let mut claims = json!({
        "jti": random_token::<16>()?,
        "htm": method.as_str(),
        "htu": htu.as_str(),
        "iat": OffsetDateTime::now_utc().unix_timestamp(),
    });
    if let Some(map) = claims.as_object_mut() {
        if let Some(token) = access_token {
            map.insert("ath".into(), json!(b64(&Sha256::digest(token.as_bytes()))));
        }
        if let Some(n) = nonce {
            map.insert("nonce".into(), json!(n));
        }
    }
    let mut header = Map::new();
    header.insert("jwk".into(), key.jwk()?);
    key.sign_jwt(keys, DPOP_TYP, header, &claims)
}

/// The RFC 7638 thumbprint of the DPoP key (`dpop_jkt` of RFC 9449 §10).
pub(crate) fn jwk_thumbprint(key: &StoreKey) -> Result<String> {
    let jwk = key.jwk()?;
    let field = |n: &str| jwk.get(n).and_then(|v| v.as_str()).unwrap_or_default();
    // Required members in lexicographic order, no whitespace (RFC 7638 §3.2).
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        field("crv"),
        field("kty"),
        field("x"),
        field("y")
    );
    Ok(b64(&Sha256::digest(canonical.as_bytes())))
}
