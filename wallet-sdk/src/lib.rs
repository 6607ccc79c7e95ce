//! Wallet SDK.
//!
//! This crate will be a thin uniffi facade over [`mso`] for holder apps: receive and check an
//! IssuerSigned, keep the device key in the platform key store (a foreign trait), and build
//! DeviceResponses for proximity and online presentation. All format logic stays in `mso`.

pub use mso;
