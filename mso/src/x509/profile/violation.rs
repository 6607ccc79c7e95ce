//! What a profile inspection can find, one typed variant per rule, each with a stable code.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use super::super::oid;
use crate::crypto::algorithm::{Algorithm, Curve};

/// Which DN of the certificate a name finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameField {
    /// The issuer DN.
    Issuer,
    /// The subject DN.
    Subject,
}

impl NameField {
    fn label(self) -> &'static str {
        match self {
            NameField::Issuer => "issuer",
            NameField::Subject => "subject",
        }
    }
}

/// A problem with a distinguished name (RFC 5280 §4.1.2.4, Annex B).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NameProblem {
    /// The DN has no RDN.
    Empty,
    /// An RDN holds several attributes.
    MultiValuedRdn {
        /// How many.
        attributes: usize,
    },
    /// An attribute type the profile does not use.
    UnexpectedAttribute {
        /// Its type.
        oid: ObjectIdentifier,
    },
    /// An attribute value has a string type the profile does not allow (or invalid text).
    StringType {
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute value is empty.
    EmptyValue {
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute value is longer than RFC 5280's upper bound.
    TooLong {
        /// The attribute.
        attribute: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The upper bound.
        max: usize,
    },
    /// An attribute value has leading or trailing white space.
    Whitespace {
        /// The attribute.
        attribute: &'static str,
    },
    /// countryName is not an upper-case ISO 3166-1 alpha-2 code.
    Country {
        /// The value found.
        value: String,
    },
    /// An attribute that must appear exactly once (or at most once) appears `count` times.
    Count {
        /// The attribute.
        attribute: &'static str,
        /// How many were found.
        count: usize,
        /// Whether exactly one is required (else at most one).
        exactly_one: bool,
    },
}

/// A problem with the serial number (RFC 5280 §4.1.2.2), on the DER INTEGER content octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SerialProblem {
    /// No content octets.
    Empty,
    /// Negative.
    Negative,
    /// Zero.
    Zero,
    /// A redundant leading zero octet (not DER).
    NonMinimal,
    /// More than 20 octets.
    TooLong {
        /// Octets found.
        octets: usize,
    },
}

/// A problem with the issuerAltName extension (Annex B: rfc822Name and URI only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IanProblem {
    /// No names.
    Empty,
    /// A general name of another type.
    NameType,
    /// An rfc822Name that is not an e-mail address.
    Rfc822 {
        /// The value.
        value: String,
    },
    /// A URI that is not absolute.
    Uri {
        /// The value.
        value: String,
    },
}

/// A problem with the cRLDistributionPoints extension (Annex B: fullName http(s) URIs, no
/// reasons, no cRLIssuer).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CrlDpProblem {
    /// No distribution points.
    Empty,
    /// A distribution point with `reasons` or `cRLIssuer`.
    Fields,
    /// A distribution point without a fullName.
    NoFullName,
    /// A name that is not an http(s) URI (e.g. the dNSName of the Annex D certificates).
    NotHttpUri {
        /// The name, rendered.
        name: String,
    },
}

/// A problem with the authorityKeyIdentifier extension (Annex B: a keyIdentifier only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AkiProblem {
    /// No (or an empty) keyIdentifier.
    NoKeyIdentifier,
    /// authorityCertIssuer or authorityCertSerialNumber present.
    ExtraFields,
}

/// How an extension value fails its encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EncodingProblem {
    /// It decodes, but is not DER (e.g. trailing zero bits in a named bit list, or a DEFAULT
    /// value written out): its meaning is unambiguous.
    NotDer,
    /// It does not decode as its type.
    Undecodable {
        /// The decoder's message.
        reason: String,
    },
}

