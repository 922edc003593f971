//! `subslice-retains-backing-array`: a small slice of a large buffer is stored where it
//! outlives the call, pinning the whole buffer. Also home of the `flow` helpers (scopes,
//! value origins, stores, imports) that the slice, string, pool and finalizer rules share.

use tree_sitter::Node;

use self::flow::{BindKind, FileCtx, Sink, SinkKind};
use super::syntax;
use super::{
    EvidenceKind, Fix, GoVersion, Location, Match, Package, Related, Rule, RuleMeta, SourceFile,
};

/// The `subslice-retains-backing-array` rule.
#[derive(Debug)]
pub struct SubsliceRetainsBackingArray;

static META: RuleMeta = RuleMeta {
    id: "subslice-retains-backing-array",
    name: "Sub-slice retains its backing array",
    summary: "A small slice of a large buffer is stored where it outlives the call, pinning the whole buffer.",
    evidence: EvidenceKind::Heap,
};

/// Buffers of fewer bytes than this (by a constant size) are not worth a finding.
const LARGE_BUFFER_BYTES: i128 = 1024;

impl Rule for SubsliceRetainsBackingArray {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Package, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for slice in syntax::descendants_of_kind(file.tree.root_node(), "slice_expression") {
                check_slice(pkg, &ctx, slice, out);
            }
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
        out.push(make_match(pkg, ctx, &buffer, name, &sink));
    }
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
) -> Match {
    let src = ctx.src;
    let func = flow::function_label(sink.stmt, src);
    let (subject, place, declaration) = describe_sink(pkg, ctx, sink, name);
    let what = if buffer.what == "the caller" {
        format!("a sub-slice of \"{name}\", a buffer passed in by the caller,")
    } else {
        format!("a sub-slice of buffer \"{name}\" (from {})", buffer.what)
    };
    let message = if sink.kind == SinkKind::Return {
        format!("{what} is returned from {func}, which keeps the whole backing array alive")
    } else {
        format!("{what} {place} in {func}, which keeps the whole backing array alive")
    };
    let mut evidence = buffer.sites.clone();
    flow::push_unique(&mut evidence, ctx.loc(sink.stmt));
    let related = buffer
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
/// Local data flow on the syntax tree, shared by the slice, string, pool and finalizer
/// rules: which declaration a name refers to (scopes, shadowing, captures), where a value
/// was allocated, where a value is stored so that it outlives the call, constant sizes,
/// imports and the edits that add one. Everything is best effort on one package without
/// type information: when the code is not evident, the helpers answer `None`.
pub(crate) mod flow {
    use std::collections::HashSet;

    use tree_sitter::Node;

    use crate::rules::syntax::{self, ancestors, descendants};
    use crate::rules::{Location, Package, SourceFile, TextEdit};
    use crate::source::model::{Decl, DeclKind};

    /// How far value and caller chains are followed.
    pub(crate) const MAX_DEPTH: usize = 4;

    /// Skips parentheses around an expression.
    pub(crate) fn unparen(mut node: Node<'_>) -> Node<'_> {
        while node.kind() == "parenthesized_expression" {
            match named(node).into_iter().next() {
                Some(inner) => node = inner,
                None => break,
            }
        }
        node
    }

    /// The named children of a node, comments left out.
    pub(crate) fn named(node: Node<'_>) -> Vec<Node<'_>> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .collect()
    }

    /// The elements of an `expression_list`, or the node itself.
    pub(crate) fn items(node: Option<Node<'_>>) -> Vec<Node<'_>> {
        match node {
            Some(list) if list.kind() == "expression_list" => named(list),
            Some(single) => vec![single],
            None => Vec::new(),
        }
    }

    /// Whether two expressions are the same text, ignoring whitespace.
    pub(crate) fn same_expr(a: &str, b: &str) -> bool {
        a.chars()
            .filter(|c| !c.is_whitespace())
            .eq(b.chars().filter(|c| !c.is_whitespace()))
    }

    /// Whether an unnamed token child (`:=`, `&`, `+`) is present.
    pub(crate) fn has_token(node: Node<'_>, token: &str) -> bool {
        let mut cursor = node.walk();
        let found = node
            .children(&mut cursor)
            .any(|c| !c.is_named() && c.kind() == token);
        found
    }

    /// The operator of a unary or binary expression.
    pub(crate) fn operator<'s>(node: Node<'_>, src: &'s str) -> &'s str {
        node.child_by_field_name("operator")
            .map(|o| syntax::text(o, src))
            .unwrap_or("")
    }

    /// How a local name is declared.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum BindKind {
        /// A parameter, receiver or named result.
        Param,
        /// `x := ...`.
        ShortVar,
        /// `var x T = ...` in a function.
        Var,
        /// `const x = ...` in a function.
        Const,
        /// `for k, v := range ...`.
        Range,
        /// `case v := <-ch:`.
        Receive,
        /// `switch v := x.(type)`.
        TypeSwitch,
    }

    /// The declaration a local name refers to.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Binding<'t> {
        pub kind: BindKind,
        /// The declaring construct: `parameter_declaration`, `short_var_declaration`,
        /// `var_spec`, `range_clause`, ...
        pub decl: Node<'t>,
        /// The declaring identifier.
        pub name: Node<'t>,
        /// Position of the name among the names the construct declares.
        pub index: usize,
        /// The declared type, when written.
        pub ty: Option<Node<'t>>,
        /// The initializer: the matching right-hand expression, or the one multi-valued
        /// expression (call, range expression) whose `index`-th result is bound.
        pub value: Option<Node<'t>>,
        /// `value` is multi-valued.
        pub multi: bool,
    }

    impl Binding<'_> {
        /// Whether two bindings are the same declaration of the same name.
        pub(crate) fn same(&self, other: &Binding<'_>) -> bool {
            self.decl.id() == other.decl.id() && self.index == other.index
        }
    }

    /// The local declaration (in the enclosing functions, literals included) that `name`
    /// refers to at `usage`, or `None` for package-level, imported and universe names.
    pub(crate) fn resolve<'t>(usage: Node<'t>, name: &str, src: &str) -> Option<Binding<'t>> {
        let pos = usage.start_byte();
        for anc in ancestors(usage) {
            for child in named(anc).into_iter().rev() {
                if child.end_byte() > pos {
                    continue;
                }
                if let Some(b) = declares(anc, child, name, src) {
                    return Some(b);
                }
            }
            if matches!(
                anc.kind(),
                "function_declaration" | "method_declaration" | "source_file"
            ) {
                return None;
            }
        }
        None
    }

    /// The binding of an identifier node (its own text resolved at its place).
    pub(crate) fn resolve_ident<'t>(ident: Node<'t>, src: &str) -> Option<Binding<'t>> {
        if ident.kind() != "identifier" {
            return None;
        }
        resolve(ident, syntax::text(ident, src), src)
    }

    fn names_in<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
        let mut cursor = node.walk();
        node.children_by_field_name(field, &mut cursor)
            .filter(|n| n.kind() == "identifier")
            .collect()
    }

    /// The binding `child` (a child of `parent`) makes for `name`, if any.
    fn declares<'t>(
        parent: Node<'t>,
        child: Node<'t>,
        name: &str,
        src: &str,
    ) -> Option<Binding<'t>> {
        match child.kind() {
            "short_var_declaration" => {
                let left = items(child.child_by_field_name("left"));
                let right = items(child.child_by_field_name("right"));
                let index = left.iter().position(|n| syntax::text(*n, src) == name)?;
                let (value, multi) = pair(&left, &right, index);
                Some(Binding {
                    kind: BindKind::ShortVar,
                    decl: child,
                    name: left[index],
                    index,
                    ty: None,
                    value,
                    multi,
                })
            }
            "var_declaration" | "const_declaration" => {
                let mut specs = Vec::new();
                for c in named(child) {
                    match c.kind() {
                        "var_spec" | "const_spec" => specs.push(c),
                        "var_spec_list" => specs.extend(named(c)),
                        _ => {}
                    }
                }
                let kind = if child.kind() == "var_declaration" {
                    BindKind::Var
                } else {
                    BindKind::Const
                };
                specs.into_iter().rev().find_map(|spec| {
                    let names = names_in(spec, "name");
                    let index = names.iter().position(|n| syntax::text(*n, src) == name)?;
                    let values = items(spec.child_by_field_name("value"));
                    let (value, multi) = pair(&names, &values, index);
                    Some(Binding {
                        kind,
                        decl: spec,
                        name: names[index],
                        index,
                        ty: spec.child_by_field_name("type"),
                        value,
                        multi,
                    })
                })
            }
            "for_clause" => {
                let init = child.child_by_field_name("initializer")?;
                declares(child, init, name, src)
            }
            "range_clause" if parent.kind() == "for_statement" && has_token(child, ":=") => {
                let left = items(child.child_by_field_name("left"));
                let index = left.iter().position(|n| syntax::text(*n, src) == name)?;
                Some(Binding {
                    kind: BindKind::Range,
                    decl: child,
                    name: left[index],
                    index,
                    ty: None,
                    value: child.child_by_field_name("right"),
                    multi: true,
                })
            }
            "receive_statement" if has_token(child, ":=") => {
                let left = items(child.child_by_field_name("left"));
                let index = left.iter().position(|n| syntax::text(*n, src) == name)?;
                Some(Binding {
                    kind: BindKind::Receive,
                    decl: child,
                    name: left[index],
                    index,
                    ty: None,
                    value: child.child_by_field_name("right"),
                    multi: true,
                })
            }
            "parameter_list" if syntax::is_function(parent.kind()) => {
                for param in named(child) {
                    if !matches!(
                        param.kind(),
                        "parameter_declaration" | "variadic_parameter_declaration"
                    ) {
                        continue;
                    }
                    let names = names_in(param, "name");
                    if let Some(index) = names.iter().position(|n| syntax::text(*n, src) == name) {
                        return Some(Binding {
                            kind: BindKind::Param,
                            decl: param,
                            name: names[index],
                            index,
                            ty: param.child_by_field_name("type"),
                            value: None,
                            multi: false,
                        });
                    }
                }
                None
            }
            "expression_list"
                if parent.kind() == "type_switch_statement"
                    && parent
                        .child_by_field_name("alias")
                        .is_some_and(|a| a.id() == child.id()) =>
            {
                let left = items(Some(child));
                let index = left.iter().position(|n| syntax::text(*n, src) == name)?;
                Some(Binding {
                    kind: BindKind::TypeSwitch,
                    decl: child,
                    name: left[index],
                    index,
                    ty: None,
                    value: parent.child_by_field_name("value"),
                    multi: true,
                })
            }
            _ => None,
        }
    }

    /// The value bound to the `index`-th of `left` from `right`.
    fn pair<'t>(left: &[Node<'t>], right: &[Node<'t>], index: usize) -> (Option<Node<'t>>, bool) {
        if left.len() == right.len() {
            (right.get(index).copied(), false)
        } else if right.len() == 1 {
            (right.first().copied(), true)
        } else {
            (None, false)
        }
    }

    /// The function body in which a binding lives (for parameters: the function's body).
    pub(crate) fn scope_body<'t>(b: &Binding<'t>) -> Option<Node<'t>> {
        let f = if syntax::is_function(b.decl.kind()) {
            Some(b.decl)
        } else {
            syntax::enclosing_function(b.decl)
        }?;
        f.child_by_field_name("body")
    }

    /// Identifier uses of a binding after its declaration in its function (literals
    /// included), each resolved to the same declaration.
    pub(crate) fn uses<'t>(b: &Binding<'t>, src: &str) -> Vec<Node<'t>> {
        let Some(body) = scope_body(b) else {
            return Vec::new();
        };
        let name = syntax::text(b.name, src);
        descendants(body)
            .filter(|n| n.kind() == "identifier" && n.start_byte() > b.name.end_byte())
            .filter(|n| syntax::text(*n, src) == name)
            .filter(|n| !is_field_name(*n))
            .filter(|n| resolve(*n, name, src).is_some_and(|r| r.same(b)))
            .collect()
    }

    /// Whether an identifier is the key of a keyed element naming a struct field
    /// (`Entry{Data: x}`), which is not a use of a variable.
    fn is_field_name(ident: Node<'_>) -> bool {
        let Some(p) = ident.parent() else {
            return false;
        };
        p.kind() == "literal_element"
            && p.parent().is_some_and(|k| {
                k.kind() == "keyed_element"
                    && k.child_by_field_name("key")
                        .is_some_and(|key| key.id() == p.id())
            })
    }

    /// Right-hand sides of plain `name = value` assignments to a binding before `before`
    /// (a byte offset) in its function.
    pub(crate) fn assignments<'t>(b: &Binding<'t>, before: usize, src: &str) -> Vec<Node<'t>> {
        let mut out = Vec::new();
        for ident in uses(b, src) {
            if ident.start_byte() >= before {
                continue;
            }
            let Some(list) = ident.parent() else { continue };
            let Some(stmt) = list.parent() else { continue };
            if stmt.kind() != "assignment_statement" || operator(stmt, src) != "=" {
                continue;
            }
            let left = items(stmt.child_by_field_name("left"));
            let right = items(stmt.child_by_field_name("right"));
            if let Some(i) = left.iter().position(|n| n.id() == ident.id()) {
                if let (Some(v), false) = pair(&left, &right, i) {
                    out.push(v);
                } else if let (Some(v), true) = pair(&left, &right, i) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The root identifier of `a.b[i].c`, `*p`, `(x)`.
    pub(crate) fn root_ident(mut node: Node<'_>) -> Option<Node<'_>> {
        loop {
            node = unparen(node);
            match node.kind() {
                "identifier" => return Some(node),
                "selector_expression" | "index_expression" | "slice_expression" => {
                    node = node.child_by_field_name("operand")?;
                }
                "unary_expression" => node = node.child_by_field_name("operand")?,
                _ => return None,
            }
        }
    }

    /// A package-level `var` or `const` of the package's program files.
    pub(crate) fn package_decl<'p>(
        pkg: &'p Package,
        name: &str,
    ) -> Option<(&'p SourceFile, &'p Decl)> {
        pkg.program_files().find_map(|f| {
            f.summary
                .decls
                .iter()
                .find(|d| d.name == name)
                .map(|d| (f, d))
        })
    }

    /// Whether `name` is a package-level variable of the package.
    pub(crate) fn is_package_var(pkg: &Package, name: &str) -> bool {
        package_decl(pkg, name).is_some_and(|(_, d)| d.kind == DeclKind::Var)
    }

    /// Where a package-level name is declared.
    pub(crate) fn decl_location(pkg: &Package, name: &str) -> Option<Location> {
        package_decl(pkg, name).map(|(f, d)| Location {
            file: f.path().to_path_buf(),
            span: d.span,
        })
    }

    /// The `var_spec` or `const_spec` of a package-level name, with its file.
    pub(crate) fn package_spec<'p>(
        pkg: &'p Package,
        name: &str,
    ) -> Option<(&'p SourceFile, Node<'p>)> {
        for f in pkg.program_files() {
            for top in named(f.tree.root_node()) {
                if !matches!(top.kind(), "var_declaration" | "const_declaration") {
                    continue;
                }
                for spec in descendants(top) {
                    if !matches!(spec.kind(), "var_spec" | "const_spec") {
                        continue;
                    }
                    if names_in(spec, "name")
                        .iter()
                        .any(|n| syntax::text(*n, &f.text) == name)
                    {
                        return Some((f, spec));
                    }
                }
            }
        }
        None
    }

    /// A package-level function (not method) of the program files.
    pub(crate) fn package_function<'p>(
        pkg: &'p Package,
        name: &str,
    ) -> Option<(&'p SourceFile, Node<'p>)> {
        pkg.program_files().find_map(|f| {
            named(f.tree.root_node())
                .into_iter()
                .find(|n| {
                    n.kind() == "function_declaration"
                        && syntax::function_name(*n, &f.text) == Some(name)
                })
                .map(|n| (f, n))
        })
    }

    /// The methods named `name` of the package's program files.
    pub(crate) fn package_methods<'p>(
        pkg: &'p Package,
        name: &str,
    ) -> Vec<(&'p SourceFile, Node<'p>)> {
        let mut out = Vec::new();
        for f in pkg.program_files() {
            for n in named(f.tree.root_node()) {
                if n.kind() == "method_declaration"
                    && syntax::function_name(n, &f.text) == Some(name)
                {
                    out.push((f, n));
                }
            }
        }
        out
    }

    /// The base type name of a receiver or pointer type: `*Store[K]` gives `Store`.
    pub(crate) fn base_type_name<'s>(mut ty: Node<'_>, src: &'s str) -> Option<&'s str> {
        loop {
            match ty.kind() {
                "pointer_type" | "parenthesized_type" => ty = named(ty).into_iter().next()?,
                "generic_type" => ty = ty.child_by_field_name("type")?,
                "type_identifier" => return Some(syntax::text(ty, src)),
                _ => return None,
            }
        }
    }

    /// How a function is named in messages: `Batch`, `Store.Put`, or a package-level
    /// function literal.
    pub(crate) fn function_label(node: Node<'_>, src: &str) -> String {
        let Some(decl) = syntax::enclosing_declaration(node).or_else(|| {
            syntax::is_function(node.kind())
                .then_some(node)
                .filter(|n| n.kind() != "func_literal")
        }) else {
            return "a package-level function literal".to_string();
        };
        let name = syntax::function_name(decl, src).unwrap_or("?");
        if decl.kind() == "method_declaration" {
            let recv = decl
                .child_by_field_name("receiver")
                .and_then(|r| named(r).into_iter().next())
                .and_then(|p| p.child_by_field_name("type"))
                .and_then(|t| base_type_name(t, src));
            if let Some(recv) = recv {
                return format!("{recv}.{name}");
            }
        }
        name.to_string()
    }

    /// Whether the code at `node` runs once per process rather than per request: in
    /// `init`, in a package-level initializer, in `main` outside any loop, or in a
    /// function literal run by `sync.Once` from one of those.
    pub(crate) fn runs_once(node: Node<'_>, src: &str) -> bool {
        let mut n = node;
        let mut in_loop = false;
        loop {
            for a in ancestors(n) {
                if syntax::is_function(a.kind()) {
                    break;
                }
                if a.kind() == "for_statement" {
                    in_loop = true;
                }
            }
            let Some(f) = syntax::enclosing_function(n) else {
                return true;
            };
            match f.kind() {
                "func_literal" => match invocation(f, src) {
                    Invocation::InPlace => {
                        n = f;
                        continue;
                    }
                    Invocation::Once => return true,
                    Invocation::Later => return false,
                },
                "function_declaration" => {
                    let name = syntax::function_name(f, src);
                    let generic = f.child_by_field_name("type_parameters").is_some();
                    if name == Some("init") && !generic {
                        return true;
                    }
                    let in_main_pkg = ancestors(f)
                        .last()
                        .and_then(|root| {
                            named(root)
                                .into_iter()
                                .find(|c| c.kind() == "package_clause")
                        })
                        .is_some_and(|p| {
                            syntax::text(p, src).split_whitespace().nth(1) == Some("main")
                        });
                    return name == Some("main") && in_main_pkg && !in_loop;
                }
                _ => return false,
            }
        }
    }

    /// When a function literal runs.
    enum Invocation {
        /// Where it is written: called in place, also by `go` and `defer`.
        InPlace,
        /// Once per process: the only argument of a `Do` call (`sync.Once`).
        Once,
        /// Whenever whoever holds it calls it.
        Later,
    }

    fn invocation(lit: Node<'_>, src: &str) -> Invocation {
        let mut node = lit;
        while let Some(p) = node.parent() {
            match p.kind() {
                "parenthesized_expression" => node = p,
                "call_expression"
                    if p.child_by_field_name("function")
                        .is_some_and(|f| f.id() == node.id()) =>
                {
                    return Invocation::InPlace;
                }
                "argument_list" if named(p).len() == 1 => {
                    let once = p
                        .parent()
                        .and_then(|call| syntax::callee(call, src))
                        .is_some_and(|c| c.ends_with(".Do"));
                    return if once {
                        Invocation::Once
                    } else {
                        Invocation::Later
                    };
                }
                _ => return Invocation::Later,
            }
        }
        Invocation::Later
    }

    /// The import specs of a file's top-level import declarations.
    fn import_specs(file: &SourceFile) -> Vec<Node<'_>> {
        let mut out = Vec::new();
        for decl in named(file.tree.root_node()) {
            if decl.kind() != "import_declaration" {
                continue;
            }
            for c in named(decl) {
                match c.kind() {
                    "import_spec" => out.push(c),
                    "import_spec_list" => {
                        out.extend(named(c).into_iter().filter(|n| n.kind() == "import_spec"))
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// The imports of a file: (local name, path); dot and blank imports are left out.
    pub(crate) fn imports(file: &SourceFile) -> Vec<(String, String)> {
        let src: &str = &file.text;
        let mut out = Vec::new();
        for spec in import_specs(file) {
            let path = spec
                .child_by_field_name("path")
                .map(|p| syntax::text(p, src).trim_matches(|c| c == '"' || c == '`'))
                .unwrap_or("");
            match spec.child_by_field_name("name") {
                Some(n) if n.kind() == "package_identifier" => {
                    out.push((syntax::text(n, src).to_string(), path.to_string()));
                }
                Some(_) => {}
                None => {
                    let last = path.rsplit('/').next().unwrap_or(path);
                    out.push((last.to_string(), path.to_string()));
                }
            }
        }
        out
    }

    /// A file with its imports, for resolving qualified calls.
    pub(crate) struct FileCtx<'a> {
        pub file: &'a SourceFile,
        pub src: &'a str,
        pub imports: Vec<(String, String)>,
    }

    impl<'a> FileCtx<'a> {
        pub(crate) fn new(file: &'a SourceFile) -> Self {
            FileCtx {
                file,
                src: &file.text,
                imports: imports(file),
            }
        }

        /// For `pkg.F(...)` (or the callee expression `pkg.F`) with `pkg` an import of
        /// this file not shadowed at the call: the import path and `F`.
        pub(crate) fn qualified(&self, node: Node<'_>) -> Option<(&str, &'a str)> {
            let f = if node.kind() == "call_expression" {
                unparen(node.child_by_field_name("function")?)
            } else {
                node
            };
            if f.kind() != "selector_expression" {
                return None;
            }
            let operand = f.child_by_field_name("operand")?;
            if operand.kind() != "identifier" {
                return None;
            }
            let name = syntax::text(operand, self.src);
            let (_, path) = self.imports.iter().find(|(n, _)| n == name)?;
            if resolve(operand, name, self.src).is_some() {
                return None;
            }
            let field = f.child_by_field_name("field")?;
            Some((path.as_str(), syntax::text(field, self.src)))
        }

        /// Whether a call is the builtin `name` (not shadowed).
        pub(crate) fn is_builtin(&self, call: Node<'_>, name: &str) -> bool {
            is_builtin_call(call, name, self.src)
        }

        /// A location in this file.
        pub(crate) fn loc(&self, node: Node<'_>) -> Location {
            self.file.location(node)
        }
    }

    /// The value of an integer constant expression (literals, local and package-level
    /// constants, `+ - * / % << >> & |`), when evident.
    pub(crate) fn const_int(
        pkg: &Package,
        file: &SourceFile,
        node: Node<'_>,
        depth: usize,
    ) -> Option<i128> {
        if depth > MAX_DEPTH * 2 {
            return None;
        }
        let src: &str = &file.text;
        let node = unparen(node);
        match node.kind() {
            "int_literal" => parse_int(syntax::text(node, src)),
            "unary_expression" => {
                let v = const_int(pkg, file, node.child_by_field_name("operand")?, depth + 1)?;
                match operator(node, src) {
                    "-" => v.checked_neg(),
                    "+" => Some(v),
                    _ => None,
                }
            }
            "binary_expression" => {
                let l = const_int(pkg, file, node.child_by_field_name("left")?, depth + 1)?;
                let r = const_int(pkg, file, node.child_by_field_name("right")?, depth + 1)?;
                match operator(node, src) {
                    "+" => l.checked_add(r),
                    "-" => l.checked_sub(r),
                    "*" => l.checked_mul(r),
                    "/" => l.checked_div(r),
                    "%" => l.checked_rem(r),
                    "<<" => u32::try_from(r)
                        .ok()
                        .filter(|s| *s < 64)
                        .and_then(|s| l.checked_shl(s)),
                    ">>" => u32::try_from(r)
                        .ok()
                        .filter(|s| *s < 64)
                        .and_then(|s| l.checked_shr(s)),
                    "&" => Some(l & r),
                    "|" => Some(l | r),
                    _ => None,
                }
            }
            "identifier" => {
                let name = syntax::text(node, src);
                if let Some(b) = resolve(node, name, src) {
                    if b.kind == BindKind::Const && !b.multi {
                        return const_int(pkg, file, b.value?, depth + 1);
                    }
                    return None;
                }
                let (f, spec) = package_spec(pkg, name)?;
                if spec.kind() != "const_spec" {
                    return None;
                }
                let names = names_in(spec, "name");
                let index = names
                    .iter()
                    .position(|n| syntax::text(*n, &f.text) == name)?;
                let values = items(spec.child_by_field_name("value"));
                let v = if values.len() == names.len() {
                    values.get(index).copied()
                } else {
                    None
                }?;
                const_int(pkg, f, v, depth + 1)
            }
            _ => None,
        }
    }

    fn parse_int(text: &str) -> Option<i128> {
        let t: String = text.chars().filter(|c| *c != '_').collect();
        let lower = t.to_ascii_lowercase();
        if let Some(h) = lower.strip_prefix("0x") {
            i128::from_str_radix(h, 16).ok()
        } else if let Some(b) = lower.strip_prefix("0b") {
            i128::from_str_radix(b, 2).ok()
        } else if let Some(o) = lower.strip_prefix("0o") {
            i128::from_str_radix(o, 8).ok()
        } else if lower.len() > 1 && lower.starts_with('0') {
            i128::from_str_radix(&lower[1..], 8).ok()
        } else {
            lower.parse().ok()
        }
    }

    /// The lines where the values an expression evaluates to were allocated: composite
    /// literals, `make`, `new`, conversions, concatenations and calls of other packages
    /// at their own line, the whole body of a same-package function the value came from,
    /// and, for a local, whatever was assigned to it before `expr` in its function.
    pub(crate) fn alloc_sites(
        pkg: &Package,
        file: &SourceFile,
        expr: Node<'_>,
        out: &mut Vec<Location>,
    ) {
        let mut seen = HashSet::new();
        alloc_walk(pkg, file, expr, 0, &mut seen, out);
    }

    fn alloc_walk(
        pkg: &Package,
        file: &SourceFile,
        expr: Node<'_>,
        depth: usize,
        seen: &mut HashSet<(usize, usize)>,
        out: &mut Vec<Location>,
    ) {
        if depth > MAX_DEPTH || !seen.insert((expr.id(), depth)) {
            return;
        }
        let src: &str = &file.text;
        let expr = unparen(expr);
        match expr.kind() {
            "variadic_argument" => {
                if let Some(inner) = named(expr).into_iter().next() {
                    alloc_walk(pkg, file, inner, depth, seen, out);
                }
            }
            "composite_literal" => {
                push_unique(out, file.location(expr));
                literal_values(pkg, file, expr, depth, seen, out);
            }
            "func_literal" | "type_conversion_expression" => {
                push_unique(out, file.location(expr));
            }
            "unary_expression" => {
                let operand = expr.child_by_field_name("operand").map(unparen);
                match (operator(expr, src), operand) {
                    ("&", Some(o)) if o.kind() == "composite_literal" => {
                        push_unique(out, file.location(expr));
                        literal_values(pkg, file, o, depth, seen, out);
                    }
                    ("&", Some(o)) => alloc_walk(pkg, file, o, depth + 1, seen, out),
                    _ => {}
                }
            }
            "binary_expression" if operator(expr, src) == "+" => {
                push_unique(out, file.location(expr));
            }
            "call_expression" => {
                let Some(f) = expr.child_by_field_name("function").map(unparen) else {
                    return;
                };
                if f.kind() == "identifier" {
                    let name = syntax::text(f, src);
                    if resolve(f, name, src).is_some() {
                        // A local function value: its allocations are its body's.
                        return;
                    }
                    if let Some((ff, decl)) = package_function(pkg, name) {
                        if let Some(body) = decl.child_by_field_name("body") {
                            push_unique(out, ff.location(body));
                        }
                        return;
                    }
                    // Builtins (`make`, `new`, `append`) and conversions to named types.
                    push_unique(out, file.location(expr));
                    return;
                }
                if f.kind() == "selector_expression" {
                    let ctx_imports = imports(file);
                    let operand = f.child_by_field_name("operand");
                    let is_pkg = operand.is_some_and(|o| {
                        o.kind() == "identifier"
                            && ctx_imports.iter().any(|(n, _)| n == syntax::text(o, src))
                            && resolve(o, syntax::text(o, src), src).is_none()
                    });
                    if !is_pkg {
                        let method = f
                            .child_by_field_name("field")
                            .map(|m| syntax::text(m, src))
                            .unwrap_or("");
                        let methods = package_methods(pkg, method);
                        if let [(mf, decl)] = methods.as_slice() {
                            if let Some(body) = decl.child_by_field_name("body") {
                                push_unique(out, mf.location(body));
                            }
                            return;
                        }
                    }
                }
                push_unique(out, file.location(expr));
            }
            "identifier" => {
                let name = syntax::text(expr, src);
                let Some(b) = resolve(expr, name, src) else {
                    return;
                };
                if matches!(b.kind, BindKind::ShortVar | BindKind::Var) {
                    if let Some(v) = b.value {
                        alloc_walk(pkg, file, v, depth + 1, seen, out);
                    } else if b.kind == BindKind::Var
                        && b.ty.is_some_and(|t| t.kind() == "array_type")
                    {
                        // A local array that escapes is allocated at its declaration.
                        push_unique(out, file.location(b.decl));
                    }
                    for v in assignments(&b, expr.start_byte(), src) {
                        alloc_walk(pkg, file, v, depth + 1, seen, out);
                    }
                }
            }
            _ => {}
        }
    }

    /// Follows the element values of a composite literal (`Entry{Body: body, Tags:
    /// newTags()}`): values made elsewhere in the function or by a constructor are part of
    /// what the literal keeps.
    fn literal_values(
        pkg: &Package,
        file: &SourceFile,
        lit: Node<'_>,
        depth: usize,
        seen: &mut HashSet<(usize, usize)>,
        out: &mut Vec<Location>,
    ) {
        let Some(body) = lit.child_by_field_name("body") else {
            return;
        };
        for el in named(body) {
            let value = if el.kind() == "keyed_element" {
                el.child_by_field_name("value")
            } else {
                Some(el)
            };
            // A literal element wraps the expression.
            let Some(value) = value.and_then(|v| named(v).into_iter().next()) else {
                continue;
            };
            alloc_walk(pkg, file, value, depth + 1, seen, out);
        }
    }

    /// Adds a location unless a location of the same file already covers its lines.
    pub(crate) fn push_unique(out: &mut Vec<Location>, loc: Location) {
        let covered = out.iter().any(|l| {
            l.file == loc.file
                && l.span.start_line <= loc.span.start_line
                && loc.span.end_line <= l.span.end_line
        });
        if !covered {
            out.push(loc);
        }
    }

    /// The qualifier to write for `path` at `at` (e.g. `bytes`), and the edit adding the
    /// import when the file lacks it. `None` when the name is taken (shadowed at `at`,
    /// bound by another import or a package-level name) or the import is a dot or blank
    /// import.
    pub(crate) fn qualifier(
        pkg: &Package,
        file: &SourceFile,
        path: &str,
        at: Node<'_>,
    ) -> Option<(String, Vec<TextEdit>)> {
        let src: &str = &file.text;
        let mut blank_or_dot = false;
        for spec in import_specs(file) {
            let p = spec
                .child_by_field_name("path")
                .map(|p| syntax::text(p, src).trim_matches(|c| c == '"' || c == '`'))
                .unwrap_or("");
            if p != path {
                continue;
            }
            match spec.child_by_field_name("name") {
                Some(n) if n.kind() == "package_identifier" => {
                    let name = syntax::text(n, src);
                    return resolve(at, name, src)
                        .is_none()
                        .then(|| (name.to_string(), Vec::new()));
                }
                Some(_) => blank_or_dot = true,
                None => {
                    let name = path.rsplit('/').next().unwrap_or(path);
                    return resolve(at, name, src)
                        .is_none()
                        .then(|| (name.to_string(), Vec::new()));
                }
            }
        }
        if blank_or_dot {
            return None;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let taken = imports(file).iter().any(|(n, _)| n == name)
            || package_decl(pkg, name).is_some()
            || package_function(pkg, name).is_some()
            || resolve(at, name, src).is_some();
        if taken {
            return None;
        }
        let edit = import_edit(file, path)?;
        Some((name.to_string(), vec![edit]))
    }

    /// An edit adding `import "path"`: into the first group of a parenthesized import
    /// list at its sorted place, else after the last import, else after the package
    /// clause.
    fn import_edit(file: &SourceFile, path: &str) -> Option<TextEdit> {
        let src: &str = &file.text;
        let root = file.tree.root_node();
        let top = named(root);
        let insert = |at: usize, text: String| TextEdit {
            file: file.path().to_path_buf(),
            start_byte: at,
            end_byte: at,
            new_text: text,
        };
        let line_start = |byte: usize| {
            src.get(..byte)
                .and_then(|s| s.rfind('\n'))
                .map_or(0, |i| i + 1)
        };
        let line_end = |byte: usize| {
            src.get(byte..)
                .and_then(|s| s.find('\n'))
                .map_or(src.len(), |i| byte + i)
        };
        let decls: Vec<Node<'_>> = top
            .iter()
            .copied()
            .filter(|n| n.kind() == "import_declaration")
            .collect();
        if let Some(list) = decls.iter().find_map(|d| {
            named(*d)
                .into_iter()
                .find(|c| c.kind() == "import_spec_list")
        }) {
            let specs: Vec<Node<'_>> = named(list)
                .into_iter()
                .filter(|n| n.kind() == "import_spec")
                .collect();
            let first = specs.first()?;
            // The first group: specs up to the first blank line.
            let mut group = vec![*first];
            for s in specs.iter().skip(1) {
                let prev = group.last().copied()?;
                let gap = src.get(prev.end_byte()..s.start_byte()).unwrap_or("");
                if gap.matches('\n').count() > 1 {
                    break;
                }
                group.push(*s);
            }
            let spec_path = |s: Node<'_>| {
                s.child_by_field_name("path")
                    .map(|p| syntax::text(p, src).trim_matches(|c| c == '"' || c == '`'))
                    .unwrap_or("")
            };
            let indent_of = |s: Node<'_>| {
                let ls = line_start(s.start_byte());
                src.get(ls..s.start_byte())
                    .filter(|w| w.chars().all(char::is_whitespace))
                    .unwrap_or("\t")
                    .to_string()
            };
            let indent = indent_of(*first);
            let std_group = !spec_path(*first)
                .split('/')
                .next()
                .unwrap_or("")
                .contains('.');
            if std_group {
                if let Some(after) = group.iter().find(|s| spec_path(**s) > path) {
                    return Some(insert(
                        line_start(after.start_byte()),
                        format!("{indent}\"{path}\"\n"),
                    ));
                }
                let last = group.last()?;
                let end = line_end(last.end_byte());
                let at = (end + 1).min(src.len());
                if end >= src.len() {
                    return Some(insert(at, format!("\n{indent}\"{path}\"")));
                }
                return Some(insert(at, format!("{indent}\"{path}\"\n")));
            }
            return Some(insert(
                line_start(first.start_byte()),
                format!("{indent}\"{path}\"\n\n"),
            ));
        }
        if let Some(last) = decls.last() {
            let end = line_end(last.end_byte());
            return Some(insert(end, format!("\nimport \"{path}\"")));
        }
        let clause = top.iter().find(|n| n.kind() == "package_clause")?;
        let end = line_end(clause.end_byte());
        Some(insert(end, format!("\n\nimport \"{path}\"")))
    }

    /// The edits writing `before` in front of `node` and `after` behind it.
    pub(crate) fn wrap(
        file: &SourceFile,
        node: Node<'_>,
        before: &str,
        after: &str,
    ) -> Vec<TextEdit> {
        let edit = |at: usize, text: &str| TextEdit {
            file: file.path().to_path_buf(),
            start_byte: at,
            end_byte: at,
            new_text: text.to_string(),
        };
        vec![
            edit(node.start_byte(), before),
            edit(node.end_byte(), after),
        ]
    }

    /// Where a stored value ends up: the container it outlives its function in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum SinkKind {
        /// Assigned to a package-level variable.
        Global,
        /// Assigned to a field (or through a pointer).
        Field,
        /// Written as an element of a package-level, field or parameter container.
        Element,
        /// Used as the key of a map write.
        MapKey,
        /// Appended to a package-level, field or parameter slice.
        Append,
        /// Sent on a channel.
        Send,
        /// Returned to the caller.
        Return,
    }

    /// A place where a value is stored so that it outlives the function.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Sink<'t> {
        pub kind: SinkKind,
        /// The statement that stores it (the cause line).
        pub stmt: Node<'t>,
        /// The container: the variable, field, map, slice or channel expression.
        pub container: Option<Node<'t>>,
        /// The expression to wrap in a copy: the value as written at the store.
        pub value: Node<'t>,
    }

    /// The sinks of a value: where `value` (or a local it is bound to, followed a few
    /// steps) is stored into a package-level variable, a field, a non-local container, a
    /// channel or, with `returns`, returned.
    pub(crate) fn sinks<'t>(
        pkg: &Package,
        file: &SourceFile,
        value: Node<'t>,
        returns: bool,
    ) -> Vec<Sink<'t>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let start = Walk {
            at: value,
            origin: value,
            direct: true,
        };
        sinks_walk(pkg, file, start, returns, 0, &mut seen, &mut out);
        out
    }

    /// One step of following a value: where it is now, the expression the walk started
    /// from, and whether the value at `at` is still that expression itself (not a literal
    /// or slice containing it).
    #[derive(Clone, Copy)]
    struct Walk<'t> {
        at: Node<'t>,
        origin: Node<'t>,
        direct: bool,
    }

    impl<'t> Walk<'t> {
        fn sink(&self, kind: SinkKind, stmt: Node<'t>, container: Option<Node<'t>>) -> Sink<'t> {
            Sink {
                kind,
                stmt,
                container,
                value: if self.direct { self.at } else { self.origin },
            }
        }
    }

    fn sinks_walk<'t>(
        pkg: &Package,
        file: &SourceFile,
        walk: Walk<'t>,
        returns: bool,
        depth: usize,
        seen: &mut HashSet<usize>,
        out: &mut Vec<Sink<'t>>,
    ) {
        if depth > MAX_DEPTH || !seen.insert(walk.at.id()) {
            return;
        }
        let src: &str = &file.text;
        let mut direct = walk.direct;
        let mut cur = walk.at;
        let mut at = walk.at;
        let here = |at: Node<'t>, direct: bool| Walk {
            at,
            origin: walk.origin,
            direct,
        };
        loop {
            let Some(mut p) = cur.parent() else { return };
            if p.kind() == "expression_list" {
                // Lists are looked through: `cur` stays the element, so its position in
                // the statement's list is known.
                let Some(pp) = p.parent() else { return };
                p = pp;
            }
            match p.kind() {
                "parenthesized_expression" => cur = p,
                "literal_element" | "literal_value" | "composite_literal" | "keyed_element" => {
                    direct = false;
                    cur = p;
                }
                "unary_expression" if operator(p, src) == "&" => {
                    direct = false;
                    cur = p;
                }
                "variadic_argument" => {
                    direct = false;
                    cur = p;
                }
                "argument_list" => {
                    if cur.kind() == "variadic_argument" {
                        // `append(x, v...)` copies the elements, not the array.
                        return;
                    }
                    let Some(call) = p.parent() else { return };
                    let args = named(p);
                    let first = args.first().copied();
                    if first.is_some_and(|f| f.id() == cur.id()) && is_trim_call(file, call) {
                        // `strings.TrimSpace(v)` is a part of `v`: follow the result.
                        cur = call;
                        if direct {
                            at = call;
                        }
                        continue;
                    }
                    if !is_builtin_call(call, "append", src)
                        || first.is_none_or(|f| f.id() == cur.id())
                    {
                        return;
                    }
                    let Some(target) = first else { return };
                    direct = false;
                    if let Target::Escapes(_) = classify_target(pkg, file, target) {
                        if is_assigned_to(syntax::statement_of(call), call, target, src) {
                            let stmt = syntax::statement_of(call);
                            out.push(here(at, direct).sink(SinkKind::Append, stmt, Some(target)));
                            return;
                        }
                    }
                    cur = call;
                }
                "assignment_statement" => {
                    let right = items(p.child_by_field_name("right"));
                    let left = items(p.child_by_field_name("left"));
                    let Some(i) = right.iter().position(|n| n.id() == cur.id()) else {
                        return;
                    };
                    if left.len() != right.len() || operator(p, src) != "=" {
                        return;
                    }
                    let Some(target) = left.get(i).copied().map(unparen) else {
                        return;
                    };
                    match classify_target(pkg, file, target) {
                        Target::Escapes(kind) => {
                            let container = if target.kind() == "index_expression" {
                                target.child_by_field_name("operand")
                            } else {
                                Some(target)
                            };
                            out.push(here(at, direct).sink(kind, p, container))
                        }
                        Target::Local(b) => {
                            // Stored into a local object: follow the object.
                            let direct = direct && unparen(target).kind() == "identifier";
                            follow(pkg, file, &b, here(at, direct), returns, depth, seen, out)
                        }
                        Target::None => {}
                    }
                    return;
                }
                "short_var_declaration" | "var_spec" => {
                    if syntax::is_package_level(p) {
                        // A package-level initializer runs once.
                        return;
                    }
                    let (left, right) = if p.kind() == "var_spec" {
                        (names_in(p, "name"), items(p.child_by_field_name("value")))
                    } else {
                        (
                            items(p.child_by_field_name("left")),
                            items(p.child_by_field_name("right")),
                        )
                    };
                    let Some(i) = right.iter().position(|n| n.id() == cur.id()) else {
                        return;
                    };
                    if left.len() != right.len() {
                        return;
                    }
                    let Some(name) = left.get(i).copied() else {
                        return;
                    };
                    if let Some(b) = binding_declared_by(p, name, src) {
                        follow(pkg, file, &b, here(at, direct), returns, depth, seen, out);
                    }
                    return;
                }
                "send_statement" => {
                    if p.child_by_field_name("value")
                        .is_some_and(|v| v.id() == cur.id())
                    {
                        out.push(here(at, direct).sink(
                            SinkKind::Send,
                            p,
                            p.child_by_field_name("channel"),
                        ));
                    }
                    return;
                }
                "return_statement" => {
                    if returns {
                        out.push(here(at, direct).sink(SinkKind::Return, p, None));
                    }
                    return;
                }
                "index_expression" => {
                    // Only as a map key: `m[v] = x`, `m[v]++`, `m[v] += n`.
                    if p.child_by_field_name("index").map(|i| i.id()) != Some(cur.id()) {
                        return;
                    }
                    let Some(container) = p.child_by_field_name("operand") else {
                        return;
                    };
                    let Some(stmt) = p.parent().and_then(|l| {
                        if l.kind() == "expression_list" {
                            l.parent()
                        } else {
                            Some(l)
                        }
                    }) else {
                        return;
                    };
                    let written = match stmt.kind() {
                        "assignment_statement" => items(stmt.child_by_field_name("left"))
                            .iter()
                            .any(|n| unparen(*n).id() == p.id()),
                        "inc_statement" | "dec_statement" => true,
                        _ => false,
                    };
                    if written {
                        if let Target::Escapes(_) = classify_target(pkg, file, p) {
                            out.push(here(at, direct).sink(
                                SinkKind::MapKey,
                                stmt,
                                Some(container),
                            ));
                        }
                    }
                    return;
                }
                _ => return,
            }
        }
    }

    /// Whether a call is a `strings` or `bytes` trim function, whose result is a part of
    /// its first argument.
    fn is_trim_call(file: &SourceFile, call: Node<'_>) -> bool {
        FileCtx::new(file)
            .qualified(call)
            .is_some_and(|(path, func)| {
                matches!(path, "strings" | "bytes")
                    && matches!(
                        func,
                        "TrimSpace"
                            | "Trim"
                            | "TrimLeft"
                            | "TrimRight"
                            | "TrimPrefix"
                            | "TrimSuffix"
                            | "TrimFunc"
                            | "TrimLeftFunc"
                            | "TrimRightFunc"
                    )
            })
    }

    /// Whether a call is the builtin `name` (not shadowed by a local).
    pub(crate) fn is_builtin_call(call: Node<'_>, name: &str, src: &str) -> bool {
        call.kind() == "call_expression"
            && call
                .child_by_field_name("function")
                .map(unparen)
                .is_some_and(|f| {
                    f.kind() == "identifier"
                        && syntax::text(f, src) == name
                        && resolve(f, name, src).is_none()
                })
    }

    /// Whether `call` is the right-hand side of `target = call` at `stmt`.
    fn is_assigned_to(stmt: Node<'_>, call: Node<'_>, target: Node<'_>, src: &str) -> bool {
        if stmt.kind() != "assignment_statement" || operator(stmt, src) != "=" {
            return false;
        }
        let left = items(stmt.child_by_field_name("left"));
        let right = items(stmt.child_by_field_name("right"));
        left.len() == right.len()
            && left.iter().zip(right.iter()).any(|(l, r)| {
                unparen(*r).id() == call.id()
                    && same_expr(syntax::text(*l, src), syntax::text(target, src))
            })
    }

    /// The binding a declaration statement makes for one of its names.
    fn binding_declared_by<'t>(decl: Node<'t>, name: Node<'t>, src: &str) -> Option<Binding<'t>> {
        let text = syntax::text(name, src);
        let parent = decl.parent()?;
        let stmt = if decl.kind() == "var_spec" {
            ancestors(decl).find(|a| a.kind() == "var_declaration")?
        } else {
            decl
        };
        declares(stmt.parent().unwrap_or(parent), stmt, text, src)
    }

    /// Follows a local to the places it is stored.
    #[allow(clippy::too_many_arguments)]
    fn follow<'t>(
        pkg: &Package,
        file: &SourceFile,
        b: &Binding<'t>,
        walk: Walk<'t>,
        returns: bool,
        depth: usize,
        seen: &mut HashSet<usize>,
        out: &mut Vec<Sink<'t>>,
    ) {
        if matches!(b.kind, BindKind::Param) {
            return;
        }
        for u in uses(b, &file.text) {
            let next = Walk {
                at: u,
                origin: walk.origin,
                direct: walk.direct,
            };
            sinks_walk(pkg, file, next, returns, depth + 1, seen, out);
        }
    }

    /// What an assignment target is.
    enum Target<'t> {
        /// Outlives the function.
        Escapes(SinkKind),
        /// A local variable, whose own uses may store the value.
        Local(Binding<'t>),
        /// Blank, or a container local to the function.
        None,
    }

    fn classify_target<'t>(pkg: &Package, file: &SourceFile, target: Node<'t>) -> Target<'t> {
        let src: &str = &file.text;
        let target = unparen(target);
        match target.kind() {
            "identifier" => {
                let name = syntax::text(target, src);
                if name == "_" {
                    return Target::None;
                }
                match resolve(target, name, src) {
                    Some(b) if b.kind == BindKind::Param => Target::None,
                    Some(b) => Target::Local(b),
                    None if is_package_var(pkg, name) => Target::Escapes(SinkKind::Global),
                    None => Target::None,
                }
            }
            "selector_expression" | "index_expression" | "unary_expression" => {
                let kind = if target.kind() == "index_expression" {
                    SinkKind::Element
                } else {
                    SinkKind::Field
                };
                if target.kind() == "unary_expression" && operator(target, src) != "*" {
                    return Target::None;
                }
                let Some(root) = root_ident(target) else {
                    return Target::Escapes(kind);
                };
                // A qualified name of another package: `pkg.Var = v`.
                let root_name = syntax::text(root, src);
                match resolve(root, root_name, src) {
                    None if is_package_var(pkg, root_name) => Target::Escapes(kind),
                    None => {
                        if imports(file).iter().any(|(n, _)| n == root_name) {
                            Target::Escapes(SinkKind::Global)
                        } else {
                            Target::None
                        }
                    }
                    Some(b) if b.kind == BindKind::Param => Target::Escapes(kind),
                    Some(b) if local_value_container(&b, src) => Target::None,
                    Some(b) if local_new_object(&b, src) => Target::Local(b),
                    Some(_) => Target::Escapes(kind),
                }
            }
            _ => Target::None,
        }
    }

    /// Whether a local holds a container or struct value made in this function (a map,
    /// slice or struct literal, `make`, or a `var` of a non-pointer type), so writing
    /// into it does not outlive the function by itself.
    fn local_value_container(b: &Binding<'_>, src: &str) -> bool {
        if let Some(v) = b.value.map(unparen) {
            if b.multi {
                return false;
            }
            return match v.kind() {
                "composite_literal" => true,
                "call_expression" => syntax::callee(v, src) == Some("make"),
                _ => false,
            };
        }
        b.kind == BindKind::Var && b.ty.is_some_and(|t| t.kind() != "pointer_type")
    }

    /// Whether a local (the parent of a slice or substring) is itself stored where it
    /// outlives the call, so a part of it keeps nothing more alive.
    pub(crate) fn stored_itself(pkg: &Package, file: &SourceFile, parent: Node<'_>) -> bool {
        let parent = unparen(parent);
        let Some(b) = resolve_ident(parent, &file.text) else {
            return false;
        };
        uses(&b, &file.text).into_iter().any(|u| {
            sinks(pkg, file, u, true)
                .iter()
                .any(|s| s.value.id() == u.id())
        })
    }

    /// Whether a local points to an object made in this function (`&T{}`, `new(T)`), so a
    /// value written into it goes wherever the object goes.
    fn local_new_object(b: &Binding<'_>, src: &str) -> bool {
        if b.multi {
            return false;
        }
        b.value.map(unparen).is_some_and(|v| match v.kind() {
            "unary_expression" => {
                operator(v, src) == "&"
                    && v.child_by_field_name("operand")
                        .map(unparen)
                        .is_some_and(|o| o.kind() == "composite_literal")
            }
            "call_expression" => syntax::callee(v, src) == Some("new"),
            _ => false,
        })
    }

    /// Calls of a function or method (by name) in the package's program files, with the
    /// file each is in.
    pub(crate) fn callers<'p>(
        pkg: &'p Package,
        func: Node<'_>,
        src: &str,
    ) -> Vec<(&'p SourceFile, Node<'p>)> {
        let Some(name) = syntax::function_name(func, src) else {
            return Vec::new();
        };
        let method = func.kind() == "method_declaration";
        let mut out = Vec::new();
        for f in pkg.program_files() {
            for call in descendants(f.tree.root_node()).filter(|n| n.kind() == "call_expression") {
                let Some(callee) = call.child_by_field_name("function").map(unparen) else {
                    continue;
                };
                let hit = if method {
                    callee.kind() == "selector_expression"
                        && callee
                            .child_by_field_name("field")
                            .is_some_and(|fl| syntax::text(fl, &f.text) == name)
                } else {
                    callee.kind() == "identifier"
                        && syntax::text(callee, &f.text) == name
                        && resolve(callee, name, &f.text).is_none()
                };
                if hit {
                    out.push((f, call));
                }
            }
        }
        out
    }

    /// The position of a parameter among its function's parameters (receiver excluded).
    pub(crate) fn param_position(b: &Binding<'_>) -> Option<usize> {
        let list = b.decl.parent()?;
        let func = list.parent()?;
        if func.child_by_field_name("parameters").map(|p| p.id()) != Some(list.id()) {
            return None;
        }
        let mut pos = 0;
        for p in named(list) {
            let n = {
                let mut c = p.walk();
                let count = p.children_by_field_name("name", &mut c).count();
                count.max(1)
            };
            if p.id() == b.decl.id() {
                return Some(pos + b.index);
            }
            pos += n;
        }
        None
    }

    /// Test support: writes `go.mod` (module `example.com/app`, `go` version as given)
    /// and the files to a temporary directory and runs `go build ./...` there without
    /// network or toolchain downloads. Without `go` on PATH, says so and returns.
    #[cfg(test)]
    pub(crate) fn assert_go_builds(go_version: &str, files: &[(&str, &str)]) {
        use std::process::Command;
        if Command::new("go").arg("version").output().is_err() {
            eprintln!("note: go is not installed; skipping the compile check of the fixed file");
            return;
        }
        let dir = crate::source::fixture::TempDir::new("gobuild");
        let module = format!("module example.com/app\n\ngo {go_version}\n");
        std::fs::write(dir.path.join("go.mod"), module).expect("write go.mod");
        for (name, text) in files {
            let path = dir.path.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create dir");
            }
            std::fs::write(&path, text).expect("write file");
        }
        let out = Command::new("go")
            .args(["build", "./..."])
            .current_dir(&dir.path)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .output()
            .expect("run go build");
        assert!(
            out.status.success(),
            "go build failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            files
                .iter()
                .map(|(n, t)| format!("-- {n} --\n{t}"))
                .collect::<String>()
        );
    }
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
                store.go:34 subslice-retains-backing-array [lastTag] a sub-slice of buffer "body" (from io.ReadAll) is assigned to package-level slice "lastTag" in Keep, which keeps the whole backing array alive
                  declared store.go:20
                  related store.go:32 buffer "body" is allocated here
                  evidence store.go:32 store.go:34
                  fix: Store a copy: bytes.Clone(h)
                store.go:42 subslice-retains-backing-array [recent] a sub-slice of buffer "buf" (from an array declaration) is appended to package-level slice "recent" in Remember, which keeps the whole backing array alive
                  declared store.go:19
                  related store.go:39 buffer "buf" is allocated here
                  evidence store.go:39 store.go:42
                  fix: Store a copy: bytes.Clone(buf[:n])
                store.go:48 subslice-retains-backing-array [c.last] a sub-slice of buffer "raw" (from io.ReadAll) is assigned to "c.last" in Cache.Observe, which keeps the whole backing array alive
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:48
                  fix: Store a copy: bytes.Clone(raw[8:])
                store.go:49 subslice-retains-backing-array [c.byName] a sub-slice of buffer "raw" (from io.ReadAll) is stored in "c.byName" in Cache.Observe, which keeps the whole backing array alive
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:49
                  fix: Store a copy: bytes.Clone(raw[:8])
                store.go:50 subslice-retains-backing-array [tags] a sub-slice of buffer "raw" (from io.ReadAll) is sent on channel "tags" in Cache.Observe, which keeps the whole backing array alive
                  declared store.go:21
                  related store.go:47 buffer "raw" is allocated here
                  evidence store.go:47 store.go:50
                  fix: Store a copy: bytes.Clone(raw[:4])
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
