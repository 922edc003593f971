//! `context-cancel-not-called`: the cancel function of `context.WithCancel`,
//! `WithTimeout` or `WithDeadline` (and their `Cause` forms) is discarded or never
//! called, so the child context stays registered with its parent (and its timer
//! pending) until the parent is done or the deadline passes.

use tree_sitter::Node;

use super::syntax::{self, text};
use super::ticker_not_stopped::locals::{self, Ctx};
use super::{flow, partial_release};
use super::{
    Context, EvidenceKind, Fix, Location, Match, Package, Related, Rule, RuleMeta, SourceFile,
    TextEdit,
};

/// The `context-cancel-not-called` rule.
#[derive(Debug)]
pub struct ContextCancelNotCalled;

static META: RuleMeta = RuleMeta {
    id: "context-cancel-not-called",
    name: "Context cancel not called",
    summary: "The cancel function of context.WithCancel/WithTimeout/WithDeadline is discarded or never called, so the child context stays attached to its parent.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for ContextCancelNotCalled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let src: &str = &file.text;
            let root = file.tree.root_node();
            let Some(context) = flow::import_name(root, src, "context") else {
                continue;
            };
            let imports = flow::imports(file);
            for call in syntax::descendants_of_kind(root, "call_expression") {
                let ctor = match locals::qualified_call(call, src, context) {
                    Some(func) if is_constructor(func) => Ctor {
                        what: format!("context.{func}"),
                        func: func.to_string(),
                        inner: None,
                    },
                    Some("AfterFunc") => {
                        for m in after_func(pkg, file, call) {
                            let known = out
                                .iter()
                                .any(|o| o.location == m.location && o.message == m.message);
                            if !known {
                                out.push(m);
                            }
                        }
                        continue;
                    }
                    Some(_) => continue,
                    None => match wrapper_call(pkg, file, &imports, call) {
                        Some(c) => c,
                        None => continue,
                    },
                };
                for m in check_call(pkg, file, call, context, &ctor) {
                    // Two stores of a field of one name find the same paths.
                    let known = out
                        .iter()
                        .any(|o| o.location == m.location && o.message == m.message);
                    if !known {
                        out.push(m);
                    }
                }
            }
        }
    }
}

/// The functions of package context that return a child context and its cancel.
fn is_constructor(func: &str) -> bool {
    matches!(
        func,
        "WithCancel"
            | "WithTimeout"
            | "WithDeadline"
            | "WithCancelCause"
            | "WithTimeoutCause"
            | "WithDeadlineCause"
    )
}

/// What a call creates: `context.WithTimeout` itself, or a workspace function that
/// returns what it creates (`m.scrapeContext`, `reqctx.New`).
struct Ctor {
    /// How the message names the call.
    what: String,
    /// The `context` function that creates the child (`WithTimeout`).
    func: String,
    /// For a wrapper, where it calls that function: the child context and its timer are
    /// allocated there.
    inner: Option<Location>,
}

/// A call of a workspace function or method that hands a `context.With*` child and its
/// cancel function to its caller: declared with a `context.CancelFunc` (or
/// `CancelCauseFunc`) last result and calling a `context.With*` constructor directly.
/// Methods are found by name in the package; functions in the package or, through a
/// qualified call, in another workspace package.
fn wrapper_call(
    pkg: &Context<'_>,
    file: &SourceFile,
    imports: &[(String, String)],
    call: Node<'_>,
) -> Option<Ctor> {
    let src: &str = &file.text;
    let callee = flow::unparen(call.child_by_field_name("function")?);
    let (label, name, operand) = match callee.kind() {
        "identifier" => (text(callee, src).to_string(), text(callee, src), None),
        "selector_expression" => {
            let operand = flow::unparen(callee.child_by_field_name("operand")?);
            let name = text(callee.child_by_field_name("field")?, src);
            (
                format!("{}.{name}", text(operand, src)),
                name,
                Some(operand),
            )
        }
        _ => return None,
    };
    // `pkg.F(...)` with `pkg` an import of another workspace package.
    let other = operand
        .filter(|o| o.kind() == "identifier" && flow::declaring_ident(*o, src).is_none())
        .and_then(|o| imports.iter().find(|(n, _)| n == text(o, src)))
        .map(|(_, path)| pkg.other_package(path));
    let owner;
    let decls = match (other, operand) {
        (Some(other), _) => {
            owner = other?;
            flow::package_function(&owner, name).into_iter().collect()
        }
        (None, None) => flow::package_function(pkg, name).into_iter().collect(),
        (None, Some(_)) => flow::package_methods(pkg, name),
    };
    decls.into_iter().find_map(|(f, decl)| {
        let inner = returns_child_context(f, decl)?;
        Some(Ctor {
            what: format!("{label} (context.{})", inner.0),
            func: inner.0.to_string(),
            inner: Some(inner.1),
        })
    })
}

/// For a function declared to return a cancel function last, the `context.With*` call
/// in its body and its location.
fn returns_child_context<'s>(f: &'s SourceFile, decl: Node<'_>) -> Option<(&'s str, Location)> {
    let src: &str = &f.text;
    let context = flow::import_name(f.tree.root_node(), src, "context")?;
    let result = decl.child_by_field_name("result")?;
    let last_type = if result.kind() == "parameter_list" {
        let last = flow::named(result).into_iter().last()?;
        last.child_by_field_name("type")?
    } else {
        result
    };
    let ty = text(last_type, src);
    if ty != format!("{context}.CancelFunc") && ty != format!("{context}.CancelCauseFunc") {
        return None;
    }
    let body = decl.child_by_field_name("body")?;
    syntax::descendants_of_kind(body, "call_expression")
        .into_iter()
        .find_map(|c| {
            let func = locals::qualified_call(c, src, context).filter(|f| is_constructor(f))?;
            Some((func, f.location(c)))
        })
}

/// What the child context keeps until it is canceled.
fn consequence(func: &str) -> &'static str {
    if func == "AfterFunc" {
        "stays registered with its context, with the function and all it captures, until the context is canceled"
    } else if func.starts_with("WithCancel") {
        "stays registered with its parent until the parent is canceled"
    } else {
        "stays registered with its parent, its timer pending, until the deadline passes"
    }
}

fn check_call(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    context: &str,
    ctor: &Ctor,
) -> Vec<Match> {
    let mut late = Vec::new();
    let one = check_one(pkg, file, call, context, ctor, &mut late);
    one.into_iter().chain(late).collect()
}

/// [`check_call`]'s match for the call itself; matches on the paths of the constructor's
/// callers go to `late`.
fn check_one(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    context: &str,
    ctor: &Ctor,
    late: &mut Vec<Match>,
) -> Option<Match> {
    let src: &str = &file.text;
    let args = syntax::call_args(call);
    let func = ctor.func.as_str();
    // A child of Background or TODO without a deadline is registered nowhere: it is
    // collected with its last reference.
    if ctor.inner.is_none() && func.starts_with("WithCancel") {
        let parent = args.first().copied().map(flow::unparen);
        let root_parent = parent.and_then(|p| locals::qualified_call(p, src, context));
        if matches!(root_parent, Some("Background" | "TODO")) {
            return None;
        }
    }
    let what = ctor.what.clone();
    let where_ = locals::function_label(file, call);
    let Some(b) = locals::binding_of(call) else {
        let parent = flow::parent_skipping_parens(call)?;
        if parent.kind() != "expression_statement" {
            // Returned or passed on: the receiver owns the cancel function.
            return None;
        }
        let message = format!(
            "the context and cancel function returned by {what} in {where_} are discarded, so the child context {}",
            consequence(func)
        );
        return Some(matched(pkg, file, call, ctor, what, message));
    };
    let results = b.results()?;
    let (ctx, cancel) = match results {
        [ctx, cancel] => (*ctx, *cancel),
        _ => return None,
    };
    let subject = if text(ctx, src) != "_" {
        text(ctx, src).split_whitespace().collect::<String>()
    } else {
        what.clone()
    };
    match cancel.kind() {
        "identifier" if text(cancel, src) == "_" => {
            let message = format!(
                "the cancel function of {what} in {where_} is discarded, so the child context \"{subject}\" {}",
                consequence(func)
            );
            let mut m = matched(pkg, file, call, ctor, subject, message);
            if ctx.kind() == "identifier" && text(ctx, src) != "_" {
                m.declaration = flow::declaring_ident(ctx, src).map(|d| file.location(d));
            }
            if let Some(fix) = discarded_fix(pkg, file, &b, cancel) {
                m.fixes.push(fix);
            }
            Some(m)
        }
        "identifier" => {
            let name = text(cancel, src);
            match flow::declaring_ident(cancel, src) {
                Some(decl) => {
                    if let Some(fields) = stored_in_fields(decl, b.stmt, src) {
                        let mut dead = Uncalled::default();
                        if fields
                            .iter()
                            .any(|f| field_called(pkg, f, None, cancel, &mut dead))
                        {
                            // Called, but a caller of the constructor may leave before
                            // the call.
                            late.extend(released_late(pkg, file, call, ctor, &fields, &subject));
                            for f in &fields {
                                late.extend(dropped_entries(
                                    pkg, file, call, cancel, ctor, f, &subject,
                                ));
                                late.extend(overwritten_holders(
                                    pkg, file, call, cancel, ctor, f, &subject,
                                ));
                            }
                            return None;
                        }
                        let field = fields.first()?;
                        let message = format!(
                            "cancel function \"{name}\" of {what} in {where_} is stored in field \"{field}\" and {}, so the child context \"{subject}\" {}",
                            uncalled(&dead),
                            consequence(func)
                        );
                        let mut m = matched(pkg, file, call, ctor, subject, message);
                        m.declaration = locals::field_declaration(pkg, field);
                        return Some(m);
                    }
                    if local_is_used(decl, b.stmt, src) {
                        return None;
                    }
                    let message = format!(
                        "cancel function \"{name}\" of {what} in {where_} is never called, so the child context \"{subject}\" {}",
                        consequence(func)
                    );
                    let mut m = matched(pkg, file, call, ctor, subject, message);
                    m.declaration = Some(file.location(decl));
                    let fixable = locals::loop_in_function(call).is_none();
                    let edit =
                        locals::insert_after_statement(file, b.stmt, &format!("defer {name}()"))
                            .filter(|_| fixable);
                    if let Some(edit) = edit {
                        m.fixes.push(Fix {
                            title: format!("Call {name} when {where_} returns (defer {name}())"),
                            edits: vec![edit],
                        });
                    }
                    Some(m)
                }
                None => {
                    if package_name_used(pkg, name, cancel) {
                        return None;
                    }
                    let message = format!(
                        "package-level cancel function \"{name}\" of {what} in {where_} is never called, so the child context {}",
                        consequence(func)
                    );
                    let mut m = matched(pkg, file, call, ctor, subject, message);
                    m.declaration = locals::package_declaration(pkg, name);
                    Some(m)
                }
            }
        }
        "selector_expression" => {
            let field = cancel.child_by_field_name("field")?;
            let field = text(field, src);
            let mut dead = Uncalled::default();
            let owner = operand_type(pkg, cancel, src);
            if field_called(pkg, field, owner.as_deref(), cancel, &mut dead) {
                // Called, but maybe not on every path of a function releasing it.
                late.extend(kept_on_some_paths(pkg, file, call, ctor, field, &subject));
                late.extend(dropped_entries(
                    pkg, file, call, cancel, ctor, field, &subject,
                ));
                late.extend(overwritten_holders(
                    pkg, file, call, cancel, ctor, field, &subject,
                ));
                late.extend(dropped_by_callers(
                    pkg, file, call, cancel, ctor, field, &subject,
                ));
                return None;
            }
            let message = format!(
                "cancel function of {what} in {where_} is stored in field \"{field}\" and {}, so the child context {}",
                if dead.is_empty() {
                    "nothing in the package calls it".to_string()
                } else {
                    uncalled(&dead)
                },
                consequence(func)
            );
            let mut m = matched(pkg, file, call, ctor, subject, message);
            m.declaration = locals::field_declaration(pkg, field);
            Some(m)
        }
        _ => None,
    }
}

