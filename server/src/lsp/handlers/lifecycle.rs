//! `initialize` (capabilities, position encoding, root, initial settings), `initialized`
//! (index the workspace with progress, read `.heapspot.toml`, pull settings, start
//! watching and polling, first analysis), configuration changes and `shutdown`.

use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::config::Config;
use crate::source::index::Workspace;

use super::super::config::Settings;
use super::super::convert::{path_of, Encoding};
use super::super::state::{Caps, Inner};
use super::{commands, live, progress, watch};

/// Every command the server executes.
pub fn command_names(inner: &Inner) -> Vec<String> {
    let mut v: Vec<String> = commands::COMMANDS.iter().map(|s| s.to_string()).collect();
    if inner.options.test_commands {
        v.push(commands::TEST_PANIC.to_string());
    }
    v
}

pub async fn initialize(inner: &Arc<Inner>, params: InitializeParams) -> Result<InitializeResult> {
    let c = &params.capabilities;
    let general = c.general.as_ref();
    let encoding = Encoding::negotiate(general.and_then(|g| g.position_encodings.as_deref()));
    let ws = c.workspace.as_ref();
    let window = c.window.as_ref();
    let caps = Caps {
        encoding: Some(encoding),
        configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
        watched_files_dynamic: ws
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
        code_lens_refresh: ws
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|l| l.refresh_support)
            .unwrap_or(false),
        inlay_hint_refresh: ws
            .and_then(|w| w.inlay_hint.as_ref())
            .and_then(|l| l.refresh_support)
            .unwrap_or(false),
        show_message: true,
    };
    let _ = inner.caps.set(caps);

    #[allow(deprecated)]
    let root: Option<PathBuf> = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| path_of(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(path_of))
        .or_else(|| params.root_path.as_ref().map(PathBuf::from));
    let root = root.map(|r| std::fs::canonicalize(&r).unwrap_or(r));
    let (settings, warnings) = Settings::from_value(params.initialization_options.as_ref())
        .unwrap_or_else(|e| (Settings::default(), vec![e]));
    {
        let mut s = inner.lock();
        s.root = root;
        s.init_settings = settings;
        s.shown_errors.extend(warnings.iter().cloned());
    }
    for w in warnings {
        let inner = Arc::clone(inner);
        tokio::spawn(async move { inner.client.show_message(MessageType::WARNING, w).await });
    }

    Ok(InitializeResult {
        server_info: Some(ServerInfo {
            name: "heapspot".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        capabilities: ServerCapabilities {
            position_encoding: Some(encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..Default::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            code_lens_provider: Some(CodeLensOptions {
                resolve_provider: Some(false),
            }),
            inlay_hint_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                resolve_provider: Some(false),
                work_done_progress_options: Default::default(),
            })),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: command_names(inner),
                work_done_progress_options: Default::default(),
            }),
            ..Default::default()
        },
        offset_encoding: None,
    })
}

/// Reads `.heapspot.toml`; a broken file is reported and the defaults are used.
pub fn read_file_config(inner: &Inner) {
    let root = inner.lock().root.clone();
    if let Some(root) = root {
        let c = Config::load(&root);
        inner.lock().file_config = c;
    }
}

/// Pulls the `heapspot` section when the client supports `workspace/configuration`.
pub async fn pull_settings(inner: &Arc<Inner>) {
    if !inner.caps().configuration {
        return;
    }
    let item = ConfigurationItem {
        scope_uri: None,
        section: Some("heapspot".into()),
    };
    match inner.client.configuration(vec![item]).await {
        Ok(values) => {
            let v = values.into_iter().next();
            // A client without such a section answers null: keep what we have.
            if v.as_ref().is_some_and(|v| !v.is_null()) {
                apply_settings(inner, v.as_ref()).await;
            }
        }
        Err(e) => tracing_log(&format!("workspace/configuration failed: {e}")),
    }
}

fn tracing_log(msg: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("heapspot lsp: {msg}");
    }
}

/// Takes a settings object from the client, reporting bad values by `showMessage`.
pub async fn apply_settings(inner: &Arc<Inner>, value: Option<&serde_json::Value>) {
    match Settings::from_value(value) {
        Ok((s, warnings)) => {
            inner.lock().client_settings = Some(s);
            for w in warnings {
                inner.client.show_message(MessageType::WARNING, w).await;
            }
        }
        Err(e) => inner.client.show_message(MessageType::ERROR, e).await,
    }
}

/// After settings or the file changed: merge, restart watchers and pollers, re-analyze.
pub async fn settings_changed(inner: &Arc<Inner>) {
    read_file_config(inner);
    if let Some(e) = inner.recompute_settings() {
        inner.client.show_message(MessageType::ERROR, e).await;
    }
    watch::restart(inner).await;
    live::restart(inner).await;
    inner.refresh().await;
}

/// [`settings_changed`] as a boxed future, for tasks that the restart itself starts.
pub fn settings_changed_boxed(
    inner: Arc<Inner>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move { settings_changed(&inner).await })
}

pub async fn initialized(inner: &Arc<Inner>) {
    let Some(root) = inner.lock().root.clone() else {
        inner
            .client
            .show_message(
                MessageType::WARNING,
                "heapspot: no workspace folder was given; open a folder holding a Go module",
            )
            .await;
        return;
    };
    read_file_config(inner);
    pull_settings(inner).await;
    if let Some(e) = inner.recompute_settings() {
        inner.client.show_message(MessageType::ERROR, e).await;
    }

    let p = progress::begin(inner, "heapspot: indexing", &root.display().to_string()).await;
    let r = root.clone();
    let loaded = tokio::task::spawn_blocking(move || Workspace::load(&r)).await;
    let ws = match loaded {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            progress::end(p, "failed").await;
            inner
                .client
                .show_message(
                    MessageType::ERROR,
                    format!("heapspot: cannot index {}: {e}", root.display()),
                )
                .await;
            return;
        }
        Err(e) => {
            progress::end(p, "failed").await;
            inner
                .client
                .show_message(
                    MessageType::ERROR,
                    format!("heapspot: indexing {} failed: {e}", root.display()),
                )
                .await;
            return;
        }
    };
    let files = ws.file_count();
    {
        let mut s = inner.lock();
        let mut ws = ws;
        for (path, doc) in s.docs.iter_mut() {
            if path.extension().is_some_and(|e| e == "go") {
                let od = ws.open_document(path, doc.text.clone());
                ws.update_document(&od);
                doc.parsed = Some(od);
            }
        }
        s.ws = Some(Arc::new(ws));
    }
    progress::end(p, &format!("{files} Go files")).await;
    live::reload_stored(inner).await;
    watch::restart(inner).await;
    live::restart(inner).await;
    let p = progress::begin(inner, "heapspot: loading profiles", "").await;
    inner.refresh().await;
    progress::end(p, "done").await;
}
