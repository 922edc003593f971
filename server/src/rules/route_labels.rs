//! A metric label read from `r.Pattern` before the mux routed the request: in a
//! middleware wrapping a `*http.ServeMux`, `r.Pattern` is empty until `mux.ServeHTTP`
//! sets it, so a label helper falling back to `r.URL.Path` makes one label value per URL,
//! and the metric registry's series map (a map field of another workspace package) gains
//! an entry per URL for good. Part of `map-field-no-delete`: the map that grows is the
//! registry's; the line to change is the read before routing.

use tree_sitter::Node;

use super::flow;
use super::syntax;
use super::{Context, Location, Match, Package, Related, SourceFile};

/// Paths of the URL that make one value per request.
const RAW_PATH: [&str; 3] = [".URL.Path", ".RequestURI", ".URL.String()"];

/// The matches of the package's middlewares.
pub(crate) fn labels_before_routing(cx: &Context<'_>, rule: &'static str) -> Vec<Match> {
    let mut out = Vec::new();
    for file in cx.program_files() {
        let src: &str = &file.text;
        let Some(http) = flow::import_name(file.tree.root_node(), src, "net/http") else {
            continue;
        };
        let request_type = format!("*{http}.Request");
        for handler in syntax::descendants(file.tree.root_node()).filter(|n| {
            matches!(
                n.kind(),
                "func_literal" | "function_declaration" | "method_declaration"
            )
        }) {
            let (Some(params), Some(body)) = (
                handler.child_by_field_name("parameters"),
                handler.child_by_field_name("body"),
            ) else {
                continue;
            };
            let Some(req) = syntax::descendants_of_kind(params, "parameter_declaration")
                .filter(|p| {
                    p.child_by_field_name("type")
                        .is_some_and(|t| syntax::text(t, src).replace(' ', "") == request_type)
                })
                .flat_map(flow::named)
                .find(|n| n.kind() == "identifier")
                .map(|n| syntax::text(n, src))
            else {
                continue;
            };
            let Some(routing) = routing_call(cx, file, handler, body, req) else {
                continue;
            };
            for stmt in statements(body) {
                if stmt.start_byte() >= routing.start_byte() {
                    break;
                }
                if let Some(m) = early_read(cx, file, stmt, req, routing, rule) {
                    out.push(m);
                }
            }
        }
    }
    out
}

/// The statements of a block, in order.
fn statements(block: Node<'_>) -> Vec<Node<'_>> {
    flow::named(block)
        .into_iter()
        .flat_map(|n| match n.kind() {
            "statement_list" => flow::named(n),
            _ => vec![n],
        })
        .collect()
}

/// The call handing the request to the mux, when the handler wraps one: `mux.ServeHTTP(w,
/// r)` on a `*http.ServeMux`, or `next.ServeHTTP(w, r)` / `next(w, r)` on a parameter of
/// the middleware making the handler, when the package passes it a mux.
fn routing_call<'t>(
    cx: &Context<'_>,
    file: &'t SourceFile,
    handler: Node<'t>,
    body: Node<'t>,
    req: &str,
) -> Option<Node<'t>> {
    let src: &str = &file.text;
    for call in syntax::descendants_of_kind(body, "call_expression") {
        if syntax::enclosing_function(call).map(|f| f.id()) != Some(handler.id()) {
            continue;
        }
        let args = syntax::call_args(call);
        let passes_request = args
            .get(1)
            .map(|a| flow::unparen(*a))
            .is_some_and(|a| syntax::text(a, src) == req);
        if !passes_request {
            continue;
        }
        let Some(f) = call.child_by_field_name("function").map(flow::unparen) else {
            continue;
        };
        let next = match f.kind() {
            "selector_expression"
                if f.child_by_field_name("field")
                    .is_some_and(|n| syntax::text(n, src) == "ServeHTTP") =>
            {
                match f.child_by_field_name("operand") {
                    Some(o) => flow::unparen(o),
                    None => continue,
                }
            }
            "identifier" => f,
            _ => continue,
        };
        if is_mux(cx, file, next) {
            return Some(call);
        }
        // A parameter of the middleware (`func (s *Server) instrument(next http.Handler)`):
        // a mux when one of the package's calls of the middleware passes one.
        let Some(b) = flow::resolve_ident(next, src).filter(|b| b.kind == flow::BindKind::Param)
        else {
            continue;
        };
        let (Some(pos), Some(middleware)) = (
            flow::param_position(&b),
            b.decl.parent().and_then(|l| l.parent()),
        ) else {
            continue;
        };
        if middleware.id() == handler.id() {
            continue;
        }
        let wraps_mux = flow::callers(cx, middleware, src)
            .into_iter()
            .any(|(cf, c)| {
                syntax::call_args(c)
                    .get(pos)
                    .is_some_and(|a| is_mux(cx, cf, flow::unparen(*a)))
            });
        if wraps_mux {
            return Some(call);
        }
    }
    None
}

