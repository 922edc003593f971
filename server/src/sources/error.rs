//! Errors of live sources; each names the URL, endpoint or path it concerns.

use std::fmt;
use std::time::Duration;

use crate::profile::ProfileError;

/// What went wrong while normalizing an endpoint, fetching a profile or storing a
/// snapshot. `target()` is the URL, the endpoint as typed, or the file or directory.
#[derive(Debug)]
pub struct SourceError {
    target: String,
    kind: SourceErrorKind,
}

/// The classes of failure, for callers that react differently (retry, report once, ...).
#[derive(Debug)]
pub enum SourceErrorKind {
    /// The endpoint as typed cannot be polled.
    BadEndpoint(String),
    /// No connection could be made (refused, unreachable, unknown host).
    Connect(String),
    /// The whole request, body included, took longer than the limit.
    Timeout(Duration),
    /// The server answered with a status other than 200.
    Status {
        code: u16,
        /// The start of the response body, on one line (Go's pprof handler explains
        /// its errors there).
        body: String,
    },
    /// The response body is larger than the limit.
    TooLarge { limit: u64 },
    /// The body is not a pprof profile.
    NotAProfile {
        content_type: Option<String>,
        error: ProfileError,
    },
    /// Another HTTP failure (protocol error, TLS, redirect loop).
    Http(String),
    /// A file system operation failed.
    Io {
        what: &'static str,
        error: std::io::Error,
    },
    /// Another problem with a stored snapshot.
    Store(String),
}

impl SourceError {
    pub fn new(target: impl Into<String>, kind: SourceErrorKind) -> Self {
        Self {
            target: target.into(),
            kind,
        }
    }

    pub(crate) fn bad_input(input: &str, why: impl Into<String>) -> Self {
        Self::new(
            format!("`{input}`"),
            SourceErrorKind::BadEndpoint(why.into()),
        )
    }

    pub(crate) fn io(path: &std::path::Path, what: &'static str, error: std::io::Error) -> Self {
        Self::new(
            path.display().to_string(),
            SourceErrorKind::Io { what, error },
        )
    }

    /// The URL, endpoint or path the error concerns.
    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn kind(&self) -> &SourceErrorKind {
        &self.kind
    }

    /// Whether the failure is the network's or the server's (worth retrying later) rather
    /// than bad input or a local file system problem.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            SourceErrorKind::Connect(_)
                | SourceErrorKind::Timeout(_)
                | SourceErrorKind::Status { .. }
                | SourceErrorKind::Http(_)
        )
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.target;
        match &self.kind {
            SourceErrorKind::BadEndpoint(why) => write!(f, "bad endpoint {t}: {why}"),
            SourceErrorKind::Connect(why) => write!(f, "{t}: cannot connect: {why}"),
            SourceErrorKind::Timeout(d) => write!(
                f,
                "{t}: no complete answer within {} (timed out)",
                seconds(*d)
            ),
            SourceErrorKind::Status { code, body } if body.is_empty() => {
                write!(f, "{t}: HTTP status {code}")
            }
            SourceErrorKind::Status { code, body } => write!(f, "{t}: HTTP status {code}: {body}"),
            SourceErrorKind::TooLarge { limit } => {
                write!(
                    f,
                    "{t}: the response is larger than the limit of {limit} bytes"
                )
            }
            SourceErrorKind::NotAProfile {
                content_type,
                error,
            } => {
                write!(f, "{t}: the response is not a pprof profile")?;
                if let Some(ct) = content_type {
                    write!(f, " (content type {ct})")?;
                }
                // The profile error names its input (the URL) itself.
                match error.to_string().strip_prefix(&format!("{t}: ")) {
                    Some(rest) => write!(f, ": {rest}"),
                    None => write!(f, ": {error}"),
                }
            }
            SourceErrorKind::Http(why) => write!(f, "{t}: {why}"),
            SourceErrorKind::Io { what, error } => write!(f, "{t}: cannot {what}: {error}"),
            SourceErrorKind::Store(why) => write!(f, "{t}: {why}"),
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SourceErrorKind::Io { error, .. } => Some(error),
            SourceErrorKind::NotAProfile { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}
