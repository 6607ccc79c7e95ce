//! Online presentation, the relying party's side: OpenID4VP 1.0 requests with a DCQL query
//! (`direct_post`, `direct_post.jwt`, `dc_api`, `dc_api.jwt`; unsigned, or signed request
//! objects for the `x509_san_dns:` and `x509_hash:` client identifier prefixes) and ISO
//! 18013-7 Annex C requests, and the verification of their responses ([`OnlineVerifier`]).
//!
//! The protocol rules live below the facade: DCQL and the OpenID4VP messages in
//! `mdoc-oid4vp`, JWE in `mdoc-jose`, HPKE, the Annex C envelope and every SessionTranscript
//! in `mso`.

mod annex_c;
mod config;
mod message;
mod oid4vp;
mod origin;
mod query;
mod report;
mod verifier;

pub use annex_c::{ANNEX_C_PROTOCOL, MAX_ANNEX_C_RESPONSE_LEN};
pub use config::{
    AnnexCRequestConfig, ClaimQuery, ClaimValue, CredentialQuery, CredentialSet,
    OpenId4VpRequestConfig, RequestSigner, ResponseEncryption, ResponseMode,
};
pub use message::VerifierRequest;
pub use origin::MAX_ORIGIN_LEN;
pub use report::{
    ClaimRef, OnlineVerificationReport, QueryOutcome, QueryPresentation, ResponseFinding,
    ResponseRefusal,
};
pub use verifier::OnlineVerifier;
