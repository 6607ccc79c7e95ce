//! What a verification reports: every check with its outcome, and the warnings.

use time::OffsetDateTime;

use crate::crypto::Algorithm;
use crate::error::Error;
use crate::x509::profile::Violation;
use crate::x509::PathError;

/// The checks a verification may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// issuerAuth's algorithm is known and allowed.
    IssuerAlgorithm,
    /// x5chain is present and its first certificate parses.
    DsCertificate,
    /// The DS certificate is trusted (pinned, or issued by a trusted IACA).
    DsTrusted,
    /// The DS certificate fits the Annex B Document Signer profile (extendedKeyUsage
    /// 1.0.18013.5.1.2, keyUsage digitalSignature, not a CA, no unknown critical extension,
    /// country and state as the IACA's, …). Departures a relying party tolerates are
    /// warnings of this kind, one per violation (subject: its code).
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
    /// The DS certificate is not on its IACA's CRL ([`IssuerTrust::Store`] only).
    DsRevocation,
    /// A disclosed `issuing_country` / `issuing_jurisdiction` equals the DS certificate's
    /// countryName / stateOrProvinceName (subject: `namespace/element`).
    IssuingCountry,
    /// The MSO's `status_list` entry is valid in its Token Status List (subject: the uri).
    StatusList,
    /// The MSO's `identifier_list` id is absent from its Identifier List (subject: the uri).
    IdentifierList,
    /// An unprotected header entry of issuerAuth or deviceSignature held `null` or
    /// `undefined` and was ignored (subject: `issuerAuth/4`). Recorded only when that
    /// happened: as a warning, or as a failure under
    /// [`Placeholders::Refuse`](super::Placeholders::Refuse).
    UnprotectedHeader,
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A cryptographic or format error.
    Error(Error),
    /// The algorithm is valid but not allowed by policy.
    AlgorithmNotAllowed(Algorithm),
    /// The x5chain certificate differs from the pinned DS certificate.
    NotThePinnedCertificate,
    /// No trusted path leads from the DS certificate to an IACA.
    NoTrustedIssuer(PathError),
    /// The certificate departs from its profile: the violations (errors for a failed check,
    /// one warning-class violation per warning).
    Profile(Vec<Violation>),
    /// An unprotected header entry with no value (`null` or `undefined`) was ignored.
    UnprotectedPlaceholder {
        /// `issuerAuth` or `deviceSignature`.
        structure: &'static str,
        /// The header label.
        label: i64,
    },
    /// A certificate (DS or IACA) is not yet valid.
    CertificateNotYetValid {
        /// Which certificate.
        which: &'static str,
        /// Its notBefore.
        not_before: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// A certificate (DS or IACA) has expired.
    CertificateExpired {
        /// Which certificate.
        which: &'static str,
        /// Its notAfter.
        not_after: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
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
        valid_from: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// validUntil is before the verification time.
    MsoExpired {
        /// validUntil.
        valid_until: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// validityInfo is inconsistent (validFrom after validUntil, or signed after validUntil).
    MsoValidityInconsistent,
    /// `signed` is outside the DS certificate validity.
    SignedOutsideDsValidity {
        /// `signed` from the MSO.
        signed: OffsetDateTime,
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
    NotChecked(&'static str),
    /// The DS certificate is listed on its IACA's CRL.
    DsRevoked {
        /// The DS serial number, hex, without leading zero octets.
        serial: String,
    },
    /// The IACA is listed on its own CRL: the root-compromise procedure revoked the root
    /// itself, so nothing it certified is trusted, whatever else the CRL lists (policy
    /// §5.7.3; a DS made with the stolen key would not be on the CRL).
    IacaRevoked {
        /// The IACA serial number, hex, without leading zero octets.
        serial: String,
    },
    /// The IACA's CRL has passed its nextUpdate (a failure under
    /// [`ExpiredCrlPolicy::Fail`](crate::trust::ExpiredCrlPolicy::Fail), else a warning).
    CrlExpired {
        /// The CRL's nextUpdate.
        next_update: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// The trust store holds no CRL for the DS certificate's IACA (a warning under
    /// [`MissingCrlPolicy::Warn`](crate::trust::MissingCrlPolicy::Warn), else a failure).
    NoCrl,
    /// A disclosed element differs from the DS certificate's subject.
    IssuingCountryMismatch {
        /// `issuing_country` or `issuing_jurisdiction`.
        element: &'static str,
        /// The disclosed value (rendered if not a text string).
        document: String,
        /// The certificate's countryName / stateOrProvinceName.
        certificate: Option<String>,
    },
    /// The MSO is revoked: its status list entry is 1 (invalid) or its identifier is listed.
    MsoRevoked,
    /// The MSO is suspended: its status list entry is 2.
    MsoSuspended,
    /// The MSO's status list entry is neither valid, invalid nor suspended.
    MsoStatusUnknown(u8),
    /// The MSO has a status entry of this kind but no token of the kind was supplied (always
    /// a warning: not checked).
    NoListToken,
    /// Tokens of the kind were supplied, none for the MSO's uri.
    ListTokenUriMismatch {
        /// The MSO's uri.
        expected: String,
        /// The supplied tokens' `sub` (or why it could not be read).
        found: Vec<String>,
    },
    /// The token's `typ` is not the list kind expected (e.g. an identifier list given as a
    /// status list).
    ListTokenWrongType {
        /// The media type expected.
        expected: &'static str,
        /// The one found (`None`: no typ).
        found: Option<String>,
    },
    /// The token's signer certificate has no trusted path to an IACA as a list signer.
    ListTokenUntrusted(PathError),
    /// The token's signer is issued by a trusted IACA, but not the one that issued the DS.
    ListTokenFromOtherIssuer,
    /// The token has expired: `exp` passed, or `iat` + `ttl` passed.
    ListTokenExpired {
        /// When it expired (`exp`, or `iat` + `ttl`).
        expired_at: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
}

/// Something a relying party should know that did not fail the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The check it concerns.
    pub kind: CheckKind,
    /// What it was about, if more than one may occur.
    pub subject: Option<String>,
    /// What would have been the failure.
    pub reason: Failure,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Which check.
    pub kind: CheckKind,
    /// What it was about (e.g. `namespace/element` for digests), if more than one may occur.
    pub subject: Option<String>,
    /// `Ok(())` when it passed.
    pub outcome: Result<(), Failure>,
}

/// All checks recorded for one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentReport {
    /// The document type claimed by the document (or MSO for a bare IssuerSigned).
    pub doc_type: String,
    /// Every check, in the order performed.
    pub checks: Vec<Check>,
    /// Soft failures and checks that could not run; they do not affect validity.
    pub warnings: Vec<Warning>,
}

impl DocumentReport {
    pub(crate) fn pass(&mut self, kind: CheckKind, subject: Option<String>) {
        self.checks.push(Check {
            kind,
            subject,
            outcome: Ok(()),
        });
    }

    pub(crate) fn record(
        &mut self,
        kind: CheckKind,
        subject: Option<String>,
        outcome: Result<(), Failure>,
    ) {
        self.checks.push(Check {
            kind,
            subject,
            outcome,
        });
    }

    pub(crate) fn fail(&mut self, kind: CheckKind, failure: Failure) {
        self.record(kind, None, Err(failure));
    }

    pub(crate) fn warn(&mut self, kind: CheckKind, subject: Option<String>, reason: Failure) {
        self.warnings.push(Warning {
            kind,
            subject,
            reason,
        });
    }

    /// True when at least one check ran and every check passed.
    pub fn is_valid(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.outcome.is_ok())
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome.is_err())
    }

    /// The outcome of the first check of `kind`, if recorded.
    pub fn outcome(&self, kind: CheckKind) -> Option<&Result<(), Failure>> {
        self.checks
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| &c.outcome)
    }
}

/// The result of verifying a DeviceResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseReport {
    /// The response's status code (0 = OK).
    pub status: u64,
    /// One report per document, in order.
    pub documents: Vec<DocumentReport>,
}

/// The DeviceResponse status "OK: normal processing" (ISO 18013-5 §8.3.2.1.2.3).
pub const STATUS_OK: u64 = 0;

impl ResponseReport {
    /// True when the response's status is OK (0), it holds at least one document and every
    /// document is valid. Any other status (10 general error, 11 CBOR decoding error, 12 CBOR
    /// validation error, or a code ISO 18013-5 does not define) is the mdoc saying the
    /// response is not what was asked, whatever documents came with it.
    pub fn is_valid(&self) -> bool {
        self.status == STATUS_OK
            && !self.documents.is_empty()
            && self.documents.iter().all(DocumentReport::is_valid)
    }

    /// The failed checks of every document.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.documents.iter().flat_map(DocumentReport::failures)
    }

    /// The warnings of every document.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.documents.iter().flat_map(|d| d.warnings.iter())
    }
}
