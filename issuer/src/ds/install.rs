//! Installing the certificate the offline root returned for a DS key: every check of the
//! Document Signer profile (`docs/PROFILES.md`, ISO/IEC 18013-5 Annex B) that the issuer can
//! make, each refusal a distinct [`DsError`].

use std::collections::BTreeMap;

use der::Decode;
use mso::crypto::{Signer, SoftwareVerifier};
use mso::x509::Certificate;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use super::error::{DsError, Result};
use super::oids;

/// Longest DS certificate validity, in days of 86,400 s (Annex B).
pub const MAX_DS_VALIDITY_DAYS: i64 = 457;

/// A DS certificate that passed [`install_certificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsCertificate {
    cert: Certificate,
    serial: String,
    issuer_ski: Vec<u8>,
}

impl DsCertificate {
    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        self.cert.der()
    }

    /// The serial number, lower-case hex of its DER content octets.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The subjectKeyIdentifier of the IACA that issued it.
    pub fn issuer_ski(&self) -> &[u8] {
        &self.issuer_ski
    }

    /// notBefore.
    pub fn not_before(&self) -> OffsetDateTime {
        self.cert.not_before()
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        self.cert.not_after()
    }
}

/// The serial number of `cert` as lower-case hex.
pub(crate) fn serial_hex(cert: &Certificate) -> String {
    hex::encode(cert.inner().tbs_certificate.serial_number.as_bytes())
}

struct Ext<'a> {
    critical: bool,
    value: &'a [u8],
}

fn malformed(what: &str, e: impl core::fmt::Display) -> DsError {
    DsError::MalformedCertificate(format!("{what}: {e}"))
}

