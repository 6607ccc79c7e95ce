//! `mdoc-issuer`: the online issuer service.
//!
//! - [`ds`]: the DS key lifecycle: keys generated in the key store (PKCS#11, or the dev-only
//!   file keystore), PKCS#10 requests for the offline root, installation of the returned
//!   certificate (key match, chain to a configured IACA, DS profile), and rotation (the newest
//!   usable DS signs; an MSO never outlives its DS);
//! - [`store`]: storage through sqlx, SQLite by default and PostgreSQL by URL;
//! - [`engine`]: issuance (schema validation, device-key proof of possession, MSO signing with
//!   status-list and identifier-list entries), refresh, idempotent replay, revocation and the
//!   signed Token Status List and Identifier List CWTs, independent of HTTP;
//! - [`api`]: the versioned HTTP API (axum) with client authentication, scopes, rate limits
//!   and JSON errors; [`server`]: assembly from [`config`] and graceful shutdown;
//! - [`crl_follow`]: following the roots' CRLs on the DTS; a DS the root revoked is revoked
//!   here with all its documents (`engine::Issuer::intake_crl`);
//! - [`audit`], [`metrics`]: the shared hash-chained audit log and Prometheus metrics;
//! - [`jose`]: JWS/JWK for OpenID4VCI key proofs, DPoP, client and key attestations and signed
//!   metadata, signatures through the `mso::crypto` seam;
//! - `timefmt`: the one RFC 3339 formatting of times.
//!
//! Signatures go through `mso`'s aws-lc backend (`mso::crypto::DefaultSigner`/`DefaultVerifier`).
//!
//! It never holds or calls the root key. The mdoc format itself comes from the [`mso`] crate,
//! doc types from `schemas`.

pub use mso;
pub mod api;
pub mod audit;
pub mod config;
pub mod crl_follow;
pub mod device_key;
pub mod ds;
pub mod engine;
pub mod jose;
pub mod metrics;
pub mod oid4vci;
pub mod pop;
pub mod server;
pub mod store;
mod timefmt;
