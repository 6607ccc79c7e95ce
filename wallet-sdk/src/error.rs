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
}

impl From<uniffi::UnexpectedUniFFICallbackError> for WalletError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Callback { reason: e.reason }
    }
}

/// The SDK's result type.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
