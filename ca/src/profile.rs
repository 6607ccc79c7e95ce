//! Building the IACA (root), link and Document Signer certificates of ISO/IEC 18013-5 Annex B,
//! with the policy numbers of the root CA's CP/CPS as parameters (see `docs/PROFILES.md` and
//! `docs/REQUIREMENTS.md`).
//!
//! Every builder follows the same steps:
//!
//! 1. construct the `TBSCertificate` with [`x509_cert`] types;
//! 2. lint it ([`crate::lint`]): the Annex B profile, RFC 5280 and the policy limits, plus the
//!    checks against the issuer certificate. Any finding at [`Severity::Error`] aborts with
//!    [`ProfileError::Lint`] and the signer is **never called**;
//! 3. DER-encode the TBS and sign it through a [`Signer`] (an HSM in production) which returns a
//!    raw `r ‖ s` signature, converted here to a DER `ECDSA-Sig-Value`;
//! 4. assemble the certificate and check that its signature verifies with the issuer
//!    certificate's public key, so a faulty HSM (or a signer holding the wrong key) is caught
//!    before the certificate leaves the ceremony.
//!
//! Times: certificates carry whole seconds in UTC; sub-second parts of inputs are dropped
//! (truncated, never rounded up). Dates before 2050 are `UTCTime`, from 2050 on
//! `GeneralizedTime` (RFC 5280 §4.1.2.5). A validity period of length `P` starting at
//! `notBefore` ends at `notAfter = notBefore + P − 1 s`, because RFC 5280 validity includes both
//! ends: the certificate is valid for exactly `P`, never a second more.
//!
//! [`Severity::Error`]: crate::lint::Severity::Error

use der::asn1::{
    Any, BitString, Ia5String, ObjectIdentifier, OctetString, PrintableStringRef, SetOfVec,
};
use der::{Decode, Encode, Tag};
use mso::crypto::{PublicKey, Signer, SoftwareVerifier};
use mso::x509::{name as x509_name, oid, signature, spki as x509_spki, time as xtime};
use rand_core::{OsRng, RngCore};
use spki::SubjectPublicKeyInfoOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::csr::ValidatedCsr;
use crate::lint::{has_errors, lint_certificate, CertKind, Finding, LintPolicy};

/// Everything that can go wrong while building a certificate or a CRL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The lint found at least one error; nothing was signed.
    #[error("lint failed, nothing was signed: {}", summarize(.0))]
    Lint(Vec<Finding>),
    /// A parameter cannot be encoded (e.g. a non-PrintableString country, a non-ASCII URI).
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// The issuer (IACA) certificate is unusable: malformed, or lacking what the profile needs.
    #[error("issuer certificate: {0}")]
    IssuerCertificate(String),
    /// The certificate whose subject DN a link certificate keeps is unusable.
    #[error("subject certificate: {0}")]
    SubjectCertificate(String),
    /// The signer's public key is not the key of the issuer certificate.
    #[error("the signer's public key is not the issuer certificate's public key")]
    SignerKeyMismatch,
    /// The signer's algorithm does not fit its own key.
    #[error("the signer's algorithm {algorithm} does not fit its {curve} key")]
    SignerAlgorithmMismatch {
        /// The signer's algorithm.
        algorithm: String,
        /// The curve of the signer's key.
        curve: String,
    },
    /// A DS subject attribute (C or ST) differs from the IACA's.
    #[error("DS subject {attribute} {requested:?} differs from the IACA's {issuer:?}")]
    SubjectMismatch {
        /// `countryName` or `stateOrProvinceName`.
        attribute: &'static str,
        /// The value(s) in the request (`None`: absent).
        requested: Option<String>,
        /// The IACA's value (`None`: absent).
        issuer: Option<String>,
    },
    /// The requested validity is not inside the issuer's validity (and clipping was not asked
    /// for, or clipping would leave nothing).
    #[error(
        "validity {not_before} .. {not_after} is not inside the IACA validity \
         {issuer_not_before} .. {issuer_not_after}"
    )]
    ValidityOutsideIssuer {
        /// Requested notBefore.
        not_before: OffsetDateTime,
        /// Requested notAfter.
        not_after: OffsetDateTime,
        /// The issuer's notBefore.
        issuer_not_before: OffsetDateTime,
        /// The issuer's notAfter.
        issuer_not_after: OffsetDateTime,
    },
    /// A date cannot be written in a certificate or CRL (years 1970 to 9999 only) or date
    /// arithmetic overflowed.
    #[error("time out of range: {0}")]
    TimeOutOfRange(String),
    /// The operating system's random number generator failed.
    #[error("random number generator: {0}")]
    Random(String),
    /// The signer failed or returned something that is not a signature of its algorithm.
    #[error("signer: {0}")]
    Signer(String),
    /// The freshly made signature does not verify with the issuer certificate's key.
    #[error("the new signature does not verify with the issuer's public key: {0}")]
    SignatureCheck(String),
    /// DER encoding failed (should not happen for well-formed parameters).
    #[error("DER encoding: {0}")]
    Encoding(String),
}

