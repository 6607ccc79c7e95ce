//! The errors the OpenID4VCI and OAuth specifications name, as one type.
//!
//! Each variant is one error code of RFC 6749 §4.1.2.1 and §5.2 (authorization and token
//! endpoints), RFC 9126/9101/9396 (pushed requests), RFC 6750 §3.1 (protected
//! resources), RFC 9449 (DPoP) or OpenID4VCI 1.0 §8.3.1.2, §9.3, §11.3 (credential, deferred
//! and notification endpoints). The description is for the wallet's developer: it says what
//! was wrong, never what the service holds.

use crate::engine::EngineError;

/// An OpenID4VCI or OAuth error answer.
#[derive(Debug, thiserror::Error)]
pub enum VciError {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `invalid_client`: client authentication (wallet attestation) failed.
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// `invalid_grant`: the code is unknown, expired, used, withdrawn, or the transaction code
    /// is wrong.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// `unsupported_response_type` (RFC 6749 §4.1.2.1): only `code` is answered.
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    /// `invalid_scope`: the scope names no credential configuration, or more than one.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// `invalid_authorization_details` (RFC 9396 §5).
    #[error("invalid_authorization_details: {0}")]
    InvalidAuthorizationDetails(String),
    /// `invalid_request_uri` (RFC 9101 §6.2, RFC 9126 §4): the `request_uri` is unknown,
    /// expired, used, or was pushed by another client.
    #[error("invalid_request_uri: {0}")]
    InvalidRequestUri(String),
    /// `invalid_dpop_proof` (RFC 9449 §5, §7.1).
    #[error("invalid_dpop_proof: {description}")]
    InvalidDpopProof {
        /// What was wrong with the proof.
        description: String,
        /// Whether a protected resource (401) rather than the token endpoint (400) answers.
        resource: bool,
    },
    /// `use_dpop_nonce`: retry with the nonce in the `DPoP-Nonce` header.
    #[error("use_dpop_nonce: {description}")]
    UseDpopNonce {
        /// What was wrong with the proof's nonce.
        description: String,
        /// Whether the error is answered by a protected resource (401) rather than the
        /// token endpoint (400).
        resource: bool,
    },
    /// `invalid_token` (401): the access token is unknown, expired, revoked, or presented
    /// without the DPoP proof it is bound to.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// `invalid_credential_request`.
    #[error("invalid_credential_request: {0}")]
    InvalidCredentialRequest(String),
    /// `unknown_credential_configuration`.
    #[error("unknown_credential_configuration: {0}")]
    UnknownCredentialConfiguration(String),
    /// `unknown_credential_identifier`.
    #[error("unknown_credential_identifier: {0}")]
    UnknownCredentialIdentifier(String),
    /// `invalid_proof`.
    #[error("invalid_proof: {0}")]
    InvalidProof(String),
    /// `invalid_nonce`: get a fresh `c_nonce` from the nonce endpoint.
    #[error("invalid_nonce: {0}")]
    InvalidNonce(String),
    /// `invalid_encryption_parameters`.
    #[error("invalid_encryption_parameters: {0}")]
    InvalidEncryptionParameters(String),
    /// `credential_request_denied`.
    #[error("credential_request_denied: {0}")]
    CredentialRequestDenied(String),
    /// `issuance_pending` (deferred endpoint): poll again after `interval` seconds.
    #[error("issuance_pending")]
    IssuancePending {
        /// Seconds to wait.
        interval: u64,
    },
    /// `invalid_transaction_id` (deferred endpoint).
    #[error("invalid_transaction_id")]
    InvalidTransactionId,
    /// `invalid_notification_id`.
    #[error("invalid_notification_id")]
    InvalidNotificationId,
    /// `invalid_notification_request`.
    #[error("invalid_notification_request: {0}")]
    InvalidNotificationRequest(String),
    /// A fault of the service (storage, audit, signing): `server_error` or
    /// `temporarily_unavailable`, never a client's fault.
    #[error("{0}")]
    Service(EngineError),
}

