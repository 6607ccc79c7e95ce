//! Disclosed element values as a typed, recursive uniffi enum.
//!
//! The conversion is general CBOR → enum (doc types are data, so no element is special-cased
//! here): tag 1004 becomes [`ElementValue::FullDate`], tag 0 [`ElementValue::TDate`], other
//! tags [`ElementValue::Tagged`]. Nesting is bounded by [`MAX_VALUE_DEPTH`], so a hostile value
//! cannot exhaust the foreign side's stack either, and size by [`MAX_VALUE_NODES`] per value
//! (and a budget per document, [`MAX_DOCUMENT_NODES`]): a value of a million items costs a
//! count, not a million foreign objects.

use mso::cbor::{FullDate, TDate, Value};

/// Deepest nesting converted; anything below is reported as [`ElementValue::TooDeep`]. The
/// `mso` decoder already bounds CBOR nesting (24), this keeps the foreign types shallower.
pub const MAX_VALUE_DEPTH: u32 = 16;

/// Most CBOR nodes (each item, key, value and tag counts one) converted for one value; a
/// larger value is reported as [`ElementValue::TooLarge`] without being converted.
pub const MAX_VALUE_NODES: usize = 10_000;
/// Most CBOR nodes converted for all the values of one document.
pub const MAX_DOCUMENT_NODES: usize = 100_000;

/// CBOR tag of `tdate` (RFC 8949 standard date/time string).
const TAG_TDATE: u64 = 0;
/// CBOR tag of `full-date` (RFC 8943).
const TAG_FULL_DATE: u64 = 1004;

/// One CBOR data element value.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ElementValue {
    /// A text string.
    Text {
        /// The text.
        value: String,
    },
    /// An integer that fits in 64 bits signed.
    Integer {
        /// The integer.
        value: i64,
    },
    /// An integer outside the signed 64-bit range (CBOR allows −2^64 … 2^64−1).
    BigInteger {
        /// Its decimal representation.
        decimal: String,
    },
    /// A floating-point number.
    Float {
        /// The number.
        value: f64,
    },
    /// A boolean.
    Bool {
        /// The boolean.
        value: bool,
    },
    /// `null` (or `undefined`).
    Null,
    /// A byte string (e.g. a portrait).
    Bytes {
        /// The bytes.
        value: Vec<u8>,
    },
    /// `full-date` (tag 1004), e.g. birth_date.
    FullDate {
        /// `YYYY-MM-DD`.
        iso: String,
    },
    /// `tdate` (tag 0), e.g. portrait_capture_date.
    TDate {
        /// RFC 3339 as received (normalised to UTC).
        rfc3339: String,
        /// The same instant in seconds since 1970-01-01T00:00:00Z.
        unix_seconds: i64,
    },
    /// Another tagged value.
    Tagged {
        /// The tag number.
        tag: u64,
        /// The tagged content.
        value: Box<ElementValue>,
    },
    /// An array.
    Array {
        /// The items, in order.
        items: Vec<ElementValue>,
    },
    /// A map, entries in the received order.
    Map {
        /// The entries.
        entries: Vec<MapEntry>,
    },
    /// Nested deeper than [`MAX_VALUE_DEPTH`]; not converted.
    TooDeep,
    /// More than [`MAX_VALUE_NODES`] nodes, or beyond the document's budget; not converted.
    TooLarge,
    /// Not shown: the element's own check failed (its digest, or the device's authorization
    /// of it), so its value is the sender's word only and is not converted.
    Unverified,
}

/// One entry of [`ElementValue::Map`].
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MapEntry {
    /// The key (usually text).
    pub key: ElementValue,
    /// The value.
    pub value: ElementValue,
}

impl ElementValue {
    /// Converts a decoded CBOR value of at most [`MAX_VALUE_NODES`] nodes.
    pub fn from_cbor(value: &Value) -> Self {
        let mut budget = MAX_VALUE_NODES;
        Self::from_cbor_within(value, &mut budget)
    }

    /// Converts a decoded CBOR value if it has at most `budget` nodes (and at most
    /// [`MAX_VALUE_NODES`]), taking them from `budget`; otherwise [`ElementValue::TooLarge`],
    /// at the cost of counting up to the limit.
    pub fn from_cbor_within(value: &Value, budget: &mut usize) -> Self {
        // Counted on the borrow, so a value over the budget is never copied.
        if charge(value, budget) {
            convert(value.clone(), 0)
        } else {
            ElementValue::TooLarge
        }
    }

    /// [`ElementValue::from_cbor_within`] for a value the caller gives up: text and byte
    /// strings (a 20 KB portrait) move into the result instead of being copied.
    pub fn from_owned_cbor_within(value: Value, budget: &mut usize) -> Self {
        if charge(&value, budget) {
            convert(value, 0)
        } else {
            ElementValue::TooLarge
        }
    }
}

/// Takes `value`'s nodes from `budget` (capped at [`MAX_VALUE_NODES`]); false, leaving
/// `budget` as it was, when they do not fit.
fn charge(value: &Value, budget: &mut usize) -> bool {
    match count_nodes(value, (*budget).min(MAX_VALUE_NODES)) {
        Some(n) => {
            *budget -= n;
            true
        }
        None => false,
    }
}

/// The number of nodes of `value`, or `None` as soon as it exceeds `limit`.
fn count_nodes(value: &Value, limit: usize) -> Option<usize> {
    let mut n = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            return None;
        }
        match v {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Map(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Value::Tag(_, inner) => stack.push(inner),
            _ => {}
        }
        if stack.len() > limit {
            return None;
        }
    }
    Some(n)
}

fn convert(value: Value, depth: u32) -> ElementValue {
    if depth > MAX_VALUE_DEPTH {
        return ElementValue::TooDeep;
    }
    match value {
        Value::Text(value) => ElementValue::Text { value },
        Value::Integer(i) => {
            let wide = i128::from(i);
            match i64::try_from(wide) {
                Ok(value) => ElementValue::Integer { value },
                Err(_) => ElementValue::BigInteger {
                    decimal: wide.to_string(),
                },
            }
        }
        Value::Float(value) => ElementValue::Float { value },
        Value::Bool(value) => ElementValue::Bool { value },
        Value::Null => ElementValue::Null,
        Value::Bytes(value) => ElementValue::Bytes { value },
        Value::Tag(tag, inner) => tagged(tag, *inner, depth),
        Value::Array(items) => ElementValue::Array {
            items: items.into_iter().map(|v| convert(v, depth + 1)).collect(),
        },
        Value::Map(entries) => ElementValue::Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| MapEntry {
                    key: convert(k, depth + 1),
                    value: convert(v, depth + 1),
                })
                .collect(),
        },
        // ciborium's Value is non-exhaustive; anything new is shown as an untyped null rather
        // than dropped silently.
        _ => ElementValue::Null,
    }
}

fn tagged(tag: u64, inner: Value, depth: u32) -> ElementValue {
    if let Value::Text(s) = &inner {
        // The date tags are typed only when their content is a valid date; otherwise the raw
        // tagged text is kept so nothing is hidden.
        if tag == TAG_FULL_DATE {
            if let Ok(date) = FullDate::parse(s) {
                return ElementValue::FullDate { iso: date.to_iso() };
            }
        } else if tag == TAG_TDATE {
            if let Ok(t) = TDate::parse(s) {
                return ElementValue::TDate {
                    rfc3339: t.to_rfc3339(),
                    unix_seconds: t.datetime().unix_timestamp(),
                };
            }
        }
    }
    ElementValue::Tagged {
        tag,
        value: Box::new(convert(inner, depth + 1)),
    }
}
