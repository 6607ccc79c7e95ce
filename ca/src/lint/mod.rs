//! Lint-before-sign: checks a `TBSCertificate` or `TBSCertList` BEFORE anything is handed to
//! the signer. The builders in [`crate::profile`] and [`crate::crl`] refuse to sign when any
//! finding is at [`Severity::Error`].
//!
//! The certificate profile itself (ISO/IEC 18013-5 Annex B, RFC 5280) is
//! [`mso::x509::profile`], the same code the issuer and every verifier run; this is the
//! producing side, so every profile finding — even one a relying party would only warn about —
//! refuses the signature. On top the CA applies its own policy numbers ([`LintPolicy`]: curves,
//! validity periods, serial entropy, CRL lifetime), which are configuration, not profile. The
//! CRL profile is [`mso::crl::profile`] too, shared with the DTS ([`crl`] adapts it).

mod certificate;
mod crl;
mod out;

use mso::crypto::Curve;
use mso::x509::policy;
use mso::x509::profile::Role;

pub use certificate::lint_certificate;
pub(crate) use crl::EntryLinter;
pub use crl::{lint_crl_against_issuer, lint_tbs_crl};

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
    /// A stable identifier, e.g. `annexb.ext.forbidden` or `rfc5280.serial.zero` (for profile
    /// findings, [`mso::x509::profile::Violation::code`]).
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
    /// An MSO revocation list signer (status and identifier list tokens; ISO/IEC 18013-5
    /// second edition, Table B.9).
    ListSigner,
}

impl CertKind {
    /// The profile role this kind is checked against.
    pub fn role(self) -> Role {
        match self {
            CertKind::Iaca => Role::Iaca,
            CertKind::Ds => Role::DocumentSigner,
            CertKind::Link => Role::Link,
            CertKind::ListSigner => Role::ListSigner,
        }
    }
}

/// The policy numbers the lint enforces. [`Default`] gives the profile and CPS values; a
/// configuration may tighten them, never loosen the profile (which is checked regardless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintPolicy {
    /// Longest IACA validity in calendar months (Annex B: 20 years = 240).
    pub max_iaca_validity_months: u32,
    /// Longest link certificate validity in calendar months (240, as for the IACA).
    pub max_link_validity_months: u32,
    /// Longest DS certificate validity in days of 86,400 s, counted inclusively (Annex B: 457).
    pub max_ds_validity_days: u32,
    /// Longest list signer certificate validity in days of 86,400 s, counted inclusively
    /// (Table B.9: 1187).
    pub max_list_signer_validity_days: u32,
    /// Longest CRL validity, nextUpdate − thisUpdate, in days (CPS §7.2.2: 3).
    pub max_crl_validity_days: u32,
    /// Curves allowed for IACA and link certificate keys (CPS §6.1.5.1: P-384).
    pub iaca_curves: Vec<Curve>,
    /// Curves allowed for DS and list signer keys (Annex B: P-256, P-384, P-521).
    pub ds_curves: Vec<Curve>,
    /// Fewest serial number octets (8 holds the ≥ 63 random bits of the profile; the builders
    /// always write 20).
    pub min_serial_octets: usize,
}

/// CPS §7.2.2: a CRL is valid for at most three days (the one definition is in `mso`).
pub const MAX_CRL_VALIDITY_DAYS: u32 = policy::MAX_CRL_VALIDITY_DAYS;

impl Default for LintPolicy {
    fn default() -> Self {
        LintPolicy {
            max_iaca_validity_months: policy::MAX_IACA_VALIDITY_MONTHS,
            max_link_validity_months: policy::MAX_IACA_VALIDITY_MONTHS,
            max_ds_validity_days: policy::MAX_DS_VALIDITY_DAYS,
            max_list_signer_validity_days: policy::MAX_LIST_SIGNER_VALIDITY_DAYS,
            max_crl_validity_days: MAX_CRL_VALIDITY_DAYS,
            iaca_curves: vec![Curve::P384],
            ds_curves: vec![Curve::P256, Curve::P384, Curve::P521],
            min_serial_octets: 8,
        }
    }
}
