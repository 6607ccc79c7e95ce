//! Shared helpers: the Annex D vectors and report lookups (the test PKI and sample mDL are in
//! `test_kit`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use verifier_sdk::{
    CheckFailure, CheckKind, CheckOutcome, CheckResult, DocumentResult, VerificationReport,
};

/// A file from `../shared/vectors/annex-d/`.
pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/annex-d")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A text file from the Annex D vectors.
pub fn text(name: &str) -> String {
    String::from_utf8(vector(name)).unwrap()
}

/// 2021-01-01T00:00:00Z: inside every Annex D validity period.
pub const ANNEX_D_AT: i64 = 1_609_459_200;

/// The checks of `kind` in a document.
pub fn checks(doc: &DocumentResult, kind: CheckKind) -> Vec<&CheckResult> {
    doc.checks.iter().filter(|c| c.kind == kind).collect()
}

/// The one failure of the first check of `kind`.
pub fn failure(doc: &DocumentResult, kind: CheckKind) -> Option<CheckFailure> {
    match &checks(doc, kind).first()?.outcome {
        CheckOutcome::Passed => None,
        CheckOutcome::Failed { failure, .. } => Some(failure.clone()),
    }
}

/// (kind, subject) of every failed check.
pub fn failed(report: &VerificationReport) -> Vec<(CheckKind, Option<String>)> {
    report
        .failures()
        .map(|c| (c.kind, c.subject.clone()))
        .collect()
}
