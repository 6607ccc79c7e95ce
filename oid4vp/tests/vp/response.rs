use mdoc_jose::jwe::{ContentEncryption, JweError};
use mdoc_oid4vp::request::{AuthorizationRequest, ClientMetadata, Jwks, ResponseMode};
use mdoc_oid4vp::response::*;
use mso::crypto::ecdh::AgreementKey;
use mso::model::{Handover, SessionTranscript};
use serde_json::json;

use crate::fixtures::*;

fn token() -> VpToken {
    let mut t = VpToken::new();
    t.push("mdl", vec![0xa1, 0x01, 0x02]);
    t.push("mdl", vec![0xa0]);
    t.push("pid-1", vec![0x80]);
    t
}

#[test]
fn bodies_of_the_four_modes_round_trip() {
    let params = ResponseParams {
        vp_token: token(),
        state: Some("st-1".into()),
    };
    let body = direct_post_body(&params);
    assert!(
        body.starts_with("vp_token=%7B%22mdl%22%3A%5B%22oQEC%22"),
        "{body}"
    );
    assert_eq!(parse_direct_post_body(body.as_bytes()).unwrap(), params);
    let body = direct_post_jwt_body("a.b.c.d.e");
    assert_eq!(body, "response=a.b.c.d.e");
    assert_eq!(
        parse_direct_post_jwt_body(body.as_bytes()).unwrap(),
        "a.b.c.d.e"
    );
    let data = dc_api_response(&token());
    assert_eq!(
        data,
        json!({"vp_token": {"mdl": ["oQEC", "oA"], "pid-1": ["gA"]}})
    );
    assert_eq!(
        parse_dc_api_response(&serde_json::to_vec(&data).unwrap()).unwrap(),
        token()
    );
    let data = dc_api_jwt_response("a.b.c.d.e");
    assert_eq!(
        parse_dc_api_jwt_response(&serde_json::to_vec(&data).unwrap()).unwrap(),
        "a.b.c.d.e"
    );
    assert_eq!(
        ResponseParams::from_json(&params.to_json()).unwrap(),
        params
    );
}

#[test]
fn vp_token_bounds_are_typed() {
    let e = |j: serde_json::Value| VpToken::from_json(&j).unwrap_err();
    assert_eq!(e(json!({})), ResponseError::QueryCount { max: 16 });
    let many: serde_json::Map<_, _> = (0..17).map(|i| (format!("q{i}"), json!(["oA"]))).collect();
    assert_eq!(e(json!(many)), ResponseError::QueryCount { max: 16 });
    assert_eq!(
        e(json!({"a b": ["oA"]})),
        ResponseError::QueryId("a b".into())
    );
    assert_eq!(
        e(json!({"mdl": []})),
        ResponseError::PresentationCount {
            id: "mdl".into(),
            max: 8
        }
    );
    assert_eq!(
        e(json!({"mdl": vec!["oA"; 9]})),
        ResponseError::PresentationCount {
            id: "mdl".into(),
            max: 8
        }
    );
    let bad = |i| ResponseError::Presentation {
        id: "mdl".into(),
        index: i,
        max: 1024 * 1024,
    };
    assert_eq!(e(json!({"mdl": ["oA", "oA=="]})), bad(1)); // padded
    assert_eq!(e(json!({"mdl": ["o+A"]})), bad(0)); // standard alphabet
    assert_eq!(e(json!({"mdl": [1]})), bad(0));
    assert_eq!(e(json!({"mdl": [""]})), bad(0));
    assert_eq!(e(json!({"mdl": ["A".repeat(1_500_000)]})), bad(0));
    assert!(matches!(e(json!(["oA"])), ResponseError::Malformed(_)));
    assert!(matches!(
        e(json!({"mdl": "oA"})),
        ResponseError::Malformed(_)
    ));
}

