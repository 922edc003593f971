//! `goroutine-blocked-recv`: A goroutine ranges over or receives from a channel that is never closed.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `goroutine-blocked-recv` rule.
#[derive(Debug)]
pub struct GoroutineBlockedRecv;

static META: RuleMeta = RuleMeta {
    id: "goroutine-blocked-recv",
    name: "Goroutine blocked on receive",
    summary: "A goroutine ranges over or receives from a channel that is never closed.",
    evidence: EvidenceKind::Goroutine,
};

impl Rule for GoroutineBlockedRecv {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
