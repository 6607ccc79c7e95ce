//! The ISO/IEC 18013-5 Annex B CRL profile and RFC 5280 §5, as typed [`CrlViolation`]s: what
//! the CA checks before it signs a CRL and what the DTS checks before it publishes one.
//!
//! - [`inspect_tbs_crl`]: v2; signature algorithm, issuer name, time encodings and the AKI form
//!   by the certificate rules of [`crate::x509::profile`]; nextUpdate present, after
//!   thisUpdate, at most `max_validity` later; `revokedCertificates` absent when empty;
//!   entries with positive serials of at most 20 octets, no duplicates, revocationDate not
//!   after thisUpdate and no entry extensions; CRL extensions exactly authorityKeyIdentifier
//!   and cRLNumber (at most 20 octets), both non-critical.
//! - [`inspect_crl_against_issuer`]: issuer DN = IACA subject, signature algorithm fits the
//!   IACA key, AKI = IACA SKI, the IACA has cRLSign.
//! - [`EntryChecker`]: the entry rules, streamed, for a producer that checks its inputs before
//!   it encodes them.

use der::Decode;
use time::Duration;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::TbsCertList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, KeyUsage, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::time::Time;

use crate::x509::profile::{self, NameField, Violation};
use crate::x509::{oid, signature, spki, time as x509_time};

/// What is wrong with a revoked entry's serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialProblem {
    /// Negative.
    Negative,
    /// Zero.
    Zero,
    /// Longer than 20 octets (the length).
    TooLong(usize),
}

impl core::fmt::Display for SerialProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SerialProblem::Negative => f.write_str("negative serial number"),
            SerialProblem::Zero => f.write_str("serial number zero"),
            SerialProblem::TooLong(n) => write!(f, "serial number of {n} octets (at most 20)"),
        }
    }
}

/// A time field of a CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// thisUpdate.
    ThisUpdate,
    /// nextUpdate.
    NextUpdate,
    /// The revocationDate of entry `n`.
    RevocationDate(usize),
}

impl core::fmt::Display for TimeField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TimeField::ThisUpdate => f.write_str("thisUpdate"),
            TimeField::NextUpdate => f.write_str("nextUpdate"),
            TimeField::RevocationDate(i) => write!(f, "entry {i}: revocationDate"),
        }
    }
}

