//! The leak rule catalog (`shared` LEAK-RULES, one module per rule) and the machinery they
//! share. A rule reads one package at a time, with every file's text, syntax tree and
//! summary, and reports [`Match`]es: the cause line, the declaration, the lines whose
//! retained memory (or blocked goroutines) is its evidence, and safe fixes. Rules say
//! nothing about severity: `findings` joins matches with the profiles and decides.
//! Rules never see LSP types and do no IO beyond what [`Package::load`] reads.

pub(crate) mod abandoned_waits;
pub mod cache_no_eviction;
pub mod closure_registry_leak;
pub mod context_cancel_not_called;
pub mod defer_in_loop;
pub mod finalizer_cycle;
pub(crate) mod flow;
pub mod global_slice_append;
pub mod goroutine_blocked_recv;
pub mod goroutine_blocked_send;
pub mod http_body_not_closed;
pub mod map_field_no_delete;
pub mod map_high_water_mark;
pub(crate) mod partial_release;
pub(crate) mod parts;
pub(crate) mod paths;
pub(crate) mod route_labels;
pub mod subslice_retains_backing_array;
pub mod substring_retains_string;
pub mod sync_pool_oversized_buffer;
pub mod syntax;
#[cfg(test)]
pub(crate) mod testing;
pub mod ticker_not_stopped;
pub mod time_after_in_loop;
pub mod unbounded_global_map;

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use tree_sitter::Tree;

use self::flow::PackageIndex;
use crate::source::index::Workspace;
use crate::source::model::{FileSummary, Span};
use crate::source::parse::parse_tree;

/// Which profiles carry a rule's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// In-use memory from heap profiles.
    Heap,
    /// Goroutine counts from goroutine profiles.
    Goroutine,
}

/// What a rule is, for diagnostics, SARIF and docs.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id, e.g. `unbounded-global-map`; also the doc's file name under docs/rules/.
    pub id: &'static str,
    /// Short title, e.g. "Unbounded global map".
    pub name: &'static str,
    /// One sentence: what leaks and why.
    pub summary: &'static str,
    pub evidence: EvidenceKind,
    /// The leak shows as growth (entries added for good): a large share that three or
    /// more snapshots show not growing is information, not a warning.
    pub grows: bool,
}

/// A Go version from the `go` line of go.mod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    pub major: u32,
    pub minor: u32,
}

