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
            let routing = routing_call(cx, file, handler, body, req);
            for stmt in statements(body) {
                // Reads of the pattern before the mux routed the request, or anywhere
                // when the mux was handed a copy (`r.WithContext(...)`) and sets the
                // pattern on that copy; labels from the raw path anywhere.
                let empty_pattern = routing
                    .is_some_and(|(call, copy)| copy || stmt.end_byte() <= call.start_byte());
                if let Some(m) = label_read(
                    cx,
                    file,
                    stmt,
                    req,
                    routing.map(|r| r.0),
                    empty_pattern,
                    rule,
                ) {
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
) -> Option<(Node<'t>, bool)> {
    let src: &str = &file.text;
    for call in syntax::descendants_of_kind(body, "call_expression") {
        if syntax::enclosing_function(call).map(|f| f.id()) != Some(handler.id()) {
            continue;
        }
        let args = syntax::call_args(call);
        let Some(arg) = args.get(1).map(|a| flow::unparen(*a)) else {
            continue;
        };
        // The request itself, or a copy the mux sets the pattern on
        // (`r.WithContext(ctx)`, `r.Clone(ctx)`).
        let copy = arg.kind() == "call_expression"
            && arg.child_by_field_name("function").is_some_and(|f| {
                f.kind() == "selector_expression"
                    && f.child_by_field_name("operand")
                        .is_some_and(|o| syntax::text(o, src) == req)
                    && f.child_by_field_name("field")
                        .is_some_and(|n| matches!(syntax::text(n, src), "WithContext" | "Clone"))
            });
        if !copy && syntax::text(arg, src) != req {
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
            return Some((call, copy));
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
            return Some((call, copy));
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
        // Another middleware around the mux (`s.instrument(s.authenticate(mux))`).
        "call_expression" => syntax::call_args(e)
            .into_iter()
            .any(|a| is_mux(cx, file, flow::unparen(a))),
        _ => false,
    }
}

/// A statement of a handler making a metric label from the request: from `r.Pattern`
/// with a fallback to the raw path (itself or through a package function given the
/// request) while the pattern is still empty (`empty_pattern`), or from the raw path
/// through a package function (`RouteLabel(r.URL.Path)`), which only a growing series map
/// shows to be unbounded.
fn label_read(
    cx: &Context<'_>,
    file: &SourceFile,
    stmt: Node<'_>,
    req: &str,
    routing: Option<Node<'_>>,
    empty_pattern: bool,
    rule: &'static str,
) -> Option<Match> {
    let src: &str = &file.text;
    let raw_path =
        |text: &str, of: &str| RAW_PATH.iter().any(|p| text.contains(&format!("{of}{p}")));
    // (the node making the label, the helper's name, whether it reads the pattern)
    let mut read: Option<(Node<'_>, Option<String>, bool)> = None;
    if empty_pattern
        && syntax::text(stmt, src).contains(&format!("{req}.Pattern"))
        && raw_path(syntax::text(stmt, src), req)
    {
        read = Some((stmt, None, true));
    }
    for c in syntax::descendants_of_kind(stmt, "call_expression") {
        if read.is_some() {
            break;
        }
        let Some(f) = c
            .child_by_field_name("function")
            .map(flow::unparen)
            .filter(|f| f.kind() == "identifier")
        else {
            continue;
        };
        let args = syntax::call_args(c);
        let helper = syntax::text(f, src).to_string();
        // `RouteLabel(r.URL.Path)`: a label from the raw path, reduced or not.
        if args.iter().any(|a| {
            RAW_PATH
                .iter()
                .any(|p| syntax::text(flow::unparen(*a), src) == format!("{req}{p}"))
        }) && flow::package_function(cx, &helper).is_some()
        {
            read = Some((c, Some(helper), false));
            break;
        }
        if !empty_pattern {
            continue;
        }
        let Some(pos) = args
            .iter()
            .position(|a| syntax::text(flow::unparen(*a), src) == req)
        else {
            continue;
        };
        let Some((hf, decl)) = flow::package_function(cx, &helper) else {
            continue;
        };
        let hsrc: &str = &hf.text;
        let param = decl.child_by_field_name("parameters").and_then(|p| {
            syntax::descendants_of_kind(p, "parameter_declaration")
                .flat_map(flow::named)
                .filter(|n| n.kind() == "identifier")
                .map(|n| syntax::text(n, hsrc))
                .nth(pos)
        });
        let body = decl
            .child_by_field_name("body")
            .map(|b| syntax::text(b, hsrc));
        if let (Some(param), Some(body)) = (param, body) {
            if body.contains(&format!("{param}.Pattern")) && raw_path(body, param) {
                read = Some((c, Some(helper), true));
            }
        }
    }
    let (at, helper, pattern) = read?;
    // Where the label goes: the calls passing the local the statement binds (`route :=
    // routeOf(r)`), or the calls the read is an argument of (`Observe(usage.Request{
    // Route: routeLabel(r)})`).
    let label = (stmt.kind() == "short_var_declaration")
        .then(|| {
            flow::items(stmt.child_by_field_name("left"))
                .first()
                .copied()
        })
        .flatten()
        .map(|n| syntax::text(n, src));
    let func = syntax::enclosing_function(stmt)?;
    let mut evidence = vec![file.location(at)];
    let mut maps: Vec<String> = Vec::new();
    let mut uses: Vec<Location> = Vec::new();
    let targets: Vec<Node<'_>> = match label {
        Some(label) => syntax::descendants_of_kind(func, "call_expression")
            .filter(|c| {
                c.start_byte() > stmt.end_byte()
                    && syntax::call_args(*c)
                        .iter()
                        .any(|a| syntax::text(flow::unparen(*a), src) == label)
            })
            .collect(),
        None => syntax::ancestors(at)
            .take_while(|n| n.id() != stmt.id())
            .chain(std::iter::once(stmt))
            .filter(|n| n.kind() == "call_expression")
            .collect(),
    };
    for c in targets {
        let Some(name) = syntax::called_name(c, src) else {
            continue;
        };
        if series_maps(cx, file, name, &mut evidence, &mut maps) {
            uses.push(file.location(c));
        }
    }
    if !pattern && maps.is_empty() {
        return None;
    }
    let fields = match maps.as_slice() {
        [one] => format!("map field \"{one}\" gains"),
        m => format!(
            "map fields {} gain",
            m.iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    let grows = match maps.as_slice() {
        [] => "every distinct URL becomes a new label value".to_string(),
        _ => format!("every distinct URL becomes a new label value, and {fields} a series per URL"),
    };
    let label_fn = flow::function_label(stmt, src);
    let message = match (pattern, routing) {
        (true, Some(routing)) => {
            let via = match &helper {
                Some(h) => format!("{h} reads {req}.Pattern and falls back to the raw URL path"),
                None => format!("{req}.Pattern falls back to the raw URL path"),
            };
            let when = if stmt.end_byte() <= routing.start_byte() {
                format!(
                    "before {} routes the request",
                    syntax::text(routing.child_by_field_name("function").unwrap_or(routing), src)
                )
            } else {
                format!(
                    "from the request it handed {} as a copy, which the mux set the pattern on",
                    syntax::text(routing.child_by_field_name("function").unwrap_or(routing), src)
                )
            };
            format!("{label_fn} computes a metric label {when}, while {req}.Pattern is still empty: {via}, so {grows}")
        }
        _ => format!(
            "{label_fn} labels metrics with the raw URL path reduced by {}: every path it does not reduce to a route is a new label value, and {fields} a series per such URL",
            helper.as_deref().unwrap_or("a helper"),
        ),
    };
    let mut related: Vec<Related> = routing
        .filter(|_| pattern)
        .map(|r| Related {
            location: file.location(r),
            message: "the mux sets the pattern in this call".to_string(),
        })
        .into_iter()
        .collect();
    related.extend(uses.into_iter().map(|location| Related {
        location,
        message: "the label is used here".to_string(),
    }));
    Some(Match {
        rule,
        location: file.location(at),
        subject: label.unwrap_or("route").to_string(),
        message,
        declaration: None,
        related,
        evidence,
        fixes: Vec::new(),
        version_note: None,
        // A reduced raw path is bounded when the reduction is complete: the profiles
        // weigh it (information while the series maps do not grow).
        needs_growth: false,
        fills: maps,
    })
}

/// For a method `name` of the file's package or of the workspace packages it imports
/// (`s.metrics.Counter(...)`): whether it adds to a map field of its receiver, itself or
/// through a method of the same receiver (`Histogram` calling `HistogramWithBuckets`;
/// `abandoned_waits::adds_to_map`), with the writes and where their values are allocated.
fn series_maps(
    cx: &Context<'_>,
    file: &SourceFile,
    name: &str,
    evidence: &mut Vec<Location>,
    maps: &mut Vec<String>,
) -> bool {
    let mut any = false;
    let imports: Vec<String> = flow::imports(file).into_iter().map(|(_, p)| p).collect();
    let pkgs: Vec<std::sync::Arc<Package>> =
        imports.iter().filter_map(|p| cx.other_package(p)).collect();
    for other in std::iter::once(&**cx).chain(pkgs.iter().map(|p| &**p)) {
        let methods = flow::package_methods(other, name);
        let mut writes = false;
        for (mf, m) in &methods {
            writes |= super::abandoned_waits::adds_to_map(other, mf, *m, evidence, maps);
        }
        if !writes {
            continue;
        }
        any = true;
        // What a maker passed to the shared lookup makes (`r.lookup(name, kv, func() any
        // { return newSummary() })`): the series' metric.
        for (mf, m) in &methods {
            for lit in syntax::descendants_of_kind(*m, "func_literal") {
                for r in syntax::descendants_of_kind(lit, "return_statement") {
                    for v in flow::named(r)
                        .into_iter()
                        .flat_map(|l| flow::items(Some(l)))
                    {
                        flow::alloc_sites(other, mf, v, evidence);
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
    /// with the registry's series map and what its maker allocates as evidence), or after
    /// it on the outer request when the mux got a copy through another middleware
    /// (reported); a label from the raw path through a reducer is reported for the profiles
    /// to weigh; the same middleware wrapping each route's handler, and a label read after
    /// routing the request itself, are quiet (the clean cases also keep `Registry.series` from being reported: its
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

func (s *Server) auth(next http.Handler) http.Handler { return next }

func (s *Server) copied(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(r.Context()))
		s.metrics.Hist("latency", routeOf(r))
	})
}

func (s *Server) Chain() http.Handler { return s.copied(s.auth(s.mux)) }

func reduce(path string) string { return path }

func (s *Server) byPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		s.metrics.Hist("latency", reduce(r.URL.Path))
	})
}
"#,
            expect![[r#"
                api/api.go:23 map-field-no-delete [route] (*Server).instrument computes a metric label before next.ServeHTTP routes the request, while r.Pattern is still empty: routeOf reads r.Pattern and falls back to the raw URL path, so every distinct URL becomes a new label value, and map field "Registry.series" gains a series per URL
                  related api/api.go:24 the mux sets the pattern in this call
                  related api/api.go:25 the label is used here
                  evidence api/api.go:23 metrics/metrics.go:21 metrics/metrics.go:26 metrics/metrics.go:7
                api/api.go:58 map-field-no-delete [route] (*Server).copied computes a metric label from the request it handed next.ServeHTTP as a copy, which the mux set the pattern on, while r.Pattern is still empty: routeOf reads r.Pattern and falls back to the raw URL path, so every distinct URL becomes a new label value, and map field "Registry.series" gains a series per URL
                  related api/api.go:57 the mux sets the pattern in this call
                  related api/api.go:58 the label is used here
                  evidence api/api.go:58 metrics/metrics.go:21 metrics/metrics.go:26 metrics/metrics.go:7
                api/api.go:69 map-field-no-delete [route] (*Server).byPath labels metrics with the raw URL path reduced by reduce: every path it does not reduce to a route is a new label value, and map field "Registry.series" gains a series per such URL
                  related api/api.go:69 the label is used here
                  evidence api/api.go:69 metrics/metrics.go:21 metrics/metrics.go:26 metrics/metrics.go:7
            "#]],
        );
    }
}
