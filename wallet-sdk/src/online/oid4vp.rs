//! The wallet's end of OpenID4VP 1.0 for mdocs: the request read by the rules of
//! `mdoc_oid4vp::request` (unsigned, or a signed request object whose verifier certificate
//! chains to the verifier trust anchors and matches its client identifier), the DCQL query
//! evaluated against the stored credentials, and the response: one DeviceResponse per
//! credential query, device-signed over the request's SessionTranscript (OpenID4VP 1.0
//! Appendix B.2.6), encrypted to the verifier's key in the `.jwt` modes.

use std::collections::{BTreeMap, BTreeSet};

use mdoc_oid4vp::dcql::{Candidate, CandidateElement, DcqlQuery, Match};
use mdoc_oid4vp::request::{
    dc_api_request, parse_request_url, verify_request_object, AuthorizationRequest, RequestContext,
    RequestUrl, ResponseMode, VerifiedRequest,
};
use mdoc_oid4vp::response::{
    dc_api_jwt_response, dc_api_response, direct_post_body, direct_post_jwt_body, encrypt_response,
    error_body, handover, ErrorResponse, ResponseParams, VpToken,
};
use mso::cbor::Value;
use mso::crypto::DefaultVerifier;
use mso::model::SessionTranscript;
use serde_json::Value as Json;
use time::OffsetDateTime;

use super::offered::Offered;
use super::types::{
    OnlineAnswer, OnlineConsentRequest, OnlineRequest, RequestedCredential, VerifierIdentity,
};
use crate::consent::{ReaderAuthStatus, RequestedElement};
use crate::credentials::CredentialRecord;
use crate::error::{Result, WalletError};
use crate::wallet::Wallet;

/// Where the answer goes.
enum Target {
    Post { url: String },
    DcApi { protocol: String },
}

/// An OpenID4VP request read and matched against the wallet's credentials.
pub(crate) struct OpenId4Vp {
    request: AuthorizationRequest,
    target: Target,
    pub(crate) transcript: SessionTranscript,
}

fn request_error(e: mdoc_oid4vp::request::RequestError) -> WalletError {
    WalletError::Protocol {
        reason: format!("OpenID4VP request refused: {e}"),
    }
}

fn at_time(at: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at)
        .map_err(|_| WalletError::invalid_argument(format!("time {at} is out of range")))
}

/// A simple element value as JSON, for DCQL `values` matching (RFC 8949 §6.1).
fn json_value(v: &Value) -> Option<Json> {
    match v {
        Value::Text(s) => Some(Json::from(s.clone())),
        Value::Bool(b) => Some(Json::from(*b)),
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok().map(Json::from),
        _ => None,
    }
}

/// The stored credential as DCQL sees it, from the MSO that would answer at `at`.
fn candidate(wallet: &Wallet, record: &CredentialRecord, at: i64) -> Result<Option<Candidate>> {
    let Ok(index) = record.select_mso(at, &wallet.current_policy()?) else {
        return Ok(None);
    };
    let Some(mso) = record.msos.get(index) else {
        return Ok(None);
    };
    let issuer_signed = mso.issuer_signed()?;
    let elements = issuer_signed
        .name_spaces
        .iter()
        .flatten()
        .flat_map(|(ns, items)| {
            items.iter().map(move |i| {
                let item = i.value();
                CandidateElement {
                    namespace: ns.clone(),
                    element: item.element_identifier.clone(),
                    value: json_value(&item.element_value),
                }
            })
        })
        .collect();
    Ok(Some(Candidate {
        handle: record.id.clone(),
        doctype: record.doc_type.clone(),
        elements,
    }))
}

