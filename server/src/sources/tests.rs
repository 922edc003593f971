//! Tests of live sources: endpoint normalization, the snapshot store, and fetches against
//! local servers the tests script (refused connections, errors, HTML, oversized bodies,
//! silence, trickles).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::store::stamp;
use super::*;

// ---------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------

#[track_caller]
fn norm(input: &str) -> (String, String) {
    let e = endpoint(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    (e.heap, e.goroutine)
}

#[test]
fn endpoint_forms_normalize_to_both_urls() {
    let base = (
        "http://127.0.0.1:6060/debug/pprof/heap".to_string(),
        "http://127.0.0.1:6060/debug/pprof/goroutine".to_string(),
    );
    for input in [
        "127.0.0.1:6060",
        "http://127.0.0.1:6060",
        "http://127.0.0.1:6060/",
        "  http://127.0.0.1:6060  ",
        "HTTP://127.0.0.1:6060/debug/pprof",
        "http://127.0.0.1:6060/debug/pprof/",
        "127.0.0.1:6060/debug/pprof/heap",
        "http://127.0.0.1:6060/debug/pprof/heap",
        "http://127.0.0.1:6060/debug/pprof/goroutine",
        "http://127.0.0.1:6060/debug/pprof/heap#top",
    ] {
        assert_eq!(norm(input), base, "{input}");
    }
    assert_eq!(
        norm(":6060"),
        (
            "http://localhost:6060/debug/pprof/heap".to_string(),
            "http://localhost:6060/debug/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("https://svc.example.com"),
        (
            "https://svc.example.com/debug/pprof/heap".to_string(),
            "https://svc.example.com/debug/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("http://[::1]:6060/debug/pprof"),
        (
            "http://[::1]:6060/debug/pprof/heap".to_string(),
            "http://[::1]:6060/debug/pprof/goroutine".to_string()
        )
    );
}

#[test]
fn endpoint_keeps_queries_and_prefixes() {
    assert_eq!(
        norm("localhost:6060/debug/pprof/heap?gc=1"),
        (
            "http://localhost:6060/debug/pprof/heap?gc=1".to_string(),
            "http://localhost:6060/debug/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("h:1?gc=1"),
        (
            "http://h:1/debug/pprof/heap?gc=1".to_string(),
            "http://h:1/debug/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("http://h:1/debug/pprof?seconds=30"),
        (
            "http://h:1/debug/pprof/heap?seconds=30".to_string(),
            "http://h:1/debug/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("http://h:1/debug/pprof/goroutine?debug=0"),
        (
            "http://h:1/debug/pprof/heap".to_string(),
            "http://h:1/debug/pprof/goroutine?debug=0".to_string()
        )
    );
    // Services that mount pprof under their own prefix.
    assert_eq!(
        norm("http://h:1/admin/pprof/heap"),
        (
            "http://h:1/admin/pprof/heap".to_string(),
            "http://h:1/admin/pprof/goroutine".to_string()
        )
    );
    assert_eq!(
        norm("http://h:1/svc/a"),
        (
            "http://h:1/svc/a/debug/pprof/heap".to_string(),
            "http://h:1/svc/a/debug/pprof/goroutine".to_string()
        )
    );
}

#[test]
fn endpoint_rejects_garbage_naming_the_input() {
    for (input, why) in [
        ("", "no endpoint"),
        ("   ", "no endpoint"),
        ("ftp://host:21/debug/pprof", "unsupported scheme `ftp`"),
        ("file:///tmp/heap.pb.gz", "unsupported scheme `file`"),
        ("http://", "no host"),
        ("/debug/pprof/heap", "no host"),
        ("http://host:port", "`port` is not a port number"),
        ("host:0", "`0` is not a port number"),
        ("host:99999", "`99999` is not a port number"),
        ("host:+80", "`+80` is not a port number"),
        ("http://user:pw@host:1", "credentials"),
        ("garbage!!", "`garbage!!` is not a host name"),
        ("http://a b:1", "spaces"),
        ("http://[::1:6060", "unclosed"),
        (
            "http://h:1/debug/pprof/profile",
            "`profile` is not a heap or goroutine",
        ),
        ("http://h:1/debug/pprof/heap/x", "goes on after"),
        (
            "http://h:1/debug/pprof/heap?debug=1",
            "`debug=1` asks for the text format",
        ),
        ("http://h:1/debug/<pprof>", "`<` cannot appear in a URL"),
        (
            "h:1/debug/pprof/heap?x=\"y\"",
            "`\"` cannot appear in a URL",
        ),
        ("http://héte:1", "`héte` is not a host name"),
    ] {
        let e = match endpoint(input) {
            Ok(e) => panic!("{input:?} was accepted as {e:?}"),
            Err(e) => e,
        };
        let msg = e.to_string();
        assert!(msg.contains(why), "{input:?}: {msg}");
        assert!(msg.contains(&format!("`{input}`")), "{input:?}: {msg}");
        assert!(matches!(e.kind(), SourceErrorKind::BadEndpoint(_)));
        assert!(!e.is_transient());
    }
}

#[test]
fn slugs_are_host_and_port() {
    assert_eq!(
        slug("http://127.0.0.1:6060/debug/pprof/heap"),
        "127.0.0.1_6060"
    );
    assert_eq!(slug("127.0.0.1:6060"), "127.0.0.1_6060");
    assert_eq!(slug("https://svc.example.com/x"), "svc.example.com_443");
    assert_eq!(slug("http://svc"), "svc_80");
    assert_eq!(slug("http://[::1]:6060/debug/pprof"), "__1_6060");
    assert_eq!(slug("not an endpoint/../x"), "not_an_endpoint_.._x");
    assert_eq!(slug(""), "_");
    assert_eq!(slug(&"x".repeat(100)).len(), 64);
}

// ---------------------------------------------------------------------------------------
// The snapshot store
// ---------------------------------------------------------------------------------------

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "heapspot-sources-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
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

fn at_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// 2026-11-28T01:02:03.123Z in milliseconds since the epoch.
const T0: u64 = 1_795_827_723_123;

fn gzip_profile() -> Vec<u8> {
    std::fs::read(fixture("globalmap/profiles/heap-1.pb.gz")).unwrap()
}

fn raw_profile() -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gzip_profile()[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel)
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn stamps_are_utc_and_sortable() {
    assert_eq!(stamp(0).unwrap(), "19700101T000000.000Z");
    assert_eq!(stamp(T0).unwrap(), "20261128T010203.123Z");
    // 2024-02-29T23:59:59.999Z, a leap day.
    assert_eq!(stamp(1_709_251_199_999).unwrap(), "20240229T235959.999Z");
    assert_eq!(stamp(1_709_251_200_000).unwrap(), "20240301T000000.000Z");
    assert_eq!(stamp(253_402_300_799_999).unwrap(), "99991231T235959.999Z");
    assert_eq!(stamp(253_402_300_800_000), None);
}

#[test]
fn save_names_files_by_time_endpoint_kind_and_encoding() {
    let s = Scratch::new("naming");
    let store = SnapshotStore::open(&s.0).unwrap();
    assert_eq!(store.dir(), s.0.join(".heapspot/snapshots"));
    assert!(!store.dir().exists(), "created before the first save");
    assert!(store.list(Kind::Heap, None).unwrap().is_empty());
    let keep = Retention::default();
    let gz = gzip_profile();
    let p = store
        .save(
            Kind::Heap,
            "http://127.0.0.1:6060/debug/pprof/heap",
            &gz,
            at_millis(T0),
            &keep,
        )
        .unwrap();
    assert_eq!(
        p,
        store
            .dir()
            .join("20261128T010203.123Z-127.0.0.1_6060-heap.pb.gz")
    );
    assert_eq!(std::fs::read(&p).unwrap(), gz);
    let raw = raw_profile();
    let q = store
        .save(
            Kind::Goroutine,
            "127.0.0.1:6060",
            &raw,
            at_millis(T0 + 1),
            &keep,
        )
        .unwrap();
    assert_eq!(
        names(std::slice::from_ref(&q)),
        ["20261128T010203.124Z-127.0.0.1_6060-goroutine.pb"]
    );
    assert_eq!(std::fs::read(&q).unwrap(), raw);
    assert_eq!(store.list(Kind::Heap, None).unwrap(), [p]);
    assert_eq!(store.list(Kind::Goroutine, None).unwrap(), [q]);
}

#[test]
fn list_is_oldest_first_per_kind_and_endpoint_and_ignores_junk() {
    let s = Scratch::new("order");
    let store = SnapshotStore::at(s.0.join("plain"));
    let keep = Retention::default();
    let a = "http://127.0.0.1:6060";
    let b = "http://10.1.2.3:7070/debug/pprof/heap";
    let gz = gzip_profile();
    let raw = raw_profile();
    // Saved out of time order; raw and gzip'd mixed.
    for (ep, t, bytes) in [
        (a, T0 + 3_000, &gz),
        (a, T0, &raw),
        (b, T0 + 1_500, &gz),
        (a, T0 + 2_000, &gz),
    ] {
        store
            .save(Kind::Heap, ep, bytes, at_millis(t), &keep)
            .unwrap();
    }
    store
        .save(Kind::Goroutine, a, &gz, at_millis(T0 + 10), &keep)
        .unwrap();
    // Junk a reader must skip.
    let junk = [
        "notes.txt",
        "20261128T010203.123Z-127.0.0.1_6060-heap.pb.gz.part",
        ".tmp-1-2-127.0.0.1_6060-heap",
        "2026-127.0.0.1_6060-heap.pb.gz",
        "20261128T010203.123Z-127.0.0.1_6060-cpu.pb.gz",
        "20261128T010203.123Z--heap.pb.gz",
        "20261128X010203.123Z-127.0.0.1_6060-heap.pb.gz",
    ];
    for j in junk {
        std::fs::write(store.dir().join(j), b"junk").unwrap();
    }
    std::fs::create_dir(
        store
            .dir()
            .join("20261128T010203.999Z-127.0.0.1_6060-heap.pb"),
    )
    .unwrap();
    assert_eq!(
        names(&store.list(Kind::Heap, None).unwrap()),
        [
            "20261128T010203.123Z-127.0.0.1_6060-heap.pb",
            "20261128T010204.623Z-10.1.2.3_7070-heap.pb.gz",
            "20261128T010205.123Z-127.0.0.1_6060-heap.pb.gz",
            "20261128T010206.123Z-127.0.0.1_6060-heap.pb.gz",
        ]
    );
    assert_eq!(
        names(
            &store
                .list(Kind::Heap, Some("127.0.0.1:6060/debug/pprof"))
                .unwrap()
        ),
        [
            "20261128T010203.123Z-127.0.0.1_6060-heap.pb",
            "20261128T010205.123Z-127.0.0.1_6060-heap.pb.gz",
            "20261128T010206.123Z-127.0.0.1_6060-heap.pb.gz",
        ]
    );
    assert_eq!(
        names(&store.list(Kind::Heap, Some(b)).unwrap()),
        ["20261128T010204.623Z-10.1.2.3_7070-heap.pb.gz"]
    );
    assert_eq!(
        names(&store.list(Kind::Goroutine, Some(a)).unwrap()),
        ["20261128T010203.133Z-127.0.0.1_6060-goroutine.pb.gz"]
    );
    assert!(store
        .list(Kind::Goroutine, Some("http://other:1"))
        .unwrap()
        .is_empty());
}

#[test]
fn saves_in_one_millisecond_get_distinct_names_in_save_order() {
    let s = Scratch::new("collide");
    let store = SnapshotStore::at(&s.0);
    let keep = Retention::default();
    let mut saved = Vec::new();
    for i in 0..3u8 {
        let bytes = vec![i; 10];
        saved.push(
            store
                .save(Kind::Heap, "h:1", &bytes, at_millis(T0), &keep)
                .unwrap(),
        );
    }
    assert_eq!(
        names(&saved),
        [
            "20261128T010203.123Z-h_1-heap.pb",
            "20261128T010203.124Z-h_1-heap.pb",
            "20261128T010203.125Z-h_1-heap.pb",
        ]
    );
    for (i, p) in saved.iter().enumerate() {
        assert_eq!(std::fs::read(p).unwrap(), vec![i as u8; 10]);
    }
    assert_eq!(store.list(Kind::Heap, None).unwrap(), saved);
}

#[test]
fn pruning_keeps_the_newest_by_count_per_endpoint_and_kind() {
    let s = Scratch::new("prune-count");
    let store = SnapshotStore::at(&s.0);
    let keep = Retention {
        max_count: 3,
        max_bytes: u64::MAX,
    };
    let other = store
        .save(Kind::Heap, "other:1", b"o", at_millis(T0), &keep)
        .unwrap();
    let gor = store
        .save(Kind::Goroutine, "h:1", b"g", at_millis(T0), &keep)
        .unwrap();
    let mut saved = Vec::new();
    for i in 0..6 {
        saved.push(
            store
                .save(Kind::Heap, "h:1", b"hh", at_millis(T0 + 1000 * i), &keep)
                .unwrap(),
        );
        let expect = &saved[saved.len().saturating_sub(3)..];
        assert_eq!(store.list(Kind::Heap, Some("h:1")).unwrap(), expect);
    }
    assert!(other.exists() && gor.exists(), "other series were pruned");
    // No temporary files are left behind.
    let mut expect = names(&saved[3..]);
    expect.extend(names(&[other, gor]));
    expect.sort();
    assert_eq!(dir_names(&s.0), expect);
}

#[test]
fn pruning_by_bytes_always_keeps_the_newest() {
    let s = Scratch::new("prune-bytes");
    let store = SnapshotStore::at(&s.0);
    let keep = Retention {
        max_count: 100,
        max_bytes: 250,
    };
    let mut saved = Vec::new();
    for i in 0..4 {
        saved.push(
            store
                .save(Kind::Heap, "h:1", &[7u8; 100], at_millis(T0 + i), &keep)
                .unwrap(),
        );
    }
    assert_eq!(store.list(Kind::Heap, None).unwrap(), &saved[2..]);
    let big = store
        .save(Kind::Heap, "h:1", &[1u8; 400], at_millis(T0 + 10), &keep)
        .unwrap();
    assert_eq!(store.list(Kind::Heap, None).unwrap(), [big]);
    // A count of zero still keeps the snapshot just saved.
    let none = Retention {
        max_count: 0,
        max_bytes: 0,
    };
    let last = store
        .save(Kind::Heap, "h:1", b"x", at_millis(T0 + 20), &none)
        .unwrap();
    assert_eq!(store.list(Kind::Heap, None).unwrap(), [last]);
}

#[test]
fn stale_temp_files_are_removed_and_fresh_ones_kept() {
    let s = Scratch::new("temps");
    let store = SnapshotStore::at(&s.0);
    let stale = s.0.join(".tmp-1-1-h_1-heap");
    let fresh = s.0.join(".tmp-2-1-h_1-heap");
    // Old, but not named like a save's temporary file: somebody else's.
    let foreign = s.0.join(".tmp-notes");
    for (p, age) in [(&stale, 2 * 3600), (&fresh, 0), (&foreign, 2 * 3600)] {
        std::fs::write(p, b"partial").unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age))
            .unwrap();
    }
    let p = store
        .save(
            Kind::Heap,
            "h:1",
            b"x",
            at_millis(T0),
            &Retention::default(),
        )
        .unwrap();
    assert!(!stale.exists(), "a stale temporary file survived");
    assert!(
        fresh.exists(),
        "a temporary file of a running save was removed"
    );
    assert!(
        foreign.exists(),
        "a file heapspot did not write was removed"
    );
    assert_eq!(store.list(Kind::Heap, None).unwrap(), [p]);
}

#[test]
fn store_errors_name_the_path() {
    let s = Scratch::new("errors");
    let file = s.0.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let e = SnapshotStore::open(&file).unwrap_err().to_string();
    assert!(
        e.contains(&file.display().to_string()) && e.contains("not a directory"),
        "{e}"
    );
    let e = SnapshotStore::open(&s.0.join("missing"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing") && e.contains("cannot open the workspace"),
        "{e}"
    );
    let store = SnapshotStore::at(file.join("sub"));
    let e = store
        .save(
            Kind::Heap,
            "h:1",
            b"x",
            at_millis(T0),
            &Retention::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains(&file.join("sub").display().to_string()), "{e}");
    assert_eq!(dir_names(&s.0), ["a-file"]);
    let e = store.save(
        Kind::Heap,
        "h:1",
        b"x",
        UNIX_EPOCH - Duration::from_secs(1),
        &Retention::default(),
    );
    assert!(e.is_err());
}

// ---------------------------------------------------------------------------------------
// Fetching, against servers the tests script
// ---------------------------------------------------------------------------------------

/// Serves one connection on 127.0.0.1 with `respond`, after reading the request head.
fn serve(respond: impl FnOnce(&mut TcpStream) + Send + 'static) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/debug/pprof/heap", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let line = String::from_utf8_lossy(&head);
        assert!(
            line.starts_with("GET /debug/pprof/heap HTTP/1.1\r\n")
                || line.starts_with("GET /debug/pprof/goroutine HTTP/1.1\r\n"),
            "{line}"
        );
        respond(&mut stream);
    });
    (url, handle)
}

fn respond_with(
    status: &str,
    content_type: &str,
    body: Vec<u8>,
) -> impl FnOnce(&mut TcpStream) + Send + 'static {
    let status = status.to_string();
    let content_type = content_type.to_string();
    move |s: &mut TcpStream| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&body);
    }
}

