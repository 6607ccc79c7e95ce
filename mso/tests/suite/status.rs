//! MSO revocation: Token Status List, Identifier List, COSE Key thumbprint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::pki;

use mso::crypto::{Algorithm, Curve, PublicKey, Signer, SoftwareKey, SoftwareVerifier};
use mso::status::*;
use mso::x509::policy::DEFAULT_SKEW;
use mso::x509::{PathError, Position, TrustAnchors};
use mso::Error;
use time::{Duration, OffsetDateTime};

const URI: &str = "https://status.example.jp/lists/1";

/// The list or token error inside `e`.
fn list_err(e: &Error) -> &ListTokenError {
    match e {
        Error::ListToken(l) => l,
        other => panic!("expected a list token error, got {other:?}"),
    }
}

// ---- PROFILES test vector -------------------------------------------------------------------

const VECTOR_STATUSES: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
const VECTOR_BYTES: [u8; 2] = [0xb9, 0xa3];
const VECTOR_LST: [u8; 10] = [0x78, 0xda, 0xdb, 0xb9, 0x18, 0x00, 0x02, 0x17, 0x01, 0x5d];

#[test]
fn profiles_vector_encodes() {
    let mut list = StatusList::new(1, 16).unwrap();
    for (i, s) in VECTOR_STATUSES.iter().enumerate() {
        list.set(i, Status::from_value(*s)).unwrap();
    }
    assert_eq!(list.bytes(), VECTOR_BYTES);
    assert_eq!(list.compress().unwrap(), VECTOR_LST);
}

#[test]
fn profiles_vector_decodes() {
    let list = StatusList::decompress(1, &VECTOR_LST, 1024).unwrap();
    assert_eq!(list.bytes(), VECTOR_BYTES);
    assert_eq!(list.len(), 16);
    for (i, s) in VECTOR_STATUSES.iter().enumerate() {
        assert_eq!(list.get(i).unwrap().value(), *s, "index {i}");
    }
    assert_eq!(list.get(0).unwrap(), Status::Invalid);
    assert_eq!(list.get(1).unwrap(), Status::Valid);
}

// ---- packing ----------------------------------------------------------------------------------

#[test]
fn get_set_every_width() {
    for bits in [1u8, 2, 4, 8] {
        let len = 37;
        let mut list = StatusList::new(bits, len).unwrap();
        let max = ((1u16 << bits) - 1) as u8;
        assert_eq!(list.bytes().len(), (len * bits as usize).div_ceil(8));
        let value = |i: usize| (i as u8).wrapping_mul(7) & max;
        for i in 0..list.len() {
            list.set(i, Status::from_value(value(i))).unwrap();
        }
        for i in 0..list.len() {
            assert_eq!(
                list.get(i).unwrap().value(),
                value(i),
                "bits {bits} idx {i}"
            );
        }
        // Boundaries: first and last entries take the maximum value without disturbing
        // neighbours.
        let last = list.len() - 1;
        list.set(0, Status::from_value(max)).unwrap();
        list.set(last, Status::from_value(max)).unwrap();
        assert_eq!(list.get(0).unwrap().value(), max);
        assert_eq!(list.get(last).unwrap().value(), max);
        assert_eq!(list.get(1).unwrap().value(), value(1));
        assert_eq!(list.get(last - 1).unwrap().value(), value(last - 1));
        // Out of range.
        let out = |e: Error| matches!(list_err(&e), ListTokenError::IndexOutOfRange { .. });
        assert!(out(list.get(list.len()).unwrap_err()));
        assert!(out(list.set(list.len(), Status::Valid).unwrap_err()));
        assert!(out(list.get(usize::MAX).unwrap_err()));
        // A value that does not fit.
        if bits < 8 {
            let e = list.set(0, Status::from_value(max + 1)).unwrap_err();
            assert_eq!(
                list_err(&e),
                &ListTokenError::ValueTooWide {
                    value: max + 1,
                    bits
                }
            );
        }
        // Round trip through lst.
        let back = StatusList::decompress(bits, &list.compress().unwrap(), 1 << 20).unwrap();
        assert_eq!(back, list);
    }
}

