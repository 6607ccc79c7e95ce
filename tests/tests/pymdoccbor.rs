//! Interoperability with pymdoccbor 1.4.0, an independent Python mdoc implementation.
//!
//! Both directions:
//! - what `mso` issues and presents (DeviceResponse, Document, bare IssuerSigned) is verified by
//!   pymdoccbor through `tests/interop/py_verify.py`, and tampering or a wrong trust anchor makes
//!   pymdoccbor reject it, so the positive results mean something;
//! - what pymdoccbor issues (`tests/interop/py_issue.py`) is parsed and verified by `mso` against
//!   pymdoccbor's IACA, then presented with a device signature by `mso` and verified again by
//!   both sides.
//!
//! The Python side runs in the pinned venv made by `scripts/python-venv.sh` (`<repo>/.venv`);
//! `MDOC_PYTHON` names another interpreter. `MDOC_KEEP_TMP=1` keeps the temporary files.
//! Deviations of pymdoccbor from ISO 18013-5 are listed in `tests/interop/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::interop::run_script;
use test_kit::{mdl, pki};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use mso::cbor::{encode_value, from_slice, node, to_vec, Limits, TDate, Value};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{
    DeviceResponse, Handover, IssuerSigned, SessionTranscript, MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::present::{device_response, present_with_signature, Disclosure};
use mso::verify::{
    verify_device_response, verify_issuer_signed, CheckKind, DeviceAuthInput, Failure, IssuerTrust,
    VerifyOptions,
};
use mso::x509::Certificate;
use serde_json::{json, Value as Json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant `py_issue.py` is told is "now" (pymdoccbor reads the clock for `signed` and
/// `validFrom`; the script pins it).
const PY_NOW: OffsetDateTime = datetime!(2026-03-01 08:00:00 UTC);

// ------------------------------------------------------------------------------------------
// Running the Python side.

/// A unique directory under the system temp dir, removed on drop (unless MDOC_KEEP_TMP is set).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "mdoc-pymdoccbor-{label}-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().expect("UTF-8 temp path").to_owned()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("MDOC_KEEP_TMP").is_some() {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs `py_verify.py INPUT ARGS...`: its exit code and JSON summary.
fn py_verify(input: &str, args: &[&str]) -> (i32, Json) {
    let mut all = vec![input];
    all.extend_from_slice(args);
    let run = run_script("py_verify.py", &all);
    let summary = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "py_verify.py printed no JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
            run.code, run.stdout, run.stderr
        )
    });
    (run.code, summary)
}

fn rfc3339(t: OffsetDateTime) -> String {
    TDate::new(t).to_rfc3339()
}

// ------------------------------------------------------------------------------------------
// Fixtures and expectations.

fn transcript() -> SessionTranscript {
    SessionTranscript::online(&Handover::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    })
}

fn opts(at: OffsetDateTime, trust: &IssuerTrust) -> VerifyOptions<'_> {
    VerifyOptions {
        skew: Duration::ZERO,
        ..VerifyOptions::new(at, trust, &SoftwareVerifier)
    }
}

/// The sample mDL of `mdl.rs` as py_verify.py reports what pymdoccbor disclosed.
fn rust_mdl_as_pymdoccbor_json() -> Json {
    let portrait = mdl::portrait(20 * 1024);
    json!({
        "family_name": "Yamada",
        "given_name": "Hanako",
        "birth_date": {"$full-date": "1990-02-28"},
        "issue_date": {"$full-date": "2026-01-15"},
        "expiry_date": {"$full-date": "2031-01-15"},
        "issuing_country": "JP",
        "issuing_authority": "Tokyo Public Safety Commission",
        "document_number": "123456789012",
        "portrait": {"$bytes_b64": B64.encode(&portrait), "$len": portrait.len()},
        "driving_privileges": [{
            "vehicle_category_code": "B",
            "issue_date": {"$full-date": "2020-04-01"},
            "expiry_date": {"$full-date": "2031-04-01"},
        }],
        "un_distinguishing_sign": "J",
        "age_over_18": true,
    })
}

