//! The MSOs: their validity, building them (deterministically from a seed, which is what lets
//! a replay rebuild them), signing them, and describing them in the answer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mso::cbor::{to_vec, TDate};
use mso::crypto::PublicKey;
use mso::issue::{MdocBuilder, PreparedMdoc, SeededRng};
use mso::model::{IdentifierListRef, Status, StatusListRef, ValidityInfo};
use mso::status::cose_key_thumbprint;
use schemas::Validated;
use time::{Duration, OffsetDateTime};

use super::{Credential, IdentifierListEntry, StatusListEntry};
use crate::engine::dsset::SigningDs;
use crate::engine::errors::EngineError;
use crate::engine::issuer::Issuer;
use crate::timefmt::rfc3339;

/// Encoded IssuerSigned of each MSO, and each raw signature.
type Signed = (Vec<Vec<u8>>, Vec<Vec<u8>>);

impl Issuer {
    pub(super) fn validity(
        &self,
        doctype: &str,
        ds: &SigningDs,
        now: OffsetDateTime,
    ) -> Result<ValidityInfo, EngineError> {
        let policy = self.config.validity_for(doctype);
        let now = OffsetDateTime::from_unix_timestamp(now.unix_timestamp())
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let until = now
            .saturating_add(Duration::days(policy.valid_days))
            .min(ds.cert.not_after());
        if until <= now {
            return Err(EngineError::NoSigningDs);
        }
        let expected = policy
            .expected_update_days
            .map(|d| now.saturating_add(Duration::days(d)))
            .filter(|e| *e < until);
        Ok(ValidityInfo {
            signed: TDate::new(now),
            valid_from: TDate::new(now),
            valid_until: TDate::new(until),
            expected_update: expected.map(TDate::new),
        })
    }

    /// Builds the MSOs, one per key. Deterministic given `seeds` (each MSO's salts, digest
    /// IDs and order come from its seed's [`SeededRng`] stream), which is what lets a replay
    /// rebuild them byte for byte.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prepare_all(
        &self,
        validated: &Validated,
        keys: &[PublicKey],
        ds_der: &[u8],
        alg: mso::crypto::Algorithm,
        validity: ValidityInfo,
        decoys: usize,
        list_uri: &str,
        indices: &[u64],
        seeds: &[[u8; 32]],
    ) -> Result<Vec<PreparedMdoc>, EngineError> {
        let id_uri = self.identifier_list_uri();
        let x5chain = vec![ds_der.to_vec()];
        keys.iter()
            .zip(indices)
            .zip(seeds)
            .map(|((key, &idx), seed)| {
                let builder = validated
                    .apply(MdocBuilder::new(validated.doctype.clone()))
                    .device_key(key)
                    .validity(validity)
                    .decoy_digests(decoys)
                    .status(Status {
                        status_list: Some(StatusListRef {
                            idx,
                            uri: list_uri.to_owned(),
                            certificate: None,
                        }),
                        identifier_list: Some(IdentifierListRef {
                            id: cose_key_thumbprint(key).to_vec(),
                            uri: id_uri.clone(),
                            certificate: None,
                        }),
                    });
                builder
                    .into_prepared(alg, &x5chain, &mut SeededRng::from_seed(*seed))
                    .map_err(|e| EngineError::Internal(format!("prepare MSO: {e}")))
            })
            .collect()
    }

    /// Signs prepared MSOs with the DS (on the blocking pool for an HSM); returns the encoded
    /// IssuerSigned of each and its raw signature.
    pub(super) async fn sign_prepared(
        &self,
        prepared: Vec<PreparedMdoc>,
        ds: &SigningDs,
    ) -> Result<Signed, EngineError> {
        let signer = std::sync::Arc::clone(&ds.signer);
        let sign = move || -> mso::Result<Signed> {
            let mut out = Vec::with_capacity(prepared.len());
            let mut sigs = Vec::with_capacity(prepared.len());
            for p in prepared {
                let sig = signer.sign(p.to_be_signed())?;
                out.push(to_vec(&p.complete(sig.clone())?));
                sigs.push(sig);
            }
            Ok((out, sigs))
        };
        if ds.inline {
            sign()
        } else {
            tokio::task::spawn_blocking(sign)
                .await
                .map_err(|e| EngineError::Internal(format!("signing task: {e}")))?
        }
        .map_err(|e| EngineError::Internal(format!("signing: {e}")))
    }

    /// The answer's entry for each signed MSO.
    pub(super) fn credentials(
        &self,
        signed: Vec<Vec<u8>>,
        keys: &[PublicKey],
        ds_serial: &str,
        validity: ValidityInfo,
        list_uri: &str,
        indices: &[u64],
    ) -> Result<Vec<Credential>, EngineError> {
        let time = |t: TDate| {
            rfc3339(t.datetime()).map_err(|e| EngineError::Internal(format!("MSO validity: {e}")))
        };
        let id_uri = self.identifier_list_uri();
        signed
            .into_iter()
            .zip(keys.iter().zip(indices))
            .map(|(bytes, (key, &idx))| {
                Ok(Credential {
                    issuer_signed: URL_SAFE_NO_PAD.encode(bytes),
                    ds_serial: ds_serial.to_owned(),
                    valid_from: time(validity.valid_from)?,
                    valid_until: time(validity.valid_until)?,
                    expected_update: validity.expected_update.map(time).transpose()?,
                    status_list: StatusListEntry {
                        uri: list_uri.to_owned(),
                        idx,
                    },
                    identifier_list: IdentifierListEntry {
                        uri: id_uri.clone(),
                        id: URL_SAFE_NO_PAD.encode(cose_key_thumbprint(key)),
                    },
                })
            })
            .collect()
    }
}
