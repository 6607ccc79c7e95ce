//! `compromise`: the policy's root-compromise procedure (§5.7.3): revoke every certificate the
//! compromised key signed (its own root certificate included), issue an emergency CRL series (numbers above every earlier CRL, so it
//! supersedes them), mark the key compromised, and stop DS signing until a re-key (rollover).

use super::activation::{self, audit_key_label};
use super::{checkpoint, crl_series, CeremonyError, Context, Outcome, Result};
use crate::ledger::sha256_hex;

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let cfg = ctx
        .cfg
        .compromise
        .clone()
        .ok_or_else(|| CeremonyError::Refused("no [compromise] section".into()))?;
    let key = ctx
        .ledger
        .root_keys()
        .await?
        .into_iter()
        .find(|k| k.label == cfg.compromised_label)
        .ok_or_else(|| {
            CeremonyError::Refused(format!("no root key {:?}", cfg.compromised_label))
        })?;
    if key.state == "compromised" {
        return Err(CeremonyError::Refused(format!(
            "{} is already marked compromised",
            key.label
        )));
    }
    let mut rec = ctx.record();
    for cert in ctx.ledger.certificates(Some(&key.label)).await? {
        // The root's own certificate too: verifiers then trust nothing under it, including a
        // DS certificate made with the stolen key that no CRL could list.
        if ctx.ledger.is_revoked(&cert.serial).await? {
            continue;
        }
        ctx.say(format!(
            "  revoke {} ({}, {})",
            cert.serial, cert.kind, cert.subject
        ));
        rec.revocations
            .push((cert.serial.clone(), "CA key compromise".into(), ctx.at));
    }
    if ctx.dry_run {
        ctx.say(format!(
            "would revoke {} certificates, sign an emergency CRL series with {}, and suspend DS signing",
            rec.revocations.len(),
            key.label
        ));
        return Ok(Outcome::default());
    }
    // The revocations, the emergency CRLs listing them, and the key's new state are recorded
    // together in one transaction.
    let secret = activation::reconstruct_secret(ctx)?;
    let count = ctx
        .cfg
        .crl
        .as_ref()
        .map(|c| {
            c.series_days
                .div_ceil(ctx.cfg.policy.crl_interval_days.max(1))
                .max(1)
        })
        .unwrap_or(1);
    let crls =
        crl_series::issue_series(ctx, std::slice::from_ref(&key), count, &secret, &mut rec).await?;
    let audit_key = activation::open_key(ctx, &audit_key_label(ctx), &secret)?;
    drop(secret);
    rec.root_key_states
        .push((key.label.clone(), "compromised".into()));
    rec.compromised
        .push((key.spki_sha256.clone(), cfg.note.clone()));
    rec.suspend_ds_signing = Some(Some(format!("root key {} compromised", key.label)));
    ctx.ledger.commit(&rec, "success").await?;

    // Each revocation has its own record, as from the revoke ceremony, so `audit verify`
    // reconciles every revocation row with the log.
    for (serial, _, _) in &rec.revocations {
        let event = ctx
            .event("ca.revoke", true)
            .detail("serial", serial.clone())
            .detail("ceremony", "compromise");
        ctx.audit(event)?;
    }
    let event = ctx
        .event("ca.compromise", true)
        .detail("label", key.label.clone())
        .detail("revoked", rec.revocations.len().to_string());
    ctx.audit(event)?;
    let mut artifacts = Vec::new();
    for crl in &crls {
        let event = ctx
            .event("ca.crl.issue", true)
            .detail("number", crl.number.to_string())
            .detail("signed_by", crl.signed_by.clone())
            .detail("emergency", "true")
            .detail("sha256", sha256_hex(&crl.der));
        ctx.audit(event)?;
        artifacts.push((
            format!("emergency CRL #{}", crl.number),
            ctx.ledger.crl_path(crl.number),
            sha256_hex(&crl.der),
        ));
    }
    checkpoint(ctx, audit_key.signer())?;
    ctx.say("  DS signing suspended until a rollover ceremony re-keys the root");
    Ok(Outcome { artifacts })
}
