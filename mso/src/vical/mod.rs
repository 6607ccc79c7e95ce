//! VICAL: the signed list of trusted IACA certificates of ISO/IEC 18013-5 Annex C.
//!
//! ```text
//! VICAL = { "version": tstr, "vicalProvider": tstr, "date": tdate, ? "vicalIssueID": uint,
//!   ? "nextUpdate": tdate, "certificateInfos": [* CertificateInfo], ? "vicalURL": tstr, ... }
//! CertificateInfo = { "certificate": bstr, "serialNumber": biguint, "ski": bstr,
//!   "docType": [+ tstr], ? "certificateProfile": [+ tstr], ? "issuingCountry": tstr,
//!   ? "stateOrProvinceName": tstr, ? "notBefore": tdate, ? "notAfter": tdate, ... }
//! ```
//!
//! The VICAL is a COSE_Sign1 with an embedded payload, `{1: alg}` protected and the signer's
//! x5chain (label 33) in the unprotected header. [`VerifiedVical::verify_with`] checks, in
//! order: the COSE shape and an allowed algorithm; the signature by the x5chain leaf's key;
//! `date` not in the future and `nextUpdate` not before `date`; then the signer's path,
//! through [`crate::x509::path::validate_with`] as a [`Role::VicalSigner`]: the signer profile
//! (extendedKeyUsage 1.0.18013.5.1.8, keyUsage digitalSignature or contentCommitment), the
//! x5chain's CA certificates up to one of the caller's trust anchors (names, signatures,
//! basicConstraints with pathLenConstraint, keyCertSign, no unknown critical extension on any
//! certificate; at most [`VicalVerifyOptions::max_chain_len`] certificates), every certificate
//! valid at `date`, the moment the list was signed (the chain model).
//!
//! Staleness at the verification time `at` is reported as a typed [`VicalFreshness`], never
//! silently ignored and never an error, so the caller chooses the policy; see [`StaleReason`]
//! for which reasons are safe to tolerate.
//!
//! Every attribute taken from an entry comes from its DER certificate (subject, country, key,
//! validity, SKI, serial). The only list metadata used is what exists nowhere else: `docType`
//! and `certificateProfile`. The other metadata fields are compared with the certificate and
//! each difference is reported as a [`VicalWarning::MetadataMismatch`] (not an error: the real
//! AAMVA list has `notBefore`/`notAfter` 12 hours off for some entries, and nothing relies on
//! those fields). The `ski` field is accepted bare or wrapped in one or two DER OCTET STRINGs
//! (the AAMVA list writes the extension's `extnValue`). Map keys are matched exactly first,
//! then ASCII case-insensitively (`CertificateProfile`). An entry whose certificate does not
//! parse, or whose key this crate cannot use, is left out and reported as
//! [`VicalWarning::UnusableCertificate`] rather than failing the whole list; a CertificateInfo
//! that breaks the CDDL (no `certificate`, no or an empty `docType`) is an error.
//!
//! Errors are [`VicalError`] (inside [`Error::Vical`]); a signature that does not verify is
//! [`Error::BadSignature`].

use der::asn1::OctetString;
use der::{Decode, Encode};
use time::{Duration, OffsetDateTime};

use crate::cbor::{node, FromCbor, Kind, Limits, MapView, Node, TDate};
use crate::cose::{decode_sign1, sign1_algorithm, sign1_verify, x5chain};
use crate::crypto::{Algorithm, Verifier};
use crate::error::{Error, Result};
use crate::x509::path::{self, PathPolicy, VerifiedPath};
use crate::x509::policy::{DEFAULT_ALGORITHMS, DEFAULT_MAX_CHAIN_LEN, DEFAULT_SKEW};
use crate::x509::profile::Role;
use crate::x509::{Certificate, Position, TrustAnchors};

/// Default age after which a VICAL without `nextUpdate` is stale.
pub const DEFAULT_MAX_AGE: Duration = Duration::days(30);

mod build;
pub(crate) mod error;

pub use build::{ListedIaca, VicalContent, VICAL_VERSION};
pub use error::VicalError;

/// Policy for verifying a VICAL.
#[derive(Debug, Clone, Copy)]
pub struct VicalVerifyOptions<'a> {
    /// The moment to verify at.
    pub at: OffsetDateTime,
    /// Tolerated clock skew, applied to every time comparison.
    pub skew: Duration,
    /// The VICAL trust anchors (e.g. the AAMVA root). The signer's path must end at one.
    pub anchors: &'a TrustAnchors,
    /// Signature algorithms accepted.
    pub allowed_algorithms: &'a [Algorithm],
    /// Bounds on the VICAL's CBOR (the outer COSE_Sign1 and the payload).
    pub limits: Limits,
    /// Age after which a VICAL without `nextUpdate` is stale.
    pub max_age: Duration,
    /// Most certificates accepted in the x5chain.
    pub max_chain_len: usize,
}

