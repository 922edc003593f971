//! Test support for the source index: a fixture text holding several files by path (lines
//! `-- go.mod --`, `-- cache/store.go --` followed by the content, like Go's txtar format)
//! is written to a temporary directory and loaded, and the workspace is rendered as a
//! compact text dump for `expect-test` snapshots.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::Expect;

use super::index::{LoadOptions, Workspace};
use super::model::{FileSummary, FunctionKind, OpKind};

/// A temporary directory removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("heapspot-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Splits a fixture into `(path, content)` pairs. Text before the first marker is a
/// comment.
pub(crate) fn parse_fixture(text: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if let Some(name) = trimmed
            .strip_prefix("-- ")
            .and_then(|r| r.strip_suffix(" --"))
        {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, content)) = files.last_mut() {
            content.push_str(line);
        }
    }
    files
}

/// Writes the fixture's files under a new temporary directory.
pub(crate) fn write_fixture(text: &str) -> TempDir {
    let dir = TempDir::new("fixture");
    for (name, content) in parse_fixture(text) {
        let path = dir.path.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
    }
    dir
}

/// Writes and loads a fixture.
pub(crate) fn load(text: &str, options: &LoadOptions) -> (TempDir, Workspace) {
    let dir = write_fixture(text);
    let ws = Workspace::load_with(&dir.path, options).unwrap();
    (dir, ws)
}

fn rel(ws: &Workspace, path: &Path) -> String {
    path.strip_prefix(ws.root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Renders the modules and every file of a workspace.
pub(crate) fn dump(ws: &Workspace) -> String {
    let mut out = String::new();
    for m in ws.modules() {
        let dir = rel(ws, &m.dir);
        let dir = if dir.is_empty() { "." } else { &dir };
        let go = m
            .go_version
            .as_deref()
            .map(|v| format!(" go {v}"))
            .unwrap_or_default();
        let _ = writeln!(out, "module {} at {dir}{go}", m.path);
    }
    for f in ws.files() {
        out.push_str(&dump_file(ws, &f));
    }
    out
}

/// Renders one file summary.
pub(crate) fn dump_file(ws: &Workspace, f: &FileSummary) -> String {
    let mut out = String::new();
    let mut flags = Vec::new();
    if f.is_test {
        flags.push("test");
    }
    if f.is_vendor {
        flags.push("vendor");
    }
    if f.is_generated {
        flags.push("generated");
    }
    if f.has_errors {
        flags.push("errors");
    }
    if ws.is_in_build(&f.path) == Some(false) {
        flags.push("not-in-build");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(" "))
    };
    let _ = writeln!(
        out,
        "{}: package {} ({}){}",
        rel(ws, &f.path),
        f.package,
        f.import_path,
        flags
    );
    let fname = |i: Option<usize>| -> String {
        i.and_then(|i| f.functions.get(i))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "-".to_string())
    };
    for func in &f.functions {
        let kind = match func.kind {
            FunctionKind::Func => "func",
            FunctionKind::Method => "method",
            FunctionKind::Closure => "closure",
        };
        let parent = match func.parent {
            Some(p) => format!(" in {}", fname(Some(p))),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {kind} {} {}-{} body {}-{}{parent}",
            func.name,
            func.span.start_line,
            func.span.end_line,
            func.body.start_line,
            func.body.end_line
        );
    }
    for d in &f.decls {
        let kind = match d.kind {
            super::model::DeclKind::Var => "var",
            super::model::DeclKind::Const => "const",
        };
        let ty = d
            .type_text
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        let value = d
            .value_text
            .as_deref()
            .map(|v| format!(" = {}", v.replace('\n', "⏎")))
            .unwrap_or_default();
        let _ = writeln!(out, "  {kind} {}{ty}{value} @{}", d.name, d.span.start_line);
    }
    for s in &f.structs {
        let fields: Vec<String> = s
            .fields
            .iter()
            .map(|fl| format!("{} {}", fl.name, fl.type_text))
            .collect();
        let fields = if fields.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", fields.join("; "))
        };
        let _ = writeln!(
            out,
            "  struct {} @{}-{} {fields}",
            s.name, s.span.start_line, s.span.end_line
        );
    }
    for op in &f.ops {
        let kind = match op.kind {
            OpKind::IndexWrite => "index-write",
            OpKind::Append => "append",
            OpKind::Delete => "delete",
            OpKind::Clear => "clear",
            OpKind::Assign => "assign",
            OpKind::Call => "call",
        };
        let _ = writeln!(
            out,
            "  {kind} {} @{} in {}",
            op.target,
            op.span.start_line,
            fname(op.function)
        );
    }
    out
}

/// Loads `fixture` (linux/amd64, vendor skipped) and compares the dump with `expect`.
pub(crate) fn check(fixture: &str, expect: Expect) {
    let options = LoadOptions {
        build: super::constraint::BuildContext::new("linux", "amd64"),
        ..LoadOptions::default()
    };
    let (_dir, ws) = load(fixture, &options);
    expect.assert_eq(&dump(&ws));
}
