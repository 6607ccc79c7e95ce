//! Properties over arbitrary input: the parser never panics, and evaluation of any valid query
//! discloses only claims that query asked for, of the candidate's doctype, and the verifier's
//! check accepts exactly that disclosure with the same claim set option.

use std::collections::HashSet;

use mdoc_oid4vp::dcql::{Candidate, CandidateElement, DcqlQuery, Presented};
use proptest::prelude::*;
use serde_json::{json, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z._]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("credentials".to_owned()),
                    Just("id".to_owned()),
                    Just("format".to_owned()),
                    Just("meta".to_owned()),
                    Just("claims".to_owned()),
                    Just("path".to_owned()),
                    Just("values".to_owned()),
                    Just("claim_sets".to_owned()),
                    Just("credential_sets".to_owned()),
                    Just("options".to_owned()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NS: [&str; 2] = ["ns1", "ns2"];
const ELEMENTS: [&str; 4] = ["a", "b", "c", "d"];
const DOCTYPES: [&str; 2] = ["dt1", "dt2"];

/// Queries drawn from a small vocabulary, so that they often match the candidates; some are
/// invalid, which the property skips.
pub(crate) fn query_json() -> impl Strategy<Value = Value> {
    let claim = (0..2usize, 0..4usize, any::<bool>(), prop::option::of(prop::collection::vec(0..3i64, 1..3)), 0..5usize)
        .prop_map(|(n, e, retain, values, id)| {
            let mut c = json!({"id": format!("c{id}"), "path": [NS[n], ELEMENTS[e]], "intent_to_retain": retain});
            if let Some(v) = values {
                c["values"] = json!(v);
            }
            c
        });
    let credential = (
        0..2usize,
        prop::option::of(prop::collection::vec(claim, 1..5)),
        prop::option::of(prop::collection::vec(prop::collection::vec(0..5usize, 1..3), 1..3)),
        any::<bool>(),
    )
        .prop_map(|(d, claims, sets, multiple)| {
            let mut q = json!({"format": "mso_mdoc", "meta": {"doctype_value": DOCTYPES[d]}, "multiple": multiple});
            if let Some(mut c) = claims {
                // Unique ids, and claim_sets naming existing ones, so most queries are valid.
                for (i, claim) in c.iter_mut().enumerate() {
                    claim["id"] = json!(format!("c{i}"));
                }
                if let Some(s) = sets {
                    let n = c.len();
                    let s: Vec<Vec<String>> =
                        s.iter().map(|o| o.iter().map(|i| format!("c{}", i % n)).collect()).collect();
                    q["claim_sets"] = json!(s);
                }
                q["claims"] = json!(c);
            }
            q
        });
    let sets = prop::option::of(prop::collection::vec(
        (
            prop::collection::vec(prop::collection::vec(0..4usize, 1..3), 1..3),
            any::<bool>(),
        ),
        1..3,
    ));
    (prop::collection::vec(credential, 1..4), sets).prop_map(|(cs, sets)| {
        let n = cs.len();
        let cs: Vec<Value> = cs
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                c["id"] = json!(format!("q{i}"));
                c
            })
            .collect();
        let mut q = json!({ "credentials": cs });
        if let Some(sets) = sets {
            let sets: Vec<Value> = sets
                .iter()
                .map(|(options, required)| {
                    let options: Vec<Vec<String>> = options
                        .iter()
                        .map(|o| o.iter().map(|i| format!("q{}", i % n)).collect())
                        .collect();
                    json!({"options": options, "required": required})
                })
                .collect();
            q["credential_sets"] = json!(sets);
        }
        q
    })
}

