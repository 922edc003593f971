//! Live sources: where profiles come from over the network. Normalizes what a user types
//! into heap and goroutine endpoint URLs, fetches profiles with a timeout and a size limit
//! (`http`), and keeps the snapshots taken in a store on disk with retention (`store`).
//! This is the only module of heapspot that does network IO.

mod error;
mod http;
mod store;
#[cfg(test)]
mod tests;

pub use error::{SourceError, SourceErrorKind};
pub use http::{fetch, FetchLimits};
pub use store::{Retention, SnapshotStore};

/// The kind of a profile taken from a live endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Heap,
    Goroutine,
}

impl Kind {
    /// Both kinds, heap first.
    pub const ALL: [Kind; 2] = [Kind::Heap, Kind::Goroutine];

    /// The pprof name of the profile: `heap` or `goroutine`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Heap => "heap",
            Kind::Goroutine => "goroutine",
        }
    }

    /// The kind named `heap` or `goroutine`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two URLs polled for one service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// `.../debug/pprof/heap`, with the query the user gave (`?gc=1`, ...).
    pub heap: String,
    /// `.../debug/pprof/goroutine`.
    pub goroutine: String,
}

impl Endpoint {
    /// The URL of one kind of profile.
    pub fn url(&self, kind: Kind) -> &str {
        match kind {
            Kind::Heap => &self.heap,
            Kind::Goroutine => &self.goroutine,
        }
    }
}

/// Normalizes what a user types into the heap and goroutine URLs of a service:
/// `http://host:port`, `host:port`, `.../debug/pprof`, `.../debug/pprof/heap` or
/// `.../debug/pprof/goroutine` (any path prefix before `pprof` is kept, for services that
/// mount pprof elsewhere; a path without a `pprof` segment is taken as such a prefix).
/// A query string stays on the profile the input named (on heap for the base forms), so
/// `?gc=1` or `?seconds=30` reach the server. Rejects schemes other than http(s), a
/// missing or malformed host or port, credentials in the URL, pprof profiles other than
/// heap and goroutine, and `debug=N` (the text format); the message names the input.
pub fn endpoint(input: &str) -> Result<Endpoint, SourceError> {
    let bad = |why: String| SourceError::bad_input(input, why);
    let text = input.trim();
    if text.is_empty() {
        return Err(bad(
            "no endpoint given (expected host:port or an http(s) URL)".into(),
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("an endpoint URL cannot contain spaces".into()));
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((s, rest)) => {
            let s = s.to_ascii_lowercase();
            if s != "http" && s != "https" {
                return Err(bad(format!(
                    "unsupported scheme `{s}` (only http and https endpoints can be polled)"
                )));
            }
            (s, rest)
        }
        None => ("http".to_string(), text),
    };
    // The fragment is never sent to a server.
    let rest = rest.split('#').next().unwrap_or_default();
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i..]),
        None => (before_query, ""),
    };
    let authority = parse_authority(authority).map_err(bad)?;
    if let Some(c) = path
        .chars()
        .chain(query.unwrap_or_default().chars())
        .find(|c| !is_url_char(*c))
    {
        return Err(bad(format!("`{c}` cannot appear in a URL unencoded")));
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (prefix, named) = match segments.iter().rposition(|s| *s == "pprof") {
        Some(i) if i + 1 == segments.len() => (&segments[..=i], Kind::Heap),
        Some(i) if i + 2 == segments.len() => match Kind::parse(segments[i + 1]) {
            Some(kind) => (&segments[..=i], kind),
            None => {
                return Err(bad(format!(
                    "`{}` is not a heap or goroutine profile endpoint (expected .../pprof/heap or .../pprof/goroutine)",
                    segments[i + 1]
                )))
            }
        },
        Some(_) => {
            return Err(bad(
                "the path goes on after the profile name (expected .../pprof/heap or .../pprof/goroutine)"
                    .into(),
            ))
        }
        None => (&segments[..], Kind::Heap),
    };
    let mut base = format!("{scheme}://{authority}");
    for s in prefix {
        base.push('/');
        base.push_str(s);
    }
    if prefix.last().is_none_or(|s| *s != "pprof") {
        base.push_str("/debug/pprof");
    }
    let query = match query {
        Some(q) if !q.is_empty() => {
            check_query(q).map_err(bad)?;
            format!("?{q}")
        }
        _ => String::new(),
    };
    let with = |kind: Kind| {
        let q = if kind == named { query.as_str() } else { "" };
        format!("{base}/{}{q}", kind.as_str())
    };
    Ok(Endpoint {
        heap: with(Kind::Heap),
        goroutine: with(Kind::Goroutine),
    })
}

/// Checks `host[:port]` or `[ipv6][:port]` and returns it as it should appear in a URL.
fn parse_authority(authority: &str) -> Result<String, String> {
    if authority.is_empty() {
        return Err("no host (expected host:port or an http(s) URL)".into());
    }
    if authority.contains('@') {
        return Err("credentials in the URL are not supported".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed `[` in an IPv6 host".to_string())?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("unexpected `{p}` after the IPv6 host"))?,
            ),
        };
        (format!("[{host}]"), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            // `:6060`, as in Go's `http.ListenAndServe(":6060", nil)`, is this machine.
            Some(("", p)) => ("localhost", Some(p)),
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            && !host.starts_with(['-', '.'])
            && !host.ends_with('-');
        if !host_ok {
            return Err(format!("`{host}` is not a host name or address"));
        }
        (host.to_string(), port)
    };
    match port {
        None => Ok(host),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => Ok(format!("{host}:{n}")),
            _ => Err(format!("`{p}` is not a port number (1-65535)")),
        },
    }
}

/// Characters a URL's path or query may hold as they are (RFC 3986 unreserved,
/// sub-delims, `:`, `@`, `/`, `?` and `%` of percent-escapes).
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c)
}

/// Rejects query parameters that make Go answer with text instead of a protobuf profile.
fn check_query(query: &str) -> Result<(), String> {
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "debug" && !matches!(value, "" | "0") {
            return Err(format!(
                "`debug={value}` asks for the text format; heapspot reads the protobuf profile (drop `debug=`)"
            ));
        }
    }
    Ok(())
}

/// A short, file-name-safe label of an endpoint: `host_port` (`127.0.0.1_6060`). The port
/// defaults to the scheme's (80, 443). Input that is not an endpoint is sanitized as it is.
pub fn slug(endpoint_or_url: &str) -> String {
    let text = endpoint_or_url.trim();
    let (https, rest) = match text.split_once("://") {
        Some((s, rest)) => (s.eq_ignore_ascii_case("https"), rest),
        None => (false, text),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let raw = match parse_authority(authority) {
        Ok(a) => {
            let has_port = match a.rfind(']') {
                Some(i) => a[i..].contains(':'),
                None => a.contains(':'),
            };
            if has_port {
                a
            } else {
                format!("{a}:{}", if https { 443 } else { 80 })
            }
        }
        Err(_) => text.to_string(),
    };
    let mut out: String = raw
        .chars()
        .filter(|c| !matches!(c, '[' | ']'))
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}
