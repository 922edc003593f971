//! `heapspot-bench run`: both tools on the same profiles in the same run, wall time and
//! peak RSS of each child, a check that they agree, and the ratios next to the targets.
//!
//! Children run under `/usr/bin/time -f '%e %M'` for their peak RSS (`wait4`'s
//! `ru_maxrss`, which covers waited-for descendants: `go tool pprof` runs pprof as a child
//! of the `go` command, and the larger of the two is reported). Wall time is measured
//! here around the child. The timed pprof command carries `-unit=B` so that its output
//! (exact byte values) can be checked against heapspot's; it costs pprof nothing
//! measurable. heapspot is timed with its text output and run once more with
//! `--format json` for the check.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;

use crate::gen::{self, GenStats, GEN_VERSION};

/// heapspot's design targets against `go tool pprof` on the same input.
const TARGET_SPEED: f64 = 50.0;
const TARGET_MEMORY: f64 = 10.0;
/// Rows compared between the two tools.
const TOP_N: usize = 10;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Profile sizes in MiB (gzip'd), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    sizes: Vec<f64>,
    /// Timed runs of each tool per size (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Also copy each profile and both tools' outputs to DIR.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Seed of the generated profiles.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The heapspot binary to measure (default: target/release/heapspot, built first with
    /// `cargo build --release -p heapspot`).
    #[arg(long, value_name = "PATH")]
    heapspot: Option<PathBuf>,
}

type Res<T> = Result<T, String>;

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// One child's wall time and peak resident set.
#[derive(Debug, Clone, Copy)]
struct Measure {
    wall: Duration,
    rss_bytes: u64,
}

/// Medians over the repeats.
#[derive(Debug, Clone, Copy)]
struct Summary {
    wall: Duration,
    rss_bytes: u64,
}

fn summarize(ms: &[Measure]) -> Summary {
    let mut walls: Vec<Duration> = ms.iter().map(|m| m.wall).collect();
    let mut rss: Vec<u64> = ms.iter().map(|m| m.rss_bytes).collect();
    walls.sort();
    rss.sort();
    Summary {
        wall: walls[walls.len() / 2],
        rss_bytes: rss[rss.len() / 2],
    }
}

/// Runs `argv` under `/usr/bin/time`, stdout to `stdout_to`; fails on a non-zero exit.
fn measure(argv: &[OsString], stdout_to: &Path, scratch: &Path) -> Res<Measure> {
    let stats = scratch.join("time.txt");
    let out = File::create(stdout_to).map_err(|e| format!("{}: {e}", stdout_to.display()))?;
    let start = Instant::now();
    let child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&stats)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("running /usr/bin/time (needed for peak RSS): {e}"))?;
    let wall = start.elapsed();
    let show = || {
        argv.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !child.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}",
            show(),
            child.status,
            String::from_utf8_lossy(&child.stderr)
        ));
    }
    let text = std::fs::read_to_string(&stats).map_err(|e| format!("{}: {e}", stats.display()))?;
    // The last line is ours; earlier ones would be /usr/bin/time's own notes.
    let kb = text
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| {
            format!(
                "cannot read /usr/bin/time's output {text:?} for `{}`",
                show()
            )
        })?;
    Ok(Measure {
        wall,
        rss_bytes: kb * 1024,
    })
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// A top-list row: function name and flat value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    name: String,
    flat: i64,
}

/// Parses a value printed with `-unit=B` (`12345B`, or `0`).
fn parse_bytes(s: &str) -> Option<i64> {
    let v: f64 = s.strip_suffix('B').unwrap_or(s).parse().ok()?;
    Some(v.round() as i64)
}

/// Total and rows from `go tool pprof -top -unit=B` output.
fn parse_pprof(text: &str) -> Res<(i64, Vec<Row>)> {
    let total = text
        .lines()
        .find(|l| l.starts_with("Showing nodes accounting for"))
        .and_then(|l| l.strip_suffix(" total"))
        .and_then(|l| l.rsplit(" of ").next())
        .and_then(parse_bytes)
        .ok_or("no \"Showing nodes accounting for ... total\" line in pprof's output")?;
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"));
    lines.next().ok_or("no table header in pprof's output")?;
    let mut rows = Vec::new();
    for l in lines {
        let fields: Vec<&str> = l.split_whitespace().collect();
        if fields.len() < 6 {
            continue;
        }
        let flat = parse_bytes(fields[0])
            .ok_or_else(|| format!("cannot read the flat value of pprof row {l:?}"))?;
        let mut name = fields[5..].join(" ");
        for suffix in [" (inline)", " (partial-inline)"] {
            if let Some(n) = name.strip_suffix(suffix) {
                name = n.to_owned();
            }
        }
        rows.push(Row { name, flat });
    }
    Ok((total, rows))
}

