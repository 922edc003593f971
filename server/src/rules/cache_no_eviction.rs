//! `cache-no-eviction`: a cache that only ever stores: a `sync.Map` (package-level, a field
//! of a long-lived struct, or captured by a closure that outlives its function) with
//! `Store`/`LoadOrStore`/`Swap` and nothing that deletes, and a memo map captured by a
//! function literal that is returned or stored. Plain package-level maps and map fields
//! are `unbounded-global-map` and `map-field-no-delete`.

use tree_sitter::Node;

use super::flow::PackageIndex;
use super::syntax;
use super::unbounded_global_map::maps::{
    self, binding, function_label, join_labels, list_items, tidy, unparen, write_statement,
    Binding, Target,
};
use super::unbounded_global_map::{constant_key, stored_values};
use super::{Context, EvidenceKind, Location, Match, Related, Rule, RuleMeta};

/// The `cache-no-eviction` rule.
#[derive(Debug)]
pub struct CacheNoEviction;

static META: RuleMeta = RuleMeta {
    id: "cache-no-eviction",
    name: "Cache without eviction",
    summary: "A sync.Map or memo map that only stores entries grows forever.",
    evidence: EvidenceKind::Heap,
    grows: true,
};

/// One store into a cache: (file, the call or `m[k]`, the statement).
type Store<'p> = (usize, Node<'p>, Node<'p>);

