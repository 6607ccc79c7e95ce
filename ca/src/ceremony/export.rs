//! `export`: the bundle the Digital Trust Service publishes: every IACA and link certificate
//! and every CRL, with a manifest of SHA-256 digests. Never any private material.

use std::fmt::Write as _;

use super::{write_new, CeremonyError, Context, Outcome, Result};
use crate::ledger::sha256_hex;

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    let out = ctx
        .cfg
        .export
        .clone()
        .ok_or_else(|| CeremonyError::Refused("no [export] section".into()))?
        .out_dir;
    if out.exists() {
        return Err(CeremonyError::Refused(format!(
            "{} exists; an export goes to a new directory",
            out.display()
        )));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for c in ctx.ledger.certificates(None).await? {
        // DS certificates are not published (policy §4.4.2.3).
        match c.kind.as_str() {
            "iaca" => files.push((format!("iaca/{}.der", c.serial), c.der)),
            "link" => files.push((format!("link/{}.der", c.serial), c.der)),
            _ => {}
        }
    }
    for crl in ctx.ledger.crls().await? {
        files.push((format!("crl/{:08}.crl", crl.number), crl.der));
    }
    let mut manifest = String::from("# sha256  file\n");
    for (name, bytes) in &files {
        let _ = writeln!(manifest, "{}  {name}", sha256_hex(bytes));
    }
    if ctx.dry_run {
        ctx.say(format!(
            "would export {} files to {}:",
            files.len(),
            out.display()
        ));
        ctx.say(manifest);
        return Ok(Outcome::default());
    }
    // Write into a staging directory and rename it into place, so a bundle is complete or absent.
    let staging = out.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|source| CeremonyError::Io {
            path: staging.display().to_string(),
            source,
        })?;
    }
    for (name, bytes) in &files {
        write_new(&staging.join(name), bytes)?;
    }
    write_new(&staging.join("MANIFEST.sha256"), manifest.as_bytes())?;
    std::fs::rename(&staging, &out).map_err(|source| CeremonyError::Io {
        path: out.display().to_string(),
        source,
    })?;
    ctx.ledger.commit(&ctx.record(), "success").await?;
    let event = ctx
        .event("ca.export", true)
        .detail("files", files.len().to_string())
        .detail("manifest_sha256", sha256_hex(manifest.as_bytes()));
    ctx.audit(event)?;
    Ok(Outcome {
        artifacts: vec![(
            format!("DTS bundle, {} files", files.len()),
            out.join("MANIFEST.sha256"),
            sha256_hex(manifest.as_bytes()),
        )],
    })
}
