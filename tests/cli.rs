//! End-to-end tests of the `heapspot` binary's commands on the fixture profiles: output
//! shapes, internal consistency of the numbers, and exit status 2 with a message naming
//! the input for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn profile(case: &str, name: &str) -> String {
    fixtures()
        .join(case)
        .join("profiles")
        .join(name)
        .display()
        .to_string()
}

fn heapspot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heapspot"))
        .args(args)
        .output()
        .expect("run heapspot")
}

fn json(args: &[&str]) -> Value {
    let out = heapspot(args);
    assert!(
        out.status.success(),
        "heapspot {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn expect_usage_error(args: &[&str], needles: &[&str]) {
    let out = heapspot(args);
    assert_eq!(out.status.code(), Some(2), "heapspot {args:?} must exit 2");
    assert!(out.stdout.is_empty(), "nothing on stdout for an error");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "stderr {err:?} should mention {n:?}");
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("heapspot-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create a scratch directory");
    d
}

#[test]
fn top_json_is_ordered_and_adds_up() {
    let p = profile("service", "heap-4.pb.gz");
    let v = json(&["top", &p, "-n", "0", "--format", "json"]);
    assert_eq!(v["sample_type"]["type"], "inuse_space");
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() > 10);
    let flats: Vec<i64> = rows.iter().map(|r| r["flat"].as_i64().unwrap()).collect();
    assert!(
        flats.windows(2).all(|w| w[0].abs() >= w[1].abs()),
        "sorted by flat"
    );
    // Every sample's flat value lands on exactly one function.
    assert_eq!(flats.iter().sum::<i64>(), v["total"].as_i64().unwrap());
    for r in rows {
        assert!(r["cum"].as_i64().unwrap() >= r["flat"].as_i64().unwrap());
    }
    let n10 = json(&["top", &p, "-n", "10", "--format", "json"]);
    assert_eq!(n10["rows"].as_array().unwrap().len(), 10);
    assert_eq!(n10["rows"][0], v["rows"][0]);
}

#[test]
fn top_by_lines_and_cum() {
    let p = profile("globalmap", "heap-4.pb.gz");
    let v = json(&["top", &p, "--lines", "--cum", "--format", "json"]);
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["line"].as_i64().is_some()));
    let cums: Vec<i64> = rows.iter().map(|r| r["cum"].as_i64().unwrap()).collect();
    assert!(cums.windows(2).all(|w| w[0] >= w[1]), "sorted by cum");
}

#[test]
fn raw_and_gzip_profiles_agree() {
    let a = json(&[
        "top",
        &profile("defaultrate", "heap-4.pb.gz"),
        "-n",
        "0",
        "--format",
        "json",
    ]);
    let b = json(&[
        "top",
        &profile("defaultrate", "heap-4.pb"),
        "-n",
        "0",
        "--format",
        "json",
    ]);
    assert_eq!(a["rows"], b["rows"]);
}

#[test]
fn every_sample_type_of_every_kind_loads() {
    for (case, file, ty) in [
        ("defaultrate", "cpu.pb.gz", "cpu"),
        ("defaultrate", "cpu.pb.gz", "samples"),
        ("defaultrate", "allocs.pb.gz", "alloc_space"),
        ("closures", "goroutine-3.pb.gz", "goroutine"),
        ("service", "heap-1.pb.gz", "inuse_objects"),
        ("service", "heap-1.pb.gz", "0"),
    ] {
        let v = json(&[
            "top",
            &profile(case, file),
            "--sample-index",
            ty,
            "--format",
            "json",
        ]);
        assert!(
            !v["rows"].as_array().unwrap().is_empty(),
            "{case}/{file} {ty}"
        );
    }
}

