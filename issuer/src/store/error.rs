//! The storage error type.

/// Errors from the [`Store`](super::Store).
///
/// `Display` keeps the full technical detail (including the database driver's message, which
/// may quote SQL or constraint names) because it is meant for operator logs. Anything shown to
/// an API client must come from [`StoreError::public_message`], which never reveals storage
/// internals.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The requested row does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The `Idempotency-Key` was already used by this client for a different request.
    #[error("idempotency key reused with a different request")]
    Conflict,
    /// The document is revoked, so it cannot be refreshed (revocation is final).
    #[error("document is revoked")]
    Revoked,
    /// A device key is already bound to another document (its thumbprint is what the
    /// identifier list revokes, so it must identify one document).
    #[error("device key already bound to another document")]
    DeviceKeyInUse,
    /// The proof-of-possession nonce was already used.
    #[error("nonce already used")]
    NonceReused,
    /// The DS certificate that signed the MSOs was revoked before they could be recorded (a
    /// DS revocation raced the issuance): nothing was recorded.
    #[error("the signing DS certificate was revoked")]
    DsRevoked,
    /// The OpenID4VCI offer the issuance redeems is no longer open (withdrawn, or issued by a
    /// concurrent request): nothing was recorded.
    #[error("the credential offer is no longer open")]
    OfferClosed,
    /// The caller passed a value the store cannot represent (e.g. an index beyond `i64`).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// A stored value could not be decoded (corrupt or out-of-range data).
    #[error("corrupt stored data: {0}")]
    Corrupt(&'static str),
    /// The URL names no supported backend.
    #[error("unsupported database URL (expected sqlite:, a file path, or postgres://)")]
    UnsupportedUrl,
    /// The operating system's random number generator failed.
    #[error("random number generator: {0}")]
    Random(String),
    /// The database refused or failed an operation.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The SQLite issuance writer task is gone (its runtime is shutting down).
    #[error("issuance writer stopped")]
    WriterStopped,
    /// Applying the schema migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A short message safe to return to an API client: no SQL, no driver detail.
    pub fn public_message(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "not found",
            StoreError::Conflict => "Idempotency-Key was already used for a different request",
            StoreError::Revoked => "document is revoked",
            StoreError::DeviceKeyInUse => "device key is already bound to another document",
            StoreError::NonceReused => "nonce was already used",
            StoreError::DsRevoked => "the signing key was revoked; retry",
            StoreError::OfferClosed => "the credential offer is no longer open",
            StoreError::Invalid(_) => "invalid request",
            StoreError::Corrupt(_)
            | StoreError::UnsupportedUrl
            | StoreError::Random(_)
            | StoreError::WriterStopped
            | StoreError::Db(_)
            | StoreError::Migrate(_) => "internal storage error",
        }
    }

    /// Whether the error was caused by the caller rather than by the store.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::Conflict
                | StoreError::Revoked
                | StoreError::DeviceKeyInUse
                | StoreError::NonceReused
                | StoreError::OfferClosed
                | StoreError::Invalid(_)
        )
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = core::result::Result<T, E>;
