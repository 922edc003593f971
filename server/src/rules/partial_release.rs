//! An entry added to a long-lived map and released on some paths of the function that
//! holds it, not on the others: `sub := room.Subscribe(...)` with `defer
//! room.Unsubscribe(sub)` after an early `return`, `c, leader := f.begin(key)` finished or
//! abandoned in every `case` but one, `l, ok := s.leases[id]` released on the success and
//! retry branches of a `switch` but not on the failure branch. [`paths`] walks the
//! function; this module says what acquires, releases and hands the entry on.

use std::collections::BTreeSet;

use tree_sitter::Node;

use super::paths::{self, Effect, Resource};
use super::ticker_not_stopped::locals::is_fatal_call;
use super::{flow, syntax, Package, SourceFile};

/// A function's path that keeps the entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kept<'t> {
    /// Where the fix goes: the acquisition when a later `defer` releases (the `defer`
    /// belongs right after it), else the last statement of the path.
    pub at: Node<'t>,
    /// The statement acquiring the entry.
    pub acquire: Node<'t>,
    /// A release on another path (or the deferred release).
    pub release: Node<'t>,
    /// The `return` the path leaves by, if any.
    pub ret: Option<Node<'t>>,
    /// The release is deferred after the path's `return`.
    pub deferred: bool,
}

/// What acquires and releases the entries of one map.
pub(crate) struct Names<'a> {
    /// Functions and methods that add an entry (`Subscribe`, `begin`).
    pub acquire: &'a BTreeSet<String>,
    /// Functions and methods that delete an entry (`Unsubscribe`, `finish`, `abandon`).
    pub release: &'a BTreeSet<String>,
    /// Whether an index expression reads the map itself (`s.leases[id]`): the entry
    /// looked up is then held as if acquired. Only in the map's own package.
    pub reads_map: &'a dyn Fn(Node<'_>) -> bool,
    /// Whether a call deletes from the map itself (`delete(c.inflight, key)`). Only in
    /// the map's own package.
    pub deletes: &'a dyn Fn(Node<'_>) -> bool,
}

/// Whether every path of the function after `write` (a statement adding an entry to the
/// map) deletes it again (`c.inflight[key] = cl` ... `delete(c.inflight, key)`, or a
/// deferred delete): the entry lives only while the call runs.
pub(crate) fn transient(
    pkg: &Package,
    src: &str,
    body: Node<'_>,
    write: Node<'_>,
    names: &Names<'_>,
) -> bool {
    let res = Entry {
        pkg,
        src,
        names,
        acquire: write,
        var: "",
        others: Vec::new(),
    };
    paths::exits(body, &res, false)
        .is_some_and(|exits| !exits.is_empty() && exits.iter().all(|e| e.released))
}

/// The calls under `node`, not inside function literals.
fn own_calls(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    syntax::descendants_of_kind(node, "call_expression").filter(move |c| {
        syntax::ancestors(*c)
            .take_while(|a| a.id() != node.id())
            .all(|a| a.kind() != "func_literal")
    })
}

