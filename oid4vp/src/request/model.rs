//! The authorization request (OpenID4VP 1.0 §5, Appendix A.2) as the verifier writes it and as
//! the wallet reads it: parsing checks every rule that does not depend on how the request
//! arrived (signed or not, over the DC API or not); [`super::check`] and [`super::object`] add
//! those.

use mdoc_jose::jwk::{from_jwk, thumbprint_bytes};
use mso::crypto::{Curve, PublicKey};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::client_id::is_https_url;
use super::error::RequestError;
use super::limits::{
    MAX_JWKS_KEYS, MAX_LIST_LEN, MAX_NONCE_LEN, MAX_REQUEST_LEN, MAX_URI_LEN, MIN_NONCE_LEN,
};

/// The only `response_type` this crate answers (§5.4).
pub const RESPONSE_TYPE: &str = "vp_token";
/// The content encryption used when `encrypted_response_enc_values_supported` is absent (§8.3).
pub const DEFAULT_ENC: &str = "A128GCM";

/// How the response travels (§8.2, §8.3.1, A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseMode {
    /// Form POST of `vp_token` and `state` to `response_uri`.
    #[serde(rename = "direct_post")]
    DirectPost,
    /// Form POST of `response=<JWE>` to `response_uri`.
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
    /// Returned through the Digital Credentials API in the clear.
    #[serde(rename = "dc_api")]
    DcApi,
    /// Returned through the Digital Credentials API as `response=<JWE>`.
    #[serde(rename = "dc_api.jwt")]
    DcApiJwt,
}

impl ResponseMode {
    /// The mode's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => "direct_post",
            ResponseMode::DirectPostJwt => "direct_post.jwt",
            ResponseMode::DcApi => "dc_api",
            ResponseMode::DcApiJwt => "dc_api.jwt",
        }
    }

    /// The mode named `name`, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "direct_post" => ResponseMode::DirectPost,
            "direct_post.jwt" => ResponseMode::DirectPostJwt,
            "dc_api" => ResponseMode::DcApi,
            "dc_api.jwt" => ResponseMode::DcApiJwt,
            _ => return None,
        })
    }

    /// Whether the response goes back through the Digital Credentials API.
    pub fn is_dc_api(self) -> bool {
        matches!(self, ResponseMode::DcApi | ResponseMode::DcApiJwt)
    }

    /// Whether the response is encrypted to a key of `client_metadata.jwks`.
    pub fn is_encrypted(self) -> bool {
        matches!(self, ResponseMode::DirectPostJwt | ResponseMode::DcApiJwt)
    }
}

/// A JWK Set (RFC 7517 §5): the keys as JSON, read one by one when used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Json>,
}

/// The verifier metadata a request may carry (§5.1, §11.1). Other members are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// Keys for response encryption (ephemeral, per request; never for request signatures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// JWE `enc` values the verifier decrypts; `A128GCM` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
    /// Credential formats and their algorithms, e.g. `{"mso_mdoc": {...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_formats_supported: Option<Json>,
}

/// The one response encryption key of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptionKey {
    /// Its `kid`, which the JWE header repeats (§8.3).
    pub kid: String,
    /// The P-256 public key.
    pub key: PublicKey,
}

impl EncryptionKey {
    /// The RFC 7638 JWK SHA-256 thumbprint as raw bytes: the handover's `jwkThumbprint`
    /// (B.2.6.1, B.2.6.2).
    pub fn thumbprint(&self) -> [u8; 32] {
        thumbprint_bytes(&self.key)
    }
}

impl ClientMetadata {
    /// The one key a wallet may encrypt the response to: EC P-256, `alg` ECDH-ES, a non-empty
    /// `kid`, `use` absent or `enc`. Other keys (other curves, X25519, signing keys) are
    /// skipped; none or more than one usable key is refused.
    pub fn encryption_key(&self) -> Result<EncryptionKey, RequestError> {
        let keys = &self
            .jwks
            .as_ref()
            .ok_or(RequestError::NoEncryptionKey)?
            .keys;
        if keys.is_empty() || keys.len() > MAX_JWKS_KEYS {
            return Err(RequestError::ListLength {
                what: "client_metadata.jwks.keys",
                max: MAX_JWKS_KEYS,
            });
        }
        let s = |k: &Json, m: &str| k.get(m).and_then(Json::as_str).map(str::to_owned);
        let usable: Vec<&Json> = keys
            .iter()
            .filter(|k| {
                s(k, "kty").as_deref() == Some("EC")
                    && s(k, "crv").as_deref() == Some("P-256")
                    && s(k, "alg").as_deref() == Some("ECDH-ES")
                    && s(k, "kid").is_some_and(|kid| !kid.is_empty())
                    && k.get("use").is_none_or(|u| u.as_str() == Some("enc"))
            })
            .collect();
        let [jwk] = usable.as_slice() else {
            return Err(match usable.len() {
                0 => RequestError::NoEncryptionKey,
                n => RequestError::AmbiguousEncryptionKey(n),
            });
        };
        let key = from_jwk(jwk).map_err(RequestError::EncryptionKey)?;
        if key.curve() != Curve::P256 {
            return Err(RequestError::NoEncryptionKey);
        }
        Ok(EncryptionKey {
            kid: s(jwk, "kid").unwrap_or_default(),
            key,
        })
    }

