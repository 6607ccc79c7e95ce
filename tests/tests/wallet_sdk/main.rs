//! The wallet SDK (`wallet-sdk`: `Oid4vciClient` over the app's `HttpClient` and `KeyStore`,
//! `Wallet::receive_issued` verifying on receipt against the verifier SDK's `TrustStore`)
//! against OpenID4VCI 1.0 issuers:
//!
//! - `own_issuer`: this project's issuer (`mdoc-issuer` on loopback through `devstack`), over
//!   the pre-authorized and the authorization-code flows;
//! - `npm_issuer` (`#[ignore]`d, needs Node): an independent issuer built on the OpenWallet
//!   Foundation's oid4vc-ts and `@animo-id/mdoc` from the npm registry
//!   (`tests/interop/oid4vci-issuer`);
//! - `npm_verifier` (`#[ignore]`d, needs Node): an independent OpenID4VP 1.0 verifier on
//!   `@openid4vc/openid4vp`, `dcql`, `jose` and `@animo-id/mdoc` (`tests/interop/oid4vp-verifier`)
//!   and the helpers to run it: it verifies the wallet SDK's own answers to its requests, and
//!   hand-built responses for the refusals.
//!
//! Both share the app side: `http`, a blocking reqwest `HttpClient`, and `app`, the wallet
//! with its storage and trust store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod app;
mod http;
mod npm_issuer;
mod npm_verifier;
mod own_issuer;
