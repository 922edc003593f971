//! `closure-registry-leak`: a callback that captures the variables of the function adding
//! it is appended to (or put into) a package-level registry of callbacks, per call, and
//! never removed: everything it captures stays reachable from the registry.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::flow::PackageIndex;
use super::syntax;
use super::unbounded_global_map::maps::{
    binding, function_label, join_labels, list_items, tidy, unparen, Binding, Target,
};
use super::{Context, EvidenceKind, Location, Match, Rule, RuleMeta};

/// The `closure-registry-leak` rule.
#[derive(Debug)]
pub struct ClosureRegistryLeak;

static META: RuleMeta = RuleMeta {
    id: "closure-registry-leak",
    name: "Closure registry leak",
    summary: "Callbacks capturing objects are added to a global registry and never removed.",
    evidence: EvidenceKind::Heap,
    grows: true,
};

/// A callback registered by a call that returns its unregister function, kept in a
/// local (`stop := h.hub.Watch(tenant, m, res.add)`) and called on some paths of the
/// function (`stop()`, `defer stop()`) but not on others (a `return` in the `case
/// <-r.Context().Done()` before the call): on those the registration stays, with what
/// the callback holds. A match on each such `return`; the evidence is the registration
/// and what its callback arguments allocate (a method value's method body, a literal's
/// locals).
fn unregister_skipped<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    file: &'p super::SourceFile,
) -> Vec<Match> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    for decl in syntax::descendants(file.tree.root_node())
        .filter(|n| matches!(n.kind(), "function_declaration" | "method_declaration"))
    {
        let Some(body) = decl.child_by_field_name("body") else {
            continue;
        };
        for stmt in syntax::descendants_of_kind(body, "short_var_declaration") {
            if syntax::enclosing_function(stmt).map(|f| f.id()) != Some(decl.id()) {
                continue;
            }
            let left = super::flow::items(stmt.child_by_field_name("left"));
            let right = super::flow::items(stmt.child_by_field_name("right"));
            let ([var, others @ ..], [call]) = (left.as_slice(), right.as_slice()) else {
                continue;
            };
            let call = unparen(*call);
            if call.kind() != "call_expression" || var.kind() != "identifier" {
                continue;
            }
            let name = syntax::text(*var, src);
            // A callback among the arguments: a function literal or a method value.
            let callbacks: Vec<Node<'p>> = syntax::call_args(call)
                .into_iter()
                .filter(|a| {
                    let a = unparen(*a);
                    a.kind() == "func_literal"
                        || a.kind() == "selector_expression"
                            && a.child_by_field_name("field")
                                .is_some_and(|f| idx.methods.contains_key(syntax::text(f, src)))
                })
                .collect();
            if callbacks.is_empty() {
                continue;
            }
            // The local is called later: it is the unregister function.
            let called = syntax::descendants_of_kind(body, "call_expression").any(|c| {
                c.start_byte() > stmt.end_byte()
                    && c.child_by_field_name("function")
                        .is_some_and(|f| f.kind() == "identifier" && syntax::text(f, src) == name)
            });
            if !called {
                continue;
            }
            let res = Unregister {
                src,
                var: name,
                acquire: stmt,
                others: others.iter().map(|o| syntax::text(*o, src)).collect(),
                by_method: false,
            };
            let Some(exits) = super::paths::exits(body, &res, false) else {
                continue;
            };
            let mut rets: Vec<Node<'p>> = super::paths::unreleased(&exits)
                .into_iter()
                .filter_map(|e| e.ret)
                .collect();
            rets.sort_by_key(|r| r.start_byte());
            rets.dedup_by_key(|r| r.id());
            for ret in rets {
                let mut evidence = vec![idx.location(fi, call)];
                for cb in &callbacks {
                    let cb = unparen(*cb);
                    if cb.kind() == "func_literal" {
                        evidence.push(idx.location(fi, cb));
                        continue;
                    }
                    // The method a method value runs: what it allocates is kept by its
                    // receiver, which the registration keeps.
                    let method = cb
                        .child_by_field_name("field")
                        .map(|f| syntax::text(f, src));
                    for &(mf, m) in method
                        .and_then(|m| idx.methods.get(m))
                        .into_iter()
                        .flatten()
                    {
                        evidence.push(idx.location(mf, m));
                    }
                }
                tidy(&mut evidence);
                out.push(Match {
                    rule: META.id,
                    location: idx.location(fi, ret),
                    subject: name.to_string(),
                    message: format!(
                        "{} calls \"{name}\", the unregister function {} returned, on its other paths, but returns here without calling it, so the callback stays registered with everything it holds",
                        function_label(stmt, src),
                        syntax::text(
                            call.child_by_field_name("function").unwrap_or(call),
                            src
                        ),
                    ),
                    declaration: None,
                    related: vec![super::Related {
                        location: idx.location(fi, stmt),
                        message: "the callback is registered here".to_string(),
                    }],
                    evidence,
                    fixes: Vec::new(),
                    version_note: None,
                    needs_growth: false,
                    fills: Vec::new(),
                });
            }
        }
    }
    out
}

/// An unregister function kept in a func field of a struct (`st.unsubscribe =
/// r.hub.Subscribe(st.observe)`) whose values a map field holds: when one removal of an
/// entry releases it (`st.close()` then `delete`, in `Close`) and another deletes the
/// entry without (an eviction's `delete(r.reports, oldest)`), the registration stays
/// with everything the callback's receiver holds. A match on each such `delete`.
/// What a holder's field keeps registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HolderKind {
    /// An unregister function (`st.unsubscribe = hub.Subscribe(st.observe)`), released
    /// by calling it.
    Unregister,
    /// A timer (`t.idle = time.AfterFunc(d, func() { a.expire(t) })`), released by its
    /// `Stop`.
    Timer,
}

