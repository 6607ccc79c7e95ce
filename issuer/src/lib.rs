//! `mdoc-issuer`: the online issuer service.
//!
//! Built so far:
//! - [`ds`]: the DS key lifecycle: keys generated in the key store (PKCS#11, or the dev-only
//!   file keystore), PKCS#10 requests for the offline root, installation of the returned
//!   certificate (key match, chain to a configured IACA, DS profile), and rotation (the newest
//!   usable DS signs; an MSO never outlives its DS);
//! - [`store`]: storage through sqlx, SQLite by default and PostgreSQL by URL: documents, MSOs
//!   with status-list indices and identifiers, revocation, API clients (hashed tokens),
//!   idempotency records; no applicant personal data in clear.
//!
//! To come (issue 4): the versioned issuance HTTP API, OpenID4VCI, status-list and
//! identifier-list publication, and operations. It never holds or calls the root key. The mdoc
//! format itself comes from the [`mso`] crate, doc types from `schemas`.

pub use mso;
pub mod ds;
pub mod store;
