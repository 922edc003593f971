//! Maps profile frames onto the workspace: by function identity first (the import path in
//! the function's name, the module path from go.mod, the package's files, the function by
//! its pprof name), then by file path suffix, then by user-configured path mappings.
//! Frames outside the workspace (standard library, runtime, third-party) are external; a
//! sample is attributed to its innermost workspace frame and keeps the external producer
//! below it as the allocation's kind. When the source has moved since the profile, lines
//! are re-anchored by their offset from the function's start line; when that cannot be
//! trusted the site is stale, never silently placed on a wrong line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::profile::Profile;
use crate::source::index::Workspace;
use crate::source::model::{FileSummary, Function, Module};
pub use crate::source::names::normalize_symbol;
use crate::source::names::split_function_name;

/// A user-configured rewrite of recorded path prefixes (`/app` -> `/home/me/svc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMapping {
    pub from: String,
    pub to: PathBuf,
}

/// How a frame was matched to the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// Import path + function name.
    Function,
    /// The recorded file path's suffix.
    PathSuffix,
    /// A configured path mapping.
    PathMapping,
}

/// Where a frame lands in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A line in a workspace file.
    Mapped(MappedLine),
    /// The frame belongs to the workspace but its line cannot be trusted any more.
    Stale {
        file: Option<PathBuf>,
        function: String,
        reason: String,
    },
    /// Standard library, runtime or third-party code.
    External,
    /// Looks like workspace code but nothing matched.
    Unmatched { reason: String },
}

/// A frame placed on a workspace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedLine {
    pub file: PathBuf,
    /// 1-based line in the current text.
    pub line: u32,
    /// The workspace function (index into the file's functions) when known.
    pub function: Option<usize>,
    pub how: MatchKind,
    /// Current line minus recorded line (non-zero when the source moved).
    pub shift: i64,
}

/// Splits a pprof function name into its import path and the symbol after it:
/// `example.com/svc/cache.(*Store).Put` -> (`example.com/svc/cache`, `(*Store).Put`).
/// Dots in the last path element are escaped by the linker (`gopkg.in/yaml%2ev3.F`) and
/// are unescaped here.
pub fn split_symbol(name: &str) -> (Cow<'_, str>, &str) {
    let (path, symbol) = split_function_name(name).unwrap_or(("", name));
    if path.contains("%2e") {
        (Cow::Owned(path.replace("%2e", ".")), symbol)
    } else {
        (Cow::Borrowed(path), symbol)
    }
}

/// The allocation's kind, from the external frames between the leaf and the innermost
/// workspace frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "producer")]
pub enum AllocKind {
    /// The workspace line itself allocates (`make`, `&T{}`, `new`, a literal).
    Direct,
    /// Map growth (`runtime.mapassign*`, `internal/runtime/maps.*`).
    MapGrowth,
    /// Slice growth by `append` (`runtime.growslice`).
    Append,
    /// A call into external code that allocated; the outermost external function (the
    /// one the workspace called), e.g. `strings.(*Builder).Grow`, `time.NewTicker`.
    Call(String),
}

/// Resolves frames of profiles against one workspace.
#[derive(Debug)]
pub struct Mapper {
    modules: Vec<Module>,
    files: Vec<Arc<FileSummary>>,
    /// Import path -> file indices.
    by_import: HashMap<String, Vec<usize>>,
    /// File name -> file indices, for suffix matching.
    by_basename: HashMap<String, Vec<usize>>,
    by_path: HashMap<PathBuf, usize>,
    mappings: Vec<PathMapping>,
    has_main: bool,
    /// File texts read on demand (or set by an editor for open documents), to check that
    /// a re-anchored line is still code.
    texts: Mutex<HashMap<PathBuf, Option<Arc<str>>>>,
}

impl Mapper {
    pub fn new(
        modules: Vec<Module>,
        files: Vec<Arc<FileSummary>>,
        mappings: Vec<PathMapping>,
    ) -> Mapper {
        let mut by_import: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_basename: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_path = HashMap::new();
        let mut has_main = false;
        for (i, f) in files.iter().enumerate() {
            // Vendored code is third-party: its frames are external producers.
            if f.is_vendor {
                continue;
            }
            by_import.entry(f.import_path.clone()).or_default().push(i);
            if let Some(name) = f.path.file_name() {
                by_basename
                    .entry(name.to_string_lossy().into_owned())
                    .or_default()
                    .push(i);
            }
            by_path.insert(f.path.clone(), i);
            has_main |= f.package == "main" && !f.is_test;
        }
        let mut modules = modules;
        modules.sort_by_key(|m| std::cmp::Reverse(m.path.len()));
        Mapper {
            modules,
            files,
            by_import,
            by_basename,
            by_path,
            mappings,
            has_main,
            texts: Mutex::new(HashMap::new()),
        }
    }

