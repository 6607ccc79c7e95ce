//! Writing a VICAL: the producer side of [`super::VerifiedVical`].
//!
//! Every CertificateInfo field is taken from the DER certificate (serial, SKI, country, state,
//! validity), so the list cannot contradict the certificates it carries; only `docType` and
//! `certificateProfile` come from the caller, as nothing else holds them. The signed structure
//! is a tagged COSE_Sign1 with an embedded payload, `{1: alg}` protected and the signer's
//! x5chain (label 33) unprotected, as Annex C lays it out.

use time::OffsetDateTime;

use coset::TaggedCborSerializable;

use super::error::VicalError;
use crate::cbor::{encode_value, TDate, ToCbor, Value};
use crate::cose::PreparedSign1;
use crate::crypto::Signer;
use crate::error::{Error, Result};
use crate::x509::Certificate;

/// The VICAL `version` this crate writes.
pub const VICAL_VERSION: &str = "1.0";

/// One IACA to list, with the doc types it is trusted for.
#[derive(Debug, Clone)]
pub struct ListedIaca {
    /// The IACA certificate.
    pub certificate: Certificate,
    /// The doc types it issues (at least one).
    pub doc_types: Vec<String>,
    /// Optional `certificateProfile` values.
    pub certificate_profiles: Vec<String>,
}

/// The content of a VICAL before signing.
#[derive(Debug, Clone)]
pub struct VicalContent {
    /// `vicalProvider`.
    pub provider: String,
    /// `date`: the moment the list is signed.
    pub date: OffsetDateTime,
    /// `vicalIssueID`, increasing with every list the provider issues.
    pub issue_id: Option<u64>,
    /// `nextUpdate`.
    pub next_update: Option<OffsetDateTime>,
    /// `vicalURL`.
    pub url: Option<String>,
    /// The listed IACAs.
    pub iacas: Vec<ListedIaca>,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A certificate serial as `biguint` (tag 2 over the magnitude, RFC 8949 §3.4.3).
fn biguint(serial: &[u8]) -> Value {
    let first = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    let magnitude = serial.get(first..).unwrap_or_default().to_vec();
    Value::Tag(2, Box::new(Value::Bytes(magnitude)))
}

fn certificate_info(index: usize, iaca: &ListedIaca) -> Result<Value> {
    let cert = &iaca.certificate;
    if iaca.doc_types.is_empty() {
        return Err(VicalError::EmptyDocType { index }.into());
    }
    let ski = cert
        .subject_key_id()
        .ok_or(VicalError::NoSubjectKeyId { index })?;
    let mut entries = vec![
        (text("certificate"), Value::Bytes(cert.der().to_vec())),
        (text("serialNumber"), biguint(cert.serial_number())),
        (text("ski"), Value::Bytes(ski)),
        (
            text("docType"),
            Value::Array(iaca.doc_types.iter().map(|d| text(d)).collect()),
        ),
    ];
    if !iaca.certificate_profiles.is_empty() {
        entries.push((
            text("certificateProfile"),
            Value::Array(iaca.certificate_profiles.iter().map(|p| text(p)).collect()),
        ));
    }
    if let Some(country) = cert.country() {
        entries.push((text("issuingCountry"), Value::Text(country)));
    }
    if let Some(state) = cert.state_or_province() {
        entries.push((text("stateOrProvinceName"), Value::Text(state)));
    }
    entries.push((text("notBefore"), TDate::new(cert.not_before()).to_value()));
    entries.push((text("notAfter"), TDate::new(cert.not_after()).to_value()));
    Ok(Value::Map(entries))
}

impl VicalContent {
    /// The CBOR payload (the VICAL map).
    pub fn to_payload(&self) -> Result<Vec<u8>> {
        let mut map = vec![
            (text("version"), text(VICAL_VERSION)),
            (text("vicalProvider"), text(&self.provider)),
            (text("date"), TDate::new(self.date).to_value()),
        ];
        if let Some(id) = self.issue_id {
            map.push((text("vicalIssueID"), Value::Integer(id.into())));
        }
        if let Some(next) = self.next_update {
            if next < self.date {
                return Err(VicalError::NextUpdateBeforeDate {
                    date: self.date,
                    next_update: next,
                }
                .into());
            }
            map.push((text("nextUpdate"), TDate::new(next).to_value()));
        }
        let infos = self
            .iacas
            .iter()
            .enumerate()
            .map(|(index, iaca)| certificate_info(index, iaca))
            .collect::<Result<Vec<_>>>()?;
        map.push((text("certificateInfos"), Value::Array(infos)));
        if let Some(url) = &self.url {
            map.push((text("vicalURL"), text(url)));
        }
        Ok(encode_value(&Value::Map(map)))
    }

    /// Signs the list with `signer`, whose certificate is the first of `x5chain` (signer first,
    /// then any intermediate CA certificates; the trust anchor is not included). Returns the
    /// tagged COSE_Sign1.
    pub fn sign(&self, x5chain: &[Vec<u8>], signer: &dyn Signer) -> Result<Vec<u8>> {
        if x5chain.is_empty() {
            return Err(VicalError::NoSignerCertificate.into());
        }
        let sign1 = PreparedSign1::new(signer.algorithm(), self.to_payload()?, x5chain, false)?
            .sign(signer)?;
        sign1
            .to_tagged_vec()
            .map_err(|e| Error::Cose(e.to_string()))
    }
}
