//! `heapspot-bench`: measures heapspot against `go tool pprof` on synthetic Go heap
//! profiles of realistic shape, in the same run, and reports speed and memory ratios next
//! to heapspot's design targets. The targets live here only, never in unit tests: timings
//! depend on the machine and its load.
//!
//! - `gen --target-mb N --seed S --out FILE` writes one profile (see `gen.rs`).
//! - `run [--sizes 1,10] [--repeat R] [--keep DIR]` generates (or reuses) profiles in
//!   `target/bench-profiles/`, times both tools on each and checks that they agree.
//! - `phases FILE` times heapspot's own stages in process (gunzip, decode, fold, sort),
//!   to see where the time goes when a ratio is weak.
//!
//! `run` builds `target/release/heapspot` with cargo first (unless `--heapspot PATH`), so
//! it never measures a stale binary; `dev/bench.sh` is the usual way to start it.

// A benchmark's report is its output: printing is what this binary is for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod gen;
mod phases;
mod rng;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "heapspot-bench",
    about = "Benchmarks heapspot against go tool pprof"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a synthetic Go heap profile (gzip'd pprof protobuf) of about N MiB.
    Gen {
        /// Target size of the gzip'd file, in MiB.
        #[arg(long, value_name = "N")]
        target_mb: f64,
        /// Seed of the generator (the same seed and size give the same bytes).
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Times `go tool pprof -top` and `heapspot top` on profiles of each size, checks that
    /// they agree on the top 10 and prints the ratios next to the targets.
    Run(run::RunArgs),
    /// Times heapspot's stages in process on one profile.
    Phases {
        /// The profile.
        file: PathBuf,
        /// Runs per stage (the fastest is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen {
            target_mb,
            seed,
            out,
        } => gen::generate(target_mb, seed, &out)
            .map(|s| run::print_gen_stats(&s))
            .map_err(|e| format!("writing {}: {e}", out.display())),
        Command::Run(args) => run::run(&args),
        Command::Phases { file, repeat } => phases::run(&file, repeat.max(1)),
    };
    if let Err(e) = result {
        eprintln!("heapspot-bench: {e}");
        std::process::exit(1);
    }
}
