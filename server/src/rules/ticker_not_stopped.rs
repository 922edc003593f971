//! `ticker-not-stopped`: a `time.Ticker` created per call or per iteration that is never
//! stopped (before Go 1.23 an unstopped ticker is never collected). Also home of
//! [`locals`], the function-local name and value helpers that the timer, defer, context
//! and HTTP rules share.

use tree_sitter::Node;

use super::flow;
use super::syntax::{self, text};
use super::{Context, EvidenceKind, Fix, Match, Package, Rule, RuleMeta, SourceFile};
use locals::Ctx;

/// The `ticker-not-stopped` rule.
#[derive(Debug)]
pub struct TickerNotStopped;

static META: RuleMeta = RuleMeta {
    id: "ticker-not-stopped",
    name: "Ticker never stopped",
    summary: "A time.Ticker created per call or per iteration is never stopped, so (before Go 1.23) it and its channel are never collected.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

/// A timer field of a map entry re-armed without stopping the timer it holds: `h, ok :=
/// b.holds[id]` then `h.timer = time.AfterFunc(b.ttl, func() { b.expire(h) })`, in a
/// function that neither stops `h.timer` first nor runs only while it is nil, when the
/// package arms the field elsewhere and stops it somewhere. The old timer stays pending
/// with its function, and the entry it captures, until it fires. A match on the
/// assignment.
fn rearmed_timers(cx: &Context<'_>, file: &SourceFile) -> Vec<Match> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    if !src.contains("time.AfterFunc") && !src.contains("time.NewTimer") {
        return out;
    }
    for a in syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement") {
        if flow::operator(a, src) != "=" {
            continue;
        }
        let left = flow::items(a.child_by_field_name("left"));
        let right = flow::items(a.child_by_field_name("right"));
        let ([target], [call]) = (left.as_slice(), right.as_slice()) else {
            continue;
        };
        let (target, call) = (flow::unparen(*target), flow::unparen(*call));
        let callee = call
            .child_by_field_name("function")
            .map(|f| text(f, src).replace(' ', ""));
        if target.kind() != "selector_expression"
            || !matches!(callee.as_deref(), Some("time.AfterFunc" | "time.NewTimer"))
        {
            continue;
        }
        let (Some(operand), Some(field)) = (
            target.child_by_field_name("operand").map(flow::unparen),
            target.child_by_field_name("field").map(|f| text(f, src)),
        ) else {
            continue;
        };
        let is_timer =
            flow::field_type_text(cx, field).is_some_and(|t| t.replace(' ', "") == "*time.Timer");
        if !is_timer || operand.kind() != "identifier" {
            continue;
        }
        // The holder is an existing entry: looked up in a map field.
        let Some(b) = flow::resolve_ident(operand, src) else {
            continue;
        };
        let Some(map) = b
            .value
            .map(flow::unparen)
            .filter(|v| v.kind() == "index_expression")
            .and_then(|v| v.child_by_field_name("operand"))
            .map(flow::unparen)
            .filter(|o| o.kind() == "selector_expression")
        else {
            continue;
        };
        let Some(func) = syntax::enclosing_function(a) else {
            continue;
        };
        let lhs = text(target, src);
        let stops = |c: Node<'_>, csrc: &str| {
            syntax::called_name(c, csrc) == Some("Stop")
                && c.child_by_field_name("function")
                    .and_then(|f| f.child_by_field_name("operand"))
                    .map(flow::unparen)
                    .and_then(|o| o.child_by_field_name("field"))
                    .is_some_and(|fl| text(fl, csrc) == field)
        };
        let stopped_before = syntax::descendants_of_kind(func, "call_expression")
            .any(|c| c.end_byte() <= a.start_byte() && stops(c, src));
        let guarded = syntax::ancestors(a)
            .take_while(|n| n.id() != func.id())
            .filter(|n| n.kind() == "if_statement")
            .filter_map(|i| i.child_by_field_name("condition"))
            .any(|c| {
                let c = text(c, src).replace(' ', "");
                c.contains(&format!("{}==nil", lhs.replace(' ', "")))
            });
        if stopped_before || guarded {
            continue;
        }
        // Armed elsewhere too, and stopped somewhere: the field owns a live timer.
        let mut armed_elsewhere = false;
        let mut stop_at = None;
        for f in cx.program_files() {
            let fsrc: &str = &f.text;
            for other in syntax::descendants_of_kind(f.tree.root_node(), "assignment_statement") {
                if other.id() == a.id() {
                    continue;
                }
                let t = flow::items(other.child_by_field_name("left"));
                let r = flow::items(other.child_by_field_name("right"));
                let arms = matches!((t.as_slice(), r.as_slice()), ([t], [r])
                    if flow::unparen(*t).child_by_field_name("field").is_some_and(|fl| text(fl, fsrc) == field)
                        && text(flow::unparen(*r), fsrc).replace(' ', "").starts_with("time."));
                armed_elsewhere |= arms;
            }
            if stop_at.is_none() {
                stop_at = syntax::descendants_of_kind(f.tree.root_node(), "call_expression")
                    .find(|c| stops(*c, fsrc))
                    .map(|c| f.location(c));
            }
        }
        let Some(stop_at) = stop_at.filter(|_| armed_elsewhere) else {
            continue;
        };
        let holder = flow::field_type_text(
            cx,
            map.child_by_field_name("field")
                .map_or("", |f| text(f, src)),
        )
        .and_then(|t| flow::map_value_type(&t).map(str::to_string));
        let mut evidence = vec![file.location(call)];
        // What the holder gains in this function (`h.Chain = append(h.Chain,
        // newLink(auth, delta))`), its literals and what its fields point to.
        let var = text(operand, src);
        for w in syntax::descendants_of_kind(func, "assignment_statement") {
            let writes_holder = flow::items(w.child_by_field_name("left")).iter().any(|l| {
                let l = flow::unparen(*l);
                l.kind() == "selector_expression"
                    && l.child_by_field_name("operand")
                        .is_some_and(|o| text(flow::unparen(o), src) == var)
            });
            if writes_holder && w.id() != a.id() {
                for v in flow::items(w.child_by_field_name("right")) {
                    flow::alloc_sites(cx, file, v, &mut evidence);
                }
            }
        }
        if let Some(h) = &holder {
            let types: std::collections::HashSet<String> = [h.clone()].into_iter().collect();
            for f in cx.program_files() {
                flow::type_allocations(f, f.tree.root_node(), &types, &mut evidence);
            }
            super::closure_registry_leak::held_allocations(cx, h, &mut evidence);
        }
        let made = callee.unwrap_or_default();
        let message = format!(
            "{} re-arms \"{lhs}\" with a new timer from {made} without stopping the one it holds: the old timer stays pending with its function{} until it fires, and the stop elsewhere reaches only the newest",
            flow::function_label(a, src),
            holder.as_deref().map(|h| format!(" and the {h} it captures")).unwrap_or_default(),
        );
        out.push(Match {
            rule: META.id,
            location: file.location(a),
            subject: lhs.to_string(),
            message,
            declaration: None,
            related: vec![super::Related {
                location: stop_at,
                message: "stops only the timer the field holds last".to_string(),
            }],
            evidence,
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills: Vec::new(),
        });
    }
    out
}

