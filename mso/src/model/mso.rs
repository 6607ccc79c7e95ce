//! MobileSecurityObject (18013-5 §9.1.2.4, with the 2nd-edition `status`).

use std::collections::BTreeMap;

use coset::{AsCborValue, CoseKey};

use crate::cbor::{text_map, FromCbor, Limits, Node, TDate, ToCbor, Value};
use crate::cose::parse_cose_key;
use crate::crypto::{DigestAlgorithm, PublicKey};
use crate::error::{Error, Result};

/// `ValueDigests = { + NameSpace => { + DigestID => Digest } }`.
pub type ValueDigests = BTreeMap<String, BTreeMap<u64, Vec<u8>>>;

/// The signed content of issuerAuth.
#[derive(Debug, Clone, PartialEq)]
pub struct MobileSecurityObject {
    /// "1.0" (or "1.1" from 2nd-edition issuers).
    pub version: String,
    /// Algorithm of every value digest.
    pub digest_algorithm: DigestAlgorithm,
    /// Digests of the IssuerSignedItemBytes, per namespace and digestID.
    pub value_digests: ValueDigests,
    /// The holder's device key and what it may sign.
    pub device_key_info: DeviceKeyInfo,
    /// The document type.
    pub doc_type: String,
    /// When the MSO was signed and when it is valid.
    pub validity_info: ValidityInfo,
    /// Where revocation status is published (2nd edition).
    pub status: Option<Status>,
}

/// `DeviceKeyInfo = { "deviceKey": COSE_Key, ? "keyAuthorizations", ? "keyInfo" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceKeyInfo {
    /// The holder's device key as COSE_Key (may lack `alg`).
    pub device_key: CoseKey,
    /// Which namespaces or elements the device key may sign in DeviceSigned.
    pub key_authorizations: Option<KeyAuthorizations>,
    /// Extra key information (`{ * int => any }`).
    pub key_info: Option<Vec<(i64, Value)>>,
}

impl DeviceKeyInfo {
    /// Wraps a public key with no authorizations or key info.
    pub fn new(key: &PublicKey) -> Self {
        DeviceKeyInfo {
            device_key: key.to_cose_key(),
            key_authorizations: None,
            key_info: None,
        }
    }

    /// The device key, validated.
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_cose_key(&self.device_key)
    }
}

/// `KeyAuthorizations = { ? "nameSpaces": [+ tstr], ? "dataElements": { + tstr => [+ tstr] } }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyAuthorizations {
    /// Namespaces the device key may sign entirely.
    pub name_spaces: Option<Vec<String>>,
    /// Individual data elements the device key may sign.
    pub data_elements: Option<BTreeMap<String, Vec<String>>>,
}

/// `ValidityInfo = { "signed": tdate, "validFrom": tdate, "validUntil": tdate,
/// ? "expectedUpdate": tdate }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityInfo {
    /// When the MSO was signed.
    pub signed: TDate,
    /// Start of validity.
    pub valid_from: TDate,
    /// End of validity.
    pub valid_until: TDate,
    /// When the issuer expects to re-issue.
    pub expected_update: Option<TDate>,
}

/// `Status` of the 2nd edition (12.3.6): where to look the MSO up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Token Status List reference.
    pub status_list: Option<StatusListRef>,
    /// Identifier List reference.
    pub identifier_list: Option<IdentifierListRef>,
}

/// `{ "idx": uint, "uri": tstr, ? "certificate": bstr }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListRef {
    /// Index of this MSO in the list.
    pub idx: u64,
    /// Where the Status List Token is published.
    pub uri: String,
    /// Certificate of the list signer, when given.
    pub certificate: Option<Vec<u8>>,
}

/// `{ "id": bstr, "uri": tstr, ? "certificate": bstr }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierListRef {
    /// This MSO's identifier in the list.
    pub id: Vec<u8>,
    /// Where the Identifier List Token is published.
    pub uri: String,
    /// Certificate of the list signer, when given.
    pub certificate: Option<Vec<u8>>,
}

impl FromCbor for MobileSecurityObject {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "MobileSecurityObject";
        let m = n.map(src, CTX)?;
        let version = m.required("version")?.text(src, CTX)?.to_owned();
        if !version.starts_with("1.") {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!("unsupported version {version:?}"),
            });
        }
        let digest_algorithm =
            DigestAlgorithm::from_name(m.required("digestAlgorithm")?.text(src, CTX)?)?;
        let value_digests =
            decode_value_digests(m.required("valueDigests")?, src, digest_algorithm)?;
        let status = m.get("status").map(|s| decode_status(s, src)).transpose()?;
        Ok(MobileSecurityObject {
            version,
            digest_algorithm,
            value_digests,
            device_key_info: decode_device_key_info(m.required("deviceKeyInfo")?, src)?,
            doc_type: m.required("docType")?.text(src, CTX)?.to_owned(),
            validity_info: ValidityInfo::from_node(m.required("validityInfo")?, src, limits)?,
            status,
        })
    }
}

