//! Revocation and status in document verification: DS on the CRL, CRL freshness policy,
//! issuing_country against the DS certificate, MSO status via Status List and Identifier List
//! tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use mso::cbor::Value;
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::issue::{validity_for_days, MdocBuilder};
use mso::model::{
    IdentifierListRef, IssuerSigned, Status as MsoStatus, StatusListRef, MDL_DOCTYPE, MDL_NAMESPACE,
};
use mso::status::{
    IdentifierList, IdentifierListToken, Status, StatusList, StatusListToken, TokenClaims,
};
use mso::trust::*;
use mso::verify::{
    verify_issuer_signed, CheckKind, DocumentReport, Failure, IssuerTrust, ListToken,
    VerifyOptions, Warning,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const V: &SoftwareVerifier = &SoftwareVerifier;
const THIS_UPDATE: OffsetDateTime = datetime!(2026-05-31 00:00:00 UTC);
const NEXT_UPDATE: OffsetDateTime = datetime!(2026-06-07 00:00:00 UTC);
const STATUS_URI: &str = "https://status.example.jp/lists/1";
const ID_URI: &str = "https://status.example.jp/ids/1";

fn doc(pki: &pki::TestPki) -> IssuerSigned {
    let device = SoftwareKey::generate(Algorithm::Es256);
    mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap())
}

fn verify_with(trust: &IssuerTrust, is: &IssuerSigned, tokens: &[ListToken<'_>]) -> DocumentReport {
    verify_issuer_signed(
        is,
        Some(MDL_DOCTYPE),
        &VerifyOptions {
            list_tokens: tokens,
            ..VerifyOptions::new(pki::AT, trust, V)
        },
    )
}

fn verify(store: &TrustStore, is: &IssuerSigned) -> DocumentReport {
    verify_with(&IssuerTrust::from(store.clone()), is, &[])
}

fn store(pki: &pki::TestPki, policy: RevocationPolicy) -> TrustStore {
    let mut s = TrustStore::new(policy);
    s.add_iaca(&pki.iaca_der, V).unwrap();
    s
}

fn failure(r: &DocumentReport, kind: CheckKind) -> Option<Failure> {
    r.outcome(kind).and_then(|o| o.clone().err())
}

// ---- DS revocation --------------------------------------------------------------------------

#[test]
fn revoked_ds_is_caught() {
    let pki = pki::TestPki::new();
    let is = doc(&pki);
    let mut s = store(&pki, RevocationPolicy::default());
    // A CRL listing other serials: passes.
    s.add_crl(
        &pki.crl(&[&[1, 2, 3]], 1, THIS_UPDATE, NEXT_UPDATE),
        pki::AT,
        V,
    )
    .unwrap();
    let r = verify(&s, &is);
    assert_eq!(r.outcome(CheckKind::DsRevocation), Some(&Ok(())));
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    assert!(r.warnings.is_empty());

    // A newer CRL lists the DS.
    let serial = pki.ds().serial_number().to_vec();
    let crl = pki.crl(&[&serial, &[1, 2, 3]], 2, THIS_UPDATE, NEXT_UPDATE);
    assert_eq!(s.add_crl(&crl, pki::AT, V).unwrap(), AddOutcome::Replaced);
    let r = verify(&s, &is);
    let hex: String = serial.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        failure(&r, CheckKind::DsRevocation),
        Some(Failure::DsRevoked {
            serial: hex.trim_start_matches("00").to_owned()
        })
    );
    assert!(!r.is_valid());

    // The older, clean CRL arriving later does not un-revoke it.
    let old = pki.crl(&[&[1, 2, 3]], 1, THIS_UPDATE, NEXT_UPDATE);
    assert_eq!(s.add_crl(&old, pki::AT, V).unwrap(), AddOutcome::NotNewer);
    assert!(!verify(&s, &is).is_valid());
}

