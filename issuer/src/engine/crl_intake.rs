//! CRL intake: the issuer follows its roots' CRLs (at the URLs its IACA certificates name, as
//! the DTS publishes them) and revokes every installed DS certificate the root has revoked,
//! with all its documents — what `POST /v1/ds/{serial}/revoke` does by hand (policy
//! §4.4.1.2), automatically and audited with the originator [`CRL_INTAKE_ACTOR`]. A list
//! signer the root has revoked stops signing the lists.
//!
//! A CRL is applied only if one of the issuer's IACAs signed it (issuer name, key identifier,
//! signature; thisUpdate not in the future). Revocation is final, so an older or stale CRL can
//! add revocations but never undo one: there is no rollback to guard against here.

use mso::crl::{Crl, CrlVerifyOptions};
use time::OffsetDateTime;

use super::{EngineError, Issuer};
use custody::audit::AuditEvent;

use crate::audit::events;
use crate::store::DsState;

/// The audit originator of revocations the CRL intake makes.
pub const CRL_INTAKE_ACTOR: &str = "crl-intake";

/// Why a CRL was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CrlIntakeError {
    /// The CRL could not be fetched.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The CRL URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No IACA of this issuer signed it, or it is malformed.
    #[error("CRL refused: {0}")]
    Refused(mso::Error),
    /// Revoking failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What one CRL changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrlIntake {
    /// The CRL's number (hex), if it has one.
    pub crl_number: Option<String>,
    /// DS serials newly revoked, with the number of documents each took with it.
    pub revoked: Vec<(String, u64)>,
    /// List signer serials newly revoked (they sign no list from now on).
    pub list_signers_revoked: Vec<String>,
}

impl Issuer {
    /// Applies a CRL (DER) fetched from `source` at `now`: see the module documentation.
    pub async fn intake_crl(
        &self,
        der: &[u8],
        source: &str,
        now: OffsetDateTime,
    ) -> Result<CrlIntake, CrlIntakeError> {
        let crl = Crl::from_der(der).map_err(CrlIntakeError::Refused)?;
        let mut last = None;
        let mut verified = None;
        for iaca in &self.iacas {
            if iaca.subject() != crl.issuer() {
                continue;
            }
            match crl
                .clone()
                .verify(iaca, &CrlVerifyOptions::new(now), &self.verifier)
            {
                Ok(v) => {
                    verified = Some(v);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let issuer = crl.issuer().to_string();
        let crl = verified.ok_or_else(|| {
            CrlIntakeError::Refused(last.unwrap_or_else(|| {
                mso::crl::CrlError::NoTrustedIssuer {
                    issuer,
                    reason: "no IACA of this issuer has the CRL's issuer name".into(),
                }
                .into()
            }))
        })?;
        let number = crl.crl_number().map(|n| hex::encode(n.as_bytes()));
        let mut revoked = Vec::new();
        for ds in self
            .store
            .ds_certificates()
            .await
            .map_err(EngineError::from)?
        {
            if ds.state == DsState::Revoked {
                continue;
            }
            let serial = hex::decode(&ds.serial).map_err(|_| {
                EngineError::Internal(format!("stored DS serial {} is not hex", ds.serial))
            })?;
            if crl.is_revoked(&serial) {
                let out = self.revoke_ds(CRL_INTAKE_ACTOR, &ds.serial, now).await?;
                revoked.push((ds.serial.clone(), out.documents));
            }
        }
        let mut list_signers_revoked = Vec::new();
        for ls in self
            .store
            .list_signer_certificates()
            .await
            .map_err(EngineError::from)?
        {
            let serial = hex::decode(&ls.serial).map_err(|_| {
                EngineError::Internal(format!(
                    "stored list signer serial {} is not hex",
                    ls.serial
                ))
            })?;
            if ls.state != DsState::Revoked
                && crl.is_revoked(&serial)
                && self
                    .store
                    .revoke_list_signer(&ls.serial)
                    .await
                    .map_err(EngineError::from)?
            {
                tracing::warn!(serial = %ls.serial, "list signer revoked by its root's CRL");
                list_signers_revoked.push(ls.serial);
            }
        }
        if !list_signers_revoked.is_empty() {
            self.reload_list_signer(now).await?;
        }
        let serials: Vec<&str> = revoked.iter().map(|(s, _)| s.as_str()).collect();
        self.audit
            .record(
                AuditEvent::success(events::CRL_INTAKE)
                    .actor(CRL_INTAKE_ACTOR)
                    .detail("source", source)
                    .detail("crl_number", number.clone().unwrap_or_default())
                    .detail("ds_revoked", serials.join(","))
                    .detail("list_signers_revoked", list_signers_revoked.join(",")),
            )
            .await
            .map_err(EngineError::from)?;
        Ok(CrlIntake {
            crl_number: number,
            revoked,
            list_signers_revoked,
        })
    }
}