impl GoVersion {
    /// Parses `1.22`, `1.23.4`, `1.24rc1`.
    pub fn parse(s: &str) -> Option<GoVersion> {
        let mut it = s.trim().split('.');
        let major = it.next()?.parse().ok()?;
        let minor_text = it.next().unwrap_or("0");
        let digits: String = minor_text
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let minor = digits.parse().ok()?;
        Some(GoVersion { major, minor })
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// One Go file as the rules see it.
#[derive(Debug)]
pub struct SourceFile {
    pub summary: Arc<FileSummary>,
    pub text: Arc<str>,
    pub tree: Tree,
}

impl SourceFile {
    pub fn path(&self) -> &Path {
        &self.summary.path
    }

    /// The 1-based line and byte range of a node.
    pub fn span(&self, node: tree_sitter::Node<'_>) -> Span {
        syntax::span(node)
    }

    /// The text of a node.
    pub fn text_of(&self, node: tree_sitter::Node<'_>) -> &str {
        syntax::text(node, &self.text)
    }

    /// A location in this file.
    pub fn location(&self, node: tree_sitter::Node<'_>) -> Location {
        Location {
            file: self.summary.path.clone(),
            span: syntax::span(node),
        }
    }
}

/// The files of one package (one import path), test files included (flagged in their
/// summaries), and the module's Go version.
#[derive(Debug)]
pub struct Package {
    pub import_path: String,
    pub files: Vec<SourceFile>,
    pub go_version: Option<GoVersion>,
}

impl Package {
    /// Reads and parses the files of one package. Files that cannot be read are skipped
    /// (the index already reported them); open editor documents can be passed as
    /// `overrides` (path, text).
    pub fn load(ws: &Workspace, import_path: &str, overrides: &[(PathBuf, Arc<str>)]) -> Package {
        let summaries = ws.package(import_path);
        let go_version = summaries
            .first()
            .and_then(|f| ws.module_for(&f.path))
            .and_then(|m| m.go_version.as_deref())
            .and_then(GoVersion::parse);
        let files = summaries
            .into_iter()
            .filter(|s| !s.is_vendor)
            .filter_map(|summary| {
                let text: Arc<str> = match overrides.iter().find(|(p, _)| *p == summary.path) {
                    Some((_, t)) => t.clone(),
                    None => Arc::from(
                        String::from_utf8_lossy(&std::fs::read(&summary.path).ok()?).as_ref(),
                    ),
                };
                let tree = parse_tree(&text, None)?;
                Some(SourceFile {
                    summary,
                    text,
                    tree,
                })
            })
            .collect();
        Package {
            import_path: import_path.to_string(),
            files,
            go_version,
        }
    }

    /// Files that are part of the program (not `_test.go`, not generated).
    pub fn program_files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files
            .iter()
            .filter(|f| !f.summary.is_test && !f.summary.is_generated)
    }
}

/// Open editor documents that replace files' text: (path, text).
pub type Overrides = [(PathBuf, Arc<str>)];

/// A package as a rule checks it: the [`Package`] (through `Deref`) and what is
/// computed once per package for every rule, on first use: the [`PackageIndex`] of its
/// program files (package-level names, functions, methods, imports, identifiers). When
/// run over a workspace it can also load another package of the workspace, so a rule
/// can look one call deep into a callee or a caller in another package; each package
/// loaded that way is parsed once per context.
pub struct Context<'p> {
    pkg: &'p Package,
    index: OnceLock<PackageIndex<'p>>,
    workspace: Option<(&'p Workspace, &'p Overrides)>,
    others: Mutex<HashMap<String, Option<Arc<Package>>>>,
    /// The other packages the cut rules' backward walk reaches, found on first use.
    reachable: OnceLock<Vec<Arc<Package>>>,
}

impl<'p> Context<'p> {
    pub fn new(pkg: &'p Package) -> Context<'p> {
        Context {
            pkg,
            index: OnceLock::new(),
            workspace: None,
            others: Mutex::new(HashMap::new()),
            reachable: OnceLock::new(),
        }
    }

    /// A context that can load the other packages of `ws` (with the same editor
    /// overrides as the package itself).
    pub fn in_workspace(
        pkg: &'p Package,
        ws: &'p Workspace,
        overrides: &'p Overrides,
    ) -> Context<'p> {
        Context {
            workspace: Some((ws, overrides)),
            ..Context::new(pkg)
        }
    }

