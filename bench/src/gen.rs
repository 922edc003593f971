//! `heapspot-bench gen`: writes a synthetic Go heap profile that looks like one from a big
//! Go service, of about a requested gzip'd size.
//!
//! The shape follows what `runtime/pprof` writes (Go 1.26 `writeHeapProto` and
//! `profileBuilder`): period type `space/bytes` with period 524288, the four heap sample
//! types, one sample per distinct stack with values scaled as `scaleHeapSample` does and
//! a `bytes` label holding the object size, location and function messages interleaved
//! with the samples as they are first used (ids in order of first use), then the time
//! stamp, the mappings and the string table, gzip'd at `BestSpeed`.
//!
//! The code is a static call graph over a few thousand functions with Go-style names:
//! shared roots (`net/http` server frames and middleware, gRPC, worker pools,
//! `runtime.main`), application packages that mostly call "forward" into neighbouring
//! packages, third-party and standard-library packages below them and a few runtime
//! allocation wrappers at the bottom. Call sites and allocation sites have fixed lines and
//! sometimes inlined frames (locations with 2-3 lines). A sample is a random walk down the
//! graph (hot call sites are chosen more often) to a depth of 10-40 frames, ending at an
//! allocation site with a size class, a retention rate (inuse <= alloc) and a heat; a
//! dozen "leaky" sites retain almost everything, as the sites a leak hunt looks for.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use heapspot::profile::pb;
use prost::Message;

use crate::rng::Rng;

/// Bumped whenever the output for a given size and seed changes, so that cached profiles
/// made by an older generator are not reused.
pub const GEN_VERSION: u32 = 1;
/// Go's default `runtime.MemProfileRate`.
const RATE: f64 = 524_288.0;
const MIB: f64 = (1u64 << 20) as f64;
/// Stack depths are drawn uniformly from this range (shorter when a walk reaches a leaf).
const MIN_DEPTH: usize = 10;
const MAX_DEPTH: usize = 40;
/// A fixed time stamp (2026-11-28 00:00:00 UTC) plus the seed, so output is reproducible.
const TIME_NANOS: i64 = 1_795_824_000_000_000_000;

/// What was written.
#[derive(Debug, Clone)]
pub struct GenStats {
    pub path: PathBuf,
    pub gz_bytes: u64,
    pub raw_bytes: u64,
    pub samples: u64,
    pub locations: u64,
    pub functions: u64,
    pub strings: u64,
    pub min_depth: usize,
    pub mean_depth: f64,
    pub max_depth: usize,
    pub elapsed: Duration,
}

/// Writes a profile of about `target_mib` MiB (gzip'd) to `out`, atomically (a temporary
/// file renamed into place, so an interrupted run never leaves a truncated profile that a
/// later run would reuse).
pub fn generate(target_mib: f64, seed: u64, out: &Path) -> io::Result<GenStats> {
    let start = Instant::now();
    let target = (target_mib * MIB) as u64;
    let n_funcs = (2500.0 + 120.0 * target_mib).min(9000.0) as usize;
    let universe = Universe::build(seed, n_funcs);

    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = File::create(&tmp)?;
    let counting = Counting {
        inner: BufWriter::with_capacity(1 << 20, file),
        written: 0,
    };
    let mut w = ProfileWriter::new(GzEncoder::new(counting, Compression::fast()));
    w.header()?;

    let mut rng = Rng::derive(seed, 2);
    let mut stack: Vec<LocKey> = Vec::with_capacity(64);
    let mut ids: Vec<u64> = Vec::with_capacity(64);
    let (mut min_depth, mut max_depth, mut depth_sum) = (usize::MAX, 0usize, 0u64);
    // Go writes one sample per distinct stack; redraw a stack already written (a few
    // tries, then accept it: small graphs run out of distinct stacks).
    let mut seen: HashSet<u64> = HashSet::new();
    loop {
        let mut alloc = universe.walk(&mut rng, &mut stack);
        for _ in 0..8 {
            let mut h = std::hash::DefaultHasher::new();
            stack.hash(&mut h);
            if seen.insert(h.finish()) {
                break;
            }
            alloc = universe.walk(&mut rng, &mut stack);
        }
        ids.clear();
        for key in stack.iter().rev() {
            ids.push(w.location(&universe, *key)?);
        }
        min_depth = min_depth.min(ids.len());
        max_depth = max_depth.max(ids.len());
        depth_sum += ids.len() as u64;
        let values = alloc.values(&mut rng);
        w.sample(&ids, values, alloc.size)?;
        // The string table and mappings come last; estimate what they add once
        // compressed (names compress about 2.5:1 at BestSpeed).
        let tail = w.strings_bytes * 2 / 5 + 512;
        if w.gz.get_ref().written + tail >= target {
            break;
        }
    }
    let strings = w.trailer(&universe)?;
    let samples = w.samples;
    let raw_bytes = w.raw_bytes;
    let (locations, functions) = (w.next_loc - 1, w.next_func - 1);
    let counting = w.gz.finish()?;
    let gz_bytes = counting.written;
    let mut inner = counting.inner;
    inner.flush()?;
    inner
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()?;
    std::fs::rename(&tmp, out)?;
    Ok(GenStats {
        path: out.to_path_buf(),
        gz_bytes,
        raw_bytes,
        samples,
        locations,
        functions,
        strings: strings as u64,
        min_depth,
        mean_depth: depth_sum as f64 / samples.max(1) as f64,
        max_depth,
        elapsed: start.elapsed(),
    })
}

