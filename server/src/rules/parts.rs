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
//!
//! The walk crosses into the other packages of the workspace: down into what a call of
//! another package's function returns (`analysis.Preview(body, n)` returning
//! `text[:cut]`), and up from a parameter of an exported function to its callers in the
//! packages that call it. Those packages are loaded on demand ([`reachable_packages`]):
//! a first walk names the packages it would enter, they are loaded, and the walk runs
//! again, up to [`MAX_PACKAGE_ROUNDS`] times.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use tree_sitter::Node;

use super::flow::{self, BindKind, Sink, SinkKind, Target};
use super::syntax::{self, ancestors};
use super::{Context, Package, SourceFile};

/// How many steps (locals, fields, calls) a stored value is followed back.
const MAX_STEPS: usize = 9;

/// How many workspace packages the walk searches for writes of an exported field of an
/// evident struct type.
const MAX_FIELD_PACKAGES: usize = 64;

/// How many times the walk loads the packages it reached and runs again.
const MAX_PACKAGE_ROUNDS: usize = 3;

/// A store into a long-lived container and the slice expression its value may be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DistantCut<'p> {
    /// The file of the store (in the checked package).
    pub store_file: &'p SourceFile,
    /// The store; `sink.value` is the stored expression (a field of a stored literal,
    /// an appended element, a map key or value).
    pub sink: Sink<'p>,
    /// The package and file of the cut: the checked package or another one of the
    /// workspace.
    pub cut_pkg: &'p Package,
    pub cut_file: &'p SourceFile,
    /// The slice expression, or the `strings`/`bytes` `Cut` call, in another function
    /// than the store.
    pub slice: Node<'p>,
    /// The call through which the walk entered the cut's function from the store's
    /// side (its result was followed to the cut), when it did: the cut's parameters are
    /// that call's arguments on this path.
    pub via: Call<'p>,
    /// The last call the walk went up through (from a parameter to a caller's
    /// argument): when the cut is in that call's function and no call was entered since,
    /// the cut leaves its function at this call.
    pub up: Call<'p>,
    /// The cut's function was entered by calling a callback (a function literal passed
    /// by `via`), in which `up` hands the part on.
    pub callback: bool,
}

/// The other workspace packages the backward walk from the checked package's stores
/// enters: packages whose functions' results are stored, packages whose callers pass
/// what is stored. Each is loaded once (through the context's cache).
pub(crate) fn reachable_packages(cx: &Context<'_>) -> Vec<Arc<Package>> {
    let mut loaded: Vec<Arc<Package>> = Vec::new();
    let mut tried: HashSet<String> = HashSet::new();
    for _ in 0..MAX_PACKAGE_ROUNDS {
        let wanted = walk(cx, &loaded).1;
        let mut grew = false;
        for path in wanted {
            if tried.insert(path.clone()) {
                if let Some(p) = cx.other_package(&path) {
                    loaded.push(p);
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    loaded
}

/// Every store of the package's program files into a long-lived container whose value
/// may be a slice expression cut in another function, of this package or of one of
/// `others` (from [`reachable_packages`]). Stores that run once (in `init`, at
/// start-up) are left out, as the forward walk leaves them out.
pub(crate) fn distant_cuts<'p>(
    cx: &'p Context<'_>,
    others: &'p [Arc<Package>],
) -> Vec<DistantCut<'p>> {
    walk(cx, others).0
}

/// The backward walk from every store of the checked package, through it and `others`;
/// also the import paths of the workspace packages it would have entered.
fn walk<'p>(
    cx: &'p Context<'_>,
    others: &'p [Arc<Package>],
) -> (Vec<DistantCut<'p>>, BTreeSet<String>) {
    let pkg: &'p Package = cx;
    let mut pkgs: Vec<&'p Package> = vec![pkg];
    pkgs.extend(others.iter().map(|a| &**a));
    let mut out = Vec::new();
    let mut back = Back {
        cx,
        pkgs,
        seen: HashSet::new(),
        cuts: Vec::new(),
        wanted: BTreeSet::new(),
        written: HashSet::new(),
    };
    for file in pkg.program_files() {
        for sink in stores(pkg, file) {
            back.seen.clear();
            back.written.clear();
            back.value(file, sink.value, None, (None, None, false), 0);
            let store_fn = function_of(sink.stmt);
            for (cut_file, slice, (via, up, callback)) in std::mem::take(&mut back.cuts) {
                if store_fn.is_some() && function_of(slice) == store_fn {
                    // Within one function the forward walk reports it.
                    continue;
                }
                out.push(DistantCut {
                    store_file: file,
                    sink,
                    cut_pkg: back.pkg_of(cut_file),
                    cut_file,
                    slice,
                    via,
                    up,
                    callback,
                });
            }
        }
    }
    (out, back.wanted)
}

/// For a parameter of a struct type of the package (not a pointer) whose function
/// assigns some of its fields (`m.Payload = bytes.Clone(m.Payload)`): the fields it
/// keeps from the caller and the values assigned to the others; `None` when it assigns
/// none or the type is not evident.
fn replaced_fields<'t>(
    pkg: &Package,
    b: &flow::Binding<'t>,
    src: &str,
) -> Option<(Vec<String>, Vec<Node<'t>>)> {
    let st = flow::struct_type(pkg, b.ty.map(|t| syntax::text(t, src))?)?;
    let (assigned, values): (Vec<&str>, Vec<Node<'t>>) = field_assignments(b, src).unzip();
    if assigned.is_empty() {
        return None;
    }
    let kept = st
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|n| !assigned.contains(&n.as_str()))
        .collect();
    Some((kept, values))
}

