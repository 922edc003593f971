//! `http-body-not-closed`: an HTTP client response whose body is never closed keeps its
//! connection busy: the transport's read and write goroutines, their buffers and the
//! request stay alive, and the next request dials a new connection.

use tree_sitter::Node;

use super::flow;
use super::paths::{self, Effect, Resource};
use super::syntax::{self, text};
use super::ticker_not_stopped::locals::{self, Ctx};
use super::{
    partial_release, Context, EvidenceKind, Fix, Location, Match, Package, Related, Rule, RuleMeta,
    SourceFile,
};

/// The `http-body-not-closed` rule.
#[derive(Debug)]
pub struct HttpBodyNotClosed;

static META: RuleMeta = RuleMeta {
    id: "http-body-not-closed",
    name: "HTTP response body not closed",
    summary: "A response body that is never closed keeps its connection, buffers and goroutines.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for HttpBodyNotClosed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let src: &str = &file.text;
            let root = file.tree.root_node();
            let Some(http) = flow::import_name(root, src, "net/http") else {
                continue;
            };
            for call in syntax::descendants_of_kind(root, "call_expression") {
                let Some(what) = request_call(pkg, file, call, http) else {
                    continue;
                };
                if let Some((m, exit)) = check_call(pkg, file, call, &what) {
                    // The return that leaves the body open is where the close goes: it
                    // carries the finding too.
                    let at_exit = exit.clone().map(|e| {
                        let line = e.span.start_line;
                        let mut copy = m.also_at(
                            e,
                            &format!("returns here with the body of {} still open", m.subject),
                            format!("the response is obtained here; it is open at line {line}"),
                        );
                        copy.fixes.clear();
                        copy
                    });
                    // A return a helper's verdict leads to (`if err := checkStatus(resp);
                    // err != nil { return err }`): the check is where a reader looks.
                    let at_check = exit.as_ref().and_then(|e| {
                        let guard = guarding_check(root, src, e.span.start_line, &m.subject)?;
                        let line = e.span.start_line;
                        let mut copy = m.also_at(
                            file.location(guard),
                            &format!(
                                "the check here returns with the body of {} still open",
                                m.subject
                            ),
                            format!("the response is obtained here; it is open at line {line}"),
                        );
                        copy.fixes.clear();
                        Some(copy)
                    });
                    out.push(m);
                    out.extend(at_exit);
                    out.extend(at_check);
                }
            }
            out.extend(helpers_closing_on_some_paths(file, http));
        }
    }
}

/// The `if` whose block is only the `return` on `line`, when its initializer or
/// condition passes the response to a call (`if err := checkStatus(resp); err != nil`).
fn guarding_check<'t>(root: Node<'t>, src: &str, line: u32, resp: &str) -> Option<Node<'t>> {
    let ret = syntax::descendants_of_kind(root, "return_statement")
        .find(|r| syntax::span(*r).start_line == line)?;
    let mut block = ret.parent()?;
    if block.kind() == "statement_list" {
        if flow::named(block).len() != 1 {
            return None;
        }
        block = block.parent()?;
    }
    let cond = block.parent().filter(|i| i.kind() == "if_statement")?;
    if cond.child_by_field_name("consequence").map(|c| c.id()) != Some(block.id())
        || syntax::span(cond).start_line == line
    {
        return None;
    }
    let checks = ["initializer", "condition"]
        .iter()
        .filter_map(|f| cond.child_by_field_name(f))
        .flat_map(|n| syntax::descendants_of_kind(n, "call_expression"))
        .any(|c| {
            syntax::call_args(c)
                .iter()
                .any(|a| text(flow::unparen(*a), src) == resp)
        });
    checks.then_some(cond)
}

