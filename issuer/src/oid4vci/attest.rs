//! The attestation policies (HAIP 1.0): wallet attestation as client authentication at the
//! PAR and token endpoints (`oid4vci.wallet_attestation`), and key attestations on key proofs
//! (`oid4vci.key_attestation`), both verified to the configured wallet providers
//! (`oid4vci.wallet_providers`) by [`crate::jose::attestation`].

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::error::VciError;
use super::service::Vci;
use crate::config::{AttestationPolicy, KeyAttestationPolicy};
use crate::engine::{EngineError, PROOF_MAX_AGE};
use crate::jose::attestation::{
    verify_client_attestation, verify_key_attestation, ClientAttestation, ClientAttestationCheck,
};
use crate::jose::proof::{verify_key_proof, KeyProofCheck};
use mso::crypto::DefaultVerifier;

/// The `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers of a request.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The client attestation JWT.
    pub attestation: String,
    /// Its proof of possession.
    pub pop: String,
}

/// Who an attestation names, for the audit: the provider (`iss`), else the attested client.
pub(super) fn attested_by(a: &ClientAttestation) -> String {
    a.provider.clone().unwrap_or_else(|| a.client_id.clone())
}

impl Vci {
    /// Applies `oid4vci.wallet_attestation` to a request of `client_id` (if it names one):
    /// `None` when attestations are off, or optional and absent; the verified attestation
    /// otherwise (its PoP `jti` accepted once); `invalid_client` when it is required and
    /// absent, or present and invalid.
    pub(super) async fn client_attestation(
        &self,
        auth: Option<&ClientAuth>,
        client_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<ClientAttestation>, VciError> {
        let cfg = &self.issuer.config().oid4vci;
        let auth = match (cfg.wallet_attestation, auth) {
            (AttestationPolicy::Off, _) | (AttestationPolicy::Optional, None) => return Ok(None),
            (AttestationPolicy::Required, None) => {
                return Err(VciError::InvalidClient(
                    "a wallet attestation is required: send OAuth-Client-Attestation and \
                     OAuth-Client-Attestation-PoP"
                        .into(),
                ))
            }
            (_, Some(a)) => a,
        };
        let trust = self.trust.as_ref().ok_or_else(|| {
            VciError::Service(EngineError::Config(
                "oid4vci.wallet_providers is not loaded".into(),
            ))
        })?;
        let max_age = Duration::seconds(i64::try_from(cfg.dpop_max_age_secs).unwrap_or(300));
        let check = ClientAttestationCheck {
            audience: self.issuer.issuer_id(),
            client_id,
            challenge: None,
            now,
            max_age,
        };
        let verified = verify_client_attestation(
            &auth.attestation,
            &auth.pop,
            &check,
            trust,
            &DefaultVerifier,
        )
        .map_err(|e| VciError::InvalidClient(e.to_string()))?;
        // The PoP is accepted once within its window, beside DPoP proofs' `jti`s.
        let mut h = Sha256::new();
        h.update(b"client attestation pop\0");
        h.update(verified.client_id.as_bytes());
        h.update([0]);
        h.update(verified.pop_jti.as_bytes());
        let expires = verified
            .pop_iat
            .saturating_add(max_age + Duration::minutes(2));
        if !self
            .issuer
            .store()
            .use_dpop_jti(&h.finalize().into(), expires)
            .await?
        {
            return Err(VciError::InvalidClient(
                "this client attestation PoP was already used (jti replay)".into(),
            ));
        }
        Ok(Some(verified))
    }

    /// Applies `oid4vci.key_attestation` to the key proofs of a credential request, before
    /// anything is signed or stored: each proof must carry a `key_attestation` header that
    /// verifies to a wallet provider and attests the proof's own key (`invalid_proof`).
    pub(super) fn check_key_attestations(
        &self,
        proofs: &[String],
        c_nonce: &str,
        now: OffsetDateTime,
    ) -> Result<(), VciError> {
        let cfg = &self.issuer.config().oid4vci;
        if cfg.key_attestation == KeyAttestationPolicy::Off {
            return Ok(());
        }
        let trust = self.trust.as_ref().ok_or_else(|| {
            VciError::Service(EngineError::Config(
                "oid4vci.wallet_providers is not loaded".into(),
            ))
        })?;
        let check = KeyProofCheck {
            audience: self.issuer.issuer_id(),
            expected_nonce: None,
            client_id: None,
            now,
            max_age: PROOF_MAX_AGE,
        };
        for (i, proof) in proofs.iter().enumerate() {
            let bad = |m: String| VciError::InvalidProof(format!("proofs/jwt/{i}: {m}"));
            let verified = verify_key_proof(proof, &check, &DefaultVerifier)
                .map_err(|e| bad(e.to_string()))?;
            let jwt = verified
                .key_attestation
                .as_deref()
                .ok_or_else(|| bad("a key_attestation header is required".into()))?;
            let attestation = verify_key_attestation(jwt, trust, now, &DefaultVerifier)
                .map_err(|e| bad(format!("key_attestation: {e}")))?;
            attestation
                .ensure_attested(&verified.key)
                .map_err(|e| bad(format!("key_attestation: {e}")))?;
            if attestation.nonce.as_deref().is_some_and(|n| n != c_nonce) {
                return Err(bad(
                    "key_attestation: its nonce is not the proof's c_nonce".into()
                ));
            }
        }
        Ok(())
    }
}
