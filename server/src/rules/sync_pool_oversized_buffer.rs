//! `sync-pool-oversized-buffer`: growable buffers (`*bytes.Buffer`, `*strings.Builder`,
//! `[]byte` that is appended to) are put back into a `sync.Pool` without a size check, so
//! after one burst of large payloads the pool keeps buffers at their peak capacity.

use tree_sitter::Node;

use super::flow::{self, FileCtx};
use super::syntax;
use super::{Context, EvidenceKind, Location, Match, Package, Rule, RuleMeta, SourceFile};

/// The `sync-pool-oversized-buffer` rule.
#[derive(Debug)]
pub struct SyncPoolOversizedBuffer;

static META: RuleMeta = RuleMeta {
    id: "sync-pool-oversized-buffer",
    name: "sync.Pool keeps oversized buffers",
    summary: "Buffers put back into a sync.Pool without a size check keep their peak capacity.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for SyncPoolOversizedBuffer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let pools = find_pools(pkg);
        if pools.is_empty() {
            return;
        }
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for call in syntax::descendants_of_kind(file.tree.root_node(), "call_expression") {
                let Some(pool) = pool_method(&ctx, &pools, call, "Put") else {
                    continue;
                };
                if let Some(m) = check_put(pkg, &ctx, pool, &pools, call) {
                    out.push(m);
                }
            }
        }
    }
}

/// What a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// `*bytes.Buffer` or `*strings.Builder`: grows on every write.
    Buffer,
    /// `[]byte` or `*[]byte`: grows when appended to.
    Bytes,
    /// `*[N]byte` or anything else of a fixed size.
    Fixed,
}

/// A `sync.Pool`: a package-level variable or a struct field.
#[derive(Debug)]
struct Pool {
    /// The variable or field name.
    name: String,
    /// The struct type for a field.
    owner: Option<String>,
    declaration: Location,
    holds: Option<Holds>,
    /// The `New` function, when found.
    new_func: Option<Location>,
}

