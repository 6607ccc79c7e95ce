//! IACA, DS and link certificates: structure per Annex B, policy numbers, refusals, and
//! "lint failure → nothing signed".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::x509_common;

use der::{Decode, Tagged};
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::lint::{lint_certificate, CertKind, LintPolicy, Severity};
use mdoc_ca::profile::{
    add_months, build_ds, build_iaca, build_link, DsParams, LinkKind, LinkParams, ProfileError,
};
use mso::crypto::{Algorithm, Curve, Signer, SoftwareKey, SoftwareVerifier};
use mso::x509::oid;
use time::macros::datetime;
use time::Duration;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::time::Time;
use x509_cert::Certificate;
use x509_common::*;

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn ext_oids(c: &Certificate) -> Vec<(String, bool)> {
    c.tbs_certificate
        .extensions
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| (e.extn_id.to_string(), e.critical))
        .collect()
}

fn assert_clean(der: &[u8], kind: CertKind, issuer_der: &[u8]) {
    let c = cert(der);
    let issuer = cert(issuer_der);
    let findings = lint_certificate(
        &c.tbs_certificate,
        kind,
        &issuer.tbs_certificate,
        &LintPolicy::default(),
    );
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn iaca_has_the_annex_b_shape() {
    let key = iaca_key();
    let nb = datetime!(2026-01-31 10:20:30.999 UTC);
    let der = build_iaca(&iaca_params(nb), &key).unwrap();
    let c = cert(&der);
    let tbs = &c.tbs_certificate;
    assert_eq!(tbs.version, x509_cert::certificate::Version::V3);
    assert_eq!(tbs.issuer, tbs.subject);
    assert_eq!(c.signature_algorithm.oid, oid::ECDSA_WITH_SHA384);
    assert!(c.signature_algorithm.parameters.is_none());
    // 20-octet positive serial.
    let serial = tbs.serial_number.as_bytes();
    assert_eq!(serial.len(), 20);
    assert!(serial[0] != 0 && serial[0] & 0x80 == 0);
    // 5 years 4 months, exactly, inclusive; sub-seconds dropped; 31 Jan + 64 months = 31 May.
    assert_eq!(
        tbs.validity.not_before.to_unix_duration().as_secs() as i64,
        datetime!(2026-01-31 10:20:30 UTC).unix_timestamp()
    );
    assert_eq!(
        tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        datetime!(2031-05-31 10:20:29 UTC).unix_timestamp()
    );
    assert!(matches!(tbs.validity.not_after, Time::UtcTime(_)));
    assert_eq!(
        ext_oids(&c),
        vec![
            ("2.5.29.14".to_string(), false),
            ("2.5.29.15".to_string(), true),
            ("2.5.29.19".to_string(), true),
            ("2.5.29.18".to_string(), false),
            ("2.5.29.31".to_string(), false),
        ]
    );
    let (_, ku) = tbs.get::<KeyUsage>().unwrap().unwrap();
    assert_eq!(ku.0, KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    let (_, bc) = tbs.get::<BasicConstraints>().unwrap().unwrap();
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
    // SKI method 1.
    use sha1::Digest;
    let (_, ski) = tbs.get::<SubjectKeyIdentifier>().unwrap().unwrap();
    let expected: [u8; 20] =
        sha1::Sha1::digest(tbs.subject_public_key_info.subject_public_key.raw_bytes()).into();
    assert_eq!(ski.0.as_bytes(), expected);
    // Country is a PrintableString.
    let c_atv = &tbs.subject.0[0].0.get(0).unwrap();
    assert_eq!(c_atv.oid, oid::COUNTRY_NAME);
    assert_eq!(c_atv.value.tag(), der::Tag::PrintableString);
    // Verifies with mso's reader.
    let parsed = mso::x509::Certificate::from_der(&der).unwrap();
    parsed.verify_issued_by(&parsed, &SoftwareVerifier).unwrap();
    assert_clean(&der, CertKind::Iaca, &der);
}

#[test]
fn serials_are_random() {
    let key = iaca_key();
    let a = serial_of(&make_iaca(&key, now()));
    let b = serial_of(&make_iaca(&key, now()));
    assert_ne!(a, b);
}

#[test]
fn signature_algorithm_follows_the_signer() {
    let policy = LintPolicy {
        iaca_curves: vec![Curve::P256, Curve::P384, Curve::P521],
        ..LintPolicy::default()
    };
    for (alg, sig_oid) in [
        (Algorithm::Es256, oid::ECDSA_WITH_SHA256),
        (Algorithm::Es384, oid::ECDSA_WITH_SHA384),
        (Algorithm::Es512, oid::ECDSA_WITH_SHA512),
    ] {
        let key = SoftwareKey::generate(alg);
        let mut params = iaca_params(now());
        params.policy = policy.clone();
        let der = build_iaca(&params, &key).unwrap();
        assert_eq!(cert(&der).signature_algorithm.oid, sig_oid, "{alg}");
        let parsed = mso::x509::Certificate::from_der(&der).unwrap();
        parsed.verify_issued_by(&parsed, &SoftwareVerifier).unwrap();
    }
}

#[test]
fn policy_default_iaca_curve_is_p384() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let signer = RecordingSigner::new(key);
    let err = build_iaca(&iaca_params(now()), &signer).unwrap_err();
    let ProfileError::Lint(findings) = err else {
        panic!("{err:?}")
    };
    assert!(
        findings.iter().any(|f| f.code == "policy.spki.curve"),
        "{findings:?}"
    );
    assert_eq!(signer.calls(), 0);
}

#[test]
fn dates_from_2050_are_generalized_time() {
    let key = iaca_key();
    let der = make_iaca(&key, datetime!(2047-03-01 00:00:00 UTC));
    let v = cert(&der).tbs_certificate.validity;
    assert!(matches!(v.not_before, Time::UtcTime(_)));
    assert!(matches!(v.not_after, Time::GeneralTime(_)));
    assert_clean(&der, CertKind::Iaca, &der);
}

#[test]
fn add_months_clamps_and_never_rounds_up() {
    assert_eq!(
        add_months(datetime!(2024-01-31 12:00 UTC), 1).unwrap(),
        datetime!(2024-02-29 12:00 UTC)
    );
    assert_eq!(
        add_months(datetime!(2026-08-31 00:00 UTC), 64).unwrap(),
        datetime!(2031-12-31 00:00 UTC)
    );
    assert_eq!(
        add_months(datetime!(2026-10-31 00:00 UTC), 64).unwrap(),
        datetime!(2032-02-29 00:00 UTC)
    );
}

#[test]
fn ds_has_the_annex_b_shape() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let nb = now();
    let der = make_ds(&iaca, &key, nb);
    let c = cert(&der);
    let i = cert(&iaca);
    let tbs = &c.tbs_certificate;
    assert_eq!(tbs.issuer, i.tbs_certificate.subject);
    assert_eq!(tbs.serial_number.as_bytes().len(), 20);
    let len =
        tbs.validity.not_after.to_unix_duration() - tbs.validity.not_before.to_unix_duration();
    assert_eq!(len.as_secs() + 1, 457 * 86_400);
    assert_eq!(
        ext_oids(&c),
        vec![
            ("2.5.29.14".to_string(), false),
            ("2.5.29.35".to_string(), false),
            ("2.5.29.15".to_string(), true),
            ("2.5.29.37".to_string(), true),
            ("2.5.29.18".to_string(), false),
            ("2.5.29.31".to_string(), false),
        ]
    );
    let (_, ku) = tbs.get::<KeyUsage>().unwrap().unwrap();
    assert_eq!(
        ku.0,
        der::flagset::FlagSet::from(KeyUsages::DigitalSignature)
    );
    let (_, eku) = tbs.get::<ExtendedKeyUsage>().unwrap().unwrap();
    assert_eq!(eku.0, vec![oid::MDL_DS_EKU]);
    let ds = mso::x509::Certificate::from_der(&der).unwrap();
    let root = mso::x509::Certificate::from_der(&iaca).unwrap();
    assert_eq!(ds.authority_key_id(), root.subject_key_id());
    assert_eq!(ds.country().as_deref(), Some("JP"));
    ds.verify_issued_by(&root, &SoftwareVerifier).unwrap();
    assert_clean(&der, CertKind::Ds, &iaca);
}

