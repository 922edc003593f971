//! Live endpoints: each configured heap endpoint (and its goroutine endpoint) is polled
//! at its interval on the blocking pool; every snapshot is saved atomically in the
//! workspace's snapshot store (`.heapspot/snapshots/`, kept within the retention) and
//! the analysis re-runs, so diagnostics, lenses and trends follow the service. Stored
//! snapshots are reloaded on start, so a restart loses nothing. A failing endpoint is
//! shown once per distinct error, naming the URL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tower_lsp_server::ls_types::MessageType;

use crate::sources::{self, FetchLimits, Kind, Retention, SnapshotStore};

use super::super::config::Endpoint as Configured;
use super::super::state::{EndpointStatus, Inner};

/// `2026-11-28T01:02:03Z` for a time.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The snapshot-name prefix (`20261128T010203.123Z`) of a time: stored snapshots named
/// before it are older.
fn name_stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let iso = rfc3339(t);
    format!(
        "{}{}{}T{}{}{}.{:03}Z",
        &iso[0..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16],
        &iso[17..19],
        d.subsec_millis()
    )
}

fn retention(inner: &Inner) -> Retention {
    let s = inner.lock();
    match &s.effective {
        Some(e) => Retention {
            max_count: e.max_snapshots,
            max_bytes: e.max_snapshot_bytes,
        },
        None => Retention {
            max_count: super::super::config::DEFAULT_MAX_SNAPSHOTS,
            max_bytes: super::super::config::DEFAULT_MAX_SNAPSHOT_BYTES,
        },
    }
}

/// Re-reads the stored snapshots of the configured endpoints (newer than the last
/// clear) into the live lists.
fn relist(inner: &Inner) {
    let (root, eps, floor) = {
        let s = inner.lock();
        let eps: Vec<String> = s
            .effective
            .iter()
            .flat_map(|e| e.endpoints.iter())
            .filter_map(|e| sources::endpoint(&e.url).ok())
            .map(|e| e.heap)
            .collect();
        (s.root.clone(), eps, s.live_floor.clone())
    };
    let Some(root) = root else { return };
    let store = SnapshotStore::at(root.join(".heapspot/snapshots"));
    let list = |kind: Kind| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = eps
            .iter()
            .flat_map(|ep| store.list(kind, Some(ep)).unwrap_or_default())
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                match (&floor, name) {
                    (Some(f), Some(n)) => n.as_str() > f.as_str(),
                    _ => true,
                }
            })
            .collect();
        v.sort_by_key(|p| p.file_name().map(|n| n.to_owned()));
        v.dedup();
        v
    };
    let (heap, gor) = (list(Kind::Heap), list(Kind::Goroutine));
    let mut s = inner.lock();
    s.live_heap = heap;
    s.live_goroutine = gor;
}

/// Marks the live snapshots taken so far as not shown (after a clear or a load).
pub fn set_floor_now(inner: &Inner) {
    inner.lock().live_floor = Some(name_stamp(SystemTime::now()));
}

/// Loads the stored snapshots of the configured endpoints (on start).
pub async fn reload_stored(inner: &Arc<Inner>) {
    let i = Arc::clone(inner);
    let _ = tokio::task::spawn_blocking(move || relist(&i)).await;
}

fn set_status(inner: &Inner, url: &str, f: impl FnOnce(&mut EndpointStatus)) {
    let mut s = inner.lock();
    if let Some(e) = s.endpoints.iter_mut().find(|e| e.url == url) {
        f(e);
    }
}

/// One capture of a heap endpoint (and, when `goroutines`, its goroutine endpoint) into
/// the store; returns the heap snapshot's path.
async fn capture(inner: &Arc<Inner>, url: &str, goroutines: bool) -> Result<PathBuf, String> {
    let ep = sources::endpoint(url).map_err(|e| e.to_string())?;
    let root = inner
        .lock()
        .root
        .clone()
        .ok_or_else(|| format!("{url}: no workspace folder is open to store snapshots in"))?;
    let keep = retention(inner);
    let i = Arc::clone(inner);
    tokio::task::spawn_blocking(move || {
        let store = SnapshotStore::open(&root).map_err(|e| e.to_string())?;
        let limits = FetchLimits::default();
        let path = store
            .capture(&ep, Kind::Heap, &limits, &keep)
            .map_err(|e| e.to_string())?;
        if goroutines {
            // A service without goroutine profiles still has its heap polled.
            let _ = store.capture(&ep, Kind::Goroutine, &limits, &keep);
        }
        relist(&i);
        Ok(path)
    })
    .await
    .map_err(|e| format!("{url}: capture failed: {e}"))?
}

/// `heapspot.captureProfile`: one heap snapshot now.
pub async fn capture_once(inner: &Arc<Inner>, url: &str) -> Result<PathBuf, String> {
    let path = capture(inner, url, false).await?;
    // A snapshot captured by command joins the series even from an unconfigured URL.
    {
        let mut s = inner.lock();
        if !s.live_heap.contains(&path) {
            s.live_heap.push(path.clone());
        }
    }
    Ok(path)
}

async fn poll(inner: Arc<Inner>, ep: Configured) {
    let mut last_error: Option<String> = None;
    loop {
        match capture(&inner, &ep.url, true).await {
            Ok(_) => {
                let now = rfc3339(SystemTime::now());
                set_status(&inner, &ep.url, |s| {
                    s.last_capture = Some(now);
                    s.error = None;
                });
                last_error = None;
                inner.schedule();
            }
            Err(e) => {
                set_status(&inner, &ep.url, |s| s.error = Some(e.clone()));
                if last_error.as_ref() != Some(&e) {
                    inner
                        .client
                        .show_message(MessageType::ERROR, format!("heapspot: {e}"))
                        .await;
                    super::commands::push_status(&inner).await;
                }
                last_error = Some(e);
            }
        }
        tokio::time::sleep(ep.interval).await;
    }
}

/// (Re)starts the pollers of the configured endpoints.
pub async fn restart(inner: &Arc<Inner>) {
    let eps: Vec<Configured> = inner
        .lock()
        .effective
        .as_ref()
        .map(|e| e.endpoints.clone())
        .unwrap_or_default();
    {
        let mut s = inner.lock();
        s.endpoints = eps
            .iter()
            .map(|ep| {
                s.endpoints
                    .iter()
                    .find(|old| old.url == ep.url)
                    .cloned()
                    .unwrap_or(EndpointStatus {
                        url: ep.url.clone(),
                        ..Default::default()
                    })
            })
            .collect();
    }
    let mut tasks = Vec::new();
    for ep in eps {
        if let Err(e) = sources::endpoint(&ep.url) {
            let msg = e.to_string();
            set_status(inner, &ep.url, |s| s.error = Some(msg.clone()));
            inner
                .client
                .show_message(MessageType::ERROR, format!("heapspot: {msg}"))
                .await;
            continue;
        }
        tasks.push(tokio::spawn(poll(Arc::clone(inner), ep)));
    }
    inner.set_tasks("live", tasks);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_827_723_456);
        assert_eq!(rfc3339(t), "2026-11-28T01:02:03Z");
        assert_eq!(name_stamp(t), "20261128T010203.456Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