/// Counts the compressed bytes as they leave the gzip encoder.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

// ---------------------------------------------------------------------------------------
// The code: functions, call sites and allocation sites.

/// A frame: function index in [`Universe::funcs`] and line.
#[derive(Debug, Clone, Copy)]
struct Frame {
    func: u32,
    line: i64,
}

/// A physical position in a function: its line and the frames inlined there (innermost
/// first), which become extra lines of the location.
#[derive(Debug, Clone)]
struct Site {
    line: i64,
    inlined: Vec<Frame>,
}

/// A call site; several callees model an interface or function-value call.
#[derive(Debug)]
struct Call {
    site: Site,
    callees: Vec<u32>,
}

/// An allocation site.
#[derive(Debug)]
struct Alloc {
    site: Site,
    /// Object size in bytes (a Go size class, or a large object).
    size: u64,
    /// Probability that a sampled object is still in use.
    retain: f64,
    /// Mean number of extra sampled allocations per stack.
    heat: f64,
}

#[derive(Debug)]
struct Func {
    name: String,
    file: String,
    start_line: i64,
    calls: Vec<Call>,
    allocs: Vec<Alloc>,
}

/// A goroutine's fixed outer frames (outermost first) and the functions it calls into.
#[derive(Debug)]
struct Root {
    weight: f64,
    frames: Vec<Frame>,
    handlers: Vec<u32>,
}

/// A root frame as specified: function name, file, the function's start line, the line.
type RootFrame = (String, String, i64, i64);

/// Identifies a location (a program counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LocKey {
    Root { func: u32, line: i64 },
    Call { func: u32, idx: u32 },
    Alloc { func: u32, idx: u32 },
}

#[derive(Debug)]
struct Universe {
    funcs: Vec<Func>,
    roots: Vec<Root>,
}

const GOROOT: &str = "/usr/local/go/src";
const APP: &str = "github.com/acme/svc";
const APP_DIR: &str = "/build/svc";
const MOD: &str = "/root/go/pkg/mod";

/// Small size classes dominate real heaps; a few large objects stand out by bytes.
const SMALL: &[u64] = &[
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
    384, 416, 448, 480, 512,
];
const MEDIUM: &[u64] = &[
    576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200,
    3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568,
    14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
];

