//! The relying party's end of OpenID4VP 1.0 for mdocs: the authorization request (checked
//! with the same parser a wallet runs, so nothing is sent that a wallet would refuse), the
//! signed request object, the response-encryption key, and the reading of the response:
//! decrypted, matched to `state` and the query, its presentations paired with the request's
//! SessionTranscript (OpenID4VP 1.0 Appendix B.2.6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mdoc_jose::jwe::{ContentEncryption, JweError};
use mdoc_jose::jwk::to_jwk;
use mdoc_oid4vp::dcql::DcqlQuery;
use mdoc_oid4vp::request::{
    request_uri_url, request_url, sign_request_object, AuthorizationRequest, ClientId,
    ClientMetadata, Jwks, RequestUriMethod, ResponseMode,
};
use mdoc_oid4vp::response::{
    body_kind, decrypt_response, handover, parse_dc_api_jwt_response, parse_dc_api_response,
    parse_direct_post_body, parse_direct_post_jwt_body, BodyKind, ResponseError, ResponseParams,
};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Signer as _, SoftwareKey};
use mso::model::SessionTranscript;
use mso::x509::Certificate;
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value as Json};

use super::config::{OpenId4VpRequestConfig, RequestSigner, ResponseEncryption};
use super::message::{Opened, VerifierRequest};
use super::origin::check_origin;
use super::query::dcql;
use super::report::ResponseRefusal;
use crate::error::{Result, VerifierError};

/// The Digital Credentials API protocol identifiers of OpenID4VP 1.0 (Appendix A.1).
pub const PROTOCOL_UNSIGNED: &str = "openid4vp-v1-unsigned";
/// See [`PROTOCOL_UNSIGNED`].
pub const PROTOCOL_SIGNED: &str = "openid4vp-v1-signed";
/// The protocol name of a request by URL.
pub const PROTOCOL_URL: &str = "openid4vp";

/// The COSE algorithms this verifier accepts for issuerAuth and deviceAuth (ES256, ES384,
/// ES512, EdDSA), announced in `vp_formats_supported`.
const COSE_ALGS: [i64; 4] = [-7, -35, -36, -8];

/// The response-encryption key of a `.jwt` request.
struct ResponseKey {
    key: AgreementKey,
    kid: String,
    enc: ContentEncryption,
}

/// An OpenID4VP request awaiting its response.
pub(crate) struct OpenId4VpRequest {
    mode: ResponseMode,
    request: AuthorizationRequest,
    request_object: Option<String>,
    query: DcqlQuery,
    key: Option<ResponseKey>,
    transcript: SessionTranscript,
}

fn random_token(len: usize) -> String {
    let mut b = vec![0u8; len];
    OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn refused(refusal: ResponseRefusal, reason: impl Into<String>) -> VerifierError {
    VerifierError::ResponseRefused {
        refusal,
        reason: reason.into(),
    }
}

impl From<ResponseError> for VerifierError {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::TooLong { .. } => VerifierError::SizeLimit {
                reason: e.to_string(),
            },
            other => VerifierError::Malformed {
                reason: other.to_string(),
            },
        }
    }
}

impl From<mdoc_oid4vp::request::RequestError> for VerifierError {
    fn from(e: mdoc_oid4vp::request::RequestError) -> Self {
        VerifierError::invalid_argument(format!("the request would be refused: {e}"))
    }
}

/// The signer's key, checked against its certificate, and the chain.
fn request_signer(s: &RequestSigner) -> Result<(SoftwareKey, Certificate)> {
    let key = s.private_key.to_mso()?;
    let leaf = s
        .certificate_chain
        .first()
        .ok_or_else(|| VerifierError::invalid_argument("empty request signer certificate chain"))?;
    let leaf = Certificate::from_der(leaf)?;
    if leaf.public_key()? != key.public_key()? {
        return Err(VerifierError::InvalidKey {
            reason: "the request signing key is not its certificate's key".into(),
        });
    }
    Ok((key, leaf))
}

