//! Inlay hints at the end of allocation lines: the compact value and ▲/▼.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::annotate::inlay_hints;

use super::super::convert::path_of;
use super::super::state::Inner;

pub async fn inlay_hint(
    inner: &Arc<Inner>,
    params: InlayHintParams,
) -> Result<Option<Vec<InlayHint>>> {
    let Some(path) = path_of(&params.text_document.uri) else {
        return Ok(None);
    };
    if inner
        .lock()
        .effective
        .as_ref()
        .is_some_and(|e| !e.inlay_hints)
    {
        return Ok(Some(Vec::new()));
    }
    let a = inner.analysis_for(&path).await;
    let enc = inner.encoding();
    let (Some(ann), Some(idx)) = (a.annotations(), a.index(&path)) else {
        return Ok(Some(Vec::new()));
    };
    let (first, last) = (params.range.start.line, params.range.end.line);
    Ok(Some(
        inlay_hints(&ann, &path)
            .into_iter()
            .filter(|h| (first..=last).contains(&(h.line.saturating_sub(1))))
            .map(|h| InlayHint {
                position: idx.line_end(h.line, enc),
                label: InlayHintLabel::String(h.label),
                kind: None,
                text_edits: None,
                tooltip: Some(InlayHintTooltip::String(h.tooltip)),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
            .collect(),
    ))
}