fn summarize(findings: &[Finding]) -> String {
    let mut out = String::new();
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        if i == 8 {
            out.push_str(&format!("... and {} more", findings.len() - 8));
            break;
        }
        out.push_str(&f.to_string());
    }
    out
}

pub(crate) fn enc_err(e: impl core::fmt::Display) -> ProfileError {
    ProfileError::Encoding(e.to_string())
}

/// Default IACA validity: 5 years 4 months (CPS §6.3.2).
pub const DEFAULT_IACA_VALIDITY_MONTHS: u32 = 64;
/// Default DS certificate validity, which is also the Annex B maximum: 457 days.
pub const DEFAULT_DS_VALIDITY_DAYS: u32 = mso::x509::policy::MAX_DS_VALIDITY_DAYS;
/// Default DS key rotation period: a new DS key every 3 months (CPS §4.9.7).
pub const DEFAULT_DS_KEY_ROTATION_MONTHS: u32 = 3;

/// A subject (and, for the IACA, issuer) distinguished name: `C`, optional `ST`, optional `O`,
/// `CN`, each in its own RDN in that order. `C` is a PrintableString, the others UTF8String.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectName {
    /// countryName: ISO 3166-1 alpha-2, upper case (e.g. `JP`).
    pub country: String,
    /// stateOrProvinceName, if the issuing authority is a state or province.
    pub state_or_province: Option<String>,
    /// organizationName.
    pub organization: Option<String>,
    /// commonName.
    pub common_name: String,
}

