//! The `mso_mdoc` SessionTranscript handover of a request (B.2.6): what the wallet's device
//! authentication signs and the verifier recomputes.

use mso::model::Handover;

use super::error::ResponseError;
use crate::request::model::AuthorizationRequest;

/// The handover for `request`:
///
/// - by URL (direct_post*): `OpenID4VPHandover` over the **full** `client_id` with its prefix
///   (B.2.6.1: "this includes the Client Identifier Prefix"), the nonce, the RFC 7638
///   thumbprint of the encryption key for direct_post.jwt (else null), and the response URI;
/// - over the DC API (dc_api*): `OpenID4VPDCAPIHandover` over `dc_api_origin` (the origin the
///   platform reported, without `origin:`), the nonce, and the thumbprint for dc_api.jwt.
pub fn handover(
    request: &AuthorizationRequest,
    dc_api_origin: Option<&str>,
) -> Result<Handover, ResponseError> {
    let jwk_thumbprint = request
        .encryption_key()
        .map_err(ResponseError::EncryptionKey)?
        .map(|k| k.thumbprint().to_vec());
    if request.response_mode.is_dc_api() {
        let origin = dc_api_origin.ok_or(ResponseError::Handover("dc_api needs the origin"))?;
        return Ok(Handover::OpenId4VpDcApi {
            origin: origin.to_owned(),
            nonce: request.nonce.clone(),
            jwk_thumbprint,
        });
    }
    Ok(Handover::OpenId4Vp {
        client_id: request
            .client_id
            .clone()
            .ok_or(ResponseError::Handover("client_id is missing"))?,
        nonce: request.nonce.clone(),
        jwk_thumbprint,
        response_uri: request
            .response_target()
            .ok_or(ResponseError::Handover("no response_uri or redirect_uri"))?
            .to_owned(),
    })
}