    /// Uses `text` for `path` instead of the file on disk (an editor's open document).
    pub fn set_text(&self, path: &Path, text: Arc<str>) {
        if let Ok(mut t) = self.texts.lock() {
            t.insert(path.to_path_buf(), Some(text));
        }
    }

    /// The text of a 1-based line of a workspace file, if readable.
    pub fn line_text(&self, path: &Path, line: u32) -> Option<String> {
        let mut texts = self.texts.lock().ok()?;
        let text = texts
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                std::fs::read(path)
                    .ok()
                    .map(|b| Arc::from(String::from_utf8_lossy(&b).as_ref()))
            })
            .clone()?;
        text.lines()
            .nth((line as usize).checked_sub(1)?)
            .map(str::to_string)
    }

    /// A recorded line re-anchored onto `line` must still be code that can allocate or
    /// call: not blank, not a comment, not a lone brace, not a bare `return`.
    fn implausible(&self, path: &Path, line: u32) -> Option<String> {
        let text = self.line_text(path, line)?;
        let t = text.trim();
        let code = !t.is_empty()
            && !t.starts_with("//")
            // `)`: the last line of a call written over several lines (`r.Severity,
            // r.Name, device)`), where the compiler may place the call.
            && (t.starts_with("var ") || t.chars().any(|c| "({[&+\"`=<)".contains(c)));
        (!code).then(|| t.to_string())
    }

    /// A mapper over every file of a loaded workspace.
    pub fn from_workspace(ws: &Workspace, mappings: Vec<PathMapping>) -> Mapper {
        Mapper::new(ws.modules().to_vec(), ws.files().collect(), mappings)
    }

    pub fn files(&self) -> &[Arc<FileSummary>] {
        &self.files
    }

    /// Whether an import path belongs to the workspace (a module's path or below it, or a
    /// `main` package when the workspace has one).
    pub fn is_workspace_import(&self, import_path: &str) -> bool {
        if import_path == "main" {
            return self.has_main;
        }
        self.modules
            .iter()
            .any(|m| module_contains(&m.path, import_path))
            || self.by_import.contains_key(import_path)
    }

    /// Resolves one frame: the function's pprof name, its recorded file, the recorded line
    /// and the function's recorded start line (0 when unknown).
    pub fn resolve(&self, function: &str, file: &str, line: i64, start_line: i64) -> Resolution {
        self.resolve_with(&[], function, file, line, start_line)
    }

    /// [`Mapper::resolve`] preferring, among several definitions (several `main`
    /// packages), those in the modules `prefer` names: the modules the same profile's other
    /// frames come from, since one profile is one binary.
    pub fn resolve_with(
        &self,
        prefer: &[String],
        function: &str,
        file: &str,
        line: i64,
        start_line: i64,
    ) -> Resolution {
        let (import_path, symbol) = split_symbol(function);
        // The body of a range-over-func loop (`F-range1`) is recorded with the loop's
        // start line, not F's: it says nothing about where F starts, so no drift is read
        // from it and the recorded line is checked against F's current span as is.
        let start_line = if symbol.contains("-range") {
            0
        } else {
            start_line
        };
        let symbol = normalize_symbol(symbol);
        let import_path = import_path.as_ref();
        let in_workspace = self.is_workspace_import(import_path);

        // 1. Function identity.
        let mut ambiguous = 0;
        if in_workspace {
            let candidates: Vec<usize> = if import_path == "main" {
                self.files
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.package == "main" && !f.is_vendor)
                    .map(|(i, _)| i)
                    .collect()
            } else {
                self.by_import.get(import_path).cloned().unwrap_or_default()
            };
            let hits_for = |name: &str| -> Vec<(usize, usize)> {
                candidates
                    .iter()
                    .flat_map(|&fi| {
                        self.files[fi]
                            .functions
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| f.name == name)
                            .map(move |(k, _)| (fi, k))
                    })
                    .collect()
            };
            let mut hits = hits_for(&symbol);
            if hits.is_empty() {
                // A closure renamed by inlining is declared under a shorter name.
                hits = crate::source::names::inlined_closure_names(&symbol)
                    .map(hits_for)
                    .find(|h| !h.is_empty())
                    .unwrap_or_default();
            }
            let chosen = match hits.len() {
                0 => None,
                1 => Some(hits[0]),
                // Several packages define it (e.g. two `main` packages): the recorded
                // path's longest matching suffix decides; a tie decides nothing.
                _ => {
                    let score = |&(fi, _): &(usize, usize)| {
                        let f = &self.files[fi];
                        let preferred = self
                            .module_for(&f.path)
                            .is_some_and(|m| prefer.contains(&m.path));
                        (preferred, self.path_score(file, f))
                    };
                    let best = hits.iter().map(score).max().unwrap_or((false, 0));
                    let mut top = hits.iter().filter(|h| score(h) == best);
                    match (top.next(), top.next()) {
                        (Some(&h), None) => Some(h),
                        _ => {
                            ambiguous = hits.len();
                            None
                        }
                    }
                }
            };
            if let Some((fi, k)) = chosen {
                return self.anchor(fi, k, function, line, start_line, MatchKind::Function);
            }
        }

        // 2. The recorded file path's suffix.
        if let Some(fi) = self.by_suffix(file) {
            if in_workspace || !looks_external(import_path) {
                return self.place_in_file(
                    fi,
                    &symbol,
                    function,
                    line,
                    start_line,
                    MatchKind::PathSuffix,
                );
            }
        }

        // 3. Configured path mappings.
        for m in &self.mappings {
            if let Some(rest) = file.strip_prefix(m.from.as_str()) {
                let mapped = m.to.join(rest.trim_start_matches(['/', '\\']));
                if let Some(&fi) = self.by_path.get(&mapped) {
                    return self.place_in_file(
                        fi,
                        &symbol,
                        function,
                        line,
                        start_line,
                        MatchKind::PathMapping,
                    );
                }
            }
        }

        if ambiguous > 1 {
            Resolution::Unmatched {
                reason: format!(
                    "{function} is defined in {ambiguous} places in the workspace and {file} does not tell them apart; add a path mapping"
                ),
            }
        } else if in_workspace {
            Resolution::Unmatched {
                reason: format!(
                    "{function} is in the workspace's import path {import_path} but no such function or file {file} was found"
                ),
            }
        } else {
            Resolution::External
        }
    }

    /// The workspace file whose path shares the longest suffix (at least the file name)
    /// with the recorded path; ties with no longer suffix are ambiguous and give `None`.
    fn by_suffix(&self, recorded: &str) -> Option<usize> {
        let base = recorded.rsplit(['/', '\\']).next()?;
        let candidates = self.by_basename.get(base)?;
        let mut best: Option<(usize, usize)> = None;
        let mut tie = false;
        for &fi in candidates {
            let n = suffix_len(recorded, &self.files[fi].path);
            match best {
                Some((_, b)) if n == b => tie = true,
                Some((_, b)) if n < b => {}
                _ => {
                    best = Some((fi, n));
                    tie = false;
                }
            }
        }
        match best {
            Some((fi, _)) if !tie => Some(fi),
            _ => None,
        }
    }

    /// Places a frame in a file found by path: by its function when the file has it, else
    /// by the recorded line when it is inside the file.
    fn place_in_file(
        &self,
        fi: usize,
        symbol: &str,
        function: &str,
        line: i64,
        start_line: i64,
        how: MatchKind,
    ) -> Resolution {
        let f = &self.files[fi];
        if let Some(k) = f.functions.iter().position(|x| x.name == symbol) {
            return self.anchor(fi, k, function, line, start_line, how);
        }
        let lines = f.line_starts.len() as i64;
        if line >= 1 && line <= lines && self.implausible(&f.path, line as u32).is_none() {
            Resolution::Mapped(MappedLine {
                file: f.path.clone(),
                line: line as u32,
                function: innermost_function(&f.functions, line as u32),
                how,
                shift: 0,
            })
        } else {
            Resolution::Stale {
                file: Some(f.path.clone()),
                function: function.to_string(),
                reason: format!(
                    "{function} is not in {} and its line {line} there is not code that can allocate",
                    f.path.display()
                ),
            }
        }
    }

    /// Re-anchors a recorded line in a found function by its offset from the function's
    /// start, and checks it still falls inside the function.
    fn anchor(
        &self,
        fi: usize,
        k: usize,
        function: &str,
        line: i64,
        start_line: i64,
        how: MatchKind,
    ) -> Resolution {
        let f = &self.files[fi];
        let func: &Function = &f.functions[k];
        let now_start = i64::from(func.span.start_line);
        let now_end = i64::from(func.span.end_line);
        let new_line = if start_line > 0 {
            now_start + (line - start_line)
        } else {
            line
        };
        if new_line < now_start || new_line > now_end {
            return Resolution::Stale {
                file: Some(f.path.clone()),
                function: function.to_string(),
                reason: if start_line > 0 {
                    format!(
                        "{function} started at line {start_line} when profiled and line {line} was {} lines into it; it now spans lines {now_start}-{now_end}, so the body changed",
                        line - start_line
                    )
                } else {
                    format!(
                        "line {line} is outside {function}, which now spans lines {now_start}-{now_end}"
                    )
                },
            };
        }
        // Deferred calls run at the function's end, and the runtime records them at its
        // closing brace or at the `return` that ends the call, so those lines are
        // plausible places in a function that defers.
        let closing = new_line == now_end;
        let is_return = || {
            self.line_text(&f.path, new_line as u32)
                .is_some_and(|t| t.trim_start().starts_with("return"))
        };
        let deferred_return = || {
            is_return()
                && (now_start..=now_end).any(|n| {
                    self.line_text(&f.path, n as u32)
                        .is_some_and(|t| t.trim_start().starts_with("defer "))
                })
        };
        // A value returned as an interface is converted there, and the conversion may
        // allocate (`return v.I` in `func (v Value) Any() any` calls `runtime.convT64`).
        let interface_return = || {
            is_return()
                && self
                    .line_text(&f.path, now_start as u32)
                    .is_some_and(|sig| {
                        sig.contains("interface{")
                            || sig
                                .split(|c: char| !c.is_alphanumeric() && c != '_')
                                .any(|w| w == "any")
                    })
        };
        if let Some(text) = (!closing && !deferred_return() && !interface_return())
            .then(|| self.implausible(&f.path, new_line as u32))
            .flatten()
        {
            return Resolution::Stale {
                file: Some(f.path.clone()),
                function: function.to_string(),
                reason: format!(
                    "{function}'s line {line} would now be line {new_line}, {text:?}, which cannot allocate: the body changed since the profile"
                ),
            };
        }
        Resolution::Mapped(MappedLine {
            file: f.path.clone(),
            line: new_line as u32,
            function: Some(k),
            how,
            shift: new_line - line,
        })
    }

    /// Attributes one sample (locations leaf first) to its innermost workspace frame: the
    /// frame's resolution and the allocation kind from the external frames below it.
    /// Returns `None` when no frame of the stack is in the workspace.
    pub fn attribute(&self, profile: &Profile, locs: &[u32]) -> Option<Attribution> {
        self.attribute_cached(profile, locs, &mut self.scope(profile))
    }

    /// The per-profile context of attribution: the preferred modules and the cache.
    pub fn scope(&self, profile: &Profile) -> FrameCache {
        FrameCache {
            prefer: self.profile_modules(profile),
            frames: HashMap::new(),
        }
    }

    /// [`Mapper::attribute`] with a cache of frame resolutions for one profile (keyed by
    /// location index and line index), so each frame is resolved once per profile.
    pub fn attribute_cached(
        &self,
        profile: &Profile,
        locs: &[u32],
        cache: &mut FrameCache,
    ) -> Option<Attribution> {
        let mut external: Vec<&str> = Vec::new();
        for &li in locs {
            let loc = &profile.locations[li as usize];
            for (k, ln) in loc.lines.iter().enumerate() {
                let func = &profile.functions[ln.function as usize];
                let Some(resolution) = self.frame(profile, li, k, cache) else {
                    external.push(&func.name);
                    continue;
                };
                return Some(Attribution {
                    function: func.name.to_string(),
                    recorded_file: func.filename.to_string(),
                    recorded_line: ln.line,
                    resolution,
                    kind: alloc_kind(&external),
                });
            }
        }
        None
    }

    /// The resolution of the `k`-th line of location `li` (inlined frames first), `None`
    /// for a frame outside the workspace; resolved once per profile through `cache`.
    fn frame(
        &self,
        profile: &Profile,
        li: u32,
        k: usize,
        cache: &mut FrameCache,
    ) -> Option<Resolution> {
        let ln = &profile.locations[li as usize].lines[k];
        let func = &profile.functions[ln.function as usize];
        let prefer = &cache.prefer;
        cache
            .frames
            .entry((li, k as u32))
            .or_insert_with(|| {
                self.is_workspace_frame(&func.name, &func.filename)
                    .then(|| {
                        self.resolve_with(
                            prefer,
                            &func.name,
                            &func.filename,
                            ln.line,
                            func.start_line,
                        )
                    })
            })
            .clone()
    }

    /// The workspace line that called the innermost workspace frame of a stack (the next
    /// workspace frame out, placed on a current line): `device/session.go:54` for memory
    /// that `proto.NewReader` allocates when `NewSession` calls it. `None` when no
    /// workspace frame calls it or it cannot be placed.
    pub fn caller_line(
        &self,
        profile: &Profile,
        locs: &[u32],
        cache: &mut FrameCache,
    ) -> Option<(PathBuf, u32)> {
        let mut seen_inner = false;
        for &li in locs {
            let loc = &profile.locations[li as usize];
            for k in 0..loc.lines.len() {
                let Some(resolution) = self.frame(profile, li, k, cache) else {
                    continue;
                };
                if !seen_inner {
                    seen_inner = true;
                    continue;
                }
                return match resolution {
                    Resolution::Mapped(m) => Some((m.file, m.line)),
                    _ => None,
                };
            }
        }
        None
    }

    /// Whether a profile frame is workspace code: its import path is the workspace's, or
    /// it does not look like standard library and its file is found in the workspace.
    pub fn is_workspace_frame(&self, function: &str, file: &str) -> bool {
        // Code the compiler generates for a package (method value wrappers, parts of a
        // package's initialization) has no source line to show.
        if file == "<autogenerated>" {
            return false;
        }
        let (import_path, _) = split_symbol(function);
        // Standard library generic code instantiated by a workspace package carries the
        // package's name (`main.init.OnceValue[go.shape.[]uint8].func2`) but GOROOT's
        // file: a generic frame whose file is nowhere in the workspace is not its own.
        if (function.contains('[') || looks_like_goroot_file(file))
            && self.by_suffix(file).is_none()
        {
            // Likewise a standard library function inlined into a workspace function
            // (`renderMarkdown.SplitSeq.splitSeq.func1` in GOROOT's strings/iter.go).
            return false;
        }
        self.is_workspace_import(&import_path)
            || self.by_suffix_if_local(file, &import_path).is_some()
    }

    /// A file found by path for a frame whose import path does not look external (a
    /// module renamed since the profile, say).
    fn by_suffix_if_local(&self, file: &str, import_path: &str) -> Option<usize> {
        if looks_external(import_path) {
            return None;
        }
        self.by_suffix(file)
    }

    /// The module that owns a directory or file (the deepest module directory).
    pub fn module_for(&self, path: &Path) -> Option<&Module> {
        self.modules
            .iter()
            .filter(|m| path.starts_with(&m.dir))
            .max_by_key(|m| m.dir.components().count())
    }

    /// How well a recorded path matches a workspace file: the longer of the suffix shared
    /// with its local path and with its module-qualified path (`module/dir/file.go`, as
    /// `-trimpath` records it).
    fn path_score(&self, recorded: &str, f: &FileSummary) -> usize {
        let local = suffix_len(recorded, &f.path);
        let qualified = self
            .module_for(&f.path)
            .and_then(|m| {
                let rel = f.path.strip_prefix(&m.dir).ok()?;
                Some(suffix_len(recorded, &Path::new(&m.path).join(rel)))
            })
            .unwrap_or(0);
        local.max(qualified)
    }

    /// The workspace modules a profile's functions come from, for [`Mapper::resolve_with`].
    pub fn profile_modules(&self, profile: &Profile) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &profile.functions {
            let (import_path, _) = split_symbol(&f.name);
            for m in &self.modules {
                if module_contains(&m.path, &import_path) && !out.contains(&m.path) {
                    out.push(m.path.clone());
                }
            }
        }
        out
    }
}