#[test]
fn lsb_first_packing() {
    let mut l = StatusList::new(2, 8).unwrap();
    l.set(0, Status::Invalid).unwrap();
    l.set(3, Status::Suspended).unwrap();
    l.set(4, Status::Other(3)).unwrap();
    assert_eq!(l.bytes(), [0b1000_0001, 0b0000_0011]);
    let mut l = StatusList::new(4, 2).unwrap();
    l.set(1, Status::Other(0xa)).unwrap();
    assert_eq!(l.bytes(), [0xa0]);
}

#[test]
fn bad_bits_refused() {
    for bits in [0u8, 3, 5, 16] {
        let expected = ListTokenError::Bits {
            bits: u64::from(bits),
        };
        assert_eq!(list_err(&StatusList::new(bits, 8).unwrap_err()), &expected);
        assert_eq!(
            list_err(&StatusList::decompress(bits, &VECTOR_LST, 10).unwrap_err()),
            &expected
        );
    }
}

#[test]
fn zip_bomb_is_bounded() {
    // 64 MiB of zeros compresses to a few tens of KiB.
    let big = StatusList::new(8, 64 * 1024 * 1024).unwrap();
    let lst = big.compress().unwrap();
    assert!(lst.len() < 200 * 1024);
    let err = StatusList::decompress(8, &lst, 1024 * 1024).unwrap_err();
    assert_eq!(
        err,
        Error::TooLarge {
            size: 1024 * 1024 + 1,
            limit: 1024 * 1024
        }
    );
    // Exactly at the bound is fine.
    let small = StatusList::new(8, 1000).unwrap();
    let ok = StatusList::decompress(8, &small.compress().unwrap(), 1000).unwrap();
    assert_eq!(ok.len(), 1000);
    // Garbage is a typed error, not a panic.
    assert!(matches!(
        StatusList::decompress(1, b"not zlib", 100),
        Err(Error::ListToken(ListTokenError::Lst { .. }))
    ));
    assert!(StatusList::decompress(1, &VECTOR_LST[..6], 100).is_err());
}

// ---- tokens -----------------------------------------------------------------------------------

struct Fixture {
    pki: pki::TestPki,
    signer: SoftwareKey,
    signer_der: Vec<u8>,
    anchors: TrustAnchors,
}

