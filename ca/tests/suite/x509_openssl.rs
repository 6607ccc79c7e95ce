//! Interoperability with OpenSSL's path validation (`openssl verify -x509_strict`) and CRL
//! checks, as PROFILES.md requires. Needs the `openssl` binary (OpenSSL 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::x509_common;

use mdoc_ca::crl::RevokedEntry;
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::profile::build_ds;
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use time::Duration;
use x509_common::*;

fn verify(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String) {
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"verify", &"-x509_strict"];
    all.extend_from_slice(args);
    let (ok, out) = run("openssl", &all);
    eprintln!("openssl verify: {}", out.trim());
    (ok, out)
}

fn crl_verify(dir: &Dir, ca: &std::path::Path, crl: &std::path::Path) {
    let (ok, out) = run(
        "openssl",
        &[&"crl", &"-verify", &"-CAfile", &ca, &"-in", &crl, &"-noout"],
    );
    eprintln!("openssl crl -verify: {}", out.trim());
    assert!(ok && out.contains("verify OK"), "{out}");
    let _ = dir;
}

#[test]
fn ds_verifies_then_is_revoked() {
    let dir = Dir::new();
    let key = iaca_key();
    let iaca = make_iaca(&key, now() - Duration::days(10));
    let ds = make_ds(&iaca, &key, now());
    let iaca_pem = dir.cert("iaca.pem", &iaca);
    let ds_pem = dir.cert("ds.pem", &ds);
    let t = now();

    // Empty CRL, number 1: OK.
    let crl1 = dir.crl("iaca1.crl", &crl(&iaca, &key, 1, t, &[]));
    crl_verify(&dir, &iaca_pem, &crl1);
    let (ok, out) = verify(&[
        &"-CAfile",
        &iaca_pem,
        &"-crl_check",
        &"-CRLfile",
        &crl1,
        &ds_pem,
    ]);
    assert!(ok && out.contains("ds.pem: OK"), "{out}");

    // A later CRL (higher number) listing the DS serial (and a few others): revoked.
    let others: Vec<RevokedEntry> = (1u8..=3)
        .map(|i| RevokedEntry {
            serial: vec![0x42, i],
            revocation_date: t,
        })
        .collect();
    let mut revoked = others.clone();
    revoked.push(RevokedEntry {
        serial: serial_of(&ds),
        revocation_date: t + Duration::minutes(5),
    });
    let crl2_der = crl(&iaca, &key, 2, t + Duration::minutes(10), &revoked);
    let crl2 = dir.crl("iaca2.crl", &crl2_der);
    crl_verify(&dir, &iaca_pem, &crl2);
    let (ok, out) = verify(&[
        &"-CAfile",
        &iaca_pem,
        &"-crl_check",
        &"-CRLfile",
        &crl2,
        &ds_pem,
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");

    // Both CRLs offered: OpenSSL picks the newer one.
    let both = dir.write(
        "both.crl",
        format!(
            "{}{}",
            std::fs::read_to_string(&crl1).unwrap(),
            std::fs::read_to_string(&crl2).unwrap()
        )
        .as_bytes(),
    );
    let (ok, out) = verify(&[
        &"-CAfile",
        &iaca_pem,
        &"-crl_check",
        &"-CRLfile",
        &both,
        &ds_pem,
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");

    // The same serials without the DS: OK again.
    let crl3 = dir.crl(
        "iaca3.crl",
        &crl(&iaca, &key, 3, t + Duration::minutes(10), &others),
    );
    let (ok, out) = verify(&[
        &"-CAfile",
        &iaca_pem,
        &"-crl_check",
        &"-CRLfile",
        &crl3,
        &ds_pem,
    ]);
    assert!(ok, "{out}");

    // openssl's own reading of the CRL.
    let (ok, text) = run("openssl", &[&"crl", &"-in", &crl2, &"-noout", &"-text"]);
    assert!(ok, "{text}");
    eprintln!("{text}");
    assert!(text.contains("Version 2"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    assert!(!text.contains("Reason"), "{text}");
}

#[test]
fn ds_with_other_curves_verifies() {
    // Mixed curves (INTEROP 11): P-384 IACA, P-256 / P-384 DS keys (rcgen), P-521 (openssl).
    let dir = Dir::new();
    let key = iaca_key();
    let iaca = make_iaca(&key, now());
    let iaca_pem = dir.cert("iaca.pem", &iaca);
    let crl = dir.crl("iaca.crl", &crl(&iaca, &key, 1, now(), &[]));
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
    ] {
        let csr = parse_csr(
            &rcgen_csr(alg, Some("JP"), None, "DS mixed"),
            &CsrPolicy::default(),
        )
        .unwrap();
        let ds = build_ds(&csr, &iaca, &ds_params(now()), &key).unwrap();
        let ds_pem = dir.cert("ds.pem", &ds);
        let (ok, out) = verify(&[
            &"-CAfile",
            &iaca_pem,
            &"-crl_check",
            &"-CRLfile",
            &crl,
            &ds_pem,
        ]);
        assert!(ok, "{out}");
    }
}

#[test]
fn p256_and_p521_iacas_verify_too() {
    let dir = Dir::new();
    for alg in [Algorithm::Es256, Algorithm::Es512] {
        let key = SoftwareKey::generate(alg);
        let mut params = iaca_params(now());
        params
            .policy
            .iaca_curves
            .push(key.public_key().unwrap().curve());
        let iaca = mdoc_ca::profile::build_iaca(&params, &key).unwrap();
        let ds = make_ds(&iaca, &key, now());
        let iaca_pem = dir.cert("iaca.pem", &iaca);
        let ds_pem = dir.cert("ds.pem", &ds);
        let crl = dir.crl("iaca.crl", &crl(&iaca, &key, 1, now(), &[]));
        crl_verify(&dir, &iaca_pem, &crl);
        let (ok, out) = verify(&[
            &"-CAfile",
            &iaca_pem,
            &"-crl_check",
            &"-CRLfile",
            &crl,
            &ds_pem,
        ]);
        assert!(ok, "{alg}: {out}");
    }
}

#[test]
fn rollover_links_bridge_old_and_new_roots() {
    let dir = Dir::new();
    let r = rollover();
    let old_pem = dir.cert("old_iaca.pem", &r.old_iaca);
    let new_pem = dir.cert("new_iaca.pem", &r.new_iaca);
    let nwo_pem = dir.cert("newwithold.pem", &r.new_with_old);
    let own_pem = dir.cert("oldwithnew.pem", &r.old_with_new);
    let ds_new = dir.cert("ds_new.pem", &make_ds(&r.new_iaca, &r.new_key, now()));
    // The old root expires in about 4 months: a DS under it must end before (refused
    // otherwise), so this one is clipped to the old root's validity.
    let mut old_params = ds_params(now() - Duration::days(30));
    old_params.clip_to_issuer_validity = true;
    let ds_old_der = build_ds(&ds_csr(), &r.old_iaca, &old_params, &r.old_key).unwrap();
    let ds_old = dir.cert("ds_old.pem", &ds_old_der);

    // A relying party that still trusts only the OLD root accepts a DS of the NEW key
    // through NewWithOld.
    let (ok, out) = verify(&[&"-CAfile", &old_pem, &"-untrusted", &nwo_pem, &ds_new]);
    assert!(ok && out.contains("ds_new.pem: OK"), "{out}");
    // ... and not without it.
    let (ok, out) = verify(&[&"-CAfile", &old_pem, &ds_new]);
    assert!(!ok, "{out}");

    // One that trusts only the NEW root accepts a DS of the OLD key through OldWithNew.
    let (ok, out) = verify(&[&"-CAfile", &new_pem, &"-untrusted", &own_pem, &ds_old]);
    assert!(ok && out.contains("ds_old.pem: OK"), "{out}");

    // Each DS verifies directly under its own root.
    let (ok, out) = verify(&[&"-CAfile", &new_pem, &ds_new]);
    assert!(ok, "{out}");
    let (ok, out) = verify(&[&"-CAfile", &old_pem, &ds_old]);
    assert!(ok, "{out}");

    // The links themselves verify under their issuers.
    let (ok, out) = verify(&[&"-CAfile", &old_pem, &nwo_pem]);
    assert!(ok, "{out}");
    let (ok, out) = verify(&[&"-CAfile", &new_pem, &own_pem]);
    assert!(ok, "{out}");

    // CRLs of both roots.
    for (pem, key, iaca) in [
        (&old_pem, &r.old_key, &r.old_iaca),
        (&new_pem, &r.new_key, &r.new_iaca),
    ] {
        let c = dir.crl("x.crl", &crl(iaca, key, 5, now(), &[]));
        crl_verify(&dir, pem, &c);
    }
}
