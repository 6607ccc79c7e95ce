//! `tdate` (tag 0) and `full-date` (tag 1004).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use super::{FromCbor, Limits, Node, ToCbor, Value};
use crate::error::{Error, Result};

/// Tag for an RFC 3339 date-time string.
pub const TAG_TDATE: u64 = 0;
/// Tag for an RFC 8943 full-date string.
pub const TAG_FULL_DATE: u64 = 1004;

/// `tdate = #6.0(tstr)`: a UTC date-time with whole seconds, written `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TDate(OffsetDateTime);

impl TDate {
    /// Converts to UTC and drops any fraction of a second (truncating, never rounding up, so a
    /// `signed` time never moves past the moment it describes).
    pub fn new(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        TDate(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// Parses an RFC 3339 string. Producers must write UTC without fractions; as a consumer this
    /// accepts any offset (converted to UTC) and fractional seconds (truncated).
    pub fn parse(s: &str) -> Result<Self> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(TDate::new)
            .map_err(|e| Error::InvalidDate {
                kind: "tdate",
                reason: format!("{s:?}: {e}"),
            })
    }

    /// The instant.
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    /// The canonical text form.
    pub fn to_rfc3339(&self) -> String {
        let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        self.0.format(&fmt).unwrap_or_default()
    }
}

impl From<OffsetDateTime> for TDate {
    fn from(at: OffsetDateTime) -> Self {
        TDate::new(at)
    }
}

impl FromCbor for TDate {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        let text = n.tagged(TAG_TDATE, "tdate")?.text(src, "tdate")?;
        TDate::parse(text)
    }
}

impl ToCbor for TDate {
    fn to_value(&self) -> Value {
        Value::Tag(TAG_TDATE, Box::new(Value::Text(self.to_rfc3339())))
    }
}

/// `full-date = #6.1004(tstr)`: a calendar date `YYYY-MM-DD` (RFC 8943).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FullDate(pub Date);

impl FullDate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self> {
        let fmt = format_description!("[year]-[month]-[day]");
        if s.len() != 10 {
            return Err(Error::InvalidDate {
                kind: "full-date",
                reason: format!("{s:?} is not YYYY-MM-DD"),
            });
        }
        Date::parse(s, &fmt)
            .map(FullDate)
            .map_err(|e| Error::InvalidDate {
                kind: "full-date",
                reason: format!("{s:?}: {e}"),
            })
    }

    /// The text form `YYYY-MM-DD`.
    pub fn to_iso(&self) -> String {
        let fmt = format_description!("[year]-[month]-[day]");
        self.0.format(&fmt).unwrap_or_default()
    }
}

impl FromCbor for FullDate {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        let text = n
            .tagged(TAG_FULL_DATE, "full-date")?
            .text(src, "full-date")?;
        FullDate::parse(text)
    }
}

impl ToCbor for FullDate {
    fn to_value(&self) -> Value {
        Value::Tag(TAG_FULL_DATE, Box::new(Value::Text(self.to_iso())))
    }
}
