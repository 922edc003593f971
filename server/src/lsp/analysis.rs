//! One immutable analysis snapshot: the workspace as the editor sees it (open documents
//! included), the profiles, the evidence and the findings, computed on the blocking pool
//! by the same pipeline as `heapspot check`. Handlers read a snapshot and never block on
//! a running analysis; positions are converted with the document texts the snapshot saw.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::annotate::{Annotations, CallPaths};
use crate::config::{expand, Config};
use crate::evidence::Evidence;
use crate::findings::{ignores, Finding};
use crate::mapping::Mapper;
use crate::pipeline::{self, Request};
use crate::profile::{Limits, Profile};
use crate::source::index::Workspace;

use super::convert::LineIndex;

/// Loaded profiles by path, reused while the file's size and time are unchanged.
#[derive(Debug, Default)]
pub struct ProfileCache {
    entries: HashMap<PathBuf, (Option<SystemTime>, u64, Arc<Profile>)>,
}

impl ProfileCache {
    /// Loads a profile or returns the cached one; the error names the file.
    pub fn load(cache: &Mutex<ProfileCache>, path: &Path) -> Result<Arc<Profile>, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = (meta.modified().ok(), meta.len());
        if let Ok(c) = cache.lock() {
            if let Some((m, l, p)) = c.entries.get(path) {
                if (*m, *l) == key {
                    return Ok(Arc::clone(p));
                }
            }
        }
        let p = Arc::new(Profile::from_path(path, Limits::default()).map_err(|e| e.to_string())?);
        if let Ok(mut c) = cache.lock() {
            c.entries
                .insert(path.to_path_buf(), (key.0, key.1, Arc::clone(&p)));
        }
        Ok(p)
    }
}

/// Whether a profile holds goroutine counts rather than heap values.
pub fn is_goroutine_profile(p: &Profile) -> bool {
    p.sample_types
        .first()
        .is_some_and(|t| t.ty == "goroutine" || (p.sample_types.len() == 1 && t.ty == "count"))
}

/// An open document as an analysis sees it.
#[derive(Debug, Clone)]
pub struct DocInput {
    pub path: PathBuf,
    pub version: i32,
    pub index: Arc<LineIndex>,
}

/// Everything an analysis run reads, captured under the state lock.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub generation: u64,
    pub root: PathBuf,
    pub ws: Arc<Workspace>,
    pub config: Config,
    pub docs: Vec<DocInput>,
    /// Heap profiles given by command, replacing the configured patterns.
    pub heap_override: Option<Vec<PathBuf>>,
    pub goroutine_override: Option<Vec<PathBuf>>,
    /// Live snapshots, oldest first, appended to the configured profiles.
    pub live_heap: Vec<PathBuf>,
    pub live_goroutine: Vec<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub sample_type: Option<String>,
    pub cache: Arc<Mutex<ProfileCache>>,
}

/// One finished analysis.
#[derive(Debug)]
pub struct Analysis {
    pub generation: u64,
    pub root: PathBuf,
    pub ws: Option<Arc<Workspace>>,
    pub config: Config,
    /// Document versions and texts this analysis saw.
    pub docs: HashMap<PathBuf, DocInput>,
    pub findings: Vec<Finding>,
    pub heap: Option<Evidence>,
    pub goroutines: Option<Evidence>,
    pub base: Option<Evidence>,
    pub heap_files: Vec<PathBuf>,
    pub goroutine_files: Vec<PathBuf>,
    pub baseline: Option<PathBuf>,
    /// The heap snapshots in time order (the last one feeds `showTop`).
    pub heap_profiles: Vec<Arc<Profile>>,
    pub mapper: Option<Arc<Mapper>>,
    pub sample_type: Option<String>,
    /// Problems a user must see, each naming its file or pattern.
    pub errors: Vec<String>,
    disk: Mutex<HashMap<PathBuf, Option<Arc<LineIndex>>>>,
    /// Call paths into lines of the last snapshot, built on first use (hover).
    paths: OnceLock<Option<CallPaths>>,
}

