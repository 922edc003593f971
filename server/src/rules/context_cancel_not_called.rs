//! `context-cancel-not-called`: The cancel function of context.WithCancel/WithTimeout/WithDeadline is discarded or never called.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `context-cancel-not-called` rule.
#[derive(Debug)]
pub struct ContextCancelNotCalled;

static META: RuleMeta = RuleMeta {
    id: "context-cancel-not-called",
    name: "Context cancel not called",
    summary: "The cancel function of context.WithCancel/WithTimeout/WithDeadline is discarded or never called.",
    evidence: EvidenceKind::Heap,
};

impl Rule for ContextCancelNotCalled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
