//! Document sync: open, incremental change (applied strictly in version order, early
//! arrivals held back), save and close. Each change re-parses the document incrementally,
//! updates the workspace index and schedules a debounced analysis.

use std::path::Path;
use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use super::super::convert::path_of;
use super::super::state::{Doc, Inner};

fn is_go(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "go")
}

/// Updates the index with an open document's current summary.
fn sync_index(s: &mut super::super::state::Shared, path: &Path) {
    let (Some(ws), Some(doc)) = (s.ws.as_mut(), s.docs.get_mut(path)) else {
        return;
    };
    let ws = Arc::make_mut(ws);
    if doc.parsed.is_none() {
        doc.parsed = Some(ws.open_document(path, doc.text.clone()));
    }
    if let Some(p) = &doc.parsed {
        ws.update_document(p);
    }
}

pub fn did_open(inner: &Arc<Inner>, params: DidOpenTextDocumentParams) {
    let Some(path) = path_of(&params.text_document.uri) else {
        return;
    };
    if !is_go(&path) {
        return;
    }
    {
        let mut s = inner.lock();
        let td = params.text_document;
        s.docs.insert(path.clone(), Doc::new(td.version, td.text));
        sync_index(&mut s, &path);
    }
    inner.schedule();
}

/// How long a change that skipped a version waits for the missing one (clients may
/// also number versions with gaps, so it is applied after this in any case).
const GAP_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Applies the pending changes whose turn has come: the next version, a full
/// replacement, or with `force` every pending one in version order.
fn drain(
    doc: &mut Doc,
    path: &Path,
    enc: super::super::convert::Encoding,
    force: bool,
) -> Option<String> {
    let mut err = None;
    while let Some((&v, changes)) = doc.pending.iter().next() {
        let full = changes.iter().any(|c| c.range.is_none());
        if v <= doc.version && !full {
            // A repeated or outdated version: drop it.
            doc.pending.remove(&v);
            continue;
        }
        if v != doc.version + 1 && !full && !force {
            break;
        }
        let changes = doc.pending.remove(&v).unwrap_or_default();
        for c in &changes {
            if let Err(e) = doc.apply(c, enc) {
                err = Some(format!(
                    "heapspot: {}: the edit of version {v} does not fit the document: {e}",
                    path.display()
                ));
                break;
            }
        }
        doc.version = v;
    }
    err
}

/// Applies changes in version order; a change that arrives ahead of its turn waits
/// briefly for the missing version. Returns an error to show when an edit does not fit
/// the document.
pub fn did_change(inner: &Arc<Inner>, params: DidChangeTextDocumentParams) -> Option<String> {
    let path = path_of(&params.text_document.uri)?;
    if !is_go(&path) {
        return None;
    }
    let enc = inner.encoding();
    let (err, waiting) = {
        let mut s = inner.lock();
        let doc = s.docs.get_mut(&path)?;
        doc.pending
            .insert(params.text_document.version, params.content_changes);
        let err = drain(doc, &path, enc, false);
        let waiting = !doc.pending.is_empty();
        sync_index(&mut s, &path);
        (err, waiting)
    };
    if waiting {
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            tokio::time::sleep(GAP_WAIT).await;
            let err = {
                let mut s = inner.lock();
                let Some(doc) = s.docs.get_mut(&path) else {
                    return;
                };
                let err = drain(doc, &path, enc, true);
                sync_index(&mut s, &path);
                err
            };
            if let Some(e) = err {
                inner.client.show_message(MessageType::ERROR, e).await;
            }
            inner.schedule();
        });
    }
    inner.schedule();
    err
}

pub fn did_close(inner: &Arc<Inner>, params: DidCloseTextDocumentParams) {
    let Some(path) = path_of(&params.text_document.uri) else {
        return;
    };
    {
        let mut s = inner.lock();
        if s.docs.remove(&path).is_none() {
            return;
        }
        // The index goes back to the file on disk.
        if let Some(ws) = s.ws.as_mut() {
            let ws = Arc::make_mut(ws);
            match std::fs::read(&path) {
                Ok(b) => {
                    ws.update_file(&path, &String::from_utf8_lossy(&b));
                }
                Err(_) => {
                    ws.remove_file(&path);
                }
            }
        }
    }
    inner.schedule();
}

pub fn did_save(inner: &Arc<Inner>, _params: DidSaveTextDocumentParams) {
    // Suppression comments and fingerprints read the file on disk: re-analyze.
    inner.schedule();
}