impl VciError {
    /// The error code the specification names.
    pub fn code(&self) -> &'static str {
        match self {
            VciError::InvalidRequest(_) => "invalid_request",
            VciError::InvalidClient(_) => "invalid_client",
            VciError::InvalidGrant(_) => "invalid_grant",
            VciError::UnsupportedGrantType(_) => "unsupported_grant_type",
            VciError::UnsupportedResponseType(_) => "unsupported_response_type",
            VciError::InvalidScope(_) => "invalid_scope",
            VciError::InvalidAuthorizationDetails(_) => "invalid_authorization_details",
            VciError::InvalidRequestUri(_) => "invalid_request_uri",
            VciError::InvalidDpopProof { .. } => "invalid_dpop_proof",
            VciError::UseDpopNonce { .. } => "use_dpop_nonce",
            VciError::InvalidToken(_) => "invalid_token",
            VciError::InvalidCredentialRequest(_) => "invalid_credential_request",
            VciError::UnknownCredentialConfiguration(_) => "unknown_credential_configuration",
            VciError::UnknownCredentialIdentifier(_) => "unknown_credential_identifier",
            VciError::InvalidProof(_) => "invalid_proof",
            VciError::InvalidNonce(_) => "invalid_nonce",
            VciError::InvalidEncryptionParameters(_) => "invalid_encryption_parameters",
            VciError::CredentialRequestDenied(_) => "credential_request_denied",
            VciError::IssuancePending { .. } => "issuance_pending",
            VciError::InvalidTransactionId => "invalid_transaction_id",
            VciError::InvalidNotificationId => "invalid_notification_id",
            VciError::InvalidNotificationRequest(_) => "invalid_notification_request",
            VciError::Service(e) => match e {
                EngineError::NoSigningDs
                | EngineError::IssuanceSuspended(_)
                | EngineError::Audit(_)
                | EngineError::Storage(_) => "temporarily_unavailable",
                _ => "server_error",
            },
        }
    }

    /// The `error_description` (no internal detail for service faults).
    pub fn description(&self) -> String {
        match self {
            VciError::InvalidRequest(m)
            | VciError::InvalidClient(m)
            | VciError::InvalidGrant(m)
            | VciError::UnsupportedGrantType(m)
            | VciError::UnsupportedResponseType(m)
            | VciError::InvalidScope(m)
            | VciError::InvalidAuthorizationDetails(m)
            | VciError::InvalidRequestUri(m)
            | VciError::InvalidToken(m)
            | VciError::InvalidCredentialRequest(m)
            | VciError::UnknownCredentialConfiguration(m)
            | VciError::UnknownCredentialIdentifier(m)
            | VciError::InvalidProof(m)
            | VciError::InvalidNonce(m)
            | VciError::InvalidEncryptionParameters(m)
            | VciError::CredentialRequestDenied(m)
            | VciError::InvalidNotificationRequest(m) => m.clone(),
            VciError::UseDpopNonce { description, .. }
            | VciError::InvalidDpopProof { description, .. } => description.clone(),
            VciError::IssuancePending { .. } => "the credential is not ready yet".into(),
            VciError::InvalidTransactionId => "unknown or spent transaction_id".into(),
            VciError::InvalidNotificationId => "unknown notification_id".into(),
            VciError::Service(e) => e.public_message(),
        }
    }

    /// Whether the wallet (not the service) is at fault.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, VciError::Service(_))
    }

    /// The HTTP status the specifications give this error.
    pub fn status(&self) -> u16 {
        match self {
            VciError::InvalidToken(_) => 401,
            VciError::UseDpopNonce { resource: true, .. }
            | VciError::InvalidDpopProof { resource: true, .. } => 401,
            VciError::InvalidClient(_) => 401,
            VciError::Service(e) => match self.code() {
                "temporarily_unavailable" => 503,
                _ if e.is_client_error() => 400,
                _ => 500,
            },
            _ => 400,
        }
    }
}

impl From<crate::store::StoreError> for VciError {
    fn from(e: crate::store::StoreError) -> Self {
        VciError::Service(EngineError::from(e))
    }
}

impl From<crate::audit::AuditError> for VciError {
    fn from(e: crate::audit::AuditError) -> Self {
        VciError::Service(EngineError::Audit(e))
    }
}

impl From<EngineError> for VciError {
    /// What an issuance refusal means to a wallet (OpenID4VCI 1.0 §8.3.1.2).
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Nonce(p) => VciError::InvalidNonce(p.to_string()),
            EngineError::NonceReused => {
                VciError::InvalidNonce("the c_nonce was already used".into())
            }
            EngineError::Proof(f) | EngineError::DeviceKey(f) => VciError::InvalidProof(format!(
                "{}: {}",
                f.path.replacen("device_keys", "proofs/jwt", 1),
                f.message
            )),
            EngineError::DeviceKeyInUse(_) => VciError::InvalidProof(
                "a proof's key is already bound to another credential".into(),
            ),
            EngineError::IdempotencyConflict => VciError::CredentialRequestDenied(
                "this offer's credential was already issued to a different request".into(),
            ),
            EngineError::Validation(_) | EngineError::UnknownDoctype(_) => {
                VciError::CredentialRequestDenied(
                    "the applicant record no longer meets the doc type; ask the portal".into(),
                )
            }
            EngineError::Revoked
            | EngineError::ApplicantMismatch
            | EngineError::NotFound(_)
            | EngineError::OfferState(_) => VciError::CredentialRequestDenied(e.public_message()),
            EngineError::Malformed(m) => VciError::InvalidCredentialRequest(m),
            other => VciError::Service(other),
        }
    }
}
