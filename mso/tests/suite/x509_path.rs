//! `mso::x509::path`: one test per `PathError` variant, each checking the facts it carries, and
//! a property test of the path builder over random, shuffled chains with loops and duplicates:
//! never a panic, never more signature verifications than the budget.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::pki;

use std::sync::atomic::{AtomicUsize, Ordering};

use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey, SoftwareVerifier, Verifier};
use mso::x509::path::{parse_chain, validate, validate_with, PathPolicy};
use mso::x509::profile::{Role, Violation};
use mso::x509::{oid, Budget, Certificate, NotCaReason, PathError, Position, TrustAnchors};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose,
};
use sha1::{Digest, Sha1};
use time::macros::datetime;
use time::OffsetDateTime;

const AT: OffsetDateTime = datetime!(2026-06-01 12:00:00 UTC);

// ---- a small certificate factory ------------------------------------------------------------

/// A certificate with the rcgen objects needed to sign below it.
struct Node {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Node {
    fn parsed(&self) -> Certificate {
        Certificate::from_der(self.cert.der()).unwrap()
    }
}

fn new_key() -> (SoftwareKey, KeyPair) {
    let soft = SoftwareKey::generate(Algorithm::Es256);
    let kp = KeyPair::try_from(soft.to_pkcs8_der().unwrap().as_slice()).unwrap();
    (soft, kp)
}

fn ski(soft: &SoftwareKey) -> Vec<u8> {
    Sha1::digest(soft.public_key().unwrap().to_sec1()).to_vec()
}

/// Parameters for a CA named `cn` (pathLen as given) or, with `ca: false`, an end entity.
fn params(cn: &str, soft: &SoftwareKey, ca: Option<Option<u8>>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = datetime!(2025-01-01 00:00:00 UTC);
    p.not_after = datetime!(2030-01-01 00:00:00 UTC);
    p.key_identifier_method = KeyIdMethod::PreSpecified(ski(soft));
    match ca {
        Some(path_len) => {
            p.is_ca = IsCa::Ca(match path_len {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            });
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        None => {
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        }
    }
    p
}

fn self_signed(p: CertificateParams, key: KeyPair) -> Node {
    let cert = p.self_signed(&key).unwrap();
    Node { cert, key }
}

fn signed(mut p: CertificateParams, key: KeyPair, issuer: &Node) -> Node {
    p.use_authority_key_identifier_extension = true;
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).unwrap();
    Node { cert, key }
}

fn root(cn: &str, path_len: Option<u8>) -> Node {
    let (soft, key) = new_key();
    self_signed(params(cn, &soft, Some(path_len)), key)
}

fn ca_under(cn: &str, path_len: Option<u8>, issuer: &Node) -> Node {
    let (soft, key) = new_key();
    signed(params(cn, &soft, Some(path_len)), key, issuer)
}

fn leaf_under(cn: &str, issuer: &Node) -> Node {
    let (soft, key) = new_key();
    signed(params(cn, &soft, None), key, issuer)
}

fn critical_private(last: u64) -> CustomExtension {
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, last], vec![0x05, 0x00]);
    ext.set_criticality(true);
    ext
}

/// The path policy of these tests: chains only (no profile, validity at `AT`).
fn chain_only() -> PathPolicy {
    PathPolicy {
        inspect_leaf: false,
        ..PathPolicy::default()
    }
}

/// Validates `leaf` over `chain` to `anchors` as a VICAL signer (the role that may have
/// intermediates) under `policy`.
fn run(
    leaf: &Certificate,
    chain: &[Certificate],
    anchors: &TrustAnchors,
    policy: &PathPolicy,
) -> Result<Vec<Certificate>, PathError> {
    validate_with(
        leaf,
        chain,
        anchors,
        AT,
        Role::VicalSigner,
        &SoftwareVerifier,
        policy,
    )
    .map(|p| p.certificates().cloned().collect())
}

fn anchors(certs: &[&Node]) -> TrustAnchors {
    TrustAnchors::new(certs.iter().map(|n| n.parsed()).collect())
}

// ---- the good path ----------------------------------------------------------------------------

