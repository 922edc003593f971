//! Work-done progress for indexing and profile loading, when the client supports it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};
use tower_lsp_server::{NotCancellable, OngoingProgress, Unbounded};

use super::super::state::Inner;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A running progress report (nothing when the client does not support them).
pub type Running = Option<OngoingProgress<Unbounded, NotCancellable>>;

/// Starts a progress report titled `title`.
pub async fn begin(inner: &Arc<Inner>, title: &str, message: &str) -> Running {
    if !inner.caps().work_done_progress {
        return None;
    }
    let token: ProgressToken =
        NumberOrString::String(format!("heapspot/{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    inner
        .client
        .create_work_done_progress(token.clone())
        .await
        .ok()?;
    let p = inner.client.progress(token, title);
    let p = if message.is_empty() {
        p
    } else {
        p.with_message(message)
    };
    Some(p.begin().await)
}

/// Ends a progress report with a final message.
pub async fn end(p: Running, message: &str) {
    if let Some(p) = p {
        p.finish_with_message(message.to_string()).await;
    }
}
