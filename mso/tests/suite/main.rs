//! The integration tests of `mso`, one binary (one link step) with a module per area.

mod annex_c;
mod annex_c_interop;
mod annex_d;
mod backends;
mod bad_input;
mod cose;
mod crl;
mod hpke;
mod issue_encoding;
mod properties;
mod regressions;
mod roundtrip;
mod session;
mod status;
mod trust_store;
mod verify_checks;
mod verify_profile;
mod verify_revocation;
mod vical;
mod x509_path;
