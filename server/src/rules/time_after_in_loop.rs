//! `time-after-in-loop`: time.After in a select inside a loop creates a timer per iteration that lives until it fires.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `time-after-in-loop` rule.
#[derive(Debug)]
pub struct TimeAfterInLoop;

static META: RuleMeta = RuleMeta {
    id: "time-after-in-loop",
    name: "time.After in a loop",
    summary: "time.After in a select inside a loop creates a timer per iteration that lives until it fires.",
    evidence: EvidenceKind::Heap,
};

impl Rule for TimeAfterInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