impl SubjectName {
    /// Encodes the name. Fails only if `country` has characters a PrintableString cannot hold;
    /// every profile rule (upper-case alpha-2, lengths, ...) is left to the lint.
    pub fn to_name(&self) -> Result<Name, ProfileError> {
        let country = PrintableStringRef::new(&self.country).map_err(|_| {
            ProfileError::InvalidParams(format!(
                "countryName {:?} is not a PrintableString",
                self.country
            ))
        })?;
        let mut rdns = vec![atv(
            oid::COUNTRY_NAME,
            Any::encode_from(&country).map_err(enc_err)?,
        )];
        if let Some(st) = &self.state_or_province {
            rdns.push(atv(oid::STATE_OR_PROVINCE_NAME, utf8(st)?));
        }
        if let Some(o) = &self.organization {
            rdns.push(atv(oid::ORGANIZATION_NAME, utf8(o)?));
        }
        rdns.push(atv(oid::COMMON_NAME, utf8(&self.common_name)?));
        rdns.into_iter()
            .map(|a| {
                SetOfVec::try_from(vec![a])
                    .map(RelativeDistinguishedName)
                    .map_err(enc_err)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(x509_cert::name::RdnSequence)
    }
}

fn atv(oid: ObjectIdentifier, value: Any) -> AttributeTypeAndValue {
    AttributeTypeAndValue { oid, value }
}

fn utf8(s: &str) -> Result<Any, ProfileError> {
    Any::new(Tag::Utf8String, s.as_bytes()).map_err(enc_err)
}

/// The issuerAltName contents: URIs and/or e-mail addresses (rfc822Name) of the issuing
/// authority. Annex B allows nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerAltNames {
    /// `uniformResourceIdentifier` entries (e.g. `https://iaca.example.jp`).
    pub uris: Vec<String>,
    /// `rfc822Name` entries (e.g. `pki@example.jp`).
    pub emails: Vec<String>,
}

impl IssuerAltNames {
    fn to_general_names(&self) -> Result<Vec<GeneralName>, ProfileError> {
        let ia5 = |s: &str| {
            Ia5String::new(s)
                .map_err(|_| ProfileError::InvalidParams(format!("{s:?} is not an IA5String")))
        };
        let mut out = Vec::with_capacity(self.uris.len() + self.emails.len());
        for u in &self.uris {
            out.push(GeneralName::UniformResourceIdentifier(ia5(u)?));
        }
        for e in &self.emails {
            out.push(GeneralName::Rfc822Name(ia5(e)?));
        }
        Ok(out)
    }
}

/// Reads the issuerAltName (URIs and e-mail addresses) and the cRLDistributionPoints full-name
/// URIs of an existing certificate, so DS and link certificates can repeat the IACA's.
pub fn issuer_locators(cert_der: &[u8]) -> Result<(IssuerAltNames, Vec<String>), ProfileError> {
    let cert = mso::x509::Certificate::from_der(cert_der)
        .map_err(|e| ProfileError::IssuerCertificate(e.to_string()))?;
    let tbs = &cert.inner().tbs_certificate;
    let mut ian = IssuerAltNames::default();
    if let Ok(Some((_, IssuerAltName(names)))) = tbs.get::<IssuerAltName>() {
        for n in names {
            match n {
                GeneralName::UniformResourceIdentifier(u) => ian.uris.push(u.to_string()),
                GeneralName::Rfc822Name(e) => ian.emails.push(e.to_string()),
                _ => {}
            }
        }
    }
    let mut dps = Vec::new();
    if let Ok(Some((_, CrlDistributionPoints(points)))) = tbs.get::<CrlDistributionPoints>() {
        for p in points {
            if let Some(DistributionPointName::FullName(names)) = p.distribution_point {
                for n in names {
                    if let GeneralName::UniformResourceIdentifier(u) = n {
                        dps.push(u.to_string());
                    }
                }
            }
        }
    }
    Ok((ian, dps))
}

/// Parameters of an IACA (root) certificate. [`IacaParams::new`] fills in the policy defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IacaParams {
    /// Subject (= issuer) DN. Keep it identical across key rollovers.
    pub subject: SubjectName,
    /// notBefore (the issuance date, CPS §7.1.2.1).
    pub not_before: OffsetDateTime,
    /// Validity in calendar months (default 64 = 5 years 4 months, CPS §6.3.2).
    pub validity_months: u32,
    /// issuerAltName contents (at least one entry).
    pub issuer_alt_name: IssuerAltNames,
    /// cRLDistributionPoints full-name URIs (at least one).
    pub crl_distribution_points: Vec<String>,
    /// Lint limits (maximum validity, allowed curves, ...).
    pub policy: LintPolicy,
}

impl IacaParams {
    /// Parameters with the policy defaults.
    pub fn new(
        subject: SubjectName,
        not_before: OffsetDateTime,
        issuer_alt_name: IssuerAltNames,
        crl_distribution_points: Vec<String>,
    ) -> Self {
        IacaParams {
            subject,
            not_before,
            validity_months: DEFAULT_IACA_VALIDITY_MONTHS,
            issuer_alt_name,
            crl_distribution_points,
            policy: LintPolicy::default(),
        }
    }
}

/// Parameters of a Document Signer certificate. [`DsParams::new`] fills in the policy defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsParams {
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// Validity in days of 86,400 s (default 457, the Annex B maximum).
    pub validity_days: u32,
    /// How long the DS private key is used before a new DS key is certified (default 3 months,
    /// CPS §4.9.7). Not written in the certificate (Annex B has no privateKeyUsagePeriod); see
    /// [`DsParams::key_usage_end`].
    pub key_rotation_months: u32,
    /// If the requested validity is not inside the IACA's: `false` (default) refuses with
    /// [`ProfileError::ValidityOutsideIssuer`], `true` clips it to the IACA's validity.
    pub clip_to_issuer_validity: bool,
    /// issuerAltName contents (usually the IACA's, see [`issuer_locators`]).
    pub issuer_alt_name: IssuerAltNames,
    /// cRLDistributionPoints full-name URIs (usually the IACA's).
    pub crl_distribution_points: Vec<String>,
    /// Lint limits.
    pub policy: LintPolicy,
}

impl DsParams {
    /// Parameters with the policy defaults.
    pub fn new(
        not_before: OffsetDateTime,
        issuer_alt_name: IssuerAltNames,
        crl_distribution_points: Vec<String>,
    ) -> Self {
        DsParams {
            not_before,
            validity_days: DEFAULT_DS_VALIDITY_DAYS,
            key_rotation_months: DEFAULT_DS_KEY_ROTATION_MONTHS,
            clip_to_issuer_validity: false,
            issuer_alt_name,
            crl_distribution_points,
            policy: LintPolicy::default(),
        }
    }

