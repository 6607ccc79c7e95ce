//! PKCS#10 parsing, proof of possession and key validation, with good and bad requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::x509_common;

use der::asn1::{Any, BitString, SetOfVec};
use der::{Decode, Encode};
use mdoc_ca::csr::{parse_csr, CsrError, CsrPolicy};
use mdoc_ca::profile::SubjectName;
use mso::crypto::Curve;
use mso::x509::oid;
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_common::*;

fn policy() -> CsrPolicy {
    CsrPolicy::default()
}

/// An openssl-made request (DER) for a key made by `genkey_args` (an `openssl` command line
/// writing the key to the file given after it).
fn openssl_csr(dir: &Dir, name: &str, genkey: &[&str]) -> Vec<u8> {
    openssl_csr_with(dir, name, genkey, &[])
}

fn openssl_csr_with(dir: &Dir, name: &str, genkey: &[&str], req_args: &[&str]) -> Vec<u8> {
    let key = dir.path(&format!("{name}.key"));
    let csr = dir.path(&format!("{name}.der"));
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = genkey
        .iter()
        .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
        .collect();
    args.push(&"-out");
    args.push(&key);
    let (ok, out) = run("openssl", &args);
    assert!(ok, "{out}");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"req",
        &"-new",
        &"-key",
        &key,
        &"-subj",
        &"/C=JP/O=Digital Agency/CN=DS openssl",
        &"-outform",
        &"DER",
        &"-out",
        &csr,
    ];
    args.extend(req_args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    let (ok, out) = run("openssl", &args);
    assert!(ok, "{out}");
    std::fs::read(csr).unwrap()
}

#[test]
fn rcgen_requests_parse_in_der_and_pem() {
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
    ] {
        let der = rcgen_csr(alg, Some("JP"), None, "DS 1");
        let csr = parse_csr(&der, &policy()).unwrap();
        assert!(matches!(csr.public_key.curve(), Curve::P256 | Curve::P384));
        use sha2::Digest;
        assert_eq!(
            csr.spki_sha256,
            <[u8; 32]>::from(sha2::Sha256::digest(&csr.spki_der))
        );
        let pem = pem("CERTIFICATE REQUEST", &der);
        assert_eq!(parse_csr(pem.as_bytes(), &policy()).unwrap(), csr);
        let padded = format!("\n  {pem}\n");
        assert_eq!(parse_csr(padded.as_bytes(), &policy()).unwrap(), csr);
    }
}

#[test]
fn openssl_p521_request_parses_unless_the_policy_excludes_it() {
    let dir = Dir::new();
    let genkey = ["ecparam", "-name", "secp521r1", "-genkey", "-noout"];
    // openssl's default digest is SHA-256, too short for P-521 in the ECDSA backend: refused
    // with a clear message rather than as a bad signature.
    let sha256 = openssl_csr(&dir, "p521", &genkey);
    let err = parse_csr(&sha256, &policy()).unwrap_err();
    assert!(
        matches!(err, CsrError::UnsupportedSignatureAlgorithm(_)),
        "{err:?}"
    );
    let der = openssl_csr_with(&dir, "p521", &genkey, &["-sha512"]);
    let csr = parse_csr(&der, &policy()).unwrap();
    assert_eq!(csr.public_key.curve(), Curve::P521);
    let strict = CsrPolicy {
        allowed_curves: vec![Curve::P256],
        ..policy()
    };
    assert_eq!(
        parse_csr(&der, &strict).unwrap_err(),
        CsrError::UnsupportedCurve("P-521".into())
    );
}

#[test]
fn malformed_requests_are_refused() {
    let good = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS 1");
    for bad in [
        b"".to_vec(),
        b"garbage".to_vec(),
        good[..good.len() - 1].to_vec(),
        [good.clone(), vec![0]].concat(),
        pem("CERTIFICATE", &good).into_bytes(),
        b"-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n".to_vec(),
    ] {
        let err = parse_csr(&bad, &policy()).unwrap_err();
        assert!(matches!(err, CsrError::Malformed(_)), "{err:?}");
    }
    let huge = vec![0x30; 20_000];
    assert_eq!(
        parse_csr(&huge, &policy()).unwrap_err(),
        CsrError::TooLarge {
            size: 20_000,
            limit: 16 * 1024
        }
    );
}

