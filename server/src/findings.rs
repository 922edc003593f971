//! Findings: rule matches joined with the profiles' evidence, plus what no rule knows
//! (retained hotspots, steadily growing sites, regressions against a baseline), each
//! with a severity from one documented policy (docs/severity.md) and honouring
//! `//heapspot:ignore RULE-ID reason` comments.
//!
//! Policy (thresholds from `.heapspot.toml`):
//! - A heap rule match whose retained memory grows steadily across three or more
//!   snapshots is an error: a confirmed leak.
//! - A heap rule match holding a large share of in-use memory without trend data (or
//!   without steady growth) is a warning; one with less, or one of a rule whose leak is
//!   growth that three or more snapshots show holding no more at the end than at the
//!   start, is information.
//! - A goroutine rule match whose blocked goroutines climb across three or more goroutine
//!   snapshots is an error; many blocked goroutines without a trend is a warning.
//! - A site no rule explains that grows steadily is a warning (`growing-site`); a site
//!   holding a large share that does not grow is information (`retained-hotspot`).
//! - With a baseline, a site whose in-use memory grew beyond the regression thresholds
//!   is an error (`memory-regression`).
//! - A match whose Go version makes the pattern less harmful is lowered one level unless
//!   the profiles confirm the growth.
//! - Churn (allocated and freed) never raises a finding: only in-use memory counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::config::{Config, Thresholds};
use crate::evidence::{Evidence, LineEvidence, Snapshot};
use crate::profile::trend::fit;
use crate::profile::units::format_value;
use crate::rules::{EvidenceKind, Fix, Location, Match, Related, RuleMeta};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    fn lower(self) -> Severity {
        match self {
            Severity::Error => Severity::Warning,
            _ => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Ids of the findings that come from profiles alone.
pub const RETAINED_HOTSPOT: &str = "retained-hotspot";
pub const GROWING_SITE: &str = "growing-site";
pub const MEMORY_REGRESSION: &str = "memory-regression";

/// The metadata of the profile-only findings, alongside the rules' own.
pub static PROFILE_RULES: [RuleMeta; 3] = [
    RuleMeta {
        id: RETAINED_HOTSPOT,
        name: "Retained hotspot",
        summary: "A line whose allocations hold a large share of in-use memory.",
        evidence: EvidenceKind::Heap,
        grows: false,
    },
    RuleMeta {
        id: GROWING_SITE,
        name: "Growing site",
        summary: "A line whose retained memory grows steadily across snapshots, with no rule explaining it.",
        evidence: EvidenceKind::Heap,
        grows: false,
    },
    RuleMeta {
        id: MEMORY_REGRESSION,
        name: "Memory regression",
        summary: "A line whose in-use memory grew beyond the thresholds against the baseline profile.",
        evidence: EvidenceKind::Heap,
        grows: false,
    },
];

/// The profile numbers behind a finding.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvidenceSummary {
    /// `inuse_space` (bytes) or `goroutine` (count).
    pub sample_type: String,
    pub unit: String,
    /// Per snapshot, in time order, summed over the evidence lines.
    pub series: Vec<i64>,
    /// Share of the whole in the last snapshot, 0..1.
    pub share: f64,
    pub growth_per_snapshot: f64,
    pub growth_per_minute: Option<f64>,
    pub r_squared: f64,
    pub rising_steps: usize,
    pub steps: usize,
    /// In-use objects in the last snapshot, when the profile has them.
    pub objects: Option<i64>,
    /// Allocated bytes in the last snapshot (in-use/alloc near 1 is retention).
    pub allocated: Option<i64>,
    /// The evidence lines with their last values, largest first.
    pub sites: Vec<(Location, i64)>,
    /// With a baseline: the value in the baseline.
    pub baseline: Option<i64>,
    /// How many standard errors of the heap profile's sampling separate the first and
    /// last snapshot's bytes, summed over the evidence lines; `None` when the profiles
    /// do not allow the estimate.
    #[serde(skip)]
    pub sampling_z: Option<f64>,
}

impl EvidenceSummary {
    pub fn last(&self) -> i64 {
        self.series.last().copied().unwrap_or(0)
    }

    /// Steady growth by the thresholds: three or more snapshots, a rising fit, most steps
    /// up and enough growth overall.
    pub fn grows(&self, t: &Thresholds, min_delta: i64) -> bool {
        let delta = self.last() - self.series.first().copied().unwrap_or(0);
        self.series.len() >= 3
            && self.growth_per_snapshot > 0.0
            && self.r_squared >= t.growth_min_r_squared
            && self.steps > 0
            && self.rising_steps as f64 / self.steps as f64 >= t.growth_min_rising_share
            && delta >= min_delta
    }

    /// Three or more snapshots, and the last holds no more than the first: trend data
    /// that shows no growth.
    pub fn never_grew(&self) -> bool {
        self.series.len() >= 3 && self.last() <= self.series.first().copied().unwrap_or(0)
    }

    /// Three or more snapshots, each holding more than the one before.
    pub fn rises_every_step(&self) -> bool {
        self.series.len() >= 3 && self.series.windows(2).all(|w| w[1] > w[0])
    }

    /// Net growth from the first to the last of three or more snapshots: more than
    /// `min_delta` and to at least `ratio` times the first value, whatever happened in
    /// between. Enough for a rule match, whose pattern explains the retention.
    pub fn grew_net(&self, min_delta: i64, ratio: f64) -> bool {
        let first = self.series.first().copied().unwrap_or(0);
        let last = self.last();
        self.series.len() >= 3 && last - first > min_delta && last as f64 >= first as f64 * ratio
    }

    /// `retains 412MB (61% of in-use), +38MB per snapshot`.
    pub fn describe(&self) -> String {
        let u = &self.unit;
        let mut s = if self.sample_type == "goroutine" {
            format!("{} goroutines blocked here", self.last())
        } else {
            format!(
                "retains {} ({:.0}% of in-use)",
                format_value(self.last(), u),
                self.share * 100.0
            )
        };
        if self.steps > 0 && self.growth_per_snapshot.abs() >= 0.5 {
            let g = self.growth_per_snapshot.round() as i64;
            let sign = if g >= 0 { "+" } else { "" };
            s.push_str(&format!(", {sign}{} per snapshot", format_value(g, u)));
        }
        if let Some(b) = self.baseline {
            s.push_str(&format!(", {} in the baseline", format_value(b, u)));
        }
        s
    }
}

/// A finding: what holds memory, where, how much and how fast, and how serious.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub location: Location,
    pub subject: String,
    /// The rule's sentence and the evidence, e.g. `package-level map "sessions" is
    /// written in Touch and never deleted from; retains 412MB (61% of in-use), +38MB per
    /// snapshot`.
    pub message: String,
    /// Why this severity.
    pub reason: String,
    pub evidence: Option<EvidenceSummary>,
    #[serde(skip)]
    pub declaration: Option<Location>,
    #[serde(skip)]
    pub related: Vec<Related>,
    #[serde(skip)]
    pub fixes: Vec<Fix>,
    /// Stable across line moves: rule, relative file, subject and the cause line's text.
    pub fingerprint: String,
}

