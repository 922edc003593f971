//! The ways out of a function body, each with whether something was settled on its way:
//! a resource acquired in the function (or handed to it) and released on some paths only
//! is kept for good on the others. Statements are walked in order, forking at `if`,
//! `switch` and `select`; a loop's body is walked for its exits, and the paths after it
//! are those before it (a release in a loop sweeps); a deferred release settles
//! every later exit. Paths are merged when they agree, and the walk gives up (finds
//! nothing) beyond [`MAX_PATHS`] live paths.

use tree_sitter::Node;

use super::flow;

/// Live paths beyond this make the walk give up: the function is too branchy to judge.
const MAX_PATHS: usize = 64;

/// What a statement does to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing.
    None,
    /// Releases it (`room.Unsubscribe(sub)`, `job.finish()`).
    Release,
    /// Hands it on to someone who may release it (stored, sent, returned, passed to an
    /// unknown function): the path is settled without a release of its own.
    HandOff,
    /// Acquires it: paths become live here.
    Acquire,
}

/// What the walk asks of the code.
pub(crate) trait Resource<'t> {
    /// What a simple statement (or an `if`/`switch` initializer) does.
    fn effect(&self, stmt: Node<'t>) -> Effect;
    /// Whether the branch an `if` condition leads to is one where the resource was not
    /// acquired (`if !ok`, `if !leader`, `if err != nil` right after the acquisition).
    fn not_acquired(&self, condition: Node<'t>) -> bool;
    /// Whether a statement ends the program or the goroutine (`panic`, `log.Fatal`).
    fn aborts(&self, stmt: Node<'t>) -> bool;
}

/// One way out of the function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exit<'t> {
    /// The `return`, or `None` for the end of the body.
    pub ret: Option<Node<'t>>,
    /// Where the fix goes: the statement before a `return` in its block, or the last
    /// statement of the last branch the path took before falling off the end.
    pub at: Node<'t>,
    /// A release ran on the path (or is deferred).
    pub released: bool,
    /// The path handed the resource on.
    pub handed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    live: bool,
    released: bool,
    handed: bool,
    /// The node id and start byte of the last statement of the last branch left.
    branch_last: Option<(usize, usize)>,
    /// Not acquired on this path (an `if !ok` branch).
    excluded: bool,
}

struct Walk<'a, 't> {
    res: &'a dyn Resource<'t>,
    exits: Vec<(State, Option<Node<'t>>, Option<Node<'t>>)>,
    gave_up: bool,
}

/// The exits of `body` (a function's block) on the paths where the resource is live
/// (acquired, or `live_from_start` for a parameter), or `None` when the function is too
/// branchy to walk.
pub(crate) fn exits<'t>(
    body: Node<'t>,
    res: &dyn Resource<'t>,
    live_from_start: bool,
) -> Option<Vec<Exit<'t>>> {
    let mut w = Walk {
        res,
        exits: Vec::new(),
        gave_up: false,
    };
    let start = State {
        live: live_from_start,
        released: false,
        handed: false,
        branch_last: None,
        excluded: false,
    };
    let end = w.block(body, vec![start]);
    if w.gave_up {
        return None;
    }
    for s in end {
        w.exits.push((s, None, None));
    }
    let out = w
        .exits
        .iter()
        .filter(|(s, _, _)| s.live && !s.excluded)
        .filter_map(|&(s, ret, before)| {
            let at = match (ret, before) {
                (_, Some(b)) => b,
                (Some(r), None) => r,
                (None, None) => s
                    .branch_last
                    .and_then(|(_, start)| node_at(body, start))
                    .or_else(|| last_statement(body))?,
            };
            Some(Exit {
                ret,
                at,
                released: s.released,
                handed: s.handed,
            })
        })
        .collect();
    Some(out)
}

/// The statement starting at `start` under `root`.
fn node_at(root: Node<'_>, start: usize) -> Option<Node<'_>> {
    let mut n = root.descendant_for_byte_range(start, start)?;
    while n.start_byte() == start {
        if n.parent().is_some_and(|p| is_list(p.kind())) {
            return Some(n);
        }
        n = n.parent()?;
    }
    None
}

fn is_list(kind: &str) -> bool {
    matches!(
        kind,
        "statement_list"
            | "block"
            | "expression_case"
            | "default_case"
            | "type_case"
            | "communication_case"
    )
}

fn is_compound(kind: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "for_statement"
            | "expression_switch_statement"
            | "type_switch_statement"
            | "select_statement"
            | "block"
            | "labeled_statement"
    )
}

