//! Code lenses above functions and package-level declarations that hold memory; each
//! runs `heapspot.showTop`.

use std::sync::Arc;

use serde_json::json;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::annotate::lenses;

use super::super::convert::path_of;
use super::super::state::Inner;
use super::commands::SHOW_TOP;

pub async fn code_lens(
    inner: &Arc<Inner>,
    params: CodeLensParams,
) -> Result<Option<Vec<CodeLens>>> {
    let Some(path) = path_of(&params.text_document.uri) else {
        return Ok(None);
    };
    if inner
        .lock()
        .effective
        .as_ref()
        .is_some_and(|e| !e.code_lens)
    {
        return Ok(Some(Vec::new()));
    }
    let a = inner.analysis_for(&path).await;
    let enc = inner.encoding();
    let (Some(ann), Some(ws), Some(idx)) = (a.annotations(), a.ws.as_ref(), a.index(&path)) else {
        return Ok(Some(Vec::new()));
    };
    let Some(file) = ws.file(&path) else {
        return Ok(Some(Vec::new()));
    };
    let sample = a.sample_type_name();
    Ok(Some(
        lenses(&ann, &file)
            .into_iter()
            .map(|l| {
                let at = idx.position(l.start_byte, enc);
                CodeLens {
                    range: Range { start: at, end: at },
                    command: Some(Command {
                        title: l.title,
                        command: SHOW_TOP.into(),
                        arguments: Some(vec![json!({ "n": 20, "sampleType": sample })]),
                    }),
                    data: Some(json!({ "subject": l.subject, "value": l.value })),
                }
            })
            .collect(),
    ))
}
