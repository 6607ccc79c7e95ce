//! The checks behind [`super::inspect`]: each reads one part of the TBSCertificate and records
//! the violations it finds. Severity is decided afterwards, per role, in one place.

use der::asn1::{ObjectIdentifier, PrintableStringRef};
use der::{Decode, Encode, Tag, Tagged};
use time::Duration;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::TbsCertificate;

use super::super::{name, oid, policy, signature, spki, time as x509_time};
use super::{
    AkiProblem, CrlDpProblem, EncodingProblem, IanProblem, NameField, NameProblem, Role,
    SerialProblem, Violation,
};

/// Every check for `role`; `issuer` is `tbs` itself for an IACA.
pub(super) fn run(
    role: Role,
    tbs: &TbsCertificate,
    issuer: Option<&TbsCertificate>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    if tbs.version != Version::V3 {
        out.push(Violation::NotV3);
    }
    serial(tbs.serial_number.as_bytes(), &mut out);
    signature_algorithm(&tbs.signature, &mut out);
    name_rules(&tbs.issuer, NameField::Issuer, &mut out);
    name_rules(&tbs.subject, NameField::Subject, &mut out);
    let self_issued = tbs.issuer == tbs.subject;
    if role.is_ca() && !self_issued {
        out.push(Violation::NotSelfIssued);
    }
    if role == Role::DocumentSigner && self_issued {
        out.push(Violation::SubjectIsIssuer);
    }
    validity(tbs, role, &mut out);
    if tbs.issuer_unique_id.is_some() || tbs.subject_unique_id.is_some() {
        out.push(Violation::UniqueIdentifiers);
    }
    public_key(tbs, &mut out);
    extensions(tbs, role, &mut out);
    if let Some(issuer) = issuer {
        relation(tbs, role, issuer, &mut out);
    }
    out
}

/// Serial number rules on the DER INTEGER content octets (RFC 5280 §4.1.2.2).
fn serial(content: &[u8], out: &mut Vec<Violation>) {
    let problem = match content {
        [] => Some(SerialProblem::Empty),
        [first, ..] if first & 0x80 != 0 => Some(SerialProblem::Negative),
        [0] => Some(SerialProblem::Zero),
        [0, second, ..] if second & 0x80 == 0 => Some(SerialProblem::NonMinimal),
        _ if content.len() > 20 => Some(SerialProblem::TooLong {
            octets: content.len(),
        }),
        _ => None,
    };
    out.extend(problem.map(Violation::Serial));
}

pub(super) fn signature_algorithm(
    alg: &::spki::AlgorithmIdentifierOwned,
    out: &mut Vec<Violation>,
) {
    if signature::algorithm_from_oid(&alg.oid).is_none() {
        out.push(Violation::SignatureAlgorithm { oid: alg.oid });
    } else if alg.parameters.is_some() {
        out.push(Violation::SignatureParameters);
    }
}

/// (attribute, label, max characters, PrintableString only): the attribute types the profile
/// uses, with RFC 5280 Appendix A upper bounds.
const NAME_ATTRIBUTES: &[(ObjectIdentifier, &str, usize, bool)] = &[
    (oid::COUNTRY_NAME, "countryName", 2, true),
    (
        oid::STATE_OR_PROVINCE_NAME,
        "stateOrProvinceName",
        128,
        false,
    ),
    (oid::LOCALITY_NAME, "localityName", 128, false),
    (oid::ORGANIZATION_NAME, "organizationName", 64, false),
    (
        oid::ORGANIZATIONAL_UNIT_NAME,
        "organizationalUnitName",
        64,
        false,
    ),
    (oid::COMMON_NAME, "commonName", 64, false),
    (oid::SERIAL_NUMBER, "serialNumber", 64, true),
    (
        oid::ORGANIZATION_IDENTIFIER,
        "organizationIdentifier",
        64,
        false,
    ),
];

