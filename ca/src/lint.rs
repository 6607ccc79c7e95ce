//! Lint-before-sign: checks a `TBSCertificate` or `TBSCertList` against ISO/IEC 18013-5 Annex B
//! (as `docs/PROFILES.md` reconstructs it), RFC 5280 and the policy limits, BEFORE anything is
//! handed to the signer. The builders in [`crate::profile`] and [`crate::crl`] refuse to sign
//! when any finding is at [`Severity::Error`].
//!
//! The checks are strict: this is the producing side, so everything the profile does not ask
//! for is an error (unknown extensions, multi-valued RDNs, compressed points, ...).

use der::asn1::{ObjectIdentifier, PrintableStringRef};
use der::{Decode, Encode, Tagged};
use mso::crypto::{Curve, PublicKey};
use sha1::{Digest, Sha1};
use spki::SubjectPublicKeyInfoOwned;
use time::Duration;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::TbsCertList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, CrlNumber, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::time::Time;

use crate::profile::{
    add_months, algorithm_from_oid, attribute_text, attributes, offset_date_time, oid, unix_seconds,
};

/// How bad a finding is. Only [`Severity::Error`] blocks signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; not a defect.
    Notice,
    /// Allowed, but unusual or fragile with some verifiers.
    Warning,
    /// Violates the profile, RFC 5280 or the policy: nothing is signed.
    Error,
}

/// One lint result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// A stable identifier, e.g. `annexb.ext.forbidden` or `rfc5280.serial.zero`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl core::fmt::Display for Finding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let sev = match self.severity {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "[{sev}] {}: {}", self.code, self.message)
    }
}

/// Whether any finding is at [`Severity::Error`].
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Which certificate profile to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKind {
    /// The self-signed IACA (root) certificate (also NewWithNew at a rollover).
    Iaca,
    /// A Document Signer certificate.
    Ds,
    /// A link certificate (NewWithOld or OldWithNew).
    Link,
}

/// The policy numbers the lint enforces. [`Default`] gives the profile and CPS values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintPolicy {
    /// Longest IACA validity in calendar months (Annex B: 20 years = 240).
    pub max_iaca_validity_months: u32,
    /// Longest link certificate validity in calendar months (240, as for the IACA).
    pub max_link_validity_months: u32,
    /// Longest DS certificate validity in days of 86,400 s (Annex B: 457).
    pub max_ds_validity_days: u32,
    /// Longest CRL validity, nextUpdate − thisUpdate, in days (CPS §7.2.2: 3).
    pub max_crl_validity_days: u32,
    /// Curves allowed for IACA and link certificate keys (CPS §6.1.5.1: P-384).
    pub iaca_curves: Vec<Curve>,
    /// Curves allowed for DS keys (Annex B: P-256, P-384, P-521).
    pub ds_curves: Vec<Curve>,
    /// Fewest serial number octets (8 holds the ≥ 63 random bits of the profile; the builders
    /// always write 20).
    pub min_serial_octets: usize,
}

impl Default for LintPolicy {
    fn default() -> Self {
        LintPolicy {
            max_iaca_validity_months: 240,
            max_link_validity_months: 240,
            max_ds_validity_days: 457,
            max_crl_validity_days: 3,
            iaca_curves: vec![Curve::P384],
            ds_curves: vec![Curve::P256, Curve::P384, Curve::P521],
            min_serial_octets: 8,
        }
    }
}

