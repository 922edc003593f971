//! Parity with `go tool pprof`: heapspot's numbers must equal pprof's exactly, in raw
//! units, on every committed fixture profile (`tests/fixtures/<case>/profiles/*`).
//!
//! * `raw_*`: per function and per (function, file, line), flat and cum computed here from
//!   `go tool pprof -raw` (the samples and locations as pprof decoded them) against the
//!   library's `Aggregate`, for every sample type.
//! * `top_*`: `go tool pprof -top` against `heapspot top --format json` (names, order,
//!   flat, cum, total, and the `(inline)` labels of the library), for every sample type.
//! * `list_*`: `go tool pprof -list` against `heapspot list --format json` per source line,
//!   with the source text checked against the committed fixture files.
//! * `base_*`: `go tool pprof -top -base FIRST LAST` against `heapspot diff`.
//! * `merge_*`: `go tool pprof -top A B` (pprof merges its inputs) against `heapspot top A B`.
//! * `unread_*`: goroutines of net/http's read loop waiting for a response body, counted
//!   here from `go tool pprof -raw` against the evidence heapspot gathers.
//!
//! Needs Go (1.26) on PATH. Without it the tests fail, unless `HEAPSPOT_SKIP_GO_PARITY=1`
//! is set, in which case they print a note saying they were skipped.

// Test-only helpers outside `#[test]` functions: panicking and printing notes is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use heapspot::profile::{Aggregate, Granularity, Limits, Profile};
use serde_json::Value;

/// The fixtures must hold at least this many profiles, so the tests cannot pass vacuously.
const MIN_PROFILES: usize = 25;

/// Where the fixture programs were built and run (see `tests/fixtures/README.md`); the
/// recorded file names start with `<this>/<case>/`.
const BUILD_ROOT: &str = "/tmp/heapspot-fixture-build";

/// Mismatches listed in a panic message before the rest are only counted.
const SHOWN_ERRORS: usize = 40;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Case {
    name: String,
    dir: PathBuf,
    /// The `module` line of the case's go.mod.
    module: String,
}

#[derive(Debug)]
struct Fixture {
    case: usize,
    /// `<case>/<file name>`, for messages.
    label: String,
    path: PathBuf,
    file_name: String,
    /// `type/unit` of each sample type, as the library decoded them.
    types: Vec<(String, String)>,
}

#[derive(Debug)]
struct Fixtures {
    cases: Vec<Case>,
    profiles: Vec<Fixture>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .canonicalize()
            .expect("tests/fixtures exists");
        let mut case_dirs: Vec<PathBuf> = std::fs::read_dir(&root)
            .expect("list tests/fixtures")
            .map(|e| e.expect("read tests/fixtures entry").path())
            .filter(|p| p.join("profiles").is_dir())
            .collect();
        case_dirs.sort();
        let mut cases = Vec::new();
        let mut profiles = Vec::new();
        for dir in case_dirs {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let gomod = std::fs::read_to_string(dir.join("go.mod"))
                .unwrap_or_else(|e| panic!("{}: reading go.mod: {e}", dir.display()));
            let module = gomod
                .lines()
                .find_map(|l| l.trim().strip_prefix("module "))
                .unwrap_or_else(|| panic!("{}: go.mod has no module line", dir.display()))
                .trim()
                .trim_matches('"')
                .to_string();
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("profiles"))
                .expect("list profiles")
                .map(|e| e.expect("read profiles entry").path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for path in files {
                let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
                let label = format!("{name}/{file_name}");
                let p = Profile::from_path(&path, Limits::default())
                    .unwrap_or_else(|e| panic!("{label}: heapspot cannot load it: {e}"));
                let types = p
                    .sample_types
                    .iter()
                    .map(|t| (t.ty.clone(), t.unit.clone()))
                    .collect();
                profiles.push(Fixture {
                    case: cases.len(),
                    label,
                    path,
                    file_name,
                    types,
                });
            }
            cases.push(Case { name, dir, module });
        }
        assert!(
            profiles.len() >= MIN_PROFILES,
            "found only {} profiles under {} (expected at least {MIN_PROFILES}); \
             the parity tests would prove little",
            profiles.len(),
            root.display()
        );
        Fixtures { cases, profiles }
    })
}

/// The numbered snapshots `<kind>-N.pb.gz` of a case, in order.
fn snapshots<'a>(f: &'a Fixtures, case: usize, kind: &str) -> Vec<&'a Fixture> {
    let mut v: Vec<(u32, &Fixture)> = f
        .profiles
        .iter()
        .filter(|p| p.case == case)
        .filter_map(|p| {
            let n = p
                .file_name
                .strip_prefix(kind)?
                .strip_prefix('-')?
                .strip_suffix(".pb.gz")?;
            Some((n.parse().ok()?, p))
        })
        .collect();
    v.sort_by_key(|&(n, _)| n);
    v.into_iter().map(|(_, p)| p).collect()
}

// ---------------------------------------------------------------------------------------
// Running go tool pprof and heapspot
// ---------------------------------------------------------------------------------------

/// How to run pprof: the binary `go tool pprof` runs (resolved once with
/// `go tool -n pprof`, which also builds it), so the ~100 ms start-up of the `go` command
/// is not paid per report. `Err` when Go or its pprof is unavailable.
fn pprof_binary() -> &'static Result<(String, PathBuf), String> {
    static GO: OnceLock<Result<(String, PathBuf), String>> = OnceLock::new();
    GO.get_or_init(|| {
        let version = go_command(&["version"])?;
        let tool = go_command(&["tool", "-n", "pprof"])
            .map_err(|e| format!("cannot locate `go tool pprof`: {e}"))?;
        let tool = PathBuf::from(tool.trim());
        if !tool.is_file() {
            return Err(format!(
                "`go tool -n pprof` named {}, which does not exist",
                tool.display()
            ));
        }
        Ok((version.trim().to_string(), tool))
    })
}

/// Whether the Go parity tests can run: true when `go tool pprof` works; false (after a
/// note) when it does not and `HEAPSPOT_SKIP_GO_PARITY=1` is set; panics otherwise.
fn go_ready(test: &str) -> bool {
    match pprof_binary() {
        Ok((v, tool)) => {
            eprintln!("{test}: using {v}, pprof at {}", tool.display());
            true
        }
        Err(e) if std::env::var("HEAPSPOT_SKIP_GO_PARITY").as_deref() == Ok("1") => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: pprof parity NOT checked: Go is unavailable ({e}) and \
                 HEAPSPOT_SKIP_GO_PARITY=1 is set"
            );
            false
        }
        Err(e) => panic!(
            "{test}: the pprof parity tests need Go 1.26 (`go tool pprof`) on PATH: {e}. \
             Install Go, or set HEAPSPOT_SKIP_GO_PARITY=1 to skip these tests."
        ),
    }
}