impl Rule for TickerNotStopped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        // Timers kept in map entries, stopped before one removal and not another.
        out.extend(super::closure_registry_leak::dropped_holders(
            pkg,
            pkg.index(),
            super::closure_registry_leak::HolderKind::Timer,
            META.id,
        ));
        for file in pkg.program_files() {
            out.extend(rearmed_timers(pkg, file));
        }
        let note = pkg.go_version.filter(|v| v.at_least(1, 23)).map(|v| {
            format!(
                "the module's go line ({}.{}) enables Go 1.23 timers: an unreferenced ticker is garbage collected even if never stopped",
                v.major, v.minor
            )
        });
        for file in pkg.program_files() {
            let src: &str = &file.text;
            let root = file.tree.root_node();
            let Some(time) = flow::import_name(root, src, "time") else {
                continue;
            };
            for call in syntax::descendants_of_kind(root, "call_expression") {
                let Some(func) = locals::qualified_call(call, src, time) else {
                    continue;
                };
                let found = match func {
                    "NewTicker" => new_ticker(pkg, file, call),
                    "Tick" => tick(file, call, "time.Tick"),
                    _ => None,
                };
                if let Some(mut m) = found {
                    m.version_note.clone_from(&note);
                    out.push(m);
                }
            }
        }
    }
}

