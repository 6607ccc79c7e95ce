//! Building and signing a CRL with 1,000,000 revoked serials (P-384 software signer).
//!
//! Run: `cargo bench -p mdoc-ca --bench crl`. Peak memory is measured separately with
//! `/usr/bin/time -v target/release/examples/crl_million` (see `examples/crl_million.rs`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration as StdDuration;

use criterion::{criterion_group, criterion_main, Criterion};
use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::profile::{build_iaca, IacaParams, IssuerAltNames, SubjectName};
use mso::crypto::{Algorithm, SoftwareKey};
use time::{Duration, OffsetDateTime};

fn million(c: &mut Criterion) {
    let key = SoftwareKey::generate(Algorithm::Es384);
    let now = OffsetDateTime::now_utc();
    let params = IacaParams::new(
        SubjectName {
            country: "JP".into(),
            state_or_province: None,
            organization: Some("Digital Agency".into()),
            common_name: "mDL bench IACA".into(),
        },
        now,
        IssuerAltNames {
            uris: vec!["https://iaca.example.jp/".into()],
            emails: vec![],
        },
        vec!["http://crl.example.jp/iaca.crl".into()],
    );
    let iaca = build_iaca(&params, &key).unwrap();
    let revoked: Vec<RevokedEntry> = (0u32..1_000_000)
        .map(|i| {
            // 20-octet serials like the ones the builders issue.
            let mut serial = [0x5au8; 20];
            serial[16..].copy_from_slice(&i.to_be_bytes());
            RevokedEntry {
                serial: serial.to_vec(),
                revocation_date: now - Duration::seconds(i64::from(i)),
            }
        })
        .collect();
    let crl_params = CrlParams::new(1, now);
    let mut group = c.benchmark_group("crl");
    group.sample_size(10);
    group.measurement_time(StdDuration::from_secs(25));
    group.bench_function("build_sign_1m_entries_p384", |b| {
        b.iter(|| build_crl(&iaca, &crl_params, &revoked, &key).unwrap())
    });
    group.finish();
}

criterion_group!(benches, million);
criterion_main!(benches);