/// For a cancel function stored in a field of a struct that its function returns
/// (`return &run{ctx: ctx, cancel: cancel}` in `begin`), the first caller of that
/// constructor that returns between the constructor call and the statement that releases
/// the struct (`defer a.end(r)`, `r.cancel()`, `defer j.Release()`, where `end` and
/// `Release` call the field) without handing the struct on: on that path the child
/// context is never cancelled. The match is on that `return`, relating the constructor
/// call and the release.
fn released_late(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    ctor: &Ctor,
    fields: &[&str],
    subject: &str,
) -> Vec<Match> {
    let mut out = Vec::new();
    let src: &str = &file.text;
    // The struct holding the cancel is returned by its function.
    let Some(ctor_fn) = syntax::enclosing_function(call).filter(|f| f.kind() != "func_literal")
    else {
        return out;
    };
    let returned = syntax::descendants_of_kind(ctor_fn, "return_statement").any(|r| {
        syntax::descendants_of_kind(r, "keyed_element").any(|k| {
            k.named_child(0)
                .map(|key| text(key, src).trim().to_string())
                .is_some_and(|key| fields.contains(&key.as_str()))
        })
    });
    let Some(ctor_name) = syntax::function_name(ctor_fn, src).filter(|_| returned) else {
        return out;
    };
    // Functions and methods that call the field on a parameter or receiver.
    let releasers = releasers(pkg, fields);
    for (cf, ccall) in flow::callers(pkg, ctor_fn, src) {
        let csrc: &str = &cf.text;
        let Some(stmt) = ccall
            .parent()
            .and_then(|l| l.parent())
            .filter(|s| s.kind() == "short_var_declaration")
        else {
            continue;
        };
        let left = flow::items(stmt.child_by_field_name("left"));
        let [v] = left.as_slice() else {
            continue;
        };
        let name = text(*v, csrc);
        let Some(list) = stmt.parent().filter(|p| p.kind() == "statement_list") else {
            continue;
        };
        let func = syntax::enclosing_function(stmt);
        let mentions = |n: Node<'_>| {
            syntax::descendants_of_kind(n, "identifier")
                .any(|i| text(i, csrc) == name && flow::declaring_ident(i, csrc) == Some(*v))
        };
        let releases = |st: Node<'_>| -> bool {
            let call = match st.kind() {
                "defer_statement" | "expression_statement" => st.named_child(0),
                _ => None,
            };
            let Some(call) = call.filter(|c| c.kind() == "call_expression") else {
                return false;
            };
            let is_v = |n: Node<'_>| {
                let n = flow::unparen(n);
                n.kind() == "identifier" && mentions(n)
            };
            partial_release::releases_struct(call, csrc, &is_v, fields, &releasers)
        };
        let stmts = flow::named(list);
        let Some(release) = stmts
            .iter()
            .copied()
            .find(|st| st.start_byte() > stmt.end_byte() && releases(*st))
        else {
            // Handed to a call whose caller releases it only when the call fails: the
            // callee must release it or hand it on on every path that succeeds.
            let handed = stmts
                .iter()
                .copied()
                .filter(|st| st.start_byte() > stmt.end_byte())
                .find_map(|st| released_on_error(pkg, cf, st, &stmts, &mentions, &releases));
            if let Some((hf, decl, pos)) = handed {
                if let Some(m) = succeeds_without_release(
                    pkg,
                    file,
                    call,
                    ctor,
                    fields,
                    subject,
                    &releasers,
                    hf,
                    decl,
                    pos,
                    name,
                    ctor_name,
                    (cf, ccall),
                ) {
                    out.push(m);
                }
            }
            continue;
        };
        let exit = stmts
            .iter()
            .copied()
            .filter(|st| st.start_byte() > stmt.end_byte() && st.end_byte() <= release.start_byte())
            .flat_map(|st| {
                syntax::descendants_of_kind(st, "return_statement")
                    .chain(std::iter::once(st).filter(|s| s.kind() == "return_statement"))
                    .collect::<Vec<_>>()
            })
            .find(|r| {
                syntax::enclosing_function(*r) == func
                    && !mentions(*r)
                    && !released_on_its_path(*r, list, &releases)
            });
        let Some(exit) = exit else {
            continue;
        };
        let caller = locals::function_label(cf, ccall);
        let line = syntax::span(exit).start_line;
        let message = format!(
            "{caller} returns here, before `{}` (line {}), without releasing \"{name}\" from {ctor_name}: the cancel function {ctor_name} stored in field \"{}\" is not called on this path, so the child context \"{subject}\" {}",
            super::defer_in_loop::one_line(text(release, csrc)),
            syntax::span(release).start_line,
            fields[0],
            consequence(&ctor.func)
        );
        let mut m = matched(pkg, file, call, ctor, subject.to_string(), message);
        // What the child context keeps reachable: the locals its arguments read
        // (`withWorkspace(a.pool.ctx, ws)` keeps `ws := a.pool.ws.acquire(id)`), whose
        // lines carry what their calls allocate.
        for arg in syntax::call_args(call) {
            retained_lines(file, arg, 0, &mut m.evidence);
        }
        m.related.push(Related {
            location: cf.location(ccall),
            message: format!("\"{name}\" is made here by {ctor_name}"),
        });
        m.related.push(Related {
            location: cf.location(release),
            message: format!("released here, after the return at line {line}"),
        });
        m.location = cf.location(exit);
        out.push(m);
    }
    out
}

/// For a cancel function stored in a field (`job.ctx, job.cancel =
/// context.WithCancel(...)`) and called directly or by a method (`job.finish()`): the
/// paths of the package's functions that release their parameter holding the struct on
/// other paths and not on this one. A match on each such path's last statement, with
/// what the context's values keep as evidence.
fn kept_on_some_paths(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    ctor: &Ctor,
    field: &str,
    subject: &str,
) -> Vec<Match> {
    let fields = [field];
    let releasers = releasers(pkg, &fields);
    let mut out = Vec::new();
    for (pf, kept) in partial_release::unreleased_params(pkg, &fields, &releasers) {
        let label = locals::function_label(pf, kept.at);
        let (function, held) = if ctor.func == "AfterFunc" {
            ("stop function", "the function whose stop is")
        } else {
            ("cancel function", "the child context")
        };
        let message = format!(
            "{label} releases the struct holding {function} \"{field}\" of {} on its other paths (line {}), but not on this one, so {held} \"{subject}\" {}",
            ctor.what,
            syntax::span(kept.release).start_line,
            consequence(&ctor.func)
        );
        out.push(at_path(
            pkg,
            (file, call, ctor),
            subject,
            message,
            pf.location(kept.at),
            (pf.location(kept.release), "released here on another path"),
        ));
    }
    out
}

/// A match for the child context made by `call`, moved to `at` (the path that keeps it),
/// relating the call and the release elsewhere; the evidence is what the context's
/// values keep, here and in the callers.
fn at_path(
    pkg: &Context<'_>,
    (file, call, ctor): (&SourceFile, Node<'_>, &Ctor),
    subject: &str,
    message: String,
    at: Location,
    (release, note): (Location, &str),
) -> Match {
    let mut m = matched(pkg, file, call, ctor, subject.to_string(), message);
    for arg in syntax::call_args(call) {
        retained_lines(file, arg, 0, &mut m.evidence);
        held_by_callers(pkg, file, arg, &mut m.evidence);
    }
    m.related.push(Related {
        location: file.location(call),
        message: if ctor.func == "AfterFunc" {
            "the function is registered here by context.AfterFunc".to_string()
        } else {
            format!(
                "the child context and its cancel are made here by {}",
                ctor.what
            )
        },
    });
    m.related.push(Related {
        location: release,
        message: note.to_string(),
    });
    m.location = at;
    m
}

/// For a cancel function stored in a field of a struct its function returns (`s.ctx,
/// s.cancel = context.WithCancel(...)` in `NewSession`, then `return s`) and released
/// by a method (`Close`): the callers, in this package or another, keeping the struct in
/// a local (`sess := s.engine.NewSession(s.lifetime)`) that some path neither releases
/// nor hands on (`return nil, nil, err` after a failed parse). A match on each such
/// path, where the release belongs.
fn dropped_by_callers(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    cancel: Node<'_>,
    ctor: &Ctor,
    field: &str,
    subject: &str,
) -> Vec<Match> {
    let src: &str = &file.text;
    let Some(func) = syntax::enclosing_function(call)
        .filter(|f| matches!(f.kind(), "function_declaration" | "method_declaration"))
    else {
        return Vec::new();
    };
    let Some(holder) = cancel
        .child_by_field_name("operand")
        .map(flow::unparen)
        .filter(|o| o.kind() == "identifier")
        .map(|o| text(o, src))
    else {
        return Vec::new();
    };
    let returns_holder = syntax::descendants_of_kind(func, "return_statement").any(|r| {
        flow::named(r)
            .into_iter()
            .flat_map(|l| flow::items(Some(l)))
            .any(|v| text(flow::unparen(v), src) == holder)
    });
    // Only handed back: a constructor that also registers it (`s.sessions[id] = sess`)
    // or hands it to another function keeps it elsewhere too.
    let in_ctor =
        |n: Node<'_>| call.start_byte() <= n.start_byte() && n.end_byte() <= call.end_byte();
    let stored = syntax::descendants(func)
        .filter(|n| !in_ctor(*n))
        .any(|n| match n.kind() {
            "assignment_statement" | "short_var_declaration" => {
                flow::items(n.child_by_field_name("right"))
                    .iter()
                    .any(|r| text(flow::unparen(*r), src) == holder)
            }
            "argument_list" => flow::named(n)
                .iter()
                .any(|a| text(flow::unparen(*a), src) == holder),
            "send_statement" | "go_statement" | "func_literal" => {
                syntax::descendants_of_kind(n, "identifier").any(|i| text(i, src) == holder)
            }
            _ => false,
        });
    if !returns_holder || stored {
        return Vec::new();
    }
    let fields = [field];
    let releasers = releasers(pkg, &fields);
    if releasers.is_empty() {
        return Vec::new();
    }
    // What the struct's literal keeps (`sc: e.scratch.Get().(*scratch)`: the pool's
    // buffers).
    let mut kept_by_literal = Vec::new();
    let literal = syntax::descendants_of_kind(func, "return_statement")
        .flat_map(|r| syntax::descendants_of_kind(r, "identifier").collect::<Vec<_>>())
        .find(|i| text(*i, src) == holder)
        .and_then(|i| flow::resolve_ident(i, src))
        .and_then(|b| b.value)
        .map(flow::unparen)
        .map(|v| match v.kind() {
            "unary_expression" => v
                .child_by_field_name("operand")
                .map(flow::unparen)
                .unwrap_or(v),
            _ => v,
        })
        .filter(|v| v.kind() == "composite_literal");
    if let Some(lit) = literal {
        literal_values(pkg, file, lit, &mut kept_by_literal);
    }
    let mut out = Vec::new();
    let mut visit = |cpkg: &Package, cf: &SourceFile, c: Node<'_>| -> bool {
        let csrc: &str = &cf.text;
        let var = flow::parent_skipping_parens(c)
            .filter(|p| p.kind() == "expression_list")
            .and_then(|l| l.parent())
            .filter(|st| st.kind() == "short_var_declaration")
            .and_then(|st| flow::items(st.child_by_field_name("left")).first().copied())
            .map(|v| text(v, csrc));
        let body = syntax::enclosing_function(c).and_then(|f| f.child_by_field_name("body"));
        let (Some(var), Some(body)) = (var, body) else {
            return true;
        };
        let (kept, _) =
            partial_release::unreleased_local(cpkg, csrc, body, var, &fields, &releasers);
        for at in kept {
            let label = locals::function_label(cf, at);
            let message = format!(
                "{label} leaves without releasing \"{var}\", the struct {} returns holding cancel function \"{field}\" of {}, and without handing it on, so the child context \"{subject}\" {}",
                flow::function_label(func, src),
                ctor.what,
                consequence(&ctor.func)
            );
            let mut m = at_path(
                pkg,
                (file, call, ctor),
                subject,
                message,
                cf.location(at),
                (cf.location(c), "the struct is made here"),
            );
            for l in &kept_by_literal {
                flow::push_unique(&mut m.evidence, l.clone());
            }
            out.push(m);
        }
        true
    };
    for (cf, c) in flow::callers(pkg, func, src) {
        visit(pkg, cf, c);
    }
    flow::calls_from_other_packages(pkg, func, src, &mut visit);
    out
}

