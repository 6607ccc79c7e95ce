use mdoc_oid4vp::request::{
    parse_unsigned, AuthorizationRequest, ClientId, RequestContext, RequestError, ResponseMode,
};
use proptest::strategy::Strategy as _;
use serde_json::{json, Value as Json};

use crate::fixtures::*;

fn unsigned(j: &Json) -> Result<mdoc_oid4vp::request::VerifiedRequest, RequestError> {
    parse_unsigned(&bytes(j), &RequestContext::default())
}

fn dc_api(j: &Json) -> Result<mdoc_oid4vp::request::VerifiedRequest, RequestError> {
    let ctx = RequestContext {
        dc_api_origin: Some("https://rp.example".into()),
        ..RequestContext::default()
    };
    parse_unsigned(&bytes(j), &ctx)
}

fn with(mut j: Json, member: &str, value: Json) -> Json {
    if value.is_null() {
        j.as_object_mut().unwrap().remove(member);
    } else {
        j[member] = value;
    }
    j
}

#[test]
fn direct_post_round_trips_and_names_its_client() {
    let v = unsigned(&direct_post()).unwrap();
    assert_eq!(v.request.response_mode, ResponseMode::DirectPost);
    assert_eq!(
        v.client_id,
        Some(ClientId::RedirectUri(RESPONSE_URI.into()))
    );
    assert!(v.verifier.is_none());
    // What the verifier serializes, the wallet reads back identically.
    let again = AuthorizationRequest::from_json(&bytes(&v.request.to_json())).unwrap();
    assert_eq!(again, v.request);
}

#[test]
fn redirect_uri_client_id_supplies_a_missing_response_uri() {
    let v = unsigned(&with(direct_post(), "response_uri", Json::Null)).unwrap();
    assert_eq!(v.request.response_uri.as_deref(), Some(RESPONSE_URI));
}

#[test]
fn unsigned_dc_api_drops_client_id_and_reads_the_key() {
    let key = enc_key();
    let mut j = dc_api_jwt(&key);
    j["client_id"] = json!("x509_san_dns:rp.example");
    j["expected_origins"] = json!(["https://other.example"]);
    let v = dc_api(&j).unwrap();
    assert_eq!(v.request.client_id, None);
    assert_eq!(v.request.expected_origins, None);
    let k = v.request.encryption_key().unwrap().unwrap();
    assert_eq!(k.kid, "k1");
    assert_eq!(k.key, key);
    assert_eq!(
        v.request
            .client_metadata
            .as_ref()
            .unwrap()
            .response_enc(&["A256GCM", "A128GCM"]),
        Some("A128GCM")
    );
}

#[test]
fn every_field_rule_is_typed() {
    let d = direct_post;
    let cases: Vec<(Json, RequestError)> = vec![
        (
            with(d(), "response_type", json!("code")),
            RequestError::ResponseType(Some("code".into())),
        ),
        (
            with(d(), "response_type", Json::Null),
            RequestError::ResponseType(None),
        ),
        (
            with(d(), "response_mode", json!("fragment")),
            RequestError::ResponseMode(Some("fragment".into())),
        ),
        (
            with(d(), "response_mode", Json::Null),
            RequestError::ResponseMode(None),
        ),
        (with(d(), "nonce", Json::Null), RequestError::NonceMissing),
        (
            with(d(), "nonce", json!("short")),
            RequestError::NonceLength {
                len: 5,
                min: 16,
                max: 256,
            },
        ),
        (
            with(d(), "nonce", json!("x".repeat(257))),
            RequestError::NonceLength {
                len: 257,
                min: 16,
                max: 256,
            },
        ),
        (
            with(d(), "nonce", json!("abcdefghijklmnop qrs")),
            RequestError::Charset("nonce"),
        ),
        (
            with(d(), "state", json!("a/b")),
            RequestError::Charset("state"),
        ),
        (
            with(d(), "dcql_query", Json::Null),
            RequestError::DcqlMissing,
        ),
        (
            with(d(), "dcql_query", json!("{}")),
            RequestError::DcqlMissing,
        ),
        (
            with(d(), "transaction_data", json!(["e30"])),
            RequestError::TransactionData,
        ),
        (
            with(
                d(),
                "response_uri",
                json!("http://verifier.example.org/post"),
            ),
            RequestError::Uri("response_uri"),
        ),
        (
            with(d(), "redirect_uri", json!(RESPONSE_URI)),
            RequestError::RedirectUriWithDirectPost,
        ),
        (
            with(d(), "client_id", Json::Null),
            RequestError::ClientIdMissing,
        ),
        (
            with(
                d(),
                "client_id",
                json!("redirect_uri:https://evil.example/post"),
            ),
            RequestError::RedirectUriMismatch,
        ),
        (
            with(d(), "client_id", json!("x509_san_dns:verifier.example.org")),
            RequestError::UnsignedX509("x509_san_dns"),
        ),
        (
            with(
                d(),
                "client_id",
                json!("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"),
            ),
            RequestError::UnsignedX509("x509_hash"),
        ),
        (
            with(d(), "client_id", json!("origin:https://rp.example")),
            RequestError::ClientId(mdoc_oid4vp::request::ClientIdError::OriginPrefix),
        ),
        (
            with(d(), "client_id", json!("verifier_attestation:rp")),
            RequestError::UnsupportedClientId(Some("verifier_attestation".into())),
        ),
        (
            with(d(), "client_id", json!("rp")),
            RequestError::UnsupportedClientId(None),
        ),
        (
            with(d(), "response_mode", json!("dc_api")),
            RequestError::Channel {
                mode: "dc_api",
                how: "outside the DC API",
            },
        ),
        (
            with(d(), "aud", json!(1)),
            RequestError::Malformed("aud is not a string".into()),
        ),
        (with(d(), "iat", json!(1.5)), RequestError::Date("iat")),
        (
            with(d(), "response_mode", json!("direct_post.jwt")),
            RequestError::NoEncryptionKey,
        ),
    ];
    for (j, expected) in cases {
        assert_eq!(unsigned(&j).unwrap_err(), expected, "{j}");
    }
}

