//! `finalizer-cycle`: `runtime.SetFinalizer` on an object that can reach itself, either
//! through its type's fields (a reference cycle) or because the finalizer function
//! captures the object. The garbage collector keeps everything a finalizer's object
//! reaches alive until the finalizer has run, so such an object is never freed.

use std::collections::{HashMap, HashSet, VecDeque};

use tree_sitter::Node;

use super::flow::{self, BindKind, FileCtx};
use super::syntax;
use super::{Context, EvidenceKind, Location, Match, Package, Rule, RuleMeta};

/// The `finalizer-cycle` rule.
#[derive(Debug)]
pub struct FinalizerCycle;

static META: RuleMeta = RuleMeta {
    id: "finalizer-cycle",
    name: "Finalizer on a cycle",
    summary: "An object with a finalizer that can reach itself (a reference cycle, or a finalizer capturing it) is never freed.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for FinalizerCycle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let mut types: Option<TypeGraph> = None;
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for call in syntax::descendants_of_kind(file.tree.root_node(), "call_expression") {
                if ctx.qualified(call) != Some(("runtime", "SetFinalizer")) {
                    continue;
                }
                let graph = types.get_or_insert_with(|| TypeGraph::new(pkg));
                if let Some(m) = check_call(pkg, &ctx, graph, call) {
                    out.push(m);
                }
            }
        }
    }
}

/// The package's named types and, per type, the fields (or the underlying type) with the
/// package types each one can hold.
#[derive(Debug, Default)]
struct TypeGraph {
    /// Type name to (edge label, referenced type) pairs.
    edges: HashMap<String, Vec<(String, String)>>,
    /// Where each type is declared.
    decls: HashMap<String, Location>,
}

impl TypeGraph {
    fn new(pkg: &Package) -> TypeGraph {
        let mut g = TypeGraph::default();
        let mut specs = Vec::new();
        for f in pkg.program_files() {
            for spec in syntax::descendants(f.tree.root_node()).filter(|n| n.kind() == "type_spec")
            {
                // Package-level types only (local types cannot be a finalizer's target
                // across functions, and names may repeat).
                if !syntax::is_package_level(spec) {
                    continue;
                }
                let (Some(name), Some(ty)) = (
                    spec.child_by_field_name("name"),
                    spec.child_by_field_name("type"),
                ) else {
                    continue;
                };
                let name = syntax::text(name, &f.text).to_string();
                g.decls.insert(name.clone(), f.location(spec));
                specs.push((f, name, ty));
            }
        }
        let known: HashSet<String> = g.decls.keys().cloned().collect();
        for (f, name, ty) in specs {
            let src: &str = &f.text;
            let mut edges = Vec::new();
            if ty.kind() == "struct_type" {
                for field in syntax::descendants_of_kind(ty, "field_declaration") {
                    let Some(fty) = field.child_by_field_name("type") else {
                        continue;
                    };
                    let label = {
                        let mut c = field.walk();
                        let names: Vec<&str> = field
                            .children_by_field_name("name", &mut c)
                            .map(|n| syntax::text(n, src))
                            .collect();
                        if names.is_empty() {
                            format!("{name}.{}", type_name_of(fty, src).unwrap_or("?"))
                        } else {
                            format!("{name}.{}", names.join("/"))
                        }
                    };
                    for r in referenced(fty, src, &known) {
                        edges.push((label.clone(), r));
                    }
                }
            } else {
                for r in referenced(ty, src, &known) {
                    edges.push((name.clone(), r));
                }
            }
            g.edges.insert(name, edges);
        }
        g
    }

