//! A scripted LSP client for the language server tests: frames JSON-RPC messages over any
//! reader and writer (an in-process duplex pipe or the real binary's stdio), answers the
//! server's own requests (`workspace/configuration` with the test's settings, the rest
//! with null) and collects notifications for the tests to wait on.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

pub struct TestClient {
    out: mpsc::UnboundedSender<Value>,
    pending: Pending,
    next_id: i64,
    notes: mpsc::UnboundedReceiver<Value>,
    /// Notifications received so far, in order.
    pub seen: Vec<Value>,
    /// What `workspace/configuration` answers.
    pub settings: Arc<Mutex<Value>>,
    /// Requests the server sent, in order.
    pub server_requests: Arc<Mutex<Vec<Value>>>,
}

async fn read_message<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = vec![0u8; len?];
    r.read_exact(&mut buf).await.ok()?;
    serde_json::from_slice(&buf).ok()
}

impl TestClient {
    pub fn start<R, W>(reader: R, writer: W) -> TestClient
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (out, mut out_rx) = mpsc::unbounded_channel::<Value>();
        let (note_tx, notes) = mpsc::unbounded_channel();
        let pending: Pending = Arc::default();
        let settings = Arc::new(Mutex::new(Value::Null));
        let server_requests: Arc<Mutex<Vec<Value>>> = Arc::default();
        tokio::spawn(async move {
            let mut w = writer;
            while let Some(msg) = out_rx.recv().await {
                let body = serde_json::to_vec(&msg).unwrap();
                let head = format!("Content-Length: {}\r\n\r\n", body.len());
                if w.write_all(head.as_bytes()).await.is_err()
                    || w.write_all(&body).await.is_err()
                    || w.flush().await.is_err()
                {
                    break;
                }
            }
        });
        {
            let pending = Arc::clone(&pending);
            let out = out.clone();
            let settings = Arc::clone(&settings);
            let server_requests = Arc::clone(&server_requests);
            tokio::spawn(async move {
                let mut r = BufReader::new(reader);
                while let Some(msg) = read_message(&mut r).await {
                    let has_method = msg.get("method").is_some();
                    match (msg.get("id").cloned(), has_method) {
                        (Some(id), true) => {
                            let result = if msg["method"] == "workspace/configuration" {
                                let s = settings.lock().unwrap().clone();
                                let n = msg["params"]["items"].as_array().map_or(1, Vec::len);
                                Value::Array(vec![s; n])
                            } else {
                                Value::Null
                            };
                            server_requests.lock().unwrap().push(msg.clone());
                            let _ = out.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
                        }
                        (Some(id), false) => {
                            if let Some(tx) =
                                id.as_i64().and_then(|i| pending.lock().unwrap().remove(&i))
                            {
                                let _ = tx.send(msg);
                            }
                        }
                        (None, _) => {
                            let _ = note_tx.send(msg);
                        }
                    }
                }
            });
        }
        TestClient {
            out,
            pending,
            next_id: 1,
            notes,
            seen: Vec::new(),
            settings,
            server_requests,
        }
    }

    /// Sends a request and waits for its response: `Ok(result)` or `Err(error object)`.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.out
            .send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .unwrap();
        let resp = tokio::time::timeout(TIMEOUT, rx)
            .await
            .unwrap_or_else(|_| panic!("no response to {method} within {TIMEOUT:?}"))
            .unwrap();
        match resp.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(resp["result"].clone()),
        }
    }

    /// Sends a request that must succeed.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        match self.request(method, params).await {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.out
            .send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .unwrap();
    }

    /// Waits for a notification of `method` received after `from` (an index into
    /// `seen`) that satisfies `pred`.
    pub async fn wait_from(
        &mut self,
        from: usize,
        method: &str,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Value {
        if let Some(v) = self.seen[from.min(self.seen.len())..]
            .iter()
            .find(|n| n["method"] == method && pred(&n["params"]))
        {
            return v["params"].clone();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let n = tokio::time::timeout_at(deadline, self.notes.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no matching {method} within {timeout:?}; last ones: {}",
                        self.seen
                            .iter()
                            .rev()
                            .filter(|n| n["method"] == method)
                            .take(2)
                            .map(|n| n.to_string().chars().take(1500).collect::<String>())
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })
                .expect("the server closed the connection");
            self.seen.push(n.clone());
            if n["method"] == method && pred(&n["params"]) {
                return n["params"].clone();
            }
        }
    }

    /// Waits for a notification received from now on.
    pub async fn wait(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let from = self.seen.len();
        self.wait_from(from, method, pred, TIMEOUT).await
    }

    /// Moves every notification that has arrived into `seen`.
    pub fn drain(&mut self) {
        while let Ok(n) = self.notes.try_recv() {
            self.seen.push(n);
        }
    }

    /// Waits for diagnostics of `uri` (received after `from`) satisfying `pred`.
    pub async fn diagnostics_from(
        &mut self,
        from: usize,
        uri: &str,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let p = self
            .wait_from(
                from,
                "textDocument/publishDiagnostics",
                |p| p["uri"] == uri && pred(p["diagnostics"].as_array().map_or(&[], |v| v)),
                TIMEOUT,
            )
            .await;
        p["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    /// `initialize` and `initialized` with the given capabilities and options; returns
    /// the server's capabilities.
    pub async fn initialize(&mut self, root: &Path, capabilities: Value, options: Value) -> Value {
        let r = self
            .ok(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri(root),
                    "workspaceFolders": [{ "uri": uri(root), "name": "ws" }],
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await;
        self.notify("initialized", json!({}));
        r
    }

    /// Waits until the first analysis is published (the status notification).
    pub async fn ready(&mut self) -> Value {
        self.wait_from(0, "heapspot/status", |_| true, TIMEOUT)
            .await
    }

    pub fn open(&self, path: &Path, version: i32) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "go", "version": version, "text": text}}),
        );
        uri(path)
    }

    pub async fn shutdown(&mut self) {
        self.ok("shutdown", Value::Null).await;
        self.notify("exit", Value::Null);
    }
}

