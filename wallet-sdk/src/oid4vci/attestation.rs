//! OAuth attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth,
//! required by HAIP 1.0): the wallet provider's attestation JWT, which the app obtains and
//! hands in, and a fresh proof of possession for each request, signed by the wallet instance
//! key the attestation names (`cnf.jwk`), held in the app's [`KeyStore`].

use serde_json::{json, Map};
use time::OffsetDateTime;

use super::jws::{random_token, StoreKey};
use crate::error::{Result, WalletError};
use crate::http::{header, HttpHeader};
use crate::keystore::{public_key_checked, KeyStore};

/// The JWT `typ` of a client attestation PoP.
const POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// Longest attestation JWT accepted from the app.
const MAX_ATTESTATION_LEN: usize = 16 * 1024;

/// The wallet's client attestation, from its wallet provider.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientAttestation {
    /// The attestation JWT (`typ: oauth-client-attestation+jwt`), whose `sub` is the
    /// options' `client_id` and whose `cnf.jwk` is the key of `instance_key_alias`.
    pub attestation_jwt: String,
    /// The alias of the wallet instance key in the app's [`KeyStore`].
    pub instance_key_alias: String,
}

/// A client attestation with its checked instance key.
#[derive(Debug, Clone)]
pub(crate) struct ClientAttestationKey {
    attestation: String,
    key: StoreKey,
    client_id: String,
}

impl ClientAttestationKey {
    /// Checks the app's attestation (shape only: the issuer verifies it) and the instance key.
    pub(crate) fn new(
        keys: &dyn KeyStore,
        a: &ClientAttestation,
        client_id: Option<&str>,
    ) -> Result<Self> {
        let client_id = client_id.ok_or_else(|| WalletError::InvalidInput {
            reason: "a client attestation needs the options' client_id".into(),
        })?;
        let shape_ok = a.attestation_jwt.len() <= MAX_ATTESTATION_LEN
            && a.attestation_jwt.split('.').count() == 3
            && a.attestation_jwt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !shape_ok {
            return Err(WalletError::InvalidInput {
                reason: "the client attestation is not a compact JWT".into(),
            });
        }
        let public = public_key_checked(keys, &a.instance_key_alias)?;
        Ok(ClientAttestationKey {
            attestation: a.attestation_jwt.clone(),
            key: StoreKey {
                alias: a.instance_key_alias.clone(),
                public,
            },
            client_id: client_id.to_owned(),
        })
    }

    /// `OAuth-Client-Attestation` and a fresh `OAuth-Client-Attestation-PoP` for `audience`
    /// (the authorization server's issuer identifier).
    pub(crate) fn headers(&self, keys: &dyn KeyStore, audience: &str) -> Result<Vec<HttpHeader>> {
        let claims = json!({
            "iss": self.client_id,
            "aud": audience,
            "jti": random_token::<16>()?,
            "iat": OffsetDateTime::now_utc().unix_timestamp(),
        });
        let pop = self.key.sign_jwt(keys, POP_TYP, Map::new(), &claims)?;
        Ok(vec![
            header("OAuth-Client-Attestation", self.attestation.clone()),
            header("OAuth-Client-Attestation-PoP", pop),
        ])
    }
}
