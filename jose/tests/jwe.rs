//! `mdoc_jose::jwe`: the RFC 7518 Appendix C known answer on the recipient's side, round trips
//! for both `enc` values on both curves, every refusal by its variant, every single-bit flip,
//! and hostile strings (proptest). Interop with joserfc is in `jwe_interop.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use mdoc_jose::jwe::{
    decrypt, encrypt, peek_header, ContentEncryption, EncryptParams, EpkError, JweError, Malformed,
    Part, MAX_HEADER_LEN,
};
use mdoc_jose::jwk::{from_jwk, to_jwk, JwkError};
use mdoc_jose::jws::{b64url, b64url_decode};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Curve, PublicKey};
use proptest::prelude::*;
use rand_core::OsRng;
use serde_json::{json, Map, Value as Json};

const MAX: usize = 64 * 1024;
const BOTH: &[ContentEncryption] = &[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];
const ENCS: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

fn new_key(curve: Curve) -> AgreementKey {
    match curve {
        Curve::P256 => AgreementKey::P256(p256::SecretKey::random(&mut OsRng)),
        Curve::P384 => AgreementKey::P384(p384::SecretKey::random(&mut OsRng)),
        other => panic!("no ECDH on {}", other.name()),
    }
}

fn params(enc: ContentEncryption) -> EncryptParams<'static> {
    EncryptParams {
        enc,
        kid: Some("verifier-enc-1"),
        apu: Some(b"wallet nonce"),
        apv: Some(b"verifier nonce"),
    }
}

/// An honest P-256 A128GCM JWE and the key that opens it.
fn honest() -> (String, AgreementKey) {
    let key = new_key(Curve::P256);
    let jwe = encrypt(
        &key.public_key(),
        &params(ContentEncryption::A128Gcm),
        br#"{"vp_token":{}}"#,
    )
    .unwrap();
    (jwe, key)
}

fn parts(jwe: &str) -> Vec<String> {
    jwe.split('.').map(str::to_owned).collect()
}

fn header_of(jwe: &str) -> Map<String, Json> {
    serde_json::from_slice(&b64url_decode(&parts(jwe)[0]).unwrap()).unwrap()
}

/// `jwe` with its protected header replaced by `raw` (JSON text, base64url-encoded here).
fn with_raw_header(jwe: &str, raw: &str) -> String {
    let mut p = parts(jwe);
    p[0] = b64url(raw);
    p.join(".")
}

/// `jwe` with its header changed by `f`.
fn with_header(jwe: &str, f: impl FnOnce(&mut Map<String, Json>)) -> String {
    let mut h = header_of(jwe);
    f(&mut h);
    with_raw_header(jwe, &Json::Object(h).to_string())
}

/// `jwe` with part `i` replaced.
fn with_part(jwe: &str, i: usize, value: &str) -> String {
    let mut p = parts(jwe);
    p[i] = value.to_owned();
    p.join(".")
}

fn refused(jwe: &str, key: &AgreementKey) -> JweError {
    decrypt(jwe, key, BOTH, MAX).unwrap_err()
}

// ---- RFC 7518 Appendix C ------------------------------------------------------------------

