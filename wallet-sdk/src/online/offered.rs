//! What a request may receive for each requested credential, decided when the request is
//! read and checked again when the holder approves.

use std::collections::BTreeSet;

/// What the request may receive for one requested credential: the credential that would
/// answer and the elements asked for that it holds.
pub(crate) struct Offered {
    pub(crate) doc_type: String,
    pub(crate) credential_id: Option<String>,
    pub(crate) elements: BTreeSet<(String, String)>,
}
