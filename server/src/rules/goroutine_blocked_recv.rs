//! `goroutine-blocked-recv`: a goroutine ranges over (or waits in an endless loop on) a
//! channel that nothing ever closes, so once the sends stop it blocks forever. Uses the
//! channel-flow analysis of `goroutine-blocked-send`.

use tree_sitter::Node;

use super::flow;
use super::goroutine_blocked_send::chans::{
    self, Chan, ChanUse, Exec, Funcs, GoSite, Origin, UseKind,
};
use super::{syntax, Context, EvidenceKind, Location, Match, Related, Rule, RuleMeta, SourceFile};

/// The `goroutine-blocked-recv` rule.
#[derive(Debug)]
pub struct GoroutineBlockedRecv;

static META: RuleMeta = RuleMeta {
    id: "goroutine-blocked-recv",
    name: "Goroutine blocked on receive",
    summary: "A goroutine ranges over or waits on a channel that is never closed, so it blocks \
              forever once the sends stop and keeps everything it references alive.",
    evidence: EvidenceKind::Goroutine,
    grows: false,
};

impl Rule for GoroutineBlockedRecv {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let funcs = Funcs::new(pkg.index());
        for file in pkg.program_files() {
            for chan in chans::local_channels(file, &funcs) {
                check_chan(pkg, &funcs, &chan, out);
            }
            check_ranged_calls(&funcs, file, out);
            check_ticker_loops(&funcs, file, out);
        }
    }
}

/// How a goroutine waits on the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Wait {
    /// `for v := range ch`.
    Range,
    /// `<-ch` in an endless `for` loop.
    Loop,
    /// A single `<-ch` on a channel nothing sends to.
    Once,
}

/// A channel returned by a function of the package that makes it and never closes it.
struct Producer<'a> {
    name: String,
    chan: Chan<'a>,
}

/// What a function of the package returns, when it is a channel it made: whether that
/// channel is closed there (`None` when the analysis cannot tell).
fn producer<'a>(funcs: &Funcs<'a>, call: Node<'a>, src: &str) -> Option<(Producer<'a>, bool)> {
    let function = call.child_by_field_name("function")?;
    if function.kind() != "identifier" {
        return None;
    }
    let name = syntax::text(function, src);
    let (file, func) = funcs.get(name)?;
    if !funcs.is_producer(name) {
        return None;
    }
    let body = func.child_by_field_name("body")?;
    let fsrc: &str = &file.text;
    // Every return must hand back the same channel made in the function.
    let mut returned: Option<Chan<'a>> = None;
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "func_literal" => continue,
            "return_statement" => {
                let values = flow::named(n);
                let list = values.first()?;
                let exprs = if list.kind() == "expression_list" {
                    flow::named(*list)
                } else {
                    values.clone()
                };
                let [id] = exprs.as_slice() else {
                    return None;
                };
                if id.kind() != "identifier" {
                    return None;
                }
                match &returned {
                    Some(c) if chans::refers_to(*id, c.decl, fsrc) => {}
                    Some(_) => return None,
                    None => {
                        let c = chans::local_channels(file, funcs).into_iter().find(|c| {
                            matches!(c.origin, Origin::Make) && chans::refers_to(*id, c.decl, fsrc)
                        })?;
                        returned = Some(c);
                    }
                }
            }
            _ => {}
        }
        stack.extend(flow::named(n));
    }
    let chan = returned?;
    let uses = chans::uses(funcs, &chan);
    if uses.iter().any(|u| matches!(u.kind, UseKind::Escape)) {
        return None;
    }
    let closed = uses.iter().any(|u| matches!(u.kind, UseKind::Close));
    Some((
        Producer {
            name: name.to_string(),
            chan,
        },
        closed,
    ))
}

