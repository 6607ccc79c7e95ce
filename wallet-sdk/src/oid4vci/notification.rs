//! Notifications (OpenID4VCI 1.0 §11): what became of the credentials the issuer gave.

use serde_json::{json, Value as Json};

use crate::error::{Result, WalletError};

/// Longest `event_description` sent.
const MAX_DESCRIPTION_LEN: usize = 512;

/// What the wallet tells the issuer about the credentials it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NotificationEvent {
    /// Stored (after they verified).
    CredentialAccepted,
    /// Not stored: refused on receipt, or storage failed.
    CredentialFailure,
    /// The user deleted them.
    CredentialDeleted,
}

impl NotificationEvent {
    /// The event's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::CredentialAccepted => "credential_accepted",
            NotificationEvent::CredentialFailure => "credential_failure",
            NotificationEvent::CredentialDeleted => "credential_deleted",
        }
    }
}

/// The notification request's body; `description` must be printable ASCII (§11.1).
pub(crate) fn notification_body(
    notification_id: &str,
    event: NotificationEvent,
    description: Option<&str>,
) -> Result<Json> {
    let mut body = json!({"notification_id": notification_id, "event": event.as_str()});
    if let Some(d) = description {
        let ok = d.len() <= MAX_DESCRIPTION_LEN && d.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !ok {
            return Err(WalletError::InvalidInput {
                reason: format!(
                    "event_description must be at most {MAX_DESCRIPTION_LEN} printable ASCII characters"
                ),
            });
        }
        if let Some(m) = body.as_object_mut() {
            m.insert("event_description".into(), json!(d));
        }
    }
    Ok(body)
}
