//! The issuing engine: everything the API layer calls, independent of HTTP.
//!
//! It owns the store, the doc-type registry, the DS keys and certificates, the nonce key, the
//! audit writer, the metrics and the list publisher. Signing uses the newest usable DS
//! ([`DsInventory::signing_ds`](crate::ds::DsInventory::signing_ds)); the DS set is reloaded
//! from the store periodically, so a DS installed or revoked by another process or instance is
//! picked up.
//!
//! # Layout
//!
//! This file only declares the modules and re-exports their public items; no module imports
//! from it, and imports between the modules run one way (from the behaviour to the data):
//! - `issuer`: the [`Issuer`] itself, what it owns, [`Issuer::new`] and its accessors;
//! - `errors`: [`EngineError`]; `secrets`: [`ServerSecret`];
//! - `dsset`: the DS set (data); `ds_keys`: choosing the signing DS and reloading the set;
//! - `issuance`: issuing, refreshing and idempotent replay (see its own layout);
//! - `revocation`: revoking documents and DS certificates;
//! - `list_signer`: the key that signs the list tokens (a list signer, else the DS in use);
//! - `publish`: the signed Token Status List and Identifier List tokens and their cache.

mod crl_intake;
mod ds_keys;
mod dsset;
mod errors;
mod issuance;
mod issuer;
mod list_signer;
mod publish;
mod reconcile;
mod revocation;
mod secrets;
mod suspension;

pub use crl_intake::{CrlIntake, CrlIntakeError, CRL_INTAKE_ACTOR};
pub use dsset::SigningDs;
pub use errors::{EngineError, ErrorCode, FieldError};
pub(crate) use issuance::checks::PROOF_MAX_AGE;
pub use issuance::{
    Credential, DeviceKeyInput, IdentifierListEntry, IssueOutcome, IssueRequest, IssueResponse,
    RefreshRequest, RequestContext, StatusListEntry,
};
pub use issuer::{Issuer, Parts};
pub use publish::Published;
pub use reconcile::{Reconciled, HIGH_WATER, NOT_COMMITTED, RECOVERED};
pub use revocation::{reason_name, RevokeOutcome, ALREADY_REVOKED};
pub(crate) use secrets::{open_with, seal_with};
pub use secrets::{ServerSecret, MIN_SECRET_LEN};
pub use suspension::{MAX_REASON_CHARS, SUSPENSION_CACHE};

/// What an issuance or refresh did: kept with its idempotency record, carried by
/// [`IssueOutcome`].
pub use crate::store::OutcomeKind;