/// The attribution context of one profile: the workspace modules its frames come from
/// (to choose among several `main` packages) and its frames' resolutions by (location
/// index, line index), `None` marking an external frame.
#[derive(Debug, Default)]
pub struct FrameCache {
    pub prefer: Vec<String>,
    frames: HashMap<(u32, u32), Option<Resolution>>,
}

/// A sample's innermost workspace frame and how the memory was allocated under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub function: String,
    pub recorded_file: String,
    pub recorded_line: i64,
    pub resolution: Resolution,
    pub kind: AllocKind,
}

/// Whether a recorded file lies in a Go installation's source tree: below a `/src/`
/// whose next element has no dot (`/usr/local/go/src/strings/iter.go`), as standard
/// library packages do.
fn looks_like_goroot_file(file: &str) -> bool {
    file.rsplit_once("/src/")
        .and_then(|(_, rest)| rest.split('/').next())
        .is_some_and(|first| !first.is_empty() && !first.contains('.') && file.starts_with('/'))
}

/// Whether an import path is a module's path or a package below it.
fn module_contains(module: &str, import_path: &str) -> bool {
    import_path
        .strip_prefix(module)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Standard library and runtime import paths have no dot in their first element;
/// `main` is the program itself.
fn looks_external(import_path: &str) -> bool {
    if import_path.is_empty() || import_path == "main" {
        return false;
    }
    let first = import_path.split('/').next().unwrap_or(import_path);
    !first.contains('.')
}

/// Classifies the external frames (leaf first) below a workspace frame.
fn alloc_kind(external: &[&str]) -> AllocKind {
    let Some(outermost) = external.last() else {
        return AllocKind::Direct;
    };
    let runtime_only = external
        .iter()
        .all(|f| f.starts_with("runtime.") || f.starts_with("internal/runtime/"));
    if external
        .iter()
        .any(|f| f.starts_with("runtime.mapassign") || f.starts_with("internal/runtime/maps."))
        && runtime_only
    {
        return AllocKind::MapGrowth;
    }
    if runtime_only && external.contains(&"runtime.growslice") {
        return AllocKind::Append;
    }
    if runtime_only {
        return AllocKind::Direct;
    }
    AllocKind::Call(outermost.to_string())
}

/// Number of trailing path components two paths share.
fn suffix_len(recorded: &str, local: &Path) -> usize {
    let a: Vec<&str> = recorded
        .split(['/', '\\'])
        .filter(|c| !c.is_empty())
        .collect();
    let b: Vec<String> = local
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| **x == y.as_str())
        .count()
}

