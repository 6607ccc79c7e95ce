//! Verification rate through the facade beside the `mso` path and the raw signature verification
//! they are built on, all in one run.
//!
//! - `raw/p256_verify_aws_lc`: one ECDSA P-256 verification of a ~600-byte message with aws-lc,
//!   the reference (with the `aws-lc` feature); `raw/p256_verify_rustcrypto` the same with
//!   RustCrypto;
//! - `mso/device_response_warm_trust_store[_rustcrypto]`: decoding the DeviceResponse bytes and
//!   `mso::verify::verify_device_response` with a long-lived IACA trust (warm), with
//!   `DefaultVerifier` (aws-lc with the feature) and with RustCrypto;
//! - `facade/device_response_warm_trust_store`: the SDK's `verify_device_response` on the bytes
//!   of a DeviceResponse with one mDL (12 elements, 20 KB portrait, deviceSignature over an
//!   OpenID4VP transcript), with a long-lived `TrustStore` holding the IACA (warm: the DS
//!   certificate's chain signature was checked on the first call). Each call decodes, checks
//!   the issuer signature, 12 digests and the device signature, and builds the typed report.
//!
//! Every bench reports a rate (Throughput: 1 element per iteration). After criterion, a summary
//! measures the same closures back to back and prints the ratios to the raw reference: two
//! verifies per document make 0.5 the ceiling; the SDK is held to ≥ 0.33 of raw aws-lc.
//! `cargo bench -p verifier-sdk --bench verify` (add `--no-default-features` for the pure-Rust
//! build).
//!
//! With `VERIFY_BENCH_OUT=DIR` (as `scripts/bench.sh` runs it) the summary is also written to
//! `DIR/summary.json`, and the document with what verifies it (`response.cbor`, `iaca.der`,
//! `params.json`: the transcript and the verification time) to `DIR`, so the Python binding
//! path (`benches/python_verify.py`) is measured on the same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    missing_docs
)]

use test_kit::{mdl, pki};

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mso::cbor::{from_slice, to_vec, Limits};
use mso::crypto::{Algorithm, DefaultVerifier, Signer, SoftwareKey, SoftwareVerifier, Verifier};
use mso::model::{DeviceResponse, SessionTranscript};
use mso::present::{device_response, present_with_signature};
use mso::verify::{DeviceAuthInput, IssuerTrust, VerifyOptions};
use verifier_sdk::{
    default_verification_options, session_transcript_bytes, verify_device_response,
    SessionTranscriptInput, TrustStore,
};

const MESSAGE_LEN: usize = 600;

/// How long the summary measures each figure, and in how many slices.
const SUMMARY_TIME: Duration = Duration::from_secs(4);
const SUMMARY_SLICES: u32 = 20;

fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
}

const CLIENT_ID: &str = "x509_san_dns:verifier.example.jp";
const NONCE: &str = "n-0S6_WzA2Mj";
const RESPONSE_URI: &str = "https://verifier.example.jp/response";

fn transcript() -> SessionTranscriptInput {
    SessionTranscriptInput::OpenId4Vp {
        client_id: CLIENT_ID.into(),
        nonce: NONCE.into(),
        jwk_thumbprint: None,
        response_uri: RESPONSE_URI.into(),
    }
}