fn go_command(args: &[&str]) -> Result<String, String> {
    let out = Command::new("go")
        .args(args)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run `go {}`: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`go {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("`go {}`: {e}", args.join(" ")))
}

/// What `go tool pprof ARGS` printed, or `None` when it reported that the `-list` regex
/// matched nothing.
fn pprof(args: &[String]) -> Option<String> {
    let (_, tool) = pprof_binary().as_ref().expect("go_ready was checked");
    let out = Command::new(tool)
        .args(args)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("no matches found for regexp") {
            return None;
        }
        panic!(
            "`go tool pprof {}` failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        );
    }
    Some(String::from_utf8(out.stdout).expect("pprof output is UTF-8"))
}

/// Arguments shared by every pprof report: no symbolization (the profiles carry their
/// symbols; a binary left at the recorded mapping path must not change anything).
fn pprof_args(extra: &[String]) -> Vec<String> {
    let mut v = vec!["-symbolize=none".to_string()];
    v.extend_from_slice(extra);
    v
}

/// The pprof `-top` flags that show every node, in raw units of `unit`.
fn top_flags(ty: &str, unit: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "-top",
        "-nodecount=1000000",
        "-nodefraction=0",
        "-edgefraction=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("-sample_index={ty}"));
    if let Some(u) = pprof_unit(unit) {
        v.push(format!("-unit={u}"));
    }
    v
}

/// The `-unit` that makes pprof print values of `unit` unscaled (`None`: it already does).
fn pprof_unit(unit: &str) -> Option<&'static str> {
    match unit {
        "bytes" => Some("B"),
        "nanoseconds" => Some("ns"),
        _ => None,
    }
}

/// The suffix pprof appends to unscaled values of `unit`.
fn unit_suffix(unit: &str) -> &'static str {
    pprof_unit(unit).unwrap_or("")
}

/// Runs the heapspot binary and parses its JSON output; `Err` carries stderr on failure.
fn heapspot(args: &[String]) -> Result<Value, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_heapspot"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run heapspot");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "heapspot {}: output is not JSON ({e}): {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn heapspot_ok(args: &[String]) -> Value {
    heapspot(args).unwrap_or_else(|e| panic!("`heapspot {}` failed: {e}", args.join(" ")))
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `f` over `items` on a few threads, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

/// Panics listing the mismatches, if any.
fn assert_no_errors(test: &str, errors: &[String]) {
    if errors.is_empty() {
        return;
    }
    let shown: Vec<&str> = errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(|s| s.as_str())
        .collect();
    let more = errors.len().saturating_sub(SHOWN_ERRORS);
    panic!(
        "{test}: {} mismatch(es) between heapspot and go tool pprof:\n  {}{}",
        errors.len(),
        shown.join("\n  "),
        if more > 0 {
            format!("\n  ... and {more} more")
        } else {
            String::new()
        }
    );
}

// ---------------------------------------------------------------------------------------
// Parsing pprof output
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct RawFrame {
    function: String,
    file: String,
    line: i64,
}

#[derive(Debug, Default)]
struct RawProfile {
    /// `type/unit` per sample type.
    types: Vec<String>,
    default_type: Option<String>,
    samples: Vec<(Vec<i64>, Vec<u64>)>,
    /// Frames per location id, innermost first.
    locations: BTreeMap<u64, Vec<RawFrame>>,
}

/// Parses the text `go tool pprof -raw` prints (`profile.Profile.String()`).
fn parse_raw(text: &str) -> Result<RawProfile, String> {
    #[derive(PartialEq)]
    enum Section {
        Header,
        Types,
        Samples,
        Locations,
        Mappings,
    }
    let mut sec = Section::Header;
    let mut raw = RawProfile::default();
    let mut current: Option<u64> = None;
    for (i, line) in text.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {line:?}", i + 1);
        match sec {
            Section::Header => {
                if line == "Samples:" {
                    sec = Section::Types;
                }
            }
            Section::Types => {
                for tok in line.split_whitespace() {
                    let ty = match tok.strip_suffix("[dflt]") {
                        Some(t) => {
                            raw.default_type = Some(t.to_string());
                            t
                        }
                        None => tok,
                    };
                    raw.types.push(ty.to_string());
                }
                if raw.types.is_empty() {
                    return Err(at("no sample types after Samples:"));
                }
                sec = Section::Samples;
            }
            Section::Samples => {
                if line == "Locations" {
                    sec = Section::Locations;
                    continue;
                }
                let Some((vals, locs)) = line.split_once(':') else {
                    return Err(at("unexpected line among samples"));
                };
                let values: Option<Vec<i64>> =
                    vals.split_whitespace().map(|t| t.parse().ok()).collect();
                match values {
                    Some(v) if v.len() == raw.types.len() => {
                        let ids = locs
                            .split_whitespace()
                            .map(|t| t.parse::<u64>())
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| at(&format!("bad location id ({e})")))?;
                        raw.samples.push((v, ids));
                    }
                    // An indented label line (`bytes:[48]`, `key:[value]`) of the sample
                    // above.
                    _ if !raw.samples.is_empty()
                        && line.starts_with("  ")
                        && vals.trim().parse::<i64>().is_err() => {}
                    _ => return Err(at("unexpected line among samples")),
                }
            }
            Section::Locations => {
                if line == "Mappings" {
                    sec = Section::Mappings;
                    continue;
                }
                let t = line.trim_start();
                let head = t
                    .split_once(": 0x")
                    .and_then(|(id, rest)| Some((id.parse::<u64>().ok()?, rest)));
                if let Some((id, rest)) = head {
                    // `ID: 0xADDR [M=n ][[F] ]frame`, frame empty for a location without
                    // lines.
                    let (addr, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
                    rest = rest.trim_start();
                    if let Some(r) = rest.strip_prefix("M=") {
                        rest = r.split_once(' ').map_or("", |(_, r)| r).trim_start();
                    }
                    if let Some(r) = rest.strip_prefix("[F]") {
                        rest = r.trim_start();
                    }
                    let frames = raw.locations.entry(id).or_default();
                    if !frames.is_empty() {
                        return Err(at("location listed twice"));
                    }
                    let rest = rest.trim_end();
                    if rest.is_empty() {
                        // pprof names such a node by its address, as heapspot does.
                        frames.push(RawFrame {
                            function: format!("0x{addr}"),
                            file: String::new(),
                            line: 0,
                        });
                    } else {
                        frames.push(parse_frame(rest).map_err(|e| at(&e))?);
                    }
                    current = Some(id);
                } else if line.starts_with(' ') && !t.is_empty() {
                    // An inlined caller of the location above (outer frames follow).
                    let id = current.ok_or_else(|| at("frame before any location"))?;
                    let f = parse_frame(t.trim_end()).map_err(|e| at(&e))?;
                    raw.locations.get_mut(&id).unwrap().push(f);
                } else {
                    return Err(at("unexpected line among locations"));
                }
            }
            Section::Mappings => {}
        }
    }
    if sec != Section::Mappings {
        return Err("pprof -raw output ended before its Mappings section".to_string());
    }
    for (_, ids) in &raw.samples {
        if let Some(id) = ids.iter().find(|id| !raw.locations.contains_key(id)) {
            return Err(format!("a sample refers to unknown location {id}"));
        }
    }
    Ok(raw)
}

/// `name file:line:col s=START[(system name)]`.
fn parse_frame(t: &str) -> Result<RawFrame, String> {
    let (left, _) = t
        .rsplit_once(" s=")
        .ok_or_else(|| format!("no ` s=` in frame {t:?}"))?;
    let (function, file_line) = left
        .rsplit_once(' ')
        .ok_or_else(|| format!("no file in frame {t:?}"))?;
    let mut parts = file_line.rsplitn(3, ':');
    let _column = parts.next();
    let line = parts
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| format!("no line number in frame {t:?}"))?;
    let file = parts
        .next()
        .ok_or_else(|| format!("no file:line:col in frame {t:?}"))?;
    Ok(RawFrame {
        function: function.to_string(),
        file: file.to_string(),
        line,
    })
}

/// Flat and cum per sample type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Vals {
    flat: Vec<i64>,
    cum: Vec<i64>,
}

impl Vals {
    fn new(n: usize) -> Vals {
        Vals {
            flat: vec![0; n],
            cum: vec![0; n],
        }
    }
}

type LineKey = (String, String, i64);

/// Per function name and per (function, file, line), computed from the raw samples the
/// way pprof's graph does: flat to the innermost frame of the first location, cum once per
/// sample to every distinct node of the stack.
fn fold_raw(raw: &RawProfile) -> (BTreeMap<String, Vals>, BTreeMap<LineKey, Vals>, Vec<i64>) {
    let n = raw.types.len();
    let mut funcs: BTreeMap<String, Vals> = BTreeMap::new();
    let mut lines: BTreeMap<LineKey, Vals> = BTreeMap::new();
    let mut total = vec![0i64; n];
    for (values, ids) in &raw.samples {
        for (t, v) in values.iter().enumerate() {
            total[t] += v.abs();
        }
        let frames: Vec<&RawFrame> = ids.iter().flat_map(|id| &raw.locations[id]).collect();
        let fn_names: BTreeSet<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        let line_keys: BTreeSet<LineKey> = frames
            .iter()
            .map(|f| (f.function.clone(), f.file.clone(), f.line))
            .collect();
        for name in fn_names {
            let e = funcs
                .entry(name.to_string())
                .or_insert_with(|| Vals::new(n));
            add(&mut e.cum, values);
        }
        for key in line_keys {
            add(
                &mut lines.entry(key).or_insert_with(|| Vals::new(n)).cum,
                values,
            );
        }
        if let Some(leaf) = frames.first() {
            add(
                &mut funcs
                    .entry(leaf.function.clone())
                    .or_insert_with(|| Vals::new(n))
                    .flat,
                values,
            );
            let key = (leaf.function.clone(), leaf.file.clone(), leaf.line);
            add(
                &mut lines.entry(key).or_insert_with(|| Vals::new(n)).flat,
                values,
            );
        }
    }
    (funcs, lines, total)
}

fn add(dst: &mut [i64], values: &[i64]) {
    for (d, v) in dst.iter_mut().zip(values) {
        *d += v;
    }
}

/// Compares two site maps for sample type `t`: every site with a non-zero value on either
/// side must have equal flat and cum. Returns how many sites were compared.
fn compare_sites<K: Ord + Debug>(
    what: &str,
    ty: &str,
    t: usize,
    pprof: &BTreeMap<K, Vals>,
    ours: &BTreeMap<K, Vals>,
    errors: &mut Vec<String>,
) -> usize {
    let keys: BTreeSet<&K> = pprof.keys().chain(ours.keys()).collect();
    let mut compared = 0;
    for k in keys {
        let get = |m: &BTreeMap<K, Vals>| m.get(k).map_or((0, 0), |v| (v.flat[t], v.cum[t]));
        let (p, o) = (get(pprof), get(ours));
        if p == (0, 0) && o == (0, 0) {
            continue;
        }
        compared += 1;
        if p != o {
            errors.push(format!(
                "{what}, sample type {ty}, site {k:?}: pprof flat={} cum={}, heapspot flat={} cum={}",
                p.0, p.1, o.0, o.1
            ));
        }
    }
    compared
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TopRow {
    name: String,
    /// `(inline)`, `(partial-inline)` or empty.
    inline: String,
    flat: i64,
    cum: i64,
}

#[derive(Debug)]
struct TopTable {
    total: i64,
    rows: Vec<TopRow>,
}

/// Splits off the first `n` whitespace-separated fields of `line`; the rest keeps its
/// inner spaces.
fn fields(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut rest = line;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((out, rest))
}

/// A value pprof printed unscaled (`123B`, `-4096B`, `0`, `31`).
fn parse_value(tok: &str, unit: &str) -> Result<i64, String> {
    let digits = if tok == "0" || tok == "." {
        "0"
    } else {
        tok.strip_suffix(unit_suffix(unit)).unwrap_or(tok)
    };
    digits
        .parse()
        .map_err(|_| format!("value {tok:?} is not a raw integer in {unit}"))
}

/// Parses `go tool pprof -top` output.
fn parse_top(text: &str, unit: &str) -> Result<TopTable, String> {
    let mut total = None;
    let mut rows = Vec::new();
    let mut in_rows = false;
    for line in text.lines() {
        if !in_rows {
            if let Some(rest) = line.strip_prefix("Showing nodes accounting for ") {
                let t = rest
                    .rsplit_once(" of ")
                    .and_then(|(_, t)| t.strip_suffix(" total"))
                    .ok_or_else(|| format!("unexpected summary line {line:?}"))?;
                total = Some(parse_value(t, unit)?);
            }
            if line.split_whitespace().collect::<Vec<_>>()
                == ["flat", "flat%", "sum%", "cum", "cum%"]
            {
                in_rows = true;
            }
            continue;
        }
        let (f, rest) = fields(line, 5).ok_or_else(|| format!("unexpected top row {line:?}"))?;
        let mut name = rest.trim();
        let mut inline = "";
        for suffix in ["(inline)", "(partial-inline)"] {
            if let Some(n) = name.strip_suffix(suffix) {
                name = n.trim_end();
                inline = suffix;
            }
        }
        rows.push(TopRow {
            name: name.to_string(),
            inline: inline.to_string(),
            flat: parse_value(f[0], unit).map_err(|e| format!("{e} in {line:?}"))?,
            cum: parse_value(f[3], unit).map_err(|e| format!("{e} in {line:?}"))?,
        });
    }
    if !in_rows {
        return Err(format!("no table in pprof -top output:\n{text}"));
    }
    Ok(TopTable {
        total: total.ok_or_else(|| format!("no `Showing nodes` line in:\n{text}"))?,
        rows,
    })
}

/// Rows of a heapspot `top`/`diff` JSON report.
fn json_rows(v: &Value) -> Vec<TopRow> {
    v["rows"]
        .as_array()
        .expect("JSON report has rows")
        .iter()
        .map(|r| TopRow {
            name: r["function"].as_str().expect("row function").to_string(),
            inline: String::new(),
            flat: r["flat"].as_i64().expect("row flat"),
            cum: r["cum"].as_i64().expect("row cum"),
        })
        .collect()
}

/// Compares pprof's and heapspot's rows: same names in the same order with equal flat and
/// cum. Returns the number of rows compared.
fn compare_rows(what: &str, pprof: &[TopRow], ours: &[TopRow], errors: &mut Vec<String>) -> usize {
    let before = errors.len();
    for (i, (p, o)) in pprof.iter().zip(ours).enumerate() {
        if p.name != o.name || p.flat != o.flat || p.cum != o.cum {
            errors.push(format!(
                "{what}: row {i}: pprof {:?} flat={} cum={}, heapspot {:?} flat={} cum={}",
                p.name, p.flat, p.cum, o.name, o.flat, o.cum
            ));
            break; // Later rows are shifted; the set comparison below says the rest.
        }
    }
    if pprof.len() != ours.len() || errors.len() > before {
        let pn: BTreeMap<&str, &TopRow> = pprof.iter().map(|r| (r.name.as_str(), r)).collect();
        let on: BTreeMap<&str, &TopRow> = ours.iter().map(|r| (r.name.as_str(), r)).collect();
        for (name, r) in &pn {
            match on.get(name) {
                None => errors.push(format!(
                    "{what}: site {name:?} only in pprof (flat={} cum={})",
                    r.flat, r.cum
                )),
                Some(o) if (o.flat, o.cum) != (r.flat, r.cum) => errors.push(format!(
                    "{what}: site {name:?}: pprof flat={} cum={}, heapspot flat={} cum={}",
                    r.flat, r.cum, o.flat, o.cum
                )),
                Some(_) => {}
            }
        }
        for (name, o) in &on {
            if !pn.contains_key(name) {
                errors.push(format!(
                    "{what}: site {name:?} only in heapspot (flat={} cum={})",
                    o.flat, o.cum
                ));
            }
        }
        if pprof.len() != ours.len() {
            errors.push(format!(
                "{what}: pprof shows {} rows, heapspot {}",
                pprof.len(),
                ours.len()
            ));
        }
    }
    pprof.len().min(ours.len())
}

#[derive(Debug, Default)]
struct ListRoutine {
    /// The file name as pprof shows it (trimmed).
    file: String,
    flat: i64,
    cum: i64,
    /// line -> (flat, cum, text)
    lines: BTreeMap<i64, (i64, i64, String)>,
}

/// Parses `go tool pprof -list` output: routines by function name.
fn parse_list(text: &str, unit: &str) -> Result<BTreeMap<String, ListRoutine>, String> {
    let mut out: BTreeMap<String, ListRoutine> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("Total: ") && current.is_none() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("ROUTINE ======================== ") {
            let (name, file) = rest
                .rsplit_once(" in ")
                .ok_or_else(|| format!("unexpected ROUTINE line {line:?}"))?;
            if out.contains_key(name) {
                return Err(format!("routine {name} listed twice (several files?)"));
            }
            out.insert(
                name.to_string(),
                ListRoutine {
                    file: file.to_string(),
                    ..ListRoutine::default()
                },
            );
            current = Some(name.to_string());
            continue;
        }
        let r = current
            .as_ref()
            .and_then(|c| out.get_mut(c))
            .ok_or_else(|| format!("line {line:?} before any ROUTINE"))?;
        if let Some(head) = line.strip_suffix(" of Total") {
            let (f, rest) = fields(head, 2).ok_or_else(|| format!("bad line {line:?}"))?;
            if !rest.trim_start().starts_with("(flat, cum)") {
                return Err(format!("unexpected routine summary {line:?}"));
            }
            r.flat = parse_value(f[0], unit)?;
            r.cum = parse_value(f[1], unit)?;
            continue;
        }
        if line.trim_start().starts_with("Error: ") {
            return Err(format!("pprof did not find a source file: {}", line.trim()));
        }
        let (f, rest) = fields(line, 2).ok_or_else(|| format!("unexpected list line {line:?}"))?;
        let (num, src) = rest
            .trim_start()
            .split_once(':')
            .ok_or_else(|| format!("unexpected list line {line:?}"))?;
        let num: i64 = num
            .parse()
            .map_err(|_| format!("unexpected list line {line:?}"))?;
        let flat = parse_value(f[0], unit)?;
        let cum = parse_value(f[1], unit)?;
        if r.lines.insert(num, (flat, cum, src.to_string())).is_some() {
            return Err(format!("line {num} listed twice in {line:?}"));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// 1. Per function and per line, from go tool pprof -raw
// ---------------------------------------------------------------------------------------

#[test]
fn raw_function_and_line_parity() {
    if !go_ready("raw_function_and_line_parity") {
        return;
    }
    let start = Instant::now();
    let f = fixtures();
    let outputs = par_map(&f.profiles, |p| {
        pprof(&pprof_args(&["-raw".to_string(), path_arg(&p.path)])).expect("pprof -raw output")
    });
    let mut errors = Vec::new();
    let (mut types_checked, mut fn_sites, mut line_sites, mut samples) = (0, 0, 0, 0);
    for (p, text) in f.profiles.iter().zip(&outputs) {
        let raw =
            parse_raw(text).unwrap_or_else(|e| panic!("{}: parsing pprof -raw: {e}", p.label));
        samples += raw.samples.len();
        let want: Vec<String> = p.types.iter().map(|(t, u)| format!("{t}/{u}")).collect();
        assert_eq!(raw.types, want, "{}: sample types differ", p.label);
        let (pf, pl, ptotal) = fold_raw(&raw);

        let profile = Profile::from_path(&p.path, Limits::default()).unwrap();
        let agg = Aggregate::from_profile(&profile)
            .unwrap_or_else(|e| panic!("{}: heapspot cannot fold it: {e}", p.label));
        assert_eq!(
            agg.default_sample_type.is_some(),
            raw.default_type.is_some(),
            "{}: default sample type: pprof {:?}, heapspot {:?}",
            p.label,
            raw.default_type,
            agg.default_sample_type
        );
        let n = p.types.len();
        let mut of: BTreeMap<String, Vals> = BTreeMap::new();
        for s in agg.functions.sites() {
            let e = of
                .entry(s.key.function.to_string())
                .or_insert_with(|| Vals::new(n));
            add(&mut e.flat, &s.flat);
            add(&mut e.cum, &s.cum);
        }
        let mut ol: BTreeMap<LineKey, Vals> = BTreeMap::new();
        for s in agg.lines.sites() {
            let key = (
                s.key.function.to_string(),
                s.key.file.to_string(),
                s.key.line,
            );
            let e = ol.entry(key).or_insert_with(|| Vals::new(n));
            add(&mut e.flat, &s.flat);
            add(&mut e.cum, &s.cum);
        }
        for (t, (ty, _)) in p.types.iter().enumerate() {
            types_checked += 1;
            if agg.total[t] != ptotal[t] {
                errors.push(format!(
                    "{}, sample type {ty}: total pprof={} heapspot={}",
                    p.label, ptotal[t], agg.total[t]
                ));
            }
            let what = format!("{} per function", p.label);
            fn_sites += compare_sites(&what, ty, t, &pf, &of, &mut errors);
            let what = format!("{} per line", p.label);
            line_sites += compare_sites(&what, ty, t, &pl, &ol, &mut errors);
        }
        // Some site must carry a value, or the comparison proved nothing for this file.
        assert!(
            pf.values().any(|v| v.flat.iter().any(|&x| x != 0)),
            "{}: pprof -raw shows no non-zero sample",
            p.label
        );
    }
    eprintln!(
        "raw parity: {} profiles, {types_checked} (profile, sample type) pairs, {samples} raw \
         samples, {fn_sites} function sites and {line_sites} line sites compared in {:.1?}",
        f.profiles.len(),
        start.elapsed()
    );
    assert_no_errors("raw_function_and_line_parity", &errors);
}

// ---------------------------------------------------------------------------------------
// 2. go tool pprof -top against heapspot top
// ---------------------------------------------------------------------------------------

#[test]
fn top_parity_every_profile_and_sample_type() {
    if !go_ready("top_parity_every_profile_and_sample_type") {
        return;
    }
    let start = Instant::now();
    let f = fixtures();
    let jobs: Vec<(&Fixture, usize)> = f
        .profiles
        .iter()
        .flat_map(|p| (0..p.types.len()).map(move |t| (p, t)))
        .collect();
    let results = par_map(&jobs, |&(p, t)| {
        let (ty, unit) = &p.types[t];
        let mut args = top_flags(ty, unit);
        args.push(path_arg(&p.path));
        let text = pprof(&pprof_args(&args)).expect("pprof -top output");
        // The `(inline)` labels come from the library (the JSON has none).
        let agg = heapspot::profile::load_aggregate(&p.path, Limits::default())
            .unwrap_or_else(|e| panic!("{}: heapspot cannot load it: {e}", p.label));
        let labels: BTreeMap<String, &'static str> = agg
            .top(Granularity::Functions, t, false)
            .into_iter()
            .map(|s| (s.key.function.to_string(), s.inline_label(t).trim()))
            .collect();
        let ours = heapspot_ok(&[
            "top".into(),
            path_arg(&p.path),
            "--sample-index".into(),
            ty.clone(),
            "-n".into(),
            "0".into(),
            "--format".into(),
            "json".into(),
        ]);
        (text, ours, labels)
    });
    let mut errors = Vec::new();
    let mut rows = 0;
    let mut inline_labels = 0;
    for (&(p, t), (text, ours, labels)) in jobs.iter().zip(&results) {
        let (ty, unit) = &p.types[t];
        let what = format!("{} -top, sample type {ty}", p.label);
        let table = parse_top(text, unit).unwrap_or_else(|e| panic!("{what}: {e}"));
        let our_rows = json_rows(ours);
        rows += compare_rows(&what, &table.rows, &our_rows, &mut errors);
        let our_total = ours["total"].as_i64().expect("total");
        if table.total != our_total {
            errors.push(format!(
                "{what}: total pprof={} heapspot={our_total}",
                table.total
            ));
        }
        if table.rows.is_empty() {
            errors.push(format!("{what}: pprof shows no rows"));
        }
        for r in &table.rows {
            let label = labels.get(&r.name).copied().unwrap_or("");
            inline_labels += 1;
            if label != r.inline {
                errors.push(format!(
                    "{what}: site {:?}: pprof label {:?}, heapspot {:?}",
                    r.name, r.inline, label
                ));
            }
        }
    }
    eprintln!(
        "top parity: {} (profile, sample type) pairs, {rows} rows and {inline_labels} inline \
         labels compared in {:.1?}",
        jobs.len(),
        start.elapsed()
    );
    assert_no_errors("top_parity_every_profile_and_sample_type", &errors);
}

/// The acceptance check: `heapspot top --sample-index inuse_space -n 10` shows pprof's top
/// ten flat values on the last heap snapshot of `service` and `globalmap`.
#[test]
fn top10_inuse_space_matches_pprof() {
    if !go_ready("top10_inuse_space_matches_pprof") {
        return;
    }
    let f = fixtures();
    for case in ["service", "globalmap"] {
        let ci = f
            .cases
            .iter()
            .position(|c| c.name == case)
            .unwrap_or_else(|| panic!("fixture case {case} is missing"));
        let last = *snapshots(f, ci, "heap")
            .last()
            .unwrap_or_else(|| panic!("{case} has no heap snapshots"));
        let mut args = top_flags("inuse_space", "bytes");
        args.push(path_arg(&last.path));
        let table = parse_top(&pprof(&pprof_args(&args)).unwrap(), "bytes")
            .unwrap_or_else(|e| panic!("{}: {e}", last.label));
        let ours = heapspot_ok(&[
            "top".into(),
            path_arg(&last.path),
            "--sample-index".into(),
            "inuse_space".into(),
            "-n".into(),
            "10".into(),
            "--format".into(),
            "json".into(),
        ]);
        let pprof_flat: Vec<i64> = table.rows.iter().take(10).map(|r| r.flat).collect();
        let our_flat: Vec<i64> = json_rows(&ours).iter().map(|r| r.flat).collect();
        assert_eq!(
            pprof_flat.len(),
            10,
            "{}: fewer than 10 pprof rows",
            last.label
        );
        assert_eq!(
            our_flat, pprof_flat,
            "{}: top-10 inuse_space flat values: heapspot (left) vs pprof (right)",
            last.label
        );
        let pprof_names: Vec<&str> = table
            .rows
            .iter()
            .take(10)
            .map(|r| r.name.as_str())
            .collect();
        let our_rows = json_rows(&ours);
        let our_names: Vec<&str> = our_rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(our_names, pprof_names, "{}: top-10 names", last.label);
    }
}

// ---------------------------------------------------------------------------------------
// 3. go tool pprof -list against heapspot list
// ---------------------------------------------------------------------------------------

/// The sample types listed per line.
const LIST_TYPES: [&str; 2] = ["inuse_space", "alloc_space"];

/// `^main\.`, one regex per package directory of the case's module, and regexes that hit
/// inlined frames in the `inlined` and `closures` cases.
fn list_regexes(case: &Case) -> Vec<String> {
    let mut v = vec![r"^main\.".to_string()];
    let mut dirs = Vec::new();
    package_dirs(&case.dir, "", &mut dirs);
    dirs.sort();
    for d in dirs {
        // A vendored package's import path is its directory under vendor/.
        let import = match d.strip_prefix("vendor/") {
            Some(p) => p.to_string(),
            None => format!("{}/{d}", case.module),
        };
        v.push(format!("^{}\\.", regex_escape(&import)));
    }
    match case.name.as_str() {
        "inlined" => {
            v.push(r"^main\.(newBuffer|cloneBytes|makeKey|newEntry|splitFields)$".to_string())
        }
        "closures" => v.push(r"^main\.startWorkers\.func1\.".to_string()),
        _ => {}
    }
    v
}

/// Sub-directories (relative, `/`-separated) holding Go files, `profiles` excluded.
fn package_dirs(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if !p.is_dir() {
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if rel.is_empty() && name == "profiles" {
            continue;
        }
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let has_go = std::fs::read_dir(&p)
            .unwrap()
            .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "go"));
        if has_go {
            out.push(r.clone());
        }
        package_dirs(&p, &r, out);
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The recorded file name relative to the case directory (`/tmp/.../<case>/x.go` and
/// `<module>/x.go` both give `x.go`).
fn case_relative(case: &Case, recorded: &str) -> Option<String> {
    let build = format!("{BUILD_ROOT}/{}/", case.name);
    let module = format!("{}/", case.module);
    recorded
        .strip_prefix(&build)
        .or_else(|| recorded.strip_prefix(&module))
        .map(str::to_string)
}

#[test]
fn list_parity() {
    if !go_ready("list_parity") {
        return;
    }
    let start = Instant::now();
    let f = fixtures();
    let mut jobs: Vec<(&Fixture, String, &str)> = Vec::new();
    for p in &f.profiles {
        for ty in LIST_TYPES {
            if p.types.iter().any(|(t, _)| t == ty) {
                for re in list_regexes(&f.cases[p.case]) {
                    jobs.push((p, re, ty));
                }
            }
        }
    }
    let results = par_map(&jobs, |(p, re, ty)| {
        let case = &f.cases[p.case];
        let text = pprof(&pprof_args(&[
            format!("-list={re}"),
            format!("-sample_index={ty}"),
            "-unit=B".into(),
            format!("-source_path={}", case.dir.display()),
            format!("-trim_path={BUILD_ROOT}/{}:{}", case.name, case.module),
            path_arg(&p.path),
        ]));
        let ours = heapspot(&[
            "list".into(),
            re.clone(),
            path_arg(&p.path),
            "--sample-index".into(),
            ty.to_string(),
            "--source-root".into(),
            path_arg(&case.dir),
            "--format".into(),
            "json".into(),
        ]);
        (text, ours)
    });

    let mut errors = Vec::new();
    let (mut routines, mut lines_compared, mut texts) = (0, 0, 0);
    let mut matched_regexes: BTreeSet<(usize, &str)> = BTreeSet::new();
    for ((p, re, ty), (text, ours)) in jobs.iter().zip(&results) {
        let case = &f.cases[p.case];
        let what = format!("{} -list {re:?}, sample type {ty}", p.label);
        let (text, ours) = match (text, ours) {
            (None, Err(e)) if e.contains("no function matches") => continue,
            (None, Err(e)) => panic!("{what}: pprof matched nothing; heapspot failed: {e}"),
            (None, Ok(_)) => {
                errors.push(format!("{what}: pprof matched nothing, heapspot did"));
                continue;
            }
            (Some(_), Err(e)) => {
                errors.push(format!("{what}: pprof matched, heapspot failed: {e}"));
                continue;
            }
            (Some(t), Ok(o)) => (t, o),
        };
        // pprof stops at a function the compiler generated (a package's `init` holding
        // its map literals) since it has no source to list: nothing to compare.
        if text.contains("could not find file <autogenerated>") {
            continue;
        }
        matched_regexes.insert((p.case, re.as_str()));
        let pl = parse_list(text, "bytes").unwrap_or_else(|e| panic!("{what}: {e}"));
        let ol = ours["routines"].as_array().expect("routines");
        let mut seen = BTreeSet::new();
        for r in ol {
            let function = r["function"].as_str().unwrap();
            let file = r["file"].as_str().unwrap();
            let rw = format!("{what}, routine {function} in {file}");
            seen.insert(function.to_string());
            routines += 1;
            let Some(pr) = pl.get(function) else {
                errors.push(format!("{rw}: only in heapspot"));
                continue;
            };
            let Some(rel) = case_relative(case, file) else {
                // Standard library code instantiated or inlined into the program
                // (`main.init.OnceValue[...].func2`, `api.renderMarkdown.SplitSeq
                // .splitSeq.func1`) matches `^main\.` or `^.../api\.` in both tools but
                // lives in GOROOT: its lines are not the workspace's to compare.
                if file.contains("/go/src/") {
                    continue;
                }
                errors.push(format!("{rw}: not a file of the fixture's workspace"));
                continue;
            };
            if pr.file != rel {
                errors.push(format!("{rw}: pprof lists it in {:?}", pr.file));
            }
            let (rf, rc) = (r["flat"].as_i64().unwrap(), r["cum"].as_i64().unwrap());
            if (pr.flat, pr.cum) != (rf, rc) {
                errors.push(format!(
                    "{rw}: routine total pprof flat={} cum={}, heapspot flat={rf} cum={rc}",
                    pr.flat, pr.cum
                ));
            }
            // The source must be the committed fixture file.
            let local = case.dir.join(&rel);
            let source = r["source"].as_str().map(PathBuf::from);
            let expected = local.canonicalize().ok();
            if source.as_ref().and_then(|s| s.canonicalize().ok()) != expected || expected.is_none()
            {
                errors.push(format!(
                    "{rw}: heapspot read {source:?}, expected {}",
                    local.display()
                ));
            }
            let local_text = std::fs::read_to_string(&local).unwrap_or_default();
            let local_lines: Vec<&str> = local_text.lines().collect();
            let mut ours_by_line: BTreeMap<i64, (i64, i64, Option<&str>)> = BTreeMap::new();
            for l in r["lines"].as_array().unwrap() {
                ours_by_line.insert(
                    l["line"].as_i64().unwrap(),
                    (
                        l["flat"].as_i64().unwrap(),
                        l["cum"].as_i64().unwrap(),
                        l["text"].as_str(),
                    ),
                );
            }
            let nums: BTreeSet<i64> = pr
                .lines
                .keys()
                .chain(ours_by_line.keys())
                .copied()
                .collect();
            for n in nums {
                let p_vals = pr.lines.get(&n).map_or((0, 0), |&(f, c, _)| (f, c));
                let (of, oc, otext) = ours_by_line.get(&n).copied().unwrap_or((0, 0, None));
                if p_vals == (0, 0) && (of, oc) == (0, 0) {
                    continue;
                }
                lines_compared += 1;
                if p_vals != (of, oc) {
                    errors.push(format!(
                        "{rw}, line {n}: pprof flat={} cum={}, heapspot flat={of} cum={oc}",
                        p_vals.0, p_vals.1
                    ));
                }
                let want = usize::try_from(n - 1).ok().and_then(|i| local_lines.get(i));
                texts += 1;
                if otext.is_none() || otext != want.copied() {
                    errors.push(format!(
                        "{rw}, line {n}: heapspot text {otext:?}, local file has {want:?}"
                    ));
                }
                if let Some((_, _, ptext)) = pr.lines.get(&n) {
                    if Some(ptext.as_str()) != want.copied() {
                        errors.push(format!(
                            "{rw}, line {n}: pprof text {ptext:?}, local file has {want:?}"
                        ));
                    }
                }
            }
        }
        for (name, pr) in &pl {
            if !seen.contains(name) && (pr.flat, pr.cum) != (0, 0) {
                errors.push(format!(
                    "{what}: routine {name} only in pprof (flat={} cum={})",
                    pr.flat, pr.cum
                ));
            }
        }
    }
    // Not vacuous: in every case with heap profiles `^main\.` and the inlining regexes
    // matched somewhere, and so did some package regex when the case has packages. (A
    // package may have no samples at all, e.g. service's catalog allocates only in `init`,
    // before the sampling rate is lowered; then both tools must say so, checked above.)
    let mut unmatched = Vec::new();
    for (ci, case) in f.cases.iter().enumerate() {
        if !jobs.iter().any(|(p, _, _)| p.case == ci) {
            continue;
        }
        let res = list_regexes(case);
        let mut packages = (0, 0);
        for re in &res {
            let matched = matched_regexes.contains(&(ci, re.as_str()));
            let is_package = !re.starts_with(r"^main\.");
            if is_package {
                packages.0 += 1;
                packages.1 += usize::from(matched);
            }
            if !matched {
                unmatched.push(format!("{}: {re}", case.name));
                if !is_package {
                    errors.push(format!(
                        "{}: -list {re:?} matched in no profile of the case",
                        case.name
                    ));
                }
            }
        }
        if packages.0 > 0 && packages.1 == 0 {
            errors.push(format!(
                "{}: none of the package regexes matched in any profile",
                case.name
            ));
        }
    }
    for case in ["inlined", "closures", "trimpath", "vendored"] {
        assert!(
            f.cases.iter().any(|c| c.name == case),
            "the {case} fixture case is missing"
        );
    }
    eprintln!(
        "list parity: {} (profile, regex, sample type) runs, {routines} routines, \
         {lines_compared} lines and {texts} source texts compared in {:.1?}; regexes that \
         matched nothing in either tool: {unmatched:?}",
        jobs.len(),
        start.elapsed()
    );
    assert_no_errors("list_parity", &errors);
}