/// The goroutines that wait on a local channel nothing closes.
fn check_chan<'a>(cx: &Context<'_>, funcs: &Funcs<'a>, chan: &Chan<'a>, out: &mut Vec<Match>) {
    let src: &str = &chan.file.text;
    let from = match chan.origin {
        Origin::Make => None,
        Origin::Call(call) => match producer(funcs, call, src) {
            Some((p, false)) => Some(p),
            _ => return,
        },
    };
    let uses = chans::uses(funcs, chan);
    if uses
        .iter()
        .any(|u| matches!(u.kind, UseKind::Escape | UseKind::Close))
    {
        return;
    }
    // A returned channel is the callers' to close: followed one call up, into the
    // callers in this package and in the other packages of the workspace.
    let mut handed_to = None;
    if uses.iter().any(|u| matches!(u.kind, UseKind::Returned)) {
        match returned_never_closed(cx, chan) {
            Some(callers) => handed_to = Some(callers),
            None => return,
        }
    }
    let has_sends = uses.iter().any(|u| matches!(u.kind, UseKind::Send { .. }));
    // One match per goroutine, in source order.
    let mut sites: Vec<(GoSite<'a>, Vec<(Wait, &ChanUse<'a>)>)> = Vec::new();
    for u in &uses {
        let Exec::Goroutine(g) = u.exec else { continue };
        let Some(wait) = blocking_wait(u, chan, has_sends) else {
            continue;
        };
        match sites.iter_mut().find(|(s, _)| s.same(&g)) {
            Some((_, waits)) => waits.push((wait, u)),
            None => sites.push((g, vec![(wait, u)])),
        }
    }
    for (site, waits) in sites {
        let serves_forever = std::ptr::eq(site.file, chan.file)
            && chans::never_returns_after(chan.home, site.node, src);
        if chans::is_process_lifetime(&site) || serves_forever {
            continue;
        }
        let mut m = report(funcs, chan, from.as_ref(), &site, &waits);
        if let Some(callers) = &handed_to {
            m.message = m.message.replace(
                "which is never closed",
                "which is returned to callers that never close it",
            );
            for c in callers {
                m.related.push(Related {
                    location: c.clone(),
                    message: "receives the channel and never closes it".to_string(),
                });
            }
        }
        out.push(m);
    }
}

/// What a caller does with a channel a call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallerUse {
    /// Closes it.
    Closes,
    /// Hands it on (an argument, a return, a store): the analysis stops there.
    PassesOn,
    /// Only sends to it, receives from it or drops it.
    Keeps,
}

/// For a channel its function returns: the calls of that function in the workspace
/// (this package and the packages that import it), when there is at least one and none
/// closes the channel or hands it on. `None` otherwise (a returned channel no workspace
/// code calls for is left alone: its callers are out of sight).
fn returned_never_closed(cx: &Context<'_>, chan: &Chan<'_>) -> Option<Vec<Location>> {
    let func = syntax::enclosing_function(chan.decl)?;
    if !matches!(func.kind(), "function_declaration" | "method_declaration") {
        return None;
    }
    let src: &str = &chan.file.text;
    let mut calls: Vec<Location> = Vec::new();
    for (file, call) in flow::callers(cx, func, src) {
        match caller_use(file, call) {
            CallerUse::Keeps => calls.push(file.location(call)),
            _ => return None,
        }
    }
    let mut passed_on = false;
    flow::calls_from_other_packages(cx, func, src, &mut |_, file, call| {
        match caller_use(file, call) {
            CallerUse::Keeps => calls.push(file.location(call)),
            _ => passed_on = true,
        }
        !passed_on
    });
    if passed_on {
        return None;
    }
    (!calls.is_empty()).then_some(calls)
}

/// What the function around `call` does with the channel the call returns.
fn caller_use(file: &SourceFile, call: Node<'_>) -> CallerUse {
    let src: &str = &file.text;
    let outer = flow::outer_paren(call);
    let Some(parent) = outer.parent() else {
        return CallerUse::PassesOn;
    };
    if parent.kind() == "expression_statement" {
        return CallerUse::Keeps;
    }
    // `v := f()` or `v = f()` into a local variable.
    let stmt = match parent.kind() {
        "expression_list" => parent.parent(),
        _ => None,
    };
    let Some(stmt) = stmt.filter(|s| {
        matches!(s.kind(), "short_var_declaration" | "assignment_statement")
            && s.child_by_field_name("right")
                .is_some_and(|r| r.id() == parent.id() && flow::named(r).len() == 1)
    }) else {
        return CallerUse::PassesOn;
    };
    let left = stmt
        .child_by_field_name("left")
        .map(flow::named)
        .unwrap_or_default();
    let [var] = left.as_slice() else {
        return CallerUse::PassesOn;
    };
    if var.kind() != "identifier" {
        return CallerUse::PassesOn;
    }
    let var_name = syntax::text(*var, src);
    if var_name == "_" {
        return CallerUse::Keeps;
    }
    if stmt.kind() == "assignment_statement" && flow::resolve_ident(*var, src).is_none() {
        // A package-level variable: anyone may close it.
        return CallerUse::PassesOn;
    }
    let Some(body) = syntax::enclosing_function(call) else {
        return CallerUse::PassesOn;
    };
    let mut result = CallerUse::Keeps;
    for id in syntax::descendants_of_kind(body, "identifier") {
        if id.id() == var.id() || syntax::text(id, src) != var_name {
            continue;
        }
        let Some(p) = flow::parent_skipping_parens(id) else {
            continue;
        };
        match p.kind() {
            "send_statement"
                if p.child_by_field_name("channel")
                    .is_some_and(|c| flow::unparen(c).id() == id.id()) => {}
            "unary_expression" => {}
            "range_clause" => {}
            "argument_list" => {
                let callee = p
                    .parent()
                    .and_then(|c| c.child_by_field_name("function"))
                    .map(|f| syntax::text(f, src));
                match callee {
                    Some("close") => return CallerUse::Closes,
                    Some("len" | "cap") => {}
                    _ => result = CallerUse::PassesOn,
                }
            }
            _ => result = CallerUse::PassesOn,
        }
    }
    result
}

