//! `ticker-not-stopped`: A time.Ticker created per call or per iteration is never stopped.

use super::{EvidenceKind, Match, Package, Rule, RuleMeta};

/// The `ticker-not-stopped` rule.
#[derive(Debug)]
pub struct TickerNotStopped;

static META: RuleMeta = RuleMeta {
    id: "ticker-not-stopped",
    name: "Ticker never stopped",
    summary: "A time.Ticker created per call or per iteration is never stopped.",
    evidence: EvidenceKind::Heap,
};

impl Rule for TickerNotStopped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _pkg: &Package, _out: &mut Vec<Match>) {
        // Written in its own change; the registry lists it so ids are stable.
    }
}
