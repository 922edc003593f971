//! `substring-retains-string`: a substring of a large string (a slice expression, an
//! element of `strings.Split`, a part of `strings.Cut`) is stored where it outlives the
//! call, pinning the whole parent string.

use std::sync::Arc;

use tree_sitter::Node;

use super::flow::{self, BindKind, FileCtx, Sink, SinkKind};
use super::parts::{self, DistantCut};
use super::subslice_retains_backing_array::describe_sink;
use super::syntax;
use super::{
    Context, EvidenceKind, Fix, GoVersion, Location, Match, Package, Related, Rule, RuleMeta,
};

/// The `substring-retains-string` rule.
#[derive(Debug)]
pub struct SubstringRetainsString;

static META: RuleMeta = RuleMeta {
    id: "substring-retains-string",
    name: "Substring retains its parent string",
    summary: "A substring of a large string is stored where it outlives the call, pinning the whole string.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for SubstringRetainsString {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for node in syntax::descendants(file.tree.root_node()) {
                match node.kind() {
                    "slice_expression" => slice_candidate(pkg, &ctx, node, out),
                    "index_expression" => split_element(pkg, &ctx, node, out),
                    "range_clause" => range_candidate(pkg, &ctx, node, out),
                    "short_var_declaration" => cut_candidate(pkg, &ctx, node, out),
                    _ => {}
                }
            }
        }
        let others = pkg.reachable_packages();
        for d in parts::distant_cuts(pkg, others) {
            distant(pkg, others, &d, out);
        }
    }
}

/// Where a parent string comes from.
#[derive(Debug)]
enum Origin {
    /// Made in this package (a conversion, `fmt.Sprintf`, a concatenation, ...) or passed
    /// in by callers that make it.
    Made {
        /// For the message: `a string conversion`, `fmt.Sprintf`, `the caller`.
        what: String,
        sites: Vec<Location>,
    },
    /// A constant or literal: no heap string to pin.
    Constant,
    /// Nothing evident.
    Unknown,
}

/// What kind of substring a candidate is, for the message.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// `s[i:j]`.
    Slice,
    /// An element of `strings.Split` (or `Fields`).
    Element,
    /// A result of `strings.Cut`.
    Cut,
}

/// `s[i:j]` with `s` an evident string.
fn slice_candidate(pkg: &Package, ctx: &FileCtx<'_>, slice: Node<'_>, out: &mut Vec<Match>) {
    let Some(operand) = slice.child_by_field_name("operand").map(flow::unparen) else {
        return;
    };
    if slice.child_by_field_name("capacity").is_some() || is_whole(slice, operand, ctx.src) {
        return;
    }
    report(pkg, ctx, slice, operand, Part::Slice, out);
}

/// `parts[i]` (or `strings.Split(s, sep)[i]`) with `parts` from `strings.Split` of an
/// evident string.
fn split_element(pkg: &Package, ctx: &FileCtx<'_>, index: Node<'_>, out: &mut Vec<Match>) {
    let Some(operand) = index.child_by_field_name("operand") else {
        return;
    };
    let Some(parent) = split_source(ctx, operand, false, 0) else {
        return;
    };
    report(pkg, ctx, index, parent, Part::Element, out);
}

/// `for _, line := range strings.Split(s, "\n")`: every stored use of `line`.
fn range_candidate(pkg: &Package, ctx: &FileCtx<'_>, clause: Node<'_>, out: &mut Vec<Match>) {
    let Some(right) = clause.child_by_field_name("right") else {
        return;
    };
    let left = flow::items(clause.child_by_field_name("left"));
    // The element: the second variable over a slice, the only one over an iterator.
    let (value, parent) = match (
        left.get(1).copied(),
        left.first().copied(),
        split_source(ctx, right, false, 0),
        split_source(ctx, right, true, 0),
    ) {
        (Some(v), _, Some(p), _) => (v, p),
        (None, Some(v), _, Some(p)) => (v, p),
        _ => return,
    };
    if syntax::text(value, ctx.src) == "_" || !flow::has_token(clause, ":=") {
        return;
    }
    let Some(b) = flow::resolve(
        // Resolve from inside the loop body, where the range variables are in scope.
        clause
            .parent()
            .and_then(|f| f.child_by_field_name("body"))
            .unwrap_or(clause),
        syntax::text(value, ctx.src),
        ctx.src,
    ) else {
        return;
    };
    if b.kind != BindKind::Range {
        return;
    }
    for u in flow::uses(&b, ctx.src) {
        report(pkg, ctx, u, parent, Part::Element, out);
    }
}

/// `before, after, ok := strings.Cut(s, sep)`: every stored use of `before` and `after`.
fn cut_candidate(pkg: &Package, ctx: &FileCtx<'_>, decl: Node<'_>, out: &mut Vec<Match>) {
    let right = flow::items(decl.child_by_field_name("right"));
    let [call] = right.as_slice() else {
        return;
    };
    let parts = match ctx.qualified(*call) {
        Some(("strings", "Cut")) => 2,
        Some(("strings", "CutPrefix" | "CutSuffix")) => 1,
        _ => return,
    };
    if call.kind() != "call_expression" {
        return;
    }
    let Some(parent) = syntax::call_args(*call).first().copied() else {
        return;
    };
    let left = flow::items(decl.child_by_field_name("left"));
    for name in left.iter().take(parts) {
        let text = syntax::text(*name, ctx.src);
        if text == "_" {
            continue;
        }
        let Some(next) = decl.next_named_sibling() else {
            continue;
        };
        let Some(b) = flow::resolve(next, text, ctx.src) else {
            continue;
        };
        if b.decl.id() != decl.id() {
            continue;
        }
        for u in flow::uses(&b, ctx.src) {
            report(pkg, ctx, u, parent, Part::Cut, out);
        }
    }
}

