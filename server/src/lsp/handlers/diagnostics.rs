//! Diagnostics: the analysis worker (one run at a time, debounced after edits, off the
//! event loop), publishing every finding as a diagnostic for open files and the rest of
//! the workspace, dropping results computed for an older document version, and showing
//! new errors once.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::*;

use crate::findings::{Finding, Severity};
use crate::profile::units::format_value;
use crate::report::docs_url;

use super::super::analysis::{self, Analysis};
use super::super::convert::{uri_of, Encoding};
use super::super::state::{Inner, Trigger, DEBOUNCE};
use super::commands;

/// Runs analyses as triggers arrive until the channel closes.
pub async fn worker(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Trigger>) {
    while let Some(first) = rx.recv().await {
        let mut done = vec![first.done];
        if first.debounce {
            tokio::time::sleep(DEBOUNCE).await;
        }
        while let Ok(t) = rx.try_recv() {
            done.push(t.done);
        }
        run_once(&inner).await;
        for d in done.into_iter().flatten() {
            let _ = d.send(());
        }
    }
}

async fn run_once(inner: &Arc<Inner>) {
    let Some(inputs) = inner.inputs() else {
        return;
    };
    match tokio::task::spawn_blocking(move || analysis::run(inputs)).await {
        Ok(a) => publish(inner, Arc::new(a)).await,
        Err(e) => {
            inner
                .client
                .show_message(
                    MessageType::ERROR,
                    format!("heapspot: the analysis failed: {e}"),
                )
                .await;
        }
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// The diagnostic of one finding.
pub fn to_diagnostic(a: &Analysis, f: &Finding, enc: Encoding) -> Option<Diagnostic> {
    let idx = a.index(&f.location.file)?;
    let mut related = Vec::new();
    let mut add = |loc: &crate::rules::Location, message: String| {
        if let (Some(uri), Some(i)) = (uri_of(&loc.file), a.index(&loc.file)) {
            related.push(DiagnosticRelatedInformation {
                location: Location {
                    uri,
                    range: i.range(&loc.span, enc),
                },
                message,
            });
        }
    };
    if let Some(d) = &f.declaration {
        add(d, format!("{} is declared here", display_subject(f)));
    }
    for r in &f.related {
        add(&r.location, r.message.clone());
    }
    if let Some(ev) = &f.evidence {
        for (loc, v) in ev.sites.iter().take(5) {
            let what = if ev.sample_type == "goroutine" {
                format!("{v} goroutines blocked here")
            } else {
                format!("{} in use here", format_value(*v, &ev.unit))
            };
            add(loc, what);
        }
    }
    Some(Diagnostic {
        range: idx.range(&f.location.span, enc),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.rule.clone())),
        code_description: docs_url(&f.rule)
            .parse()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("heapspot".into()),
        message: f.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(serde_json::json!({ "fingerprint": f.fingerprint })),
    })
}

fn display_subject(f: &Finding) -> String {
    if f.subject.is_empty() {
        "it".into()
    } else {
        format!("\"{}\"", f.subject)
    }
}

/// Stores a finished analysis and publishes what changed.
pub async fn publish(inner: &Arc<Inner>, a: Arc<Analysis>) {
    let enc = inner.encoding();
    let mut by_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
    for f in &a.findings {
        if let Some(d) = to_diagnostic(&a, f, enc) {
            by_file.entry(f.location.file.clone()).or_default().push(d);
        }
    }
    let mut out: Vec<(PathBuf, Vec<Diagnostic>, Option<i32>)> = Vec::new();
    let new_errors: Vec<String>;
    {
        let mut s = inner.lock();
        let mut now = HashSet::new();
        let stale = |s: &super::super::state::Shared, p: &PathBuf| match s.docs.get(p) {
            None => false,
            Some(d) => a.docs.get(p).is_none_or(|seen| seen.version != d.version),
        };
        for (path, diags) in by_file {
            now.insert(path.clone());
            if stale(&s, &path) {
                continue;
            }
            let version = s.docs.get(&path).map(|d| d.version);
            out.push((path, diags, version));
        }
        for old in s.published.iter() {
            if !now.contains(old) && !stale(&s, old) {
                let version = s.docs.get(old).map(|d| d.version);
                out.push((old.clone(), Vec::new(), version));
            }
        }
        // Open documents the analysis saw with nothing to say get an empty list once.
        for (path, d) in &a.docs {
            if !now.contains(path)
                && !s.published.contains(path)
                && s.docs.get(path).is_some_and(|cur| cur.version == d.version)
            {
                out.push((path.clone(), Vec::new(), Some(d.version)));
            }
        }
        s.published = now;
        let errors: HashSet<String> = a.errors.iter().cloned().collect();
        new_errors = a
            .errors
            .iter()
            .filter(|e| !s.shown_errors.contains(*e))
            .cloned()
            .collect();
        s.shown_errors = errors;
    }
    inner.analysis.send_replace(Arc::clone(&a));
    for (path, diags, version) in out {
        if let Some(uri) = uri_of(&path) {
            inner.client.publish_diagnostics(uri, diags, version).await;
        }
    }
    for e in new_errors {
        inner
            .client
            .show_message(MessageType::ERROR, format!("heapspot: {e}"))
            .await;
    }
    commands::push_status(inner).await;
    let caps = inner.caps();
    if caps.code_lens_refresh || caps.inlay_hint_refresh {
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            if caps.code_lens_refresh {
                let _ = inner.client.code_lens_refresh().await;
            }
            if caps.inlay_hint_refresh {
                let _ = inner.client.inlay_hint_refresh().await;
            }
        });
    }
}