impl Pool {
    fn subject(&self) -> String {
        match &self.owner {
            Some(o) => format!("{o}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

fn is_pool_type(text: &str) -> bool {
    let t = text.trim_start_matches('*');
    t == "sync.Pool"
}

/// The package's pools with what they hold, from `New` functions and `Get` assertions.
fn find_pools(pkg: &Package) -> Vec<Pool> {
    let mut pools = Vec::new();
    for f in pkg.program_files() {
        for d in &f.summary.decls {
            let typed = d.type_text.as_deref().is_some_and(is_pool_type);
            let valued = d.value_text.as_deref().is_some_and(|v| {
                let v = v.trim_start_matches('&');
                v.starts_with("sync.Pool{")
            });
            if typed || valued {
                pools.push(Pool {
                    name: d.name.clone(),
                    owner: None,
                    declaration: Location {
                        file: f.path().to_path_buf(),
                        span: d.span,
                    },
                    holds: None,
                    new_func: None,
                });
            }
        }
        for s in &f.summary.structs {
            for field in &s.fields {
                if is_pool_type(&field.type_text) {
                    pools.push(Pool {
                        name: field.name.clone(),
                        owner: Some(s.name.clone()),
                        declaration: Location {
                            file: f.path().to_path_buf(),
                            span: field.span,
                        },
                        holds: None,
                        new_func: None,
                    });
                }
            }
        }
    }
    if pools.is_empty() {
        return pools;
    }
    // `New` functions: in `sync.Pool{New: ...}` literals that initialize a pool (a
    // variable's initializer, a keyed field, an assignment) and in `p.New = ...`.
    for f in pkg.program_files() {
        let src: &str = &f.text;
        for node in syntax::descendants(f.tree.root_node()) {
            let (owner_name, new_value) = match node.kind() {
                "composite_literal" => {
                    let ty = node
                        .child_by_field_name("type")
                        .map(|t| syntax::text(t, src));
                    if !ty.is_some_and(is_pool_type) {
                        continue;
                    }
                    let Some(name) = literal_owner(node, src) else {
                        continue;
                    };
                    let Some(new) = keyed_value(node, "New", src) else {
                        continue;
                    };
                    (name, new)
                }
                "assignment_statement" => {
                    let left = flow::items(node.child_by_field_name("left"));
                    let right = flow::items(node.child_by_field_name("right"));
                    let (Some(l), Some(r)) = (left.first(), right.first()) else {
                        continue;
                    };
                    let lt = syntax::text(*l, src);
                    let Some(owner) = lt.strip_suffix(".New") else {
                        continue;
                    };
                    let name = owner.rsplit('.').next().unwrap_or(owner).to_string();
                    (name, *r)
                }
                _ => continue,
            };
            let holds = new_holds(f, new_value);
            for p in pools.iter_mut().filter(|p| p.name == owner_name) {
                if p.holds.is_none() {
                    p.holds = holds;
                }
                if p.new_func.is_none() {
                    p.new_func = Some(f.location(new_value));
                }
            }
        }
    }
    // `Get` assertions: `p.Get().(*bytes.Buffer)`.
    for f in pkg.program_files() {
        let ctx = FileCtx::new(f);
        for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            let Some(i) = pool_method(&ctx, &pools, call, "Get") else {
                continue;
            };
            let Some(assert) = call
                .parent()
                .filter(|p| p.kind() == "type_assertion_expression")
            else {
                continue;
            };
            let Some(ty) = assert.child_by_field_name("type") else {
                continue;
            };
            let holds = type_holds(syntax::text(ty, ctx.src));
            if let Some(p) = pools.get_mut(i) {
                if p.holds.is_none() {
                    p.holds = holds;
                }
            }
        }
    }
    pools
}

/// The variable or field a `sync.Pool{...}` literal initializes.
fn literal_owner(lit: Node<'_>, src: &str) -> Option<String> {
    let mut cur = lit;
    loop {
        let p = cur.parent()?;
        match p.kind() {
            "unary_expression" | "parenthesized_expression" | "literal_element" => cur = p,
            "keyed_element" => {
                let key = p.child_by_field_name("key")?;
                return Some(syntax::text(key, src).trim().to_string());
            }
            "expression_list" => cur = p,
            "var_spec" | "short_var_declaration" | "assignment_statement" => {
                let field = if p.kind() == "var_spec" {
                    "name"
                } else {
                    "left"
                };
                let left = p.child_by_field_name(field)?;
                let t = syntax::text(flow::items(Some(left)).first().copied()?, src);
                return Some(t.rsplit('.').next().unwrap_or(t).trim().to_string());
            }
            _ => return None,
        }
    }
}

/// The value of `key: value` in a composite literal.
fn keyed_value<'t>(lit: Node<'t>, key: &str, src: &str) -> Option<Node<'t>> {
    let body = lit.child_by_field_name("body")?;
    flow::named(body).into_iter().find_map(|el| {
        if el.kind() != "keyed_element" {
            return None;
        }
        let k = el.child_by_field_name("key")?;
        if syntax::text(k, src).trim() != key {
            return None;
        }
        let v = el.child_by_field_name("value")?;
        flow::named(v).into_iter().next().or(Some(v))
    })
}

/// What a `New` function's returned values are.
fn new_holds(file: &SourceFile, new: Node<'_>) -> Option<Holds> {
    let src: &str = &file.text;
    let new = flow::unparen(new);
    let body = if new.kind() == "func_literal" {
        new.child_by_field_name("body")?
    } else {
        return None;
    };
    let ret = syntax::descendants_of_kind(body, "return_statement").next()?;
    let value = flow::items(flow::named(ret).into_iter().next())
        .first()
        .copied()?;
    let value = flow::unparen(value);
    let text = syntax::text(value, src);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.starts_with("new(bytes.Buffer)")
        || compact.starts_with("&bytes.Buffer{")
        || compact.starts_with("bytes.NewBuffer")
        || compact.starts_with("new(strings.Builder)")
        || compact.starts_with("&strings.Builder{")
    {
        return Some(Holds::Buffer);
    }
    if compact.starts_with("make([]byte")
        || compact.starts_with("make([]uint8")
        || compact.starts_with("new([]byte)")
    {
        return Some(Holds::Bytes);
    }
    if compact.starts_with("new([") || compact.starts_with("&[") {
        return Some(Holds::Fixed);
    }
    if value.kind() == "unary_expression" && flow::operator(value, src) == "&" {
        // `b := make([]byte, 0, n); return &b`.
        let operand = value.child_by_field_name("operand").map(flow::unparen)?;
        let b = flow::resolve_ident(operand, src)?;
        let v: String = syntax::text(b.value?, src)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if v.starts_with("make([]byte") || v.starts_with("make([]uint8") {
            return Some(Holds::Bytes);
        }
        return Some(Holds::Fixed);
    }
    Some(Holds::Fixed)
}

/// What a `Get` type assertion says the pool holds.
fn type_holds(ty: &str) -> Option<Holds> {
    let t: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    match t.as_str() {
        "*bytes.Buffer" | "*strings.Builder" => Some(Holds::Buffer),
        "[]byte" | "*[]byte" | "[]uint8" | "*[]uint8" => Some(Holds::Bytes),
        _ => Some(Holds::Fixed),
    }
}

/// For `p.M(...)` on one of the pools (a package-level variable not shadowed, or a field
/// `x.f` of a pool field's name): the pool's index.
fn pool_method(ctx: &FileCtx<'_>, pools: &[Pool], call: Node<'_>, method: &str) -> Option<usize> {
    let f = call.child_by_field_name("function").map(flow::unparen)?;
    if f.kind() != "selector_expression" {
        return None;
    }
    if f.child_by_field_name("field")
        .map(|m| syntax::text(m, ctx.src))
        != Some(method)
    {
        return None;
    }
    let operand = flow::unparen(f.child_by_field_name("operand")?);
    match operand.kind() {
        "identifier" => {
            let name = syntax::text(operand, ctx.src);
            if flow::resolve(operand, name, ctx.src).is_some() {
                return None;
            }
            pools
                .iter()
                .position(|p| p.owner.is_none() && p.name == name)
        }
        "selector_expression" => {
            let field = syntax::text(operand.child_by_field_name("field")?, ctx.src);
            pools
                .iter()
                .position(|p| p.owner.is_some() && p.name == field)
        }
        _ => None,
    }
}

fn check_put(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    index: usize,
    pools: &[Pool],
    put: Node<'_>,
) -> Option<Match> {
    let src = ctx.src;
    let pool = pools.get(index)?;
    let holds = pool.holds?;
    if holds == Holds::Fixed {
        return None;
    }
    let arg = flow::unparen(syntax::call_args(put).first().copied()?);
    if is_fresh(arg, src) {
        return None;
    }
    let root = flow::root_ident(arg)?;
    let name = syntax::text(root, src);
    if size_checked(put, name, src) {
        return None;
    }
    if holds == Holds::Bytes && !appended(put, name, src) {
        // A byte slice that is never appended to keeps the size `New` gave it.
        return None;
    }
    let func = flow::function_label(put, src);
    let mut evidence = vec![ctx.loc(put)];
    for f in pkg.program_files() {
        let fctx = FileCtx::new(f);
        for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
            if pool_method(&fctx, pools, call, "Get") == Some(index) {
                growth_sites(pkg, &fctx, call, &mut evidence);
            }
        }
    }
    if let Some(n) = &pool.new_func {
        flow::push_unique(&mut evidence, n.clone());
    }
    let what = match holds {
        Holds::Buffer => "buffers",
        _ => "byte slices",
    };
    Some(Match {
        rule: META.id,
        location: ctx.loc(put),
        subject: pool.subject(),
        message: format!(
            "{what} are put back into sync.Pool \"{}\" in {func} without a size check, so the pool keeps each one at its peak capacity",
            pool.subject()
        ),
        declaration: Some(pool.declaration.clone()),
        related: Vec::new(),
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    })
}