/// Reports the sinks of a substring `value` of `parent` when the parent is an evident,
/// non-constant string and is not stored itself.
fn report(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    value: Node<'_>,
    parent: Node<'_>,
    part: Part,
    out: &mut Vec<Match>,
) {
    let src = ctx.src;
    let sinks: Vec<Sink<'_>> = flow::sinks(pkg, ctx.file, value, false)
        .into_iter()
        .filter(|s| s.kind != SinkKind::Send && !flow::runs_once(s.stmt, src))
        .collect();
    if sinks.is_empty() {
        return;
    }
    let Origin::Made { what, sites } = string_origin(pkg, ctx, parent, 0) else {
        return;
    };
    if flow::stored_itself(pkg, ctx.file, parent) {
        return;
    }
    let parent_name = short(syntax::text(parent, src));
    for sink in sinks {
        let m = make_match(pkg, ctx, &sink, &parent_name, part, &what, &sites, None);
        // A slice expression is the cut itself; a use of a Split element or a Cut
        // result is not.
        let cut = matches!(part, Part::Slice).then(|| ctx.loc(value));
        parts::push_with_cut(m, cut, "substring", out);
    }
}

/// A substring cut in a helper and stored by another function (see [`parts`]): reported
/// at the store when the cut's parent is a made string that is not stored itself.
fn distant<'p>(
    pkg: &Context<'_>,
    others: &'p [Arc<Package>],
    d: &DistantCut<'p>,
    out: &mut Vec<Match>,
) {
    let cctx = FileCtx::new(d.cut_file);
    let slice = d.slice;
    let Some(operand) = d.parent() else {
        return;
    };
    let part = match slice.kind() {
        "call_expression" => Part::Cut,
        "index_expression" => Part::Element,
        _ => Part::Slice,
    };
    if !matches!(part, Part::Slice) {
        if !d.is_cut_call_of("strings") {
            return;
        }
    } else if slice.child_by_field_name("capacity").is_some() || is_whole(slice, operand, cctx.src)
    {
        return;
    }
    // On this path the parent may be one call's argument rather than every caller's.
    let (origin, kept) = match parts::entry_argument(d, operand) {
        Some((vp, vf, arg)) => {
            let vctx = FileCtx::new(vf);
            let mut origin = string_origin(vp, &vctx, arg, 1);
            if matches!(origin, Origin::Unknown) {
                // `f.Body` of an object the walk cannot see made: what is written to
                // that field (`f.Body = string(buf)` in the package that reads it).
                for (fp, ff, v) in parts::field_sources(vp, others, vf, arg) {
                    let o = string_origin(fp, &FileCtx::new(ff), v, 1);
                    if !matches!(o, Origin::Unknown) {
                        origin = o;
                        break;
                    }
                }
            }
            if matches!(origin, Origin::Unknown) {
                origin = method_result_origin(pkg, vf, arg);
            }
            let kept = arg.kind() == "identifier" && flow::stored_itself(vp, vf, arg);
            (origin, kept)
        }
        None => {
            let mut origin = string_origin(d.cut_pkg, &cctx, operand, 0);
            if matches!(origin, Origin::Unknown) {
                // A parameter whose callers set their argument from a method of a type
                // of another package (`text := out.Close()`).
                for (cf, arg) in parts::caller_arguments(d.cut_pkg, d.cut_file, operand)
                    .into_iter()
                    .filter_map(|(cf, a)| Some((cf, a?)))
                {
                    let o = method_result_origin(pkg, cf, arg);
                    if !matches!(o, Origin::Unknown) {
                        origin = o;
                        break;
                    }
                }
            }
            (
                origin,
                parts::kept_by_callers(d.cut_pkg, d.cut_file, operand),
            )
        }
    };
    let Origin::Made { what, sites } = origin else {
        return;
    };
    // `text = text[i+1:]`: the later uses of `text` are the substring, not its parent.
    let recut = parts::reassigns_its_operand(d.cut_file, slice, operand);
    if kept || !recut && flow::stored_itself(d.cut_pkg, d.cut_file, operand) {
        return;
    }
    let sctx = FileCtx::new(d.store_file);
    let parent_name = short(syntax::text(operand, cctx.src));
    if let Some((pf, stmt)) = parts::passing_call(d) {
        // Cut here and handed to a call that stores it: reported where it leaves.
        let mut m = make_match(pkg, &sctx, &d.sink, &parent_name, part, &what, &sites, None);
        super::subslice_retains_backing_array::passed_on(&mut m, &FileCtx::new(pf), stmt, d);
        // A `Cut` call's parts are locals of the cut's function: no edit at the call.
        m.fixes = match part {
            Part::Cut => Vec::new(),
            _ => clone_fix(d.cut_pkg, &cctx, slice).into_iter().collect(),
        };
        parts::push_with_cut(m, Some(cctx.loc(slice)), "substring", out);
        return;
    }
    let cut = (cctx.loc(slice), flow::function_label(slice, cctx.src));
    let m = make_match(
        pkg,
        &sctx,
        &d.sink,
        &parent_name,
        part,
        &what,
        &sites,
        Some(cut),
    );
    parts::push_with_cut(m, Some(cctx.loc(slice)), "substring", out);
}

