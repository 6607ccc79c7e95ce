//! The certificate profiles of ISO/IEC 18013-5 Annex B (and Annex C for the VICAL signer), as
//! typed findings: `inspect_*` reads a TBSCertificate (and its issuer's, where the profile
//! relates the two) and returns every [`Violation`] found, each classed as a [`Severity`].
//!
//! Both sides of the system call these functions, so they cannot disagree about the profile:
//!
//! - the root CA lints every certificate before its key signs it, and refuses **any** finding
//!   (strict when producing); it adds its own policy numbers on top (curves, validity periods,
//!   serial entropy), which are configuration, not profile;
//! - the issuer checks the DS certificate the root returned the same way before installing it;
//! - relying parties (document verification, the trust store, the VICAL reader, list tokens)
//!   refuse [`Severity::Error`] findings and report [`Severity::Warning`]s (tolerant when
//!   consuming).
//!
//! # Which findings are errors
//!
//! A finding is an **error** when the certificate cannot safely be used for its role: it does
//! not fit the role (key usage, extended key usage or CA flag wrong or missing); it carries
//! something a relying party must understand and this crate does not (an unknown critical
//! extension, CPS §7.1.9, or an extension Annex B forbids); it cannot be interpreted (not v3,
//! an extension twice or undecodable, an unusable key or signature algorithm, notAfter before
//! notBefore); or it contradicts its issuer where verifiers rely on the relation (issuer DN,
//! the issuer not a CA, the issuer's own key, a DS country or state other than the IACA's).
//!
//! A finding is a **warning** when it departs from the profile without changing what the
//! certificate authorises or how it is verified: encodings (string types, a GeneralizedTime
//! before 2050, a compressed point, a non-DER extension, signature parameters), informational
//! extensions missing, unexpected or marked differently (SKI, AKI, IAN, CRLDP, criticality of
//! keyUsage), their form (a dNSName distribution point as in the Annex D certificates, an SKI
//! not computed by method 1, an AKI that does not name the issuer key: the signature decides),
//! a validity longer than Annex B allows or outside the issuer's (the path checks both at the
//! verification time), an odd serial number.

mod checks;
pub(crate) mod role;

pub(crate) use checks::UNDERSTOOD;
pub(crate) mod violation;

use x509_cert::TbsCertificate;

pub use role::Role;
pub use violation::{
    join, AkiProblem, CrlDpProblem, EncodingProblem, IanProblem, NameField, NameProblem,
    SerialProblem, Violation,
};

use super::oid;

/// How a relying party treats a finding (a producer refuses both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A deviation that does not change what the certificate authorises: reported, accepted.
    Warning,
    /// The certificate cannot be used for its role: refused.
    Error,
}

/// One violation with its severity for the inspected role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// What was found.
    pub violation: Violation,
}

impl core::fmt::Display for Finding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "[{sev}] {}: {}", self.violation.code(), self.violation)
    }
}

/// The result of inspecting one certificate against its role's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    role: Role,
    findings: Vec<Finding>,
}

impl Inspection {
    /// The role inspected for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Every finding, in the order checked.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The findings, consumed.
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    /// The error findings.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.of(Severity::Error)
    }

    /// The warning findings.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.of(Severity::Warning)
    }

    fn of(&self, severity: Severity) -> impl Iterator<Item = &Violation> {
        self.findings
            .iter()
            .filter(move |f| f.severity == severity)
            .map(|f| &f.violation)
    }

    /// Whether a relying party must refuse the certificate.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Whether nothing at all was found (what a producer requires).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Inspects `tbs` against the profile of `role`. `issuer` is the issuer's TBSCertificate, for
/// the checks that relate the two (names, key identifiers, the issuer's authority, a DS's
/// country and validity); `None` skips them. For [`Role::Iaca`] the certificate is its own
/// issuer and `issuer` is ignored.
pub fn inspect(role: Role, tbs: &TbsCertificate, issuer: Option<&TbsCertificate>) -> Inspection {
    let issuer = match role {
        Role::Iaca => Some(tbs),
        _ => issuer,
    };
    let findings = checks::run(role, tbs, issuer)
        .into_iter()
        .map(|violation| Finding {
            severity: severity(role, &violation),
            violation,
        })
        .collect();
    Inspection { role, findings }
}

/// Inspects a self-signed IACA certificate (see [`inspect`]).
pub fn inspect_iaca(tbs: &TbsCertificate) -> Inspection {
    inspect(Role::Iaca, tbs, None)
}

/// Inspects a link certificate against the IACA certificate whose key signed it.
pub fn inspect_link(tbs: &TbsCertificate, issuer: Option<&TbsCertificate>) -> Inspection {
    inspect(Role::Link, tbs, issuer)
}

/// Inspects a Document Signer certificate (against its IACA when given).
pub fn inspect_ds(tbs: &TbsCertificate, issuer: Option<&TbsCertificate>) -> Inspection {
    inspect(Role::DocumentSigner, tbs, issuer)
}

/// Inspects a status or identifier list signer certificate (against its IACA when given).
pub fn inspect_list_signer(tbs: &TbsCertificate, issuer: Option<&TbsCertificate>) -> Inspection {
    inspect(Role::ListSigner, tbs, issuer)
}

/// Inspects a VICAL signer certificate (against its issuer when given).
pub fn inspect_vical_signer(tbs: &TbsCertificate, issuer: Option<&TbsCertificate>) -> Inspection {
    inspect(Role::VicalSigner, tbs, issuer)
}

/// The name rules of the profiles (RFC 5280 §4.1.2.4 and Annex B) applied to one DN, e.g. a
/// CRL's issuer: a CRL shares them with the certificates.
pub fn inspect_name(dn: &x509_cert::name::Name, field: NameField) -> Vec<Violation> {
    let mut out = Vec::new();
    checks::name_rules(dn, field, &mut out);
    out
}

