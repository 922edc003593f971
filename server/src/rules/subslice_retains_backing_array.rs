//! `subslice-retains-backing-array`: a small slice of a large buffer is stored where it
//! outlives the call, pinning the whole buffer.

use std::sync::Arc;

use tree_sitter::Node;

use super::flow::{self, BindKind, FileCtx, Sink, SinkKind};
use super::parts::{self, DistantCut};
use super::syntax;
use super::{
    Context, EvidenceKind, Fix, GoVersion, Location, Match, Package, Related, Rule, RuleMeta,
    SourceFile,
};

/// The `subslice-retains-backing-array` rule.
#[derive(Debug)]
pub struct SubsliceRetainsBackingArray;

static META: RuleMeta = RuleMeta {
    id: "subslice-retains-backing-array",
    name: "Sub-slice retains its backing array",
    summary: "A small slice of a large buffer is stored where it outlives the call, pinning the whole buffer.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

/// Buffers of fewer bytes than this (by a constant size) are not worth a finding.
const LARGE_BUFFER_BYTES: i128 = 1024;

impl Rule for SubsliceRetainsBackingArray {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for slice in syntax::descendants_of_kind(file.tree.root_node(), "slice_expression") {
                check_slice(pkg, &ctx, slice, out);
            }
        }
        let others = pkg.reachable_packages();
        for d in parts::distant_cuts(pkg, others) {
            distant(pkg, others, &d, out);
        }
    }
}

/// Where a sliced buffer comes from.
#[derive(Debug)]
struct Buffer {
    /// What made it, for the message: `make`, `io.ReadAll`, `a []byte conversion`.
    what: String,
    /// The allocation sites (evidence), in the file of the slice or of callers.
    sites: Vec<Location>,
    /// The element type as written (`byte` for `[]byte`), when evident.
    elem: Option<String>,
}

/// What the origin analysis found for an operand.
#[derive(Debug)]
enum Origin {
    /// A buffer made in this package: by a producer in the function or passed in by a
    /// caller.
    Buffer(Buffer),
    /// A buffer of a constant size below [`LARGE_BUFFER_BYTES`].
    Small,
    /// Nothing evident.
    Unknown,
}

fn check_slice(pkg: &Package, ctx: &FileCtx<'_>, slice: Node<'_>, out: &mut Vec<Match>) {
    let src = ctx.src;
    let Some(operand) = slice.child_by_field_name("operand").map(flow::unparen) else {
        return;
    };
    if operand.kind() != "identifier" || is_whole(slice, operand, src) {
        return;
    }
    // Stores first: they are rare and cheap to find, while the origin of a parameter
    // looks at every caller in the package.
    let sinks: Vec<Sink<'_>> = flow::sinks(pkg, ctx.file, slice, true)
        .into_iter()
        .filter(|s| !flow::runs_once(s.stmt, src))
        .collect();
    if sinks.is_empty() {
        return;
    }
    let Origin::Buffer(buffer) = buffer_origin(pkg, ctx, operand, 0) else {
        return;
    };
    if flow::stored_itself(pkg, ctx.file, operand) {
        return;
    }
    let name = syntax::text(operand, src);
    for sink in sinks {
        parts::push_with_cut(
            make_match(pkg, ctx, &buffer, name, &sink, None),
            Some(ctx.loc(slice)),
            "sub-slice",
            out,
        );
    }
}

/// A sub-slice cut in a helper and stored by another function (see [`parts`]): reported
/// at the store when the sliced buffer is made in the package and not stored itself.
fn distant<'p>(
    pkg: &Context<'_>,
    others: &'p [Arc<Package>],
    d: &DistantCut<'p>,
    out: &mut Vec<Match>,
) {
    let cctx = FileCtx::new(d.cut_file);
    let src = cctx.src;
    let Some(operand) = d.parent() else {
        return;
    };
    let cut_call = d.slice.kind() != "slice_expression";
    if cut_call && !d.is_cut_call_of("bytes") {
        return;
    }
    if operand.kind() != "identifier" || !cut_call && is_whole(d.slice, operand, src) {
        return;
    }
    // On this path the parent may be one call's argument rather than every caller's.
    let (origin, kept) = match parts::entry_argument(d, operand) {
        Some((vp, vf, arg)) => {
            let origin = argument_origin(vp, others, vf, arg);
            let kept = arg.kind() == "identifier" && flow::stored_itself(vp, vf, arg);
            (origin, kept)
        }
        None => (
            buffer_origin(d.cut_pkg, &cctx, operand, 0),
            parts::kept_by_callers(d.cut_pkg, d.cut_file, operand),
        ),
    };
    let Origin::Buffer(mut buffer) = origin else {
        return;
    };
    if buffer.sites.is_empty() {
        // A parameter of a function the checked package calls (`protocol.SplitBatch(
        // f.Payload)`): what those calls pass.
        for s in outside_callers_sites(pkg, others, d, operand) {
            flow::push_unique(&mut buffer.sites, s);
        }
    }
    if buffer.sites.is_empty() && d.cut_pkg.import_path == pkg.import_path {
        // A parameter only other packages pass (`PutChunk(ctx, id, i, buf)` from the
        // API package): what they pass.
        flow::param_alloc_sites_in_callers(pkg, d.cut_file, operand, &mut buffer.sites);
    }
    // A store keeping one field of a result object (`Info: doc.Info`) does not keep the
    // parent returned in another field (`Bytes: buf`): the match goes on that field.
    let part = kept_field(d, operand);
    let stored = match part {
        Some(_) => flow::stored_beyond_results(d.cut_pkg, d.cut_file, operand),
        None => flow::stored_itself(d.cut_pkg, d.cut_file, operand),
    };
    if kept || stored {
        return;
    }
    let sctx = FileCtx::new(d.store_file);
    let name = syntax::text(operand, src);
    if let Some(part) = part {
        let sink = Sink {
            value: part,
            ..d.sink
        };
        let cut = (cctx.loc(d.slice), flow::function_label(d.slice, src));
        let mut m = make_match(pkg, &sctx, &buffer, name, &sink, Some(cut));
        m.location = sctx.loc(part);
        flow::push_unique(&mut m.evidence, sctx.loc(part));
        parts::push_with_cut(m, Some(cctx.loc(d.slice)), "sub-slice", out);
        return;
    }
    if let Some((pf, stmt)) = parts::passing_call(d) {
        // Cut here and handed to a call that stores it: reported where it leaves.
        let mut m = make_match(pkg, &sctx, &buffer, name, &d.sink, None);
        passed_on(&mut m, &FileCtx::new(pf), stmt, d);
        // A `Cut` call's parts are locals of the cut's function: no edit at the call.
        m.fixes = match cut_call {
            true => Vec::new(),
            false => clone_fix(d.cut_pkg, d.cut_file, buffer.elem.as_deref(), d.slice)
                .into_iter()
                .collect(),
        };
        parts::push_with_cut(m, Some(cctx.loc(d.slice)), "sub-slice", out);
        return;
    }
    let cut = (cctx.loc(d.slice), flow::function_label(d.slice, src));
    let mut m = make_match(pkg, &sctx, &buffer, name, &d.sink, Some(cut));
    if let Some((lf, field)) = literal_field(pkg, d, buffer.elem.as_deref()) {
        // Stored whole by a method its callers hand a literal (`d.add(DeadLetter{Payload:
        // payload})`): the part goes into that literal's field, where the copy belongs.
        let store = m.location.clone();
        let lctx = FileCtx::new(lf);
        m.related.push(Related {
            location: store,
            message: format!(
                "{} stores it here",
                flow::function_label(d.sink.stmt, &d.store_file.text)
            ),
        });
        m.location = lctx.loc(field);
        flow::push_unique(&mut m.evidence, lctx.loc(field));
        m.fixes = clone_fix(pkg, lf, buffer.elem.as_deref(), field)
            .into_iter()
            .collect();
    }
    parts::push_with_cut(m, Some(cctx.loc(d.slice)), "sub-slice", out);
}