pub(crate) fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    let element =
        (0..2usize, 0..4usize, prop::option::of(0..3i64)).prop_map(|(n, e, v)| CandidateElement {
            namespace: NS[n].to_owned(),
            element: ELEMENTS[e].to_owned(),
            value: v.map(Value::from),
        });
    let candidate =
        (0..2usize, prop::collection::vec(element, 0..8)).prop_map(|(d, elements)| Candidate {
            handle: String::new(),
            doctype: DOCTYPES[d].to_owned(),
            elements,
        });
    prop::collection::vec(candidate, 0..4).prop_map(|mut cs| {
        for (i, c) in cs.iter_mut().enumerate() {
            c.handle = format!("h{i}");
        }
        cs
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = DcqlQuery::parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_and_what_parses_round_trips(v in json_value()) {
        if let Ok(q) = DcqlQuery::parse(v.to_string().as_bytes()) {
            let again = DcqlQuery::parse(q.to_json().unwrap().as_bytes()).unwrap();
            prop_assert_eq!(again, q);
        }
    }

    #[test]
    fn valid_queries_with_one_node_replaced_never_panic(
        q in query_json(),
        pick in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let mut q = q;
        let mut nodes = 0usize;
        count_nodes(&q, &mut nodes);
        let mut target = pick.index(nodes.max(1));
        replace_node(&mut q, &mut target, &replacement);
        if let Ok(query) = DcqlQuery::parse(q.to_string().as_bytes()) {
            let _ = query.evaluate(&[]);
            let _ = query.check(&Default::default());
        }
    }

    #[test]
    fn evaluation_discloses_only_requested_claims(q in query_json(), cs in candidates()) {
        let Ok(query) = DcqlQuery::parse(q.to_string().as_bytes()) else { return Ok(()) };
        let found = query.evaluate(&cs);
        prop_assert_eq!(found.queries.len(), query.credentials.len());
        for (credential, result) in query.credentials.iter().zip(&found.queries) {
            prop_assert_eq!(result.candidates.is_empty(), result.unsatisfiable.is_some());
            let claims = credential.claims.as_deref().unwrap_or(&[]);
            for m in &result.candidates {
                let c = cs.iter().find(|c| c.handle == m.handle).unwrap();
                prop_assert_eq!(Some(&c.doctype), credential.meta.doctype_value.as_ref());
                // The chosen option's claims exactly (or all claims without claim_sets).
                let asked: HashSet<(&str, &str)> = match (&credential.claim_sets, m.claim_set) {
                    (Some(sets), Some(i)) => claims
                        .iter()
                        .filter(|cl| sets[i].iter().any(|id| cl.id.as_deref() == Some(id)))
                        .filter_map(|cl| cl.mdoc_path())
                        .collect(),
                    (None, None) => claims.iter().filter_map(|cl| cl.mdoc_path()).collect(),
                    other => { prop_assert!(false, "claim_set {:?}", other); unreachable!() }
                };
                let disclosed: HashSet<(&str, &str)> =
                    m.disclose.iter().map(|d| (d.namespace.as_str(), d.element.as_str())).collect();
                prop_assert_eq!(disclosed.len(), m.disclose.len(), "disclosed once each");
                prop_assert_eq!(&disclosed, &asked);
                // Held, with an allowed value; and the verifier's check accepts exactly this.
                let mut elements = Vec::new();
                for d in &m.disclose {
                    let held = c.elements.iter().find(|e| e.namespace == d.namespace && e.element == d.element);
                    prop_assert!(held.is_some());
                    elements.push((d.namespace.clone(), d.element.clone(), held.and_then(|e| e.value.clone())));
                }
                let presented = Presented { doctype: c.doctype.clone(), elements };
                let report = query.check(&[(credential.id.clone(), vec![presented])].into_iter().collect());
                let verdict = report.query(&credential.id).unwrap();
                prop_assert!(verdict.satisfied(), "{:?}", verdict);
                prop_assert_eq!(&verdict.claim_sets, &vec![m.claim_set]);
            }
        }
    }
}

fn count_nodes(v: &Value, n: &mut usize) {
    *n += 1;
    match v {
        Value::Array(a) => a.iter().for_each(|x| count_nodes(x, n)),
        Value::Object(o) => o.values().for_each(|x| count_nodes(x, n)),
        _ => {}
    }
}

/// Replaces the `target`-th node (pre-order) by `with`.
fn replace_node(v: &mut Value, target: &mut usize, with: &Value) -> bool {
    if *target == 0 {
        *v = with.clone();
        return true;
    }
    *target -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_node(x, target, with)),
        Value::Object(o) => o.values_mut().any(|x| replace_node(x, target, with)),
        _ => false,
    }
}
