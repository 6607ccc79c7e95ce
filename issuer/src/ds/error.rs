//! Errors of the DS lifecycle: each refusal names its problem.

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
    /// The certificate is not X.509 v3.
    #[error("the DS certificate is not X.509 v3")]
    NotV3,
    /// The certificate certifies another key than the DS key it is installed for.
    #[error("the certificate's public key is not the DS key's public key")]
    KeyMismatch,
    /// The certificate has no authorityKeyIdentifier keyIdentifier.
    #[error("the certificate has no authorityKeyIdentifier keyIdentifier")]
    MissingAuthorityKeyId,
    /// No configured IACA has a subjectKeyIdentifier equal to the certificate's AKI.
    #[error("no configured IACA has subjectKeyIdentifier {aki} (authorityKeyIdentifier)")]
    UnknownIssuer {
        /// The certificate's AKI, hex.
        aki: String,
    },
    /// The certificate's issuer DN is not the IACA's subject DN.
    #[error("the certificate's issuer name is not the IACA's subject name")]
    IssuerNameMismatch,
    /// The IACA's key did not sign this certificate.
    #[error("the certificate's signature does not verify with the IACA key: {0}")]
    BadIssuerSignature(String),
    /// A required extension is absent.
    #[error("required extension {0} is missing")]
    MissingExtension(&'static str),
    /// An extension appears more than once.
    #[error("extension {0} appears more than once")]
    DuplicateExtension(String),
    /// An extension that must be critical is not.
    #[error("extension {0} must be critical")]
    ExtensionNotCritical(&'static str),
    /// An extension that must be non-critical is critical.
    #[error("extension {0} must not be critical")]
    ExtensionCritical(&'static str),
    /// keyUsage is not exactly digitalSignature.
    #[error("keyUsage must be digitalSignature only (found {0})")]
    WrongKeyUsage(String),
    /// extendedKeyUsage is not exactly id-mdl-kp-mdlDS.
    #[error("extendedKeyUsage must be exactly 1.0.18013.5.1.2 (found {0})")]
    WrongExtendedKeyUsage(String),
    /// basicConstraints says CA=TRUE.
    #[error("a DS certificate must not be a CA certificate (basicConstraints CA=TRUE)")]
    IsCa,
    /// notAfter is not after notBefore.
    #[error("notAfter {not_after} is not after notBefore {not_before}")]
    EmptyValidity {
        /// notBefore.
        not_before: OffsetDateTime,
        /// notAfter.
        not_after: OffsetDateTime,
    },
    /// The validity period is longer than 457 days.
    #[error("validity of {days} days exceeds the DS maximum of {max} days")]
    ValidityTooLong {
        /// Length in whole days (rounded up).
        days: i64,
        /// The maximum.
        max: i64,
    },
    /// The validity period is not inside the IACA's.
    #[error("the DS validity is not inside the IACA validity")]
    OutsideIacaValidity,
    /// The subject countryName differs from the IACA's.
    #[error("subject countryName {ds:?} differs from the IACA's {iaca:?}")]
    CountryMismatch {
        /// The DS value.
        ds: Option<String>,
        /// The IACA value.
        iaca: Option<String>,
    },
    /// The subject stateOrProvinceName differs from the IACA's.
    #[error("subject stateOrProvinceName {ds:?} differs from the IACA's {iaca:?}")]
    StateMismatch {
        /// The DS value.
        ds: Option<String>,
        /// The IACA value.
        iaca: Option<String>,
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
