//! Inputs that once crashed the crate (found by fuzzing and review), kept as regressions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mso::cbor::{from_slice, Limits, TDate};
use mso::crypto::SoftwareVerifier;
use mso::model::{IssuerSigned, MobileSecurityObject, SessionTranscript};
use mso::verify::{verify_issuer_signed, IssuerTrust, VerifyOptions};
use mso::x509::Certificate;
use mso::Error;
use time::macros::datetime;

fn regression(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/regressions")
            .join(name),
    )
    .unwrap()
}

#[test]
fn tdate_whose_utc_form_leaves_year_9999_is_an_error_not_a_panic() {
    // "9999-12-31T23:59:59-01:00" is year 10000 in UTC.
    let r = from_slice::<MobileSecurityObject>(
        &regression("min_mso_tdate_offset_overflow.cbor"),
        &Limits::DEFAULT,
    );
    assert!(
        matches!(r, Err(Error::InvalidDate { kind: "tdate", .. })),
        "{r:?}"
    );
    let r = from_slice::<IssuerSigned>(
        &regression("crafted_issuer_signed_tdate_offset_overflow.cbor"),
        &Limits::DEFAULT,
    );
    assert!(matches!(r, Err(Error::InvalidDate { .. })));
    assert!(TDate::parse("0000-01-01T00:00:00+01:00").is_err());
    assert_eq!(
        TDate::new(datetime!(9999-12-31 23:59:59 -01:00)),
        TDate::MAX
    );
}

#[test]
fn signed_at_the_end_of_time_does_not_overflow_the_skew_arithmetic() {
    let is: IssuerSigned = from_slice(
        &regression("crafted_issuer_signed_signed_9999.cbor"),
        &Limits::DEFAULT,
    )
    .unwrap();
    let ds = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors/annex-d/annex_d_ds.der"),
    )
    .unwrap();
    let trust = IssuerTrust::PinnedDocumentSigner(Box::new(Certificate::from_der(&ds).unwrap()));
    let report = verify_issuer_signed(
        &is,
        None,
        &VerifyOptions {
            skew: time::Duration::days(365 * 100),
            ..VerifyOptions::new(
                datetime!(2021-01-01 00:00:00 UTC),
                &trust,
                &SoftwareVerifier,
            )
        },
    );
    assert!(!report.is_valid());
}

#[test]
fn deeply_nested_tag24_transcript_is_refused_without_recursion() {
    // 45,000 nested #6.24(bstr) wrappers around [null, null, null]: once a stack overflow.
    let mut bytes = vec![0x83, 0xf6, 0xf6, 0xf6];
    for _ in 0..45_000 {
        bytes = mso::cbor::wrap_tag24(&bytes);
    }
    let r = SessionTranscript::from_bytes(&bytes, &Limits::DEFAULT);
    assert!(
        matches!(
            r,
            Err(Error::WrongType {
                context: "SessionTranscript",
                ..
            })
        ),
        "{r:?}"
    );
    // One wrapper is the normal SessionTranscriptBytes form.
    let one = mso::cbor::wrap_tag24(&[0x83, 0xf6, 0xf6, 0xf6]);
    assert!(SessionTranscript::from_bytes(&one, &Limits::DEFAULT).is_ok());
}

#[test]
fn composite_map_keys_that_differ_only_in_encoding_are_duplicates() {
    // Found by the cbor_node fuzzer: {[]: …, [](non-shortest length head): …} was accepted, and
    // its deterministic re-encoding then had two identical keys.
    let bytes = hex_decode("a3990000003081a080990000");
    let r = mso::cbor::node::parse(&bytes, &Limits::DEFAULT);
    assert!(matches!(r, Err(Error::DuplicateKey { .. })), "{r:?}");
    // Same keys written the same way were always refused; distinct composite keys are fine.
    let ok = hex_decode("a28000810000");
    assert!(mso::cbor::node::parse(&ok, &Limits::DEFAULT).is_ok());
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap(), 16).unwrap())
        .collect()
}