pub(super) fn name_rules(dn: &Name, field: NameField, out: &mut Vec<Violation>) {
    let mut push = |problem| out.push(Violation::Name { field, problem });
    if dn.0.is_empty() {
        push(NameProblem::Empty);
        return;
    }
    for rdn in &dn.0 {
        if rdn.0.len() != 1 {
            push(NameProblem::MultiValuedRdn {
                attributes: rdn.0.len(),
            });
        }
        for atv in rdn.0.iter() {
            let Some(&(_, attribute, max, printable_only)) =
                NAME_ATTRIBUTES.iter().find(|(o, ..)| *o == atv.oid)
            else {
                push(NameProblem::UnexpectedAttribute { oid: atv.oid });
                continue;
            };
            let text = match atv.value.tag() {
                Tag::PrintableString => PrintableStringRef::new(atv.value.value())
                    .ok()
                    .map(|s| s.as_str()),
                Tag::Utf8String if !printable_only => core::str::from_utf8(atv.value.value()).ok(),
                _ => None,
            };
            let Some(text) = text else {
                push(NameProblem::StringType { attribute });
                continue;
            };
            let chars = text.chars().count();
            if chars == 0 {
                push(NameProblem::EmptyValue { attribute });
            } else if chars > max {
                push(NameProblem::TooLong {
                    attribute,
                    chars,
                    max,
                });
            }
            if text.trim() != text {
                push(NameProblem::Whitespace { attribute });
            }
            if atv.oid == oid::COUNTRY_NAME
                && !(chars == 2 && text.bytes().all(|b| b.is_ascii_uppercase()))
            {
                push(NameProblem::Country {
                    value: text.to_owned(),
                });
            }
        }
    }
    for (attr, attribute, exactly_one) in [
        (oid::COUNTRY_NAME, "countryName", true),
        (oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName", false),
        (oid::COMMON_NAME, "commonName", true),
    ] {
        let count = name::attributes(dn, attr).count();
        if count > 1 || (exactly_one && count == 0) {
            push(NameProblem::Count {
                attribute,
                count,
                exactly_one,
            });
        }
    }
}

/// Validity order, encoding and the Annex B maximum for the role.
fn validity(tbs: &TbsCertificate, role: Role, out: &mut Vec<Violation>) {
    let v = &tbs.validity;
    for (t, field) in [(&v.not_before, "notBefore"), (&v.not_after, "notAfter")] {
        if !x509_time::is_rfc5280_encoding(t) {
            out.push(Violation::TimeEncoding { field });
        }
    }
    let (not_before, not_after) = (
        x509_time::to_datetime(v.not_before),
        x509_time::to_datetime(v.not_after),
    );
    if not_after <= not_before {
        out.push(Violation::ValidityOrder {
            not_before,
            not_after,
        });
        return;
    }
    let length = x509_time::inclusive_length(not_before, not_after);
    let (too_long, limit) = match role {
        Role::Iaca | Role::Link => {
            let months = policy::MAX_IACA_VALIDITY_MONTHS;
            let end = x509_time::add_months(not_before, months);
            (
                end.is_none_or(|end| not_after >= end),
                format!("{months} months"),
            )
        }
        Role::DocumentSigner | Role::ListSigner => {
            let days = if role == Role::ListSigner {
                policy::MAX_LIST_SIGNER_VALIDITY_DAYS
            } else {
                policy::MAX_DS_VALIDITY_DAYS
            };
            (
                length > Duration::days(i64::from(days)),
                format!("{days} days"),
            )
        }
        Role::VicalSigner => (false, String::new()),
    };
    if too_long {
        out.push(Violation::ValidityTooLong {
            seconds: length.whole_seconds(),
            limit,
        });
    }
}

fn public_key(tbs: &TbsCertificate, out: &mut Vec<Violation>) {
    let spki = &tbs.subject_public_key_info;
    match spki::decode_owned(spki) {
        Err(e) => out.push(Violation::PublicKey {
            reason: e.to_string(),
        }),
        Ok(key) => {
            let raw = spki.subject_public_key.raw_bytes();
            if key.curve() != crate::crypto::Curve::Ed25519 && raw.first() != Some(&0x04) {
                out.push(Violation::CompressedPoint);
            }
        }
    }
}

/// The extensions an Annex B role's profile lists, with their criticality; all required.
/// Signer roles have no fixed list: only the extensions they carry are checked.
fn profile_extensions(role: Role) -> Option<&'static [(ObjectIdentifier, bool)]> {
    const IACA: &[(ObjectIdentifier, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, false),
        (oid::KEY_USAGE, true),
        (oid::BASIC_CONSTRAINTS, true),
        (oid::ISSUER_ALT_NAME, false),
        (oid::CRL_DISTRIBUTION_POINTS, false),
    ];
    const LINK: &[(ObjectIdentifier, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, false),
        (oid::AUTHORITY_KEY_IDENTIFIER, false),
        (oid::KEY_USAGE, true),
        (oid::BASIC_CONSTRAINTS, true),
        (oid::ISSUER_ALT_NAME, false),
        (oid::CRL_DISTRIBUTION_POINTS, false),
    ];
    const DS: &[(ObjectIdentifier, bool)] = &[
        (oid::SUBJECT_KEY_IDENTIFIER, false),
        (oid::AUTHORITY_KEY_IDENTIFIER, false),
        (oid::KEY_USAGE, true),
        (oid::EXT_KEY_USAGE, true),
        (oid::ISSUER_ALT_NAME, false),
        (oid::CRL_DISTRIBUTION_POINTS, false),
    ];
    match role {
        Role::Iaca => Some(IACA),
        Role::Link => Some(LINK),
        Role::DocumentSigner => Some(DS),
        Role::ListSigner | Role::VicalSigner => None,
    }
}

