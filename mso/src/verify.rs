//! Verification at an explicit time, reported check by check.
//!
//! Nothing here reads the clock: the caller passes `at`. Each check that applies is recorded
//! with its outcome; a document is valid only if every recorded check passed. Things worth
//! knowing that are not failures (a soft-expired CRL, revocation or MSO status that could not
//! be checked) are [`Warning`]s on the report.
//!
//! Revocation and status, in order after the certificate checks:
//!
//! - [`CheckKind::DsRevocation`], only with [`IssuerTrust::Store`]: the DS certificate must
//!   not be on the CRL the store holds for the IACA that issued it. An expired CRL fails or
//!   warns, and a missing CRL warns or fails, as the store's
//!   [`RevocationPolicy`](crate::trust::RevocationPolicy) says (default: expired fails,
//!   missing warns, since a relying party may trust IACAs whose CRLs it never fetches).
//! - [`CheckKind::IssuingCountry`]: a disclosed `issuing_country` must equal the DS
//!   certificate's countryName and a disclosed `issuing_jurisdiction` its stateOrProvinceName
//!   (when the certificate has one). Only elements of the docType's own namespaces are read
//!   (the docType itself or a namespace it extends, e.g. `org.iso.18013.5.1` for
//!   `org.iso.18013.5.1.mDL`). Not disclosed: not applicable, nothing recorded.
//! - [`CheckKind::StatusList`] / [`CheckKind::IdentifierList`]: when the MSO has a `status`
//!   entry and the app supplied tokens of that kind ([`VerifyOptions::list_tokens`]), the
//!   token whose `sub` is the entry's `uri` is verified (signature by a certificate issued by
//!   the same IACA as the DS, `exp`, `ttl` since `iat`) and the MSO's entry looked up. No
//!   token of that kind supplied: not checked, reported as a [`Warning`] (never as valid nor
//!   as revoked). Tokens of that kind supplied but none for this `uri`: a failure.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use time::{Duration, OffsetDateTime};

use crate::cose::{mac0_verify_detached, sign1_verify, sign1_verify_detached};
use crate::crypto::ecdh::{derive_session_key, AgreementKey};
use crate::crypto::{Algorithm, PublicKey, Verifier};
use crate::error::Error;
use crate::model::{
    device_authentication_bytes, DeviceAuth, DeviceResponse, Document, IssuerSigned,
    MobileSecurityObject, SessionTranscript,
};
use crate::present::EMAC_KEY_INFO;
use crate::trust::TrustStore;
use crate::x509::{CertValidity, Certificate};

mod country;
mod revocation;

/// What the issuer's DS certificate must chain to.
#[derive(Debug)]
pub enum IssuerTrust {
    /// Trust exactly this DS certificate (tests, pinned deployments): the x5chain leaf must be
    /// byte-identical to it.
    PinnedDocumentSigner(Box<Certificate>),
    /// Trust DS certificates issued by one of these IACAs (one step: AKI == SKI, names,
    /// signature, IACA validity).
    Iacas(IacaAnchors),
    /// Trust what a relying party's [`TrustStore`] trusts for the document's docType, and
    /// check DS revocation against the store's CRLs.
    Store(Box<TrustStore>),
}

impl IssuerTrust {
    /// Trust DS certificates issued by any of `iacas`.
    pub fn iacas(iacas: Vec<Certificate>) -> Self {
        IssuerTrust::Iacas(IacaAnchors::new(iacas))
    }

    /// Trust exactly this DS certificate.
    pub fn pinned(ds: Certificate) -> Self {
        IssuerTrust::PinnedDocumentSigner(Box::new(ds))
    }

    /// The IACA anchors for documents of `doc_type`, if trust is not a pinned DS.
    pub fn anchors_for(&self, doc_type: &str) -> Option<&IacaAnchors> {
        match self {
            IssuerTrust::PinnedDocumentSigner(_) => None,
            IssuerTrust::Iacas(a) => Some(a),
            IssuerTrust::Store(s) => Some(s.anchors_for(doc_type)),
        }
    }

    /// The trust store, for [`IssuerTrust::Store`].
    pub fn store(&self) -> Option<&TrustStore> {
        match self {
            IssuerTrust::Store(s) => Some(s),
            _ => None,
        }
    }

