//! The numbers of the editor annotations against `go tool pprof` on the fixture profiles:
//!
//! * `hints_match_pprof_list`: per line of a few files, the last snapshot's `inuse_space`
//!   in inlay hints equals `go tool pprof -list`'s flat value where the line allocates
//!   directly, and lies between flat and cum otherwise; every line whose flat value is
//!   worth showing has a hint.
//! * `hints_match_pprof_traces`: every hint of every workspace file equals the sum of the
//!   `go tool pprof -traces` samples whose innermost workspace frame is that line, and
//!   every such line worth showing has a hint.
//! * `call_paths_match_pprof_traces`: the call paths into every line, ranked, equal the
//!   traces grouped by their function names from that frame outwards; the top path into
//!   the session leak names its caller chain.
//!
//! Needs Go on PATH; without it the tests fail unless `HEAPSPOT_SKIP_GO_PARITY=1` is set.

// Test helpers fail the test on any error, which is what unwrap does; the skip note goes
// to stderr on purpose.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use heapspot::annotate::{
    inlay_hints, Annotations, CallPaths, MAX_PATHS_PER_LINE, MIN_BYTES, MIN_SHARE,
};
use heapspot::config::Config;
use heapspot::evidence::Evidence;
use heapspot::findings::Finding;
use heapspot::mapping::{AllocKind, Mapper};
use heapspot::pipeline::{self, Request};
use heapspot::profile::{Limits, Profile};
use heapspot::source::index::Workspace;

/// Where the fixture programs ran; recorded file names start with `<this>/<case>/`.
const BUILD_ROOT: &str = "/tmp/heapspot-fixture-build";

struct Case {
    name: String,
    root: PathBuf,
    module: String,
    ws: Workspace,
    mapper: Mapper,
    config: Config,
    evidence: Evidence,
    findings: Vec<Finding>,
    /// The latest heap snapshot.
    last: PathBuf,
    last_profile: Profile,
}

impl Case {
    fn load(name: &str) -> Case {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name)
            .canonicalize()
            .unwrap();
        let module = std::fs::read_to_string(root.join("go.mod"))
            .unwrap()
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("module ")
                    .map(|m| m.trim().to_string())
            })
            .unwrap();
        let config = Config::load(&root).unwrap();
        let ws = Workspace::load(&root).unwrap();
        let mapper = Mapper::from_workspace(&ws, config.path_mappings.clone());
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("heap-")
            })
            .collect();
        files.sort();
        let profiles: Vec<Profile> = files
            .iter()
            .map(|p| Profile::from_path(p, Limits::default()).unwrap())
            .collect();
        let outcome = pipeline::run(Request {
            root: &root,
            config: &config,
            ws: &ws,
            mapper: &mapper,
            heap: &profiles,
            goroutines: &[],
            base: None,
            overrides: &[],
        });
        assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
        let (evidence, findings) = (outcome.heap.unwrap(), outcome.findings);
        let (i, _) = profiles
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| p.time_nanos)
            .unwrap();
        let last = files[i].clone();
        let last_profile = Profile::from_path(&last, Limits::default()).unwrap();
        Case {
            name: name.to_string(),
            root,
            module,
            ws,
            mapper,
            config,
            evidence,
            findings,
            last,
            last_profile,
        }
    }

    fn sample(&self) -> usize {
        self.evidence.type_index("inuse_space").unwrap()
    }

    fn annotations(&self) -> Annotations<'_> {
        Annotations {
            evidence: &self.evidence,
            sample: self.sample(),
            findings: &self.findings,
            thresholds: &self.config.thresholds,
            base: None,
        }
    }

    /// Workspace-relative path of a recorded file name.
    fn rel_of_recorded<'a>(&self, recorded: &'a str) -> Option<&'a str> {
        recorded.strip_prefix(&format!("{BUILD_ROOT}/{}/", self.name))
    }

    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn is_workspace_function(&self, f: &str) -> bool {
        f.starts_with("main.")
            || f.strip_prefix(&self.module)
                .is_some_and(|r| r.starts_with('.') || r.starts_with('/'))
    }

    /// Whether a value of the last snapshot is worth a hint (the documented rule).
    fn worth(&self, v: i64, total: i64) -> bool {
        v > 0 && (v as f64 / total as f64 >= MIN_SHARE || v >= MIN_BYTES)
    }
}

fn go_ready(test: &str) -> bool {
    let ok = Command::new("go")
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("HEAPSPOT_SKIP_GO_PARITY").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: Go is unavailable and HEAPSPOT_SKIP_GO_PARITY=1 is set");
        return false;
    }
    assert!(
        ok,
        "{test}: `go version` failed; install Go or set HEAPSPOT_SKIP_GO_PARITY=1"
    );
    true
}

