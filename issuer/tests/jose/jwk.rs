//! Public JWKs and RFC 7638 thumbprints.

use mdoc_issuer::jose::jwk::{from_jwk, thumbprint, to_jwk, JwkError};
use mso::crypto::Signer;
use serde_json::json;

use crate::common::{b64, key, off_curve_jwk, ALGS};

#[test]
fn every_curve_round_trips() {
    for alg in ALGS {
        let public = key(alg).public_key().unwrap();
        let jwk = to_jwk(&public);
        assert_eq!(from_jwk(&jwk).unwrap(), public, "{alg}");
        // Only the RFC 7638 members, nothing private.
        assert!(jwk.get("d").is_none());
    }
}

#[test]
fn private_parts_are_refused() {
    let mut jwk = to_jwk(&key(mso::crypto::Algorithm::Es256).public_key().unwrap());
    jwk["d"] = json!(b64([7u8; 32]));
    assert_eq!(from_jwk(&jwk), Err(JwkError::PrivateKey("d")));
    let oct = json!({"kty": "oct", "k": b64([1u8; 32])});
    assert_eq!(from_jwk(&oct), Err(JwkError::PrivateKey("k")));
}

#[test]
fn wrong_curves_and_types_are_refused() {
    let p256 = to_jwk(&key(mso::crypto::Algorithm::Es256).public_key().unwrap());
    let mut p192 = p256.clone();
    p192["crv"] = json!("P-192");
    assert!(matches!(
        from_jwk(&p192),
        Err(JwkError::UnsupportedCurve { kty: "EC", .. })
    ));
    // kty and crv that disagree (jsonwebtoken's thumbprint panics on this one).
    let mut ec_ed = p256.clone();
    ec_ed["crv"] = json!("Ed25519");
    assert!(matches!(
        from_jwk(&ec_ed),
        Err(JwkError::UnsupportedCurve { kty: "EC", .. })
    ));
    let okp_p256 = json!({"kty": "OKP", "crv": "P-256", "x": p256["x"]});
    assert!(matches!(
        from_jwk(&okp_p256),
        Err(JwkError::UnsupportedCurve { kty: "OKP", .. })
    ));
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert_eq!(from_jwk(&rsa), Err(JwkError::UnsupportedKty("RSA".into())));
    assert_eq!(from_jwk(&json!("EC")), Err(JwkError::NotAnObject));
    let mut no_y = p256.clone();
    no_y.as_object_mut().unwrap().remove("y");
    assert_eq!(from_jwk(&no_y), Err(JwkError::Member("y")));
}

#[test]
fn bad_points_and_lengths_are_refused() {
    assert_eq!(
        from_jwk(&off_curve_jwk()),
        Err(JwkError::InvalidPoint("P-256"))
    );
    let mut short = to_jwk(&key(mso::crypto::Algorithm::Es384).public_key().unwrap());
    short["x"] = json!(b64([1u8; 32]));
    assert_eq!(
        from_jwk(&short),
        Err(JwkError::CoordinateLength {
            member: "x",
            expected: 48,
            found: 32
        })
    );
    let mut padded = to_jwk(&key(mso::crypto::Algorithm::Es256).public_key().unwrap());
    padded["x"] = json!(format!("{}=", padded["x"].as_str().unwrap()));
    assert_eq!(from_jwk(&padded), Err(JwkError::NotBase64("x")));
}

/// RFC 8037 Appendix A.3: the Ed25519 key of A.2 has this RFC 7638 thumbprint.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

#[test]
fn ed25519_thumbprint_is_rfc8037s() {
    let key = from_jwk(&json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})).unwrap();
    assert_eq!(thumbprint(&key), RFC8037_THUMBPRINT);
}

#[test]
fn thumbprints_match_jsonwebtoken() {
    for alg in [
        mso::crypto::Algorithm::Es256,
        mso::crypto::Algorithm::Es384,
        mso::crypto::Algorithm::EdDsa,
    ] {
        let public = key(alg).public_key().unwrap();
        let theirs: jsonwebtoken::jwk::Jwk = serde_json::from_value(to_jwk(&public)).unwrap();
        assert_eq!(
            thumbprint(&public),
            theirs.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256),
            "{alg}"
        );
    }
}

/// One reason jsonwebtoken 10 is not this layer's JWK code (src/jose/mod.rs): its JWK type
/// takes `kty: EC` with `crv: Ed25519` and drops `d`, and its thumbprint then panics. If this
/// starts failing, jsonwebtoken changed: reconsider.
#[test]
fn jsonwebtoken_jwk_is_lenient_and_panics() {
    let mut private = to_jwk(&key(mso::crypto::Algorithm::Es256).public_key().unwrap());
    private["d"] = json!(b64([7u8; 32]));
    let lenient: Result<jsonwebtoken::jwk::Jwk, _> = serde_json::from_value(private.clone());
    assert!(lenient.is_ok());
    assert_eq!(from_jwk(&private), Err(JwkError::PrivateKey("d")));
    let mut ec_ed = private;
    ec_ed.as_object_mut().unwrap().remove("d");
    ec_ed["crv"] = json!("Ed25519");
    let theirs: jsonwebtoken::jwk::Jwk = serde_json::from_value(ec_ed).unwrap();
    let panicked =
        std::panic::catch_unwind(|| theirs.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256));
    assert!(panicked.is_err());
}

#[test]
fn thumbprint_differs_per_key_and_is_stable() {
    let a = key(mso::crypto::Algorithm::Es256).public_key().unwrap();
    let b = key(mso::crypto::Algorithm::Es256).public_key().unwrap();
    assert_eq!(thumbprint(&a), thumbprint(&a.clone()));
    assert_ne!(thumbprint(&a), thumbprint(&b));
    // 32 bytes of SHA-256, unpadded base64url.
    assert_eq!(thumbprint(&a).len(), 43);
}
