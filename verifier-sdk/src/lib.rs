//! Verifier SDK.
//!
//! This crate will be a thin uniffi facade over [`mso`] for relying parties: a trust store of
//! IACAs, link certificates, CRLs and VICALs; complete verification of a DeviceResponse with a
//! structured report; and the proximity reader session. All format and PKI logic stays in `mso`.

pub use mso;
