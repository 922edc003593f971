//! The machine-readable `check` report.

use std::io::{self, Write};

use serde::Serialize;

use super::CheckReport;
use crate::findings::Finding;

#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    time_nanos: i64,
}

#[derive(Serialize)]
struct Stale<'a> {
    function: &'a str,
    recorded_file: &'a str,
    recorded_line: i64,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: String,
    line: u32,
    end_line: u32,
    docs: String,
    fixes: Vec<&'a str>,
    #[serde(flatten)]
    finding: &'a Finding,
}

#[derive(Serialize)]
struct Report<'a> {
    workspace: String,
    heap_snapshots: Vec<Snapshot<'a>>,
    goroutine_snapshots: Vec<Snapshot<'a>>,
    baseline: Option<&'a str>,
    errors: usize,
    warnings: usize,
    infos: usize,
    findings: Vec<JsonFinding<'a>>,
    stale: Vec<Stale<'a>>,
}

pub fn write(r: &CheckReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    fn snaps(e: Option<&crate::evidence::Evidence>) -> Vec<Snapshot<'_>> {
        e.map(|e| {
            e.snapshots
                .iter()
                .map(|s| Snapshot {
                    name: &s.name,
                    time_nanos: s.time_nanos,
                })
                .collect()
        })
        .unwrap_or_default()
    }
    let (errors, warnings, infos) = r.counts();
    let report = Report {
        workspace: r.root.display().to_string(),
        heap_snapshots: snaps(r.heap),
        goroutine_snapshots: snaps(r.goroutines),
        baseline: r
            .base
            .and_then(|b| b.snapshots.first())
            .map(|s| s.name.as_str()),
        errors,
        warnings,
        infos,
        findings: r
            .findings
            .iter()
            .map(|f| JsonFinding {
                file: r.rel(&f.location.file),
                line: f.location.span.start_line,
                end_line: f.location.span.end_line,
                docs: super::docs_url(&f.rule),
                fixes: f.fixes.iter().map(|x| x.title.as_str()).collect(),
                finding: f,
            })
            .collect(),
        stale: r
            .stale()
            .map(|s| Stale {
                function: &s.function,
                recorded_file: &s.recorded_file,
                recorded_line: s.recorded_line,
                reason: &s.reason,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
