//! A relying party's trust store: which IACAs it trusts for which docTypes, and their CRLs.
//!
//! Inputs accumulate from several sources, each verified when it is added:
//!
//! - IACA certificates ([`TrustStore::add_iaca`]): DER or PEM, checked against the Annex B IACA
//!   profile (self-signed, CA, keyCertSign, no extendedKeyUsage, no forbidden or unknown
//!   critical extension, a countryName). Trusted for every docType. These, and the VICAL
//!   anchors, are the roots the store cannot verify: whoever can write them decides trust.
//! - Link certificates ([`TrustStore::add_link`]): a new IACA key certified by a key the store
//!   already trusts directly (an IACA or an earlier link), same subject DN (a key rollover,
//!   PROFILES.md "NewWithOld" / "OldWithNew"). The link certificate itself becomes an anchor:
//!   it carries the DN and the new key, so DS certificates issued under the new key chain to
//!   it. It must have been issued inside its issuer's validity (checked once, so a reload
//!   later does not depend on the clock).
//! - VICALs ([`TrustStore::add_vical`]), verified by [`crate::vical`] against the configured
//!   VICAL anchors ([`TrustStore::add_vical_anchor`]): their IACAs become anchors for the
//!   docTypes each entry lists. One list per provider; a list replaces the held one only if
//!   it is newer (vicalIssueID, else date). A list first received after its signer path
//!   expired is refused (it cannot be told apart from one signed with a retired key).
//! - CRLs ([`TrustStore::add_crl`]): verified against the trusted IACA that issued them (name,
//!   AKI == SKI, signature), one per IACA key. The highest cRLNumber wins: an older or
//!   equal-numbered CRL added later changes nothing ([`AddOutcome::NotNewer`]). A CRL without
//!   cRLNumber is refused (Annex B requires it; without it "newer" is undefined).
//!
//! Freshness (CRL nextUpdate, VICAL staleness) is a property of the verification time, so it
//! is evaluated when verifying, under the store's [`RevocationPolicy`].
//!
//! [`TrustStore::to_bytes`] / [`TrustStore::from_bytes`] keep the raw inputs for offline use
//! and re-verify all of them on reload (see [`encoding`] for the format).

pub mod encoding;

use std::collections::BTreeMap;

use der::asn1::ObjectIdentifier;
use der::Encode;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::crl::{Crl, CrlVerifyOptions, VerifiedCrl};
use crate::crypto::Verifier;
use crate::error::{Error, Result};
use crate::verify::IacaAnchors;
use crate::vical::{StaleReason, VerifiedVical, VicalFreshness, DEFAULT_MAX_AGE};
use crate::x509::{Certificate, MAX_CERT_LEN};

pub use encoding::{DEFAULT_MAX_STORE_LEN, STORE_FORMAT, STORE_VERSION};

/// Error context: a CRL lacks the cRLNumber the store orders CRLs by.
pub const CTX_CRL_NUMBER: &str = "CRL cRLNumber";
/// Error context: a VICAL's signer path had expired when it was first added.
pub const CTX_VICAL_EXPIRED: &str = "VICAL signer expired before the list was added";

const OID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_PRIVATE_KEY_USAGE_PERIOD: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.16");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_IAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_CRL_DP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
const OID_CERT_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// Extensions Annex B forbids in IACA and DS certificates, with their names.
const FORBIDDEN_EXTENSIONS: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("2.5.29.33"), "policyMappings"),
    (ObjectIdentifier::new_unwrap("2.5.29.30"), "nameConstraints"),
    (
        ObjectIdentifier::new_unwrap("2.5.29.36"),
        "policyConstraints",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.29.54"),
        "inhibitAnyPolicy",
    ),
    (ObjectIdentifier::new_unwrap("2.5.29.46"), "freshestCRL"),
];

/// Critical extensions an IACA may carry; any other critical extension is refused.
const KNOWN_CRITICAL: &[ObjectIdentifier] = &[
    OID_SKI,
    OID_KEY_USAGE,
    OID_PRIVATE_KEY_USAGE_PERIOD,
    OID_SAN,
    OID_IAN,
    OID_BASIC_CONSTRAINTS,
    OID_CRL_DP,
    OID_CERT_POLICIES,
    OID_AKI,
];

