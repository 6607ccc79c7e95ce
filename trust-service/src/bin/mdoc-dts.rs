//! `mdoc-dts`: serve, ingest, export and report on the Digital Trust Service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdoc_dts::bundle::Bundle;
use mdoc_dts::http::{self, Routes};
use mdoc_dts::{Dts, DtsConfig, DtsError};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Parser)]
#[command(
    name = "mdoc-dts",
    about = "The Digital Trust Service: publishes roots, link certificates, CRLs and the VICAL"
)]
struct Cli {
    /// The configuration file.
    #[arg(long, short, default_value = "mdoc-dts.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (and the operations endpoints).
    Serve,
    /// Ingest a CA export bundle directory: all or nothing, audited.
    Ingest {
        /// The bundle directory `mdoc-ca export` wrote.
        bundle: PathBuf,
        /// Who runs the ingest (recorded in the audit log).
        #[arg(long, default_value = "operator")]
        operator: String,
    },
    /// Write the published tree, byte for byte, with its headers, for a static server.
    Export {
        /// A new directory.
        dir: PathBuf,
        /// The moment to export (RFC 3339); defaults to now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Print the CRL provision history (JSON lines): which CRL was served from when to when.
    History,
    /// Print what is served now, per root.
    Status,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

async fn run(cli: Cli) -> Result<(), DtsError> {
    let config = DtsConfig::load(&cli.config)?;
    let dts = Dts::open(config).await?;
    match cli.command {
        Command::Serve => {
            let cfg = dts.config().clone();
            let bind = |addr: String| async move {
                tokio::net::TcpListener::bind(&addr)
                    .await
                    .map_err(|source| DtsError::Io { path: addr, source })
            };
            let shutdown = || async {
                // Ctrl-C, or SIGTERM from a service manager or container runtime.
                let term = async {
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(mut s) => {
                            s.recv().await;
                        }
                        Err(_) => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    () = term => {}
                }
            };
            let upkeep = {
                let dts = dts.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        if let Err(e) = dts.refresh().await {
                            tracing::error!(error = %e, "refresh failed");
                        }
                    }
                })
            };
            let public = bind(cfg.listen.clone()).await?;
            tracing::info!(listen = %cfg.listen, "serving");
            let result = match cfg.ops_listen.clone() {
                None => {
                    http::serve(public, http::App::new(dts.clone(), Routes::All), shutdown()).await
                }
                Some(ops) => {
                    let ops = bind(ops).await?;
                    let (a, b) = tokio::join!(
                        http::serve(
                            public,
                            http::App::new(dts.clone(), Routes::Public),
                            shutdown()
                        ),
                        http::serve(ops, http::App::new(dts.clone(), Routes::Ops), shutdown()),
                    );
                    a.and(b)
                }
            };
            upkeep.abort();
            dts.store().close().await;
            result.map_err(|source| DtsError::Io {
                path: cfg.listen,
                source,
            })
        }
        Command::Ingest { bundle, operator } => {
            let source = format!(
                "cli:{}",
                bundle
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            let read = Bundle::from_dir(&bundle, &dts.config().limits);
            let done = dts.ingest(read, &source, &operator).await?;
            custody::say!(
                "ingest {}: accepted ({}){}",
                done.id,
                done.plan.summary(),
                if done.new_vical {
                    ", new VICAL signed"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Export { dir, at } => {
            let at = match at {
                Some(t) => OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| {
                    DtsError::Config(mdoc_dts::config::ConfigError::Invalid(format!("--at: {e}")))
                })?,
                None => dts.now(),
            };
            let (site, _) = dts.build_site(at).await?;
            let n = mdoc_dts::export::export(&site, &dir, at, dts.config().cache.max_age_seconds)?;
            custody::say!("exported {n} files to {}", dir.display());
            if let Some(t) = site.next_switch {
                custody::say!("a served CRL switches at {}: export again then", rfc3339(t));
            }
            Ok(())
        }
        Command::History => {
            for p in dts.history().await? {
                custody::say!(
                    "{}",
                    serde_json::json!({
                        "root": p.root,
                        "crl_number": p.number,
                        "sha256": p.sha256,
                        "from": rfc3339(p.from),
                        "until": p.until.map(rfc3339),
                    })
                );
            }
            Ok(())
        }
        Command::Status => {
            let site = dts.site();
            for r in &site.roots {
                match &r.crl {
                    Some((n, next)) => custody::say!(
                        "root {}: CRL {} until {}, reserve {} h",
                        r.fingerprint,
                        n.short(),
                        rfc3339(*next),
                        r.reserve.whole_hours()
                    ),
                    None => custody::say!("root {}: no CRL served", r.fingerprint),
                }
            }
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(DtsError::Refused(r)) => {
            eprintln!("refused ({}): {r}", r.code());
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
