//! `mdoc-issuer`: the online issuer service.
//!
//! This crate will own DS key lifecycle (generate in the keystore, CSR for the offline root,
//! install and rotate certificates), the versioned issuance HTTP API, OpenID4VCI, MSO revocation
//! with status-list and identifier-list publication, and storage through sqlx (SQLite by default,
//! PostgreSQL by `DATABASE_URL`). It never holds or calls the root key. The mdoc format itself
//! comes from the [`mso`] crate.

pub use mso;
