//! `crl`: a pre-signed CRL series covering the period until the next ceremony (policy default:
//! thisUpdate every day, nextUpdate = thisUpdate + 3 days), for every root key that still has
//! unexpired certificates and is not compromised. CRL numbers increase strictly across all
//! ceremonies, so a later (e.g. emergency) series always supersedes an earlier one.

use time::{Duration, OffsetDateTime};

use super::activation::{self, audit_key_label, ActiveKey};
use super::{checkpoint, CeremonyError, Context, Outcome, Result};
use crate::crl::{build_crl, CrlParams, RevokedEntry};
use crate::ledger::{sha256_hex, CrlRecord, RootKey};

/// One planned CRL.
struct Planned {
    key: RootKey,
    iaca_der: Vec<u8>,
    params: CrlParams,
    entries: Vec<RevokedEntry>,
}

/// Plans `count` CRLs per root key in `keys`, numbered from `first_number`.
async fn plan(
    ctx: &Context<'_>,
    keys: &[RootKey],
    start: OffsetDateTime,
    count: u32,
    first_number: i64,
    pending: &[(String, String, OffsetDateTime)],
) -> Result<Vec<Planned>> {
    let policy = &ctx.cfg.policy;
    let mut number = first_number;
    let mut out = Vec::new();
    for key in keys {
        let iaca = ctx
            .ledger
            .certificate(&key.cert_serial)
            .await?
            .ok_or_else(|| {
                CeremonyError::Refused(format!(
                    "IACA of root key {} missing from the ledger",
                    key.label
                ))
            })?;
        let latest = latest_crl(ctx, &key.label).await?;
        for i in 0..count {
            let this_update = start + Duration::days(i64::from(i * policy.crl_interval_days));
            let mut params = CrlParams::new(
                u64::try_from(number).map_err(|_| CeremonyError::Refused("CRL number".into()))?,
                this_update,
            );
            params.next_update = this_update + Duration::days(i64::from(policy.crl_validity_days));
            params.update_interval_days = policy.crl_interval_days;
            let mut listed = ctx.ledger.crl_entries(&key.label, this_update).await?;
            // Revocations this ceremony is about to record (the compromise procedure).
            for (serial, _, at) in pending {
                if let Some(c) = ctx.ledger.certificate(serial).await? {
                    if c.signed_by == key.label && c.not_after >= this_update {
                        listed.push((serial.clone(), *at));
                    }
                }
            }
            if let Some(latest) = &latest {
                still_listed(ctx, &key.label, latest, this_update, &listed).await?;
            }
            let entries = listed
                .into_iter()
                .map(|(serial, at)| {
                    Ok(RevokedEntry {
                        serial: hex::decode(&serial)
                            .map_err(|_| CeremonyError::Refused(format!("bad serial {serial}")))?,
                        revocation_date: at.min(this_update),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(Planned {
                key: key.clone(),
                iaca_der: iaca.der.clone(),
                params,
                entries,
            });
            number += 1;
        }
    }
    Ok(out)
}

/// The DER of the highest-numbered CRL `label` signed, if any.
async fn latest_crl(ctx: &Context<'_>, label: &str) -> Result<Option<Vec<u8>>> {
    Ok(ctx
        .ledger
        .crls()
        .await?
        .into_iter()
        .filter(|c| c.signed_by == label)
        .max_by_key(|c| c.number)
        .map(|c| c.der))
}

/// Refuses a CRL that would drop a certificate the previous CRL of the same key listed while
/// it has not expired by `this_update` (policy §4.9.7: an entry stays until the certificate
/// expires). The list comes from the ledger's revocations, so a revocation deleted from the
/// ledger shows here, before anything is signed, instead of silently leaving the CRL.
async fn still_listed(
    ctx: &Context<'_>,
    label: &str,
    latest_der: &[u8],
    this_update: OffsetDateTime,
    listed: &[(String, OffsetDateTime)],
) -> Result<()> {
    let latest = mso::crl::Crl::from_der(latest_der).map_err(|e| {
        CeremonyError::Refused(format!("the last CRL of {label} is unreadable: {e}"))
    })?;
    let certs = ctx.ledger.certificates(Some(label)).await?;
    let kept = |c: &crate::ledger::CertRecord| listed.iter().any(|(s, _)| *s == c.serial);
    if let Some(cert) = crate::crl::dropped_before_expiry(&certs, &latest, this_update, kept) {
        return Err(CeremonyError::Refused(format!(
            "certificate {} is on the last CRL of {label} and valid until {}, but the ledger \
             no longer lists its revocation: the ledger was altered; run `mdoc-ca audit \
             verify` and restore the state from its backup",
            cert.serial,
            crate::ledger::ts(cert.not_after)
        )));
    }
    Ok(())
}

/// Signs the planned CRLs; each root key is opened with the activation secret.
fn sign_all(ctx: &mut Context<'_>, planned: &[Planned], secret: &[u8]) -> Result<Vec<CrlRecord>> {
    let mut out = Vec::with_capacity(planned.len());
    let mut open: Option<(String, ActiveKey)> = None;
    for p in planned {
        if open
            .as_ref()
            .map(|(l, _)| l != &p.key.label)
            .unwrap_or(true)
        {
            open = Some((
                p.key.label.clone(),
                activation::open_key(ctx, &p.key.label, secret)?,
            ));
        }
        let Some((_, key)) = open.as_ref() else {
            continue;
        };
        let der = build_crl(&p.iaca_der, &p.params, &p.entries, key.signer())
            .map_err(|e| CeremonyError::Profile(e.to_string()))?;
        out.push(CrlRecord {
            number: i64::try_from(p.params.crl_number).unwrap_or(i64::MAX),
            this_update: p.params.this_update,
            next_update: p.params.next_update,
            signed_by: p.key.label.clone(),
            der,
        });
    }
    Ok(out)
}

/// Plans, signs and records a series for `keys`; shared with the compromise ceremony.
pub(crate) async fn issue_series(
    ctx: &mut Context<'_>,
    keys: &[RootKey],
    count: u32,
    secret: &[u8],
    rec: &mut crate::ledger::CeremonyRecord,
) -> Result<Vec<CrlRecord>> {
    let first = ctx.ledger.next_crl_number().await?;
    let planned = plan(ctx, keys, ctx.at, count, first, &rec.revocations).await?;
    let crls = sign_all(ctx, &planned, secret)?;
    rec.crls.extend(crls.iter().cloned());
    Ok(crls)
}

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let series_days = ctx
        .cfg
        .crl
        .as_ref()
        .map(|c| c.series_days)
        .ok_or_else(|| CeremonyError::Refused("no [crl] section".into()))?;
    let interval = ctx.cfg.policy.crl_interval_days.max(1);
    let count = series_days.div_ceil(interval).max(1);
    let mut keys = Vec::new();
    for key in ctx.ledger.root_keys().await? {
        if key.state == "compromised" {
            continue;
        }
        if let Some(iaca) = ctx.ledger.certificate(&key.cert_serial).await? {
            if iaca.not_after > ctx.at {
                keys.push(key);
            }
        }
    }
    if keys.is_empty() {
        return Err(CeremonyError::Refused(
            "no usable root key: initialise the CA first".into(),
        ));
    }
    let first = ctx.ledger.next_crl_number().await?;
    if ctx.dry_run {
        let planned = plan(ctx, &keys, ctx.at, count, first, &[]).await?;
        for p in &planned {
            ctx.say(format!(
                "would sign CRL #{} by {}: thisUpdate {}, nextUpdate {}, {} entries",
                p.params.crl_number,
                p.key.label,
                crate::ledger::ts(p.params.this_update),
                crate::ledger::ts(p.params.next_update),
                p.entries.len()
            ));
        }
        return Ok(Outcome::default());
    }
    let secret = activation::reconstruct_secret(ctx)?;
    let mut rec = ctx.record();
    let crls = issue_series(ctx, &keys, count, &secret, &mut rec).await?;
    let audit_key = activation::open_key(ctx, &audit_key_label(ctx), &secret)?;
    drop(secret);
    ctx.ledger.commit(&rec, "success").await?;
    let mut artifacts = Vec::new();
    for crl in &crls {
        let event = ctx
            .event("ca.crl.issue", true)
            .detail("number", crl.number.to_string())
            .detail("signed_by", crl.signed_by.clone())
            .detail("this_update", crate::ledger::ts(crl.this_update))
            .detail("sha256", sha256_hex(&crl.der));
        ctx.audit(event)?;
        artifacts.push((
            format!(
                "CRL #{} ({} .. {})",
                crl.number,
                crate::ledger::ts(crl.this_update),
                crate::ledger::ts(crl.next_update)
            ),
            ctx.ledger.crl_path(crl.number),
            sha256_hex(&crl.der),
        ));
    }
    checkpoint(ctx, audit_key.signer())?;
    Ok(Outcome { artifacts })
}