#[test]
fn diff_rows_are_new_minus_base() {
    let v = json(&[
        "diff",
        &profile("service", "heap-1.pb.gz"),
        &profile("service", "heap-4.pb.gz"),
        "-n",
        "0",
        "--format",
        "json",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        let f = |k: &str| r[k].as_i64().unwrap();
        assert_eq!(f("flat"), f("new_flat") - f("base_flat"), "{r}");
        assert_eq!(f("cum"), f("new_cum") - f("base_cum"), "{r}");
    }
    // The planted leak grew.
    let batch = rows
        .iter()
        .find(|r| r["function"] == "example.com/shopsvc/ingest.Batch")
        .unwrap();
    assert!(batch["flat"].as_i64().unwrap() > 0);
}

#[test]
fn top_with_base_equals_diff() {
    let base = profile("globalmap", "heap-1.pb.gz");
    let new = profile("globalmap", "heap-4.pb.gz");
    let a = json(&["top", &new, "--base", &base, "-n", "0", "--format", "json"]);
    let b = json(&["diff", &base, &new, "-n", "0", "--format", "json"]);
    let key = |v: &Value| -> Vec<(String, i64, i64)> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["function"].as_str().unwrap().to_string(),
                    r["flat"].as_i64().unwrap(),
                    r["cum"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(key(&a), key(&b));
}

#[test]
fn trend_finds_the_planted_leaks_growing() {
    let snaps: Vec<String> = (1..=4)
        .map(|i| profile("service", &format!("heap-{i}.pb.gz")))
        .collect();
    // Give the snapshots out of order: the trend orders them by their time stamps.
    let mut args = vec!["trend", "-n", "0", "--format", "json"];
    let shuffled = [&snaps[2], &snaps[0], &snaps[3], &snaps[1]];
    args.extend(shuffled.iter().map(|s| s.as_str()));
    let v = json(&args);
    let times: Vec<i64> = v["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "time order: {times:?}"
    );
    let sources: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        snaps.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let sites = v["sites"].as_array().unwrap();
    let batch = sites
        .iter()
        .find(|s| s["key"]["function"] == "example.com/shopsvc/ingest.Batch")
        .unwrap();
    let series: Vec<i64> = batch["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(series.len(), 4);
    assert!(series.windows(2).all(|w| w[1] > w[0]), "{series:?}");
    assert!(batch["r_squared"].as_f64().unwrap() > 0.9);
    assert!(batch["growth_per_minute"].as_f64().unwrap() > 0.0);
}

#[test]
fn list_finds_sources_recorded_on_another_machine() {
    let v = json(&[
        "list",
        r"cache\.Touch$",
        &profile("service", "heap-4.pb.gz"),
        "--source-root",
        &fixtures().join("service").display().to_string(),
        "--format",
        "json",
    ]);
    let r = &v["routines"][0];
    assert!(r["file"]
        .as_str()
        .unwrap()
        .starts_with("/tmp/heapspot-fixture-build/"));
    let source = r["source"].as_str().unwrap();
    assert!(source.ends_with("service/cache/session.go"), "{source}");
    let local = std::fs::read_to_string(source).unwrap();
    let local: Vec<&str> = local.lines().collect();
    for l in r["lines"].as_array().unwrap() {
        let n = l["line"].as_u64().unwrap() as usize;
        assert_eq!(l["text"].as_str().unwrap(), local[n - 1]);
    }
}

#[test]
fn bad_inputs_exit_2_naming_the_input() {
    let dir = scratch("bad");
    let good = std::fs::read(profile("service", "heap-4.pb.gz")).unwrap();
    let truncated = dir.join("truncated.pb.gz");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let corrupt = dir.join("corrupt.pb.gz");
    let mut bytes = good.clone();
    let mid = bytes.len() / 3;
    for b in &mut bytes[mid..mid + 16] {
        *b = !*b;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    let html = dir.join("page.pb.gz");
    std::fs::write(&html, "<html>404 page not found</html>").unwrap();
    let empty = dir.join("empty.pb");
    std::fs::write(&empty, "").unwrap();
    for f in [&truncated, &corrupt, &html, &empty] {
        let name = f.display().to_string();
        expect_usage_error(&["top", &name], &[&name]);
        expect_usage_error(&["list", "main", &name], &[&name]);
    }
    expect_usage_error(
        &["top", "/nonexistent/heap.pb.gz"],
        &["/nonexistent/heap.pb.gz", "cannot read"],
    );
    let p = profile("service", "heap-4.pb.gz");
    expect_usage_error(
        &["top", &p, "--sample-index", "bogus"],
        &["bogus", "inuse_space"],
    );
    expect_usage_error(&["list", "(", &p], &["invalid regular expression"]);
    expect_usage_error(&["list", "^nothing$", &p], &["no function matches"]);
    expect_usage_error(
        &["diff", &profile("defaultrate", "cpu.pb.gz"), &p],
        &["sample types", "differ"],
    );
    expect_usage_error(&["top"], &["PROFILE"]);
    expect_usage_error(
        &["top", &p, "--max-decoded-bytes", "1000"],
        &[&p, "exceeds the limit"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["--version"], &["top", "--help"]] {
        let out = heapspot(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
}
