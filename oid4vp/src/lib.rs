//! OpenID for Verifiable Presentations 1.0 for `mso_mdoc`, shared by the verifier SDK (which
//! asks) and the wallet SDK (which answers): DCQL ([`dcql`]), authorization requests and signed
//! request objects with their client identifier prefixes ([`request`]), and responses
//! ([`response`]). Pure: no I/O; the SDKs are facades over it.
#![forbid(unsafe_code)]

pub mod dcql;
pub mod request;
pub mod response;
