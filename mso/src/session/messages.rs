//! The two session messages of ISO 18013-5 §9.1.1.4 and their status codes.

use coset::CoseKey;

use crate::cbor::{
    encode_value, node, text_map, write_head, write_text, FromCbor, Limits, Node, Tag24, Value,
};
use crate::crypto::PublicKey;
use crate::error::{Error, Result};

/// The `status` of a SessionData message (ISO 18013-5 §9.1.1.4, table 20).
///
/// Unknown codes decode as [`SessionStatus::Unknown`] rather than failing: every status ends the
/// session, so a reader that meets a code from a later edition can still end it cleanly instead
/// of reporting a decoding error for a message it understood well enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// 10: "Error: session encryption" (a message did not decrypt).
    EncryptionError,
    /// 11: "Error: CBOR decoding" (a decrypted message was not the expected CBOR).
    CborDecodingError,
    /// 20: "Session termination".
    Termination,
    /// Any other code, kept as received.
    Unknown(u64),
}

impl SessionStatus {
    /// The status for a code.
    pub fn from_code(code: u64) -> Self {
        match code {
            10 => SessionStatus::EncryptionError,
            11 => SessionStatus::CborDecodingError,
            20 => SessionStatus::Termination,
            other => SessionStatus::Unknown(other),
        }
    }

    /// The code on the wire.
    pub fn code(self) -> u64 {
        match self {
            SessionStatus::EncryptionError => 10,
            SessionStatus::CborDecodingError => 11,
            SessionStatus::Termination => 20,
            SessionStatus::Unknown(code) => code,
        }
    }

    /// The status to answer a failed incoming message with: 11 when the bytes were not the
    /// expected CBOR structure, 10 for everything else (a message that did not decrypt, a
    /// bad key, an exhausted counter).
    pub fn for_error(error: &Error) -> Self {
        match error {
            Error::Truncated { .. }
            | Error::TrailingBytes { .. }
            | Error::TooLarge { .. }
            | Error::TooDeep { .. }
            | Error::TooManyItems { .. }
            | Error::IndefiniteLength { .. }
            | Error::Malformed { .. }
            | Error::InvalidUtf8 { .. }
            | Error::DuplicateKey { .. }
            | Error::UnsupportedSimple { .. }
            | Error::MissingField { .. }
            | Error::UnknownField { .. }
            | Error::WrongType { .. }
            | Error::WrongTag { .. }
            | Error::InvalidValue { .. }
            | Error::InvalidDate { .. } => SessionStatus::CborDecodingError,
            _ => SessionStatus::EncryptionError,
        }
    }
}

/// `SessionEstablishment = { "eReaderKey": EReaderKeyBytes, "data": bstr }`: the reader's first
/// message, carrying its ephemeral key and the encrypted DeviceRequest.
///
/// EReaderKeyBytes (`#6.24(bstr .cbor COSE_Key)`) are kept exactly as received, because the
/// SessionTranscript the session keys come from contains them byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEstablishment {
    e_reader_key: Tag24<CoseKey>,
    e_reader_public: PublicKey,
    data: Vec<u8>,
}

impl SessionEstablishment {
    /// A message carrying `e_reader_key` (encoded deterministically) and the ciphertext `data`.
    pub fn new(e_reader_key: &PublicKey, data: Vec<u8>) -> Self {
        SessionEstablishment {
            e_reader_key: Tag24::new(e_reader_key.to_cose_key()),
            e_reader_public: e_reader_key.clone(),
            data,
        }
    }

    /// A message from EReaderKeyBytes already encoded by the caller and their key.
    pub(super) fn from_parts(
        e_reader_key: Tag24<CoseKey>,
        e_reader_public: PublicKey,
        data: Vec<u8>,
    ) -> Self {
        SessionEstablishment {
            e_reader_key,
            e_reader_public,
            data,
        }
    }

