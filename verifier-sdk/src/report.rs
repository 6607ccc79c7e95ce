//! The verification report as uniffi records: `mso`'s structured checks, mapped one to one.
//!
//! The mappings of [`mso::verify::CheckKind`] and [`mso::verify::Failure`] are exhaustive
//! `match`es without a catch-all on purpose: a check added to `mso` does not compile here until
//! it has a foreign-visible name.

use mso::crypto::Algorithm;
use mso::verify::{self as v, Failure};
use mso::x509::profile::Violation;
use mso::x509::{PathError, Position};
use time::OffsetDateTime;

use crate::value::{ElementValue, MAX_DOCUMENT_NODES};

/// The result of verifying a DeviceResponse or an IssuerSigned.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerificationReport {
    /// True when there is at least one document and every check of every document passed.
    pub valid: bool,
    /// The DeviceResponse status (0 = OK; 0 for a bare IssuerSigned).
    pub status: u64,
    /// One result per document, in order.
    pub documents: Vec<DocumentResult>,
}

/// The verification of one document.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DocumentResult {
    /// The document type (of the Document, or of the MSO for a bare IssuerSigned).
    pub doc_type: String,
    /// True when at least one check ran and all passed.
    pub valid: bool,
    /// Every check, in the order performed.
    pub checks: Vec<CheckResult>,
    /// The disclosed elements (issuer-signed, then device-signed).
    pub elements: Vec<DisclosedElement>,
    /// Conditions that did not fail the verification but that the app should know about
    /// (e.g. a CRL or list token missing, an expired CRL under the soft policy).
    pub warnings: Vec<VerificationWarning>,
}

/// A condition that did not fail the verification.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerificationWarning {
    /// The check it concerns.
    pub kind: CheckKind,
    /// What it was about.
    pub subject: Option<String>,
    /// What would have been the failure, typed.
    pub failure: CheckFailure,
    /// The same in words.
    pub reason: String,
}

impl From<&v::Warning> for VerificationWarning {
    fn from(w: &v::Warning) -> Self {
        let (failure, reason) = failure(&w.reason);
        VerificationWarning {
            kind: w.kind.into(),
            subject: w.subject.clone(),
            failure,
            reason,
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckResult {
    /// Which check.
    pub kind: CheckKind,
    /// What it was about, when a check runs more than once (e.g. `namespace/element`, `DS`).
    pub subject: Option<String>,
    /// Passed, or failed with the typed reason.
    pub outcome: CheckOutcome,
}

/// A check's outcome.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CheckOutcome {
    /// The check passed.
    Passed,
    /// The check failed.
    Failed {
        /// Why, typed.
        failure: CheckFailure,
        /// Why, in words (English, for logs and developer UIs).
        reason: String,
    },
}

/// A disclosed data element.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DisclosedElement {
    /// The namespace.
    pub namespace: String,
    /// The data element identifier.
    pub identifier: String,
    /// The value.
    pub value: ElementValue,
    /// Where it came from.
    pub source: ElementSource,
    /// True when its own check passed (issuer-signed: the value digest; device-signed: the
    /// keyAuthorizations check). The document as a whole is trustworthy only if `valid`.
    pub verified: bool,
    /// What the doc type's definition (`schemas/doctypes/`) says about the element; `None`
    /// for a doc type or element the definitions do not know.
    pub schema: Option<ElementSchema>,
}

/// An element's definition in its doc type's schema.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ElementSchema {
    /// The declared CBOR type: `tstr`, `uint`, `int`, `bool`, `bstr`, `full-date`, `tdate`,
    /// `full-date-or-tdate`, `array` or `map`.
    pub declared_type: String,
    /// The name shown to people, when the definition gives one.
    pub display_name: Option<String>,
    /// True when the value has the declared type (a mismatch is the issuer's error: the
    /// element is still what the issuer signed); false for a value not converted.
    pub type_matches: bool,
}

/// The built-in doc type definitions, loaded once.
fn doc_types() -> Option<&'static schemas::Registry> {
    static REGISTRY: std::sync::OnceLock<Option<schemas::Registry>> = std::sync::OnceLock::new();
    REGISTRY
        .get_or_init(|| schemas::Registry::builtin().ok())
        .as_ref()
}

