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
pub(crate) use tag24::tag24_from_encoded;
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
}

/// Decodes one `T` from exactly `bytes`, under `limits`.
pub fn from_slice<T: FromCbor>(bytes: &[u8], limits: &Limits) -> Result<T> {
    let node = node::parse(bytes, limits)?;
    T::from_node(&node, bytes, limits)
}

/// Encodes `value` as deterministic CBOR.
pub fn to_vec<T: ToCbor + ?Sized>(value: &T) -> Vec<u8> {
    encode_value(&value.to_value())
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
            let mut encoded: Vec<(Vec<u8>, &Value)> =
                entries.iter().map(|(k, v)| (encode_value(k), v)).collect();
            encoded.sort_by(|a, b| a.0.cmp(&b.0));
            write_head(out, 5, encoded.len() as u64);
            for (key, v) in encoded {
                out.extend_from_slice(&key);
                write_deterministic(v, out);
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

/// Writes a CBOR head in its shortest form.
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