/// Total and rows from `heapspot top --format json`.
fn parse_heapspot(text: &str) -> Res<(i64, Vec<Row>)> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("heapspot's JSON: {e}"))?;
    let total = v["total"]
        .as_i64()
        .ok_or("no \"total\" in heapspot's JSON")?;
    let rows = v["rows"]
        .as_array()
        .ok_or("no \"rows\" in heapspot's JSON")?
        .iter()
        .map(|r| {
            Some(Row {
                name: r["function"].as_str()?.to_owned(),
                flat: r["flat"].as_i64()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("a row of heapspot's JSON lacks function or flat")?;
    Ok((total, rows))
}

/// Compares the top rows: values must match row by row, names too except inside a run of
/// equal values (whose order is only a tie-break).
fn compare(pprof: &(i64, Vec<Row>), heapspot: &(i64, Vec<Row>)) -> Res<()> {
    let p = &pprof.1[..pprof.1.len().min(TOP_N)];
    let h = &heapspot.1[..heapspot.1.len().min(TOP_N)];
    let mut problems = Vec::new();
    if pprof.0 != heapspot.0 {
        problems.push(format!(
            "totals differ: pprof {} B, heapspot {} B",
            pprof.0, heapspot.0
        ));
    }
    if p.len() != h.len() {
        problems.push(format!(
            "row counts differ: pprof {}, heapspot {}",
            p.len(),
            h.len()
        ));
    }
    let mut i = 0;
    while i < p.len().min(h.len()) {
        let mut j = i + 1;
        while j < p.len().min(h.len()) && p[j].flat == p[i].flat {
            j += 1;
        }
        let pf: Vec<i64> = p[i..j].iter().map(|r| r.flat).collect();
        let hf: Vec<i64> = h[i..j].iter().map(|r| r.flat).collect();
        if pf != hf {
            problems.push(format!("flat values differ in rows {}..{}", i + 1, j));
        } else {
            let mut pn: Vec<&str> = p[i..j].iter().map(|r| r.name.as_str()).collect();
            let mut hn: Vec<&str> = h[i..j].iter().map(|r| r.name.as_str()).collect();
            pn.sort_unstable();
            hn.sort_unstable();
            // A tie that runs past the last compared row may legitimately differ.
            if pn != hn && j < TOP_N {
                problems.push(format!("functions differ in rows {}..{}", i + 1, j));
            }
        }
        i = j;
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "heapspot and pprof DISAGREE on the top {TOP_N}: {}\n",
        problems.join("; ")
    );
    msg.push_str(&format!(
        "  {:>3}  {:>14} {:>14}  function (pprof | heapspot)\n",
        "#", "pprof flat", "heapspot flat"
    ));
    for k in 0..p.len().max(h.len()) {
        let (pf, pn) = p.get(k).map_or((String::new(), ""), |r| {
            (r.flat.to_string(), r.name.as_str())
        });
        let (hf, hn) = h.get(k).map_or((String::new(), ""), |r| {
            (r.flat.to_string(), r.name.as_str())
        });
        let mark = if pf == hf && pn == hn { " " } else { "!" };
        msg.push_str(&format!("{mark} {:>3}  {pf:>14} {hf:>14}  {pn}", k + 1));
        if pn != hn {
            msg.push_str(&format!(" | {hn}"));
        }
        msg.push('\n');
    }
    Err(msg)
}

fn mib(bytes: u64) -> String {
    let m = bytes as f64 / f64::from(1u32 << 20);
    if m >= 100.0 {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn print_gen_stats(s: &GenStats) {
    println!(
        "wrote {}: {} gzip'd ({} decoded), {} samples, {} locations, {} functions, {} strings, \
         stack depth {}..{} (mean {:.1}), in {}",
        s.path.display(),
        mib(s.gz_bytes),
        mib(s.raw_bytes),
        group(s.samples),
        group(s.locations),
        group(s.functions),
        group(s.strings),
        s.min_depth,
        s.max_depth,
        s.mean_depth,
        secs(s.elapsed)
    );
}

/// Builds `target/release/heapspot` with cargo, so that a run never measures a stale
/// binary (a no-op when it is up to date).
fn build_heapspot() -> Res<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "heapspot",
            "--bin",
            "heapspot",
        ])
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("running `cargo build --release -p heapspot`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo build --release -p heapspot` failed ({status})"
        ));
    }
    Ok(())
}