impl OpenId4VpRequest {
    pub(crate) fn new(config: &OpenId4VpRequestConfig) -> Result<Self> {
        let mode = config.response_mode.to_model();
        let query = dcql(&config.credentials, &config.credential_sets)?;
        let signer = config.signer.as_ref().map(request_signer).transpose()?;
        // The client identifier: given, or the one an x509_hash or redirect_uri prefix implies.
        let client_id = match (&config.client_id, &signer, mode.is_dc_api()) {
            (Some(id), _, _) => Some(id.clone()),
            (None, Some((_, leaf)), _) => Some(format!(
                "x509_hash:{}",
                URL_SAFE_NO_PAD.encode(leaf.sha256())
            )),
            (None, None, true) => None,
            (None, None, false) => config
                .response_uri
                .as_ref()
                .map(|uri| format!("redirect_uri:{uri}")),
        };
        // The prefix and the signature go together (§5.9.3): x509 prefixes only signed,
        // redirect_uri only unsigned; a request a wallet must refuse is refused here.
        if let Some(id) = &client_id {
            let parsed = ClientId::parse(id)
                .map_err(|e| VerifierError::invalid_argument(format!("client_id {id:?}: {e}")))?;
            match (parsed.requires_signature(), signer.is_some()) {
                (true, false) => {
                    return Err(VerifierError::invalid_argument(format!(
                        "client_id {id:?} needs a signed request object: give a signer"
                    )))
                }
                (false, true) if matches!(parsed, ClientId::RedirectUri(_)) => {
                    return Err(VerifierError::invalid_argument(
                        "a redirect_uri: client_id cannot sign its request",
                    ))
                }
                _ => {}
            }
        }
        let origin = if mode.is_dc_api() {
            let origin = config.origin.clone().ok_or_else(|| {
                VerifierError::invalid_argument("the Digital Credentials API modes need the origin")
            })?;
            check_origin(&origin)?;
            Some(origin)
        } else {
            None
        };
        let key = mode.is_encrypted().then(|| {
            let key = AgreementKey::P256(p256::SecretKey::random(&mut OsRng));
            ResponseKey {
                kid: random_token(12),
                enc: config.encryption.to_jwe(),
                key,
            }
        });
        let client_metadata = ClientMetadata {
            jwks: key.as_ref().map(|k| {
                let mut jwk = to_jwk(&k.key.public_key());
                if let Json::Object(m) = &mut jwk {
                    m.insert("kid".into(), Json::String(k.kid.clone()));
                    m.insert("alg".into(), Json::String("ECDH-ES".into()));
                    m.insert("use".into(), Json::String("enc".into()));
                }
                Jwks { keys: vec![jwk] }
            }),
            encrypted_response_enc_values_supported: key
                .as_ref()
                .map(|k| vec![k.enc.name().to_owned()]),
            vp_formats_supported: Some(json!({
                "mso_mdoc": {
                    "issuerauth_alg_values": COSE_ALGS,
                    "deviceauth_alg_values": COSE_ALGS,
                }
            })),
        };
        let nonce = random_token(32);
        let request = AuthorizationRequest {
            client_id: client_id.clone(),
            response_type: "vp_token".into(),
            response_mode: mode,
            response_uri: (!mode.is_dc_api())
                .then(|| config.response_uri.clone())
                .flatten(),
            redirect_uri: None,
            nonce: nonce.clone(),
            state: (!mode.is_dc_api()).then(|| random_token(16)),
            dcql_query: serde_json::from_str(&query.to_json()?)
                .map_err(|e| VerifierError::internal(e.to_string()))?,
            client_metadata: Some(client_metadata),
            expected_origins: (signer.is_some() && mode.is_dc_api())
                .then(|| origin.iter().cloned().collect()),
            aud: None,
            iat: None,
            exp: None,
            wallet_nonce: None,
        };
        // The wallet's own parser: a request it would refuse is refused here.
        AuthorizationRequest::from_value(request.to_json())?;
        let request_object = signer
            .as_ref()
            .map(|(key, _)| {
                let chain = &config.signer.as_ref().map(|s| s.certificate_chain.clone());
                sign_request_object(&request, key, chain.as_deref().unwrap_or_default()).map_err(
                    |e| VerifierError::Crypto {
                        reason: e.to_string(),
                    },
                )
            })
            .transpose()?;
        let handover = handover(&request, origin.as_deref())?;
        Ok(OpenId4VpRequest {
            mode,
            request,
            request_object,
            query,
            key,
            transcript: SessionTranscript::online(&handover),
        })
    }

    pub(crate) fn to_send(&self) -> VerifierRequest {
        let request_json = self.request.to_json();
        if self.mode.is_dc_api() {
            return match &self.request_object {
                Some(jwt) => VerifierRequest {
                    protocol: PROTOCOL_SIGNED.into(),
                    data_json: json!({ "request": jwt }).to_string(),
                    authorization_url: None,
                    request_object: Some(jwt.clone()),
                },
                None => VerifierRequest {
                    protocol: PROTOCOL_UNSIGNED.into(),
                    data_json: request_json.to_string(),
                    authorization_url: None,
                    request_object: None,
                },
            };
        }
        VerifierRequest {
            protocol: PROTOCOL_URL.into(),
            data_json: request_json.to_string(),
            authorization_url: Some(request_url(
                "openid4vp://",
                &self.request,
                self.request_object.as_deref(),
            )),
            request_object: self.request_object.clone(),
        }
    }