/// The functions of `file` taking an `*http.Response` that close its body (or hand it
/// on) on some paths and return without doing so on others (`classify(resp)` draining
/// the body of a 2xx or a 4xx, returning a retryable error for a 503 without it): a
/// match on each such `return`.
fn helpers_closing_on_some_paths(file: &SourceFile, http: &str) -> Vec<Match> {
    let src: &str = &file.text;
    let mut out = Vec::new();
    let resp_type = format!("*{http}.Response");
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
        for p in syntax::descendants_of_kind(params, "parameter_declaration") {
            let typed = p
                .child_by_field_name("type")
                .is_some_and(|t| text(t, src).replace(' ', "") == resp_type);
            if !typed {
                continue;
            }
            for name in flow::named(p)
                .into_iter()
                .filter(|n| n.kind() == "identifier")
            {
                let res = OpenBody {
                    src,
                    var: text(name, src),
                };
                let Some(exits) = paths::exits(body, &res, true) else {
                    continue;
                };
                let label = locals::function_label(file, body);
                let close = syntax::descendants_of_kind(body, "identifier")
                    .find(|i| text(*i, src) == res.var && closes(*i, src));
                // A helper whose closing paths all return an error and whose open path
                // returns a nil error (`checkStatus`: `return nil` on a 2xx) hands the
                // body to its callers on success.
                let last_value = |r: Node<'_>| {
                    flow::named(r)
                        .into_iter()
                        .flat_map(|l| flow::items(Some(l)))
                        .last()
                        .map(|v| text(flow::unparen(v), src))
                };
                let closing_fail = exits
                    .iter()
                    .filter(|e| e.released)
                    .all(|e| e.ret.and_then(last_value).is_some_and(|v| v != "nil"));
                for e in paths::unreleased(&exits) {
                    let Some(ret) = e.ret else {
                        continue;
                    };
                    if closing_fail && last_value(ret) == Some("nil") {
                        continue;
                    }
                    let mut related = Vec::new();
                    if let Some(c) = close {
                        related.push(Related {
                            location: file.location(syntax::statement_of(c)),
                            message: "the body is closed here on the other paths".to_string(),
                        });
                    }
                    out.push(Match {
                        rule: META.id,
                        location: file.location(ret),
                        subject: res.var.to_string(),
                        message: format!(
                            "{label} closes the body of response \"{}\" on its other paths, but returns here without closing it: the caller's connection stays busy with its buffers and goroutines",
                            res.var
                        ),
                        declaration: Some(file.location(name)),
                        related,
                        evidence: vec![file.location(ret)],
                        fixes: Vec::new(),
                        version_note: None,
                        needs_growth: false,
                        fills: Vec::new(),
                    });
                }
            }
        }
    }
    out
}

/// A response handed to a function, open until it closes the body or hands it on.
struct OpenBody<'t> {
    src: &'t str,
    var: &'t str,
}

impl<'t> Resource<'t> for OpenBody<'t> {
    fn effect(&self, stmt: Node<'t>) -> Effect {
        let closed = syntax::descendants_of_kind(stmt, "identifier")
            .any(|i| text(i, self.src) == self.var && closes(i, self.src));
        if closed {
            Effect::Release
        } else {
            Effect::None
        }
    }

    fn not_acquired(&self, condition: Node<'t>) -> bool {
        partial_release::compares_to_nil(condition, self.var, self.src)
    }

    fn aborts(&self, stmt: Node<'t>) -> bool {
        locals::is_fatal_call(stmt, self.src)
    }
}

/// Functions that read a body without closing it; passing the body to anything else
/// hands its closing over.
const READERS: &[&str] = &[
    "io.ReadAll",
    "ioutil.ReadAll",
    "io.Copy",
    "io.CopyN",
    "io.CopyBuffer",
    "io.ReadFull",
    "io.LimitReader",
    "io.TeeReader",
    "io.MultiReader",
    "json.NewDecoder",
    "xml.NewDecoder",
    "bufio.NewReader",
    "bufio.NewReaderSize",
    "bufio.NewScanner",
    "csv.NewReader",
    "gzip.NewReader",
    "httputil.DumpResponse",
];

/// Whether a type written in the source is `http.Client` or `*http.Client`.
fn is_client_type(ty: &str, http: &str) -> bool {
    let t: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.strip_prefix('*').unwrap_or(&t);
    t == format!("{http}.Client")
}

/// Whether an initializer evidently builds an `http.Client`.
fn is_client_value(value: &str, http: &str) -> bool {
    let v: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let v = v.strip_prefix('&').unwrap_or(&v);
    v.starts_with(&format!("{http}.Client{{"))
        || v == format!("new({http}.Client)")
        || v == format!("{http}.DefaultClient")
}

/// Whether the expression `x` is evidently an `*http.Client`: `http.DefaultClient`, a
/// local or parameter declared or initialized as one, a package-level variable of that
/// type, or a field declared with that type.
fn is_client(pkg: &Package, file: &SourceFile, x: Node<'_>, http: &str) -> bool {
    let src: &str = &file.text;
    let x = flow::unparen(x);
    match x.kind() {
        "selector_expression" => {
            if locals::qualified(x, src, http) == Some("DefaultClient") {
                return true;
            }
            let Some(field) = x.child_by_field_name("field") else {
                return false;
            };
            let field = text(field, src);
            pkg.files.iter().any(|f| {
                f.summary.structs.iter().any(|s| {
                    s.fields
                        .iter()
                        .any(|fd| fd.name == field && is_client_type(&fd.type_text, http))
                })
            })
        }
        "identifier" => match flow::declaring_ident(x, src) {
            Some(decl) => {
                let Some(p) = decl.parent() else {
                    return false;
                };
                let declared = match p.kind() {
                    "parameter_declaration" | "var_spec" => p
                        .child_by_field_name("type")
                        .is_some_and(|t| is_client_type(text(t, src), http)),
                    _ => false,
                };
                declared || {
                    let holder = if p.kind() == "expression_list" {
                        p.parent()
                    } else {
                        Some(p)
                    };
                    holder.is_some_and(|h| {
                        let (left, right) = match h.kind() {
                            "short_var_declaration" => ("left", "right"),
                            "var_spec" => ("name", "value"),
                            _ => return false,
                        };
                        let names: Vec<Node<'_>> = if left == "name" {
                            let mut c = h.walk();
                            h.children_by_field_name("name", &mut c).collect()
                        } else {
                            flow::items(h.child_by_field_name(left))
                        };
                        let values = flow::items(h.child_by_field_name(right));
                        names
                            .iter()
                            .position(|n| *n == decl)
                            .and_then(|i| values.get(i))
                            .is_some_and(|v| is_client_value(text(*v, src), http))
                    })
                }
            }
            None => {
                let name = text(x, src);
                pkg.files.iter().any(|f| {
                    f.summary.decls.iter().any(|d| {
                        d.name == name
                            && (d
                                .type_text
                                .as_deref()
                                .is_some_and(|t| is_client_type(t, http))
                                || d.value_text
                                    .as_deref()
                                    .is_some_and(|v| is_client_value(v, http)))
                    })
                })
            }
        },
        _ => false,
    }
}