impl Analysis {
    /// The snapshot before anything was analyzed.
    pub fn empty() -> Analysis {
        Analysis {
            generation: 0,
            root: PathBuf::new(),
            ws: None,
            config: Config::default(),
            docs: HashMap::new(),
            findings: Vec::new(),
            heap: None,
            goroutines: None,
            base: None,
            heap_files: Vec::new(),
            goroutine_files: Vec::new(),
            baseline: None,
            heap_profiles: Vec::new(),
            mapper: None,
            sample_type: None,
            errors: Vec::new(),
            disk: Mutex::new(HashMap::new()),
            paths: OnceLock::new(),
        }
    }

    /// The line index of a file as this analysis saw it: the open document's text, or
    /// the file on disk (read once).
    pub fn index(&self, path: &Path) -> Option<Arc<LineIndex>> {
        if let Some(d) = self.docs.get(path) {
            return Some(Arc::clone(&d.index));
        }
        let mut disk = self.disk.lock().ok()?;
        disk.entry(path.to_path_buf())
            .or_insert_with(|| {
                std::fs::read(path).ok().map(|b| {
                    Arc::new(LineIndex::new(Arc::from(
                        String::from_utf8_lossy(&b).as_ref(),
                    )))
                })
            })
            .clone()
    }

    /// The findings located in one file.
    pub fn findings_in<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| f.location.file == path)
    }

    /// The selected sample type's name: the chosen one when the profiles have it, else
    /// `inuse_space`, else the profiles' last type.
    pub fn sample_type_name(&self) -> Option<String> {
        let types = self.sample_types();
        if let Some(t) = &self.sample_type {
            if types.contains(t) {
                return Some(t.clone());
            }
        }
        if types.iter().any(|t| t == "inuse_space") {
            return Some("inuse_space".into());
        }
        types.last().cloned()
    }

    /// The annotations input for the selected sample type; `None` without heap evidence.
    pub fn annotations(&self) -> Option<Annotations<'_>> {
        let heap = self.heap.as_ref()?;
        let sample = heap.type_index(&self.sample_type_name()?)?;
        Some(Annotations {
            evidence: heap,
            sample,
            findings: &self.findings,
            thresholds: &self.config.thresholds,
            base: self.base.as_ref(),
        })
    }

    /// The call paths of the last snapshot for the selected sample type (built once;
    /// call from the blocking pool).
    pub fn call_paths(&self) -> Option<&CallPaths> {
        self.paths
            .get_or_init(|| {
                let last = self.heap_profiles.last()?;
                let mapper = self.mapper.as_ref()?;
                let idx = last.sample_index(self.sample_type_name().as_deref()).ok()?;
                CallPaths::build(mapper, last, idx).ok()
            })
            .as_ref()
    }

    /// The sample types of the heap profiles.
    pub fn sample_types(&self) -> Vec<String> {
        self.heap
            .as_ref()
            .map(|e| e.sample_types.iter().map(|t| t.ty.clone()).collect())
            .unwrap_or_default()
    }
}

fn load_all(
    cache: &Mutex<ProfileCache>,
    paths: &[PathBuf],
    errors: &mut Vec<String>,
) -> Vec<(PathBuf, Arc<Profile>)> {
    paths
        .iter()
        .filter_map(|p| match ProfileCache::load(cache, p) {
            Ok(prof) => Some((p.clone(), prof)),
            Err(e) => {
                errors.push(e);
                None
            }
        })
        .collect()
}