/// The paths of the functions and methods in `file` that keep an entry they acquire
/// (or look up) and release on other paths.
pub(crate) fn kept_in_file<'t>(
    pkg: &Package,
    file: &'t SourceFile,
    names: &Names<'_>,
) -> Vec<Kept<'t>> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    for decl in syntax::descendants(file.tree.root_node())
        .filter(|n| matches!(n.kind(), "function_declaration" | "method_declaration"))
    {
        let Some(body) = decl.child_by_field_name("body") else {
            continue;
        };
        let releases: Vec<Node<'t>> = own_calls(body)
            .filter(|c| syntax::called_name(*c, src).is_some_and(|n| names.release.contains(n)))
            .collect();
        if releases.is_empty() {
            continue;
        }
        // Each statement that acquires, with the variable holding the entry.
        for stmt in syntax::descendants(body).filter(|n| {
            matches!(n.kind(), "short_var_declaration" | "assignment_statement")
                && syntax::enclosing_function(*n).is_some_and(|f| f.id() == decl.id())
        }) {
            let Some(right) = stmt.child_by_field_name("right") else {
                continue;
            };
            let rhs = flow::items(Some(right));
            let [value] = rhs.as_slice() else {
                continue;
            };
            let value = flow::unparen(*value);
            let acquires = match value.kind() {
                "call_expression" => {
                    syntax::called_name(value, src).is_some_and(|n| names.acquire.contains(n))
                }
                "index_expression" => (names.reads_map)(value),
                _ => false,
            };
            if !acquires {
                continue;
            }
            let lhs = flow::items(stmt.child_by_field_name("left"));
            let Some(var) = lhs
                .first()
                .filter(|v| v.kind() == "identifier" && syntax::text(**v, src) != "_")
            else {
                continue;
            };
            let others: Vec<&str> = lhs[1..]
                .iter()
                .map(|n| syntax::text(*n, src))
                .filter(|t| *t != "_")
                .collect();
            let res = Entry {
                pkg,
                src,
                names,
                acquire: stmt,
                var: syntax::text(*var, src),
                others,
            };
            let Some(exits) = paths::exits(body, &res, false) else {
                continue;
            };
            let mut kept = paths::unreleased(&exits);
            // A looked-up entry may be meant to outlive the call (state accumulated
            // until a last step deletes it): only a path that forgets what most paths
            // do (the one `case` of a `switch` without the release) counts.
            let released = exits.iter().filter(|e| e.released).count();
            if value.kind() == "index_expression" && released <= kept.len() {
                kept.clear();
            }
            let deferred = releases.iter().copied().find(|r| is_deferred(*r, body));
            for e in kept {
                let release = match (deferred, e.ret) {
                    (Some(d), Some(r)) if d.start_byte() > r.start_byte() => Some((d, true)),
                    _ => releases.first().map(|r| (*r, false)),
                };
                let Some((release, deferred)) = release else {
                    continue;
                };
                out.push(Kept {
                    at: if deferred { stmt } else { e.at },
                    acquire: stmt,
                    release,
                    ret: e.ret,
                    deferred,
                });
            }
        }
    }
    // One finding per line where the fix goes.
    let mut seen = BTreeSet::new();
    out.retain(|k| seen.insert(k.at.start_position().row));
    out
}

/// An early `return` in a function that deletes an entry of the map itself, leaving
/// before the delete on a condition that says nothing about the entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Skipped<'t> {
    /// Where the fix goes: the `if` whose branch returns without the delete, or the
    /// delete itself when it runs only under a condition.
    pub branch: Node<'t>,
    /// The `return` leaving without the delete, if the path leaves by one.
    pub ret: Option<Node<'t>>,
    /// The condition the delete runs under, for a conditional delete.
    pub only_if: Option<Node<'t>>,
}