/// (import path, source directory, files) of library packages.
const LIB_PKGS: &[(&str, &str, &[&str])] = &[
    (
        "encoding/json",
        "/usr/local/go/src/encoding/json",
        &["decode.go", "encode.go", "stream.go", "scanner.go"],
    ),
    (
        "bytes",
        "/usr/local/go/src/bytes",
        &["buffer.go", "bytes.go"],
    ),
    (
        "strings",
        "/usr/local/go/src/strings",
        &["builder.go", "strings.go", "replace.go"],
    ),
    ("fmt", "/usr/local/go/src/fmt", &["print.go", "format.go"]),
    ("bufio", "/usr/local/go/src/bufio", &["bufio.go", "scan.go"]),
    (
        "net/http",
        "/usr/local/go/src/net/http",
        &[
            "server.go",
            "request.go",
            "header.go",
            "transport.go",
            "h2_bundle.go",
        ],
    ),
    ("net/url", "/usr/local/go/src/net/url", &["url.go"]),
    (
        "compress/flate",
        "/usr/local/go/src/compress/flate",
        &["deflate.go", "inflate.go", "huffman_bit_writer.go"],
    ),
    (
        "crypto/tls",
        "/usr/local/go/src/crypto/tls",
        &["conn.go", "handshake_client.go", "handshake_server.go"],
    ),
    (
        "reflect",
        "/usr/local/go/src/reflect",
        &["value.go", "map_swiss.go", "type.go"],
    ),
    (
        "google.golang.org/grpc",
        "/root/go/pkg/mod/google.golang.org/grpc@v1.66.2",
        &["server.go", "stream.go", "rpc_util.go", "clientconn.go"],
    ),
    (
        "google.golang.org/grpc/internal/transport",
        "/root/go/pkg/mod/google.golang.org/grpc@v1.66.2/internal/transport",
        &[
            "http2_server.go",
            "http2_client.go",
            "controlbuf.go",
            "http_util.go",
        ],
    ),
    (
        "google.golang.org/protobuf/internal/impl",
        "/root/go/pkg/mod/google.golang.org/protobuf@v1.34.2/internal/impl",
        &["decode.go", "codec_field.go", "message.go", "encode.go"],
    ),
    (
        "github.com/jackc/pgx/v5/pgconn",
        "/root/go/pkg/mod/github.com/jackc/pgx/v5@v5.6.0/pgconn",
        &["pgconn.go", "config.go"],
    ),
    (
        "github.com/jackc/pgx/v5/pgproto3",
        "/root/go/pkg/mod/github.com/jackc/pgx/v5@v5.6.0/pgproto3",
        &["frontend.go", "data_row.go", "chunkreader.go"],
    ),
    (
        "go.uber.org/zap/zapcore",
        "/root/go/pkg/mod/go.uber.org/zap@v1.27.0/zapcore",
        &["json_encoder.go", "core.go", "entry.go"],
    ),
    (
        "github.com/redis/go-redis/v9/internal/proto",
        "/root/go/pkg/mod/github.com/redis/go-redis/v9@v9.6.1/internal/proto",
        &["reader.go", "writer.go"],
    ),
];
const LIB_TYPES: &[&str] = &[
    "Decoder",
    "Encoder",
    "Buffer",
    "Reader",
    "Writer",
    "Conn",
    "Server",
    "decodeState",
    "parser",
    "codec",
    "pool",
    "frame",
    "loopyWriter",
    "MessageInfo",
];
const LIB_METHODS: &[&str] = &[
    "Read",
    "Write",
    "Decode",
    "Encode",
    "Marshal",
    "Unmarshal",
    "grow",
    "append",
    "parse",
    "next",
    "Flush",
    "Get",
    "Put",
    "Scan",
    "readMsg",
    "writeMsg",
    "alloc",
    "init",
    "copy",
    "value",
    "object",
    "literalStore",
    "array",
    "fill",
    "handle",
    "process",
    "readFrame",
    "processHeaderField",
];
const APP_FILES: &[&str] = &[
    "handler.go",
    "service.go",
    "store.go",
    "cache.go",
    "codec.go",
    "client.go",
    "model.go",
    "util.go",
    "batch.go",
    "index.go",
    "metrics.go",
    "validate.go",
];

/// Collects functions with unique names and per-file increasing start lines.
struct FuncTable {
    funcs: Vec<Func>,
    names: HashSet<String>,
    next_line: HashMap<String, i64>,
}

impl FuncTable {
    fn add(&mut self, name: String, file: String, start_line: i64) -> u32 {
        self.names.insert(name.clone());
        self.funcs.push(Func {
            name,
            file,
            start_line,
            calls: Vec::new(),
            allocs: Vec::new(),
        });
        (self.funcs.len() - 1) as u32
    }

    /// Adds a function declared after the previous one in its file.
    fn add_in_file(&mut self, r: &mut Rng, name: String, file: String) -> u32 {
        let line = self.next_line.entry(file.clone()).or_insert(12);
        let start = *line;
        *line += r.range(6, 140) as i64;
        self.add(name, file, start)
    }

    /// Makes `name` unique by appending a number if it is taken.
    fn unique(&self, name: String) -> String {
        if !self.names.contains(&name) {
            return name;
        }
        (2..)
            .map(|i| format!("{name}{i}"))
            .find(|n| !self.names.contains(n))
            .unwrap_or(name)
    }

    /// Adds a fixed, well-known function.
    fn known(&mut self, name: &str, file: &str, start_line: i64) -> u32 {
        match self.funcs.iter().position(|f| f.name == name) {
            Some(i) => i as u32,
            None => self.add(name.to_owned(), file.to_owned(), start_line),
        }
    }
}

