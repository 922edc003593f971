//! End-to-end tests of `heapspot lsp`: the real binary driven over stdio by the scripted
//! client of `tests/lsp/client.rs`, on copies of fixture workspaces.

#![allow(clippy::unwrap_used)]

#[path = "lsp/client.rs"]
mod client;

use std::path::Path;
use std::process::Stdio;

use client::{fixture_copy, uri, TestClient};
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

fn rules_at(diags: &[Value], line0: u64) -> Vec<String> {
    let mut v: Vec<String> = diags
        .iter()
        .filter(|d| d["range"]["start"]["line"] == line0)
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn wants(path: &Path) -> Vec<(u64, Vec<String>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let w = l.split("// want ").nth(1)?;
            Some((i as u64, w.split_whitespace().map(str::to_string).collect()))
        })
        .collect()
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
