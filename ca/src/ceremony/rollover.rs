//! `rollover`: a new root key with the same subject DN, and the link certificates NewWithNew
//! (the new self-signed IACA), NewWithOld (new key certified by the old) and OldWithNew (old key
//! certified by the new). After a compromise, only NewWithNew is made (the old key signs
//! nothing more) and DS signing resumes.

use mso::crypto::Algorithm;

use super::activation::{self, audit_key_label};
use super::init::{cert_record, describe, iaca_params};
use super::{checkpoint, CeremonyError, Context, Outcome, Result};
use crate::ledger::{sha256_hex, RootKey};
use crate::profile::{build_iaca, build_link, LinkKind, LinkParams};

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let keys = ctx.ledger.root_keys().await?;
    let old = keys
        .iter()
        .rev()
        .find(|k| k.state == "active" || k.state == "compromised")
        .cloned()
        .ok_or_else(|| {
            CeremonyError::Refused("no root key to roll over: initialise first".into())
        })?;
    let label = ctx.cfg.key.label.clone();
    if keys.iter().any(|k| k.label == label) {
        return Err(CeremonyError::Refused(format!(
            "root key label {label:?} is already used"
        )));
    }
    let old_iaca = ctx
        .ledger
        .certificate(&old.cert_serial)
        .await?
        .ok_or_else(|| CeremonyError::Refused("old IACA missing from the ledger".into()))?;
    let params = iaca_params(ctx)?;
    let new_dn = params
        .subject
        .to_name()
        .map_err(|e| CeremonyError::Profile(e.to_string()))?;
    let old_dn = mso::x509::Certificate::from_der(&old_iaca.der)
        .map_err(|e| CeremonyError::Profile(e.to_string()))?
        .inner()
        .tbs_certificate
        .subject
        .clone();
    if new_dn != old_dn {
        return Err(CeremonyError::Refused(format!(
            "the new IACA must keep the subject DN {old_dn} (link certificates are self-issued), the config gives {new_dn}"
        )));
    }
    // Each root has its own CRL URL: the DTS serves one CRL per URL, and a DS certificate of
    // the old root must keep finding the old root's CRL where it says.
    for cert in ctx.ledger.certificates(None).await? {
        if cert.kind != "iaca" {
            continue;
        }
        let uris = mso::x509::Certificate::from_der(&cert.der)
            .and_then(|c| c.crl_distribution_uris())
            .map_err(|e| CeremonyError::Profile(e.to_string()))?;
        if let Some(shared) = uris
            .iter()
            .find(|u| params.crl_distribution_points.contains(u))
        {
            return Err(CeremonyError::Refused(format!(
                "the new IACA's crl_distribution_point {shared} is already IACA {}'s: give each \
                 root its own CRL URL (the DTS serves each root's CRL at its own URL)",
                cert.serial
            )));
        }
    }
    let compromised = old.state == "compromised";
    if ctx.dry_run {
        ctx.say(format!(
            "would create root key {label:?} (P-384), the NewWithNew IACA{}",
            if compromised {
                " only (old key compromised)"
            } else {
                ", NewWithOld and OldWithNew link certificates"
            }
        ));
        return Ok(Outcome::default());
    }
    let secret = activation::reconstruct_secret(ctx)?;
    let old_key = if compromised {
        None
    } else {
        Some(activation::open_key(ctx, &old.label, &secret)?)
    };
    let new_key = activation::generate_key(ctx, &label, Algorithm::Es384, &secret)?;
    let audit_key = activation::open_key(ctx, &audit_key_label(ctx), &secret)?;
    drop(secret);

    let profile = |e: crate::profile::ProfileError| CeremonyError::Profile(e.to_string());
    let new_iaca = build_iaca(&params, new_key.signer()).map_err(profile)?;
    let new_cert = cert_record(&new_iaca, "iaca", &label)?;
    let mut rec = ctx.record();
    let mut artifacts = vec![(
        format!("NewWithNew IACA ({})", describe(&new_iaca)),
        ctx.ledger.cert_path(&new_cert.serial),
        sha256_hex(&new_iaca),
    )];
    rec.certificates.push(new_cert.clone());
    if let Some(old_key) = &old_key {
        let nwo = LinkParams::for_rollover(LinkKind::NewWithOld, &old_iaca.der, &new_iaca)
            .map_err(profile)?;
        let new_with_old = build_link(
            &new_key.public_key()?,
            &new_iaca,
            &old_iaca.der,
            &nwo,
            old_key.signer(),
        )
        .map_err(profile)?;
        let own = LinkParams::for_rollover(LinkKind::OldWithNew, &old_iaca.der, &new_iaca)
            .map_err(profile)?;
        let old_with_new = build_link(
            &old_key.public_key()?,
            &old_iaca.der,
            &new_iaca,
            &own,
            new_key.signer(),
        )
        .map_err(profile)?;
        for (name, der, by) in [
            ("NewWithOld", new_with_old, &old.label),
            ("OldWithNew", old_with_new, &label),
        ] {
            let cert = cert_record(&der, "link", by)?;
            artifacts.push((
                format!("{name} link certificate ({})", describe(&der)),
                ctx.ledger.cert_path(&cert.serial),
                sha256_hex(&der),
            ));
            rec.certificates.push(cert);
        }
        rec.root_key_states
            .push((old.label.clone(), "retired".into()));
    }
    rec.root_keys.push(RootKey {
        label: label.clone(),
        key_uri: activation::key_uri(ctx, &label),
        spki_sha256: new_cert.spki_sha256.clone(),
        cert_serial: new_cert.serial.clone(),
        state: "active".into(),
    });
    rec.suspend_ds_signing = Some(None);
    drop(old_key);
    drop(new_key);
    ctx.ledger.commit(&rec, "success").await?;
    for cert in &rec.certificates {
        let event = ctx
            .event(
                if cert.kind == "link" {
                    "ca.link.issue"
                } else {
                    "ca.iaca.issue"
                },
                true,
            )
            .detail("serial", cert.serial.clone())
            .detail("signed_by", cert.signed_by.clone())
            .detail("sha256", sha256_hex(&cert.der));
        ctx.audit(event)?;
    }
    checkpoint(ctx, audit_key.signer())?;
    Ok(Outcome { artifacts })
}
