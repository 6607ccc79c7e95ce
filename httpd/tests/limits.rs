//! The accept loop's protections, on a real loopback socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use mdoc_httpd::{serve, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: Limits) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&peers);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        listener,
        limits,
        move |peer| {
            seen.lock().unwrap().push(peer);
            hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| async move {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(peer.to_string()))))
            })
        },
        async {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        peers,
        stop: Some(stop),
        task,
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Reads until the peer closes or `limit` passes; returns what came and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

fn limits(timeout_ms: u64, max_connections: usize) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(timeout_ms),
        max_connections,
        grace: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_read_timeout() {
    let server = start(limits(300, 16)).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "a slowloris connection must be closed");
    assert!(started.elapsed() < Duration::from_secs(3));
    // hyper answers 408 or just closes; never a 200 for half a request.
    assert!(!String::from_utf8_lossy(&got).contains(" 200 "));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_too() {
    let server = start(limits(300, 16)).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    let (got, closed) = read_until_closed(&mut client, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    assert!(
        closed,
        "an idle keep-alive connection must not be held forever"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_a_slot_frees() {
    let server = start(limits(60_000, 2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(server.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third.write_all(REQUEST).await.unwrap();
    let mut buf = [0u8; 256];
    let waited = tokio::time::timeout(Duration::from_millis(400), third.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "the third connection was served past the cap"
    );
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("a freed slot serves the waiting connection")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn the_service_is_made_with_the_peer_address() {
    let server = start(Limits::default()).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let local = client.local_addr().unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_until_closed(&mut client, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&got).ends_with(&local.to_string()));
    assert_eq!(server.peers.lock().unwrap().as_slice(), [local]);
}

#[tokio::test]
async fn after_shutdown_no_connection_is_accepted_and_the_loop_returns() {
    let mut server = start(limits(60_000, 16)).await;
    let mut open = TcpStream::connect(server.addr).await.unwrap();
    open.write_all(REQUEST).await.unwrap();
    let mut buf = [0u8; 256];
    let _ = open.read(&mut buf).await.unwrap();
    let _ = server.stop.take().unwrap().send(());
    // An idle keep-alive connection is closed by the graceful shutdown, well within grace.
    let result = tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("the loop returns after shutdown")
        .unwrap();
    assert!(result.is_ok());
    assert!(TcpStream::connect(server.addr).await.is_err());
}
