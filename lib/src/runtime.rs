//! The process runtime: configuration → telemetry → adapters → serve. The same binary serves
//! plain HTTP on `$HOST:$PORT` (Kubernetes, compose, a laptop) or runs under AWS Lambda through
//! `lambda_http` when `AWS_LAMBDA_RUNTIME_API` is set. SIGTERM/Ctrl-C drain in-flight requests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::sync::Notify;

use std::time::Duration;

use crate::app::TaskService;
use crate::app::events::{Consumers, Failing, InProcessPublisher, Notifier, Relay};
use crate::config::{Config, Defaults};
use crate::domain::OwnerId;
use crate::events::dapr::DaprClient;
use crate::events::memory::MemoryIdempotencyStore;
use crate::http::{self, AppState, Function, ServiceOptions};
use crate::ports::{IdempotencyStore, Publisher};
use crate::storage::Stores;

/// Defaults of a function binary: every interface, port 8080 (containers).
pub const FUNCTION_DEFAULTS: Defaults = Defaults {
    port: 8080,
    host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
};
/// Defaults of the all-in-one server: loopback only (there is no authentication yet), port 8000.
pub const ALL_IN_ONE_DEFAULTS: Defaults = Defaults {
    port: 8000,
    host: IpAddr::V4(Ipv4Addr::LOCALHOST),
};

/// How a process's event side is wired.
pub struct Wiring {
    /// CloudEvents `source` of the events this process writes.
    pub source: &'static str,
    /// The sidecar, in the distributed mode; `None` for in-process events.
    pub dapr: Option<DaprClient>,
    /// `APP_API_TOKEN`.
    pub app_api_token: Option<String>,
    /// `LIST_CACHE_BYTES`: memory for rendered list pages and tasks.
    pub list_cache_bytes: usize,
}

/// Builds the handlers' state from the stores: in-process events and idempotency records (in
/// the database when it is shared, PostgreSQL; in memory for SQLite) when there is no sidecar,
/// Dapr pub/sub and state store when there is one.
pub fn assemble(stores: Stores, wiring: Wiring) -> AppState {
    let signal = Arc::new(Notify::new());
    let tasks = TaskService::new(stores.tasks, wiring.source, signal.clone())
        .with_page_cache(wiring.list_cache_bytes);
    let notifier: Option<Arc<dyn Notifier>> = wiring
        .dapr
        .as_ref()
        .filter(|d| d.has_binding())
        .map(|d| Arc::new(d.clone()) as Arc<dyn Notifier>);
    let consumers = Consumers::new(
        stores.events.clone(),
        wiring.source,
        signal.clone(),
        notifier.is_some(),
    );
    let (publisher, idempotency): (Arc<dyn Publisher>, Arc<dyn IdempotencyStore>) =
        match &wiring.dapr {
            Some(d) => (Arc::new(d.clone()), Arc::new(d.clone())),
            None => (
                Arc::new(InProcessPublisher::new(consumers.clone())),
                stores
                    .idempotency
                    .clone()
                    .unwrap_or_else(|| Arc::new(MemoryIdempotencyStore::default())),
            ),
        };
    let relay = Relay::new(stores.events.clone(), publisher, signal);
    AppState {
        tasks,
        owner: OwnerId::local(),
        events: stores.events,
        consumers,
        relay,
        idempotency,
        notifier,
        app_api_token: wiring.app_api_token.map(Arc::from),
        source: wiring.source,
    }
}

/// Starts the background work of a process: the outbox relay, and (with in-process events) the
/// reminder scheduler and notification delivery, which a Dapr cron binding drives otherwise.
pub fn spawn_background(state: &AppState, in_process: bool, reminder_every: Duration) {
    state.relay.clone().spawn(Duration::from_secs(2));
    if in_process {
        let s = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(reminder_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut scans, mut deliveries) = (Failing::default(), Failing::default());
            loop {
                tick.tick().await;
                let scan =
                    crate::app::events::fire_reminders(&s.events, s.source, s.relay.signal()).await;
                scans.record(scan.err(), "reminder scan", std::time::Instant::now());
                if let Some(n) = &s.notifier {
                    let sent =
                        crate::app::events::deliver_notifications(&s.events, n.as_ref()).await;
                    deliveries.record(
                        sent.err(),
                        "notification delivery",
                        std::time::Instant::now(),
                    );
                }
            }
        });
    }
}

/// Opens storage, wires the event side from the configuration and starts background work.
pub async fn build_state(cfg: &Config, source: &'static str) -> anyhow::Result<AppState> {
    if cfg.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating DATA_DIR {}", cfg.data_dir.display()))?;
    }
    let stores = crate::storage::open(&cfg.database_url, cfg.db_max_connections)
        .await
        .with_context(|| {
            format!(
                "opening the database {} (DATABASE_URL; without it, the SQLite file in DATA_DIR)",
                crate::storage::redact_url(&cfg.database_url)
            )
        })?;
    if let Some(file) = crate::storage::sqlite::file_of(&cfg.database_url) {
        tracing::info!(file = %file.display(), "SQLite database");
    }
    let dapr = cfg
        .dapr_endpoint
        .as_deref()
        .map(|e| DaprClient::new(e, cfg.dapr_api_token.clone(), cfg.notify_binding.clone()));
    let in_process = dapr.is_none();
    let state = assemble(
        stores,
        Wiring {
            source,
            dapr,
            app_api_token: cfg.app_api_token.clone(),
            list_cache_bytes: cfg.list_cache_bytes,
        },
    );
    spawn_background(&state, in_process, cfg.reminder_interval);
    Ok(state)
}

