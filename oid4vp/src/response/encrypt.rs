//! The encrypted modes' JWE (§8.3): ECDH-ES to the request's one encryption key, its `kid` in
//! the header, the payload the response parameters as JSON. Through `mdoc_jose::jwe`.

use mdoc_jose::jwe::{self, ContentEncryption, EncryptParams};
use mso::crypto::ecdh::AgreementKey;

use super::error::ResponseError;
use super::limits::MAX_RESPONSE_LEN;
use super::token::ResponseParams;
use crate::request::model::AuthorizationRequest;

/// The `enc` values this crate encrypts and decrypts, in the wallet's order of preference.
pub const SUPPORTED_ENCS: &[ContentEncryption] =
    &[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

/// The wallet's JWE for a direct_post.jwt or dc_api.jwt request: to the request's key, with
/// its `kid`, `enc` the first of [`SUPPORTED_ENCS`] the verifier lists (A128GCM when it lists
/// none), payload [`ResponseParams::to_json`].
pub fn encrypt_response(
    request: &AuthorizationRequest,
    params: &ResponseParams,
) -> Result<String, ResponseError> {
    let key = request
        .encryption_key()
        .map_err(ResponseError::EncryptionKey)?
        .ok_or(ResponseError::NotEncrypted)?;
    let names: Vec<&str> = SUPPORTED_ENCS.iter().map(|e| e.name()).collect();
    let enc = request
        .client_metadata
        .as_ref()
        .and_then(|m| m.response_enc(&names))
        .and_then(ContentEncryption::from_name)
        .ok_or(ResponseError::NoCommonEnc)?;
    let plaintext = params.to_json().to_string();
    jwe::encrypt(
        &key.key,
        &EncryptParams {
            enc,
            kid: Some(&key.kid),
            apu: None,
            apv: None,
        },
        plaintext.as_bytes(),
    )
    .map_err(ResponseError::Jwe)
}

/// The verifier's side: decrypts `jwe` with the private key of the request's encryption key
/// (`kid`, which the header must name), `enc` one of `accepted`, and reads the parameters.
pub fn decrypt_response(
    jwe: &str,
    key: &AgreementKey,
    kid: &str,
    accepted: &[ContentEncryption],
) -> Result<ResponseParams, ResponseError> {
    let decrypted =
        jwe::decrypt(jwe, key, accepted, MAX_RESPONSE_LEN).map_err(ResponseError::Jwe)?;
    if decrypted.header.kid.as_deref() != Some(kid) {
        return Err(ResponseError::Kid);
    }
    let json: serde_json::Value = serde_json::from_slice(&decrypted.plaintext)
        .map_err(|e| ResponseError::Malformed(e.to_string()))?;
    ResponseParams::from_json(&json)
}
