//! Watching: profile files matching the configured patterns, `.heapspot.toml` and Go files
//! changed outside the editor. With a client that supports dynamic registration the
//! client watches (`workspace/didChangeWatchedFiles`); otherwise a cheap poll of file
//! sizes and times every second stands in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_lsp_server::ls_types::*;

use crate::config::{expand, FILE_NAME};

use super::super::convert::path_of;
use super::super::state::Inner;
use super::lifecycle;

const REGISTRATION_ID: &str = "heapspot-watch";
/// How often the fallback poll looks at the files.
pub const POLL: Duration = Duration::from_secs(1);

/// The glob patterns of the files to watch, relative to the root.
fn patterns(inner: &Inner) -> Vec<String> {
    let s = inner.lock();
    let mut v = vec!["**/*.go".to_string(), format!("**/{FILE_NAME}")];
    if let Some(e) = &s.effective {
        v.extend(e.config.profiles.iter().cloned());
        v.extend(e.config.goroutine_profiles.iter().cloned());
        if let Some(b) = &e.baseline {
            v.push(b.display().to_string());
        }
    }
    v.push(".heapspot/snapshots/**".into());
    v.dedup();
    v
}

/// (Re)starts watching after the settings changed.
pub async fn restart(inner: &Arc<Inner>) {
    let Some(root) = inner.lock().root.clone() else {
        return;
    };
    if inner.caps().watched_files_dynamic {
        let _ = inner
            .client
            .unregister_capability(vec![Unregistration {
                id: REGISTRATION_ID.into(),
                method: "workspace/didChangeWatchedFiles".into(),
            }])
            .await;
        let base = super::super::convert::uri_of(&root);
        let watchers: Vec<FileSystemWatcher> = patterns(inner)
            .into_iter()
            .map(|p| {
                let glob = match (&base, Path::new(&p).is_absolute()) {
                    (Some(b), false) => GlobPattern::Relative(RelativePattern {
                        base_uri: OneOf::Right(b.clone()),
                        pattern: p,
                    }),
                    _ => GlobPattern::String(p),
                };
                FileSystemWatcher {
                    glob_pattern: glob,
                    kind: None,
                }
            })
            .collect();
        let reg = Registration {
            id: REGISTRATION_ID.into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                watchers,
            })
            .ok(),
        };
        if let Err(e) = inner.client.register_capability(vec![reg]).await {
            inner
                .client
                .log_message(
                    MessageType::WARNING,
                    format!("heapspot: cannot register file watchers ({e}); polling instead"),
                )
                .await;
        } else {
            inner.set_tasks("watch", Vec::new());
            return;
        }
    }
    let task = tokio::spawn(poll(Arc::clone(inner), root));
    inner.set_tasks("watch", vec![task]);
}

/// Sizes and times of the watched profile files and the configuration file.
fn stamp(inner: &Inner, root: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let (profiles, extra) = {
        let s = inner.lock();
        let mut pats = Vec::new();
        let mut extra = vec![root.join(FILE_NAME)];
        if let Some(e) = &s.effective {
            pats.extend(e.config.profiles.iter().cloned());
            pats.extend(e.config.goroutine_profiles.iter().cloned());
            extra.extend(e.baseline.iter().cloned());
        }
        extra.extend(s.heap_override.iter().flatten().cloned());
        extra.extend(s.goroutine_override.iter().flatten().cloned());
        (pats, extra)
    };
    let mut files: Vec<PathBuf> = profiles
        .iter()
        .flat_map(|p| expand(root, std::slice::from_ref(p)).unwrap_or_default())
        .collect();
    files.extend(extra);
    files
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let t = m.as_ref().and_then(|m| m.modified().ok());
            let l = m.map_or(u64::MAX, |m| m.len());
            (p, t, l)
        })
        .collect()
}

async fn poll(inner: Arc<Inner>, root: PathBuf) {
    let mut last = {
        let (i, r) = (Arc::clone(&inner), root.clone());
        tokio::task::spawn_blocking(move || stamp(&i, &r))
            .await
            .unwrap_or_default()
    };
    loop {
        tokio::time::sleep(POLL).await;
        let (i, r) = (Arc::clone(&inner), root.clone());
        let Ok(now) = tokio::task::spawn_blocking(move || stamp(&i, &r)).await else {
            continue;
        };
        if now == last {
            continue;
        }
        let toml = root.join(FILE_NAME);
        let config_changed = now.iter().find(|x| x.0 == toml) != last.iter().find(|x| x.0 == toml);
        last = now;
        if config_changed {
            // Restarts this poll with the new patterns, from a task of its own.
            tokio::spawn(lifecycle::settings_changed_boxed(inner));
            return;
        }
        inner.schedule();
    }
}

/// Changes the client watched for us.
pub async fn did_change_watched_files(inner: &Arc<Inner>, params: DidChangeWatchedFilesParams) {
    let mut config_changed = false;
    {
        let mut s = inner.lock();
        for ev in &params.changes {
            let Some(path) = path_of(&ev.uri) else {
                continue;
            };
            if path.file_name().is_some_and(|n| n == FILE_NAME) {
                config_changed = true;
                continue;
            }
            if path.extension().is_some_and(|e| e == "go") && !s.docs.contains_key(&path) {
                if let Some(ws) = s.ws.as_mut() {
                    let ws = Arc::make_mut(ws);
                    if ev.typ == FileChangeType::DELETED {
                        ws.remove_file(&path);
                    } else if let Ok(b) = std::fs::read(&path) {
                        ws.update_file(&path, &String::from_utf8_lossy(&b));
                    }
                }
            }
        }
    }
    if config_changed {
        lifecycle::settings_changed(inner).await;
    } else {
        inner.schedule();
    }
}
