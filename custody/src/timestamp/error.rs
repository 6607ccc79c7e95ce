//! What can be wrong with a time-stamp request, response or token: one variant per check.

use der::asn1::ObjectIdentifier;
use mso::x509::PathError;
use thiserror::Error;

/// Why a time-stamp response or token was refused. Each variant names the check that failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimeStampError {
    /// Larger than the bound for its kind (untrusted bytes are bounded before decoding).
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// A structure does not decode (or carries trailing bytes).
    #[error("{what} does not decode: {reason}")]
    Malformed {
        /// The structure (`TimeStampResp`, `SignedData`, `TSTInfo`, …).
        what: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// The TSA did not grant the request (RFC 3161 §2.4.2 PKIStatus).
    #[error("the TSA did not grant the request: status {status} ({text})")]
    NotGranted {
        /// The PKIStatus value (0 granted, 1 granted with modifications, 2 rejection, …).
        status: u8,
        /// The TSA's status text (empty if it gave none).
        text: String,
    },
    /// A granted response without a token.
    #[error("the response is granted but carries no time-stamp token")]
    NoToken,
    /// The token is not CMS SignedData, or its content is not a TSTInfo.
    #[error("wrong content type {found} for {what}")]
    ContentType {
        /// Which content type (`token`, `eContent`, `contentType attribute`).
        what: &'static str,
        /// What was found.
        found: ObjectIdentifier,
    },
    /// The token does not have exactly one signer.
    #[error("the token has {0} signers, expected exactly one")]
    SignerCount(usize),
    /// A field that must be present is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An algorithm this verifier does not accept.
    #[error("unsupported {what} algorithm {oid}")]
    UnsupportedAlgorithm {
        /// Which algorithm (`imprint hash`, `digest`, `signature`).
        what: &'static str,
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// The message imprint is not the digest that was to be time-stamped.
    #[error(
        "the message imprint is not the expected digest (expected {expected}, token has {found})"
    )]
    ImprintMismatch {
        /// Expected digest, hex.
        expected: String,
        /// Digest in the token, hex.
        found: String,
    },
    /// The nonce in the token is absent or differs from the request's.
    #[error("the token's nonce does not match the request")]
    NonceMismatch,
    /// The TSA policy is not one of the accepted ones.
    #[error("TSA policy {0} is not accepted")]
    PolicyNotAccepted(ObjectIdentifier),
    /// The messageDigest signed attribute is not the digest of the TSTInfo.
    #[error("the messageDigest attribute is not the digest of the TSTInfo")]
    MessageDigestMismatch,
    /// The ESS signing-certificate attribute does not name the signer's certificate.
    #[error("the ESS signing-certificate attribute does not name the TSA certificate")]
    SigningCertificateMismatch,
    /// No certificate in the token matches the signer identifier.
    #[error("the token does not carry the TSA certificate its signer names")]
    SignerCertificateMissing,
    /// The CMS signature does not verify under the TSA certificate's key.
    #[error("the token's signature does not verify under the TSA certificate: {0}")]
    BadSignature(String),
    /// The TSA certificate is not a time-stamping certificate (RFC 3161 §2.3).
    #[error("TSA certificate {subject}: {reason}")]
    TsaCertificate {
        /// The certificate's subject.
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// The TSA certificate does not chain to a trusted TSA root at genTime.
    #[error("the TSA certificate is not trusted at genTime: {0}")]
    Untrusted(#[from] PathError),
    /// genTime cannot be used.
    #[error("genTime: {0}")]
    GenTime(String),
    /// The trust anchors could not be read.
    #[error("TSA trust anchors: {0}")]
    Anchors(String),
    /// The time-stamping authority could not be reached or answered outside the protocol.
    #[error("time-stamping authority: {0}")]
    Transport(String),
}