#[test]
fn ds_country_is_reencoded_as_the_iacas() {
    // A request with C as UTF8String "JP": same text, so accepted, written as PrintableString.
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CountryName, "JP");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "DS utf8");
    let csr_der = params.serialize_request(&kp).unwrap().der().to_vec();
    let csr = parse_csr(&csr_der, &CsrPolicy::default()).unwrap();
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let der = build_ds(&csr, &iaca, &ds_params(now()), &key).unwrap();
    let tbs = cert(&der).tbs_certificate;
    let c_atv = tbs
        .subject
        .0
        .iter()
        .flat_map(|r| r.0.iter())
        .find(|a| a.oid == oid::COUNTRY_NAME)
        .unwrap();
    assert_eq!(c_atv.value.tag(), der::Tag::PrintableString);
    assert_clean(&der, CertKind::Ds, &iaca);
}

#[test]
fn ds_country_or_state_mismatch_is_refused() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    for (c, st, attr) in [
        (Some("US"), None, "countryName"),
        (None, None, "countryName"),
        (Some("JP"), Some("Tokyo"), "stateOrProvinceName"),
    ] {
        let der = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, c, st, "DS x");
        let csr = parse_csr(&der, &CsrPolicy::default()).unwrap();
        let signer = RecordingSigner::new(key.clone());
        let err = build_ds(&csr, &iaca, &ds_params(now()), &signer).unwrap_err();
        assert!(
            matches!(err, ProfileError::SubjectMismatch { attribute, .. } if attribute == attr),
            "{err:?}"
        );
        assert_eq!(signer.calls(), 0);
    }
    // An IACA with ST: the DS must carry the same ST.
    let mut params = iaca_params(now());
    params.subject.state_or_province = Some("Tokyo".into());
    let iaca_st = build_iaca(&params, &key).unwrap();
    let ok = rcgen_csr(
        &rcgen::PKCS_ECDSA_P256_SHA256,
        Some("JP"),
        Some("Tokyo"),
        "DS y",
    );
    let csr = parse_csr(&ok, &CsrPolicy::default()).unwrap();
    let der = build_ds(&csr, &iaca_st, &ds_params(now()), &key).unwrap();
    assert_clean(&der, CertKind::Ds, &iaca_st);
    let bad = rcgen_csr(
        &rcgen::PKCS_ECDSA_P256_SHA256,
        Some("JP"),
        Some("Osaka"),
        "DS z",
    );
    let csr = parse_csr(&bad, &CsrPolicy::default()).unwrap();
    let err = build_ds(&csr, &iaca_st, &ds_params(now()), &key).unwrap_err();
    assert!(
        matches!(err, ProfileError::SubjectMismatch { .. }),
        "{err:?}"
    );
    let none = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS w");
    let csr = parse_csr(&none, &CsrPolicy::default()).unwrap();
    let err = build_ds(&csr, &iaca_st, &ds_params(now()), &key).unwrap_err();
    assert!(
        matches!(err, ProfileError::SubjectMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn ds_validity_beyond_policy_is_refused_and_nothing_signed() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let signer = RecordingSigner::new(key);
    let mut params = ds_params(now());
    params.validity_days = 458;
    let err = build_ds(&ds_csr(), &iaca, &params, &signer).unwrap_err();
    let ProfileError::Lint(findings) = err else {
        panic!("{err:?}")
    };
    assert!(
        findings
            .iter()
            .any(|f| f.code == "policy.validity.too_long"),
        "{findings:?}"
    );
    assert_eq!(signer.calls(), 0);
    // A stricter policy is honoured too.
    let mut params = ds_params(now());
    params.policy.max_ds_validity_days = 100;
    assert!(matches!(
        build_ds(&ds_csr(), &iaca, &params, &signer),
        Err(ProfileError::Lint(_))
    ));
    params.validity_days = 100;
    build_ds(&ds_csr(), &iaca, &params, &signer).unwrap();
    assert_eq!(signer.calls(), 1);
}

#[test]
fn ds_outside_iaca_validity_is_refused_or_clipped_on_request() {
    let key = iaca_key();
    let iaca_nb = now();
    let mut params = iaca_params(iaca_nb);
    params.validity_months = 12;
    let iaca = build_iaca(&params, &key).unwrap();
    let signer = RecordingSigner::new(key);
    let ds = ds_params(iaca_nb + Duration::days(30));
    let err = build_ds(&ds_csr(), &iaca, &ds, &signer).unwrap_err();
    assert!(
        matches!(err, ProfileError::ValidityOutsideIssuer { .. }),
        "{err:?}"
    );
    let before = ds_params(iaca_nb - Duration::days(1));
    assert!(matches!(
        build_ds(&ds_csr(), &iaca, &before, &signer),
        Err(ProfileError::ValidityOutsideIssuer { .. })
    ));
    assert_eq!(signer.calls(), 0);
    let mut clip = ds.clone();
    clip.clip_to_issuer_validity = true;
    let der = build_ds(&ds_csr(), &iaca, &clip, &signer).unwrap();
    let c = cert(&der);
    let i = cert(&iaca);
    assert_eq!(
        c.tbs_certificate.validity.not_after,
        i.tbs_certificate.validity.not_after
    );
    assert_clean(&der, CertKind::Ds, &iaca);
}

#[test]
fn ds_key_rotation_default_is_three_months() {
    let p: DsParams = ds_params(datetime!(2026-11-30 08:00 UTC));
    assert_eq!(p.key_rotation_months, 3);
    assert_eq!(p.validity_days, 457);
    assert_eq!(p.key_usage_end().unwrap(), datetime!(2027-02-28 08:00 UTC));
}

#[test]
fn lint_failure_signs_nothing() {
    let key = iaca_key();
    type Mutation = Box<dyn Fn(&mut mdoc_ca::profile::IacaParams)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "annexb.name.country",
            Box::new(|p| p.subject.country = "jp".into()),
        ),
        (
            "annexb.name.country",
            Box::new(|p| p.subject.country = "JPN".into()),
        ),
        (
            "policy.validity.too_long",
            Box::new(|p| p.validity_months = 241),
        ),
        (
            "rfc5280.validity.order",
            Box::new(|p| p.validity_months = 0),
        ),
        (
            "annexb.ian",
            Box::new(|p| p.issuer_alt_name = Default::default()),
        ),
        (
            "annexb.ian.rfc822",
            Box::new(|p| p.issuer_alt_name.emails = vec!["nobody".into()]),
        ),
        (
            "annexb.crldp.full_name",
            Box::new(|p| p.crl_distribution_points.clear()),
        ),
        (
            "annexb.crldp.uri",
            Box::new(|p| p.crl_distribution_points = vec!["ldap://x/y".into()]),
        ),
        (
            "rfc5280.name.upper_bound",
            Box::new(|p| p.subject.common_name = "x".repeat(65)),
        ),
        (
            "rfc5280.name.empty_value",
            Box::new(|p| p.subject.common_name = String::new()),
        ),
    ];
    for (code, mutate) in cases {
        let signer = RecordingSigner::new(key.clone());
        let mut params = iaca_params(now());
        mutate(&mut params);
        let err = build_iaca(&params, &signer).unwrap_err();
        let ProfileError::Lint(findings) = &err else {
            panic!("{code}: {err:?}")
        };
        assert!(
            findings
                .iter()
                .any(|f| f.code == code && f.severity == Severity::Error),
            "{code}: {findings:#?}"
        );
        assert_eq!(signer.calls(), 0, "{code}: the signer was called");
        assert!(err.to_string().contains("nothing was signed"));
    }
    // A non-PrintableString country cannot even be encoded.
    let mut params = iaca_params(now());
    params.subject.country = "J*".into();
    let signer = RecordingSigner::new(key);
    assert!(matches!(
        build_iaca(&params, &signer),
        Err(ProfileError::InvalidParams(_))
    ));
    assert_eq!(signer.calls(), 0);
}