pub(crate) fn dropped_holders(
    cx: &Context<'_>,
    idx: &PackageIndex<'_>,
    kind: HolderKind,
    rule: &'static str,
) -> Vec<Match> {
    let mut out = Vec::new();
    // Registrations stored in a field: (field, statement, call, file).
    let mut registered: Vec<(&str, Node<'_>, Node<'_>, usize)> = Vec::new();
    for (fi, f) in idx.files.iter().enumerate() {
        let src: &str = &f.text;
        for a in syntax::descendants_of_kind(f.tree.root_node(), "assignment_statement") {
            let left = super::flow::items(a.child_by_field_name("left"));
            let right = super::flow::items(a.child_by_field_name("right"));
            let ([target], [call]) = (left.as_slice(), right.as_slice()) else {
                continue;
            };
            let (target, call) = (unparen(*target), unparen(*call));
            if target.kind() != "selector_expression" || call.kind() != "call_expression" {
                continue;
            }
            let has_callback = syntax::call_args(call).iter().any(|a| {
                let a = unparen(*a);
                a.kind() == "func_literal"
                    || a.kind() == "selector_expression"
                        && a.child_by_field_name("field")
                            .is_some_and(|f| idx.methods.contains_key(syntax::text(f, src)))
            });
            let callee = call
                .child_by_field_name("function")
                .map(|f| syntax::text(f, src).replace(' ', ""));
            let registers = match kind {
                HolderKind::Unregister => has_callback,
                HolderKind::Timer => {
                    matches!(callee.as_deref(), Some("time.AfterFunc" | "time.NewTimer"))
                }
            };
            let Some(field) = target.child_by_field_name("field") else {
                continue;
            };
            if registers {
                registered.push((syntax::text(field, src), a, call, fi));
            }
        }
    }
    for (field, stmt, call, fi) in registered {
        // The one struct type declaring the field with a func (or timer) type.
        let typed = |t: &str| match kind {
            HolderKind::Unregister => t.trim_start().starts_with("func("),
            HolderKind::Timer => t.replace(' ', "") == "*time.Timer",
        };
        let holders: Vec<&str> = cx
            .program_files()
            .flat_map(|f| f.summary.structs.iter())
            .filter(|st| {
                st.fields
                    .iter()
                    .any(|fd| fd.name == field && typed(&fd.type_text))
            })
            .map(|st| st.name.as_str())
            .collect();
        let [holder] = holders.as_slice() else {
            continue;
        };
        // A release of the field itself: `s.unsubscribe()`, or `t.idle.Stop()`.
        let releases_field = |c: Node<'_>, csrc: &str| match kind {
            HolderKind::Unregister => syntax::called_name(c, csrc) == Some(field),
            HolderKind::Timer => {
                syntax::called_name(c, csrc) == Some("Stop")
                    && c.child_by_field_name("function")
                        .and_then(|f| f.child_by_field_name("operand"))
                        .map(unparen)
                        .and_then(|o| o.child_by_field_name("field"))
                        .is_some_and(|fl| syntax::text(fl, csrc) == field)
            }
        };
        // The holder's methods releasing it (`close` calling `s.unsubscribe()`).
        let mut releasers: Vec<&str> = Vec::new();
        for (name, decls) in &idx.methods {
            let calls_field = decls.iter().any(|(mf, m)| {
                let msrc = idx.src(*mf);
                super::flow::receiver_type(*m, msrc) == Some(*holder)
                    && syntax::descendants_of_kind(*m, "call_expression")
                        .any(|c| releases_field(c, msrc))
            });
            if calls_field {
                releasers.push(name);
            }
        }
        let is_release = |c: Node<'_>, csrc: &str| {
            releases_field(c, csrc)
                || syntax::called_name(c, csrc).is_some_and(|n| releasers.contains(&n))
        };
        // A timer's own callback (and what it calls by name) runs once the timer fired:
        // nothing is left to stop there.
        let fired: Vec<&str> = match kind {
            HolderKind::Timer => syntax::call_args(call)
                .into_iter()
                .filter(|a| unparen(*a).kind() == "func_literal")
                .flat_map(|l| syntax::descendants_of_kind(l, "call_expression"))
                .filter_map(|c| syntax::called_name(c, idx.src(fi)))
                .collect(),
            HolderKind::Unregister => Vec::new(),
        };
        let holds = |map_field: &str| {
            super::flow::field_type_text(cx, map_field)
                .is_some_and(|t| super::flow::map_value_type(&t) == Some(*holder))
        };
        let mut released: Option<(usize, Node<'_>)> = None;
        // (file, statement, map field, the removal helper it calls)
        let mut dropped: Vec<(usize, Node<'_>, &str, Option<&str>)> = Vec::new();
        for (df, f) in idx.files.iter().enumerate() {
            let src: &str = &f.text;
            for del in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
                if syntax::callee(del, src) != Some("delete") {
                    continue;
                }
                let Some(map_field) = syntax::call_args(del)
                    .first()
                    .map(|m| unparen(*m))
                    .filter(|m| m.kind() == "selector_expression")
                    .and_then(|m| m.child_by_field_name("field"))
                    .map(|n| syntax::text(n, src))
                else {
                    continue;
                };
                if !holds(map_field) {
                    continue;
                }
                let Some(func) = syntax::enclosing_function(del) else {
                    continue;
                };
                // A release on the delete's own path: in its block or an enclosing one
                // (`t.close(); delete(...)`), not in a sibling branch (`if cur ... {
                // cur.unsubscribe(); delete(...) }` beside `if prev ... { delete(...)
                // }`).
                let on_path = |c: Node<'_>, at: Node<'_>| {
                    let block = syntax::statement_of(c).parent();
                    block.is_some_and(|b| syntax::ancestors(at).any(|a| a.id() == b.id()))
                };
                let release = syntax::descendants_of_kind(func, "call_expression")
                    .find(|c| is_release(*c, src) && on_path(*c, del));
                // A function handing the entry back leaves the release to its callers.
                let hands_back = syntax::descendants_of_kind(func, "return_statement").any(|r| {
                    super::flow::named(r)
                        .into_iter()
                        .flat_map(|l| super::flow::items(Some(l)))
                        .any(|v| {
                            super::flow::resolve_ident(unparen(v), src)
                                .and_then(|b| b.value)
                                .is_some_and(|v| unparen(v).kind() == "index_expression")
                        })
                });
                // A removal helper handed the holder (`finish(t, reason)`, deleting
                // `t.VehicleID`'s entry): its callers are the removals, those releasing
                // on their path and those not (a timer's own callback excepted).
                let handed = kind == HolderKind::Timer
                    && func.kind() != "func_literal"
                    && func.child_by_field_name("parameters").is_some_and(|p| {
                        syntax::descendants_of_kind(p, "parameter_declaration").any(|d| {
                            d.child_by_field_name("type").is_some_and(|t| {
                                syntax::text(t, src).trim_start_matches('*') == *holder
                            })
                        })
                    });
                let helper = syntax::function_name(func, src);
                let callers = match (handed, release) {
                    (true, None) => super::flow::callers(cx, func, src),
                    _ => Vec::new(),
                };
                if !callers.is_empty() {
                    for (cf, c) in callers {
                        let csrc: &str = &cf.text;
                        let Some(caller) = syntax::enclosing_function(c) else {
                            continue;
                        };
                        let caller_name = syntax::function_name(caller, csrc);
                        let in_callback = syntax::ancestors(c).any(|a| a.id() == call.id());
                        if in_callback || caller_name.is_some_and(|n| fired.contains(&n)) {
                            continue;
                        }
                        let cfi = idx.files.iter().position(|x| std::ptr::eq(*x, cf));
                        let Some(cfi) = cfi else { continue };
                        match syntax::descendants_of_kind(caller, "call_expression")
                            .find(|r| is_release(*r, csrc) && on_path(*r, c))
                        {
                            Some(r) => released = released.or(Some((cfi, r))),
                            None => dropped.push((cfi, syntax::statement_of(c), map_field, helper)),
                        }
                    }
                    continue;
                }
                match release {
                    Some(r) => released = released.or(Some((df, r))),
                    None if !hands_back => dropped.push((df, del, map_field, None)),
                    None => {}
                }
            }
        }
        let Some((rf, release)) = released else {
            continue;
        };
        let src = idx.src(fi);
        let mut evidence = vec![idx.location(fi, call)];
        // The callbacks' bodies, and what the holder's methods keep in its containers
        // (`s.byID[dl.ID] = dl` in `add`): the callback's receiver keeps all of it.
        for a in syntax::call_args(call) {
            let a = unparen(a);
            if a.kind() == "func_literal" {
                evidence.push(idx.location(fi, a));
            } else if let Some(m) = a.child_by_field_name("field") {
                for &(mf, decl) in idx.methods.get(syntax::text(m, src)).into_iter().flatten() {
                    evidence.push(idx.location(mf, decl));
                }
            }
        }
        for decls in idx.methods.values() {
            for &(mf, m) in decls {
                let msrc = idx.src(mf);
                if super::flow::receiver_type(m, msrc) != Some(*holder) {
                    continue;
                }
                for w in syntax::descendants_of_kind(m, "assignment_statement") {
                    let grows = super::flow::items(w.child_by_field_name("left"))
                        .iter()
                        .any(|l| {
                            let l = unparen(*l);
                            l.kind() == "index_expression"
                                && l.child_by_field_name("operand")
                                    .is_some_and(|o| unparen(o).kind() == "selector_expression")
                        })
                        || syntax::text(w, msrc).contains("= append(");
                    if !grows {
                        continue;
                    }
                    evidence.push(idx.location(mf, w));
                    // The values stored, made here or passed in by the package's callers
                    // (`st.add(dl)` with `dl := r.d.newDelivery(...)`).
                    let mf_file = idx.files[mf];
                    for v in super::flow::items(w.child_by_field_name("right")) {
                        super::flow::alloc_sites(cx, mf_file, v, &mut evidence);
                        for i in syntax::descendants_of_kind(v, "identifier") {
                            let Some(b) = super::flow::resolve_ident(i, msrc)
                                .filter(|b| b.kind == super::flow::BindKind::Param)
                            else {
                                continue;
                            };
                            let Some(pos) = super::flow::param_position(&b) else {
                                continue;
                            };
                            for (cf, c) in super::flow::callers(cx, m, msrc) {
                                if let Some(arg) = syntax::call_args(c).get(pos) {
                                    super::flow::alloc_sites(cx, cf, *arg, &mut evidence);
                                }
                            }
                        }
                    }
                }
            }
        }
        // The holder itself, where its literals are made (`newAssignment`'s
        // `&Assignment{inbox: make(...)}`).
        let types: HashSet<String> = [holder.to_string()].into_iter().collect();
        for f in &idx.files {
            super::flow::type_allocations(f, f.tree.root_node(), &types, &mut evidence);
        }
        // And the workspace structs its fields point to (`batch *batch.Batch`).
        held_allocations(cx, holder, &mut evidence);
        tidy(&mut evidence);
        let rsrc = idx.src(rf);
        for (df, del, map_field, helper) in dropped {
            let dsrc = idx.src(df);
            let removes = match helper {
                Some(h) => format!("removes an entry of map field \"{map_field}\" through {h}"),
                None => format!("deletes an entry of map field \"{map_field}\""),
            };
            let made = syntax::text(call.child_by_field_name("function").unwrap_or(call), src);
            let message = match kind {
                HolderKind::Unregister => format!(
                    "{} {removes} without releasing its registration: the {holder} it removes keeps unregister function \"{field}\" from {made}, which {} calls when it removes one (line {}), so the callback stays registered with everything {holder} holds",
                    function_label(del, dsrc),
                    function_label(release, rsrc),
                    syntax::span(release).start_line,
                ),
                HolderKind::Timer => format!(
                    "{} {removes} without stopping its timer: the {holder} it removes keeps timer \"{field}\" from {made}, which {} stops when it removes one (line {}), so the pending timer keeps its function and the {holder} it holds until it fires",
                    function_label(del, dsrc),
                    function_label(release, rsrc),
                    syntax::span(release).start_line,
                ),
            };
            out.push(Match {
                rule,
                location: idx.location(df, syntax::statement_of(del)),
                subject: field.to_string(),
                message,
                declaration: None,
                related: vec![
                    super::Related {
                        location: idx.location(fi, stmt),
                        message: match kind {
                            HolderKind::Unregister => "the callback is registered here",
                            HolderKind::Timer => "the timer is started here",
                        }
                        .to_string(),
                    },
                    super::Related {
                        location: idx.location(rf, release),
                        message: "released here when another path removes an entry".to_string(),
                    },
                ],
                evidence: evidence.clone(),
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
    out
}

/// Where the workspace structs a holder's fields point to are made (`batch
/// *batch.Batch` in `pendingBatch`: package batch's `&Batch{...}` literals): what a holder
/// kept alive keeps with it.
pub(crate) fn held_allocations(cx: &Context<'_>, holder: &str, evidence: &mut Vec<Location>) {
    for f in cx.program_files() {
        for st in f.summary.structs.iter().filter(|st| st.name == holder) {
            let imports = super::flow::imports(f);
            for fd in &st.fields {
                let ty = fd.type_text.trim_start_matches(['*', '[', ']', ' ']);
                let types = |name: &str| -> HashSet<String> { [name.to_string()].into() };
                match ty.split_once('.') {
                    Some((qual, name)) => {
                        let path = imports.iter().find(|(b, _)| b == qual).map(|(_, p)| p);
                        let Some(other) = path.and_then(|p| cx.other_package(p)) else {
                            continue;
                        };
                        for of in other.program_files() {
                            let root = of.tree.root_node();
                            super::flow::type_allocations(of, root, &types(name), evidence);
                        }
                    }
                    None if ty != holder
                        && cx
                            .program_files()
                            .any(|g| g.summary.structs.iter().any(|s| s.name == ty)) =>
                    {
                        for g in cx.program_files() {
                            let root = g.tree.root_node();
                            super::flow::type_allocations(g, root, &types(ty), evidence);
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

/// An unregister function kept in a func field and overwritten on each turn of a loop
/// registering one callback per element (`for _, room := range cfg.Rooms { b.unlisten =
/// d.hub.Listen(room, d.listener(b)) }`): only the last registration can be undone, and
/// the others stay registered with the callbacks and all they capture. A match on the
/// assignment when the package calls the field somewhere (the release it believes
/// covers every registration) and nothing in the loop reads the field first.
fn overwritten_in_loop(cx: &Context<'_>, file: &super::SourceFile) -> Vec<Match> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    if !src.contains("for ") {
        return out;
    }
    for a in syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement") {
        if super::flow::operator(a, src) != "=" {
            continue;
        }
        let left = super::flow::items(a.child_by_field_name("left"));
        let right = super::flow::items(a.child_by_field_name("right"));
        let ([target], [call]) = (left.as_slice(), right.as_slice()) else {
            continue;
        };
        let (target, call) = (unparen(*target), unparen(*call));
        if target.kind() != "selector_expression" || call.kind() != "call_expression" {
            continue;
        }
        let (Some(operand), Some(field)) = (
            target.child_by_field_name("operand").map(unparen),
            target.child_by_field_name("field"),
        ) else {
            continue;
        };
        let field = syntax::text(field, src);
        let is_func = super::flow::field_type_text(cx, field)
            .is_some_and(|t| t.trim_start().starts_with("func("));
        if !is_func || operand.kind() != "identifier" {
            continue;
        }
        // The innermost loop around it within its function.
        let Some(lp) = syntax::ancestors(a)
            .take_while(|n| {
                !matches!(
                    n.kind(),
                    "func_literal" | "function_declaration" | "method_declaration"
                )
            })
            .find(|n| n.kind() == "for_statement")
        else {
            continue;
        };
        // The holder outlives the loop; the registration differs per turn.
        let holder = super::flow::resolve_ident(operand, src);
        if holder.is_none_or(|b| b.decl.start_byte() >= lp.start_byte()) {
            continue;
        }
        let per_turn = syntax::call_args(call).iter().any(|arg| {
            std::iter::once(*arg)
                .chain(syntax::descendants_of_kind(*arg, "identifier"))
                .filter(|i| i.kind() == "identifier")
                .filter_map(|i| super::flow::resolve_ident(i, src))
                .any(|b| {
                    b.decl.start_byte() >= lp.start_byte() && b.decl.end_byte() <= a.start_byte()
                })
        });
        if !per_turn {
            continue;
        }
        // Nothing in the loop reads the field (a release of the previous one, or a chain
        // of them).
        let field_text = syntax::text(target, src);
        let read_in_loop = syntax::descendants_of_kind(lp, "selector_expression")
            .any(|sel| sel.id() != target.id() && syntax::text(sel, src) == field_text);
        if read_in_loop {
            continue;
        }
        // The package's release of the field: `b.unlisten()`, one outside a loop first.
        let releases: Vec<(bool, Location)> = cx
            .program_files()
            .flat_map(|f| {
                syntax::descendants_of_kind(f.tree.root_node(), "call_expression")
                    .filter(|c| syntax::called_name(*c, &f.text) == Some(field))
                    .map(|c| {
                        let looped = syntax::ancestors(c).any(|n| n.kind() == "for_statement");
                        (looped, f.location(c))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let release = releases
            .iter()
            .find(|(looped, _)| !looped)
            .or(releases.first())
            .map(|(_, l)| l.clone());
        let Some(release) = release else {
            continue;
        };
        let mut evidence = vec![file.location(a)];
        for arg in syntax::call_args(call) {
            super::flow::alloc_sites(cx, file, arg, &mut evidence);
        }
        super::flow::alloc_sites(cx, file, operand, &mut evidence);
        let callee = syntax::text(call.child_by_field_name("function").unwrap_or(call), src);
        let message = format!(
            "{} overwrites \"{field_text}\" with the unregister function {callee} returns on every turn of the loop: only the last registration can be undone, so the callbacks registered on the other turns stay registered with everything they capture",
            super::flow::function_label(a, src),
        );
        out.push(Match {
            rule: META.id,
            location: file.location(a),
            subject: field_text.to_string(),
            message,
            declaration: None,
            related: vec![
                super::Related {
                    location: file.location(lp),
                    message: "each turn of this loop registers another callback".to_string(),
                },
                super::Related {
                    location: release,
                    message: "the release undoes only the registration stored last".to_string(),
                },
            ],
            evidence,
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills: Vec::new(),
        });
    }
    out
}

/// Methods that end a subscription object's registration.
const SUBSCRIPTION_RELEASES: [&str; 6] = [
    "Close",
    "Unsubscribe",
    "Cancel",
    "Stop",
    "Release",
    "Unregister",
];

/// A subscription object kept in a local (`sub := b.Subscribe(topic, n)`, a method that
/// adds to a map field of its receiver), released by a method of it (`sub.Close()`) on
/// some paths of the function that uses it (the function itself or a goroutine it starts)
/// and not on others: on those the registration stays. A match on each such `return`,
/// and on the statement before it when that is where the release belongs.
fn subscription_skipped(cx: &Context<'_>, file: &super::SourceFile) -> Vec<Match> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    for stmt in syntax::descendants_of_kind(file.tree.root_node(), "short_var_declaration") {
        let left = super::flow::items(stmt.child_by_field_name("left"));
        let right = super::flow::items(stmt.child_by_field_name("right"));
        let ([var, others @ ..], [call]) = (left.as_slice(), right.as_slice()) else {
            continue;
        };
        let call = unparen(*call);
        let Some(f) = call
            .child_by_field_name("function")
            .map(unparen)
            .filter(|f| f.kind() == "selector_expression" && call.kind() == "call_expression")
        else {
            continue;
        };
        let Some(method) = f.child_by_field_name("field").map(|n| syntax::text(n, src)) else {
            continue;
        };
        let name = syntax::text(*var, src);
        let Some(func) = syntax::enclosing_function(stmt) else {
            continue;
        };
        // A release of the local somewhere in the function or its literals.
        let release = syntax::descendants_of_kind(func, "call_expression").find(|c| {
            c.child_by_field_name("function").is_some_and(|cf| {
                cf.kind() == "selector_expression"
                    && cf
                        .child_by_field_name("operand")
                        .is_some_and(|o| syntax::text(o, src) == name)
                    && cf
                        .child_by_field_name("field")
                        .is_some_and(|m| SUBSCRIPTION_RELEASES.contains(&syntax::text(m, src)))
            })
        });
        let Some(release) = release else {
            continue;
        };
        let Some((callee_pkg, evidence)) = registering_method(cx, file, method) else {
            continue;
        };
        let release_name = release
            .child_by_field_name("function")
            .and_then(|f| f.child_by_field_name("field"))
            .map(|m| syntax::text(m, src))
            .unwrap_or("Close");
        // The function the release runs in: the one declaring the local, or a literal it
        // starts that has the local live from its start.
        let Some(user) = syntax::enclosing_function(release) else {
            continue;
        };
        let Some(body) = user.child_by_field_name("body") else {
            continue;
        };
        let res = Unregister {
            src,
            var: name,
            acquire: stmt,
            others: others.iter().map(|o| syntax::text(*o, src)).collect(),
            by_method: true,
        };
        let from_start = user.id() != func.id();
        let Some(exits) = super::paths::exits(body, &res, from_start) else {
            continue;
        };
        let mut seen = HashSet::new();
        for e in super::paths::unreleased(&exits) {
            let Some(ret) = e.ret else { continue };
            if !seen.insert(ret.id()) {
                continue;
            }
            let m = Match {
                rule: META.id,
                location: file.location(ret),
                subject: name.to_string(),
                message: format!(
                    "{} calls {name}.{release_name}() on its other paths, but returns here without it, so the subscription {} made stays registered in {callee_pkg} with everything it holds",
                    function_label(ret, src),
                    syntax::text(f, src),
                ),
                declaration: None,
                related: vec![
                    super::Related {
                        location: file.location(stmt),
                        message: "subscribed here".to_string(),
                    },
                    super::Related {
                        location: file.location(release),
                        message: "released here on another path".to_string(),
                    },
                ],
                evidence: evidence.clone(),
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            };
            // The statement before the return, where the release belongs (`fn(ev)`
            // then `return`).
            let before = e.at;
            if before.id() != ret.id()
                && syntax::span(before).start_line != syntax::span(ret).start_line
            {
                let copy = m.also_at(
                    file.location(before),
                    "the subscription is still registered after this statement",
                    "returns here without the release".to_string(),
                );
                out.push(copy);
            }
            out.push(m);
        }
    }
    out
}

/// The method named `name` of this package or of one imported workspace package (one
/// per package) that adds to a map field of its receiver, itself or through a method of
/// the same receiver: the package's name and the evidence (the method's body, where the
/// subscription and its buffers are made, and the map writes).
fn registering_method(
    cx: &Context<'_>,
    file: &super::SourceFile,
    name: &str,
) -> Option<(String, Vec<Location>)> {
    let mut pkgs: Vec<std::sync::Arc<super::Package>> = Vec::new();
    for (_, path) in super::flow::imports(file) {
        if let Some(p) = cx.other_package(&path) {
            pkgs.push(p);
        }
    }
    let own: [&super::Package; 1] = [cx];
    for pkg in own.into_iter().chain(pkgs.iter().map(|p| &**p)) {
        let methods = super::flow::package_methods(pkg, name);
        let [(mf, m)] = methods.as_slice() else {
            continue;
        };
        let mut evidence = Vec::new();
        let mut maps = Vec::new();
        if !super::abandoned_waits::adds_to_map(pkg, mf, *m, &mut evidence, &mut maps) {
            continue;
        }
        if let Some(body) = m.child_by_field_name("body") {
            super::flow::push_unique(&mut evidence, mf.location(body));
        }
        tidy(&mut evidence);
        return Some((
            pkg.import_path.rsplit('/').next().unwrap_or("").to_string(),
            evidence,
        ));
    }
    None
}

/// A registration held in a local: an unregister function, released by calling it, or a
/// subscription object (`by_method`), released by one of [`SUBSCRIPTION_RELEASES`].
struct Unregister<'t> {
    src: &'t str,
    var: &'t str,
    acquire: Node<'t>,
    /// The registration's other results (`err`).
    others: Vec<&'t str>,
    by_method: bool,
}

impl<'t> super::paths::Resource<'t> for Unregister<'t> {
    fn effect(&self, stmt: Node<'t>) -> super::paths::Effect {
        use super::paths::Effect;
        if stmt.id() == self.acquire.id() {
            return Effect::Acquire;
        }
        let mut released = false;
        let mut other = false;
        for i in syntax::descendants_of_kind(stmt, "identifier")
            .filter(|i| syntax::text(*i, self.src) == self.var)
        {
            let Some(p) = i.parent() else {
                other = true;
                continue;
            };
            if !self.by_method {
                // `stop()`; anything else (returned, stored, passed on, captured) hands
                // it to someone who may call it.
                let callee = p.kind() == "call_expression"
                    && p.child_by_field_name("function").map(|f| f.id()) == Some(i.id());
                match callee {
                    true => released = true,
                    false => other = true,
                }
                continue;
            }
            // `sub.Close()` releases, `sub.C` reads; `sub` itself is handed on.
            let selects = p.kind() == "selector_expression"
                && p.child_by_field_name("operand").map(|o| o.id()) == Some(i.id());
            if !selects {
                other = true;
                continue;
            }
            let method = p
                .child_by_field_name("field")
                .map(|f| syntax::text(f, self.src));
            let called = p.parent().is_some_and(|c| c.kind() == "call_expression");
            if called && method.is_some_and(|m| SUBSCRIPTION_RELEASES.contains(&m)) {
                released = true;
            }
        }
        match (released, other) {
            (true, _) => Effect::Release,
            (false, true) => Effect::HandOff,
            (false, false) => Effect::None,
        }
    }

    fn not_acquired(&self, condition: Node<'t>) -> bool {
        // The registration's error, or a receive from the subscription reporting it
        // closed (`ev, ok := <-sub.C` then `if !ok`): released by someone else.
        syntax::descendants_of_kind(condition, "identifier").any(|i| {
            let t = syntax::text(i, self.src);
            self.others.contains(&t)
                || self.by_method
                    && super::flow::resolve_ident(i, self.src).is_some_and(|b| {
                        b.kind == super::flow::BindKind::Receive
                            && b.index == 1
                            && syntax::text(b.decl, self.src).contains(&format!("<-{}.", self.var))
                    })
        })
    }

    fn aborts(&self, stmt: Node<'t>) -> bool {
        super::ticker_not_stopped::locals::is_fatal_call(stmt, self.src)
    }
}

/// A package-level slice or map of callbacks, or such a field of a struct held by a
/// package-level variable.
struct Registry<'p> {
    target: Target,
    subject: String,
    what: &'static str,
    declaration: Location,
    /// For a field: the package-level variables holding the struct.
    holders: Vec<&'p str>,
}

/// A function or method that adds one of its parameters to a registry.
struct Registrar<'p> {
    file: usize,
    func: Node<'p>,
    registry: usize,
    /// The parameter positions it adds.
    params: Vec<usize>,
    /// The statements adding them, with their files (a forwarder's are its registrar's).
    writes: Vec<(usize, Node<'p>)>,
    /// It returns a function (to unregister with).
    returns_func: bool,
    /// The positions of its function-typed results.
    func_results: Vec<usize>,
    /// It passes its parameter on to another registrar (whose call was on a holder of
    /// the registry, if the registry is a field).
    forwarded: bool,
}

impl Rule for ClosureRegistryLeak {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let idx = pkg.index();
        if idx.files.is_empty() {
            return;
        }
        foreign_registrations(pkg, idx, out);
        registry_side(pkg, idx, out);
        for (fi, f) in idx.files.iter().enumerate() {
            out.extend(unregister_skipped(idx, fi, f));
        }
        out.extend(dropped_holders(pkg, idx, HolderKind::Unregister, META.id));
        for f in &idx.files {
            out.extend(subscription_skipped(pkg, f));
            out.extend(overwritten_in_loop(pkg, f));
        }
        let registries = registries(idx, false);
        if registries.is_empty() {
            return;
        }
        let shrinks = idx.shrinks();
        let removed: Vec<bool> = registries
            .iter()
            .map(|r| {
                shrinks.iter().any(|s| s.target.same(&r.target))
                    || !idx.resets(&r.target).is_empty()
            })
            .collect();
        let registrars = registrars(idx, &registries);
        for (fi, f) in idx.files.iter().enumerate() {
            for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
                if idx.runs_once(fi, call) {
                    continue;
                }
                for (rf, callee) in idx.callees(fi, call) {
                    let Some(reg) = registrars
                        .iter()
                        .find(|r| r.file == rf && r.func.id() == callee.id())
                    else {
                        continue;
                    };
                    let registry = &registries[reg.registry];
                    if !reg.forwarded && !called_on_holder(idx, fi, call, registry) {
                        continue;
                    }
                    let discarded =
                        reg.returns_func && result_discarded(idx, fi, call, &reg.func_results);
                    if removed[reg.registry] && !discarded {
                        continue;
                    }
                    let args = syntax::call_args(call);
                    for &p in &reg.params {
                        let Some(arg) = args.get(p) else { continue };
                        let Some((lit, captured)) = capturing_callback(idx, fi, *arg) else {
                            continue;
                        };
                        let name =
                            idx.text(rf, callee.child_by_field_name("name").unwrap_or(callee));
                        let mut evidence = vec![call
                            .child_by_field_name("function")
                            .map_or_else(|| idx.location(fi, call), |f| idx.location(fi, f))];
                        for (wf, w) in &reg.writes {
                            evidence.push(idx.location(*wf, *w));
                        }
                        capture_sites(idx, fi, lit, &captured, &mut evidence);
                        tidy(&mut evidence);
                        let names: Vec<String> = captured
                            .iter()
                            .map(|n| format!("\"{}\"", idx.text(fi, *n)))
                            .collect();
                        let tail = if discarded {
                            format!("and the unregister function {name} returns is discarded")
                        } else {
                            "and never removed".to_string()
                        };
                        let location = call
                            .child_by_field_name("function")
                            .map_or_else(|| idx.location(fi, call), |f| idx.location(fi, f));
                        out.push(Match {
                            rule: META.id,
                            location,
                            subject: registry.subject.clone(),
                            message: format!(
                                "callback capturing {} is added to {} \"{}\" by {name} in {} {tail}",
                                join_labels(&names),
                                registry.what,
                                registry.subject,
                                function_label(call, idx.src(fi)),
                            ),
                            declaration: Some(registry.declaration.clone()),
                            related: Vec::new(),
                            evidence,
                            fixes: Vec::new(),
                            version_note: None,
                            needs_growth: false,
                            fills: Vec::new(),
                        });
                    }
                }
            }
        }
        let registering: Vec<usize> = registrars
            .iter()
            .flat_map(|r| r.writes.iter().map(|(_, w)| w.id()))
            .collect();
        direct_appends(idx, &registries, &removed, &registering, out);
    }
}

/// The registry's own line: a registrar of this package adding callbacks to a registry
/// that nothing removes from, with no unregister function, which this or another
/// workspace package calls per request (not once at start-up) with a capturing callback.
/// The fix belongs here (an unregister function), so the write is a finding of its own,
/// with every such registration related; the registrations are reported at the callers
/// too, where the unregister call will go.
fn registry_side(cx: &Context<'_>, idx: &PackageIndex<'_>, out: &mut Vec<Match>) {
    let registries = registries(idx, true);
    if registries.is_empty() {
        return;
    }
    let shrinks = idx.shrinks();
    let all = registrars(idx, &registries);
    for r in all.iter().filter(|r| !r.forwarded) {
        let registry = &registries[r.registry];
        let removed = shrinks.iter().any(|s| s.target.same(&registry.target))
            || !idx.resets(&registry.target).is_empty();
        if removed || r.returns_func {
            continue;
        }
        let mut evidence = Vec::new();
        let mut related = Vec::new();
        let mut names = Vec::new();
        // The registrar and the wrappers passing callbacks on to it.
        let same = |w: &[(usize, Node<'_>)]| {
            w.iter()
                .any(|(f, n)| r.writes.iter().any(|(g, m)| f == g && n.id() == m.id()))
        };
        for r in all
            .iter()
            .filter(|a| a.registry == r.registry && !a.returns_func && same(&a.writes))
        {
            // Registrations in this package.
            for (fi, f) in idx.files.iter().enumerate() {
                for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
                    if !idx
                        .callees(fi, call)
                        .iter()
                        .any(|(rf, c)| *rf == r.file && c.id() == r.func.id())
                        || idx.runs_once(fi, call)
                    {
                        continue;
                    }
                    registration(
                        idx,
                        fi,
                        call,
                        &r.params,
                        &mut evidence,
                        &mut related,
                        &mut names,
                    );
                }
            }
            // Registrations from the packages that import this one. Without types, a method
            // call counts where the file names the receiver type qualified (`hub.Hub`), as
            // in `foreign_registrations`.
            let recv = (r.func.kind() == "method_declaration")
                .then(|| super::flow::receiver_type(r.func, idx.src(r.file)))
                .flatten();
            let import_path = cx.import_path.clone();
            super::flow::calls_from_other_packages(
                cx,
                r.func,
                idx.src(r.file),
                &mut |other, file, call| {
                    if let Some(t) = recv {
                        let qual = super::flow::import_name(
                            file.tree.root_node(),
                            &file.text,
                            &import_path,
                        );
                        if qual.is_none_or(|q| !file.text.contains(&format!("{q}.{t}"))) {
                            return true;
                        }
                    }
                    let oidx = PackageIndex::new(other);
                    let Some(fi) = oidx.files.iter().position(|f| f.path() == file.path()) else {
                        return true;
                    };
                    if !oidx.runs_once(fi, call) {
                        registration(
                            &oidx,
                            fi,
                            call,
                            &r.params,
                            &mut evidence,
                            &mut related,
                            &mut names,
                        );
                    }
                    true
                },
            );
        }
        if related.is_empty() {
            continue;
        }
        let src = idx.src(r.file);
        let registrar = syntax::function_name(r.func, src).unwrap_or("it");
        let registrar = match super::flow::receiver_type(r.func, src) {
            Some(t) if r.func.kind() == "method_declaration" => format!("(*{t}).{registrar}"),
            _ => registrar.to_string(),
        };
        for (wf, w) in &r.writes {
            let location = idx.location(*wf, *w);
            let mut evidence = evidence.clone();
            evidence.push(location.clone());
            tidy(&mut evidence);
            out.push(Match {
                rule: META.id,
                location,
                subject: registry.subject.clone(),
                message: format!(
                    "{} \"{}\" only grows: {registrar} adds every callback and offers no way to remove one, and callbacks capturing {} are registered per call ({} place{})",
                    registry.what,
                    registry.subject,
                    join_labels(&names),
                    related.len(),
                    if related.len() == 1 { "" } else { "s" },
                ),
                declaration: Some(registry.declaration.clone()),
                related: related.clone(),
                evidence,
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// One call of a registrar: for each capturing callback it passes at `params`, the
/// callback's capture sites (evidence), the call (related) and the captured names.
fn registration(
    idx: &PackageIndex<'_>,
    fi: usize,
    call: Node<'_>,
    params: &[usize],
    evidence: &mut Vec<Location>,
    related: &mut Vec<super::Related>,
    names: &mut Vec<String>,
) {
    let args = syntax::call_args(call);
    for &p in params {
        let Some(arg) = args.get(p) else { continue };
        let Some((lit, captured)) = capturing_callback(idx, fi, *arg) else {
            continue;
        };
        capture_sites(idx, fi, lit, &captured, evidence);
        let here: Vec<String> = captured
            .iter()
            .map(|n| format!("\"{}\"", idx.text(fi, *n)))
            .collect();
        related.push(super::Related {
            location: call
                .child_by_field_name("function")
                .map_or_else(|| idx.location(fi, call), |f| idx.location(fi, f)),
            message: format!(
                "{} registers a callback capturing {} here",
                function_label(call, idx.src(fi)),
                join_labels(&here)
            ),
        });
        names.extend(here);
    }
}

/// A function or method of another workspace package that adds one of its parameters
/// to a registry (a package-level one, or a field of its receiver's struct) that nothing
/// removes from, in its own package or, through wrappers passing the parameter on, in
/// a package it imports.
#[derive(Clone)]
struct ForeignRegistrar {
    /// The method's receiver type, or `None` for a function.
    recv: Option<String>,
    name: String,
    params: Vec<usize>,
    subject: String,
    what: &'static str,
    /// The package the registry belongs to, when it is not the registrar's
    /// (`hooks`: a wrapper passing the callback on to another package).
    owner: Option<String>,
    declaration: Location,
    /// The wrappers' calls passing the callback on (the first `passes`), then the
    /// statements adding it.
    writes: Vec<Location>,
    passes: usize,
    /// It returns an unregister function: a registration leaks only where the caller
    /// discards it.
    returns_func: bool,
    /// The positions of its function-typed results.
    func_results: Vec<usize>,
}

/// The registrars of other workspace packages, by import path.
type ForeignCache = HashMap<String, Vec<ForeignRegistrar>>;

/// The registrars of the package at `path` whose registries are not removed from:
/// its own, and its functions passing a parameter on to a registrar of a package it
/// imports. Import cycles cannot recurse forever: a package being computed reads as
/// having none.
fn foreign_registrars(
    cx: &Context<'_>,
    path: &str,
    cache: &mut ForeignCache,
) -> Vec<ForeignRegistrar> {
    if let Some(v) = cache.get(path) {
        return v.clone();
    }
    cache.insert(path.to_string(), Vec::new());
    let Some(pkg) = cx.other_package(path) else {
        return Vec::new();
    };
    let idx = PackageIndex::new(&pkg);
    let mut out = own_registrars(&idx);
    out.extend(forwarding_registrars(cx, &idx, cache));
    cache.insert(path.to_string(), out.clone());
    out
}

/// The functions and methods of a package that pass one of their parameters (or a
/// literal using it) on to a registrar of another workspace package.
fn forwarding_registrars(
    cx: &Context<'_>,
    idx: &PackageIndex<'_>,
    cache: &mut ForeignCache,
) -> Vec<ForeignRegistrar> {
    let mut out = Vec::new();
    for &(fi, func) in idx.funcs.values().chain(idx.methods.values()).flatten() {
        let Some(body) = func.child_by_field_name("body") else {
            continue;
        };
        let src = idx.src(fi);
        let Some(name) = syntax::function_name(func, src) else {
            continue;
        };
        let recv = receiver(func, src);
        if func.kind() == "method_declaration" && recv.is_none() {
            continue;
        }
        for call in syntax::descendants_of_kind(body, "call_expression") {
            let passes_param = syntax::call_args(call)
                .iter()
                .any(|a| !passed_params(idx, fi, func, *a).is_empty());
            if !passes_param {
                continue;
            }
            for (qual, reg) in foreign_callees(cx, idx, fi, call, cache) {
                let params = forwarded_params(idx, fi, func, call, &reg.params);
                if params.is_empty() {
                    continue;
                }
                // A wrapper that keeps the unregister function somewhere is not one.
                let discards =
                    reg.returns_func && result_discarded(idx, fi, call, &reg.func_results);
                let hands_back = reg.returns_func && !discards && returns_function(func);
                if reg.returns_func && !discards && !hands_back {
                    continue;
                }
                let mut writes = vec![idx.location(fi, call)];
                writes.extend(reg.writes.iter().cloned());
                out.push(ForeignRegistrar {
                    recv: recv.clone(),
                    name: name.to_string(),
                    params,
                    subject: reg.subject.clone(),
                    what: reg.what,
                    owner: Some(reg.owner.clone().unwrap_or(qual)),
                    declaration: reg.declaration.clone(),
                    writes,
                    passes: reg.passes + 1,
                    returns_func: hands_back,
                    func_results: function_result_positions(func),
                });
            }
        }
    }
    out
}

/// A method's receiver type name; `None` for a function.
fn receiver(func: Node<'_>, src: &str) -> Option<String> {
    (func.kind() == "method_declaration")
        .then(|| super::unbounded_global_map::maps::receiver_type(func, src))
        .flatten()
        .map(|(t, _)| t.to_string())
}

/// A package's own registrars (of its own registries): those whose registries are not
/// removed from, and those returning an unregister function (leaking where it is
/// discarded).
fn own_registrars(idx: &PackageIndex<'_>) -> Vec<ForeignRegistrar> {
    let registries = registries(idx, true);
    if registries.is_empty() {
        return Vec::new();
    }
    let shrinks = idx.shrinks();
    let mut out = Vec::new();
    for r in registrars(idx, &registries) {
        let registry = &registries[r.registry];
        let removed = shrinks.iter().any(|s| s.target.same(&registry.target))
            || !idx.resets(&registry.target).is_empty();
        if removed && !r.returns_func {
            continue;
        }
        let src = idx.src(r.file);
        let Some(name) = syntax::function_name(r.func, src) else {
            continue;
        };
        let recv = receiver(r.func, src);
        if r.func.kind() == "method_declaration" && recv.is_none() {
            continue;
        }
        out.push(ForeignRegistrar {
            recv,
            name: name.to_string(),
            params: r.params.clone(),
            subject: registry.subject.clone(),
            what: registry.what,
            owner: None,
            declaration: registry.declaration.clone(),
            writes: r.writes.iter().map(|(f, w)| idx.location(*f, *w)).collect(),
            passes: 0,
            returns_func: r.returns_func,
            func_results: r.func_results.clone(),
        });
    }
    out
}

/// The registrars of other workspace packages that `call` may call, with the name the
/// file imports their package by: `pkg.F(...)` calls a function of an imported package;
/// `x.M(...)` may call a method of a type of any imported package that the file names
/// qualified (`hub.Hub`), since without type information that is how it can hold one.
fn foreign_callees(
    cx: &Context<'_>,
    idx: &PackageIndex<'_>,
    fi: usize,
    call: Node<'_>,
    cache: &mut ForeignCache,
) -> Vec<(String, ForeignRegistrar)> {
    let mut out = Vec::new();
    let Some(func) = call.child_by_field_name("function").map(unparen) else {
        return out;
    };
    if func.kind() != "selector_expression" {
        return out;
    }
    let (Some(operand), Some(field)) = (
        func.child_by_field_name("operand").map(unparen),
        func.child_by_field_name("field"),
    ) else {
        return out;
    };
    let Some(imports) = idx.imports.get(fi) else {
        return out;
    };
    let name = idx.text(fi, field);
    let direct = operand.kind() == "identifier"
        && matches!(binding(operand, idx.src(fi)), Binding::Package)
        && imports.contains_key(idx.text(fi, operand));
    let candidates: Vec<(&str, &str)> = if direct {
        let q = idx.text(fi, operand);
        imports.get(q).map(|p| vec![(q, *p)]).unwrap_or_default()
    } else {
        let mut v: Vec<(&str, &str)> = imports.iter().map(|(q, p)| (*q, *p)).collect();
        v.sort_unstable();
        v
    };
    for (qual, path) in candidates {
        for reg in foreign_registrars(cx, path, cache) {
            if reg.name != name {
                continue;
            }
            match (&reg.recv, direct) {
                (None, true) => {}
                (Some(t), false) => {
                    let qualified = format!("{qual}.{t}");
                    if !idx.files.iter().any(|f| f.text.contains(&qualified)) {
                        continue;
                    }
                }
                _ => continue,
            }
            out.push((qual.to_string(), reg));
        }
    }
    out
}

/// `x.M(callback)` or `pkg.F(callback)` where `M` or `F` belongs to another workspace
/// package and adds that parameter to a registry that is never removed from, there or
/// through wrappers in the packages it imports.
fn foreign_registrations(cx: &Context<'_>, idx: &PackageIndex<'_>, out: &mut Vec<Match>) {
    let mut cache = ForeignCache::new();
    // This package's wrappers of those registrars (`watchIndex(fn)` calling
    // `index.OnCommit(func(ci) { fn(ci) })`): reported at their callers, with what the
    // callers' callbacks capture.
    let local = forwarding_registrars(cx, idx, &mut cache);
    for (fi, f) in idx.files.iter().enumerate() {
        let src = idx.src(fi);
        for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            let Some(func) = call.child_by_field_name("function").map(unparen) else {
                continue;
            };
            let wrappers: Vec<(String, ForeignRegistrar)> = idx
                .callees(fi, call)
                .into_iter()
                .flat_map(|(cf, callee)| {
                    let name = syntax::function_name(callee, idx.src(cf)).unwrap_or_default();
                    let recv = receiver(callee, idx.src(cf));
                    local
                        .iter()
                        .filter(move |r| r.name == name && r.recv == recv)
                        .map(|r| (String::new(), r.clone()))
                })
                .collect();
            if func.kind() != "selector_expression" && wrappers.is_empty() {
                continue;
            }
            let args = syntax::call_args(call);
            let callbacks: Vec<(usize, Node<'_>, Vec<Node<'_>>)> = args
                .iter()
                .enumerate()
                .filter_map(|(i, a)| capturing_callback(idx, fi, *a).map(|(l, c)| (i, l, c)))
                .collect();
            if callbacks.is_empty() || idx.runs_once(fi, call) {
                continue;
            }
            let mut callees = foreign_callees(cx, idx, fi, call, &mut cache);
            callees.extend(wrappers);
            for (qual, reg) in callees {
                let name = &reg.name;
                let discarded =
                    reg.returns_func && result_discarded(idx, fi, call, &reg.func_results);
                if reg.returns_func && !discarded {
                    continue;
                }
                for (p, lit, captured) in &callbacks {
                    if !reg.params.contains(p) {
                        continue;
                    }
                    if forwards_only_params(idx, fi, call, captured, &local) {
                        continue;
                    }
                    let location = idx.location(fi, func);
                    let mut evidence = vec![location.clone()];
                    evidence.extend(reg.writes.iter().cloned());
                    capture_sites(idx, fi, *lit, captured, &mut evidence);
                    tidy(&mut evidence);
                    let names: Vec<String> = captured
                        .iter()
                        .map(|n| format!("\"{}\"", idx.text(fi, *n)))
                        .collect();
                    let callee = match (&reg.recv, qual.is_empty()) {
                        (Some(t), false) => format!("({qual}.{t}).{name}"),
                        (None, false) => format!("{qual}.{name}"),
                        (Some(t), true) => format!("({t}).{name}"),
                        (None, true) => name.clone(),
                    };
                    let owner = reg.owner.as_deref().unwrap_or(&qual);
                    out.push(Match {
                        rule: META.id,
                        location,
                        subject: reg.subject.clone(),
                        message: format!(
                            "callback capturing {} is added to {} \"{}\" of package {owner} by {callee} in {} {}",
                            join_labels(&names),
                            reg.what,
                            reg.subject,
                            function_label(call, src),
                            if discarded {
                                format!("and the unregister function {callee} returns is discarded")
                            } else {
                                "and never removed".to_string()
                            },
                        ),
                        declaration: Some(reg.declaration.clone()),
                        related: reg
                            .writes
                            .iter()
                            .enumerate()
                            .map(|(i, w)| super::Related {
                                location: w.clone(),
                                message: if i < reg.passes {
                                    format!("{callee} passes the callback on here")
                                } else {
                                    format!("{callee} adds the callback here")
                                },
                            })
                            .collect(),
                        evidence,
                        fixes: Vec::new(),
                        version_note: None,
                        needs_growth: false,
                        fills: Vec::new(),
                    });
                }
            }
        }
    }
}

/// Whether a registration inside one of this package's wrappers only captures the
/// wrapper's own parameters that it hands on: its callers are reported instead.
fn forwards_only_params(
    idx: &PackageIndex<'_>,
    fi: usize,
    call: Node<'_>,
    captured: &[Node<'_>],
    local: &[ForeignRegistrar],
) -> bool {
    let src = idx.src(fi);
    let Some(func) = syntax::enclosing_declaration(call) else {
        return false;
    };
    let name = syntax::function_name(func, src).unwrap_or_default();
    let recv = receiver(func, src);
    let Some(reg) = local.iter().find(|r| r.name == name && r.recv == recv) else {
        return false;
    };
    captured.iter().all(|c| {
        matches!(binding(*c, src), Binding::Param { func: f, index } if f.id() == func.id() && reg.params.contains(&index))
    })
}

/// `hooks = append(hooks, func() { ... })` written where the callback is made (not in a
/// registration function, whose callers are reported instead).
fn direct_appends(
    idx: &PackageIndex<'_>,
    registries: &[Registry<'_>],
    removed: &[bool],
    registering: &[usize],
    out: &mut Vec<Match>,
) {
    for (fi, f) in idx.files.iter().enumerate() {
        for stmt in syntax::descendants_of_kind(f.tree.root_node(), "assignment_statement") {
            if registering.contains(&stmt.id()) || idx.runs_once(fi, stmt) {
                continue;
            }
            for (ri, value) in added_values(idx, fi, stmt, registries) {
                if removed[ri] {
                    continue;
                }
                let Some((lit, captured)) = capturing_callback(idx, fi, value) else {
                    continue;
                };
                let registry = &registries[ri];
                let mut evidence = vec![idx.location(fi, stmt)];
                capture_sites(idx, fi, lit, &captured, &mut evidence);
                tidy(&mut evidence);
                let names: Vec<String> = captured
                    .iter()
                    .map(|n| format!("\"{}\"", idx.text(fi, *n)))
                    .collect();
                out.push(Match {
                    rule: META.id,
                    location: idx.location(fi, stmt),
                    subject: registry.subject.clone(),
                    message: format!(
                        "callback capturing {} is added to {} \"{}\" in {} and never removed",
                        join_labels(&names),
                        registry.what,
                        registry.subject,
                        function_label(stmt, idx.src(fi)),
                    ),
                    declaration: Some(registry.declaration.clone()),
                    related: Vec::new(),
                    evidence,
                    fixes: Vec::new(),
                    version_note: None,
                    needs_growth: false,
                    fills: Vec::new(),
                });
            }
        }
    }
}

/// Package-level slices and maps of callbacks, and callback slice and map fields of
/// structs that package-level variables hold.
fn registries<'p>(idx: &PackageIndex<'p>, any_struct: bool) -> Vec<Registry<'p>> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = idx.vars.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let Some(g) = idx.vars.get(name) else {
            continue;
        };
        let ty = g.ty.or_else(|| g.value.and_then(|v| evident_type(v)));
        if ty.is_some_and(|t| holds_callbacks(idx, g.file, t)) {
            out.push(Registry {
                target: Target::Global(name.to_string()),
                subject: name.to_string(),
                what: "package-level registry",
                declaration: idx.location(g.file, g.spec),
                holders: Vec::new(),
            });
        }
    }
    let mut types: Vec<(&&str, &Node<'p>)> = idx.types.iter().collect();
    types.sort_by_key(|(_, s)| s.start_byte());
    for (ty, spec) in types {
        let Some(st) = spec
            .child_by_field_name("type")
            .filter(|t| t.kind() == "struct_type")
        else {
            continue;
        };
        let Some(fi) = idx.file_of(*spec) else {
            continue;
        };
        let holders = idx.holders_of(ty);
        if holders.is_empty() && !any_struct {
            continue;
        }
        for decl in syntax::descendants_of_kind(st, "field_declaration") {
            let Some(t) = decl.child_by_field_name("type") else {
                continue;
            };
            if !holds_callbacks(idx, fi, t) {
                continue;
            }
            for n in super::unbounded_global_map::maps::field_nodes(decl, "name") {
                let name = idx.text(fi, n);
                out.push(Registry {
                    target: Target::Field {
                        ty: Some(ty.to_string()),
                        name: name.to_string(),
                    },
                    subject: format!("{ty}.{name}"),
                    what: "registry field",
                    declaration: idx.location(fi, decl),
                    holders: holders.clone(),
                });
            }
        }
    }
    out
}

/// The type an initializer evidently has (`make(T)`, `T{}`).
fn evident_type(value: Node<'_>) -> Option<Node<'_>> {
    let v = unparen(value);
    match v.kind() {
        "composite_literal" => v.child_by_field_name("type"),
        "call_expression" => syntax::call_args(v).first().copied(),
        _ => None,
    }
}

/// Whether a type is a slice or map whose elements are (or contain) functions.
fn holds_callbacks(idx: &PackageIndex<'_>, fi: usize, ty: Node<'_>) -> bool {
    let elem = match ty.kind() {
        "slice_type" => ty.child_by_field_name("element"),
        "map_type" => ty.child_by_field_name("value"),
        _ => None,
    };
    let Some(elem) = elem else { return false };
    is_callback_type(idx, fi, elem, 0)
}

/// Whether a type is a function type, a package type defined as one, or a struct with a
/// function field.
fn is_callback_type(idx: &PackageIndex<'_>, fi: usize, ty: Node<'_>, depth: u32) -> bool {
    match ty.kind() {
        "function_type" => true,
        "pointer_type" | "parenthesized_type" => {
            depth < 3
                && ty
                    .named_child(0)
                    .is_some_and(|t| is_callback_type(idx, fi, t, depth + 1))
        }
        "slice_type" | "array_type" => {
            depth < 3
                && ty
                    .child_by_field_name("element")
                    .is_some_and(|t| is_callback_type(idx, fi, t, depth + 1))
        }
        "map_type" => {
            depth < 3
                && ty
                    .child_by_field_name("value")
                    .is_some_and(|t| is_callback_type(idx, fi, t, depth + 1))
        }
        "struct_type" => syntax::descendants_of_kind(ty, "field_declaration").any(|d| {
            d.child_by_field_name("type").is_some_and(|t| {
                t.kind() == "function_type"
                    || (t.kind() == "type_identifier" && is_callback_type(idx, fi, t, depth + 1))
            })
        }),
        "type_identifier" if depth < 3 => {
            let Some(spec) = idx.types.get(idx.text(fi, ty)) else {
                return false;
            };
            let file = idx.file_of(*spec).unwrap_or(fi);
            spec.child_by_field_name("type")
                .is_some_and(|t| is_callback_type(idx, file, t, depth + 1))
        }
        _ => false,
    }
}

/// The values an assignment adds to a registry: `r = append(r, v...)` or `r[k] = v`.
fn added_values<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    stmt: Node<'p>,
    registries: &[Registry<'p>],
) -> Vec<(usize, Node<'p>)> {
    let mut out = Vec::new();
    let lhs = stmt
        .child_by_field_name("left")
        .map(list_items)
        .unwrap_or_default();
    let rhs = stmt
        .child_by_field_name("right")
        .map(list_items)
        .unwrap_or_default();
    if lhs.len() != rhs.len() {
        return out;
    }
    for (l, r) in lhs.into_iter().zip(rhs) {
        let l = unparen(l);
        let r = unparen(r);
        let (container, values) = if l.kind() == "index_expression" {
            (l.child_by_field_name("operand"), vec![r])
        } else if idx.is_builtin_call(fi, r, "append") {
            let args = syntax::call_args(r);
            let same = args.first().and_then(|a| idx.resolve(fi, *a)) == idx.resolve(fi, l);
            if !same {
                continue;
            }
            (Some(l), args.into_iter().skip(1).collect())
        } else {
            continue;
        };
        let Some(target) = container.and_then(|c| idx.resolve(fi, c)) else {
            continue;
        };
        let Some(ri) = registries.iter().position(|g| g.target.same(&target)) else {
            continue;
        };
        out.extend(values.into_iter().map(|v| (ri, v)));
    }
    out
}

/// The functions and methods that add one of their parameters to a registry.
fn registrars<'p>(idx: &PackageIndex<'p>, registries: &[Registry<'p>]) -> Vec<Registrar<'p>> {
    let mut out: Vec<Registrar<'p>> = Vec::new();
    let all = idx.funcs.values().chain(idx.methods.values()).flatten();
    for &(fi, func) in all {
        let Some(body) = func.child_by_field_name("body") else {
            continue;
        };
        for stmt in syntax::descendants_of_kind(body, "assignment_statement") {
            for (ri, value) in added_values(idx, fi, stmt, registries) {
                // The parameter itself, or inside a composite value; one captured by a
                // function literal makes the literal the callback (a direct append).
                let params: Vec<usize> = syntax::descendants_of_kind(value, "identifier")
                    .filter(|id| {
                        !syntax::ancestors(*id)
                            .take_while(|a| a.id() != value.id())
                            .any(|a| a.kind() == "func_literal")
                            && value.kind() != "func_literal"
                    })
                    .filter_map(|id| match binding(id, idx.src(fi)) {
                        Binding::Param { func: f, index } if f.id() == func.id() => Some(index),
                        _ => None,
                    })
                    .collect();
                if params.is_empty() {
                    continue;
                }
                let returns_func = returns_function(func);
                match out
                    .iter_mut()
                    .find(|r| r.func.id() == func.id() && r.registry == ri)
                {
                    Some(r) => {
                        r.params.extend(params);
                        r.writes.push((fi, stmt));
                    }
                    None => out.push(Registrar {
                        file: fi,
                        func,
                        registry: ri,
                        params,
                        writes: vec![(fi, stmt)],
                        returns_func,
                        func_results: function_result_positions(func),
                        forwarded: false,
                    }),
                }
            }
        }
    }
    forwarders(idx, registries, &mut out);
    for r in &mut out {
        r.params.sort_unstable();
        r.params.dedup();
    }
    out
}

/// Functions that pass one of their parameters straight on to a registrar of this
/// package (`func OnClose(fn func()) { register("close", fn) }`) are registrars too,
/// a few wrappers deep. For a registry field the call passing it on must be made on a
/// package-level holder of the struct.
fn forwarders<'p>(
    idx: &PackageIndex<'p>,
    registries: &[Registry<'p>],
    out: &mut Vec<Registrar<'p>>,
) {
    let all: Vec<(usize, Node<'p>)> = idx
        .funcs
        .values()
        .chain(idx.methods.values())
        .flatten()
        .copied()
        .collect();
    for _ in 0..3 {
        let mut found = Vec::new();
        for &(fi, func) in &all {
            let Some(body) = func.child_by_field_name("body") else {
                continue;
            };
            for call in syntax::descendants_of_kind(body, "call_expression") {
                for (rf, callee) in idx.callees(fi, call) {
                    if callee.id() == func.id() {
                        continue;
                    }
                    for r in out
                        .iter()
                        .filter(|r| r.file == rf && r.func.id() == callee.id())
                    {
                        if !r.forwarded && !called_on_holder(idx, fi, call, &registries[r.registry])
                        {
                            continue;
                        }
                        let params = forwarded_params(idx, fi, func, call, &r.params);
                        if params.is_empty() {
                            continue;
                        }
                        let returns_func = r.returns_func
                            && !result_discarded(idx, fi, call, &r.func_results)
                            && returns_function(func);
                        found.push(Registrar {
                            file: fi,
                            func,
                            registry: r.registry,
                            params,
                            writes: r.writes.clone(),
                            returns_func,
                            func_results: function_result_positions(func),
                            forwarded: true,
                        });
                    }
                }
            }
        }
        let before = out.len();
        for f in found {
            if !out
                .iter()
                .any(|r| r.func.id() == f.func.id() && r.registry == f.registry)
            {
                out.push(f);
            }
        }
        if out.len() == before {
            break;
        }
    }
}

/// The positions of `func`'s parameters that `call` passes, unchanged, at `params`.
fn forwarded_params(
    idx: &PackageIndex<'_>,
    fi: usize,
    func: Node<'_>,
    call: Node<'_>,
    params: &[usize],
) -> Vec<usize> {
    let args = syntax::call_args(call);
    let mut out: Vec<usize> = params
        .iter()
        .filter_map(|p| args.get(*p))
        .flat_map(|a| passed_params(idx, fi, func, *a))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The positions of `func`'s parameters that the argument `arg` hands on: the parameter
/// itself, or a function literal that uses it (`func(ci Info) { defer recover(); fn(ci) }`
/// keeps `fn` as long as it is kept).
fn passed_params(idx: &PackageIndex<'_>, fi: usize, func: Node<'_>, arg: Node<'_>) -> Vec<usize> {
    let src = idx.src(fi);
    let arg = unparen(arg);
    let ids = match arg.kind() {
        "identifier" => vec![arg],
        "func_literal" => arg
            .child_by_field_name("body")
            .map(|b| syntax::descendants_of_kind(b, "identifier").collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    ids.into_iter()
        .filter_map(|a| match binding(a, src) {
            Binding::Param { func: f, index } if f.id() == func.id() => Some(index),
            _ => None,
        })
        .collect()
}

/// The positions of a function's function-typed results (`(last uint64, cancel func())`
/// gives 1).
fn function_result_positions(func: Node<'_>) -> Vec<usize> {
    let Some(r) = func.child_by_field_name("result") else {
        return Vec::new();
    };
    if r.kind() == "function_type" {
        return vec![0];
    }
    if r.kind() != "parameter_list" {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for d in syntax::descendants_of_kind(r, "parameter_declaration") {
        let names = super::flow::field_nodes(d, "name").len().max(1);
        if d.child_by_field_name("type")
            .is_some_and(|t| t.kind() == "function_type")
        {
            out.extend(pos..pos + names);
        }
        pos += names;
    }
    out
}

/// Whether a function's results include a function (an unregister function).
fn returns_function(func: Node<'_>) -> bool {
    func.child_by_field_name("result").is_some_and(|r| {
        r.kind() == "function_type"
            || (r.kind() == "parameter_list"
                && syntax::descendants_of_kind(r, "parameter_declaration")
                    .filter_map(|d| d.child_by_field_name("type"))
                    .any(|t| t.kind() == "function_type"))
    })
}

/// For a registry field, whether the call is `holder.Method(...)` on a package-level
/// variable holding the struct; a package-level registry accepts any call.
fn called_on_holder(
    idx: &PackageIndex<'_>,
    fi: usize,
    call: Node<'_>,
    registry: &Registry<'_>,
) -> bool {
    if registry.holders.is_empty() {
        return true;
    }
    let Some(f) = call.child_by_field_name("function").map(unparen) else {
        return false;
    };
    f.kind() == "selector_expression"
        && f.child_by_field_name("operand")
            .and_then(|o| idx.resolve(fi, o))
            .is_some_and(
                |t| matches!(t, Target::Global(ref n) if registry.holders.contains(&n.as_str())),
            )
}

/// Whether the call's result is thrown away (a statement of its own, or assigned to `_`).
fn result_discarded(
    idx: &PackageIndex<'_>,
    fi: usize,
    call: Node<'_>,
    func_results: &[usize],
) -> bool {
    let Some(p) = call.parent() else { return false };
    match p.kind() {
        "expression_statement" => true,
        "expression_list" => p.parent().is_some_and(|s| {
            matches!(s.kind(), "assignment_statement" | "short_var_declaration")
                && s.child_by_field_name("left")
                    .map(list_items)
                    .is_some_and(|l| match l.len() {
                        1 => idx.text(fi, l[0]) == "_",
                        // `last, _ := Subscribe(fn)`: every function result is `_`.
                        _ => {
                            !func_results.is_empty()
                                && func_results
                                    .iter()
                                    .all(|&i| l.get(i).is_some_and(|n| idx.text(fi, *n) == "_"))
                        }
                    })
        }),
        _ => false,
    }
}

/// A callback argument that captures variables of the function around it: a function
/// literal (or a local holding one) and the identifiers it captures, or a method value
/// `x.M` bound to a local `x`.
fn capturing_callback<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    arg: Node<'p>,
) -> Option<(Node<'p>, Vec<Node<'p>>)> {
    let arg = unparen(arg);
    match arg.kind() {
        "func_literal" => {
            let captured = captures(idx, fi, arg);
            (!captured.is_empty()).then_some((arg, captured))
        }
        "identifier" => match binding(arg, idx.src(fi)) {
            Binding::Local { decl } => {
                let v = super::unbounded_global_map::maps::declared_value(
                    decl,
                    idx.text(fi, arg),
                    idx.src(fi),
                )?;
                let v = unparen(v);
                (v.kind() == "func_literal").then_some(())?;
                let captured = captures(idx, fi, v);
                (!captured.is_empty()).then_some((v, captured))
            }
            _ => None,
        },
        "selector_expression" => {
            let operand = unparen(arg.child_by_field_name("operand")?);
            let method = idx.text(fi, arg.child_by_field_name("field")?);
            let local = operand.kind() == "identifier"
                && matches!(
                    binding(operand, idx.src(fi)),
                    Binding::Local { .. } | Binding::Param { .. } | Binding::Receiver { .. }
                );
            (local && idx.methods.contains_key(method)).then(|| (arg, vec![operand]))
        }
        _ => None,
    }
}

/// The first reference of each variable a function literal captures from the functions
/// around it (parameters, receivers and locals declared outside the literal).
fn captures<'p>(idx: &PackageIndex<'p>, fi: usize, lit: Node<'p>) -> Vec<Node<'p>> {
    let src = idx.src(fi);
    let inside = |n: Node<'_>| lit.start_byte() <= n.start_byte() && n.end_byte() <= lit.end_byte();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let Some(body) = lit.child_by_field_name("body") else {
        return out;
    };
    for id in syntax::descendants_of_kind(body, "identifier") {
        if !super::unbounded_global_map::maps::is_reference(id) {
            continue;
        }
        let outer = match binding(id, src) {
            Binding::Local { decl } => !inside(decl),
            Binding::Param { func, .. } | Binding::Receiver { func } | Binding::Result { func } => {
                !inside(func)
            }
            Binding::Package => false,
        };
        if outer && seen.insert(idx.text(fi, id)) {
            out.push(id);
        }
    }
    out
}

/// The allocation sites of the captured locals (their declarations' values) and the
/// callback's own first line.
fn capture_sites(
    idx: &PackageIndex<'_>,
    fi: usize,
    lit: Node<'_>,
    captured: &[Node<'_>],
    out: &mut Vec<Location>,
) {
    let head = lit.child_by_field_name("parameters").unwrap_or(lit);
    out.push(idx.location(fi, head));
    for id in captured {
        match binding(*id, idx.src(fi)) {
            // Every value assigned to the local and its fields in the function; for a
            // parameter, also what the callers pass; for a local copied from a field of
            // the receiver (`roster := s.roster`), what the package stores in that field.
            Binding::Local { decl } => {
                idx.alloc_sites(fi, *id, out);
                let name = idx.text(fi, *id);
                if let Some(v) =
                    super::unbounded_global_map::maps::declared_value(decl, name, idx.src(fi))
                {
                    receiver_field_values(idx, fi, v, out);
                }
            }
            Binding::Param { .. } => idx.alloc_sites(fi, *id, out),
            // A captured receiver keeps the object alive: where the package makes its type.
            Binding::Receiver { func } => {
                let Some(ty) = super::flow::receiver_type(func, idx.src(fi)) else {
                    continue;
                };
                let types: HashSet<String> = std::iter::once(ty.to_string()).collect();
                for f in &idx.files {
                    super::flow::type_allocations(f, f.tree.root_node(), &types, out);
                }
            }
            Binding::Result { .. } | Binding::Package => {}
        }
    }
}

/// For `recv.field` with `recv` the receiver of a method of `T`: the allocation sites
/// of the values the package stores in that field, in `T{field: v}` literals and in
/// `x.field = v` assignments in methods of `T`.
fn receiver_field_values(
    idx: &PackageIndex<'_>,
    fi: usize,
    value: Node<'_>,
    out: &mut Vec<Location>,
) {
    let value = unparen(value);
    if value.kind() != "selector_expression" {
        return;
    }
    let (Some(operand), Some(field)) = (
        value.child_by_field_name("operand"),
        value.child_by_field_name("field"),
    ) else {
        return;
    };
    let Some(ty) = idx.receiver_type_of(fi, operand) else {
        return;
    };
    let field = idx.text(fi, field);
    for (gi, f) in idx.files.iter().enumerate() {
        let root = f.tree.root_node();
        for lit in syntax::descendants_of_kind(root, "composite_literal") {
            let named = lit
                .child_by_field_name("type")
                .and_then(|t| super::flow::base_type_name(t, idx.src(gi)));
            if named != Some(ty.as_str()) {
                continue;
            }
            let Some(body) = lit.child_by_field_name("body") else {
                continue;
            };
            for el in syntax::descendants_of_kind(body, "keyed_element") {
                if el.parent().map(|p| p.id()) != Some(body.id()) {
                    continue;
                }
                let (Some(k), Some(v)) = (el.named_child(0), el.named_child(1)) else {
                    continue;
                };
                if idx.text(gi, k).trim() == field {
                    let v = if v.kind() == "literal_element" {
                        v.named_child(0).unwrap_or(v)
                    } else {
                        v
                    };
                    idx.alloc_sites(gi, v, out);
                }
            }
        }
        for stmt in syntax::descendants_of_kind(root, "assignment_statement") {
            let lhs = stmt
                .child_by_field_name("left")
                .map(list_items)
                .unwrap_or_default();
            let rhs = stmt
                .child_by_field_name("right")
                .map(list_items)
                .unwrap_or_default();
            if lhs.len() != rhs.len() {
                continue;
            }
            for (l, r) in lhs.into_iter().zip(rhs) {
                let l = unparen(l);
                let stores = l.kind() == "selector_expression"
                    && l.child_by_field_name("field")
                        .is_some_and(|f| idx.text(gi, f) == field)
                    && l.child_by_field_name("operand")
                        .and_then(|o| idx.receiver_type_of(gi, o))
                        .is_some_and(|t| t == ty);
                if stores {
                    idx.alloc_sites(gi, r, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::ClosureRegistryLeak;
    use crate::rules::testing::check;

    #[test]
    fn callbacks_capturing_request_state_are_never_removed() {
        check(
            &ClosureRegistryLeak,
            r#"
-- events/events.go --
package events

import "sync"

type Event struct{ Name string }

var (
	mu        sync.Mutex
	listeners []func(Event)
)

func OnEvent(fn func(Event)) {
	mu.Lock()
	listeners = append(listeners, fn)
	mu.Unlock()
}

type Conn struct {
	id  string
	buf []byte
}

func (c *Conn) notify(e Event) { c.buf = append(c.buf[:0], e.Name...) }

func handleConn(id string) {
	conn := &Conn{id: id, buf: make([]byte, 8192)}
	OnEvent(func(e Event) {
		conn.notify(e)
	})
}

func watch(id string) {
	c := newConn(id)
	OnEvent(c.notify)
}

func newConn(id string) *Conn {
	return &Conn{id: id, buf: make([]byte, 1024)}
}

var hooks []func()

func track(req []byte) {
	hooks = append(hooks, func() { _ = len(req) })
}
"#,
            expect![[r#"
                events/events.go:14 closure-registry-leak [listeners] package-level registry "listeners" only grows: OnEvent adds every callback and offers no way to remove one, and callbacks capturing "conn" and "c" are registered per call (2 places)
                  declared events/events.go:9
                  related events/events.go:27 handleConn registers a callback capturing "conn" here
                  related events/events.go:34 watch registers a callback capturing "c" here
                  evidence events/events.go:14 events/events.go:26 events/events.go:27 events/events.go:33 events/events.go:34 events/events.go:37-39
                events/events.go:27 closure-registry-leak [listeners] callback capturing "conn" is added to package-level registry "listeners" by OnEvent in handleConn and never removed
                  declared events/events.go:9
                  evidence events/events.go:14 events/events.go:26 events/events.go:27
                events/events.go:34 closure-registry-leak [listeners] callback capturing "c" is added to package-level registry "listeners" by OnEvent in watch and never removed
                  declared events/events.go:9
                  evidence events/events.go:14 events/events.go:33 events/events.go:34 events/events.go:37-39
                events/events.go:44 closure-registry-leak [hooks] callback capturing "req" is added to package-level registry "hooks" in track and never removed
                  declared events/events.go:41
                  evidence events/events.go:44
            "#]],
        );
    }

    #[test]
    fn registries_held_by_package_level_structs() {
        check(
            &ClosureRegistryLeak,
            r#"
-- bus/bus.go --
package bus

type Handler func(payload []byte)

type Bus struct {
	subs map[string][]Handler
}

func NewBus() *Bus { return &Bus{subs: map[string][]Handler{}} }

var defaultBus = NewBus()

func (b *Bus) Subscribe(topic string, h Handler) {
	b.subs[topic] = append(b.subs[topic], h)
}

func Serve(topic string) {
	state := make(map[string]int)
	defaultBus.Subscribe(topic, func(p []byte) { state[string(p)]++ })
	local := NewBus()
	local.Subscribe(topic, func(p []byte) { state["x"]++ })
}
"#,
            expect![[r#"
                bus/bus.go:14 closure-registry-leak [Bus.subs] registry field "Bus.subs" only grows: (*Bus).Subscribe adds every callback and offers no way to remove one, and callbacks capturing "state" are registered per call (2 places)
                  declared bus/bus.go:6
                  related bus/bus.go:19 Serve registers a callback capturing "state" here
                  related bus/bus.go:21 Serve registers a callback capturing "state" here
                  evidence bus/bus.go:14 bus/bus.go:18 bus/bus.go:19 bus/bus.go:21
                bus/bus.go:19 closure-registry-leak [Bus.subs] callback capturing "state" is added to registry field "Bus.subs" by Subscribe in Serve and never removed
                  declared bus/bus.go:6
                  evidence bus/bus.go:14 bus/bus.go:18 bus/bus.go:19
            "#]],
        );
    }

    #[test]
    fn a_discarded_unregister_function_still_leaks() {
        check(
            &ClosureRegistryLeak,
            r#"
-- subs.go --
package subs

import "sync"

var (
	mu   sync.Mutex
	next int
	subs = map[int]func(string){}
)

func Subscribe(fn func(string)) (cancel func()) {
	mu.Lock()
	defer mu.Unlock()
	next++
	id := next
	subs[id] = fn
	return func() {
		mu.Lock()
		delete(subs, id)
		mu.Unlock()
	}
}

func Leaky(name string) {
	buf := make([]byte, 4096)
	Subscribe(func(s string) { copy(buf, s) })
}

func Careful(name string) {
	buf := make([]byte, 4096)
	cancel := Subscribe(func(s string) { copy(buf, s) })
	defer cancel()
}
"#,
            expect![[r#"
                subs.go:26 closure-registry-leak [subs] callback capturing "buf" is added to package-level registry "subs" by Subscribe in Leaky and the unregister function Subscribe returns is discarded
                  declared subs.go:8
                  evidence subs.go:16 subs.go:25 subs.go:26
            "#]],
        );
    }

    #[test]
    fn start_up_registration_removal_and_capture_free_callbacks() {
        check(
            &ClosureRegistryLeak,
            r#"
-- main.go --
package main

import (
	"log"
	"slices"
)

var (
	onExit   []func()
	handlers []func(int)
	pruned   []func(int)
)

func AtExit(fn func()) { onExit = append(onExit, fn) }

func Handle(fn func(int)) { handlers = append(handlers, fn) }

func Prune(fn func(int)) { pruned = append(pruned, fn) }

func init() {
	logger := log.Default()
	AtExit(func() { logger.Print("bye") })
}

func main() {
	name := "main"
	AtExit(func() { log.Print(name) })
	Serve()
}

func Serve() {
	for i := 0; i < 3; i++ {
		Handle(func(n int) { log.Print(n) })
		buf := make([]byte, 64)
		Prune(func(n int) { _ = buf[n] })
	}
}

func reset() {
	pruned = slices.DeleteFunc(pruned, func(f func(int)) bool { return f == nil })
}
-- main_test.go --
package main

import "testing"

func TestAtExit(t *testing.T) {
	AtExit(func() { t.Log("done") })
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn callbacks_added_to_a_registry_field_of_another_package() {
        check(
            &ClosureRegistryLeak,
            r#"
-- hub/hub.go --
package hub

type Hub struct {
	listeners []func(string)
	named     map[string]func(string)
}

func (h *Hub) OnBroadcast(fn func(string)) {
	h.listeners = append(h.listeners, fn)
}

func (h *Hub) OnNamed(name string, fn func(string)) {
	h.named[name] = fn
}

func (h *Hub) Forget(name string) {
	delete(h.named, name)
}

var global []func()

func Register(fn func()) {
	global = append(global, fn)
}
-- relay/session.go --
package relay

import "example.com/app/hub"

type Session struct {
	hub *hub.Hub
	buf []byte
}

func (s *Session) Start() {
	s.hub.OnBroadcast(func(m string) {
		s.buf = append(s.buf, m...)
	})
	s.hub.OnNamed("x", func(m string) { s.buf = nil })
	hub.Register(func() { s.buf = nil })
}

func NewSession(h *hub.Hub) *Session {
	return &Session{
		hub: h,
		buf: make([]byte, 0, 4096),
	}
}
"#,
            expect![[r#"
                hub/hub.go:9 closure-registry-leak [Hub.listeners] registry field "Hub.listeners" only grows: (*Hub).OnBroadcast adds every callback and offers no way to remove one, and callbacks capturing "s" are registered per call (1 place)
                  declared hub/hub.go:4
                  related relay/session.go:11 (*Session).Start registers a callback capturing "s" here
                  evidence hub/hub.go:9 relay/session.go:11 relay/session.go:19-22
                hub/hub.go:23 closure-registry-leak [global] package-level registry "global" only grows: Register adds every callback and offers no way to remove one, and callbacks capturing "s" are registered per call (1 place)
                  declared hub/hub.go:20
                  related relay/session.go:15 (*Session).Start registers a callback capturing "s" here
                  evidence hub/hub.go:23 relay/session.go:15 relay/session.go:19-22
                relay/session.go:11 closure-registry-leak [Hub.listeners] callback capturing "s" is added to registry field "Hub.listeners" of package hub by (hub.Hub).OnBroadcast in (*Session).Start and never removed
                  declared hub/hub.go:4
                  related hub/hub.go:9 (hub.Hub).OnBroadcast adds the callback here
                  evidence hub/hub.go:9 relay/session.go:11 relay/session.go:19-22
                relay/session.go:15 closure-registry-leak [global] callback capturing "s" is added to package-level registry "global" of package hub by hub.Register in (*Session).Start and never removed
                  declared hub/hub.go:20
                  related hub/hub.go:23 hub.Register adds the callback here
                  evidence hub/hub.go:23 relay/session.go:15 relay/session.go:19-22
            "#]],
        );
    }

    #[test]
    fn an_unregister_function_of_another_package_discarded() {
        // Subscribe keeps subscription{id, fn} records (a struct with a field of a named
        // function type) and returns the way out: Open drops it, Watch keeps it. Follow
        // returns it second: Tail drops it (`last, _ :=`), TailKept keeps it.
        check(
            &ClosureRegistryLeak,
            r#"
-- events/bus.go --
package events

import "slices"

type Handler func(string)

type subscription struct {
	id int
	fn Handler
}

type Bus struct {
	next int
	subs []subscription
}

func (b *Bus) Subscribe(fn Handler) (unsubscribe func()) {
	b.next++
	id := b.next
	b.subs = append(b.subs, subscription{id: id, fn: fn})
	return func() {
		b.subs = slices.DeleteFunc(b.subs, func(s subscription) bool { return s.id == id })
	}
}

func (b *Bus) Follow(fn Handler) (last int, cancel func()) {
	return b.next, b.Subscribe(fn)
}
-- lobby/lobby.go --
package lobby

import "example.com/app/events"

type Lobby struct{ chat []byte }

func (l *Lobby) observe(string) {}

type Manager struct {
	bus   *events.Bus
	stops []func()
}

func (m *Manager) Open() {
	l := &Lobby{chat: make([]byte, 0, 12<<10)}
	m.bus.Subscribe(l.observe)
}

func (m *Manager) Watch() {
	l := &Lobby{}
	stop := m.bus.Subscribe(l.observe)
	defer stop()
}

func (m *Manager) Tail() int {
	l := &Lobby{}
	last, _ := m.bus.Follow(l.observe)
	return last
}

func (m *Manager) TailKept() int {
	l := &Lobby{}
	last, cancel := m.bus.Follow(l.observe)
	m.stops = append(m.stops, cancel)
	return last
}
"#,
            expect![[r#"
                lobby/lobby.go:16 closure-registry-leak [Bus.subs] callback capturing "l" is added to registry field "Bus.subs" of package events by (events.Bus).Subscribe in (*Manager).Open and the unregister function (events.Bus).Subscribe returns is discarded
                  declared events/bus.go:14
                  related events/bus.go:20 (events.Bus).Subscribe adds the callback here
                  evidence events/bus.go:20 lobby/lobby.go:15 lobby/lobby.go:16
                lobby/lobby.go:27 closure-registry-leak [Bus.subs] callback capturing "l" is added to registry field "Bus.subs" of package events by (events.Bus).Follow in (*Manager).Tail and the unregister function (events.Bus).Follow returns is discarded
                  declared events/bus.go:14
                  related events/bus.go:20 (events.Bus).Follow adds the callback here
                  evidence events/bus.go:20 lobby/lobby.go:26 lobby/lobby.go:27
            "#]],
        );
    }

    #[test]
    fn callbacks_passed_on_through_wrappers() {
        check(
            &ClosureRegistryLeak,
            r#"
-- hooks/hooks.go --
package hooks

type Registry[E any] struct {
	fns []func(E)
}

func (r *Registry[E]) Register(fn func(E)) {
	r.fns = append(r.fns, fn)
}
-- broker/broker.go --
package broker

import "example.com/app/hooks"

type Event struct{ Topic string }

var publishHooks hooks.Registry[Event]

func OnPublish(fn func(Event)) { publishHooks.Register(fn) }

var closers []func()

func register(fn func()) { closers = append(closers, fn) }

func OnClose(fn func()) { register(fn) }

func OnShutdown(fn func()) { OnClose(fn) }

func Serve(id string) {
	buf := make([]byte, 4096)
	OnShutdown(func() { _ = id; buf = nil })
}

func Once(fn func()) { _ = fn }
-- client/client.go --
package client

import "example.com/app/broker"

type Client struct {
	topic    string
	expected []int
}

func Connect(topic string) *Client {
	c := &Client{topic: topic}
	c.expected = make([]int, 0, 1024)
	broker.OnPublish(func(ev broker.Event) {
		if ev.Topic == c.topic {
			c.expected = append(c.expected, 1)
		}
	})
	broker.Once(func() { c.expected = nil })
	return c
}
-- session/session.go --
package session

import (
	"log"

	"example.com/app/broker"
)

type Session struct{ buf []byte }

// watch shields the publisher from panics in session code.
func watch(fn func(broker.Event)) {
	broker.OnPublish(func(ev broker.Event) {
		defer func() {
			if r := recover(); r != nil {
				log.Print(r)
			}
		}()
		fn(ev)
	})
}

func Open() *Session {
	s := &Session{buf: make([]byte, 32<<10)}
	watch(func(ev broker.Event) { s.buf = s.buf[:0] })
	return s
}
"#,
            expect![[r#"
                broker/broker.go:13 closure-registry-leak [closers] package-level registry "closers" only grows: register adds every callback and offers no way to remove one, and callbacks capturing "id" and "buf" are registered per call (1 place)
                  declared broker/broker.go:11
                  related broker/broker.go:21 Serve registers a callback capturing "id" and "buf" here
                  evidence broker/broker.go:13 broker/broker.go:20 broker/broker.go:21
                broker/broker.go:21 closure-registry-leak [closers] callback capturing "id" and "buf" is added to package-level registry "closers" by OnShutdown in Serve and never removed
                  declared broker/broker.go:11
                  evidence broker/broker.go:13 broker/broker.go:20 broker/broker.go:21
                client/client.go:13 closure-registry-leak [Registry.fns] callback capturing "c" is added to registry field "Registry.fns" of package hooks by broker.OnPublish in Connect and never removed
                  declared hooks/hooks.go:4
                  related broker/broker.go:9 broker.OnPublish passes the callback on here
                  related hooks/hooks.go:8 broker.OnPublish adds the callback here
                  evidence broker/broker.go:9 client/client.go:11 client/client.go:12 client/client.go:13 client/client.go:15 hooks/hooks.go:8
                session/session.go:25 closure-registry-leak [Registry.fns] callback capturing "s" is added to registry field "Registry.fns" of package hooks by watch in Open and never removed
                  declared hooks/hooks.go:4
                  related session/session.go:13 watch passes the callback on here
                  related broker/broker.go:9 watch passes the callback on here
                  related hooks/hooks.go:8 watch adds the callback here
                  evidence broker/broker.go:9 hooks/hooks.go:8 session/session.go:13-20 session/session.go:24 session/session.go:25
            "#]],
        );
    }

    #[test]
    fn a_captured_copy_of_a_receiver_field_is_followed_to_what_the_package_stores() {
        check(
            &ClosureRegistryLeak,
            r#"
-- session/session.go --
package session

var watchers = map[string][]func(int){}

func Watch(user string, fn func(int)) {
	watchers[user] = append(watchers[user], fn)
}

type Roster struct{ frame []byte }

func newRoster() *Roster {
	return &Roster{frame: make([]byte, 0, 48<<10)}
}

type Session struct {
	roster *Roster
}

func Login() *Session {
	return &Session{roster: newRoster()}
}

func (s *Session) follow(friends []string) {
	roster := s.roster
	for _, f := range friends {
		Watch(f, func(st int) { roster.frame = roster.frame[:st] })
	}
}
"#,
            expect![[r#"
                session/session.go:6 closure-registry-leak [watchers] package-level registry "watchers" only grows: Watch adds every callback and offers no way to remove one, and callbacks capturing "roster" are registered per call (1 place)
                  declared session/session.go:3
                  related session/session.go:26 (*Session).follow registers a callback capturing "roster" here
                  evidence session/session.go:6 session/session.go:11-13 session/session.go:20 session/session.go:26
                session/session.go:26 closure-registry-leak [watchers] callback capturing "roster" is added to package-level registry "watchers" by Watch in (*Session).follow and never removed
                  declared session/session.go:3
                  evidence session/session.go:6 session/session.go:11-13 session/session.go:20 session/session.go:26
            "#]],
        );
    }

    #[test]
    fn another_package_that_removes_or_a_method_of_an_unrelated_type() {
        check(
            &ClosureRegistryLeak,
            r#"
-- hub/hub.go --
package hub

type Hub struct {
	listeners []func(string)
}

func (h *Hub) OnBroadcast(fn func(string)) {
	h.listeners = append(h.listeners, fn)
}

func (h *Hub) Reset() {
	h.listeners = nil
}

type Other struct {
	fns []func()
}

func (o *Other) Add(fn func()) {
	o.fns = append(o.fns, fn)
}
-- relay/session.go --
package relay

import "example.com/app/hub"

type adder interface{ Add(func()) }

type Session struct {
	hub *hub.Hub
	a   adder
	buf []byte
}

func (s *Session) Start() {
	s.hub.OnBroadcast(func(m string) { s.buf = nil })
	s.a.Add(func() { s.buf = nil })
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn an_unregister_function_skipped_by_an_early_return() {
        // Query registers res.add and returns on a closed client before calling stop:
        // reported on that return. Follow defers stop, Handoff gives it to its caller,
        // and Watch returns on the registration's error: quiet.
        check(
            &ClosureRegistryLeak,
            r#"
-- q.go --
package q

import "context"

type result struct{ rows [][]byte }

func (r *result) add(b []byte) { r.rows = append(r.rows, append([]byte(nil), b...)) }

type Hub struct{ fns map[int]func([]byte) }

func (h *Hub) Watch(fn func([]byte)) (stop func()) {
	id := len(h.fns)
	h.fns[id] = fn
	return func() { delete(h.fns, id) }
}

func (h *Hub) WatchErr(fn func([]byte)) (func(), error) { return h.Watch(fn), nil }

func Query(ctx context.Context, h *Hub, done <-chan struct{}) *result {
	res := &result{}
	stop := h.Watch(res.add)
	select {
	case <-done:
	case <-ctx.Done():
		return nil
	}
	stop()
	return res
}

func Follow(ctx context.Context, h *Hub) {
	res := &result{}
	stop := h.Watch(res.add)
	defer stop()
	<-ctx.Done()
}

func Handoff(h *Hub) func() {
	res := &result{}
	stop := h.Watch(res.add)
	return stop
}

func Errs(h *Hub) error {
	res := &result{}
	stop, err := h.WatchErr(res.add)
	if err != nil {
		return err
	}
	stop()
	return nil
}
"#,
            expect![[r#"
                q.go:25 closure-registry-leak [stop] Query calls "stop", the unregister function h.Watch returned, on its other paths, but returns here without calling it, so the callback stays registered with everything it holds
                  related q.go:21 the callback is registered here
                  evidence q.go:7 q.go:21
            "#]],
        );
    }

    #[test]
    fn an_entry_holding_a_registration_deleted_without_its_release() {
        // Runner keeps trackers subscribed to the hub; Close releases each before its
        // delete, remember's eviction deletes without (reported). Pool's eviction closes
        // the entry first (quiet).
        check(
            &ClosureRegistryLeak,
            r#"
-- a.go --
package a

type Hub struct{ subs map[int]func(string) }

func (h *Hub) Subscribe(f func(string)) func() {
	id := len(h.subs)
	h.subs[id] = f
	return func() { delete(h.subs, id) }
}

type tracker struct {
	seen        map[string]bool
	unsubscribe func()
}

func (t *tracker) observe(s string) { t.seen[s] = true }

func (t *tracker) close() { t.unsubscribe() }

type Runner struct {
	hub     *Hub
	reports map[string]*tracker
	order   []string
}

func (r *Runner) Track(id string) {
	t := &tracker{seen: map[string]bool{}}
	t.unsubscribe = r.hub.Subscribe(t.observe)
	r.reports[id] = t
	r.order = append(r.order, id)
	if len(r.order) > 4 {
		oldest := r.order[0]
		r.order = r.order[1:]
		delete(r.reports, oldest)
	}
}

func (r *Runner) Close() {
	for id, t := range r.reports {
		t.close()
		delete(r.reports, id)
	}
}

type watcher struct {
	stop func()
}

type Pool struct {
	hub  *Hub
	live map[string]*watcher
}

func (p *Pool) Watch(id string) {
	w := &watcher{}
	w.stop = p.hub.Subscribe(func(s string) { println(s) })
	p.live[id] = w
}

func (p *Pool) Evict(id string) {
	if w, ok := p.live[id]; ok {
		w.stop()
		delete(p.live, id)
	}
}
"#,
            expect![[r#"
                a.go:34 closure-registry-leak [unsubscribe] (*Runner).Track deletes an entry of map field "reports" without releasing its registration: the tracker it removes keeps unregister function "unsubscribe" from r.hub.Subscribe, which (*Runner).Close calls when it removes one (line 40), so the callback stays registered with everything tracker holds
                  related a.go:28 the callback is registered here
                  related a.go:40 released here when another path removes an entry
                  evidence a.go:16 a.go:27 a.go:28
            "#]],
        );
    }

    #[test]
    fn a_subscription_released_on_some_paths_only() {
        // Once closes the subscription on its timeout but not after running fn (reported
        // on the return and on fn's call); a closed channel (`!ok`) was released by
        // someone else. Watch defers the Close (quiet).
        check(
            &ClosureRegistryLeak,
            r#"
-- bus/bus.go --
package bus

import (
	"sync"
	"time"
)

type Sub struct {
	C     chan string
	b     *Bus
	topic string
}

type Bus struct {
	mu     sync.Mutex
	topics map[string][]*Sub
}

func (b *Bus) Subscribe(topic string) *Sub {
	s := &Sub{C: make(chan string, 16), b: b, topic: topic}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics[topic] = append(b.topics[topic], s)
	return s
}

func (s *Sub) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	delete(s.b.topics, s.topic)
}

func (b *Bus) Once(topic string, d time.Duration, fn func(string)) {
	sub := b.Subscribe(topic)
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return
			}
			fn(ev)
			return
		case <-t.C:
			sub.Close()
			return
		}
	}()
}

func (b *Bus) Watch(topic string, fn func(string)) {
	sub := b.Subscribe(topic)
	defer sub.Close()
	for ev := range sub.C {
		if ev == "" {
			return
		}
		fn(ev)
	}
}
"#,
            expect![[r#"
                bus/bus.go:43 closure-registry-leak [sub] the subscription is still registered after this statement: a function literal in (*Bus).Once calls sub.Close() on its other paths, but returns here without it, so the subscription b.Subscribe made stays registered in bus with everything it holds
                  related bus/bus.go:34 subscribed here
                  related bus/bus.go:46 released here on another path
                  related bus/bus.go:44 returns here without the release
                  evidence bus/bus.go:19-25
                bus/bus.go:44 closure-registry-leak [sub] a function literal in (*Bus).Once calls sub.Close() on its other paths, but returns here without it, so the subscription b.Subscribe made stays registered in bus with everything it holds
                  related bus/bus.go:34 subscribed here
                  related bus/bus.go:46 released here on another path
                  evidence bus/bus.go:19-25
            "#]],
        );
    }

    /// One unregister function kept per bot while a callback is registered per room:
    /// each turn overwrites the last, so Unregister undoes one room's registration. A
    /// loop releasing the previous one first, and one registering once, are quiet.
    #[test]
    fn an_unregister_function_overwritten_in_a_loop() {
        check(
            &ClosureRegistryLeak,
            r#"
-- hub/hub.go --
package hub

import "sync"

type Hub struct {
	mu        sync.Mutex
	next      int
	listeners map[string]map[int]func(string)
}

func (h *Hub) Listen(room string, fn func(string)) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	if h.listeners[room] == nil {
		h.listeners[room] = map[int]func(string){}
	}
	h.listeners[room][id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.listeners[room], id)
	}
}
-- bots/bots.go --
package bots

import "example.com/app/hub"

type bot struct {
	queue    chan string
	unlisten func()
}

type Dispatcher struct{ hub *hub.Hub }

func (d *Dispatcher) listener(b *bot) func(string) {
	return func(ev string) { b.queue <- ev }
}

func (d *Dispatcher) Register(rooms []string) *bot {
	b := &bot{queue: make(chan string, 512)}
	for _, room := range rooms {
		b.unlisten = d.hub.Listen(room, d.listener(b))
	}
	return b
}

func (d *Dispatcher) RegisterChained(rooms []string) *bot {
	b := &bot{queue: make(chan string, 512)}
	for _, room := range rooms {
		if b.unlisten != nil {
			b.unlisten()
		}
		b.unlisten = d.hub.Listen(room, d.listener(b))
	}
	return b
}

func (d *Dispatcher) RegisterOnce(room string) *bot {
	b := &bot{queue: make(chan string, 512)}
	for i := 0; i < 1; i++ {
		b.unlisten = d.hub.Listen(room, d.listener(b))
	}
	return b
}

func (d *Dispatcher) Unregister(b *bot) { b.unlisten() }
"#,
            expect![[r#"
                bots/bots.go:19 closure-registry-leak [b.unlisten] (*Dispatcher).Register overwrites "b.unlisten" with the unregister function d.hub.Listen returns on every turn of the loop: only the last registration can be undone, so the callbacks registered on the other turns stay registered with everything they capture
                  related bots/bots.go:18 each turn of this loop registers another callback
                  related bots/bots.go:43 the release undoes only the registration stored last
                  evidence bots/bots.go:19 bots/bots.go:12-14 bots/bots.go:17
            "#]],
        );
    }
}
