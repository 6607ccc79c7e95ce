//! The relying party's trust store: IACAs, link certificates, CRL ordering, VICALs, and the
//! offline form (round trip, tampering).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use mso::crl::{CrlError, CrlNumber};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{IssuerSigned, MDL_DOCTYPE};
use mso::trust::*;
use mso::verify::{verify_issuer_signed, CheckKind, Failure, IssuerTrust, VerifyOptions};
use mso::vical::{StaleReason, VicalError};
use mso::x509::profile::{Role, Violation};
use mso::x509::{Certificate, PathError, Position};
use mso::Error;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const V: &SoftwareVerifier = &SoftwareVerifier;
const THIS_UPDATE: OffsetDateTime = datetime!(2026-05-31 00:00:00 UTC);
const NEXT_UPDATE: OffsetDateTime = datetime!(2026-06-07 00:00:00 UTC);

fn store_with(pki: &pki::TestPki) -> TrustStore {
    let mut s = TrustStore::default();
    assert_eq!(s.add_iaca(&pki.iaca_der, V).unwrap(), AddOutcome::Added);
    s
}

fn doc(pki: &pki::TestPki) -> IssuerSigned {
    let device = SoftwareKey::generate(Algorithm::Es256);
    mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap())
}

fn verify(store: &TrustStore, is: &IssuerSigned) -> mso::verify::DocumentReport {
    let trust = IssuerTrust::from(store.clone());
    verify_issuer_signed(
        is,
        Some(MDL_DOCTYPE),
        &VerifyOptions::new(pki::AT, &trust, V),
    )
}

// ---- IACAs ----------------------------------------------------------------------------------

#[test]
fn iaca_der_or_pem_and_duplicates_are_idempotent() {
    let pki = pki::TestPki::new();
    let mut s = store_with(&pki);
    let pem = pki::TestPki::pem(&pki.iaca_der);
    assert_eq!(
        s.add_iaca(pem.as_bytes(), V).unwrap(),
        AddOutcome::Duplicate
    );
    assert_eq!(s.add_iaca(&pki.iaca_der, V).unwrap(), AddOutcome::Duplicate);
    assert_eq!(s.iacas().len(), 1);
    assert_eq!(s.anchors_for(MDL_DOCTYPE).anchors(), &[pki.iaca()]);
    assert!(verify(&s, &doc(&pki)).is_valid());
}

#[test]
fn non_iaca_certificates_are_refused() {
    let pki = pki::TestPki::new();
    let mut s = TrustStore::default();
    // A DS certificate: not a CA.
    let e = s.add_iaca(&pki.ds_der, V).unwrap_err();
    assert!(
        matches!(&e, Error::Profile { role: Role::Iaca, violations }
            if violations.contains(&Violation::NotSelfIssued)
                && violations.iter().any(|v| matches!(v, Violation::KeyUsage { .. }))),
        "{e:?}"
    );
    // Garbage and oversized input: typed errors.
    assert!(matches!(
        s.add_iaca(b"not a certificate", V),
        Err(Error::Certificate(_))
    ));
    assert!(matches!(
        s.add_iaca(&vec![0x30; 100_000], V),
        Err(Error::TooLarge { .. })
    ));
    // A link certificate is a CA but not self-signed.
    let (_, link) = pki.rollover();
    let e = s.add_iaca(&link, V).unwrap_err();
    // (its signature is not its own key's)
    assert!(
        matches!(&e, Error::Path(PathError::BadSignature { cert, issuer })
            if cert.position == Position::Leaf && issuer.position == Position::Leaf),
        "{e:?}"
    );
    assert!(s.iacas().is_empty());
}

// ---- link certificates ----------------------------------------------------------------------