    /// The instant the issuer must stop signing MSOs with the DS key: `not_before` plus
    /// `key_rotation_months` calendar months.
    pub fn key_usage_end(&self) -> Result<OffsetDateTime, ProfileError> {
        add_months(xtime::truncate(self.not_before), self.key_rotation_months)
    }
}

/// Which link certificate of a root key rollover (RFC 4210 §4.4, CPS §7.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The new public key, signed by the old key.
    NewWithOld,
    /// The old public key, signed by the new key.
    OldWithNew,
}

/// Parameters of a link certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkParams {
    /// notBefore (CPS §7.1.2.2: the generation date of the key certified).
    pub not_before: OffsetDateTime,
    /// notAfter (CPS §7.1.2.2: the old self-signed certificate's notAfter, for both links).
    pub not_after: OffsetDateTime,
    /// issuerAltName contents.
    pub issuer_alt_name: IssuerAltNames,
    /// cRLDistributionPoints full-name URIs.
    pub crl_distribution_points: Vec<String>,
    /// Lint limits.
    pub policy: LintPolicy,
}

impl LinkParams {
    /// Parameters for `kind` from the old and new self-signed IACA certificates, per CPS
    /// §7.1.2.2: notBefore is the generation date of the certified key (taken as the notBefore of
    /// that key's self-signed certificate), notAfter is the old certificate's notAfter.
    /// issuerAltName and cRLDistributionPoints are the new certificate's.
    pub fn for_rollover(
        kind: LinkKind,
        old_iaca_der: &[u8],
        new_iaca_der: &[u8],
    ) -> Result<Self, ProfileError> {
        let parse = |der: &[u8]| {
            mso::x509::Certificate::from_der(der)
                .map_err(|e| ProfileError::IssuerCertificate(e.to_string()))
        };
        let old = parse(old_iaca_der)?;
        let new = parse(new_iaca_der)?;
        let not_before = match kind {
            LinkKind::NewWithOld => new.not_before(),
            LinkKind::OldWithNew => old.not_before(),
        };
        let (issuer_alt_name, crl_distribution_points) = issuer_locators(new_iaca_der)?;
        Ok(LinkParams {
            not_before,
            not_after: old.not_after(),
            issuer_alt_name,
            crl_distribution_points,
            policy: LintPolicy::default(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with crl.rs and lint.rs.

/// Adds calendar months (see [`mso::x509::time::add_months`]).
pub fn add_months(t: OffsetDateTime, months: u32) -> Result<OffsetDateTime, ProfileError> {
    xtime::add_months(t, months)
        .ok_or_else(|| ProfileError::TimeOutOfRange(format!("{t} + {months} months")))
}

/// Converts a time to its RFC 5280 encoding (see [`mso::x509::time::encode`]).
pub fn x509_time(t: OffsetDateTime) -> Result<Time, ProfileError> {
    xtime::encode(t).ok_or_else(|| {
        ProfileError::TimeOutOfRange(format!("{} (years 1970 to 9999 only)", xtime::truncate(t)))
    })
}

/// The SubjectPublicKeyInfo of a key (see [`mso::x509::spki::encode`]).
pub fn subject_public_key_info(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, ProfileError> {
    x509_spki::encode(key).map_err(enc_err)
}

/// A fresh serial number: 20 bytes from the OS CSPRNG with the top bit cleared (positive) and a
/// non-zero first octet (so the DER INTEGER is exactly 20 octets, 159 random bits).
pub fn random_serial() -> Result<SerialNumber, ProfileError> {
    let mut bytes = [0u8; 20];
    for _ in 0..64 {
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| ProfileError::Random(e.to_string()))?;
        if let Some(first) = bytes.first_mut() {
            *first &= 0x7f;
            if *first != 0 {
                return SerialNumber::new(&bytes).map_err(enc_err);
            }
        }
    }
    Err(ProfileError::Random(
        "64 draws in a row had a zero first octet".into(),
    ))
}

fn extension<T: Encode>(
    extn_id: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, ProfileError> {
    Ok(Extension {
        extn_id,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(enc_err)?).map_err(enc_err)?,
    })
}

fn octets(bytes: &[u8]) -> Result<OctetString, ProfileError> {
    OctetString::new(bytes).map_err(enc_err)
}

pub(crate) fn aki_extension(key_id: &[u8]) -> Result<Extension, ProfileError> {
    extension(
        oid::AUTHORITY_KEY_IDENTIFIER,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(octets(key_id)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

fn ian_extension(ian: &IssuerAltNames) -> Result<Extension, ProfileError> {
    extension(
        oid::ISSUER_ALT_NAME,
        false,
        &IssuerAltName(ian.to_general_names()?),
    )
}

fn crl_dp_extension(uris: &[String]) -> Result<Extension, ProfileError> {
    let mut names = Vec::with_capacity(uris.len());
    for u in uris {
        names.push(GeneralName::UniformResourceIdentifier(
            Ia5String::new(u)
                .map_err(|_| ProfileError::InvalidParams(format!("{u:?} is not an IA5String")))?,
        ));
    }
    extension(
        oid::CRL_DISTRIBUTION_POINTS,
        false,
        &CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(names)),
            reasons: None,
            crl_issuer: None,
        }]),
    )
}

/// The extensions shared by IACA and link certificates: SKI, (AKI), KU critical keyCertSign +
/// cRLSign, BC critical CA pathLen 0, IAN, CRL DP.
fn ca_extensions(
    ski: &[u8],
    aki: Option<&[u8]>,
    ian: &IssuerAltNames,
    crl_dps: &[String],
) -> Result<Vec<Extension>, ProfileError> {
    let mut exts = vec![extension(
        oid::SUBJECT_KEY_IDENTIFIER,
        false,
        &SubjectKeyIdentifier(octets(ski)?),
    )?];
    if let Some(aki) = aki {
        exts.push(aki_extension(aki)?);
    }
    exts.push(extension(
        oid::KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )?);
    exts.push(extension(
        oid::BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
    )?);
    exts.push(ian_extension(ian)?);
    exts.push(crl_dp_extension(crl_dps)?);
    Ok(exts)
}

/// Reads the signer's key and checks its algorithm fits it.
pub(crate) fn signer_key(signer: &dyn Signer) -> Result<PublicKey, ProfileError> {
    let key = signer
        .public_key()
        .map_err(|e| ProfileError::Signer(e.to_string()))?;
    if key.curve().algorithm() != signer.algorithm() {
        return Err(ProfileError::SignerAlgorithmMismatch {
            algorithm: signer.algorithm().name().into(),
            curve: key.curve().name().into(),
        });
    }
    Ok(key)
}

/// The parsed issuer certificate with what the builders need from it.
pub(crate) struct Issuer {
    pub(crate) cert: mso::x509::Certificate,
    pub(crate) key: PublicKey,
    pub(crate) ski: Vec<u8>,
}

impl Issuer {
    /// Parses the issuer certificate and checks that `signer` holds its key.
    pub(crate) fn load(der: &[u8], signer: &dyn Signer) -> Result<Self, ProfileError> {
        let bad = |e: mso::Error| ProfileError::IssuerCertificate(e.to_string());
        let cert = mso::x509::Certificate::from_der(der).map_err(bad)?;
        let key = cert.public_key().map_err(bad)?;
        let ski = cert.subject_key_id().ok_or_else(|| {
            ProfileError::IssuerCertificate("no subjectKeyIdentifier extension".into())
        })?;
        if signer_key(signer)? != key {
            return Err(ProfileError::SignerKeyMismatch);
        }
        Ok(Issuer { cert, key, ski })
    }

    pub(crate) fn tbs(&self) -> &TbsCertificate {
        &self.cert.inner().tbs_certificate
    }
}

/// Signs `tbs` and returns the signature value as X.509 carries it (a DER `ECDSA-Sig-Value`
/// converted from the signer's raw `r ‖ s`, which also rejects an out-of-range `r` or `s`; the
/// raw 64 bytes for Ed25519).
pub(crate) fn sign_x509(signer: &dyn Signer, tbs: &[u8]) -> Result<Vec<u8>, ProfileError> {
    let raw = signer
        .sign(tbs)
        .map_err(|e| ProfileError::Signer(e.to_string()))?;
    signature::der_from_raw(signer.algorithm(), &raw).map_err(|e| {
        ProfileError::Signer(format!(
            "{} signer returned an invalid signature ({} bytes): {e}",
            signer.algorithm(),
            raw.len()
        ))
    })
}

/// Lints `tbs` (also against the issuer; `None` = self-signed), signs it, assembles the
/// certificate and checks the signature with the issuer certificate's key.
fn lint_sign_certificate(
    tbs: TbsCertificate,
    kind: CertKind,
    policy: &LintPolicy,
    issuer: Option<&Issuer>,
    signer: &dyn Signer,
) -> Result<Vec<u8>, ProfileError> {
    let findings = lint_certificate(&tbs, kind, issuer.map_or(&tbs, Issuer::tbs), policy);
    if has_errors(&findings) {
        return Err(ProfileError::Lint(findings));
    }
    let tbs_der = tbs.to_der().map_err(enc_err)?;
    let signature = sign_x509(signer, &tbs_der)?;
    let cert = Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&signature).map_err(enc_err)?,
    };
    let der = cert.to_der().map_err(enc_err)?;
    let check = |e: mso::Error| ProfileError::SignatureCheck(e.to_string());
    let parsed = mso::x509::Certificate::from_der(&der).map_err(check)?;
    let issuer_cert = issuer.map_or(&parsed, |i| &i.cert);
    parsed
        .verify_issued_by(issuer_cert, &SoftwareVerifier)
        .map_err(check)?;
    Ok(der)
}

fn new_tbs(
    signer: &dyn Signer,
    issuer: Name,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
) -> Result<TbsCertificate, ProfileError> {
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: signature::algorithm_identifier(signer.algorithm()),
        issuer,
        validity,
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    })
}