#[test]
fn a_two_step_path_is_found_in_any_order() {
    let r = root("Root", Some(1));
    let i = ca_under("Intermediate", Some(0), &r);
    let l = leaf_under("Leaf", &i);
    let path = run(&l.parsed(), &[i.parsed()], &anchors(&[&r]), &chain_only()).unwrap();
    assert_eq!(path, [l.parsed(), i.parsed(), r.parsed()]);
}

// ---- one test per PathError variant ---------------------------------------------------------

#[test]
fn malformed_names_the_x5chain_entry() {
    let r = root("Root", Some(0));
    let e = parse_chain(&[r.cert.der().to_vec(), b"not a certificate".to_vec()]).unwrap_err();
    assert!(matches!(e, PathError::Malformed { index: 1, .. }), "{e:?}");
}

#[test]
fn chain_too_long_counts_the_leaf() {
    let r = root("Root", None);
    let mut cas = vec![ca_under("CA 0", None, &r)];
    for n in 1..5 {
        let next = ca_under(&format!("CA {n}"), None, &cas[n - 1]);
        cas.push(next);
    }
    let l = leaf_under("Leaf", &cas[4]);
    let chain: Vec<Certificate> = cas.iter().rev().map(Node::parsed).collect();
    let e = run(&l.parsed(), &chain, &anchors(&[&r]), &chain_only()).unwrap_err();
    assert_eq!(e, PathError::ChainTooLong { len: 6, max: 5 });
}

#[test]
fn a_repeated_certificate_is_named() {
    let r = root("Root", Some(1));
    let i = ca_under("Intermediate", Some(0), &r);
    let l = leaf_under("Leaf", &i);
    let e = run(
        &l.parsed(),
        &[i.parsed(), i.parsed()],
        &anchors(&[&r]),
        &chain_only(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, PathError::DuplicateCertificate { cert } if cert.position == Position::Chain(1)),
        "{e:?}"
    );
    // The leaf repeated in its own chain, too.
    let e = run(&l.parsed(), &[l.parsed()], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(matches!(e, PathError::DuplicateCertificate { .. }), "{e:?}");
}

#[test]
fn unknown_issuer_names_the_missing_issuer() {
    let r = root("Root", Some(0));
    let l = leaf_under("Leaf", &r);
    let stranger = root("Someone Else", Some(0));
    let e = run(&l.parsed(), &[], &anchors(&[&stranger]), &chain_only()).unwrap_err();
    assert_eq!(
        e,
        PathError::UnknownIssuer {
            cert: mso::x509::CertRef {
                position: Position::Leaf,
                subject: "CN=Leaf".into()
            },
            issuer: "CN=Root".into()
        }
    );
}

#[test]
fn a_loop_of_cross_certificates_ends() {
    // X is certified by Y and Y by X; the leaf is under X; no anchor is reachable.
    let (x_soft, x_key) = new_key();
    let (y_soft, y_key) = new_key();
    let x0 = self_signed(
        params("X", &x_soft, Some(None)),
        KeyPair::try_from(x_soft.to_pkcs8_der().unwrap().as_slice()).unwrap(),
    );
    let y0 = self_signed(
        params("Y", &y_soft, Some(None)),
        KeyPair::try_from(y_soft.to_pkcs8_der().unwrap().as_slice()).unwrap(),
    );
    let x_by_y = signed(params("X", &x_soft, Some(None)), x_key, &y0);
    let y_by_x = signed(params("Y", &y_soft, Some(None)), y_key, &x0);
    let l = leaf_under("Leaf", &x0);
    let stranger = root("Root", None);
    let e = run(
        &l.parsed(),
        &[y_by_x.parsed(), x_by_y.parsed()],
        &anchors(&[&stranger]),
        &chain_only(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, PathError::Loop { cert } if cert.position == Position::Chain(0)),
        "{e:?}"
    );
}

/// `der` with every ecdsa-with-SHA256 AlgorithmIdentifier turned into ecdsa-with-SHA224.
fn with_sha224(der: &[u8]) -> Vec<u8> {
    let from = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let mut out = der.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if out[i..i + from.len()] == from {
            out[i + from.len() - 1] = 0x01;
        }
        i += 1;
    }
    out
}

