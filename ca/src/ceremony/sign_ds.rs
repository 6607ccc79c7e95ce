//! `sign-ds` and `sign-list-signer`: DS and MSO revocation list signer certificates from
//! PKCS#10 requests. Every request is checked before the key is activated: proof of
//! possession, curve and point, a key never certified before (for either role) and never
//! reported compromised, C/ST equal to the IACA's, validity within policy and the IACA's.

use std::collections::BTreeSet;

use mso::crypto::Curve;

use super::activation::{self, audit_key_label};
use super::init::{cert_record, describe};
use super::{checkpoint, CeremonyError, Context, Outcome, Result};
use crate::config::SignDsConfig;
use crate::csr::{parse_csr, CsrPolicy, ValidatedCsr};
use crate::ledger::{sha256_hex, KeyHistory};
use crate::profile::{build_ds, build_list_signer, issuer_locators, DsParams};

/// Which signer certificate a ceremony issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignerKind {
    /// Document Signer (`sign-ds`).
    Ds,
    /// MSO revocation list signer (`sign-list-signer`).
    ListSigner,
}

impl SignerKind {
    /// The config section, the ledger's certificate kind, the audit event and the name in
    /// messages.
    fn section(self) -> &'static str {
        match self {
            SignerKind::Ds => "sign_ds",
            SignerKind::ListSigner => "sign_list_signer",
        }
    }

    fn ledger_kind(self) -> &'static str {
        match self {
            SignerKind::Ds => "ds",
            SignerKind::ListSigner => "list_signer",
        }
    }

    fn event(self) -> &'static str {
        match self {
            SignerKind::Ds => "ca.ds.issue",
            SignerKind::ListSigner => "ca.list_signer.issue",
        }
    }

    fn name(self) -> &'static str {
        match self {
            SignerKind::Ds => "DS",
            SignerKind::ListSigner => "list signer",
        }
    }

    fn config(self, ctx: &Context<'_>) -> Option<SignDsConfig> {
        match self {
            SignerKind::Ds => ctx.cfg.sign_ds.clone(),
            SignerKind::ListSigner => ctx.cfg.sign_list_signer.clone(),
        }
    }

    fn build(
        self,
        csr: &ValidatedCsr,
        iaca_der: &[u8],
        params: &DsParams,
        key: &dyn mso::crypto::Signer,
    ) -> std::result::Result<Vec<u8>, crate::profile::ProfileError> {
        match self {
            SignerKind::Ds => build_ds(csr, iaca_der, params, key),
            SignerKind::ListSigner => build_list_signer(csr, iaca_der, params, key),
        }
    }
}

fn curve(name: &str) -> Option<Curve> {
    match name {
        "P-256" => Some(Curve::P256),
        "P-384" => Some(Curve::P384),
        "P-521" => Some(Curve::P521),
        _ => None,
    }
}

