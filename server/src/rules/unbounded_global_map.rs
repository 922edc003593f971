//! `unbounded-global-map`: A package-level map that is written outside init and never deleted from only grows.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `unbounded-global-map` rule.
#[derive(Debug)]
pub struct UnboundedGlobalMap;

static META: RuleMeta = RuleMeta {
    id: "unbounded-global-map",
    name: "Unbounded global map",
    summary: "A package-level map that is written outside init and never deleted from only grows.",
    evidence: EvidenceKind::Heap,
};

impl Rule for UnboundedGlobalMap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
