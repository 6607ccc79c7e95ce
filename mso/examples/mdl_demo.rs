//! End-to-end demo: a DEV-ONLY root and DS are created in memory, an mDL is issued and bound to a
//! device key, presented over a proximity (QR) session with a device signature, and verified.
//! Every artifact is written to the output directory so it can be inspected with openssl and
//! other tools.
//!
//! ```text
//! cargo run --release -p mso --example mdl_demo -- [OUT_DIR]     (default: ./out/demo)
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use test_kit::{mdl, pki};

use std::path::PathBuf;

use mso::cbor::{to_vec, Tag24};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{Handover, SessionTranscript, MDL_DOCTYPE};
use mso::present::{device_response, present_with_signature};
use mso::verify::{verify_device_response, DeviceAuthInput, IssuerTrust, VerifyOptions};

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out/demo".into()));
    std::fs::create_dir_all(&out).expect("create output directory");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).expect("write artifact");
        println!("  wrote {}", out.join(name).display());
    };

    println!("1. DEV-ONLY trust chain (in-memory keys, never for production)");
    let pki = pki::TestPki::new();
    write("iaca.pem", pki::TestPki::pem(&pki.iaca_der).as_bytes());
    write("ds.pem", pki::TestPki::pem(&pki.ds_der).as_bytes());

    println!("2. Issue an mDL (12 elements, 20 KB portrait) bound to a fresh device key");
    let device = SoftwareKey::generate(Algorithm::Es256);
    write("device_key.pkcs8.der", &device.to_pkcs8_der().unwrap());
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let issuer_signed = to_vec(&issued);
    write("issuer_signed.cbor", &issuer_signed);

    println!("3. Present it over a QR-engaged proximity session (device signature)");
    let e_device = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let engagement = mso::cbor::encode_value(&mso::cbor::Value::Map(vec![
        (0.into(), "1.0".into()),
        (
            1.into(),
            mso::cbor::Value::Array(vec![
                1.into(),
                mso::cbor::ToCbor::to_value(&Tag24::new(e_device.to_cose_key())),
            ]),
        ),
    ]));
    let e_reader = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let transcript = SessionTranscript::proximity(
        &mso::cbor::wrap_tag24(&engagement),
        Tag24::new(e_reader.to_cose_key()).tagged_bytes(),
        &Handover::Qr.to_bytes(),
    );
    write("session_transcript.cbor", &transcript.tagged_bytes());
    let document = present_with_signature(&issued, None, &transcript, &device).unwrap();
    let response = to_vec(&device_response(vec![document]));
    write("device_response.cbor", &response);

    println!("4. Verify as a reader would, at {}", pki::AT);
    let parsed = mso::cbor::from_slice(&response, &mso::cbor::Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let report = verify_device_response(
        &parsed,
        &DeviceAuthInput {
            transcript: &transcript,
            e_reader_key: None,
        },
        &VerifyOptions::new(pki::AT, &trust, &SoftwareVerifier),
    );
    for doc in &report.documents {
        for check in &doc.checks {
            let subject = check
                .subject
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            match &check.outcome {
                Ok(()) => println!("  ok    {:?}{subject}", check.kind),
                Err(f) => println!("  FAIL  {:?}{subject}: {f:?}", check.kind),
            }
        }
    }
    println!(
        "verdict: {} ({} {} document, {} bytes IssuerSigned, {} bytes DeviceResponse)",
        if report.is_valid() {
            "VALID"
        } else {
            "INVALID"
        },
        report.documents.len(),
        MDL_DOCTYPE,
        issuer_signed.len(),
        response.len()
    );
    println!(
        "inspect: openssl verify -CAfile {0}/iaca.pem {0}/ds.pem",
        out.display()
    );
    if !report.is_valid() {
        std::process::exit(1);
    }
}
