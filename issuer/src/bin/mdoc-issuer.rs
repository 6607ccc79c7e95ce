//! `mdoc-issuer`: run the issuer service and administer it.
//!
//! ```text
//! mdoc-issuer serve     --config issuer.toml
//! mdoc-issuer client create  --config issuer.toml --name portal --scopes issue,revoke
//! mdoc-issuer client disable --config issuer.toml --id <client id>
//! mdoc-issuer ds csr     --config issuer.toml --label ds-2026q4 --country NL --common-name "NL DS" --out ds.csr.pem
//! mdoc-issuer ds install --config issuer.toml --key-uri <uri printed by ds csr> --cert ds.pem
//! mdoc-issuer ds list    --config issuer.toml
//! mdoc-issuer list-signer csr|install|list ...   (the same arguments as `ds`)
//! mdoc-issuer audit key    --config issuer.toml --label audit-2026 --out audit-key.spki.der
//! mdoc-issuer audit verify --config issuer.toml --key audit-key.spki.der
//! mdoc-issuer audit repair --config issuer.toml
//! mdoc-issuer audit prune  --config issuer.toml --key audit-key.spki.der --before 2025-12-01T00:00:00Z --auditor auditor-01
//! ```
//!
//! Secrets come from the environment variables the configuration names, never from arguments.
//! Exit codes: 0 success, 2 usage or configuration error, 3 refused (bad input), 4 failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::ds::{
    csr_pem, generate_csr, install_certificate, install_list_signer_certificate, DsSubject,
};
use mdoc_issuer::server;
use mdoc_issuer::store::{DsCertificate, DsState, Scope, Store};
use mso::crypto::Algorithm;
use time::OffsetDateTime;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "mdoc-issuer",
    version,
    about = "ISO/IEC 18013-5 mdoc issuer service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service until SIGINT/SIGTERM.
    Serve {
        /// Configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// API clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Document Signer keys and certificates.
    Ds {
        #[command(subcommand)]
        command: DsCommand,
    },
    /// The list signer's keys and certificates: the key that signs the status and identifier
    /// lists (certified by the root with `mdoc-ca` ceremony `sign-list-signer`).
    ListSigner {
        #[command(subcommand)]
        command: DsCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Delete the sealed segments whose every record is older than `--before`, which must be
    /// at least a year ago (CA policy §5.4.3), after verifying every segment; the deletion is
    /// recorded in the log first, with the auditor's id. Run with the service stopped (the
    /// service is the log's only writer while it runs).
    Prune {
        #[arg(long)]
        config: PathBuf,
        /// The audit public key `audit key` wrote (SPKI, DER).
        #[arg(long)]
        key: PathBuf,
        /// The cut-off, RFC 3339 (e.g. 2025-12-01T00:00:00Z).
        #[arg(long)]
        before: String,
        /// The auditor's id, recorded as the originator.
        #[arg(long)]
        auditor: String,
    },
    /// Generate the key that signs the log's checkpoints (used for nothing else), print its
    /// URI for `audit.checkpoint_key_uri`, and write its public key (SPKI, DER) for `verify`.
    Key {
        #[arg(long)]
        config: PathBuf,
        /// Key label in the keystore (unique).
        #[arg(long)]
        label: String,
        /// Where to write the public key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify the log and its sealed segments as one chain: every record's hash and chain,
    /// every checkpoint's signature under the audit public key, every segment's link to the
    /// one before. Exit 5 if anything was altered.
    Verify {
        #[arg(long)]
        config: PathBuf,
        /// The audit public key `audit key` wrote (SPKI, DER).
        #[arg(long)]
        key: PathBuf,
        /// Trusted TSA root certificates (PEM): verify the RFC 3161 time-stamp tokens kept in
        /// the log. Without it they are reported as present but unchecked.
        #[arg(long)]
        tsa_anchors: Option<PathBuf>,
    },
    /// After a crash tore the log's last write (the service then refuses to start): keeps the
    /// torn bytes beside the log, cuts them, and records the repair. Refuses, changing
    /// nothing, if anything before the torn line does not verify. Run with the service
    /// stopped.
    Repair {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Create a client; prints its id and bearer token (shown once).
    Create {
        #[arg(long)]
        config: PathBuf,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: issue, revoke, admin.
        #[arg(long)]
        scopes: String,
    },
    /// Disable a client (its token stops working within seconds).
    Disable {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        id: String,
    },
}

/// The commands of `ds` and `list-signer` (a signer key's life: CSR, install, list).
#[derive(Subcommand)]
enum DsCommand {
    /// Generate a key in the keystore and write a PKCS#10 CSR for the offline root.
    Csr {
        #[arg(long)]
        config: PathBuf,
        /// Key label in the keystore (unique).
        #[arg(long)]
        label: String,
        /// Country (must equal the IACA's).
        #[arg(long)]
        country: String,
        /// State or province (must equal the IACA's, if it has one).
        #[arg(long)]
        state: Option<String>,
        /// Organization.
        #[arg(long)]
        organization: Option<String>,
        /// Common name.
        #[arg(long)]
        common_name: String,
        /// Where to write the CSR (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// Install the certificate the root issued for a key.
    Install {
        #[arg(long)]
        config: PathBuf,
        /// The key URI `csr` printed.
        #[arg(long)]
        key_uri: String,
        /// The certificate (PEM or DER).
        #[arg(long)]
        cert: PathBuf,
    },
    /// List the installed certificates.
    List {
        #[arg(long)]
        config: PathBuf,
    },
}

enum Failure {
    Usage(String),
    Refused(String),
    Failed(String),
    Tampered(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Refused(_) => 3,
            Failure::Failed(_) => 4,
            Failure::Tampered(_) => 5,
        }
    }
}

fn load(path: &std::path::Path) -> Result<ServiceConfig, Failure> {
    ServiceConfig::load(path).map_err(|e| Failure::Usage(e.to_string()))
}

async fn store(config: &ServiceConfig) -> Result<Store, Failure> {
    Store::open(&config.database.url)
        .await
        .map_err(|e| Failure::Failed(format!("database: {e}")))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve { config } => {
            let config = load(&config)?;
            server::run(config)
                .await
                .map_err(|e| Failure::Failed(e.to_string()))
        }
        Command::Client { command } => match command {
            ClientCommand::Create {
                config,
                name,
                scopes,
            } => {
                let config = load(&config)?;
                let scopes = scopes
                    .split(',')
                    .map(|s| {
                        Scope::parse(s.trim())
                            .ok_or_else(|| Failure::Usage(format!("unknown scope {s:?}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let (client, token) = store(&config)
                    .await?
                    .create_client(&name, &scopes)
                    .await
                    .map_err(|e| Failure::Failed(e.to_string()))?;
                custody::say!("client_id = {}", client.id);
                custody::say!("token     = {}", token.0);
                Ok(())
            }
            ClientCommand::Disable { config, id } => {
                let config = load(&config)?;
                store(&config)
                    .await?
                    .disable_client(&id)
                    .await
                    .map_err(|e| Failure::Refused(e.to_string()))
            }
        },
        Command::Ds { command } => signer(command, Purpose::Ds).await,
        Command::ListSigner { command } => signer(command, Purpose::ListSigner).await,
        Command::Audit {
            command: AuditCommand::Key { config, label, out },
        } => {
            let config = load(&config)?;
            let keys = server::open_keystore(&config.keystore)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let key = keys
                .generate(&label, Algorithm::Es256)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let public = key
                .signer
                .public_key()
                .map_err(|e| Failure::Failed(e.to_string()))?;
            let spki =
                mso::x509::spki::encode(&public).map_err(|e| Failure::Failed(e.to_string()))?;
            let der = der::Encode::to_der(&spki).map_err(|e| Failure::Failed(e.to_string()))?;
            std::fs::write(&out, der)
                .map_err(|e| Failure::Failed(format!("{}: {e}", out.display())))?;
            custody::say!("checkpoint_key_uri = \"{}\"", key.uri);
            custody::say!("public key         = {}", out.display());
            custody::say!(
                "fingerprint        = {}",
                custody::audit::key_fingerprint(&public)
            );
            Ok(())
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    config,
                    key,
                    tsa_anchors,
                },
        } => {
            let trust = tsa_anchors
                .map(|path| {
                    let pem = std::fs::read(&path)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
                    custody::timestamp::TsaTrust::from_pem(&pem)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
                })
                .transpose()?;
            let config = load(&config)?;
            let public = audit_public_key(&key)?;
            let tampered = |e: custody::Error| {
                Failure::Tampered(format!("audit log verification FAILED: {e}"))
            };
            // Each file in order, records and time-stamps (a stamp covers a checkpoint of its
            // own segment), so the first problem is the one named; then the links between them.
            let sealed = custody::audit::sealed_segments(&config.audit.path).map_err(tampered)?;
            let mut stamps = 0usize;
            let mut stamped = None;
            for path in sealed
                .iter()
                .map(|seg| &seg.path)
                .chain([&config.audit.path])
            {
                let report = custody::timestamp::anchor::verify_log(path, &public, trust.as_ref())
                    .map_err(|e| {
                        Failure::Tampered(format!(
                            "audit log verification FAILED: {}: {e}",
                            path.display()
                        ))
                    })?;
                stamps += report.stamps.len();
                if let Some(last) = report.stamps.last() {
                    stamped = Some((report.stamped_through().unwrap_or(0), last.gen_time));
                }
                let kind = if *path == config.audit.path {
                    ""
                } else {
                    " (sealed)"
                };
                custody::say!("{}: OK{kind}", path.display());
                custody::say!("  {:?}", report.summary);
            }
            let summary =
                custody::audit::verify_segments(&config.audit.path, &public).map_err(tampered)?;
            if summary.first_seq > 1 {
                custody::say!(
                    "  records before #{} were pruned (see the audit.segment.pruned records)",
                    summary.first_seq
                );
            }
            match (stamps, trust.is_some(), stamped) {
                (0, _, _) => custody::say!("  time-stamps: none"),
                (n, true, Some((through, at))) => custody::say!(
                    "  time-stamps: {n} verified against the TSA trust anchors; records up to \
                     {through} existed at {at}"
                ),
                (n, _, _) => {
                    custody::say!("  time-stamps: {n} present, NOT verified (no --tsa-anchors)")
                }
            }
            let checkpoints = summary.live.checkpoints
                + summary
                    .sealed
                    .iter()
                    .map(|(_, s)| s.checkpoints)
                    .sum::<u64>();
            if checkpoints == 0 {
                return Err(Failure::Tampered(
                    "the log has no signed checkpoint: nothing in it is signed".into(),
                ));
            }
            Ok(())
        }
        Command::Audit {
            command:
                AuditCommand::Prune {
                    config,
                    key,
                    before,
                    auditor,
                },
        } => {
            let config = load(&config)?;
            let public = audit_public_key(&key)?;
            let before =
                OffsetDateTime::parse(&before, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| Failure::Usage(format!("--before {before:?}: {e}")))?;
            let mut log = custody::audit::AuditLog::open_verified(
                &config.audit.path,
                &config.audit.terminal_id,
                &public,
            )
            .map_err(|e| Failure::Tampered(e.to_string()))?;
            let pruned = custody::audit::prune_sealed(
                &mut log,
                &public,
                before,
                OffsetDateTime::now_utc(),
                &auditor,
            )
            .map_err(|e| match e {
                custody::Error::AuditTampered { .. } => Failure::Tampered(e.to_string()),
                custody::Error::AuditRefused(_) => Failure::Refused(e.to_string()),
                other => Failure::Failed(other.to_string()),
            })?;
            match pruned {
                None => custody::say!("no sealed segment ends before {before}"),
                Some(p) => {
                    for s in &p.segments {
                        custody::say!("deleted {}", s.path.display());
                    }
                    custody::say!("recorded as #{}", p.record_seq);
                }
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Repair { config },
        } => {
            let config = load(&config)?;
            let path = &config.audit.path;
            match custody::audit::repair_torn_tail(path, None)
                .map_err(|e| Failure::Refused(e.to_string()))?
            {
                None => {
                    custody::say!(
                        "{}: ends on a complete record; nothing to repair",
                        path.display()
                    );
                    Ok(())
                }
                Some(torn) => {
                    let mut log = custody::audit::AuditLog::open(path, &config.audit.terminal_id)
                        .map_err(|e| Failure::Failed(e.to_string()))?;
                    let event = custody::audit::AuditEvent::success(
                        mdoc_issuer::audit::events::AUDIT_REPAIR,
                    )
                    .actor("operator")
                    .detail("torn_seq", torn.seq.to_string())
                    .detail("torn_bytes", torn.bytes.to_string())
                    .detail("torn_sha256", torn.sha256.clone())
                    .detail("saved_to", torn.saved_to.display().to_string());
                    let seq = log
                        .append(event)
                        .map_err(|e| Failure::Failed(e.to_string()))?;
                    custody::say!(
                        "cut a torn record #{} ({} bytes, SHA-256 {}), kept in {}; the repair is record #{seq}",
                        torn.seq,
                        torn.bytes,
                        torn.sha256,
                        torn.saved_to.display()
                    );
                    Ok(())
                }
            }
        }
    }
}

/// What a `ds` or `list-signer` command's key is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Ds,
    ListSigner,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Ds => "DS",
            Purpose::ListSigner => "list signer",
        }
    }
}

/// Reads the audit public key `audit key` wrote (SPKI, DER).
fn audit_public_key(path: &std::path::Path) -> Result<mso::crypto::PublicKey, Failure> {
    let der =
        std::fs::read(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let spki = <spki::SubjectPublicKeyInfoRef as der::Decode>::from_der(&der)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    mso::x509::spki::decode(&spki).map_err(|e| Failure::Usage(e.to_string()))
}

async fn signer(command: DsCommand, purpose: Purpose) -> Result<(), Failure> {
    match command {
        DsCommand::Csr {
            config,
            label,
            country,
            state,
            organization,
            common_name,
            out,
        } => {
            let config = load(&config)?;
            let keys = server::open_keystore(&config.keystore)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let subject = DsSubject {
                country,
                state,
                organization,
                common_name,
            };
            subject
                .to_name()
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let key = keys
                .generate(&label, Algorithm::Es256)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let csr = generate_csr(key.signer.as_ref(), &subject)
                .map_err(|e| Failure::Failed(e.to_string()))?;
            let pem = csr_pem(&csr).map_err(|e| Failure::Failed(e.to_string()))?;
            std::fs::write(&out, pem)
                .map_err(|e| Failure::Failed(format!("{}: {e}", out.display())))?;
            custody::say!("key_uri = {}", key.uri);
            custody::say!("csr     = {}", out.display());
            Ok(())
        }
        DsCommand::Install {
            config,
            key_uri,
            cert,
        } => {
            let config = load(&config)?;
            let keys = server::open_keystore(&config.keystore)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let iacas = server::read_certificates(&config.trust.iaca)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let uri = key_uri
                .parse()
                .map_err(|e| Failure::Usage(format!("key URI: {e}")))?;
            let signer = keys
                .open_key(&uri)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let cert =
                server::read_certificates(&[cert]).map_err(|e| Failure::Refused(e.to_string()))?;
            let der = cert
                .first()
                .map(|c| c.der().to_vec())
                .ok_or_else(|| Failure::Refused("no certificate".into()))?;
            let now = OffsetDateTime::now_utc();
            let install = match purpose {
                Purpose::Ds => install_certificate,
                Purpose::ListSigner => install_list_signer_certificate,
            };
            let checked = install(&der, signer.as_ref(), &iacas, now)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let row = DsCertificate {
                serial: checked.serial().to_owned(),
                der,
                not_before: checked.not_before(),
                not_after: checked.not_after(),
                state: DsState::Active,
                key_uri: uri.to_string(),
                installed_at: now,
            };
            let store = store(&config).await?;
            match purpose {
                Purpose::Ds => store.insert_ds_certificate(&row).await,
                Purpose::ListSigner => store.insert_list_signer_certificate(&row).await,
            }
            .map_err(|e| Failure::Refused(e.to_string()))?;
            custody::say!(
                "installed {} {} (valid until {})",
                purpose.name(),
                checked.serial(),
                checked.not_after()
            );
            for w in checked.warnings() {
                eprintln!("warning: {} [{}]", w, w.code());
            }
            Ok(())
        }
        DsCommand::List { config } => {
            let config = load(&config)?;
            let store = store(&config).await?;
            let certificates = match purpose {
                Purpose::Ds => store.ds_certificates().await,
                Purpose::ListSigner => store.list_signer_certificates().await,
            }
            .map_err(|e| Failure::Failed(e.to_string()))?;
            for c in certificates {
                custody::say!(
                    "{}  {:?}  {} .. {}  {}",
                    c.serial,
                    c.state,
                    c.not_before,
                    c.not_after,
                    c.key_uri
                );
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let filter =
        EnvFilter::try_from_env("MDOC_ISSUER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mdoc-issuer: cannot start the runtime: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (Failure::Usage(m)
            | Failure::Refused(m)
            | Failure::Failed(m)
            | Failure::Tampered(m)) = &f;
            eprintln!("mdoc-issuer: {m}");
            ExitCode::from(f.code())
        }
    }
}
