//! The less common verification outcomes: certificate windows, inconsistent validity,
//! device-signed elements and keyAuthorizations, failing signers, issuance properties.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use std::collections::{BTreeMap, BTreeSet};

use mso::cbor::{from_slice, Limits, Value};
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{
    DeviceKeyInfo, DeviceNameSpaces, DeviceResponse, Handover, IssuerSigned, KeyAuthorizations,
    SessionTranscript, MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::present::{device_response, present_with_device_signed};
use mso::verify::{
    verify_device_response, verify_issuer_signed, CheckKind, DeviceAuthInput, Failure, IssuerTrust,
    VerifyOptions,
};
use mso::Error;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn opts(trust: &IssuerTrust, at: OffsetDateTime) -> VerifyOptions<'_> {
    VerifyOptions {
        skew: Duration::ZERO,
        ..VerifyOptions::new(at, trust, &SoftwareVerifier)
    }
}

#[test]
fn ds_certificate_not_yet_valid() {
    let pki = pki::TestPki::with_ds_validity(
        datetime!(2026-07-01 00:00:00 UTC),
        datetime!(2027-07-01 00:00:00 UTC),
    );
    let device = SoftwareKey::generate(Algorithm::Es256);
    let is = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let r = verify_issuer_signed(&is, Some(MDL_DOCTYPE), &opts(&trust, pki::AT));
    assert!(matches!(
        r.outcome(CheckKind::DsValidity),
        Some(Err(Failure::CertificateNotYetValid { which: "DS", .. }))
    ));
    assert!(!r.is_valid());
}

#[test]
fn skew_is_applied_to_every_window() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let is = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    // validFrom is 2026-05-01T09:30:00Z: ten minutes early fails without skew, passes with 15.
    let early = datetime!(2026-05-01 09:20:00 UTC);
    assert!(!verify_issuer_signed(&is, Some(MDL_DOCTYPE), &opts(&trust, early)).is_valid());
    let mut o = opts(&trust, early);
    o.skew = Duration::minutes(15);
    assert!(verify_issuer_signed(&is, Some(MDL_DOCTYPE), &o).is_valid());
}

#[test]
fn iaca_outside_its_validity() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let is = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    // The IACA ends 2030-05-01: checking then reports the IACA as well as the DS and MSO.
    let r = verify_issuer_signed(
        &is,
        Some(MDL_DOCTYPE),
        &opts(&trust, datetime!(2031-01-01 00:00:00 UTC)),
    );
    assert!(matches!(
        r.outcome(CheckKind::IacaValidity),
        Some(Err(Failure::CertificateExpired { which: "IACA", .. }))
    ));
}

#[test]
fn inconsistent_validity_info_is_reported() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    // The builder refuses it, so sign an MSO whose validFrom is after validUntil by hand.
    let mut v = mso::issue::validity_for_days(datetime!(2026-05-01 00:00:00 UTC), 30);
    v.valid_from = mso::cbor::TDate::new(datetime!(2026-07-01 00:00:00 UTC));
    let is = mdl::mdl_builder(&device.public_key().unwrap())
        .validity(mso::issue::validity_for_days(
            datetime!(2026-05-01 00:00:00 UTC),
            30,
        ))
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap();
    let mut mso_value = is.mso().clone();
    mso_value.validity_info = v;
    let tagged = mso::cbor::Tag24::new(mso_value);
    let sign1 = mso::cose::PreparedSign1::new(
        Algorithm::Es256,
        tagged.tagged_bytes().to_vec(),
        std::slice::from_ref(&pki.ds_der),
        false,
    )
    .unwrap()
    .sign(&pki.ds_key)
    .unwrap();
    let forged = IssuerSigned {
        name_spaces: None,
        issuer_auth: mso::model::IssuerAuth::from_sign1(sign1, &Limits::DEFAULT).unwrap(),
    };
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let r = verify_issuer_signed(&forged, Some(MDL_DOCTYPE), &opts(&trust, pki::AT));
    assert_eq!(
        r.outcome(CheckKind::MsoValidity),
        Some(&Err(Failure::MsoValidityInconsistent))
    );
}

struct FailingHsm;

impl Signer for FailingHsm {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }
    fn public_key(&self) -> mso::Result<PublicKey> {
        Err(Error::Signer("token not present".into()))
    }
    fn sign(&self, _: &[u8]) -> mso::Result<Vec<u8>> {
        Err(Error::Signer("token not present".into()))
    }
}

#[test]
fn a_failing_signer_produces_nothing() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let prepared = mdl::mdl_builder(&device.public_key().unwrap())
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap();
    assert_eq!(
        prepared.sign(&FailingHsm).unwrap_err(),
        Error::Signer("token not present".into())
    );
}