/// Waits until the client hangs up (or 20 s pass).
fn wait_for_hangup(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

fn limits(timeout_ms: u64, max_bytes: u64) -> FetchLimits {
    FetchLimits {
        timeout: Duration::from_millis(timeout_ms),
        max_bytes,
    }
}

#[test]
fn fetch_limits_default() {
    let d = FetchLimits::default();
    assert_eq!(d.timeout, Duration::from_secs(30));
    assert_eq!(d.max_bytes, 256 * 1024 * 1024);
    let r = Retention::default();
    assert_eq!((r.max_count, r.max_bytes), (50, 256 * 1024 * 1024));
}

#[test]
fn fetch_returns_the_profile_bytes_gzip_or_raw() {
    for body in [gzip_profile(), raw_profile()] {
        let (url, h) = serve(respond_with(
            "200 OK",
            "application/octet-stream",
            body.clone(),
        ));
        let got = fetch(&url, &limits(10_000, 1 << 20)).unwrap();
        assert_eq!(got, body);
        h.join().unwrap();
    }
}

#[test]
fn fetch_refused_names_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/debug/pprof/heap", listener.local_addr().unwrap());
    drop(listener);
    let e = fetch(&url, &limits(5_000, 1 << 20)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e.kind(), SourceErrorKind::Connect(_)), "{msg}");
    assert!(msg.starts_with(&format!("{url}: cannot connect")), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(e.is_transient());
}

