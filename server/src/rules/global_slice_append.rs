//! `global-slice-append`: a package-level slice (or a slice field of a package-level
//! variable) is appended to on a path that runs per request and is never truncated,
//! reset or bounded, so it grows for the life of the process.

use std::collections::HashMap;

use tree_sitter::Node;

use super::flow::{self, FileCtx};
use super::syntax;
use super::{Context, EvidenceKind, Location, Match, Package, Rule, RuleMeta};

/// The `global-slice-append` rule.
#[derive(Debug)]
pub struct GlobalSliceAppend;

static META: RuleMeta = RuleMeta {
    id: "global-slice-append",
    name: "Global slice appended forever",
    summary: "A package-level slice is appended to outside init and never truncated or reset.",
    evidence: EvidenceKind::Heap,
    grows: true,
};

impl Rule for GlobalSliceAppend {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        // Whether each target is reset somewhere, computed once per target.
        let mut reset: HashMap<String, bool> = HashMap::new();
        for file in pkg.program_files() {
            let ctx = FileCtx::new(file);
            for stmt in syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement") {
                if flow::operator(stmt, ctx.src) != "=" {
                    continue;
                }
                let left = flow::items(stmt.child_by_field_name("left"));
                let right = flow::items(stmt.child_by_field_name("right"));
                if left.len() != right.len() {
                    continue;
                }
                for (l, r) in left.iter().zip(right.iter()) {
                    let Some(target) = global_append(pkg, &ctx, *l, *r) else {
                        continue;
                    };
                    if flow::runs_once(stmt, ctx.src) || len_guarded(stmt, &target, ctx.src) {
                        continue;
                    }
                    let root = root_name(&target).to_string();
                    let is_reset = *reset
                        .entry(target.clone())
                        .or_insert_with(|| is_reset_anywhere(pkg, &target, &root));
                    if is_reset {
                        continue;
                    }
                    out.push(make_match(pkg, &ctx, stmt, *r, &target, &root));
                }
            }
        }
        field_appends(pkg, out);
    }
}

