//! CRLs: the Annex B CRL profile (v2, nextUpdate, exactly AKI and cRLNumber, no entry
//! extensions) and RFC 5280 §5, with the rules a CRL shares with certificates (signature
//! algorithm, issuer name, time encoding, AKI form) taken from [`mso::x509::profile`].

use der::Decode;
use mso::x509::profile::{self, NameField};
use mso::x509::{oid, signature, spki, time as x509_time};
use time::Duration;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::TbsCertList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, KeyUsage, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::time::Time;

use super::out::Out;
use super::{Finding, LintPolicy};

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
    out.violations(profile::inspect_signature_algorithm(&tbs.signature));
    out.violations(profile::inspect_name(&tbs.issuer, NameField::Issuer));
    time_encoding(&tbs.this_update, "thisUpdate", &mut out);
    let this_update = unix_seconds(&tbs.this_update);
    match &tbs.next_update {
        None => out.err("annexb.crl.next_update", "nextUpdate is required"),
        Some(next) => {
            time_encoding(next, "nextUpdate", &mut out);
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
                if !x509_time::is_rfc5280_encoding(&e.revocation_date) {
                    out.err(
                        "rfc5280.time.encoding",
                        format!("entry {i}: revocationDate before 2050 must be UTCTime"),
                    );
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
                let (aki, encoding) = profile::inspect_extension::<AuthorityKeyIdentifier>(ext);
                out.violations(encoding);
                if let Some(aki) = aki {
                    out.violations(profile::inspect_aki(&aki));
                }
                "authorityKeyIdentifier"
            }
            id if id == oid::CRL_NUMBER => {
                if std::mem::replace(&mut seen_number, true) {
                    out.err("rfc5280.ext.duplicate", "cRLNumber twice");
                }
                let (number, encoding) = profile::inspect_extension::<CrlNumber>(ext);
                out.violations(encoding);
                if let Some(n) = number {
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
    signature_fits_issuer(&tbs.signature.oid, issuer, &mut out);
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

/// RFC 5280 §4.1.2.5: UTCTime through 2049.
fn time_encoding(t: &Time, field: &str, out: &mut Out) {
    if !x509_time::is_rfc5280_encoding(t) {
        out.err(
            "rfc5280.time.encoding",
            format!("{field} before 2050 must be UTCTime"),
        );
    }
}

/// The instant an X.509 time denotes, in Unix seconds.
fn unix_seconds(t: &Time) -> i64 {
    x509_time::to_datetime(*t).unix_timestamp()
}

fn signature_fits_issuer(
    sig_oid: &der::asn1::ObjectIdentifier,
    issuer: &TbsCertificate,
    out: &mut Out,
) {
    let Some(alg) = signature::algorithm_from_oid(sig_oid) else {
        return; // reported with the signature algorithm
    };
    match spki::decode_owned(&issuer.subject_public_key_info) {
        Ok(key) if key.curve().algorithm() == alg => {}
        Ok(key) => out.err(
            "annexb.signature.algorithm",
            format!(
                "signature algorithm {alg} does not fit the issuer's {} key",
                key.curve().name()
            ),
        ),
        Err(_) => out.err("chain.issuer_key", "the issuer public key is unusable"),
    }
}

fn find_ext(exts: Option<&[Extension]>, id: der::asn1::ObjectIdentifier) -> Option<&Extension> {
    exts.and_then(|e| e.iter().find(|x| x.extn_id == id))
}

fn subject_key_id(tbs: &TbsCertificate) -> Option<Vec<u8>> {
    find_ext(tbs.extensions.as_deref(), oid::SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .map(|s| s.0.as_bytes().to_vec())
}