/// Whether `value` has the schema type `ty` (top level).
fn has_type(value: &ElementValue, ty: schemas::ElementType) -> bool {
    use schemas::ElementType as T;
    match (ty, value) {
        (T::Tstr, ElementValue::Text { .. })
        | (T::Bool, ElementValue::Bool { .. })
        | (T::Bstr, ElementValue::Bytes { .. })
        | (T::FullDate | T::FullDateOrTdate, ElementValue::FullDate { .. })
        | (T::Tdate | T::FullDateOrTdate, ElementValue::TDate { .. })
        | (T::Array, ElementValue::Array { .. })
        | (T::Map, ElementValue::Map { .. })
        | (T::Int, ElementValue::Integer { .. } | ElementValue::BigInteger { .. }) => true,
        (T::Uint, ElementValue::Integer { value }) => *value >= 0,
        (T::Uint, ElementValue::BigInteger { decimal }) => !decimal.starts_with('-'),
        _ => false,
    }
}

fn element_schema(
    doc_type: &str,
    namespace: &str,
    identifier: &str,
    value: &ElementValue,
) -> Option<ElementSchema> {
    let def = doc_types()?.get(doc_type)?.element(namespace, identifier)?;
    Some(ElementSchema {
        declared_type: def.ty.as_str().to_owned(),
        display_name: def.display_name.clone(),
        type_matches: has_type(value, def.ty),
    })
}

/// Which part of the document an element came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ElementSource {
    /// IssuerSigned (covered by a value digest in the MSO).
    IssuerSigned,
    /// DeviceSigned (asserted by the device key, allowed by keyAuthorizations).
    DeviceSigned,
}

/// The checks a verification may record (mirrors `mso::verify::CheckKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CheckKind {
    /// issuerAuth's algorithm is known and allowed.
    IssuerAlgorithm,
    /// x5chain is present and its first certificate parses.
    DsCertificate,
    /// The DS certificate is trusted (pinned, or issued by a trusted IACA).
    DsTrusted,
    /// The DS certificate fits the ISO 18013-5 Annex B Document Signer profile (errors fail
    /// it; each tolerated departure is a warning of this kind, subject = its code).
    DsProfile,
    /// The DS certificate is valid at the verification time.
    DsValidity,
    /// The IACA that issued the DS certificate is valid at the verification time.
    IacaValidity,
    /// The MSO signature verifies with the DS key.
    IssuerSignature,
    /// The MSO docType equals the document's.
    DocType,
    /// validityInfo covers the verification time.
    MsoValidity,
    /// `signed` lies inside the DS certificate validity.
    SignedWithinDsValidity,
    /// One received element's digest matches the MSO.
    ValueDigest,
    /// The MSO's device key is a valid key.
    DeviceKey,
    /// deviceSignature or deviceMac verifies over DeviceAuthentication.
    DeviceAuthentication,
    /// Device-signed elements are covered by keyAuthorizations.
    DeviceSignedAuthorized,
    /// The DS certificate is not on its IACA's CRL.
    DsRevocation,
    /// A disclosed `issuing_country` / `issuing_jurisdiction` equals the DS certificate's
    /// countryName / stateOrProvinceName.
    IssuingCountry,
    /// The MSO's entry in its Token Status List is valid.
    StatusList,
    /// The MSO's identifier is absent from its Identifier List.
    IdentifierList,
    /// An unprotected header entry of issuerAuth or deviceSignature held null or undefined
    /// and was ignored (subject: `issuerAuth/4`): a warning, or a failure when the options
    /// refuse such placeholders.
    UnprotectedHeader,
}

impl From<v::CheckKind> for CheckKind {
    fn from(kind: v::CheckKind) -> Self {
        // No catch-all: a new mso check must be named here (compile error until it is).
        match kind {
            v::CheckKind::IssuerAlgorithm => CheckKind::IssuerAlgorithm,
            v::CheckKind::DsCertificate => CheckKind::DsCertificate,
            v::CheckKind::DsTrusted => CheckKind::DsTrusted,
            v::CheckKind::DsProfile => CheckKind::DsProfile,
            v::CheckKind::DsValidity => CheckKind::DsValidity,
            v::CheckKind::IacaValidity => CheckKind::IacaValidity,
            v::CheckKind::IssuerSignature => CheckKind::IssuerSignature,
            v::CheckKind::DocType => CheckKind::DocType,
            v::CheckKind::MsoValidity => CheckKind::MsoValidity,
            v::CheckKind::SignedWithinDsValidity => CheckKind::SignedWithinDsValidity,
            v::CheckKind::ValueDigest => CheckKind::ValueDigest,
            v::CheckKind::DeviceKey => CheckKind::DeviceKey,
            v::CheckKind::DeviceAuthentication => CheckKind::DeviceAuthentication,
            v::CheckKind::DeviceSignedAuthorized => CheckKind::DeviceSignedAuthorized,
            v::CheckKind::DsRevocation => CheckKind::DsRevocation,
            v::CheckKind::IssuingCountry => CheckKind::IssuingCountry,
            v::CheckKind::StatusList => CheckKind::StatusList,
            v::CheckKind::IdentifierList => CheckKind::IdentifierList,
            v::CheckKind::UnprotectedHeader => CheckKind::UnprotectedHeader,
        }
    }
}

