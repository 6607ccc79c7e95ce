//! Certificate revocation lists: the ISO/IEC 18013-5 Annex B profile of RFC 5280 v2 CRLs, as
//! an IACA publishes them for its Document Signer (and list signer) certificates.
//!
//! Two steps, so a caller can pick the IACA before paying for a signature check:
//!
//! 1. [`Crl::from_der`] parses untrusted DER under a size bound and builds a sorted index of
//!    the revoked serial numbers (compared by integer value, so `00 8a` and `8a` are the same
//!    serial);
//! 2. [`Crl::verify`] checks it against one IACA certificate at an explicit time and returns a
//!    [`VerifiedCrl`], the only type that answers [`VerifiedCrl::is_revoked`].
//!
//! What is checked: v2; issuer name == IACA subject; authorityKeyIdentifier == IACA
//! subjectKeyIdentifier when both are present; the IACA's keyUsage (if present) allows
//! cRLSign; the signature by the IACA key through the [`Verifier`] seam, with the same algorithm
//! in `tbsCertList.signature` and `signatureAlgorithm`; `thisUpdate` not in the future (beyond
//! the skew); `nextUpdate` present and not before `thisUpdate`. Freshness (`nextUpdate` against
//! `at`) is a typed [`CrlFreshness`], not an error, so a caller decides whether an expired CRL
//! is a hard or a soft failure.
//!
//! The IACA's own validity period is not checked here: document verification checks it at its
//! own time ([`crate::verify`]).
//!
//! Refused: unknown critical CRL or entry extensions, delta CRLs (deltaCRLIndicator),
//! partitioned or indirect CRLs (issuingDistributionPoint, certificateIssuer entries: honouring
//! them partially would make a partial list look complete), negative serials, trailing bytes.
//! Unknown non-critical extensions are ignored; reasonCode and invalidityDate are accepted and
//! do not change the answer (a listed serial is revoked, whatever the reason).
//!
//! Errors are [`CrlError`] (inside [`Error::Crl`]), one variant per refusal with its facts;
//! signature failures are the crate's signature errors ([`Error::BadSignature`], …).

use core::cmp::Ordering;

use der::asn1::{BitStringRef, Int, IntRef, ObjectIdentifier};
use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber};
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::time::Time;

pub(crate) mod error;
pub mod profile;

pub use error::{CrlError, ScopeProblem};

use crate::crypto::Verifier;
use crate::error::{Error, Result};
use crate::x509::policy::DEFAULT_SKEW;
use crate::x509::time::to_datetime;
use crate::x509::{oid, verify_x509_signature_with, Certificate};

/// Default bound on a CRL's DER size: 64 MiB, room for well over a million entries (an entry
/// with a 20-octet serial takes about 40 bytes).
pub const DEFAULT_MAX_CRL_LEN: usize = 64 * 1024 * 1024;
/// Longest serial number magnitude accepted, in octets (RFC 5280 §4.1.2.2).
pub const MAX_SERIAL_LEN: usize = 20;

/// Smallest encoding of a revoked entry: SEQUENCE header (2), a one-octet INTEGER (3), a
/// UTCTime (15).
const MIN_ENTRY_LEN: usize = 20;

fn der_err(e: der::Error) -> Error {
    CrlError::Der {
        reason: e.to_string(),
    }
    .into()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// A serial number as a fixed-size, allocation-free key: the bytes `len ‖ magnitude ‖ zero
/// padding` (magnitude without leading zero octets) read as three big-endian words. Equal keys
/// are equal integers, and the derived order is integer order (shorter magnitude first); words
/// compare faster than bytes, which matters when sorting a million entries.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SerialKey([u64; 3]);

impl SerialKey {
    /// The key of a non-negative big-endian integer; `None` if it needs more than
    /// [`MAX_SERIAL_LEN`] octets.
    fn from_magnitude(bytes: &[u8]) -> Option<Self> {
        let magnitude = strip_leading_zeros(bytes);
        let len = u8::try_from(magnitude.len())
            .ok()
            .filter(|&l| usize::from(l) <= MAX_SERIAL_LEN)?;
        let mut buf = [0u8; 24];
        let (head, body) = buf.split_first_mut()?;
        *head = len;
        body.get_mut(..magnitude.len())?.copy_from_slice(magnitude);
        let mut words = [0u64; 3];
        for (word, chunk) in words.iter_mut().zip(buf.chunks_exact(8)) {
            *word = u64::from_be_bytes(chunk.try_into().ok()?);
        }
        Some(SerialKey(words))
    }
}

/// A `cRLNumber`: a non-negative integer of up to 20 octets, ordered by value, so a caller can
/// refuse a CRL older than one it already holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrlNumber(Vec<u8>);

impl CrlNumber {
    /// The number whose big-endian magnitude is `bytes` (leading zero octets are ignored).
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        CrlNumber(strip_leading_zeros(bytes).to_vec())
    }

    /// The big-endian magnitude without leading zero octets (empty for zero).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value, if it fits in a `u128`.
    pub fn to_u128(&self) -> Option<u128> {
        if self.0.len() > 16 {
            return None;
        }
        Some(
            self.0
                .iter()
                .fold(0u128, |acc, &b| (acc << 8) | u128::from(b)),
        )
    }
}

