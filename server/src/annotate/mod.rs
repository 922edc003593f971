//! Annotations: the protocol-free content of the editor's code lenses, inlay hints and
//! hovers, computed from heap evidence and findings. Lines are 1-based Go lines of the
//! current workspace text and bytes are byte offsets; the language server converts them
//! to its positions. No LSP types here.
//!
//! What is worth showing (lenses and hints): memory of the selected sample type in the
//! last snapshot that is non-zero and either at least [`MIN_SHARE`] of that snapshot's
//! total or, for byte units, at least [`MIN_BYTES`]. Growth comes from the same
//! least-squares fit the findings use (`findings::EvidenceSummary`); it is shown as ▲ or ▼
//! when the fitted change across the snapshots is at least [`TREND_MIN_CHANGE`] of the
//! largest value of the series, and not at all with a single snapshot.

mod hint;
mod hover;
mod lens;
mod paths;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::evidence::{Evidence, LineEvidence};
use crate::findings::{EvidenceSummary, HeapView};
use crate::profile::units::{format_value, scale};
use crate::rules::Location;
use crate::source::model::Span;

pub use hint::{inlay_hints, Hint};
pub use hover::hover;
pub use lens::{lenses, Lens};
pub use paths::{CallPath, CallPaths, MAX_PATHS_PER_LINE};

/// A line, function or declaration holding at least this share of the last snapshot's
/// total (of the selected sample type) is worth a lens or hint.
pub const MIN_SHARE: f64 = 0.001;
/// For byte units, this much in-use memory is worth showing whatever its share.
pub const MIN_BYTES: i64 = 64 << 10;
/// The fitted change across the snapshots must be at least this share of the series'
/// largest value for ▲ or ▼.
pub const TREND_MIN_CHANGE: f64 = 0.10;

/// Everything the annotations are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Annotations<'a> {
    /// Heap evidence, snapshots in time order.
    pub evidence: &'a Evidence,
    /// Index into `evidence.sample_types` (e.g. `inuse_space`).
    pub sample: usize,
    /// Findings as `findings::analyze` computed them.
    pub findings: &'a [crate::findings::Finding],
    pub thresholds: &'a crate::config::Thresholds,
    /// An optional baseline profile's evidence.
    pub base: Option<&'a Evidence>,
}

impl<'a> Annotations<'a> {
    /// The selected sample type, when the index is valid.
    fn sample_type(&self) -> Option<&'a crate::profile::ValueType> {
        self.evidence.sample_types.get(self.sample)
    }

    fn unit(&self) -> &'a str {
        self.sample_type().map_or("", |t| t.unit.as_str())
    }

    /// The last snapshot's total of the selected sample type (0 when there is none).
    fn total(&self) -> i64 {
        self.evidence
            .snapshots
            .last()
            .and_then(|s| s.total.get(self.sample).copied())
            .unwrap_or(0)
    }

    /// The view the findings use, for the selected sample type; `None` without snapshots
    /// or with an invalid sample index.
    fn view(&self) -> Option<HeapView<'a>> {
        let ty = self.sample_type()?;
        if self.evidence.snapshots.is_empty() {
            return None;
        }
        Some(HeapView::with_type(self.evidence, &ty.ty))
    }

    /// Whether a last-snapshot value (with its share of the total) deserves a lens or hint.
    fn worth_showing(&self, s: &EvidenceSummary) -> bool {
        let v = s.last();
        v > 0 && (s.share >= MIN_SHARE || (is_bytes(self.unit()) && v >= MIN_BYTES))
    }

    /// The evidence lines of one file, by line.
    fn lines_of(&self, path: &Path) -> Vec<&'a LineEvidence> {
        let mut v: Vec<&LineEvidence> = self
            .evidence
            .lines
            .iter()
            .filter(|l| l.file == path)
            .collect();
        v.sort_by_key(|l| l.line);
        v
    }

    /// The steady-growth test of the findings, with the byte threshold for byte units.
    fn grows(&self, s: &EvidenceSummary) -> bool {
        let min = if is_bytes(self.unit()) {
            self.thresholds.growth_min_bytes
        } else {
            1
        };
        s.grows(self.thresholds, min)
    }
}

