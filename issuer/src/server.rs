//! Assembling the service from its configuration and running it with graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use custody::audit::AuditEvent;
use custody::softstore::KdfParams;
use hyper::body::Incoming;
use mso::x509::Certificate;
use schemas::Registry;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;
use zeroize::Zeroizing;

use crate::audit::{events, Audit};
use crate::config::{KeystoreSection, ServiceConfig};
use crate::ds::{DsKeys, KeystoreConfig};
use crate::engine::{EngineError, Issuer, Parts, ServerSecret};
use crate::store::Store;

/// How often background upkeep runs.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(60);

fn env(name: &str) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    std::env::var(name)
        .map(|v| Zeroizing::new(v.into_bytes()))
        .map_err(|_| EngineError::Config(format!("environment variable {name} is not set")))
}

/// Reads IACA certificates (PEM or DER).
pub fn read_certificates(paths: &[impl AsRef<Path>]) -> Result<Vec<Certificate>, EngineError> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let bytes = std::fs::read(p)
            .map_err(|e| EngineError::Config(format!("cannot read {}: {e}", p.display())))?;
        let cert = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => Certificate::from_pem(text),
            _ => Certificate::from_der(&bytes),
        }
        .map_err(|e| EngineError::Config(format!("{}: {e}", p.display())))?;
        out.push(cert);
    }
    Ok(out)
}

/// Opens the keystore the configuration names, reading its secret or PIN from the
/// environment.
pub fn open_keystore(section: &KeystoreSection) -> Result<DsKeys, EngineError> {
    let config = match section {
        KeystoreSection::DevFile { dir, secret_env } => {
            tracing::warn!(
                dir = %dir.display(),
                "DS keys are in the DEVELOPMENT-ONLY file keystore; use a PKCS#11 token in production"
            );
            KeystoreConfig::DevFile {
                dir: dir.clone(),
                secret: env(secret_env)?,
                kdf: KdfParams::RECOMMENDED,
            }
        }
        KeystoreSection::Pkcs11 {
            module,
            token,
            pin_env,
        } => KeystoreConfig::Pkcs11 {
            module: module.clone(),
            token: token.clone(),
            pin: env(pin_env)?,
        },
    };
    Ok(DsKeys::open(config)?)
}

/// Builds the engine from `config`: store (migrated), keystore, IACAs, doc types, server
/// secret (from the environment) and audit log.
pub async fn build(config: ServiceConfig) -> Result<Arc<Issuer>, EngineError> {
    config
        .check()
        .map_err(|e| EngineError::Config(e.to_string()))?;
    let secret = ServerSecret::new(env(&config.issuance.secret_env)?.to_vec())?;
    let keys = open_keystore(&config.keystore)?;
    build_with(config, keys, secret).await
}

/// Like [`build`] with the keystore and secret supplied by the caller.
pub async fn build_with(
    config: ServiceConfig,
    keys: DsKeys,
    secret: ServerSecret,
) -> Result<Arc<Issuer>, EngineError> {
    let store = Store::open(&config.database.url).await?;
    let iacas = read_certificates(&config.trust.iaca)?;
    if iacas.is_empty() {
        return Err(EngineError::Config(
            "trust.iaca names no IACA certificate".into(),
        ));
    }
    let mut registry =
        Registry::builtin().map_err(|e| EngineError::Config(format!("doc types: {e}")))?;
    for dir in &config.issuance.doctype_dirs {
        let extra = Registry::load_dir(dir)
            .map_err(|e| EngineError::Config(format!("doc types in {}: {e}", dir.display())))?;
        registry.overlay(extra);
    }
    let checkpoint_key = match &config.audit.checkpoint_key_uri {
        Some(uri) => {
            let uri = uri
                .parse()
                .map_err(|e| EngineError::Config(format!("audit.checkpoint_key_uri: {e}")))?;
            Some(
                keys.open_key(&uri)
                    .map_err(|e| EngineError::Config(format!("audit checkpoint key: {e}")))?,
            )
        }
        None => None,
    };
    let tsa = crate::audit::tsa_from_config(&config.audit)?;
    if tsa.is_some() && checkpoint_key.is_none() {
        return Err(EngineError::Config(
            "audit.tsa_url needs audit.checkpoint_key_uri: only checkpoints are time-stamped"
                .into(),
        ));
    }
    let audit = Audit::open_with_tsa(
        &config.audit.path,
        &config.audit.terminal_id,
        checkpoint_key,
        tsa,
        crate::audit::Segmenting::from_config(&config.audit),
    )?;
    Issuer::new(Parts {
        config,
        store,
        registry,
        keys,
        iacas,
        secret,
        audit,
    })
    .await
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    upkeep: JoinHandle<()>,
    crl_follow: Option<JoinHandle<()>>,
}

