//! Live sources end to end: `heapspot capture` (the real binary) polls a running Go
//! program (`tests/live/growing`) whose heap grows by exactly 256 KiB per `/grow`, and the
//! snapshots it saves decode, list in time order and show the growing line rising by
//! exactly that much; one snapshot's total is checked against `go tool pprof -raw`.
//!
//! Needs Go on PATH; without it the live tests print that they were skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

#[path = "support/live.rs"]
mod live;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use heapspot::profile::{Aggregate, Profile};
use heapspot::sources::{Kind, SnapshotStore};

/// Bytes the program retains per request to `/grow` (64 chunks of 4 KiB).
const GROWTH: i64 = 256 * 1024;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "heapspot-live-sources-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn heapspot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heapspot"))
        .args(args)
        // A proxy that does not exist: loopback endpoints must bypass it.
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("cannot run heapspot")
}

/// Runs `heapspot capture ARGS`, requires success, and returns the printed paths.
fn capture(args: &[&str]) -> Vec<PathBuf> {
    let mut all = vec!["capture"];
    all.extend_from_slice(args);
    let out = heapspot(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "heapspot {}: {}\n{stderr}",
        all.join(" "),
        out.status
    );
    assert!(
        stderr.trim().is_empty(),
        "heapspot capture complained: {stderr}"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// In-use bytes flat at `file:line` and the profile's total in-use bytes.
fn inuse_at(path: &Path, file: &Path, line: i64) -> (i64, i64) {
    let profile = Profile::from_path(path, Default::default())
        .unwrap_or_else(|e| panic!("a saved snapshot does not decode: {e}"));
    let agg = Aggregate::from_profile(&profile).unwrap();
    let idx = agg.sample_index(Some("inuse_space")).unwrap();
    let file = file.to_string_lossy();
    let at: i64 = agg
        .lines
        .sites()
        .iter()
        .filter(|s| s.key.line == line && *s.key.file == *file)
        .map(|s| s.flat[idx])
        .sum();
    (at, agg.total[idx])
}

/// The sum of `inuse_space` over the samples `go tool pprof -raw` prints.
fn pprof_raw_inuse_total(path: &Path) -> i64 {
    let out = live::go()
        .args(["tool", "pprof", "-raw"])
        .arg(path)
        .output()
        .expect("cannot run go tool pprof");
    assert!(
        out.status.success(),
        "go tool pprof -raw {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().skip_while(|l| *l != "Samples:").skip(1);
    let types: Vec<String> = lines
        .next()
        .expect("pprof -raw printed no sample types")
        .split_whitespace()
        .map(|t| t.trim_end_matches("[dflt]").to_string())
        .collect();
    let idx = types
        .iter()
        .position(|t| t == "inuse_space/bytes")
        .unwrap_or_else(|| panic!("no inuse_space among {types:?}"));
    let mut total = 0;
    let mut samples = 0;
    for line in lines.take_while(|l| *l != "Locations") {
        let Some((values, _)) = line.split_once(':') else {
            continue;
        };
        let values: Option<Vec<i64>> = values.split_whitespace().map(|v| v.parse().ok()).collect();
        // Label lines (`bytes:[4096]`) do not parse as values.
        if let Some(v) = values.filter(|v| v.len() == types.len()) {
            total += v[idx];
            samples += 1;
        }
    }
    assert!(samples > 0, "pprof -raw printed no samples:\n{text}");
    total
}

#[test]
fn capture_sees_a_growing_heap() {
    let Some(live) = live::start("growing", "capture_sees_a_growing_heap") else {
        return;
    };
    let ws = Scratch::new("ws");
    let ws_arg = ws.0.to_str().unwrap();
    let url = format!("{}/debug/pprof/heap?gc=1", live.base_url);
    let main_go = live.source_file("main.go");
    let line = live.line_of("main.go", "// growing:");

    let mut heaps = Vec::new();
    let mut goroutines = Vec::new();
    for round in 1..=3 {
        let retained: i64 = live.get("/grow").trim().parse().unwrap();
        assert_eq!(retained, round * GROWTH);
        let printed = capture(&[&url, "--workspace", ws_arg]);
        assert_eq!(printed.len(), 2, "{printed:?}");
        let snapshots = ws.0.join(".heapspot/snapshots");
        for p in &printed {
            assert_eq!(p.parent().unwrap(), snapshots, "{}", p.display());
        }
        assert!(
            file_name(&printed[0]).ends_with("-heap.pb.gz"),
            "{printed:?}"
        );
        assert!(
            file_name(&printed[1]).ends_with("-goroutine.pb.gz"),
            "{printed:?}"
        );
        heaps.push(printed[0].clone());
        goroutines.push(printed[1].clone());
    }

    // The store lists exactly what was printed, oldest first, under the endpoint's slug.
    let store = SnapshotStore::open(&ws.0).unwrap();
    assert_eq!(store.list(Kind::Heap, Some(&live.base_url)).unwrap(), heaps);
    assert_eq!(store.list(Kind::Goroutine, None).unwrap(), goroutines);
    let port = live.base_url.rsplit(':').next().unwrap();
    assert!(file_name(&heaps[0]).contains(&format!("-127.0.0.1_{port}-")));

    // The growing line holds 256 KiB more in each snapshot: its chunks, plus at most a
    // few bytes the runtime now and then allocates for itself while serving one of the
    // line's `make` calls (seen: 112 bytes in one run), which the profile charges to the
    // same frame. Less than one chunk of slack, so a missing or extra chunk still fails.
    let mut series = Vec::new();
    for (k, p) in heaps.iter().enumerate() {
        let (at, total) = inuse_at(p, &main_go, line);
        let want = (k as i64 + 1) * GROWTH;
        assert!(
            (want..want + 4096).contains(&at),
            "{}: in-use bytes at main.go:{line}: {at}, want {want} (+ less than one 4096-byte chunk)",
            p.display()
        );
        assert!(total >= at, "total {total} < line {at}");
        series.push(at);
    }
    assert!(series.windows(2).all(|w| w[1] > w[0]), "{series:?}");

    // go tool pprof reads the saved file the same way.
    let last = heaps.last().unwrap();
    let (_, total) = inuse_at(last, &main_go, line);
    assert_eq!(pprof_raw_inuse_total(last), total, "{}", last.display());

    for g in &goroutines {
        let p = Profile::from_path(g, Default::default()).unwrap();
        let agg = Aggregate::from_profile(&p).unwrap();
        let idx = agg.sample_index(Some("goroutine")).unwrap();
        assert!(
            agg.total[idx] >= 2,
            "{}: {} goroutines",
            g.display(),
            agg.total[idx]
        );
    }
}

#[test]
fn capture_polls_count_times_into_a_plain_directory() {
    let Some(live) = live::start(
        "growing",
        "capture_polls_count_times_into_a_plain_directory",
    ) else {
        return;
    };
    let out = Scratch::new("out");
    let dir = out.0.join("snaps");
    let printed = capture(&[
        &live.base_url,
        "--count",
        "3",
        "--interval",
        "0.2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let kinds: Vec<&str> = printed
        .iter()
        .map(|p| {
            assert_eq!(p.parent().unwrap(), dir);
            let n = file_name(p);
            if n.ends_with("-heap.pb.gz") {
                "heap"
            } else if n.ends_with("-goroutine.pb.gz") {
                "goroutine"
            } else {
                panic!("unexpected name {n}")
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "heap",
            "goroutine",
            "heap",
            "goroutine",
            "heap",
            "goroutine"
        ]
    );
    let store = SnapshotStore::at(&dir);
    let heaps = store.list(Kind::Heap, Some(&live.base_url)).unwrap();
    assert_eq!(
        heaps,
        [&printed[0], &printed[2], &printed[4]].map(|p| p.clone())
    );
    for p in &printed {
        Profile::from_path(p, Default::default()).unwrap();
    }
    // Nothing but the snapshots is left in the directory.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 6);
}

#[test]
fn capture_errors_name_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let ws = Scratch::new("err");
    let out = heapspot(&[
        "capture",
        &format!("{addr}"),
        "--workspace",
        ws.0.to_str().unwrap(),
        "--timeout",
        "5",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("http://{addr}/debug/pprof/heap: cannot connect")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(
        !ws.0.join(".heapspot").exists(),
        "a failed capture created the store"
    );

    let out = heapspot(&["capture", "ftp://host:21/debug/pprof"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`ftp://host:21/debug/pprof`") && stderr.contains("unsupported scheme"),
        "{stderr}"
    );
}
