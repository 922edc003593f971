//! One module per feature; the router in `server.rs` calls into them.

pub mod code_action;
pub mod code_lens;
pub mod commands;
pub mod diagnostics;
pub mod documents;
pub mod hover;
pub mod inlay_hints;
pub mod lifecycle;
pub mod live;
pub mod progress;
pub mod watch;
