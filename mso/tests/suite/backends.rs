//! The input contract of the signature backends: RustCrypto ([`SoftwareVerifier`]) and aws-lc
//! ([`AwsLcVerifier`], feature `aws-lc`) give the same outcome for every input of one table of
//! good and bad signatures and keys, for ES256, ES384, ES512 and EdDSA; and each verifies what
//! the other signs.
//!
//! Every case states the outcome it expects, so without the feature the table still holds the
//! software backend (and `DefaultVerifier`) to it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use mso::crypto::{
    Algorithm, Curve, DefaultVerifier, PublicKey, Signer, SoftwareKey, SoftwareVerifier, Verifier,
};
use mso::Error;

/// What a verification came to, by error kind (messages may differ, kinds may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Valid,
    BadSignature,
    Malformed,
    InvalidKey,
    AlgorithmMismatch,
}

fn outcome(result: mso::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Valid,
        Err(Error::BadSignature) => Outcome::BadSignature,
        Err(Error::MalformedSignature(_)) => Outcome::Malformed,
        Err(Error::InvalidKey(_)) => Outcome::InvalidKey,
        Err(Error::AlgorithmMismatch { .. }) => Outcome::AlgorithmMismatch,
        Err(other) => panic!("unexpected error kind from a verifier: {other:?}"),
    }
}

/// Every backend this build has, by name.
fn backends() -> Vec<(&'static str, &'static dyn Verifier)> {
    vec![
        ("RustCrypto", &SoftwareVerifier),
        ("DefaultVerifier", &DefaultVerifier),
        #[cfg(feature = "aws-lc")]
        ("aws-lc", &mso::crypto::AwsLcVerifier),
    ]
}

const ALGS: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::EdDsa,
];

fn curve(alg: Algorithm) -> Curve {
    match alg {
        Algorithm::Es256 => Curve::P256,
        Algorithm::Es384 => Curve::P384,
        Algorithm::Es512 => Curve::P521,
        Algorithm::EdDsa => Curve::Ed25519,
    }
}

/// The group order, big-endian and as wide as the signature's scalars (for ECDSA).
fn order(alg: Algorithm) -> Vec<u8> {
    let hex = match alg {
        Algorithm::Es256 => "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        Algorithm::Es384 => concat!(
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf",
            "581a0db248b0a77aecec196accc52973"
        ),
        Algorithm::Es512 => concat!(
            "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"
        ),
        // Ed25519's L, little-endian as the signature's S is.
        Algorithm::EdDsa => "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
    };
    hex::decode(hex).unwrap()
}