// ---------------------------------------------------------------------------------------
// 4. and 5. -base and merging several profiles
// ---------------------------------------------------------------------------------------

/// Pairs of snapshots per case and kind: (first, last) for diffs, (2, 3) for merges.
fn snapshot_pairs(diff: bool) -> Vec<(&'static Fixture, &'static Fixture)> {
    let f = fixtures();
    let mut v = Vec::new();
    for ci in 0..f.cases.len() {
        for kind in ["heap", "goroutine"] {
            let s = snapshots(f, ci, kind);
            if diff && s.len() >= 2 {
                v.push((s[0], s[s.len() - 1]));
            }
            if !diff && s.len() >= 3 {
                v.push((s[1], s[2]));
            }
        }
    }
    v
}

fn two_profile_parity(test: &str, diff: bool) {
    if !go_ready(test) {
        return;
    }
    let start = Instant::now();
    let pairs = snapshot_pairs(diff);
    let heap_cases = pairs
        .iter()
        .filter(|(a, _)| a.file_name.starts_with("heap-"))
        .count();
    let f = fixtures();
    let with_heaps = (0..f.cases.len())
        .filter(|&ci| snapshots(f, ci, "heap").len() >= if diff { 2 } else { 3 })
        .count();
    assert!(
        heap_cases == with_heaps && heap_cases >= 5,
        "{test}: too few heap pairs"
    );
    let jobs: Vec<(&Fixture, &Fixture, usize)> = pairs
        .iter()
        .flat_map(|&(a, b)| (0..a.types.len()).map(move |t| (a, b, t)))
        .collect();
    let results = par_map(&jobs, |&(a, b, t)| {
        let (ty, unit) = &a.types[t];
        let mut args = top_flags(ty, unit);
        let mut ours = vec![];
        if diff {
            args.extend(["-base".into(), path_arg(&a.path), path_arg(&b.path)]);
            ours.extend(["diff".into(), path_arg(&a.path), path_arg(&b.path)]);
        } else {
            args.extend([path_arg(&a.path), path_arg(&b.path)]);
            ours.extend(["top".into(), path_arg(&a.path), path_arg(&b.path)]);
        }
        ours.extend([
            "--sample-index".into(),
            ty.clone(),
            "-n".into(),
            "0".into(),
            "--format".into(),
            "json".into(),
        ]);
        (pprof(&pprof_args(&args)).unwrap(), heapspot_ok(&ours))
    });
    let mut errors = Vec::new();
    let mut rows = 0;
    for (&(a, b, t), (text, ours)) in jobs.iter().zip(&results) {
        let (ty, unit) = &a.types[t];
        let what = if diff {
            format!("-base {} {}, sample type {ty}", a.label, b.label)
        } else {
            format!("merge {} + {}, sample type {ty}", a.label, b.label)
        };
        let table = parse_top(text, unit).unwrap_or_else(|e| panic!("{what}: {e}"));
        rows += compare_rows(&what, &table.rows, &json_rows(ours), &mut errors);
        if !diff {
            let total = ours["total"].as_i64().unwrap();
            if total != table.total {
                errors.push(format!(
                    "{what}: total pprof={} heapspot={total}",
                    table.total
                ));
            }
        }
    }
    eprintln!(
        "{test}: {} profile pairs, {} (pair, sample type) reports, {rows} rows compared in \
         {:.1?}",
        pairs.len(),
        jobs.len(),
        start.elapsed()
    );
    assert_no_errors(test, &errors);
}