impl Rule for CacheNoEviction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let idx = pkg.index();
        if idx.files.is_empty() {
            return;
        }
        // Caches in the order they are first stored to, with their stores.
        let mut caches: Vec<(Target, Vec<Store<'_>>)> = Vec::new();
        for (fi, f) in idx.files.iter().enumerate() {
            for n in syntax::descendants(f.tree.root_node()) {
                let found = match n.kind() {
                    "call_expression" => {
                        sync_map_store(idx, fi, n).map(|t| (t, n, syntax::statement_of(n)))
                    }
                    "index_expression" => memo_write(idx, fi, n),
                    _ => None,
                };
                let Some((target, at, stmt)) = found else {
                    continue;
                };
                match caches.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, stores)) => stores.push((fi, at, stmt)),
                    None => caches.push((target, vec![(fi, at, stmt)])),
                }
            }
        }
        if caches.is_empty() {
            return;
        }
        let shrinks = idx.shrinks();
        for (target, stores) in caches {
            let stores: Vec<Store<'_>> = stores
                .into_iter()
                .filter(|&(fi, at, stmt)| {
                    !idx.runs_once(fi, stmt)
                        && !bounded_store_key(idx, fi, at)
                        && idx.len_guarded(fi, stmt, &target).is_none()
                })
                .collect();
            let Some(&(fi, at, _)) = stores.first() else {
                continue;
            };
            if shrinks.iter().any(|s| s.target.same(&target)) || !idx.resets(&target).is_empty() {
                continue;
            }
            let Some((what, declaration)) = describe(idx, &target, fi, at) else {
                continue;
            };
            let labels: Vec<String> = stores
                .iter()
                .map(|&(sf, _, stmt)| function_label(stmt, idx.src(sf)))
                .collect();
            let mut evidence = Vec::new();
            let mut related = Vec::new();
            for (i, &(sf, at, stmt)) in stores.iter().enumerate() {
                evidence.push(idx.location(sf, stmt));
                if at.kind() == "call_expression" {
                    for arg in syntax::call_args(at).into_iter().take(2) {
                        idx.alloc_sites(sf, arg, &mut evidence);
                    }
                } else {
                    stored_values(pkg, idx, sf, at, stmt, &mut evidence);
                }
                if i > 0 {
                    related.push(Related {
                        location: idx.location(sf, at),
                        message: format!("also stored to in {}", labels[i]),
                    });
                }
            }
            tidy(&mut evidence);
            let subject = match &target {
                Target::Global(n) | Target::Local { name: n, .. } => n.clone(),
                Target::Field { ty, name } => match ty {
                    Some(t) => format!("{t}.{name}"),
                    None => name.clone(),
                },
                Target::Param { .. } => continue,
            };
            let message = match &target {
                Target::Local { .. } => {
                    // The function whose local the literal captures.
                    let outer = syntax::ancestors(at)
                        .find(|a| a.kind() == "func_literal")
                        .and_then(|lit| lit.parent())
                        .map(|p| function_label(p, idx.src(fi)))
                        .unwrap_or_default();
                    format!(
                        "{what} \"{subject}\" of {outer} is filled by a function literal that outlives the call and nothing evicts from it"
                    )
                }
                _ => format!(
                    "{what} \"{subject}\" is stored to in {} and nothing evicts from it",
                    join_labels(&labels)
                ),
            };
            out.push(Match {
                rule: META.id,
                location: idx.location(fi, at),
                message,
                subject,
                declaration,
                related,
                evidence,
                fixes: Vec::new(),
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// A `Store`, `LoadOrStore` or `Swap` call on a `sync.Map`, and the map it stores to.
fn sync_map_store(idx: &PackageIndex<'_>, fi: usize, call: Node<'_>) -> Option<Target> {
    let f = unparen(call.child_by_field_name("function")?);
    if f.kind() != "selector_expression" {
        return None;
    }
    let method = idx.text(fi, f.child_by_field_name("field")?);
    if !matches!(method, "Store" | "LoadOrStore" | "Swap") || syntax::call_args(call).len() != 2 {
        return None;
    }
    let operand = f.child_by_field_name("operand")?;
    let mut target = idx.resolve(fi, operand)?;
    // A field reached through something other than a receiver: name its struct when only
    // one struct has a sync.Map field of that name.
    if let Target::Field {
        ty: ty @ None,
        name,
    } = &mut target
    {
        if let [(_, only, _)] = sync_map_fields(idx, None, name).as_slice() {
            *ty = Some((*only).to_string());
        }
    }
    let is_sync_map = match &target {
        Target::Global(name) => idx.vars.get(name.as_str()).is_some_and(|g| {
            g.ty.is_some_and(|t| idx.is_sync_map_type(g.file, t))
                || g.value.is_some_and(|v| makes_sync_map(idx, g.file, v))
        }),
        Target::Field { ty, name } => !sync_map_fields(idx, ty.as_deref(), name).is_empty(),
        Target::Local { .. } => {
            let (decl, name) = local_decl(idx, fi, operand)?;
            let declared = local_type(decl, name).is_some_and(|t| idx.is_sync_map_type(fi, t))
                || maps::declared_value(decl, name, idx.src(fi))
                    .is_some_and(|v| makes_sync_map(idx, fi, v));
            declared && captured_by_escaping_literal(idx, fi, call, decl)
        }
        Target::Param { .. } => false,
    };
    is_sync_map.then_some(target)
}

/// A write `m[k] = v` inside a function literal into a map local to an enclosing function,
/// where the literal is returned or stored: a memo cache living as long as the literal.
fn memo_write<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    index: Node<'p>,
) -> Option<(Target, Node<'p>, Node<'p>)> {
    let stmt = write_statement(index)?;
    let operand = index.child_by_field_name("operand")?;
    let target = idx.resolve(fi, operand)?;
    let Target::Local { .. } = target else {
        return None;
    };
    let (decl, name) = local_decl(idx, fi, operand)?;
    let is_map = local_type(decl, name).is_some_and(|t| idx.map_type(fi, t).is_some())
        || maps::declared_value(decl, name, idx.src(fi))
            .is_some_and(|v| idx.map_type_of_value(fi, v).is_some());
    (is_map && captured_by_escaping_literal(idx, fi, index, decl)).then_some((target, index, stmt))
}

/// The declaring node and name of a local identifier (not followed through aliases).
fn local_decl<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    operand: Node<'p>,
) -> Option<(Node<'p>, &'p str)> {
    let operand = unparen(operand);
    let operand = if operand.kind() == "unary_expression" {
        unparen(operand.child_by_field_name("operand")?)
    } else {
        operand
    };
    if operand.kind() != "identifier" {
        return None;
    }
    match binding(operand, idx.src(fi)) {
        Binding::Local { decl } => Some((decl, idx.text(fi, operand))),
        _ => None,
    }
}

/// The declared type of a local from `var x T`.
fn local_type<'p>(decl: Node<'p>, _name: &str) -> Option<Node<'p>> {
    if decl.kind() != "var_declaration" {
        return None;
    }
    maps::specs(decl, "var_spec")
        .into_iter()
        .find_map(|s| s.child_by_field_name("type"))
}

/// Whether `node` sits in a function literal that captures the local declared by `decl`
/// (declared outside the literal) and that outlives its function: returned, or assigned
/// to a field, a package-level variable or a map or slice element.
fn captured_by_escaping_literal(
    idx: &PackageIndex<'_>,
    fi: usize,
    node: Node<'_>,
    decl: Node<'_>,
) -> bool {
    let Some(lit) = syntax::ancestors(node).find(|a| a.kind() == "func_literal") else {
        return false;
    };
    if lit.start_byte() <= decl.start_byte() && decl.end_byte() <= lit.end_byte() {
        return false;
    }
    literal_escapes(idx, fi, lit)
}

