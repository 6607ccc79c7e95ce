//! `init`: the root key (P-384) and the self-signed IACA; the activation secret is split among
//! the custodians. A separate audit key is generated for signing audit checkpoints only.

use custody::audit::key_fingerprint;
use mso::crypto::{Algorithm, SoftwareKey};

use super::activation::{self, audit_key_label, ActiveKey};
use super::{checkpoint, CeremonyError, Context, Outcome, Result};
use crate::ledger::{sha256_hex, CertRecord, RootKey};
use crate::profile::{build_iaca, IacaParams};

/// The IACA parameters from the config, for a root key created at `ctx.at`.
pub(crate) fn iaca_params(ctx: &Context<'_>) -> Result<IacaParams> {
    let iaca = ctx
        .cfg
        .iaca
        .clone()
        .ok_or_else(|| CeremonyError::Refused("no [iaca] section".into()))?;
    let mut params = IacaParams::new(
        crate::profile::SubjectName {
            country: iaca.country,
            state_or_province: iaca.state,
            organization: iaca.organization,
            common_name: iaca.common_name,
        },
        ctx.at,
        crate::profile::IssuerAltNames {
            uris: iaca.issuer_alt_name_uri.into_iter().collect(),
            emails: iaca.issuer_alt_name_email.into_iter().collect(),
        },
        vec![iaca.crl_distribution_point],
    );
    params.validity_months = ctx.cfg.policy.iaca_validity_months;
    Ok(params)
}

/// Describes a certificate for the operators: subject, serial, validity, fingerprint.
pub(crate) fn describe(der: &[u8]) -> String {
    match mso::x509::Certificate::from_der(der) {
        Ok(c) => format!(
            "subject {}, serial {}, valid {} .. {}, SHA-256 {}",
            c.inner().tbs_certificate.subject,
            hex::encode(c.inner().tbs_certificate.serial_number.as_bytes()),
            crate::ledger::ts(c.not_before()),
            crate::ledger::ts(c.not_after()),
            sha256_hex(der)
        ),
        Err(e) => format!("unreadable certificate: {e}"),
    }
}

/// The ledger record of a certificate.
pub(crate) fn cert_record(der: &[u8], kind: &str, signed_by: &str) -> Result<CertRecord> {
    let c = mso::x509::Certificate::from_der(der)
        .map_err(|e| CeremonyError::Profile(format!("produced certificate unreadable: {e}")))?;
    let tbs = &c.inner().tbs_certificate;
    use der::Encode;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| CeremonyError::Profile(e.to_string()))?;
    Ok(CertRecord {
        serial: hex::encode(tbs.serial_number.as_bytes()),
        kind: kind.into(),
        subject: tbs.subject.to_string(),
        spki_sha256: sha256_hex(&spki),
        signed_by: signed_by.into(),
        not_before: c.not_before(),
        not_after: c.not_after(),
        der: der.to_vec(),
    })
}

pub(super) async fn run(ctx: &mut Context<'_>) -> Result<Outcome> {
    if !ctx.ledger.root_keys().await?.is_empty() {
        return Err(CeremonyError::Refused(
            "this CA is already initialised; a new root key comes from a rollover ceremony".into(),
        ));
    }
    let label = ctx.cfg.key.label.clone();
    let params = iaca_params(ctx)?;
    if ctx.dry_run {
        // Boulder's practice: build and lint with a throwaway key of the same algorithm.
        let throwaway = SoftwareKey::generate(Algorithm::Es384);
        let der =
            build_iaca(&params, &throwaway).map_err(|e| CeremonyError::Profile(e.to_string()))?;
        ctx.say(format!(
            "would create root key {label:?} (ECDSA P-384) and sign the IACA:"
        ));
        ctx.say(format!("  {}", describe(&der)));
        ctx.say(format!(
            "  activation split {}-of-{} among {}",
            ctx.cfg.key.threshold,
            ctx.cfg.key.custodians.len(),
            ctx.cfg.key.custodians.join(", ")
        ));
        return Ok(Outcome::default());
    }

    let secret = custody::quorum::random_secret().map_err(CeremonyError::Activation)?;
    if ctx.cfg.key.backend == crate::config::KeyBackend::Pkcs11 {
        // The HSM administrator initialised the token with a temporary user PIN; replace it
        // with the random secret so that only a quorum can activate the key from now on.
        let initial = ctx
            .passphrases
            .passphrase("token-initial-pin")
            .map_err(CeremonyError::Activation)?;
        activation::change_token_pin(ctx, &initial, &secret)?;
    }
    activation::split_secret(ctx, &secret)?;
    let root = activation::generate_key(ctx, &label, Algorithm::Es384, &secret)?;
    let audit_label = audit_key_label(ctx);
    let audit_key = activation::generate_key(ctx, &audit_label, Algorithm::Es256, &secret)?;
    drop(secret);
    ctx.say(format!(
        "  root key {label:?} generated inside the key store (P-384)"
    ));
    let root_pub = root.public_key()?;
    let audit_pub = audit_key.public_key()?;
    let audit_spki = crate::profile::subject_public_key_info(&audit_pub)
        .map_err(|e| CeremonyError::Profile(e.to_string()))?;
    {
        use der::Encode;
        let der = audit_spki
            .to_der()
            .map_err(|e| CeremonyError::Profile(e.to_string()))?;
        super::write_new(&ctx.state_dir().join("audit-key.spki.der"), &der)?;
    }

    let der =
        build_iaca(&params, root.signer()).map_err(|e| CeremonyError::Profile(e.to_string()))?;
    let cert = cert_record(&der, "iaca", &label)?;
    let mut rec = ctx.record();
    rec.root_keys.push(RootKey {
        label: label.clone(),
        key_uri: activation::key_uri(ctx, &label),
        spki_sha256: cert.spki_sha256.clone(),
        cert_serial: cert.serial.clone(),
        state: "active".into(),
    });
    rec.certificates.push(cert.clone());
    ctx.ledger.commit(&rec, "success").await?;

    let event = ctx
        .event("ca.key.generate", true)
        .detail("label", label.clone())
        .detail("algorithm", "ECDSA P-384")
        .detail("spki_sha256", cert.spki_sha256.clone())
        .detail("audit_key_fingerprint", key_fingerprint(&audit_pub))
        .detail("root_key_fingerprint", key_fingerprint(&root_pub));
    ctx.audit(event)?;
    let event = ctx
        .event("ca.iaca.issue", true)
        .detail("serial", cert.serial.clone())
        .detail("sha256", sha256_hex(&der));
    ctx.audit(event)?;
    checkpoint(ctx, audit_key.signer())?;
    drop::<ActiveKey>(root);
    ctx.say("  keys deactivated");
    Ok(Outcome {
        artifacts: vec![(
            format!("IACA certificate ({})", describe(&der)),
            ctx.ledger.cert_path(&cert.serial),
            sha256_hex(&der),
        )],
    })
}