/// The last second of a period of `length` starting at `start` (RFC 5280 validity includes
/// both ends).
fn period_end(start: OffsetDateTime, length: Duration) -> Result<OffsetDateTime, ProfileError> {
    start
        .checked_add(length)
        .and_then(|t| t.checked_sub(Duration::SECOND))
        .ok_or_else(|| ProfileError::TimeOutOfRange(format!("{start} + {length}")))
}

// ---------------------------------------------------------------------------------------------
// Builders.

/// Builds and signs a self-signed IACA certificate for the signer's key.
///
/// X.509 v3, 20-byte random serial, signature algorithm per the signer (P-256 → SHA-256, P-384 →
/// SHA-384, P-521 → SHA-512), subject = issuer = `params.subject`, validity `not_before` plus
/// `validity_months` calendar months (minus one second), KU critical keyCertSign + cRLSign, BC
/// critical CA pathLen 0, SKI (method 1), IAN and CRL DP non-critical; no EKU, no
/// certificatePolicies, no constraints. For a NewWithNew certificate at key rollover, call this
/// with the new key and the SAME subject DN.
pub fn build_iaca(params: &IacaParams, signer: &dyn Signer) -> Result<Vec<u8>, ProfileError> {
    let key = signer_key(signer)?;
    let spki = subject_public_key_info(&key)?;
    let ski = x509_spki::key_identifier(&spki).to_vec();
    let name = params.subject.to_name()?;
    let not_before = xtime::truncate(params.not_before);
    let not_after = add_months(not_before, params.validity_months)?
        .checked_sub(Duration::SECOND)
        .ok_or_else(|| ProfileError::TimeOutOfRange("notAfter".into()))?;
    let validity = Validity {
        not_before: x509_time(not_before)?,
        not_after: x509_time(not_after)?,
    };
    let exts = ca_extensions(
        &ski,
        None,
        &params.issuer_alt_name,
        &params.crl_distribution_points,
    )?;
    let tbs = new_tbs(signer, name.clone(), validity, name, spki, exts)?;
    lint_sign_certificate(tbs, CertKind::Iaca, &params.policy, None, signer)
}

