//! One module per feature; the router in `server.rs` calls into them.

pub mod code_action;
pub mod commands;
pub mod diagnostics;
pub mod documents;
pub mod lifecycle;
pub mod live;
pub mod progress;
pub mod watch;