/// `a - b` for big-endian numbers of equal width (a ≥ b).
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// `a + b` for little-endian numbers of equal width (no overflow in the cases used).
fn add_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut carry = 0u16;
    for i in 0..a.len() {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

/// One row: a key (as SEC1 / raw bytes, parsed by the shared `PublicKey::from_sec1`), the
/// algorithm claimed, message, signature, and the outcome every backend must give.
struct Case {
    name: String,
    alg: Algorithm,
    key: (Curve, Vec<u8>),
    message: Vec<u8>,
    signature: Vec<u8>,
    expected: Outcome,
}

fn run(case: &Case, verifier: &dyn Verifier) -> Outcome {
    match PublicKey::from_sec1(case.key.0, &case.key.1) {
        Ok(key) => outcome(verifier.verify(case.alg, &key, &case.message, &case.signature)),
        Err(e) => outcome(Err(e)),
    }
}

/// 32 bytes that are no Ed25519 point (found, not assumed: half of all y have no x).
fn ed25519_not_a_point() -> Vec<u8> {
    (2u8..=255)
        .map(|b| {
            let mut raw = vec![0u8; 32];
            raw[0] = b;
            raw
        })
        .find(|raw| PublicKey::from_sec1(Curve::Ed25519, raw).is_err())
        .unwrap()
}

fn cases() -> Vec<Case> {
    let message = b"the COSE Sig_structure bytes of some MSO".to_vec();
    let mut cases = Vec::new();
    for alg in ALGS {
        let key = SoftwareKey::generate(alg);
        let public = key.public_key().unwrap().to_sec1();
        let sig = key.sign(&message).unwrap();
        let empty_sig = key.sign(b"").unwrap();
        let n = order(alg);
        let half = alg.signature_len() / 2;
        let mut case = |name: &str, key: (Curve, Vec<u8>), msg: &[u8], sig: Vec<u8>, exp| {
            cases.push(Case {
                name: format!("{alg} {name}"),
                alg,
                key,
                message: msg.to_vec(),
                signature: sig,
                expected: exp,
            });
        };
        let own = || (curve(alg), public.clone());
        use Outcome::*;

        case("valid", own(), &message, sig.clone(), Valid);
        case("empty message", own(), b"", empty_sig.clone(), Valid);
        case(
            "other message",
            own(),
            b"another message",
            sig.clone(),
            BadSignature,
        );
        case(
            "signature of the empty message",
            own(),
            &message,
            empty_sig,
            BadSignature,
        );
        case("empty signature", own(), &message, Vec::new(), Malformed);
        case(
            "one byte short",
            own(),
            &message,
            sig[..sig.len() - 1].to_vec(),
            Malformed,
        );
        let mut long = sig.clone();
        long.push(0);
        case("one byte long", own(), &message, long, Malformed);
        case(
            "DER-length garbage",
            own(),
            &message,
            vec![0x30; 72],
            Malformed,
        );
        case("all zero", own(), &message, vec![0; sig.len()], Malformed);

        let other = SoftwareKey::generate(alg).public_key().unwrap().to_sec1();
        case(
            "another key",
            (curve(alg), other),
            &message,
            sig.clone(),
            BadSignature,
        );
        let wrong_curve = if alg == Algorithm::Es256 {
            Algorithm::Es384
        } else {
            Algorithm::Es256
        };
        let foreign = SoftwareKey::generate(wrong_curve).public_key().unwrap();
        case(
            "key of another curve",
            (curve(wrong_curve), foreign.to_sec1()),
            &message,
            sig.clone(),
            AlgorithmMismatch,
        );

        if alg == Algorithm::EdDsa {
            let (r, s) = sig.split_at(32);
            let mut flipped = sig.clone();
            flipped[0] ^= 0x01;
            case("R changed", own(), &message, flipped, BadSignature);
            let mut flipped = sig.clone();
            flipped[32] ^= 0x01;
            case("S changed", own(), &message, flipped, BadSignature);
            // S + L: the same value mod L, the classic malleability; refused as not reduced.
            let unreduced = [r, &add_le(s, &n)].concat();
            case("S + L", own(), &message, unreduced, Malformed);
            case("S = L", own(), &message, [r, &n].concat(), Malformed);
            case(
                "S all ones",
                own(),
                &message,
                [r, &[0xff; 32][..]].concat(),
                Malformed,
            );
            // The identity as R (y = 1), and as the key: with identity key, R = identity and
            // S = 0 satisfy the cofactorless equation for every message.
            let mut identity = [0u8; 32];
            identity[0] = 1;
            let small_r = [&identity[..], s].concat();
            case("R of small order", own(), &message, small_r, Malformed);
            let forged = [&identity[..], &[0u8; 32][..]].concat();
            let id_key = (Curve::Ed25519, identity.to_vec());
            case(
                "identity key, forged signature",
                id_key,
                &message,
                forged,
                InvalidKey,
            );
            // y = -1 (order 2) as the key.
            let mut minus_one = [0xffu8; 32];
            minus_one[0] = 0xec;
            minus_one[31] = 0x7f;
            let order2 = (Curve::Ed25519, minus_one.to_vec());
            case("key of order 2", order2, &message, sig.clone(), InvalidKey);
            let bad = (Curve::Ed25519, ed25519_not_a_point());
            case("key not a point", bad, &message, sig.clone(), InvalidKey);
            let short = (Curve::Ed25519, public[..31].to_vec());
            case("key 31 bytes", short, &message, sig.clone(), InvalidKey);
            continue;
        }

        let (r, s) = sig.split_at(half);
        let zero = vec![0u8; half];
        let mut flipped = sig.clone();
        *flipped.last_mut().unwrap() ^= 0x01;
        case("s changed", own(), &message, flipped, BadSignature);
        let mut flipped = sig.clone();
        flipped[half - 1] ^= 0x01;
        case("r changed", own(), &message, flipped, BadSignature);
        // n - s: the other valid s for the same r (ECDSA is malleable; COSE accepts both).
        case(
            "high/low s swapped",
            own(),
            &message,
            [r, &sub_be(&n, s)].concat(),
            Valid,
        );
        case("r = 0", own(), &message, [&zero, s].concat(), Malformed);
        case("s = 0", own(), &message, [r, &zero].concat(), Malformed);
        case("r = n", own(), &message, [&n, s].concat(), Malformed);
        case("s = n", own(), &message, [r, &n].concat(), Malformed);
        let all_ones = vec![0xffu8; half];
        case("r > n", own(), &message, [&all_ones, s].concat(), Malformed);
        case("s > n", own(), &message, [r, &all_ones].concat(), Malformed);
        // n - 1 is in range, so it reaches the arithmetic (and fails there).
        let mut n_minus_1 = n.clone();
        *n_minus_1.last_mut().unwrap() -= 1;
        case(
            "s = n - 1",
            own(),
            &message,
            [r, &n_minus_1].concat(),
            BadSignature,
        );

        // Key encodings: compressed is the same key; off the curve, the identity, the wrong
        // length and a wrong prefix are not keys at all.
        let compressed = key.public_key().unwrap();
        let compressed = match compressed {
            PublicKey::P256(k) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                k.to_encoded_point(true).as_bytes().to_vec()
            }
            PublicKey::P384(k) => {
                use p384::elliptic_curve::sec1::ToEncodedPoint;
                k.to_encoded_point(true).as_bytes().to_vec()
            }
            PublicKey::P521(k) => {
                use p521::elliptic_curve::sec1::ToEncodedPoint;
                k.to_encoded_point(true).as_bytes().to_vec()
            }
            PublicKey::Ed25519(_) => unreachable!(),
        };
        case(
            "compressed key",
            (curve(alg), compressed),
            &message,
            sig.clone(),
            Valid,
        );
        let mut off_curve = public.clone();
        *off_curve.last_mut().unwrap() ^= 0x01;
        case(
            "key off the curve",
            (curve(alg), off_curve),
            &message,
            sig.clone(),
            InvalidKey,
        );
        case(
            "key the identity",
            (curve(alg), vec![0x00]),
            &message,
            sig.clone(),
            InvalidKey,
        );
        let mut zero_point = vec![0u8; public.len()];
        zero_point[0] = 0x04;
        case(
            "key (0, 0)",
            (curve(alg), zero_point),
            &message,
            sig.clone(),
            InvalidKey,
        );
        let truncated = public[..public.len() - 1].to_vec();
        case(
            "key truncated",
            (curve(alg), truncated),
            &message,
            sig.clone(),
            InvalidKey,
        );
        let mut prefix = public.clone();
        prefix[0] = 0x05;
        case(
            "key bad prefix",
            (curve(alg), prefix),
            &message,
            sig.clone(),
            InvalidKey,
        );
    }
    cases
}