/// For `delete` (a call deleting an entry of the map, in a function that does not add to
/// it, not in a loop): the early returns of its function that leave before it on a
/// condition naming neither the entry nor the map, nor what was derived from them, the
/// receiver, `ok` or `err` (`if spend <= 0 { return }` before `delete(b.watchers,
/// h.seq)`; not `if !ok`, `if h.done`, `if err != nil`). A caller releasing through such
/// a path keeps the entry.
pub(crate) fn skipped_delete<'t>(src: &'t str, delete: Node<'t>) -> Vec<Skipped<'t>> {
    let Some(decl) = syntax::enclosing_function(delete)
        .filter(|d| matches!(d.kind(), "function_declaration" | "method_declaration"))
    else {
        return Vec::new();
    };
    let Some(body) = decl.child_by_field_name("body") else {
        return Vec::new();
    };
    if syntax::enclosing_loop(delete).is_some() {
        return Vec::new();
    }
    // `ok` and `err` of a lookup or a call in the function; an `err` parameter is the
    // outcome the caller reports (`settle(m, err)`), not a guard.
    let params: Vec<&str> = decl
        .child_by_field_name("parameters")
        .map(|p| param_names(p).map(|n| syntax::text(n, src)).collect())
        .unwrap_or_default();
    let mut guards: BTreeSet<&str> = ["ok", "err"]
        .into_iter()
        .filter(|g| !params.contains(g))
        .collect();
    for a in syntax::call_args(delete) {
        guards.extend(syntax::descendants_of_kind(a, "identifier").map(|i| syntax::text(i, src)));
        if a.kind() == "identifier" {
            guards.insert(syntax::text(a, src));
        }
    }
    if let Some(r) = decl.child_by_field_name("receiver") {
        guards.extend(param_names(r).map(|p| syntax::text(p, src)));
    }
    // What is derived from them (`b, ok := p.budgets[h.id]`).
    let defs: Vec<Node<'t>> = syntax::descendants(body)
        .filter(|n| matches!(n.kind(), "short_var_declaration" | "assignment_statement"))
        .filter(|n| syntax::enclosing_function(*n).is_some_and(|f| f.id() == decl.id()))
        .collect();
    loop {
        let before = guards.len();
        for d in &defs {
            let derived = d.child_by_field_name("right").is_some_and(|r| {
                syntax::descendants_of_kind(r, "identifier")
                    .any(|i| guards.contains(syntax::text(i, src)))
            });
            if derived {
                for l in flow::items(d.child_by_field_name("left")) {
                    if l.kind() == "identifier" {
                        guards.insert(syntax::text(l, src));
                    }
                }
            }
        }
        if guards.len() == before {
            break;
        }
    }
    let res = Deleter {
        src,
        delete,
        guards,
    };
    let Some(exits) = paths::exits(body, &res, true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // A delete under an `if` on a condition unrelated to the entry (`if err
    // == nil { delete(o.inflight, m.ID) }` with `err` the outcome passed in): the paths
    // past it keep the entry.
    let cond_if = syntax::ancestors(delete)
        .take_while(|a| a.id() != body.id())
        .find(|a| a.kind() == "if_statement")
        .filter(|i| {
            i.child_by_field_name("consequence")
                .is_some_and(|c| c.byte_range().contains(&delete.start_byte()))
        })
        .and_then(|i| i.child_by_field_name("condition"))
        .filter(|c| !res.not_acquired(*c));
    if let Some(c) = cond_if {
        let falls_through = exits.iter().any(|e| {
            !e.released && !e.handed && e.ret.is_none_or(|r| r.start_byte() > c.end_byte())
        });
        if falls_through {
            out.push(Skipped {
                branch: syntax::statement_of(delete),
                ret: None,
                only_if: Some(c),
            });
            return out;
        }
    }
    for e in exits.iter().filter(|e| !e.released && !e.handed) {
        let Some(ret) = e.ret.filter(|r| r.end_byte() < delete.start_byte()) else {
            continue;
        };
        // The `return` directly in the consequence of an `if` (blocks only between).
        let Some(branch) = syntax::ancestors(ret)
            .take_while(|a| a.id() != body.id())
            .find(|a| !matches!(a.kind(), "block" | "statement_list"))
            .filter(|a| a.kind() == "if_statement")
        else {
            continue;
        };
        let in_consequence = branch
            .child_by_field_name("consequence")
            .is_some_and(|c| c.start_byte() <= ret.start_byte() && ret.end_byte() <= c.end_byte());
        if in_consequence {
            out.push(Skipped {
                branch,
                ret: Some(ret),
                only_if: None,
            });
        }
    }
    out
}

/// The entry a function deletes itself.
struct Deleter<'t> {
    src: &'t str,
    delete: Node<'t>,
    /// The names a condition about the entry mentions.
    guards: BTreeSet<&'t str>,
}

impl<'t> Resource<'t> for Deleter<'t> {
    fn effect(&self, stmt: Node<'t>) -> Effect {
        if stmt.start_byte() <= self.delete.start_byte()
            && self.delete.end_byte() <= stmt.end_byte()
        {
            Effect::Release
        } else {
            Effect::None
        }
    }

    fn not_acquired(&self, condition: Node<'t>) -> bool {
        syntax::descendants_of_kind(condition, "identifier")
            .any(|i| self.guards.contains(syntax::text(i, self.src)))
    }

    fn aborts(&self, stmt: Node<'t>) -> bool {
        is_fatal_call(stmt, self.src)
    }
}

/// The entry held in `var`, acquired by `acquire`.
struct Entry<'a, 't> {
    /// The package of the function holding the entry.
    pkg: &'a Package,
    src: &'t str,
    names: &'a Names<'a>,
    acquire: Node<'t>,
    var: &'t str,
    /// The acquisition's other results (`ok`, `leader`, `err`).
    others: Vec<&'t str>,
}