fn present_with_elements(authorizations: Option<KeyAuthorizations>) -> mso::verify::ResponseReport {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let mut info = DeviceKeyInfo::new(&device.public_key().unwrap());
    info.key_authorizations = authorizations;
    let is = mdl::mdl_builder(&device.public_key().unwrap())
        .device_key_info(info)
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&pki.ds_key)
        .unwrap();
    let transcript = SessionTranscript::online(&Handover::Iso18013_7AnnexC {
        encryption_info_b64: "AQID".into(),
        origin: "https://verifier.example.jp".into(),
    });
    let mut elems = BTreeMap::new();
    elems.insert("age_over_21".to_owned(), Value::Bool(true));
    let mut ns = BTreeMap::new();
    ns.insert(MDL_NAMESPACE.to_owned(), elems);
    let doc =
        present_with_device_signed(&is, None, DeviceNameSpaces(ns), &transcript, &device).unwrap();
    let bytes = mso::cbor::to_vec(&device_response(vec![doc]));
    let response: DeviceResponse = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    verify_device_response(
        &response,
        &DeviceAuthInput {
            transcript: &transcript,
            e_reader_key: None,
        },
        &opts(&trust, pki::AT),
    )
}

#[test]
fn device_signed_elements_need_key_authorizations() {
    let r = present_with_elements(None);
    let doc = &r.documents[0];
    assert_eq!(doc.outcome(CheckKind::DeviceAuthentication), Some(&Ok(())));
    assert_eq!(
        doc.outcome(CheckKind::DeviceSignedAuthorized),
        Some(&Err(Failure::NotAuthorized))
    );
    assert!(!r.is_valid());

    let by_namespace = present_with_elements(Some(KeyAuthorizations {
        name_spaces: Some(vec![MDL_NAMESPACE.into()]),
        data_elements: None,
    }));
    assert!(
        by_namespace.is_valid(),
        "{:?}",
        by_namespace.failures().collect::<Vec<_>>()
    );

    let mut de = BTreeMap::new();
    de.insert(MDL_NAMESPACE.to_owned(), vec!["age_over_21".to_owned()]);
    let by_element = present_with_elements(Some(KeyAuthorizations {
        name_spaces: None,
        data_elements: Some(de),
    }));
    assert!(by_element.is_valid());

    let mut other = BTreeMap::new();
    other.insert(MDL_NAMESPACE.to_owned(), vec!["age_over_18".to_owned()]);
    let wrong_element = present_with_elements(Some(KeyAuthorizations {
        name_spaces: None,
        data_elements: Some(other),
    }));
    assert!(!wrong_element.is_valid());
}

#[test]
fn issuance_salts_digest_ids_decoys_and_order() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let mut orders = BTreeSet::new();
    let mut salts = BTreeSet::new();
    for _ in 0..8 {
        let is = mdl::mdl_builder(&device)
            .decoy_digests(5)
            .prepare(
                Algorithm::Es256,
                std::slice::from_ref(&pki.ds_der),
                &mut rand_core::OsRng,
            )
            .unwrap()
            .sign(&pki.ds_key)
            .unwrap();
        let items = &is.name_spaces.as_ref().unwrap()[MDL_NAMESPACE];
        let mso = is.issuer_auth.mso().value();
        let digests = &mso.value_digests[MDL_NAMESPACE];
        assert_eq!(
            digests.len(),
            items.len() + 5,
            "decoys are added to the MSO"
        );
        let ids: BTreeSet<u64> = items.iter().map(|i| i.value().digest_id).collect();
        assert_eq!(ids.len(), items.len(), "digestIDs are unique");
        assert!(digests.keys().all(|id| *id < (1 << 31)), "digestIDs < 2^31");
        for i in items {
            assert!(i.value().random.len() >= 16);
            assert!(
                salts.insert(i.value().random.clone()),
                "salts are never reused"
            );
        }
        orders.insert(
            items
                .iter()
                .map(|i| i.value().element_identifier.clone())
                .collect::<Vec<_>>(),
        );
        // The MSO records the deterministic encoding, and validity and binding as requested.
        assert_eq!(mso.device_key_info.public_key().unwrap(), device);
        assert_eq!(mso.version, "1.0");
    }
    assert!(orders.len() > 1, "items are shuffled");
}

#[test]
fn es384_issuer_and_sha384_digests_verify() {
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let ds_key = SoftwareKey::generate(Algorithm::Es384);
    let ds = pki.issue_ds(&ds_key, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let is = mdl::mdl_builder(&device.public_key().unwrap())
        .digest_algorithm(mso::crypto::DigestAlgorithm::Sha384)
        .prepare(
            Algorithm::Es384,
            std::slice::from_ref(&ds),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&ds_key)
        .unwrap();
    let back: IssuerSigned = from_slice(&mso::cbor::to_vec(&is), &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    let r = verify_issuer_signed(&back, Some(MDL_DOCTYPE), &opts(&trust, pki::AT));
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
}
