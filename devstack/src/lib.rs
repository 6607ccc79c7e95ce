//! **DEVELOPMENT ONLY**: a complete local system on embedded defaults.
//!
//! - [`DevPki`]: a development root (IACA, P-384) in the encrypted *file* keystore, built with
//!   the `mdoc-ca` library's profile builders: it certifies DS CSRs, signs CRLs and makes link
//!   certificates for a rehearsed key rollover. Production roots are offline, in an HSM, and
//!   activated by a quorum of custodians (`mdoc-ca`); nothing here is fit for that.
//! - [`DevStack`]: the issuer service (`mdoc-issuer`) on loopback with SQLite (or any database
//!   URL), its DS key generated in the dev file keystore and certified by the [`DevPki`] on
//!   first run.
//! - [`sample`]: sample applicant data and a wallet-side proof helper.
//! - [`app_http`]: the HTTP stack the main job's wallet and verifier apps hand to the wallet
//!   and verifier SDKs (their foreign HTTP traits), recording what the SDKs did on the wire.
//! - [`wallet`]: a minimal OpenID4VCI wallet (token, nonce, credential) for the `issuer-load`
//!   benchmark only: the main job's holder is the wallet SDK.
//!
//! Used by the `mdoc-dev` walkthrough (the README's first command), the `issuer-load`
//! benchmark and the end-to-end tests.

pub mod app_http;
pub mod pki;
pub mod sample;
pub mod stack;
pub mod wallet;

pub use pki::DevPki;
pub use stack::{DevStack, StackOptions};

/// Errors of the dev tooling: a message is enough for a development tool.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
