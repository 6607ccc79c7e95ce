//! Wallet SDK: the uniffi facade over [`mso`] for holder apps (Kotlin, Swift, Python).
//!
//! Rust does the protocols and the cryptography on bytes; the app supplies the platform
//! pieces through foreign traits:
//! - [`KeyStore`]: device keys in the Secure Enclave or Android Keystore (private keys never
//!   cross the boundary); [`SoftwareKeyStore`] for tests and platforms without one.
//! - [`Storage`]: where the wallet's records live; [`FileStorage`] for a directory.
//!
//! [`Wallet`] holds them with the issuer trust store (the verifier SDK's `TrustStore`, a
//! uniffi external type: one library carries both SDKs) and the reader trust anchors:
//! - receiving: [`Wallet::new_device_keys`], then [`Wallet::accept_credentials`] stores a
//!   batch only if every credential verifies and is bound to its device key
//!   ([`WalletError::CredentialRefused`] with a [`RefusalReason`] otherwise);
//!   [`Wallet::receive_issued`] does so for an [`Oid4vciClient`] issuance and notifies the
//!   issuer of the outcome;
//! - holding: [`Wallet::credentials`], [`Wallet::credential_health`] (refresh when the batch
//!   runs low or the MSOs near their end, per [`WalletPolicy`]), [`Wallet::delete_credential`];
//! - presenting in person (ISO 18013-5): [`Wallet::start_presentation`] gives a
//!   [`PresentationSession`]: the QR engagement, the reader's request as a
//!   [`ConsentRequest`], the encrypted response from only the approved elements.
//! - [`HttpClient`]: the app's HTTP stack; the SDK enforces `https`, no redirects and bounded
//!   answers around it.
//!
//! [`Oid4vciClient`] obtains `mso_mdoc` credentials from any OpenID4VCI 1.0 issuer (offers,
//! metadata, pre-authorized and authorization-code flows with DPoP, batch key proofs,
//! deferred issuance, notifications).
//!
//! Every call that takes bytes returns `Result<_, WalletError>`: decoding is bounded by
//! `mso`'s limits and the facade has no panicking path (the workspace lints deny `unwrap`,
//! `expect`, `panic` and indexing), so bad input reaches the app as a typed exception.

#![forbid(unsafe_code)]

uniffi::setup_scaffolding!();

mod consent;
mod credentials;
mod disclose;
mod error;
mod http;
mod json;
mod keystore;
mod obtain;
mod oid4vci;
mod online;
mod proximity;
mod receive;
mod storage;
mod wallet;

pub use consent::{
    ApprovedDocument, ApprovedElement, ConsentRequest, ReaderAuthStatus, ReaderIdentity,
    RequestedDocument, RequestedElement,
};
pub use credentials::{
    default_wallet_policy, CredentialHealth, CredentialSummary, MsoInfo, WalletPolicy,
    CREDENTIAL_FORMAT, MAX_BATCH, MAX_RECORD_LEN,
};
pub use error::{RefusalReason, Result, WalletError};
pub use http::{HttpClient, HttpHeader, HttpMethod, HttpRequest, WalletHttpResponse, MAX_URL_LEN};
pub use json::MAX_JSON_DEPTH;
pub use keystore::{software_key_store, DeviceSigner, KeyStore, SoftwareKeyStore};
pub use oid4vci::*;
pub use online::*;
pub use proximity::{PresentationSession, MAX_DOC_REQUESTS};
pub use receive::IssuedCredential;
pub use storage::{file_storage, FileStorage, Storage, MAX_KEY_LEN, MAX_VALUE_LEN};
pub use wallet::{Wallet, MAX_NEW_KEYS};

pub use mso;
pub use verifier_sdk;
