//! JWE interoperability with joserfc 1.8.0 (Python), both directions, `#[ignore]`d like every
//! test that needs the pinned venv (`scripts/python-venv.sh`; `MDOC_PYTHON` names its
//! interpreter):
//!
//! - JWEs we make (ECDH-ES; A128GCM and A256GCM; P-256 and P-384; with `kid`, `apu`, `apv`)
//!   decrypt in joserfc to our plaintext and header, and a changed byte makes joserfc refuse
//!   them (so its acceptance means something);
//! - JWEs joserfc makes the same way decrypt here;
//! - our raw thumbprints are joserfc's RFC 7638 thumbprints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::Path;

use mdoc_jose::jwe::{decrypt, encrypt, ContentEncryption, EncryptParams};
use mdoc_jose::jwk::{from_jwk, thumbprint_bytes, to_jwk};
use mdoc_jose::jws::{b64url, b64url_decode};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::Curve;
use rand_core::OsRng;
use serde_json::{json, Value as Json};

const MAX: usize = 64 * 1024;
const CASES: [(Curve, ContentEncryption); 4] = [
    (Curve::P256, ContentEncryption::A128Gcm),
    (Curve::P256, ContentEncryption::A256Gcm),
    (Curve::P384, ContentEncryption::A128Gcm),
    (Curve::P384, ContentEncryption::A256Gcm),
];

fn joserfc(request: &Json) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/joserfc_jwe.py");
    test_kit::interop::run_json(&script, request)
}

/// A fresh recipient key and its private JWK (for joserfc).
fn key_with_private_jwk(curve: Curve) -> (AgreementKey, Json) {
    let (key, d) = match curve {
        Curve::P256 => {
            let sk = p256::SecretKey::random(&mut OsRng);
            let d = sk.to_bytes().to_vec();
            (AgreementKey::P256(sk), d)
        }
        Curve::P384 => {
            let sk = p384::SecretKey::random(&mut OsRng);
            let d = sk.to_bytes().to_vec();
            (AgreementKey::P384(sk), d)
        }
        other => panic!("no ECDH on {}", other.name()),
    };
    let mut jwk = to_jwk(&key.public_key());
    jwk["d"] = json!(b64url(d));
    (key, jwk)
}

fn crv(curve: Curve) -> &'static str {
    curve.name()
}

#[test]
#[ignore = "needs joserfc: MDOC_PYTHON from scripts/python-venv.sh"]
fn our_jwes_decrypt_in_joserfc() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (i, (curve, enc)) in CASES.into_iter().enumerate() {
        let (_, jwk) = key_with_private_jwk(curve);
        let recipient = from_jwk(&{
            let mut public = jwk.clone();
            public.as_object_mut().unwrap().remove("d");
            public
        })
        .unwrap();
        let kid = format!("enc-key-{i}");
        let plaintext = format!(r#"{{"vp_token":{{"case":{i}}}}}"#);
        let params = EncryptParams {
            enc,
            kid: Some(&kid),
            apu: Some(b"wallet-nonce"),
            apv: Some(b"verifier-nonce"),
        };
        let jwe = encrypt(&recipient, &params, plaintext.as_bytes()).unwrap();
        // The same JWE with one ciphertext byte changed: joserfc must refuse it.
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut ct = b64url_decode(&parts[3]).unwrap();
        ct[0] ^= 0x01;
        parts[3] = b64url(&ct);
        items.push(json!({"jwe": jwe, "jwk": jwk}));
        items.push(json!({"jwe": parts.join("."), "jwk": jwk}));
        expected.push((curve, enc, kid, plaintext));
    }
    let answer = joserfc(&json!({"decrypt": items}));
    let decrypted = answer["decrypted"].as_array().unwrap();
    assert_eq!(decrypted.len(), 2 * CASES.len());
    for (pair, (curve, enc, kid, plaintext)) in decrypted.chunks(2).zip(expected) {
        let (good, bad) = (&pair[0], &pair[1]);
        let case = format!("{} {}", curve.name(), enc.name());
        assert!(
            good.get("error").is_none(),
            "joserfc refused {case}: {good}"
        );
        assert_eq!(
            b64url_decode(good["plaintext"].as_str().unwrap()).unwrap(),
            plaintext.as_bytes(),
            "{case}"
        );
        let h = &good["protected"];
        assert_eq!(h["alg"], "ECDH-ES", "{case}");
        assert_eq!(h["enc"], enc.name(), "{case}");
        assert_eq!(h["kid"], kid.as_str(), "{case}");
        assert_eq!(h["apu"], b64url(b"wallet-nonce"), "{case}");
        assert_eq!(h["apv"], b64url(b"verifier-nonce"), "{case}");
        assert_eq!(h["epk"]["crv"], crv(curve), "{case}");
        assert!(
            bad.get("error").is_some(),
            "joserfc accepted a changed {case}: {bad}"
        );
    }
}

