//! The issuer's JOSE layer (`mdoc_issuer::jose`): every refusal of the key-proof, DPoP and
//! attestation profiles, hostile input to each verifier (proptest), positive round trips for
//! each algorithm, and interoperability with
//! two independent implementations: jsonwebtoken (Rust, here) and joserfc (Python, in
//! `interop.rs`, `#[ignore]`d: it needs the venv of `scripts/python-venv.sh` as `MDOC_PYTHON`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod attestation;
mod common;
mod dpop;
mod hostile;
mod interop;
mod jsonwebtoken_interop;
mod jwk;
mod proof;
mod sign;
