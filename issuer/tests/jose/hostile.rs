//! Hostile input to every JOSE verifier of the issuer (key proofs, DPoP proofs, client and key
//! attestations): arbitrary text, well-formed compact serialisations of arbitrary JSON, and
//! valid tokens with one character changed. Each is refused with a typed error and nothing
//! panics (these parsers read what any wallet on the network sends).

use mdoc_issuer::jose::attestation::{
    verify_client_attestation, verify_key_attestation, AttestationTrust, ClientAttestationCheck,
};
use mdoc_issuer::jose::dpop::{make_dpop, verify_dpop, DpopCheck};
use mdoc_issuer::jose::jws;
use mdoc_issuer::jose::proof::{
    make_key_proof, proof_key, unverified_nonce, verify_key_proof, KeyProofCheck, KeyProofClaims,
    PROOF_TYP,
};
use mso::crypto::{Algorithm, Signer};
use proptest::prelude::*;
use serde_json::{json, Value as Json};
use time::Duration;

use crate::common::{b64, key, NOW, VERIFIER};

const AUD: &str = "https://issuer.example";
const HTU: &str = "https://issuer.example/credential";

/// Runs every verifier on `token`; returns how many accepted it.
fn accepted(token: &str) -> usize {
    let proof = KeyProofCheck {
        audience: AUD,
        expected_nonce: Some("n"),
        client_id: None,
        now: NOW,
        max_age: Duration::minutes(5),
    };
    let dpop = DpopCheck {
        method: "POST",
        htu: HTU,
        access_token: Some("t"),
        nonce: None,
        now: NOW,
        max_age: Duration::minutes(5),
    };
    let client = ClientAttestationCheck {
        audience: AUD,
        client_id: None,
        challenge: None,
        now: NOW,
        max_age: Duration::minutes(5),
    };
    let trust = AttestationTrust::new(
        Vec::new(),
        vec![key(Algorithm::Es256).public_key().unwrap()],
    );
    // The unverified readers only need to return, whatever they return.
    let _ = unverified_nonce(token);
    let _ = proof_key(token);
    let _ = jws::parse(token, 8192, PROOF_TYP);
    [
        verify_key_proof(token, &proof, &VERIFIER).is_ok(),
        verify_dpop(token, &dpop, &VERIFIER).is_ok(),
        verify_client_attestation(token, token, &client, &trust, &VERIFIER).is_ok(),
        verify_key_attestation(token, &trust, NOW, &VERIFIER).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

/// Small JSON values of any shape, JOSE member names more likely than others.
fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,24}".prop_map(Json::String),
        prop_oneof![
            Just("ES256"),
            Just("none"),
            Just("HS256"),
            Just(PROOF_TYP),
            Just("dpop+jwt"),
            Just("EC"),
            Just("P-256"),
        ]
        .prop_map(|s| Json::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("alg".to_owned()),
                        Just("typ".to_owned()),
                        Just("jwk".to_owned()),
                        Just("kid".to_owned()),
                        Just("x5c".to_owned()),
                        Just("crit".to_owned()),
                        Just("kty".to_owned()),
                        Just("crv".to_owned()),
                        Just("x".to_owned()),
                        Just("y".to_owned()),
                        Just("d".to_owned()),
                        Just("iat".to_owned()),
                        Just("nonce".to_owned()),
                        "\\PC{0,8}",
                    ],
                    inner,
                ),
                0..6,
            )
            .prop_map(|members| Json::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused(token in "\\PC{0,300}") {
        prop_assert_eq!(accepted(&token), 0);
    }

    #[test]
    fn arbitrary_base64url_segments_are_refused(token in "[A-Za-z0-9_.=+/-]{0,600}") {
        prop_assert_eq!(accepted(&token), 0);
    }

    #[test]
    fn compact_tokens_of_arbitrary_json_are_refused(
        header in json_value(),
        claims in json_value(),
        sig in prop::collection::vec(any::<u8>(), 0..140),
    ) {
        let token = format!("{}.{}.{}", b64(header.to_string()), b64(claims.to_string()), b64(&sig));
        prop_assert_eq!(accepted(&token), 0);
    }

    #[test]
    fn a_valid_proof_with_one_character_changed_is_refused(
        at in any::<prop::sample::Index>(),
        to in prop_oneof![Just('A'), Just('_'), Just('.'), Just('='), Just('0'), Just('é')],
        dpop in any::<bool>(),
    ) {
        let k = key(Algorithm::Es256);
        let token = if dpop {
            make_dpop(&k, "POST", HTU, Some("t"), None, NOW, "jti-1").unwrap()
        } else {
            let claims = KeyProofClaims { audience: AUD, nonce: Some("n"), iss: None, iat: NOW };
            make_key_proof(&k, &claims, true).unwrap()
        };
        // The untouched token is accepted by exactly its own verifier.
        prop_assert_eq!(accepted(&token), 1);
        let mut chars: Vec<char> = token.chars().collect();
        let i = at.index(chars.len());
        prop_assume!(chars[i] != to);
        chars[i] = to;
        let changed: String = chars.into_iter().collect();
        prop_assert_eq!(accepted(&changed), 0, "accepted with char {} changed: {}", i, changed);
    }
}