#[test]
fn hsm_faults_are_caught_after_signing() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    for fault in [Fault::FlipBit, Fault::OtherKey] {
        let mut signer = RecordingSigner::new(key.clone());
        signer.fault = fault;
        let err = build_ds(&ds_csr(), &iaca, &ds_params(now()), &signer).unwrap_err();
        assert!(
            matches!(
                err,
                ProfileError::SignatureCheck(_) | ProfileError::Signer(_)
            ),
            "{err:?}"
        );
        let err = build_iaca(&iaca_params(now()), &signer).unwrap_err();
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
fn signer_must_hold_the_issuer_key() {
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let other = RecordingSigner::new(iaca_key());
    assert_eq!(
        build_ds(&ds_csr(), &iaca, &ds_params(now()), &other).unwrap_err(),
        ProfileError::SignerKeyMismatch
    );
    assert_eq!(other.calls(), 0);
    assert!(matches!(
        build_ds(&ds_csr(), b"not a certificate", &ds_params(now()), &key),
        Err(ProfileError::IssuerCertificate(_))
    ));
}

#[test]
fn link_certificates_have_the_iaca_shape() {
    let r = rollover();
    for (link, issuer, subject_key) in [
        (&r.new_with_old, &r.old_iaca, &r.new_key),
        (&r.old_with_new, &r.new_iaca, &r.old_key),
    ] {
        let c = cert(link);
        let tbs = &c.tbs_certificate;
        assert_eq!(tbs.issuer, tbs.subject, "self-issued");
        assert_eq!(tbs.subject, cert(&r.old_iaca).tbs_certificate.subject);
        let l = mso::x509::Certificate::from_der(link).unwrap();
        let i = mso::x509::Certificate::from_der(issuer).unwrap();
        assert_eq!(l.authority_key_id(), i.subject_key_id());
        assert_eq!(l.public_key().unwrap(), subject_key.public_key().unwrap());
        l.verify_issued_by(&i, &SoftwareVerifier).unwrap();
        assert_eq!(
            ext_oids(&c),
            vec![
                ("2.5.29.14".to_string(), false),
                ("2.5.29.35".to_string(), false),
                ("2.5.29.15".to_string(), true),
                ("2.5.29.19".to_string(), true),
                ("2.5.29.18".to_string(), false),
                ("2.5.29.31".to_string(), false),
            ]
        );
        // CPS §7.1.2.2: notAfter = the old self-signed certificate's notAfter.
        assert_eq!(
            tbs.validity.not_after,
            cert(&r.old_iaca).tbs_certificate.validity.not_after
        );
        assert_clean(link, CertKind::Link, issuer);
    }
    // NewWithOld starts when the new key was made; OldWithNew when the old one was.
    assert_eq!(
        cert(&r.new_with_old).tbs_certificate.validity.not_before,
        cert(&r.new_iaca).tbs_certificate.validity.not_before
    );
    assert_eq!(
        cert(&r.old_with_new).tbs_certificate.validity.not_before,
        cert(&r.old_iaca).tbs_certificate.validity.not_before
    );
}

#[test]
fn link_with_a_different_dn_is_refused() {
    let old_key = iaca_key();
    let new_key = iaca_key();
    let old = make_iaca(&old_key, now());
    let mut params = iaca_params(now());
    params.subject.common_name = "mDL Test IACA 2".into();
    let new = build_iaca(&params, &new_key).unwrap();
    let link_params = LinkParams::for_rollover(LinkKind::NewWithOld, &old, &new).unwrap();
    let signer = RecordingSigner::new(old_key);
    let err = build_link(
        &new_key.public_key().unwrap(),
        &new,
        &old,
        &link_params,
        &signer,
    )
    .unwrap_err();
    let ProfileError::Lint(findings) = err else {
        panic!("{err:?}")
    };
    assert!(findings.iter().any(|f| f.code == "annexb.ca.self_issued"));
    assert_eq!(signer.calls(), 0);
    // Certifying the signer's own key is not a link either.
    let err = build_link(
        &signer.public_key().unwrap(),
        &old,
        &old,
        &link_params,
        &signer,
    )
    .unwrap_err();
    assert!(matches!(err, ProfileError::Lint(_)), "{err:?}");
    assert_eq!(signer.calls(), 0);
}

#[test]
fn lint_catches_foreign_certificates() {
    // rcgen's self-signed certificate breaks several Annex B rules.
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["example.com".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let c = params.self_signed(&kp).unwrap();
    let tbs = Certificate::from_der(c.der()).unwrap().tbs_certificate;
    let findings = lint_certificate(&tbs, CertKind::Iaca, &tbs, &LintPolicy::default());
    let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
    for code in ["annexb.ext.unexpected", "annexb.bc", "annexb.name.count"] {
        assert!(codes.contains(&code), "{code} missing from {findings:#?}");
    }
}
