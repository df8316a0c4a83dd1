//! Cross-site request defences shared by forms, the JSON API and WebSockets: the `Origin`
//! check and the response headers every response carries.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

/// Whether a request's `Origin` (if any) is this server or one of the configured origins.
///
/// No `Origin` at all means a same-origin navigation or a non-browser client, neither of
/// which can be forged cross-site; `null` (sandboxed or privacy-stripped) is refused.
pub fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    origin_matches(origin, req.connection_info().host(), allowed)
}

/// The client's address: the peer's, or — when the peer is one of `trusted_proxies` — the
/// one the proxy reports in `Forwarded` / `X-Forwarded-For`.
pub fn client_address(req: &HttpRequest, trusted_proxies: &[std::net::IpAddr]) -> std::net::IpAddr {
    let unspecified = std::net::IpAddr::from([0, 0, 0, 0]);
    let peer = req.peer_addr().map_or(unspecified, |a| a.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let info = req.connection_info();
    info.realip_remote_addr()
        .and_then(|addr| {
            addr.parse::<std::net::SocketAddr>()
                .map(|a| a.ip())
                .or_else(|_| addr.trim_matches(['[', ']']).parse())
                .ok()
        })
        .unwrap_or(peer)
}

/// The pure comparison behind [`origin_allowed`]: the origin's `host[:port]` equals the
/// request's `Host`, or the origin is listed.
pub fn origin_matches(origin: &str, host: &str, allowed: &[String]) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Some(origin_host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_owned(),
    };
    let default_port = |h: &str| -> String {
        match url.scheme() {
            "https" => h.strip_suffix(":443").unwrap_or(h).to_owned(),
            _ => h.strip_suffix(":80").unwrap_or(h).to_owned(),
        }
    };
    if default_port(&host.to_ascii_lowercase()) == authority {
        return true;
    }
    let wanted = url.origin().ascii_serialization();
    allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&wanted))
}

/// The headers every response carries: a strict Content-Security-Policy (no inline script
/// but the import map, allowed by its hash; the YouTube IFrame API is the only foreign
/// script) and the usual hardening. Built once at start. Media comes from anywhere a
/// library link points: files straight into `<video>` (`media-src`), HLS streams fetched by
/// hls.js (`connect-src`, the same schemes) and handed to the element as a Media Source
/// (`blob:`). hls.js runs without a worker, so no `blob:` script is allowed.
pub struct SecurityHeaders {
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// `inline_scripts`: the hash sources (`'sha256-…'`) of the only inline scripts allowed.
    pub fn new(inline_scripts: &[String]) -> Self {
        let csp = format!(
            "default-src 'self'; script-src 'self' {} https://www.youtube.com https://s.ytimg.com; \
            frame-src https://www.youtube.com https://www.youtube-nocookie.com; \
            img-src 'self' data: https://i.ytimg.com; media-src 'self' https: http: blob:; \
            connect-src 'self' ws: wss: https: http:; style-src 'self'; object-src 'none'; base-uri 'none'; \
            form-action 'self'; frame-ancestors 'none'",
            inline_scripts.join(" ")
        );
        Self {
            // unwrap: hash sources are base64, the rest is the text above.
            csp: HeaderValue::from_str(&csp).expect("the policy is a valid header value"),
        }
    }

    /// Adds the headers a response does not set itself. A policy governs documents; a
    /// script or a stylesheet is never one, so theirs go without its half a kilobyte.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let subresource =
            content_type.starts_with("text/javascript") || content_type.starts_with("text/css");
        if !subresource && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        }
        let pairs = [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            // Invite keys live in URLs: other sites learn only our origin.
            (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        ];
        for (name, value) in pairs {
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
    }
}

/// Middleware body: adds [`SecurityHeaders`] (app data) to every response.
pub async fn add_headers<B>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    B: actix_web::body::MessageBody,
{
    let headers = req.app_data::<web::Data<SecurityHeaders>>().cloned();
    let mut res = next.call(req).await?;
    if let Some(headers) = headers {
        headers.apply(res.headers_mut());
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_own_origin_and_listed_ones_are_allowed() {
        let listed = vec!["https://watch.example.org".to_owned()];
        let table = [
            ("http://127.0.0.1:8080", "127.0.0.1:8080", true),
            ("https://wewatch.example", "wewatch.example", true),
            ("https://wewatch.example", "wewatch.example:443", true),
            ("http://wewatch.example", "wewatch.example:80", true),
            ("https://watch.example.org", "wewatch.example", true),
            ("https://watch.example.org/", "wewatch.example", true),
            ("http://evil.example", "127.0.0.1:8080", false),
            ("http://127.0.0.1:9999", "127.0.0.1:8080", false),
            (
                "http://127.0.0.1:8080.evil.example",
                "127.0.0.1:8080",
                false,
            ),
            ("null", "127.0.0.1:8080", false),
            ("file://", "127.0.0.1:8080", false),
        ];
        for (origin, host, ok) in table {
            assert_eq!(
                origin_matches(origin, host, &listed),
                ok,
                "{origin} vs {host}"
            );
        }
    }
}
