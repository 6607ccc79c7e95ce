//! Errors of the DS lifecycle: each refusal names its problem.

use mso::x509::profile::Finding;
use mso::x509::PathError;
use time::OffsetDateTime;

/// Result alias for the DS module.
pub type Result<T, E = DsError> = core::result::Result<T, E>;

/// Why a DS operation failed. Certificate refusals are distinct variants so the service can
/// report exactly what is wrong with a returned certificate.
#[derive(Debug, thiserror::Error)]
pub enum DsError {
    /// The requested subject cannot be encoded (bad country code, empty or oversized value).
    #[error("invalid DS subject: {0}")]
    InvalidSubject(String),
    /// The signer's key or algorithm cannot be used for a DS.
    #[error("unsupported DS key: {0}")]
    UnsupportedKey(String),
    /// A DER encoding step failed.
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// The signer (keystore or HSM) failed.
    #[error("signing failed: {0}")]
    Signer(#[source] mso::Error),
    /// The keystore failed (generation, opening, a wrong secret or PIN, an existing label).
    #[error("keystore: {0}")]
    Keystore(#[from] custody::Error),
    /// A key label is not acceptable.
    #[error("invalid key label {label:?}: {reason}")]
    InvalidLabel {
        /// The label.
        label: String,
        /// Why.
        reason: &'static str,
    },

    /// The certificate is not a DER X.509 certificate (or an extension in it does not decode).
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// The certificate certifies another key than the DS key it is installed for.
    #[error("the certificate's public key is not the DS key's public key")]
    KeyMismatch,
    /// No configured IACA issued the certificate (names, key identifier, signature, the
    /// IACA's authority).
    #[error("no configured IACA issued the certificate: {0}")]
    Untrusted(#[source] PathError),
    /// The certificate departs from the Annex B Document Signer profile. The issuer signs
    /// MSOs with it, so it is strict like a producer: every finding refuses, warnings too.
    #[error("the certificate does not fit the DS profile: {}", findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Profile {
        /// Every finding, with the severity a relying party would give it.
        findings: Vec<Finding>,
    },
    /// The certificate has already expired at installation time.
    #[error("the certificate expired at {not_after}")]
    Expired {
        /// notAfter.
        not_after: OffsetDateTime,
    },

    /// A certificate with this serial number is already in the inventory.
    #[error("a DS certificate with serial {0} is already installed")]
    DuplicateSerial(String),
    /// The key already has an installed certificate (no renewal without re-key).
    #[error("key {0} already has an installed certificate; a new DS needs a new key")]
    KeyAlreadyCertified(String),
    /// No installed DS has this serial number.
    #[error("no installed DS certificate has serial {0}")]
    UnknownSerial(String),
}
