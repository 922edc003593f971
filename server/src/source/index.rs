//! The workspace index: finds the modules (`go.work`, `go.mod`) and Go files under a root,
//! summarizes every file in parallel, numbers `init.N` functions and `init.funcN` closures
//! across the files of each package like the compiler does, and keeps the summaries up to
//! date as files change. Only summaries are kept; syntax trees live in
//! [`OpenDocument`]s for files open in an editor.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::constraint::BuildContext;
use super::document::OpenDocument;
use super::gomod::{self, GoModError};
use super::model::{FileSummary, Module};
use super::names::{leading_number, renumber, Numbered};
use super::parse::{self, FileMeta};

/// Why a workspace could not be loaded.
#[derive(Debug)]
pub enum WorkspaceError {
    /// A file or directory could not be read.
    Io { path: PathBuf, message: String },
    /// The root's `go.work` or `go.mod` is malformed.
    GoMod(GoModError),
}

impl fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkspaceError::Io { path, message } => write!(f, "{}: {}", path.display(), message),
            WorkspaceError::GoMod(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WorkspaceError {}

impl From<GoModError> for WorkspaceError {
    fn from(e: GoModError) -> Self {
        WorkspaceError::GoMod(e)
    }
}

/// How a workspace is loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Index `vendor/` directories too (they are skipped by default and can be added
    /// later with [`Workspace::index_vendor_dir`]).
    pub include_vendor: bool,
    /// The platform whose files count when numbering `init.N` functions.
    pub build: BuildContext,
}

/// What [`Workspace::update_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// The text was the same as the indexed one: nothing was parsed.
    Unchanged,
    /// The file was re-summarized.
    Updated,
    /// The file was not indexed before and now is.
    Added,
}

/// One indexed file.
#[derive(Debug, Clone)]
struct Entry {
    /// The summary with `init` numbers counted within the file.
    local: Arc<FileSummary>,
    /// The summary with package-wide numbers (the same `Arc` when nothing shifts).
    published: Arc<FileSummary>,
    meta: FileMeta,
    /// Part of the build for the workspace's platform.
    in_build: bool,
}

/// A loaded Go workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    modules: Vec<Module>,
    build: BuildContext,
    files: BTreeMap<PathBuf, Entry>,
    /// Import path to the files of that package (and of its `_test` package's files
    /// under the `_test` import path).
    packages: BTreeMap<String, BTreeSet<PathBuf>>,
    vendor_dirs: Vec<PathBuf>,
    warnings: Vec<String>,
    parses: usize,
}

/// Directory names never descended into.
fn skip_dir(name: &str, include_vendor: bool) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || name == "testdata"
        || name == "node_modules"
        || (name == "vendor" && !include_vendor)
}

/// Whether a file name is a Go source file the go command would consider.
fn is_go_file(name: &str) -> bool {
    name.ends_with(".go") && !name.starts_with('.') && !name.starts_with('_')
}

/// Files found by a walk.
#[derive(Debug, Default)]
struct Found {
    go_mods: Vec<PathBuf>,
    go_files: Vec<PathBuf>,
}

/// Walks `dir` without following symlinked directories, collecting `go.mod` and `.go`
/// files. Unreadable subdirectories become warnings.
fn walk(dir: &Path, include_vendor: bool, found: &mut Found, warnings: &mut Vec<String>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("{}: {}", d.display(), e));
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                warnings.push(format!(
                    "{}: skipped, the name is not UTF-8",
                    entry.path().display()
                ));
                continue;
            };
            if ft.is_dir() {
                if !skip_dir(name, include_vendor) {
                    subdirs.push(entry.path());
                }
            } else if name == "go.mod" {
                found.go_mods.push(entry.path());
            } else if is_go_file(name) && (ft.is_file() || ft.is_symlink()) {
                found.go_files.push(entry.path());
            }
        }
        subdirs.sort();
        stack.extend(subdirs.into_iter().rev());
    }
}