/// Whether a value put back is made right there (`new(bytes.Buffer)`, `make(...)`).
fn is_fresh(arg: Node<'_>, src: &str) -> bool {
    match arg.kind() {
        "call_expression" => {
            let callee = syntax::callee(arg, src).unwrap_or("");
            matches!(
                callee,
                "new" | "make" | "bytes.NewBuffer" | "bytes.NewBufferString"
            )
        }
        "unary_expression" => arg
            .child_by_field_name("operand")
            .map(flow::unparen)
            .is_some_and(|o| o.kind() == "composite_literal"),
        "composite_literal" => true,
        _ => false,
    }
}

/// Whether the function putting the value back compares its size first: an `if` before
/// (or around) the `Put` whose condition uses `cap`, `len`, `Cap()` or `Len()` of it.
fn size_checked(put: Node<'_>, name: &str, src: &str) -> bool {
    let Some(func) = syntax::enclosing_declaration(put).or_else(|| syntax::enclosing_function(put))
    else {
        return false;
    };
    syntax::descendants_of_kind(func, "if_statement")
        .filter(|i| i.start_byte() < put.start_byte())
        .filter_map(|i| i.child_by_field_name("condition"))
        .any(|c| {
            let t: String = syntax::text(c, src)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let sized = t.contains("cap(")
                || t.contains("len(")
                || t.contains(".Cap()")
                || t.contains(".Len()");
            sized
                && syntax::descendants_of_kind(c, "identifier")
                    .any(|i| syntax::text(i, src) == name)
        })
}

