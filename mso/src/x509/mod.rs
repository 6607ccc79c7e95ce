//! The one PKI layer: X.509 under ISO/IEC 18013-5 Annex B, for every crate of the workspace.
//!
//! - [`oid`]: every object identifier, once, with its source;
//! - [`policy`]: the defaults every check shares (clock skew, algorithms, validity limits,
//!   path budgets);
//! - [`Certificate`]: a parsed certificate keeping its DER, with the accessors checks read;
//! - [`spki`], [`signature`], [`time`], [`name`]: the encodings two crates would otherwise
//!   write twice (SubjectPublicKeyInfo and key identifiers, raw ↔ DER signatures and signature
//!   algorithms, RFC 5280 times, DN attributes);
//! - [`profile`]: the Annex B profiles as typed findings (`inspect_iaca`, `inspect_ds`, …),
//!   classed as errors or warnings;
//! - [`TrustAnchors`] and [`path::validate`]: the one way to find and check a certificate's
//!   issuer, returning a [`VerifiedPath`] or a typed [`PathError`].
//!
//! Pure: no I/O, no clock (time is a parameter).

mod anchors;
mod certificate;
pub(crate) mod error;
pub mod name;
pub mod oid;
pub mod path;
pub mod policy;
pub mod profile;
pub mod signature;
pub mod spki;
pub mod time;

pub use anchors::{TrustAnchors, MAX_REMEMBERED, MAX_REMEMBERED_LEAF_BYTES};
pub use certificate::{CertValidity, Certificate, MAX_CERT_LEN};
pub use error::{Budget, CertRef, NotCaReason, PathError, Position};
pub use path::{validate, validate_with, PathPolicy, VerifiedPath};
pub use signature::{verify_x509_signature, verify_x509_signature_with};
