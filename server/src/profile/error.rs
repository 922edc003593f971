//! Errors raised while reading a profile; each names the input it came from.

use std::fmt;

/// What went wrong with one profile input. `input` names the file, URL or label
/// the bytes came from so the message stands on its own in a terminal or editor.
#[derive(Debug)]
pub struct ProfileError {
    pub input: String,
    pub kind: ErrorKind,
}

/// The classes of failure a profile reader distinguishes.
#[derive(Debug)]
pub enum ErrorKind {
    /// The file could not be read.
    Io(std::io::Error),
    /// The input is larger than a configured limit.
    TooLarge { what: &'static str, limit: u64 },
    /// The gzip stream is corrupt or ends early.
    Gzip(std::io::Error),
    /// The protobuf encoding is broken (truncated, bad varint, wrong wire type).
    Wire(String),
    /// The message decodes but breaks a pprof invariant (bad index, value count).
    Invalid(String),
    /// The request is not compatible with the profile (unknown sample type, ...).
    Usage(String),
}

impl ProfileError {
    pub fn new(input: impl Into<String>, kind: ErrorKind) -> Self {
        Self {
            input: input.into(),
            kind,
        }
    }

    pub fn invalid(input: &str, msg: impl Into<String>) -> Self {
        Self::new(input, ErrorKind::Invalid(msg.into()))
    }

    pub fn usage(input: &str, msg: impl Into<String>) -> Self {
        Self::new(input, ErrorKind::Usage(msg.into()))
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.input;
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "{input}: cannot read: {e}"),
            ErrorKind::TooLarge { what, limit } => write!(
                f,
                "{input}: {what} exceeds the limit of {limit} bytes (raise it with --max-profile-bytes / --max-decoded-bytes)"
            ),
            ErrorKind::Gzip(e) => write!(f, "{input}: corrupt or truncated gzip data: {e}"),
            ErrorKind::Wire(m) => write!(f, "{input}: not a valid pprof profile: {m}"),
            ErrorKind::Invalid(m) => write!(f, "{input}: invalid pprof profile: {m}"),
            ErrorKind::Usage(m) => write!(f, "{input}: {m}"),
        }
    }
}

impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) | ErrorKind::Gzip(e) => Some(e),
            _ => None,
        }
    }
}

pub type Result<T, E = ProfileError> = std::result::Result<T, E>;