#[test]
fn encryption_key_rules_are_typed() {
    let key = enc_key();
    let set = |keys: Json| {
        let mut j = dc_api_jwt(&key);
        j["client_metadata"]["jwks"]["keys"] = keys;
        dc_api(&j).unwrap_err()
    };
    let good = enc_jwk(&key, "k1");
    let mut no_kid = good.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut no_alg = good.clone();
    no_alg.as_object_mut().unwrap().remove("alg");
    let mut sig = good.clone();
    sig["use"] = json!("sig");
    let mut p384 = mdoc_jose::jwk::to_jwk(
        &mso::crypto::Signer::public_key(&mso::crypto::SoftwareKey::generate(
            mso::crypto::Algorithm::Es384,
        ))
        .unwrap(),
    );
    p384["kid"] = json!("p384");
    p384["alg"] = json!("ECDH-ES");
    let mut private = good.clone();
    private["d"] = json!("AAAA");
    let mut off_curve = good.clone();
    off_curve["y"] = off_curve["x"].clone();
    assert_eq!(set(json!([no_kid])), RequestError::NoEncryptionKey);
    assert_eq!(set(json!([no_alg])), RequestError::NoEncryptionKey);
    assert_eq!(set(json!([sig])), RequestError::NoEncryptionKey);
    assert_eq!(set(json!([p384.clone()])), RequestError::NoEncryptionKey);
    assert_eq!(
        set(json!([])),
        RequestError::ListLength {
            what: "client_metadata.jwks.keys",
            max: 16
        }
    );
    assert_eq!(
        set(json!([good.clone(), enc_jwk(&enc_key(), "k2")])),
        RequestError::AmbiguousEncryptionKey(2)
    );
    assert!(matches!(
        set(json!([private])),
        RequestError::EncryptionKey(mdoc_jose::jwk::JwkError::PrivateKey("d"))
    ));
    assert!(matches!(
        set(json!([off_curve])),
        RequestError::EncryptionKey(mdoc_jose::jwk::JwkError::InvalidPoint(_))
    ));
    // Unusable keys beside the one usable key are skipped.
    let mut j = dc_api_jwt(&key);
    j["client_metadata"]["jwks"]["keys"] = json!([p384, good]);
    assert!(dc_api(&j).is_ok());
    // An empty enc list is refused; a dc_api request needs the channel.
    let mut j = dc_api_jwt(&key);
    j["client_metadata"]["encrypted_response_enc_values_supported"] = json!([]);
    assert!(matches!(
        dc_api(&j).unwrap_err(),
        RequestError::ListLength {
            what: "encrypted_response_enc_values_supported",
            ..
        }
    ));
    assert_eq!(
        unsigned(&dc_api_jwt(&key)).unwrap_err(),
        RequestError::Channel {
            mode: "dc_api.jwt",
            how: "outside the DC API"
        }
    );
}

#[test]
fn size_duplicates_and_shape_are_bounded() {
    let big = vec![b' '; 64 * 1024 + 1];
    assert_eq!(
        unsigned_bytes(&big),
        RequestError::TooLong { max: 64 * 1024 }
    );
    let dup = br#"{"nonce":"abcdefghijklmnopq","nonce":"abcdefghijklmnopr"}"#;
    assert!(matches!(unsigned_bytes(dup), RequestError::Malformed(m) if m.contains("duplicate")));
    assert!(matches!(unsigned_bytes(b"[1]"), RequestError::Malformed(_)));
    assert!(matches!(
        unsigned_bytes(b"not json"),
        RequestError::Malformed(_)
    ));
}

fn unsigned_bytes(b: &[u8]) -> RequestError {
    parse_unsigned(b, &RequestContext::default()).unwrap_err()
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = parse_unsigned(&input, &RequestContext::default());
        let _ = AuthorizationRequest::from_json(&input);
        let s = String::from_utf8_lossy(&input);
        let _ = mdoc_oid4vp::request::parse_request_url(&format!("openid4vp://?{s}"));
        let _ = mdoc_oid4vp::response::parse_direct_post_body(&input);
        let _ = mdoc_oid4vp::response::parse_dc_api_response(&input);
        let _ = ClientId::parse(&s);
    }

    #[test]
    fn mutated_requests_never_panic(
        member in proptest::sample::select(vec!["client_id", "response_mode", "nonce", "state", "response_uri", "dcql_query", "client_metadata", "expected_origins", "aud", "iat"]),
        value in proptest::prop_oneof![
            proptest::strategy::Just(json!(null)), proptest::strategy::Just(json!(1e300)),
            proptest::strategy::Just(json!([])), proptest::strategy::Just(json!({"jwks": {"keys": [1]}})),
            ".{0,40}".prop_map(Json::String),
        ],
    ) {
        let mut j = direct_post();
        j[member] = value;
        let _ = unsigned(&j);
        let _ = dc_api(&j);
    }
}
