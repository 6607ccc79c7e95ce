//! A relying party's trust store: which IACAs it trusts for which docTypes, and their CRLs.
//!
//! Inputs accumulate from several sources, each verified when it is added:
//!
//! - IACA certificates ([`TrustStore::add_iaca`]): DER or PEM, self-signed, with no error
//!   finding against the Annex B IACA profile ([`crate::x509::profile::inspect_iaca`]: a CA
//!   with keyCertSign, no extendedKeyUsage, no forbidden or unknown critical extension, a
//!   countryName; tolerant where production IACAs differ harmlessly, e.g. keyUsage absent or
//!   pathLen other than 0). Trusted for every docType. These, and the VICAL
//!   anchors, are the roots the store cannot verify: whoever can write them decides trust.
//! - Link certificates ([`TrustStore::add_link`]): a new IACA key certified by a key the store
//!   already trusts directly (an IACA or an earlier link), same subject DN (a key rollover,
//!   PROFILES.md "NewWithOld" / "OldWithNew"), validated by [`crate::x509::path`] as a
//!   [`Role::Link`]. The link certificate itself becomes an anchor: it carries the DN and the
//!   new key, so DS certificates issued under the new key chain to it. It must have been
//!   issued inside its issuer's validity (the path is validated at the link's notBefore, so a
//!   reload later does not depend on the clock).
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

use der::Encode;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::crl::{Crl, CrlError, CrlVerifyOptions, VerifiedCrl};
use crate::crypto::Verifier;
use crate::error::{Error, Result};
use crate::vical::{StaleReason, VerifiedVical, VicalError, VicalFreshness, DEFAULT_MAX_AGE};
use crate::x509::path::{self, PathPolicy};
use crate::x509::profile::{self, Role};
use crate::x509::{CertRef, Certificate, PathError, Position, TrustAnchors};

pub use encoding::{DEFAULT_MAX_STORE_LEN, STORE_FORMAT, STORE_VERSION};

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
    vical_anchors: TrustAnchors,
    vicals: Vec<StoredVical>,
    crls: Vec<StoredCrl>,
    // Derived from the inputs by `rebuild`; each keeps its own warm chain-check memory.
    any_doc_type: TrustAnchors,
    by_doc_type: BTreeMap<String, TrustAnchors>,
    every_iaca: TrustAnchors,
}

impl Default for TrustStore {
    fn default() -> Self {
        Self::new(RevocationPolicy::default())
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

/// Refuses a certificate with error findings against `role`'s profile.
fn check_profile(role: Role, cert: &Certificate) -> Result<()> {
    let violations: Vec<_> = profile::inspect(role, cert.tbs(), None)
        .errors()
        .cloned()
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Profile { role, violations })
    }
}

