//! Hover markdown for a line with evidence or a finding: the findings that concern the
//! line (their rule ids linked to the rule docs), every sample type's value in the last
//! snapshot with its share, the trend of the selected type with a sparkline and the
//! growth per snapshot, the baseline delta, and the largest call paths into the line
//! (outermost frame first, the line's function last).

use std::fmt::Write as _;
use std::path::Path;

use super::{direction, line_location, signed, Annotations, CallPaths, Direction};
use crate::findings::Finding;
use crate::profile::units::{format_value, percent};

/// How many call paths a hover shows.
pub const HOVER_PATHS: usize = 3;
/// The headline names at most this many functions of the line.
const HEADLINE_FUNCTIONS: usize = 3;
/// Paths with more frames show the first [`HEAD_FRAMES`] and the last [`TAIL_FRAMES`].
const HEAD_FRAMES: usize = 2;
const TAIL_FRAMES: usize = 5;

/// Markdown for a hover on `line` of `path`; `None` when the line has neither evidence nor
/// a finding.
pub fn hover(a: &Annotations, paths: Option<&CallPaths>, path: &Path, line: u32) -> Option<String> {
    let findings = findings_at(a, path, line);
    let le = a
        .evidence
        .line(path, line)
        .filter(|le| le.values.iter().any(|v| v.iter().any(|&x| x != 0)));
    if findings.is_empty() && le.is_none() {
        return None;
    }
    let mut md = String::new();
    let view = a.view();
    let unit = a.unit();
    let summary = match (&view, le) {
        (Some(v), Some(_)) => Some(v.summarize(&[line_location(path, line)])),
        _ => None,
    };

    // Headline.
    if let (Some(s), Some(le)) = (&summary, le) {
        let _ = write!(
            md,
            "**heapspot** · {} {} here ({} of total)",
            format_value(s.last(), unit),
            s.sample_type,
            percent(s.last(), a.total())
        );
        if !le.functions.is_empty() {
            let mut names: Vec<String> = le
                .functions
                .iter()
                .take(HEADLINE_FUNCTIONS)
                .map(|f| format!("`{}`", short_name(f)))
                .collect();
            if le.functions.len() > HEADLINE_FUNCTIONS {
                names.push(format!("{} more", le.functions.len() - HEADLINE_FUNCTIONS));
            }
            let _ = write!(md, " in {}", names.join(", "));
        }
        md.push_str("\n\n");
    } else {
        md.push_str("**heapspot**\n\n");
    }

    // Findings.
    for f in &findings {
        let _ = write!(
            md,
            "- **{}** [{}]({}): {}",
            f.severity.as_str(),
            f.rule,
            crate::report::docs_url(&f.rule),
            escape(&f.message)
        );
        if !f.location.lines().contains(&line) || f.location.file != path {
            let _ = write!(md, " (reported at {})", escape(&place(path, &f.location)));
        }
        md.push('\n');
    }
    if !findings.is_empty() {
        md.push('\n');
    }

    let Some(le) = le else {
        return Some(md.trim_end().to_string() + "\n");
    };

    // Every sample type in the last snapshot.
    if let (Some(last), Some(snap)) = (le.values.last(), a.evidence.snapshots.last()) {
        md.push_str("| sample type | last snapshot | share of total |\n|---|---:|---:|\n");
        for (t, ty) in a.evidence.sample_types.iter().enumerate() {
            let v = last.get(t).copied().unwrap_or(0);
            let total = snap.total.get(t).copied().unwrap_or(0);
            let mark = if t == a.sample { " (shown)" } else { "" };
            let _ = writeln!(
                md,
                "| {}{mark} | {} | {} |",
                ty.ty,
                format_value(v, &ty.unit),
                percent(v, total)
            );
        }
        md.push('\n');
    }

    // Trend of the selected type.
    if let Some(s) = &summary {
        let n = s.series.len();
        if n >= 2 {
            let values: Vec<String> = s.series.iter().map(|&v| format_value(v, unit)).collect();
            let _ = writeln!(
                md,
                "**Trend** ({}, {n} snapshots): `{}` {}  ",
                s.sample_type,
                sparkline(&s.series),
                values.join(" → ")
            );
            let steps: Vec<String> = s
                .series
                .windows(2)
                .map(|w| signed((w[1] - w[0]) as f64, unit))
                .collect();
            let verdict = if a.grows(s) {
                "steady growth, a leak by the thresholds"
            } else {
                match direction(s) {
                    Some(Direction::Up) => "growing, below the thresholds of a steady leak",
                    Some(Direction::Down) => "shrinking",
                    _ => "flat",
                }
            };
            let per_minute = s
                .growth_per_minute
                .map(|pm| format!(", {}/minute", signed(pm, unit)))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "per snapshot: {}; fitted {}/snapshot{per_minute} (r² {:.2}, {}/{} steps up): {verdict}",
                steps.join(", "),
                signed(s.growth_per_snapshot, unit),
                s.r_squared,
                s.rising_steps,
                s.steps
            );
            md.push('\n');
        } else {
            md.push_str("One snapshot: no trend yet.\n\n");
        }

        // Baseline.
        if let Some(base) = a.base {
            let ty = &s.sample_type;
            let before = base.type_index(ty).map_or(0, |t| {
                base.line(path, line)
                    .and_then(|b| b.values.last().map(|v| v[t]))
                    .unwrap_or(0)
            });
            let delta = s.last() - before;
            let pct = if before != 0 {
                format!(", {:+.0}%", delta as f64 / before as f64 * 100.0)
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "**Baseline**: {} → {} ({}{pct})\n",
                format_value(before, unit),
                format_value(s.last(), unit),
                signed(delta as f64, unit)
            );
        }
    }

    // Call paths.
    if let Some(p) = paths {
        let top = p.top(path, line, HOVER_PATHS);
        if !top.is_empty() {
            let total = p.line_total(path, line);
            let (ty, punit) = p
                .sample_type()
                .map_or(("", ""), |t| (t.ty.as_str(), t.unit.as_str()));
            let _ = writeln!(
                md,
                "**Top call paths** ({ty}, latest snapshot, outermost first):"
            );
            for (i, cp) in top.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "{}. {} ({} of the line): {}",
                    i + 1,
                    format_value(cp.value, punit),
                    percent(cp.value, total),
                    render_frames(&cp.frames)
                );
            }
        }
    }
    Some(md.trim_end().to_string() + "\n")
}

