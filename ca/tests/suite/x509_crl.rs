//! CRLs per Annex B: structure, entries, lint-before-sign, scale.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::x509_common;

use std::time::Instant;

use der::Decode;
use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::lint::{lint_crl_against_issuer, lint_tbs_crl, LintPolicy};
use mdoc_ca::profile::ProfileError;
use mso::x509::oid;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};
use x509_cert::time::Time;
use x509_cert::Certificate;
use x509_common::*;

fn parse(der: &[u8]) -> CertificateList {
    CertificateList::from_der(der).unwrap()
}

fn assert_clean(crl_der: &[u8], iaca_der: &[u8]) {
    let crl = parse(crl_der);
    let iaca = Certificate::from_der(iaca_der).unwrap();
    let mut findings = lint_tbs_crl(&crl.tbs_cert_list, &LintPolicy::default());
    findings.extend(lint_crl_against_issuer(
        &crl.tbs_cert_list,
        &iaca.tbs_certificate,
    ));
    assert!(findings.is_empty(), "{findings:#?}");
    // Signature over the TBS as encoded, with the IACA key.
    use der::Encode;
    let tbs = crl.tbs_cert_list.to_der().unwrap();
    let key = mso::x509::Certificate::from_der(iaca_der)
        .unwrap()
        .public_key()
        .unwrap();
    mso::x509::verify_x509_signature(
        &key,
        &crl.signature_algorithm.oid,
        &tbs,
        crl.signature.as_bytes().unwrap(),
    )
    .unwrap();
    assert_eq!(crl.signature_algorithm, crl.tbs_cert_list.signature);
}

fn entry(serial: &[u8], at: OffsetDateTime) -> RevokedEntry {
    RevokedEntry {
        serial: serial.to_vec(),
        revocation_date: at,
    }
}

#[test]
fn empty_crl_has_the_annex_b_shape() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let this_update = datetime!(2026-05-01 00:00:00.5 UTC);
    let der = crl(&iaca, &key, 7, this_update, &[]);
    let c = parse(&der);
    let tbs = &c.tbs_cert_list;
    assert_eq!(tbs.version, x509_cert::Version::V2);
    assert_eq!(tbs.signature.oid, oid::ECDSA_WITH_SHA384);
    assert_eq!(
        tbs.issuer,
        Certificate::from_der(&iaca)
            .unwrap()
            .tbs_certificate
            .subject
    );
    assert!(tbs.revoked_certificates.is_none(), "omitted when empty");
    let this = tbs.this_update.to_unix_duration().as_secs() as i64;
    let next = tbs.next_update.unwrap().to_unix_duration().as_secs() as i64;
    assert_eq!(this, datetime!(2026-05-01 00:00:00 UTC).unix_timestamp());
    assert_eq!(next - this, 3 * 86_400);
    let exts = tbs.crl_extensions.as_ref().unwrap();
    assert_eq!(exts.len(), 2);
    assert_eq!(exts[0].extn_id, oid::AUTHORITY_KEY_IDENTIFIER);
    assert_eq!(exts[1].extn_id, oid::CRL_NUMBER);
    assert!(exts.iter().all(|e| !e.critical));
    let aki = AuthorityKeyIdentifier::from_der(exts[0].extn_value.as_bytes()).unwrap();
    assert_eq!(
        aki.key_identifier.unwrap().as_bytes(),
        mso::x509::Certificate::from_der(&iaca)
            .unwrap()
            .subject_key_id()
            .unwrap()
    );
    let number = CrlNumber::from_der(exts[1].extn_value.as_bytes()).unwrap();
    assert_eq!(number.0.as_bytes(), &[7]);
    assert_clean(&der, &iaca);
}

#[test]
fn entries_are_encoded_as_given() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let ds = make_ds(&iaca, &key, now());
    let ds_serial = serial_of(&ds);
    let t = now();
    let revoked = vec![
        entry(&ds_serial, t - Duration::hours(2)),
        entry(&[0x80, 0x01], t - Duration::days(1)), // needs a 0x00 sign octet
        entry(&[0x00, 0x00, 0x05], t - Duration::days(2)), // leading zeros ignored
        entry(&[0x7f; 20], t),
        entry(&[0x00, 0xff, 0xee], t), // the given 0x00 is the sign octet
    ];
    let der = crl(&iaca, &key, u64::MAX, t, &revoked);
    let c = parse(&der);
    let got: Vec<Vec<u8>> = c
        .tbs_cert_list
        .revoked_certificates
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.serial_number.as_bytes().to_vec())
        .collect();
    assert_eq!(
        got,
        vec![
            ds_serial.clone(),
            vec![0x00, 0x80, 0x01],
            vec![0x05],
            vec![0x7f; 20],
            vec![0x00, 0xff, 0xee],
        ]
    );
    for e in c.tbs_cert_list.revoked_certificates.as_ref().unwrap() {
        assert!(e.crl_entry_extensions.is_none());
        assert!(matches!(e.revocation_date, Time::UtcTime(_)));
    }
    let exts = c.tbs_cert_list.crl_extensions.as_ref().unwrap();
    let number = CrlNumber::from_der(exts[1].extn_value.as_bytes()).unwrap();
    assert_eq!(number.0.as_bytes(), &u64::MAX.to_be_bytes());
    assert_clean(&der, &iaca);
}