    /// The trust store, mutably (to add a newer CRL or VICAL between verifications).
    pub fn store_mut(&mut self) -> Option<&mut TrustStore> {
        match self {
            IssuerTrust::Store(s) => Some(s),
            _ => None,
        }
    }
}

impl From<TrustStore> for IssuerTrust {
    fn from(store: TrustStore) -> Self {
        IssuerTrust::Store(Box::new(store))
    }
}

/// Most DS certificates whose chain check is remembered; beyond this the memory starts over.
const MAX_REMEMBERED_CHAINS: usize = 4096;

/// Trusted IACAs, plus a memory of DS certificates already seen to be signed by one of them.
///
/// A signature check is a pure function of the two certificates, so its result can be reused:
/// a verifier checking many documents from the same few DS keys pays for each chain signature
/// once (a "warm" trust store). Validity periods depend on the verification time and are
/// checked on every call.
#[derive(Debug)]
pub struct IacaAnchors {
    anchors: Vec<Certificate>,
    verified: Mutex<HashMap<[u8; 32], usize>>,
}

impl IacaAnchors {
    /// Anchors with an empty memory.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        IacaAnchors {
            anchors,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The trusted IACA certificates.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The IACA that issued `cert` directly (a DS or a list signer), checking (or recalling)
    /// its signature.
    pub(crate) fn issuer_of(
        &self,
        ds: &Certificate,
        verifier: &dyn Verifier,
    ) -> Result<&Certificate, String> {
        let key: [u8; 32] = Sha256::digest(ds.der()).into();
        if let Some(&i) = self.verified.lock().ok().as_ref().and_then(|m| m.get(&key)) {
            if let Some(anchor) = self.anchors.get(i) {
                return Ok(anchor);
            }
        }
        let aki = ds.authority_key_id();
        // Anchors may share a DN across key rollovers: try those whose SKI matches the AKI
        // first, then every other anchor.
        let mut order: Vec<usize> = (0..self.anchors.len()).collect();
        order.sort_by_key(|&i| {
            aki.is_none() || self.anchors.get(i).and_then(Certificate::subject_key_id) != aki
        });
        let mut last = String::from("no IACA configured");
        for i in order {
            let Some(anchor) = self.anchors.get(i) else {
                continue;
            };
            match ds.verify_issued_by(anchor, verifier) {
                Ok(()) => {
                    if let Ok(mut m) = self.verified.lock() {
                        if m.len() >= MAX_REMEMBERED_CHAINS {
                            m.clear();
                        }
                        m.insert(key, i);
                    }
                    return Ok(anchor);
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }
}

impl Clone for IacaAnchors {
    fn clone(&self) -> Self {
        IacaAnchors::new(self.anchors.clone())
    }
}

impl Clone for IssuerTrust {
    fn clone(&self) -> Self {
        match self {
            IssuerTrust::PinnedDocumentSigner(c) => IssuerTrust::PinnedDocumentSigner(c.clone()),
            IssuerTrust::Iacas(a) => IssuerTrust::Iacas(a.clone()),
            IssuerTrust::Store(s) => IssuerTrust::Store(s.clone()),
        }
    }
}

/// Inputs common to every verification. Build it with [`VerifyOptions::new`] and override
/// fields with struct update syntax, so new fields get their defaults.
#[derive(Clone)]
pub struct VerifyOptions<'a> {
    /// The moment to verify at.
    pub at: OffsetDateTime,
    /// Tolerated clock skew, applied to every time comparison.
    pub skew: Duration,
    /// Which DS certificates to trust.
    pub trust: &'a IssuerTrust,
    /// Signature algorithms accepted for issuerAuth and deviceSignature.
    pub allowed_algorithms: &'a [Algorithm],
    /// The signature backend.
    pub verifier: &'a dyn Verifier,
    /// Status List / Identifier List tokens the app fetched for the MSOs' `status` entries,
    /// as received. Empty: MSO status is not checked (a warning when an MSO has one).
    pub list_tokens: &'a [ListToken<'a>],
}

/// Default tolerated clock skew for [`VerifyOptions::new`].
pub const DEFAULT_SKEW: Duration = crate::status::DEFAULT_SKEW;

impl<'a> VerifyOptions<'a> {
    /// Defaults: [`DEFAULT_SKEW`], [`DEFAULT_ALGORITHMS`], no list tokens.
    pub fn new(at: OffsetDateTime, trust: &'a IssuerTrust, verifier: &'a dyn Verifier) -> Self {
        VerifyOptions {
            at,
            skew: DEFAULT_SKEW,
            trust,
            allowed_algorithms: DEFAULT_ALGORITHMS,
            verifier,
            list_tokens: &[],
        }
    }
}

/// A revocation list token the app fetched, by kind, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListToken<'a> {
    /// A Token Status List CWT (for the MSO's `status_list`).
    StatusList(&'a [u8]),
    /// An Identifier List CWT (for the MSO's `identifier_list`).
    IdentifierList(&'a [u8]),
}

/// Algorithms accepted by default.
pub const DEFAULT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::EdDsa,
];

/// Session material for device authentication.
#[derive(Debug, Clone)]
pub struct DeviceAuthInput<'a> {
    /// The SessionTranscript both sides built.
    pub transcript: &'a SessionTranscript,
    /// The reader's ephemeral private key, needed only for deviceMac.
    pub e_reader_key: Option<&'a AgreementKey>,
}