/// For a call that sends an HTTP request and returns a response (`http.Get`,
/// `client.Do`, ...), its name for messages.
fn request_call(pkg: &Package, file: &SourceFile, call: Node<'_>, http: &str) -> Option<String> {
    let src: &str = &file.text;
    let f = flow::unparen(call.child_by_field_name("function")?);
    if f.kind() != "selector_expression" {
        return None;
    }
    const SENDERS: &[&str] = &["Get", "Head", "Post", "PostForm"];
    if let Some(name) = locals::qualified(f, src, http) {
        return SENDERS.contains(&name).then(|| format!("http.{name}"));
    }
    let method = text(f.child_by_field_name("field")?, src);
    if method != "Do" && !SENDERS.contains(&method) {
        return None;
    }
    let receiver = f.child_by_field_name("operand")?;
    is_client(pkg, file, receiver, http).then(|| one_line(text(f, src)))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join("")
}

/// The match for a request call, and the `return` that leaves its body open when one
/// path does.
fn check_call(
    pkg: &Package,
    file: &SourceFile,
    call: Node<'_>,
    what: &str,
) -> Option<(Match, Option<Location>)> {
    let src: &str = &file.text;
    let where_ = locals::function_label(file, call);
    let Some(b) = locals::binding_of(call) else {
        let parent = flow::parent_skipping_parens(call)?;
        if parent.kind() != "expression_statement" {
            // Returned or passed on: the receiver closes the body.
            return None;
        }
        let message = format!(
            "the response of {what} in {where_} is discarded, so its body is never closed and its connection is never released"
        );
        return Some((
            matched(pkg, file, call, "response".to_string(), message),
            None,
        ));
    };
    let results = b.results()?;
    let (resp, err) = match results {
        [resp, err] => (*resp, *err),
        _ => return None,
    };
    if resp.kind() != "identifier" {
        // Stored in a field or element: whoever owns it closes it.
        return None;
    }
    let name = text(resp, src);
    if name == "_" {
        let message = format!(
            "the response of {what} in {where_} is discarded, so its body is never closed and its connection is never released"
        );
        return Some((
            matched(pkg, file, call, "response".to_string(), message),
            None,
        ));
    }
    let decl = flow::declaring_ident(resp, src)?;
    if body_is_closed_or_handed_off(decl, b.stmt, src) {
        if let Some((branch, exit)) = closed_only_in_a_branch(decl, b.stmt, src) {
            let cond = branch
                .child_by_field_name("condition")
                .map(|c| one_line(text(c, src)))
                .unwrap_or_default();
            let message = format!(
                "response \"{name}\" from {what} in {where_} is closed only when `{cond}`; the function returns at line {} without closing it: that path leaves its connection busy with its buffers and goroutines",
                syntax::span(exit).start_line
            );
            let mut m = matched(pkg, file, call, name.to_string(), message);
            m.declaration = Some(file.location(decl));
            return Some((m, Some(file.location(exit))));
        }
        let exit = early_return_before_close(decl, b.stmt, err, src)?;
        let line = syntax::span(exit).start_line;
        let message = format!(
            "response \"{name}\" from {what} in {where_} is not closed when the function returns at line {line}, before the body is closed: that path leaves its connection busy with its buffers and goroutines"
        );
        let mut m = matched(pkg, file, call, name.to_string(), message);
        m.declaration = Some(file.location(decl));
        return Some((m, Some(file.location(exit))));
    }
    let in_loop = locals::loop_in_function(call).is_some();
    let message = if in_loop {
        format!("response \"{name}\" from {what} in a loop in {where_} is never closed: each iteration leaves a connection busy with its buffers and goroutines")
    } else {
        format!("response \"{name}\" from {what} in {where_} is never closed: its connection stays busy with its buffers and goroutines")
    };
    let mut m = matched(pkg, file, call, name.to_string(), message);
    m.declaration = Some(file.location(decl));
    if !in_loop {
        if let Some(fix) = close_fix(file, &b, name, err) {
            m.fixes.push(fix);
        }
    }
    Some((m, None))
}

