//! The Digital Trust Service: ingest (every refusal atomic and audited), the served site over a
//! real HTTP server on loopback, the pre-signed CRL schedule, the VICAL, the export tree and
//! PostgreSQL replicas.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod fixture;
mod http;
mod ingest;
mod postgres;
mod schedule;
mod signer;