/// The origin of a local set from a method call of a type of another workspace package
/// (`text := out.Close()`, `out` a `*logstream.Stream`): what the `return`s of the only
/// method of that name returning a `string` in the packages the file imports give
/// (`return s.buf.String()`).
fn method_result_origin(cx: &Context<'_>, file: &super::SourceFile, arg: Node<'_>) -> Origin {
    let src: &str = &file.text;
    let call = flow::resolve_ident(flow::unparen(arg), src)
        .filter(|b| b.kind == flow::BindKind::ShortVar && !b.multi)
        .and_then(|b| b.value)
        .map(flow::unparen)
        .filter(|v| v.kind() == "call_expression");
    let Some(name) = call
        .and_then(|c| c.child_by_field_name("function"))
        .map(flow::unparen)
        .filter(|f| f.kind() == "selector_expression")
        .filter(|_| call.is_some_and(|c| FileCtx::new(file).qualified(c).is_none()))
        .and_then(|f| f.child_by_field_name("field"))
        .map(|f| syntax::text(f, src))
    else {
        return Origin::Unknown;
    };
    let mut found: Vec<(Arc<Package>, usize, usize)> = Vec::new();
    for (_, path) in flow::imports(file) {
        let Some(other) = cx.other_package(&path) else {
            continue;
        };
        for (fi, f) in other.files.iter().enumerate() {
            if f.summary.is_test || f.summary.is_generated {
                continue;
            }
            for (di, decl) in flow::named(f.tree.root_node()).into_iter().enumerate() {
                let returns_string = decl
                    .child_by_field_name("result")
                    .is_some_and(|r| syntax::text(r, &f.text).trim() == "string");
                if decl.kind() == "method_declaration"
                    && syntax::function_name(decl, &f.text) == Some(name)
                    && returns_string
                {
                    found.push((other.clone(), fi, di));
                }
            }
        }
    }
    let [(other, fi, di)] = found.as_slice() else {
        return Origin::Unknown;
    };
    let f = &other.files[*fi];
    let Some(decl) = flow::named(f.tree.root_node()).into_iter().nth(*di) else {
        return Origin::Unknown;
    };
    let fctx = FileCtx::new(f);
    for ret in syntax::descendants_of_kind(decl, "return_statement") {
        let Some(v) = flow::items(ret.named_child(0)).first().copied() else {
            continue;
        };
        let o = string_origin(other, &fctx, v, 1);
        if !matches!(o, Origin::Unknown) {
            return o;
        }
        // `return s.text`: what the package writes to that field.
        for (fp, ff, w) in parts::field_sources(other, &[], f, v) {
            let o = string_origin(fp, &FileCtx::new(ff), w, 1);
            if !matches!(o, Origin::Unknown) {
                return o;
            }
        }
    }
    Origin::Unknown
}

/// The match for a substring of `parent_name` stored at `sink` (in `ctx`'s file); `cut`
/// is where and in which function it was cut when that is another function.
#[allow(clippy::too_many_arguments)]
fn make_match(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    sink: &Sink<'_>,
    parent_name: &str,
    part: Part,
    what: &str,
    sites: &[Location],
    cut: Option<(Location, String)>,
) -> Match {
    let src = ctx.src;
    let func = flow::function_label(sink.stmt, src);
    let (subject, place, declaration) = describe_sink(pkg, ctx, sink, parent_name);
    let part_text = match part {
        Part::Slice => format!("a substring of \"{parent_name}\""),
        Part::Element => format!("an element of strings.Split of \"{parent_name}\""),
        Part::Cut => format!("a part of strings.Cut of \"{parent_name}\""),
    };
    let from = match (&cut, what == "the caller") {
        (None, true) => ", a string passed in by the caller,".to_string(),
        (Some((_, f)), true) => format!(" cut in {f} (a string its caller passes)"),
        (None, false) => format!(" (from {what})"),
        (Some((_, f)), false) => format!(" cut in {f} (from {what})"),
    };
    let message =
        format!("{part_text}{from} {place} in {func}, which keeps the whole string alive");
    let mut evidence = sites.to_vec();
    flow::push_unique(&mut evidence, ctx.loc(sink.stmt));
    let mut related: Vec<Related> = sites
        .iter()
        .map(|s| Related {
            location: s.clone(),
            message: if what == "the caller" {
                "the caller's string is allocated here".to_string()
            } else {
                format!("string \"{parent_name}\" is allocated here")
            },
        })
        .collect();
    if let Some((location, f)) = cut {
        related.push(Related {
            location,
            message: format!("the substring is cut here, in {f}"),
        });
    }
    Match {
        rule: META.id,
        location: ctx.loc(sink.stmt),
        subject,
        message,
        declaration,
        related,
        evidence,
        fixes: clone_fix(pkg, ctx, sink.value).into_iter().collect(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

/// An expression's text for a message, cut to a short length.
fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 40 {
        one_line
    } else {
        let cut: String = one_line.chars().take(37).collect();
        format!("{cut}...")
    }
}

/// Whether a slice expression is the whole string: `s[:]`, `s[0:]`, `s[:len(s)]`.
fn is_whole(slice: Node<'_>, operand: Node<'_>, src: &str) -> bool {
    let start_zero = slice
        .child_by_field_name("start")
        .is_none_or(|s| syntax::text(s, src).trim() == "0");
    let end_full = slice.child_by_field_name("end").is_none_or(|e| {
        flow::same_expr(
            syntax::text(e, src),
            &format!("len({})", syntax::text(operand, src)),
        )
    });
    start_zero && end_full
}

/// For `strings.Split(s, sep)`, `strings.Fields(s)` (or a local bound to one): `s`.
fn split_source<'t>(
    ctx: &FileCtx<'_>,
    node: Node<'t>,
    iterator: bool,
    depth: usize,
) -> Option<Node<'t>> {
    if depth > flow::MAX_DEPTH {
        return None;
    }
    let node = flow::unparen(node);
    match node.kind() {
        "call_expression" => {
            let (path, func) = ctx.qualified(node)?;
            let splits = path == "strings" && flow::split_kind(func) == Some(iterator);
            splits
                .then(|| syntax::call_args(node).first().copied())
                .flatten()
        }
        "identifier" => {
            let b = flow::resolve_ident(node, ctx.src)?;
            if !matches!(b.kind, BindKind::ShortVar | BindKind::Var) || b.multi {
                return None;
            }
            split_source(ctx, b.value?, iterator, depth + 1)
        }
        _ => None,
    }
}

