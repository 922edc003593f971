//! `map-high-water-mark`: a long-lived map (package-level, or a field of a long-lived
//! struct) that is emptied with `clear`, `maps.DeleteFunc` or `delete` in a range over
//! itself and never replaced keeps the buckets of its largest size: Go maps never shrink.

use tree_sitter::Node;

use super::flow::{self, PackageIndex};
use super::map_field_no_delete::{map_fields, method_writes};
use super::syntax;
use super::unbounded_global_map::constant_key;
use super::unbounded_global_map::maps::{
    function_label, tidy, Shrink, ShrinkKind, Target, UseKind,
};
use super::{Context, EvidenceKind, Location, Match, Related, Rule, RuleMeta};

/// The `map-high-water-mark` rule.
#[derive(Debug)]
pub struct MapHighWaterMark;

static META: RuleMeta = RuleMeta {
    id: "map-high-water-mark",
    name: "Map keeps its high-water mark",
    summary: "A long-lived map drained by delete or clear keeps its peak bucket memory.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

/// A long-lived map: what it is, its subject, its declaration and its writes.
struct Candidate<'p> {
    target: Target,
    what: &'static str,
    subject: String,
    declaration: Location,
    writes: Vec<(usize, Node<'p>, Node<'p>)>,
}

impl Rule for MapHighWaterMark {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let idx = pkg.index();
        if idx.files.is_empty() {
            return;
        }
        let shrinks = idx.shrinks();
        if !shrinks.iter().any(|s| s.drain) {
            return;
        }
        for c in candidates(idx) {
            let mut drains: Vec<&Shrink<'_>> = shrinks
                .iter()
                .filter(|s| s.drain && s.target.same(&c.target) && !idx.runs_once(s.file, s.call))
                .filter(|s| !prunes(idx.src(s.file), s.call))
                .collect();
            if drains.is_empty() || !idx.resets(&c.target).is_empty() {
                continue;
            }
            let writes: Vec<_> = c
                .writes
                .iter()
                .copied()
                .filter(|&(fi, index, stmt)| {
                    !idx.runs_once(fi, stmt) && !constant_key(idx, fi, index)
                })
                .collect();
            if writes.is_empty() {
                continue;
            }
            // A length guard caps the peak by design.
            if writes
                .iter()
                .any(|&(fi, _, stmt)| idx.len_guarded(fi, stmt, &c.target).is_some())
            {
                continue;
            }
            drains.sort_by(|a, b| {
                (idx.files[a.file].path(), a.call.start_byte())
                    .cmp(&(idx.files[b.file].path(), b.call.start_byte()))
            });
            let first = drains[0];
            let how = match first.kind {
                ShrinkKind::Clear => "emptied with clear".to_string(),
                ShrinkKind::DeleteFunc => "pruned with maps.DeleteFunc".to_string(),
                ShrinkKind::Delete => "emptied by deleting its keys in a range over it".to_string(),
                ShrinkKind::Helper => {
                    let callee = first
                        .call
                        .child_by_field_name("function")
                        .map(|f| idx.text(first.file, f))
                        .unwrap_or("a helper");
                    format!("emptied through {callee}")
                }
            };
            let mut evidence: Vec<Location> = writes
                .iter()
                .map(|&(fi, _, stmt)| idx.location(fi, stmt))
                .collect();
            tidy(&mut evidence);
            let related = drains[1..]
                .iter()
                .map(|d| Related {
                    location: idx.location(d.file, d.call),
                    message: format!(
                        "also emptied in {}",
                        function_label(d.call, idx.src(d.file))
                    ),
                })
                .chain(writes.iter().take(1).map(|&(fi, index, _)| Related {
                    location: idx.location(fi, index),
                    message: "refilled here; its buckets grow to the largest batch".to_string(),
                }))
                .collect();
            out.push(Match {
                rule: META.id,
                location: idx.location(first.file, first.call),
                message: format!(
                    "{} \"{}\" is {how} in {} but never replaced, so it keeps the memory of its largest size",
                    c.what,
                    c.subject,
                    function_label(first.call, idx.src(first.file))
                ),
                subject: c.subject,
                declaration: Some(c.declaration),
                related,
                evidence,
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// Package-level maps and map fields of long-lived structs, with their writes.
fn candidates<'p>(idx: &PackageIndex<'p>) -> Vec<Candidate<'p>> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = idx.vars.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let Some(g) = idx.vars.get(name) else {
            continue;
        };
        let Some(mt) = idx.global_map_type(g) else {
            continue;
        };
        if idx.is_bounded_key_type(mt.file, mt.key) {
            continue;
        }
        let writes = idx
            .global_uses(name)
            .into_iter()
            .filter_map(|u| match u.kind {
                UseKind::Write { index, stmt } => Some((u.file, index, stmt)),
                _ => None,
            })
            .collect();
        out.push(Candidate {
            target: Target::Global(name.to_string()),
            what: "package-level map",
            subject: name.to_string(),
            declaration: idx.location(g.file, g.spec),
            writes,
        });
    }
    for f in map_fields(idx) {
        if idx.is_bounded_key_type(f.map.file, f.map.key) || idx.request_scoped(f.ty) {
            continue;
        }
        out.push(Candidate {
            target: Target::Field {
                ty: Some(f.ty.to_string()),
                name: f.name.to_string(),
            },
            what: "map field",
            subject: format!("{}.{}", f.ty, f.name),
            declaration: idx.location(f.file, f.decl),
            writes: method_writes(idx, f.ty, f.name),
        });
    }
    out
}