impl From<u64> for CrlNumber {
    fn from(n: u64) -> Self {
        CrlNumber::from_be_bytes(&n.to_be_bytes())
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        // Both magnitudes are minimal, so the longer is the larger.
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether a verified CRL is current at the verification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrlFreshness {
    /// `at` is not after `nextUpdate` (allowing the skew).
    Fresh {
        /// The CRL's nextUpdate.
        next_update: OffsetDateTime,
    },
    /// `at` is after `nextUpdate`: a newer CRL should exist. The entries are still authentic;
    /// the caller decides whether this is a hard or a soft failure.
    Expired {
        /// The CRL's nextUpdate.
        next_update: OffsetDateTime,
    },
}

impl CrlFreshness {
    fn at(next_update: OffsetDateTime, at: OffsetDateTime, skew: Duration) -> Self {
        if at.saturating_sub(skew) > next_update {
            CrlFreshness::Expired { next_update }
        } else {
            CrlFreshness::Fresh { next_update }
        }
    }

    /// True for [`CrlFreshness::Fresh`].
    pub fn is_fresh(self) -> bool {
        matches!(self, CrlFreshness::Fresh { .. })
    }
}

/// Policy for verifying a CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlVerifyOptions {
    /// The moment to verify at.
    pub at: OffsetDateTime,
    /// Tolerated clock skew, applied to every time comparison.
    pub skew: Duration,
    /// Largest accepted DER size, used by [`VerifiedCrl::from_der`].
    pub max_len: usize,
}

impl CrlVerifyOptions {
    /// Defaults: [`DEFAULT_SKEW`] and [`DEFAULT_MAX_CRL_LEN`].
    pub fn new(at: OffsetDateTime) -> Self {
        CrlVerifyOptions {
            at,
            skew: DEFAULT_SKEW,
            max_len: DEFAULT_MAX_CRL_LEN,
        }
    }
}

/// A parsed, not yet verified CRL, borrowing the DER it was parsed from (the signed bytes are
/// checked as received, never re-encoded).
#[derive(Clone)]
pub struct Crl<'a> {
    tbs: &'a [u8],
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &'a [u8],
    issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    crl_number: Option<CrlNumber>,
    authority_key_id: Option<Vec<u8>>,
    serials: Vec<SerialKey>,
}

impl core::fmt::Debug for Crl<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The entries can number millions: print their count only.
        f.debug_struct("Crl")
            .field("issuer", &self.issuer.to_string())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("crl_number", &self.crl_number)
            .field("entries", &self.serials.len())
            .finish_non_exhaustive()
    }
}

/// Reads one SEQUENCE and returns a reader over its contents.
fn sequence<'a>(r: &mut SliceReader<'a>) -> Result<SliceReader<'a>> {
    let header = Header::decode(r).map_err(der_err)?;
    header.tag.assert_eq(Tag::Sequence).map_err(der_err)?;
    let body = r.read_slice(header.length).map_err(der_err)?;
    SliceReader::new(body).map_err(der_err)
}

fn finished(r: &SliceReader<'_>, what: &str) -> Result<()> {
    if r.is_finished() {
        Ok(())
    } else {
        Err(CrlError::Der {
            reason: format!(
                "{} unexpected bytes at the end of {what}",
                r.remaining_len()
            ),
        }
        .into())
    }
}

