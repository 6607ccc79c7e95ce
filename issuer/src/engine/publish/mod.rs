//! Publication of the revocation lists: Token Status List CWTs (1 bit per MSO, zlib) and the
//! identifier list CWT (RFC 9679 thumbprints of revoked device keys).
//!
//! Both are signed by the DS in use, whose certificate the IACA issued, so a verifier checks
//! them against the same trust anchor as the MSOs. Signed tokens are cached: a revocation in
//! this process invalidates the cache at once, and a cached token is re-signed after
//! `status.refresh_secs` anyway, which bounds how late another instance's revocation (or an
//! expiry dropping an entry off the list) shows.
//!
//! - `cache`: [`Publisher`], the cache of signed tokens, and [`Published`], one token;
//! - `tokens`: building and signing the tokens (methods of the engine).

mod cache;
mod tokens;

pub use cache::{Published, Publisher};