/// The checks a verification may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// issuerAuth's algorithm is known and allowed.
    IssuerAlgorithm,
    /// x5chain is present and its first certificate parses.
    DsCertificate,
    /// The DS certificate is trusted (pinned, or issued by a trusted IACA).
    DsTrusted,
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
    /// No trusted IACA issued the DS certificate.
    NoTrustedIssuer(String),
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
    ListTokenWrongType(String),
    /// The token's signer certificate is not issued by a trusted IACA.
    ListTokenUntrusted(String),
    /// The token's signer is issued by a trusted IACA, but not the one that issued the DS.
    ListTokenFromOtherIssuer,
    /// The token has expired (`exp` passed, or `iat` + `ttl` passed).
    ListTokenExpired(String),
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
    fn pass(&mut self, kind: CheckKind, subject: Option<String>) {
        self.checks.push(Check {
            kind,
            subject,
            outcome: Ok(()),
        });
    }

    fn record(&mut self, kind: CheckKind, subject: Option<String>, outcome: Result<(), Failure>) {
        self.checks.push(Check {
            kind,
            subject,
            outcome,
        });
    }

    fn fail(&mut self, kind: CheckKind, failure: Failure) {
        self.record(kind, None, Err(failure));
    }

    fn warn(&mut self, kind: CheckKind, subject: Option<String>, reason: Failure) {
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

impl ResponseReport {
    /// True when the response holds at least one document and every document is valid.
    pub fn is_valid(&self) -> bool {
        !self.documents.is_empty() && self.documents.iter().all(DocumentReport::is_valid)
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

fn check_time_window(
    report: &mut DocumentReport,
    kind: CheckKind,
    which: &'static str,
    cert: &Certificate,
    opts: &VerifyOptions<'_>,
) -> bool {
    let outcome = match cert.validity_at(opts.at, opts.skew) {
        CertValidity::Valid => Ok(()),
        CertValidity::NotYetValid => Err(Failure::CertificateNotYetValid {
            which,
            not_before: cert.not_before(),
            at: opts.at,
        }),
        CertValidity::Expired => Err(Failure::CertificateExpired {
            which,
            not_after: cert.not_after(),
            at: opts.at,
        }),
    };
    let ok = outcome.is_ok();
    report.record(kind, Some(which.to_owned()), outcome);
    ok
}

/// Records DsTrusted (and IacaValidity, DsRevocation) and returns the issuing IACA.
fn check_trust<'a>(
    report: &mut DocumentReport,
    ds: &Certificate,
    opts: &VerifyOptions<'a>,
) -> Option<&'a Certificate> {
    let trust: &'a IssuerTrust = opts.trust;
    if let IssuerTrust::PinnedDocumentSigner(pinned) = trust {
        let outcome = if pinned.der() == ds.der() {
            Ok(())
        } else {
            Err(Failure::NotThePinnedCertificate)
        };
        report.record(CheckKind::DsTrusted, None, outcome);
        return None;
    }
    let iaca = trust
        .anchors_for(&report.doc_type)
        .map(|anchors| anchors.issuer_of(ds, opts.verifier));
    let iaca = match iaca {
        Some(Ok(iaca)) => {
            report.pass(CheckKind::DsTrusted, None);
            check_time_window(report, CheckKind::IacaValidity, "IACA", iaca, opts);
            Some(iaca)
        }
        Some(Err(reason)) => {
            report.fail(CheckKind::DsTrusted, Failure::NoTrustedIssuer(reason));
            None
        }
        None => None,
    };
    if let Some(store) = trust.store() {
        revocation::check_ds_revocation(report, ds, iaca, store, opts);
    }
    iaca
}

/// Verifies an IssuerSigned as a wallet does on receipt, or as the issuer-side half of a
/// Document: algorithm, DS certificate and trust, MSO signature, docType (when
/// `expected_doc_type` is given), validity, and every received value digest.
pub fn verify_issuer_signed(
    issuer_signed: &IssuerSigned,
    expected_doc_type: Option<&str>,
    opts: &VerifyOptions<'_>,
) -> DocumentReport {
    let auth = &issuer_signed.issuer_auth;
    let mso: &MobileSecurityObject = auth.mso().value();
    let mut report = DocumentReport {
        doc_type: expected_doc_type.unwrap_or(&mso.doc_type).to_owned(),
        checks: Vec::new(),
        warnings: Vec::new(),
    };

    // Algorithm.
    let alg = match auth.algorithm() {
        Ok(a) if opts.allowed_algorithms.contains(&a) => {
            report.pass(CheckKind::IssuerAlgorithm, None);
            Some(a)
        }
        Ok(a) => {
            report.fail(CheckKind::IssuerAlgorithm, Failure::AlgorithmNotAllowed(a));
            None
        }
        Err(e) => {
            report.fail(CheckKind::IssuerAlgorithm, Failure::Error(e));
            None
        }
    };

    // DS certificate, trust, validity.
    let ds = match auth.x5chain().and_then(|chain| {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::X5Chain("empty".into()))?;
        Certificate::from_der(leaf)
    }) {
        Ok(c) => {
            report.pass(CheckKind::DsCertificate, None);
            Some(c)
        }
        Err(e) => {
            report.fail(CheckKind::DsCertificate, Failure::Error(e));
            None
        }
    };
    let mut iaca = None;
    if let Some(ds) = &ds {
        iaca = check_trust(&mut report, ds, opts);
        check_time_window(&mut report, CheckKind::DsValidity, "DS", ds, opts);
    }

    // Signature.
    match (&ds, alg) {
        (Some(ds), Some(_)) => {
            let outcome = ds
                .public_key()
                .and_then(|key| sign1_verify(auth.sign1(), &key, opts.verifier))
                .map_err(Failure::Error);
            report.record(CheckKind::IssuerSignature, None, outcome);
        }
        _ => report.fail(
            CheckKind::IssuerSignature,
            Failure::NotChecked("no usable algorithm or DS certificate"),
        ),
    }

    // docType.
    if let Some(expected) = expected_doc_type {
        let outcome = if mso.doc_type == expected {
            Ok(())
        } else {
            Err(Failure::DocTypeMismatch {
                mso: mso.doc_type.clone(),
                document: expected.to_owned(),
            })
        };
        report.record(CheckKind::DocType, None, outcome);
    }

    // validityInfo.
    let v = &mso.validity_info;
    let (from, until, signed) = (
        v.valid_from.datetime(),
        v.valid_until.datetime(),
        v.signed.datetime(),
    );
    let outcome = if from > until || signed > until {
        Err(Failure::MsoValidityInconsistent)
    } else if opts.at.saturating_add(opts.skew) < from {
        Err(Failure::MsoNotYetValid {
            valid_from: from,
            at: opts.at,
        })
    } else if opts.at.saturating_sub(opts.skew) > until {
        Err(Failure::MsoExpired {
            valid_until: until,
            at: opts.at,
        })
    } else {
        Ok(())
    };
    report.record(CheckKind::MsoValidity, None, outcome);
    if let Some(ds) = &ds {
        let outcome = if signed.saturating_add(opts.skew) < ds.not_before()
            || signed.saturating_sub(opts.skew) > ds.not_after()
        {
            Err(Failure::SignedOutsideDsValidity { signed })
        } else {
            Ok(())
        };
        report.record(CheckKind::SignedWithinDsValidity, None, outcome);
    }

    // Value digests over the bytes as received.
    if let Some(name_spaces) = &issuer_signed.name_spaces {
        for (ns, items) in name_spaces {
            let digests = mso.value_digests.get(ns);
            let mut ids = BTreeSet::new();
            let mut names = BTreeSet::new();
            for item in items {
                let it = item.value();
                let subject = Some(format!("{ns}/{}", it.element_identifier));
                let outcome = if !ids.insert(it.digest_id) || !names.insert(&it.element_identifier)
                {
                    Err(Failure::DuplicateElement)
                } else {
                    match digests.and_then(|d| d.get(&it.digest_id)) {
                        None => Err(Failure::DigestNotInMso),
                        Some(expected) => {
                            let actual = mso.digest_algorithm.digest(item.tagged_bytes());
                            if constant_time_eq(expected, &actual) {
                                Ok(())
                            } else {
                                Err(Failure::DigestMismatch)
                            }
                        }
                    }
                };
                report.record(CheckKind::ValueDigest, subject, outcome);
            }
        }
    }

    country::check_issuing_country(&mut report, issuer_signed, ds.as_ref());
    revocation::check_mso_status(&mut report, mso, iaca, opts);

    // Device key.
    let outcome = mso
        .device_key_info
        .public_key()
        .map(|_| ())
        .map_err(Failure::Error);
    report.record(CheckKind::DeviceKey, None, outcome);
    report
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn device_key(mso: &MobileSecurityObject) -> Result<PublicKey, Failure> {
    mso.device_key_info.public_key().map_err(Failure::Error)
}

/// Verifies one Document of a DeviceResponse: everything [`verify_issuer_signed`] checks, with
/// the MSO docType compared to the Document's, plus device authentication over `session`.
pub fn verify_document(
    document: &Document,
    session: &DeviceAuthInput<'_>,
    opts: &VerifyOptions<'_>,
) -> DocumentReport {
    let mut report = verify_issuer_signed(&document.issuer_signed, Some(&document.doc_type), opts);
    let mso = document.issuer_signed.issuer_auth.mso().value();
    let device_signed = &document.device_signed;
    let payload = device_authentication_bytes(
        session.transcript,
        &document.doc_type,
        device_signed.name_spaces.tagged_bytes(),
    );
    let outcome = device_key(mso).and_then(|key| match &device_signed.device_auth {
        DeviceAuth::Signature(sign1) => {
            match crate::cose::sign1_algorithm(sign1) {
                Ok(a) if !opts.allowed_algorithms.contains(&a) => {
                    return Err(Failure::AlgorithmNotAllowed(a))
                }
                Err(e) => return Err(Failure::Error(e)),
                Ok(_) => {}
            }
            sign1_verify_detached(sign1, &payload, &key, opts.verifier).map_err(Failure::Error)
        }
        DeviceAuth::Mac(mac0) => {
            let reader = session.e_reader_key.ok_or(Failure::MissingReaderKey)?;
            let shared = reader.shared_secret(&key).map_err(Failure::Error)?;
            let mac_key =
                derive_session_key(&shared, &session.transcript.tagged_bytes(), EMAC_KEY_INFO);
            mac0_verify_detached(mac0, &payload, mac_key.as_ref()).map_err(Failure::Error)
        }
    });
    report.record(CheckKind::DeviceAuthentication, None, outcome);

    // Device-signed elements must be authorized by keyAuthorizations.
    let device_ns = &device_signed.name_spaces.value().0;
    if device_ns.values().any(|e| !e.is_empty()) {
        let auth = mso.device_key_info.key_authorizations.as_ref();
        for (ns, elems) in device_ns {
            for id in elems.keys() {
                let allowed = auth.is_some_and(|a| {
                    a.name_spaces.as_ref().is_some_and(|n| n.contains(ns))
                        || a.data_elements
                            .as_ref()
                            .and_then(|d| d.get(ns))
                            .is_some_and(|ids| ids.contains(id))
                });
                report.record(
                    CheckKind::DeviceSignedAuthorized,
                    Some(format!("{ns}/{id}")),
                    if allowed {
                        Ok(())
                    } else {
                        Err(Failure::NotAuthorized)
                    },
                );
            }
        }
    }
    report
}

/// Verifies every Document of a DeviceResponse.
pub fn verify_device_response(
    response: &DeviceResponse,
    session: &DeviceAuthInput<'_>,
    opts: &VerifyOptions<'_>,
) -> ResponseReport {
    ResponseReport {
        status: response.status,
        documents: response
            .documents
            .iter()
            .flatten()
            .map(|d| verify_document(d, session, opts))
            .collect(),
    }
}