/// COSE signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SignatureAlgorithm {
    /// ECDSA P-256 / SHA-256 (COSE −7).
    Es256,
    /// ECDSA P-384 / SHA-384 (COSE −35).
    Es384,
    /// ECDSA P-521 / SHA-512 (COSE −36).
    Es512,
    /// EdDSA (COSE −8).
    EdDsa,
}

impl From<Algorithm> for SignatureAlgorithm {
    fn from(a: Algorithm) -> Self {
        match a {
            Algorithm::Es256 => SignatureAlgorithm::Es256,
            Algorithm::Es384 => SignatureAlgorithm::Es384,
            Algorithm::Es512 => SignatureAlgorithm::Es512,
            Algorithm::EdDsa => SignatureAlgorithm::EdDsa,
        }
    }
}

impl From<SignatureAlgorithm> for Algorithm {
    fn from(a: SignatureAlgorithm) -> Self {
        match a {
            SignatureAlgorithm::Es256 => Algorithm::Es256,
            SignatureAlgorithm::Es384 => Algorithm::Es384,
            SignatureAlgorithm::Es512 => Algorithm::Es512,
            SignatureAlgorithm::EdDsa => Algorithm::EdDsa,
        }
    }
}

/// Which certificate a time check was about.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CertificateRole {
    /// The Document Signer certificate.
    DocumentSigner,
    /// The IACA that issued it.
    Iaca,
    /// Another certificate, by the name `mso` gives it.
    Other {
        /// The name.
        name: String,
    },
}

impl CertificateRole {
    fn from_mso(which: &str) -> Self {
        match which {
            "DS" => CertificateRole::DocumentSigner,
            "IACA" => CertificateRole::Iaca,
            other => CertificateRole::Other { name: other.into() },
        }
    }
}

/// The kind of a format or cryptographic error inside a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorCategory {
    /// A structure (CBOR, COSE, certificate extension) is malformed.
    Malformed,
    /// A size or nesting bound was exceeded.
    SizeLimit,
    /// A certificate could not be parsed or used.
    Certificate,
    /// A key is malformed or unusable.
    InvalidKey,
    /// The algorithm is unknown or unsupported.
    UnsupportedAlgorithm,
    /// A signature or MAC did not verify.
    BadSignature,
    /// Another cryptographic failure (malformed signature, algorithm/key mismatch).
    Crypto,
    /// Anything else.
    Other,
}

