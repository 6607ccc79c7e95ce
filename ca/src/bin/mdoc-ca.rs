//! `mdoc-ca`: the offline root CA's ceremony tool.
//!
//! ```text
//! mdoc-ca run CEREMONY.toml [--dry-run] [--passphrases prompt|env]
//! mdoc-ca audit verify --state-dir DIR [--audit-key FILE] [--tsa-anchors PEM]
//! mdoc-ca audit timestamp --state-dir DIR --terminal-id ID --response FILE.tsr
//!                         --tsa-anchors PEM [--query FILE.tsq] [--audit-key FILE]
//! ```
//!
//! Each ceremony's closing checkpoint leaves an RFC 3161 request in
//! `STATE_DIR/timestamp-requests/checkpoint-<seq>.tsq`; an operator takes it to the TSA (for
//! instance `openssl ts -reply` or the TSA's own tool) and records the reply with `audit
//! timestamp`, which verifies it against the TSA trust anchors before appending it to the log.
//!
//! Exit codes: 0 done; 2 config or usage error; 3 refused (policy, bad input); 4 key activation
//! failed; 5 ledger, audit or I/O failure; 6 audit or archive verification found tampering.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mdoc_ca::ceremony::{self, EnvPassphrases, PassphraseSource};
use mdoc_ca::config::CeremonyConfig;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "mdoc-ca",
    version,
    about = "Offline root CA (IACA) ceremonies for ISO 18013-5 mdocs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the ceremony a reviewed config file describes.
    Run {
        /// The ceremony config (TOML).
        config: PathBuf,
        /// Show what would be signed; sign and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where custodians' passphrases come from.
        #[arg(long, value_enum, default_value = "prompt")]
        passphrases: PassphraseMode,
    },
    /// Audit trail and archive checks.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain and checkpoint signatures of the audit log, and the archive.
    Verify {
        /// The CA state directory.
        #[arg(long)]
        state_dir: PathBuf,
        /// The audit public key (SPKI DER); default: STATE_DIR/audit-key.spki.der.
        #[arg(long)]
        audit_key: Option<PathBuf>,
        /// Trusted TSA root certificates (PEM): verify the time-stamp tokens in the log.
        /// Without it they are reported as present but unchecked.
        #[arg(long)]
        tsa_anchors: Option<PathBuf>,
    },
    /// Record a TSA's reply (RFC 3161) to the time-stamp request of the log's last checkpoint.
    Timestamp {
        /// The CA state directory.
        #[arg(long)]
        state_dir: PathBuf,
        /// This terminal's id, stamped on the record.
        #[arg(long)]
        terminal_id: String,
        /// The TSA's reply (DER TimeStampResp, `.tsr`).
        #[arg(long)]
        response: PathBuf,
        /// The request it answers; default: the one the ceremony wrote for that checkpoint.
        #[arg(long)]
        query: Option<PathBuf>,
        /// Trusted TSA root certificates (PEM).
        #[arg(long)]
        tsa_anchors: PathBuf,
        /// The audit public key (SPKI DER); default: STATE_DIR/audit-key.spki.der.
        #[arg(long)]
        audit_key: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PassphraseMode {
    /// Ask each custodian at the terminal (input not echoed).
    Prompt,
    /// Read MDOC_CA_PASSPHRASE_<ID> variables (scripted rehearsals only).
    Env,
}

/// Prompts each custodian on the terminal.
struct Prompt;

impl PassphraseSource for Prompt {
    fn passphrase(&self, id: &str) -> custody::Result<Zeroizing<Vec<u8>>> {
        let prompt = match id {
            "token-initial-pin" => "HSM administrator: the token's initial user PIN: ".to_owned(),
            other => format!("custodian {other}: passphrase: "),
        };
        rpassword::prompt_password(prompt)
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|e| custody::Error::WrongSecret(format!("{id} (no passphrase read: {e})")))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mdoc-ca: cannot start: {e}");
            return ExitCode::from(5);
        }
    };
    match cli.command {
        Command::Run {
            config,
            dry_run,
            passphrases,
        } => {
            let (cfg, sha) = match CeremonyConfig::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("mdoc-ca: {e}");
                    return ExitCode::from(2);
                }
            };
            custody::say!("config {} (SHA-256 {sha})", config.display());
            let source: Box<dyn PassphraseSource> = match passphrases {
                PassphraseMode::Prompt if std::io::stdin().is_terminal() => Box::new(Prompt),
                PassphraseMode::Prompt => {
                    eprintln!("mdoc-ca: no terminal to prompt on; use --passphrases env for a scripted rehearsal");
                    return ExitCode::from(2);
                }
                PassphraseMode::Env => Box::new(EnvPassphrases),
            };
            let mut out = std::io::stdout();
            let result =
                runtime.block_on(ceremony::run(cfg, sha, source.as_ref(), &mut out, dry_run));
            let _ = out.flush();
            match result {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mdoc-ca: {e}");
                    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(5))
                }
            }
        }
        Command::Audit {
            command:
                AuditCommand::Timestamp {
                    state_dir,
                    terminal_id,
                    response,
                    query,
                    tsa_anchors,
                    audit_key,
                },
        } => {
            let trust = match mdoc_ca::audit_check::tsa_trust(&tsa_anchors) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("mdoc-ca: {e}");
                    return ExitCode::from(2);
                }
            };
            match mdoc_ca::audit_check::record_timestamp(
                &state_dir,
                audit_key.as_deref(),
                &terminal_id,
                &response,
                query.as_deref(),
                &trust,
            ) {
                Ok(line) => {
                    custody::say!("{line}");
                    ExitCode::SUCCESS
                }
                // A log that does not verify is tampering; a reply that does not is refused.
                Err(
                    e @ mdoc_ca::audit_check::AuditCheckError::Audit(
                        custody::Error::AuditTampered { .. },
                    ),
                ) => {
                    eprintln!("mdoc-ca: audit verification FAILED: {e}");
                    ExitCode::from(6)
                }
                Err(e) => {
                    eprintln!("mdoc-ca: time-stamp refused: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    state_dir,
                    audit_key,
                    tsa_anchors,
                },
        } => {
            let trust = match tsa_anchors
                .as_deref()
                .map(mdoc_ca::audit_check::tsa_trust)
                .transpose()
            {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("mdoc-ca: {e}");
                    return ExitCode::from(2);
                }
            };
            verify(&runtime, &state_dir, audit_key.as_deref(), trust.as_ref())
        }
    }
}

fn verify(
    runtime: &tokio::runtime::Runtime,
    state_dir: &std::path::Path,
    audit_key: Option<&std::path::Path>,
    trust: Option<&custody::timestamp::TsaTrust>,
) -> ExitCode {
    match runtime.block_on(mdoc_ca::audit_check::verify_state_with(
        state_dir, audit_key, trust,
    )) {
        Ok(report) => {
            custody::say!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mdoc-ca: audit verification FAILED: {e}");
            ExitCode::from(6)
        }
    }
}