impl Universe {
    fn build(seed: u64, n_funcs: usize) -> Universe {
        let mut r = Rng::derive(seed, 1);
        let mut t = FuncTable {
            funcs: Vec::with_capacity(n_funcs + 64),
            names: HashSet::new(),
            next_line: HashMap::new(),
        };

        // Roots: fixed frames shared by most stacks.
        let srv = format!("{GOROOT}/net/http/server.go");
        let grpc = format!("{MOD}/google.golang.org/grpc@v1.66.2/server.go");
        let mw = |f: &str| format!("{APP_DIR}/internal/middleware/{f}");
        let mut root_specs: Vec<(f64, Vec<RootFrame>)> = vec![(
            0.45,
            vec![
                ("net/http.(*conn).serve".into(), srv.clone(), 1907, 2092),
                (
                    "net/http.serverHandler.ServeHTTP".into(),
                    srv.clone(),
                    3288,
                    3301,
                ),
                (
                    "net/http.(*ServeMux).ServeHTTP".into(),
                    srv.clone(),
                    2733,
                    2747,
                ),
                (
                    format!("{APP}/internal/middleware.Recover.func1"),
                    mw("recover.go"),
                    24,
                    31,
                ),
                (
                    "net/http.HandlerFunc.ServeHTTP".into(),
                    srv.clone(),
                    2219,
                    2220,
                ),
                (
                    format!("{APP}/internal/middleware.Tracing.func1"),
                    mw("tracing.go"),
                    40,
                    58,
                ),
                (
                    "net/http.HandlerFunc.ServeHTTP".into(),
                    srv.clone(),
                    2219,
                    2220,
                ),
                (
                    format!("{APP}/internal/middleware.Auth.func1"),
                    mw("auth.go"),
                    33,
                    61,
                ),
                ("net/http.HandlerFunc.ServeHTTP".into(), srv, 2219, 2220),
            ],
        )];
        for (i, method) in ["Get", "List", "Create", "Update"].iter().enumerate() {
            root_specs.push((
                0.075,
                vec![
                    (
                        "google.golang.org/grpc.(*Server).serveStreams.func2.1".into(),
                        grpc.clone(),
                        1027,
                        1029,
                    ),
                    (
                        "google.golang.org/grpc.(*Server).handleStream".into(),
                        grpc.clone(),
                        1718,
                        1766,
                    ),
                    (
                        "google.golang.org/grpc.(*Server).processUnaryRPC".into(),
                        grpc.clone(),
                        1218,
                        1405,
                    ),
                    (
                        format!("{APP}/api/v1._OrderService_{method}_Handler"),
                        format!("{APP_DIR}/api/v1/order_grpc.pb.go"),
                        200 + 22 * i as i64,
                        212 + 22 * i as i64,
                    ),
                    (
                        format!("{APP}/internal/grpcmw.Chain.func1"),
                        format!("{APP_DIR}/internal/grpcmw/chain.go"),
                        38,
                        44,
                    ),
                ],
            ));
        }
        let pool = format!("{APP_DIR}/internal/worker/pool.go");
        root_specs.push((
            0.15,
            vec![
                (
                    format!("{APP}/internal/worker.(*Pool).Start.func1"),
                    pool.clone(),
                    71,
                    77,
                ),
                (
                    format!("{APP}/internal/worker.(*Pool).run"),
                    pool.clone(),
                    95,
                    102,
                ),
                (
                    format!("{APP}/internal/worker.(*Pool).process"),
                    pool,
                    120,
                    131,
                ),
            ],
        ));
        root_specs.push((
            0.07,
            vec![(
                format!("{APP}/internal/consumer.(*Consumer).loop"),
                format!("{APP_DIR}/internal/consumer/consumer.go"),
                88,
                140,
            )],
        ));
        root_specs.push((
            0.03,
            vec![
                (
                    "runtime.main".into(),
                    format!("{GOROOT}/runtime/proc.go"),
                    147,
                    283,
                ),
                (
                    "main.main".into(),
                    format!("{APP_DIR}/cmd/svc/main.go"),
                    30,
                    42,
                ),
                (
                    format!("{APP}/cmd/svc.run"),
                    format!("{APP_DIR}/cmd/svc/run.go"),
                    51,
                    88,
                ),
            ],
        ));
        let mut roots: Vec<Root> = root_specs
            .into_iter()
            .map(|(weight, frames)| Root {
                weight,
                frames: frames
                    .into_iter()
                    .map(|(name, file, start, line)| Frame {
                        func: t.known(&name, &file, start),
                        line,
                    })
                    .collect(),
                handlers: Vec::new(),
            })
            .collect();

        // The runtime's allocation entry points, at the bottom of the graph.
        let rt = |f: &str| format!("{GOROOT}/runtime/{f}");
        let mallocgc = t.known("runtime.mallocgc", &rt("malloc.go"), 1009);
        let wrappers: Vec<(u32, i64)> = [
            ("runtime.makeslice", "slice.go", 92, 103),
            ("runtime.growslice", "slice.go", 155, 278),
            ("runtime.newobject", "malloc.go", 1710, 1715),
            ("runtime.mapassign_faststr", "map_faststr.go", 203, 262),
            ("runtime.slicebytetostring", "string.go", 81, 117),
            ("runtime.concatstrings", "string.go", 21, 57),
            ("runtime.makemap_small", "map.go", 294, 297),
        ]
        .iter()
        .map(|&(name, file, start, line)| (t.known(name, &rt(file), start), line))
        .collect();
        for &(w, line) in &wrappers {
            // A walk that reaches its depth at a wrapper ends there, as if mallocgc had
            // been inlined.
            t.funcs[w as usize].allocs.push(Alloc {
                site: Site {
                    line: line - 1,
                    inlined: Vec::new(),
                },
                size: 48,
                retain: 0.1,
                heat: 0.3,
            });
            t.funcs[w as usize].calls.push(Call {
                site: Site {
                    line,
                    inlined: Vec::new(),
                },
                callees: vec![mallocgc],
            });
        }
        t.funcs[mallocgc as usize].allocs.push(Alloc {
            site: Site {
                line: 1242,
                inlined: Vec::new(),
            },
            size: 64,
            retain: 0.1,
            heat: 0.5,
        });

        // Library packages.
        let fixed = t.funcs.len();
        let n_lib = (n_funcs.saturating_sub(fixed) * 3 / 20).max(50);
        let lib_lo = t.funcs.len();
        // The function closures are numbered in: (index, closures so far).
        let mut parent: Option<(u32, usize)> = None;
        while t.funcs.len() < lib_lo + n_lib {
            let &(pkg, dir, files) = r.pick(LIB_PKGS);
            if let Some((p, n)) = parent.as_mut().filter(|_| r.chance(0.12)) {
                *n += 1;
                let pf = &t.funcs[*p as usize];
                let (name, file) = (format!("{}.func{n}", pf.name), pf.file.clone());
                t.add_in_file(&mut r, name, file);
                continue;
            }
            // Draw again when a name is taken; numbered only as a last resort.
            let mut name = String::new();
            for _ in 0..8 {
                name = if r.chance(0.7) {
                    format!("{pkg}.(*{}).{}", r.pick(LIB_TYPES), r.pick(LIB_METHODS))
                } else {
                    format!("{pkg}.{}", r.pick(LIB_METHODS))
                };
                if !t.names.contains(&name) {
                    break;
                }
            }
            let name = t.unique(name);
            let file = format!("{dir}/{}", r.pick(files));
            parent = Some((t.add_in_file(&mut r, name, file), 0));
        }
        let lib_hi = t.funcs.len();

        // Application packages: grouped by package, with types, methods and closures.
        let app_lo = t.funcs.len();
        let n_app = n_funcs.saturating_sub(app_lo).max(200);
        let mut pkg = 0usize;
        while t.funcs.len() < app_lo + n_app {
            let pkg_path = format!("{APP}/internal/pkg{pkg}");
            let n_in_pkg = r.range(10, 45);
            let files: Vec<String> = (0..r.range(2, 6))
                .map(|_| format!("{APP_DIR}/internal/pkg{pkg}/{}", r.pick(APP_FILES)))
                .collect();
            let n_types = r.range(1, 6);
            // As above; nested closures (`.func2.1`) sometimes follow a closure.
            let mut parent: Option<(u32, usize)> = None;
            let mut last_closure: Option<(u32, usize)> = None;
            for k in 0..n_in_pkg {
                let x = r.unit();
                if x < 0.15 {
                    if let Some((p, n)) = parent.as_mut() {
                        let (base, n) = match last_closure.as_mut() {
                            Some((c, m)) if r.chance(0.2) => (*c, m),
                            _ => (*p, n),
                        };
                        *n += 1;
                        let pf = &t.funcs[base as usize];
                        let sep = if base == *p { ".func" } else { "." };
                        let (name, file) = (format!("{}{sep}{n}", pf.name), pf.file.clone());
                        let name = t.unique(name);
                        let id = t.add_in_file(&mut r, name, file);
                        if base == *p {
                            last_closure = Some((id, 0));
                        }
                        continue;
                    }
                }
                let ty = r.below(n_types);
                let name = if x < 0.65 {
                    format!("{pkg_path}.(*Type{ty}).Method{k}")
                } else if x < 0.75 {
                    format!("{pkg_path}.Type{ty}.Method{k}")
                } else {
                    format!("{pkg_path}.Func{k}")
                };
                let name = t.unique(name);
                let file = r.pick(&files).clone();
                parent = Some((t.add_in_file(&mut r, name, file), 0));
                last_closure = None;
            }
            pkg += 1;
        }
        let app_hi = t.funcs.len();

        // Entry points of each root: handlers at the top of the application range.
        let n_entries = ((app_hi - app_lo) / 12).max(roots.len() * 4);
        for root in &mut roots {
            let n = r.range(4, (n_entries / 3).max(5));
            root.handlers = (0..n)
                .map(|_| (app_lo + r.below(n_entries)) as u32)
                .collect();
        }

        // Calls and allocation sites.
        let app_span = ((app_hi - app_lo) / 25).max(4);
        let lib_span = ((lib_hi - lib_lo) / 40).max(4);
        let n_total = t.funcs.len();
        let pick_lib = |r: &mut Rng| (lib_lo + r.below(lib_hi - lib_lo)) as u32;
        let pick_rt = |r: &mut Rng| r.pick(&wrappers).0;
        let any_helper = |r: &mut Rng| (lib_lo + r.below(n_total - lib_lo)) as u32;
        let site = |r: &mut Rng, funcs: &[Func], f: usize| {
            let start = funcs[f].start_line;
            let mut inlined = Vec::new();
            if r.chance(0.2) {
                for _ in 0..r.range(1, 2) {
                    let h = any_helper(r);
                    inlined.push(Frame {
                        func: h,
                        line: funcs[h as usize].start_line + r.range(1, 20) as i64,
                    });
                }
            }
            Site {
                line: start + r.range(1, 90) as i64,
                inlined,
            }
        };
        for f in lib_lo..app_hi {
            let is_app = f >= app_lo;
            let leaf = r.chance(if is_app { 0.02 } else { 0.06 });
            let n_calls = if leaf {
                0
            } else if is_app {
                r.range(2, 6)
            } else {
                r.range(1, 3)
            };
            for _ in 0..n_calls {
                let n_callees = if r.chance(0.1) { r.range(2, 4) } else { 1 };
                let callees = (0..n_callees)
                    .map(|_| {
                        let x = r.unit();
                        if x < 0.006 {
                            pick_rt(&mut r)
                        } else if is_app && x < 0.08 {
                            pick_lib(&mut r)
                        } else {
                            let (span, hi) = if is_app {
                                (app_span, app_hi)
                            } else {
                                (lib_span, lib_hi)
                            };
                            let j = f + 1 + r.below(span);
                            if j < hi {
                                j as u32
                            } else if is_app {
                                pick_lib(&mut r)
                            } else {
                                pick_rt(&mut r)
                            }
                        }
                    })
                    .collect();
                let site = site(&mut r, &t.funcs, f);
                t.funcs[f].calls.push(Call { site, callees });
            }
            for _ in 0..r.range(1, 3) {
                let size = match r.unit() {
                    x if x < 0.72 => *r.pick(SMALL),
                    x if x < 0.94 => *r.pick(MEDIUM),
                    _ => 8192 * r.range(5, 128) as u64,
                };
                let retain = match r.unit() {
                    x if x < 0.45 => 0.0,
                    x if x < 0.8 => 0.3 * r.unit(),
                    _ => 0.5 + 0.5 * r.unit(),
                };
                let heat = 0.1 + 3.0 * r.unit().powi(3);
                let site = site(&mut r, &t.funcs, f);
                t.funcs[f].allocs.push(Alloc {
                    site,
                    size,
                    retain,
                    heat,
                });
            }
        }
        // A dozen leaky sites: everything they allocate stays, and they are busy.
        for _ in 0..12 {
            let f = app_lo + r.below(app_hi - app_lo);
            let a = &mut t.funcs[f].allocs[0];
            a.retain = 0.98;
            a.heat = 6.0;
            a.size = *r.pick(MEDIUM);
        }
        Universe {
            funcs: t.funcs,
            roots,
        }
    }