impl TrustStore {
    /// An empty store with `policy`.
    pub fn new(policy: RevocationPolicy) -> Self {
        TrustStore {
            policy,
            iacas: Vec::new(),
            links: Vec::new(),
            vical_anchors: TrustAnchors::new(Vec::new()),
            vicals: Vec::new(),
            crls: Vec::new(),
            any_doc_type: TrustAnchors::new(Vec::new()),
            by_doc_type: BTreeMap::new(),
            every_iaca: TrustAnchors::new(Vec::new()),
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
        let cert = Certificate::from_der_or_pem(cert)?;
        check_profile(Role::Iaca, &cert)?;
        if self.iacas.contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        cert.verify_issued_by(&cert, verifier).map_err(|_| {
            let me = |position| CertRef {
                position,
                subject: cert.subject().to_string(),
            };
            PathError::BadSignature {
                cert: me(Position::Leaf),
                issuer: me(Position::Leaf),
            }
        })?;
        self.iacas.push(cert);
        self.rebuild();
        Ok(AddOutcome::Added)
    }

    /// Trusts the key certified by a link certificate (DER or PEM): a [`Role::Link`]
    /// certificate (same subject DN as its issuer, another key) signed by an IACA trusted
    /// directly or by an earlier link, and issued inside that issuer's validity. Trusted for
    /// every docType.
    pub fn add_link(&mut self, cert: &[u8], verifier: &dyn Verifier) -> Result<AddOutcome> {
        let cert = Certificate::from_der_or_pem(cert)?;
        if self.links.contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        // Validated at its own notBefore, exactly (no skew): that is when its issuer signed
        // it, so the issuer must have been valid then, whatever the clock says today.
        let anchors = TrustAnchors::new(self.iacas.iter().chain(&self.links).cloned().collect());
        let policy = PathPolicy {
            skew: Duration::ZERO,
            ..PathPolicy::default()
        };
        path::validate_with(
            &cert,
            &[],
            &anchors,
            cert.not_before(),
            Role::Link,
            verifier,
            &policy,
        )?;
        // A link its issuer's CRL lists (the root-compromise procedure revokes them) leads
        // nowhere trusted. Only the issuer's own CRL can answer: others are out of scope.
        if self.crls.iter().any(|c| revokes(&c.crl, &cert)) {
            return Err(Error::Certificate(format!(
                "link certificate {} is revoked by its issuer's CRL",
                cert.serial_number()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )));
        }
        self.links.push(cert);
        self.rebuild();
        Ok(AddOutcome::Added)
    }

    /// Adds a VICAL trust anchor (DER or PEM): a CA certificate a VICAL signer's path may end
    /// at (e.g. the AAMVA root).
    pub fn add_vical_anchor(&mut self, cert: &[u8]) -> Result<AddOutcome> {
        let cert = Certificate::from_der_or_pem(cert)?;
        let ca = cert.basic_constraints()?.is_some_and(|bc| bc.ca);
        if !ca {
            return Err(Error::Certificate(
                "a VICAL trust anchor must be a CA certificate".into(),
            ));
        }
        cert.public_key()?;
        if self.vical_anchors.anchors().contains(&cert) {
            return Ok(AddOutcome::Duplicate);
        }
        let mut anchors = self.vical_anchors.anchors().to_vec();
        anchors.push(cert);
        self.vical_anchors = TrustAnchors::new(anchors);
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
        let expired = vical.freshness().reasons().iter().filter_map(|r| match r {
            StaleReason::CertificateExpired { not_after, .. } => Some(*not_after),
            _ => None,
        });
        if let Some(not_after) = expired.min() {
            return Err(VicalError::SignerExpiredWhenAdded { not_after, at }.into());
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
        let number = parsed.crl_number().cloned().ok_or(CrlError::NoCrlNumber)?;
        let aki = parsed.authority_key_id();
        let candidates = self.every_iaca.candidates(parsed.issuer(), aki);
        // The error from the IACA the CRL names by key, if any: then the CRL itself is bad.
        let mut named_err: Option<Error> = None;
        let mut last = String::from("no trusted IACA has the CRL issuer's name");
        let mut verified = None;
        for (_, iaca) in candidates {
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
            named_err.unwrap_or_else(|| {
                CrlError::NoTrustedIssuer {
                    issuer: parsed.issuer().to_string(),
                    reason: last,
                }
                .into()
            })
        })?;
        // Links this CRL revokes are no longer trusted, whenever they were added.
        let before = self.links.len();
        self.links.retain(|link| !revokes(&crl, link));
        if self.links.len() != before {
            self.rebuild();
        }
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
        let mut every = any.clone();
        for entry in self.vicals.iter().flat_map(|v| v.vical.entries()) {
            every.push(entry.certificate.clone());
        }
        self.every_iaca = TrustAnchors::new(every);
        self.by_doc_type = scoped
            .into_iter()
            .map(|(d, certs)| (d, TrustAnchors::new(certs)))
            .collect();
        self.any_doc_type = TrustAnchors::new(any);
    }

    /// The anchors for documents of `doc_type`: direct IACAs and links, plus the VICAL IACAs
    /// listed for `doc_type`. The same instance is returned each time, so its memory of
    /// verified DS chains stays warm across documents.
    pub fn anchors_for(&self, doc_type: &str) -> &TrustAnchors {
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
        self.vical_anchors.anchors()
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

/// Whether `crl` lists `cert` and may speak for it (same issuer name and key).
fn revokes(crl: &VerifiedCrl, cert: &Certificate) -> bool {
    crl.is_certificate_revoked(cert).unwrap_or(false)
}
