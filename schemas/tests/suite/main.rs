//! The integration tests of `schemas`, one binary (one link step) with a module per area.

mod common;
mod doctypes;
mod fuzz;
mod loader;
mod mdl;