/// The composite literals of type `holder` in the function making `call`: the struct
/// that keeps the cancel function, made beside the context.
fn holder_literals<'t>(file: &SourceFile, call: Node<'t>, holder: &str) -> Vec<Node<'t>> {
    let src: &str = &file.text;
    syntax::enclosing_function(call)
        .map(|func| {
            syntax::descendants_of_kind(func, "composite_literal")
                .filter(|lit| {
                    lit.child_by_field_name("type")
                        .is_some_and(|t| text(t, src) == holder)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where the values of a struct literal's keyed fields are allocated
/// (`sc: e.scratch.Get().(*scratch)`: the pool's New).
fn literal_values(pkg: &Package, file: &SourceFile, lit: Node<'_>, out: &mut Vec<Location>) {
    for el in syntax::descendants_of_kind(lit, "keyed_element") {
        if let Some(v) = el.child_by_field_name("value") {
            flow::alloc_sites(pkg, file, v, out);
        }
    }
}

/// The struct type holding a cancel function's field: `s.cancel`'s, or the literal's the
/// local is stored in (`&probeWorker{cancel: cancel}`).
fn holder_type(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    cancel: Node<'_>,
    field: &str,
) -> Option<String> {
    let csrc: &str = &file.text;
    match cancel.kind() {
        "selector_expression" => operand_type(pkg, cancel, csrc),
        _ => syntax::enclosing_function(call).and_then(|func| {
            syntax::descendants_of_kind(func, "keyed_element")
                .find(|el| {
                    el.child_by_field_name("key")
                        .is_some_and(|k| text(k, csrc) == field)
                        && el
                            .child_by_field_name("value")
                            .is_some_and(|v| text(v, csrc) == text(cancel, csrc))
                })
                .and_then(|el| syntax::ancestors(el).find(|a| a.kind() == "composite_literal"))
                .and_then(|lit| lit.child_by_field_name("type"))
                .map(|t| text(t, csrc).to_string())
        }),
    }
}

/// For a cancel function kept in a struct (`&session{ctx: sctx, cancel: cancel}`) held
/// by a field of another struct (`t.sess`) that the package releases somewhere
/// (`t.sess.close()`): an assignment replacing the field's value (`t.sess = next`) in a
/// function that neither releases the old value before it nor runs only while the field
/// is nil (`if t.sess == nil { t.sess = s }`). The old child context is never canceled:
/// a match on each such assignment.
fn overwritten_holders(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    cancel: Node<'_>,
    ctor: &Ctor,
    field: &str,
    subject: &str,
) -> Vec<Match> {
    let Some(holder) = holder_type(pkg, file, call, cancel, field) else {
        return Vec::new();
    };
    let holder = holder
        .trim_start_matches('&')
        .trim_start_matches('*')
        .to_string();
    let fields = [field];
    let releasers = releasers(pkg, &fields);
    let held_in: Vec<&str> = pkg
        .program_files()
        .flat_map(|f| f.summary.structs.iter())
        .flat_map(|st| st.fields.iter())
        .filter(|fd| fd.type_text.trim_start_matches('*') == holder)
        .map(|fd| fd.name.as_str())
        .collect();
    if held_in.is_empty() {
        return Vec::new();
    }
    // A release of the holding field somewhere: `t.sess.close()`.
    let field_of = |n: Node<'_>, src: &str| {
        let n = flow::unparen(n);
        (n.kind() == "selector_expression")
            .then(|| n.child_by_field_name("field"))
            .flatten()
            .map(|f| text(f, src).to_string())
    };
    let mut released_somewhere: Option<(&SourceFile, Node<'_>)> = None;
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for c in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            let is_var =
                |n: Node<'_>| field_of(n, src).is_some_and(|x| held_in.contains(&x.as_str()));
            if partial_release::releases_struct(c, src, &is_var, &fields, &releasers) {
                released_somewhere = released_somewhere.or(Some((f, c)));
            }
        }
    }
    let Some((rf, release)) = released_somewhere else {
        return Vec::new();
    };
    // What the holder's literal keeps, made beside the context.
    let mut kept_by_literal = Vec::new();
    for lit in holder_literals(file, call, &holder) {
        flow::push_unique(&mut kept_by_literal, file.location(lit));
        literal_values(pkg, file, lit, &mut kept_by_literal);
    }
    let mut out = Vec::new();
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for a in syntax::descendants_of_kind(f.tree.root_node(), "assignment_statement") {
            if flow::operator(a, src) != "=" {
                continue;
            }
            let left = flow::items(a.child_by_field_name("left"));
            let right = flow::items(a.child_by_field_name("right"));
            let ([target], [value]) = (left.as_slice(), right.as_slice()) else {
                continue;
            };
            let target = flow::unparen(*target);
            let held = field_of(target, src).is_some_and(|x| held_in.contains(&x.as_str()));
            if !held || text(*value, src) == "nil" {
                continue;
            }
            let lhs = text(target, src);
            let Some(func) = syntax::enclosing_function(a) else {
                continue;
            };
            // Only while the field is nil: nothing to release.
            let guarded = syntax::ancestors(a)
                .take_while(|n| n.id() != func.id())
                .filter(|n| n.kind() == "if_statement")
                .any(|i| {
                    i.child_by_field_name("condition").is_some_and(|c| {
                        partial_release::compares_to_nil(c, lhs, src) && text(c, src).contains("==")
                    })
                });
            // Released before, or captured first (`old := t.sess`).
            let is_lhs = |n: Node<'_>| text(flow::unparen(n), src) == lhs;
            let released_before = syntax::descendants_of_kind(func, "call_expression").any(|c| {
                c.end_byte() <= a.start_byte()
                    && partial_release::releases_struct(c, src, &is_lhs, &fields, &releasers)
            });
            let saved = syntax::descendants(func).any(|n| {
                n.end_byte() <= a.start_byte()
                    && matches!(n.kind(), "short_var_declaration" | "assignment_statement")
                    && flow::items(n.child_by_field_name("right"))
                        .iter()
                        .any(|r| text(flow::unparen(*r), src) == lhs)
            });
            if guarded || released_before || saved {
                continue;
            }
            let label = locals::function_label(f, a);
            let message = format!(
                "{label} replaces \"{lhs}\" without releasing the {holder} it holds, whose cancel function \"{field}\" of {} nothing calls after that, so the child context \"{subject}\" {}",
                ctor.what,
                consequence(&ctor.func)
            );
            let mut m = at_path(
                pkg,
                (file, call, ctor),
                subject,
                message,
                f.location(a),
                (
                    rf.location(release),
                    "released here when the holder is done with it",
                ),
            );
            for l in &kept_by_literal {
                flow::push_unique(&mut m.evidence, l.clone());
            }
            out.push(m);
        }
    }
    out
}

/// For a cancel function kept in a field of the values of a map field (`m.sessions[s.ID]
/// = s` with `s.cancel`, `m.workers[uid] = &probeWorker{cancel: cancel}`): the removals
/// of an entry that drop it without calling the field, while another removal calls it.
/// A removal is a `delete` from the map in a function calling no release, or a call of a
/// function that deletes and returns the entry (`remove(id) *Session`) whose result is
/// discarded or only compared with nil (`if m.remove(id) != nil`). A match on each.
fn dropped_entries(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    cancel: Node<'_>,
    ctor: &Ctor,
    field: &str,
    subject: &str,
) -> Vec<Match> {
    let fields = [field];
    let releasers = releasers(pkg, &fields);
    let releases = |c: Node<'_>, src: &str| {
        syntax::called_name(c, src)
            .is_some_and(|n| n == field || releasers.iter().any(|r| r.0 == n))
    };
    let Some(holder) = holder_type(pkg, file, call, cancel, field) else {
        return Vec::new();
    };
    // A map of the structs themselves: deleting from a map of maps of them (`byUser`,
    // whose inner map is deleted once empty) removes no entry.
    let holds_entries = |map_field: &str| {
        flow::field_type_text(pkg, map_field).is_some_and(|t| {
            t.matches("map[").count() == 1 && flow::map_value_type(&t) == Some(holder.as_str())
        })
    };
    let mut released: Vec<(&SourceFile, Node<'_>)> = Vec::new();
    let mut dropped: Vec<(&SourceFile, Node<'_>, String)> = Vec::new();
    let mut removers: Vec<String> = Vec::new();
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for del in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            if syntax::callee(del, src) != Some("delete") {
                continue;
            }
            let Some(map) = syntax::call_args(del).first().map(|m| flow::unparen(*m)) else {
                continue;
            };
            let Some(map_field) = (map.kind() == "selector_expression")
                .then(|| map.child_by_field_name("field"))
                .flatten()
                .map(|n| text(n, src))
            else {
                continue;
            };
            let Some(decl) = syntax::enclosing_declaration(del) else {
                continue;
            };
            if !holds_entries(map_field) {
                continue;
            }
            if let Some(r) =
                syntax::descendants_of_kind(decl, "call_expression").find(|c| releases(*c, src))
            {
                released.push((f, r));
                continue;
            }
            // A function handing the removed entry back (`return s`) leaves the release
            // to its callers.
            let hands_back = syntax::descendants_of_kind(decl, "return_statement").any(|r| {
                flow::named(r).into_iter().any(|l| {
                    flow::items(Some(l)).iter().any(|v| {
                        flow::resolve_ident(flow::unparen(*v), src)
                            .and_then(|b| b.value)
                            .is_some_and(|v| {
                                let v = flow::unparen(v);
                                v.kind() == "index_expression"
                                    && v.child_by_field_name("operand")
                                        .is_some_and(|o| text(o, src) == text(map, src))
                            })
                    })
                })
            });
            if hands_back {
                removers.extend(syntax::function_name(decl, src).map(str::to_string));
                continue;
            }
            // A removal helper (`detachLocked(s)`): its callers are the removals, those
            // that release (`s.cancel()` beside the call) and those that do not. A
            // function that looks the entry up itself (`e, ok := s.entries[id]` in
            // `fire(id)`) holds it: it is the removal.
            let looks_up = syntax::descendants_of_kind(decl, "index_expression").any(|ix| {
                ix.child_by_field_name("operand")
                    .is_some_and(|o| text(o, src) == text(map, src))
                    && flow::parent_skipping_parens(ix).is_some_and(|p| {
                        p.kind() == "expression_list"
                            && p.parent().is_some_and(|st| {
                                st.kind() == "short_var_declaration"
                                    && st
                                        .child_by_field_name("right")
                                        .is_some_and(|r| r.id() == p.id())
                            })
                    })
            });
            let callers = match looks_up {
                true => Vec::new(),
                false => flow::callers(pkg, decl, src),
            };
            if !callers.is_empty() {
                let name = syntax::function_name(decl, src).unwrap_or("?");
                for (cf, c) in callers {
                    let csrc: &str = &cf.text;
                    // In the function making the call (a callback's body, not the
                    // function registering the callback).
                    let release = syntax::enclosing_function(c).and_then(|d| {
                        syntax::descendants_of_kind(d, "call_expression").find(|r| {
                            releases(*r, csrc)
                                && syntax::enclosing_function(*r).map(|f| f.id()) == Some(d.id())
                        })
                    });
                    match release {
                        Some(r) => released.push((cf, r)),
                        None => dropped.push((
                            cf,
                            syntax::statement_of(c),
                            format!("removes an entry of \"{}\" through {name}", text(map, src)),
                        )),
                    }
                }
                continue;
            }
            dropped.push((
                f,
                syntax::statement_of(del),
                format!("deletes an entry of \"{}\"", text(map, src)),
            ));
        }
    }
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for c in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            let Some(name) =
                syntax::called_name(c, src).filter(|n| removers.iter().any(|r| r == n))
            else {
                continue;
            };
            let Some(decl) = syntax::enclosing_declaration(c) else {
                continue;
            };
            let parent = flow::parent_skipping_parens(c);
            let kind = parent.map(|p| p.kind());
            let discarded = match kind {
                Some("expression_statement") => true,
                Some("binary_expression") => {
                    parent.is_some_and(|b| flow::named(b).iter().any(|o| text(*o, src) == "nil"))
                }
                _ => false,
            };
            // The release on what was handed to the removal (`if s.removeSession(sess.id)
            // == nil { return }` then `sess.cancel()`): the caller held the entry.
            let handed: Vec<&str> = syntax::call_args(c)
                .iter()
                .filter_map(|a| flow::root_ident(*a))
                .map(|i| text(i, src))
                .collect();
            let on_handed = syntax::descendants_of_kind(decl, "call_expression").find(|r| {
                releases(*r, src)
                    && r.child_by_field_name("function")
                        .and_then(|fn_| fn_.child_by_field_name("operand"))
                        .is_some_and(|o| handed.contains(&text(o, src)))
            });
            if discarded {
                match on_handed {
                    Some(r) => released.push((f, r)),
                    None => dropped.push((
                        f,
                        syntax::statement_of(c),
                        format!("drops the entry {name} removes"),
                    )),
                }
                continue;
            }
            // `s := m.remove(id)` then `s.cancel()` on every path where `s` is not nil
            // and is not handed on.
            let bound = parent
                .filter(|p| p.kind() == "expression_list")
                .and_then(|l| l.parent())
                .filter(|st| st.kind() == "short_var_declaration")
                .and_then(|st| flow::items(st.child_by_field_name("left")).first().copied())
                .map(|v| text(v, src));
            let body = decl.child_by_field_name("body");
            if let (Some(var), Some(body)) = (bound, body) {
                let (kept, release) =
                    partial_release::unreleased_local(pkg, src, body, var, &fields, &releasers);
                if let Some(r) = release {
                    released.push((f, r));
                }
                for at in kept {
                    dropped.push((f, at, format!("drops \"{var}\", the entry {name} removes")));
                }
            }
        }
    }
    let Some(&(rf, release)) = released.first() else {
        return Vec::new();
    };
    // Where the releasing removal cancels right before a call (`s.cancel(); m.fire(s)`),
    // a removal making the same call without the cancel is fixed there: report that call.
    let rsrc: &str = &rf.text;
    let follows_release = syntax::statement_of(release)
        .next_named_sibling()
        .filter(|s| s.kind() == "expression_statement")
        .and_then(|s| s.named_child(0))
        .filter(|c| c.kind() == "call_expression")
        .and_then(|c| syntax::called_name(c, rsrc));
    let mut moved = Vec::new();
    if let Some(next) = follows_release {
        for (df, at, _) in dropped.iter_mut() {
            let dsrc: &str = &df.text;
            let same_call = syntax::enclosing_declaration(*at).and_then(|d| {
                syntax::descendants_of_kind(d, "call_expression").find(|c| {
                    c.start_byte() > at.end_byte()
                        && syntax::called_name(*c, dsrc) == Some(next)
                        && syntax::statement_of(*c).kind() == "expression_statement"
                })
            });
            if let Some(c) = same_call {
                *at = syntax::statement_of(c);
                moved.push(at.id());
            }
        }
    }
    let mut out = Vec::new();
    // One finding per line (a helper deleting from two indexes is one removal).
    let mut seen = std::collections::BTreeSet::new();
    dropped.retain(|(df, at, _)| seen.insert((df.path().to_path_buf(), at.start_position().row)));
    for (df, at, how) in dropped {
        let label = locals::function_label(df, at);
        let message = format!(
            "{label} {how}, which holds cancel function \"{field}\" of {}, without calling it, while {} calls it when it removes one (line {}), so the child context \"{subject}\" {}",
            ctor.what,
            locals::function_label(rf, release),
            syntax::span(release).start_line,
            consequence(&ctor.func)
        );
        let message = match follows_release.filter(|_| moved.contains(&at.id())) {
            Some(next) => format!(
                "{message}; the fix goes before this call of {next}, where {} cancels",
                locals::function_label(rf, release)
            ),
            None => message,
        };
        let mut m = at_path(
            pkg,
            (file, call, ctor),
            subject,
            message,
            df.location(at),
            (
                rf.location(release),
                "called here when another path removes an entry",
            ),
        );
        // The entry itself, made beside the context.
        for lit in holder_literals(file, call, &holder) {
            flow::push_unique(&mut m.evidence, file.location(lit));
        }
        out.push(m);
    }
    // The context's own line, where a reader looks first: the first dropping removal
    // seen from there.
    let made = file.location(call);
    let first = out.first().filter(|m| {
        m.location.file != made.file || m.location.span.start_line != made.span.start_line
    });
    if let Some(first) = first {
        let copy = first.also_at(
            made,
            "the child context made here is not canceled when its entry is removed",
            "removed here without the cancel".to_string(),
        );
        out.push(copy);
    }
    out
}

