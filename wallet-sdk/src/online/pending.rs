//! [`OnlinePresentation`]: one online request, the holder's consent, and the one answer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use mso::cbor::to_vec;
use mso::model::DeviceResponse;
use mso::present::Disclosure;

use super::annex_c::{self, AnnexC};
use super::offered::Offered;
use super::oid4vp::OpenId4Vp;
use super::types::{OnlineAnswer, OnlineApproval, OnlineConsentRequest, OnlineRequest};
use crate::error::{Result, WalletError};
use crate::wallet::Wallet;

pub(crate) enum Protocol {
    OpenId4Vp(Box<OpenId4Vp>),
    AnnexC(AnnexC),
}

struct State {
    answered: bool,
}

/// The wallet's end of one online presentation. Thread-safe; one per request.
#[derive(uniffi::Object)]
pub struct OnlinePresentation {
    wallet: Arc<Wallet>,
    protocol: Protocol,
    consent: OnlineConsentRequest,
    /// query id → what may be disclosed for it.
    offered: BTreeMap<String, Offered>,
    state: Mutex<State>,
}

impl std::fmt::Debug for OnlinePresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlinePresentation").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Wallet {
    /// Reads an online presentation request at `at_unix_seconds`: an OpenID4VP 1.0 request
    /// (by URL, or through the Digital Credentials API, signed or not) or an ISO 18013-7
    /// Annex C request. A signed request object is verified against the verifier trust
    /// anchors ([`Wallet::set_reader_trust_anchors`]) and its client identifier; the DCQL
    /// query is evaluated against the stored credentials. Nothing is disclosed and no device
    /// key is used until [`OnlinePresentation::respond`].
    pub fn start_online_presentation(
        self: Arc<Self>,
        request: OnlineRequest,
        at_unix_seconds: i64,
    ) -> Result<Arc<OnlinePresentation>> {
        let (protocol, consent, offered) = match &request {
            OnlineRequest::DigitalCredentials {
                protocol,
                data_json,
                origin,
            } if protocol == annex_c::PROTOCOL => {
                let (annex_c, consent, offered) =
                    AnnexC::read(&self, data_json, origin, at_unix_seconds)?;
                (Protocol::AnnexC(annex_c), consent, offered)
            }
            _ => {
                let (oid4vp, consent, offered) = OpenId4Vp::read(&self, &request, at_unix_seconds)?;
                (Protocol::OpenId4Vp(Box::new(oid4vp)), consent, offered)
            }
        };
        Ok(Arc::new(OnlinePresentation {
            wallet: self,
            protocol,
            consent,
            offered,
            state: Mutex::new(State { answered: false }),
        }))
    }
}

impl OnlinePresentation {
    /// The disclosure for one approval, checked against what the request asked for and the
    /// credential holds.
    fn disclosure(&self, approval: &OnlineApproval) -> Result<(&Offered, Disclosure)> {
        let offered = self.offered.get(&approval.query_id).ok_or_else(|| {
            WalletError::invalid_argument(format!("{:?} was not requested", approval.query_id))
        })?;
        let mut disclosure: Disclosure = BTreeMap::new();
        for e in &approval.elements {
            if !offered
                .elements
                .contains(&(e.namespace.clone(), e.identifier.clone()))
            {
                return Err(WalletError::invalid_argument(format!(
                    "{}/{} was not requested for {:?} or is not held",
                    e.namespace, e.identifier, approval.query_id
                )));
            }
            let ids = disclosure.entry(e.namespace.clone()).or_default();
            if !ids.contains(&e.identifier) {
                ids.push(e.identifier.clone());
            }
        }
        Ok((offered, disclosure))
    }
}

fn device_response(documents: Vec<mso::model::Document>) -> Vec<u8> {
    to_vec(&DeviceResponse {
        version: "1.0".into(),
        documents: (!documents.is_empty()).then_some(documents),
        document_errors: None,
        status: 0,
    })
}

#[uniffi::export]
impl OnlinePresentation {
    /// What the holder is asked to approve.
    pub fn consent_request(&self) -> OnlineConsentRequest {
        self.consent.clone()
    }

    /// Answers with only `approved` (each element asked for and held), from the least-used
    /// unused MSO of each credential at `at_unix_seconds`, signed by its device key over the
    /// request's SessionTranscript, encrypted where the request asks; returns what the app
    /// sends back. One answer per request: the MSOs used are counted before it is returned.
    pub fn respond(
        &self,
        approved: Vec<OnlineApproval>,
        at_unix_seconds: i64,
    ) -> Result<OnlineAnswer> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| WalletError::internal("a presentation lock is poisoned"))?;
        if state.answered {
            return Err(WalletError::FlowState {
                reason: "this request has already been answered".into(),
            });
        }
        if approved.is_empty() {
            return Err(WalletError::invalid_argument(
                "nothing approved: approve at least one credential, or decline the request",
            ));
        }
        let mut seen = BTreeSet::new();
        let mut planned = Vec::with_capacity(approved.len());
        for approval in &approved {
            if !seen.insert(approval.query_id.as_str()) {
                return Err(WalletError::invalid_argument(format!(
                    "{:?} approved twice",
                    approval.query_id
                )));
            }
            let (offered, disclosure) = self.disclosure(approval)?;
            let id = offered
                .credential_id
                .as_deref()
                .ok_or_else(|| WalletError::NoUsableMso {
                    reason: format!("no credential of doc type {:?}", offered.doc_type),
                })?;
            planned.push((approval.query_id.clone(), id, disclosure));
        }
        let _records = self.wallet.lock_records()?;
        let transcript = match &self.protocol {
            Protocol::OpenId4Vp(p) => p.transcript.clone(),
            Protocol::AnnexC(a) => a.transcript.clone(),
        };
        let mut used = Vec::with_capacity(planned.len());
        for (_, id, disclosure) in &planned {
            used.push(
                self.wallet
                    .disclose(id, disclosure, &transcript, at_unix_seconds)?,
            );
        }
        // The answer is made before any use is counted: a failure leaves the MSOs unused.
        let documents: Vec<_> = used.iter().map(|d| d.document.clone()).collect();
        let answer = match &self.protocol {
            Protocol::AnnexC(a) => OnlineAnswer::DigitalCredentials {
                protocol: annex_c::PROTOCOL.into(),
                data_json: a.answer(&device_response(documents))?,
            },
            Protocol::OpenId4Vp(p) => {
                // One DeviceResponse per credential query (one mdoc each).
                let responses = planned
                    .iter()
                    .zip(documents)
                    .map(|((query_id, _, _), doc)| (query_id.clone(), device_response(vec![doc])))
                    .collect();
                p.answer(responses)?
            }
        };
        self.wallet.count_uses(used)?;
        state.answered = true;
        Ok(answer)
    }

    /// Declines the request: for `direct_post` modes, the error response (`access_denied`)
    /// to post; `None` where the platform reports the refusal (Digital Credentials API).
    /// A request already answered cannot be declined.
    pub fn decline(&self) -> Result<Option<OnlineAnswer>> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| WalletError::internal("a presentation lock is poisoned"))?;
        if state.answered {
            return Err(WalletError::FlowState {
                reason: "this request has already been answered".into(),
            });
        }
        state.answered = true;
        Ok(match &self.protocol {
            Protocol::OpenId4Vp(p) => p.decline()?,
            Protocol::AnnexC(_) => None,
        })
    }
}