impl Running {
    /// Asks the server to stop accepting, waits for in-flight requests, then returns.
    pub async fn shutdown(self) -> std::io::Result<()> {
        // The background tasks end first (an abort takes effect at the task's next await, on
        // another thread perhaps), so none of their records lands after the stop record and
        // the final checkpoint.
        self.upkeep.abort();
        let _ = self.upkeep.await;
        if let Some(f) = self.crl_follow {
            f.abort();
            let _ = f.await;
        }
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }
}

/// Starts serving `issuer` on `listener` (bind it first: port 0 picks a free port).
pub async fn start(issuer: Arc<Issuer>, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let app = crate::api::router(Arc::clone(&issuer))
        .map_err(|e| std::io::Error::other(format!("router: {e}")))?;
    let server = &issuer.config().server;
    let limits = mdoc_httpd::Limits {
        header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.max(1)),
        max_connections: server.max_connections.max(1),
        grace: Duration::from_secs(server.shutdown_grace_secs),
    };
    // Before anything is served: records of operations a crash left uncommitted get their
    // rollback record, changes committed without a record get theirs, and the start record
    // marks where the next reconciliation begins.
    let reconciled = issuer
        .reconcile_audit()
        .await
        .map_err(|e| std::io::Error::other(format!("audit reconciliation: {e}")))?;
    let _ = issuer
        .audit_record(
            AuditEvent::success(events::START)
                .actor("system")
                .detail("listen", addr.to_string())
                .detail("reconciled", reconciled.checked.to_string())
                .detail("rolled_back", reconciled.rolled_back.len().to_string())
                .detail("recovered", reconciled.recovered.len().to_string())
                .detail(crate::engine::HIGH_WATER, reconciled.high_water.to_string()),
        )
        .await;
    let audit_issuer = Arc::clone(&issuer);
    let task = tokio::spawn(async move {
        let result = mdoc_httpd::serve(
            listener,
            limits,
            move |peer| {
                let app = app.clone();
                hyper::service::service_fn(move |mut request: Request<Incoming>| {
                    // The peer address, for per-source limits (axum's `ConnectInfo`).
                    request.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().oneshot(request.map(Body::new))
                })
            },
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        )
        .await;
        let _ = audit_issuer
            .audit_record(AuditEvent::success(events::STOP).actor("system"))
            .await;
        // The log ends on a signed checkpoint (when a key is configured).
        if let Err(e) = audit_issuer.audit_checkpoint().await {
            tracing::error!(error = %e, "audit checkpoint at shutdown failed");
        }
        result
    });
    let upkeep_issuer = Arc::clone(&issuer);
    let upkeep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = upkeep_issuer.upkeep(OffsetDateTime::now_utc()).await {
                tracing::error!(error = %e, "upkeep failed");
            }
        }
    });
    let crl_follow = issuer.config().crl_intake.enabled.then(|| {
        let issuer = Arc::clone(&issuer);
        tokio::spawn(async move {
            let config = issuer.config().crl_intake.clone();
            let mut follower = crate::crl_follow::CrlFollower::new(&issuer, &config);
            tracing::info!(urls = ?follower.urls(), "following the roots' CRLs");
            let mut tick =
                tokio::time::interval(Duration::from_secs(config.interval_secs.max(1)));
            loop {
                tick.tick().await;
                for (url, result) in follower.poll(&issuer, OffsetDateTime::now_utc()).await {
                    match result {
                        Ok(Some(done)) if !done.revoked.is_empty() => {
                            tracing::warn!(%url, revoked = ?done.revoked, "DS certificates revoked by the root's CRL");
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(%url, error = %e, "CRL intake failed"),
                    }
                }
            }
        })
    });
    Ok(Running {
        addr,
        stop,
        task,
        upkeep,
        crl_follow,
    })
}

/// Runs the service until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(config: ServiceConfig) -> Result<(), EngineError> {
    let listen = config.server.listen;
    let issuer = build(config).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| EngineError::Config(format!("cannot listen on {listen}: {e}")))?;
    let running = start(issuer, listener)
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    tracing::info!(addr = %running.addr, "mdoc-issuer listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running
        .shutdown()
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