fn benches(c: &mut Criterion) {
    let pki = pki::TestPki::new();

    // --- raw ECDSA P-256 verify -------------------------------------------------------------
    let msg: Vec<u8> = (0..MESSAGE_LEN).map(|i| (i * 7 % 256) as u8).collect();
    let ds_pub = pki.ds_key.public_key().unwrap();
    let sig = pki.ds_key.sign(&msg).unwrap();
    let raw = |verifier: &dyn Verifier| {
        verifier
            .verify(Algorithm::Es256, &ds_pub, black_box(&msg), black_box(&sig))
            .unwrap()
    };
    let mut g = c.benchmark_group("raw");
    configure(&mut g);
    #[cfg(feature = "aws-lc")]
    g.bench_function("p256_verify_aws_lc", |b| {
        b.iter(|| raw(&mso::crypto::AwsLcVerifier))
    });
    g.bench_function("p256_verify_rustcrypto", |b| {
        b.iter(|| raw(&SoftwareVerifier))
    });
    g.finish();

    // --- one document ----------------------------------------------------------------------
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let transcript_bytes = session_transcript_bytes(transcript()).unwrap();
    let mso_transcript =
        SessionTranscript::from_bytes(&transcript_bytes, &Limits::DEFAULT).unwrap();
    let doc = present_with_signature(&issued, None, &mso_transcript, &device).unwrap();
    let response = to_vec(&device_response(vec![doc]));

    // --- the mso path ----------------------------------------------------------------------
    let iaca_trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let session = DeviceAuthInput {
        transcript: &mso_transcript,
        e_reader_key: None,
    };
    let mso_verify = |verifier: &dyn Verifier| {
        let decoded: DeviceResponse = from_slice(black_box(&response), &Limits::DEFAULT).unwrap();
        let opts = VerifyOptions::new(pki::AT, &iaca_trust, verifier);
        mso::verify::verify_device_response(&decoded, &session, &opts)
    };
    for verifier in [&DefaultVerifier as &dyn Verifier, &SoftwareVerifier] {
        let report = mso_verify(verifier);
        assert!(
            report.is_valid(),
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
    }
    let mut g = c.benchmark_group("mso");
    configure(&mut g);
    g.bench_function("device_response_warm_trust_store", |b| {
        b.iter(|| mso_verify(&DefaultVerifier))
    });
    g.bench_function("device_response_warm_trust_store_rustcrypto", |b| {
        b.iter(|| mso_verify(&SoftwareVerifier))
    });
    g.finish();

    // --- the facade -------------------------------------------------------------------------
    let trust = TrustStore::new();
    trust.add_iaca_der(pki.iaca_der.clone()).unwrap();
    let options = default_verification_options(pki::AT.unix_timestamp());
    let verify = || {
        verify_device_response(
            black_box(response.clone()),
            transcript(),
            trust.clone(),
            options.clone(),
        )
        .unwrap()
    };
    let first = verify();
    assert!(first.valid, "the bench document must verify");
    assert_eq!(first.documents[0].elements.len(), 12);

    let mut g = c.benchmark_group("facade");
    configure(&mut g);
    g.bench_function("device_response_warm_trust_store", |b| b.iter(verify));
    g.finish();

    // --- the same, back to back, as ratios to the raw reference ----------------------------
    // Not under `--profile-time` (a profile of one bench) or a filter (a part of the run).
    if std::env::args().skip(1).any(|a| !a.starts_with("--"))
        || std::env::args().any(|a| a == "--profile-time")
    {
        return;
    }
    // The machine may be shared: each figure is measured in short slices alternating with the
    // reference, and the ratio is the median of the per-slice ratios.
    let rate = |f: &dyn Fn(), slice: Duration| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < slice {
            f();
            n += 1;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    #[cfg(feature = "aws-lc")]
    let (reference, name): (&dyn Fn(), _) = (
        &|| raw(&mso::crypto::AwsLcVerifier),
        "raw aws-lc P-256 verify",
    );
    #[cfg(not(feature = "aws-lc"))]
    let (reference, name): (&dyn Fn(), _) =
        (&|| raw(&SoftwareVerifier), "raw RustCrypto P-256 verify");
    let rows: [(&str, &dyn Fn()); 4] = [
        ("raw RustCrypto P-256 verify", &|| raw(&SoftwareVerifier)),
        ("mso, DefaultVerifier", &|| {
            black_box(mso_verify(&DefaultVerifier));
        }),
        ("mso, RustCrypto", &|| {
            black_box(mso_verify(&SoftwareVerifier));
        }),
        ("verifier SDK", &|| {
            black_box(verify());
        }),
    ];
    let slice = SUMMARY_TIME / SUMMARY_SLICES;
    let mut refs = Vec::new();
    let mut lines = Vec::new();
    let mut figures = Vec::new();
    for (label, f) in rows {
        let (mut rates, mut ratios) = (Vec::new(), Vec::new());
        for _ in 0..SUMMARY_SLICES {
            let r0 = rate(reference, slice);
            let r = rate(f, slice);
            refs.push(r0);
            rates.push(r);
            ratios.push(r / r0);
        }
        let (per_second, ratio) = (median(rates), median(ratios));
        lines.push(format!(
            "  {label:<30} {per_second:>8.0}/s  {ratio:.3}x reference"
        ));
        figures.push(serde_json::json!({"label": label, "per_second": per_second, "ratio": ratio}));
    }
    let reference_rate = median(refs);
    println!(
        "\nsummary (one thread, median of {SUMMARY_SLICES} slices alternating with the reference; \
         reference: {name} {reference_rate:.0}/s)"
    );
    for line in lines {
        println!("{line}");
    }
    if let Some(dir) = std::env::var_os("VERIFY_BENCH_OUT") {
        let summary = serde_json::json!({
            "reference": {"label": name, "per_second": reference_rate},
            "figures": figures,
        });
        write_out(
            dir.as_ref(),
            &summary,
            &response,
            &pki.iaca_der,
            pki::AT.unix_timestamp(),
        );
    }
}

/// Writes the summary and the benchmarked document with what verifies it (`VERIFY_BENCH_OUT`).
fn write_out(
    dir: &std::path::Path,
    summary: &serde_json::Value,
    response: &[u8],
    iaca_der: &[u8],
    at: i64,
) {
    let params = serde_json::json!({
        "at": at,
        "client_id": CLIENT_ID,
        "nonce": NONCE,
        "response_uri": RESPONSE_URI,
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
    std::fs::write(dir.join("params.json"), params.to_string()).unwrap();
    std::fs::write(dir.join("response.cbor"), response).unwrap();
    std::fs::write(dir.join("iaca.der"), iaca_der).unwrap();
}

criterion_group!(verify, benches);
criterion_main!(verify);