#[test]
fn dates_from_2050_are_generalized_time() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let t = datetime!(2051-01-01 00:00 UTC);
    let der = crl(
        &iaca,
        &key,
        1,
        t,
        &[
            entry(&[1], datetime!(2049-12-31 23:59:59 UTC)),
            entry(&[2], datetime!(2050-06-01 12:00 UTC)),
        ],
    );
    let c = parse(&der);
    assert!(matches!(c.tbs_cert_list.this_update, Time::GeneralTime(_)));
    let entries = c.tbs_cert_list.revoked_certificates.as_ref().unwrap();
    assert!(matches!(entries[0].revocation_date, Time::UtcTime(_)));
    assert!(matches!(entries[1].revocation_date, Time::GeneralTime(_)));
    assert_clean(&der, &iaca);
}

#[test]
fn bad_crls_are_not_signed() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let t = now();
    let cases: Vec<(&str, CrlParams, Vec<RevokedEntry>)> = vec![
        (
            "rfc5280.crl.entry.serial",
            CrlParams::new(1, t),
            vec![entry(&[0, 0], t)],
        ),
        (
            "rfc5280.crl.entry.serial",
            CrlParams::new(1, t),
            vec![entry(&[], t)],
        ),
        (
            "rfc5280.crl.entry.serial",
            CrlParams::new(1, t),
            vec![entry(&[0x80; 20], t)],
        ),
        (
            "rfc5280.crl.entry.serial",
            CrlParams::new(1, t),
            vec![entry(&[1; 21], t)],
        ),
        (
            "crl.entry.duplicate",
            CrlParams::new(1, t),
            vec![entry(&[1, 2], t), entry(&[3], t), entry(&[0, 1, 2], t)],
        ),
        (
            "crl.entry.revocation_date",
            CrlParams::new(1, t),
            vec![entry(&[1], t + Duration::seconds(1))],
        ),
        (
            "rfc5280.crl.update_order",
            CrlParams {
                next_update: t,
                ..CrlParams::new(1, t)
            },
            vec![],
        ),
        (
            "policy.crl.validity",
            CrlParams {
                next_update: t + Duration::days(3) + Duration::seconds(1),
                ..CrlParams::new(1, t)
            },
            vec![],
        ),
    ];
    for (code, params, revoked) in cases {
        let signer = RecordingSigner::new(key.clone());
        let err = build_crl(&iaca, &params, &revoked, &signer).unwrap_err();
        let ProfileError::Lint(findings) = &err else {
            panic!("{code}: {err:?}")
        };
        assert!(
            findings.iter().any(|f| f.code == code),
            "{code}: {findings:#?}"
        );
        assert_eq!(signer.calls(), 0, "{code}: signed");
    }
}

#[test]
fn findings_are_capped_for_huge_bad_crls() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let t = now();
    let revoked: Vec<RevokedEntry> = (0..10_000).map(|_| entry(&[0], t)).collect();
    let signer = RecordingSigner::new(key);
    let Err(ProfileError::Lint(findings)) =
        build_crl(&iaca, &CrlParams::new(1, t), &revoked, &signer)
    else {
        panic!()
    };
    assert!(findings.len() <= 12, "{}", findings.len());
    assert!(findings.last().unwrap().message.contains("9990 more"));
    assert_eq!(signer.calls(), 0);
}

#[test]
fn crl_signer_must_be_the_iaca_and_faults_are_caught() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let other = RecordingSigner::new(iaca_key());
    assert_eq!(
        build_crl(&iaca, &CrlParams::new(1, now()), &[], &other).unwrap_err(),
        ProfileError::SignerKeyMismatch
    );
    assert_eq!(other.calls(), 0);
    for fault in [Fault::FlipBit, Fault::OtherKey] {
        let mut signer = RecordingSigner::new(key.clone());
        signer.fault = fault;
        let err = build_crl(&iaca, &CrlParams::new(1, now()), &[], &signer).unwrap_err();
        assert!(
            matches!(
                err,
                ProfileError::SignatureCheck(_) | ProfileError::Signer(_)
            ),
            "{err:?}"
        );
    }
}

#[test]
fn series_parameters_step_by_the_interval() {
    let p = CrlParams::new(41, datetime!(2026-03-01 00:00 UTC));
    let q = p.next_in_series().unwrap();
    assert_eq!(q.crl_number, 42);
    assert_eq!(q.this_update, datetime!(2026-03-02 00:00 UTC));
    assert_eq!(q.next_update, datetime!(2026-03-05 00:00 UTC));
    assert!(CrlParams::new(u64::MAX, p.this_update)
        .next_in_series()
        .is_none());
}

#[test]
fn a_large_crl_is_built_and_parses() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let t = now();
    let n: u32 = 200_000;
    let revoked: Vec<RevokedEntry> = (0..n)
        .map(|i| {
            let mut s = [0x11u8; 20];
            s[16..].copy_from_slice(&i.to_be_bytes());
            entry(&s, t - Duration::seconds(i64::from(i)))
        })
        .collect();
    let start = Instant::now();
    let der = build_crl(&iaca, &CrlParams::new(9, t), &revoked, &key).unwrap();
    eprintln!(
        "{n} entries: {} bytes in {:?} (debug build)",
        der.len(),
        start.elapsed()
    );
    let c = parse(&der);
    assert_eq!(
        c.tbs_cert_list.revoked_certificates.as_ref().unwrap().len(),
        n as usize
    );
    assert_clean(&der, &iaca);
}
