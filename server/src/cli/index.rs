//! `heapspot index [DIR]`: loads a Go workspace and reports its modules, what the index
//! holds (packages, files, functions, declarations, operations), the files with syntax
//! errors, and what the load cost in wall time; optionally it times a one-line edit of the
//! largest file, re-summarized from scratch and incrementally.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use super::{CliError, Format, EXIT_USAGE};
use crate::source::constraint::BuildContext;
use crate::source::index::{LoadOptions, Workspace};
use crate::source::model::{FunctionKind, OpKind};
use crate::source::parse;

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The workspace root (a directory with go.work or go.mod, or below one).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Index vendor directories too.
    #[arg(long)]
    pub vendor: bool,
    /// Target operating system for build constraints (default: $GOOS, else the host).
    #[arg(long, value_name = "GOOS")]
    pub goos: Option<String>,
    /// Target architecture for build constraints (default: $GOARCH, else the host).
    #[arg(long, value_name = "GOARCH")]
    pub goarch: Option<String>,
    /// Also time a one-line edit in the largest file: a full re-summarize, an incremental
    /// re-parse with re-summarize, and an unchanged update (the file is not written).
    #[arg(long)]
    pub edit_timing: bool,
    /// Time the edit in this file instead of the largest one (implies --edit-timing).
    #[arg(long, value_name = "FILE")]
    pub edit_file: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct ModuleRow {
    path: String,
    dir: String,
    go_version: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct OpCounts {
    index_write: usize,
    append: usize,
    delete: usize,
    clear: usize,
    assign: usize,
    call: usize,
}

#[derive(Debug, Serialize)]
struct EditTiming {
    file: String,
    lines: usize,
    /// `update_file` with the edited text: parse from scratch and summarize.
    full_resummarize_ms: f64,
    /// `OpenDocument::apply_edit`: incremental re-parse and summarize.
    incremental_edit_ms: f64,
    /// Summarizing the already parsed tree alone.
    summarize_only_ms: f64,
    /// `update_file` with the same text again (hash only, no parse).
    unchanged_update_ms: f64,
}

#[derive(Debug, Serialize)]
struct IndexReport {
    root: String,
    goos: String,
    goarch: String,
    modules: Vec<ModuleRow>,
    packages: usize,
    files: usize,
    test_files: usize,
    generated_files: usize,
    vendor_files: usize,
    files_outside_build: usize,
    /// Newline count over all files, like `wc -l`.
    lines: usize,
    bytes: u64,
    functions: usize,
    closures: usize,
    decls: usize,
    structs: usize,
    ops: usize,
    op_counts: OpCounts,
    files_with_errors: Vec<String>,
    warnings: Vec<String>,
    load_seconds: f64,
    threads: usize,
    /// Resident memory after the load and its peak so far, from /proc (Linux only).
    rss_after_load_kb: Option<u64>,
    peak_rss_kb: Option<u64>,
    edit: Option<EditTiming>,
}

/// A `kB` field of `/proc/self/status`, where there is one.
fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

pub(super) fn run(a: &IndexArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut build = BuildContext::default();
    if let Some(os) = &a.goos {
        build.goos = os.clone();
    }
    if let Some(arch) = &a.goarch {
        build.goarch = arch.clone();
    }
    let options = LoadOptions {
        include_vendor: a.vendor,
        build,
    };
    let started = Instant::now();
    let mut ws = Workspace::load_with(&a.dir, &options).map_err(|e| CliError {
        message: e.to_string(),
        code: EXIT_USAGE,
    })?;
    let load = started.elapsed();

    let root = ws.root().to_path_buf();
    let mut report = IndexReport {
        root: root.display().to_string(),
        goos: ws.build_context().goos.clone(),
        goarch: ws.build_context().goarch.clone(),
        modules: ws
            .modules()
            .iter()
            .map(|m| ModuleRow {
                path: m.path.clone(),
                dir: m.dir.display().to_string(),
                go_version: m.go_version.clone(),
            })
            .collect(),
        packages: ws.import_paths().count(),
        files: ws.file_count(),
        test_files: 0,
        generated_files: 0,
        vendor_files: 0,
        files_outside_build: 0,
        lines: 0,
        bytes: 0,
        functions: 0,
        closures: 0,
        decls: 0,
        structs: 0,
        ops: 0,
        op_counts: OpCounts::default(),
        files_with_errors: Vec::new(),
        warnings: ws.warnings().to_vec(),
        load_seconds: load.as_secs_f64(),
        threads: rayon::current_num_threads(),
        rss_after_load_kb: proc_status_kb("VmRSS:"),
        peak_rss_kb: proc_status_kb("VmHWM:"),
        edit: None,
    };
    let mut largest: Option<(usize, PathBuf)> = None;
    for f in ws.files() {
        report.test_files += usize::from(f.is_test);
        report.generated_files += usize::from(f.is_generated);
        report.vendor_files += usize::from(f.is_vendor);
        report.files_outside_build += usize::from(ws.is_in_build(&f.path) == Some(false));
        let bytes = std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
        report.bytes += bytes;
        let newlines = f.line_starts.len().saturating_sub(1);
        report.lines += newlines;
        if largest.as_ref().is_none_or(|(n, _)| newlines > *n) {
            largest = Some((newlines, f.path.clone()));
        }
        report.functions += f.functions.len();
        report.closures += f
            .functions
            .iter()
            .filter(|x| x.kind == FunctionKind::Closure)
            .count();
        report.decls += f.decls.len();
        report.structs += f.structs.len();
        report.ops += f.ops.len();
        for op in &f.ops {
            let c = &mut report.op_counts;
            match op.kind {
                OpKind::IndexWrite => c.index_write += 1,
                OpKind::Append => c.append += 1,
                OpKind::Delete => c.delete += 1,
                OpKind::Clear => c.clear += 1,
                OpKind::Assign => c.assign += 1,
                OpKind::Call => c.call += 1,
            }
        }
        if f.has_errors {
            report.files_with_errors.push(rel(&root, &f.path));
        }
    }
    if let Some(file) = &a.edit_file {
        let path = std::fs::canonicalize(file).map_err(|e| CliError {
            message: format!("{}: {e}", file.display()),
            code: EXIT_USAGE,
        })?;
        let lines = ws
            .file(&path)
            .map_or(0, |f| f.line_starts.len().saturating_sub(1));
        report.edit = Some(time_edit(&mut ws, &root, &path, lines)?);
    } else if a.edit_timing {
        if let Some((lines, path)) = largest {
            report.edit = Some(time_edit(&mut ws, &root, &path, lines)?);
        }
    }
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Text => write_text(&report, out)?,
    }
    Ok(())
}