/// `x.stop = context.AfterFunc(ctx, f)` whose stop function is called on some paths of
/// a function releasing `x` (directly or by a method calling it) and not on others: the
/// registration, with `f` and what it captures, stays until `ctx` is canceled.
fn after_func(pkg: &Context<'_>, file: &SourceFile, call: Node<'_>) -> Vec<Match> {
    let src: &str = &file.text;
    let Some(stmt) = flow::parent_skipping_parens(call)
        .and_then(|l| l.parent())
        .filter(|s| s.kind() == "assignment_statement")
    else {
        return Vec::new();
    };
    let lhs = flow::items(stmt.child_by_field_name("left"));
    let [target] = lhs.as_slice() else {
        return Vec::new();
    };
    let target = flow::unparen(*target);
    let Some(field) = (target.kind() == "selector_expression")
        .then(|| target.child_by_field_name("field"))
        .flatten()
        .map(|f| text(f, src))
    else {
        return Vec::new();
    };
    let mut dead = Uncalled::default();
    let owner = operand_type(pkg, target, src);
    if !field_called(pkg, field, owner.as_deref(), target, &mut dead) {
        return Vec::new();
    }
    let ctor = Ctor {
        what: "context.AfterFunc".to_string(),
        func: "AfterFunc".to_string(),
        inner: None,
    };
    let subject = text(target, src).split_whitespace().collect::<String>();
    kept_on_some_paths(pkg, file, call, &ctor, field, &subject)
}

/// What the callers in other packages pass for the parameters `expr` reads, or that the
/// locals of `expr` keep in their composite literals (`job := &thumbJob{src: u.Data}` with `u` a
/// parameter): where what the context's values hold was allocated.
fn held_by_callers(cx: &Context<'_>, file: &SourceFile, expr: Node<'_>, out: &mut Vec<Location>) {
    let src: &str = &file.text;
    // Parameters `expr` reads itself (captured by `context.AfterFunc`'s function).
    for i in syntax::descendants_of_kind(expr, "identifier") {
        if flow::resolve_ident(i, src).is_some_and(|b| b.kind == flow::BindKind::Param) {
            flow::param_alloc_sites_in_callers(cx, file, i, out);
        }
    }
    for v in local_values(expr, src) {
        for lit in syntax::descendants_of_kind(v, "composite_literal") {
            for root in syntax::descendants_of_kind(lit, "identifier") {
                let param =
                    flow::resolve_ident(root, src).is_some_and(|b| b.kind == flow::BindKind::Param);
                if param {
                    flow::param_alloc_sites_in_callers(cx, file, root, out);
                }
            }
        }
    }
}

/// Whether a statement before `ret` in one of its enclosing blocks, up to `list`,
/// releases (`if err != nil { a.abort(); return err }`).
fn released_on_its_path(
    ret: Node<'_>,
    list: Node<'_>,
    releases: &dyn Fn(Node<'_>) -> bool,
) -> bool {
    let mut n = ret;
    while let Some(parent) = n.parent() {
        if parent.id() == list.id() {
            return false;
        }
        if flow::named(parent)
            .into_iter()
            .any(|sib| sib.end_byte() <= n.start_byte() && releases(sib))
        {
            return true;
        }
        n = parent;
    }
    false
}

/// The values the `:=` locals an expression reads were declared with.
fn local_values<'t>(expr: Node<'t>, src: &str) -> Vec<Node<'t>> {
    syntax::descendants_of_kind(expr, "identifier")
        .filter_map(|i| {
            flow::resolve_ident(i, src)
                .filter(|b| b.kind == flow::BindKind::ShortVar)
                .and_then(|b| b.value)
        })
        .collect()
}

/// The lines of the locals an expression reads (`ws := a.pool.ws.acquire(id)`, `raw, err
/// := readBody(w, r)`), and of the locals their composite literals read, one level down:
/// what a context holding the expression keeps reachable was allocated by those lines'
/// calls.
fn retained_lines(file: &SourceFile, expr: Node<'_>, depth: usize, out: &mut Vec<Location>) {
    let src: &str = &file.text;
    for v in local_values(expr, src) {
        let at = file.location(v);
        if out.contains(&at) {
            continue;
        }
        out.push(at);
        let v = flow::unparen(v);
        let lit = match v.kind() {
            "unary_expression" => v.child_by_field_name("operand").map(flow::unparen),
            _ => Some(v),
        };
        if depth == 0 {
            if let Some(lit) = lit.filter(|l| l.kind() == "composite_literal") {
                retained_lines(file, lit, depth + 1, out);
            }
        }
    }
}

/// For a statement `status, err := p.Enqueue(ctx, job)` passing the local (`mentions`)
/// to a function or method of the package, followed by `if err != nil { job.Release() }`
/// in the same block: the callee's declaration, file and the parameter position the
/// local is passed at.
fn released_on_error<'p>(
    pkg: &'p Package,
    file: &SourceFile,
    st: Node<'_>,
    stmts: &[Node<'_>],
    mentions: &dyn Fn(Node<'_>) -> bool,
    releases: &dyn Fn(Node<'_>) -> bool,
) -> Option<(&'p SourceFile, Node<'p>, usize)> {
    let src: &str = &file.text;
    if !matches!(st.kind(), "short_var_declaration" | "assignment_statement") {
        return None;
    }
    let left = flow::items(st.child_by_field_name("left"));
    let right = flow::items(st.child_by_field_name("right"));
    let [call] = right.as_slice() else {
        return None;
    };
    let call = flow::unparen(*call);
    let err = left.last().filter(|e| text(**e, src) == "err")?;
    let pos = syntax::call_args(call)
        .iter()
        .position(|a| flow::unparen(*a).kind() == "identifier" && mentions(flow::unparen(*a)))?;
    // The next statement: `if err != nil { ...; job.Release(); ... }`.
    let next = stmts.iter().find(|n| n.start_byte() >= st.end_byte())?;
    let cond = next.child_by_field_name("condition")?;
    let cond_text: String = text(cond, src).split_whitespace().collect();
    if next.kind() != "if_statement" || cond_text != format!("{}!=nil", text(*err, src)) {
        return None;
    }
    let block = next.child_by_field_name("consequence")?;
    let list = flow::named(block)
        .into_iter()
        .find(|c| c.kind() == "statement_list")?;
    if !flow::named(list).into_iter().any(releases) {
        return None;
    }
    let callee = call.child_by_field_name("function").map(flow::unparen)?;
    let decl = match callee.kind() {
        "identifier" => flow::package_function(pkg, text(callee, src)),
        "selector_expression" => {
            let name = text(callee.child_by_field_name("field")?, src);
            match flow::package_methods(pkg, name).as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        }
        _ => None,
    }?;
    Some((decl.0, decl.1, pos))
}

/// In a callee that receives the struct holding the cancel (at `pos`) from a caller that
/// releases it only when the call fails: the first `return` whose error is `nil` with no
/// release or hand-off of the parameter (`j` sent, stored, passed, returned) on its path.
#[allow(clippy::too_many_arguments)]
fn succeeds_without_release(
    pkg: &Context<'_>,
    file: &SourceFile,
    call: Node<'_>,
    ctor: &Ctor,
    fields: &[&str],
    subject: &str,
    releasers: &[(&str, Option<usize>)],
    hf: &SourceFile,
    decl: Node<'_>,
    pos: usize,
    name: &str,
    ctor_name: &str,
    (cf, ctor_call): (&SourceFile, Node<'_>),
) -> Option<Match> {
    let hsrc: &str = &hf.text;
    let body = decl.child_by_field_name("body")?;
    // The parameter at `pos`.
    let param = syntax::descendants_of_kind(body, "identifier").find_map(|i| {
        flow::resolve_ident(i, hsrc)
            .filter(|b| b.kind == flow::BindKind::Param && flow::param_position(b) == Some(pos))
    })?;
    let pname = text(param.name, hsrc);
    // A use that releases or hands the parameter on: the whole value used (sent, passed,
    // stored, returned) or a releasing method called on it; `j.batch.ID` only reads.
    let handles = |n: Node<'_>| {
        syntax::descendants_of_kind(n, "identifier").any(|i| {
            if text(i, hsrc) != pname
                || !flow::resolve_ident(i, hsrc).is_some_and(|b| b.same(&param))
            {
                return false;
            }
            match i.parent() {
                Some(sel) if sel.kind() == "selector_expression" => sel
                    .child_by_field_name("field")
                    .map(|f| text(f, hsrc))
                    .is_some_and(|f| {
                        sel.parent().is_some_and(|c| c.kind() == "call_expression")
                            && (fields.contains(&f)
                                || releasers.iter().any(|r| r.0 == f && r.1.is_none()))
                    }),
                _ => true,
            }
        })
    };
    let func = decl;
    for ret in syntax::descendants_of_kind(body, "return_statement") {
        if syntax::enclosing_function(ret) != Some(func) {
            continue;
        }
        let values = flow::items(ret.named_child(0));
        if !values
            .last()
            .is_some_and(|v| v.kind() == "nil" || text(*v, hsrc) == "nil")
            || handles(ret)
        {
            continue;
        }
        // What runs before the return on its path: earlier statements of every enclosing
        // block and the header of an enclosing case (`case p.jobs <- j:`).
        let mut handled = false;
        let mut n = ret;
        while let Some(parent) = n.parent() {
            if parent.id() == func.id() {
                break;
            }
            for sib in flow::named(parent) {
                if sib.end_byte() <= n.start_byte()
                    && (sib.kind() != "if_statement" || sib.end_byte() <= ret.start_byte())
                    && handles(sib)
                {
                    handled = true;
                }
            }
            n = parent;
        }
        if handled {
            continue;
        }
        let callee = syntax::function_name(decl, hsrc).unwrap_or("the callee");
        let line = syntax::span(ret).start_line;
        let message = format!(
            "{callee} returns here with a nil error without releasing or handing on \"{pname}\", the {ctor_name} result its caller passes as \"{name}\" and releases only when the call fails: the cancel function stored in field \"{}\" is not called on this path, so the child context \"{subject}\" {}",
            fields[0],
            consequence(&ctor.func)
        );
        let mut m = matched(pkg, file, call, ctor, subject.to_string(), message);
        for arg in syntax::call_args(call) {
            retained_lines(file, arg, 0, &mut m.evidence);
        }
        for arg in syntax::call_args(ctor_call) {
            retained_lines(cf, arg, 0, &mut m.evidence);
        }
        m.related.push(Related {
            location: hf.location(param.name),
            message: format!("\"{pname}\" is received here (line {line} returns without it)"),
        });
        m.location = hf.location(ret);
        return Some(m);
    }
    None
}

/// The functions and methods that call one of `fields` on a parameter (the position) or
/// on their receiver (`None`): `func (a *Agent) end(r *run) { r.cancel() }`,
/// `func (j *Job) Release() { j.cancel() }`.
fn releasers<'s>(pkg: &'s Package, fields: &[&str]) -> Vec<(&'s str, Option<usize>)> {
    let mut out = Vec::new();
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for decl in flow::named(f.tree.root_node()) {
            if !matches!(decl.kind(), "function_declaration" | "method_declaration") {
                continue;
            }
            let Some(name) = syntax::function_name(decl, src) else {
                continue;
            };
            for sel in syntax::descendants_of_kind(decl, "selector_expression") {
                let called = sel.parent().is_some_and(|c| c.kind() == "call_expression");
                let field = sel.child_by_field_name("field").map(|x| text(x, src));
                if !called || !field.is_some_and(|x| fields.contains(&x)) {
                    continue;
                }
                let Some(b) = sel
                    .child_by_field_name("operand")
                    .map(flow::unparen)
                    .filter(|o| o.kind() == "identifier")
                    .and_then(|o| flow::resolve_ident(o, src))
                else {
                    continue;
                };
                if b.kind != flow::BindKind::Param {
                    continue;
                }
                let pos = flow::param_position(&b);
                let receiver = decl.kind() == "method_declaration" && pos.is_none();
                if pos.is_some() || receiver {
                    out.push((name, pos));
                }
            }
        }
    }
    out
}

/// A match at the call, with its evidence: the call (the child context, its
/// registration in the parent's children map and its timer are allocated there) and
/// where the parent context's values were allocated.
fn matched(
    pkg: &Package,
    file: &SourceFile,
    call: Node<'_>,
    ctor: &Ctor,
    subject: String,
    message: String,
) -> Match {
    let mut evidence = vec![file.location(call)];
    evidence.extend(ctor.inner.clone());
    // A wrapper's arguments are its own; the parent context is chosen inside it.
    let parent = syntax::call_args(call)
        .first()
        .copied()
        .filter(|_| ctor.inner.is_none());
    if let Some(parent) = parent {
        let mut found: Vec<Location> = Vec::new();
        locals::origins(pkg, file, parent, 4, &mut found);
        let call_line = syntax::span(call).start_line;
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

/// Whether the local cancel function bound by `stmt` is called, deferred, or handed to
/// someone who may call it (returned, stored, passed, captured by address).
fn local_is_used(decl: Node<'_>, stmt: Node<'_>, src: &str) -> bool {
    locals::references_after(decl, stmt, src)
        .into_iter()
        .any(|r| match locals::context(r, src) {
            Ctx::Called(_) | Ctx::Arg(_) => true,
            Ctx::Escapes => !assigned_to_blank(r, src),
            Ctx::Assigned | Ctx::Other => false,
        })
}

/// Whether `r` is only assigned to `_` (`_ = cancel`, which silences the compiler).
fn assigned_to_blank(r: Node<'_>, src: &str) -> bool {
    let Some(list) = flow::parent_skipping_parens(r) else {
        return false;
    };
    let holder = if list.kind() == "expression_list" {
        list.parent()
    } else {
        Some(list)
    };
    holder.is_some_and(|h| {
        h.kind() == "assignment_statement"
            && flow::items(h.child_by_field_name("left"))
                .iter()
                .all(|l| text(*l, src) == "_")
    })
}

/// Whether a package-level name is referenced anywhere in the package other than as
/// the target of an assignment (such as the one at `at`).
fn package_name_used(pkg: &Package, name: &str, at: Node<'_>) -> bool {
    pkg.program_files().any(|f| {
        let src: &str = &f.text;
        syntax::descendants_of_kind(f.tree.root_node(), "identifier")
            .filter(|n| *n != at && text(*n, src) == name)
            .any(|n| {
                flow::declaring_ident(n, src).is_none() && locals::context(n, src) != Ctx::Assigned
            })
    })
}

/// When all that is done with a local cancel function after `stmt` is storing it into
/// struct fields (`Event{cancel: cancel}`, `x.stop = cancel`), the names of those fields;
/// `None` when it is called, passed, returned or otherwise handed on, or never used.
fn stored_in_fields<'s>(decl: Node<'_>, stmt: Node<'_>, src: &'s str) -> Option<Vec<&'s str>> {
    let mut fields = Vec::new();
    let refs = locals::references_after(decl, stmt, src);
    // A call in an `if` branch that returns early (`if s.closed { cancel(); return }`)
    // releases a context its function gave up on: the one kept on the other path still
    // needs its release.
    let stored = refs
        .iter()
        .any(|r| !is_literal_key(*r) && matches!(locals::context(*r, src), Ctx::Escapes));
    let abandons = |r: Node<'_>| {
        let st = syntax::statement_of(r);
        let list = st.parent();
        let block = list.and_then(|l| match l.kind() {
            "statement_list" => l.parent(),
            _ => Some(l),
        });
        let branch = block
            .filter(|b| b.kind() == "block")
            .and_then(|b| b.parent())
            .filter(|i| i.kind() == "if_statement");
        let returns = list
            .and_then(|b| flow::named(b).last().copied())
            .is_some_and(|l| l.kind() == "return_statement");
        stored && returns && branch.is_some_and(|i| i.next_named_sibling().is_some())
    };
    for r in refs.iter().copied() {
        if is_literal_key(r) {
            continue;
        }
        match locals::context(r, src) {
            Ctx::Called(_) if abandons(r) => {}
            Ctx::Called(_) | Ctx::Arg(_) => return None,
            Ctx::Escapes if assigned_to_blank(r, src) => {}
            Ctx::Escapes => fields.push(stored_field(r, src)?),
            Ctx::Assigned | Ctx::Other => {}
        }
    }
    (!fields.is_empty()).then_some(fields)
}