#[test]
fn base_diff_parity() {
    two_profile_parity("base_diff_parity", true);
}

#[test]
fn merge_parity() {
    two_profile_parity("merge_parity", false);
}

/// The goroutines that wait for a response body to be read or closed (net/http's
/// `(*persistConn).readLoop` parked in `select`, not in `Peek` or a read), counted per
/// goroutine snapshot from pprof's decoding, equal heapspot's `unread_response_bodies`;
/// and the cases that leave bodies open show them rising.
#[test]
fn unread_response_bodies_match_pprof() {
    if !go_ready("unread_response_bodies_match_pprof") {
        return;
    }
    let f = fixtures();
    let mut errors = Vec::new();
    let mut rising = Vec::new();
    for (ci, case) in f.cases.iter().enumerate() {
        let snaps = snapshots(f, ci, "goroutine");
        if snaps.is_empty() {
            continue;
        }
        let ws = heapspot::source::index::Workspace::load(&case.dir).unwrap();
        let mapper = heapspot::mapping::Mapper::from_workspace(&ws, Vec::new());
        let profiles: Vec<Profile> = snaps
            .iter()
            .map(|p| Profile::from_path(&p.path, Limits::default()).unwrap())
            .collect();
        let ours = heapspot::evidence::gather(&mapper, &profiles)
            .unwrap()
            .unread_response_bodies;
        let theirs: Vec<i64> = snaps
            .iter()
            .map(|p| {
                let text = pprof(&pprof_args(&["-raw".to_string(), path_arg(&p.path)]))
                    .expect("pprof -raw output");
                let raw = parse_raw(&text).unwrap();
                raw.samples
                    .iter()
                    .filter(|(_, locs)| {
                        let names: Vec<&str> = locs
                            .iter()
                            .flat_map(|id| raw.locations[id].iter())
                            .map(|fr| fr.function.as_str())
                            .collect();
                        let Some(at) = names
                            .iter()
                            .position(|n| *n == "net/http.(*persistConn).readLoop")
                        else {
                            return false;
                        };
                        let inner = &names[..at];
                        inner.contains(&"runtime.selectgo")
                            && !inner
                                .iter()
                                .any(|n| n.ends_with(".Peek") || n.ends_with(".Read"))
                    })
                    .map(|(v, _)| v[0])
                    .sum()
            })
            .collect();
        if ours != theirs {
            errors.push(format!(
                "{}: unread response bodies pprof={theirs:?} heapspot={ours:?}",
                case.name
            ));
        }
        if theirs.len() >= 3 && theirs.windows(2).all(|w| w[1] > w[0]) {
            rising.push(case.name.clone());
        }
    }
    eprintln!("unread response bodies rise in: {rising:?}");
    assert_no_errors("unread_response_bodies_match_pprof", &errors);
    for case in ["leak-http", "blind4-scraper", "blind2-hookdispatch"] {
        assert!(rising.iter().any(|c| c == case), "{case}: {rising:?}");
    }
}