/// Issue 12, Build 6: the root-compromise procedure lists the root's own certificate on its
/// emergency CRL. Then nothing it certified is trusted, not even a DS the CRL does not list
/// (one made with the stolen key would not be on it).
#[test]
fn a_root_listed_on_its_own_crl_trusts_nothing() {
    let pki = pki::TestPki::new();
    let is = doc(&pki);
    let mut s = store(&pki, RevocationPolicy::default());
    let iaca_serial = pki.iaca().serial_number().to_vec();
    s.add_crl(
        &pki.crl(&[&iaca_serial], 1, THIS_UPDATE, NEXT_UPDATE),
        pki::AT,
        V,
    )
    .unwrap();
    let r = verify(&s, &is);
    let hex: String = iaca_serial.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        failure(&r, CheckKind::DsRevocation),
        Some(Failure::IacaRevoked {
            serial: hex.trim_start_matches("00").to_owned()
        })
    );
    assert!(!r.is_valid());
}

#[test]
fn expired_crl_is_a_hard_or_soft_failure_by_policy() {
    let pki = pki::TestPki::new();
    let is = doc(&pki);
    let stale = pki.crl(
        &[],
        1,
        datetime!(2026-05-01 00:00:00 UTC),
        datetime!(2026-05-08 00:00:00 UTC),
    );
    let expired = Failure::CrlExpired {
        next_update: datetime!(2026-05-08 00:00:00 UTC),
        at: pki::AT,
    };

    let mut hard = store(&pki, RevocationPolicy::default());
    hard.add_crl(&stale, pki::AT, V).unwrap();
    let r = verify(&hard, &is);
    assert_eq!(failure(&r, CheckKind::DsRevocation), Some(expired.clone()));
    assert!(!r.is_valid());

    let mut soft = store(
        &pki,
        RevocationPolicy {
            expired_crl: ExpiredCrlPolicy::Warn,
            ..RevocationPolicy::default()
        },
    );
    soft.add_crl(&stale, pki::AT, V).unwrap();
    let r = verify(&soft, &is);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    assert_eq!(
        r.warnings,
        vec![Warning {
            kind: CheckKind::DsRevocation,
            subject: None,
            reason: expired,
        }]
    );

    // Soft expiry never hides a revocation the expired CRL lists.
    let revoked = pki.crl(
        &[pki.ds().serial_number()],
        2,
        datetime!(2026-05-01 00:00:00 UTC),
        datetime!(2026-05-08 00:00:00 UTC),
    );
    soft.add_crl(&revoked, pki::AT, V).unwrap();
    assert!(matches!(
        failure(&verify(&soft, &is), CheckKind::DsRevocation),
        Some(Failure::DsRevoked { .. })
    ));
}

#[test]
fn missing_crl_warns_or_fails_by_policy() {
    let pki = pki::TestPki::new();
    let is = doc(&pki);
    let r = verify(&store(&pki, RevocationPolicy::default()), &is);
    assert!(r.is_valid());
    assert_eq!(r.outcome(CheckKind::DsRevocation), None);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].reason, Failure::NoCrl);

    let strict = RevocationPolicy {
        missing_crl: MissingCrlPolicy::Fail,
        ..RevocationPolicy::default()
    };
    let r = verify(&store(&pki, strict), &is);
    assert_eq!(failure(&r, CheckKind::DsRevocation), Some(Failure::NoCrl));
    assert!(!r.is_valid());
}

#[test]
fn untrusted_ds_is_not_revocation_checked() {
    let pki = pki::TestPki::new();
    let other = pki::TestPki::new();
    let r = verify(&store(&other, RevocationPolicy::default()), &doc(&pki));
    assert!(matches!(
        failure(&r, CheckKind::DsRevocation),
        Some(Failure::NotChecked(_))
    ));
    assert!(!r.is_valid());
}

// ---- issuing_country ------------------------------------------------------------------------