impl OpenId4Vp {
    /// Reads, checks and matches the request.
    pub(crate) fn read(
        wallet: &Wallet,
        request: &OnlineRequest,
        at: i64,
    ) -> Result<(Self, OnlineConsentRequest, BTreeMap<String, Offered>)> {
        let when = at_time(at)?;
        let anchors = wallet.reader_trust()?;
        let (verified, origin, protocol) = match request {
            OnlineRequest::DigitalCredentials {
                protocol,
                data_json,
                origin,
            } => {
                let verified = dc_api_request(
                    protocol,
                    data_json.as_bytes(),
                    origin,
                    &anchors,
                    when,
                    &DefaultVerifier,
                )
                .map_err(request_error)?;
                (verified, Some(origin.clone()), Some(protocol.clone()))
            }
            OnlineRequest::Url { url } => {
                let verified = match parse_request_url(url).map_err(request_error)? {
                    RequestUrl::Unsigned(verified) => *verified,
                    RequestUrl::ByValue { client_id, request } => {
                        let context = RequestContext {
                            url_client_id: client_id,
                            ..RequestContext::default()
                        };
                        verify_request_object(&request, &anchors, when, &DefaultVerifier, &context)
                            .map_err(request_error)?
                    }
                    RequestUrl::ByReference { request_uri, .. } => {
                        return Err(WalletError::Unsupported {
                            reason: format!(
                                "request_uri {request_uri}: fetch the request object and pass \
                                 it by value"
                            ),
                        })
                    }
                };
                (verified, None, None)
            }
        };
        Self::matched(wallet, verified, origin, protocol, at)
    }

    fn matched(
        wallet: &Wallet,
        verified: VerifiedRequest,
        origin: Option<String>,
        protocol: Option<String>,
        at: i64,
    ) -> Result<(Self, OnlineConsentRequest, BTreeMap<String, Offered>)> {
        let request = &verified.request;
        let query_bytes = serde_json::to_vec(&request.dcql_query)
            .map_err(|e| WalletError::internal(e.to_string()))?;
        let query = DcqlQuery::parse(&query_bytes).map_err(|e| WalletError::Protocol {
            reason: format!("DCQL query refused: {e}"),
        })?;
        let store = wallet.store();
        let mut candidates = Vec::new();
        for id in store.ids()? {
            if let Some(c) = candidate(wallet, &store.load(&id)?, at)? {
                candidates.push(c);
            }
        }
        let matched = query.evaluate(&candidates);
        let (credentials, offered) = consent_items(&query, &matched, &candidates);
        let handover = handover(request, origin.as_deref()).map_err(|e| WalletError::Protocol {
            reason: format!("OpenID4VP request refused: {e}"),
        })?;
        let target = match protocol {
            Some(protocol) => Target::DcApi { protocol },
            None => Target::Post {
                url: request.response_target().unwrap_or_default().to_owned(),
            },
        };
        let leaf = verified.verifier.as_ref().and_then(|v| v.chain.first());
        let consent = OnlineConsentRequest {
            verifier: VerifierIdentity {
                client_id: request.client_id.clone(),
                origin,
                auth: if verified.verifier.is_some() {
                    ReaderAuthStatus::Verified
                } else {
                    ReaderAuthStatus::Absent
                },
                subject: verified.verifier.as_ref().map(|v| v.subject.clone()),
                certificate: leaf.map(|c| c.der().to_vec()),
            },
            credentials,
            satisfiable: matched.satisfiable,
        };
        Ok((
            OpenId4Vp {
                request: verified.request.clone(),
                target,
                transcript: SessionTranscript::online(&handover),
            },
            consent,
            offered,
        ))
    }