/// The criticality ISO/IEC 18013-5 (second edition) gives a list signer's extensions: key
/// usage critical (Table B.9), extended key usage, when present, not critical (12.3.6.3), the
/// identifiers not critical (RFC 5280 §4.2.1.1, §4.2.1.2).
fn list_signer_criticality(ext: &Extension, out: &mut Vec<Violation>) {
    let critical = match ext.extn_id {
        id if id == oid::KEY_USAGE => true,
        id if [
            oid::EXT_KEY_USAGE,
            oid::SUBJECT_KEY_IDENTIFIER,
            oid::AUTHORITY_KEY_IDENTIFIER,
        ]
        .contains(&id) =>
        {
            false
        }
        _ => return,
    };
    if ext.critical != critical {
        out.push(Violation::Criticality {
            oid: ext.extn_id,
            critical: ext.critical,
        });
    }
}

/// Extensions Annex B (and, for certificatePolicies, CPS §7.1.6) forbids.
const FORBIDDEN: &[ObjectIdentifier] = &[
    oid::POLICY_MAPPINGS,
    oid::NAME_CONSTRAINTS,
    oid::POLICY_CONSTRAINTS,
    oid::INHIBIT_ANY_POLICY,
    oid::FRESHEST_CRL,
    oid::CERTIFICATE_POLICIES,
];

/// Extensions this crate understands when critical: those it processes, and those whose
/// content cannot widen what a certificate may do. A critical extension outside this set is
/// refused on every certificate (RFC 5280 §4.2, CPS §7.1.9).
pub(crate) const UNDERSTOOD: &[ObjectIdentifier] = &[
    oid::SUBJECT_KEY_IDENTIFIER,
    oid::AUTHORITY_KEY_IDENTIFIER,
    oid::KEY_USAGE,
    oid::EXT_KEY_USAGE,
    oid::BASIC_CONSTRAINTS,
    oid::SUBJECT_ALT_NAME,
    oid::ISSUER_ALT_NAME,
    oid::CRL_DISTRIBUTION_POINTS,
    oid::AUTHORITY_INFO_ACCESS,
    oid::PRIVATE_KEY_USAGE_PERIOD,
    oid::CERTIFICATE_POLICIES,
];