/// Whether `r` is the key of a composite literal element (`T{cancel: ...}`), a field
/// name rather than a reference.
fn is_literal_key(r: Node<'_>) -> bool {
    let el = r.parent().filter(|p| p.kind() == "literal_element");
    let key = el.unwrap_or(r);
    key.parent()
        .filter(|p| p.kind() == "keyed_element")
        .and_then(|p| p.named_child(0))
        .is_some_and(|k| k.id() == key.id())
}

/// The field `r` is stored into: the key of a composite literal element
/// (`T{stop: r}`), or the selector assigned (`x.stop = r`).
fn stored_field<'s>(r: Node<'_>, src: &'s str) -> Option<&'s str> {
    let mut child = r;
    let mut p = r.parent()?;
    while p.kind() == "parenthesized_expression" {
        child = p;
        p = p.parent()?;
    }
    if p.kind() == "literal_element" {
        child = p;
        p = p.parent()?;
    }
    match p.kind() {
        "keyed_element" => {
            let key = p.named_child(0)?;
            if key.id() == child.id() {
                return None;
            }
            let key = if key.kind() == "literal_element" {
                key.named_child(0)?
            } else {
                key
            };
            matches!(key.kind(), "identifier" | "field_identifier").then(|| text(key, src))
        }
        "expression_list" => {
            let stmt = p.parent().filter(|s| s.kind() == "assignment_statement")?;
            let right = flow::items(stmt.child_by_field_name("right"));
            let at = right.iter().position(|n| n.id() == child.id())?;
            let left = flow::items(stmt.child_by_field_name("left"));
            let target = flow::unparen(*left.get(at)?);
            (target.kind() == "selector_expression")
                .then(|| target.child_by_field_name("field"))
                .flatten()
                .map(|f| text(f, src))
        }
        _ => None,
    }
}

/// Whether a field of this name is read somewhere in the package (called, deferred,
/// passed on), other than as the target of an assignment, by code that may run: a use
/// inside a named function or method that nothing in the workspace refers to (and that
/// the standard library does not call through an interface) does not count, and its
/// name is added to `dead`. An exported field called from another package counts.
fn field_called(
    pkg: &Context<'_>,
    field: &str,
    owner: Option<&str>,
    at: Node<'_>,
    dead: &mut Uncalled,
) -> bool {
    if field.starts_with(|c: char| c.is_ascii_uppercase())
        && !pkg.packages_calling(field).is_empty()
    {
        return true;
    }
    pkg.program_files().any(|f| {
        let src: &str = &f.text;
        syntax::descendants_of_kind(f.tree.root_node(), "field_identifier")
            .filter(|n| text(*n, src) == field)
            .filter_map(|n| n.parent())
            .filter(|s| s.kind() == "selector_expression" && *s != at)
            .filter(|s| locals::context(*s, src) != Ctx::Assigned)
            // A field of the same name of another struct type (`h.cancel()` of the Hub
            // when the Subscription's is stored) is another function.
            .filter(|s| match (owner, operand_type(pkg, *s, src)) {
                (Some(o), Some(t)) => o == t,
                _ => true,
            })
            .any(|s| {
                if let Some(name) = dead_function(pkg, s, src) {
                    if !dead.dead.contains(&name) {
                        dead.dead.push(name);
                    }
                    return false;
                }
                if let Some(label) = on_error_path_only(s, src) {
                    if !dead.on_error.contains(&label) {
                        dead.on_error.push(label);
                    }
                    return false;
                }
                if let Some(note) = only_for_entries_left(pkg, s, field, src) {
                    if !dead.left_behind.contains(&note) {
                        dead.left_behind.push(note);
                    }
                    return false;
                }
                true
            })
    })
}

/// The struct type of the operand of `x.f`, when it is evident: a method's receiver, or a
/// local or parameter declared as or initialized with a value of a named type.
fn operand_type(pkg: &Package, sel: Node<'_>, src: &str) -> Option<String> {
    let operand = flow::unparen(sel.child_by_field_name("operand")?);
    if operand.kind() != "identifier" {
        return None;
    }
    let b = flow::resolve(operand, text(operand, src), src)?;
    let named_text = |t: &str| -> Option<String> {
        let t = t.trim().trim_start_matches('*').trim();
        (!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')).then(|| t.to_string())
    };
    if b.kind == flow::BindKind::Range {
        // `for _, s := range h.subs`: the element type of the field `subs`.
        let range = b.value.map(flow::unparen)?;
        let field = match range.kind() {
            "selector_expression" => text(range.child_by_field_name("field")?, src),
            _ => return None,
        };
        let ty = flow::field_type_text(pkg, field)?;
        let elem = ty.rsplit(']').next()?;
        return named_text(elem);
    }
    super::parts::declared_type(&b, src)
}

/// Why a stored cancel function does not count as called: the named functions that
/// would call it but are never called themselves, and the functions that call it only
/// when an operation failed.
#[derive(Default)]
struct Uncalled {
    dead: Vec<String>,
    on_error: Vec<String>,
    /// Calls made only for the entries still in a container when it is swept, while
    /// another function removes entries without calling it.
    left_behind: Vec<String>,
}

impl Uncalled {
    fn is_empty(&self) -> bool {
        self.dead.is_empty() && self.on_error.is_empty() && self.left_behind.is_empty()
    }
}

/// For `s.cancel()` where `s` ranges over a container (`for _, s := range h.subs` in
/// `Close`), while some function deletes from a container of that name (`delete(h.subs,
/// s.ID)` in `Unsubscribe`) without calling `.cancel()` itself: the cancel runs only for
/// the entries still there at the sweep, never for those removed one by one.
fn only_for_entries_left(
    pkg: &Context<'_>,
    sel: Node<'_>,
    field: &str,
    src: &str,
) -> Option<String> {
    if !matches!(locals::context(sel, src), Ctx::Called(_)) {
        return None;
    }
    if let Some(note) = swept_at(pkg, sel, &[field], src) {
        return Some(note);
    }
    // `func (s *Session) Kick() { s.cancel() }`, called only while sweeping.
    let method = syntax::enclosing_declaration(sel).filter(|d| d.kind() == "method_declaration")?;
    let name = syntax::function_name(method, src)?;
    let mut notes = Vec::new();
    for f in pkg.program_files() {
        let fsrc: &str = &f.text;
        for n in syntax::descendants_of_kind(f.tree.root_node(), "field_identifier") {
            if text(n, fsrc) != name {
                continue;
            }
            let Some(call_sel) = n.parent().filter(|p| p.kind() == "selector_expression") else {
                continue;
            };
            if !matches!(locals::context(call_sel, fsrc), Ctx::Called(_)) {
                // Passed as a method value or otherwise used: it may be called anywhere.
                return None;
            }
            notes.push(swept_at(pkg, call_sel, &[field, name], fsrc)?);
        }
    }
    notes
        .into_iter()
        .next()
        .map(|n| format!("{n} (through {name})"))
}

/// For `s.f()` where `s` ranges over a container (`for _, s := range h.subs`), while some
/// function deletes from a container of that name without calling any of `names`
/// itself: the note saying so.
fn swept_at(pkg: &Context<'_>, sel: Node<'_>, names: &[&str], src: &str) -> Option<String> {
    let operand = flow::unparen(sel.child_by_field_name("operand")?);
    if operand.kind() != "identifier" {
        return None;
    }
    let name = text(operand, src);
    let range = syntax::ancestors(sel)
        .take_while(|a| !syntax::is_function(a.kind()))
        .filter(|a| a.kind() == "for_statement")
        .find_map(|f| {
            flow::named(f).into_iter().find(|c| {
                c.kind() == "range_clause"
                    && flow::items(c.child_by_field_name("left"))
                        .iter()
                        .any(|v| text(*v, src) == name)
            })
        })?;
    let container = flow::unparen(range.child_by_field_name("right")?);
    let cname = match container.kind() {
        "selector_expression" => text(container.child_by_field_name("field")?, src),
        "identifier" => text(container, src),
        _ => return None,
    };
    let sweeper = flow::function_label(sel, src);
    for f in pkg.program_files() {
        let fsrc: &str = &f.text;
        for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            if !flow::is_builtin_call(call, "delete", fsrc) {
                continue;
            }
            let Some(target) = syntax::call_args(call).first().map(|t| flow::unparen(*t)) else {
                continue;
            };
            let tname = match target.kind() {
                "selector_expression" => target.child_by_field_name("field").map(|n| text(n, fsrc)),
                "identifier" => Some(text(target, fsrc)),
                _ => None,
            };
            if tname != Some(cname) {
                continue;
            }
            let Some(func) = syntax::enclosing_declaration(call) else {
                continue;
            };
            if func.start_byte() <= sel.start_byte() && sel.end_byte() <= func.end_byte() {
                continue;
            }
            let calls_cancel = syntax::descendants_of_kind(func, "field_identifier")
                .any(|n| names.contains(&text(n, fsrc)));
            if !calls_cancel && dead_function(pkg, call, fsrc).is_none() {
                return Some(format!(
                    "{sweeper} calls it only for the entries still in {cname}, and {} removes entries from {cname} without calling it",
                    flow::function_label(call, fsrc)
                ));
            }
        }
    }
    None
}

/// For a call `x.cancel()` (not deferred) made only inside `if err != nil { ...; return }`,
/// the function it is in: the success path goes on without calling it.
fn on_error_path_only(sel: Node<'_>, src: &str) -> Option<String> {
    if !matches!(locals::context(sel, src), Ctx::Called(_)) {
        return None;
    }
    let call = sel.parent().filter(|c| c.kind() == "call_expression")?;
    let stmt = call
        .parent()
        .filter(|s| s.kind() == "expression_statement")?;
    let mut child = stmt;
    for anc in syntax::ancestors(stmt) {
        if syntax::is_function(anc.kind()) {
            return None;
        }
        if anc.kind() == "if_statement" && anc.child_by_field_name("consequence") == Some(child) {
            let cond = anc
                .child_by_field_name("condition")
                .map(|c| text(c, src))
                .unwrap_or_default();
            let on_error = cond.contains("err") && cond.contains("!= nil");
            let leaves = syntax::descendants_of_kind(child, "return_statement")
                .any(|r| syntax::enclosing_function(r) == syntax::enclosing_function(anc));
            return (on_error && leaves).then(|| flow::function_label(anc, src));
        }
        child = anc;
    }
    None
}

/// How a field's cancel function is (not) called: "nothing calls it", or the functions
/// that would call it and are never called themselves.
fn uncalled(u: &Uncalled) -> String {
    let mut parts = Vec::new();
    if !u.dead.is_empty() {
        let names = &u.dead;
        parts.push(format!(
            "only {} call{} it, and nothing calls {}",
            names.join(" and "),
            if names.len() == 1 { "s" } else { "" },
            if names.len() == 1 { "that" } else { "those" }
        ));
    }
    parts.extend(u.left_behind.iter().cloned());
    if !u.on_error.is_empty() {
        parts.push(format!(
            "{} call{} it only when an error is returned, never on success",
            u.on_error.join(" and "),
            if u.on_error.len() == 1 { "s" } else { "" },
        ));
    }
    if parts.is_empty() {
        "nothing calls it".to_string()
    } else {
        parts.join("; ")
    }
}

/// Method names the standard library calls through its interfaces (`io.Closer`,
/// `fmt.Stringer`, `http.Handler`, `sort.Interface`, `context.Context`, ...): a method
/// so named may be called with no reference to it in the workspace.
const INTERFACE_METHODS: &[&str] = &[
    "Close",
    "Read",
    "Write",
    "Seek",
    "ReadFrom",
    "WriteTo",
    "ReadAt",
    "WriteAt",
    "Flush",
    "String",
    "GoString",
    "Error",
    "Unwrap",
    "Is",
    "As",
    "Format",
    "ServeHTTP",
    "RoundTrip",
    "Len",
    "Less",
    "Swap",
    "Push",
    "Pop",
    "Deadline",
    "Done",
    "Err",
    "Value",
    "Lock",
    "Unlock",
    "MarshalJSON",
    "UnmarshalJSON",
    "MarshalText",
    "UnmarshalText",
    "Scan",
    "Timeout",
    "Temporary",
    "Stop",
    "Cancel",
];

