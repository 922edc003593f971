//! The server's state: what the client can do, the open documents (text, incremental
//! tree, version, pending out-of-order edits), the workspace index, the settings, the
//! profile choices made by command, the live endpoints, and the latest immutable
//! [`Analysis`]. Mutable state sits behind one mutex that is never held across an
//! `.await`; analyses run one at a time on the blocking pool, debounced after edits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tower_lsp_server::ls_types::TextDocumentContentChangeEvent;
use tower_lsp_server::Client;

use crate::config::Config;
use crate::source::document::OpenDocument;
use crate::source::index::Workspace;

use super::analysis::{self, Analysis, DocInput, ProfileCache};
use super::config::{merge, Effective, Settings};
use super::convert::{Encoding, LineIndex};

/// How long edits settle before diagnostics are recomputed.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Server options fixed at start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Adds test-only commands (`heapspot.test.panic`); set by `HEAPSPOT_LSP_TEST=1`.
    pub test_commands: bool,
}

/// What the client said it supports.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    pub encoding: Option<Encoding>,
    pub configuration: bool,
    pub watched_files_dynamic: bool,
    pub work_done_progress: bool,
    pub code_lens_refresh: bool,
    pub inlay_hint_refresh: bool,
    pub show_message: bool,
}

/// An open document.
#[derive(Debug)]
pub struct Doc {
    pub version: i32,
    pub text: String,
    /// The incrementally parsed document, once the workspace is loaded.
    pub parsed: Option<OpenDocument>,
    index: Option<Arc<LineIndex>>,
    /// Changes that arrived ahead of their turn, by version.
    pub pending: BTreeMap<i32, Vec<TextDocumentContentChangeEvent>>,
}

impl Doc {
    pub fn new(version: i32, text: String) -> Doc {
        Doc {
            version,
            text,
            parsed: None,
            index: None,
            pending: BTreeMap::new(),
        }
    }

    /// The line index of the current version (built once per version).
    pub fn index(&mut self) -> Arc<LineIndex> {
        if let Some(i) = &self.index {
            return Arc::clone(i);
        }
        let i = Arc::new(LineIndex::new(Arc::from(self.text.as_str())));
        self.index = Some(Arc::clone(&i));
        i
    }

    /// Applies one change of the protocol (a range edit or a full replacement).
    pub fn apply(
        &mut self,
        c: &TextDocumentContentChangeEvent,
        enc: Encoding,
    ) -> Result<(), String> {
        match c.range {
            None => {
                self.text = c.text.clone();
                if let Some(p) = &mut self.parsed {
                    p.set_text(c.text.clone());
                }
            }
            Some(r) => {
                let idx = self.index();
                let start = idx.offset(r.start, enc)?;
                let end = idx.offset(r.end, enc)?;
                if end < start {
                    return Err(format!("edit range ends before it starts: {r:?}"));
                }
                self.text.replace_range(start..end, &c.text);
                if let Some(p) = &mut self.parsed {
                    p.apply_edit(start, end, &c.text).map_err(|e| e.message)?;
                }
            }
        }
        self.index = None;
        Ok(())
    }
}

/// A live endpoint's state, for the status object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointStatus {
    pub url: String,
    pub last_capture: Option<String>,
    pub error: Option<String>,
}

/// The mutable state.
#[derive(Debug)]
pub struct Shared {
    pub root: Option<PathBuf>,
    pub ws: Option<Arc<Workspace>>,
    pub docs: HashMap<PathBuf, Doc>,
    pub init_settings: Settings,
    /// The latest settings from the client (pushed or pulled); `None` until any came.
    pub client_settings: Option<Settings>,
    pub file_config: Result<Config, String>,
    pub effective: Option<Effective>,
    pub heap_override: Option<Vec<PathBuf>>,
    pub goroutine_override: Option<Vec<PathBuf>>,
    /// `Some(None)`: the baseline was cleared by command.
    pub baseline_override: Option<Option<PathBuf>>,
    pub sample_type: Option<String>,
    pub live_heap: Vec<PathBuf>,
    pub live_goroutine: Vec<PathBuf>,
    /// Stored live snapshots named at or before this stamp are not shown (set by a
    /// clear or a load by command).
    pub live_floor: Option<String>,
    pub endpoints: Vec<EndpointStatus>,
    pub generation: u64,
    /// Files that currently carry published diagnostics.
    pub published: HashSet<PathBuf>,
    /// Error messages already shown, so a recurring one is not repeated every run.
    pub shown_errors: HashSet<String>,
    pub last_status: Option<Value>,
}