fn fixture() -> Fixture {
    let pki = pki::TestPki::new();
    let signer = SoftwareKey::generate(Algorithm::Es256);
    let signer_der = pki.issue_ds(&signer, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let anchors = TrustAnchors::new(vec![pki.iaca()]);
    Fixture {
        pki,
        signer,
        signer_der,
        anchors,
    }
}

fn claims() -> TokenClaims {
    TokenClaims {
        sub: URI.into(),
        iat: pki::AT - Duration::hours(1),
        exp: pki::AT + Duration::days(1),
        ttl: Some(43_200),
    }
}

fn vector_list() -> StatusList {
    StatusList::decompress(1, &VECTOR_LST, 16).unwrap()
}

fn status_token(f: &Fixture, claims: &TokenClaims) -> Vec<u8> {
    StatusListToken::prepare(
        &vector_list(),
        Some("https://status.example.jp/lists"),
        claims,
        Algorithm::Es256,
        std::slice::from_ref(&f.signer_der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap()
}

fn verify(
    f: &Fixture,
    token: &[u8],
    uri: &str,
    at: OffsetDateTime,
) -> mso::Result<VerifiedStatusList> {
    StatusListToken::verify(token, uri, at, &f.anchors, &SoftwareVerifier)
}

#[test]
fn status_token_round_trip() {
    let f = fixture();
    let token = status_token(&f, &claims());
    assert_eq!(token[0], 0xd2, "tagged 18");
    let v = verify(&f, &token, URI, pki::AT).unwrap();
    assert_eq!(v.claims, claims());
    assert_eq!(v.list, vector_list());
    assert_eq!(
        v.aggregation_uri.as_deref(),
        Some("https://status.example.jp/lists")
    );
    assert_eq!(v.signer.der(), f.signer_der.as_slice());
    for (i, s) in VECTOR_STATUSES.iter().enumerate() {
        assert_eq!(v.status(i as u64).unwrap().value(), *s);
    }
    assert_eq!(
        list_err(&v.status(16).unwrap_err()),
        &ListTokenError::IndexOutOfRange { index: 16, len: 16 }
    );
    assert!(matches!(
        list_err(&v.status(u64::MAX).unwrap_err()),
        ListTokenError::IndexOutOfRange { .. }
    ));
}

#[test]
fn two_phase_signing_matches_one_step() {
    let f = fixture();
    let prepared = StatusListToken::prepare(
        &vector_list(),
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&f.signer_der),
    )
    .unwrap();
    assert_eq!(prepared.algorithm(), Algorithm::Es256);
    let sig = f.signer.sign(prepared.to_be_signed()).unwrap();
    let token = prepared.clone().complete(sig).unwrap();
    let v = verify(&f, &token, URI, pki::AT).unwrap();
    assert_eq!(v.aggregation_uri, None);
    assert!(matches!(
        prepared.complete(vec![0; 10]),
        Err(Error::MalformedSignature(_))
    ));
}

#[test]
fn wrong_typ_is_refused() {
    let f = fixture();
    // An identifier list token presented as a status list (and vice versa).
    let ids = IdentifierListToken::prepare(
        &IdentifierList::new(),
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&f.signer_der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap();
    let e = verify(&f, &ids, URI, pki::AT).unwrap_err();
    assert!(matches!(list_err(&e), ListTokenError::Typ { .. }), "{e:?}");
    let sl = status_token(&f, &claims());
    let e =
        IdentifierListToken::verify(&sl, URI, pki::AT, &f.anchors, &SoftwareVerifier).unwrap_err();
    assert!(matches!(list_err(&e), ListTokenError::Typ { .. }), "{e:?}");
}

#[test]
fn wrong_sub_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    let e = verify(&f, &token, "https://status.example.jp/lists/2", pki::AT).unwrap_err();
    assert_eq!(
        list_err(&e),
        &ListTokenError::Sub {
            expected: "https://status.example.jp/lists/2".into(),
            found: URI.into()
        }
    );
}

#[test]
fn expired_token_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    let after = claims().exp + DEFAULT_SKEW + Duration::seconds(1);
    assert_eq!(
        list_err(&verify(&f, &token, URI, after).unwrap_err()),
        &ListTokenError::Expired {
            exp: claims().exp,
            at: after
        }
    );
    // Within the skew it still verifies.
    assert!(verify(&f, &token, URI, claims().exp).is_ok());
}

#[test]
fn future_iat_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    let before = claims().iat - DEFAULT_SKEW - Duration::seconds(1);
    assert_eq!(
        list_err(&verify(&f, &token, URI, before).unwrap_err()),
        &ListTokenError::IssuedInFuture {
            iat: claims().iat,
            at: before
        }
    );
}

