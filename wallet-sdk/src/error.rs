//! The one error type of the SDK: what a foreign caller catches when a step cannot be taken.
//!
//! Grouped so an app can react by kind without parsing messages. Messages never carry key
//! material or credential contents.

/// Why an SDK call could not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum WalletError {
    /// The bytes are not the expected structure (CBOR, COSE, JSON, JWT, ISO 18013-5).
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong, for logs.
        reason: String,
    },
    /// The input exceeds a bound (size, nesting depth or number of items).
    #[error("input exceeds a size limit: {reason}")]
    SizeLimit {
        /// Which limit, for logs.
        reason: String,
    },
    /// The app's key store failed or returned something unusable (raised by a [`crate::KeyStore`]
    /// implementation, or found by the SDK in what it returned).
    #[error("key store: {reason}")]
    KeyStore {
        /// What failed, for logs.
        reason: String,
    },
    /// A cryptographic operation failed.
    #[error("cryptographic failure: {reason}")]
    Crypto {
        /// What failed, for logs.
        reason: String,
    },
    /// A foreign implementation raised an error the SDK does not know.
    #[error("unexpected error from the app: {reason}")]
    Callback {
        /// The foreign error's text.
        reason: String,
    },
    // ---- OpenID4VCI client (`oid4vci/`, `http.rs`) ----
    /// The app's HTTP client could not get an answer (network, TLS, timeout). Raised by
    /// [`crate::HttpClient`] implementations; any HTTP status is an answer, not this error.
    #[error("HTTP: {reason}")]
    Http {
        /// What failed, for logs.
        reason: String,
    },
    /// A URL the SDK refuses to contact or to accept: not absolute, not `https` (plain `http`
    /// only to a loopback host, when the options allow it), user info, or a fragment.
    #[error("URL refused: {url}: {reason}")]
    UrlRefused {
        /// The URL (shortened).
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with a redirect; the SDK follows none (a redirect could take the
    /// request, its access token or its proofs to another host).
    #[error("{url} answered {status}, a redirect, which is not followed")]
    Redirect {
        /// The URL requested.
        url: String,
        /// The 3xx status.
        status: u16,
    },
    /// The server answered with an HTTP status the step does not accept, without an OAuth
    /// error body.
    #[error("{url} answered HTTP {status}")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// The issuer or authorization server refused with an OAuth / OpenID4VCI error
    /// (`invalid_grant`, `invalid_proof`, `invalid_token`, `access_denied`, …).
    #[error("the issuer refused: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    IssuerError {
        /// The HTTP status (0 for an error carried by the authorization redirect).
        status: u16,
        /// The `error` code.
        code: String,
        /// The `error_description`, if any (the server's text: show it to developers only).
        description: Option<String>,
    },
    /// The server's answer is well-formed but breaks the protocol: a missing or wrongly typed
    /// field, a value out of range, an unknown `token_type`, a credential not bound to a key
    /// this wallet made, an authorization response whose `state` or `iss` does not match.
    #[error("protocol violation: {reason}")]
    Protocol {
        /// What is wrong, for logs.
        reason: String,
    },
    /// Metadata fetched for one identifier names another (`credential_issuer` of Credential
    /// Issuer Metadata, `issuer` of RFC 8414 metadata), or an offer names an authorization
    /// server the issuer does not list.
    #[error("identifier mismatch: expected {expected}, found {found}")]
    IssuerMismatch {
        /// The identifier the document was fetched for.
        expected: String,
        /// The identifier it names.
        found: String,
    },
    /// What the issuer offers or requires is something this SDK does not do (no `mso_mdoc`
    /// configuration, no `jwt` proofs with ES256, no grant the SDK can use, …).
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What, for logs.
        reason: String,
    },
    /// The app's input to a step is not acceptable (a missing transaction code, a batch size
    /// out of range, an unknown configuration id, a redirect URL that is not the expected one).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What, for logs.
        reason: String,
    },
    /// The step cannot be taken now: steps out of order (a credential request before a
    /// token, a second authorization response, …).
    #[error("flow state: {reason}")]
    FlowState {
        /// Why, for logs.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for WalletError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Callback { reason: e.reason }
    }
}

/// The SDK's result type.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