/// Why a check failed (mirrors `mso::verify::Failure`; times are Unix seconds, UTC).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CheckFailure {
    /// A cryptographic or format error.
    Error {
        /// Its kind.
        category: ErrorCategory,
    },
    /// The algorithm is valid but not allowed by the options.
    AlgorithmNotAllowed {
        /// The algorithm found.
        algorithm: SignatureAlgorithm,
    },
    /// The x5chain certificate differs from the pinned DS certificate.
    NotThePinnedCertificate,
    /// No trusted path leads from the DS certificate to an IACA.
    NoTrustedIssuer {
        /// Why, typed.
        path: PathFailure,
    },
    /// The certificate departs from its profile: every violation, named.
    Profile {
        /// The violations (errors for a failed check; one per warning).
        violations: Vec<ProfileViolation>,
    },
    /// An unprotected header entry with no value (null or undefined) was ignored.
    UnprotectedPlaceholder {
        /// `issuerAuth` or `deviceSignature`.
        structure: String,
        /// The header label.
        label: i64,
    },
    /// A certificate is not yet valid.
    CertificateNotYetValid {
        /// Which certificate.
        certificate: CertificateRole,
        /// Its notBefore.
        not_before: i64,
        /// The verification time.
        at: i64,
    },
    /// A certificate has expired.
    CertificateExpired {
        /// Which certificate.
        certificate: CertificateRole,
        /// Its notAfter.
        not_after: i64,
        /// The verification time.
        at: i64,
    },
    /// The MSO docType differs from the document's.
    DocTypeMismatch {
        /// docType in the MSO.
        mso: String,
        /// docType of the document.
        document: String,
    },
    /// validFrom is after the verification time.
    MsoNotYetValid {
        /// validFrom.
        valid_from: i64,
        /// The verification time.
        at: i64,
    },
    /// validUntil is before the verification time.
    MsoExpired {
        /// validUntil.
        valid_until: i64,
        /// The verification time.
        at: i64,
    },
    /// validityInfo is inconsistent (validFrom or signed after validUntil).
    MsoValidityInconsistent,
    /// `signed` is outside the DS certificate validity.
    SignedOutsideDsValidity {
        /// `signed` from the MSO.
        signed: i64,
    },
    /// The element's digest differs from the MSO's.
    DigestMismatch,
    /// The element's digestID (or namespace) is not in the MSO.
    DigestNotInMso,
    /// Two received elements in one namespace share a digestID or an identifier.
    DuplicateElement,
    /// deviceMac needs the reader's ephemeral private key.
    MissingReaderKey,
    /// A device-signed element is not authorized by keyAuthorizations.
    NotAuthorized,
    /// A prerequisite check failed, so this one could not run.
    NotChecked,
    /// The DS certificate is listed on its IACA's CRL.
    DsRevoked {
        /// The DS serial number, hex.
        serial: String,
    },
    /// The IACA is listed on its own CRL (the root was declared compromised): nothing it
    /// certified is trusted.
    IacaRevoked {
        /// The IACA serial number, hex.
        serial: String,
    },
    /// The IACA's CRL is past its nextUpdate.
    CrlExpired {
        /// Its nextUpdate.
        next_update: i64,
        /// The verification time.
        at: i64,
    },
    /// The store holds no CRL for the DS certificate's IACA.
    NoCrl,
    /// A disclosed element differs from the DS certificate's subject.
    IssuingCountryMismatch {
        /// `issuing_country` or `issuing_jurisdiction`.
        element: String,
        /// The disclosed value.
        document: String,
        /// The certificate's countryName / stateOrProvinceName.
        certificate: Option<String>,
    },
    /// The MSO is revoked (status list entry invalid, or identifier listed).
    MsoRevoked,
    /// The MSO is suspended.
    MsoSuspended,
    /// The MSO's status list entry has an undefined value.
    MsoStatusUnknown {
        /// The value.
        value: u8,
    },
    /// The MSO has a status entry of this kind but no list token was supplied.
    NoListToken,
    /// Tokens of the kind were supplied, none for the MSO's uri.
    ListTokenUriMismatch {
        /// The MSO's uri.
        expected: String,
        /// The supplied tokens' subjects.
        found: Vec<String>,
    },
    /// The token is not of the expected list kind.
    ListTokenWrongType {
        /// The media type expected.
        expected: String,
        /// The one found, if any.
        found: Option<String>,
    },
    /// The token's signer has no trusted path to an IACA as a list signer.
    ListTokenUntrusted {
        /// Why, typed.
        path: PathFailure,
    },
    /// The token's signer is trusted, but not under the IACA that issued the DS.
    ListTokenFromOtherIssuer,
    /// The token has expired (`exp`, or `iat` + `ttl`, passed).
    ListTokenExpired {
        /// When it expired.
        expired_at: i64,
        /// The verification time.
        at: i64,
    },
}

/// One departure from a certificate profile (ISO 18013-5 Annex B, RFC 5280).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileViolation {
    /// The stable code, e.g. `annexb.eku` or `annexb.crldp.uri`.
    pub code: String,
    /// What was found, in words.
    pub description: String,
}

impl From<&Violation> for ProfileViolation {
    fn from(v: &Violation) -> Self {
        ProfileViolation {
            code: v.code().to_owned(),
            description: v.to_string(),
        }
    }
}

fn violations(vs: &[Violation]) -> Vec<ProfileViolation> {
    vs.iter().map(ProfileViolation::from).collect()
}

/// Where a certificate named by a [`PathFailure`] sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CertificatePosition {
    /// The certificate being validated (the DS, the list signer).
    Leaf,
    /// An x5chain certificate after the leaf (index 0 = the second x5chain entry).
    Chain {
        /// Its index.
        index: u32,
    },
    /// A trust anchor of the store.
    Anchor {
        /// Its index among the anchors for the doc type.
        index: u32,
    },
}

impl From<Position> for CertificatePosition {
    fn from(p: Position) -> Self {
        let idx = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match p {
            Position::Leaf => CertificatePosition::Leaf,
            Position::Chain(n) => CertificatePosition::Chain { index: idx(n) },
            Position::Anchor(n) => CertificatePosition::Anchor { index: idx(n) },
        }
    }
}