    /// Draws one stack into `stack` (outermost first) and returns its allocation site.
    fn walk(&self, r: &mut Rng, stack: &mut Vec<LocKey>) -> &Alloc {
        stack.clear();
        let total: f64 = self.roots.iter().map(|x| x.weight).sum();
        let mut x = r.unit() * total;
        let root = self
            .roots
            .iter()
            .find(|root| {
                x -= root.weight;
                x < 0.0
            })
            .unwrap_or(&self.roots[0]);
        for fr in &root.frames {
            stack.push(LocKey::Root {
                func: fr.func,
                line: fr.line,
            });
        }
        let depth = r.range(MIN_DEPTH, MAX_DEPTH);
        let mut f = *r.pick(&root.handlers);
        loop {
            let func = &self.funcs[f as usize];
            if stack.len() + 1 >= depth || func.calls.is_empty() {
                break;
            }
            // Below the minimum depth, prefer a callee that calls on (a few tries).
            let (mut c, mut next) = (0, f);
            for _ in 0..4 {
                c = r.zipf(func.calls.len());
                let callees = &func.calls[c].callees;
                next = callees[r.zipf(callees.len())];
                if stack.len() + 2 >= MIN_DEPTH || !self.funcs[next as usize].calls.is_empty() {
                    break;
                }
            }
            stack.push(LocKey::Call {
                func: f,
                idx: c as u32,
            });
            f = next;
        }
        let func = &self.funcs[f as usize];
        let a = r.zipf(func.allocs.len());
        stack.push(LocKey::Alloc {
            func: f,
            idx: a as u32,
        });
        &func.allocs[a]
    }

