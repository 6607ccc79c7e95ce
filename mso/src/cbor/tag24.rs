//! `#6.24(bstr .cbor T)`: embedded CBOR that keeps the exact bytes it was decoded from.

use super::{node, FromCbor, Limits, Node, ToCbor, Value};
use crate::error::Result;

/// The CBOR tag for embedded CBOR data items.
pub const TAG_ENCODED_CBOR: u64 = 24;

/// A value carried as `#6.24(bstr .cbor T)`.
///
/// Decoding keeps the complete received encoding (tag, byte-string head and content), so a
/// digest or signature over "the bytes as received" never depends on re-encoding.
///
/// Two `Tag24` values are equal when their bytes are: the bytes are what digests and
/// signatures cover, and a value can have several in-memory forms (e.g. map order) that encode
/// the same.
#[derive(Debug, Clone)]
pub struct Tag24<T> {
    tagged: Vec<u8>,
    inner_start: usize,
    value: T,
}

impl<T> PartialEq for Tag24<T> {
    fn eq(&self, other: &Self) -> bool {
        self.tagged == other.tagged
    }
}

impl<T> Tag24<T> {
    /// The full `#6.24(bstr)` encoding, exactly as received or produced.
    pub fn tagged_bytes(&self) -> &[u8] {
        &self.tagged
    }

    /// The content of the byte string: the embedded CBOR encoding of `T`.
    pub fn inner_bytes(&self) -> &[u8] {
        self.tagged.get(self.inner_start..).unwrap_or_default()
    }

    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Consumes the wrapper, returning the decoded value.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// The `#6.24(bstr)` encoding around already-encoded CBOR bytes.
pub fn wrap_tag24(inner: &[u8]) -> Vec<u8> {
    let mut tagged = Vec::with_capacity(inner.len() + 11);
    super::write_head(&mut tagged, 6, TAG_ENCODED_CBOR);
    super::write_head(&mut tagged, 2, inner.len() as u64);
    tagged.extend_from_slice(inner);
    tagged
}

impl<T: ToCbor> Tag24<T> {
    /// Wraps `value`, encoding it deterministically.
    pub fn new(value: T) -> Self {
        let mut inner = Vec::new();
        value.write_cbor(&mut inner);
        Self::from_encoded(inner, value)
    }
}

/// Wraps `tagged`, a complete `#6.24(bstr)` encoding whose content (the encoding of `value`)
/// starts at `inner_start`, for encoders that write the tag, head and content in one buffer.
pub(crate) fn tag24_from_tagged<T>(tagged: Vec<u8>, inner_start: usize, value: T) -> Tag24<T> {
    debug_assert!(inner_start <= tagged.len());
    Tag24 {
        tagged,
        inner_start,
        value,
    }
}

impl<T> Tag24<T> {
    /// Wraps already-encoded bytes of `value` (used when the bytes come first).
    fn from_encoded(inner: Vec<u8>, value: T) -> Self {
        let tagged = wrap_tag24(&inner);
        let inner_start = tagged.len() - inner.len();
        Tag24 {
            tagged,
            inner_start,
            value,
        }
    }
}

impl<T: FromCbor> Tag24<T> {
    /// Decodes a `#6.24(bstr .cbor T)` from exactly `bytes`.
    pub fn from_tagged_slice(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        Self::from_node(&n, bytes, limits)
    }
}

impl<T: FromCbor> FromCbor for Tag24<T> {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        let content = n.tagged(TAG_ENCODED_CBOR, "embedded CBOR (tag 24)")?;
        let inner = content.bytes(src, "embedded CBOR (tag 24)")?;
        let value = super::from_slice::<T>(inner, limits)?;
        let tagged = n.raw(src).to_vec();
        let inner_start = tagged.len() - inner.len();
        Ok(Tag24 {
            tagged,
            inner_start,
            value,
        })
    }
}

impl<T> ToCbor for Tag24<T> {
    fn to_value(&self) -> Value {
        Value::Tag(
            TAG_ENCODED_CBOR,
            Box::new(Value::Bytes(self.inner_bytes().to_vec())),
        )
    }

    /// Writes the content bytes as held, under shortest heads: the same bytes as
    /// [`ToCbor::to_value`] gives, without copying the content into a `Value` first. For an item
    /// this crate encoded, that is exactly [`Tag24::tagged_bytes`], the bytes its digest covers.
    fn write_cbor(&self, out: &mut Vec<u8>) {
        let inner = self.inner_bytes();
        super::write_head(out, 6, TAG_ENCODED_CBOR);
        super::write_head(out, 2, inner.len() as u64);
        out.extend_from_slice(inner);
    }
}

impl FromCbor for Value {
    fn from_node(n: &Node, src: &[u8], _limits: &Limits) -> Result<Self> {
        Ok(n.to_value(src))
    }
}

impl ToCbor for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }

    fn write_cbor(&self, out: &mut Vec<u8>) {
        super::encode_value_into(self, out);
    }
}