/// Decodes an extension value, recording an undecodable or non-DER value.
pub(super) fn decode<'a, T: Decode<'a> + Encode>(
    ext: &'a Extension,
    out: &mut Vec<Violation>,
) -> Option<T> {
    let bytes = ext.extn_value.as_bytes();
    match T::from_der(bytes) {
        Ok(v) => {
            if v.to_der().ok().as_deref() != Some(bytes) {
                out.push(Violation::ExtensionEncoding {
                    oid: ext.extn_id,
                    problem: EncodingProblem::NotDer,
                });
            }
            Some(v)
        }
        Err(e) => {
            out.push(Violation::ExtensionEncoding {
                oid: ext.extn_id,
                problem: EncodingProblem::Undecodable {
                    reason: e.to_string(),
                },
            });
            None
        }
    }
}

fn extensions(tbs: &TbsCertificate, role: Role, out: &mut Vec<Violation>) {
    let profile = profile_extensions(role);
    let exts: &[Extension] = match &tbs.extensions {
        None => {
            out.push(Violation::NoExtensions);
            &[]
        }
        Some(e) if e.is_empty() => {
            out.push(Violation::EmptyExtensions);
            &[]
        }
        Some(e) => e,
    };
    for (i, ext) in exts.iter().enumerate() {
        let id = ext.extn_id;
        if exts.iter().take(i).any(|earlier| earlier.extn_id == id) {
            out.push(Violation::DuplicateExtension { oid: id });
            continue;
        }
        if ext.critical && !UNDERSTOOD.contains(&id) {
            out.push(Violation::UnknownCriticalExtension { oid: id });
        }
        if FORBIDDEN.contains(&id) {
            out.push(Violation::ForbiddenExtension { oid: id });
            continue;
        }
        if role == Role::ListSigner {
            list_signer_criticality(ext, out);
        }
        if let Some(profile) = profile {
            match profile.iter().find(|(o, _)| *o == id) {
                None => out.push(Violation::UnexpectedExtension {
                    oid: id,
                    critical: ext.critical,
                }),
                Some(&(_, critical)) if ext.critical != critical => {
                    out.push(Violation::Criticality {
                        oid: id,
                        critical: ext.critical,
                    })
                }
                Some(_) => {}
            }
        }
        extension_value(tbs, role, ext, out);
    }
    let required: Vec<ObjectIdentifier> = match (profile, role) {
        (Some(p), _) => p.iter().map(|(o, _)| *o).collect(),
        (None, Role::VicalSigner) => vec![oid::EXT_KEY_USAGE],
        // Table B.9: subject and authority key identifiers and key usage are mandatory.
        (None, Role::ListSigner) => vec![
            oid::SUBJECT_KEY_IDENTIFIER,
            oid::AUTHORITY_KEY_IDENTIFIER,
            oid::KEY_USAGE,
        ],
        (None, _) => Vec::new(),
    };
    for id in required {
        if !exts.iter().any(|e| e.extn_id == id) {
            out.push(Violation::MissingExtension { oid: id });
        }
    }
}

/// The names of the usages a keyUsage asserts, as Violation::KeyUsage reports them.
fn usage_names(ku: &KeyUsage) -> Vec<&'static str> {
    [
        (KeyUsages::DigitalSignature, "digitalSignature"),
        (KeyUsages::NonRepudiation, "contentCommitment"),
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
        (KeyUsages::DataEncipherment, "dataEncipherment"),
        (KeyUsages::KeyAgreement, "keyAgreement"),
        (KeyUsages::KeyCertSign, "keyCertSign"),
        (KeyUsages::CRLSign, "cRLSign"),
        (KeyUsages::EncipherOnly, "encipherOnly"),
        (KeyUsages::DecipherOnly, "decipherOnly"),
    ]
    .into_iter()
    .filter(|(flag, _)| ku.0.contains(*flag))
    .map(|(_, name)| name)
    .collect()
}

