//! Hover on a flagged or annotated line: every sample type, share, trend with a
//! sparkline and the top call paths into the line (markdown).

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::annotate;

use super::super::convert::path_of;
use super::super::state::Inner;
use super::commands::invalid;

pub async fn hover(inner: &Arc<Inner>, params: HoverParams) -> Result<Option<Hover>> {
    let pos = params.text_document_position_params;
    let Some(path) = path_of(&pos.text_document.uri) else {
        return Ok(None);
    };
    let a = inner.analysis_for(&path).await;
    let enc = inner.encoding();
    let line = pos.position.line + 1;
    // Call paths fold the whole last snapshot once: the blocking pool does it.
    let r = tokio::task::spawn_blocking(move || {
        let ann = a.annotations()?;
        let md = annotate::hover(&ann, a.call_paths(), &path, line)?;
        let range = a.index(&path).map(|i| i.line_range(line, enc));
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: md,
            }),
            range,
        })
    })
    .await
    .map_err(|e| invalid(format!("heapspot: hover failed: {e}")))?;
    Ok(r)
}
