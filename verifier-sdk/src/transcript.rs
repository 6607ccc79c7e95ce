//! SessionTranscripts from typed inputs, by protocol name (never guessed), and device
//! engagements.
//!
//! Every byte input is used as received (DeviceEngagement, EReaderKeyBytes, handover
//! messages), never re-serialised; `mso::model::SessionTranscript` assembles and hashes.

use mso::cbor::{node, Limits, Tag24};
use mso::cose::CoseKey;
use mso::model::{DeviceEngagement, Handover, SessionTranscript};

use crate::error::{Result, VerifierError};

/// The handover of a proximity (ISO 18013-5) engagement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ProximityHandover {
    /// QR engagement: `null`.
    Qr,
    /// NFC engagement: the NDEF Handover Select (and, for negotiated handover, Request)
    /// message bytes.
    Nfc {
        /// Handover Select message.
        handover_select: Vec<u8>,
        /// Handover Request message (negotiated handover only).
        handover_request: Option<Vec<u8>>,
    },
}

impl ProximityHandover {
    pub(crate) fn to_mso(&self) -> Handover {
        match self {
            ProximityHandover::Qr => Handover::Qr,
            ProximityHandover::Nfc {
                handover_select,
                handover_request,
            } => Handover::Nfc {
                select: handover_select.clone(),
                request: handover_request.clone(),
            },
        }
    }
}

/// How the SessionTranscript of a presentation is obtained.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SessionTranscriptInput {
    /// SessionTranscriptBytes (`#6.24`-wrapped) or the bare SessionTranscript array, exactly
    /// as both sides hold it.
    Encoded {
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// ISO 18013-5 proximity: `[DeviceEngagementBytes, EReaderKeyBytes, Handover]`.
    Proximity {
        /// The DeviceEngagement as received (the CBOR map, e.g. decoded from the QR code).
        device_engagement: Vec<u8>,
        /// EReaderKeyBytes as sent in the SessionEstablishment (`#6.24(bstr .cbor COSE_Key)`).
        e_reader_key_bytes: Vec<u8>,
        /// The engagement's handover.
        handover: ProximityHandover,
    },
    /// OpenID4VP 1.0 (redirect / direct_post): `OpenID4VPHandover`.
    OpenId4Vp {
        /// The verifier's client_id.
        client_id: String,
        /// The request nonce.
        nonce: String,
        /// JWK thumbprint of the response encryption key, if the response is encrypted.
        jwk_thumbprint: Option<Vec<u8>>,
        /// The response_uri (or redirect_uri).
        response_uri: String,
    },
    /// OpenID4VP over the W3C Digital Credentials API: `OpenID4VPDCAPIHandover`.
    OpenId4VpDcApi {
        /// The web origin (without an `origin:` prefix).
        origin: String,
        /// The request nonce.
        nonce: String,
        /// JWK thumbprint of the response encryption key, if any.
        jwk_thumbprint: Option<Vec<u8>>,
    },
    /// ISO 18013-7 Annex C (`org-iso-mdoc` over the DC API): `dcapi` handover.
    Iso18013Part7AnnexC {
        /// base64url of the EncryptionInfo bytes, as sent in the request.
        encryption_info_base64url: String,
        /// The web origin.
        origin: String,
    },
    /// Legacy ISO 18013-7 Annex B (OpenID4VP draft with mdocGeneratedNonce).
    Iso18013Part7AnnexB {
        /// The verifier's client_id.
        client_id: String,
        /// The response_uri.
        response_uri: String,
        /// The verifier's nonce.
        nonce: String,
        /// The wallet-generated nonce.
        mdoc_generated_nonce: String,
    },
}

/// Reads untrusted DeviceEngagement bytes (the CBOR map, not `#6.24`-wrapped).
pub(crate) fn engagement(bytes: &[u8]) -> Result<DeviceEngagement> {
    Ok(DeviceEngagement::from_bytes(bytes, &Limits::DEFAULT)?)
}

impl SessionTranscriptInput {
    /// The transcript, with every byte input checked for its shape.
    pub(crate) fn to_transcript(&self) -> Result<SessionTranscript> {
        let online = |h: Handover| Ok(SessionTranscript::online(&h));
        match self {
            SessionTranscriptInput::Encoded { bytes } => {
                Ok(SessionTranscript::from_bytes(bytes, &Limits::DEFAULT)?)
            }
            SessionTranscriptInput::Proximity {
                device_engagement,
                e_reader_key_bytes,
                handover,
            } => {
                let engagement = engagement(device_engagement)?;
                // Checked as a COSE_Key, used as received.
                Tag24::<CoseKey>::from_tagged_slice(e_reader_key_bytes, &Limits::DEFAULT)?;
                Ok(SessionTranscript::proximity(
                    &engagement.tagged_bytes(),
                    e_reader_key_bytes,
                    &handover.to_mso().to_bytes(),
                ))
            }
            SessionTranscriptInput::OpenId4Vp {
                client_id,
                nonce,
                jwk_thumbprint,
                response_uri,
            } => online(Handover::OpenId4Vp {
                client_id: client_id.clone(),
                nonce: nonce.clone(),
                jwk_thumbprint: jwk_thumbprint.clone(),
                response_uri: response_uri.clone(),
            }),
            SessionTranscriptInput::OpenId4VpDcApi {
                origin,
                nonce,
                jwk_thumbprint,
            } => online(Handover::OpenId4VpDcApi {
                origin: origin.clone(),
                nonce: nonce.clone(),
                jwk_thumbprint: jwk_thumbprint.clone(),
            }),
            SessionTranscriptInput::Iso18013Part7AnnexC {
                encryption_info_base64url,
                origin,
            } => online(Handover::Iso18013_7AnnexC {
                encryption_info_b64: encryption_info_base64url.clone(),
                origin: origin.clone(),
            }),
            SessionTranscriptInput::Iso18013Part7AnnexB {
                client_id,
                response_uri,
                nonce,
                mdoc_generated_nonce,
            } => online(Handover::Iso18013_7AnnexB {
                client_id: client_id.clone(),
                response_uri: response_uri.clone(),
                nonce: nonce.clone(),
                mdoc_generated_nonce: mdoc_generated_nonce.clone(),
            }),
        }
    }
}