/// Reads one revokedCertificates entry and returns its key, after its profile checks:
/// `SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions OPTIONAL }`.
/// Read by hand with a borrowed INTEGER, so a million entries cost no allocation each.
fn read_entry(entries: &mut SliceReader<'_>) -> Result<SerialKey> {
    let mut entry = sequence(entries)?;
    let serial = IntRef::decode(&mut entry).map_err(der_err)?;
    Time::decode(&mut entry).map_err(der_err)?;
    if !entry.is_finished() {
        let extensions = Vec::<Extension>::decode(&mut entry).map_err(der_err)?;
        check_entry_extensions(&extensions)?;
    }
    finished(&entry, "a revoked entry")?;
    let serial = serial.as_bytes();
    if serial.first().is_some_and(|&b| b & 0x80 != 0) {
        return Err(CrlError::NegativeSerial.into());
    }
    SerialKey::from_magnitude(serial).ok_or_else(|| CrlError::SerialTooLong.into())
}

fn check_entry_extensions(extensions: &[Extension]) -> Result<()> {
    for ext in extensions {
        if ext.extn_id == oid::CERTIFICATE_ISSUER {
            return Err(CrlError::IndirectEntry.into());
        }
        if ext.critical && ext.extn_id != oid::CRL_REASON && ext.extn_id != oid::INVALIDITY_DATE {
            return Err(CrlError::UnknownCriticalEntryExtension { oid: ext.extn_id }.into());
        }
    }
    Ok(())
}

/// The CRL extensions this module reads.
#[derive(Default)]
struct CrlExtensions {
    crl_number: Option<CrlNumber>,
    authority_key_id: Option<Vec<u8>>,
}

fn read_extensions(exts: &[Extension]) -> Result<CrlExtensions> {
    let mut out = CrlExtensions::default();
    let mut seen: Vec<ObjectIdentifier> = Vec::with_capacity(exts.len());
    for ext in exts {
        if seen.contains(&ext.extn_id) {
            return Err(CrlError::DuplicateExtension { oid: ext.extn_id }.into());
        }
        seen.push(ext.extn_id);
        let value = ext.extn_value.as_bytes();
        let bad = |reason: String| CrlError::InvalidExtension {
            oid: ext.extn_id,
            reason,
        };
        match ext.extn_id {
            oid::AUTHORITY_KEY_IDENTIFIER => {
                let aki =
                    AuthorityKeyIdentifier::from_der(value).map_err(|e| bad(e.to_string()))?;
                out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            oid::CRL_NUMBER => {
                let n = Int::from_der(value).map_err(|e| bad(e.to_string()))?;
                let bytes = n.as_bytes();
                if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
                    return Err(bad("negative cRLNumber".into()).into());
                }
                let number = CrlNumber::from_be_bytes(bytes);
                if number.as_bytes().len() > MAX_SERIAL_LEN {
                    return Err(bad("cRLNumber longer than 20 octets".into()).into());
                }
                out.crl_number = Some(number);
            }
            oid::DELTA_CRL_INDICATOR => return Err(CrlError::DeltaCrl.into()),
            oid::ISSUING_DISTRIBUTION_POINT => return Err(CrlError::Partitioned.into()),
            other if ext.critical => {
                return Err(CrlError::UnknownCriticalExtension { oid: other }.into());
            }
            _ => {}
        }
    }
    Ok(out)
}

impl<'a> Crl<'a> {
    /// Parses DER with the default size bound [`DEFAULT_MAX_CRL_LEN`].
    pub fn from_der(der: &'a [u8]) -> Result<Self> {
        Self::from_der_with_limit(der, DEFAULT_MAX_CRL_LEN)
    }