/// Builds and signs a Document Signer certificate for a validated PKCS#10 request.
///
/// Issuer = the IACA's subject, AKI = the IACA's SKI; subject = the request's subject, whose `C`
/// (and `ST`) must equal the IACA's — it is refused with [`ProfileError::SubjectMismatch`]
/// otherwise, and the IACA's exact encodings of those attributes are used. KU critical
/// digitalSignature, EKU critical exactly id-mdl-kp-mdlDS, SKI, IAN, CRL DP, no basicConstraints.
/// Validity: `validity_days` × 86,400 s from `not_before`, at most the policy maximum, and inside
/// the IACA validity (refused, or clipped if `clip_to_issuer_validity`).
pub fn build_ds(
    csr: &ValidatedCsr,
    issuer_cert_der: &[u8],
    params: &DsParams,
    signer: &dyn Signer,
) -> Result<Vec<u8>, ProfileError> {
    build_signer(csr, issuer_cert_der, params, signer, CertKind::Ds)
}

/// Builds and signs an MSO revocation list signer certificate (ISO/IEC 18013-5 second
/// edition, 12.3.6.2 and Table B.9) for a validated PKCS#10 request: the certificate whose key
/// signs the status and identifier list tokens, issued directly by the IACA so the lists stay
/// published and verifiable when every DS is revoked.
///
/// As [`build_ds`] (subject, validity, SKI, AKI, IAN, CRL DP, KU critical digitalSignature
/// only), with no extendedKeyUsage: Table B.9 makes it optional and defines no purpose for
/// it, so a list signer key is recognised by being certified for nothing else. Validity at
/// most `params.policy.max_list_signer_validity_days` (Table B.9: 1187 days).
pub fn build_list_signer(
    csr: &ValidatedCsr,
    issuer_cert_der: &[u8],
    params: &DsParams,
    signer: &dyn Signer,
) -> Result<Vec<u8>, ProfileError> {
    build_signer(csr, issuer_cert_der, params, signer, CertKind::ListSigner)
}

