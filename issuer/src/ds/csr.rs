//! PKCS#10 certificate requests for a DS key, signed through the [`Signer`] seam so the key
//! never leaves its keystore or HSM.

use der::asn1::{Any, BitString, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::pem::LineEnding;
use der::{Encode, EncodePem};
use mso::crypto::Signer;
use mso::x509::{oid, signature, spki};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::request::{CertReq, CertReqInfo, Version};

use super::error::{DsError, Result};

/// Longest value accepted for a subject attribute, in characters (X.520 `ub-common-name`
/// and `ub-organization-name` are 64).
const MAX_ATTRIBUTE_CHARS: usize = 64;

/// The subject DN a DS asks for. The CA copies C (and ST) checks against its IACA: they must
/// equal the IACA's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsSubject {
    /// countryName: upper-case ISO 3166-1 alpha-2 code (encoded as PrintableString).
    pub country: String,
    /// stateOrProvinceName, if the IACA has one.
    pub state: Option<String>,
    /// organizationName.
    pub organization: Option<String>,
    /// commonName naming this DS (unique per DS, e.g. with a generation number).
    pub common_name: String,
}

fn enc_err(e: impl core::fmt::Display) -> DsError {
    DsError::Encoding(e.to_string())
}

fn check_text(label: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(DsError::InvalidSubject(format!("{label} is empty")));
    }
    let chars = value.chars().count();
    if chars > MAX_ATTRIBUTE_CHARS {
        return Err(DsError::InvalidSubject(format!(
            "{label} has {chars} characters (at most {MAX_ATTRIBUTE_CHARS})"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(DsError::InvalidSubject(format!(
            "{label} contains control characters"
        )));
    }
    Ok(())
}

fn rdn(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<RelativeDistinguishedName> {
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }]).map_err(enc_err)?;
    Ok(RelativeDistinguishedName(set))
}

fn utf8(
    oid: der::asn1::ObjectIdentifier,
    label: &str,
    value: &str,
) -> Result<RelativeDistinguishedName> {
    check_text(label, value)?;
    let s = Utf8StringRef::new(value).map_err(enc_err)?;
    rdn(oid, Any::encode_from(&s).map_err(enc_err)?)
}

impl DsSubject {
    /// The DER `Name`: C, then ST, O and CN when present, one attribute per RDN.
    pub fn to_name(&self) -> Result<Name> {
        let c = &self.country;
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DsError::InvalidSubject(format!(
                "countryName {c:?} must be an upper-case ISO 3166-1 alpha-2 code"
            )));
        }
        let printable = PrintableStringRef::new(c).map_err(enc_err)?;
        let mut rdns = vec![rdn(
            oid::COUNTRY_NAME,
            Any::encode_from(&printable).map_err(enc_err)?,
        )?];
        if let Some(st) = &self.state {
            rdns.push(utf8(
                oid::STATE_OR_PROVINCE_NAME,
                "stateOrProvinceName",
                st,
            )?);
        }
        if let Some(o) = &self.organization {
            rdns.push(utf8(oid::ORGANIZATION_NAME, "organizationName", o)?);
        }
        rdns.push(utf8(oid::COMMON_NAME, "commonName", &self.common_name)?);
        Ok(RdnSequence(rdns))
    }
}

/// Builds a PKCS#10 request (DER) for the signer's key with `subject`, signed by the signer
/// itself (proof of possession): ES256 → ecdsa-with-SHA256, ES384 → ecdsa-with-SHA384,
/// ES512 → ecdsa-with-SHA512, EdDSA → Ed25519. The request carries no attributes: the CA alone
/// decides the certificate's extensions.
///
/// The signature is checked against the signer's public key before the request is returned,
/// so a misbehaving HSM cannot produce an unverifiable request.
pub fn generate_csr(signer: &dyn Signer, subject: &DsSubject) -> Result<Vec<u8>> {
    let alg = signer.algorithm();
    let public_key = signer.public_key().map_err(DsError::Signer)?;
    if public_key.curve().algorithm() != alg {
        return Err(DsError::UnsupportedKey(format!(
            "signer algorithm {alg} does not match its {} key",
            public_key.curve().name()
        )));
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject: subject.to_name()?,
        public_key: spki::encode(&public_key).map_err(enc_err)?,
        attributes: SetOfVec::new(),
    };
    let info_der = info.to_der().map_err(enc_err)?;
    let raw = signer.sign(&info_der).map_err(DsError::Signer)?;
    let algorithm = signature::algorithm_identifier(alg);
    let der_signature = signature::der_from_raw(alg, &raw).map_err(DsError::Signer)?;
    signature::verify_x509_signature(&public_key, &algorithm.oid, &info_der, &der_signature)
        .map_err(DsError::Signer)?;
    let req = CertReq {
        info,
        algorithm,
        signature: BitString::from_bytes(&der_signature).map_err(enc_err)?,
    };
    req.to_der().map_err(enc_err)
}

/// The PEM (`CERTIFICATE REQUEST`, LF line endings) form of a DER request from
/// [`generate_csr`].
pub fn csr_pem(csr_der: &[u8]) -> Result<String> {
    use der::Decode;
    let req = CertReq::from_der(csr_der).map_err(enc_err)?;
    req.to_pem(LineEnding::LF).map_err(enc_err)
}
