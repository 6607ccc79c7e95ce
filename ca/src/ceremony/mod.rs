//! Ceremonies: each run is driven by one reviewed config file, activates the root key with a
//! quorum of custodians when it needs it, records its results in the ledger in one
//! transaction, appends audit records (including every refusal), and deactivates the key.
//!
//! Refusals happen before anything is signed: inputs are validated and every TBS structure is
//! linted first; a failure signs nothing, writes nothing but the refusal's audit record, and
//! returns [`CeremonyError`] naming the problem.

mod activation;
mod compromise;
mod crl_series;
mod export;
pub(crate) mod init;
mod revoke;
mod rollover;
mod sign_ds;

use std::io::Write;
use std::path::PathBuf;

use custody::audit::{AuditEvent, AuditLog};
use mso::crypto::Signer;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use activation::{ActiveKey, EnvPassphrases, PassphraseSource};

use crate::config::{CeremonyConfig, CeremonyKind, ConfigError};
use crate::ledger::{CeremonyRecord, Ledger, LedgerError};

/// Why a ceremony did not complete. Every variant is recorded as a refusal in the audit log.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// The config file is unusable or violates the policy.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request contradicts the CA's state or the policy.
    #[error("refused: {0}")]
    Refused(String),
    /// Key activation failed (wrong passphrase, too few custodians, token error).
    #[error("key activation: {0}")]
    Activation(custody::Error),
    /// Building, linting or signing a certificate or CRL failed.
    #[error("profile: {0}")]
    Profile(String),
    /// The ledger refused the write.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The audit log failed or is broken.
    #[error("audit log: {0}")]
    Audit(custody::Error),
    /// File I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl CeremonyError {
    /// The process exit code for this error (0 is success).
    pub fn exit_code(&self) -> i32 {
        match self {
            CeremonyError::Config(_) => 2,
            CeremonyError::Refused(_) | CeremonyError::Profile(_) => 3,
            CeremonyError::Activation(_) => 4,
            CeremonyError::Ledger(_) | CeremonyError::Audit(_) | CeremonyError::Io { .. } => 5,
        }
    }
}

/// Result alias for ceremonies.
pub type Result<T, E = CeremonyError> = core::result::Result<T, E>;

/// What a ceremony produced, for the operator's summary.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// (description, file path, SHA-256 fingerprint) of every artifact produced.
    pub artifacts: Vec<(String, PathBuf, String)>,
}

/// Everything a ceremony needs.
pub struct Context<'a> {
    /// The reviewed config.
    pub cfg: CeremonyConfig,
    /// SHA-256 of the config file.
    pub config_sha256: String,
    /// Passphrases of custodians present (prompted or from the environment).
    pub passphrases: &'a dyn PassphraseSource,
    /// Progress output for the operators.
    pub out: &'a mut dyn Write,
    /// Print what would be signed, sign nothing, record nothing.
    pub dry_run: bool,
    /// The ledger.
    pub ledger: Ledger,
    /// The audit log.
    pub audit: AuditLog,
    /// The ceremony's moment.
    pub at: OffsetDateTime,
    /// The PKCS#11 token session, once activated (deactivated when the ceremony ends).
    pub(crate) token: Option<std::sync::Arc<custody::pkcs11::Pkcs11Token>>,
}

impl Context<'_> {
    /// Prints a progress line.
    pub fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", line.as_ref());
    }

    /// The ledger record skeleton for this ceremony.
    pub fn record(&self) -> CeremonyRecord {
        let mut actors = self.cfg.operators.clone();
        actors.extend(self.cfg.key.present.iter().cloned());
        CeremonyRecord {
            kind: self.cfg.ceremony.name().into(),
            config_sha256: self.config_sha256.clone(),
            terminal_id: self.cfg.terminal_id.clone(),
            actors,
            started_at: Some(self.at),
            ..CeremonyRecord::default()
        }
    }

    /// An audit event of this ceremony with its actors and config digest.
    pub fn event(&self, name: &str, ok: bool) -> AuditEvent {
        let base = if ok {
            AuditEvent::success(name)
        } else {
            AuditEvent::failure(name)
        };
        base.actors(self.record().actors)
            .detail("ceremony", self.cfg.ceremony.name())
            .detail("config_sha256", self.config_sha256.clone())
    }

    /// Appends an audit record.
    pub fn audit(&mut self, event: AuditEvent) -> Result<()> {
        self.audit
            .append_at(event, self.at)
            .map(|_| ())
            .map_err(CeremonyError::Audit)
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.cfg.state_dir.clone()
    }
}