/// Why no trusted certification path exists (mirrors `mso::x509::PathError`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PathFailure {
    /// An x5chain entry is not a usable certificate.
    Malformed {
        /// Its index in the x5chain (0 = the leaf).
        index: u32,
    },
    /// More certificates than the policy allows.
    ChainTooLong {
        /// Certificates supplied.
        length: u32,
        /// The limit.
        max: u32,
    },
    /// The chain carries a certificate twice.
    DuplicateCertificate {
        /// The repeated certificate.
        position: CertificatePosition,
    },
    /// No trusted certificate has the issuer's name.
    UnknownIssuer {
        /// The certificate whose issuer is missing.
        position: CertificatePosition,
        /// Its issuer DN.
        issuer: String,
    },
    /// The chain loops.
    Loop {
        /// Where.
        position: CertificatePosition,
    },
    /// An unsupported or inconsistent signature algorithm.
    SignatureAlgorithm {
        /// The certificate.
        position: CertificatePosition,
        /// The algorithm OID.
        oid: String,
    },
    /// A candidate issuer with the right name did not sign the certificate.
    BadSignature {
        /// The certificate.
        position: CertificatePosition,
        /// The issuer tried.
        issuer: CertificatePosition,
    },
    /// An issuer on the path may not issue certificates.
    IssuerNotCa {
        /// The issuer.
        position: CertificatePosition,
    },
    /// An issuer's pathLenConstraint is exceeded.
    PathLenExceeded {
        /// The issuer.
        position: CertificatePosition,
    },
    /// A certificate has a critical extension nobody here understands.
    UnknownCriticalExtension {
        /// The certificate.
        position: CertificatePosition,
        /// The extension OID.
        oid: String,
    },
    /// The leaf does not fit its role's profile.
    Profile {
        /// The leaf.
        position: CertificatePosition,
        /// The violations.
        violations: Vec<ProfileViolation>,
    },
    /// A certificate of the path is not yet valid.
    NotYetValid {
        /// The certificate.
        position: CertificatePosition,
        /// Its notBefore.
        not_before: i64,
        /// The verification time.
        at: i64,
    },
    /// A certificate of the path has expired.
    Expired {
        /// The certificate.
        position: CertificatePosition,
        /// Its notAfter.
        not_after: i64,
        /// The verification time.
        at: i64,
    },
    /// The search exceeded its work budget (a hostile chain).
    BudgetExceeded,
}

impl From<&PathError> for PathFailure {
    fn from(e: &PathError) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        // No catch-all: a new path error must be mapped here (compile error until it is).
        match e {
            PathError::Malformed { index, .. } => PathFailure::Malformed { index: n(*index) },
            PathError::ChainTooLong { len, max } => PathFailure::ChainTooLong {
                length: n(*len),
                max: n(*max),
            },
            PathError::DuplicateCertificate { cert } => PathFailure::DuplicateCertificate {
                position: cert.position.into(),
            },
            PathError::UnknownIssuer { cert, issuer } => PathFailure::UnknownIssuer {
                position: cert.position.into(),
                issuer: issuer.clone(),
            },
            PathError::Loop { cert } => PathFailure::Loop {
                position: cert.position.into(),
            },
            PathError::SignatureAlgorithm { cert, oid } => PathFailure::SignatureAlgorithm {
                position: cert.position.into(),
                oid: oid.to_string(),
            },
            PathError::BadSignature { cert, issuer } => PathFailure::BadSignature {
                position: cert.position.into(),
                issuer: issuer.position.into(),
            },
            PathError::IssuerNotCa { cert, .. } => PathFailure::IssuerNotCa {
                position: cert.position.into(),
            },
            PathError::PathLenExceeded { cert, .. } => PathFailure::PathLenExceeded {
                position: cert.position.into(),
            },
            PathError::UnknownCriticalExtension { cert, oid } => {
                PathFailure::UnknownCriticalExtension {
                    position: cert.position.into(),
                    oid: oid.to_string(),
                }
            }
            PathError::Profile {
                cert,
                violations: v,
                ..
            } => PathFailure::Profile {
                position: cert.position.into(),
                violations: violations(v),
            },
            PathError::NotYetValid {
                cert,
                not_before,
                at,
            } => PathFailure::NotYetValid {
                position: cert.position.into(),
                not_before: unix(*not_before),
                at: unix(*at),
            },
            PathError::Expired {
                cert,
                not_after,
                at,
            } => PathFailure::Expired {
                position: cert.position.into(),
                not_after: unix(*not_after),
                at: unix(*at),
            },
            PathError::BudgetExceeded { .. } => PathFailure::BudgetExceeded,
        }
    }
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// RFC 3339 for reasons; the typed fields carry the exact instant either way.
fn show(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("@{}", t.unix_timestamp()))
}

