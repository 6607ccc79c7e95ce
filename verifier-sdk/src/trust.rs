//! The trust store object: what a verification trusts, shared by every call.
//!
//! It wraps [`mso::trust::TrustStore`]: IACAs, link certificates (a new IACA key certified by a
//! trusted one), VICALs (verified against VICAL anchors; their IACAs trusted for the docTypes
//! they list) and CRLs (verified against the issuing IACA; the newest cRLNumber wins), with the
//! revocation policy, serialisable for offline use. DS certificates already chained to an IACA
//! are remembered, so a long-lived store is "warm". DS certificates can also be pinned (tests
//! and closed deployments); pins are not part of the serialised store.

use std::sync::{Arc, RwLock};

use mso::crypto::DefaultVerifier;
use mso::trust::{self as t, TrustStore as MsoTrustStore};
use mso::verify::IssuerTrust;
use mso::x509::Certificate;
use time::OffsetDateTime;

use crate::error::{Result, VerifierError};
/// Largest PEM text accepted in one call (a bundle of many IACAs fits easily).
pub const MAX_PEM_LEN: usize = 1024 * 1024;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// What a certificate added to the store is, for display and audit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CertificateInfo {
    /// Subject DN, RDNs in certificate order (e.g. `C=US,CN=utopia ds`).
    pub subject: String,
    /// Issuer DN, RDNs in certificate order.
    pub issuer: String,
    /// Serial number, big-endian bytes.
    pub serial_number: Vec<u8>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// Subject country (C), if present.
    pub country: Option<String>,
    /// Subject state or province (ST), if present.
    pub state_or_province: Option<String>,
    /// SubjectKeyIdentifier, if present.
    pub subject_key_id: Option<Vec<u8>>,
}

impl From<&Certificate> for CertificateInfo {
    fn from(c: &Certificate) -> Self {
        let tbs = &c.inner().tbs_certificate;
        CertificateInfo {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            serial_number: c.serial_number().to_vec(),
            not_before: c.not_before().unix_timestamp(),
            not_after: c.not_after().unix_timestamp(),
            country: c.country(),
            state_or_province: c.state_or_province(),
            subject_key_id: c.subject_key_id(),
        }
    }
}

/// What adding an input to the store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AddOutcome {
    /// The input was new and is now trusted.
    Added,
    /// It replaced an older one (a CRL with a lower cRLNumber, an older VICAL).
    Replaced,
    /// The same input was already held: nothing changed.
    Duplicate,
    /// A newer (or equally new) one is already held: the input was verified but ignored.
    NotNewer,
}

impl From<t::AddOutcome> for AddOutcome {
    fn from(o: t::AddOutcome) -> Self {
        match o {
            t::AddOutcome::Added => AddOutcome::Added,
            t::AddOutcome::Replaced => AddOutcome::Replaced,
            t::AddOutcome::Duplicate => AddOutcome::Duplicate,
            t::AddOutcome::NotNewer => AddOutcome::NotNewer,
        }
    }
}

/// How DS revocation is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RevocationPolicy {
    /// True (the default, RFC 5280): a CRL past its nextUpdate fails the DsRevocation check.
    /// False: the check uses the entries held and the report carries a warning.
    pub expired_crl_fails: bool,
    /// True: no CRL for the DS certificate's IACA fails the check. False (the default): the
    /// report carries a warning, as IACAs from a VICAL often have no CRL in the store.
    pub missing_crl_fails: bool,
}

impl From<t::RevocationPolicy> for RevocationPolicy {
    fn from(p: t::RevocationPolicy) -> Self {
        RevocationPolicy {
            expired_crl_fails: p.expired_crl == t::ExpiredCrlPolicy::Fail,
            missing_crl_fails: p.missing_crl == t::MissingCrlPolicy::Fail,
        }
    }
}

impl From<RevocationPolicy> for t::RevocationPolicy {
    fn from(p: RevocationPolicy) -> Self {
        t::RevocationPolicy {
            expired_crl: if p.expired_crl_fails {
                t::ExpiredCrlPolicy::Fail
            } else {
                t::ExpiredCrlPolicy::Warn
            },
            missing_crl: if p.missing_crl_fails {
                t::MissingCrlPolicy::Fail
            } else {
                t::MissingCrlPolicy::Warn
            },
        }
    }
}

/// A CRL held by the store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CrlInfo {
    /// The issuing IACA's DN.
    pub issuer: String,
    /// cRLNumber, big-endian bytes.
    pub crl_number: Option<Vec<u8>>,
    /// thisUpdate, Unix seconds.
    pub this_update: i64,
    /// nextUpdate, Unix seconds.
    pub next_update: i64,
    /// Number of revoked certificates listed.
    pub revoked_count: u64,
}