/// One way a certificate departs from its profile (ISO/IEC 18013-5 Annex B, RFC 5280, CPS
/// §7.1). [`Violation::code`] gives a stable identifier, `Display` a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Violation {
    /// Not an X.509 v3 certificate (RFC 5280 §4.1.2.1, CPS §7.1.1).
    NotV3,
    /// The serial number breaks RFC 5280 §4.1.2.2.
    Serial(SerialProblem),
    /// The signature algorithm is not ecdsa-with-SHA256/384/512 or Ed25519.
    SignatureAlgorithm {
        /// The algorithm OID.
        oid: ObjectIdentifier,
    },
    /// The signature AlgorithmIdentifier has parameters (RFC 5758 §3.2: absent).
    SignatureParameters,
    /// The signature algorithm is not the one the signing key's curve pairs with.
    SignatureAlgorithmForKey {
        /// The algorithm the certificate names.
        algorithm: Algorithm,
        /// The signing key's curve.
        curve: Curve,
    },
    /// issuerUniqueID or subjectUniqueID is present (RFC 5280 §4.1.2.8).
    UniqueIdentifiers,
    /// notAfter is not after notBefore.
    ValidityOrder {
        /// notBefore.
        not_before: OffsetDateTime,
        /// notAfter.
        not_after: OffsetDateTime,
    },
    /// A validity time is a GeneralizedTime before 2050 (RFC 5280 §4.1.2.5).
    TimeEncoding {
        /// `notBefore` or `notAfter`.
        field: &'static str,
    },
    /// The validity period is longer than the profile allows.
    ValidityTooLong {
        /// Its length in seconds, both ends included.
        seconds: i64,
        /// The limit, for messages (`457 days`, `240 months`).
        limit: String,
    },
    /// The validity period does not lie inside the issuer's.
    OutsideIssuerValidity,
    /// The subject public key is not a valid key on a supported curve.
    PublicKey {
        /// Why.
        reason: String,
    },
    /// An EC public key uses the compressed point format (Annex B: uncompressed).
    CompressedPoint,
    /// An IACA or link certificate whose issuer DN differs from its subject DN.
    NotSelfIssued,
    /// A DS certificate whose subject DN is its issuer's.
    SubjectIsIssuer,
    /// A problem with the issuer or subject DN.
    Name {
        /// Which DN.
        field: NameField,
        /// What.
        problem: NameProblem,
    },
    /// The certificate has no extensions.
    NoExtensions,
    /// An empty extensions SEQUENCE (RFC 5280: omit it).
    EmptyExtensions,
    /// An extension appears twice (RFC 5280 §4.2).
    DuplicateExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// An extension Annex B or the CPS forbids (policyMappings, nameConstraints,
    /// policyConstraints, inhibitAnyPolicy, freshestCRL, certificatePolicies).
    ForbiddenExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// An extension that is not part of the role's profile.
    UnexpectedExtension {
        /// Its OID.
        oid: ObjectIdentifier,
        /// Whether it is marked critical.
        critical: bool,
    },
    /// A critical extension this crate does not process: a relying party must refuse the
    /// certificate (RFC 5280 §4.2, CPS §7.1.9).
    UnknownCriticalExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// An extension the role's profile requires is absent.
    MissingExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// An extension is critical where the profile wants it non-critical, or the reverse.
    Criticality {
        /// Its OID.
        oid: ObjectIdentifier,
        /// Whether it is marked critical.
        critical: bool,
    },
    /// An extension's value does not decode, or is not DER.
    ExtensionEncoding {
        /// Its OID.
        oid: ObjectIdentifier,
        /// What is wrong with it.
        problem: EncodingProblem,
    },
    /// subjectKeyIdentifier is not RFC 5280 method 1 (SHA-1 of the public key).
    SkiMethod,
    /// authorityKeyIdentifier has the wrong form.
    Aki(AkiProblem),
    /// keyUsage does not fit the role.
    KeyUsage {
        /// What the role needs, for messages.
        expected: &'static str,
        /// The usages found.
        found: Vec<&'static str>,
    },
    /// basicConstraints does not fit the role.
    BasicConstraints {
        /// cA.
        ca: bool,
        /// pathLenConstraint.
        path_len: Option<u8>,
    },
    /// extendedKeyUsage does not fit the role.
    ExtendedKeyUsage {
        /// The purpose the role needs (`None`: the role needs none).
        expected: Option<ObjectIdentifier>,
        /// The purposes found.
        found: Vec<ObjectIdentifier>,
    },
    /// issuerAltName has the wrong form.
    IssuerAltName(IanProblem),
    /// cRLDistributionPoints has the wrong form.
    CrlDistributionPoints(CrlDpProblem),
    /// The issuer DN differs from the issuer certificate's subject DN.
    IssuerName,
    /// authorityKeyIdentifier differs from the issuer's subjectKeyIdentifier.
    AkiMismatch,
    /// The issuer certificate is not a CA with keyCertSign.
    IssuerNotCa,
    /// The issuer certificate's key is unusable.
    IssuerKey,
    /// The subject key is the issuer's key (a self-signed certificate, not a DS or link).
    SameKeyAsIssuer,
    /// A DS subject attribute (countryName, stateOrProvinceName) differs from the IACA's.
    SubjectAttributeMismatch {
        /// The attribute.
        attribute: &'static str,
        /// The certificate's values.
        subject: Vec<String>,
        /// The issuer's values.
        issuer: Vec<String>,
    },
}