#[test]
fn bad_signatures_are_refused() {
    let good = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS 1");
    // Last byte of the signature.
    let mut sig = good.clone();
    *sig.last_mut().unwrap() ^= 0x01;
    let err = parse_csr(&sig, &policy()).unwrap_err();
    assert!(matches!(err, CsrError::BadSignature(_)), "{err:?}");
    // A byte of the signed subject ("DS 1" → "DS 2").
    let pos = good.windows(4).position(|w| w == b"DS 1").unwrap();
    let mut tampered = good.clone();
    tampered[pos + 3] = b'2';
    let err = parse_csr(&tampered, &policy()).unwrap_err();
    assert!(matches!(err, CsrError::BadSignature(_)), "{err:?}");
}

#[test]
fn unsupported_curves_and_algorithms_are_refused() {
    let dir = Dir::new();
    let k1 = openssl_csr(
        &dir,
        "k1",
        &["ecparam", "-name", "secp256k1", "-genkey", "-noout"],
    );
    let err = parse_csr(&k1, &policy()).unwrap_err();
    assert_eq!(
        err,
        CsrError::UnsupportedCurve("secp256k1 (1.3.132.0.10)".into())
    );
    assert!(err.to_string().contains("secp256k1"));

    let explicit = openssl_csr(
        &dir,
        "explicit",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-param_enc",
            "explicit",
            "-genkey",
            "-noout",
        ],
    );
    let err = parse_csr(&explicit, &policy()).unwrap_err();
    assert!(matches!(err, CsrError::UnsupportedCurve(_)), "{err:?}");

    let rsa = openssl_csr(
        &dir,
        "rsa",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
    );
    let err = parse_csr(&rsa, &policy()).unwrap_err();
    assert_eq!(
        err,
        CsrError::UnsupportedKeyAlgorithm("1.2.840.113549.1.1.1".into())
    );

    let ed = openssl_csr(&dir, "ed", &["genpkey", "-algorithm", "ed25519"]);
    let err = parse_csr(&ed, &policy()).unwrap_err();
    assert_eq!(err, CsrError::UnsupportedCurve("Ed25519".into()));
    let with_ed = CsrPolicy {
        allowed_curves: vec![Curve::Ed25519],
        ..policy()
    };
    assert_eq!(
        parse_csr(&ed, &with_ed).unwrap().public_key.curve(),
        Curve::Ed25519
    );
}

fn forged_request(point: &[u8]) -> Vec<u8> {
    let subject = SubjectName {
        country: "JP".into(),
        state_or_province: None,
        organization: None,
        common_name: "forged".into(),
    }
    .to_name()
    .unwrap();
    CertReq {
        info: CertReqInfo {
            version: Version::V1,
            subject,
            public_key: spki::SubjectPublicKeyInfoOwned {
                algorithm: spki::AlgorithmIdentifierOwned {
                    oid: oid::EC_PUBLIC_KEY,
                    parameters: Some(Any::encode_from(&oid::SECP256R1).unwrap()),
                },
                subject_public_key: BitString::from_bytes(point).unwrap(),
            },
            attributes: SetOfVec::new(),
        },
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])
            .unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn invalid_points_are_refused() {
    // The identity (SEC1 0x00), and a point off the curve.
    let err = parse_csr(&forged_request(&[0x00]), &policy()).unwrap_err();
    assert!(matches!(err, CsrError::InvalidKey(_)), "{err:?}");
    let good = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS 1");
    let req = CertReq::from_der(&good).unwrap();
    let mut point = req.info.public_key.subject_public_key.raw_bytes().to_vec();
    *point.last_mut().unwrap() ^= 0x01;
    let err = parse_csr(&forged_request(&point), &policy()).unwrap_err();
    assert!(matches!(err, CsrError::InvalidKey(_)), "{err:?}");
}

#[test]
fn blocked_keys_are_refused() {
    let der = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS 1");
    let digest = parse_csr(&der, &policy()).unwrap().spki_sha256;
    let blocking = CsrPolicy {
        blocked_spki_sha256: vec![digest],
        ..policy()
    };
    assert_eq!(
        parse_csr(&der, &blocking).unwrap_err(),
        CsrError::BlockedKey
    );
}