/// The name of the named function or method around `node` when no code in the workspace
/// refers to it by name (so it never runs); never `main`, `init` or a method the
/// standard library may call through an interface.
fn dead_function(pkg: &Context<'_>, node: Node<'_>, src: &str) -> Option<String> {
    let func = syntax::ancestors(node)
        .find(|a| matches!(a.kind(), "function_declaration" | "method_declaration"))?;
    let name_node = func.child_by_field_name("name")?;
    let name = text(name_node, src);
    if matches!(name, "main" | "init") || INTERFACE_METHODS.contains(&name) {
        return None;
    }
    if !pkg.packages_calling(name).is_empty() {
        return None;
    }
    let referenced = pkg.program_files().any(|f| {
        let fsrc: &str = &f.text;
        let root = f.tree.root_node();
        syntax::descendants_of_kind(root, "identifier")
            .chain(syntax::descendants_of_kind(root, "field_identifier"))
            .any(|n| text(n, fsrc) == name && !(fsrc == src && n.id() == name_node.id()))
    });
    if referenced {
        return None;
    }
    Some(match super::flow::receiver_type(func, src) {
        Some(t) if func.kind() == "method_declaration" => format!("({t}).{name}"),
        _ => name.to_string(),
    })
}

/// A name for the cancel function that nothing in the function or package uses.
fn fresh_name(pkg: &Package, func: Node<'_>, src: &str) -> String {
    let taken = |name: &str| {
        syntax::descendants_of_kind(func, "identifier").any(|n| text(n, src) == name)
            || pkg.files.iter().any(|f| {
                f.summary.decls.iter().any(|d| d.name == name)
                    || f.summary.functions.iter().any(|fun| fun.name == name)
                    || flow::import_name(f.tree.root_node(), &f.text, name).is_some()
            })
    };
    ["cancel", "cancelCtx", "cancelFunc"]
        .into_iter()
        .map(str::to_string)
        .chain((2..).map(|i| format!("cancel{i}")))
        .find(|n| !taken(n))
        .unwrap_or_else(|| "cancel".to_string())
}