fn category(e: &mso::Error) -> ErrorCategory {
    use mso::Error as E;
    match e {
        E::TooLarge { .. } | E::TooDeep { .. } | E::TooManyItems { .. } => ErrorCategory::SizeLimit,
        E::Certificate(_) => ErrorCategory::Certificate,
        E::InvalidKey(_) => ErrorCategory::InvalidKey,
        E::UnsupportedAlgorithm(_) => ErrorCategory::UnsupportedAlgorithm,
        E::BadSignature => ErrorCategory::BadSignature,
        E::MalformedSignature(_) | E::AlgorithmMismatch { .. } | E::Signer(_) => {
            ErrorCategory::Crypto
        }
        E::Truncated { .. }
        | E::TrailingBytes { .. }
        | E::IndefiniteLength { .. }
        | E::Malformed { .. }
        | E::InvalidUtf8 { .. }
        | E::DuplicateKey { .. }
        | E::UnsupportedSimple { .. }
        | E::MissingField { .. }
        | E::UnknownField { .. }
        | E::WrongType { .. }
        | E::WrongTag { .. }
        | E::InvalidValue { .. }
        | E::DigestLength { .. }
        | E::Cose(_)
        | E::X5Chain(_)
        | E::InvalidDate { .. }
        | E::Crl(_)
        | E::Vical(_)
        | E::ListToken(_) => ErrorCategory::Malformed,
        E::Path(_) | E::Profile { .. } => ErrorCategory::Certificate,
        // mso::Error is #[non_exhaustive].
        _ => ErrorCategory::Other,
    }
}