fn decode_value_digests(n: &Node, src: &[u8], alg: DigestAlgorithm) -> Result<ValueDigests> {
    const CTX: &str = "valueDigests";
    let mut out = BTreeMap::new();
    for (ns, digests) in n.map(src, CTX)?.entries() {
        let ns = ns.text(src, CTX)?.to_owned();
        let mut per_ns = BTreeMap::new();
        for (id, digest) in digests.map(src, CTX)?.entries() {
            let digest = digest.bytes(src, CTX)?;
            if digest.len() != alg.output_len() {
                return Err(Error::DigestLength {
                    algorithm: alg.name(),
                    expected: alg.output_len(),
                    found: digest.len(),
                });
            }
            per_ns.insert(id.uint(CTX)?, digest.to_vec());
        }
        out.insert(ns, per_ns);
    }
    Ok(out)
}

fn decode_device_key_info(n: &Node, src: &[u8]) -> Result<DeviceKeyInfo> {
    const CTX: &str = "DeviceKeyInfo";
    let m = n.map(src, CTX)?;
    let device_key = parse_cose_key(m.required("deviceKey")?, src)?;
    let key_authorizations = m
        .get("keyAuthorizations")
        .map(|ka| -> Result<KeyAuthorizations> {
            let ka = ka.map(src, "KeyAuthorizations")?;
            let name_spaces = ka
                .get("nameSpaces")
                .map(|a| text_array(a, src, "KeyAuthorizations"))
                .transpose()?;
            let data_elements = ka
                .get("dataElements")
                .map(|d| -> Result<BTreeMap<String, Vec<String>>> {
                    d.map(src, "KeyAuthorizations")?
                        .entries()
                        .iter()
                        .map(|(k, v)| {
                            Ok((
                                k.text(src, "KeyAuthorizations")?.to_owned(),
                                text_array(v, src, "KeyAuthorizations")?,
                            ))
                        })
                        .collect()
                })
                .transpose()?;
            Ok(KeyAuthorizations {
                name_spaces,
                data_elements,
            })
        })
        .transpose()?;
    let key_info = m
        .get("keyInfo")
        .map(|ki| -> Result<Vec<(i64, Value)>> {
            ki.map(src, "KeyInfo")?
                .entries()
                .iter()
                .map(|(k, v)| Ok((k.int("KeyInfo")?, v.to_value(src))))
                .collect()
        })
        .transpose()?;
    Ok(DeviceKeyInfo {
        device_key,
        key_authorizations,
        key_info,
    })
}

fn text_array(n: &Node, src: &[u8], ctx: &'static str) -> Result<Vec<String>> {
    n.array(ctx)?
        .iter()
        .map(|t| t.text(src, ctx).map(str::to_owned))
        .collect()
}

fn decode_status(n: &Node, src: &[u8]) -> Result<Status> {
    const CTX: &str = "Status";
    let m = n.map(src, CTX)?;
    let certificate = |m: &crate::cbor::MapView<'_, '_>| {
        m.get("certificate")
            .map(|c| c.bytes(src, CTX).map(<[u8]>::to_vec))
            .transpose()
    };
    let status_list = m
        .get("status_list")
        .map(|s| -> Result<StatusListRef> {
            let s = s.map(src, CTX)?;
            Ok(StatusListRef {
                idx: s.required("idx")?.uint(CTX)?,
                uri: s.required("uri")?.text(src, CTX)?.to_owned(),
                certificate: certificate(&s)?,
            })
        })
        .transpose()?;
    let identifier_list = m
        .get("identifier_list")
        .map(|s| -> Result<IdentifierListRef> {
            let s = s.map(src, CTX)?;
            Ok(IdentifierListRef {
                id: s.required("id")?.bytes(src, CTX)?.to_vec(),
                uri: s.required("uri")?.text(src, CTX)?.to_owned(),
                certificate: certificate(&s)?,
            })
        })
        .transpose()?;
    Ok(Status {
        status_list,
        identifier_list,
    })
}

impl FromCbor for ValidityInfo {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "ValidityInfo";
        let m = n.map(src, CTX)?;
        Ok(ValidityInfo {
            signed: TDate::from_node(m.required("signed")?, src, limits)?,
            valid_from: TDate::from_node(m.required("validFrom")?, src, limits)?,
            valid_until: TDate::from_node(m.required("validUntil")?, src, limits)?,
            expected_update: m
                .get("expectedUpdate")
                .map(|e| TDate::from_node(e, src, limits))
                .transpose()?,
        })
    }
}

impl ToCbor for ValidityInfo {
    fn to_value(&self) -> Value {
        let mut entries = vec![
            ("signed", self.signed.to_value()),
            ("validFrom", self.valid_from.to_value()),
            ("validUntil", self.valid_until.to_value()),
        ];
        if let Some(e) = &self.expected_update {
            entries.push(("expectedUpdate", e.to_value()));
        }
        text_map(entries)
    }
}