/// Collects findings, reporting at most `CAP` per code (plus one summary), so a CRL with a
/// million bad entries does not produce a million findings.
#[derive(Default)]
struct Out {
    findings: Vec<Finding>,
    counts: Vec<(&'static str, usize)>,
}

const CAP: usize = 10;

impl Out {
    fn push(&mut self, severity: Severity, code: &'static str, message: String) {
        let count = match self.counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((code, 1));
                1
            }
        };
        if count <= CAP {
            self.findings.push(Finding {
                severity,
                code,
                message,
            });
        }
    }

    fn err(&mut self, code: &'static str, message: impl Into<String>) {
        self.push(Severity::Error, code, message.into());
    }

    fn warn(&mut self, code: &'static str, message: impl Into<String>) {
        self.push(Severity::Warning, code, message.into());
    }

    fn finish(mut self) -> Vec<Finding> {
        for (code, n) in &self.counts {
            if *n > CAP {
                let severity = self
                    .findings
                    .iter()
                    .find(|f| f.code == *code)
                    .map_or(Severity::Error, |f| f.severity);
                self.findings.push(Finding {
                    severity,
                    code,
                    message: format!("... and {} more findings like this", n - CAP),
                });
            }
        }
        self.findings
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates.

/// Lints a TBS certificate of `kind` against Annex B, RFC 5280 and `policy`. Checks that need
/// the issuer certificate are in [`lint_certificate_against_issuer`].
pub fn lint_tbs_certificate(
    tbs: &TbsCertificate,
    kind: CertKind,
    policy: &LintPolicy,
) -> Vec<Finding> {
    let mut out = Out::default();
    if tbs.version != Version::V3 {
        out.err("rfc5280.version", "certificates must be X.509 v3");
    }
    lint_serial_content(tbs.serial_number.as_bytes(), policy, &mut out);
    lint_signature_algorithm(&tbs.signature, &mut out);
    lint_name(&tbs.issuer, "issuer", &mut out);
    lint_name(&tbs.subject, "subject", &mut out);
    let self_issued = tbs.issuer == tbs.subject;
    match kind {
        CertKind::Iaca | CertKind::Link if !self_issued => out.err(
            "annexb.ca.self_issued",
            "IACA and link certificates must have issuer = subject (same DN across rollovers, \
             so a link certificate is self-issued and pathLen 0 holds)",
        ),
        CertKind::Ds if self_issued => out.err(
            "annexb.ds.subject",
            "the DS subject must differ from the IACA subject",
        ),
        _ => {}
    }
    lint_cert_validity(tbs, kind, policy, &mut out);
    if tbs.issuer_unique_id.is_some() || tbs.subject_unique_id.is_some() {
        out.err(
            "rfc5280.unique_id",
            "issuerUniqueID/subjectUniqueID must not be used",
        );
    }
    let curves = match kind {
        CertKind::Iaca | CertKind::Link => &policy.iaca_curves,
        CertKind::Ds => &policy.ds_curves,
    };
    let key = lint_spki(&tbs.subject_public_key_info, curves, &mut out);
    if kind == CertKind::Iaca {
        if let (Some(key), Some(alg)) = (&key, algorithm_from_oid(&tbs.signature.oid)) {
            if key.curve().algorithm() != alg {
                out.err(
                    "annexb.signature.algorithm",
                    format!(
                        "self-signed with {alg} but the key is {}",
                        key.curve().name()
                    ),
                );
            }
        }
    }
    lint_cert_extensions(tbs, kind, &mut out);
    out.finish()
}

/// Lints the relation between a TBS certificate and its issuer (for [`CertKind::Iaca`] pass the
/// certificate itself): names chain, the signature algorithm fits the issuer key, AKI = issuer
/// SKI, the issuer is a CA; for a DS also validity inside the IACA's, `C` and `ST` equal, a key
/// different from the IACA's.
pub fn lint_certificate_against_issuer(
    tbs: &TbsCertificate,
    kind: CertKind,
    issuer: &TbsCertificate,
) -> Vec<Finding> {
    let mut out = Out::default();
    if tbs.issuer != issuer.subject {
        out.err(
            "chain.issuer_name",
            "issuer DN differs from the issuer certificate's subject DN",
        );
    }
    lint_signature_fits_issuer(&tbs.signature.oid, issuer, &mut out);
    if kind != CertKind::Iaca {
        lint_issuer_is_ca(issuer, &mut out);
        let aki = find_ext(tbs.extensions.as_deref(), oid::AUTHORITY_KEY_IDENTIFIER)
            .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .and_then(|a| a.key_identifier.map(|k| k.as_bytes().to_vec()));
        let issuer_ski = subject_key_id(issuer);
        if issuer_ski.is_none() || aki != issuer_ski {
            out.err(
                "chain.aki",
                "authorityKeyIdentifier must equal the issuer's subjectKeyIdentifier",
            );
        }
        if tbs.subject_public_key_info == issuer.subject_public_key_info {
            out.err(
                "chain.same_key",
                "the subject key is the issuer's key (a self-signed certificate is an IACA, \
                 not a DS or link certificate)",
            );
        }
    }
    if kind == CertKind::Ds {
        let (nb, na) = (
            unix_seconds(&tbs.validity.not_before),
            unix_seconds(&tbs.validity.not_after),
        );
        let (inb, ina) = (
            unix_seconds(&issuer.validity.not_before),
            unix_seconds(&issuer.validity.not_after),
        );
        if nb < inb || na > ina {
            out.err(
                "annexb.ds.validity_inside_iaca",
                "the DS validity must lie inside the IACA validity",
            );
        }
        for (attr, label) in [
            (oid::COUNTRY_NAME, "countryName"),
            (oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName"),
        ] {
            let texts = |n: &Name| -> Vec<String> {
                attributes(n, attr)
                    .map(|a| {
                        attribute_text(&a.value)
                            .unwrap_or("<unreadable>")
                            .to_owned()
                    })
                    .collect()
            };
            if texts(&tbs.subject) != texts(&issuer.subject) {
                out.err(
                    "annexb.ds.subject_c_st",
                    format!("DS subject {label} must equal the IACA's"),
                );
            }
        }
    }
    out.finish()
}

fn lint_signature_fits_issuer(sig_oid: &ObjectIdentifier, issuer: &TbsCertificate, out: &mut Out) {
    let Some(alg) = algorithm_from_oid(sig_oid) else {
        return; // reported by lint_signature_algorithm
    };
    match spki_key(&issuer.subject_public_key_info) {
        Some(key) if key.curve().algorithm() == alg => {}
        Some(key) => out.err(
            "annexb.signature.algorithm",
            format!(
                "signature algorithm {alg} does not fit the issuer's {} key",
                key.curve().name()
            ),
        ),
        None => out.err("chain.issuer_key", "the issuer public key is unusable"),
    }
}

fn lint_issuer_is_ca(issuer: &TbsCertificate, out: &mut Out) {
    let exts = issuer.extensions.as_deref();
    let ca = find_ext(exts, oid::BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|bc| bc.ca);
    let cert_sign = find_ext(exts, oid::KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|ku| ku.key_cert_sign());
    if !ca || !cert_sign {
        out.err(
            "chain.issuer_not_ca",
            "the issuer certificate is not a CA with keyCertSign",
        );
    }
}

fn subject_key_id(tbs: &TbsCertificate) -> Option<Vec<u8>> {
    find_ext(tbs.extensions.as_deref(), oid::SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .map(|s| s.0.as_bytes().to_vec())
}

fn find_ext(exts: Option<&[Extension]>, id: ObjectIdentifier) -> Option<&Extension> {
    exts.and_then(|e| e.iter().find(|x| x.extn_id == id))
}

fn spki_key(spki: &SubjectPublicKeyInfoOwned) -> Option<PublicKey> {
    mso::x509::spki::decode_owned(spki).ok()
}

/// Serial number rules on the DER INTEGER content octets.
fn lint_serial_content(content: &[u8], policy: &LintPolicy, out: &mut Out) {
    match content {
        [] => out.err("rfc5280.serial.malformed", "empty serial number"),
        [first, ..] if first & 0x80 != 0 => {
            out.err("rfc5280.serial.negative", "serial number is negative")
        }
        [0] => out.err("rfc5280.serial.zero", "serial number is zero"),
        [0, second, ..] if second & 0x80 == 0 => out.err(
            "rfc5280.serial.non_minimal",
            "serial number INTEGER has a redundant leading zero octet",
        ),
        _ => {
            if content.len() > 20 {
                out.err(
                    "rfc5280.serial.too_long",
                    format!("serial number has {} octets (at most 20)", content.len()),
                );
            }
            if content.len() < policy.min_serial_octets {
                out.err(
                    "annexb.serial.entropy",
                    format!(
                        "serial number has {} octets; at least {} (≥ 63 random bits) are required",
                        content.len(),
                        policy.min_serial_octets
                    ),
                );
            }
        }
    }
}

fn lint_signature_algorithm(alg: &spki::AlgorithmIdentifierOwned, out: &mut Out) {
    if algorithm_from_oid(&alg.oid).is_none() {
        out.err(
            "annexb.signature.algorithm",
            format!(
                "signature algorithm {} is not ecdsa-with-SHA256/384/512 or Ed25519",
                alg.oid
            ),
        );
    } else if alg.parameters.is_some() {
        out.err(
            "rfc5758.signature.parameters",
            "ECDSA/Ed25519 signature AlgorithmIdentifier parameters must be absent",
        );
    }
}

/// (attribute, label, max characters, PrintableString only)
const NAME_ATTRIBUTES: &[(ObjectIdentifier, &str, usize, bool)] = &[
    (oid::COUNTRY_NAME, "countryName", 2, true),
    (
        oid::STATE_OR_PROVINCE_NAME,
        "stateOrProvinceName",
        128,
        false,
    ),
    (oid::LOCALITY_NAME, "localityName", 128, false),
    (oid::ORGANIZATION_NAME, "organizationName", 64, false),
    (
        oid::ORGANIZATIONAL_UNIT_NAME,
        "organizationalUnitName",
        64,
        false,
    ),
    (oid::COMMON_NAME, "commonName", 64, false),
    (oid::SERIAL_NUMBER, "serialNumber", 64, true),
    (
        oid::ORGANIZATION_IDENTIFIER,
        "organizationIdentifier",
        64,
        false,
    ),
];

fn lint_name(name: &Name, which: &str, out: &mut Out) {
    if name.0.is_empty() {
        out.err("rfc5280.name.empty", format!("{which} DN is empty"));
        return;
    }
    for rdn in &name.0 {
        if rdn.0.len() != 1 {
            out.err(
                "annexb.name.multi_valued_rdn",
                format!(
                    "{which} has an RDN with {} attributes (use one per RDN)",
                    rdn.0.len()
                ),
            );
        }
        for atv in rdn.0.iter() {
            let Some(&(_, label, max, printable_only)) =
                NAME_ATTRIBUTES.iter().find(|(o, ..)| *o == atv.oid)
            else {
                out.err(
                    "annexb.name.attribute",
                    format!("{which} has an unexpected attribute type {}", atv.oid),
                );
                continue;
            };
            let tag = atv.value.tag();
            let text = match tag {
                der::Tag::PrintableString => PrintableStringRef::new(atv.value.value())
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                der::Tag::Utf8String if !printable_only => core::str::from_utf8(atv.value.value())
                    .ok()
                    .map(str::to_owned),
                _ => None,
            };
            let Some(text) = text else {
                out.err(
                    "rfc5280.name.string_type",
                    format!(
                        "{which} {label} must be a valid {} (found {tag})",
                        if printable_only {
                            "PrintableString"
                        } else {
                            "PrintableString or UTF8String"
                        }
                    ),
                );
                continue;
            };
            let chars = text.chars().count();
            if chars == 0 {
                out.err(
                    "rfc5280.name.empty_value",
                    format!("{which} {label} is empty"),
                );
            } else if chars > max {
                out.err(
                    "rfc5280.name.upper_bound",
                    format!("{which} {label} has {chars} characters (at most {max})"),
                );
            }
            if text.trim() != text {
                out.warn(
                    "name.whitespace",
                    format!("{which} {label} has leading or trailing white space"),
                );
            }
            if atv.oid == oid::COUNTRY_NAME
                && !(chars == 2 && text.bytes().all(|b| b.is_ascii_uppercase()))
            {
                out.err(
                    "annexb.name.country",
                    format!(
                        "{which} countryName {text:?} must be an upper-case ISO 3166-1 alpha-2 code"
                    ),
                );
            }
        }
    }
    for (attr, label, exactly_one) in [
        (oid::COUNTRY_NAME, "countryName", true),
        (oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName", false),
        (oid::COMMON_NAME, "commonName", true),
    ] {
        let n = attributes(name, attr).count();
        if n > 1 || (exactly_one && n == 0) {
            out.err(
                "annexb.name.count",
                format!(
                    "{which} has {n} {label} attributes ({})",
                    if exactly_one {
                        "exactly one"
                    } else {
                        "at most one"
                    }
                ),
            );
        }
    }
}

fn lint_time_encoding(t: &Time, field: &str, out: &mut Out) {
    if let Time::GeneralTime(g) = t {
        if g.to_date_time().year() < 2050 {
            out.err(
                "rfc5280.time.encoding",
                format!("{field} before 2050 must be UTCTime"),
            );
        }
    }
}

fn lint_cert_validity(tbs: &TbsCertificate, kind: CertKind, policy: &LintPolicy, out: &mut Out) {
    let v = &tbs.validity;
    lint_time_encoding(&v.not_before, "notBefore", out);
    lint_time_encoding(&v.not_after, "notAfter", out);
    let (nb, na) = (unix_seconds(&v.not_before), unix_seconds(&v.not_after));
    if na <= nb {
        out.err("rfc5280.validity.order", "notAfter must be after notBefore");
        return;
    }
    let too_long = |max_end: Option<i64>| max_end.is_none_or(|end| na > end);
    let months_end = |months: u32| {
        add_months(offset_date_time(&v.not_before), months)
            .ok()
            .map(|t| t.unix_timestamp() - 1)
    };
    let (exceeded, limit) = match kind {
        CertKind::Iaca => (
            too_long(months_end(policy.max_iaca_validity_months)),
            format!("{} months", policy.max_iaca_validity_months),
        ),
        CertKind::Link => (
            too_long(months_end(policy.max_link_validity_months)),
            format!("{} months", policy.max_link_validity_months),
        ),
        CertKind::Ds => (
            too_long(nb.checked_add(i64::from(policy.max_ds_validity_days) * 86_400 - 1)),
            format!("{} days", policy.max_ds_validity_days),
        ),
    };
    if exceeded {
        out.err(
            "policy.validity.too_long",
            format!(
                "validity of {} s (inclusive) exceeds the policy maximum of {limit}",
                na - nb + 1
            ),
        );
    }
}

fn lint_spki(
    spki: &SubjectPublicKeyInfoOwned,
    curves: &[Curve],
    out: &mut Out,
) -> Option<PublicKey> {
    let Some(key) = spki_key(spki) else {
        out.err(
            "spki.invalid",
            "subjectPublicKeyInfo is not a valid key on a supported curve",
        );
        return None;
    };
    if !curves.contains(&key.curve()) {
        out.err(
            "policy.spki.curve",
            format!("{} keys are not allowed here", key.curve().name()),
        );
    }
    match key.curve() {
        Curve::Ed25519 => {
            if spki.algorithm.parameters.is_some() {
                out.err(
                    "rfc8410.spki.parameters",
                    "Ed25519 parameters must be absent",
                );
            }
        }
        _ => {
            if spki.subject_public_key.raw_bytes().first() != Some(&0x04) {
                out.err(
                    "annexb.spki.point_format",
                    "EC public keys must use the uncompressed point format",
                );
            }
        }
    }
    Some(key)
}

/// (extension, label, critical) per kind, all required.
fn cert_extension_profile(kind: CertKind) -> &'static [(ObjectIdentifier, &'static str, bool)] {
    const IACA: &[(ObjectIdentifier, &str, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier", false),
        (oid::KEY_USAGE, "keyUsage", true),
        (oid::BASIC_CONSTRAINTS, "basicConstraints", true),
        (oid::ISSUER_ALT_NAME, "issuerAltName", false),
        (oid::CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints", false),
    ];
    const LINK: &[(ObjectIdentifier, &str, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier", false),
        (
            oid::AUTHORITY_KEY_IDENTIFIER,
            "authorityKeyIdentifier",
            false,
        ),
        (oid::KEY_USAGE, "keyUsage", true),
        (oid::BASIC_CONSTRAINTS, "basicConstraints", true),
        (oid::ISSUER_ALT_NAME, "issuerAltName", false),
        (oid::CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints", false),
    ];
    const DS: &[(ObjectIdentifier, &str, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier", false),
        (
            oid::AUTHORITY_KEY_IDENTIFIER,
            "authorityKeyIdentifier",
            false,
        ),
        (oid::KEY_USAGE, "keyUsage", true),
        (oid::EXT_KEY_USAGE, "extendedKeyUsage", true),
        (oid::ISSUER_ALT_NAME, "issuerAltName", false),
        (oid::CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints", false),
    ];
    match kind {
        CertKind::Iaca => IACA,
        CertKind::Link => LINK,
        CertKind::Ds => DS,
    }
}

/// Extensions Annex B / the CPS forbid outright, named in findings.
const FORBIDDEN_EXTENSIONS: &[(ObjectIdentifier, &str)] = &[
    (oid::POLICY_MAPPINGS, "policyMappings"),
    (oid::NAME_CONSTRAINTS, "nameConstraints"),
    (oid::POLICY_CONSTRAINTS, "policyConstraints"),
    (oid::INHIBIT_ANY_POLICY, "inhibitAnyPolicy"),
    (oid::FRESHEST_CRL, "freshestCRL"),
    (oid::CERTIFICATE_POLICIES, "certificatePolicies"),
];

/// Decodes an extension value and checks it re-encodes to the same bytes (DER).
fn decode_ext<'a, T: Decode<'a> + Encode>(
    ext: &'a Extension,
    label: &str,
    out: &mut Out,
) -> Option<T> {
    match T::from_der(ext.extn_value.as_bytes()) {
        Ok(v) => {
            if v.to_der().ok().as_deref() != Some(ext.extn_value.as_bytes()) {
                out.err("der.extension", format!("{label} is not DER-encoded"));
            }
            Some(v)
        }
        Err(e) => {
            out.err("der.extension", format!("{label} does not decode: {e}"));
            None
        }
    }
}

fn lint_cert_extensions(tbs: &TbsCertificate, kind: CertKind, out: &mut Out) {
    let profile = cert_extension_profile(kind);
    let exts: &[Extension] = match &tbs.extensions {
        None => {
            out.err("annexb.ext.missing", "the certificate has no extensions");
            return;
        }
        Some(e) if e.is_empty() => {
            out.err(
                "rfc5280.ext.empty",
                "an empty extensions SEQUENCE must be omitted",
            );
            return;
        }
        Some(e) => e,
    };
    for (i, ext) in exts.iter().enumerate() {
        if exts
            .iter()
            .take(i)
            .any(|earlier| earlier.extn_id == ext.extn_id)
        {
            out.err(
                "rfc5280.ext.duplicate",
                format!("extension {} appears twice", ext.extn_id),
            );
            continue;
        }
        if let Some((_, label)) = FORBIDDEN_EXTENSIONS.iter().find(|(o, _)| *o == ext.extn_id) {
            out.err(
                "annexb.ext.forbidden",
                format!("{label} must not be present"),
            );
            continue;
        }
        let Some(&(_, label, critical)) = profile.iter().find(|(o, ..)| *o == ext.extn_id) else {
            out.err(
                "annexb.ext.unexpected",
                format!(
                    "extension {} ({}) is not part of the {kind:?} profile",
                    ext.extn_id,
                    if ext.critical {
                        "critical"
                    } else {
                        "non-critical"
                    }
                ),
            );
            continue;
        };
        if ext.critical != critical {
            out.err(
                "annexb.ext.criticality",
                format!(
                    "{label} must be {}",
                    if critical { "critical" } else { "non-critical" }
                ),
            );
        }
        lint_cert_extension_value(tbs, kind, ext, label, out);
    }
    for (id, label, _) in profile {
        if !exts.iter().any(|e| e.extn_id == *id) {
            out.err("annexb.ext.missing", format!("{label} is required"));
        }
    }
}

fn lint_cert_extension_value(
    tbs: &TbsCertificate,
    kind: CertKind,
    ext: &Extension,
    label: &str,
    out: &mut Out,
) {
    match ext.extn_id {
        id if id == oid::SUBJECT_KEY_IDENTIFIER => {
            if let Some(ski) = decode_ext::<SubjectKeyIdentifier>(ext, label, out) {
                let expected: [u8; 20] =
                    Sha1::digest(tbs.subject_public_key_info.subject_public_key.raw_bytes()).into();
                if ski.0.as_bytes() != expected {
                    out.err(
                        "annexb.ski.method1",
                        "subjectKeyIdentifier must be the SHA-1 of the subjectPublicKey \
                         (RFC 5280 method 1)",
                    );
                }
            }
        }
        id if id == oid::AUTHORITY_KEY_IDENTIFIER => {
            if let Some(aki) = decode_ext::<AuthorityKeyIdentifier>(ext, label, out) {
                lint_aki(&aki, out);
            }
        }
        id if id == oid::KEY_USAGE => {
            if let Some(ku) = decode_ext::<KeyUsage>(ext, label, out) {
                let (expected, text) = match kind {
                    CertKind::Iaca | CertKind::Link => (
                        KeyUsages::KeyCertSign | KeyUsages::CRLSign,
                        "keyCertSign and cRLSign",
                    ),
                    CertKind::Ds => (KeyUsages::DigitalSignature.into(), "digitalSignature"),
                };
                if ku.0 != expected {
                    out.err("annexb.ku", format!("keyUsage must be exactly {text}"));
                }
            }
        }
        id if id == oid::BASIC_CONSTRAINTS => {
            if let Some(bc) = decode_ext::<BasicConstraints>(ext, label, out) {
                if !bc.ca || bc.path_len_constraint != Some(0) {
                    out.err("annexb.bc", "basicConstraints must be CA=TRUE, pathLen=0");
                }
            }
        }
        id if id == oid::EXT_KEY_USAGE => {
            if let Some(eku) = decode_ext::<ExtendedKeyUsage>(ext, label, out) {
                if eku.0 != [oid::MDL_DS_EKU] {
                    out.err(
                        "annexb.eku",
                        "extendedKeyUsage must be exactly id-mdl-kp-mdlDS (1.0.18013.5.1.2)",
                    );
                }
            }
        }
        id if id == oid::ISSUER_ALT_NAME => {
            if let Some(ian) = decode_ext::<IssuerAltName>(ext, label, out) {
                if ian.0.is_empty() {
                    out.err("annexb.ian", "issuerAltName is empty");
                }
                for name in &ian.0 {
                    match name {
                        GeneralName::Rfc822Name(m) => {
                            if !is_mailbox(m.as_ref()) {
                                out.err(
                                    "annexb.ian.rfc822",
                                    format!("{:?} is not an e-mail address", m.to_string()),
                                );
                            }
                        }
                        GeneralName::UniformResourceIdentifier(u) => {
                            if !is_uri(u.as_ref(), &[]) {
                                out.err(
                                    "annexb.ian.uri",
                                    format!("{:?} is not an absolute URI", u.to_string()),
                                );
                            }
                        }
                        _ => out.err(
                            "annexb.ian.type",
                            "issuerAltName may hold only rfc822Name and URI entries",
                        ),
                    }
                }
            }
        }
        id if id == oid::CRL_DISTRIBUTION_POINTS => {
            if let Some(dps) = decode_ext::<CrlDistributionPoints>(ext, label, out) {
                if dps.0.is_empty() {
                    out.err("annexb.crldp", "cRLDistributionPoints is empty");
                }
                for dp in &dps.0 {
                    if dp.reasons.is_some() || dp.crl_issuer.is_some() {
                        out.err(
                            "annexb.crldp.fields",
                            "distribution points must not have reasons or cRLIssuer",
                        );
                    }
                    match &dp.distribution_point {
                        Some(DistributionPointName::FullName(names)) if !names.is_empty() => {
                            for n in names {
                                match n {
                                    GeneralName::UniformResourceIdentifier(u)
                                        if is_uri(u.as_ref(), &["http", "https"]) => {}
                                    _ => out.err(
                                        "annexb.crldp.uri",
                                        "distribution point names must be http(s) URIs",
                                    ),
                                }
                            }
                        }
                        _ => out.err(
                            "annexb.crldp.full_name",
                            "distribution points must have a fullName with URIs",
                        ),
                    }
                }
            }
        }
        _ => {}
    }
}

fn lint_aki(aki: &AuthorityKeyIdentifier, out: &mut Out) {
    if aki
        .key_identifier
        .as_ref()
        .is_none_or(|k| k.as_bytes().is_empty())
    {
        out.err(
            "annexb.aki.key_identifier",
            "authorityKeyIdentifier must have a keyIdentifier",
        );
    }
    if aki.authority_cert_issuer.is_some() || aki.authority_cert_serial_number.is_some() {
        out.err(
            "annexb.aki.fields",
            "authorityKeyIdentifier must have only a keyIdentifier",
        );
    }
}

/// A plausible absolute URI: `scheme:rest`, scheme per RFC 3986, printable ASCII without
/// spaces; `schemes` (lower case), if not empty, restricts the scheme.
fn is_uri(s: &str, schemes: &[&str]) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && s.bytes().all(|b| b.is_ascii_graphic())
        && (schemes.is_empty() || schemes.iter().any(|want| scheme.eq_ignore_ascii_case(want)))
        && (!schemes.iter().any(|w| w.starts_with("http")) || rest.starts_with("//"))
}

fn is_mailbox(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && s.bytes().all(|b| b.is_ascii_graphic())
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// CRLs.

/// Streaming checks of CRL entries, shared by [`lint_tbs_crl`] and the CRL builder (which
/// checks its inputs without materialising x509-cert entries).
pub(crate) struct EntryLinter<'a> {
    this_update: i64,
    serials: Vec<&'a [u8]>,
    out: Out,
}

impl<'a> EntryLinter<'a> {
    pub(crate) fn new(this_update: i64, capacity: usize) -> Self {
        EntryLinter {
            this_update,
            serials: Vec::with_capacity(capacity),
            out: Out::default(),
        }
    }

    /// One entry. `magnitude` is the serial's unsigned big-endian value without leading zeros,
    /// `content_len` the length of its DER INTEGER content, `negative` whether it is negative.
    pub(crate) fn entry(
        &mut self,
        index: usize,
        magnitude: &'a [u8],
        content_len: usize,
        negative: bool,
        revocation_date: i64,
        has_extensions: bool,
    ) {
        let out = &mut self.out;
        if negative {
            out.err(
                "rfc5280.crl.entry.serial",
                format!("entry {index}: negative serial number"),
            );
        } else if magnitude.is_empty() {
            out.err(
                "rfc5280.crl.entry.serial",
                format!("entry {index}: serial number zero"),
            );
        } else if content_len > 20 {
            out.err(
                "rfc5280.crl.entry.serial",
                format!("entry {index}: serial number of {content_len} octets (at most 20)"),
            );
        } else {
            self.serials.push(magnitude);
        }
        if revocation_date > self.this_update {
            out.err(
                "crl.entry.revocation_date",
                format!("entry {index}: revocationDate is after thisUpdate"),
            );
        }
        if has_extensions {
            out.err(
                "annexb.crl.entry_extensions",
                format!("entry {index}: CRL entries must not have extensions"),
            );
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Finding> {
        self.serials.sort_unstable();
        for pair in self.serials.windows(2) {
            if let [a, b] = pair {
                if a == b {
                    self.out.err(
                        "crl.entry.duplicate",
                        format!("serial {} is listed twice", hex::encode(a)),
                    );
                }
            }
        }
        self.out.finish()
    }
}

/// Lints a TBS CRL against Annex B and RFC 5280: v2, signature algorithm, issuer DN, thisUpdate
/// < nextUpdate within the policy maximum, revokedCertificates absent when empty, entries
/// (positive serials ≤ 20 octets, no duplicates, revocationDate ≤ thisUpdate, no entry
/// extensions), CRL extensions exactly authorityKeyIdentifier + cRLNumber, non-critical.
pub fn lint_tbs_crl(tbs: &TbsCertList, policy: &LintPolicy) -> Vec<Finding> {
    let mut out = Out::default();
    let mut entry_findings = Vec::new();
    if tbs.version != Version::V2 {
        out.err("rfc5280.crl.version", "CRLs must be v2");
    }
    lint_signature_algorithm(&tbs.signature, &mut out);
    lint_name(&tbs.issuer, "issuer", &mut out);
    lint_time_encoding(&tbs.this_update, "thisUpdate", &mut out);
    let this_update = unix_seconds(&tbs.this_update);
    match &tbs.next_update {
        None => out.err("annexb.crl.next_update", "nextUpdate is required"),
        Some(next) => {
            lint_time_encoding(next, "nextUpdate", &mut out);
            let next = unix_seconds(next);
            let max = Duration::days(i64::from(policy.max_crl_validity_days)).whole_seconds();
            if next <= this_update {
                out.err(
                    "rfc5280.crl.update_order",
                    "nextUpdate must be after thisUpdate",
                );
            } else if next - this_update > max {
                out.err(
                    "policy.crl.validity",
                    format!(
                        "nextUpdate is {} s after thisUpdate (at most {} days)",
                        next - this_update,
                        policy.max_crl_validity_days
                    ),
                );
            }
        }
    }
    match &tbs.revoked_certificates {
        Some(entries) if entries.is_empty() => out.err(
            "rfc5280.crl.empty_revoked",
            "an empty revokedCertificates must be omitted",
        ),
        Some(entries) => {
            let mut linter = EntryLinter::new(this_update, entries.len());
            for (i, e) in entries.iter().enumerate() {
                let content = e.serial_number.as_bytes();
                let negative = content.first().is_some_and(|b| b & 0x80 != 0);
                let start = content.iter().take_while(|b| **b == 0).count();
                let magnitude = content.get(start..).unwrap_or_default();
                if let Time::GeneralTime(g) = &e.revocation_date {
                    if g.to_date_time().year() < 2050 {
                        out.err(
                            "rfc5280.time.encoding",
                            format!("entry {i}: revocationDate before 2050 must be UTCTime"),
                        );
                    }
                }
                linter.entry(
                    i,
                    magnitude,
                    content.len(),
                    negative,
                    unix_seconds(&e.revocation_date),
                    e.crl_entry_extensions.is_some(),
                );
            }
            entry_findings = linter.finish();
        }
        None => {}
    }
    lint_crl_extensions_into(tbs.crl_extensions.as_deref(), &mut out);
    let mut findings = out.finish();
    findings.extend(entry_findings);
    findings
}

fn lint_crl_extensions_into(exts: Option<&[Extension]>, out: &mut Out) {
    let exts = exts.unwrap_or_default();
    let mut seen_aki = false;
    let mut seen_number = false;
    for ext in exts {
        let label = match ext.extn_id {
            id if id == oid::AUTHORITY_KEY_IDENTIFIER => {
                if std::mem::replace(&mut seen_aki, true) {
                    out.err("rfc5280.ext.duplicate", "authorityKeyIdentifier twice");
                }
                if let Some(aki) = decode_ext::<AuthorityKeyIdentifier>(ext, "AKI", out) {
                    lint_aki(&aki, out);
                }
                "authorityKeyIdentifier"
            }
            id if id == oid::CRL_NUMBER => {
                if std::mem::replace(&mut seen_number, true) {
                    out.err("rfc5280.ext.duplicate", "cRLNumber twice");
                }
                if let Some(n) = decode_ext::<CrlNumber>(ext, "cRLNumber", out) {
                    if n.0.as_bytes().len() > 20 {
                        out.err("rfc5280.crl.number", "cRLNumber longer than 20 octets");
                    }
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
                out.err(
                    "annexb.crl.extensions",
                    format!(
                        "{name} ({id}) is not allowed: CRL extensions are exactly \
                         authorityKeyIdentifier and cRLNumber"
                    ),
                );
                continue;
            }
        };
        if ext.critical {
            out.err(
                "annexb.crl.criticality",
                format!("{label} must be non-critical"),
            );
        }
    }
    if !seen_aki {
        out.err("annexb.crl.aki", "authorityKeyIdentifier is required");
    }
    if !seen_number {
        out.err("annexb.crl.number", "cRLNumber is required");
    }
}

/// Lints a TBS CRL against the IACA that issues it: issuer DN = IACA subject, signature
/// algorithm fits the IACA key, AKI = IACA SKI, the IACA has cRLSign.
pub fn lint_crl_against_issuer(tbs: &TbsCertList, issuer: &TbsCertificate) -> Vec<Finding> {
    let mut out = Out::default();
    if tbs.issuer != issuer.subject {
        out.err(
            "chain.issuer_name",
            "CRL issuer DN differs from the IACA's subject DN",
        );
    }
    lint_signature_fits_issuer(&tbs.signature.oid, issuer, &mut out);
    let aki = find_ext(tbs.crl_extensions.as_deref(), oid::AUTHORITY_KEY_IDENTIFIER)
        .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|a| a.key_identifier.map(|k| k.as_bytes().to_vec()));
    let ski = subject_key_id(issuer);
    if ski.is_none() || aki != ski {
        out.err(
            "chain.aki",
            "CRL authorityKeyIdentifier must equal the IACA's subjectKeyIdentifier",
        );
    }
    let crl_sign = find_ext(issuer.extensions.as_deref(), oid::KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|ku| ku.crl_sign());
    if !crl_sign {
        out.err("chain.crl_sign", "the issuer's keyUsage lacks cRLSign");
    }
    out.finish()
}
