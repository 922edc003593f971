//! Snapshot and consistency tests of the annotations on the fixture workspaces, loaded
//! with the same pipeline as `heapspot check` (workspace, mapper, evidence, rules,
//! findings).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use expect_test::{expect, Expect};

use super::*;
use crate::config::Config;
use crate::evidence::{gather, Evidence};
use crate::findings::Finding;
use crate::mapping::Mapper;
use crate::pipeline::{self, Request};
use crate::profile::{Limits, Profile};
use crate::source::index::Workspace;

/// One fixture workspace with its heap snapshots analyzed.
struct Case {
    root: PathBuf,
    ws: Workspace,
    mapper: Mapper,
    config: Config,
    /// In file-name order (`heap-1` first).
    profiles: Vec<Profile>,
    evidence: Evidence,
    findings: Vec<Finding>,
    paths: CallPaths,
}

impl Case {
    fn load(name: &str) -> Case {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name)
            .canonicalize()
            .unwrap();
        let config = Config::load(&root).unwrap();
        let ws = Workspace::load(&root).unwrap();
        let mapper = Mapper::from_workspace(&ws, config.path_mappings.clone());
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("heap-"))
            })
            .collect();
        files.sort();
        assert!(
            files.len() >= 3,
            "{name}: needs three or more heap snapshots"
        );
        let profiles: Vec<Profile> = files
            .iter()
            .map(|p| Profile::from_path(p, Limits::default()).unwrap())
            .collect();
        let outcome = pipeline::run(Request {
            root: &root,
            config: &config,
            ws: &ws,
            mapper: &mapper,
            heap: &profiles,
            goroutines: &[],
            base: None,
            overrides: &[],
        });
        assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
        let (evidence, findings) = (outcome.heap.unwrap(), outcome.findings);
        let sample = evidence.type_index("inuse_space").unwrap();
        let latest = profiles.iter().max_by_key(|p| p.time_nanos).unwrap();
        let paths = CallPaths::build(&mapper, latest, sample).unwrap();
        Case {
            root,
            ws,
            mapper,
            config,
            profiles,
            evidence,
            findings,
            paths,
        }
    }

    fn annotations(&self) -> Annotations<'_> {
        Annotations {
            evidence: &self.evidence,
            sample: self.evidence.type_index("inuse_space").unwrap(),
            findings: &self.findings,
            thresholds: &self.config.thresholds,
            base: None,
        }
    }

    fn file(&self, rel: &str) -> PathBuf {
        let p = self.root.join(rel);
        assert!(self.ws.file(&p).is_some(), "{rel} is not in the workspace");
        p
    }
}

fn service() -> &'static Case {
    static C: OnceLock<Case> = OnceLock::new();
    C.get_or_init(|| Case::load("service"))
}

fn globalmap() -> &'static Case {
    static C: OnceLock<Case> = OnceLock::new();
    C.get_or_init(|| Case::load("globalmap"))
}

fn render_lenses(c: &Case, a: &Annotations, rel: &str) -> String {
    let fs = c.ws.file(&c.file(rel)).unwrap();
    lenses(a, &fs)
        .iter()
        .map(|l| format!("{}:{} [{}] {}\n", l.line, l.start_byte, l.subject, l.title))
        .collect()
}

fn render_hints(c: &Case, a: &Annotations, rel: &str) -> String {
    inlay_hints(a, &c.file(rel))
        .iter()
        .map(|h| format!("{}: {:<8} | {}\n", h.line, h.label, h.tooltip))
        .collect()
}

fn render_hover(c: &Case, a: &Annotations, rel: &str, line: u32) -> String {
    let md = hover(a, Some(&c.paths), &c.file(rel), line).unwrap_or_else(|| "None\n".into());
    // The docs link names the checkout; keep the snapshot independent of it.
    let docs = crate::report::docs_url("RULE");
    let base = docs.strip_suffix("RULE.md").unwrap();
    md.replace(base, "DOCS/")
}

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