impl<'a> VicalVerifyOptions<'a> {
    /// Defaults: [`DEFAULT_SKEW`], every supported algorithm, default CBOR limits,
    /// [`DEFAULT_MAX_AGE`], [`DEFAULT_MAX_CHAIN_LEN`].
    pub fn new(at: OffsetDateTime, anchors: &'a TrustAnchors) -> Self {
        VicalVerifyOptions {
            at,
            skew: DEFAULT_SKEW,
            anchors,
            allowed_algorithms: DEFAULT_ALGORITHMS,
            limits: Limits::DEFAULT,
            max_age: DEFAULT_MAX_AGE,
            max_chain_len: DEFAULT_MAX_CHAIN_LEN,
        }
    }
}

/// Whether a verified VICAL is current at the verification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VicalFreshness {
    /// Before `nextUpdate` (or younger than the maximum age), with every certificate of the
    /// signer's path unexpired.
    Fresh,
    /// At least one reason, all listed.
    Stale(Vec<StaleReason>),
}

impl VicalFreshness {
    /// True for [`VicalFreshness::Fresh`].
    pub fn is_fresh(&self) -> bool {
        matches!(self, VicalFreshness::Fresh)
    }

    /// The reasons (empty when fresh).
    pub fn reasons(&self) -> &[StaleReason] {
        match self {
            VicalFreshness::Fresh => &[],
            VicalFreshness::Stale(r) => r,
        }
    }
}

/// Why a VICAL is stale.
///
/// [`StaleReason::PastNextUpdate`] and [`StaleReason::TooOld`] only mean a newer list should
/// exist: an offline verifier may keep using a list it verified earlier. A
/// [`StaleReason::CertificateExpired`] list was signed while its path was valid (that is
/// checked), but a list *first received* after the expiry cannot be told apart from one forged
/// with a retired signer key, so callers should not tolerate it for new lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// The verification time is after `nextUpdate`.
    PastNextUpdate {
        /// The list's nextUpdate.
        next_update: OffsetDateTime,
    },
    /// No `nextUpdate`, and the list is older than the configured maximum age.
    TooOld {
        /// The list's date.
        date: OffsetDateTime,
        /// The configured maximum age.
        max_age: Duration,
    },
    /// A certificate of the signer's path has expired at the verification time.
    CertificateExpired {
        /// Which certificate of the path: the signer ([`Position::Leaf`]), an x5chain
        /// intermediate or the anchor.
        which: Position,
        /// Its notAfter.
        not_after: OffsetDateTime,
    },
}

/// Something in the list that does not stop verification but that the caller should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VicalWarning {
    /// A CertificateInfo metadata field differs from its certificate. The certificate's value
    /// is the one used.
    MetadataMismatch {
        /// Position in `certificateInfos`.
        index: usize,
        /// The metadata field (`serialNumber`, `ski`, `issuingCountry`,
        /// `stateOrProvinceName`, `notBefore`, `notAfter`, `issuer`, `subject`).
        field: &'static str,
        /// The listed value, rendered (hex for bytes, RFC 3339 for dates).
        listed: String,
        /// The certificate's value, rendered the same way.
        certificate: String,
    },
    /// An entry's certificate does not parse or has an unsupported key; the entry is left out
    /// of [`VerifiedVical::entries`].
    UnusableCertificate {
        /// Position in `certificateInfos`.
        index: usize,
        /// Why.
        error: Error,
    },
}

/// One trusted IACA from the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VicalEntry {
    /// Position in `certificateInfos`.
    pub index: usize,
    /// The IACA certificate; every attribute (subject, country, key, validity) comes from it.
    pub certificate: Certificate,
    /// `docType`: the document types this IACA is trusted for.
    pub doc_types: Vec<String>,
    /// `certificateProfile`, if listed.
    pub certificate_profiles: Vec<String>,
}

/// A VICAL whose signature and signer path were verified.
#[derive(Debug, Clone)]
pub struct VerifiedVical {
    version: String,
    provider: String,
    date: OffsetDateTime,
    issue_id: Option<u64>,
    next_update: Option<OffsetDateTime>,
    url: Option<String>,
    entries: Vec<VicalEntry>,
    path: Vec<(Position, Certificate)>,
    freshness: VicalFreshness,
    warnings: Vec<VicalWarning>,
}