/// RFC 7518 Appendix C: Alice's ephemeral key (public part, as sent in `epk`) and Bob's
/// static key, `apu` "Alice", `apv` "Bob", enc A128GCM: the content key is
/// `VqqN6vgjbSBcIijNcacQGg`. A JWE sealed under that key by AES-GCM alone opens with Bob's key
/// through the public `decrypt`, so the recipient's derivation is the RFC's.
#[test]
fn rfc7518_appendix_c_recipient_side() {
    let alice_epk = json!({
        "kty": "EC", "crv": "P-256",
        "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"
    });
    let bob = AgreementKey::from_scalar(
        Curve::P256,
        &b64url_decode("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw").unwrap(),
    )
    .unwrap();
    let header = json!({
        "alg": "ECDH-ES", "enc": "A128GCM", "apu": "QWxpY2U", "apv": "Qm9i", "epk": alice_epk
    });
    let protected = b64url(header.to_string());
    let cek = b64url_decode("VqqN6vgjbSBcIijNcacQGg").unwrap();
    let iv = [3u8; 12];
    let mut buf = b"Live long and prosper.".to_vec();
    let tag = Aes128Gcm::new_from_slice(&cek)
        .unwrap()
        .encrypt_in_place_detached(&Nonce::from(iv), protected.as_bytes(), &mut buf)
        .unwrap();
    let jwe = format!(
        "{protected}..{}.{}.{}",
        b64url(iv),
        b64url(&buf),
        b64url(tag)
    );

    let d = decrypt(&jwe, &bob, &[ContentEncryption::A128Gcm], MAX).unwrap();
    assert_eq!(&d.plaintext[..], b"Live long and prosper.");
    assert_eq!(d.header.apu.as_deref(), Some(&b"Alice"[..]));
    assert_eq!(d.header.apv.as_deref(), Some(&b"Bob"[..]));
    assert_eq!(d.header.epk, from_jwk(&alice_epk).unwrap());
    // The same key without the party info derives another key: apu/apv are really used.
    let no_party = with_header(&jwe, |h| {
        h.remove("apu");
    });
    assert_eq!(refused(&no_party, &bob), JweError::DecryptionFailed);
}

// ---- round trips --------------------------------------------------------------------------

#[test]
fn round_trips_for_both_enc_on_both_curves() {
    for curve in [Curve::P256, Curve::P384] {
        for enc in ENCS {
            let key = new_key(curve);
            let plaintext = format!("response on {} with {}", curve.name(), enc.name());
            let jwe = encrypt(&key.public_key(), &params(enc), plaintext.as_bytes()).unwrap();
            assert_eq!(jwe.split('.').nth(1), Some(""), "encrypted key is empty");

            let peeked = peek_header(&jwe, MAX).unwrap();
            assert_eq!(peeked.enc, enc);
            assert_eq!(peeked.kid.as_deref(), Some("verifier-enc-1"));
            assert_eq!(peeked.apu.as_deref(), Some(&b"wallet nonce"[..]));
            assert_eq!(peeked.apv.as_deref(), Some(&b"verifier nonce"[..]));
            assert_eq!(peeked.epk.curve(), curve);
            assert_ne!(
                peeked.epk,
                key.public_key(),
                "epk is the sender's, not ours"
            );

            let h = header_of(&jwe);
            assert_eq!(h["alg"], "ECDH-ES");
            assert_eq!(h["enc"], enc.name());
            assert_eq!(h["epk"], to_jwk(&peeked.epk));

            let d = decrypt(&jwe, &key, &[enc], MAX).unwrap();
            assert_eq!(&d.plaintext[..], plaintext.as_bytes());
            assert_eq!(d.header, peeked);
        }
    }
}

#[test]
fn round_trip_without_optional_members_and_with_empty_plaintext() {
    let key = new_key(Curve::P384);
    let p = EncryptParams {
        enc: ContentEncryption::A256Gcm,
        kid: None,
        apu: None,
        apv: None,
    };
    let jwe = encrypt(&key.public_key(), &p, b"").unwrap();
    let h = header_of(&jwe);
    let mut names: Vec<_> = h.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["alg", "enc", "epk"]);
    let d = decrypt(&jwe, &key, BOTH, MAX).unwrap();
    assert!(d.plaintext.is_empty());
    assert_eq!(
        (d.header.kid, d.header.apu, d.header.apv),
        (None, None, None)
    );
}

#[test]
fn each_encryption_is_fresh() {
    let key = new_key(Curve::P256);
    let p = params(ContentEncryption::A128Gcm);
    let a = encrypt(&key.public_key(), &p, b"same").unwrap();
    let b = encrypt(&key.public_key(), &p, b"same").unwrap();
    assert_ne!(parts(&a)[0], parts(&b)[0], "a new ephemeral key each time");
    assert_ne!(parts(&a)[2], parts(&b)[2], "a new IV each time");
}

