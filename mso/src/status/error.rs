//! [`ListTokenError`]: why a status list, an identifier list or their token was refused.

use time::OffsetDateTime;

use crate::crypto::algorithm::Algorithm;
use crate::x509::error::PathError;

/// Why a Token Status List / Identifier List (or its CWT) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListTokenError {
    /// `bits` is not 1, 2, 4 or 8.
    #[error("status list bits {bits} is not 1, 2, 4 or 8")]
    Bits {
        /// The value found.
        bits: u64,
    },
    /// An index outside the list (never read as "valid").
    #[error("index {index} outside a status list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// Entries in the list.
        len: usize,
    },
    /// A list of that many entries does not fit in memory arithmetic.
    #[error("a status list of {len} entries overflows")]
    TooManyEntries {
        /// Entries asked for.
        len: usize,
    },
    /// A status value does not fit the list's bits.
    #[error("status value {value} does not fit in {bits} bits")]
    ValueTooWide {
        /// The value.
        value: u8,
        /// The list's bits.
        bits: u8,
    },
    /// `lst` is not a zlib stream.
    #[error("status list lst is not a zlib stream: {reason}")]
    Lst {
        /// What the decoder found.
        reason: String,
    },
    /// The protected `typ` header is absent or not the expected media type.
    #[error("list token typ: expected {expected:?}, found {found:?}")]
    Typ {
        /// The media type expected.
        expected: &'static str,
        /// What was found (`None`: no typ).
        found: Option<String>,
    },
    /// The signing algorithm is valid but not allowed by policy.
    #[error("list token algorithm {algorithm} is not allowed")]
    AlgorithmNotAllowed {
        /// The algorithm.
        algorithm: Algorithm,
    },
    /// The signer's certificate has no trusted path to an IACA as a list signer (issuer,
    /// signature, profile, validity of the signer or its IACA).
    #[error("list signer: {0}")]
    Signer(PathError),
    /// `sub` differs from the URI the MSO points to.
    #[error("list token is for {found:?}, expected {expected:?}")]
    Sub {
        /// The URI expected.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// `exp` has passed at the verification time.
    #[error("list token expired at {exp}, verifying at {at}")]
    Expired {
        /// The token's `exp`.
        exp: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// `iat` lies after the verification time (beyond the skew).
    #[error("list token issued at {iat}, after the verification time {at}")]
    IssuedInFuture {
        /// The token's `iat`.
        iat: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// A time claim is out of range.
    #[error("list token claim {claim} is not a usable time")]
    Timestamp {
        /// `iat` or `exp`.
        claim: &'static str,
    },
}
