//! `map-field-no-delete`: A map field of a long-lived struct is written by its methods and no method deletes from it.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `map-field-no-delete` rule.
#[derive(Debug)]
pub struct MapFieldNoDelete;

static META: RuleMeta = RuleMeta {
    id: "map-field-no-delete",
    name: "Map field never deleted from",
    summary: "A map field of a long-lived struct is written by its methods and no method deletes from it.",
    evidence: EvidenceKind::Heap,
};

impl Rule for MapFieldNoDelete {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
