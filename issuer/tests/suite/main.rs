//! The integration tests of `issuer` outside the HTTP API (`api/`) and JOSE (`jose/`): one
//! binary (one link step) with a module per area.

mod cli;
mod credential_identifiers_migration;
mod ds;
mod offer_claims_migration;
mod replay_migration;
mod store;
