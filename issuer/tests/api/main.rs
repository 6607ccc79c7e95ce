//! HTTP integration tests of the issuer API, one binary split by topic (`mdoc-issuer`'s `/v1` routes and operational
//! endpoints), against a full [`DevStack`] on loopback: a dev IACA, a DS certificate it
//! issued, SQLite in a temporary directory (or PostgreSQL in a fresh schema), the audit log.
//!
//! Every refusal is checked for its status, its error code and the field path in `details`,
//! for the absence of any side effect (no document, MSO, device-key binding, consumed nonce,
//! idempotency record or status-list index), and for its `issuer.refusal` audit record. The
//! audit log must never contain personal data.
//!
//! Refusal tables collect every mismatch and fail once at the end with the full list, so one
//! run shows every deviation rather than the first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use custody::softstore::KdfParams;
use devstack::sample::{self, MDL, MDL_NS};
use devstack::{DevStack, StackOptions};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::device_key::to_jwk;
use mdoc_issuer::engine::{Credential, IssueResponse, ServerSecret};
use mdoc_issuer::pop::{make_proof, Nonces};
use mdoc_issuer::store::{DocumentId, DocumentState, RevocationReason, Scope};
use mso::cbor::{encode_value, from_slice, Limits, Value as Cbor};
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::IssuerSigned;
use mso::status::{cose_key_thumbprint, IdentifierListToken, StatusListToken};
use mso::verify::{verify_issuer_signed, CheckKind, IssuerTrust, VerifyOptions};
use mso::x509::TrustAnchors;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// PostgreSQL server for the PostgreSQL half (`ISSUER_TEST_POSTGRES_URL` overrides it).
pub(crate) const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Every route of `mdoc_issuer::api::router`, as the OpenAPI document must list them.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/nonces"),
    ("post", "/v1/documents"),
    ("get", "/v1/documents/{id}"),
    ("post", "/v1/documents/{id}/refresh"),
    ("post", "/v1/documents/{id}/revoke"),
    ("post", "/v1/ds/{serial}/revoke"),
    ("get", "/v1/admin/issuance"),
    ("post", "/v1/admin/issuance/suspend"),
    ("post", "/v1/admin/issuance/resume"),
    ("get", "/v1/status-lists/{n}"),
    ("get", "/v1/identifier-list"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// Every top-level error code the service can answer with (engine/errors.rs and api/*.rs).
pub(crate) const ERROR_CODES: &[&str] = &[
    "malformed_request",
    "validation_failed",
    "unknown_doctype",
    "invalid_device_key",
    "invalid_proof",
    "invalid_nonce",
    "device_key_in_use",
    "not_found",
    "document_revoked",
    "applicant_mismatch",
    "idempotency_conflict",
    "no_signing_key",
    "issuance_suspended",
    "audit_unavailable",
    "storage_unavailable",
    "internal_error",
    "unauthorized",
    "insufficient_scope",
    "rate_limited",
    "body_too_large",
    "unsupported_media_type",
    "method_not_allowed",
];

/// Personal data of the sample applicant that must never reach the audit log.
pub(crate) const PERSONAL: &[&str] = &["Jansen", "Eva Maria", "DEV0012345", "1990-02-28"];

mod audit_tamper;
mod auth;
mod claims;
mod crash;
mod device_keys;
mod ds_revocation;
mod issuance;
mod malformed;
mod nonces;
mod oid4vci;
mod oid4vci_authcode;
mod operations;
mod stack;
mod status_lists;
mod suspension;
mod wallet;

#[allow(unused_imports)]
use auth::*;
#[allow(unused_imports)]
use claims::*;
#[allow(unused_imports)]
use device_keys::*;
#[allow(unused_imports)]
use ds_revocation::*;
#[allow(unused_imports)]
use issuance::*;
#[allow(unused_imports)]
use malformed::*;
#[allow(unused_imports)]
use nonces::*;
#[allow(unused_imports)]
use operations::*;
#[allow(unused_imports)]
use stack::*;
#[allow(unused_imports)]
use status_lists::*;
#[allow(unused_imports)]
use wallet::*;
