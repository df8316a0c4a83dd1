//! The `wewatch` server: settings, logging, then the application until a shutdown signal.

use wewatch::config::Settings;
use wewatch::startup::Application;

/// jemalloc: an idle party connection's buffers cost only the pages written to, and freed
/// memory goes back to the system (docs/performance.md, "Memory per viewer").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("wewatch: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let _log_guard = match wewatch::telemetry::init(&settings.log) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!(
                "wewatch: cannot open the log directory {}: {err}",
                settings.log.dir.display()
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let host = settings.server.host.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = ?err, "cannot start");
            eprintln!("wewatch: {}", wewatch::error::one_line(&err));
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{host}:{}", app.port());
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