/// What to do when the CRL of a DS certificate's IACA has passed its nextUpdate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpiredCrlPolicy {
    /// Hard failure: the DsRevocation check fails with `CrlExpired` (RFC 5280 behaviour).
    #[default]
    Fail,
    /// Soft failure: the check passes on the entries held and the report carries a warning.
    Warn,
}

/// What to do when the store holds no CRL for a DS certificate's IACA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MissingCrlPolicy {
    /// Revocation is not checked; the report carries a `NoCrl` warning. The default, because
    /// many trusted IACAs (e.g. those from a VICAL) publish CRLs the app may never fetch.
    #[default]
    Warn,
    /// The DsRevocation check fails with `NoCrl`.
    Fail,
}

/// How DS revocation is judged when verifying with a [`TrustStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RevocationPolicy {
    /// Expired CRL: hard or soft failure.
    pub expired_crl: ExpiredCrlPolicy,
    /// No CRL for the issuing IACA: warning or failure.
    pub missing_crl: MissingCrlPolicy,
}

/// What an `add_*` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddOutcome {
    /// The input was new and is now trusted.
    Added,
    /// The input replaced an older one (CRL with a lower cRLNumber, an older VICAL).
    Replaced,
    /// The same input was already held: nothing changed.
    Duplicate,
    /// A newer (or equally new) one is already held: the input was verified but ignored.
    NotNewer,
}

/// One held CRL, keyed by the IACA (name and key) that verified it.
#[derive(Debug, Clone)]
struct StoredCrl {
    der: Vec<u8>,
    iaca: [u8; 32],
    crl: VerifiedCrl,
}

/// One held VICAL, with the bytes it was verified from.
#[derive(Debug, Clone)]
struct StoredVical {
    bytes: Vec<u8>,
    vical: VerifiedVical,
}

/// What a relying party trusts: IACAs per docType (direct, via link certificates, via
/// VICALs) and the IACAs' CRLs. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct TrustStore {
    policy: RevocationPolicy,
    iacas: Vec<Certificate>,
    links: Vec<Certificate>,
    vical_anchors: Vec<Certificate>,
    vicals: Vec<StoredVical>,
    crls: Vec<StoredCrl>,
    // Derived from the inputs by `rebuild`; each keeps its own warm chain-check memory.
    any_doc_type: IacaAnchors,
    by_doc_type: BTreeMap<String, IacaAnchors>,
}

impl Default for TrustStore {
    fn default() -> Self {
        Self::new(RevocationPolicy::default())
    }
}

/// Parses a certificate given as DER or as one PEM `CERTIFICATE` block, size-bounded.
pub fn parse_certificate(input: &[u8]) -> Result<Certificate> {
    let trimmed = input.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        // Base64 is 4/3 of the DER, plus line breaks and armour.
        let limit = MAX_CERT_LEN * 2;
        if input.len() > limit {
            return Err(Error::TooLarge {
                size: input.len(),
                limit,
            });
        }
        let pem = core::str::from_utf8(input)
            .map_err(|_| Error::Certificate("PEM is not UTF-8".into()))?;
        Certificate::from_pem(pem)
    } else {
        Certificate::from_der(input)
    }
}

/// The identity of an IACA key under its name: SHA-256 over subject DN and SPKI.
fn iaca_id(cert: &Certificate) -> [u8; 32] {
    let tbs = &cert.inner().tbs_certificate;
    let mut h = Sha256::new();
    h.update(tbs.subject.to_der().unwrap_or_default());
    h.update(tbs.subject_public_key_info.to_der().unwrap_or_default());
    h.finalize().into()
}

fn not_iaca(reason: impl Into<String>) -> Error {
    Error::NotAnIaca(reason.into())
}

