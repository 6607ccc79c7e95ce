//! The integration tests of `custody`, one binary (one link step) with a module per area.

mod audit;
mod keys_pkcs11;
mod keys_softstore;
mod keys_uri;
mod quorum;
mod timestamp;