#[test]
fn link_certificate_makes_the_new_iaca_key_trusted() {
    let old = pki::TestPki::new();
    let (new, link) = old.rollover();
    let mut s = store_with(&old);
    let new_doc = doc(&new);
    let r = verify(&s, &new_doc);
    assert!(matches!(
        r.outcome(CheckKind::DsTrusted),
        Some(Err(Failure::NoTrustedIssuer(_)))
    ));

    assert_eq!(s.add_link(&link, V).unwrap(), AddOutcome::Added);
    assert_eq!(s.add_link(&link, V).unwrap(), AddOutcome::Duplicate);
    let r = verify(&s, &new_doc);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    // Documents under the old key still verify.
    assert!(verify(&s, &doc(&old)).is_valid());
    // The new key's own CRL is found through the link.
    let crl = new.crl(&[new.ds().serial_number()], 1, THIS_UPDATE, NEXT_UPDATE);
    assert_eq!(s.add_crl(&crl, pki::AT, V).unwrap(), AddOutcome::Added);
    assert!(matches!(
        verify(&s, &new_doc).outcome(CheckKind::DsRevocation),
        Some(Err(Failure::DsRevoked { .. }))
    ));
}

#[test]
fn link_certificate_needs_a_trusted_issuer() {
    let old = pki::TestPki::new();
    let (new, link) = old.rollover();
    // Nothing trusted yet.
    let mut s = TrustStore::default();
    let e = s.add_link(&link, V).unwrap_err();
    assert!(
        matches!(&e, Error::Path(PathError::UnknownIssuer { cert, .. }) if cert.position == Position::Leaf),
        "{e:?}"
    );
    // Trusting some other IACA of the same name does not help.
    let mut s = store_with(&pki::TestPki::new());
    let e = s.add_link(&link, V).unwrap_err();
    assert!(
        matches!(&e, Error::Path(PathError::BadSignature { cert, .. }) if cert.position == Position::Leaf),
        "{e:?}"
    );
    // The new self-signed root is not a link.
    let mut s = store_with(&old);
    let e = s.add_link(&new.iaca_der, V).unwrap_err();
    assert!(
        matches!(e, Error::Path(PathError::BadSignature { .. })),
        "{e:?}"
    );
    // A DS certificate is not an IACA, whoever signed it.
    let e = s.add_link(&old.ds_der, V).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Path(PathError::Profile {
                role: Role::Link,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(s.links().is_empty());
}

/// Issue 12, Build 6: a link certificate its issuer's CRL lists is not trusted: refused when
/// the CRL came first, dropped when the CRL comes later. Another root's CRL cannot revoke it.
#[test]
fn a_revoked_link_certificate_is_not_trusted() {
    let old = pki::TestPki::new();
    let (new, link) = old.rollover();
    let link_serial = mso::x509::Certificate::from_der(&link)
        .unwrap()
        .serial_number()
        .to_vec();
    let revoking = old.crl(&[&link_serial], 1, THIS_UPDATE, NEXT_UPDATE);

    // CRL first: the link is refused.
    let mut s = store_with(&old);
    s.add_crl(&revoking, pki::AT, V).unwrap();
    let e = s.add_link(&link, V).unwrap_err();
    assert!(
        matches!(&e, Error::Certificate(m) if m.contains("revoked")),
        "{e:?}"
    );
    assert!(s.links().is_empty());
    assert!(!verify(&s, &doc(&new)).is_valid());

    // Link first: the CRL drops it, and documents under the new key no longer verify.
    let mut s = store_with(&old);
    s.add_link(&link, V).unwrap();
    assert!(verify(&s, &doc(&new)).is_valid());
    s.add_crl(&revoking, pki::AT, V).unwrap();
    assert!(s.links().is_empty());
    assert!(!verify(&s, &doc(&new)).is_valid());
    // Documents under the old key, not revoked, still verify.
    assert!(verify(&s, &doc(&old)).is_valid());

    // The new root's own CRL listing the same serial is out of scope for the link.
    let mut s = store_with(&old);
    s.add_link(&link, V).unwrap();
    let other = new.crl(&[&link_serial], 1, THIS_UPDATE, NEXT_UPDATE);
    s.add_crl(&other, pki::AT, V).unwrap();
    assert_eq!(s.links().len(), 1);
}

// ---- CRLs -----------------------------------------------------------------------------------

#[test]
fn newest_crl_number_wins() {
    let pki = pki::TestPki::new();
    let mut s = store_with(&pki);
    let serial = pki.ds().serial_number().to_vec();
    let crl1 = pki.crl(&[], 1, THIS_UPDATE, NEXT_UPDATE);
    let crl2 = pki.crl(&[&serial], 2, THIS_UPDATE, NEXT_UPDATE);
    let crl2b = pki.crl(&[&[0x42]], 2, THIS_UPDATE, NEXT_UPDATE);

    assert_eq!(s.add_crl(&crl1, pki::AT, V).unwrap(), AddOutcome::Added);
    assert!(verify(&s, &doc(&pki)).is_valid());
    assert_eq!(s.add_crl(&crl2, pki::AT, V).unwrap(), AddOutcome::Replaced);
    assert_eq!(s.add_crl(&crl2, pki::AT, V).unwrap(), AddOutcome::Duplicate);
    // Older, or another CRL with the same number: ignored.
    assert_eq!(s.add_crl(&crl1, pki::AT, V).unwrap(), AddOutcome::NotNewer);
    assert_eq!(s.add_crl(&crl2b, pki::AT, V).unwrap(), AddOutcome::NotNewer);

    let held = s.crl_for(&pki.iaca()).unwrap();
    assert_eq!(held.crl_number(), Some(&CrlNumber::from(2)));
    assert!(held.is_certificate_revoked(&pki.ds()).unwrap());
    assert_eq!(s.crls().count(), 1);
}

#[test]
fn crl_from_an_untrusted_iaca_is_refused() {
    let pki = pki::TestPki::new();
    let other = pki::TestPki::new();
    let mut s = store_with(&pki);
    let crl = other.crl(&[], 1, THIS_UPDATE, NEXT_UPDATE);
    let e = s.add_crl(&crl, pki::AT, V).unwrap_err();
    assert!(
        matches!(e, Error::Crl(CrlError::NoTrustedIssuer { .. })),
        "{e:?}"
    );
    // A CRL whose signature was altered, from the right IACA: the CRL's own error.
    let mut bad = pki.crl(&[], 1, THIS_UPDATE, NEXT_UPDATE);
    let last = bad.len() - 3;
    bad[last] ^= 1;
    assert!(s.add_crl(&bad, pki::AT, V).is_err());
    assert!(matches!(
        s.add_crl(b"\x30\x03\x02\x01", pki::AT, V),
        Err(Error::Crl(CrlError::Der { .. }))
    ));
    assert_eq!(s.crls().count(), 0);
}

// ---- the AAMVA VICAL -----------------------------------------------------------------------

const AAMVA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/aamva/");
const AAMVA_DATE: OffsetDateTime = datetime!(2025-11-18 18:38:12 UTC);
const TODAY: OffsetDateTime = datetime!(2026-11-22 00:00:00 UTC);

fn aamva_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{AAMVA_DIR}{name}")).expect("AAMVA vector")
}

fn aamva_store() -> TrustStore {
    let mut s = TrustStore::default();
    let root = aamva_file("aamva_ca_root.crt");
    assert_eq!(s.add_vical_anchor(&root).unwrap(), AddOutcome::Added);
    assert_eq!(s.add_vical_anchor(&root).unwrap(), AddOutcome::Duplicate);
    let vical = aamva_file("aamva-vical-2025-11-18-1763491092481.cbor");
    assert_eq!(
        s.add_vical(&vical, AAMVA_DATE, V).unwrap(),
        AddOutcome::Added
    );
    assert_eq!(
        s.add_vical(&vical, AAMVA_DATE, V).unwrap(),
        AddOutcome::Duplicate
    );
    s
}

fn assert_stale_today(s: &TrustStore) {
    let fresh = s.vical_freshness(TODAY, Duration::minutes(5));
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].0, "AAMVA");
    let reasons = fresh[0].1.reasons();
    assert!(reasons
        .iter()
        .any(|r| matches!(r, StaleReason::PastNextUpdate { .. })));
    assert!(reasons
        .iter()
        .any(|r| matches!(r, StaleReason::CertificateExpired { .. })));
}

