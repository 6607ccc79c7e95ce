//! DS key lifecycle: CSR generation, certificate installation against the DS profile, and the
//! rotation policy of the inventory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use der::{Decode, Encode};
use mdoc_issuer::ds::{
    csr_pem, generate_csr, install_certificate, install_list_signer_certificate,
    refused_at_install, DsCertificate, DsError, DsInventory, DsKeys, DsSubject, KeystoreConfig,
    RotationPolicy,
};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use mso::x509::profile::{EncodingProblem, Finding, Severity, Violation};
use mso::x509::{oid, Certificate, PathError};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use sha1::{Digest, Sha1};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_cert::request::CertReq;

const MDL_DS: &[u64] = &[1, 0, 18013, 5, 1, 2];
const READER_AUTH: &[u64] = &[1, 0, 18013, 5, 1, 6];
const AT: OffsetDateTime = datetime!(2026-02-01 00:00:00 UTC);

/// The installation was refused for the DS profile, and `violation` is among the findings.
fn assert_finding(err: &DsError, violation: &Violation) {
    match err {
        DsError::Profile { findings } => assert!(
            findings.iter().any(|f| f.violation == *violation),
            "{violation:?} not among {findings:?}"
        ),
        other => panic!("expected a DS profile refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------- test CA

use test_kit::pki::{ian, random_serial, rcgen_key};

fn crldp() -> Vec<CrlDistributionPoint> {
    vec![CrlDistributionPoint {
        uris: vec!["https://iaca.example.jp/crl".into()],
    }]
}

/// A test IACA (P-384), shaped like Annex B.
struct Iaca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Iaca {
    fn new(state: Option<&str>) -> Self {
        let soft = SoftwareKey::generate(Algorithm::Es384);
        Self::with_key_and_ski(soft, None, state)
    }

    /// An IACA with a chosen SKI (to impersonate another IACA's identifier).
    fn with_key_and_ski(soft: SoftwareKey, ski: Option<Vec<u8>>, state: Option<&str>) -> Self {
        let key = rcgen_key(&soft);
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CountryName, "JP");
        if let Some(st) = state {
            p.distinguished_name.push(DnType::StateOrProvinceName, st);
        }
        p.distinguished_name.push(DnType::CommonName, "Test IACA");
        p.not_before = datetime!(2025-01-01 00:00:00 UTC);
        p.not_after = datetime!(2030-05-01 00:00:00 UTC);
        p.serial_number = Some(random_serial());
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ski =
            ski.unwrap_or_else(|| Sha1::digest(soft.public_key().unwrap().to_sec1()).to_vec());
        p.key_identifier_method = KeyIdMethod::PreSpecified(ski);
        p.crl_distribution_points = crldp();
        p.custom_extensions = vec![ian()];
        let cert = p.self_signed(&key).unwrap();
        Iaca { cert, key }
    }

    fn parsed(&self) -> Certificate {
        Certificate::from_der(self.cert.der()).unwrap()
    }
}

/// The public key of a CSR, as rcgen wants it.
struct CsrKey {
    point: Vec<u8>,
    alg: &'static SignatureAlgorithm,
}

impl rcgen::PublicKeyData for CsrKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }
    fn algorithm(&self) -> &SignatureAlgorithm {
        self.alg
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Eku {
    /// No extendedKeyUsage: a list signer (ISO/IEC 18013-5 second edition, Table B.9).
    None,
    CriticalMdlDs,
    NonCriticalMdlDs,
    CriticalReaderAuth,
}

/// What the test CA puts in a DS certificate (defaults follow the profile).
#[derive(Clone)]
struct DsOpts {
    country: &'static str,
    state: Option<&'static str>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    eku: Eku,
    key_usages: Vec<KeyUsagePurpose>,
    ca: bool,
    crldp: bool,
    /// rcgen writes subjectKeyIdentifier for non-CA certificates only with ExplicitNoCa.
    ski: bool,
}

impl Default for DsOpts {
    fn default() -> Self {
        DsOpts {
            country: "JP",
            state: None,
            not_before: datetime!(2026-01-01 00:00:00 UTC),
            not_after: datetime!(2027-01-01 00:00:00 UTC),
            eku: Eku::CriticalMdlDs,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            ca: false,
            crldp: true,
            ski: true,
        }
    }
}

fn oid_der(arcs: &[u64]) -> der::asn1::ObjectIdentifier {
    let text: Vec<String> = arcs.iter().map(u64::to_string).collect();
    der::asn1::ObjectIdentifier::new(&text.join(".")).unwrap()
}

/// The offline root's job, as a test CA: check the CSR's proof of possession, then certify its
/// key with `opts`.
fn certify(iaca: &Iaca, csr_der: &[u8], opts: &DsOpts) -> Vec<u8> {
    let req = CertReq::from_der(csr_der).unwrap();
    let info = req.info.to_der().unwrap();
    let key = mso::x509::spki::decode_owned(&req.info.public_key).unwrap();
    mso::x509::verify_x509_signature(
        &key,
        &req.algorithm.oid,
        &info,
        req.signature.as_bytes().unwrap(),
    )
    .expect("CSR proof of possession");
    let point = key.to_sec1();
    let alg = match key {
        mso::crypto::PublicKey::P256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
        mso::crypto::PublicKey::P384(_) => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => panic!("test CA certifies P-256/P-384 only"),
    };

    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CountryName, opts.country);
    if let Some(st) = opts.state {
        p.distinguished_name.push(DnType::StateOrProvinceName, st);
    }
    p.distinguished_name.push(DnType::CommonName, "Test DS");
    p.not_before = opts.not_before;
    p.not_after = opts.not_after;
    p.serial_number = Some(random_serial());
    p.key_usages = opts.key_usages.clone();
    p.is_ca = if opts.ca {
        IsCa::Ca(BasicConstraints::Unconstrained)
    } else if opts.ski {
        IsCa::ExplicitNoCa
    } else {
        IsCa::NoCa
    };
    p.use_authority_key_identifier_extension = true;
    p.key_identifier_method = KeyIdMethod::PreSpecified(Sha1::digest(&point).to_vec());
    if opts.crldp {
        p.crl_distribution_points = crldp();
    }
    p.custom_extensions = vec![ian()];
    match opts.eku {
        Eku::None => {}
        Eku::NonCriticalMdlDs => {
            // rcgen writes extendedKeyUsage non-critical.
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(MDL_DS.to_vec())];
        }
        Eku::CriticalMdlDs | Eku::CriticalReaderAuth => {
            let purpose = if opts.eku == Eku::CriticalMdlDs {
                MDL_DS
            } else {
                READER_AUTH
            };
            let content = x509_cert::ext::pkix::ExtendedKeyUsage(vec![oid_der(purpose)])
                .to_der()
                .unwrap();
            let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], content);
            ext.set_criticality(true);
            p.custom_extensions.push(ext);
        }
    }
    p.signed_by(&CsrKey { point, alg }, &iaca.cert, &iaca.key)
        .unwrap()
        .der()
        .to_vec()
}