/// For a store of a parameter of a struct type (`d.buf = append(d.buf, dl)` in `add(dl
/// DeadLetter)`) whose callers in the package pass literals with one field of the
/// sliced buffer's type (`DeadLetter{..., Payload: payload}`): that field's value, when
/// one caller passes one.
fn literal_field<'p>(
    pkg: &'p Package,
    d: &DistantCut<'p>,
    elem: Option<&str>,
) -> Option<(&'p SourceFile, Node<'p>)> {
    let ssrc: &str = &d.store_file.text;
    let v = flow::unparen(d.sink.value);
    let b = flow::resolve_ident(v, ssrc).filter(|b| b.kind == BindKind::Param)?;
    let pos = flow::param_position(&b)?;
    let func = b.decl.parent().and_then(|l| l.parent())?;
    let slice_type = format!("[]{}", elem?);
    let mut found = Vec::new();
    for (cf, call) in flow::callers(pkg, func, ssrc) {
        let Some(arg) = syntax::call_args(call).get(pos).copied().map(flow::unparen) else {
            continue;
        };
        let lit = match arg.kind() {
            "unary_expression" => arg.child_by_field_name("operand").map(flow::unparen),
            _ => Some(arg),
        }
        .filter(|l| l.kind() == "composite_literal");
        let Some(lit) = lit else {
            continue;
        };
        let csrc: &str = &cf.text;
        let ty = lit
            .child_by_field_name("type")
            .map(|t| syntax::text(t, csrc).trim_start_matches('*'))?;
        let Some(st) = flow::struct_type(pkg, ty) else {
            continue;
        };
        let Some(body) = lit.child_by_field_name("body") else {
            continue;
        };
        let fields: Vec<Node<'p>> = syntax::descendants_of_kind(body, "keyed_element")
            .filter(|el| el.parent().is_some_and(|p| p.id() == body.id()))
            .filter(|el| {
                el.child_by_field_name("key").is_some_and(|k| {
                    let key = syntax::text(k, csrc);
                    st.fields
                        .iter()
                        .any(|f| f.name == key && f.type_text.replace(' ', "") == slice_type)
                })
            })
            .filter_map(|el| el.child_by_field_name("value"))
            .map(|v| flow::named(v).into_iter().next().unwrap_or(v))
            .collect();
        if let [one] = fields.as_slice() {
            found.push((cf, *one));
        }
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The allocation sites of what the checked package passes for the cut's parent, a
/// parameter of a function of another package (`protocol.SplitBatch(f.Payload)`).
fn outside_callers_sites<'p>(
    pkg: &Context<'_>,
    others: &'p [Arc<Package>],
    d: &DistantCut<'p>,
    parent: Node<'_>,
) -> Vec<Location> {
    let mut out = Vec::new();
    let csrc: &str = &d.cut_file.text;
    let Some(b) = flow::resolve_ident(flow::unparen(parent), csrc) else {
        return out;
    };
    let (Some(pos), Some(func)) = (
        flow::param_position(&b),
        b.decl.parent().and_then(|l| l.parent()),
    ) else {
        return out;
    };
    if d.cut_pkg.import_path == pkg.import_path || func.kind() != "function_declaration" {
        return out;
    }
    let Some(name) = syntax::function_name(func, csrc) else {
        return out;
    };
    for (cf, call) in flow::calls_into(pkg, &d.cut_pkg.import_path, name, false) {
        let Some(arg) = syntax::call_args(call).get(pos).copied() else {
            continue;
        };
        if let Origin::Buffer(b) = argument_origin(pkg, others, cf, arg) {
            if b.sites.is_empty() {
                // A parameter of the caller only other packages pass.
                flow::param_alloc_sites_in_callers(pkg, cf, arg, &mut out);
            }
            for s in b.sites {
                flow::push_unique(&mut out, s);
            }
        }
    }
    out
}

/// For a cut its function returns in a field of a result object (`info := buf[i:j]` ...
/// `return &Document{Bytes: buf, Info: info}`), stored by reading that field
/// (`Record{Info: doc.Info}`, also through a local holding the literal): the stored
/// field, when the store reads no field holding the parent (`Bytes`).
fn kept_field<'p>(d: &DistantCut<'p>, parent: Node<'_>) -> Option<Node<'p>> {
    let csrc: &str = &d.cut_file.text;
    let func = syntax::enclosing_function(d.slice)?;
    // The local the cut is bound to, if any (`info := buf[i:j]`).
    let bound = d
        .slice
        .parent()
        .filter(|p| p.kind() == "expression_list")
        .and_then(|l| l.parent())
        .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"))
        .and_then(|s| flow::items(s.child_by_field_name("left")).first().copied())
        .map(|n| syntax::text(n, csrc));
    let parent = syntax::text(parent, csrc);
    let mut cut_fields = Vec::new();
    let mut parent_fields = Vec::new();
    for r in syntax::descendants_of_kind(func, "return_statement") {
        for el in syntax::descendants_of_kind(r, "keyed_element") {
            let (Some(k), Some(v)) = (
                el.child_by_field_name("key"),
                el.child_by_field_name("value"),
            ) else {
                continue;
            };
            let v = flow::named(v).into_iter().next().unwrap_or(v);
            let key = syntax::text(k, csrc);
            if v.id() == d.slice.id() || Some(syntax::text(v, csrc)) == bound {
                cut_fields.push(key);
            } else if syntax::text(v, csrc) == parent {
                parent_fields.push(key);
            }
        }
    }
    if cut_fields.is_empty() || parent_fields.is_empty() {
        return None;
    }
    let ssrc: &str = &d.store_file.text;
    let mut v = flow::unparen(d.sink.value);
    if v.kind() == "identifier" {
        let b = flow::resolve_ident(v, ssrc)?;
        v = flow::unparen(b.value.filter(|_| !b.multi)?);
    }
    let parts = parts::stored_parts(v, ssrc);
    let field_of = |n: Node<'_>| {
        (n.kind() == "selector_expression")
            .then(|| n.child_by_field_name("field"))
            .flatten()
            .map(|f| syntax::text(f, ssrc))
    };
    if parts
        .iter()
        .any(|p| field_of(*p).is_some_and(|f| parent_fields.contains(&f)))
    {
        return None;
    }
    parts
        .into_iter()
        .find(|p| field_of(*p).is_some_and(|f| cut_fields.contains(&f)))
}