/// The Annex B IACA profile, as far as it bears on trusting the certificate as an anchor.
/// Tolerant where production IACAs differ harmlessly (keyUsage absent, pathLen other than 0).
fn check_iaca_profile(cert: &Certificate) -> Result<()> {
    let bc = cert
        .basic_constraints()?
        .ok_or_else(|| not_iaca("no basicConstraints"))?;
    if !bc.ca {
        return Err(not_iaca("basicConstraints CA is false"));
    }
    if let Some(ku) = cert.key_usage()? {
        if !ku.key_cert_sign() {
            return Err(not_iaca("keyUsage lacks keyCertSign"));
        }
    }
    if cert.extended_key_usage()?.is_some() {
        return Err(not_iaca("an IACA has no extendedKeyUsage"));
    }
    let exts = cert.inner().tbs_certificate.extensions.iter().flatten();
    for ext in exts {
        if let Some((_, name)) = FORBIDDEN_EXTENSIONS
            .iter()
            .find(|(oid, _)| *oid == ext.extn_id)
        {
            return Err(not_iaca(format!("forbidden extension {name}")));
        }
        if ext.critical && !KNOWN_CRITICAL.contains(&ext.extn_id) {
            return Err(not_iaca(format!(
                "unknown critical extension {}",
                ext.extn_id
            )));
        }
    }
    if cert.country().is_none() {
        return Err(not_iaca("no countryName in the subject"));
    }
    cert.public_key()?;
    Ok(())
}

/// Candidates among `anchors` for a certificate or CRL with `issuer` name and `aki`: the
/// ones with that subject, those whose SKI equals the AKI first.
fn issuer_candidates<'c>(
    anchors: impl Iterator<Item = &'c Certificate>,
    issuer: &x509_cert::name::Name,
    aki: Option<&[u8]>,
) -> Vec<&'c Certificate> {
    let mut c: Vec<&Certificate> = anchors
        .filter(|a| a.inner().tbs_certificate.subject == *issuer)
        .collect();
    c.sort_by_key(|a| aki.is_none() || a.subject_key_id().as_deref() != aki);
    c
}

impl TrustStore {
    /// An empty store with `policy`.
    pub fn new(policy: RevocationPolicy) -> Self {
        TrustStore {
            policy,
            iacas: Vec::new(),
            links: Vec::new(),
            vical_anchors: Vec::new(),
            vicals: Vec::new(),
            crls: Vec::new(),
            any_doc_type: IacaAnchors::new(Vec::new()),
            by_doc_type: BTreeMap::new(),
        }
    }

    /// The revocation policy.
    pub fn policy(&self) -> RevocationPolicy {
        self.policy
    }

    /// Changes the revocation policy (kept by [`TrustStore::to_bytes`]).
    pub fn set_policy(&mut self, policy: RevocationPolicy) {
        self.policy = policy;
    }

    /// Trusts an IACA certificate (DER or PEM) for every docType, after checking it is a
    /// self-signed certificate of the IACA profile. Adding it again is [`AddOutcome::Duplicate`].
    pub fn add_iaca(&mut self, cert: &[u8], verifier: &dyn Verifier) -> Result<AddOutcome> {
        let cert = parse_certificate(cert)?;
        check_iaca_profile(&cert)?;
        if self.iacas.contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        cert.verify_issued_by(&cert, verifier)
            .map_err(|e| not_iaca(format!("not self-signed: {e}")))?;
        self.iacas.push(cert);
        self.rebuild();
        Ok(AddOutcome::Added)
    }

