//! The wallet's side: which of its credentials answer a (validated) query, and exactly which
//! data elements each would disclose (§6.4). Credentials are described abstractly
//! ([`Candidate`]), so this module needs no mdoc types; the wallet SDK fills them from its
//! store and turns a chosen [`CandidateMatch`] into an ISO 18013-5 DeviceRequest item.

use std::collections::HashMap;

use serde_json::Value;

use super::model::{ClaimsQuery, CredentialQuery, DcqlQuery, MSO_MDOC};

/// One mdoc the wallet holds, as far as DCQL needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The wallet's own reference to the credential, returned in the match.
    pub handle: String,
    /// Its doctype.
    pub doctype: String,
    /// The data elements it holds.
    pub elements: Vec<CandidateElement>,
}

/// A data element a candidate holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateElement {
    /// Its namespace.
    pub namespace: String,
    /// Its data element identifier.
    pub element: String,
    /// Its value as JSON (RFC 8949 §6.1) for `values` matching; `None` when it has no clear JSON
    /// form (a `values` constraint then never matches it).
    pub value: Option<Value>,
}

/// A data element to disclose, with the verifier's IntentToRetain for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Disclosure {
    /// Its namespace.
    pub namespace: String,
    /// Its data element identifier.
    pub element: String,
    /// The verifier's `intent_to_retain`.
    pub intent_to_retain: bool,
}

/// A candidate that satisfies a credential query, and what it would disclose.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateMatch {
    /// The candidate's handle.
    pub handle: String,
    /// The `claim_sets` option used (the first the candidate satisfies), when there are any.
    pub claim_set: Option<usize>,
    /// Exactly the elements the query asks for, each once, in query order.
    pub disclose: Vec<Disclosure>,
}

/// Why a candidate of the right doctype cannot serve a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimProblem {
    /// The candidate does not hold the element.
    Missing {
        /// namespace
        namespace: String,
        /// element
        element: String,
    },
    /// The candidate's value is not among the query's `values` (or cannot be compared).
    ValueNotAllowed {
        /// namespace
        namespace: String,
        /// element
        element: String,
    },
}

/// A candidate of the right doctype that satisfies no combination of the requested claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The candidate's handle.
    pub handle: String,
    /// Every requested claim it cannot serve.
    pub problems: Vec<ClaimProblem>,
}

/// Why no credential of the wallet answers a credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsatisfiable {
    /// The query is for a format this wallet does not present through DCQL.
    UnsupportedFormat {
        /// the format
        format: String,
    },
    /// No candidate has the requested doctype.
    NoCredentialOfDoctype {
        /// the doctype
        doctype: String,
    },
    /// Candidates of the doctype exist, but none has the requested claims and values.
    ClaimsNotSatisfied {
        /// each candidate of the doctype and what it lacks
        rejected: Vec<Rejected>,
    },
}

/// The outcome for one credential query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryMatch {
    /// The credential query's id.
    pub query_id: String,
    /// Whether several credentials may be returned; when `false`, the wallet presents at most one
    /// of `candidates` (it may still let the user choose among them).
    pub multiple: bool,
    /// The candidates that satisfy it, in the order given; empty when unsatisfiable.
    pub candidates: Vec<CandidateMatch>,
    /// Why it is unsatisfiable, when `candidates` is empty.
    pub unsatisfiable: Option<Unsatisfiable>,
}

/// The outcome for one credential set query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMatch {
    /// Position in `credential_sets`.
    pub index: usize,
    /// Whether the set is required.
    pub required: bool,
    /// The options all of whose credential queries are satisfiable, in the verifier's order.
    pub satisfiable_options: Vec<usize>,
}

/// What the wallet can answer to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// One entry per credential query, in query order.
    pub queries: Vec<QueryMatch>,
    /// One entry per credential set query; empty without `credential_sets`.
    pub sets: Vec<SetMatch>,
    /// Whether a response is possible: every required set (without sets: every credential query)
    /// is satisfiable. When `false` the wallet must return no credential at all (§6.4.2).
    pub satisfiable: bool,
}

impl Match {
    /// The outcome for the credential query `id`.
    pub fn query(&self, id: &str) -> Option<&QueryMatch> {
        self.queries.iter().find(|q| q.query_id == id)
    }
}

impl DcqlQuery {
    /// Evaluates a validated query against the wallet's credentials. Work is bounded by the
    /// query's limits times the number of candidates.
    pub fn evaluate(&self, candidates: &[Candidate]) -> Match {
        let queries: Vec<QueryMatch> = self
            .credentials
            .iter()
            .map(|q| evaluate_query(q, candidates))
            .collect();
        let ok = |id: &String| {
            queries
                .iter()
                .any(|q| &q.query_id == id && q.unsatisfiable.is_none())
        };
        let sets: Vec<SetMatch> = self
            .credential_sets
            .iter()
            .flatten()
            .enumerate()
            .map(|(index, set)| SetMatch {
                index,
                required: set.required,
                satisfiable_options: (0..set.options.len())
                    .filter(|&o| set.options.get(o).is_some_and(|ids| ids.iter().all(ok)))
                    .collect(),
            })
            .collect();
        let satisfiable = match self.credential_sets {
            None => queries.iter().all(|q| q.unsatisfiable.is_none()),
            Some(_) => sets
                .iter()
                .all(|s| !s.required || !s.satisfiable_options.is_empty()),
        };
        Match {
            queries,
            sets,
            satisfiable,
        }
    }
}