/// The text report itself: below its header, `heapspot top -n 0` prints exactly what
/// `go tool pprof -top` prints with every node shown (same units chosen for the report,
/// same value and percentage formatting, same `(inline)` labels), for every profile and
/// sample type.
#[test]
fn top_text_is_identical_to_pprof() {
    if !go_ready("top_text_is_identical_to_pprof") {
        return;
    }
    let f = fixtures();
    let jobs: Vec<(&Fixture, usize)> = f
        .profiles
        .iter()
        .flat_map(|p| (0..p.types.len()).map(move |t| (p, t)))
        .collect();
    let table = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.trim_start().starts_with("flat  flat%"))
            .map(str::to_string)
            .collect()
    };
    let results = par_map(&jobs, |&(p, t)| {
        let (ty, _) = &p.types[t];
        let args: Vec<String> = [
            "-top",
            "-nodecount=1000000",
            "-nodefraction=0",
            "-edgefraction=0",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("-sample_index={ty}"), path_arg(&p.path)])
        .collect();
        let theirs = pprof(&pprof_args(&args)).expect("pprof -top output");
        let ours = Command::new(env!("CARGO_BIN_EXE_heapspot"))
            .args(["top", "-n", "0", "--sample-index", ty])
            .arg(&p.path)
            .output()
            .expect("run heapspot");
        assert!(ours.status.success(), "{}: heapspot top failed", p.label);
        (
            table(&theirs),
            table(&String::from_utf8_lossy(&ours.stdout)),
        )
    });
    let mut errors = Vec::new();
    let mut lines = 0;
    for (&(p, t), (theirs, ours)) in jobs.iter().zip(&results) {
        lines += theirs.len();
        if theirs.len() < 2 || theirs != ours {
            let first = theirs
                .iter()
                .zip(ours)
                .position(|(a, b)| a != b)
                .unwrap_or(theirs.len().min(ours.len()));
            errors.push(format!(
                "{} sample type {}: text differs at row {first}: pprof {:?}, heapspot {:?}",
                p.label,
                p.types[t].0,
                theirs.get(first),
                ours.get(first)
            ));
        }
    }
    eprintln!("top text: {} reports, {lines} lines identical", jobs.len());
    assert_no_errors("top_text_is_identical_to_pprof", &errors);
}