#[test]
fn signer_must_chain_to_the_iaca() {
    let f = fixture();
    // A list signer certified by some other IACA.
    let other = pki::TestPki::new();
    let der = other.issue_ds(&f.signer, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER);
    let token = StatusListToken::prepare(
        &vector_list(),
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap();
    let e = verify(&f, &token, URI, pki::AT).unwrap_err();
    assert!(
        matches!(list_err(&e), ListTokenError::Signer(PathError::BadSignature { cert, .. }) if cert.position == Position::Leaf),
        "{e:?}"
    );
    // A trusted certificate (the DS) in x5chain, but the token signed by another key: the
    // signature check refuses it.
    let token = StatusListToken::prepare(
        &vector_list(),
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&f.pki.ds_der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap();
    assert_eq!(
        verify(&f, &token, URI, pki::AT).unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn signer_outside_validity_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    let late = pki::DS_NOT_AFTER + Duration::days(2);
    let late_claims = TokenClaims {
        iat: late - Duration::hours(1),
        exp: late + Duration::days(1),
        ..claims()
    };
    let token_late = status_token(&f, &late_claims);
    assert!(verify(&f, &token, URI, pki::AT).is_ok());
    let e = verify(&f, &token_late, URI, late).unwrap_err();
    assert!(
        matches!(list_err(&e), ListTokenError::Signer(PathError::Expired { cert, .. }) if cert.position == Position::Leaf),
        "{e:?}"
    );
}

#[test]
fn tampered_payload_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    // Flip a byte of the compressed list (the 0xb9... deflate data sits inside the payload).
    let pos = token
        .windows(VECTOR_LST.len())
        .position(|w| w == VECTOR_LST)
        .unwrap();
    let mut bad = token.clone();
    bad[pos + 3] ^= 0x01;
    assert_eq!(
        verify(&f, &bad, URI, pki::AT).unwrap_err(),
        Error::BadSignature
    );
    // Every single-byte mutation is refused with an error, never a panic.
    for i in 0..token.len() {
        let mut m = token.clone();
        m[i] ^= 0x80;
        assert!(verify(&f, &m, URI, pki::AT).is_err(), "byte {i}");
    }
    // Truncations likewise.
    for n in 0..token.len() {
        assert!(verify(&f, &token[..n], URI, pki::AT).is_err());
    }
}

#[test]
fn disallowed_algorithm_is_refused() {
    let f = fixture();
    let token = status_token(&f, &claims());
    let mut opts = TokenVerifyOptions::new(pki::AT, &f.anchors);
    opts.allowed_algorithms = &[Algorithm::Es384];
    let e = StatusListToken::verify_with(&token, URI, &opts, &SoftwareVerifier).unwrap_err();
    assert_eq!(
        list_err(&e),
        &ListTokenError::AlgorithmNotAllowed {
            algorithm: Algorithm::Es256
        }
    );
}

#[test]
fn oversized_list_in_token_is_refused() {
    let f = fixture();
    let big = StatusList::new(1, 8 * 100_000).unwrap();
    let token = StatusListToken::prepare(
        &big,
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&f.signer_der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap();
    let mut opts = TokenVerifyOptions::new(pki::AT, &f.anchors);
    opts.max_list_len = 50_000;
    let e = StatusListToken::verify_with(&token, URI, &opts, &SoftwareVerifier).unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 50_000, .. }), "{e:?}");
    opts.max_list_len = 100_000;
    assert!(StatusListToken::verify_with(&token, URI, &opts, &SoftwareVerifier).is_ok());
}

#[test]
fn identifier_list_round_trip() {
    let f = fixture();
    let k1 = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let k2 = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let k3 = SoftwareKey::generate(Algorithm::EdDsa)
        .public_key()
        .unwrap();
    let mut list = IdentifierList::new();
    assert!(list.insert(cose_key_thumbprint(&k1)));
    assert!(list.insert(cose_key_thumbprint(&k3)));
    assert!(!list.insert(cose_key_thumbprint(&k1)));
    assert_eq!(list.len(), 2);
    let token = IdentifierListToken::prepare(
        &list,
        Some("https://status.example.jp/ids"),
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&f.signer_der),
    )
    .unwrap()
    .sign(&f.signer)
    .unwrap();
    let v =
        IdentifierListToken::verify(&token, URI, pki::AT, &f.anchors, &SoftwareVerifier).unwrap();
    assert_eq!(v.list, list);
    assert!(v.contains(&cose_key_thumbprint(&k1)));
    assert!(v.contains(&cose_key_thumbprint(&k3)));
    assert!(!v.contains(&cose_key_thumbprint(&k2)));
    assert_eq!(
        v.aggregation_uri.as_deref(),
        Some("https://status.example.jp/ids")
    );
    let e =
        IdentifierListToken::verify(&token, "https://x", pki::AT, &f.anchors, &SoftwareVerifier)
            .unwrap_err();
    assert!(matches!(list_err(&e), ListTokenError::Sub { .. }), "{e:?}");
}

// ---- thumbprint -------------------------------------------------------------------------------

