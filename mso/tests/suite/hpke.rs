//! `mso::crypto::hpke`, the public single-shot functions: RFC 9180 Appendix A.3.1 opens, fresh
//! messages round-trip, and every wrong key, wrong context or damaged byte is the one
//! `HpkeDecryption`. (The lib tests in `src/crypto/hpke.rs` reproduce the vector's `enc` and all
//! 257 ciphertexts through the private ephemeral-key path.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mso::crypto::ecdh::AgreementKey;
use mso::crypto::hpke::{open, seal, ENC_LEN, TAG_LEN};
use mso::crypto::{Curve, PublicKey, Signer};
use mso::Error;
use rand_core::OsRng;
use serde_json::Value;

fn vector() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hpke/rfc9180-dhkem-p256-hkdf-sha256-aes128gcm-base.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hx(v: &Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().unwrap()).unwrap()
}

fn p256() -> AgreementKey {
    AgreementKey::P256(p256::SecretKey::random(&mut OsRng))
}

/// RFC 9180 Appendix A.3.1 as printed in the RFC (its text, not the JSON): the fixture must be
/// that suite's base-mode vector.
#[test]
fn the_fixture_is_rfc9180_appendix_a31() {
    let v = vector();
    assert_eq!(
        (&v["mode"], &v["kem_id"], &v["kdf_id"], &v["aead_id"]),
        (&0.into(), &16.into(), &1.into(), &1.into())
    );
    let rfc = [
        ("info", "4f6465206f6e2061204772656369616e2055726e"),
        (
            "ikmE",
            "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
        ),
        (
            "ikmR",
            "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
        ),
        (
            "skRm",
            "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
        ),
        (
            "enc",
            "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325\
             ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
        ),
    ];
    for (name, hex) in rfc {
        assert_eq!(v[name].as_str().unwrap(), hex, "{name}");
    }
    let first = &v["encryptions"][0];
    assert_eq!(
        first["ct"].as_str().unwrap(),
        "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f\
         9076ac232e3ab2523f39513434"
    );
    assert_eq!(first["aad"].as_str().unwrap(), "436f756e742d30");
}

#[test]
fn open_decrypts_the_vector_single_shot_message() {
    let v = vector();
    let key = AgreementKey::from_scalar(Curve::P256, &hx(&v, "skRm")).unwrap();
    assert_eq!(key.public_key().to_sec1(), hx(&v, "pkRm"));
    let first = &v["encryptions"][0];
    let pt = open(
        &key,
        &hx(&v, "enc"),
        &hx(&v, "info"),
        &hx(first, "aad"),
        &hx(first, "ct"),
    )
    .unwrap();
    assert_eq!(*pt, hx(first, "pt"));
    assert_eq!(&*pt, b"Beauty is truth, truth beauty");

    // A later message of the same context is not a single-shot message: its nonce differs.
    let second = &v["encryptions"][1];
    assert_eq!(
        open(
            &key,
            &hx(&v, "enc"),
            &hx(&v, "info"),
            &hx(second, "aad"),
            &hx(second, "ct")
        ),
        Err(Error::HpkeDecryption)
    );
}

#[test]
fn sealed_messages_round_trip_with_fresh_ephemeral_keys() {
    let key = p256();
    let pt = b"a DeviceResponse";
    let a = seal(&key.public_key(), b"info", b"aad", pt).unwrap();
    let b = seal(&key.public_key(), b"info", b"aad", pt).unwrap();
    assert_eq!(a.enc.len(), ENC_LEN);
    assert_eq!(a.enc[0], 0x04, "uncompressed point");
    assert_eq!(a.ciphertext.len(), pt.len() + TAG_LEN);
    assert_ne!(a.enc, b.enc, "a fresh ephemeral key per message");
    assert_ne!(a.ciphertext, b.ciphertext);
    for s in [&a, &b] {
        let out = open(&key, &s.enc, b"info", b"aad", &s.ciphertext).unwrap();
        assert_eq!(&*out, pt);
    }
    // Empty plaintext, info and aad are allowed too.
    let e = seal(&key.public_key(), b"", b"", b"").unwrap();
    assert_eq!(e.ciphertext.len(), TAG_LEN);
    assert!(open(&key, &e.enc, b"", b"", &e.ciphertext)
        .unwrap()
        .is_empty());
}

#[test]
fn the_wrong_key_info_or_aad_is_one_decryption_error() {
    let key = p256();
    let s = seal(&key.public_key(), b"info", b"aad", b"secret").unwrap();
    let cases = [
        (p256(), &b"info"[..], &b"aad"[..]),
        (key.clone(), b"infO", b"aad"),
        (key.clone(), b"info", b"aaD"),
        (key.clone(), b"info", b""),
    ];
    for (k, info, aad) in cases {
        assert_eq!(
            open(&k, &s.enc, info, aad, &s.ciphertext),
            Err(Error::HpkeDecryption)
        );
    }
}

#[test]
fn every_flipped_bit_of_enc_or_ciphertext_is_refused() {
    let key = p256();
    let s = seal(&key.public_key(), b"info", b"", b"0123456789").unwrap();
    for i in 0..s.enc.len() * 8 {
        let mut enc = s.enc.clone();
        enc[i / 8] ^= 1 << (i % 8);
        assert_eq!(
            open(&key, &enc, b"info", b"", &s.ciphertext),
            Err(Error::HpkeDecryption),
            "enc bit {i}"
        );
    }
    for i in 0..s.ciphertext.len() * 8 {
        let mut ct = s.ciphertext.clone();
        ct[i / 8] ^= 1 << (i % 8);
        assert_eq!(
            open(&key, &s.enc, b"info", b"", &ct),
            Err(Error::HpkeDecryption),
            "ciphertext bit {i}"
        );
    }
    // Truncations: no tag, a short enc, a compressed enc, nothing at all.
    let compressed = PublicKey::from_sec1(Curve::P256, &s.enc).unwrap();
    let compressed = {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let PublicKey::P256(p) = compressed else {
            unreachable!()
        };
        p.to_encoded_point(true).as_bytes().to_vec()
    };
    for (enc, ct) in [
        (&s.enc[..], &s.ciphertext[..TAG_LEN - 1]),
        (&s.enc[..], &[][..]),
        (&s.enc[..64], &s.ciphertext[..]),
        (&compressed[..], &s.ciphertext[..]),
        (&[][..], &s.ciphertext[..]),
    ] {
        assert_eq!(
            open(&key, enc, b"info", b"", ct),
            Err(Error::HpkeDecryption)
        );
    }
}

#[test]
fn other_curves_are_unsupported() {
    let p384 = AgreementKey::P384(p384::SecretKey::random(&mut OsRng));
    assert!(matches!(
        seal(&p384.public_key(), b"", b"", b"x"),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    let s = seal(&p256().public_key(), b"", b"", b"x").unwrap();
    assert!(matches!(
        open(&p384, &s.enc, b"", b"", &s.ciphertext),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    let ed = mso::crypto::SoftwareKey::generate(mso::crypto::Algorithm::EdDsa)
        .public_key()
        .unwrap();
    assert!(matches!(
        seal(&ed, b"", b"", b"x"),
        Err(Error::UnsupportedAlgorithm(_))
    ));
}
