//! `revoke`: certificates by serial, with a reason that is recorded and never published.
//! Irreversible: the ledger refuses to delete or change a revocation.

use super::{CeremonyError, Context, Outcome, Result};

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let cfg = ctx
        .cfg
        .revoke
        .clone()
        .ok_or_else(|| CeremonyError::Refused("no [revoke] section".into()))?;
    if ctx.cfg.operators.is_empty() {
        return Err(CeremonyError::Refused(
            "a revocation needs the operators who approved it".into(),
        ));
    }
    if cfg.reason.trim().is_empty() {
        return Err(CeremonyError::Refused("a revocation needs a reason".into()));
    }
    let mut rec = ctx.record();
    for serial in &cfg.serials {
        let serial = serial.trim().to_ascii_lowercase().replace(':', "");
        let cert = ctx.ledger.certificate(&serial).await?.ok_or_else(|| {
            CeremonyError::Refused(format!(
                "no certificate with serial {serial} was issued here"
            ))
        })?;
        if cert.kind == "iaca" {
            return Err(CeremonyError::Refused(format!(
                "{serial} is a root certificate: use the compromise ceremony"
            )));
        }
        if ctx.ledger.is_revoked(&serial).await? {
            return Err(CeremonyError::Refused(format!(
                "{serial} is already revoked"
            )));
        }
        if rec.revocations.iter().any(|(s, _, _)| *s == serial) {
            return Err(CeremonyError::Refused(format!("{serial} is listed twice")));
        }
        ctx.say(format!(
            "  revoke {} ({}, {})",
            serial, cert.kind, cert.subject
        ));
        rec.revocations.push((serial, cfg.reason.clone(), ctx.at));
    }
    if ctx.dry_run {
        ctx.say("  (dry run) the next crl ceremony would list these serials");
        return Ok(Outcome::default());
    }
    ctx.ledger.commit(&rec, "success").await?;
    for (serial, _, _) in &rec.revocations {
        // The reason is in the ledger; the audit record names the event only (policy §2.2).
        let event = ctx
            .event("ca.revoke", true)
            .detail("serial", serial.clone());
        ctx.audit(event)?;
    }
    ctx.say(format!(
        "  {} revocation(s) recorded; run a crl ceremony to publish them (policy: within 48 hours)",
        rec.revocations.len()
    ));
    Ok(Outcome::default())
}
