//! Parts of a value cut in one function and stored in another: the backward half of the
//! value flow that `substring-retains-string` and `subslice-retains-backing-array` share.
//!
//! The forward walk of [`flow::sinks`] follows a sub-slice or substring from the slice
//! expression to a store within its own function. Real code often cuts in a helper
//! (`titleOf(page)` returns `strings.TrimSpace(page[i:j])`, `parseLine(b)` sets
//! `l.trace = b[i:]` on the struct it returns) and stores two calls later through a
//! parameter (`c.titles[u] = title`, `append(a.exemplars, Exemplar{Trace: l.trace})`).
//! Here the walk starts at every store into a long-lived container and goes backwards
//! through locals, one level of struct fields, parameters (to every caller in the
//! package), results (to every `return` of the callee) and `strings`/`bytes` trims, to
//! the slice expressions the stored value may be. Each rule then checks the cut's
//! parent (a large buffer, a made string) with its own origin analysis.

use std::collections::HashSet;

use tree_sitter::Node;

use super::flow::{self, BindKind, Sink, SinkKind, Target};
use super::syntax::{self, ancestors};
use super::{Package, SourceFile};

/// How many steps (locals, fields, calls) a stored value is followed back.
const MAX_STEPS: usize = 8;

/// A store into a long-lived container and the slice expression its value may be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DistantCut<'p> {
    /// The file of the store.
    pub store_file: &'p SourceFile,
    /// The store; `sink.value` is the stored expression (a field of a stored literal,
    /// an appended element, a map key or value).
    pub sink: Sink<'p>,
    /// The file of the cut.
    pub cut_file: &'p SourceFile,
    /// The slice expression, in another function than the store.
    pub slice: Node<'p>,
    /// The call through which the walk entered the cut's function from the store's
    /// side (its result was followed to the cut), when it did: the cut's parameters are
    /// that call's arguments on this path.
    pub via: Option<(&'p SourceFile, Node<'p>)>,
    /// The last call the walk went up through (from a parameter to a caller's
    /// argument): when the cut is in that call's function and no call was entered since,
    /// the cut leaves its function at this call.
    pub up: Option<(&'p SourceFile, Node<'p>)>,
}

/// Every store of the package's program files into a long-lived container whose value
/// may be a slice expression cut in another function. Stores that run once (in `init`,
/// at start-up) are left out, as the forward walk leaves them out.
pub(crate) fn distant_cuts(pkg: &Package) -> Vec<DistantCut<'_>> {
    let mut out = Vec::new();
    for file in pkg.program_files() {
        for sink in stores(pkg, file) {
            let mut back = Back {
                pkg,
                seen: HashSet::new(),
                cuts: Vec::new(),
            };
            back.value(file, sink.value, None, (None, None), 0);
            let store_fn = function_of(sink.stmt);
            for (cut_file, slice, (via, up)) in back.cuts {
                if store_fn.is_some() && function_of(slice) == store_fn {
                    // Within one function the forward walk reports it.
                    continue;
                }
                out.push(DistantCut {
                    store_file: file,
                    sink,
                    cut_file,
                    slice,
                    via,
                    up,
                });
            }
        }
    }
    out
}

/// The innermost function (declaration or literal) around a node, by node id.
fn function_of(node: Node<'_>) -> Option<usize> {
    ancestors(node)
        .find(|a| syntax::is_function(a.kind()))
        .map(|f| f.id())
}

/// The stores of a file: `target = v`, `target = append(target, v...)`, `m[k] = v`
/// where the target outlives the function, one sink per stored expression (the fields
/// and elements of a stored composite literal each count).
fn stores<'p>(pkg: &Package, file: &'p SourceFile) -> Vec<Sink<'p>> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    for stmt in syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement") {
        if flow::operator(stmt, src) != "=" || flow::runs_once(stmt, src) {
            continue;
        }
        let left = flow::items(stmt.child_by_field_name("left"));
        let right = flow::items(stmt.child_by_field_name("right"));
        if left.len() != right.len() {
            continue;
        }
        for (target, value) in left.iter().zip(&right) {
            let target = flow::unparen(*target);
            let Target::Escapes(kind) = flow::classify_target(pkg, file, target) else {
                continue;
            };
            let value = flow::unparen(*value);
            let container = if target.kind() == "index_expression" {
                target.child_by_field_name("operand")
            } else {
                Some(target)
            };
            let mut push = |kind: SinkKind, v: Node<'p>| {
                for part in stored_parts(v, src) {
                    out.push(Sink {
                        kind,
                        stmt,
                        container,
                        value: part,
                    });
                }
            };
            let args = syntax::call_args(value);
            if flow::is_builtin_call(value, "append", src)
                && args.first().is_some_and(|a| {
                    flow::same_expr(syntax::text(*a, src), syntax::text(target, src))
                })
            {
                // `append(x, v...)` copies the elements, not the array.
                for a in args.iter().skip(1) {
                    if a.kind() != "variadic_argument" {
                        push(SinkKind::Append, *a);
                    }
                }
                continue;
            }
            push(kind, value);
            if target.kind() == "index_expression" {
                if let Some(key) = target.child_by_field_name("index") {
                    push(SinkKind::MapKey, key);
                }
            }
        }
    }
    out
}

