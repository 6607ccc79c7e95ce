//! The proximity reader session (ISO 18013-5 §9.1.1) as a uniffi object.
//!
//! `mso::session::ReaderSession` does the work (ECDH, HKDF, AES-256-GCM, counters, the end of
//! the session on any failure); this object serialises calls to it with a mutex, because a
//! foreign caller may use one session from several threads.

use std::sync::{Arc, Mutex, MutexGuard};

use mso::cbor::Limits;
use mso::model::DeviceEngagement;
use mso::session::{self, SessionData};

use crate::error::{Result, VerifierError};
use crate::keys::AgreementPrivateKey;
use crate::report::VerificationReport;
use crate::request::{device_request, DocumentRequest, ReaderAuthKey};
use crate::transcript::{engagement, DeviceEngagementInfo, ProximityHandover};
use crate::trust::TrustStore;
use crate::verify::{verify_response_bytes, Resolved, VerificationOptions};

/// The `status` of a SessionData message (ISO 18013-5 §9.1.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SessionStatus {
    /// 10: session encryption error.
    EncryptionError,
    /// 11: CBOR decoding error.
    CborDecodingError,
    /// 20: session termination.
    Termination,
    /// Any other code, as received.
    Unknown {
        /// The code.
        code: u64,
    },
}

impl From<session::SessionStatus> for SessionStatus {
    fn from(s: session::SessionStatus) -> Self {
        match s {
            session::SessionStatus::EncryptionError => SessionStatus::EncryptionError,
            session::SessionStatus::CborDecodingError => SessionStatus::CborDecodingError,
            session::SessionStatus::Termination => SessionStatus::Termination,
            session::SessionStatus::Unknown(code) => SessionStatus::Unknown { code },
        }
    }
}

impl From<SessionStatus> for session::SessionStatus {
    fn from(s: SessionStatus) -> Self {
        match s {
            SessionStatus::EncryptionError => session::SessionStatus::EncryptionError,
            SessionStatus::CborDecodingError => session::SessionStatus::CborDecodingError,
            SessionStatus::Termination => session::SessionStatus::Termination,
            SessionStatus::Unknown { code } => session::SessionStatus::from_code(code),
        }
    }
}

/// One decrypted message from the mdoc.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivedMessage {
    /// The decrypted payload (a DeviceResponse), if the message carried one.
    pub data: Option<Vec<u8>>,
    /// The status, if any: the session has ended when one is present.
    pub status: Option<SessionStatus>,
}

/// `{"status": code}`: the SessionData to send for `status` (e.g. 10 after a message that did
/// not decrypt, 20 to end the session).
#[uniffi::export]
pub fn session_status_message(status: SessionStatus) -> Vec<u8> {
    SessionData::with_status(status.into()).to_bytes()
}

/// The reader's end of a proximity session.
#[derive(Debug, uniffi::Object)]
pub struct ReaderSession {
    inner: Mutex<session::ReaderSession>,
    engagement: DeviceEngagementInfo,
}

impl ReaderSession {
    fn lock(&self) -> Result<MutexGuard<'_, session::ReaderSession>> {
        self.inner
            .lock()
            .map_err(|_| VerifierError::internal("reader session lock poisoned"))
    }

    fn start(
        engagement: &DeviceEngagement,
        inner: mso::Result<session::ReaderSession>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(ReaderSession {
            inner: Mutex::new(inner.map_err(VerifierError::from_session)?),
            engagement: DeviceEngagementInfo::from(engagement),
        }))
    }
}

#[uniffi::export]
impl ReaderSession {
    /// Starts a session with the mdoc that showed `device_engagement` (the CBOR map as
    /// received), with a fresh ephemeral reader key from the OS random source.
    #[uniffi::constructor]
    pub fn new(device_engagement: Vec<u8>, handover: ProximityHandover) -> Result<Arc<Self>> {
        let e = engagement(&device_engagement)?;
        Self::start(&e, session::ReaderSession::new(&e, &handover.to_mso()))
    }

