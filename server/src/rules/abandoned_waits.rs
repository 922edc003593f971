//! A one-shot registration abandoned by a `select`: `case ev := <-s.bus.Await(id):`
//! beside a timer or context case, where `Await` (a method of another workspace
//! package, or of this one) adds an entry to a map field of its receiver and returns only
//! a channel. Only a delivery removes the entry; when another case wins, nothing can, so
//! every timed-out wait leaves one for good. Part of `map-field-no-delete`: the map that
//! grows is the registry's; the line to change is the wait that cannot unregister.

use tree_sitter::Node;

use super::flow;
use super::route_labels::map_writes;
use super::syntax;
use super::{Context, Location, Match, Package, Related, SourceFile};

/// The matches of the package's `select` statements.
pub(crate) fn abandoned_waits(cx: &Context<'_>, rule: &'static str) -> Vec<Match> {
    let mut out = Vec::new();
    for file in cx.program_files() {
        let src: &str = &file.text;
        for sel in syntax::descendants_of_kind(file.tree.root_node(), "select_statement") {
            let cases: Vec<Node<'_>> = flow::named(sel)
                .into_iter()
                .filter(|c| matches!(c.kind(), "communication_case" | "default_case"))
                .collect();
            if cases.len() < 2 {
                continue;
            }
            for case in &cases {
                let Some(comm) = case.child_by_field_name("communication") else {
                    continue;
                };
                let Some(call) = received_call(comm, src) else {
                    continue;
                };
                if let Some(m) = check_wait(cx, file, sel, comm, call, rule) {
                    out.push(m);
                }
            }
        }
    }
    out
}

/// The call whose channel a case receives from: `<-s.bus.Await(id)` itself, or `<-ch`
/// with `ch := s.bus.Await(id)` in the function.
fn received_call<'t>(comm: Node<'t>, src: &str) -> Option<Node<'t>> {
    let recv = match comm.kind() {
        "receive_statement" => comm.child_by_field_name("right")?,
        "expression_statement" => comm.named_child(0)?,
        _ => return None,
    };
    let recv = flow::unparen(recv);
    if recv.kind() != "unary_expression" || flow::operator(recv, src) != "<-" {
        return None;
    }
    let ch = flow::unparen(recv.child_by_field_name("operand")?);
    match ch.kind() {
        "call_expression" => Some(ch),
        "identifier" => {
            let b = flow::resolve_ident(ch, src)?;
            if b.kind != flow::BindKind::ShortVar || b.multi {
                return None;
            }
            b.value
                .map(flow::unparen)
                .filter(|v| v.kind() == "call_expression")
        }
        _ => None,
    }
}

