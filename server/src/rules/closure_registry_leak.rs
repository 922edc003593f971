//! `closure-registry-leak`: Callbacks capturing objects are added to a global registry and never removed.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `closure-registry-leak` rule.
#[derive(Debug)]
pub struct ClosureRegistryLeak;

static META: RuleMeta = RuleMeta {
    id: "closure-registry-leak",
    name: "Closure registry leak",
    summary: "Callbacks capturing objects are added to a global registry and never removed.",
    evidence: EvidenceKind::Heap,
};

impl Rule for ClosureRegistryLeak {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
