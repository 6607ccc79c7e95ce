//! The wallet's end of ISO 18013-7 Annex C (`org-iso-mdoc` over the Digital Credentials API):
//! the DeviceRequest and EncryptionInfo from the request's `data`, the SessionTranscript
//! bound to the caller's origin, and the DeviceResponse sealed to the verifier's HPKE key
//! (`mso::model::annex_c`).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::cbor::{from_slice, Limits};
use mso::model::{seal_response, DeviceRequest, EncryptionInfo, SessionTranscript};
use serde::Deserialize;
use time::OffsetDateTime;

use super::offered::Offered;
use super::types::{OnlineConsentRequest, RequestedCredential, VerifierIdentity};
use crate::consent::{reader_identity, ReaderAuthStatus, RequestedElement};
use crate::disclose::available;
use crate::error::{Result, WalletError};
use crate::json;
use crate::proximity::MAX_DOC_REQUESTS;
use crate::wallet::Wallet;

/// The Digital Credentials API protocol identifier of Annex C.
pub(crate) const PROTOCOL: &str = "org-iso-mdoc";

/// Largest Annex C request `data` read.
pub(crate) const MAX_REQUEST_LEN: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestData {
    device_request: String,
    encryption_info: String,
}

/// An Annex C request read and matched against the wallet's credentials.
pub(crate) struct AnnexC {
    pub(crate) origin: String,
    encryption_info: Vec<u8>,
    pub(crate) transcript: SessionTranscript,
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.as_bytes())
        .map_err(|_| WalletError::Malformed {
            reason: format!("{what} is not base64url"),
        })
}

impl AnnexC {
    /// Reads the request and builds the consent request; the offered elements per query id.
    pub(crate) fn read(
        wallet: &Wallet,
        data_json: &str,
        origin: &str,
        at: i64,
    ) -> Result<(Self, OnlineConsentRequest, BTreeMap<String, Offered>)> {
        if data_json.len() > MAX_REQUEST_LEN {
            return Err(WalletError::SizeLimit {
                reason: format!("Annex C request of {} bytes", data_json.len()),
            });
        }
        let data: RequestData = json::parse(data_json.as_bytes(), "Annex C request")?;
        let encryption_info = b64(&data.encryption_info, "encryptionInfo")?;
        let info = EncryptionInfo::from_bytes(&encryption_info, &Limits::DEFAULT)?;
        let transcript = info.session_transcript(origin);
        let request: DeviceRequest = from_slice(
            &b64(&data.device_request, "deviceRequest")?,
            &Limits::DEFAULT,
        )?;
        if request.doc_requests.is_empty() || request.doc_requests.len() > MAX_DOC_REQUESTS {
            return Err(WalletError::Malformed {
                reason: format!(
                    "{} document requests; 1 to {MAX_DOC_REQUESTS}",
                    request.doc_requests.len()
                ),
            });
        }
        let anchors = wallet.reader_trust()?;
        let when = OffsetDateTime::from_unix_timestamp(at)
            .map_err(|_| WalletError::invalid_argument(format!("time {at} is out of range")))?;
        let mut verifier = VerifierIdentity {
            client_id: None,
            origin: Some(origin.to_owned()),
            auth: ReaderAuthStatus::Absent,
            subject: None,
            certificate: None,
        };
        let mut credentials = Vec::with_capacity(request.doc_requests.len());
        let mut offered = BTreeMap::new();
        for doc_request in &request.doc_requests {
            let items = doc_request.items_request.value();
            if offered.contains_key(&items.doc_type) {
                return Err(WalletError::Malformed {
                    reason: format!("{:?} requested twice", items.doc_type),
                });
            }
            // Reader authentication is per document request; the first that carries one
            // names the verifier.
            let reader = reader_identity(doc_request, &transcript, &anchors, when);
            if verifier.auth == ReaderAuthStatus::Absent {
                verifier.auth = reader.auth;
                verifier.subject = reader.subject;
                verifier.certificate = reader.certificate;
            }
            let answering = wallet.answering(&items.doc_type, at)?;
            let held = match &answering {
                Some((record, index)) => available(record, *index)?,
                None => BTreeMap::new(),
            };
            let mut elements = Vec::new();
            for (namespace, ids) in &items.name_spaces {
                for (identifier, retain) in ids {
                    elements.push(RequestedElement {
                        namespace: namespace.clone(),
                        identifier: identifier.clone(),
                        intent_to_retain: *retain,
                        available: held.get(namespace).is_some_and(|h| h.contains(identifier)),
                    });
                }
            }
            let credential_id = answering.map(|(record, _)| record.id);
            offered.insert(
                items.doc_type.clone(),
                Offered {
                    doc_type: items.doc_type.clone(),
                    credential_id: credential_id.clone(),
                    elements: elements
                        .iter()
                        .filter(|e| e.available)
                        .map(|e| (e.namespace.clone(), e.identifier.clone()))
                        .collect(),
                },
            );
            credentials.push(RequestedCredential {
                query_id: items.doc_type.clone(),
                doc_type: items.doc_type.clone(),
                unsatisfiable: credential_id
                    .is_none()
                    .then(|| format!("no usable credential of doc type {:?}", items.doc_type)),
                credential_id,
                elements,
                required: true,
            });
        }
        let satisfiable = credentials.iter().all(|c| c.credential_id.is_some());
        Ok((
            AnnexC {
                origin: origin.to_owned(),
                encryption_info,
                transcript,
            },
            OnlineConsentRequest {
                verifier,
                credentials,
                satisfiable,
            },
            offered,
        ))
    }

    /// The response `data`: the DeviceResponse sealed to the request's key.
    pub(crate) fn answer(&self, device_response: &[u8]) -> Result<String> {
        let (sealed, _) = seal_response(
            &self.encryption_info,
            &self.origin,
            device_response,
            &Limits::DEFAULT,
        )?;
        Ok(serde_json::json!({ "response": URL_SAFE_NO_PAD.encode(sealed) }).to_string())
    }
}
