//! Wallet SDK: the uniffi facade over [`mso`] for holder apps (Kotlin, Swift, Python).
//!
//! Rust does the protocols and the cryptography on bytes; the app supplies the platform
//! pieces through foreign traits:
//! - [`KeyStore`]: device keys in the Secure Enclave or Android Keystore (private keys never
//!   cross the boundary); [`SoftwareKeyStore`] for tests and platforms without one.
//!
//! Every call that takes bytes returns `Result<_, WalletError>`: decoding is bounded by
//! `mso`'s limits and the facade has no panicking path (the workspace lints deny `unwrap`,
//! `expect`, `panic` and indexing), so bad input reaches the app as a typed exception.

#![forbid(unsafe_code)]

uniffi::setup_scaffolding!();

mod error;
mod keystore;

pub use error::{Result, WalletError};
pub use keystore::{KeyStore, SoftwareKeyStore};
pub use mso;
