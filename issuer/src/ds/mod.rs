//! Document Signer (DS) key lifecycle.
//!
//! 1. [`DsKeys`] generates a DS key *inside* the keystore (a PKCS#11 token, or the
//!    **development-only** encrypted file keystore) and reopens it by [`KeyUri`]; the private
//!    key is never exported.
//! 2. [`generate_csr`] makes the PKCS#10 request the offline root certifies.
//! 3. [`install_certificate`] checks the returned certificate: it parses, certifies this key,
//!    chains to a configured IACA and fits the Document Signer profile of ISO/IEC 18013-5
//!    Annex B without a single finding (`mso::x509`'s path validation and profile, the ones
//!    the root CA and the verifiers use).
//! 4. [`DsInventory`] keeps the installed certificates (a serialisable value the service
//!    persists) and applies the [`RotationPolicy`]: signing always uses the newest usable DS and
//!    never an expired, not-yet-valid or revoked one; an MSO's `validUntil` is clamped to the
//!    DS `notAfter`.
//!
//! [`KeyUri`]: custody::uri::KeyUri

mod csr;
mod error;
mod install;
mod inventory;
mod keys;

pub use csr::{csr_pem, generate_csr, DsSubject};
pub use error::{DsError, Result};
pub use install::{
    install_certificate, install_list_signer_certificate, refused_at_install, DsCertificate,
};
pub use inventory::{DsEntry, DsInventory, RotationPolicy};
pub use keys::{DsKeys, GeneratedKey, KeystoreConfig};