/// The value under text key `key`: exact match first, then ASCII case-insensitive.
fn field<'n>(m: &MapView<'n, '_>, key: &str) -> Option<&'n Node> {
    m.get(key).or_else(|| {
        m.entries().iter().find_map(|(k, v)| match &k.kind {
            Kind::Text(r) => m
                .src()
                .get(r.clone())
                .filter(|b| b.eq_ignore_ascii_case(key.as_bytes()))
                .map(|_| v),
            _ => None,
        })
    })
}

fn required<'n>(m: &MapView<'n, '_>, context: &'static str, key: &'static str) -> Result<&'n Node> {
    field(m, key).ok_or(Error::MissingField {
        context,
        field: key,
    })
}

fn text_array(n: &Node, src: &[u8], context: &'static str) -> Result<Vec<String>> {
    n.array(context)?
        .iter()
        .map(|t| t.text(src, context).map(str::to_owned))
        .collect()
}

/// The certificates of a verified path with their positions (intermediates by x5chain index,
/// counted after the signer).
fn path_positions(
    verified: &VerifiedPath<'_, '_>,
    intermediates: &[Certificate],
) -> Vec<(Position, Certificate)> {
    let mut path = vec![(Position::Leaf, verified.leaf().clone())];
    for cert in verified.intermediates() {
        let index = intermediates.iter().position(|c| c == *cert).unwrap_or(0);
        path.push((Position::Chain(index), (*cert).clone()));
    }
    path.push((
        Position::Anchor(verified.anchor_index()),
        verified.anchor().clone(),
    ));
    path
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The magnitude of a `biguint` (tag 2 bstr) or `uint`, without leading zero octets.
fn biguint(n: &Node, src: &[u8]) -> Option<Vec<u8>> {
    let bytes = match &n.kind {
        Kind::Uint(v) => v.to_be_bytes().to_vec(),
        Kind::Tag(2, inner) => inner.bytes(src, "serialNumber").ok()?.to_vec(),
        _ => return None,
    };
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    Some(bytes.get(first..).unwrap_or_default().to_vec())
}

/// Whether a listed `ski` names `ski`: bare, or inside one or two DER OCTET STRINGs.
fn ski_matches(listed: &[u8], ski: &[u8]) -> bool {
    if listed == ski {
        return true;
    }
    let Ok(once) = OctetString::from_der(listed) else {
        return false;
    };
    once.as_bytes() == ski
        || OctetString::from_der(once.as_bytes()).is_ok_and(|twice| twice.as_bytes() == ski)
}

/// Compares the metadata of entry `index` with its certificate.
fn compare_metadata(
    index: usize,
    m: &MapView<'_, '_>,
    cert: &Certificate,
    limits: &Limits,
    warnings: &mut Vec<VicalWarning>,
) {
    let src = m.src();
    let mut mismatch = |field: &'static str, listed: String, certificate: String| {
        warnings.push(VicalWarning::MetadataMismatch {
            index,
            field,
            listed,
            certificate,
        });
    };
    const UNREADABLE: &str = "<unreadable>";
    const ABSENT: &str = "<absent>";

    if let Some(n) = field(m, "serialNumber") {
        let serial = cert.serial_number();
        let first = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
        let serial = serial.get(first..).unwrap_or_default();
        match biguint(n, src) {
            Some(listed) if listed == serial => {}
            Some(listed) => mismatch("serialNumber", hex(&listed), hex(serial)),
            None => mismatch("serialNumber", UNREADABLE.into(), hex(serial)),
        }
    }
    if let Some(n) = field(m, "ski") {
        let ski = cert.subject_key_id();
        match (n.bytes(src, "ski"), &ski) {
            (Ok(listed), Some(ski)) if ski_matches(listed, ski) => {}
            (Ok(listed), _) => mismatch(
                "ski",
                hex(listed),
                ski.as_deref().map_or_else(|| ABSENT.into(), hex),
            ),
            (Err(_), _) => mismatch(
                "ski",
                UNREADABLE.into(),
                ski.as_deref().map_or_else(|| ABSENT.into(), hex),
            ),
        }
    }
    for (key, actual) in [
        ("issuingCountry", cert.country()),
        ("stateOrProvinceName", cert.state_or_province()),
    ] {
        if let Some(n) = field(m, key) {
            let listed = n.text(src, key).ok();
            if listed != actual.as_deref() {
                mismatch(
                    key,
                    listed.map_or_else(|| UNREADABLE.into(), str::to_owned),
                    actual.unwrap_or_else(|| ABSENT.into()),
                );
            }
        }
    }
    for (key, actual) in [
        ("notBefore", cert.not_before()),
        ("notAfter", cert.not_after()),
    ] {
        if let Some(n) = field(m, key) {
            let actual = TDate::new(actual);
            match TDate::from_node(n, src, limits) {
                Ok(listed) if listed == actual => {}
                Ok(listed) => mismatch(key, listed.to_rfc3339(), actual.to_rfc3339()),
                Err(_) => mismatch(key, UNREADABLE.into(), actual.to_rfc3339()),
            }
        }
    }
    let tbs = &cert.inner().tbs_certificate;
    for (key, name) in [("issuer", &tbs.issuer), ("subject", &tbs.subject)] {
        if let Some(n) = field(m, key) {
            let actual = name.to_der().unwrap_or_default();
            match n.bytes(src, key) {
                Ok(listed) if listed == actual.as_slice() => {}
                Ok(listed) => mismatch(key, hex(listed), hex(&actual)),
                Err(_) => mismatch(key, UNREADABLE.into(), hex(&actual)),
            }
        }
    }
}

