//! DeviceResponse, Document, DeviceSigned and DeviceAuth.

use std::collections::BTreeMap;

use coset::{AsCborValue, CborSerializable, CoseMac0, CoseSign1, TaggedCborSerializable};

use super::issuer_signed::IssuerSigned;
use crate::cbor::{cose_err, text_map, FromCbor, Kind, Limits, Node, Tag24, ToCbor, Value};
use crate::cose::decode_sign1_tolerant;
use crate::error::{Error, Result};

/// `DeviceNameSpaces = { * NameSpace => { + DataElementIdentifier => DataElementValue } }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceNameSpaces(pub BTreeMap<String, BTreeMap<String, Value>>);

/// `DeviceAuth`: a signature or a MAC by the device key over DeviceAuthenticationBytes.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceAuth {
    /// `deviceSignature`: COSE_Sign1 with detached payload.
    Signature(CoseSign1),
    /// `deviceMac`: COSE_Mac0 with detached payload.
    Mac(CoseMac0),
}

/// `DeviceSigned = { "nameSpaces": DeviceNameSpacesBytes, "deviceAuth": DeviceAuth }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSigned {
    /// Device-signed elements, keeping the received bytes DeviceAuthentication covers.
    pub name_spaces: Tag24<DeviceNameSpaces>,
    /// The device authentication.
    pub device_auth: DeviceAuth,
    /// Labels of deviceSignature's unprotected header entries that held `null` or
    /// `undefined` and were left out when decoding (empty for one built here).
    pub ignored_unprotected_labels: Vec<i64>,
}

/// `Document = { "docType", "issuerSigned", "deviceSigned", ? "errors" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document type.
    pub doc_type: String,
    /// The issuer-signed part.
    pub issuer_signed: IssuerSigned,
    /// The device-signed part.
    pub device_signed: DeviceSigned,
    /// Elements requested but not returned, with their error codes.
    pub errors: Option<BTreeMap<String, BTreeMap<String, i64>>>,
}

/// `DeviceResponse = { "version", ? "documents", ? "documentErrors", "status" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceResponse {
    /// "1.0" (or a later 1.x).
    pub version: String,
    /// Returned documents.
    pub documents: Option<Vec<Document>>,
    /// Doc types that could not be returned, with error codes.
    pub document_errors: Option<Vec<BTreeMap<String, i64>>>,
    /// Status code (0 = OK).
    pub status: u64,
}

impl FromCbor for DeviceNameSpaces {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        const CTX: &str = "DeviceNameSpaces";
        let mut out = BTreeMap::new();
        for (ns, elems) in n.map(src, CTX)?.entries() {
            let mut per = BTreeMap::new();
            for (id, v) in elems.map(src, CTX)?.entries() {
                per.insert(id.text(src, CTX)?.to_owned(), v.to_value(src));
            }
            out.insert(ns.text(src, CTX)?.to_owned(), per);
        }
        Ok(DeviceNameSpaces(out))
    }
}

impl ToCbor for DeviceNameSpaces {
    fn to_value(&self) -> Value {
        Value::Map(
            self.0
                .iter()
                .map(|(ns, e)| {
                    (
                        Value::Text(ns.clone()),
                        Value::Map(
                            e.iter()
                                .map(|(k, v)| (Value::Text(k.clone()), v.clone()))
                                .collect(),
                        ),
                    )
                })
                .collect(),
        )
    }
}

fn decode_mac0(n: &Node, src: &[u8]) -> Result<CoseMac0> {
    match &n.kind {
        Kind::Tag(17, inner) => {
            crate::cose::sign1::check_cose_shape(inner.array("COSE_Mac0")?, "COSE_Mac0")?;
            CoseMac0::from_tagged_slice(n.raw(src)).map_err(cose_err)
        }
        Kind::Tag(other, _) => Err(Error::WrongTag {
            context: "COSE_Mac0",
            expected: 17,
            found: Some(*other),
            offset: n.span.start,
        }),
        Kind::Array(items) if items.len() == 4 => {
            // Same grammar check as the tagged form: `undefined` is no detached payload.
            crate::cose::sign1::check_cose_shape(items, "COSE_Mac0")?;
            CoseMac0::from_slice(n.raw(src)).map_err(cose_err)
        }
        _ => Err(n.wrong("COSE_Mac0", "a 4-element array")),
    }
}

impl FromCbor for DeviceSigned {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "DeviceSigned";
        let m = n.map(src, CTX)?;
        m.deny_unknown(&["nameSpaces", "deviceAuth"])?;
        let auth = m.required("deviceAuth")?.map(src, "DeviceAuth")?;
        auth.deny_unknown(&["deviceSignature", "deviceMac"])?;
        let mut ignored_unprotected_labels = Vec::new();
        let device_auth = match (auth.get("deviceSignature"), auth.get("deviceMac")) {
            (Some(s), None) => {
                let (sign1, labels) = decode_sign1_tolerant(s, src)?;
                ignored_unprotected_labels = labels;
                DeviceAuth::Signature(sign1)
            }
            (None, Some(mac)) => DeviceAuth::Mac(decode_mac0(mac, src)?),
            (Some(_), Some(_)) => {
                return Err(Error::InvalidValue {
                    context: "DeviceAuth",
                    reason: "both deviceSignature and deviceMac".into(),
                })
            }
            (None, None) => {
                return Err(Error::MissingField {
                    context: "DeviceAuth",
                    field: "deviceSignature or deviceMac",
                })
            }
        };
        Ok(DeviceSigned {
            name_spaces: Tag24::from_node(m.required("nameSpaces")?, src, limits)?,
            device_auth,
            ignored_unprotected_labels,
        })
    }
}

