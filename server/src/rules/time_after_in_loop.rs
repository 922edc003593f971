//! `time-after-in-loop`: `time.After` in a `select` inside a loop starts a timer on every
//! iteration; before Go 1.23 each one lives until it fires, so a loop whose other cases
//! win often piles timers up.

use tree_sitter::Node;

use super::flow;
use super::syntax::{self, text};
use super::ticker_not_stopped::locals;
use super::{Context, EvidenceKind, Location, Match, Rule, RuleMeta, SourceFile};

/// The `time-after-in-loop` rule.
#[derive(Debug)]
pub struct TimeAfterInLoop;

static META: RuleMeta = RuleMeta {
    id: "time-after-in-loop",
    name: "time.After in a loop",
    summary: "time.After in a select inside a loop creates a timer per iteration that (before Go 1.23) lives until it fires.",
    evidence: EvidenceKind::Heap,
    grows: false,
};

impl Rule for TimeAfterInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        // From Go 1.23 (the go line of go.mod decides) an unreferenced timer is collected
        // at once, fired or not: the pattern no longer leaks.
        if pkg.go_version.is_some_and(|v| v.at_least(1, 23)) {
            return;
        }
        for file in pkg.program_files() {
            let src: &str = &file.text;
            let root = file.tree.root_node();
            let Some(time) = flow::import_name(root, src, "time") else {
                continue;
            };
            for call in syntax::descendants_of_kind(root, "call_expression") {
                if locals::qualified_call(call, src, time) != Some("After") {
                    continue;
                }
                if let Some(m) = check_call(file, call) {
                    out.push(m);
                }
            }
        }
    }
}

/// The `select` case that receives from `expr` directly (`case <-expr:` or
/// `case v := <-expr:`), if any.
fn receiving_case<'t>(expr: Node<'t>, src: &str) -> Option<Node<'t>> {
    let recv = flow::parent_skipping_parens(expr)?;
    if recv.kind() != "unary_expression"
        || recv.child_by_field_name("operator").map(|o| text(o, src)) != Some("<-")
    {
        return None;
    }
    let mut stmt = flow::parent_skipping_parens(recv)?;
    if stmt.kind() == "expression_list" {
        stmt = stmt.parent()?;
    }
    if stmt.kind() != "receive_statement" {
        return None;
    }
    let case = stmt.parent()?;
    (case.kind() == "communication_case").then_some(case)
}

fn check_call(file: &SourceFile, call: Node<'_>) -> Option<Match> {
    let src: &str = &file.text;
    // Either `case <-time.After(d):`, or `timeout := time.After(d)` in the loop body
    // and `case <-timeout:` further down in the same iteration.
    let (case, declaration, name) = match receiving_case(call, src) {
        Some(case) => (case, None, None),
        None => {
            let b = locals::binding_of(call)?;
            let target = b.target()?;
            let decl = flow::declaring_ident(target, src)?;
            let case = locals::references_after(decl, b.stmt, src)
                .into_iter()
                .filter(|r| !locals::in_nested_literal(*r, decl))
                .find_map(|r| receiving_case(r, src))?;
            (case, Some(file.location(decl)), Some(text(decl, src)))
        }
    };
    let select = case.parent().filter(|s| s.kind() == "select_statement")?;
    let Some(lp) = locals::loop_around(select) else {
        return per_call(file, call, case, select, declaration, name);
    };
    // The timer must be created on every iteration, not once before the loop.
    if !(lp.start_byte() <= call.start_byte() && call.end_byte() <= lp.end_byte()) {
        return None;
    }
    if locals::exits_first_iteration(select, lp, src) {
        return None;
    }
    // Timers pile up only when another case wins and the loop goes on: a select whose
    // only case is the timer waits for it to fire, and one whose other cases all leave
    // the loop strands at most one timer.
    let keeps_looping = flow::named(select)
        .into_iter()
        .filter(|c| *c != case && matches!(c.kind(), "communication_case" | "default_case"))
        .any(|c| !case_leaves(c, lp, src));
    if !keeps_looping {
        return None;
    }
    let where_ = locals::function_label(file, call);
    Some(Match {
        rule: META.id,
        location: file.location(call),
        subject: subject(call, name, src),
        message: format!(
            "time.After in a select inside a loop in {where_} starts a new timer on every iteration; when another case wins, the timer stays alive until it fires"
        ),
        declaration,
        related: Vec::new(),
        evidence: vec![file.location(call)],
        fixes: Vec::new(),
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    })
}

