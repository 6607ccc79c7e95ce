//! The relying party's query as DCQL (OpenID4VP) and the DCQL check of what was presented,
//! mapped to the SDK's records. Annex C requests are checked the same way: each
//! DocumentRequest becomes a credential query, so "disclosed but not asked for" has one
//! definition.

use std::collections::BTreeMap;

use mdoc_oid4vp::dcql::{
    ClaimsQuery, CredentialQuery as Dcql, DcqlError, DcqlQuery, Finding, Presented,
};
use serde_json::Value as Json;

use super::config::{ClaimValue, CredentialQuery, CredentialSet};
use super::report::{ClaimRef, QueryOutcome, ResponseFinding};
use crate::error::{Result, VerifierError};
use crate::report::{DisclosedElement, VerificationReport};
use crate::request::DocumentRequest;
use crate::value::ElementValue;

impl From<DcqlError> for VerifierError {
    fn from(e: DcqlError) -> Self {
        VerifierError::InvalidQuery {
            reason: e.to_string(),
        }
    }
}

fn claim_value(v: &ClaimValue) -> Json {
    match v {
        ClaimValue::Text { value } => Json::from(value.clone()),
        ClaimValue::Integer { value } => Json::from(*value),
        ClaimValue::Bool { value } => Json::from(*value),
    }
}

/// The DCQL query of an OpenID4VP request, checked as a wallet would check it.
pub(crate) fn dcql(credentials: &[CredentialQuery], sets: &[CredentialSet]) -> Result<DcqlQuery> {
    let mut query = DcqlQuery {
        credentials: Vec::with_capacity(credentials.len()),
        credential_sets: None,
    };
    for c in credentials {
        let mut q = Dcql::mdoc(&c.id, &c.doc_type, &[]);
        for claim in &c.claims {
            let mut cq =
                ClaimsQuery::mdoc(&claim.namespace, &claim.element, claim.intent_to_retain);
            if let Some(id) = &claim.id {
                cq = cq.with_id(id);
            }
            if !claim.values.is_empty() {
                cq = cq.with_values(claim.values.iter().map(claim_value).collect());
            }
            q = q.with_claim(cq);
        }
        if !c.claim_sets.is_empty() {
            let sets: Vec<Vec<&str>> = c
                .claim_sets
                .iter()
                .map(|s| s.iter().map(String::as_str).collect())
                .collect();
            let sets: Vec<&[&str]> = sets.iter().map(Vec::as_slice).collect();
            q = q.with_claim_sets(&sets);
        }
        query = query.with_credential(q.with_multiple(c.multiple));
    }
    for set in sets {
        let options: Vec<Vec<&str>> = set
            .options
            .iter()
            .map(|o| o.iter().map(String::as_str).collect())
            .collect();
        let options: Vec<&[&str]> = options.iter().map(Vec::as_slice).collect();
        query = query.with_credential_set(&options, set.required);
    }
    query.validate()?;
    Ok(query)
}

/// The id of the `index`-th document request of an Annex C request as a credential query.
pub(crate) fn annex_c_query_id(index: usize) -> String {
    format!("doc{index}")
}

/// An Annex C request's document requests as a DCQL query, one credential query per
/// document request (ids from [`annex_c_query_id`]).
pub(crate) fn annex_c_dcql(documents: &[DocumentRequest]) -> Result<DcqlQuery> {
    let credentials = documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let claims: Vec<(&str, &str, bool)> = d
                .namespaces
                .iter()
                .flat_map(|ns| {
                    ns.elements.iter().map(|e| {
                        (
                            ns.namespace.as_str(),
                            e.identifier.as_str(),
                            e.intent_to_retain,
                        )
                    })
                })
                .collect();
            Dcql::mdoc(&annex_c_query_id(i), &d.doc_type, &claims)
        })
        .collect();
    let query = DcqlQuery {
        credentials,
        credential_sets: None,
    };
    query.validate()?;
    Ok(query)
}

