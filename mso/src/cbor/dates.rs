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
    /// `signed` time never moves past the moment it describes). Instants outside the years
    /// 0000–9999 that RFC 3339 can write are clamped to that range.
    pub fn new(at: OffsetDateTime) -> Self {
        let utc = at
            .checked_to_offset(UtcOffset::UTC)
            .filter(|t| (0..=9999).contains(&t.year()))
            .unwrap_or_else(|| {
                if at.year() < 0 {
                    Self::MIN.0
                } else {
                    Self::MAX.0
                }
            });
        TDate(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// The earliest writable instant, 0000-01-01T00:00:00Z.
    pub const MIN: TDate = TDate(time::macros::datetime!(0000-01-01 00:00:00 UTC));
    /// The latest writable instant, 9999-12-31T23:59:59Z.
    pub const MAX: TDate = TDate(time::macros::datetime!(9999-12-31 23:59:59 UTC));

    /// Parses an RFC 3339 string. Producers must write UTC without fractions; as a consumer this
    /// accepts any offset (converted to UTC) and fractional seconds (truncated), and refuses an
    /// instant whose UTC form falls outside the years 0000–9999.
    pub fn parse(s: &str) -> Result<Self> {
        let at = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| Error::InvalidDate {
            kind: "tdate",
            reason: format!("{s:?}: {e}"),
        })?;
        match at.checked_to_offset(UtcOffset::UTC) {
            Some(utc) if (0..=9999).contains(&utc.year()) => Ok(TDate::new(utc)),
            _ => Err(Error::InvalidDate {
                kind: "tdate",
                reason: format!("{s:?} is outside 0000..9999 in UTC"),
            }),
        }
    }

    /// The instant.
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    /// The canonical text form, `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(&self) -> String {
        // Written digit by digit: every field has a fixed width and `new` keeps the year in
        // 0000–9999, so no format description needs interpreting (each MSO writes three).
        let t = self.0;
        let fields = [
            (u32::try_from(t.year()).unwrap_or(0), 4, b'-'),
            (u32::from(u8::from(t.month())), 2, b'-'),
            (u32::from(t.day()), 2, b'T'),
            (u32::from(t.hour()), 2, b':'),
            (u32::from(t.minute()), 2, b':'),
            (u32::from(t.second()), 2, b'Z'),
        ];
        let mut out = String::with_capacity(20);
        for (value, width, separator) in fields {
            for place in (0..width).rev() {
                let digit = (value / 10u32.pow(place)) % 10;
                out.push(char::from_digit(digit, 10).unwrap_or('0'));
            }
            out.push(char::from(separator));
        }
        out
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
