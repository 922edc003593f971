//! `heapspot list`: per-line annotated source of the functions matching a regex, with the
//! same per-line flat and cumulative values as `go tool pprof -list`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use regex::Regex;
use serde::Serialize;

use super::top::header;
use super::{load_with_base, CliError, Format, ListArgs, EXIT_USAGE};
use crate::profile::units::{format_value, percent};
use crate::profile::Site;
use crate::source::locate::locate;

/// Lines shown before the first and after the last line with samples.
const MARGIN: i64 = 5;

#[derive(Serialize)]
struct ListLine {
    line: i64,
    flat: i64,
    cum: i64,
    /// The source text, when the file was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Serialize)]
struct Routine {
    function: String,
    file: String,
    /// The local file the source was read from, if found.
    source: Option<PathBuf>,
    flat: i64,
    cum: i64,
    lines: Vec<ListLine>,
}

#[derive(Serialize)]
struct ListReport<'a> {
    profiles: &'a [String],
    sample_type: &'a crate::profile::ValueType,
    total: i64,
    routines: Vec<Routine>,
}

pub(super) fn run(a: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let re = Regex::new(&a.regex).map_err(|e| CliError {
        message: format!("invalid regular expression {:?}: {e}", a.regex),
        code: EXIT_USAGE,
    })?;
    let (agg, _base) = load_with_base(&a.profiles, &a.base, a.common.limits())?;
    let idx = agg.sample_index(a.common.sample_index.as_deref())?;
    let st = &agg.sample_types[idx];
    let total = agg.total[idx];

    // Group the line sites of matching functions by (function, file).
    let mut groups: BTreeMap<(&str, &str), Vec<&Site>> = BTreeMap::new();
    for s in agg.lines.sites() {
        if (s.flat[idx] != 0 || s.cum[idx] != 0) && re.is_match(&s.key.function) {
            groups
                .entry((&s.key.function, &s.key.file))
                .or_default()
                .push(s);
        }
    }
    if groups.is_empty() {
        return Err(CliError {
            message: format!(
                "{}: no function matches {:?} with samples of {}",
                agg.sources.join(", "),
                a.regex,
                st.ty
            ),
            code: EXIT_USAGE,
        });
    }

    let mut routines = Vec::new();
    for ((function, file), sites) in groups {
        let flat = sites.iter().map(|s| s.flat[idx]).sum();
        let cum = sites.iter().map(|s| s.cum[idx]).sum();
        let by_line: BTreeMap<i64, (i64, i64)> = sites.iter().fold(BTreeMap::new(), |mut m, s| {
            let e = m.entry(s.key.line).or_insert((0, 0));
            e.0 += s.flat[idx];
            e.1 += s.cum[idx];
            m
        });
        let first = *by_line.keys().next().unwrap_or(&1);
        let last = *by_line.keys().next_back().unwrap_or(&1);
        let start_line = sites.iter().map(|s| s.start_line).find(|&l| l > 0);
        let start = start_line
            .filter(|&l| l <= first)
            .unwrap_or(first - MARGIN)
            .max(1);
        let end = last + MARGIN;
        let source = if file.is_empty() {
            None
        } else {
            locate(file, a.source_root.as_deref())
        };
        let text = source
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let src_lines: Option<Vec<&str>> = text.as_ref().map(|t| t.lines().collect());
        let mut lines = Vec::new();
        match &src_lines {
            Some(src) => {
                let end = end.min(src.len() as i64);
                for n in start..=end {
                    let (f, c) = by_line.get(&n).copied().unwrap_or((0, 0));
                    lines.push(ListLine {
                        line: n,
                        flat: f,
                        cum: c,
                        text: Some(src[(n - 1) as usize].to_string()),
                    });
                }
                // Lines past the end of the local file mean it is not the profiled one.
                for (&n, &(f, c)) in by_line.range(end + 1..) {
                    lines.push(ListLine {
                        line: n,
                        flat: f,
                        cum: c,
                        text: None,
                    });
                }
            }
            None => {
                for (&n, &(f, c)) in &by_line {
                    lines.push(ListLine {
                        line: n,
                        flat: f,
                        cum: c,
                        text: None,
                    });
                }
            }
        }
        routines.push(Routine {
            function: function.to_string(),
            file: file.to_string(),
            source,
            flat,
            cum,
            lines,
        });
    }

    match a.common.format {
        Format::Json => {
            let report = ListReport {
                profiles: &agg.sources,
                sample_type: st,
                total,
                routines,
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Text => {
            header(out, &agg, st)?;
            let u = &st.unit;
            writeln!(out, "Total: {}", format_value(total, u))?;
            for r in &routines {
                writeln!(
                    out,
                    "ROUTINE ======================== {} in {}",
                    r.function, r.file
                )?;
                writeln!(
                    out,
                    "{:>10} {:>10} (flat, cum) {:>6} of Total",
                    format_value(r.flat, u),
                    format_value(r.cum, u),
                    percent(r.cum, total)
                )?;
                if r.source.is_none() {
                    writeln!(
                        out,
                        " Source not found for {} (use --source-root DIR)",
                        r.file
                    )?;
                }
                let dot = |v: i64| {
                    if v == 0 {
                        ".".to_string()
                    } else {
                        format_value(v, u)
                    }
                };
                for l in &r.lines {
                    writeln!(
                        out,
                        "{:>10} {:>10} {:>6}:{}",
                        dot(l.flat),
                        dot(l.cum),
                        l.line,
                        l.text.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
    }
    Ok(())
}
