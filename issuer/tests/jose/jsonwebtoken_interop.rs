//! Interoperability with jsonwebtoken 10 (an independent Rust JOSE implementation on aws-lc):
//! what we sign verifies there, what it signs verifies here, for the algorithms it has (it has
//! no ES512; see `proof::jsonwebtoken_cannot_read_es512`).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{
    decode, encode, Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation,
};
use mdoc_issuer::jose::dpop::{make_dpop, verify_dpop, DpopCheck, DPOP_TYP};
use mdoc_issuer::jose::jwk::thumbprint;
use mdoc_issuer::jose::proof::{
    make_key_proof, verify_key_proof, KeyProofCheck, KeyProofClaims, PROOF_TYP,
};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use serde_json::{json, Value as Json};
use time::Duration;

use crate::common::{jwk_of, key, NOW, VERIFIER};

const AUD: &str = "https://issuer.example";
const HTU: &str = "https://issuer.example/credential";

fn theirs(alg: Algorithm) -> JwtAlg {
    match alg {
        Algorithm::Es256 => JwtAlg::ES256,
        Algorithm::Es384 => JwtAlg::ES384,
        Algorithm::EdDsa => JwtAlg::EdDSA,
        Algorithm::Es512 => unreachable!("jsonwebtoken has no ES512"),
    }
}

const ALGS: [Algorithm; 3] = [Algorithm::Es256, Algorithm::Es384, Algorithm::EdDsa];

/// Decodes with jsonwebtoken under the `jwk` of the token's own header, claims checked only
/// for `aud` when given (its `exp` check reads the wall clock, so it is off).
fn jsonwebtoken_decode(jwt: &str, alg: Algorithm, aud: Option<&str>) -> Result<Json, String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
    let jwk: Jwk = header.jwk.ok_or("no jwk")?;
    let mut v = Validation::new(theirs(alg));
    v.validate_exp = false;
    v.required_spec_claims.clear();
    match aud {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    decode::<Json>(jwt, &key, &v)
        .map(|t| t.claims)
        .map_err(|e| e.to_string())
}

fn encoding_key(k: &SoftwareKey) -> EncodingKey {
    let der = k.to_pkcs8_der().unwrap();
    match k.algorithm() {
        Algorithm::EdDsa => EncodingKey::from_ed_der(&der),
        _ => EncodingKey::from_ec_der(&der),
    }
}

#[test]
fn our_tokens_verify_in_jsonwebtoken() {
    for alg in ALGS {
        let k = key(alg);
        let claims = KeyProofClaims {
            audience: AUD,
            nonce: Some("n"),
            iss: None,
            iat: NOW,
        };
        let proof = make_key_proof(&k, &claims, true).unwrap();
        let c = jsonwebtoken_decode(&proof, alg, Some(AUD)).unwrap();
        assert_eq!(c["nonce"], "n", "{alg}");
        let dpop = make_dpop(&k, "POST", HTU, Some("tok"), None, NOW, "j1").unwrap();
        let c = jsonwebtoken_decode(&dpop, alg, None).unwrap();
        assert_eq!(c["htu"], HTU);
        assert_eq!(
            jsonwebtoken::decode_header(&dpop).unwrap().typ.as_deref(),
            Some(DPOP_TYP)
        );
        // The positive answers mean something: a changed byte is refused there too.
        let mut tampered = dpop.clone().into_bytes();
        let at = dpop.find('.').unwrap() + 3;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(jsonwebtoken_decode(&tampered, alg, None).is_err(), "{alg}");
        assert!(jsonwebtoken_decode(&proof, alg, Some("https://other.example")).is_err());
    }
}

#[test]
fn jsonwebtoken_tokens_verify_here() {
    for alg in ALGS {
        let k = key(alg);
        let jwk: Jwk = serde_json::from_value(jwk_of(&k)).unwrap();
        let mut h = Header::new(theirs(alg));
        h.typ = Some(DPOP_TYP.into());
        h.jwk = Some(jwk.clone());
        let claims = json!({"jti": "jsonwebtoken-1", "htm": "GET", "htu": HTU,
            "iat": NOW.unix_timestamp()});
        let dpop = encode(&h, &claims, &encoding_key(&k)).unwrap();
        let cx = DpopCheck {
            method: "GET",
            htu: HTU,
            access_token: None,
            nonce: None,
            now: NOW,
            max_age: Duration::minutes(5),
        };
        let p = verify_dpop(&dpop, &cx, &VERIFIER).unwrap();
        assert_eq!(p.jkt, thumbprint(&k.public_key().unwrap()), "{alg}");
        let mut h = Header::new(theirs(alg));
        h.typ = Some(PROOF_TYP.into());
        h.jwk = Some(jwk);
        let claims = json!({"aud": AUD, "iat": NOW.unix_timestamp(), "nonce": "n"});
        let proof = encode(&h, &claims, &encoding_key(&k)).unwrap();
        let cx = KeyProofCheck {
            audience: AUD,
            expected_nonce: Some("n"),
            client_id: None,
            now: NOW,
            max_age: Duration::minutes(5),
        };
        let v = verify_key_proof(&proof, &cx, &VERIFIER).unwrap();
        assert_eq!(v.key, k.public_key().unwrap());
    }
}
