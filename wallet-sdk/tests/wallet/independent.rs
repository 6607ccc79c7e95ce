//! The wallet's DeviceResponse checked by independent implementations (`#[ignore]`d: they
//! need the pinned venv of `scripts/python-venv.sh`, `MDOC_PYTHON`):
//! - pymdoccbor 1.4.0 (`tests/interop/py_verify.py`) verifies the issuer side — the MSO
//!   signature, the DS certificate against the IACA, every disclosed element's digest — and
//!   says what was disclosed: exactly what the holder approved;
//! - pycose 1.1.0 (`tests/interop/py_device_auth.py`), over DeviceAuthenticationBytes built
//!   from the reader's SessionTranscript, verifies the device signature the wallet made through
//!   its `KeyStore`, which pymdoccbor never reads.
//!
//! Each also refuses the response with one byte changed, so its acceptance means something.

use serde_json::Value as Json;
use test_kit::interop::run_script;
use test_kit::pki::{TestPki, AT};
use time::format_description::well_known::Rfc3339;
use wallet_sdk::{ApprovedDocument, ApprovedElement};

use crate::common::{at, Fixture};
use crate::present::engage;

const APPROVED: [&str; 2] = ["age_over_18", "family_name"];

/// A presentation approving [`APPROVED`] of three requested elements: the DeviceResponse and
/// the SessionTranscriptBytes and EReaderKeyBytes as the reader holds them.
fn presented() -> (Fixture, Vec<u8>, Vec<u8>, Vec<u8>) {
    let f = Fixture::new();
    f.holding(1);
    let (session, reader, establishment) = engage(&f, None);
    let consent = session.receive_establishment(establishment, at()).unwrap();
    let approved = consent
        .documents
        .iter()
        .map(|d| ApprovedDocument {
            doc_type: d.doc_type.clone(),
            elements: APPROVED
                .iter()
                .map(|id| ApprovedElement {
                    namespace: mso::model::MDL_NAMESPACE.into(),
                    identifier: (*id).into(),
                })
                .collect(),
        })
        .collect();
    let message = session.respond(approved, at()).unwrap();
    let response = reader.decrypt(message).unwrap().data.unwrap();
    let transcript = reader.session_transcript_bytes().unwrap();
    let e_reader_key = reader.e_reader_key_bytes().unwrap();
    (f, response, transcript, e_reader_key)
}

/// Runs `script` on files holding `inputs` (and `args`): its exit code and JSON summary.
fn run(script: &str, inputs: &[(&str, &[u8])], args: &[&str]) -> (i32, Json) {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<String> = inputs
        .iter()
        .map(|(name, bytes)| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path.to_str().unwrap().to_owned()
        })
        .collect();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = run_script(script, &all);
    let summary = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
            out.code, out.stdout, out.stderr
        )
    });
    (out.code, summary)
}

/// pymdoccbor's verdict on `response`, with the fixture's IACA as its trust root, at the
/// fixture's time, also failing on the checks pymdoccbor itself skips (`--strict`).
fn pymdoccbor(f: &Fixture, response: &[u8]) -> (i32, Json) {
    let at = AT.format(&Rfc3339).unwrap();
    let iaca = TestPki::pem(&f.pki.iaca_der);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("iaca.pem");
    std::fs::write(&root, iaca).unwrap();
    run(
        "py_verify.py",
        &[("device_response.cbor", response)],
        &[
            "--shape",
            "device-response",
            "--trust-root",
            root.to_str().unwrap(),
            "--at",
            &at,
            "--strict",
        ],
    )
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the response"))
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_verifies_the_wallets_response_and_sees_only_the_approved_elements() {
    let (f, response, _, _) = presented();
    let (code, summary) = pymdoccbor(&f, &response);
    assert_eq!(
        code, 0,
        "pymdoccbor refused the wallet's response: {summary}"
    );
    let doc = &summary["documents"][0];
    assert_eq!(doc["docType"], mso::model::MDL_DOCTYPE);
    assert_eq!(doc["valid"], true, "{summary}");
    let disclosed = doc["disclosed"][mso::model::MDL_NAMESPACE]
        .as_object()
        .unwrap();
    let mut ids: Vec<&str> = disclosed.keys().map(String::as_str).collect();
    ids.sort();
    assert_eq!(ids, APPROVED, "{summary}");
    assert_eq!(disclosed["age_over_18"], true);

    // The family name's value, changed by one byte: its digest no longer matches.
    let mut tampered = response.clone();
    let i = find(&tampered, test_kit::mdl::FAMILY_NAME.as_bytes());
    tampered[i] ^= 0x01;
    let (code, summary) = pymdoccbor(&f, &tampered);
    assert_eq!(code, 1, "pymdoccbor accepted a tampered element: {summary}");
}

#[test]
#[ignore = "needs pycose in the venv: scripts/python-venv.sh"]
fn pycose_verifies_the_wallets_device_signature_over_the_readers_transcript() {
    let (_, response, transcript, e_reader_key) = presented();
    let inputs = [
        ("device_response.cbor", response.as_slice()),
        ("session_transcript.cbor", transcript.as_slice()),
    ];
    let (code, summary) = run("py_device_auth.py", &inputs, &[]);
    assert_eq!(code, 0, "pycose refused the device signature: {summary}");
    assert_eq!(summary["documents"][0]["deviceSignature"], "valid");
    // DeviceSigned carries no elements: everything disclosed is issuer-signed.
    assert_eq!(
        summary["documents"][0]["deviceNameSpaces"],
        serde_json::json!({})
    );

    // Another transcript (the last byte of the reader's ephemeral key changed): the same
    // signature no longer verifies, so the check is bound to this session.
    let mut other = transcript.clone();
    let last = find(&other, &e_reader_key) + e_reader_key.len() - 1;
    other[last] ^= 0x01;
    let inputs = [
        ("device_response.cbor", response.as_slice()),
        ("session_transcript.cbor", other.as_slice()),
    ];
    let (code, summary) = run("py_device_auth.py", &inputs, &[]);
    assert_eq!(
        code, 1,
        "pycose accepted another session's transcript: {summary}"
    );
    assert_eq!(summary["documents"][0]["deviceSignature"], "invalid");
}
