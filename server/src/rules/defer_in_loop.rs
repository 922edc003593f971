//! `defer-in-loop`: a `defer` inside a loop runs only when the function returns, so every
//! iteration adds a pending call that keeps what it refers to alive until then.

use tree_sitter::Node;

use super::flow;
use super::syntax::{self, text};
use super::ticker_not_stopped::locals;
use super::{Context, EvidenceKind, Location, Match, Package, Rule, RuleMeta, SourceFile};

/// The `defer-in-loop` rule.
#[derive(Debug)]
pub struct DeferInLoop;

static META: RuleMeta = RuleMeta {
    id: "defer-in-loop",
    name: "defer in a loop",
    summary: "Deferred calls in a loop pile up, with what they hold, until the function returns.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

/// Loops with a literal bound at most this are not worth a report.
const SMALL_BOUND: i64 = 16;

impl Rule for DeferInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        for file in pkg.program_files() {
            let root = file.tree.root_node();
            for d in syntax::descendants_of_kind(root, "defer_statement") {
                if let Some(m) = check_defer(pkg, file, d) {
                    out.push(m);
                }
            }
        }
    }
}

/// The loop around `node` in its function whose iterations pile deferred calls up: it
/// repeats `node`, goes on after it, and has no small literal bound.
fn piling_loop<'t>(node: Node<'t>, src: &str) -> Option<Node<'t>> {
    let mut cur = node;
    loop {
        let lp = locals::loop_around(cur)?;
        if !locals::exits_first_iteration(node, lp, src) && !small_bound(lp, src) {
            return Some(lp);
        }
        cur = lp;
    }
}

/// An integer literal's value.
fn int_literal(node: Node<'_>, src: &str) -> Option<i64> {
    let n = flow::unparen(node);
    if n.kind() != "int_literal" {
        return None;
    }
    text(n, src).replace('_', "").parse().ok()
}

/// Whether a loop runs a small, literal number of times: `for i := 0; i < 3; i++`,
/// `for range 4`, or a range over a short composite literal.
fn small_bound(lp: Node<'_>, src: &str) -> bool {
    let Some(header) = flow::named(lp)
        .into_iter()
        .find(|c| matches!(c.kind(), "for_clause" | "range_clause"))
    else {
        return false;
    };
    if header.kind() == "range_clause" {
        let Some(right) = header.child_by_field_name("right").map(flow::unparen) else {
            return false;
        };
        if let Some(n) = int_literal(right, src) {
            return n <= SMALL_BOUND;
        }
        if right.kind() == "composite_literal" {
            let count = right
                .child_by_field_name("body")
                .map_or(0, |b| flow::named(b).len());
            return i64::try_from(count).is_ok_and(|c| c <= SMALL_BOUND);
        }
        return false;
    }
    let Some(cond) = header.child_by_field_name("condition") else {
        return false;
    };
    if cond.kind() != "binary_expression" {
        return false;
    }
    let op = cond.child_by_field_name("operator").map(|o| text(o, src));
    let right = cond.child_by_field_name("right");
    let start = header
        .child_by_field_name("initializer")
        .and_then(|i| i.child_by_field_name("right"))
        .and_then(|r| flow::items(Some(r)).first().copied())
        .and_then(|v| int_literal(v, src))
        .unwrap_or(0);
    match (op, right.and_then(|r| int_literal(r, src))) {
        (Some("<") | Some("<="), Some(n)) => n - start <= SMALL_BOUND,
        _ => false,
    }
}

/// What the deferred call is about: of the call's receiver (for a method call) and its
/// arguments, the first made in the loop, else the first of them, else the callee.
fn subject_of<'t>(call: Node<'t>, lp: Node<'t>, src: &str) -> Option<Node<'t>> {
    let f = flow::unparen(call.child_by_field_name("function")?);
    let mut candidates = Vec::new();
    if f.kind() == "selector_expression" {
        let operand = f.child_by_field_name("operand")?;
        // `pkg.F(x)` is about its argument; `x.M()` about `x`.
        let is_pkg = operand.kind() == "identifier"
            && flow::declaring_ident(operand, src).is_none()
            && is_import(operand, src);
        if !is_pkg {
            candidates.push(operand);
        }
    }
    candidates.extend(syntax::call_args(call));
    let made_in_loop = |n: &Node<'t>| {
        root_identifier(*n)
            .and_then(|i| flow::declaring_ident(i, src))
            .is_some_and(|d| lp.start_byte() <= d.start_byte() && d.end_byte() <= lp.end_byte())
    };
    candidates
        .iter()
        .copied()
        .find(made_in_loop)
        .or_else(|| candidates.first().copied())
        .or(Some(f))
}

/// Whether an identifier names an import of its file.
fn is_import(ident: Node<'_>, src: &str) -> bool {
    let root = syntax::ancestors(ident).last().unwrap_or(ident);
    let name = text(ident, src);
    flow::named(root)
        .into_iter()
        .filter(|d| d.kind() == "import_declaration")
        .flat_map(syntax::descendants)
        .filter(|n| n.kind() == "import_spec")
        .any(|spec| {
            let path = spec
                .child_by_field_name("path")
                .map(|p| text(p, src).trim_matches(|c| c == '"' || c == '`'))
                .unwrap_or("");
            flow::import_name(root, src, path) == Some(name)
        })
}