#[test]
fn an_unsupported_signature_algorithm_is_named() {
    let r = root("Root", Some(0));
    let l = leaf_under("Leaf", &r);
    let mangled = Certificate::from_der(&with_sha224(l.cert.der())).unwrap();
    let e = run(&mangled, &[], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::SignatureAlgorithm { cert, oid } if cert.position == Position::Leaf
            && oid.to_string() == "1.2.840.10045.4.3.1"),
        "{e:?}"
    );
}

#[test]
fn a_same_name_anchor_with_another_key_is_a_bad_signature() {
    let r = root("Root", Some(0));
    let l = leaf_under("Leaf", &r);
    let impostor = root("Root", Some(0));
    let e = run(&l.parsed(), &[], &anchors(&[&impostor]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::BadSignature { cert, issuer }
            if cert.position == Position::Leaf && issuer.position == Position::Anchor(0)),
        "{e:?}"
    );
}

#[test]
fn an_issuer_that_is_not_a_ca_is_named_with_the_reason() {
    let cases: Vec<(CertificateParams, NotCaReason)> = {
        let (soft, _) = new_key();
        let mut none = params("Issuer", &soft, None);
        none.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let mut not_ca = params("Issuer", &soft, None);
        not_ca.is_ca = IsCa::ExplicitNoCa;
        not_ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let mut no_cert_sign = params("Issuer", &soft, Some(Some(0)));
        no_cert_sign.key_usages = vec![KeyUsagePurpose::CrlSign];
        let mut undecodable = params("Issuer", &soft, None);
        undecodable.custom_extensions = vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 19],
            vec![0x04, 0x00],
        )];
        vec![
            (none, NotCaReason::NoBasicConstraints),
            (not_ca, NotCaReason::NotCa),
            (no_cert_sign, NotCaReason::NoKeyCertSign),
            (undecodable, NotCaReason::Undecodable),
        ]
    };
    for (p, expected) in cases {
        let (_, key) = new_key();
        let issuer = self_signed(p, key);
        let l = leaf_under("Leaf", &issuer);
        let e = run(&l.parsed(), &[], &anchors(&[&issuer]), &chain_only()).unwrap_err();
        assert!(
            matches!(&e, PathError::IssuerNotCa { cert, reason }
                if cert.position == Position::Anchor(0) && *reason == expected),
            "{expected:?}: {e:?}"
        );
    }
}

#[test]
fn path_length_is_enforced_with_the_numbers() {
    let r = root("Root", Some(0));
    let i = ca_under("Intermediate", Some(0), &r);
    let l = leaf_under("Leaf", &i);
    let e = run(&l.parsed(), &[i.parsed()], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::PathLenExceeded { cert, path_len: 0, below: 1 }
            if cert.position == Position::Anchor(0)),
        "{e:?}"
    );
}

#[test]
fn unknown_critical_extensions_are_refused_on_every_certificate() {
    // On the leaf.
    let r = root("Root", Some(1));
    let (soft, key) = new_key();
    let mut p = params("Leaf", &soft, None);
    p.custom_extensions = vec![critical_private(1)];
    let l = signed(p, key, &r);
    let e = run(&l.parsed(), &[], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::UnknownCriticalExtension { cert, oid }
            if cert.position == Position::Leaf && oid.to_string() == "1.3.6.1.4.1.99999.1"),
        "{e:?}"
    );
    // On an intermediate.
    let (soft, key) = new_key();
    let mut p = params("Intermediate", &soft, Some(Some(0)));
    p.custom_extensions = vec![critical_private(2)];
    let i = signed(p, key, &r);
    let l = leaf_under("Leaf", &i);
    let e = run(&l.parsed(), &[i.parsed()], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::UnknownCriticalExtension { cert, .. } if cert.position == Position::Chain(0)),
        "{e:?}"
    );
    // On the anchor itself.
    let (soft, key) = new_key();
    let mut p = params("Odd Root", &soft, Some(Some(0)));
    p.custom_extensions = vec![critical_private(3)];
    let odd = self_signed(p, key);
    let l = leaf_under("Leaf", &odd);
    let e = run(&l.parsed(), &[], &anchors(&[&odd]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::UnknownCriticalExtension { cert, .. } if cert.position == Position::Anchor(0)),
        "{e:?}"
    );
}

