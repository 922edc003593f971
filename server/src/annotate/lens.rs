//! Code lenses: one above each function, and each package-level declaration, whose held
//! memory is worth showing. A function's memory is the sum of the evidence lines whose
//! innermost enclosing function it is (a closure's lines count for the closure, not its
//! parent, so every line counts once). A declaration's memory is the union of the evidence
//! lines of the heap findings declared there (a package-level `var` or a struct field),
//! plus evidence inside a `var`'s own initializer outside any function.

use std::collections::BTreeMap;

use super::{line_location, title, Annotations};
use crate::findings::Finding;
use crate::rules::{EvidenceKind, Location};
use crate::source::model::{DeclKind, FileSummary, Function, Span};

/// A code lens: where it goes, what it is about and its title.
#[derive(Debug, Clone, PartialEq)]
pub struct Lens {
    /// The 1-based line of the function or declaration.
    pub line: u32,
    /// Where the function or declaration starts.
    pub start_byte: usize,
    /// The function's pprof name within its package (`Touch`, `(*Store).Put`), a
    /// package-level variable's name (`sessions`) or a struct field as `Store.items`.
    pub subject: String,
    /// `heapspot: 1.46MB in use (13%) ▲ +332.37kB/snapshot`.
    pub title: String,
    /// The held value of the selected sample type in the last snapshot.
    pub value: i64,
}

/// Lenses above the file's functions and declarations that hold memory worth showing, in
/// line order.
pub fn lenses(a: &Annotations, file: &FileSummary) -> Vec<Lens> {
    let Some(view) = a.view() else {
        return Vec::new();
    };
    let lines = a.lines_of(&file.path);
    let mut out = Vec::new();

    // Functions: each evidence line goes to its innermost function.
    let mut per_function: BTreeMap<usize, Vec<Location>> = BTreeMap::new();
    let mut outside: Vec<u32> = Vec::new();
    for le in &lines {
        match innermost_function(&file.functions, le.line) {
            Some(fi) => per_function
                .entry(fi)
                .or_default()
                .push(line_location(&file.path, le.line)),
            None => outside.push(le.line),
        }
    }
    for (fi, locs) in per_function {
        let f = &file.functions[fi];
        let s = view.summarize(&locs);
        if a.worth_showing(&s) {
            out.push(Lens {
                line: f.span.start_line,
                start_byte: f.span.start_byte,
                subject: f.name.clone(),
                title: title(a, &s),
                value: s.last(),
            });
        }
    }

    // Declarations: the heap findings declared in this file, grouped by what they name.
    let mut targets: BTreeMap<(Span, String), Vec<Location>> = BTreeMap::new();
    let heap_rules: Vec<&str> = crate::report::all_rule_meta()
        .iter()
        .filter(|m| m.evidence == EvidenceKind::Heap)
        .map(|m| m.id)
        .collect();
    let known: Vec<&str> = crate::report::all_rule_meta()
        .iter()
        .map(|m| m.id)
        .collect();
    // A finding of an unknown rule is taken as heap evidence, as `findings` does.
    let is_heap =
        |f: &Finding| heap_rules.contains(&f.rule.as_str()) || !known.contains(&f.rule.as_str());
    for f in a.findings.iter().filter(|f| is_heap(f)) {
        let Some(d) = &f.declaration else { continue };
        if d.file != file.path {
            continue;
        }
        let Some(key) = target(file, d.span.start_line, &f.subject) else {
            continue;
        };
        let sites = f.evidence.iter().flat_map(|e| e.sites.iter());
        targets
            .entry(key)
            .or_default()
            .extend(sites.map(|(loc, _)| loc.clone()));
    }
    for d in file.decls.iter().filter(|d| d.kind == DeclKind::Var) {
        let inside: Vec<Location> = outside
            .iter()
            .filter(|&&l| d.span.start_line <= l && l <= d.span.end_line)
            .map(|&l| line_location(&file.path, l))
            .collect();
        if !inside.is_empty() {
            targets
                .entry((d.span, d.name.clone()))
                .or_default()
                .extend(inside);
        }
    }
    for ((span, subject), locs) in targets {
        // `summarize` counts each evidence line once, however many findings name it.
        let s = view.summarize(&locs);
        if a.worth_showing(&s) {
            out.push(Lens {
                line: span.start_line,
                start_byte: span.start_byte,
                subject,
                title: title(a, &s),
                value: s.last(),
            });
        }
    }

    out.sort_by(|x, y| (x.line, x.start_byte, &x.subject).cmp(&(y.line, y.start_byte, &y.subject)));
    out
}

/// The package-level `var` or struct field declared on `line`, preferring one named like
/// the finding's subject (`sessions`, or `Store.items` for a field).
pub(super) fn target(file: &FileSummary, line: u32, subject: &str) -> Option<(Span, String)> {
    let covers = |s: &Span| s.start_line <= line && line <= s.end_line;
    let vars: Vec<_> = file
        .decls
        .iter()
        .filter(|d| d.kind == DeclKind::Var && covers(&d.span))
        .collect();
    if let Some(d) = vars
        .iter()
        .find(|d| d.name == subject)
        .or_else(|| vars.first())
    {
        return Some((d.span, d.name.clone()));
    }
    let fields: Vec<(Span, String)> = file
        .structs
        .iter()
        .flat_map(|st| {
            st.fields
                .iter()
                .filter(|f| covers(&f.span))
                .map(move |f| (f.span, format!("{}.{}", st.name, f.name)))
        })
        .collect();
    fields
        .iter()
        .find(|(_, n)| n == subject)
        .or_else(|| fields.first())
        .cloned()
}

/// The innermost function whose span contains a line.
fn innermost_function(functions: &[Function], line: u32) -> Option<usize> {
    functions
        .iter()
        .enumerate()
        .filter(|(_, f)| f.span.start_line <= line && line <= f.span.end_line)
        .min_by_key(|(_, f)| (f.span.end_byte - f.span.start_byte, f.span.start_byte))
        .map(|(i, _)| i)
}
