//! Checking a request before anything is signed: the claims against the doc type, each device
//! key and its proof of possession, and the checks that need the DS.

use std::collections::BTreeSet;

use mso::cbor::{encode_value, Value};
use mso::crypto::PublicKey;
use mso::status::cose_key_thumbprint;
use schemas::{ValidateOptions, Validated};
use serde_json::Value as Json;
use time::{Duration, OffsetDateTime};

use super::DeviceKeyInput;
use crate::device_key::{from_cose_key_b64, from_jwk};
use crate::engine::dsset::SigningDs;
use crate::engine::errors::{EngineError, FieldError};
use crate::engine::issuer::Issuer;
use crate::pop::{proof_jwk, verify_proof, ProofContext};
use crate::store::applicant_ref;

/// How old a proof's `iat` may be: the nonce lifetime bounds it anyway.
pub(crate) const PROOF_MAX_AGE: Duration = Duration::minutes(10);

impl Issuer {
    pub(super) fn validate(&self, doctype: &str, claims: &Json) -> Result<Validated, EngineError> {
        self.validate_as(doctype, claims, false)
    }

    /// [`Issuer::validate`], or with `replay` the lenient validation that rebuilds the answer
    /// to a retry of a request accepted before (see [`ValidateOptions::replay`]).
    pub(super) fn validate_as(
        &self,
        doctype: &str,
        claims: &Json,
        replay: bool,
    ) -> Result<Validated, EngineError> {
        let options = ValidateOptions {
            image_max_bytes: self.config.issuance.portrait_max_bytes,
            replay,
        };
        if self.registry.get(doctype).is_none() {
            return Err(EngineError::UnknownDoctype(doctype.to_owned()));
        }
        self.registry
            .validate_with(doctype, claims, &options)
            .map_err(|errors| {
                EngineError::Validation(
                    errors
                        .into_iter()
                        .map(|e| {
                            let path = if e.path.is_empty() {
                                "claims".to_owned()
                            } else {
                                format!("claims{}", e.path)
                            };
                            FieldError::new(path, e.code.as_str(), e.message)
                        })
                        .collect(),
                )
            })
    }

