//! The router: every LSP method the server answers, each handed to its feature module.
//! Requests run as their own tasks so a panic becomes an error response instead of a
//! dead server; document notifications are applied synchronously, in arrival order.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{LanguageServer, LspService, Server};

use super::handlers::{
    code_action, code_lens, commands, diagnostics, documents, hover, inlay_hints, lifecycle, watch,
};
use super::state::{Inner, Options};

/// The language server.
#[derive(Debug)]
pub struct Backend {
    inner: Arc<Inner>,
}

/// Runs `fut` as its own task; a panic becomes an internal-error response naming the
/// method.
async fn guard<T, F>(method: &'static str, fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    match tokio::spawn(fut).await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_panic() {
                let p = e.into_panic();
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into())
            } else {
                "the request was cancelled".into()
            };
            Err(Error {
                code: ErrorCode::InternalError,
                message: format!("heapspot: internal error in {method}: {why}").into(),
                data: None,
            })
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let inner = Arc::clone(&self.inner);
        guard("initialize", async move {
            lifecycle::initialize(&inner, params).await
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move { lifecycle::initialized(&inner).await });
    }

    async fn shutdown(&self) -> Result<()> {
        self.inner.set_tasks("watch", Vec::new());
        self.inner.set_tasks("live", Vec::new());
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        documents::did_open(&self.inner, params);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        if let Some(e) = documents::did_change(&self.inner, params) {
            self.inner.client.show_message(MessageType::ERROR, e).await;
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        documents::did_save(&self.inner, params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        documents::did_close(&self.inner, params);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            if params.settings.is_null() {
                lifecycle::pull_settings(&inner).await;
            } else {
                lifecycle::apply_settings(&inner, Some(&params.settings)).await;
            }
            lifecycle::settings_changed(&inner).await;
        });
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move { watch::did_change_watched_files(&inner, params).await });
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let inner = Arc::clone(&self.inner);
        guard("textDocument/codeAction", async move {
            code_action::code_action(&inner, params).await
        })
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let inner = Arc::clone(&self.inner);
        guard("textDocument/codeLens", async move {
            code_lens::code_lens(&inner, params).await
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let inner = Arc::clone(&self.inner);
        guard("textDocument/inlayHint", async move {
            inlay_hints::inlay_hint(&inner, params).await
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let inner = Arc::clone(&self.inner);
        guard("textDocument/hover", async move {
            hover::hover(&inner, params).await
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let inner = Arc::clone(&self.inner);
        guard("workspace/executeCommand", async move {
            commands::execute(&inner, params).await
        })
        .await
    }
}

/// The service and its client socket, for any transport.
pub fn service(options: Options) -> (LspService<Backend>, tower_lsp_server::ClientSocket) {
    LspService::new(move |client| {
        let (inner, rx) = Inner::new(client, options.clone());
        tokio::spawn(diagnostics::worker(Arc::clone(&inner), rx));
        Backend { inner }
    })
}

/// Serves the protocol over a reader and writer until the client exits.
pub async fn serve<I, O>(input: I, output: O, options: Options)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (svc, socket) = service(options);
    Server::new(input, output, socket).serve(svc).await;
}

/// `heapspot lsp`: serves over standard input and output.
pub fn run_stdio(options: Options) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(tokio::io::stdin(), tokio::io::stdout(), options));
    // Background tasks (pollers) must not keep the process alive after `exit`.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(())
}