#[test]
fn every_backend_gives_the_expected_outcome_for_every_input() {
    let cases = cases();
    assert!(cases.len() > 90, "the table lost rows: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        for (name, verifier) in backends() {
            let got = run(case, verifier);
            if got != case.expected {
                failures.push(format!(
                    "{}: {name} gave {got:?}, expected {:?}",
                    case.name, case.expected
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn default_verifier_is_the_feature_s_backend() {
    let name = std::any::type_name::<DefaultVerifier>();
    #[cfg(feature = "aws-lc")]
    assert!(name.ends_with("AwsLcVerifier"), "{name}");
    #[cfg(not(feature = "aws-lc"))]
    assert!(name.ends_with("SoftwareVerifier"), "{name}");
}

#[test]
fn default_signer_signs_what_every_backend_verifies() {
    for alg in ALGS {
        let key = SoftwareKey::generate(alg);
        let signer = mso::crypto::default_signer(&key).unwrap();
        assert_eq!(signer.algorithm(), alg);
        assert_eq!(signer.public_key().unwrap(), key.public_key().unwrap());
        let sig = signer.sign(b"tbs").unwrap();
        for (name, verifier) in backends() {
            verifier
                .verify(alg, &key.public_key().unwrap(), b"tbs", &sig)
                .unwrap_or_else(|e| panic!("{alg}: {name} refused the default signer's: {e}"));
        }
    }
}

/// aws-lc signs, RustCrypto verifies, and the other way round, for every algorithm; a PKCS#8
/// key moves between them unchanged.
#[cfg(feature = "aws-lc")]
#[test]
fn each_backend_verifies_what_the_other_signs() {
    use mso::crypto::{AwsLcSigner, AwsLcVerifier};
    for alg in ALGS {
        let software = SoftwareKey::generate(alg);
        let aws = AwsLcSigner::from_software(&software).unwrap();
        let again = AwsLcSigner::from_pkcs8(alg, &software.to_pkcs8_der().unwrap()).unwrap();
        let public = software.public_key().unwrap();
        assert_eq!(aws.public_key().unwrap(), public, "{alg}");
        assert_eq!(again.public_key().unwrap(), public, "{alg}");
        for message in [&b""[..], b"x", &[0xa5; 4096][..]] {
            let by_aws = aws.sign(message).unwrap();
            let by_software = software.sign(message).unwrap();
            assert_eq!(by_aws.len(), alg.signature_len());
            SoftwareVerifier
                .verify(alg, &public, message, &by_aws)
                .unwrap_or_else(|e| panic!("{alg}: RustCrypto refused aws-lc's signature: {e}"));
            AwsLcVerifier
                .verify(alg, &public, message, &by_software)
                .unwrap_or_else(|e| panic!("{alg}: aws-lc refused RustCrypto's signature: {e}"));
            AwsLcVerifier
                .verify(alg, &public, message, &by_aws)
                .unwrap();
            // And neither accepts the other's signature over a different message.
            assert_eq!(
                outcome(SoftwareVerifier.verify(alg, &public, b"other", &by_aws)),
                Outcome::BadSignature
            );
            assert_eq!(
                outcome(AwsLcVerifier.verify(alg, &public, b"other", &by_software)),
                Outcome::BadSignature
            );
        }
    }
}

/// A PKCS#8 key of one algorithm is refused when loaded for another.
#[cfg(feature = "aws-lc")]
#[test]
fn aws_lc_signer_refuses_a_key_of_another_algorithm() {
    let p256 = SoftwareKey::generate(Algorithm::Es256)
        .to_pkcs8_der()
        .unwrap();
    for alg in [Algorithm::Es384, Algorithm::Es512, Algorithm::EdDsa] {
        assert!(matches!(
            mso::crypto::AwsLcSigner::from_pkcs8(alg, &p256),
            Err(Error::InvalidKey(_))
        ));
    }
}