/// What an argument passed for a cut's parent is: its producer, or for `f.Body` of an
/// object the walk cannot see made, what is written to that field (`f.Body =
/// string(buf)` in the package that reads it).
fn argument_origin(
    pkg: &Package,
    others: &[Arc<Package>],
    file: &SourceFile,
    arg: Node<'_>,
) -> Origin {
    let origin = producer(pkg, &FileCtx::new(file), arg, 1);
    if !matches!(origin, Origin::Unknown) {
        return origin;
    }
    parts::field_sources(pkg, others, file, arg)
        .into_iter()
        .map(|(fp, ff, v)| producer(fp, &FileCtx::new(ff), v, 1))
        .find(|o| !matches!(o, Origin::Unknown))
        .unwrap_or(Origin::Unknown)
}

/// Moves a match made for the store of a distant cut to the call statement `stmt` (in
/// `cctx`'s file) that passes the part on: the store becomes a related location.
pub(crate) fn passed_on(m: &mut Match, cctx: &FileCtx<'_>, stmt: Node<'_>, d: &DistantCut<'_>) {
    let store = m.location.clone();
    let at = cctx.loc(stmt);
    let func = flow::function_label(stmt, cctx.src);
    let store_func = flow::function_label(d.sink.stmt, &d.store_file.text);
    m.message = m
        .message
        .replacen(" is ", &format!(" is passed on in {func}, and "), 1)
        .replacen(
            &format!(" in {store_func},"),
            &format!(" by {store_func},"),
            1,
        );
    m.related.push(Related {
        location: store.clone(),
        message: format!("{store_func} stores it here"),
    });
    flow::push_unique(&mut m.evidence, at.clone());
    m.location = at;
}

