//! SessionTranscript, its handovers, and the DeviceAuthentication / ReaderAuthentication bytes.
//!
//! Every input is taken as the bytes received (DeviceEngagementBytes, EReaderKeyBytes,
//! Handover), never re-serialised from parsed values.

use sha2::{Digest, Sha256};

use crate::cbor::{encode_value, node, wrap_tag24, write_head, Kind, Limits, Value};
use crate::error::{Error, Result};

/// The third element of the SessionTranscript, by name (18013-5, 18013-7, OpenID4VP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// QR engagement: `null`.
    Qr,
    /// NFC engagement: `[HandoverSelect, HandoverRequest / null]` (NDEF message bytes).
    Nfc {
        /// Handover Select message.
        select: Vec<u8>,
        /// Handover Request message (negotiated handover only).
        request: Option<Vec<u8>>,
    },
    /// OpenID4VP 1.0 redirect flow: `["OpenID4VPHandover", SHA-256(cbor([client_id, nonce,
    /// jwk_thumbprint / null, response_uri]))]`.
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
    /// OpenID4VP over the Digital Credentials API: `["OpenID4VPDCAPIHandover",
    /// SHA-256(cbor([origin, nonce, jwk_thumbprint / null]))]`.
    OpenId4VpDcApi {
        /// The web origin (without the `origin:` prefix).
        origin: String,
        /// The request nonce.
        nonce: String,
        /// JWK thumbprint of the response encryption key, if any.
        jwk_thumbprint: Option<Vec<u8>>,
    },
    /// ISO 18013-7 Annex C (`org-iso-mdoc` over the DC API): `["dcapi",
    /// SHA-256(cbor([base64url(encryptionInfo), origin]))]`.
    Iso18013_7AnnexC {
        /// base64url of the EncryptionInfo bytes.
        encryption_info_b64: String,
        /// The web origin.
        origin: String,
    },
    /// Legacy ISO 18013-7 Annex B: `[SHA-256(cbor([client_id, mdocGeneratedNonce])),
    /// SHA-256(cbor([response_uri, mdocGeneratedNonce])), nonce]`.
    Iso18013_7AnnexB {
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

fn sha256_of(value: Value) -> Value {
    Value::Bytes(Sha256::digest(encode_value(&value)).to_vec())
}

fn opt_bytes(b: &Option<Vec<u8>>) -> Value {
    b.as_ref().map_or(Value::Null, |b| Value::Bytes(b.clone()))
}

impl Handover {
    /// The Handover's CBOR encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let t = |s: &str| Value::Text(s.to_owned());
        let value = match self {
            Handover::Qr => Value::Null,
            Handover::Nfc { select, request } => {
                Value::Array(vec![Value::Bytes(select.clone()), opt_bytes(request)])
            }
            Handover::OpenId4Vp {
                client_id,
                nonce,
                jwk_thumbprint,
                response_uri,
            } => Value::Array(vec![
                t("OpenID4VPHandover"),
                sha256_of(Value::Array(vec![
                    t(client_id),
                    t(nonce),
                    opt_bytes(jwk_thumbprint),
                    t(response_uri),
                ])),
            ]),
            Handover::OpenId4VpDcApi {
                origin,
                nonce,
                jwk_thumbprint,
            } => Value::Array(vec![
                t("OpenID4VPDCAPIHandover"),
                sha256_of(Value::Array(vec![
                    t(origin),
                    t(nonce),
                    opt_bytes(jwk_thumbprint),
                ])),
            ]),
            Handover::Iso18013_7AnnexC {
                encryption_info_b64,
                origin,
            } => Value::Array(vec![
                t("dcapi"),
                sha256_of(Value::Array(vec![t(encryption_info_b64), t(origin)])),
            ]),
            Handover::Iso18013_7AnnexB {
                client_id,
                response_uri,
                nonce,
                mdoc_generated_nonce,
            } => Value::Array(vec![
                sha256_of(Value::Array(vec![t(client_id), t(mdoc_generated_nonce)])),
                sha256_of(Value::Array(vec![t(response_uri), t(mdoc_generated_nonce)])),
                t(nonce),
            ]),
        };
        encode_value(&value)
    }
}

/// `SessionTranscript = [DeviceEngagementBytes / null, EReaderKeyBytes / null, Handover]`,
/// held as the exact bytes of the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTranscript {
    bytes: Vec<u8>,
}

