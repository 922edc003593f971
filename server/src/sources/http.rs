//! Fetching one profile over HTTP(S): a blocking GET with an end-to-end timeout and a size
//! limit, whose body must decode as a pprof profile. Callers on an async runtime run it on
//! a blocking thread.

use std::io::Read;
use std::time::Duration;

use super::error::{SourceError, SourceErrorKind};
use crate::profile::{Limits, Profile};

/// Bounds on one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// The whole exchange (connect, request, headers and body) must finish within this.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_bytes: 256 << 20,
        }
    }
}

/// How much of an error response's body is quoted in the message.
const ERROR_BODY_QUOTE: usize = 200;

/// Fetches `url` (http or https) and returns the raw body, which decodes as a pprof
/// profile (gzip'd or raw). Redirects are followed; proxies from the environment
/// (`HTTP_PROXY`, `NO_PROXY`, ...) are used except for loopback hosts. Every failure names
/// the URL: no connection, a timeout, a status other than 200, a body over
/// `limits.max_bytes`, or a body that is not a profile (an HTML page, a text profile).
pub fn fetch(url: &str, limits: &FetchLimits) -> Result<Vec<u8>, SourceError> {
    let err = |kind: SourceErrorKind| SourceError::new(url, kind);
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(SourceError::bad_input(
            url,
            "only http and https URLs can be fetched",
        ));
    }
    let proxy = if is_loopback(url) {
        None
    } else {
        ureq::Proxy::try_from_env()
    };
    // Named in connection errors, which are then the proxy's as much as the server's.
    let via = proxy
        .as_ref()
        .filter(|p| {
            url.parse::<ureq::http::Uri>()
                .map_or(true, |u| !p.is_no_proxy(&u))
        })
        .map(|p| format!("{}:{}", p.host(), p.port()));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(limits.timeout))
        .max_redirects(5)
        .user_agent(concat!("heapspot/", env!("CARGO_PKG_VERSION")))
        .max_idle_connections(0)
        .proxy(proxy)
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| {
        err(match (classify(e, limits.timeout), &via) {
            (SourceErrorKind::Connect(why), Some(via)) => {
                SourceErrorKind::Connect(format!("{why} (through the proxy {via})"))
            }
            (kind, _) => kind,
        })
    })?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = response.into_body().into_reader();
    if status != 200 {
        let mut quote = Vec::new();
        // The quote is best effort: a body that fails to arrive leaves it short.
        let _ = (&mut body)
            .take(ERROR_BODY_QUOTE as u64 * 4)
            .read_to_end(&mut quote);
        return Err(err(SourceErrorKind::Status {
            code: status,
            body: one_line(&quote),
        }));
    }
    if declared.is_some_and(|n| n > limits.max_bytes) {
        return Err(err(SourceErrorKind::TooLarge {
            limit: limits.max_bytes,
        }));
    }
    let mut bytes = Vec::new();
    (&mut body)
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| err(classify_io(e, limits.timeout)))?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(err(SourceErrorKind::TooLarge {
            limit: limits.max_bytes,
        }));
    }
    check_profile(url, &bytes).map_err(|error| {
        err(SourceErrorKind::NotAProfile {
            content_type,
            error,
        })
    })?;
    Ok(bytes)
}

/// Decodes the whole profile, samples included, so a truncated body is caught here.
fn check_profile(url: &str, bytes: &[u8]) -> Result<(), crate::profile::ProfileError> {
    let profile = Profile::from_bytes(url, bytes, Limits::default())?;
    profile.for_each_sample(|_, _| {})
}

fn classify(e: ureq::Error, timeout: Duration) -> SourceErrorKind {
    match e {
        ureq::Error::Timeout(_) => SourceErrorKind::Timeout(timeout),
        // Before a response, an IO failure is most often the connection itself (a name
        // that does not resolve, a reset during the handshake).
        ureq::Error::Io(io) => match classify_io(io, timeout) {
            SourceErrorKind::Http(why) => SourceErrorKind::Connect(why),
            other => other,
        },
        ureq::Error::HostNotFound => SourceErrorKind::Connect("host not found".into()),
        ureq::Error::ConnectionFailed => SourceErrorKind::Connect("connection failed".into()),
        ureq::Error::BodyExceedsLimit(limit) => SourceErrorKind::TooLarge { limit },
        other => SourceErrorKind::Http(other.to_string()),
    }
}

fn classify_io(e: std::io::Error, timeout: Duration) -> SourceErrorKind {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref().and_then(|x| x.downcast_ref::<ureq::Error>()) {
        match inner {
            ureq::Error::Timeout(_) => return SourceErrorKind::Timeout(timeout),
            ureq::Error::BodyExceedsLimit(limit) => {
                return SourceErrorKind::TooLarge { limit: *limit }
            }
            _ => return SourceErrorKind::Http(inner.to_string()),
        }
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => SourceErrorKind::Timeout(timeout),
        K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::NotConnected
        | K::AddrNotAvailable => SourceErrorKind::Connect(e.to_string()),
        K::UnexpectedEof => {
            SourceErrorKind::Http("the connection closed before the response was complete".into())
        }
        _ => SourceErrorKind::Http(e.to_string()),
    }
}

/// The start of an error body as one line of printable text.
fn one_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= ERROR_BODY_QUOTE {
            break;
        }
    }
    if out.chars().count() > ERROR_BODY_QUOTE {
        out = out.chars().take(ERROR_BODY_QUOTE).collect();
        out.push('…');
    }
    out.chars().filter(|c| !c.is_control()).collect()
}

/// Whether the URL's host is this machine (proxies are skipped for it).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:6060/debug/pprof/heap"));
        assert!(is_loopback("http://localhost/debug"));
        assert!(is_loopback("http://[::1]:80/"));
        assert!(!is_loopback("http://10.0.0.1:6060/"));
        assert!(!is_loopback("https://example.com/debug/pprof/heap"));
    }

    #[test]
    fn error_quotes_are_one_short_line() {
        assert_eq!(one_line(b"Unknown profile: x\n"), "Unknown profile: x");
        let long = "word ".repeat(200);
        let q = one_line(long.as_bytes());
        assert_eq!(q.chars().count(), ERROR_BODY_QUOTE + 1);
        assert!(q.ends_with('…'));
    }
}
