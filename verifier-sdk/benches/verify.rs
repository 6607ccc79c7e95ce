//! Verification rate through the facade beside the raw signature verification it is built on.
//!
//! - `raw/p256_verify`: one ECDSA P-256 verification of a ~600-byte message with the software
//!   backend `mso` uses (the same reference as `mso/benches/issue_verify.rs`);
//! - `facade/device_response_warm_trust_store`: `verify_device_response` on the bytes of a
//!   DeviceResponse with one mDL (12 elements, 20 KB portrait, deviceSignature over an
//!   OpenID4VP transcript), with a long-lived `TrustStore` holding the IACA (warm: the DS
//!   certificate's chain signature was checked on the first call). Each call decodes, checks
//!   the issuer signature, 12 digests and the device signature, and builds the typed report.
//!
//! Both report a rate (Throughput: 1 element per iteration): facade rate / raw rate is the
//! ratio the SDK is held to (≥ 0.35).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use test_kit::{mdl, pki};

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mso::cbor::{to_vec, Limits};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier, Verifier};
use mso::model::SessionTranscript;
use mso::present::{device_response, present_with_signature};
use verifier_sdk::{
    default_verification_options, session_transcript_bytes, verify_device_response,
    SessionTranscriptInput, TrustStore,
};

const MESSAGE_LEN: usize = 600;

fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
}

fn transcript() -> SessionTranscriptInput {
    SessionTranscriptInput::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    }
}

fn benches(c: &mut Criterion) {
    let pki = pki::TestPki::new();

    // --- raw ECDSA P-256 verify -------------------------------------------------------------
    let msg: Vec<u8> = (0..MESSAGE_LEN).map(|i| (i * 7 % 256) as u8).collect();
    let ds_pub = pki.ds_key.public_key().unwrap();
    let sig = pki.ds_key.sign(&msg).unwrap();
    let mut g = c.benchmark_group("raw");
    configure(&mut g);
    g.bench_function("p256_verify", |b| {
        b.iter(|| {
            SoftwareVerifier
                .verify(Algorithm::Es256, &ds_pub, black_box(&msg), black_box(&sig))
                .unwrap()
        })
    });
    g.finish();

    // --- the facade -------------------------------------------------------------------------
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let transcript_bytes = session_transcript_bytes(transcript()).unwrap();
    let mso_transcript =
        SessionTranscript::from_bytes(&transcript_bytes, &Limits::DEFAULT).unwrap();
    let doc = present_with_signature(&issued, None, &mso_transcript, &device).unwrap();
    let response = to_vec(&device_response(vec![doc]));

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
}

criterion_group!(verify, benches);
criterion_main!(verify);