/// A VICAL held by the store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VicalInfo {
    /// vicalProvider.
    pub provider: String,
    /// version.
    pub version: String,
    /// date, Unix seconds.
    pub date: i64,
    /// vicalIssueID, if present.
    pub issue_id: Option<u64>,
    /// nextUpdate, Unix seconds, if present.
    pub next_update: Option<i64>,
    /// Number of IACA entries.
    pub iaca_count: u64,
    /// True when fresh at the time asked about.
    pub fresh: bool,
    /// Why it is stale (past nextUpdate, too old, signer certificate expired), in words.
    pub stale_reasons: Vec<String>,
}

/// An immutable view of the store; replaced as a whole when the store changes, so a
/// verification in progress keeps a consistent view without holding a lock.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// Always `IssuerTrust::Store`.
    store: Arc<IssuerTrust>,
    pinned: Vec<Arc<IssuerTrust>>,
}

impl Snapshot {
    fn with_store(store: MsoTrustStore, pinned: Vec<Arc<IssuerTrust>>) -> Self {
        Snapshot {
            store: Arc::new(IssuerTrust::Store(Box::new(store))),
            pinned,
        }
    }

    /// The trust to verify a document whose x5chain leaf is `leaf`: a pinned DS certificate
    /// if it is exactly that one, otherwise the store.
    pub(crate) fn trust_for(&self, leaf: Option<&[u8]>) -> &IssuerTrust {
        leaf.and_then(|leaf| {
            self.pinned.iter().find(|t| match t.as_ref() {
                IssuerTrust::PinnedDocumentSigner(ds) => ds.der() == leaf,
                IssuerTrust::Iacas(_) | IssuerTrust::Store(_) => false,
            })
        })
        .map_or(self.store.as_ref(), |t| t.as_ref())
    }

    pub(crate) fn store(&self) -> Result<&MsoTrustStore> {
        self.store
            .store()
            .ok_or_else(|| VerifierError::internal("trust snapshot without a store"))
    }

    fn pinned_certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.pinned.iter().filter_map(|t| match t.as_ref() {
            IssuerTrust::PinnedDocumentSigner(ds) => Some(ds.as_ref()),
            IssuerTrust::Iacas(_) | IssuerTrust::Store(_) => None,
        })
    }
}

/// The verifier's trust material. Thread-safe; share one instance across verifications so the
/// DS certificate checks it remembers are reused.
#[derive(Debug, uniffi::Object)]
pub struct TrustStore {
    state: RwLock<Arc<Snapshot>>,
    /// ETags of what a DTS sync fetched, by URL (not serialised).
    pub(crate) etags: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

fn at_time(at_unix_seconds: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at_unix_seconds).map_err(|_| {
        VerifierError::invalid_argument(format!("time {at_unix_seconds} is out of range"))
    })
}

impl TrustStore {
    pub(crate) fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.state
            .read()
            .map(|s| Arc::clone(&s))
            .map_err(|_| VerifierError::internal("trust store lock poisoned"))
    }

    /// Applies `change` to a copy of the store and publishes it; on error nothing changes.
    pub(crate) fn update_store<T>(
        &self,
        change: impl FnOnce(&mut MsoTrustStore) -> Result<T>,
    ) -> Result<T> {
        let mut state = self
            .state
            .write()
            .map_err(|_| VerifierError::internal("trust store lock poisoned"))?;
        let mut store = state.store()?.clone();
        let out = change(&mut store)?;
        *state = Arc::new(Snapshot::with_store(store, state.pinned.clone()));
        Ok(out)
    }

    fn pin(&self, certs: Vec<Certificate>) -> Result<Vec<CertificateInfo>> {
        let infos = certs.iter().map(CertificateInfo::from).collect();
        let mut state = self
            .state
            .write()
            .map_err(|_| VerifierError::internal("trust store lock poisoned"))?;
        let mut pinned = state.pinned.clone();
        for c in certs {
            if !state.pinned_certificates().any(|p| p == &c) {
                pinned.push(Arc::new(IssuerTrust::pinned(c)));
            }
        }
        // The store itself (and its memory of checked DS certificates) is shared.
        *state = Arc::new(Snapshot {
            store: Arc::clone(&state.store),
            pinned,
        });
        Ok(infos)
    }

    fn add_certificates(
        &self,
        certs: Vec<Vec<u8>>,
        add: impl Fn(&mut MsoTrustStore, &[u8]) -> mso::Result<t::AddOutcome>,
    ) -> Result<Vec<CertificateInfo>> {
        let mut infos = Vec::with_capacity(certs.len());
        for der in &certs {
            infos.push(CertificateInfo::from(&Certificate::from_der(der)?));
        }
        // All or nothing: one bad certificate in a bundle adds none of them.
        self.update_store(|store| {
            for der in &certs {
                add(store, der)?;
            }
            Ok(())
        })?;
        Ok(infos)
    }
}