#[test]
fn aamva_vical_loads_at_its_issue_date_and_is_stale_today() {
    let s = aamva_store();
    let anchors = s.anchors_for(MDL_DOCTYPE).anchors();
    assert_eq!(anchors.len(), 14);
    for i in 0..14 {
        let der = aamva_file(&format!("vical_iaca_{i:02}.der"));
        assert!(anchors.iter().any(|a| a.der() == der.as_slice()), "{i}");
    }
    // Listed for mDL only: another docType gets the direct IACAs (none).
    assert!(s.anchors_for("org.example.other").anchors().is_empty());
    assert!(s
        .vical_freshness(AAMVA_DATE, Duration::minutes(5))
        .iter()
        .all(|(_, f)| f.is_fresh()));
    assert_stale_today(&s);

    // Reloaded today: it was accepted while valid, so it loads, stale.
    let reloaded = TrustStore::from_bytes(&s.to_bytes(), TODAY, V).unwrap();
    assert_eq!(reloaded.anchors_for(MDL_DOCTYPE).anchors().len(), 14);
    assert_stale_today(&reloaded);

    // First received today, after its signer expired: refused.
    let mut fresh = TrustStore::default();
    fresh
        .add_vical_anchor(&aamva_file("aamva_ca_root.crt"))
        .unwrap();
    let e = fresh
        .add_vical(
            &aamva_file("aamva-vical-2025-11-18-1763491092481.cbor"),
            TODAY,
            V,
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Vical(VicalError::SignerExpiredWhenAdded { at, .. }) if at == TODAY),
        "{e:?}"
    );
}

