//! `http-body-not-closed`: A response body that is never closed keeps its connection, buffers and goroutines.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `http-body-not-closed` rule.
#[derive(Debug)]
pub struct HttpBodyNotClosed;

static META: RuleMeta = RuleMeta {
    id: "http-body-not-closed",
    name: "HTTP response body not closed",
    summary: "A response body that is never closed keeps its connection, buffers and goroutines.",
    evidence: EvidenceKind::Heap,
};

impl Rule for HttpBodyNotClosed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
