//! Typed accessors over the span-keeping tree, each failing with the field it was reading.

use super::node::{Kind, Node};
use super::Value;
use crate::error::{Error, Result};

impl Node {
    /// The bytes this item was decoded from.
    pub fn raw<'s>(&self, src: &'s [u8]) -> &'s [u8] {
        src.get(self.span.clone()).unwrap_or_default()
    }

    /// Reads a text string.
    pub fn text<'s>(&self, src: &'s [u8], context: &'static str) -> Result<&'s str> {
        match &self.kind {
            Kind::Text(r) => {
                let bytes = src.get(r.clone()).unwrap_or_default();
                // The parser already checked UTF-8; re-checking keeps this total.
                core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 {
                    offset: self.span.start,
                })
            }
            _ => Err(self.wrong(context, "a text string")),
        }
    }

    /// Reads a byte string.
    pub fn bytes<'s>(&self, src: &'s [u8], context: &'static str) -> Result<&'s [u8]> {
        match &self.kind {
            Kind::Bytes(r) => Ok(src.get(r.clone()).unwrap_or_default()),
            _ => Err(self.wrong(context, "a byte string")),
        }
    }

    /// Reads an unsigned integer.
    pub fn uint(&self, context: &'static str) -> Result<u64> {
        match self.kind {
            Kind::Uint(n) => Ok(n),
            _ => Err(self.wrong(context, "an unsigned integer")),
        }
    }

    /// Reads a signed integer that fits in `i64`.
    pub fn int(&self, context: &'static str) -> Result<i64> {
        match self.kind {
            Kind::Uint(n) => i64::try_from(n).ok(),
            Kind::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => return Err(self.wrong(context, "an integer")),
        }
        .ok_or_else(|| Error::InvalidValue {
            context,
            reason: "integer out of range".into(),
        })
    }

    /// Reads a boolean.
    pub fn boolean(&self, context: &'static str) -> Result<bool> {
        match self.kind {
            Kind::Bool(b) => Ok(b),
            _ => Err(self.wrong(context, "a boolean")),
        }
    }

    /// Reads an array.
    pub fn array(&self, context: &'static str) -> Result<&[Node]> {
        match &self.kind {
            Kind::Array(items) => Ok(items),
            _ => Err(self.wrong(context, "an array")),
        }
    }

    /// Reads a map.
    pub fn map<'n, 's>(&'n self, src: &'s [u8], context: &'static str) -> Result<MapView<'n, 's>> {
        match &self.kind {
            Kind::Map(entries) => Ok(MapView {
                entries,
                src,
                context,
            }),
            _ => Err(self.wrong(context, "a map")),
        }
    }

    /// Reads the content of `#6.tag(...)`.
    pub fn tagged(&self, tag: u64, context: &'static str) -> Result<&Node> {
        match &self.kind {
            Kind::Tag(t, inner) if *t == tag => Ok(inner),
            Kind::Tag(t, _) => Err(Error::WrongTag {
                context,
                expected: tag,
                found: Some(*t),
                offset: self.span.start,
            }),
            _ => Err(Error::WrongTag {
                context,
                expected: tag,
                found: None,
                offset: self.span.start,
            }),
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// Converts to the `ciborium` data model (used for `any`-typed fields).
    pub fn to_value(&self, src: &[u8]) -> Value {
        let slice = |r: &core::ops::Range<usize>| src.get(r.clone()).unwrap_or_default();
        match &self.kind {
            Kind::Uint(n) => Value::Integer((*n).into()),
            Kind::Nint(n) => Value::Integer(
                ciborium::value::Integer::try_from(-1 - i128::from(*n))
                    .unwrap_or_else(|_| i64::MIN.into()),
            ),
            Kind::Bytes(r) => Value::Bytes(slice(r).to_vec()),
            Kind::Text(r) => Value::Text(String::from_utf8_lossy(slice(r)).into_owned()),
            Kind::Array(items) => Value::Array(items.iter().map(|n| n.to_value(src)).collect()),
            Kind::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_value(src), v.to_value(src)))
                    .collect(),
            ),
            Kind::Tag(t, inner) => Value::Tag(*t, Box::new(inner.to_value(src))),
            Kind::Bool(b) => Value::Bool(*b),
            // `ciborium::Value` has no `undefined`; it reads as null. Digests never depend on
            // this conversion: they are computed over the received bytes.
            Kind::Null | Kind::Undefined => Value::Null,
            Kind::Float(f) => Value::Float(*f),
        }
    }

    /// The error for an item of the wrong type.
    pub fn wrong(&self, context: &'static str, expected: &'static str) -> Error {
        Error::WrongType {
            context,
            expected,
            offset: self.span.start,
        }
    }
}

/// A decoded map with text-key lookups that name the structure in their errors.
#[derive(Debug, Clone, Copy)]
pub struct MapView<'n, 's> {
    entries: &'n [(Node, Node)],
    src: &'s [u8],
    context: &'static str,
}

impl<'n, 's> MapView<'n, 's> {
    /// The value under text key `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find_map(|(k, v)| match &k.kind {
            Kind::Text(r) if self.src.get(r.clone()) == Some(key.as_bytes()) => Some(v),
            _ => None,
        })
    }

    /// The value under integer key `key`, if present.
    pub fn get_int(&self, key: i64) -> Option<&'n Node> {
        self.entries.iter().find_map(|(k, v)| {
            let matches = match k.kind {
                Kind::Uint(n) => i64::try_from(n).ok() == Some(key),
                Kind::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n) == Some(key),
                _ => false,
            };
            matches.then_some(v)
        })
    }

    /// The value under text key `key`, or [`Error::MissingField`].
    pub fn required(&self, key: &'static str) -> Result<&'n Node> {
        self.get(key).ok_or(Error::MissingField {
            context: self.context,
            field: key,
        })
    }

    /// Fails with [`Error::UnknownField`] if any key is not one of `known` (for the closed maps
    /// of 18013-5, where an unexpected key can only be damage or tampering).
    pub fn deny_unknown(&self, known: &[&str]) -> Result<()> {
        for (k, _) in self.entries {
            let name = match &k.kind {
                Kind::Text(r) => self
                    .src
                    .get(r.clone())
                    .and_then(|b| core::str::from_utf8(b).ok()),
                _ => None,
            };
            if !name.is_some_and(|n| known.contains(&n)) {
                return Err(Error::UnknownField {
                    context: self.context,
                    field: name
                        .map_or_else(|| format!("{:?}", k.to_value(self.src)), str::to_owned),
                });
            }
        }
        Ok(())
    }

    /// All entries in received order.
    pub fn entries(&self) -> &'n [(Node, Node)] {
        self.entries
    }

    /// The source the spans index into.
    pub fn src(&self) -> &'s [u8] {
        self.src
    }
}
