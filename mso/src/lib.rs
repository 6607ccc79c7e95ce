//! The ISO/IEC 18013-5 mdoc model.
//!
//! This crate is the byte-exact model that the issuer signs with and the SDKs verify with:
//!
//! - [`cbor`]: the CBOR rules (bounded decoding, [`cbor::Tag24`] keeping raw bytes, `tdate`,
//!   `full-date`, deterministic encoding);
//! - [`cose`]: COSE_Sign1 / COSE_Mac0 with ES256/384/512 and EdDSA, x5chain, COSE_Key;
//! - [`crypto`]: the [`crypto::Signer`] / [`crypto::Verifier`] seam and software keys;
//! - [`model`]: IssuerSigned, MobileSecurityObject, DeviceResponse, DeviceRequest,
//!   DeviceEngagement, SessionTranscript;
//! - [`issue`]: building and signing an mdoc (prepare → to-be-signed bytes → complete);
//! - [`verify`]: structured verification at an explicit time;
//! - [`status`]: MSO revocation (2nd edition): Token Status Lists, Identifier Lists, COSE Key
//!   thumbprints;
//! - [`crl`]: Annex B CRLs verified against their IACA, with O(log n) serial lookup;
//! - [`vical`]: VICALs (Annex C) verified against a configured anchor, with staleness;
//! - [`trust`]: a relying party's trust store (IACAs, link certificates, VICALs, CRLs) with an
//!   offline form that is re-verified on reload;
//! - [`session`]: proximity session encryption (§9.1.1: ECDH, HKDF, AES-256-GCM, counters).
//!
//! No I/O, no async, no clock reads: the crate compiles for iOS and Android targets.

#![forbid(unsafe_code)]

pub mod cbor;
pub mod cose;
pub mod crl;
pub mod crypto;
mod error;
pub mod issue;
pub mod model;
pub mod present;
pub mod session;
pub mod status;
pub mod trust;
pub mod verify;
pub mod vical;
pub mod x509;

pub use error::{Error, Result};
