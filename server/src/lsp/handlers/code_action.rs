//! Quick fixes: the rules' safe edits for the findings under the cursor, and "ignore with
//! a comment" (`//heapspot:ignore RULE-ID reason` on the line above, indented like it).

use std::collections::HashMap;
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::findings::Finding;

use super::super::analysis::Analysis;
use super::super::convert::{path_of, uri_of, Encoding};
use super::super::state::Inner;
use super::diagnostics::to_diagnostic;

/// The text inserted above a line to suppress `rule` there.
pub fn ignore_comment(indent: &str, rule: &str) -> String {
    format!("{indent}//heapspot:ignore {rule} reason: explain why this is not a leak\n")
}

/// Whether two ranges share a line (a cursor anywhere on a flagged line offers its fixes).
fn overlaps(a: &Range, b: &Range) -> bool {
    a.start.line <= b.end.line && b.start.line <= a.end.line
}

fn fix_actions(a: &Analysis, f: &Finding, diag: &Diagnostic, enc: Encoding) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for (i, fix) in f.fixes.iter().enumerate() {
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        let mut ok = true;
        for e in &fix.edits {
            let (Some(uri), Some(idx)) = (uri_of(&e.file), a.index(&e.file)) else {
                ok = false;
                break;
            };
            changes.entry(uri).or_default().push(TextEdit {
                range: Range {
                    start: idx.position(e.start_byte, enc),
                    end: idx.position(e.end_byte, enc),
                },
                new_text: e.new_text.clone(),
            });
        }
        if !ok {
            continue;
        }
        out.push(CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diag.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(changes),
                ..Default::default()
            }),
            is_preferred: Some(i == 0),
            ..Default::default()
        });
    }
    if let (Some(uri), Some(idx)) = (uri_of(&f.location.file), a.index(&f.location.file)) {
        let line = f.location.span.start_line;
        let text = idx.line_text(line).unwrap_or("");
        let indent = &text[..text.len() - text.trim_start().len()];
        let at = idx.position(idx.line_start(line), enc);
        let mut changes = HashMap::new();
        changes.insert(
            uri,
            vec![TextEdit {
                range: Range { start: at, end: at },
                new_text: ignore_comment(indent, &f.rule),
            }],
        );
        out.push(CodeAction {
            title: format!("Ignore {} here with a comment", f.rule),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diag.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(changes),
                ..Default::default()
            }),
            is_preferred: Some(false),
            ..Default::default()
        });
    }
    out
}

pub async fn code_action(
    inner: &Arc<Inner>,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let Some(path) = path_of(&params.text_document.uri) else {
        return Ok(None);
    };
    if let Some(only) = &params.context.only {
        if !only.iter().any(|k| k.as_str().starts_with("quickfix")) {
            return Ok(None);
        }
    }
    let a = inner.analysis_for(&path).await;
    let enc = inner.encoding();
    let mut out: CodeActionResponse = Vec::new();
    for f in a.findings_in(&path) {
        let Some(diag) = to_diagnostic(&a, f, enc) else {
            continue;
        };
        if !overlaps(&diag.range, &params.range) {
            continue;
        }
        out.extend(
            fix_actions(&a, f, &diag, enc)
                .into_iter()
                .map(CodeActionOrCommand::CodeAction),
        );
    }
    Ok(Some(out))
}
