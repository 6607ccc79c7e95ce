//! The findings collector: at most [`CAP`] findings per code (plus one summary), so a CRL with
//! a million bad entries does not produce a million findings.

use super::{Finding, Severity};

/// Findings kept per code before they are summarised.
const CAP: usize = 10;

#[derive(Default)]
pub(super) struct Out {
    findings: Vec<Finding>,
    counts: Vec<(&'static str, usize)>,
}

impl Out {
    pub(super) fn push(&mut self, severity: Severity, code: &'static str, message: String) {
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

    pub(super) fn err(&mut self, code: &'static str, message: impl Into<String>) {
        self.push(Severity::Error, code, message.into());
    }

    pub(super) fn finish(mut self) -> Vec<Finding> {
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