pub(super) async fn run(ctx: &mut Context<'_>, kind: SignerKind) -> Result<Outcome> {
    let cfg = kind
        .config(ctx)
        .ok_or_else(|| CeremonyError::Refused(format!("no [{}] section", kind.section())))?;
    // A compromised root signs nothing until a re-key, list signers included.
    if let Some(reason) = ctx.ledger.ds_signing_suspended().await? {
        return Err(CeremonyError::Refused(format!(
            "{} signing is suspended: {reason}",
            kind.name()
        )));
    }
    let root = ctx.ledger.active_root().await?.ok_or_else(|| {
        CeremonyError::Refused("no active root key: initialise the CA first".into())
    })?;
    let iaca = ctx
        .ledger
        .certificate(&root.cert_serial)
        .await?
        .ok_or_else(|| {
            CeremonyError::Refused("the active IACA is missing from the ledger".into())
        })?;
    // The root key signs DS certificates only within its usage period (policy §6.3.2).
    let usage_end = crate::profile::add_months(
        mso::x509::Certificate::from_der(&iaca.der)
            .map_err(|e| CeremonyError::Profile(e.to_string()))?
            .not_before(),
        ctx.cfg.policy.root_key_usage_months,
    )
    .map_err(|e| CeremonyError::Profile(e.to_string()))?;
    if ctx.at >= usage_end {
        return Err(CeremonyError::Refused(format!(
            "root key {} passed its usage period on {}: roll over before signing {} certificates",
            root.label,
            crate::ledger::ts(usage_end),
            kind.name()
        )));
    }
    let policy = CsrPolicy {
        allowed_curves: ctx
            .cfg
            .policy
            .ds_curves
            .iter()
            .filter_map(|c| curve(c))
            .collect(),
        ..CsrPolicy::default()
    };

    // 1. Validate every request before anything is activated or signed.
    let mut requests: Vec<(std::path::PathBuf, ValidatedCsr)> = Vec::new();
    let mut seen = BTreeSet::new();
    for path in &cfg.csrs {
        let bytes = std::fs::read(path).map_err(|source| CeremonyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let csr = parse_csr(&bytes, &policy)
            .map_err(|e| CeremonyError::Refused(format!("{}: {e}", path.display())))?;
        let spki = hex::encode(csr.spki_sha256);
        match ctx.ledger.key_history(&spki).await? {
            KeyHistory::Unknown => {}
            KeyHistory::Certified(serial) => {
                return Err(CeremonyError::Refused(format!(
                    "{}: this key is already certified (serial {serial}); a new {} needs a new key",
                    path.display(),
                    kind.name()
                )))
            }
            KeyHistory::Compromised => {
                return Err(CeremonyError::Refused(format!(
                    "{}: this key was reported compromised",
                    path.display()
                )))
            }
        }
        if !seen.insert(spki) {
            return Err(CeremonyError::Refused(format!(
                "{}: the same key appears twice in this ceremony",
                path.display()
            )));
        }
        requests.push((path.clone(), csr));
    }
    if requests.is_empty() {
        return Err(CeremonyError::Refused("no CSR given".into()));
    }
    let (ian, dps) =
        issuer_locators(&iaca.der).map_err(|e| CeremonyError::Profile(e.to_string()))?;
    let mut params = DsParams::new(ctx.at, ian, dps);
    params.validity_days = cfg.validity_days;
    params.policy.max_list_signer_validity_days = ctx.cfg.policy.list_signer_max_validity_days;
    if ctx.dry_run {
        for (path, csr) in &requests {
            ctx.say(format!(
                "would sign a {} certificate for {} ({}, key SHA-256 {}), valid {} days from {}",
                kind.name(),
                path.display(),
                csr.subject,
                hex::encode(csr.spki_sha256),
                params.validity_days,
                crate::ledger::ts(ctx.at)
            ));
        }
        return Ok(Outcome::default());
    }

    // 2. Activate, sign, deactivate.
    let secret = activation::reconstruct_secret(ctx)?;
    let key = activation::open_key(ctx, &root.label, &secret)?;
    let audit_key = activation::open_key(ctx, &audit_key_label(ctx), &secret)?;
    drop(secret);
    let mut rec = ctx.record();
    let mut artifacts = Vec::new();
    for (path, csr) in &requests {
        let der = kind
            .build(csr, &iaca.der, &params, key.signer())
            .map_err(|e| CeremonyError::Profile(format!("{}: {e}", path.display())))?;
        let cert = cert_record(&der, kind.ledger_kind(), &root.label)?;
        ctx.say(format!("  signed {}: {}", kind.name(), describe(&der)));
        artifacts.push((
            format!("{} certificate for {}", kind.name(), path.display()),
            ctx.ledger.cert_path(&cert.serial),
            sha256_hex(&der),
        ));
        rec.certificates.push(cert);
    }
    drop(key);
    ctx.ledger.commit(&rec, "success").await?;
    for cert in &rec.certificates {
        let event = ctx
            .event(kind.event(), true)
            .detail("serial", cert.serial.clone())
            .detail("spki_sha256", cert.spki_sha256.clone())
            .detail("sha256", sha256_hex(&cert.der));
        ctx.audit(event)?;
    }
    checkpoint(ctx, audit_key.signer())?;
    Ok(Outcome { artifacts })
}
