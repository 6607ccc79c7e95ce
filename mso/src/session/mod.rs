//! Proximity session encryption (ISO 18013-5 §9.1.1): the reader's and the mdoc's ends of an
//! engaged session.
//!
//! Both ends derive `SKReader` and `SKDevice` = HKDF-SHA256(ECDH(EDeviceKey, EReaderKey),
//! salt = SHA-256(SessionTranscriptBytes), info = "SKReader" / "SKDevice", 32 bytes) and encrypt
//! with AES-256-GCM, no AAD, IV = 8-byte direction identifier ‖ 4-byte big-endian counter
//! from 1. Each end counts both directions, so a replayed, dropped or reordered message fails
//! its tag. Any failure, and any status received or sent, ends the session: later calls return
//! [`Error::InvalidRequest`].
//!
//! Message flow:
//! 1. reader: [`ReaderSession::new`] (fresh EReaderKey from the OS RNG) →
//!    [`ReaderSession::establish`] → send [`SessionEstablishment::to_bytes`];
//! 2. mdoc: [`SessionEstablishment::from_bytes`] → [`DeviceSession::establish`] (the decrypted
//!    DeviceRequest) → [`DeviceSession::encrypt`] the DeviceResponse;
//! 3. reader: [`SessionData::from_bytes`] → [`ReaderSession::decrypt`] → verify the
//!    DeviceResponse with [`ReaderSession::transcript`] and [`ReaderSession::e_reader_key`];
//!    [`ReaderSession::terminate`] sends `{"status": 20}`.
//!
//! A failed incoming message is answered with [`SessionData::with_status`] and
//! [`SessionStatus::for_error`].

mod cipher;
mod messages;

use coset::CoseKey;
use rand_core::OsRng;

use cipher::{Channel, DEVICE_IDENTIFIER, READER_IDENTIFIER};
pub use messages::{SessionData, SessionEstablishment, SessionStatus};

use crate::cbor::Tag24;
use crate::crypto::ecdh::{derive_session_key, AgreementKey};
use crate::crypto::{Curve, PublicKey};
use crate::error::{Error, Result};
use crate::model::{DeviceEngagement, Handover, SessionTranscript};

/// HKDF info for SKReader, the key of reader → mdoc messages.
pub const SK_READER_INFO: &[u8] = b"SKReader";
/// HKDF info for SKDevice, the key of mdoc → reader messages.
pub const SK_DEVICE_INFO: &[u8] = b"SKDevice";

/// The only cipher suite 18013-5 defines for DeviceEngagement `Security`.
const CIPHER_SUITE: i64 = 1;

/// What one incoming [`SessionData`] carried, once decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The decrypted payload (a DeviceRequest at the mdoc, a DeviceResponse at the reader).
    pub data: Option<Vec<u8>>,
    /// The status, if any; the session has ended when one is present.
    pub status: Option<SessionStatus>,
}

#[derive(Clone, Copy)]
enum Side {
    Reader,
    Device,
}

/// The state both ends share: the transcript and the two directions.
struct Core {
    transcript: SessionTranscript,
    send: Channel,
    recv: Channel,
    ended: bool,
}

impl Core {
    fn new(
        own: &AgreementKey,
        peer: &PublicKey,
        transcript: SessionTranscript,
        side: Side,
    ) -> Result<Self> {
        let shared = own.shared_secret(peer)?;
        // The salt is over SessionTranscriptBytes, i.e. including the #6.24 wrapper.
        let transcript_bytes = transcript.tagged_bytes();
        let sk_reader = derive_session_key(&shared, &transcript_bytes, SK_READER_INFO);
        let sk_device = derive_session_key(&shared, &transcript_bytes, SK_DEVICE_INFO);
        let reader = Channel::new(&sk_reader, READER_IDENTIFIER)?;
        let device = Channel::new(&sk_device, DEVICE_IDENTIFIER)?;
        let (send, recv) = match side {
            Side::Reader => (reader, device),
            Side::Device => (device, reader),
        };
        Ok(Core {
            transcript,
            send,
            recv,
            ended: false,
        })
    }

    fn check_open(&self) -> Result<()> {
        if self.ended {
            return Err(Error::InvalidRequest("the session has ended".into()));
        }
        Ok(())
    }

    /// Runs `step`, ending the session if it fails (18013-5: an error terminates the session).
    fn guarded<T>(&mut self, step: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.check_open()?;
        let out = step(self);
        if out.is_err() {
            self.ended = true;
        }
        out
    }

    fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.guarded(|c| c.send.seal(plaintext))
    }

    fn open(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        self.guarded(|c| c.recv.open(ciphertext))
    }

    fn receive(&mut self, message: &SessionData) -> Result<Received> {
        let data = match &message.data {
            Some(ciphertext) => Some(self.open(ciphertext)?),
            None => {
                self.check_open()?;
                None
            }
        };
        if message.status.is_some() {
            self.ended = true;
        }
        Ok(Received {
            data,
            status: message.status,
        })
    }

    fn send(&mut self, plaintext: &[u8], status: Option<SessionStatus>) -> Result<SessionData> {
        let data = self.seal(plaintext)?;
        if status.is_some() {
            self.ended = true;
        }
        Ok(SessionData {
            data: Some(data),
            status,
        })
    }

    fn terminate(&mut self) -> SessionData {
        self.ended = true;
        SessionData::termination()
    }
}

/// The EDeviceKey of an engagement whose cipher suite this module implements.
fn engagement_key(engagement: &DeviceEngagement) -> Result<PublicKey> {
    if engagement.cipher_suite != CIPHER_SUITE {
        return Err(Error::InvalidValue {
            context: "DeviceEngagement",
            reason: format!(
                "cipher suite {}; 18013-5 defines only {CIPHER_SUITE}",
                engagement.cipher_suite
            ),
        });
    }
    PublicKey::from_cose_key(engagement.e_device_key.value())
}

/// The handover's encoding, refusing the online handovers: their transcripts have no
/// DeviceEngagement or EReaderKey, so they cannot key a proximity session.
fn proximity_handover(handover: &Handover) -> Result<Vec<u8>> {
    match handover {
        Handover::Qr | Handover::Nfc { .. } => Ok(handover.to_bytes()),
        _ => Err(Error::InvalidRequest(
            "a proximity session needs a QR or NFC handover".into(),
        )),
    }
}

/// The reader's end of a session.
pub struct ReaderSession {
    e_reader_key: AgreementKey,
    e_reader_key_bytes: Tag24<CoseKey>,
    core: Core,
    established: bool,
}

impl core::fmt::Debug for ReaderSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys stay out of debug output.
        f.debug_struct("ReaderSession")
            .field("established", &self.established)
            .field("ended", &self.core.ended)
            .finish_non_exhaustive()
    }
}

impl ReaderSession {
    /// Starts a session with the mdoc that showed `engagement`, with a fresh EReaderKey on the
    /// EDeviceKey's curve drawn from the OS random source.
    pub fn new(engagement: &DeviceEngagement, handover: &Handover) -> Result<Self> {
        let e_reader_key = match engagement_key(engagement)?.curve() {
            Curve::P256 => AgreementKey::P256(p256::SecretKey::random(&mut OsRng)),
            Curve::P384 => AgreementKey::P384(p384::SecretKey::random(&mut OsRng)),
            other => {
                return Err(Error::UnsupportedAlgorithm(format!(
                    "ECDH on {}",
                    other.name()
                )))
            }
        };
        Self::with_ephemeral_key(engagement, e_reader_key, handover)
    }

    /// Starts a session with a given EReaderKey (for test vectors; a real session uses
    /// [`ReaderSession::new`], as an ephemeral key must never be reused).
    ///
    /// SessionTranscript = [DeviceEngagementBytes as received, EReaderKeyBytes as sent,
    /// Handover].
    pub fn with_ephemeral_key(
        engagement: &DeviceEngagement,
        e_reader_key: AgreementKey,
        handover: &Handover,
    ) -> Result<Self> {
        let e_device_key = engagement_key(engagement)?;
        let handover = proximity_handover(handover)?;
        let e_reader_key_bytes = Tag24::new(e_reader_key.public_key().to_cose_key());
        let transcript = SessionTranscript::proximity(
            &engagement.tagged_bytes(),
            e_reader_key_bytes.tagged_bytes(),
            &handover,
        );
        let core = Core::new(&e_reader_key, &e_device_key, transcript, Side::Reader)?;
        Ok(ReaderSession {
            e_reader_key,
            e_reader_key_bytes,
            core,
            established: false,
        })
    }

    /// The SessionTranscript (for DeviceAuthentication and ReaderAuthentication).
    pub fn transcript(&self) -> &SessionTranscript {
        &self.core.transcript
    }

    /// SessionTranscriptBytes: `#6.24(bstr .cbor SessionTranscript)`.
    pub fn session_transcript_bytes(&self) -> Vec<u8> {
        self.core.transcript.tagged_bytes()
    }

    /// The reader's ephemeral private key (verifying a deviceMac needs it).
    pub fn e_reader_key(&self) -> &AgreementKey {
        &self.e_reader_key
    }

    /// EReaderKeyBytes: the `#6.24(bstr .cbor COSE_Key)` sent in the SessionEstablishment.
    pub fn e_reader_key_bytes(&self) -> &[u8] {
        self.e_reader_key_bytes.tagged_bytes()
    }

