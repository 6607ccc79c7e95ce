//! The rules that depend on how a request arrived: over the DC API or not (the caller says,
//! with the origin the platform gave it), and unsigned (here) or signed ([`super::object`]).

use mso::x509::Certificate;

use super::client_id::ClientId;
use super::error::RequestError;
use super::limits::MAX_REQUEST_LEN;
use super::model::{AuthorizationRequest, Raw, ResponseMode};

/// What the wallet knows about how a request reached it, beside the request itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The verifier's web origin as the platform's Digital Credentials API reported it; `None`
    /// when the request came by URL (same-device or cross-device).
    pub dc_api_origin: Option<String>,
    /// The `client_id` of the request URL beside `request` or `request_uri`, which must equal
    /// the request object's (§5.10.1).
    pub url_client_id: Option<String>,
    /// The `wallet_nonce` the wallet POSTed to `request_uri`, which the request object must
    /// carry back (§5.10.1).
    pub wallet_nonce: Option<String>,
}

/// Who signed a request object, for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierIdentity {
    /// The leaf certificate's subject DN (RFC 4514 string).
    pub subject: String,
    /// The leaf's dNSName SANs.
    pub dns_names: Vec<String>,
    /// The anchor the path ended at (subject DN).
    pub anchor_subject: String,
    /// The request object's `x5c`, leaf first.
    pub chain: Vec<Certificate>,
}

/// A request that passed every check, with what authenticated its verifier.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequest {
    /// The request; in an unsigned DC API request `client_id` is dropped (§A.2: ignored).
    pub request: AuthorizationRequest,
    /// The parsed `client_id` (`None` for an unsigned DC API request).
    pub client_id: Option<ClientId>,
    /// The signer of a request object (`None` for an unsigned request).
    pub verifier: Option<VerifierIdentity>,
}

/// The mode must match the channel: dc_api* exactly when the caller got an origin.
pub(crate) fn check_channel(
    request: &AuthorizationRequest,
    context: &RequestContext,
) -> Result<(), RequestError> {
    let mode = request.response_mode;
    match (mode.is_dc_api(), &context.dc_api_origin) {
        (true, None) => Err(RequestError::Channel {
            mode: mode.as_str(),
            how: "outside the DC API",
        }),
        (false, Some(_)) => Err(RequestError::Channel {
            mode: mode.as_str(),
            how: "over the DC API",
        }),
        _ => Ok(()),
    }
}

/// Reads `client_id` for a prefix check; refuses the prefixes this wallet does not take.
pub(crate) fn read_client_id(request: &AuthorizationRequest) -> Result<ClientId, RequestError> {
    let raw = request
        .client_id
        .as_deref()
        .ok_or(RequestError::ClientIdMissing)?;
    match ClientId::parse(raw).map_err(RequestError::ClientId)? {
        ClientId::Unsupported { prefix } => Err(RequestError::UnsupportedClientId(Some(prefix))),
        ClientId::PreRegistered(_) => Err(RequestError::UnsupportedClientId(None)),
        id => Ok(id),
    }
}

/// Parses and checks an unsigned request (a DC API request's `data` without `request`, or the
/// parameters of a request URL as JSON): every rule of [`AuthorizationRequest::from_json`],
/// the mode against the channel, and the client identifier:
///
/// - over the DC API, `client_id` is ignored and dropped (§A.2), and so is
///   `expected_origins`;
/// - otherwise `client_id` must be `redirect_uri:<uri>` (the only prefix an unsigned request
///   can use, §5.9.3) and `<uri>` must equal the response URI; when `response_uri` is absent
///   it is taken from the client id, as that prefix allows. `x509_*` prefixes are refused
///   ([`RequestError::UnsignedX509`]), other prefixes and pre-registered ids are unsupported.
pub fn parse_unsigned(
    json: &[u8],
    context: &RequestContext,
) -> Result<VerifiedRequest, RequestError> {
    if json.len() > MAX_REQUEST_LEN {
        return Err(RequestError::TooLong {
            max: MAX_REQUEST_LEN,
        });
    }
    let mut raw: Raw =
        serde_json::from_slice(json).map_err(|e| RequestError::Malformed(e.to_string()))?;
    // redirect_uri: lets the verifier omit response_uri; fill it before the mode rules run.
    let dc_api = raw
        .response_mode
        .as_deref()
        .and_then(ResponseMode::from_name)
        .is_some_and(ResponseMode::is_dc_api);
    if raw.response_uri.is_none() && !dc_api {
        raw.response_uri = raw
            .client_id
            .as_deref()
            .and_then(|c| c.strip_prefix("redirect_uri:"))
            .map(str::to_owned);
    }
    let mut request = AuthorizationRequest::from_raw(raw)?;
    check_channel(&request, context)?;
    if request.response_mode.is_dc_api() {
        request.client_id = None;
        request.expected_origins = None;
        return Ok(VerifiedRequest {
            request,
            client_id: None,
            verifier: None,
        });
    }
    let id = read_client_id(&request)?;
    match &id {
        ClientId::RedirectUri(uri) => {
            if Some(uri.as_str()) != request.response_target() {
                return Err(RequestError::RedirectUriMismatch);
            }
        }
        ClientId::X509SanDns(_) => return Err(RequestError::UnsignedX509("x509_san_dns")),
        ClientId::X509Hash(_) => return Err(RequestError::UnsignedX509("x509_hash")),
        ClientId::Unsupported { .. } | ClientId::PreRegistered(_) => {
            return Err(RequestError::UnsupportedClientId(None))
        }
    }
    Ok(VerifiedRequest {
        request,
        client_id: Some(id),
        verifier: None,
    })
}
