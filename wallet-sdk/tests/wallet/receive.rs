//! Receiving: a verified batch is stored; each refusal stores nothing and deletes the keys.

use mso::cbor::to_vec;
use mso::crypto::Signer as _;
use mso::issue::validity_for_days;
use mso::model::MDL_DOCTYPE;
use rand_core::OsRng;
use test_kit::{mdl, pki::TestPki};
use time::macros::datetime;
use wallet_sdk::{IssuedCredential, RefusalReason, WalletError};

use crate::common::{at, Fixture};

const ISSUER: &str = "https://issuer.example.jp";

#[test]
fn a_verified_batch_is_stored_with_its_metadata() {
    let f = Fixture::new();
    let issued = f.issue(3);
    let summary = f
        .wallet
        .accept_credentials(MDL_DOCTYPE.into(), issued.clone(), ISSUER.into(), at())
        .unwrap();
    assert_eq!(summary.doc_type, MDL_DOCTYPE);
    assert_eq!(summary.issuer, ISSUER);
    assert_eq!(summary.msos.len(), 3);
    let aliases: Vec<_> = summary.msos.iter().map(|m| m.key_alias.clone()).collect();
    let expected: Vec<_> = issued.iter().map(|i| i.key_alias.clone()).collect();
    assert_eq!(aliases, expected);
    let m = &summary.msos[0];
    assert_eq!(m.use_count, 0);
    assert_eq!(
        m.valid_from,
        datetime!(2026-05-01 09:30:00 UTC).unix_timestamp()
    );
    assert!(m.valid_until > m.valid_from);
    assert_eq!(f.wallet.credentials().unwrap(), vec![summary.clone()]);

    let health = f
        .wallet
        .credential_health(summary.id.clone(), at())
        .unwrap();
    assert_eq!((health.total, health.unused, health.expired), (3, 3, 0));
    assert!(!health.runs_low && !health.needs_refresh);
    // A week before validUntil the app is told to refresh.
    let late = f
        .wallet
        .credential_health(summary.id.clone(), m.valid_until - 3600)
        .unwrap();
    assert!(late.nearing_expiry && late.needs_refresh);

    // Deleting the credential deletes its device keys.
    f.wallet.delete_credential(summary.id).unwrap();
    assert!(f.wallet.credentials().unwrap().is_empty());
    for alias in aliases {
        assert!(f.wallet.device_public_key(alias).is_err());
    }
}

/// Accepts `issued`, expecting a refusal for `reason`; checks nothing was stored and the
/// batch's keys are gone.
fn refused(f: &Fixture, issued: Vec<IssuedCredential>, doc_type: &str, reason: RefusalReason) {
    let puts = f.puts();
    let err = f
        .wallet
        .accept_credentials(doc_type.into(), issued.clone(), ISSUER.into(), at())
        .unwrap_err();
    match err {
        WalletError::CredentialRefused { reason: r, .. } => assert_eq!(r, reason, "{err}"),
        other => panic!("expected a refusal for {reason:?}, got {other}"),
    }
    assert_eq!(f.puts(), puts, "something was stored");
    assert!(f.wallet.credentials().unwrap().is_empty());
    for i in issued {
        assert!(f.wallet.device_public_key(i.key_alias).is_err(), "key kept");
    }
}

#[test]
fn refusals_store_nothing_and_delete_the_keys() {
    let f = Fixture::new();

    // Signed by a DS whose IACA the wallet does not trust.
    let other = TestPki::new();
    let mut issued = f.issue(1);
    let key = f.device_key(&issued[0].key_alias);
    issued[0].issuer_signed = to_vec(&mdl::issue_mdl(&other.ds_key, &other.ds_der, &key));
    refused(&f, issued, MDL_DOCTYPE, RefusalReason::UntrustedIssuer);

    // An element changed after signing (same length, so the CBOR stays well-formed).
    let mut issued = f.issue(2);
    let bytes = &mut issued[1].issuer_signed;
    let at_name = bytes.windows(6).position(|w| w == b"Yamada").unwrap();
    bytes[at_name + 5] = b'e';
    refused(&f, issued, MDL_DOCTYPE, RefusalReason::TamperedElement);

    // Bound to another of the wallet's keys.
    let mut issued = f.issue(2);
    let first = issued[0].issuer_signed.clone();
    issued[1].issuer_signed = first;
    refused(&f, issued, MDL_DOCTYPE, RefusalReason::BoundToAnotherKey);

    // Another doc type than the offer's.
    refused(
        &f,
        f.issue(1),
        "org.iso.23220.photoid.1",
        RefusalReason::WrongDocType,
    );

    // An MSO that expired before the time of receipt.
    let mut issued = f.issue(1);
    let key = f.device_key(&issued[0].key_alias);
    let expired = mdl::mdl_builder(&key)
        .validity(validity_for_days(datetime!(2026-05-01 09:30:00 UTC), 10))
        .prepare(
            f.pki.ds_key.algorithm(),
            std::slice::from_ref(&f.pki.ds_der),
            &mut OsRng,
        )
        .unwrap()
        .sign(&f.pki.ds_key)
        .unwrap();
    issued[0].issuer_signed = to_vec(&expired);
    refused(&f, issued, MDL_DOCTYPE, RefusalReason::Expired);

    // Not an IssuerSigned at all.
    let mut issued = f.issue(1);
    issued[0].issuer_signed = vec![0xa0];
    refused(&f, issued, MDL_DOCTYPE, RefusalReason::Malformed);
    assert_eq!(f.signs(), 0);
}

#[test]
fn a_refused_batch_never_deletes_keys_of_held_credentials() {
    let f = Fixture::new();
    let held = f.holding(1);
    let alias = f.wallet.credential(held.clone()).unwrap().msos[0]
        .key_alias
        .clone();
    let bad = IssuedCredential {
        issuer_signed: vec![0xa0],
        key_alias: alias.clone(),
    };
    assert!(f
        .wallet
        .accept_credentials(MDL_DOCTYPE.into(), vec![bad], ISSUER.into(), at())
        .is_err());
    f.wallet.device_public_key(alias).unwrap();
    assert_eq!(f.wallet.credentials().unwrap().len(), 1);
}