fn last_statement(block: Node<'_>) -> Option<Node<'_>> {
    statements(block).last().copied()
}

/// The statements of a block, a statement list or a case clause.
fn statements(n: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let skip = ["value", "type", "communication"]
        .iter()
        .filter_map(|f| n.child_by_field_name(f))
        .map(|c| c.id())
        .collect::<Vec<_>>();
    for c in flow::named(n) {
        if skip.contains(&c.id()) || c.kind() == "comment" {
            continue;
        }
        if c.kind() == "statement_list" {
            out.extend(flow::named(c).into_iter().filter(|s| s.kind() != "comment"));
        } else {
            out.push(c);
        }
    }
    out
}

impl<'t> Walk<'_, 't> {
    fn merge(&mut self, mut states: Vec<State>) -> Vec<State> {
        states.sort_by_key(|s| {
            (
                s.live,
                s.released,
                s.handed,
                s.excluded,
                s.branch_last.map(|b| b.0),
            )
        });
        states.dedup();
        if states.len() > MAX_PATHS {
            self.gave_up = true;
            states.truncate(MAX_PATHS);
        }
        states
    }

    fn block(&mut self, block: Node<'t>, mut states: Vec<State>) -> Vec<State> {
        let stmts = statements(block);
        for (i, &st) in stmts.iter().enumerate() {
            if states.is_empty() || self.gave_up {
                break;
            }
            let before = i.checked_sub(1).map(|j| stmts[j]);
            states = self.statement(st, states, before);
        }
        states
    }

    /// A branch body: the states leaving it remember its last statement.
    fn branch(&mut self, body: Node<'t>, states: Vec<State>) -> Vec<State> {
        let last = last_statement(body);
        let mut out = self.block(body, states);
        if let Some(l) = last {
            for s in &mut out {
                s.branch_last = Some((l.id(), l.start_byte()));
            }
        }
        out
    }

    fn apply(&self, stmt: Node<'t>, states: &mut [State]) {
        match self.res.effect(stmt) {
            Effect::None => {}
            Effect::Release => states.iter_mut().for_each(|s| s.released = true),
            Effect::HandOff => states.iter_mut().for_each(|s| s.handed = true),
            Effect::Acquire => states.iter_mut().for_each(|s| {
                s.live = true;
                s.released = false;
                s.handed = false;
            }),
        }
    }

    fn statement(
        &mut self,
        st: Node<'t>,
        mut states: Vec<State>,
        before: Option<Node<'t>>,
    ) -> Vec<State> {
        match st.kind() {
            "return_statement" => {
                self.apply(st, &mut states);
                // The fix goes after the last simple statement before the return.
                let before = before.filter(|b| !is_compound(b.kind()));
                for s in states {
                    self.exits.push((s, Some(st), before));
                }
                Vec::new()
            }
            "block" => self.block(st, states),
            "labeled_statement" => match flow::named(st).into_iter().nth(1) {
                Some(inner) => self.statement(inner, states, before),
                None => states,
            },
            "if_statement" => {
                if let Some(init) = st.child_by_field_name("initializer") {
                    self.apply(init, &mut states);
                }
                let mut then_states = states.clone();
                if st
                    .child_by_field_name("condition")
                    .is_some_and(|c| self.res.not_acquired(c))
                {
                    then_states.iter_mut().for_each(|s| s.excluded = true);
                }
                let mut out = match st.child_by_field_name("consequence") {
                    Some(c) => self.branch(c, then_states),
                    None => then_states,
                };
                match st.child_by_field_name("alternative") {
                    Some(a) if a.kind() == "if_statement" => {
                        out.extend(self.statement(a, states, before))
                    }
                    Some(a) => out.extend(self.branch(a, states)),
                    None => out.extend(states),
                }
                self.merge(out)
            }
            "expression_switch_statement" | "type_switch_statement" | "select_statement" => {
                if let Some(init) = st.child_by_field_name("initializer") {
                    self.apply(init, &mut states);
                }
                let cases: Vec<Node<'t>> = flow::named(st)
                    .into_iter()
                    .filter(|c| {
                        matches!(
                            c.kind(),
                            "expression_case" | "default_case" | "type_case" | "communication_case"
                        )
                    })
                    .collect();
                let mut out = Vec::new();
                for c in &cases {
                    let mut entry = states.clone();
                    if let Some(comm) = c.child_by_field_name("communication") {
                        self.apply(comm, &mut entry);
                    }
                    out.extend(self.branch(*c, entry));
                }
                // A `switch` on a value or a type is taken to cover its values (an enum's
                // cases); a condition `switch` without `default` may match no case.
                let exhaustive = st.kind() != "expression_switch_statement"
                    || st.child_by_field_name("value").is_some()
                    || cases.iter().any(|c| c.kind() == "default_case");
                if !exhaustive {
                    out.extend(states);
                }
                self.merge(out)
            }
            "for_statement" => {
                // The body's returns are exits; what it releases on the way through is a
                // sweep of many entries (an eviction loop), not this path's release, so
                // the paths after the loop are those before it.
                if let Some(b) = st.child_by_field_name("body") {
                    self.block(b, states.clone());
                }
                states
            }
            "defer_statement" => {
                if self.res.effect(st) == Effect::Release {
                    states.iter_mut().for_each(|s| s.released = true);
                }
                states
            }
            _ => {
                if self.res.aborts(st) {
                    return Vec::new();
                }
                self.apply(st, &mut states);
                states
            }
        }
    }
}