    /// Parses DER of at most `max_len` bytes. The whole input must be one CertificateList.
    pub fn from_der_with_limit(der: &'a [u8], max_len: usize) -> Result<Self> {
        if der.len() > max_len {
            return Err(Error::TooLarge {
                size: der.len(),
                limit: max_len,
            });
        }
        let mut input = SliceReader::new(der).map_err(der_err)?;
        let mut list = sequence(&mut input)?;
        finished(&input, "the CRL")?;
        let tbs = list.tlv_bytes().map_err(der_err)?;
        let signature_algorithm = AlgorithmIdentifierOwned::decode(&mut list).map_err(der_err)?;
        let signature = BitStringRef::decode(&mut list)
            .map_err(der_err)?
            .as_bytes()
            .ok_or_else(|| CrlError::Der {
                reason: "signature BIT STRING has unused bits".into(),
            })?;
        finished(&list, "CertificateList")?;

        let mut tbs_reader = SliceReader::new(tbs).map_err(der_err)?;
        let mut body = sequence(&mut tbs_reader)?;

        // Annex B CRLs carry extensions, so they are v2 (INTEGER 1); v1 omits the field.
        if body.peek_tag().ok() != Some(Tag::Integer) {
            return Err(CrlError::Version { found: None }.into());
        }
        let version = u8::decode(&mut body).map_err(der_err)?;
        if version != 1 {
            return Err(CrlError::Version {
                found: Some(version),
            }
            .into());
        }
        let tbs_algorithm = AlgorithmIdentifierOwned::decode(&mut body).map_err(der_err)?;
        if tbs_algorithm != signature_algorithm {
            return Err(CrlError::AlgorithmMismatch {
                tbs: tbs_algorithm.oid,
                outer: signature_algorithm.oid,
            }
            .into());
        }
        let issuer = Name::decode(&mut body).map_err(der_err)?;
        let this_update = to_datetime(Time::decode(&mut body).map_err(der_err)?);
        let next_update = match body.peek_tag() {
            Ok(Tag::UtcTime | Tag::GeneralizedTime) => {
                Some(to_datetime(Time::decode(&mut body).map_err(der_err)?))
            }
            _ => None,
        };

        let mut serials = Vec::new();
        if body.peek_tag().ok() == Some(Tag::Sequence) {
            let mut entries = sequence(&mut body)?;
            // Every entry takes at least MIN_ENTRY_LEN bytes, so the reservation is bounded by
            // what the (size-bounded) input can hold.
            serials.reserve(usize::try_from(entries.remaining_len()).unwrap_or(0) / MIN_ENTRY_LEN);
            while !entries.is_finished() {
                serials.push(read_entry(&mut entries)?);
            }
        }

        let explicit_0 = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        let mut extensions = CrlExtensions::default();
        if body.peek_tag().ok() == Some(explicit_0) {
            let header = Header::decode(&mut body).map_err(der_err)?;
            let inner = body.read_slice(header.length).map_err(der_err)?;
            let exts = Vec::<Extension>::from_der(inner).map_err(der_err)?;
            extensions = read_extensions(&exts)?;
        }
        finished(&body, "tbsCertList")?;
        finished(&tbs_reader, "tbsCertList")?;

        // A CRL written in serial order (as many issuers write them) sorts in linear time.
        serials.sort_unstable();
        serials.dedup();

        Ok(Crl {
            tbs,
            signature_algorithm,
            signature,
            issuer,
            this_update,
            next_update,
            crl_number: extensions.crl_number,
            authority_key_id: extensions.authority_key_id,
            serials,
        })
    }

    /// The issuer name.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// The authorityKeyIdentifier's keyIdentifier, if present: the SKI of the IACA to verify
    /// with.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// thisUpdate.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// nextUpdate, if present ([`Crl::verify`] requires it).
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// The cRLNumber, if present.
    pub fn crl_number(&self) -> Option<&CrlNumber> {
        self.crl_number.as_ref()
    }

    /// Number of distinct revoked serial numbers.
    pub fn len(&self) -> usize {
        self.serials.len()
    }

    /// True when no certificate is listed.
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty()
    }

    /// Whether `serial` is listed (as [`VerifiedCrl::is_revoked`], for a CRL whose signature
    /// was checked otherwise, e.g. the CA's own archive).
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        SerialKey::from_magnitude(serial).is_some_and(|k| self.serials.binary_search(&k).is_ok())
    }

    /// Verifies the CRL against `iaca` at `opts.at` (see the module documentation for the
    /// checks). An expired CRL is not an error: see [`VerifiedCrl::freshness`].
    pub fn verify(
        self,
        iaca: &Certificate,
        opts: &CrlVerifyOptions,
        verifier: &dyn Verifier,
    ) -> Result<VerifiedCrl> {
        if self.issuer != *iaca.subject() {
            return Err(CrlError::IssuerName {
                crl: self.issuer.to_string(),
                iaca: iaca.subject().to_string(),
            }
            .into());
        }
        // IACAs may share a DN across key rollovers; the key identifier tells them apart.
        if let (Some(aki), Some(ski)) = (&self.authority_key_id, iaca.subject_key_id()) {
            if *aki != ski {
                return Err(CrlError::KeyIdentifierMismatch.into());
            }
        }
        if let Some(ku) = iaca.key_usage()? {
            if !ku.crl_sign() {
                return Err(CrlError::NoCrlSign.into());
            }
        }
        verify_x509_signature_with(
            verifier,
            &iaca.public_key()?,
            &self.signature_algorithm.oid,
            self.tbs,
            self.signature,
        )?;

        let next_update = self.next_update.ok_or(CrlError::NoNextUpdate)?;
        if next_update < self.this_update {
            return Err(CrlError::NextUpdateBeforeThisUpdate {
                this_update: self.this_update,
                next_update,
            }
            .into());
        }
        if self.this_update > opts.at.saturating_add(opts.skew) {
            return Err(CrlError::ThisUpdateInFuture {
                this_update: self.this_update,
                at: opts.at,
            }
            .into());
        }
        Ok(VerifiedCrl {
            freshness: CrlFreshness::at(next_update, opts.at, opts.skew),
            issuer: self.issuer,
            authority_key_id: self.authority_key_id,
            this_update: self.this_update,
            next_update,
            crl_number: self.crl_number,
            serials: self.serials,
        })
    }
}

