//! `goroutine-blocked-send`: a goroutine sends on a channel that its owner stops receiving
//! from (a timeout or an early return wins, or only the first of several answers is
//! taken), so the send blocks forever; plus the channel-flow analysis this rule and
//! `goroutine-blocked-recv` share ([`flow`]).

use super::{Context, EvidenceKind, Fix, Location, Match, Related, Rule, RuleMeta, TextEdit};

use super::flow;
use super::syntax;
use super::SourceFile;
use chans::{Chan, ChanUse, Count, Exec, Funcs, GoSite, UseKind};
use tree_sitter::Node;

/// The `goroutine-blocked-send` rule.
#[derive(Debug)]
pub struct GoroutineBlockedSend;

static META: RuleMeta = RuleMeta {
    id: "goroutine-blocked-send",
    name: "Goroutine blocked on send",
    summary: "A goroutine sends on a channel that its owner stops receiving from after a timeout, \
              an early return or the first answer, so the goroutine and everything it holds \
              stay alive forever.",
    evidence: EvidenceKind::Goroutine,
    grows: false,
};

impl Rule for GoroutineBlockedSend {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let funcs = Funcs::new(pkg.index());
        for file in pkg.program_files() {
            for chan in chans::local_channels(file, &funcs) {
                if let Some(m) = check_chan(&funcs, &chan) {
                    // When a buffer at the `make` is the fix (one the quick fix sizes, or
                    // one per sender of an unbuffered channel), the `make` line carries
                    // the finding too: that is the line to change.
                    let unbuffered = matches!(chan.capacity, chans::Capacity::Unbuffered);
                    let at_make = chan
                        .make_call
                        .map(|c| file.location(chans::statement_head(c)))
                        .filter(|l| {
                            (!m.fixes.is_empty() || unbuffered)
                                && l.span.start_line != m.location.span.start_line
                        })
                        .map(|l| {
                            m.also_at(
                                l,
                                "the channel made here has no buffer",
                                "the send that blocks".to_string(),
                            )
                        });
                    out.push(m);
                    out.extend(at_make);
                }
            }
        }
    }
}

/// Why the owner can stop receiving before every sender has sent.
enum Reason<'a> {
    /// Nothing in the owner receives from the channel.
    NoReceive,
    /// More values are sent than the owner receives (plus the buffer holds).
    FewerReceives,
    /// Another case of the select around the receive wins and the owner moves on.
    SelectCase(Node<'a>),
    /// The owner returns (or jumps away) between starting the goroutine and receiving.
    EarlyExit(Node<'a>),
    /// The loop that receives can end before every value is received.
    LoopExit(Node<'a>),
    /// The function returns the channel, and a caller waits on it in a select whose
    /// other case can win: (the caller's file, the winning case, the caller's name).
    CallerCase(&'a SourceFile, Node<'a>, String),
}

fn check_chan<'a>(funcs: &Funcs<'a>, chan: &Chan<'a>) -> Option<Match> {
    let file = chan.file;
    let src: &str = &file.text;
    if !matches!(chan.origin, chans::Origin::Make) {
        return None;
    }
    let uses = chans::uses(funcs, chan);
    // A channel stored or handed to code the analysis cannot follow may be received from
    // there; one returned is followed to the callers waiting on it.
    if uses.iter().any(|u| matches!(u.kind, UseKind::Escape)) {
        return None;
    }
    let abandoned = match uses.iter().any(|u| matches!(u.kind, UseKind::Returned)) {
        true => Some(abandoning_caller(funcs, chan)?),
        false => None,
    };
    // Sends or receives in code of unknown timing (a callback), and sends from the owner
    // itself (a two-way conversation), are beyond what this rule judges.
    if uses.iter().any(|u| {
        matches!(
            u.kind,
            UseKind::Send { .. } | UseKind::Recv { .. } | UseKind::Range(_)
        ) && matches!(u.exec, Exec::Unknown)
    }) {
        return None;
    }
    if uses
        .iter()
        .any(|u| matches!(u.kind, UseKind::Send { .. }) && matches!(u.exec, Exec::Main))
    {
        return None;
    }
    let senders: Vec<&GoSite<'a>> = {
        let mut v: Vec<&GoSite<'a>> = Vec::new();
        for u in &uses {
            if let (UseKind::Send { guarded: false }, Exec::Goroutine(g)) = (&u.kind, &u.exec) {
                if !v.iter().any(|s| s.same(g)) {
                    v.push(g);
                }
            }
        }
        v
    };
    let first_sender = *senders.first()?;
    // A consumer goroutine receives for the owner; whether it drains is its own story.
    if uses.iter().any(|u| {
        matches!(u.kind, UseKind::Recv { .. } | UseKind::Range(_))
            && matches!(&u.exec, Exec::Goroutine(_))
    }) {
        return None;
    }
    // A receive in a deferred function drains the channel whatever path the owner takes.
    let receives: Vec<&ChanUse<'a>> = uses
        .iter()
        .filter(|u| matches!(u.kind, UseKind::Recv { .. } | UseKind::Range(_)))
        .collect();
    if receives.iter().any(|u| u.deferred) {
        return None;
    }
    // Goroutines started once by main or an init function live as long as the process.
    if chans::is_process_lifetime(first_sender) {
        return None;
    }

    // How many sends can happen, and how many the owner takes (plus the buffer).
    let mut sent = Count::Finite(0);
    for g in &senders {
        let sends: Vec<&ChanUse<'a>> = uses
            .iter()
            .filter(|u| {
                matches!(u.kind, UseKind::Send { guarded: false })
                    && matches!(&u.exec, Exec::Goroutine(h) if h.same(g))
            })
            .collect();
        let per_goroutine = chans::sends_per_run(&sends);
        let starts = if chans::in_loop_between(g.node, chan.home) {
            Count::Many
        } else {
            Count::Finite(1)
        };
        sent = sent.plus(per_goroutine.times(starts));
    }
    let capacity = match chan.capacity {
        chans::Capacity::Unbuffered => 0,
        chans::Capacity::Literal(n) => n,
        chans::Capacity::Unknown => return None,
    };
    // A buffer that holds every send, or (with senders in a loop) a buffer larger than
    // one, which is usually sized to the loop.
    match sent {
        Count::Finite(n) if n <= capacity => return None,
        Count::Many if capacity > 1 => return None,
        _ => {}
    }
    let mut received = Count::Finite(0);
    for r in &receives {
        received = received.plus(if r.in_loop || matches!(r.kind, UseKind::Range(_)) {
            Count::Many
        } else {
            Count::Finite(1)
        });
    }

    let reason = if let Some((cf, case, caller)) = abandoned {
        if !receives.is_empty() {
            return None;
        }
        Some(Reason::CallerCase(cf, case, caller))
    } else if receives.is_empty() {
        Some(Reason::NoReceive)
    } else if received.plus(Count::Finite(capacity)).less_than(sent) {
        Some(Reason::FewerReceives)
    } else {
        select_reason(chan, &receives, src)
            .or_else(|| early_exit_reason(chan, &senders, &receives, src))
            .or_else(|| {
                if matches!(sent, Count::Finite(n) if n < 2) {
                    return None;
                }
                // An endless `for { select {...} }` event loop must return somewhere
                // to end at all; its exits are judged per select case above. A loop
                // with a header (a range, a count) that returns early skips receives.
                receives.iter().find_map(|r| {
                    let lp = match r.kind {
                        UseKind::Range(f) => Some(f),
                        _ => chans::innermost_loop_within(r.site, chan.home),
                    }?;
                    if flow::named(lp).len() < 2 {
                        return None;
                    }
                    chans::loop_exit(lp, src).map(Reason::LoopExit)
                })
            })
    }?;

    let owner = chans::owner_name(file, first_sender.node);
    let buffered = if capacity == 0 {
        "unbuffered"
    } else {
        "buffered"
    };
    let starter = if senders.len() > 1 || chans::in_loop_between(first_sender.node, chan.home) {
        format!("goroutines started in {owner} send")
    } else {
        format!("goroutine started in {owner} sends")
    };
    let name = &chan.name;
    let (tail, related_node, related_note) = match &reason {
        Reason::NoReceive => (
            " that nothing receives from, so the send blocks forever".to_string(),
            None,
            "",
        ),
        Reason::FewerReceives => (
            format!(", but {owner} receives fewer values than are sent, so the remaining sends block forever"),
            None,
            "",
        ),
        Reason::SelectCase(case) => (
            format!(
                ", and {owner} stops receiving when another case of the select wins, so the send blocks forever"
            ),
            Some(*case),
            "this case ends the wait without receiving",
        ),
        Reason::EarlyExit(node) if node.kind() == "return_statement" => (
            format!(", and {owner} can return before receiving from it, so the send blocks forever"),
            Some(*node),
            "returns before receiving",
        ),
        Reason::EarlyExit(node) => (
            format!(", and {owner} can skip the receive, so the send blocks forever"),
            Some(*node),
            "skips the receive",
        ),
        Reason::LoopExit(node) => (
            format!(
                ", and the loop in {owner} that receives from it can stop early, so the remaining sends block forever"
            ),
            Some(*node),
            "the receiving loop can end here",
        ),
        Reason::CallerCase(_, _, caller) => (
            format!(
                " and returns it, and {caller} stops waiting on it when another case of its select wins, so the send blocks forever"
            ),
            None,
            "",
        ),
    };
    let message = format!("{starter} on {buffered} channel \"{name}\"{tail}");

    // The goroutines park at the send, so the send is the cause line; the `go`
    // statement that starts them and the channel's `make` are related locations.
    let first_send = uses.iter().find(|u| {
        matches!(u.kind, UseKind::Send { guarded: false })
            && matches!(&u.exec, Exec::Goroutine(h) if h.same(first_sender))
    })?;
    let location = first_send
        .file
        .location(chans::statement_head(first_send.site));
    let mut related = Vec::new();
    let go_location = first_sender
        .file
        .location(chans::statement_head(first_sender.node));
    if go_location.span.start_line != location.span.start_line
        || !std::ptr::eq(first_sender.file, first_send.file)
    {
        related.push(Related {
            location: go_location.clone(),
            message: "starts the goroutine that blocks".to_string(),
        });
    }
    if let Some(call) = chan.make_call {
        let make_location = file.location(chans::statement_head(call));
        if make_location.span.start_line != location.span.start_line
            && make_location.span.start_line != go_location.span.start_line
        {
            related.push(Related {
                location: make_location,
                message: format!("makes channel \"{name}\""),
            });
        }
    }
    if let Some(n) = related_node {
        related.push(Related {
            location: file.location(chans::statement_head(n)),
            message: related_note.to_string(),
        });
    }
    if let Reason::CallerCase(cf, case, _) = &reason {
        related.push(Related {
            location: cf.location(chans::statement_head(*case)),
            message: "this case ends the caller's wait without receiving".to_string(),
        });
    }

    let mut evidence: Vec<Location> = Vec::new();
    for u in &uses {
        if matches!(u.kind, UseKind::Send { guarded: false }) {
            let loc = u.file.location(u.site);
            if !evidence.contains(&loc) {
                evidence.push(loc);
            }
        }
    }

    for g in &senders {
        let sends: Vec<Node<'a>> = uses
            .iter()
            .filter(|u| matches!(u.kind, UseKind::Send { guarded: false }))
            .filter(|u| matches!(&u.exec, Exec::Goroutine(h) if h.same(g)))
            .map(|u| u.site)
            .collect();
        for (location, note) in chans::held_allocations(funcs, g, &sends, &sends) {
            if !related.iter().any(|r| r.location == location) {
                related.push(Related {
                    location,
                    message: note.to_string(),
                });
            }
        }
    }

    let fixes = single_sender_fix(chan, &senders, &uses, capacity, sent)
        .or_else(|| loop_sender_fix(funcs, chan, &senders, &uses, capacity))
        .into_iter()
        .collect();

    Some(Match {
        rule: META.id,
        location,
        subject: name.clone(),
        message,
        declaration: Some(file.location(chan.decl)),
        related,
        evidence,
        fixes,
        version_note: None,
        needs_growth: false,
        fills: Vec::new(),
    })
}

