//! Logging through tracing-subscriber: to stdout always, and to a daily file in the log
//! directory unless that is empty (a platform collecting stdout needs no files); as text for
//! people or as JSON lines for log shippers (`[log] format`). And a request log that records
//! route patterns, never concrete paths — paths carry invite keys, which are secrets.

use std::future::{ready, Future, Ready};
use std::io::IsTerminal;
use std::pin::Pin;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use tracing::Subscriber;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Keep the guard, if any, alive: dropping it flushes the
/// file log.
pub fn init(settings: &LogSettings) -> std::io::Result<Option<WorkerGuard>> {
    let (file, guard) = match settings.file_dir() {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let file = tracing_appender::rolling::daily(dir, "wewatch.log");
            let (file, guard) = tracing_appender::non_blocking(file);
            (Some(layer(settings.format, file, false, true)), Some(guard))
        }
        None => (None, None),
    };
    // Colours only for a person at a terminal, never into a collector's stream.
    let ansi = std::io::stdout().is_terminal();
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(layer(settings.format, std::io::stdout, ansi, false))
        .with(file)
        .init();
    Ok(guard)
}

/// One destination's layer in `format`. JSON lines carry the event's fields at the top level
/// beside `timestamp`, `level`, `target` and `message`.
fn layer<S, W>(
    format: LogFormat,
    writer: W,
    ansi: bool,
    target: bool,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Text => base.with_ansi(ansi).with_target(target).boxed(),
        LogFormat::Json => base
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed(),
    }
}

/// Logs one line per request: method, route pattern, status, duration.
pub struct RequestLog;

impl<S, B> Transform<S, ServiceRequest> for RequestLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestLogService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestLogService { service }))
    }
}

pub struct RequestLogService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestLogService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = req.method().clone();
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "(unmatched)".into());
            if !route.starts_with("/static") {
                tracing::info!(
                    %method,
                    route,
                    status = res.status().as_u16(),
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "request"
                );
            }
            Ok(res)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the layer writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Self;

        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn log_with(format: LogFormat) -> String {
        let out = Captured::default();
        let subscriber =
            tracing_subscriber::registry().with(layer(format, out.clone(), false, true));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                method = "GET",
                route = "/watch/{invite_key}",
                status = 200,
                "request"
            );
            tracing::warn!(
                error = "a \"quoted\"\nmultiline cause",
                "cannot read the Redis clock"
            );
        });
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn json_logs_are_one_parseable_object_per_line_with_the_fields_on_top() {
        let text = log_with(LogFormat::Json);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "request");
        assert_eq!(lines[0]["route"], "/watch/{invite_key}");
        assert_eq!(lines[0]["status"], 200);
        assert!(lines[0]["timestamp"].is_string());
        assert_eq!(lines[1]["error"], "a \"quoted\"\nmultiline cause");
    }

    #[test]
    fn text_logs_are_plain_lines() {
        let text = log_with(LogFormat::Text);
        assert!(
            text.contains("request") && text.contains("route=\"/watch/{invite_key}\""),
            "{text}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).is_err());
    }
}
