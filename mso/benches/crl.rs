//! Loading a large CRL: 1,000,000 revoked entries (20-octet random serials, ~39 MB of DER)
//! signed by a P-384 IACA.
//!
//! - `crl_1m/load_verify`: parse under the size bound, index the serials, check the signature
//!   (SHA-384 over the ~39 MB tbsCertList) and the times — what a verifier pays per CRL download;
//! - `crl_1m/is_revoked_hit` / `crl_1m/is_revoked_miss`: one O(log n) lookup.
//!
//! The CRL is built once in setup by encoding the DER directly (the entries are regular, so
//! this takes a fraction of a second) and signing it with the IACA's key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use der::asn1::{BitString, Int, ObjectIdentifier, OctetString, UtcTime};
use der::{Encode, Header, Length, Tag, TagNumber};
use mso::crl::{CrlVerifyOptions, VerifiedCrl};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::x509::Certificate;
use rand_core::{OsRng, RngCore};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
};
use sha1::{Digest, Sha1};
use spki::AlgorithmIdentifierOwned;
use time::macros::datetime;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::Extension;
use x509_cert::time::Time;

const ENTRIES: usize = 1_000_000;
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

fn tlv(tag: Tag, content: &[u8]) -> Vec<u8> {
    let mut out = Header::new(tag, Length::try_from(content.len()).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    out.extend_from_slice(content);
    out
}

fn utc(secs: u64) -> Vec<u8> {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).unwrap())
        .to_der()
        .unwrap()
}

struct Fixture {
    iaca: Certificate,
    der: Vec<u8>,
    listed: Vec<u8>,
}

fn fixture() -> Fixture {
    let key = SoftwareKey::generate(Algorithm::Es384);
    let ski = Sha1::digest(key.public_key().unwrap().to_sec1()).to_vec();
    let rcgen_key = KeyPair::try_from(key.to_pkcs8_der().unwrap().as_slice()).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CountryName, "JP");
    p.distinguished_name.push(DnType::CommonName, "Bench IACA");
    p.not_before = datetime!(2025-01-01 00:00:00 UTC);
    p.not_after = datetime!(2030-05-01 00:00:00 UTC);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.key_identifier_method = KeyIdMethod::PreSpecified(ski.clone());
    let iaca = Certificate::from_der(p.self_signed(&rcgen_key).unwrap().der()).unwrap();

    // revokedCertificates: ENTRIES × SEQUENCE { INTEGER (20 random octets), UTCTime }.
    let revoked_at = utc(1_780_000_000);
    let mut entries = Vec::with_capacity(ENTRIES * 39);
    let mut listed = Vec::new();
    let mut serial = [0u8; 20];
    for i in 0..ENTRIES {
        OsRng.fill_bytes(&mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x01;
        if i == ENTRIES / 2 {
            listed = serial.to_vec();
        }
        entries.extend_from_slice(&[0x30, (2 + 20 + revoked_at.len()) as u8, 0x02, 20]);
        entries.extend_from_slice(&serial);
        entries.extend_from_slice(&revoked_at);
    }

    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ski).unwrap()),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let extensions = vec![
        Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.35"),
            critical: false,
            extn_value: OctetString::new(aki.to_der().unwrap()).unwrap(),
        },
        Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.20"),
            critical: false,
            extn_value: OctetString::new(Int::new(&[0x01, 0x00]).unwrap().to_der().unwrap())
                .unwrap(),
        },
    ];
    let alg = AlgorithmIdentifierOwned {
        oid: ECDSA_SHA384,
        parameters: None,
    }
    .to_der()
    .unwrap();
    let tbs = tlv(
        Tag::Sequence,
        &[
            Int::new(&[1]).unwrap().to_der().unwrap(),
            alg.clone(),
            iaca.inner().tbs_certificate.subject.to_der().unwrap(),
            utc(1_780_272_000), // 2026-06-01
            utc(1_780_876_800), // 2026-06-08
            tlv(Tag::Sequence, &entries),
            tlv(
                Tag::ContextSpecific {
                    constructed: true,
                    number: TagNumber::N0,
                },
                &extensions.to_der().unwrap(),
            ),
        ]
        .concat(),
    );
    let raw = key.sign(&tbs).unwrap();
    let sig = p384::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let der = tlv(
        Tag::Sequence,
        &[
            tbs,
            alg,
            BitString::from_bytes(sig.as_bytes())
                .unwrap()
                .to_der()
                .unwrap(),
        ]
        .concat(),
    );
    Fixture { iaca, der, listed }
}

fn bench_crl(c: &mut Criterion) {
    let f = fixture();
    let opts = CrlVerifyOptions::new(datetime!(2026-06-02 00:00:00 UTC));
    let crl = VerifiedCrl::from_der(&f.der, &f.iaca, &opts, &SoftwareVerifier).unwrap();
    assert_eq!(crl.len(), ENTRIES);
    assert!(crl.is_revoked(&f.listed));
    eprintln!(
        "crl_1m: {} entries, {:.1} MB of DER",
        crl.len(),
        f.der.len() as f64 / 1e6
    );

    let mut g = c.benchmark_group("crl_1m");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("load_verify", |b| {
        b.iter(|| {
            VerifiedCrl::from_der(black_box(&f.der), &f.iaca, &opts, &SoftwareVerifier).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("crl_1m");
    let miss = [0x80u8; 20];
    g.bench_function("is_revoked_hit", |b| {
        b.iter(|| crl.is_revoked(black_box(&f.listed)))
    });
    g.bench_function("is_revoked_miss", |b| {
        b.iter(|| crl.is_revoked(black_box(&miss)))
    });
    g.finish();
}

criterion_group!(benches, bench_crl);
criterion_main!(benches);