/// Reads a file as text; invalid UTF-8 is replaced and reported as `true`.
fn read_text(path: &Path) -> Result<(String, bool), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s, false)),
        Err(e) => Ok((String::from_utf8_lossy(e.as_bytes()).into_owned(), true)),
    }
}

impl Workspace {
    /// Loads the workspace under `root` with default options.
    pub fn load(root: impl AsRef<Path>) -> Result<Workspace, WorkspaceError> {
        Self::load_with(root, &LoadOptions::default())
    }

    /// Loads the workspace under `root`: its `go.work` (or the `go.work`/`go.mod` above
    /// it), every `go.mod` below it, and every Go file outside skipped directories.
    pub fn load_with(
        root: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<Workspace, WorkspaceError> {
        let root = root.as_ref();
        let root = std::fs::canonicalize(root).map_err(|e| WorkspaceError::Io {
            path: root.to_path_buf(),
            message: e.to_string(),
        })?;
        if !root.is_dir() {
            return Err(WorkspaceError::Io {
                path: root,
                message: "not a directory".to_string(),
            });
        }
        let mut ws = Workspace {
            root: root.clone(),
            modules: Vec::new(),
            build: options.build.clone(),
            files: BTreeMap::new(),
            packages: BTreeMap::new(),
            vendor_dirs: Vec::new(),
            warnings: Vec::new(),
            parses: 0,
        };

        // The go.work at the root or above it, else the go.mod above the root.
        let mut walk_roots = vec![root.clone()];
        let mut go_mods = Vec::new();
        if let Some(work) = root
            .ancestors()
            .map(|d| d.join("go.work"))
            .find(|p| p.is_file())
        {
            let w = gomod::read_go_work(&work)?;
            for dir in w.uses {
                let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
                let go_mod = dir.join("go.mod");
                if !go_mod.is_file() {
                    ws.warnings
                        .push(format!("{}: used module has no go.mod", dir.display()));
                    continue;
                }
                go_mods.push(go_mod);
                // Modules outside the root are walked only for a go.work at the root.
                let at_root = work.parent() == Some(root.as_path());
                if at_root && !dir.starts_with(&root) && !root.starts_with(&dir) {
                    walk_roots.push(dir);
                }
            }
        }
        if let Some(above) = root
            .ancestors()
            .skip(1)
            .map(|d| d.join("go.mod"))
            .find(|p| p.is_file())
        {
            go_mods.push(above);
        }

        let mut found = Found::default();
        for r in &walk_roots {
            walk(r, options.include_vendor, &mut found, &mut ws.warnings);
        }
        go_mods.extend(found.go_mods);
        go_mods.sort();
        go_mods.dedup();
        for go_mod in go_mods {
            match gomod::read_go_mod(&go_mod) {
                Ok(m) => ws.modules.push(m),
                Err(e) if go_mod.parent() == Some(root.as_path()) => return Err(e.into()),
                Err(e) => ws.warnings.push(e.to_string()),
            }
        }
        if options.include_vendor {
            ws.vendor_dirs = found
                .go_files
                .iter()
                .filter_map(|p| vendor_root(p))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        ws.add_files(found.go_files);
        Ok(ws)
    }

    /// Summarizes `paths` in parallel and adds them, then renumbers their packages.
    fn add_files(&mut self, paths: Vec<PathBuf>) -> usize {
        let jobs: Vec<(PathBuf, String)> = paths
            .into_iter()
            .map(|p| {
                let ip = self.import_path_for(&p);
                (p, ip)
            })
            .collect();
        let build = &self.build;
        let results: Vec<Result<(FileSummary, FileMeta, bool), String>> = jobs
            .par_iter()
            .map(|(path, import_path)| summarize_file(build, path, import_path))
            .collect();
        let mut touched = BTreeSet::new();
        let mut added = 0;
        for r in results {
            match r {
                Ok((mut summary, meta, in_build)) => {
                    self.parses += 1;
                    self.adjust(&mut summary);
                    touched.insert(summary.import_path.clone());
                    self.insert(summary, meta, in_build);
                    added += 1;
                }
                Err(w) => self.warnings.push(w),
            }
        }
        for ip in touched {
            self.renumber_import_path(&ip);
        }
        added
    }

    /// Sets the flags and the `_test` import path that depend on the workspace.
    fn adjust(&self, summary: &mut FileSummary) {
        let base = self
            .module_for(&summary.path)
            .map_or(self.root.as_path(), |m| m.dir.as_path());
        summary.is_vendor = summary
            .path
            .strip_prefix(base)
            .unwrap_or(&summary.path)
            .parent()
            .is_some_and(|d| d.components().any(|c| c.as_os_str() == "vendor"));
        let import_path = self.import_path_for(&summary.path);
        summary.import_path = if summary.is_test && summary.package.ends_with("_test") {
            format!("{import_path}_test")
        } else {
            import_path
        };
    }

    fn insert(&mut self, summary: FileSummary, meta: FileMeta, in_build: bool) {
        let path = summary.path.clone();
        self.unlink(&path);
        self.packages
            .entry(summary.import_path.clone())
            .or_default()
            .insert(path.clone());
        let local = Arc::new(summary);
        self.files.insert(
            path,
            Entry {
                published: Arc::clone(&local),
                local,
                meta,
                in_build,
            },
        );
    }

    /// Removes a file from the package map; returns its import path.
    fn unlink(&mut self, path: &Path) -> Option<String> {
        let old = self.files.remove(path)?;
        let ip = old.local.import_path.clone();
        if let Some(set) = self.packages.get_mut(&ip) {
            set.remove(path);
            if set.is_empty() {
                self.packages.remove(&ip);
            }
        }
        Some(ip)
    }

    /// Numbers `init.N` and `init.funcN` across the files of each package with this import
    /// path: files in the build first (plain files by name, then cgo files, then test
    /// files), then the others, so that names stay unique.
    fn renumber_import_path(&mut self, import_path: &str) {
        let Some(paths) = self.packages.get(import_path) else {
            return;
        };
        let mut groups: BTreeMap<String, Vec<(u8, String, PathBuf)>> = BTreeMap::new();
        for p in paths {
            let Some(e) = self.files.get(p) else { continue };
            let class = match (e.in_build, e.local.is_test, e.meta.imports_c) {
                (true, false, false) => 0,
                (true, false, true) => 1,
                (true, true, _) => 2,
                (false, _, _) => 3,
            };
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            groups
                .entry(e.local.package.clone())
                .or_default()
                .push((class, name, p.clone()));
        }
        for (_, mut files) in groups {
            files.sort();
            let (mut inits, mut closures) = (0u32, 0u32);
            for (_, _, path) in files {
                let Some(e) = self.files.get_mut(&path) else {
                    continue;
                };
                let (n_inits, n_closures) = counts(&e.local);
                e.published = if (inits == 0 && closures == 0) || (n_inits + n_closures == 0) {
                    Arc::clone(&e.local)
                } else {
                    let mut s = (*e.local).clone();
                    for f in &mut s.functions {
                        if let Some(name) = renumber(&f.name, inits, closures) {
                            f.name = name;
                        }
                    }
                    Arc::new(s)
                };
                inits = inits.saturating_add(n_inits);
                closures = closures.saturating_add(n_closures);
            }
        }
    }

    /// The root directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The modules, ordered by the path of their `go.mod`.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The platform used for build constraints.
    pub fn build_context(&self) -> &BuildContext {
        &self.build
    }

    /// Every indexed file, ordered by path.
    pub fn files(&self) -> impl Iterator<Item = Arc<FileSummary>> + '_ {
        self.files.values().map(|e| Arc::clone(&e.published))
    }

    /// The number of indexed files.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The summary of one file (relative paths are taken from the root).
    pub fn file(&self, path: &Path) -> Option<Arc<FileSummary>> {
        self.files
            .get(&self.absolute(path))
            .map(|e| Arc::clone(&e.published))
    }

    /// The files of a package by import path (`example.com/svc/cache`, `fmt`; an external
    /// test package is `example.com/svc/cache_test`), ordered by path.
    pub fn package(&self, import_path: &str) -> Vec<Arc<FileSummary>> {
        self.packages
            .get(import_path)
            .into_iter()
            .flatten()
            .filter_map(|p| self.files.get(p))
            .map(|e| Arc::clone(&e.published))
            .collect()
    }

    /// The import paths of all packages, sorted.
    pub fn import_paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.packages.keys().map(String::as_str)
    }

