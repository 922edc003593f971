//! `subslice-retains-backing-array`: A small slice of a large buffer is kept, pinning the whole buffer.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `subslice-retains-backing-array` rule.
#[derive(Debug)]
pub struct SubsliceRetainsBackingArray;

static META: RuleMeta = RuleMeta {
    id: "subslice-retains-backing-array",
    name: "Sub-slice retains its backing array",
    summary: "A small slice of a large buffer is kept, pinning the whole buffer.",
    evidence: EvidenceKind::Heap,
};

impl Rule for SubsliceRetainsBackingArray {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
