//! Online presentation, the wallet's side: OpenID4VP 1.0 requests (by URL or through the
//! Digital Credentials API; unsigned, or signed request objects whose verifier certificate is
//! checked against the verifier trust anchors), their DCQL query evaluated against the stored
//! credentials, and ISO 18013-7 Annex C requests. [`OnlinePresentation`] hands the app an
//! [`OnlineConsentRequest`] and returns the [`OnlineAnswer`] to post or hand to the browser.
//!
//! The protocol rules live below the facade: DCQL and the OpenID4VP messages in
//! `mdoc-oid4vp`, JWE in `mdoc-jose`, HPKE, the Annex C envelope and every SessionTranscript
//! in `mso`.

mod annex_c;
mod fetch;
mod offered;
mod oid4vp;
mod pending;
mod types;

pub use pending::OnlinePresentation;
pub use types::{
    OnlineAnswer, OnlineApproval, OnlineConsentRequest, OnlineRequest, RequestedCredential,
    VerifierIdentity,
};