/// A match at the call: the request and what the transport allocates for it on the
/// caller's goroutine are charged to the call line; the request's own allocation site
/// is followed back.
fn matched(
    pkg: &Package,
    file: &SourceFile,
    call: Node<'_>,
    subject: String,
    message: String,
) -> Match {
    let mut evidence = vec![file.location(call)];
    let call_line = syntax::span(call).start_line;
    for arg in syntax::call_args(call) {
        let mut found: Vec<Location> = Vec::new();
        locals::origins(pkg, file, arg, 4, &mut found);
        for l in found {
            if l.span.start_line != call_line && !evidence.contains(&l) {
                evidence.push(l);
            }
        }
    }
    Match {
        rule: META.id,
        location: file.location(call),
        subject,
        message,
        declaration: None,
        related: Vec::new(),
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

/// Whether the body of the response bound by `stmt` is closed (`resp.Body.Close()`,
/// deferred or not) or the response or its body is handed to code that may close it.
fn body_is_closed_or_handed_off(decl: Node<'_>, stmt: Node<'_>, src: &str) -> bool {
    locals::references_after(decl, stmt, src)
        .into_iter()
        .any(|r| closes(r, src))
}

/// Whether a reference to the response closes its body or hands the response or its
/// body on.
fn closes(r: Node<'_>, src: &str) -> bool {
    let (chain, top) = locals::selector_chain(r, src);
    match chain.as_slice() {
        ["Body", "Close", ..] => true,
        // `resp.Body.Read(p)` and the like keep it open.
        ["Body", _, ..] => false,
        ["Body"] => match locals::context(top, src) {
            Ctx::Arg(call) => {
                let callee = syntax::callee(call, src).unwrap_or("");
                !READERS.contains(&callee)
            }
            Ctx::Escapes => true,
            _ => false,
        },
        [] => matches!(locals::context(top, src), Ctx::Escapes | Ctx::Arg(_)),
        // Fields such as StatusCode and Header.
        _ => false,
    }
}

/// When every close of the body (or hand-off) is inside an `if` of the call's block whose
/// branch ends the function (`if resp.StatusCode/100 != 2 { ...; resp.Body.Close();
/// return err }`), the `if` and the `return` after it that leaves without closing: the
/// path that does not take the branch, usually the success, keeps the body open.
fn closed_only_in_a_branch<'t>(
    decl: Node<'t>,
    stmt: Node<'t>,
    src: &str,
) -> Option<(Node<'t>, Node<'t>)> {
    let list = stmt.parent().filter(|p| p.kind() == "statement_list")?;
    let func = syntax::enclosing_function(stmt);
    let mut branches: Vec<Node<'t>> = Vec::new();
    for r in locals::references_after(decl, stmt, src) {
        if !closes(r, src) {
            continue;
        }
        let top =
            std::iter::successors(Some(r), |n| n.parent()).find(|n| n.parent() == Some(list))?;
        if top.kind() != "if_statement" {
            return None;
        }
        let block = [
            top.child_by_field_name("consequence"),
            top.child_by_field_name("alternative"),
        ]
        .into_iter()
        .flatten()
        .find(|b| b.start_byte() <= r.start_byte() && r.end_byte() <= b.end_byte())?;
        if block.kind() != "block" || !terminates(block, src) {
            return None;
        }
        if !branches.contains(&top) {
            branches.push(top);
        }
    }
    let last = *branches.iter().max_by_key(|b| b.start_byte())?;
    let exit = flow::named(list)
        .into_iter()
        .filter(|s| s.start_byte() >= last.end_byte())
        .flat_map(|s| syntax::descendants_of_kind(s, "return_statement").chain(std::iter::once(s)))
        .filter(|r| r.kind() == "return_statement" && syntax::enclosing_function(*r) == func)
        .find(|r| !hands_on(*r, decl, src))?;
    Some((last, exit))
}

/// A `return` between the call statement `stmt` and the statement of the same block
/// that closes the body, other than in the call's error check (`if err != nil`, where
/// there is no body) and other than one handing the response on: on that path the body
/// stays open.
fn early_return_before_close<'t>(
    decl: Node<'t>,
    stmt: Node<'t>,
    err: Node<'t>,
    src: &str,
) -> Option<Node<'t>> {
    let list = stmt.parent().filter(|p| p.kind() == "statement_list")?;
    let closes_here: Vec<Node<'t>> = locals::references_after(decl, stmt, src)
        .into_iter()
        .filter(|r| {
            matches!(
                locals::selector_chain(*r, src).0.as_slice(),
                ["Body", "Close", ..]
            )
        })
        .collect();
    let top_of = |n: Node<'t>| {
        std::iter::successors(Some(n), |n| n.parent()).find(|n| n.parent() == Some(list))
    };
    // The first close that runs on every path (`defer resp.Body.Close()` or a plain
    // call in the call's block); else the first close at all.
    let close_stmt = closes_here
        .iter()
        .filter_map(|c| top_of(*c))
        .find(|t| matches!(t.kind(), "defer_statement" | "expression_statement"))
        .or_else(|| closes_here.first().and_then(|c| top_of(*c)))?;
    // A `return` after a close on its own path (`default: resp.Body.Close(); return
    // err`) leaves nothing open.
    let closed_before = |r: Node<'t>| {
        closes_here.iter().any(|c| {
            c.end_byte() <= r.start_byte()
                && std::iter::successors(Some(*c), |n| n.parent())
                    .find(|n| {
                        n.parent().is_some_and(|p| {
                            matches!(
                                p.kind(),
                                "statement_list"
                                    | "expression_case"
                                    | "default_case"
                                    | "type_case"
                                    | "communication_case"
                            )
                        })
                    })
                    .and_then(|st| st.parent())
                    .is_some_and(|p| {
                        p.start_byte() <= r.start_byte() && r.end_byte() <= p.end_byte()
                    })
        })
    };
    let func = syntax::enclosing_function(stmt);
    let err_decl = (err.kind() == "identifier" && text(err, src) != "_")
        .then(|| flow::declaring_ident(err, src))
        .flatten();
    let mentions = |n: Node<'_>, d: Option<Node<'_>>| {
        d.is_some_and(|d| {
            syntax::descendants_of_kind(n, "identifier")
                .any(|i| flow::declaring_ident(i, src) == Some(d))
        })
    };
    for s in flow::named(list) {
        if s.start_byte() < stmt.end_byte() {
            continue;
        }
        if s.start_byte() >= close_stmt.start_byte() {
            break;
        }
        if s.kind() == "if_statement" {
            let cond = s.child_by_field_name("condition");
            let error_check =
                cond.is_some_and(|c| mentions(c, err_decl) && !mentions(c, Some(decl)));
            if error_check {
                continue;
            }
        }
        let exit = syntax::descendants_of_kind(s, "return_statement")
            .filter(|r| syntax::enclosing_function(*r) == func)
            .find(|r| !hands_on(*r, decl, src) && !closed_before(*r));
        if exit.is_some() {
            return exit;
        }
    }
    None
}

