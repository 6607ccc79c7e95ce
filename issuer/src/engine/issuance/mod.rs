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
use utoipa::ToSchema;

use crate::store::OutcomeKind;

/// A reserved run of status-list indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexBlock {
    list: u64,
    next: u64,
    end: u64,
}

/// A device key and its proof of possession. Give the key as `cose_key` or `jwk` (not both),
/// or leave both out and put it in the proof's `jwk` header. Private key members are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeyInput {
    /// base64url of a COSE_Key (EC2 P-256/P-384/P-521 or OKP Ed25519), at most 512 bytes, on the
    /// curve, without `d`. Problems: 422 `invalid_device_key`, path `device_keys/<i>/cose_key`.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]+$", content_encoding = "base64url")]
    pub cose_key: Option<String>,
    /// A public JWK (RFC 7517): `{"kty": "EC", "crv": "P-256"|"P-384"|"P-521", "x", "y"}` or
    /// `{"kty": "OKP", "crv": "Ed25519", "x"}`, coordinates base64url, no `d`. Problems: 422
    /// `invalid_device_key`, path `device_keys/<i>/jwk`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub jwk: Option<Json>,
    /// Compact JWS, header `typ: openid4vci-proof+jwt`, `alg` matching the key (ES256, ES384,
    /// ES512, EdDSA), no `x5c`/`kid`/`crit`; claims `aud` = this issuer's public URL, `nonce` =
    /// the request's nonce, `iat` within the last 10 minutes. When neither `cose_key` nor `jwk`
    /// is given, its `jwk` header is the key. Problems: 422 `invalid_proof`, path
    /// `device_keys/<i>/proof`.
    #[schema(max_length = 8192)]
    pub proof: String,
}

/// The body of `POST /v1/documents`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "doctype": "org.iso.18013.5.1.mDL",
    "claims": {"org.iso.18013.5.1": {
        "family_name": "Doe",
        "given_name": "Jane",
        "birth_date": "1990-02-28",
        "issue_date": "2026-01-15",
        "expiry_date": "2036-01-14",
        "issuing_country": "NL",
        "issuing_authority": "Test Authority",
        "document_number": "X0012345",
        "portrait": "_9j_4AAQSkZJRgBCQkJC_9k",
        "driving_privileges": [{
            "vehicle_category_code": "B",
            "issue_date": "2008-05-01",
            "expiry_date": "2036-01-14"
        }],
        "un_distinguishing_sign": "NL",
        "age_over_18": true
    }},
    "nonce": "p3hY2u0b7cTq8W1fI4mZ5A",
    "device_keys": [{"proof": "eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7fX0.e30.c2ln"}]
})))]
pub struct IssueRequest {
    /// A configured doc type, e.g. `org.iso.18013.5.1.mDL`; others are 422 `unknown_doctype`.
    #[schema(examples("org.iso.18013.5.1.mDL"))]
    pub doctype: String,
    /// `{namespace: {element identifier: value}}`, validated against the doc type's schema;
    /// every problem is reported (422 `validation_failed`, one `details` entry each, path
    /// `claims/<namespace>/<element>[/...]`). JSON encodings: `tstr` as string, `uint`/`int`
    /// as integer, `bool`, `full-date` as `YYYY-MM-DD`, `tdate` as RFC 3339, `bstr` (portrait)
    /// as base64url. `issuing_country` / `issuing_jurisdiction` must equal the DS
    /// certificate's C / ST (`ds_mismatch`).
    #[schema(value_type = HashMap<String, Object>)]
    pub claims: Json,
    /// A nonce from `POST /v1/nonces`, unexpired and never used before; otherwise 422
    /// `invalid_nonce`.
    pub nonce: String,
    /// One entry per MSO to issue, at most `issuance.max_batch` (default 20); each MSO gets its
    /// own salts, status-list index and identifier. The same key twice, or a key already bound
    /// to another document, is refused.
    #[schema(min_items = 1)]
    pub device_keys: Vec<DeviceKeyInput>,
}

/// The body of `POST /v1/documents/{id}/refresh`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The same applicant data the document was issued with (compared through a keyed hash);
    /// different data is 409 `applicant_mismatch`.
    #[schema(value_type = HashMap<String, Object>)]
    pub claims: Json,
    /// A fresh nonce from `POST /v1/nonces`.
    pub nonce: String,
    /// One entry per new MSO. The document's own device keys may be used again.
    #[schema(min_items = 1)]
    pub device_keys: Vec<DeviceKeyInput>,
}

/// The MSO's `status.status_list`: its index in the Token Status List at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusListEntry {
    /// The list's URI.
    #[schema(format = "uri")]
    pub uri: String,
    /// Index in the status list.
    pub idx: u64,
}

/// The MSO's `status.identifier_list`: its identifier (the RFC 9679 COSE Key thumbprint of the
/// device key, base64url) in the Identifier List at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierListEntry {
    /// The list's URI.
    #[schema(format = "uri")]
    pub uri: String,
    /// Identifier in the identifier list (base64url).
    #[schema(pattern = "^[A-Za-z0-9_-]+$", content_encoding = "base64url")]
    pub id: String,
}

/// One signed MSO with its namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// base64url (no padding) of the CBOR IssuerSigned (the OpenID4VCI `mso_mdoc` credential).
    #[schema(pattern = "^[A-Za-z0-9_-]+$", content_encoding = "base64url")]
    pub issuer_signed: String,
    /// Serial of the DS certificate that signed the MSO (lowercase hex).
    #[schema(pattern = "^[0-9a-f]+$")]
    pub ds_serial: String,
    /// validFrom (RFC 3339).
    #[schema(format = DateTime)]
    pub valid_from: String,
    /// validUntil (RFC 3339).
    #[schema(format = DateTime)]
    pub valid_until: String,
    /// expectedUpdate (RFC 3339), present when the doc type's validity policy sets one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(format = DateTime, nullable = false)]
    pub expected_update: Option<String>,
    /// The MSO's status-list entry.
    pub status_list: StatusListEntry,
    /// The MSO's identifier-list entry.
    pub identifier_list: IdentifierListEntry,
}

/// The body of a successful issuance or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueResponse {
    /// The document id (32 hex digits).
    #[schema(pattern = "^[0-9a-f]{32}$")]
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
    /// The OpenID4VCI offer a new document redeems, closed in the issuance's own transaction
    /// (`None` for `/v1`).
    pub offer: Option<&'a crate::store::OfferIssued>,
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