/// The DS and list signer certificates differ only in the extendedKeyUsage.
fn build_signer(
    csr: &ValidatedCsr,
    issuer_cert_der: &[u8],
    params: &DsParams,
    signer: &dyn Signer,
    kind: CertKind,
) -> Result<Vec<u8>, ProfileError> {
    let issuer = Issuer::load(issuer_cert_der, signer)?;
    let subject = ds_subject(&csr.subject, &issuer.tbs().subject)?;
    let spki = subject_public_key_info(&csr.public_key)?;
    let ski = x509_spki::key_identifier(&spki).to_vec();

    let mut not_before = xtime::truncate(params.not_before);
    let mut not_after = period_end(not_before, Duration::days(i64::from(params.validity_days)))?;
    let (inb, ina) = (issuer.cert.not_before(), issuer.cert.not_after());
    if not_before < inb || not_after > ina {
        let refused = ProfileError::ValidityOutsideIssuer {
            not_before,
            not_after,
            issuer_not_before: inb,
            issuer_not_after: ina,
        };
        if !params.clip_to_issuer_validity {
            return Err(refused);
        }
        not_before = not_before.max(inb);
        not_after = not_after.min(ina);
        if not_before >= not_after {
            return Err(refused);
        }
    }
    let validity = Validity {
        not_before: x509_time(not_before)?,
        not_after: x509_time(not_after)?,
    };
    let mut exts = vec![
        extension(
            oid::SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(octets(&ski)?),
        )?,
        aki_extension(&issuer.ski)?,
        extension(
            oid::KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        )?,
    ];
    if kind == CertKind::Ds {
        exts.push(extension(
            oid::EXT_KEY_USAGE,
            true,
            &ExtendedKeyUsage(vec![oid::MDL_DS_EKU]),
        )?);
    }
    exts.push(ian_extension(&params.issuer_alt_name)?);
    exts.push(crl_dp_extension(&params.crl_distribution_points)?);
    let tbs = new_tbs(
        signer,
        issuer.tbs().subject.clone(),
        validity,
        subject,
        spki,
        exts,
    )?;
    lint_sign_certificate(tbs, kind, &params.policy, Some(&issuer), signer)
}

