//! `unbounded-global-map`: a package-level map written outside start-up code that nothing
//! deletes from, clears or replaces only grows. Also home of the helpers the map and cache
//! rules share ([`maps`]).

use tree_sitter::Node;

use self::maps::{function_label, join_labels, list_items, tidy, Target, UseKind};
use super::flow::{self, PackageIndex};
use super::{Context, EvidenceKind, Fix, Match, Package, Related, Rule, RuleMeta, TextEdit};

/// The `unbounded-global-map` rule.
#[derive(Debug)]
pub struct UnboundedGlobalMap;

static META: RuleMeta = RuleMeta {
    id: "unbounded-global-map",
    name: "Unbounded global map",
    summary: "A package-level map that is written outside init and never deleted from only grows.",
    evidence: EvidenceKind::Heap,
    grows: true,
};

/// The module the fix bounds maps with, and the capacity it starts from.
const LRU_PATH: &str = "github.com/hashicorp/golang-lru/v2";
const LRU_CAPACITY: u32 = 10_000;

impl Rule for UnboundedGlobalMap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, pkg: &Context<'_>, out: &mut Vec<Match>) {
        let idx = pkg.index();
        if idx.files.is_empty() {
            return;
        }
        let shrinks = idx.shrinks();
        let mut names: Vec<&str> = idx.vars.keys().copied().collect();
        names.sort_unstable();
        for name in names {
            let Some(g) = idx.vars.get(name).copied() else {
                continue;
            };
            let Some(mt) = idx.global_map_type(&g) else {
                continue;
            };
            if idx.is_bounded_key_type(mt.file, mt.key) {
                continue;
            }
            let target = Target::Global(name.to_string());
            if shrinks.iter().any(|s| s.target.same(&target)) {
                continue;
            }
            let uses = idx.global_uses(name);
            let reset = uses.iter().any(
                |u| matches!(u.kind, UseKind::Reassign { stmt } if !idx.runs_once(u.file, stmt)),
            );
            if reset {
                continue;
            }
            let mut writes: Vec<(usize, Node<'_>, Node<'_>)> = uses
                .iter()
                .filter_map(|u| match u.kind {
                    UseKind::Write { index, stmt } => Some((u.file, index, stmt)),
                    _ => None,
                })
                .filter(|&(fi, index, stmt)| {
                    !idx.runs_once(fi, stmt)
                        && !constant_key(idx, fi, index)
                        && idx.len_guarded(fi, stmt, &target).is_none()
                        && !idx.panics_on_duplicate(fi, stmt, &target)
                })
                .collect();
            if writes.is_empty() {
                continue;
            }
            writes.sort_by(|a, b| {
                (idx.files[a.0].path(), a.2.start_byte())
                    .cmp(&(idx.files[b.0].path(), b.2.start_byte()))
            });
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
            let fixes = lru_fix(pkg, idx, name).into_iter().collect();
            out.push(Match {
                rule: META.id,
                location: idx.location(fi, index),
                subject: name.to_string(),
                message: format!(
                    "package-level map \"{name}\" is written in {} and never deleted from",
                    join_labels(&labels)
                ),
                declaration: Some(idx.location(g.file, g.spec)),
                related,
                evidence,
                fixes,
                version_note: None,
                needs_growth: false,
                fills: Vec::new(),
            });
        }
    }
}

/// Whether a write's key is a constant (a fixed set of entries).
pub(crate) fn constant_key(idx: &PackageIndex<'_>, fi: usize, index: Node<'_>) -> bool {
    index.kind() == "index_expression"
        && index
            .child_by_field_name("index")
            .is_some_and(|k| idx.is_bounded_key(fi, k))
}

/// Adds the allocation sites of the value and the key a write stores; for a parameter,
/// those of the arguments callers in the package and in other packages pass for it.
pub(crate) fn stored_values<'p>(
    cx: &Context<'_>,
    idx: &PackageIndex<'p>,
    fi: usize,
    index: Node<'p>,
    stmt: Node<'p>,
    out: &mut Vec<super::Location>,
) {
    if index.kind() == "index_expression" {
        if let Some(k) = index.child_by_field_name("index") {
            idx.alloc_sites(fi, k, out);
            if let Some(f) = idx.files.get(fi) {
                flow::param_alloc_sites_in_callers(cx, f, k, out);
            }
        }
    }
    if stmt.kind() != "assignment_statement" {
        return;
    }
    let lhs = stmt
        .child_by_field_name("left")
        .map(list_items)
        .unwrap_or_default();
    let rhs = stmt
        .child_by_field_name("right")
        .map(list_items)
        .unwrap_or_default();
    let Some(i) = lhs
        .iter()
        .position(|l| maps::unparen(*l).id() == index.id())
    else {
        return;
    };
    let value = if lhs.len() == rhs.len() {
        rhs.get(i)
    } else {
        rhs.first()
    };
    if let Some(v) = value {
        idx.alloc_sites(fi, *v, out);
        if let Some(f) = idx.files.get(fi) {
            flow::param_alloc_sites_in_callers(cx, f, *v, out);
        }
    }
}

/// Rewrites the map into a bounded LRU cache (`lru.New[K, V](N)`) when every use of it in
/// the package is one the cache's methods express: `m[k] = v` (`Add`), `v := m[k]` and
/// `v, ok := m[k]` (`Get`), `delete(m, k)` (`Remove`) and `len(m)` (`Len`). A range over
/// the map, passing it around, a reset or a compound write make the rewrite unsafe.
fn lru_fix(pkg: &Package, prog: &PackageIndex<'_>, name: &str) -> Option<Fix> {
    if pkg.go_version.is_some_and(|v| !v.at_least(1, 18)) {
        return None;
    }
    // Other packages may use an exported map.
    if !name.starts_with(|c: char| c.is_lowercase()) {
        return None;
    }
    let decl_file = prog.files.get(prog.vars.get(name)?.file)?;
    let package_name = &decl_file.summary.package;
    let files = pkg
        .files
        .iter()
        .filter(|f| &f.summary.package == package_name)
        .collect();
    let idx = PackageIndex::with_files(files);
    let g = *idx.vars.get(name)?;
    if maps::field_nodes(g.spec, "name").len() != 1 {
        return None;
    }
    let mt = idx.global_map_type(&g)?;
    if mt.named.is_some() {
        return None;
    }
    if let Some(v) = g.value.map(maps::unparen) {
        let empty = match v.kind() {
            "composite_literal" => v
                .child_by_field_name("body")
                .is_some_and(|b| flow::named(b).iter().all(|c| c.kind() == "comment")),
            "call_expression" => idx.is_builtin_call(g.file, v, "make"),
            _ => false,
        };
        if !empty {
            return None;
        }
    }
    let imports = idx.imports.get(g.file)?;
    let existing = imports
        .iter()
        .find(|(_, p)| **p == LRU_PATH)
        .map(|(n, _)| *n);
    let lru = existing.unwrap_or("lru");
    if matches!(lru, "_" | ".") {
        return None;
    }
    let taken = imports.contains_key("lru")
        || idx.vars.contains_key("lru")
        || idx.funcs.contains_key("lru")
        || idx.types.contains_key("lru")
        || idx.consts.contains("lru");
    if existing.is_none() && taken {
        return None;
    }
    let key = idx.text(mt.file, mt.key);
    let value = idx.text(mt.file, mt.value);
    let mut edits = vec![TextEdit {
        file: idx.files[g.file].path().to_path_buf(),
        start_byte: g.spec.start_byte(),
        end_byte: g.spec.end_byte(),
        new_text: format!(
            "{name}, _ = {lru}.New[{key}, {value}]({LRU_CAPACITY}) // Bounded: tune the capacity to the working set."
        ),
    }];
    for u in idx.global_uses(name) {
        edits.extend(use_edits(&idx, name, &u)?);
    }
    if existing.is_none() {
        edits.push(import_edit(&idx, g.file)?);
    }
    edits.sort_by(|a, b| (&a.file, a.start_byte).cmp(&(&b.file, b.start_byte)));
    let overlap = edits
        .windows(2)
        .any(|w| w[0].file == w[1].file && w[1].start_byte < w[0].end_byte);
    if overlap {
        return None;
    }
    Some(Fix {
        title: format!("Bound \"{name}\" with an LRU cache ({LRU_PATH}, capacity {LRU_CAPACITY})"),
        edits,
    })
}

/// The edits turning one use of the map into the LRU cache's method, or `None` when the
/// use has no equivalent.
fn use_edits(idx: &PackageIndex<'_>, name: &str, u: &maps::Use<'_>) -> Option<Vec<TextEdit>> {
    if u.node.kind() != "identifier" {
        return None;
    }
    let fi = u.file;
    let file = idx.files.get(fi)?.path().to_path_buf();
    let edit = |start: usize, end: usize, text: String| TextEdit {
        file: file.clone(),
        start_byte: start,
        end_byte: end,
        new_text: text,
    };
    match u.kind {
        UseKind::Write { index, stmt } => {
            if index.kind() != "index_expression" || stmt.kind() != "assignment_statement" {
                return None;
            }
            let op = stmt.child_by_field_name("operator")?;
            let lhs = list_items(stmt.child_by_field_name("left")?);
            let rhs = list_items(stmt.child_by_field_name("right")?);
            if idx.text(fi, op) != "=" || lhs.len() != 1 || rhs.len() != 1 {
                return None;
            }
            if maps::unparen(lhs[0]).id() != index.id() {
                return None;
            }
            let key = idx.text(fi, index.child_by_field_name("index")?);
            let value = rhs[0];
            Some(vec![
                edit(
                    stmt.start_byte(),
                    value.start_byte(),
                    format!("{name}.Add({key}, "),
                ),
                edit(value.end_byte(), stmt.end_byte(), ")".to_string()),
            ])
        }
        UseKind::Read { index } => {
            let list = index.parent().filter(|p| p.kind() == "expression_list")?;
            let stmt = list.parent()?;
            let plain = match stmt.kind() {
                "short_var_declaration" => true,
                "assignment_statement" => stmt
                    .child_by_field_name("operator")
                    .is_some_and(|o| idx.text(fi, o) == "="),
                _ => false,
            };
            if !plain || stmt.child_by_field_name("right") != Some(list) {
                return None;
            }
            let left = stmt.child_by_field_name("left")?;
            let n = list_items(left).len();
            if list_items(list).len() != 1 || !(1..=2).contains(&n) {
                return None;
            }
            let key = idx.text(fi, index.child_by_field_name("index")?);
            let mut edits = vec![edit(
                index.start_byte(),
                index.end_byte(),
                format!("{name}.Get({key})"),
            )];
            if n == 1 {
                edits.push(edit(left.end_byte(), left.end_byte(), ", _".to_string()));
            }
            Some(edits)
        }
        UseKind::Delete { call } => {
            let args = super::syntax::call_args(call);
            let stmt = call
                .parent()
                .filter(|p| p.kind() == "expression_statement")?;
            if args.len() != 2 || stmt.named_child_count() != 1 {
                return None;
            }
            let key = idx.text(fi, args[1]);
            Some(vec![edit(
                call.start_byte(),
                call.end_byte(),
                format!("{name}.Remove({key})"),
            )])
        }
        UseKind::Len { call } => Some(vec![edit(
            call.start_byte(),
            call.end_byte(),
            format!("{name}.Len()"),
        )]),
        _ => None,
    }
}

/// The edit importing the LRU package into file `fi`: into the last parenthesized import
/// block as its own group, after the last single import, or after the package clause.
fn import_edit(idx: &PackageIndex<'_>, fi: usize) -> Option<TextEdit> {
    let f = idx.files.get(fi)?;
    let root = f.tree.root_node();
    let items = flow::named(root);
    let decls: Vec<Node<'_>> = items
        .iter()
        .copied()
        .filter(|n| n.kind() == "import_declaration")
        .collect();
    let spec = format!("lru \"{LRU_PATH}\"");
    let block = decls.iter().rev().find_map(|d| {
        flow::named(*d)
            .into_iter()
            .find(|c| c.kind() == "import_spec_list")
    });
    let (at, text) = if let Some(list) = block {
        let close = list.child(u32::try_from(list.child_count().checked_sub(1)?).ok()?)?;
        if close.kind() != ")" {
            return None;
        }
        (close.start_byte(), format!("\n\t{spec}\n"))
    } else if let Some(last) = decls.last() {
        (last.end_byte(), format!("\n\nimport {spec}"))
    } else {
        let clause = items.iter().find(|n| n.kind() == "package_clause")?;
        (clause.end_byte(), format!("\n\nimport {spec}"))
    };
    Some(TextEdit {
        file: f.path().to_path_buf(),
        start_byte: at,
        end_byte: at,
        new_text: text,
    })
}