#[test]
fn fetch_404_quotes_the_server() {
    let (url, h) = serve(respond_with(
        "404 Not Found",
        "text/plain; charset=utf-8",
        b"Unknown profile: heap\n".to_vec(),
    ));
    let e = fetch(&url, &limits(10_000, 1 << 20)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{url}: HTTP status 404: Unknown profile: heap")
    );
    assert!(matches!(
        e.kind(),
        SourceErrorKind::Status { code: 404, .. }
    ));
    h.join().unwrap();
}

#[test]
fn fetch_html_is_not_a_profile() {
    let (url, h) = serve(respond_with(
        "200 OK",
        "text/html; charset=utf-8",
        b"<!DOCTYPE html><html><body>Login</body></html>".to_vec(),
    ));
    let e = fetch(&url, &limits(10_000, 1 << 20)).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e.kind(), SourceErrorKind::NotAProfile { .. }),
        "{msg}"
    );
    assert!(
        msg.starts_with(&format!(
            "{url}: the response is not a pprof profile (content type text/html; charset=utf-8): "
        )),
        "{msg}"
    );
    assert!(
        !msg[url.len()..].contains(&url),
        "the URL is repeated: {msg}"
    );
    h.join().unwrap();
}

#[test]
fn fetch_truncated_profile_is_not_a_profile() {
    let mut raw = raw_profile();
    raw.truncate(raw.len() - 7);
    let (url, h) = serve(respond_with("200 OK", "application/octet-stream", raw));
    let e = fetch(&url, &limits(10_000, 1 << 20)).unwrap_err();
    assert!(
        matches!(e.kind(), SourceErrorKind::NotAProfile { .. }),
        "{e}"
    );
    assert!(e.to_string().starts_with(&url), "{e}");
    h.join().unwrap();
}

