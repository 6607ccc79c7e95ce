//! The wallet SDK's integration tests (one binary): receiving, presenting, hostile input, and
//! the responses checked by independent implementations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod annex_c;
mod common;
mod hostile;
mod independent;
mod oid4vci;
mod oid4vp;
mod present;
mod receive;
