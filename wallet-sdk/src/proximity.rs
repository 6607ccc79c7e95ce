//! In-person presentation (ISO 18013-5 §9.1.1): the mdoc's end of a proximity session.
//!
//! The app moves bytes over BLE or NFC; this object does the rest with `mso`: the device
//! engagement (QR `mdoc:` URI), the session keys and encryption (`mso::session::DeviceSession`),
//! the DeviceRequest parsed under `mso`'s limits with each reader authentication checked, a
//! [`ConsentRequest`] for the holder, then the DeviceResponse from only the approved elements
//! of the least-used unused MSO, signed by its device key through the app's [`crate::KeyStore`]
//! (`mso::present`), encrypted.
//!
//! Any failed incoming message ends the session: the error is a [`WalletError::Session`]
//! carrying the SessionData to send (status 10 for a message that did not decrypt, 11 for one
//! that is not the expected CBOR). No device key is used before the holder approves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mso::cbor::{from_slice, to_vec, Limits};
use mso::crypto::ecdh::AgreementKey;
use mso::model::{DeviceEngagement, DeviceRequest, DeviceResponse, Handover};
use mso::present::Disclosure;
use mso::session::{DeviceSession, SessionData, SessionEstablishment, SessionStatus};
use rand_core::OsRng;
use time::OffsetDateTime;

use crate::consent::{
    reader_identity, ApprovedDocument, ConsentRequest, RequestedDocument, RequestedElement,
};
use crate::disclose::{available, Disclosed};
use crate::error::{Result, WalletError};
use crate::wallet::Wallet;

/// Most document requests in one DeviceRequest.
pub const MAX_DOC_REQUESTS: usize = 16;

/// One requested document awaiting the holder's answer.
struct Pending {
    doc_type: String,
    credential_id: Option<String>,
    /// namespace → requested identifiers.
    requested: BTreeMap<String, Vec<String>>,
}

struct State {
    engagement: DeviceEngagement,
    e_device_key: AgreementKey,
    handover: Handover,
    session: Option<DeviceSession>,
    pending: Option<Vec<Pending>>,
    ended: bool,
}

/// The mdoc's end of one proximity session. Thread-safe; one per engagement.
#[derive(uniffi::Object)]
pub struct PresentationSession {
    wallet: Arc<Wallet>,
    state: Mutex<State>,
}

impl std::fmt::Debug for PresentationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentationSession")
            .finish_non_exhaustive()
    }
}

fn at_time(at_unix_seconds: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at_unix_seconds).map_err(|_| {
        WalletError::invalid_argument(format!("time {at_unix_seconds} is out of range"))
    })
}

fn state_error(reason: &str) -> WalletError {
    WalletError::Session {
        reason: reason.into(),
        status_code: 0,
        reply: Vec::new(),
    }
}

/// The error for a failed incoming message, with the status message to send.
fn failed(e: &mso::Error) -> WalletError {
    let status = SessionStatus::for_error(e);
    WalletError::Session {
        reason: e.to_string(),
        status_code: status.code(),
        reply: SessionData::with_status(status).to_bytes(),
    }
}

impl State {
    /// Runs `step` on an open session; any error ends it.
    fn guarded<T>(&mut self, step: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.ended {
            return Err(state_error("the session has ended"));
        }
        let out = step(self);
        if out.is_err() {
            self.ended = true;
            self.pending = None;
        }
        out
    }
}

impl Wallet {
    fn start(self: Arc<Self>, handover: Handover) -> Result<Arc<PresentationSession>> {
        let e_device_key = AgreementKey::P256(p256::SecretKey::random(&mut OsRng));
        let engagement = DeviceEngagement::new(&e_device_key.public_key(), None)?;
        Ok(Arc::new(PresentationSession {
            wallet: self,
            state: Mutex::new(State {
                engagement,
                e_device_key,
                handover,
                session: None,
                pending: None,
                ended: false,
            }),
        }))
    }
}

#[uniffi::export]
impl Wallet {
    /// Starts a proximity presentation engaged by QR code: a fresh ephemeral session key
    /// (EDeviceKey) and its DeviceEngagement. Show [`PresentationSession::qr_code_uri`].
    pub fn start_presentation(self: Arc<Self>) -> Result<Arc<PresentationSession>> {
        self.start(Handover::Qr)
    }