fn expand_each(root: &Path, patterns: &[String], errors: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in patterns {
        match expand(root, std::slice::from_ref(p)) {
            Ok(files) => {
                for f in files {
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    out
}

/// Keeps the profiles whose sample types match the first one's, reporting the others.
fn one_kind(
    profiles: Vec<(PathBuf, Arc<Profile>)>,
    errors: &mut Vec<String>,
) -> Vec<(PathBuf, Arc<Profile>)> {
    let Some(first) = profiles.first().map(|(_, p)| p.sample_types.clone()) else {
        return profiles;
    };
    profiles
        .into_iter()
        .filter(|(path, p)| {
            let same = p.sample_types == first;
            if !same {
                errors.push(format!(
                    "{}: its sample types differ from the other snapshots; skipped",
                    path.display()
                ));
            }
            same
        })
        .collect()
}

/// Runs the whole pipeline. Never fails: problems become `errors`.
pub fn run(inputs: Inputs) -> Analysis {
    let mut errors = Vec::new();
    let root = inputs.root.clone();
    let config = &inputs.config;
    let mut heap_files = match &inputs.heap_override {
        Some(list) => list.clone(),
        None => expand_each(&root, &config.profiles, &mut errors),
    };
    heap_files.extend(inputs.live_heap.iter().cloned());
    let mut goroutine_files = match &inputs.goroutine_override {
        Some(list) => list.clone(),
        None => expand_each(&root, &config.goroutine_profiles, &mut errors),
    };
    goroutine_files.extend(inputs.live_goroutine.iter().cloned());

    let heap = one_kind(
        load_all(&inputs.cache, &heap_files, &mut errors),
        &mut errors,
    );
    let gor = one_kind(
        load_all(&inputs.cache, &goroutine_files, &mut errors),
        &mut errors,
    );
    let base = inputs
        .baseline
        .as_ref()
        .and_then(|b| match ProfileCache::load(&inputs.cache, b) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(e);
                None
            }
        });

    let ws = &inputs.ws;
    let mapper = Arc::new(Mapper::from_workspace(ws, config.path_mappings.clone()));
    let overrides: Vec<(PathBuf, Arc<str>)> = inputs
        .docs
        .iter()
        .map(|d| (d.path.clone(), d.index.shared_text()))
        .collect();
    for (p, t) in &overrides {
        mapper.set_text(p, Arc::clone(t));
    }
    let heap_profiles: Vec<&Profile> = heap.iter().map(|(_, p)| &**p).collect();
    let gor_profiles: Vec<&Profile> = gor.iter().map(|(_, p)| &**p).collect();
    let outcome = pipeline::run(Request {
        root: &root,
        config,
        ws,
        mapper: &mapper,
        heap: &heap_profiles,
        goroutines: &gor_profiles,
        base: base.as_deref(),
        overrides: &overrides,
    });
    errors.extend(outcome.errors.iter().map(ToString::to_string));
    let (heap_ev, gor_ev, base_ev, mut findings) = (
        outcome.heap,
        outcome.goroutines,
        outcome.base,
        outcome.findings,
    );
    // Suppression comments typed in an open document count before it is saved.
    let docs: HashMap<PathBuf, DocInput> = inputs
        .docs
        .iter()
        .map(|d| (d.path.clone(), d.clone()))
        .collect();
    findings.retain(|f| {
        let suppressed_at = |loc: &crate::rules::Location| {
            docs.get(&loc.file).is_some_and(|d| {
                let n = loc.span.start_line;
                [n, n.saturating_sub(1)]
                    .into_iter()
                    .filter(|&l| l > 0)
                    .any(|l| d.index.line_text(l).is_some_and(|t| ignores(t, &f.rule)))
            })
        };
        !(suppressed_at(&f.location) || f.declaration.as_ref().is_some_and(suppressed_at))
    });

    // Heap snapshots in the order the evidence uses (by time).
    let mut heap_profiles: Vec<Arc<Profile>> = heap.iter().map(|(_, p)| Arc::clone(p)).collect();
    heap_profiles.sort_by_key(|p| p.time_nanos);

    Analysis {
        generation: inputs.generation,
        root,
        ws: Some(Arc::clone(ws)),
        config: config.clone(),
        docs,
        findings,
        heap: heap_ev,
        goroutines: gor_ev,
        base: base_ev,
        heap_files: heap.iter().map(|(p, _)| p.clone()).collect(),
        goroutine_files: gor.iter().map(|(p, _)| p.clone()).collect(),
        baseline: inputs.baseline.clone(),
        heap_profiles,
        mapper: Some(mapper),
        sample_type: inputs.sample_type.clone(),
        errors,
        disk: Mutex::new(HashMap::new()),
        paths: OnceLock::new(),
    }
}
