//! IssuerSigned and issuerAuth.

use coset::CoseSign1;

use super::items::{decode_namespaces, namespaces_value, write_namespaces, IssuerNameSpaces};
use super::mso::MobileSecurityObject;
use crate::cbor::{
    encoded_len, text_map, write_head, write_text, FromCbor, Limits, Node, Tag24, ToCbor, Value,
};
use crate::cose::{decode_sign1_tolerant, sign1_algorithm, x5chain};
use crate::crypto::Algorithm;
use crate::error::{Error, Result};

/// issuerAuth: the COSE_Sign1 and the MSO it carries as `#6.24` payload.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerAuth {
    sign1: CoseSign1,
    mso: Tag24<MobileSecurityObject>,
    ignored_unprotected: Vec<i64>,
}

impl IssuerAuth {
    /// Reads the MSO out of a COSE_Sign1 payload, which must be `#6.24(bstr .cbor MSO)`.
    pub fn from_sign1(sign1: CoseSign1, limits: &Limits) -> Result<Self> {
        let payload = sign1
            .payload
            .as_deref()
            .ok_or_else(|| Error::Cose("issuerAuth payload is detached".into()))?;
        let mso = Tag24::<MobileSecurityObject>::from_tagged_slice(payload, limits)?;
        Ok(IssuerAuth {
            sign1,
            mso,
            ignored_unprotected: Vec::new(),
        })
    }

    /// Pairs a freshly signed COSE_Sign1 with the MSO whose bytes are its payload.
    pub(crate) fn from_parts(sign1: CoseSign1, mso: Tag24<MobileSecurityObject>) -> Self {
        IssuerAuth {
            sign1,
            mso,
            ignored_unprotected: Vec::new(),
        }
    }

    /// Labels of unprotected header entries that held `null` or `undefined` and were left
    /// out when decoding (see [`crate::cose::decode_sign1_tolerant`]).
    pub fn ignored_unprotected_labels(&self) -> &[i64] {
        &self.ignored_unprotected
    }

    /// The COSE_Sign1.
    pub fn sign1(&self) -> &CoseSign1 {
        &self.sign1
    }

    /// The MSO with the exact bytes that were signed.
    pub fn mso(&self) -> &Tag24<MobileSecurityObject> {
        &self.mso
    }

    /// The signature algorithm from the protected header.
    pub fn algorithm(&self) -> Result<Algorithm> {
        sign1_algorithm(&self.sign1)
    }

    /// The x5chain certificates, DS first.
    pub fn x5chain(&self) -> Result<Vec<Vec<u8>>> {
        x5chain(&self.sign1)
    }
}

impl FromCbor for IssuerAuth {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        let (sign1, ignored) = decode_sign1_tolerant(n, src)?;
        let mut auth = IssuerAuth::from_sign1(sign1, limits)?;
        auth.ignored_unprotected = ignored;
        Ok(auth)
    }
}

impl ToCbor for IssuerAuth {
    fn to_value(&self) -> Value {
        crate::cose::sign1::sign1_to_value(&self.sign1)
    }

    fn write_cbor(&self, out: &mut Vec<u8>) {
        crate::cose::sign1::write_sign1(&self.sign1, out);
    }
}

/// `IssuerSigned = { ? "nameSpaces": IssuerNameSpaces, "issuerAuth": IssuerAuth }`; the
/// OpenID4VCI `mso_mdoc` credential is its base64url encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSigned {
    /// Disclosed items per namespace (absent when nothing is disclosed).
    pub name_spaces: Option<IssuerNameSpaces>,
    /// The signed MSO.
    pub issuer_auth: IssuerAuth,
}

impl FromCbor for IssuerSigned {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "IssuerSigned";
        let m = n.map(src, CTX)?;
        m.deny_unknown(&["nameSpaces", "issuerAuth"])?;
        Ok(IssuerSigned {
            name_spaces: m
                .get("nameSpaces")
                .map(|ns| decode_namespaces(ns, src, limits))
                .transpose()?,
            issuer_auth: IssuerAuth::from_node(m.required("issuerAuth")?, src, limits)?,
        })
    }
}

impl ToCbor for IssuerSigned {
    fn to_value(&self) -> Value {
        let mut entries = Vec::new();
        if let Some(ns) = &self.name_spaces {
            entries.push(("nameSpaces", namespaces_value(ns)));
        }
        entries.push(("issuerAuth", self.issuer_auth.to_value()));
        text_map(entries)
    }

    /// Written straight from the items' tagged bytes (no `Value` copy of them), into a buffer
    /// sized up front; the same bytes as the `to_value` form.
    fn write_cbor(&self, out: &mut Vec<u8>) {
        let items: usize = self
            .name_spaces
            .iter()
            .flat_map(|ns| ns.iter())
            .map(|(name, items)| {
                name.len()
                    + 9
                    + items
                        .iter()
                        .map(|i| i.tagged_bytes().len() + 9)
                        .sum::<usize>()
            })
            .sum();
        let auth = &self.issuer_auth.sign1;
        // The unprotected header holds the x5chain: its certificates are most of issuerAuth.
        let header: usize = auth
            .unprotected
            .rest
            .iter()
            .map(|(_, v)| 9 + encoded_len(v))
            .sum();
        let payload = auth.payload.as_ref().map_or(0, Vec::len);
        out.reserve(64 + items + header + payload + auth.signature.len());
        // Keys in deterministic order: "issuerAuth" sorts before "nameSpaces" (same length).
        write_head(out, 5, if self.name_spaces.is_some() { 2 } else { 1 });
        write_text(out, "issuerAuth");
        self.issuer_auth.write_cbor(out);
        if let Some(ns) = &self.name_spaces {
            write_text(out, "nameSpaces");
            write_namespaces(ns, out);
        }
    }
}
