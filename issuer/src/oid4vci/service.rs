//! The OpenID4VCI service: the engine it issues through and what it adds to it.

use std::sync::Arc;

use time::Duration;

use crate::engine::{Issuer, ServerSecret};
use crate::pop::Nonces;

/// OpenID4VCI 1.0 over the issuing engine: offers, grants, and the wallet-facing endpoints'
/// logic, independent of HTTP. Share it behind an [`Arc`].
#[derive(Debug)]
pub struct Vci {
    pub(super) issuer: Arc<Issuer>,
    dpop_nonces: Nonces,
}

impl Vci {
    /// The service over `issuer`.
    pub fn new(issuer: Arc<Issuer>) -> Self {
        let ttl = issuer.config().oid4vci.dpop_max_age_secs;
        let dpop_nonces = Nonces::new(
            issuer.secret.derive(b"oid4vci dpop nonce"),
            Duration::seconds(i64::try_from(ttl).unwrap_or(300)),
        );
        Vci {
            issuer,
            dpop_nonces,
        }
    }

    /// The server-provided DPoP nonces (RFC 9449 §8).
    pub fn dpop_nonces(&self) -> &Nonces {
        &self.dpop_nonces
    }

    /// The engine.
    pub fn issuer(&self) -> &Arc<Issuer> {
        &self.issuer
    }

    pub(super) fn secret(&self) -> &ServerSecret {
        &self.issuer.secret
    }

    /// The absolute URL of one of the service's paths.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer.issuer_id())
    }
}
