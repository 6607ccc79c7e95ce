//! Quorum activation of the root key: custodians' sealed shares reconstruct the token PIN (or
//! keystore secret) for one ceremony; the key is deactivated when the ceremony ends.

use std::path::PathBuf;

use custody::quorum::{self, SealedShare};
use custody::softstore::SoftKeystore;
use mso::crypto::{Algorithm, PublicKey, Signer};

use super::{CeremonyError, Context, Result, Secret};
use crate::config::KeyBackend;

/// Where custodians' passphrases come from.
pub trait PassphraseSource {
    /// The passphrase of custodian `id` (or of the token security officer, id `token-so`).
    fn passphrase(&self, id: &str) -> custody::Result<Secret>;
}

/// Passphrases from `MDOC_CA_PASSPHRASE_<ID>` environment variables (ID upper-cased, other
/// characters as `_`), for scripted rehearsals and tests. Operators are prompted instead.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvPassphrases;

impl EnvPassphrases {
    /// The variable name for `id`.
    pub fn var(id: &str) -> String {
        let suffix: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("MDOC_CA_PASSPHRASE_{suffix}")
    }
}

impl PassphraseSource for EnvPassphrases {
    fn passphrase(&self, id: &str) -> custody::Result<Secret> {
        std::env::var(Self::var(id))
            .map(|v| Secret::new(v.into_bytes()))
            .map_err(|_| custody::Error::WrongSecret(format!("{id} (no {} set)", Self::var(id))))
    }
}

/// An activated key; dropping it deactivates it (logs out of the token, zeroizes a software
/// key).
pub enum ActiveKey {
    /// A key in the encrypted software keystore (development and tests only).
    Soft(mso::crypto::SoftwareKey),
    /// A key inside a PKCS#11 token; the token session stays open while this lives.
    Pkcs11 {
        /// The activated token, shared by the keys of one ceremony (logged out when the last
        /// holder drops it).
        token: std::sync::Arc<custody::pkcs11::Pkcs11Token>,
        /// The key object.
        key: custody::pkcs11::Pkcs11Key,
    },
}

impl ActiveKey {
    /// The key as a signer.
    pub fn signer(&self) -> &dyn Signer {
        match self {
            ActiveKey::Soft(k) => k,
            ActiveKey::Pkcs11 { key, .. } => key,
        }
    }

    /// Its public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        self.signer()
            .public_key()
            .map_err(|e| CeremonyError::Activation(custody::Error::Mso(e)))
    }
}

fn shares_dir(ctx: &Context<'_>) -> PathBuf {
    ctx.state_dir().join("shares")
}

fn share_path(ctx: &Context<'_>, custodian: &str) -> PathBuf {
    shares_dir(ctx).join(format!("{custodian}.share.json"))
}

/// Splits `secret` into one sealed share per custodian (each sets a passphrase) and writes them.
pub(crate) fn split_secret(ctx: &mut Context<'_>, secret: &[u8]) -> Result<()> {
    let k = ctx.cfg.key.clone();
    let mut passphrases = Vec::with_capacity(k.custodians.len());
    for c in &k.custodians {
        passphrases.push(
            ctx.passphrases
                .passphrase(c)
                .map_err(CeremonyError::Activation)?,
        );
    }
    let pairs: Vec<(&str, &[u8])> = k
        .custodians
        .iter()
        .map(String::as_str)
        .zip(passphrases.iter().map(|p| p.as_slice()))
        .collect();
    let shares = quorum::split(secret, k.threshold, &pairs).map_err(CeremonyError::Activation)?;
    for share in &shares {
        let path = share_path(ctx, share.custodian());
        if path.exists() {
            return Err(CeremonyError::Refused(format!(
                "{} exists: this state directory already has a key's shares",
                path.display()
            )));
        }
    }
    for share in &shares {
        let path = share_path(ctx, share.custodian());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| CeremonyError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        share.save(&path).map_err(CeremonyError::Activation)?;
    }
    ctx.say(format!(
        "  activation secret split {}-of-{} among {}",
        k.threshold,
        k.custodians.len(),
        k.custodians.join(", ")
    ));
    Ok(())
}

/// Reconstructs the activation secret from the custodians present.
pub(crate) fn reconstruct_secret(ctx: &mut Context<'_>) -> Result<Secret> {
    let k = ctx.cfg.key.clone();
    let need = usize::from(k.threshold);
    if k.present.len() < need {
        return Err(CeremonyError::Activation(custody::Error::NotEnoughShares {
            have: k.present.len(),
            need,
        }));
    }
    let mut loaded: Vec<(SealedShare, Secret)> = Vec::new();
    for c in &k.present {
        let share = SealedShare::load(share_path(ctx, c)).map_err(CeremonyError::Activation)?;
        let pass = ctx
            .passphrases
            .passphrase(c)
            .map_err(CeremonyError::Activation)?;
        loaded.push((share, pass));
    }
    let pairs: Vec<(SealedShare, &[u8])> = loaded
        .iter()
        .map(|(s, p)| (s.clone(), p.as_slice()))
        .collect();
    let secret = quorum::combine(&pairs).map_err(CeremonyError::Activation)?;
    ctx.say(format!("  key activated by {}", k.present.join(", ")));
    let event = custody::audit::AuditEvent::success("quorum.activate")
        .actors(k.present.clone())
        .detail("threshold", k.threshold.to_string())
        .detail("ceremony", ctx.cfg.ceremony.name());
    ctx.audit(event)?;
    Ok(secret)
}