/// SessionTranscriptBytes (`#6.24(bstr .cbor SessionTranscript)`) for `input`: what both
/// sides hash for session keys and sign or MAC in DeviceAuthentication.
#[uniffi::export]
pub fn session_transcript_bytes(input: SessionTranscriptInput) -> Result<Vec<u8>> {
    Ok(input.to_transcript()?.tagged_bytes())
}

/// The parts of a received SessionTranscript.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionTranscriptParts {
    /// The DeviceEngagement (the CBOR map inside DeviceEngagementBytes); `None` online.
    pub device_engagement: Option<Vec<u8>>,
    /// EReaderKeyBytes (`#6.24`-wrapped); `None` online.
    pub e_reader_key_bytes: Option<Vec<u8>>,
    /// The handover when it is a proximity one (QR `null` or NFC `[select, request]`);
    /// `None` for the online handovers.
    pub proximity_handover: Option<ProximityHandover>,
    /// The Handover's encoding, as received.
    pub handover: Vec<u8>,
}

fn unwrap_tag24(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let n = node::parse(bytes, &Limits::DEFAULT)?;
    if n.is_null() {
        return Ok(None);
    }
    let inner = n
        .tagged(24, "SessionTranscript")?
        .bytes(bytes, "SessionTranscript")?;
    Ok(Some(inner.to_vec()))
}

fn proximity_handover(bytes: &[u8]) -> Result<Option<ProximityHandover>> {
    const CTX: &str = "Handover";
    let n = node::parse(bytes, &Limits::DEFAULT)?;
    if n.is_null() {
        return Ok(Some(ProximityHandover::Qr));
    }
    let Ok(items) = n.array(CTX) else {
        return Ok(None);
    };
    // NFC is [bstr, bstr / null]; the online handovers start with a text name or a digest
    // followed by another digest and a text nonce (Annex B has three elements).
    match items {
        [select, request] if select.bytes(bytes, CTX).is_ok() => Ok(Some(ProximityHandover::Nfc {
            handover_select: select.bytes(bytes, CTX)?.to_vec(),
            handover_request: if request.is_null() {
                None
            } else {
                Some(request.bytes(bytes, CTX)?.to_vec())
            },
        })),
        _ => Ok(None),
    }
}

/// Splits SessionTranscriptBytes (or the bare array) into its parts, as received: e.g. to
/// rebuild a reader session from a recorded proximity transcript.
#[uniffi::export]
pub fn decode_session_transcript(bytes: Vec<u8>) -> Result<SessionTranscriptParts> {
    let transcript = SessionTranscript::from_bytes(&bytes, &Limits::DEFAULT)?;
    let [de, ek, handover] = transcript.parts()?;
    Ok(SessionTranscriptParts {
        device_engagement: unwrap_tag24(&de)?,
        e_reader_key_bytes: if node::parse(&ek, &Limits::DEFAULT)?.is_null() {
            None
        } else {
            Some(ek)
        },
        proximity_handover: proximity_handover(&handover)?,
        handover,
    })
}

/// A parsed DeviceEngagement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceEngagementInfo {
    /// "1.0" or "1.1".
    pub version: String,
    /// The cipher suite (1 in ISO 18013-5).
    pub cipher_suite: i64,
    /// The DeviceEngagement bytes exactly as received (the CBOR map).
    pub device_engagement: Vec<u8>,
    /// EDeviceKeyBytes (`#6.24(bstr .cbor COSE_Key)`).
    pub e_device_key_bytes: Vec<u8>,
    /// True when it lists device retrieval methods (BLE, NFC, Wi-Fi Aware).
    pub has_device_retrieval_methods: bool,
}

impl From<&DeviceEngagement> for DeviceEngagementInfo {
    fn from(e: &DeviceEngagement) -> Self {
        DeviceEngagementInfo {
            version: e.version.clone(),
            cipher_suite: e.cipher_suite,
            device_engagement: e.raw().to_vec(),
            e_device_key_bytes: e.e_device_key.tagged_bytes().to_vec(),
            has_device_retrieval_methods: e.device_retrieval_methods.is_some(),
        }
    }
}

/// Parses DeviceEngagement bytes (the CBOR map), keeping them.
#[uniffi::export]
pub fn parse_device_engagement(bytes: Vec<u8>) -> Result<DeviceEngagementInfo> {
    Ok(DeviceEngagementInfo::from(&engagement(&bytes)?))
}

/// Parses a QR code's `mdoc:<base64url(DeviceEngagement)>` URI, keeping the decoded bytes.
#[uniffi::export]
pub fn parse_device_engagement_qr(uri: String) -> Result<DeviceEngagementInfo> {
    if uri.len() > Limits::DEFAULT.max_size {
        return Err(VerifierError::SizeLimit {
            reason: format!("QR URI of {} bytes", uri.len()),
        });
    }
    let e = DeviceEngagement::from_qr_uri(&uri, &Limits::DEFAULT)?;
    Ok(DeviceEngagementInfo::from(&e))
}
