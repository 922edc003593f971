//! `heapspot check` output: text for people, JSON for tools, SARIF 2.1.0 for code
//! scanning, and GitHub workflow annotations. Paths are shown relative to the workspace.

pub mod docs;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use std::path::Path;

use crate::evidence::{Evidence, StaleSite};
use crate::findings::{Finding, PROFILE_RULES};
use crate::rules::RuleMeta;

/// Everything a report shows.
#[derive(Debug)]
pub struct CheckReport<'a> {
    pub root: &'a Path,
    pub findings: &'a [Finding],
    pub heap: Option<&'a Evidence>,
    pub goroutines: Option<&'a Evidence>,
    pub base: Option<&'a Evidence>,
    /// Every rule (enabled or not), for SARIF's rule table.
    pub rules: Vec<&'static RuleMeta>,
}

impl CheckReport<'_> {
    /// A workspace path relative to the root, with `/` separators.
    pub fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Stale sites of the heap and goroutine evidence.
    pub fn stale(&self) -> impl Iterator<Item = &StaleSite> {
        self.heap
            .into_iter()
            .chain(self.goroutines)
            .flat_map(|e| e.stale.iter())
    }

    /// Counts of findings per severity: (errors, warnings, infos).
    pub fn counts(&self) -> (usize, usize, usize) {
        use crate::findings::Severity::*;
        let c = |s| self.findings.iter().filter(|f| f.severity == s).count();
        (c(Error), c(Warning), c(Info))
    }
}

/// The rule catalog plus the profile-only finding kinds.
pub fn all_rule_meta() -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = crate::rules::catalog();
    v.extend(PROFILE_RULES.iter());
    v
}

/// Where a rule's documentation lives: `HEAPSPOT_DOCS_URL` (a base URL ending in `/`)
/// when set, else a local copy of the page (see [`docs::local_dir`]: the source tree
/// heapspot was built from, or the pages compiled into the binary written to the cache).
pub fn docs_url(rule: &str) -> String {
    if let Ok(base) = std::env::var("HEAPSPOT_DOCS_URL") {
        if !base.is_empty() {
            return format!("{}{rule}.md", ensure_slash(&base));
        }
    }
    let dir = docs::local_dir().unwrap_or_else(docs::source_dir);
    format!("{}{rule}.md", file_uri(&dir, true))
}

fn ensure_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

/// A `file://` URI for an absolute path, percent-encoding what URIs do not allow.
pub fn file_uri(path: &Path, dir: bool) -> String {
    let mut s = String::from("file://");
    let p = path.to_string_lossy().replace('\\', "/");
    if !p.starts_with('/') {
        s.push('/');
    }
    s.push_str(&percent_encode(&p));
    if dir && !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Percent-encodes the bytes of a path that are not unreserved or `/`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
