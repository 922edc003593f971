//! The command line: argument parsing and the `top`, `list`, `diff` and `trend` reports.
//! Reports write to a caller-supplied writer so library code never prints by itself.

mod capture;
mod check;
mod index;
mod list;
mod top;
mod trend;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profile::{self, Aggregate, Granularity, Limits, ProfileError};

/// Exit status for bad usage or bad input (clap uses the same for argument errors).
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "heapspot",
    version,
    about = "Find memory leaks in Go services: heap profiles joined with Go source",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Top sites by flat (or cumulative) value, like `go tool pprof -top`. Several profiles
    /// are merged (replicas of one service).
    Top(TopArgs),
    /// Per-line annotated source of functions matching a regex, like `go tool pprof -list`.
    List(ListArgs),
    /// What changed from BASE to NEW per site, like `go tool pprof -top -base BASE NEW`.
    Diff(DiffArgs),
    /// Growth per site over snapshots taken over time (ordered by their time stamps).
    Trend(TrendArgs),
    /// Leak findings for CI and code review: the rules joined with heap and goroutine
    /// profiles. Exit 0 when clean, 1 when a finding reaches --fail-on, 2 on bad input.
    Check(check::CheckArgs),
    /// Load a Go workspace and report what the index holds and what loading it cost.
    Index(index::IndexArgs),
    /// The language server, over standard input and output (see docs/lsp.md).
    Lsp,
    /// Poll a live service's /debug/pprof endpoints and save heap (and goroutine)
    /// snapshots, printing each saved path.
    Capture(capture::CaptureArgs),
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Sample type by name or index (default: the profile's default, else the last one;
    /// `inuse_space` for heap profiles).
    #[arg(long = "sample-index", alias = "sample_index", value_name = "NAME")]
    pub sample_index: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Largest profile file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_input_bytes)]
    pub max_profile_bytes: u64,
    /// Largest decoded (decompressed) profile accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_decoded_bytes)]
    pub max_decoded_bytes: u64,
}

impl CommonArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_input_bytes: self.max_profile_bytes,
            max_decoded_bytes: self.max_decoded_bytes,
            ..Limits::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Profile files (gzip'd or raw protobuf).
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Subtract this profile (several are merged), like pprof `-base`.
    #[arg(long, value_name = "BASE")]
    pub base: Vec<PathBuf>,
    /// Number of rows to show (0 for all).
    #[arg(short = 'n', long = "nodecount", default_value_t = 10)]
    pub n: usize,
    /// Sort by cumulative value.
    #[arg(long)]
    pub cum: bool,
    /// Report per source line instead of per function.
    #[arg(long)]
    pub lines: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Regular expression matched against function names.
    pub regex: String,
    /// Profile files (several are merged).
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Where to find the source files (default: the recorded path, then the current
    /// directory); recorded paths are tried with leading directories removed.
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,
    /// Subtract this profile, like pprof `-base`.
    #[arg(long, value_name = "BASE")]
    pub base: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier profile.
    pub base: PathBuf,
    /// The later profile.
    pub new: PathBuf,
    /// Number of rows to show (0 for all).
    #[arg(short = 'n', long = "nodecount", default_value_t = 10)]
    pub n: usize,
    /// Sort by cumulative change.
    #[arg(long)]
    pub cum: bool,
    /// Report per source line instead of per function.
    #[arg(long)]
    pub lines: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Snapshots of one process over time (at least two).
    #[arg(required = true, num_args = 2.., value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Number of rows to show (0 for all).
    #[arg(short = 'n', long = "nodecount", default_value_t = 10)]
    pub n: usize,
    /// Report per function instead of per source line.
    #[arg(long)]
    pub functions: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// A failure of a command: a message for stderr and the exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl From<ProfileError> for CliError {
    fn from(e: ProfileError) -> Self {
        CliError {
            message: e.to_string(),
            code: EXIT_USAGE,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError {
            message: format!("writing output: {e}"),
            code: 1,
        }
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError {
            message: format!("writing JSON output: {e}"),
            code: 1,
        }
    }
}

/// Runs a parsed command, writing its report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Top(a) => top::run_top(&a, out),
        Command::Diff(a) => top::run_diff(&a, out),
        Command::List(a) => list::run(&a, out),
        Command::Trend(a) => trend::run(&a, out),
        Command::Check(a) => check::run(&a, out),
        Command::Index(a) => index::run(&a, out),
        Command::Lsp => run_lsp(),
        Command::Capture(a) => capture::run(&a, out),
    }
}

/// `heapspot lsp`: serves the protocol over standard input and output, which it then
/// owns (the caller must not hold the stdout lock).
pub fn run_lsp() -> Result<(), CliError> {
    let options = crate::lsp::Options {
        test_commands: std::env::var("HEAPSPOT_LSP_TEST").is_ok_and(|v| v == "1"),
    };
    crate::lsp::run_stdio(options).map_err(|e| CliError {
        message: format!("lsp: {e}"),
        code: 1,
    })
}

/// Loads and merges profiles (one or several).
fn load_merged(paths: &[PathBuf], limits: Limits) -> Result<Aggregate, ProfileError> {
    let parts = paths
        .iter()
        .map(|p| profile::load_aggregate(p, limits))
        .collect::<Result<Vec<_>, _>>()?;
    Aggregate::merge(parts)
}

/// Loads the main profiles and subtracts the base ones when given.
fn load_with_base(
    paths: &[PathBuf],
    base: &[PathBuf],
    limits: Limits,
) -> Result<(Aggregate, Option<Aggregate>), ProfileError> {
    let main = load_merged(paths, limits)?;
    if base.is_empty() {
        return Ok((main, None));
    }
    let base = load_merged(base, limits)?;
    Ok((main.diff(&base)?, Some(base)))
}

fn granularity(lines: bool) -> Granularity {
    if lines {
        Granularity::Lines
    } else {
        Granularity::Functions
    }
}

fn take_n<T>(v: Vec<T>, n: usize) -> Vec<T> {
    if n == 0 {
        v
    } else {
        v.into_iter().take(n).collect()
    }
}

/// Percentage as a number for JSON output.
fn pct(part: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64 * 100.0
    }
}