    /// The package index, built on first use.
    pub(crate) fn index(&self) -> &PackageIndex<'p> {
        self.index.get_or_init(|| PackageIndex::new(self.pkg))
    }

    /// The other workspace packages the backward walk from this package's stores enters
    /// ([`parts::reachable_packages`]), found once for both cut rules.
    pub(crate) fn reachable_packages(&self) -> &[Arc<Package>] {
        self.reachable
            .get_or_init(|| parts::reachable_packages(self))
    }

    /// Another package of the workspace by import path, loaded and parsed on first use;
    /// `None` for this package itself, for a path outside the workspace (the standard
    /// library, dependencies) and without a workspace.
    pub(crate) fn other_package(&self, import_path: &str) -> Option<Arc<Package>> {
        let (ws, overrides) = self.workspace?;
        if import_path == self.pkg.import_path {
            return None;
        }
        let mut cache = self.others.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(import_path.to_string())
            .or_insert_with(|| {
                if ws.package(import_path).is_empty() {
                    return None;
                }
                let p = Package::load(ws, import_path, overrides);
                (!p.files.is_empty()).then(|| Arc::new(p))
            })
            .clone()
    }

    /// The import paths of the workspace's packages with program files (at most `max`),
    /// from the file summaries.
    pub(crate) fn workspace_packages(&self, max: usize) -> Vec<String> {
        let Some((ws, _)) = self.workspace else {
            return Vec::new();
        };
        let mut out: Vec<String> = ws
            .files()
            .filter(|f| !f.is_test && !f.is_generated && !f.is_vendor)
            .map(|f| f.import_path.clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out.truncate(max);
        out
    }

    /// Whether `import_path` is a package of the workspace (from the file summaries).
    pub(crate) fn workspace_has(&self, import_path: &str) -> bool {
        self.workspace
            .is_some_and(|(ws, _)| !ws.package(import_path).is_empty())
    }

    /// The import paths of the other workspace packages whose program files call
    /// something named `name` (`name(...)`, `x.name(...)`), from the file summaries,
    /// without parsing; a superset of the packages that call a given function `name`.
    pub(crate) fn packages_calling(&self, name: &str) -> Vec<String> {
        self.packages_calling_outside(name, &self.pkg.import_path)
    }

    /// [`Context::packages_calling`] for a function of the package `path`, which may be
    /// another package than the context's: the workspace packages other than `path`.
    pub(crate) fn packages_calling_outside(&self, name: &str, path: &str) -> Vec<String> {
        let Some((ws, _)) = self.workspace else {
            return Vec::new();
        };
        let suffix = format!(".{name}");
        let mut out: Vec<String> = ws
            .files()
            .filter(|f| !f.is_test && !f.is_generated && !f.is_vendor)
            .filter(|f| f.import_path != path)
            .filter(|f| {
                f.ops.iter().any(|o| {
                    o.kind == crate::source::model::OpKind::Call
                        && (o.target == name || o.target.ends_with(&suffix))
                })
            })
            .map(|f| f.import_path.clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Deref for Context<'_> {
    type Target = Package;

    fn deref(&self) -> &Package {
        self.pkg
    }
}

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    #[serde(skip)]
    pub span: Span,
}

impl Location {
    /// The 1-based lines this location covers.
    pub fn lines(&self) -> std::ops::RangeInclusive<u32> {
        self.span.start_line..=self.span.end_line
    }
}

/// A location with a note, e.g. the declaration or a write site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// A byte-range replacement in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub file: PathBuf,
    pub start_byte: usize,
    pub end_byte: usize,
    pub new_text: String,
}

/// A safe edit a rule offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

/// What a rule found: the code pattern, without profile numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub rule: &'static str,
    /// The line that causes the leak (the write, the append, the `go` statement, ...).
    pub location: Location,
    /// What holds the memory, e.g. the map's name `sessions` or `Store.items`.
    pub subject: String,
    /// What the code does, e.g. `package-level map "sessions" is written in Touch and
    /// never deleted from`.
    pub message: String,
    /// The subject's declaration, where one exists (suppressions there count too).
    pub declaration: Option<Location>,
    pub related: Vec<Related>,
    /// Lines whose profile values are this match's evidence: for heap rules the writes,
    /// appends and the allocation sites of values stored; for goroutine rules the lines
    /// where the goroutines block.
    pub evidence: Vec<Location>,
    pub fixes: Vec<Fix>,
    /// Set when the module's Go version makes this pattern less harmful (e.g. tickers are
    /// collected from Go 1.23); the severity is lowered and this says why.
    pub version_note: Option<String>,
    /// The pattern leaks only under load (a timer per call of a function, not per loop
    /// iteration): it is reported only when the profiles show its memory growing.
    pub needs_growth: bool,
    /// Map fields (`Registry.histograms`) this match's cause fills from elsewhere: a
    /// label without bound, a wait abandoned. Their own findings point here and are
    /// lowered to information, since the fix belongs on this match's line.
    pub fills: Vec<String>,
}

impl Match {
    /// The same finding seen from a second line that takes part in it, where the fix
    /// goes: the cut of a substring kept on another line, the unbuffered `make` of a
    /// blocked send, the `return` that leaves a body open. The copy says `prefix` before
    /// the message and relates this finding's line with `here`.
    pub(crate) fn also_at(&self, at: Location, prefix: &str, here: String) -> Match {
        let line = |l: &Location| (l.file.clone(), l.span.start_line);
        let mut copy = self.clone();
        copy.message = format!("{prefix}: {}", self.message);
        copy.related.retain(|r| line(&r.location) != line(&at));
        copy.related.push(Related {
            location: self.location.clone(),
            message: here,
        });
        copy.location = at;
        copy
    }
}

/// A leak rule.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Appends the matches found in one package.
    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>);
}

