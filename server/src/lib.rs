//! heapspot: finds memory leaks in Go services by joining heap profiles with Go source.
//!
//! The analysis layers (`profile`, and later `source`, `mapping`, `rules`, `findings`)
//! speak in byte offsets and 1-based Go lines and never touch LSP types or the network.

pub mod annotate;
pub mod cli;
pub mod config;
pub mod evidence;
pub mod findings;
pub mod lsp;
pub mod mapping;
pub mod pipeline;
pub mod profile;
pub mod report;
pub mod rules;
pub mod source;
pub mod sources;
