//! [`OnlineVerifier`]: one online request and the one response it accepts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mdoc_oid4vp::dcql::{DcqlQuery, Presented};
use mso::cbor::{from_slice, Limits};
use mso::model::{DeviceResponse, IssuerSigned};

use super::annex_c::{AnnexCRequest, ANNEX_C_PROTOCOL};
use super::config::{AnnexCRequestConfig, OpenId4VpRequestConfig};
use super::message::{Opened, VerifierRequest};
use super::oid4vp::OpenId4VpRequest;
use super::query::{annex_c_query_id, check, presented};
use super::report::{
    OnlineVerificationReport, QueryPresentation, ResponseFinding, ResponseRefusal,
};
use crate::error::{Result, VerifierError};
use crate::fetch::{fetch_into, ListFetcher};
use crate::report::{CheckKind, CheckOutcome, VerificationReport};
use crate::trust::TrustStore;
use crate::verify::{verify_response_bytes, Resolved, VerificationOptions};

enum Request {
    OpenId4Vp(Box<OpenId4VpRequest>),
    AnnexC(Box<AnnexCRequest>),
}

impl Request {
    /// The request's query as DCQL (Annex C: one credential query per document request).
    fn query(&self) -> &DcqlQuery {
        match self {
            Request::OpenId4Vp(r) => r.query(),
            Request::AnnexC(r) => &r.query,
        }
    }

    /// How a credential query id is named in reports: itself, or for Annex C the doc type
    /// of its document request.
    fn label(&self, id: &str) -> String {
        match self {
            Request::OpenId4Vp(_) => id.to_owned(),
            Request::AnnexC(r) => r
                .doc_types
                .iter()
                .enumerate()
                .find(|(i, _)| annex_c_query_id(*i) == id)
                .map_or_else(|| id.to_owned(), |(_, t)| t.clone()),
        }
    }
}

/// One relying-party request for an online presentation (OpenID4VP 1.0 or ISO 18013-7
/// Annex C) and the verification of the one response it accepts: decrypt, match it to the
/// request, verify each DeviceResponse over the request's SessionTranscript and check that
/// exactly what was asked for was disclosed. Thread-safe; keep it (server-side, by `state`
/// or session) until the response arrives.
#[derive(uniffi::Object)]
pub struct OnlineVerifier {
    request: Request,
    /// Set once a response authentic to this request was read: a second one is a replay.
    answered: Mutex<bool>,
}

impl std::fmt::Debug for OnlineVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineVerifier").finish_non_exhaustive()
    }
}

fn device_auth_failed(report: &VerificationReport) -> bool {
    report.documents.iter().any(|d| {
        d.checks.iter().any(|c| {
            c.kind == CheckKind::DeviceAuthentication
                && matches!(c.outcome, CheckOutcome::Failed { .. })
        })
    })
}

#[uniffi::export]
impl OnlineVerifier {
    /// An OpenID4VP 1.0 request: a fresh nonce (and `state` for the `direct_post` modes), a
    /// fresh response-encryption key for the `.jwt` modes, the DCQL query checked as a wallet
    /// would check it, and the request object signed when a signer is given.
    #[uniffi::constructor]
    pub fn openid4vp(config: OpenId4VpRequestConfig) -> Result<Arc<Self>> {
        Ok(Arc::new(OnlineVerifier {
            request: Request::OpenId4Vp(Box::new(OpenId4VpRequest::new(&config)?)),
            answered: Mutex::new(false),
        }))
    }

    /// An ISO 18013-7 Annex C request: the DeviceRequest (with reader authentication over
    /// the request's transcript when a reader key is given) and an EncryptionInfo with a
    /// fresh nonce and HPKE recipient key, bound to `origin`.
    #[uniffi::constructor]
    pub fn annex_c(config: AnnexCRequestConfig) -> Result<Arc<Self>> {
        Ok(Arc::new(OnlineVerifier {
            request: Request::AnnexC(Box::new(AnnexCRequest::new(&config)?)),
            answered: Mutex::new(false),
        }))
    }

    /// What to hand to the wallet.
    pub fn request(&self) -> VerifierRequest {
        match &self.request {
            Request::OpenId4Vp(r) => r.to_send(),
            Request::AnnexC(r) => VerifierRequest {
                protocol: ANNEX_C_PROTOCOL.into(),
                data_json: r.data_json(),
                authorization_url: None,
                request_object: None,
            },
        }
    }

    /// For a signed OpenID4VP request by URL, the `openid4vp://` URL that passes it by
    /// reference (`client_id` and `request_uri`): the app serves
    /// [`VerifierRequest::request_object`] at `request_uri` (`Content-Type:
    /// application/oauth-authz-req+jwt`), which keeps the QR code small.
    pub fn authorization_url_by_reference(&self, request_uri: String) -> Result<String> {
        match &self.request {
            Request::OpenId4Vp(r) => r.by_reference(&request_uri),
            Request::AnnexC(_) => Err(VerifierError::invalid_argument(
                "an Annex C request goes through the Digital Credentials API",
            )),
        }
    }

    /// The request's nonce (for Annex C, the EncryptionInfo nonce in base64url).
    pub fn nonce(&self) -> String {
        match &self.request {
            Request::OpenId4Vp(r) => r.nonce().to_owned(),
            Request::AnnexC(r) => r.nonce(),
        }
    }