/// The typed failure and its human reason.
fn failure(f: &Failure) -> (CheckFailure, String) {
    // No catch-all: a new mso failure must be mapped here (compile error until it is).
    match f {
        Failure::Error(e) => (
            CheckFailure::Error {
                category: category(e),
            },
            e.to_string(),
        ),
        Failure::AlgorithmNotAllowed(a) => (
            CheckFailure::AlgorithmNotAllowed {
                algorithm: (*a).into(),
            },
            format!("algorithm {} is not allowed", a.name()),
        ),
        Failure::NotThePinnedCertificate => (
            CheckFailure::NotThePinnedCertificate,
            "the DS certificate is not the pinned one".into(),
        ),
        Failure::NoTrustedIssuer(why) => (
            CheckFailure::NoTrustedIssuer { path: why.into() },
            format!("no trusted IACA issued the DS certificate: {why}"),
        ),
        Failure::Profile(v) => (
            CheckFailure::Profile {
                violations: violations(v),
            },
            format!("certificate profile: {}", mso::x509::profile::join(v)),
        ),
        Failure::UnprotectedPlaceholder { structure, label } => (
            CheckFailure::UnprotectedPlaceholder {
                structure: (*structure).to_owned(),
                label: *label,
            },
            format!("{structure} unprotected header entry {label} held no value and was ignored"),
        ),
        Failure::CertificateNotYetValid {
            which,
            not_before,
            at,
        } => (
            CheckFailure::CertificateNotYetValid {
                certificate: CertificateRole::from_mso(which),
                not_before: unix(*not_before),
                at: unix(*at),
            },
            format!(
                "{which} certificate not yet valid: notBefore {}, at {}",
                show(not_before),
                show(at)
            ),
        ),
        Failure::CertificateExpired {
            which,
            not_after,
            at,
        } => (
            CheckFailure::CertificateExpired {
                certificate: CertificateRole::from_mso(which),
                not_after: unix(*not_after),
                at: unix(*at),
            },
            format!(
                "{which} certificate expired: notAfter {}, at {}",
                show(not_after),
                show(at)
            ),
        ),
        Failure::DocTypeMismatch { mso, document } => (
            CheckFailure::DocTypeMismatch {
                mso: mso.clone(),
                document: document.clone(),
            },
            format!("MSO docType {mso:?} differs from the document's {document:?}"),
        ),
        Failure::MsoNotYetValid { valid_from, at } => (
            CheckFailure::MsoNotYetValid {
                valid_from: unix(*valid_from),
                at: unix(*at),
            },
            format!(
                "MSO not yet valid: validFrom {}, at {}",
                show(valid_from),
                show(at)
            ),
        ),
        Failure::MsoExpired { valid_until, at } => (
            CheckFailure::MsoExpired {
                valid_until: unix(*valid_until),
                at: unix(*at),
            },
            format!(
                "MSO expired: validUntil {}, at {}",
                show(valid_until),
                show(at)
            ),
        ),
        Failure::MsoValidityInconsistent => (
            CheckFailure::MsoValidityInconsistent,
            "MSO validityInfo is inconsistent".into(),
        ),
        Failure::SignedOutsideDsValidity { signed } => (
            CheckFailure::SignedOutsideDsValidity {
                signed: unix(*signed),
            },
            format!(
                "MSO signed at {}, outside the DS certificate validity",
                show(signed)
            ),
        ),
        Failure::DigestMismatch => (
            CheckFailure::DigestMismatch,
            "the element's digest differs from the MSO's".into(),
        ),
        Failure::DigestNotInMso => (
            CheckFailure::DigestNotInMso,
            "the element's digestID is not in the MSO".into(),
        ),
        Failure::DuplicateElement => (
            CheckFailure::DuplicateElement,
            "two elements share a digestID or identifier".into(),
        ),
        Failure::MissingReaderKey => (
            CheckFailure::MissingReaderKey,
            "deviceMac needs the reader's ephemeral private key".into(),
        ),
        Failure::NotAuthorized => (
            CheckFailure::NotAuthorized,
            "device-signed element not authorized by keyAuthorizations".into(),
        ),
        Failure::NotChecked(why) => (CheckFailure::NotChecked, format!("not checked: {why}")),
        Failure::DsRevoked { serial } => (
            CheckFailure::DsRevoked {
                serial: serial.clone(),
            },
            format!("DS certificate {serial} is revoked by its IACA's CRL"),
        ),
        Failure::IacaRevoked { serial } => (
            CheckFailure::IacaRevoked {
                serial: serial.clone(),
            },
            format!("the IACA {serial} is revoked on its own CRL: its root was compromised"),
        ),
        Failure::CrlExpired { next_update, at } => (
            CheckFailure::CrlExpired {
                next_update: unix(*next_update),
                at: unix(*at),
            },
            format!(
                "the IACA's CRL expired: nextUpdate {}, at {}",
                show(next_update),
                show(at)
            ),
        ),
        Failure::NoCrl => (
            CheckFailure::NoCrl,
            "no CRL of the DS certificate's IACA in the trust store".into(),
        ),
        Failure::IssuingCountryMismatch {
            element,
            document,
            certificate,
        } => (
            CheckFailure::IssuingCountryMismatch {
                element: (*element).to_owned(),
                document: document.clone(),
                certificate: certificate.clone(),
            },
            format!(
                "{element} {document:?} differs from the DS certificate's {}",
                certificate
                    .as_deref()
                    .map_or("(absent)".into(), |c| format!("{c:?}"))
            ),
        ),
        Failure::MsoRevoked => (CheckFailure::MsoRevoked, "the MSO is revoked".into()),
        Failure::MsoSuspended => (CheckFailure::MsoSuspended, "the MSO is suspended".into()),
        Failure::MsoStatusUnknown(value) => (
            CheckFailure::MsoStatusUnknown { value: *value },
            format!("the MSO's status list entry is {value}, an undefined status"),
        ),
        Failure::NoListToken => (
            CheckFailure::NoListToken,
            "no list token supplied: the MSO's status was not checked".into(),
        ),
        Failure::ListTokenUriMismatch { expected, found } => (
            CheckFailure::ListTokenUriMismatch {
                expected: expected.clone(),
                found: found.clone(),
            },
            format!("no supplied list token is for {expected:?} (found {found:?})"),
        ),
        Failure::ListTokenWrongType { expected, found } => (
            CheckFailure::ListTokenWrongType {
                expected: (*expected).to_owned(),
                found: found.clone(),
            },
            format!("list token of the wrong kind: expected {expected:?}, found {found:?}"),
        ),
        Failure::ListTokenUntrusted(why) => (
            CheckFailure::ListTokenUntrusted { path: why.into() },
            format!("list token signer not trusted: {why}"),
        ),
        Failure::ListTokenFromOtherIssuer => (
            CheckFailure::ListTokenFromOtherIssuer,
            "list token signed under another IACA than the DS certificate's".into(),
        ),
        Failure::ListTokenExpired { expired_at, at } => (
            CheckFailure::ListTokenExpired {
                expired_at: unix(*expired_at),
                at: unix(*at),
            },
            format!(
                "list token expired at {}, verifying at {}",
                show(expired_at),
                show(at)
            ),
        ),
    }
}

impl From<&v::Check> for CheckResult {
    fn from(c: &v::Check) -> Self {
        CheckResult {
            kind: c.kind.into(),
            subject: c.subject.clone(),
            outcome: match &c.outcome {
                Ok(()) => CheckOutcome::Passed,
                Err(f) => {
                    let (failure, reason) = failure(f);
                    CheckOutcome::Failed { failure, reason }
                }
            },
        }
    }
}

impl CheckResult {
    /// True when the check passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Passed)
    }
}

impl VerificationReport {
    /// The failed checks of every document, in order.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.documents
            .iter()
            .flat_map(|d| d.checks.iter().filter(|c| !c.passed()))
    }
}