/// For `ctx, _ := context.WithCancel(p)`: name the cancel function and defer it.
fn discarded_fix(
    pkg: &Package,
    file: &SourceFile,
    b: &locals::Binding<'_>,
    blank: Node<'_>,
) -> Option<Fix> {
    // With `=` the new name would need its own declaration; in a loop a defer would
    // pile up (see defer-in-loop).
    if !b.define || locals::loop_in_function(b.stmt).is_some() {
        return None;
    }
    let src: &str = &file.text;
    let func =
        syntax::enclosing_declaration(b.stmt).or_else(|| syntax::enclosing_function(b.stmt))?;
    let name = fresh_name(pkg, func, src);
    let insert = locals::insert_after_statement(file, b.stmt, &format!("defer {name}()"))?;
    let rename = TextEdit {
        file: file.summary.path.clone(),
        start_byte: blank.start_byte(),
        end_byte: blank.end_byte(),
        new_text: name.clone(),
    };
    Some(Fix {
        title: format!("Keep the cancel function as {name} and defer {name}()"),
        edits: vec![rename, insert],
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::ContextCancelNotCalled;
    use crate::rules::testing::{apply_first_fix, check};
    use crate::rules::ticker_not_stopped::tests::assert_go_vet;

    #[test]
    fn fixture_program_leak_contexts() {
        let got = crate::rules::ticker_not_stopped::tests::assert_fixture_wants(
            &ContextCancelNotCalled,
            "leak-contexts",
        );
        expect![[r#"
            main.go:59 [ctx] the cancel function of context.WithCancel in (*Server).handle is discarded, so the child context "ctx" stays registered with its parent until the parent is canceled
              evidence main.go:59-59 main.go:58-58 main.go:34-38
        "#]]
        .assert_eq(&got);
    }

    #[test]
    fn discarded_and_uncalled_cancel_functions() {
        check(
            &ContextCancelNotCalled,
            r#"
-- handler.go --
package app

import (
	"context"
	"time"
)

type traceKey struct{}

type Trace struct{ spans []string }

func newTrace(id int) *Trace {
	return &Trace{spans: make([]string, 0, 64)}
}

func Handle(base context.Context, id int) {
	ctx := context.WithValue(base, traceKey{}, newTrace(id))
	ctx, _ = context.WithCancel(ctx)
	work(ctx)
}

func Fetch(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, time.Minute)
	_ = cancel
	work(ctx)
}

func Fire(parent context.Context) {
	context.WithDeadline(parent, time.Now().Add(time.Hour))
}

func Cause(parent context.Context) {
	ctx, _ := context.WithCancelCause(parent)
	work(ctx)
}

func work(context.Context) {}
"#,
            expect![[r#"
                handler.go:18 context-cancel-not-called [ctx] the cancel function of context.WithCancel in Handle is discarded, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared handler.go:17
                  evidence handler.go:18 handler.go:17 handler.go:13
                handler.go:23 context-cancel-not-called [ctx] cancel function "cancel" of context.WithTimeout in Fetch is never called, so the child context "ctx" stays registered with its parent, its timer pending, until the deadline passes
                  declared handler.go:23
                  evidence handler.go:23
                  fix: Call cancel when Fetch returns (defer cancel())
                handler.go:29 context-cancel-not-called [context.WithDeadline] the context and cancel function returned by context.WithDeadline in Fire are discarded, so the child context stays registered with its parent, its timer pending, until the deadline passes
                  evidence handler.go:29
                handler.go:33 context-cancel-not-called [ctx] the cancel function of context.WithCancelCause in Cause is discarded, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared handler.go:33
                  evidence handler.go:33
                  fix: Keep the cancel function as cancel and defer cancel()
            "#]],
        );
    }

    #[test]
    fn wrappers_that_return_a_child_context_and_its_cancel() {
        check(
            &ContextCancelNotCalled,
            r#"
-- go.mod --
module example.com/app

go 1.22
-- reqctx/reqctx.go --
package reqctx

import (
	"context"
	"time"
)

// New bounds a request.
func New(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, time.Minute)
}

// Detached is not a child of anything the caller holds.
func Detached() (context.Context, func()) {
	return context.Background(), func() {}
}
-- app/app.go --
package app

import (
	"context"
	"time"

	"example.com/app/reqctx"
)

type Manager struct{ ctx context.Context }

func (m *Manager) scrapeContext(d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(m.ctx, d)
	return ctx, cancel
}

func (m *Manager) Scrape() {
	ctx, _ := m.scrapeContext(time.Second)
	use(ctx)
}

func (m *Manager) Fetch() {
	ctx, cancel := m.scrapeContext(time.Second)
	defer cancel()
	use(ctx)
}

func Serve(parent context.Context) {
	ctx, _ := reqctx.New(parent)
	use(ctx)
	d, _ := reqctx.Detached()
	use(d)
}

func Pass(m *Manager) (context.Context, context.CancelFunc) {
	return m.scrapeContext(time.Second)
}

func use(context.Context) {}
"#,
            expect![[r#"
                app/app.go:18 context-cancel-not-called [ctx] the cancel function of m.scrapeContext (context.WithTimeout) in (*Manager).Scrape is discarded, so the child context "ctx" stays registered with its parent, its timer pending, until the deadline passes
                  declared app/app.go:18
                  evidence app/app.go:18 app/app.go:13
                  fix: Keep the cancel function as cancel and defer cancel()
                app/app.go:29 context-cancel-not-called [ctx] the cancel function of reqctx.New (context.WithTimeout) in Serve is discarded, so the child context "ctx" stays registered with its parent, its timer pending, until the deadline passes
                  declared app/app.go:29
                  evidence app/app.go:29 reqctx/reqctx.go:10
                  fix: Keep the cancel function as cancel and defer cancel()
            "#]],
        );
    }

    #[test]
    fn cancel_in_a_field_called_only_on_the_error_path() {
        // Send cancels only when delivery fails; Fetch defers it; Retry cancels on
        // failure and on success.
        check(
            &ContextCancelNotCalled,
            r#"
-- notify.go --
package notify

import (
	"context"
	"errors"
	"time"
)

type delivery struct {
	ctx    context.Context
	cancel context.CancelFunc
}

type job struct {
	ctx  context.Context
	stop context.CancelFunc
}

type attempt struct {
	ctx   context.Context
	abort context.CancelFunc
}

type Dispatcher struct{ ctx context.Context }

func (d *Dispatcher) prepare() *delivery {
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	return &delivery{ctx: ctx, cancel: cancel}
}

func (d *Dispatcher) Send() error {
	dl := d.prepare()
	if err := deliver(dl.ctx); err != nil {
		dl.cancel()
		return err
	}
	return nil
}

func (d *Dispatcher) start() *job {
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	return &job{ctx: ctx, stop: cancel}
}

func (d *Dispatcher) Fetch() error {
	j := d.start()
	defer j.stop()
	return deliver(j.ctx)
}

func (d *Dispatcher) try() *attempt {
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	return &attempt{ctx: ctx, abort: cancel}
}

func (d *Dispatcher) Retry() error {
	a := d.try()
	if err := deliver(a.ctx); err != nil {
		a.abort()
		return err
	}
	a.abort()
	return nil
}

func deliver(ctx context.Context) error { return errors.New("x") }

func Run(d *Dispatcher) {
	_ = d.Send()
	_ = d.Fetch()
	_ = d.Retry()
}
"#,
            expect![[r#"
                notify.go:27 context-cancel-not-called [ctx] cancel function "cancel" of context.WithTimeout in (*Dispatcher).prepare is stored in field "cancel" and (*Dispatcher).Send calls it only when an error is returned, never on success, so the child context "ctx" stays registered with its parent, its timer pending, until the deadline passes
                  declared notify.go:11
                  evidence notify.go:27
            "#]],
        );
    }

    #[test]
    fn cancel_called_only_for_entries_left_at_close() {
        // Hub: Close cancels the subscriptions still in subs, Unsubscribe removes one
        // without canceling it (and the Hub's own cancel field is another one). Pool:
        // Release cancels what it removes.
        check(
            &ContextCancelNotCalled,
            r#"
-- hub.go --
package fanout

import "context"

type Subscription struct {
	ID     int
	ctx    context.Context
	cancel context.CancelFunc
	buf    []byte
}

type Hub struct {
	ctx    context.Context
	cancel context.CancelFunc
	subs   map[int]*Subscription
}

func New(parent context.Context) *Hub {
	ctx, cancel := context.WithCancel(parent)
	return &Hub{ctx: ctx, cancel: cancel, subs: map[int]*Subscription{}}
}

func (h *Hub) Subscribe(id int) *Subscription {
	s := &Subscription{ID: id, buf: make([]byte, 0, 64<<10)}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	h.subs[id] = s
	return s
}

func (h *Hub) Unsubscribe(s *Subscription) {
	delete(h.subs, s.ID)
}

func (h *Hub) Close() {
	for id, s := range h.subs {
		s.cancel()
		delete(h.subs, id)
	}
	h.cancel()
}

type Lease struct {
	ID   int
	stop context.CancelFunc
}

type Pool struct {
	ctx    context.Context
	leases map[int]*Lease
}

func (p *Pool) Acquire(id int) {
	l := &Lease{ID: id}
	_, l.stop = context.WithCancel(p.ctx)
	p.leases[id] = l
}

func (p *Pool) Release(l *Lease) {
	l.stop()
	delete(p.leases, l.ID)
}

func (p *Pool) Close() {
	for _, l := range p.leases {
		l.stop()
	}
}

type Session struct {
	ID     int
	cancel context.CancelFunc
}

func (s *Session) Kick() { s.cancel() }

type Manager struct {
	ctx  context.Context
	live map[int]*Session
}

func (m *Manager) Accept(id int) {
	s := &Session{ID: id}
	_, s.cancel = context.WithCancel(m.ctx)
	m.live[id] = s
}

func (s *Session) close(m *Manager) { delete(m.live, s.ID) }

func (m *Manager) Shutdown() {
	live := make([]*Session, 0, len(m.live))
	for _, s := range m.live {
		live = append(live, s)
	}
	for _, s := range live {
		s.Kick()
	}
}

func Run(h *Hub, p *Pool) {
	m := &Manager{}
	m.Accept(1)
	m.live[1].close(m)
	m.Shutdown()
	s := h.Subscribe(1)
	h.Unsubscribe(s)
	h.Close()
	p.Acquire(1)
	p.Release(nil)
	p.Close()
}
"#,
            expect![[r#"
                hub.go:25 context-cancel-not-called [s.ctx] cancel function of context.WithCancel in (*Hub).Subscribe is stored in field "cancel" and (*Hub).Close calls it only for the entries still in subs, and (*Hub).Unsubscribe removes entries from subs without calling it, so the child context stays registered with its parent until the parent is canceled
                  evidence hub.go:25
                hub.go:83 context-cancel-not-called [context.WithCancel] cancel function of context.WithCancel in (*Manager).Accept is stored in field "cancel" and (*Manager).Shutdown calls it only for the entries still in live, and (*Session).close removes entries from live without calling it (through Kick), so the child context stays registered with its parent until the parent is canceled
                  evidence hub.go:83
            "#]],
        );
    }

    #[test]
    fn cancel_kept_in_fields_and_globals_nobody_calls() {
        check(
            &ContextCancelNotCalled,
            r#"
-- server.go --
package app

import "context"

type Server struct {
	ctx  context.Context
	stop context.CancelFunc
}

var shutdown context.CancelFunc

func (s *Server) Start(parent context.Context) {
	s.ctx, s.stop = context.WithCancel(parent)
}

func Init(parent context.Context) context.Context {
	var ctx context.Context
	ctx, shutdown = context.WithCancel(parent)
	return ctx
}
"#,
            expect![[r#"
                server.go:13 context-cancel-not-called [s.ctx] cancel function of context.WithCancel in (*Server).Start is stored in field "stop" and nothing in the package calls it, so the child context stays registered with its parent until the parent is canceled
                  declared server.go:7
                  evidence server.go:13
                server.go:18 context-cancel-not-called [ctx] package-level cancel function "shutdown" of context.WithCancel in Init is never called, so the child context stays registered with its parent until the parent is canceled
                  declared server.go:10
                  evidence server.go:18
            "#]],
        );
    }

    #[test]
    fn cancel_stored_in_a_field_that_only_dead_code_calls() {
        check(
            &ContextCancelNotCalled,
            r#"
-- room.go --
package app

import "context"

type Event struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (ev Event) Retract() {
	if ev.cancel != nil {
		ev.cancel()
	}
}

type Job struct {
	stop context.CancelFunc
}

func (j *Job) Close() error { j.stop(); return nil }

type Call struct {
	abort context.CancelFunc
}

func (c *Call) Abort() { c.abort() }

func post(base context.Context) Event {
	ctx, cancel := context.WithCancel(base)
	return Event{ctx: ctx, cancel: cancel}
}

func start(base context.Context) *Job {
	j := &Job{}
	_, cancel := context.WithCancel(base)
	j.stop = cancel
	return j
}

func dial(base context.Context) *Call {
	ctx, cancel := context.WithTimeout(base, 1)
	_ = ctx
	return &Call{abort: cancel}
}

func use(c *Call) { c.Abort() }
"#,
            expect![[r#"
                room.go:29 context-cancel-not-called [ctx] cancel function "cancel" of context.WithCancel in post is stored in field "cancel" and only (Event).Retract calls it, and nothing calls that, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared room.go:7
                  evidence room.go:29
            "#]],
        );
    }

    #[test]
    fn cancel_functions_that_are_called_or_handed_on() {
        check(
            &ContextCancelNotCalled,
            r#"
-- ok.go --
package app

import (
	"context"
	"time"
)

func Deferred(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	<-ctx.Done()
}

func Returned(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	return ctx, cancel
}

func ReturnedDirectly(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(parent)
}

func InGoroutine(parent context.Context, done chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		<-done
		cancel()
	}()
	return ctx
}

func Passed(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	context.AfterFunc(parent, cancel)
	return ctx
}

func OnErrorPath(parent context.Context, fail bool) context.Context {
	ctx, cancel := context.WithCancel(parent)
	if fail {
		cancel()
		return nil
	}
	return ctx
}

func Background() context.Context {
	ctx, _ := context.WithCancel(context.Background())
	ctx2, _ := context.WithCancel(context.TODO())
	_ = ctx2
	return ctx
}

type Worker struct {
	cancel context.CancelFunc
}

func (w *Worker) Start(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	w.cancel = cancel
	return ctx
}

type Conn struct {
	ctx  context.Context
	stop context.CancelFunc
}

func (c *Conn) Open(parent context.Context) {
	c.ctx, c.stop = context.WithCancel(parent)
}
-- close.go --
package app

func (c *Conn) Close() { c.stop() }
-- shadow.go --
package app

type fakeContext struct{}

func (fakeContext) WithCancel(int) (int, func()) { return 0, nil }

func Shadow() int {
	context := fakeContext{}
	n, _ := context.WithCancel(1)
	return n
}
-- ok_test.go --
package app

import (
	"context"
	"testing"
)

func TestHandle(t *testing.T) {
	ctx, _ := context.WithCancel(context.WithValue(context.Background(), "k", 1))
	_ = ctx
}
"#,
            expect![[r#"
                ok.go:59 context-cancel-not-called [ctx] cancel function "cancel" of context.WithCancel in (*Worker).Start is stored in field "cancel" and nothing calls it, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared ok.go:55
                  evidence ok.go:59
            "#]],
        );
    }

    #[test]
    fn background_parent_with_a_deadline_is_still_reported() {
        check(
            &ContextCancelNotCalled,
            r#"
-- a.go --
package app

import (
	"context"
	"time"
)

func Call() context.Context {
	ctx, _ := context.WithTimeout(context.Background(), time.Hour)
	return ctx
}
"#,
            expect![[r#"
                a.go:9 context-cancel-not-called [ctx] the cancel function of context.WithTimeout in Call is discarded, so the child context "ctx" stays registered with its parent, its timer pending, until the deadline passes
                  declared a.go:9
                  evidence a.go:9
                  fix: Keep the cancel function as cancel and defer cancel()
            "#]],
        );
    }

    #[test]
    fn no_fix_in_loops_or_for_plain_assignments() {
        check(
            &ContextCancelNotCalled,
            r#"
-- loop.go --
package app

import "context"

func Each(parent context.Context, items []string) {
	for range items {
		ctx, _ := context.WithCancel(parent)
		<-ctx.Done()
	}
}

func Assign(parent context.Context) {
	ctx := parent
	ctx, _ = context.WithCancel(ctx)
	<-ctx.Done()
}
"#,
            expect![[r#"
                loop.go:7 context-cancel-not-called [ctx] the cancel function of context.WithCancel in Each is discarded, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared loop.go:7
                  evidence loop.go:7
                loop.go:14 context-cancel-not-called [ctx] the cancel function of context.WithCancel in Assign is discarded, so the child context "ctx" stays registered with its parent until the parent is canceled
                  declared loop.go:13
                  evidence loop.go:14
            "#]],
        );
    }

    const FIX_BLANK: &str = r#"
-- main.go --
package main

import (
	"context"
	"fmt"
)

func cancelAll() {}

func handle(parent context.Context, id int) string {
	cancel := fmt.Sprint(id)
	ctx, _ := context.WithCancel(parent) // per request
	return fmt.Sprint(ctx.Err(), cancel)
}

func main() {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	fmt.Println(handle(base, 1))
	cancelAll()
}
"#;

    #[test]
    fn fix_names_the_discarded_cancel_and_defers_it() {
        let fixed = apply_first_fix(&ContextCancelNotCalled, FIX_BLANK, "main.go");
        expect![[r#"
            package main

            import (
            	"context"
            	"fmt"
            )

            func cancelAll() {}

            func handle(parent context.Context, id int) string {
            	cancel := fmt.Sprint(id)
            	ctx, cancelCtx := context.WithCancel(parent) // per request
            	defer cancelCtx()
            	return fmt.Sprint(ctx.Err(), cancel)
            }

            func main() {
            	base, stop := context.WithCancel(context.Background())
            	defer stop()
            	fmt.Println(handle(base, 1))
            	cancelAll()
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_vet(&fixed);
    }

    const FIX_UNCALLED: &str = r#"
-- main.go --
package main

import (
	"context"
	"fmt"
	"time"
)

func fetch(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	_ = cancel
	return ctx.Err()
}

func main() {
	fmt.Println(fetch(context.Background()))
}
"#;

    #[test]
    fn fix_defers_the_uncalled_cancel() {
        let fixed = apply_first_fix(&ContextCancelNotCalled, FIX_UNCALLED, "main.go");
        expect![[r#"
            package main

            import (
            	"context"
            	"fmt"
            	"time"
            )

            func fetch(parent context.Context) error {
            	ctx, cancel := context.WithTimeout(parent, time.Second)
            	defer cancel()
            	_ = cancel
            	return ctx.Err()
            }

            func main() {
            	fmt.Println(fetch(context.Background()))
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_vet(&fixed);
    }

    /// A struct holding the cancel, made by a constructor and released by a method or a
    /// helper: a caller returning before its release (`defer a.end(r)` after an early
    /// return), and a callee that succeeds without releasing or handing on a value its
    /// caller releases only on error, are reported on that `return`. Releasing first,
    /// handing it on (a channel send) or failing are not.
    #[test]
    fn released_late_or_not_on_a_successful_path() {
        check(
            &ContextCancelNotCalled,
            r#"
-- a.go --
package a

import "context"

type run struct {
	ctx    context.Context
	cancel context.CancelFunc
}

type Agent struct {
	root context.Context
	jobs chan *run
}

func (a *Agent) begin() *run {
	ctx, cancel := context.WithCancel(a.root)
	return &run{ctx: ctx, cancel: cancel}
}

func (a *Agent) end(r *run) { r.cancel() }

func (r *run) Release() { r.cancel() }

func (a *Agent) Execute(skip bool) {
	r := a.begin()
	if skip {
		return
	}
	defer a.end(r)
}

func (a *Agent) ExecuteReleasingFirst(skip bool) {
	r := a.begin()
	defer a.end(r)
	if skip {
		return
	}
}

func (a *Agent) Enqueue(r *run, dup bool) (bool, error) {
	if dup {
		return false, nil
	}
	select {
	case a.jobs <- r:
		return true, nil
	case <-r.ctx.Done():
		return false, r.ctx.Err()
	}
}

func (a *Agent) Submit(dup bool) {
	r := a.begin()
	_, err := a.Enqueue(r, dup)
	if err != nil {
		r.Release()
	}
}
"#,
            expect![[r#"
                a.go:27 context-cancel-not-called [ctx] (*Agent).Execute returns here, before `defer a.end(r)` (line 29), without releasing "r" from begin: the cancel function begin stored in field "cancel" is not called on this path, so the child context "ctx" stays registered with its parent until the parent is canceled
                  related a.go:25 "r" is made here by begin
                  related a.go:29 released here, after the return at line 27
                  evidence a.go:16
                a.go:42 context-cancel-not-called [ctx] Enqueue returns here with a nil error without releasing or handing on "r", the begin result its caller passes as "r" and releases only when the call fails: the cancel function stored in field "cancel" is not called on this path, so the child context "ctx" stays registered with its parent until the parent is canceled
                  related a.go:40 "r" is received here (line 42 returns without it)
                  evidence a.go:16
            "#]],
        );
    }

    #[test]
    fn a_struct_holding_the_cancel_released_on_some_paths_only() {
        // process finishes the job on every path but the failed one (markFailed only
        // reads the job's fields). Quiet: retry hands the job on, done releases on
        // every path, and the job's own finish.
        check(
            &ContextCancelNotCalled,
            r#"
-- f.go --
package f

import "context"

type job struct {
	id     string
	ctx    context.Context
	cancel context.CancelFunc
}

type Service struct {
	ctx   context.Context
	queue chan *job
}

func (s *Service) submit(id string) {
	j := &job{id: id}
	j.ctx, j.cancel = context.WithCancel(s.ctx)
	s.queue <- j
}

func (j *job) finish() { j.cancel() }

func (s *Service) process(j *job, err error) {
	if err != nil {
		if j.ctx.Err() != nil {
			j.finish()
			return
		}
		s.markFailed(j)
		return
	}
	j.finish()
}

func (s *Service) markFailed(j *job) {
	println(j.id)
}

func (s *Service) retry(j *job, err error) {
	if err != nil {
		s.queue <- j
		return
	}
	j.finish()
}

func (s *Service) done(j *job, ok bool) {
	if ok {
		j.cancel()
		return
	}
	j.finish()
}
"#,
            expect![[r#"
                f.go:30 context-cancel-not-called [j.ctx] (*Service).process releases the struct holding cancel function "cancel" of context.WithCancel on its other paths (line 27), but not on this one, so the child context "j.ctx" stays registered with its parent until the parent is canceled
                  related f.go:18 the child context and its cancel are made here by context.WithCancel
                  related f.go:27 released here on another path
                  evidence f.go:18
            "#]],
        );
    }

    #[test]
    fn an_after_func_stop_stored_in_a_field_missed_on_one_path() {
        // attempt completes the envelope (complete calls env.detach) on every path but
        // the suppressed one. Quiet: a stop function nothing calls is not this walk's.
        check(
            &ContextCancelNotCalled,
            r#"
-- f.go --
package f

import "context"

type envelope struct {
	id     string
	body   []byte
	detach func() bool
}

type Manager struct{ ctx context.Context }

func (q *Manager) enqueue(env *envelope) {
	env.detach = context.AfterFunc(q.ctx, func() { println(env.id) })
}

func (q *Manager) complete(env *envelope) {
	env.detach()
}

func (q *Manager) attempt(env *envelope, suppressed, ok bool) bool {
	if suppressed {
		println(env.id)
		return true
	}
	if ok {
		q.complete(env)
		return true
	}
	q.complete(env)
	return false
}

type hook struct{ stop func() bool }

func (q *Manager) watch(h *hook) {
	h.stop = context.AfterFunc(q.ctx, func() {})
}
"#,
            expect![[r#"
                f.go:23 context-cancel-not-called [env.detach] (*Manager).attempt releases the struct holding stop function "detach" of context.AfterFunc on its other paths (line 27), but not on this one, so the function whose stop is "env.detach" stays registered with its context, with the function and all it captures, until the context is canceled
                  related f.go:14 the function is registered here by context.AfterFunc
                  related f.go:27 released here on another path
                  evidence f.go:14
            "#]],
        );
    }

    #[test]
    fn an_entry_removed_without_its_cancel_while_another_removal_calls_it() {
        // Sessions: Close cancels what remove hands back, reap drops it (reported on the
        // `if`). Workers: RemovePod cancels and deletes, UpdatePod deletes only (reported
        // on the delete). Conns: unlink deletes without canceling, but its only caller
        // cancels first (quiet).
        check(
            &ContextCancelNotCalled,
            r#"
-- s.go --
package s

import "context"

type Session struct {
	ID     string
	ctx    context.Context
	cancel context.CancelFunc
}

type Manager struct {
	base     context.Context
	sessions map[string]*Session
}

func (m *Manager) Open(id string) *Session {
	s := &Session{ID: id}
	s.ctx, s.cancel = context.WithCancel(m.base)
	m.sessions[id] = s
	return s
}

func (m *Manager) remove(id string) *Session {
	s, ok := m.sessions[id]
	if !ok {
		return nil
	}
	delete(m.sessions, id)
	return s
}

func (m *Manager) Close(id string) {
	s := m.remove(id)
	if s == nil {
		return
	}
	s.cancel()
}

func (m *Manager) reap(ids []string) {
	for _, id := range ids {
		if m.remove(id) != nil {
			println(id)
		}
	}
}

type worker struct {
	name   string
	cancel context.CancelFunc
}

type Prober struct {
	ctx     context.Context
	workers map[string]*worker
}

func (p *Prober) Update(uid string, running bool) {
	if !running {
		delete(p.workers, uid)
		return
	}
	ctx, cancel := context.WithCancel(p.ctx)
	p.workers[uid] = &worker{name: uid, cancel: cancel}
	go func() { <-ctx.Done() }()
}

func (p *Prober) Remove(uid string) {
	if w, ok := p.workers[uid]; ok {
		w.cancel()
		delete(p.workers, uid)
	}
}

type Conn struct {
	ID     string
	cancel context.CancelFunc
}

type Conns struct {
	ctx  context.Context
	live map[string]*Conn
}

func (c *Conns) Add(id string) {
	_, cancel := context.WithCancel(c.ctx)
	c.live[id] = &Conn{ID: id, cancel: cancel}
}

func (c *Conns) Close(x *Conn) {
	x.cancel()
	c.unlink(x)
}

func (c *Conns) unlink(x *Conn) { delete(c.live, x.ID) }
"#,
            expect![[r#"
                s.go:18 context-cancel-not-called [s.ctx] the child context made here is not canceled when its entry is removed: (*Manager).reap drops the entry remove removes, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Manager).Close calls it when it removes one (line 37), so the child context "s.ctx" stays registered with its parent until the parent is canceled
                  related s.go:37 called here when another path removes an entry
                  related s.go:42 removed here without the cancel
                  evidence s.go:18 s.go:17
                s.go:42 context-cancel-not-called [s.ctx] (*Manager).reap drops the entry remove removes, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Manager).Close calls it when it removes one (line 37), so the child context "s.ctx" stays registered with its parent until the parent is canceled
                  related s.go:18 the child context and its cancel are made here by context.WithCancel
                  related s.go:37 called here when another path removes an entry
                  evidence s.go:18 s.go:17
                s.go:60 context-cancel-not-called [ctx] (*Prober).Update deletes an entry of "p.workers", which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Prober).Remove calls it when it removes one (line 70), so the child context "ctx" stays registered with its parent until the parent is canceled
                  related s.go:63 the child context and its cancel are made here by context.WithCancel
                  related s.go:70 called here when another path removes an entry
                  evidence s.go:63 s.go:64
                s.go:63 context-cancel-not-called [ctx] the child context made here is not canceled when its entry is removed: (*Prober).Update deletes an entry of "p.workers", which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Prober).Remove calls it when it removes one (line 70), so the child context "ctx" stays registered with its parent until the parent is canceled
                  related s.go:70 called here when another path removes an entry
                  related s.go:60 removed here without the cancel
                  evidence s.go:63 s.go:64
            "#]],
        );
    }

    #[test]
    fn a_removal_missing_the_cancel_is_reported_where_the_releasing_removal_cancels() {
        // End cancels right before notify; sweep detaches and notifies without the
        // cancel: the finding is on sweep's notify, where the cancel belongs.
        check(
            &ContextCancelNotCalled,
            r#"
-- h.go --
package h

import "context"

type Sess struct {
	ID     string
	cancel context.CancelFunc
}

type Hub struct {
	root  context.Context
	byID  map[string]*Sess
	hooks []func(*Sess)
}

func (h *Hub) Start(id string) {
	_, cancel := context.WithCancel(h.root)
	h.byID[id] = &Sess{ID: id, cancel: cancel}
}

func (h *Hub) End(s *Sess) {
	h.detach(s)
	s.cancel()
	h.notify(s)
}

func (h *Hub) sweep(expired []*Sess) {
	for _, s := range expired {
		h.detach(s)
	}
	for _, s := range expired {
		h.notify(s)
	}
}

func (h *Hub) detach(s *Sess) { delete(h.byID, s.ID) }

func (h *Hub) Logout(s *Sess) { h.End(s) }

func (h *Hub) notify(s *Sess) {
	for _, fn := range h.hooks {
		fn(s)
	}
}
"#,
            expect![[r#"
                h.go:17 context-cancel-not-called [context.WithCancel] the child context made here is not canceled when its entry is removed: (*Hub).sweep removes an entry of "h.byID" through detach, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Hub).End calls it when it removes one (line 23), so the child context "context.WithCancel" stays registered with its parent until the parent is canceled; the fix goes before this call of notify, where (*Hub).End cancels
                  related h.go:23 called here when another path removes an entry
                  related h.go:32 removed here without the cancel
                  evidence h.go:17 h.go:18
                h.go:32 context-cancel-not-called [context.WithCancel] (*Hub).sweep removes an entry of "h.byID" through detach, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Hub).End calls it when it removes one (line 23), so the child context "context.WithCancel" stays registered with its parent until the parent is canceled; the fix goes before this call of notify, where (*Hub).End cancels
                  related h.go:17 the child context and its cancel are made here by context.WithCancel
                  related h.go:23 called here when another path removes an entry
                  evidence h.go:17 h.go:18
            "#]],
        );
    }

    #[test]
    fn a_removal_that_looks_its_entry_up_is_reported_at_its_delete() {
        // Schedule cancels on its early return (the context is not kept there), keeps it
        // in an entry otherwise; fire, run by a timer, looks the entry up and deletes it
        // without the cancel that Cancel calls: reported on fire's delete, not on the
        // timer's callback, and on the context's line.
        check(
            &ContextCancelNotCalled,
            r#"
-- s.go --
package sch

import (
	"context"
	"sync"
	"time"
)

type scheduledSend struct {
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

type Scheduler struct {
	mu      sync.Mutex
	root    context.Context
	closed  bool
	entries map[string]*scheduledSend
}

func (s *Scheduler) Schedule(id string, delay time.Duration) {
	ctx, cancel := context.WithCancel(s.root)
	e := &scheduledSend{id: id, ctx: ctx, cancel: cancel}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		return
	}
	s.entries[id] = e
	e.timer = time.AfterFunc(delay, func() { s.fire(id) })
}

func (s *Scheduler) fire(id string) {
	s.mu.Lock()
	e, ok := s.entries[id]
	delete(s.entries, id)
	s.mu.Unlock()
	if !ok {
		return
	}
	println(e.id)
}

func (s *Scheduler) Cancel(id string) {
	s.mu.Lock()
	e, ok := s.entries[id]
	delete(s.entries, id)
	s.mu.Unlock()
	if !ok {
		return
	}
	e.timer.Stop()
	e.cancel()
}
"#,
            expect![[r#"
                s.go:24 context-cancel-not-called [ctx] the child context made here is not canceled when its entry is removed: (*Scheduler).fire deletes an entry of "s.entries", which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Scheduler).Cancel calls it when it removes one (line 56), so the child context "ctx" stays registered with its parent until the parent is canceled
                  related s.go:56 called here when another path removes an entry
                  related s.go:39 removed here without the cancel
                  evidence s.go:24 s.go:25
                s.go:39 context-cancel-not-called [ctx] (*Scheduler).fire deletes an entry of "s.entries", which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Scheduler).Cancel calls it when it removes one (line 56), so the child context "ctx" stays registered with its parent until the parent is canceled
                  related s.go:24 the child context and its cancel are made here by context.WithCancel
                  related s.go:56 called here when another path removes an entry
                  evidence s.go:24 s.go:25
            "#]],
        );
    }

    #[test]
    fn a_removal_handing_the_entry_back_to_a_caller_that_drops_it() {
        // removeSession deletes and returns the session: endSession, which compares the
        // result with nil and cancels the session it was handed, releases it; expired
        // keeps the result and never cancels it, reported where the cancel belongs. The
        // early return of endSession, when there was nothing to remove, is not a path
        // that keeps it; nor is the delete from the map of maps.
        check(
            &ContextCancelNotCalled,
            r#"
-- s.go --
package api

import (
	"context"
	"sync"
)

type session struct {
	id     string
	user   string
	ctx    context.Context
	cancel context.CancelFunc
	rooms  map[string]struct{}
}

type Server struct {
	root     context.Context
	mu       sync.Mutex
	sessions map[string]*session
	byUser   map[string]map[string]*session
}

func (s *Server) create(id, user string) *session {
	sess := &session{id: id, user: user, rooms: map[string]struct{}{}}
	sess.ctx, sess.cancel = context.WithCancel(s.root)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = sess
	if s.byUser[user] == nil {
		s.byUser[user] = map[string]*session{}
	}
	s.byUser[user][id] = sess
	return sess
}

func (s *Server) removeSession(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil
	}
	delete(s.sessions, id)
	if m := s.byUser[sess.user]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(s.byUser, sess.user)
		}
	}
	return sess
}

func (s *Server) leave(sess *session) { clear(sess.rooms) }

func (s *Server) endSession(sess *session) {
	if s.removeSession(sess.id) == nil {
		return
	}
	s.leave(sess)
	sess.cancel()
}

func (s *Server) expired(id string) {
	sess := s.removeSession(id)
	if sess == nil {
		return
	}
	s.leave(sess)
}

func (s *Server) Logout(sess *session) { s.endSession(sess) }

func (s *Server) Sweep(ids []string) {
	for _, id := range ids {
		s.expired(id)
	}
}
"#,
            expect![[r#"
                s.go:25 context-cancel-not-called [sess.ctx] the child context made here is not canceled when its entry is removed: (*Server).expired drops "sess", the entry removeSession removes, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Server).endSession calls it when it removes one (line 60), so the child context "sess.ctx" stays registered with its parent until the parent is canceled
                  related s.go:60 called here when another path removes an entry
                  related s.go:68 removed here without the cancel
                  evidence s.go:25 s.go:24
                s.go:68 context-cancel-not-called [sess.ctx] (*Server).expired drops "sess", the entry removeSession removes, which holds cancel function "cancel" of context.WithCancel, without calling it, while (*Server).endSession calls it when it removes one (line 60), so the child context "sess.ctx" stays registered with its parent until the parent is canceled
                  related s.go:25 the child context and its cancel are made here by context.WithCancel
                  related s.go:60 called here when another path removes an entry
                  evidence s.go:25 s.go:24
            "#]],
        );
    }

    #[test]
    fn a_field_holding_the_cancel_replaced_without_closing_the_old_value() {
        // rotate replaces the session without closing the one the field holds; the
        // first open only runs while the field is nil, reopen closes the old one first,
        // and Run's defer closes it and clears the field: those are quiet.
        check(
            &ContextCancelNotCalled,
            r#"
-- t.go --
package tail

import "context"

type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	buf    []byte
}

func (s *session) close() { s.cancel() }

type Tailer struct{ sess *session }

func (t *Tailer) open(ctx context.Context) *session {
	sctx, cancel := context.WithCancel(ctx)
	return &session{ctx: sctx, cancel: cancel, buf: make([]byte, 128<<10)}
}

func (t *Tailer) Run(ctx context.Context) {
	defer func() {
		if t.sess != nil {
			t.sess.close()
			t.sess = nil
		}
	}()
	if t.sess == nil {
		t.sess = t.open(ctx)
	}
}

func (t *Tailer) rotate(ctx context.Context) {
	next := t.open(ctx)
	t.sess = next
}

func (t *Tailer) reopen(ctx context.Context) {
	t.sess.close()
	t.sess = t.open(ctx)
}
"#,
            expect![[r#"
                t.go:34 context-cancel-not-called [sctx] (*Tailer).rotate replaces "t.sess" without releasing the session it holds, whose cancel function "cancel" of context.WithCancel nothing calls after that, so the child context "sctx" stays registered with its parent until the parent is canceled
                  related t.go:16 the child context and its cancel are made here by context.WithCancel
                  related t.go:23 released here when the holder is done with it
                  evidence t.go:16 t.go:17
            "#]],
        );
    }

    #[test]
    fn a_caller_dropping_the_struct_a_constructor_returns() {
        // NewSession returns the session holding the cancel, which Close calls; prepare
        // returns without closing it when parsing fails (reported there), and hands it
        // back otherwise. Register also keeps its session in a map: its callers are
        // not the owners, and are not reported.
        check(
            &ContextCancelNotCalled,
            r#"
-- search/search.go --
package search

import (
	"context"
	"errors"
)

type Session struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func NewSession(parent context.Context) *Session {
	s := &Session{}
	s.ctx, s.cancel = context.WithCancel(parent)
	return s
}

func (s *Session) Close() { s.cancel() }

func (s *Session) Parse(q string) error {
	if q == "" {
		return errors.New("empty")
	}
	return nil
}

type Registry struct{ all map[string]*Session }

func (r *Registry) Register(parent context.Context, id string) *Session {
	s := &Session{}
	s.ctx, s.cancel = context.WithCancel(parent)
	r.all[id] = s
	return s
}

func (r *Registry) Drop(id string) {
	r.all[id].Close()
	delete(r.all, id)
}
-- api/api.go --
package api

import (
	"context"

	"example.com/app/search"
)

type Server struct {
	life context.Context
	reg  *search.Registry
}

func (s *Server) prepare(q string) (*search.Session, error) {
	sess := search.NewSession(s.life)
	if err := sess.Parse(q); err != nil {
		return nil, err
	}
	return sess, nil
}

func (s *Server) join(id string) {
	sess := s.reg.Register(s.life, id)
	_ = sess
}
"#,
            expect![[r#"
                api/api.go:17 context-cancel-not-called [s.ctx] (*Server).prepare leaves without releasing "sess", the struct NewSession returns holding cancel function "cancel" of context.WithCancel, and without handing it on, so the child context "s.ctx" stays registered with its parent until the parent is canceled
                  related search/search.go:15 the child context and its cancel are made here by context.WithCancel
                  related api/api.go:15 the struct is made here
                  evidence search/search.go:15
            "#]],
        );
    }
}