#[test]
fn a_jwe_for_another_key_fails_with_decryption_failed() {
    let (jwe, _) = honest();
    assert_eq!(
        refused(&jwe, &new_key(Curve::P256)),
        JweError::DecryptionFailed
    );
}

#[test]
fn thumbprint_bytes_are_the_decoded_thumbprint() {
    let key = new_key(Curve::P256).public_key();
    let raw = mdoc_jose::jwk::thumbprint_bytes(&key);
    assert_eq!(b64url(raw), mdoc_jose::jwk::thumbprint(&key));
    // RFC 7638 §3.1's example is RSA, which this crate does not read; the EC canonical form is
    // checked against joserfc in `jwe_interop.rs` and issuer/tests/jose/interop.rs.
    assert_ne!(
        raw,
        mdoc_jose::jwk::thumbprint_bytes(&new_key(Curve::P256).public_key())
    );
}

// ---- tampering ----------------------------------------------------------------------------

/// Every single-bit flip of the decoded bytes of every part is refused, without panic: in the
/// IV, ciphertext and tag as `DecryptionFailed`; in the header with whatever it breaks (often
/// the JSON), never accepted since the header is the AAD. The empty encrypted key cannot be
/// flipped; one added byte is `EncryptedKeyNotEmpty`.
#[test]
fn every_single_bit_flip_in_every_part_is_refused() {
    let (jwe, key) = honest();
    assert!(decrypt(&jwe, &key, BOTH, MAX).is_ok());
    for i in [0, 2, 3, 4] {
        let bytes = b64url_decode(&parts(&jwe)[i]).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let err = refused(&with_part(&jwe, i, &b64url(&b)), &key);
            if i != 0 {
                assert_eq!(err, JweError::DecryptionFailed, "part {i} bit {bit}");
            }
        }
    }
    assert_eq!(
        refused(&with_part(&jwe, 1, "AA"), &key),
        JweError::EncryptedKeyNotEmpty
    );
}

/// Base64url is strict: trailing bits that decode to the same bytes are refused, so no two
/// spellings of one JWE are accepted.
#[test]
fn non_canonical_base64_spellings_are_refused() {
    let (jwe, key) = honest();
    let tag = &parts(&jwe)[4]; // 16 bytes: 22 characters, the last carries 4 unused bits
    let last = tag.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let sibling = alphabet.chars().nth(idx ^ 1).unwrap(); // same top 2 bits, other low bit
    let mut t = tag.clone();
    t.pop();
    t.push(sibling);
    assert_eq!(
        refused(&with_part(&jwe, 4, &t), &key),
        JweError::Malformed(Malformed::Base64(Part::Tag))
    );
}

// ---- refusals, one per variant --------------------------------------------------------------

#[test]
fn too_large() {
    let (jwe, key) = honest();
    assert_eq!(
        decrypt(&jwe, &key, BOTH, jwe.len() - 1).unwrap_err(),
        JweError::TooLarge { max: jwe.len() - 1 }
    );
    assert!(decrypt(&jwe, &key, BOTH, jwe.len()).is_ok());
    assert_eq!(
        peek_header(&jwe, 10).unwrap_err(),
        JweError::TooLarge { max: 10 }
    );
}

#[test]
fn header_too_large() {
    let (jwe, key) = honest();
    let big = with_header(&jwe, |h| {
        h.insert("x".into(), "a".repeat(MAX_HEADER_LEN).into());
    });
    assert_eq!(
        refused(&big, &key),
        JweError::HeaderTooLarge {
            max: MAX_HEADER_LEN
        }
    );
}

#[test]
fn malformed_parts() {
    let (jwe, key) = honest();
    let parts_err = JweError::Malformed(Malformed::Parts);
    assert_eq!(refused("", &key), parts_err);
    assert_eq!(refused(&format!("{jwe}."), &key), parts_err);
    assert_eq!(refused(jwe.rsplit_once('.').unwrap().0, &key), parts_err);
    let three = parts(&jwe)[..3].join(".");
    assert_eq!(peek_header(&three, MAX).unwrap_err(), parts_err);
}