/// Whether a slice expression is the whole operand: `b[:]`, `b[0:]`, `b[:len(b)]`.
fn is_whole(slice: Node<'_>, operand: Node<'_>, src: &str) -> bool {
    if slice.child_by_field_name("capacity").is_some() {
        return false;
    }
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

/// Where the buffer named by `operand` (an identifier) comes from.
fn buffer_origin(pkg: &Package, ctx: &FileCtx<'_>, operand: Node<'_>, depth: usize) -> Origin {
    if depth > flow::MAX_DEPTH {
        return Origin::Unknown;
    }
    let src = ctx.src;
    let Some(b) = flow::resolve_ident(operand, src) else {
        return Origin::Unknown;
    };
    match b.kind {
        BindKind::Param => param_origin(pkg, ctx, &b, depth),
        // `for _, part := range bytes.Split(buf, sep)` (or `for line := range
        // bytes.Lines(buf)`): each part is a view of `buf`.
        BindKind::Range => {
            let Some(call) = b.value.map(flow::unparen) else {
                return Origin::Unknown;
            };
            let splits = ctx.qualified(call).is_some_and(|(p, f)| {
                p == "bytes"
                    && flow::split_kind(f).is_some_and(|iter| b.index == usize::from(!iter))
            });
            match syntax::call_args(call).first() {
                Some(buf) if splits => producer(pkg, ctx, *buf, depth + 1),
                _ => Origin::Unknown,
            }
        }
        BindKind::ShortVar | BindKind::Var => {
            let mut values: Vec<Node<'_>> = b.value.into_iter().collect();
            values.extend(flow::assignments(&b, operand.start_byte(), src));
            if values.is_empty() {
                // `var buf [64 << 10]byte`: a local array, on the heap once sliced and kept.
                if let Some(ty) = b.ty.filter(|t| t.kind() == "array_type") {
                    let elem = ty
                        .child_by_field_name("element")
                        .map(|e| syntax::text(e, src).to_string());
                    let count = ty
                        .child_by_field_name("length")
                        .and_then(|l| flow::const_int(pkg, ctx.file, l, 0));
                    if is_small(count, elem.as_deref()) {
                        return Origin::Small;
                    }
                    return Origin::Buffer(Buffer {
                        what: "an array declaration".to_string(),
                        sites: vec![ctx.loc(b.decl)],
                        elem,
                    });
                }
                return Origin::Unknown;
            }
            let mut found: Option<Buffer> = None;
            let mut small = false;
            for v in values {
                match producer(pkg, ctx, v, depth) {
                    Origin::Buffer(buf) => match &mut found {
                        Some(f) => {
                            for s in buf.sites {
                                flow::push_unique(&mut f.sites, s);
                            }
                            if f.elem.is_none() {
                                f.elem = buf.elem;
                            }
                        }
                        None => found = Some(buf),
                    },
                    Origin::Small => small = true,
                    Origin::Unknown => {}
                }
            }
            match found {
                Some(f) => Origin::Buffer(f),
                None if small => Origin::Small,
                None => Origin::Unknown,
            }
        }
        _ => Origin::Unknown,
    }
}

/// Whether a constant element count of an element type is below the threshold.
fn is_small(count: Option<i128>, elem: Option<&str>) -> bool {
    let Some(count) = count else { return false };
    let size = elem.map_or(8, elem_size);
    count.saturating_mul(size) < LARGE_BUFFER_BYTES
}

/// The size of an element type in bytes (8 when it is not a basic type).
fn elem_size(elem: &str) -> i128 {
    match elem {
        "byte" | "uint8" | "int8" | "bool" => 1,
        "uint16" | "int16" => 2,
        "rune" | "int32" | "uint32" | "float32" => 4,
        "string" => 16,
        "complex128" => 16,
        _ => 8,
    }
}

/// Whether an expression makes a buffer: `make([]T, ...)` of a size not evidently
/// small, `io.ReadAll`, `os.ReadFile`, a `[]T(...)` conversion, a view of another
/// buffer, or a call of a same-package function that makes one.
fn producer(pkg: &Package, ctx: &FileCtx<'_>, value: Node<'_>, depth: usize) -> Origin {
    let src = ctx.src;
    let value = flow::unparen(value);
    match value.kind() {
        "call_expression" => {
            if ctx.is_builtin(value, "make") {
                let args = syntax::call_args(value);
                let Some(ty) = args.first().filter(|t| t.kind() == "slice_type") else {
                    return Origin::Unknown;
                };
                let elem = ty
                    .child_by_field_name("element")
                    .map(|e| syntax::text(e, src).to_string());
                let size = args
                    .get(2)
                    .or(args.get(1))
                    .and_then(|n| flow::const_int(pkg, ctx.file, *n, 0));
                if is_small(size, elem.as_deref()) {
                    return Origin::Small;
                }
                return Origin::Buffer(Buffer {
                    what: "make".to_string(),
                    sites: vec![ctx.loc(value)],
                    elem,
                });
            }
            if let Some((path, func)) = ctx.qualified(value) {
                let reads = matches!(
                    (path, func),
                    ("io", "ReadAll") | ("io/ioutil", "ReadAll" | "ReadFile") | ("os", "ReadFile")
                );
                if reads {
                    let short = path.rsplit('/').next().unwrap_or(path);
                    return Origin::Buffer(Buffer {
                        what: format!("{short}.{func}"),
                        sites: vec![ctx.loc(value)],
                        elem: Some("byte".to_string()),
                    });
                }
                return Origin::Unknown;
            }
            same_package_producer(pkg, ctx, value)
        }
        "type_conversion_expression" => {
            let Some(ty) = value
                .child_by_field_name("type")
                .filter(|t| t.kind() == "slice_type")
            else {
                return Origin::Unknown;
            };
            let elem = ty
                .child_by_field_name("element")
                .map(|e| syntax::text(e, src).to_string());
            Origin::Buffer(Buffer {
                what: format!("a {} conversion", syntax::text(ty, src)),
                sites: vec![ctx.loc(value)],
                elem,
            })
        }
        "slice_expression" => match value.child_by_field_name("operand").map(flow::unparen) {
            Some(o) if o.kind() == "identifier" => buffer_origin(pkg, ctx, o, depth + 1),
            _ => Origin::Unknown,
        },
        "identifier" => buffer_origin(pkg, ctx, value, depth + 1),
        _ => Origin::Unknown,
    }
}

/// A call of a same-package function that returns a slice and makes a buffer in its
/// body (`make`, `io.ReadAll`, `os.ReadFile`): the whole body is the allocation site.
fn same_package_producer(pkg: &Package, ctx: &FileCtx<'_>, call: Node<'_>) -> Origin {
    let src = ctx.src;
    let Some(f) = call.child_by_field_name("function").map(flow::unparen) else {
        return Origin::Unknown;
    };
    if f.kind() != "identifier" || flow::resolve_ident(f, src).is_some() {
        return Origin::Unknown;
    }
    let Some((ff, decl)) = flow::package_function(pkg, syntax::text(f, src)) else {
        return Origin::Unknown;
    };
    let fsrc: &str = &ff.text;
    let result = decl.child_by_field_name("result");
    let slice_result = result.and_then(|r| {
        if r.kind() == "slice_type" {
            Some(r)
        } else if r.kind() == "parameter_list" {
            flow::named(r)
                .first()
                .and_then(|p| p.child_by_field_name("type"))
                .filter(|t| t.kind() == "slice_type")
        } else {
            None
        }
    });
    let Some(result) = slice_result else {
        return Origin::Unknown;
    };
    let Some(body) = decl.child_by_field_name("body") else {
        return Origin::Unknown;
    };
    let makes = syntax::descendants_of_kind(body, "call_expression").any(|c| {
        let callee = syntax::callee(c, fsrc).unwrap_or("");
        callee == "make" || callee.ends_with(".ReadAll") || callee.ends_with(".ReadFile")
    });
    if !makes {
        return Origin::Unknown;
    }
    Origin::Buffer(Buffer {
        what: syntax::text(f, src).to_string(),
        sites: vec![ff.location(body)],
        elem: result
            .child_by_field_name("element")
            .map(|e| syntax::text(e, fsrc).to_string()),
    })
}

/// A slice parameter: its buffers are the callers'. With callers in the package, at least
/// one must pass a buffer it made; without any (an entry point), the match stands on the
/// code alone.
fn param_origin(pkg: &Package, ctx: &FileCtx<'_>, b: &flow::Binding<'_>, depth: usize) -> Origin {
    let src = ctx.src;
    let Some(ty) = b.ty.filter(|t| t.kind() == "slice_type") else {
        return Origin::Unknown;
    };
    if b.decl.kind() == "variadic_parameter_declaration" {
        return Origin::Unknown;
    }
    let elem = ty
        .child_by_field_name("element")
        .map(|e| syntax::text(e, src).to_string());
    let mut buffer = Buffer {
        what: "the caller".to_string(),
        sites: Vec::new(),
        elem,
    };
    let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
        return Origin::Unknown;
    };
    if func.kind() == "func_literal" || depth >= 2 {
        return Origin::Buffer(buffer);
    }
    let Some(pos) = flow::param_position(b) else {
        return Origin::Unknown;
    };
    let calls = flow::callers(pkg, func, src);
    let mut passed = 0;
    for (cf, call) in &calls {
        let cctx = FileCtx::new(cf);
        let Some(arg) = syntax::call_args(*call)
            .get(pos)
            .copied()
            .map(flow::unparen)
        else {
            continue;
        };
        let origin = match arg.kind() {
            "identifier" => buffer_origin(pkg, &cctx, arg, depth + 1),
            _ => producer(pkg, &cctx, arg, depth + 1),
        };
        if let Origin::Buffer(found) = origin {
            passed += 1;
            for s in found.sites {
                flow::push_unique(&mut buffer.sites, s);
            }
        }
    }
    if !calls.is_empty() && passed == 0 {
        return Origin::Unknown;
    }
    Origin::Buffer(buffer)
}