    /// The module whose directory is the longest prefix of `path`.
    pub fn module_for(&self, path: &Path) -> Option<&Module> {
        let path = self.absolute(path);
        self.modules
            .iter()
            .filter(|m| path.starts_with(&m.dir))
            .max_by_key(|m| m.dir.components().count())
    }

    /// Whether the file counts for the workspace's platform (its name suffix and
    /// `//go:build` line admit it); `None` when it is not indexed.
    pub fn is_in_build(&self, path: &Path) -> Option<bool> {
        self.files.get(&self.absolute(path)).map(|e| e.in_build)
    }

    /// The import path of the package in the directory of `path`: the module path and
    /// the directory relative to the module (the standard library's `std` module adds no
    /// prefix); in a `vendor` directory, the path below it; outside any module, the
    /// directory relative to the root (`.` for the root).
    pub fn import_path_for(&self, path: &Path) -> String {
        let path = self.absolute(path);
        let dir = path.parent().unwrap_or(&path);
        let rel = |base: &Path| -> Vec<String> {
            dir.strip_prefix(base)
                .map(|r| {
                    r.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        match self.module_for(&path) {
            Some(m) => {
                let parts = rel(&m.dir);
                if m.path == "std" {
                    return if parts.is_empty() {
                        "std".to_string()
                    } else {
                        parts.join("/")
                    };
                }
                if let Some(v) = parts.iter().rposition(|p| p == "vendor") {
                    return parts[v + 1..].join("/");
                }
                if parts.is_empty() {
                    m.path.clone()
                } else {
                    format!("{}/{}", m.path, parts.join("/"))
                }
            }
            None => {
                let parts = rel(&self.root);
                if parts.is_empty() {
                    ".".to_string()
                } else {
                    parts.join("/")
                }
            }
        }
    }

    /// The key of a path: relative paths are taken from the root, and a path outside the
    /// root that is not indexed as written is made canonical (symlinks resolved).
    fn absolute(&self, path: &Path) -> PathBuf {
        let p = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        if p.starts_with(&self.root) || self.files.contains_key(&p) {
            return p;
        }
        std::fs::canonicalize(&p).unwrap_or(p)
    }

    /// Re-summarizes one file from its new text (an editor buffer or a changed file on
    /// disk). Nothing is parsed when the text hashes the same as the indexed one.
    pub fn update_file(&mut self, path: &Path, text: &str) -> Update {
        let path = self.absolute(path);
        let existed = match self.files.get(&path) {
            Some(e) if e.local.content_hash == parse::content_hash(text) => {
                return Update::Unchanged
            }
            Some(_) => true,
            None => false,
        };
        let import_path = self.import_path_for(&path);
        let (summary, meta) = parse::summarize_with_meta(&path, text, &import_path);
        self.parses += 1;
        self.replace(summary, meta, text);
        if existed {
            Update::Updated
        } else {
            Update::Added
        }
    }

    /// Takes the summary of an open document (parsed incrementally by it).
    pub fn update_document(&mut self, doc: &OpenDocument) -> Update {
        let path = self.absolute(doc.path());
        let existed = match self.files.get(&path) {
            Some(e) if e.local.content_hash == doc.summary().content_hash => {
                return Update::Unchanged
            }
            Some(_) => true,
            None => false,
        };
        let mut summary = (**doc.summary()).clone();
        summary.path = path;
        self.replace(summary, doc.meta(), doc.text());
        if existed {
            Update::Updated
        } else {
            Update::Added
        }
    }

    /// Opens a document for incremental editing with the import path the index gives it.
    pub fn open_document(&self, path: &Path, text: String) -> OpenDocument {
        let path = self.absolute(path);
        let import_path = self.import_path_for(&path);
        OpenDocument::new(path, import_path, text)
    }

    fn replace(&mut self, mut summary: FileSummary, meta: FileMeta, text: &str) {
        let file_name = summary
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let in_build =
            self.build.matches_file(&file_name, text) && (!meta.imports_c || self.build.cgo);
        self.adjust(&mut summary);
        let new_ip = summary.import_path.clone();
        let old_ip = self
            .files
            .get(&summary.path)
            .map(|e| e.local.import_path.clone());
        self.insert(summary, meta, in_build);
        if let Some(old) = old_ip.filter(|o| *o != new_ip) {
            self.renumber_import_path(&old);
        }
        self.renumber_import_path(&new_ip);
    }

    /// Drops a file (deleted on disk). Returns whether it was indexed.
    pub fn remove_file(&mut self, path: &Path) -> bool {
        let path = self.absolute(path);
        match self.unlink(&path) {
            Some(ip) => {
                self.renumber_import_path(&ip);
                true
            }
            None => false,
        }
    }

    /// Indexes a `vendor` directory (or one vendored package below it) on demand, when a
    /// profile frame points into it. Returns the number of files added.
    pub fn index_vendor_dir(&mut self, dir: &Path) -> Result<usize, WorkspaceError> {
        let dir = self.absolute(dir);
        if !dir.is_dir() {
            return Err(WorkspaceError::Io {
                path: dir,
                message: "not a directory".to_string(),
            });
        }
        let mut found = Found::default();
        walk(&dir, true, &mut found, &mut self.warnings);
        let new: Vec<PathBuf> = found
            .go_files
            .into_iter()
            .filter(|p| !self.files.contains_key(p))
            .collect();
        if !self.vendor_dirs.contains(&dir) {
            self.vendor_dirs.push(dir);
        }
        Ok(self.add_files(new))
    }

    /// The vendor directories indexed so far.
    pub fn vendor_dirs(&self) -> &[PathBuf] {
        &self.vendor_dirs
    }

    /// How many times a file was parsed since the workspace was loaded.
    pub fn parse_count(&self) -> usize {
        self.parses
    }

    /// Problems that did not stop the load (unreadable files, malformed nested `go.mod`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Reads and summarizes one file, and tells whether it is part of the build.
fn summarize_file(
    build: &BuildContext,
    path: &Path,
    import_path: &str,
) -> Result<(FileSummary, FileMeta, bool), String> {
    let (text, lossy) = read_text(path).map_err(|e| format!("{}: {}", path.display(), e))?;
    let (mut summary, meta) = parse::summarize_with_meta(path, &text, import_path);
    if lossy {
        summary.has_errors = true;
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let in_build = build.matches_file(file_name, &text) && (!meta.imports_c || build.cgo);
    Ok((summary, meta, in_build))
}

/// The `vendor` directory a path is under, if any.
fn vendor_root(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut found = None;
    for c in path.components() {
        out.push(c.as_os_str());
        if c.as_os_str() == "vendor" {
            found = Some(out.clone());
        }
    }
    found.filter(|v| v != path)
}

/// The number of `init` functions and package-initializer closures of a file.
fn counts(s: &FileSummary) -> (u32, u32) {
    let mut inits = 0u32;
    let mut closures = 0u32;
    for f in &s.functions {
        if let Some((which, range)) = leading_number(&f.name) {
            if range.end != f.name.len() {
                continue;
            }
            match which {
                Numbered::Init(_) => inits = inits.saturating_add(1),
                Numbered::InitClosure(_) => closures = closures.saturating_add(1),
            }
        }
    }
    (inits, closures)
}