impl ToCbor for Status {
    fn to_value(&self) -> Value {
        let mut entries = Vec::new();
        if let Some(s) = &self.status_list {
            let mut e = vec![
                ("idx", Value::Integer(s.idx.into())),
                ("uri", Value::Text(s.uri.clone())),
            ];
            if let Some(c) = &s.certificate {
                e.push(("certificate", Value::Bytes(c.clone())));
            }
            entries.push(("status_list", text_map(e)));
        }
        if let Some(s) = &self.identifier_list {
            let mut e = vec![
                ("id", Value::Bytes(s.id.clone())),
                ("uri", Value::Text(s.uri.clone())),
            ];
            if let Some(c) = &s.certificate {
                e.push(("certificate", Value::Bytes(c.clone())));
            }
            entries.push(("identifier_list", text_map(e)));
        }
        text_map(entries)
    }
}

impl ToCbor for DeviceKeyInfo {
    fn to_value(&self) -> Value {
        let mut entries = vec![(
            "deviceKey",
            self.device_key
                .clone()
                .to_cbor_value()
                .unwrap_or(Value::Null),
        )];
        if let Some(ka) = &self.key_authorizations {
            let mut e = Vec::new();
            if let Some(ns) = &ka.name_spaces {
                e.push((
                    "nameSpaces",
                    Value::Array(ns.iter().cloned().map(Value::Text).collect()),
                ));
            }
            if let Some(de) = &ka.data_elements {
                e.push((
                    "dataElements",
                    Value::Map(
                        de.iter()
                            .map(|(k, v)| {
                                (
                                    Value::Text(k.clone()),
                                    Value::Array(v.iter().cloned().map(Value::Text).collect()),
                                )
                            })
                            .collect(),
                    ),
                ));
            }
            entries.push(("keyAuthorizations", text_map(e)));
        }
        if let Some(ki) = &self.key_info {
            entries.push((
                "keyInfo",
                Value::Map(
                    ki.iter()
                        .map(|(k, v)| (Value::Integer((*k).into()), v.clone()))
                        .collect(),
                ),
            ));
        }
        text_map(entries)
    }
}

impl ToCbor for MobileSecurityObject {
    fn to_value(&self) -> Value {
        let mut entries = vec![
            ("version", Value::Text(self.version.clone())),
            (
                "digestAlgorithm",
                Value::Text(self.digest_algorithm.name().into()),
            ),
            (
                "valueDigests",
                Value::Map(
                    self.value_digests
                        .iter()
                        .map(|(ns, d)| {
                            (
                                Value::Text(ns.clone()),
                                Value::Map(
                                    d.iter()
                                        .map(|(id, h)| {
                                            (Value::Integer((*id).into()), Value::Bytes(h.clone()))
                                        })
                                        .collect(),
                                ),
                            )
                        })
                        .collect(),
                ),
            ),
            ("deviceKeyInfo", self.device_key_info.to_value()),
            ("docType", Value::Text(self.doc_type.clone())),
            ("validityInfo", self.validity_info.to_value()),
        ];
        if let Some(s) = &self.status {
            entries.push(("status", s.to_value()));
        }
        text_map(entries)
    }

    /// valueDigests (one digest per item, the largest part) written straight from the map, the
    /// small parts through their `Value` form; the same bytes as [`ToCbor::to_value`].
    fn write_cbor(&self, out: &mut Vec<u8>) {
        use crate::cbor::{encode_value_into, write_head, write_text};
        enum Part<'a> {
            Value(Value),
            Digests(&'a ValueDigests),
        }
        let mut entries = vec![
            ("version", Part::Value(Value::Text(self.version.clone()))),
            (
                "digestAlgorithm",
                Part::Value(Value::Text(self.digest_algorithm.name().into())),
            ),
            ("valueDigests", Part::Digests(&self.value_digests)),
            (
                "deviceKeyInfo",
                Part::Value(self.device_key_info.to_value()),
            ),
            ("docType", Part::Value(Value::Text(self.doc_type.clone()))),
            ("validityInfo", Part::Value(self.validity_info.to_value())),
        ];
        if let Some(s) = &self.status {
            entries.push(("status", Part::Value(s.to_value())));
        }
        // Deterministic order of text keys: shorter first, then bytewise.
        entries.sort_by(|a, b| (a.0.len(), a.0).cmp(&(b.0.len(), b.0)));
        write_head(out, 5, entries.len() as u64);
        for (key, part) in entries {
            write_text(out, key);
            match part {
                Part::Value(v) => encode_value_into(&v, out),
                Part::Digests(digests) => {
                    let mut namespaces: Vec<_> = digests.iter().collect();
                    namespaces.sort_by(|a, b| (a.0.len(), a.0).cmp(&(b.0.len(), b.0)));
                    write_head(out, 5, namespaces.len() as u64);
                    for (ns, by_id) in namespaces {
                        write_text(out, ns);
                        write_head(out, 5, by_id.len() as u64);
                        // A BTreeMap of uints iterates in their encoded order.
                        for (id, digest) in by_id {
                            write_head(out, 0, *id);
                            write_head(out, 2, digest.len() as u64);
                            out.extend_from_slice(digest);
                        }
                    }
                }
            }
        }
    }
}