#[test]
fn a_leaf_outside_its_role_profile_is_refused_with_the_violations() {
    let test = pki::TestPki::new();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let der = test.issue_ds_variant(
        &key,
        pki::DS_NOT_BEFORE,
        pki::DS_NOT_AFTER,
        pki::DsVariant::NoEku,
    );
    let ds = Certificate::from_der(&der).unwrap();
    let anchors = TrustAnchors::new(vec![test.iaca()]);
    let e = validate(
        &ds,
        &[],
        &anchors,
        pki::AT,
        Role::DocumentSigner,
        &SoftwareVerifier,
    )
    .unwrap_err();
    match e {
        PathError::Profile {
            cert,
            role,
            violations,
        } => {
            assert_eq!(cert.position, Position::Leaf);
            assert_eq!(role, Role::DocumentSigner);
            assert!(
                violations.contains(&Violation::MissingExtension {
                    oid: oid::EXT_KEY_USAGE
                }),
                "{violations:?}"
            );
        }
        other => panic!("expected a profile refusal, got {other:?}"),
    }
    // The exact profile passes.
    validate(
        &test.ds(),
        &[],
        &anchors,
        pki::AT,
        Role::DocumentSigner,
        &SoftwareVerifier,
    )
    .unwrap();
}

#[test]
fn validity_errors_carry_the_times() {
    let r = root("Root", Some(0));
    let l = leaf_under("Leaf", &r);
    let early = datetime!(2024-06-01 00:00:00 UTC);
    let e = validate_with(
        &l.parsed(),
        &[],
        &anchors(&[&r]),
        early,
        Role::VicalSigner,
        &SoftwareVerifier,
        &chain_only(),
    )
    .unwrap_err();
    // The anchor is checked first, on the way up.
    assert!(
        matches!(&e, PathError::NotYetValid { cert, not_before, at }
            if cert.position == Position::Anchor(0)
                && *not_before == datetime!(2025-01-01 00:00:00 UTC)
                && *at == early),
        "{e:?}"
    );
    let late = datetime!(2031-01-01 00:00:00 UTC);
    let e = validate_with(
        &l.parsed(),
        &[],
        &anchors(&[&r]),
        late,
        Role::VicalSigner,
        &SoftwareVerifier,
        &chain_only(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, PathError::Expired { not_after, at, .. }
            if *not_after == datetime!(2030-01-01 00:00:00 UTC) && *at == late),
        "{e:?}"
    );
    // The leaf alone out of date.
    let (soft, key) = new_key();
    let mut p = params("Short Leaf", &soft, None);
    p.not_after = datetime!(2026-01-01 00:00:00 UTC);
    let short = signed(p, key, &r);
    let e = run(&short.parsed(), &[], &anchors(&[&r]), &chain_only()).unwrap_err();
    assert!(
        matches!(&e, PathError::Expired { cert, at, .. } if cert.position == Position::Leaf && *at == AT),
        "{e:?}"
    );
}

#[test]
fn the_work_budget_stops_a_hostile_search() {
    // Forty anchors share the issuer's name; none has its key.
    let r = root("Root", Some(0));
    let l = leaf_under("Leaf", &r);
    let impostors: Vec<Node> = (0..40).map(|_| root("Root", Some(0))).collect();
    let refs: Vec<&Node> = impostors.iter().collect();
    let policy = PathPolicy {
        max_signature_checks: 10,
        ..chain_only()
    };
    let e = run(&l.parsed(), &[], &anchors(&refs), &policy).unwrap_err();
    assert_eq!(
        e,
        PathError::BudgetExceeded {
            what: Budget::SignatureChecks,
            limit: 10
        }
    );
    let policy = PathPolicy {
        max_candidates: 5,
        ..chain_only()
    };
    let e = run(&l.parsed(), &[], &anchors(&refs), &policy).unwrap_err();
    assert_eq!(
        e,
        PathError::BudgetExceeded {
            what: Budget::Candidates,
            limit: 5
        }
    );
}