/// The `file://` URI of a path, as the server writes it.
pub fn uri(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// A fresh copy of a fixture workspace in a temporary directory (canonical path).
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    let dir = tempfile::Builder::new()
        .prefix("heapspot-lsp-")
        .tempdir()
        .unwrap();
    let root = dir.path().canonicalize().unwrap().join(name);
    copy_dir(&src, &root);
    (dir, root)
}

/// Applies LSP text edits (UTF-16 positions) to a text.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |line: u64, ch: u64| -> usize {
        let mut start = 0usize;
        for _ in 0..line {
            start += text[start..]
                .find('\n')
                .map_or(text.len() - start, |i| i + 1);
        }
        let mut units = 0u64;
        for (i, c) in text[start..].char_indices() {
            if units >= ch || c == '\n' {
                return start + i;
            }
            units += c.len_utf16() as u64;
        }
        text.len()
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            (
                offset(
                    r["start"]["line"].as_u64().unwrap(),
                    r["start"]["character"].as_u64().unwrap(),
                ),
                offset(
                    r["end"]["line"].as_u64().unwrap(),
                    r["end"]["character"].as_u64().unwrap(),
                ),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

/// Replaces absolute paths and URIs of the workspace with `$ROOT` for snapshots.
pub fn redact(v: &Value, root: &Path) -> String {
    let s = serde_json::to_string_pretty(v).unwrap();
    s.replace(&uri(root), "file://$ROOT")
        .replace(&root.display().to_string(), "$ROOT")
}

/// The text of `path` with a code action's edits to it applied.
pub fn apply_action(action: &Value, path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let edits = action["edit"]["changes"][uri(path)]
        .as_array()
        .unwrap()
        .clone();
    apply_edits(&text, &edits)
}

/// The rule ids of the diagnostics starting on a (0-based) line, sorted.
pub fn rules_at(diags: &[Value], line0: u64) -> Vec<String> {
    let mut v: Vec<String> = diags
        .iter()
        .filter(|d| d["range"]["start"]["line"] == line0)
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The `// want RULE...` markers of a file: (0-based line, sorted rule ids).
pub fn wants(path: &Path) -> Vec<(u64, Vec<String>)> {
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
