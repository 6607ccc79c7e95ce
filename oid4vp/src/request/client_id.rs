//! Client Identifier Prefixes (OpenID4VP 1.0 §5.9): how the wallet reads `client_id`.
//!
//! The prefix is the text before the first `:`. This crate authenticates `redirect_uri`
//! (unsigned requests only), `x509_san_dns` and `x509_hash` (signed request objects); the other
//! prefixes of §5.9.3 and pre-registered clients (no `:`, §5.9.2) parse to values the request
//! layer refuses with a typed error, and `origin:` is reserved and refused here.

use mdoc_jose::jws::b64url_decode;

use super::limits::MAX_CLIENT_ID_LEN;

/// A `client_id` read by prefix. The full string (prefix included) stays in the request: it is
/// what the handover and the response audience use (§5.9.1, B.2.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientId {
    /// `redirect_uri:<uri>`: the verifier's response or redirect URI (never signed).
    RedirectUri(String),
    /// `x509_san_dns:<dns name>`: a dNSName SAN of the request object's leaf certificate.
    X509SanDns(String),
    /// `x509_hash:<base64url SHA-256>`: the hash of the leaf certificate's DER.
    X509Hash([u8; 32]),
    /// A prefix this crate does not authenticate (`decentralized_identifier`,
    /// `verifier_attestation`, `openid_federation`, or an unknown one).
    Unsupported {
        /// The prefix, without the colon.
        prefix: String,
    },
    /// No `:`: a client pre-registered with the wallet (§5.9.2), which this wallet has none of.
    PreRegistered(String),
}

/// Why a `client_id` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// Empty, or longer than the limit.
    #[error("client_id is empty or longer than {max} bytes")]
    Length {
        /// The limit, bytes.
        max: usize,
    },
    /// `origin:` is reserved for the DC API's response audience; a request must not use it.
    #[error("the origin: client identifier prefix is reserved and refused in requests")]
    OriginPrefix,
    /// `redirect_uri:` whose value is not an absolute https URL.
    #[error("redirect_uri: client_id value is not an absolute https URL")]
    RedirectUri,
    /// `x509_san_dns:` whose value is not a DNS name.
    #[error("x509_san_dns: client_id value is not a DNS name")]
    DnsName,
    /// `x509_hash:` whose value is not base64url of 32 bytes.
    #[error("x509_hash: client_id value is not base64url of a SHA-256 hash")]
    Hash,
}

impl ClientId {
    /// Reads `client_id` by its prefix.
    pub fn parse(client_id: &str) -> Result<ClientId, ClientIdError> {
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_LEN {
            return Err(ClientIdError::Length {
                max: MAX_CLIENT_ID_LEN,
            });
        }
        let Some((prefix, value)) = client_id.split_once(':') else {
            return Ok(ClientId::PreRegistered(client_id.to_owned()));
        };
        match prefix {
            "redirect_uri" => {
                if !is_https_url(value) {
                    return Err(ClientIdError::RedirectUri);
                }
                Ok(ClientId::RedirectUri(value.to_owned()))
            }
            "x509_san_dns" => {
                if !is_dns_name(value) {
                    return Err(ClientIdError::DnsName);
                }
                Ok(ClientId::X509SanDns(value.to_owned()))
            }
            "x509_hash" => b64url_decode(value)
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
                .map(ClientId::X509Hash)
                .ok_or(ClientIdError::Hash),
            "origin" => Err(ClientIdError::OriginPrefix),
            other => Ok(ClientId::Unsupported {
                prefix: other.chars().take(40).collect(),
            }),
        }
    }

    /// Whether this prefix requires a signed request object (§5.9.3).
    pub fn requires_signature(&self) -> bool {
        matches!(self, ClientId::X509SanDns(_) | ClientId::X509Hash(_))
    }
}

/// An absolute `https` URL with a host.
pub(crate) fn is_https_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

/// A DNS name as a dNSName SAN holds it (RFC 1035 preferred syntax, RFC 5280 §4.2.1.6): labels
/// of letters, digits and inner hyphens, 1..=63 bytes each, 253 bytes in all.
pub(crate) fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