/// Results for one profile size.
struct SizeResult {
    gz_bytes: u64,
    samples: u64,
    pprof: Summary,
    heapspot: Summary,
    agree: Result<(), String>,
}

pub fn run(args: &RunArgs) -> Res<()> {
    if args.sizes.is_empty() || args.sizes.iter().any(|&s| s.is_nan() || s <= 0.0) {
        return Err("--sizes needs positive sizes in MiB, e.g. --sizes 1,10".into());
    }
    let repeat = args.repeat.max(1);
    let heapspot = match &args.heapspot {
        Some(p) => p.clone(),
        None => {
            build_heapspot()?;
            target_dir().join("release/heapspot")
        }
    };
    if !heapspot.is_file() {
        return Err(format!("{} does not exist", heapspot.display()));
    }

    let go_version = Command::new("go")
        .arg("version")
        .output()
        .map_err(|e| format!("running `go version` (Go is needed for `go tool pprof`): {e}"))?;
    if !go_version.status.success() {
        return Err(format!(
            "`go version` failed: {}",
            String::from_utf8_lossy(&go_version.stderr)
        ));
    }
    // `go tool -n pprof` builds the tool into the cache if needed, so that the first timed
    // run does not pay for it.
    let pprof_path = Command::new("go")
        .args(["tool", "-n", "pprof"])
        .output()
        .map_err(|e| format!("running `go tool -n pprof`: {e}"))?;
    if !pprof_path.status.success() {
        return Err(format!(
            "`go tool -n pprof` failed: {}",
            String::from_utf8_lossy(&pprof_path.stderr)
        ));
    }

    let cache = target_dir().join("bench-profiles");
    let scratch = cache.join("out");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    if let Some(k) = &args.keep {
        std::fs::create_dir_all(k).map_err(|e| format!("{}: {e}", k.display()))?;
    }
    println!(
        "heapspot-bench: {} vs `go tool pprof` ({}, {}), {} timed run(s) each, median shown",
        heapspot.display(),
        String::from_utf8_lossy(&go_version.stdout).trim(),
        String::from_utf8_lossy(&pprof_path.stdout).trim(),
        repeat
    );

    let mut results = Vec::new();
    for &size in &args.sizes {
        let name = format!("heap-{size}mb-seed{}-gen{GEN_VERSION}.pb.gz", args.seed);
        let path = cache.join(&name);
        if path.is_file() {
            println!("\n== {size} MiB: reusing {}", path.display());
        } else {
            println!("\n== {size} MiB: generating {}", path.display());
            let stats = gen::generate(size, args.seed, &path)
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            print_gen_stats(&stats);
        }
        let gz_bytes = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let file = path.as_os_str().to_owned();

        let mut pprof_argv = os(&[
            "go",
            "tool",
            "pprof",
            "-top",
            "-sample_index=inuse_space",
            "-unit=B",
        ]);
        pprof_argv.push(file.clone());
        let mut hs_argv = vec![heapspot.as_os_str().to_owned()];
        hs_argv.extend(os(&["top", "-n", "10", "--sample-index", "inuse_space"]));
        hs_argv.push(file.clone());
        let mut hs_json_argv = hs_argv.clone();
        hs_json_argv.insert(hs_json_argv.len() - 1, "--format".into());
        hs_json_argv.insert(hs_json_argv.len() - 1, "json".into());

        let pprof_out = scratch.join("pprof.txt");
        let hs_out = scratch.join("heapspot.txt");
        let hs_json_out = scratch.join("heapspot.json");
        let (mut pm, mut hm) = (Vec::new(), Vec::new());
        for rep in 0..repeat {
            // Alternate the order so neither tool always runs on a warmer machine.
            if rep % 2 == 0 {
                pm.push(measure(&pprof_argv, &pprof_out, &scratch)?);
                hm.push(measure(&hs_argv, &hs_out, &scratch)?);
            } else {
                hm.push(measure(&hs_argv, &hs_out, &scratch)?);
                pm.push(measure(&pprof_argv, &pprof_out, &scratch)?);
            }
            println!(
                "   run {}: pprof {} {}, heapspot {} {}",
                rep + 1,
                secs(pm[rep].wall),
                mib(pm[rep].rss_bytes),
                secs(hm[rep].wall),
                mib(hm[rep].rss_bytes)
            );
        }
        measure(&hs_json_argv, &hs_json_out, &scratch)?;
        let read =
            |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
        let pprof_text = read(&pprof_out)?;
        let hs_json = read(&hs_json_out)?;
        let agree = parse_pprof(&pprof_text)
            .and_then(|p| parse_heapspot(&hs_json).map(|h| (p, h)))
            .and_then(|(p, h)| compare(&p, &h));
        match &agree {
            Ok(()) => println!("   top {TOP_N}: heapspot and pprof agree (flat values and total)"),
            Err(e) => eprintln!("   {e}"),
        }
        if let Some(k) = &args.keep {
            let copy = |from: &Path, to: &str| {
                std::fs::copy(from, k.join(to))
                    .map(|_| ())
                    .map_err(|e| format!("copying {} to {}: {e}", from.display(), k.display()))
            };
            copy(&path, &name)?;
            copy(&pprof_out, &format!("{name}.pprof.txt"))?;
            copy(&hs_out, &format!("{name}.heapspot.txt"))?;
            copy(&hs_json_out, &format!("{name}.heapspot.json"))?;
        }
        let samples = heapspot::profile::Profile::from_path(&path, Default::default())
            .map(|p| p.sample_count)
            .map_err(|e| e.to_string())?;
        results.push((
            size,
            SizeResult {
                gz_bytes,
                samples,
                pprof: summarize(&pm),
                heapspot: summarize(&hm),
                agree,
            },
        ));
    }

    print_table(&results, repeat);
    let failed = results.iter().filter(|(_, r)| r.agree.is_err()).count();
    if failed > 0 {
        return Err(format!(
            "heapspot and pprof disagree on {failed} profile(s); see above"
        ));
    }
    Ok(())
}

