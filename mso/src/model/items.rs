//! IssuerSignedItem and IssuerNameSpaces.

use std::collections::BTreeMap;

use crate::cbor::{text_map, FromCbor, Limits, Node, Tag24, ToCbor, Value};
use crate::error::{Error, Result};

/// Smallest `random` (salt) 18013-5 allows.
pub const MIN_RANDOM_LEN: usize = 16;

/// `IssuerSignedItem = { "digestID": uint, "random": bstr, "elementIdentifier": tstr,
/// "elementValue": any }`.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSignedItem {
    /// Key of this item's digest in the MSO (any uint is accepted on decode).
    pub digest_id: u64,
    /// Salt, at least 16 bytes.
    pub random: Vec<u8>,
    /// Data element identifier.
    pub element_identifier: String,
    /// Data element value.
    pub element_value: Value,
}

/// `#6.24(bstr .cbor IssuerSignedItem)`, keeping the received bytes the digest covers.
pub type IssuerSignedItemBytes = Tag24<IssuerSignedItem>;

/// `IssuerNameSpaces = { + NameSpace => [ + IssuerSignedItemBytes ] }`.
pub type IssuerNameSpaces = BTreeMap<String, Vec<IssuerSignedItemBytes>>;

impl FromCbor for IssuerSignedItem {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        const CTX: &str = "IssuerSignedItem";
        let m = n.map(src, CTX)?;
        m.deny_unknown(&["digestID", "random", "elementIdentifier", "elementValue"])?;
        let random = m.required("random")?.bytes(src, CTX)?.to_vec();
        if random.len() < MIN_RANDOM_LEN {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!(
                    "random is {} bytes, at least {MIN_RANDOM_LEN} required",
                    random.len()
                ),
            });
        }
        Ok(IssuerSignedItem {
            digest_id: m.required("digestID")?.uint(CTX)?,
            random,
            element_identifier: m.required("elementIdentifier")?.text(src, CTX)?.to_owned(),
            element_value: m.required("elementValue")?.to_value(src),
        })
    }
}

impl ToCbor for IssuerSignedItem {
    fn to_value(&self) -> Value {
        text_map(vec![
            ("digestID", Value::Integer(self.digest_id.into())),
            ("random", Value::Bytes(self.random.clone())),
            (
                "elementIdentifier",
                Value::Text(self.element_identifier.clone()),
            ),
            ("elementValue", self.element_value.clone()),
        ])
    }
}

impl IssuerSignedItem {
    /// The deterministic encoding, written directly rather than through a `Value` so a large
    /// element (a 20 KB portrait) is copied once.
    pub fn encode(&self) -> Vec<u8> {
        let len = self.encoded_len();
        let mut out = Vec::with_capacity(len);
        self.write_fields(&mut out);
        debug_assert_eq!(out.len(), len);
        out
    }

    /// Wraps the item as IssuerSignedItemBytes: tag, byte-string head and item encoded into
    /// one buffer of the exact size, the bytes the digest covers and the issuer sends.
    pub fn into_tagged(self) -> IssuerSignedItemBytes {
        use crate::cbor::{head_len, write_head, TAG_ENCODED_CBOR};
        let len = self.encoded_len();
        let inner_start = head_len(TAG_ENCODED_CBOR) + head_len(len as u64);
        let mut tagged = Vec::with_capacity(inner_start + len);
        write_head(&mut tagged, 6, TAG_ENCODED_CBOR);
        write_head(&mut tagged, 2, len as u64);
        self.write_fields(&mut tagged);
        debug_assert_eq!(tagged.len(), inner_start + len);
        crate::cbor::tag24_from_tagged(tagged, inner_start, self)
    }

    /// Length of [`IssuerSignedItem::encode`]'s output.
    fn encoded_len(&self) -> usize {
        use crate::cbor::{encoded_len, head_len};
        let text = |s: &str| head_len(s.len() as u64) + s.len();
        1 + text("random")
            + head_len(self.random.len() as u64)
            + self.random.len()
            + text("digestID")
            + head_len(self.digest_id)
            + text("elementValue")
            + encoded_len(&self.element_value)
            + text("elementIdentifier")
            + text(&self.element_identifier)
    }

    /// Keys in RFC 8949 §4.2.1 order: "random", "digestID", "elementValue",
    /// "elementIdentifier" (shorter keys first).
    fn write_fields(&self, out: &mut Vec<u8>) {
        use crate::cbor::{encode_value_into, write_head, write_text};
        write_head(out, 5, 4);
        write_text(out, "random");
        write_head(out, 2, self.random.len() as u64);
        out.extend_from_slice(&self.random);
        write_text(out, "digestID");
        write_head(out, 0, self.digest_id);
        write_text(out, "elementValue");
        encode_value_into(&self.element_value, out);
        write_text(out, "elementIdentifier");
        write_text(out, &self.element_identifier);
    }
}

/// Decodes `IssuerNameSpaces`, refusing an empty map or an empty namespace.
pub(crate) fn decode_namespaces(n: &Node, src: &[u8], limits: &Limits) -> Result<IssuerNameSpaces> {
    const CTX: &str = "IssuerNameSpaces";
    let m = n.map(src, CTX)?;
    let mut out = BTreeMap::new();
    for (k, v) in m.entries() {
        let ns = k.text(src, CTX)?.to_owned();
        let items = v.array(CTX)?;
        if items.is_empty() {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!("namespace {ns:?} has no items"),
            });
        }
        let items = items
            .iter()
            .map(|i| Tag24::<IssuerSignedItem>::from_node(i, src, limits))
            .collect::<Result<Vec<_>>>()?;
        out.insert(ns, items);
    }
    Ok(out)
}

/// Writes `IssuerNameSpaces` as [`namespaces_value`] would encode: namespaces in deterministic
/// key order (shorter first, then bytewise), each item from the bytes its digest covers.
pub(crate) fn write_namespaces(ns: &IssuerNameSpaces, out: &mut Vec<u8>) {
    use crate::cbor::{write_head, write_text};
    let mut sorted: Vec<_> = ns.iter().collect();
    sorted.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
    write_head(out, 5, sorted.len() as u64);
    for (name, items) in sorted {
        write_text(out, name);
        write_head(out, 4, items.len() as u64);
        for item in items {
            item.write_cbor(out);
        }
    }
}

pub(crate) fn namespaces_value(ns: &IssuerNameSpaces) -> Value {
    Value::Map(
        ns.iter()
            .map(|(k, items)| {
                (
                    Value::Text(k.clone()),
                    Value::Array(items.iter().map(ToCbor::to_value).collect()),
                )
            })
            .collect(),
    )
}