/// Opens the ledger and audit log for `cfg` and runs the ceremony, recording a refusal in the
/// ledger and the audit log if it fails.
pub async fn run(
    cfg: CeremonyConfig,
    config_sha256: String,
    passphrases: &dyn PassphraseSource,
    out: &mut dyn Write,
    dry_run: bool,
) -> Result<Outcome> {
    let state = cfg.state_dir.clone();
    std::fs::create_dir_all(&state).map_err(|source| CeremonyError::Io {
        path: state.display().to_string(),
        source,
    })?;
    let ledger = Ledger::open(&state).await?;
    let audit = AuditLog::open(state.join("audit.log"), cfg.terminal_id.clone())
        .map_err(CeremonyError::Audit)?;
    let at = cfg.at.unwrap_or_else(OffsetDateTime::now_utc);
    let mut ctx = Context {
        cfg,
        config_sha256,
        passphrases,
        out,
        dry_run,
        ledger,
        audit,
        at,
        token: None,
    };
    let kind = ctx.cfg.ceremony;
    ctx.say(format!(
        "== mdoc-ca {} ceremony at {}{}",
        kind.name(),
        crate::ledger::ts(at),
        if dry_run {
            " (DRY RUN: nothing will be signed or recorded)"
        } else {
            ""
        }
    ));
    let result = match ctx.cfg.check() {
        Err(e) => Err(CeremonyError::Config(e)),
        Ok(()) if kind != CeremonyKind::Init && !verified_start(&mut ctx, &state).await => {
            Err(CeremonyError::Refused(
                "the CA state does not verify (above): no ceremony starts from it; run \
                 `mdoc-ca audit verify` and restore the state from its backup"
                    .into(),
            ))
        }
        Ok(()) => match kind {
            CeremonyKind::Init => init::run(&mut ctx).await,
            CeremonyKind::SignDs => sign_ds::run(&mut ctx, sign_ds::SignerKind::Ds).await,
            CeremonyKind::SignListSigner => {
                sign_ds::run(&mut ctx, sign_ds::SignerKind::ListSigner).await
            }
            CeremonyKind::Revoke => revoke::run(&mut ctx).await,
            CeremonyKind::Crl => crl_series::run(&mut ctx).await,
            CeremonyKind::Rollover => rollover::run(&mut ctx).await,
            CeremonyKind::Compromise => compromise::run(&mut ctx).await,
            CeremonyKind::Export => export::run(&mut ctx).await,
        },
    };
    // Deactivate: the token session ends here (keys still held elsewhere keep it alive only
    // until they are dropped at the end of their ceremony function, which has returned).
    ctx.token = None;
    match &result {
        Ok(outcome) => {
            for (what, path, fp) in &outcome.artifacts {
                ctx.say(format!("  {what}: {}\n    SHA-256 {fp}", path.display()));
            }
            ctx.say(format!("== {} ceremony complete", kind.name()));
        }
        Err(e) if !dry_run => {
            ctx.say(format!("== REFUSED: {e}"));
            let event = ctx
                .event(&format!("ceremony.{}.refused", kind.name()), false)
                .detail("reason", e.to_string());
            // Record the refusal even if the refusal itself cannot be recorded in full.
            let _ = ctx.ledger.record_refusal(&ctx.record()).await;
            let _ = ctx.audit(event);
        }
        Err(e) => ctx.say(format!("== dry run found a problem: {e}")),
    }
    result
}

/// Whether the state verifies as `mdoc-ca audit verify` checks it (the audit chain and its
/// checkpoints, the archive, the ledger against the log both ways, CRL continuity): a ceremony
/// never builds on a ledger that was altered behind the log's back. Says why when it does not.
/// The archive files a crash left unwritten are written only once the records verify, and
/// the archive is checked after.
async fn verified_start(ctx: &mut Context<'_>, state: &std::path::Path) -> bool {
    let checked = async {
        crate::audit_check::verify_records(state, None).await?;
        if !ctx.dry_run {
            ctx.ledger.export_archive().await?;
        }
        ctx.ledger.verify_archive().await?;
        Ok::<(), crate::audit_check::AuditCheckError>(())
    }
    .await;
    match checked {
        Ok(()) => true,
        Err(e) => {
            ctx.say(format!("== the CA state does not verify: {e}"));
            false
        }
    }
}

/// Signs an audit checkpoint with the audit key if the ceremony activated it, and writes the
/// RFC 3161 request for it (the CA is offline: an operator takes the `.tsq` to the TSA and
/// records the reply with `mdoc-ca audit timestamp`).
pub(crate) fn checkpoint(ctx: &mut Context<'_>, audit_key: &dyn Signer) -> Result<()> {
    let seq = ctx
        .audit
        .checkpoint_at(audit_key, ctx.at)
        .map_err(CeremonyError::Audit)?;
    let checkpoint = custody::timestamp::anchor::CheckpointRef {
        seq,
        hash: ctx.audit.head().to_owned(),
        time: ctx.at,
    };
    let request = checkpoint.request(None).map_err(CeremonyError::Audit)?;
    let dir = ctx
        .cfg
        .state_dir
        .join(crate::audit_check::TIMESTAMP_REQUESTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|source| CeremonyError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let path = crate::audit_check::timestamp_request_path(&ctx.cfg.state_dir, seq);
    write_new(&path, request.der())?;
    ctx.say(format!(
        "  audit checkpoint {seq}: time-stamp request {} (imprint {})",
        path.display(),
        checkpoint.hash
    ));
    Ok(())
}

/// A secret that is zeroized on drop.
pub(crate) type Secret = Zeroizing<Vec<u8>>;

/// Writes `bytes` to `path` atomically, refusing to overwrite.
pub(crate) fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let io = |source| CeremonyError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.exists() {
        return Err(CeremonyError::Refused(format!(
            "{} already exists; refusing to overwrite",
            path.display()
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
