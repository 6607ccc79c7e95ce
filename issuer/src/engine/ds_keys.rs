//! Choosing the DS that signs, reloading the DS set from the store, and forgetting a revoked
//! DS.

use std::sync::Arc;

use mso::crypto::Signer;
use time::OffsetDateTime;

use super::dsset::{signs_inline, Loaded, SigningDs};
use super::errors::EngineError;
use super::issuer::Issuer;
use crate::ds::install_certificate;
use crate::store::DsState;

/// A stored DS certificate with its key opened and its certificate checked.
type Opened = (
    crate::store::DsCertificate,
    (
        custody::uri::KeyUri,
        Arc<dyn Signer>,
        crate::ds::DsCertificate,
    ),
);

impl Issuer {
    /// The DS to sign with at `now`: the newest usable one (never expired, not yet valid,
    /// retired or revoked).
    pub fn signing_ds(&self, now: OffsetDateTime) -> Result<SigningDs, EngineError> {
        let set = self
            .ds
            .read()
            .map_err(|_| EngineError::Internal("DS set lock poisoned".into()))?;
        let entry = set
            .inventory
            .signing_ds(now)
            .ok_or(EngineError::NoSigningDs)?;
        let loaded = set
            .loaded
            .get(&entry.serial)
            .ok_or(EngineError::NoSigningDs)?;
        Ok(SigningDs {
            serial: entry.serial.clone(),
            cert: loaded.cert.clone(),
            signer: Arc::clone(&loaded.signer),
            inline: signs_inline(&self.keys),
        })
    }

    /// The MSO signature algorithm of the DS in use now (empty when none is usable): what the
    /// OpenID4VCI metadata announces as `credential_signing_alg_values_supported`.
    pub fn signing_algorithms(&self, now: OffsetDateTime) -> Vec<mso::crypto::Algorithm> {
        self.signing_ds(now)
            .map(|ds| vec![ds.signer.algorithm()])
            .unwrap_or_default()
    }

    /// Re-reads the DS certificates from the store: new active ones are re-checked (key match,
    /// chain to a configured IACA, DS profile) and their keys opened; revoked ones are marked
    /// so they never sign again. The list signer is reloaded too. A certificate that fails the checks is skipped with a log
    /// line, never used.
    pub async fn reload_ds(&self, now: OffsetDateTime) -> Result<(), EngineError> {
        let rows = self.store.ds_certificates().await?;
        let mut fresh = Vec::new();
        {
            let set = self
                .ds
                .read()
                .map_err(|_| EngineError::Internal("DS set lock poisoned".into()))?;
            for row in &rows {
                let known = set.inventory.get(&row.serial).is_some();
                if row.state == DsState::Active && !known && row.not_after > now {
                    fresh.push(row.clone());
                }
            }
        }
        // Open keys outside the lock: a PKCS#11 login or a keystore KDF takes time.
        let mut opened = Vec::new();
        for row in fresh {
            let checked = (|| -> Result<_, EngineError> {
                let uri: custody::uri::KeyUri = row
                    .key_uri
                    .parse()
                    .map_err(|e| EngineError::Internal(format!("key URI: {e}")))?;
                let signer: Arc<dyn Signer> = Arc::from(self.keys.open_key(&uri)?);
                let cert = install_certificate(&row.der, signer.as_ref(), &self.iacas, now)?;
                for w in cert.warnings() {
                    tracing::warn!(serial = %row.serial, code = w.code(), "DS certificate: {w}");
                }
                Ok((uri, signer, cert))
            })();
            match checked {
                Ok(x) => opened.push((row, x)),
                Err(e) => {
                    tracing::error!(serial = %row.serial, error = %e, "DS certificate not usable; skipped")
                }
            }
        }
        self.install_opened(&rows, opened, now)?;
        self.reload_list_signer(now).await
    }

    /// Adds the opened DS certificates to the set and marks the revoked ones (under the set's
    /// lock, which is not held across an await).
    fn install_opened(
        &self,
        rows: &[crate::store::DsCertificate],
        opened: Vec<Opened>,
        now: OffsetDateTime,
    ) -> Result<(), EngineError> {
        let mut set = self
            .ds
            .write()
            .map_err(|_| EngineError::Internal("DS set lock poisoned".into()))?;
        for (row, (uri, signer, cert)) in opened {
            if set.inventory.get(&row.serial).is_some() {
                continue;
            }
            set.inventory.add(&cert, &uri, row.installed_at)?;
            set.loaded.insert(
                row.serial.clone(),
                Loaded {
                    signer,
                    cert: cert.certificate().clone(),
                },
            );
            tracing::info!(serial = %row.serial, not_after = %row.not_after, "DS certificate loaded");
        }
        for row in rows.iter().filter(|r| r.state == DsState::Revoked) {
            if set.inventory.get(&row.serial).is_some_and(|e| !e.revoked) {
                set.inventory.revoke(&row.serial)?;
                tracing::warn!(serial = %row.serial, "DS certificate revoked; no longer signs");
            }
        }
        let current = set.inventory.signing_ds(now);
        self.metrics
            .ds_not_after
            .set(current.map_or(0, |e| e.not_after.unix_timestamp()));
        self.metrics
            .ds_rotation_due
            .set(i64::from(set.inventory.needs_rotation(now)));
        Ok(())
    }

    /// Marks a DS revoked in memory at once (the store is updated by the caller).
    pub(crate) fn forget_ds(&self, serial: &str) -> Result<(), EngineError> {
        let mut set = self
            .ds
            .write()
            .map_err(|_| EngineError::Internal("DS set lock poisoned".into()))?;
        if set.inventory.get(serial).is_some() {
            set.inventory.revoke(serial)?;
        }
        Ok(())
    }
}