fn print_table(results: &[(f64, SizeResult)], repeat: usize) {
    println!();
    println!(
        "heapspot top vs go tool pprof -top, -sample_index=inuse_space (median of {repeat}; \
         targets: {TARGET_SPEED:.0}x faster, 1/{TARGET_MEMORY:.0} of the memory)"
    );
    let header = [
        "size",
        "file",
        "samples",
        "pprof time",
        "heapspot time",
        "speed",
        "target",
        "pprof RSS",
        "heapspot RSS",
        "memory",
        "target",
        "top-10",
    ];
    let mut rows: Vec<[String; 12]> = vec![header.map(String::from)];
    for (size, r) in results {
        let speed = r.pprof.wall.as_secs_f64() / r.heapspot.wall.as_secs_f64().max(1e-9);
        let memory = r.pprof.rss_bytes as f64 / (r.heapspot.rss_bytes.max(1)) as f64;
        let verdict = |got: f64, want: f64| {
            if got >= want {
                format!("{want:.0}x met")
            } else {
                format!("{want:.0}x MISS")
            }
        };
        rows.push([
            format!("{size} MiB"),
            mib(r.gz_bytes),
            group(r.samples),
            secs(r.pprof.wall),
            secs(r.heapspot.wall),
            format!("{speed:.1}x"),
            verdict(speed, TARGET_SPEED),
            mib(r.pprof.rss_bytes),
            mib(r.heapspot.rss_bytes),
            format!("{memory:.1}x"),
            verdict(memory, TARGET_MEMORY),
            if r.agree.is_ok() { "agree" } else { "DIFFER" }.into(),
        ]);
    }
    let widths: Vec<usize> = (0..12)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &w))| {
                if c == 0 || c == 11 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    println!("speed = pprof time / heapspot time; memory = pprof peak RSS / heapspot peak RSS");
}

#[cfg(test)]
mod tests {
    use super::*;

    const PPROF: &str = "\
File: svc
Type: inuse_space
Time: 2026-11-28 00:00:00 UTC
Showing nodes accounting for 2097152B, 80.00% of 2621440B total
Dropped 3 nodes (cum <= 13107B)
      flat  flat%   sum%        cum   cum%
  1048576B 40.00% 40.00%   1048576B 40.00%  github.com/acme/svc/internal/pkg1.(*Type0).Method3
   524288B 20.00% 60.00%    524288B 20.00%  bytes.growSlice (inline)
   524288B 20.00% 80.00%   2097152B 80.00%  net/http.(*conn).serve
         0     0% 80.00%   2097152B 80.00%  main.main
";

    #[test]
    fn parses_pprof_top() {
        let (total, rows) = parse_pprof(PPROF).unwrap();
        assert_eq!(total, 2_621_440);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].name, "bytes.growSlice");
        assert_eq!(rows[1].flat, 524_288);
        assert_eq!(rows[3].flat, 0);
    }

    #[test]
    fn ties_may_come_in_any_order_but_values_must_match() {
        let p = parse_pprof(PPROF).unwrap();
        let mut h = p.clone();
        h.1.swap(1, 2);
        assert!(compare(&p, &h).is_ok());
        h.1[0].flat += 1;
        let err = compare(&p, &h).unwrap_err();
        assert!(err.contains("DISAGREE"), "{err}");
    }
}
