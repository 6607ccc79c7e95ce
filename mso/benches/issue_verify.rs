//! Issuance and verification cost next to the raw P-256 operations they are built on.
//!
//! Groups:
//! - `raw/*`: one ECDSA operation on a ~600-byte message with the software backend the issuer
//!   and verifier use (the floor for `issue/*` and `verify/*`), and `raw/awslc_p256_sign` with
//!   aws-lc, the server backend;
//! - `issue/*`: a full issuance of the 12-element mDL with a 20 KB portrait, to wire bytes;
//!   `issue/awslc_*` signs with aws-lc (compare with `raw/awslc_p256_sign`), the others with
//!   RustCrypto (compare with `raw/p256_sign`);
//! - `verify/*`: decoding a one-document DeviceResponse (deviceSignature) and verifying it,
//!   trusting the IACA (includes the DS ← IACA P-384 certificate signature) or a pinned DS.
//!
//! The remaining benches split those figures into their parts (decode only, prepare only, …).
//!
//! On a machine shared with other work, `MSO_BENCH_CPU_TIME=1` measures the benchmark thread's
//! on-CPU time instead of wall time (Linux), so time spent waiting for a core is not counted
//! (the rates are then per core-second).
//! Every bench reports a rate (Throughput: 1 element per iteration), so
//! `issue rate / raw sign rate` and `verify rate / raw verify rate` read off directly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use test_kit::{mdl, pki};

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkGroup, Criterion, Throughput};
use mso::cbor::{from_slice, to_vec, Limits};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier, Verifier};
use mso::issue::SeededRng;
use mso::model::{DeviceResponse, Handover, IssuerSigned, SessionTranscript, MDL_DOCTYPE};
use mso::present::{device_response, present_with_signature};
use mso::verify::{
    verify_device_response, verify_issuer_signed, DeviceAuthInput, IssuerTrust, VerifyOptions,
};
use rand_core::{CryptoRngCore, OsRng};

/// A message the size of the issuer's Sig_structure (the MSO of the 12-element mDL is ~0.6 KB).
const MESSAGE_LEN: usize = 600;

fn message() -> Vec<u8> {
    (0..MESSAGE_LEN).map(|i| (i * 7 % 256) as u8).collect()
}

/// prepare → sign → encode: a full issuance to wire bytes, its randomness from `rng`.
fn issue_with(
    builder: &mso::issue::MdocBuilder,
    chain: &[Vec<u8>],
    key: &dyn Signer,
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let issued = builder
        .prepare(Algorithm::Es256, chain, rng)
        .unwrap()
        .sign(key)
        .unwrap();
    to_vec(&issued)
}

/// A full issuance as the issuer makes one: a fresh 32-byte seed from the operating system
/// per MSO, expanded by [`SeededRng`] (which is what lets the issuer replay it).
fn issue(builder: &mso::issue::MdocBuilder, chain: &[Vec<u8>], key: &dyn Signer) -> Vec<u8> {
    issue_with(builder, chain, key, &mut SeededRng::fresh(&mut OsRng))
}

/// The benchmark thread's time on a CPU (Linux: `/proc/thread-self/schedstat`, nanoseconds),
/// reported like wall time.
struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("MSO_BENCH_CPU_TIME needs Linux /proc/thread-self/schedstat");
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("schedstat: on-CPU nanoseconds");
    Duration::from_nanos(ns)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

fn configure<M: Measurement>(g: &mut BenchmarkGroup<'_, M>) {
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
}

fn opts(trust: &IssuerTrust) -> VerifyOptions<'_> {
    VerifyOptions::new(pki::AT, trust, &SoftwareVerifier)
}

fn transcript() -> SessionTranscript {
    SessionTranscript::online(&Handover::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    })
}