/// One departure of a CRL from its profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlViolation {
    /// A rule shared with certificates (signature algorithm, issuer name, extension encoding,
    /// AKI form).
    #[error("{0}")]
    Shared(Violation),
    /// Not v2.
    #[error("CRLs must be v2")]
    Version,
    /// A time before 2050 not in UTCTime (RFC 5280 §5.1.2.4).
    #[error("{0} before 2050 must be UTCTime")]
    TimeEncoding(TimeField),
    /// No nextUpdate (Annex B requires it).
    #[error("nextUpdate is required")]
    NoNextUpdate,
    /// nextUpdate not after thisUpdate.
    #[error("nextUpdate must be after thisUpdate")]
    UpdateOrder,
    /// nextUpdate further from thisUpdate than the policy allows.
    #[error("nextUpdate is {seconds} s after thisUpdate (at most {max_days} days)")]
    ValidityTooLong {
        /// The distance.
        seconds: i64,
        /// The policy maximum.
        max_days: i64,
    },
    /// An empty revokedCertificates that should have been omitted.
    #[error("an empty revokedCertificates must be omitted")]
    EmptyRevokedCertificates,
    /// A bad serial number in entry `index`.
    #[error("entry {index}: {problem}")]
    EntrySerial {
        /// The entry.
        index: usize,
        /// What is wrong.
        problem: SerialProblem,
    },
    /// Entry `index` was revoked after thisUpdate.
    #[error("entry {index}: revocationDate is after thisUpdate")]
    RevocationAfterThisUpdate {
        /// The entry.
        index: usize,
    },
    /// Entry `index` has extensions (Annex B allows none).
    #[error("entry {index}: CRL entries must not have extensions")]
    EntryExtensions {
        /// The entry.
        index: usize,
    },
    /// A serial listed twice (hex).
    #[error("serial {0} is listed twice")]
    DuplicateSerial(String),
    /// An extension present twice.
    #[error("{0} twice")]
    DuplicateExtension(&'static str),
    /// cRLNumber longer than 20 octets.
    #[error("cRLNumber longer than 20 octets")]
    NumberTooLong,
    /// An extension other than authorityKeyIdentifier and cRLNumber.
    #[error("{name} ({oid}) is not allowed: CRL extensions are exactly authorityKeyIdentifier and cRLNumber")]
    ForbiddenExtension {
        /// Its name, when known.
        name: &'static str,
        /// Its OID.
        oid: String,
    },
    /// authorityKeyIdentifier or cRLNumber marked critical.
    #[error("{0} must be non-critical")]
    Critical(&'static str),
    /// No authorityKeyIdentifier.
    #[error("authorityKeyIdentifier is required")]
    NoAki,
    /// No cRLNumber.
    #[error("cRLNumber is required")]
    NoNumber,
    /// The issuer DN is not the IACA's subject.
    #[error("CRL issuer DN differs from the IACA's subject DN")]
    IssuerName,
    /// The signature algorithm does not fit the IACA's key.
    #[error("signature algorithm {algorithm} does not fit the issuer's {curve} key")]
    AlgorithmDoesNotFitIssuer {
        /// The CRL's algorithm.
        algorithm: String,
        /// The IACA key's curve.
        curve: String,
    },
    /// The IACA's key cannot be used.
    #[error("the issuer public key is unusable")]
    IssuerKey,
    /// AKI is not the IACA's SKI.
    #[error("CRL authorityKeyIdentifier must equal the IACA's subjectKeyIdentifier")]
    AkiMismatch,
    /// The IACA's keyUsage lacks cRLSign.
    #[error("the issuer's keyUsage lacks cRLSign")]
    NoCrlSign,
}

impl CrlViolation {
    /// A stable identifier (the shared rules keep their [`Violation::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            CrlViolation::Shared(v) => v.code(),
            CrlViolation::Version => "rfc5280.crl.version",
            CrlViolation::TimeEncoding(_) => "rfc5280.time.encoding",
            CrlViolation::NoNextUpdate => "annexb.crl.next_update",
            CrlViolation::UpdateOrder => "rfc5280.crl.update_order",
            CrlViolation::ValidityTooLong { .. } => "policy.crl.validity",
            CrlViolation::EmptyRevokedCertificates => "rfc5280.crl.empty_revoked",
            CrlViolation::EntrySerial { .. } => "rfc5280.crl.entry.serial",
            CrlViolation::RevocationAfterThisUpdate { .. } => "crl.entry.revocation_date",
            CrlViolation::EntryExtensions { .. } => "annexb.crl.entry_extensions",
            CrlViolation::DuplicateSerial(_) => "crl.entry.duplicate",
            CrlViolation::DuplicateExtension(_) => "rfc5280.ext.duplicate",
            CrlViolation::NumberTooLong => "rfc5280.crl.number",
            CrlViolation::ForbiddenExtension { .. } => "annexb.crl.extensions",
            CrlViolation::Critical(_) => "annexb.crl.criticality",
            CrlViolation::NoAki => "annexb.crl.aki",
            CrlViolation::NoNumber => "annexb.crl.number",
            CrlViolation::IssuerName => "chain.issuer_name",
            CrlViolation::AlgorithmDoesNotFitIssuer { .. } => "annexb.signature.algorithm",
            CrlViolation::IssuerKey => "chain.issuer_key",
            CrlViolation::AkiMismatch => "chain.aki",
            CrlViolation::NoCrlSign => "chain.crl_sign",
        }
    }
}

/// The entry rules, streamed: serials, revocation dates, entry extensions, duplicates.
#[derive(Debug)]
pub struct EntryChecker<'a> {
    this_update: i64,
    serials: Vec<&'a [u8]>,
    out: Vec<CrlViolation>,
}

