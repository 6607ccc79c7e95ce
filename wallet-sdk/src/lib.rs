//! Wallet SDK: the uniffi facade over [`mso`] for holder apps (Kotlin, Swift, Python).
//!
//! Rust does the protocols and the cryptography on bytes; the app supplies the platform
//! pieces through foreign traits:
//! - [`KeyStore`]: device keys in the Secure Enclave or Android Keystore (private keys never
//!   cross the boundary); [`SoftwareKeyStore`] for tests and platforms without one.
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

mod error;
mod http;
mod json;
mod keystore;
mod oid4vci;

pub use error::{Result, WalletError};
pub use http::{HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse, MAX_URL_LEN};
pub use json::MAX_JSON_DEPTH;
pub use keystore::{KeyStore, SoftwareKeyStore};
pub use mso;
pub use oid4vci::*;