/// For a channel its function returns (`func (a *Archive) startUpload(...) <-chan
/// uploadResult`), a caller in the package waiting on it in a select that another case
/// can end (`case res := <-a.startUpload(ctx, key, body):` beside `case <-timer.C:`),
/// directly or through a local the select alone receives from: the caller's file, the
/// other case and the caller's name. `None` when no caller abandons it that way.
fn abandoning_caller<'a>(
    funcs: &Funcs<'a>,
    chan: &Chan<'a>,
) -> Option<(&'a SourceFile, Node<'a>, String)> {
    let src: &str = &chan.file.text;
    let func = syntax::enclosing_function(chan.decl)?;
    if !matches!(func.kind(), "function_declaration" | "method_declaration") {
        return None;
    }
    let name = syntax::function_name(func, src)?;
    let method = func.kind() == "method_declaration";
    for cf in funcs.files() {
        let csrc: &str = &cf.text;
        for call in syntax::descendants_of_kind(cf.tree.root_node(), "call_expression") {
            let Some(callee) = call.child_by_field_name("function").map(flow::unparen) else {
                continue;
            };
            let hit = match method {
                true => {
                    callee.kind() == "selector_expression"
                        && callee
                            .child_by_field_name("field")
                            .is_some_and(|f| syntax::text(f, csrc) == name)
                }
                false => callee.kind() == "identifier" && syntax::text(callee, csrc) == name,
            };
            if !hit {
                continue;
            }
            // The receives of the call's channel: `<-f()` itself, or `<-c` for `c := f()`.
            let parent = flow::parent_skipping_parens(call);
            let receives: Vec<Node<'a>> = match parent {
                Some(p) if p.kind() == "unary_expression" && flow::operator(p, csrc) == "<-" => {
                    vec![p]
                }
                Some(p) if p.kind() == "expression_list" => {
                    let decl = p.parent().filter(|d| d.kind() == "short_var_declaration");
                    let var = decl
                        .and_then(|d| flow::items(d.child_by_field_name("left")).first().copied());
                    let (Some(decl), Some(var)) = (decl, var) else {
                        continue;
                    };
                    let Some(b) = flow::resolve(decl, syntax::text(var, csrc), csrc)
                        .or_else(|| flow::binding_declared_at(var, csrc))
                    else {
                        continue;
                    };
                    let uses = flow::uses(&b, csrc);
                    let recvs: Vec<Node<'a>> = uses
                        .iter()
                        .filter_map(|u| flow::parent_skipping_parens(*u))
                        .filter(|p| {
                            p.kind() == "unary_expression" && flow::operator(*p, csrc) == "<-"
                        })
                        .collect();
                    // Handed on or received elsewhere too: not judged here.
                    if recvs.len() != 1 || uses.len() != 1 {
                        continue;
                    }
                    recvs
                }
                _ => continue,
            };
            for r in receives {
                let Some(case) = syntax::ancestors(r)
                    .take_while(|a| !syntax::is_function(a.kind()))
                    .find(|a| a.kind() == "communication_case")
                else {
                    continue;
                };
                let in_comm = case.child_by_field_name("communication").is_some_and(|c| {
                    c.start_byte() <= r.start_byte() && r.end_byte() <= c.end_byte()
                });
                let Some(select) = case.parent().filter(|s| s.kind() == "select_statement") else {
                    continue;
                };
                if !in_comm {
                    continue;
                }
                let other = flow::named(select).into_iter().find(|c| {
                    c.id() != case.id() && matches!(c.kind(), "communication_case" | "default_case")
                });
                if let Some(other) = other {
                    return Some((cf, other, chans::owner_name(cf, call)));
                }
            }
        }
    }
    None
}