#[test]
fn vical_without_its_anchor_is_refused() {
    let mut s = TrustStore::default();
    let vical = aamva_file("aamva-vical-2025-11-18-1763491092481.cbor");
    assert!(s.add_vical(&vical, AAMVA_DATE, V).is_err());
    assert_eq!(s.vicals().count(), 0);
    // A VICAL anchor must be a CA.
    let pki = pki::TestPki::new();
    assert!(matches!(
        s.add_vical_anchor(&pki.ds_der),
        Err(Error::Certificate(_))
    ));
}

// ---- serialisation --------------------------------------------------------------------------

/// A store with one of everything: IACA, link, CRL, VICAL anchor and VICAL, soft policy.
fn full_store() -> (TrustStore, pki::TestPki, Vec<u8>) {
    let pki = pki::TestPki::new();
    let (_, link) = pki.rollover();
    let mut s = aamva_store();
    s.set_policy(RevocationPolicy {
        expired_crl: ExpiredCrlPolicy::Warn,
        missing_crl: MissingCrlPolicy::Fail,
    });
    s.add_iaca(&pki.iaca_der, V).unwrap();
    s.add_link(&link, V).unwrap();
    let crl = pki.crl(&[&[7]], 3, THIS_UPDATE, NEXT_UPDATE);
    s.add_crl(&crl, pki::AT, V).unwrap();
    (s, pki, crl)
}

#[test]
fn store_round_trips() {
    let (s, pki, _) = full_store();
    let bytes = s.to_bytes();
    // Self-described CBOR.
    assert_eq!(&bytes[..3], &[0xd9, 0xd9, 0xf7]);
    let r = TrustStore::from_bytes(&bytes, pki::AT, V).unwrap();
    assert_eq!(r.to_bytes(), bytes);
    assert_eq!(r.policy(), s.policy());
    assert_eq!(r.iacas(), s.iacas());
    assert_eq!(r.links(), s.links());
    assert_eq!(r.vical_anchors(), s.vical_anchors());
    assert_eq!(r.vicals().count(), 1);
    // Direct IACA and link for every docType, plus the 14 VICAL IACAs for mDL.
    assert_eq!(r.anchors_for(MDL_DOCTYPE).anchors().len(), 16);
    assert_eq!(r.anchors_for("org.example.other").anchors().len(), 2);
    let crl = r.crl_for(&pki.iaca()).unwrap();
    assert_eq!(crl.crl_number(), Some(&CrlNumber::from(3)));
    assert!(crl.is_revoked(&[7]));
    // And it verifies documents the same way.
    assert!(verify(&r, &doc(&pki)).is_valid());
    // An empty store round-trips too.
    let empty = TrustStore::default();
    let back = TrustStore::from_bytes(&empty.to_bytes(), pki::AT, V).unwrap();
    assert_eq!(back.to_bytes(), empty.to_bytes());
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("present")
}