fn make_match(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    buffer: &Buffer,
    name: &str,
    sink: &Sink<'_>,
    cut: Option<(Location, String)>,
) -> Match {
    let src = ctx.src;
    let func = flow::function_label(sink.stmt, src);
    let (subject, place, declaration) = describe_sink(pkg, ctx, sink, name);
    let what = match (&cut, buffer.what == "the caller") {
        (None, true) => format!("a sub-slice of \"{name}\", a buffer passed in by the caller,"),
        (Some((_, f)), true) => {
            format!("a sub-slice of \"{name}\" cut in {f} (a buffer its caller passes)")
        }
        (None, false) => format!("a sub-slice of buffer \"{name}\" (from {})", buffer.what),
        (Some((_, f)), false) => format!(
            "a sub-slice of buffer \"{name}\" cut in {f} (from {})",
            buffer.what
        ),
    };
    let message = if sink.kind == SinkKind::Return {
        format!("{what} is returned from {func}, which keeps the whole backing array alive")
    } else {
        format!("{what} {place} in {func}, which keeps the whole backing array alive")
    };
    let mut evidence = buffer.sites.clone();
    flow::push_unique(&mut evidence, ctx.loc(sink.stmt));
    let mut related: Vec<Related> = buffer
        .sites
        .iter()
        .map(|s| Related {
            location: s.clone(),
            message: if buffer.what == "the caller" {
                "the caller's buffer is allocated here".to_string()
            } else {
                format!("buffer \"{name}\" is allocated here")
            },
        })
        .collect();
    if let Some((location, f)) = cut {
        related.push(Related {
            location,
            message: format!("the sub-slice is cut here, in {f}"),
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
        fixes: clone_fix(pkg, ctx.file, buffer.elem.as_deref(), sink.value)
            .into_iter()
            .collect(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

/// The subject, the phrase saying where the value goes, and the container's declaration.
pub(crate) fn describe_sink(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    sink: &Sink<'_>,
    value_name: &str,
) -> (String, String, Option<Location>) {
    let src = ctx.src;
    let container = sink
        .container
        .map(|c| syntax::text(c, src).split_whitespace().collect::<String>());
    let root = sink
        .container
        .and_then(flow::root_ident)
        .filter(|r| flow::resolve_ident(*r, src).is_none());
    let root_name = root.map(|r| syntax::text(r, src));
    let declaration = root_name.and_then(|n| flow::decl_location(pkg, n));
    let kind_of = |name: &str| -> &'static str {
        let ty = flow::package_decl(pkg, name)
            .and_then(|(_, d)| d.type_text.clone())
            .unwrap_or_default();
        if ty.starts_with("map[") {
            "map"
        } else if ty.starts_with("[]") {
            "slice"
        } else if ty.starts_with('[') {
            "array"
        } else {
            "variable"
        }
    };
    let c = container.clone().unwrap_or_default();
    let described = match (
        sink.container.map(flow::unparen).map(|n| n.kind()),
        root_name,
    ) {
        (Some("identifier"), Some(n)) if declaration.is_some() => {
            format!("package-level {} \"{c}\"", kind_of(n))
        }
        _ => format!("\"{c}\""),
    };
    let place = match sink.kind {
        SinkKind::Global | SinkKind::Field => format!("is assigned to {described}"),
        SinkKind::Element => format!("is stored in {described}"),
        SinkKind::MapKey => format!("is used as a key of {described}"),
        SinkKind::Append => format!("is appended to {described}"),
        SinkKind::Send => format!("is sent on channel \"{c}\""),
        SinkKind::Return => "is returned".to_string(),
    };
    let subject = container.unwrap_or_else(|| value_name.to_string());
    (subject, place, declaration)
}

/// The fix: copy the stored sub-slice (`bytes.Clone` for `[]byte`, `slices.Clone` for
/// another evident element type), adding the import when missing. Before Go 1.20 (or 1.21
/// for `slices`) the copy is `append([]T(nil), x...)`.
fn clone_fix(pkg: &Package, file: &SourceFile, elem: Option<&str>, value: Node<'_>) -> Option<Fix> {
    let elem = elem?;
    let has = |minor: u32| {
        pkg.go_version
            .is_none_or(|v: GoVersion| v.at_least(1, minor))
    };
    let value_text = syntax::text(value, &file.text);
    let bytes = matches!(elem, "byte" | "uint8");
    let (path, minor) = if bytes { ("bytes", 20) } else { ("slices", 21) };
    let (title, edits) = if has(minor) {
        let (q, mut edits) = flow::qualifier(pkg, file, path, value)?;
        edits.extend(flow::wrap(file, value, &format!("{q}.Clone("), ")"));
        (format!("Store a copy: {q}.Clone({value_text})"), edits)
    } else {
        let before = format!("append([]{elem}(nil), ");
        (
            format!("Store a copy: {before}{value_text}...)"),
            flow::wrap(file, value, &before, "...)"),
        )
    };
    Some(Fix { title, edits })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::flow::assert_go_builds;
    use super::SubsliceRetainsBackingArray as R;
    use crate::rules::testing::{apply_first_fix, check};

    const BATCH: &str = r#"
-- ingest/ingest.go --
package ingest

import (
	"fmt"
	"io"
)

var headers = map[string][]byte{}

// Batch reads one batch and remembers its header.
func Batch(r io.Reader, key string) error {
	buf := make([]byte, 64<<10)
	n, err := io.ReadFull(r, buf)
	if err != nil {
		return fmt.Errorf("batch %s: %w", key, err)
	}
	headers[key] = buf[:16]
	_ = n
	return nil
}
"#;

    #[test]
    fn sub_slice_of_a_made_buffer_stored_in_a_global_map() {
        check(
            &R,
            BATCH,
            expect![[r#"
                ingest/ingest.go:17 subslice-retains-backing-array [headers] a sub-slice of buffer "buf" (from make) is stored in package-level map "headers" in Batch, which keeps the whole backing array alive
                  declared ingest/ingest.go:8
                  related ingest/ingest.go:12 buffer "buf" is allocated here
                  evidence ingest/ingest.go:12 ingest/ingest.go:17
                  fix: Store a copy: bytes.Clone(buf[:16])
            "#]],
        );
    }

    #[test]
    fn fix_clones_and_adds_the_bytes_import() {
        let fixed = apply_first_fix(&R, BATCH, "ingest/ingest.go");
        expect![[r#"
            package ingest

            import (
            	"bytes"
            	"fmt"
            	"io"
            )

            var headers = map[string][]byte{}

            // Batch reads one batch and remembers its header.
            func Batch(r io.Reader, key string) error {
            	buf := make([]byte, 64<<10)
            	n, err := io.ReadFull(r, buf)
            	if err != nil {
            		return fmt.Errorf("batch %s: %w", key, err)
            	}
            	headers[key] = bytes.Clone(buf[:16])
            	_ = n
            	return nil
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.22", &[("ingest/ingest.go", &fixed)]);
    }

    #[test]
    fn producers_and_stores() {
        check(
            &R,
            r#"
-- store.go --
package store

import (
	"io"
	"os"
)

type Entry struct {
	Key  string
	Head []byte
}

type Cache struct {
	last   []byte
	byName map[string][]byte
}

var (
	recent  []*Entry
	lastTag []byte
	tags    = make(chan []byte, 16)
)

// Load returns the magic bytes of a file.
func Load(path string) []byte {
	data, _ := os.ReadFile(path)
	return data[4:20]
}

// Keep keeps a header through a local alias.
func Keep(r io.Reader) {
	body, _ := io.ReadAll(r)
	h := body[:32]
	lastTag = h
}

// Remember appends an entry whose field is a view of the buffer.
func Remember(r io.Reader, key string) {
	var buf [32 << 10]byte
	n, _ := r.Read(buf[:])
	e := &Entry{Key: key, Head: buf[:n]}
	recent = append(recent, e)
}

// Observe stores into fields of the receiver and sends on a channel.
func (c *Cache) Observe(r io.Reader, name string) {
	raw, _ := io.ReadAll(r)
	c.last = raw[8:]
	c.byName[name] = raw[:8]
	tags <- raw[:4]
}
"#,
            expect![[r#"
                store.go:27 subslice-retains-backing-array [data] a sub-slice of buffer "data" (from os.ReadFile) is returned from Load, which keeps the whole backing array alive
                  related store.go:26 buffer "data" is allocated here
                  evidence store.go:26 store.go:27
                  fix: Store a copy: bytes.Clone(data[4:20])
                store.go:33 subslice-retains-backing-array [lastTag] the sub-slice cut here is kept: a sub-slice of buffer "body" (from io.ReadAll) is assigned to package-level slice "lastTag" in Keep, which keeps the whole backing array alive
                  declared store.go:20
                  related store.go:32 buffer "body" is allocated here
                  related store.go:34 the sub-slice is kept here
                  evidence store.go:32 store.go:34
                  fix: Store a copy: bytes.Clone(h)
                store.go:34 subslice-retains-backing-array [lastTag] a sub-slice of buffer "body" (from io.ReadAll) is assigned to package-level slice "lastTag" in Keep, which keeps the whole backing array alive
                  declared store.go:20
                  related store.go:32 buffer "body" is allocated here
                  evidence store.go:32 store.go:34
                  fix: Store a copy: bytes.Clone(h)
                store.go:41 subslice-retains-backing-array [recent] the sub-slice cut here is kept: a sub-slice of buffer "buf" (from an array declaration) is appended to package-level slice "recent" in Remember, which keeps the whole backing array alive
                  declared store.go:19
                  related store.go:39 buffer "buf" is allocated here
                  related store.go:42 the sub-slice is kept here
                  evidence store.go:39 store.go:42
                  fix: Store a copy: bytes.Clone(buf[:n])
                store.go:42 subslice-retains-backing-array [recent] a sub-slice of buffer "buf" (from an array declaration) is appended to package-level slice "recent" in Remember, which keeps the whole backing array alive
                  declared store.go:19
                  related store.go:39 buffer "buf" is allocated here
                  evidence store.go:39 store.go:42
                  fix: Store a copy: bytes.Clone(buf[:n])
                store.go:48 subslice-retains-backing-array [c.last] a sub-slice of buffer "raw" (from io.ReadAll) is assigned to "c.last" in (*Cache).Observe, which keeps the whole backing array alive
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:48
                  fix: Store a copy: bytes.Clone(raw[8:])
                store.go:49 subslice-retains-backing-array [c.byName] a sub-slice of buffer "raw" (from io.ReadAll) is stored in "c.byName" in (*Cache).Observe, which keeps the whole backing array alive
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:49
                  fix: Store a copy: bytes.Clone(raw[:8])
                store.go:50 subslice-retains-backing-array [tags] a sub-slice of buffer "raw" (from io.ReadAll) is sent on channel "tags" in (*Cache).Observe, which keeps the whole backing array alive
                  declared store.go:21
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:50
                  fix: Store a copy: bytes.Clone(raw[:4])
            "#]],
        );
    }

    /// Cut into a field of a returned struct, passed on twice, appended as a field of a
    /// literal.
    #[test]
    fn sub_slices_cut_in_a_parser_and_stored_two_calls_later() {
        check(
            &R,
            r#"
-- a.go --
package a

import (
	"bytes"
	"io"
	"sync"
)

type line struct {
	name  string
	trace []byte
}

type Exemplar struct {
	Key   string
	Trace []byte
}

type Agg struct {
	mu        sync.Mutex
	exemplars []Exemplar
}

func (a *Agg) Ingest(r io.Reader) {
	buf := make([]byte, 1<<20)
	n, _ := io.ReadFull(r, buf)
	for _, ln := range bytes.Split(buf[:n], []byte{'\n'}) {
		l, err := parseLine(ln)
		if err == nil {
			a.record(l)
		}
	}
}

func (a *Agg) record(l line) {
	a.keep(l.name, l)
}

func (a *Agg) keep(key string, l line) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.exemplars = append(a.exemplars, Exemplar{Key: key, Trace: l.trace})
}

func parseLine(b []byte) (line, error) {
	var l line
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		l.trace = b[i+1:]
		b = b[:i]
	}
	l.name = string(b)
	return l, nil
}
"#,
            expect![[r#"
                a.go:42 subslice-retains-backing-array [a.exemplars] a sub-slice of buffer "b" cut in parseLine (from make) is appended to "a.exemplars" in (*Agg).keep, which keeps the whole backing array alive
                  related a.go:25 buffer "b" is allocated here
                  related a.go:48 the sub-slice is cut here, in parseLine
                  evidence a.go:25 a.go:42
                  fix: Store a copy: bytes.Clone(l.trace)
                a.go:48 subslice-retains-backing-array [a.exemplars] the sub-slice cut here is kept: a sub-slice of buffer "b" cut in parseLine (from make) is appended to "a.exemplars" in (*Agg).keep, which keeps the whole backing array alive
                  related a.go:25 buffer "b" is allocated here
                  related a.go:42 the sub-slice is kept here
                  evidence a.go:25 a.go:42
                  fix: Store a copy: bytes.Clone(l.trace)
            "#]],
        );
    }

    /// Cut in a handler and handed, inside a struct literal, to a method that stores the
    /// struct: reported on the call, where the copy belongs; a copied envelope is fine.
    #[test]
    fn one_field_of_a_result_and_literals_handed_to_a_store() {
        // Append keeps doc.Info, a part of buf that Render also returns whole in Bytes:
        // reported on the field read. refuse builds the literal that add stores: reported
        // on its Payload. set replaces the payload with a copy before storing: quiet.
        check(
            &R,
            r#"
-- a.go --
package a

import "bytes"

type Document struct {
	Bytes []byte
	Info  []byte
}

type Record struct {
	Size int
	Info []byte
}

type Ledger struct{ recs []Record }

func Render(n int) *Document {
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, "%PDF"...)
	start := len(buf)
	buf = append(buf, "info"...)
	info := buf[start:len(buf)]
	buf = append(buf, make([]byte, n)...)
	return &Document{Bytes: buf, Info: info}
}

func (l *Ledger) Append(doc *Document) {
	rec := Record{
		Size: len(doc.Bytes),
		Info: doc.Info,
	}
	l.recs = append(l.recs, rec)
}

func Bill(l *Ledger, n int) {
	doc := Render(n)
	l.Append(doc)
}

type Letter struct {
	Topic   string
	Payload []byte
}

type Letters struct{ buf []Letter }

func (d *Letters) add(dl Letter) { d.buf = append(d.buf, dl) }

type Store struct{ last map[string]Letter }

func (s *Store) set(m Letter) {
	m.Payload = bytes.Clone(m.Payload)
	s.last[m.Topic] = m
}

type Gateway struct {
	dead  Letters
	store *Store
}

type Rec struct{ Payload []byte }

func split(p []byte) []Rec { return []Rec{{Payload: p[2:4:4]}} }

func (g *Gateway) refuse(topic string, payload []byte) {
	g.dead.add(Letter{Topic: topic, Payload: payload})
}

func (g *Gateway) Serve(frame []byte) {
	body := make([]byte, 64<<10)
	copy(body, frame)
	recs := split(body)
	for _, r := range recs {
		g.store.set(Letter{Topic: "t", Payload: r.Payload})
		g.refuse("t", r.Payload)
	}
}
"#,
            expect![[r#"
                a.go:22 subslice-retains-backing-array [l.recs] the sub-slice cut here is kept: a sub-slice of buffer "buf" cut in Render (from make) is appended to "l.recs" in (*Ledger).Append, which keeps the whole backing array alive
                  related a.go:18 buffer "buf" is allocated here
                  related a.go:30 the sub-slice is kept here
                  evidence a.go:18 a.go:32 a.go:30
                  fix: Store a copy: bytes.Clone(doc.Info)
                a.go:30 subslice-retains-backing-array [l.recs] a sub-slice of buffer "buf" cut in Render (from make) is appended to "l.recs" in (*Ledger).Append, which keeps the whole backing array alive
                  related a.go:18 buffer "buf" is allocated here
                  related a.go:22 the sub-slice is cut here, in Render
                  evidence a.go:18 a.go:32 a.go:30
                  fix: Store a copy: bytes.Clone(doc.Info)
                a.go:63 subslice-retains-backing-array [p] a sub-slice of "p", a buffer passed in by the caller, is returned from split, which keeps the whole backing array alive
                  related a.go:70 the caller's buffer is allocated here
                  evidence a.go:70 a.go:63
                  fix: Store a copy: bytes.Clone(p[2:4:4])
                a.go:66 subslice-retains-backing-array [d.buf] a sub-slice of "p" cut in split (a buffer its caller passes) is appended to "d.buf" in (*Letters).add, which keeps the whole backing array alive
                  related a.go:70 the caller's buffer is allocated here
                  related a.go:63 the sub-slice is cut here, in split
                  related a.go:47 (*Letters).add stores it here
                  evidence a.go:70 a.go:47 a.go:66
                  fix: Store a copy: bytes.Clone(payload)
            "#]],
        );
    }

    #[test]
    fn sub_slices_passed_on_to_a_method_that_stores_them() {
        check(
            &R,
            r#"
-- a.go --
package a

import (
	"bytes"
	"io"
	"sync"
)

type Entry struct {
	Carrier  string
	Envelope []byte
}

type AuditLog struct {
	mu      sync.Mutex
	entries []Entry
	next    int
}

func (l *AuditLog) Record(e Entry) {
	l.mu.Lock()
	l.entries[l.next%len(l.entries)] = e
	l.next++
	l.mu.Unlock()
}

type Handler struct{ Audit *AuditLog }

func (h *Handler) Serve(r io.Reader, n int) {
	body := make([]byte, n)
	io.ReadFull(r, body)
	nl := bytes.IndexByte(body, '\n')
	h.Audit.Record(Entry{Carrier: "x", Envelope: body[:nl]})
}

func (h *Handler) ServeCopy(r io.Reader, n int) {
	body := make([]byte, n)
	io.ReadFull(r, body)
	h.Audit.Record(Entry{Carrier: "y", Envelope: bytes.Clone(body[:8])})
}
"#,
            expect![[r#"
                a.go:33 subslice-retains-backing-array [l.entries] a sub-slice of buffer "body" (from make) is passed on in (*Handler).Serve, and stored in "l.entries" by (*AuditLog).Record, which keeps the whole backing array alive
                  related a.go:30 buffer "body" is allocated here
                  related a.go:22 (*AuditLog).Record stores it here
                  evidence a.go:30 a.go:22 a.go:33
                  fix: Store a copy: bytes.Clone(body[:nl])
            "#]],
        );
    }

    /// A copy in the parser, a small fixed buffer, a buffer the caller keeps whole: the
    /// stores in `Copy`, `Small` and `Whole` are not reported. (`head`'s own `return
    /// b[:4]` is the forward walk's finding: a sub-slice of a caller's buffer returned.)
    #[test]
    fn parser_copies_small_buffers_and_kept_buffers() {
        check(
            &R,
            r#"
-- a.go --
package a

var kept [][]byte
var whole [][]byte

func headCopy(b []byte) []byte { return append([]byte(nil), b[:4]...) }

func head(b []byte) []byte { return b[:4] }

func Copy(b []byte) {
	kept = append(kept, headCopy(b))
}

func Small() {
	buf := make([]byte, 64)
	kept = append(kept, head(buf))
}

func Whole(n int) {
	buf := make([]byte, n)
	whole = append(whole, buf)
	kept = append(kept, head(buf))
}
"#,
            expect![[r#"
                a.go:8 subslice-retains-backing-array [b] a sub-slice of "b", a buffer passed in by the caller, is returned from head, which keeps the whole backing array alive
                  related a.go:20 the caller's buffer is allocated here
                  evidence a.go:20 a.go:8
                  fix: Store a copy: bytes.Clone(b[:4])
            "#]],
        );
    }

    #[test]
    fn buffers_passed_in_by_callers() {
        check(
            &R,
            r#"
-- keep.go --
package keep

import "io"

var heads [][]byte

func keep(b []byte) {
	heads = append(heads, b[:16])
}

func Handle(r io.Reader) {
	buf := make([]byte, 32<<10)
	if _, err := r.Read(buf); err == nil {
		keep(buf)
	}
}

// Small callers pass small buffers: no match for note.
var notes [][]byte

func note(b []byte) {
	notes = append(notes, b[:2])
}

func Tag() {
	small := make([]byte, 16)
	note(small)
}

// An exported entry point with no caller in the package stands on its own.
var seen [][]byte

func Seen(packet []byte) {
	seen = append(seen, packet[:8])
}
"#,
            expect![[r#"
                keep.go:8 subslice-retains-backing-array [heads] a sub-slice of "b", a buffer passed in by the caller, is appended to package-level slice "heads" in keep, which keeps the whole backing array alive
                  declared keep.go:5
                  related keep.go:12 the caller's buffer is allocated here
                  evidence keep.go:12 keep.go:8
                  fix: Store a copy: bytes.Clone(b[:16])
                keep.go:34 subslice-retains-backing-array [seen] a sub-slice of "packet", a buffer passed in by the caller, is appended to package-level slice "seen" in Seen, which keeps the whole backing array alive
                  declared keep.go:31
                  evidence keep.go:34
                  fix: Store a copy: bytes.Clone(packet[:8])
            "#]],
        );
    }

    #[test]
    fn transient_uses_copies_and_whole_slices_are_fine() {
        check(
            &R,
            r#"
-- ok.go --
package ok

import (
	"bytes"
	"io"
)

var (
	copies  = map[string][]byte{}
	strs    = map[string]string{}
	whole   [][]byte
	cloned  [][]byte
)

func process(b []byte) int { return len(b) }

func Copy(r io.Reader, w io.Writer, key string) {
	buf := make([]byte, 64<<10)
	n, _ := r.Read(buf)
	w.Write(buf[:n])
	_ = process(buf[:16])
	dst := make([]byte, 16)
	copy(dst, buf[:16])
	copies[key] = dst
	strs[key] = string(buf[:16])
	whole = append(whole, buf[:])
	cloned = append(cloned, bytes.Clone(buf[:16]), append([]byte(nil), buf[:8]...))
}

// A map made in the function does not outlive it.
func Local(r io.Reader) int {
	buf := make([]byte, 64<<10)
	r.Read(buf)
	m := map[string][]byte{}
	m["h"] = buf[:16]
	return len(m)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn small_buffers_and_buffers_kept_whole_are_fine() {
        check(
            &R,
            r#"
-- small.go --
package small

import "io"

const headerSize = 64

var (
	heads [][]byte
	bufs  [][]byte
	views [][]byte
)

func Small(r io.Reader) {
	buf := make([]byte, headerSize)
	r.Read(buf)
	heads = append(heads, buf[:8])
	var arr [256]byte
	r.Read(arr[:])
	heads = append(heads, arr[:4])
}

// The whole buffer is kept anyway, so the view adds nothing.
func Both(r io.Reader) {
	buf := make([]byte, 64<<10)
	r.Read(buf)
	bufs = append(bufs, buf)
	views = append(views, buf[:16])
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowed_names_init_tests_and_generated_files() {
        check(
            &R,
            r#"
-- a.go --
package a

import (
	"io"
	"os"
)

var headers = map[string][]byte{}

var magic []byte

func init() {
	data, _ := os.ReadFile("/etc/magic")
	magic = data[:4]
}

func Shadow(r io.Reader) int {
	headers := map[string][]byte{}
	buf := make([]byte, 64<<10)
	r.Read(buf)
	headers["k"] = buf[:16]
	return len(headers)
}
-- a_test.go --
package a

import "io"

func keepForTest(r io.Reader) {
	buf := make([]byte, 64<<10)
	r.Read(buf)
	headers["t"] = buf[:16]
}
-- gen.go --
// Code generated by tool. DO NOT EDIT.

package a

import "io"

func generated(r io.Reader) {
	buf := make([]byte, 64<<10)
	r.Read(buf)
	headers["g"] = buf[:16]
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn slices_clone_for_other_element_types_and_append_before_go_1_20() {
        let ints = r#"
-- go.mod --
module example.com/app

go 1.22
-- m.go --
package m

var samples [][]int64

func Sample(n int) {
	all := make([]int64, 0, 1<<16)
	for i := 0; i < n; i++ {
		all = append(all, int64(i))
	}
	samples = append(samples, all[:8])
}
"#;
        let fixed = apply_first_fix(&R, ints, "m.go");
        expect![[r#"
            package m

            import "slices"

            var samples [][]int64

            func Sample(n int) {
            	all := make([]int64, 0, 1<<16)
            	for i := 0; i < n; i++ {
            		all = append(all, int64(i))
            	}
            	samples = append(samples, slices.Clone(all[:8]))
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.22", &[("m.go", &fixed)]);

        let old = r#"
-- go.mod --
module example.com/app

go 1.19
-- old.go --
package old

import "os"

var magic [][]byte

func Magic(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	magic = append(magic, data[:4])
}
"#;
        let fixed = apply_first_fix(&R, old, "old.go");
        expect![[r#"
            package old

            import "os"

            var magic [][]byte

            func Magic(path string) {
            	data, err := os.ReadFile(path)
            	if err != nil {
            		return
            	}
            	magic = append(magic, append([]byte(nil), data[:4]...))
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.19", &[("old.go", &fixed)]);
    }

    #[test]
    fn fix_reuses_an_existing_import_and_skips_a_taken_name() {
        let aliased = r#"
-- p.go --
package p

import (
	by "bytes"
	"os"
)

var last []byte

func Read(path string) bool {
	data, _ := os.ReadFile(path)
	last = data[:8]
	return by.HasPrefix(data, []byte("x"))
}
"#;
        let fixed = apply_first_fix(&R, aliased, "p.go");
        expect![[r#"
            package p

            import (
            	by "bytes"
            	"os"
            )

            var last []byte

            func Read(path string) bool {
            	data, _ := os.ReadFile(path)
            	last = by.Clone(data[:8])
            	return by.HasPrefix(data, []byte("x"))
            }
        "#]]
        .assert_eq(&fixed);
        assert_go_builds("1.22", &[("p.go", &fixed)]);
        // A local named `bytes` at the store: no fix is offered.
        check(
            &R,
            r#"
-- q.go --
package q

import "os"

var last []byte

func Read(path string) {
	bytes, _ := os.ReadFile(path)
	last = bytes[:8]
}
"#,
            expect![[r#"
                q.go:9 subslice-retains-backing-array [last] a sub-slice of buffer "bytes" (from os.ReadFile) is assigned to package-level slice "last" in Read, which keeps the whole backing array alive
                  declared q.go:5
                  related q.go:8 buffer "bytes" is allocated here
                  evidence q.go:8 q.go:9
            "#]],
        );
    }

    /// The fixture programs of this group of rules (`tests/fixtures/<case>`): the rules
    /// report exactly the lines marked `// want <rule-id>` for their ids, no more.
    #[test]
    fn fixture_programs_report_exactly_their_want_lines() {
        use std::collections::BTreeSet;
        use std::path::Path;

        use crate::source::index::Workspace;

        const IDS: [&str; 5] = [
            "global-slice-append",
            "subslice-retains-backing-array",
            "substring-retains-string",
            "sync-pool-oversized-buffer",
            "finalizer-cycle",
        ];
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        for case in ["leak-slices", "pool-spike"] {
            let dir = fixtures.join(case);
            let ws = Workspace::load(&dir).expect("load the fixture program");
            let mut want = BTreeSet::new();
            for f in ws.files() {
                let text = std::fs::read_to_string(&f.path).expect("read a fixture file");
                for (i, line) in text.lines().enumerate() {
                    let Some((_, marks)) = line.split_once("// want ") else {
                        continue;
                    };
                    for id in marks.split_whitespace().filter(|id| IDS.contains(id)) {
                        let name = f.path.file_name().expect("a file name").to_string_lossy();
                        want.insert((name.into_owned(), i + 1, id.to_string()));
                    }
                }
            }
            assert!(!want.is_empty(), "{case} marks no leak of these rules");
            let got: BTreeSet<(String, usize, String)> =
                crate::rules::run(&ws, &|id| IDS.contains(&id), &[])
                    .iter()
                    .map(|m| {
                        let name = m.location.file.file_name().expect("a file name");
                        (
                            name.to_string_lossy().into_owned(),
                            m.location.span.start_line as usize,
                            m.rule.to_string(),
                        )
                    })
                    .collect();
            assert_eq!(got, want, "{case}: matches differ from the // want markers");
        }
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &R,
            r#"
-- bad.go --
package bad

var keep [][]byte

func Broken( {
	buf := make([]byte, 1<<20
	keep = append(keep, buf[:
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }
}
