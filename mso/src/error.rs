//! The crate's one error type.
//!
//! Every parser of untrusted bytes and every cryptographic step reports a specific variant, so
//! a caller (and a test) can tell a truncated input from a duplicate key or a wrong tag. Errors
//! never carry key material.

use thiserror::Error;

// From the defining files, not the modules' re-exports: those modules use this one.
use crate::crl::error::CrlError;
use crate::status::error::ListTokenError;
use crate::vical::error::VicalError;
use crate::x509::error::PathError;
use crate::x509::profile::role::Role;
use crate::x509::profile::violation::{join, Violation};

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended inside a CBOR item.
    #[error("CBOR truncated at byte {offset}")]
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
    },
    /// Bytes remain after the top-level CBOR item.
    #[error("{count} trailing bytes after the CBOR item at byte {offset}")]
    TrailingBytes {
        /// Offset of the first trailing byte.
        offset: usize,
        /// Number of trailing bytes.
        count: usize,
    },
    /// The input is larger than the configured limit.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Arrays, maps and tags are nested deeper than the configured limit.
    #[error("CBOR nesting deeper than {limit} at byte {offset}")]
    TooDeep {
        /// Configured limit.
        limit: usize,
        /// Offset of the item that went too deep.
        offset: usize,
    },
    /// A collection declares more entries than the configured limit.
    #[error("CBOR collection of {len} entries exceeds the limit of {limit} at byte {offset}")]
    TooManyItems {
        /// Declared length.
        len: u64,
        /// Configured limit.
        limit: usize,
        /// Offset of the collection head.
        offset: usize,
    },
    /// Indefinite-length items are not allowed in mdoc structures.
    #[error("indefinite-length CBOR item at byte {offset}")]
    IndefiniteLength {
        /// Offset of the item head.
        offset: usize,
    },
    /// The bytes are not well-formed CBOR.
    #[error("malformed CBOR at byte {offset}")]
    Malformed {
        /// Offset where decoding failed.
        offset: usize,
    },
    /// A text string is not valid UTF-8.
    #[error("invalid UTF-8 in text string at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the text string.
        offset: usize,
    },
    /// A map has the same key twice.
    #[error("duplicate map key at byte {offset}")]
    DuplicateKey {
        /// Offset of the second occurrence.
        offset: usize,
    },
    /// A simple value other than false, true, null or undefined.
    #[error("unsupported CBOR simple value {value} at byte {offset}")]
    UnsupportedSimple {
        /// The simple value.
        value: u8,
        /// Offset of the item.
        offset: usize,
    },
    /// A required map entry is absent.
    #[error("{context}: missing field `{field}`")]
    MissingField {
        /// The structure being decoded.
        context: &'static str,
        /// The missing key.
        field: &'static str,
    },
    /// A closed map (one whose CDDL allows no extensions) has a key it does not define.
    #[error("{context}: unknown field {field:?}")]
    UnknownField {
        /// The structure being decoded.
        context: &'static str,
        /// The unexpected key, rendered for the message.
        field: String,
    },
    /// An item has the wrong CBOR major type.
    #[error("{context}: expected {expected} at byte {offset}")]
    WrongType {
        /// The structure or field being decoded.
        context: &'static str,
        /// What was expected.
        expected: &'static str,
        /// Offset of the offending item.
        offset: usize,
    },
    /// An item has the wrong (or no) tag.
    #[error("{context}: expected tag {expected}, found {found:?} at byte {offset}")]
    WrongTag {
        /// The structure or field being decoded.
        context: &'static str,
        /// Expected tag number.
        expected: u64,
        /// Tag found, `None` when the item was untagged.
        found: Option<u64>,
        /// Offset of the offending item.
        offset: usize,
    },
    /// A value is well-typed but not allowed.
    #[error("{context}: {reason}")]
    InvalidValue {
        /// The structure or field being decoded.
        context: &'static str,
        /// Why the value is refused.
        reason: String,
    },
    /// A digest does not have the length its algorithm produces.
    #[error("digest for {algorithm} must be {expected} bytes, found {found}")]
    DigestLength {
        /// The digest algorithm named in the MSO.
        algorithm: &'static str,
        /// Expected length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// A COSE structure could not be decoded or built.
    #[error("COSE: {0}")]
    Cose(String),
    /// The algorithm is unknown or not supported by the crypto backend.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The header algorithm does not fit the key.
    #[error("algorithm {alg} does not match a {key} key")]
    AlgorithmMismatch {
        /// The algorithm from the header.
        alg: String,
        /// The key's curve.
        key: String,
    },
    /// A public or private key is malformed or invalid (off curve, identity, wrong length).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A signature or MAC did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A signature has the wrong encoding or length.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The x5chain header is absent or unusable.
    #[error("x5chain: {0}")]
    X5Chain(String),
    /// An X.509 certificate could not be parsed or used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A date or date-time string is not in the required form.
    #[error("invalid {kind}: {reason}")]
    InvalidDate {
        /// `tdate` or `full-date`.
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A signer backend (software, HSM, remote) failed.
    #[error("signer: {0}")]
    Signer(String),
    /// The caller's request is inconsistent (e.g. an empty document).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A session message did not decrypt: its AES-GCM tag does not verify under the expected
    /// session key and message counter (tampered, replayed or reordered, or the wrong key).
    /// ISO 18013-5 answers it with SessionData status 10.
    #[error("session message did not decrypt")]
    SessionDecryption,
    /// A session direction has used its last message counter; 18013-5 never lets it wrap.
    #[error("session message counter exhausted")]
    SessionCounterExhausted,
    /// An HPKE ciphertext did not open: the wrong recipient key, another `info` or `aad`, an
    /// `enc` that is not a point of the suite's curve, or a damaged ciphertext or tag. One
    /// variant for all of them, so a sender of forgeries learns nothing more than the refusal.
    #[error("HPKE ciphertext did not decrypt")]
    HpkeDecryption,
    /// HPKE sealing failed: the operating system's random number generator gave no ephemeral
    /// key material, or the HPKE library refused (never for a valid recipient key).
    #[error("HPKE seal failed")]
    HpkeSeal,
    /// A certificate does not fit the profile of the role it was offered for (the error
    /// findings of [`crate::x509::profile::inspect`]).
    #[error("not a valid {role}: {}", join(violations))]
    Profile {
        /// The role.
        role: Role,
        /// The violations a relying party refuses.
        violations: Vec<Violation>,
    },
    /// No trusted certification path (see [`PathError`]).
    #[error(transparent)]
    Path(PathError),
    /// A CRL was refused (see [`CrlError`]).
    #[error(transparent)]
    Crl(CrlError),
    /// A status or identifier list token was refused (see [`ListTokenError`]).
    #[error(transparent)]
    ListToken(ListTokenError),
    /// A VICAL was refused (see [`VicalError`]).
    #[error(transparent)]
    Vical(VicalError),
    /// A serialised trust store is not one this version reads (format, version, or a
    /// structural inconsistency such as a duplicated entry).
    #[error("trust store: {0}")]
    TrustStoreFormat(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl From<PathError> for Error {
    fn from(e: PathError) -> Self {
        Error::Path(e)
    }
}

impl From<CrlError> for Error {
    fn from(e: CrlError) -> Self {
        Error::Crl(e)
    }
}

impl From<ListTokenError> for Error {
    fn from(e: ListTokenError) -> Self {
        Error::ListToken(e)
    }
}

impl From<VicalError> for Error {
    fn from(e: VicalError) -> Self {
        Error::Vical(e)
    }
}
