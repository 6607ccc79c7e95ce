//! The engine's error type. Each variant says what went wrong and whose fault it is, and has a
//! stable code (also written to the audit log); the API layer (`api::error`) alone maps the
//! variants to HTTP statuses.

use crate::audit::AuditError;
use crate::pop::PopError;
use crate::store::StoreError;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Where: a JSON-pointer-like path (`claims/org.iso.18013.5.1/family_name`,
    /// `device_keys/2/proof`).
    pub path: String,
    /// A stable machine-readable code.
    pub code: String,
    /// What is wrong, for people.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Why the engine refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is malformed (not the expected JSON shape).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Claims failed the doc-type schema (every problem listed).
    #[error("claims do not match the doc type")]
    Validation(Vec<FieldError>),
    /// The doc type is not configured.
    #[error("unknown doc type {0:?}")]
    UnknownDoctype(String),
    /// A device key could not be used.
    #[error("invalid device key")]
    DeviceKey(FieldError),
    /// A proof of possession failed.
    #[error("invalid proof of possession")]
    Proof(FieldError),
    /// The nonce is invalid, expired or already used.
    #[error("{0}")]
    Nonce(PopError),
    /// The nonce was already consumed.
    #[error("nonce was already used")]
    NonceReused,
    /// A device key is bound to another document (with its index in the request, when known).
    #[error("device key is already bound to another document")]
    DeviceKeyInUse(Option<usize>),
    /// The document does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The document is revoked (final), so it cannot be refreshed.
    #[error("document is revoked")]
    Revoked,
    /// A refresh carried different applicant data than the document was issued with.
    #[error("claims differ from the document's: issue a new document instead")]
    ApplicantMismatch,
    /// The `Idempotency-Key` was used for another request.
    #[error("Idempotency-Key was already used for a different request")]
    IdempotencyConflict,
    /// A credential offer cannot make this change in its present state (withdrawing an issued
    /// offer, giving a record to an offer that has one).
    #[error("the offer is {0}")]
    OfferState(&'static str),
    /// No DS certificate may sign now.
    #[error("no usable DS certificate")]
    NoSigningDs,
    /// An admin suspended new issuance (the emergency stop); the reason is theirs.
    #[error("new issuance is suspended: {0}")]
    IssuanceSuspended(String),
    /// The audit log could not record the operation.
    #[error("{0}")]
    Audit(#[from] AuditError),
    /// Storage failed (not the client's fault).
    #[error("storage: {0}")]
    Storage(StoreError),
    /// Configuration problem at start-up.
    #[error("configuration: {0}")]
    Config(String),
    /// Anything else that is not the client's fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => EngineError::NotFound(what),
            StoreError::Conflict => EngineError::IdempotencyConflict,
            StoreError::Revoked => EngineError::Revoked,
            StoreError::DeviceKeyInUse => EngineError::DeviceKeyInUse(None),
            StoreError::NonceReused => EngineError::NonceReused,
            // Signed by a DS revoked meanwhile: a retry signs with a usable one.
            StoreError::DsRevoked => EngineError::NoSigningDs,
            StoreError::OfferClosed => EngineError::OfferState("closed"),
            other => EngineError::Storage(other),
        }
    }
}

impl From<crate::ds::DsError> for EngineError {
    fn from(e: crate::ds::DsError) -> Self {
        EngineError::Internal(format!("DS: {e}"))
    }
}

impl EngineError {
    /// The stable error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Malformed(_) => "malformed_request",
            EngineError::Validation(_) => "validation_failed",
            EngineError::UnknownDoctype(_) => "unknown_doctype",
            EngineError::DeviceKey(_) => "invalid_device_key",
            EngineError::Proof(_) => "invalid_proof",
            EngineError::Nonce(_) | EngineError::NonceReused => "invalid_nonce",
            EngineError::DeviceKeyInUse(_) => "device_key_in_use",
            EngineError::NotFound(_) => "not_found",
            EngineError::Revoked => "document_revoked",
            EngineError::ApplicantMismatch => "applicant_mismatch",
            EngineError::IdempotencyConflict => "idempotency_conflict",
            EngineError::OfferState(_) => "offer_state",
            EngineError::NoSigningDs => "no_signing_key",
            EngineError::IssuanceSuspended(_) => "issuance_suspended",
            EngineError::Audit(_) => "audit_unavailable",
            EngineError::Storage(_) => "storage_unavailable",
            EngineError::Config(_) | EngineError::Internal(_) => "internal_error",
        }
    }

    /// The field errors to report.
    pub fn details(&self) -> Vec<FieldError> {
        match self {
            EngineError::Validation(v) => v.clone(),
            EngineError::DeviceKey(f) | EngineError::Proof(f) => vec![f.clone()],
            EngineError::UnknownDoctype(_) => {
                vec![FieldError::new(
                    "doctype",
                    "unknown_doctype",
                    self.to_string(),
                )]
            }
            EngineError::Nonce(_) | EngineError::NonceReused => {
                vec![FieldError::new("nonce", "invalid_nonce", self.to_string())]
            }
            EngineError::DeviceKeyInUse(i) => vec![FieldError::new(
                i.map_or_else(|| "device_keys".to_owned(), |i| format!("device_keys/{i}")),
                "device_key_in_use",
                self.to_string(),
            )],
            _ => Vec::new(),
        }
    }

    /// Whether the client caused it rather than the service (a refused request may then be
    /// the retry of one that succeeded).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            EngineError::NoSigningDs
                | EngineError::IssuanceSuspended(_)
                | EngineError::Audit(_)
                | EngineError::Storage(_)
                | EngineError::Config(_)
                | EngineError::Internal(_)
        )
    }

    /// The message clients see: never storage or internal detail.
    pub fn public_message(&self) -> String {
        match self {
            EngineError::Storage(e) => e.public_message().to_owned(),
            EngineError::Audit(_) => "the audit log is unavailable; retry later".into(),
            EngineError::Config(_) | EngineError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}
