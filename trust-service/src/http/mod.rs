//! The DTS over HTTP: public, read-only and without access control (policy §2.4), plus the
//! operations endpoints (metrics, health, readiness, the authenticated bundle upload), either
//! on the same listener or on `ops_listen`.
//!
//! The server is hyper's HTTP/1.1 with a header-read timeout (a connection that sends no
//! complete request head in time is closed, idle keep-alive connections included) and a cap on
//! concurrent connections; hyper answers oversized request heads with 431.

mod ops;
mod read;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::service::Dts;

/// How long a client may take to send a request head (and how long an idle keep-alive
/// connection is kept).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most concurrent connections per listener.
pub const MAX_CONNECTIONS: usize = 8192;

/// Which routes a listener carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Reads and operations (no `ops_listen`).
    All,
    /// Public reads only.
    Public,
    /// Operations only.
    Ops,
}

/// The router for `routes`.
pub fn router(dts: Arc<Dts>, routes: Routes) -> Router {
    let prefix = dts.public().prefix().to_owned();
    let mut r = Router::new();
    if routes != Routes::Public {
        r = r
            .route(&format!("{prefix}metrics"), get(ops::metrics))
            .route(&format!("{prefix}healthz"), get(ops::healthz))
            .route(&format!("{prefix}readyz"), get(ops::readyz))
            .route(&format!("{prefix}admin/bundles"), post(ops::upload))
            .layer(axum::extract::DefaultBodyLimit::max(
                usize::try_from(dts.config().limits.max_bundle_bytes).unwrap_or(usize::MAX),
            ));
    }
    if routes != Routes::Ops {
        r = r.fallback(read::serve);
    }
    r.with_state(dts)
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}