/// Standard-library calls that return a new string as large as their input or larger.
fn makes_string(path: &str, func: &str) -> bool {
    match path {
        "fmt" => matches!(func, "Sprint" | "Sprintf" | "Sprintln"),
        "strings" => matches!(
            func,
            "Join"
                | "Repeat"
                | "Replace"
                | "ReplaceAll"
                | "ToLower"
                | "ToUpper"
                | "ToTitle"
                | "Title"
                | "Map"
                | "ToValidUTF8"
        ),
        "strconv" => matches!(func, "Quote" | "QuoteToASCII" | "Unquote"),
        _ => false,
    }
}

/// `strings` functions whose result is a substring of their first argument.
fn keeps_parent(path: &str, func: &str) -> bool {
    path == "strings" && flow::is_trim_func(func)
}

/// Where the string `node` evaluates to was made.
fn string_origin(pkg: &Package, ctx: &FileCtx<'_>, node: Node<'_>, depth: usize) -> Origin {
    if depth > flow::MAX_DEPTH {
        return Origin::Unknown;
    }
    let src = ctx.src;
    let node = flow::unparen(node);
    let made = |what: &str, at: Node<'_>| Origin::Made {
        what: what.to_string(),
        sites: vec![ctx.loc(at)],
    };
    match node.kind() {
        "interpreted_string_literal" | "raw_string_literal" => Origin::Constant,
        "binary_expression" => {
            if flow::operator(node, src) != "+" {
                return Origin::Unknown;
            }
            let l = node
                .child_by_field_name("left")
                .map(|l| string_origin(pkg, ctx, l, depth + 1));
            let r = node
                .child_by_field_name("right")
                .map(|r| string_origin(pkg, ctx, r, depth + 1));
            if matches!((&l, &r), (Some(Origin::Constant), Some(Origin::Constant))) {
                return Origin::Constant;
            }
            let literal = |o: &Option<Origin>| matches!(o, Some(Origin::Constant));
            if literal(&l)
                || literal(&r)
                || matches!(l, Some(Origin::Made { .. }))
                || matches!(r, Some(Origin::Made { .. }))
            {
                return made("a concatenation", node);
            }
            Origin::Unknown
        }
        "call_expression" => {
            if ctx.is_builtin(node, "string") {
                let arg = syntax::call_args(node).first().copied();
                if arg.is_some_and(|a| {
                    matches!(string_origin(pkg, ctx, a, depth + 1), Origin::Constant)
                }) {
                    return Origin::Constant;
                }
                return made("a string conversion", node);
            }
            if let Some((path, func)) = ctx.qualified(node) {
                if makes_string(path, func) {
                    return made(&format!("{path}.{func}"), node);
                }
                if keeps_parent(path, func) {
                    return match syntax::call_args(node).first() {
                        Some(a) => string_origin(pkg, ctx, *a, depth + 1),
                        None => Origin::Unknown,
                    };
                }
                return Origin::Unknown;
            }
            let Some(f) = node.child_by_field_name("function").map(flow::unparen) else {
                return Origin::Unknown;
            };
            match f.kind() {
                // `b.String()`, `sc.Text()`: a new string from a builder or scanner.
                "selector_expression" if syntax::call_args(node).is_empty() => {
                    let method = f.child_by_field_name("field").map(|m| syntax::text(m, src));
                    match method {
                        Some(m @ ("String" | "Text")) => made(&format!("{m}()"), node),
                        _ => Origin::Unknown,
                    }
                }
                "identifier" => same_package_string(pkg, ctx, f),
                _ => Origin::Unknown,
            }
        }
        "slice_expression" => match node.child_by_field_name("operand") {
            Some(o) => string_origin(pkg, ctx, o, depth + 1),
            None => Origin::Unknown,
        },
        "index_expression" => match node
            .child_by_field_name("operand")
            .and_then(|o| split_source(ctx, o, false, 0))
        {
            Some(s) => string_origin(pkg, ctx, s, depth + 1),
            None => Origin::Unknown,
        },
        "identifier" => identifier_origin(pkg, ctx, node, depth),
        _ => Origin::Unknown,
    }
}

/// The origin of a local, a parameter or a package-level constant.
fn identifier_origin(pkg: &Package, ctx: &FileCtx<'_>, ident: Node<'_>, depth: usize) -> Origin {
    let src = ctx.src;
    let name = syntax::text(ident, src);
    let Some(b) = flow::resolve(ident, name, src) else {
        return match flow::package_decl(pkg, name) {
            Some((_, d)) if d.kind == crate::source::model::DeclKind::Const => Origin::Constant,
            _ => Origin::Unknown,
        };
    };
    match b.kind {
        BindKind::Const => Origin::Constant,
        BindKind::Param => param_origin(pkg, ctx, &b, depth),
        BindKind::Range => {
            // `for _, s := range strings.Split(x, sep)`, `for s := range strings.Lines(x)`.
            let split = b.value.and_then(|r| split_source(ctx, r, b.index == 0, 0));
            match split {
                Some(s) => string_origin(pkg, ctx, s, depth + 1),
                None => Origin::Unknown,
            }
        }
        BindKind::ShortVar | BindKind::Var => {
            let mut values = Vec::new();
            if let Some(v) = b.value {
                if b.multi {
                    // `before, after, ok := strings.Cut(s, sep)`.
                    let cut = matches!(
                        ctx.qualified(v),
                        Some(("strings", "Cut" | "CutPrefix" | "CutSuffix"))
                    );
                    if cut && b.index < 2 {
                        if let Some(a) = syntax::call_args(v).first() {
                            values.push(*a);
                        }
                    }
                } else {
                    values.push(v);
                }
            }
            values.extend(flow::assignments(&b, ident.start_byte(), src));
            let mut what = None;
            let mut sites = Vec::new();
            let mut all_constant = !values.is_empty();
            for v in values {
                match string_origin(pkg, ctx, v, depth + 1) {
                    Origin::Made { what: w, sites: s } => {
                        what.get_or_insert(w);
                        for l in s {
                            flow::push_unique(&mut sites, l);
                        }
                        all_constant = false;
                    }
                    Origin::Constant => {}
                    Origin::Unknown => all_constant = false,
                }
            }
            match what {
                Some(what) => Origin::Made { what, sites },
                None if all_constant => Origin::Constant,
                None => Origin::Unknown,
            }
        }
        _ => Origin::Unknown,
    }
}