/// A request for an analysis; `done` hears when one that includes it finished.
#[derive(Debug)]
pub struct Trigger {
    pub debounce: bool,
    pub done: Option<oneshot::Sender<()>>,
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Inner {
    pub client: Client,
    pub options: Options,
    pub caps: OnceLock<Caps>,
    shared: Mutex<Shared>,
    pub analysis: watch::Sender<Arc<Analysis>>,
    pub trigger: mpsc::UnboundedSender<Trigger>,
    pub cache: Arc<Mutex<ProfileCache>>,
    /// Background tasks (watchers, pollers) to stop on shutdown or when settings change.
    pub tasks: Mutex<HashMap<&'static str, Vec<tokio::task::JoinHandle<()>>>>,
}

impl Inner {
    pub fn new(client: Client, options: Options) -> (Arc<Inner>, mpsc::UnboundedReceiver<Trigger>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (analysis, _) = watch::channel(Arc::new(Analysis::empty()));
        let inner = Arc::new(Inner {
            client,
            options,
            caps: OnceLock::new(),
            shared: Mutex::new(Shared {
                root: None,
                ws: None,
                docs: HashMap::new(),
                init_settings: Settings::default(),
                client_settings: None,
                file_config: Ok(Config::default()),
                effective: None,
                heap_override: None,
                goroutine_override: None,
                baseline_override: None,
                sample_type: None,
                live_heap: Vec::new(),
                live_goroutine: Vec::new(),
                live_floor: None,
                endpoints: Vec::new(),
                generation: 0,
                published: HashSet::new(),
                shown_errors: HashSet::new(),
                last_status: None,
            }),
            analysis,
            trigger: tx,
            cache: Arc::new(Mutex::new(ProfileCache::default())),
            tasks: Mutex::new(HashMap::new()),
        });
        (inner, rx)
    }

    /// Locks the mutable state (a poisoned lock is taken over: the data stays usable).
    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn caps(&self) -> Caps {
        self.caps.get().cloned().unwrap_or_default()
    }

    pub fn encoding(&self) -> Encoding {
        self.caps().encoding.unwrap_or(Encoding::Utf16)
    }

    /// The latest analysis.
    pub fn current(&self) -> Arc<Analysis> {
        Arc::clone(&self.analysis.borrow())
    }

    /// Asks for an analysis after edits settle.
    pub fn schedule(&self) {
        let _ = self.trigger.send(Trigger {
            debounce: true,
            done: None,
        });
    }

    /// Asks for an analysis now and waits until one that includes every change made so
    /// far has finished.
    pub async fn refresh(&self) {
        let (tx, rx) = oneshot::channel();
        if self
            .trigger
            .send(Trigger {
                debounce: false,
                done: Some(tx),
            })
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    /// The analysis for a document at its current version: waits (briefly) for one to
    /// finish when the latest is older than the document.
    pub async fn analysis_for(&self, path: &Path) -> Arc<Analysis> {
        let want = self.lock().docs.get(path).map(|d| d.version);
        let mut rx = self.analysis.subscribe();
        let fits = |a: &Analysis| match want {
            None => true,
            Some(v) => a.docs.get(path).is_some_and(|d| d.version >= v),
        };
        let found = tokio::time::timeout(Duration::from_secs(5), async {
            rx.wait_for(|a| fits(a)).await.map(|a| Arc::clone(&a))
        })
        .await;
        match found {
            Ok(Ok(a)) => a,
            _ => self.current(),
        }
    }

    /// Replaces the background tasks of one kind (aborting the old ones).
    pub fn set_tasks(&self, kind: &'static str, new: Vec<tokio::task::JoinHandle<()>>) {
        let mut t = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for old in t.insert(kind, new).unwrap_or_default() {
            old.abort();
        }
    }

    /// Recomputes the effective settings from the file and the client's settings.
    /// Returns an error to show when they do not merge.
    pub fn recompute_settings(&self) -> Option<String> {
        let mut s = self.lock();
        let root = s.root.clone()?;
        let settings = s
            .client_settings
            .clone()
            .unwrap_or_else(|| s.init_settings.clone());
        let (file, mut err) = match &s.file_config {
            Ok(c) => (c.clone(), None),
            Err(e) => (
                Config {
                    root: root.clone(),
                    ..Config::default()
                },
                Some(e.clone()),
            ),
        };
        match merge(&root, &file, &settings) {
            Ok(e) => s.effective = Some(e),
            Err(e) => {
                err = Some(e);
                if s.effective.is_none() {
                    s.effective = merge(&root, &file, &Settings::default()).ok();
                }
            }
        }
        err
    }

    /// Captures the inputs of the next analysis; `None` before the workspace is loaded.
    pub fn inputs(&self) -> Option<analysis::Inputs> {
        let mut s = self.lock();
        let ws = s.ws.clone()?;
        let root = s.root.clone()?;
        let effective = s.effective.clone()?;
        s.generation += 1;
        let generation = s.generation;
        let docs = s
            .docs
            .iter_mut()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "go"))
            .map(|(p, d)| DocInput {
                path: p.clone(),
                version: d.version,
                index: d.index(),
            })
            .collect();
        let baseline = match &s.baseline_override {
            Some(b) => b.clone(),
            None => effective.baseline.clone(),
        };
        Some(analysis::Inputs {
            generation,
            root,
            ws,
            config: effective.config.clone(),
            docs,
            heap_override: s.heap_override.clone(),
            goroutine_override: s.goroutine_override.clone(),
            live_heap: s.live_heap.clone(),
            live_goroutine: s.live_goroutine.clone(),
            baseline,
            sample_type: s.sample_type.clone().or(effective.sample_type.clone()),
            cache: Arc::clone(&self.cache),
        })
    }
}