impl SessionTranscript {
    /// Assembles a proximity transcript from the received `#6.24`-wrapped DeviceEngagementBytes
    /// and EReaderKeyBytes and the handover's encoding, byte for byte.
    pub fn proximity(
        device_engagement_bytes: &[u8],
        e_reader_key_bytes: &[u8],
        handover: &[u8],
    ) -> Self {
        let mut bytes = Vec::with_capacity(
            1 + device_engagement_bytes.len() + e_reader_key_bytes.len() + handover.len(),
        );
        write_head(&mut bytes, 4, 3);
        bytes.extend_from_slice(device_engagement_bytes);
        bytes.extend_from_slice(e_reader_key_bytes);
        bytes.extend_from_slice(handover);
        SessionTranscript { bytes }
    }

    /// An online transcript (OpenID4VP, DC API, 18013-7): `[null, null, Handover]`.
    pub fn online(handover: &Handover) -> Self {
        let mut bytes = vec![0x83, 0xf6, 0xf6];
        bytes.extend_from_slice(&handover.to_bytes());
        SessionTranscript { bytes }
    }

    /// Reads a transcript from SessionTranscriptBytes (`#6.24`-wrapped) or from the bare array,
    /// checking its shape and keeping its bytes.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        if let Kind::Tag(24, inner) = &n.kind {
            // One wrapper only: SessionTranscriptBytes holds the array itself.
            let inner = inner.bytes(bytes, "SessionTranscriptBytes")?;
            let array = node::parse(inner, limits)?;
            return Self::from_array(&array, inner);
        }
        Self::from_array(&n, bytes)
    }

    fn from_array(n: &node::Node, bytes: &[u8]) -> Result<Self> {
        let Kind::Array(array) = &n.kind else {
            return Err(n.wrong("SessionTranscript", "an array or #6.24(bstr .cbor array)"));
        };
        let [de, ek, _handover] = array.as_slice() else {
            return Err(Error::InvalidValue {
                context: "SessionTranscript",
                reason: format!("{} elements, expected 3", array.len()),
            });
        };
        for part in [de, ek] {
            if !part.is_null() {
                part.tagged(24, "SessionTranscript")?;
            }
        }
        Ok(SessionTranscript {
            bytes: bytes.to_vec(),
        })
    }

    /// The components as received: DeviceEngagementBytes, EReaderKeyBytes, Handover.
    pub fn parts(&self) -> Result<[Vec<u8>; 3]> {
        let n = node::parse(&self.bytes, &Limits::DEFAULT)?;
        match n.array("SessionTranscript")? {
            [a, b, c] => Ok([
                a.raw(&self.bytes).to_vec(),
                b.raw(&self.bytes).to_vec(),
                c.raw(&self.bytes).to_vec(),
            ]),
            _ => Err(n.wrong("SessionTranscript", "a 3-element array")),
        }
    }

    /// The array's encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `SessionTranscriptBytes = #6.24(bstr .cbor SessionTranscript)`, the input of every
    /// session key derivation.
    pub fn tagged_bytes(&self) -> Vec<u8> {
        wrap_tag24(&self.bytes)
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    write_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `DeviceAuthenticationBytes = #6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript,
/// DocType, DeviceNameSpacesBytes])`, assembled from the received bytes.
pub fn device_authentication_bytes(
    transcript: &SessionTranscript,
    doc_type: &str,
    device_name_spaces_bytes: &[u8],
) -> Vec<u8> {
    let mut inner =
        Vec::with_capacity(transcript.bytes.len() + device_name_spaces_bytes.len() + 64);
    write_head(&mut inner, 4, 4);
    text(&mut inner, "DeviceAuthentication");
    inner.extend_from_slice(&transcript.bytes);
    text(&mut inner, doc_type);
    inner.extend_from_slice(device_name_spaces_bytes);
    wrap_tag24(&inner)
}

/// `ReaderAuthenticationBytes = #6.24(bstr .cbor ["ReaderAuthentication", SessionTranscript,
/// ItemsRequestBytes])`, assembled from the received bytes.
pub fn reader_authentication_bytes(
    transcript: &SessionTranscript,
    items_request_bytes: &[u8],
) -> Vec<u8> {
    let mut inner = Vec::with_capacity(transcript.bytes.len() + items_request_bytes.len() + 32);
    write_head(&mut inner, 4, 3);
    text(&mut inner, "ReaderAuthentication");
    inner.extend_from_slice(&transcript.bytes);
    inner.extend_from_slice(items_request_bytes);
    wrap_tag24(&inner)
}
