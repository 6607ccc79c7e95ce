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
mod oid4vci_identifiers;
mod openapi;
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
use openapi::*;
#[allow(unused_imports)]
use operations::*;
#[allow(unused_imports)]
use stack::*;
#[allow(unused_imports)]
use status_lists::*;
#[allow(unused_imports)]
use wallet::*;
