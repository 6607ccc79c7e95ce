//! `sign-ds`: DS certificates from PKCS#10 requests. Every request is checked before the key
//! is activated: proof of possession, curve and point, a key never certified before and never
//! reported compromised, C/ST equal to the IACA's, validity within policy and the IACA's.

use std::collections::BTreeSet;

use mso::crypto::Curve;

use super::activation::{self, audit_key_label};
use super::init::{cert_record, describe};
use super::{checkpoint, CeremonyError, Context, Outcome, Result};
use crate::csr::{parse_csr, CsrPolicy, ValidatedCsr};
use crate::ledger::{sha256_hex, KeyHistory};
use crate::profile::{build_ds, issuer_locators, DsParams};

fn curve(name: &str) -> Option<Curve> {
    match name {
        "P-256" => Some(Curve::P256),
        "P-384" => Some(Curve::P384),
        "P-521" => Some(Curve::P521),
        _ => None,
    }
}

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let cfg = ctx
        .cfg
        .sign_ds
        .clone()
        .ok_or_else(|| CeremonyError::Refused("no [sign_ds] section".into()))?;
    if let Some(reason) = ctx.ledger.ds_signing_suspended().await? {
        return Err(CeremonyError::Refused(format!(
            "DS signing is suspended: {reason}"
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
            "root key {} passed its usage period on {}: roll over before signing DS certificates",
            root.label,
            crate::ledger::ts(usage_end)
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
                    "{}: this key is already certified (serial {serial}); a new DS needs a new key",
                    path.display()
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
    if ctx.dry_run {
        for (path, csr) in &requests {
            ctx.say(format!(
                "would sign a DS certificate for {} ({}, key SHA-256 {}), valid {} days from {}",
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
        let der = build_ds(csr, &iaca.der, &params, key.signer())
            .map_err(|e| CeremonyError::Profile(format!("{}: {e}", path.display())))?;
        let cert = cert_record(&der, "ds", &root.label)?;
        ctx.say(format!("  signed DS: {}", describe(&der)));
        artifacts.push((
            format!("DS certificate for {}", path.display()),
            ctx.ledger.cert_path(&cert.serial),
            sha256_hex(&der),
        ));
        rec.certificates.push(cert);
    }
    drop(key);
    ctx.ledger.commit(&rec, "success").await?;
    for cert in &rec.certificates {
        let event = ctx
            .event("ca.ds.issue", true)
            .detail("serial", cert.serial.clone())
            .detail("spki_sha256", cert.spki_sha256.clone())
            .detail("sha256", sha256_hex(&cert.der));
        ctx.audit(event)?;
    }
    checkpoint(ctx, audit_key.signer())?;
    Ok(Outcome { artifacts })
}