/// A CRL whose signature, issuer and times were checked against an IACA.
#[derive(Clone)]
pub struct VerifiedCrl {
    issuer: Name,
    authority_key_id: Option<Vec<u8>>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    crl_number: Option<CrlNumber>,
    serials: Vec<SerialKey>,
    freshness: CrlFreshness,
}

impl core::fmt::Debug for VerifiedCrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedCrl")
            .field("issuer", &self.issuer.to_string())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("crl_number", &self.crl_number)
            .field("entries", &self.serials.len())
            .field("freshness", &self.freshness)
            .finish_non_exhaustive()
    }
}

impl VerifiedCrl {
    /// Parses (under `opts.max_len`) and verifies in one step.
    pub fn from_der(
        der: &[u8],
        iaca: &Certificate,
        opts: &CrlVerifyOptions,
        verifier: &dyn Verifier,
    ) -> Result<Self> {
        Crl::from_der_with_limit(der, opts.max_len)?.verify(iaca, opts, verifier)
    }

    /// Freshness at the verification time.
    pub fn freshness(&self) -> CrlFreshness {
        self.freshness
    }

    /// Freshness at another time, for a CRL kept in a cache after verification.
    pub fn freshness_at(&self, at: OffsetDateTime, skew: Duration) -> CrlFreshness {
        CrlFreshness::at(self.next_update, at, skew)
    }

    /// The issuer name (the IACA subject).
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// The authorityKeyIdentifier's keyIdentifier, if present.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// thisUpdate.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// nextUpdate.
    pub fn next_update(&self) -> OffsetDateTime {
        self.next_update
    }

    /// The cRLNumber, if present.
    pub fn crl_number(&self) -> Option<&CrlNumber> {
        self.crl_number.as_ref()
    }

    /// Number of distinct revoked serial numbers.
    pub fn len(&self) -> usize {
        self.serials.len()
    }

    /// True when no certificate is listed.
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty()
    }

    /// Whether `serial` is listed, in O(log n). `serial` is read as a non-negative big-endian
    /// integer and compared by value, so leading zero octets do not matter: both the DER
    /// INTEGER content of a certificate's serial (`00 8a …`) and its bare magnitude (`8a …`)
    /// work. Only serials issued by this CRL's issuer are meaningful; see
    /// [`VerifiedCrl::is_certificate_revoked`].
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        SerialKey::from_magnitude(serial).is_some_and(|k| self.serials.binary_search(&k).is_ok())
    }

    /// Whether `cert` is listed. Fails (rather than answering "not revoked") when the
    /// certificate is outside this CRL's scope: a different issuer name, a different issuer key
    /// (authorityKeyIdentifier, when both are present), or a negative serial.
    pub fn is_certificate_revoked(&self, cert: &Certificate) -> Result<bool> {
        if *cert.issuer() != self.issuer {
            return Err(CrlError::OutOfScope(ScopeProblem::OtherIssuer).into());
        }
        if let (Some(crl_aki), Some(cert_aki)) = (&self.authority_key_id, cert.authority_key_id()) {
            if *crl_aki != cert_aki {
                return Err(CrlError::OutOfScope(ScopeProblem::OtherKey).into());
            }
        }
        let serial = cert.serial_number();
        if serial.first().is_some_and(|&b| b & 0x80 != 0) {
            return Err(CrlError::OutOfScope(ScopeProblem::NegativeSerial).into());
        }
        Ok(self.is_revoked(serial))
    }
}
