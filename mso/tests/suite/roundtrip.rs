//! Issue → encode → decode → verify, and the checks that must fail when something is off.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use mso::cbor::{from_slice, to_vec, Limits};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{DeviceResponse, Handover, IssuerSigned, SessionTranscript, MDL_DOCTYPE};
use mso::present::{device_response, present_with_signature};
use mso::verify::{
    verify_device_response, verify_issuer_signed, CheckKind, DeviceAuthInput, IssuerTrust,
    VerifyOptions,
};

fn opts(trust: &IssuerTrust) -> VerifyOptions<'_> {
    VerifyOptions::new(pki::AT, trust, &SoftwareVerifier)
}

#[test]
fn issued_mdl_round_trips_and_verifies_against_the_iaca() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let bytes = to_vec(&issued);
    let decoded: IssuerSigned = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    assert!(decoded == issued, "decode(encode(x)) == x");
    assert_eq!(to_vec(&decoded), bytes, "deterministic re-encoding");

    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let report = verify_issuer_signed(&decoded, Some(MDL_DOCTYPE), &opts(&trust));
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    let digests = report
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ValueDigest)
        .count();
    assert_eq!(digests, 12);
}

#[test]
fn device_response_with_device_signature_verifies() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let transcript = SessionTranscript::online(&Handover::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    });
    let doc = present_with_signature(&issued, None, &transcript, &device).unwrap();
    let bytes = to_vec(&device_response(vec![doc]));
    let response: DeviceResponse = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let session = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: None,
    };
    let report = verify_device_response(&response, &session, &opts(&trust));
    assert!(
        report.is_valid(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );

    // A different transcript (another verifier's nonce) must fail device authentication only.
    let other = SessionTranscript::online(&Handover::OpenId4Vp {
        client_id: "x509_san_dns:verifier.example.jp".into(),
        nonce: "another".into(),
        jwk_thumbprint: None,
        response_uri: "https://verifier.example.jp/response".into(),
    });
    let session = DeviceAuthInput {
        transcript: &other,
        e_reader_key: None,
    };
    let report = verify_device_response(&response, &session, &opts(&trust));
    assert!(!report.is_valid());
    let failed: Vec<_> = report.documents[0].failures().map(|c| c.kind).collect();
    assert_eq!(failed, vec![CheckKind::DeviceAuthentication]);
}