impl Entry<'_, '_> {
    /// Whether `node` is the variable itself (or its address).
    fn is_var(&self, node: Node<'_>) -> bool {
        is_ident(node, self.var, self.src)
    }
}

impl<'t> Resource<'t> for Entry<'_, 't> {
    fn effect(&self, stmt: Node<'t>) -> Effect {
        if stmt.id() == self.acquire.id() {
            return Effect::Acquire;
        }
        let releases = own_calls(stmt).any(|c| {
            syntax::called_name(c, self.src).is_some_and(|n| self.names.release.contains(n))
                || (self.names.deletes)(c)
        });
        if releases {
            return Effect::Release;
        }
        if stmt.kind() == "defer_statement" || !mentions(stmt, self.var, self.src) {
            return Effect::None;
        }
        // Handed on: returned, sent, stored, passed to a call.
        let handed = match stmt.kind() {
            "return_statement" | "send_statement" => true,
            "assignment_statement" | "short_var_declaration" => {
                let stores = flow::items(stmt.child_by_field_name("left"))
                    .iter()
                    .any(|l| {
                        matches!(
                            flow::unparen(*l).kind(),
                            "selector_expression" | "index_expression"
                        )
                    });
                stores
                    && flow::items(stmt.child_by_field_name("right"))
                        .iter()
                        .any(|r| self.is_var(*r))
            }
            _ => false,
        };
        if handed || passed_on(self.pkg, stmt, self.var, self.src) {
            Effect::HandOff
        } else {
            Effect::None
        }
    }

    fn not_acquired(&self, condition: Node<'t>) -> bool {
        syntax::descendants_of_kind(condition, "identifier").any(|i| {
            let t = syntax::text(i, self.src);
            self.others.contains(&t)
        }) || compares_to_nil(condition, self.var, self.src)
    }

    fn aborts(&self, stmt: Node<'t>) -> bool {
        is_fatal_call(stmt, self.src)
    }
}

/// A function's path that ends without releasing what its parameter holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unreleased<'t> {
    /// Where the fix goes: the `return` before a deferred release, else the last
    /// statement of the path.
    pub at: Node<'t>,
    /// A release on another path.
    pub release: Node<'t>,
}

/// For a struct whose field holds a release function (a context's cancel), called as
/// `x.cancel()` or through the package's `releasers` (`x.finish()` with `None`, or
/// `complete(x)` with the parameter position): the paths of the package's functions
/// that release their parameter `x` on other paths but not on this one, without handing
/// `x` on.
pub(crate) fn unreleased_params<'s>(
    pkg: &'s Package,
    fields: &[&str],
    releasers: &[(&str, Option<usize>)],
) -> Vec<(&'s SourceFile, Unreleased<'s>)> {
    let mut out = Vec::new();
    for file in pkg.program_files() {
        let src: &str = &file.text;
        for decl in flow::named(file.tree.root_node())
            .into_iter()
            .filter(|n| matches!(n.kind(), "function_declaration" | "method_declaration"))
        {
            let (Some(body), Some(params)) = (
                decl.child_by_field_name("body"),
                decl.child_by_field_name("parameters"),
            ) else {
                continue;
            };
            for p in param_names(params) {
                let res = Param {
                    pkg,
                    src,
                    var: syntax::text(p, src),
                    fields,
                    releasers,
                };
                let releases: Vec<Node<'_>> =
                    own_calls(body).filter(|c| res.releases(*c)).collect();
                let Some(release) = releases.first().copied() else {
                    continue;
                };
                let Some(exits) = paths::exits(body, &res, true) else {
                    continue;
                };
                let deferred = releases.iter().copied().find(|r| is_deferred(*r, body));
                for e in paths::unreleased(&exits) {
                    // A `return` before a deferred release: the `defer` belongs before
                    // it, so the `return` is the line to change.
                    let (at, release) = match (deferred, e.ret) {
                        (Some(d), Some(r)) if d.start_byte() > r.start_byte() => (r, d),
                        _ => (e.at, release),
                    };
                    out.push((file, Unreleased { at, release }));
                }
            }
        }
    }
    out
}