/// A select receive whose sibling case lets the owner move on without receiving.
fn select_reason<'a>(chan: &Chan<'a>, receives: &[&ChanUse<'a>], src: &str) -> Option<Reason<'a>> {
    for r in receives {
        let UseKind::Recv {
            select: Some((select, case)),
        } = r.kind
        else {
            continue;
        };
        let in_loop = chans::innermost_loop_within(select, chan.home);
        let later_receive = receives
            .iter()
            .any(|o| o.site.start_byte() >= select.end_byte());
        for sibling in flow::named(select) {
            if sibling == case || !matches!(sibling.kind(), "communication_case" | "default_case") {
                continue;
            }
            // A case on the same channel, or one that drains it before leaving, is not
            // a way out without receiving.
            let drains = receives.iter().any(|o| {
                sibling.start_byte() <= o.site.start_byte()
                    && o.site.end_byte() <= sibling.end_byte()
            });
            if drains || chans::case_mentions(sibling, chan, src) {
                continue;
            }
            // Without a loop, a `break` out of the select only falls through to what
            // follows it, so the region left must be wider than the select.
            let region = in_loop.or_else(|| select.parent()).unwrap_or(select);
            let leaves = chans::leaves(sibling, region, src);
            let abandons = match in_loop {
                Some(_) => leaves,
                None => leaves || !later_receive,
            };
            if abandons {
                return Some(Reason::SelectCase(sibling));
            }
        }
    }
    None
}

/// A return (or a jump out) between the first `go` and the first receive.
fn early_exit_reason<'a>(
    chan: &Chan<'a>,
    senders: &[&GoSite<'a>],
    receives: &[&ChanUse<'a>],
    src: &str,
) -> Option<Reason<'a>> {
    let first_go = senders
        .iter()
        .filter(|g| std::ptr::eq(g.file, chan.file))
        .map(|g| g.node)
        .min_by_key(|n| n.start_byte())?;
    let first_recv = receives
        .iter()
        .filter(|r| std::ptr::eq(r.file, chan.file))
        .map(|r| r.site)
        .min_by_key(|n| n.start_byte())?;
    chans::exit_between(chan.home, first_go, first_recv, src).map(Reason::EarlyExit)
}

/// `make(chan T)` to `make(chan T, 1)` when exactly one goroutine, started once per
/// `make`, sends exactly once.
fn single_sender_fix(
    chan: &Chan<'_>,
    senders: &[&GoSite<'_>],
    uses: &[ChanUse<'_>],
    capacity: usize,
    sent: Count,
) -> Option<Fix> {
    if capacity != 0 || senders.len() != 1 || sent != Count::Finite(1) {
        return None;
    }
    let g = senders.first()?;
    if !sends_once_per_run(uses, g) || chans::in_loop_between(g.node, chan.home) {
        return None;
    }
    let make = chan.make_call?;
    let args = flow::named(make.child_by_field_name("arguments")?);
    let ty = *args.first()?;
    if ty.kind() != "channel_type" {
        return None;
    }
    let (start, end, text) = match args.get(1) {
        Some(zero) => (zero.start_byte(), zero.end_byte(), "1".to_string()),
        None => (ty.end_byte(), ty.end_byte(), ", 1".to_string()),
    };
    Some(Fix {
        title: format!(
            "Give \"{}\" a buffer of one so the goroutine's send never blocks",
            chan.name
        ),
        edits: vec![TextEdit {
            file: chan.file.path().to_path_buf(),
            start_byte: start,
            end_byte: end,
            new_text: text,
        }],
    })
}

/// Whether every send on the channel runs in the goroutine `g` starts, once per run of
/// it.
fn sends_once_per_run(uses: &[ChanUse<'_>], g: &GoSite<'_>) -> bool {
    let all_sends: Vec<&ChanUse<'_>> = uses
        .iter()
        .filter(|u| matches!(u.kind, UseKind::Send { .. }))
        .collect();
    all_sends
        .iter()
        .all(|u| matches!(&u.exec, Exec::Goroutine(h) if h.same(g)))
        && chans::sends_per_run(&all_sends) == Count::Finite(1)
}

/// `make(chan T)` to `make(chan T, len(xs))` when one goroutine is started per element
/// of `for _, x := range xs` (a slice or map, by its declared type) after the `make`, and
/// each sends exactly once: every send then finds room, whoever stops receiving.
fn loop_sender_fix(
    funcs: &Funcs<'_>,
    chan: &Chan<'_>,
    senders: &[&GoSite<'_>],
    uses: &[ChanUse<'_>],
    capacity: usize,
) -> Option<Fix> {
    let [g] = senders else {
        return None;
    };
    if capacity != 0 {
        return None;
    }
    let src: &str = &chan.file.text;
    if !sends_once_per_run(uses, g) {
        return None;
    }
    let make = chan.make_call?;
    let lp = chans::innermost_loop_within(g.node, chan.home)?;
    let outer = lp.parent()?;
    if lp.start_byte() < make.end_byte() || chans::innermost_loop_within(outer, chan.home).is_some()
    {
        return None;
    }
    let over = flow::named(lp)
        .into_iter()
        .find(|c| c.kind() == "range_clause")?
        .child_by_field_name("right")
        .map(flow::unparen)?;
    if !funcs.is_slice_or_map(chan.file, over) {
        return None;
    }
    let args = flow::named(make.child_by_field_name("arguments")?);
    let ty = *args.first()?;
    if ty.kind() != "channel_type" || args.len() != 1 {
        return None;
    }
    let count = format!("len({})", super::syntax::text(over, src));
    Some(Fix {
        title: format!(
            "Give \"{}\" a buffer of {count}, one per goroutine, so no send blocks",
            chan.name
        ),
        edits: vec![TextEdit {
            file: chan.file.path().to_path_buf(),
            start_byte: ty.end_byte(),
            end_byte: ty.end_byte(),
            new_text: format!(", {count}"),
        }],
    })
}

/// The channel-flow analysis shared by the goroutine rules: channels made in a function,
/// every use of them (following them into goroutine literals and into functions of the
/// same package they are passed to), in which goroutine each use runs, and the control
/// flow facts the rules need (loops, returns, select cases).
pub(super) mod chans {
    use std::collections::HashSet;

    use tree_sitter::Node;

    use crate::rules::flow::{self, named, outer_paren, unparen, PackageIndex};
    use crate::rules::syntax;
    use crate::rules::SourceFile;

    /// How deep calls are followed when a channel is passed to a function.
    const MAX_DEPTH: usize = 3;

    /// The buffer of a channel.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Capacity {
        Unbuffered,
        /// A literal capacity.
        Literal(usize),
        /// A computed capacity (`len(items)`), assumed to fit the senders.
        Unknown,
    }

    /// A count of sends or receives that may be unbounded.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Count {
        Finite(usize),
        /// In a loop: any number.
        Many,
    }

    impl Count {
        pub fn plus(self, other: Count) -> Count {
            match (self, other) {
                (Count::Finite(a), Count::Finite(b)) => Count::Finite(a.saturating_add(b)),
                _ => Count::Many,
            }
        }

        pub fn times(self, other: Count) -> Count {
            match (self, other) {
                (Count::Finite(0), _) | (_, Count::Finite(0)) => Count::Finite(0),
                (Count::Finite(a), Count::Finite(b)) => Count::Finite(a.saturating_mul(b)),
                _ => Count::Many,
            }
        }

        /// Whether `self` is known to be smaller than `other`.
        pub fn less_than(self, other: Count) -> bool {
            match (self, other) {
                (Count::Finite(a), Count::Finite(b)) => a < b,
                (Count::Finite(_), Count::Many) => true,
                _ => false,
            }
        }
    }

    /// Where a channel comes from.
    #[derive(Debug, Clone, Copy)]
    pub enum Origin<'a> {
        /// `make(chan T)` in the function.
        Make,
        /// A call to a function of the package that returns a channel it made.
        Call(Node<'a>),
    }

    /// A channel held in a local variable of a function.
    #[derive(Debug)]
    pub struct Chan<'a> {
        pub file: &'a SourceFile,
        pub name: String,
        /// The identifier that declares the variable.
        pub decl: Node<'a>,
        /// The node whose subtree is the variable's scope.
        pub home: Node<'a>,
        /// The `make` call, for [`Origin::Make`].
        pub make_call: Option<Node<'a>>,
        pub capacity: Capacity,
        pub origin: Origin<'a>,
    }

    /// A `go` statement (or a `x.Go(func() {...})` call) that starts a goroutine.
    #[derive(Debug, Clone, Copy)]
    pub struct GoSite<'a> {
        pub file: &'a SourceFile,
        /// The statement that starts the goroutine.
        pub node: Node<'a>,
    }

    impl GoSite<'_> {
        pub fn same(&self, other: &GoSite<'_>) -> bool {
            std::ptr::eq(self.file, other.file) && self.node.byte_range() == other.node.byte_range()
        }
    }

    /// Which flow of control runs a use.
    #[derive(Debug, Clone, Copy)]
    pub enum Exec<'a> {
        /// The function that owns the channel.
        Main,
        /// A goroutine the owner (or a function it calls) starts.
        Goroutine(GoSite<'a>),
        /// A function value whose callers are not known.
        Unknown,
    }

    /// What a use does with the channel.
    #[derive(Debug, Clone, Copy)]
    pub enum UseKind<'a> {
        /// `ch <- v`; guarded when it is a case of a select with other cases.
        Send { guarded: bool },
        /// `<-ch`, with the select and case when it is a select case.
        Recv {
            select: Option<(Node<'a>, Node<'a>)>,
        },
        /// `for ... range ch` (the `for` statement).
        Range(Node<'a>),
        /// `close(ch)`.
        Close,
        /// `return ch`.
        Returned,
        /// Stored, passed to unknown code, reassigned: the analysis cannot follow it.
        Escape,
    }

    /// One use of a channel.
    #[derive(Debug, Clone, Copy)]
    pub struct ChanUse<'a> {
        pub file: &'a SourceFile,
        pub kind: UseKind<'a>,
        /// The statement that blocks on it (the send, the receive's statement, the `for`
        /// of a range, the select of a select case).
        pub site: Node<'a>,
        pub exec: Exec<'a>,
        /// Runs in a deferred function.
        pub deferred: bool,
        /// Inside a loop of its goroutine (or of the owner).
        pub in_loop: bool,
    }

    /// The package's top-level functions by name and its methods by method name (from
    /// the shared [`PackageIndex`]), and which functions return a channel.
    #[derive(Debug)]
    pub struct Funcs<'a> {
        idx: &'a PackageIndex<'a>,
        /// Functions declared to return a single channel.
        producers: HashSet<&'a str>,
    }

    impl<'a> Funcs<'a> {
        /// Whether `expr` (a local, a parameter or a field `a.xs`) is declared a slice or
        /// a map.
        pub fn is_slice_or_map(&self, file: &SourceFile, expr: Node<'_>) -> bool {
            let src: &str = &file.text;
            let listy = |t: &str| t.starts_with("[]") || t.starts_with("map[");
            match expr.kind() {
                "identifier" => flow::resolve_ident(expr, src).is_some_and(|b| {
                    b.ty.is_some_and(|t| listy(syntax::text(t, src)))
                        || b.value.map(unparen).is_some_and(|v| {
                            v.kind() == "composite_literal"
                                && v.child_by_field_name("type")
                                    .is_some_and(|t| listy(syntax::text(t, src)))
                        })
                }),
                "selector_expression" => expr.child_by_field_name("field").is_some_and(|f| {
                    let name = syntax::text(f, src);
                    flow::field_type_in(self.idx.files.iter().copied(), name)
                        .is_some_and(|t| listy(&t))
                }),
                _ => false,
            }
        }

        pub fn new(idx: &'a PackageIndex<'a>) -> Funcs<'a> {
            let producers = idx
                .funcs
                .iter()
                .filter(|(_, decls)| decls.iter().any(|(_, f)| returns_channel(*f)))
                .map(|(name, _)| *name)
                .collect();
            Funcs { idx, producers }
        }

        /// The package's program files.
        pub fn files(&self) -> impl Iterator<Item = &'a SourceFile> + '_ {
            self.idx.files.iter().copied()
        }

        /// Whether the package has functions declared to return a channel.
        pub fn has_producers(&self) -> bool {
            !self.producers.is_empty()
        }

        /// Whether `name` is a function of the package declared to return a channel.
        pub fn is_producer(&self, name: &str) -> bool {
            self.producers.contains(name)
        }

        pub fn get(&self, name: &str) -> Option<(&'a SourceFile, Node<'a>)> {
            let (fi, f) = *self.idx.funcs.get(name)?.first()?;
            Some((*self.idx.files.get(fi)?, f))
        }

        /// Whether every struct field of the package named `name` is declared as a
        /// `*time.Ticker` (and one is).
        pub fn is_ticker_field(&self, name: &str) -> bool {
            let mut found = false;
            for spec in self.idx.types.values() {
                let Some(fi) = self.idx.file_of(*spec) else {
                    continue;
                };
                let Some(st) = spec
                    .child_by_field_name("type")
                    .filter(|t| t.kind() == "struct_type")
                else {
                    continue;
                };
                for decl in syntax::descendants_of_kind(st, "field_declaration") {
                    let named_so = crate::rules::flow::field_nodes(decl, "name")
                        .iter()
                        .any(|n| self.idx.text(fi, *n) == name);
                    if !named_so {
                        continue;
                    }
                    let ty = decl
                        .child_by_field_name("type")
                        .map(|t| self.idx.text(fi, t).split_whitespace().collect::<String>());
                    let time = self
                        .idx
                        .imports
                        .get(fi)
                        .and_then(|m| m.iter().find(|(_, p)| **p == "time").map(|(n, _)| *n));
                    match (ty, time) {
                        (Some(t), Some(time)) if t == format!("*{time}.Ticker") => found = true,
                        _ => return false,
                    }
                }
            }
            found
        }

        /// The index of a program file of the package.
        pub fn file_index(&self, file: &SourceFile) -> Option<usize> {
            self.idx.files.iter().position(|f| std::ptr::eq(*f, file))
        }

        /// The allocation sites of a value, as the map rules follow them.
        pub fn alloc_sites(
            &self,
            fi: usize,
            value: Node<'a>,
            out: &mut Vec<crate::rules::Location>,
        ) {
            self.idx.alloc_sites(fi, value, out);
        }

        /// The method of the package with this name, when exactly one type has it.
        pub fn method(&self, name: &str) -> Option<(&'a SourceFile, Node<'a>)> {
            match self.idx.methods.get(name).map(Vec::as_slice) {
                Some([(fi, m)]) => Some((*self.idx.files.get(*fi)?, *m)),
                _ => None,
            }
        }
    }

    /// Whether a function declaration's result is a single unnamed channel.
    fn returns_channel(func: Node<'_>) -> bool {
        let Some(result) = func.child_by_field_name("result") else {
            return false;
        };
        let ty = match result.kind() {
            "parameter_list" => match named(result).as_slice() {
                [only] if only.child_by_field_name("name").is_none() => {
                    only.child_by_field_name("type")
                }
                _ => None,
            },
            _ => Some(result),
        };
        ty.is_some_and(|t| t.kind() == "channel_type")
    }

    /// The part of a statement that stands for it in a location: the node itself when it
    /// fits on one line, else its first child, repeatedly (`go` of a `go func() {...}()`,
    /// `wg.Go` of a `wg.Go(func() {...})`), so locations point at one line.
    pub fn statement_head(node: Node<'_>) -> Node<'_> {
        let mut n = node;
        while n.start_position().row != n.end_position().row {
            let mut c = n.walk();
            let first = n.children(&mut c).next();
            match first {
                Some(f) => n = f,
                None => break,
            }
        }
        n
    }

    /// Local channels declared in a file's functions: `ch := make(chan T)`, `var ch =
    /// make(chan T, n)`, and `ch := produce()` where `produce` is a function of the
    /// package (its origin is checked by the rules that care).
    pub fn local_channels<'a>(file: &'a SourceFile, funcs: &Funcs<'_>) -> Vec<Chan<'a>> {
        let src: &str = &file.text;
        let mut out = Vec::new();
        // Most files make no channel and call no producer: skip their trees.
        if !src.contains("chan") && funcs.producers.is_empty() {
            return out;
        }
        for call in syntax::descendants_of_kind(file.tree.root_node(), "call_expression") {
            let is_make = syntax::callee(call, src) == Some("make");
            let args = syntax::call_args(call);
            let capacity = if is_make {
                match args.first() {
                    Some(t) if t.kind() == "channel_type" => {}
                    _ => continue,
                }
                match args.get(1) {
                    None => Capacity::Unbuffered,
                    Some(n) if n.kind() == "int_literal" => {
                        match syntax::text(*n, src).replace('_', "").parse::<usize>() {
                            Ok(0) => Capacity::Unbuffered,
                            Ok(v) => Capacity::Literal(v),
                            Err(_) => Capacity::Unknown,
                        }
                    }
                    Some(_) => Capacity::Unknown,
                }
            } else {
                match call.child_by_field_name("function") {
                    Some(f)
                        if f.kind() == "identifier" && funcs.is_producer(syntax::text(f, src)) =>
                    {
                        Capacity::Unknown
                    }
                    _ => continue,
                }
            };
            let Some((decl, statement, home)) = declared_by(call, src) else {
                continue;
            };
            if syntax::enclosing_function(statement).is_none() || call.has_error() {
                continue;
            }
            out.push(Chan {
                file,
                name: syntax::text(decl, src).to_string(),
                decl,
                home,
                make_call: is_make.then_some(call),
                capacity,
                origin: if is_make {
                    Origin::Make
                } else {
                    Origin::Call(call)
                },
            });
        }
        out
    }

    /// For a value expression on the right of `a := v` or `var a = v`, the identifier it
    /// initializes, the declaring statement and the scope node.
    fn declared_by<'a>(value: Node<'a>, src: &str) -> Option<(Node<'a>, Node<'a>, Node<'a>)> {
        let value = outer_paren(value);
        let list = value.parent()?;
        if list.kind() != "expression_list" {
            return None;
        }
        let index = named(list).iter().position(|n| *n == value)?;
        let holder = list.parent()?;
        let (names, statement) = match holder.kind() {
            "short_var_declaration" => {
                if holder.child_by_field_name("right") != Some(list) {
                    return None;
                }
                let left = holder.child_by_field_name("left")?;
                (named(left), holder)
            }
            "var_spec" => {
                let mut c = holder.walk();
                let names: Vec<Node<'a>> = holder.children_by_field_name("name", &mut c).collect();
                let stmt = syntax::ancestors(holder).find(|a| a.kind() == "var_declaration")?;
                (names, stmt)
            }
            _ => return None,
        };
        let decl = *names.get(index)?;
        if decl.kind() != "identifier" || syntax::text(decl, src) == "_" {
            return None;
        }
        let parent = statement.parent()?;
        let home = match parent.kind() {
            "for_clause" => parent.parent()?,
            _ => parent,
        };
        Some((decl, statement, home))
    }

    /// One parameter of a function: its name (unnamed parameters have none) and whether
    /// it is variadic.
    #[derive(Debug, Clone, Copy)]
    pub struct Param<'a> {
        pub name: Option<Node<'a>>,
        pub variadic: bool,
    }

    /// The parameters of a function-like node in order (not the receiver, not the
    /// results).
    pub fn parameters(func: Node<'_>) -> Vec<Param<'_>> {
        let mut out = Vec::new();
        let Some(list) = func.child_by_field_name("parameters") else {
            return out;
        };
        for p in named(list) {
            let variadic = p.kind() == "variadic_parameter_declaration";
            let mut c = p.walk();
            let names: Vec<Node<'_>> = p.children_by_field_name("name", &mut c).collect();
            if names.is_empty() {
                out.push(Param {
                    name: None,
                    variadic,
                });
            }
            out.extend(names.into_iter().map(|n| Param {
                name: Some(n),
                variadic,
            }));
        }
        out
    }

    /// Whether the identifier `use_` names the variable declared by `decl` (a `:=` in
    /// the variable's own block assigns to it; one in an inner block declares another).
    pub fn refers_to(use_: Node<'_>, decl: Node<'_>, src: &str) -> bool {
        use_.kind() == "identifier"
            && use_ != decl
            && use_.start_byte() >= decl.end_byte()
            && syntax::text(use_, src) == syntax::text(decl, src)
            && flow::declaring_ident(use_, src) == Some(decl)
    }

    /// The names a file's imports bind (the alias, also `_` and `.`, or the default name
    /// of the path).
    fn imports(file: &SourceFile) -> Vec<&str> {
        let src: &str = &file.text;
        flow::import_specs(file.tree.root_node())
            .into_iter()
            .map(|spec| flow::import_binding(spec, src))
            .collect()
    }

    /// How a function literal runs.
    enum Launch<'a> {
        Go(Node<'a>),
        Defer,
        Now,
        Unknown,
    }

    fn launch_of<'a>(lit: Node<'a>, src: &str) -> Launch<'a> {
        let outer = outer_paren(lit);
        let Some(p) = outer.parent() else {
            return Launch::Unknown;
        };
        if p.kind() == "call_expression" && p.child_by_field_name("function") == Some(outer) {
            return match p.parent().map(|g| g.kind()) {
                Some("go_statement") => p.parent().map_or(Launch::Unknown, Launch::Go),
                Some("defer_statement") => Launch::Defer,
                _ => Launch::Now,
            };
        }
        if p.kind() == "argument_list" {
            if let Some(call) = p.parent() {
                let is_go = syntax::callee(call, src).is_some_and(|c| c.ends_with(".Go"));
                if is_go {
                    return Launch::Go(syntax::statement_of(call));
                }
            }
        }
        Launch::Unknown
    }

    /// Where a use runs relative to `home` (the owner's scope or a function it calls).
    struct Context<'a> {
        /// `None`: the flow that entered `home`.
        exec: Option<Exec<'a>>,
        deferred: bool,
        in_loop: bool,
    }

    fn context_of<'a>(file: &'a SourceFile, node: Node<'a>, home: Node<'a>) -> Context<'a> {
        let src: &str = &file.text;
        let mut ctx = Context {
            exec: None,
            deferred: false,
            in_loop: false,
        };
        for a in syntax::ancestors(node) {
            if a == home {
                break;
            }
            match a.kind() {
                "for_statement" => ctx.in_loop = true,
                "func_literal" => match launch_of(a, src) {
                    Launch::Go(stmt) => {
                        ctx.exec = Some(Exec::Goroutine(GoSite { file, node: stmt }));
                        return ctx;
                    }
                    Launch::Defer => ctx.deferred = true,
                    Launch::Now => {}
                    Launch::Unknown => {
                        ctx.exec = Some(Exec::Unknown);
                        return ctx;
                    }
                },
                _ => {}
            }
        }
        ctx
    }

    /// How the flow that enters a scope runs, for following a channel into a callee.
    #[derive(Clone, Copy)]
    struct Base<'a> {
        exec: Exec<'a>,
        deferred: bool,
        in_loop: bool,
    }

    /// Every use of `chan`, followed into goroutines and called functions of the package.
    pub fn uses<'a>(funcs: &Funcs<'a>, chan: &Chan<'a>) -> Vec<ChanUse<'a>> {
        let mut out = Vec::new();
        let base = Base {
            exec: Exec::Main,
            deferred: false,
            in_loop: false,
        };
        collect(funcs, chan.file, chan.decl, chan.home, base, 0, &mut out);
        out
    }

    fn collect<'a>(
        funcs: &Funcs<'a>,
        file: &'a SourceFile,
        decl: Node<'a>,
        home: Node<'a>,
        base: Base<'a>,
        depth: usize,
        out: &mut Vec<ChanUse<'a>>,
    ) {
        let src: &str = &file.text;
        let name = syntax::text(decl, src);
        for id in syntax::descendants_of_kind(home, "identifier") {
            if syntax::text(id, src) != name || !refers_to(id, decl, src) {
                continue;
            }
            let ctx = context_of(file, id, home);
            let (exec, in_loop) = match ctx.exec {
                Some(e) => (e, ctx.in_loop),
                None => (base.exec, ctx.in_loop || base.in_loop),
            };
            let deferred = ctx.deferred || (ctx.exec.is_none() && base.deferred);
            let make_use = |kind: UseKind<'a>, site: Node<'a>| ChanUse {
                file,
                kind,
                site,
                exec,
                deferred,
                in_loop,
            };
            let n = outer_paren(id);
            let Some(p) = n.parent() else {
                continue;
            };
            match p.kind() {
                "send_statement" if p.child_by_field_name("channel") == Some(n) => {
                    let guarded = p
                        .parent()
                        .filter(|c| c.kind() == "communication_case")
                        .and_then(|c| c.parent())
                        .is_some_and(|s| named(s).len() > 1);
                    out.push(make_use(UseKind::Send { guarded }, p));
                }
                "unary_expression" if is_receive(p) => {
                    let holder = outer_paren(p).parent();
                    let select = holder
                        .filter(|h| h.kind() == "receive_statement")
                        .and_then(|h| h.parent())
                        .filter(|c| c.kind() == "communication_case")
                        .and_then(|c| c.parent().map(|s| (s, c)));
                    let site = match select {
                        Some((s, _)) => s,
                        None => syntax::statement_of(p),
                    };
                    out.push(make_use(UseKind::Recv { select }, site));
                }
                "range_clause" if p.child_by_field_name("right") == Some(n) => {
                    if let Some(f) = p.parent() {
                        out.push(make_use(UseKind::Range(f), f));
                    }
                }
                "argument_list" => {
                    let Some(call) = p.parent() else { continue };
                    match syntax::callee(call, src) {
                        Some("close") => {
                            out.push(make_use(UseKind::Close, syntax::statement_of(call)))
                        }
                        Some("len" | "cap") => {}
                        _ => {
                            let index = named(p).iter().position(|a| *a == n);
                            let followed = index.is_some_and(|i| {
                                follow_argument(
                                    funcs, file, call, i, home, base, ctx.exec, depth, out,
                                )
                            });
                            if !followed {
                                out.push(make_use(UseKind::Escape, syntax::statement_of(call)));
                            }
                        }
                    }
                }
                "binary_expression" => {}
                "expression_list" => {
                    let kind = match p.parent().map(|g| g.kind()) {
                        Some("return_statement") => UseKind::Returned,
                        _ => UseKind::Escape,
                    };
                    out.push(make_use(kind, syntax::statement_of(p)));
                }
                _ => out.push(make_use(UseKind::Escape, syntax::statement_of(n))),
            }
        }
    }

    fn is_receive(unary: Node<'_>) -> bool {
        unary
            .child_by_field_name("operator")
            .is_some_and(|o| o.kind() == "<-")
    }

    /// Follows a channel passed as argument `index` of `call` into a function literal
    /// called on the spot or by `go`, or into a function of the package. Returns false
    /// when it cannot be followed (the caller records an escape).
    #[allow(clippy::too_many_arguments)]
    fn follow_argument<'a>(
        funcs: &Funcs<'a>,
        file: &'a SourceFile,
        call: Node<'a>,
        index: usize,
        home: Node<'a>,
        base: Base<'a>,
        exec: Option<Exec<'a>>,
        depth: usize,
        out: &mut Vec<ChanUse<'a>>,
    ) -> bool {
        if depth >= MAX_DEPTH {
            return false;
        }
        let src: &str = &file.text;
        let Some(function) = call.child_by_field_name("function").map(unparen) else {
            return false;
        };
        let is_go = call.parent().is_some_and(|p| p.kind() == "go_statement");
        let call_ctx = context_of(file, call, home);
        let here = Base {
            exec: exec.unwrap_or(base.exec),
            deferred: call_ctx.deferred || (exec.is_none() && base.deferred),
            in_loop: call_ctx.in_loop || (exec.is_none() && base.in_loop),
        };
        let callee_base = if is_go {
            let stmt = call.parent().unwrap_or(call);
            Base {
                exec: Exec::Goroutine(GoSite { file, node: stmt }),
                deferred: false,
                in_loop: false,
            }
        } else if call.parent().is_some_and(|p| p.kind() == "defer_statement") {
            Base {
                deferred: true,
                ..here
            }
        } else {
            here
        };
        let (callee_file, func) = match function.kind() {
            "func_literal" => {
                // `go func(c chan T) {...}(ch)` or `func(c chan T) {...}(ch)`: a literal
                // called by `go` is a goroutine of its own; `context_of` sees the `go`
                // only from inside, so the base says it here.
                (file, function)
            }
            "identifier" => {
                let Some(found) = funcs.get(syntax::text(function, src)) else {
                    return false;
                };
                found
            }
            "selector_expression" => {
                // `x.m(ch)`: a method of the package, unless `x` is an imported package.
                let (Some(operand), Some(field)) = (
                    function.child_by_field_name("operand"),
                    function.child_by_field_name("field"),
                ) else {
                    return false;
                };
                if operand.kind() == "identifier"
                    && imports(file).contains(&syntax::text(operand, src))
                {
                    return false;
                }
                let Some(found) = funcs.method(syntax::text(field, src)) else {
                    return false;
                };
                found
            }
            _ => return false,
        };
        let Some(param) = parameters(func).get(index).copied() else {
            return false;
        };
        if param.variadic {
            return false;
        }
        let Some(param) = param.name else {
            // An unnamed parameter is never used.
            return true;
        };
        collect(funcs, callee_file, param, func, callee_base, depth + 1, out);
        true
    }

    /// The most sends one run of a goroutine can make: `Many` when a send is in a loop,
    /// else the longest chain of sends that can follow one another on one path. Two sends
    /// exclude each other when they sit in different branches of an `if`, `switch` or
    /// `select`, or when the first is followed by a `return` (or `goto`) that the second is
    /// not before, e.g. `if err != nil { ch <- err; return }; ch <- nil`.
    pub fn sends_per_run(sends: &[&ChanUse<'_>]) -> Count {
        // A send in a loop repeats, unless a `return` right after it ends the run.
        if sends.iter().any(|u| u.in_loop && !returns_after(u.site)) {
            return Count::Many;
        }
        let mut nodes: Vec<Node<'_>> = sends.iter().map(|u| u.site).collect();
        nodes.sort_by_key(|n| n.start_byte());
        nodes.dedup_by_key(|n| n.start_byte());
        let mut longest: Vec<usize> = Vec::with_capacity(nodes.len());
        for (j, t) in nodes.iter().enumerate() {
            let best = (0..j)
                .filter(|&i| !excludes(nodes[i], *t))
                .filter_map(|i| longest.get(i))
                .max()
                .copied()
                .unwrap_or(0);
            longest.push(best + 1);
        }
        Count::Finite(longest.into_iter().max().unwrap_or(0))
    }

    /// Whether a statement list around `s`, inside its innermost loop, has a `return` (or
    /// `goto`) after it, so that the loop does not run `s` again.
    fn returns_after(s: Node<'_>) -> bool {
        syntax::ancestors(s)
            .take_while(|a| !syntax::is_function(a.kind()) && a.kind() != "for_statement")
            .filter(|a| a.kind() == "statement_list")
            .any(|list| {
                named(list).into_iter().any(|stmt| {
                    stmt.start_byte() >= s.end_byte()
                        && matches!(stmt.kind(), "return_statement" | "goto_statement")
                })
            })
    }

    /// Whether no path runs `s` and then `t` (`s` comes first in the text).
    fn excludes(s: Node<'_>, t: Node<'_>) -> bool {
        // Different branches of a common if/switch/select.
        let common = syntax::ancestors(s).find(|a| contains(*a, t));
        if let Some(c) = common {
            let branch_of = |n: Node<'_>| {
                syntax::ancestors(n)
                    .take_while(|a| *a != c)
                    .last()
                    .map(|b| b.byte_range())
            };
            let branching = matches!(
                c.kind(),
                "if_statement"
                    | "expression_switch_statement"
                    | "type_switch_statement"
                    | "select_statement"
            );
            if branching && branch_of(s) != branch_of(t) {
                // The condition or header is not a branch; both must be in cases or
                // in the consequence and the alternative.
                let is_branch = |n: Node<'_>| {
                    syntax::ancestors(n)
                        .take_while(|a| *a != c)
                        .last()
                        .is_some_and(|b| {
                            matches!(
                                b.kind(),
                                "block"
                                    | "if_statement"
                                    | "expression_case"
                                    | "type_case"
                                    | "default_case"
                                    | "communication_case"
                            )
                        })
                };
                if is_branch(s) && is_branch(t) {
                    return true;
                }
            }
        }
        // A return after `s` in a statement list that holds `s` but not `t`.
        syntax::ancestors(s)
            .take_while(|a| !syntax::is_function(a.kind()))
            .filter(|a| a.kind() == "statement_list" && !contains(*a, t))
            .any(|list| {
                named(list).into_iter().any(|stmt| {
                    stmt.start_byte() >= s.end_byte()
                        && matches!(stmt.kind(), "return_statement" | "goto_statement")
                })
            })
    }

    /// Whether a `for` statement lies between `node` and `home` (in the same function:
    /// a function literal in between ends the search).
    pub fn in_loop_between(node: Node<'_>, home: Node<'_>) -> bool {
        innermost_loop_within(node, home).is_some()
    }

    /// The innermost `for` statement around `node` below `home`, in the same function.
    pub fn innermost_loop_within<'a>(node: Node<'a>, home: Node<'a>) -> Option<Node<'a>> {
        for a in syntax::ancestors(node) {
            if a == home || syntax::is_function(a.kind()) {
                return None;
            }
            if a.kind() == "for_statement" {
                return Some(a);
            }
        }
        None
    }

    /// The statement a `break` or `continue` leaves: the labeled statement it names, or
    /// the innermost loop (or, for `break`, switch or select) around it.
    fn jump_target<'a>(jump: Node<'a>, src: &str) -> Option<Node<'a>> {
        let label = named(jump)
            .into_iter()
            .find(|n| n.kind() == "label_name")
            .map(|n| syntax::text(n, src));
        let is_break = jump.kind() == "break_statement";
        for a in syntax::ancestors(jump) {
            if syntax::is_function(a.kind()) {
                return None;
            }
            match label {
                Some(l) => {
                    if a.kind() == "labeled_statement"
                        && a.child_by_field_name("label").map(|n| syntax::text(n, src)) == Some(l)
                    {
                        return named(a).into_iter().find(|n| n.kind() != "label_name");
                    }
                }
                None => {
                    let stops = match a.kind() {
                        "for_statement" => true,
                        "expression_switch_statement"
                        | "type_switch_statement"
                        | "select_statement" => is_break,
                        _ => false,
                    };
                    if stops {
                        return Some(a);
                    }
                }
            }
        }
        None
    }

    /// Whether `ancestor` contains `node` (or is it).
    fn contains(ancestor: Node<'_>, node: Node<'_>) -> bool {
        ancestor.start_byte() <= node.start_byte() && node.end_byte() <= ancestor.end_byte()
    }

    /// Whether the jump statement `n` (`return`, `goto`, `break`, `continue`) transfers
    /// control out of `region`: a `break` whose target is `region` or encloses it, a
    /// `continue` whose loop encloses it.
    fn exits(n: Node<'_>, region: Node<'_>, src: &str) -> bool {
        match n.kind() {
            "return_statement" | "goto_statement" => true,
            "break_statement" | "continue_statement" => jump_target(n, src).is_some_and(|t| {
                if t == region {
                    n.kind() == "break_statement"
                } else {
                    contains(t, region)
                }
            }),
            _ => false,
        }
    }

    /// The jump statement `n` when it leaves the loop `lp`.
    pub fn loop_exit_at<'a>(n: Node<'a>, lp: Node<'a>, src: &str) -> Option<Node<'a>> {
        exits(n, lp, src).then_some(n)
    }

    /// The first statement inside `body` (not in function literals) that transfers
    /// control out of `region`.
    fn first_exit<'a>(body: Node<'a>, region: Node<'a>, src: &str) -> Option<Node<'a>> {
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            if n.kind() == "func_literal" {
                continue;
            }
            if exits(n, region, src) {
                return Some(n);
            }
            let mut children = named(n);
            children.reverse();
            stack.extend(children);
        }
        None
    }

    /// Whether the statements of a select case can leave `region` (the select, or the
    /// loop around it).
    pub fn leaves(case: Node<'_>, region: Node<'_>, src: &str) -> bool {
        first_exit(case, region, src).is_some()
    }

    /// A statement in a loop's body that ends the loop early (`return`, `break`, `goto`).
    pub fn loop_exit<'a>(lp: Node<'a>, src: &str) -> Option<Node<'a>> {
        let body = lp.child_by_field_name("body")?;
        first_exit(body, lp, src)
    }

    /// Whether a select case's communication uses the channel.
    pub fn case_mentions(case: Node<'_>, chan: &Chan<'_>, src: &str) -> bool {
        let Some(comm) = case.child_by_field_name("communication") else {
            return false;
        };
        syntax::descendants_of_kind(comm, "identifier").any(|id| refers_to(id, chan.decl, src))
    }

    /// A `return` or `goto`, or a `break`/`continue` that skips `before`, lying between
    /// the end of `after` and the start of `before` in the flow of `home` (not in
    /// function literals, not containing `before`).
    pub fn exit_between<'a>(
        home: Node<'a>,
        after: Node<'a>,
        before: Node<'a>,
        src: &str,
    ) -> Option<Node<'a>> {
        let mut stack = vec![home];
        while let Some(n) = stack.pop() {
            let outside = n.end_byte() <= after.end_byte()
                || (n.start_byte() >= before.start_byte() && !contains(n, before));
            if outside || n.kind() == "func_literal" {
                continue;
            }
            let between = n.start_byte() >= after.end_byte() && !contains(n, before);
            let target = || jump_target(n, src);
            let skips = match n.kind() {
                "return_statement" | "goto_statement" => between,
                // Leaving a statement that holds the receive skips it.
                "break_statement" => between && target().is_some_and(|t| contains(t, before)),
                // The next iteration of a loop around both starts over without receiving
                // what this iteration's goroutine sends.
                "continue_statement" => {
                    between && target().is_some_and(|t| contains(t, after) && contains(t, before))
                }
                _ => false,
            };
            if skips {
                return Some(n);
            }
            let mut children = named(n);
            children.reverse();
            stack.extend(children);
        }
        None
    }

    /// The declared function or method around a node, as pprof names it (`Send`,
    /// `(*Client).Fetch`).
    pub fn owner_name(file: &SourceFile, node: Node<'_>) -> String {
        let start = node.start_byte();
        file.summary
            .functions
            .iter()
            .filter(|f| f.kind != crate::source::model::FunctionKind::Closure)
            .find(|f| f.span.start_byte <= start && start < f.span.end_byte)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| "a package-level initializer".to_string())
    }

    /// The function body a goroutine runs: the literal of `go func() {...}()` or
    /// `x.Go(func() {...})`, or the package function of `go f(...)`.
    fn goroutine_body<'a>(
        funcs: &Funcs<'a>,
        site: &GoSite<'a>,
    ) -> Option<(&'a SourceFile, Node<'a>)> {
        let src: &str = &site.file.text;
        let call = match site.node.kind() {
            "go_statement" => named(site.node).into_iter().next().map(unparen)?,
            _ => syntax::descendants_of_kind(site.node, "call_expression").next()?,
        };
        if call.kind() != "call_expression" {
            return None;
        }
        let function = unparen(call.child_by_field_name("function")?);
        match function.kind() {
            "func_literal" => Some((site.file, function)),
            "identifier" => funcs.get(syntax::text(function, src)),
            // `go w.run()`: a method of the package (not `pkg.F` of an import).
            "selector_expression"
                if function
                    .child_by_field_name("operand")
                    .map(unparen)
                    .is_some_and(|o| {
                        o.kind() != "identifier"
                            || crate::rules::flow::resolve_ident(o, src).is_some()
                    }) =>
            {
                function
                    .child_by_field_name("field")
                    .and_then(|f| funcs.method(syntax::text(f, src)))
            }
            _ => syntax::call_args(call)
                .into_iter()
                .find(|a| a.kind() == "func_literal")
                .map(|lit| (site.file, lit)),
        }
    }

    /// Where the memory a blocked goroutine keeps alive is allocated: `make`, `new` and
    /// composite literals of its body that are not inside a loop around `blocking` (those
    /// are garbage by the next iteration), and, for the value it sends, the body of the
    /// package function that built it. Each with a note for `related`.
    pub fn held_allocations<'a>(
        funcs: &Funcs<'a>,
        site: &GoSite<'a>,
        blocking: &[Node<'a>],
        sent: &[Node<'a>],
    ) -> Vec<(crate::rules::Location, &'static str)> {
        let mut out: Vec<(crate::rules::Location, &'static str)> = Vec::new();
        // What `go f(args)` or `go x.m(args)` hands the goroutine: the receiver and the
        // arguments, made in the function with the `go` statement.
        if let (Some(call), Some(fi)) = (
            named(site.node).into_iter().next().map(unparen),
            funcs.file_index(site.file),
        ) {
            let operand = call
                .child_by_field_name("function")
                .map(unparen)
                .filter(|f| f.kind() == "selector_expression")
                .and_then(|f| f.child_by_field_name("operand"));
            let mut sites = Vec::new();
            if site.node.kind() == "go_statement" && call.kind() == "call_expression" {
                for v in operand.into_iter().chain(syntax::call_args(call)) {
                    if unparen(v).kind() != "func_literal" {
                        funcs.alloc_sites(fi, v, &mut sites);
                    }
                }
            }
            let mut unique = Vec::new();
            for loc in sites {
                crate::rules::flow::push_unique(&mut unique, loc);
            }
            for loc in unique {
                out.push((
                    loc,
                    "allocated here and kept alive by the blocked goroutine",
                ));
            }
        }
        let Some((file, func)) = goroutine_body(funcs, site) else {
            return out;
        };
        let src: &str = &file.text;
        let Some(body) = func.child_by_field_name("body") else {
            return out;
        };
        let mut push = |loc: crate::rules::Location, note: &'static str| {
            if !out.iter().any(|(l, _)| *l == loc) {
                out.push((loc, note));
            }
        };
        for n in syntax::descendants(body) {
            let is_alloc = match n.kind() {
                // `struct{}{}` is a zero-size value, not an allocation.
                "composite_literal" => n.child_by_field_name("type").is_none_or(|t| {
                    syntax::text(t, src).split_whitespace().collect::<String>() != "struct{}"
                }),
                "call_expression" => matches!(syntax::callee(n, src), Some("make" | "new")),
                _ => false,
            };
            if !is_alloc || syntax::enclosing_function(n) != Some(func) {
                continue;
            }
            let in_loop_around = syntax::ancestors(n)
                .take_while(|a| *a != func)
                .any(|a| a.kind() == "for_statement" && blocking.iter().any(|b| contains(a, *b)));
            if in_loop_around {
                continue;
            }
            push(
                file.location(statement_head(syntax::statement_of(n))),
                "allocated here and kept alive by the blocked goroutine",
            );
        }
        // The value sent: a call to a package function, directly or through a local.
        for send in sent {
            let Some(value) = send.child_by_field_name("value").map(unparen) else {
                continue;
            };
            let value = match value.kind() {
                "identifier" => match assigned_in(body, value, src) {
                    Some(v) => v,
                    None => continue,
                },
                _ => value,
            };
            if value.kind() != "call_expression" {
                continue;
            }
            let Some(callee) = value.child_by_field_name("function").map(unparen) else {
                continue;
            };
            let built_by = match callee.kind() {
                "identifier" => funcs.get(syntax::text(callee, src)),
                // `p.fetch(id)`: a method of the package (not `pkg.F` of an import).
                "selector_expression" => callee
                    .child_by_field_name("operand")
                    .map(unparen)
                    .filter(|o| {
                        o.kind() != "identifier"
                            || crate::rules::flow::resolve_ident(*o, src).is_some()
                    })
                    .and(callee.child_by_field_name("field"))
                    .and_then(|f| funcs.method(syntax::text(f, src))),
                _ => None,
            };
            if let Some((cfile, cfunc)) = built_by {
                push(
                    cfile.location(cfunc),
                    "builds the value the blocked goroutine holds",
                );
            }
        }
        out
    }

    /// The value last assigned to the local `id` (by `:=` or `=`) before it in `body`.
    fn assigned_in<'a>(body: Node<'a>, id: Node<'a>, src: &str) -> Option<Node<'a>> {
        let name = syntax::text(id, src);
        let mut found = None;
        for n in syntax::descendants(body) {
            if n.start_byte() >= id.start_byte() {
                break;
            }
            if !matches!(n.kind(), "short_var_declaration" | "assignment_statement") {
                continue;
            }
            let (Some(left), Some(right)) = (
                n.child_by_field_name("left"),
                n.child_by_field_name("right"),
            ) else {
                continue;
            };
            let lefts = named(left);
            let rights = named(right);
            if let Some(i) = lefts.iter().position(|l| syntax::text(*l, src) == name) {
                if lefts.len() == rights.len() {
                    found = rights.get(i).copied();
                } else {
                    found = rights.first().copied();
                }
            }
        }
        found
    }

    /// Whether a goroutine started at `site` runs for the life of the process by design:
    /// started once from `main.main` or an `init` function.
    pub fn is_process_lifetime(site: &GoSite<'_>) -> bool {
        let file = site.file;
        let Some(decl) = syntax::enclosing_declaration(site.node) else {
            return false;
        };
        let name = syntax::function_name(decl, &file.text).unwrap_or("");
        let lifetime = decl.kind() == "function_declaration"
            && (name == "init" || (name == "main" && file.summary.package == "main"));
        lifetime && !in_loop_between(site.node, decl)
    }

    /// Whether the flow of `home` never gets past `after`: a statement of `home` after it
    /// is an endless `for` loop with no way out, or an empty `select {}`. Goroutines a
    /// serving loop starts before it live as long as the loop, by design.
    pub fn never_returns_after(home: Node<'_>, after: Node<'_>, src: &str) -> bool {
        let start = syntax::ancestors(after)
            .find(|a| a.parent() == Some(home))
            .unwrap_or(after)
            .end_byte();
        named(home)
            .into_iter()
            .filter(|stmt| stmt.start_byte() >= start)
            .any(|stmt| match stmt.kind() {
                "for_statement" => named(stmt).len() == 1 && loop_exit(stmt, src).is_none(),
                "select_statement" => named(stmt).is_empty(),
                _ => false,
            })
    }

    /// The goroutine, started inside `home`, that runs `node`, if any.
    pub fn goroutine_of<'a>(
        file: &'a SourceFile,
        node: Node<'a>,
        home: Node<'a>,
    ) -> Option<GoSite<'a>> {
        match context_of(file, node, home).exec {
            Some(Exec::Goroutine(g)) => Some(g),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;
    use std::process::Command;

    use expect_test::{expect, Expect};

    use super::GoroutineBlockedSend;
    use crate::rules::testing::{apply_first_fix, check};

    fn check_send(fixture: &str, expect: Expect) {
        check(&GoroutineBlockedSend, fixture, expect);
    }

    const TIMEOUT: &str = r#"
-- notify/notify.go --
package notify

import (
	"errors"
	"time"
)

func Send(msg string, timeout time.Duration) error {
	result := make(chan error)
	go func() {
		result <- deliver(msg)
	}()
	select {
	case err := <-result:
		return err
	case <-time.After(timeout):
		return errors.New("timeout")
	}
}

func deliver(msg string) error { return nil }
"#;

    #[test]
    fn result_channel_abandoned_on_timeout() {
        check_send(
            TIMEOUT,
            expect![[r#"
                notify/notify.go:9 goroutine-blocked-send [result] the channel made here has no buffer: goroutine started in Send sends on unbuffered channel "result", and Send stops receiving when another case of the select wins, so the send blocks forever
                  declared notify/notify.go:9
                  related notify/notify.go:10 starts the goroutine that blocks
                  related notify/notify.go:16 this case ends the wait without receiving
                  related notify/notify.go:21 builds the value the blocked goroutine holds
                  related notify/notify.go:11 the send that blocks
                  evidence notify/notify.go:11
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
                notify/notify.go:11 goroutine-blocked-send [result] goroutine started in Send sends on unbuffered channel "result", and Send stops receiving when another case of the select wins, so the send blocks forever
                  declared notify/notify.go:9
                  related notify/notify.go:10 starts the goroutine that blocks
                  related notify/notify.go:9 makes channel "result"
                  related notify/notify.go:16 this case ends the wait without receiving
                  related notify/notify.go:21 builds the value the blocked goroutine holds
                  evidence notify/notify.go:11
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    /// A helper starts the goroutine and returns its unbuffered channel; the caller
    /// waits on it in a select its timer can win. A caller that always receives, and a
    /// helper whose channel has a buffer, are quiet.
    #[test]
    fn a_channel_a_helper_returns_is_abandoned_by_its_caller() {
        check_send(
            r#"
-- sink/archive.go --
package sink

import (
	"errors"
	"time"
)

type result struct{ err error }

type Archive struct{ timeout time.Duration }

func (a *Archive) Send(key string) error {
	timer := time.NewTimer(a.timeout)
	defer timer.Stop()
	select {
	case res := <-a.start(key):
		return res.err
	case <-timer.C:
		return errors.New("timeout")
	}
}

func (a *Archive) Wait(key string) error {
	ch := a.startBuffered(key)
	res := <-ch
	return res.err
}

func (a *Archive) start(key string) <-chan result {
	ch := make(chan result)
	go func() {
		ch <- result{err: a.put(key)}
	}()
	return ch
}

func (a *Archive) startBuffered(key string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		ch <- result{err: a.put(key)}
	}()
	return ch
}

func (a *Archive) put(key string) error { return nil }
"#,
            expect![[r#"
                sink/archive.go:30 goroutine-blocked-send [ch] the channel made here has no buffer: goroutine started in (*Archive).start sends on unbuffered channel "ch" and returns it, and (*Archive).Send stops waiting on it when another case of its select wins, so the send blocks forever
                  declared sink/archive.go:30
                  related sink/archive.go:31 starts the goroutine that blocks
                  related sink/archive.go:18 this case ends the caller's wait without receiving
                  related sink/archive.go:32 allocated here and kept alive by the blocked goroutine
                  related sink/archive.go:32 the send that blocks
                  evidence sink/archive.go:32
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
                sink/archive.go:32 goroutine-blocked-send [ch] goroutine started in (*Archive).start sends on unbuffered channel "ch" and returns it, and (*Archive).Send stops waiting on it when another case of its select wins, so the send blocks forever
                  declared sink/archive.go:30
                  related sink/archive.go:31 starts the goroutine that blocks
                  related sink/archive.go:30 makes channel "ch"
                  related sink/archive.go:18 this case ends the caller's wait without receiving
                  related sink/archive.go:32 allocated here and kept alive by the blocked goroutine
                  evidence sink/archive.go:32
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn the_value_sent_is_built_by_a_method() {
        check_send(
            r#"
-- presence/presence.go --
package presence

import "time"

type Service struct{ timeout time.Duration }

func (p *Service) Lookup(id string) []byte {
	result := make(chan []byte)
	go func() {
		result <- p.fetch(id)
	}()
	select {
	case b := <-result:
		return b
	case <-time.After(p.timeout):
		return nil
	}
}

func (p *Service) fetch(id string) []byte {
	card := make([]byte, 2048)
	copy(card, id)
	return card
}
"#,
            expect![[r#"
                presence/presence.go:8 goroutine-blocked-send [result] the channel made here has no buffer: goroutine started in (*Service).Lookup sends on unbuffered channel "result", and (*Service).Lookup stops receiving when another case of the select wins, so the send blocks forever
                  declared presence/presence.go:8
                  related presence/presence.go:9 starts the goroutine that blocks
                  related presence/presence.go:15 this case ends the wait without receiving
                  related presence/presence.go:20 builds the value the blocked goroutine holds
                  related presence/presence.go:10 the send that blocks
                  evidence presence/presence.go:10
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
                presence/presence.go:10 goroutine-blocked-send [result] goroutine started in (*Service).Lookup sends on unbuffered channel "result", and (*Service).Lookup stops receiving when another case of the select wins, so the send blocks forever
                  declared presence/presence.go:8
                  related presence/presence.go:9 starts the goroutine that blocks
                  related presence/presence.go:8 makes channel "result"
                  related presence/presence.go:15 this case ends the wait without receiving
                  related presence/presence.go:20 builds the value the blocked goroutine holds
                  evidence presence/presence.go:10
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn abandoned_when_context_is_done() {
        check_send(
            r#"
-- fetch.go --
package fetch

import "context"

type Client struct{}

type Quote struct{ Price int }

func (c *Client) Quote(ctx context.Context, sym string) (Quote, error) {
	ch := make(chan Quote, 0)
	go c.lookup(sym, ch)
	select {
	case q := <-ch:
		return q, nil
	case <-ctx.Done():
		return Quote{}, ctx.Err()
	}
}

func (c *Client) lookup(sym string, out chan Quote) { out <- Quote{} }

func Price(ctx context.Context, sym string) (int, error) {
	ch := make(chan Quote)
	go fetchQuote(sym, ch)
	select {
	case q := <-ch:
		return q.Price, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func fetchQuote(sym string, out chan<- Quote) {
	q := Quote{Price: len(sym)}
	out <- q
}
"#,
            expect![[r#"
                fetch.go:10 goroutine-blocked-send [ch] the channel made here has no buffer: goroutine started in (*Client).Quote sends on unbuffered channel "ch", and (*Client).Quote stops receiving when another case of the select wins, so the send blocks forever
                  declared fetch.go:10
                  related fetch.go:11 starts the goroutine that blocks
                  related fetch.go:15 this case ends the wait without receiving
                  related fetch.go:20 allocated here and kept alive by the blocked goroutine
                  related fetch.go:20 the send that blocks
                  evidence fetch.go:20
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
                fetch.go:20 goroutine-blocked-send [ch] goroutine started in (*Client).Quote sends on unbuffered channel "ch", and (*Client).Quote stops receiving when another case of the select wins, so the send blocks forever
                  declared fetch.go:10
                  related fetch.go:11 starts the goroutine that blocks
                  related fetch.go:10 makes channel "ch"
                  related fetch.go:15 this case ends the wait without receiving
                  related fetch.go:20 allocated here and kept alive by the blocked goroutine
                  evidence fetch.go:20
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
                fetch.go:23 goroutine-blocked-send [ch] the channel made here has no buffer: goroutine started in Price sends on unbuffered channel "ch", and Price stops receiving when another case of the select wins, so the send blocks forever
                  declared fetch.go:23
                  related fetch.go:24 starts the goroutine that blocks
                  related fetch.go:28 this case ends the wait without receiving
                  related fetch.go:34 allocated here and kept alive by the blocked goroutine
                  related fetch.go:35 the send that blocks
                  evidence fetch.go:35
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
                fetch.go:35 goroutine-blocked-send [ch] goroutine started in Price sends on unbuffered channel "ch", and Price stops receiving when another case of the select wins, so the send blocks forever
                  declared fetch.go:23
                  related fetch.go:24 starts the goroutine that blocks
                  related fetch.go:23 makes channel "ch"
                  related fetch.go:28 this case ends the wait without receiving
                  related fetch.go:34 allocated here and kept alive by the blocked goroutine
                  evidence fetch.go:35
                  fix: Give "ch" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn early_return_before_receiving() {
        check_send(
            r#"
-- load.go --
package load

import "errors"

func Load(key string) ([]byte, error) {
	data := make(chan []byte)
	go func(out chan<- []byte) {
		out <- read(key)
	}(data)
	if err := validate(key); err != nil {
		return nil, err
	}
	return <-data, nil
}

func Retry(keys []string) {
	for _, k := range keys {
		done := make(chan bool)
		go func() { done <- len(k) > 0 }()
		if k == "" {
			continue
		}
		<-done
	}
}

func read(key string) []byte     { return nil }
func validate(key string) error { return errors.New(key) }
"#,
            expect![[r#"
                load.go:6 goroutine-blocked-send [data] the channel made here has no buffer: goroutine started in Load sends on unbuffered channel "data", and Load can return before receiving from it, so the send blocks forever
                  declared load.go:6
                  related load.go:7 starts the goroutine that blocks
                  related load.go:11 returns before receiving
                  related load.go:27 builds the value the blocked goroutine holds
                  related load.go:8 the send that blocks
                  evidence load.go:8
                  fix: Give "data" a buffer of one so the goroutine's send never blocks
                load.go:8 goroutine-blocked-send [data] goroutine started in Load sends on unbuffered channel "data", and Load can return before receiving from it, so the send blocks forever
                  declared load.go:6
                  related load.go:7 starts the goroutine that blocks
                  related load.go:6 makes channel "data"
                  related load.go:11 returns before receiving
                  related load.go:27 builds the value the blocked goroutine holds
                  evidence load.go:8
                  fix: Give "data" a buffer of one so the goroutine's send never blocks
                load.go:18 goroutine-blocked-send [done] the channel made here has no buffer: goroutine started in Retry sends on unbuffered channel "done", and Retry can skip the receive, so the send blocks forever
                  declared load.go:18
                  related load.go:21 skips the receive
                  related load.go:19 the send that blocks
                  evidence load.go:19
                  fix: Give "done" a buffer of one so the goroutine's send never blocks
                load.go:19 goroutine-blocked-send [done] goroutine started in Retry sends on unbuffered channel "done", and Retry can skip the receive, so the send blocks forever
                  declared load.go:18
                  related load.go:18 makes channel "done"
                  related load.go:21 skips the receive
                  evidence load.go:19
                  fix: Give "done" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn first_answer_of_many_senders() {
        check_send(
            r#"
-- fanout.go --
package fanout

func First(replicas []string) string {
	answers := make(chan string)
	for _, r := range replicas {
		go func() {
			answers <- ask(r)
		}()
	}
	return <-answers
}

func FirstBuffered(replicas []string) string {
	answers := make(chan string, 1)
	for _, r := range replicas {
		go func() { answers <- ask(r) }()
	}
	return <-answers
}

func Two(a, b string) string {
	answers := make(chan string)
	go func() { answers <- ask(a) }()
	go func() { answers <- ask(b) }()
	return <-answers
}

func ask(r string) string { return r }
"#,
            expect![[r#"
                fanout.go:4 goroutine-blocked-send [answers] the channel made here has no buffer: goroutines started in First send on unbuffered channel "answers", but First receives fewer values than are sent, so the remaining sends block forever
                  declared fanout.go:4
                  related fanout.go:6 starts the goroutine that blocks
                  related fanout.go:28 builds the value the blocked goroutine holds
                  related fanout.go:7 the send that blocks
                  evidence fanout.go:7
                  fix: Give "answers" a buffer of len(replicas), one per goroutine, so no send blocks
                fanout.go:7 goroutine-blocked-send [answers] goroutines started in First send on unbuffered channel "answers", but First receives fewer values than are sent, so the remaining sends block forever
                  declared fanout.go:4
                  related fanout.go:6 starts the goroutine that blocks
                  related fanout.go:4 makes channel "answers"
                  related fanout.go:28 builds the value the blocked goroutine holds
                  evidence fanout.go:7
                  fix: Give "answers" a buffer of len(replicas), one per goroutine, so no send blocks
                fanout.go:16 goroutine-blocked-send [answers] goroutines started in FirstBuffered send on buffered channel "answers", but FirstBuffered receives fewer values than are sent, so the remaining sends block forever
                  declared fanout.go:14
                  related fanout.go:14 makes channel "answers"
                  related fanout.go:28 builds the value the blocked goroutine holds
                  evidence fanout.go:16
                fanout.go:22 goroutine-blocked-send [answers] the channel made here has no buffer: goroutines started in Two send on unbuffered channel "answers", but Two receives fewer values than are sent, so the remaining sends block forever
                  declared fanout.go:22
                  related fanout.go:28 builds the value the blocked goroutine holds
                  related fanout.go:23 the send that blocks
                  evidence fanout.go:23 fanout.go:24
                fanout.go:23 goroutine-blocked-send [answers] goroutines started in Two send on unbuffered channel "answers", but Two receives fewer values than are sent, so the remaining sends block forever
                  declared fanout.go:22
                  related fanout.go:22 makes channel "answers"
                  related fanout.go:28 builds the value the blocked goroutine holds
                  evidence fanout.go:23 fanout.go:24
            "#]],
        );
    }

    #[test]
    fn receiving_loop_returns_on_first_error() {
        check_send(
            r#"
-- save.go --
package save

func SaveAll(items []string) error {
	errs := make(chan error)
	for _, it := range items {
		go func() {
			errs <- save(it)
		}()
	}
	for range items {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func save(s string) error { return nil }
"#,
            expect![[r#"
                save.go:4 goroutine-blocked-send [errs] the channel made here has no buffer: goroutines started in SaveAll send on unbuffered channel "errs", and the loop in SaveAll that receives from it can stop early, so the remaining sends block forever
                  declared save.go:4
                  related save.go:6 starts the goroutine that blocks
                  related save.go:12 the receiving loop can end here
                  related save.go:18 builds the value the blocked goroutine holds
                  related save.go:7 the send that blocks
                  evidence save.go:7
                  fix: Give "errs" a buffer of len(items), one per goroutine, so no send blocks
                save.go:7 goroutine-blocked-send [errs] goroutines started in SaveAll send on unbuffered channel "errs", and the loop in SaveAll that receives from it can stop early, so the remaining sends block forever
                  declared save.go:4
                  related save.go:6 starts the goroutine that blocks
                  related save.go:4 makes channel "errs"
                  related save.go:12 the receiving loop can end here
                  related save.go:18 builds the value the blocked goroutine holds
                  evidence save.go:7
                  fix: Give "errs" a buffer of len(items), one per goroutine, so no send blocks
            "#]],
        );
    }

    #[test]
    fn nothing_receives_and_select_in_a_loop_returns() {
        check_send(
            r#"
-- warm.go --
package warm

import "time"

func Warm(keys []string) {
	done := make(chan struct{})
	go func() {
		for _, k := range keys {
			load(k)
		}
		done <- struct{}{}
	}()
}

func Watch(tick <-chan time.Time) int {
	res := make(chan int)
	go func() { res <- compute() }()
	for {
		select {
		case v := <-res:
			return v
		case <-tick:
			if late() {
				return -1
			}
		}
	}
}

func load(k string)  {}
func compute() int   { return 1 }
func late() bool     { return true }
"#,
            expect![[r#"
                warm.go:6 goroutine-blocked-send [done] the channel made here has no buffer: goroutine started in Warm sends on unbuffered channel "done" that nothing receives from, so the send blocks forever
                  declared warm.go:6
                  related warm.go:7 starts the goroutine that blocks
                  related warm.go:11 the send that blocks
                  evidence warm.go:11
                  fix: Give "done" a buffer of one so the goroutine's send never blocks
                warm.go:11 goroutine-blocked-send [done] goroutine started in Warm sends on unbuffered channel "done" that nothing receives from, so the send blocks forever
                  declared warm.go:6
                  related warm.go:7 starts the goroutine that blocks
                  related warm.go:6 makes channel "done"
                  evidence warm.go:11
                  fix: Give "done" a buffer of one so the goroutine's send never blocks
                warm.go:16 goroutine-blocked-send [res] the channel made here has no buffer: goroutine started in Watch sends on unbuffered channel "res", and Watch stops receiving when another case of the select wins, so the send blocks forever
                  declared warm.go:16
                  related warm.go:22 this case ends the wait without receiving
                  related warm.go:31 builds the value the blocked goroutine holds
                  related warm.go:17 the send that blocks
                  evidence warm.go:17
                  fix: Give "res" a buffer of one so the goroutine's send never blocks
                warm.go:17 goroutine-blocked-send [res] goroutine started in Watch sends on unbuffered channel "res", and Watch stops receiving when another case of the select wins, so the send blocks forever
                  declared warm.go:16
                  related warm.go:16 makes channel "res"
                  related warm.go:22 this case ends the wait without receiving
                  related warm.go:31 builds the value the blocked goroutine holds
                  evidence warm.go:17
                  fix: Give "res" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn buffer_that_fits_every_sender_is_not_reported() {
        check_send(
            r#"
-- ok.go --
package ok

import (
	"errors"
	"time"
)

func One(timeout time.Duration) error {
	result := make(chan error, 1)
	go func() { result <- work() }()
	select {
	case err := <-result:
		return err
	case <-time.After(timeout):
		return errors.New("timeout")
	}
}

func Sized(items []string) error {
	errs := make(chan error, len(items))
	for range items {
		go func() { errs <- work() }()
	}
	for range items {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func Three() error {
	errs := make(chan error, 3)
	go func() { errs <- work() }()
	go func() { errs <- work() }()
	go func() { errs <- work() }()
	return <-errs
}

func work() error { return nil }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn receiver_that_drains_in_a_defer_is_not_reported() {
        check_send(
            r#"
-- drain.go --
package drain

import (
	"context"
	"errors"
)

func Call(ctx context.Context) error {
	result := make(chan error)
	go func() { result <- work() }()
	defer func() {
		if result != nil {
			<-result
		}
	}()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return errors.New("cancelled")
	}
}

func work() error { return nil }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn cases_that_drain_before_leaving_are_not_reported() {
        check_send(
            r#"
-- run.go --
package run

import (
	"context"
	"os/exec"
)

func Run(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cmd.Process.Kill()
		return <-done
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn guarded_senders_are_not_reported() {
        check_send(
            r#"
-- guard.go --
package guard

import (
	"context"
	"time"
)

func WithContext(ctx context.Context) (int, error) {
	res := make(chan int)
	go func() {
		select {
		case res <- compute():
		case <-ctx.Done():
		}
	}()
	select {
	case v := <-res:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func WithDone(timeout time.Duration) int {
	res := make(chan int)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case res <- compute():
		case <-done:
		}
	}()
	select {
	case v := <-res:
		return v
	case <-time.After(timeout):
		return -1
	}
}

func NonBlocking(timeout time.Duration) int {
	res := make(chan int)
	go func() {
		select {
		case res <- compute():
		default:
		}
	}()
	select {
	case v := <-res:
		return v
	case <-time.After(timeout):
		return -1
	}
}

func compute() int { return 1 }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn receives_that_always_happen_are_not_reported() {
        check_send(
            r#"
-- ok.go --
package ok

import (
	"log"
	"sync"
	"time"
)

func Plain(key string) []byte {
	data := make(chan []byte)
	go func() { data <- read(key) }()
	if key == "" {
		log.Print("empty key")
	}
	return <-data
}

func SlowLog(timeout time.Duration) []byte {
	data := make(chan []byte)
	go func() { data <- read("k") }()
	select {
	case b := <-data:
		return b
	case <-time.After(timeout):
		log.Print("slow read")
	}
	return <-data
}

func Ticking(tick <-chan time.Time) []byte {
	data := make(chan []byte)
	go func() { data <- read("k") }()
	for {
		select {
		case b := <-data:
			return b
		case <-tick:
			log.Print("still waiting")
			continue
		}
	}
}

func All(replicas []string) []string {
	answers := make(chan string)
	for _, r := range replicas {
		go func() { answers <- r }()
	}
	var out []string
	for range replicas {
		out = append(out, <-answers)
	}
	return out
}

func Gathered(parts []string) int {
	sizes := make(chan int)
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sizes <- len(p)
		}()
	}
	go func() {
		wg.Wait()
		close(sizes)
	}()
	total := 0
	for n := range sizes {
		total += n
	}
	return total
}

func read(key string) []byte { return nil }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn exclusive_sends_count_once() {
        check_send(
            r#"
-- once.go --
package once

import (
	"context"
	"errors"
	"io"
)

// Each goroutine sends once on any path, and the buffer holds one value.
func Lookup(ctx context.Context, name string) (int, error) {
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		if err := acquire(ctx); err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{n: len(name)}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Two goroutines, each sending once (in one branch or the other); both are received
// unless the first reports an error, and the buffer takes the second then.
func Proxy(a, b io.ReadWriter) error {
	errc := make(chan error, 1)
	go copyOne(a, b, errc)
	go copyOne(b, a, errc)
	err := <-errc
	if err == nil {
		err = <-errc
	}
	return err
}

func copyOne(dst io.Writer, src io.Reader, errc chan<- error) {
	if _, err := io.Copy(dst, src); err != nil {
		errc <- err
		return
	}
	errc <- errors.New("done")
}

// The sends are in different cases of the goroutine's select; the owner receives once.
func Hangup(ctx context.Context, write func() error) error {
	written := make(chan struct{})
	errc := make(chan error)
	go func() {
		select {
		case <-ctx.Done():
			errc <- ctx.Err()
		case <-written:
			errc <- nil
		}
	}()
	err := write()
	close(written)
	if e := <-errc; err == nil {
		return e
	}
	return err
}

func acquire(ctx context.Context) error { return nil }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn event_loop_that_returns_after_the_last_worker_is_not_reported() {
        check_send(
            r#"
-- loop.go --
package loop

import "context"

func Coordinate(ctx context.Context, workers []func() error) error {
	errC := make(chan error)
	for _, w := range workers {
		go func() {
			errC <- w()
		}()
	}
	active := len(workers)
	var first error
	for {
		select {
		case <-ctx.Done():
			ctx = context.Background()
		case err := <-errC:
			if first == nil {
				first = err
			}
			active--
			if active == 0 {
				return first
			}
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
    fn channels_handed_elsewhere_are_not_reported() {
        check_send(
            r#"
-- esc.go --
package esc

import (
	"os"
	"os/signal"
	"time"
)

type Job struct{ done chan error }

func Returned() <-chan int {
	ch := make(chan int)
	go func() { ch <- 1 }()
	return ch
}

func Stored(jobs chan<- Job, timeout time.Duration) error {
	done := make(chan error)
	go func() { done <- nil }()
	jobs <- Job{done: done}
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return nil
	}
}

func Unknown(timeout time.Duration) {
	sig := make(chan os.Signal)
	go func() { sig <- os.Interrupt }()
	signal.Notify(sig)
	select {
	case <-sig:
	case <-time.After(timeout):
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowed_names_are_resolved() {
        check_send(
            r#"
-- shadow.go --
package shadow

import "time"

// The goroutine sends on its own buffered "result", not on the outer one.
func Inner(timeout time.Duration) int {
	result := make(chan int)
	go func() {
		result := make(chan int, 1)
		result <- 1
	}()
	go func() { <-result }()
	return 0
}

// The literal's parameter shadows the outer name: the send is on "other".
func Param(timeout time.Duration, other chan int) int {
	result := make(chan int)
	go func(result chan int) { result <- 1 }(other)
	select {
	case v := <-result:
		return v
	case <-time.After(timeout):
		return -1
	}
}

// Same name as the parameter, different channel passed in: reported, on "result".
func Renamed(timeout time.Duration) int {
	result := make(chan int)
	go func(result chan<- int) { result <- 1 }(result)
	select {
	case v := <-result:
		return v
	case <-time.After(timeout):
		return -1
	}
}
"#,
            expect![[r#"
                shadow.go:30 goroutine-blocked-send [result] the channel made here has no buffer: goroutine started in Renamed sends on unbuffered channel "result", and Renamed stops receiving when another case of the select wins, so the send blocks forever
                  declared shadow.go:30
                  related shadow.go:35 this case ends the wait without receiving
                  related shadow.go:31 the send that blocks
                  evidence shadow.go:31
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
                shadow.go:31 goroutine-blocked-send [result] goroutine started in Renamed sends on unbuffered channel "result", and Renamed stops receiving when another case of the select wins, so the send blocks forever
                  declared shadow.go:30
                  related shadow.go:30 makes channel "result"
                  related shadow.go:35 this case ends the wait without receiving
                  evidence shadow.go:31
                  fix: Give "result" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn tests_generated_files_main_and_init_are_skipped() {
        check_send(
            r#"
-- svc_test.go --
package svc

import "time"

func helper(timeout time.Duration) {
	ch := make(chan int)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-time.After(timeout):
	}
}
-- gen.go --
// Code generated by stubgen. DO NOT EDIT.

package svc

import "time"

func generated(timeout time.Duration) {
	ch := make(chan int)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-time.After(timeout):
	}
}
-- cmd/main.go --
package main

import "time"

func init() {
	ready := make(chan bool)
	go func() { ready <- true }()
	select {
	case <-ready:
	case <-time.After(time.Second):
	}
}

func main() {
	ready := make(chan bool)
	go func() { ready <- true }()
	select {
	case <-ready:
	case <-time.After(time.Second):
	}
	for i := 0; i < 3; i++ {
		pong := make(chan int)
		go func() { pong <- i }()
		select {
		case <-pong:
		case <-time.After(time.Second):
		}
	}
}
"#,
            expect![[r#"
                cmd/main.go:22 goroutine-blocked-send [pong] the channel made here has no buffer: goroutine started in main sends on unbuffered channel "pong", and main stops receiving when another case of the select wins, so the send blocks forever
                  declared cmd/main.go:22
                  related cmd/main.go:26 this case ends the wait without receiving
                  related cmd/main.go:23 the send that blocks
                  evidence cmd/main.go:23
                  fix: Give "pong" a buffer of one so the goroutine's send never blocks
                cmd/main.go:23 goroutine-blocked-send [pong] goroutine started in main sends on unbuffered channel "pong", and main stops receiving when another case of the select wins, so the send blocks forever
                  declared cmd/main.go:22
                  related cmd/main.go:22 makes channel "pong"
                  related cmd/main.go:26 this case ends the wait without receiving
                  evidence cmd/main.go:23
                  fix: Give "pong" a buffer of one so the goroutine's send never blocks
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check_send(
            r#"
-- broken.go --
package broken

func Half(timeout int) int {
	ch := make(chan int
	go func() { ch <- 1 }(
	select {
	case v := <-ch:
		return v
	case <-
}

func Other() {
	go func() { x <- }()
	ch := make(chan)
	ch <-
	for range ch
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn fix_gives_the_channel_a_buffer_of_one() {
        let fixed = apply_first_fix(&GoroutineBlockedSend, TIMEOUT, "notify/notify.go");
        expect![[r#"
            package notify

            import (
            	"errors"
            	"time"
            )

            func Send(msg string, timeout time.Duration) error {
            	result := make(chan error, 1)
            	go func() {
            		result <- deliver(msg)
            	}()
            	select {
            	case err := <-result:
            		return err
            	case <-time.After(timeout):
            		return errors.New("timeout")
            	}
            }

            func deliver(msg string) error { return nil }
        "#]]
        .assert_eq(&fixed);
        go_build(
            "module example.com/app\n\ngo 1.22\n",
            &[("notify/notify.go", &fixed)],
        );

        let zero = TIMEOUT.replace("make(chan error)", "make(chan error, 0)");
        let fixed = apply_first_fix(&GoroutineBlockedSend, &zero, "notify/notify.go");
        assert!(fixed.contains("result := make(chan error, 1)\n"), "{fixed}");
        go_build(
            "module example.com/app\n\ngo 1.22\n",
            &[("notify/notify.go", &fixed)],
        );
    }

    #[test]
    fn no_fix_when_several_goroutines_or_sends() {
        check_send(
            r#"
-- multi.go --
package multi

import "time"

func Twice(timeout time.Duration) int {
	ch := make(chan int)
	go func() {
		ch <- 1
		ch <- 2
	}()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		return -1
	}
}
"#,
            expect![[r#"
                multi.go:6 goroutine-blocked-send [ch] the channel made here has no buffer: goroutine started in Twice sends on unbuffered channel "ch", but Twice receives fewer values than are sent, so the remaining sends block forever
                  declared multi.go:6
                  related multi.go:7 starts the goroutine that blocks
                  related multi.go:8 the send that blocks
                  evidence multi.go:8 multi.go:9
                multi.go:8 goroutine-blocked-send [ch] goroutine started in Twice sends on unbuffered channel "ch", but Twice receives fewer values than are sent, so the remaining sends block forever
                  declared multi.go:6
                  related multi.go:7 starts the goroutine that blocks
                  related multi.go:6 makes channel "ch"
                  evidence multi.go:8 multi.go:9
            "#]],
        );
    }

    #[test]
    fn fixture_programs_report_exactly_their_wanted_lines() {
        let found = fixture_matches("goroutine-blocked-send");
        expect![[r#"
            leak-goroutines/main.go:82 the channel made here has no buffer: goroutine started in fetchQuote sends on unbuffered channel "result", and fetchQuote stops receiving when another case of the select wins, so the send blocks forever
              evidence main.go:84
              related main.go:83 main.go:90 main.go:57-72 main.go:84
            leak-goroutines/main.go:84 goroutine started in fetchQuote sends on unbuffered channel "result", and fetchQuote stops receiving when another case of the select wins, so the send blocks forever
              evidence main.go:84
              related main.go:83 main.go:82 main.go:90 main.go:57-72
        "#]].assert_eq(&found);
    }

    /// The fixture programs this rule family is checked against: the goroutine leaks and
    /// the clean programs.
    const FIXTURE_CASES: &[&str] = &["leak-goroutines", "clean-bounded-cache", "clean-churn"];

    /// Runs `rule` over each fixture program (loaded as a workspace, as an editor would)
    /// and checks that it reports exactly the lines marked `// want <rule>`; returns the
    /// matches rendered as `case/file:line message`.
    pub(crate) fn fixture_matches(rule: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        let mut rendered = String::new();
        for case in FIXTURE_CASES {
            let dir = root.join(case).canonicalize().unwrap();
            let ws = crate::source::index::Workspace::load(&dir).unwrap();
            let matches = crate::rules::run(&ws, &|id| id == rule, &[]);
            let mut got: Vec<(String, u32)> = Vec::new();
            let lines = |ls: &mut dyn Iterator<Item = &crate::rules::Location>| {
                ls.map(|l| {
                    let f = l.file.strip_prefix(&dir).unwrap().display();
                    if l.span.start_line == l.span.end_line {
                        format!("{f}:{}", l.span.start_line)
                    } else {
                        format!("{f}:{}-{}", l.span.start_line, l.span.end_line)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
            };
            for m in &matches {
                let file = m
                    .location
                    .file
                    .strip_prefix(&dir)
                    .unwrap()
                    .display()
                    .to_string();
                rendered.push_str(&format!(
                    "{case}/{file}:{} {}\n  evidence {}\n  related {}\n",
                    m.location.span.start_line,
                    m.message,
                    lines(&mut m.evidence.iter()),
                    lines(&mut m.related.iter().map(|r| &r.location)),
                ));
                got.push((file, m.location.span.start_line));
            }
            let mut want: Vec<(String, u32)> = Vec::new();
            for f in ws.files() {
                let text = std::fs::read_to_string(&f.path).unwrap();
                let file = f.path.strip_prefix(&dir).unwrap().display().to_string();
                for (i, line) in text.lines().enumerate() {
                    let marked = line
                        .split("// want ")
                        .nth(1)
                        .is_some_and(|ids| ids.split_whitespace().any(|id| id == rule));
                    if marked {
                        want.push((file.clone(), u32::try_from(i + 1).unwrap()));
                    }
                }
            }
            got.sort();
            want.sort();
            assert_eq!(got, want, "{case}: {rule} matches vs // want markers");
        }
        rendered
    }

    /// Builds the files with the installed Go toolchain, offline; skipped with a note when
    /// Go is not installed.
    pub(crate) fn go_build(go_mod: &str, files: &[(&str, &str)]) {
        if Command::new("go").arg("version").output().is_err() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("note: go is not installed; skipping the compile check of the fix");
            }
            return;
        }
        let dir = crate::source::fixture::TempDir::new("fixbuild");
        std::fs::write(dir.path.join("go.mod"), go_mod).unwrap();
        for (name, text) in files {
            let path = dir.path.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        let out = Command::new("go")
            .args(["vet", "./..."])
            .current_dir(&dir.path)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOCACHE", std::env::temp_dir().join("heapspot-go-cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go vet failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn fix_sizes_the_buffer_to_the_goroutines_a_range_starts() {
        let src = r#"
-- fan/fan.go --
package fan

import "context"

type Bidder interface{ Bid() int }

type Auction struct{ bidders []Bidder }

func (a *Auction) Collect(ctx context.Context) []int {
	replies := make(chan int)
	for _, b := range a.bidders {
		go func(b Bidder) {
			replies <- b.Bid()
		}(b)
	}
	var out []int
	for range a.bidders {
		select {
		case v := <-replies:
			out = append(out, v)
		case <-ctx.Done():
			return out
		}
	}
	return out
}
"#;
        let fixed = apply_first_fix(&GoroutineBlockedSend, src, "fan/fan.go");
        assert!(
            fixed.contains("replies := make(chan int, len(a.bidders))\n"),
            "{fixed}"
        );
        go_build(
            "module example.com/app\n\ngo 1.22\n",
            &[("fan/fan.go", &fixed)],
        );
        // Ranging over a count, or a map the package never declares: no fix.
        let count = src.replace(
            "for _, b := range a.bidders {",
            "for i := range 3 {\n\t\tb := a.bidders[i]",
        );
        let fixture = format!("-- go.mod --\nmodule example.com/app\n\ngo 1.22\n{count}");
        let (_dir, ws) = crate::source::fixture::load(&fixture, &Default::default());
        let matches = crate::rules::run(&ws, &|id| id == "goroutine-blocked-send", &[]);
        assert!(!matches.is_empty());
        assert!(matches.iter().all(|m| m.fixes.is_empty()), "{matches:?}");
    }
}
