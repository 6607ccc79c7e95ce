//! Why a response body or VP Token was refused, or a handover could not be made.

use mdoc_jose::jwe::JweError;

use crate::request::error::RequestError;

/// Why a response was refused. Values echoed from the input are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The body is longer than the limit.
    #[error("response is longer than {max} bytes")]
    TooLong {
        /// The limit, bytes.
        max: usize,
    },
    /// Not the JSON or form encoding expected, or a parameter given twice.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// A required parameter (`vp_token`, `response`) is missing.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// The VP Token has no entry, or more than the limit.
    #[error("vp_token must have 1..={max} credential query ids")]
    QueryCount {
        /// The limit.
        max: usize,
    },
    /// A credential query id is empty, too long, or not alphanumeric/`_`/`-` (DCQL §6.1).
    #[error("credential query id {0:?} is not a DCQL id")]
    QueryId(String),
    /// An id maps to no presentation, or more than the limit.
    #[error("vp_token[{id:?}] must have 1..={max} presentations")]
    PresentationCount {
        /// The credential query id.
        id: String,
        /// The limit.
        max: usize,
    },
    /// A presentation is not a string of strict unpadded base64url, or decodes to more than
    /// the limit.
    #[error("vp_token[{id:?}][{index}] is not base64url of at most {max} bytes")]
    Presentation {
        /// The credential query id.
        id: String,
        /// The presentation's index.
        index: usize,
        /// The limit, bytes.
        max: usize,
    },
    /// `state` has a character outside the URL-safe set, or is too long.
    #[error("state has a character outside A-Z a-z 0-9 - . _ ~, or is too long")]
    State,
    /// A DC API mode without the caller's origin, or a mode that needs a field the request
    /// lacks (`client_id`, a response URI, the encryption key).
    #[error("handover: {0}")]
    Handover(&'static str),
    /// The request's mode is not an encrypted one.
    #[error("the request's response_mode is not encrypted")]
    NotEncrypted,
    /// None of the verifier's `encrypted_response_enc_values_supported` is supported here.
    #[error("no content encryption in common with the verifier")]
    NoCommonEnc,
    /// The JWE was refused or could not be made.
    #[error("response JWE: {0}")]
    Jwe(JweError),
    /// The JWE header does not name the request's encryption key by its `kid` (§8.3).
    #[error("response JWE kid is not the request's encryption key")]
    Kid,
    /// The request's encryption key could not be read.
    #[error("handover: {0}")]
    EncryptionKey(RequestError),
}
