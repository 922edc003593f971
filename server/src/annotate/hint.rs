//! Inlay hints: one at the end of each line whose evidence is worth showing, with a
//! compact label (`1.5MB ▲`, `812kB`, `1.5MB ▼`) and a one-line tooltip giving the exact
//! value, its share of the total and the growth.

use std::path::Path;

use super::{compact, direction, line_location, Annotations, Direction};
use crate::findings::EvidenceSummary;
use crate::profile::units::{format_value, percent};

/// An inlay hint for the end of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// The 1-based line.
    pub line: u32,
    /// `1.5MB ▲`: the compact value and ▲/▼ when it grows or shrinks.
    pub label: String,
    /// `heapspot: 1.46MB inuse_space (13.39% of total), +332.37kB per snapshot across 4
    /// snapshots (486.02kB → 1.46MB)`.
    pub tooltip: String,
    /// The line's value of the selected sample type in the last snapshot.
    pub value: i64,
}

/// The hints of one file, in line order.
pub fn inlay_hints(a: &Annotations, path: &Path) -> Vec<Hint> {
    let Some(view) = a.view() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for le in a.lines_of(path) {
        let s = view.summarize(&[line_location(path, le.line)]);
        if !a.worth_showing(&s) {
            continue;
        }
        let unit = a.unit();
        let mut label = compact(s.last(), unit);
        if let Some(d @ (Direction::Up | Direction::Down)) = direction(&s) {
            label.push(' ');
            label.push_str(d.arrow());
        }
        out.push(Hint {
            line: le.line,
            label,
            tooltip: tooltip(a, &s),
            value: s.last(),
        });
    }
    out
}

/// One line: the value, its share and the growth across the snapshots.
fn tooltip(a: &Annotations, s: &EvidenceSummary) -> String {
    let unit = a.unit();
    let total = a.total();
    let mut t = format!(
        "heapspot: {} {} ({} of total)",
        format_value(s.last(), unit),
        s.sample_type,
        percent(s.last(), total)
    );
    let n = s.series.len();
    if n >= 2 {
        let first = s.series.first().copied().unwrap_or(0);
        t.push_str(&format!(
            ", {} per snapshot across {n} snapshots ({} → {})",
            super::signed(s.growth_per_snapshot, unit),
            format_value(first, unit),
            format_value(s.last(), unit)
        ));
        if a.grows(s) {
            t.push_str(", growing steadily");
        }
    } else {
        t.push_str(", one snapshot (no trend)");
    }
    t
}