/// A match at a `time.NewTicker` or `time.Tick` call.
fn matched(file: &SourceFile, call: Node<'_>, subject: String, message: String) -> Match {
    Match {
        rule: META.id,
        location: file.location(call),
        subject,
        message,
        declaration: None,
        related: Vec::new(),
        evidence: vec![file.location(call)],
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

/// `time.Tick(d)` (or `time.NewTicker(d).C`): a ticker nobody can stop. Reported when
/// it is created on every iteration or every call of a function that returns.
fn tick(file: &SourceFile, call: Node<'_>, what: &str) -> Option<Match> {
    let src: &str = &file.text;
    let where_ = locals::function_label(file, call);
    if let Some(lp) = locals::loop_around(call) {
        if !locals::exits_first_iteration(call, lp, src) {
            return Some(matched(
                file,
                call,
                what.to_string(),
                format!("{what} inside a loop in {where_} creates a ticker on every iteration that can never be stopped"),
            ));
        }
    }
    if locals::runs_once(call, src) || ends_in_endless_loop(call, src) {
        return None;
    }
    Some(matched(
        file,
        call,
        what.to_string(),
        format!("{what} in {where_} creates a ticker on every call that can never be stopped"),
    ))
}

/// Whether the function around `node` never returns after it: the statement holding
/// `node` is followed, in the function body, by a loop that nothing leaves.
fn ends_in_endless_loop(node: Node<'_>, src: &str) -> bool {
    let Some(func) = syntax::enclosing_function(node) else {
        return false;
    };
    let Some(body) = func.child_by_field_name("body") else {
        return false;
    };
    // The top-level statement of the body that holds the node, and those after it.
    let mut stmt = node;
    while let Some(p) = stmt.parent() {
        if p.kind() == "statement_list" && p.parent() == Some(body) {
            break;
        }
        stmt = p;
    }
    let mut cur = Some(stmt);
    while let Some(s) = cur {
        let target = if s.kind() == "labeled_statement" {
            s.named_child(1).unwrap_or(s)
        } else {
            s
        };
        if target.kind() == "for_statement"
            && target.start_byte() >= stmt.start_byte()
            && locals::is_endless(target, src)
        {
            return true;
        }
        cur = s.next_named_sibling();
    }
    false
}

/// `time.NewTicker(d)`: follows where the ticker goes.
fn new_ticker(pkg: &Package, file: &SourceFile, call: Node<'_>) -> Option<Match> {
    let src: &str = &file.text;
    let parent = flow::parent_skipping_parens(call)?;
    // `time.NewTicker(d).C`: the ticker itself is dropped at once.
    if parent.kind() == "selector_expression"
        && parent
            .child_by_field_name("field")
            .is_some_and(|f| text(f, src) == "C")
    {
        return tick(file, call, "time.NewTicker(…).C");
    }
    let Some(b) = locals::binding_of(call) else {
        // Returned, passed on or stored in a literal: the receiver owns it now.
        return None;
    };
    let target = b.target()?;
    let where_ = locals::function_label(file, call);
    let in_loop = locals::loop_around(call)
        .filter(|lp| !locals::exits_first_iteration(call, *lp, src))
        .is_some();
    match target.kind() {
        "identifier" if text(target, src) == "_" => Some(matched(
            file,
            call,
            "_".to_string(),
            format!(
                "the ticker from time.NewTicker in {where_} is discarded and can never be stopped"
            ),
        )),
        "identifier" => {
            let name = text(target, src);
            let Some(decl) = flow::declaring_ident(target, src) else {
                return package_ticker(pkg, file, call, name, &where_, in_loop);
            };
            local_ticker(file, call, &b, decl, name, &where_, in_loop)
        }
        "selector_expression" => {
            let field = target.child_by_field_name("field")?;
            let field = text(field, src);
            let stop = format!(".{field}.Stop");
            if locals::package_calls(pkg, |t| t.ends_with(&stop)) {
                return None;
            }
            if !in_loop && locals::runs_once(call, src) {
                return None;
            }
            let mut m = matched(
                file,
                call,
                text(target, src).to_string(),
                format!("the ticker from time.NewTicker in {where_} is stored in field \"{field}\" and nothing in the package stops it"),
            );
            m.declaration = locals::field_declaration(pkg, field);
            Some(m)
        }
        // Stored in a map or slice element: its owner may stop it later.
        _ => None,
    }
}

/// A ticker assigned to a package-level variable.
fn package_ticker(
    pkg: &Package,
    file: &SourceFile,
    call: Node<'_>,
    name: &str,
    where_: &str,
    in_loop: bool,
) -> Option<Match> {
    let stop = format!("{name}.Stop");
    if locals::package_calls(pkg, |t| t == stop) {
        return None;
    }
    if !in_loop && (syntax::is_package_level(call) || locals::runs_once(call, &file.text)) {
        return None;
    }
    let mut m = matched(
        file,
        call,
        name.to_string(),
        format!("package-level ticker \"{name}\" is created by time.NewTicker in {where_} and never stopped"),
    );
    m.declaration = locals::package_declaration(pkg, name);
    Some(m)
}

/// A ticker held in a local variable.
fn local_ticker(
    file: &SourceFile,
    call: Node<'_>,
    b: &locals::Binding<'_>,
    decl: Node<'_>,
    name: &str,
    where_: &str,
    in_loop: bool,
) -> Option<Match> {
    let src: &str = &file.text;
    let refs = locals::references_after(decl, b.stmt, src);
    let mut captured = false;
    for r in &refs {
        let (chain, top) = locals::selector_chain(*r, src);
        match chain.first().copied() {
            Some("Stop") => return None,
            // Reading the channel or resetting the ticker keeps it local.
            Some(_) => {}
            None => match locals::context(top, src) {
                Ctx::Escapes | Ctx::Arg(_) => return None,
                Ctx::Called(_) | Ctx::Assigned | Ctx::Other => {}
            },
        }
        if locals::in_nested_literal(*r, decl) {
            captured = true;
        }
    }
    if !in_loop && (locals::runs_once(call, src) || ends_in_endless_loop(call, src)) {
        return None;
    }
    let message = if in_loop {
        format!("ticker \"{name}\" from time.NewTicker is created on every iteration of a loop in {where_} and never stopped")
    } else {
        format!("ticker \"{name}\" from time.NewTicker in {where_} is never stopped")
    };
    let mut m = matched(file, call, name.to_string(), message);
    m.declaration = Some(file.location(decl));
    let fixable = b.define && !in_loop && !captured && locals::loop_in_function(call).is_none();
    if fixable {
        if let Some(edit) =
            locals::insert_after_statement(file, b.stmt, &format!("defer {name}.Stop()"))
        {
            m.fixes.push(Fix {
                title: format!("Stop the ticker when {where_} returns (defer {name}.Stop())"),
                edits: vec![edit],
            });
        }
    }
    Some(m)
}

/// Function-local analysis on the syntax tree that several rules share: imports, name
/// resolution with Go's scoping, references of a local, where a call's results are
/// bound, how a value is used, loops and terminating statements, and where a value was
/// allocated.
pub(crate) mod locals {
    use std::path::Path;

    use tree_sitter::Node;

    use crate::rules::flow::{
        declaring_ident, field_nodes, items, named, parent_skipping_parens, unparen,
    };
    use crate::rules::syntax::{self, text};
    use crate::rules::{Location, Package, SourceFile, TextEdit};
    use crate::source::model::{OpKind, Span};

    /// For a call `pkg.F(...)` where `pkg` is the import name `pkg` and no local
    /// declaration shadows it, the name `F`.
    pub(crate) fn qualified_call<'a>(call: Node<'_>, src: &'a str, pkg: &str) -> Option<&'a str> {
        if call.kind() != "call_expression" {
            return None;
        }
        let f = unparen(call.child_by_field_name("function")?);
        qualified(f, src, pkg)
    }

    /// For a selector `pkg.Name` where `pkg` is the import name `pkg` (not shadowed),
    /// the name.
    pub(crate) fn qualified<'a>(sel: Node<'_>, src: &'a str, pkg: &str) -> Option<&'a str> {
        if sel.kind() != "selector_expression" {
            return None;
        }
        let operand = sel.child_by_field_name("operand")?;
        if operand.kind() != "identifier" || text(operand, src) != pkg {
            return None;
        }
        if declaring_ident(operand, src).is_some() {
            return None;
        }
        sel.child_by_field_name("field").map(|f| text(f, src))
    }

    /// Every identifier that refers to the declaration `decl` (itself excluded), in
    /// document order.
    pub(crate) fn references<'t>(decl: Node<'t>, src: &str) -> Vec<Node<'t>> {
        let name = text(decl, src);
        let scope = syntax::enclosing_declaration(decl)
            .or_else(|| syntax::enclosing_function(decl))
            .unwrap_or(decl);
        syntax::descendants_of_kind(scope, "identifier")
            .filter(|n| *n != decl && text(*n, src) == name)
            .filter(|n| declaring_ident(*n, src) == Some(decl))
            .collect()
    }

    /// The references of `decl` that can see the value bound by `stmt`: those after the
    /// statement, and, when the statement is in a loop, any in that loop.
    pub(crate) fn references_after<'t>(decl: Node<'t>, stmt: Node<'t>, src: &str) -> Vec<Node<'t>> {
        let lp = loop_in_function(stmt).filter(|l| l.start_byte() > decl.start_byte());
        references(decl, src)
            .into_iter()
            .filter(|r| {
                r.start_byte() >= stmt.end_byte()
                    || lp.is_some_and(|l| {
                        l.start_byte() <= r.start_byte() && r.end_byte() <= l.end_byte()
                    })
            })
            .filter(|r| !(stmt.start_byte() <= r.start_byte() && r.end_byte() <= stmt.end_byte()))
            .collect()
    }

    /// Whether `r` sits inside a function literal that is itself inside the function
    /// declaring `decl`.
    pub(crate) fn in_nested_literal(r: Node<'_>, decl: Node<'_>) -> bool {
        let home = syntax::enclosing_function(decl);
        syntax::enclosing_function(r) != home
    }

    /// Where a call's results go.
    #[derive(Debug, Clone)]
    pub(crate) struct Binding<'t> {
        /// The statement: `short_var_declaration`, `assignment_statement` or the `var`
        /// declaration.
        pub stmt: Node<'t>,
        /// The left-hand side expressions, in order.
        pub left: Vec<Node<'t>>,
        /// The position of the call among the right-hand side values.
        pub index: usize,
        /// How many right-hand side values there are.
        pub values: usize,
        /// `:=` or `var`, not `=`.
        pub define: bool,
    }

    impl<'t> Binding<'t> {
        /// The target of a single-valued call.
        pub(crate) fn target(&self) -> Option<Node<'t>> {
            if self.left.len() == self.values {
                self.left.get(self.index).copied()
            } else {
                None
            }
        }

        /// The targets of a multi-valued call (the only value on the right).
        pub(crate) fn results(&self) -> Option<&[Node<'t>]> {
            (self.values == 1).then_some(self.left.as_slice())
        }
    }

    /// Where the results of `call` are bound, if it is a value of a `:=`, `=` or `var`.
    pub(crate) fn binding_of(call: Node<'_>) -> Option<Binding<'_>> {
        let mut value = call;
        let mut p = call.parent()?;
        while p.kind() == "parenthesized_expression" {
            value = p;
            p = p.parent()?;
        }
        let holder = if p.kind() == "expression_list" {
            p.parent()?
        } else {
            p
        };
        let (right_field, left_field) = match holder.kind() {
            "short_var_declaration" | "assignment_statement" => ("right", "left"),
            "var_spec" => ("value", "name"),
            _ => return None,
        };
        let right = items(holder.child_by_field_name(right_field));
        let index = right.iter().position(|n| *n == value)?;
        let (left, define, stmt) = if holder.kind() == "var_spec" {
            let decl = syntax::ancestors(holder)
                .find(|a| a.kind() == "var_declaration")
                .unwrap_or(holder);
            (field_nodes(holder, left_field), true, decl)
        } else {
            let plain = holder
                .child_by_field_name("operator")
                .is_none_or(|o| o.kind() == "=");
            if holder.kind() == "assignment_statement" && !plain {
                return None;
            }
            (
                items(holder.child_by_field_name(left_field)),
                holder.kind() == "short_var_declaration",
                holder,
            )
        };
        Some(Binding {
            stmt,
            left,
            index,
            values: right.len(),
            define,
        })
    }

    /// For a reference `r`, the fields and methods selected on it (`resp.Body.Close` gives
    /// `["Body", "Close"]`) and the outermost selector (or `r` itself).
    pub(crate) fn selector_chain<'t, 'a>(r: Node<'t>, src: &'a str) -> (Vec<&'a str>, Node<'t>) {
        let mut chain = Vec::new();
        let mut top = r;
        while let Some(p) = parent_skipping_parens(top) {
            if p.kind() != "selector_expression"
                || p.child_by_field_name("operand").map(unparen) != Some(top)
            {
                break;
            }
            if let Some(f) = p.child_by_field_name("field") {
                chain.push(text(f, src));
            }
            top = p;
        }
        (chain, top)
    }

    /// How an expression's value is used by what surrounds it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Ctx<'t> {
        /// Called: `x()` or `x.M()` where the expression is the callee.
        Called(Node<'t>),
        /// Passed as an argument of this call.
        Arg(Node<'t>),
        /// Returned, stored, sent, captured by address or copied to another name.
        Escapes,
        /// Overwritten (the left side of `=`).
        Assigned,
        /// Compared, dereferenced, used in a condition.
        Other,
    }

    /// How the expression `e` is used.
    pub(crate) fn context<'t>(e: Node<'t>, src: &str) -> Ctx<'t> {
        let mut child = e;
        let Some(mut p) = e.parent() else {
            return Ctx::Other;
        };
        while p.kind() == "parenthesized_expression" {
            child = p;
            match p.parent() {
                Some(pp) => p = pp,
                None => return Ctx::Other,
            }
        }
        match p.kind() {
            "call_expression" if p.child_by_field_name("function") == Some(child) => Ctx::Called(p),
            "argument_list" => p.parent().map_or(Ctx::Other, Ctx::Arg),
            "return_statement" | "send_statement" | "keyed_element" | "literal_element"
            | "literal_value" | "go_statement" | "defer_statement" => {
                if p.kind() == "send_statement" && p.child_by_field_name("channel") == Some(child) {
                    Ctx::Other
                } else {
                    Ctx::Escapes
                }
            }
            "unary_expression" => {
                let op = p.child_by_field_name("operator").map(|o| text(o, src));
                if op == Some("&") {
                    Ctx::Escapes
                } else {
                    Ctx::Other
                }
            }
            "expression_list" => {
                let Some(g) = p.parent() else {
                    return Ctx::Other;
                };
                match g.kind() {
                    "return_statement" => Ctx::Escapes,
                    "short_var_declaration"
                    | "assignment_statement"
                    | "var_spec"
                    | "range_clause" => {
                        let left = g.child_by_field_name("left") == Some(p);
                        if left {
                            Ctx::Assigned
                        } else {
                            Ctx::Escapes
                        }
                    }
                    _ => Ctx::Other,
                }
            }
            "short_var_declaration" | "assignment_statement" | "var_spec" => {
                if p.child_by_field_name("left") == Some(child) {
                    Ctx::Assigned
                } else {
                    Ctx::Escapes
                }
            }
            _ => Ctx::Other,
        }
    }

    /// The innermost `for` loop of the same function that runs `node` repeatedly: `node`
    /// is in its body, condition or post statement (not its range expression or init).
    pub(crate) fn loop_around(node: Node<'_>) -> Option<Node<'_>> {
        let mut child = node;
        for anc in syntax::ancestors(node) {
            if syntax::is_function(anc.kind()) {
                return None;
            }
            match anc.kind() {
                "for_statement" if anc.child_by_field_name("body") == Some(child) => {
                    return Some(anc)
                }
                "for_clause" => {
                    let repeats = anc.child_by_field_name("condition") == Some(child)
                        || anc.child_by_field_name("update") == Some(child);
                    if repeats {
                        return anc.parent();
                    }
                }
                _ => {}
            }
            child = anc;
        }
        None
    }

    /// Any `for` loop of the same function around `node` that repeats it.
    pub(crate) fn loop_in_function(node: Node<'_>) -> Option<Node<'_>> {
        let mut cur = node;
        loop {
            if let Some(l) = loop_around(cur) {
                return Some(l);
            }
            let p = cur.parent()?;
            if syntax::is_function(p.kind()) {
                return None;
            }
            cur = p;
        }
    }

    /// The label of a labeled loop.
    fn label_of<'a>(lp: Node<'_>, src: &'a str) -> Option<&'a str> {
        let p = lp.parent()?;
        (p.kind() == "labeled_statement")
            .then(|| p.child_by_field_name("label"))
            .flatten()
            .map(|l| text(l, src))
    }

    /// The statement a `break` without a label leaves.
    fn break_target(brk: Node<'_>) -> Option<Node<'_>> {
        syntax::ancestors(brk)
            .take_while(|a| !syntax::is_function(a.kind()))
            .find(|a| {
                matches!(
                    a.kind(),
                    "for_statement"
                        | "expression_switch_statement"
                        | "type_switch_statement"
                        | "select_statement"
                )
            })
    }

    /// Whether a call statement ends the program or the goroutine: `panic`, `os.Exit`,
    /// `log.Fatal*`, `log.Panic*`, `runtime.Goexit`.
    pub(crate) fn is_fatal_call(stmt: Node<'_>, src: &str) -> bool {
        let call = if stmt.kind() == "expression_statement" {
            stmt.named_child(0).map(unparen)
        } else {
            None
        };
        let Some(callee) = call.and_then(|c| syntax::callee(c, src)) else {
            return false;
        };
        matches!(callee, "panic" | "os.Exit" | "runtime.Goexit")
            || callee.starts_with("log.Fatal")
            || callee.starts_with("log.Panic")
    }

    /// Whether the statement `stmt` always leaves the loop `lp` (or the function).
    pub(crate) fn leaves_loop(stmt: Node<'_>, lp: Node<'_>, src: &str) -> bool {
        match stmt.kind() {
            "return_statement" | "goto_statement" => true,
            "break_statement" => match stmt.named_child(0) {
                Some(label) => label_of(lp, src) == Some(text(label, src)),
                None => break_target(stmt) == Some(lp),
            },
            "continue_statement" => stmt.named_child(0).is_some_and(|label| {
                let target = text(label, src);
                // Continuing an outer loop leaves this one.
                syntax::ancestors(lp)
                    .take_while(|a| !syntax::is_function(a.kind()))
                    .any(|a| a.kind() == "for_statement" && label_of(a, src) == Some(target))
            }),
            "block" => named(stmt).last().is_some_and(|l| leaves_loop(*l, lp, src)),
            "statement_list" => named(stmt).into_iter().any(|s| leaves_loop(s, lp, src)),
            "if_statement" => {
                let cons = stmt.child_by_field_name("consequence");
                let alt = stmt.child_by_field_name("alternative");
                match (cons, alt) {
                    (Some(c), Some(a)) => leaves_loop(c, lp, src) && leaves_loop(a, lp, src),
                    _ => false,
                }
            }
            _ => is_fatal_call(stmt, src),
        }
    }

    /// Whether every path from `node` to the end of the loop body leaves the loop `lp`:
    /// some statement after `node` in each block up to the loop body always leaves it.
    pub(crate) fn exits_first_iteration(node: Node<'_>, lp: Node<'_>, src: &str) -> bool {
        let mut child = node;
        for anc in syntax::ancestors(node) {
            if anc == lp {
                return false;
            }
            if anc.kind() == "statement_list" {
                let after = named(anc)
                    .into_iter()
                    .filter(|s| s.start_byte() >= child.start_byte());
                for s in after {
                    if leaves_loop(s, lp, src) {
                        return true;
                    }
                }
            }
            child = anc;
        }
        false
    }

    /// Whether a `for` loop never ends: no condition (or a range over a ticker or timer
    /// channel), and no `return`, `break` or `goto` out of it.
    pub(crate) fn is_endless(lp: Node<'_>, src: &str) -> bool {
        let header = named(lp)
            .into_iter()
            .find(|c| c.kind() != "block" && c.kind() != "comment");
        let forever = match header {
            None => true,
            Some(h) if h.kind() == "for_clause" => h.child_by_field_name("condition").is_none(),
            Some(h) if h.kind() == "range_clause" => {
                h.child_by_field_name("right").is_some_and(|r| {
                    let t = text(r, src);
                    t.ends_with(".C") || t.contains("time.Tick(")
                })
            }
            Some(_) => false,
        };
        if !forever {
            return false;
        }
        let Some(body) = lp.child_by_field_name("body") else {
            return true;
        };
        !syntax::descendants(body).any(|n| {
            if syntax::enclosing_function(n) != syntax::enclosing_function(lp) {
                return false;
            }
            match n.kind() {
                "return_statement" | "goto_statement" => true,
                "break_statement" => leaves_loop(n, lp, src),
                "expression_statement" => is_fatal_call(n, src),
                _ => false,
            }
        })
    }

    /// Whether `node` runs at most once per process: at package level, or in `main` or
    /// `init` of package `main`/`init` of any package, through function literals that
    /// are not in loops.
    pub(crate) fn runs_once(node: Node<'_>, src: &str) -> bool {
        let mut cur = node;
        loop {
            if loop_around(cur).is_some() {
                return false;
            }
            let Some(f) = syntax::enclosing_function(cur) else {
                return true;
            };
            match f.kind() {
                "func_literal" => cur = f,
                "function_declaration" => {
                    let name = syntax::function_name(f, src);
                    let main_pkg = package_name(f, src) == Some("main");
                    return name == Some("init") || (name == Some("main") && main_pkg);
                }
                _ => return false,
            }
        }
    }

    /// The package clause's name of the file holding `node`.
    pub(crate) fn package_name<'a>(node: Node<'_>, src: &'a str) -> Option<&'a str> {
        let root = syntax::ancestors(node).last().unwrap_or(node);
        named(root)
            .into_iter()
            .find(|c| c.kind() == "package_clause")
            .and_then(|c| c.named_child(0))
            .map(|n| text(n, src))
    }

    /// The name of the declared function or method around `node` as profiles show it
    /// (`Poll`, `(*Conn).serve`), or `a package-level initializer`.
    pub(crate) fn function_label(file: &SourceFile, node: Node<'_>) -> String {
        let Some(decl) = syntax::enclosing_declaration(node) else {
            return "a package-level initializer".to_string();
        };
        file.summary
            .functions
            .iter()
            .find(|f| f.span.start_byte == decl.start_byte())
            .map(|f| f.name.clone())
            .or_else(|| syntax::function_name(decl, &file.text).map(str::to_string))
            .unwrap_or_else(|| "this function".to_string())
    }

    /// The name of the innermost function around `node`, literals included, as profiles
    /// show it (`Serve.func1`).
    pub(crate) fn innermost_function_label(file: &SourceFile, node: Node<'_>) -> String {
        let Some(func) = syntax::enclosing_function(node) else {
            return "a package-level initializer".to_string();
        };
        file.summary
            .functions
            .iter()
            .find(|f| f.span.start_byte == func.start_byte() && f.span.end_byte == func.end_byte())
            .map(|f| f.name.clone())
            .unwrap_or_else(|| function_label(file, node))
    }

    /// Whether any call in the package's program files has a callee text matching.
    pub(crate) fn package_calls(pkg: &Package, pred: impl Fn(&str) -> bool) -> bool {
        pkg.program_files().any(|f| {
            f.summary
                .ops
                .iter()
                .any(|op| op.kind == OpKind::Call && pred(&op.target))
        })
    }

    /// The declaration of a package-level variable.
    pub(crate) fn package_declaration(pkg: &Package, name: &str) -> Option<Location> {
        pkg.files.iter().find_map(|f| {
            f.summary
                .decls
                .iter()
                .find(|d| d.name == name)
                .map(|d| Location {
                    file: f.summary.path.clone(),
                    span: d.span,
                })
        })
    }

    /// The declaration of a struct field with this name, when exactly one struct of the
    /// package has one.
    pub(crate) fn field_declaration(pkg: &Package, field: &str) -> Option<Location> {
        let mut found = Vec::new();
        for f in &pkg.files {
            for s in &f.summary.structs {
                for fd in s.fields.iter().filter(|fd| fd.name == field) {
                    found.push(Location {
                        file: f.summary.path.clone(),
                        span: fd.span,
                    });
                }
            }
        }
        (found.len() == 1).then(|| found.remove(0))
    }

    /// An edit inserting `line` as a new line after the statement `stmt`, with the
    /// statement's indentation. `None` when the statement is not directly in a block.
    pub(crate) fn insert_after_statement(
        file: &SourceFile,
        stmt: Node<'_>,
        line: &str,
    ) -> Option<TextEdit> {
        let parent = stmt.parent()?;
        if parent.kind() != "statement_list" {
            return None;
        }
        // Another statement after it on the same line (`a; b`): keep it simple.
        let next_on_line = named(parent).into_iter().any(|s| {
            s.start_byte() >= stmt.end_byte() && s.start_position().row == stmt.end_position().row
        });
        if next_on_line {
            return None;
        }
        let src: &str = &file.text;
        let line_start = src
            .get(..stmt.start_byte())?
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let indent = src.get(line_start..stmt.start_byte())?;
        if !indent.chars().all(|c| c == ' ' || c == '\t') {
            // Something precedes the statement on its line: keep it simple.
            return None;
        }
        let at = src
            .get(stmt.end_byte()..)?
            .find('\n')
            .map_or(src.len(), |i| stmt.end_byte() + i);
        Some(TextEdit {
            file: file.summary.path.clone(),
            start_byte: at,
            end_byte: at,
            new_text: format!("\n{indent}{line}"),
        })
    }

    /// A location for whole lines of a node.
    fn loc(path: &Path, node: Node<'_>) -> Location {
        Location {
            file: path.to_path_buf(),
            span: syntax::span(node),
        }
    }

    /// The allocation sites of the value of `expr`, followed back within the function:
    /// the composite literal, `make`, `new` or call that built it (the statement that
    /// holds it), through local variables, and into the body of a function of the same
    /// package it came from. `depth` bounds the search.
    pub(crate) fn origins(
        pkg: &Package,
        file: &SourceFile,
        expr: Node<'_>,
        depth: u32,
        out: &mut Vec<Location>,
    ) {
        if depth == 0 {
            return;
        }
        let src: &str = &file.text;
        let e = unparen(expr);
        match e.kind() {
            "identifier" => {
                let Some(decl) = declaring_ident(e, src) else {
                    return;
                };
                for value in assigned_values(decl, e, src) {
                    origins(pkg, file, value, depth - 1, out);
                }
            }
            "unary_expression" => {
                if let Some(op) = e.child_by_field_name("operand") {
                    let op = unparen(op);
                    if op.kind() == "composite_literal" {
                        push_unique(out, loc(file.path(), syntax::statement_of(e)));
                    } else {
                        origins(pkg, file, op, depth - 1, out);
                    }
                }
            }
            "composite_literal" => push_unique(out, loc(file.path(), syntax::statement_of(e))),
            "call_expression" => {
                let Some(f) = e.child_by_field_name("function").map(unparen) else {
                    return;
                };
                if f.kind() == "identifier" && declaring_ident(f, src).is_none() {
                    let name = text(f, src);
                    if matches!(name, "make" | "new" | "append") {
                        push_unique(out, loc(file.path(), syntax::statement_of(e)));
                        return;
                    }
                    if let Some(body) = package_function_body(pkg, name) {
                        push_unique(out, loc(file.path(), syntax::statement_of(e)));
                        push_unique(out, body);
                        if let Some((ff, decl)) = crate::rules::flow::package_function(pkg, name) {
                            crate::rules::flow::pool_news(pkg, ff, decl, out);
                        }
                    }
                    return;
                }
                // A standard library producer (`os.Open`, `bufio.NewReaderSize`,
                // `context.WithValue`): its allocations are charged to this line.
                push_unique(out, loc(file.path(), syntax::statement_of(e)));
                if f.kind() == "selector_expression" {
                    // A method of this package (`s.getBuf()`), when one type has it:
                    // what it allocates is part of the value, inlined or not.
                    let operand = f.child_by_field_name("operand");
                    let is_import = operand.is_some_and(|o| {
                        o.kind() == "identifier"
                            && declaring_ident(o, src).is_none()
                            && crate::rules::flow::imports(file)
                                .iter()
                                .any(|(n, _)| n == text(o, src))
                    });
                    let method = f.child_by_field_name("field").map(|x| text(x, src));
                    if let (false, Some(m)) = (is_import, method) {
                        if let Some(body) = package_method_body(pkg, m) {
                            push_unique(out, body);
                            if let [(mf, decl)] =
                                crate::rules::flow::package_methods(pkg, m).as_slice()
                            {
                                crate::rules::flow::pool_news(pkg, mf, *decl, out);
                            }
                        }
                    }
                    crate::rules::flow::pool_news(pkg, file, e, out);
                    let is_with_value = f
                        .child_by_field_name("field")
                        .is_some_and(|x| text(x, src) == "WithValue");
                    if is_with_value {
                        for arg in syntax::call_args(e) {
                            origins(pkg, file, arg, depth - 1, out);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn push_unique(out: &mut Vec<Location>, l: Location) {
        if !out.contains(&l) {
            out.push(l);
        }
    }

    /// The values assigned to the variable declared at `decl` before `use_`: the
    /// initializer and plain `=` assignments, each the matching right-hand side.
    fn assigned_values<'t>(decl: Node<'t>, use_: Node<'t>, src: &str) -> Vec<Node<'t>> {
        let mut out = Vec::new();
        let mut targets = vec![decl];
        targets.extend(
            references(decl, src)
                .into_iter()
                .filter(|r| r.start_byte() < use_.start_byte())
                .filter(|r| context(*r, src) == Ctx::Assigned),
        );
        for t in targets {
            let Some(list) = t.parent() else { continue };
            let holder = if list.kind() == "expression_list" {
                list.parent()
            } else {
                Some(list)
            };
            let Some(holder) = holder else { continue };
            let (left, right) = match holder.kind() {
                "short_var_declaration" | "assignment_statement" => {
                    (list_field(holder, "left"), list_field(holder, "right"))
                }
                "var_spec" => (field_nodes(holder, "name"), list_field(holder, "value")),
                _ => continue,
            };
            if left.len() == right.len() {
                if let Some(v) = left.iter().position(|l| *l == t).and_then(|i| right.get(i)) {
                    out.push(*v);
                }
            } else if let [call] = right.as_slice() {
                // A multi-valued call: the call produced the value.
                out.push(*call);
            }
        }
        out
    }

    fn list_field<'t>(n: Node<'t>, field: &str) -> Vec<Node<'t>> {
        items(n.child_by_field_name(field))
    }

    /// The body of the package-level function `name`, in whichever file declares it.
    pub(crate) fn package_function_body(pkg: &Package, name: &str) -> Option<Location> {
        pkg.program_files().find_map(|f| {
            let root = f.tree.root_node();
            named(root)
                .into_iter()
                .filter(|d| d.kind() == "function_declaration")
                .find(|d| syntax::function_name(*d, &f.text) == Some(name))
                .and_then(|d| d.child_by_field_name("body"))
                .map(|b| Location {
                    file: f.summary.path.clone(),
                    span: body_lines(b),
                })
        })
    }

    /// The body of the method `name`, when exactly one type of the package has one.
    pub(crate) fn package_method_body(pkg: &Package, name: &str) -> Option<Location> {
        match crate::rules::flow::package_methods(pkg, name).as_slice() {
            [(f, decl)] => decl.child_by_field_name("body").map(|b| Location {
                file: f.summary.path.clone(),
                span: body_lines(b),
            }),
            _ => None,
        }
    }

    /// The lines strictly inside a block (without its braces' own lines when they hold
    /// nothing else).
    fn body_lines(block: Node<'_>) -> Span {
        let mut s = syntax::span(block);
        if s.end_line > s.start_line + 1 {
            s.start_line += 1;
            s.end_line -= 1;
        }
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use expect_test::expect;

    use super::TickerNotStopped;
    use crate::rules::testing::{apply_first_fix, check};

    /// Writes `main.go` (package main) with `text` and a go.mod (`go 1.22`) to a temporary
    /// directory and runs `go vet` there (which type-checks it), so a fix is proven to
    /// compile and to pass vet. Skipped with a note when `go` is not installed.
    pub(crate) fn assert_go_vet(text: &str) {
        run_go(&["vet", "./..."], text);
    }

    /// Like [`assert_go_vet`] with `go build`: the fixed program compiles.
    pub(crate) fn assert_go_builds(text: &str) {
        run_go(&["build", "-o", "prog", "./..."], text);
    }

    fn run_go(args: &[&str], text: &str) {
        let dir = std::env::temp_dir().join(format!(
            "heapspot-gocheck-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("go.mod"), "module example.com/app\n\ngo 1.22\n").unwrap();
        std::fs::write(dir.join("main.go"), text).unwrap();
        let out = std::process::Command::new("go")
            .args(args)
            .current_dir(&dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        match out {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("note: go is not installed; the fixed program was not checked");
            }
            Err(e) => panic!("running go {args:?}: {e}"),
            Ok(o) => assert!(
                o.status.success(),
                "go {args:?} failed on the fixed program:\n{}\n{text}",
                String::from_utf8_lossy(&o.stderr)
            ),
        }
    }

    /// Runs `rule` over the fixture program `tests/fixtures/<case>` and checks that it
    /// reports exactly the lines marked `// want <rule-id>`; returns the matches rendered.
    pub(crate) fn assert_fixture_wants(rule: &dyn crate::rules::Rule, case: &str) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(case)
            .canonicalize()
            .unwrap();
        let id = rule.meta().id;
        let marker = format!("// want {id}");
        let mut want = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "go") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for (i, line) in text.lines().enumerate() {
                        if line.trim_end().ends_with(&marker) {
                            want.push((p.clone(), u32::try_from(i + 1).unwrap()));
                        }
                    }
                }
            }
        }
        want.sort();
        assert!(!want.is_empty(), "{case} marks no line with {marker}");
        let ws = crate::source::index::Workspace::load(&dir).unwrap();
        let matches = crate::rules::run(&ws, &|r| r == id, &[]);
        let mut got: Vec<_> = matches
            .iter()
            .map(|m| (m.location.file.clone(), m.location.span.start_line))
            .collect();
        got.sort();
        assert_eq!(
            got, want,
            "{case}: {id} matches differ from the want markers"
        );
        let mut out = String::new();
        for m in &matches {
            let rel = |p: &std::path::Path| p.strip_prefix(&dir).unwrap_or(p).display().to_string();
            let ev: Vec<String> = m
                .evidence
                .iter()
                .map(|l| format!("{}:{}-{}", rel(&l.file), l.span.start_line, l.span.end_line))
                .collect();
            out.push_str(&format!(
                "{}:{} [{}] {}\n  evidence {}\n",
                rel(&m.location.file),
                m.location.span.start_line,
                m.subject,
                m.message,
                ev.join(" ")
            ));
        }
        out
    }

    #[test]
    fn fixture_program_leak_timers() {
        let got = assert_fixture_wants(&TickerNotStopped, "leak-timers");
        expect![[r#"
            main.go:55 [t] ticker "t" from time.NewTicker in waitForSlot is never stopped
              evidence main.go:55-55
        "#]]
        .assert_eq(&got);
    }

    #[test]
    fn locals_resolve_follows_go_scoping() {
        let src = r#"package p

var v = 0

func F(v int) {
	use(v)
	if v := v + 1; v > 0 {
		use(v)
	} else {
		use(v)
	}
	use(v)
	for v := 0; v < 3; v++ {
		use(v)
	}
	for _, v := range []int{v} {
		use(v)
	}
	switch v := any(v).(type) {
	case int:
		use(v)
	}
	select {
	case v := <-ch:
		use(v)
	}
	v, w := 1, 2
	use(v, w)
	func() {
		use(v)
		v := 3
		use(v)
	}()
	{
		var v = 4
		use(v)
	}
	use(v)
}

func G() { use(v) }
"#;
        let tree = crate::source::parse::parse_tree(src, None).unwrap();
        let mut out = String::new();
        for id in crate::rules::syntax::descendants_of_kind(tree.root_node(), "identifier") {
            if crate::rules::syntax::text(id, src) != "v" {
                continue;
            }
            let parent = id.parent().map(|p| p.kind()).unwrap_or("");
            let in_use = parent == "argument_list";
            if !in_use {
                continue;
            }
            let to = match super::flow::declaring_ident(id, src) {
                Some(d) => format!("line {}", d.start_position().row + 1),
                None => "package level".to_string(),
            };
            out.push_str(&format!("{} -> {to}\n", id.start_position().row + 1));
        }
        expect![[r#"
            6 -> line 5
            8 -> line 7
            10 -> line 7
            12 -> line 5
            14 -> line 13
            17 -> line 16
            19 -> line 5
            21 -> line 19
            25 -> line 24
            28 -> line 5
            30 -> line 5
            32 -> line 31
            36 -> line 35
            38 -> line 5
            41 -> package level
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn per_call_ticker_never_stopped() {
        check(
            &TickerNotStopped,
            r#"
-- poll.go --
package app

import "time"

// WaitReady polls until ready reports true.
func WaitReady(ready func() bool, every time.Duration) {
	t := time.NewTicker(every)
	for !ready() {
		<-t.C
	}
}

type Conn struct{}

func (c *Conn) keepAlive(every time.Duration) {
	var t = time.NewTicker(every)
	select {
	case <-t.C:
	}
}
"#,
            expect![[r#"
                poll.go:7 ticker-not-stopped [t] ticker "t" from time.NewTicker in WaitReady is never stopped
                  declared poll.go:7
                  evidence poll.go:7
                  fix: Stop the ticker when WaitReady returns (defer t.Stop())
                poll.go:16 ticker-not-stopped [t] ticker "t" from time.NewTicker in (*Conn).keepAlive is never stopped
                  declared poll.go:16
                  evidence poll.go:16
                  fix: Stop the ticker when (*Conn).keepAlive returns (defer t.Stop())
            "#]],
        );
    }

    #[test]
    fn tickers_in_loops_and_unstoppable_ones() {
        check(
            &TickerNotStopped,
            r#"
-- loop.go --
package app

import (
	clock "time"
)

func Each(items []string, every clock.Duration) {
	for _, it := range items {
		t := clock.NewTicker(every)
		<-t.C
		_ = it
	}
}

func Beat(every clock.Duration) <-chan clock.Time {
	return clock.Tick(every)
}

func Once(every clock.Duration) {
	<-clock.NewTicker(every).C
}

func Drop(every clock.Duration) {
	_ = clock.NewTicker(every)
}

func main() {
	for i := 0; i < 10; i++ {
		<-clock.Tick(clock.Second)
	}
}
"#,
            expect![[r#"
                loop.go:9 ticker-not-stopped [t] ticker "t" from time.NewTicker is created on every iteration of a loop in Each and never stopped
                  declared loop.go:9
                  evidence loop.go:9
                loop.go:16 ticker-not-stopped [time.Tick] time.Tick in Beat creates a ticker on every call that can never be stopped
                  evidence loop.go:16
                loop.go:20 ticker-not-stopped [time.NewTicker(…).C] time.NewTicker(…).C in Once creates a ticker on every call that can never be stopped
                  evidence loop.go:20
                loop.go:24 ticker-not-stopped [_] the ticker from time.NewTicker in Drop is discarded and can never be stopped
                  evidence loop.go:24
                loop.go:29 ticker-not-stopped [time.Tick] time.Tick inside a loop in main creates a ticker on every iteration that can never be stopped
                  evidence loop.go:29
            "#]],
        );
    }

    #[test]
    fn captured_by_a_goroutine_is_reported_without_a_fix() {
        check(
            &TickerNotStopped,
            r#"
-- watch.go --
package app

import "time"

func WatchQueue(tenant string, every time.Duration) {
	t := time.NewTicker(every)
	go func() {
		for range t.C {
			_ = tenant
		}
	}()
}
"#,
            expect![[r#"
                watch.go:6 ticker-not-stopped [t] ticker "t" from time.NewTicker in WatchQueue is never stopped
                  declared watch.go:6
                  evidence watch.go:6
            "#]],
        );
    }

    #[test]
    fn shadowed_ticker_names_are_told_apart() {
        check(
            &TickerNotStopped,
            r#"
-- shadow.go --
package app

import "time"

func Retry(fast bool, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	if fast {
		t := time.NewTicker(d / 10)
		<-t.C
	}
	<-t.C
}
"#,
            expect![[r#"
                shadow.go:9 ticker-not-stopped [t] ticker "t" from time.NewTicker in Retry is never stopped
                  declared shadow.go:9
                  evidence shadow.go:9
                  fix: Stop the ticker when Retry returns (defer t.Stop())
            "#]],
        );
    }

    #[test]
    fn stopped_escaping_and_owned_tickers_are_not_reported() {
        check(
            &TickerNotStopped,
            r#"
-- ok.go --
package app

import "time"

func Deferred(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	<-t.C
}

func StoppedInGoroutine(d time.Duration, done chan struct{}) {
	t := time.NewTicker(d)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
}

func Returned(d time.Duration) *time.Ticker {
	t := time.NewTicker(d)
	return t
}

func ReturnedDirectly(d time.Duration) *time.Ticker {
	return time.NewTicker(d)
}

type Poller struct {
	t    *time.Ticker
	tick *time.Ticker
}

func NewPoller(d time.Duration) *Poller {
	t := time.NewTicker(d)
	return &Poller{t: t}
}

func (p *Poller) Start(d time.Duration) {
	p.tick = time.NewTicker(d)
}

func Handed(d time.Duration) {
	t := time.NewTicker(d)
	use(t)
}

func use(t *time.Ticker) { t.Stop() }

func Reassigned(d time.Duration) {
	var t *time.Ticker
	t = time.NewTicker(d)
	defer t.Stop()
	<-t.C
}

var global *time.Ticker

func StartGlobal(d time.Duration) {
	global = time.NewTicker(d)
}

func StopGlobal() { global.Stop() }
-- close.go --
package app

func (p *Poller) Close() { p.tick.Stop() }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn tickers_created_once_or_held_forever_are_not_reported() {
        check(
            &TickerNotStopped,
            r#"
-- main.go --
package main

import "time"

var heartbeat = time.NewTicker(time.Second)

var beat = time.Tick(time.Second)

func init() {
	go func() {
		for range time.Tick(time.Minute) {
			flush()
		}
	}()
}

func main() {
	t := time.NewTicker(time.Second)
	for range t.C {
		flush()
	}
}

// monitor runs for the life of the process.
func monitor() {
	t := time.NewTicker(time.Second)
	for {
		select {
		case <-t.C:
			flush()
		}
	}
}

func report() {
	for range time.Tick(time.Minute) {
		flush()
	}
}

func flush() {}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowed_package_tests_and_generated_files_are_skipped() {
        check(
            &TickerNotStopped,
            r#"
-- clock.go --
package app

import "time"

type fakeClock struct{}

func (fakeClock) NewTicker(d time.Duration) *time.Ticker { return nil }

func Shadowed(d time.Duration) {
	time := fakeClock{}
	t := time.NewTicker(d)
	_ = t
}
-- poll_test.go --
package app

import (
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	tk := time.NewTicker(time.Millisecond)
	<-tk.C
}
-- zz_generated.go --
// Code generated by tickgen. DO NOT EDIT.

package app

import "time"

func Generated(d time.Duration) {
	t := time.NewTicker(d)
	<-t.C
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn field_and_package_tickers_nobody_stops() {
        check(
            &TickerNotStopped,
            r#"
-- conn.go --
package app

import "time"

type Conn struct {
	idle *time.Ticker
}

var sweep *time.Ticker

func Dial(d time.Duration) *Conn {
	c := &Conn{}
	c.idle = time.NewTicker(d)
	return c
}

func StartSweep(d time.Duration) {
	sweep = time.NewTicker(d)
}
"#,
            expect![[r#"
                conn.go:13 ticker-not-stopped [c.idle] the ticker from time.NewTicker in Dial is stored in field "idle" and nothing in the package stops it
                  declared conn.go:6
                  evidence conn.go:13
                conn.go:18 ticker-not-stopped [sweep] package-level ticker "sweep" is created by time.NewTicker in StartSweep and never stopped
                  declared conn.go:9
                  evidence conn.go:18
            "#]],
        );
    }

    #[test]
    fn go_1_23_lowers_the_severity() {
        check(
            &TickerNotStopped,
            r#"
-- go.mod --
module example.com/app

go 1.23.4
-- poll.go --
package app

import "time"

func WaitReady(ready func() bool, every time.Duration) {
	t := time.NewTicker(every)
	for !ready() {
		<-t.C
	}
}
"#,
            expect![[r#"
                poll.go:6 ticker-not-stopped [t] ticker "t" from time.NewTicker in WaitReady is never stopped
                  declared poll.go:6
                  evidence poll.go:6
                  version: the module's go line (1.23) enables Go 1.23 timers: an unreferenced ticker is garbage collected even if never stopped
                  fix: Stop the ticker when WaitReady returns (defer t.Stop())
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &TickerNotStopped,
            r#"
-- broken.go --
package app

import "time"

func Broken(d time.Duration) {
	t := time.NewTicker(
	for {
		<-t.C
	if
}

func Half(d time.Duration) {
	t := time.NewTicker(d)
	<-t.C
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    const FIX: &str = r#"
-- main.go --
package main

import (
	"fmt"
	"time"
)

func waitReady(ready func() bool, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every) // poll
	for !ready() {
		<-t.C
	}
}

func main() {
	n := 0
	waitReady(func() bool { n++; return n > 2 }, time.Millisecond)
	fmt.Println(n)
}
"#;

    #[test]
    fn fix_defers_stop_after_the_statement() {
        let fixed = apply_first_fix(&TickerNotStopped, FIX, "main.go");
        expect![[r#"
            package main

            import (
            	"fmt"
            	"time"
            )

            func waitReady(ready func() bool, every time.Duration) {
            	if every <= 0 {
            		return
            	}
            	t := time.NewTicker(every) // poll
            	defer t.Stop()
            	for !ready() {
            		<-t.C
            	}
            }

            func main() {
            	n := 0
            	waitReady(func() bool { n++; return n > 2 }, time.Millisecond)
            	fmt.Println(n)
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_vet(&fixed);
        let again = FIX.replace("t := time.NewTicker(every) // poll", &fixed_line());
        check(&TickerNotStopped, &again, expect![["no matches\n"]]);
    }

    fn fixed_line() -> String {
        "t := time.NewTicker(every) // poll\n\tdefer t.Stop()".to_string()
    }
}

#[cfg(test)]
mod held_timer_tests {
    use expect_test::expect;

    use super::TickerNotStopped;
    use crate::rules::testing::check;

    /// An idle timer kept in each open trip: Close stops it before finish removes the
    /// trip, onPosition's ignition-off branch does not (reported on its call of finish);
    /// expire is the timer's own callback (quiet: the timer fired).
    #[test]
    fn a_timer_in_map_entries_removed_without_its_stop() {
        check(
            &TickerNotStopped,
            r#"
-- go.mod --
module example.com/app

go 1.26
-- a.go --
package a

import (
	"sync"
	"time"
)

type Trip struct {
	ID     string
	Points []int
	idle   *time.Timer
}

func (t *Trip) add(p int) { t.Points = append(t.Points, p) }

type Assembler struct {
	mu     sync.Mutex
	active map[string]*Trip
}

func (a *Assembler) open(id string) {
	t := &Trip{ID: id}
	t.idle = time.AfterFunc(time.Minute, func() { a.expire(t) })
	a.active[id] = t
}

func (a *Assembler) onPosition(id string, p int, ignition bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.active[id]
	if t == nil {
		a.open(id)
		return
	}
	t.add(p)
	if !ignition {
		a.finish(t)
	}
}

func (a *Assembler) expire(t *Trip) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.finish(t)
}

func (a *Assembler) finish(t *Trip) { delete(a.active, t.ID) }

func (a *Assembler) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.active {
		t.idle.Stop()
		a.finish(t)
	}
}
"#,
            expect![[r#"
                a.go:37 ticker-not-stopped [idle] (*Assembler).onPosition removes an entry of map field "active" through finish without stopping its timer: the Trip it removes keeps timer "idle" from time.AfterFunc, which (*Assembler).Close stops when it removes one (line 53), so the pending timer keeps its function and the Trip it holds until it fires
                  related a.go:23 the timer is started here
                  related a.go:53 released here when another path removes an entry
                  evidence a.go:14 a.go:22 a.go:23
            "#]],
        );
    }

    /// A tracker's entry keeps a timer and a batch of another package: removing the
    /// entry when the batch settles leaves the timer, and with its closure the batch,
    /// pending; the evidence is where the batch is made (its records).
    #[test]
    fn a_dropped_timer_weighs_what_its_holder_points_to() {
        check(
            &TickerNotStopped,
            r#"
-- go.mod --
module example.com/app

go 1.26
-- batch/batch.go --
package batch

type Batch struct {
	ID      uint64
	Records []string
}

func New(id uint64) *Batch {
	return &Batch{ID: id, Records: make([]string, 0, 512)}
}
-- ship/acks.go --
package ship

import (
	"sync"
	"time"

	"example.com/app/batch"
)

type pending struct {
	batch   *batch.Batch
	waiting int
	timer   *time.Timer
}

type Tracker struct {
	mu      sync.Mutex
	pending map[uint64]*pending
}

func (t *Tracker) Track(b *batch.Batch, sinks int) {
	p := &pending{batch: b, waiting: sinks}
	t.mu.Lock()
	defer t.mu.Unlock()
	p.timer = time.AfterFunc(10*time.Minute, func() { t.expire(p) })
	t.pending[b.ID] = p
}

func (t *Tracker) Ack(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.pending[id]
	if !ok {
		return
	}
	p.waiting--
	if p.waiting == 0 {
		delete(t.pending, id)
	}
}

func (t *Tracker) expire(p *pending) {}

func (t *Tracker) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, p := range t.pending {
		p.timer.Stop()
		delete(t.pending, id)
	}
}
"#,
            expect![[r#"
                ship/acks.go:38 ticker-not-stopped [timer] (*Tracker).Ack deletes an entry of map field "pending" without stopping its timer: the pending it removes keeps timer "timer" from time.AfterFunc, which (*Tracker).Close stops when it removes one (line 48), so the pending timer keeps its function and the pending it holds until it fires
                  related ship/acks.go:25 the timer is started here
                  related ship/acks.go:48 released here when another path removes an entry
                  evidence batch/batch.go:9 ship/acks.go:22 ship/acks.go:25
            "#]],
        );
    }

    /// Extend re-arms the hold's expiry timer without stopping the one it holds; Renew
    /// stops it first, and Place arms a hold it just built: those are quiet.
    #[test]
    fn a_timer_field_re_armed_without_stopping_the_old_one() {
        check(
            &TickerNotStopped,
            r#"
-- go.mod --
module example.com/app

go 1.26
-- holds.go --
package holds

import (
	"sync"
	"time"
)

type Hold struct {
	ID    string
	Chain [][]byte
	timer *time.Timer
}

type Book struct {
	mu    sync.Mutex
	ttl   time.Duration
	holds map[string]*Hold
}

func (b *Book) Place(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := &Hold{ID: id}
	h.timer = time.AfterFunc(b.ttl, func() { b.expire(h) })
	b.holds[id] = h
}

func (b *Book) Extend(id string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.holds[id]
	if !ok {
		return
	}
	h.Chain = append(h.Chain, append([]byte(nil), data...))
	h.timer = time.AfterFunc(b.ttl, func() { b.expire(h) })
}

func (b *Book) Renew(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.holds[id]
	h.timer.Stop()
	h.timer = time.AfterFunc(b.ttl, func() { b.expire(h) })
}

func (b *Book) Release(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.holds[id]
	delete(b.holds, id)
	h.timer.Stop()
}

func (b *Book) expire(h *Hold) {}
"#,
            expect![[r#"
                holds.go:36 ticker-not-stopped [h.timer] (*Book).Extend re-arms "h.timer" with a new timer from time.AfterFunc without stopping the one it holds: the old timer stays pending with its function and the Hold it captures until it fires, and the stop elsewhere reaches only the newest
                  related holds.go:43 stops only the timer the field holds last
                  evidence holds.go:36 holds.go:35 holds.go:23
            "#]],
        );
    }
}
