//! Installing the certificate the offline root returned for a DS key: it must certify that
//! key, chain to a configured IACA ([`mso::x509::path`]) and fit the Document Signer profile
//! ([`mso::x509::profile::inspect_ds`]): the same profile the root CA lints before signing and
//! that verifiers check.
//!
//! The issuer is stricter than a verifier: besides every error-class finding it refuses the
//! findings about what the certificate asserts — its usages and purposes, its validity (457
//! days, inside the IACA's), the profile's extensions present and marked as listed, the key
//! identifiers and the subject's C and ST — because every document it signs would carry them.
//! Findings about the encoding only (string types, a non-DER but unambiguous extension value,
//! an extension the profile does not list) are kept as warnings on the installed certificate.

use mso::crypto::{DefaultVerifier, Signer};
use mso::x509::path::{self, PathPolicy};
use mso::x509::profile::{self, Finding, Role, Severity, Violation};
use mso::x509::{Certificate, TrustAnchors};
use time::OffsetDateTime;

use super::error::{DsError, Result};

/// A DS certificate that passed [`install_certificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsCertificate {
    cert: Certificate,
    serial: String,
    issuer_ski: Vec<u8>,
    warnings: Vec<Violation>,
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

    /// The profile findings tolerated at installation (encoding only).
    pub fn warnings(&self) -> &[Violation] {
        &self.warnings
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
    hex::encode(cert.serial_number())
}

/// Checks `cert_der`, the certificate returned for the DS key `key`, and accepts it if:
///
/// - it parses (DER X.509) and certifies exactly `key`'s public key;
/// - it is issued by one of `iaca` (names, authorityKeyIdentifier first, the IACA key's
///   signature, the IACA's authority to sign certificates);
/// - the Document Signer profile finds nothing that [`refused_at_install`]: keyUsage critical
///   and digitalSignature only; extendedKeyUsage critical and exactly id-mdl-kp-mdlDS; not a
///   CA; subjectKeyIdentifier, authorityKeyIdentifier (= the IACA's SKI), issuerAltName and
///   cRLDistributionPoints present and non-critical; validity at most 457 days and inside the
///   IACA's; subject C and ST equal to the IACA's; v3; …;
/// - it has not expired at `at` (a certificate that is not yet valid may be installed ahead of
///   a rotation; the inventory will not sign with it before its notBefore).
pub fn install_certificate(
    cert_der: &[u8],
    key: &dyn Signer,
    iaca: &[Certificate],
    at: OffsetDateTime,
) -> Result<DsCertificate> {
    install_as(Role::DocumentSigner, cert_der, key, iaca, at)
}

/// Checks `cert_der`, the certificate returned for the list signer key `key`, as
/// [`install_certificate`] checks a DS but against the MSO revocation list signer profile
/// (ISO/IEC 18013-5 second edition, Table B.9): issued directly by a configured IACA,
/// keyUsage critical and digitalSignature only, subject and authority key identifiers,
/// validity at most 1187 days and inside the IACA's, and no extendedKeyUsage at all (the
/// root's `sign-list-signer` writes none; a DS certificate is refused here, so a key never
/// signs both MSOs and lists).
pub fn install_list_signer_certificate(
    cert_der: &[u8],
    key: &dyn Signer,
    iaca: &[Certificate],
    at: OffsetDateTime,
) -> Result<DsCertificate> {
    install_as(Role::ListSigner, cert_der, key, iaca, at)
}

fn install_as(
    role: Role,
    cert_der: &[u8],
    key: &dyn Signer,
    iaca: &[Certificate],
    at: OffsetDateTime,
) -> Result<DsCertificate> {
    let cert = Certificate::from_der(cert_der)
        .map_err(|e| DsError::MalformedCertificate(format!("not an X.509 certificate: {e}")))?;
    let cert_key = cert
        .public_key()
        .map_err(|e| DsError::MalformedCertificate(format!("subject public key: {e}")))?;
    if cert_key != key.public_key().map_err(DsError::Signer)? {
        return Err(DsError::KeyMismatch);
    }

    // Validity at `at` is the install's own rule (below), not the path's.
    let anchors = TrustAnchors::new(iaca.to_vec());
    let policy = PathPolicy {
        check_validity: false,
        inspect_leaf: false,
        ..PathPolicy::default()
    };
    let verified = path::validate_with(&cert, &[], &anchors, at, role, &DefaultVerifier, &policy)
        .map_err(DsError::Untrusted)?;
    let issuer = verified.anchor();

    let mut findings = profile::inspect(role, cert.tbs(), Some(issuer.tbs())).into_findings();
    if role == Role::ListSigner {
        // A relying party tolerates a DS signing lists (the first edition's practice); the
        // issuer installs only a certificate made for lists.
        if let Ok(Some(eku)) = cert.extended_key_usage() {
            findings.push(Finding {
                severity: Severity::Error,
                violation: Violation::ExtendedKeyUsage {
                    expected: None,
                    found: eku,
                },
            });
        }
    }
    if findings.iter().any(refused_at_install) {
        return Err(DsError::Profile { findings });
    }
    let warnings = findings.into_iter().map(|f| f.violation).collect();

    let not_after = cert.not_after();
    if at > not_after {
        return Err(DsError::Expired { not_after });
    }
    let issuer_ski = issuer.subject_key_id().unwrap_or_default();
    Ok(DsCertificate {
        serial: serial_hex(&cert),
        issuer_ski,
        cert,
        warnings,
    })
}

/// Whether the issuer refuses a DS certificate with this finding: every error, and every
/// warning about what the certificate asserts rather than how it is encoded.
pub fn refused_at_install(finding: &Finding) -> bool {
    use Violation as V;
    finding.severity == Severity::Error
        || matches!(
            finding.violation,
            V::ValidityTooLong { .. }
                | V::OutsideIssuerValidity
                | V::NoExtensions
                | V::MissingExtension { .. }
                | V::Criticality { .. }
                | V::KeyUsage { .. }
                | V::ExtendedKeyUsage { .. }
                | V::BasicConstraints { .. }
                | V::ForbiddenExtension { .. }
                | V::SkiMethod
                | V::Aki(_)
                | V::AkiMismatch
                | V::IssuerAltName(_)
                | V::CrlDistributionPoints(_)
                | V::SubjectAttributeMismatch { .. }
                | V::Serial(_)
        )
}
