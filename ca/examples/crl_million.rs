//! Builds and signs one CRL with N revoked serials (default 1,000,000) and reports its size and
//! the time taken, for measuring peak memory:
//!
//! ```text
//! cargo build --release -p mdoc-ca --example crl_million
//! /usr/bin/time -v target/release/examples/crl_million [N] [out.crl]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::profile::{build_iaca, IacaParams, IssuerAltNames, SubjectName};
use mso::crypto::{Algorithm, SoftwareKey};
use time::{Duration, OffsetDateTime};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map_or(1_000_000, |a| a.parse().expect("N"));
    let out = args.next();
    let key = SoftwareKey::generate(Algorithm::Es384);
    let now = OffsetDateTime::now_utc();
    let params = IacaParams::new(
        SubjectName {
            country: "JP".into(),
            state_or_province: None,
            organization: Some("Digital Agency".into()),
            common_name: "mDL example IACA".into(),
        },
        now - Duration::hours(1),
        IssuerAltNames {
            uris: vec!["https://iaca.example.jp/".into()],
            emails: vec![],
        },
        vec!["http://crl.example.jp/iaca.crl".into()],
    );
    let iaca = build_iaca(&params, &key).unwrap();
    let revoked: Vec<RevokedEntry> = (0..n)
        .map(|i| {
            let mut serial = [0x5au8; 20];
            serial[16..].copy_from_slice(&i.to_be_bytes());
            RevokedEntry {
                serial: serial.to_vec(),
                revocation_date: now - Duration::seconds(i64::from(i)),
            }
        })
        .collect();
    let start = Instant::now();
    let crl = build_crl(&iaca, &CrlParams::new(1, now), &revoked, &key).unwrap();
    let elapsed = start.elapsed();
    println!(
        "{n} entries: CRL of {} bytes built, linted, signed and checked in {elapsed:?}",
        crl.len()
    );
    if let Some(path) = out {
        std::fs::write(format!("{path}.iaca.der"), &iaca).unwrap();
        std::fs::write(&path, &crl).unwrap();
    }
}
