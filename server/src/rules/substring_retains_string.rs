//! `substring-retains-string`: A substring of a large string is kept, pinning the whole string.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `substring-retains-string` rule.
#[derive(Debug)]
pub struct SubstringRetainsString;

static META: RuleMeta = RuleMeta {
    id: "substring-retains-string",
    name: "Substring retains its parent string",
    summary: "A substring of a large string is kept, pinning the whole string.",
    evidence: EvidenceKind::Heap,
};

impl Rule for SubstringRetainsString {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
