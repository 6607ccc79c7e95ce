//! The wallet SDK's integration tests (one binary): receiving, presenting, hostile input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "wallet/common.rs"]
mod common;
#[path = "wallet/hostile.rs"]
mod hostile;
#[path = "wallet/oid4vci.rs"]
mod oid4vci;
#[path = "wallet/present.rs"]
mod present;
#[path = "wallet/receive.rs"]
mod receive;
