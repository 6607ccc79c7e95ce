//! What a verification is given: whom to trust, when, with which backend and policy.

use time::{Duration, OffsetDateTime};

use crate::crypto::ecdh::AgreementKey;
use crate::crypto::{Algorithm, Verifier};
use crate::model::SessionTranscript;
use crate::trust::TrustStore;
use crate::x509::policy::{DEFAULT_ALGORITHMS, DEFAULT_SKEW};
use crate::x509::{Certificate, TrustAnchors};

/// What the issuer's DS certificate must chain to.
#[derive(Debug)]
pub enum IssuerTrust {
    /// Trust exactly this DS certificate (tests, pinned deployments): the x5chain leaf must be
    /// byte-identical to it.
    PinnedDocumentSigner(Box<Certificate>),
    /// Trust DS certificates issued by one of these IACAs (one step, validated by
    /// [`crate::x509::path`]).
    Iacas(TrustAnchors),
    /// Trust what a relying party's [`TrustStore`] trusts for the document's docType, and
    /// check DS revocation against the store's CRLs.
    Store(Box<TrustStore>),
}

impl IssuerTrust {
    /// Trust DS certificates issued by any of `iacas`.
    pub fn iacas(iacas: Vec<Certificate>) -> Self {
        IssuerTrust::Iacas(TrustAnchors::new(iacas))
    }

    /// Trust exactly this DS certificate.
    pub fn pinned(ds: Certificate) -> Self {
        IssuerTrust::PinnedDocumentSigner(Box::new(ds))
    }

    /// The IACA anchors for documents of `doc_type`, if trust is not a pinned DS.
    pub fn anchors_for(&self, doc_type: &str) -> Option<&TrustAnchors> {
        match self {
            IssuerTrust::PinnedDocumentSigner(_) => None,
            IssuerTrust::Iacas(a) => Some(a),
            IssuerTrust::Store(s) => Some(s.anchors_for(doc_type)),
        }
    }

    /// The trust store, for [`IssuerTrust::Store`].
    pub fn store(&self) -> Option<&TrustStore> {
        match self {
            IssuerTrust::Store(s) => Some(s),
            _ => None,
        }
    }

    /// The trust store, mutably (to add a newer CRL or VICAL between verifications).
    pub fn store_mut(&mut self) -> Option<&mut TrustStore> {
        match self {
            IssuerTrust::Store(s) => Some(s),
            _ => None,
        }
    }
}

impl From<TrustStore> for IssuerTrust {
    fn from(store: TrustStore) -> Self {
        IssuerTrust::Store(Box::new(store))
    }
}

impl Clone for IssuerTrust {
    fn clone(&self) -> Self {
        match self {
            IssuerTrust::PinnedDocumentSigner(c) => IssuerTrust::PinnedDocumentSigner(c.clone()),
            IssuerTrust::Iacas(a) => IssuerTrust::Iacas(a.clone()),
            IssuerTrust::Store(s) => IssuerTrust::Store(s.clone()),
        }
    }
}

/// Inputs common to every verification. Build it with [`VerifyOptions::new`] and override
/// fields with struct update syntax, so new fields get their defaults.
#[derive(Clone)]
pub struct VerifyOptions<'a> {
    /// The moment to verify at.
    pub at: OffsetDateTime,
    /// Tolerated clock skew, applied to every time comparison.
    pub skew: Duration,
    /// Which DS certificates to trust.
    pub trust: &'a IssuerTrust,
    /// Signature algorithms accepted for issuerAuth and deviceSignature.
    pub allowed_algorithms: &'a [Algorithm],
    /// The signature backend.
    pub verifier: &'a dyn Verifier,
    /// Status List / Identifier List tokens the app fetched for the MSOs' `status` entries,
    /// as received. Empty: MSO status is not checked (a warning when an MSO has one).
    pub list_tokens: &'a [ListToken<'a>],
    /// What to do with an unprotected header entry of issuerAuth or deviceSignature whose
    /// value is null or undefined (see [`Placeholders`]).
    pub placeholders: Placeholders,
}

/// What to do with an unprotected COSE header entry whose value is `null` or `undefined`
/// (such as the `{4: undefined}` a widely used issuer library writes as `kid`).
///
/// The rule for things outside every signature: an entry that carries no value and plays no
/// part in verification is ignored with a named warning ([`Placeholders::Warn`], the
/// default), or refused when the relying party asks for strictness
/// ([`Placeholders::Refuse`]). Anything that could change how the document is verified stays
/// an error whatever this says: an unprotected `alg`, an unusable x5chain (`x5chain: undefined` included, see
/// [`crate::cose::LABELS_READ_UNPROTECTED`]), a header entry of
/// the wrong type, anything malformed in the protected header (which is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Placeholders {
    /// Accept the document; each ignored entry is a warning on the report.
    #[default]
    Warn,
    /// Fail the document's [`CheckKind::UnprotectedHeader`](super::CheckKind) check.
    Refuse,
}

impl<'a> VerifyOptions<'a> {
    /// Defaults: [`DEFAULT_SKEW`], [`DEFAULT_ALGORITHMS`], no list tokens, placeholders
    /// warned about.
    pub fn new(at: OffsetDateTime, trust: &'a IssuerTrust, verifier: &'a dyn Verifier) -> Self {
        VerifyOptions {
            at,
            skew: DEFAULT_SKEW,
            trust,
            allowed_algorithms: DEFAULT_ALGORITHMS,
            verifier,
            list_tokens: &[],
            placeholders: Placeholders::Warn,
        }
    }
}

/// A revocation list token the app fetched, by kind, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListToken<'a> {
    /// A Token Status List CWT (for the MSO's `status_list`).
    StatusList(&'a [u8]),
    /// An Identifier List CWT (for the MSO's `identifier_list`).
    IdentifierList(&'a [u8]),
}

/// Session material for device authentication.
#[derive(Debug, Clone)]
pub struct DeviceAuthInput<'a> {
    /// The SessionTranscript both sides built.
    pub transcript: &'a SessionTranscript,
    /// The reader's ephemeral private key, needed only for deviceMac.
    pub e_reader_key: Option<&'a AgreementKey>,
}
