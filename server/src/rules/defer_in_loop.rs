//! `defer-in-loop`: Deferred calls in a loop pile up, with what they hold, until the function returns.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `defer-in-loop` rule.
#[derive(Debug)]
pub struct DeferInLoop;

static META: RuleMeta = RuleMeta {
    id: "defer-in-loop",
    name: "defer in a loop",
    summary: "Deferred calls in a loop pile up, with what they hold, until the function returns.",
    evidence: EvidenceKind::Heap,
};

impl Rule for DeferInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
