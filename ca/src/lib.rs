//! `mdoc-ca`, the offline root CA's (IACA's) ceremony tool. It runs air-gapped and is the only
//! crate that drives the root key; the online publisher (`mdoc-dts`, in `trust-service/`)
//! cannot depend on it, so it can never link the root-key signing path.
//!
//! - [`profile`]: building the IACA, DS and link certificates per ISO 18013-5 Annex B and the
//!   policy, signed through [`mso::crypto::Signer`] (an HSM in production);
//! - [`csr`]: PKCS#10 requests: proof of possession and key validation;
//! - [`crl`]: CRLs per the Annex B profile;
//! - [`lint`]: lint-before-sign for every TBS certificate and CRL;
//! - [`ledger`]: the CA's SQLite ledger and file archive;
//! - [`config`] and [`ceremony`]: one reviewed config file per ceremony.

#![forbid(unsafe_code)]

pub mod audit_check;
pub mod ceremony;
pub mod config;
pub mod crl;
pub mod csr;
pub mod ledger;
pub mod lint;
pub mod profile;