/// Whether a `return` hands on the response bound by `decl` or its body: the caller's to
/// close then.
fn hands_on(ret: Node<'_>, decl: Node<'_>, src: &str) -> bool {
    syntax::descendants_of_kind(ret, "identifier").any(|i| {
        flow::declaring_ident(i, src) == Some(decl)
            && matches!(locals::selector_chain(i, src).0.as_slice(), [] | ["Body"])
    })
}

/// Whether a block always ends the function or the iteration.
fn terminates(block: Node<'_>, src: &str) -> bool {
    let Some(list) = flow::named(block)
        .into_iter()
        .find(|c| c.kind() == "statement_list")
    else {
        return false;
    };
    let Some(last) = flow::named(list).last().copied() else {
        return false;
    };
    match last.kind() {
        "return_statement" | "goto_statement" | "continue_statement" | "break_statement" => true,
        "expression_statement" => super::ticker_not_stopped::locals::is_fatal_call(last, src),
        _ => false,
    }
}

/// Inserts `defer resp.Body.Close()` after the error check that follows the call, or
/// after the call when the error is not checked.
fn close_fix(file: &SourceFile, b: &locals::Binding<'_>, name: &str, err: Node<'_>) -> Option<Fix> {
    let src: &str = &file.text;
    let err_name = (err.kind() == "identifier")
        .then(|| text(err, src))
        .filter(|e| *e != "_");
    let mut after = b.stmt;
    if let Some(e) = err_name {
        let checks_err = |s: Node<'_>| {
            s.kind() == "if_statement"
                && s.child_by_field_name("condition").is_some_and(|c| {
                    syntax::descendants_of_kind(c, "identifier").any(|i| text(i, src) == e)
                })
        };
        let next = std::iter::successors(b.stmt.next_named_sibling(), |s| s.next_named_sibling())
            .find(|s| s.kind() != "comment");
        match next {
            Some(s) if checks_err(s) => {
                let cond = s
                    .child_by_field_name("condition")
                    .map(|c| one_line(text(c, src)));
                let is_not_nil = cond.as_deref() == Some(&format!("{e}!=nil"));
                let ends = s
                    .child_by_field_name("consequence")
                    .is_some_and(|c| terminates(c, src));
                if !is_not_nil || !ends {
                    return None;
                }
                after = s;
            }
            _ => {
                // A check further down would come after a nil response is used.
                let later =
                    std::iter::successors(b.stmt.next_named_sibling(), |s| s.next_named_sibling())
                        .any(checks_err);
                if later {
                    return None;
                }
            }
        }
    }
    let edit = locals::insert_after_statement(file, after, &format!("defer {name}.Body.Close()"))?;
    Some(Fix {
        title: format!(
            "Close the response body when the function returns (defer {name}.Body.Close())"
        ),
        edits: vec![edit],
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::HttpBodyNotClosed;
    use crate::rules::testing::{apply_first_fix, check};
    use crate::rules::ticker_not_stopped::tests::{assert_go_builds, assert_go_vet};

    #[test]
    fn fixture_program_leak_http() {
        let got = crate::rules::ticker_not_stopped::tests::assert_fixture_wants(
            &HttpBodyNotClosed,
            "leak-http",
        );
        expect![[r#"
            main.go:50 [resp] response "resp" from c.client.Get in (*Checker).available is never closed: its connection stays busy with its buffers and goroutines
              evidence main.go:50-50
        "#]]
        .assert_eq(&got);
    }

    #[test]
    fn responses_never_closed() {
        check(
            &HttpBodyNotClosed,
            r#"
-- client.go --
package app

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

var client = &http.Client{Timeout: 5 * time.Second}

type API struct {
	http *http.Client
	base string
}

func Status(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

func Read(c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(res.Body)
}

func (a *API) User(id int) (string, error) {
	u := fmt.Sprintf("%s/users/%d", a.base, id)
	resp, err := a.http.Get(u)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	return b.String(), err
}

func Ping(url string) {
	resp, _ := client.Head(url)
	_ = resp.Header
	c := http.DefaultClient
	res, _ := c.Get(url)
	_ = res.Header
}

func Notify(url string) {
	_, _ = http.DefaultClient.Post(url, "text/plain", strings.NewReader("hi"))
	http.Get(url)
}

func Crawl(urls []string) {
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		fmt.Println(resp.Status)
	}
}
"#,
            expect![[r#"
                client.go:19 http-body-not-closed [resp] response "resp" from http.Get in Status is never closed: its connection stays busy with its buffers and goroutines
                  declared client.go:19
                  evidence client.go:19
                  fix: Close the response body when the function returns (defer resp.Body.Close())
                client.go:31 http-body-not-closed [res] response "res" from c.Do in Read is never closed: its connection stays busy with its buffers and goroutines
                  declared client.go:31
                  evidence client.go:31 client.go:27
                  fix: Close the response body when the function returns (defer res.Body.Close())
                client.go:40 http-body-not-closed [resp] response "resp" from a.http.Get in (*API).User is never closed: its connection stays busy with its buffers and goroutines
                  declared client.go:40
                  evidence client.go:40 client.go:39
                  fix: Close the response body when the function returns (defer resp.Body.Close())
                client.go:50 http-body-not-closed [resp] response "resp" from client.Head in Ping is never closed: its connection stays busy with its buffers and goroutines
                  declared client.go:50
                  evidence client.go:50
                  fix: Close the response body when the function returns (defer resp.Body.Close())
                client.go:53 http-body-not-closed [res] response "res" from c.Get in Ping is never closed: its connection stays busy with its buffers and goroutines
                  declared client.go:53
                  evidence client.go:53
                  fix: Close the response body when the function returns (defer res.Body.Close())
                client.go:58 http-body-not-closed [response] the response of http.DefaultClient.Post in Notify is discarded, so its body is never closed and its connection is never released
                  evidence client.go:58
                client.go:59 http-body-not-closed [response] the response of http.Get in Notify is discarded, so its body is never closed and its connection is never released
                  evidence client.go:59
                client.go:64 http-body-not-closed [resp] response "resp" from http.Get in a loop in Crawl is never closed: each iteration leaves a connection busy with its buffers and goroutines
                  declared client.go:64
                  evidence client.go:64
            "#]],
        );
    }

    #[test]
    fn closed_only_when_the_status_is_bad() {
        // post closes only on a bad status; check closes in the branch and after it;
        // fetch defers the close.
        check(
            &HttpBodyNotClosed,
            r#"
-- sink.go --
package app

import (
	"errors"
	"io"
	"net/http"
)

type Sink struct{ client *http.Client }

func (s *Sink) post(req *http.Request) error {
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return errors.New(resp.Status)
	}
	return nil
}

func (s *Sink) check(req *http.Request) error {
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return errors.New(resp.Status)
	}
	resp.Body.Close()
	return nil
}

func (s *Sink) fetch(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
"#,
            expect![[r#"
                sink.go:12 http-body-not-closed [resp] response "resp" from s.client.Do in (*Sink).post is closed only when `resp.StatusCode/100!=2`; the function returns at line 21 without closing it: that path leaves its connection busy with its buffers and goroutines
                  declared sink.go:12
                  evidence sink.go:12
                sink.go:21 http-body-not-closed [resp] returns here with the body of resp still open: response "resp" from s.client.Do in (*Sink).post is closed only when `resp.StatusCode/100!=2`; the function returns at line 21 without closing it: that path leaves its connection busy with its buffers and goroutines
                  declared sink.go:12
                  related sink.go:12 the response is obtained here; it is open at line 21
                  evidence sink.go:12
            "#]],
        );
    }

    #[test]
    fn early_return_before_the_deferred_close() {
        check(
            &HttpBodyNotClosed,
            r#"
-- client.go --
package app

import (
	"errors"
	"io"
	"net/http"
)

type Client struct{ hc *http.Client }

func (c *Client) Fetch(req *http.Request) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func CheckedFirst(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func HandedOn(url string) (*http.Response, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, nil
}

func Lookup(url string) ([]byte, bool, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, false, nil
	default:
		resp.Body.Close()
		return nil, false, errors.New(resp.Status)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, true, err
}

func LookupClosing(url string) ([]byte, bool, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, false, nil
	default:
		resp.Body.Close()
		return nil, false, errors.New(resp.Status)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, true, err
}
"#,
            expect![[r#"
                client.go:12 http-body-not-closed [resp] response "resp" from c.hc.Do in (*Client).Fetch is not closed when the function returns at line 17, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared client.go:12
                  evidence client.go:12
                client.go:17 http-body-not-closed [resp] returns here with the body of resp still open: response "resp" from c.hc.Do in (*Client).Fetch is not closed when the function returns at line 17, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared client.go:12
                  related client.go:12 the response is obtained here; it is open at line 17
                  evidence client.go:12
                client.go:48 http-body-not-closed [resp] response "resp" from http.Get in Lookup is not closed when the function returns at line 55, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared client.go:48
                  evidence client.go:48
                client.go:55 http-body-not-closed [resp] returns here with the body of resp still open: response "resp" from http.Get in Lookup is not closed when the function returns at line 55, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared client.go:48
                  related client.go:48 the response is obtained here; it is open at line 55
                  evidence client.go:48
            "#]],
        );
    }

    #[test]
    fn closed_or_handed_on_bodies_are_not_reported() {
        check(
            &HttpBodyNotClosed,
            r#"
-- ok.go --
package app

import (
	"encoding/json"
	"io"
	"net/http"
)

type Cache struct{}

func (Cache) Get(key string) (string, error) { return "", nil }

func Deferred(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(new(any))
}

func Returned(url string) (*http.Response, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func ReturnedDirectly(url string) (*http.Response, error) {
	return http.Get(url)
}

func Helper(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func drain(r *http.Response) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
}

func BodyHelper(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return decodeAndClose(resp.Body)
}

func decodeAndClose(rc io.ReadCloser) error { return rc.Close() }

func InClosure(url string) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer func() {
		_ = resp.Body.Close()
	}()
}

type Stream struct{ body io.ReadCloser }

func Open(url string) (*Stream, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return &Stream{body: resp.Body}, nil
}

func NotHTTP(c Cache) string {
	v, _ := c.Get("k")
	return v
}
-- shadow.go --
package app

type fakeHTTP struct{}

func (fakeHTTP) Get(string) (int, error) { return 0, nil }

func Shadow() int {
	http := fakeHTTP{}
	n, _ := http.Get("x")
	return n
}
-- ok_test.go --
package app

import (
	"net/http"
	"testing"
)

func TestGet(t *testing.T) {
	resp, _ := http.Get("http://127.0.0.1/")
	_ = resp
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn no_fix_when_the_error_check_comes_late_or_does_not_return() {
        check(
            &HttpBodyNotClosed,
            r#"
-- late.go --
package app

import (
	"log"
	"net/http"
)

func Late(url string) int {
	resp, err := http.Get(url)
	log.Println("fetched", url)
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

func LogsOnly(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		log.Println(err)
	}
	return resp.StatusCode
}
"#,
            expect![[r#"
                late.go:9 http-body-not-closed [resp] response "resp" from http.Get in Late is never closed: its connection stays busy with its buffers and goroutines
                  declared late.go:9
                  evidence late.go:9
                late.go:18 http-body-not-closed [resp] response "resp" from http.Get in LogsOnly is never closed: its connection stays busy with its buffers and goroutines
                  declared late.go:18
                  evidence late.go:18
            "#]],
        );
    }

    const FIX: &str = r#"
-- main.go --
package main

import (
	"fmt"
	"net/http"
)

func status(url string) (int, error) {
	resp, err := http.Get(url) // fetch
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", url, err)
	}
	return resp.StatusCode, nil
}

func main() {
	fmt.Println(status("http://127.0.0.1:1/"))
}
"#;

    #[test]
    fn fix_closes_after_the_error_check() {
        let fixed = apply_first_fix(&HttpBodyNotClosed, FIX, "main.go");
        expect![[r#"
            package main

            import (
            	"fmt"
            	"net/http"
            )

            func status(url string) (int, error) {
            	resp, err := http.Get(url) // fetch
            	if err != nil {
            		return 0, fmt.Errorf("get %s: %w", url, err)
            	}
            	defer resp.Body.Close()
            	return resp.StatusCode, nil
            }

            func main() {
            	fmt.Println(status("http://127.0.0.1:1/"))
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_vet(&fixed);
    }

    const FIX_UNCHECKED: &str = r#"
-- main.go --
package main

import (
	"fmt"
	"net/http"
)

func status(c *http.Client, url string) int {
	res, _ := c.Get(url)
	return res.StatusCode
}

func main() {
	fmt.Println(status(http.DefaultClient, "http://127.0.0.1:1/"))
}
"#;

    #[test]
    fn fix_closes_after_the_call_without_an_error_check() {
        let fixed = apply_first_fix(&HttpBodyNotClosed, FIX_UNCHECKED, "main.go");
        expect![[r#"
            package main

            import (
            	"fmt"
            	"net/http"
            )

            func status(c *http.Client, url string) int {
            	res, _ := c.Get(url)
            	defer res.Body.Close()
            	return res.StatusCode
            }

            func main() {
            	fmt.Println(status(http.DefaultClient, "http://127.0.0.1:1/"))
            }
        "#]]
        .assert_eq(&fixed);
        // go vet rightly points out that the error is never checked; the fix only
        // has to compile.
        assert_go_builds(&fixed);
    }

    #[test]
    fn a_helper_closing_the_body_on_some_paths_only() {
        // classify drains the body of a 2xx and a 4xx but returns for a 503 without it;
        // gatewayError returns for a 410 before its deferred close. describe always
        // closes (or hands the response on), and check returns early only for a nil
        // response: quiet.
        check(
            &HttpBodyNotClosed,
            r#"
-- h.go --
package app

import (
	"errors"
	"io"
	"net/http"
)

func drain(rc io.ReadCloser) { _, _ = io.Copy(io.Discard, rc); _ = rc.Close() }

func classify(resp *http.Response) error {
	switch code := resp.StatusCode; {
	case code < 300:
		drain(resp.Body)
		return nil
	case code >= 500:
		return errors.New("retry")
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		drain(resp.Body)
		return errors.New(string(msg))
	}
}

func gatewayError(resp *http.Response) error {
	if resp.StatusCode == http.StatusGone {
		return errors.New("gone")
	}
	defer resp.Body.Close()
	return errors.New(resp.Status)
}

func describe(resp *http.Response, keep func(*http.Response)) string {
	if resp.StatusCode == 304 {
		keep(resp)
		return "cached"
	}
	defer resp.Body.Close()
	return resp.Status
}

func check(resp *http.Response) {
	if resp == nil {
		return
	}
	resp.Body.Close()
}
"#,
            expect![[r#"
                h.go:17 http-body-not-closed [resp] classify closes the body of response "resp" on its other paths, but returns here without closing it: the caller's connection stays busy with its buffers and goroutines
                  declared h.go:11
                  related h.go:14 the body is closed here on the other paths
                  evidence h.go:17
                h.go:27 http-body-not-closed [resp] gatewayError closes the body of response "resp" on its other paths, but returns here without closing it: the caller's connection stays busy with its buffers and goroutines
                  declared h.go:25
                  related h.go:29 the body is closed here on the other paths
                  evidence h.go:27
            "#]],
        );
    }

    #[test]
    fn a_helper_check_that_returns_early_carries_the_finding() {
        // post returns on checkStatus's verdict before its deferred Close: reported on
        // the Do call, on the return and on the `if` that calls checkStatus.
        check(
            &HttpBodyNotClosed,
            r#"
-- a.go --
package a

import (
	"errors"
	"io"
	"net/http"
)

func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 400 {
		return errors.New(resp.Status)
	}
	return nil
}

func post(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	if err := checkStatus(resp); err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
"#,
            expect![[r#"
                a.go:17 http-body-not-closed [resp] response "resp" from c.Do in post is not closed when the function returns at line 22, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared a.go:17
                  evidence a.go:17
                a.go:21 http-body-not-closed [resp] the check here returns with the body of resp still open: response "resp" from c.Do in post is not closed when the function returns at line 22, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared a.go:17
                  related a.go:17 the response is obtained here; it is open at line 22
                  evidence a.go:17
                a.go:22 http-body-not-closed [resp] returns here with the body of resp still open: response "resp" from c.Do in post is not closed when the function returns at line 22, before the body is closed: that path leaves its connection busy with its buffers and goroutines
                  declared a.go:17
                  related a.go:17 the response is obtained here; it is open at line 22
                  evidence a.go:17
            "#]],
        );
    }
}
