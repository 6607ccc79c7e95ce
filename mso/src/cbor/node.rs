//! A bounded, span-keeping view of untrusted CBOR.
//!
//! [`parse`] walks the input once with `ciborium-ll`, enforcing the [`Limits`] and the mdoc rules
//! (definite lengths only, no duplicate map keys, valid UTF-8, no exotic simple values), and
//! builds a tree of [`Node`]s that remember the byte range they were decoded from. Typed decoders
//! read the tree, and anything that must be hashed or verified "as received" is sliced from the
//! original bytes by span rather than re-encoded.

use core::ops::Range;

use ciborium_ll::{Decoder, Header};

use super::Limits;
use crate::error::{Error, Result};

/// One decoded CBOR item and the byte range it occupies in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the whole item (head and content) in the input.
    pub span: Range<usize>,
    /// What the item is.
    pub kind: Kind,
}

/// The CBOR data model, with byte and text contents kept as ranges into the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    /// Byte string content range.
    Bytes(Range<usize>),
    /// Text string content range (already checked to be UTF-8).
    Text(Range<usize>),
    /// Array items.
    Array(Vec<Node>),
    /// Map entries in the order received.
    Map(Vec<(Node, Node)>),
    /// A tagged item.
    Tag(u64, Box<Node>),
    /// `false` / `true`.
    Bool(bool),
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// Any float width.
    Float(f64),
}

/// Parses exactly one CBOR item spanning all of `bytes`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Node> {
    if bytes.len() > limits.max_size {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_size,
        });
    }
    let mut walker = Walker {
        dec: Decoder::from(bytes),
        src: bytes,
        limits,
        items: 0,
    };
    let node = walker.item(0)?;
    let end = walker.dec.offset();
    if end != bytes.len() {
        return Err(Error::TrailingBytes {
            offset: end,
            count: bytes.len() - end,
        });
    }
    Ok(node)
}

struct Walker<'a, 'l> {
    dec: Decoder<&'a [u8]>,
    src: &'a [u8],
    limits: &'l Limits,
    /// Total items seen, bounding the work an input can cause.
    items: usize,
}

impl Walker<'_, '_> {
    fn item(&mut self, depth: usize) -> Result<Node> {
        let start = self.dec.offset();
        if depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                limit: self.limits.max_depth,
                offset: start,
            });
        }
        self.items += 1;
        if self.items > self.limits.max_total_items {
            return Err(Error::TooManyItems {
                len: self.items as u64,
                limit: self.limits.max_total_items,
                offset: start,
            });
        }
        let header = self.dec.pull().map_err(|e| self.map_err(e, start))?;
        let kind = match header {
            Header::Positive(n) => Kind::Uint(n),
            Header::Negative(n) => Kind::Nint(n),
            Header::Float(f) => Kind::Float(f),
            Header::Simple(20) => Kind::Bool(false),
            Header::Simple(21) => Kind::Bool(true),
            Header::Simple(22) => Kind::Null,
            Header::Simple(23) => Kind::Undefined,
            Header::Simple(value) => {
                return Err(Error::UnsupportedSimple {
                    value,
                    offset: start,
                })
            }
            Header::Break => return Err(Error::Malformed { offset: start }),
            Header::Bytes(None) | Header::Text(None) | Header::Array(None) | Header::Map(None) => {
                return Err(Error::IndefiniteLength { offset: start })
            }
            Header::Bytes(Some(len)) => Kind::Bytes(self.skip(len)?),
            Header::Text(Some(len)) => {
                let range = self.skip(len)?;
                let text = self.src.get(range.clone()).unwrap_or_default();
                if core::str::from_utf8(text).is_err() {
                    return Err(Error::InvalidUtf8 { offset: start });
                }
                Kind::Text(range)
            }
            Header::Array(Some(len)) => {
                let len = self.check_len(len as u64, start)?;
                let mut items = Vec::with_capacity(len.min(64));
                for _ in 0..len {
                    items.push(self.item(depth + 1)?);
                }
                Kind::Array(items)
            }
            Header::Map(Some(len)) => {
                let len = self.check_len(len as u64, start)?;
                let mut entries: Vec<(Node, Node)> = Vec::with_capacity(len.min(64));
                for _ in 0..len {
                    let key = self.item(depth + 1)?;
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                self.check_unique_keys(&entries)?;
                Kind::Map(entries)
            }
            Header::Tag(tag) => Kind::Tag(tag, Box::new(self.item(depth + 1)?)),
        };
        Ok(Node {
            span: start..self.dec.offset(),
            kind,
        })
    }

    fn check_len(&self, len: u64, offset: usize) -> Result<usize> {
        match usize::try_from(len) {
            Ok(n) if n <= self.limits.max_collection_len => Ok(n),
            _ => Err(Error::TooManyItems {
                len,
                limit: self.limits.max_collection_len,
                offset,
            }),
        }
    }

    /// Skips a definite byte/text string body and returns its range.
    fn skip(&mut self, len: usize) -> Result<Range<usize>> {
        let from = self.dec.offset();
        let to = from
            .checked_add(len)
            .filter(|&to| to <= self.src.len())
            .ok_or(Error::Truncated {
                offset: self.src.len(),
            })?;
        // Advance the decoder past the body; the content is read back from `src` by range.
        let mut scratch = [0u8; 4096];
        let mut left = len;
        while left > 0 {
            let n = left.min(scratch.len());
            let buf = scratch.get_mut(..n).unwrap_or_default();
            ciborium_io::Read::read_exact(&mut self.dec, buf)
                .map_err(|_| Error::Truncated { offset: to })?;
            left -= n;
        }
        Ok(from..to)
    }

    fn check_unique_keys(&self, entries: &[(Node, Node)]) -> Result<()> {
        if entries.len() < 2 {
            return Ok(());
        }
        // Compare keys by value, not by encoding, so `1` and a non-shortest `1` still collide.
        let mut keys: Vec<(KeyId<'_>, usize)> = entries
            .iter()
            .map(|(k, _)| (KeyId::of(k, self.src), k.span.start))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        for pair in keys.windows(2) {
            if let [a, b] = pair {
                if a.0 == b.0 {
                    return Err(Error::DuplicateKey { offset: b.1 });
                }
            }
        }
        Ok(())
    }

    fn map_err<E>(&self, err: ciborium_ll::Error<E>, start: usize) -> Error {
        match err {
            ciborium_ll::Error::Io(_) => Error::Truncated {
                offset: self.src.len(),
            },
            ciborium_ll::Error::Syntax(offset) => Error::Malformed {
                offset: offset.max(start),
            },
        }
    }
}

/// A comparable identity for map keys: simple keys by value, composite keys (arrays, maps, tags,
/// floats) by their deterministic re-encoding, so two encodings of one value still collide.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum KeyId<'a> {
    Uint(u64),
    Nint(u64),
    Text(&'a [u8]),
    Bytes(&'a [u8]),
    Other(Vec<u8>),
}

impl<'a> KeyId<'a> {
    fn of(node: &Node, src: &'a [u8]) -> Self {
        let slice = |r: &Range<usize>| src.get(r.clone()).unwrap_or_default();
        match &node.kind {
            Kind::Uint(n) => KeyId::Uint(*n),
            Kind::Nint(n) => KeyId::Nint(*n),
            Kind::Text(r) => KeyId::Text(slice(r)),
            Kind::Bytes(r) => KeyId::Bytes(slice(r)),
            _ => KeyId::Other(super::encode_value(&node.to_value(src))),
        }
    }
}
