//! OpenID for Verifiable Credential Issuance 1.0 (final, 2025-09) for `mso_mdoc`: the portal
//! turns an identified applicant into a credential offer; a wallet redeems it over the
//! pre-authorized code flow, or obtains an authorization code over the HAIP 1.0
//! authorization-code flow (PAR, PKCE S256, DPoP, wallet attestation) in which the portal
//! authenticates the user (the hand-off is described in `authorization`), and obtains its
//! document from the same issuing engine as `/v1` (same storage, idempotency, status and
//! identifier lists, audit and metrics).
//!
//! # The portal hand-off, in short
//!
//! `GET /oid4vci/authorize` (a pushed request) → 302 to `oid4vci.portal_login_url?session=…&
//! doctype=…` → the portal authenticates the user, then `POST /v1/authorizations/{session}`
//! (scope `issue`) with `{"claims": {…}}` or `{"error": "access_denied"}` → the issuer answers
//! `{"redirect_to": "<redirect_uri>?code=…&state=…&iss=…"}` → the portal sends the browser
//! there → the wallet redeems the code at the token endpoint. A portal offer with
//! `"grants": ["authorization_code"]` carries an `issuer_state`; a pushed request with it is
//! bound to that offer's record, and the portal's call back may omit `claims`.
//!
//! # Layout
//!
//! This file only declares the modules and re-exports their public items:
//! - `service`: [`Vci`], what the service holds;
//! - `error`: [`VciError`], the error codes the specifications name;
//! - `metadata`: the endpoints' paths and the metadata documents;
//! - `offers`: offers made by the portal, and served by reference;
//! - `token`: the token endpoint and access-token checks;
//! - `details`: `authorization_details` of type `openid_credential`, as asked for and as
//!   granted with a credential identifier;
//! - `authorization`: pushed authorization requests, the authorization endpoint, the portal
//!   hand-off and the authorization-code checks;
//! - `attest`: the wallet-attestation and key-attestation policies; `providers`: the wallet
//!   providers they chain to;
//! - `credential`: the nonce, credential, deferred and notification endpoints.

mod attest;
mod authorization;
mod credential;
mod details;
mod error;
mod metadata;
mod offers;
mod providers;
mod service;
mod token;

pub use attest::ClientAuth;
pub use authorization::{HandoffAnswer, HandoffRequest, PushedRequest, AUTHORIZATION_CODE_TTL};
pub use credential::{CredentialAnswer, NOTIFICATION_EVENTS};
pub use details::{DetailsType, GrantedCredential, OPENID_CREDENTIAL};
pub use error::VciError;
pub use metadata::{
    authorization_server_metadata, issuer_metadata, AS_METADATA_PATH, AS_METADATA_SUFFIXED_PATH,
    AUTHORIZATIONS_PATH, AUTHORIZATION_CODE_GRANT, AUTHORIZE_PATH, CREDENTIAL_PATH, DEFERRED_PATH,
    ISSUER_METADATA_PATH, ISSUER_METADATA_SUFFIXED_PATH, NONCE_PATH, NOTIFICATION_PATH,
    OFFERS_PATH, OFFER_BY_REFERENCE_PATH, PAR_PATH, PRE_AUTHORIZED_GRANT, REQUEST_URI_PREFIX,
    TOKEN_PATH,
};
pub use offers::{OfferClaims, OfferCreated, OfferRequest, OfferView, TxCodeRequest};
pub use service::Vci;
pub use token::{Presented, TokenResponse};
