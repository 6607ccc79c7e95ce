//! Differential test against an independent DCQL implementation, dcql-ts (`dcql` 3.0.0 on npm,
//! pinned in `tests/interop/dcql/`): the specification's examples, broken queries and a few
//! hundred generated query/wallet pairs go through both, and the verdicts must agree: query
//! valid or not, whether it can be satisfied, which credentials match each credential query
//! (with the claim set option chosen and exactly the elements it discloses), which options of
//! each credential set are satisfiable.
//!
//! `#[ignore]`d so that `cargo test` needs no Node:
//! `export DCQL_TS=$(bash scripts/node-interop.sh dcql)` then
//! `cargo test -p mdoc-oid4vp --test dcql interop -- --include-ignored`.

use std::io::Write;
use std::process::{Command, Stdio};

use mdoc_oid4vp::dcql::{Candidate, DcqlQuery};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

use crate::properties::{candidates, query_json};
use crate::{candidate, mdl, MDL_NS};

/// Our verdict in the shape `tests/interop/dcql/dcql.mjs` prints.
fn ours(query: &Value, wallet: &[Candidate]) -> Value {
    let Ok(q) = DcqlQuery::parse(query.to_string().as_bytes()) else {
        return json!({"valid": false});
    };
    let found = q.evaluate(wallet);
    let mut matches = Map::new();
    for m in &found.queries {
        let indices: Vec<Value> = m
            .candidates
            .iter()
            .map(|c| {
                let index = wallet.iter().position(|w| w.handle == c.handle).unwrap();
                let mut disclose: Vec<String> = c
                    .disclose
                    .iter()
                    .map(|d| format!("{}/{}", d.namespace, d.element))
                    .collect();
                disclose.sort();
                json!({"index": index, "claim_set": c.claim_set, "disclose": disclose})
            })
            .collect();
        matches.insert(m.query_id.clone(), json!(indices));
    }
    let sets = q.credential_sets.as_ref().map(|_| {
        found
            .sets
            .iter()
            .map(|s| json!(s.satisfiable_options))
            .collect::<Vec<_>>()
    });
    json!({"valid": true, "can_be_satisfied": found.satisfiable, "matches": matches, "sets": sets})
}

/// The wallet as dcql-ts takes it; a value without JSON form becomes an object no `values`
/// entry can equal, and of duplicate elements the first counts (as in ours).
fn theirs_input(wallet: &[Candidate]) -> Value {
    let creds: Vec<Value> = wallet
        .iter()
        .map(|c| {
            let mut namespaces: Map<String, Value> = Map::new();
            for e in &c.elements {
                let ns = namespaces
                    .entry(e.namespace.clone())
                    .or_insert_with(|| json!({}));
                let ns = ns.as_object_mut().unwrap();
                if !ns.contains_key(&e.element) {
                    let v = e.value.clone().unwrap_or_else(|| json!({"opaque": "cbor"}));
                    ns.insert(e.element.clone(), v);
                }
            }
            json!({"doctype": c.doctype, "namespaces": namespaces})
        })
        .collect();
    json!(creds)
}

