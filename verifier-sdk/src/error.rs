//! The one error type of the SDK: what a foreign caller catches when an input cannot be used.
//!
//! A document that parses but does not verify is not an error: it is a report with failed
//! checks ([`crate::VerificationReport`]). Errors are for inputs the SDK could not read or
//! steps it could not take, grouped so an app can react by kind (bad bytes, too big, bad key,
//! session broken) without parsing messages. Messages never carry key material.

use mso::crl::CrlError;
use mso::status::ListTokenError;
use mso::vical::VicalError;
use mso::Error as MsoError;

/// Why an SDK call could not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum VerifierError {
    /// The bytes are not the expected CBOR / COSE / ISO 18013-5 structure (truncated,
    /// trailing bytes, wrong type or tag, missing or unknown field, invalid value or date).
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong, for logs.
        reason: String,
    },
    /// The input exceeds a decoding bound (size, nesting depth or number of items).
    #[error("input exceeds a size limit: {reason}")]
    SizeLimit {
        /// Which limit, for logs.
        reason: String,
    },
    /// A certificate could not be parsed or used.
    #[error("certificate: {reason}")]
    Certificate {
        /// What is wrong, for logs.
        reason: String,
    },
    /// A public or private key is malformed or unusable.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// What is wrong, for logs.
        reason: String,
    },
    /// The algorithm is unknown or not supported.
    #[error("unsupported algorithm: {reason}")]
    UnsupportedAlgorithm {
        /// Which algorithm, for logs.
        reason: String,
    },
    /// A signature or MAC could not be made or did not verify where the call requires it.
    #[error("cryptographic failure: {reason}")]
    Crypto {
        /// What failed, for logs.
        reason: String,
    },
    /// A session message did not decrypt (tampered, replayed, reordered or the wrong key).
    /// ISO 18013-5 answers it with SessionData status 10 and ends the session.
    #[error("session message did not decrypt")]
    SessionDecryption,
    /// The session cannot take this step (not established yet, already established, ended,
    /// counter exhausted).
    #[error("session: {reason}")]
    SessionState {
        /// Why, for logs.
        reason: String,
    },
    /// The input is not trusted: it is not signed by anything the store trusts.
    #[error("not trusted: {reason}")]
    Untrusted {
        /// Why (e.g. no trusted IACA issued the CRL or link certificate).
        reason: String,
    },
    /// A trust store file is not one this SDK wrote, or is damaged.
    #[error("trust store file: {reason}")]
    TrustStoreFormat {
        /// Why.
        reason: String,
    },
    /// The app's fetcher could not deliver a status or identifier list token.
    #[error("fetching {uri}: {reason}")]
    Fetch {
        /// The list's URI.
        uri: String,
        /// The fetcher's reason.
        reason: String,
    },
    /// A Digital Trust Service answered something the sync cannot use (an HTTP error, a
    /// digest that is not the index's, a URL off the DTS's origin, an unknown index format).
    #[error("DTS {url}: {reason}")]
    DtsSync {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// An argument is inconsistent or out of range (e.g. an empty request, a bad time).
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// Why, for logs.
        reason: String,
    },
    /// The relying party's query cannot be sent: a DCQL rule is broken (ids, claim sets,
    /// credential sets, bounds).
    #[error("invalid query: {reason}")]
    InvalidQuery {
        /// Which rule, for logs.
        reason: String,
    },
    /// An online response was not read: it is a replay, for another request or key, or the
    /// wallet answered with an error. Nothing from it is reported.
    #[error("response refused ({refusal:?}): {reason}")]
    ResponseRefused {
        /// Why, by name.
        refusal: crate::online::ResponseRefusal,
        /// Details, for logs.
        reason: String,
    },
    /// An internal invariant failed (e.g. a lock poisoned by an earlier failure).
    #[error("internal error: {reason}")]
    Internal {
        /// What, for logs.
        reason: String,
    },
}

/// The result type of every fallible SDK call.
pub type Result<T, E = VerifierError> = core::result::Result<T, E>;

impl VerifierError {
    pub(crate) fn invalid_argument(reason: impl Into<String>) -> Self {
        VerifierError::InvalidArgument {
            reason: reason.into(),
        }
    }

    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        VerifierError::Internal {
            reason: reason.into(),
        }
    }

    /// The error for a failure inside a reader session: `InvalidRequest` from `mso` there
    /// means the session state refused the step.
    pub(crate) fn from_session(e: MsoError) -> Self {
        match e {
            MsoError::InvalidRequest(reason) => VerifierError::SessionState { reason },
            other => other.into(),
        }
    }
}

/// What a foreign fetcher's unexpected exception becomes.
impl From<uniffi::UnexpectedUniFFICallbackError> for VerifierError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        VerifierError::Fetch {
            uri: String::new(),
            reason: e.reason,
        }
    }
}

impl From<MsoError> for VerifierError {
    fn from(e: MsoError) -> Self {
        let reason = e.to_string();
        match e {
            MsoError::TooLarge { .. }
            | MsoError::TooDeep { .. }
            | MsoError::TooManyItems { .. } => VerifierError::SizeLimit { reason },
            MsoError::Truncated { .. }
            | MsoError::TrailingBytes { .. }
            | MsoError::IndefiniteLength { .. }
            | MsoError::Malformed { .. }
            | MsoError::InvalidUtf8 { .. }
            | MsoError::DuplicateKey { .. }
            | MsoError::UnsupportedSimple { .. }
            | MsoError::MissingField { .. }
            | MsoError::UnknownField { .. }
            | MsoError::WrongType { .. }
            | MsoError::WrongTag { .. }
            | MsoError::InvalidValue { .. }
            | MsoError::DigestLength { .. }
            | MsoError::Cose(_)
            | MsoError::X5Chain(_)
            | MsoError::InvalidDate { .. } => VerifierError::Malformed { reason },
            MsoError::Certificate(_) | MsoError::Profile { .. } => {
                VerifierError::Certificate { reason }
            }
            // Nothing the store trusts vouches for the input.
            MsoError::Path(_)
            | MsoError::Crl(CrlError::NoTrustedIssuer { .. })
            | MsoError::Vical(VicalError::Signer(_) | VicalError::SignerExpiredWhenAdded { .. })
            | MsoError::ListToken(ListTokenError::Signer(_)) => VerifierError::Untrusted { reason },
            MsoError::Crl(_) | MsoError::Vical(_) | MsoError::ListToken(_) => {
                VerifierError::Malformed { reason }
            }
            MsoError::TrustStoreFormat(_) => VerifierError::TrustStoreFormat { reason },
            MsoError::InvalidKey(_) => VerifierError::InvalidKey { reason },
            MsoError::UnsupportedAlgorithm(_) => VerifierError::UnsupportedAlgorithm { reason },
            MsoError::AlgorithmMismatch { .. }
            | MsoError::BadSignature
            | MsoError::MalformedSignature(_)
            | MsoError::Signer(_) => VerifierError::Crypto { reason },
            MsoError::SessionDecryption => VerifierError::SessionDecryption,
            MsoError::SessionCounterExhausted => VerifierError::SessionState { reason },
            MsoError::InvalidRequest(reason) => VerifierError::InvalidArgument { reason },
            // `mso::Error` is #[non_exhaustive]: a variant added later still reaches the caller
            // as a typed error, never a panic.
            _ => VerifierError::Internal { reason },
        }
    }
}