    /// The lines of a location, innermost first, and its address.
    fn lines(&self, key: LocKey) -> (Vec<Frame>, u64) {
        let (func, site, off) = match key {
            LocKey::Root { func, line } => {
                return (
                    vec![Frame { func, line }],
                    0x40_0000 + u64::from(func) * 0x400 + 0x300 + (line as u64 % 48) * 4,
                )
            }
            LocKey::Call { func, idx } => (
                func,
                &self.funcs[func as usize].calls[idx as usize].site,
                0x10 + u64::from(idx) * 0x18,
            ),
            LocKey::Alloc { func, idx } => (
                func,
                &self.funcs[func as usize].allocs[idx as usize].site,
                0x200 + u64::from(idx) * 0x18,
            ),
        };
        let mut lines = site.inlined.clone();
        lines.push(Frame {
            func,
            line: site.line,
        });
        (lines, 0x40_0000 + u64::from(func) * 0x400 + off)
    }
}

impl Alloc {
    /// alloc_objects, alloc_space, inuse_objects, inuse_space, scaled from the sampled
    /// counts as `runtime/pprof`'s `scaleHeapSample` does.
    fn values(&self, r: &mut Rng) -> [i64; 4] {
        let n = 1 + r.geometric(self.heat);
        let kept = (0..n).filter(|_| r.chance(self.retain)).count() as u64;
        let size = self.size as f64;
        let scale = 1.0 / (1.0 - (-size / RATE).exp());
        let objects = |c: u64| (c as f64 * scale) as i64;
        let bytes = |c: u64| (c as f64 * size * scale) as i64;
        [objects(n), bytes(n), objects(kept), bytes(kept)]
    }
}