/// Whether a `delete` in a range over the map only runs for entries that pass a test on
/// the entry (`if now.Sub(rc.Delivered) > ttl { delete(m, id) }`): an expiry sweep
/// prunes the map to what is live rather than emptying it, so what the map holds is its
/// steady size, not the peak of a burst.
fn prunes(src: &str, call: Node<'_>) -> bool {
    let mut child = call;
    for anc in syntax::ancestors(call) {
        if syntax::is_function(anc.kind()) {
            return false;
        }
        match anc.kind() {
            "if_statement" if anc.child_by_field_name("condition") != Some(child) => {
                let Some(cond) = anc.child_by_field_name("condition") else {
                    child = anc;
                    continue;
                };
                if let Some(range) = enclosing_range(anc) {
                    let vars: Vec<&str> = flow::items(range.child_by_field_name("left"))
                        .into_iter()
                        .map(|v| syntax::text(v, src))
                        .filter(|v| *v != "_")
                        .collect();
                    let uses_entry = syntax::descendants_of_kind(cond, "identifier")
                        .any(|id| vars.contains(&syntax::text(id, src)));
                    if uses_entry {
                        return true;
                    }
                }
            }
            "for_statement" => return false,
            _ => {}
        }
        child = anc;
    }
    false
}

/// The range clause of the `for` statement around `node` (in the same function).
fn enclosing_range(node: Node<'_>) -> Option<Node<'_>> {
    let lp = syntax::ancestors(node)
        .take_while(|a| !syntax::is_function(a.kind()))
        .find(|a| a.kind() == "for_statement")?;
    flow::named(lp)
        .into_iter()
        .find(|c| c.kind() == "range_clause")
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::MapHighWaterMark;
    use crate::rules::testing::check;

    #[test]
    fn drained_long_lived_maps() {
        check(
            &MapHighWaterMark,
            r#"
-- batch/batch.go --
package batch

import (
	"maps"
	"sync"
)

type Job struct{ Payload []byte }

var (
	mu      sync.Mutex
	pending = map[string]*Job{}
)

func Enqueue(id string, j *Job) {
	mu.Lock()
	pending[id] = j
	mu.Unlock()
}

func Flush(run func(*Job)) {
	mu.Lock()
	defer mu.Unlock()
	for id, j := range pending {
		run(j)
		delete(pending, id)
	}
}

type Tracker struct {
	mu     sync.Mutex
	active map[string][]byte
	recent map[string]int
	older  map[string]int
}

func (t *Tracker) Start(id string) {
	t.mu.Lock()
	t.active[id] = make([]byte, 256)
	t.recent[id]++
	t.older[id]++
	t.mu.Unlock()
}

func (t *Tracker) Reset() {
	t.mu.Lock()
	clear(t.active)
	maps.DeleteFunc(t.recent, func(string, int) bool { return true })
	drop(t.older)
	t.mu.Unlock()
}

func drop(m map[string]int) {
	for k := range m {
		delete(m, k)
	}
}
"#,
            expect![[r#"
                batch/batch.go:26 map-high-water-mark [pending] package-level map "pending" is emptied by deleting its keys in a range over it in Flush but never replaced, so it keeps the memory of its largest size
                  declared batch/batch.go:12
                  related batch/batch.go:17 refilled here; its buckets grow to the largest batch
                  evidence batch/batch.go:17
                batch/batch.go:47 map-high-water-mark [Tracker.active] map field "Tracker.active" is emptied with clear in (*Tracker).Reset but never replaced, so it keeps the memory of its largest size
                  declared batch/batch.go:32
                  related batch/batch.go:39 refilled here; its buckets grow to the largest batch
                  evidence batch/batch.go:39
                batch/batch.go:48 map-high-water-mark [Tracker.recent] map field "Tracker.recent" is pruned with maps.DeleteFunc in (*Tracker).Reset but never replaced, so it keeps the memory of its largest size
                  declared batch/batch.go:33
                  related batch/batch.go:40 refilled here; its buckets grow to the largest batch
                  evidence batch/batch.go:40
                batch/batch.go:49 map-high-water-mark [Tracker.older] map field "Tracker.older" is emptied through drop in (*Tracker).Reset but never replaced, so it keeps the memory of its largest size
                  declared batch/batch.go:34
                  related batch/batch.go:41 refilled here; its buckets grow to the largest batch
                  evidence batch/batch.go:41
            "#]],
        );
    }

    #[test]
    fn replaced_guarded_single_deletes_and_short_lived_maps() {
        check(
            &MapHighWaterMark,
            r#"
-- expiry.go --
package a

import "time"

type receipt struct{ at time.Time }

// An expiry sweep deletes only the entries past their TTL: the map is pruned to what
// is live, not emptied.
var receipts = map[string]receipt{}

func Deliver(id string) { receipts[id] = receipt{at: time.Now()} }

func Expire(now time.Time, ttl time.Duration) {
	for id, rc := range receipts {
		if now.Sub(rc.at) > ttl {
			delete(receipts, id)
		}
	}
}
-- a.go --
package a

var (
	swapped = map[string][]byte{}
	capped  = map[string][]byte{}
	single  = map[string][]byte{}
	fixed   = map[string]int{}
	setup   = map[string]int{}
)

func Put(k string, v []byte) {
	swapped[k] = v
	if len(capped) >= 64 {
		return
	}
	capped[k] = v
	single[k] = v
	fixed["total"]++
}

func Flush() {
	clear(swapped)
	swapped = make(map[string][]byte)
	clear(capped)
	delete(single, "k")
	for k := range fixed {
		delete(fixed, k)
	}
	clear(setup)
}

func init() {
	for _, k := range []string{"a", "b"} {
		setup[k] = 1
	}
}

type walker struct{ seen map[string]bool }

func (w *walker) visit(n string) { w.seen[n] = true }

func (w *walker) reset() { clear(w.seen) }

func Walk(ns []string) {
	w := &walker{seen: map[string]bool{}}
	for _, n := range ns {
		w.visit(n)
	}
	w.reset()
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }
}