/// Package-wide facts and tree helpers shared by the map and cache rules
/// (`unbounded-global-map`, `map-field-no-delete`, `cache-no-eviction`,
/// `map-high-water-mark`, `closure-registry-leak`): name resolution on the tree, the uses
/// of a package-level name, what shrinks a container (directly, through a local alias or
/// through a helper that takes it), code that runs once at start-up, constant keys, length
/// guards and the allocation sites of a stored value.
pub(crate) mod maps {
    use std::collections::{HashMap, HashSet};

    use tree_sitter::Node;

    use crate::rules::flow::{self, named, BindKind, GlobalVar, PackageIndex};
    pub(crate) use crate::rules::flow::{field_nodes, has_token, list_items, specs, unparen};
    use crate::rules::syntax;
    use crate::rules::Location;

    /// How deep value and alias chains are followed.
    const MAX_DEPTH: u32 = 4;

    impl<'p> PackageIndex<'p> {
        /// A location in file `fi`.
        pub(crate) fn location(&self, fi: usize, node: Node<'_>) -> Location {
            Location {
                file: self
                    .files
                    .get(fi)
                    .map(|f| f.path().to_path_buf())
                    .unwrap_or_default(),
                span: syntax::span(node),
            }
        }

        /// Whether `name` is an import of file `fi` (so `name.X` is a qualified name).
        pub(crate) fn is_import(&self, fi: usize, name: &str) -> bool {
            self.imports.get(fi).is_some_and(|m| m.contains_key(name))
        }

        /// Whether the selector's operand names the import of `path` in file `fi`
        /// (`sync.Map`, `maps.DeleteFunc`), and the selected name is `sel`.
        pub(crate) fn is_qualified(
            &self,
            fi: usize,
            node: Node<'_>,
            path: &str,
            sel: &str,
        ) -> bool {
            let node = unparen(node);
            if node.kind() != "selector_expression" {
                return false;
            }
            let (Some(op), Some(field)) = (
                node.child_by_field_name("operand"),
                node.child_by_field_name("field"),
            ) else {
                return false;
            };
            op.kind() == "identifier"
                && self.text(fi, field) == sel
                && self
                    .imports
                    .get(fi)
                    .and_then(|m| m.get(self.text(fi, op)))
                    .is_some_and(|p| *p == path)
                && matches!(binding(op, self.src(fi)), Binding::Package)
        }

        /// Whether the type node is `sync.Map` or `*sync.Map` in file `fi`.
        pub(crate) fn is_sync_map_type(&self, fi: usize, ty: Node<'_>) -> bool {
            let ty = match ty.kind() {
                "pointer_type" => match ty.named_child(0) {
                    Some(t) => t,
                    None => return false,
                },
                _ => ty,
            };
            if ty.kind() != "qualified_type" {
                return false;
            }
            let (Some(pkg), Some(name)) = (
                ty.child_by_field_name("package"),
                ty.child_by_field_name("name"),
            ) else {
                return false;
            };
            self.text(fi, name) == "Map"
                && self
                    .imports
                    .get(fi)
                    .and_then(|m| m.get(self.text(fi, pkg)))
                    .is_some_and(|p| *p == "sync")
        }

        /// Whether a call is a call of the builtin `name` (not shadowed by a package-level
        /// function of that name).
        pub(crate) fn is_builtin_call(&self, fi: usize, call: Node<'_>, name: &str) -> bool {
            call.kind() == "call_expression"
                && call.child_by_field_name("function").is_some_and(|f| {
                    let f = unparen(f);
                    f.kind() == "identifier"
                        && self.text(fi, f) == name
                        && !self.funcs.contains_key(name)
                        && !self.vars.contains_key(name)
                        && matches!(binding(f, self.src(fi)), Binding::Package)
                })
        }