/// The root identifier of an expression like `w.buf[i].x`.
fn root_identifier(mut e: Node<'_>) -> Option<Node<'_>> {
    loop {
        e = flow::unparen(e);
        match e.kind() {
            "identifier" => return Some(e),
            "selector_expression"
            | "index_expression"
            | "slice_expression"
            | "unary_expression" => {
                e = e.child_by_field_name("operand")?;
            }
            "call_expression" => e = e.child_by_field_name("function")?,
            _ => return None,
        }
    }
}

fn check_defer(pkg: &Package, file: &SourceFile, d: Node<'_>) -> Option<Match> {
    let src: &str = &file.text;
    let lp = piling_loop(d, src)?;
    let call = flow::named(d).into_iter().next().map(flow::unparen)?;
    let where_ = locals::innermost_function_label(file, d);
    let deferred = if call.kind() == "call_expression" {
        let f = call.child_by_field_name("function").map(flow::unparen);
        match f {
            Some(f) if f.kind() == "func_literal" => "func() { … }()".to_string(),
            _ => one_line(text(call, src)),
        }
    } else {
        one_line(text(call, src))
    };
    let subject_node = if call.kind() == "call_expression" {
        let f = call.child_by_field_name("function").map(flow::unparen);
        if f.is_some_and(|f| f.kind() == "func_literal") {
            None
        } else {
            subject_of(call, lp, src)
        }
    } else {
        None
    };
    let subject = subject_node.map_or_else(|| deferred.clone(), |n| one_line(text(n, src)));
    let declaration = subject_node
        .and_then(root_identifier)
        .and_then(|i| flow::declaring_ident(i, src))
        .map(|decl| file.location(decl));

    // Evidence: the pending call itself (its defer record and closure are charged to
    // this line), and where the per-iteration values it holds were allocated.
    let mut evidence = vec![file.location(d)];
    let mut seen: Vec<Node<'_>> = Vec::new();
    for ident in syntax::descendants_of_kind(d, "identifier") {
        let Some(decl) = flow::declaring_ident(ident, src) else {
            continue;
        };
        let in_loop = lp.start_byte() <= decl.start_byte() && decl.end_byte() <= lp.end_byte();
        let in_defer = d.start_byte() <= decl.start_byte() && decl.end_byte() <= d.end_byte();
        if !in_loop || in_defer || seen.contains(&decl) {
            continue;
        }
        seen.push(decl);
        let mut found: Vec<Location> = Vec::new();
        locals::origins(pkg, file, ident, 4, &mut found);
        for l in found {
            if !evidence.contains(&l) {
                evidence.push(l);
            }
        }
    }
    let held = if subject_node.is_some() {
        format!(" that keeps {subject} alive")
    } else if !seen.is_empty() {
        let names: Vec<&str> = seen.iter().map(|d| text(*d, src)).collect();
        format!(" that keeps {} alive", names.join(", "))
    } else {
        String::new()
    };
    Some(Match {
        rule: META.id,
        location: file.location(d),
        subject,
        message: format!(
            "defer {deferred} inside a loop in {where_} runs only when the function returns: every iteration adds a pending call{held}"
        ),
        declaration,
        related: Vec::new(),
        evidence,
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    })
}

/// An expression's text on one line, shortened.
pub(crate) fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DeferInLoop;
    use crate::rules::testing::check;

    #[test]
    fn fixture_program_leak_defers() {
        let got = crate::rules::ticker_not_stopped::tests::assert_fixture_wants(
            &DeferInLoop,
            "leak-defers",
        );
        expect![[r#"
            main.go:67 [sp] defer sp.Close() inside a loop in upload runs only when the function returns: every iteration adds a pending call that keeps sp alive
              evidence main.go:67-67 main.go:66-66 main.go:40-40
        "#]]
        .assert_eq(&got);
    }

    #[test]
    fn deferred_closes_pile_up_in_loops() {
        check(
            &DeferInLoop,
            r#"
-- files.go --
package app

import (
	"io"
	"os"
)

func Concat(paths []string, w io.Writer) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
	}
	return nil
}
-- worker.go --
package app

import (
	"io"
	"sync"
)

type Spool struct{ buf []byte }

func newSpool(id int) *Spool {
	s := &Spool{buf: make([]byte, 64<<10)}
	s.buf[0] = byte(id)
	return s
}

func (s *Spool) Close() error { return nil }

type Worker struct{ pool sync.Pool }

func (w *Worker) Run(jobs <-chan int) {
	for id := range jobs {
		sp := newSpool(id)
		defer sp.Close()
		buf := make([]byte, 4096)
		defer w.pool.Put(buf)
	}
}

func Serve(conns <-chan io.Closer) {
	go func() {
		for {
			select {
			case c := <-conns:
				scratch := &Spool{}
				defer func() {
					c.Close()
					scratch.Close()
				}()
				break
			}
		}
	}()
}
"#,
            expect![[r#"
                files.go:14 defer-in-loop [f] defer f.Close() inside a loop in Concat runs only when the function returns: every iteration adds a pending call that keeps f alive
                  declared files.go:10
                  evidence files.go:14 files.go:10
                worker.go:23 defer-in-loop [sp] defer sp.Close() inside a loop in (*Worker).Run runs only when the function returns: every iteration adds a pending call that keeps sp alive
                  declared worker.go:22
                  evidence worker.go:23 worker.go:22 worker.go:11-13
                worker.go:25 defer-in-loop [buf] defer w.pool.Put(buf) inside a loop in (*Worker).Run runs only when the function returns: every iteration adds a pending call that keeps buf alive
                  declared worker.go:24
                  evidence worker.go:25 worker.go:24
                worker.go:35 defer-in-loop [func() { … }()] defer func() { … }() inside a loop in Serve.func1 runs only when the function returns: every iteration adds a pending call that keeps c, scratch alive
                  evidence worker.go:35-38 worker.go:34
            "#]],
        );
    }

    #[test]
    fn a_small_inner_loop_inside_an_unbounded_one_still_piles_up() {
        check(
            &DeferInLoop,
            r#"
-- nested.go --
package app

import "os"

func Mirror(batches <-chan []string) {
	for batch := range batches {
		for i := 0; i < 2; i++ {
			f, err := os.Create(batch[i])
			if err != nil {
				continue
			}
			defer f.Close()
		}
	}
}
"#,
            expect![[r#"
                nested.go:12 defer-in-loop [f] defer f.Close() inside a loop in Mirror runs only when the function returns: every iteration adds a pending call that keeps f alive
                  declared nested.go:8
                  evidence nested.go:12 nested.go:8
            "#]],
        );
    }

    #[test]
    fn values_from_a_sync_pool_are_made_by_its_new_function() {
        check(
            &DeferInLoop,
            r#"
-- spool.go --
package syncer

import "sync"

type spool struct{ buf []byte }

var spoolPool = sync.Pool{New: func() any { return &spool{buf: make([]byte, 0, 16<<10)} }}

func newSpool() *spool {
	sp := spoolPool.Get().(*spool)
	sp.buf = sp.buf[:0]
	return sp
}

func (sp *spool) Discard() { spoolPool.Put(sp) }

func Run(paths []string) {
	for range paths {
		sp := newSpool()
		defer sp.Discard()
	}
}
"#,
            expect![[r#"
                spool.go:20 defer-in-loop [sp] defer sp.Discard() inside a loop in Run runs only when the function returns: every iteration adds a pending call that keeps sp alive
                  declared spool.go:19
                  evidence spool.go:20 spool.go:19 spool.go:10-12 spool.go:7
            "#]],
        );
    }

    #[test]
    fn values_made_by_a_method_of_the_package_are_evidence() {
        check(
            &DeferInLoop,
            r#"
-- ship.go --
package app

type Shipper struct{ free chan []byte }

func (s *Shipper) getBuf() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, 32<<10)
	}
}

func (s *Shipper) putBuf(b []byte) {
	select {
	case s.free <- b:
	default:
	}
}

func (s *Shipper) Run(batches <-chan []string) {
	for b := range batches {
		buf := s.getBuf()
		defer s.putBuf(buf)
		for _, l := range b {
			buf = append(buf, l...)
		}
	}
}
"#,
            expect![[r#"
                ship.go:24 defer-in-loop [buf] defer s.putBuf(buf) inside a loop in (*Shipper).Run runs only when the function returns: every iteration adds a pending call that keeps buf alive
                  declared ship.go:23
                  evidence ship.go:24 ship.go:23 ship.go:6-11
            "#]],
        );
    }

    #[test]
    fn defers_that_run_once_per_call_are_not_reported() {
        check(
            &DeferInLoop,
            r#"
-- ok.go --
package app

import (
	"os"
	"sync"
)

func Wrapped(paths []string) {
	for _, p := range paths {
		func() {
			f, err := os.Open(p)
			if err != nil {
				return
			}
			defer f.Close()
		}()
	}
}

func FirstReadable(paths []string) *os.File {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		return f
	}
	return nil
}

func Find(mu *sync.Mutex, items []string, want string) bool {
	for _, it := range items {
		if it == want {
			mu.Lock()
			defer mu.Unlock()
			return true
		}
	}
	return false
}

func Dial(dial func() (*os.File, error)) {
outer:
	for {
		c, err := dial()
		if err != nil {
			continue
		}
		defer c.Close()
		break outer
	}
}

func Few(open func(int) *os.File) {
	for i := 0; i < 3; i++ {
		defer open(i).Close()
	}
	for _, name := range []string{"a", "b"} {
		f, _ := os.Open(name)
		defer f.Close()
	}
	for i := range 4 {
		defer println(i)
	}
}

func Before(paths []string) {
	f, _ := os.Open("log")
	defer f.Close()
	for _, p := range paths {
		println(p)
	}
}
-- ok_test.go --
package app

import (
	"os"
	"testing"
)

func TestFiles(t *testing.T) {
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"} {
		f, _ := os.Open(p)
		defer f.Close()
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }
}