/// The JSON form of a disclosed value for `values` matching (RFC 8949 §6.1 for the scalars
/// DCQL allows); `None` for the rest.
fn json_value(v: &ElementValue) -> Option<Json> {
    match v {
        ElementValue::Text { value } => Some(Json::from(value.clone())),
        ElementValue::Integer { value } => Some(Json::from(*value)),
        ElementValue::Bool { value } => Some(Json::from(*value)),
        _ => None,
    }
}

/// What a verified DeviceResponse presented, per document, as DCQL sees it.
pub(crate) fn presented(report: &VerificationReport) -> Vec<Presented> {
    report
        .documents
        .iter()
        .map(|d| Presented {
            doctype: d.doc_type.clone(),
            elements: d
                .elements
                .iter()
                .map(|e: &DisclosedElement| {
                    (
                        e.namespace.clone(),
                        e.identifier.clone(),
                        json_value(&e.value),
                    )
                })
                .collect(),
        })
        .collect()
}

fn claim(namespace: &str, element: &str) -> ClaimRef {
    ClaimRef {
        namespace: namespace.to_owned(),
        element: element.to_owned(),
    }
}

/// The DCQL check of what was presented: one outcome per credential query and the findings
/// that make the response unacceptable. `label` names a query id in the report (the doc type
/// for Annex C).
pub(crate) fn check(
    query: &DcqlQuery,
    presented: &BTreeMap<String, Vec<Presented>>,
    label: impl Fn(&str) -> String,
) -> (Vec<QueryOutcome>, Vec<ResponseFinding>) {
    let report = query.check(presented);
    let mut outcomes = Vec::with_capacity(report.queries.len());
    let mut findings = Vec::new();
    for q in &report.queries {
        let query_id = label(&q.query_id);
        let mut missing = Vec::new();
        let mut unrequested = Vec::new();
        for f in &q.findings {
            match f {
                Finding::MissingClaim {
                    namespace, element, ..
                }
                | Finding::ValueNotAllowed {
                    namespace, element, ..
                } => missing.push(claim(namespace, element)),
                Finding::NotRequested {
                    namespace, element, ..
                } => unrequested.push(claim(namespace, element)),
                Finding::TooManyDocuments { .. } => {
                    findings.push(ResponseFinding::TooManyPresentations {
                        query_id: query_id.clone(),
                    })
                }
                Finding::DoctypeMismatch {
                    expected, found, ..
                } => findings.push(ResponseFinding::WrongDocType {
                    query_id: query_id.clone(),
                    expected: expected.clone(),
                    found: found.clone(),
                }),
                Finding::NotPresented | Finding::UnsupportedFormat { .. } => {}
            }
        }
        if !unrequested.is_empty() {
            findings.push(ResponseFinding::UnrequestedClaims {
                query_id: query_id.clone(),
                claims: unrequested.clone(),
            });
        }
        if q.presented > 0 && !missing.is_empty() {
            findings.push(ResponseFinding::MissingClaims {
                query_id: query_id.clone(),
                claims: missing.clone(),
            });
        }
        outcomes.push(QueryOutcome {
            query_id,
            satisfied: q.satisfied(),
            claim_set: q
                .claim_sets
                .iter()
                .flatten()
                .next()
                .and_then(|i| u32::try_from(*i).ok()),
            missing,
            unrequested,
        });
    }
    for id in &report.unknown_ids {
        findings.push(ResponseFinding::UnknownQuery {
            query_id: id.clone(),
        });
    }
    if !report.requirements_met() {
        if report.sets.is_empty() {
            for q in report.queries.iter().filter(|q| !q.satisfied()) {
                findings.push(ResponseFinding::RequiredQueryUnsatisfied {
                    query_id: label(&q.query_id),
                });
            }
        } else {
            for set in report
                .sets
                .iter()
                .filter(|s| s.required && s.satisfied_options.is_empty())
            {
                let options = query
                    .credential_sets
                    .iter()
                    .flatten()
                    .nth(set.index)
                    .map(|s| {
                        s.options
                            .iter()
                            .map(|o| o.join("+"))
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .unwrap_or_default();
                findings.push(ResponseFinding::RequiredQueryUnsatisfied { query_id: options });
            }
        }
    }
    (outcomes, findings)
}
