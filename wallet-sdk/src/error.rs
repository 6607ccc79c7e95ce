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
    /// The app's storage failed (raised by a [`crate::Storage`] implementation, or an I/O
    /// error of [`crate::FileStorage`]).
    #[error("storage: {reason}")]
    Storage {
        /// What failed, for logs.
        reason: String,
    },
    /// A stored record is not one this SDK wrote, is of an unknown format version, or is
    /// damaged. Nothing was changed.
    #[error("stored record {key:?}: {reason}")]
    StoredFormat {
        /// The storage key of the record.
        key: String,
        /// What is wrong, for logs.
        reason: String,
    },
    /// No credential (or key, or session) of that identifier.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A credential batch was refused on receipt: nothing was stored and the batch's device
    /// keys were deleted.
    #[error("credential {index} refused ({reason:?}): {detail}")]
    CredentialRefused {
        /// Why, typed.
        reason: RefusalReason,
        /// The index in the batch of the first credential refused.
        index: u32,
        /// Why, in words (the failed check), for logs.
        detail: String,
    },
    /// No stored MSO can answer: every MSO of the credential has been presented (and the
    /// policy does not allow reuse), or none is valid at the time of presentation.
    #[error("no usable MSO: {reason}")]
    NoUsableMso {
        /// Why, for logs.
        reason: String,
    },
    /// A proximity session message failed or the session cannot take this step. The session
    /// has ended; when `reply` is not empty, send it to the reader (a SessionData with
    /// `status_code` 10 or 11, ISO 18013-5 §9.1.1.4).
    #[error("session: {reason}")]
    Session {
        /// Why, for logs.
        reason: String,
        /// The SessionData status code sent in `reply` (10, 11 or 20), 0 when none.
        status_code: u64,
        /// The SessionData to send to the reader, or empty.
        reply: Vec<u8>,
    },
    /// An argument is inconsistent or out of range.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// Why, for logs.
        reason: String,
    },
    /// The trust store or the verifier engine could not take the step (e.g. a malformed
    /// anchor).
    #[error("trust: {reason}")]
    Trust {
        /// Why, for logs.
        reason: String,
    },
    /// An internal invariant failed (e.g. a lock poisoned by an earlier failure).
    #[error("internal error: {reason}")]
    Internal {
        /// What, for logs.
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

/// Why a credential was refused on receipt (ISO 18013-5 §9.3 checks, run by the verifier
/// engine, plus the wallet's own: the device key binding and the expected doc type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RefusalReason {
    /// The bytes are not an IssuerSigned (or exceed a decoding bound).
    Malformed,
    /// The DS certificate does not chain to an IACA in the app's trust store (or is not the
    /// pinned one), or the chain is revoked.
    UntrustedIssuer,
    /// The DS or IACA certificate is outside its validity, or does not fit its profile.
    InvalidCertificate,
    /// The MSO signature does not verify, or uses an algorithm not allowed.
    InvalidSignature,
    /// An element's value does not match its digest in the MSO (tampered), or is missing
    /// from it.
    TamperedElement,
    /// The doc type is not the one the wallet asked for.
    WrongDocType,
    /// The MSO is not valid yet.
    NotYetValid,
    /// The MSO has expired (validUntil passed), or its validity is inconsistent.
    Expired,
    /// The MSO's deviceKey is not the public key of the device key it was issued for.
    BoundToAnotherKey,
    /// The MSO is revoked or suspended in its status list.
    Revoked,
    /// Any other failed check.
    Other,
}

impl From<verifier_sdk::VerifierError> for WalletError {
    fn from(e: verifier_sdk::VerifierError) -> Self {
        use verifier_sdk::VerifierError as V;
        let reason = e.to_string();
        match e {
            V::Malformed { .. } => Self::Malformed { reason },
            V::SizeLimit { .. } => Self::SizeLimit { reason },
            V::Crypto { .. } | V::InvalidKey { .. } | V::UnsupportedAlgorithm { .. } => {
                Self::Crypto { reason }
            }
            V::InvalidArgument { .. } => Self::InvalidArgument { reason },
            V::Internal { .. } => Self::Internal { reason },
            _ => Self::Trust { reason },
        }
    }
}

/// `mso`'s errors, classified once by the verifier SDK's mapping.
impl From<mso::Error> for WalletError {
    fn from(e: mso::Error) -> Self {
        verifier_sdk::VerifierError::from(e).into()
    }
}

impl WalletError {
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        Self::Internal {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_argument(reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            reason: reason.into(),
        }
    }

    pub(crate) fn storage(reason: impl Into<String>) -> Self {
        Self::Storage {
            reason: reason.into(),
        }
    }
}

/// The SDK's result type.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