/// The innermost function whose span contains a line.
fn innermost_function(functions: &[Function], line: u32) -> Option<usize> {
    functions
        .iter()
        .enumerate()
        .filter(|(_, f)| f.span.start_line <= line && line <= f.span.end_line)
        .min_by_key(|(_, f)| f.span.end_line - f.span.start_line)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_symbols() {
        assert_eq!(
            split_symbol("example.com/svc/cache.(*Store).Put"),
            ("example.com/svc/cache".into(), "(*Store).Put")
        );
        assert_eq!(
            split_symbol("main.startWorkers.func1.2"),
            ("main".into(), "startWorkers.func1.2")
        );
        assert_eq!(
            split_symbol("runtime.mallocgc"),
            ("runtime".into(), "mallocgc")
        );
        assert_eq!(
            split_symbol("internal/runtime/maps.(*table).grow"),
            ("internal/runtime/maps".into(), "(*table).grow")
        );
        assert_eq!(
            split_symbol("main.Collect[go.shape.*example.com/x.T]"),
            ("main".into(), "Collect[go.shape.*example.com/x.T]")
        );
        assert_eq!(
            split_symbol("gopkg.in/yaml%2ev3.(*parser).parse"),
            ("gopkg.in/yaml.v3".into(), "(*parser).parse")
        );
    }

    #[test]
    fn normalizes_type_arguments() {
        assert_eq!(normalize_symbol("Collect[go.shape.string]"), "Collect[...]");
        assert_eq!(
            normalize_symbol("(*List[go.shape.map[string]int]).Push"),
            "(*List[...]).Push"
        );
        assert_eq!(normalize_symbol("F.func1"), "F.func1");
    }

    #[test]
    fn classifies_producers() {
        assert_eq!(alloc_kind(&[]), AllocKind::Direct);
        assert_eq!(
            alloc_kind(&[
                "internal/runtime/maps.newarray",
                "internal/runtime/maps.(*table).grow",
                "runtime.mapassign_faststr"
            ]),
            AllocKind::MapGrowth
        );
        assert_eq!(alloc_kind(&["runtime.growslice"]), AllocKind::Append);
        assert_eq!(
            alloc_kind(&["bytes.growSlice", "bytes.(*Buffer).grow", "fmt.Fprintf"]),
            AllocKind::Call("fmt.Fprintf".into())
        );
        assert!(looks_external("fmt"));
        assert!(looks_external("internal/runtime/maps"));
        assert!(!looks_external("example.com/x"));
        assert!(!looks_external("main"));
    }
}