/// Whether a unit is one of pprof's memory units.
fn is_bytes(unit: &str) -> bool {
    matches!(scale(1, unit).1, "B" | "kB" | "MB" | "GB" | "TB" | "PB")
}

/// A one-line location, as the findings build them.
fn line_location(file: &Path, line: u32) -> Location {
    Location {
        file: file.to_path_buf(),
        span: Span {
            start_byte: 0,
            end_byte: 0,
            start_line: line,
            end_line: line,
        },
    }
}

/// Which way a series goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Flat,
}

impl Direction {
    /// `▲`, `▼`, or nothing.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Up => "▲",
            Direction::Down => "▼",
            Direction::Flat => "",
        }
    }
}

/// The direction of a summarized series: `None` with fewer than two snapshots; up or down
/// when the fitted change across the snapshots is at least [`TREND_MIN_CHANGE`] of the
/// series' largest absolute value.
pub fn direction(s: &EvidenceSummary) -> Option<Direction> {
    if s.series.len() < 2 {
        return None;
    }
    let change = s.growth_per_snapshot * s.steps as f64;
    let peak = s
        .series
        .iter()
        .map(|v| v.saturating_abs())
        .max()
        .unwrap_or(0) as f64;
    Some(if peak > 0.0 && change >= TREND_MIN_CHANGE * peak {
        Direction::Up
    } else if peak > 0.0 && change <= -TREND_MIN_CHANGE * peak {
        Direction::Down
    } else {
        Direction::Flat
    })
}

/// A compact pprof-style value for inlay hints, built on [`scale`]: one decimal below 10
/// in the chosen unit and none above (`1.5MB`, `812kB`, `53kB`, `12`), a trailing `.0`
/// dropped.
pub fn compact(value: i64, unit: &str) -> String {
    let (v, u) = scale(value, unit);
    let s = if v.abs() < 9.95 {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    } else {
        format!("{v:.0}")
    };
    if s == "0" || s == "-0" {
        return "0".into();
    }
    format!("{s}{u}")
}

/// A share for lens titles: whole percents from 1% up, one decimal below, `<0.1%` for
/// less.
pub fn share_short(share: f64) -> String {
    let pct = share * 100.0;
    if pct >= 0.995 {
        format!("{pct:.0}%")
    } else if pct >= 0.095 {
        format!("{pct:.1}%")
    } else if pct > 0.0 {
        "<0.1%".into()
    } else {
        "0%".into()
    }
}

/// A signed growth per snapshot in pprof's units: `+332.37kB`, `-1.50MB`, `0`.
pub fn signed(value: f64, unit: &str) -> String {
    let v = value.round() as i64;
    let s = format_value(v, unit);
    if v > 0 {
        format!("+{s}")
    } else {
        s
    }
}

/// The trend part of lens titles and tooltips: `▲ +332.37kB/snapshot`; `None` with one
/// snapshot or a flat series.
fn trend_part(s: &EvidenceSummary, unit: &str) -> Option<String> {
    let d = direction(s)?;
    (d != Direction::Flat).then(|| {
        format!(
            "{} {}/snapshot",
            d.arrow(),
            signed(s.growth_per_snapshot, unit)
        )
    })
}

/// `heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot` (`in use` for in-use types,
/// the type's name otherwise).
fn title(a: &Annotations, s: &EvidenceSummary) -> String {
    let unit = a.unit();
    let what = match a.sample_type().map(|t| t.ty.as_str()) {
        Some("inuse_space") | None => "in use".to_string(),
        Some("inuse_objects") => "objects in use".to_string(),
        Some(ty) => ty.to_string(),
    };
    let mut t = format!(
        "heapspot: {} {what} ({})",
        format_value(s.last(), unit),
        share_short(s.share)
    );
    if let Some(tr) = trend_part(s, unit) {
        t.push(' ');
        t.push_str(&tr);
    }
    t
}