// ---- the property: random chains -----------------------------------------------------------

/// A verifier that counts what it is asked to verify.
struct Counting {
    calls: AtomicUsize,
}

impl Verifier for Counting {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> mso::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        SoftwareVerifier.verify(alg, key, message, signature)
    }
}

/// Certificates to build chains from: a two-level hierarchy, a same-name root with another
/// key, a cross-certified pair that loops, and a self-signed stranger.
fn pool() -> (Vec<Certificate>, Vec<Certificate>, Certificate) {
    let r = root("Root", Some(2));
    let r_other = root("Root", Some(2));
    let i1 = ca_under("Intermediate 1", Some(1), &r);
    let i2 = ca_under("Intermediate 2", Some(0), &i1);
    let i1_other = ca_under("Intermediate 1", Some(1), &r_other);
    let (x_soft, x_key) = new_key();
    let (y_soft, y_key) = new_key();
    let x0 = self_signed(
        params("Intermediate 2", &x_soft, Some(None)),
        KeyPair::try_from(x_soft.to_pkcs8_der().unwrap().as_slice()).unwrap(),
    );
    let y0 = self_signed(
        params("Y", &y_soft, Some(None)),
        KeyPair::try_from(y_soft.to_pkcs8_der().unwrap().as_slice()).unwrap(),
    );
    let x_by_y = signed(params("Intermediate 2", &x_soft, Some(None)), x_key, &y0);
    let y_by_x = signed(params("Y", &y_soft, Some(None)), y_key, &x0);
    let stranger = root("Stranger", None);
    let leaf = leaf_under("Leaf", &i2);
    let chain_pool = vec![
        i1.parsed(),
        i2.parsed(),
        i1_other.parsed(),
        x_by_y.parsed(),
        y_by_x.parsed(),
        stranger.parsed(),
        r.parsed(),
        r_other.parsed(),
    ];
    let anchor_pool = vec![r.parsed(), r_other.parsed(), stranger.parsed()];
    (chain_pool, anchor_pool, leaf.parsed())
}

