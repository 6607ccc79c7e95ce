//! Verification at an explicit time, reported check by check.
//!
//! The DS certificate is checked in phases, each its own check: [`CheckKind::DsTrusted`] (a
//! path to a trusted IACA through [`crate::x509::path`]: names, signature, the IACA's
//! authority, no unknown critical extension), [`CheckKind::DsProfile`] (the Annex B Document
//! Signer profile through [`crate::x509::profile::inspect_ds`]: a certificate the IACA
//! issued for another purpose — a reader, a VICAL or list signer — is refused here), then
//! [`CheckKind::DsValidity`] and [`CheckKind::IacaValidity`] at the verification time.
//!
//! Nothing here reads the clock: the caller passes `at`. Each check that applies is recorded
//! with its outcome; a document is valid only if every recorded check passed. Things worth
//! knowing that are not failures (a soft-expired CRL, revocation or MSO status that could not
//! be checked) are [`Warning`]s on the report.
//!
//! Revocation and status, in order after the certificate checks:
//!
//! - [`CheckKind::DsRevocation`], only with [`IssuerTrust::Store`]: the DS certificate must
//!   not be on the CRL the store holds for the IACA that issued it. An expired CRL fails or
//!   warns, and a missing CRL warns or fails, as the store's
//!   [`RevocationPolicy`](crate::trust::RevocationPolicy) says (default: expired fails,
//!   missing warns, since a relying party may trust IACAs whose CRLs it never fetches).
//! - [`CheckKind::IssuingCountry`]: a disclosed `issuing_country` must equal the DS
//!   certificate's countryName and a disclosed `issuing_jurisdiction` its stateOrProvinceName
//!   (when the certificate has one). Only elements of the docType's own namespaces are read
//!   (the docType itself or a namespace it extends, e.g. `org.iso.18013.5.1` for
//!   `org.iso.18013.5.1.mDL`). Not disclosed: not applicable, nothing recorded.
//! - [`CheckKind::StatusList`] / [`CheckKind::IdentifierList`]: when the MSO has a `status`
//!   entry and the app supplied tokens of that kind ([`VerifyOptions::list_tokens`]), the
//!   token whose `sub` is the entry's `uri` is verified (signature by a certificate issued by
//!   the same IACA as the DS, `exp`, `ttl` since `iat`) and the MSO's entry looked up. No
//!   token of that kind supplied: not checked, reported as a [`Warning`] (never as valid nor
//!   as revoked). Tokens of that kind supplied but none for this `uri`: a failure.

mod country;
mod device;
mod issuer;
mod options;
mod reader;
mod report;
mod revocation;

pub use device::{verify_device_response, verify_document};
pub use issuer::verify_issuer_signed;
pub use options::{DeviceAuthInput, IssuerTrust, ListToken, Placeholders, VerifyOptions};
pub use reader::verify_reader_auth;
pub use report::{Check, CheckKind, DocumentReport, Failure, ResponseReport, Warning};