// ---------------------------------------------------------------------------------------
// Writing the protobuf: each message is encoded as a one-field `Profile` (concatenated
// protobuf messages merge, so the stream is one valid `Profile`).

struct ProfileWriter<W: Write> {
    gz: GzEncoder<W>,
    scratch: pb::Profile,
    buf: Vec<u8>,
    strings: Vec<String>,
    string_index: HashMap<String, i64>,
    strings_bytes: u64,
    func_ids: HashMap<u32, u64>,
    loc_ids: HashMap<LocKey, u64>,
    next_func: u64,
    next_loc: u64,
    samples: u64,
    raw_bytes: u64,
    bytes_label: i64,
}

impl<W: Write> ProfileWriter<W> {
    fn new(gz: GzEncoder<W>) -> Self {
        let mut w = ProfileWriter {
            gz,
            scratch: pb::Profile::default(),
            buf: Vec::with_capacity(4096),
            strings: Vec::new(),
            string_index: HashMap::new(),
            strings_bytes: 0,
            func_ids: HashMap::new(),
            loc_ids: HashMap::new(),
            next_func: 1,
            next_loc: 1,
            samples: 0,
            raw_bytes: 0,
            bytes_label: 0,
        };
        w.intern("");
        w
    }

    fn intern(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.string_index.get(s) {
            return i;
        }
        let i = self.strings.len() as i64;
        self.strings.push(s.to_owned());
        self.string_index.insert(s.to_owned(), i);
        self.strings_bytes += s.len() as u64 + 2;
        i
    }

    /// Encodes the scratch message, writes it and clears it.
    fn flush_scratch(&mut self) -> io::Result<()> {
        self.buf.clear();
        self.scratch
            .encode(&mut self.buf)
            .map_err(|e| io::Error::other(format!("encoding: {e}")))?;
        self.gz.write_all(&self.buf)?;
        self.raw_bytes += self.buf.len() as u64;
        self.scratch = pb::Profile::default();
        Ok(())
    }

    fn value_type(&mut self, ty: &str, unit: &str) -> pb::ValueType {
        pb::ValueType {
            r#type: self.intern(ty),
            unit: self.intern(unit),
        }
    }

    /// Period type and period, then the sample types (the order `writeHeapProto` uses).
    fn header(&mut self) -> io::Result<()> {
        self.scratch.period_type = Some(self.value_type("space", "bytes"));
        self.scratch.period = RATE as i64;
        self.scratch.sample_type = vec![
            self.value_type("alloc_objects", "count"),
            self.value_type("alloc_space", "bytes"),
            self.value_type("inuse_objects", "count"),
            self.value_type("inuse_space", "bytes"),
        ];
        self.bytes_label = self.intern("bytes");
        self.flush_scratch()
    }

