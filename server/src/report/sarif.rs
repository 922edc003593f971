//! SARIF 2.1.0: the rule table with help, one result per finding with its location
//! relative to `%SRCROOT%`, related locations for the declaration and the evidence,
//! stable partial fingerprints, and the evidence numbers as result properties.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{docs_url, file_uri, CheckReport};
use crate::findings::{Finding, Severity};
use crate::profile::units::format_value;
use crate::rules::Location;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn physical(r: &CheckReport<'_>, l: &Location) -> Value {
    let mut region = json!({ "startLine": l.span.start_line.max(1) });
    if l.span.end_line > l.span.start_line {
        region["endLine"] = json!(l.span.end_line);
    }
    json!({
        "artifactLocation": { "uri": super::percent_encode(&r.rel(&l.file)), "uriBaseId": "%SRCROOT%" },
        "region": region,
    })
}

fn result(r: &CheckReport<'_>, f: &Finding, rule_index: Option<usize>) -> Value {
    let mut related = Vec::new();
    let mut id = 0;
    let mut push = |loc: &Location, msg: String| {
        id += 1;
        related.push(json!({
            "id": id,
            "physicalLocation": physical(r, loc),
            "message": { "text": msg },
        }));
    };
    if let Some(d) = &f.declaration {
        push(d, format!("{} is declared here", f.subject));
    }
    for rel in &f.related {
        push(&rel.location, rel.message.clone());
    }
    if let Some(ev) = &f.evidence {
        for (loc, v) in ev.sites.iter().filter(|(_, v)| *v != 0).take(10) {
            let what = if ev.sample_type == "goroutine" {
                format!("{v} goroutines blocked here")
            } else {
                format!("{} in use allocated here", format_value(*v, &ev.unit))
            };
            push(loc, what);
        }
    }
    let mut v = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": format!("{} ({})", f.message, f.reason) },
        "locations": [ { "physicalLocation": physical(r, &f.location) } ],
        "partialFingerprints": { "heapspotFinding/v1": f.fingerprint },
        "properties": {
            "subject": f.subject,
            "reason": f.reason,
        },
    });
    if let Some(i) = rule_index {
        v["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        v["relatedLocations"] = Value::Array(related);
    }
    if let Some(ev) = &f.evidence {
        v["properties"]["evidence"] = json!({
            "sampleType": ev.sample_type,
            "unit": ev.unit,
            "series": ev.series,
            "share": ev.share,
            "growthPerSnapshot": ev.growth_per_snapshot,
            "growthPerMinute": ev.growth_per_minute,
            "rSquared": ev.r_squared,
            "baseline": ev.baseline,
        });
    }
    v
}

pub fn write(r: &CheckReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = r
        .rules
        .iter()
        .map(|m| {
            let url = docs_url(m.id);
            json!({
                "id": m.id,
                "name": m.name.split(|c: char| !c.is_alphanumeric()).map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": { "text": m.name },
                "fullDescription": { "text": m.summary },
                "helpUri": url,
                "help": {
                    "text": format!("{} See {url}", m.summary),
                    "markdown": super::docs::rule_doc(m.id).map_or_else(
                        || format!("{}\n\n[Documentation]({url})", m.summary),
                        str::to_string,
                    ),
                },
                "properties": { "tags": ["memory", "leak", "go"] },
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| result(r, f, r.rules.iter().position(|m| m.id == f.rule)))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "heapspot",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": file_uri(r.root, true) } },
            "results": results,
            "columnKind": "utf16CodeUnits",
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
