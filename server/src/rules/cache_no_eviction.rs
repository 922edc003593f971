//! `cache-no-eviction`: A sync.Map or memo map that only stores entries grows forever.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `cache-no-eviction` rule.
#[derive(Debug)]
pub struct CacheNoEviction;

static META: RuleMeta = RuleMeta {
    id: "cache-no-eviction",
    name: "Cache without eviction",
    summary: "A sync.Map or memo map that only stores entries grows forever.",
    evidence: EvidenceKind::Heap,
};

impl Rule for CacheNoEviction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
