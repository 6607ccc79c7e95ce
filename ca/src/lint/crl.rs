//! CRLs: the Annex B CRL profile and RFC 5280 §5 are [`mso::crl::profile`], the same checks the
//! DTS runs before it publishes a CRL; here every violation is an error that refuses the
//! signature, with the CA's policy maximum for the CRL's validity.

use mso::crl::profile::{self, CrlViolation, EntryChecker};
use time::Duration;
use x509_cert::certificate::TbsCertificate;
use x509_cert::crl::TbsCertList;

use super::out::Out;
use super::{Finding, LintPolicy};

fn findings(violations: Vec<CrlViolation>) -> Vec<Finding> {
    let mut out = Out::default();
    for v in violations {
        out.err(v.code(), v.to_string());
    }
    out.finish()
}

/// Streaming checks of CRL entries for the CRL builder (which checks its inputs without
/// materialising x509-cert entries).
pub(crate) struct EntryLinter<'a>(EntryChecker<'a>);

impl<'a> EntryLinter<'a> {
    pub(crate) fn new(this_update: i64, capacity: usize) -> Self {
        EntryLinter(EntryChecker::new(this_update, capacity))
    }

    /// One entry (see [`EntryChecker::entry`]).
    pub(crate) fn entry(
        &mut self,
        index: usize,
        magnitude: &'a [u8],
        content_len: usize,
        negative: bool,
        revocation_date: i64,
        has_extensions: bool,
    ) {
        self.0.entry(
            index,
            magnitude,
            content_len,
            negative,
            revocation_date,
            has_extensions,
        );
    }

    pub(crate) fn finish(self) -> Vec<Finding> {
        findings(self.0.finish())
    }
}

/// Lints a TBS CRL against Annex B and RFC 5280 ([`profile::inspect_tbs_crl`]) with the
/// policy's maximum CRL validity.
pub fn lint_tbs_crl(tbs: &TbsCertList, policy: &LintPolicy) -> Vec<Finding> {
    findings(profile::inspect_tbs_crl(
        tbs,
        Duration::days(i64::from(policy.max_crl_validity_days)),
    ))
}

/// Lints a TBS CRL against the IACA that issues it ([`profile::inspect_crl_against_issuer`]).
pub fn lint_crl_against_issuer(tbs: &TbsCertList, issuer: &TbsCertificate) -> Vec<Finding> {
    findings(profile::inspect_crl_against_issuer(tbs, issuer))
}
