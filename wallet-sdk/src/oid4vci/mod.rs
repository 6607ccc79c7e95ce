//! The OpenID4VCI 1.0 client: any conformant issuer's `mso_mdoc` credentials, obtained over
//! the pre-authorized code flow (with transaction code) or the authorization-code flow (PAR,
//! PKCE S256, `state`, RFC 9207 `iss`), DPoP-bound (RFC 9449), with key proofs for a batch,
//! deferred issuance and notifications. [`Oid4vciClient`] holds one issuance's state; HTTP
//! goes through the app's [`crate::HttpClient`], keys through its [`crate::KeyStore`].

mod attestation;
mod authorization;
mod client;
mod dpop;
mod exchange;
mod issuance;
mod jws;
mod metadata;
mod notification;
mod offer;
mod token;

pub use attestation::ClientAttestation;
pub use client::{
    default_oid4vci_options, Issuance, IssuedCredentials, OfferInfo, Oid4vciClient, Oid4vciOptions,
    PreAuthorizedInfo,
};
pub use exchange::{
    DEFAULT_MAX_CREDENTIAL_BYTES, DEFAULT_MAX_METADATA_BYTES, DEFAULT_MAX_TOKEN_BYTES,
};
pub use metadata::{ClaimInfo, CredentialConfigurationInfo, LocalizedName, MAX_CONFIGURATIONS};
pub use notification::NotificationEvent;
pub use offer::{TxCodeInfo, TxCodeInputMode, MAX_OFFERED_CONFIGURATIONS, MAX_OFFER_LEN};