    /// The first of the verifier's `enc` values that `supported` (the wallet's, in its order of
    /// preference) contains; [`DEFAULT_ENC`] when the verifier lists none.
    pub fn response_enc<'s>(&self, supported: &[&'s str]) -> Option<&'s str> {
        match &self.encrypted_response_enc_values_supported {
            None => supported.iter().find(|s| **s == DEFAULT_ENC).copied(),
            Some(list) => supported
                .iter()
                .find(|s| list.iter().any(|v| v == **s))
                .copied(),
        }
    }
}

/// An OpenID4VP authorization request for `mso_mdoc` presentations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthorizationRequest {
    /// The verifier's client identifier, prefix included (absent in an unsigned DC API
    /// request, §A.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Always `vp_token`.
    pub response_type: String,
    /// How the response travels.
    pub response_mode: ResponseMode,
    /// Where a direct_post response goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_uri: Option<String>,
    /// Never with direct_post; kept for the modes that allow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Binds the presentation to this transaction (goes into the handover).
    pub nonce: String,
    /// Returned unchanged with a direct_post response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The DCQL query, raw. The lead switches this to the typed `crate::dcql::DcqlQuery` when
    /// the DCQL and request work are merged; until then the wallet validates it separately.
    pub dcql_query: Json,
    /// Verifier metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    /// The origins a signed DC API request may be used from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_origins: Option<Vec<String>>,
    /// The request object's audience (`https://self-issued.me/v2`, static discovery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The request object's issue time, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The request object's expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The `wallet_nonce` the wallet sent with a request_uri POST (§5.10), echoed back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_nonce: Option<String>,
}

/// The request members read; others are ignored (§5), except `transaction_data`. serde
/// refuses a member given twice, so no later reader can see another value.
#[derive(Deserialize)]
pub(crate) struct Raw {
    pub(crate) client_id: Option<String>,
    pub(crate) response_type: Option<String>,
    pub(crate) response_mode: Option<String>,
    pub(crate) response_uri: Option<String>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) dcql_query: Option<Json>,
    pub(crate) client_metadata: Option<ClientMetadata>,
    pub(crate) expected_origins: Option<Vec<String>>,
    pub(crate) aud: Option<Json>,
    pub(crate) iat: Option<serde_json::Number>,
    pub(crate) exp: Option<serde_json::Number>,
    pub(crate) wallet_nonce: Option<String>,
    pub(crate) transaction_data: Option<IgnoredAny>,
}

/// §5.2: nonce and state use only the URL-safe characters.
fn url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn https(what: &'static str, uri: &str) -> Result<(), RequestError> {
    if uri.len() > MAX_URI_LEN || !is_https_url(uri) {
        return Err(RequestError::Uri(what));
    }
    Ok(())
}

fn number(n: Option<&serde_json::Number>, what: &'static str) -> Result<Option<i64>, RequestError> {
    n.map(|n| n.as_i64().ok_or(RequestError::Date(what)))
        .transpose()
}

impl AuthorizationRequest {
    /// Parses and checks an untrusted request given as a JSON object (a DC API request's
    /// `data`, or a request object's claims): bounded size, then [`Self::from_value`].
    pub fn from_json(json: &[u8]) -> Result<Self, RequestError> {
        if json.len() > MAX_REQUEST_LEN {
            return Err(RequestError::TooLong {
                max: MAX_REQUEST_LEN,
            });
        }
        let raw: Raw =
            serde_json::from_slice(json).map_err(|e| RequestError::Malformed(e.to_string()))?;
        Self::from_raw(raw)
    }