    /// The `openid4vp://` URL naming `request_uri` where the app serves the request object.
    pub(crate) fn by_reference(&self, request_uri: &str) -> Result<String> {
        match (&self.request_object, &self.request.client_id) {
            (Some(_), Some(client_id)) if !self.mode.is_dc_api() => Ok(request_uri_url(
                "openid4vp://",
                client_id,
                request_uri,
                RequestUriMethod::Get,
            )),
            _ => Err(VerifierError::invalid_argument(
                "only a signed request by URL can be passed by reference",
            )),
        }
    }

    pub(crate) fn nonce(&self) -> &str {
        &self.request.nonce
    }

    pub(crate) fn state(&self) -> Option<&str> {
        self.request.state.as_deref()
    }

    pub(crate) fn query(&self) -> &DcqlQuery {
        &self.query
    }

    /// Reads the response body for this request's mode: decrypts it, checks `state`, and
    /// returns its presentations with this request's transcript.
    pub(crate) fn open(&self, response: &str) -> Result<Opened> {
        let body = response.as_bytes();
        let kind = body_kind(body, self.mode.is_dc_api())?;
        let params = match (kind, &self.key) {
            (BodyKind::Error(e), _) => {
                return Err(refused(
                    ResponseRefusal::WalletError,
                    format!(
                        "{}{}",
                        e.error,
                        e.description.map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                ))
            }
            (BodyKind::Plain, None) => match self.mode {
                ResponseMode::DcApi => ResponseParams {
                    vp_token: parse_dc_api_response(body)?,
                    state: None,
                },
                _ => parse_direct_post_body(body)?,
            },
            (BodyKind::Encrypted, Some(key)) => {
                let jwe = match self.mode {
                    ResponseMode::DcApiJwt => parse_dc_api_jwt_response(body)?,
                    _ => parse_direct_post_jwt_body(body)?,
                };
                self.decrypt(&jwe, key)?
            }
            (BodyKind::Plain, Some(_)) => {
                return Err(refused(
                    ResponseRefusal::WrongEncryption,
                    "the request asked for an encrypted response",
                ))
            }
            (BodyKind::Encrypted, None) => {
                return Err(refused(
                    ResponseRefusal::WrongEncryption,
                    "the request asked for a response in the clear",
                ))
            }
        };
        if params.state != self.request.state {
            return Err(refused(
                ResponseRefusal::StateMismatch,
                "the response's state is not this request's",
            ));
        }
        Ok(Opened {
            presentations: params
                .vp_token
                .iter()
                .flat_map(|(id, list)| list.iter().map(move |p| (id.to_owned(), p.clone())))
                .collect(),
            transcript: self.transcript.clone(),
        })
    }

    fn decrypt(&self, jwe: &str, key: &ResponseKey) -> Result<ResponseParams> {
        decrypt_response(jwe, &key.key, &key.kid, &[key.enc]).map_err(|e| match e {
            ResponseError::Jwe(JweError::DecryptionFailed) | ResponseError::Kid => refused(
                ResponseRefusal::NotForThisKey,
                "the response is not encrypted to this request's key",
            ),
            ResponseError::Jwe(JweError::EncNotAccepted(enc)) => refused(
                ResponseRefusal::WrongEncryption,
                format!("enc {} was not offered", enc.name()),
            ),
            other => other.into(),
        })
    }
}

impl ResponseEncryption {
    pub(crate) fn to_jwe(self) -> ContentEncryption {
        match self {
            ResponseEncryption::A128Gcm => ContentEncryption::A128Gcm,
            ResponseEncryption::A256Gcm => ContentEncryption::A256Gcm,
        }
    }
}

impl super::config::ResponseMode {
    pub(crate) fn to_model(self) -> ResponseMode {
        use super::config::ResponseMode as M;
        match self {
            M::DirectPost => ResponseMode::DirectPost,
            M::DirectPostJwt => ResponseMode::DirectPostJwt,
            M::DcApi => ResponseMode::DcApi,
            M::DcApiJwt => ResponseMode::DcApiJwt,
        }
    }
}
