//! The HTTP server loop over real loopback sockets: a client that sends half a request cannot
//! hold a connection or keep the process from stopping.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tasks::runtime::{ServeLimits, serve_http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Running {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(limits: ServeLimits) -> Running {
    start_with(limits, Router::new()).await
}

async fn start_with(limits: ServeLimits, routes: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = routes.route("/health", get(|| async { "ok" }));
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve_http(listener, app, limits, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        done,
    }
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(conn: &mut TcpStream, within: Duration) -> Option<String> {
    let mut buf = Vec::new();
    match tokio::time::timeout(within, conn.read_to_end(&mut buf)).await {
        Ok(_) => Some(String::from_utf8_lossy(&buf).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_request_whose_headers_never_finish_is_cut_off() {
    let server = start(ServeLimits {
        header_read: Duration::from_millis(300),
        drain: Duration::from_secs(5),
    })
    .await;
    // The server's deadline starts after the connection is accepted, so after this instant.
    let started = Instant::now();
    let mut conn = TcpStream::connect(server.addr).await.expect("connect");
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    assert!(
        read_to_close(&mut conn, Duration::from_secs(5))
            .await
            .is_some(),
        "the half-sent request still holds its connection after 5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A whole request on a new connection is still served.
    let mut ok = TcpStream::connect(server.addr).await.expect("connect");
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let resp = read_to_close(&mut ok, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

#[tokio::test]
async fn a_stuck_client_cannot_keep_the_server_from_stopping() {
    // A request whose handler never answers (as a client that never finishes sending would
    // hold its connection): it tells the test when it is running.
    let (running_tx, running) = oneshot::channel::<()>();
    let running_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(running_tx)));
    let hang = get(move || {
        let running_tx = running_tx.clone();
        async move {
            if let Some(tx) = running_tx.lock().expect("lock").take() {
                let _ = tx.send(());
            }
            std::future::pending::<&'static str>().await
        }
    });
    let mut server = start_with(
        ServeLimits {
            header_read: Duration::from_secs(60),
            drain: Duration::from_millis(500),
        },
        Router::new().route("/hang", hang),
    )
    .await;
    let mut stuck = TcpStream::connect(server.addr).await.expect("connect");
    stuck
        .write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the request reached its handler")
        .expect("signal");
    let started = Instant::now();
    let _ = server.stop.take().expect("once").send(());
    tokio::time::timeout(Duration::from_secs(5), server.done)
        .await
        .expect("stopped within the drain deadline")
        .expect("no panic");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "drained for {took:?}");
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_delay_a_stop() {
    let mut server = start(ServeLimits {
        header_read: Duration::from_secs(60),
        drain: Duration::from_secs(10),
    })
    .await;
    let mut conn = TcpStream::connect(server.addr).await.expect("connect");
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 256];
    let n = conn.read(&mut buf).await.expect("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // The connection is idle and kept alive; a stop closes it at once.
    let started = Instant::now();
    let _ = server.stop.take().expect("once").send(());
    tokio::time::timeout(Duration::from_secs(5), server.done)
        .await
        .expect("stopped")
        .expect("no panic");
    assert!(started.elapsed() < Duration::from_secs(2));
}
