//! Receiving what an OpenID4VCI issuance gave: the credentials are accepted only if they
//! verify (see `receive`), and the issuer is told either way (OpenID4VCI 1.0 §11), so it
//! learns of a credential the wallet refused.

use std::sync::Arc;

use crate::error::{Result, WalletError};
use crate::oid4vci::{IssuedCredentials, NotificationEvent, Oid4vciClient};
use crate::wallet::Wallet;
use crate::CredentialSummary;

#[uniffi::export]
impl Wallet {
    /// Stores the credentials of `issued` (from [`Oid4vciClient::request_credentials`] or
    /// [`Oid4vciClient::poll_deferred`]) exactly as [`Wallet::accept_credentials`] does, with
    /// the doc type the client requested, then notifies the issuer through `client`:
    /// `credential_accepted` when they were stored, `credential_failure` (with the refusal's
    /// reason) when they were refused. The notification is best effort: an issuer that
    /// cannot be reached changes neither outcome.
    pub fn receive_issued(
        &self,
        client: Arc<Oid4vciClient>,
        issued: IssuedCredentials,
        at_unix_seconds: i64,
    ) -> Result<CredentialSummary> {
        let outcome = self.accept_credentials(
            issued.doctype,
            issued.credentials,
            issued.credential_issuer,
            at_unix_seconds,
        );
        let (event, description) = match &outcome {
            Ok(_) => (NotificationEvent::CredentialAccepted, None),
            // Only the typed reason goes back to the issuer: the detail may name local state.
            Err(WalletError::CredentialRefused { reason, index, .. }) => (
                NotificationEvent::CredentialFailure,
                Some(format!(
                    "refused on receipt: credential {index}: {reason:?}"
                )),
            ),
            Err(_) => (
                NotificationEvent::CredentialFailure,
                Some("not stored".to_owned()),
            ),
        };
        let _ = client.notify(event, description);
        outcome
    }
}