#[test]
fn body_rules_are_typed() {
    assert_eq!(
        parse_direct_post_body(b"state=x").unwrap_err(),
        ResponseError::Missing("vp_token")
    );
    assert!(matches!(
        parse_direct_post_body(b"vp_token=%7B%7D&vp_token=%7B%7D").unwrap_err(),
        ResponseError::Malformed(_)
    ));
    assert!(matches!(
        parse_direct_post_body(b"vp_token=nojson").unwrap_err(),
        ResponseError::Malformed(_)
    ));
    assert_eq!(
        parse_direct_post_body(b"vp_token=%7B%22m%22%3A%5B%22oA%22%5D%7D&state=a%2Fb").unwrap_err(),
        ResponseError::State
    );
    assert_eq!(
        parse_direct_post_jwt_body(b"vp_token=x").unwrap_err(),
        ResponseError::Missing("response")
    );
    assert_eq!(
        parse_dc_api_jwt_response(b"{}").unwrap_err(),
        ResponseError::Missing("response")
    );
    assert!(matches!(
        parse_dc_api_jwt_response(br#"{"response": 1}"#).unwrap_err(),
        ResponseError::Malformed(_)
    ));
    assert_eq!(
        parse_dc_api_response(b"{}").unwrap_err(),
        ResponseError::Missing("vp_token")
    );
    let big = vec![b'a'; 4 * 1024 * 1024 + 1];
    assert_eq!(
        parse_direct_post_body(&big).unwrap_err(),
        ResponseError::TooLong {
            max: 4 * 1024 * 1024
        }
    );
}

/// The spec's B.2.6 example key (its `use`, `alg` and `kid` are not part of the thumbprint).
fn spec_key_request(mode: ResponseMode, client_id: Option<&str>) -> AuthorizationRequest {
    let jwk = json!({"kty": "EC", "crv": "P-256",
        "x": "DxiH5Q4Yx3UrukE2lWCErq8N8bqC9CHLLrAwLz5BmE0",
        "y": "XtLM4-3h5o3HUH0MHVJV0kyq0iBlrBwlh8qEDMZ4-Pc",
        "use": "enc", "alg": "ECDH-ES", "kid": "1"});
    AuthorizationRequest {
        client_id: client_id.map(str::to_owned),
        response_type: "vp_token".into(),
        response_mode: mode,
        response_uri: Some("https://example.com/response".into()),
        redirect_uri: None,
        nonce: "exc7gBkxjx1rdc9udRrveKvSsJIq80avlXeLHhGwqtA".into(),
        state: None,
        dcql_query: dcql(),
        client_metadata: Some(ClientMetadata {
            jwks: Some(Jwks { keys: vec![jwk] }),
            ..ClientMetadata::default()
        }),
        expected_origins: None,
        aud: None,
        iat: None,
        exp: None,
        wallet_nonce: None,
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn handovers_match_the_openid4vp_b26_examples() {
    // B.2.6.1: the full client_id with its prefix goes into the handover.
    let r = spec_key_request(
        ResponseMode::DirectPostJwt,
        Some("x509_san_dns:example.com"),
    );
    let thumbprint = r.encryption_key().unwrap().unwrap().thumbprint();
    assert_eq!(
        thumbprint.to_vec(),
        hex("4283ec927ae0f208daaa2d026a814f2b22dca52cf85ffa8f3f8626c6bd669047")
    );
    let h = handover(&r, None).unwrap();
    assert_eq!(
        SessionTranscript::online(&h).as_bytes(),
        hex("83f6f682714f70656e494434565048616e646f7665725820048bc053c00442af9b8eed494cefdd9d95240d254b046b11b68013722aad38ac").as_slice()
    );
    // B.2.6.2: the origin without prefix.
    let r = spec_key_request(ResponseMode::DcApiJwt, None);
    let h = handover(&r, Some("https://example.com")).unwrap();
    assert_eq!(
        SessionTranscript::online(&h).as_bytes(),
        hex("83f6f682764f70656e4944345650444341504948616e646f7665725820fbece366f4212f9762c74cfdbf83b8c69e371d5d68cea09cb4c48ca6daab761a").as_slice()
    );
    assert_eq!(
        handover(&r, None).unwrap_err(),
        ResponseError::Handover("dc_api needs the origin")
    );
    // Clear modes carry a null thumbprint even when jwks is present.
    let r = spec_key_request(ResponseMode::DirectPost, Some("x509_san_dns:example.com"));
    assert!(matches!(
        handover(&r, None).unwrap(),
        Handover::OpenId4Vp {
            jwk_thumbprint: None,
            ..
        }
    ));
    let r = spec_key_request(ResponseMode::DirectPost, None);
    assert_eq!(
        handover(&r, None).unwrap_err(),
        ResponseError::Handover("client_id is missing")
    );
}

fn p256_scalar() -> [u8; 32] {
    let mut d = [0u8; 32];
    d[31] = 7;
    d[0] = 0x11;
    d
}

#[test]
fn encrypted_response_round_trips_through_the_request_key() {
    let private = AgreementKey::from_scalar(mso::crypto::Curve::P256, &p256_scalar()).unwrap();
    let mut j = dc_api_jwt(&private.public_key());
    j["client_metadata"]["encrypted_response_enc_values_supported"] = json!(["A256GCM"]);
    let r = AuthorizationRequest::from_json(&serde_json::to_vec(&j).unwrap()).unwrap();
    let params = ResponseParams {
        vp_token: token(),
        state: None,
    };
    let jwe = encrypt_response(&r, &params).unwrap();
    let header = mdoc_jose::jwe::peek_header(&jwe, 1 << 20).unwrap();
    assert_eq!(header.enc, ContentEncryption::A256Gcm);
    assert_eq!(header.kid.as_deref(), Some("k1"));
    assert_eq!(
        decrypt_response(&jwe, &private, "k1", SUPPORTED_ENCS).unwrap(),
        params
    );
    // Another kid, another key, an enc the verifier does not accept, a changed byte.
    assert_eq!(
        decrypt_response(&jwe, &private, "k2", SUPPORTED_ENCS).unwrap_err(),
        ResponseError::Kid
    );
    let other = AgreementKey::from_scalar(mso::crypto::Curve::P256, &[0x22; 32]).unwrap();
    assert_eq!(
        decrypt_response(&jwe, &other, "k1", SUPPORTED_ENCS).unwrap_err(),
        ResponseError::Jwe(JweError::DecryptionFailed)
    );
    assert_eq!(
        decrypt_response(&jwe, &private, "k1", &[ContentEncryption::A128Gcm]).unwrap_err(),
        ResponseError::Jwe(JweError::EncNotAccepted(ContentEncryption::A256Gcm))
    );
    let mut tampered = jwe.clone().into_bytes();
    let i = tampered.len() - 30;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    assert!(decrypt_response(
        std::str::from_utf8(&tampered).unwrap(),
        &private,
        "k1",
        SUPPORTED_ENCS
    )
    .is_err());
    // The verifier lists only an enc this crate lacks; a clear mode has nothing to encrypt to.
    let mut j2 = j.clone();
    j2["client_metadata"]["encrypted_response_enc_values_supported"] = json!(["A128CBC-HS256"]);
    let r2 = AuthorizationRequest::from_json(&serde_json::to_vec(&j2).unwrap()).unwrap();
    assert_eq!(
        encrypt_response(&r2, &params).unwrap_err(),
        ResponseError::NoCommonEnc
    );
    j2["response_mode"] = json!("dc_api");
    let r3 = AuthorizationRequest::from_json(&serde_json::to_vec(&j2).unwrap()).unwrap();
    assert_eq!(
        encrypt_response(&r3, &params).unwrap_err(),
        ResponseError::NotEncrypted
    );
    // The body carries the JWE the verifier decrypts.
    let body = direct_post_jwt_body(&jwe);
    let back = parse_direct_post_jwt_body(body.as_bytes()).unwrap();
    assert_eq!(
        decrypt_response(&back, &private, "k1", SUPPORTED_ENCS).unwrap(),
        params
    );
}