fn extension_value(tbs: &TbsCertificate, role: Role, ext: &Extension, out: &mut Vec<Violation>) {
    match ext.extn_id {
        id if id == oid::SUBJECT_KEY_IDENTIFIER => {
            if let Some(ski) = decode::<SubjectKeyIdentifier>(ext, out) {
                let expected = spki::key_identifier(&tbs.subject_public_key_info);
                if ski.0.as_bytes() != expected {
                    out.push(Violation::SkiMethod);
                }
            }
        }
        id if id == oid::AUTHORITY_KEY_IDENTIFIER => {
            if let Some(aki) = decode::<AuthorityKeyIdentifier>(ext, out) {
                authority_key_identifier(&aki, out);
            }
        }
        id if id == oid::KEY_USAGE => {
            if let Some(ku) = decode::<KeyUsage>(ext, out) {
                let found = usage_names(&ku);
                let (exact, expected): (&[&str], &'static str) = match role {
                    Role::Iaca | Role::Link => {
                        (&["keyCertSign", "cRLSign"], "keyCertSign and cRLSign")
                    }
                    Role::DocumentSigner | Role::ListSigner => {
                        (&["digitalSignature"], "digitalSignature")
                    }
                    Role::VicalSigner => (
                        &["digitalSignature", "contentCommitment"],
                        "digitalSignature and/or contentCommitment",
                    ),
                };
                let fits = match role {
                    // Either or both of the two signing usages, nothing else.
                    Role::VicalSigner => {
                        !found.is_empty() && found.iter().all(|u| exact.contains(u))
                    }
                    _ => found == exact,
                };
                if !fits {
                    out.push(Violation::KeyUsage { expected, found });
                }
            }
        }
        id if id == oid::BASIC_CONSTRAINTS => {
            if let Some(bc) = decode::<BasicConstraints>(ext, out) {
                let fits = if role.is_ca() {
                    bc.ca && bc.path_len_constraint == Some(0)
                } else {
                    !bc.ca
                };
                if !fits {
                    out.push(Violation::BasicConstraints {
                        ca: bc.ca,
                        path_len: bc.path_len_constraint,
                    });
                }
            }
        }
        id if id == oid::EXT_KEY_USAGE => {
            if let Some(eku) = decode::<ExtendedKeyUsage>(ext, out) {
                extended_key_usage(role, eku.0, out);
            }
        }
        id if id == oid::ISSUER_ALT_NAME => {
            if let Some(ian) = decode::<IssuerAltName>(ext, out) {
                issuer_alt_name(&ian, out);
            }
        }
        id if id == oid::CRL_DISTRIBUTION_POINTS => {
            if let Some(dps) = decode::<CrlDistributionPoints>(ext, out) {
                crl_distribution_points(&dps, out);
            }
        }
        _ => {}
    }
}

/// Annex B: the AKI carries exactly a keyIdentifier (certificates and CRLs alike).
pub(super) fn authority_key_identifier(aki: &AuthorityKeyIdentifier, out: &mut Vec<Violation>) {
    if aki
        .key_identifier
        .as_ref()
        .is_none_or(|k| k.as_bytes().is_empty())
    {
        out.push(Violation::Aki(AkiProblem::NoKeyIdentifier));
    }
    if aki.authority_cert_issuer.is_some() || aki.authority_cert_serial_number.is_some() {
        out.push(Violation::Aki(AkiProblem::ExtraFields));
    }
}