/// A call of a same-package function declared to return one `string`: its body is where
/// the string is made.
fn same_package_string(pkg: &Package, ctx: &FileCtx<'_>, f: Node<'_>) -> Origin {
    let name = syntax::text(f, ctx.src);
    if flow::resolve(f, name, ctx.src).is_some() {
        return Origin::Unknown;
    }
    let Some((ff, decl)) = flow::package_function(pkg, name) else {
        return Origin::Unknown;
    };
    let returns_string = decl.child_by_field_name("result").is_some_and(|r| {
        let t = syntax::text(r, &ff.text);
        t == "string" || t == "(string)" || t.starts_with("(string, error")
    });
    match (returns_string, decl.child_by_field_name("body")) {
        (true, Some(body)) => Origin::Made {
            what: name.to_string(),
            sites: vec![ff.location(body)],
        },
        _ => Origin::Unknown,
    }
}

/// A `string` parameter: the callers' strings. With callers in the package, at least one
/// must pass a string it makes; without any, the match stands on the code alone.
fn param_origin(pkg: &Package, ctx: &FileCtx<'_>, b: &flow::Binding<'_>, depth: usize) -> Origin {
    let src = ctx.src;
    if b.ty.is_none_or(|t| syntax::text(t, src) != "string")
        || b.decl.kind() != "parameter_declaration"
    {
        return Origin::Unknown;
    }
    let caller = || Origin::Made {
        what: "the caller".to_string(),
        sites: Vec::new(),
    };
    let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
        return Origin::Unknown;
    };
    if func.kind() == "func_literal" || depth > flow::MAX_DEPTH {
        return caller();
    }
    let Some(pos) = flow::param_position(b) else {
        return Origin::Unknown;
    };
    let calls = flow::callers(pkg, func, src);
    let mut passed = 0;
    let mut sites = Vec::new();
    for (cf, call) in &calls {
        let cctx = FileCtx::new(cf);
        let Some(arg) = syntax::call_args(*call).get(pos).copied() else {
            continue;
        };
        if let Origin::Made { sites: s, .. } = string_origin(pkg, &cctx, arg, depth + 1) {
            passed += 1;
            for l in s {
                flow::push_unique(&mut sites, l);
            }
        }
    }
    if !calls.is_empty() && passed == 0 {
        return Origin::Unknown;
    }
    Origin::Made {
        what: "the caller".to_string(),
        sites,
    }
}