fn subject() -> DsSubject {
    DsSubject {
        country: "JP".into(),
        state: None,
        organization: Some("Test Issuer".into()),
        common_name: "Test DS 2026-Q1".into(),
    }
}

/// A DS key, its CSR and the certificate `iaca` issues for it under `opts`.
fn ds(iaca: &Iaca, opts: &DsOpts) -> (SoftwareKey, Vec<u8>) {
    let key = SoftwareKey::generate(Algorithm::Es256);
    let csr = generate_csr(&key, &subject()).unwrap();
    let cert = certify(iaca, &csr, opts);
    (key, cert)
}

fn refusal(iaca: &Iaca, opts: DsOpts) -> DsError {
    let (key, cert) = ds(iaca, &opts);
    install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap_err()
}

// ---------------------------------------------------------------- CSR

fn check_csr(alg: Algorithm, sig_oid: &str) {
    let key = SoftwareKey::generate(alg);
    let mut subj = subject();
    subj.state = Some("Tōkyō".into());
    let der = generate_csr(&key, &subj).unwrap();

    // Parses, re-encodes identically, self-signature verifies, carries the key and subject.
    let req = CertReq::from_der(&der).unwrap();
    assert_eq!(req.to_der().unwrap(), der);
    assert_eq!(req.algorithm.oid.to_string(), sig_oid);
    assert!(req.algorithm.parameters.is_none());
    let public = mso::x509::spki::decode_owned(&req.info.public_key).unwrap();
    assert_eq!(public, key.public_key().unwrap());
    mso::x509::verify_x509_signature(
        &public,
        &req.algorithm.oid,
        &req.info.to_der().unwrap(),
        req.signature.as_bytes().unwrap(),
    )
    .unwrap();
    assert_eq!(
        req.info.subject.to_string(),
        "CN=Test DS 2026-Q1,O=Test Issuer,ST=Tōkyō,C=JP"
    );

    // And openssl agrees.
    let pem = csr_pem(&der).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.csr");
    std::fs::write(&path, &pem).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["req", "-verify", "-noout", "-in"])
        .arg(&path)
        .output()
        .expect("openssl is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl req -verify failed: {text}");
    assert!(text.contains("verify OK"), "{text}");
    let out = std::process::Command::new("openssl")
        .args(["req", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(if alg == Algorithm::Es256 {
        "prime256v1"
    } else {
        "secp384r1"
    }));
}

