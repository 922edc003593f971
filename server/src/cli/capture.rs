//! `heapspot capture`: polls a live endpoint and saves its heap (and goroutine) profiles
//! as snapshots, printing each saved path on its own line.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use super::{CliError, EXIT_USAGE};
use crate::sources::{self, FetchLimits, Kind, Retention, SnapshotStore, SourceErrorKind};

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The service: `host:port`, `http://host:port`, `.../debug/pprof` or
    /// `.../debug/pprof/heap` (a query such as `?gc=1` is kept).
    pub url: String,
    /// How many times to poll.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Seconds from the start of one poll to the start of the next.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub interval: f64,
    /// The workspace whose snapshot store (`.heapspot/snapshots/`) receives the snapshots
    /// (default: the current directory). Old snapshots are pruned to 50 per endpoint and
    /// kind (256 MiB).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Save into this plain directory instead (same file names, nothing pruned).
    #[arg(long, value_name = "DIR", conflicts_with = "workspace")]
    pub out: Option<PathBuf>,
    /// Seconds one fetch may take, body included.
    #[arg(long, value_name = "SECONDS", default_value_t = FetchLimits::default().timeout.as_secs_f64())]
    pub timeout: f64,
    /// Largest profile accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = FetchLimits::default().max_bytes)]
    pub max_bytes: u64,
}

fn usage(message: String) -> CliError {
    CliError {
        message,
        code: EXIT_USAGE,
    }
}

fn failure(e: sources::SourceError) -> CliError {
    let code = match e.kind() {
        SourceErrorKind::BadEndpoint(_) => EXIT_USAGE,
        _ => 1,
    };
    CliError {
        message: e.to_string(),
        code,
    }
}

fn seconds(flag: &str, v: f64) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        usage(format!(
            "--{flag} {v}: expected a number of seconds, 0 or more"
        ))
    })
}

/// Polls the endpoint `--count` times. A heap profile that cannot be fetched or saved
/// ends the run with an error (exit 1; 2 for a malformed URL); a goroutine profile that
/// cannot be fetched is skipped with a note on stderr (not every service serves it).
pub fn run(args: &CaptureArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let endpoint = sources::endpoint(&args.url).map_err(failure)?;
    let interval = seconds("interval", args.interval)?;
    let timeout = seconds("timeout", args.timeout)?;
    if timeout.is_zero() {
        return Err(usage("--timeout must be more than 0 seconds".into()));
    }
    let limits = FetchLimits {
        timeout,
        max_bytes: args.max_bytes,
    };
    let (store, keep) = match (&args.out, &args.workspace) {
        (Some(dir), _) => (SnapshotStore::at(dir), Retention::UNLIMITED),
        (None, ws) => {
            let root = ws.clone().unwrap_or_else(|| PathBuf::from("."));
            (
                SnapshotStore::open(&root).map_err(failure)?,
                Retention::default(),
            )
        }
    };
    for round in 0..args.count {
        let started = Instant::now();
        for kind in Kind::ALL {
            let path = match store.capture(&endpoint, kind, &limits, &keep) {
                Ok(p) => p,
                // Any answer but a profile is skipped; a snapshot that cannot be stored is not.
                Err(e)
                    if kind == Kind::Goroutine
                        && !matches!(
                            e.kind(),
                            SourceErrorKind::Io { .. } | SourceErrorKind::Store(_)
                        ) =>
                {
                    note(&format!("skipped the goroutine profile: {e}"));
                    continue;
                }
                Err(e) => return Err(failure(e)),
            };
            writeln!(out, "{}", path.display())?;
            out.flush()?;
        }
        if round + 1 < args.count {
            std::thread::sleep(interval.saturating_sub(started.elapsed()));
        }
    }
    Ok(())
}

/// A note for the person at the terminal; standard output carries only saved paths.
fn note(message: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("heapspot: {message}");
    }
}