/// What the analysis was given.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub root: &'a Path,
    pub config: &'a Config,
    pub matches: Vec<Match>,
    /// Heap snapshots in time order.
    pub heap: Option<&'a Evidence>,
    pub goroutines: Option<&'a Evidence>,
    /// A baseline heap profile.
    pub base: Option<&'a Evidence>,
}

/// Findings, most severe first, then by file and line.
pub fn analyze(inputs: Inputs<'_>) -> Vec<Finding> {
    let t = &inputs.config.thresholds;
    let heap = inputs.heap.map(HeapView::new);
    let gor = inputs
        .goroutines
        .map(|e| HeapView::with_type(e, "goroutine"));
    let mut texts = Texts::default();
    let mut covered: BTreeSet<(PathBuf, u32)> = BTreeSet::new();
    // Goroutine lines a goroutine rule explains.
    let mut gcovered: BTreeSet<(PathBuf, u32)> = BTreeSet::new();
    let mut out = Vec::new();
    // Calls that leave a response body open, for the goroutine trace they share (a call
    // reported on its call line and on the return that leaves it open counts once: its
    // first evidence is the call).
    let open_bodies = inputs
        .matches
        .iter()
        .filter(|m| m.rule == HTTP_BODY_NOT_CLOSED)
        .map(|m| m.evidence.first().unwrap_or(&m.location))
        .collect::<BTreeSet<_>>()
        .len();

    // Each match's rule metadata (evidence kind, whether its leak is growth) and its
    // evidence summed over the matching profile, computed once.
    let summed: Vec<(EvidenceKind, bool, Option<EvidenceSummary>)> = inputs
        .matches
        .iter()
        .map(|m| {
            let meta = crate::rules::all()
                .iter()
                .find(|r| r.meta().id == m.rule)
                .map(|r| (r.meta().evidence, r.meta().grows));
            let kind = meta.map_or(EvidenceKind::Heap, |m| m.0);
            let view = match kind {
                EvidenceKind::Heap => heap.as_ref(),
                EvidenceKind::Goroutine => gor.as_ref(),
            };
            let ev = view.map(|v| v.summarize_with_callees(&m.evidence));
            (kind, meta.is_some_and(|m| m.1), ev)
        })
        .collect();
    // Heap lines a definite pattern (one that needs no growth to count) explains while
    // they grow: a map deleted from on some paths whose growth is all there (the values
    // a context child or a kept sub-slice retains) is not what keeps them.
    let explained_by_pattern: BTreeSet<(PathBuf, u32)> = inputs
        .matches
        .iter()
        .zip(&summed)
        .filter(|(m, (kind, _, _))| !m.needs_growth && *kind == EvidenceKind::Heap)
        .filter_map(|(_, (_, _, ev))| ev.as_ref())
        .filter(|e| e.grows(t, t.growth_min_bytes))
        .flat_map(|e| e.sites.iter())
        .filter(|(_, held)| *held > 0)
        .map(|(l, _)| (l.file.clone(), l.span.start_line))
        .collect();

    // Map fields a match's cause fills from another line (a label without bound, a wait
    // abandoned): the map's own finding, on a write that match's evidence holds, points
    // to it and is information, since the fix belongs there.
    type Filler = (String, Location, BTreeSet<(PathBuf, u32)>);
    let fillers: Vec<Filler> = inputs
        .matches
        .iter()
        .filter(|m| !m.fills.is_empty())
        .flat_map(|m| {
            let lines: BTreeSet<_> = m
                .evidence
                .iter()
                .map(|l| (l.file.clone(), l.span.start_line))
                .collect();
            m.fills
                .iter()
                .map(move |f| (f.clone(), m.location.clone(), lines.clone()))
        })
        .collect();

    for (mut m, (kind, meta_grows, ev)) in inputs.matches.into_iter().zip(summed) {
        // A pattern that leaks only under load counts only when the profiles show it.
        let grows = ev.as_ref().is_some_and(|e| {
            kind == EvidenceKind::Heap
                && (e.grows(t, t.growth_min_bytes)
                    || e.grew_net(t.growth_min_bytes, t.rule_growth_min_ratio) && !meta_grows)
        });
        // A pattern whose leak is growth (a map deleted from on some paths) is only
        // suspect while it grows steadily: a net rise between two snapshots is a map
        // refilling after a sweep.
        // Nor is growth a sampled profile could show by chance (a line seen in one
        // sample, then two).
        let sampled = ev
            .as_ref()
            .is_none_or(|e| e.sampling_z.is_none_or(|z| z >= t.rule_growth_min_z));
        if m.needs_growth && !(grows && sampled) {
            continue;
        }
        let elsewhere = m.needs_growth
            && ev.as_ref().is_some_and(|e| {
                let held: Vec<_> = e.sites.iter().filter(|(_, v)| *v > 0).collect();
                !held.is_empty()
                    && held.iter().all(|(l, _)| {
                        explained_by_pattern.contains(&(l.file.clone(), l.span.start_line))
                    })
            });
        if elsewhere {
            continue;
        }
        // The heap lines a match explains: a heap rule's evidence; for a goroutine rule,
        // the related allocation sites its blocked goroutines keep alive.
        let explained: Vec<&Location> = match kind {
            EvidenceKind::Heap => m.evidence.iter().collect(),
            EvidenceKind::Goroutine => m.related.iter().map(|r| &r.location).collect(),
        };
        for l in explained {
            for n in l.lines() {
                covered.insert((l.file.clone(), n));
            }
        }
        // And the callees' lines its evidence summed (`newWindow`'s `make` under the
        // literal `&Session{quota: newWindow(n)}`).
        if kind == EvidenceKind::Heap {
            for (l, held) in ev.iter().flat_map(|e| e.sites.iter()) {
                if *held > 0 {
                    covered.insert((l.file.clone(), l.span.start_line));
                }
            }
        }
        if kind == EvidenceKind::Goroutine {
            for l in &m.evidence {
                for n in l.lines() {
                    gcovered.insert((l.file.clone(), n));
                }
            }
        }
        let (mut severity, mut reason) = match (&ev, kind) {
            (Some(e), EvidenceKind::Heap) if e.grows(t, t.growth_min_bytes) => (
                Severity::Error,
                "retained memory grows steadily across snapshots: a confirmed leak".to_string(),
            ),
            (Some(e), EvidenceKind::Heap)
                if e.grew_net(t.growth_min_bytes, t.rule_growth_min_ratio) =>
            {
                (
                    Severity::Error,
                    format!(
                        "retained memory grew from the first to the last snapshot by more than {:.0}% without steady growth, and the pattern explains the retention: a leak",
                        (t.rule_growth_min_ratio - 1.0) * 100.0
                    ),
                )
            }
            (Some(e), EvidenceKind::Heap)
                if e.share >= t.large_share && e.never_grew() && meta_grows =>
            {
                (
                Severity::Info,
                format!(
                    "holds {:.0}% of in-use memory, but no more in the last of {} snapshots than in the first: this pattern leaks by growing",
                    e.share * 100.0,
                    e.series.len()
                ),
                )
            }
            (Some(e), EvidenceKind::Heap) if e.share >= t.large_share => (
                Severity::Warning,
                format!(
                    "holds {:.0}% of in-use memory (threshold {:.0}%) without steady growth",
                    e.share * 100.0,
                    t.large_share * 100.0
                ),
            ),
            // A pattern whose goroutines rise at every snapshot is confirmed from half
            // the count.
            (Some(e), EvidenceKind::Goroutine)
                if e.grows(t, 1)
                    && (e.last() >= t.goroutine_min_count
                        || e.rises_every_step() && 2 * e.last() >= t.goroutine_min_count) =>
            {
                (
                    Severity::Error,
                    "blocked goroutines climb across snapshots: a confirmed goroutine leak"
                        .to_string(),
                )
            }
            (Some(e), EvidenceKind::Goroutine) if e.last() >= t.goroutine_min_count => (
                Severity::Warning,
                format!(
                    "{} goroutines blocked here (threshold {}) without a rising trend",
                    e.last(),
                    t.goroutine_min_count
                ),
            ),
            (Some(e), _) if e.last() != 0 => (
                Severity::Info,
                "the pattern is present; the profiles show it holding little".to_string(),
            ),
            (Some(_), _) => (
                Severity::Info,
                "the pattern is present; the profiles show nothing at its lines".to_string(),
            ),
            (None, _) => (
                Severity::Info,
                "the pattern is present; no profile was given to weigh it".to_string(),
            ),
        };
        let mut message = match &ev {
            Some(e) if e.last() != 0 || e.steps > 0 => format!("{}; {}", m.message, e.describe()),
            _ => m.message.clone(),
        };
        if m.rule == HTTP_BODY_NOT_CLOSED {
            if let Some((s, r, note)) = open_bodies_evidence(inputs.goroutines, t, open_bodies) {
                if s > severity {
                    (severity, reason) = (s, r);
                }
                message = format!("{message}; {note}");
            }
        }
        let filled_by = fillers.iter().find(|(name, at, lines)| {
            m.rule == MAP_FIELD_NO_DELETE
                && m.fills.is_empty()
                && *name == m.subject
                && *at != m.location
                && lines.contains(&(m.location.file.clone(), m.location.span.start_line))
        });
        if let Some((_, at, _)) = filled_by {
            let shown = at.file.strip_prefix(inputs.root).unwrap_or(&at.file);
            if severity > Severity::Info {
                severity = Severity::Info;
                reason = format!(
                    "{reason}; lowered: its entries come from the cause reported at {}:{}, where the fix belongs",
                    shown.display(),
                    at.span.start_line
                );
            }
            m.related.push(Related {
                location: at.clone(),
                message: "what fills this map without bound".to_string(),
            });
        }
        let confirmed = severity == Severity::Error;
        if let (Some(note), false) = (&m.version_note, confirmed) {
            severity = severity.lower();
            reason = format!("{reason}; lowered: {note}");
        }
        let suppressed = texts.suppressed(m.rule, &m.location)
            || m.declaration
                .as_ref()
                .is_some_and(|d| texts.suppressed(m.rule, d));
        if suppressed {
            continue;
        }
        let fingerprint = texts.fingerprint(inputs.root, m.rule, &m.subject, &m.location);
        out.push(Finding {
            rule: m.rule.to_string(),
            severity,
            location: m.location,
            subject: m.subject,
            message,
            reason,
            evidence: ev,
            declaration: m.declaration,
            related: m.related,
            fixes: m.fixes,
            fingerprint,
        });
    }

    if let Some(h) = &heap {
        for le in &h.evidence.lines {
            if covered.contains(&(le.file.clone(), le.line)) {
                continue;
            }
            let loc = Location {
                file: le.file.clone(),
                span: line_span(le.line),
            };
            let ev = h.summarize(std::slice::from_ref(&loc));
            let sampled_growth = h.sampling_z(le).is_none_or(|z| z >= t.growth_min_z);
            let (rule, severity, reason) = if ev.grows(t, t.growth_min_bytes) && sampled_growth {
                (
                    GROWING_SITE,
                    Severity::Warning,
                    "retained memory grows steadily across snapshots and no rule explains it"
                        .to_string(),
                )
            } else if ev.share >= t.hotspot_share {
                (
                    RETAINED_HOTSPOT,
                    Severity::Info,
                    format!(
                        "holds {:.0}% of in-use memory (threshold {:.0}%) and does not grow",
                        ev.share * 100.0,
                        t.hotspot_share * 100.0
                    ),
                )
            } else {
                continue;
            };
            if texts.suppressed(rule, &loc) {
                continue;
            }
            let subject = le.functions.first().cloned().unwrap_or_default();
            let what = if rule == GROWING_SITE {
                "allocations here are retained and keep growing"
            } else {
                "allocations here hold a large share of the heap"
            };
            let kinds = describe_kinds(le);
            let fingerprint = texts.fingerprint(inputs.root, rule, &subject, &loc);
            out.push(Finding {
                rule: rule.to_string(),
                severity,
                message: format!("{what}{kinds}; {}", ev.describe()),
                location: loc,
                subject,
                reason,
                evidence: Some(ev),
                declaration: None,
                related: Vec::new(),
                fixes: Vec::new(),
                fingerprint,
            });
        }
        if let Some(base) = inputs.base {
            let bv = HeapView::new(base);
            for le in &h.evidence.lines {
                let loc = Location {
                    file: le.file.clone(),
                    span: line_span(le.line),
                };
                let now = le.values.last().map_or(0, |v| v[h.idx]);
                let before = bv.line_value(&le.file, le.line);
                let grew = now - before;
                let pct = if before > 0 {
                    grew as f64 / before as f64 * 100.0
                } else {
                    f64::INFINITY
                };
                if grew <= t.regression_bytes || pct <= t.regression_percent {
                    continue;
                }
                // Growth within the sampling noise of the two profiles is not a regression.
                let before_sampled = bv
                    .last_values(&le.file, le.line)
                    .zip(base.snapshots.last())
                    .and_then(|(v, snap)| bv.sampled(&v, snap));
                let now_sampled = le
                    .values
                    .last()
                    .zip(h.evidence.snapshots.last())
                    .and_then(|(v, snap)| h.sampled(v, snap));
                let before_sampled = before_sampled.or_else(|| {
                    // Absent from the baseline: zero bytes, with the period of the
                    // profile that has it.
                    now_sampled.map(|(_, _, r)| (0.0, 0.0, r))
                });
                if let (Some(a), Some(b)) = (before_sampled, now_sampled) {
                    if sampling_z(a, b) < t.growth_min_z {
                        continue;
                    }
                }
                if texts.suppressed(MEMORY_REGRESSION, &loc) {
                    continue;
                }
                let mut ev = h.summarize(std::slice::from_ref(&loc));
                ev.baseline = Some(before);
                let subject = le.functions.first().cloned().unwrap_or_default();
                let fingerprint = texts.fingerprint(inputs.root, MEMORY_REGRESSION, &subject, &loc);
                out.push(Finding {
                    rule: MEMORY_REGRESSION.to_string(),
                    severity: Severity::Error,
                    message: format!(
                        "in-use memory here grew by {} against the baseline ({} -> {})",
                        format_value(grew, &h.unit),
                        format_value(before, &h.unit),
                        format_value(now, &h.unit)
                    ),
                    reason: format!(
                        "grew more than {} and {:.0}% against the baseline",
                        format_value(t.regression_bytes, &h.unit),
                        t.regression_percent
                    ),
                    location: loc,
                    subject,
                    evidence: Some(ev),
                    declaration: None,
                    related: Vec::new(),
                    fixes: Vec::new(),
                    fingerprint,
                });
            }
        }
    }

    // A line where goroutines park in climbing numbers is a goroutine leak even when the
    // heap looks calm and no rule knows the pattern.
    if let Some(g) = &gor {
        for le in &g.evidence.lines {
            if gcovered.contains(&(le.file.clone(), le.line)) {
                continue;
            }
            let loc = Location {
                file: le.file.clone(),
                span: line_span(le.line),
            };
            let ev = g.summarize(std::slice::from_ref(&loc));
            if !(ev.grows(t, 1) && ev.last() >= t.goroutine_min_count) {
                continue;
            }
            // What the goroutines wait on names the finding when the line says it.
            let rule = texts
                .text(&le.file)
                .and_then(|t| crate::rules::goroutine_wait_at(&t, le.line))
                .unwrap_or(GROWING_SITE);
            if texts.suppressed(rule, &loc) {
                continue;
            }
            let what = match rule {
                GROWING_SITE => "goroutines wait here in climbing numbers",
                "goroutine-blocked-send" => {
                    "goroutines blocked sending on a channel here climb across snapshots; no rule matched the code around it"
                }
                _ => "goroutines blocked receiving from a channel here climb across snapshots; no rule matched the code around it",
            };
            let mut message = format!("{what}; {}", ev.describe());
            // The same line growing on the heap too is one finding that says both.
            if let Some(i) = out
                .iter()
                .position(|f| f.rule == GROWING_SITE && f.location == loc)
            {
                let heap_finding = out.remove(i);
                if let Some(h) = &heap_finding.evidence {
                    message = format!("{message}; the heap here grows too: {}", h.describe());
                }
            }
            let subject = le.functions.first().cloned().unwrap_or_default();
            let fingerprint = texts.fingerprint(inputs.root, rule, &subject, &loc);
            out.push(Finding {
                rule: rule.to_string(),
                severity: Severity::Warning,
                message,
                reason:
                    "the goroutines waiting here climb across snapshots and no rule explains it"
                        .to_string(),
                location: loc,
                subject,
                evidence: Some(ev),
                declaration: None,
                related: Vec::new(),
                fixes: Vec::new(),
                fingerprint,
            });
        }
    }

    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.file.cmp(&b.location.file))
            .then_with(|| a.location.span.start_line.cmp(&b.location.span.start_line))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    out
}