/// The DER of every certificate in `input`: DER itself, or PEM text with one or more blocks.
fn certificates_der(input: &[u8]) -> Result<Vec<Vec<u8>>> {
    match std::str::from_utf8(input) {
        Ok(text) if text.contains(PEM_BEGIN) => Ok(from_pem_bundle(text)?
            .into_iter()
            .map(|c| c.der().to_vec())
            .collect()),
        _ => Ok(vec![input.to_vec()]),
    }
}

fn from_pem_bundle(pem: &str) -> Result<Vec<Certificate>> {
    if pem.len() > MAX_PEM_LEN {
        return Err(VerifierError::SizeLimit {
            reason: format!(
                "PEM of {} bytes exceeds the limit of {MAX_PEM_LEN}",
                pem.len()
            ),
        });
    }
    let mut certs = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(PEM_BEGIN) {
        let block = rest.get(start..).unwrap_or_default();
        let end = block
            .find(PEM_END)
            .ok_or_else(|| VerifierError::Certificate {
                reason: "PEM CERTIFICATE block without its END line".into(),
            })?
            + PEM_END.len();
        certs.push(Certificate::from_pem(block.get(..end).unwrap_or_default())?);
        rest = block.get(end..).unwrap_or_default();
    }
    if certs.is_empty() {
        return Err(VerifierError::Certificate {
            reason: "no PEM CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

#[uniffi::export]
impl TrustStore {
    /// An empty store with the default revocation policy: it trusts nothing until IACAs,
    /// link certificates or VICALs are added (or DS certificates pinned).
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(TrustStore {
            state: RwLock::new(Arc::new(Snapshot::with_store(
                MsoTrustStore::default(),
                Vec::new(),
            ))),
            etags: Default::default(),
        })
    }

    /// Reloads a store written by [`TrustStore::to_bytes`], re-verifying every input (profiles,
    /// signatures) at `at_unix_seconds`; a damaged or altered file is refused.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>, at_unix_seconds: i64) -> Result<Arc<Self>> {
        let store = MsoTrustStore::from_bytes(&bytes, at_time(at_unix_seconds)?, &DefaultVerifier)?;
        Ok(Arc::new(TrustStore {
            state: RwLock::new(Arc::new(Snapshot::with_store(store, Vec::new()))),
            etags: Default::default(),
        }))
    }

    /// The store as bytes for offline use (IACAs, links, VICAL anchors, VICALs, CRLs and the
    /// policy; not pinned DS certificates). Keep it in the platform's protected storage: whoever
    /// can replace it decides what is trusted.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.snapshot()?.store()?.to_bytes())
    }

    /// Trusts DS certificates issued by this IACA (DER), after checking it is a self-signed
    /// certificate of the IACA profile.
    pub fn add_iaca_der(&self, der: Vec<u8>) -> Result<CertificateInfo> {
        let mut infos = self.add_certificates(vec![der], |s, c| s.add_iaca(c, &DefaultVerifier))?;
        infos
            .pop()
            .ok_or_else(|| VerifierError::internal("no certificate added"))
    }

    /// Trusts DS certificates issued by these IACAs (one or more PEM `CERTIFICATE` blocks; all
    /// or none are added).
    pub fn add_iaca_pem(&self, pem: String) -> Result<Vec<CertificateInfo>> {
        let ders = certificates_der(pem.as_bytes())?;
        self.add_certificates(ders, |s, c| s.add_iaca(c, &DefaultVerifier))
    }

    /// Trusts the new IACA key a link certificate (DER or PEM) certifies: it must be signed by
    /// an IACA already trusted (or an earlier link) and keep that IACA's subject name.
    pub fn add_link_certificate(&self, certificate: Vec<u8>) -> Result<Vec<CertificateInfo>> {
        let ders = certificates_der(&certificate)?;
        self.add_certificates(ders, |s, c| s.add_link(c, &DefaultVerifier))
    }

    /// Trusts this certificate (DER or PEM) to sign VICALs (the VICAL provider's root).
    pub fn add_vical_anchor(&self, certificate: Vec<u8>) -> Result<Vec<CertificateInfo>> {
        let ders = certificates_der(&certificate)?;
        self.add_certificates(ders, |s, c| s.add_vical_anchor(c))
    }

    /// Verifies a VICAL at `at_unix_seconds` (COSE signature, chain to a VICAL anchor, EKU
    /// 1.0.18013.5.1.8) and trusts its IACAs for the docTypes each entry lists. A newer list
    /// from the same provider replaces the held one.
    pub fn add_vical(&self, vical: Vec<u8>, at_unix_seconds: i64) -> Result<AddOutcome> {
        let at = at_time(at_unix_seconds)?;
        self.update_store(|s| Ok(s.add_vical(&vical, at, &DefaultVerifier)?.into()))
    }

    /// Verifies a CRL (DER) at `at_unix_seconds` against the trusted IACA that issued it and
    /// keeps it if its cRLNumber is higher than the one held for that IACA.
    pub fn add_crl(&self, der: Vec<u8>, at_unix_seconds: i64) -> Result<AddOutcome> {
        let at = at_time(at_unix_seconds)?;
        self.update_store(|s| Ok(s.add_crl(&der, at, &DefaultVerifier)?.into()))
    }

    /// The revocation policy.
    pub fn revocation_policy(&self) -> Result<RevocationPolicy> {
        Ok(self.snapshot()?.store()?.policy().into())
    }

    /// Changes the revocation policy (kept by [`TrustStore::to_bytes`]).
    pub fn set_revocation_policy(&self, policy: RevocationPolicy) -> Result<()> {
        self.update_store(|s| {
            s.set_policy(policy.into());
            Ok(())
        })
    }

    /// Trusts exactly this DS certificate (DER), without an IACA: for tests and closed
    /// deployments. A document whose x5chain leaf is byte-identical to it is verified against
    /// it; every other document against the store.
    pub fn pin_document_signer_der(&self, der: Vec<u8>) -> Result<CertificateInfo> {
        let cert = Certificate::from_der(&der)?;
        let info = CertificateInfo::from(&cert);
        self.pin(vec![cert])?;
        Ok(info)
    }

    /// Like [`TrustStore::pin_document_signer_der`], for PEM `CERTIFICATE` blocks.
    pub fn pin_document_signer_pem(&self, pem: String) -> Result<Vec<CertificateInfo>> {
        self.pin(from_pem_bundle(&pem)?)
    }

    /// The IACAs trusted directly.
    pub fn iacas(&self) -> Result<Vec<CertificateInfo>> {
        let snapshot = self.snapshot()?;
        Ok(snapshot
            .store()?
            .iacas()
            .iter()
            .map(CertificateInfo::from)
            .collect())
    }

    /// The link certificates held.
    pub fn link_certificates(&self) -> Result<Vec<CertificateInfo>> {
        let snapshot = self.snapshot()?;
        Ok(snapshot
            .store()?
            .links()
            .iter()
            .map(CertificateInfo::from)
            .collect())
    }

    /// The CRLs held, one per IACA.
    pub fn crls(&self) -> Result<Vec<CrlInfo>> {
        let snapshot = self.snapshot()?;
        Ok(snapshot
            .store()?
            .crls()
            .map(|c| CrlInfo {
                issuer: c.issuer().to_string(),
                crl_number: c.crl_number().map(|n| n.as_bytes().to_vec()),
                this_update: c.this_update().unix_timestamp(),
                next_update: c.next_update().unix_timestamp(),
                revoked_count: u64::try_from(c.len()).unwrap_or(u64::MAX),
            })
            .collect())
    }

    /// The VICALs held, with their freshness at `at_unix_seconds`.
    pub fn vicals(&self, at_unix_seconds: i64) -> Result<Vec<VicalInfo>> {
        let at = at_time(at_unix_seconds)?;
        let snapshot = self.snapshot()?;
        Ok(snapshot
            .store()?
            .vicals()
            .map(|v| {
                let freshness = v.freshness_at(
                    at,
                    mso::x509::policy::DEFAULT_SKEW,
                    mso::vical::DEFAULT_MAX_AGE,
                );
                VicalInfo {
                    provider: v.provider().to_owned(),
                    version: v.version().to_owned(),
                    date: v.date().unix_timestamp(),
                    issue_id: v.issue_id(),
                    next_update: v.next_update().map(OffsetDateTime::unix_timestamp),
                    iaca_count: u64::try_from(v.entries().len()).unwrap_or(u64::MAX),
                    fresh: freshness.is_fresh(),
                    stale_reasons: freshness
                        .reasons()
                        .iter()
                        .map(|r| format!("{r:?}"))
                        .collect(),
                }
            })
            .collect())
    }

    /// The pinned DS certificates.
    pub fn pinned_document_signers(&self) -> Result<Vec<CertificateInfo>> {
        Ok(self
            .snapshot()?
            .pinned_certificates()
            .map(CertificateInfo::from)
            .collect())
    }
}
