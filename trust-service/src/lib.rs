//! `mdoc-dts`: the Digital Trust Service (policy §1.3.4.1, §2), the online publisher of the
//! offline root CA's public material.
//!
//! - [`bundle`] reads a CA export bundle (a directory or a tar upload) under size and name
//!   rules; [`ingest`] decides what it adds — pinned or link-reached roots, verified link
//!   certificates and CRLs, never a rollback, never a DS certificate — and the
//!   [`service::Dts`] applies it in one transaction, audited, or refuses it whole.
//! - [`schedule`] decides which CRL each root serves when (a pre-signed series day by day, an
//!   emergency CRL at once) and keeps the provision history exact.
//! - [`site`] is the published tree at one moment (roots and links by fingerprint, each root's
//!   CRL at the URL its certificates name, `index.json`, the human page, the [`vical`]);
//!   [`http`] serves it with strong ETags and conditional requests, and [`export`] writes it
//!   byte for byte for a CDN. [`layout`] is the one place that knows the URLs.
//! - [`store`] keeps it all in SQLite (embedded default) or PostgreSQL (replicas).
//!
//! The DTS never depends on `mdoc-ca`: it holds no root key and cannot sign a certificate or
//! a CRL; its only key is the VICAL signer's.

pub mod audit;
pub mod bundle;
pub mod config;
pub mod error;
pub mod export;
pub mod http;
pub mod ingest;
pub mod layout;
pub mod metrics;
pub mod schedule;
pub mod service;
pub mod site;
pub mod store;
pub mod vical;

pub use config::DtsConfig;
pub use error::{DtsError, Refusal};
pub use service::{Clock, Dts, ManualClock, SystemClock};