/// The assignments `x.f = v` to fields of the local or parameter `b` in its function:
/// (field name, value).
fn field_assignments<'t, 's>(
    b: &flow::Binding<'t>,
    src: &'s str,
) -> impl Iterator<Item = (&'s str, Node<'t>)> {
    flow::uses(b, src).into_iter().filter_map(move |u| {
        let sel = u.parent().filter(|p| {
            p.kind() == "selector_expression"
                && p.child_by_field_name("operand")
                    .is_some_and(|o| o.id() == u.id())
        })?;
        let stmt = sel
            .parent()
            .filter(|l| l.kind() == "expression_list")
            .and_then(|l| l.parent())
            .filter(|s| s.kind() == "assignment_statement" && flow::operator(*s, src) == "=")?;
        let left = flow::items(stmt.child_by_field_name("left"));
        let right = flow::items(stmt.child_by_field_name("right"));
        let i = left.iter().position(|n| n.id() == sel.id())?;
        let (Some(v), false) = flow::pair(&left, &right, i) else {
            return None;
        };
        let f = sel.child_by_field_name("field")?;
        Some((syntax::text(f, src), v))
    })
}

/// The package among `pkgs` a file belongs to (the first, the checked package, when
/// none).
fn package_of<'p>(pkgs: &[&'p Package], file: &SourceFile) -> &'p Package {
    pkgs.iter()
        .copied()
        .find(|p| p.files.iter().any(|f| std::ptr::eq(f, file)))
        .unwrap_or(pkgs[0])
}

/// Whether the `index`-th result of `call` is a part of its first argument:
/// `strings.Cut`/`bytes.Cut` (before, after), `CutPrefix`/`CutSuffix` (the rest).
fn is_cut_call(file: &SourceFile, call: Node<'_>, index: usize) -> bool {
    call.kind() == "call_expression"
        && match flow::FileCtx::new(file).qualified(call) {
            Some(("strings" | "bytes", "Cut")) => index < 2,
            Some(("strings" | "bytes", "CutPrefix" | "CutSuffix")) => index == 0,
            _ => false,
        }
}

/// For `f[i]` where `f := strings.Split(s, sep)` (or `bytes.Split`, `Fields`,
/// `SplitN`, `SplitAfter`): the split call, whose elements are parts of `s`.
fn split_of<'t>(file: &SourceFile, index: Node<'t>) -> Option<Node<'t>> {
    let src: &str = &file.text;
    let operand = flow::unparen(index.child_by_field_name("operand")?);
    if operand.kind() != "identifier" {
        return None;
    }
    let b = flow::resolve_ident(operand, src)?;
    if b.multi || !matches!(b.kind, BindKind::ShortVar | BindKind::Var) {
        return None;
    }
    let call = flow::unparen(b.value?);
    let splits = flow::FileCtx::new(file)
        .qualified(call)
        .is_some_and(|(p, f)| {
            matches!(p, "strings" | "bytes") && flow::split_kind(f) == Some(false)
        });
    (call.kind() == "call_expression" && splits).then_some(call)
}