fn benches<M: Measurement>(c: &mut Criterion<M>) {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let device_pub = device.public_key().unwrap();
    let msg = message();

    // --- raw ECDSA -------------------------------------------------------------------------
    let ds_pub = pki.ds_key.public_key().unwrap();
    let sig = pki.ds_key.sign(&msg).unwrap();
    SoftwareVerifier
        .verify(Algorithm::Es256, &ds_pub, &msg, &sig)
        .unwrap();
    let mut g = c.benchmark_group("raw");
    configure(&mut g);
    g.bench_function("p256_sign", |b| {
        b.iter(|| pki.ds_key.sign(black_box(&msg)).unwrap())
    });
    let awslc = mso::crypto::AwsLcSigner::from_software(&pki.ds_key).unwrap();
    let awslc_sig = awslc.sign(&msg).unwrap();
    SoftwareVerifier
        .verify(Algorithm::Es256, &ds_pub, &msg, &awslc_sig)
        .unwrap();
    g.bench_function("awslc_p256_sign", |b| {
        b.iter(|| awslc.sign(black_box(&msg)).unwrap())
    });
    // The other floor of issuance: SHA-256 over the portrait item (21 KB tagged), the bulk of
    // the bytes an issuance digests. Issuance ceiling ≈ 1 / (1/sign + 1/this) per core.
    let portrait_item = {
        let mut v = vec![0u8; 21 * 1024];
        v.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i % 251) as u8);
        v
    };
    g.bench_function("sha256_21kb_item", |b| {
        b.iter(|| mso::crypto::DigestAlgorithm::Sha256.digest(black_box(&portrait_item)))
    });
    g.bench_function("p256_verify", |b| {
        b.iter(|| {
            SoftwareVerifier
                .verify(Algorithm::Es256, &ds_pub, black_box(&msg), black_box(&sig))
                .unwrap()
        })
    });
    // The DS certificate's signature is ECDSA P-384 / SHA-384 by the IACA: verify the same shape.
    let p384 = SoftwareKey::generate(Algorithm::Es384);
    let p384_pub = p384.public_key().unwrap();
    let p384_sig = p384.sign(&msg).unwrap();
    g.bench_function("p384_verify", |b| {
        b.iter(|| {
            SoftwareVerifier
                .verify(
                    Algorithm::Es384,
                    &p384_pub,
                    black_box(&msg),
                    black_box(&p384_sig),
                )
                .unwrap()
        })
    });
    g.finish();

    // --- issuance --------------------------------------------------------------------------
    let chain = [pki.ds_der.clone()];
    let wire = issue(&mdl::mdl_builder(&device_pub), &chain, &pki.ds_key);
    let decoded: IssuerSigned = from_slice(&wire, &Limits::DEFAULT).unwrap();
    let iaca_trust = IssuerTrust::iacas(vec![pki.iaca()]);
    assert!(verify_issuer_signed(&decoded, Some(MDL_DOCTYPE), &opts(&iaca_trust)).is_valid());

    let mut g = c.benchmark_group("issue");
    configure(&mut g);
    g.bench_function("mdl_12_elements_20kb_portrait", |b| {
        b.iter(|| {
            issue(
                &mdl::mdl_builder(black_box(&device_pub)),
                &chain,
                &pki.ds_key,
            )
        })
    });
    // Parts: the builder made once (the fixture builds a 20 KB portrait each time); then with
    // every random byte read from the operating system instead of a seeded stream; prepare
    // (salts, digests, MSO) only; encoding only.
    let builder = mdl::mdl_builder(&device_pub);
    g.bench_function("prebuilt_builder_prepare_sign_encode", |b| {
        b.iter(|| issue(black_box(&builder), &chain, &pki.ds_key))
    });
    g.bench_function("awslc_prebuilt_builder_prepare_sign_encode", |b| {
        b.iter(|| issue(black_box(&builder), &chain, &awslc))
    });
    // What the issuer does: a builder made per request and consumed, so values move into their
    // items instead of being copied (the builder's clone is made outside the timing).
    g.bench_function("awslc_into_prepared_sign_encode", |b| {
        b.iter_batched(
            || builder.clone(),
            |owned| {
                let issued = owned
                    .into_prepared(Algorithm::Es256, &chain, &mut SeededRng::fresh(&mut OsRng))
                    .unwrap()
                    .sign(&awslc)
                    .unwrap();
                to_vec(&issued)
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("awslc_prebuilt_builder_os_rng_every_byte", |b| {
        b.iter(|| issue_with(black_box(&builder), &chain, &awslc, &mut OsRng))
    });
    g.bench_function("part_prepare_only", |b| {
        b.iter(|| {
            builder
                .prepare(Algorithm::Es256, &chain, &mut SeededRng::fresh(&mut OsRng))
                .unwrap()
        })
    });
    g.bench_function("part_encode_only", |b| {
        b.iter(|| to_vec(black_box(&decoded)))
    });
    g.finish();

    // --- verification ----------------------------------------------------------------------
    let transcript = transcript();
    let doc = present_with_signature(&decoded, None, &transcript, &device).unwrap();
    let response_bytes = to_vec(&device_response(vec![doc]));
    let session = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: None,
    };
    let pinned_trust = IssuerTrust::PinnedDocumentSigner(pki.ds().into());
    let verify = |bytes: &[u8], trust: &IssuerTrust| {
        let response: DeviceResponse = from_slice(bytes, &Limits::DEFAULT).unwrap();
        verify_device_response(&response, &session, &opts(trust))
    };
    for trust in [&iaca_trust, &pinned_trust] {
        let report = verify(&response_bytes, trust);
        assert!(
            report.is_valid(),
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
    }

    let mut g = c.benchmark_group("verify");
    configure(&mut g);
    // Warm: the trust store has already checked this DS certificate's signature (the normal
    // state of a verifier after its first document from a DS). Cold: a fresh trust store per
    // verification, so the P-384 chain signature is checked every time.
    g.bench_function("device_response_warm_trust_store", |b| {
        b.iter(|| verify(black_box(&response_bytes), &iaca_trust))
    });
    let iaca_cert = pki.iaca();
    g.bench_function("device_response_cold_trust_store", |b| {
        b.iter(|| {
            let cold = IssuerTrust::iacas(vec![iaca_cert.clone()]);
            verify(black_box(&response_bytes), &cold)
        })
    });
    g.bench_function("device_response_pinned_ds", |b| {
        b.iter(|| verify(black_box(&response_bytes), &pinned_trust))
    });
    // Parts: decoding only; the DS ← IACA certificate check only.
    g.bench_function("part_decode_only", |b| {
        b.iter(|| {
            from_slice::<DeviceResponse>(black_box(&response_bytes), &Limits::DEFAULT).unwrap()
        })
    });
    let ds = pki.ds();
    let iaca = pki.iaca();
    g.bench_function("part_ds_issued_by_iaca", |b| {
        b.iter(|| {
            black_box(&ds)
                .verify_issued_by(&iaca, &SoftwareVerifier)
                .unwrap()
        })
    });
    g.finish();
}

fn main() {
    if std::env::var_os("MSO_BENCH_CPU_TIME").is_some() {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpuTime)
            .configure_from_args();
        benches(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    }
}
