//! Builds the DTS state the serving benchmark (`scripts/bench-dts.sh`) measures: two roots
//! made by `mdoc-ca`'s builders, one with an ordinary CRL and one whose CRL lists 1,000,000
//! revoked serials (about 40 MB), ingested into a DTS whose public URL is `PUBLIC`, with its
//! configuration written to `DIR/mdoc-dts.toml`.
//!
//! `cargo run --release -p mdoc-dts --example bench_fixture -- DIR PUBLIC`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;

use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::profile::{build_iaca, IacaParams, IssuerAltNames, SubjectName};
use mdoc_dts::bundle::Bundle;
use mdoc_dts::{Dts, DtsConfig, SystemClock};
use mso::crypto::{Algorithm, SoftwareKey};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

fn root(public: &str, name: &str, now: OffsetDateTime) -> (SoftwareKey, Vec<u8>) {
    let key = SoftwareKey::generate(Algorithm::Es384);
    let params = IacaParams::new(
        SubjectName {
            country: "JP".into(),
            state_or_province: None,
            organization: Some("Benchmark".into()),
            common_name: format!("Benchmark IACA {name}"),
        },
        now - Duration::days(1),
        IssuerAltNames {
            uris: vec!["https://bench.invalid".into()],
            emails: Vec::new(),
        },
        vec![format!("{public}/crl/{name}.crl")],
    );
    let der = build_iaca(&params, &key).unwrap();
    (key, der)
}

fn bundle(dir: &std::path::Path, files: &[(String, Vec<u8>)]) {
    let mut manifest = String::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        manifest.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(bytes))));
    }
    std::fs::write(dir.join("MANIFEST.sha256"), manifest).unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let public = &args[2];
    let listen = public.trim_start_matches("http://");
    std::fs::create_dir_all(&dir).unwrap();
    let now = OffsetDateTime::now_utc();
    let (small_key, small) = root(public, "small", now);
    let (big_key, big) = root(public, "big", now);
    let small_crl = build_crl(
        &small,
        &CrlParams::new(1, now - Duration::hours(1)),
        &[],
        &small_key,
    )
    .unwrap();
    let entries: Vec<RevokedEntry> = (0u64..1_000_000)
        .map(|i| RevokedEntry {
            serial: [&[0x40u8][..], &i.to_be_bytes(), &[0x5a; 7]].concat(),
            revocation_date: now - Duration::days(2),
        })
        .collect();
    let big_crl = build_crl(
        &big,
        &CrlParams::new(1, now - Duration::hours(1)),
        &entries,
        &big_key,
    )
    .unwrap();
    let fp = |d: &[u8]| hex::encode(Sha256::digest(d));
    std::fs::write(
        dir.join("mdoc-dts.toml"),
        format!(
            "public_url = {public:?}\npinned_roots = [{:?}, {:?}]\ndatabase_url = \"dts.sqlite\"\n\
             audit_log = \"audit.log\"\nterminal_id = \"bench-dts\"\nlisten = {listen:?}\n\
             [limits]\nmax_file_bytes = 67108864\nmax_bundle_bytes = 134217728\n",
            fp(&small),
            fp(&big)
        ),
    )
    .unwrap();
    let b = dir.join("bundle");
    bundle(
        &b,
        &[
            ("iaca/01.der".into(), small.clone()),
            ("iaca/02.der".into(), big.clone()),
            ("crl/00000001.crl".into(), small_crl),
            ("crl/00000002.crl".into(), big_crl.clone()),
        ],
    );
    let config = DtsConfig::load(&dir.join("mdoc-dts.toml")).unwrap();
    let dts = Dts::open_with(config.clone(), None, Arc::new(SystemClock))
        .await
        .unwrap();
    dts.ingest(Bundle::from_dir(&b, &config.limits), "bench", "bench")
        .await
        .unwrap();
    println!(
        "small root {} big root {} (CRL of {} bytes)",
        fp(&small),
        fp(&big),
        big_crl.len()
    );
}