        /// The map type behind a type node: a `map_type`, or a package type defined as one.
        pub(crate) fn map_type(&self, fi: usize, ty: Node<'p>) -> Option<MapType<'p>> {
            self.map_type_depth(fi, ty, 0)
        }

        fn map_type_depth(&self, fi: usize, ty: Node<'p>, depth: u32) -> Option<MapType<'p>> {
            match ty.kind() {
                "map_type" => Some(MapType {
                    file: fi,
                    key: ty.child_by_field_name("key")?,
                    value: ty.child_by_field_name("value")?,
                    named: None,
                }),
                "type_identifier" if depth < 3 => {
                    let name = self.text(fi, ty);
                    let spec = *self.types.get(name)?;
                    let file = self.file_of(spec)?;
                    let under = spec.child_by_field_name("type")?;
                    let mut m = self.map_type_depth(file, under, depth + 1)?;
                    m.named = Some(name);
                    Some(m)
                }
                "parenthesized_type" => self.map_type_depth(fi, ty.named_child(0)?, depth + 1),
                _ => None,
            }
        }

        /// The map type an initializer evidently has: `make(T, ...)` or `T{...}`.
        pub(crate) fn map_type_of_value(&self, fi: usize, value: Node<'p>) -> Option<MapType<'p>> {
            let value = unparen(value);
            match value.kind() {
                "composite_literal" => self.map_type(fi, value.child_by_field_name("type")?),
                "call_expression" if self.is_builtin_call(fi, value, "make") => {
                    let first = *syntax::call_args(value).first()?;
                    self.map_type(fi, first)
                }
                _ => None,
            }
        }

        /// The map type of a package-level variable, from its declared type or initializer.
        pub(crate) fn global_map_type(&self, g: &GlobalVar<'p>) -> Option<MapType<'p>> {
            match (g.ty, g.value) {
                (Some(t), _) => self.map_type(g.file, t),
                (None, Some(v)) => self.map_type_of_value(g.file, v),
                (None, None) => None,
            }
        }

        /// The file index holding a node of one of the indexed trees.
        pub(crate) fn file_of(&self, node: Node<'_>) -> Option<usize> {
            let root = std::iter::successors(Some(node), |n| n.parent()).last()?;
            self.files
                .iter()
                .position(|f| f.tree.root_node().id() == root.id())
        }

        /// Whether a key type can only take a few values: `bool`, 8-bit integers, an
        /// enum-like package type (an integer type with typed constants) or
        /// `reflect.Type` (one entry per type in the program).
        pub(crate) fn is_bounded_key_type(&self, fi: usize, ty: Node<'_>) -> bool {
            let text = self.text(fi, ty);
            if matches!(text, "bool" | "byte" | "uint8" | "int8" | "reflect.Type") {
                return true;
            }
            if ty.kind() != "type_identifier" || !self.const_types.contains(text) {
                return false;
            }
            self.types
                .get(text)
                .and_then(|spec| spec.child_by_field_name("type"))
                .is_some_and(|u| {
                    let file = self.file_of(u).unwrap_or(fi);
                    matches!(
                        self.text(file, u),
                        "int"
                            | "int8"
                            | "int16"
                            | "int32"
                            | "int64"
                            | "uint"
                            | "uint8"
                            | "uint16"
                            | "uint32"
                            | "uint64"
                            | "byte"
                            | "string"
                            | "bool"
                    )
                })
        }

        /// The uses of the package-level name `name` in the program files: identifiers
        /// that resolve to the package level, except the declaration itself.
        pub(crate) fn global_uses(&self, name: &str) -> Vec<Use<'p>> {
            let Some(g) = self.vars.get(name) else {
                return Vec::new();
            };
            self.idents
                .get(name)
                .into_iter()
                .flatten()
                .filter(|(_, n)| n.id() != g.name.id())
                .filter(|(fi, n)| {
                    is_reference(*n) && matches!(binding(*n, self.src(*fi)), Binding::Package)
                })
                .map(|&(fi, n)| self.classify(fi, n))
                .collect()
        }

        /// What the code does with the container expression `expr` (an identifier, a
        /// selector or an address-of).
        pub(crate) fn classify(&self, fi: usize, expr: Node<'p>) -> Use<'p> {
            let mut node = expr;
            while let Some(p) = node.parent() {
                let wraps = p.kind() == "parenthesized_expression"
                    || (p.kind() == "unary_expression"
                        && p.child_by_field_name("operator")
                            .is_some_and(|o| self.text(fi, o) == "&"));
                if !wraps {
                    break;
                }
                node = p;
            }
            let kind = self.use_kind(fi, node);
            Use {
                file: fi,
                node,
                kind,
            }
        }

        fn use_kind(&self, fi: usize, node: Node<'p>) -> UseKind<'p> {
            let Some(p) = node.parent() else {
                return UseKind::Other;
            };
            match p.kind() {
                "index_expression" if p.child_by_field_name("operand") == Some(node) => {
                    if let Some(stmt) = write_statement(p) {
                        UseKind::Write { index: p, stmt }
                    } else {
                        UseKind::Read { index: p }
                    }
                }
                "argument_list" => {
                    let Some(call) = p.parent() else {
                        return UseKind::Other;
                    };
                    let args = syntax::call_args(call);
                    let pos = args.iter().position(|a| *a == node).unwrap_or(usize::MAX);
                    let f = call.child_by_field_name("function");
                    if pos == 0 && self.is_builtin_call(fi, call, "delete") {
                        UseKind::Delete { call }
                    } else if pos == 0 && self.is_builtin_call(fi, call, "clear") {
                        UseKind::Clear
                    } else if pos == 0 && self.is_builtin_call(fi, call, "len") {
                        UseKind::Len { call }
                    } else if pos == 0
                        && f.is_some_and(|f| self.is_qualified(fi, f, "maps", "DeleteFunc"))
                    {
                        UseKind::DeleteFunc
                    } else if pos == 0
                        && f.is_some_and(|f| self.is_qualified(fi, f, "maps", "Copy"))
                    {
                        UseKind::Write {
                            index: call,
                            stmt: syntax::statement_of(call),
                        }
                    } else {
                        UseKind::Arg
                    }
                }
                "range_clause" if p.child_by_field_name("right") == Some(node) => UseKind::Range,
                "expression_list" => {
                    let Some(stmt) = p.parent() else {
                        return UseKind::Other;
                    };
                    if stmt.kind() == "assignment_statement"
                        && stmt.child_by_field_name("left") == Some(p)
                    {
                        UseKind::Reassign { stmt }
                    } else {
                        UseKind::Other
                    }
                }
                "selector_expression" if p.child_by_field_name("operand") == Some(node) => {
                    match p.parent() {
                        Some(call)
                            if call.kind() == "call_expression"
                                && call.child_by_field_name("function") == Some(p) =>
                        {
                            UseKind::Method
                        }
                        _ => UseKind::Other,
                    }
                }
                _ => UseKind::Other,
            }
        }

        /// What a container expression refers to, following a local alias back to its
        /// definition (`m := s.items`).
        pub(crate) fn resolve(&self, fi: usize, expr: Node<'p>) -> Option<Target> {
            self.resolve_depth(fi, expr, 0)
        }

        fn resolve_depth(&self, fi: usize, expr: Node<'p>, depth: u32) -> Option<Target> {
            let expr = unparen(expr);
            match expr.kind() {
                "unary_expression" => {
                    let op = expr.child_by_field_name("operator")?;
                    if matches!(self.text(fi, op), "&" | "*") {
                        self.resolve_depth(fi, expr.child_by_field_name("operand")?, depth)
                    } else {
                        None
                    }
                }
                "identifier" => {
                    let name = self.text(fi, expr);
                    match binding(expr, self.src(fi)) {
                        Binding::Package => self
                            .vars
                            .contains_key(name)
                            .then(|| Target::Global(name.to_string())),
                        Binding::Param { func, index } => Some(Target::Param {
                            file: fi,
                            func: func.start_byte(),
                            index,
                        }),
                        Binding::Local { decl } => {
                            if depth < MAX_DEPTH {
                                if let Some(v) = declared_value(decl, name, self.src(fi)) {
                                    if let Some(t) = self.resolve_depth(fi, v, depth + 1) {
                                        return Some(t);
                                    }
                                }
                            }
                            Some(Target::Local {
                                file: fi,
                                decl: decl.start_byte(),
                                name: name.to_string(),
                            })
                        }
                        Binding::Receiver { .. } | Binding::Result { .. } => None,
                    }
                }
                "selector_expression" => {
                    let operand = expr.child_by_field_name("operand")?;
                    let field = expr.child_by_field_name("field")?;
                    if operand.kind() == "identifier" && self.is_import(fi, self.text(fi, operand))
                    {
                        return None;
                    }
                    Some(Target::Field {
                        ty: self.receiver_type_of(fi, operand),
                        name: self.text(fi, field).to_string(),
                    })
                }
                _ => None,
            }
        }

        /// The base type name when `operand` is the receiver of the enclosing method.
        pub(crate) fn receiver_type_of(&self, fi: usize, operand: Node<'_>) -> Option<String> {
            let operand = unparen(operand);
            if operand.kind() != "identifier" {
                return None;
            }
            let src = self.src(fi);
            match binding(operand, src) {
                Binding::Receiver { func } => receiver_type(func, src).map(|(t, _)| t.to_string()),
                Binding::Local { .. } | Binding::Param { .. } => {
                    let b = flow::resolve(operand, self.text(fi, operand), src)?;
                    self.value_type(fi, &b)
                }
                _ => None,
            }
        }

        /// The package's struct type a local or parameter holds, when evident: declared
        /// (`var b *budget`, `b *budget`), initialized with a literal (`b := &budget{}`),
        /// or looked up in a map field of such values (`b, ok := p.budgets[id]`).
        fn value_type(&self, fi: usize, b: &flow::Binding<'p>) -> Option<String> {
            let src = self.src(fi);
            let known = |t: String| self.types.contains_key(t.as_str()).then_some(t);
            if let Some(t) = crate::rules::parts::declared_type(b, src) {
                return known(t);
            }
            let v = unparen(b.value?);
            if b.kind != BindKind::ShortVar || b.index != 0 || v.kind() != "index_expression" {
                return None;
            }
            let operand = unparen(v.child_by_field_name("operand")?);
            if operand.kind() != "selector_expression" {
                return None;
            }
            let field = self.text(fi, operand.child_by_field_name("field")?);
            let ty = flow::field_type_in(self.files.iter().copied(), field)?;
            known(flow::map_value_type(&ty)?.to_string())
        }

        /// Every shrinking operation in the program files: `delete`, `clear`,
        /// `maps.DeleteFunc`, the removing methods of `sync.Map`, and calls of helpers
        /// that do one of those to a parameter, with what they shrink.
        pub(crate) fn shrinks(&self) -> Vec<Shrink<'p>> {
            let mut out: Vec<Shrink<'p>> = Vec::new();
            for fi in 0..self.files.len() {
                let root = self.files[fi].tree.root_node();
                for call in syntax::descendants_of_kind(root, "call_expression") {
                    let Some(f) = call.child_by_field_name("function") else {
                        continue;
                    };
                    let first = syntax::call_args(call).first().copied();
                    let (kind, operand) = if self.is_builtin_call(fi, call, "delete") {
                        (ShrinkKind::Delete, first)
                    } else if self.is_builtin_call(fi, call, "clear") {
                        (ShrinkKind::Clear, first)
                    } else if self.is_qualified(fi, f, "maps", "DeleteFunc") {
                        (ShrinkKind::DeleteFunc, first)
                    } else {
                        let f = unparen(f);
                        let method = (f.kind() == "selector_expression")
                            .then(|| f.child_by_field_name("field"))
                            .flatten()
                            .map(|n| self.text(fi, n));
                        match method {
                            Some("Delete" | "LoadAndDelete" | "CompareAndDelete") => {
                                (ShrinkKind::Delete, f.child_by_field_name("operand"))
                            }
                            Some("Clear") => (ShrinkKind::Clear, f.child_by_field_name("operand")),
                            _ => continue,
                        }
                    };
                    let Some(target) = operand.and_then(|o| self.resolve(fi, o)) else {
                        continue;
                    };
                    let drain = match kind {
                        ShrinkKind::Delete => self.in_range_over(fi, call, &target),
                        _ => true,
                    };
                    out.push(Shrink {
                        file: fi,
                        call,
                        kind,
                        target,
                        drain,
                    });
                }
            }
            // Helpers: a call passing a container where the callee shrinks that parameter.
            for _ in 0..3 {
                let helpers: HashMap<(usize, usize, usize), bool> = out
                    .iter()
                    .filter_map(|s| match s.target {
                        Target::Param { file, func, index } => Some(((file, func, index), s.drain)),
                        _ => None,
                    })
                    .fold(HashMap::new(), |mut m, (k, d)| {
                        *m.entry(k).or_insert(false) |= d;
                        m
                    });
                if helpers.is_empty() {
                    break;
                }
                let mut added = Vec::new();
                for fi in 0..self.files.len() {
                    let root = self.files[fi].tree.root_node();
                    for call in syntax::descendants_of_kind(root, "call_expression") {
                        for (cf, cnode) in self.callees(fi, call) {
                            for (pos, arg) in syntax::call_args(call).into_iter().enumerate() {
                                let Some(&drain) = helpers.get(&(cf, cnode.start_byte(), pos))
                                else {
                                    continue;
                                };
                                let Some(target) = self.resolve(fi, arg) else {
                                    continue;
                                };
                                let known = out.iter().chain(added.iter()).any(|s: &Shrink<'p>| {
                                    s.call.id() == call.id() && s.target == target
                                });
                                if !known {
                                    added.push(Shrink {
                                        file: fi,
                                        call,
                                        kind: ShrinkKind::Helper,
                                        target,
                                        drain,
                                    });
                                }
                            }
                        }
                    }
                }
                if added.is_empty() {
                    break;
                }
                out.extend(added);
            }
            out
        }

        /// The package functions or methods a call may call: a package-level function by
        /// name, or every method of that name for `x.m(...)` (types are not known).
        pub(crate) fn callees(&self, fi: usize, call: Node<'_>) -> Vec<(usize, Node<'p>)> {
            let Some(f) = call.child_by_field_name("function").map(unparen) else {
                return Vec::new();
            };
            match f.kind() {
                "identifier" => {
                    if !matches!(binding(f, self.src(fi)), Binding::Package) {
                        return Vec::new();
                    }
                    self.funcs
                        .get(self.text(fi, f))
                        .cloned()
                        .unwrap_or_default()
                }
                "selector_expression" => {
                    let (Some(op), Some(field)) = (
                        f.child_by_field_name("operand"),
                        f.child_by_field_name("field"),
                    ) else {
                        return Vec::new();
                    };
                    if op.kind() == "identifier" && self.is_import(fi, self.text(fi, op)) {
                        return Vec::new();
                    }
                    self.methods
                        .get(self.text(fi, field))
                        .cloned()
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            }
        }

        /// Whether the code at `node` runs once at start-up: a package-level initializer,
        /// `init`, the body of `sync.Once.Do` or `sync.OnceFunc`/`OnceValue(s)`, `main` of
        /// package main outside a loop that repeats (`for {}`, `for cond {}`, a range over
        /// a channel), or an unexported function called only from such places.
        pub(crate) fn runs_once(&self, fi: usize, node: Node<'_>) -> bool {
            if self.runs_once_direct(fi, node) {
                return true;
            }
            let Some(f) = syntax::enclosing_function(node) else {
                return true;
            };
            if f.kind() != "function_declaration" {
                return false;
            }
            let Some(name) = syntax::function_name(f, self.src(fi)) else {
                return false;
            };
            if name.starts_with(|c: char| c.is_uppercase()) || name == "_" {
                return false;
            }
            let mut refs = self
                .idents
                .get(name)
                .into_iter()
                .flatten()
                .filter(|(rf, n)| {
                    Some(*n) != f.child_by_field_name("name")
                        && matches!(binding(*n, self.src(*rf)), Binding::Package)
                })
                .peekable();
            if refs.peek().is_none() {
                return false;
            }
            refs.all(|&(rf, n)| self.called_once(rf, n))
        }

        /// Whether the reference `n` to a function is a call in start-up code, or hands the
        /// function to `once.Do` or `sync.OnceFunc`/`OnceValue(s)`.
        fn called_once(&self, fi: usize, n: Node<'_>) -> bool {
            let Some(p) = n.parent() else {
                return false;
            };
            if p.kind() == "call_expression" && p.child_by_field_name("function") == Some(n) {
                return self.runs_once_direct(fi, p);
            }
            p.kind() == "argument_list"
                && p.parent().is_some_and(|call| self.is_once_call(fi, call))
        }

        /// Whether a call is `x.Do(f)` on something named like a `sync.Once`, or
        /// `sync.OnceFunc`/`OnceValue`/`OnceValues`.
        fn is_once_call(&self, fi: usize, call: Node<'_>) -> bool {
            let src = self.src(fi);
            let Some(callee) = call.child_by_field_name("function").map(unparen) else {
                return false;
            };
            let is_once_do = callee.kind() == "selector_expression"
                && callee
                    .child_by_field_name("field")
                    .is_some_and(|n| syntax::text(n, src) == "Do")
                && callee
                    .child_by_field_name("operand")
                    .is_some_and(|o| syntax::text(o, src).to_ascii_lowercase().contains("once"));
            is_once_do
                || ["OnceFunc", "OnceValue", "OnceValues"]
                    .iter()
                    .any(|n| self.is_qualified(fi, callee, "sync", n))
        }

        fn runs_once_direct(&self, fi: usize, node: Node<'_>) -> bool {
            let src = self.src(fi);
            let Some(f) = syntax::enclosing_function(node) else {
                return true;
            };
            match f.kind() {
                "function_declaration" => match syntax::function_name(f, src) {
                    Some("init") => true,
                    Some("main") if self.package_name == "main" => !in_repeating_loop(node, src),
                    _ => false,
                },
                "func_literal" => {
                    // A literal called where it is written runs when its caller does; one
                    // started as a goroutine also repeats when it loops.
                    if let Some(call) = f.parent().filter(|p| {
                        p.kind() == "call_expression"
                            && p.child_by_field_name("function") == Some(f)
                    }) {
                        let goroutine = call.parent().is_some_and(|g| g.kind() == "go_statement");
                        return self.runs_once_direct(fi, call)
                            && !(goroutine && syntax::enclosing_loop(node).is_some());
                    }
                    // The argument of once.Do(...) or sync.OnceFunc(...).
                    if let Some(call) = f
                        .parent()
                        .filter(|p| p.kind() == "argument_list")
                        .and_then(|p| p.parent())
                    {
                        return self.is_once_call(fi, call);
                    }
                    // A helper literal held by a local (`f := func(...) {...}`) and only
                    // called in start-up code.
                    let Some(decl) = f
                        .parent()
                        .filter(|p| p.kind() == "expression_list")
                        .and_then(|p| p.parent())
                        .filter(|d| d.kind() == "short_var_declaration")
                    else {
                        return false;
                    };
                    let lhs = decl
                        .child_by_field_name("left")
                        .map(list_items)
                        .unwrap_or_default();
                    let rhs = decl
                        .child_by_field_name("right")
                        .map(list_items)
                        .unwrap_or_default();
                    let Some(name) = rhs
                        .iter()
                        .position(|r| r.id() == f.id())
                        .and_then(|i| lhs.get(i))
                        .map(|n| syntax::text(*n, src))
                    else {
                        return false;
                    };
                    let Some(scope) = syntax::enclosing_function(decl) else {
                        return false;
                    };
                    let mut refs = syntax::descendants_of_kind(scope, "identifier")
                        .filter(|id| {
                            syntax::text(*id, src) == name
                                && is_reference(*id)
                                && matches!(binding(*id, src), Binding::Local { decl: d } if d.id() == decl.id())
                        })
                        .peekable();
                    refs.peek().is_some()
                        && refs.all(|id| {
                            id.parent().is_some_and(|p| {
                                p.kind() == "call_expression"
                                    && p.child_by_field_name("function") == Some(id)
                                    && self.runs_once_direct(fi, p)
                            })
                        })
                }
                _ => false,
            }
        }

        /// Whether `node` is inside a `for ... range` over `target` in its function.
        pub(crate) fn in_range_over(&self, fi: usize, node: Node<'p>, target: &Target) -> bool {
            syntax::ancestors(node)
                .take_while(|a| !syntax::is_function(a.kind()))
                .filter(|a| a.kind() == "for_statement")
                .any(|f| {
                    named(f).into_iter().any(|c| {
                        c.kind() == "range_clause"
                            && c.child_by_field_name("right")
                                .and_then(|r| self.resolve(fi, r))
                                .is_some_and(|t| t.same(target))
                    })
                })
        }

        /// Whether an assignment to `target` (a package-level name or a field) resets it
        /// while the program runs: not start-up code, not a constructor filling a value it
        /// just made (the assigned-to operand is a local), and not a lazy
        /// `if x.f == nil { x.f = ... }`.
        pub(crate) fn resets(&self, target: &Target) -> Vec<(usize, Node<'p>)> {
            let mut out = Vec::new();
            for (fi, f) in self.files.iter().enumerate() {
                for stmt in syntax::descendants_of_kind(f.tree.root_node(), "assignment_statement")
                {
                    let plain = stmt
                        .child_by_field_name("operator")
                        .is_some_and(|o| self.text(fi, o) == "=");
                    if !plain {
                        continue;
                    }
                    let lhs = stmt
                        .child_by_field_name("left")
                        .map(list_items)
                        .unwrap_or_default();
                    let rhs = stmt
                        .child_by_field_name("right")
                        .map(list_items)
                        .unwrap_or_default();
                    for (i, l) in lhs.into_iter().enumerate() {
                        let l = unparen(l);
                        let l = if l.kind() == "unary_expression" {
                            l.child_by_field_name("operand").map(unparen).unwrap_or(l)
                        } else {
                            l
                        };
                        let direct = match l.kind() {
                            "identifier" => matches!(binding(l, self.src(fi)), Binding::Package),
                            "selector_expression" => true,
                            _ => false,
                        };
                        if !direct || !self.resolve(fi, l).is_some_and(|t| t.same(target)) {
                            continue;
                        }
                        // `x = append(x, ...)` grows it.
                        let grows = rhs.get(i).is_some_and(|r| {
                            let r = unparen(*r);
                            self.is_builtin_call(fi, r, "append")
                                && syntax::call_args(r)
                                    .first()
                                    .and_then(|a| self.resolve(fi, *a))
                                    .is_some_and(|t| t.same(target))
                        });
                        if grows {
                            continue;
                        }
                        if self.runs_once(fi, stmt)
                            || self.is_lazy_init(fi, stmt, l)
                            || self.initializes_fresh(fi, stmt)
                        {
                            continue;
                        }
                        if l.kind() == "selector_expression" {
                            let mut root = l;
                            while let Some(o) = root.child_by_field_name("operand") {
                                root = unparen(o);
                            }
                            let local = root.kind() == "identifier"
                                && matches!(binding(root, self.src(fi)), Binding::Local { .. });
                            if local {
                                continue;
                            }
                        }
                        out.push((fi, stmt));
                    }
                }
            }
            out
        }

        /// Whether `stmt` sits in a method that every caller calls on an object it has
        /// just made (`v := &HistogramVec{...}; v.init(...)`): it initializes the
        /// container, it does not empty a used one.
        fn initializes_fresh(&self, fi: usize, stmt: Node<'_>) -> bool {
            let Some(method) =
                syntax::enclosing_function(stmt).filter(|f| f.kind() == "method_declaration")
            else {
                return false;
            };
            let Some(name) = syntax::function_name(method, self.src(fi)) else {
                return false;
            };
            let mut calls = 0;
            for (cf, f) in self.files.iter().enumerate() {
                for call in syntax::descendants_of_kind(f.tree.root_node(), "call_expression") {
                    let Some(callee) = call
                        .child_by_field_name("function")
                        .map(unparen)
                        .filter(|c| c.kind() == "selector_expression")
                    else {
                        continue;
                    };
                    if callee
                        .child_by_field_name("field")
                        .is_none_or(|n| self.text(cf, n) != name)
                    {
                        continue;
                    }
                    calls += 1;
                    let fresh = callee
                        .child_by_field_name("operand")
                        .map(unparen)
                        .filter(|o| o.kind() == "identifier")
                        .and_then(|o| match binding(o, self.src(cf)) {
                            Binding::Local { decl } => {
                                declared_value(decl, self.text(cf, o), self.src(cf))
                            }
                            _ => None,
                        })
                        .map(unparen)
                        .is_some_and(|v| {
                            let v = match v.kind() {
                                "unary_expression" => {
                                    v.child_by_field_name("operand").map(unparen).unwrap_or(v)
                                }
                                _ => v,
                            };
                            v.kind() == "composite_literal" || self.is_builtin_call(cf, v, "new")
                        });
                    if !fresh {
                        return false;
                    }
                }
            }
            calls > 0
        }

        /// Whether `stmt` assigning `lhs` sits in `if lhs == nil { ... }`.
        fn is_lazy_init(&self, fi: usize, stmt: Node<'_>, lhs: Node<'_>) -> bool {
            let want = self.text(fi, lhs);
            syntax::ancestors(stmt)
                .take_while(|a| !syntax::is_function(a.kind()))
                .filter(|a| a.kind() == "if_statement")
                .any(|i| {
                    i.child_by_field_name("condition").is_some_and(|c| {
                        syntax::descendants_of_kind(c, "binary_expression").any(|b| {
                            let op = b.child_by_field_name("operator").map(|o| self.text(fi, o));
                            let sides: Vec<&str> = ["left", "right"]
                                .iter()
                                .filter_map(|s| b.child_by_field_name(s))
                                .map(|n| self.text(fi, n))
                                .collect();
                            op == Some("==") && sides.contains(&"nil") && sides.contains(&want)
                        })
                    })
                })
        }

        /// Whether values of the package's struct type `ty` are request-scoped: the type
        /// has no `sync` or `atomic` field (shared state), no package-level variable
        /// holds one, and every value made in the package (`T{}`, `&T{}`, `new(T)`,
        /// `var x T`, directly or through a constructor) stays local to the function that
        /// made it. A type made nowhere in the package is made by its importers and
        /// counts as long-lived.
        pub(crate) fn request_scoped(&self, ty: &str) -> bool {
            let Some(spec) = self.types.get(ty).copied() else {
                return false;
            };
            if self.file_of(spec).is_none() || self.shared_state_field(ty).is_some() {
                return false;
            }
            let held_globally = self.vars.values().any(|g| {
                g.ty.is_some_and(|t| mentions_type(self.text(g.file, t), ty))
                    || g.value.is_some_and(|v| self.makes_type(g.file, v, ty))
            });
            if held_globally {
                return false;
            }
            let sites = self.creation_sites(ty);
            !sites.is_empty()
                && sites
                    .iter()
                    .all(|&(fi, site)| !self.escapes(fi, site, true))
        }

        /// A field of the struct type `ty` of a `sync` or `sync/atomic` type (its text,
        /// e.g. `mu sync.Mutex`): values of the type are shared between goroutines, so
        /// they outlive a request.
        pub(crate) fn shared_state_field(&self, ty: &str) -> Option<String> {
            let spec = self.types.get(ty).copied()?;
            let sf = self.file_of(spec)?;
            let st = spec.child_by_field_name("type")?;
            syntax::descendants_of_kind(st, "field_declaration")
                .find(|f| {
                    f.child_by_field_name("type").is_some_and(|t| {
                        let t = self.text(sf, t).trim_start_matches('*');
                        t.starts_with("sync.") || t.starts_with("atomic.")
                    })
                })
                .map(|f| {
                    self.text(sf, f)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        }

        /// The package-level variables holding a value of the struct type `ty`.
        pub(crate) fn holders_of(&self, ty: &str) -> Vec<&'p str> {
            let mut out: Vec<&'p str> = self
                .vars
                .iter()
                .filter(|(_, g)| {
                    g.ty.is_some_and(|t| mentions_type(self.text(g.file, t), ty))
                        || g.value.is_some_and(|v| self.makes_type(g.file, v, ty))
                })
                .map(|(n, _)| *n)
                .collect();
            out.sort_unstable();
            out
        }

        /// Whether an expression makes a value of `ty` (or calls a package function whose
        /// result type names it).
        fn makes_type(&self, fi: usize, value: Node<'_>, ty: &str) -> bool {
            syntax::descendants(value).any(|n| match n.kind() {
                "composite_literal" => n
                    .child_by_field_name("type")
                    .is_some_and(|t| mentions_type(self.text(fi, t), ty)),
                "call_expression" => {
                    let callee = n.child_by_field_name("function").map(unparen);
                    let is_new = self.is_builtin_call(fi, n, "new")
                        && syntax::call_args(n)
                            .first()
                            .is_some_and(|a| mentions_type(self.text(fi, *a), ty));
                    is_new
                        || callee.is_some_and(|c| {
                            c.kind() == "identifier"
                                && self.funcs.get(self.text(fi, c)).is_some_and(|fs| {
                                    fs.iter().any(|(ff, d)| {
                                        d.child_by_field_name("result")
                                            .is_some_and(|r| mentions_type(self.text(*ff, r), ty))
                                    })
                                })
                        })
                }
                _ => false,
            })
        }

        /// The expressions that make values of `ty` inside functions, and local `var x T`.
        fn creation_sites(&self, ty: &str) -> Vec<(usize, Node<'p>)> {
            let mut out = Vec::new();
            for (fi, f) in self.files.iter().enumerate() {
                for n in syntax::descendants(f.tree.root_node()) {
                    let site = match n.kind() {
                        "composite_literal" => n
                            .child_by_field_name("type")
                            .filter(|t| generic_base(self.text(fi, *t)) == ty)
                            .map(|_| {
                                n.parent()
                                    .filter(|p| {
                                        p.kind() == "unary_expression"
                                            && p.child_by_field_name("operator")
                                                .is_some_and(|o| self.text(fi, o) == "&")
                                    })
                                    .unwrap_or(n)
                            }),
                        "call_expression"
                            if self.is_builtin_call(fi, n, "new")
                                && syntax::call_args(n)
                                    .first()
                                    .is_some_and(|a| self.text(fi, *a) == ty) =>
                        {
                            Some(n)
                        }
                        "var_spec"
                            if syntax::enclosing_function(n).is_some()
                                && n.child_by_field_name("type")
                                    .is_some_and(|t| self.text(fi, t) == ty) =>
                        {
                            Some(n)
                        }
                        _ => None,
                    };
                    if let Some(site) = site {
                        out.push((fi, site));
                    }
                }
            }
            out
        }

        /// Whether a value made at `site` can outlive the function making it: returned
        /// (unless from a constructor whose every caller keeps it local, when
        /// `follow_constructor`), stored into a field, map, slice, package variable or
        /// another composite value, sent on a channel, or used by a goroutine.
        fn escapes(&self, fi: usize, site: Node<'p>, follow_constructor: bool) -> bool {
            let src = self.src(fi);
            if site.kind() == "var_spec" {
                let names = field_nodes(site, "name");
                return names.iter().any(|n| {
                    self.local_escapes(fi, site, syntax::text(*n, src), follow_constructor)
                });
            }
            let Some(func) = syntax::enclosing_function(site) else {
                return true;
            };
            let mut node = site;
            while let Some(p) = node.parent() {
                if p.kind() == "parenthesized_expression" {
                    node = p;
                    continue;
                }
                break;
            }
            let Some(p) = node.parent() else {
                return true;
            };
            match p.kind() {
                "expression_list" => {
                    let Some(stmt) = p.parent() else {
                        return true;
                    };
                    match stmt.kind() {
                        "return_statement" => {
                            if !follow_constructor || func.kind() != "function_declaration" {
                                return true;
                            }
                            self.constructor_result_escapes(fi, func)
                        }
                        "short_var_declaration" | "assignment_statement" => {
                            let lhs = stmt
                                .child_by_field_name("left")
                                .map(list_items)
                                .unwrap_or_default();
                            let rhs = list_items(p);
                            let Some(i) = rhs.iter().position(|r| *r == node) else {
                                return true;
                            };
                            let Some(l) = lhs.get(i).map(|l| unparen(*l)) else {
                                return true;
                            };
                            if l.kind() != "identifier" {
                                return true;
                            }
                            let name = syntax::text(l, src);
                            if stmt.kind() == "short_var_declaration" {
                                return self.local_escapes(fi, stmt, name, follow_constructor);
                            }
                            match binding(l, src) {
                                Binding::Local { decl } => {
                                    self.local_escapes(fi, decl, name, follow_constructor)
                                }
                                _ => true,
                            }
                        }
                        "var_spec" => self.local_escapes(
                            fi,
                            stmt,
                            {
                                let i = list_items(p).iter().position(|r| *r == node).unwrap_or(0);
                                field_nodes(stmt, "name")
                                    .get(i)
                                    .map(|n| syntax::text(*n, src))
                                    .unwrap_or("")
                            },
                            follow_constructor,
                        ),
                        _ => true,
                    }
                }
                "argument_list" => p
                    .parent()
                    .is_some_and(|c| self.is_builtin_call(fi, c, "append")),
                "return_statement" => {
                    !follow_constructor
                        || func.kind() != "function_declaration"
                        || self.constructor_result_escapes(fi, func)
                }
                "send_statement" | "literal_element" | "keyed_element" => true,
                _ => false,
            }
        }

        /// Whether the results of a constructor escape at any of its call sites (or it
        /// has none in the package).
        fn constructor_result_escapes(&self, fi: usize, func: Node<'p>) -> bool {
            let Some(name) = syntax::function_name(func, self.src(fi)) else {
                return true;
            };
            let calls: Vec<(usize, Node<'p>)> = self
                .idents
                .get(name)
                .into_iter()
                .flatten()
                .filter(|(_, n)| Some(*n) != func.child_by_field_name("name"))
                .filter_map(|&(rf, n)| {
                    n.parent()
                        .filter(|p| {
                            p.kind() == "call_expression"
                                && p.child_by_field_name("function") == Some(n)
                        })
                        .map(|c| (rf, c))
                })
                .collect();
            calls.is_empty() || calls.iter().any(|&(rf, c)| self.escapes(rf, c, false))
        }

        /// Whether the local `name` declared by `decl` escapes its function.
        fn local_escapes(&self, fi: usize, decl: Node<'p>, name: &str, follow: bool) -> bool {
            let src = self.src(fi);
            let Some(func) = syntax::enclosing_function(decl) else {
                return true;
            };
            for id in syntax::descendants_of_kind(func, "identifier") {
                if syntax::text(id, src) != name || !is_reference(id) {
                    continue;
                }
                let same =
                    matches!(binding(id, src), Binding::Local { decl: d } if d.id() == decl.id());
                if !same {
                    continue;
                }
                // Captured by a goroutine.
                let in_go = syntax::ancestors(id)
                    .take_while(|a| a.id() != func.id())
                    .any(|a| a.kind() == "go_statement");
                if in_go {
                    return true;
                }
                let mut node = id;
                while let Some(p) = node.parent() {
                    let wraps = p.kind() == "parenthesized_expression"
                        || (p.kind() == "unary_expression"
                            && p.child_by_field_name("operator")
                                .is_some_and(|o| syntax::text(o, src) == "&"));
                    if !wraps {
                        break;
                    }
                    node = p;
                }
                let Some(p) = node.parent() else { continue };
                let escapes = match p.kind() {
                    "return_statement" => {
                        !follow
                            || func.kind() != "function_declaration"
                            || self.constructor_result_escapes(fi, func)
                    }
                    "expression_list" => match p.parent() {
                        Some(s) if s.kind() == "return_statement" => {
                            !follow
                                || func.kind() != "function_declaration"
                                || self.constructor_result_escapes(fi, func)
                        }
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
                                l.kind() != "identifier"
                                    || !matches!(binding(l, src), Binding::Local { .. })
                            })
                        }
                        _ => false,
                    },
                    "argument_list" => p.parent().is_some_and(|c| {
                        self.is_builtin_call(fi, c, "append")
                            && syntax::call_args(c).first() != Some(&node)
                    }),
                    "send_statement" | "literal_element" | "keyed_element" => true,
                    _ => false,
                };
                if escapes {
                    return true;
                }
            }
            false
        }

        /// The arguments passed at position `index` to a package function or method at
        /// its call sites in the package (a method only when no other method has its
        /// name, since receivers' types are not known).
        pub(crate) fn call_arguments(
            &self,
            fi: usize,
            func: Node<'p>,
            index: usize,
        ) -> Vec<(usize, Node<'p>)> {
            let Some(name) = syntax::function_name(func, self.src(fi)) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            match func.kind() {
                "function_declaration" => {
                    for &(cf, id) in self.idents.get(name).into_iter().flatten() {
                        let call = id.parent().filter(|p| {
                            p.kind() == "call_expression"
                                && p.child_by_field_name("function") == Some(id)
                        });
                        if let Some(call) = call {
                            if matches!(binding(id, self.src(cf)), Binding::Package) {
                                out.extend(syntax::call_args(call).get(index).map(|a| (cf, *a)));
                            }
                        }
                    }
                }
                "method_declaration" if self.methods.get(name).is_some_and(|m| m.len() == 1) => {
                    for (cf, f) in self.files.iter().enumerate() {
                        for call in
                            syntax::descendants_of_kind(f.tree.root_node(), "call_expression")
                        {
                            let named = call
                                .child_by_field_name("function")
                                .filter(|c| c.kind() == "selector_expression")
                                .and_then(|c| c.child_by_field_name("field"))
                                .is_some_and(|n| self.text(cf, n) == name);
                            if named {
                                out.extend(syntax::call_args(call).get(index).map(|a| (cf, *a)));
                            }
                        }
                    }
                }
                _ => {}
            }
            out
        }

        /// Whether an expression is a compile-time constant: a literal, a package or local
        /// constant, or an operation on constants.
        pub(crate) fn is_constant(&self, fi: usize, expr: Node<'_>) -> bool {
            let expr = unparen(expr);
            match expr.kind() {
                "interpreted_string_literal"
                | "raw_string_literal"
                | "int_literal"
                | "float_literal"
                | "imaginary_literal"
                | "rune_literal"
                | "true"
                | "false"
                | "iota" => true,
                "identifier" => match binding(expr, self.src(fi)) {
                    Binding::Package => self.consts.contains(self.text(fi, expr)),
                    Binding::Local { decl } => decl.kind() == "const_declaration",
                    _ => false,
                },
                "binary_expression" => {
                    expr.child_by_field_name("left")
                        .is_some_and(|l| self.is_constant(fi, l))
                        && expr
                            .child_by_field_name("right")
                            .is_some_and(|r| self.is_constant(fi, r))
                }
                "unary_expression" => expr
                    .child_by_field_name("operand")
                    .is_some_and(|o| self.is_constant(fi, o)),
                _ => false,
            }
        }

        /// Whether a key expression can only take a few values: a constant, or a
        /// `reflect.Type` (`reflect.TypeOf(x)`, `v.Type()` or a `reflect.Type` parameter).
        pub(crate) fn is_bounded_key(&self, fi: usize, key: Node<'_>) -> bool {
            if self.is_constant(fi, key) {
                return true;
            }
            let key = unparen(key);
            match key.kind() {
                "call_expression" => key.child_by_field_name("function").is_some_and(|f| {
                    self.is_qualified(fi, f, "reflect", "TypeOf")
                        || self.is_qualified(fi, f, "reflect", "TypeFor")
                }),
                "identifier" => match binding(key, self.src(fi)) {
                    Binding::Param { func, index } => {
                        param_type(func, index).is_some_and(|t| self.text(fi, t) == "reflect.Type")
                    }
                    Binding::Local { decl } => {
                        declared_value(decl, self.text(fi, key), self.src(fi))
                            .is_some_and(|v| self.is_bounded_key(fi, v))
                    }
                    _ => false,
                },
                _ => false,
            }
        }

        /// Whether the function around `node` compares `len(target)` with something
        /// (`if len(m) >= maxEntries { ... }`): the writer bounds the container itself.
        pub(crate) fn len_guarded(
            &self,
            fi: usize,
            node: Node<'p>,
            target: &Target,
        ) -> Option<Node<'p>> {
            let scope =
                syntax::enclosing_declaration(node).or_else(|| syntax::enclosing_function(node))?;
            syntax::descendants_of_kind(scope, "binary_expression").find(|b| {
                let comparison = b.child_by_field_name("operator").is_some_and(|o| {
                    matches!(self.text(fi, o), "<" | "<=" | ">" | ">=" | "==" | "!=")
                });
                comparison
                    && ["left", "right"].iter().any(|side| {
                        b.child_by_field_name(side).is_some_and(|s| {
                            let s = unparen(s);
                            self.is_builtin_call(fi, s, "len")
                                && syntax::call_args(s)
                                    .first()
                                    .and_then(|a| self.resolve(fi, *a))
                                    .is_some_and(|t| t.same(target))
                        })
                    })
            })
        }

        /// Whether the function around `node` refuses duplicates of `target` by panicking
        /// (`if _, dup := drivers[name]; dup { panic(...) }`): a registry filled by code,
        /// not by traffic.
        pub(crate) fn panics_on_duplicate(
            &self,
            fi: usize,
            node: Node<'_>,
            target: &Target,
        ) -> bool {
            let Some(scope) = syntax::enclosing_function(node) else {
                return false;
            };
            syntax::descendants_of_kind(scope, "if_statement").any(|s| {
                let reads = ["initializer", "condition"].iter().any(|f| {
                    s.child_by_field_name(f).is_some_and(|c| {
                        syntax::descendants_of_kind(c, "index_expression").any(|ix| {
                            ix.child_by_field_name("operand")
                                .and_then(|o| self.resolve(fi, o))
                                .is_some_and(|t| t.same(target))
                        })
                    })
                });
                let panics = s.child_by_field_name("consequence").is_some_and(|b| {
                    syntax::descendants_of_kind(b, "call_expression").any(|c| {
                        self.is_builtin_call(fi, c, "panic")
                            || c.child_by_field_name("function").is_some_and(|f| {
                                ["Fatal", "Fatalf", "Fatalln", "Panic", "Panicf"]
                                    .iter()
                                    .any(|n| self.is_qualified(fi, f, "log", n))
                            })
                    })
                });
                reads && panics
            })
        }

        /// The allocation sites of a value stored into a container: composite literals,
        /// `make`/`new`, conversions and calls at their own lines, the body of a package
        /// function the value comes from, and for a local variable every value assigned to
        /// it (and to its fields) in the function.
        pub(crate) fn alloc_sites(&self, fi: usize, value: Node<'p>, out: &mut Vec<Location>) {
            let mut seen = HashSet::new();
            self.alloc_depth(fi, value, out, 0, &mut seen);
        }

        fn alloc_depth(
            &self,
            fi: usize,
            value: Node<'p>,
            out: &mut Vec<Location>,
            depth: u32,
            seen: &mut HashSet<usize>,
        ) {
            if depth > MAX_DEPTH || !seen.insert(value.id()) {
                return;
            }
            let value = unparen(value);
            match value.kind() {
                "composite_literal" => {
                    out.push(self.location(fi, value));
                    for v in element_values(value) {
                        self.alloc_depth(fi, v, out, depth + 1, seen);
                    }
                }
                "unary_expression" => {
                    if let Some(o) = value.child_by_field_name("operand") {
                        // `&T{...}` is one allocation: its literal is no step further.
                        let literal = unparen(o).kind() == "composite_literal";
                        if literal {
                            out.push(self.location(fi, value));
                        }
                        self.alloc_depth(fi, o, out, depth + u32::from(!literal), seen);
                    }
                }
                "call_expression" => {
                    out.push(self.location(fi, value));
                    if self.is_builtin_call(fi, value, "append") {
                        // The slice grown, and the values appended: what they keep is
                        // kept by the slice (`sb.containers = append(sb.containers, cs)`).
                        for arg in syntax::call_args(value) {
                            self.alloc_depth(fi, arg, out, depth + 1, seen);
                        }
                        return;
                    }
                    let Some(f) = value.child_by_field_name("function").map(unparen) else {
                        return;
                    };
                    if f.kind() == "identifier"
                        && matches!(binding(f, self.src(fi)), Binding::Package)
                    {
                        for (cf, decl) in self.funcs.get(self.text(fi, f)).into_iter().flatten() {
                            if let Some(body) = decl.child_by_field_name("body") {
                                out.push(self.location(*cf, body));
                                // Parts the constructor builds by calls
                                // (`&Lobby{chat: NewChatLog()}`) allocate in their own
                                // bodies.
                                for lit in syntax::descendants_of_kind(body, "composite_literal") {
                                    for v in element_values(lit) {
                                        if unparen(v).kind() == "call_expression" {
                                            self.alloc_depth(*cf, v, out, depth + 1, seen);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                "binary_expression" | "slice_expression" | "type_conversion_expression" => {
                    out.push(self.location(fi, value));
                }
                "type_assertion_expression" => {
                    if let Some(o) = value.child_by_field_name("operand") {
                        self.alloc_depth(fi, o, out, depth + 1, seen);
                    }
                }
                "identifier" => {
                    let name = self.text(fi, value);
                    let bound = binding(value, self.src(fi));
                    let scope = match bound {
                        Binding::Local { decl } => {
                            if let Some(v) = declared_value(decl, name, self.src(fi)) {
                                self.alloc_depth(fi, v, out, depth + 1, seen);
                            }
                            // An element of a ranged collection comes from the collection.
                            if decl.kind() == "range_clause" {
                                if let Some(over) = decl.child_by_field_name("right") {
                                    self.alloc_depth(fi, over, out, depth + 1, seen);
                                }
                            }
                            syntax::enclosing_function(decl)
                        }
                        // A named result is made by what the function assigns to it.
                        Binding::Result { func } => Some(func),
                        Binding::Param { func, index } if depth <= 2 => {
                            // A parameter's value is made by the callers in the package.
                            for (cf, arg) in self.call_arguments(fi, func, index) {
                                self.alloc_depth(cf, arg, out, depth + 1, seen);
                            }
                            return;
                        }
                        _ => return,
                    };
                    let Some(scope) = scope else {
                        return;
                    };
                    let declared_by = |b: Binding<'_>| match (b, bound) {
                        (Binding::Local { decl: d }, Binding::Local { decl }) => {
                            d.id() == decl.id()
                        }
                        (Binding::Result { func: f }, Binding::Result { func }) => {
                            f.id() == func.id()
                        }
                        _ => false,
                    };
                    // Later assignments to the variable or to its fields.
                    for stmt in syntax::descendants_of_kind(scope, "assignment_statement") {
                        let lhs = stmt
                            .child_by_field_name("left")
                            .map(list_items)
                            .unwrap_or_default();
                        let rhs = stmt
                            .child_by_field_name("right")
                            .map(list_items)
                            .unwrap_or_default();
                        for (i, l) in lhs.iter().enumerate() {
                            let mut root = unparen(*l);
                            while root.kind() == "selector_expression" {
                                match root.child_by_field_name("operand") {
                                    Some(o) => root = unparen(o),
                                    None => break,
                                }
                            }
                            let same = root.kind() == "identifier"
                                && self.text(fi, root) == name
                                && declared_by(binding(root, self.src(fi)));
                            if !same {
                                continue;
                            }
                            let v = if lhs.len() == rhs.len() {
                                rhs.get(i).copied()
                            } else {
                                rhs.first().copied()
                            };
                            if let Some(v) = v {
                                self.alloc_depth(fi, v, out, depth + 1, seen);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The parts of a map type.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct MapType<'p> {
        /// The file holding the type's text.
        pub file: usize,
        pub key: Node<'p>,
        pub value: Node<'p>,
        /// The package type's name when the map type is a named type.
        pub named: Option<&'p str>,
    }

    /// What an identifier refers to.
    #[derive(Debug, Clone, Copy)]
    pub(crate) enum Binding<'t> {
        /// Nothing in the enclosing scopes declares it: a package-level name (or an import
        /// or a builtin).
        Package,
        /// A parameter of `func`, at `index` among the parameters (receiver excluded).
        Param {
            func: Node<'t>,
            index: usize,
        },
        Receiver {
            func: Node<'t>,
        },
        Result {
            func: Node<'t>,
        },
        /// A local declared by `decl` (a statement, spec or clause).
        Local {
            decl: Node<'t>,
        },
    }

    /// What a container expression refers to.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub(crate) enum Target {
        /// A package-level variable.
        Global(String),
        /// A field, with the struct's name when the operand is a method's receiver.
        Field { ty: Option<String>, name: String },
        /// A parameter of the function starting at byte `func` of file `file`.
        Param {
            file: usize,
            func: usize,
            index: usize,
        },
        /// A local variable.
        Local {
            file: usize,
            decl: usize,
            name: String,
        },
    }

    impl Target {
        /// Whether two targets may be the same container: fields match by name when one
        /// side's struct type is unknown.
        pub(crate) fn same(&self, other: &Target) -> bool {
            match (self, other) {
                (Target::Field { ty: a, name: n }, Target::Field { ty: b, name: m }) => {
                    n == m && (a.is_none() || b.is_none() || a == b)
                }
                _ => self == other,
            }
        }
    }

    /// How a shrinking operation shrinks.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum ShrinkKind {
        Delete,
        Clear,
        DeleteFunc,
        /// A call of a package function that shrinks the argument.
        Helper,
    }

    /// A call that removes entries from a container.
    #[derive(Debug, Clone)]
    pub(crate) struct Shrink<'p> {
        pub file: usize,
        pub call: Node<'p>,
        pub kind: ShrinkKind,
        pub target: Target,
        /// Empties the container rather than removing a few keys: `clear`,
        /// `maps.DeleteFunc`, a `delete` inside a range over the same container, or a
        /// helper doing one of those.
        pub drain: bool,
    }

    /// One use of a container.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Use<'p> {
        pub file: usize,
        /// The expression (the name, or `&name`).
        pub node: Node<'p>,
        pub kind: UseKind<'p>,
    }

    /// What a use does.
    #[derive(Debug, Clone, Copy)]
    pub(crate) enum UseKind<'p> {
        /// `m[k] = v`, `m[k]++`, `m[k] += x` or `maps.Copy(m, src)`: `index` is the
        /// `m[k]` (or the call), `stmt` the statement.
        Write {
            index: Node<'p>,
            stmt: Node<'p>,
        },
        /// `m[k]` read.
        Read {
            index: Node<'p>,
        },
        Delete {
            call: Node<'p>,
        },
        Clear,
        DeleteFunc,
        Len {
            call: Node<'p>,
        },
        Range,
        /// `m = ...`.
        Reassign {
            stmt: Node<'p>,
        },
        /// A method call `m.Name(...)`.
        Method,
        /// Passed as an argument to a call.
        Arg,
        Other,
    }

    /// The statement writing through an index expression: the assignment whose left side
    /// holds it, or the `++`/`--` statement.
    pub(crate) fn write_statement(index: Node<'_>) -> Option<Node<'_>> {
        let mut n = index;
        while let Some(p) = n.parent() {
            if p.kind() == "parenthesized_expression" {
                n = p;
                continue;
            }
            return match p.kind() {
                "inc_statement" | "dec_statement" => Some(p),
                "expression_list" => p.parent().filter(|s| {
                    s.kind() == "assignment_statement" && s.child_by_field_name("left") == Some(p)
                }),
                _ => None,
            };
        }
        None
    }

    /// Whether an identifier is a reference (not a declaration on the left of `:=`, not
    /// a field key in a composite literal).
    pub(crate) fn is_reference(ident: Node<'_>) -> bool {
        let Some(p) = ident.parent() else {
            return false;
        };
        match p.kind() {
            "expression_list" => !p.parent().is_some_and(|s| {
                matches!(
                    s.kind(),
                    "short_var_declaration" | "range_clause" | "receive_statement"
                ) && s.child_by_field_name("left") == Some(p)
                    && (s.kind() == "short_var_declaration" || has_token(s, ":="))
            }),
            "short_var_declaration" | "range_clause" | "receive_statement" => {
                p.child_by_field_name("left") != Some(ident)
                    || (p.kind() != "short_var_declaration" && !has_token(p, ":="))
            }
            "literal_element" => !p.parent().is_some_and(|k| {
                k.kind() == "keyed_element" && k.child_by_field_name("key") == Some(p)
            }),
            "var_spec"
            | "const_spec"
            | "parameter_declaration"
            | "variadic_parameter_declaration" => {
                p.child_by_field_name("name") != Some(ident)
                    && !field_nodes(p, "name").contains(&ident)
            }
            _ => true,
        }
    }

    /// What an identifier refers to: the declaration of the variable it names, in the
    /// enclosing scopes of its function(s).
    pub(crate) fn binding<'t>(ident: Node<'t>, src: &str) -> Binding<'t> {
        let Some(b) = flow::resolve_ident(ident, src).map(|b| flow::declaration(b, src)) else {
            return Binding::Package;
        };
        if b.kind == BindKind::Param {
            let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
                return Binding::Package;
            };
            return match flow::param_list_field(&b) {
                Some("receiver") => Binding::Receiver { func },
                Some("result") => Binding::Result { func },
                _ => match flow::param_position(&b) {
                    Some(index) => Binding::Param { func, index },
                    None => Binding::Package,
                },
            };
        }
        // The statement that declares it: the `var`/`const` declaration of a spec, the
        // type switch of an alias.
        let decl = match b.decl.kind() {
            "var_spec" | "const_spec" => syntax::ancestors(b.decl)
                .find(|a| matches!(a.kind(), "var_declaration" | "const_declaration"))
                .unwrap_or(b.decl),
            "expression_list" => b.decl.parent().unwrap_or(b.decl),
            _ => b.decl,
        };
        Binding::Local { decl }
    }

    /// The values of a composite literal's elements (`v` of `k: v`, or the element).
    fn element_values(lit: Node<'_>) -> Vec<Node<'_>> {
        let Some(body) = lit.child_by_field_name("body") else {
            return Vec::new();
        };
        named(body)
            .into_iter()
            .filter_map(|el| {
                let v = match el.kind() {
                    "keyed_element" => el.child_by_field_name("value"),
                    _ => Some(el),
                };
                v.and_then(|v| v.named_child(0).or(Some(v)))
            })
            .collect()
    }

    /// The value a declaring statement gives `name` (`x := v`, `var x = v`, `x, err :=
    /// f()` gives the call).
    pub(crate) fn declared_value<'t>(decl: Node<'t>, name: &str, src: &str) -> Option<Node<'t>> {
        let (lhs, rhs) = match decl.kind() {
            "short_var_declaration" => (
                decl.child_by_field_name("left").map(list_items)?,
                decl.child_by_field_name("right").map(list_items)?,
            ),
            "var_declaration" => {
                let spec = specs(decl, "var_spec").into_iter().find(|s| {
                    field_nodes(*s, "name")
                        .iter()
                        .any(|n| syntax::text(*n, src) == name)
                })?;
                (
                    field_nodes(spec, "name"),
                    spec.child_by_field_name("value").map(list_items)?,
                )
            }
            _ => return None,
        };
        let i = lhs.iter().position(|n| syntax::text(*n, src) == name)?;
        if lhs.len() == rhs.len() {
            rhs.get(i).copied()
        } else if rhs.len() == 1 {
            rhs.first().copied()
        } else {
            None
        }
    }

    /// The type node of parameter `index` of a function.
    pub(crate) fn param_type(f: Node<'_>, index: usize) -> Option<Node<'_>> {
        let params = f.child_by_field_name("parameters")?;
        let mut i = 0;
        for decl in named(params) {
            if !matches!(
                decl.kind(),
                "parameter_declaration" | "variadic_parameter_declaration"
            ) {
                continue;
            }
            let n = field_nodes(decl, "name").len().max(1);
            if index < i + n {
                return decl.child_by_field_name("type");
            }
            i += n;
        }
        None
    }

    /// The receiver's base type name and receiver name of a method.
    pub(crate) fn receiver_type<'a>(
        method: Node<'_>,
        src: &'a str,
    ) -> Option<(&'a str, Option<&'a str>)> {
        let recv = method.child_by_field_name("receiver")?;
        let decl = syntax::descendants_of_kind(recv, "parameter_declaration").next()?;
        let name = decl
            .child_by_field_name("name")
            .map(|n| syntax::text(n, src));
        let mut ty = decl.child_by_field_name("type")?;
        loop {
            match ty.kind() {
                "pointer_type" | "parenthesized_type" => ty = ty.named_child(0)?,
                "generic_type" => ty = ty.child_by_field_name("type")?,
                _ => break,
            }
        }
        Some((syntax::text(ty, src), name))
    }

    /// How pprof and people name the function around a node: `Touch`, `(*Store).Put`,
    /// or the enclosing declaration of a function literal.
    pub(crate) fn function_label(node: Node<'_>, src: &str) -> String {
        let Some(decl) = syntax::enclosing_declaration(node) else {
            return "a package-level initializer".to_string();
        };
        if syntax::enclosing_function(node).is_some_and(|f| f.kind() == "func_literal") {
            return format!("a function literal in {}", declaration_label(decl, src));
        }
        declaration_label(decl, src)
    }

    /// The name of a function or method declaration as pprof writes it.
    fn declaration_label(decl: Node<'_>, src: &str) -> String {
        super::flow::function_label(decl, src)
    }

    /// `A`, `A and B`, `A, B and C` of distinct labels in order.
    pub(crate) fn join_labels(labels: &[String]) -> String {
        let mut uniq: Vec<&str> = Vec::new();
        for l in labels {
            if !uniq.contains(&l.as_str()) {
                uniq.push(l);
            }
        }
        match uniq.as_slice() {
            [] => String::new(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    /// Whether `node` is inside a loop of its function other than a range over fixed
    /// start-up input (a composite literal, `os.Args`, `flag.Args()`): work done in a
    /// loop of `main` is the program's steady state, not its start-up.
    fn in_repeating_loop(node: Node<'_>, src: &str) -> bool {
        for anc in syntax::ancestors(node) {
            if syntax::is_function(anc.kind()) {
                return false;
            }
            if anc.kind() != "for_statement" {
                continue;
            }
            let fixed = named(anc).into_iter().any(|cl| {
                cl.kind() == "range_clause"
                    && cl
                        .child_by_field_name("right")
                        .map(unparen)
                        .is_some_and(|o| {
                            o.kind() == "composite_literal"
                                || matches!(
                                    syntax::text(o, src),
                                    "os.Args" | "flag.Args()" | "os.Args[1:]"
                                )
                        })
            });
            if !fixed {
                return true;
            }
        }
        false
    }

    /// Whether a type's text names `ty` as a whole word (`*Store`, `[]Store`,
    /// `map[string]*Store`).
    pub(crate) fn mentions_type(text: &str, ty: &str) -> bool {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == ty)
    }

    /// `Cache` of `Cache[K, V]`.
    fn generic_base(text: &str) -> &str {
        text.split('[').next().unwrap_or(text)
    }

    /// Sorts locations and removes those whose lines another one of the same file
    /// already covers.
    pub(crate) fn tidy(locs: &mut Vec<Location>) {
        locs.sort_by(|a, b| {
            (
                &a.file,
                a.span.start_line,
                std::cmp::Reverse(a.span.end_line),
            )
                .cmp(&(
                    &b.file,
                    b.span.start_line,
                    std::cmp::Reverse(b.span.end_line),
                ))
        });
        let mut out: Vec<Location> = Vec::with_capacity(locs.len());
        for l in locs.drain(..) {
            flow::push_unique(&mut out, l);
        }
        *locs = out;
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::UnboundedGlobalMap;
    use crate::rules::testing::{apply_first_fix, check};

    #[test]
    fn map_written_per_request_with_values_from_a_constructor() {
        check(
            &UnboundedGlobalMap,
            r#"
-- cache/session.go --
package cache

import (
	"strconv"
	"sync"
	"time"
)

type Session struct {
	ID      string
	Created time.Time
	Cart    []string
	Scratch []byte
}

var (
	mu       sync.Mutex
	sessions = map[string]*Session{}
	entries  = make(map[string]*Entry)
)

func Touch(id string) *Session {
	mu.Lock()
	defer mu.Unlock()
	s, ok := sessions[id]
	if !ok {
		s = &Session{
			ID:      id,
			Created: time.Now(),
			Cart:    make([]string, 0, 8),
		}
		s.Scratch = make([]byte, 1024)
		sessions[id] = s
	}
	return s
}

type Entry struct{ Payload []byte }

func newEntry(size int) *Entry {
	payload := make([]byte, size)
	return &Entry{Payload: payload}
}

func Handle(route string, id int) *Entry {
	key := route + "?req=" + strconv.Itoa(id)
	e := newEntry(512)
	entries[key] = e
	return e
}

func Count() int { return len(sessions) + len(entries) }
"#,
            expect![[r#"
                cache/session.go:33 unbounded-global-map [sessions] package-level map "sessions" is written in Touch and never deleted from
                  declared cache/session.go:18
                  evidence cache/session.go:27-31 cache/session.go:32 cache/session.go:33
                  fix: Bound "sessions" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
                cache/session.go:48 unbounded-global-map [entries] package-level map "entries" is written in Handle and never deleted from
                  declared cache/session.go:19
                  evidence cache/session.go:40-43 cache/session.go:46 cache/session.go:47 cache/session.go:48
                  fix: Bound "entries" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
            "#]],
        );
    }

    #[test]
    fn start_up_fills_are_not_growth() {
        check(
            &UnboundedGlobalMap,
            r#"
-- catalog/catalog.go --
package catalog

import (
	"fmt"
	"sync"
)

var (
	products map[string]int
	byName   = map[string]int{"kettle": 1}
	codes    = map[string]string{}
	aliases  = map[string]string{}
	lazy     map[string]string
	lazyOnce sync.Once
)

func init() {
	products = make(map[string]int, 64)
	for i := 0; i < 64; i++ {
		products[fmt.Sprint(i)] = i
	}
	register("a", "b")
}

func register(code, name string) {
	codes[code] = name
}

var _ = func() bool { aliases["x"+fmt.Sprint(1)] = "y"; return true }()

func Lookup(k string) string {
	lazyOnce.Do(func() {
		lazy = map[string]string{}
		lazy[k+"!"] = k
	})
	return lazy[k]
}

var (
	services     = map[string]int{}
	servicesOnce sync.Once
	registers    = map[int16]int16{}
)

func readServices() {
	for i := 0; i < 10; i++ {
		services[fmt.Sprint("svc", i)] = i
	}
}

func Port(name string) int {
	servicesOnce.Do(readServices)
	return services[name]
}

func init() {
	f := func(from, to, base int16) {
		for r := from; r <= to; r++ {
			registers[r] = r - from + base
		}
	}
	f(0, 15, 0)
	f(16, 31, 64)
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn main_writes_once_unless_in_a_serving_loop() {
        check(
            &UnboundedGlobalMap,
            r#"
-- main.go --
package main

import "os"

var (
	config = map[string]string{}
	seen   = map[string]bool{}
)

func main() {
	for _, kv := range os.Args {
		config[kv] = kv
	}
	for {
		line := read()
		seen[line] = true
	}
}

func read() string { return os.Getenv("X") }
"#,
            expect![[r#"
                main.go:16 unbounded-global-map [seen] package-level map "seen" is written in main and never deleted from
                  declared main.go:7
                  evidence main.go:15 main.go:16 main.go:20
                  fix: Bound "seen" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
            "#]],
        );
    }

    #[test]
    fn handlers_registered_in_init_run_per_request() {
        check(
            &UnboundedGlobalMap,
            r#"
-- server.go --
package server

import "net/http"

var visits = map[string]int{}

func init() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		visits[r.URL.Path]++
	})
}
"#,
            expect![[r#"
                server.go:9 unbounded-global-map [visits] package-level map "visits" is written in a function literal in init and never deleted from
                  declared server.go:5
                  evidence server.go:9
            "#]],
        );
    }

    #[test]
    fn any_deletion_clear_or_reset_in_the_package_bounds_the_map() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

import "maps"

var (
	deleted  = map[string][]byte{}
	cleared  = map[string][]byte{}
	reset    = map[string][]byte{}
	viaHelp  = map[string][]byte{}
	viaAlias = map[string][]byte{}
	filtered = map[string][]byte{}
	viaMeth  = map[string][]byte{}
)

func Put(k string, v []byte) {
	deleted[k] = v
	cleared[k] = v
	reset[k] = v
	viaHelp[k] = v
	viaAlias[k] = v
	filtered[k] = v
	viaMeth[k] = v
}

func Sweep() {
	maps.DeleteFunc(filtered, func(k string, v []byte) bool { return len(v) == 0 })
	m := viaAlias
	delete(m, "x")
	prune(viaHelp)
	var j janitor
	j.evict(viaMeth, "k")
}

func prune(m map[string][]byte) {
	for k := range m {
		delete(m, k)
	}
}

type janitor struct{}

func (janitor) evict(m map[string][]byte, k string) { delete(m, k) }
-- b.go --
package a

func Logout(k string) { delete(deleted, k) }

func Flush() {
	clear(cleared)
	reset = map[string][]byte{}
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn length_guards_constant_keys_and_bounded_key_types() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

import "reflect"

type Kind uint8

const (
	KindA Kind = iota
	KindB
)

const hits = "hits"

var (
	guarded  = map[string][]byte{}
	counters = map[string]int{}
	byKind   = map[Kind][]string{}
	flags    = map[bool]string{}
	byType   = map[reflect.Type][]int{}
	fields   = map[string][]int{}
)

const maxEntries = 1000

func Put(k string, v []byte, kind Kind, t reflect.Type) {
	if len(guarded) >= maxEntries {
		return
	}
	guarded[k] = v
	counters[hits]++
	counters["misses"] += 1
	byKind[kind] = append(byKind[kind], k)
	flags[k == ""] = k
	byType[t] = nil
	fields[t.Name()] = nil
}
"#,
            expect![[r#"
                a.go:35 unbounded-global-map [fields] package-level map "fields" is written in Put and never deleted from
                  declared a.go:20
                  evidence a.go:35
                  fix: Bound "fields" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
            "#]],
        );
    }

    #[test]
    fn registries_that_panic_on_duplicates_are_filled_by_code() {
        check(
            &UnboundedGlobalMap,
            r#"
-- sql.go --
package sql

import "sync"

type Driver interface{ Open(string) error }

var (
	driversMu sync.RWMutex
	drivers   = make(map[string]Driver)
)

func Register(name string, driver Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if driver == nil {
		panic("sql: Register driver is nil")
	}
	if _, dup := drivers[name]; dup {
		panic("sql: Register called twice for driver " + name)
	}
	drivers[name] = driver
}
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn shadowing_locals_parameters_and_captures_are_not_the_global() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

var cache = map[string][]byte{}

func Local(k string) {
	cache := map[string][]byte{}
	cache[k] = nil
	_ = cache
}

func Param(cache map[string][]byte, k string) {
	cache[k] = nil
}

func Captured(k string) func() {
	var cache = make(map[string][]byte)
	return func() {
		cache[k] = make([]byte, 10)
	}
}

func Typed(k string) {
	switch cache := any(k).(type) {
	case string:
		_ = cache
	}
	for cache := range 3 {
		_ = cache
	}
	if cache := map[int]int{}; len(cache) == 0 {
		cache[1] = 2
	}
}

func Get(k string) []byte { return cache[k] }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn tests_and_generated_files_are_not_the_program() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

var cache = map[string][]byte{}

func Get(k string) []byte { return cache[k] }
-- a_test.go --
package a

import "testing"

func TestFill(t *testing.T) {
	for i := 0; i < 10; i++ {
		cache[t.Name()] = nil
	}
}
-- zz_generated.go --
// Code generated by hand-gen. DO NOT EDIT.

package a

var generated = map[string]int{}

func Fill(k string) { generated[k] = 1; cache[k] = nil }
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    #[test]
    fn reassignment_in_init_is_initialization_and_named_map_types_count() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

type index map[string]*Doc

type Doc struct{ Body []byte }

var (
	docs  = index{}
	owner map[string]string
)

func init() {
	owner = make(map[string]string)
}

func Add(id string, body []byte) {
	docs[id] = &Doc{Body: body}
	owner[id] = string(body[:8])
}
"#,
            expect![[r#"
                a.go:17 unbounded-global-map [docs] package-level map "docs" is written in Add and never deleted from
                  declared a.go:8
                  evidence a.go:17
                a.go:18 unbounded-global-map [owner] package-level map "owner" is written in Add and never deleted from
                  declared a.go:9
                  evidence a.go:18
            "#]],
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

var cache = map[string][]byte{

func Put(k string, v []byte) {
	cache[k] = v
	cache[ = 
}

func (
"#,
            expect![[r#"
                no matches
            "#]],
        );
    }

    /// A package whose map every use of is one the LRU cache expresses, with a test file
    /// that deletes and measures it.
    const FIXABLE: &str = r#"
-- go.mod --
module example.com/app

go 1.22
-- cache/session.go --
package cache

import (
	"sync"
	"time"
)

type Session struct {
	ID   string
	Seen time.Time
}

var (
	mu       sync.Mutex
	sessions = make(map[string]*Session)
)

func Touch(id string) *Session {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := sessions[id]; ok {
		s.Seen = time.Now()
		return s
	}
	s := &Session{ID: id, Seen: time.Now()}
	sessions[id] = s
	return s
}

func Peek(id string) *Session {
	mu.Lock()
	defer mu.Unlock()
	s := sessions[id]
	return s
}

func Count() int {
	mu.Lock()
	defer mu.Unlock()
	return len(sessions)
}
-- cache/session_test.go --
package cache

import "testing"

func TestTouch(t *testing.T) {
	Touch("a")
	if Count() != 1 || len(sessions) != 1 {
		t.Fatal("not stored")
	}
	delete(sessions, "a")
}
"#;

    #[test]
    fn fix_bounds_the_map_with_an_lru_cache() {
        expect![[r#"
            package cache

            import (
            	"sync"
            	"time"

            	lru "github.com/hashicorp/golang-lru/v2"
            )

            type Session struct {
            	ID   string
            	Seen time.Time
            }

            var (
            	mu       sync.Mutex
            	sessions, _ = lru.New[string, *Session](10000) // Bounded: tune the capacity to the working set.
            )

            func Touch(id string) *Session {
            	mu.Lock()
            	defer mu.Unlock()
            	if s, ok := sessions.Get(id); ok {
            		s.Seen = time.Now()
            		return s
            	}
            	s := &Session{ID: id, Seen: time.Now()}
            	sessions.Add(id, s)
            	return s
            }

            func Peek(id string) *Session {
            	mu.Lock()
            	defer mu.Unlock()
            	s, _ := sessions.Get(id)
            	return s
            }

            func Count() int {
            	mu.Lock()
            	defer mu.Unlock()
            	return sessions.Len()
            }
        "#]]
        .assert_eq(&apply_first_fix(
            &UnboundedGlobalMap,
            FIXABLE,
            "cache/session.go",
        ));
        expect![[r#"
            package cache

            import "testing"

            func TestTouch(t *testing.T) {
            	Touch("a")
            	if Count() != 1 || sessions.Len() != 1 {
            		t.Fatal("not stored")
            	}
            	sessions.Remove("a")
            }
        "#]]
        .assert_eq(&apply_first_fix(
            &UnboundedGlobalMap,
            FIXABLE,
            "cache/session_test.go",
        ));
    }

    #[test]
    fn fix_adds_the_import_after_a_single_import_or_the_package_clause() {
        let single = r#"
-- a.go --
package a

import "strings"

var seen map[string]bool

func Mark(k string) { seen[strings.ToLower(k)] = true }
"#;
        expect![[r#"
            package a

            import "strings"

            import lru "github.com/hashicorp/golang-lru/v2"

            var seen, _ = lru.New[string, bool](10000) // Bounded: tune the capacity to the working set.

            func Mark(k string) { seen.Add(strings.ToLower(k), true) }
        "#]]
        .assert_eq(&apply_first_fix(&UnboundedGlobalMap, single, "a.go"));
        let none = r#"
-- a.go --
package a

var seen = map[string][]byte{}

func Mark(k string, v []byte) {
	seen[k] = v
}
"#;
        expect![[r#"
            package a

            import lru "github.com/hashicorp/golang-lru/v2"

            var seen, _ = lru.New[string, []byte](10000) // Bounded: tune the capacity to the working set.

            func Mark(k string, v []byte) {
            	seen.Add(k, v)
            }
        "#]]
        .assert_eq(&apply_first_fix(&UnboundedGlobalMap, none, "a.go"));
    }

    #[test]
    fn no_fix_when_a_use_has_no_lru_equivalent() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

import "fmt"

var (
	ranged   = map[string]int{}
	passed   = map[string]int{}
	inExpr   = map[string]int{}
	compound = map[string]int{}
	Exported = map[string]int{}
	filled   = map[string]int{"seed": 1}
	fixable  = map[string]int{}
)

func Put(k string) {
	ranged[k] = 1
	passed[k] = 1
	inExpr[k] = 1
	compound[k] = 1
	compound[k] += 2
	Exported[k] = 1
	filled[k] = 1
	fixable[k] = 1
	for k, v := range ranged {
		fmt.Println(k, v)
	}
	fmt.Println(passed)
	fmt.Println(inExpr[k] + 1)
}
"#,
            expect![[r#"
                a.go:16 unbounded-global-map [ranged] package-level map "ranged" is written in Put and never deleted from
                  declared a.go:6
                  evidence a.go:16
                a.go:17 unbounded-global-map [passed] package-level map "passed" is written in Put and never deleted from
                  declared a.go:7
                  evidence a.go:17
                a.go:18 unbounded-global-map [inExpr] package-level map "inExpr" is written in Put and never deleted from
                  declared a.go:8
                  evidence a.go:18
                a.go:19 unbounded-global-map [compound] package-level map "compound" is written in Put and never deleted from
                  declared a.go:9
                  related a.go:20 also written in Put
                  evidence a.go:19 a.go:20
                a.go:21 unbounded-global-map [Exported] package-level map "Exported" is written in Put and never deleted from
                  declared a.go:10
                  evidence a.go:21
                a.go:22 unbounded-global-map [filled] package-level map "filled" is written in Put and never deleted from
                  declared a.go:11
                  evidence a.go:22
                a.go:23 unbounded-global-map [fixable] package-level map "fixable" is written in Put and never deleted from
                  declared a.go:12
                  evidence a.go:23
                  fix: Bound "fixable" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
            "#]],
        );
    }

    #[test]
    fn no_fix_before_generics() {
        check(
            &UnboundedGlobalMap,
            r#"
-- go.mod --
module example.com/app

go 1.17
-- a.go --
package a

var seen = map[string]int{}

func Put(k string) { seen[k] = 1 }
"#,
            expect![[r#"
                a.go:5 unbounded-global-map [seen] package-level map "seen" is written in Put and never deleted from
                  declared a.go:3
                  evidence a.go:5
            "#]],
        );
    }

    /// Applies every edit of the first fix to the fixture's files and returns the
    /// directory holding the edited workspace.
    fn fixed_workspace(fixture: &str) -> crate::source::fixture::TempDir {
        use crate::source::fixture::write_fixture;
        use crate::source::index::Workspace;
        let dir = write_fixture(fixture);
        let ws = Workspace::load(&dir.path).unwrap();
        let matches = crate::rules::run(&ws, &|id| id == "unbounded-global-map", &[]);
        let fix = matches
            .iter()
            .flat_map(|m| m.fixes.first())
            .next()
            .expect("a fix");
        let mut files: Vec<_> = fix.edits.iter().map(|e| e.file.clone()).collect();
        files.sort();
        files.dedup();
        for file in files {
            let mut text = std::fs::read_to_string(&file).unwrap();
            let mut edits: Vec<_> = fix.edits.iter().filter(|e| e.file == file).collect();
            edits.sort_by_key(|e| std::cmp::Reverse(e.start_byte));
            for e in edits {
                text.replace_range(e.start_byte..e.end_byte, &e.new_text);
            }
            std::fs::write(&file, text).unwrap();
        }
        dir
    }

    /// Runs `go` with `args` in `dir`; `None` when Go is not installed.
    fn go(dir: &std::path::Path, args: &[&str], proxy: &str) -> Option<std::process::Output> {
        std::process::Command::new("go")
            .args(args)
            .current_dir(dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", proxy)
            .output()
            .ok()
    }

    #[test]
    fn fixed_code_compiles_and_its_tests_vet() {
        let dir = fixed_workspace(FIXABLE);
        let Some(get) = go(
            &dir.path,
            &["get", "github.com/hashicorp/golang-lru/v2@v2.0.7"],
            "https://proxy.golang.org",
        ) else {
            eprintln!("note: go is not installed; the fixed code was not compiled");
            return;
        };
        if !get.status.success() {
            // Offline: check that every edited file still parses.
            let fmt = std::process::Command::new("gofmt")
                .args(["-e", "-l", "."])
                .current_dir(&dir.path)
                .output()
                .unwrap();
            eprintln!(
                "note: the module proxy is unreachable ({}); checked syntax with gofmt only",
                String::from_utf8_lossy(&get.stderr).trim()
            );
            assert!(
                fmt.status.success(),
                "{}",
                String::from_utf8_lossy(&fmt.stderr)
            );
            return;
        }
        for args in [&["build", "./..."][..], &["vet", "./..."][..]] {
            let out = go(&dir.path, args, "https://proxy.golang.org").unwrap();
            assert!(
                out.status.success(),
                "go {args:?} failed on the fixed code:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The map and cache rules over the fixture programs report exactly the lines marked
    /// `// want RULE-ID` with their ids, and nothing else.
    #[test]
    fn fixture_programs_report_exactly_their_wants() {
        const IDS: [&str; 5] = [
            "unbounded-global-map",
            "map-field-no-delete",
            "cache-no-eviction",
            "map-high-water-mark",
            "closure-registry-leak",
        ];
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        for case in ["leak-maps", "map-highwater"] {
            let dir = fixtures.join(case).canonicalize().unwrap();
            let ws = crate::source::index::Workspace::load(&dir).unwrap();
            let mut got: Vec<(String, u32, &str)> =
                crate::rules::run(&ws, &|id| IDS.contains(&id), &[])
                    .into_iter()
                    .map(|m| {
                        let rel = m
                            .location
                            .file
                            .strip_prefix(&dir)
                            .unwrap()
                            .display()
                            .to_string();
                        (rel, m.location.span.start_line, m.rule)
                    })
                    .collect();
            got.sort();
            let mut want = Vec::new();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "go") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let Some((_, id)) = line.split_once("// want ") else {
                        continue;
                    };
                    let id = id.trim();
                    if let Some(id) = IDS.iter().find(|r| **r == id) {
                        let rel = path.strip_prefix(&dir).unwrap().display().to_string();
                        want.push((rel, i as u32 + 1, *id));
                    }
                }
            }
            want.sort();
            assert!(!want.is_empty(), "{case}: no want markers");
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn values_passed_in_are_followed_to_the_callers() {
        check(
            &UnboundedGlobalMap,
            r#"
-- a.go --
package a

import "fmt"

var seen = map[string][]byte{}

func remember(id string, data []byte) {
	seen[id] = data
}

func handle(n int) {
	id := fmt.Sprintf("req-%d", n)
	remember(id, make([]byte, 128))
}
"#,
            expect![[r#"
                a.go:8 unbounded-global-map [seen] package-level map "seen" is written in remember and never deleted from
                  declared a.go:5
                  evidence a.go:8 a.go:12 a.go:13
                  fix: Bound "seen" with an LRU cache (github.com/hashicorp/golang-lru/v2, capacity 10000)
            "#]],
        );
    }
}
