//! [`PathError`]: why no trusted path exists, naming the certificate and the facts.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use super::profile::role::Role;
use super::profile::violation::{join, Violation};

/// Where a certificate named by an error sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// The end-entity certificate being validated.
    Leaf,
    /// Entry `n` of the supplied chain (for an x5chain, entry `n + 1`, after the leaf).
    Chain(usize),
    /// Anchor `n` of the trust anchors.
    Anchor(usize),
}

/// A certificate named by an error: where it sits and its subject, for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertRef {
    /// Its position.
    pub position: Position,
    /// Its subject DN (RFC 4514 string).
    pub subject: String,
}

impl core::fmt::Display for CertRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.position {
            Position::Leaf => write!(f, "the leaf certificate ({})", self.subject),
            Position::Chain(n) => write!(f, "chain certificate {n} ({})", self.subject),
            Position::Anchor(n) => write!(f, "trust anchor {n} ({})", self.subject),
        }
    }
}

/// Why a CA certificate may not issue the certificate below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotCaReason {
    /// No basicConstraints extension.
    NoBasicConstraints,
    /// basicConstraints cA is FALSE.
    NotCa,
    /// keyUsage is present without keyCertSign.
    NoKeyCertSign,
    /// basicConstraints or keyUsage does not decode.
    Undecodable,
}

/// Which work budget a path search exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Signature verifications.
    SignatureChecks,
    /// Candidate issuers considered.
    Candidates,
}

/// Why [`validate`](super::path::validate) found no trusted path. Every variant names the
/// certificate it is about.
///
/// Not `#[non_exhaustive]`: the SDKs map every variant without a catch-all, so a new variant
/// must be given a foreign name before it compiles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// An entry of the x5chain is not a certificate this crate can parse.
    #[error("x5chain entry {index} is not a usable certificate: {reason}")]
    Malformed {
        /// Its index in the x5chain (0 = the leaf).
        index: usize,
        /// Why.
        reason: String,
    },
    /// The chain has more certificates than the policy allows.
    #[error("the chain has {len} certificates, at most {max} are accepted")]
    ChainTooLong {
        /// Certificates supplied, the leaf included.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The chain carries the same certificate twice (or the leaf again).
    #[error("{cert} appears twice in the chain")]
    DuplicateCertificate {
        /// The second occurrence.
        cert: CertRef,
    },
    /// No trust anchor (nor chain certificate the role may use) has the issuer's name.
    #[error("no trusted issuer named {issuer} for {cert}")]
    UnknownIssuer {
        /// The certificate whose issuer is missing.
        cert: CertRef,
        /// Its issuer DN.
        issuer: String,
    },
    /// The only candidate issuers are already on the path: the chain loops.
    #[error("the chain loops at {cert}")]
    Loop {
        /// The certificate whose issuer would repeat the path.
        cert: CertRef,
    },
    /// The certificate's signature algorithm is not one this crate verifies, or
    /// signatureAlgorithm differs from the TBSCertificate's signature field.
    #[error("{cert}: unsupported or inconsistent signature algorithm {oid}")]
    SignatureAlgorithm {
        /// The certificate.
        cert: CertRef,
        /// Its signatureAlgorithm.
        oid: ObjectIdentifier,
    },
    /// A candidate issuer with the right name did not sign the certificate.
    #[error("{cert} is not signed by {issuer}")]
    BadSignature {
        /// The certificate.
        cert: CertRef,
        /// The candidate issuer that was tried last.
        issuer: CertRef,
    },
    /// An issuer certificate on the path is not a CA that may sign certificates.
    #[error("{cert} may not issue certificates: {reason:?}")]
    IssuerNotCa {
        /// The issuer certificate.
        cert: CertRef,
        /// Why.
        reason: NotCaReason,
    },
    /// An issuer's pathLenConstraint allows fewer intermediates than the path has below it.
    #[error("{cert} allows {path_len} intermediate CAs below it, the path has {below}")]
    PathLenExceeded {
        /// The issuer certificate.
        cert: CertRef,
        /// Its pathLenConstraint.
        path_len: u8,
        /// Intermediates below it on the path.
        below: usize,
    },
    /// A certificate of the path has a critical extension this crate does not understand
    /// (RFC 5280 §4.2, CPS §7.1.9).
    #[error("{cert} has unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension.
        oid: ObjectIdentifier,
    },
    /// The leaf does not fit its role's profile (the error findings only).
    #[error("{cert} is not a valid {role}: {}", join(violations))]
    Profile {
        /// The leaf.
        cert: CertRef,
        /// The role it was validated for.
        role: Role,
        /// The violations a relying party refuses.
        violations: Vec<Violation>,
    },
    /// A certificate of the path is not valid yet at the verification time.
    #[error("{cert} is not valid before {not_before} (verifying at {at})")]
    NotYetValid {
        /// The certificate.
        cert: CertRef,
        /// Its notBefore.
        not_before: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// A certificate of the path has expired at the verification time.
    #[error("{cert} expired at {not_after} (verifying at {at})")]
    Expired {
        /// The certificate.
        cert: CertRef,
        /// Its notAfter.
        not_after: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// The search exhausted its work budget (a hostile or absurd chain).
    #[error("path search exceeded its budget of {limit} {what:?}")]
    BudgetExceeded {
        /// Which budget.
        what: Budget,
        /// Its size.
        limit: usize,
    },
}

impl PathError {
    /// How far the search got before this error: among failed candidates, the error of the
    /// one that got furthest is the most useful to report.
    pub(super) fn rank(&self) -> u8 {
        match self {
            PathError::Malformed { .. }
            | PathError::ChainTooLong { .. }
            | PathError::DuplicateCertificate { .. }
            | PathError::BudgetExceeded { .. } => 0,
            PathError::UnknownIssuer { .. } | PathError::Loop { .. } => 1,
            PathError::SignatureAlgorithm { .. } | PathError::BadSignature { .. } => 2,
            PathError::IssuerNotCa { .. }
            | PathError::PathLenExceeded { .. }
            | PathError::UnknownCriticalExtension { .. } => 3,
            PathError::Profile { .. } => 4,
            PathError::NotYetValid { .. } | PathError::Expired { .. } => 5,
        }
    }

    /// The certificate the error is about, if it names one.
    pub fn certificate(&self) -> Option<&CertRef> {
        match self {
            PathError::Malformed { .. }
            | PathError::ChainTooLong { .. }
            | PathError::BudgetExceeded { .. } => None,
            PathError::DuplicateCertificate { cert }
            | PathError::UnknownIssuer { cert, .. }
            | PathError::Loop { cert }
            | PathError::SignatureAlgorithm { cert, .. }
            | PathError::BadSignature { cert, .. }
            | PathError::IssuerNotCa { cert, .. }
            | PathError::PathLenExceeded { cert, .. }
            | PathError::UnknownCriticalExtension { cert, .. }
            | PathError::Profile { cert, .. }
            | PathError::NotYetValid { cert, .. }
            | PathError::Expired { cert, .. } => Some(cert),
        }
    }
}