impl<'p> DistantCut<'p> {
    /// The call that cuts the part, when it is not a slice expression: the `Cut` call,
    /// or the `Split` call of an indexed element.
    fn cutting_call(&self) -> Option<Node<'p>> {
        match self.slice.kind() {
            "call_expression" => Some(self.slice),
            "index_expression" => split_of(self.cut_file, self.slice),
            _ => None,
        }
    }

    /// The value the part is cut from: the operand of the slice expression, or the first
    /// argument of the `Cut` or `Split` call.
    pub(crate) fn parent(&self) -> Option<Node<'p>> {
        match self.cutting_call() {
            None => self.slice.child_by_field_name("operand"),
            Some(call) => syntax::call_args(call).first().copied(),
        }
        .map(flow::unparen)
    }

    /// Whether the part is cut by a `Cut` or `Split` call of the package `path`
    /// (`strings`, `bytes`) rather than by a slice expression.
    pub(crate) fn is_cut_call_of(&self, path: &str) -> bool {
        self.cutting_call().is_some_and(|c| {
            flow::FileCtx::new(self.cut_file)
                .qualified(c)
                .is_some_and(|(p, _)| p == path)
        })
    }
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
pub(crate) fn stored_parts<'t>(value: Node<'t>, src: &str) -> Vec<Node<'t>> {
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