/// Times a one-line edit (a comment appended to the middle line) of `path`.
fn time_edit(
    ws: &mut Workspace,
    root: &Path,
    path: &Path,
    lines: usize,
) -> Result<EditTiming, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError {
        message: format!("{}: {e}", path.display()),
        code: 1,
    })?;
    let starts = parse::line_starts(&text);
    let middle = starts.get(starts.len() / 2).copied().unwrap_or(0);
    let at = text[middle..].find('\n').map_or(text.len(), |i| middle + i);
    let insert = " // heapspot edit";
    let mut edited = text.clone();
    edited.insert_str(at, insert);

    let t = Instant::now();
    ws.update_file(path, &edited);
    let full = t.elapsed();
    let t = Instant::now();
    ws.update_file(path, &edited);
    let unchanged = t.elapsed();

    let mut doc = ws.open_document(path, text);
    let t = Instant::now();
    doc.apply_edit(at, at, insert).map_err(|e| CliError {
        message: e.to_string(),
        code: 1,
    })?;
    let incremental = t.elapsed();
    let t = Instant::now();
    if let Some(tree) = doc.tree() {
        let _ = parse::summarize_tree(doc.path(), doc.text(), tree, doc.import_path());
    }
    let summarize_only = t.elapsed();
    Ok(EditTiming {
        file: rel(root, path),
        lines,
        full_resummarize_ms: ms(full),
        incremental_edit_ms: ms(incremental),
        summarize_only_ms: ms(summarize_only),
        unchanged_update_ms: ms(unchanged),
    })
}