#[test]
fn malformed_base64_in_each_part_and_member() {
    let (jwe, key) = honest();
    let b64 = |p| JweError::Malformed(Malformed::Base64(p));
    for (i, part) in [
        (0, Part::Header),
        (2, Part::Iv),
        (3, Part::Ciphertext),
        (4, Part::Tag),
    ] {
        let original = parts(&jwe)[i].clone();
        // Padding and the standard alphabet are both refused.
        assert_eq!(
            refused(&with_part(&jwe, i, &format!("{original}=")), &key),
            b64(part)
        );
        assert_eq!(
            refused(&with_part(&jwe, i, &format!("+{original}")), &key),
            b64(part)
        );
    }
    let apu = with_header(&jwe, |h| {
        h.insert("apu".into(), "QWxpY2U=".into());
    });
    assert_eq!(refused(&apu, &key), b64(Part::Apu));
    let apv = with_header(&jwe, |h| {
        h.insert("apv".into(), "Qm9i/".into());
    });
    assert_eq!(refused(&apv, &key), b64(Part::Apv));
}

#[test]
fn malformed_header_json() {
    let (jwe, key) = honest();
    let header = JweError::Malformed(Malformed::Header);
    assert_eq!(refused(&with_raw_header(&jwe, "[1,2]"), &key), header);
    assert_eq!(refused(&with_raw_header(&jwe, "not json"), &key), header);
    assert_eq!(refused(&with_raw_header(&jwe, "\"ECDH-ES\""), &key), header);
    // A repeated member: a reader that kept the first and one that kept the last would
    // disagree, so neither is chosen.
    let h = header_of(&jwe);
    let raw = Json::Object(h).to_string();
    let repeated = format!(r#"{{"alg":"dir",{}"#, &raw[1..]);
    assert_eq!(refused(&with_raw_header(&jwe, &repeated), &key), header);
}

#[test]
fn missing_and_mistyped_members() {
    let (jwe, key) = honest();
    for name in ["alg", "enc", "epk"] {
        let j = with_header(&jwe, |h| {
            h.remove(name);
        });
        assert_eq!(
            refused(&j, &key),
            JweError::Malformed(Malformed::MissingField(name)),
            "{name}"
        );
    }
    for name in ["alg", "enc", "kid", "apu", "apv"] {
        let j = with_header(&jwe, |h| {
            h.insert(name.into(), json!(7));
        });
        assert_eq!(
            refused(&j, &key),
            JweError::Malformed(Malformed::FieldType(name)),
            "{name}"
        );
    }
}

#[test]
fn unsupported_alg_is_named() {
    let (jwe, key) = honest();
    for alg in [
        "none",
        "dir",
        "RSA-OAEP",
        "RSA-OAEP-256",
        "ECDH-ES+A128KW",
        "ECDH-ES+A256KW",
        "A256KW",
        "ecdh-es",
        "",
    ] {
        let j = with_header(&jwe, |h| {
            h.insert("alg".into(), alg.into());
        });
        assert_eq!(refused(&j, &key), JweError::UnsupportedAlg(alg.into()));
        assert_eq!(
            peek_header(&j, MAX).unwrap_err(),
            JweError::UnsupportedAlg(alg.into())
        );
    }
    // A long name is shortened in the error.
    let j = with_header(&jwe, |h| {
        h.insert("alg".into(), "X".repeat(500).into());
    });
    assert_eq!(refused(&j, &key), JweError::UnsupportedAlg("X".repeat(40)));
}

#[test]
fn unsupported_and_not_accepted_enc() {
    let (jwe, key) = honest();
    for enc in ["A192GCM", "A128CBC-HS256", "a128gcm"] {
        let j = with_header(&jwe, |h| {
            h.insert("enc".into(), enc.into());
        });
        assert_eq!(refused(&j, &key), JweError::UnsupportedEnc(enc.into()));
    }
    let not = JweError::EncNotAccepted(ContentEncryption::A128Gcm);
    assert_eq!(
        decrypt(&jwe, &key, &[ContentEncryption::A256Gcm], MAX).unwrap_err(),
        not
    );
    assert_eq!(decrypt(&jwe, &key, &[], MAX).unwrap_err(), not);
    // peek_header does not judge acceptance: the caller picks the key first.
    assert_eq!(
        peek_header(&jwe, MAX).unwrap().enc,
        ContentEncryption::A128Gcm
    );
}

#[test]
fn content_encryption_names() {
    for enc in ENCS {
        assert_eq!(ContentEncryption::from_name(enc.name()), Some(enc));
    }
    assert_eq!(ContentEncryption::A128Gcm.name(), "A128GCM");
    assert_eq!(ContentEncryption::A256Gcm.name(), "A256GCM");
    assert_eq!(ContentEncryption::from_name("A192GCM"), None);
}

#[test]
fn zip_is_refused_even_null() {
    let (jwe, key) = honest();
    for zip in [json!("DEF"), Json::Null] {
        let j = with_header(&jwe, |h| {
            h.insert("zip".into(), zip.clone());
        });
        assert_eq!(refused(&j, &key), JweError::Zip);
    }
}

#[test]
fn crit_is_refused_even_empty() {
    let (jwe, key) = honest();
    for crit in [json!(["exp"]), json!([])] {
        let j = with_header(&jwe, |h| {
            h.insert("crit".into(), crit.clone());
        });
        assert_eq!(refused(&j, &key), JweError::Crit);
    }
}

#[test]
fn encrypted_key_must_be_empty() {
    let (jwe, key) = honest();
    for ek in ["AAAAAAAAAAAAAAAAAAAAAA", "A", "!"] {
        assert_eq!(
            refused(&with_part(&jwe, 1, ek), &key),
            JweError::EncryptedKeyNotEmpty
        );
    }
}

fn with_epk(jwe: &str, epk: Json) -> String {
    with_header(jwe, |h| {
        h.insert("epk".into(), epk);
    })
}

#[test]
fn bad_epk() {
    let (jwe, key) = honest();
    let epk = header_of(&jwe)["epk"].clone();
    let jwk_err = |e| JweError::Epk(EpkError::Jwk(e));

    // Private part: a sender that sends its ephemeral `d` is refused, not ignored.
    let mut with_d = epk.clone();
    with_d["d"] = json!("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo");
    assert_eq!(
        refused(&with_epk(&jwe, with_d), &key),
        jwk_err(JwkError::PrivateKey("d"))
    );
    // Off the curve: y changed in its last byte.
    let mut off = epk.clone();
    let mut y = b64url_decode(off["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    off["y"] = json!(b64url(&y));
    assert_eq!(
        refused(&with_epk(&jwe, off), &key),
        jwk_err(JwkError::InvalidPoint("P-256"))
    );
    // Missing coordinates.
    for coord in ["x", "y"] {
        let mut m = epk.clone();
        m.as_object_mut().unwrap().remove(coord);
        assert_eq!(
            refused(&with_epk(&jwe, m), &key),
            jwk_err(JwkError::Member(coord))
        );
    }
    // Not EC.
    assert_eq!(
        refused(
            &with_epk(&jwe, json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"})),
            &key
        ),
        jwk_err(JwkError::UnsupportedKty("RSA".into()))
    );
    assert_eq!(
        refused(&with_epk(&jwe, json!("not a jwk")), &key),
        jwk_err(JwkError::NotAnObject)
    );
    let ed = json!({"kty": "OKP", "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(
        refused(&with_epk(&jwe, ed), &key),
        JweError::Epk(EpkError::Curve("Ed25519"))
    );
    let mut bad_crv = epk.clone();
    bad_crv["crv"] = json!("secp256k1");
    assert!(matches!(
        refused(&with_epk(&jwe, bad_crv), &key),
        JweError::Epk(EpkError::Jwk(JwkError::UnsupportedCurve { .. }))
    ));
    // A valid P-521 key: from_jwk reads it, ECDH-ES here does not.
    let p521 = {
        let sk = p521::SecretKey::random(&mut OsRng);
        let pk = PublicKey::from_sec1(
            Curve::P521,
            p521::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&sk.public_key(), false)
                .as_bytes(),
        )
        .unwrap();
        to_jwk(&pk)
    };
    assert_eq!(
        refused(&with_epk(&jwe, p521), &key),
        JweError::Epk(EpkError::Curve("P-521"))
    );
}

#[test]
fn epk_on_another_curve_than_the_recipient_key() {
    let key384 = new_key(Curve::P384);
    let jwe = encrypt(
        &key384.public_key(),
        &params(ContentEncryption::A256Gcm),
        b"x",
    )
    .unwrap();
    assert_eq!(
        refused(&jwe, &new_key(Curve::P256)),
        JweError::Epk(EpkError::WrongCurve {
            key: "P-256",
            epk: "P-384"
        })
    );
}

#[test]
fn iv_and_tag_lengths() {
    let (jwe, key) = honest();
    for n in [0usize, 8, 11, 13, 16] {
        assert_eq!(
            refused(&with_part(&jwe, 2, &b64url(vec![0u8; n])), &key),
            JweError::IvLength(n)
        );
    }
    for n in [0usize, 12, 15, 17, 32] {
        assert_eq!(
            refused(&with_part(&jwe, 4, &b64url(vec![0u8; n])), &key),
            JweError::TagLength(n)
        );
    }
}

#[test]
fn encrypt_refuses_keys_without_ecdh() {
    let ed = from_jwk(&json!({"kty": "OKP", "crv": "Ed25519",
                              "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))
    .unwrap();
    assert_eq!(
        encrypt(&ed, &params(ContentEncryption::A128Gcm), b"x").unwrap_err(),
        JweError::UnsupportedRecipient("Ed25519")
    );
}

#[test]
fn debug_never_prints_the_plaintext() {
    let key = new_key(Curve::P256);
    let secret = "SECRET-PERSONAL-DATA";
    let jwe = encrypt(
        &key.public_key(),
        &params(ContentEncryption::A128Gcm),
        secret.as_bytes(),
    )
    .unwrap();
    let d = decrypt(&jwe, &key, BOTH, MAX).unwrap();
    let debug = format!("{d:?}");
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains("plaintext_len: 20"), "{debug}");
    assert_eq!(format!("{key:?}"), "AgreementKey(..)");
}

#[test]
fn errors_never_carry_the_plaintext_or_keys() {
    let (jwe, _) = honest();
    let err = refused(&jwe, &new_key(Curve::P256));
    let text = format!("{err} {err:?}");
    assert_eq!(text, "JWE decryption failed DecryptionFailed");
}

// ---- hostile input --------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,400}") {
        let key = new_key(Curve::P256);
        let _ = peek_header(&s, MAX);
        prop_assert!(decrypt(&s, &key, BOTH, MAX).is_err());
    }

    #[test]
    fn five_base64_parts_never_panic(
        p in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 0..8)
    ) {
        let s = p.join(".");
        let key = new_key(Curve::P256);
        let _ = peek_header(&s, MAX);
        prop_assert!(decrypt(&s, &key, BOTH, MAX).is_err());
    }

    /// A valid JWE with one character replaced is refused (or is the same JWE).
    #[test]
    fn one_changed_character_is_refused(pos in any::<prop::sample::Index>(), c in any::<char>()) {
        let (jwe, key) = honest();
        let mut chars: Vec<char> = jwe.chars().collect();
        let i = pos.index(chars.len());
        prop_assume!(chars[i] != c);
        chars[i] = c;
        let changed: String = chars.into_iter().collect();
        let _ = peek_header(&changed, MAX);
        prop_assert!(decrypt(&changed, &key, BOTH, MAX).is_err());
    }
}