/// What goroutines parked at a line of Go source wait on, as the goroutine rule that
/// describes it: a channel send (`goroutine-blocked-send`) or a channel receive, plain or
/// ranged (`goroutine-blocked-recv`). `None` for anything else (a lock, a sleep, a
/// `select`, which may wait on either). Used to name a climbing goroutine site that no
/// rule matched.
pub fn goroutine_wait_at(text: &str, line: u32) -> Option<&'static str> {
    let tree = crate::source::parse::parse_tree(text, None)?;
    let row = usize::try_from(line.checked_sub(1)?).ok()?;
    let mut found = None;
    for n in syntax::descendants(tree.root_node()) {
        if n.start_position().row != row {
            continue;
        }
        let kind = match n.kind() {
            "select_statement" => return None,
            "send_statement" => "goroutine-blocked-send",
            "unary_expression" if flow::operator(n, text) == "<-" => "goroutine-blocked-recv",
            "range_clause" => "goroutine-blocked-recv",
            _ => continue,
        };
        found.get_or_insert(kind);
    }
    found
}

/// Every rule, in catalog order.
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(unbounded_global_map::UnboundedGlobalMap),
        Box::new(map_field_no_delete::MapFieldNoDelete),
        Box::new(global_slice_append::GlobalSliceAppend),
        Box::new(subslice_retains_backing_array::SubsliceRetainsBackingArray),
        Box::new(substring_retains_string::SubstringRetainsString),
        Box::new(ticker_not_stopped::TickerNotStopped),
        Box::new(time_after_in_loop::TimeAfterInLoop),
        Box::new(defer_in_loop::DeferInLoop),
        Box::new(goroutine_blocked_send::GoroutineBlockedSend),
        Box::new(goroutine_blocked_recv::GoroutineBlockedRecv),
        Box::new(context_cancel_not_called::ContextCancelNotCalled),
        Box::new(http_body_not_closed::HttpBodyNotClosed),
        Box::new(sync_pool_oversized_buffer::SyncPoolOversizedBuffer),
        Box::new(finalizer_cycle::FinalizerCycle),
        Box::new(cache_no_eviction::CacheNoEviction),
        Box::new(closure_registry_leak::ClosureRegistryLeak),
        Box::new(map_high_water_mark::MapHighWaterMark),
    ]
}

/// The metadata of every rule.
pub fn catalog() -> Vec<&'static RuleMeta> {
    all().iter().map(|r| r.meta()).collect()
}

/// Runs the enabled rules over every package of the workspace in parallel; each package
/// is parsed, checked and dropped, so only a few trees are alive at once.
pub fn run(
    ws: &Workspace,
    enabled: &(dyn Fn(&str) -> bool + Sync),
    overrides: &[(PathBuf, Arc<str>)],
) -> Vec<Match> {
    let rules: Vec<Box<dyn Rule>> = all().into_iter().filter(|r| enabled(r.meta().id)).collect();
    let mut packages: Vec<&str> = ws.import_paths().collect();
    packages.sort_unstable();
    packages.dedup();
    let mut out: Vec<Match> = packages
        .par_iter()
        .flat_map_iter(|ip| {
            let pkg = Package::load(ws, ip, overrides);
            let cx = Context::in_workspace(&pkg, ws, overrides);
            let mut found = Vec::new();
            for r in &rules {
                r.check(&cx, &mut found);
            }
            found
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.location.file, a.location.span.start_line, a.rule).cmp(&(
            &b.location.file,
            b.location.span.start_line,
            b.rule,
        ))
    });
    out
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let ids: Vec<&str> = catalog().iter().map(|m| m.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate rule ids: {ids:?}");
        assert_eq!(ids.len(), 17, "the catalog has 17 rules");
        for m in catalog() {
            assert!(!m.name.is_empty() && m.summary.ends_with('.'), "{}", m.id);
        }
    }

    #[test]
    fn every_rule_survives_broken_code() {
        let fixture = "-- main.go --\npackage main\n\nvar m = map[string]int{\n\nfunc main() { for { defer go select ch <- }\n";
        for r in all() {
            // Must not panic; what it reports on broken code is its own business.
            let _ = testing::render(r.as_ref(), fixture);
        }
    }
}