    fn function(&mut self, u: &Universe, f: u32) -> io::Result<u64> {
        if let Some(&id) = self.func_ids.get(&f) {
            return Ok(id);
        }
        let id = self.next_func;
        self.next_func += 1;
        self.func_ids.insert(f, id);
        let func = &u.funcs[f as usize];
        let name = self.intern(&func.name);
        let filename = self.intern(&func.file);
        self.scratch.function.push(pb::Function {
            id,
            name,
            system_name: name,
            filename,
            start_line: func.start_line,
        });
        self.flush_scratch()?;
        Ok(id)
    }

    fn location(&mut self, u: &Universe, key: LocKey) -> io::Result<u64> {
        if let Some(&id) = self.loc_ids.get(&key) {
            return Ok(id);
        }
        let id = self.next_loc;
        self.next_loc += 1;
        self.loc_ids.insert(key, id);
        let (frames, address) = u.lines(key);
        let mut line = Vec::with_capacity(frames.len());
        for fr in frames {
            line.push(pb::Line {
                function_id: self.function(u, fr.func)?,
                line: fr.line,
                column: 0,
            });
        }
        self.scratch.location.push(pb::Location {
            id,
            mapping_id: 1,
            address,
            line,
            is_folded: false,
        });
        self.flush_scratch()?;
        Ok(id)
    }

    fn sample(&mut self, ids: &[u64], values: [i64; 4], size: u64) -> io::Result<()> {
        self.scratch.sample.push(pb::Sample {
            location_id: ids.to_vec(),
            value: values.to_vec(),
            label: vec![pb::Label {
                key: self.bytes_label,
                str: 0,
                num: size as i64,
                num_unit: 0,
            }],
        });
        self.samples += 1;
        self.flush_scratch()
    }

    /// The time stamp, the mappings (as `/proc/self/maps` shows a Go binary) and the
    /// string table.
    fn trailer(&mut self, u: &Universe) -> io::Result<usize> {
        self.scratch.time_nanos = TIME_NANOS;
        let limit = 0x40_0000 + (u.funcs.len() as u64 + 1) * 0x400;
        let maps: [(u64, u64, u64, &str, &str, bool); 5] = [
            (
                0x40_0000,
                limit.next_multiple_of(0x1000),
                0,
                "/usr/local/bin/svc",
                "5c1e4be4a3c2e0f7d1b2a9f3e8d7c6b5a4f3e2d1",
                true,
            ),
            (
                0x7f76_6e50_5000,
                0x7f76_6e65_b000,
                0x26000,
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "93ac61ec5a8eb1396f9fbd350e3169a558528a40",
                false,
            ),
            (0x7f76_6e6d_2000, 0x7f76_6e6d_4000, 0, "[vdso]", "", false),
            (
                0x7f76_6e6d_5000,
                0x7f76_6e6f_b000,
                0x1000,
                "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "7ebc65e52f2bbea498b4040fa92f7238377aaba9",
                false,
            ),
            (
                0xffff_ffff_ff60_0000,
                0xffff_ffff_ff60_1000,
                0,
                "[vsyscall]",
                "",
                false,
            ),
        ];
        for (i, (start, limit, offset, file, build_id, has_functions)) in
            maps.into_iter().enumerate()
        {
            let filename = self.intern(file);
            let build_id = self.intern(build_id);
            self.scratch.mapping.push(pb::Mapping {
                id: i as u64 + 1,
                memory_start: start,
                memory_limit: limit,
                file_offset: offset,
                filename,
                build_id,
                has_functions,
                ..Default::default()
            });
        }
        self.flush_scratch()?;
        let n = self.strings.len();
        self.scratch.string_table = std::mem::take(&mut self.strings);
        self.flush_scratch()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_profile_decodes_with_heapspot() {
        let dir = std::env::temp_dir().join(format!("heapspot-bench-gen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("p.pb.gz");
        let stats = generate(0.25, 3, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes.len() as u64, stats.gz_bytes);
        let p = heapspot::profile::Profile::from_bytes(
            "p",
            bytes,
            heapspot::profile::Limits::default(),
        )
        .unwrap();
        assert_eq!(p.sample_count, stats.samples);
        assert_eq!(p.period, 524_288);
        let types: Vec<&str> = p.sample_types.iter().map(|t| t.ty.as_str()).collect();
        assert_eq!(
            types,
            [
                "alloc_objects",
                "alloc_space",
                "inuse_objects",
                "inuse_space"
            ]
        );
        p.for_each_sample(|locs, v| {
            assert!((1..=40).contains(&locs.len()));
            assert!(v[2] <= v[0] && v[3] <= v[1] && v[3] >= 0);
        })
        .unwrap();
        // Same seed, same bytes.
        let again = dir.join("q.pb.gz");
        generate(0.25, 3, &again).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&out).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