/// For a local `var` of `body` holding a struct whose field holds a release function
/// (`sess := s.removeSession(id)`): the paths on which nothing releases it (directly,
/// by a releasing method or function) nor hands it on, skipping those where it is nil.
/// Each path's `at` is where the release belongs; its `release` is a release on another
/// path, else `at` itself. `None` when every path releases or hands it on.
pub(crate) fn unreleased_local<'t>(
    pkg: &'t Package,
    src: &'t str,
    body: Node<'t>,
    var: &'t str,
    fields: &[&str],
    releasers: &[(&str, Option<usize>)],
) -> (Vec<Node<'t>>, Option<Node<'t>>) {
    let res = Param {
        pkg,
        src,
        var,
        fields,
        releasers,
    };
    let release = own_calls(body).find(|c| res.releases(*c));
    let Some(exits) = paths::exits(body, &res, true) else {
        return (Vec::new(), release);
    };
    let kept = exits
        .iter()
        .filter(|e| !e.released && !e.handed)
        .map(|e| e.at)
        .collect();
    (kept, release)
}

/// A parameter holding the release function.
struct Param<'a, 's> {
    pkg: &'s Package,
    src: &'s str,
    var: &'s str,
    fields: &'a [&'a str],
    releasers: &'a [(&'a str, Option<usize>)],
}

impl Param<'_, '_> {
    fn is_var(&self, node: Node<'_>) -> bool {
        is_ident(node, self.var, self.src)
    }

    /// Whether a condition holds when a call handed the parameter found nothing to
    /// take (`if s.removeSession(sess.id) == nil`): the struct was not registered, or
    /// someone else already removed it, so its release is not this path's to make. A
    /// call answering false (`if !p.seen.add(ev.key())`, a duplicate) says nothing of
    /// who owns the struct.
    fn claim_failed(&self, condition: Node<'_>) -> bool {
        let call_on_var = |n: Node<'_>| {
            let n = flow::unparen(n);
            n.kind() == "call_expression"
                && n.child_by_field_name("arguments")
                    .is_some_and(|a| mentions(a, self.var, self.src))
        };
        let c = flow::unparen(condition);
        match c.kind() {
            "binary_expression" => {
                flow::operator(c, self.src) == "=="
                    && ["left", "right"]
                        .iter()
                        .any(|side| c.child_by_field_name(side).is_some_and(call_on_var))
                    && ["left", "right"].iter().any(|side| {
                        c.child_by_field_name(side)
                            .is_some_and(|n| syntax::text(n, self.src) == "nil")
                    })
            }
            _ => false,
        }
    }

    fn releases(&self, call: Node<'_>) -> bool {
        releases_struct(
            call,
            self.src,
            &|n| self.is_var(n),
            self.fields,
            self.releasers,
        )
    }
}

