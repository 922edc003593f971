//! The human-readable `check` report.

use std::io::{self, Write};

use super::{docs_url, CheckReport};
use crate::findings::Severity;

pub fn write(r: &CheckReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let (e, w, i) = r.counts();
    let snaps = |ev: Option<&crate::evidence::Evidence>| ev.map_or(0, |e| e.snapshots.len());
    writeln!(
        out,
        "heapspot check {}: {e} error(s), {w} warning(s), {i} info ({} heap snapshot(s), {} goroutine snapshot(s){})",
        r.root.display(),
        snaps(r.heap),
        snaps(r.goroutines),
        if r.base.is_some() { ", with a baseline" } else { "" }
    )?;
    for f in r.findings {
        writeln!(out)?;
        writeln!(
            out,
            "{}:{}: {}[{}] {}",
            r.rel(&f.location.file),
            f.location.span.start_line,
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
        writeln!(out, "    why: {}", f.reason)?;
        if let Some(d) = &f.declaration {
            writeln!(
                out,
                "    declared at {}:{}",
                r.rel(&d.file),
                d.span.start_line
            )?;
        }
        if let Some(ev) = &f.evidence {
            let sites: Vec<String> = ev
                .sites
                .iter()
                .filter(|(_, v)| *v != 0)
                .take(5)
                .map(|(l, v)| {
                    format!(
                        "{}:{} {}",
                        r.rel(&l.file),
                        l.span.start_line,
                        crate::profile::units::format_value(*v, &ev.unit)
                    )
                })
                .collect();
            if !sites.is_empty() {
                writeln!(out, "    evidence: {}", sites.join(", "))?;
            }
            if ev.series.len() > 1 {
                let s: Vec<String> = ev
                    .series
                    .iter()
                    .map(|v| crate::profile::units::format_value(*v, &ev.unit))
                    .collect();
                writeln!(out, "    across snapshots: {}", s.join(" -> "))?;
            }
        }
        for fix in &f.fixes {
            writeln!(out, "    fix available: {}", fix.title)?;
        }
        if f.severity >= Severity::Warning {
            writeln!(out, "    docs: {}", docs_url(&f.rule))?;
        }
    }
    let stale: Vec<_> = r.stale().collect();
    if !stale.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{} profile site(s) could not be placed on the current code:",
            stale.len()
        )?;
        for s in stale {
            writeln!(
                out,
                "  {} ({}:{}): {}",
                s.function, s.recorded_file, s.recorded_line, s.reason
            )?;
        }
    }
    Ok(())
}