    /// The request's `state` (`direct_post` modes), to find this object again when the
    /// wallet posts its response.
    pub fn state(&self) -> Option<String> {
        match &self.request {
            Request::OpenId4Vp(r) => r.state().map(str::to_owned),
            Request::AnnexC(_) => None,
        }
    }

    /// Reads the wallet's response — the form body posted to the response URI
    /// (`direct_post`, `direct_post.jwt`) or the Digital Credentials API response's `data`
    /// (JSON) — and verifies it at `options`' time against `trust`.
    ///
    /// A response that is a replay, for another `state`, not encrypted to this request's key,
    /// or a wallet error is refused ([`VerifierError::ResponseRefused`]) and nothing from it
    /// is reported; nor is one whose DeviceResponses do not decode (an error that leaves the
    /// request open). Otherwise the request is answered (a later response is a replay) and
    /// the report gives every DeviceResponse's checks over this request's SessionTranscript,
    /// the DCQL outcome per credential query, and every finding by name.
    pub fn verify_response(
        &self,
        response: String,
        trust: Arc<TrustStore>,
        options: VerificationOptions,
    ) -> Result<OnlineVerificationReport> {
        self.verify(&response, &trust, options, None)
    }

    /// [`OnlineVerifier::verify_response`], with each MSO's status and identifier lists
    /// fetched through the app's [`ListFetcher`] (only for an MSO whose issuer signature
    /// verified under `trust`), as `verify_device_response_online` does in person.
    pub fn verify_response_online(
        &self,
        response: String,
        trust: Arc<TrustStore>,
        options: VerificationOptions,
        fetcher: Arc<dyn ListFetcher>,
    ) -> Result<OnlineVerificationReport> {
        self.verify(&response, &trust, options, Some(fetcher.as_ref()))
    }
}

impl OnlineVerifier {
    fn verify(
        &self,
        response: &str,
        trust: &TrustStore,
        options: VerificationOptions,
        fetcher: Option<&dyn ListFetcher>,
    ) -> Result<OnlineVerificationReport> {
        // Checked before the response is read, so a bad option never answers the request.
        Resolved::new(&options)?;
        let snapshot = trust.snapshot()?;
        let opened = {
            let mut answered = self
                .answered
                .lock()
                .map_err(|_| VerifierError::internal("a request lock is poisoned"))?;
            if *answered {
                return Err(VerifierError::ResponseRefused {
                    refusal: ResponseRefusal::Replayed,
                    reason: "this request has already been answered".into(),
                });
            }
            let opened = match &self.request {
                Request::OpenId4Vp(r) => r.open(response)?,
                Request::AnnexC(r) => {
                    let (device_response, transcript) = r.open(response)?;
                    Opened {
                        presentations: vec![(String::new(), device_response)],
                        transcript,
                    }
                }
            };
            // Garbage must not use up the request (anyone can post to a response URI): it is
            // answered only by a response whose every DeviceResponse decodes.
            for (_, bytes) in &opened.presentations {
                from_slice::<DeviceResponse>(bytes, &Limits::DEFAULT)?;
            }
            *answered = true;
            opened
        };
        let mut presentations = Vec::with_capacity(opened.presentations.len());
        let mut by_query: BTreeMap<String, Vec<Presented>> = BTreeMap::new();
        let mut findings = Vec::new();
        for (query_id, bytes) in &opened.presentations {
            let mut options = options.clone();
            if let Some(fetcher) = fetcher {
                let response: DeviceResponse = from_slice(bytes, &Limits::DEFAULT)?;
                let docs: Vec<&IssuerSigned> = response
                    .documents
                    .iter()
                    .flatten()
                    .map(|d| &d.issuer_signed)
                    .collect();
                fetch_into(&docs, trust, &mut options, fetcher)?;
            }
            let resolved = Resolved::new(&options)?;
            let report =
                verify_response_bytes(bytes, &opened.transcript, None, &snapshot, &resolved)?;
            match &self.request {
                Request::OpenId4Vp(_) => {
                    by_query
                        .entry(query_id.clone())
                        .or_default()
                        .extend(presented(&report));
                }
                // One DeviceResponse answers every document request: each document goes to
                // the request for its doc type.
                Request::AnnexC(r) => {
                    for doc in presented(&report) {
                        let id = r
                            .doc_types
                            .iter()
                            .position(|t| *t == doc.doctype)
                            .map_or_else(|| doc.doctype.clone(), annex_c_query_id);
                        by_query.entry(id).or_default().push(doc);
                    }
                }
            }
            presentations.push((query_id.clone(), report));
        }
        let (queries, dcql_findings) =
            check(self.request.query(), &by_query, |id| self.request.label(id));
        let mut out = Vec::with_capacity(presentations.len());
        for (query_id, report) in presentations {
            let query_id = match &self.request {
                Request::OpenId4Vp(_) => query_id,
                Request::AnnexC(_) => report
                    .documents
                    .first()
                    .map(|d| d.doc_type.clone())
                    .unwrap_or_default(),
            };
            if !report.valid {
                findings.push(if device_auth_failed(&report) {
                    ResponseFinding::TranscriptMismatch {
                        query_id: query_id.clone(),
                    }
                } else {
                    ResponseFinding::PresentationInvalid {
                        query_id: query_id.clone(),
                    }
                });
            }
            out.push(QueryPresentation { query_id, report });
        }
        findings.extend(dcql_findings);
        Ok(OnlineVerificationReport {
            valid: findings.is_empty() && !out.is_empty(),
            presentations: out,
            queries,
            findings,
        })
    }
}