impl<'a> EntryChecker<'a> {
    /// A checker for a CRL with thisUpdate `this_update` (Unix seconds) and about `capacity`
    /// entries.
    pub fn new(this_update: i64, capacity: usize) -> Self {
        EntryChecker {
            this_update,
            serials: Vec::with_capacity(capacity),
            out: Vec::new(),
        }
    }

    /// Entry `index`: `magnitude` is the serial's unsigned big-endian value without leading
    /// zeros, `content_len` the length of its DER INTEGER content, `negative` its sign.
    pub fn entry(
        &mut self,
        index: usize,
        magnitude: &'a [u8],
        content_len: usize,
        negative: bool,
        revocation_date: i64,
        has_extensions: bool,
    ) {
        let problem = if negative {
            Some(SerialProblem::Negative)
        } else if magnitude.is_empty() {
            Some(SerialProblem::Zero)
        } else if content_len > 20 {
            Some(SerialProblem::TooLong(content_len))
        } else {
            self.serials.push(magnitude);
            None
        };
        if let Some(problem) = problem {
            self.out.push(CrlViolation::EntrySerial { index, problem });
        }
        if revocation_date > self.this_update {
            self.out
                .push(CrlViolation::RevocationAfterThisUpdate { index });
        }
        if has_extensions {
            self.out.push(CrlViolation::EntryExtensions { index });
        }
    }

    /// The violations found, duplicates included.
    pub fn finish(mut self) -> Vec<CrlViolation> {
        self.serials.sort_unstable();
        for pair in self.serials.windows(2) {
            if let [a, b] = pair {
                if a == b {
                    let hex: String = a.iter().map(|b| format!("{b:02x}")).collect();
                    self.out.push(CrlViolation::DuplicateSerial(hex));
                }
            }
        }
        self.out
    }
}

fn unix_seconds(t: &Time) -> i64 {
    x509_time::to_datetime(*t).unix_timestamp()
}

fn time_encoding(t: &Time, field: TimeField, out: &mut Vec<CrlViolation>) {
    if !x509_time::is_rfc5280_encoding(t) {
        out.push(CrlViolation::TimeEncoding(field));
    }
}

fn shared(out: &mut Vec<CrlViolation>, violations: Vec<Violation>) {
    out.extend(violations.into_iter().map(CrlViolation::Shared));
}

/// The CRL's own rules (see the module documentation); `max_validity` bounds nextUpdate −
/// thisUpdate.
pub fn inspect_tbs_crl(tbs: &TbsCertList, max_validity: Duration) -> Vec<CrlViolation> {
    let mut out = Vec::new();
    if tbs.version != Version::V2 {
        out.push(CrlViolation::Version);
    }
    shared(
        &mut out,
        profile::inspect_signature_algorithm(&tbs.signature),
    );
    shared(
        &mut out,
        profile::inspect_name(&tbs.issuer, NameField::Issuer),
    );
    time_encoding(&tbs.this_update, TimeField::ThisUpdate, &mut out);
    let this_update = unix_seconds(&tbs.this_update);
    match &tbs.next_update {
        None => out.push(CrlViolation::NoNextUpdate),
        Some(next) => {
            time_encoding(next, TimeField::NextUpdate, &mut out);
            let next = unix_seconds(next);
            if next <= this_update {
                out.push(CrlViolation::UpdateOrder);
            } else if next - this_update > max_validity.whole_seconds() {
                out.push(CrlViolation::ValidityTooLong {
                    seconds: next - this_update,
                    max_days: max_validity.whole_days(),
                });
            }
        }
    }
    let mut entries = Vec::new();
    match &tbs.revoked_certificates {
        Some(list) if list.is_empty() => out.push(CrlViolation::EmptyRevokedCertificates),
        Some(list) => {
            let mut checker = EntryChecker::new(this_update, list.len());
            for (i, e) in list.iter().enumerate() {
                let content = e.serial_number.as_bytes();
                let negative = content.first().is_some_and(|b| b & 0x80 != 0);
                let start = content.iter().take_while(|b| **b == 0).count();
                time_encoding(&e.revocation_date, TimeField::RevocationDate(i), &mut out);
                checker.entry(
                    i,
                    content.get(start..).unwrap_or_default(),
                    content.len(),
                    negative,
                    unix_seconds(&e.revocation_date),
                    e.crl_entry_extensions.is_some(),
                );
            }
            entries = checker.finish();
        }
        None => {}
    }
    extensions(tbs.crl_extensions.as_deref(), &mut out);
    out.extend(entries);
    out
}

