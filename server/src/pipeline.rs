//! The analysis pipeline, written once for `heapspot check`, the language server and the
//! tests: loaded snapshots are attributed to workspace lines (`evidence`), the rules run
//! over the workspace (with unsaved buffers as overrides) and both are joined into
//! findings (`findings`). Loading files and reporting belong to the callers.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::evidence::{gather, Evidence};
use crate::findings::{analyze, Finding, Inputs};
use crate::mapping::Mapper;
use crate::profile::{Profile, ProfileError};
use crate::rules;
use crate::source::index::Workspace;

/// What one analysis reads. The profiles of each kind are snapshots of one kind; `gather`
/// orders them by time.
pub struct Request<'a, P: Borrow<Profile>> {
    pub root: &'a Path,
    pub config: &'a Config,
    pub ws: &'a Workspace,
    pub mapper: &'a Mapper,
    pub heap: &'a [P],
    pub goroutines: &'a [P],
    pub base: Option<&'a Profile>,
    /// Texts of unsaved buffers, replacing the files on disk for the rules.
    pub overrides: &'a [(PathBuf, Arc<str>)],
}

/// What one analysis found. A kind whose snapshots could not be joined has no evidence
/// and its error is in `errors`; the findings are computed from what remains.
#[derive(Debug, Default)]
pub struct Outcome {
    pub heap: Option<Evidence>,
    pub goroutines: Option<Evidence>,
    pub base: Option<Evidence>,
    pub findings: Vec<Finding>,
    pub errors: Vec<ProfileError>,
}

/// Runs evidence, rules and findings.
pub fn run<P: Borrow<Profile>>(req: Request<'_, P>) -> Outcome {
    let mut errors = Vec::new();
    let mut evidence = |ps: &[&Profile]| -> Option<Evidence> {
        if ps.is_empty() {
            return None;
        }
        gather(req.mapper, ps).map_err(|e| errors.push(e)).ok()
    };
    let heap_refs: Vec<&Profile> = req.heap.iter().map(Borrow::borrow).collect();
    let gor_refs: Vec<&Profile> = req.goroutines.iter().map(Borrow::borrow).collect();
    let heap = evidence(&heap_refs);
    let goroutines = evidence(&gor_refs);
    let base = req.base.and_then(|b| evidence(&[b]));

    let config = req.config;
    let matches = rules::run(req.ws, &|id| config.rule_enabled(id), req.overrides);
    let findings = analyze(Inputs {
        root: req.root,
        config,
        matches,
        heap: heap.as_ref(),
        goroutines: goroutines.as_ref(),
        base: base.as_ref(),
    });
    Outcome {
        heap,
        goroutines,
        base,
        findings,
        errors,
    }
}