/// Whether the exits show a resource released on some paths only: at least one live exit
/// releases it and the others that neither release nor hand it on are returned.
pub(crate) fn unreleased<'t>(exits: &[Exit<'t>]) -> Vec<Exit<'t>> {
    if !exits.iter().any(|e| e.released) {
        return Vec::new();
    }
    exits
        .iter()
        .filter(|e| !e.released && !e.handed)
        .copied()
        .collect()
}

/// Each exit as the first line of where its fix goes: for tests.
#[cfg(test)]
fn texts<'t>(exits: &[Exit<'t>], src: &str) -> Vec<String> {
    exits
        .iter()
        .map(|e| {
            format!(
                "{} released={} handed={}",
                super::syntax::text(e.at, src).lines().next().unwrap_or(""),
                e.released,
                e.handed
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::syntax;

    struct Calls<'s> {
        src: &'s str,
    }

    impl<'t> Resource<'t> for Calls<'_> {
        fn effect(&self, stmt: Node<'t>) -> Effect {
            let t = syntax::text(stmt, self.src);
            if t.contains("release(") {
                Effect::Release
            } else if t.contains("acquire(") {
                Effect::Acquire
            } else if t.contains("ch <- x") {
                Effect::HandOff
            } else {
                Effect::None
            }
        }
        fn not_acquired(&self, c: Node<'t>) -> bool {
            syntax::text(c, self.src).contains("!ok")
        }
        fn aborts(&self, stmt: Node<'t>) -> bool {
            syntax::text(stmt, self.src).starts_with("panic(")
        }
    }

    fn run(body: &str) -> Vec<String> {
        let src = format!("package p\n\nfunc f() {{\n{body}\n}}\n");
        let tree = crate::source::parse::parse_tree(&src, None).unwrap();
        let func = syntax::descendants_of_kind(tree.root_node(), "function_declaration")
            .next()
            .unwrap();
        let b = func.child_by_field_name("body").unwrap();
        let res = Calls { src: &src };
        let ex = exits(b, &res, false).unwrap();
        texts(&unreleased(&ex), &src)
    }

    #[test]
    fn a_switch_case_that_does_not_release() {
        let got = run("x, ok := acquire()\nif !ok {\n\treturn\n}\nswitch {\ncase a:\n\trelease(x)\ncase b:\n\tsave(x)\ndefault:\n\trelease(x)\n}\nlog()");
        assert_eq!(got, vec!["save(x) released=false handed=false"]);
    }

    #[test]
    fn a_return_before_the_deferred_release() {
        let got = run(
            "x := acquire()\nif late {\n\twrite()\n\treturn\n}\ndefer release(x)\nwork()\nreturn",
        );
        assert_eq!(got, vec!["write() released=false handed=false"]);
    }

    #[test]
    fn released_or_handed_on_every_path_is_quiet() {
        assert!(run(
            "x := acquire()\nselect {\ncase ch <- x:\n\treturn\ncase <-done:\n\trelease(x)\n}"
        )
        .is_empty());
        assert!(run(
            "x := acquire()\nif a {\n\trelease(x)\n\treturn\n}\nif b {\n\tpanic(1)\n}\nrelease(x)"
        )
        .is_empty());
        // Nothing released anywhere: not this walk's business.
        assert!(run("x := acquire()\nif a {\n\treturn\n}\nuse(x)").is_empty());
        // Exits before the acquisition are not paths of the resource.
        assert!(run("if a {\n\treturn\n}\nx := acquire()\nrelease(x)").is_empty());
    }

    #[test]
    fn an_if_without_else_falls_through() {
        let got = run("x := acquire()\nif a {\n\trelease(x)\n}\nreturn");
        assert_eq!(got, vec!["return released=false handed=false"]);
    }
}