/// How a use blocks forever when nothing closes the channel, if it does.
fn blocking_wait(u: &ChanUse<'_>, chan: &Chan<'_>, has_sends: bool) -> Option<Wait> {
    let src: &str = &u.file.text;
    match u.kind {
        UseKind::Range(f) => {
            // A loop that can stop on a sentinel value is not stuck on the close.
            chans::loop_exit(f, src).is_none().then_some(Wait::Range)
        }
        UseKind::Recv { select } => {
            if let Some((s, _)) = select {
                // Another case (a done channel, a context, a default) is a way out.
                let only_this = flow::named(s).into_iter().all(|case| {
                    case.kind() == "communication_case"
                        && std::ptr::eq(u.file, chan.file)
                        && chans::case_mentions(case, chan, src)
                });
                if !only_this {
                    return None;
                }
            }
            match syntax::enclosing_loop(u.site) {
                Some(lp) => {
                    let endless = flow::named(lp).len() == 1;
                    (endless && loop_exit_ignoring_ok(lp, u.site, src).is_none())
                        .then_some(Wait::Loop)
                }
                None => (!has_sends).then_some(Wait::Once),
            }
        }
        _ => None,
    }
}

/// An exit of `lp`'s body other than one taken only when the receive at `recv` reports
/// a closed channel (`v, ok := <-ch; if !ok { return }`), which needs a close to happen.
fn loop_exit_ignoring_ok<'a>(lp: Node<'a>, recv: Node<'a>, src: &str) -> Option<Node<'a>> {
    let ok_name = ok_variable(recv, src);
    let body = lp.child_by_field_name("body")?;
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "func_literal" {
            continue;
        }
        if n.kind() == "if_statement" {
            if let (Some(ok), Some(cond)) = (ok_name, n.child_by_field_name("condition")) {
                let mentions_ok = syntax::descendants_of_kind(cond, "identifier")
                    .any(|id| syntax::text(id, src) == ok);
                if mentions_ok {
                    if let Some(alt) = n.child_by_field_name("alternative") {
                        stack.push(alt);
                    }
                    continue;
                }
            }
        }
        if matches!(
            n.kind(),
            "return_statement" | "goto_statement" | "break_statement"
        ) {
            if let Some(exit) = chans::loop_exit_at(n, lp, src) {
                return Some(exit);
            }
        }
        stack.extend(flow::named(n));
    }
    None
}

/// The `ok` of `v, ok := <-ch` (or `v, ok = <-ch`) in a receive statement.
fn ok_variable<'a>(recv: Node<'_>, src: &'a str) -> Option<&'a str> {
    let left = match recv.kind() {
        "short_var_declaration" | "assignment_statement" => recv.child_by_field_name("left")?,
        _ => return None,
    };
    let names = flow::named(left);
    match names.as_slice() {
        [_, ok] if ok.kind() == "identifier" => Some(syntax::text(*ok, src)),
        _ => None,
    }
}