/// Whether `call` releases the struct `is_var` names through one of its fields holding a
/// release function (`x.cancel()`) or a package function calling one (`x.finish()` for
/// a releaser on the receiver, `None`; `complete(x)` for one taking it at a position).
pub(crate) fn releases_struct(
    call: Node<'_>,
    src: &str,
    is_var: &dyn Fn(Node<'_>) -> bool,
    fields: &[&str],
    releasers: &[(&str, Option<usize>)],
) -> bool {
    let Some(f) = call.child_by_field_name("function").map(flow::unparen) else {
        return false;
    };
    let Some(name) = syntax::called_name(call, src) else {
        return false;
    };
    let on_var =
        f.kind() == "selector_expression" && f.child_by_field_name("operand").is_some_and(is_var);
    if on_var && (fields.contains(&name) || releasers.iter().any(|r| r.0 == name && r.1.is_none()))
    {
        return true;
    }
    let args = syntax::call_args(call);
    releasers
        .iter()
        .any(|(n, pos)| *n == name && pos.and_then(|p| args.get(p)).is_some_and(|a| is_var(*a)))
}

impl<'t> Resource<'t> for Param<'_, 't> {
    fn effect(&self, stmt: Node<'t>) -> Effect {
        if own_calls(stmt).any(|c| self.releases(c)) {
            return Effect::Release;
        }
        if stmt.kind() == "defer_statement" || !mentions(stmt, self.var, self.src) {
            return Effect::None;
        }
        let captured = syntax::descendants_of_kind(stmt, "func_literal")
            .any(|l| mentions(l, self.var, self.src));
        let handed = match stmt.kind() {
            "return_statement" | "send_statement" | "go_statement" => true,
            "assignment_statement" | "short_var_declaration" => {
                flow::items(stmt.child_by_field_name("right"))
                    .iter()
                    .any(|r| self.is_var(*r))
            }
            _ => false,
        };
        if captured || handed || passed_on(self.pkg, stmt, self.var, self.src) {
            Effect::HandOff
        } else {
            Effect::None
        }
    }

    fn not_acquired(&self, condition: Node<'t>) -> bool {
        compares_to_nil(condition, self.var, self.src) || self.claim_failed(condition)
    }

    fn aborts(&self, stmt: Node<'t>) -> bool {
        is_fatal_call(stmt, self.src)
    }
}

/// Whether `node` mentions the identifier `var` (never, for an empty name).
fn mentions(node: Node<'_>, var: &str, src: &str) -> bool {
    !var.is_empty()
        && syntax::descendants_of_kind(node, "identifier").any(|i| syntax::text(i, src) == var)
}

/// Whether `stmt` passes `var` to a call (not inside a function literal) that may keep
/// it: anything but a function of the package that only reads its fields.
fn passed_on(pkg: &Package, stmt: Node<'_>, var: &str, src: &str) -> bool {
    own_calls(stmt).any(|c| {
        syntax::call_args(c).iter().enumerate().any(|(i, a)| {
            is_ident(*a, var, src)
                && !syntax::called_name(c, src).is_some_and(|n| only_reads(pkg, n, i))
        })
    })
}

/// The names a parameter list declares, in order (the receiver's or the parameters').
fn param_names(params: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    syntax::descendants_of_kind(params, "identifier").filter(|p| {
        p.parent()
            .is_some_and(|d| d.kind() == "parameter_declaration")
    })
}

/// Whether a call under `body` is deferred (`defer room.Unsubscribe(sub)`).
fn is_deferred(call: Node<'_>, body: Node<'_>) -> bool {
    syntax::ancestors(call)
        .take_while(|a| a.id() != body.id())
        .any(|a| a.kind() == "defer_statement")
}

/// Whether a condition compares `var` with `nil` (`if x == nil`, `x != nil`).
pub(crate) fn compares_to_nil(condition: Node<'_>, var: &str, src: &str) -> bool {
    syntax::descendants_of_kind(condition, "binary_expression").any(|b| {
        let sides: Vec<&str> = ["left", "right"]
            .iter()
            .filter_map(|s| b.child_by_field_name(s))
            .map(|n| syntax::text(n, src))
            .collect();
        sides.contains(&var) && sides.contains(&"nil")
    })
}

/// Whether `node` is the identifier `var` (or its address, `&var`).
fn is_ident(node: Node<'_>, var: &str, src: &str) -> bool {
    let n = flow::unparen(node);
    let n = match n.kind() {
        "unary_expression" => n
            .child_by_field_name("operand")
            .map(flow::unparen)
            .unwrap_or(n),
        _ => n,
    };
    n.kind() == "identifier" && syntax::text(n, src) == var
}

/// Whether the package function or method `name` only reads fields of its parameter
/// at `pos` (`markFailed(job, ...)` logging `job.id`): passing it there hands
/// nothing on.
fn only_reads(pkg: &Package, name: &str, pos: usize) -> bool {
    let mut found = false;
    for file in pkg.program_files() {
        let src: &str = &file.text;
        for decl in flow::named(file.tree.root_node()) {
            if !matches!(decl.kind(), "function_declaration" | "method_declaration")
                || syntax::function_name(decl, src) != Some(name)
            {
                continue;
            }
            let Some(params) = decl.child_by_field_name("parameters") else {
                return false;
            };
            let Some(param) = param_names(params).nth(pos) else {
                return false;
            };
            let pname = syntax::text(param, src);
            let Some(body) = decl.child_by_field_name("body") else {
                return false;
            };
            let reads = syntax::descendants_of_kind(body, "identifier")
                .filter(|i| syntax::text(*i, src) == pname)
                .all(|i| {
                    i.parent().is_some_and(|sel| {
                        sel.kind() == "selector_expression"
                            && sel.parent().is_none_or(|c| {
                                c.kind() != "call_expression"
                                    || c.child_by_field_name("function") != Some(sel)
                            })
                    })
                });
            if !reads {
                return false;
            }
            found = true;
        }
    }
    found
}
