//! Requests shared by the tests.

use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey};
use serde_json::{json, Value as Json};

pub const NONCE: &str = "n-0S6_WzA2Mj-abcdefgh";
pub const RESPONSE_URI: &str = "https://verifier.example.org/post";

pub fn dcql() -> Json {
    json!({"credentials": [{"id": "mdl", "format": "mso_mdoc",
        "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
        "claims": [{"path": ["org.iso.18013.5.1", "family_name"]}]}]})
}

/// The public JWK of `key` as a response encryption key.
pub fn enc_jwk(key: &PublicKey, kid: &str) -> Json {
    let mut jwk = mdoc_jose::jwk::to_jwk(key);
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!("ECDH-ES");
    jwk["use"] = json!("enc");
    jwk
}

pub fn enc_key() -> PublicKey {
    SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap()
}

/// A valid unsigned direct_post request with a redirect_uri: client id.
pub fn direct_post() -> Json {
    json!({
        "client_id": format!("redirect_uri:{RESPONSE_URI}"),
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": RESPONSE_URI,
        "nonce": NONCE,
        "state": "state-1234",
        "dcql_query": dcql(),
        "client_metadata": {"vp_formats_supported": {"mso_mdoc": {}}},
    })
}

/// A valid unsigned dc_api.jwt request.
pub fn dc_api_jwt(key: &PublicKey) -> Json {
    json!({
        "response_type": "vp_token",
        "response_mode": "dc_api.jwt",
        "nonce": NONCE,
        "dcql_query": dcql(),
        "client_metadata": {
            "jwks": {"keys": [enc_jwk(key, "k1")]},
            "encrypted_response_enc_values_supported": ["A128GCM"],
            "vp_formats_supported": {"mso_mdoc": {}}
        },
    })
}

pub fn bytes(j: &Json) -> Vec<u8> {
    serde_json::to_vec(j).unwrap()
}
