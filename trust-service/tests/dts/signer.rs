//! The VICAL signer named by key URI, as operators configure it: a `file:` key of the
//! encrypted keystore, and a `pkcs11:` key inside SoftHSM2. Each signs a VICAL that verifies
//! under the VICAL root; a certificate for another key is refused at start.

use std::str::FromStr;

use custody::pkcs11::Pkcs11Token;
use custody::softstore::{KdfParams, SoftKeystore};
use custody::uri::KeyUri;
use mdoc_dts::config::VicalConfig;
use mdoc_dts::vical::VicalSigner;
use mso::crypto::{Algorithm, Signer, SoftwareVerifier};
use mso::vical::VerifiedVical;
use mso::x509::{Certificate, TrustAnchors};
use test_kit::vical::VicalPki;

use crate::fixture::*;

fn pem_chain(path: &std::path::Path, der: &[u8]) {
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(path, pem).unwrap();
}

fn config(key: &str, certificates: &std::path::Path, secret_env: &str) -> VicalConfig {
    VicalConfig {
        provider: "Test DTS".into(),
        key: key.into(),
        certificates: certificates.to_path_buf(),
        module: None,
        secret_env: secret_env.into(),
        doc_types: vec!["org.iso.18013.5.1.mDL".into()],
        validity_days: 30,
    }
}

/// Signs a VICAL over one root with `signer` and checks it under `vical_root`.
async fn signs_a_verifiable_vical(signer: VicalSigner, vical_root: &[u8]) {
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    env.ingest(&BundleDir::new().file("iaca/01.der", &root.der))
        .await
        .unwrap();
    let state = env.dts.store().state().await.unwrap();
    let public = mdoc_dts::layout::PublicUrl::parse(PUBLIC).unwrap();
    let record = signer.sign(&state, &public, T0).unwrap();
    let anchors = TrustAnchors::new(vec![Certificate::from_der(vical_root).unwrap()]);
    let v = VerifiedVical::verify(&record.bytes, T0 + DAY, &anchors, &SoftwareVerifier).unwrap();
    assert_eq!(v.entries()[0].certificate.der(), root.der.as_slice());
}

#[tokio::test]
async fn a_file_keystore_key_signs_and_a_certificate_for_another_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let key_path = tmp.path().join("vical.key");
    let secret = "vical keystore passphrase for the test";
    let key = SoftKeystore::generate_with(
        &key_path,
        Algorithm::Es256,
        secret.as_bytes(),
        &KdfParams::new(1024, 1, 1).unwrap(),
    )
    .unwrap();
    let (root_der, signer_der) = VicalPki::certify(
        "JP",
        T0 - 30 * DAY,
        T0 + 365 * DAY,
        &key.public_key().unwrap(),
    );
    let chain = tmp.path().join("chain.pem");
    pem_chain(&chain, &signer_der);
    // The variable is this test's own: no other test reads it.
    std::env::set_var("MDOC_DTS_TEST_FILE_SECRET", secret);
    let uri = format!("file:{}", key_path.display());
    let signer = VicalSigner::open(&config(&uri, &chain, "MDOC_DTS_TEST_FILE_SECRET")).unwrap();
    signs_a_verifiable_vical(signer, &root_der).await;

    let other = VicalPki::new("JP", T0 - 30 * DAY, T0 + 365 * DAY);
    pem_chain(&chain, &other.signer_der);
    let e = VicalSigner::open(&config(&uri, &chain, "MDOC_DTS_TEST_FILE_SECRET")).unwrap_err();
    assert!(
        e.to_string()
            .contains("not the one the signer certificate certifies"),
        "{e}"
    );
    let e = VicalSigner::open(&config(&uri, &chain, "MDOC_DTS_TEST_UNSET")).unwrap_err();
    assert!(e.to_string().contains("MDOC_DTS_TEST_UNSET"), "{e}");
}

#[tokio::test]
#[ignore = "needs SoftHSM2 (scripts/test.sh installs it)"]
async fn a_pkcs11_key_in_softhsm_signs() {
    let hsm = test_kit::softhsm::SoftHsm::init(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        &[test_kit::softhsm::Token {
            label: "dts",
            so_pin: b"so-pin-1234",
            pin: b"user-pin-1234",
        }],
    )
    .unwrap();
    let public = {
        let token = Pkcs11Token::activate(&hsm.module, "dts", b"user-pin-1234").unwrap();
        let key = token.generate("vical-signer", Algorithm::Es256).unwrap();
        let public = key.public_key().unwrap();
        token.close().unwrap();
        public
    };
    let (root_der, signer_der) = VicalPki::certify("JP", T0 - 30 * DAY, T0 + 365 * DAY, &public);
    let tmp = tempfile::tempdir().unwrap();
    let chain = tmp.path().join("chain.pem");
    pem_chain(&chain, &signer_der);
    std::env::set_var("MDOC_DTS_TEST_PIN", "user-pin-1234");
    let uri = KeyUri::pkcs11("dts", "vical-signer").unwrap().to_string();
    assert!(KeyUri::from_str(&uri).is_ok());
    let mut cfg = config(&uri, &chain, "MDOC_DTS_TEST_PIN");
    cfg.module = Some(hsm.module.clone());
    let signer = VicalSigner::open(&cfg).unwrap();
    signs_a_verifiable_vical(signer, &root_der).await;
}
