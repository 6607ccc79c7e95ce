//! The integration tests of `verifier-sdk`, one binary (one link step) with a module per area.

mod annex_d;
mod bad_input;
mod common;
mod dts_sync;
mod own_stack;
