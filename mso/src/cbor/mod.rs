//! The CBOR rules of ISO 18013-5 on top of `ciborium`.
//!
//! Decoding goes through [`node::parse`], which bounds the input by [`Limits`] and refuses
//! indefinite lengths and duplicate keys, then through [`FromCbor`] implementations that read the
//! span-keeping tree. Encoding goes through [`ToCbor`] into a `ciborium::Value` and out through
//! [`encode_value`], which writes RFC 8949 §4.2.1 deterministic CBOR (shortest heads, definite
//! lengths, map keys sorted by their encoded bytes).

mod dates;
mod decode;
pub mod node;
mod tag24;

pub use ciborium::Value;
pub use dates::{FullDate, TDate};
pub use decode::MapView;
pub use node::{Kind, Node};
pub(crate) use tag24::{tag24_from_tagged, TAG_ENCODED_CBOR};
pub use tag24::{wrap_tag24, Tag24};

use crate::error::{Error, Result};

/// Bounds applied to every decode of untrusted bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input in bytes.
    pub max_size: usize,
    /// Deepest nesting of arrays, maps and tags.
    pub max_depth: usize,
    /// Most entries in one array or map.
    pub max_collection_len: usize,
    /// Most items in the whole input.
    pub max_total_items: usize,
}

impl Limits {
    /// Defaults sized for mdoc traffic: a DeviceResponse with several documents and portraits
    /// fits; a hostile input cannot make the decoder do unbounded work.
    pub const DEFAULT: Limits = Limits {
        max_size: 8 * 1024 * 1024,
        max_depth: 24,
        max_collection_len: 65_536,
        max_total_items: 1_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A type that can be read from the span-keeping CBOR tree.
pub trait FromCbor: Sized {
    /// Decodes `node`, whose spans index into `src`.
    fn from_node(node: &Node, src: &[u8], limits: &Limits) -> Result<Self>;
}

/// A type that can be written as CBOR.
pub trait ToCbor {
    /// The CBOR data model form of `self`.
    fn to_value(&self) -> Value;

    /// Appends the deterministic encoding of `self` to `out`.
    ///
    /// The default writes [`ToCbor::to_value`]. Types on the issuance path override it to write
    /// straight from bytes they already hold (a 20 KB portrait item is then copied once, not
    /// into a `Value` tree first); an override must write exactly the bytes the default would.
    fn write_cbor(&self, out: &mut Vec<u8>) {
        write_deterministic(&self.to_value(), out);
    }
}

/// Decodes one `T` from exactly `bytes`, under `limits`.
pub fn from_slice<T: FromCbor>(bytes: &[u8], limits: &Limits) -> Result<T> {
    let node = node::parse(bytes, limits)?;
    T::from_node(&node, bytes, limits)
}

/// Encodes `value` as deterministic CBOR.
pub fn to_vec<T: ToCbor + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.write_cbor(&mut out);
    out
}

/// Encodes a `ciborium::Value` as deterministic CBOR (RFC 8949 §4.2.1).
pub fn encode_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_deterministic(value, &mut out);
    out
}

/// Appends the deterministic encoding of `value` to `out`.
pub fn encode_value_into(value: &Value, out: &mut Vec<u8>) {
    write_deterministic(value, out);
}

/// The length of the deterministic encoding of `value`, without writing it (so a buffer can be
/// allocated once at its final size).
pub fn encoded_len(value: &Value) -> usize {
    match value {
        Value::Array(items) => {
            head_len(items.len() as u64) + items.iter().map(encoded_len).sum::<usize>()
        }
        Value::Map(entries) => {
            head_len(entries.len() as u64)
                + entries
                    .iter()
                    .map(|(k, v)| encoded_len(k) + encoded_len(v))
                    .sum::<usize>()
        }
        Value::Tag(tag, inner) => head_len(*tag) + encoded_len(inner),
        Value::Bytes(b) => head_len(b.len() as u64) + b.len(),
        Value::Text(t) => head_len(t.len() as u64) + t.len(),
        Value::Integer(i) => {
            let i = i128::from(*i);
            head_len(if i >= 0 { i as u64 } else { (-1 - i) as u64 })
        }
        Value::Bool(_) | Value::Null => 1,
        // Floats (shortest width that keeps the value) and anything else: measured by writing.
        other => {
            let mut scratch = Vec::new();
            write_deterministic(other, &mut scratch);
            scratch.len()
        }
    }
}