#[test]
fn fetch_over_the_limit_declared_or_streamed() {
    let body = gzip_profile();
    let limit = body.len() as u64 - 1;
    // Declared with Content-Length.
    let (url, h) = serve(respond_with(
        "200 OK",
        "application/octet-stream",
        body.clone(),
    ));
    let e = fetch(&url, &limits(10_000, limit)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{url}: the response is larger than the limit of {limit} bytes")
    );
    h.join().unwrap();
    // Chunked, with no length given up front.
    let (url, h) = serve(move |s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        for chunk in body.chunks(1000) {
            let _ = write!(s, "{:x}\r\n", chunk.len());
            let _ = s.write_all(chunk);
            let _ = s.write_all(b"\r\n");
        }
        let _ = s.write_all(b"0\r\n\r\n");
    });
    let e = fetch(&url, &limits(10_000, limit)).unwrap_err();
    assert!(matches!(e.kind(), SourceErrorKind::TooLarge { .. }), "{e}");
    h.join().unwrap();
    // The same body under a limit it fits is accepted.
    let body = gzip_profile();
    let (url, h) = serve(respond_with(
        "200 OK",
        "application/octet-stream",
        body.clone(),
    ));
    assert_eq!(
        fetch(&url, &limits(10_000, body.len() as u64)).unwrap(),
        body
    );
    h.join().unwrap();
}