#[test]
fn csr_p256_verifies_with_openssl_and_parses() {
    check_csr(Algorithm::Es256, "1.2.840.10045.4.3.2");
}

#[test]
fn csr_p384_verifies_with_openssl_and_parses() {
    check_csr(Algorithm::Es384, "1.2.840.10045.4.3.3");
}

#[test]
fn csr_refuses_bad_subjects() {
    let key = SoftwareKey::generate(Algorithm::Es256);
    for country in ["jp", "JPN", "", "J1"] {
        let mut s = subject();
        s.country = country.into();
        assert!(matches!(
            generate_csr(&key, &s),
            Err(DsError::InvalidSubject(_))
        ));
    }
    let mut s = subject();
    s.common_name = " ".into();
    assert!(matches!(
        generate_csr(&key, &s),
        Err(DsError::InvalidSubject(_))
    ));
    s.common_name = "x".repeat(65);
    assert!(matches!(
        generate_csr(&key, &s),
        Err(DsError::InvalidSubject(_))
    ));
}

// ---------------------------------------------------------------- install

#[test]
fn full_loop_with_dev_file_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let config = || KeystoreConfig::DevFile {
        dir: dir.path().to_path_buf(),
        secret: zeroize::Zeroizing::new(b"dev secret".to_vec()),
        kdf: custody::softstore::KdfParams::new(64, 1, 1).unwrap(),
    };
    let keys = DsKeys::open(config()).unwrap();
    assert!(keys.is_dev_only());
    let generated = keys.generate("ds-2026q1", Algorithm::Es256).unwrap();
    assert_eq!(generated.uri.scheme(), "file");
    // The key file is sealed and marked dev-only; no private key in clear.
    let file = std::fs::read_to_string(dir.path().join("ds-2026q1.key")).unwrap();
    assert!(file.contains("\"dev_only\": true"));
    assert!(!file.contains("PRIVATE KEY"));

    // Same label twice: refused, nothing overwritten.
    assert!(matches!(
        keys.generate("ds-2026q1", Algorithm::Es256),
        Err(DsError::Keystore(custody::Error::KeyExists(_)))
    ));
    assert!(matches!(
        keys.generate("../escape", Algorithm::Es256),
        Err(DsError::InvalidLabel { .. })
    ));

    let iaca = Iaca::new(None);
    let csr = generate_csr(generated.signer.as_ref(), &subject()).unwrap();
    let cert_der = certify(&iaca, &csr, &DsOpts::default());
    let installed =
        install_certificate(&cert_der, generated.signer.as_ref(), &[iaca.parsed()], AT).unwrap();
    assert_eq!(installed.der(), cert_der.as_slice());
    assert_eq!(installed.not_after(), datetime!(2027-01-01 00:00:00 UTC));

    // The key reopens by URI (with a fresh keystore handle) and is the certified key.
    let reopened = DsKeys::open(config())
        .unwrap()
        .open_key(&generated.uri)
        .unwrap();
    assert_eq!(
        reopened.public_key().unwrap(),
        installed.certificate().public_key().unwrap()
    );

    let mut inventory = DsInventory::default();
    inventory.add(&installed, &generated.uri, AT).unwrap();
    let signing = inventory.signing_ds(AT).unwrap();
    assert_eq!(signing.serial, installed.serial());
    assert_eq!(signing.key_uri().unwrap(), generated.uri);

    // openssl verifies the chain with -x509_strict.
    let pem = |der: &[u8]| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    };
    std::fs::write(dir.path().join("iaca.pem"), pem(iaca.cert.der())).unwrap();
    std::fs::write(dir.path().join("ds.pem"), pem(&cert_der)).unwrap();
    let out = std::process::Command::new("openssl")
        .args([
            "verify",
            "-x509_strict",
            "-attime",
            "1769904000",
            "-purpose",
            "any",
            "-CAfile",
        ])
        .arg(dir.path().join("iaca.pem"))
        .arg(dir.path().join("ds.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn install_p384_ds() {
    let iaca = Iaca::new(Some("Tokyo"));
    let key = SoftwareKey::generate(Algorithm::Es384);
    let mut s = subject();
    s.state = Some("Tokyo".into());
    let csr = generate_csr(&key, &s).unwrap();
    let opts = DsOpts {
        state: Some("Tokyo"),
        ..DsOpts::default()
    };
    let cert = certify(&iaca, &csr, &opts);
    install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap();
}

#[test]
fn encoding_findings_are_kept_as_warnings_not_refusals() {
    // rcgen writes keyUsage with trailing zero bits (not DER, same meaning) and a non-CA
    // basicConstraints the DS profile does not list: installed, with both named.
    let iaca = Iaca::new(None);
    let key = SoftwareKey::generate(Algorithm::Es256);
    let csr = generate_csr(&key, &subject()).unwrap();
    let cert = certify(&iaca, &csr, &DsOpts::default());
    let ds = install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap();
    let warnings = ds.warnings();
    assert!(
        warnings.contains(&Violation::ExtensionEncoding {
            oid: oid::KEY_USAGE,
            problem: EncodingProblem::NotDer,
        }),
        "{warnings:?}"
    );
    assert!(warnings
        .iter()
        .any(|w| matches!(w, Violation::UnexpectedExtension { oid: o, .. } if *o == oid::BASIC_CONSTRAINTS)));
    assert!(warnings.iter().all(|w| !refused_at_install(&Finding {
        severity: Severity::Warning,
        violation: w.clone(),
    })));
}

#[test]
fn install_picks_the_issuing_iaca_among_several() {
    let other = Iaca::new(None);
    let iaca = Iaca::new(None);
    let (key, cert) = ds(&iaca, &DsOpts::default());
    let installed = install_certificate(&cert, &key, &[other.parsed(), iaca.parsed()], AT).unwrap();
    assert_eq!(
        installed.issuer_ski(),
        iaca.parsed().subject_key_id().unwrap().as_slice()
    );
}

#[test]
fn refuses_a_certificate_for_another_key() {
    let iaca = Iaca::new(None);
    let (_, cert) = ds(&iaca, &DsOpts::default());
    let other = SoftwareKey::generate(Algorithm::Es256);
    assert!(matches!(
        install_certificate(&cert, &other, &[iaca.parsed()], AT),
        Err(DsError::KeyMismatch)
    ));
}

#[test]
fn refuses_a_certificate_from_an_unconfigured_iaca() {
    let iaca = Iaca::new(None);
    let configured = Iaca::new(None);
    let (key, cert) = ds(&iaca, &DsOpts::default());
    // Same DN, another key: the candidate does not verify the signature.
    assert!(matches!(
        install_certificate(&cert, &key, &[configured.parsed()], AT),
        Err(DsError::Untrusted(PathError::BadSignature { .. }))
    ));
    assert!(matches!(
        install_certificate(&cert, &key, &[], AT),
        Err(DsError::Untrusted(PathError::UnknownIssuer { .. }))
    ));
}

#[test]
fn refuses_a_certificate_signed_by_an_impostor_with_the_same_ski() {
    let real = Iaca::new(None);
    let real_ski = real.parsed().subject_key_id().unwrap();
    // Same DN, same SKI, different key.
    let impostor = Iaca::with_key_and_ski(
        SoftwareKey::generate(Algorithm::Es384),
        Some(real_ski),
        None,
    );
    let (key, cert) = ds(&impostor, &DsOpts::default());
    assert!(matches!(
        install_certificate(&cert, &key, &[real.parsed()], AT),
        Err(DsError::Untrusted(PathError::BadSignature { .. }))
    ));
}

#[test]
fn refuses_an_expired_certificate() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            not_before: datetime!(2025-02-01 00:00:00 UTC),
            not_after: datetime!(2025-12-31 00:00:00 UTC),
            ..DsOpts::default()
        },
    );
    assert!(
        matches!(err, DsError::Expired { not_after } if not_after == datetime!(2025-12-31 00:00:00 UTC)),
        "{err}"
    );
}

