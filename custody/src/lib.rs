//! Key custody and the audit trail, shared by `mdoc-ca` (offline root) and `mdoc-issuer` (DS
//! keys).
//!
//! - [`uri`]: keys are named by URI (`pkcs11:token=…;object=…` per RFC 7512, `file:…`);
//! - [`pkcs11`]: keys generated inside a PKCS#11 token (an HSM; SoftHSM2 in tests), never
//!   exported, used through [`mso::crypto::Signer`];
//! - [`softstore`]: an encrypted software keystore for development and tests only;
//! - [`quorum`]: M-of-N activation: the token PIN or keystore secret is split with Shamir
//!   secret sharing into shares sealed under each custodian's passphrase;
//! - [`audit`]: the append-only, hash-chained audit log with signed checkpoints;
//! - [`timestamp`]: RFC 3161 time-stamp tokens, and the audit log's checkpoints anchored by
//!   them;
//! - [`operator`]: what the operator tools share: owner-only files, quiet ends on a closed
//!   standard output.

#![forbid(unsafe_code)]

pub mod audit;
mod error;
pub mod operator;
pub mod pkcs11;
pub mod quorum;
pub mod softstore;
pub mod timestamp;
pub mod uri;

pub use error::{Error, Result};