fn extensions(exts: Option<&[Extension]>, out: &mut Vec<CrlViolation>) {
    let mut seen_aki = false;
    let mut seen_number = false;
    for ext in exts.unwrap_or_default() {
        let label = match ext.extn_id {
            id if id == oid::AUTHORITY_KEY_IDENTIFIER => {
                if std::mem::replace(&mut seen_aki, true) {
                    out.push(CrlViolation::DuplicateExtension("authorityKeyIdentifier"));
                }
                let (aki, encoding) = profile::inspect_extension::<AuthorityKeyIdentifier>(ext);
                shared(out, encoding);
                if let Some(aki) = aki {
                    shared(out, profile::inspect_aki(&aki));
                }
                "authorityKeyIdentifier"
            }
            id if id == oid::CRL_NUMBER => {
                if std::mem::replace(&mut seen_number, true) {
                    out.push(CrlViolation::DuplicateExtension("cRLNumber"));
                }
                let (number, encoding) = profile::inspect_extension::<CrlNumber>(ext);
                shared(out, encoding);
                if number.is_some_and(|n| n.0.as_bytes().len() > 20) {
                    out.push(CrlViolation::NumberTooLong);
                }
                "cRLNumber"
            }
            id => {
                let name = match id {
                    i if i == oid::ISSUING_DISTRIBUTION_POINT => "issuingDistributionPoint",
                    i if i == oid::DELTA_CRL_INDICATOR => "deltaCRLIndicator",
                    i if i == oid::FRESHEST_CRL => "freshestCRL",
                    _ => "an unknown extension",
                };
                out.push(CrlViolation::ForbiddenExtension {
                    name,
                    oid: id.to_string(),
                });
                continue;
            }
        };
        if ext.critical {
            out.push(CrlViolation::Critical(label));
        }
    }
    if !seen_aki {
        out.push(CrlViolation::NoAki);
    }
    if !seen_number {
        out.push(CrlViolation::NoNumber);
    }
}

fn find_ext(exts: Option<&[Extension]>, id: der::asn1::ObjectIdentifier) -> Option<&Extension> {
    exts.and_then(|e| e.iter().find(|x| x.extn_id == id))
}

/// The rules between a CRL and the IACA that issues it (see the module documentation).
pub fn inspect_crl_against_issuer(tbs: &TbsCertList, issuer: &TbsCertificate) -> Vec<CrlViolation> {
    let mut out = Vec::new();
    if tbs.issuer != issuer.subject {
        out.push(CrlViolation::IssuerName);
    }
    if let Some(alg) = signature::algorithm_from_oid(&tbs.signature.oid) {
        match spki::decode_owned(&issuer.subject_public_key_info) {
            Ok(key) if key.curve().algorithm() == alg => {}
            Ok(key) => out.push(CrlViolation::AlgorithmDoesNotFitIssuer {
                algorithm: alg.to_string(),
                curve: key.curve().name().to_owned(),
            }),
            Err(_) => out.push(CrlViolation::IssuerKey),
        }
    }
    let aki = find_ext(tbs.crl_extensions.as_deref(), oid::AUTHORITY_KEY_IDENTIFIER)
        .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|a| a.key_identifier.map(|k| k.as_bytes().to_vec()));
    let ski = find_ext(issuer.extensions.as_deref(), oid::SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .map(|s| s.0.as_bytes().to_vec());
    if ski.is_none() || aki != ski {
        out.push(CrlViolation::AkiMismatch);
    }
    let crl_sign = find_ext(issuer.extensions.as_deref(), oid::KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|ku| ku.crl_sign());
    if !crl_sign {
        out.push(CrlViolation::NoCrlSign);
    }
    out
}