fn service_options(cfg: &Config) -> ServiceOptions {
    ServiceOptions {
        body_limit: Some(cfg.max_body_bytes),
        cors_origins: cfg.cors_origins.clone(),
        ui_dir: None,
    }
}

/// Runs one function binary: its own routes plus `GET /health`.
pub async fn run(function: Function) -> anyhow::Result<()> {
    let cfg = Config::from_env(&FUNCTION_DEFAULTS)?;
    crate::telemetry::init(cfg.log_format);
    let state = build_state(&cfg, function.name).await?;
    if function.name == http::on_task_event::FUNCTION.name && cfg.app_api_token.is_none() {
        // Compose, dev/up.sh and the Helm chart all set one; a hand-started consumer may not.
        tracing::warn!(
            "APP_API_TOKEN is not set: the event and cron routes act on requests from anyone who can reach this port; set it to the token daprd sends"
        );
    }
    let relay = state.relay.clone();
    let app = http::service((function.routes)(), state, &service_options(&cfg));
    serve(app, &cfg, function.name).await?;
    relay.drain(RELAY_DRAIN).await;
    Ok(())
}

/// After the server has stopped, how long the outbox relay may take to finish its pass and
/// publish what the last requests wrote.
const RELAY_DRAIN: Duration = Duration::from_secs(5);

/// Runs the all-in-one server: every function's routes, the API docs and the web UI.
pub async fn run_all_in_one() -> anyhow::Result<()> {
    let cfg = Config::from_env(&ALL_IN_ONE_DEFAULTS)?;
    crate::telemetry::init(cfg.log_format);
    let state = build_state(&cfg, "todo").await?;
    let relay = state.relay.clone();
    let app = all_in_one_router(&cfg, state);
    serve(app, &cfg, "todo").await?;
    relay.drain(RELAY_DRAIN).await;
    Ok(())
}

/// The all-in-one router (also used by tests).
pub async fn all_in_one_app(cfg: &Config) -> anyhow::Result<Router> {
    let state = build_state(cfg, "todo").await?;
    Ok(all_in_one_router(cfg, state))
}

fn all_in_one_router(cfg: &Config, state: AppState) -> Router {
    let mut routes = Router::new();
    for f in http::ALL_FUNCTIONS {
        routes = routes.merge((f.routes)());
    }
    let opts = ServiceOptions {
        ui_dir: Some(cfg.ui_dir.clone()),
        ..service_options(cfg)
    };
    http::service(routes, state, &opts)
}

/// Serves `app` on `$HOST:$PORT`, or as a Lambda function when `AWS_LAMBDA_RUNTIME_API` is set.
pub async fn serve(app: Router, cfg: &Config, name: &str) -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!(function = name, "running on the Lambda runtime API");
        return lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"));
    }
    let addr = SocketAddr::new(cfg.host, cfg.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    // One line on stdout for scripts and tests that start the process on port 0.
    println!("{name} listening on http://{local}");
    tracing::info!(function = name, %local, config = ?cfg, "ready");
    serve_http(listener, app, ServeLimits::default(), shutdown_signal()).await;
    tracing::info!(function = name, "stopped");
    Ok(())
}

/// How long the HTTP server waits for slow or stuck clients.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A request's headers must arrive within this (also how long an idle keep-alive
    /// connection stays open): a client that sends half a request cannot hold a connection.
    pub header_read: Duration,
    /// After the shutdown signal, in-flight requests get this long to finish; connections still
    /// open then are closed, so a stuck client cannot keep the process from stopping.
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        // hyper runs this deadline from the moment it waits for a request's first byte, so it
        // also closes idle keep-alive connections. The callers should close idle connections
        // first (one that reuses a connection just as the server closes it fails that request):
        // our nginx gateway keeps them 30 s, nginx and ingress-nginx 60 s by default, daprd (Go's
        // default transport) 90 s; Envoy-based gateways keep them up to an hour by default, so
        // there a rare request may meet a connection closing after 2 idle minutes. Before this
        // deadline there was none, and a client that sent half a request held its connection
        // for good. The drain stays inside Kubernetes' default 30 s grace period.
        Self {
            header_read: Duration::from_secs(120),
            drain: Duration::from_secs(10),
        }
    }
}

/// Serves `app` over HTTP/1.1 on `listener` until `shutdown` completes, then drains (see
/// [`ServeLimits`]). Request bodies have their own deadline (`http::BODY_READ_TIMEOUT`).
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Per-connection failures (reset before accept) need no pause; running out
                    // of file descriptors does, or the loop would spin.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                    ) {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(|req: hyper::Request<hyper::body::Incoming>| {
                req.map(axum::body::Body::new)
            });
        let conn = http1.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!(after = ?limits.drain, "connections still open after the drain deadline; closing them");
        }
    }
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
        () = ctrl_c => {},
        () = term => {},
    }
}
