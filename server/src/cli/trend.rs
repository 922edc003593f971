//! `heapspot trend`: per-site growth over snapshots, steadiest growth first.

use std::io::Write;

use super::{take_n, CliError, Format, TrendArgs};
use crate::profile::units::format_value;
use crate::profile::{self, trend, Granularity};

/// Eight-level bars for a compact series.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of a series scaled between its minimum and maximum.
pub fn sparkline(series: &[i64]) -> String {
    let (Some(&min), Some(&max)) = (series.iter().min(), series.iter().max()) else {
        return String::new();
    };
    series
        .iter()
        .map(|&v| {
            if max == min {
                BARS[0]
            } else {
                let i = ((v - min) as f64 / (max - min) as f64 * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

pub(super) fn run(a: &TrendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let limits = a.common.limits();
    let snaps = a
        .profiles
        .iter()
        .map(|p| profile::load_aggregate(p, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let idx = snaps[0].sample_index(a.common.sample_index.as_deref())?;
    let g = if a.functions {
        Granularity::Functions
    } else {
        Granularity::Lines
    };
    let mut t = trend(&snaps, g, idx)?;
    t.sites.sort_by(|x, y| {
        y.growth_per_snapshot
            .total_cmp(&x.growth_per_snapshot)
            .then_with(|| x.key.cmp(&y.key))
    });
    t.sites = take_n(std::mem::take(&mut t.sites), a.n);
    match a.common.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &t)?;
            writeln!(out)?;
        }
        Format::Text => {
            let u = &t.sample_type.unit;
            writeln!(out, "Type: {}", t.sample_type.ty)?;
            writeln!(out, "Snapshots (in time order):")?;
            for (s, &time) in t.sources.iter().zip(&t.times) {
                let when = if time == 0 {
                    "no time".to_string()
                } else {
                    super::top::format_time(time)
                };
                writeln!(out, "  {s}  ({when})")?;
            }
            writeln!(
                out,
                "{:>11} {:>11} {:>5} {:>6} {:>10}  {:<8}  site",
                "growth/snap", "growth/min", "r²", "rising", "last", "trend"
            )?;
            for s in &t.sites {
                let per_min = s
                    .growth_per_minute
                    .map_or("-".to_string(), |m| format_value(m.round() as i64, u));
                writeln!(
                    out,
                    "{:>11} {:>11} {:>5.2} {:>6} {:>10}  {:<8}  {}",
                    format_value(s.growth_per_snapshot.round() as i64, u),
                    per_min,
                    s.r_squared,
                    format!("{}/{}", s.rising_steps, s.steps),
                    format_value(*s.series.last().unwrap_or(&0), u),
                    sparkline(&s.series),
                    s.key.printable(g == Granularity::Lines)
                )?;
            }
        }
    }
    Ok(())
}