    /// The first message: `device_request` (an encoded DeviceRequest) encrypted with SKReader,
    /// counter 1. Fails if called twice.
    pub fn establish(&mut self, device_request: &[u8]) -> Result<SessionEstablishment> {
        if self.established {
            return Err(Error::InvalidRequest(
                "the SessionEstablishment has already been sent".into(),
            ));
        }
        let data = self.core.seal(device_request)?;
        self.established = true;
        Ok(SessionEstablishment::from_parts(
            self.e_reader_key_bytes.clone(),
            self.e_reader_key.public_key(),
            data,
        ))
    }

    /// A further request in the same session, as SessionData.
    pub fn encrypt(&mut self, device_request: &[u8]) -> Result<SessionData> {
        self.require_established()?;
        self.core.send(device_request, None)
    }

    /// Decrypts the mdoc's next message (SKDevice, the next counter). A failure, or a status
    /// in the message, ends the session.
    pub fn decrypt(&mut self, message: &SessionData) -> Result<Received> {
        self.require_established()?;
        self.core.receive(message)
    }

    /// Ends the session: the `{"status": 20}` message to send.
    pub fn terminate(&mut self) -> SessionData {
        self.core.terminate()
    }

    /// True once the session has ended (status sent or received, or a failure).
    pub fn is_terminated(&self) -> bool {
        self.core.ended
    }

    fn require_established(&self) -> Result<()> {
        if self.established {
            Ok(())
        } else {
            Err(Error::InvalidRequest(
                "no SessionEstablishment has been sent yet".into(),
            ))
        }
    }
}

/// The mdoc's (wallet's) end of a session.
pub struct DeviceSession {
    e_reader_key: PublicKey,
    core: Core,
}

impl core::fmt::Debug for DeviceSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceSession")
            .field("ended", &self.core.ended)
            .finish_non_exhaustive()
    }
}

impl DeviceSession {
    /// Accepts the reader's SessionEstablishment: builds the SessionTranscript from the
    /// DeviceEngagement this mdoc showed, the received EReaderKeyBytes and `handover`, derives
    /// the keys with `e_device_key` (which must be the engagement's EDeviceKey) and returns
    /// the session with the decrypted DeviceRequest bytes.
    ///
    /// On an error the caller answers with `SessionData::with_status(SessionStatus::for_error(&e))`.
    pub fn establish(
        engagement: &DeviceEngagement,
        e_device_key: &AgreementKey,
        handover: &Handover,
        establishment: &SessionEstablishment,
    ) -> Result<(Self, Vec<u8>)> {
        if engagement_key(engagement)? != e_device_key.public_key() {
            return Err(Error::InvalidKey(
                "the EDeviceKey is not the one in the DeviceEngagement".into(),
            ));
        }
        let handover = proximity_handover(handover)?;
        let transcript = SessionTranscript::proximity(
            &engagement.tagged_bytes(),
            establishment.e_reader_key_bytes(),
            &handover,
        );
        let e_reader_key = establishment.e_reader_key().clone();
        let mut core = Core::new(e_device_key, &e_reader_key, transcript, Side::Device)?;
        let request = core.open(establishment.data())?;
        Ok((DeviceSession { e_reader_key, core }, request))
    }

    /// The SessionTranscript (for DeviceAuthentication).
    pub fn transcript(&self) -> &SessionTranscript {
        &self.core.transcript
    }

    /// SessionTranscriptBytes: `#6.24(bstr .cbor SessionTranscript)`.
    pub fn session_transcript_bytes(&self) -> Vec<u8> {
        self.core.transcript.tagged_bytes()
    }

    /// The reader's ephemeral public key (a deviceMac is keyed with it).
    pub fn e_reader_key(&self) -> &PublicKey {
        &self.e_reader_key
    }

    /// Encrypts `device_response` (an encoded DeviceResponse) with SKDevice, next counter.
    pub fn encrypt(&mut self, device_response: &[u8]) -> Result<SessionData> {
        self.core.send(device_response, None)
    }

    /// Encrypts `device_response` and ends the session in the same message (`status` 20).
    pub fn encrypt_final(&mut self, device_response: &[u8]) -> Result<SessionData> {
        self.core
            .send(device_response, Some(SessionStatus::Termination))
    }

    /// Decrypts the reader's next message (SKReader, the next counter). A failure, or a
    /// status in the message, ends the session.
    pub fn decrypt(&mut self, message: &SessionData) -> Result<Received> {
        self.core.receive(message)
    }

    /// Ends the session: the `{"status": 20}` message to send.
    pub fn terminate(&mut self) -> SessionData {
        self.core.terminate()
    }

    /// True once the session has ended (status sent or received, or a failure).
    pub fn is_terminated(&self) -> bool {
        self.core.ended
    }
}
