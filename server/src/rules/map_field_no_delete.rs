//! `map-field-no-delete`: a map field of a long-lived struct that its methods write and
//! nothing in the package deletes from, clears or replaces only grows.

use std::collections::{BTreeMap, BTreeSet};

use tree_sitter::Node;

use super::flow::{self, PackageIndex};
use super::syntax;
use super::unbounded_global_map::maps::{
    self, function_label, join_labels, receiver_type, tidy, write_statement, Target,
};
use super::unbounded_global_map::{constant_key, stored_values};
use super::{
    partial_release, Context, EvidenceKind, Match, Package, Related, Rule, RuleMeta, SourceFile,
};

/// The `map-field-no-delete` rule.
#[derive(Debug)]
pub struct MapFieldNoDelete;

static META: RuleMeta = RuleMeta {
    id: "map-field-no-delete",
    name: "Map field never deleted from",
    summary: "A map field of a long-lived struct is written by its methods and no method deletes from it.",
    evidence: EvidenceKind::Heap,
    grows: true,
};

/// A map field of a package struct type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapField<'p> {
    pub file: usize,
    pub ty: &'p str,
    pub name: &'p str,
    pub decl: Node<'p>,
    pub map: maps::MapType<'p>,
}

/// The map fields of the package's struct types.
pub(crate) fn map_fields<'p>(idx: &PackageIndex<'p>) -> Vec<MapField<'p>> {
    let mut out = Vec::new();
    let mut types: Vec<(&&str, &Node<'p>)> = idx.types.iter().collect();
    types.sort_by_key(|(_, spec)| spec.start_byte());
    for (ty, spec) in types {
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
            let Some(map) = decl
                .child_by_field_name("type")
                .and_then(|t| idx.map_type(fi, t))
            else {
                continue;
            };
            for name in maps::field_nodes(decl, "name") {
                out.push(MapField {
                    file: fi,
                    ty,
                    name: idx.text(fi, name),
                    decl,
                    map,
                });
            }
        }
    }
    out
}