/// Builds and signs a link certificate for a root key rollover.
///
/// `subject_public_key` is the key certified (NewWithOld: the new key; OldWithNew: the old key);
/// `subject_dn_cert_der` is an IACA certificate whose subject DN is kept (the DN never changes
/// across rollovers, which makes the link self-issued so RFC 5280 does not count it against
/// pathLen 0); `issuer_cert_der` is the self-signed certificate of the signing key (NewWithOld:
/// the old IACA; OldWithNew: the new one). Same extensions as the IACA, plus AKI = the signer's
/// SKI; SKI = the subject key's. NewWithNew is [`build_iaca`] with the new key and the same DN.
pub fn build_link(
    subject_public_key: &PublicKey,
    subject_dn_cert_der: &[u8],
    issuer_cert_der: &[u8],
    params: &LinkParams,
    signer: &dyn Signer,
) -> Result<Vec<u8>, ProfileError> {
    let issuer = Issuer::load(issuer_cert_der, signer)?;
    let subject_cert = mso::x509::Certificate::from_der(subject_dn_cert_der)
        .map_err(|e| ProfileError::SubjectCertificate(e.to_string()))?;
    let subject = subject_cert.inner().tbs_certificate.subject.clone();
    let spki = subject_public_key_info(subject_public_key)?;
    let ski = x509_spki::key_identifier(&spki).to_vec();
    let validity = Validity {
        not_before: x509_time(params.not_before)?,
        not_after: x509_time(params.not_after)?,
    };
    let exts = ca_extensions(
        &ski,
        Some(&issuer.ski),
        &params.issuer_alt_name,
        &params.crl_distribution_points,
    )?;
    let tbs = new_tbs(
        signer,
        issuer.tbs().subject.clone(),
        validity,
        subject,
        spki,
        exts,
    )?;
    lint_sign_certificate(tbs, CertKind::Link, &params.policy, Some(&issuer), signer)
}

/// The single `oid` attribute of `name`, `None` if absent; several are a mismatch.
fn single<'a>(
    name: &'a Name,
    oid: ObjectIdentifier,
    which: &'static str,
) -> Result<Option<&'a AttributeTypeAndValue>, ProfileError> {
    let found: Vec<&AttributeTypeAndValue> = x509_name::attributes(name, oid).collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(ProfileError::SubjectMismatch {
            attribute: which,
            requested: Some(
                found
                    .iter()
                    .map(|a| x509_name::attribute_text(&a.value).unwrap_or("<unreadable>"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            issuer: None,
        }),
    }
}

/// The DS subject: the request's DN with `C` and `ST` checked against the IACA's and replaced
/// by the IACA's exact encodings (same text, so verifiers comparing bytes agree too).
fn ds_subject(requested: &Name, iaca: &Name) -> Result<Name, ProfileError> {
    let issuer_bad = |what: &str| ProfileError::IssuerCertificate(format!("subject {what}"));
    let text = |a: Option<&AttributeTypeAndValue>| {
        a.map(|a| {
            x509_name::attribute_text(&a.value)
                .unwrap_or("<unreadable>")
                .to_owned()
        })
    };
    let iaca_c = single(iaca, oid::COUNTRY_NAME, "countryName")
        .map_err(|_| issuer_bad("has several countryName attributes"))?
        .ok_or_else(|| issuer_bad("has no countryName"))?;
    let iaca_st = single(iaca, oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName")
        .map_err(|_| issuer_bad("has several stateOrProvinceName attributes"))?;
    for (oid, which, iaca_atv) in [
        (oid::COUNTRY_NAME, "countryName", Some(iaca_c)),
        (oid::STATE_OR_PROVINCE_NAME, "stateOrProvinceName", iaca_st),
    ] {
        let req = single(requested, oid, which).map_err(|e| match e {
            ProfileError::SubjectMismatch {
                attribute,
                requested,
                ..
            } => ProfileError::SubjectMismatch {
                attribute,
                requested,
                issuer: text(iaca_atv),
            },
            other => other,
        })?;
        let (r, i) = (text(req), text(iaca_atv));
        if r != i || r.as_deref() == Some("<unreadable>") {
            return Err(ProfileError::SubjectMismatch {
                attribute: which,
                requested: r,
                issuer: i,
            });
        }
    }
    let mut rdns = Vec::with_capacity(requested.0.len());
    for rdn in &requested.0 {
        let mut atvs = Vec::with_capacity(rdn.0.len());
        for a in rdn.0.iter() {
            let replacement = if a.oid == oid::COUNTRY_NAME {
                Some(iaca_c)
            } else if a.oid == oid::STATE_OR_PROVINCE_NAME {
                iaca_st
            } else {
                None
            };
            atvs.push(replacement.unwrap_or(a).clone());
        }
        rdns.push(RelativeDistinguishedName(
            SetOfVec::try_from(atvs).map_err(enc_err)?,
        ));
    }
    Ok(x509_cert::name::RdnSequence(rdns))
}

/// Decodes a DER certificate's TBS for linting (tests, audits of existing certificates).
pub fn parse_tbs_certificate(cert_der: &[u8]) -> Result<TbsCertificate, ProfileError> {
    Certificate::from_der(cert_der)
        .map(|c| c.tbs_certificate)
        .map_err(enc_err)
}