/// The findings about a line: reported there, declared there, or with the line among
/// their evidence.
fn findings_at<'a>(a: &Annotations<'a>, path: &Path, line: u32) -> Vec<&'a Finding> {
    a.findings
        .iter()
        .filter(|f| {
            let at = |l: &crate::rules::Location| l.file == path && l.lines().contains(&line);
            at(&f.location)
                || f.declaration.as_ref().is_some_and(at)
                || f.evidence
                    .as_ref()
                    .is_some_and(|e| e.sites.iter().any(|(l, _)| at(l)))
        })
        .collect()
}

/// `line 49` in the same file, `store.go:33` in another.
fn place(here: &Path, loc: &crate::rules::Location) -> String {
    if loc.file == here {
        format!("line {}", loc.span.start_line)
    } else {
        let name = loc.file.file_name().map_or_else(
            || loc.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{name}:{}", loc.span.start_line)
    }
}

/// `▁▃▅█`: each value scaled between the series' smallest (▁) and largest (█); a flat
/// series is all ▄ (all ▁ when zero).
pub fn sparkline(series: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (Some(&min), Some(&max)) = (series.iter().min(), series.iter().max()) else {
        return String::new();
    };
    if min == max {
        let c = if max == 0 { BARS[0] } else { BARS[3] };
        return series.iter().map(|_| c).collect();
    }
    let range = (max - min) as f64;
    series
        .iter()
        .map(|&v| {
            let k = ((v - min) as f64 / range * 7.0).round() as usize;
            BARS[k.min(7)]
        })
        .collect()
}

/// A function's name with its import path cut to the last element, as pprof's short
/// forms read: `example.com/shopsvc/cache.Touch` -> `cache.Touch`.
pub fn short_name(name: &str) -> String {
    let (import_path, symbol) = crate::mapping::split_symbol(name);
    if import_path.is_empty() {
        return name.to_string();
    }
    let pkg = import_path.rsplit('/').next().unwrap_or(&import_path);
    format!("{pkg}.{symbol}")
}

/// Frames as `` `a` → `b` → `c` ``, long paths shortened in the middle.
fn render_frames(frames: &[std::sync::Arc<str>]) -> String {
    let names: Vec<String> = frames
        .iter()
        .map(|f| format!("`{}`", short_name(f)))
        .collect();
    if names.len() > HEAD_FRAMES + TAIL_FRAMES + 1 {
        let hidden = names.len() - HEAD_FRAMES - TAIL_FRAMES;
        let mut v: Vec<String> = names[..HEAD_FRAMES].to_vec();
        v.push(format!("… {hidden} more …"));
        v.extend_from_slice(&names[names.len() - TAIL_FRAMES..]);
        v.join(" → ")
    } else {
        names.join(" → ")
    }
}

/// Escapes the characters markdown would read as formatting.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>|#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