/// Reads CertificateInfo `index`. `Ok(None)` when its certificate is unusable (reported).
fn read_entry(
    index: usize,
    n: &Node,
    src: &[u8],
    limits: &Limits,
    warnings: &mut Vec<VicalWarning>,
) -> Result<Option<VicalEntry>> {
    const CONTEXT: &str = "CertificateInfo";
    let m = n.map(src, CONTEXT)?;
    let der = required(&m, CONTEXT, "certificate")?.bytes(src, "certificate")?;
    let doc_types = text_array(required(&m, CONTEXT, "docType")?, src, "docType")?;
    if doc_types.is_empty() {
        return Err(VicalError::EmptyDocType { index }.into());
    }
    let certificate_profiles = field(&m, "certificateProfile")
        .map(|p| text_array(p, src, "certificateProfile"))
        .transpose()?
        .unwrap_or_default();
    let certificate = match Certificate::from_der(der).and_then(|c| c.public_key().map(|_| c)) {
        Ok(c) => c,
        Err(error) => {
            warnings.push(VicalWarning::UnusableCertificate { index, error });
            return Ok(None);
        }
    };
    compare_metadata(index, &m, &certificate, limits, warnings);
    Ok(Some(VicalEntry {
        index,
        certificate,
        doc_types,
        certificate_profiles,
    }))
}

fn freshness(
    date: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    path: &[(Position, Certificate)],
    at: OffsetDateTime,
    skew: Duration,
    max_age: Duration,
) -> VicalFreshness {
    let now = at.saturating_sub(skew);
    let mut reasons = Vec::new();
    match next_update {
        Some(next_update) if now > next_update => {
            reasons.push(StaleReason::PastNextUpdate { next_update });
        }
        None if now > date.saturating_add(max_age) => {
            reasons.push(StaleReason::TooOld { date, max_age });
        }
        _ => {}
    }
    for (which, cert) in path {
        if now > cert.not_after() {
            reasons.push(StaleReason::CertificateExpired {
                which: *which,
                not_after: cert.not_after(),
            });
        }
    }
    if reasons.is_empty() {
        VicalFreshness::Fresh
    } else {
        VicalFreshness::Stale(reasons)
    }
}

impl VerifiedVical {
    /// Verifies a VICAL at `at` against `anchors` with default policy
    /// ([`VicalVerifyOptions::new`]).
    pub fn verify(
        bytes: &[u8],
        at: OffsetDateTime,
        anchors: &TrustAnchors,
        verifier: &dyn Verifier,
    ) -> Result<Self> {
        Self::verify_with(bytes, &VicalVerifyOptions::new(at, anchors), verifier)
    }

