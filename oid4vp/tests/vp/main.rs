//! Tests of the OpenID4VP requests and responses, one binary with a module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod client_id;
mod fixtures;
mod model;
mod object;
mod response;
mod url;