    /// Starts a session from a scanned QR code (`mdoc:` URI; QR handover).
    #[uniffi::constructor]
    pub fn from_qr_code(uri: String) -> Result<Arc<Self>> {
        let e = DeviceEngagement::from_qr_uri(&uri, &Limits::DEFAULT)?;
        Self::start(
            &e,
            session::ReaderSession::new(&e, &mso::model::Handover::Qr),
        )
    }

    /// Starts a session with a given ephemeral reader key: only for test vectors, as an
    /// ephemeral key must never be reused.
    #[uniffi::constructor]
    pub fn with_ephemeral_key(
        device_engagement: Vec<u8>,
        handover: ProximityHandover,
        e_reader_key: AgreementPrivateKey,
    ) -> Result<Arc<Self>> {
        let e = engagement(&device_engagement)?;
        let key = e_reader_key.to_mso()?;
        Self::start(
            &e,
            session::ReaderSession::with_ephemeral_key(&e, key, &handover.to_mso()),
        )
    }

    /// The device engagement this session was started from.
    pub fn device_engagement(&self) -> DeviceEngagementInfo {
        self.engagement.clone()
    }

    /// SessionTranscriptBytes of this session.
    pub fn session_transcript_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.lock()?.session_transcript_bytes())
    }

    /// EReaderKeyBytes (`#6.24(bstr .cbor COSE_Key)`) sent in the SessionEstablishment.
    pub fn e_reader_key_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.lock()?.e_reader_key_bytes().to_vec())
    }

    /// Encodes a DeviceRequest for `requests`; with `reader_auth`, each document request is
    /// signed over this session's transcript (ReaderAuth).
    pub fn device_request(
        &self,
        requests: Vec<DocumentRequest>,
        reader_auth: Option<ReaderAuthKey>,
    ) -> Result<Vec<u8>> {
        let session = self.lock()?;
        device_request(
            &requests,
            reader_auth.as_ref().map(|a| (a, session.transcript())),
        )
    }

    /// The first message to send: SessionEstablishment with `device_request` (an encoded
    /// DeviceRequest) encrypted. Fails if called twice.
    pub fn establish(&self, device_request: Vec<u8>) -> Result<Vec<u8>> {
        let mut session = self.lock()?;
        Ok(session
            .establish(&device_request)
            .map_err(VerifierError::from_session)?
            .to_bytes())
    }

    /// A further request in the same session, as SessionData.
    pub fn encrypt(&self, device_request: Vec<u8>) -> Result<Vec<u8>> {
        let mut session = self.lock()?;
        Ok(session
            .encrypt(&device_request)
            .map_err(VerifierError::from_session)?
            .to_bytes())
    }

    /// Decrypts the mdoc's next SessionData. A failure, or a status in the message, ends the
    /// session; answer a failure with [`session_status_message`].
    pub fn decrypt(&self, session_data: Vec<u8>) -> Result<ReceivedMessage> {
        let message = SessionData::from_bytes(&session_data, &Limits::DEFAULT)?;
        let mut session = self.lock()?;
        let received = session
            .decrypt(&message)
            .map_err(VerifierError::from_session)?;
        Ok(ReceivedMessage {
            data: received.data,
            status: received.status.map(SessionStatus::from),
        })
    }

    /// Ends the session: the `{"status": 20}` SessionData to send.
    pub fn terminate(&self) -> Result<Vec<u8>> {
        Ok(self.lock()?.terminate().to_bytes())
    }

    /// True once the session has ended (status sent or received, or a failure).
    pub fn is_terminated(&self) -> Result<bool> {
        Ok(self.lock()?.is_terminated())
    }

    /// Verifies a decrypted DeviceResponse with this session's transcript and ephemeral key
    /// (`options.reader_key` is ignored).
    pub fn verify_response(
        &self,
        device_response: Vec<u8>,
        trust: Arc<TrustStore>,
        options: VerificationOptions,
    ) -> Result<VerificationReport> {
        let resolved = Resolved::new(&options)?;
        let (transcript, key) = {
            let session = self.lock()?;
            (session.transcript().clone(), session.e_reader_key().clone())
        };
        verify_response_bytes(
            &device_response,
            &transcript,
            Some(&key),
            trust.snapshot()?.as_ref(),
            &resolved,
        )
    }
}