/// Whether `check` passed for the element `namespace/identifier` (compared in place: this runs
/// for every element of every verification).
fn passed_for(check: &v::Check, namespace: &str, identifier: &str) -> bool {
    check.outcome.is_ok()
        && check.subject.as_deref().is_some_and(|s| {
            s.strip_prefix(namespace)
                .and_then(|rest| rest.strip_prefix('/'))
                == Some(identifier)
        })
}

/// The disclosed elements of a document with the outcome of their own checks. The verified
/// document is given up: its values move into the result rather than being copied.
pub(crate) fn elements(
    doc_type: &str,
    issuer_signed: mso::model::IssuerSigned,
    device_signed: Option<mso::model::DeviceNameSpaces>,
    report: &v::DocumentReport,
) -> Vec<DisclosedElement> {
    // mso records one check per element, in the order the elements are iterated here; pairing
    // them by position (and subject) keeps a duplicate element from borrowing its twin's pass.
    let mut digests = report
        .checks
        .iter()
        .filter(|c| c.kind == v::CheckKind::ValueDigest);
    let mut authorized = report
        .checks
        .iter()
        .filter(|c| c.kind == v::CheckKind::DeviceSignedAuthorized);
    let device_auth_ok = report
        .outcome(v::CheckKind::DeviceAuthentication)
        .is_some_and(Result::is_ok);
    // A value is converted only once its own check passed, and within the document's budget.
    let mut budget = MAX_DOCUMENT_NODES;
    let mut element = |ns: &str, identifier: String, value, verified, source| {
        let value = if verified {
            ElementValue::from_owned_cbor_within(value, &mut budget)
        } else {
            ElementValue::Unverified
        };
        DisclosedElement {
            namespace: ns.to_owned(),
            schema: element_schema(doc_type, ns, &identifier, &value),
            identifier,
            value,
            source,
            verified,
        }
    };
    let mut out = Vec::new();
    for (ns, items) in issuer_signed.name_spaces.into_iter().flatten() {
        for item in items {
            let item = item.into_value();
            let verified = digests
                .next()
                .is_some_and(|c| passed_for(c, &ns, &item.element_identifier));
            out.push(element(
                &ns,
                item.element_identifier,
                item.element_value,
                verified,
                ElementSource::IssuerSigned,
            ));
        }
    }
    for (ns, elems) in device_signed.into_iter().flat_map(|d| d.0) {
        for (id, value) in elems {
            let verified =
                device_auth_ok && authorized.next().is_some_and(|c| passed_for(c, &ns, &id));
            out.push(element(
                &ns,
                id,
                value,
                verified,
                ElementSource::DeviceSigned,
            ));
        }
    }
    out
}

/// A document's result from `mso`'s report and the parsed document parts, which it consumes.
pub(crate) fn document_result(
    report: &v::DocumentReport,
    issuer_signed: mso::model::IssuerSigned,
    device_signed: Option<mso::model::DeviceNameSpaces>,
) -> DocumentResult {
    DocumentResult {
        doc_type: report.doc_type.clone(),
        valid: report.is_valid(),
        checks: report.checks.iter().map(CheckResult::from).collect(),
        elements: elements(&report.doc_type, issuer_signed, device_signed, report),
        warnings: report
            .warnings
            .iter()
            .map(VerificationWarning::from)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(subject: Option<&str>, passed: bool) -> v::Check {
        v::Check {
            kind: v::CheckKind::ValueDigest,
            subject: subject.map(str::to_owned),
            outcome: if passed {
                Ok(())
            } else {
                Err(v::Failure::NotChecked("test"))
            },
        }
    }

    #[test]
    fn an_element_borrows_only_its_own_passed_check() {
        let ns = "org.iso.18013.5.1";
        let own = check(Some("org.iso.18013.5.1/family_name"), true);
        assert!(passed_for(&own, ns, "family_name"));
        // Another element, a prefix of it, or one longer than it.
        assert!(!passed_for(&own, ns, "family_nam"));
        assert!(!passed_for(&own, ns, "family_name_x"));
        assert!(!passed_for(&own, ns, "given_name"));
        // The same identifier in another namespace, or split at another '/'.
        assert!(!passed_for(&own, "org.iso.18013.5", "1/family_name"));
        assert!(!passed_for(&own, "org.iso.18013.5.1.aamva", "family_name"));
        let slashed = check(Some("a/b/c"), true);
        assert!(passed_for(&slashed, "a/b", "c"));
        assert!(passed_for(&slashed, "a", "b/c"));
        assert!(!passed_for(&slashed, "a/b/c", ""));
        // A failed check, or one about nothing in particular, is no pass.
        assert!(!passed_for(
            &check(Some("org.iso.18013.5.1/family_name"), false),
            ns,
            "family_name"
        ));
        assert!(!passed_for(&check(None, true), ns, "family_name"));
    }
}