    /// Parses every device key without checking proofs (for rebuilding a replayed answer to
    /// a request whose proofs were checked the first time).
    pub(super) fn parse_device_keys(
        &self,
        inputs: &[DeviceKeyInput],
    ) -> Result<Vec<PublicKey>, EngineError> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| self.parse_device_key(i, input))
            .collect()
    }

    fn parse_device_key(&self, i: usize, input: &DeviceKeyInput) -> Result<PublicKey, EngineError> {
        let key_err = |field: &str, m: String| {
            EngineError::DeviceKey(FieldError::new(
                format!("device_keys/{i}/{field}"),
                "invalid_device_key",
                m,
            ))
        };
        match (&input.cose_key, &input.jwk) {
            (Some(_), Some(_)) => Err(key_err("jwk", "give cose_key or jwk, not both".into())),
            (Some(c), None) => from_cose_key_b64(c).map_err(|e| key_err("cose_key", e.0)),
            (None, Some(j)) => from_jwk(j).map_err(|e| key_err("jwk", e.0)),
            (None, None) => proof_jwk(&input.proof)
                .map_err(|e| {
                    EngineError::Proof(FieldError::new(
                        format!("device_keys/{i}/proof"),
                        "invalid_proof",
                        e.to_string(),
                    ))
                })?
                .ok_or_else(|| {
                    key_err(
                        "cose_key",
                        "no device key: give cose_key, jwk, or a proof with a jwk header".into(),
                    )
                }),
        }
    }

    /// Parses every device key and verifies its proof over `nonce`.
    pub(super) fn device_keys(
        &self,
        inputs: &[DeviceKeyInput],
        nonce: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, EngineError> {
        let max = self.config.issuance.max_batch;
        if inputs.is_empty() || inputs.len() > max {
            return Err(EngineError::DeviceKey(FieldError::new(
                "device_keys",
                "batch_size",
                format!("give 1 to {max} device keys, found {}", inputs.len()),
            )));
        }
        let cx = ProofContext {
            audience: self.issuer_id(),
            nonce,
            now,
            max_age: PROOF_MAX_AGE,
        };
        let mut keys = Vec::with_capacity(inputs.len());
        let mut seen = BTreeSet::new();
        for (i, input) in inputs.iter().enumerate() {
            let key_err = |field: &str, m: String| {
                EngineError::DeviceKey(FieldError::new(
                    format!("device_keys/{i}/{field}"),
                    "invalid_device_key",
                    m,
                ))
            };
            let key = self.parse_device_key(i, input)?;
            verify_proof(&input.proof, &key, &cx, &self.verifier).map_err(|e| {
                EngineError::Proof(FieldError::new(
                    format!("device_keys/{i}/proof"),
                    "invalid_proof",
                    e.to_string(),
                ))
            })?;
            if !seen.insert(cose_key_thumbprint(&key)) {
                return Err(key_err(
                    "cose_key",
                    "the same device key appears twice in the batch".into(),
                ));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// The keyed hash that lets a refresh recognise the applicant record without storing it.
    pub(super) fn applicant_ref(&self, v: &Validated) -> [u8; 32] {
        // Canonical form: doctype, then namespaces (sorted) with elements sorted by name, as
        // deterministic CBOR.
        let namespaces = v
            .namespaces
            .iter()
            .map(|(ns, els)| {
                let mut els: Vec<_> = els.iter().collect();
                els.sort_by(|a, b| a.0.cmp(&b.0));
                let map = els
                    .into_iter()
                    .map(|(id, value)| (Value::Text(id.clone()), value.clone()))
                    .collect();
                (Value::Text(ns.clone()), Value::Map(map))
            })
            .collect();
        let canonical = encode_value(&Value::Array(vec![
            Value::Text(v.doctype.clone()),
            Value::Map(namespaces),
        ]));
        applicant_ref(&self.secret.derive(b"applicant-ref"), &canonical)
    }

    /// `issuing_country` / `issuing_jurisdiction` must equal the DS certificate's C / ST, or
    /// every verifier would reject the document.
    pub(super) fn check_ds_consistency(v: &Validated, ds: &SigningDs) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        for (ns, id, value) in v.elements() {
            let (expected, what) = match id {
                "issuing_country" => (ds.cert.country(), "countryName (C)"),
                "issuing_jurisdiction" => (ds.cert.state_or_province(), "stateOrProvinceName (ST)"),
                _ => continue,
            };
            let (Value::Text(given), Some(expected)) = (value, expected) else {
                continue;
            };
            if given != &expected {
                errors.push(FieldError::new(
                    format!("claims/{ns}/{id}"),
                    "ds_mismatch",
                    format!("must equal the DS certificate's {what}, {expected:?}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Validation(errors))
        }
    }

    /// Checks `claims` against the doc type (the portal's record, when an offer is made), so a
    /// bad record fails where it is given, not later in a wallet's request.
    pub fn check_claims(&self, doctype: &str, claims: &Json) -> Result<(), EngineError> {
        self.validate(doctype, claims).map(|_| ())
    }

    /// Checks a batch of key proofs over `nonce` without issuing (a deferred request): the
    /// nonce's integrity and lifetime, that it is unused, and every proof. Returns the keys and
    /// what the store records to consume the nonce.
    pub async fn check_key_proofs(
        &self,
        device_keys: &[DeviceKeyInput],
        nonce: &str,
        now: OffsetDateTime,
    ) -> Result<(Vec<PublicKey>, crate::store::UsedNonce), EngineError> {
        let used = self.nonces.check(nonce, now).map_err(EngineError::Nonce)?;
        let keys = self.device_keys(device_keys, nonce, now)?;
        let thumbprints: Vec<[u8; 32]> = keys.iter().map(cose_key_thumbprint).collect();
        let (reused, owners) = self.store.precheck(&used.sha256, &thumbprints).await?;
        if reused {
            return Err(EngineError::NonceReused);
        }
        if let Some(i) = owners.iter().position(Option::is_some) {
            return Err(EngineError::DeviceKeyInUse(Some(i)));
        }
        Ok((keys, used))
    }
}