fn doc_with_country(pki: &pki::TestPki, elements: &[(&str, &str)]) -> IssuerSigned {
    let device = SoftwareKey::generate(Algorithm::Es256);
    let mut b = MdocBuilder::new(MDL_DOCTYPE)
        .element(MDL_NAMESPACE, "family_name", Value::Text("Yamada".into()))
        .device_key(&device.public_key().unwrap())
        .validity(validity_for_days(datetime!(2026-05-01 09:30:00 UTC), 365));
    for (id, value) in elements {
        b = b.element(MDL_NAMESPACE, id, Value::Text((*value).into()));
    }
    b.prepare(
        Algorithm::Es256,
        std::slice::from_ref(&pki.ds_der),
        &mut rand_core::OsRng,
    )
    .unwrap()
    .sign(&pki.ds_key)
    .unwrap()
}

#[test]
fn issuing_country_must_match_the_ds_certificate() {
    let pki = pki::TestPki::new();
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);

    // The sample mDL discloses issuing_country JP; the DS is C=JP.
    let r = verify_with(&trust, &doc(&pki), &[]);
    assert!(r.is_valid());
    let c = r
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::IssuingCountry)
        .unwrap();
    assert_eq!(
        c.subject.as_deref(),
        Some("org.iso.18013.5.1/issuing_country")
    );
    assert_eq!(c.outcome, Ok(()));

    let r = verify_with(
        &trust,
        &doc_with_country(&pki, &[("issuing_country", "FR")]),
        &[],
    );
    assert_eq!(
        failure(&r, CheckKind::IssuingCountry),
        Some(Failure::IssuingCountryMismatch {
            element: "issuing_country",
            document: "FR".into(),
            certificate: Some("JP".into()),
        })
    );
    assert!(!r.is_valid());

    // Not disclosed: not applicable.
    let r = verify_with(&trust, &doc_with_country(&pki, &[]), &[]);
    assert!(r.is_valid());
    assert_eq!(r.outcome(CheckKind::IssuingCountry), None);

    // A DS without stateOrProvinceName speaks for the whole country.
    let r = verify_with(
        &trust,
        &doc_with_country(
            &pki,
            &[("issuing_country", "JP"), ("issuing_jurisdiction", "JP-13")],
        ),
        &[],
    );
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());

    // Same element names in a namespace foreign to the docType are not read.
    let device = SoftwareKey::generate(Algorithm::Es256);
    let is = MdocBuilder::new(MDL_DOCTYPE)
        .element(
            "org.example.vendor",
            "issuing_country",
            Value::Text("FR".into()),
        )
        .device_key(&device.public_key().unwrap())
        .validity(validity_for_days(datetime!(2026-05-01 09:30:00 UTC), 365))
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&pki.ds_key)
        .unwrap();
    let r = verify_with(&trust, &is, &[]);
    assert!(r.is_valid());
    assert_eq!(r.outcome(CheckKind::IssuingCountry), None);
}

// ---- MSO status -----------------------------------------------------------------------------

struct Lists {
    pki: pki::TestPki,
    signer: SoftwareKey,
    signer_der: Vec<u8>,
    trust: IssuerTrust,
}

