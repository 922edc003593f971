//! Live Go programs for integration tests: builds `tests/live/<name>/` with `go build`
//! into a temporary directory, starts it, reads the base URL it prints, and kills it when
//! the returned guard is dropped. Include with `#[path = "support/live.rs"] mod live;`.
//!
//! Without Go on PATH, `start` prints why the test is skipped (to stderr, past the test
//! harness's capture) and returns `None`; any other failure panics.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// A running live program. Dropping it kills the program and removes its build directory.
pub struct Live {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The program's source directory (`tests/live/<name>`), as recorded in its profiles.
    pub source_dir: PathBuf,
    child: Child,
    /// Kept open: the program exits when its standard input closes.
    stdin: Option<ChildStdin>,
    build_dir: PathBuf,
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `go version`, or why Go cannot be run.
pub fn go_version() -> Result<String, String> {
    let out = go()
        .arg("version")
        .output()
        .map_err(|e| format!("cannot run `go`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`go version` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A `go` command that uses the installed toolchain and never downloads anything.
pub fn go() -> Command {
    let mut c = Command::new("go");
    c.env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("GOPROXY", "off");
    c
}

/// Builds and starts `tests/live/<name>`, or returns `None` (after saying so) when Go is
/// not installed. `test` names the calling test in the skip note.
pub fn start(name: &str, test: &str) -> Option<Live> {
    if let Err(e) = go_version() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: the live Go program was NOT run: Go is unavailable ({e})"
        );
        return None;
    }
    let source_dir = repo_root().join("tests/live").join(name);
    assert!(
        source_dir.join("go.mod").is_file(),
        "no live program at {}",
        source_dir.display()
    );
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let build_dir = std::env::temp_dir().join(format!(
        "heapspot-live-{name}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&build_dir).unwrap();
    let bin = build_dir.join(name);
    let built = go()
        .args(["build", "-buildvcs=false", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&source_dir)
        .output()
        .expect("cannot run `go build`");
    if !built.status.success() {
        let _ = std::fs::remove_dir_all(&build_dir);
        panic!(
            "`go build` of {} failed: {}",
            source_dir.display(),
            String::from_utf8_lossy(&built.stderr)
        );
    }
    let mut child = Command::new(&bin)
        .current_dir(&build_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().unwrap();
    // The first line is the base URL; wait for it with a deadline, not forever.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Drain the rest so the program never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let mut live = Live {
        base_url: String::new(),
        source_dir,
        child,
        stdin,
        build_dir,
    };
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{name} printed no address within 30 s"));
    let url = line.trim();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "{name} printed {line:?}, not its address"
    );
    live.base_url = url.to_string();
    Some(live)
}

impl Live {
    /// GETs `path` from the program with a plain HTTP/1.0 request and returns the body;
    /// panics unless the status is 200.
    pub fn get(&self, path: &str) -> String {
        let addr = self.base_url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "GET {path}: {head}"
        );
        body.to_string()
    }

    /// A source file of the program.
    pub fn source_file(&self, name: &str) -> PathBuf {
        self.source_dir.join(name)
    }

    /// The 1-based line of `file` containing `marker`; panics unless exactly one does.
    pub fn line_of(&self, file: &str, marker: &str) -> i64 {
        let text = std::fs::read_to_string(self.source_file(file)).unwrap();
        let hits: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(marker))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(hits.len(), 1, "{marker:?} in {file}: lines {hits:?}");
        hits[0] as i64
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.build_dir);
    }
}
