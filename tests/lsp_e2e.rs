//! End-to-end tests of `heapspot lsp`: the real binary driven over stdio by the scripted
//! client of `tests/lsp/client.rs`, on copies of fixture workspaces.

#![allow(clippy::unwrap_used)]

#[path = "lsp/client.rs"]
mod client;

use std::path::Path;
use std::process::Stdio;

use client::{apply_action, fixture_copy, rules_at, uri, wants, TestClient};
use serde_json::{json, Value};

/// Starts `heapspot lsp` with test commands on; the child dies with the test.
fn start(root: &Path) -> (tokio::process::Child, TestClient) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_heapspot"))
        .arg("lsp")
        .current_dir(root)
        .env("HEAPSPOT_LSP_TEST", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start heapspot lsp");
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, TestClient::start(stdout, stdin))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_session_diagnostics_commands_and_exit() {
    let (_tmp, root) = fixture_copy("service");
    let (mut child, mut c) = start(&root);
    let init = c
        .initialize(
            &root,
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            json!({}),
        )
        .await;
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(init["serverInfo"]["name"], "heapspot");

    // Diagnostics with rule ids at every `// want` line of the open file and of files
    // that are not open.
    let files = [
        "cache/session.go",
        "cache/store.go",
        "ingest/ingest.go",
        "events/history.go",
        "notify/notify.go",
    ];
    let session = c.open(&root.join(files[0]), 1);
    for rel in files {
        let p = root.join(rel);
        let want = wants(&p);
        let d = c
            .diagnostics_from(0, &uri(&p), |d| {
                want.iter()
                    .all(|(l, ids)| ids.iter().all(|id| rules_at(d, *l).contains(id)))
            })
            .await;
        for x in &d {
            assert_eq!(x["source"], "heapspot");
            assert!(x["codeDescription"]["href"]
                .as_str()
                .unwrap()
                .ends_with(".md"));
        }
    }

    // Loading other snapshots by command updates the diagnostics: with the first and
    // last snapshot only, the growth per snapshot is the whole growth (486.02kB in
    // heap-1 to 1.46MB in heap-4, as `heapspot check` reports the series).
    let mark = c.seen.len();
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.loadProfile", "arguments": [[
                "profiles/heap-1.pb.gz", "profiles/heap-4.pb.gz"]]}),
        )
        .await;
    assert_eq!(st["snapshots"], 2);
    let d = c
        .diagnostics_from(mark, &session, |d| {
            d.iter()
                .any(|d| d["code"] == "unbounded-global-map" && d["severity"] == 2)
        })
        .await;
    let m = d
        .iter()
        .find(|d| d["code"] == "unbounded-global-map")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("retains 1.46MB") && m.contains("+1008.16kB per snapshot"),
        "{m}"
    );

    // A panic in a request is an error response; the process keeps serving.
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.test.panic"}),
        )
        .await
        .unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("internal error"),
        "{e}"
    );
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert_eq!(st["snapshots"], 2);

    c.shutdown().await;
    let status = tokio::time::timeout(client::TIMEOUT, child.wait())
        .await
        .expect("the server exits after `exit`")
        .unwrap();
    assert!(status.success(), "{status}");
}

fn go(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .output()
        .expect("run go")
}