fn check_wait(
    cx: &Context<'_>,
    file: &SourceFile,
    sel: Node<'_>,
    comm: Node<'_>,
    call: Node<'_>,
    rule: &'static str,
) -> Option<Match> {
    let src: &str = &file.text;
    let f = call.child_by_field_name("function").map(flow::unparen)?;
    if f.kind() != "selector_expression" {
        return None;
    }
    let name = syntax::text(f.child_by_field_name("field")?, src);
    // The method, in this package or in an imported workspace package (by name).
    let mut candidates: Vec<std::sync::Arc<Package>> = Vec::new();
    for (_, path) in flow::imports(file) {
        if let Some(p) = cx.other_package(&path) {
            candidates.push(p);
        }
    }
    let own: Vec<(&Package, Vec<(&SourceFile, Node<'_>)>)> =
        vec![(&**cx, flow::package_methods(cx, name))];
    let mut found: Option<(String, Vec<Location>, Vec<String>)> = None;
    let others: Vec<(&Package, Vec<(&SourceFile, Node<'_>)>)> = candidates
        .iter()
        .map(|p| (&**p, flow::package_methods(p, name)))
        .collect();
    for (pkg, methods) in own.iter().chain(others.iter()) {
        let [(mf, method)] = methods.as_slice() else {
            continue;
        };
        if let Some((evidence, maps)) = registers(pkg, mf, *method) {
            found = Some((flow::function_label(*method, &mf.text), evidence, maps));
            break;
        }
    }
    let (callee, mut evidence, maps) = found?;
    let others_cases: Vec<String> = flow::named(sel)
        .into_iter()
        .filter(|c| matches!(c.kind(), "communication_case" | "default_case"))
        .filter(|c| {
            c.child_by_field_name("communication")
                .is_none_or(|x| x.id() != comm.id())
        })
        .map(|c| match c.child_by_field_name("communication") {
            Some(x) => format!("`case {}`", syntax::text(x, src)),
            None => "`default`".to_string(),
        })
        .collect();
    let message = format!(
        "{} waits on the channel {callee} returns, which adds an entry to map field {} and gives the caller no way to remove it; when {} wins instead, the entry stays until something is delivered to it, so every abandoned wait can keep one for good",
        flow::function_label(comm, src),
        maps.iter()
            .map(|m| format!("\"{m}\""))
            .collect::<Vec<_>>()
            .join(" and "),
        others_cases.join(" or "),
    );
    evidence.insert(0, file.location(comm));
    Some(Match {
        rule,
        location: file.location(comm),
        subject: syntax::text(f, src).to_string(),
        message,
        declaration: None,
        related: vec![Related {
            location: file.location(sel),
            message: "the other cases of this select leave without the delivery".to_string(),
        }],
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: maps,
    })
}

/// For a method returning only a channel, with no context to unregister on and no
/// goroutine or timer of its own: the map fields of its receiver it (or a method of the
/// same receiver it calls) adds to, with the writes and what the values passed to them
/// allocate.
fn registers(
    pkg: &Package,
    file: &SourceFile,
    method: Node<'_>,
) -> Option<(Vec<Location>, Vec<String>)> {
    let src: &str = &file.text;
    let result = method.child_by_field_name("result")?;
    let result = syntax::text(result, src).replace(' ', "");
    if !(result.starts_with("<-chan") || result.starts_with("chan")) {
        return None;
    }
    let params = syntax::text(method.child_by_field_name("parameters")?, src);
    if params.contains("context.Context") {
        return None;
    }
    let body = method.child_by_field_name("body")?;
    let spawns = syntax::descendants(body).any(|n| {
        n.kind() == "go_statement"
            || n.kind() == "call_expression"
                && matches!(syntax::called_name(n, src), Some("AfterFunc"))
    });
    if spawns {
        return None;
    }
    let mut evidence = Vec::new();
    let mut maps = Vec::new();
    let writes = adds_to_map(pkg, file, method, &mut evidence, &mut maps);
    writes.then_some((evidence, maps))
}

/// Whether a method adds to a map field of its receiver, itself or through a method of
/// the same receiver it calls; the writes, what the values allocate and what the
/// registering call is handed go to `evidence`, the maps' names to `maps`.
pub(crate) fn adds_to_map(
    pkg: &Package,
    file: &SourceFile,
    method: Node<'_>,
    evidence: &mut Vec<Location>,
    maps: &mut Vec<String>,
) -> bool {
    let src: &str = &file.text;
    let (Some(recv_type), Some(body)) = (
        flow::receiver_type(method, src),
        method.child_by_field_name("body"),
    ) else {
        return false;
    };
    let mut writes = map_writes(pkg, file, method, evidence, maps);
    for c in syntax::descendants_of_kind(body, "call_expression") {
        let Some(callee) = syntax::called_name(c, src) else {
            continue;
        };
        for (cf, m) in flow::package_methods(pkg, callee) {
            if flow::receiver_type(m, &cf.text) != Some(recv_type) || m.id() == method.id() {
                continue;
            }
            if map_writes(pkg, cf, m, evidence, maps) {
                writes = true;
                // What the method hands the registering call (`b.add(topic, s)` with
                // `s := newSubscriber(true)`).
                for a in syntax::call_args(c) {
                    flow::alloc_sites(pkg, file, a, evidence);
                }
            }
        }
    }
    writes
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::rules::map_field_no_delete::MapFieldNoDelete;
    use crate::rules::testing::check;

    /// `Await` registers a one-shot waiter and returns only its channel: a long-poll
    /// leaving on its timer is reported. `Subscribe`, which returns a subscription to
    /// close, and `Wait(ctx, ...)`, which can unregister when its context ends, are
    /// quiet; so is a select receiving the same channel with no other case.
    #[test]
    fn a_registration_abandoned_by_a_select_is_reported() {
        check(
            &MapFieldNoDelete,
            r#"
-- bus/bus.go --
package bus

import (
	"context"
	"sync"
)

type waiter struct{ ch chan string }

type Bus struct {
	mu      sync.Mutex
	waiters map[string][]*waiter
}

func (b *Bus) add(topic string, w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiters[topic] = append(b.waiters[topic], w)
}

func (b *Bus) Await(topic string) <-chan string {
	w := &waiter{ch: make(chan string, 16)}
	b.add(topic, w)
	return w.ch
}

func (b *Bus) Wait(ctx context.Context, topic string) <-chan string {
	w := &waiter{ch: make(chan string, 1)}
	b.add(topic, w)
	go func() { <-ctx.Done(); b.Publish(topic, "") }()
	return w.ch
}

func (b *Bus) Publish(topic, msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.waiters[topic] {
		w.ch <- msg
	}
	delete(b.waiters, topic)
}
-- api/api.go --
package api

import (
	"context"
	"time"

	"example.com/app/bus"
)

type Server struct{ bus *bus.Bus }

func (s *Server) Poll(id string) string {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case msg := <-s.bus.Await(id):
		return msg
	case <-t.C:
		return ""
	}
}

func (s *Server) PollCtx(ctx context.Context, id string) string {
	ch := s.bus.Wait(ctx, id)
	select {
	case msg := <-ch:
		return msg
	case <-ctx.Done():
		return ""
	}
}

func (s *Server) Block(id string) string {
	select {
	case msg := <-s.bus.Await(id):
		return msg
	}
}
"#,
            expect![[r#"
                api/api.go:16 map-field-no-delete [s.bus.Await] (*Server).Poll waits on the channel (*Bus).Await returns, which adds an entry to map field "Bus.waiters" and gives the caller no way to remove it; when `case <-t.C` wins instead, the entry stays until something is delivered to it, so every abandoned wait can keep one for good
                  related api/api.go:15 the other cases of this select leave without the delivery
                  evidence api/api.go:16 bus/bus.go:18 bus/bus.go:22
                bus/bus.go:18 map-field-no-delete [Bus.waiters] map field "Bus.waiters" is written in (*Bus).add and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared bus/bus.go:12
                  evidence bus/bus.go:18 bus/bus.go:22 bus/bus.go:28
                  reported only when the profiles show growth
            "#]],
        );
    }
}
