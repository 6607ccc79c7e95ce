//! What travels between the relying party and the wallet, as the SDK hands it over and
//! reads it back: the request to send ([`VerifierRequest`]) and a response opened and matched
//! to its request.

use mso::model::SessionTranscript;

/// What the app hands to the wallet, by the channel the request uses.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifierRequest {
    /// The Digital Credentials API protocol identifier (`openid4vp-v1-unsigned`,
    /// `openid4vp-v1-signed`, `org-iso-mdoc`); `openid4vp` for a request by URL.
    pub protocol: String,
    /// The Digital Credentials API request's `data` (JSON); for a request by URL, the
    /// request's parameters as JSON.
    pub data_json: String,
    /// For `direct_post` modes, the `openid4vp://` URL to show as a QR code or open as a
    /// link (the request by value, signed when a signer is configured).
    pub authorization_url: Option<String>,
    /// The signed request object (JWT), when a signer is configured.
    pub request_object: Option<String>,
}

/// A response opened and matched to its request: the DeviceResponses by query id (in
/// response order) and the transcript they must be bound to.
pub(crate) struct Opened {
    pub(crate) presentations: Vec<(String, Vec<u8>)>,
    pub(crate) transcript: SessionTranscript,
}