    /// Decodes untrusted bytes under `limits`, validating the key (on its curve, not the
    /// identity) and keeping the EReaderKeyBytes as received.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        Self::from_node(&n, bytes, limits)
    }

    /// EReaderKeyBytes: the full `#6.24(bstr .cbor COSE_Key)` encoding, as received.
    pub fn e_reader_key_bytes(&self) -> &[u8] {
        self.e_reader_key.tagged_bytes()
    }

    /// The reader's ephemeral public key.
    pub fn e_reader_key(&self) -> &PublicKey {
        &self.e_reader_public
    }

    /// The encrypted DeviceRequest (ciphertext followed by the 16-byte GCM tag).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The encoding: RFC 8949 §4.2.1 deterministic key order (`"data"` before
    /// `"eReaderKey"`), with EReaderKeyBytes copied as held rather than re-encoded.
    pub fn to_bytes(&self) -> Vec<u8> {
        let key = self.e_reader_key.tagged_bytes();
        let mut out = Vec::with_capacity(self.data.len() + key.len() + 32);
        write_head(&mut out, 5, 2);
        write_text(&mut out, "data");
        write_head(&mut out, 2, self.data.len() as u64);
        out.extend_from_slice(&self.data);
        write_text(&mut out, "eReaderKey");
        out.extend_from_slice(key);
        out
    }
}

impl FromCbor for SessionEstablishment {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "SessionEstablishment";
        // Unknown keys are tolerated: the outer map is not authenticated, so refusing extra
        // keys would add no protection and only break later editions.
        let m = n.map(src, CTX)?;
        let e_reader_key: Tag24<CoseKey> =
            Tag24::from_node(m.required("eReaderKey")?, src, limits)?;
        let e_reader_public = PublicKey::from_cose_key(e_reader_key.value())?;
        let data = m.required("data")?.bytes(src, CTX)?.to_vec();
        Ok(SessionEstablishment {
            e_reader_key,
            e_reader_public,
            data,
        })
    }
}

/// `SessionData = { ? "data": bstr, ? "status": uint }`: every message after the
/// SessionEstablishment, in either direction.
///
/// At least one of the two is present; a status (any code) ends the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    /// The encrypted payload (ciphertext followed by the 16-byte GCM tag).
    pub data: Option<Vec<u8>>,
    /// The status, if the message carries one.
    pub status: Option<SessionStatus>,
}

impl SessionData {
    /// `{"status": status}` with no payload: an error report or a plain termination.
    pub fn with_status(status: SessionStatus) -> Self {
        SessionData {
            data: None,
            status: Some(status),
        }
    }

    /// `{"status": 20}`: session termination.
    pub fn termination() -> Self {
        Self::with_status(SessionStatus::Termination)
    }

    /// Decodes untrusted bytes under `limits`.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        Self::from_node(&n, bytes, limits)
    }

    /// The deterministic encoding (`"data"` before `"status"`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries = Vec::with_capacity(2);
        if let Some(data) = &self.data {
            entries.push(("data", Value::Bytes(data.clone())));
        }
        if let Some(status) = self.status {
            entries.push(("status", Value::Integer(status.code().into())));
        }
        encode_value(&text_map(entries))
    }
}

impl FromCbor for SessionData {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        const CTX: &str = "SessionData";
        // Unknown keys are tolerated, as for SessionEstablishment.
        let m = n.map(src, CTX)?;
        let data = m
            .get("data")
            .map(|d| d.bytes(src, CTX).map(<[u8]>::to_vec))
            .transpose()?;
        let status = m
            .get("status")
            .map(|s| s.uint(CTX).map(SessionStatus::from_code))
            .transpose()?;
        if data.is_none() && status.is_none() {
            // An empty message carries nothing to act on; it is a broken peer, not a no-op.
            return Err(Error::MissingField {
                context: CTX,
                field: "data or status",
            });
        }
        Ok(SessionData { data, status })
    }
}