fn evaluate_query(query: &CredentialQuery, candidates: &[Candidate]) -> QueryMatch {
    let mut result = QueryMatch {
        query_id: query.id.clone(),
        multiple: query.multiple,
        candidates: Vec::new(),
        unsatisfiable: None,
    };
    let doctype = match (&query.format[..], &query.meta.doctype_value) {
        (MSO_MDOC, Some(doctype)) => doctype,
        _ => {
            result.unsatisfiable = Some(Unsatisfiable::UnsupportedFormat {
                format: query.format.clone(),
            });
            return result;
        }
    };
    let mut rejected = Vec::new();
    let mut any_of_doctype = false;
    for candidate in candidates.iter().filter(|c| &c.doctype == doctype) {
        any_of_doctype = true;
        match match_candidate(query, candidate) {
            Ok(m) => result.candidates.push(m),
            Err(problems) => rejected.push(Rejected {
                handle: candidate.handle.clone(),
                problems,
            }),
        }
    }
    if result.candidates.is_empty() {
        result.unsatisfiable = Some(if any_of_doctype {
            Unsatisfiable::ClaimsNotSatisfied { rejected }
        } else {
            Unsatisfiable::NoCredentialOfDoctype {
                doctype: doctype.clone(),
            }
        });
    }
    result
}

/// The candidate's disclosure for the query, or every requested claim it cannot serve.
fn match_candidate(
    query: &CredentialQuery,
    candidate: &Candidate,
) -> Result<CandidateMatch, Vec<ClaimProblem>> {
    // The first of duplicate elements counts, as in the verifier's check.
    let mut held: HashMap<(&str, &str), Option<&Value>> = HashMap::new();
    for e in &candidate.elements {
        held.entry((e.namespace.as_str(), e.element.as_str()))
            .or_insert(e.value.as_ref());
    }
    let Some(claims) = &query.claims else {
        // No claims: nothing selectively disclosable is requested (§6.4.1).
        return Ok(CandidateMatch {
            handle: candidate.handle.clone(),
            claim_set: None,
            disclose: vec![],
        });
    };
    let problem = |claim: &ClaimsQuery| -> Option<ClaimProblem> {
        let (namespace, element) = claim.mdoc_path()?;
        let names = || (namespace.to_owned(), element.to_owned());
        match held.get(&(namespace, element)) {
            None => {
                let (namespace, element) = names();
                Some(ClaimProblem::Missing { namespace, element })
            }
            Some(value) if !claim.allows(*value) => {
                let (namespace, element) = names();
                Some(ClaimProblem::ValueNotAllowed { namespace, element })
            }
            Some(_) => None,
        }
    };
    let serves = |claim: &ClaimsQuery| claim.mdoc_path().is_some() && problem(claim).is_none();
    let chosen: Option<(Option<usize>, Vec<&ClaimsQuery>)> = match &query.claim_sets {
        None => claims
            .iter()
            .all(serves)
            .then(|| (None, claims.iter().collect())),
        Some(sets) => sets.iter().enumerate().find_map(|(i, ids)| {
            let members: Option<Vec<&ClaimsQuery>> = ids
                .iter()
                .map(|id| claims.iter().find(|c| c.id.as_deref() == Some(id.as_str())))
                .collect();
            members
                .filter(|m| m.iter().all(|c| serves(c)))
                .map(|m| (Some(i), m))
        }),
    };
    match chosen {
        Some((claim_set, members)) => Ok(CandidateMatch {
            handle: candidate.handle.clone(),
            claim_set,
            disclose: disclosures(&members),
        }),
        None => Err(claims.iter().filter_map(problem).collect()),
    }
}

/// The elements of `claims`, each once (a query pointing twice at one claim is tolerated,
/// §6.1), retained if any of its queries says so.
pub(crate) fn disclosures(claims: &[&ClaimsQuery]) -> Vec<Disclosure> {
    let mut out: Vec<Disclosure> = Vec::new();
    for claim in claims {
        let Some((namespace, element)) = claim.mdoc_path() else {
            continue;
        };
        match out
            .iter_mut()
            .find(|d| d.namespace == namespace && d.element == element)
        {
            Some(d) => d.intent_to_retain |= claim.intent_to_retain,
            None => out.push(Disclosure {
                namespace: namespace.to_owned(),
                element: element.to_owned(),
                intent_to_retain: claim.intent_to_retain,
            }),
        }
    }
    out
}
