//! `finalizer-cycle`: An object with a finalizer in a reference cycle is never freed.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `finalizer-cycle` rule.
#[derive(Debug)]
pub struct FinalizerCycle;

static META: RuleMeta = RuleMeta {
    id: "finalizer-cycle",
    name: "Finalizer on a cycle",
    summary: "An object with a finalizer in a reference cycle is never freed.",
    evidence: EvidenceKind::Heap,
};

impl Rule for FinalizerCycle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