/// The signature AlgorithmIdentifier rules (an algorithm of the profile, parameters absent per
/// RFC 5758 / RFC 8410), for a CRL's signature field as for a certificate's.
pub fn inspect_signature_algorithm(alg: &::spki::AlgorithmIdentifierOwned) -> Vec<Violation> {
    let mut out = Vec::new();
    checks::signature_algorithm(alg, &mut out);
    out
}

/// Decodes an extension value as `T`, with a [`Violation::ExtensionEncoding`] if it does not
/// decode or is not DER (for a CRL's extensions, which the certificate checks do not see).
pub fn inspect_extension<'a, T: der::Decode<'a> + der::Encode>(
    ext: &'a x509_cert::ext::Extension,
) -> (Option<T>, Vec<Violation>) {
    let mut out = Vec::new();
    let value = checks::decode::<T>(ext, &mut out);
    (value, out)
}

/// The Annex B form of an authorityKeyIdentifier: exactly a keyIdentifier.
pub fn inspect_aki(aki: &x509_cert::ext::pkix::AuthorityKeyIdentifier) -> Vec<Violation> {
    let mut out = Vec::new();
    checks::authority_key_identifier(aki, &mut out);
    out
}

/// The key usages of which a certificate of `role` needs at least one (names as
/// [`Violation::KeyUsage`] lists them).
pub(crate) fn required_usage(role: Role) -> &'static [&'static str] {
    match role {
        Role::Iaca | Role::Link => &["keyCertSign"],
        Role::DocumentSigner | Role::ListSigner => &["digitalSignature"],
        Role::VicalSigner => &["digitalSignature", "contentCommitment"],
    }
}

/// The relying party's class of `v` for `role`: the rule of the [module
/// documentation](self), written out.
fn severity(role: Role, v: &Violation) -> Severity {
    use Severity::{Error, Warning};
    use Violation as V;
    let annex_b_role = matches!(role, Role::Iaca | Role::Link | Role::DocumentSigner);
    match v {
        // Cannot be interpreted, or the key/signature cannot be used.
        V::NotV3
        | V::SignatureAlgorithm { .. }
        | V::ValidityOrder { .. }
        | V::PublicKey { .. }
        | V::DuplicateExtension { .. }
        | V::UnknownCriticalExtension { .. }
        | V::IssuerName
        | V::IssuerNotCa
        | V::IssuerKey
        | V::SameKeyAsIssuer => Error,
        // Role-defining extensions: the usage the role needs missing, or the CA flag wrong, is
        // refused; extra usages or another pathLen beside the right flag are tolerated.
        V::KeyUsage { found, .. } => {
            if required_usage(role).iter().any(|u| found.contains(u)) {
                Warning
            } else {
                Error
            }
        }
        V::BasicConstraints { ca, .. } => {
            if role.is_ca() && *ca {
                Warning
            } else {
                Error
            }
        }
        V::ExtendedKeyUsage { expected, found } => {
            // A signer role's own purpose missing, a CA with a purpose, or a certificate made
            // for another mdoc role: refused. Extra purposes beside the right one: tolerated.
            match expected {
                Some(e) if found.contains(e) => Warning,
                _ => Error,
            }
        }
        V::MissingExtension { oid } => match role {
            Role::Iaca | Role::Link if *oid == oid::BASIC_CONSTRAINTS => Error,
            Role::DocumentSigner if *oid == oid::KEY_USAGE || *oid == oid::EXT_KEY_USAGE => Error,
            Role::ListSigner if *oid == oid::KEY_USAGE => Error,
            Role::VicalSigner if *oid == oid::EXT_KEY_USAGE => Error,
            _ => Warning,
        },
        V::ExtensionEncoding { oid, problem } => {
            // An extension whose meaning the role depends on must decode; a non-DER but
            // decodable value decodes to the same meaning (rcgen, for one, writes keyUsage
            // with trailing zero bits).
            let role_defining =
                [oid::KEY_USAGE, oid::EXT_KEY_USAGE, oid::BASIC_CONSTRAINTS].contains(oid);
            if role_defining && matches!(problem, EncodingProblem::Undecodable { .. }) {
                Error
            } else {
                Warning
            }
        }
        V::ForbiddenExtension { oid } if *oid == oid::CERTIFICATE_POLICIES => Warning,
        V::ForbiddenExtension { .. } => Error,
        V::UnexpectedExtension { oid, .. } if role.is_ca() && *oid == oid::EXT_KEY_USAGE => Error,
        V::NotSelfIssued if role.is_ca() => Error,
        V::SubjectAttributeMismatch { .. } => Error,
        V::Name {
            field: NameField::Subject,
            problem:
                NameProblem::Count {
                    attribute: "countryName",
                    ..
                },
        } if annex_b_role => Error,
        V::NoExtensions if role.is_ca() => Error,
        // Everything else departs from the profile without changing what the certificate
        // authorises.
        V::Serial(_)
        | V::SignatureParameters
        | V::SignatureAlgorithmForKey { .. }
        | V::UniqueIdentifiers
        | V::TimeEncoding { .. }
        | V::ValidityTooLong { .. }
        | V::OutsideIssuerValidity
        | V::CompressedPoint
        | V::NotSelfIssued
        | V::SubjectIsIssuer
        | V::Name { .. }
        | V::NoExtensions
        | V::EmptyExtensions
        | V::UnexpectedExtension { .. }
        | V::Criticality { .. }
        | V::SkiMethod
        | V::Aki(_)
        | V::IssuerAltName(_)
        | V::CrlDistributionPoints(_)
        | V::AkiMismatch => Warning,
    }
}
