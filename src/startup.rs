//! The application: connects to Redis, wires the shared state, binds, and owns the route
//! table. Tests build it exactly as `main` does, on port 0.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use tera::Tera;

use crate::assets::Assets;
use crate::config::Settings;
use crate::handlers;
use crate::identity::{self, Identities, IdentityPolicy, Signer};
use crate::managers::Managers;
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
    #[error("cannot read the Redis clock")]
    Clock(#[source] crate::managers::StoreError),
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
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = crate::managers::store::connect(&settings.redis)
            .await
            .map_err(StartupError::Store)?;
        let conn = store.conn.clone();
        let managers = Managers::new(store.conn, &settings);
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
        ));
        realtime::subscriber::start(
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
        let mut node = [0u8; 6];
        rand::rng().fill_bytes(&mut node);
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();

        let node_id: Arc<str> = URL_SAFE_NO_PAD.encode(node).into();
        let settings = Arc::new(settings);
        let sessions = Arc::new(SessionContext {
            connections: realtime::connections::Connections::new(
                settings.realtime.max_connections_per_address,
                settings.realtime.max_connections_per_user,
            ),
            managers: managers.clone(),
            hub: hub.clone(),
            settings: settings.realtime.clone(),
            chat: settings.chat.clone(),
            node_id,
            max_title_chars: settings.library.max_title_chars,
            wait_limit: Duration::from_secs(settings.sync.wait_limit_secs),
            roster,
        });
        let signer = Signer::new(settings.secret().clone());
        let identities = web::Data::new(Identities {
            signer: signer.clone(),
            users: managers.users.clone(),
            policy: IdentityPolicy::from_settings(&settings),
        });
        let state = web::Data::new(AppState {
            managers,
            tera,
            signer,
            settings: settings.clone(),
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
        Ok(Self { port, server, hub })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until Ctrl-C or SIGTERM, then tells every viewer to reconnect elsewhere and
    /// drains open requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.hub.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!(connections = hub.connections(), "shutting down");
            hub.broadcast_all(realtime::Event::Close {
                frame: realtime::protocol::ServerMessage::closed(
                    realtime::protocol::CloseReason::ServerShutdown,
                )
                .to_json()
                .into(),
                reason: realtime::protocol::CloseReason::ServerShutdown,
            });
            // Let the sessions send their close frames before the workers stop.
            tokio::time::sleep(Duration::from_millis(300)).await;
            handle.stop(true).await;
        });
        self.server.await
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