    /// Starts a proximity presentation engaged over NFC (static or negotiated handover):
    /// the Handover Select message the app sent and, for a negotiated handover, the Handover
    /// Request it received (both NDEF message bytes), which the session transcript covers.
    pub fn start_presentation_nfc(
        self: Arc<Self>,
        handover_select: Vec<u8>,
        handover_request: Option<Vec<u8>>,
    ) -> Result<Arc<PresentationSession>> {
        self.start(Handover::Nfc {
            select: handover_select,
            request: handover_request,
        })
    }
}

impl PresentationSession {
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| WalletError::internal("a session lock is poisoned"))
    }

    /// The consent request for decrypted DeviceRequest bytes (the pending answer kept).
    fn consent(&self, state: &mut State, request: &[u8], at: i64) -> Result<ConsentRequest> {
        let request: DeviceRequest =
            from_slice(request, &Limits::DEFAULT).map_err(|e| failed(&e))?;
        if request.doc_requests.is_empty() || request.doc_requests.len() > MAX_DOC_REQUESTS {
            let e = mso::Error::InvalidValue {
                context: "DeviceRequest",
                reason: format!(
                    "{} document requests; 1 to {MAX_DOC_REQUESTS}",
                    request.doc_requests.len()
                ),
            };
            return Err(failed(&e));
        }
        let session = state
            .session
            .as_ref()
            .ok_or_else(|| state_error("no session"))?;
        let anchors = self.wallet.reader_trust()?;
        let when = at_time(at)?;
        let mut documents = Vec::with_capacity(request.doc_requests.len());
        let mut pending = Vec::with_capacity(request.doc_requests.len());
        for doc_request in &request.doc_requests {
            let items = doc_request.items_request.value();
            let reader = reader_identity(doc_request, session.transcript(), &anchors, when);
            let answering = self.wallet.answering(&items.doc_type, at)?;
            let held = match &answering {
                Some((record, index)) => available(record, *index)?,
                None => BTreeMap::new(),
            };
            let mut elements = Vec::new();
            let mut requested = BTreeMap::new();
            for (namespace, ids) in &items.name_spaces {
                for (identifier, retain) in ids {
                    elements.push(RequestedElement {
                        namespace: namespace.clone(),
                        identifier: identifier.clone(),
                        intent_to_retain: *retain,
                        available: held
                            .get(namespace)
                            .is_some_and(|h: &Vec<String>| h.contains(identifier)),
                    });
                }
                requested.insert(namespace.clone(), ids.keys().cloned().collect());
            }
            let credential_id = answering.map(|(record, _)| record.id);
            documents.push(RequestedDocument {
                doc_type: items.doc_type.clone(),
                credential_id: credential_id.clone(),
                elements,
                reader,
            });
            pending.push(Pending {
                doc_type: items.doc_type.clone(),
                credential_id,
                requested,
            });
        }
        state.pending = Some(pending);
        Ok(ConsentRequest { documents })
    }

    /// The Document for one approval, and the credential whose MSO it used.
    fn document(
        &self,
        pending: &[Pending],
        approved: &ApprovedDocument,
        transcript: &mso::model::SessionTranscript,
        at: i64,
    ) -> Result<Disclosed> {
        let asked = pending
            .iter()
            .find(|p| p.doc_type == approved.doc_type)
            .ok_or_else(|| {
                WalletError::invalid_argument(format!("{:?} was not requested", approved.doc_type))
            })?;
        let mut disclosure: Disclosure = BTreeMap::new();
        for e in &approved.elements {
            let requested = asked
                .requested
                .get(&e.namespace)
                .is_some_and(|ids| ids.contains(&e.identifier));
            if !requested {
                return Err(WalletError::invalid_argument(format!(
                    "{}/{} was not requested",
                    e.namespace, e.identifier
                )));
            }
            let ids = disclosure.entry(e.namespace.clone()).or_default();
            if !ids.contains(&e.identifier) {
                ids.push(e.identifier.clone());
            }
        }
        let id = asked
            .credential_id
            .as_deref()
            .ok_or_else(|| WalletError::NoUsableMso {
                reason: format!("no credential of doc type {:?}", approved.doc_type),
            })?;
        self.wallet.disclose(id, &disclosure, transcript, at)
    }
}

#[uniffi::export]
impl PresentationSession {
    /// The QR code content: `mdoc:` and the DeviceEngagement in base64url.
    pub fn qr_code_uri(&self) -> Result<String> {
        Ok(self.lock()?.engagement.to_qr_uri())
    }