/// The timer of a `select` with no loop around it, in a function that runs per call (a
/// request handler's helper, a goroutine per item): every call another case wins leaves
/// a timer alive until it fires, so under load they add up to calls × duration. Whether
/// that is load enough only the profile can say, so the match needs growth to count.
fn per_call(
    file: &SourceFile,
    call: Node<'_>,
    case: Node<'_>,
    select: Node<'_>,
    declaration: Option<Location>,
    name: Option<&str>,
) -> Option<Match> {
    let src: &str = &file.text;
    if flow::runs_once(select, src) {
        return None;
    }
    let others = flow::named(select)
        .into_iter()
        .any(|c| c != case && matches!(c.kind(), "communication_case" | "default_case"));
    if !others {
        return None;
    }
    let where_ = locals::function_label(file, call);
    Some(Match {
        rule: META.id,
        location: file.location(call),
        subject: subject(call, name, src),
        message: format!(
            "time.After in a select in {where_} starts a timer on every call; when another case wins, the timer stays alive until it fires, and the profiles show these timers adding up"
        ),
        declaration,
        related: Vec::new(),
        evidence: vec![file.location(call)],
        fixes: Vec::new(),
        version_note: None,
        needs_growth: true,
        fills: Vec::new(),
    })
}

fn subject(call: Node<'_>, name: Option<&str>, src: &str) -> String {
    let call_text = text(call, src);
    match name {
        Some(n) => n.to_string(),
        None if call_text.len() > 60 || call_text.contains('\n') => "time.After".to_string(),
        None => call_text.to_string(),
    }
}