impl ToCbor for DeviceSigned {
    fn to_value(&self) -> Value {
        let auth = match &self.device_auth {
            DeviceAuth::Signature(s) => ("deviceSignature", crate::cose::sign1::sign1_to_value(s)),
            DeviceAuth::Mac(m) => (
                "deviceMac",
                m.clone().to_cbor_value().unwrap_or(Value::Null),
            ),
        };
        text_map(vec![
            ("nameSpaces", self.name_spaces.to_value()),
            ("deviceAuth", text_map(vec![auth])),
        ])
    }
}

fn decode_errors(n: &Node, src: &[u8]) -> Result<BTreeMap<String, BTreeMap<String, i64>>> {
    const CTX: &str = "Errors";
    let mut out = BTreeMap::new();
    for (ns, elems) in n.map(src, CTX)?.entries() {
        let mut per = BTreeMap::new();
        for (id, code) in elems.map(src, CTX)?.entries() {
            per.insert(id.text(src, CTX)?.to_owned(), code.int(CTX)?);
        }
        out.insert(ns.text(src, CTX)?.to_owned(), per);
    }
    Ok(out)
}

fn errors_value(e: &BTreeMap<String, BTreeMap<String, i64>>) -> Value {
    Value::Map(
        e.iter()
            .map(|(ns, per)| {
                (
                    Value::Text(ns.clone()),
                    Value::Map(
                        per.iter()
                            .map(|(k, c)| (Value::Text(k.clone()), Value::Integer((*c).into())))
                            .collect(),
                    ),
                )
            })
            .collect(),
    )
}

impl FromCbor for Document {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "Document";
        let m = n.map(src, CTX)?;
        m.deny_unknown(&["docType", "issuerSigned", "deviceSigned", "errors"])?;
        Ok(Document {
            doc_type: m.required("docType")?.text(src, CTX)?.to_owned(),
            issuer_signed: IssuerSigned::from_node(m.required("issuerSigned")?, src, limits)?,
            device_signed: DeviceSigned::from_node(m.required("deviceSigned")?, src, limits)?,
            errors: m.get("errors").map(|e| decode_errors(e, src)).transpose()?,
        })
    }
}

impl ToCbor for Document {
    fn to_value(&self) -> Value {
        let mut entries = vec![
            ("docType", Value::Text(self.doc_type.clone())),
            ("issuerSigned", self.issuer_signed.to_value()),
            ("deviceSigned", self.device_signed.to_value()),
        ];
        if let Some(e) = &self.errors {
            entries.push(("errors", errors_value(e)));
        }
        text_map(entries)
    }
}

impl FromCbor for DeviceResponse {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "DeviceResponse";
        let m = n.map(src, CTX)?;
        let version = m.required("version")?.text(src, CTX)?.to_owned();
        if !version.starts_with("1.") {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!("unsupported version {version:?}"),
            });
        }
        let documents = m
            .get("documents")
            .map(|d| {
                d.array(CTX)?
                    .iter()
                    .map(|doc| Document::from_node(doc, src, limits))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let document_errors = m
            .get("documentErrors")
            .map(|d| {
                d.array(CTX)?
                    .iter()
                    .map(|e| {
                        e.map(src, "DocumentError")?
                            .entries()
                            .iter()
                            .map(|(k, v)| {
                                Ok((
                                    k.text(src, "DocumentError")?.to_owned(),
                                    v.int("DocumentError")?,
                                ))
                            })
                            .collect::<Result<BTreeMap<_, _>>>()
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        Ok(DeviceResponse {
            version,
            documents,
            document_errors,
            status: m.required("status")?.uint(CTX)?,
        })
    }
}

impl ToCbor for DeviceResponse {
    fn to_value(&self) -> Value {
        let mut entries = vec![("version", Value::Text(self.version.clone()))];
        if let Some(docs) = &self.documents {
            entries.push((
                "documents",
                Value::Array(docs.iter().map(ToCbor::to_value).collect()),
            ));
        }
        if let Some(errs) = &self.document_errors {
            entries.push((
                "documentErrors",
                Value::Array(
                    errs.iter()
                        .map(|e| {
                            Value::Map(
                                e.iter()
                                    .map(|(k, c)| {
                                        (Value::Text(k.clone()), Value::Integer((*c).into()))
                                    })
                                    .collect(),
                            )
                        })
                        .collect(),
                ),
            ));
        }
        entries.push(("status", Value::Integer(self.status.into())));
        text_map(entries)
    }
}
