//! `heapspot top` and `heapspot diff`: sites ordered as pprof's `-top` orders them.

use std::io::Write;

use serde::Serialize;

use super::{
    granularity, load_merged, load_with_base, pct, take_n, CliError, DiffArgs, Format, TopArgs,
};
use crate::profile::units::{format_in, format_value, percent, report_unit};
use crate::profile::{Aggregate, Granularity, Site, ValueType};

#[derive(Serialize)]
struct TopRow<'a> {
    function: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<i64>,
    flat: i64,
    flat_percent: f64,
    sum_percent: f64,
    cum: i64,
    cum_percent: f64,
}

#[derive(Serialize)]
struct TopReport<'a> {
    profiles: &'a [String],
    base: Option<&'a [String]>,
    sample_type: &'a ValueType,
    granularity: &'static str,
    sort: &'static str,
    total: i64,
    /// Sites with a non-zero value, before `-n` applies.
    site_count: usize,
    rows: Vec<TopRow<'a>>,
}

fn gran_name(g: Granularity) -> &'static str {
    match g {
        Granularity::Functions => "functions",
        Granularity::Lines => "lines",
    }
}

pub(super) fn run_top(a: &TopArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let limits = a.common.limits();
    let (agg, base) = load_with_base(&a.profiles, &a.base, limits)?;
    let idx = agg.sample_index(a.common.sample_index.as_deref())?;
    let g = granularity(a.lines);
    let all = agg.top(g, idx, a.cum);
    let site_count = all.len();
    let rows = take_n(all, a.n);
    let total = agg.total[idx];
    let st = &agg.sample_types[idx];
    match a.common.format {
        Format::Json => {
            let mut sum = 0i64;
            let report = TopReport {
                profiles: &agg.sources,
                base: base.as_ref().map(|b| b.sources.as_slice()),
                sample_type: st,
                granularity: gran_name(g),
                sort: if a.cum { "cum" } else { "flat" },
                total,
                site_count,
                rows: rows
                    .iter()
                    .map(|s| {
                        sum += s.flat[idx];
                        TopRow {
                            function: &s.key.function,
                            file: &s.key.file,
                            line: (g == Granularity::Lines).then_some(s.key.line),
                            flat: s.flat[idx],
                            flat_percent: pct(s.flat[idx], total),
                            sum_percent: pct(sum, total),
                            cum: s.cum[idx],
                            cum_percent: pct(s.cum[idx], total),
                        }
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Text => {
            header(out, &agg, st)?;
            if let Some(b) = &base {
                writeln!(out, "Base: {}", b.sources.join(", "))?;
            }
            let shown: i64 = rows.iter().map(|s| s.flat[idx]).sum();
            writeln!(
                out,
                "Showing {} of {} {}, accounting for {}, {} of {} total",
                rows.len(),
                site_count,
                if g == Granularity::Lines {
                    "lines"
                } else {
                    "functions"
                },
                format_value(shown, &st.unit),
                percent(shown, total),
                format_value(total, &st.unit)
            )?;
            write_rows(out, &rows, idx, total, &st.unit, g == Granularity::Lines)?;
        }
    }
    Ok(())
}

/// The `File/Type/Time` header pprof prints above a report.
pub(super) fn header(out: &mut dyn Write, agg: &Aggregate, st: &ValueType) -> std::io::Result<()> {
    writeln!(out, "Profile: {}", agg.sources.join(", "))?;
    writeln!(out, "Type: {}", st.ty)?;
    if agg.time_nanos != 0 {
        writeln!(out, "Time: {}", format_time(agg.time_nanos))?;
    }
    Ok(())
}

fn write_rows(
    out: &mut dyn Write,
    rows: &[&Site],
    idx: usize,
    total: i64,
    unit: &str,
    lines: bool,
) -> std::io::Result<()> {
    writeln!(out, "      flat  flat%   sum%        cum   cum%")?;
    let shown = rows.iter().map(|s| {
        if s.flat[idx] != 0 {
            s.flat[idx]
        } else {
            s.cum[idx]
        }
    });
    let ou = report_unit(shown, total, unit);
    let mut sum = 0i64;
    for s in rows {
        sum += s.flat[idx];
        writeln!(
            out,
            "{:>10} {:>6} {:>6} {:>10} {:>6}  {}{}",
            format_in(s.flat[idx], unit, ou),
            percent(s.flat[idx], total),
            percent(sum, total),
            format_in(s.cum[idx], unit, ou),
            percent(s.cum[idx], total),
            s.key.printable(lines),
            s.inline_label(idx)
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct DiffRow<'a> {
    function: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<i64>,
    flat: i64,
    cum: i64,
    base_flat: i64,
    new_flat: i64,
    base_cum: i64,
    new_cum: i64,
}

#[derive(Serialize)]
struct DiffReport<'a> {
    base: &'a [String],
    new: &'a [String],
    sample_type: &'a ValueType,
    granularity: &'static str,
    sort: &'static str,
    base_total: i64,
    new_total: i64,
    site_count: usize,
    rows: Vec<DiffRow<'a>>,
}

pub(super) fn run_diff(a: &DiffArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let limits = a.common.limits();
    let base = load_merged(std::slice::from_ref(&a.base), limits)?;
    let new = load_merged(std::slice::from_ref(&a.new), limits)?;
    let delta = new.diff(&base)?;
    let idx = delta.sample_index(a.common.sample_index.as_deref())?;
    let g = granularity(a.lines);
    let all = delta.top(g, idx, a.cum);
    let site_count = all.len();
    let rows = take_n(all, a.n);
    let st = &delta.sample_types[idx];
    let side = |agg: &Aggregate, s: &Site| {
        agg.table(g)
            .get(&s.key)
            .map_or((0, 0), |x| (x.flat[idx], x.cum[idx]))
    };
    match a.common.format {
        Format::Json => {
            let report = DiffReport {
                base: &base.sources,
                new: &new.sources,
                sample_type: st,
                granularity: gran_name(g),
                sort: if a.cum { "cum" } else { "flat" },
                base_total: base.total[idx],
                new_total: new.total[idx],
                site_count,
                rows: rows
                    .iter()
                    .map(|s| {
                        let (bf, bc) = side(&base, s);
                        let (nf, nc) = side(&new, s);
                        DiffRow {
                            function: &s.key.function,
                            file: &s.key.file,
                            line: (g == Granularity::Lines).then_some(s.key.line),
                            flat: s.flat[idx],
                            cum: s.cum[idx],
                            base_flat: bf,
                            new_flat: nf,
                            base_cum: bc,
                            new_cum: nc,
                        }
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Text => {
            let u = &st.unit;
            writeln!(out, "Base: {}", base.sources.join(", "))?;
            writeln!(out, "New:  {}", new.sources.join(", "))?;
            writeln!(out, "Type: {}", st.ty)?;
            writeln!(
                out,
                "Total: {} -> {} ({:+})",
                format_value(base.total[idx], u),
                format_value(new.total[idx], u),
                Signed(format_value(new.total[idx] - base.total[idx], u))
            )?;
            writeln!(
                out,
                "Showing {} of {} changed {}",
                rows.len(),
                site_count,
                if g == Granularity::Lines {
                    "lines"
                } else {
                    "functions"
                }
            )?;
            writeln!(
                out,
                "{:>10} {:>10} {:>10} {:>10}  name",
                "flat Δ", "base flat", "new flat", "cum Δ"
            )?;
            for s in &rows {
                let (bf, _) = side(&base, s);
                let (nf, _) = side(&new, s);
                writeln!(
                    out,
                    "{:>10} {:>10} {:>10} {:>10}  {}",
                    Signed(format_value(s.flat[idx], u)).to_string(),
                    format_value(bf, u),
                    format_value(nf, u),
                    Signed(format_value(s.cum[idx], u)).to_string(),
                    s.key.printable(g == Granularity::Lines)
                )?;
            }
        }
    }
    Ok(())
}

/// Shows a formatted value with an explicit `+` when positive.
struct Signed(String);

impl std::fmt::Display for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.starts_with('-') || self.0 == "0" {
            f.pad(&self.0)
        } else {
            f.pad(&format!("+{}", self.0))
        }
    }
}

/// Formats Unix nanoseconds as a UTC date and time.
pub(super) fn format_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_time() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            super::format_time(1_795_824_000_000_000_000),
            "2026-11-28 00:00:00 UTC"
        );
    }
}