#[test]
fn tampered_store_is_refused() {
    let (s, pki, crl) = full_store();
    let bytes = s.to_bytes();
    let load = |b: &[u8]| TrustStore::from_bytes(b, pki::AT, V);

    // A revoked serial flipped inside the CRL: its signature no longer verifies.
    let at = find(&bytes, &crl) + crl.len() / 2;
    let mut bad = bytes.clone();
    bad[at] ^= 0x01;
    assert!(load(&bad).is_err());

    // A byte of the VICAL payload.
    let vical = aamva_file("aamva-vical-2025-11-18-1763491092481.cbor");
    let mut bad = bytes.clone();
    bad[find(&bytes, &vical) + vical.len() / 2] ^= 0x01;
    assert!(load(&bad).is_err());

    // The link certificate's signature.
    let link = s.links()[0].der().to_vec();
    let mut bad = bytes.clone();
    bad[find(&bytes, &link) + link.len() - 2] ^= 0x01;
    assert!(load(&bad).is_err());

    // Any single flipped byte: loads or fails, never panics; a flip inside a signed input or
    // the format header fails.
    for i in (0..bytes.len()).step_by(bytes.len() / 199 + 1) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x55;
        let _ = load(&bad);
    }
    // Truncated anywhere: a typed error, never a panic.
    for len in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        assert!(load(&bytes[..len]).is_err(), "{len}");
    }
    // Oversized.
    assert!(matches!(
        TrustStore::from_bytes_with_limit(&bytes, 1000, pki::AT, V),
        Err(Error::TooLarge { .. })
    ));
    // Not a store, another version, a duplicated entry.
    assert!(load(b"\xa0").is_err());
    let version = find(&bytes, b"\x67version\x01") + 8;
    let mut bad = bytes.clone();
    bad[version] = 0x02;
    assert!(matches!(load(&bad), Err(Error::TrustStoreFormat(_))));

    let mut dup = TrustStore::default();
    dup.add_iaca(&pki.iaca_der, V).unwrap();
    let one = dup.to_bytes();
    // Patch `"iacas": [bstr]` into `[bstr, bstr]` with the same certificate twice.
    let der = &pki.iaca_der;
    let start = find(&one, der);
    let head_len = if der.len() < 256 { 2 } else { 3 };
    let item = one[start - head_len..start + der.len()].to_vec();
    let array_at = start - head_len - 1;
    assert_eq!(one[array_at], 0x81);
    let mut twice = one[..array_at].to_vec();
    twice.push(0x82);
    twice.extend_from_slice(&item);
    twice.extend_from_slice(&one[start - head_len..]);
    assert!(matches!(load(&twice), Err(Error::TrustStoreFormat(_))));
}

#[test]
fn reload_reverifies_with_the_given_verifier() {
    // A verifier that refuses everything proves that reload checks signatures again.
    struct Refuse;
    impl mso::crypto::Verifier for Refuse {
        fn verify(
            &self,
            _: Algorithm,
            _: &mso::crypto::PublicKey,
            _: &[u8],
            _: &[u8],
        ) -> mso::Result<()> {
            Err(Error::BadSignature)
        }
    }
    let pki = pki::TestPki::new();
    let bytes = store_with(&pki).to_bytes();
    assert!(TrustStore::from_bytes(&bytes, pki::AT, &Refuse).is_err());
    let _ = Certificate::from_der(&pki.iaca_der).unwrap();
}

#[test]
fn production_iacas_fit_the_profile() {
    // The 14 AAMVA IACAs, added directly: the profile check is tolerant where they differ.
    let mut s = TrustStore::default();
    for i in 0..14 {
        let der = aamva_file(&format!("vical_iaca_{i:02}.der"));
        assert_eq!(s.add_iaca(&der, V).unwrap(), AddOutcome::Added, "{i}");
    }
    assert_eq!(s.anchors_for("any").anchors().len(), 14);
}