/// Violations as one line for messages.
pub fn join(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn ext(oid: &ObjectIdentifier) -> String {
    match oid::extension_name(oid) {
        Some(name) => name.to_owned(),
        None => format!("extension {oid}"),
    }
}

impl Violation {
    /// A stable identifier (the same codes the root CA's lint reports), e.g.
    /// `annexb.ext.forbidden` or `rfc5280.serial.zero`.
    pub fn code(&self) -> &'static str {
        use Violation as V;
        match self {
            V::NotV3 => "rfc5280.version",
            V::Serial(SerialProblem::Empty) => "rfc5280.serial.malformed",
            V::Serial(SerialProblem::Negative) => "rfc5280.serial.negative",
            V::Serial(SerialProblem::Zero) => "rfc5280.serial.zero",
            V::Serial(SerialProblem::NonMinimal) => "rfc5280.serial.non_minimal",
            V::Serial(SerialProblem::TooLong { .. }) => "rfc5280.serial.too_long",
            V::SignatureAlgorithm { .. } | V::SignatureAlgorithmForKey { .. } => {
                "annexb.signature.algorithm"
            }
            V::SignatureParameters => "rfc5758.signature.parameters",
            V::UniqueIdentifiers => "rfc5280.unique_id",
            V::ValidityOrder { .. } => "rfc5280.validity.order",
            V::TimeEncoding { .. } => "rfc5280.time.encoding",
            V::ValidityTooLong { .. } => "annexb.validity.too_long",
            V::OutsideIssuerValidity => "annexb.ds.validity_inside_iaca",
            V::PublicKey { .. } => "spki.invalid",
            V::CompressedPoint => "annexb.spki.point_format",
            V::NotSelfIssued => "annexb.ca.self_issued",
            V::SubjectIsIssuer => "annexb.ds.subject",
            V::Name { problem, .. } => match problem {
                NameProblem::Empty => "rfc5280.name.empty",
                NameProblem::MultiValuedRdn { .. } => "annexb.name.multi_valued_rdn",
                NameProblem::UnexpectedAttribute { .. } => "annexb.name.attribute",
                NameProblem::StringType { .. } => "rfc5280.name.string_type",
                NameProblem::EmptyValue { .. } => "rfc5280.name.empty_value",
                NameProblem::TooLong { .. } => "rfc5280.name.upper_bound",
                NameProblem::Whitespace { .. } => "name.whitespace",
                NameProblem::Country { .. } => "annexb.name.country",
                NameProblem::Count { .. } => "annexb.name.count",
            },
            V::NoExtensions | V::MissingExtension { .. } => "annexb.ext.missing",
            V::EmptyExtensions => "rfc5280.ext.empty",
            V::DuplicateExtension { .. } => "rfc5280.ext.duplicate",
            V::ForbiddenExtension { .. } => "annexb.ext.forbidden",
            V::UnexpectedExtension { .. } => "annexb.ext.unexpected",
            V::UnknownCriticalExtension { .. } => "rfc5280.ext.unknown_critical",
            V::Criticality { .. } => "annexb.ext.criticality",
            V::ExtensionEncoding { .. } => "der.extension",
            V::SkiMethod => "annexb.ski.method1",
            V::Aki(AkiProblem::NoKeyIdentifier) => "annexb.aki.key_identifier",
            V::Aki(AkiProblem::ExtraFields) => "annexb.aki.fields",
            V::KeyUsage { .. } => "annexb.ku",
            V::BasicConstraints { .. } => "annexb.bc",
            V::ExtendedKeyUsage { .. } => "annexb.eku",
            V::IssuerAltName(p) => match p {
                IanProblem::Empty => "annexb.ian",
                IanProblem::NameType => "annexb.ian.type",
                IanProblem::Rfc822 { .. } => "annexb.ian.rfc822",
                IanProblem::Uri { .. } => "annexb.ian.uri",
            },
            V::CrlDistributionPoints(p) => match p {
                CrlDpProblem::Empty => "annexb.crldp",
                CrlDpProblem::Fields => "annexb.crldp.fields",
                CrlDpProblem::NoFullName => "annexb.crldp.full_name",
                CrlDpProblem::NotHttpUri { .. } => "annexb.crldp.uri",
            },
            V::IssuerName => "chain.issuer_name",
            V::AkiMismatch => "chain.aki",
            V::IssuerNotCa => "chain.issuer_not_ca",
            V::IssuerKey => "chain.issuer_key",
            V::SameKeyAsIssuer => "chain.same_key",
            V::SubjectAttributeMismatch { .. } => "annexb.ds.subject_c_st",
        }
    }
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use Violation as V;
        match self {
            V::NotV3 => write!(f, "certificates must be X.509 v3"),
            V::Serial(p) => match p {
                SerialProblem::Empty => write!(f, "empty serial number"),
                SerialProblem::Negative => write!(f, "serial number is negative"),
                SerialProblem::Zero => write!(f, "serial number is zero"),
                SerialProblem::NonMinimal => {
                    write!(
                        f,
                        "serial number INTEGER has a redundant leading zero octet"
                    )
                }
                SerialProblem::TooLong { octets } => {
                    write!(f, "serial number has {octets} octets (at most 20)")
                }
            },
            V::SignatureAlgorithm { oid } => write!(
                f,
                "signature algorithm {oid} is not ecdsa-with-SHA256/384/512 or Ed25519"
            ),
            V::SignatureParameters => write!(
                f,
                "ECDSA/Ed25519 signature AlgorithmIdentifier parameters must be absent"
            ),
            V::SignatureAlgorithmForKey { algorithm, curve } => write!(
                f,
                "signature algorithm {algorithm} does not fit the signing {} key",
                curve.name()
            ),
            V::UniqueIdentifiers => {
                write!(f, "issuerUniqueID/subjectUniqueID must not be used")
            }
            V::ValidityOrder {
                not_before,
                not_after,
            } => write!(
                f,
                "notAfter {not_after} must be after notBefore {not_before}"
            ),
            V::TimeEncoding { field } => write!(f, "{field} before 2050 must be UTCTime"),
            V::ValidityTooLong { seconds, limit } => write!(
                f,
                "validity of {seconds} s (inclusive) exceeds the profile maximum of {limit}"
            ),
            V::OutsideIssuerValidity => {
                write!(f, "the validity must lie inside the issuer's validity")
            }
            V::PublicKey { reason } => write!(f, "subjectPublicKeyInfo: {reason}"),
            V::CompressedPoint => {
                write!(f, "EC public keys must use the uncompressed point format")
            }
            V::NotSelfIssued => write!(
                f,
                "IACA and link certificates must have issuer = subject (same DN across \
                 rollovers, so a link certificate is self-issued and pathLen 0 holds)"
            ),
            V::SubjectIsIssuer => write!(f, "the DS subject must differ from the IACA subject"),
            V::Name { field, problem } => {
                let which = field.label();
                match problem {
                    NameProblem::Empty => write!(f, "{which} DN is empty"),
                    NameProblem::MultiValuedRdn { attributes } => write!(
                        f,
                        "{which} has an RDN with {attributes} attributes (use one per RDN)"
                    ),
                    NameProblem::UnexpectedAttribute { oid } => {
                        write!(f, "{which} has an unexpected attribute type {oid}")
                    }
                    NameProblem::StringType { attribute } => write!(
                        f,
                        "{which} {attribute} has a string type the profile does not allow"
                    ),
                    NameProblem::EmptyValue { attribute } => {
                        write!(f, "{which} {attribute} is empty")
                    }
                    NameProblem::TooLong {
                        attribute,
                        chars,
                        max,
                    } => write!(
                        f,
                        "{which} {attribute} has {chars} characters (at most {max})"
                    ),
                    NameProblem::Whitespace { attribute } => {
                        write!(f, "{which} {attribute} has leading or trailing white space")
                    }
                    NameProblem::Country { value } => write!(
                        f,
                        "{which} countryName {value:?} must be an upper-case ISO 3166-1 \
                         alpha-2 code"
                    ),
                    NameProblem::Count {
                        attribute,
                        count,
                        exactly_one,
                    } => write!(
                        f,
                        "{which} has {count} {attribute} attributes ({})",
                        if *exactly_one {
                            "exactly one"
                        } else {
                            "at most one"
                        }
                    ),
                }
            }
            V::NoExtensions => write!(f, "the certificate has no extensions"),
            V::EmptyExtensions => write!(f, "an empty extensions SEQUENCE must be omitted"),
            V::DuplicateExtension { oid } => write!(f, "{} appears twice", ext(oid)),
            V::ForbiddenExtension { oid } => write!(f, "{} must not be present", ext(oid)),
            V::UnexpectedExtension { oid, critical } => write!(
                f,
                "{} ({}) is not part of the profile",
                ext(oid),
                if *critical {
                    "critical"
                } else {
                    "non-critical"
                }
            ),
            V::UnknownCriticalExtension { oid } => write!(
                f,
                "critical {} is not understood: a relying party must refuse the certificate",
                ext(oid)
            ),
            V::MissingExtension { oid } => write!(f, "{} is required", ext(oid)),
            V::Criticality { oid, critical } => write!(
                f,
                "{} must be {}",
                ext(oid),
                if *critical {
                    "non-critical"
                } else {
                    "critical"
                }
            ),
            V::ExtensionEncoding { oid, problem } => match problem {
                EncodingProblem::NotDer => write!(f, "{} is not DER-encoded", ext(oid)),
                EncodingProblem::Undecodable { reason } => {
                    write!(f, "{} does not decode: {reason}", ext(oid))
                }
            },
            V::SkiMethod => write!(
                f,
                "subjectKeyIdentifier must be the SHA-1 of the subjectPublicKey (RFC 5280 \
                 method 1)"
            ),
            V::Aki(AkiProblem::NoKeyIdentifier) => {
                write!(f, "authorityKeyIdentifier must have a keyIdentifier")
            }
            V::Aki(AkiProblem::ExtraFields) => {
                write!(f, "authorityKeyIdentifier must have only a keyIdentifier")
            }
            V::KeyUsage { expected, found } => write!(
                f,
                "keyUsage must be {expected}, found [{}]",
                found.join(", ")
            ),
            V::BasicConstraints { ca, path_len } => write!(
                f,
                "basicConstraints CA={ca}, pathLen={} does not fit the role",
                path_len.map_or_else(|| "none".to_owned(), |n| n.to_string())
            ),
            V::ExtendedKeyUsage { expected, found } => {
                let found: Vec<String> = found.iter().map(ToString::to_string).collect();
                match expected {
                    Some(e) => write!(
                        f,
                        "extendedKeyUsage must be {e}, found [{}]",
                        found.join(", ")
                    ),
                    None => write!(
                        f,
                        "extendedKeyUsage must be absent, found [{}]",
                        found.join(", ")
                    ),
                }
            }
            V::IssuerAltName(p) => match p {
                IanProblem::Empty => write!(f, "issuerAltName is empty"),
                IanProblem::NameType => {
                    write!(f, "issuerAltName may hold only rfc822Name and URI entries")
                }
                IanProblem::Rfc822 { value } => {
                    write!(f, "issuerAltName {value:?} is not an e-mail address")
                }
                IanProblem::Uri { value } => {
                    write!(f, "issuerAltName {value:?} is not an absolute URI")
                }
            },
            V::CrlDistributionPoints(p) => match p {
                CrlDpProblem::Empty => write!(f, "cRLDistributionPoints is empty"),
                CrlDpProblem::Fields => {
                    write!(f, "distribution points must not have reasons or cRLIssuer")
                }
                CrlDpProblem::NoFullName => {
                    write!(f, "distribution points must have a fullName with URIs")
                }
                CrlDpProblem::NotHttpUri { name } => {
                    write!(f, "distribution point name {name} is not an http(s) URI")
                }
            },
            V::IssuerName => write!(
                f,
                "issuer DN differs from the issuer certificate's subject DN"
            ),
            V::AkiMismatch => write!(
                f,
                "authorityKeyIdentifier must equal the issuer's subjectKeyIdentifier"
            ),
            V::IssuerNotCa => write!(f, "the issuer certificate is not a CA with keyCertSign"),
            V::IssuerKey => write!(f, "the issuer public key is unusable"),
            V::SameKeyAsIssuer => write!(
                f,
                "the subject key is the issuer's key (a self-signed certificate is an IACA, \
                 not a DS or link certificate)"
            ),
            V::SubjectAttributeMismatch {
                attribute,
                subject,
                issuer,
            } => write!(
                f,
                "subject {attribute} {subject:?} must equal the issuer's {issuer:?}"
            ),
        }
    }
}