/// `x.f = append(x.f, v)` where `f` is a slice field of a struct type `T` of the
/// package that lives for the life of the process (a package-level variable holds a `T`,
/// `T` is shared between goroutines, or a map or slice that only grows holds them), and
/// nothing in the package ever truncates, resets, reslices or takes the address of a
/// field `f`.
fn field_appends(pkg: &Context<'_>, out: &mut Vec<Match>) {
    let idx = pkg.index();
    // Slice fields by name: the struct types declaring them and the declaration.
    let mut fields: HashMap<&str, Vec<(&str, Location)>> = HashMap::new();
    for (ty, spec) in &idx.types {
        let Some(st) = spec
            .child_by_field_name("type")
            .filter(|t| t.kind() == "struct_type")
        else {
            continue;
        };
        let Some(fi) = idx.file_of(*spec) else {
            continue;
        };
        for decl in syntax::descendants_of_kind(st, "field_declaration") {
            if decl
                .child_by_field_name("type")
                .is_none_or(|t| t.kind() != "slice_type")
            {
                continue;
            }
            for n in flow::field_nodes(decl, "name") {
                fields
                    .entry(idx.text(fi, n))
                    .or_default()
                    .push((ty, idx.location(fi, decl)));
            }
        }
    }
    if fields.is_empty() {
        return;
    }
    let mut verdicts: HashMap<&str, Option<String>> = HashMap::new();
    for file in pkg.program_files() {
        let ctx = FileCtx::new(file);
        for stmt in syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement") {
            if flow::operator(stmt, ctx.src) != "=" {
                continue;
            }
            let left = flow::items(stmt.child_by_field_name("left"));
            let right = flow::items(stmt.child_by_field_name("right"));
            let ([l], [r]) = (left.as_slice(), right.as_slice()) else {
                continue;
            };
            let l = flow::unparen(*l);
            let call = flow::unparen(*r);
            if l.kind() != "selector_expression" || !ctx.is_builtin(call, "append") {
                continue;
            }
            let Some(first) = syntax::call_args(call).first().copied() else {
                continue;
            };
            let target = compact(syntax::text(l, ctx.src));
            if compact(syntax::text(flow::unparen(first), ctx.src)) != target
                || global_append(pkg, &ctx, l, call).is_some()
            {
                continue;
            }
            let Some(field) = l
                .child_by_field_name("field")
                .map(|f| syntax::text(f, ctx.src))
            else {
                continue;
            };
            // Without types, the field name must belong to one struct of the package.
            let Some([(ty, decl)]) = fields.get(field).map(Vec::as_slice) else {
                continue;
            };
            if flow::runs_once(stmt, ctx.src)
                || len_guarded(stmt, &target, ctx.src)
                || under_construction(stmt, l, ctx.src)
            {
                continue;
            }
            let holder = verdicts
                .entry(field)
                .or_insert_with(|| {
                    if field_reset_anywhere(pkg, field) {
                        None
                    } else {
                        long_lived(pkg, idx, ty)
                    }
                })
                .clone();
            let Some(holder) = holder else {
                continue;
            };
            let func = flow::function_label(stmt, ctx.src);
            let mut evidence: Vec<Location> = vec![ctx.loc(stmt)];
            for arg in syntax::call_args(call).into_iter().skip(1) {
                flow::alloc_sites(pkg, ctx.file, arg, &mut evidence);
            }
            out.push(Match {
                rule: META.id,
                location: ctx.loc(stmt),
                subject: format!("{ty}.{field}"),
                message: format!(
                    "slice field \"{field}\" of {ty}, which {holder}, is appended to in {func} and never truncated or reset"
                ),
                declaration: Some(decl.clone()),
                related: Vec::new(),
                evidence,
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// Whether any code of the package that runs more than once assigns a field named
/// `field` anything but an append to itself, or takes its address.
fn field_reset_anywhere(pkg: &Package, field: &str) -> bool {
    let is_field = |n: Node<'_>, src: &str| {
        n.kind() == "selector_expression"
            && n.child_by_field_name("field")
                .is_some_and(|f| syntax::text(f, src) == field)
    };
    for file in pkg.program_files() {
        let src: &str = &file.text;
        for node in syntax::descendants(file.tree.root_node()) {
            match node.kind() {
                "assignment_statement" => {
                    let left = flow::items(node.child_by_field_name("left"));
                    let right = flow::items(node.child_by_field_name("right"));
                    for (i, l) in left.iter().enumerate() {
                        let l = flow::unparen(*l);
                        if !is_field(l, src) {
                            continue;
                        }
                        let target = compact(syntax::text(l, src));
                        let grows = flow::operator(node, src) == "="
                            && left.len() == right.len()
                            && right.get(i).is_some_and(|r| {
                                let r = flow::unparen(*r);
                                flow::is_builtin_call(r, "append", src)
                                    && syntax::call_args(r).first().is_some_and(|a| {
                                        compact(syntax::text(flow::unparen(*a), src)) == target
                                    })
                            });
                        if !grows && !flow::runs_once(node, src) {
                            return true;
                        }
                    }
                }
                "unary_expression"
                    if flow::operator(node, src) == "&"
                        && node
                            .child_by_field_name("operand")
                            .map(flow::unparen)
                            .is_some_and(|o| is_field(o, src)) =>
                {
                    return true;
                }
                _ => {}
            }
        }
    }
    false
}

/// Why values of struct type `ty` live as long as the process, if they do: a
/// package-level variable holds one, the type has a `sync` or `sync/atomic` field (it is
/// made to be shared between goroutines, like a service's state), or a package-level
/// variable or a struct field of map or slice type holds them and is never deleted
/// from, cleared or reset.
fn long_lived(pkg: &Package, idx: &flow::PackageIndex<'_>, ty: &str) -> Option<String> {
    if let Some(v) = idx.holders_of(ty).first() {
        return Some(format!("package-level variable \"{v}\" holds"));
    }
    let holds = |t: Node<'_>, src: &str| -> bool {
        let elem = match t.kind() {
            "map_type" => t.child_by_field_name("value"),
            "slice_type" => t.child_by_field_name("element"),
            _ => None,
        };
        elem.and_then(|e| flow::base_type_name(e, src)) == Some(ty)
    };
    // Values a map field of the package keeps per key and deletes (an in-memory file
    // system's files, removed or replaced on rotation) live as long as their entry.
    let per_entry = idx.types.values().any(|spec| {
        let Some(fi) = idx.file_of(*spec) else {
            return false;
        };
        let src = idx.src(fi);
        syntax::descendants_of_kind(*spec, "field_declaration").any(|decl| {
            decl.child_by_field_name("type")
                .is_some_and(|t| t.kind() == "map_type" && holds(t, src))
                && flow::field_nodes(decl, "name").into_iter().any(|n| {
                    let name = idx.text(fi, n);
                    shrinks(pkg, name, Some(name))
                })
        })
    });
    if let Some(f) = idx.shared_state_field(ty).filter(|_| !per_entry) {
        return Some(format!("is shared between goroutines (field `{f}`)"));
    }
    // Package-level containers.
    let mut vars: Vec<(&&str, &flow::GlobalVar<'_>)> = idx.vars.iter().collect();
    vars.sort_by_key(|(n, _)| **n);
    for (name, g) in vars {
        let src = idx.src(g.file);
        if let Some(t) = g.ty.filter(|t| holds(*t, src)) {
            if !shrinks(pkg, name, None) {
                return Some(format!(
                    "package-level {} \"{name}\" keeps and never shrinks",
                    kind_word(t)
                ));
            }
        }
    }
    // Container fields of the package's structs.
    let mut types: Vec<(&&str, &Node<'_>)> = idx.types.iter().collect();
    types.sort_by_key(|(n, _)| **n);
    for (owner, spec) in types {
        let Some(fi) = idx.file_of(*spec) else {
            continue;
        };
        let src = idx.src(fi);
        let Some(st) = spec
            .child_by_field_name("type")
            .filter(|t| t.kind() == "struct_type")
        else {
            continue;
        };
        for decl in syntax::descendants_of_kind(st, "field_declaration") {
            let Some(t) = decl.child_by_field_name("type").filter(|t| holds(*t, src)) else {
                continue;
            };
            for n in flow::field_nodes(decl, "name") {
                let name = idx.text(fi, n);
                if !shrinks(pkg, name, Some(name)) && !field_reset_anywhere(pkg, name) {
                    return Some(format!(
                        "{} field \"{owner}.{name}\" keeps and never shrinks",
                        kind_word(t)
                    ));
                }
            }
        }
    }
    None
}

/// `map` or `slice`, for messages.
fn kind_word(t: Node<'_>) -> &'static str {
    if t.kind() == "map_type" {
        "map"
    } else {
        "slice"
    }
}

/// Whether the package deletes from, clears or reassigns a container: the
/// package-level `name`, or (with `field`) any field of that name.
fn shrinks(pkg: &Package, name: &str, field: Option<&str>) -> bool {
    use crate::source::model::OpKind;
    let suffix = field.map(|f| format!(".{f}"));
    pkg.program_files().any(|f| {
        f.summary.ops.iter().any(|o| {
            matches!(o.kind, OpKind::Delete | OpKind::Clear | OpKind::Assign)
                && match &suffix {
                    Some(sfx) => o.target.ends_with(sfx.as_str()),
                    None => o.target == name,
                }
        })
    })
}

/// For `x = append(x, ...)` with `x` a package-level variable (or a field path
/// `x.f.g` on one): the target's text without whitespace.
fn global_append(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    left: Node<'_>,
    right: Node<'_>,
) -> Option<String> {
    let src = ctx.src;
    let call = flow::unparen(right);
    if !ctx.is_builtin(call, "append") {
        return None;
    }
    let first = syntax::call_args(call).first().copied()?;
    let target = flow::unparen(left);
    if !flow::same_expr(
        syntax::text(flow::unparen(first), src),
        syntax::text(target, src),
    ) {
        return None;
    }
    let root = field_path_root(target)?;
    let name = syntax::text(root, src);
    if flow::resolve(root, name, src).is_some() || !flow::is_package_var(pkg, name) {
        return None;
    }
    Some(compact(syntax::text(target, src)))
}

/// The root identifier of `x` or `x.f.g` (selectors only: an index means the slice is an
/// element of a map or slice, which other rules cover).
/// Whether `x.f` belongs to an object the same function has just made (`l := &Lobby{...}`,
/// `var b Batch`, `new(T)`): filling a fresh object's slice while building it is bounded by
/// the build, and whatever keeps the object is what grows. Not when the append runs in an
/// endless loop (a worker's `for { ... }`) that the object outlives.
fn under_construction(stmt: Node<'_>, target: Node<'_>, src: &str) -> bool {
    let Some(root) = field_path_root(target) else {
        return false;
    };
    let Some(b) = flow::resolve(root, syntax::text(root, src), src) else {
        return false;
    };
    if !matches!(b.kind, flow::BindKind::ShortVar | flow::BindKind::Var) {
        return false;
    }
    let mut at = stmt;
    while let Some(lp) = super::ticker_not_stopped::locals::loop_around(at) {
        let holds_decl =
            lp.start_byte() <= b.decl.start_byte() && b.decl.end_byte() <= lp.end_byte();
        if !holds_decl && super::ticker_not_stopped::locals::is_endless(lp, src) {
            return false;
        }
        at = lp;
    }
    match b.value.map(flow::unparen) {
        None => b.kind == flow::BindKind::Var && b.ty.is_some(),
        Some(v) => match v.kind() {
            "composite_literal" => true,
            "unary_expression" => v
                .child_by_field_name("operand")
                .is_some_and(|o| flow::unparen(o).kind() == "composite_literal"),
            "call_expression" => flow::is_builtin_call(v, "new", src),
            _ => false,
        },
    }
}

fn field_path_root(mut node: Node<'_>) -> Option<Node<'_>> {
    loop {
        node = flow::unparen(node);
        match node.kind() {
            "identifier" => return Some(node),
            "selector_expression" => node = node.child_by_field_name("operand")?,
            _ => return None,
        }
    }
}

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn root_name(target: &str) -> &str {
    target.split('.').next().unwrap_or(target)
}

/// Whether the function around the append compares `len(x)` or `cap(x)`: a bound such
/// as `if len(x) < max { x = append(x, v) }` or an early return.
fn len_guarded(stmt: Node<'_>, target: &str, src: &str) -> bool {
    let Some(func) = syntax::enclosing_function(stmt) else {
        return false;
    };
    let needles = [format!("len({target})"), format!("cap({target})")];
    syntax::descendants_of_kind(func, "binary_expression").any(|b| {
        matches!(
            flow::operator(b, src),
            "<" | "<=" | ">" | ">=" | "==" | "!="
        ) && {
            let t = compact(syntax::text(b, src));
            needles.iter().any(|n| t.contains(n.as_str()))
        }
    })
}

/// Whether the package, outside code that runs once, assigns the target (or a prefix of
/// its field path) anything but `append(target, ...)`: truncation, reset, reslicing,
/// reassignment; or takes its address, which lets other code do so.
fn is_reset_anywhere(pkg: &Package, target: &str, root: &str) -> bool {
    let prefixes: Vec<String> = {
        let parts: Vec<&str> = target.split('.').collect();
        (1..=parts.len()).map(|n| parts[..n].join(".")).collect()
    };
    let hits = |text: &str| prefixes.iter().any(|p| p == text);
    for file in pkg.program_files() {
        let src: &str = &file.text;
        for node in syntax::descendants(file.tree.root_node()) {
            match node.kind() {
                "assignment_statement" if flow::operator(node, src) == "=" => {
                    let left = flow::items(node.child_by_field_name("left"));
                    let right = flow::items(node.child_by_field_name("right"));
                    for (i, l) in left.iter().enumerate() {
                        let l = flow::unparen(*l);
                        if !hits(&compact(syntax::text(l, src))) || !is_global_root(l, root, src) {
                            continue;
                        }
                        let grows = left.len() == right.len()
                            && right.get(i).is_some_and(|r| {
                                let r = flow::unparen(*r);
                                flow::is_builtin_call(r, "append", src)
                                    && syntax::call_args(r).first().is_some_and(|a| {
                                        compact(syntax::text(flow::unparen(*a), src)) == target
                                    })
                            });
                        if !grows && !flow::runs_once(node, src) {
                            return true;
                        }
                    }
                }
                "unary_expression" if flow::operator(node, src) == "&" => {
                    let Some(operand) = node.child_by_field_name("operand").map(flow::unparen)
                    else {
                        continue;
                    };
                    if hits(&compact(syntax::text(operand, src)))
                        && is_global_root(operand, root, src)
                        && !flow::runs_once(node, src)
                    {
                        return true;
                    }
                }
                _ => {}
            }
        }
    }
    false
}

/// Whether an expression's root is the package-level `root` (not a local shadowing it).
fn is_global_root(expr: Node<'_>, root: &str, src: &str) -> bool {
    field_path_root(expr)
        .is_some_and(|r| syntax::text(r, src) == root && flow::resolve(r, root, src).is_none())
}

fn make_match(
    pkg: &Package,
    ctx: &FileCtx<'_>,
    stmt: Node<'_>,
    call: Node<'_>,
    target: &str,
    root: &str,
) -> Match {
    let func = flow::function_label(stmt, ctx.src);
    let what = if target == root {
        format!("package-level slice \"{target}\"")
    } else {
        format!("slice field \"{target}\" of package-level variable \"{root}\"")
    };
    let mut evidence: Vec<Location> = vec![ctx.loc(stmt)];
    for arg in syntax::call_args(flow::unparen(call)).into_iter().skip(1) {
        flow::alloc_sites(pkg, ctx.file, arg, &mut evidence);
    }
    Match {
        rule: META.id,
        location: ctx.loc(stmt),
        subject: target.to_string(),
        message: format!("{what} is appended to in {func} and never truncated or reset"),
        declaration: flow::decl_location(pkg, root),
        related: Vec::new(),
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::GlobalSliceAppend as R;
    use crate::rules::testing::check;

    #[test]
    fn appended_per_event_and_never_trimmed() {
        check(
            &R,
            r#"
-- events/history.go --
package events

import (
	"fmt"
	"time"
)

type Event struct {
	At     time.Time
	Detail string
	Body   []byte
}

var history []Event

func newBody(n int) []byte {
	b := make([]byte, n)
	return b
}

// Record keeps every event for the audit page.
func Record(kind string, n int) {
	ev := Event{
		At:     time.Now(),
		Detail: fmt.Sprintf("%s #%d", kind, n),
		Body:   newBody(n),
	}
	history = append(history, ev)
}

var stats struct {
	samples []float64
	names   []string
}

func Observe(v float64, name string) {
	stats.samples = append(stats.samples, v)
	stats.names = append(stats.names, "metric:"+name)
}
"#,
            expect![[r#"
                events/history.go:28 global-slice-append [history] package-level slice "history" is appended to in Record and never truncated or reset
                  declared events/history.go:14
                  evidence events/history.go:28 events/history.go:23-27 events/history.go:16-19
                events/history.go:37 global-slice-append [stats.samples] slice field "stats.samples" of package-level variable "stats" is appended to in Observe and never truncated or reset
                  declared events/history.go:31
                  evidence events/history.go:37
                events/history.go:38 global-slice-append [stats.names] slice field "stats.names" of package-level variable "stats" is appended to in Observe and never truncated or reset
                  declared events/history.go:31
                  evidence events/history.go:38
            "#]],
        );
    }

    #[test]
    fn truncation_reset_and_reslicing_anywhere_in_the_package() {
        check(
            &R,
            r#"
-- a.go --
package a

var (
	pending []int
	queue   []int
	window  []int
	batch   []string
	loaded  []string
)

func Add(v int) {
	pending = append(pending, v)
	queue = append(queue, v)
	window = append(window, v)
	batch = append(batch, "x")
	loaded = append(loaded, "y")
}
-- b.go --
package a

import "encoding/json"

func Flush() {
	pending = pending[:0]
}

func Pop() int {
	v := queue[0]
	queue = queue[1:]
	return v
}

func Slide() {
	window = append(window[:0], window[len(window)-10:]...)
}

func Reset() {
	batch = nil
}

func Load(data []byte) error {
	return json.Unmarshal(data, &loaded)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn bounded_by_a_length_check() {
        check(
            &R,
            r#"
-- a.go --
package a

const maxRecent = 100

var recent []string

func Note(s string) {
	if len(recent) >= maxRecent {
		return
	}
	recent = append(recent, s)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn init_once_and_initializers_run_once_but_loops_in_main_do_not() {
        check(
            &R,
            r#"
-- main.go --
package main

import "sync"

var (
	routes  []string
	plugins []string
	once    sync.Once
	extra   []string
	hooks   []func()
	perTick []int
)

func init() {
	routes = append(routes, "/", "/health")
}

var _ = func() bool {
	plugins = append(plugins, "core")
	return true
}()

func setup() {
	once.Do(func() {
		extra = append(extra, "lazy")
	})
}

func main() {
	hooks = append(hooks, func() {})
	setup()
	for i := 0; i < 10; i++ {
		perTick = append(perTick, i)
	}
}
"#,
            expect![[r#"
                main.go:33 global-slice-append [perTick] package-level slice "perTick" is appended to in main and never truncated or reset
                  declared main.go:11
                  evidence main.go:33
            "#]],
        );
    }

    #[test]
    fn shadowed_and_local_slices_tests_and_generated_files() {
        check(
            &R,
            r#"
-- a.go --
package a

var history []int

func Local(n int) []int {
	history := make([]int, 0, n)
	for i := 0; i < n; i++ {
		history = append(history, i)
	}
	return history
}

func Param(history []int, v int) []int {
	history = append(history, v)
	return history
}

func Captured() func(int) {
	var seen []int
	return func(v int) { seen = append(seen, v) }
}
-- a_test.go --
package a

func record(v int) { history = append(history, v) }
-- zz_gen.go --
// Code generated by stringer. DO NOT EDIT.

package a

func gen(v int) { history = append(history, v) }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn reset_only_in_tests_or_init_does_not_count() {
        check(
            &R,
            r#"
-- a.go --
package a

var log []string

func init() {
	log = make([]string, 0, 64)
}

func Write(s string) {
	log = append(log, s)
}
-- a_test.go --
package a

func resetLog() { log = nil }
"#,
            expect![[r#"
                a.go:10 global-slice-append [log] package-level slice "log" is appended to in Write and never truncated or reset
                  declared a.go:3
                  evidence a.go:10
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &R,
            "-- bad.go --\npackage bad\n\nvar xs []int\n\nfunc F( {\n\txs = append(xs, \n",
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn slice_fields_of_long_lived_structs() {
        check(
            &R,
            r#"
-- stats/collector.go --
package stats

import "time"

type clientStats struct {
	lines     int
	latencies []time.Duration
}

// Collector keeps a struct per client in a map nothing deletes from.
type Collector struct {
	clients map[string]*clientStats
}

func (c *Collector) Observe(host string, took time.Duration) {
	st, ok := c.clients[host]
	if !ok {
		st = &clientStats{}
		c.clients[host] = st
	}
	st.lines++
	st.latencies = append(st.latencies, took)
}

type journal struct {
	entries []string
}

var current = &journal{}

func (j *journal) Add(e string) {
	j.entries = append(j.entries, "entry: "+e)
}
-- audit/audit.go --
package audit

import "sync"

type Record struct{ Body []byte }

// Log is shared by the request handlers; its records are never flushed.
type Log struct {
	mu      sync.Mutex
	records []Record
}

func (l *Log) Record(body []byte) {
	rec := Record{Body: append([]byte(nil), body...)}
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
}

// Batch is shared too, but its flush resets the slice.
type Batch struct {
	mu    sync.Mutex
	items []string
}

func (b *Batch) Add(s string) {
	b.mu.Lock()
	b.items = append(b.items, s)
	b.mu.Unlock()
}

func (b *Batch) Flush() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.items
	b.items = nil
	return out
}

// Lobby is shared too; newLobby fills a fresh one's seats while building it.
type Lobby struct {
	mu    sync.Mutex
	seats []string
}

func newLobby(players []string) *Lobby {
	l := &Lobby{}
	for _, p := range players {
		l.seats = append(l.seats, p)
	}
	return l
}

// A worker's own lobby grows for as long as its endless loop runs.
func worker(joins chan string) {
	l := &Lobby{}
	for {
		l.seats = append(l.seats, <-joins)
	}
}
"#,
            expect![[r#"
                audit/audit.go:16 global-slice-append [Log.records] slice field "records" of Log, which is shared between goroutines (field `mu sync.Mutex`), is appended to in (*Log).Record and never truncated or reset
                  declared audit/audit.go:10
                  evidence audit/audit.go:16 audit/audit.go:14
                audit/audit.go:58 global-slice-append [Lobby.seats] slice field "seats" of Lobby, which is shared between goroutines (field `mu sync.Mutex`), is appended to in worker and never truncated or reset
                  declared audit/audit.go:43
                  evidence audit/audit.go:58
                stats/collector.go:22 global-slice-append [clientStats.latencies] slice field "latencies" of clientStats, which map field "Collector.clients" keeps and never shrinks, is appended to in (*Collector).Observe and never truncated or reset
                  declared stats/collector.go:7
                  evidence stats/collector.go:22
                stats/collector.go:32 global-slice-append [journal.entries] slice field "entries" of journal, which package-level variable "current" holds, is appended to in (*journal).Add and never truncated or reset
                  declared stats/collector.go:26
                  evidence stats/collector.go:32
            "#]],
        );
    }

    #[test]
    fn slice_fields_reset_or_of_short_lived_structs() {
        check(
            &R,
            r#"
-- stats/collector.go --
package stats

type window struct {
	samples []float64
}

type Collector struct {
	clients map[string]*window
}

func (c *Collector) Observe(host string, v float64) {
	w := c.clients[host]
	w.samples = append(w.samples, v)
}

// Flush truncates every window.
func (c *Collector) Flush() {
	for _, w := range c.clients {
		w.samples = w.samples[:0]
	}
}

type ring struct {
	items []int
}

var recent = &ring{}

func (r *ring) Push(v int) {
	r.items = append(r.items, v)
	if len(r.items) > 100 {
		r.items = nil
	}
}

type session struct {
	log []string
}

// Sessions are dropped: the map is deleted from.
type Registry struct {
	sessions map[string]*session
}

func (r *Registry) Log(id, line string) {
	s := r.sessions[id]
	s.log = append(s.log, line)
}

func (r *Registry) Close(id string) {
	delete(r.sessions, id)
}

type request struct {
	parts []string
}

// A request-scoped struct: nothing long-lived holds it.
func Handle(in []string) int {
	req := &request{}
	for _, p := range in {
		req.parts = append(req.parts, p)
	}
	return len(req.parts)
}
-- fs/fs.go --
package fs

import "sync"

// Files have a lock, yet each lives as long as its entry: removed or replaced.
type file struct {
	mu   sync.Mutex
	data []byte
}

type FS struct {
	mu    sync.Mutex
	files map[string]*file
}

func (fs *FS) Append(path string, p []byte) {
	fs.mu.Lock()
	f := fs.files[path]
	fs.mu.Unlock()
	f.mu.Lock()
	f.data = append(f.data, p...)
	f.mu.Unlock()
}

func (fs *FS) Remove(path string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.files, path)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }
}