    /// Trusts the key certified by a link certificate (DER or PEM): an IACA-profile CA
    /// certificate with the same subject DN as its issuer, signed by an IACA trusted directly
    /// or by an earlier link, and issued inside that issuer's validity. Trusted for every
    /// docType.
    pub fn add_link(&mut self, cert: &[u8], verifier: &dyn Verifier) -> Result<AddOutcome> {
        let cert = parse_certificate(cert)?;
        check_iaca_profile(&cert)?;
        let tbs = &cert.inner().tbs_certificate;
        if tbs.subject != tbs.issuer {
            return Err(not_iaca(
                "a link certificate keeps the IACA's subject DN (it is self-issued)",
            ));
        }
        if self.links.contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        let aki = cert.authority_key_id();
        let candidates = issuer_candidates(
            self.iacas.iter().chain(&self.links),
            &tbs.issuer,
            aki.as_deref(),
        );
        let mut last = String::from("no directly trusted IACA has the issuer's name");
        let mut found = false;
        for issuer in candidates {
            if iaca_id(issuer) == iaca_id(&cert) {
                // The certificate's own key: a re-issued self-signed root, not a link.
                last = "self-signed by a trusted key: add it with add_iaca".into();
                continue;
            }
            match cert.verify_issued_by(issuer, verifier) {
                Ok(()) => {
                    if cert.not_before() < issuer.not_before()
                        || cert.not_before() > issuer.not_after()
                    {
                        last = "issued outside its issuer's validity".into();
                        continue;
                    }
                    found = true;
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        if !found {
            return Err(Error::NoTrustedIaca {
                what: "link certificate",
                reason: last,
            });
        }
        self.links.push(cert);
        self.rebuild();
        Ok(AddOutcome::Added)
    }

    /// Adds a VICAL trust anchor (DER or PEM): a CA certificate a VICAL signer's path may end
    /// at (e.g. the AAMVA root).
    pub fn add_vical_anchor(&mut self, cert: &[u8]) -> Result<AddOutcome> {
        let cert = parse_certificate(cert)?;
        let ca = cert.basic_constraints()?.is_some_and(|bc| bc.ca);
        if !ca {
            return Err(Error::Certificate(
                "a VICAL trust anchor must be a CA certificate".into(),
            ));
        }
        cert.public_key()?;
        if self.vical_anchors.contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        self.vical_anchors.push(cert);
        Ok(AddOutcome::Added)
    }

    /// Verifies a VICAL at `at` against the VICAL anchors and trusts its IACAs for the
    /// docTypes each entry lists. A list from a provider already held replaces it only if
    /// newer. A list whose signer path has expired at `at` is refused.
    pub fn add_vical(
        &mut self,
        bytes: &[u8],
        at: OffsetDateTime,
        verifier: &dyn Verifier,
    ) -> Result<AddOutcome> {
        let vical = VerifiedVical::verify(bytes, at, &self.vical_anchors, verifier)?;
        if let Some(StaleReason::CertificateExpired { which, not_after }) = vical
            .freshness()
            .reasons()
            .iter()
            .find(|r| matches!(r, StaleReason::CertificateExpired { .. }))
        {
            return Err(Error::InvalidValue {
                context: CTX_VICAL_EXPIRED,
                reason: format!("{which} certificate expired at {not_after}"),
            });
        }
        self.insert_vical(bytes, vical)
    }

    fn insert_vical(&mut self, bytes: &[u8], vical: VerifiedVical) -> Result<AddOutcome> {
        let held = self
            .vicals
            .iter_mut()
            .find(|s| s.vical.provider() == vical.provider());
        let outcome = match held {
            Some(h) if h.bytes == bytes => return Ok(AddOutcome::Duplicate),
            Some(h) => {
                let newer = match (vical.issue_id(), h.vical.issue_id()) {
                    (Some(new), Some(old)) => new > old,
                    _ => vical.date() > h.vical.date(),
                };
                if !newer {
                    return Ok(AddOutcome::NotNewer);
                }
                *h = StoredVical {
                    bytes: bytes.to_vec(),
                    vical,
                };
                AddOutcome::Replaced
            }
            None => {
                self.vicals.push(StoredVical {
                    bytes: bytes.to_vec(),
                    vical,
                });
                AddOutcome::Added
            }
        };
        self.rebuild();
        Ok(outcome)
    }

    /// Verifies a CRL (DER) at `at` against the trusted IACA that issued it and keeps it as
    /// that IACA's CRL if its cRLNumber is higher than the one held.
    pub fn add_crl(
        &mut self,
        der: &[u8],
        at: OffsetDateTime,
        verifier: &dyn Verifier,
    ) -> Result<AddOutcome> {
        let opts = CrlVerifyOptions::new(at);
        let parsed = Crl::from_der_with_limit(der, opts.max_len)?;
        let number = parsed
            .crl_number()
            .cloned()
            .ok_or_else(|| Error::InvalidValue {
                context: CTX_CRL_NUMBER,
                reason: "the CRL has no cRLNumber".into(),
            })?;
        let aki = parsed.authority_key_id();
        let candidates = issuer_candidates(self.all_iacas(), parsed.issuer(), aki);
        // The error from the IACA the CRL names by key, if any: then the CRL itself is bad.
        let mut named_err: Option<Error> = None;
        let mut last = String::from("no trusted IACA has the CRL issuer's name");
        let mut verified = None;
        for iaca in candidates {
            match parsed.clone().verify(iaca, &opts, verifier) {
                Ok(crl) => {
                    verified = Some((iaca_id(iaca), crl));
                    break;
                }
                Err(e) => {
                    last = e.to_string();
                    if aki.is_some() && iaca.subject_key_id().as_deref() == aki {
                        named_err.get_or_insert(e);
                    }
                }
            }
        }
        let (iaca, crl) = verified.ok_or_else(|| {
            named_err.unwrap_or(Error::NoTrustedIaca {
                what: "CRL",
                reason: last,
            })
        })?;
        match self.crls.iter_mut().find(|c| c.iaca == iaca) {
            Some(held) if held.der == der => Ok(AddOutcome::Duplicate),
            Some(held) if held.crl.crl_number().is_some_and(|n| *n >= number) => {
                Ok(AddOutcome::NotNewer)
            }
            Some(held) => {
                *held = StoredCrl {
                    der: der.to_vec(),
                    iaca,
                    crl,
                };
                Ok(AddOutcome::Replaced)
            }
            None => {
                self.crls.push(StoredCrl {
                    der: der.to_vec(),
                    iaca,
                    crl,
                });
                Ok(AddOutcome::Added)
            }
        }
    }

    /// Every trusted IACA certificate, whatever its source and docTypes (may repeat).
    fn all_iacas(&self) -> impl Iterator<Item = &Certificate> {
        self.iacas.iter().chain(&self.links).chain(
            self.vicals
                .iter()
                .flat_map(|v| v.vical.entries().iter().map(|e| &e.certificate)),
        )
    }

    /// Recomputes the per-docType anchors (which resets their warm memory: inputs change
    /// rarely, documents often).
    fn rebuild(&mut self) {
        let mut any: Vec<Certificate> = Vec::new();
        for c in self.iacas.iter().chain(&self.links) {
            if !any.contains(c) {
                any.push(c.clone());
            }
        }
        let mut scoped: BTreeMap<String, Vec<Certificate>> = BTreeMap::new();
        for entry in self.vicals.iter().flat_map(|v| v.vical.entries()) {
            for doc_type in &entry.doc_types {
                let list = scoped
                    .entry(doc_type.clone())
                    .or_insert_with(|| any.clone());
                if !list.contains(&entry.certificate) {
                    list.push(entry.certificate.clone());
                }
            }
        }
        self.by_doc_type = scoped
            .into_iter()
            .map(|(d, certs)| (d, IacaAnchors::new(certs)))
            .collect();
        self.any_doc_type = IacaAnchors::new(any);
    }

    /// The anchors for documents of `doc_type`: direct IACAs and links, plus the VICAL IACAs
    /// listed for `doc_type`. The same instance is returned each time, so its memory of
    /// verified DS chains stays warm across documents.
    pub fn anchors_for(&self, doc_type: &str) -> &IacaAnchors {
        self.by_doc_type.get(doc_type).unwrap_or(&self.any_doc_type)
    }

    /// The CRL held for `iaca` (matched by subject DN and key), if any.
    pub fn crl_for(&self, iaca: &Certificate) -> Option<&VerifiedCrl> {
        let id = iaca_id(iaca);
        self.crls.iter().find(|c| c.iaca == id).map(|c| &c.crl)
    }

    /// The directly trusted IACA certificates.
    pub fn iacas(&self) -> &[Certificate] {
        &self.iacas
    }

    /// The link certificates, in the order added.
    pub fn links(&self) -> &[Certificate] {
        &self.links
    }

    /// The VICAL trust anchors.
    pub fn vical_anchors(&self) -> &[Certificate] {
        &self.vical_anchors
    }

    /// The VICALs held, one per provider.
    pub fn vicals(&self) -> impl Iterator<Item = &VerifiedVical> {
        self.vicals.iter().map(|v| &v.vical)
    }

    /// The CRLs held, one per IACA key.
    pub fn crls(&self) -> impl Iterator<Item = &VerifiedCrl> {
        self.crls.iter().map(|c| &c.crl)
    }

    /// Freshness of every VICAL at `at` (default maximum age for lists without nextUpdate),
    /// as (provider, freshness).
    pub fn vical_freshness(
        &self,
        at: OffsetDateTime,
        skew: Duration,
    ) -> Vec<(String, VicalFreshness)> {
        self.vicals
            .iter()
            .map(|v| {
                (
                    v.vical.provider().to_owned(),
                    v.vical.freshness_at(at, skew, DEFAULT_MAX_AGE),
                )
            })
            .collect()
    }
}
