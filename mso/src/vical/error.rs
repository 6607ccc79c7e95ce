//! [`VicalError`]: why a VICAL was refused.

use time::OffsetDateTime;

use crate::crypto::algorithm::Algorithm;
use crate::x509::error::PathError;

/// Why a VICAL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VicalError {
    /// The signing algorithm is valid but not allowed by policy.
    #[error("VICAL algorithm {algorithm} is not allowed")]
    AlgorithmNotAllowed {
        /// The algorithm.
        algorithm: Algorithm,
    },
    /// The signer's certificate has no trusted path, as a VICAL signer, to a configured
    /// anchor at the list's `date` (profile, chain, signatures, validity when signed).
    #[error("VICAL signer: {0}")]
    Signer(PathError),
    /// `date` lies after the verification time (beyond the skew).
    #[error("the VICAL is dated {date}, after the verification time {at}")]
    DateInFuture {
        /// The list's date.
        date: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// `nextUpdate` precedes `date`.
    #[error("VICAL nextUpdate {next_update} is before date {date}")]
    NextUpdateBeforeDate {
        /// The list's date.
        date: OffsetDateTime,
        /// Its nextUpdate.
        next_update: OffsetDateTime,
    },
    /// A CertificateInfo has an empty `docType`.
    #[error("VICAL entry {index} has an empty docType")]
    EmptyDocType {
        /// The entry's position in `certificateInfos`.
        index: usize,
    },
    /// A list first received after a certificate of its signer's path expired: it cannot be
    /// told apart from one signed with a retired key.
    #[error("the VICAL's signer path expired at {not_after}, before the list was added at {at}")]
    SignerExpiredWhenAdded {
        /// The earliest notAfter on the signer's path.
        not_after: OffsetDateTime,
        /// When the list was added.
        at: OffsetDateTime,
    },
    /// A listed IACA has no subjectKeyIdentifier, which a CertificateInfo's `ski` needs.
    #[error("VICAL entry {index}: the IACA has no subjectKeyIdentifier")]
    NoSubjectKeyId {
        /// The entry's position in `certificateInfos`.
        index: usize,
    },
    /// A VICAL cannot be signed without its signer's certificate in the x5chain.
    #[error("a VICAL needs its signer's certificate in the x5chain")]
    NoSignerCertificate,
}
