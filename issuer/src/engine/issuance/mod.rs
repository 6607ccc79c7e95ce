//! Issuing and refreshing documents.
//!
//! Order of work, so that a refused request changes nothing and costs little: schema validation
//! → nonce → device keys and proofs → nonce/key pre-check → DS choice → status indices →
//! signing → audit → one transaction (document, MSOs, device keys, nonce, idempotency record).
//! A refusal is first checked against the idempotency record: a retry of a request that
//! succeeded gets the earlier answer, rebuilt by `replay`.
//!
//! This file holds only the types the steps share (with their small methods); every step
//! imports from here, never the other way round:
//! - `issue`: the order of work above, for issue and refresh, and the transaction;
//! - `checks`: claims against the doc type, device keys and their proofs, the applicant
//!   reference;
//! - `indices`: status-list index allocation;
//! - `msos`: validity, building, signing and describing the MSOs;
//! - `replay`: rebuilding the answer to a retried request from its stored replay record;
//! - `sealing`: encryption of the stored replay records.

pub(crate) mod checks;
mod indices;
mod issue;
mod msos;
mod replay;
mod sealing;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::store::OutcomeKind;

/// A reserved run of status-list indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexBlock {
    list: u64,
    next: u64,
    end: u64,
}

/// One device key and its proof of possession.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeyInput {
    /// The key as base64url of a COSE_Key.
    #[serde(default)]
    pub cose_key: Option<String>,
    /// The key as a public JWK.
    #[serde(default)]
    pub jwk: Option<Json>,
    /// An `openid4vci-proof+jwt` signed by the key over the nonce. When neither `cose_key`
    /// nor `jwk` is given, its `jwk` header is the key.
    pub proof: String,
}

/// `POST /v1/documents`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The doc type, e.g. `org.iso.18013.5.1.mDL`.
    pub doctype: String,
    /// `{namespace: {element: value}}`, checked against the doc type's schema.
    pub claims: Json,
    /// A nonce from `POST /v1/nonces`.
    pub nonce: String,
    /// One entry per MSO to issue (a batch gives independent salts per MSO).
    pub device_keys: Vec<DeviceKeyInput>,
}

/// `POST /v1/documents/{id}/refresh`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The same claims the document was issued with.
    pub claims: Json,
    /// A nonce from `POST /v1/nonces`.
    pub nonce: String,
    /// One entry per new MSO.
    pub device_keys: Vec<DeviceKeyInput>,
}

/// Where an MSO's status is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOut {
    /// The list's URI.
    pub uri: String,
    /// Index in the status list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idx: Option<u64>,
    /// Identifier in the identifier list (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
}

/// One signed MSO with its namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// base64url (no padding) of the CBOR IssuerSigned.
    pub issuer_signed: String,
    /// Serial of the DS certificate that signed it.
    pub ds_serial: String,
    /// validFrom (RFC 3339).
    pub valid_from: String,
    /// validUntil (RFC 3339).
    pub valid_until: String,
    /// expectedUpdate (RFC 3339), when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_update: Option<String>,
    /// The MSO's status-list entry.
    pub status_list: StatusOut,
    /// The MSO's identifier-list entry.
    pub identifier_list: StatusOut,
}

/// The body of a successful issuance or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueResponse {
    /// The document id (32 hex digits).
    pub document_id: String,
    /// The doc type.
    pub doctype: String,
    /// One credential per device key, in request order.
    pub credentials: Vec<Credential>,
}

/// What an issuance or refresh did, with its answer as data: the API layer alone turns it
/// into an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new document was issued.
    Issued(IssueResponse),
    /// An existing document got new MSOs.
    Refreshed(IssueResponse),
    /// A retry of a request already recorded under its idempotency key: nothing new was
    /// signed, and the answer is the earlier one, rebuilt byte for byte.
    Replayed {
        /// What the earlier request did.
        original: OutcomeKind,
        /// Its answer.
        response: IssueResponse,
    },
}

impl IssueOutcome {
    /// The outcome of a first attempt that did `kind`.
    fn first(kind: OutcomeKind, response: IssueResponse) -> Self {
        match kind {
            OutcomeKind::Issued => IssueOutcome::Issued(response),
            OutcomeKind::Refreshed => IssueOutcome::Refreshed(response),
        }
    }
}

/// The parts of a request a replay rebuilds its answer from.
#[derive(Debug, Clone, Copy)]
struct Inputs<'a> {
    /// What the request asks for: a retry of it may only be answered with an earlier outcome
    /// of the same kind.
    kind: OutcomeKind,
    claims: &'a Json,
    device_keys: &'a [DeviceKeyInput],
}

/// Who asks, and the exact request (for idempotency).
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The authenticated API client's id.
    pub client_id: &'a str,
    /// Whether that client has the `admin` scope, so may act on documents other clients
    /// issued.
    pub admin: bool,
    /// The client's idempotency key, if it gave one: a retry under the same key gets the
    /// same answer.
    pub idempotency_key: Option<&'a str>,
    /// The operation and its target as the caller names them (the API passes method and path,
    /// e.g. `POST /v1/documents`): part of what makes two requests the same request, and of the
    /// key that seals its replay record, so it must stay stable.
    pub route: &'a str,
    /// The raw request body.
    pub body: &'a [u8],
    /// The time of the request.
    pub now: OffsetDateTime,
}

impl RequestContext<'_> {
    /// SHA-256 of the route and the body: what makes two requests the same request.
    fn request_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.route.as_bytes());
        h.update([0]);
        h.update(self.body);
        h.finalize().into()
    }
}