#[test]
fn service_lenses() {
    let c = service();
    let a = c.annotations();
    check(
        render_lenses(c, &a, "cache/session.go"),
        expect![[r#"
        31:833 [sessions] heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot
        36:961 [Touch] heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot
    "#]],
    );
    check(
        render_lenses(c, &a, "cache/store.go"),
        expect![[r#"
            8:124 [Store.items] heapspot: 1.95MB in use (18%) ▲ +502.30kB/snapshot
            29:693 [(*Store).Put] heapspot: 1.91MB in use (18%) ▲ +488.60kB/snapshot
        "#]],
    );
    check(
        render_lenses(c, &a, "ingest/ingest.go"),
        expect![[r#"
        19:389 [headers] heapspot: 5.38MB in use (49%) ▲ +1.32MB/snapshot
        23:508 [titles] heapspot: 1.37MB in use (13%) ▲ +344.15kB/snapshot
        32:833 [Batch] heapspot: 5.38MB in use (49%) ▲ +1.32MB/snapshot
        51:1407 [Document] heapspot: 1.37MB in use (13%) ▲ +344.15kB/snapshot
    "#]],
    );
}

#[test]
fn service_hints() {
    let c = service();
    let a = c.annotations();
    check(
        render_hints(c, &a, "cache/session.go"),
        expect![[r#"
        42: 138kB ▲  | heapspot: 138.13kB inuse_space (1.24% of total), +27.22kB per snapshot across 4 snapshots (52.82kB → 138.13kB), growing steadily
        46: 114kB ▲  | heapspot: 113.76kB inuse_space (1.02% of total), +21.13kB per snapshot across 4 snapshots (48.75kB → 113.76kB), growing steadily
        47: 1.2MB ▲  | heapspot: 1.16MB inuse_space (10.67% of total), +272.15kB per snapshot across 4 snapshots (370.71kB → 1.16MB), growing steadily
        49: 53kB ▲   | heapspot: 53.32kB inuse_space (0.48% of total), +11.87kB per snapshot across 4 snapshots (13.75kB → 53.32kB)
    "#]],
    );
    check(
        render_hints(c, &a, "events/history.go"),
        expect![[r#"
        31: 69kB ▲   | heapspot: 68.67kB inuse_space (0.62% of total), +21.41kB per snapshot across 4 snapshots (8.08kB → 68.67kB)
        35: 36kB ▲   | heapspot: 36.14kB inuse_space (0.32% of total), +9.23kB per snapshot across 4 snapshots (8.03kB → 36.14kB)
        38: 13kB ▲   | heapspot: 12.63kB inuse_space (0.11% of total), +1.98kB per snapshot across 4 snapshots (6.83kB → 12.63kB)
    "#]],
    );
}

#[test]
fn service_hovers() {
    let c = service();
    let a = c.annotations();
    check(
        render_hover(c, &a, "cache/session.go", 47),
        expect![[r#"
        **heapspot** · 1.16MB inuse_space here (10.67% of total) in `cache.Touch`

        - **error** [unbounded-global-map](DOCS/unbounded-global-map.md): package-level map "sessions" is written in Touch and never deleted from; retains 1.46MB (13% of in-use), +332.37kB per snapshot (reported at line 49)

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
    "#]],
    );
    check(
        render_hover(c, &a, "cache/session.go", 31),
        expect![[r#"
        **heapspot**

        - **error** [unbounded-global-map](DOCS/unbounded-global-map.md): package-level map "sessions" is written in Touch and never deleted from; retains 1.46MB (13% of in-use), +332.37kB per snapshot (reported at line 49)
    "#]],
    );
    check(
        render_hover(c, &a, "events/history.go", 35),
        expect![[r#"
        **heapspot** · 36.14kB inuse_space here (0.32% of total) in `events.Record`

        - **error** [global-slice-append](DOCS/global-slice-append.md): package-level slice "history" is appended to in Record and never truncated or reset; retains 117.43kB (1% of in-use), +32.62kB per snapshot (reported at line 38)

        | sample type | last snapshot | share of total |
        |---|---:|---:|
        | alloc_objects | 1199 | 1.91% |
        | alloc_space | 36.14kB | 0.11% |
        | inuse_objects | 1199 | 10.22% |
        | inuse_space (shown) | 36.14kB | 0.32% |

        **Trend** (inuse_space, 4 snapshots): `▁▃▅█` 8.03kB → 16.06kB → 24.09kB → 36.14kB  
        per snapshot: +8.03kB, +8.03kB, +12.04kB; fitted +9.23kB/snapshot, +530.18kB/minute (r² 0.99, 3/3 steps up): growing, below the thresholds of a steady leak

        **Top call paths** (inuse_space, latest snapshot, outermost first):
        1. 36.14kB (100% of the line): `main.simulateTraffic` → `main.simulateTraffic.func1` → `http.(*ServeMux).ServeHTTP` → `http.HandlerFunc.ServeHTTP` → `main.(*app).handleProduct` → `events.Record`
    "#]],
    );
}

#[test]
fn globalmap_annotations() {
    let c = globalmap();
    let a = c.annotations();
    check(
        render_lenses(c, &a, "main.go"),
        expect![[r#"
        39:945 [entries] heapspot: 7.84MB in use (96%) ▲ +1.94MB/snapshot
        44:1089 [reports] heapspot: 23.09kB in use (0.3%) ▲ +5.78kB/snapshot
        48:1235 [searchSamples] heapspot: 23.09kB in use (0.3%) ▲ +5.78kB/snapshot
        52:1312 [newEntry] heapspot: 7.23MB in use (88%) ▲ +1.80MB/snapshot
        83:2074 [(*Tracker).Observe] heapspot: 339.53kB in use (4%) ▲ +87.57kB/snapshot
        91:2407 [Collect[...]] heapspot: 23kB in use (0.3%) ▲ +5.75kB/snapshot
        114:2780 [handleRequest] heapspot: 623.03kB in use (7%) ▲ +145.08kB/snapshot
    "#]],
    );
    check(
        render_hints(c, &a, "main.go"),
        expect![[r#"
        53: 6MB ▲    | heapspot: 6.04MB inuse_space (73.73% of total), +1.51MB per snapshot across 4 snapshots (1.51MB → 6.04MB), growing steadily
        57: 62kB ▲   | heapspot: 62.50kB inuse_space (0.74% of total), +15.62kB per snapshot across 4 snapshots (15.62kB → 62.50kB)
        59: 395kB ▲  | heapspot: 394.59kB inuse_space (4.70% of total), +93.60kB per snapshot across 4 snapshots (113.79kB → 394.59kB), growing steadily
        61: 750kB ▲  | heapspot: 750kB inuse_space (8.94% of total), +187.50kB per snapshot across 4 snapshots (187.50kB → 750kB), growing steadily
        85: 339kB ▲  | heapspot: 339.33kB inuse_space (4.04% of total), +87.57kB per snapshot across 4 snapshots (74.95kB → 339.33kB), growing steadily
        101: 23kB ▲   | heapspot: 23kB inuse_space (0.27% of total), +5.75kB per snapshot across 4 snapshots (5.75kB → 23kB)
        122: 196kB ▲  | heapspot: 196.41kB inuse_space (2.34% of total), +49.09kB per snapshot across 4 snapshots (48.41kB → 196.41kB), growing steadily
        126: 427kB ▲  | heapspot: 426.62kB inuse_space (5.08% of total), +95.99kB per snapshot across 4 snapshots (106.66kB → 426.62kB), growing steadily
    "#]],
    );
    check(
        render_hover(c, &a, "main.go", 53),
        expect![[r#"
        **heapspot** · 6.04MB inuse_space here (73.73% of total) in `main.newEntry`

        - **error** [unbounded-global-map](DOCS/unbounded-global-map.md): package-level map "entries" is written in handleRequest and never deleted from; retains 7.84MB (96% of in-use), +1.94MB per snapshot (reported at line 126)

        | sample type | last snapshot | share of total |
        |---|---:|---:|
        | alloc_objects | 8000 | 14.01% |
        | alloc_space | 6.04MB | 45.29% |
        | inuse_objects | 8000 | 17.38% |
        | inuse_space (shown) | 6.04MB | 73.73% |

        **Trend** (inuse_space, 4 snapshots): `▁▃▆█` 1.51MB → 3.02MB → 4.53MB → 6.04MB  
        per snapshot: +1.51MB, +1.51MB, +1.51MB; fitted +1.51MB/snapshot, +1.01GB/minute (r² 1.00, 3/3 steps up): steady growth, a leak by the thresholds

        **Top call paths** (inuse_space, latest snapshot, outermost first):
        1. 6.04MB (100% of the line): `runtime.main` → `main.main` → `main.handleRequest` → `main.newEntry`
    "#]],
    );
}

#[test]
fn compact_and_share_formats() {
    let cases = [
        (0, "bytes", "0"),
        (512, "bytes", "512B"),
        (1_530_000, "bytes", "1.5MB"),
        (831_488, "bytes", "812kB"),
        (54_600, "bytes", "53kB"),
        (1_048_576, "bytes", "1MB"),
        (-1_572_864, "bytes", "-1.5MB"),
        (1188, "count", "1188"),
        (7, "count", "7"),
    ];
    for (v, u, want) in cases {
        assert_eq!(compact(v, u), want, "compact({v}, {u})");
    }
    assert_eq!(share_short(0.1339), "13%");
    assert_eq!(share_short(0.0032), "0.3%");
    assert_eq!(share_short(0.0004), "<0.1%");
    assert_eq!(share_short(0.0), "0%");
    assert_eq!(signed(340_346.0, "bytes"), "+332.37kB");
    assert_eq!(signed(-1_572_864.0, "bytes"), "-1.50MB");
    assert_eq!(signed(0.2, "bytes"), "0");
    assert_eq!(hover::sparkline(&[1, 2, 4, 8]), "▁▂▄█");
    assert_eq!(hover::sparkline(&[5, 5, 5]), "▄▄▄");
    assert_eq!(hover::sparkline(&[0, 0]), "▁▁");
    assert_eq!(hover::sparkline(&[8, 1]), "█▁");
    assert_eq!(
        hover::short_name("example.com/shopsvc/cache.(*Store).Put"),
        "cache.(*Store).Put"
    );
    assert_eq!(
        hover::short_name("main.Collect[go.shape.*example.com/x.T]"),
        "main.Collect[go.shape.*example.com/x.T]"
    );
}

#[test]
fn direction_needs_two_snapshots_and_a_tenth_of_change() {
    let summary = |series: Vec<i64>| {
        let xs: Vec<f64> = (0..series.len()).map(|i| i as f64).collect();
        let ys: Vec<f64> = series.iter().map(|&v| v as f64).collect();
        let (slope, r2) = crate::profile::trend::fit(&xs, &ys);
        EvidenceSummary {
            sample_type: "inuse_space".into(),
            unit: "bytes".into(),
            rising_steps: series.windows(2).filter(|w| w[1] > w[0]).count(),
            steps: series.len().saturating_sub(1),
            series,
            share: 0.5,
            growth_per_snapshot: slope,
            growth_per_minute: None,
            r_squared: r2,
            objects: None,
            allocated: None,
            sites: vec![],
            baseline: None,
            sampling_z: None,
        }
    };
    assert_eq!(direction(&summary(vec![100])), None);
    assert_eq!(direction(&summary(vec![100, 200])), Some(Direction::Up));
    assert_eq!(direction(&summary(vec![200, 100])), Some(Direction::Down));
    assert_eq!(
        direction(&summary(vec![100, 105, 100, 104])),
        Some(Direction::Flat)
    );
    assert_eq!(direction(&summary(vec![0, 0, 0])), Some(Direction::Flat));
    assert_eq!(
        direction(&summary(vec![1000, 1060, 1120])),
        Some(Direction::Up)
    );
    assert_eq!(
        direction(&summary(vec![1000, 1030, 1060])),
        Some(Direction::Flat)
    );
}

/// The call paths of every line add up to the line's evidence in the last snapshot, for
/// every mapped line of both fixtures: paths and evidence attribute samples alike.
#[test]
fn call_paths_add_up_to_the_evidence() {
    for c in [service(), globalmap()] {
        let a = c.annotations();
        let mut checked = 0;
        for le in &c.evidence.lines {
            let want = le.values.last().unwrap()[a.sample];
            let got = c.paths.line_total(&le.file, le.line);
            assert_eq!(got, want, "{}:{}", le.file.display(), le.line);
            let top = c.paths.top(&le.file, le.line, usize::MAX);
            if want != 0 {
                checked += 1;
                assert!(
                    !top.is_empty(),
                    "{}:{} has no path",
                    le.file.display(),
                    le.line
                );
                assert!(top.windows(2).all(|w| w[0].value >= w[1].value));
                assert!(top.iter().map(|p| p.value).sum::<i64>() <= want);
                // The path ends at the function the evidence names.
                let last = top[0].frames.last().unwrap();
                assert!(le.functions.iter().any(|f| f == last.as_ref()), "{last}");
            }
        }
        let lines = c.paths.lines().filter(|(_, _, v)| *v != 0).count();
        assert_eq!(
            lines,
            checked,
            "{}: paths into lines without evidence",
            c.root.display()
        );
        assert!(checked >= 5, "{}: only {checked} lines", c.root.display());
    }
}

/// A declaration's lens holds what the findings declared there retain.
#[test]
fn declaration_lenses_equal_their_findings() {
    let c = service();
    let a = c.annotations();
    let mut seen = 0;
    for f in &c.findings {
        let (Some(d), Some(ev)) = (&f.declaration, &f.evidence) else {
            continue;
        };
        if ev.sample_type != "inuse_space" || !a.worth_showing(ev) {
            continue;
        }
        let fs = c.ws.file(&d.file).unwrap();
        // Declarations inside functions (a local ticker, say) get no lens of their own.
        if lens::target(&fs, d.span.start_line, &f.subject).is_none() {
            continue;
        }
        let ls = lenses(&a, &fs);
        let l = ls
            .iter()
            .find(|l| l.line == d.span.start_line)
            .unwrap_or_else(|| panic!("no lens at the declaration of {}", f.subject));
        assert_eq!(l.value, ev.last(), "{}", f.subject);
        seen += 1;
    }
    assert!(seen >= 4, "only {seen} declared findings");
}

#[test]
fn nothing_to_say() {
    let c = service();
    let a = c.annotations();
    let session = c.file("cache/session.go");
    assert_eq!(hover(&a, Some(&c.paths), &session, 2), None);
    assert_eq!(hover(&a, None, &c.file("render/invoice.go"), 1), None);
    // An invalid sample index gives nothing rather than a panic.
    let bad = Annotations { sample: 99, ..a };
    assert!(inlay_hints(&bad, &session).is_empty());
    assert!(lenses(&bad, &c.ws.file(&session).unwrap()).is_empty());
    assert!(hover(&bad, Some(&c.paths), &session, 47)
        .is_some_and(|h| h.contains("unbounded-global-map")));
    // Without snapshots there is nothing either.
    let empty = Evidence::default();
    let none = Annotations {
        evidence: &empty,
        sample: 0,
        ..a
    };
    assert!(inlay_hints(&none, &session).is_empty());
    assert!(CallPaths::build(&c.mapper, &c.profiles[0], 99).is_err());
}

#[test]
fn one_snapshot_has_no_trend() {
    let c = service();
    let last = c.profiles.last().unwrap();
    let ev = gather(&c.mapper, std::slice::from_ref(last)).unwrap();
    let a = Annotations {
        evidence: &ev,
        ..c.annotations()
    };
    check(
        render_lenses(c, &a, "cache/session.go"),
        expect![[r#"
        31:833 [sessions] heapspot: 1.46MB in use (13%)
        36:961 [Touch] heapspot: 1.46MB in use (13%)
    "#]],
    );
    check(
        render_hints(c, &a, "cache/session.go"),
        expect![[r#"
        42: 138kB    | heapspot: 138.13kB inuse_space (1.24% of total), one snapshot (no trend)
        46: 114kB    | heapspot: 113.76kB inuse_space (1.02% of total), one snapshot (no trend)
        47: 1.2MB    | heapspot: 1.16MB inuse_space (10.67% of total), one snapshot (no trend)
        49: 53kB     | heapspot: 53.32kB inuse_space (0.48% of total), one snapshot (no trend)
    "#]],
    );
    let h = render_hover(c, &a, "cache/session.go", 47);
    assert!(h.contains("One snapshot: no trend yet."), "{h}");
    assert!(!h.contains('▲') && !h.contains("**Trend**"), "{h}");
}

#[test]
fn baseline_delta() {
    let c = service();
    let base = gather(&c.mapper, std::slice::from_ref(&c.profiles[0])).unwrap();
    let a = Annotations {
        base: Some(&base),
        ..c.annotations()
    };
    let h = render_hover(c, &a, "cache/session.go", 47);
    let line = h.lines().find(|l| l.starts_with("**Baseline**")).unwrap();
    check(
        line.to_string(),
        expect!["**Baseline**: 370.71kB → 1.16MB (+818.27kB, +221%)"],
    );
}
