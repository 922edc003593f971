//! `global-slice-append`: A package-level slice is appended to outside init and never truncated or reset.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `global-slice-append` rule.
#[derive(Debug)]
pub struct GlobalSliceAppend;

static META: RuleMeta = RuleMeta {
    id: "global-slice-append",
    name: "Global slice appended forever",
    summary: "A package-level slice is appended to outside init and never truncated or reset.",
    evidence: EvidenceKind::Heap,
};

impl Rule for GlobalSliceAppend {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