fn report<'a>(
    funcs: &Funcs<'a>,
    chan: &Chan<'a>,
    from: Option<&Producer<'a>>,
    site: &GoSite<'a>,
    waits: &[(Wait, &ChanUse<'a>)],
) -> Match {
    let file = chan.file;
    let name = &chan.name;
    let owner = chans::owner_name(site.file, site.node);
    let many = chans::in_loop_between(site.node, chan.home);
    let starter = if many {
        format!("goroutines started in a loop in {owner}")
    } else {
        format!("goroutine started in {owner}")
    };
    let verb = |one: &str, more: &str| {
        if many {
            more.to_string()
        } else {
            one.to_string()
        }
    };
    let wait = waits.iter().map(|(w, _)| *w).min().unwrap_or(Wait::Range);
    let what = match from {
        Some(p) => format!("channel \"{name}\" returned by {}", p.name),
        None => format!("channel \"{name}\""),
    };
    let never = match from {
        Some(p) => format!("which {} never closes", p.name),
        None => "which is never closed".to_string(),
    };
    let message = match wait {
        Wait::Range => format!(
            "{starter} {} over {what}, {never}, so {} forever once the sends stop",
            verb("ranges", "range"),
            verb("it blocks", "they block")
        ),
        Wait::Loop => format!(
            "{starter} {} from {what} in an endless loop, {never}, so {} forever once the sends stop",
            verb("receives", "receive"),
            verb("it blocks", "they block")
        ),
        Wait::Once => format!(
            "{starter} {} on {what}, which nothing sends to or closes, so {} forever",
            verb("waits", "wait"),
            verb("it blocks", "they block")
        ),
    };
    let mut evidence: Vec<Location> = Vec::new();
    for (_, u) in waits {
        let loc = u.file.location(chans::statement_head(u.site));
        if !evidence.contains(&loc) {
            evidence.push(loc);
        }
    }
    let (decl_file, decl_chan) = match from {
        Some(p) => (p.chan.file, &p.chan),
        None => (file, chan),
    };
    // A goroutine that runs a named function (`go w.consume(ch)`) is reported where it
    // waits, in that function, as the ticker loops are; a function literal on its `go`
    // statement, which shows the loop.
    let go_location = site.file.location(chans::statement_head(site.node));
    let waits_elsewhere = waits.first().filter(|(_, u)| {
        !(std::ptr::eq(u.file, site.file)
            && site.node.start_byte() <= u.site.start_byte()
            && u.site.end_byte() <= site.node.end_byte())
    });
    let mut related = Vec::new();
    let location = match waits_elsewhere {
        Some((_, u)) => {
            related.push(Related {
                location: go_location,
                message: "starts the goroutine that blocks".to_string(),
            });
            u.file.location(chans::statement_head(u.site))
        }
        None => go_location,
    };
    related.extend(held(
        funcs,
        site,
        &waits.iter().map(|(_, u)| u.site).collect::<Vec<_>>(),
    ));
    Match {
        rule: META.id,
        location,
        subject: name.clone(),
        message,
        declaration: Some(decl_file.location(decl_chan.decl)),
        related,
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

/// What the blocked goroutine keeps alive, as related locations.
fn held<'a>(funcs: &Funcs<'a>, site: &GoSite<'a>, blocking: &[Node<'a>]) -> Vec<Related> {
    chans::held_allocations(funcs, site, blocking, &[])
        .into_iter()
        .map(|(location, note)| Related {
            location,
            message: note.to_string(),
        })
        .collect()
}

/// A goroutine started per call (not once from `main` or `init`) that ranges over a
/// ticker's channel (`for range t.C`, `for range time.Tick(d)`) with no way out of the
/// loop: a ticker channel is never closed, so each start leaves one more goroutine (and
/// what it holds) running forever. The match is on the loop, in the goroutine's own
/// function, where the goroutine profile counts them.
fn check_ticker_loops<'a>(funcs: &Funcs<'a>, file: &'a SourceFile, out: &mut Vec<Match>) {
    let src: &str = &file.text;
    if !src.contains("go ") {
        return;
    }
    for go in syntax::descendants_of_kind(file.tree.root_node(), "go_statement") {
        let Some(call) = flow::named(go).into_iter().next().map(flow::unparen) else {
            continue;
        };
        let Some(function) = call.child_by_field_name("function").map(flow::unparen) else {
            continue;
        };
        let target = match function.kind() {
            "func_literal" => Some((file, function)),
            "identifier" if flow::declaring_ident(function, src).is_none() => {
                funcs.get(syntax::text(function, src))
            }
            "selector_expression" => function
                .child_by_field_name("field")
                .and_then(|f| funcs.method(syntax::text(f, src))),
            _ => None,
        };
        let Some((tfile, func)) = target else {
            continue;
        };
        let site = GoSite { file, node: go };
        if chans::is_process_lifetime(&site) {
            continue;
        }
        let Some(body) = func.child_by_field_name("body") else {
            continue;
        };
        let tsrc: &str = &tfile.text;
        for clause in syntax::descendants_of_kind(body, "range_clause") {
            let Some(for_stmt) = clause.parent() else {
                continue;
            };
            if syntax::enclosing_function(for_stmt) != Some(func)
                || chans::loop_exit(for_stmt, tsrc).is_some()
            {
                continue;
            }
            let Some((subject, decl)) = ticker_channel(funcs, tfile, clause) else {
                continue;
            };
            let owner = chans::owner_name(file, go);
            let head = chans::statement_head(for_stmt);
            out.push(Match {
                rule: META.id,
                location: tfile.location(head),
                subject: subject.clone(),
                message: format!(
                    "goroutine started in {owner} ranges over ticker channel {subject}, which is never closed, so it never ends: every start leaves one more running"
                ),
                declaration: decl.map(|d| tfile.location(d)),
                related: held(funcs, &site, &[for_stmt]),
                evidence: vec![tfile.location(head)],
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// For a range clause over a ticker's channel (`t.C` of a local `t :=
/// time.NewTicker(d)`, or `time.Tick(d)`): the channel's text and the ticker's
/// declaration.
fn ticker_channel<'a>(
    funcs: &Funcs<'a>,
    file: &'a SourceFile,
    clause: Node<'a>,
) -> Option<(String, Option<Node<'a>>)> {
    let src: &str = &file.text;
    let right = flow::unparen(clause.child_by_field_name("right")?);
    let time = flow::import_name(file.tree.root_node(), src, "time")?;
    let is_time_call = |call: Node<'_>, name: &str| {
        call.kind() == "call_expression"
            && call
                .child_by_field_name("function")
                .map(flow::unparen)
                .is_some_and(|f| syntax::text(f, src) == format!("{time}.{name}"))
    };
    match right.kind() {
        "call_expression" if is_time_call(right, "Tick") => {
            Some((syntax::text(right, src).to_string(), None))
        }
        "selector_expression" => {
            let field = right.child_by_field_name("field")?;
            let operand = flow::unparen(right.child_by_field_name("operand")?);
            if syntax::text(field, src) != "C" {
                return None;
            }
            // `for range f.ticker.C`: a field declared as a `*time.Ticker`.
            if operand.kind() == "selector_expression" {
                let name = syntax::text(operand.child_by_field_name("field")?, src);
                return funcs
                    .is_ticker_field(name)
                    .then(|| (syntax::text(right, src).to_string(), None));
            }
            if operand.kind() != "identifier" {
                return None;
            }
            let b = flow::resolve_ident(operand, src)?;
            let made = b.value.map(flow::unparen)?;
            (!b.multi && is_time_call(made, "NewTicker"))
                .then(|| (syntax::text(right, src).to_string(), Some(b.name)))
        }
        _ => None,
    }
}

/// `for v := range produce()` inside a goroutine, where `produce` is a function of the
/// package that returns a channel it never closes.
fn check_ranged_calls<'a>(funcs: &Funcs<'a>, file: &'a SourceFile, out: &mut Vec<Match>) {
    let src: &str = &file.text;
    if !funcs.has_producers() || !src.contains("range") {
        return;
    }
    for clause in syntax::descendants_of_kind(file.tree.root_node(), "range_clause") {
        let Some(call) = clause.child_by_field_name("right") else {
            continue;
        };
        if call.kind() != "call_expression" {
            continue;
        }
        let Some(for_stmt) = clause.parent() else {
            continue;
        };
        let Some(decl) = syntax::enclosing_declaration(for_stmt) else {
            continue;
        };
        let Some(site) = chans::goroutine_of(file, for_stmt, decl) else {
            continue;
        };
        if chans::loop_exit(for_stmt, src).is_some() {
            continue;
        }
        let Some((p, false)) = producer(funcs, call, src) else {
            continue;
        };
        if chans::is_process_lifetime(&site) {
            continue;
        }
        let name = syntax::text(call, src);
        let owner = chans::owner_name(file, site.node);
        let many = syntax::enclosing_loop(site.node).is_some();
        let starter = if many {
            format!("goroutines started in a loop in {owner} range")
        } else {
            format!("goroutine started in {owner} ranges")
        };
        out.push(Match {
            rule: META.id,
            location: file.location(chans::statement_head(site.node)),
            subject: name.to_string(),
            message: format!(
                "{starter} over the channel returned by {}, which never closes it, so {} forever once the sends stop",
                p.name,
                if many { "they block" } else { "it blocks" }
            ),
            declaration: Some(p.chan.file.location(p.chan.decl)),
            related: held(funcs, &site, &[for_stmt]),
            evidence: vec![file.location(chans::statement_head(for_stmt))],
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::GoroutineBlockedRecv;
    use crate::rules::testing::check;

    fn check_recv(fixture: &str, expect: Expect) {
        check(&GoroutineBlockedRecv, fixture, expect);
    }

    #[test]
    fn a_ticker_kept_in_a_struct_field() {
        // Every Flusher's goroutine ranges over its own ticker forever; a field that is
        // not a ticker (a channel someone else may close) is no match.
        check_recv(
            r#"
-- flusher.go --
package agg

import "time"

type Flusher struct {
	ticker *time.Ticker
	sent   int
}

func NewFlusher(every time.Duration) *Flusher {
	f := &Flusher{ticker: time.NewTicker(every)}
	go f.loop()
	return f
}

func (f *Flusher) loop() {
	for range f.ticker.C {
		f.sent++
	}
}

type Clock struct{ C chan time.Time }

type Relay struct{ clock *Clock }

func NewRelay(c *Clock) *Relay {
	r := &Relay{clock: c}
	go r.run()
	return r
}

func (r *Relay) run() {
	for range r.clock.C {
	}
}
"#,
            expect![[r#"
                flusher.go:17 goroutine-blocked-recv [f.ticker.C] goroutine started in NewFlusher ranges over ticker channel f.ticker.C, which is never closed, so it never ends: every start leaves one more running
                  related flusher.go:11 allocated here and kept alive by the blocked goroutine
                  evidence flusher.go:17
            "#]],
        );
    }

    #[test]
    fn goroutines_ranging_over_a_ticker_forever() {
        check_recv(
            r#"
-- export.go --
package app

import "time"

type Exporter struct{ batch []byte }

func NewExporter(interval time.Duration) *Exporter {
	e := &Exporter{batch: make([]byte, 0, 64<<10)}
	go e.flushLoop(interval)
	return e
}

func (e *Exporter) flushLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for range t.C {
		e.batch = e.batch[:0]
	}
}

func StartTicking(d time.Duration) {
	go func() {
		for range time.Tick(d) {
		}
	}()
}

func (e *Exporter) stoppable(t *time.Ticker, stop func() bool) {
	for range t.C {
		if stop() {
			return
		}
	}
}

func NewStoppable(d time.Duration, stop func() bool) {
	e := &Exporter{}
	go e.stoppable(time.NewTicker(d), stop)
	t := time.NewTicker(d)
	go func() {
		for range t.C {
			if stop() {
				break
			}
		}
	}()
}
-- cmd/tick/main.go --
package main

import "time"

func janitor() {
	t := time.NewTicker(time.Minute)
	for range t.C {
	}
}

func main() {
	go janitor()
}
"#,
            expect![[r#"
                export.go:16 goroutine-blocked-recv [t.C] goroutine started in NewExporter ranges over ticker channel t.C, which is never closed, so it never ends: every start leaves one more running
                  declared export.go:14
                  related export.go:8 allocated here and kept alive by the blocked goroutine
                  evidence export.go:16
                export.go:23 goroutine-blocked-recv [time.Tick(d)] goroutine started in StartTicking ranges over ticker channel time.Tick(d), which is never closed, so it never ends: every start leaves one more running
                  evidence export.go:23
            "#]],
        );
    }

    #[test]
    fn workers_range_over_a_queue_nobody_closes() {
        check_recv(
            r#"
-- index/index.go --
package index

type Doc struct{ Body []byte }

func IndexAll(docs []Doc, workers int) {
	queue := make(chan Doc)
	for i := 0; i < workers; i++ {
		go func() {
			buf := make([]byte, 0, 4096)
			for d := range queue {
				buf = append(buf[:0], d.Body...)
			}
		}()
	}
	for _, d := range docs {
		queue <- d
	}
}

func Start(jobs []string) {
	ch := make(chan string, len(jobs))
	go worker(ch)
	for _, j := range jobs {
		ch <- j
	}
}

func worker(in <-chan string) {
	for j := range in {
		_ = j
	}
}
"#,
            expect![[r#"
                index/index.go:8 goroutine-blocked-recv [queue] goroutines started in a loop in IndexAll range over channel "queue", which is never closed, so they block forever once the sends stop
                  declared index/index.go:6
                  related index/index.go:9 allocated here and kept alive by the blocked goroutine
                  evidence index/index.go:10
                index/index.go:29 goroutine-blocked-recv [ch] goroutine started in Start ranges over channel "ch", which is never closed, so it blocks forever once the sends stop
                  declared index/index.go:21
                  related index/index.go:22 starts the goroutine that blocks
                  related index/index.go:21 allocated here and kept alive by the blocked goroutine
                  evidence index/index.go:29
            "#]],
        );
    }

    #[test]
    fn endless_receive_loops_and_single_waits() {
        check_recv(
            r#"
-- loop.go --
package loop

func Pump(items []int) {
	in := make(chan int)
	go func() {
		for {
			v := <-in
			consume(v)
		}
	}()
	for _, it := range items {
		in <- it
	}
}

func PumpOK(items []int) {
	in := make(chan int)
	go func() {
		for {
			v, ok := <-in
			if !ok {
				return
			}
			consume(v)
		}
	}()
	for _, it := range items {
		in <- it
	}
}

func Cleanup(path string) error {
	done := make(chan struct{})
	go func() {
		<-done
		remove(path)
	}()
	return process(path)
}

func consume(v int)             {}
func remove(p string)           {}
func process(p string) error    { return nil }
"#,
            expect![[r#"
                loop.go:5 goroutine-blocked-recv [in] goroutine started in Pump receives from channel "in" in an endless loop, which is never closed, so it blocks forever once the sends stop
                  declared loop.go:4
                  evidence loop.go:7
                loop.go:18 goroutine-blocked-recv [in] goroutine started in PumpOK receives from channel "in" in an endless loop, which is never closed, so it blocks forever once the sends stop
                  declared loop.go:17
                  evidence loop.go:20
                loop.go:34 goroutine-blocked-recv [done] goroutine started in Cleanup waits on channel "done", which nothing sends to or closes, so it blocks forever
                  declared loop.go:33
                  evidence loop.go:35
            "#]],
        );
    }

    #[test]
    fn channels_from_producers_that_never_close() {
        check_recv(
            r#"
-- feed.go --
package feed

func events(n int) chan int {
	out := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			out <- i
		}
	}()
	return out
}

func Watch(n int) {
	ch := events(n)
	go func() {
		for e := range ch {
			handle(e)
		}
	}()
}

func WatchDirect(n int) {
	go func() {
		for e := range events(n) {
			handle(e)
		}
	}()
}

func handle(e int) {}
"#,
            expect![[r#"
                feed.go:15 goroutine-blocked-recv [ch] goroutine started in Watch ranges over channel "ch" returned by events, which events never closes, so it blocks forever once the sends stop
                  declared feed.go:4
                  evidence feed.go:16
                feed.go:23 goroutine-blocked-recv [events(n)] goroutine started in WatchDirect ranges over the channel returned by events, which never closes it, so it blocks forever once the sends stop
                  declared feed.go:4
                  evidence feed.go:24
            "#]],
        );
    }

    #[test]
    fn closed_channels_are_not_reported() {
        check_recv(
            r#"
-- ok.go --
package ok

import "sync"

func Closed(docs []string) {
	queue := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range queue {
				_ = d
			}
		}()
	}
	for _, d := range docs {
		queue <- d
	}
	close(queue)
	wg.Wait()
}

func Deferred(docs []string) {
	queue := make(chan string)
	defer close(queue)
	go func() {
		for d := range queue {
			_ = d
		}
	}()
	for _, d := range docs {
		queue <- d
	}
}

func ByProducer(docs []string) {
	queue := make(chan string)
	go func() {
		defer close(queue)
		for _, d := range docs {
			queue <- d
		}
	}()
	go func() {
		for d := range queue {
			_ = d
		}
	}()
}

func ByHelper(docs []string) {
	queue := make(chan string)
	go func() {
		for d := range queue {
			_ = d
		}
	}()
	feed(queue, docs)
}

func feed(out chan<- string, docs []string) {
	defer close(out)
	for _, d := range docs {
		out <- d
	}
}

func ByDeferredLiteral(docs []string) {
	queue := make(chan string)
	defer func() { close(queue) }()
	go func() {
		for d := range queue {
			_ = d
		}
	}()
	for _, d := range docs {
		queue <- d
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn producers_that_close_are_not_reported() {
        check_recv(
            r#"
-- gen.go --
package gen

func numbers(n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := 0; i < n; i++ {
			out <- i
		}
	}()
	return out
}

func lines(n int) <-chan string {
	out := make(chan string)
	go produce(out, n)
	return out
}

func produce(out chan<- string, n int) {
	for i := 0; i < n; i++ {
		out <- "x"
	}
	close(out)
}

func Sum(n int) {
	go func() {
		total := 0
		for v := range numbers(n) {
			total += v
		}
	}()
	ls := lines(n)
	go func() {
		for l := range ls {
			_ = l
		}
	}()
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn other_ways_out_are_not_reported() {
        check_recv(
            r#"
-- ok.go --
package ok

import "context"

func WithContext(ctx context.Context, items []int) {
	in := make(chan int)
	go func() {
		for {
			select {
			case v := <-in:
				_ = v
			case <-ctx.Done():
				return
			}
		}
	}()
	for _, it := range items {
		in <- it
	}
}

func Sentinel(items []int) {
	in := make(chan int)
	go func() {
		for v := range in {
			if v < 0 {
				return
			}
		}
	}()
	for _, it := range items {
		in <- it
	}
	in <- -1
}

func Answered() int {
	reply := make(chan int)
	go func() {
		v := <-reply
		_ = v
	}()
	reply <- 42
	return 0
}

func Bounded(n int) {
	in := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			<-in
		}
	}()
	for i := 0; i < n; i++ {
		in <- i
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn long_lived_and_escaping_channels_are_not_reported() {
        check_recv(
            r#"
-- svc/svc.go --
package svc

import (
	"os"
	"os/signal"
)

var events = make(chan string)

type Hub struct{ in chan string }

func NewHub() *Hub {
	h := &Hub{in: make(chan string)}
	go h.run()
	return h
}

func (h *Hub) run() {
	for m := range h.in {
		_ = m
	}
}

func Global() {
	go func() {
		for e := range events {
			_ = e
		}
	}()
}

func Returned() chan<- string {
	ch := make(chan string)
	go func() {
		for s := range ch {
			_ = s
		}
	}()
	return ch
}

func Serve(accept func() string) {
	conns := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			for c := range conns {
				_ = c
			}
		}()
	}
	for {
		conns <- accept()
	}
}

func Block() {
	ch := make(chan int)
	go func() {
		for v := range ch {
			_ = v
		}
	}()
	ch <- 1
	select {}
}

func Signals() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		for range sig {
		}
	}()
}
-- cmd/main.go --
package main

func main() {
	logs := make(chan string)
	go func() {
		for l := range logs {
			println(l)
		}
	}()
	logs <- "start"
	select {}
}

func init() {
	q := make(chan int)
	go func() {
		for v := range q {
			_ = v
		}
	}()
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn returned_channels_followed_into_their_callers() {
        check_recv(
            r#"
-- pipeline/fanout.go --
package pipeline

type Fanout struct{ n int }

// Attach's channel is fed by a caller in another package that never closes it.
func (f *Fanout) Attach(stream string) chan<- string {
	ch := make(chan string, 8)
	go f.consume(ch)
	return ch
}

func (f *Fanout) consume(ch <-chan string) {
	for ev := range ch {
		_ = ev
		f.n++
	}
}

// Open's callers close the channel when done.
func Open() chan<- int {
	ch := make(chan int)
	go func() {
		for v := range ch {
			_ = v
		}
	}()
	return ch
}

// Lent's caller hands the channel on: out of sight.
func Lent() chan<- int {
	ch := make(chan int)
	go func() {
		for v := range ch {
			_ = v
		}
	}()
	return ch
}

// Nobody in the workspace calls Orphan: its callers are out of sight.
func Orphan() chan<- int {
	ch := make(chan int)
	go func() {
		for v := range ch {
			_ = v
		}
	}()
	return ch
}
-- server/server.go --
package server

import "example.com/app/pipeline"

type Server struct{ fanout *pipeline.Fanout }

func (s *Server) Handle(name string, lines []string) {
	in := s.fanout.Attach(name)
	for _, l := range lines {
		in <- l
	}
}

func Count(n int) {
	in := pipeline.Open()
	defer close(in)
	for i := 0; i < n; i++ {
		in <- i
	}
}

func Hand(sink func(chan<- int)) {
	in := pipeline.Lent()
	sink(in)
}
"#,
            expect![[r#"
                pipeline/fanout.go:13 goroutine-blocked-recv [ch] goroutine started in (*Fanout).Attach ranges over channel "ch", which is returned to callers that never close it, so it blocks forever once the sends stop
                  declared pipeline/fanout.go:7
                  related pipeline/fanout.go:8 starts the goroutine that blocks
                  related pipeline/fanout.go:7 allocated here and kept alive by the blocked goroutine
                  related server/server.go:8 receives the channel and never closes it
                  evidence pipeline/fanout.go:13
            "#]],
        );
    }

    #[test]
    fn shadowed_names_tests_and_generated_files() {
        check_recv(
            r#"
-- shadow.go --
package shadow

// The goroutine ranges over its own parameter, fed by a closed channel.
func Inner(src chan int) {
	queue := make(chan int)
	go func(queue chan int) {
		for v := range queue {
			_ = v
		}
	}(src)
	close(src)
	queue <- 1
}

// The close is on an inner variable of the same name: the outer queue stays open.
func Outer(items []int) {
	queue := make(chan int)
	go func() {
		for v := range queue {
			_ = v
		}
	}()
	for _, it := range items {
		queue <- it
	}
	if len(items) > 0 {
		queue := make(chan int)
		close(queue)
	}
}
-- shadow_test.go --
package shadow

func helper() {
	q := make(chan int)
	go func() {
		for range q {
		}
	}()
}
-- zz_gen.go --
// Code generated by mockgen. DO NOT EDIT.

package shadow

func generated() {
	q := make(chan int)
	go func() {
		for range q {
		}
	}()
}
"#,
            expect![[r#"
                shadow.go:18 goroutine-blocked-recv [queue] goroutine started in Outer ranges over channel "queue", which is never closed, so it blocks forever once the sends stop
                  declared shadow.go:17
                  evidence shadow.go:19
            "#]],
        );
    }

    #[test]
    fn fixture_programs_report_exactly_their_wanted_lines() {
        let found =
            crate::rules::goroutine_blocked_send::tests::fixture_matches("goroutine-blocked-recv");
        expect![[r#"
            leak-goroutines/main.go:149 goroutines started in a loop in indexNotes range over channel "queue", which is never closed, so they block forever once the sends stop
              evidence main.go:151
              related main.go:150
        "#]].assert_eq(&found);
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check_recv(
            r#"
-- broken.go --
package broken

func Half() {
	q := make(chan int)
	go func() {
		for v := range q {
	}()
	close(
}

func F() {
	for range
	go func() { <-
"#,
            expect![[r#"
                broken.go:5 goroutine-blocked-recv [q] goroutine started in Half ranges over channel "q", which is never closed, so it blocks forever once the sends stop
                  declared broken.go:4
                  evidence broken.go:6
            "#]],
        );
    }
}
