//! The verifier's side: does what the wallet presented answer the query, and nothing more?
//! Run after the DeviceResponses are verified; the wallet's own matching is never trusted
//! (§14.4). Claims the query did not ask for are findings, so the verifier can refuse them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{ClaimsQuery, CredentialQuery, DcqlQuery, MSO_MDOC};

/// One presented document, as far as DCQL needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub struct Presented {
    /// Its doctype.
    pub doctype: String,
    /// The disclosed data elements: namespace, element and value as JSON (`None` when it has
    /// no clear JSON form).
    pub elements: Vec<(String, String, Option<Value>)>,
}

/// Something wrong with what was presented for one credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Nothing was presented for it.
    NotPresented,
    /// The query's format is not one this crate checks.
    UnsupportedFormat {
        /// the format
        format: String,
    },
    /// More than one document, and the query does not allow `multiple`.
    TooManyDocuments {
        /// how many were presented
        count: usize,
    },
    /// A document's doctype is not the requested one.
    DoctypeMismatch {
        /// which document
        document: usize,
        /// the requested doctype
        expected: String,
        /// the presented doctype
        found: String,
    },
    /// A requested claim is missing (for `claim_sets`: from the closest option).
    MissingClaim {
        /// which document
        document: usize,
        /// namespace
        namespace: String,
        /// element
        element: String,
    },
    /// A requested claim's value is not among the query's `values`, or cannot be compared.
    ValueNotAllowed {
        /// which document
        document: usize,
        /// namespace
        namespace: String,
        /// element
        element: String,
    },
    /// A disclosed claim the query (or the satisfied `claim_sets` option) did not ask for.
    NotRequested {
        /// which document
        document: usize,
        /// namespace
        namespace: String,
        /// element
        element: String,
    },
}

/// The verdict for one credential query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryCheck {
    /// The credential query's id.
    pub query_id: String,
    /// How many documents were presented for it.
    pub presented: usize,
    /// Per presented document, the `claim_sets` option it satisfied, when the query has them.
    pub claim_sets: Vec<Option<usize>>,
    /// Everything wrong; empty when what was presented answers the query exactly.
    pub findings: Vec<Finding>,
}

impl QueryCheck {
    /// Something was presented and nothing is wrong with it.
    pub fn satisfied(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The verdict for one credential set query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCheck {
    /// Position in `credential_sets`.
    pub index: usize,
    /// Whether the set is required.
    pub required: bool,
    /// The options all of whose credential queries were satisfied.
    pub satisfied_options: Vec<usize>,
}

/// The verdict on a whole response.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// One entry per credential query, in query order.
    pub queries: Vec<QueryCheck>,
    /// One entry per credential set query; empty without `credential_sets`.
    pub sets: Vec<SetCheck>,
    /// Response keys that name no credential query.
    pub unknown_ids: Vec<String>,
}

impl CheckReport {
    /// Every required set (without sets: every credential query) is satisfied.
    pub fn requirements_met(&self) -> bool {
        if self.sets.is_empty() {
            return self.queries.iter().all(QueryCheck::satisfied);
        }
        self.sets
            .iter()
            .all(|s| !s.required || !s.satisfied_options.is_empty())
    }

    /// The response can be accepted: requirements met, no unknown keys, and nothing presented
    /// with a finding (a presentation for an optional query must be clean too).
    pub fn accepted(&self) -> bool {
        self.requirements_met()
            && self.unknown_ids.is_empty()
            && self
                .queries
                .iter()
                .all(|q| q.presented == 0 || q.satisfied())
    }