fn keystore_path(ctx: &Context<'_>, label: &str) -> PathBuf {
    ctx.state_dir()
        .join("keys")
        .join(format!("{label}.key.json"))
}

fn module_path(ctx: &Context<'_>) -> Result<PathBuf> {
    match &ctx.cfg.key.module {
        Some(m) => Ok(m.clone()),
        None => custody::pkcs11::find_softhsm2_module().ok_or_else(|| {
            CeremonyError::Refused("no PKCS#11 module configured and SoftHSM2 not found".into())
        }),
    }
}

fn token_label(ctx: &Context<'_>) -> Result<String> {
    ctx.cfg
        .key
        .token
        .clone()
        .ok_or_else(|| CeremonyError::Refused("key.token (PKCS#11 token label) is required".into()))
}

/// The ceremony's token session: a token is activated once per ceremony (PKCS#11 login state
/// is per process and token) and shared by every key the ceremony opens.
fn activate_token(
    ctx: &mut Context<'_>,
    pin: &[u8],
) -> Result<std::sync::Arc<custody::pkcs11::Pkcs11Token>> {
    if let Some(token) = &ctx.token {
        return Ok(token.clone());
    }
    let token = std::sync::Arc::new(
        custody::pkcs11::Pkcs11Token::activate(module_path(ctx)?, &token_label(ctx)?, pin)
            .map_err(CeremonyError::Activation)?,
    );
    ctx.token = Some(token.clone());
    Ok(token)
}

/// Generates a new key `label` inside the key store, activated with `secret`.
pub(crate) fn generate_key(
    ctx: &mut Context<'_>,
    label: &str,
    alg: Algorithm,
    secret: &[u8],
) -> Result<ActiveKey> {
    match ctx.cfg.key.backend {
        KeyBackend::File => {
            let path = keystore_path(ctx, label);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| CeremonyError::Io {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            SoftKeystore::generate(&path, alg, secret)
                .map(ActiveKey::Soft)
                .map_err(CeremonyError::Activation)
        }
        KeyBackend::Pkcs11 => {
            let token = activate_token(ctx, secret)?;
            let key = token
                .generate(label, alg)
                .map_err(CeremonyError::Activation)?;
            Ok(ActiveKey::Pkcs11 { token, key })
        }
    }
}

/// Opens existing key `label` with `secret`.
pub(crate) fn open_key(ctx: &mut Context<'_>, label: &str, secret: &[u8]) -> Result<ActiveKey> {
    match ctx.cfg.key.backend {
        KeyBackend::File => SoftKeystore::open(keystore_path(ctx, label), secret)
            .map(ActiveKey::Soft)
            .map_err(CeremonyError::Activation),
        KeyBackend::Pkcs11 => {
            let token = activate_token(ctx, secret)?;
            let key = token.open(label).map_err(CeremonyError::Activation)?;
            Ok(ActiveKey::Pkcs11 { token, key })
        }
    }
}

/// The key URI recorded in the ledger for `label`.
pub(crate) fn key_uri(ctx: &Context<'_>, label: &str) -> String {
    match ctx.cfg.key.backend {
        KeyBackend::File => format!("file:{}", keystore_path(ctx, label).display()),
        KeyBackend::Pkcs11 => format!(
            "pkcs11:token={};object={label}",
            ctx.cfg.key.token.clone().unwrap_or_default()
        ),
    }
}

/// The audit key label (a key used for nothing but signing audit checkpoints).
pub(crate) fn audit_key_label(ctx: &Context<'_>) -> String {
    ctx.cfg
        .key
        .audit_key_label
        .clone()
        .unwrap_or_else(|| "audit".into())
}

/// Replaces the token's user PIN (set by the HSM administrator) with `new_pin`.
pub(crate) fn change_token_pin(
    ctx: &mut Context<'_>,
    old_pin: &[u8],
    new_pin: &[u8],
) -> Result<()> {
    // A session of its own, closed before the key is activated with the new PIN.
    let token =
        custody::pkcs11::Pkcs11Token::activate(module_path(ctx)?, &token_label(ctx)?, old_pin)
            .map_err(CeremonyError::Activation)?;
    token
        .change_pin(old_pin, new_pin)
        .map_err(CeremonyError::Activation)?;
    drop(token);
    ctx.say("  token user PIN replaced by the quorum secret");
    Ok(())
}