#[test]
fn accepts_a_not_yet_valid_certificate_for_later_rotation() {
    let iaca = Iaca::new(None);
    let (key, cert) = ds(
        &iaca,
        &DsOpts {
            not_before: datetime!(2026-04-01 00:00:00 UTC),
            not_after: datetime!(2027-04-01 00:00:00 UTC),
            ..DsOpts::default()
        },
    );
    install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap();
}

#[test]
fn refuses_a_wrong_eku() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            eku: Eku::CriticalReaderAuth,
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::ExtendedKeyUsage {
            expected: Some(oid::MDL_DS_EKU),
            found: vec![oid::MDL_READER_AUTH_EKU],
        },
    );
}

#[test]
fn refuses_a_non_critical_eku() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            eku: Eku::NonCriticalMdlDs,
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::Criticality {
            oid: oid::EXT_KEY_USAGE,
            critical: false,
        },
    );
}

#[test]
fn refuses_a_wrong_key_usage() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::KeyUsage {
            expected: "digitalSignature",
            found: vec!["digitalSignature", "contentCommitment"],
        },
    );
    let err = refusal(
        &iaca,
        DsOpts {
            key_usages: vec![],
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::MissingExtension {
            oid: oid::KEY_USAGE,
        },
    );
}

#[test]
fn refuses_a_ca_certificate() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            ca: true,
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::BasicConstraints {
            ca: true,
            path_len: None,
        },
    );
}

