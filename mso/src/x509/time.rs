//! X.509 times (RFC 5280 §4.1.2.5): reading them as instants, writing them in the required
//! encoding, and calendar-month arithmetic for validity periods.

use der::asn1::{GeneralizedTime, UtcTime};
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use x509_cert::time::Time;

/// The instant an X.509 time denotes (times past year 9999 or before 1970 saturate; DER
/// decoding already refuses them).
pub fn to_datetime(t: Time) -> OffsetDateTime {
    let secs = t.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Drops the sub-second part and converts to UTC: certificates carry whole seconds, and a
/// time is truncated, never rounded up.
pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t - Duration::nanoseconds(i64::from(t.nanosecond()))
}

/// Encodes a time as RFC 5280 requires: whole seconds, UTC, `UTCTime` before 2050,
/// `GeneralizedTime` from 2050. `None` outside the years 1970 to 9999.
pub fn encode(t: OffsetDateTime) -> Option<Time> {
    let t = truncate(t);
    let year = u16::try_from(t.year()).ok()?;
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let dt = der::DateTime::new(
        year,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .ok()?;
    if year < 2050 {
        UtcTime::from_date_time(dt).ok().map(Time::UtcTime)
    } else {
        Some(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

/// Whether `t` is in the encoding RFC 5280 requires for its year (a `GeneralizedTime` before
/// 2050 is not).
pub fn is_rfc5280_encoding(t: &Time) -> bool {
    match t {
        Time::UtcTime(_) => true,
        Time::GeneralTime(g) => g.to_date_time().year() >= 2050,
    }
}

/// Adds calendar months; a day that does not exist in the target month becomes that month's
/// last day (31 January + 1 month = 28 or 29 February): the result is never later than the
/// exact calendar answer. `None` when the year leaves the supported range.
pub fn add_months(t: OffsetDateTime, months: u32) -> Option<OffsetDateTime> {
    let month0 = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1;
    let target = month0 + i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(target.rem_euclid(12) + 1).ok()?).ok()?;
    let day = t.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(t.replace_date(date))
}

/// The length of a validity period counted as RFC 5280 counts it, both ends included:
/// `notAfter − notBefore + 1 s`.
pub fn inclusive_length(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Duration {
    not_after - not_before + Duration::SECOND
}