fn lists() -> Lists {
    let pki = pki::TestPki::new();
    let signer = SoftwareKey::generate(Algorithm::Es256);
    let signer_der = pki.issue_ds(&signer, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let trust = IssuerTrust::iacas(vec![pki.iaca()]);
    Lists {
        pki,
        signer,
        signer_der,
        trust,
    }
}

fn claims(uri: &str) -> TokenClaims {
    TokenClaims {
        sub: uri.into(),
        iat: pki::AT - Duration::hours(1),
        exp: pki::AT + Duration::days(1),
        ttl: Some(43_200),
    }
}

/// A document whose MSO points at status list index `idx` and identifier `id`.
fn doc_with_status(l: &Lists, idx: u64, id: &[u8]) -> IssuerSigned {
    let device = SoftwareKey::generate(Algorithm::Es256);
    mdl::mdl_builder(&device.public_key().unwrap())
        .status(MsoStatus {
            status_list: Some(StatusListRef {
                idx,
                uri: STATUS_URI.into(),
                certificate: None,
            }),
            identifier_list: Some(IdentifierListRef {
                id: id.to_vec(),
                uri: ID_URI.into(),
                certificate: None,
            }),
        })
        .prepare(
            Algorithm::Es256,
            std::slice::from_ref(&l.pki.ds_der),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(&l.pki.ds_key)
        .unwrap()
}

/// A 2-bit list: index 0 valid, 1 invalid, 2 suspended.
fn status_token_by(l: &Lists, claims: &TokenClaims, key: &SoftwareKey, der: &[u8]) -> Vec<u8> {
    let mut list = StatusList::new(2, 16).unwrap();
    list.set(1, Status::Invalid).unwrap();
    list.set(2, Status::Suspended).unwrap();
    let _ = l;
    StatusListToken::prepare(&list, None, claims, Algorithm::Es256, &[der.to_vec()])
        .unwrap()
        .sign(key)
        .unwrap()
}

fn status_token(l: &Lists, claims: &TokenClaims) -> Vec<u8> {
    status_token_by(l, claims, &l.signer, &l.signer_der)
}

/// Lists identifier `b"revoked"`.
fn id_token(l: &Lists, claims: &TokenClaims) -> Vec<u8> {
    let mut ids = IdentifierList::new();
    ids.insert(b"revoked".to_vec());
    IdentifierListToken::prepare(
        &ids,
        None,
        claims,
        Algorithm::Es256,
        std::slice::from_ref(&l.signer_der),
    )
    .unwrap()
    .sign(&l.signer)
    .unwrap()
}

#[test]
fn mso_revoked_or_suspended_via_status_list() {
    let l = lists();
    let token = status_token(&l, &claims(STATUS_URI));
    let tokens = [ListToken::StatusList(&token)];
    let check = |idx| verify_with(&l.trust, &doc_with_status(&l, idx, b"fine"), &tokens);

    let r = check(0);
    assert_eq!(r.outcome(CheckKind::StatusList), Some(&Ok(())));
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    // No identifier list token supplied: not checked, and said so.
    assert_eq!(r.outcome(CheckKind::IdentifierList), None);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.kind == CheckKind::IdentifierList && w.reason == Failure::NoListToken));

    let r = check(1);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::MsoRevoked)
    );
    assert!(!r.is_valid());
    let r = check(2);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::MsoSuspended)
    );
    assert!(!r.is_valid());
    // Out of range: an error, never "valid".
    let r = check(1000);
    assert!(matches!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::Error(_))
    ));
}

#[test]
fn mso_revoked_via_identifier_list() {
    let l = lists();
    let token = id_token(&l, &claims(ID_URI));
    let tokens = [ListToken::IdentifierList(&token)];
    let r = verify_with(&l.trust, &doc_with_status(&l, 0, b"revoked"), &tokens);
    assert_eq!(
        failure(&r, CheckKind::IdentifierList),
        Some(Failure::MsoRevoked)
    );
    assert!(!r.is_valid());
    let r = verify_with(&l.trust, &doc_with_status(&l, 0, b"fine"), &tokens);
    assert_eq!(r.outcome(CheckKind::IdentifierList), Some(&Ok(())));
    assert!(r.is_valid());
}

#[test]
fn both_lists_checked_together_through_a_trust_store() {
    let l = lists();
    let st = status_token(&l, &claims(STATUS_URI));
    let it = id_token(&l, &claims(ID_URI));
    let tokens = [ListToken::IdentifierList(&it), ListToken::StatusList(&st)];
    let mut s = store(&l.pki, RevocationPolicy::default());
    s.add_crl(&l.pki.crl(&[], 1, THIS_UPDATE, NEXT_UPDATE), pki::AT, V)
        .unwrap();
    let trust = IssuerTrust::from(s);
    let r = verify_with(&trust, &doc_with_status(&l, 0, b"fine"), &tokens);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let r = verify_with(&trust, &doc_with_status(&l, 1, b"revoked"), &tokens);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::MsoRevoked)
    );
    assert_eq!(
        failure(&r, CheckKind::IdentifierList),
        Some(Failure::MsoRevoked)
    );
}

