//! RFC 3161 time-stamping (seed 004: the TSA accreditation criteria): requests, verification
//! of responses and tokens against trusted TSA roots, and the anchoring of the audit log.
//!
//! - [`request`]: a TimeStampReq for a SHA-256 digest (random nonce, certReq);
//! - [`token`]: [`verify_response`] / [`verify_token`] — the three checks seed 004 names: the
//!   imprint, the TSA's signature (with its signed attributes), the TSA certificate's path to a
//!   trusted root at genTime (with its time-stamping purpose);
//! - [`anchor`]: checkpoints of the audit log time-stamped, the token kept in the log, and
//!   [`anchor::verify_log`].
//!
//! Getting a token is the caller's: the issuer POSTs the request to its TSA over HTTP (RFC 3161
//! §3.4) without holding up its audit writer; the offline CA writes the request to a file and
//! records the reply an operator brings back. Both end in [`anchor::record_response`].
//!
//! Not checked: revocation of the TSA certificate (seed 004 §18.2 asks for it at genTime; no
//! CRL or OCSP source is configured, so an operator must withdraw a compromised TSA root from
//! the trust anchors). Supported signatures are those of the workspace's PKI layer
//! ([`mso::x509`]): ECDSA P-256/P-384/P-521 with SHA-2, Ed25519; an RSA TSA is refused as an
//! unsupported algorithm.

pub mod anchor;
mod error;
mod ess;
pub mod request;
pub mod token;

pub use error::TimeStampError;
pub use request::TimeStampRequest;
pub use token::{
    token_from_response, verify_response, verify_token, TsaTrust, VerifiedTimeStamp,
    MAX_RESPONSE_LEN, MAX_TOKEN_LEN,
};
