//! The OpenID4VCI service: the engine it issues through and what it adds to it.

use std::sync::Arc;

use time::Duration;

use super::providers::load_trust;
use crate::config::{AttestationPolicy, KeyAttestationPolicy};
use crate::engine::{EngineError, Issuer, ServerSecret};
use crate::jose::attestation::AttestationTrust;
use crate::pop::Nonces;

/// OpenID4VCI 1.0 over the issuing engine: offers, grants, and the wallet-facing endpoints'
/// logic, independent of HTTP. Share it behind an [`Arc`].
#[derive(Debug)]
pub struct Vci {
    pub(super) issuer: Arc<Issuer>,
    dpop_nonces: Nonces,
    /// The wallet providers, when an attestation policy is on.
    pub(super) trust: Option<AttestationTrust>,
}

impl Vci {
    /// The service over `issuer`, with the wallet providers' trust anchors read from
    /// `oid4vci.wallet_providers` when an attestation policy needs them.
    pub fn new(issuer: Arc<Issuer>) -> Result<Self, EngineError> {
        let cfg = &issuer.config().oid4vci;
        let trust = if cfg.wallet_attestation != AttestationPolicy::Off
            || cfg.key_attestation != KeyAttestationPolicy::Off
        {
            Some(load_trust(&cfg.wallet_providers)?)
        } else {
            None
        };
        let ttl = cfg.dpop_max_age_secs;
        let dpop_nonces = Nonces::new(
            issuer.secret.derive(b"oid4vci dpop nonce"),
            Duration::seconds(i64::try_from(ttl).unwrap_or(300)),
        );
        Ok(Vci {
            issuer,
            dpop_nonces,
            trust,
        })
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