#[test]
fn token_signed_by_an_untrusted_key_is_refused() {
    let l = lists();
    let other = pki::TestPki::new();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let der = other.issue_ds(&key, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let token = status_token_by(&l, &claims(STATUS_URI), &key, &der);
    let r = verify_with(
        &l.trust,
        &doc_with_status(&l, 0, b"fine"),
        &[ListToken::StatusList(&token)],
    );
    assert!(matches!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::ListTokenUntrusted(_))
    ));
    assert!(!r.is_valid());

    // A trusted certificate in x5chain, but signed by another key.
    let token = status_token_by(&l, &claims(STATUS_URI), &key, &l.signer_der);
    let r = verify_with(
        &l.trust,
        &doc_with_status(&l, 0, b"fine"),
        &[ListToken::StatusList(&token)],
    );
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::Error(mso::Error::BadSignature))
    );
}

#[test]
fn expired_token_is_refused() {
    let l = lists();
    let is = doc_with_status(&l, 0, b"fine");
    let mut c = claims(STATUS_URI);
    c.iat = pki::AT - Duration::days(2);
    c.exp = pki::AT - Duration::days(1);
    let token = status_token(&l, &c);
    let r = verify_with(&l.trust, &is, &[ListToken::StatusList(&token)]);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::ListTokenExpired {
            expired_at: pki::AT - Duration::days(1),
            at: pki::AT
        })
    );
    assert!(!r.is_valid());

    // exp still ahead, but iat + ttl has passed.
    let mut c = claims(STATUS_URI);
    c.iat = pki::AT - Duration::days(2);
    c.ttl = Some(3600);
    let token = status_token(&l, &c);
    let r = verify_with(&l.trust, &is, &[ListToken::StatusList(&token)]);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::ListTokenExpired {
            expired_at: pki::AT - Duration::days(2) + Duration::hours(1),
            at: pki::AT
        })
    );
}

#[test]
fn token_for_another_uri_or_list_is_refused() {
    let l = lists();
    let is = doc_with_status(&l, 0, b"fine");
    let token = status_token(&l, &claims("https://status.example.jp/lists/2"));
    let r = verify_with(&l.trust, &is, &[ListToken::StatusList(&token)]);
    assert_eq!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::ListTokenUriMismatch {
            expected: STATUS_URI.into(),
            found: vec!["https://status.example.jp/lists/2".into()],
        })
    );
    assert!(!r.is_valid());

    // An identifier list handed over as a status list (its sub is the status uri).
    let token = id_token(&l, &claims(STATUS_URI));
    let r = verify_with(&l.trust, &is, &[ListToken::StatusList(&token)]);
    assert!(
        matches!(
            failure(&r, CheckKind::StatusList),
            Some(Failure::ListTokenWrongType { .. })
        ),
        "{r:?}"
    );

    // Garbage.
    let r = verify_with(&l.trust, &is, &[ListToken::StatusList(b"\x01\x02")]);
    assert!(matches!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::ListTokenUriMismatch { .. })
    ));
}

#[test]
fn status_needs_an_iaca_to_check_the_token_against() {
    let l = lists();
    let is = doc_with_status(&l, 0, b"fine");
    let token = status_token(&l, &claims(STATUS_URI));
    let pinned = IssuerTrust::pinned(l.pki.ds());
    let r = verify_with(&pinned, &is, &[ListToken::StatusList(&token)]);
    assert!(matches!(
        failure(&r, CheckKind::StatusList),
        Some(Failure::NotChecked(_))
    ));
    assert!(!r.is_valid());
    // Without tokens the pinned document is valid, with the status reported unchecked.
    let r = verify_with(&pinned, &is, &[]);
    assert!(r.is_valid());
    assert_eq!(r.warnings.len(), 2);
}
