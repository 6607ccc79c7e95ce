//! The issuer half of a document: issuerAuth, the DS certificate and its path, the MSO and
//! the value digests.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::options::{IssuerTrust, Placeholders, VerifyOptions};
use super::report::{CheckKind, DocumentReport, Failure};
use super::{country, revocation};
use crate::cose::sign1_verify;
use crate::error::Error;
use crate::model::{IssuerSigned, MobileSecurityObject};
use crate::x509::path::{self, PathPolicy};
use crate::x509::profile::{self, Role, Violation};
use crate::x509::{CertValidity, Certificate, PathError};

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

/// Records DsTrusted, DsProfile (and IacaValidity, DsRevocation) and returns the issuing
/// IACA. `chain` is the x5chain after the DS, as parsed (an entry that does not parse is an
/// untrusted path).
fn check_trust<'a>(
    report: &mut DocumentReport,
    ds: &Certificate,
    chain: Result<&[Certificate], &PathError>,
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
        check_profile(report, &profile::inspect_ds(ds.tbs(), None));
        return None;
    }
    // Each phase is reported as its own check: the path (names, signature, the IACA's
    // authority, unknown critical extensions), then the DS profile, then each validity.
    let policy = PathPolicy {
        skew: opts.skew,
        check_validity: false,
        inspect_leaf: false,
        ..PathPolicy::default()
    };
    let iaca = trust.anchors_for(&report.doc_type).map(|anchors| {
        chain.map_err(Clone::clone).and_then(|chain| {
            path::validate_with(
                ds,
                chain,
                anchors,
                opts.at,
                Role::DocumentSigner,
                opts.verifier,
                &policy,
            )
            .map(|p| {
                (
                    p.anchor(),
                    anchors.inspect_under(ds, Role::DocumentSigner, p.anchor_index()),
                )
            })
        })
    });
    let (iaca, inspection) = match iaca {
        Some(Ok((iaca, inspection))) => {
            report.pass(CheckKind::DsTrusted, None);
            check_time_window(report, CheckKind::IacaValidity, "IACA", iaca, opts);
            (Some(iaca), Some(inspection))
        }
        Some(Err(e)) => {
            report.fail(CheckKind::DsTrusted, Failure::NoTrustedIssuer(e));
            (None, None)
        }
        None => (None, None),
    };
    // Against the issuing IACA, remembered by the trust anchors; else the DS alone.
    let inspection =
        inspection.unwrap_or_else(|| std::sync::Arc::new(profile::inspect_ds(ds.tbs(), None)));
    check_profile(report, &inspection);
    if let Some(store) = trust.store() {
        revocation::check_ds_revocation(report, ds, iaca, store, opts);
    }
    iaca
}

/// Records DsProfile from the inspection of the DS against the Annex B Document Signer
/// profile (against the issuing IACA when known). Errors fail the check; each tolerated
/// departure is a warning.
fn check_profile(report: &mut DocumentReport, inspection: &profile::Inspection) {
    let errors: Vec<Violation> = inspection.errors().cloned().collect();
    let outcome = if errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Profile(errors))
    };
    report.record(CheckKind::DsProfile, None, outcome);
    for v in inspection.warnings() {
        report.warn(
            CheckKind::DsProfile,
            Some(v.code().to_owned()),
            Failure::Profile(vec![v.clone()]),
        );
    }
}

/// Records UnprotectedHeader for each placeholder entry `structure`'s unprotected header
/// held (nothing when there was none).
pub(super) fn check_placeholders(
    report: &mut DocumentReport,
    structure: &'static str,
    labels: &[i64],
    opts: &VerifyOptions<'_>,
) {
    for &label in labels {
        let subject = Some(format!("{structure}/{label}"));
        let failure = Failure::UnprotectedPlaceholder { structure, label };
        match opts.placeholders {
            Placeholders::Warn => report.warn(CheckKind::UnprotectedHeader, subject, failure),
            Placeholders::Refuse => {
                report.record(CheckKind::UnprotectedHeader, subject, Err(failure));
            }
        }
    }
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

    check_placeholders(
        &mut report,
        "issuerAuth",
        auth.ignored_unprotected_labels(),
        opts,
    );

    // DS certificate, trust, profile, validity.
    let x5chain = auth.x5chain();
    let anchors = opts.trust.anchors_for(&report.doc_type);
    let ds = match x5chain.as_ref().map_err(Clone::clone).and_then(|chain| {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::X5Chain("empty".into()))?;
        // The anchors remember the DS certificates they have parsed (a verifier meets the
        // same few); a pinned DS is compared by its bytes.
        match anchors {
            Some(anchors) => anchors.leaf(leaf),
            None => Certificate::from_der(leaf).map(Arc::new),
        }
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
        // The rest of the x5chain; its entries are numbered as in the x5chain.
        let rest = x5chain
            .as_deref()
            .unwrap_or_default()
            .get(1..)
            .unwrap_or_default();
        let chain = path::parse_chain(rest).map_err(|e| match e {
            PathError::Malformed { index, reason } => PathError::Malformed {
                index: index + 1,
                reason,
            },
            other => other,
        });
        iaca = check_trust(&mut report, ds, chain.as_deref(), opts);
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

    country::check_issuing_country(&mut report, issuer_signed, ds.as_deref());
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

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
