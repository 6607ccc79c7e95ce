//! The trust infrastructure.
//!
//! This crate will own `mdoc-ca`, the offline ceremony tool of the root CA (IACA key in an HSM
//! under quorum activation, DS certificates from CSRs, link certificates, pre-signed CRL series,
//! the audit trail), and `mdoc-dts`, the online publisher of roots, link certificates, CRLs and
//! trust lists. The online publisher never links the root-key signing path.

pub use mso;