    /// The answer carrying one DeviceResponse per credential query.
    pub(crate) fn answer(&self, responses: Vec<(String, Vec<u8>)>) -> Result<OnlineAnswer> {
        let mut vp_token = VpToken::new();
        for (id, bytes) in responses {
            vp_token.push(id, bytes);
        }
        let params = ResponseParams {
            vp_token,
            state: self.request.state.clone(),
        };
        let jwe = if self.request.response_mode.is_encrypted() {
            Some(
                encrypt_response(&self.request, &params).map_err(|e| WalletError::Crypto {
                    reason: format!("encrypting the response: {e}"),
                })?,
            )
        } else {
            None
        };
        let body = match (self.request.response_mode, &jwe) {
            (ResponseMode::DirectPost, _) => direct_post_body(&params),
            (ResponseMode::DcApi, _) => dc_api_response(&params.vp_token).to_string(),
            (ResponseMode::DirectPostJwt, Some(jwe)) => direct_post_jwt_body(jwe),
            (ResponseMode::DcApiJwt, Some(jwe)) => dc_api_jwt_response(jwe).to_string(),
            (_, None) => {
                return Err(WalletError::internal(
                    "an encrypted mode without an encryption key",
                ))
            }
        };
        Ok(self.send(body))
    }

    fn send(&self, body: String) -> OnlineAnswer {
        match &self.target {
            Target::Post { url } => OnlineAnswer::Post {
                url: url.clone(),
                content_type: "application/x-www-form-urlencoded".into(),
                body,
            },
            Target::DcApi { protocol } => OnlineAnswer::DigitalCredentials {
                protocol: protocol.clone(),
                data_json: body,
            },
        }
    }

    /// The `access_denied` error response for the `direct_post` modes (over the Digital
    /// Credentials API the platform reports the refusal).
    pub(crate) fn decline(&self) -> Result<Option<OnlineAnswer>> {
        if self.request.response_mode.is_dc_api() {
            return Ok(None);
        }
        let error = ErrorResponse {
            error: "access_denied".into(),
            description: None,
            state: self.request.state.clone(),
        };
        Ok(Some(self.send(error_body(&error, false))))
    }
}

/// The consent items and what may be disclosed per credential query.
fn consent_items(
    query: &DcqlQuery,
    matched: &Match,
    candidates: &[Candidate],
) -> (Vec<RequestedCredential>, BTreeMap<String, Offered>) {
    let required = |id: &str| -> bool {
        match &query.credential_sets {
            None => true,
            Some(sets) => sets
                .iter()
                .any(|s| s.required && s.options.iter().all(|o| o.iter().any(|q| q == id))),
        }
    };
    let mut credentials = Vec::new();
    let mut offered = BTreeMap::new();
    for (q, m) in query.credentials.iter().zip(&matched.queries) {
        let doc_type = q.meta.doctype_value.clone().unwrap_or_default();
        let best = m.candidates.first();
        let elements: Vec<RequestedElement> = match best {
            Some(c) => c
                .disclose
                .iter()
                .map(|d| RequestedElement {
                    namespace: d.namespace.clone(),
                    identifier: d.element.clone(),
                    intent_to_retain: d.intent_to_retain,
                    available: true,
                })
                .collect(),
            None => q
                .claims
                .iter()
                .flatten()
                .filter_map(|c| c.mdoc_path())
                .map(|(ns, el)| RequestedElement {
                    namespace: ns.to_owned(),
                    identifier: el.to_owned(),
                    intent_to_retain: false,
                    available: candidates
                        .iter()
                        .filter(|c| c.doctype == doc_type)
                        .any(|c| {
                            c.elements
                                .iter()
                                .any(|e| e.namespace == ns && e.element == el)
                        }),
                })
                .collect(),
        };
        offered.insert(
            q.id.clone(),
            Offered {
                doc_type: doc_type.clone(),
                credential_id: best.map(|c| c.handle.clone()),
                elements: best
                    .map(|c| {
                        c.disclose
                            .iter()
                            .map(|d| (d.namespace.clone(), d.element.clone()))
                            .collect()
                    })
                    .unwrap_or_else(BTreeSet::new),
            },
        );
        credentials.push(RequestedCredential {
            query_id: q.id.clone(),
            doc_type,
            credential_id: best.map(|c| c.handle.clone()),
            elements,
            required: required(&q.id),
            unsatisfiable: m.unsatisfiable.as_ref().map(|u| format!("{u:?}")),
        });
    }
    (credentials, offered)
}