/// Whether an expression is a `*http.ServeMux`: a local made by `http.NewServeMux()` or
/// declared so, or a field declared so.
fn is_mux(cx: &Context<'_>, file: &SourceFile, e: Node<'_>) -> bool {
    let src: &str = &file.text;
    let mux_type = |t: &str| t.replace(' ', "").ends_with(".ServeMux");
    match e.kind() {
        "identifier" => flow::resolve_ident(e, src).is_some_and(|b| {
            b.ty.is_some_and(|t| mux_type(syntax::text(t, src)))
                || b.value.map(flow::unparen).is_some_and(|v| {
                    v.kind() == "call_expression"
                        && syntax::called_name(v, src) == Some("NewServeMux")
                })
        }),
        "selector_expression" => e
            .child_by_field_name("field")
            .and_then(|f| flow::field_type_text(cx, syntax::text(f, src)))
            .is_some_and(|t| mux_type(&t)),
        _ => false,
    }
}

/// A statement before the routing call that reads `r.Pattern`, itself or through a
/// package function given the request, with a fallback to the raw URL path.
fn early_read(
    cx: &Context<'_>,
    file: &SourceFile,
    stmt: Node<'_>,
    req: &str,
    routing: Node<'_>,
    rule: &'static str,
) -> Option<Match> {
    let src: &str = &file.text;
    let pattern = format!("{req}.Pattern");
    let direct = syntax::text(stmt, src).contains(&pattern)
        && RAW_PATH
            .iter()
            .any(|p| syntax::text(stmt, src).contains(&format!("{req}{p}")));
    let helper = syntax::descendants_of_kind(stmt, "call_expression").find_map(|c| {
        let f = c.child_by_field_name("function").map(flow::unparen)?;
        if f.kind() != "identifier" {
            return None;
        }
        let pos = syntax::call_args(c)
            .iter()
            .position(|a| syntax::text(flow::unparen(*a), src) == req)?;
        let (hf, decl) = flow::package_function(cx, syntax::text(f, src))?;
        let hsrc: &str = &hf.text;
        let param = decl
            .child_by_field_name("parameters")
            .map(|p| {
                syntax::descendants_of_kind(p, "parameter_declaration")
                    .flat_map(flow::named)
                    .filter(|n| n.kind() == "identifier")
                    .map(|n| syntax::text(n, hsrc))
                    .collect::<Vec<_>>()
            })?
            .get(pos)
            .copied()?;
        let text = syntax::text(decl.child_by_field_name("body")?, hsrc);
        let reads = text.contains(&format!("{param}.Pattern"))
            && RAW_PATH
                .iter()
                .any(|p| text.contains(&format!("{param}{p}")));
        reads.then(|| syntax::text(f, src).to_string())
    });
    if !direct && helper.is_none() {
        return None;
    }
    // The label the statement binds (`route := routeOf(r)`), and the calls after routing
    // that pass it on: where the series are made.
    let label = (stmt.kind() == "short_var_declaration")
        .then(|| {
            flow::items(stmt.child_by_field_name("left"))
                .first()
                .copied()
        })
        .flatten()
        .map(|n| syntax::text(n, src));
    let func = syntax::enclosing_function(stmt)?;
    let mut evidence = vec![file.location(stmt)];
    let mut maps: Vec<String> = Vec::new();
    let mut uses: Vec<Location> = Vec::new();
    if let Some(label) = label {
        for c in syntax::descendants_of_kind(func, "call_expression") {
            if c.start_byte() <= routing.end_byte()
                || !syntax::call_args(c)
                    .iter()
                    .any(|a| syntax::text(flow::unparen(*a), src) == label)
            {
                continue;
            }
            let Some(name) = syntax::called_name(c, src) else {
                continue;
            };
            if series_maps(cx, file, name, &mut evidence, &mut maps) {
                uses.push(file.location(c));
            }
        }
    }
    let via = match &helper {
        Some(h) => format!("{h} reads {req}.Pattern and falls back to the raw URL path"),
        None => format!("{req}.Pattern falls back to the raw URL path"),
    };
    let grows = match maps.as_slice() {
        [] => "every distinct URL becomes a new label value".to_string(),
        m => format!(
            "every distinct URL becomes a new label value, and map field {} gains a series per URL",
            m.iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    let message = format!(
        "{} computes a metric label before {} routes the request, while {req}.Pattern is still empty: {via}, so {grows}",
        flow::function_label(stmt, src),
        syntax::text(
            routing.child_by_field_name("function").unwrap_or(routing),
            src
        ),
    );
    let mut related = vec![Related {
        location: file.location(routing),
        message: "the mux sets the pattern in this call".to_string(),
    }];
    related.extend(uses.into_iter().map(|location| Related {
        location,
        message: "the label is used here".to_string(),
    }));
    Some(Match {
        rule,
        location: file.location(stmt),
        subject: label.unwrap_or("route").to_string(),
        message,
        declaration: None,
        related,
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
    })
}

/// For a method `name` of the workspace packages the file imports (`s.metrics.Counter(
/// ...)`), or of one method of the same receiver it calls (`Histogram` calling
/// `HistogramWithBuckets`): its writes to map fields (`r.histograms[key] = h`) and where
/// their values are allocated.
fn series_maps(
    cx: &Context<'_>,
    file: &SourceFile,
    name: &str,
    evidence: &mut Vec<Location>,
    maps: &mut Vec<String>,
) -> bool {
    let mut any = false;
    let imports: Vec<String> = flow::imports(file).into_iter().map(|(_, p)| p).collect();
    for path in imports {
        let Some(other) = cx.other_package(&path) else {
            continue;
        };
        let mut methods = flow::package_methods(&other, name);
        // One level of same-receiver delegation.
        let delegated: Vec<_> = methods
            .iter()
            .flat_map(|(mf, m)| {
                let msrc: &str = &mf.text;
                m.child_by_field_name("body")
                    .map(|b| syntax::descendants_of_kind(b, "call_expression"))
                    .into_iter()
                    .flatten()
                    .filter_map(|c| syntax::called_name(c, msrc))
                    .filter(|n| *n != name)
                    .collect::<Vec<_>>()
            })
            .collect();
        for d in delegated {
            methods.extend(flow::package_methods(&other, d));
        }
        let mut writes = false;
        for (mf, m) in &methods {
            writes |= map_writes(&other, mf, *m, evidence, maps);
        }
        if !writes {
            continue;
        }
        any = true;
        // What a maker passed to the shared lookup makes (`r.lookup(name, kv, func() any
        // { return newSummary() })`): the series' metric.
        for (mf, m) in methods.iter().filter(|(mf, m)| {
            m.child_by_field_name("name")
                .is_some_and(|n| syntax::text(n, &mf.text) == name)
        }) {
            for lit in syntax::descendants_of_kind(*m, "func_literal") {
                for r in syntax::descendants_of_kind(lit, "return_statement") {
                    for v in flow::named(r)
                        .into_iter()
                        .flat_map(|l| flow::items(Some(l)))
                    {
                        flow::alloc_sites(&other, mf, v, evidence);
                    }
                }
            }
        }
    }
    any
}

/// A method's assignments to an index of a map field of its receiver, and the
/// allocation sites of the values assigned.
pub(crate) fn map_writes(
    pkg: &Package,
    file: &SourceFile,
    method: Node<'_>,
    evidence: &mut Vec<Location>,
    maps: &mut Vec<String>,
) -> bool {
    let src: &str = &file.text;
    let Some(recv_type) = flow::receiver_type(method, src) else {
        return false;
    };
    let Some(body) = method.child_by_field_name("body") else {
        return false;
    };
    let mut found = false;
    for a in syntax::descendants_of_kind(body, "assignment_statement") {
        let left = flow::items(a.child_by_field_name("left"));
        let right = flow::items(a.child_by_field_name("right"));
        let ([target], [value]) = (left.as_slice(), right.as_slice()) else {
            continue;
        };
        let target = flow::unparen(*target);
        let field = (target.kind() == "index_expression")
            .then(|| target.child_by_field_name("operand"))
            .flatten()
            .map(flow::unparen)
            .filter(|o| o.kind() == "selector_expression")
            .and_then(|o| o.child_by_field_name("field"))
            .map(|f| syntax::text(f, src));
        let Some(field) = field else {
            continue;
        };
        let is_map = flow::field_type_text(pkg, field).is_some_and(|t| t.starts_with("map["));
        if !is_map {
            continue;
        }
        flow::push_unique(evidence, file.location(a));
        flow::alloc_sites(pkg, file, *value, evidence);
        let name = format!("{recv_type}.{field}");
        if !maps.contains(&name) {
            maps.push(name);
        }
        found = true;
    }
    found
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::rules::map_field_no_delete::MapFieldNoDelete;
    use crate::rules::testing::check;

    /// The label helper runs before the mux in a middleware wrapping the mux (reported,
    /// with the registry's series map and what its maker allocates as evidence); the same
    /// middleware wrapping each route's handler, and a label read after routing, are
    /// quiet (the clean cases also keep `Registry.series` from being reported: its
    /// writes run only with bounded labels).
    #[test]
    fn a_label_read_before_the_mux_routes_is_reported() {
        check(
            &MapFieldNoDelete,
            r#"
-- metrics/metrics.go --
package metrics

import "sync"

type Hist struct{ counts []uint64 }

func newHist() *Hist { return &Hist{counts: make([]uint64, 16)} }

type Registry struct {
	mu     sync.Mutex
	series map[string]any
}

func (r *Registry) lookup(key string, mk func() any) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.series[key]; ok {
		return s
	}
	s := mk()
	r.series[key] = s
	return s
}

func (r *Registry) Hist(name, route string) *Hist {
	return r.lookup(name+route, func() any { return newHist() }).(*Hist)
}

func (r *Registry) Reset() { r.series = map[string]any{} }
-- api/api.go --
package api

import (
	"net/http"

	"example.com/app/metrics"
)

type Server struct {
	mux     *http.ServeMux
	metrics *metrics.Registry
}

func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.URL.Path
}

func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := routeOf(r)
		next.ServeHTTP(w, r)
		s.metrics.Hist("latency", route)
	})
}

func (s *Server) Handler() http.Handler { return s.instrument(s.mux) }

func (s *Server) perRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := routeOf(r)
		next.ServeHTTP(w, r)
		s.metrics.Hist("latency", route)
	})
}

func (s *Server) Routes(h http.Handler) {
	s.mux.Handle("/v1/items/{id}", s.perRoute(h))
}

func (s *Server) after(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		route := routeOf(r)
		s.metrics.Hist("latency", route)
	})
}

func (s *Server) Outer() http.Handler { return s.after(s.mux) }
"#,
            expect![[r#"
                api/api.go:23 map-field-no-delete [route] (*Server).instrument computes a metric label before next.ServeHTTP routes the request, while r.Pattern is still empty: routeOf reads r.Pattern and falls back to the raw URL path, so every distinct URL becomes a new label value, and map field "Registry.series" gains a series per URL
                  related api/api.go:24 the mux sets the pattern in this call
                  related api/api.go:25 the label is used here
                  evidence api/api.go:23 metrics/metrics.go:21 metrics/metrics.go:7
            "#]],
        );
    }
}
