//! The language server (`heapspot lsp`): the only place that knows LSP. `server.rs` is
//! the router listing every method, `state.rs` the shared state, `analysis.rs` the
//! immutable analysis snapshots, `convert.rs` the position conversions, `config.rs` the
//! client's settings, and `handlers/` one module per feature.

pub mod analysis;
pub mod config;
pub mod convert;
pub mod handlers;
pub mod server;
pub mod state;

pub use server::{run_stdio, serve, Backend};
pub use state::Options;