/// Whether a function literal is returned or stored beyond its function.
pub(crate) fn literal_escapes(idx: &PackageIndex<'_>, fi: usize, lit: Node<'_>) -> bool {
    let mut node = lit;
    while let Some(p) = node.parent() {
        if p.kind() == "parenthesized_expression" {
            node = p;
            continue;
        }
        break;
    }
    let Some(p) = node.parent() else {
        return false;
    };
    match p.kind() {
        "return_statement" => true,
        "expression_list" => match p.parent() {
            Some(s) if s.kind() == "return_statement" => true,
            Some(s)
                if s.kind() == "assignment_statement"
                    && s.child_by_field_name("right") == Some(p) =>
            {
                let lhs = s
                    .child_by_field_name("left")
                    .map(list_items)
                    .unwrap_or_default();
                lhs.iter().any(|l| {
                    let l = unparen(*l);
                    match l.kind() {
                        "identifier" => matches!(binding(l, idx.src(fi)), Binding::Package),
                        _ => true,
                    }
                })
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a value makes a `sync.Map`: `sync.Map{}`, `&sync.Map{}` or `new(sync.Map)`.
fn makes_sync_map(idx: &PackageIndex<'_>, fi: usize, value: Node<'_>) -> bool {
    let mut v = unparen(value);
    if v.kind() == "unary_expression" {
        match v.child_by_field_name("operand") {
            Some(o) => v = unparen(o),
            None => return false,
        }
    }
    match v.kind() {
        "composite_literal" => v
            .child_by_field_name("type")
            .is_some_and(|t| idx.is_sync_map_type(fi, t)),
        "call_expression" => {
            idx.is_builtin_call(fi, v, "new")
                && syntax::call_args(v)
                    .first()
                    .is_some_and(|t| idx.text(fi, *t) == "sync.Map")
        }
        _ => false,
    }
}

/// The `sync.Map` fields named `name` (of struct `ty` when known): (file, struct name,
/// field declaration).
fn sync_map_fields<'p>(
    idx: &PackageIndex<'p>,
    ty: Option<&str>,
    name: &str,
) -> Vec<(usize, &'p str, Node<'p>)> {
    let mut out = Vec::new();
    for (&tname, spec) in &idx.types {
        if ty.is_some_and(|t| t != tname) {
            continue;
        }
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
            let named = maps::field_nodes(decl, "name")
                .iter()
                .any(|n| idx.text(fi, *n) == name);
            if named
                && decl
                    .child_by_field_name("type")
                    .is_some_and(|t| idx.is_sync_map_type(fi, t))
            {
                out.push((fi, tname, decl));
            }
        }
    }
    out.sort_by_key(|(_, _, d)| d.start_byte());
    out
}

/// What the cache is, for the message, and its declaration; `None` when the cache cannot
/// outlive a request (a field of request-scoped structs only).
fn describe(
    idx: &PackageIndex<'_>,
    target: &Target,
    fi: usize,
    at: Node<'_>,
) -> Option<(&'static str, Option<Location>)> {
    let sync = at.kind() == "call_expression";
    match target {
        Target::Global(name) => {
            let g = idx.vars.get(name.as_str())?;
            Some(("package-level sync.Map", Some(idx.location(g.file, g.spec))))
        }
        Target::Field { ty, name } => {
            let fields: Vec<_> = sync_map_fields(idx, ty.as_deref(), name)
                .into_iter()
                .filter(|(_, t, _)| !idx.request_scoped(t))
                .collect();
            let (ff, _, decl) = fields.first()?;
            Some(("sync.Map field", Some(idx.location(*ff, *decl))))
        }
        Target::Local { .. } => {
            let operand = if sync {
                unparen(at.child_by_field_name("function")?).child_by_field_name("operand")?
            } else {
                at.child_by_field_name("operand")?
            };
            let (decl, _) = local_decl(idx, fi, operand)?;
            let what = if sync { "sync.Map" } else { "memo map" };
            Some((what, Some(idx.location(fi, decl))))
        }
        Target::Param { .. } => None,
    }
}

/// Whether every key a store uses is bounded (a constant or a `reflect.Type`).
fn bounded_store_key(idx: &PackageIndex<'_>, fi: usize, at: Node<'_>) -> bool {
    if at.kind() == "call_expression" {
        return syntax::call_args(at)
            .first()
            .is_some_and(|k| idx.is_bounded_key(fi, *k));
    }
    constant_key(idx, fi, at)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::CacheNoEviction;
    use crate::rules::testing::check;

    #[test]
    fn sync_maps_that_only_store() {
        check(
            &CacheNoEviction,
            r#"
-- render/render.go --
package render

import (
	"fmt"
	"strings"
	"sync"
)

var pages sync.Map

type Page struct {
	Key  string
	Body []byte
}

func build(key string) *Page {
	body := []byte(strings.Repeat(key, 64))
	return &Page{Key: key, Body: body}
}

func Render(path string, user int) *Page {
	key := fmt.Sprintf("%s?u=%d", path, user)
	if p, ok := pages.Load(key); ok {
		return p.(*Page)
	}
	p := build(key)
	pages.Store(key, p)
	return p
}

type Resolver struct {
	cache sync.Map
	last  *sync.Map
}

func NewResolver() *Resolver { return &Resolver{last: new(sync.Map)} }

func (r *Resolver) Lookup(host string) []string {
	v, _ := r.cache.LoadOrStore(host, make([]string, 0, 4))
	r.last.Swap(host, strings.ToUpper(host))
	return v.([]string)
}

func Warm(r *Resolver, hosts []string) {
	for _, h := range hosts {
		r.cache.Store(h, []string{h})
	}
}
"#,
            expect![[r#"
                render/render.go:27 cache-no-eviction [pages] package-level sync.Map "pages" is stored to in Render and nothing evicts from it
                  declared render/render.go:9
                  evidence render/render.go:16-19 render/render.go:22 render/render.go:26 render/render.go:27
                render/render.go:39 cache-no-eviction [Resolver.cache] sync.Map field "Resolver.cache" is stored to in (*Resolver).Lookup and Warm and nothing evicts from it
                  declared render/render.go:32
                  related render/render.go:46 also stored to in Warm
                  evidence render/render.go:39 render/render.go:46
                render/render.go:40 cache-no-eviction [Resolver.last] sync.Map field "Resolver.last" is stored to in (*Resolver).Lookup and nothing evicts from it
                  declared render/render.go:33
                  evidence render/render.go:40
            "#]],
        );
    }

    #[test]
    fn memo_maps_captured_by_returned_or_stored_closures() {
        check(
            &CacheNoEviction,
            r#"
-- memo.go --
package memo

import "sync"

func Memoize(f func(string) []byte) func(string) []byte {
	cache := map[string][]byte{}
	var mu sync.Mutex
	return func(k string) []byte {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := cache[k]; ok {
			return v
		}
		v := f(k)
		cache[k] = v
		return v
	}
}

type Server struct{ lookup func(string) string }

func (s *Server) init() {
	var seen sync.Map
	s.lookup = func(k string) string {
		seen.Store(k, make([]byte, 64))
		return k
	}
}
"#,
            expect![[r#"
                memo.go:15 cache-no-eviction [cache] memo map "cache" of Memoize is filled by a function literal that outlives the call and nothing evicts from it
                  declared memo.go:6
                  evidence memo.go:14 memo.go:15
                memo.go:25 cache-no-eviction [seen] sync.Map "seen" of (*Server).init is filled by a function literal that outlives the call and nothing evicts from it
                  declared memo.go:23
                  evidence memo.go:25
            "#]],
        );
    }

    #[test]
    fn eviction_anywhere_in_the_package_or_a_reset() {
        check(
            &CacheNoEviction,
            r#"
-- a.go --
package a

import (
	"sync"
	"time"
)

var (
	swept    sync.Map
	taken    sync.Map
	replaced sync.Map
	cleared  sync.Map
	reset    = &sync.Map{}
)

func Put(k string, v []byte) {
	swept.Store(k, v)
	taken.Store(k, v)
	replaced.Store(k, v)
	cleared.Store(k, v)
	reset.Store(k, v)
}

func Sweep(now time.Time) {
	swept.Range(func(k, v any) bool {
		swept.Delete(k)
		return true
	})
	taken.LoadAndDelete("k")
	replaced.CompareAndDelete("k", nil)
	cleared.Clear()
	reset = &sync.Map{}
}

func Memo(f func(string) int) func(string) int {
	cache := map[string]int{}
	return func(k string) int {
		if len(cache) > 1000 {
			cache = map[string]int{}
		}
		cache[k] = f(k)
		return cache[k]
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn small_key_sets_start_up_code_and_short_lived_maps() {
        check(
            &CacheNoEviction,
            r#"
-- a.go --
package a

import (
	"reflect"
	"sort"
	"sync"
)

var (
	fieldCache sync.Map
	config     sync.Map
	codecs     sync.Map
	once       sync.Once
)

func init() {
	codecs.Store("json", 1)
}

func Fields(v any) []string {
	t := reflect.TypeOf(v)
	fieldCache.Store(t, []string{t.Name()})
	config.Store("current", v)
	once.Do(func() { codecs.Store(t.String(), 2) })
	return nil
}

func Sorted(xs []string) map[string]int {
	rank := map[string]int{}
	sort.Slice(xs, func(i, j int) bool {
		rank[xs[i]]++
		return xs[i] < xs[j]
	})
	var wg sync.WaitGroup
	var results sync.Map
	for _, x := range xs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results.Store(x, len(x))
		}()
	}
	wg.Wait()
	return rank
}
-- a_test.go --
package a

import (
	"sync"
	"testing"
)

var seen sync.Map

func TestSeen(t *testing.T) { seen.Store(t.Name(), 1) }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }
}
