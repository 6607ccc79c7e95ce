//! Why a request was refused: one variant per rule, so the wallet can answer with the right
//! OpenID4VP error and tests can name what they expect.

use mdoc_jose::jwk::JwkError;
use mdoc_jose::jws::JwsError;
use mso::x509::PathError;
use time::OffsetDateTime;

use super::client_id::ClientIdError;

/// Why an authorization request, request object or request URL was refused. Values echoed
/// from the request are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Longer than the limit.
    #[error("request is longer than {max} bytes")]
    TooLong {
        /// The limit, bytes.
        max: usize,
    },
    /// Not a JSON object, a member of the wrong type, a member given twice, or a query string
    /// that is not UTF-8 form encoding.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// `response_type` is missing or not `vp_token`.
    #[error("response_type must be vp_token, found {0:?}")]
    ResponseType(Option<String>),
    /// `response_mode` is missing or not one of direct_post, direct_post.jwt, dc_api,
    /// dc_api.jwt.
    #[error("response_mode {0:?} is not supported")]
    ResponseMode(Option<String>),
    /// `nonce` is missing.
    #[error("nonce is missing")]
    NonceMissing,
    /// `nonce` is shorter or longer than allowed.
    #[error("nonce must be {min}..={max} characters, found {len}")]
    NonceLength {
        /// Its length.
        len: usize,
        /// Shortest accepted.
        min: usize,
        /// Longest accepted.
        max: usize,
    },
    /// `nonce` or `state` has a character outside the URL-safe set (§5.2).
    #[error("{0} has a character outside A-Z a-z 0-9 - . _ ~, or is too long")]
    Charset(&'static str),
    /// `dcql_query` is missing or not an object (a `scope` alias is not supported).
    #[error("dcql_query is missing or not a JSON object")]
    DcqlMissing,
    /// `transaction_data` is present; this wallet supports none, so §5.1 requires refusal.
    #[error("transaction_data is not supported")]
    TransactionData,
    /// `response_uri` is missing with a direct_post mode.
    #[error("response_uri is required with response_mode {0}")]
    ResponseUriMissing(&'static str),
    /// `response_uri` (or `redirect_uri`, `request_uri`, an origin) is not an absolute https URL
    /// within the length limit.
    #[error("{0} is not an absolute https URL within the length limit")]
    Uri(&'static str),
    /// `redirect_uri` is present with a direct_post mode (§8.2).
    #[error("redirect_uri must not be present with response_mode direct_post")]
    RedirectUriWithDirectPost,
    /// An encrypted mode without `client_metadata.jwks`, or no key in it fit: EC P-256 with
    /// `alg` ECDH-ES, a `kid`, `use` absent or `enc`.
    #[error("no usable ECDH-ES P-256 response encryption key with a kid in client_metadata.jwks")]
    NoEncryptionKey,
    /// More than one key fit; the verifier's choice would be ambiguous.
    #[error("{0} usable response encryption keys in client_metadata.jwks, expected one")]
    AmbiguousEncryptionKey(usize),
    /// The usable key is not a valid public JWK.
    #[error("response encryption key: {0}")]
    EncryptionKey(JwkError),
    /// A list (`jwks.keys`, `expected_origins`, `encrypted_response_enc_values_supported`) is
    /// empty where it must not be, or longer than the limit.
    #[error("{what} must have 1..={max} entries")]
    ListLength {
        /// The member.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// `client_id` is missing where required (every request except an unsigned DC API one).
    #[error("client_id is missing")]
    ClientIdMissing,
    /// `client_id` does not parse.
    #[error("client_id: {0}")]
    ClientId(ClientIdError),
    /// A client identifier prefix this wallet does not authenticate (`None`: a pre-registered
    /// client id, which this wallet has none of).
    #[error("client identifier prefix {0:?} is not supported")]
    UnsupportedClientId(Option<String>),
    /// An `x509_*` client_id in an unsigned request: nothing authenticates it.
    #[error("client_id prefix {0} requires a signed request object")]
    UnsignedX509(&'static str),
    /// A `redirect_uri:` client_id in a signed request object (§5.9.3: cannot be signed).
    #[error("a redirect_uri: client_id cannot be used in a signed request")]
    SignedRedirectUri,
    /// A `redirect_uri:` client_id whose value is not the response (or redirect) URI.
    #[error("redirect_uri: client_id value differs from the response URI")]
    RedirectUriMismatch,
    /// The mode is dc_api* but the caller gave no origin, or the caller gave an origin for a
    /// mode that is not dc_api*.
    #[error("response_mode {mode} does not fit a request received {how}")]
    Channel {
        /// The request's mode.
        mode: &'static str,
        /// "over the DC API" or "outside the DC API".
        how: &'static str,
    },
    /// A signed DC API request without `expected_origins`.
    #[error("expected_origins is required in a signed DC API request")]
    ExpectedOriginsMissing,
    /// The caller's origin is not one of `expected_origins`.
    #[error("origin {0:?} is not in expected_origins")]
    OriginNotExpected(String),
    /// The request object's JWS was refused (size, structure, alg none, crit, typ, signature).
    #[error("request object: {0}")]
    Jws(JwsError),
    /// The request object does not name its key by `x5c`.
    #[error("request object must carry its certificate chain in x5c")]
    NoX5c,
    /// An `x5c` entry is not standard base64, or the chain is too long.
    #[error("request object x5c: {0}")]
    X5c(String),
    /// The leaf certificate has no path to the wallet's verifier anchors at the time given.
    #[error("request object certificate: {0}")]
    Path(PathError),
    /// The leaf certificate's subjectAltName does not decode.
    #[error("leaf certificate: {0}")]
    Certificate(String),
    /// `x509_san_dns`: the leaf has no dNSName SAN equal to the client_id value.
    #[error("leaf certificate has no dNSName SAN {0:?}")]
    SanMismatch(String),
    /// `x509_hash`: the leaf's SHA-256 differs from the client_id value.
    #[error("leaf certificate hash differs from the x509_hash client_id")]
    HashMismatch,
    /// `x509_san_dns` outside the DC API: the response URI's host is not the client_id value.
    #[error("response URI host {found:?} is not the client_id DNS name {expected:?}")]
    ResponseUriHost {
        /// The client_id DNS name.
        expected: String,
        /// The response URI's host.
        found: String,
    },
    /// `aud` is not `https://self-issued.me/v2`.
    #[error("request object aud {0:?} is not https://self-issued.me/v2")]
    Audience(String),
    /// The request object's `exp` has passed at the time given.
    #[error("request object expired at {exp}, checked at {at}")]
    Expired {
        /// Its `exp`.
        exp: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// The request object's `iat` is after the time given (beyond the clock skew).
    #[error("request object issued at {iat}, after {at}")]
    IssuedInFuture {
        /// Its `iat`.
        iat: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// `iat` or `exp` is not a NumericDate.
    #[error("request object {0} is not a NumericDate")]
    Date(&'static str),
    /// The `client_id` beside `request`/`request_uri` differs from the request object's.
    #[error("client_id of the request URL differs from the request object's")]
    ClientIdMismatch,
    /// The wallet sent a `wallet_nonce` and the request object does not carry it back.
    #[error("request object wallet_nonce differs from the one the wallet sent")]
    WalletNonce,
    /// A DC API exchange protocol other than openid4vp-v1-unsigned or openid4vp-v1-signed.
    #[error("DC API protocol {0:?} is not supported")]
    Protocol(String),
    /// A request URL with both `request` and `request_uri`, or neither and no parameters, or a
    /// `request_uri_method` other than get/post.
    #[error("request URL: {0}")]
    Url(&'static str),
}