/// Asserts py_verify.py's verdict: verified, one mDL, chained to `root_cn`, exactly `elements`
/// disclosed in the mDL namespace, every disclosed digest checked.
fn assert_pymdoccbor_verified(
    code: i32,
    summary: &Json,
    root_cn: &str,
    elements: &Json,
    device_signed: bool,
) {
    assert_eq!(code, 0, "pymdoccbor did not verify it:\n{summary:#}");
    assert_eq!(summary["result"], "VERIFIED");
    let docs = summary["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 1, "{summary:#}");
    let doc = &docs[0];
    assert_eq!(doc["docType"], MDL_DOCTYPE);
    assert_eq!(doc["valid"], true);
    let chained = doc["chain_verified_to"].as_str().unwrap_or_default();
    assert!(
        chained.contains(&format!("CN={root_cn}")),
        "chain_verified_to {chained:?}"
    );
    let n = elements.as_object().expect("elements").len();
    assert_eq!(doc["hash_verification"]["total"], n, "{summary:#}");
    assert_eq!(doc["hash_verification"]["verified"], n, "{summary:#}");
    assert_eq!(doc["disclosed"][MDL_NAMESPACE], *elements);
    assert_eq!(doc["disclosed"].as_object().map(|o| o.len()), Some(1));
    assert_eq!(doc["deviceSigned_present"], device_signed);
}

/// The reason py_verify.py gives for a rejection.
fn assert_pymdoccbor_rejected(code: i32, summary: &Json, reason_contains: &[&str]) {
    assert_eq!(code, 1, "pymdoccbor did not reject it:\n{summary:#}");
    assert_eq!(summary["result"], "FAILED");
    let reason = summary["reason"].as_str().unwrap_or_default();
    for needle in reason_contains {
        assert!(
            reason.contains(needle),
            "reason {reason:?} lacks {needle:?}"
        );
    }
}

struct RustIssued {
    pki: pki::TestPki,
    device: SoftwareKey,
    issued: IssuerSigned,
}

fn rust_issued() -> RustIssued {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    RustIssued {
        pki,
        device,
        issued,
    }
}

fn find_unique(haystack: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "{needle:?} occurs {} times", hits.len());
    hits[0]
}

// ------------------------------------------------------------------------------------------
// mso → pymdoccbor

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_verifies_a_device_response_issued_and_presented_by_mso() {
    let r = rust_issued();
    let doc = present_with_signature(&r.issued, None, &transcript(), &r.device).unwrap();
    let dir = TempDir::new("rust-response");
    let input = dir.write("device_response.cbor", &to_vec(&device_response(vec![doc])));
    let iaca = dir.write("iaca.pem", pki::TestPki::pem(&r.pki.iaca_der).as_bytes());
    // --strict: also fail on the checks pymdoccbor skips (MSO docType, validityInfo at --at,
    // digestAlgorithm, namespaces missing from the MSO).
    let at = rfc3339(pki::AT);
    let (code, summary) = py_verify(
        &input,
        &[
            "--shape",
            "device-response",
            "--trust-root",
            &iaca,
            "--at",
            &at,
            "--strict",
        ],
    );
    assert_pymdoccbor_verified(
        code,
        &summary,
        "Test IACA",
        &rust_mdl_as_pymdoccbor_json(),
        true,
    );
    assert_eq!(
        summary["documents"][0]["mso"]["validityInfo"],
        json!({
            "signed": "2026-05-01T09:30:00Z",
            "validFrom": "2026-05-01T09:30:00Z",
            "validUntil": "2027-05-01T09:30:00Z",
        })
    );
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_verifies_selective_disclosure_by_mso() {
    let r = rust_issued();
    let wanted = ["family_name", "birth_date", "age_over_18"];
    let selection: Disclosure = BTreeMap::from([(
        MDL_NAMESPACE.to_owned(),
        wanted.iter().map(|s| s.to_string()).collect(),
    )]);
    let doc =
        present_with_signature(&r.issued, Some(&selection), &transcript(), &r.device).unwrap();
    let dir = TempDir::new("rust-selective");
    let input = dir.write("device_response.cbor", &to_vec(&device_response(vec![doc])));
    let iaca = dir.write("iaca.pem", pki::TestPki::pem(&r.pki.iaca_der).as_bytes());
    let at = rfc3339(pki::AT);
    let (code, summary) = py_verify(&input, &["--trust-root", &iaca, "--at", &at, "--strict"]);
    let all = rust_mdl_as_pymdoccbor_json();
    let expected: serde_json::Map<String, Json> = wanted
        .iter()
        .map(|k| (k.to_string(), all[*k].clone()))
        .collect();
    assert_pymdoccbor_verified(code, &summary, "Test IACA", &Json::Object(expected), true);
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_verifies_bare_issuer_signed_and_document_from_mso() {
    let r = rust_issued();
    let dir = TempDir::new("rust-shapes");
    let iaca = dir.write("iaca.der", &r.pki.iaca_der);
    let at = rfc3339(pki::AT);
    let expected = rust_mdl_as_pymdoccbor_json();

    // IssuerSigned as a wallet receives it (OpenID4VCI mso_mdoc is its base64url).
    let input = dir.write("issuer_signed.cbor", &to_vec(&r.issued));
    let (code, summary) = py_verify(
        &input,
        &[
            "--shape",
            "issuer-signed",
            "--trust-root",
            &iaca,
            "--at",
            &at,
            "--strict",
        ],
    );
    assert_pymdoccbor_verified(code, &summary, "Test IACA", &expected, false);

    // One Document of a DeviceResponse.
    let doc = present_with_signature(&r.issued, None, &transcript(), &r.device).unwrap();
    let input = dir.write("document.cbor", &to_vec(&doc));
    let (code, summary) = py_verify(
        &input,
        &[
            "--shape",
            "document",
            "--trust-root",
            &iaca,
            "--at",
            &at,
            "--strict",
        ],
    );
    assert_pymdoccbor_verified(code, &summary, "Test IACA", &expected, true);
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_rejects_a_tampered_element_value_from_mso() {
    let r = rust_issued();
    let doc = present_with_signature(&r.issued, None, &transcript(), &r.device).unwrap();
    let mut bytes = to_vec(&device_response(vec![doc]));
    // "Yamada" is family_name's elementValue, inside its IssuerSignedItemBytes: flip one bit of
    // its last letter ('a' → '`'), which keeps the CBOR well-formed.
    let pos = find_unique(&bytes, b"Yamada") + 5;
    bytes[pos] ^= 0x01;

    // mso rejects it on exactly that element's digest ...
    let response: DeviceResponse = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![r.pki.iaca()]);
    let t = transcript();
    let session = DeviceAuthInput {
        transcript: &t,
        e_reader_key: None,
    };
    let report = verify_device_response(&response, &session, &opts(pki::AT, &trust));
    let failed: Vec<_> = report
        .failures()
        .map(|c| (c.kind, c.subject.clone(), c.outcome.clone()))
        .collect();
    assert_eq!(
        failed,
        vec![(
            CheckKind::ValueDigest,
            Some(format!("{MDL_NAMESPACE}/family_name")),
            Err(Failure::DigestMismatch)
        )]
    );

    // ... and so does pymdoccbor.
    let dir = TempDir::new("rust-tampered");
    let input = dir.write("device_response.cbor", &bytes);
    let iaca = dir.write("iaca.pem", pki::TestPki::pem(&r.pki.iaca_der).as_bytes());
    let at = rfc3339(pki::AT);
    let (code, summary) = py_verify(&input, &["--trust-root", &iaca, "--at", &at]);
    assert_pymdoccbor_rejected(code, &summary, &["family_name", "hash mismatch"]);
    let hv = &summary["documents"][0]["hash_verification"];
    assert_eq!(hv["total"], 12);
    assert_eq!(hv["verified"], 11);
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn pymdoccbor_rejects_mso_output_under_a_wrong_anchor_or_outside_ds_validity() {
    let r = rust_issued();
    let dir = TempDir::new("rust-trust");
    let input = dir.write("issuer_signed.cbor", &to_vec(&r.issued));
    let iaca = dir.write("iaca.pem", pki::TestPki::pem(&r.pki.iaca_der).as_bytes());
    let other = pki::TestPki::new();
    let other_iaca = dir.write(
        "other_iaca.pem",
        pki::TestPki::pem(&other.iaca_der).as_bytes(),
    );
    let at = rfc3339(pki::AT);

    let (code, summary) = py_verify(&input, &["--trust-root", &other_iaca, "--at", &at]);
    assert_pymdoccbor_rejected(code, &summary, &["not signed by any trusted root"]);

    // --at reaches pymdoccbor's DS validity check (DS: 2026-01-01 .. 2027-04-01).
    let late = rfc3339(pki::DS_NOT_AFTER + Duration::days(1));
    let (code, summary) = py_verify(&input, &["--trust-root", &iaca, "--at", &late]);
    assert_pymdoccbor_rejected(code, &summary, &["DS certificate expired"]);
    let early = rfc3339(pki::DS_NOT_BEFORE - Duration::days(1));
    let (code, summary) = py_verify(&input, &["--trust-root", &iaca, "--at", &early]);
    assert_pymdoccbor_rejected(code, &summary, &["DS certificate not yet valid"]);
}

// ------------------------------------------------------------------------------------------
// pymdoccbor → mso

/// pymdoccbor wraps these element values (also inside driving_privileges) in tag 1004 itself
/// (pymdoccbor/settings.py CBORTAGS_ATTR_MAP).
const PY_FULL_DATES: [&str; 4] = ["birth_date", "issue_date", "expiry_date", "issuance_date"];

/// The CBOR value py_issue.py's elements.json entry `id` was issued as.
fn expected_cbor(id: &str, v: &Json) -> Value {
    match v {
        Json::String(s) if PY_FULL_DATES.contains(&id) => {
            Value::Tag(1004, Box::new(Value::Text(s.clone())))
        }
        Json::String(s) => Value::Text(s.clone()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Object(o) if o.contains_key("bytes_b64") => {
            Value::Bytes(B64.decode(o["bytes_b64"].as_str().unwrap()).unwrap())
        }
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Text(k.clone()), expected_cbor(k, v)))
                .collect(),
        ),
        Json::Array(a) => Value::Array(a.iter().map(|v| expected_cbor(id, v)).collect()),
        other => panic!("unexpected element value in elements.json: {other}"),
    }
}

/// The same entry as py_verify.py reports it.
fn expected_pymdoccbor_json(id: &str, v: &Json) -> Json {
    match v {
        Json::String(s) if PY_FULL_DATES.contains(&id) => json!({ "$full-date": s }),
        Json::Object(o) if o.contains_key("bytes_b64") => {
            let b64 = o["bytes_b64"].as_str().unwrap();
            json!({"$bytes_b64": b64, "$len": B64.decode(b64).unwrap().len()})
        }
        Json::Object(o) => Json::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), expected_pymdoccbor_json(k, v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(|v| expected_pymdoccbor_json(id, v)).collect()),
        other => other.clone(),
    }
}

/// Issues with pymdoccbor, then parses and verifies with mso; presents it with the device key
/// and has both sides verify the presentation.
fn verify_pymdoccbor_issued(x5chain_array: bool) {
    let dir = TempDir::new(if x5chain_array { "py-array" } else { "py" });
    let out = dir.0.to_str().unwrap().to_owned();
    let now = rfc3339(PY_NOW);
    let mut args = vec![out.as_str(), "--now", now.as_str()];
    if x5chain_array {
        args.push("--x5chain-array");
    }
    let run = run_script("py_issue.py", &args);
    assert_eq!(run.code, 0, "py_issue.py failed:\n{}", run.stderr);

    // MdocCborIssuer.dump(): {"status": 0, "version": "1.0", "documents": [{"docType",
    // "issuerSigned"}]}. Cut documents[0].issuerSigned out of the exact bytes.
    let raw = dir.read("pymdoccbor_output.cbor");
    let top = node::parse(&raw, &Limits::DEFAULT).unwrap();
    let top = top.map(&raw, "pymdoccbor output").unwrap();
    assert_eq!(
        top.required("version").unwrap().text(&raw, "v").unwrap(),
        "1.0"
    );
    assert_eq!(top.required("status").unwrap().uint("status").unwrap(), 0);
    let docs = top
        .required("documents")
        .unwrap()
        .array("documents")
        .unwrap();
    assert_eq!(docs.len(), 1);
    let doc = docs[0].map(&raw, "Document").unwrap();
    assert_eq!(
        doc.required("docType").unwrap().text(&raw, "d").unwrap(),
        MDL_DOCTYPE
    );
    assert!(
        doc.get("deviceSigned").is_none(),
        "pymdoccbor 1.4.0 issues a Document without deviceSigned (README.md deviation 1); \
         if this fails, pymdoccbor changed: update the README"
    );
    let issuer_signed_bytes = doc.required("issuerSigned").unwrap().raw(&raw);
    let issuer_signed: IssuerSigned = from_slice(issuer_signed_bytes, &Limits::DEFAULT).unwrap();

    // x5chain: the DS certificate first; a bstr for one certificate, an array for more.
    let ds_der = dir.read("ds_cert.der");
    let iaca_der = dir.read("iaca_cert.der");
    let chain = issuer_signed.issuer_auth.x5chain().unwrap();
    let x5chain_header = issuer_signed
        .issuer_auth
        .sign1()
        .unprotected
        .rest
        .iter()
        .find(|(l, _)| *l == coset::Label::Int(33))
        .map(|(_, v)| v.clone())
        .expect("x5chain in the unprotected header");
    if x5chain_array {
        assert_eq!(chain, vec![ds_der.clone(), iaca_der.clone()]);
        assert!(matches!(x5chain_header, Value::Array(_)));
    } else {
        assert_eq!(chain, vec![ds_der.clone()]);
        assert!(matches!(x5chain_header, Value::Bytes(_)));
    }

    // validityInfo comes from the pinned clock: signed = validFrom = now (pymdoccbor clamps
    // validFrom to its clock), validUntil = end of the expiry day. Verify an hour later.
    let mso = issuer_signed.issuer_auth.mso().value();
    let v = mso.validity_info;
    assert_eq!(v.signed.datetime(), PY_NOW);
    assert_eq!(v.valid_from.datetime(), PY_NOW);
    assert_eq!(v.valid_until.datetime(), datetime!(2027-03-01 23:59:59 UTC));
    assert_eq!(mso.doc_type, MDL_DOCTYPE);
    assert_eq!(mso.digest_algorithm.name(), "SHA-256");
    let at = v.valid_from.datetime() + Duration::hours(1);

    // Trust pymdoccbor's IACA (a P-256 self-signed root made by py_issue.py): one-step chain.
    let iaca = Certificate::from_der(&iaca_der).unwrap();
    let trust = IssuerTrust::iacas(vec![iaca]);
    let report = verify_issuer_signed(&issuer_signed, Some(MDL_DOCTYPE), &opts(at, &trust));
    assert!(
        report.is_valid(),
        "mso rejects pymdoccbor's mDL: {:#?}",
        report.failures().collect::<Vec<_>>()
    );
    for kind in [
        CheckKind::IssuerAlgorithm,
        CheckKind::DsCertificate,
        CheckKind::DsTrusted,
        CheckKind::IacaValidity,
        CheckKind::DsValidity,
        CheckKind::IssuerSignature,
        CheckKind::DocType,
        CheckKind::MsoValidity,
        CheckKind::SignedWithinDsValidity,
        CheckKind::DeviceKey,
    ] {
        assert_eq!(report.outcome(kind), Some(&Ok(())), "{kind:?}");
    }

    // Every element, with the value Python put in.
    let elements: Json = serde_json::from_slice(&dir.read("elements.json")).unwrap();
    let elements = elements["nameSpaces"][MDL_NAMESPACE].as_object().unwrap();
    let items = &issuer_signed.name_spaces.as_ref().unwrap()[MDL_NAMESPACE];
    assert_eq!(issuer_signed.name_spaces.as_ref().unwrap().len(), 1);
    assert_eq!(items.len(), elements.len());
    let digests = report
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ValueDigest)
        .count();
    assert_eq!(digests, elements.len());
    let got: BTreeMap<&str, &Value> = items
        .iter()
        .map(|i| {
            let i = i.value();
            (i.element_identifier.as_str(), &i.element_value)
        })
        .collect();
    assert_eq!(got.len(), elements.len(), "duplicate identifiers");
    for (id, v) in elements {
        let actual = got
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(
            encode_value(actual),
            encode_value(&expected_cbor(id, v)),
            "{id}: {actual:?}"
        );
    }
    let text = |s: &str| Value::Text(s.into());
    let full_date = |s: &str| Value::Tag(1004, Box::new(text(s)));
    assert_eq!(got["family_name"], &text("Doe"));
    assert_eq!(got["birth_date"], &full_date("1990-02-28"));
    assert_eq!(got["issue_date"], &full_date("2026-03-01"));
    assert_eq!(got["age_over_18"], &Value::Bool(true));
    assert!(
        matches!(got["portrait"], Value::Bytes(b) if b.len() == 3006 && b.starts_with(&[0xff, 0xd8]))
    );

    // The MSO binds the device key py_issue.py generated.
    let pem = String::from_utf8(dir.read("device_key.pem")).unwrap();
    let device = SoftwareKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(
        mso.device_key_info.public_key().unwrap(),
        device.public_key().unwrap()
    );

    // pymdoccbor's credential, presented by the mso wallet code with a device signature:
    // mso verifies the whole DeviceResponse including device authentication ...
    let t = transcript();
    let document = present_with_signature(&issuer_signed, None, &t, &device).unwrap();
    let response_bytes = to_vec(&device_response(vec![document]));
    let response: DeviceResponse = from_slice(&response_bytes, &Limits::DEFAULT).unwrap();
    let session = DeviceAuthInput {
        transcript: &t,
        e_reader_key: None,
    };
    let report = verify_device_response(&response, &session, &opts(at, &trust));
    assert!(
        report.is_valid(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(
        report.documents[0].outcome(CheckKind::DeviceAuthentication),
        Some(&Ok(()))
    );

    // ... and pymdoccbor still verifies its own issuer data inside mso's DeviceResponse.
    let input = dir.write("device_response.cbor", &response_bytes);
    let root = dir.path("iaca_cert.pem");
    let at = rfc3339(at);
    let (code, summary) = py_verify(
        &input,
        &[
            "--trust-root",
            root.to_str().unwrap(),
            "--at",
            &at,
            "--strict",
        ],
    );
    let expected: serde_json::Map<String, Json> = elements
        .iter()
        .map(|(k, v)| (k.clone(), expected_pymdoccbor_json(k, v)))
        .collect();
    assert_pymdoccbor_verified(
        code,
        &summary,
        "pymdoccbor interop IACA",
        &Json::Object(expected),
        true,
    );
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn mso_verifies_an_mdl_issued_by_pymdoccbor() {
    verify_pymdoccbor_issued(false);
}

#[test]
#[ignore = "needs the pymdoccbor venv: scripts/python-venv.sh"]
fn mso_verifies_an_mdl_issued_by_pymdoccbor_with_an_x5chain_array() {
    verify_pymdoccbor_issued(true);
}