fn write_text(r: &IndexReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "root       {} ({}/{})", r.root, r.goos, r.goarch)?;
    writeln!(out, "modules    {}", r.modules.len())?;
    for m in &r.modules {
        let go = m.go_version.as_deref().unwrap_or("-");
        writeln!(out, "  {}  {}  go {}", m.path, m.dir, go)?;
    }
    writeln!(out, "packages   {}", r.packages)?;
    writeln!(
        out,
        "files      {} (test {}, generated {}, vendor {}, outside the build {})",
        r.files, r.test_files, r.generated_files, r.vendor_files, r.files_outside_build
    )?;
    writeln!(out, "lines      {}", r.lines)?;
    writeln!(
        out,
        "bytes      {} ({:.1} MB)",
        r.bytes,
        r.bytes as f64 / 1e6
    )?;
    writeln!(out, "functions  {} (closures {})", r.functions, r.closures)?;
    writeln!(out, "decls      {}", r.decls)?;
    writeln!(out, "structs    {}", r.structs)?;
    let c = &r.op_counts;
    writeln!(
        out,
        "ops        {} (index-write {}, append {}, delete {}, clear {}, assign {}, call {})",
        r.ops, c.index_write, c.append, c.delete, c.clear, c.assign, c.call
    )?;
    writeln!(out, "errors     {} files", r.files_with_errors.len())?;
    for f in &r.files_with_errors {
        writeln!(out, "  {f}")?;
    }
    if !r.warnings.is_empty() {
        writeln!(out, "warnings   {}", r.warnings.len())?;
        for w in &r.warnings {
            writeln!(out, "  {w}")?;
        }
    }
    writeln!(
        out,
        "load       {:.3} s ({} threads)",
        r.load_seconds, r.threads
    )?;
    if let (Some(rss), Some(peak)) = (r.rss_after_load_kb, r.peak_rss_kb) {
        writeln!(
            out,
            "memory     {:.1} MB resident after the load, {:.1} MB peak",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        )?;
    }
    if let Some(e) = &r.edit {
        writeln!(
            out,
            "edit       {} ({} lines): re-summarize {:.2} ms, incremental edit {:.2} ms (summarize alone {:.2} ms), unchanged update {:.3} ms",
            e.file,
            e.lines,
            e.full_resummarize_ms,
            e.incremental_edit_ms,
            e.summarize_only_ms,
            e.unchanged_update_ms
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{run, Cli};

    fn index(args: &[&str]) -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/service");
        let mut argv = vec!["heapspot", "index", dir];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).unwrap();
        let mut out = Vec::new();
        run(cli, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reports_the_fixture_service() {
        let v: serde_json::Value = serde_json::from_str(&index(&["--format", "json"])).unwrap();
        assert_eq!(v["modules"][0]["path"], "example.com/shopsvc");
        assert_eq!(v["files"], 11);
        assert_eq!(v["packages"], 7);
        assert_eq!(v["files_with_errors"].as_array().unwrap().len(), 0);
        assert!(v["op_counts"]["index_write"].as_u64().unwrap() >= 4);
        let text = index(&["--edit-timing"]);
        assert!(text.contains("modules    1\n"), "{text}");
        assert!(text.contains("\nedit       "), "{text}");
    }

    #[test]
    fn a_missing_directory_is_a_usage_error() {
        let cli = Cli::try_parse_from(["heapspot", "index", "/nonexistent/heapspot"]).unwrap();
        let e = run(cli, &mut Vec::new()).unwrap_err();
        assert_eq!(e.code, crate::cli::EXIT_USAGE);
        assert!(e.message.contains("/nonexistent/heapspot"), "{}", e.message);
    }
}
