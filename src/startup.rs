//! The application: connects to Redis, wires the shared state, binds, and owns the route
//! table. Tests build it exactly as `main` does, on port 0.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, Condition};
use actix_web::{web, App, HttpServer};
use tera::Tera;

use crate::assets::Assets;
use crate::config::Settings;
use crate::handlers;
use crate::identity::{self, Identities, IdentityPolicy, Signer};
use crate::managers::Managers;
use crate::metrics::{Metrics, RecordRequests, ScriptTimer};
use crate::realtime::node::{Node, Work as NodeWork};
use crate::realtime::session::SessionContext;
use crate::realtime::{self, Hub};
use crate::security::{self, SecurityHeaders};
use crate::state::AppState;

/// How often the node re-measures its offset to the Redis clock.
const CLOCK_CALIBRATION_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to Redis")]
    Store(#[source] crate::managers::store::ConnectError),
    #[error("cannot move the stored data to the current key layout")]
    Layout(#[source] crate::managers::StoreError),
    #[error("cannot read the Redis clock")]
    Clock(#[source] crate::managers::StoreError),
    #[error("cannot register the node")]
    Register(#[source] crate::managers::StoreError),
    #[error("cannot subscribe to party events")]
    Subscribe(#[source] redis::RedisError),
    #[error("cannot load the templates")]
    Templates(#[source] tera::Error),
    #[error("cannot read the static files")]
    Assets(#[source] std::io::Error),
    #[error("cannot bind {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    hub: Arc<Hub>,
    node: Arc<Node>,
    draining: Arc<std::sync::atomic::AtomicBool>,
    /// Viewers are told to reconnect over this long when the node stops.
    drain: Duration,
    /// The listener that serves only `/metrics`, when `[metrics] port` is set.
    metrics_listener: Option<(u16, Server)>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let mut store = crate::managers::store::connect(&settings.redis)
            .await
            .map_err(StartupError::Store)?;
        let metrics = Arc::new(Metrics::new());
        if settings.metrics.enabled() {
            store.conn.time_scripts(Arc::new(ScriptTimer::new(
                &metrics,
                crate::managers::scripts::ALL.iter().copied(),
            )));
        }
        let conn = store.conn.clone();
        let managers = Managers::new(store.conn, &settings);
        crate::managers::layout::upgrade(&conn, &managers.keys)
            .await
            .map_err(StartupError::Layout)?;
        managers
            .clock
            .calibrate(&conn)
            .await
            .map_err(StartupError::Clock)?;
        let clock = managers.clock.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLOCK_CALIBRATION_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(err) = clock.calibrate(&conn).await {
                    tracing::warn!(error = %err, "cannot read the Redis clock");
                }
            }
        });

        let hub = Arc::new(Hub::new(
            Duration::from_secs(settings.realtime.heartbeat_interval_secs),
            Duration::from_secs(settings.realtime.client_timeout_secs),
            Duration::from_millis(settings.realtime.away_after_ms),
            metrics.clone(),
        ));
        let subscriptions = realtime::subscriber::start(
            store.pubsub,
            managers.health.clone(),
            managers.keys.clone(),
            hub.clone(),
        )
        .await
        .map_err(StartupError::Subscribe)?;
        realtime::hub::relay_store_status(&managers.health, &hub);

        let roster = realtime::roster::Roster::start(
            managers.party.clone(),
            realtime::roster::Pacing {
                delay: Duration::from_millis(settings.realtime.viewer_list_delay_ms),
                limit: settings.realtime.viewer_list_max,
                frames_per_sec: settings.realtime.viewer_list_frames_per_sec,
            },
        );
        let assets = Arc::new(Assets::load(Path::new("static")).map_err(StartupError::Assets)?);
        let mut tera = Tera::new("templates/**/*.html").map_err(StartupError::Templates)?;
        assets.register(&mut tera);
        let security = web::Data::new(SecurityHeaders::new(&[assets.import_map_source()]));
        let node = Node::register(managers.nodes.clone(), settings.nodes.clone())
            .await
            .map_err(StartupError::Register)?;
        node.start(NodeWork {
            managers: managers.clone(),
            hub: hub.clone(),
            roster: roster.clone(),
            subscriptions: subscriptions.clone(),
            chat: settings.chat.clone(),
        });
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();
        let metrics_listener = match settings.metrics.port {
            Some(metrics_port) => Some(serve_metrics(
                &settings.metrics.address,
                metrics_port,
                metrics.clone(),
            )?),
            None => None,
        };

        let settings = Arc::new(settings);
        let sessions = Arc::new(SessionContext {
            connections: realtime::connections::Connections::new(
                settings.realtime.max_connections_per_address,
                settings.realtime.max_connections_per_user,
                metrics.connections.clone(),
            ),
            managers: managers.clone(),
            hub: hub.clone(),
            subscriptions,
            settings: settings.realtime.clone(),
            chat: settings.chat.clone(),
            node: node.clone(),
            max_title_chars: settings.library.max_title_chars,
            wait_limit: Duration::from_secs(settings.sync.wait_limit_secs),
            stall_window: Duration::from_secs(settings.sync.stall_window_secs),
            stall_budget: Duration::from_secs(settings.sync.stall_budget_secs),
            roster,
            metrics: metrics.clone(),
        });
        let signer = Signer::new(settings.secret().clone());
        let identities = web::Data::new(Identities {
            signer: signer.clone(),
            users: managers.users.clone(),
            policy: IdentityPolicy::from_settings(&settings),
        });
        let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = web::Data::new(AppState {
            managers,
            tera,
            signer,
            settings: settings.clone(),
            draining: draining.clone(),
            metrics,
        });
        let shared = Shared {
            state,
            identities,
            sessions,
            assets: web::Data::from(assets),
            security,
        };
        let server = serve(listener, shared).map_err(|source| StartupError::Bind {
            address: format!("port {port}"),
            source,
        })?;
        Ok(Self {
            port,
            server,
            hub,
            node,
            draining,
            drain: Duration::from_millis(settings.nodes.drain_ms),
            metrics_listener,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the listener that serves only `/metrics`, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener.as_ref().map(|(port, _)| *port)
    }

    /// Serves until Ctrl-C or SIGTERM, then stops gracefully: takes no new party connections
    /// (and `/readyz` answers 503), tells every viewer to reconnect (close 1001), each at a
    /// random moment within `[nodes] drain_ms`, drains open requests, and leaves the node
    /// registry once its viewers' presence is gone.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.hub.clone();
        let (draining, drain) = (self.draining.clone(), self.drain);
        let metrics_handle = self.metrics_listener.map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!(connections = hub.connections(), "shutting down");
            // Still answering (so load balancers see /readyz fail and requests under way
            // finish), but refusing new party connections.
            draining.store(true, std::sync::atomic::Ordering::Relaxed);
            let reason = realtime::protocol::CloseReason::ServerShutdown;
            hub.broadcast_all(realtime::Event::Drain {
                frame: realtime::protocol::ServerMessage::closed(reason)
                    .to_json()
                    .into(),
                reason,
                within: drain,
            });
            // Let the sessions send their close frames and remove their presence before
            // the workers stop.
            let deadline = tokio::time::Instant::now() + drain + Duration::from_secs(2);
            while hub.connections() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            handle.stop(true).await;
            if let Some(metrics) = metrics_handle {
                metrics.stop(true).await;
            }
        });
        let served = self.server.await;
        self.node.deregister().await;
        served
    }
}

/// What every worker's App shares.
struct Shared {
    state: web::Data<AppState>,
    identities: web::Data<Identities>,
    sessions: Arc<SessionContext>,
    /// The static files' fingerprints, for their cache policy.
    assets: web::Data<Assets>,
    security: web::Data<SecurityHeaders>,
}

/// Runs the application on `listener`, with one App per worker thread. Party WebSockets
/// are upgraded by their route (actix-ws) and run on the worker that accepted them.
/// Responses are compressed (brotli or gzip, as the client accepts) unless they are media
/// or already name their encoding.
fn serve(listener: TcpListener, shared: Shared) -> std::io::Result<Server> {
    let Shared {
        state,
        identities,
        sessions,
        assets,
        security,
    } = shared;
    let settings = state.settings.clone();
    let body_limit = settings.server.max_body_bytes;
    let sessions = web::Data::from(sessions);
    let stalled_after = Duration::from_secs(settings.realtime.client_timeout_secs);
    let metrics_on = settings.metrics.enabled();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(identities.clone())
            .app_data(sessions.clone())
            .app_data(assets.clone())
            .app_data(security.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(body_limit)
                    .error_handler(handlers::form_error),
            )
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(handlers::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(handlers::path_error))
            .wrap(from_fn(identity::attach_cookie))
            .wrap(crate::telemetry::RequestLog)
            .wrap(Condition::new(
                metrics_on,
                RecordRequests::new(state.metrics.clone()),
            ))
            .wrap(from_fn(security::add_headers))
            .wrap(Compress::default())
            .configure(handlers::configure)
    })
    .on_connect(move |conn, _| cut_off_after(conn, stalled_after))
    .max_connections(settings.server.max_connections_per_worker)
    // Party sockets hand actix-ws small pieces (`realtime::socket`); with this the HTTP/1
    // write buffer of a connection never grows past the 8 KiB it starts with.
    .h1_write_buffer_size(realtime::socket::WRITE_BUFFER)
    // Party events are small frames that must leave at once: no Nagle batching.
    .tcp_nodelay(true)
    .client_disconnect_timeout(Duration::from_millis(settings.server.linger_ms))
    .disable_signals()
    .shutdown_timeout(settings.server.shutdown_timeout_secs);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.listen(listener)?.run())
}

/// Binds the listener that serves only `GET /metrics` (one worker: rendering is cheap, and
/// a scraper asks every few seconds), and returns its port.
fn serve_metrics(
    host: &str,
    port: u16,
    metrics: Arc<Metrics>,
) -> Result<(u16, Server), StartupError> {
    let address = format!("{host}:{port}");
    let failed = |source| StartupError::Bind {
        address: address.clone(),
        source,
    };
    let listener = TcpListener::bind(&address).map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    tracing::info!("serving metrics on http://{host}:{port}/metrics");
    let metrics = web::Data::from(metrics);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .route("/metrics", web::get().to(handlers::metrics::open_metrics))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .map_err(failed)?
    .run();
    Ok((port, server))
}

/// Has the kernel cut a connection whose client has taken none of our bytes for `after`
/// (TCP_USER_TIMEOUT also covers a window held shut). A client that sends and never reads
/// cannot keep a connection, or the buffers behind it, however the server is busy with it.
fn cut_off_after(conn: &dyn std::any::Any, after: Duration) {
    if let Some(tcp) = conn.downcast_ref::<tokio::net::TcpStream>() {
        if let Err(err) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(after)) {
            tracing::warn!(error = %err, "cannot set TCP_USER_TIMEOUT on a connection");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