/// The expressions a stored value holds: the value itself, or the elements and field
/// values of a composite literal (also behind `&`).
fn stored_parts<'t>(value: Node<'t>, src: &str) -> Vec<Node<'t>> {
    let value = flow::unparen(value);
    match value.kind() {
        "unary_expression" if flow::operator(value, src) == "&" => value
            .child_by_field_name("operand")
            .map(|o| stored_parts(o, src))
            .unwrap_or_default(),
        "composite_literal" => {
            let Some(body) = value.child_by_field_name("body") else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for el in flow::named(body) {
                let v = if el.kind() == "keyed_element" {
                    el.child_by_field_name("value")
                } else {
                    Some(el)
                };
                // A literal element wraps the expression.
                if let Some(v) = v.and_then(|v| flow::named(v).into_iter().next()) {
                    out.extend(stored_parts(v, src));
                }
            }
            out
        }
        _ => vec![value],
    }
}

/// The value of `field: value` in a composite literal.
fn keyed_value<'t>(lit: Node<'t>, field: &str, src: &str) -> Option<Node<'t>> {
    let body = lit.child_by_field_name("body")?;
    flow::named(body).into_iter().find_map(|el| {
        if el.kind() != "keyed_element" {
            return None;
        }
        let k = el.child_by_field_name("key")?;
        if syntax::text(k, src).trim() != field {
            return None;
        }
        let v = el.child_by_field_name("value")?;
        flow::named(v).into_iter().next().or(Some(v))
    })
}

/// The backward walk.
struct Back<'p> {
    pkg: &'p Package,
    /// (node id, field) pairs already followed.
    seen: HashSet<(usize, Option<String>)>,
    cuts: Vec<(&'p SourceFile, Node<'p>, Path<'p>)>,
}

/// A call and its file.
type Call<'p> = Option<(&'p SourceFile, Node<'p>)>;

/// The call a walk entered the current function through, and the last call it went up
/// through, if any.
type Path<'p> = (Call<'p>, Call<'p>);

impl<'p> Back<'p> {
    /// What `expr` (or its `field`, when given) may be.
    fn value(
        &mut self,
        file: &'p SourceFile,
        expr: Node<'p>,
        field: Option<&str>,
        via: Path<'p>,
        steps: usize,
    ) {
        if steps > MAX_STEPS || !self.seen.insert((expr.id(), field.map(str::to_string))) {
            return;
        }
        let src: &str = &file.text;
        let expr = flow::unparen(expr);
        match (expr.kind(), field) {
            ("slice_expression", None) => self.cuts.push((file, expr, via)),
            ("call_expression", _) => {
                if field.is_none() && flow::is_trim_call(file, expr) {
                    // `strings.TrimSpace(v)` is a part of `v`.
                    if let Some(a) = syntax::call_args(expr).first() {
                        self.value(file, *a, None, via, steps + 1);
                    }
                } else {
                    self.result(file, expr, 0, field, steps + 1);
                }
            }
            ("identifier", _) => self.identifier(file, expr, field, via, steps),
            ("selector_expression", None) => {
                let (Some(operand), Some(f)) = (
                    expr.child_by_field_name("operand").map(flow::unparen),
                    expr.child_by_field_name("field"),
                ) else {
                    return;
                };
                // `pkg.Name` of an import is not a field.
                let import = operand.kind() == "identifier"
                    && flow::resolve_ident(operand, src).is_none()
                    && flow::imports(file)
                        .iter()
                        .any(|(n, _)| n == syntax::text(operand, src));
                if !import {
                    let f = syntax::text(f, src).to_string();
                    self.value(file, operand, Some(&f), via, steps + 1);
                }
            }
            ("composite_literal" | "unary_expression", None)
                if expr.kind() == "composite_literal" || flow::operator(expr, src) == "&" =>
            {
                // A whole struct or slice literal stored: each of its values is stored.
                for part in stored_parts(expr, src) {
                    if part.id() != expr.id() {
                        self.value(file, part, None, via, steps + 1);
                    }
                }
            }
            ("composite_literal", Some(f)) => {
                if let Some(v) = keyed_value(expr, f, src) {
                    self.value(file, v, None, via, steps + 1);
                }
            }
            ("unary_expression", Some(_)) if flow::operator(expr, src) == "&" => {
                if let Some(o) = expr.child_by_field_name("operand") {
                    self.value(file, o, field, via, steps + 1);
                }
            }
            _ => {}
        }
    }