#[test]
fn random_chains_never_panic_and_stay_within_the_budget() {
    let (chain_pool, anchor_pool, leaf) = pool();
    let (found, exhausted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // A fixed seed: the assertion below is about what the generator reaches, and with a new
    // seed per run 256 cases sometimes missed one end (a flaky failure, seen once).
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 256,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    // Mostly distinct certificates in a random order (a path can exist), sometimes one
    // repeated or too many; anchors a random subset; budgets from tiny to ample.
    let indices: Vec<usize> = (0..chain_pool.len()).collect();
    let strategy = (
        proptest::sample::subsequence(indices, 0..=5).prop_shuffle(),
        proptest::option::weighted(0.15, 0..chain_pool.len()),
        proptest::sample::subsequence(vec![0usize, 1, 2], 0..=3),
        1usize..24,
        1usize..24,
    );
    runner
        .run(
            &strategy,
            |(chain_ix, repeat, anchor_ix, max_sigs, max_candidates)| {
                let mut chain: Vec<Certificate> =
                    chain_ix.iter().map(|&i| chain_pool[i].clone()).collect();
                if let Some(i) = repeat {
                    chain.push(chain_pool[i].clone());
                }
                let anchors =
                    TrustAnchors::new(anchor_ix.iter().map(|&i| anchor_pool[i].clone()).collect());
                let policy = PathPolicy {
                    max_signature_checks: max_sigs,
                    max_candidates,
                    ..chain_only()
                };
                let counting = Counting {
                    calls: AtomicUsize::new(0),
                };
                let result = validate_with(
                    &leaf,
                    &chain,
                    &anchors,
                    AT,
                    Role::VicalSigner,
                    &counting,
                    &policy,
                );
                let calls = counting.calls.load(Ordering::SeqCst);
                prop_assert!(
                    calls <= max_sigs,
                    "{calls} verifications, budget {max_sigs}"
                );
                if matches!(result, Err(PathError::BudgetExceeded { .. })) {
                    exhausted.fetch_add(1, Ordering::SeqCst);
                }
                if let Ok(path) = result {
                    found.fetch_add(1, Ordering::SeqCst);
                    // A found path ends at a given anchor and every step is signed by the next.
                    let certs: Vec<&Certificate> = path.certificates().collect();
                    prop_assert!(anchors.anchors().contains(certs[certs.len() - 1]));
                    for pair in certs.windows(2) {
                        prop_assert!(pair[0].verify_issued_by(pair[1], &SoftwareVerifier).is_ok());
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    // The generator reaches both ends: paths found, and searches stopped by the budget.
    let (found, exhausted) = (found.into_inner(), exhausted.into_inner());
    assert!(
        found > 0 && exhausted > 0,
        "found {found}, exhausted {exhausted}"
    );
}

// ---- the anchors' memory of parsed leaves -----------------------------------------------------

#[test]
fn anchors_parse_a_leaf_once_and_remember_only_what_parses() {
    let root = root("Root", None);
    let leaf = leaf_under("Leaf", &root);
    let der = leaf.cert.der().to_vec();
    let a = anchors(&[&root]);

    let first = a.leaf(&der).unwrap();
    assert_eq!(*first, Certificate::from_der(&der).unwrap());
    // The same bytes give the same remembered value, not a new parse.
    assert!(std::sync::Arc::ptr_eq(&first, &a.leaf(&der).unwrap()));

    // Bytes that do not parse are refused each time, with the parser's error.
    let truncated = &der[..der.len() - 1];
    for _ in 0..2 {
        assert_eq!(
            a.leaf(truncated).unwrap_err(),
            Certificate::from_der(truncated).unwrap_err()
        );
    }
    // A certificate whose bytes differ by one signature byte is another certificate.
    let mut other = der.clone();
    *other.last_mut().unwrap() ^= 1;
    if let Ok(c) = a.leaf(&other) {
        assert_ne!(*c, *first);
    }
    // A copy of the anchors starts with an empty memory.
    assert!(!std::sync::Arc::ptr_eq(
        &a.clone().leaf(&der).unwrap(),
        &first
    ));
}

#[test]
fn a_certificate_is_equal_by_its_bytes_whatever_it_has_computed() {
    let root = root("Root", None);
    let der = root.cert.der().to_vec();
    let used = Certificate::from_der(&der).unwrap();
    let fingerprint = used.sha256();
    let key = used.public_key().unwrap();
    let fresh = Certificate::from_der(&der).unwrap();
    assert_eq!(used, fresh);
    let expected: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&der).into();
    assert_eq!(fingerprint, expected);
    // The remembered values are those a fresh certificate computes.
    assert_eq!(fresh.sha256(), fingerprint);
    assert_eq!(fresh.public_key().unwrap(), key);
    assert_eq!(used.clone(), fresh);
}

#[test]
fn the_memory_of_parsed_leaves_is_bounded_by_their_bytes() {
    let root = root("Root", None);
    let a = anchors(&[&root]);
    let (soft, key) = new_key();
    // Leaves of about 15 KiB each (a large private extension), all distinct.
    let big = |i: usize| {
        let mut p = params(&format!("Big leaf {i}"), &soft, None);
        p.use_authority_key_identifier_extension = true;
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, 7],
            vec![0x04, 0x82, 0x3a, 0x98]
                .into_iter()
                .chain(std::iter::repeat_n(0x55, 15_000))
                .collect(),
        )];
        p.signed_by(&key, &root.cert, &root.key)
            .unwrap()
            .der()
            .to_vec()
    };
    let first_der = big(0);
    let first = a.leaf(&first_der).unwrap();
    // While the bytes fit, the first leaf stays remembered.
    let fit = mso::x509::MAX_REMEMBERED_LEAF_BYTES / first_der.len() - 1;
    for i in 1..fit {
        a.leaf(&big(i)).unwrap();
    }
    assert!(std::sync::Arc::ptr_eq(&first, &a.leaf(&first_der).unwrap()));
    // Past the byte bound the memory starts over: the first leaf is parsed anew, to an equal
    // certificate.
    for i in fit..fit + 3 {
        a.leaf(&big(i)).unwrap();
    }
    let again = a.leaf(&first_der).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&first, &again));
    assert_eq!(*first, *again);
}