    /// The shortest path of fields from `start` back to itself, as labels.
    fn cycle(&self, start: &str) -> Option<Vec<String>> {
        let mut prev: HashMap<String, (String, String)> = HashMap::new();
        let mut queue = VecDeque::new();
        queue.push_back(start.to_string());
        let mut visited = HashSet::new();
        while let Some(t) = queue.pop_front() {
            for (label, next) in self.edges.get(&t).into_iter().flatten() {
                if next == start {
                    let mut path = vec![label.clone()];
                    let mut cur = t.clone();
                    while cur != start {
                        let (p, l) = prev.get(&cur)?.clone();
                        path.push(l);
                        cur = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                if visited.insert(next.clone()) {
                    prev.insert(next.clone(), (t.clone(), label.clone()));
                    queue.push_back(next.clone());
                }
            }
        }
        None
    }
}

/// The name of an embedded field's type: `*T` and `pkg.T` give `T`.
fn type_name_of<'s>(ty: Node<'_>, src: &'s str) -> Option<&'s str> {
    match ty.kind() {
        "qualified_type" => ty.child_by_field_name("name").map(|n| syntax::text(n, src)),
        _ => flow::base_type_name(ty, src),
    }
}

/// The package types a field of type `ty` can hold: the type identifiers in it, except
/// inside function types (a signature holds nothing), interfaces and other packages'
/// types.
fn referenced(ty: Node<'_>, src: &str, known: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![ty];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_type" | "interface_type" | "qualified_type" => continue,
            "type_identifier" => {
                let t = syntax::text(n, src);
                if known.contains(t) && !out.iter().any(|o| o == t) {
                    out.push(t.to_string());
                }
            }
            _ => stack.extend(flow::named(n)),
        }
    }
    out
}

/// The object's type name, when evident: `&T{}`, `new(T)`, a local or parameter of type
/// `*T`, or the result of a same-package constructor returning `*T`.
fn object_type(pkg: &Package, ctx: &FileCtx<'_>, obj: Node<'_>, depth: usize) -> Option<String> {
    if depth > flow::MAX_DEPTH {
        return None;
    }
    let src = ctx.src;
    let obj = flow::unparen(obj);
    match obj.kind() {
        "unary_expression" if flow::operator(obj, src) == "&" => {
            let operand = flow::unparen(obj.child_by_field_name("operand")?);
            match operand.kind() {
                "composite_literal" => {
                    let ty = operand.child_by_field_name("type")?;
                    flow::base_type_name(ty, src).map(str::to_string)
                }
                // `&v` with `v` a local struct value.
                "identifier" => {
                    let b = flow::resolve_ident(operand, src)?;
                    if let Some(ty) = b.ty {
                        return flow::base_type_name(ty, src).map(str::to_string);
                    }
                    let v = flow::unparen(b.value?);
                    (v.kind() == "composite_literal")
                        .then(|| v.child_by_field_name("type"))
                        .flatten()
                        .and_then(|t| flow::base_type_name(t, src))
                        .map(str::to_string)
                }
                _ => None,
            }
        }
        "call_expression" => {
            let f = flow::unparen(obj.child_by_field_name("function")?);
            if f.kind() != "identifier" || flow::resolve_ident(f, src).is_some() {
                return None;
            }
            let name = syntax::text(f, src);
            if name == "new" {
                let arg = syntax::call_args(obj).first().copied()?;
                return flow::base_type_name(arg, src).map(str::to_string);
            }
            let (ff, decl) = flow::package_function(pkg, name)?;
            let result = decl.child_by_field_name("result")?;
            let ty = if result.kind() == "parameter_list" {
                flow::named(result).first()?.child_by_field_name("type")?
            } else {
                result
            };
            (ty.kind() == "pointer_type")
                .then(|| flow::base_type_name(ty, &ff.text))
                .flatten()
                .map(str::to_string)
        }
        "identifier" => {
            let b = flow::resolve_ident(obj, src)?;
            if let Some(ty) = b.ty {
                return (ty.kind() == "pointer_type")
                    .then(|| flow::base_type_name(ty, src))
                    .flatten()
                    .map(str::to_string);
            }
            if b.multi || !matches!(b.kind, BindKind::ShortVar | BindKind::Var) {
                return None;
            }
            object_type(pkg, ctx, b.value?, depth + 1)
        }
        _ => None,
    }
}

