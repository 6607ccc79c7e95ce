//! Building compact JWS (RFC 7515) signed through the app's [`KeyStore`]: key proofs, DPoP
//! proofs and client attestation PoPs are all `base64url(header).base64url(claims).sig` with
//! ES256 and the 64-byte `r || s` signature. The SDK never parses a JWT from the issuer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Map, Value as Json};

use crate::error::{Result, WalletError};
use crate::keystore::{sign_checked, KeyStore};

/// base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `N` random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    OsRng
        .try_fill_bytes(&mut b)
        .map_err(|_| WalletError::Crypto {
            reason: "the operating system gave no randomness".into(),
        })?;
    Ok(b)
}

/// A random base64url token of `N` bytes of entropy.
pub(crate) fn random_token<const N: usize>() -> Result<String> {
    Ok(b64(&random::<N>()?))
}

/// A device or DPoP key held by the app's store: its alias and checked public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoreKey {
    pub(crate) alias: String,
    /// Uncompressed SEC1 P-256 point (checked).
    pub(crate) public: Vec<u8>,
}

impl StoreKey {
    /// The public JWK (RFC 7518 §6.2) of the key.
    pub(crate) fn jwk(&self) -> Result<Json> {
        let (x, y) = match (self.public.get(1..33), self.public.get(33..65)) {
            (Some(x), Some(y)) if self.public.len() == 65 => (x, y),
            _ => {
                return Err(WalletError::KeyStore {
                    reason: format!("the public key of {:?} is not a P-256 point", self.alias),
                })
            }
        };
        Ok(json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}))
    }

    /// A compact JWS over `claims` with `typ`, `alg: ES256` and the `extra` header fields.
    pub(crate) fn sign_jwt(
        &self,
        keys: &dyn KeyStore,
        typ: &str,
        extra: Map<String, Json>,
        claims: &Json,
    ) -> Result<String> {
        let mut header = Map::new();
        header.insert("typ".into(), json!(typ));
        header.insert("alg".into(), json!("ES256"));
        header.extend(extra);
        let input = format!(
            "{}.{}",
            b64(Json::Object(header).to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = sign_checked(keys, &self.alias, &self.public, input.as_bytes())?;
        Ok(format!("{input}.{}", b64(&sig)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::keystore::{check_point, SoftwareKeyStore};
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn a_jwt_verifies_under_its_jwk() {
        let store = SoftwareKeyStore::new();
        let public = check_point("k", store.create_key("k".into()).unwrap()).unwrap();
        let key = StoreKey {
            alias: "k".into(),
            public,
        };
        let jwk = key.jwk().unwrap();
        let mut extra = Map::new();
        extra.insert("jwk".into(), jwk.clone());
        let jwt = key
            .sign_jwt(&store, "dpop+jwt", extra, &json!({"a": 1}))
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Json =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], jwk);
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
        let point = [vec![4], x, y].concat();
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
        let sig =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
    }
}