/// The writes through the methods of `ty` into its field `name` (`s.items[k] = v`, also
/// through a local alias, and `maps.Copy(s.items, src)`): (file, the `m[k]` or call, the
/// statement).
pub(crate) fn method_writes<'p>(
    idx: &PackageIndex<'p>,
    ty: &str,
    name: &str,
) -> Vec<(usize, Node<'p>, Node<'p>)> {
    let target = Target::Field {
        ty: Some(ty.to_string()),
        name: name.to_string(),
    };
    let mut out = Vec::new();
    for methods in idx.methods.values().chain(idx.funcs.values()) {
        for &(fi, m) in methods {
            let own = receiver_type(m, idx.src(fi)).map(|(t, _)| t) == Some(ty);
            let Some(body) = m.child_by_field_name("body") else {
                continue;
            };
            for n in syntax::descendants(body) {
                let (operand, stmt) = match n.kind() {
                    "index_expression" => {
                        match (n.child_by_field_name("operand"), write_statement(n)) {
                            (Some(o), Some(s)) => (o, s),
                            _ => continue,
                        }
                    }
                    "call_expression"
                        if n.child_by_field_name("function")
                            .is_some_and(|f| idx.is_qualified(fi, f, "maps", "Copy")) =>
                    {
                        match syntax::call_args(n).first() {
                            Some(o) => (*o, syntax::statement_of(n)),
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                // Elsewhere, only through a value looked up in a map (`b :=
                // p.budgets[id]; b.watchers[seq] = fn`): it lives on in the map, where a
                // value built in the function may die with the call.
                if (own || looked_up(idx, fi, operand))
                    && idx.resolve(fi, operand).is_some_and(|t| t == target)
                {
                    out.push((fi, n, stmt));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (idx.files[a.0].path(), a.1.start_byte()).cmp(&(idx.files[b.0].path(), b.1.start_byte()))
    });
    out
}

/// A map field whose entries are added under one field of a struct
/// (`r.byClient[msg.ClientID] = msg`) and deleted under another field of a struct
/// declaring both (`delete(r.byClient, oldest.ID)`): the delete removes nothing that was
/// added, and the map keeps every entry. A match on each such `delete`.
fn mismatched_deletes(cx: &Context<'_>) -> Vec<Match> {
    // (file, node, map field, key field): writes and deletes keyed by `x.K`.
    type Keyed<'a> = (&'a SourceFile, Node<'a>, &'a str, &'a str);
    let mut writes: Vec<Keyed<'_>> = Vec::new();
    let mut deletes: Vec<Keyed<'_>> = Vec::new();
    for f in cx.program_files() {
        let src: &str = &f.text;
        if !src.contains("delete(") {
            continue;
        }
        let sel_field = |n: Node<'_>| {
            let n = flow::unparen(n);
            (n.kind() == "selector_expression")
                .then(|| n.child_by_field_name("field"))
                .flatten()
                .map(|fl| syntax::text(fl, src))
        };
        for n in syntax::descendants(f.tree.root_node()) {
            match n.kind() {
                "assignment_statement" => {
                    let left = flow::items(n.child_by_field_name("left"));
                    let [target] = left.as_slice() else { continue };
                    let target = flow::unparen(*target);
                    if target.kind() != "index_expression" {
                        continue;
                    }
                    let map = target.child_by_field_name("operand").and_then(sel_field);
                    let key = target.child_by_field_name("index").and_then(sel_field);
                    if let (Some(map), Some(key)) = (map, key) {
                        writes.push((f, n, map, key));
                    }
                }
                "call_expression" if syntax::callee(n, src) == Some("delete") => {
                    let args = syntax::call_args(n);
                    let map = args.first().and_then(|m| sel_field(*m));
                    let key = args.get(1).and_then(|k| sel_field(*k));
                    if let (Some(map), Some(key)) = (map, key) {
                        deletes.push((f, n, map, key));
                    }
                }
                _ => {}
            }
        }
    }
    if deletes.is_empty() {
        return Vec::new();
    }
    // The struct types the package and the workspace packages it imports declare.
    let others = flow::imported_packages(cx);
    let structs: Vec<Vec<&str>> = std::iter::once(&**cx)
        .chain(others.iter().map(|p| &**p))
        .flat_map(|p| p.program_files())
        .flat_map(|f| f.summary.structs.iter())
        .map(|st| st.fields.iter().map(|fd| fd.name.as_str()).collect())
        .collect();
    let both = |a: &str, b: &str| structs.iter().any(|fs| fs.contains(&a) && fs.contains(&b));
    let mut out = Vec::new();
    for &(df, del, map, dkey) in &deletes {
        let is_map = flow::field_type_text(cx, map).is_some_and(|t| t.starts_with("map["));
        let added: Vec<&Keyed<'_>> = writes.iter().filter(|w| w.2 == map).collect();
        let same_key = |k: &str| {
            added.iter().any(|w| w.3 == k)
                || deletes
                    .iter()
                    .any(|d| d.2 == map && d.3 != dkey && added.iter().any(|w| w.3 == d.3))
        };
        let Some(&&(wf, write, _, wkey)) = added.first() else {
            continue;
        };
        if !is_map || same_key(dkey) || !added.iter().all(|w| w.3 == wkey) || !both(wkey, dkey) {
            continue;
        }
        let dsrc: &str = &df.text;
        let wsrc: &str = &wf.text;
        let mut evidence = Vec::new();
        for w in &added {
            flow::push_unique(&mut evidence, w.0.location(w.1));
            for v in flow::items(w.1.child_by_field_name("right")) {
                flow::alloc_sites(cx, w.0, v, &mut evidence);
            }
        }
        let del_key = syntax::call_args(del)
            .get(1)
            .map(|k| syntax::text(*k, dsrc))
            .unwrap_or(dkey);
        let add_key = write
            .child_by_field_name("left")
            .and_then(|l| syntax::descendants_of_kind(l, "index_expression").next())
            .and_then(|ix| ix.child_by_field_name("index"))
            .map(|k| syntax::text(k, wsrc))
            .unwrap_or(wkey);
        let message = format!(
            "{} deletes from map field \"{map}\" under {del_key}, but its entries are added under {add_key} (line {}): .{dkey} and .{wkey} are different fields of the same struct, so the delete removes nothing that was added and the map keeps every entry",
            flow::function_label(del, dsrc),
            syntax::span(write).start_line,
        );
        out.push(Match {
            rule: META.id,
            location: df.location(syntax::statement_of(del)),
            subject: map.to_string(),
            message,
            declaration: None,
            related: vec![Related {
                location: wf.location(write),
                message: format!("entries are added under {add_key} here"),
            }],
            evidence,
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills: Vec::new(),
        });
    }
    out
}

/// Sibling handlers that end the same way (`delivered`, `reject` and `abandon`, each
/// settling with `s.acks.Ack(...)`), where at least two call a release that deletes
/// from a map field (`t.release(b.ID)`, reaching a sink's `Release` that deletes its
/// cached body) and one does not: that one's entries stay. A match on its final call;
/// weighed by the growth of what the map keeps.
fn skipped_release(cx: &Context<'_>) -> Vec<Match> {
    // Functions with a body, with the text of the callee of their last statement.
    let mut ends: BTreeMap<String, Vec<(&SourceFile, Node<'_>, Node<'_>)>> = BTreeMap::new();
    for f in cx.program_files() {
        let src: &str = &f.text;
        for decl in flow::named(f.tree.root_node()) {
            if !matches!(decl.kind(), "function_declaration" | "method_declaration") {
                continue;
            }
            let Some(body) = decl.child_by_field_name("body") else {
                continue;
            };
            let mut items = flow::named(body);
            if let [list] = items.as_slice() {
                if list.kind() == "statement_list" {
                    items = flow::named(*list);
                }
            }
            let Some(last) = items.into_iter().rfind(|n| n.kind() != "comment") else {
                continue;
            };
            let call = (last.kind() == "expression_statement")
                .then(|| last.named_child(0))
                .flatten()
                .filter(|c| c.kind() == "call_expression");
            if let Some(func) = call.and_then(|c| c.child_by_field_name("function")) {
                ends.entry(syntax::text(func, src).to_string())
                    .or_default()
                    .push((f, decl, last));
            }
        }
    }
    // Methods (of the package and the workspace packages it imports) that delete from
    // a map field of their receiver, by name: (package, file, method, map field).
    let others = flow::imported_packages(cx);
    let deleter = |name: &str| -> Option<(&Package, &SourceFile, Node<'_>, String)> {
        std::iter::once(&**cx)
            .chain(others.iter().map(|p| &**p))
            .flat_map(|p| {
                flow::package_methods(p, name)
                    .into_iter()
                    .map(move |(f, m)| (p, f, m))
            })
            .find_map(|(p, f, m)| {
                let src: &str = &f.text;
                syntax::descendants_of_kind(m, "call_expression")
                    .filter(|c| syntax::callee(*c, src) == Some("delete"))
                    .filter_map(|c| syntax::call_args(c).first().copied())
                    .map(flow::unparen)
                    .filter(|m| m.kind() == "selector_expression")
                    .find_map(|m| m.child_by_field_name("field"))
                    .map(|fl| (p, f, m, syntax::text(fl, src).to_string()))
            })
    };
    // A release: a call of a method that deletes, itself or by a call in its body; its
    // name and the deleting method.
    let releases = |f: &SourceFile, c: Node<'_>| {
        let src: &str = &f.text;
        let name = syntax::called_name(c, src)?;
        let deleting = deleter(name).or_else(|| {
            let (mf, m) = flow::package_methods(cx, name).into_iter().next()?;
            syntax::descendants_of_kind(m, "call_expression")
                .find_map(|inner| deleter(syntax::called_name(inner, &mf.text)?))
        })?;
        Some((name.to_string(), deleting))
    };
    let mut out = Vec::new();
    for (settle, group) in &ends {
        if group.len() < 3 {
            continue;
        }
        let released: Vec<_> = group
            .iter()
            .map(|(f, decl, last)| {
                syntax::descendants_of_kind(*decl, "call_expression")
                    .filter(|c| c.end_byte() <= last.start_byte())
                    .find_map(|c| releases(f, c))
            })
            .collect();
        let by: Vec<_> = released.iter().flatten().collect();
        let Some(&(release, (p, df, m, map))) = by.first() else {
            continue;
        };
        if by.len() < 2 || by.iter().any(|r| &r.0 != release) {
            continue;
        }
        let releasing: Vec<String> = group
            .iter()
            .zip(&released)
            .filter(|(_, r)| r.is_some())
            .map(|((ff, d, _), _)| flow::function_label(*d, &ff.text))
            .collect();
        // The evidence: what the deleting method's type writes into its map fields.
        let mut evidence = Vec::new();
        let mut maps = Vec::new();
        let recv = flow::receiver_type(*m, &df.text).unwrap_or_default();
        for pf in p.program_files() {
            for other in flow::named(pf.tree.root_node()) {
                if other.kind() == "method_declaration"
                    && flow::receiver_type(other, &pf.text) == Some(recv)
                {
                    super::route_labels::map_writes(p, pf, other, &mut evidence, &mut maps);
                }
            }
        }
        for ((f, decl, last), rel) in group.iter().zip(&released) {
            if rel.is_some() {
                continue;
            }
            let src: &str = &f.text;
            let message = format!(
                "{} ends with {settle}(...) like {}, which call {release} first to delete the entry kept in map field \"{map}\"; this path does not, so that entry stays",
                flow::function_label(*decl, src),
                releasing.join(" and "),
            );
            out.push(Match {
                rule: META.id,
                location: f.location(*last),
                subject: map.clone(),
                message,
                declaration: None,
                related: Vec::new(),
                evidence: evidence.clone(),
                fixes: Vec::new(),
                version_note: None,
                needs_growth: true,
                fills: Vec::new(),
            });
        }
    }
    out
}

impl Rule for MapFieldNoDelete {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        out.extend(super::route_labels::labels_before_routing(pkg, META.id));
        out.extend(super::abandoned_waits::abandoned_waits(pkg, META.id));
        out.extend(mismatched_deletes(pkg));
        out.extend(skipped_release(pkg));
        let idx = pkg.index();
        if idx.files.is_empty() || idx.methods.is_empty() {
            return;
        }
        let fields = map_fields(idx);
        if fields.is_empty() {
            return;
        }
        let shrinks = idx.shrinks();
        let mut scoped: BTreeMap<&str, bool> = BTreeMap::new();
        for field in &fields {
            if idx.is_bounded_key_type(field.map.file, field.map.key) {
                continue;
            }
            let target = Target::Field {
                ty: Some(field.ty.to_string()),
                name: field.name.to_string(),
            };
            let writes: Vec<_> = method_writes(idx, field.ty, field.name)
                .into_iter()
                .filter(|&(fi, index, stmt)| {
                    !constant_key(idx, fi, index)
                        && !idx.runs_once(fi, stmt)
                        && idx.len_guarded(fi, stmt, &target).is_none()
                        && !idx.panics_on_duplicate(fi, stmt, &target)
                })
                .collect();
            if writes.is_empty() {
                continue;
            }
            // A map of maps grows in its inner maps (`v := t.viewers[doc]; v[session] =
            // e`): those writes come first, where the entries are added.
            let mut writes = writes;
            let inner = inner_writes(idx, field.ty, field.name);
            if !inner.is_empty() {
                writes.retain(|w| !inner.iter().any(|i| i.1.id() == w.1.id()));
                writes.splice(0..0, inner);
            }
            if !idx.resets(&target).is_empty() {
                continue;
            }
            let deleted = shrinks.iter().any(|s| s.target.same(&target));
            // What deletes from the map, when something does.
            let mut release = BTreeSet::new();
            if deleted {
                let forgotten = forgotten_index(pkg, idx, &shrinks, &fields, field, &writes);
                if !forgotten.is_empty() {
                    out.extend(forgotten);
                    continue;
                }
                release = release_names(idx, &shrinks, &target);
                if evicts_on_size(idx, &shrinks, &target, &release)
                    || only_transient_writes(pkg, &target, &writes)
                {
                    continue;
                }
            }
            let request_scoped = *scoped
                .entry(field.ty)
                .or_insert_with(|| idx.request_scoped(field.ty));
            if request_scoped {
                continue;
            }
            let labels: Vec<String> = writes
                .iter()
                .map(|&(fi, _, stmt)| function_label(stmt, idx.src(fi)))
                .collect();
            let mut evidence = Vec::new();
            let mut related = Vec::new();
            for (i, &(fi, index, stmt)) in writes.iter().enumerate() {
                evidence.push(idx.location(fi, stmt));
                stored_values(pkg, idx, fi, index, stmt, &mut evidence);
                if i > 0 {
                    related.push(Related {
                        location: idx.location(fi, index),
                        message: format!("also written in {}", labels[i]),
                    });
                }
            }
            tidy(&mut evidence);
            let (fi, index, _) = writes[0];
            let subject = format!("{}.{}", field.ty, field.name);
            // Entries deleted on some paths only (a delete when a session completes, a
            // release on the success branch): the pattern alone says nothing, so it is
            // reported only when the profiles show the map's entries growing.
            let message = if deleted {
                format!(
                    "map field \"{subject}\" is written in {} and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it",
                    join_labels(&labels)
                )
            } else {
                format!(
                    "map field \"{subject}\" is written in {} and nothing deletes from it",
                    join_labels(&labels)
                )
            };
            let m = Match {
                rule: META.id,
                location: idx.location(fi, index),
                message,
                subject,
                declaration: Some(idx.location(field.file, field.decl)),
                related,
                evidence,
                fixes: Vec::new(),
                version_note: None,
                needs_growth: deleted,
                fills: Vec::new(),
            };
            if deleted {
                out.extend(kept_on_some_paths(pkg, &release, &target, &writes, &m));
                out.extend(skipped_deletes(idx, &shrinks, &target, &writes, &m));
            }
            out.push(m);
        }
    }
}

/// For a map deleted from on some paths: the paths of the functions holding one of its
/// entries (in the package, or in a package calling the function that adds it) that
/// release the entry on their other paths but not on this one. Each is `m` again, on
/// the line where the release is missing.
fn kept_on_some_paths<'p>(
    pkg: &Context<'p>,
    release: &BTreeSet<String>,
    target: &Target,
    writes: &[(usize, Node<'p>, Node<'p>)],
    m: &Match,
) -> Vec<Match> {
    let idx = pkg.index();
    let acquire: BTreeSet<String> = writes
        .iter()
        .filter_map(|&(fi, _, stmt)| declaration_name(idx, fi, stmt))
        .filter(|n| !release.contains(n))
        .collect();
    let no_reads = |_: Node<'_>| false;
    let mut out = Vec::new();
    let mut scan = |in_pkg: &Package,
                    file: &SourceFile,
                    reads_map: &dyn Fn(Node<'_>) -> bool,
                    deletes: &dyn Fn(Node<'_>) -> bool| {
        let names = partial_release::Names {
            acquire: &acquire,
            release,
            reads_map,
            deletes,
        };
        for k in partial_release::kept_in_file(in_pkg, file, &names) {
            let src: &str = &file.text;
            let label = function_label(k.acquire, src);
            let how = if k.deferred {
                format!(
                    "the path returning at line {} leaves before the deferred release (line {})",
                    k.ret.map_or(0, |r| syntax::span(r).start_line),
                    syntax::span(k.release).start_line
                )
            } else {
                format!(
                    "this path ends without releasing it (released at line {} on another path)",
                    syntax::span(k.release).start_line
                )
            };
            let mut copy = m.also_at(
                file.location(k.at),
                &format!(
                    "{label} holds an entry of map field \"{}\" and {how}",
                    m.subject
                ),
                "the map this path keeps its entry in".to_string(),
            );
            copy.related.push(Related {
                location: file.location(k.release),
                message: "the entry is released here on the other paths".to_string(),
            });
            out.push(copy);
        }
    };
    for (fi, f) in idx.files.iter().enumerate() {
        // An entry looked up in the map itself (`l, ok := s.leases[id]`) is held too.
        let reads_map = |n: Node<'_>| {
            n.child_by_field_name("operand")
                .and_then(|o| idx.resolve(fi, o))
                .is_some_and(|t| t.same(target))
        };
        let deletes = |c: Node<'_>| deletes_from(idx, fi, c, target);
        scan(pkg, f, &reads_map, &deletes);
    }
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for name in acquire.iter().filter(|n| n.starts_with(char::is_uppercase)) {
        paths.extend(pkg.packages_calling(name));
    }
    for path in paths {
        if let Some(other) = pkg.other_package(&path) {
            for f in other.program_files() {
                scan(&other, f, &no_reads, &no_reads);
            }
        }
    }
    out
}

/// Whether `m.f` (the operand of a write) is a field of a local looked up in a map
/// (`b, ok := p.budgets[id]`).
fn looked_up(idx: &PackageIndex<'_>, fi: usize, operand: Node<'_>) -> bool {
    let src = idx.src(fi);
    let Some(base) = flow::unparen(operand)
        .child_by_field_name("operand")
        .map(flow::unparen)
        .filter(|b| b.kind() == "identifier")
    else {
        return false;
    };
    flow::resolve(base, syntax::text(base, src), src).is_some_and(|b| {
        b.kind == flow::BindKind::ShortVar
            && b.index == 0
            && b.value
                .is_some_and(|v| flow::unparen(v).kind() == "index_expression")
    })
}

/// For a map deleted from on some paths: the early returns of the functions deleting
/// its entries that leave before their delete on a condition unrelated to the entry
/// (`if spend <= 0 { return }` before `delete(b.watchers, h.seq)`). Each is `m` again,
/// on the `if`.
fn skipped_deletes<'p>(
    idx: &PackageIndex<'p>,
    shrinks: &[maps::Shrink<'p>],
    target: &Target,
    writes: &[(usize, Node<'p>, Node<'p>)],
    m: &Match,
) -> Vec<Match> {
    let mut out = Vec::new();
    for s in shrinks
        .iter()
        .filter(|s| s.target.same(target) && matches!(s.kind, maps::ShrinkKind::Delete))
    {
        // A function that adds entries as well deletes to replace or evict, not to
        // release what a caller holds.
        let decl = syntax::enclosing_declaration(s.call);
        let adds = writes.iter().any(|&(fi, _, stmt)| {
            fi == s.file
                && syntax::enclosing_declaration(stmt).map(|d| d.id()) == decl.map(|d| d.id())
        });
        if adds || !idx.is_builtin_call(s.file, s.call, "delete") {
            continue;
        }
        let src = idx.src(s.file);
        for k in partial_release::skipped_delete(src, s.call) {
            let label = function_label(s.call, src);
            let prefix = match (k.ret, k.only_if) {
                (Some(ret), _) => format!(
                    "{label} deletes its entry of map field \"{}\" at line {}, but returns at line {} when `{}` without deleting it, so a caller releasing through this path keeps the entry",
                    m.subject,
                    syntax::span(s.call).start_line,
                    syntax::span(ret).start_line,
                    k.branch
                        .child_by_field_name("condition")
                        .map_or("", |c| syntax::text(c, src)),
                ),
                (None, Some(c)) => format!(
                    "{label} deletes its entry of map field \"{}\" only when `{}`, so a caller releasing it on the other outcome keeps the entry",
                    m.subject,
                    syntax::text(c, src),
                ),
                (None, None) => continue,
            };
            let mut copy = m.also_at(
                idx.location(s.file, k.branch),
                &prefix,
                "the map this path keeps its entry in".to_string(),
            );
            copy.related.push(Related {
                location: idx.location(s.file, s.call),
                message: "the entry is deleted here on the other paths".to_string(),
            });
            out.push(copy);
        }
    }
    out
}

/// Whether `call` is `delete(m, k)` of the map `target`.
fn deletes_from(idx: &PackageIndex<'_>, fi: usize, call: Node<'_>, target: &Target) -> bool {
    idx.is_builtin_call(fi, call, "delete")
        && syntax::call_args(call)
            .first()
            .and_then(|m| idx.resolve(fi, *m))
            .is_some_and(|t| t.same(target))
}

/// Whether every write adds an entry that its own function deletes again on every path
/// (an in-flight table: `c.inflight[key] = cl` ... `delete(c.inflight, key)`).
fn only_transient_writes(
    pkg: &Context<'_>,
    target: &Target,
    writes: &[(usize, Node<'_>, Node<'_>)],
) -> bool {
    let idx = pkg.index();
    let none: BTreeSet<String> = BTreeSet::new();
    let no_reads = |_: Node<'_>| false;
    writes.iter().all(|&(fi, _, stmt)| {
        let Some(body) =
            syntax::enclosing_function(stmt).and_then(|f| f.child_by_field_name("body"))
        else {
            return false;
        };
        let deletes = |c: Node<'_>| deletes_from(idx, fi, c, target);
        let names = partial_release::Names {
            acquire: &none,
            release: &none,
            reads_map: &no_reads,
            deletes: &deletes,
        };
        partial_release::transient(pkg, idx.src(fi), body, stmt, &names)
    })
}

/// The name of the function or method declaration around `n`.
fn declaration_name(idx: &PackageIndex<'_>, fi: usize, n: Node<'_>) -> Option<String> {
    syntax::ancestors(n)
        .find(|a| matches!(a.kind(), "function_declaration" | "method_declaration"))
        .and_then(|d| syntax::function_name(d, idx.src(fi)))
        .map(str::to_string)
}

/// What deletes from the map: the package's functions and methods deleting from it, and
/// those calling them (three calls up).
fn release_names(
    idx: &PackageIndex<'_>,
    shrinks: &[maps::Shrink<'_>],
    target: &Target,
) -> BTreeSet<String> {
    let name_of = |fi: usize, n: Node<'_>| declaration_name(idx, fi, n);
    let mut release: BTreeSet<String> = shrinks
        .iter()
        .filter(|s| s.target.same(target))
        .filter_map(|s| name_of(s.file, s.call))
        .collect();
    for _ in 0..3 {
        let mut added = Vec::new();
        for (fi, f) in idx.files.iter().enumerate() {
            for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
                let calls_release =
                    syntax::called_name(call, idx.src(fi)).is_some_and(|n| release.contains(n));
                if let Some(name) = name_of(fi, call).filter(|_| calls_release) {
                    if !release.contains(&name) {
                        added.push(name);
                    }
                }
            }
        }
        if added.is_empty() {
            break;
        }
        release.extend(added);
    }
    release
}

/// Whether the map is trimmed by size: a delete from it (or a call of a function that
/// deletes from it) under a `for` or `if` comparing a length or a size with a bound
/// (`for c.ll.Len() > c.capacity { c.removeElement(c.ll.Back()) }`): a bounded cache.
fn evicts_on_size(
    idx: &PackageIndex<'_>,
    shrinks: &[maps::Shrink<'_>],
    target: &Target,
    release: &BTreeSet<String>,
) -> bool {
    for (fi, f) in idx.files.iter().enumerate() {
        let src = idx.src(fi);
        for st in syntax::descendants(f.tree.root_node())
            .filter(|n| matches!(n.kind(), "for_statement" | "if_statement"))
        {
            let condition = match st.kind() {
                "if_statement" => st.child_by_field_name("condition"),
                _ => flow::named(st)
                    .into_iter()
                    .find(|c| !matches!(c.kind(), "block" | "range_clause" | "for_clause")),
            };
            let Some(condition) = condition else {
                continue;
            };
            let sized = syntax::descendants_of_kind(condition, "binary_expression").any(|b| {
                let op = b
                    .child_by_field_name("operator")
                    .map(|o| syntax::text(o, src));
                if !matches!(op, Some(">" | ">=" | "<" | "<=")) {
                    return false;
                }
                let sides: Vec<Node<'_>> = ["left", "right"]
                    .iter()
                    .filter_map(|s| b.child_by_field_name(s))
                    .collect();
                let zero = sides
                    .iter()
                    .any(|n| matches!(syntax::text(*n, src), "0" | "1"));
                // One side measures the container (`len(c.items)`, `c.ll.Len()`,
                // `c.size`); a bound alone (`attempts >= o.opt.MaxAttempts`) counts
                // something else.
                let measures = |t: &str| {
                    t.starts_with("len(")
                        || ["len()", "size", "count", "bytes", "cap(", "used", "total"]
                            .iter()
                            .any(|w| t.contains(w))
                };
                let size = sides
                    .iter()
                    .any(|n| measures(&syntax::text(*n, src).to_ascii_lowercase()));
                size && !zero
            });
            if !sized {
                continue;
            }
            let Some(body) = st
                .child_by_field_name("consequence")
                .or_else(|| st.child_by_field_name("body"))
            else {
                continue;
            };
            let range = body.byte_range();
            let deletes = shrinks.iter().any(|s| {
                s.file == fi && s.target.same(target) && range.contains(&s.call.start_byte())
            }) || syntax::descendants_of_kind(body, "call_expression")
                .any(|c| syntax::called_name(c, src).is_some_and(|n| release.contains(n)));
            if deletes {
                return true;
            }
        }
    }
    false
}

/// A map field that is written together with a sibling map of the same struct (two
/// indexes of one entry: `q.byID[t.ID] = t; q.byPlayer[t.PlayerID] = t`) and deleted
/// from together with it on one path (`cancel` deletes from both), while another method
/// deletes from the sibling alone (`TakeGroup` deletes from `byPlayer` only): every entry
/// removed that way stays in this map for good. Maps emptied wholesale (`clear`, a
/// range-and-delete sweep, `maps.DeleteFunc`) are swept elsewhere and not reported.
fn forgotten_index<'p>(
    pkg: &Context<'_>,
    idx: &PackageIndex<'p>,
    shrinks: &[maps::Shrink<'p>],
    fields: &[MapField<'p>],
    field: &MapField<'p>,
    writes: &[(usize, Node<'p>, Node<'p>)],
) -> Vec<Match> {
    let target = field_target(field.ty, field.name);
    let own: Vec<&maps::Shrink<'p>> = shrinks.iter().filter(|s| s.target.same(&target)).collect();
    if own.iter().any(|s| s.drain) {
        return Vec::new();
    }
    let method_of = |n: Node<'p>| syntax::enclosing_declaration(n).map(|d| d.id());
    let own_methods: Vec<usize> = own.iter().filter_map(|s| method_of(s.call)).collect();
    let write_methods: Vec<usize> = writes.iter().filter_map(|w| method_of(w.2)).collect();
    // What deletes this field, by name: a path that calls it removes the entry too.
    let own_names: Vec<&str> = own
        .iter()
        .filter_map(|s| {
            let d = syntax::enclosing_declaration(s.call)?;
            syntax::function_name(d, idx.src(s.file))
        })
        .collect();
    for sib in fields
        .iter()
        .filter(|g| g.ty == field.ty && g.name != field.name)
    {
        let sib_target = field_target(sib.ty, sib.name);
        let written_together = method_writes(idx, sib.ty, sib.name)
            .iter()
            .any(|w| method_of(w.2).is_some_and(|m| write_methods.contains(&m)));
        if !written_together {
            continue;
        }
        let sib_shrinks: Vec<&maps::Shrink<'p>> = shrinks
            .iter()
            .filter(|s| s.target.same(&sib_target))
            .collect();
        let Some(joint) = sib_shrinks
            .iter()
            .find(|s| method_of(s.call).is_some_and(|m| own_methods.contains(&m)))
        else {
            continue;
        };
        let Some(alone) = sib_shrinks.iter().find(|s| {
            let Some(d) = syntax::enclosing_declaration(s.call) else {
                return false;
            };
            !own_methods.contains(&d.id())
                && !write_methods.contains(&d.id())
                && !calls_any(idx, s.file, d, &own_names)
        }) else {
            continue;
        };
        let alone_label = function_label(alone.call, idx.src(alone.file));
        let joint_label = function_label(joint.call, idx.src(joint.file));
        let write_label = function_label(writes[0].2, idx.src(writes[0].0));
        let mut evidence = Vec::new();
        for &(fi, index, stmt) in writes {
            evidence.push(idx.location(fi, stmt));
            stored_values(pkg, idx, fi, index, stmt, &mut evidence);
        }
        tidy(&mut evidence);
        let (fi, index, _) = writes[0];
        let subject = format!("{}.{}", field.ty, field.name);
        let m = Match {
            rule: META.id,
            location: idx.location(fi, index),
            message: format!(
                "map field \"{subject}\" is written with \"{}\" in {write_label}, but {alone_label} deletes entries from {} and not from {}, so every entry removed that way stays in {} for good",
                sib.name, sib.name, field.name, field.name
            ),
            subject,
            declaration: Some(idx.location(field.file, field.decl)),
            related: vec![
                Related {
                    location: idx.location(alone.file, alone.call),
                    message: format!("{alone_label} deletes from {} only", sib.name),
                },
                Related {
                    location: idx.location(joint.file, joint.call),
                    message: format!("{joint_label} deletes from both"),
                },
            ],
            evidence,
            fixes: Vec::new(),
            version_note: None,
            needs_growth: false,
            fills: Vec::new(),
        };
        // Also where the removal forgets it: the statement of its function holding the
        // delete from the sibling (`if m.byDevice[id] == s { delete(m.byDevice, id) }`).
        let body =
            syntax::enclosing_declaration(alone.call).and_then(|d| d.child_by_field_name("body"));
        let at = body.and_then(|b| {
            syntax::ancestors(alone.call)
                .take_while(|a| a.id() != b.id())
                .filter(|a| {
                    a.parent().is_some_and(|p| {
                        p.kind() == "statement_list"
                            && p.parent().is_some_and(|pp| pp.id() == b.id())
                    })
                })
                .last()
        });
        let copy = at.map(|at| {
            m.also_at(
                idx.location(alone.file, at),
                &format!(
                    "{alone_label} removes the entry from {} here but not from {}",
                    sib.name, field.name
                ),
                "the map that keeps the entry".to_string(),
            )
        });
        let mut out = vec![m];
        out.extend(copy);
        return out;
    }
    Vec::new()
}

/// Writes into the inner maps of a map-of-maps field through a local taken from it
/// (`v := t.viewers[doc]` ... `v[session] = e`) in the methods of `ty`, unless the inner
/// map is ever deleted from there (`delete(v, k)`, or `delete(t.viewers[doc], k)`).
fn inner_writes<'p>(
    idx: &PackageIndex<'p>,
    ty: &str,
    name: &str,
) -> Vec<(usize, Node<'p>, Node<'p>)> {
    let target = field_target(ty, name);
    let from_field = |fi: usize, v: Node<'p>| {
        let v = maps::unparen(v);
        v.kind() == "index_expression"
            && v.child_by_field_name("operand")
                .and_then(|o| idx.resolve(fi, o))
                .is_some_and(|t| t.same(&target))
    };
    let mut out = Vec::new();
    let mut inner_deleted = false;
    for methods in idx.methods.values() {
        for &(fi, m) in methods {
            if receiver_type(m, idx.src(fi)).map(|(t, _)| t) != Some(ty) {
                continue;
            }
            let Some(body) = m.child_by_field_name("body") else {
                continue;
            };
            for call in syntax::descendants_of_kind(body, "call_expression") {
                let is_delete = idx.is_builtin_call(fi, call, "delete");
                let Some(first) = syntax::call_args(call).first().copied() else {
                    continue;
                };
                if is_delete
                    && (from_field(fi, first) || alias_of_inner(idx, fi, first, &from_field))
                {
                    inner_deleted = true;
                }
            }
            for n in syntax::descendants_of_kind(body, "index_expression") {
                let (Some(operand), Some(stmt)) =
                    (n.child_by_field_name("operand"), write_statement(n))
                else {
                    continue;
                };
                if alias_of_inner(idx, fi, operand, &from_field) {
                    out.push((fi, n, stmt));
                }
            }
        }
    }
    if inner_deleted {
        return Vec::new();
    }
    out.sort_by(|a, b| {
        (idx.files[a.0].path(), a.1.start_byte()).cmp(&(idx.files[b.0].path(), b.1.start_byte()))
    });
    out
}

/// Whether `expr` is a local whose value is an element of the field (`v := t.viewers[doc]`).
fn alias_of_inner<'p>(
    idx: &PackageIndex<'p>,
    fi: usize,
    expr: Node<'p>,
    from_field: &dyn Fn(usize, Node<'p>) -> bool,
) -> bool {
    let expr = maps::unparen(expr);
    if expr.kind() != "identifier" {
        return false;
    }
    let name = idx.text(fi, expr);
    match maps::binding(expr, idx.src(fi)) {
        maps::Binding::Local { decl } => {
            maps::declared_value(decl, name, idx.src(fi)).is_some_and(|v| from_field(fi, v))
        }
        _ => false,
    }
}

fn field_target(ty: &str, name: &str) -> Target {
    Target::Field {
        ty: Some(ty.to_string()),
        name: name.to_string(),
    }
}

/// Whether the body of `func` calls something named one of `names` (`q.cancel(id)`).
fn calls_any(idx: &PackageIndex<'_>, fi: usize, func: Node<'_>, names: &[&str]) -> bool {
    let src = idx.src(fi);
    syntax::descendants_of_kind(func, "call_expression")
        .any(|c| syntax::called_name(c, src).is_some_and(|n| names.contains(&n)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::MapFieldNoDelete;
    use crate::rules::testing::check;

    #[test]
    fn long_lived_store_written_by_a_method() {
        check(
            &MapFieldNoDelete,
            r#"
-- cache/store.go --
package cache

import "sync"

type Store struct {
	mu    sync.RWMutex
	items map[string][]byte
	hits  map[string]int
}

func NewStore() *Store {
	return &Store{items: make(map[string][]byte), hits: map[string]int{}}
}

func (s *Store) Put(key string, val []byte) {
	buf := make([]byte, len(val))
	copy(buf, val)
	s.mu.Lock()
	s.items[key] = buf
	s.mu.Unlock()
}

func (s *Store) Get(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[key]++
	return s.items[key]
}
-- registry/registry.go --
package registry

type Instance struct {
	ID     string
	Labels map[string]string
	Meta   []byte
}

type Registry struct {
	instances map[string]*Instance
}

var Default = &Registry{instances: map[string]*Instance{}}

func (r *Registry) Add(id string, gen int) {
	inst := &Instance{ID: id, Labels: map[string]string{"gen": "x"}}
	inst.Meta = make([]byte, 512)
	m := r.instances
	m[id] = inst
}
"#,
            expect![[r#"
                cache/store.go:19 map-field-no-delete [Store.items] map field "Store.items" is written in (*Store).Put and nothing deletes from it
                  declared cache/store.go:7
                  evidence cache/store.go:16 cache/store.go:19
                cache/store.go:26 map-field-no-delete [Store.hits] map field "Store.hits" is written in (*Store).Get and nothing deletes from it
                  declared cache/store.go:8
                  evidence cache/store.go:26
                registry/registry.go:19 map-field-no-delete [Registry.instances] map field "Registry.instances" is written in (*Registry).Add and nothing deletes from it
                  declared registry/registry.go:10
                  evidence registry/registry.go:16 registry/registry.go:17 registry/registry.go:19
            "#]],
        );
    }

    #[test]
    fn maps_of_maps_grow_in_their_inner_maps() {
        // Tracker adds to an inner map per document and never deletes from it: reported
        // at the inner write. Rooms deletes from the inner map when a member leaves, so
        // only its outer map (a key per room, never deleted) is reported, as before.
        check(
            &MapFieldNoDelete,
            r#"
-- presence.go --
package presence

type Entry struct{ Avatar []byte }

type Tracker struct {
	viewers map[string]map[string]*Entry
}

func (t *Tracker) Join(doc, session string) {
	e := &Entry{Avatar: make([]byte, 16<<10)}
	v := t.viewers[doc]
	if v == nil {
		v = make(map[string]*Entry)
		t.viewers[doc] = v
	}
	v[session] = e
}

type Rooms struct {
	members map[string]map[string]*Entry
}

func (r *Rooms) Join(room, who string) {
	m := r.members[room]
	if m == nil {
		m = make(map[string]*Entry)
		r.members[room] = m
	}
	m[who] = &Entry{}
}

func (r *Rooms) Leave(room, who string) {
	m := r.members[room]
	delete(m, who)
}
"#,
            expect![[r#"
                presence.go:16 map-field-no-delete [Tracker.viewers] map field "Tracker.viewers" is written in (*Tracker).Join and nothing deletes from it
                  declared presence.go:6
                  related presence.go:14 also written in (*Tracker).Join
                  evidence presence.go:10 presence.go:13 presence.go:14 presence.go:16
                presence.go:27 map-field-no-delete [Rooms.members] map field "Rooms.members" is written in (*Rooms).Join and nothing deletes from it
                  declared presence.go:20
                  evidence presence.go:26 presence.go:27
            "#]],
        );
    }

    #[test]
    fn an_index_forgotten_on_one_removal_path() {
        // Queue: take deletes from byPlayer only, cancel from both: byID keeps every
        // taken ticket. Pool: take calls release, which deletes from both. Sweep: the
        // janitor sweeps byID wholesale, so byID is not reported, but the entries it
        // sweeps stay in byPlayer. Pair: nothing deletes from both anywhere, so nothing
        // says the two indexes are removed together.
        check(
            &MapFieldNoDelete,
            r#"
-- queue.go --
package queue

type Ticket struct {
	ID, Player string
	Loadout    []byte
}

type Queue struct {
	byID     map[string]*Ticket
	byPlayer map[string]*Ticket
}

func (q *Queue) push(t *Ticket) {
	q.byID[t.ID] = t
	q.byPlayer[t.Player] = t
}

func (q *Queue) cancel(id string) {
	t := q.byID[id]
	delete(q.byID, id)
	delete(q.byPlayer, t.Player)
}

func (q *Queue) take(t *Ticket) {
	delete(q.byPlayer, t.Player)
}

type Pool struct {
	byID     map[string]*Ticket
	byPlayer map[string]*Ticket
}

func (p *Pool) push(t *Ticket) {
	p.byID[t.ID] = t
	p.byPlayer[t.Player] = t
}

func (p *Pool) release(t *Ticket) {
	delete(p.byID, t.ID)
	delete(p.byPlayer, t.Player)
}

func (p *Pool) take(t *Ticket) {
	delete(p.byPlayer, t.Player)
	p.release(t)
}

type Sweep struct {
	byID     map[string]*Ticket
	byPlayer map[string]*Ticket
}

func (s *Sweep) push(t *Ticket) {
	s.byID[t.ID] = t
	s.byPlayer[t.Player] = t
}

func (s *Sweep) cancel(t *Ticket) {
	delete(s.byID, t.ID)
	delete(s.byPlayer, t.Player)
}

func (s *Sweep) take(t *Ticket) {
	delete(s.byPlayer, t.Player)
}

func (s *Sweep) janitor() {
	for id := range s.byID {
		delete(s.byID, id)
	}
}

type Pair struct {
	byID     map[string]*Ticket
	byPlayer map[string]*Ticket
}

func (p *Pair) push(t *Ticket) {
	p.byID[t.ID] = t
	p.byPlayer[t.Player] = t
}

func (p *Pair) expire(id string) {
	delete(p.byID, id)
}

func (p *Pair) take(t *Ticket) {
	delete(p.byPlayer, t.Player)
}
"#,
            expect![[r#"
                queue.go:14 map-field-no-delete [Queue.byID] map field "Queue.byID" is written with "byPlayer" in (*Queue).push, but (*Queue).take deletes entries from byPlayer and not from byID, so every entry removed that way stays in byID for good
                  declared queue.go:9
                  related queue.go:25 (*Queue).take deletes from byPlayer only
                  related queue.go:21 (*Queue).cancel deletes from both
                  evidence queue.go:14
                queue.go:15 map-field-no-delete [Queue.byPlayer] map field "Queue.byPlayer" is written in (*Queue).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:10
                  evidence queue.go:15
                  reported only when the profiles show growth
                queue.go:25 map-field-no-delete [Queue.byID] (*Queue).take removes the entry from byPlayer here but not from byID: map field "Queue.byID" is written with "byPlayer" in (*Queue).push, but (*Queue).take deletes entries from byPlayer and not from byID, so every entry removed that way stays in byID for good
                  declared queue.go:9
                  related queue.go:21 (*Queue).cancel deletes from both
                  related queue.go:14 the map that keeps the entry
                  evidence queue.go:14
                queue.go:34 map-field-no-delete [Pool.byID] map field "Pool.byID" is written in (*Pool).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:29
                  evidence queue.go:34
                  reported only when the profiles show growth
                queue.go:35 map-field-no-delete [Pool.byPlayer] map field "Pool.byPlayer" is written in (*Pool).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:30
                  evidence queue.go:35
                  reported only when the profiles show growth
                queue.go:54 map-field-no-delete [Sweep.byID] map field "Sweep.byID" is written in (*Sweep).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:49
                  evidence queue.go:54
                  reported only when the profiles show growth
                queue.go:55 map-field-no-delete [Sweep.byPlayer] map field "Sweep.byPlayer" is written with "byID" in (*Sweep).push, but (*Sweep).janitor deletes entries from byID and not from byPlayer, so every entry removed that way stays in byPlayer for good
                  declared queue.go:50
                  related queue.go:69 (*Sweep).janitor deletes from byID only
                  related queue.go:59 (*Sweep).cancel deletes from both
                  evidence queue.go:55
                queue.go:68 map-field-no-delete [Sweep.byPlayer] (*Sweep).janitor removes the entry from byID here but not from byPlayer: map field "Sweep.byPlayer" is written with "byID" in (*Sweep).push, but (*Sweep).janitor deletes entries from byID and not from byPlayer, so every entry removed that way stays in byPlayer for good
                  declared queue.go:50
                  related queue.go:69 (*Sweep).janitor deletes from byID only
                  related queue.go:59 (*Sweep).cancel deletes from both
                  related queue.go:55 the map that keeps the entry
                  evidence queue.go:55
                queue.go:79 map-field-no-delete [Pair.byID] map field "Pair.byID" is written in (*Pair).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:74
                  evidence queue.go:79
                  reported only when the profiles show growth
                queue.go:80 map-field-no-delete [Pair.byPlayer] map field "Pair.byPlayer" is written in (*Pair).push and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared queue.go:75
                  evidence queue.go:80
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn values_passed_in_by_other_packages_are_evidence() {
        // `Put` stores its parameters; what the main package passes for them is what
        // the map keeps. A `Put` of another type in a package that does not import memo
        // is not a caller.
        check(
            &MapFieldNoDelete,
            r#"
-- memo/memo.go --
package memo

type Memo[K comparable, V any] struct {
	items map[K]V
}

func New[K comparable, V any]() *Memo[K, V] {
	return &Memo[K, V]{items: map[K]V{}}
}

func (m *Memo[K, V]) Put(k K, v V) {
	m.items[k] = v
}
-- main.go --
package main

import "example.com/app/memo"

type Result struct {
	ID  int
	Out []byte
}

type app struct {
	results *memo.Memo[int, *Result]
}

func (a *app) submit(id int) {
	out := make([]byte, 256)
	r := &Result{ID: id, Out: out}
	a.results.Put(id, r)
}

func main() {
	a := &app{results: memo.New[int, *Result]()}
	a.submit(1)
}
-- other/other.go --
package other

type Set struct{ m map[string]bool }

func (s *Set) Put(k string) { s.m[k] = true }

func Fill(s *Set) {
	s.Put(string(make([]byte, 10)))
}
"#,
            expect![[r#"
                memo/memo.go:12 map-field-no-delete [Memo.items] map field "Memo.items" is written in (*Memo).Put and nothing deletes from it
                  declared memo/memo.go:4
                  evidence main.go:15 main.go:16 memo/memo.go:12
                other/other.go:5 map-field-no-delete [Set.m] map field "Set.m" is written in (*Set).Put and nothing deletes from it
                  declared other/other.go:3
                  evidence other/other.go:5 other/other.go:8
            "#]],
        );
    }

    #[test]
    fn deletes_clears_resets_and_helpers_anywhere_in_the_package() {
        check(
            &MapFieldNoDelete,
            r#"
-- a.go --
package a

import (
	"maps"
	"sync"
)

type Store struct {
	mu       sync.Mutex
	deleted  map[string][]byte
	cleared  map[string][]byte
	reset    map[string][]byte
	helped   map[string][]byte
	aliased  map[string][]byte
	filtered map[string][]byte
}

func (s *Store) Put(k string, v []byte) {
	s.deleted[k] = v
	s.cleared[k] = v
	s.reset[k] = v
	s.helped[k] = v
	s.aliased[k] = v
	s.filtered[k] = v
}

func (s *Store) Remove(k string) { delete(s.deleted, k) }

func (s *Store) Reset() {
	clear(s.cleared)
	s.reset = make(map[string][]byte)
	maps.DeleteFunc(s.filtered, func(string, []byte) bool { return true })
}

func sweep(s *Store) {
	prune(s.helped)
	m := s.aliased
	delete(m, "k")
}

func prune(m map[string][]byte) {
	for k := range m {
		delete(m, k)
	}
}
"#,
            expect![[r#"
                a.go:19 map-field-no-delete [Store.deleted] map field "Store.deleted" is written in (*Store).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared a.go:10
                  evidence a.go:19
                  reported only when the profiles show growth
                a.go:20 map-field-no-delete [Store.cleared] map field "Store.cleared" is written in (*Store).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared a.go:11
                  evidence a.go:20
                  reported only when the profiles show growth
                a.go:22 map-field-no-delete [Store.helped] map field "Store.helped" is written in (*Store).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared a.go:13
                  evidence a.go:22
                  reported only when the profiles show growth
                a.go:23 map-field-no-delete [Store.aliased] map field "Store.aliased" is written in (*Store).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared a.go:14
                  evidence a.go:23
                  reported only when the profiles show growth
                a.go:24 map-field-no-delete [Store.filtered] map field "Store.filtered" is written in (*Store).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared a.go:15
                  evidence a.go:24
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn a_same_named_field_of_another_type_or_a_test_does_not_count() {
        check(
            &MapFieldNoDelete,
            r#"
-- a.go --
package a

import "sync"

type Store struct {
	mu    sync.Mutex
	items map[string][]byte
}

type Other struct {
	mu    sync.Mutex
	items map[string][]byte
}

func (s *Store) Put(k string, v []byte) { s.items[k] = v }

func (o *Other) Drop(k string) { delete(o.items, k) }
-- a_test.go --
package a

import "testing"

func TestPut(t *testing.T) {
	s := &Store{items: map[string][]byte{}}
	s.Put("k", nil)
	delete(s.items, "k")
}
"#,
            expect![[r#"
                a.go:15 map-field-no-delete [Store.items] map field "Store.items" is written in (*Store).Put and nothing deletes from it
                  declared a.go:7
                  evidence a.go:15
            "#]],
        );
    }

    #[test]
    fn lazy_initialization_is_not_a_reset() {
        check(
            &MapFieldNoDelete,
            r#"
-- a.go --
package a

import "sync"

type Index struct {
	mu   sync.Mutex
	docs map[string]string
}

func (x *Index) Add(id, body string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.docs == nil {
		x.docs = make(map[string]string)
	}
	x.docs[id] = body
}
"#,
            expect![[r#"
                a.go:16 map-field-no-delete [Index.docs] map field "Index.docs" is written in (*Index).Add and nothing deletes from it
                  declared a.go:7
                  evidence a.go:16
            "#]],
        );
    }

    #[test]
    fn request_scoped_structs_die_with_the_request() {
        check(
            &MapFieldNoDelete,
            r#"
-- walk.go --
package walk

type walker struct {
	seen map[string]bool
	out  []string
}

func (w *walker) visit(n string) {
	if w.seen[n] {
		return
	}
	w.seen[n] = true
	w.out = append(w.out, n)
}

func Walk(nodes []string) []string {
	w := &walker{seen: map[string]bool{}}
	for _, n := range nodes {
		w.visit(n)
	}
	return w.out
}

type counter struct{ byWord map[string]int }

func newCounter() *counter { return &counter{byWord: map[string]int{}} }

func (c *counter) add(w string) { c.byWord[w]++ }

func Count(words []string) int {
	c := newCounter()
	for _, w := range words {
		c.add(w)
	}
	return len(c.byWord)
}

type tally struct{ m map[string]int }

func (t *tally) add(w string) { t.m[w]++ }

func Tally(words []string) {
	var t tally
	t.m = map[string]int{}
	for _, w := range words {
		t.add(w)
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn escaping_values_are_long_lived() {
        check(
            &MapFieldNoDelete,
            r#"
-- svc.go --
package svc

type tracker struct{ seen map[string][]byte }

func (t *tracker) note(id string, b []byte) { t.seen[id] = b }

type Server struct{ t *tracker }

func NewServer() *Server {
	return &Server{t: &tracker{seen: map[string][]byte{}}}
}

type Pool struct{ conns map[string][]byte }

func NewPool() *Pool { return &Pool{conns: map[string][]byte{}} }

func (p *Pool) Add(addr string) { p.conns[addr] = make([]byte, 4096) }
"#,
            expect![[r#"
                svc.go:5 map-field-no-delete [tracker.seen] map field "tracker.seen" is written in (*tracker).note and nothing deletes from it
                  declared svc.go:3
                  evidence svc.go:5
                svc.go:17 map-field-no-delete [Pool.conns] map field "Pool.conns" is written in (*Pool).Add and nothing deletes from it
                  declared svc.go:13
                  evidence svc.go:17
            "#]],
        );
    }

    #[test]
    fn bounded_writes_are_not_growth() {
        check(
            &MapFieldNoDelete,
            r#"
-- a.go --
package a

import "sync"

type State uint8

const (
	Idle State = iota
	Busy
)

type Stats struct {
	mu      sync.Mutex
	byState map[State]int
	named   map[string]int
	capped  map[string][]byte
}

const limit = 128

func (s *Stats) Observe(st State, k string, v []byte) {
	s.byState[st]++
	s.named["total"]++
	if len(s.capped) < limit {
		s.capped[k] = v
	}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    /// Entries deleted on one path only (when a session completes its funnel): reported
    /// only when the profiles show the map's entries growing steadily.
    #[test]
    fn deleted_on_some_paths_only_needs_growth() {
        check(
            &MapFieldNoDelete,
            r#"
-- f.go --
package f

import "sync"

type progress struct {
	steps []int
}

type Tracker struct {
	mu       sync.Mutex
	inflight map[string]*progress
}

func (t *Tracker) Observe(session string, step int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.inflight[session]
	if !ok {
		p = &progress{steps: make([]int, 0, 8)}
		t.inflight[session] = p
	}
	p.steps = append(p.steps, step)
	if step == 4 {
		delete(t.inflight, session)
	}
}
"#,
            expect![[r#"
                f.go:20 map-field-no-delete [Tracker.inflight] map field "Tracker.inflight" is written in (*Tracker).Observe and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:11
                  evidence f.go:19 f.go:20 f.go:22
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn the_path_that_keeps_an_entry_the_others_release() {
        // handle returns before its deferred release on one path; finish releases in
        // every case but one; a lookup released on most cases of a switch forgets one.
        // Quiet: a failed acquisition (`if !leader`), an entry handed on (`return c`),
        // a deferred release before every return, a lookup kept on purpose (released on
        // as many paths as it is kept), a sweep in a loop.
        check(
            &MapFieldNoDelete,
            r#"
-- f.go --
package f

import "sync"

type call struct{ body []byte }

type Flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

func (f *Flight) begin(key string, body []byte) (*call, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[key]; ok {
		return c, false
	}
	c := &call{body: body}
	f.calls[key] = c
	return c, true
}

func (f *Flight) finish(key string) {
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
}

func (f *Flight) handle(key string, body []byte, kind int) {
	c, leader := f.begin(key, body)
	if !leader {
		use(c)
		return
	}
	switch kind {
	case 0:
		f.finish(key)
	case 1:
		log(key)
	default:
		f.finish(key)
	}
}

func (f *Flight) early(key string, body []byte) {
	c, _ := f.begin(key, body)
	if len(body) == 0 {
		log(key)
		return
	}
	defer f.finish(key)
	use(c)
}

func (f *Flight) fine(key string, body []byte) *call {
	c, leader := f.begin(key, body)
	if !leader {
		return nil
	}
	defer f.finish(key)
	if len(body) > 10 {
		return c
	}
	use(c)
	return nil
}

func (f *Flight) report(key string, kind int) {
	c, ok := f.calls[key]
	if !ok {
		return
	}
	switch kind {
	case 0:
		f.finish(key)
	case 1:
		f.finish(key)
	default:
		log(key)
	}
	_ = c
}

func (f *Flight) step(key string, last bool) {
	c, ok := f.calls[key]
	if !ok {
		return
	}
	use(c)
	if last {
		f.finish(key)
	}
}

func (f *Flight) sweep(key string, body []byte) {
	c, _ := f.begin(key, body)
	use(c)
	for k := range f.calls {
		f.finish(k)
	}
}

func use(*call)   {}
func log(string) {}
"#,
            expect![[r#"
                f.go:19 map-field-no-delete [Flight.calls] map field "Flight.calls" is written in (*Flight).begin and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:9
                  evidence f.go:18 f.go:19
                  reported only when the profiles show growth
                f.go:39 map-field-no-delete [Flight.calls] (*Flight).handle holds an entry of map field "Flight.calls" and this path ends without releasing it (released at line 37 on another path): map field "Flight.calls" is written in (*Flight).begin and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:9
                  related f.go:19 the map this path keeps its entry in
                  related f.go:37 the entry is released here on the other paths
                  evidence f.go:18 f.go:19
                  reported only when the profiles show growth
                f.go:46 map-field-no-delete [Flight.calls] (*Flight).early holds an entry of map field "Flight.calls" and the path returning at line 49 leaves before the deferred release (line 51): map field "Flight.calls" is written in (*Flight).begin and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:9
                  related f.go:19 the map this path keeps its entry in
                  related f.go:51 the entry is released here on the other paths
                  evidence f.go:18 f.go:19
                  reported only when the profiles show growth
                f.go:79 map-field-no-delete [Flight.calls] (*Flight).report holds an entry of map field "Flight.calls" and this path ends without releasing it (released at line 75 on another path): map field "Flight.calls" is written in (*Flight).begin and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:9
                  related f.go:19 the map this path keeps its entry in
                  related f.go:75 the entry is released here on the other paths
                  evidence f.go:18 f.go:19
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn a_cache_trimmed_by_size_is_bounded() {
        // Quiet: the eviction loop deletes through a helper while the list is over
        // capacity. Reported: a map deleted from under a comparison that is not a size.
        check(
            &MapFieldNoDelete,
            r#"
-- f.go --
package f

import (
	"container/list"
	"sync"
)

type LRU struct {
	mu       sync.Mutex
	capacity int
	ll       *list.List
	items    map[string]*list.Element
}

func (c *LRU) Set(key string, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[key] = c.ll.PushFront(v)
	for c.ll.Len() > c.capacity {
		c.remove(c.ll.Back())
	}
}

func (c *LRU) remove(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, "")
}

type Tracker struct {
	mu   sync.Mutex
	seen map[string]int
}

func (t *Tracker) Add(key string, step int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[key] = step
	if step > 3 {
		delete(t.seen, key)
	}
}
"#,
            expect![[r#"
                f.go:37 map-field-no-delete [Tracker.seen] map field "Tracker.seen" is written in (*Tracker).Add and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:31
                  evidence f.go:37
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn an_entry_its_own_function_always_deletes_lives_only_during_the_call() {
        // Quiet: Get deletes the in-flight entry on every path after adding it. Reported:
        // Fetch returns between its write and its delete.
        check(
            &MapFieldNoDelete,
            r#"
-- f.go --
package f

import "sync"

type call struct{ v []byte }

type Cache struct {
	mu       sync.Mutex
	inflight map[string]*call
	pending  map[string]*call
}

func (c *Cache) Get(key string) []byte {
	cl := &call{}
	c.mu.Lock()
	c.inflight[key] = cl
	c.mu.Unlock()
	cl.v = load(key)
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	return cl.v
}

func (c *Cache) Fetch(key string) []byte {
	cl := &call{}
	c.pending[key] = cl
	cl.v = load(key)
	if cl.v == nil {
		return nil
	}
	delete(c.pending, key)
	return cl.v
}

func load(string) []byte { return nil }
"#,
            expect![[r#"
                f.go:27 map-field-no-delete [Cache.pending] map field "Cache.pending" is written in (*Cache).Fetch and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:10
                  evidence f.go:26 f.go:27 f.go:28 f.go:36
                  reported only when the profiles show growth
            "#]],
        );
    }

    #[test]
    fn a_release_returning_before_its_own_delete() {
        // `settle` deletes the watcher, but returns first when nothing was spent (a
        // condition about neither the entry nor the map): reported on that `if`. The
        // returns on `h.done` and `!ok` are about the entry and stay quiet, and so does
        // `Put`, which adds entries as well. `finish` deletes only when the outcome its
        // caller passes is a success: reported on the delete; `drop`'s condition is
        // about the entry's map. The map is a field of values looked up in
        // another map, written by the owner's method.
        check(
            &MapFieldNoDelete,
            r#"
-- f.go --
package f

type budget struct {
	watchers map[uint64]func()
	spent    float64
}

type Hold struct {
	id   string
	seq  uint64
	done bool
}

type Pacer struct {
	budgets map[string]*budget
	seq     uint64
}

func (p *Pacer) Reserve(id string, fn func()) *Hold {
	b, ok := p.budgets[id]
	if !ok {
		return nil
	}
	p.seq++
	h := &Hold{id: id, seq: p.seq}
	b.watchers[h.seq] = fn
	return h
}

func (p *Pacer) settle(h *Hold, spend float64) {
	if h.done {
		return
	}
	h.done = true
	b, ok := p.budgets[h.id]
	if !ok {
		return
	}
	if spend <= 0 {
		return
	}
	delete(b.watchers, h.seq)
	b.spent += spend
}

func (p *Pacer) finish(h *Hold, err error) {
	b := p.budgets[h.id]
	if err == nil {
		delete(b.watchers, h.seq)
	} else {
		b.spent--
	}
}

func (p *Pacer) drop(h *Hold) {
	b, ok := p.budgets[h.id]
	if ok && len(b.watchers) > 0 {
		delete(b.watchers, h.seq)
	}
}

func (p *Pacer) Put(id string, seq uint64, fn func(), keep bool) {
	b := p.budgets[id]
	if !keep {
		return
	}
	delete(b.watchers, seq-1)
	b.watchers[seq] = fn
}
"#,
            expect![[r#"
                f.go:26 map-field-no-delete [budget.watchers] map field "budget.watchers" is written in (*Pacer).Reserve and (*Pacer).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:4
                  related f.go:68 also written in (*Pacer).Put
                  evidence f.go:26 f.go:68
                  reported only when the profiles show growth
                f.go:39 map-field-no-delete [budget.watchers] (*Pacer).settle deletes its entry of map field "budget.watchers" at line 42, but returns at line 40 when `spend <= 0` without deleting it, so a caller releasing through this path keeps the entry: map field "budget.watchers" is written in (*Pacer).Reserve and (*Pacer).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:4
                  related f.go:68 also written in (*Pacer).Put
                  related f.go:26 the map this path keeps its entry in
                  related f.go:42 the entry is deleted here on the other paths
                  evidence f.go:26 f.go:68
                  reported only when the profiles show growth
                f.go:49 map-field-no-delete [budget.watchers] (*Pacer).finish deletes its entry of map field "budget.watchers" only when `err == nil`, so a caller releasing it on the other outcome keeps the entry: map field "budget.watchers" is written in (*Pacer).Reserve and (*Pacer).Put and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared f.go:4
                  related f.go:68 also written in (*Pacer).Put
                  related f.go:26 the map this path keeps its entry in
                  related f.go:49 the entry is deleted here on the other paths
                  evidence f.go:26 f.go:68
                  reported only when the profiles show growth
            "#]],
        );
    }

    /// Entries added under the client's ID and deleted under the server's: the delete
    /// on eviction removes nothing. The same map deleted under the key it is written
    /// with, and a delete under a field no one struct shares with the written one, are
    /// quiet.
    #[test]
    fn a_delete_under_another_field_of_the_entry_is_reported() {
        check(
            &MapFieldNoDelete,
            r#"
-- model/model.go --
package model

type Message struct {
	ID       string
	ClientID string
	Body     string
}

type Ticket struct{ Code string }
-- history/store.go --
package history

import "example.com/app/model"

type room struct {
	ring     []*model.Message
	head     int
	byClient map[string]*model.Message
	byID     map[string]*model.Message
	byCode   map[string]*model.Message
}

func (r *room) add(msg *model.Message, t *model.Ticket) {
	oldest := r.ring[r.head]
	delete(r.byClient, oldest.ID)
	delete(r.byID, oldest.ID)
	delete(r.byCode, t.Code)
	r.ring[r.head] = msg
	r.head = (r.head + 1) % len(r.ring)
	r.byClient[msg.ClientID] = msg
	r.byID[msg.ID] = msg
	r.byCode[msg.Body] = msg
}
"#,
            expect![[r#"
                history/store.go:15 map-field-no-delete [byClient] (*room).add deletes from map field "byClient" under oldest.ID, but its entries are added under msg.ClientID (line 20): .ID and .ClientID are different fields of the same struct, so the delete removes nothing that was added and the map keeps every entry
                  related history/store.go:20 entries are added under msg.ClientID here
                  evidence history/store.go:20
                history/store.go:20 map-field-no-delete [room.byClient] map field "room.byClient" is written in (*room).add and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared history/store.go:8
                  evidence history/store.go:20
                  reported only when the profiles show growth
                history/store.go:21 map-field-no-delete [room.byID] map field "room.byID" is written in (*room).add and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared history/store.go:9
                  evidence history/store.go:21
                  reported only when the profiles show growth
                history/store.go:22 map-field-no-delete [room.byCode] map field "room.byCode" is written in (*room).add and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared history/store.go:10
                  evidence history/store.go:22
                  reported only when the profiles show growth
            "#]],
        );
    }

    /// delivered and abandon release the sink's cached body before settling; reject
    /// settles without: reported on its settling call when the profiles show growth.
    /// Handlers that all release, or settle through different calls, are quiet.
    #[test]
    fn a_sibling_handler_skipping_the_release_the_others_make() {
        check(
            &MapFieldNoDelete,
            r#"
-- sink/sink.go --
package sink

import "sync"

type Bulk struct {
	mu     sync.Mutex
	bodies map[uint64][]byte
}

func (s *Bulk) Send(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[id] = make([]byte, 64<<10)
}

func (s *Bulk) Release(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bodies, id)
}
-- ship/ship.go --
package ship

import "example.com/app/sink"

type Acks struct{ n int }

func (a *Acks) Ack(id uint64, err error) { a.n++ }

type target struct{ sink *sink.Bulk }

func (t *target) release(id uint64) { t.sink.Release(id) }

type Shipper struct{ acks *Acks }

func (s *Shipper) delivered(t *target, id uint64) {
	t.release(id)
	s.acks.Ack(id, nil)
}

func (s *Shipper) reject(t *target, id uint64, err error) {
	s.acks.Ack(id, err)
}

func (s *Shipper) abandon(t *target, id uint64, err error) {
	t.release(id)
	s.acks.Ack(id, err)
}
"#,
            expect![[r#"
                ship/ship.go:21 map-field-no-delete [bodies] (*Shipper).reject ends with s.acks.Ack(...) like (*Shipper).delivered and (*Shipper).abandon, which call release first to delete the entry kept in map field "bodies"; this path does not, so that entry stays
                  evidence sink/sink.go:13
                  reported only when the profiles show growth
                sink/sink.go:13 map-field-no-delete [Bulk.bodies] map field "Bulk.bodies" is written in (*Bulk).Send and deleted from elsewhere, yet the profiles show its entries growing steadily: some path that adds an entry ends without deleting it
                  declared sink/sink.go:7
                  evidence sink/sink.go:13
                  reported only when the profiles show growth
            "#]],
        );
    }
}