    /// The DeviceEngagement bytes (for NFC engagement).
    pub fn device_engagement(&self) -> Result<Vec<u8>> {
        Ok(self.lock()?.engagement.raw().to_vec())
    }

    /// Takes the reader's SessionEstablishment: derives the session keys, decrypts and parses
    /// the DeviceRequest, checks each reader authentication at `at_unix_seconds`, and returns
    /// what is asked for the holder to approve. A failure ends the session
    /// ([`WalletError::Session`] with the status message to send).
    pub fn receive_establishment(
        &self,
        message: Vec<u8>,
        at_unix_seconds: i64,
    ) -> Result<ConsentRequest> {
        let mut state = self.lock()?;
        state.guarded(|state| {
            if state.session.is_some() {
                return Err(state_error("the session is already established"));
            }
            let establishment = SessionEstablishment::from_bytes(&message, &Limits::DEFAULT)
                .map_err(|e| failed(&e))?;
            let (session, request) = DeviceSession::establish(
                &state.engagement,
                &state.e_device_key,
                &state.handover,
                &establishment,
            )
            .map_err(|e| failed(&e))?;
            state.session = Some(session);
            self.consent(state, &request, at_unix_seconds)
        })
    }

    /// Takes a later SessionData from the reader: a further request (a new consent request)
    /// or a status ending the session (`None`).
    pub fn receive_message(
        &self,
        message: Vec<u8>,
        at_unix_seconds: i64,
    ) -> Result<Option<ConsentRequest>> {
        let mut state = self.lock()?;
        state.guarded(|state| {
            let data =
                SessionData::from_bytes(&message, &Limits::DEFAULT).map_err(|e| failed(&e))?;
            let session = state
                .session
                .as_mut()
                .ok_or_else(|| state_error("no SessionEstablishment received yet"))?;
            let received = session.decrypt(&data).map_err(|e| failed(&e))?;
            if received.status.is_some() {
                state.ended = true;
                state.pending = None;
                return Ok(None);
            }
            match received.data {
                Some(request) => self.consent(state, &request, at_unix_seconds).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Answers the pending request with only `approved` (each element requested and held),
    /// from the least-used unused MSO of each credential at `at_unix_seconds`, signed by its
    /// device key, and returns the encrypted SessionData to send. The MSOs used are counted
    /// before the message is returned. An empty approval answers with no document.
    pub fn respond(
        &self,
        approved: Vec<ApprovedDocument>,
        at_unix_seconds: i64,
    ) -> Result<Vec<u8>> {
        let mut state = self.lock()?;
        let pending = state
            .pending
            .take()
            .ok_or_else(|| state_error("no request awaits an answer"))?;
        let _records = self.wallet.lock_records()?;
        let transcript = state
            .session
            .as_ref()
            .ok_or_else(|| state_error("no session"))?
            .transcript()
            .clone();
        let mut used = Vec::with_capacity(approved.len());
        for doc in &approved {
            if approved
                .iter()
                .filter(|d| d.doc_type == doc.doc_type)
                .count()
                > 1
            {
                state.pending = Some(pending);
                return Err(WalletError::invalid_argument(format!(
                    "{:?} approved twice",
                    doc.doc_type
                )));
            }
            match self.document(&pending, doc, &transcript, at_unix_seconds) {
                Ok(disclosed) => used.push(disclosed),
                Err(e) => {
                    // The holder may answer again (e.g. with fewer elements).
                    state.pending = Some(pending);
                    return Err(e);
                }
            }
        }
        let documents = self.wallet.count_uses(used)?;
        let response = DeviceResponse {
            version: "1.0".into(),
            documents: (!documents.is_empty()).then_some(documents),
            document_errors: None,
            status: 0,
        };
        state.guarded(|state| {
            let session = state
                .session
                .as_mut()
                .ok_or_else(|| state_error("no session"))?;
            let message = session
                .encrypt(&to_vec(&response))
                .map_err(|e| failed(&e))?;
            Ok(message.to_bytes())
        })
    }

    /// Ends the session: the `{"status": 20}` SessionData to send.
    pub fn terminate(&self) -> Result<Vec<u8>> {
        let mut state = self.lock()?;
        state.ended = true;
        state.pending = None;
        Ok(match state.session.as_mut() {
            Some(session) => session.terminate().to_bytes(),
            None => SessionData::termination().to_bytes(),
        })
    }

    /// True once the session has ended (a status sent or received, or a failure).
    pub fn is_terminated(&self) -> Result<bool> {
        Ok(self.lock()?.ended)
    }
}