#[test]
fn fetch_times_out_on_a_silent_server() {
    let (url, h) = serve(wait_for_hangup);
    let start = Instant::now();
    let e = fetch(&url, &limits(300, 1 << 20)).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e.kind(), SourceErrorKind::Timeout(_)), "{e}");
    assert!(e.to_string().starts_with(&url), "{e}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    h.join().unwrap();
}

#[test]
fn fetch_times_out_on_a_slow_trickle() {
    // Every byte arrives well within any per-read timeout, but the whole body would take
    // minutes: the limit is on the whole exchange.
    let (url, h) = serve(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n",
        );
        for _ in 0..100_000 {
            if s.write_all(b"\x0a").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let start = Instant::now();
    let e = fetch(&url, &limits(600, 1 << 20)).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e.kind(), SourceErrorKind::Timeout(_)), "{e}");
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    h.join().unwrap();
}

#[test]
fn fetch_rejects_other_schemes() {
    let e = fetch("file:///etc/passwd", &FetchLimits::default()).unwrap_err();
    assert!(e.to_string().contains("`file:///etc/passwd`"), "{e}");
    assert!(matches!(e.kind(), SourceErrorKind::BadEndpoint(_)));
}

#[test]
fn store_capture_fetches_and_saves_under_the_endpoint() {
    let s = Scratch::new("capture");
    let store = SnapshotStore::open(&s.0).unwrap();
    let body = gzip_profile();
    let (url, h) = serve(respond_with(
        "200 OK",
        "application/octet-stream",
        body.clone(),
    ));
    let ep = endpoint(&url).unwrap();
    let before = SystemTime::now();
    let p = store
        .capture(
            &ep,
            Kind::Heap,
            &limits(10_000, 1 << 20),
            &Retention::default(),
        )
        .unwrap();
    h.join().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), body);
    let name = names(std::slice::from_ref(&p))[0].clone();
    assert_eq!(store.list(Kind::Heap, Some(&url)).unwrap(), [p]);
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    assert!(
        name.ends_with(&format!("-127.0.0.1_{port}-heap.pb.gz")),
        "{name}"
    );
    // Stamped with the time of the request, to the millisecond.
    let ms = before.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let stamped = &name[..20];
    assert!(
        stamped >= stamp(ms).unwrap().as_str() && stamped <= stamp(ms + 10_000).unwrap().as_str(),
        "{name}"
    );
    // A failed fetch saves nothing.
    let (url, h) = serve(respond_with(
        "500 Internal Server Error",
        "text/plain",
        b"boom".to_vec(),
    ));
    let ep = endpoint(&url).unwrap();
    let e = store
        .capture(
            &ep,
            Kind::Goroutine,
            &limits(10_000, 1 << 20),
            &Retention::default(),
        )
        .unwrap_err();
    h.join().unwrap();
    assert_eq!(
        e.to_string(),
        format!("{}: HTTP status 500: boom", ep.goroutine)
    );
    assert!(store.list(Kind::Goroutine, None).unwrap().is_empty());
}