#[test]
fn refuses_a_missing_crl_distribution_point() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            crldp: false,
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::MissingExtension {
            oid: oid::CRL_DISTRIBUTION_POINTS,
        },
    );
}

#[test]
fn refuses_a_missing_subject_key_identifier() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            ski: false,
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::MissingExtension {
            oid: oid::SUBJECT_KEY_IDENTIFIER,
        },
    );
}

#[test]
fn refuses_a_country_mismatch() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            country: "US",
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::SubjectAttributeMismatch {
            attribute: "countryName",
            subject: vec!["US".into()],
            issuer: vec!["JP".into()],
        },
    );
}

#[test]
fn refuses_a_state_mismatch() {
    let iaca = Iaca::new(Some("Tokyo"));
    let err = refusal(
        &iaca,
        DsOpts {
            state: Some("Osaka"),
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::SubjectAttributeMismatch {
            attribute: "stateOrProvinceName",
            subject: vec!["Osaka".into()],
            issuer: vec!["Tokyo".into()],
        },
    );
    // The IACA has ST, the DS has none.
    let err = refusal(&iaca, DsOpts::default());
    assert_finding(
        &err,
        &Violation::SubjectAttributeMismatch {
            attribute: "stateOrProvinceName",
            subject: vec![],
            issuer: vec!["Tokyo".into()],
        },
    );
}

#[test]
fn refuses_validity_over_457_days() {
    let iaca = Iaca::new(None);
    let nb = datetime!(2026-01-01 00:00:00 UTC);
    // Exactly 457 days, both ends included as RFC 5280 counts validity, is accepted.
    let (key, cert) = ds(
        &iaca,
        &DsOpts {
            not_before: nb,
            not_after: nb + Duration::days(457) - Duration::seconds(1),
            ..DsOpts::default()
        },
    );
    install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap();
    // One second more is not.
    let err = refusal(
        &iaca,
        DsOpts {
            not_before: nb,
            not_after: nb + Duration::days(457),
            ..DsOpts::default()
        },
    );
    assert_finding(
        &err,
        &Violation::ValidityTooLong {
            seconds: 457 * 86_400 + 1,
            limit: "457 days".into(),
        },
    );
}

#[test]
fn refuses_validity_outside_the_iaca() {
    let iaca = Iaca::new(None);
    let err = refusal(
        &iaca,
        DsOpts {
            not_before: datetime!(2030-01-01 00:00:00 UTC),
            not_after: datetime!(2030-12-01 00:00:00 UTC),
            ..DsOpts::default()
        },
    );
    assert_finding(&err, &Violation::OutsideIssuerValidity);
}

#[test]
fn refuses_garbage() {
    let iaca = Iaca::new(None);
    let key = SoftwareKey::generate(Algorithm::Es256);
    for input in [&b""[..], b"\x30\x03\x02\x01\x01", b"not a certificate"] {
        assert!(matches!(
            install_certificate(input, &key, &[iaca.parsed()], AT),
            Err(DsError::MalformedCertificate(_))
        ));
    }
    // The IACA itself is not a DS certificate for its own key... nor for ours.
    assert!(install_certificate(iaca.cert.der(), &key, &[iaca.parsed()], AT).is_err());
}

// ---------------------------------------------------------------- rotation

fn installed(iaca: &Iaca, nb: OffsetDateTime, na: OffsetDateTime) -> DsCertificate {
    let (key, cert) = ds(
        iaca,
        &DsOpts {
            not_before: nb,
            not_after: na,
            ..DsOpts::default()
        },
    );
    install_certificate(&cert, &key, &[iaca.parsed()], nb - Duration::days(30)).unwrap()
}

fn uri(n: u32) -> custody::uri::KeyUri {
    custody::uri::KeyUri::pkcs11("issuer-hsm", &format!("ds-{n}")).unwrap()
}

#[test]
fn rotation_over_a_timeline_of_three_ds() {
    let iaca = Iaca::new(None);
    let ds1 = installed(
        &iaca,
        datetime!(2026-01-01 00:00:00 UTC),
        datetime!(2027-01-01 00:00:00 UTC),
    );
    let ds2 = installed(
        &iaca,
        datetime!(2026-04-01 00:00:00 UTC),
        datetime!(2027-04-01 00:00:00 UTC),
    );
    let ds3 = installed(
        &iaca,
        datetime!(2026-07-01 00:00:00 UTC),
        datetime!(2027-07-01 00:00:00 UTC),
    );
    let policy = RotationPolicy::default();
    assert_eq!(policy.rotate_every, Duration::days(91));
    assert_eq!(policy.overlap, Duration::days(14));
    let mut inv = DsInventory::new(policy);
    inv.add(&ds1, &uri(1), datetime!(2026-01-01 00:00:00 UTC))
        .unwrap();
    // DS2 and DS3 are installed ahead of their notBefore.
    inv.add(&ds2, &uri(2), datetime!(2026-03-25 00:00:00 UTC))
        .unwrap();
    inv.add(&ds3, &uri(3), datetime!(2026-06-25 00:00:00 UTC))
        .unwrap();
    let serial_at = |inv: &DsInventory, at| inv.signing_ds(at).map(|e| e.serial.clone());

    // Before any is valid: nothing to sign with.
    assert_eq!(serial_at(&inv, datetime!(2025-12-31 23:59:59 UTC)), None);
    assert!(inv.needs_rotation(datetime!(2025-12-31 23:59:59 UTC)));
    // DS1 alone is valid (DS2 installed but not yet valid).
    for at in [
        datetime!(2026-01-01 00:00:00 UTC),
        datetime!(2026-03-28 00:00:00 UTC),
        datetime!(2026-03-31 23:59:59 UTC),
    ] {
        assert_eq!(serial_at(&inv, at).as_deref(), Some(ds1.serial()));
        assert!(!inv.needs_rotation(at));
    }
    // The newest usable: DS2 from its notBefore, DS3 from its notBefore.
    assert_eq!(
        serial_at(&inv, datetime!(2026-04-01 00:00:00 UTC)).as_deref(),
        Some(ds2.serial())
    );
    assert_eq!(
        serial_at(&inv, datetime!(2026-06-30 23:59:59 UTC)).as_deref(),
        Some(ds2.serial())
    );
    // DS2 reaches 91 days in service exactly when DS3 becomes valid.
    assert!(!inv.needs_rotation(datetime!(2026-06-30 23:59:59 UTC)));
    assert_eq!(
        serial_at(&inv, datetime!(2026-07-01 00:00:00 UTC)).as_deref(),
        Some(ds3.serial())
    );
    assert!(!inv.needs_rotation(datetime!(2026-07-01 00:00:00 UTC)));

    // Revoke DS2: inside DS1's overlap window DS1 signs again; after it, nothing.
    inv.revoke(ds2.serial()).unwrap();
    assert!(inv.get(ds2.serial()).unwrap().revoked);
    assert_eq!(
        serial_at(&inv, datetime!(2026-04-10 00:00:00 UTC)).as_deref(),
        Some(ds1.serial())
    );
    assert!(inv.needs_rotation(datetime!(2026-04-10 00:00:00 UTC)));
    // DS1 retires at 2026-01-01 + 91 + 14 days = 2026-04-16, though still valid until 2027.
    assert_eq!(
        serial_at(&inv, datetime!(2026-04-15 23:59:59 UTC)).as_deref(),
        Some(ds1.serial())
    );
    assert_eq!(serial_at(&inv, datetime!(2026-04-16 00:00:00 UTC)), None);
    assert!(inv.needs_rotation(datetime!(2026-04-16 00:00:00 UTC)));
    // DS3 is unaffected.
    assert_eq!(
        serial_at(&inv, datetime!(2026-08-01 00:00:00 UTC)).as_deref(),
        Some(ds3.serial())
    );
    // No signer after DS3's window either.
    assert_eq!(serial_at(&inv, datetime!(2026-10-14 00:00:00 UTC)), None);

    // validUntil never exceeds the DS notAfter.
    let e3 = inv.get(ds3.serial()).unwrap();
    assert_eq!(
        DsInventory::max_valid_until(e3, datetime!(2030-01-01 00:00:00 UTC)),
        datetime!(2027-07-01 00:00:00 UTC)
    );
    assert_eq!(
        DsInventory::max_valid_until(e3, datetime!(2026-09-01 00:00:00 UTC)),
        datetime!(2026-09-01 00:00:00 UTC)
    );

    // Bookkeeping refusals.
    assert!(matches!(
        inv.add(&ds1, &uri(9), AT),
        Err(DsError::DuplicateSerial(_))
    ));
    let ds4 = installed(
        &iaca,
        datetime!(2026-09-01 00:00:00 UTC),
        datetime!(2027-09-01 00:00:00 UTC),
    );
    assert!(matches!(
        inv.add(&ds4, &uri(1), AT),
        Err(DsError::KeyAlreadyCertified(_))
    ));
    assert!(matches!(inv.revoke("00"), Err(DsError::UnknownSerial(_))));

    // The inventory is a value the service persists.
    let json = serde_json::to_string(&inv).unwrap();
    let back: DsInventory = serde_json::from_str(&json).unwrap();
    assert_eq!(back, inv);
    assert!(json.contains("\"revoked\":true"));
    assert!(json.contains("2026-07-01T00:00:00Z"));
}

#[test]
fn never_signs_with_an_expired_ds() {
    let iaca = Iaca::new(None);
    let a = installed(
        &iaca,
        datetime!(2026-01-01 00:00:00 UTC),
        datetime!(2026-06-01 00:00:00 UTC),
    );
    let b = installed(
        &iaca,
        datetime!(2026-02-01 00:00:00 UTC),
        datetime!(2027-01-01 00:00:00 UTC),
    );
    // A long rotation window, so only validity and revocation decide.
    let mut inv = DsInventory::new(RotationPolicy {
        rotate_every: Duration::days(1000),
        overlap: Duration::days(30),
    });
    inv.add(&a, &uri(1), datetime!(2026-01-01 00:00:00 UTC))
        .unwrap();
    inv.add(&b, &uri(2), datetime!(2026-01-01 00:00:00 UTC))
        .unwrap();
    let at = datetime!(2026-03-01 00:00:00 UTC);
    assert_eq!(inv.signing_ds(at).unwrap().serial, b.serial());
    inv.revoke(b.serial()).unwrap();
    assert_eq!(inv.signing_ds(at).unwrap().serial, a.serial());
    assert_eq!(
        inv.signing_ds(datetime!(2026-06-01 00:00:00 UTC))
            .unwrap()
            .serial,
        a.serial()
    );
    assert!(inv.signing_ds(datetime!(2026-06-01 00:00:01 UTC)).is_none());
    assert!(inv.needs_rotation(datetime!(2026-06-01 00:00:01 UTC)));
}

#[test]
fn needs_rotation_flips_after_rotate_every() {
    let iaca = Iaca::new(None);
    let a = installed(
        &iaca,
        datetime!(2026-01-01 00:00:00 UTC),
        datetime!(2027-01-01 00:00:00 UTC),
    );
    let mut inv = DsInventory::default();
    assert!(inv.needs_rotation(AT)); // empty
                                     // Installed two days after notBefore: the clock starts at installation.
    inv.add(&a, &uri(1), datetime!(2026-01-03 00:00:00 UTC))
        .unwrap();
    assert!(inv.signing_ds(datetime!(2026-01-02 00:00:00 UTC)).is_none());
    assert!(!inv.needs_rotation(datetime!(2026-04-03 23:59:59 UTC)));
    assert!(inv.needs_rotation(datetime!(2026-04-04 00:00:00 UTC)));
    assert!(inv.signing_ds(datetime!(2026-04-17 23:59:59 UTC)).is_some());
    assert!(inv.signing_ds(datetime!(2026-04-18 00:00:00 UTC)).is_none());
}

// ---------------------------------------------------------------- PKCS#11

/// The full loop with the key generated inside a SoftHSM2 token. Ignored by a plain
/// `cargo test`; `scripts/test.sh` installs SoftHSM2 and runs it (it fails if SoftHSM2 is
/// missing).
#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn full_loop_with_pkcs11_token() {
    // A private SoftHSM2 configuration, set before the module is loaded; no other test in
    // this binary loads a PKCS#11 module.
    let hsm = test_kit::softhsm::SoftHsm::init(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        &[test_kit::softhsm::Token {
            label: "issuer-ds",
            so_pin: b"12345678",
            pin: b"87654321",
        }],
    )
    .expect("SoftHSM2 set-up: run `bash scripts/softhsm.sh`");
    let module = hsm.module;

    let keys = DsKeys::open(KeystoreConfig::Pkcs11 {
        module,
        token: "issuer-ds".into(),
        pin: zeroize::Zeroizing::new(b"87654321".to_vec()),
    })
    .unwrap();
    assert!(!keys.is_dev_only());
    let generated = keys.generate("ds-2026q1", Algorithm::Es256).unwrap();
    assert_eq!(
        generated.uri.to_string(),
        "pkcs11:token=issuer-ds;object=ds-2026q1"
    );
    assert!(matches!(
        keys.generate("ds-2026q1", Algorithm::Es256),
        Err(DsError::Keystore(custody::Error::KeyExists(_)))
    ));
    let iaca = Iaca::new(None);
    let csr = generate_csr(generated.signer.as_ref(), &subject()).unwrap();
    let cert = certify(&iaca, &csr, &DsOpts::default());
    let installed =
        install_certificate(&cert, generated.signer.as_ref(), &[iaca.parsed()], AT).unwrap();
    let reopened = keys.open_key(&generated.uri).unwrap();
    assert_eq!(
        reopened.public_key().unwrap(),
        installed.certificate().public_key().unwrap()
    );
}