/// Whether a `select` case always leaves the loop: a statement of its body does.
fn case_leaves(case: Node<'_>, lp: Node<'_>, src: &str) -> bool {
    flow::named(case)
        .into_iter()
        .filter(|c| c.kind() == "statement_list")
        .any(|l| locals::leaves_loop(l, lp, src))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::TimeAfterInLoop;
    use crate::rules::testing::check;

    #[test]
    fn fixture_program_leak_timers() {
        let got = crate::rules::ticker_not_stopped::tests::assert_fixture_wants(
            &TimeAfterInLoop,
            "leak-timers",
        );
        expect![[r#"
            main.go:80 [time.After(idleTimeout)] time.After in a select inside a loop in consume starts a new timer on every iteration; when another case wins, the timer stays alive until it fires
              evidence main.go:80-80
        "#]]
        .assert_eq(&got);
    }

    #[test]
    fn timer_per_iteration_while_messages_keep_coming() {
        check(
            &TimeAfterInLoop,
            r#"
-- consume.go --
package app

import "time"

func Consume(msgs <-chan string, idle time.Duration) {
	for {
		select {
		case m := <-msgs:
			if m == "" {
				break
			}
			handle(m)
		case <-time.After(idle):
			return
		}
	}
}

func Pump(in <-chan []byte, out chan<- []byte) {
	for b := range in {
		timeout := time.After(5 * time.Second)
		select {
		case out <- b:
		case <-timeout:
			return
		}
	}
}

func Spin(work <-chan int) {
loop:
	for {
		select {
		case <-work:
			continue loop
		case <-time.After(time.Minute):
			break loop
		default:
		}
	}
}

func handle(string) {}
"#,
            expect![[r#"
                consume.go:13 time-after-in-loop [time.After(idle)] time.After in a select inside a loop in Consume starts a new timer on every iteration; when another case wins, the timer stays alive until it fires
                  evidence consume.go:13
                consume.go:21 time-after-in-loop [timeout] time.After in a select inside a loop in Pump starts a new timer on every iteration; when another case wins, the timer stays alive until it fires
                  declared consume.go:21
                  evidence consume.go:21
                consume.go:36 time-after-in-loop [time.After(time.Minute)] time.After in a select inside a loop in Spin starts a new timer on every iteration; when another case wins, the timer stays alive until it fires
                  evidence consume.go:36
            "#]],
        );
    }

    #[test]
    fn no_go_line_means_old_timers() {
        check(
            &TimeAfterInLoop,
            r#"
-- go.mod --
module example.com/app
-- consume.go --
package app

import "time"

func Consume(msgs <-chan string) {
	for {
		select {
		case <-msgs:
		case <-time.After(time.Second):
			return
		}
	}
}
"#,
            expect![[r#"
                consume.go:9 time-after-in-loop [time.After(time.Second)] time.After in a select inside a loop in Consume starts a new timer on every iteration; when another case wins, the timer stays alive until it fires
                  evidence consume.go:9
            "#]],
        );
    }

    #[test]
    fn go_1_23_timers_are_collected() {
        check(
            &TimeAfterInLoop,
            r#"
-- go.mod --
module example.com/app

go 1.23
-- consume.go --
package app

import "time"

func Consume(msgs <-chan string) {
	for {
		select {
		case <-msgs:
		case <-time.After(time.Second):
			return
		}
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn timers_that_fire_or_end_the_loop_are_not_reported() {
        check(
            &TimeAfterInLoop,
            r#"
-- ok.go --
package app

import "time"

// Only the timer: every iteration waits for it to fire.
func Tick(work func()) {
	for {
		select {
		case <-time.After(time.Second):
			work()
		}
	}
}

// The other case leaves the loop: at most one timer is left behind.
func Poll(done <-chan struct{}, work func()) {
	for {
		select {
		case <-done:
			return
		case <-time.After(time.Second):
			work()
		}
	}
}

// One timer for the whole loop.
func Drain(msgs <-chan string) {
	timeout := time.After(time.Minute)
	for {
		select {
		case <-msgs:
		case <-timeout:
			return
		}
	}
}

// Not in a select: waits for the timer.
func Sleep(n int) {
	for i := 0; i < n; i++ {
		<-time.After(time.Millisecond)
	}
}

// The loop is in the caller: a timer per call, which counts only when the profiles
// show such timers growing.
func Each(items []string, ch chan string) {
	for _, it := range items {
		go func() {
			select {
			case ch <- it:
			case <-time.After(time.Second):
			}
		}()
	}
}

// The loop ends after its first select.
func First(msgs <-chan string) string {
	for {
		select {
		case m := <-msgs:
			return m
		case <-time.After(time.Second):
		}
		return ""
	}
}
-- shadow.go --
package app

type fakeTime struct{}

func (fakeTime) After(int) chan int { return nil }

func Shadow(msgs <-chan string) {
	time := fakeTime{}
	for {
		select {
		case <-msgs:
		case <-time.After(1):
			return
		}
	}
}
-- consume_test.go --
package app

import (
	"testing"
	"time"
)

func TestConsume(t *testing.T) {
	msgs := make(chan string)
	for {
		select {
		case <-msgs:
		case <-time.After(time.Millisecond):
			return
		}
	}
}
"#,
            expect![[r#"
                ok.go:53 time-after-in-loop [time.After(time.Second)] time.After in a select in Each starts a timer on every call; when another case wins, the timer stays alive until it fires, and the profiles show these timers adding up
                  evidence ok.go:53
                  reported only when the profiles show growth
            "#]],
        );
    }
}