#[test]
#[ignore = "needs joserfc: MDOC_PYTHON from scripts/python-venv.sh"]
fn joserfc_jwes_decrypt_here() {
    let specs: Vec<Json> = CASES
        .iter()
        .enumerate()
        .map(|(i, (curve, enc))| {
            json!({
                "crv": crv(*curve), "enc": enc.name(), "kid": format!("rp-{i}"),
                "apu": b64url(format!("apu-{i}")), "apv": b64url(format!("apv-{i}")),
                "plaintext": format!("joserfc case {i}"),
            })
        })
        .collect();
    // One without the optional members too.
    let mut all = specs.clone();
    all.push(json!({"crv": "P-256", "enc": "A256GCM", "plaintext": "bare"}));
    let answer = joserfc(&json!({"encrypt": all}));
    let made = answer["encrypted"].as_array().unwrap();
    assert_eq!(made.len(), CASES.len() + 1);
    for (i, (m, spec)) in made.iter().zip(&all).enumerate() {
        let jwk = &m["jwk"];
        let curve = match jwk["crv"].as_str().unwrap() {
            "P-256" => Curve::P256,
            "P-384" => Curve::P384,
            other => panic!("{other}"),
        };
        let d = b64url_decode(jwk["d"].as_str().unwrap()).unwrap();
        let key = AgreementKey::from_scalar(curve, &d).unwrap();
        let jwe = m["jwe"].as_str().unwrap();
        let enc = ContentEncryption::from_name(spec["enc"].as_str().unwrap()).unwrap();
        let out = decrypt(jwe, &key, &[enc], MAX)
            .unwrap_or_else(|e| panic!("joserfc case {i} ({} {}): {e}", curve.name(), enc.name()));
        assert_eq!(
            &out.plaintext[..],
            spec["plaintext"].as_str().unwrap().as_bytes()
        );
        assert_eq!(out.header.enc, enc);
        assert_eq!(out.header.kid.as_deref(), spec["kid"].as_str());
        assert_eq!(
            out.header.apu,
            spec["apu"].as_str().map(|s| b64url_decode(s).unwrap())
        );
        assert_eq!(
            out.header.apv,
            spec["apv"].as_str().map(|s| b64url_decode(s).unwrap())
        );
        assert_eq!(out.header.epk.curve(), curve);
        // And our refusals hold for their JWEs: another key of the curve fails the tag.
        let (other, _) = key_with_private_jwk(curve);
        assert_eq!(
            decrypt(jwe, &other, &[enc], MAX).unwrap_err(),
            mdoc_jose::jwe::JweError::DecryptionFailed
        );
    }
}

#[test]
#[ignore = "needs joserfc: MDOC_PYTHON from scripts/python-venv.sh"]
fn raw_thumbprints_match_joserfc() {
    let keys: Vec<_> = [Curve::P256, Curve::P384, Curve::P256]
        .into_iter()
        .map(|c| key_with_private_jwk(c).0.public_key())
        .collect();
    let jwks: Vec<Json> = keys.iter().map(to_jwk).collect();
    let answer = joserfc(&json!({"thumbprints": jwks}));
    let theirs = answer["thumbprints"].as_array().unwrap();
    assert_eq!(theirs.len(), keys.len());
    for (key, t) in keys.iter().zip(theirs) {
        assert_eq!(
            b64url_decode(t.as_str().unwrap()).unwrap(),
            thumbprint_bytes(key)
        );
    }
}
