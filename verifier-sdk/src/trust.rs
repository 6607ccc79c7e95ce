//! The trust store object: what a verification trusts, shared by every call.
//!
//! Today it wraps `mso::verify::IssuerTrust`: IACAs (DS certificates chain to them in one step,
//! and the store remembers DS signatures already checked, so a long-lived store is "warm") and
//! pinned DS certificates (tests and closed deployments). When `mso::trust::TrustStore` lands
//! (link certificates, CRLs, VICALs, serialise/reload), this object holds that instead and gains
//! the matching methods; the verification entry points keep their signatures.

use std::sync::{Arc, RwLock};

use mso::verify::IssuerTrust;
use mso::x509::Certificate;

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

/// An immutable view of the store; replaced as a whole when the store changes, so a
/// verification in progress keeps a consistent view without holding a lock.
#[derive(Debug)]
pub(crate) struct Snapshot {
    // Shared between snapshots, so pinning a DS keeps the IACAs' memory (the store stays warm).
    iacas: Arc<IssuerTrust>,
    pinned: Vec<Arc<IssuerTrust>>,
}

impl Snapshot {
    fn empty() -> Self {
        Snapshot {
            iacas: Arc::new(IssuerTrust::iacas(Vec::new())),
            pinned: Vec::new(),
        }
    }

    /// The trust to verify a document whose x5chain leaf is `leaf`: a pinned DS certificate
    /// if it is exactly that one, otherwise the IACAs.
    pub(crate) fn trust_for(&self, leaf: Option<&[u8]>) -> &IssuerTrust {
        leaf.and_then(|leaf| {
            self.pinned.iter().find(|t| match t.as_ref() {
                IssuerTrust::PinnedDocumentSigner(ds) => ds.der() == leaf,
                IssuerTrust::Iacas(_) => false,
            })
        })
        .map_or(self.iacas.as_ref(), |t| t.as_ref())
    }

    fn iaca_certificates(&self) -> &[Certificate] {
        match self.iacas.as_ref() {
            IssuerTrust::Iacas(anchors) => anchors.anchors(),
            IssuerTrust::PinnedDocumentSigner(_) => &[],
        }
    }

    fn pinned_certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.pinned.iter().filter_map(|t| match t.as_ref() {
            IssuerTrust::PinnedDocumentSigner(ds) => Some(ds.as_ref()),
            IssuerTrust::Iacas(_) => None,
        })
    }
}

/// The verifier's trust material. Thread-safe; share one instance across verifications so the
/// DS certificate checks it remembers are reused.
#[derive(Debug, uniffi::Object)]
pub struct TrustStore {
    state: RwLock<Arc<Snapshot>>,
}

impl TrustStore {
    pub(crate) fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.state
            .read()
            .map(|s| Arc::clone(&s))
            .map_err(|_| VerifierError::internal("trust store lock poisoned"))
    }

    fn update(&self, change: impl FnOnce(&Snapshot) -> Snapshot) -> Result<()> {
        let mut state = self
            .state
            .write()
            .map_err(|_| VerifierError::internal("trust store lock poisoned"))?;
        *state = Arc::new(change(&state));
        Ok(())
    }

    fn add_iacas(&self, certs: Vec<Certificate>) -> Result<Vec<CertificateInfo>> {
        let infos = certs.iter().map(CertificateInfo::from).collect();
        self.update(|s| {
            let mut anchors = s.iaca_certificates().to_vec();
            for c in certs {
                if !anchors.contains(&c) {
                    anchors.push(c);
                }
            }
            // A new anchor set starts with an empty memory of checked DS certificates.
            Snapshot {
                iacas: Arc::new(IssuerTrust::iacas(anchors)),
                pinned: s.pinned.clone(),
            }
        })?;
        Ok(infos)
    }

    fn pin(&self, certs: Vec<Certificate>) -> Result<Vec<CertificateInfo>> {
        let infos = certs.iter().map(CertificateInfo::from).collect();
        self.update(|s| {
            let mut pinned = s.pinned.clone();
            for c in certs {
                if !s.pinned_certificates().any(|p| p == &c) {
                    pinned.push(Arc::new(IssuerTrust::pinned(c)));
                }
            }
            Snapshot {
                iacas: Arc::clone(&s.iacas),
                pinned,
            }
        })?;
        Ok(infos)
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
    /// An empty store: it trusts nothing until IACAs are added or DS certificates pinned.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(TrustStore {
            state: RwLock::new(Arc::new(Snapshot::empty())),
        })
    }

    /// Trusts DS certificates issued by this IACA (DER).
    pub fn add_iaca_der(&self, der: Vec<u8>) -> Result<CertificateInfo> {
        let cert = Certificate::from_der(&der)?;
        let info = CertificateInfo::from(&cert);
        self.add_iacas(vec![cert])?;
        Ok(info)
    }

    /// Trusts DS certificates issued by these IACAs (one or more PEM `CERTIFICATE` blocks).
    pub fn add_iaca_pem(&self, pem: String) -> Result<Vec<CertificateInfo>> {
        self.add_iacas(from_pem_bundle(&pem)?)
    }

    /// Trusts exactly this DS certificate (DER), without an IACA: for tests and closed
    /// deployments. A document whose x5chain leaf is byte-identical to it is verified against
    /// it; every other document against the IACAs.
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

    /// The trusted IACAs.
    pub fn iacas(&self) -> Result<Vec<CertificateInfo>> {
        Ok(self
            .snapshot()?
            .iaca_certificates()
            .iter()
            .map(CertificateInfo::from)
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