/// Checks `cert_der`, the certificate returned for the DS key `key`, and accepts it if:
///
/// - it parses (DER X.509 v3) and certifies exactly `key`'s public key;
/// - it is issued by one of `iaca` (its authorityKeyIdentifier equals that IACA's
///   subjectKeyIdentifier, its issuer DN is the IACA's subject and the IACA key verifies its
///   signature);
/// - it follows the DS profile: keyUsage critical and digitalSignature only;
///   extendedKeyUsage critical and exactly id-mdl-kp-mdlDS; no basicConstraints CA=TRUE;
///   subjectKeyIdentifier, authorityKeyIdentifier, issuerAltName and cRLDistributionPoints
///   present and non-critical; validity at most 457 days and inside the IACA's; subject C and
///   ST equal to the IACA's;
/// - it has not expired at `at` (a certificate that is not yet valid may be installed ahead of
///   a rotation; the inventory will not sign with it before its notBefore).
pub fn install_certificate(
    cert_der: &[u8],
    key: &dyn Signer,
    iaca: &[Certificate],
    at: OffsetDateTime,
) -> Result<DsCertificate> {
    let cert =
        Certificate::from_der(cert_der).map_err(|e| malformed("not an X.509 certificate", e))?;
    let tbs = &cert.inner().tbs_certificate;
    if tbs.version != x509_cert::certificate::Version::V3 {
        return Err(DsError::NotV3);
    }

    // The key.
    let cert_key = cert
        .public_key()
        .map_err(|e| malformed("subject public key", e))?;
    if cert_key != key.public_key().map_err(DsError::Signer)? {
        return Err(DsError::KeyMismatch);
    }

    // Extensions, each at most once.
    let mut exts: BTreeMap<String, Ext<'_>> = BTreeMap::new();
    for ext in tbs.extensions.iter().flatten() {
        let id = ext.extn_id.to_string();
        if exts.contains_key(&id) {
            return Err(DsError::DuplicateExtension(id));
        }
        exts.insert(
            id,
            Ext {
                critical: ext.critical,
                value: ext.extn_value.as_bytes(),
            },
        );
    }
    let get = |oid: der::asn1::ObjectIdentifier| exts.get(&oid.to_string());

    // The issuer.
    let aki = cert
        .authority_key_id()
        .ok_or(DsError::MissingAuthorityKeyId)?;
    let issuer = iaca
        .iter()
        .find(|ca| ca.subject_key_id().as_deref() == Some(aki.as_slice()))
        .ok_or_else(|| DsError::UnknownIssuer {
            aki: hex::encode(&aki),
        })?;
    if tbs.issuer != issuer.inner().tbs_certificate.subject {
        return Err(DsError::IssuerNameMismatch);
    }
    cert.verify_issued_by(issuer, &SoftwareVerifier)
        .map_err(|e| DsError::BadIssuerSignature(e.to_string()))?;

    // Profile: keyUsage.
    let ku = get(oids::KEY_USAGE).ok_or(DsError::MissingExtension("keyUsage"))?;
    if !ku.critical {
        return Err(DsError::ExtensionNotCritical("keyUsage"));
    }
    let usage = KeyUsage::from_der(ku.value).map_err(|e| malformed("keyUsage", e))?;
    if !(usage.0.contains(KeyUsages::DigitalSignature) && usage.0.into_iter().count() == 1) {
        return Err(DsError::WrongKeyUsage(format!("{:?}", usage.0)));
    }

    // extendedKeyUsage.
    let eku = get(oids::EXT_KEY_USAGE).ok_or(DsError::MissingExtension("extendedKeyUsage"))?;
    if !eku.critical {
        return Err(DsError::ExtensionNotCritical("extendedKeyUsage"));
    }
    let purposes =
        ExtendedKeyUsage::from_der(eku.value).map_err(|e| malformed("extendedKeyUsage", e))?;
    if purposes.0 != [oids::MDL_DS] {
        let found: Vec<String> = purposes.0.iter().map(ToString::to_string).collect();
        return Err(DsError::WrongExtendedKeyUsage(found.join(", ")));
    }

    // basicConstraints: absent or CA=FALSE.
    if let Some(bc) = get(oids::BASIC_CONSTRAINTS) {
        let bc =
            BasicConstraints::from_der(bc.value).map_err(|e| malformed("basicConstraints", e))?;
        if bc.ca {
            return Err(DsError::IsCa);
        }
    }

    // Present and non-critical.
    for (oid, name) in [
        (oids::SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier"),
        (oids::AUTHORITY_KEY_IDENTIFIER, "authorityKeyIdentifier"),
        (oids::ISSUER_ALT_NAME, "issuerAltName"),
        (oids::CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints"),
    ] {
        match get(oid) {
            None => return Err(DsError::MissingExtension(name)),
            Some(e) if e.critical => return Err(DsError::ExtensionCritical(name)),
            Some(_) => {}
        }
    }
    if cert.subject_key_id().is_none_or(|ski| ski.is_empty()) {
        return Err(DsError::MalformedCertificate(
            "subjectKeyIdentifier does not decode to a key identifier".into(),
        ));
    }

    // Validity.
    let (not_before, not_after) = (cert.not_before(), cert.not_after());
    if not_after <= not_before {
        return Err(DsError::EmptyValidity {
            not_before,
            not_after,
        });
    }
    let length = not_after - not_before;
    if length > Duration::days(MAX_DS_VALIDITY_DAYS) {
        let secs = length.whole_seconds();
        return Err(DsError::ValidityTooLong {
            days: secs.div_euclid(86_400) + i64::from(secs.rem_euclid(86_400) != 0),
            max: MAX_DS_VALIDITY_DAYS,
        });
    }
    if not_before < issuer.not_before() || not_after > issuer.not_after() {
        return Err(DsError::OutsideIacaValidity);
    }

    // Subject C and ST.
    let (ds_c, ca_c) = (cert.country(), issuer.country());
    if ds_c.is_none() || ds_c != ca_c {
        return Err(DsError::CountryMismatch {
            ds: ds_c,
            iaca: ca_c,
        });
    }
    let (ds_st, ca_st) = (cert.state_or_province(), issuer.state_or_province());
    if ds_st != ca_st {
        return Err(DsError::StateMismatch {
            ds: ds_st,
            iaca: ca_st,
        });
    }

    if at > not_after {
        return Err(DsError::Expired { not_after });
    }

    Ok(DsCertificate {
        serial: serial_hex(&cert),
        issuer_ski: aki,
        cert,
    })
}