    /// A local or a parameter: its values, the values written to its `field`, or what
    /// every caller passes.
    fn identifier(
        &mut self,
        file: &'p SourceFile,
        ident: Node<'p>,
        field: Option<&str>,
        via: Path<'p>,
        steps: usize,
    ) {
        let src: &str = &file.text;
        let Some(b) = flow::resolve_ident(ident, src) else {
            return;
        };
        match b.kind {
            BindKind::Param => {
                let Some(pos) = flow::param_position(&b) else {
                    return;
                };
                let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
                    return;
                };
                if func.kind() == "func_literal" {
                    return;
                }
                for (cf, call) in flow::callers(self.pkg, func, src) {
                    if let Some(arg) = syntax::call_args(call).get(pos).copied() {
                        if arg.kind() != "variadic_argument" {
                            // Up to the callers: no entry call there.
                            self.value(cf, arg, field, (None, Some((cf, call))), steps + 1);
                        }
                    }
                }
            }
            BindKind::ShortVar | BindKind::Var => {
                if let Some(v) = b.value {
                    if b.multi {
                        if flow::unparen(v).kind() == "call_expression" {
                            self.result(file, flow::unparen(v), b.index, field, steps + 1);
                        }
                    } else {
                        self.value(file, v, field, via, steps + 1);
                    }
                }
                for v in flow::assignments(&b, usize::MAX, src) {
                    // A multi-valued assignment's call: which result is unknown here.
                    let multi = flow::unparen(v).kind() == "call_expression"
                        && v.parent().is_some_and(|l| {
                            l.kind() == "expression_list" && flow::named(l).len() == 1
                        })
                        && v.parent()
                            .and_then(|l| l.parent())
                            .and_then(|s| s.child_by_field_name("left"))
                            .is_some_and(|l| flow::items(Some(l)).len() > 1);
                    if !multi {
                        self.value(file, v, field, via, steps + 1);
                    }
                }
                if let Some(f) = field {
                    // `x.f = v` in the function.
                    for u in flow::uses(&b, src) {
                        let Some(sel) = u.parent().filter(|p| {
                            p.kind() == "selector_expression"
                                && p.child_by_field_name("operand")
                                    .is_some_and(|o| o.id() == u.id())
                                && p.child_by_field_name("field")
                                    .is_some_and(|x| syntax::text(x, src) == f)
                        }) else {
                            continue;
                        };
                        let Some(stmt) = sel
                            .parent()
                            .filter(|l| l.kind() == "expression_list")
                            .and_then(|l| l.parent())
                            .filter(|s| {
                                s.kind() == "assignment_statement" && flow::operator(*s, src) == "="
                            })
                        else {
                            continue;
                        };
                        let left = flow::items(stmt.child_by_field_name("left"));
                        let right = flow::items(stmt.child_by_field_name("right"));
                        if let Some(i) = left.iter().position(|n| n.id() == sel.id()) {
                            if let (Some(v), false) = flow::pair(&left, &right, i) {
                                self.value(file, v, None, via, steps + 1);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The `index`-th result of a call of a package function or method: what its
    /// `return` statements give there.
    fn result(
        &mut self,
        file: &'p SourceFile,
        call: Node<'p>,
        index: usize,
        field: Option<&str>,
        steps: usize,
    ) {
        if steps > MAX_STEPS {
            return;
        }
        let src: &str = &file.text;
        let Some(callee) = call.child_by_field_name("function").map(flow::unparen) else {
            return;
        };
        let decls: Vec<(&'p SourceFile, Node<'p>)> = match callee.kind() {
            "identifier" => {
                let name = syntax::text(callee, src);
                if flow::resolve_ident(callee, src).is_some() {
                    return;
                }
                flow::package_function(self.pkg, name).into_iter().collect()
            }
            "selector_expression" => {
                if flow::FileCtx::new(file).qualified(call).is_some() {
                    return;
                }
                let Some(f) = callee.child_by_field_name("field") else {
                    return;
                };
                flow::package_methods(self.pkg, syntax::text(f, src))
            }
            _ => return,
        };
        for (df, decl) in decls {
            let Some(body) = decl.child_by_field_name("body") else {
                continue;
            };
            for ret in syntax::descendants_of_kind(body, "return_statement") {
                if ancestors(ret)
                    .find(|a| syntax::is_function(a.kind()))
                    .is_none_or(|f| f.id() != decl.id())
                {
                    continue;
                }
                let values = flow::items(ret.named_child(0));
                if let Some(v) = values.get(index).copied() {
                    self.value(df, v, field, (Some((file, call)), None), steps + 1);
                }
            }
        }
    }
}

/// Whether the parent of a cut is a parameter that every caller in the package passes as
/// a local it stores itself: the parent is kept anyway, so the part pins nothing more.
pub(crate) fn kept_by_callers(pkg: &Package, file: &SourceFile, parent: Node<'_>) -> bool {
    let src: &str = &file.text;
    let Some(b) = flow::resolve_ident(flow::unparen(parent), src) else {
        return false;
    };
    if b.kind != BindKind::Param {
        return false;
    }
    let (Some(pos), Some(func)) = (
        flow::param_position(&b),
        b.decl.parent().and_then(|l| l.parent()),
    ) else {
        return false;
    };
    let calls = flow::callers(pkg, func, src);
    !calls.is_empty()
        && calls.iter().all(|(cf, call)| {
            syntax::call_args(*call)
                .get(pos)
                .map(|a| flow::unparen(*a))
                .is_some_and(|a| a.kind() == "identifier" && flow::stored_itself(pkg, cf, a))
        })
}

/// The argument the path of a distant cut passed for the cut's parent, when the parent is
/// a parameter of the function the walk entered through a call: the parent's origin on
/// this path is that argument's, not every caller's.
pub(crate) fn entry_argument<'p>(
    d: &DistantCut<'p>,
    parent: Node<'p>,
) -> Option<(&'p SourceFile, Node<'p>)> {
    let (vf, call) = d.via?;
    let b = flow::resolve_ident(flow::unparen(parent), &d.cut_file.text)?;
    if b.kind != BindKind::Param {
        return None;
    }
    let pos = flow::param_position(&b)?;
    let func = b.decl.parent().and_then(|l| l.parent())?;
    if Some(func.id()) != function_of(d.slice) {
        return None;
    }
    let arg = syntax::call_args(call)
        .get(pos)
        .copied()
        .map(flow::unparen)?;
    (arg.kind() != "variadic_argument").then_some((vf, arg))
}

/// For a distant cut the walk reached by going up from the store's function to callers,
/// with the cut in the function of the last such call: that call statement, where the
/// part leaves its function (the place to copy it).
pub(crate) fn passing_call<'p>(d: &DistantCut<'p>) -> Option<(&'p SourceFile, Node<'p>)> {
    if d.via.is_some() {
        return None;
    }
    let (f, call) = d.up?;
    (function_of(call) == function_of(d.slice)).then(|| (f, syntax::statement_of(call)))
}

/// Pushes a finding kept at a store and, when the `noun` (substring, sub-slice) was cut
/// on another line, the same finding at the cut: both lines take part, and the copy goes
/// at the cut. The copy relates the store; none is added when `out` already has this
/// rule's finding on the cut line.
pub(crate) fn push_with_cut(
    m: super::Match,
    cut: Option<super::Location>,
    noun: &str,
    out: &mut Vec<super::Match>,
) {
    let line = |l: &super::Location| (l.file.clone(), l.span.start_line);
    let at_cut = cut
        .filter(|c| {
            line(c) != line(&m.location)
                && !out
                    .iter()
                    .any(|o| o.rule == m.rule && line(&o.location) == line(c))
        })
        .map(|c| {
            let mut copy = m.clone();
            copy.message = format!("the {noun} cut here is kept: {}", m.message);
            copy.related.retain(|r| line(&r.location) != line(&c));
            copy.related.push(super::Related {
                location: m.location.clone(),
                message: format!("the {noun} is kept here"),
            });
            copy.location = c;
            copy
        });
    out.push(m);
    out.extend(at_cut);
}
