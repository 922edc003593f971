//! `map-high-water-mark`: A long-lived map drained by delete or clear keeps its peak bucket memory.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `map-high-water-mark` rule.
#[derive(Debug)]
pub struct MapHighWaterMark;

static META: RuleMeta = RuleMeta {
    id: "map-high-water-mark",
    name: "Map keeps its high-water mark",
    summary: "A long-lived map drained by delete or clear keeps its peak bucket memory.",
    evidence: EvidenceKind::Heap,
};

impl Rule for MapHighWaterMark {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
