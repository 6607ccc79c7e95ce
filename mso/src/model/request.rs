//! DeviceRequest, DocRequest and ItemsRequest (the reader's request).

use std::collections::BTreeMap;

use coset::CoseSign1;

use crate::cbor::{text_map, FromCbor, Limits, Node, Tag24, ToCbor, Value};
use crate::cose::decode_sign1;
use crate::error::{Error, Result};

/// `ItemsRequest = { "docType", "nameSpaces": { + NameSpace => { + DataElementIdentifier =>
/// IntentToRetain } }, ? "requestInfo" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsRequest {
    /// Requested document type.
    pub doc_type: String,
    /// Requested elements and whether the reader intends to retain each.
    pub name_spaces: BTreeMap<String, BTreeMap<String, bool>>,
    /// Additional request information.
    pub request_info: Option<BTreeMap<String, Value>>,
}

/// `DocRequest = { "itemsRequest": ItemsRequestBytes, ? "readerAuth": COSE_Sign1 }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRequest {
    /// The request, keeping the bytes ReaderAuthentication covers.
    pub items_request: Tag24<ItemsRequest>,
    /// Reader authentication (detached payload).
    pub reader_auth: Option<CoseSign1>,
}

/// `DeviceRequest = { "version": tstr, "docRequests": [+ DocRequest] }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRequest {
    /// "1.0" (or a later 1.x).
    pub version: String,
    /// The document requests.
    pub doc_requests: Vec<DocRequest>,
}

impl FromCbor for ItemsRequest {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        const CTX: &str = "ItemsRequest";
        let m = n.map(src, CTX)?;
        let mut name_spaces = BTreeMap::new();
        for (ns, elems) in m.required("nameSpaces")?.map(src, CTX)?.entries() {
            let mut per = BTreeMap::new();
            for (id, retain) in elems.map(src, CTX)?.entries() {
                per.insert(id.text(src, CTX)?.to_owned(), retain.boolean(CTX)?);
            }
            name_spaces.insert(ns.text(src, CTX)?.to_owned(), per);
        }
        let request_info = m
            .get("requestInfo")
            .map(|ri| -> Result<BTreeMap<String, Value>> {
                ri.map(src, CTX)?
                    .entries()
                    .iter()
                    .map(|(k, v)| Ok((k.text(src, CTX)?.to_owned(), v.to_value(src))))
                    .collect()
            })
            .transpose()?;
        Ok(ItemsRequest {
            doc_type: m.required("docType")?.text(src, CTX)?.to_owned(),
            name_spaces,
            request_info,
        })
    }
}

impl ToCbor for ItemsRequest {
    fn to_value(&self) -> Value {
        let mut entries = vec![
            ("docType", Value::Text(self.doc_type.clone())),
            (
                "nameSpaces",
                Value::Map(
                    self.name_spaces
                        .iter()
                        .map(|(ns, e)| {
                            (
                                Value::Text(ns.clone()),
                                Value::Map(
                                    e.iter()
                                        .map(|(k, b)| (Value::Text(k.clone()), Value::Bool(*b)))
                                        .collect(),
                                ),
                            )
                        })
                        .collect(),
                ),
            ),
        ];
        if let Some(ri) = &self.request_info {
            entries.push((
                "requestInfo",
                Value::Map(
                    ri.iter()
                        .map(|(k, v)| (Value::Text(k.clone()), v.clone()))
                        .collect(),
                ),
            ));
        }
        text_map(entries)
    }
}

impl FromCbor for DeviceRequest {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "DeviceRequest";
        let m = n.map(src, CTX)?;
        let version = m.required("version")?.text(src, CTX)?.to_owned();
        if !version.starts_with("1.") {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!("unsupported version {version:?}"),
            });
        }
        let doc_requests = m
            .required("docRequests")?
            .array(CTX)?
            .iter()
            .map(|d| -> Result<DocRequest> {
                let d = d.map(src, "DocRequest")?;
                Ok(DocRequest {
                    items_request: Tag24::from_node(d.required("itemsRequest")?, src, limits)?,
                    reader_auth: d
                        .get("readerAuth")
                        .map(|r| decode_sign1(r, src))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DeviceRequest {
            version,
            doc_requests,
        })
    }
}

impl ToCbor for DeviceRequest {
    fn to_value(&self) -> Value {
        text_map(vec![
            ("version", Value::Text(self.version.clone())),
            (
                "docRequests",
                Value::Array(
                    self.doc_requests
                        .iter()
                        .map(|d| {
                            let mut e = vec![("itemsRequest", d.items_request.to_value())];
                            if let Some(r) = &d.reader_auth {
                                e.push(("readerAuth", crate::cose::sign1::sign1_to_value(r)));
                            }
                            text_map(e)
                        })
                        .collect(),
                ),
            ),
        ])
    }
}
