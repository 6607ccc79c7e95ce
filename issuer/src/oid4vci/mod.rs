//! OpenID for Verifiable Credential Issuance 1.0 (final, 2025-09) for `mso_mdoc`: the portal
//! turns an identified applicant into a credential offer; a wallet redeems it over the
//! pre-authorized code flow and obtains its document from the same issuing engine as `/v1`
//! (same storage, idempotency, status and identifier lists, audit and metrics).
//!
//! # Layout
//!
//! This file only declares the modules and re-exports their public items:
//! - `service`: [`Vci`], what the service holds;
//! - `error`: [`VciError`], the error codes the specifications name;
//! - `metadata`: the endpoints' paths and the metadata documents;
//! - `offers`: offers made by the portal, and served by reference;
//! - `token`: the token endpoint and access-token checks;
//! - `credential`: the nonce, credential, deferred and notification endpoints.

mod credential;
mod error;
mod metadata;
mod offers;
mod service;
mod token;

pub use credential::{CredentialAnswer, NOTIFICATION_EVENTS};
pub use error::VciError;
pub use metadata::{
    authorization_server_metadata, issuer_metadata, AS_METADATA_PATH, AS_METADATA_SUFFIXED_PATH,
    CREDENTIAL_PATH, DEFERRED_PATH, ISSUER_METADATA_PATH, ISSUER_METADATA_SUFFIXED_PATH,
    NONCE_PATH, NOTIFICATION_PATH, OFFERS_PATH, OFFER_BY_REFERENCE_PATH, PRE_AUTHORIZED_GRANT,
    TOKEN_PATH,
};
pub use offers::{OfferClaims, OfferCreated, OfferRequest, OfferView, TxCodeRequest};
pub use service::Vci;
pub use token::{Presented, TokenResponse};
