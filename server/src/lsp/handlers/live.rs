//! Live endpoints: polled into the snapshot store, reloaded from it on restart.
// TODO(#5): wired to `crate::sources` once that module lands on this branch.

use std::path::PathBuf;
use std::sync::Arc;

use super::super::state::{EndpointStatus, Inner};

pub async fn restart(inner: &Arc<Inner>) {
    let eps: Vec<EndpointStatus> = inner
        .lock()
        .effective
        .as_ref()
        .map(|e| {
            e.endpoints
                .iter()
                .map(|ep| EndpointStatus {
                    url: ep.url.clone(),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    inner.lock().endpoints = eps;
}

pub async fn reload_stored(_inner: &Arc<Inner>) {}

pub async fn capture_once(_inner: &Arc<Inner>, url: &str) -> Result<PathBuf, String> {
    Err(format!("{url}: live capture is not available yet"))
}
