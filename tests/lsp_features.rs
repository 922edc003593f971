//! In-process tests of the language server, one per feature, over a `tokio::io::duplex`
//! pipe with the scripted client of `tests/lsp/client.rs`, on copies of fixture
//! workspaces. JSON answers are compared with expect-test snapshots
//! (`UPDATE_EXPECT=1 cargo test --test lsp_features` rewrites them).

#![allow(clippy::unwrap_used)]

#[path = "lsp/client.rs"]
mod client;

use std::path::Path;

use client::{fixture_copy, redact, uri, TestClient};
use expect_test::expect;
use serde_json::{json, Value};

/// Starts a server in-process (test commands on) and a client connected to it.
fn start() -> TestClient {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(heapspot::lsp::serve(
        sr,
        sw,
        heapspot::lsp::Options {
            test_commands: true,
        },
    ));
    let (cr, cw) = tokio::io::split(client_io);
    TestClient::start(cr, cw)
}

fn caps() -> Value {
    json!({ "general": { "positionEncodings": ["utf-16"] } })
}

/// Diagnostics reduced to what a user sees, for snapshots.
fn brief(diags: &[Value]) -> String {
    let mut lines: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}:{}-{}:{} {} [{}] {}",
                d["range"]["start"]["line"],
                d["range"]["start"]["character"],
                d["range"]["end"]["line"],
                d["range"]["end"]["character"],
                match d["severity"].as_u64() {
                    Some(1) => "error",
                    Some(2) => "warning",
                    Some(3) => "info",
                    _ => "?",
                },
                d["code"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    lines.sort();
    lines.join("\n")
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

/// The `// want RULE...` markers of a file: (0-based line, rule ids).
fn wants(path: &Path) -> Vec<(u64, Vec<String>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let w = l.split("// want ").nth(1)?;
            let mut ids: Vec<String> = w.split_whitespace().map(str::to_string).collect();
            ids.sort();
            Some((i as u64, ids))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_for_open_files_and_the_workspace() {
    let (_tmp, root) = fixture_copy("service");
    let mut c = start();
    let init = c.initialize(&root, caps(), json!({})).await;
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    let cmds = init["capabilities"]["executeCommandProvider"]["commands"].clone();
    for name in [
        "heapspot.loadProfile",
        "heapspot.showTop",
        "heapspot.status",
    ] {
        assert!(cmds.as_array().unwrap().contains(&json!(name)), "{cmds}");
    }
    let session = root.join("cache/session.go");
    let u = c.open(&session, 1);
    let diags = c
        .diagnostics_from(0, &u, |d| {
            d.iter().any(|d| d["code"] == "unbounded-global-map")
        })
        .await;
    for (line, ids) in wants(&session) {
        for id in ids {
            assert!(
                rules_at(&diags, line).contains(&id),
                "{id} at {line}: {diags:?}"
            );
        }
    }
    let d = diags
        .iter()
        .find(|d| d["code"] == "unbounded-global-map")
        .unwrap();
    let text = redact(d, &root).replace(
        &client::uri(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .canonicalize()
                .unwrap(),
        ),
        "file://$REPO",
    );
    expect![[r#"
        {
          "code": "unbounded-global-map",
          "codeDescription": {
            "href": "file://$REPO/docs/rules/unbounded-global-map.md"
          },
          "data": {
            "fingerprint": "906cbf3410170f3e"
          },
          "message": "package-level map \"sessions\" is written in Touch and never deleted from; retains 1.46MB (13% of in-use), +332.37kB per snapshot",
          "range": {
            "end": {
              "character": 14,
              "line": 48
            },
            "start": {
              "character": 2,
              "line": 48
            }
          },
          "relatedInformation": [
            {
              "location": {
                "range": {
                  "end": {
                    "character": 33,
                    "line": 30
                  },
                  "start": {
                    "character": 1,
                    "line": 30
                  }
                },
                "uri": "file://$ROOT/cache/session.go"
              },
              "message": "\"sessions\" is declared here"
            },
            {
              "location": {
                "range": {
                  "end": {
                    "character": 33,
                    "line": 46
                  },
                  "start": {
                    "character": 3,
                    "line": 46
                  }
                },
                "uri": "file://$ROOT/cache/session.go"
              },
              "message": "1.16MB in use here"
            },
            {
              "location": {
                "range": {
                  "end": {
                    "character": 15,
                    "line": 41
                  },
                  "start": {
                    "character": 2,
                    "line": 41
                  }
                },
                "uri": "file://$ROOT/cache/session.go"
              },
              "message": "138.13kB in use here"
            },
            {
              "location": {
                "range": {
                  "end": {
                    "character": 35,
                    "line": 45
                  },
                  "start": {
                    "character": 3,
                    "line": 45
                  }
                },
                "uri": "file://$ROOT/cache/session.go"
              },
              "message": "113.76kB in use here"
            },
            {
              "location": {
                "range": {
                  "end": {
                    "character": 47,
                    "line": 48
                  },
                  "start": {
                    "character": 2,
                    "line": 48
                  }
                },
                "uri": "file://$ROOT/cache/session.go"
              },
              "message": "53.32kB in use here"
            }
          ],
          "severity": 1,
          "source": "heapspot"
        }"#]].assert_eq(&text);

    // Files that are not open get their diagnostics too, at every planted leak.
    for rel in [
        "ingest/ingest.go",
        "cache/store.go",
        "events/history.go",
        "notify/notify.go",
    ] {
        let p = root.join(rel);
        let diags = c.diagnostics_from(0, &uri(&p), |d| !d.is_empty()).await;
        for (line, ids) in wants(&p) {
            for id in ids {
                assert!(
                    rules_at(&diags, line).contains(&id),
                    "{rel}: {id} at {line}: {diags:?}"
                );
            }
        }
    }
    let ingest = c
        .diagnostics_from(0, &uri(&root.join("ingest/ingest.go")), |d| !d.is_empty())
        .await;
    expect![[r#"
        40:1-40:12 info [unbounded-global-map] package-level map "headers" is written in Batch and never deleted from; retains 0 (0% of in-use)
        40:1-40:21 error [subslice-retains-backing-array] a sub-slice of buffer "buf" (from make) is stored in package-level map "headers" in Batch, which keeps the whole backing array alive; retains 5.38MB (49% of in-use), +1.32MB per snapshot
        58:1-58:11 error [unbounded-global-map] package-level map "titles" is written in Document and never deleted from; retains 1.37MB (13% of in-use), +344.15kB per snapshot
        58:1-58:19 error [substring-retains-string] a substring of "doc" (from a string conversion) is stored in package-level map "titles" in Document, which keeps the whole string alive; retains 1.37MB (13% of in-use), +344.15kB per snapshot"#]].assert_eq(&brief(&ingest));
    c.shutdown().await;
}

fn severity_of(diags: &[Value], code: &str, line0: u64) -> Option<u64> {
    diags
        .iter()
        .find(|d| d["code"] == code && d["range"]["start"]["line"] == line0)
        .and_then(|d| d["severity"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_change_profiles_baseline_and_sample_type() {
    let (_tmp, root) = fixture_copy("service");
    let mut c = start();
    c.initialize(&root, caps(), json!({})).await;
    let u = c.open(&root.join("cache/session.go"), 1);
    c.diagnostics_from(0, &u, |d| {
        severity_of(d, "unbounded-global-map", 48) == Some(1)
    })
    .await;

    let status = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert_eq!(status["snapshots"], 4);
    assert_eq!(status["sampleType"], "inuse_space");
    let series: Vec<i64> = serde_json::from_value(status["series"].clone()).unwrap();
    assert_eq!(series.len(), 4);
    assert!(series.windows(2).all(|w| w[1] > w[0]), "{series:?}");
    assert_eq!(status["total"], json!(series[3]));
    assert_eq!(status["findings"]["error"], 7);
    let pushed = c
        .wait_from(
            0,
            "heapspot/status",
            |s| s["snapshots"] == 4,
            client::TIMEOUT,
        )
        .await;
    assert_eq!(pushed, status);

    // Two snapshots are no trend: the map's finding is no longer a confirmed leak, only a
    // warning for its share of the heap.
    let mark = c.seen.len();
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.loadProfile", "arguments": [
                root.join("profiles/heap-1.pb.gz"), uri(&root.join("profiles/heap-2.pb.gz"))]}),
        )
        .await;
    assert_eq!(st["snapshots"], 2);
    assert_eq!(st["profiles"].as_array().unwrap().len(), 2);
    let d = c
        .diagnostics_from(mark, &u, |d| {
            severity_of(d, "unbounded-global-map", 48).is_some_and(|s| s != 1)
        })
        .await;
    assert_eq!(
        severity_of(&d, "unbounded-global-map", 48),
        Some(2),
        "{d:?}"
    );

    // A bad profile is an error naming the file, and changes nothing.
    std::fs::write(root.join("profiles/bad.pb.gz"), b"\x1f\x8bnot gzip").unwrap();
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.loadProfile", "arguments": ["profiles/bad.pb.gz"]}),
        )
        .await
        .unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("bad.pb.gz"), "{e}");
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert_eq!(st["snapshots"], 2);

    // A baseline: the growth since heap-1 is a regression at the leak lines.
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.setBaseline", "arguments": ["profiles/heap-1.pb.gz"]}),
        )
        .await;
    assert!(
        st["baseline"].as_str().unwrap().ends_with("heap-1.pb.gz"),
        "{st}"
    );
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.setBaseline", "arguments": [null]}),
        )
        .await;
    assert_eq!(st["baseline"], Value::Null);

    // Sample types.
    let r = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.selectSampleType"}),
        )
        .await;
    expect![[r#"{"available":["alloc_objects","alloc_space","inuse_objects","inuse_space"],"current":"inuse_space"}"#]].assert_eq(&r.to_string());
    let r = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.selectSampleType", "arguments": ["alloc_space"]}),
        )
        .await;
    assert_eq!(r["current"], "alloc_space");
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert_eq!(st["sampleType"], "alloc_space");
    assert!(
        st["total"].as_i64().unwrap() > series[1],
        "alloc_space counts freed memory too"
    );
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.selectSampleType", "arguments": ["inuse_bogus"]}),
        )
        .await
        .unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("inuse_bogus"),
        "{e}"
    );

    // Top sites of the last snapshot, in pprof's order.
    let top = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.showTop", "arguments": [{"n": 3, "sampleType": "inuse_space"}]}),
        )
        .await;
    let rows = top["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .windows(2)
        .all(|w| w[0]["flat"].as_i64() >= w[1]["flat"].as_i64()));
    expect![[r#"
        {
          "rows": [
            {
              "cum": 2883584,
              "cumPercent": 47.91,
              "cumText": "2.75MB",
              "file": "$ROOT/ingest/ingest.go",
              "flat": 2883584,
              "flatPercent": 47.91,
              "flatText": "2.75MB",
              "function": "example.com/shopsvc/ingest.Batch",
              "line": 32,
              "uri": "file://$ROOT/ingest/ingest.go"
            },
            {
              "cum": 984720,
              "cumPercent": 16.36,
              "cumText": "961.64kB",
              "file": "$ROOT/cache/store.go",
              "flat": 984720,
              "flatPercent": 16.36,
              "flatText": "961.64kB",
              "function": "example.com/shopsvc/cache.(*Store).Put",
              "line": 29,
              "uri": "file://$ROOT/cache/store.go"
            },
            {
              "cum": 837183,
              "cumPercent": 13.91,
              "cumText": "817.56kB",
              "file": "$ROOT/cache/session.go",
              "flat": 837183,
              "flatPercent": 13.91,
              "flatText": "817.56kB",
              "function": "example.com/shopsvc/cache.Touch",
              "line": 36,
              "uri": "file://$ROOT/cache/session.go"
            }
          ],
          "sampleType": "inuse_space",
          "total": 6018610,
          "totalText": "5.74MB",
          "unit": "bytes"
        }"#]]
    .assert_eq(&redact(&top, &root));

    // Clearing leaves only the code patterns, without profile numbers.
    let mark = c.seen.len();
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.clearProfiles"}),
        )
        .await;
    assert_eq!(st["snapshots"], 0);
    assert_eq!(st["findings"]["error"], 0);
    let d = c
        .diagnostics_from(mark, &u, |d| {
            severity_of(d, "unbounded-global-map", 48) == Some(3)
        })
        .await;
    assert!(
        d.iter()
            .all(|d| !d["message"].as_str().unwrap().contains("retains")),
        "{d:?}"
    );
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.showTop"}),
        )
        .await
        .unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("no heap profile"),
        "{e}"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_from_options_and_configuration_changes() {
    let (_tmp, root) = fixture_copy("service");
    let mut c = start();
    // Options override .heapspot.toml: only two snapshots, and one rule off.
    c.initialize(
        &root,
        caps(),
        json!({"profiles": ["profiles/heap-1.pb.gz", "profiles/heap-2.pb.gz"],
               "rules": {"substring-retains-string": false}}),
    )
    .await;
    let st = c.ready().await;
    assert_eq!(st["snapshots"], 2);
    let ingest = uri(&root.join("ingest/ingest.go"));
    let d = c.diagnostics_from(0, &ingest, |d| !d.is_empty()).await;
    assert!(rules_at(&d, 58) == ["unbounded-global-map"], "{d:?}");

    // didChangeConfiguration replaces the settings: the rule is back, all snapshots.
    let mark = c.seen.len();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"heapspot": {"thresholds": {"largeShare": 0.5}}}}),
    );
    let d = c
        .diagnostics_from(mark, &ingest, |d| rules_at(d, 58).len() == 2)
        .await;
    assert_eq!(
        rules_at(&d, 58),
        ["substring-retains-string", "unbounded-global-map"]
    );
    let st = c
        .wait_from(
            mark,
            "heapspot/status",
            |s| s["snapshots"] == 4,
            client::TIMEOUT,
        )
        .await;
    assert_eq!(st["findings"]["error"], 7);

    // A bad value is shown to the user, naming the key.
    let mark = c.seen.len();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"heapspot": {"thresholds": {"hotspotShare": 7}}}}),
    );
    let m = c
        .wait_from(
            mark,
            "window/showMessage",
            |m| m["type"] == 1,
            client::TIMEOUT,
        )
        .await;
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("thresholds.hotspotShare"),
        "{m}"
    );

    // .heapspot.toml changes are picked up (here by the poll: no dynamic registration).
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"heapspot": {}}}),
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let mark = c.seen.len();
    std::fs::write(
        root.join(".heapspot.toml"),
        "profiles = [\"profiles/heap-*.pb.gz\"]\n[rules]\nunbounded-global-map = false\n",
    )
    .unwrap();
    let d = c
        .diagnostics_from(mark, &ingest, |d| {
            !d.is_empty() && !d.iter().any(|d| d["code"] == "unbounded-global-map")
        })
        .await;
    assert!(rules_at(&d, 58) == ["substring-retains-string"], "{d:?}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_settings_when_the_client_supports_configuration() {
    let (_tmp, root) = fixture_copy("service");
    let mut c = start();
    *c.settings.lock().unwrap() = json!({"profiles": ["profiles/heap-3.pb.gz"]});
    c.initialize(
        &root,
        json!({"workspace": {"configuration": true}}),
        json!({"profiles": ["profiles/heap-1.pb.gz"]}),
    )
    .await;
    let st = c.ready().await;
    assert_eq!(st["snapshots"], 1);
    assert!(
        st["profiles"][0]
            .as_str()
            .unwrap()
            .ends_with("heap-3.pb.gz"),
        "{st}"
    );
    let asked = c.server_requests.lock().unwrap().clone();
    assert!(asked
        .iter()
        .any(|r| r["method"] == "workspace/configuration"
            && r["params"]["items"][0]["section"] == "heapspot"));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_request_is_an_error_and_the_server_lives_on() {
    let (_tmp, root) = fixture_copy("service");
    let mut c = start();
    c.initialize(&root, caps(), json!({})).await;
    c.ready().await;
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.test.panic"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e["code"], -32603);
    assert!(
        e["message"].as_str().unwrap().contains("asked to panic"),
        "{e}"
    );
    let st = c
        .ok(
            "workspace/executeCommand",
            json!({"command": "heapspot.status"}),
        )
        .await;
    assert_eq!(st["snapshots"], 4);
    let e = c
        .request(
            "workspace/executeCommand",
            json!({"command": "heapspot.nope"}),
        )
        .await
        .unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("heapspot.nope"),
        "{e}"
    );
    c.shutdown().await;
}