fn line_span(line: u32) -> crate::source::model::Span {
    crate::source::model::Span {
        start_byte: 0,
        end_byte: 0,
        start_line: line,
        end_line: line,
    }
}

fn describe_kinds(le: &LineEvidence) -> String {
    use crate::mapping::AllocKind;
    let top = le
        .kinds
        .iter()
        .filter(|(_, v)| **v > 0)
        .max_by_key(|(_, v)| **v);
    match top.map(|(k, _)| k) {
        Some(AllocKind::MapGrowth) => " (map growth)".into(),
        Some(AllocKind::Append) => " (append)".into(),
        Some(AllocKind::Call(f)) => format!(" (in {f})"),
        _ => String::new(),
    }
}

/// One sample type of an evidence set, with line lookup (also used by `annotate`).
pub(crate) struct HeapView<'a> {
    evidence: &'a Evidence,
    idx: usize,
    unit: String,
    ty: String,
    objects: Option<usize>,
    alloc: Option<usize>,
    by_file: HashMap<&'a Path, Vec<usize>>,
    /// `evidence.via` by calling file.
    via_by_file: HashMap<&'a Path, Vec<usize>>,
}

impl<'a> HeapView<'a> {
    fn new(e: &'a Evidence) -> HeapView<'a> {
        HeapView::with_type(e, "inuse_space")
    }

    pub(crate) fn with_type(e: &'a Evidence, ty: &str) -> HeapView<'a> {
        let idx = e
            .type_index(ty)
            .unwrap_or(e.sample_types.len().saturating_sub(1));
        let mut by_file: HashMap<&Path, Vec<usize>> = HashMap::new();
        for (i, l) in e.lines.iter().enumerate() {
            by_file.entry(l.file.as_path()).or_default().push(i);
        }
        let mut via_by_file: HashMap<&Path, Vec<usize>> = HashMap::new();
        for (i, v) in e.via.iter().enumerate() {
            via_by_file.entry(v.file.as_path()).or_default().push(i);
        }
        HeapView {
            evidence: e,
            idx,
            unit: e
                .sample_types
                .get(idx)
                .map(|t| t.unit.clone())
                .unwrap_or_default(),
            ty: e
                .sample_types
                .get(idx)
                .map(|t| t.ty.clone())
                .unwrap_or_default(),
            objects: e.type_index("inuse_objects"),
            alloc: e.type_index("alloc_space"),
            by_file,
            via_by_file,
        }
    }

    fn line_value(&self, file: &Path, line: u32) -> i64 {
        self.last_values(file, line).map_or(0, |v| v[self.idx])
    }

    /// How many standard errors of the heap profile's sampling separate the line's first
    /// and last in-use bytes; `None` when the profile does not allow the estimate (no
    /// sampling period, no object counts, not bytes).
    ///
    /// The runtime records an allocation of `s` bytes with probability
    /// `p = 1 - exp(-s/R)` (`R` the sampling period) and scales what it records by `1/p`.
    /// For `B` scaled bytes of objects of size `s`, the variance of that estimate is
    /// `B * s * (1-p) / p` (Poisson-like, about `B * R` for small objects; zero for objects
    /// far larger than `R`, which are always recorded). A line absent from a snapshot is
    /// given the uncertainty of one sample of the other snapshot's object size.
    pub(crate) fn sampling_z(&self, le: &LineEvidence) -> Option<f64> {
        let first = self.sampled(le.values.first()?, self.evidence.snapshots.first()?)?;
        let last = self.sampled(le.values.last()?, self.evidence.snapshots.last()?)?;
        Some(sampling_z(first, last))
    }

    /// A line's (bytes, average object size, sampling period) in one snapshot, when the
    /// profile allows the estimate.
    fn sampled(&self, values: &[i64], snap: &Snapshot) -> Option<(f64, f64, f64)> {
        let o = self.objects?;
        if self.ty != "inuse_space" || self.unit != "bytes" || snap.period <= 0 {
            return None;
        }
        let (b, n) = (values[self.idx], values[o]);
        let size = if n > 0 { b as f64 / n as f64 } else { 0.0 };
        Some((b as f64, size, snap.period as f64))
    }

    /// The line's values in the last snapshot (each line once), for a comparison.
    fn last_values(&self, file: &Path, line: u32) -> Option<Box<[i64]>> {
        let mut sum: Option<Box<[i64]>> = None;
        for &i in self.by_file.get(file).into_iter().flatten() {
            let le = &self.evidence.lines[i];
            if le.line != line {
                continue;
            }
            let Some(v) = le.values.last() else { continue };
            match &mut sum {
                Some(s) => s.iter_mut().zip(v.iter()).for_each(|(a, b)| *a += b),
                None => sum = Some(v.clone()),
            }
        }
        sum
    }

    /// Sums the evidence lines covered by `locations` (each line once): the memory whose
    /// innermost workspace frame is on those lines, as `go tool pprof -list` counts flat.
    pub(crate) fn summarize(&self, locations: &[Location]) -> EvidenceSummary {
        self.summarize_lines(locations, false)
    }

    /// [`HeapView::summarize`], plus what the calls on those lines into other workspace
    /// functions allocated there on their behalf (`proto.NewReader(conn)` in a
    /// constructor whose value a rule follows): a rule match's evidence.
    pub(crate) fn summarize_with_callees(&self, locations: &[Location]) -> EvidenceSummary {
        self.summarize_lines(locations, true)
    }

    fn summarize_lines(&self, locations: &[Location], callees: bool) -> EvidenceSummary {
        let snaps = self.evidence.snapshots.len();
        let mut seen = BTreeSet::new();
        let mut seen_via = BTreeSet::new();
        let mut series = vec![0i64; snaps];
        let mut objects = 0i64;
        let mut allocated = 0i64;
        let mut sites: Vec<(Location, i64)> = Vec::new();
        // The sampling variance of the first and last snapshots' sums.
        let mut var = Some(0.0);
        for loc in locations {
            for &i in self.by_file.get(loc.file.as_path()).into_iter().flatten() {
                let le = &self.evidence.lines[i];
                if !loc.lines().contains(&le.line) || !seen.insert(i) {
                    continue;
                }
                for (s, v) in le.values.iter().enumerate() {
                    series[s] += v[self.idx];
                }
                var = var.zip(self.sampling_var(&le.values)).map(|(a, b)| a + b);
                let last = le.values.last();
                objects += self.objects.and_then(|o| last.map(|v| v[o])).unwrap_or(0);
                allocated += self.alloc.and_then(|a| last.map(|v| v[a])).unwrap_or(0);
                sites.push((
                    Location {
                        file: le.file.clone(),
                        span: line_span(le.line),
                    },
                    last.map_or(0, |v| v[self.idx]),
                ));
            }
        }
        // What calls on these lines into other workspace functions allocated there (the
        // callee's lines, for this caller only), unless those lines are covered already.
        let covered = |file: &Path, line: u32| {
            locations
                .iter()
                .any(|l| l.file == file && l.lines().contains(&line))
        };
        let mut via_sites: BTreeMap<(PathBuf, u32), i64> = BTreeMap::new();
        for loc in locations.iter().filter(|_| callees) {
            for &i in self
                .via_by_file
                .get(loc.file.as_path())
                .into_iter()
                .flatten()
            {
                let v = &self.evidence.via[i];
                if !loc.lines().contains(&v.line)
                    || covered(&v.inner_file, v.inner_line)
                    || !seen_via.insert(i)
                {
                    continue;
                }
                for (s, vals) in v.values.iter().enumerate() {
                    series[s] += vals[self.idx];
                }
                var = var.zip(self.sampling_var(&v.values)).map(|(a, b)| a + b);
                let last = v.values.last();
                objects += self.objects.and_then(|o| last.map(|x| x[o])).unwrap_or(0);
                allocated += self.alloc.and_then(|a| last.map(|x| x[a])).unwrap_or(0);
                *via_sites
                    .entry((v.inner_file.clone(), v.inner_line))
                    .or_default() += last.map_or(0, |x| x[self.idx]);
            }
        }
        for ((file, line), value) in via_sites {
            sites.push((
                Location {
                    file,
                    span: line_span(line),
                },
                value,
            ));
        }
        sites.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let total = self
            .evidence
            .snapshots
            .last()
            .map_or(0, |s| s.total[self.idx]);
        let xs: Vec<f64> = (0..snaps).map(|i| i as f64).collect();
        let ys: Vec<f64> = series.iter().map(|&v| v as f64).collect();
        let (slope, r2) = fit(&xs, &ys);
        let times: Vec<i64> = self
            .evidence
            .snapshots
            .iter()
            .map(|s| s.time_nanos)
            .collect();
        let timed =
            snaps >= 2 && times.iter().all(|&t| t != 0) && times.windows(2).all(|w| w[0] < w[1]);
        let per_minute = timed.then(|| {
            let mins: Vec<f64> = times
                .iter()
                .map(|&t| (t - times[0]) as f64 / 60e9)
                .collect();
            fit(&mins, &ys).0
        });
        let last = series.last().copied().unwrap_or(0);
        let first = series.first().copied().unwrap_or(0);
        let sampling_z = var.map(|v| z_of((last - first) as f64, v));
        EvidenceSummary {
            sample_type: self.ty.clone(),
            unit: self.unit.clone(),
            share: if total > 0 {
                last as f64 / total as f64
            } else {
                0.0
            },
            rising_steps: series.windows(2).filter(|w| w[1] > w[0]).count(),
            steps: snaps.saturating_sub(1),
            series,
            growth_per_snapshot: slope,
            growth_per_minute: per_minute,
            r_squared: r2,
            objects: self.objects.map(|_| objects),
            allocated: self.alloc.map(|_| allocated),
            sites,
            baseline: None,
            sampling_z,
        }
    }

    /// The sampling variance of a line's first plus its last snapshot's bytes.
    fn sampling_var(&self, values: &[Box<[i64]>]) -> Option<f64> {
        let snaps = &self.evidence.snapshots;
        let first = self.sampled(values.first()?, snaps.first()?)?;
        let last = self.sampled(values.last()?, snaps.last()?)?;
        Some(sampling_var(first, last.1) + sampling_var(last, first.1))
    }
}

/// How many standard errors of heap-profile sampling separate two estimates of a line's
/// bytes, each given as (bytes, average object size, sampling period); see
/// [`HeapView::sampling_z`]. Infinite when neither side carries sampling noise.
fn sampling_z(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    z_of(b.0 - a.0, sampling_var(a, b.1) + sampling_var(b, a.1))
}

/// The variance of one line's sampled bytes (bytes, average object size, sampling
/// period); a line absent from its snapshot (no bytes) is given one sample of
/// `other_size`, its object size in the other snapshot.
fn sampling_var((bytes, size, period): (f64, f64, f64), other_size: f64) -> f64 {
    let one_sample = bytes <= 0.0 || size <= 0.0;
    let s = if one_sample { other_size } else { size };
    if s <= 0.0 {
        return 0.0;
    }
    let p = -(-s / period).exp_m1();
    if p >= 1.0 {
        return 0.0;
    }
    if one_sample {
        // One recorded object of size s stands for s/p bytes, give or take.
        (s / p).powi(2) * (1.0 - p)
    } else {
        bytes * s * (1.0 - p) / p
    }
}

/// A difference in standard errors; infinite when there is no sampling noise (objects far
/// above the sampling period are all recorded).
fn z_of(diff: f64, var: f64) -> f64 {
    if var <= 0.0 {
        return f64::INFINITY;
    }
    diff / var.sqrt()
}

const HTTP_BODY_NOT_CLOSED: &str = "http-body-not-closed";
const MAP_FIELD_NO_DELETE: &str = "map-field-no-delete";

/// What the goroutine profiles say about response bodies left open anywhere in the
/// process: net/http's read loops waiting for a body to be read or closed have no
/// workspace frame, so they are evidence shared by every call that leaves a body open
/// (`calls` of them). Rising across three or more snapshots to `goroutine_min_count`,
/// that confirms the only such call as a leak, or makes each of several a warning;
/// without a rise, a count at the threshold is a warning.
fn open_bodies_evidence(
    goroutines: Option<&Evidence>,
    t: &Thresholds,
    calls: usize,
) -> Option<(Severity, String, String)> {
    let series = &goroutines?.unread_response_bodies;
    let last = *series.last()?;
    if last < t.goroutine_min_count {
        return None;
    }
    let shown: Vec<String> = series.iter().map(i64::to_string).collect();
    let note = format!(
        "{} response bodies wait unread in net/http's read loops ({} across goroutine snapshots)",
        last,
        shown.join(" -> ")
    );
    let rising = series.len() >= 3 && series.windows(2).all(|w| w[1] > w[0]);
    let (severity, reason) = match (rising, calls) {
        (true, 1) => (
            Severity::Error,
            "the goroutine profiles show open response bodies piling up, and this is the only call in the workspace that leaves its body open: a confirmed leak".to_string(),
        ),
        (true, n) => (
            Severity::Warning,
            format!("the goroutine profiles show open response bodies piling up; this is one of {n} calls in the workspace that leave a body open, and the profiles do not say which"),
        ),
        (false, _) => (
            Severity::Warning,
            format!(
                "{last} response bodies are open in the last goroutine snapshot (threshold {}) without a rising trend",
                t.goroutine_min_count
            ),
        ),
    };
    Some((severity, reason, note))
}

/// File texts read on demand, for suppression comments and fingerprints.
#[derive(Default)]
struct Texts {
    files: HashMap<PathBuf, Option<Vec<String>>>,
}

impl Texts {
    fn line(&mut self, file: &Path, line: u32) -> Option<&str> {
        let lines = self
            .files
            .entry(file.to_path_buf())
            .or_insert_with(|| {
                std::fs::read(file).ok().map(|b| {
                    String::from_utf8_lossy(&b)
                        .lines()
                        .map(str::to_string)
                        .collect()
                })
            })
            .as_ref()?;
        lines
            .get((line as usize).checked_sub(1)?)
            .map(String::as_str)
    }

    /// A file's whole text, as read for its lines.
    fn text(&mut self, file: &Path) -> Option<String> {
        self.line(file, 1)?;
        Some(self.files.get(file)?.as_ref()?.join("\n"))
    }

    /// `//heapspot:ignore RULE reason` on the location's first line or the line above.
    fn suppressed(&mut self, rule: &str, loc: &Location) -> bool {
        let n = loc.span.start_line;
        [n, n.saturating_sub(1)]
            .into_iter()
            .filter(|&l| l > 0)
            .any(|l| self.line(&loc.file, l).is_some_and(|t| ignores(t, rule)))
    }

    fn fingerprint(&mut self, root: &Path, rule: &str, subject: &str, loc: &Location) -> String {
        let rel = loc
            .file
            .strip_prefix(root)
            .unwrap_or(&loc.file)
            .to_string_lossy()
            .replace('\\', "/");
        let text: String = self
            .line(&loc.file, loc.span.start_line)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let h = xxhash_rust::xxh3::xxh3_64(format!("{rule}\0{rel}\0{subject}\0{text}").as_bytes());
        format!("{h:016x}")
    }
}

/// Whether a line carries `//heapspot:ignore` for `rule` (or `all`).
pub fn ignores(line: &str, rule: &str) -> bool {
    let Some(i) = line.find("//heapspot:ignore") else {
        return false;
    };
    let rest = &line[i + "//heapspot:ignore".len()..];
    let Some(first) = rest.split_whitespace().next() else {
        return false;
    };
    first.split(',').any(|r| r == rule || r == "all")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_comments() {
        assert!(ignores(
            "m[k] = v //heapspot:ignore unbounded-global-map bounded by tenants",
            "unbounded-global-map"
        ));
        assert!(ignores("\t//heapspot:ignore a,b reason", "b"));
        assert!(ignores("//heapspot:ignore all reason", "growing-site"));
        assert!(!ignores(
            "//heapspot:ignore other reason",
            "unbounded-global-map"
        ));
        assert!(!ignores("// heapspot is great", "x"));
        assert!(!ignores("//heapspot:ignore", "x"));
    }

    #[test]
    fn load_dependent_matches_need_growth() {
        let m = |needs_growth| Match {
            rule: "time-after-in-loop",
            location: Location {
                file: PathBuf::from("/w/a.go"),
                span: line_span(3),
            },
            subject: "time.After".into(),
            message: "a timer per call".into(),
            declaration: None,
            related: Vec::new(),
            evidence: Vec::new(),
            fixes: Vec::new(),
            version_note: None,
            needs_growth,
            fills: Vec::new(),
        };
        let config = Config::default();
        let run = |needs_growth| {
            analyze(Inputs {
                root: Path::new("/w"),
                config: &config,
                matches: vec![m(needs_growth)],
                heap: None,
                goroutines: None,
                base: None,
            })
        };
        assert_eq!(
            run(false).len(),
            1,
            "a plain match is an info without profiles"
        );
        assert!(run(true).is_empty(), "no profile, no growth: not reported");
    }

    /// A metric registry's map that a label without bound fills is reported where the
    /// label is made; the map's own finding, on a write the label's evidence holds,
    /// points there as information. The same map written on a line the label does not
    /// reach stays an error.
    #[test]
    fn a_map_filled_from_elsewhere_points_to_the_cause() {
        let at = |line| Location {
            file: PathBuf::from("/w/main.go"),
            span: line_span(line),
        };
        let m = |line, subject: &str, evidence: Vec<u32>, fills: Vec<String>| Match {
            rule: MAP_FIELD_NO_DELETE,
            location: at(line),
            subject: subject.into(),
            message: subject.into(),
            declaration: None,
            related: Vec::new(),
            evidence: evidence.into_iter().map(at).collect(),
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills,
        };
        let growing = [(1_000, 1 << 20), (5_000, 5 << 20), (9_000, 9 << 20)];
        let heap = sampled_heap(&[(20, growing), (30, growing)]);
        let config = Config::default();
        let out = analyze(Inputs {
            root: Path::new("/w"),
            config: &config,
            matches: vec![
                m(5, "route", vec![5, 20], vec!["Registry.series".into()]),
                m(20, "Registry.series", vec![20], Vec::new()),
                m(30, "Cache.items", vec![30], Vec::new()),
            ],
            heap: Some(&heap),
            goroutines: None,
            base: None,
        });
        let mut got: Vec<_> = out
            .iter()
            .map(|f| (f.location.span.start_line, f.severity, f.related.len()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (5, Severity::Error, 0),
                (20, Severity::Info, 1),
                (30, Severity::Error, 0)
            ]
        );
        let lowered = out.iter().find(|f| f.location.span.start_line == 20);
        assert!(lowered.unwrap().reason.ends_with(
            "lowered: its entries come from the cause reported at main.go:5, where the fix belongs"
        ));
    }

    /// Heap evidence in the shape of a Go heap profile (sampled every 512 KiB): per
    /// snapshot and line, (in-use objects, in-use bytes).
    fn sampled_heap(lines: &[(u32, [(i64, i64); 3])]) -> Evidence {
        use crate::evidence::Snapshot;
        use crate::profile::ValueType;
        let vt = |ty: &str, unit: &str| ValueType {
            ty: ty.into(),
            unit: unit.into(),
        };
        Evidence {
            sample_types: vec![
                vt("alloc_objects", "count"),
                vt("alloc_space", "bytes"),
                vt("inuse_objects", "count"),
                vt("inuse_space", "bytes"),
            ],
            snapshots: (0..3)
                .map(|i| Snapshot {
                    name: format!("heap-{i}"),
                    time_nanos: 0,
                    total: vec![0, 0, 0, 64 << 20].into(),
                    period: 512 << 10,
                })
                .collect(),
            lines: lines
                .iter()
                .map(|(line, snaps)| LineEvidence {
                    file: PathBuf::from("/w/main.go"),
                    line: *line,
                    values: snaps
                        .iter()
                        .map(|&(n, b)| vec![n, b, n, b].into())
                        .collect(),
                    kinds: Default::default(),
                    functions: vec!["main.f".into()],
                    shift: 0,
                })
                .collect(),
            ..Evidence::default()
        }
    }

    #[test]
    fn growing_site_needs_growth_beyond_sampling_noise() {
        let heap = sampled_heap(&[
            // One then two records of a ~160 kB object, each scaled to ~600 kB: the
            // rise is one or two samples of a capped buffer, not growth.
            (10, [(0, 0), (3, 600_000), (4, 799_000)]),
            // Small objects in the thousands of samples' worth: a real rise.
            (
                20,
                [(10_000, 1 << 20), (60_000, 6 << 20), (110_000, 11 << 20)],
            ),
            // Objects far above the sampling period are always recorded: exact.
            (30, [(0, 0), (1, 4 << 20), (2, 8 << 20)]),
        ]);
        let config = Config::default();
        let findings = analyze(Inputs {
            root: Path::new("/w"),
            config: &config,
            matches: Vec::new(),
            heap: Some(&heap),
            goroutines: None,
            base: None,
        });
        let growing: Vec<u32> = findings
            .iter()
            .filter(|f| f.rule == GROWING_SITE)
            .map(|f| f.location.span.start_line)
            .collect();
        assert_eq!(growing, vec![20, 30], "{findings:#?}");
        let h = HeapView::new(&heap);
        let z = |i: usize| h.sampling_z(&heap.lines[i]).unwrap();
        assert!(z(0) < 1.5, "noise: z = {}", z(0));
        assert!(z(1) > 3.0, "small objects: z = {}", z(1));
        assert!(z(2) > 10.0, "large objects: z = {}", z(2));
        // With the floor off, the noisy line is a growing site again.
        let mut lax = Config::default();
        lax.thresholds.growth_min_z = 0.0;
        let findings = analyze(Inputs {
            root: Path::new("/w"),
            config: &lax,
            matches: Vec::new(),
            heap: Some(&heap),
            goroutines: None,
            base: None,
        });
        assert_eq!(
            findings.iter().filter(|f| f.rule == GROWING_SITE).count(),
            3
        );
    }

    #[test]
    fn a_match_counts_what_its_calls_allocate_in_other_workspace_functions() {
        use crate::evidence::ViaEvidence;
        // Line 10 calls a constructor whose body (line 30, another file) allocates 1, 2
        // and 3 MB for it; line 30 also allocates for another caller (line 50).
        let mut heap = sampled_heap(&[(30, [(10, 3 << 20), (20, 6 << 20), (30, 9 << 20)])]);
        let via = |line: u32, mb: i64| ViaEvidence {
            file: PathBuf::from("/w/app.go"),
            line,
            inner_file: PathBuf::from("/w/main.go"),
            inner_line: 30,
            values: (1..=3)
                .map(|i| vec![0, 0, 10 * i, (i * mb) << 20].into())
                .collect(),
        };
        heap.via = vec![via(10, 1), via(50, 2)];
        let h = HeapView::new(&heap);
        let at = |file: &str, line: u32| Location {
            file: PathBuf::from(file),
            span: line_span(line),
        };
        let flat = h.summarize(&[at("/w/app.go", 10)]);
        assert_eq!(
            flat.series,
            vec![0, 0, 0],
            "flat: nothing at the call line itself"
        );
        let with = h.summarize_with_callees(&[at("/w/app.go", 10)]);
        assert_eq!(with.series, vec![1 << 20, 2 << 20, 3 << 20]);
        assert_eq!(with.sites, vec![(at("/w/main.go", 30), 3 << 20)]);
        // When the callee's line is part of the match already, it is counted once.
        let both = h.summarize_with_callees(&[at("/w/app.go", 10), at("/w/main.go", 30)]);
        assert_eq!(both.series, vec![3 << 20, 6 << 20, 9 << 20]);
    }

    #[test]
    fn baseline_regressions_need_growth_beyond_sampling_noise() {
        let flat = |n: i64, b: i64| [(n, b), (n, b), (n, b)];
        let base = sampled_heap(&[(10, flat(4, 600_000)), (20, flat(10_000, 1 << 20))]);
        let now = sampled_heap(&[(10, flat(12, 1_800_000)), (20, flat(110_000, 11 << 20))]);
        let config = Config::default();
        let findings = analyze(Inputs {
            root: Path::new("/w"),
            config: &config,
            matches: Vec::new(),
            heap: Some(&now),
            goroutines: None,
            base: Some(&base),
        });
        let regressed: Vec<u32> = findings
            .iter()
            .filter(|f| f.rule == MEMORY_REGRESSION)
            .map(|f| f.location.span.start_line)
            .collect();
        // Line 10 grew by 1.2MB (200%), but that is a few samples of 150kB objects.
        assert_eq!(regressed, vec![20], "{findings:#?}");
    }

    #[test]
    fn open_response_bodies_weigh_by_rise_and_candidates() {
        let t = Thresholds::default();
        let gor = |series: Vec<i64>| Evidence {
            unread_response_bodies: series,
            ..Evidence::default()
        };
        let rising = gor(vec![24, 69, 135]);
        let (s, _, note) = open_bodies_evidence(Some(&rising), &t, 1).unwrap();
        assert_eq!(s, Severity::Error);
        assert!(note.contains("24 -> 69 -> 135"), "{note}");
        let (s, reason, _) = open_bodies_evidence(Some(&rising), &t, 3).unwrap();
        assert_eq!(s, Severity::Warning, "one of several candidates");
        assert!(reason.contains("one of 3"), "{reason}");
        let flat = gor(vec![40, 40, 40]);
        assert_eq!(
            open_bodies_evidence(Some(&flat), &t, 1).unwrap().0,
            Severity::Warning
        );
        assert!(open_bodies_evidence(Some(&gor(vec![1, 2, 3])), &t, 1).is_none());
        assert!(open_bodies_evidence(None, &t, 1).is_none());
    }

    #[test]
    fn growth_needs_three_rising_snapshots() {
        let t = Thresholds::default();
        let mk = |series: Vec<i64>| {
            let xs: Vec<f64> = (0..series.len()).map(|i| i as f64).collect();
            let ys: Vec<f64> = series.iter().map(|&v| v as f64).collect();
            let (slope, r2) = fit(&xs, &ys);
            EvidenceSummary {
                sample_type: "inuse_space".into(),
                unit: "bytes".into(),
                rising_steps: series.windows(2).filter(|w| w[1] > w[0]).count(),
                steps: series.len() - 1,
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
        assert!(mk(vec![1 << 20, 2 << 20, 3 << 20]).grows(&t, t.growth_min_bytes));
        assert!(
            !mk(vec![1 << 20, 2 << 20]).grows(&t, t.growth_min_bytes),
            "two snapshots"
        );
        assert!(
            !mk(vec![3 << 20, 3 << 20, 3 << 20]).grows(&t, t.growth_min_bytes),
            "flat"
        );
        assert!(
            !mk(vec![1 << 20, 9 << 20, 1 << 20, 1 << 20]).grows(&t, t.growth_min_bytes),
            "spike"
        );
        assert!(
            !mk(vec![100, 200, 300]).grows(&t, t.growth_min_bytes),
            "too small"
        );
        // Net growth, for rule matches: jumpy series count when they end well above
        // their start; a dip back or a small rise does not.
        let jumpy = mk(vec![4 << 20, 9 << 20, 6 << 20]);
        assert!(!jumpy.grows(&t, t.growth_min_bytes), "not steady");
        assert!(jumpy.grew_net(t.growth_min_bytes, t.rule_growth_min_ratio));
        assert!(
            !mk(vec![4 << 20, 9 << 20, 4 << 20])
                .grew_net(t.growth_min_bytes, t.rule_growth_min_ratio),
            "back to the start"
        );
        assert!(
            !mk(vec![10 << 20, 14 << 20, 11 << 20])
                .grew_net(t.growth_min_bytes, t.rule_growth_min_ratio),
            "below the ratio"
        );
        assert!(
            !mk(vec![100, 900, 300]).grew_net(t.growth_min_bytes, t.rule_growth_min_ratio),
            "too small"
        );
        assert!(
            !mk(vec![1 << 20, 3 << 20]).grew_net(t.growth_min_bytes, t.rule_growth_min_ratio),
            "two snapshots"
        );
        let d = mk(vec![1 << 20, 2 << 20, 3 << 20]).describe();
        assert_eq!(d, "retains 3MB (50% of in-use), +1MB per snapshot");
    }
}