fn extended_key_usage(role: Role, found: Vec<ObjectIdentifier>, out: &mut Vec<Violation>) {
    let expected = match role {
        // Reported as an unexpected extension (a CA has no key purpose).
        Role::Iaca | Role::Link => return,
        Role::DocumentSigner => oid::MDL_DS_EKU,
        Role::VicalSigner => oid::VICAL_SIGNER_EKU,
        Role::ListSigner => {
            // No purpose is defined for list signers (today the DS signs the lists); a
            // certificate made for another mdoc role must not sign them.
            let foreign = [oid::MDL_READER_AUTH_EKU, oid::VICAL_SIGNER_EKU];
            if found.iter().any(|p| foreign.contains(p)) && !found.contains(&oid::MDL_DS_EKU) {
                out.push(Violation::ExtendedKeyUsage {
                    expected: None,
                    found,
                });
            }
            return;
        }
    };
    if found != [expected] {
        out.push(Violation::ExtendedKeyUsage {
            expected: Some(expected),
            found,
        });
    }
}

fn issuer_alt_name(ian: &IssuerAltName, out: &mut Vec<Violation>) {
    if ian.0.is_empty() {
        out.push(Violation::IssuerAltName(IanProblem::Empty));
    }
    for name in &ian.0 {
        match name {
            GeneralName::Rfc822Name(m) if !is_mailbox(m.as_ref()) => {
                out.push(Violation::IssuerAltName(IanProblem::Rfc822 {
                    value: m.to_string(),
                }));
            }
            GeneralName::UniformResourceIdentifier(u) if !is_uri(u.as_ref(), &[]) => {
                out.push(Violation::IssuerAltName(IanProblem::Uri {
                    value: u.to_string(),
                }));
            }
            GeneralName::Rfc822Name(_) | GeneralName::UniformResourceIdentifier(_) => {}
            _ => out.push(Violation::IssuerAltName(IanProblem::NameType)),
        }
    }
}

fn crl_distribution_points(dps: &CrlDistributionPoints, out: &mut Vec<Violation>) {
    if dps.0.is_empty() {
        out.push(Violation::CrlDistributionPoints(CrlDpProblem::Empty));
    }
    for dp in &dps.0 {
        if dp.reasons.is_some() || dp.crl_issuer.is_some() {
            out.push(Violation::CrlDistributionPoints(CrlDpProblem::Fields));
        }
        match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) if !names.is_empty() => {
                for n in names {
                    match n {
                        GeneralName::UniformResourceIdentifier(u)
                            if is_uri(u.as_ref(), &["http", "https"]) => {}
                        other => {
                            out.push(Violation::CrlDistributionPoints(CrlDpProblem::NotHttpUri {
                                name: render_general_name(other),
                            }))
                        }
                    }
                }
            }
            _ => out.push(Violation::CrlDistributionPoints(CrlDpProblem::NoFullName)),
        }
    }
}

/// A general name for messages: `DNS:example.com`, `URI:…`, `email:…`, or its kind.
fn render_general_name(name: &GeneralName) -> String {
    match name {
        GeneralName::DnsName(d) => format!("DNS:{}", d.as_str()),
        GeneralName::UniformResourceIdentifier(u) => format!("URI:{}", u.as_str()),
        GeneralName::Rfc822Name(m) => format!("email:{}", m.as_str()),
        GeneralName::DirectoryName(_) => "a directoryName".into(),
        GeneralName::IpAddress(_) => "an iPAddress".into(),
        GeneralName::RegisteredId(id) => format!("registeredID:{id}"),
        GeneralName::OtherName(_) => "an otherName".into(),
        GeneralName::EdiPartyName(_) => "an ediPartyName".into(),
    }
}

/// A plausible absolute URI: `scheme:rest`, scheme per RFC 3986, printable ASCII without
/// spaces; `schemes` (lower case), if not empty, restricts the scheme (and http(s) needs an
/// authority).
fn is_uri(s: &str, schemes: &[&str]) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && s.bytes().all(|b| b.is_ascii_graphic())
        && (schemes.is_empty() || schemes.iter().any(|want| scheme.eq_ignore_ascii_case(want)))
        && (!schemes.iter().any(|w| w.starts_with("http")) || rest.starts_with("//"))
}

fn is_mailbox(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && s.bytes().all(|b| b.is_ascii_graphic())
        }
        None => false,
    }
}

