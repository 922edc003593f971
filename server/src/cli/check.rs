//! `heapspot check`: the findings for CI and code review. Loads the workspace and its
//! configuration, the heap snapshots (in time order), goroutine snapshots and an optional
//! baseline, runs the rules, weighs them with the profiles and prints text, JSON, SARIF
//! or GitHub annotations. Exit status: 0 when nothing reaches `--fail-on`, 1 when a
//! finding does, 2 for bad usage or input.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{CliError, EXIT_USAGE};
use crate::config::Config;
use crate::findings::Severity;
use crate::mapping::Mapper;
use crate::pipeline::{self, Request};
use crate::profile::{Limits, Profile};
use crate::report::{self, CheckReport};
use crate::source::index::Workspace;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
    Github,
}

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The workspace root (default: the current directory). `.heapspot.toml` there
    /// configures profiles, rules and thresholds.
    pub workspace: Option<PathBuf>,
    /// Heap snapshots of one service, oldest first (ordered by their time stamps when they
    /// carry them). Default: `profiles` in .heapspot.toml.
    #[arg(long = "profile", value_name = "P", num_args = 1..)]
    pub profiles: Vec<PathBuf>,
    /// Goroutine snapshots. Default: `goroutine_profiles` in .heapspot.toml.
    #[arg(long = "goroutine-profile", value_name = "G", num_args = 1..)]
    pub goroutine_profiles: Vec<PathBuf>,
    /// A baseline heap profile: sites whose in-use memory grew beyond the thresholds are
    /// regressions.
    #[arg(long, value_name = "B")]
    pub base: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Write the report to a file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn usage(message: String) -> CliError {
    CliError {
        message,
        code: EXIT_USAGE,
    }
}

fn load_profiles(paths: &[PathBuf]) -> Result<Vec<Profile>, CliError> {
    paths
        .iter()
        .map(|p| Profile::from_path(p, Limits::default()).map_err(CliError::from))
        .collect()
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| root.join(p), |cwd| cwd.join(p))
    }
}

pub(super) fn run(a: &CheckArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let root = a.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = root.canonicalize().map_err(|e| {
        usage(format!(
            "{}: not a workspace directory: {e}",
            root.display()
        ))
    })?;
    if !root.is_dir() {
        return Err(usage(format!("{}: not a directory", root.display())));
    }
    let config = Config::load(&root).map_err(usage)?;
    let heap_files = if a.profiles.is_empty() {
        config.heap_profiles().map_err(usage)?
    } else {
        a.profiles.iter().map(|p| resolve(&root, p)).collect()
    };
    let goroutine_files = if a.goroutine_profiles.is_empty() {
        config.goroutine_profile_files().map_err(usage)?
    } else {
        a.goroutine_profiles
            .iter()
            .map(|p| resolve(&root, p))
            .collect()
    };

    let ws = Workspace::load(&root).map_err(|e| usage(e.to_string()))?;
    let mapper = Mapper::from_workspace(&ws, config.path_mappings.clone());
    let heap_profiles = load_profiles(&heap_files)?;
    let goroutine_profiles = load_profiles(&goroutine_files)?;
    let base_profile = a
        .base
        .as_ref()
        .map(|b| Profile::from_path(&resolve(&root, b), Limits::default()))
        .transpose()?;

    let outcome = pipeline::run(Request {
        root: &root,
        config: &config,
        ws: &ws,
        mapper: &mapper,
        heap: &heap_profiles,
        goroutines: &goroutine_profiles,
        base: base_profile.as_ref(),
        overrides: &[],
    });
    if let Some(e) = outcome.errors.into_iter().next() {
        return Err(e.into());
    }
    let (heap, goroutines, base, findings) = (
        outcome.heap,
        outcome.goroutines,
        outcome.base,
        outcome.findings,
    );

    let rep = CheckReport {
        root: &root,
        findings: &findings,
        heap: heap.as_ref(),
        goroutines: goroutines.as_ref(),
        base: base.as_ref(),
        rules: report::all_rule_meta(),
    };
    let mut file;
    let sink: &mut dyn Write = match &a.output {
        Some(p) => {
            file =
                std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| {
                    usage(format!("{}: cannot write the report: {e}", p.display()))
                })?);
            &mut file
        }
        None => out,
    };
    match a.format {
        CheckFormat::Text => report::text::write(&rep, sink)?,
        CheckFormat::Json => report::json::write(&rep, sink)?,
        CheckFormat::Sarif => report::sarif::write(&rep, sink)?,
        CheckFormat::Github => report::github::write(&rep, sink)?,
    }
    sink.flush()?;

    let threshold = match a.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    if let Some(t) = threshold {
        let n = findings.iter().filter(|f| f.severity >= t).count();
        if n > 0 {
            return Err(CliError {
                message: format!("{n} finding(s) at or above {} (--fail-on)", t.as_str()),
                code: 1,
            });
        }
    }
    Ok(())
}