    /// Checks an untrusted request already read as JSON: `response_type` `vp_token`, a
    /// supported `response_mode`, a `nonce` of 16..=256 URL-safe characters, a URL-safe
    /// `state`, a `dcql_query` object, no `transaction_data`, an https `response_uri` and no
    /// `redirect_uri` for direct_post*, exactly one usable encryption key for the `.jwt` modes,
    /// bounded lists. Who the verifier is and how the request came are checked by
    /// [`super::check::parse_unsigned`] and [`super::object::verify_request_object`].
    pub fn from_value(json: Json) -> Result<Self, RequestError> {
        let raw: Raw =
            serde_json::from_value(json).map_err(|e| RequestError::Malformed(e.to_string()))?;
        Self::from_raw(raw)
    }

    pub(crate) fn from_raw(raw: Raw) -> Result<Self, RequestError> {
        let short = |s: &str| s.chars().take(40).collect::<String>();
        match raw.response_type.as_deref() {
            Some(RESPONSE_TYPE) => {}
            other => return Err(RequestError::ResponseType(other.map(short))),
        }
        let response_mode = raw
            .response_mode
            .as_deref()
            .and_then(ResponseMode::from_name)
            .ok_or_else(|| RequestError::ResponseMode(raw.response_mode.as_deref().map(short)))?;
        if raw.transaction_data.is_some() {
            return Err(RequestError::TransactionData);
        }
        let nonce = raw.nonce.ok_or(RequestError::NonceMissing)?;
        if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
            return Err(RequestError::NonceLength {
                len: nonce.len(),
                min: MIN_NONCE_LEN,
                max: MAX_NONCE_LEN,
            });
        }
        if !url_safe(&nonce) {
            return Err(RequestError::Charset("nonce"));
        }
        if let Some(state) = &raw.state {
            if state.len() > MAX_NONCE_LEN || !url_safe(state) {
                return Err(RequestError::Charset("state"));
            }
        }
        let dcql_query = match raw.dcql_query {
            Some(q @ Json::Object(_)) => q,
            _ => return Err(RequestError::DcqlMissing),
        };
        if !response_mode.is_dc_api() {
            let uri = raw
                .response_uri
                .as_deref()
                .ok_or(RequestError::ResponseUriMissing(response_mode.as_str()))?;
            https("response_uri", uri)?;
            if raw.redirect_uri.is_some() {
                return Err(RequestError::RedirectUriWithDirectPost);
            }
        }
        if response_mode.is_encrypted() {
            let metadata = raw
                .client_metadata
                .as_ref()
                .ok_or(RequestError::NoEncryptionKey)?;
            metadata.encryption_key()?;
            if let Some(encs) = &metadata.encrypted_response_enc_values_supported {
                if encs.is_empty() || encs.len() > MAX_LIST_LEN {
                    return Err(RequestError::ListLength {
                        what: "encrypted_response_enc_values_supported",
                        max: MAX_LIST_LEN,
                    });
                }
            }
        }
        if let Some(origins) = &raw.expected_origins {
            if origins.is_empty() || origins.len() > MAX_LIST_LEN {
                return Err(RequestError::ListLength {
                    what: "expected_origins",
                    max: MAX_LIST_LEN,
                });
            }
        }
        let aud = match raw.aud {
            None => None,
            Some(Json::String(a)) => Some(a),
            Some(_) => return Err(RequestError::Malformed("aud is not a string".into())),
        };
        Ok(AuthorizationRequest {
            client_id: raw.client_id,
            response_type: RESPONSE_TYPE.into(),
            response_mode,
            response_uri: raw.response_uri,
            redirect_uri: raw.redirect_uri,
            nonce,
            state: raw.state,
            dcql_query,
            client_metadata: raw.client_metadata,
            expected_origins: raw.expected_origins,
            aud,
            iat: number(raw.iat.as_ref(), "iat")?,
            exp: number(raw.exp.as_ref(), "exp")?,
            wallet_nonce: raw.wallet_nonce,
        })
    }

    /// The request as the JSON object a verifier sends (DC API `data`, request object claims).
    pub fn to_json(&self) -> Json {
        // Every member serializes to JSON (string keys only), so this cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The response encryption key of an encrypted mode (`None` for the clear modes).
    pub fn encryption_key(&self) -> Result<Option<EncryptionKey>, RequestError> {
        if !self.response_mode.is_encrypted() {
            return Ok(None);
        }
        self.client_metadata
            .as_ref()
            .ok_or(RequestError::NoEncryptionKey)?
            .encryption_key()
            .map(Some)
    }

    /// The URI the response goes to, or the handover's response URI: `response_uri`, else
    /// `redirect_uri`.
    pub fn response_target(&self) -> Option<&str> {
        self.response_uri
            .as_deref()
            .or(self.redirect_uri.as_deref())
    }
}