/// Whether the function appends to the value, directly (`b = append(b, ...)`) or through
/// a local it then stores back (`b = append(b, ...)`; `*bp = b`).
fn appended(put: Node<'_>, name: &str, src: &str) -> bool {
    syntax::enclosing_declaration(put)
        .or_else(|| syntax::enclosing_function(put))
        .is_some_and(|func| !appends_to(func, name, src).is_empty())
}

/// The `append` calls in `func` that grow `name`: appends to it, and appends to a local
/// that is then assigned back to it.
fn appends_to<'t>(func: Node<'t>, name: &str, src: &str) -> Vec<Node<'t>> {
    let appends: Vec<(Node<'t>, &str)> = syntax::descendants_of_kind(func, "call_expression")
        .filter(|c| flow::is_builtin_call(*c, "append", src))
        .filter_map(|c| {
            let root = syntax::call_args(c)
                .first()
                .and_then(|a| flow::root_ident(*a))?;
            Some((c, syntax::text(root, src)))
        })
        .collect();
    let mut names = vec![name];
    for a in syntax::descendants_of_kind(func, "assignment_statement") {
        let left = flow::items(a.child_by_field_name("left"));
        let right = flow::items(a.child_by_field_name("right"));
        for (l, r) in left.iter().zip(right.iter()) {
            let stores_back = flow::root_ident(*l).is_some_and(|n| syntax::text(n, src) == name);
            if let Some(r) = flow::root_ident(*r).filter(|_| stores_back) {
                names.push(syntax::text(r, src));
            }
        }
    }
    appends
        .into_iter()
        .filter(|(_, root)| names.contains(root))
        .map(|(c, _)| c)
        .collect()
}

