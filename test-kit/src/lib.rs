//! Test fixtures shared by every crate's tests, benches and examples (rustls-test style: one
//! unpublished crate instead of `#[path]` includes). A dev-dependency only; `scripts/boundaries.sh`
//! keeps it out of every normal dependency list.
//!
//! - [`pki`]: a throwaway IACA and a Document Signer with the exact Annex B profile (and
//!   deliberately broken variants), link certificates and CRLs;
//! - [`mdl`]: a sample mDL with 12 elements and a 20 KB portrait;
//! - [`forge`]: properly signed documents with one intended defect each;
//! - [`vical`]: a VICAL root and signer for signing and trusting VICALs;
//! - [`interop`]: the pinned Python implementations of `tests/interop/`, run from any crate;
//! - [`tsa`]: a real RFC 3161 time-stamping authority (`openssl ts -reply`), also over HTTP;
//! - [`softhsm`]: a private SoftHSM2 configuration with initialised tokens, set up once per
//!   test process.

// Test fixtures: a failure to build one is a failed test, said at the call site.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod forge;
pub mod interop;
pub mod mdl;
pub mod pki;
pub mod reader;
pub mod softhsm;
pub mod tsa;
pub mod verifier;
pub mod vical;
