//! DPoP (RFC 9449) at the wallet-facing routes: the proof in the `DPoP` header is verified
//! against the request (method, URL, access token), its `jti` accepted once, and, when the
//! issuer requires it, its nonce checked; the answer then carries a fresh `DPoP-Nonce`.
//!
//! DPoP nonces are stateless (an HMAC under a key derived from the server secret, with an
//! expiry, as the `c_nonce`s are), so every instance accepts every other's.

use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::AppState;
use crate::jose::dpop::{verify_dpop, DpopCheck};
use crate::oid4vci::VciError;

/// Verifies the request's DPoP proof, if it has one, and returns its key's thumbprint.
/// `access_token` is the token the request presents (its `ath` must match); `resource` says
/// whether this is a protected resource (whose nonce errors are 401) or the token endpoint.
pub(super) async fn dpop_key(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    access_token: Option<&str>,
    resource: bool,
    now: OffsetDateTime,
) -> Result<Option<String>, VciError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |description: String| VciError::InvalidDpopProof {
        description,
        resource,
    };
    if values.next().is_some() {
        return Err(invalid("exactly one DPoP header is allowed".into()));
    }
    let proof = value
        .to_str()
        .map_err(|_| invalid("the DPoP header is not a JWT".into()))?;
    let cfg = &state.issuer.config().oid4vci;
    let max_age = Duration::seconds(i64::try_from(cfg.dpop_max_age_secs).unwrap_or(300));
    let htu = state.vci.url(path);
    let check = DpopCheck {
        method: method.as_str(),
        htu: &htu,
        access_token,
        nonce: None,
        now,
        max_age,
    };
    let verified = verify_dpop(proof, &check, &mso::crypto::DefaultVerifier)
        .map_err(|e| invalid(e.to_string()))?;
    if cfg.dpop_nonce {
        let fresh = verified
            .nonce
            .as_deref()
            .is_some_and(|n| state.vci.dpop_nonces().check(n, now).is_ok());
        if !fresh {
            return Err(VciError::UseDpopNonce {
                description: "use the DPoP-Nonce this answer carries".into(),
                resource,
            });
        }
    }
    // One use per (key, jti) within the proof's window (RFC 9449 §11.1).
    let mut h = Sha256::new();
    h.update(verified.jkt.as_bytes());
    h.update([0]);
    h.update(verified.jti.as_bytes());
    let expires = verified.iat.saturating_add(max_age + Duration::minutes(2));
    if !state
        .issuer
        .store()
        .use_dpop_jti(&h.finalize().into(), expires)
        .await?
    {
        return Err(invalid(
            "this DPoP proof was already used (jti replay)".into(),
        ));
    }
    Ok(Some(verified.jkt))
}

/// Adds a fresh `DPoP-Nonce` to an answer when the issuer requires DPoP nonces.
pub(super) fn dpop_nonce_header(state: &AppState, resp: &mut Response, now: OffsetDateTime) {
    if !state.issuer.config().oid4vci.dpop_nonce {
        return;
    }
    if let Ok(random) = crate::store::random_bytes::<16>() {
        let (nonce, _) = state.vci.dpop_nonces().issue(now, random);
        if let Ok(v) = HeaderValue::from_str(&nonce) {
            resp.headers_mut().insert("dpop-nonce", v);
        }
    }
}