/// The lines that grow a buffer taken from the pool at `get`: writes to it, calls it is
/// passed to (the body of a same-package function), appends to it.
fn growth_sites(pkg: &Package, ctx: &FileCtx<'_>, get: Node<'_>, out: &mut Vec<Location>) {
    let src = ctx.src;
    // The local the buffer is bound to: `buf := pool.Get().(*bytes.Buffer)`.
    let mut cur = get;
    while let Some(p) = cur.parent() {
        if matches!(
            p.kind(),
            "type_assertion_expression" | "parenthesized_expression" | "expression_list"
        ) {
            cur = p;
            continue;
        }
        break;
    }
    let Some(decl) = cur.parent() else { return };
    let left = match decl.kind() {
        "short_var_declaration" | "assignment_statement" => {
            flow::items(decl.child_by_field_name("left"))
        }
        "var_spec" => {
            let mut c = decl.walk();
            let names: Vec<Node<'_>> = decl.children_by_field_name("name", &mut c).collect();
            names
        }
        _ => return,
    };
    let Some(first) = left.first() else { return };
    let name = syntax::text(*first, src);
    let Some(after) = decl
        .next_named_sibling()
        .or_else(|| decl.parent().and_then(|p| p.next_named_sibling()))
    else {
        return;
    };
    let Some(b) = flow::resolve(after, name, src) else {
        return;
    };
    if let Some(func) = flow::scope_body(&b) {
        for call in appends_to(func, name, src) {
            flow::push_unique(out, ctx.loc(call));
        }
    }
    for u in flow::uses(&b, src) {
        let Some(p) = u.parent() else { continue };
        // `buf.WriteString(...)`.
        if p.kind() == "selector_expression"
            && p.child_by_field_name("operand")
                .is_some_and(|o| o.id() == u.id())
        {
            let method = p
                .child_by_field_name("field")
                .map(|m| syntax::text(m, src))
                .unwrap_or("");
            let grows = method.starts_with("Write") && method != "WriteTo"
                || matches!(method, "ReadFrom" | "Grow");
            if grows {
                if let Some(call) = p.parent().filter(|c| c.kind() == "call_expression") {
                    flow::push_unique(out, ctx.loc(call));
                }
            }
            continue;
        }
        // `render(buf, ...)`, `fmt.Fprintf(buf, ...)`, `b = append(b, ...)`.
        if p.kind() == "argument_list" {
            let Some(call) = p.parent() else { continue };
            if syntax::callee(call, src).is_some_and(|c| c.ends_with(".Put")) {
                continue;
            }
            let callee = call.child_by_field_name("function").map(flow::unparen);
            let local_fn = callee.filter(|c| c.kind() == "identifier").and_then(|c| {
                let n = syntax::text(c, src);
                if flow::resolve(c, n, src).is_some() {
                    return None;
                }
                flow::package_function(pkg, n)
            });
            match local_fn {
                Some((ff, decl)) => {
                    if let Some(body) = decl.child_by_field_name("body") {
                        flow::push_unique(out, ff.location(body));
                    }
                }
                None => flow::push_unique(out, ctx.loc(call)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::SyncPoolOversizedBuffer as R;
    use crate::rules::testing::check;

    #[test]
    fn buffers_put_back_without_a_size_check() {
        check(
            &R,
            r#"
-- render/render.go --
package render

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

var bufPool = sync.Pool{
	New: func() any { return new(bytes.Buffer) },
}

func writeRows(buf *bytes.Buffer, rows []string) {
	for _, r := range rows {
		buf.WriteString(r)
	}
}

// Page renders rows into a pooled buffer and copies it out.
func Page(w io.Writer, title string, rows []string) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	fmt.Fprintf(buf, "<h1>%s</h1>", title)
	writeRows(buf, rows)
	_, err := w.Write(buf.Bytes())
	bufPool.Put(buf)
	return err
}
"#,
            expect![[r#"
                render/render.go:27 sync-pool-oversized-buffer [bufPool] buffers are put back into sync.Pool "bufPool" in Page without a size check, so the pool keeps each one at its peak capacity
                  declared render/render.go:10
                  evidence render/render.go:27 render/render.go:24 render/render.go:14-18 render/render.go:11
            "#]],
        );
    }

    #[test]
    fn pool_fields_and_byte_slices_that_grow() {
        check(
            &R,
            r#"
-- enc.go --
package enc

import "sync"

type Encoder struct {
	scratch sync.Pool
}

func NewEncoder() *Encoder {
	return &Encoder{scratch: sync.Pool{New: func() any {
		b := make([]byte, 0, 512)
		return &b
	}}}
}

func (e *Encoder) Encode(fields []string) int {
	bp := e.scratch.Get().(*[]byte)
	b := (*bp)[:0]
	for _, f := range fields {
		b = append(b, f...)
	}
	n := len(b)
	*bp = b
	e.scratch.Put(bp)
	return n
}
"#,
            expect![[r#"
                enc.go:24 sync-pool-oversized-buffer [Encoder.scratch] byte slices are put back into sync.Pool "Encoder.scratch" in (*Encoder).Encode without a size check, so the pool keeps each one at its peak capacity
                  declared enc.go:6
                  evidence enc.go:24 enc.go:20 enc.go:10-13
            "#]],
        );
    }

    #[test]
    fn a_size_check_before_put_is_fine() {
        check(
            &R,
            r#"
-- p.go --
package p

import (
	"bytes"
	"sync"
)

const maxPooled = 64 << 10

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func Release(buf *bytes.Buffer) {
	if buf.Cap() > maxPooled {
		return
	}
	buf.Reset()
	pool.Put(buf)
}

var bytesPool = sync.Pool{New: func() any { return make([]byte, 0, 1024) }}

func Give(b []byte) {
	b = append(b[:0], 'x')
	if cap(b) <= maxPooled {
		bytesPool.Put(b)
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn fixed_size_and_other_objects_are_fine() {
        check(
            &R,
            r#"
-- p.go --
package p

import (
	"io"
	"sync"
)

type Decoder struct{ depth int }

var (
	arrays   = sync.Pool{New: func() any { return new([32 << 10]byte) }}
	decoders = sync.Pool{New: func() any { return &Decoder{} }}
	chunks   = sync.Pool{New: func() any { return make([]byte, 32<<10) }}
)

func Copy(dst io.Writer, src io.Reader) {
	buf := arrays.Get().(*[32 << 10]byte)
	n, _ := src.Read(buf[:])
	dst.Write(buf[:n])
	arrays.Put(buf)

	d := decoders.Get().(*Decoder)
	d.depth = 0
	decoders.Put(d)

	c := chunks.Get().([]byte)
	m, _ := src.Read(c)
	dst.Write(c[:m])
	chunks.Put(c)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowed_pool_names_and_test_files() {
        check(
            &R,
            r#"
-- p.go --
package p

import (
	"bytes"
	"sync"
)

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type other struct{}

func (other) Put(any) {}

func Shadow(b *bytes.Buffer) {
	pool := other{}
	b.WriteString("x")
	pool.Put(b)
}
-- p_test.go --
package p

import "bytes"

func helper(b *bytes.Buffer) {
	b.WriteString("test")
	pool.Put(b)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &R,
            "-- bad.go --\npackage bad\n\nimport \"sync\"\n\nvar pool = sync.Pool{New: func() any { return new(bytes.Buffer\n\nfunc F(b *bytes.Buffer) { pool.Put(b\n",
            expect![[r#"
                no matches
            "#]],
        );
    }
}
