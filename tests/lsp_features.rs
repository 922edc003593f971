//! In-process tests of the language server, one per feature, over a `tokio::io::duplex`
//! pipe with the scripted client of `tests/lsp/client.rs`, on copies of fixture
//! workspaces. JSON answers are compared with expect-test snapshots
//! (`UPDATE_EXPECT=1 cargo test --test lsp_features` rewrites them).

#![allow(clippy::unwrap_used)]

#[path = "lsp/client.rs"]
mod client;

use std::path::Path;

use client::{apply_action, fixture_copy, redact, rules_at, uri, wants, TestClient};
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
            },
            {
              "location": {
                "range": {
                  "end": {
                    "character": 46,
                    "line": 49
                  },
                  "start": {
                    "character": 1,
                    "line": 49
                  }
                },
                "uri": "file://$ROOT/handlers.go"
              },
              "message": "4.01kB in use here"
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
        37:11-37:27 error [subslice-retains-backing-array] the sub-slice cut here is kept: a sub-slice of buffer "buf" (from make) is stored in package-level map "headers" in Batch, which keeps the whole backing array alive; retains 5.38MB (49% of in-use), +1.32MB per snapshot
        40:1-40:12 error [unbounded-global-map] package-level map "headers" is written in Batch and never deleted from; retains 5.38MB (49% of in-use), +1.32MB per snapshot
        40:1-40:21 error [subslice-retains-backing-array] a sub-slice of buffer "buf" (from make) is stored in package-level map "headers" in Batch, which keeps the whole backing array alive; retains 5.38MB (49% of in-use), +1.32MB per snapshot
        54:10-54:17 error [substring-retains-string] the substring cut here is kept: a substring of "doc" (from a string conversion) is stored in package-level map "titles" in Document, which keeps the whole string alive; retains 1.37MB (13% of in-use), +344.15kB per snapshot
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
    // The service's twelve errors (the sub-slice and substring findings are also on their
    // cut lines, the blocked send also on its unbuffered make), as `heapspot check`
    // reports them on the same snapshots.
    assert_eq!(status["findings"]["error"], 12);
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
    assert_eq!(st["findings"]["error"], 12);

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

/// Starts on the service fixture and waits for diagnostics of an opened file.
async fn open_service(file: &str) -> (tempfile::TempDir, std::path::PathBuf, TestClient, String) {
    let (tmp, root) = fixture_copy("service");
    let mut c = start();
    c.initialize(&root, caps(), json!({})).await;
    let u = c.open(&root.join(file), 1);
    c.diagnostics_from(0, &u, |d| !d.is_empty()).await;
    (tmp, root, c, u)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_lenses_inlay_hints_and_hover() {
    let (_tmp, root, mut c, u) = open_service("cache/session.go").await;
    let lenses = c
        .ok("textDocument/codeLens", json!({"textDocument": {"uri": u}}))
        .await;
    let brief: Vec<String> = lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{} {} -> {}",
                l["range"]["start"]["line"],
                l["range"]["start"]["character"],
                l["command"]["title"].as_str().unwrap(),
                l["command"]["command"].as_str().unwrap()
            )
        })
        .collect();
    expect![[r#"
        30:1 heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot -> heapspot.showTop
        35:0 heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot -> heapspot.showTop"#]]
    .assert_eq(&brief.join("\n"));

    let hints = c
        .ok(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": u}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 200, "character": 0}}}),
        )
        .await;
    let brief: Vec<String> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            assert_eq!(h["paddingLeft"], true);
            format!(
                "{}:{} {}",
                h["position"]["line"],
                h["position"]["character"],
                h["label"].as_str().unwrap()
            )
        })
        .collect();
    expect![[r#"
        41:15 138kB ▲
        45:35 114kB ▲
        46:33 1.2MB ▲
        48:47 53kB ▲"#]]
    .assert_eq(&brief.join("\n"));
    // A range without allocation lines has no hints.
    let none = c
        .ok(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": u}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 10, "character": 0}}}),
        )
        .await;
    assert_eq!(none, json!([]));

    let hover = c
        .ok(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": {"line": 46, "character": 5}}),
        )
        .await;
    assert_eq!(hover["contents"]["kind"], "markdown");
    let repo = uri(&Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap());
    expect![[r#"
        **heapspot** · 1.16MB inuse_space here (10.67% of total) in `cache.Touch`

        - **error** [unbounded-global-map](file://$REPO/docs/rules/unbounded-global-map.md): package-level map "sessions" is written in Touch and never deleted from; retains 1.46MB (13% of in-use), +332.37kB per snapshot (reported at line 49)

        | sample type | last snapshot | share of total |
        |---|---:|---:|
        | alloc_objects | 1188 | 1.89% |
        | alloc_space | 1.16MB | 3.74% |
        | inuse_objects | 1188 | 10.13% |
        | inuse_space (shown) | 1.16MB | 10.67% |

        **Trend** (inuse_space, 4 snapshots): `▁▃▅█` 370.71kB → 628.39kB → 895.12kB → 1.16MB  
        per snapshot: +257.69kB, +266.73kB, +293.85kB; fitted +272.15kB/snapshot, +15.26MB/minute (r² 1.00, 3/3 steps up): steady growth, a leak by the thresholds

        **Top call paths** (inuse_space, latest snapshot, outermost first):
        1. 1.02MB (87.83% of the line): `main.simulateTraffic` → `main.simulateTraffic.func1` → `http.(*ServeMux).ServeHTTP` → `http.HandlerFunc.ServeHTTP` → `main.(*app).handleProduct` → `cache.Touch`
        2. 144.67kB (12.17% of the line): `main.simulateTraffic` → `main.simulateTraffic.func1` → `http.(*ServeMux).ServeHTTP` → `http.HandlerFunc.ServeHTTP` → `main.(*app).handleCheckout` → `cache.Touch`
    "#]].assert_eq(&hover["contents"]["value"].as_str().unwrap().replace(&repo, "file://$REPO"));
    let nothing = c
        .ok(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": 0}}),
        )
        .await;
    assert_eq!(nothing, Value::Null);

    // Switched off by settings.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"codeLens": false, "inlayHints": false}}),
    );
    let mut off = false;
    for _ in 0..50 {
        let l = c
            .ok("textDocument/codeLens", json!({"textDocument": {"uri": u}}))
            .await;
        if l == json!([]) {
            off = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(off, "code lenses stay on after codeLens: false");
    let _ = root;
    c.shutdown().await;
}

/// Applies the edits of a code action for `path` to its text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_fixes_edit_the_text() {
    let (_tmp, root, mut c, u) = open_service("ingest/ingest.go").await;
    let path = root.join("ingest/ingest.go");
    let actions = c
        .ok(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": u},
                   "range": {"start": {"line": 58, "character": 0}, "end": {"line": 58, "character": 0}},
                   "context": {"diagnostics": []}}),
        )
        .await;
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    expect![[r#"
        Store a copy: strings.Clone(title)
        Ignore substring-retains-string here with a comment
        Bound "titles" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
        Ignore unbounded-global-map here with a comment"#]]
    .assert_eq(&titles.join("\n"));
    for a in actions.as_array().unwrap() {
        assert_eq!(a["kind"], "quickfix");
        assert_eq!(a["diagnostics"].as_array().unwrap().len(), 1);
    }

    // strings.Clone: the stored title is a copy.
    let clone = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("strings.Clone"))
        .unwrap();
    let edited = apply_action(clone, &path);
    let line = edited.lines().nth(58).unwrap();
    expect![
        "	titles[id] = strings.Clone(title) // want substring-retains-string unbounded-global-map"
    ]
    .assert_eq(line);

    // The LRU fix rewrites the declaration, the write and the imports.
    let lru = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("LRU"))
        .unwrap();
    let edited = apply_action(lru, &path);
    assert!(
        edited.contains("\"github.com/hashicorp/golang-lru/v2\""),
        "{edited}"
    );
    let changed: Vec<&str> = edited
        .lines()
        .filter(|l| l.contains("lru") || l.contains("titles"))
        .collect();
    expect![[r#"
        	lru "github.com/hashicorp/golang-lru/v2"
        	// titles keeps the title line of every imported document for search
        	titles, _ = lru.New[string, string](10000) // Bounded: tune the capacity to the working set.
        // titles map keeps every imported document alive in full, although only
        	titles.Add(id, title) // want substring-retains-string unbounded-global-map
        	return len(headers), titles.Len()"#]].assert_eq(&changed.join("\n"));

    // Ignore with a comment: the line above, indented like the line; once typed, the
    // finding is gone before the file is saved.
    let ignore = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Ignore unbounded-global-map here with a comment")
        .unwrap();
    let edited = apply_action(ignore, &path);
    let lines: Vec<&str> = edited.lines().collect();
    assert_eq!(
        lines[58],
        "\t//heapspot:ignore unbounded-global-map reason: explain why this is not a leak"
    );
    assert_eq!(
        lines[59].trim(),
        "titles[id] = title // want substring-retains-string unbounded-global-map"
    );
    let mark = c.seen.len();
    let edits: Vec<Value> = ignore["edit"]["changes"][&u]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({"range": e["range"], "text": e["newText"]}))
        .collect();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": edits}),
    );
    let d = c
        .diagnostics_from(mark, &u, |d| {
            d.iter().any(|d| d["range"]["start"]["line"] == 59)
        })
        .await;
    let at: Vec<&str> = d
        .iter()
        .filter(|d| d["range"]["start"]["line"] == 59)
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["substring-retains-string"]);
    c.shutdown().await;
}

const NON_ASCII: &str = "package cache\n\nvar greetings = map[string]string{}\n\nfunc Greet(k string) {\n\t_ = \"héllo 🌍\"; greetings[k] = k\n}\n";

/// The range of the finding on a write that follows non-ASCII text, in the negotiated
/// encoding; then an edit at the write's column (inserting a `delete`) must land there,
/// which makes the finding go away.
async fn greet_range(encodings: Value) -> (Value, Value) {
    let (_tmp, root) = fixture_copy("service");
    std::fs::write(root.join("cache/greet.go"), NON_ASCII).unwrap();
    let mut c = start();
    let init = c
        .initialize(
            &root,
            json!({"general": {"positionEncodings": encodings}}),
            json!({}),
        )
        .await;
    let u = c.open(&root.join("cache/greet.go"), 1);
    let d = c
        .diagnostics_from(0, &u, |d| {
            d.iter().any(|d| d["code"] == "unbounded-global-map")
        })
        .await;
    let range = d
        .into_iter()
        .find(|d| d["code"] == "unbounded-global-map")
        .unwrap()["range"]
        .clone();
    let at = range["start"].clone();
    let mark = c.seen.len();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [
            {"range": {"start": at, "end": at}, "text": "delete(greetings, k); "}]}),
    );
    c.diagnostics_from(mark, &u, |d| {
        !d.iter().any(|d| d["code"] == "unbounded-global-map")
    })
    .await;
    c.shutdown().await;
    (init["capabilities"]["positionEncoding"].clone(), range)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_in_utf16_and_utf8_on_non_ascii_lines() {
    // `\t_ = "héllo 🌍"; greetings[k]`: the write starts after 17 UTF-16 code units or
    // 20 bytes.
    let (enc, r) = greet_range(json!(["utf-16"])).await;
    assert_eq!(enc, "utf-16");
    assert_eq!(r["start"], json!({"line": 5, "character": 17}), "{r}");
    assert_eq!(r["end"], json!({"line": 5, "character": 29}), "{r}");
    let (enc, r) = greet_range(json!(["utf-8", "utf-16"])).await;
    assert_eq!(enc, "utf-8");
    assert_eq!(r["start"], json!({"line": 5, "character": 20}), "{r}");
    assert_eq!(r["end"], json!({"line": 5, "character": 32}), "{r}");
    let (enc, r) = greet_range(Value::Null).await;
    assert_eq!(enc, "utf-16");
    assert_eq!(r["start"]["character"], 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_apply_in_version_order_and_old_results_are_dropped() {
    let (_tmp, root, mut c, u) = open_service("cache/session.go").await;
    let at = |v: i32, text: &str| {
        json!({"textDocument": {"uri": u, "version": v}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": text}]})
    };
    // Version 3 arrives before version 2; both insert at the top. In version order the
    // text starts "// two\n// three\n"? No: 3 inserts above 2's line.
    let mark = c.seen.len();
    c.notify("textDocument/didChange", at(3, "// three\n"));
    c.notify("textDocument/didChange", at(2, "// two\n"));
    let d = c
        .diagnostics_from(mark, &u, |d| {
            d.iter().any(|d| d["code"] == "unbounded-global-map")
        })
        .await;
    let p = c
        .wait_from(
            mark,
            "textDocument/publishDiagnostics",
            |p| p["uri"] == u.as_str(),
            client::TIMEOUT,
        )
        .await;
    // Every publication after the edits is for version 3, with the map write two lines
    // further down.
    for n in c.seen[mark..]
        .iter()
        .filter(|n| n["params"]["uri"] == u.as_str())
    {
        assert_eq!(n["params"]["version"], 3, "{n}");
    }
    assert_eq!(p["version"], 3);
    let line = d
        .iter()
        .find(|d| d["code"] == "unbounded-global-map")
        .unwrap()["range"]["start"]["line"]
        .clone();
    assert_eq!(line, 50);
    // The hover reads the text of version 3: line 51 (0-based 50) is the write.
    let h = c
        .ok(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": {"line": 50, "character": 3}}),
        )
        .await;
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("unbounded-global-map"),
        "{h}"
    );
    let _ = root;
    c.shutdown().await;
}
