//! Interoperability with joserfc 1.8.0 (Python), both directions, `#[ignore]`d like every test
//! that needs the pinned venv (`scripts/python-venv.sh`; `MDOC_PYTHON` names its interpreter):
//!
//! - DPoP proofs and key proofs that joserfc makes (ES256, ES384, ES512, EdDSA and the fully
//!   specified `Ed25519`) verify here, and our `jkt` equals joserfc's RFC 7638 thumbprint;
//! - DPoP proofs, key proofs and signed metadata that we make verify in joserfc, and a changed
//!   byte makes joserfc refuse them (so its acceptance means something);
//! - our thumbprints equal joserfc's for every curve.

use std::path::Path;

use mdoc_issuer::jose::dpop::{access_token_hash, make_dpop, verify_dpop, DpopCheck};
use mdoc_issuer::jose::jwk::{from_jwk, thumbprint};
use mdoc_issuer::jose::proof::{make_key_proof, verify_key_proof, KeyProofCheck, KeyProofClaims};
use mdoc_issuer::jose::sign::{sign_jwt, ISSUER_METADATA_TYP};
use mso::crypto::Signer;
use serde_json::{json, Map, Value as Json};
use time::Duration;

use crate::common::{jwk_of, key, ALGS, NOW, VERIFIER};

const AUD: &str = "https://issuer.example";
const HTU: &str = "https://issuer.example/credential";
const TOKEN: &str = "at-joserfc";

fn joserfc(request: &Json) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/joserfc_interop.py");
    test_kit::interop::run_json(&script, request)
}

fn jws_alg(alg: mso::crypto::Algorithm) -> &'static str {
    alg.name()
}

#[test]
#[ignore = "needs joserfc: MDOC_PYTHON from scripts/python-venv.sh"]
fn joserfc_tokens_verify_here() {
    let answer = joserfc(&json!({"make": {
        "algs": ["ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
        "htm": "POST", "htu": HTU, "iat": NOW.unix_timestamp(),
        "ath": access_token_hash(TOKEN), "dpop_nonce": "dn-1",
        "aud": AUD, "nonce": "cn-1", "iss": "client-1",
    }}));
    let made = answer["made"].as_array().unwrap();
    assert_eq!(made.len(), 5);
    for m in made {
        let alg = m["alg"].as_str().unwrap();
        let dcx = DpopCheck {
            method: "POST",
            htu: HTU,
            access_token: Some(TOKEN),
            nonce: Some("dn-1"),
            now: NOW,
            max_age: Duration::minutes(5),
        };
        let p = verify_dpop(m["dpop"].as_str().unwrap(), &dcx, &VERIFIER)
            .unwrap_or_else(|e| panic!("joserfc {alg} DPoP: {e}"));
        assert_eq!(p.jkt, m["thumbprint"].as_str().unwrap(), "{alg}");
        assert_eq!(p.key, from_jwk(&m["jwk"]).unwrap());
        let pcx = KeyProofCheck {
            audience: AUD,
            expected_nonce: Some("cn-1"),
            client_id: Some("client-1"),
            now: NOW,
            max_age: Duration::minutes(5),
        };
        let v = verify_key_proof(m["proof"].as_str().unwrap(), &pcx, &VERIFIER)
            .unwrap_or_else(|e| panic!("joserfc {alg} key proof: {e}"));
        assert_eq!(v.key, p.key);
        // And our refusals hold for their tokens too.
        let other = DpopCheck {
            method: "GET",
            ..dcx
        };
        assert!(verify_dpop(m["dpop"].as_str().unwrap(), &other, &VERIFIER).is_err());
    }
}

#[test]
#[ignore = "needs joserfc: MDOC_PYTHON from scripts/python-venv.sh"]
fn our_tokens_verify_in_joserfc() {
    let mut verify = Vec::new();
    let mut jwks = Vec::new();
    for alg in ALGS {
        let k = key(alg);
        let jwk = jwk_of(&k);
        let dpop = make_dpop(&k, "POST", HTU, Some(TOKEN), Some("dn"), NOW, "j-1").unwrap();
        let claims = KeyProofClaims {
            audience: AUD,
            nonce: Some("cn"),
            iss: None,
            iat: NOW,
        };
        let proof = make_key_proof(&k, &claims, true).unwrap();
        let metadata = sign_jwt(
            &k,
            ISSUER_METADATA_TYP,
            Map::new(),
            &json!({"credential_issuer": AUD, "iat": NOW.unix_timestamp()}),
        )
        .unwrap();
        let mut tampered = metadata.clone().into_bytes();
        let at = metadata.rfind('.').unwrap() - 2;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        for (token, expect_ok) in [
            (dpop, true),
            (proof, true),
            (metadata, true),
            (String::from_utf8(tampered).unwrap(), false),
        ] {
            verify.push((
                json!({"token": token, "jwk": jwk, "alg": jws_alg(alg)}),
                expect_ok,
                alg,
            ));
        }
        jwks.push((jwk, thumbprint(&k.public_key().unwrap())));
    }
    let answer = joserfc(&json!({
        "verify": verify.iter().map(|v| v.0.clone()).collect::<Vec<_>>(),
        "thumbprints": jwks.iter().map(|j| j.0.clone()).collect::<Vec<_>>(),
    }));
    let verified = answer["verified"].as_array().unwrap();
    assert_eq!(verified.len(), verify.len());
    for ((request, expect_ok, alg), got) in verify.iter().zip(verified) {
        if *expect_ok {
            assert!(
                got.get("error").is_none(),
                "joserfc refused our {alg} token: {got}"
            );
            assert_eq!(got["header"]["alg"], jws_alg(*alg));
            let token = request["token"].as_str().unwrap();
            let ours: Json = serde_json::from_slice(
                &mdoc_issuer::jose::jws::b64url_decode(token.split('.').nth(1).unwrap()).unwrap(),
            )
            .unwrap();
            assert_eq!(got["claims"], ours);
        } else {
            assert!(
                got.get("error").is_some(),
                "joserfc accepted a tampered {alg} token"
            );
        }
    }
    let theirs = answer["thumbprints"].as_array().unwrap();
    for ((_, ours), theirs) in jwks.iter().zip(theirs) {
        assert_eq!(theirs.as_str().unwrap(), ours);
    }
}