/// Whether the finalizer function is a literal that uses the object's variable.
fn captures_object(fin: Node<'_>, obj: Node<'_>, src: &str) -> bool {
    let fin = flow::unparen(fin);
    if fin.kind() != "func_literal" {
        return false;
    }
    let mut obj = flow::unparen(obj);
    if obj.kind() == "unary_expression" && flow::operator(obj, src) == "&" {
        match obj.child_by_field_name("operand") {
            Some(o) => obj = flow::unparen(o),
            None => return false,
        }
    }
    if obj.kind() != "identifier" {
        return false;
    }
    let name = syntax::text(obj, src);
    let Some(b) = flow::resolve(obj, name, src) else {
        // A package-level object is reachable anyway; nothing to say.
        return false;
    };
    let Some(body) = fin.child_by_field_name("body") else {
        return false;
    };
    syntax::descendants_of_kind(body, "identifier")
        .filter(|i| syntax::text(*i, src) == name)
        .any(|i| flow::resolve(i, name, src).is_some_and(|r| r.same(&b)))
}

/// In the function that sets the finalizer, an assignment that stores a function value
/// bound to the object into the object itself (`c.handlers["ping"] = c.onPing`,
/// `c.onClose = func() { c.stop() }`): a cycle through a func value, which the type
/// graph cannot see. The assignment statement.
fn stored_in_itself<'t>(
    pkg: &Package,
    call: Node<'t>,
    obj: Node<'t>,
    src: &str,
) -> Option<Node<'t>> {
    let obj = flow::unparen(obj);
    let b = flow::resolve_ident(obj, src)?;
    let same = |n: Node<'_>| {
        n.kind() == "identifier"
            && syntax::text(n, src) == syntax::text(obj, src)
            && flow::resolve_ident(n, src).is_some_and(|r| r.same(&b))
    };
    let func = syntax::enclosing_function(call)?;
    syntax::descendants_of_kind(func, "assignment_statement").find(|stmt| {
        let left = flow::items(stmt.child_by_field_name("left"));
        let right = flow::items(stmt.child_by_field_name("right"));
        left.len() == right.len()
            && left.iter().zip(right.iter()).any(|(l, r)| {
                let l = flow::unparen(*l);
                let into_itself = l.kind() != "identifier" && flow::root_ident(l).is_some_and(same);
                let r = flow::unparen(*r);
                let bound = match r.kind() {
                    // A method value (not a field read).
                    "selector_expression" => {
                        r.child_by_field_name("operand")
                            .map(flow::unparen)
                            .is_some_and(same)
                            && r.child_by_field_name("field").is_some_and(|f| {
                                !flow::package_methods(pkg, syntax::text(f, src)).is_empty()
                            })
                    }
                    "func_literal" => syntax::descendants_of_kind(r, "identifier").any(same),
                    _ => false,
                };
                into_itself && bound
            })
    })
}