fn pprof(args: &[&str]) -> String {
    let out = Command::new("go")
        .args([
            "tool",
            "pprof",
            "-symbolize=none",
            "-sample_index=inuse_space",
            "-unit=B",
        ])
        .args(args)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go tool pprof {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `1234B` or `.` (zero).
fn bytes(tok: &str) -> i64 {
    if tok == "." || tok == "0" {
        return 0;
    }
    tok.strip_suffix('B')
        .unwrap_or_else(|| panic!("not a byte value: {tok:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("not a byte value: {tok:?}"))
}

/// Flat and cum per (recorded file, line).
type Listed = BTreeMap<(String, u32), (i64, i64)>;

/// `go tool pprof -list`: the total and, per (file relative to the case root, line), flat
/// and cum summed over the routines listed. pprof reads the sources from the fixture
/// directory: the recorded build directory is trimmed and `root` searched instead.
fn list(profile: &Path, regex: &str, case: &str, root: &Path) -> (i64, Listed) {
    let text = pprof(&[
        &format!("-list={regex}"),
        &format!("-trim_path={BUILD_ROOT}/{case}"),
        &format!("-source_path={}", root.display()),
        profile.to_str().unwrap(),
    ]);
    let mut total = 0;
    let mut file = String::new();
    let mut out = Listed::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("Total: ") {
            total = bytes(t.trim());
        } else if let Some(r) = line.strip_prefix("ROUTINE ======================== ") {
            file = r.rsplit_once(" in ").unwrap().1.to_string();
        } else if line.ends_with("of Total") {
            continue;
        } else if line.trim_start().starts_with("Error:") {
            panic!("go tool pprof -list: {line}");
        } else {
            let mut it = line.split_whitespace();
            let (Some(f), Some(c), Some(n)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let n: u32 = n
                .split(':')
                .next()
                .unwrap_or_default()
                .parse()
                .unwrap_or_else(|_| panic!("{line:?}"));
            let e = out.entry((file.clone(), n)).or_default();
            e.0 += bytes(f);
            e.1 += bytes(c);
        }
    }
    assert!(total > 0, "no total in pprof -list output");
    (total, out)
}

/// One `go tool pprof -traces -lines` sample: value and frames (function, file, line),
/// leaf first.
struct Trace {
    value: i64,
    frames: Vec<(String, String, u32)>,
}

fn traces(profile: &Path) -> Vec<Trace> {
    let text = pprof(&["-traces", "-lines", profile.to_str().unwrap()]);
    let mut out: Vec<Trace> = Vec::new();
    let mut current: Option<Trace> = None;
    for line in text.lines() {
        if line.starts_with("-----------+") {
            out.extend(current.take());
            current = Some(Trace {
                value: 0,
                frames: Vec::new(),
            });
            continue;
        }
        let Some(t) = current.as_mut() else { continue };
        // Label lines (`bytes:  48B`) precede the frames.
        if line.trim_start().starts_with("bytes:") || line.trim().is_empty() {
            continue;
        }
        let mut rest = line.trim_start();
        if t.frames.is_empty() {
            let (v, r) = rest.split_once(char::is_whitespace).unwrap();
            t.value = bytes(v);
            rest = r.trim_start();
        }
        let rest = rest.trim_end().trim_end_matches(" (inline)");
        let (func, place) = rest.rsplit_once(' ').unwrap();
        let (file, ln) = place.rsplit_once(':').unwrap();
        t.frames
            .push((func.to_string(), file.to_string(), ln.parse().unwrap()));
    }
    out.extend(current);
    assert!(out.len() > 10, "only {} traces", out.len());
    out
}

/// Per workspace-relative (file, line): the traces' values by their innermost workspace
/// frame, and the paths into it (function names outermost first) with their values.
type Attributed = BTreeMap<(String, u32), (i64, BTreeMap<Vec<String>, i64>)>;

fn attribute(c: &Case, traces: &[Trace]) -> Attributed {
    let mut out = Attributed::new();
    for t in traces {
        let Some(k) = t
            .frames
            .iter()
            .position(|(f, _, _)| c.is_workspace_function(f))
        else {
            continue;
        };
        let (_, file, line) = &t.frames[k];
        let rel = c
            .rel_of_recorded(file)
            .unwrap_or_else(|| panic!("workspace frame in {file}"));
        let path: Vec<String> = t.frames[k..]
            .iter()
            .rev()
            .map(|(f, _, _)| f.clone())
            .collect();
        let e = out.entry((rel.to_string(), *line)).or_default();
        e.0 += t.value;
        *e.1.entry(path).or_default() += t.value;
    }
    out
}

#[test]
fn hints_match_pprof_list() {
    if !go_ready("hints_match_pprof_list") {
        return;
    }
    let mut exact = 0;
    let mut bounded = 0;
    for (case, files) in [
        (
            "service",
            vec![
                ("cache/session.go", r"shopsvc/cache\."),
                ("cache/store.go", r"shopsvc/cache\."),
                ("ingest/ingest.go", r"shopsvc/ingest\."),
            ],
        ),
        ("globalmap", vec![("main.go", r"^main\.")]),
    ] {
        let c = Case::load(case);
        let a = c.annotations();
        for (rel, regex) in files {
            let (total, listed) = list(&c.last, regex, case, &c.root);
            let recorded = rel.to_string();
            let path = c.root.join(rel);
            let hints = inlay_hints(&a, &path);
            assert!(!hints.is_empty(), "{case}/{rel}: no hints");
            for h in &hints {
                let (flat, cum) = listed
                    .get(&(recorded.clone(), h.line))
                    .copied()
                    .unwrap_or_default();
                let le = c.evidence.line(&path, h.line).unwrap();
                let direct = le.kinds.keys().all(|k| *k == AllocKind::Direct);
                if direct {
                    assert_eq!(
                        h.value, flat,
                        "{case}/{rel}:{} hint vs pprof -list flat",
                        h.line
                    );
                    exact += 1;
                } else {
                    assert!(
                        flat <= h.value && h.value <= cum,
                        "{case}/{rel}:{}: {} not within pprof's flat {flat} and cum {cum}",
                        h.line,
                        h.value
                    );
                    bounded += 1;
                }
            }
            for ((f, n), (flat, _)) in &listed {
                if *f == recorded && c.worth(*flat, total) {
                    assert!(
                        hints.iter().any(|h| h.line == *n),
                        "{case}/{rel}:{n}: pprof shows {flat}B flat, no hint"
                    );
                }
            }
        }
    }
    eprintln!(
        "hints_match_pprof_list: {exact} lines equal to pprof's flat, {bounded} within flat..cum"
    );
    assert!(exact >= 10, "only {exact} lines compared exactly");
}

#[test]
fn hints_match_pprof_traces() {
    if !go_ready("hints_match_pprof_traces") {
        return;
    }
    for case in ["service", "globalmap"] {
        let c = Case::load(case);
        let a = c.annotations();
        let total = c.evidence.snapshots.last().unwrap().total[c.sample()];
        let want = attribute(&c, &traces(&c.last));
        let mut got: BTreeMap<(String, u32), i64> = BTreeMap::new();
        for f in c.ws.files() {
            for h in inlay_hints(&a, &f.path) {
                got.insert((c.rel(&f.path), h.line), h.value);
            }
        }
        assert!(got.len() >= 8, "{case}: only {} hints", got.len());
        eprintln!(
            "hints_match_pprof_traces: {case}: {} hints, {} attributed lines in pprof",
            got.len(),
            want.len()
        );
        for (k, v) in &got {
            let w = want.get(k).map_or(0, |e| e.0);
            assert_eq!(*v, w, "{case}/{}:{}: hint vs pprof -traces", k.0, k.1);
        }
        for (k, (v, _)) in &want {
            if c.worth(*v, total) {
                assert!(
                    got.contains_key(k),
                    "{case}/{}:{}: {v}B in pprof, no hint",
                    k.0,
                    k.1
                );
            }
        }
    }
}

#[test]
fn call_paths_match_pprof_traces() {
    if !go_ready("call_paths_match_pprof_traces") {
        return;
    }
    for case in ["service", "globalmap"] {
        let c = Case::load(case);
        let paths = CallPaths::build(&c.mapper, &c.last_profile, c.sample()).unwrap();
        let want = attribute(&c, &traces(&c.last));
        let mut compared = 0;
        for ((rel, line), (total, by_path)) in &want {
            let path = c.root.join(rel);
            assert_eq!(
                paths.line_total(&path, *line),
                *total,
                "{case}/{rel}:{line}"
            );
            let mut ranked: Vec<(&Vec<String>, i64)> = by_path
                .iter()
                .filter(|(_, v)| **v != 0)
                .map(|(p, v)| (p, *v))
                .collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            ranked.truncate(MAX_PATHS_PER_LINE);
            let ours: Vec<(Vec<String>, i64)> = paths
                .top(&path, *line, MAX_PATHS_PER_LINE)
                .iter()
                .map(|p| (p.frames.iter().map(|f| f.to_string()).collect(), p.value))
                .collect();
            let theirs: Vec<(Vec<String>, i64)> =
                ranked.into_iter().map(|(p, v)| (p.clone(), v)).collect();
            assert_eq!(
                ours, theirs,
                "{case}/{rel}:{line}: call paths vs pprof -traces"
            );
            compared += ours.len();
        }
        eprintln!(
            "call_paths_match_pprof_traces: {case}: {compared} paths into {} lines",
            want.len()
        );
        assert!(compared >= 10, "{case}: only {compared} paths compared");
    }
    // The session leak: the top path into `Scratch: make([]byte, 1024)` comes from the
    // product handler through Touch.
    let c = Case::load("service");
    let paths = CallPaths::build(&c.mapper, &c.last_profile, c.sample()).unwrap();
    let top = &paths.top(&c.root.join("cache/session.go"), 47, 1)[0];
    let names: Vec<&str> = top.frames.iter().map(|f| f.as_ref()).collect();
    assert_eq!(
        names[names.len() - 2..],
        [
            "main.(*app).handleProduct",
            "example.com/shopsvc/cache.Touch"
        ]
    );
    assert_eq!(names[0], "main.simulateTraffic");
}