// ---------------------------------------------------------------- list signer

/// A list signer's certificate (no extendedKeyUsage) installs as a list signer and is refused
/// as a DS; a DS certificate is refused as a list signer (a key signs MSOs or lists, never
/// both); past Table B.9's 1187 days it is refused.
#[test]
fn list_signer_and_ds_certificates_install_only_in_their_own_role() {
    let iaca = Iaca::new(None);
    let ls_opts = DsOpts {
        eku: Eku::None,
        ..DsOpts::default()
    };
    let (key, cert) = ds(&iaca, &ls_opts);
    // (The rcgen test CA's encoding findings stay warnings, as for a DS.)
    let installed = install_list_signer_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap();
    assert_eq!(installed.der(), cert.as_slice());
    let as_ds = install_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap_err();
    assert_finding(
        &as_ds,
        &Violation::MissingExtension {
            oid: oid::EXT_KEY_USAGE,
        },
    );

    let (key, cert) = ds(&iaca, &DsOpts::default());
    let as_ls = install_list_signer_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap_err();
    assert_finding(
        &as_ls,
        &Violation::ExtendedKeyUsage {
            expected: None,
            found: vec![oid::MDL_DS_EKU],
        },
    );

    let long = DsOpts {
        eku: Eku::None,
        not_after: datetime!(2026-01-01 00:00:00 UTC) + Duration::days(1188),
        ..DsOpts::default()
    };
    let (key, cert) = ds(&iaca, &long);
    match install_list_signer_certificate(&cert, &key, &[iaca.parsed()], AT).unwrap_err() {
        DsError::Profile { findings } => assert!(
            findings
                .iter()
                .any(|f| matches!(&f.violation, Violation::ValidityTooLong { limit, .. } if limit == "1187 days")),
            "{findings:?}"
        ),
        other => panic!("expected a profile refusal, got {other:?}"),
    }
}