fn check_call(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    graph: &TypeGraph,
    call: Node<'_>,
) -> Option<Match> {
    let src = ctx.src;
    let args = syntax::call_args(call);
    let [obj, fin] = args.as_slice() else {
        return None;
    };
    if syntax::text(flow::unparen(*fin), src) == "nil" {
        return None;
    }
    let ty = object_type(pkg, ctx, *obj, 0);
    let captured = captures_object(*fin, *obj, src);
    let cycle = ty.as_deref().and_then(|t| graph.cycle(t));
    let self_store = if cycle.is_none() && !captured {
        Some(stored_in_itself(pkg, call, *obj, src)?)
    } else {
        None
    };
    let obj_text: String = syntax::text(*obj, src)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let func = flow::function_label(call, src);
    let message = match (&cycle, &ty) {
        _ if self_store.is_some() => format!(
            "runtime.SetFinalizer is set on \"{obj_text}\" in {func}, which stores a function value bound to \"{obj_text}\" in \"{obj_text}\" itself (line {}): an object with a finalizer in a reference cycle is never freed",
            self_store.map_or(0, |n| syntax::span(n).start_line)
        ),
        (Some(path), Some(t)) => format!(
            "runtime.SetFinalizer is set on \"{obj_text}\" in {func}, and {t} can reach itself through {}; an object with a finalizer in a reference cycle is never freed",
            path.join(" → ")
        ),
        _ => format!(
            "the finalizer set on \"{obj_text}\" in {func} captures \"{obj_text}\" itself, so it stays reachable and is never finalized or freed"
        ),
    };
    let mut evidence = Vec::new();
    flow::alloc_sites(pkg, ctx.file, *obj, &mut evidence);
    // The bound method value that closes the cycle is allocated at its store.
    if let Some(store) = self_store {
        flow::push_unique(&mut evidence, ctx.loc(store));
    }
    // The other members of the cycle made in the same function, and, for a receiver or
    // parameter, every place the package makes the object's type.
    let members: HashSet<String> = match (&cycle, &ty) {
        (Some(path), Some(t)) => path
            .iter()
            .filter_map(|l| l.split('.').next())
            .map(str::to_string)
            .chain(std::iter::once(t.clone()))
            .collect(),
        (_, Some(t)) => std::iter::once(t.clone()).collect(),
        _ => HashSet::new(),
    };
    if let Some(decl) = syntax::enclosing_declaration(call) {
        flow::type_allocations(ctx.file, decl, &members, &mut evidence);
    }
    let from_param = flow::unparen(*obj).kind() == "identifier"
        && flow::resolve_ident(flow::unparen(*obj), src).is_some_and(|b| b.kind == BindKind::Param);
    if from_param || evidence.is_empty() {
        if let Some(t) = &ty {
            let one: HashSet<String> = std::iter::once(t.clone()).collect();
            for f in pkg.program_files() {
                flow::type_allocations(f, f.tree.root_node(), &one, &mut evidence);
            }
        }
    }
    // The leak is the same in every Go version; from Go 1.24 the fix is at hand, so the
    // message says so (a version note would lower the severity, which it must not).
    let message = if pkg.go_version.is_some_and(|v| v.at_least(1, 24)) {
        format!("{message}; this module's Go version has runtime.AddCleanup (Go 1.24), which does not keep the object alive: attach the cleanup to the resource instead")
    } else {
        message
    };
    Some(Match {
        rule: META.id,
        location: ctx.loc(call),
        subject: ty.clone().unwrap_or(obj_text),
        message,
        declaration: ty.as_deref().and_then(|t| graph.decls.get(t).cloned()),
        related: Vec::new(),
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::FinalizerCycle as R;
    use crate::rules::testing::check;

    #[test]
    fn finalizer_on_a_type_that_reaches_itself() {
        check(
            &R,
            r#"
-- conn.go --
package conn

import "runtime"

type Conn struct {
	id   int
	buf  []byte
	sess *Session
}

type Session struct {
	conn  *Conn
	state map[string]string
}

func (c *Conn) release() {}

// Open makes a connection whose session points back at it.
func Open(id int) *Conn {
	c := &Conn{id: id, buf: make([]byte, 16<<10)}
	c.sess = &Session{conn: c, state: map[string]string{}}
	runtime.SetFinalizer(c, (*Conn).release)
	return c
}
"#,
            expect![[r#"
                conn.go:22 finalizer-cycle [Conn] runtime.SetFinalizer is set on "c" in Open, and Conn can reach itself through Conn.sess → Session.conn; an object with a finalizer in a reference cycle is never freed
                  declared conn.go:5
                  evidence conn.go:20 conn.go:21
            "#]],
        );
    }

    #[test]
    fn self_links_containers_receivers_and_constructors() {
        check(
            &R,
            r#"
-- tree.go --
package tree

import "runtime"

type Node struct {
	parent   *Node
	children []*Node
}

type Registry map[string]*Entry

type Entry struct {
	owner Registry
}

func newNode(parent *Node) *Node {
	return &Node{parent: parent}
}

// Track puts a finalizer on a node built by a constructor.
func Track(parent *Node) *Node {
	n := newNode(parent)
	runtime.SetFinalizer(n, func(*Node) {})
	return n
}

// watch sets the finalizer on its receiver.
func (e *Entry) watch() {
	runtime.SetFinalizer(e, func(e *Entry) {})
}

func NewEntry(r Registry, key string) *Entry {
	e := &Entry{owner: r}
	r[key] = e
	e.watch()
	return e
}
"#,
            expect![[r#"
                tree.go:23 finalizer-cycle [Node] runtime.SetFinalizer is set on "n" in Track, and Node can reach itself through Node.parent; an object with a finalizer in a reference cycle is never freed
                  declared tree.go:5
                  evidence tree.go:16-18
                tree.go:29 finalizer-cycle [Entry] runtime.SetFinalizer is set on "e" in (*Entry).watch, and Entry can reach itself through Entry.owner → Registry; an object with a finalizer in a reference cycle is never freed
                  declared tree.go:12
                  evidence tree.go:33
            "#]],
        );
    }

    #[test]
    fn a_finalizer_capturing_its_object() {
        check(
            &R,
            r#"
-- go.mod --
module example.com/app

go 1.24
-- file.go --
package file

import (
	"os"
	"runtime"
)

type Handle struct {
	f *os.File
}

func Open(name string) (*Handle, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	h := &Handle{f: f}
	runtime.SetFinalizer(h, func(*Handle) { h.f.Close() })
	return h, nil
}
"#,
            expect![[r#"
                file.go:18 finalizer-cycle [Handle] the finalizer set on "h" in Open captures "h" itself, so it stays reachable and is never finalized or freed; this module's Go version has runtime.AddCleanup (Go 1.24), which does not keep the object alive: attach the cleanup to the resource instead
                  declared file.go:8
                  evidence file.go:17 file.go:13
            "#]],
        );
    }

    #[test]
    fn acyclic_types_cleared_finalizers_and_shadowed_runtime() {
        check(
            &R,
            r#"
-- ok.go --
package ok

import (
	"os"
	"runtime"
)

type File struct {
	fd   *os.File
	name string
	on   func(*File)
	any  interface{}
}

func Open(name string) *File {
	fd, _ := os.Open(name)
	f := &File{fd: fd, name: name}
	runtime.SetFinalizer(f, func(f *File) { f.fd.Close() })
	return f
}

func (f *File) Close() error {
	runtime.SetFinalizer(f, nil)
	return f.fd.Close()
}

type fake struct{}

func (fake) SetFinalizer(any, any) {}

type Loop struct{ next *Loop }

func Shadow() {
	runtime := fake{}
	l := &Loop{}
	runtime.SetFinalizer(l, func(*Loop) {})
}
-- ok_test.go --
package ok

import "runtime"

func testLoop() {
	l := &Loop{}
	runtime.SetFinalizer(l, func(*Loop) {})
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn method_values_stored_in_the_object_itself() {
        check(
            &R,
            r#"
-- rpc.go --
package rpc

import "runtime"

type Conn struct {
	buf      []byte
	handlers map[string]func([]byte)
	copyOf   []byte
	pings    int
}

func Dial() *Conn {
	c := &Conn{buf: make([]byte, 8<<10), handlers: make(map[string]func([]byte))}
	c.handlers["ping"] = c.onPing
	runtime.SetFinalizer(c, (*Conn).finalize)
	return c
}

func DialFieldCopy() *Conn {
	c := &Conn{buf: make([]byte, 8<<10)}
	c.copyOf = c.buf
	runtime.SetFinalizer(c, (*Conn).finalize)
	return c
}

func DialOther(other *Conn) *Conn {
	c := &Conn{handlers: make(map[string]func([]byte))}
	c.handlers["ping"] = other.onPing
	runtime.SetFinalizer(c, (*Conn).finalize)
	return c
}

func (c *Conn) onPing(p []byte) { c.pings++ }

func (c *Conn) finalize() {}
"#,
            expect![[r#"
                rpc.go:15 finalizer-cycle [Conn] runtime.SetFinalizer is set on "c" in Dial, which stores a function value bound to "c" in "c" itself (line 14): an object with a finalizer in a reference cycle is never freed
                  declared rpc.go:5
                  evidence rpc.go:13 rpc.go:14
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &R,
            "-- bad.go --\npackage bad\n\nimport \"runtime\"\n\ntype T struct { next *T\n\nfunc F() {\n\tt := &T{\n\truntime.SetFinalizer(t, func(*T) {}\n",
            expect![[r#"
                no matches
            "#]],
        );
    }
}