/// The fix: store `strings.Clone(x)` (Go 1.18), adding the import when missing.
fn clone_fix(pkg: &Package, ctx: &FileCtx<'_>, value: Node<'_>) -> Option<Fix> {
    if pkg
        .go_version
        .is_some_and(|v: GoVersion| !v.at_least(1, 18))
    {
        return None;
    }
    let (q, mut edits) = flow::qualifier(pkg, ctx.file, "strings", value)?;
    edits.extend(flow::wrap(ctx.file, value, &format!("{q}.Clone("), ")"));
    Some(Fix {
        title: format!(
            "Store a copy: {q}.Clone({})",
            short(syntax::text(value, ctx.src))
        ),
        edits,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::SubstringRetainsString as R;
    use crate::rules::flow::assert_go_builds;
    use crate::rules::testing::{apply_first_fix, check};

    const DOCS: &str = r#"
-- docs/docs.go --
package docs

import (
	"io"
	"sync"
)

var (
	mu     sync.Mutex
	titles = map[string]string{}
)

// Document indexes one uploaded document by its title line.
func Document(id string, r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	doc := string(raw)
	end := 80
	if len(doc) < end {
		end = len(doc)
	}
	mu.Lock()
	titles[id] = doc[:end]
	mu.Unlock()
	return nil
}
"#;

    #[test]
    fn substring_of_a_converted_document_stored_in_a_global_map() {
        check(
            &R,
            DOCS,
            expect![[r#"
            docs/docs.go:25 substring-retains-string [titles] a substring of "doc" (from a string conversion) is stored in package-level map "titles" in Document, which keeps the whole string alive
              declared docs/docs.go:10
              related docs/docs.go:19 string "doc" is allocated here
              evidence docs/docs.go:19 docs/docs.go:25
              fix: Store a copy: strings.Clone(doc[:end])
        "#]],
        );
    }

    #[test]
    fn fix_clones_and_adds_the_strings_import() {
        let fixed = apply_first_fix(&R, DOCS, "docs/docs.go");
        expect![[r#"
            package docs

            import (
            	"io"
            	"strings"
            	"sync"
            )

            var (
            	mu     sync.Mutex
            	titles = map[string]string{}
            )

            // Document indexes one uploaded document by its title line.
            func Document(id string, r io.Reader) error {
            	raw, err := io.ReadAll(r)
            	if err != nil {
            		return err
            	}
            	doc := string(raw)
            	end := 80
            	if len(doc) < end {
            		end = len(doc)
            	}
            	mu.Lock()
            	titles[id] = strings.Clone(doc[:end])
            	mu.Unlock()
            	return nil
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.22", &[("docs/docs.go", &fixed)]);
    }

    #[test]
    fn split_elements_cut_parts_keys_and_fields() {
        check(
            &R,
            r#"
-- idx.go --
package idx

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

type Index struct {
	first string
	hosts map[string]bool
}

var (
	lines []string
	keys  = map[string]int{}
	names []string
)

// Load keeps every line of a file: each pins the whole file's text.
func Load(path string) {
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(data), "\n") {
		lines = append(lines, line)
	}
}

// Count uses a prefix of every scanned line as a key.
func Count(sc *bufio.Scanner) {
	for sc.Scan() {
		line := sc.Text()
		keys[line[:8]]++
	}
}

// Header keeps the part before the first colon.
func (x *Index) Header(id int, body []byte) {
	msg := fmt.Sprintf("%d:%s", id, body)
	name, _, ok := strings.Cut(msg, ":")
	if ok {
		names = append(names, name)
	}
	parts := strings.Split(msg, ":")
	x.first = parts[0]
	x.hosts[strings.TrimSpace(msg[2:10])] = true
}
"#,
            expect![[r#"
                idx.go:25 substring-retains-string [lines] an element of strings.Split of "string(data)" (from a string conversion) is appended to package-level slice "lines" in Load, which keeps the whole string alive
                  declared idx.go:16
                  related idx.go:24 string "string(data)" is allocated here
                  evidence idx.go:24 idx.go:25
                  fix: Store a copy: strings.Clone(line)
                idx.go:33 substring-retains-string [keys] a substring of "line" (from Text()) is used as a key of package-level map "keys" in Count, which keeps the whole string alive
                  declared idx.go:17
                  related idx.go:32 string "line" is allocated here
                  evidence idx.go:32 idx.go:33
                  fix: Store a copy: strings.Clone(line[:8])
                idx.go:42 substring-retains-string [names] a part of strings.Cut of "msg" (from fmt.Sprintf) is appended to package-level slice "names" in (*Index).Header, which keeps the whole string alive
                  declared idx.go:18
                  related idx.go:39 string "msg" is allocated here
                  evidence idx.go:39 idx.go:42
                  fix: Store a copy: strings.Clone(name)
                idx.go:45 substring-retains-string [x.first] an element of strings.Split of "msg" (from fmt.Sprintf) is assigned to "x.first" in (*Index).Header, which keeps the whole string alive
                  related idx.go:39 string "msg" is allocated here
                  evidence idx.go:39 idx.go:45
                  fix: Store a copy: strings.Clone(parts[0])
                idx.go:46 substring-retains-string [x.hosts] a substring of "msg" (from fmt.Sprintf) is used as a key of "x.hosts" in (*Index).Header, which keeps the whole string alive
                  related idx.go:39 string "msg" is allocated here
                  evidence idx.go:39 idx.go:46
                  fix: Store a copy: strings.Clone(strings.TrimSpace(msg[2:10]))
            "#]],
        );
    }

    /// Cut in a helper, kept in a struct, stored by a method through a parameter.
    #[test]
    fn substrings_cut_in_a_helper_and_stored_two_calls_later() {
        check(
            &R,
            r#"
-- c.go --
package c

import (
	"bytes"
	"strings"
	"sync"
)

type Result struct {
	URL   string
	Title string
}

type Crawler struct {
	mu     sync.Mutex
	titles map[string]string
}

func (c *Crawler) Page(u string, buf *bytes.Buffer) Result {
	page := buf.String()
	r := Result{URL: u, Title: titleOf(page)}
	c.remember(u, r.Title)
	c.note(u, headOf(page))
	return r
}

func (c *Crawler) remember(u, title string) {
	c.mu.Lock()
	c.titles[u] = title
	c.mu.Unlock()
}

func titleOf(page string) string {
	i := strings.Index(page, "<title>")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(page[i+7:])
}

// A copy: nothing of the page is kept.
func (c *Crawler) note(u, head string) {
	c.titles["head:"+u] = head
}

func headOf(page string) string {
	return strings.Clone(page[:10])
}
"#,
            expect![[r#"
                c.go:29 substring-retains-string [c.titles] a substring of "page" cut in titleOf (from String()) is stored in "c.titles" in (*Crawler).remember, which keeps the whole string alive
                  related c.go:20 string "page" is allocated here
                  related c.go:38 the substring is cut here, in titleOf
                  evidence c.go:20 c.go:29
                  fix: Store a copy: strings.Clone(title)
                c.go:38 substring-retains-string [c.titles] the substring cut here is kept: a substring of "page" cut in titleOf (from String()) is stored in "c.titles" in (*Crawler).remember, which keeps the whole string alive
                  related c.go:20 string "page" is allocated here
                  related c.go:29 the substring is kept here
                  evidence c.go:20 c.go:29
                  fix: Store a copy: strings.Clone(title)
            "#]],
        );
    }

    /// Cut in one package and stored by another: a result of an exported function, a
    /// field filled after its literal and read from range elements (a field of the same
    /// name in a struct of another evident type is not followed), and an exported
    /// method's parameter stored for the callers in another package.
    #[test]
    fn substrings_cut_in_another_package() {
        check(
            &R,
            r#"
-- parse/parse.go --
package parse

import (
	"bytes"
	"strings"
)

type Family struct {
	Name string
	Help string
}

type Label struct {
	Key   string
	Value string
}

func Title(b *bytes.Buffer) string {
	page := b.String()
	return page[:16]
}

func Parse(b *bytes.Buffer) []*Family {
	text := b.String()
	f := &Family{Name: "x"}
	f.Help = text[8:]
	return []*Family{f}
}

func Labels(b *bytes.Buffer) []Label {
	text := b.String()
	return []Label{{Key: "k", Value: text[2:]}}
}

func Clean(b *bytes.Buffer) string {
	page := b.String()
	return strings.Clone(page[:16])
}
-- store/store.go --
package store

import (
	"bytes"

	"example.com/app/parse"
)

type Sample struct {
	Name  string
	Value float64
}

type Store struct {
	titles map[string]string
	help   map[string]string
	values map[string]float64
}

func (s *Store) Observe(k string, b *bytes.Buffer) {
	s.titles[k] = parse.Title(b)
	for _, f := range parse.Parse(b) {
		s.help[f.Name] = f.Help
	}
	s.titles["clean:"+k] = parse.Clean(b)
}

func (s *Store) Samples(samples []Sample) {
	for _, smp := range samples {
		s.values[smp.Name] = smp.Value
	}
}

func (s *Store) Remember(k, v string) {
	s.titles[k] = v
}
-- api/api.go --
package api

import (
	"example.com/app/store"
)

func Handle(s *store.Store, body []byte) {
	text := string(body)
	s.Remember("first", text[:10])
}
"#,
            expect![[r#"
                api/api.go:9 substring-retains-string [s.titles] a substring of "text" (from a string conversion) is passed on in Handle, and stored in "s.titles" by (*Store).Remember, which keeps the whole string alive
                  related api/api.go:8 string "text" is allocated here
                  related store/store.go:35 (*Store).Remember stores it here
                  evidence api/api.go:8 store/store.go:35 api/api.go:9
                  fix: Store a copy: strings.Clone(text[:10])
                parse/parse.go:20 substring-retains-string [s.titles] the substring cut here is kept: a substring of "page" cut in Title (from String()) is stored in "s.titles" in (*Store).Observe, which keeps the whole string alive
                  related parse/parse.go:19 string "page" is allocated here
                  related store/store.go:21 the substring is kept here
                  evidence parse/parse.go:19 store/store.go:21
                  fix: Store a copy: strings.Clone(parse.Title(b))
                parse/parse.go:26 substring-retains-string [s.help] the substring cut here is kept: a substring of "text" cut in Parse (from String()) is stored in "s.help" in (*Store).Observe, which keeps the whole string alive
                  related parse/parse.go:24 string "text" is allocated here
                  related store/store.go:23 the substring is kept here
                  evidence parse/parse.go:24 store/store.go:23
                  fix: Store a copy: strings.Clone(f.Help)
                store/store.go:21 substring-retains-string [s.titles] a substring of "page" cut in Title (from String()) is stored in "s.titles" in (*Store).Observe, which keeps the whole string alive
                  related parse/parse.go:19 string "page" is allocated here
                  related parse/parse.go:20 the substring is cut here, in Title
                  evidence parse/parse.go:19 store/store.go:21
                  fix: Store a copy: strings.Clone(parse.Title(b))
                store/store.go:23 substring-retains-string [s.help] a substring of "text" cut in Parse (from String()) is stored in "s.help" in (*Store).Observe, which keeps the whole string alive
                  related parse/parse.go:24 string "text" is allocated here
                  related parse/parse.go:26 the substring is cut here, in Parse
                  evidence parse/parse.go:24 store/store.go:23
                  fix: Store a copy: strings.Clone(f.Help)
            "#]],
        );
    }

    /// A part of `strings.Cut` made in another package's function and handed to a
    /// callback that passes it on to a store: reported on the callback's call, the parent
    /// found through the field it was read from (`f.Body = string(b)`). A clone in the
    /// callback pins nothing.
    #[test]
    fn cut_parts_handed_to_a_callback_from_another_package() {
        check(
            &R,
            r#"
-- wire/wire.go --
package wire

import "strings"

type Frame struct {
	Body string
}

func Read(b []byte) *Frame {
	f := &Frame{}
	f.Body = string(b)
	return f
}

func Each(body string, bad func(line string)) {
	for body != "" {
		line, rest, _ := strings.Cut(body, "\n")
		body = rest
		bad(line)
	}
}
-- feed/feed.go --
package feed

import (
	"strings"

	"example.com/app/wire"
)

type Log struct {
	lines []string
}

func (l *Log) Add(s string) {
	l.lines = append(l.lines, s)
}

func (l *Log) Feed(b []byte) {
	f := wire.Read(b)
	wire.Each(f.Body, func(line string) {
		l.Add(line)
	})
}

func (l *Log) FeedCopies(b []byte) {
	f := wire.Read(b)
	wire.Each(f.Body, func(line string) {
		l.Add(strings.Clone(line))
	})
}
"#,
            expect![[r#"
                feed/feed.go:20 substring-retains-string [l.lines] a part of strings.Cut of "body" (from a string conversion) is passed on in (*Log).Feed, and appended to "l.lines" by (*Log).Add, which keeps the whole string alive
                  related wire/wire.go:11 string "body" is allocated here
                  related feed/feed.go:14 (*Log).Add stores it here
                  evidence wire/wire.go:11 feed/feed.go:14 feed/feed.go:20
                wire/wire.go:17 substring-retains-string [l.lines] the substring cut here is kept: a part of strings.Cut of "body" (from a string conversion) is passed on in (*Log).Feed, and appended to "l.lines" by (*Log).Add, which keeps the whole string alive
                  related wire/wire.go:11 string "body" is allocated here
                  related feed/feed.go:14 (*Log).Add stores it here
                  related feed/feed.go:20 the substring is kept here
                  evidence wire/wire.go:11 feed/feed.go:14 feed/feed.go:20
            "#]],
        );
    }

    /// An element of `strings.Split` set on a struct of a shared package by one package
    /// and stored by another that receives the structs through an interface: the field
    /// writes of the evident struct type are searched in every workspace package. A
    /// cloned element and a field of another type are not followed.
    #[test]
    fn split_elements_set_on_a_shared_type_and_stored_elsewhere() {
        check(
            &R,
            r#"
-- event/event.go --
package event

type Event struct {
	Agent string
	Site  string
}

type Other struct {
	Agent string
}
-- ingest/ingest.go --
package ingest

import (
	"strings"

	"example.com/app/event"
)

type Enricher interface {
	Enrich(evs []event.Event)
}

func Parse(raw []byte, e Enricher) {
	text := string(raw)
	var evs []event.Event
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, "\t")
		evs = append(evs, event.Event{Agent: f[0], Site: strings.Clone(f[1])})
	}
	e.Enrich(evs)
	_ = event.Other{Agent: f2(text)}
}

func f2(s string) string { return s[:4] }
-- enrich/enrich.go --
package enrich

import "example.com/app/event"

type Agents struct {
	seen  map[string]bool
	sites map[string]bool
}

func (a *Agents) Enrich(evs []event.Event) {
	for i := range evs {
		ev := &evs[i]
		a.seen[ev.Agent] = true
		a.sites[ev.Site] = true
	}
}
"#,
            expect![[r#"
                enrich/enrich.go:13 substring-retains-string [a.seen] an element of strings.Split of "line" cut in Parse (from a string conversion) is used as a key of "a.seen" in (*Agents).Enrich, which keeps the whole string alive
                  related ingest/ingest.go:14 string "line" is allocated here
                  related ingest/ingest.go:18 the substring is cut here, in Parse
                  evidence ingest/ingest.go:14 enrich/enrich.go:13
                  fix: Store a copy: strings.Clone(ev.Agent)
                ingest/ingest.go:18 substring-retains-string [a.seen] the substring cut here is kept: an element of strings.Split of "line" cut in Parse (from a string conversion) is used as a key of "a.seen" in (*Agents).Enrich, which keeps the whole string alive
                  related ingest/ingest.go:14 string "line" is allocated here
                  related enrich/enrich.go:13 the substring is kept here
                  evidence ingest/ingest.go:14 enrich/enrich.go:13
                  fix: Store a copy: strings.Clone(ev.Agent)
            "#]],
        );
    }

    /// The helper's parent is a constant, the parent is stored too, or the store runs
    /// once at start-up: nothing is pinned that would not be kept anyway.
    #[test]
    fn helper_cuts_of_constants_kept_parents_and_start_up_stores() {
        check(
            &R,
            r#"
-- c.go --
package c

const banner = "heapspot: a long constant banner"

var names = map[string]string{}
var docs = map[string]string{}

func short() string { return banner[:8] }

func Keep(k string) {
	names[k] = short()
}

func first(s string) string { return s[:4] }

func KeepBoth(k string, b []byte) {
	doc := string(b)
	docs[k] = doc
	names[k] = first(doc)
}

func prefix(s string) string { return s[:2] }

func init() {
	names["x"] = prefix(string([]byte("start-up")))
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn strings_passed_in_by_callers() {
        check(
            &R,
            r#"
-- c.go --
package c

import "strings"

var prefixes []string

func remember(s string) {
	prefixes = append(prefixes, s[:4])
}

func Handle(parts []string) {
	remember(strings.Join(parts, "/"))
}

var tags []string

func tag(s string) {
	tags = append(tags, s[:2])
}

// Only constants are passed: the parent is not on the heap.
func Tags() {
	tag("alpha")
	tag("beta")
}
"#,
            expect![[r#"
                c.go:8 substring-retains-string [prefixes] a substring of "s", a string passed in by the caller, is appended to package-level slice "prefixes" in remember, which keeps the whole string alive
                  declared c.go:5
                  related c.go:12 the caller's string is allocated here
                  evidence c.go:12 c.go:8
                  fix: Store a copy: strings.Clone(s[:4])
            "#]],
        );
    }

    #[test]
    fn short_lived_uses_constants_copies_and_kept_parents_are_fine() {
        check(
            &R,
            r#"
-- ok.go --
package ok

import (
	"fmt"
	"strings"
)

const banner = "heapspot: leak finder"

var (
	short  = map[string]string{}
	parent = map[string]string{}
	child  = map[string]string{}
	names  []string
)

func Print(doc []byte) {
	s := string(doc)
	fmt.Println(s[:10])
	if strings.HasPrefix(s[:4], "GET ") {
		short["get"] = strings.Clone(s[:4])
	}
	short["banner"] = banner[:8]
	lit := "literal text"
	short["lit"] = lit[:7]
	names = append(names, string([]byte(s[:3])))
}

// The parent is kept whole in the same call, so the substring pins nothing more.
func Both(id string, doc []byte) {
	s := string(doc)
	parent[id] = s
	child[id] = s[:16]
}

// A local map does not outlive the call.
func Local(doc []byte) int {
	s := string(doc)
	m := map[string]string{}
	m[s[:4]] = s[4:8]
	return len(m)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowed_names_init_tests_and_old_go() {
        check(
            &R,
            r#"
-- go.mod --
module example.com/app

go 1.17
-- a.go --
package a

import "os"

var titles = map[string]string{}

var version string

func init() {
	data, _ := os.ReadFile("/etc/version")
	version = string(data)[:5]
}

func Shadow(raw []byte) int {
	titles := map[string]string{}
	doc := string(raw)
	titles["x"] = doc[:4]
	return len(titles)
}

// Before Go 1.18 there is no strings.Clone: the match has no fix.
func Old(raw []byte) {
	doc := string(raw)
	titles["old"] = doc[:4]
}
-- a_test.go --
package a

func keepForTest(raw []byte) {
	doc := string(raw)
	titles["t"] = doc[:4]
}
"#,
            expect![[r#"
                a.go:24 substring-retains-string [titles] a substring of "doc" (from a string conversion) is stored in package-level map "titles" in Old, which keeps the whole string alive
                  declared a.go:5
                  related a.go:23 string "doc" is allocated here
                  evidence a.go:23 a.go:24
            "#]],
        );
    }

    #[test]
    fn fix_on_a_map_key_and_a_split_element() {
        let fixture = r#"
-- k.go --
package k

import "strings"

var seen = map[string]bool{}

func Mark(parts []string) {
	joined := strings.Join(parts, ",")
	for _, p := range strings.Split(joined, ",") {
		seen[p] = true
	}
}
"#;
        let fixed = apply_first_fix(&R, fixture, "k.go");
        expect![[r#"
            package k

            import "strings"

            var seen = map[string]bool{}

            func Mark(parts []string) {
            	joined := strings.Join(parts, ",")
            	for _, p := range strings.Split(joined, ",") {
            		seen[strings.Clone(p)] = true
            	}
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.22", &[("k.go", &fixed)]);
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &R,
            "-- bad.go --\npackage bad\n\nvar m = map[string]string{}\n\nfunc F(b []byte {\n\ts := string(b\n\tm[s[:2]] = s[\n",
            expect![[r#"
                no matches
            "#]],
        );
    }
}