/// The values a file writes to fields named `field`: `x.field = v` and `T{field: v}`;
/// with a struct type `ty`, not into literals of another type or through a local of
/// another evident type; without one, only into objects of no evident type.
fn writes_of_field<'t>(file: &'t SourceFile, field: &str, ty: Option<&str>) -> Vec<Node<'t>> {
    let src: &str = &file.text;
    // Without the reader's type, a write into a struct of an evident type is a guess
    // about another struct with a field of that name: only untyped writes count.
    let other_type = |t: Option<String>| match (ty, t) {
        (Some(a), Some(b)) => a != b,
        (None, Some(_)) => true,
        _ => false,
    };
    let mut out = Vec::new();
    for n in syntax::descendants(file.tree.root_node()) {
        match n.kind() {
            "keyed_element" => {
                let key = n.child_by_field_name("key");
                // The literal's type; for an element literal with the type elided
                // (`[]T{{...}}`), the element type of the enclosing literal.
                let lit_type = ancestors(n)
                    .take_while(|a| {
                        matches!(
                            a.kind(),
                            "literal_value" | "literal_element" | "composite_literal"
                        )
                    })
                    .find(|a| a.kind() == "composite_literal")
                    .and_then(|l| l.child_by_field_name("type"))
                    .and_then(|t| type_name(syntax::text(t, src)));
                if key.is_some_and(|k| syntax::text(k, src).trim() == field)
                    && !other_type(lit_type)
                {
                    if let Some(v) = n.child_by_field_name("value") {
                        out.extend(flow::named(v).into_iter().next().or(Some(v)));
                    }
                }
            }
            "assignment_statement" if flow::operator(n, src) == "=" => {
                let left = flow::items(n.child_by_field_name("left"));
                let right = flow::items(n.child_by_field_name("right"));
                for (i, l) in left.iter().enumerate() {
                    let l = flow::unparen(*l);
                    let operand_type = l
                        .child_by_field_name("operand")
                        .map(flow::unparen)
                        .and_then(|o| flow::resolve_ident(o, src))
                        .and_then(|b| declared_type(&b, src));
                    if l.kind() == "selector_expression"
                        && l.child_by_field_name("field")
                            .is_some_and(|f| syntax::text(f, src) == field)
                        && !other_type(operand_type)
                    {
                        if let (Some(v), false) = flow::pair(&left, &right, i) {
                            out.push(v);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The struct type name a type expression names: `Sample` for `*parse.Sample`, `T`,
/// `[]*T` (the element); `None` for anything else (maps, funcs, generics).
fn type_name(t: &str) -> Option<String> {
    let t = t.trim();
    let t = t
        .rsplit(']')
        .next()
        .unwrap_or(t)
        .trim()
        .trim_start_matches('*');
    let t = t.rsplit('.').next().unwrap_or(t).trim();
    (!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')).then(|| t.to_string())
}

/// The struct type of a local, when evident: its declared type or its `T{...}`/`&T{...}`
/// initializer.
pub(crate) fn declared_type(b: &flow::Binding<'_>, src: &str) -> Option<String> {
    if let Some(t) = b.ty {
        return type_name(syntax::text(t, src));
    }
    if b.multi || b.kind != BindKind::ShortVar && b.kind != BindKind::Var {
        return None;
    }
    let v = flow::unparen(b.value?);
    let lit = match v.kind() {
        "unary_expression" => flow::unparen(v.child_by_field_name("operand")?),
        _ => v,
    };
    (lit.kind() == "composite_literal")
        .then(|| lit.child_by_field_name("type"))
        .flatten()
        .and_then(|t| type_name(syntax::text(t, src)))
}

/// The struct type a call returns, when its declaration says (`*Frame` for
/// `wire.Read(b)`, the element type for a slice result): a function of the file's
/// package, `pkg.F` of one of `pkgs`, or the only method of that name in the file's
/// package. The first result of several.
fn call_result_type<'p>(
    pkgs: &[&'p Package],
    file: &'p SourceFile,
    call: Node<'p>,
) -> Option<String> {
    let call = flow::unparen(call);
    if call.kind() != "call_expression" {
        return None;
    }
    decls_result_type(&callee_decls(pkgs, file, call).ok()?)
}

/// The struct type the one declaration a call may run returns ([`call_result_type`]).
fn decls_result_type(decls: &[(&SourceFile, Node<'_>)]) -> Option<String> {
    let [(df, decl)] = decls else {
        return None;
    };
    let result = decl.child_by_field_name("result")?;
    let first = if result.kind() == "parameter_list" {
        let p = flow::named(result).into_iter().next()?;
        p.child_by_field_name("type")?
    } else {
        result
    };
    type_name(syntax::text(first, &df.text))
}

/// The declarations a call may run: a function of the call's package, `pkg.F` of one of
/// `pkgs`, or the methods of that name in the call's package. `Err` with the import path
/// of a `pkg.F` whose package is not among `pkgs`.
fn callee_decls<'p>(
    pkgs: &[&'p Package],
    file: &'p SourceFile,
    call: Node<'p>,
) -> Result<Vec<(&'p SourceFile, Node<'p>)>, String> {
    let src: &str = &file.text;
    let Some(callee) = call.child_by_field_name("function").map(flow::unparen) else {
        return Ok(Vec::new());
    };
    let own = package_of(pkgs, file);
    Ok(match callee.kind() {
        "identifier" => {
            let name = syntax::text(callee, src);
            if flow::resolve_ident(callee, src).is_some() {
                return Ok(Vec::new());
            }
            flow::package_function(own, name).into_iter().collect()
        }
        "selector_expression" => match flow::FileCtx::new(file).qualified(call) {
            // `pkg.F(...)` of another workspace package.
            Some((path, name)) => match pkgs.iter().find(|p| p.import_path == path) {
                Some(p) => flow::package_function(p, name).into_iter().collect(),
                None => return Err(path.to_string()),
            },
            None => callee
                .child_by_field_name("field")
                .map(|f| flow::package_methods(own, syntax::text(f, src)))
                .unwrap_or_default(),
        },
        _ => Vec::new(),
    })
}

/// The element type of a range variable's container, when evident: a local or parameter
/// declared `[]T` (or `map[K]T`), or a field declared so in the package's structs.
fn element_type(pkg: &Package, b: &flow::Binding<'_>, src: &str) -> Option<String> {
    if b.index != 1 {
        return None;
    }
    let range = flow::unparen(b.value?);
    let ty = match range.kind() {
        "identifier" => {
            let rb = flow::resolve_ident(range, src)?;
            syntax::text(rb.ty?, src).to_string()
        }
        "selector_expression" => {
            flow::field_type_text(pkg, syntax::text(range.child_by_field_name("field")?, src))?
        }
        _ => return None,
    };
    (ty.starts_with("[]") || ty.starts_with("map[")).then(|| type_name(&ty))?
}

/// The backward walk.
struct Back<'p, 'c> {
    cx: &'p Context<'c>,
    /// The checked package first, then the other packages loaded for the walk.
    pkgs: Vec<&'p Package>,
    /// (node id, field) pairs already followed.
    seen: HashSet<(usize, Option<String>)>,
    cuts: Vec<(&'p SourceFile, Node<'p>, Path<'p>)>,
    /// Import paths of workspace packages the walk would enter but that are not loaded.
    wanted: BTreeSet<String>,
    /// (package, field) pairs whose writes were followed ([`Back::field_writes`]).
    written: HashSet<(String, String)>,
}

/// A call and its package and file.
pub(crate) type Call<'p> = Option<(&'p Package, &'p SourceFile, Node<'p>)>;

/// The call a walk entered the current function through, the last call it went up
/// through, if any, and whether it entered through a call of a callback it was passed
/// (the entry call then passed the callback, and the up call is in that callback).
type Path<'p> = (Call<'p>, Call<'p>, bool);

impl<'p> Back<'p, '_> {
    fn pkg_of(&self, file: &SourceFile) -> &'p Package {
        package_of(&self.pkgs, file)
    }

    /// A loaded package by import path; remembers it as wanted when it is not loaded.
    fn package(&mut self, path: &str) -> Option<&'p Package> {
        let found = self.pkgs.iter().copied().find(|p| p.import_path == path);
        if found.is_none() {
            self.wanted.insert(path.to_string());
        }
        found
    }

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
            ("index_expression", None) if split_of(file, expr).is_some() => {
                // `f[3]` of `f := strings.Split(line, "\t")`: a part of `line`.
                self.cuts.push((file, expr, via));
            }
            ("index_expression", Some(_)) => {
                // A field of an element: what the container's elements hold.
                if let Some(o) = expr.child_by_field_name("operand") {
                    self.value(file, o, field, via, steps + 1);
                }
            }
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
            ("selector_expression", Some(f)) => {
                // A field of a field (`c.Result.Summary`): the walk keeps one level, so
                // what is written to the inner field anywhere, of the outer field's
                // declared type when the package says it.
                let ty = expr
                    .child_by_field_name("field")
                    .and_then(|o| self.field_type(file, syntax::text(o, src)));
                self.field_writes(file, f, ty.as_deref(), steps);
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
            ("composite_literal", Some(f)) => match keyed_value(expr, f, src) {
                Some(v) => self.value(file, v, None, via, steps + 1),
                // Set after the literal was made (`x := &T{}; ...; x.f = v` elsewhere).
                None => {
                    let ty = expr
                        .child_by_field_name("type")
                        .and_then(|t| type_name(syntax::text(t, src)));
                    self.field_writes(file, f, ty.as_deref(), steps)
                }
            },
            ("unary_expression", Some(f)) if flow::operator(expr, src) == "<-" => {
                // Received from a channel: what is written to the field anywhere.
                self.field_writes(file, f, None, steps);
            }
            ("unary_expression", Some(_)) if flow::operator(expr, src) == "&" => {
                // `&T{...}` is the literal: no step of its own.
                if let Some(o) = expr.child_by_field_name("operand") {
                    self.value(file, o, field, via, steps);
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
                // A parameter reassigned in its function (`text = text[i+1:]`).
                for v in flow::assignments(&b, usize::MAX, src) {
                    self.value(file, v, field, via, steps + 1);
                }
                let Some(pos) = flow::param_position(&b) else {
                    return;
                };
                let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
                    return;
                };
                if func.kind() == "func_literal" {
                    self.callback_param(file, func, pos, field, via, steps);
                    if let Some(f) = field {
                        let ty = b.ty.and_then(|t| type_name(syntax::text(t, src)));
                        self.field_writes(file, f, ty.as_deref(), steps);
                    }
                    return;
                }
                let own = self.pkg_of(file);
                let mut calls: Vec<(&'p Package, &'p SourceFile, Node<'p>)> =
                    flow::callers(own, func, src)
                        .into_iter()
                        .map(|(cf, call)| (own, cf, call))
                        .collect();
                // An exported function's callers in the other packages.
                if let Some(name) = syntax::function_name(func, src)
                    .filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
                {
                    let method = func.kind() == "method_declaration";
                    for path in self.cx.packages_calling_outside(name, &own.import_path) {
                        if let Some(p) = self.package(&path) {
                            for (cf, call) in flow::calls_into(p, &own.import_path, name, method) {
                                calls.push((p, cf, call));
                            }
                        }
                    }
                }
                if calls.is_empty() {
                    // Called through an interface or a func value: what is written to
                    // the field of the parameter's type anywhere.
                    if let Some(f) = field {
                        let ty = b.ty.and_then(|t| type_name(syntax::text(t, src)));
                        self.field_writes(file, f, ty.as_deref(), steps);
                    }
                }
                // A struct stored whole after some of its fields were replaced (`m.Payload
                // = bytes.Clone(m.Payload)`): those fields hold the new values, the others
                // what the callers passed.
                let replaced = match field {
                    None => replaced_fields(self.pkg_of(file), &b, src),
                    Some(_) => None,
                };
                if let Some((fields, values)) = &replaced {
                    for v in values {
                        self.value(file, *v, None, via, steps + 1);
                    }
                    if fields.is_empty() {
                        return;
                    }
                }
                for (cp, cf, call) in calls {
                    if let Some(arg) = syntax::call_args(call).get(pos).copied() {
                        if arg.kind() != "variadic_argument" {
                            // Up to the callers: no entry call there.
                            let up = (None, Some((cp, cf, call)), false);
                            match &replaced {
                                Some((fields, _)) => {
                                    for f in fields {
                                        self.value(cf, arg, Some(f), up, steps + 1);
                                    }
                                }
                                None => self.value(cf, arg, field, up, steps + 1),
                            }
                        }
                    }
                }
            }
            BindKind::Range | BindKind::Receive | BindKind::TypeSwitch => {
                // An element of a container or a received value: what is written to the
                // field anywhere.
                if let Some(f) = field {
                    let ty = match b.kind {
                        BindKind::Range => element_type(self.pkg_of(file), &b, src).or_else(|| {
                            // `for _, f := range parse.Parse(b)`: the slice the call returns;
                            // also through a local (`recs, err := protocol.SplitBatch(p)`).
                            let v = (b.index == 1).then_some(b.value).flatten()?;
                            let call = match flow::unparen(v).kind() {
                                "identifier" => {
                                    let l = flow::resolve_ident(flow::unparen(v), src)?;
                                    l.value.filter(|_| l.index == 0)?
                                }
                                _ => v,
                            };
                            self.result_type(file, call)
                        }),
                        _ => None,
                    };
                    self.field_writes(file, f, ty.as_deref(), steps);
                }
            }
            BindKind::ShortVar | BindKind::Var => {
                if let Some(v) = b.value {
                    if b.multi && field.is_none() && is_cut_call(file, flow::unparen(v), b.index) {
                        // `line, rest, _ := strings.Cut(body, "\n")`: a part of `body`.
                        self.cuts.push((file, flow::unparen(v), via));
                    } else if b.multi {
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
                    for (_, v) in field_assignments(&b, src).filter(|(n, _)| *n == f) {
                        self.value(file, v, None, via, steps + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// The values written to a field named `field` where the walk cannot follow the
    /// object it is read from (a range element, a received value, an object filled after
    /// its literal): `x.field = v` and `T{field: v}` ([`writes_of_field`]). With the
    /// object's struct type `ty`, in the package of `file` and, for an exported field, in
    /// every workspace package (up to [`MAX_FIELD_PACKAGES`]); without it, only in the
    /// package of `file` and only into objects of no evident type.
    fn field_writes(&mut self, file: &'p SourceFile, field: &str, ty: Option<&str>, steps: usize) {
        if steps >= MAX_STEPS {
            return;
        }
        let mut pkgs = vec![self.pkg_of(file)];
        if field.starts_with(|c: char| c.is_ascii_uppercase()) {
            // An exported field of an evident struct type may be filled by any package
            // that uses the type (a decoder filling `event.Event`); without a type, a
            // field name alone (`ID`) says too little to look beyond the package.
            let paths: Vec<String> = if ty.is_some() {
                self.cx.workspace_packages(MAX_FIELD_PACKAGES)
            } else {
                Vec::new()
            };
            for path in paths {
                if path != pkgs[0].import_path {
                    pkgs.extend(self.package(&path));
                }
            }
        }
        for p in pkgs {
            let key = format!("{field} {}", ty.unwrap_or(""));
            if !self.written.insert((p.import_path.clone(), key)) {
                continue;
            }
            for f in p.program_files() {
                for v in writes_of_field(f, field, ty) {
                    self.value(f, v, None, (None, None, false), steps + 1);
                }
            }
        }
    }

    /// [`call_result_type`], remembering the package of a `pkg.F` not loaded yet.
    fn result_type(&mut self, file: &'p SourceFile, call: Node<'p>) -> Option<String> {
        let call = flow::unparen(call);
        if call.kind() != "call_expression" {
            return None;
        }
        match callee_decls(&self.pkgs, file, call) {
            Ok(decls) => decls_result_type(&decls),
            Err(path) => {
                self.package(&path);
                None
            }
        }
    }

    /// The struct type a field named `field` is declared with, in the package of `file`
    /// or else in the workspace packages it imports (`Result` for `c.Result` of a
    /// `scheduler.Completion`).
    fn field_type(&mut self, file: &'p SourceFile, field: &str) -> Option<String> {
        if let Some(t) = flow::field_type_text(self.pkg_of(file), field) {
            return type_name(&t);
        }
        for (_, path) in flow::imports(file) {
            if self.cx.workspace_has(&path) {
                if let Some(t) = self
                    .package(&path)
                    .and_then(|p| flow::field_type_text(p, field))
                {
                    return type_name(&t);
                }
            }
        }
        None
    }

    /// The declarations a call may run: a function of the call's package, `pkg.F` of
    /// another workspace package (wanted when not loaded), or the methods of that name in
    /// the call's package.
    fn callees(&mut self, file: &'p SourceFile, call: Node<'p>) -> Vec<(&'p SourceFile, Node<'p>)> {
        callee_decls(&self.pkgs, file, call).unwrap_or_else(|path| {
            self.wanted.insert(path);
            Vec::new()
        })
    }

    /// A parameter at `pos` of a function literal passed as an argument of a call
    /// (`wire.Each(body, func(line string) {...})`): what the callee passes when it calls
    /// that argument (`bad(line, err)`). The callee is entered through that call.
    fn callback_param(
        &mut self,
        file: &'p SourceFile,
        lit: Node<'p>,
        pos: usize,
        field: Option<&str>,
        via: Path<'p>,
        steps: usize,
    ) {
        let Some(call) = lit
            .parent()
            .filter(|a| a.kind() == "argument_list")
            .and_then(|a| a.parent())
            .filter(|c| c.kind() == "call_expression")
        else {
            return;
        };
        let Some(k) = syntax::call_args(call)
            .iter()
            .position(|a| a.id() == lit.id())
        else {
            return;
        };
        let own = self.pkg_of(file);
        for (df, decl) in self.callees(file, call) {
            let dsrc: &str = &df.text;
            let Some(body) = decl.child_by_field_name("body") else {
                continue;
            };
            for inner in syntax::descendants_of_kind(body, "call_expression") {
                let Some(fun) = inner.child_by_field_name("function").map(flow::unparen) else {
                    continue;
                };
                let called_param = fun.kind() == "identifier"
                    && flow::resolve_ident(fun, dsrc).is_some_and(|b| {
                        flow::param_position(&b) == Some(k)
                            && b.decl
                                .parent()
                                .and_then(|l| l.parent())
                                .is_some_and(|f| f.id() == decl.id())
                    });
                if !called_param {
                    continue;
                }
                if let Some(arg) = syntax::call_args(inner).get(pos).copied() {
                    if arg.kind() != "variadic_argument" {
                        self.value(
                            df,
                            arg,
                            field,
                            (Some((own, file, call)), via.1, true),
                            steps + 1,
                        );
                    }
                }
            }
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
        let own = self.pkg_of(file);
        let decls = self.callees(file, call);
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
                    self.value(
                        df,
                        v,
                        field,
                        (Some((own, file, call)), None, false),
                        steps + 1,
                    );
                }
            }
        }
    }
}

/// The values written to the field of a selector `x.f` whose origin the walk cannot
/// see, with their package and file: `x.f = v` and `T{f: v}` in the package of `file` and,
/// for an exported field, in the packages of `others` that `file` imports; filtered by the
/// struct type of `x` when it is evident (see [`Back::field_writes`]).
pub(crate) fn field_sources<'p>(
    pkg: &'p Package,
    others: &'p [Arc<Package>],
    file: &'p SourceFile,
    sel: Node<'p>,
) -> Vec<(&'p Package, &'p SourceFile, Node<'p>)> {
    let src: &str = &file.text;
    let sel = flow::unparen(sel);
    let (Some(operand), Some(field)) = (
        sel.child_by_field_name("operand").map(flow::unparen),
        sel.child_by_field_name("field"),
    ) else {
        return Vec::new();
    };
    if sel.kind() != "selector_expression" || operand.kind() != "identifier" {
        return Vec::new();
    }
    let field = syntax::text(field, src);
    let mut pkgs: Vec<&Package> = std::iter::once(pkg)
        .chain(others.iter().map(|a| &**a))
        .collect();
    let ty = flow::resolve_ident(operand, src).and_then(|b| {
        declared_type(&b, src).or_else(|| {
            // `f := wire.Read(b)`: the type the call returns.
            (b.kind == BindKind::ShortVar && (!b.multi || b.index == 0))
                .then_some(b.value)
                .flatten()
                .and_then(|v| call_result_type(&pkgs, file, v))
        })
    });
    let own = package_of(&pkgs, file);
    let imported: Vec<String> = flow::imports(file).into_iter().map(|(_, p)| p).collect();
    pkgs.retain(|p| {
        std::ptr::eq(*p, own)
            || field.starts_with(|c: char| c.is_ascii_uppercase())
                && imported.contains(&p.import_path)
    });
    let mut out = Vec::new();
    for p in pkgs {
        for f in p.program_files() {
            for v in writes_of_field(f, field, ty.as_deref()) {
                out.push((p, f, v));
            }
        }
    }
    out
}

/// Whether a cut is assigned back to the variable it cuts (`text = text[i+1:]`): the
/// variable's later uses are the part, not the parent.
pub(crate) fn reassigns_its_operand(file: &SourceFile, cut: Node<'_>, operand: Node<'_>) -> bool {
    let src: &str = &file.text;
    let Some(stmt) = cut
        .parent()
        .filter(|l| l.kind() == "expression_list")
        .and_then(|l| l.parent())
        .filter(|s| s.kind() == "assignment_statement")
    else {
        return false;
    };
    let left = flow::items(stmt.child_by_field_name("left"));
    let right = flow::items(stmt.child_by_field_name("right"));
    right
        .iter()
        .position(|r| r.id() == cut.id())
        .and_then(|i| left.get(i))
        .is_some_and(|l| {
            l.kind() == "identifier" && syntax::text(*l, src) == syntax::text(operand, src)
        })
}

/// The arguments the callers in the package pass for a parameter, with their files;
/// `None` for a caller that passes none there or spreads a slice (`f(xs...)`).
pub(crate) fn caller_arguments<'p>(
    pkg: &'p Package,
    file: &SourceFile,
    param: Node<'_>,
) -> Vec<(&'p SourceFile, Option<Node<'p>>)> {
    let src: &str = &file.text;
    let Some(b) = flow::resolve_ident(flow::unparen(param), src) else {
        return Vec::new();
    };
    let (Some(pos), Some(func)) = (
        flow::param_position(&b).filter(|_| b.kind == BindKind::Param),
        b.decl.parent().and_then(|l| l.parent()),
    ) else {
        return Vec::new();
    };
    flow::callers(pkg, func, src)
        .into_iter()
        .map(|(cf, call)| {
            let arg = syntax::call_args(call)
                .get(pos)
                .copied()
                .map(flow::unparen)
                .filter(|a| a.kind() != "variadic_argument");
            (cf, arg)
        })
        .collect()
}

/// Whether the parent of a cut is a parameter that every caller in the package passes as
/// a local it stores itself: the parent is kept anyway, so the part pins nothing more.
pub(crate) fn kept_by_callers(pkg: &Package, file: &SourceFile, parent: Node<'_>) -> bool {
    let args = caller_arguments(pkg, file, parent);
    !args.is_empty()
        && args.iter().all(|(cf, a)| {
            a.is_some_and(|a| a.kind() == "identifier" && flow::stored_itself(pkg, cf, a))
        })
}

/// The argument the path of a distant cut passed for the cut's parent, when the parent is
/// a parameter of the function the walk entered through a call: the parent's origin on
/// this path is that argument's, not every caller's.
pub(crate) fn entry_argument<'p>(
    d: &DistantCut<'p>,
    parent: Node<'p>,
) -> Option<(&'p Package, &'p SourceFile, Node<'p>)> {
    let (vp, vf, call) = d.via?;
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
    (arg.kind() != "variadic_argument").then_some((vp, vf, arg))
}

/// For a distant cut the walk reached by going up from the store's function to callers,
/// with the cut in the function of the last such call: that call statement, where the
/// part leaves its function (the place to copy it).
pub(crate) fn passing_call<'p>(d: &DistantCut<'p>) -> Option<(&'p SourceFile, Node<'p>)> {
    if d.callback {
        // Handed to a callback that passes it on to the store: reported in the callback.
        let (_, f, call) = d.up?;
        return Some((f, syntax::statement_of(call)));
    }
    if d.via.is_some() {
        return None;
    }
    let (_, f, call) = d.up?;
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
            m.also_at(
                c,
                &format!("the {noun} cut here is kept"),
                format!("the {noun} is kept here"),
            )
        });
    // Several cuts of one value stored once (`text = text[i+1:]`, later
    // `text = text[:n]`) make one finding at the store, and so do several stores of one
    // part put in a literal on one line.
    let same = |o: &super::Match| o.rule == m.rule && line(&o.location) == line(&m.location);
    if !out.iter().any(same) {
        out.push(m);
    }
    out.extend(at_cut);
}
