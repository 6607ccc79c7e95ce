//! The one way the issuer writes a time as text: RFC 3339 (`2026-01-15T09:30:00Z`), in API
//! answers, in credentials and in the DS inventory file.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `t` as RFC 3339 text. Fails only for a time RFC 3339 cannot write (a year before 0000 or an
/// offset with seconds), which no time the issuer makes or stores is.
pub(crate) fn rfc3339(t: OffsetDateTime) -> Result<String, time::error::Format> {
    t.format(&Rfc3339)
}
