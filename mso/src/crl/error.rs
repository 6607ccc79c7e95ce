//! [`CrlError`]: why a CRL was refused.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

/// Why a CRL was refused, or a question asked of it was out of its scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The DER structure is malformed (or has trailing bytes).
    #[error("CRL DER: {reason}")]
    Der {
        /// What the decoder found.
        reason: String,
    },
    /// Not a v2 CRL (`found`: the version field, `None` when absent, i.e. v1).
    #[error("CRL version field {found:?}; a v2 CRL is required")]
    Version {
        /// The version field's value.
        found: Option<u8>,
    },
    /// `tbsCertList.signature` differs from `signatureAlgorithm`.
    #[error("CRL tbsCertList.signature {tbs} differs from signatureAlgorithm {outer}")]
    AlgorithmMismatch {
        /// The algorithm inside the signed part.
        tbs: ObjectIdentifier,
        /// The outer algorithm.
        outer: ObjectIdentifier,
    },
    /// A CRL extension appears twice.
    #[error("CRL extension {oid} appears twice")]
    DuplicateExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// A CRL extension the profile relies on does not decode, or a negative or over-long
    /// cRLNumber.
    #[error("CRL extension {oid}: {reason}")]
    InvalidExtension {
        /// Its OID.
        oid: ObjectIdentifier,
        /// Why.
        reason: String,
    },
    /// A delta CRL (deltaCRLIndicator): Annex B has none.
    #[error("delta CRLs are not supported")]
    DeltaCrl,
    /// A partitioned or indirect CRL (issuingDistributionPoint): honouring it partially would
    /// make a partial list look complete.
    #[error("issuingDistributionPoint (partitioned or indirect CRL) is not supported")]
    Partitioned,
    /// A critical CRL extension this crate does not understand.
    #[error("unknown critical CRL extension {oid}")]
    UnknownCriticalExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// A revoked entry has a negative serial number.
    #[error("CRL entry with a negative serial number")]
    NegativeSerial,
    /// A revoked entry's serial number is longer than 20 octets (RFC 5280 §4.1.2.2).
    #[error("CRL entry serial number longer than 20 octets")]
    SerialTooLong,
    /// A revoked entry names another issuer (certificateIssuer: an indirect CRL).
    #[error("certificateIssuer (indirect CRL) entries are not supported")]
    IndirectEntry,
    /// A revoked entry has a critical extension this crate does not understand.
    #[error("unknown critical CRL entry extension {oid}")]
    UnknownCriticalEntryExtension {
        /// Its OID.
        oid: ObjectIdentifier,
    },
    /// The CRL's issuer is not the IACA's subject.
    #[error("CRL issuer {crl:?} is not the IACA subject {iaca:?}")]
    IssuerName {
        /// The CRL's issuer DN.
        crl: String,
        /// The IACA's subject DN.
        iaca: String,
    },
    /// authorityKeyIdentifier names another key than the IACA's subjectKeyIdentifier.
    #[error("CRL authorityKeyIdentifier differs from the IACA's subjectKeyIdentifier")]
    KeyIdentifierMismatch,
    /// The IACA's keyUsage does not allow cRLSign.
    #[error("the IACA's keyUsage lacks cRLSign")]
    NoCrlSign,
    /// nextUpdate is absent (Annex B requires it).
    #[error("CRL nextUpdate is absent")]
    NoNextUpdate,
    /// nextUpdate is before thisUpdate.
    #[error("CRL nextUpdate {next_update} is before thisUpdate {this_update}")]
    NextUpdateBeforeThisUpdate {
        /// thisUpdate.
        this_update: OffsetDateTime,
        /// nextUpdate.
        next_update: OffsetDateTime,
    },
    /// thisUpdate lies after the verification time (beyond the skew).
    #[error("CRL thisUpdate {this_update} is after the verification time {at}")]
    ThisUpdateInFuture {
        /// thisUpdate.
        this_update: OffsetDateTime,
        /// The verification time.
        at: OffsetDateTime,
    },
    /// No cRLNumber, where a caller orders CRLs by it (a trust store).
    #[error("the CRL has no cRLNumber")]
    NoCrlNumber,
    /// No trusted IACA with the CRL issuer's name verified the CRL.
    #[error("no trusted IACA issued the CRL of {issuer:?}: {reason}")]
    NoTrustedIssuer {
        /// The CRL's issuer DN.
        issuer: String,
        /// Why the candidates failed (or that there was none).
        reason: String,
    },
    /// The certificate asked about is not in this CRL's scope.
    #[error("certificate outside the CRL's scope: {0:?}")]
    OutOfScope(ScopeProblem),
}

/// Why a certificate is outside a CRL's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeProblem {
    /// Its issuer is not the CRL's issuer.
    OtherIssuer,
    /// It was issued under another IACA key than the CRL (authorityKeyIdentifiers differ).
    OtherKey,
    /// It has a negative serial number.
    NegativeSerial,
}