    /// Verifies a VICAL (see the module documentation for the checks and their order).
    pub fn verify_with(
        bytes: &[u8],
        opts: &VicalVerifyOptions<'_>,
        verifier: &dyn Verifier,
    ) -> Result<Self> {
        let root = node::parse(bytes, &opts.limits)?;
        let sign1 = decode_sign1(&root, bytes)?;
        let alg = sign1_algorithm(&sign1)?;
        if !opts.allowed_algorithms.contains(&alg) {
            return Err(VicalError::AlgorithmNotAllowed { algorithm: alg }.into());
        }
        let chain_der = x5chain(&sign1)?;
        let chain = path::parse_chain(&chain_der).map_err(VicalError::Signer)?;
        let (signer, intermediates) = chain
            .split_first()
            .ok_or_else(|| Error::X5Chain("empty x5chain".into()))?;
        sign1_verify(&sign1, &signer.public_key()?, verifier)?;

        // The payload is what the signer's key signed; it is trusted once the path is.
        let payload = sign1
            .payload
            .as_deref()
            .ok_or_else(|| Error::Cose("VICAL payload must be embedded".into()))?;
        let pn = node::parse(payload, &opts.limits)?;
        let m = pn.map(payload, "VICAL")?;
        let text = |key: &'static str| -> Result<String> {
            Ok(required(&m, "VICAL", key)?.text(payload, key)?.to_owned())
        };
        let version = text("version")?;
        let provider = text("vicalProvider")?;
        let date =
            TDate::from_node(required(&m, "VICAL", "date")?, payload, &opts.limits)?.datetime();
        let issue_id = field(&m, "vicalIssueID")
            .map(|n| n.uint("vicalIssueID"))
            .transpose()?;
        let next_update = field(&m, "nextUpdate")
            .map(|n| TDate::from_node(n, payload, &opts.limits).map(|d| d.datetime()))
            .transpose()?;
        let url = field(&m, "vicalURL")
            .map(|n| n.text(payload, "vicalURL").map(str::to_owned))
            .transpose()?;
        let infos = required(&m, "VICAL", "certificateInfos")?.array("certificateInfos")?;

        if date > opts.at.saturating_add(opts.skew) {
            return Err(VicalError::DateInFuture { date, at: opts.at }.into());
        }
        if let Some(next_update) = next_update {
            if next_update < date {
                return Err(VicalError::NextUpdateBeforeDate { date, next_update }.into());
            }
        }
        // Chain model: the path must have been valid when the list was signed. Expiry since
        // then is staleness, reported below.
        let policy = PathPolicy {
            skew: opts.skew,
            max_chain_len: opts.max_chain_len,
            ..PathPolicy::default()
        };
        let verified = path::validate_with(
            signer,
            intermediates,
            opts.anchors,
            date,
            Role::VicalSigner,
            verifier,
            &policy,
        )
        .map_err(VicalError::Signer)?;
        let path = path_positions(&verified, intermediates);

        let mut warnings = Vec::new();
        let mut entries = Vec::with_capacity(infos.len());
        for (index, info) in infos.iter().enumerate() {
            if let Some(entry) = read_entry(index, info, payload, &opts.limits, &mut warnings)? {
                entries.push(entry);
            }
        }

        Ok(VerifiedVical {
            freshness: freshness(date, next_update, &path, opts.at, opts.skew, opts.max_age),
            version,
            provider,
            date,
            issue_id,
            next_update,
            url,
            entries,
            path,
            warnings,
        })
    }

    /// `version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `vicalProvider`.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// `date`: when the list was issued.
    pub fn date(&self) -> OffsetDateTime {
        self.date
    }

    /// `vicalIssueID`, if present. It increases with each list: a caller holding a list with
    /// a higher ID should refuse this one as a rollback.
    pub fn issue_id(&self) -> Option<u64> {
        self.issue_id
    }

    /// `nextUpdate`, if present.
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// `vicalURL`, if present.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The usable entries, in list order.
    pub fn entries(&self) -> &[VicalEntry] {
        &self.entries
    }

    /// The verified path, each certificate with its position: the signer first, then the
    /// x5chain CA certificates used, then the trust anchor.
    pub fn signer_path(&self) -> &[(Position, Certificate)] {
        &self.path
    }

    /// The VICAL signer certificate.
    pub fn signer(&self) -> Option<&Certificate> {
        self.path.first().map(|(_, c)| c)
    }

    /// Freshness at the verification time.
    pub fn freshness(&self) -> &VicalFreshness {
        &self.freshness
    }

    /// Freshness at another time, for a list kept after verification.
    pub fn freshness_at(
        &self,
        at: OffsetDateTime,
        skew: Duration,
        max_age: Duration,
    ) -> VicalFreshness {
        freshness(self.date, self.next_update, &self.path, at, skew, max_age)
    }

    /// Metadata mismatches and unusable entries.
    pub fn warnings(&self) -> &[VicalWarning] {
        &self.warnings
    }

    /// The IACA certificates listed for `doc_type`.
    pub fn iacas_for<'s>(&'s self, doc_type: &'s str) -> impl Iterator<Item = &'s Certificate> {
        self.entries
            .iter()
            .filter(move |e| e.doc_types.iter().any(|d| d == doc_type))
            .map(|e| &e.certificate)
    }

    /// Trust anchors for verifying documents of `doc_type` (see [`crate::verify::IssuerTrust`]).
    /// IACA validity is left to document verification, which checks it at its own time.
    pub fn iaca_anchors(&self, doc_type: &str) -> TrustAnchors {
        TrustAnchors::new(self.iacas_for(doc_type).cloned().collect())
    }
}