/// The length of a shortest-form CBOR head with argument `n`.
pub(crate) fn head_len(n: u64) -> usize {
    if n < 24 {
        1
    } else if n <= u64::from(u8::MAX) {
        2
    } else if n <= u64::from(u16::MAX) {
        3
    } else if n <= u64::from(u32::MAX) {
        5
    } else {
        9
    }
}

/// Appends a text string.
pub(crate) fn write_text(out: &mut Vec<u8>, s: &str) {
    write_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn write_deterministic(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) => {
            write_head(out, 4, items.len() as u64);
            for item in items {
                write_deterministic(item, out);
            }
        }
        Value::Map(entries) => {
            write_head(out, 5, entries.len() as u64);
            // Integer, text and byte-string keys (all mdoc keys) sort without being encoded
            // first: their encoded order is (major type, argument, content).
            let simple: Option<Vec<_>> = entries
                .iter()
                .map(|(k, v)| simple_key_order(k).map(|o| (o, k, v)))
                .collect();
            if let Some(mut keyed) = simple {
                // Maps built from a BTreeMap of uints or texts often arrive in order already.
                if !keyed.is_sorted_by(|a, b| a.0 <= b.0) {
                    keyed.sort_by(|a, b| a.0.cmp(&b.0));
                }
                for (_, k, v) in keyed {
                    write_deterministic(k, out);
                    write_deterministic(v, out);
                }
            } else {
                let mut encoded: Vec<(Vec<u8>, &Value)> =
                    entries.iter().map(|(k, v)| (encode_value(k), v)).collect();
                encoded.sort_by(|a, b| a.0.cmp(&b.0));
                for (key, v) in encoded {
                    out.extend_from_slice(&key);
                    write_deterministic(v, out);
                }
            }
        }
        Value::Tag(tag, inner) => {
            write_head(out, 6, *tag);
            write_deterministic(inner, out);
        }
        Value::Bytes(b) => {
            write_head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(t) => write_text(out, t),
        Value::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                write_head(out, 0, i as u64);
            } else {
                write_head(out, 1, (-1 - i) as u64);
            }
        }
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Null => out.push(0xf6),
        // ciborium's own writer picks the shortest float width that keeps the value, and
        // writes every scalar in shortest form, so scalars are delegated to it.
        other => {
            if ciborium::into_writer(other, &mut *out).is_err() {
                // Writing to a Vec cannot fail; keep the output well-formed regardless.
                out.push(0xf7);
            }
        }
    }
}

/// The sort key of a map key whose shortest-form encoding orders exactly as `(major type,
/// argument, content bytes)`: a head's first byte carries the major type in its top bits, and
/// shortest heads of one major type order as their arguments do. `None` for other keys.
fn simple_key_order(key: &Value) -> Option<(u8, u64, &[u8])> {
    match key {
        Value::Integer(i) => {
            let i = i128::from(*i);
            Some(if i >= 0 {
                (0, i as u64, &[][..])
            } else {
                (1, (-1 - i) as u64, &[][..])
            })
        }
        Value::Bytes(b) => Some((2, b.len() as u64, b.as_slice())),
        Value::Text(t) => Some((3, t.len() as u64, t.as_bytes())),
        _ => None,
    }
}

/// Writes a CBOR head in its shortest form.
#[inline]
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u64::from(u8::MAX) {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= u64::from(u16::MAX) {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Text-keyed map value builder, so model types read like their CDDL.
pub(crate) fn text_map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    )
}

/// Converts a decode error from `coset`/`ciborium` into this crate's error.
pub(crate) fn cose_err(e: impl core::fmt::Debug) -> Error {
    Error::Cose(format!("{e:?}"))
}