    /// The verdict for the credential query `id`.
    pub fn query(&self, id: &str) -> Option<&QueryCheck> {
        self.queries.iter().find(|q| q.query_id == id)
    }
}

impl DcqlQuery {
    /// Checks what was presented, per credential query id (the `vp_token` keys), against this
    /// query.
    pub fn check(&self, presented: &BTreeMap<String, Vec<Presented>>) -> CheckReport {
        let queries: Vec<QueryCheck> = self
            .credentials
            .iter()
            .map(|q| check_query(q, presented.get(&q.id).map(Vec::as_slice).unwrap_or(&[])))
            .collect();
        let unknown_ids = presented
            .keys()
            .filter(|k| !self.credentials.iter().any(|q| &q.id == *k))
            .cloned()
            .collect();
        let ok = |id: &String| queries.iter().any(|q| &q.query_id == id && q.satisfied());
        let sets = self
            .credential_sets
            .iter()
            .flatten()
            .enumerate()
            .map(|(index, set)| SetCheck {
                index,
                required: set.required,
                satisfied_options: (0..set.options.len())
                    .filter(|&o| set.options.get(o).is_some_and(|ids| ids.iter().all(ok)))
                    .collect(),
            })
            .collect();
        CheckReport {
            queries,
            sets,
            unknown_ids,
        }
    }
}

fn check_query(query: &CredentialQuery, documents: &[Presented]) -> QueryCheck {
    let mut check = QueryCheck {
        query_id: query.id.clone(),
        presented: documents.len(),
        claim_sets: Vec::new(),
        findings: Vec::new(),
    };
    let doctype = match (&query.format[..], &query.meta.doctype_value) {
        (MSO_MDOC, Some(doctype)) => doctype,
        _ => {
            check.findings.push(Finding::UnsupportedFormat {
                format: query.format.clone(),
            });
            return check;
        }
    };
    if documents.is_empty() {
        check.findings.push(Finding::NotPresented);
    }
    if documents.len() > 1 && !query.multiple {
        check.findings.push(Finding::TooManyDocuments {
            count: documents.len(),
        });
    }
    for (document, presented) in documents.iter().enumerate() {
        if &presented.doctype != doctype {
            check.findings.push(Finding::DoctypeMismatch {
                document,
                expected: doctype.clone(),
                found: presented.doctype.clone(),
            });
        }
        let (option, findings) = check_document(query, document, presented);
        check.claim_sets.push(option);
        check.findings.extend(findings);
    }
    check
}

/// The option a document satisfies and the findings against it: the first option satisfied
/// with nothing extra, else the first satisfied, else the one with the fewest findings.
fn check_document(
    query: &CredentialQuery,
    document: usize,
    presented: &Presented,
) -> (Option<usize>, Vec<Finding>) {
    let claims = query.claims.as_deref().unwrap_or(&[]);
    let all: Vec<&ClaimsQuery> = claims.iter().collect();
    let options: Vec<(Option<usize>, Vec<&ClaimsQuery>)> = match &query.claim_sets {
        None => vec![(None, all)],
        Some(sets) => sets
            .iter()
            .enumerate()
            .map(|(i, ids)| {
                let members = claims
                    .iter()
                    .filter(|c| c.id.as_ref().is_some_and(|id| ids.contains(id)))
                    .collect();
                (Some(i), members)
            })
            .collect(),
    };
    let mut best: Option<(Option<usize>, Vec<Finding>, bool)> = None;
    for (option, members) in options {
        let findings = findings_for(document, presented, &members);
        let satisfied = !findings.iter().any(|f| {
            matches!(
                f,
                Finding::MissingClaim { .. } | Finding::ValueNotAllowed { .. }
            )
        });
        if satisfied && findings.is_empty() {
            return (option, findings);
        }
        let better = match &best {
            None => true,
            Some((_, f, s)) => (satisfied && !s) || (satisfied == *s && findings.len() < f.len()),
        };
        if better {
            best = Some((option, findings, satisfied));
        }
    }
    match best {
        Some((option, findings, true)) => (option, findings),
        Some((_, findings, false)) => (None, findings),
        None => (None, Vec::new()),
    }
}

fn findings_for(document: usize, presented: &Presented, members: &[&ClaimsQuery]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for claim in members {
        let Some((namespace, element)) = claim.mdoc_path() else {
            continue;
        };
        let found = presented
            .elements
            .iter()
            .find(|(n, e, _)| n == namespace && e == element);
        match found {
            None => findings.push(Finding::MissingClaim {
                document,
                namespace: namespace.to_owned(),
                element: element.to_owned(),
            }),
            Some((_, _, value)) if !claim.allows(value.as_ref()) => {
                findings.push(Finding::ValueNotAllowed {
                    document,
                    namespace: namespace.to_owned(),
                    element: element.to_owned(),
                })
            }
            Some(_) => {}
        }
    }
    for (namespace, element, _) in &presented.elements {
        let requested = members
            .iter()
            .any(|c| c.mdoc_path() == Some((namespace.as_str(), element.as_str())));
        if !requested {
            findings.push(Finding::NotRequested {
                document,
                namespace: namespace.clone(),
                element: element.clone(),
            });
        }
    }
    findings
}
