//! The relying party's end of ISO 18013-7 Annex C (`org-iso-mdoc` over the Digital
//! Credentials API): a DeviceRequest and an EncryptionInfo with a fresh HPKE recipient key,
//! and the opening of the wallet's EncryptedResponse (`mso::model::annex_c`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mdoc_oid4vp::dcql::DcqlQuery;
use mso::cbor::Limits;
use mso::crypto::ecdh::AgreementKey;
use mso::model::{open_response, EncryptionInfo, SessionTranscript};
use rand_core::{OsRng, RngCore as _};
use serde::Deserialize;

use super::config::AnnexCRequestConfig;
use super::origin::check_origin;
use super::query::annex_c_dcql;
use super::report::ResponseRefusal;
use crate::error::{Result, VerifierError};
use crate::request::device_request;

/// The Digital Credentials API protocol identifier of Annex C.
pub const ANNEX_C_PROTOCOL: &str = "org-iso-mdoc";

/// Largest Annex C response (`{"response": base64url(EncryptedResponse)}`) read.
pub const MAX_ANNEX_C_RESPONSE_LEN: usize = 4 * 1024 * 1024;

/// An Annex C request awaiting its response.
pub(crate) struct AnnexCRequest {
    origin: String,
    key: AgreementKey,
    encryption_info: EncryptionInfo,
    device_request: Vec<u8>,
    pub(crate) query: DcqlQuery,
    pub(crate) doc_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseData {
    response: String,
}

impl AnnexCRequest {
    pub(crate) fn new(config: &AnnexCRequestConfig) -> Result<Self> {
        check_origin(&config.origin)?;
        let query = annex_c_dcql(&config.documents)?;
        let key = AgreementKey::P256(p256::SecretKey::random(&mut OsRng));
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        let encryption_info = EncryptionInfo::new(&nonce, &key.public_key())?;
        let transcript = encryption_info.session_transcript(&config.origin);
        let device_request = device_request(
            &config.documents,
            config.reader_auth.as_ref().map(|auth| (auth, &transcript)),
        )?;
        Ok(AnnexCRequest {
            origin: config.origin.clone(),
            key,
            encryption_info,
            device_request,
            query,
            doc_types: config
                .documents
                .iter()
                .map(|d| d.doc_type.clone())
                .collect(),
        })
    }

    /// The request's `data` for the Digital Credentials API.
    pub(crate) fn data_json(&self) -> String {
        serde_json::json!({
            "deviceRequest": URL_SAFE_NO_PAD.encode(&self.device_request),
            "encryptionInfo": self.encryption_info.to_base64url(),
        })
        .to_string()
    }

    /// The EncryptionInfo nonce, base64url.
    pub(crate) fn nonce(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.encryption_info.nonce())
    }

    /// Opens the wallet's response `data` (`{"response": …}`): the DeviceResponse bytes and
    /// the transcript its device authentication must cover.
    pub(crate) fn open(&self, response: &str) -> Result<(Vec<u8>, SessionTranscript)> {
        if response.len() > MAX_ANNEX_C_RESPONSE_LEN {
            return Err(VerifierError::SizeLimit {
                reason: format!(
                    "Annex C response of {} bytes, at most {MAX_ANNEX_C_RESPONSE_LEN}",
                    response.len()
                ),
            });
        }
        let data: ResponseData =
            serde_json::from_str(response).map_err(|e| VerifierError::Malformed {
                reason: format!("Annex C response data: {e}"),
            })?;
        let encrypted = URL_SAFE_NO_PAD
            .decode(data.response.as_bytes())
            .map_err(|_| VerifierError::Malformed {
                reason: "Annex C response is not base64url".into(),
            })?;
        open_response(
            &self.key,
            self.encryption_info.as_bytes(),
            &self.origin,
            &encrypted,
            &Limits::DEFAULT,
        )
        .map_err(|e| match e {
            mso::Error::HpkeDecryption => VerifierError::ResponseRefused {
                refusal: ResponseRefusal::NotForThisKey,
                reason: "the response does not open with this request's key, EncryptionInfo \
                         and origin"
                    .into(),
            },
            other => other.into(),
        })
    }
}