fn run_dcql_ts(cases: &[(Value, Vec<Candidate>)]) -> Vec<Value> {
    let dir = std::env::var("DCQL_TS")
        .expect("DCQL_TS: export DCQL_TS=$(bash scripts/node-interop.sh dcql)");
    let input: Vec<Value> = cases
        .iter()
        .map(|(q, w)| json!({"query": q, "credentials": theirs_input(w)}))
        .collect();
    let mut child = Command::new("node")
        .arg(format!("{dir}/dcql.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fixtures() -> Vec<(Value, Vec<Candidate>)> {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap();
    let pid = "eu.europa.ec.eudi.pid.1";
    let id_claims = [
        ("given_name", json!("A")),
        ("family_name", json!("B")),
        ("portrait", json!("P")),
    ];
    let photo = candidate(
        "photo",
        "org.iso.23220.photoid.1",
        &[
            (MDL_NS, "resident_address", Some(json!("1"))),
            (MDL_NS, "resident_country", Some(json!("JP"))),
        ],
    );
    vec![
        (
            parse(include_str!("fixtures/simple_mdoc.json")),
            vec![candidate(
                "car",
                "org.iso.7367.1.mVRC",
                &[
                    ("org.iso.7367.1", "vehicle_holder", Some(json!("E"))),
                    (MDL_NS, "given_name", Some(json!("E"))),
                ],
            )],
        ),
        (
            parse(include_str!("fixtures/complex_mdoc.json")),
            vec![mdl("mdl", &id_claims), photo.clone()],
        ),
        (
            parse(include_str!("fixtures/complex_mdoc.json")),
            vec![photo],
        ),
        (
            parse(include_str!("fixtures/multi_credentials.json")),
            vec![mdl("mdl", &id_claims)],
        ),
        (
            parse(include_str!("fixtures/credentials_alternatives.json")),
            vec![],
        ),
        (
            parse(include_str!("fixtures/claims_alternatives_mdoc.json")),
            vec![candidate(
                "p",
                pid,
                &[
                    (pid, "family_name", Some(json!("D"))),
                    (pid, "birth_date", Some(json!("1990"))),
                    (pid, "resident_postal_code", Some(json!("1"))),
                ],
            )],
        ),
        (
            parse(include_str!("fixtures/value_matching_mdoc.json")),
            vec![
                mdl(
                    "a",
                    &[
                        ("family_name", json!("Doe")),
                        ("given_name", json!("J")),
                        ("resident_address", json!("R")),
                        ("resident_postal_code", json!("90210")),
                    ],
                ),
                mdl(
                    "b",
                    &[
                        ("family_name", json!("Doe")),
                        ("given_name", json!("J")),
                        ("resident_address", json!("R")),
                        ("resident_postal_code", json!(90210)),
                    ],
                ),
            ],
        ),
    ]
}

/// Queries both must refuse.
fn broken() -> Vec<(Value, Vec<Candidate>)> {
    let cred = |edit: &dyn Fn(&mut Value)| {
        let mut q = json!({"credentials": [{"id": "q", "format": "mso_mdoc",
            "meta": {"doctype_value": "d"},
            "claims": [{"id": "a", "path": ["n", "e"]}]}]});
        edit(&mut q);
        (q, vec![])
    };
    vec![
        (json!({"credentials": []}), vec![]),
        cred(&|q| q["credentials"][0]["id"] = json!("a b")),
        cred(&|q| q["credentials"][0]["id"] = json!("")),
        cred(&|q| q["credentials"][0]["claims"] = json!([])),
        cred(&|q| q["credentials"][0]["claims"][0]["path"] = json!(["n"])),
        cred(&|q| q["credentials"][0]["claims"][0]["path"] = json!(["n", 1])),
        cred(&|q| q["credentials"][0]["claims"][0]["values"] = json!([{"x": 1}])),
        cred(&|q| q["credentials"][0]["claim_sets"] = json!([["z"]])),
        cred(&|q| q["credential_sets"] = json!([{"options": [["nope"]]}])),
        cred(&|q| q["credential_sets"] = json!([])),
        cred(&|q| {
            let c = q["credentials"][0].clone();
            q["credentials"].as_array_mut().unwrap().push(c);
        }),
    ]
}

/// Queries §6 forbids that dcql-ts 3.0.0 accepts: `values` must be non-empty (§6.3), and an
/// `mso_mdoc` query's `meta.doctype_value` is REQUIRED (Appendix B.2.3). We refuse them.
fn stricter_than_dcql_ts() -> Vec<(Value, Vec<Candidate>)> {
    let base = json!({"credentials": [{"id": "q", "format": "mso_mdoc",
        "meta": {"doctype_value": "d"}, "claims": [{"path": ["n", "e"]}]}]});
    let mut empty_values = base.clone();
    empty_values["credentials"][0]["claims"][0]["values"] = json!([]);
    let mut no_doctype = base;
    no_doctype["credentials"][0]["meta"] = json!({});
    vec![(empty_values, vec![]), (no_doctype, vec![])]
}

fn generated(n: usize) -> Vec<(Value, Vec<Candidate>)> {
    let mut runner = TestRunner::deterministic();
    let strategy = (query_json(), candidates());
    (0..n)
        .map(|i| {
            let (query, mut wallet) = strategy.new_tree(&mut runner).unwrap().current();
            // A credential holding every element, so that many queries disclose something.
            let doctype = ["dt1", "dt2"][i % 2];
            let value = json!(i % 3);
            let all: Vec<(&str, &str, Option<Value>)> = ["ns1", "ns2"]
                .iter()
                .flat_map(|ns| ["a", "b", "c", "d"].map(|e| (*ns, e, Some(value.clone()))))
                .collect();
            wallet.push(candidate(&format!("h{}", wallet.len()), doctype, &all));
            (query, wallet)
        })
        .collect()
}

#[test]
#[ignore = "needs Node and `bash scripts/node-interop.sh dcql` (DCQL_TS)"]
fn dcql_ts_agrees_with_our_verdicts() {
    let mut cases = fixtures();
    cases.extend(broken());
    cases.extend(generated(400));
    let theirs = run_dcql_ts(&cases);
    assert_eq!(theirs.len(), cases.len());
    let mut disagreements = Vec::new();
    for ((query, wallet), theirs) in cases.iter().zip(&theirs) {
        let ours = ours(query, wallet);
        if &ours != theirs {
            disagreements.push(format!(
                "query {query}\n wallet {}\n ours   {ours}\n theirs {theirs}",
                theirs_input(wallet)
            ));
        }
    }
    let stricter = stricter_than_dcql_ts();
    let verdicts = run_dcql_ts(&stricter);
    for ((query, wallet), theirs) in stricter.iter().zip(&verdicts) {
        assert_eq!(ours(query, wallet), json!({"valid": false}), "{query}");
        assert_eq!(
            theirs["valid"],
            json!(true),
            "dcql-ts now refuses {query}: move it to broken()"
        );
    }
    let valid = theirs.iter().filter(|t| t["valid"] == json!(true)).count();
    let disclosing = theirs
        .iter()
        .filter(|t| {
            t["matches"].as_object().is_some_and(|m| {
                m.values()
                    .flat_map(|v| v.as_array().unwrap())
                    .any(|c| c["disclose"] != json!([]))
            })
        })
        .count();
    assert!(
        disclosing > cases.len() / 4,
        "too few cases disclose something: {disclosing}"
    );
    assert!(
        valid > cases.len() / 2,
        "the generator must mostly make valid queries: {valid}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
