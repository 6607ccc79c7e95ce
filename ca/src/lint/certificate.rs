//! Certificates: the shared Annex B profile, then the CA's own policy numbers.

use mso::crypto::Curve;
use mso::x509::profile::{self, NameProblem, Violation};
use mso::x509::{spki, time as x509_time};
use time::Duration;
use x509_cert::certificate::TbsCertificate;

use super::out::Out;
use super::{CertKind, Finding, LintPolicy, Severity};

/// Lints a TBS certificate of `kind` issued by `issuer` (for [`CertKind::Iaca`] pass the
/// certificate itself): the whole [`mso::x509::profile`] for the role, the relation to the
/// issuer included, every finding an error (white space around a name attribute excepted: it
/// changes no meaning and stays a warning, as it always was here); then `policy`: validity
/// period, key curve, serial entropy.
pub fn lint_certificate(
    tbs: &TbsCertificate,
    kind: CertKind,
    issuer: &TbsCertificate,
    policy: &LintPolicy,
) -> Vec<Finding> {
    let mut out = Out::default();
    let mut serial_well_formed = true;
    for v in profile::inspect(kind.role(), tbs, Some(issuer)).into_findings() {
        let v = v.violation;
        serial_well_formed &= !matches!(v, Violation::Serial(_));
        let severity = match &v {
            Violation::Name {
                problem: NameProblem::Whitespace { .. },
                ..
            } => Severity::Warning,
            _ => Severity::Error,
        };
        out.push(severity, v.code(), v.to_string());
    }
    validity(tbs, kind, policy, &mut out);
    key(tbs, kind, policy, &mut out);
    if serial_well_formed {
        serial_entropy(tbs.serial_number.as_bytes(), policy, &mut out);
    }
    out.finish()
}

/// The configured maximum validity (the profile's own maximum is checked by the profile).
fn validity(tbs: &TbsCertificate, kind: CertKind, policy: &LintPolicy, out: &mut Out) {
    let v = &tbs.validity;
    let (nb, na) = (
        x509_time::to_datetime(v.not_before),
        x509_time::to_datetime(v.not_after),
    );
    if na <= nb {
        return; // the profile reports the order
    }
    let months_end = |months: u32| x509_time::add_months(nb, months);
    let (exceeded, limit) = match kind {
        CertKind::Iaca => (
            months_end(policy.max_iaca_validity_months).is_none_or(|end| na >= end),
            format!("{} months", policy.max_iaca_validity_months),
        ),
        CertKind::Link => (
            months_end(policy.max_link_validity_months).is_none_or(|end| na >= end),
            format!("{} months", policy.max_link_validity_months),
        ),
        CertKind::Ds | CertKind::ListSigner => {
            let days = if kind == CertKind::Ds {
                policy.max_ds_validity_days
            } else {
                policy.max_list_signer_validity_days
            };
            (
                x509_time::inclusive_length(nb, na) > Duration::days(i64::from(days)),
                format!("{days} days"),
            )
        }
    };
    if exceeded {
        out.err(
            "policy.validity.too_long",
            format!(
                "validity of {} s (inclusive) exceeds the policy maximum of {limit}",
                x509_time::inclusive_length(nb, na).whole_seconds()
            ),
        );
    }
}

/// The configured curves, and RFC 8410's absent Ed25519 parameters (the profile decodes the
/// key; an unusable key is its finding).
fn key(tbs: &TbsCertificate, kind: CertKind, policy: &LintPolicy, out: &mut Out) {
    let info = &tbs.subject_public_key_info;
    let Ok(key) = spki::decode_owned(info) else {
        return;
    };
    let curves = match kind {
        CertKind::Iaca | CertKind::Link => &policy.iaca_curves,
        CertKind::Ds | CertKind::ListSigner => &policy.ds_curves,
    };
    if !curves.contains(&key.curve()) {
        out.err(
            "policy.spki.curve",
            format!("{} keys are not allowed here", key.curve().name()),
        );
    }
    if key.curve() == Curve::Ed25519 && info.algorithm.parameters.is_some() {
        out.err(
            "rfc8410.spki.parameters",
            "Ed25519 parameters must be absent",
        );
    }
}

/// Enough serial octets for the ≥ 63 random bits of the profile (of a serial whose form the
/// profile accepted).
fn serial_entropy(content: &[u8], policy: &LintPolicy, out: &mut Out) {
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