fn find_ext(tbs: &TbsCertificate, id: ObjectIdentifier) -> Option<&Extension> {
    tbs.extensions
        .as_deref()
        .and_then(|e| e.iter().find(|x| x.extn_id == id))
}

fn key_identifier(tbs: &TbsCertificate, id: ObjectIdentifier) -> Option<Vec<u8>> {
    let ext = find_ext(tbs, id)?;
    let bytes = ext.extn_value.as_bytes();
    if id == oid::AUTHORITY_KEY_IDENTIFIER {
        AuthorityKeyIdentifier::from_der(bytes)
            .ok()?
            .key_identifier
            .map(|k| k.as_bytes().to_vec())
    } else {
        SubjectKeyIdentifier::from_der(bytes)
            .ok()
            .map(|s| s.0.as_bytes().to_vec())
    }
}

/// The checks that relate a certificate to its issuer.
fn relation(tbs: &TbsCertificate, role: Role, issuer: &TbsCertificate, out: &mut Vec<Violation>) {
    if role != Role::Iaca && tbs.issuer != issuer.subject {
        out.push(Violation::IssuerName);
    }
    if let Some(alg) = signature::algorithm_from_oid(&tbs.signature.oid) {
        // The key type is enough here (no point decoding: the signature check uses the key).
        match spki::curve_of(&issuer.subject_public_key_info) {
            Some(curve) if curve.algorithm() == alg => {}
            Some(curve) => out.push(Violation::SignatureAlgorithmForKey {
                algorithm: alg,
                curve,
            }),
            // Reported as the certificate's own key problem for a self-signed IACA.
            None if role == Role::Iaca => {}
            None => out.push(Violation::IssuerKey),
        }
    }
    if role == Role::Iaca {
        return;
    }
    let issuer_exts = |id| find_ext(issuer, id).map(|e| e.extn_value.as_bytes());
    let ca = issuer_exts(oid::BASIC_CONSTRAINTS)
        .and_then(|b| BasicConstraints::from_der(b).ok())
        .is_some_and(|bc| bc.ca);
    let cert_sign = issuer_exts(oid::KEY_USAGE)
        .map(|b| KeyUsage::from_der(b).is_ok_and(|ku| ku.key_cert_sign()))
        // A CA certificate without keyUsage may sign certificates (RFC 5280 §4.2.1.3).
        .unwrap_or(true);
    if !ca || !cert_sign {
        out.push(Violation::IssuerNotCa);
    }
    let aki = key_identifier(tbs, oid::AUTHORITY_KEY_IDENTIFIER);
    let issuer_ski = key_identifier(issuer, oid::SUBJECT_KEY_IDENTIFIER);
    let aki_required = matches!(role, Role::Link | Role::DocumentSigner);
    if (aki_required || aki.is_some()) && (issuer_ski.is_none() || aki != issuer_ski) {
        out.push(Violation::AkiMismatch);
    }
    if tbs.subject_public_key_info == issuer.subject_public_key_info {
        out.push(Violation::SameKeyAsIssuer);
    }
    if role == Role::DocumentSigner {
        let (nb, na) = (
            x509_time::to_datetime(tbs.validity.not_before),
            x509_time::to_datetime(tbs.validity.not_after),
        );
        let (inb, ina) = (
            x509_time::to_datetime(issuer.validity.not_before),
            x509_time::to_datetime(issuer.validity.not_after),
        );
        if nb < inb || na > ina {
            out.push(Violation::OutsideIssuerValidity);
        }
        for (attr, attribute) in [
            (oid::COUNTRY_NAME, "countryName"),
            (oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName"),
        ] {
            let subject = name::attribute_texts(&tbs.subject, attr);
            let issuer = name::attribute_texts(&issuer.subject, attr);
            if subject != issuer {
                out.push(Violation::SubjectAttributeMismatch {
                    attribute,
                    subject,
                    issuer,
                });
            }
        }
    }
}
