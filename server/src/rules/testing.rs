//! The data-driven harness every rule's tests use: a fixture workspace written as text
//! (`-- path --` headers, as Go's txtar), the rule run over all of its packages, and the
//! matches rendered compactly for an `expect-test` snapshot.

// Each rule's tests use a different subset of these helpers.
#![allow(dead_code)]

use std::fmt::Write as _;

use expect_test::Expect;

use super::{Match, Rule};
use crate::source::fixture::load;
use crate::source::index::LoadOptions;

/// Runs `rule` over the fixture and renders its matches; `go.mod` is added when the
/// fixture has none (module `example.com/app`, `go 1.22`).
pub(crate) fn render(rule: &dyn Rule, fixture: &str) -> String {
    let fixture = if fixture.contains("-- go.mod --") {
        fixture.to_string()
    } else {
        format!("-- go.mod --\nmodule example.com/app\n\ngo 1.22\n{fixture}")
    };
    let (dir, ws) = load(&fixture, &LoadOptions::default());
    let matches = super::run(&ws, &|id| id == rule.meta().id, &[]);
    let mut out = String::new();
    for m in &matches {
        render_match(&mut out, m, &dir.path);
    }
    if out.is_empty() {
        out.push_str("no matches\n");
    }
    out
}

fn render_match(out: &mut String, m: &Match, root: &std::path::Path) {
    let rel = |p: &std::path::Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let _ = writeln!(
        out,
        "{}:{} {} [{}] {}",
        rel(&m.location.file),
        m.location.span.start_line,
        m.rule,
        m.subject,
        m.message
    );
    if let Some(d) = &m.declaration {
        let _ = writeln!(out, "  declared {}:{}", rel(&d.file), d.span.start_line);
    }
    for r in &m.related {
        let _ = writeln!(
            out,
            "  related {}:{} {}",
            rel(&r.location.file),
            r.location.span.start_line,
            r.message
        );
    }
    if !m.evidence.is_empty() {
        let ev: Vec<String> = m
            .evidence
            .iter()
            .map(|l| {
                if l.span.start_line == l.span.end_line {
                    format!("{}:{}", rel(&l.file), l.span.start_line)
                } else {
                    format!("{}:{}-{}", rel(&l.file), l.span.start_line, l.span.end_line)
                }
            })
            .collect();
        let _ = writeln!(out, "  evidence {}", ev.join(" "));
    }
    if m.needs_growth {
        out.push_str("  reported only when the profiles show growth\n");
    }
    if let Some(n) = &m.version_note {
        let _ = writeln!(out, "  version: {n}");
    }
    for f in &m.fixes {
        let _ = writeln!(out, "  fix: {}", f.title);
    }
}

/// Checks a rule's matches on a fixture against a snapshot.
pub(crate) fn check(rule: &dyn Rule, fixture: &str, expect: Expect) {
    expect.assert_eq(&render(rule, fixture));
}

/// Applies a match's first fix to the fixture and returns the edited file's text, so fix
/// tests can snapshot the result (and, with Go installed, compile it).
pub(crate) fn apply_first_fix(rule: &dyn Rule, fixture: &str, file: &str) -> String {
    let fixture = if fixture.contains("-- go.mod --") {
        fixture.to_string()
    } else {
        format!("-- go.mod --\nmodule example.com/app\n\ngo 1.22\n{fixture}")
    };
    let (dir, ws) = load(&fixture, &LoadOptions::default());
    let matches = super::run(&ws, &|id| id == rule.meta().id, &[]);
    let path = dir.path.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let fix = matches
        .iter()
        .flat_map(|m| m.fixes.first())
        .next()
        .expect("a fix");
    let mut edits: Vec<_> = fix.edits.iter().filter(|e| e.file == path).collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.start_byte));
    for e in edits {
        text.replace_range(e.start_byte..e.end_byte, &e.new_text);
    }
    text
}
