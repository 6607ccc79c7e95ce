//! Verifier SDK: the uniffi facade over [`mso`] for relying-party apps (Kotlin, Swift, Python).
//!
//! Records and enums in, structured results out; every format and PKI rule lives in `mso`.
//!
//! - [`TrustStore`] (object): IACAs (DER or PEM), link certificates, VICALs with their anchors,
//!   CRLs (newest cRLNumber wins; expired or missing CRL a hard or soft failure by
//!   [`RevocationPolicy`]) and pinned DS certificates, serialisable for offline use
//!   ([`TrustStore::to_bytes`], [`TrustStore::from_bytes`]); one long-lived instance remembers
//!   DS signatures already checked (a warm store).
//! - MSO revocation: status-list and identifier-list tokens the app supplies in
//!   [`VerificationOptions`], or fetched through the app's [`ListFetcher`]
//!   ([`verify_device_response_online`], [`verify_issuer_signed_online`]).
//! - [`verify_device_response`] / [`verify_issuer_signed`]: verification at an explicit time
//!   ([`VerificationOptions`]) into a [`VerificationReport`]: the verdict, every check
//!   ([`CheckKind`], [`CheckOutcome`] with a typed [`CheckFailure`] and a human reason) and the
//!   disclosed elements as [`ElementValue`]s.
//! - [`SessionTranscriptInput`] and [`session_transcript_bytes`]: transcripts by protocol name
//!   (18013-5 proximity with QR/NFC handover, OpenID4VP 1.0, OpenID4VP over the DC API,
//!   18013-7 Annex C and Annex B); [`decode_session_transcript`], [`parse_device_engagement`],
//!   [`parse_device_engagement_qr`].
//! - [`ReaderSession`] (object): the proximity reader — engagement, ephemeral key, DeviceRequest
//!   (optionally with ReaderAuth), SessionEstablishment, SessionData, termination — and
//!   verification of the decrypted response with the session's transcript and key.
//!
//! Every call that takes bytes returns `Result<_, VerifierError>`: decoding is bounded by
//! `mso`'s limits, and the facade itself has no panicking path (the workspace lints deny
//! `unwrap`, `expect`, `panic` and indexing), so bad input reaches the app as a typed
//! exception, never a crash and never a "valid" verdict.
//!
//! Bindings: `scripts/bindings.sh` builds the cdylib and runs the workspace's `uniffi-bindgen`
//! in library mode for Kotlin, Swift and Python (`target/bindings/`).

#![forbid(unsafe_code)]

uniffi::setup_scaffolding!();

mod dts_sync;
mod error;
mod fetch;
mod keys;
mod online;
mod report;
mod request;
mod session;
mod transcript;
mod trust;
mod value;
mod verify;

pub use dts_sync::{
    DtsHttpClient, DtsSyncReport, HttpResponse, MAX_CERTIFICATE_LEN, MAX_CRL_LEN,
    MAX_INDEX_ENTRIES, MAX_INDEX_LEN, MAX_VICAL_LEN,
};
pub use error::{Result, VerifierError};
pub use fetch::{
    verify_device_response_online, verify_issuer_signed_online, ListFetcher, MAX_LIST_TOKEN_LEN,
    MAX_LIST_URIS,
};
pub use keys::{AgreementPrivateKey, EcCurve, SigningPrivateKey};
pub use online::*;
pub use report::{
    CertificatePosition, CertificateRole, CheckFailure, CheckKind, CheckOutcome, CheckResult,
    DisclosedElement, DocumentResult, ElementSchema, ElementSource, ErrorCategory, PathFailure,
    ProfileViolation, SignatureAlgorithm, VerificationReport, VerificationWarning,
};
pub use request::{
    encode_device_request, DocumentRequest, ElementRequest, NamespaceRequest, ReaderAuthKey,
};
pub use session::{session_status_message, ReaderSession, ReceivedMessage, SessionStatus};
pub use transcript::{
    decode_session_transcript, parse_device_engagement, parse_device_engagement_qr,
    session_transcript_bytes, DeviceEngagementInfo, ProximityHandover, SessionTranscriptInput,
    SessionTranscriptParts,
};
pub use trust::{
    AddOutcome, CertificateInfo, CrlInfo, RevocationPolicy, TrustStore, VicalInfo, MAX_PEM_LEN,
};
pub use value::{ElementValue, MapEntry, MAX_DOCUMENT_NODES, MAX_VALUE_DEPTH, MAX_VALUE_NODES};
pub use verify::{
    default_verification_options, verify_device_response, verify_issuer_signed,
    VerificationOptions, DEFAULT_CLOCK_SKEW_SECONDS,
};

pub use mso;