fn hex32(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn thumbprint_rfc9679_example() {
    // RFC 9679 §6 example key (the RFC 9052 C.7.1 P-256 key "meriadoc.brandybuck@buckland.example").
    let x = hex32("65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d");
    let y = hex32("1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c");
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let key = PublicKey::from_sec1(Curve::P256, &sec1).unwrap();
    assert_eq!(
        hex::encode(cose_key_thumbprint(&key)),
        "496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec"
    );
}

#[test]
fn thumbprint_is_deterministic_and_distinguishes_keys() {
    for alg in [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ] {
        let a = SoftwareKey::generate(alg).public_key().unwrap();
        let b = SoftwareKey::generate(alg).public_key().unwrap();
        assert_eq!(cose_key_thumbprint(&a), cose_key_thumbprint(&a.clone()));
        assert_ne!(cose_key_thumbprint(&a), cose_key_thumbprint(&b));
        // Independent of how the key was received: compressed SEC1 gives the same key.
        if let PublicKey::P256(k) = &a {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let compressed = k.to_encoded_point(true);
            let again = PublicKey::from_sec1(Curve::P256, compressed.as_bytes()).unwrap();
            assert_eq!(cose_key_thumbprint(&a), cose_key_thumbprint(&again));
        }
    }
}

#[test]
fn thumbprint_input_is_the_required_members_in_canonical_order() {
    // Recompute by hand for an Ed25519 key: {1: 1, -1: 6, -2: x}.
    use sha2::{Digest, Sha256};
    let k = SoftwareKey::generate(Algorithm::EdDsa)
        .public_key()
        .unwrap();
    let x = k.to_sec1();
    let mut enc = vec![0xa3, 0x01, 0x01, 0x20, 0x06, 0x21, 0x58, 0x20];
    enc.extend_from_slice(&x);
    assert_eq!(
        cose_key_thumbprint(&k),
        <[u8; 32]>::from(Sha256::digest(&enc))
    );
}

/// Issue 12, Build 4: a list signer of ISO/IEC 18013-5 second edition Table B.9 (issued by the
/// IACA, no extendedKeyUsage) signs the lists; the token carries its x5chain in the protected
/// header (12.3.6.3); the profile finds nothing in it, and reports one valid past 1187 days.
#[test]
fn a_table_b9_list_signer_signs_the_lists_with_a_protected_x5chain() {
    use mso::cbor::{from_slice, Limits, Value};
    use mso::x509::profile::{inspect_list_signer, Violation};
    let f = fixture();
    let key = SoftwareKey::generate(Algorithm::Es256);
    let der = f.pki.issue_ds_variant(
        &key,
        pki::DS_NOT_BEFORE,
        pki::DS_NOT_AFTER,
        pki::DsVariant::NoEku,
    );
    let cert = mso::x509::Certificate::from_der(&der).unwrap();
    let iaca = f.pki.iaca();
    let findings = inspect_list_signer(cert.tbs(), Some(iaca.tbs())).into_findings();
    assert!(findings.is_empty(), "{findings:?}");
    let token = StatusListToken::prepare(
        &vector_list(),
        None,
        &claims(),
        Algorithm::Es256,
        std::slice::from_ref(&der),
    )
    .unwrap()
    .sign(&key)
    .unwrap();
    let v = verify(&f, &token, URI, pki::AT).unwrap();
    assert_eq!(v.signer.der(), der.as_slice());

    let Value::Tag(18, sign1) = from_slice::<Value>(&token, &Limits::DEFAULT).unwrap() else {
        panic!("not a tagged COSE_Sign1");
    };
    let Value::Array(parts) = *sign1 else {
        panic!("not an array");
    };
    let Value::Bytes(protected) = &parts[0] else {
        panic!("protected header is not a bstr");
    };
    let x5chain_in = |m: &Value| matches!(m, Value::Map(e) if e.iter().any(|(k, _)| *k == Value::Integer(33.into())));
    assert!(x5chain_in(
        &from_slice::<Value>(protected, &Limits::DEFAULT).unwrap()
    ));
    assert!(!x5chain_in(&parts[1]), "not in the unprotected header");

    let long = f.pki.issue_ds_variant(
        &key,
        pki::DS_NOT_BEFORE,
        pki::DS_NOT_BEFORE + Duration::days(1188),
        pki::DsVariant::NoEku,
    );
    let long = mso::x509::Certificate::from_der(&long).unwrap();
    let findings = inspect_list_signer(long.tbs(), Some(iaca.tbs())).into_findings();
    assert!(
        findings.iter().any(
            |f| matches!(&f.violation, Violation::ValidityTooLong { limit, .. } if limit == "1187 days")
        ),
        "{findings:?}"
    );
}
