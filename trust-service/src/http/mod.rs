//! The DTS over HTTP: public, read-only and without access control (policy §2.4), plus the
//! operations endpoints (metrics, health, readiness, the authenticated bundle upload), either
//! on the same listener or on `ops_listen`.
//!
//! The server is the shared accept loop of [`mdoc_httpd`]: hyper's HTTP/1.1 with a
//! header-read timeout (a connection that sends no complete request head in time is closed,
//! idle keep-alive connections included) and a cap on concurrent connections; hyper answers
//! oversized request heads with 431.
//!
//! A GET or HEAD of a published file goes straight from hyper to [`read::resource`], whose
//! headers were prepared when the site was built; everything else (operations, preflights,
//! 404, 405) goes through an axum router. Reads are what a DTS serves at scale, and
//! routing them through axum cost about a fifth of the DTS's time per 304 answer.

mod ops;
mod read;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use mdoc_httpd::Limits;
use tokio::net::TcpListener;
use tower::ServiceExt;

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

/// What a listener serves: published files directly, the rest through [`router`].
#[derive(Clone)]
pub struct App {
    dts: Arc<Dts>,
    reads: bool,
    router: Router,
}

/// The answer's body: a published file's bytes, or whatever axum produced.
pub type AppBody = Either<Full<Bytes>, Body>;

impl App {
    /// The listener's application for `routes`.
    pub fn new(dts: Arc<Dts>, routes: Routes) -> App {
        App {
            router: router(Arc::clone(&dts), routes),
            reads: routes != Routes::Ops,
            dts,
        }
    }

    /// Answers one request.
    pub async fn handle(self, request: Request<Incoming>) -> Response<AppBody> {
        if self.reads && (request.method() == Method::GET || request.method() == Method::HEAD) {
            // Published paths never collide with the operations routes (the layout reserves
            // their names), so a path the site holds is a read whoever else listens here.
            if let Some(resource) = self.dts.site().resources.get(request.uri().path()) {
                return read::resource(&self.dts, request.method(), request.headers(), resource)
                    .map(Either::Left);
            }
        }
        match self.router.oneshot(request.map(Body::new)).await {
            Ok(response) => response.map(Either::Right),
            Err(never) => match never {},
        }
    }
}

/// The axum router for `routes`: operations and, for reads, a fallback answering preflights,
/// unknown paths and other methods.
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
        r = r.fallback(read::fallback);
    }
    r.with_state(dts)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish
/// (up to 10 s), through the shared hardened accept loop ([`mdoc_httpd`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = Limits {
        header_read_timeout: HEADER_READ_TIMEOUT,
        max_connections: MAX_CONNECTIONS,
        grace: Duration::from_secs(10),
    };
    mdoc_httpd::serve(
        listener,
        limits,
        move |_peer| {
            let app = app.clone();
            hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(request).await) }
            })
        },
        shutdown,
    )
    .await
}
