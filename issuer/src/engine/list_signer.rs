//! The list signer: the key that signs the status and identifier list tokens (ISO/IEC 18013-5
//! second edition, 12.3.6), certified by the root under its own profile (Table B.9), so the
//! lists stay published and verifiable when every DS is revoked (policy §4.4.1.2 needs the
//! revoked device keys published exactly then).
//!
//! The newest active list signer valid now signs. Without one, the DS in use signs the lists,
//! as the first edition did; `mdoc_issuer_list_signer_not_after_seconds` is then 0 and the
//! lists go dark when that DS is revoked.

use std::sync::Arc;

use mso::crypto::Signer;
use mso::x509::Certificate;
use time::OffsetDateTime;

use super::dsset::ListSigner;
use super::errors::EngineError;
use super::issuer::Issuer;
use crate::ds::install_list_signer_certificate;
use crate::store::DsState;

/// Who signs a list token now.
pub(super) struct ListSigning {
    /// The key.
    pub(super) signer: Arc<dyn Signer>,
    /// Its certificate (the token's x5chain).
    pub(super) cert: Certificate,
    /// `list_signer` or `ds`, for the metrics.
    pub(super) kind: &'static str,
}

impl Issuer {
    /// The key that signs list tokens at `now`: the list signer, or else the DS in use.
    pub(super) fn list_signing(&self, now: OffsetDateTime) -> Result<ListSigning, EngineError> {
        let current = self
            .list_signer
            .read()
            .map_err(|_| EngineError::Internal("list signer lock poisoned".into()))?;
        if let Some(ls) = current
            .as_ref()
            .filter(|ls| ls.cert.not_before() <= now && now < ls.cert.not_after())
        {
            return Ok(ListSigning {
                signer: Arc::clone(&ls.signer),
                cert: ls.cert.clone(),
                kind: "list_signer",
            });
        }
        drop(current);
        let ds = self.signing_ds(now)?;
        Ok(ListSigning {
            signer: ds.signer,
            cert: ds.cert,
            kind: "ds",
        })
    }

    /// Re-reads the list signer certificates from the store and keeps the newest active one
    /// valid at `now` whose certificate still passes the install checks and whose key opens.
    /// One that fails is skipped with a log line, never used.
    pub(super) async fn reload_list_signer(&self, now: OffsetDateTime) -> Result<(), EngineError> {
        let rows = self.store.list_signer_certificates().await?;
        let usable = rows
            .iter()
            .filter(|r| r.state == DsState::Active && r.not_before <= now && now < r.not_after);
        let mut chosen = None;
        for row in usable {
            let kept = self
                .list_signer
                .read()
                .map_err(|_| EngineError::Internal("list signer lock poisoned".into()))?
                .as_ref()
                .filter(|ls| ls.serial == row.serial)
                .map(|ls| ListSigner {
                    serial: ls.serial.clone(),
                    cert: ls.cert.clone(),
                    signer: Arc::clone(&ls.signer),
                });
            if kept.is_some() {
                chosen = kept;
                break;
            }
            // Open the key outside any lock: a PKCS#11 login or a keystore KDF takes time.
            let opened = (|| -> Result<ListSigner, EngineError> {
                let uri: custody::uri::KeyUri = row
                    .key_uri
                    .parse()
                    .map_err(|e| EngineError::Internal(format!("key URI: {e}")))?;
                let signer: Arc<dyn Signer> = Arc::from(self.keys.open_key(&uri)?);
                let cert =
                    install_list_signer_certificate(&row.der, signer.as_ref(), &self.iacas, now)?;
                Ok(ListSigner {
                    serial: row.serial.clone(),
                    cert: cert.certificate().clone(),
                    signer,
                })
            })();
            match opened {
                Ok(ls) => {
                    tracing::info!(serial = %ls.serial, not_after = %row.not_after, "list signer loaded");
                    chosen = Some(ls);
                    break;
                }
                Err(e) => {
                    tracing::error!(serial = %row.serial, error = %e, "list signer not usable; skipped")
                }
            }
        }
        self.metrics.list_signer_not_after.set(
            chosen
                .as_ref()
                .map_or(0, |ls| ls.cert.not_after().unix_timestamp()),
        );
        let mut current = self
            .list_signer
            .write()
            .map_err(|_| EngineError::Internal("list signer lock poisoned".into()))?;
        let serial = |ls: &Option<ListSigner>| ls.as_ref().map(|l| l.serial.clone());
        if serial(&current) != serial(&chosen) {
            // Tokens signed by the previous signer (perhaps just revoked) are not served again.
            self.publisher.invalidate();
            if chosen.is_none() {
                tracing::warn!("no usable list signer: the DS in use signs the lists");
            }
        }
        *current = chosen;
        Ok(())
    }
}