/// `go tool pprof -list` flat bytes of one recorded line number of the functions matching
/// `regex`.
fn pprof_flat(profile: &Path, regex: &str, line: u32) -> i64 {
    let out = go(
        profile.parent().unwrap(),
        &[
            "tool",
            "pprof",
            "-symbolize=none",
            "-sample_index=inuse_space",
            "-unit=B",
            &format!("-list={regex}"),
            // The sources are read from the copied workspace, not the recorded build path.
            "-trim_path=/tmp/heapspot-fixture-build/service",
            &format!(
                "-source_path={}",
                profile.parent().unwrap().parent().unwrap().display()
            ),
            profile.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(" Error: "), "go tool pprof -list: {text}");
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (f, _c, n) = (it.next()?, it.next()?, it.next()?);
            (n.split(':').next()? == line.to_string()).then_some(f)
        })
        .map(|f| {
            if f == "." {
                0
            } else {
                f.trim_end_matches('B').parse::<i64>().unwrap()
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lenses_hints_and_hovers_carry_pprofs_numbers() {
    let (_tmp, root) = fixture_copy("service");
    let (_child, mut c) = start(&root);
    c.initialize(&root, json!({}), json!({})).await;
    let u = c.open(&root.join("cache/session.go"), 1);
    c.diagnostics_from(0, &u, |d| !d.is_empty()).await;

    // Line 47 allocates each session's scratch buffer; pprof -list on the last snapshot.
    let flat = pprof_flat(&root.join("profiles/heap-4.pb.gz"), "cache.Touch$", 47);
    assert!(flat > 0);
    let shown = heapspot::profile::units::format_value(flat, "bytes");
    let hover = c
        .ok(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": {"line": 46, "character": 4}}),
        )
        .await;
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains(&format!("{shown} inuse_space here")),
        "pprof says {flat}B:\n{md}"
    );
    assert!(md.contains('▁') && md.contains('█'), "{md}");
    let hints = c
        .ok(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": u}, "range": {"start": {"line": 46, "character": 0}, "end": {"line": 46, "character": 99}}}),
        )
        .await;
    let h = &hints[0];
    assert!(h["label"].as_str().unwrap().ends_with('▲'), "{h}");
    assert!(
        h["tooltip"].as_str().unwrap().contains(&shown),
        "pprof says {flat}B: {h}"
    );
    let lenses = c
        .ok("textDocument/codeLens", json!({"textDocument": {"uri": u}}))
        .await;
    let touch = lenses
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["data"]["subject"] == "Touch")
        .unwrap();
    assert_eq!(touch["command"]["command"], "heapspot.showTop");
    assert!(
        touch["command"]["title"]
            .as_str()
            .unwrap()
            .starts_with("heapspot: 1.46MB in use"),
        "{touch}"
    );
    c.shutdown().await;
}

/// Asks for the code actions on a 0-based line and applies the one whose title contains
/// `title` to the file on disk.
async fn apply_fix(c: &mut TestClient, path: &Path, line: u64, title: &str) {
    let u = uri(path);
    let actions = c
        .ok(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": u},
                   "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                   "context": {"diagnostics": []}}),
        )
        .await;
    let a = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains(title))
        .unwrap_or_else(|| panic!("no {title:?} fix at line {line}: {actions}"));
    std::fs::write(path, apply_action(a, path)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_fixes_still_build_with_go() {
    let (_tmp, root) = fixture_copy("service");
    let (_child, mut c) = start(&root);
    c.initialize(&root, json!({}), json!({})).await;
    let path = root.join("ingest/ingest.go");
    let u = c.open(&path, 1);
    c.diagnostics_from(0, &u, |d| !d.is_empty()).await;
    let original = std::fs::read_to_string(&path).unwrap();

    // A standard-library fix: bytes.Clone for the sub-slice kept in the map.
    apply_fix(&mut c, &path, 40, "bytes.Clone").await;
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(
        fixed.contains("headers[id] = bytes.Clone(header)"),
        "{fixed}"
    );
    let b = go(&root, &["build", "./..."]);
    assert!(
        b.status.success(),
        "go build after bytes.Clone: {}",
        String::from_utf8_lossy(&b.stderr)
    );

    // The LRU fix needs github.com/hashicorp/golang-lru/v2.
    std::fs::write(&path, &original).unwrap();
    apply_fix(&mut c, &path, 58, "LRU").await;
    let g = go(&root, &["get", "github.com/hashicorp/golang-lru/v2"]);
    assert!(
        g.status.success(),
        "go get: {}",
        String::from_utf8_lossy(&g.stderr)
    );
    let b = go(&root, &["build", "./..."]);
    assert!(
        b.status.success(),
        "go build after the LRU fix: {}",
        String::from_utf8_lossy(&b.stderr)
    );
    let v = go(&root, &["vet", "./ingest"]);
    assert!(
        v.status.success(),
        "go vet: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    c.shutdown().await;
}

#[path = "support/live.rs"]
mod live;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_endpoint_growth_shows_without_reopening() {
    let Some(svc) = live::start("growing", "live_endpoint_growth_shows_without_reopening") else {
        return;
    };
    // The workspace is a copy of the program's source, so its frames map to it.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap().join("growing");
    client::copy_dir(&svc.source_dir, &root);
    let (_child, mut c) = start(&root);
    c.initialize(
        &root,
        json!({}),
        json!({"endpoints": [format!("{}/debug/pprof/heap", svc.base_url)],
               "pollIntervalSeconds": 1, "profiles": [], "goroutineProfiles": []}),
    )
    .await;
    let main = root.join("main.go");
    let u = c.open(&main, 1);
    let line0 = (svc.line_of("main.go", "// growing: the leak") - 1) as u64;
    let hint_at = |hints: &Value| -> Option<String> {
        hints
            .as_array()?
            .iter()
            .find(|h| h["position"]["line"] == line0)
            .map(|h| h["label"].as_str().unwrap().to_string())
    };
    let mut labels = Vec::new();
    for n in 1..=4u64 {
        c.wait_from(
            0,
            "heapspot/status",
            |s| s["snapshots"].as_u64() >= Some(n),
            client::TIMEOUT,
        )
        .await;
        let hints = c
            .ok(
                "textDocument/inlayHint",
                json!({"textDocument": {"uri": u}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 999, "character": 0}}}),
            )
            .await;
        labels.push(hint_at(&hints));
        svc.get("/grow");
        svc.get("/grow");
    }
    // The growth of 512 KiB per snapshot becomes a diagnostic in the open file, and the
    // hint rose and carries ▲, all without reopening it.
    let d = c
        .diagnostics_from(0, &u, |d| {
            d.iter().any(|d| {
                d["severity"] == 1 && d["message"].as_str().unwrap().contains("per snapshot")
            })
        })
        .await;
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert!(st["endpoints"][0]["lastCapture"].is_string(), "{st}");
    assert_eq!(st["endpoints"][0]["error"], Value::Null);
    assert!(
        st["profiles"][0]
            .as_str()
            .unwrap()
            .contains("/.heapspot/snapshots/"),
        "{st}"
    );
    assert!(
        labels
            .last()
            .unwrap()
            .as_deref()
            .unwrap_or("")
            .ends_with('▲'),
        "{labels:?}\n{d:?}"
    );

    // One capture by command, from the base URL: saved in the store.
    let r = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.captureProfile", "arguments": [svc.base_url]}),
        )
        .await;
    let saved = Path::new(r["path"].as_str().unwrap()).to_path_buf();
    assert!(
        saved.is_file() && saved.starts_with(root.join(".heapspot/snapshots")),
        "{r}"
    );
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert!(
        st["profiles"].as_array().unwrap().contains(&json!(saved)),
        "{st}"
    );
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.captureProfile", "arguments": ["http://127.0.0.1:1/debug/pprof/heap"]}),
        )
        .await
        .unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("127.0.0.1:1"),
        "{e}"
    );
    c.shutdown().await;
}
