//! DCQL queries (`mdoc_oid4vp::dcql::DcqlQuery::parse`): untrusted JSON never panics; a parsed
//! query re-serialises to a query that parses to itself, and evaluating it against a small
//! wallet and checking the match against it never panic, disclosing only what it asks for.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use mdoc_oid4vp::dcql::{Candidate, CandidateElement, DcqlQuery, Presented};
use serde_json::json;

fuzz_target!(|input: &[u8]| {
    let Ok(query) = DcqlQuery::parse(input) else {
        return;
    };
    let again = serde_json::to_vec(&query).expect("a parsed query serialises");
    let reparsed = DcqlQuery::parse(&again).expect("a serialised query parses");
    assert!(reparsed == query, "a query changed through JSON");
    let wallet = [Candidate {
        handle: "c0".into(),
        doctype: "org.iso.18013.5.1.mDL".into(),
        elements: ["family_name", "given_name", "age_over_18"]
            .iter()
            .zip([json!("Yamada"), json!("Hanako"), json!(true)])
            .map(|(e, v)| CandidateElement {
                namespace: "org.iso.18013.5.1".into(),
                element: (*e).into(),
                value: Some(v),
            })
            .collect(),
    }];
    let matched = query.evaluate(&wallet);
    let mut presented: BTreeMap<String, Vec<Presented>> = BTreeMap::new();
    for q in &matched.queries {
        for c in &q.candidates {
            let asked: Vec<_> = query
                .credentials
                .iter()
                .filter(|cq| cq.id == q.query_id)
                .flat_map(|cq| cq.claims.iter().flatten())
                .filter_map(|cl| cl.mdoc_path())
                .collect();
            for d in &c.disclose {
                assert!(
                    asked.contains(&(d.namespace.as_str(), d.element.as_str())),
                    "the wallet would disclose what the query did not ask for"
                );
            }
            presented.entry(q.query_id.clone()).or_default().push(Presented {
                doctype: "org.iso.18013.5.1.mDL".into(),
                elements: c
                    .disclose
                    .iter()
                    .map(|d| (d.namespace.clone(), d.element.clone(), None))
                    .collect(),
            });
        }
    }
    let _ = query.check(&presented);
});
