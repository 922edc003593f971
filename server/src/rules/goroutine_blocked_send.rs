//! `goroutine-blocked-send`: A goroutine sends on an unbuffered channel that nobody reads after a timeout or early return.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `goroutine-blocked-send` rule.
#[derive(Debug)]
pub struct GoroutineBlockedSend;

static META: RuleMeta = RuleMeta {
    id: "goroutine-blocked-send",
    name: "Goroutine blocked on send",
    summary: "A goroutine sends on an unbuffered channel that nobody reads after a timeout or early return.",
    evidence: EvidenceKind::Goroutine,
};

impl Rule for GoroutineBlockedSend {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
