//! The syntax-level analysis the rules share, without type information: tree primitives
//! (parentheses, lists, fields, tokens), a file's imports, name resolution with Go's
//! block scoping (which declaration a local name refers to, shadowing, redeclaration by
//! `:=`, parameters, captures by function literals), and the per-package index of
//! package-level names that every rule of a package reads ([`PackageIndex`]). Rule-specific
//! value flow (where a map's values were made, where a sub-slice is stored, where a
//! channel is sent on) lives in the rules and builds on these.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::rules::syntax::{self, ancestors, descendants, text};
use crate::rules::{Context, Location, Package, SourceFile, TextEdit};
use crate::source::model::{Decl, DeclKind};

// ---------------------------------------------------------------------------------------
// Tree primitives.

/// Skips parentheses around an expression.
pub(crate) fn unparen(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match named(node).into_iter().next() {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// The outermost parenthesized expression around a node (or the node).
pub(crate) fn outer_paren(mut node: Node<'_>) -> Node<'_> {
    while let Some(p) = node.parent() {
        if p.kind() != "parenthesized_expression" {
            break;
        }
        node = p;
    }
    node
}

/// The parent of an expression, looking through parentheses around it.
pub(crate) fn parent_skipping_parens(node: Node<'_>) -> Option<Node<'_>> {
    outer_paren(node).parent()
}

/// The named children of a node, comments left out.
pub(crate) fn named(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}

/// The elements of an `expression_list`, or the node itself; nothing for `None`.
pub(crate) fn items(node: Option<Node<'_>>) -> Vec<Node<'_>> {
    match node {
        Some(list) if list.kind() == "expression_list" => named(list),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// The elements of an `expression_list`, or the node itself.
pub(crate) fn list_items(node: Node<'_>) -> Vec<Node<'_>> {
    items(Some(node))
}

/// The children of a node in field `field`.
pub(crate) fn field_nodes<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut c = node.walk();
    node.children_by_field_name(field, &mut c).collect()
}

/// The `var_spec`s (or `const_spec`s) of a declaration, grouped or not.
pub(crate) fn specs<'t>(decl: Node<'t>, kind: &str) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    for c in named(decl) {
        if c.kind() == kind {
            out.push(c);
        } else if c.kind().ends_with("_spec_list") {
            out.extend(named(c).into_iter().filter(|s| s.kind() == kind));
        }
    }
    out
}

/// Whether a node has an anonymous child token `tok` (`:=`, `&`, `+`).
pub(crate) fn has_token(node: Node<'_>, tok: &str) -> bool {
    let mut c = node.walk();
    let found = node
        .children(&mut c)
        .any(|ch| !ch.is_named() && ch.kind() == tok);
    found
}

/// The operator of a unary, binary or assignment expression (empty when none).
pub(crate) fn operator<'s>(node: Node<'_>, src: &'s str) -> &'s str {
    node.child_by_field_name("operator")
        .map(|o| text(o, src))
        .unwrap_or("")
}

/// Whether two expressions are the same text, ignoring whitespace.
pub(crate) fn same_expr(a: &str, b: &str) -> bool {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .eq(b.chars().filter(|c| !c.is_whitespace()))
}

/// The root identifier of `a.b[i].c`, `*p`, `(x)`.
pub(crate) fn root_ident(mut node: Node<'_>) -> Option<Node<'_>> {
    loop {
        node = unparen(node);
        match node.kind() {
            "identifier" => return Some(node),
            "selector_expression" | "index_expression" | "slice_expression" => {
                node = node.child_by_field_name("operand")?;
            }
            "unary_expression" => node = node.child_by_field_name("operand")?,
            _ => return None,
        }
    }
}

/// The base type name of a receiver or pointer type: `*Store[K]` gives `Store`.
pub(crate) fn base_type_name<'s>(mut ty: Node<'_>, src: &'s str) -> Option<&'s str> {
    loop {
        match ty.kind() {
            "pointer_type" | "parenthesized_type" => ty = named(ty).into_iter().next()?,
            "generic_type" => ty = ty.child_by_field_name("type")?,
            "type_identifier" => return Some(text(ty, src)),
            _ => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Imports.

/// The import specs of a file's top-level import declarations.
pub(crate) fn import_specs(root: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    for decl in named(root) {
        if decl.kind() != "import_declaration" {
            continue;
        }
        for c in named(decl) {
            match c.kind() {
                "import_spec" => out.push(c),
                "import_spec_list" => {
                    out.extend(named(c).into_iter().filter(|n| n.kind() == "import_spec"))
                }
                _ => {}
            }
        }
    }
    out
}

/// The path of an import spec, without quotes.
pub(crate) fn import_path<'s>(spec: Node<'_>, src: &'s str) -> &'s str {
    spec.child_by_field_name("path")
        .map(|p| text(p, src).trim_matches(|c| c == '"' || c == '`'))
        .unwrap_or("")
}

/// The name an import without an explicit name binds: the last path element, skipping a
/// `/vN` suffix, a `.vN` suffix and a `go-` prefix.
pub(crate) fn default_import_name(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    if last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit()) {
        if let Some(prev) = parts.next() {
            last = prev;
        }
    }
    if let Some(i) = last.find(".v") {
        if last[i + 2..].bytes().all(|b| b.is_ascii_digit()) {
            last = &last[..i];
        }
    }
    last.strip_prefix("go-").unwrap_or(last)
}

/// The name an import spec binds as written: its alias (also `_` and `.`), or the
/// default name of its path.
pub(crate) fn import_binding<'s>(spec: Node<'_>, src: &'s str) -> &'s str {
    match spec.child_by_field_name("name") {
        Some(n) => text(n, src),
        None => default_import_name(import_path(spec, src)),
    }
}

/// The imports of a file: (local name, path); dot and blank imports are left out.
pub(crate) fn imports(file: &SourceFile) -> Vec<(String, String)> {
    let src: &str = &file.text;
    import_specs(file.tree.root_node())
        .into_iter()
        .filter(|spec| {
            spec.child_by_field_name("name")
                .is_none_or(|n| n.kind() == "package_identifier")
        })
        .map(|spec| {
            (
                import_binding(spec, src).to_string(),
                import_path(spec, src).to_string(),
            )
        })
        .collect()
}

/// The name this file gives the import `path`: its alias or the package name. `None`
/// when the file does not import it, or imports it as `_` or `.`.
pub(crate) fn import_name<'a>(root: Node<'_>, src: &'a str, path: &str) -> Option<&'a str> {
    let spec = import_specs(root)
        .into_iter()
        .find(|s| import_path(*s, src) == path)?;
    match spec.child_by_field_name("name") {
        Some(n) if n.kind() != "package_identifier" => None,
        _ => Some(import_binding(spec, src)),
    }
}

// ---------------------------------------------------------------------------------------
// The package index: built once per package, read by every rule.

/// A package-level `var`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GlobalVar<'p> {
    /// Index into [`PackageIndex::files`].
    pub file: usize,
    pub spec: Node<'p>,
    pub name: Node<'p>,
    /// The declared type, when written.
    pub ty: Option<Node<'p>>,
    /// This name's initializer, when it has its own.
    pub value: Option<Node<'p>>,
}

/// The program files of a package (no tests, no generated files) with indexes of its
/// package-level names and of every identifier, built once per package and shared by every rule.
#[derive(Debug)]
pub(crate) struct PackageIndex<'p> {
    pub files: Vec<&'p SourceFile>,
    /// The package clause's name.
    pub package_name: &'p str,
    /// Top-level functions (not methods) by name.
    pub funcs: HashMap<&'p str, Vec<(usize, Node<'p>)>>,
    /// Methods by method name.
    pub methods: HashMap<&'p str, Vec<(usize, Node<'p>)>>,
    pub vars: HashMap<&'p str, GlobalVar<'p>>,
    pub consts: HashSet<&'p str>,
    /// Package-level type specs by name.
    pub types: HashMap<&'p str, Node<'p>>,
    /// Every `identifier` node by its text.
    pub idents: HashMap<&'p str, Vec<(usize, Node<'p>)>>,
    /// Per file: import path by the name it binds.
    pub imports: Vec<HashMap<&'p str, &'p str>>,
    /// Types used as the type of a typed constant (`const A Kind = iota`).
    pub const_types: HashSet<&'p str>,
}

impl<'p> PackageIndex<'p> {
    pub(crate) fn new(pkg: &'p Package) -> PackageIndex<'p> {
        Self::with_files(pkg.program_files().collect())
    }

    /// An index over the given files (all of one package).
    pub(crate) fn with_files(files: Vec<&'p SourceFile>) -> PackageIndex<'p> {
        let mut idx = PackageIndex {
            package_name: files
                .first()
                .map(|f| f.summary.package.as_str())
                .unwrap_or(""),
            files,
            funcs: HashMap::new(),
            methods: HashMap::new(),
            vars: HashMap::new(),
            consts: HashSet::new(),
            types: HashMap::new(),
            idents: HashMap::new(),
            imports: Vec::new(),
            const_types: HashSet::new(),
        };
        let files = idx.files.clone();
        for (fi, f) in files.iter().enumerate() {
            let src: &'p str = &f.text;
            let root = f.tree.root_node();
            let mut imports = HashMap::new();
            for item in named(root) {
                match item.kind() {
                    "function_declaration" => {
                        if let Some(n) = item.child_by_field_name("name") {
                            idx.funcs
                                .entry(syntax::text(n, src))
                                .or_default()
                                .push((fi, item));
                        }
                    }
                    "method_declaration" => {
                        if let Some(n) = item.child_by_field_name("name") {
                            idx.methods
                                .entry(syntax::text(n, src))
                                .or_default()
                                .push((fi, item));
                        }
                    }
                    "var_declaration" => {
                        for spec in specs(item, "var_spec") {
                            let names = field_nodes(spec, "name");
                            let values = spec
                                .child_by_field_name("value")
                                .map(list_items)
                                .unwrap_or_default();
                            for (i, name) in names.iter().enumerate() {
                                let value = if values.len() == names.len() {
                                    values.get(i).copied()
                                } else {
                                    None
                                };
                                idx.vars
                                    .entry(syntax::text(*name, src))
                                    .or_insert(GlobalVar {
                                        file: fi,
                                        spec,
                                        name: *name,
                                        ty: spec.child_by_field_name("type"),
                                        value,
                                    });
                            }
                        }
                    }
                    "const_declaration" => {
                        for spec in specs(item, "const_spec") {
                            for name in field_nodes(spec, "name") {
                                idx.consts.insert(syntax::text(name, src));
                            }
                            if let Some(t) = spec.child_by_field_name("type") {
                                idx.const_types.insert(syntax::text(t, src));
                            }
                        }
                    }
                    "type_declaration" => {
                        for spec in named(item) {
                            if matches!(spec.kind(), "type_spec" | "type_alias") {
                                if let Some(n) = spec.child_by_field_name("name") {
                                    idx.types.insert(syntax::text(n, src), spec);
                                }
                            }
                        }
                    }
                    "import_declaration" => {
                        for spec in syntax::descendants_of_kind(item, "import_spec") {
                            let Some(path) = spec.child_by_field_name("path") else {
                                continue;
                            };
                            let path = syntax::text(path, src).trim_matches(['"', '`']);
                            let name = match spec.child_by_field_name("name") {
                                Some(n) => syntax::text(n, src),
                                None => default_import_name(path),
                            };
                            imports.insert(name, path);
                        }
                    }
                    _ => {}
                }
            }
            idx.imports.push(imports);
            for n in syntax::descendants_of_kind(root, "identifier") {
                idx.idents
                    .entry(syntax::text(n, src))
                    .or_default()
                    .push((fi, n));
            }
        }
        idx
    }

    /// The text of a node of file `fi`.
    pub(crate) fn text(&self, fi: usize, node: Node<'_>) -> &'p str {
        self.files
            .get(fi)
            .map(|f| syntax::text(node, &f.text))
            .unwrap_or("")
    }

    /// The source of file `fi`.
    pub(crate) fn src(&self, fi: usize) -> &'p str {
        self.files.get(fi).map(|f| &*f.text).unwrap_or("")
    }
}

// ---------------------------------------------------------------------------------------
// Scopes: which declaration a local name refers to.

/// How a local name is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindKind {
    /// A parameter, receiver or named result.
    Param,
    /// `x := ...`.
    ShortVar,
    /// `var x T = ...` in a function.
    Var,
    /// `const x = ...` in a function.
    Const,
    /// `for k, v := range ...`.
    Range,
    /// `case v := <-ch:`.
    Receive,
    /// `switch v := x.(type)`.
    TypeSwitch,
}

/// A declaration of a local name, or a redeclaration of one by `:=`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'t> {
    pub kind: BindKind,
    /// The declaring construct: `parameter_declaration`, `short_var_declaration`,
    /// `var_spec`, `const_spec`, `range_clause`, `receive_statement`, or the alias list
    /// of a type switch.
    pub decl: Node<'t>,
    /// The declaring identifier.
    pub name: Node<'t>,
    /// Position of the name among the names the construct declares.
    pub index: usize,
    /// The declared type, when written.
    pub ty: Option<Node<'t>>,
    /// The initializer: the matching right-hand expression, or the one multi-valued
    /// expression (call, range expression) whose `index`-th result is bound.
    pub value: Option<Node<'t>>,
    /// `value` is multi-valued.
    pub multi: bool,
}

impl Binding<'_> {
    /// Whether two bindings are the same declaration of the same name.
    pub(crate) fn same(&self, other: &Binding<'_>) -> bool {
        self.decl.id() == other.decl.id() && self.index == other.index
    }
}

/// The nearest binding of `name` visible at `at` in the enclosing functions (function
/// literals see their outer functions' names), or `None` for package-level, imported and
/// universe names. A `:=` that redeclares a name of the same block is a binding of its
/// own here (it gives the name a new value); [`declaration`] finds the variable it
/// assigns to.
pub(crate) fn resolve<'t>(at: Node<'t>, name: &str, src: &str) -> Option<Binding<'t>> {
    let pos = at.start_byte();
    let mut child = at;
    for anc in syntax::ancestors(at) {
        if anc.kind() == "source_file" {
            return None;
        }
        if anc.kind() == "type_switch_statement" {
            // The alias is visible in the cases only.
            if matches!(child.kind(), "type_case" | "default_case") {
                if let Some(b) = anc
                    .child_by_field_name("alias")
                    .and_then(|a| declares(anc, a, name, src))
                {
                    return Some(b);
                }
            }
        } else {
            for c in named(anc).into_iter().rev() {
                if c.end_byte() > pos {
                    continue;
                }
                if let Some(b) = declares(anc, c, name, src) {
                    return Some(b);
                }
            }
        }
        if matches!(anc.kind(), "function_declaration" | "method_declaration") {
            return None;
        }
        child = anc;
    }
    None
}

/// The binding of an identifier (its own text resolved at its place).
pub(crate) fn resolve_ident<'t>(ident: Node<'t>, src: &str) -> Option<Binding<'t>> {
    if ident.kind() != "identifier" {
        return None;
    }
    resolve(ident, text(ident, src), src)
}

/// The variable a binding names: for a `:=` that redeclares a name already declared in
/// the same block (or among the parameters, for a function's top-level block), that
/// earlier declaration; else the binding itself.
pub(crate) fn declaration<'t>(b: Binding<'t>, src: &str) -> Binding<'t> {
    let mut b = b;
    while b.kind == BindKind::ShortVar {
        let Some(list) = b.decl.parent() else {
            return b;
        };
        let name = text(b.name, src);
        let earlier = named(list)
            .into_iter()
            .take_while(|s| s.end_byte() <= b.decl.start_byte())
            .find_map(|s| declares(list, s, name, src));
        let earlier = earlier.or_else(|| {
            // The top level of a function body is the parameters' block.
            let func = list
                .parent()
                .filter(|blk| blk.kind() == "block" && list.kind() == "statement_list")
                .or_else(|| Some(list).filter(|l| l.kind() == "block"))
                .and_then(|blk| blk.parent())
                .filter(|f| syntax::is_function(f.kind()))?;
            ["receiver", "parameters", "result"]
                .into_iter()
                .filter_map(|field| func.child_by_field_name(field))
                .filter(|l| l.kind() == "parameter_list")
                .find_map(|l| declares(func, l, name, src))
        });
        match earlier {
            Some(e) if !e.same(&b) => b = e,
            _ => return b,
        }
    }
    b
}

/// The identifier declaring the variable that `ident` names (itself when it declares
/// one), following Go's block scoping inside the enclosing top-level function. `None`
/// for a package-level name, an import, a builtin or an undeclared name.
pub(crate) fn declaring_ident<'t>(ident: Node<'t>, src: &str) -> Option<Node<'t>> {
    if ident.kind() != "identifier" {
        return None;
    }
    if let Some(b) = binding_declared_at(ident, src) {
        return Some(declaration(b, src).name);
    }
    resolve_ident(ident, src).map(|b| declaration(b, src).name)
}

/// The binding `ident` makes when it is the name being declared at its position (the
/// left of `:=`, a `var`/`const` spec's name, a parameter, a range or receive `:=`, a
/// type switch alias).
pub(crate) fn binding_declared_at<'t>(ident: Node<'t>, src: &str) -> Option<Binding<'t>> {
    let p = ident.parent()?;
    let (parent, child) = match p.kind() {
        "var_spec" | "const_spec" => {
            let decl = syntax::ancestors(p)
                .find(|a| matches!(a.kind(), "var_declaration" | "const_declaration"))?;
            (decl.parent()?, decl)
        }
        "parameter_declaration" | "variadic_parameter_declaration" => {
            let list = p.parent()?;
            (list.parent()?, list)
        }
        "expression_list" => {
            let g = p.parent()?;
            match g.kind() {
                "short_var_declaration" | "range_clause" | "receive_statement"
                    if g.child_by_field_name("left") == Some(p) =>
                {
                    (g.parent()?, g)
                }
                "type_switch_statement" => (g, p),
                _ => return None,
            }
        }
        _ => return None,
    };
    declares(parent, child, text(ident, src), src).filter(|b| b.name == ident)
}

/// The binding `child` (a child of `parent`) makes for `name`, if any.
fn declares<'t>(parent: Node<'t>, child: Node<'t>, name: &str, src: &str) -> Option<Binding<'t>> {
    let position = |names: &[Node<'t>]| {
        names
            .iter()
            .position(|n| n.kind() == "identifier" && text(*n, src) == name)
    };
    match child.kind() {
        "short_var_declaration" => {
            let left = items(child.child_by_field_name("left"));
            let right = items(child.child_by_field_name("right"));
            let index = position(&left)?;
            let (value, multi) = pair(&left, &right, index);
            Some(Binding {
                kind: BindKind::ShortVar,
                decl: child,
                name: left[index],
                index,
                ty: None,
                value,
                multi,
            })
        }
        "var_declaration" | "const_declaration" => {
            let kind = if child.kind() == "var_declaration" {
                BindKind::Var
            } else {
                BindKind::Const
            };
            let mut all = specs(child, "var_spec");
            all.extend(specs(child, "const_spec"));
            all.into_iter().rev().find_map(|spec| {
                let names = field_nodes(spec, "name");
                let index = position(&names)?;
                let values = items(spec.child_by_field_name("value"));
                let (value, multi) = pair(&names, &values, index);
                Some(Binding {
                    kind,
                    decl: spec,
                    name: names[index],
                    index,
                    ty: spec.child_by_field_name("type"),
                    value,
                    multi,
                })
            })
        }
        "labeled_statement" => named(child)
            .into_iter()
            .find(|n| n.kind() != "label_name")
            .and_then(|s| declares(child, s, name, src)),
        "for_clause" => {
            let init = child.child_by_field_name("initializer")?;
            declares(child, init, name, src)
        }
        "range_clause" | "receive_statement" if has_token(child, ":=") => {
            if child.kind() == "range_clause" && parent.kind() != "for_statement" {
                return None;
            }
            let left = items(child.child_by_field_name("left"));
            let index = position(&left)?;
            Some(Binding {
                kind: if child.kind() == "range_clause" {
                    BindKind::Range
                } else {
                    BindKind::Receive
                },
                decl: child,
                name: left[index],
                index,
                ty: None,
                value: child.child_by_field_name("right"),
                multi: true,
            })
        }
        "parameter_list" if syntax::is_function(parent.kind()) => {
            for param in named(child) {
                if !matches!(
                    param.kind(),
                    "parameter_declaration" | "variadic_parameter_declaration"
                ) {
                    continue;
                }
                let names = field_nodes(param, "name");
                if let Some(index) = position(&names) {
                    return Some(Binding {
                        kind: BindKind::Param,
                        decl: param,
                        name: names[index],
                        index,
                        ty: param.child_by_field_name("type"),
                        value: None,
                        multi: false,
                    });
                }
            }
            None
        }
        "expression_list"
            if parent.kind() == "type_switch_statement"
                && parent
                    .child_by_field_name("alias")
                    .is_some_and(|a| a.id() == child.id()) =>
        {
            let left = items(Some(child));
            let index = position(&left)?;
            Some(Binding {
                kind: BindKind::TypeSwitch,
                decl: child,
                name: left[index],
                index,
                ty: None,
                value: parent.child_by_field_name("value"),
                multi: true,
            })
        }
        _ => None,
    }
}

/// The value bound to the `index`-th of `left` from `right`, and whether it is the one
/// multi-valued expression on the right.
pub(crate) fn pair<'t>(
    left: &[Node<'t>],
    right: &[Node<'t>],
    index: usize,
) -> (Option<Node<'t>>, bool) {
    if left.len() == right.len() {
        (right.get(index).copied(), false)
    } else if right.len() == 1 {
        (right.first().copied(), true)
    } else {
        (None, false)
    }
}

/// Which parameter list of its function a parameter binding is in: `parameters`,
/// `receiver` or `result`.
pub(crate) fn param_list_field(b: &Binding<'_>) -> Option<&'static str> {
    let list = b.decl.parent()?;
    let func = list.parent()?;
    ["parameters", "receiver", "result"]
        .into_iter()
        .find(|f| func.child_by_field_name(f).map(|l| l.id()) == Some(list.id()))
}

/// The position of a parameter among its function's parameters (receiver excluded).
pub(crate) fn param_position(b: &Binding<'_>) -> Option<usize> {
    if b.kind != BindKind::Param || param_list_field(b) != Some("parameters") {
        return None;
    }
    let list = b.decl.parent()?;
    let mut pos = 0;
    for p in named(list) {
        if p.id() == b.decl.id() {
            return Some(pos + b.index);
        }
        pos += field_nodes(p, "name").len().max(1);
    }
    None
}

// ---------------------------------------------------------------------------------------
// Values: where a value was allocated, where it is stored so that it outlives its
// function, constant sizes, and the edits that add an import.

/// How far value and caller chains are followed.
pub(crate) const MAX_DEPTH: usize = 4;

/// The function body in which a binding lives (for parameters: the function's body).
pub(crate) fn scope_body<'t>(b: &Binding<'t>) -> Option<Node<'t>> {
    let f = if syntax::is_function(b.decl.kind()) {
        Some(b.decl)
    } else {
        syntax::enclosing_function(b.decl)
    }?;
    f.child_by_field_name("body")
}

/// Identifier uses of a binding after its declaration in its function (literals
/// included), each resolved to the same declaration.
pub(crate) fn uses<'t>(b: &Binding<'t>, src: &str) -> Vec<Node<'t>> {
    let Some(body) = scope_body(b) else {
        return Vec::new();
    };
    let name = syntax::text(b.name, src);
    descendants(body)
        .filter(|n| n.kind() == "identifier" && n.start_byte() > b.name.end_byte())
        .filter(|n| syntax::text(*n, src) == name)
        .filter(|n| !is_field_name(*n))
        .filter(|n| resolve(*n, name, src).is_some_and(|r| r.same(b)))
        .collect()
}

/// Whether an identifier is the key of a keyed element naming a struct field
/// (`Entry{Data: x}`), which is not a use of a variable.
fn is_field_name(ident: Node<'_>) -> bool {
    let Some(p) = ident.parent() else {
        return false;
    };
    p.kind() == "literal_element"
        && p.parent().is_some_and(|k| {
            k.kind() == "keyed_element"
                && k.child_by_field_name("key")
                    .is_some_and(|key| key.id() == p.id())
        })
}

/// Right-hand sides of plain `name = value` assignments to a binding before `before`
/// (a byte offset) in its function.
pub(crate) fn assignments<'t>(b: &Binding<'t>, before: usize, src: &str) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    for ident in uses(b, src) {
        if ident.start_byte() >= before {
            continue;
        }
        let Some(list) = ident.parent() else { continue };
        let Some(stmt) = list.parent() else { continue };
        if stmt.kind() != "assignment_statement" || operator(stmt, src) != "=" {
            continue;
        }
        let left = items(stmt.child_by_field_name("left"));
        let right = items(stmt.child_by_field_name("right"));
        if let Some(i) = left.iter().position(|n| n.id() == ident.id()) {
            if let (Some(v), false) = pair(&left, &right, i) {
                out.push(v);
            } else if let (Some(v), true) = pair(&left, &right, i) {
                out.push(v);
            }
        }
    }
    out
}

/// A package-level `var` or `const` of the package's program files.
pub(crate) fn package_decl<'p>(pkg: &'p Package, name: &str) -> Option<(&'p SourceFile, &'p Decl)> {
    pkg.program_files().find_map(|f| {
        f.summary
            .decls
            .iter()
            .find(|d| d.name == name)
            .map(|d| (f, d))
    })
}

/// Whether `name` is a package-level variable of the package.
pub(crate) fn is_package_var(pkg: &Package, name: &str) -> bool {
    package_decl(pkg, name).is_some_and(|(_, d)| d.kind == DeclKind::Var)
}

/// Where a package-level name is declared.
pub(crate) fn decl_location(pkg: &Package, name: &str) -> Option<Location> {
    package_decl(pkg, name).map(|(f, d)| Location {
        file: f.path().to_path_buf(),
        span: d.span,
    })
}

/// The `var_spec` or `const_spec` of a package-level name, with its file.
pub(crate) fn package_spec<'p>(pkg: &'p Package, name: &str) -> Option<(&'p SourceFile, Node<'p>)> {
    for f in pkg.program_files() {
        for top in named(f.tree.root_node()) {
            if !matches!(top.kind(), "var_declaration" | "const_declaration") {
                continue;
            }
            for spec in descendants(top) {
                if !matches!(spec.kind(), "var_spec" | "const_spec") {
                    continue;
                }
                if field_nodes(spec, "name")
                    .iter()
                    .any(|n| syntax::text(*n, &f.text) == name)
                {
                    return Some((f, spec));
                }
            }
        }
    }
    None
}

/// A package-level function (not method) of the program files.
pub(crate) fn package_function<'p>(
    pkg: &'p Package,
    name: &str,
) -> Option<(&'p SourceFile, Node<'p>)> {
    pkg.program_files().find_map(|f| {
        named(f.tree.root_node())
            .into_iter()
            .find(|n| {
                n.kind() == "function_declaration"
                    && syntax::function_name(*n, &f.text) == Some(name)
            })
            .map(|n| (f, n))
    })
}

/// The declared type of the struct fields named `field` in the package, when every struct
/// with such a field agrees on one (`[]*Sub` for `subs`); `None` when none or several.
pub(crate) fn field_type_text(pkg: &Package, field: &str) -> Option<String> {
    field_type_in(pkg.files.iter(), field)
}

/// [`field_type_text`] over some files of a package.
pub(crate) fn field_type_in<'a>(
    files: impl Iterator<Item = &'a SourceFile>,
    field: &str,
) -> Option<String> {
    let mut types = files.flat_map(|f| {
        f.summary
            .structs
            .iter()
            .flat_map(|st| st.fields.iter())
            .filter(|fd| fd.name == field)
            .map(|fd| fd.type_text.clone())
            .collect::<Vec<_>>()
    });
    let ty = types.next()?;
    types.next().is_none().then_some(ty)
}

/// The struct type named `name` declared in the package's program files.
pub(crate) fn struct_type<'p>(
    pkg: &'p Package,
    name: &str,
) -> Option<&'p crate::source::model::StructType> {
    pkg.program_files()
        .flat_map(|f| f.summary.structs.iter())
        .find(|st| st.name == name)
}

/// The named value type of a map type as written (`T` for `map[string]*T`).
pub(crate) fn map_value_type(ty: &str) -> Option<&str> {
    let ty = ty.trim();
    if !ty.starts_with("map[") {
        return None;
    }
    Some(ty.rsplit(']').next()?.trim().trim_start_matches('*'))
}

/// The methods named `name` of the package's program files.
pub(crate) fn package_methods<'p>(pkg: &'p Package, name: &str) -> Vec<(&'p SourceFile, Node<'p>)> {
    let mut out = Vec::new();
    for f in pkg.program_files() {
        for n in named(f.tree.root_node()) {
            if n.kind() == "method_declaration" && syntax::function_name(n, &f.text) == Some(name) {
                out.push((f, n));
            }
        }
    }
    out
}

/// How a function is named in messages, as pprof names it: `Batch`, `(*Store).Put`,
/// `Store.Len`, or a package-level function literal.
pub(crate) fn function_label(node: Node<'_>, src: &str) -> String {
    let Some(decl) = syntax::enclosing_declaration(node).or_else(|| {
        syntax::is_function(node.kind())
            .then_some(node)
            .filter(|n| n.kind() != "func_literal")
    }) else {
        return "a package-level function literal".to_string();
    };
    let name = syntax::function_name(decl, src).unwrap_or("?");
    if decl.kind() == "method_declaration" {
        let ty = decl
            .child_by_field_name("receiver")
            .and_then(|r| named(r).into_iter().next())
            .and_then(|p| p.child_by_field_name("type"));
        if let Some(recv) = ty.and_then(|t| base_type_name(t, src)) {
            if ty.is_some_and(|t| t.kind() == "pointer_type") {
                return format!("(*{recv}).{name}");
            }
            return format!("{recv}.{name}");
        }
    }
    name.to_string()
}

/// Whether the code at `node` runs once per process rather than per request: in
/// `init`, in a package-level initializer, in `main` outside any loop, or in a
/// function literal run by `sync.Once` from one of those.
pub(crate) fn runs_once(node: Node<'_>, src: &str) -> bool {
    let mut n = node;
    let mut in_loop = false;
    loop {
        for a in ancestors(n) {
            if syntax::is_function(a.kind()) {
                break;
            }
            if a.kind() == "for_statement" {
                in_loop = true;
            }
        }
        let Some(f) = syntax::enclosing_function(n) else {
            return true;
        };
        match f.kind() {
            "func_literal" => match invocation(f, src) {
                Invocation::InPlace => {
                    n = f;
                    continue;
                }
                Invocation::Once => return true,
                Invocation::Later => return false,
            },
            "function_declaration" => {
                let name = syntax::function_name(f, src);
                let generic = f.child_by_field_name("type_parameters").is_some();
                if name == Some("init") && !generic {
                    return true;
                }
                let in_main_pkg = ancestors(f)
                    .last()
                    .and_then(|root| {
                        named(root)
                            .into_iter()
                            .find(|c| c.kind() == "package_clause")
                    })
                    .is_some_and(|p| {
                        syntax::text(p, src).split_whitespace().nth(1) == Some("main")
                    });
                return name == Some("main") && in_main_pkg && !in_loop;
            }
            _ => return false,
        }
    }
}

/// When a function literal runs.
enum Invocation {
    /// Where it is written: called in place, also by `go` and `defer`.
    InPlace,
    /// Once per process: the only argument of a `Do` call (`sync.Once`).
    Once,
    /// Whenever whoever holds it calls it.
    Later,
}

fn invocation(lit: Node<'_>, src: &str) -> Invocation {
    let mut node = lit;
    while let Some(p) = node.parent() {
        match p.kind() {
            "parenthesized_expression" => node = p,
            "call_expression"
                if p.child_by_field_name("function")
                    .is_some_and(|f| f.id() == node.id()) =>
            {
                return Invocation::InPlace;
            }
            "argument_list" if named(p).len() == 1 => {
                let once = p
                    .parent()
                    .and_then(|call| syntax::callee(call, src))
                    .is_some_and(|c| c.ends_with(".Do"));
                return if once {
                    Invocation::Once
                } else {
                    Invocation::Later
                };
            }
            _ => return Invocation::Later,
        }
    }
    Invocation::Later
}

/// A file with its imports, for resolving qualified calls.
pub(crate) struct FileCtx<'a> {
    pub file: &'a SourceFile,
    pub src: &'a str,
    pub imports: Vec<(String, String)>,
}

impl<'a> FileCtx<'a> {
    pub(crate) fn new(file: &'a SourceFile) -> Self {
        FileCtx {
            file,
            src: &file.text,
            imports: imports(file),
        }
    }

    /// For `pkg.F(...)` (or the callee expression `pkg.F`) with `pkg` an import of
    /// this file not shadowed at the call: the import path and `F`.
    pub(crate) fn qualified(&self, node: Node<'_>) -> Option<(&str, &'a str)> {
        let f = if node.kind() == "call_expression" {
            unparen(node.child_by_field_name("function")?)
        } else {
            node
        };
        if f.kind() != "selector_expression" {
            return None;
        }
        let operand = f.child_by_field_name("operand")?;
        if operand.kind() != "identifier" {
            return None;
        }
        let name = syntax::text(operand, self.src);
        let (_, path) = self.imports.iter().find(|(n, _)| n == name)?;
        if resolve(operand, name, self.src).is_some() {
            return None;
        }
        let field = f.child_by_field_name("field")?;
        Some((path.as_str(), syntax::text(field, self.src)))
    }

    /// Whether a call is the builtin `name` (not shadowed).
    pub(crate) fn is_builtin(&self, call: Node<'_>, name: &str) -> bool {
        is_builtin_call(call, name, self.src)
    }

    /// A location in this file.
    pub(crate) fn loc(&self, node: Node<'_>) -> Location {
        self.file.location(node)
    }
}

/// The value of an integer constant expression (literals, local and package-level
/// constants, `+ - * / % << >> & |`), when evident.
pub(crate) fn const_int(
    pkg: &Package,
    file: &SourceFile,
    node: Node<'_>,
    depth: usize,
) -> Option<i128> {
    if depth > MAX_DEPTH * 2 {
        return None;
    }
    let src: &str = &file.text;
    let node = unparen(node);
    match node.kind() {
        "int_literal" => parse_int(syntax::text(node, src)),
        "unary_expression" => {
            let v = const_int(pkg, file, node.child_by_field_name("operand")?, depth + 1)?;
            match operator(node, src) {
                "-" => v.checked_neg(),
                "+" => Some(v),
                _ => None,
            }
        }
        "binary_expression" => {
            let l = const_int(pkg, file, node.child_by_field_name("left")?, depth + 1)?;
            let r = const_int(pkg, file, node.child_by_field_name("right")?, depth + 1)?;
            match operator(node, src) {
                "+" => l.checked_add(r),
                "-" => l.checked_sub(r),
                "*" => l.checked_mul(r),
                "/" => l.checked_div(r),
                "%" => l.checked_rem(r),
                "<<" => u32::try_from(r)
                    .ok()
                    .filter(|s| *s < 64)
                    .and_then(|s| l.checked_shl(s)),
                ">>" => u32::try_from(r)
                    .ok()
                    .filter(|s| *s < 64)
                    .and_then(|s| l.checked_shr(s)),
                "&" => Some(l & r),
                "|" => Some(l | r),
                _ => None,
            }
        }
        "identifier" => {
            let name = syntax::text(node, src);
            if let Some(b) = resolve(node, name, src) {
                if b.kind == BindKind::Const && !b.multi {
                    return const_int(pkg, file, b.value?, depth + 1);
                }
                return None;
            }
            let (f, spec) = package_spec(pkg, name)?;
            if spec.kind() != "const_spec" {
                return None;
            }
            let names = field_nodes(spec, "name");
            let index = names
                .iter()
                .position(|n| syntax::text(*n, &f.text) == name)?;
            let values = items(spec.child_by_field_name("value"));
            let v = if values.len() == names.len() {
                values.get(index).copied()
            } else {
                None
            }?;
            const_int(pkg, f, v, depth + 1)
        }
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    let lower = t.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()
    } else if lower.len() > 1 && lower.starts_with('0') {
        i128::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse().ok()
    }
}

/// The lines where the values an expression evaluates to were allocated: composite
/// literals, `make`, `new`, conversions, concatenations and calls of other packages
/// at their own line, the whole body of a same-package function the value came from,
/// and, for a local, whatever was assigned to it before `expr` in its function.
pub(crate) fn alloc_sites(
    pkg: &Package,
    file: &SourceFile,
    expr: Node<'_>,
    out: &mut Vec<Location>,
) {
    let mut seen = HashSet::new();
    alloc_walk(pkg, file, expr, 0, &mut seen, out);
}

fn alloc_walk(
    pkg: &Package,
    file: &SourceFile,
    expr: Node<'_>,
    depth: usize,
    seen: &mut HashSet<(usize, usize)>,
    out: &mut Vec<Location>,
) {
    if depth > MAX_DEPTH || !seen.insert((expr.id(), depth)) {
        return;
    }
    let src: &str = &file.text;
    let expr = unparen(expr);
    match expr.kind() {
        "variadic_argument" => {
            if let Some(inner) = named(expr).into_iter().next() {
                alloc_walk(pkg, file, inner, depth, seen, out);
            }
        }
        "composite_literal" => {
            push_unique(out, file.location(expr));
            literal_values(pkg, file, expr, depth, seen, out);
        }
        "func_literal" | "type_conversion_expression" => {
            push_unique(out, file.location(expr));
        }
        "unary_expression" => {
            let operand = expr.child_by_field_name("operand").map(unparen);
            match (operator(expr, src), operand) {
                ("&", Some(o)) if o.kind() == "composite_literal" => {
                    push_unique(out, file.location(expr));
                    literal_values(pkg, file, o, depth, seen, out);
                }
                ("&", Some(o)) => alloc_walk(pkg, file, o, depth + 1, seen, out),
                _ => {}
            }
        }
        "binary_expression" if operator(expr, src) == "+" => {
            push_unique(out, file.location(expr));
        }
        "type_assertion_expression" => {
            if let Some(o) = expr.child_by_field_name("operand") {
                alloc_walk(pkg, file, o, depth + 1, seen, out);
            }
        }
        // A field of a local: of `var req T` filled by a package function
        // (`decodeJSON(w, r, &req)`), what that function allocates; of a local literal
        // (`s := &Session{ID: id}`), that field's value.
        "selector_expression" => {
            let (Some(o), Some(field)) = (
                expr.child_by_field_name("operand").map(unparen),
                expr.child_by_field_name("field"),
            ) else {
                return;
            };
            let field = syntax::text(field, src);
            let Some(b) = (o.kind() == "identifier")
                .then(|| resolve(o, syntax::text(o, src), src))
                .flatten()
            else {
                return;
            };
            match (b.kind, b.value.map(unparen)) {
                (BindKind::Var, None) => filled_by_calls(pkg, file, &b, expr.start_byte(), out),
                (BindKind::ShortVar | BindKind::Var, Some(v)) if !b.multi => {
                    let lit = match v.kind() {
                        "unary_expression" => v.child_by_field_name("operand").map(unparen),
                        _ => Some(v),
                    }
                    .filter(|l| l.kind() == "composite_literal");
                    let value = lit
                        .and_then(|l| l.child_by_field_name("body"))
                        .into_iter()
                        .flat_map(named)
                        .filter(|el| el.kind() == "keyed_element")
                        .find(|el| {
                            el.child_by_field_name("key")
                                .is_some_and(|k| syntax::text(k, src) == field)
                        })
                        .and_then(|el| el.child_by_field_name("value"))
                        .and_then(|v| named(v).into_iter().next());
                    if let Some(value) = value {
                        alloc_walk(pkg, file, value, depth + 1, seen, out);
                    }
                }
                _ => {}
            }
        }
        "call_expression" => {
            let Some(f) = expr.child_by_field_name("function").map(unparen) else {
                return;
            };
            if f.kind() == "identifier" {
                let name = syntax::text(f, src);
                if resolve(f, name, src).is_some() {
                    // A local function value: its allocations are its body's.
                    return;
                }
                if let Some((ff, decl)) = package_function(pkg, name) {
                    if let Some(body) = decl.child_by_field_name("body") {
                        push_unique(out, ff.location(body));
                    }
                    pool_news(pkg, ff, decl, out);
                    return;
                }
                // Builtins (`make`, `new`, `append`) and conversions to named types.
                push_unique(out, file.location(expr));
                return;
            }
            if f.kind() == "selector_expression" {
                let ctx_imports = imports(file);
                let operand = f.child_by_field_name("operand");
                let is_pkg = operand.is_some_and(|o| {
                    o.kind() == "identifier"
                        && ctx_imports.iter().any(|(n, _)| n == syntax::text(o, src))
                        && resolve(o, syntax::text(o, src), src).is_none()
                });
                if !is_pkg {
                    let method = f
                        .child_by_field_name("field")
                        .map(|m| syntax::text(m, src))
                        .unwrap_or("");
                    let methods = package_methods(pkg, method);
                    if let [(mf, decl)] = methods.as_slice() {
                        if let Some(body) = decl.child_by_field_name("body") {
                            push_unique(out, mf.location(body));
                        }
                        pool_news(pkg, mf, *decl, out);
                        return;
                    }
                }
            }
            push_unique(out, file.location(expr));
            pool_news(pkg, file, expr, out);
        }
        "identifier" => {
            let name = syntax::text(expr, src);
            let Some(b) = resolve(expr, name, src) else {
                return;
            };
            if matches!(b.kind, BindKind::ShortVar | BindKind::Var) {
                if let Some(v) = b.value {
                    alloc_walk(pkg, file, v, depth + 1, seen, out);
                } else if b.kind == BindKind::Var && b.ty.is_some_and(|t| t.kind() == "array_type")
                {
                    // A local array that escapes is allocated at its declaration.
                    push_unique(out, file.location(b.decl));
                } else if b.kind == BindKind::Var {
                    // `var req T` filled by a package function it is handed to
                    // (`decodeJSON(w, r, &req)`): what that function's body allocates.
                    filled_by_calls(pkg, file, &b, expr.start_byte(), out);
                }
                for v in assignments(&b, expr.start_byte(), src) {
                    alloc_walk(pkg, file, v, depth + 1, seen, out);
                }
            }
        }
        _ => {}
    }
}

/// For a local declared without a value (`var req T`), the bodies of the same-package
/// functions its address is passed to before `before` (`decodeJSON(w, r, &req)`).
fn filled_by_calls(
    pkg: &Package,
    file: &SourceFile,
    b: &Binding<'_>,
    before: usize,
    out: &mut Vec<Location>,
) {
    let src: &str = &file.text;
    let Some(scope) = scope_body(b) else {
        return;
    };
    let name = syntax::text(b.name, src);
    for call in syntax::descendants_of_kind(scope, "call_expression") {
        if call.start_byte() >= before {
            break;
        }
        let passes = syntax::call_args(call).iter().any(|a| {
            let a = unparen(*a);
            a.kind() == "unary_expression"
                && operator(a, src) == "&"
                && a.child_by_field_name("operand")
                    .map(unparen)
                    .is_some_and(|o| o.kind() == "identifier" && syntax::text(o, src) == name)
        });
        let callee = call
            .child_by_field_name("function")
            .map(unparen)
            .filter(|f| f.kind() == "identifier")
            .map(|f| syntax::text(f, src));
        let Some((ff, decl)) = callee
            .filter(|_| passes)
            .and_then(|n| package_function(pkg, n))
        else {
            continue;
        };
        if let Some(body) = decl.child_by_field_name("body") {
            push_unique(out, ff.location(body));
        }
    }
}

/// Follows the element values of a composite literal (`Entry{Body: body, Tags:
/// newTags()}`): values made elsewhere in the function or by a constructor are part of
/// what the literal keeps.
fn literal_values(
    pkg: &Package,
    file: &SourceFile,
    lit: Node<'_>,
    depth: usize,
    seen: &mut HashSet<(usize, usize)>,
    out: &mut Vec<Location>,
) {
    let Some(body) = lit.child_by_field_name("body") else {
        return;
    };
    for el in named(body) {
        let value = if el.kind() == "keyed_element" {
            el.child_by_field_name("value")
        } else {
            Some(el)
        };
        // A literal element wraps the expression.
        let Some(value) = value.and_then(|v| named(v).into_iter().next()) else {
            continue;
        };
        alloc_walk(pkg, file, value, depth + 1, seen, out);
    }
}

/// For the `p.Get()` calls under `node` on a package-level `sync.Pool` variable `p`
/// declared with a `New` function (`var bufPool = sync.Pool{New: func() any {...}}`): the
/// `New` function, where what `Get` hands out is allocated (the profile charges it there).
pub(crate) fn pool_news(pkg: &Package, file: &SourceFile, node: Node<'_>, out: &mut Vec<Location>) {
    let src: &str = &file.text;
    for call in descendants(node).filter(|n| n.kind() == "call_expression") {
        let Some(f) = call.child_by_field_name("function").map(unparen) else {
            continue;
        };
        if f.kind() != "selector_expression"
            || f.child_by_field_name("field")
                .is_none_or(|x| syntax::text(x, src) != "Get")
        {
            continue;
        }
        // A pool in a struct field (`e.scratch.Get()`): where the package sets its New
        // (`e.scratch.New = func() any { return newScratch() }`).
        let field_pool = f
            .child_by_field_name("operand")
            .map(unparen)
            .filter(|o| o.kind() == "selector_expression")
            .and_then(|o| o.child_by_field_name("field"))
            .map(|fl| syntax::text(fl, src));
        if let Some(field) = field_pool {
            for pf in pkg.program_files() {
                let psrc: &str = &pf.text;
                if !psrc.contains(".New") {
                    continue;
                }
                for a in
                    descendants(pf.tree.root_node()).filter(|n| n.kind() == "assignment_statement")
                {
                    let left = items(a.child_by_field_name("left"));
                    let right = items(a.child_by_field_name("right"));
                    let ([l], [r]) = (left.as_slice(), right.as_slice()) else {
                        continue;
                    };
                    let l = syntax::text(unparen(*l), psrc).replace(' ', "");
                    if l.ends_with(&format!(".{field}.New")) {
                        push_unique(out, pf.location(*r));
                    }
                }
            }
            continue;
        }
        let Some(pool) = f
            .child_by_field_name("operand")
            .map(unparen)
            .filter(|o| o.kind() == "identifier" && resolve_ident(*o, src).is_none())
        else {
            continue;
        };
        let Some((pf, spec)) = package_spec(pkg, syntax::text(pool, src)) else {
            continue;
        };
        let psrc: &str = &pf.text;
        let Some(lit) = spec
            .child_by_field_name("value")
            .and_then(|v| named(v).into_iter().next())
            .map(unparen)
            .filter(|v| v.kind() == "composite_literal")
        else {
            continue;
        };
        let is_pool = lit
            .child_by_field_name("type")
            .is_some_and(|t| syntax::text(t, psrc).ends_with("Pool"));
        let new = lit.child_by_field_name("body").and_then(|b| {
            named(b).into_iter().find_map(|el| {
                let key = el.child_by_field_name("key")?;
                (syntax::text(key, psrc) == "New")
                    .then(|| el.child_by_field_name("value"))
                    .flatten()
            })
        });
        if let (true, Some(new)) = (is_pool, new) {
            push_unique(out, pf.location(new));
        }
    }
}

/// Composite literals and `new` calls of the given types under `node` (`&T{...}` is
/// allocated as a whole at the `&`).
pub(crate) fn type_allocations(
    file: &SourceFile,
    node: Node<'_>,
    types: &HashSet<String>,
    out: &mut Vec<Location>,
) {
    if types.is_empty() {
        return;
    }
    let src: &str = &file.text;
    for n in descendants(node) {
        let ty = match n.kind() {
            "composite_literal" => n.child_by_field_name("type"),
            "call_expression" if syntax::callee(n, src) == Some("new") => {
                syntax::call_args(n).first().copied()
            }
            _ => None,
        };
        let Some(name) = ty.and_then(|t| base_type_name(t, src)) else {
            continue;
        };
        if types.contains(name) {
            let at = n
                .parent()
                .filter(|p| p.kind() == "unary_expression" && operator(*p, src) == "&")
                .unwrap_or(n);
            push_unique(out, file.location(at));
        }
    }
}

/// The type a method's receiver names (`T` for `func (s *T) M()`).
pub(crate) fn receiver_type<'s>(method: Node<'_>, src: &'s str) -> Option<&'s str> {
    let recv = method.child_by_field_name("receiver")?;
    let decl = named(recv).into_iter().next()?;
    base_type_name(decl.child_by_field_name("type")?, src)
}

/// Adds a location unless a location of the same file already covers its lines.
pub(crate) fn push_unique(out: &mut Vec<Location>, loc: Location) {
    let covered = out.iter().any(|l| {
        l.file == loc.file
            && l.span.start_line <= loc.span.start_line
            && loc.span.end_line <= l.span.end_line
    });
    if !covered {
        out.push(loc);
    }
}

/// The qualifier to write for `path` at `at` (e.g. `bytes`), and the edit adding the
/// import when the file lacks it. `None` when the name is taken (shadowed at `at`,
/// bound by another import or a package-level name) or the import is a dot or blank
/// import.
pub(crate) fn qualifier(
    pkg: &Package,
    file: &SourceFile,
    path: &str,
    at: Node<'_>,
) -> Option<(String, Vec<TextEdit>)> {
    let src: &str = &file.text;
    let mut blank_or_dot = false;
    for spec in import_specs(file.tree.root_node()) {
        let p = spec
            .child_by_field_name("path")
            .map(|p| syntax::text(p, src).trim_matches(|c| c == '"' || c == '`'))
            .unwrap_or("");
        if p != path {
            continue;
        }
        match spec.child_by_field_name("name") {
            Some(n) if n.kind() == "package_identifier" => {
                let name = syntax::text(n, src);
                return resolve(at, name, src)
                    .is_none()
                    .then(|| (name.to_string(), Vec::new()));
            }
            Some(_) => blank_or_dot = true,
            None => {
                let name = path.rsplit('/').next().unwrap_or(path);
                return resolve(at, name, src)
                    .is_none()
                    .then(|| (name.to_string(), Vec::new()));
            }
        }
    }
    if blank_or_dot {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let taken = imports(file).iter().any(|(n, _)| n == name)
        || package_decl(pkg, name).is_some()
        || package_function(pkg, name).is_some()
        || resolve(at, name, src).is_some();
    if taken {
        return None;
    }
    let edit = import_edit(file, path)?;
    Some((name.to_string(), vec![edit]))
}

/// An edit adding `import "path"`: into the first group of a parenthesized import
/// list at its sorted place, else after the last import, else after the package
/// clause.
fn import_edit(file: &SourceFile, path: &str) -> Option<TextEdit> {
    let src: &str = &file.text;
    let root = file.tree.root_node();
    let top = named(root);
    let insert = |at: usize, text: String| TextEdit {
        file: file.path().to_path_buf(),
        start_byte: at,
        end_byte: at,
        new_text: text,
    };
    let line_start = |byte: usize| {
        src.get(..byte)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1)
    };
    let line_end = |byte: usize| {
        src.get(byte..)
            .and_then(|s| s.find('\n'))
            .map_or(src.len(), |i| byte + i)
    };
    let decls: Vec<Node<'_>> = top
        .iter()
        .copied()
        .filter(|n| n.kind() == "import_declaration")
        .collect();
    if let Some(list) = decls.iter().find_map(|d| {
        named(*d)
            .into_iter()
            .find(|c| c.kind() == "import_spec_list")
    }) {
        let specs: Vec<Node<'_>> = named(list)
            .into_iter()
            .filter(|n| n.kind() == "import_spec")
            .collect();
        let first = specs.first()?;
        // The first group: specs up to the first blank line.
        let mut group = vec![*first];
        for s in specs.iter().skip(1) {
            let prev = group.last().copied()?;
            let gap = src.get(prev.end_byte()..s.start_byte()).unwrap_or("");
            if gap.matches('\n').count() > 1 {
                break;
            }
            group.push(*s);
        }
        let spec_path = |s: Node<'_>| {
            s.child_by_field_name("path")
                .map(|p| syntax::text(p, src).trim_matches(|c| c == '"' || c == '`'))
                .unwrap_or("")
        };
        let indent_of = |s: Node<'_>| {
            let ls = line_start(s.start_byte());
            src.get(ls..s.start_byte())
                .filter(|w| w.chars().all(char::is_whitespace))
                .unwrap_or("\t")
                .to_string()
        };
        let indent = indent_of(*first);
        let std_group = !spec_path(*first)
            .split('/')
            .next()
            .unwrap_or("")
            .contains('.');
        if std_group {
            if let Some(after) = group.iter().find(|s| spec_path(**s) > path) {
                return Some(insert(
                    line_start(after.start_byte()),
                    format!("{indent}\"{path}\"\n"),
                ));
            }
            let last = group.last()?;
            let end = line_end(last.end_byte());
            let at = (end + 1).min(src.len());
            if end >= src.len() {
                return Some(insert(at, format!("\n{indent}\"{path}\"")));
            }
            return Some(insert(at, format!("{indent}\"{path}\"\n")));
        }
        return Some(insert(
            line_start(first.start_byte()),
            format!("{indent}\"{path}\"\n\n"),
        ));
    }
    if let Some(last) = decls.last() {
        let end = line_end(last.end_byte());
        return Some(insert(end, format!("\nimport \"{path}\"")));
    }
    let clause = top.iter().find(|n| n.kind() == "package_clause")?;
    let end = line_end(clause.end_byte());
    Some(insert(end, format!("\n\nimport \"{path}\"")))
}

/// The edits writing `before` in front of `node` and `after` behind it.
pub(crate) fn wrap(file: &SourceFile, node: Node<'_>, before: &str, after: &str) -> Vec<TextEdit> {
    let edit = |at: usize, text: &str| TextEdit {
        file: file.path().to_path_buf(),
        start_byte: at,
        end_byte: at,
        new_text: text.to_string(),
    };
    vec![
        edit(node.start_byte(), before),
        edit(node.end_byte(), after),
    ]
}

/// Where a stored value ends up: the container it outlives its function in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SinkKind {
    /// Assigned to a package-level variable.
    Global,
    /// Assigned to a field (or through a pointer).
    Field,
    /// Written as an element of a package-level, field or parameter container.
    Element,
    /// Used as the key of a map write.
    MapKey,
    /// Appended to a package-level, field or parameter slice.
    Append,
    /// Sent on a channel.
    Send,
    /// Returned to the caller.
    Return,
}

/// A place where a value is stored so that it outlives the function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sink<'t> {
    pub kind: SinkKind,
    /// The statement that stores it (the cause line).
    pub stmt: Node<'t>,
    /// The container: the variable, field, map, slice or channel expression.
    pub container: Option<Node<'t>>,
    /// The expression to wrap in a copy: the value as written at the store.
    pub value: Node<'t>,
}

/// The sinks of a value: where `value` (or a local it is bound to, followed a few
/// steps) is stored into a package-level variable, a field, a non-local container, a
/// channel or, with `returns`, returned.
pub(crate) fn sinks<'t>(
    pkg: &Package,
    file: &SourceFile,
    value: Node<'t>,
    returns: bool,
) -> Vec<Sink<'t>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let start = Walk {
        at: value,
        origin: value,
        direct: true,
    };
    sinks_walk(pkg, file, start, returns, 0, &mut seen, &mut out);
    out
}

/// One step of following a value: where it is now, the expression the walk started
/// from, and whether the value at `at` is still that expression itself (not a literal
/// or slice containing it).
#[derive(Clone, Copy)]
struct Walk<'t> {
    at: Node<'t>,
    origin: Node<'t>,
    direct: bool,
}

impl<'t> Walk<'t> {
    fn sink(&self, kind: SinkKind, stmt: Node<'t>, container: Option<Node<'t>>) -> Sink<'t> {
        Sink {
            kind,
            stmt,
            container,
            value: if self.direct { self.at } else { self.origin },
        }
    }
}

fn sinks_walk<'t>(
    pkg: &Package,
    file: &SourceFile,
    walk: Walk<'t>,
    returns: bool,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Vec<Sink<'t>>,
) {
    if depth > MAX_DEPTH || !seen.insert(walk.at.id()) {
        return;
    }
    let src: &str = &file.text;
    let mut direct = walk.direct;
    let mut cur = walk.at;
    let mut at = walk.at;
    let here = |at: Node<'t>, direct: bool| Walk {
        at,
        origin: walk.origin,
        direct,
    };
    loop {
        let Some(mut p) = cur.parent() else { return };
        if p.kind() == "expression_list" {
            // Lists are looked through: `cur` stays the element, so its position in
            // the statement's list is known.
            let Some(pp) = p.parent() else { return };
            p = pp;
        }
        match p.kind() {
            "parenthesized_expression" => cur = p,
            "literal_element" | "literal_value" | "composite_literal" | "keyed_element" => {
                direct = false;
                cur = p;
            }
            "unary_expression" if operator(p, src) == "&" => {
                direct = false;
                cur = p;
            }
            "variadic_argument" => {
                direct = false;
                cur = p;
            }
            "argument_list" => {
                if cur.kind() == "variadic_argument" {
                    // `append(x, v...)` copies the elements, not the array.
                    return;
                }
                let Some(call) = p.parent() else { return };
                let args = named(p);
                let first = args.first().copied();
                if first.is_some_and(|f| f.id() == cur.id()) && is_trim_call(file, call) {
                    // `strings.TrimSpace(v)` is a part of `v`: follow the result.
                    cur = call;
                    if direct {
                        at = call;
                    }
                    continue;
                }
                if !is_builtin_call(call, "append", src) || first.is_none_or(|f| f.id() == cur.id())
                {
                    return;
                }
                let Some(target) = first else { return };
                direct = false;
                if let Target::Escapes(_) = classify_target(pkg, file, target) {
                    if is_assigned_to(syntax::statement_of(call), call, target, src) {
                        let stmt = syntax::statement_of(call);
                        out.push(here(at, direct).sink(SinkKind::Append, stmt, Some(target)));
                        return;
                    }
                }
                cur = call;
            }
            "assignment_statement" => {
                let right = items(p.child_by_field_name("right"));
                let left = items(p.child_by_field_name("left"));
                let Some(i) = right.iter().position(|n| n.id() == cur.id()) else {
                    return;
                };
                if left.len() != right.len() || operator(p, src) != "=" {
                    return;
                }
                let Some(target) = left.get(i).copied().map(unparen) else {
                    return;
                };
                match classify_target(pkg, file, target) {
                    Target::Escapes(kind) => {
                        let container = if target.kind() == "index_expression" {
                            target.child_by_field_name("operand")
                        } else {
                            Some(target)
                        };
                        out.push(here(at, direct).sink(kind, p, container))
                    }
                    Target::Local(b) => {
                        // Stored into a local object: follow the object.
                        let direct = direct && unparen(target).kind() == "identifier";
                        follow(pkg, file, &b, here(at, direct), returns, depth, seen, out)
                    }
                    Target::None => {}
                }
                return;
            }
            "short_var_declaration" | "var_spec" => {
                if syntax::is_package_level(p) {
                    // A package-level initializer runs once.
                    return;
                }
                let (left, right) = if p.kind() == "var_spec" {
                    (
                        field_nodes(p, "name"),
                        items(p.child_by_field_name("value")),
                    )
                } else {
                    (
                        items(p.child_by_field_name("left")),
                        items(p.child_by_field_name("right")),
                    )
                };
                let Some(i) = right.iter().position(|n| n.id() == cur.id()) else {
                    return;
                };
                if left.len() != right.len() {
                    return;
                }
                let Some(name) = left.get(i).copied() else {
                    return;
                };
                if let Some(b) = binding_declared_by(p, name, src) {
                    follow(pkg, file, &b, here(at, direct), returns, depth, seen, out);
                }
                return;
            }
            "send_statement" => {
                if p.child_by_field_name("value")
                    .is_some_and(|v| v.id() == cur.id())
                {
                    out.push(here(at, direct).sink(
                        SinkKind::Send,
                        p,
                        p.child_by_field_name("channel"),
                    ));
                }
                return;
            }
            "return_statement" => {
                if returns {
                    out.push(here(at, direct).sink(SinkKind::Return, p, None));
                }
                return;
            }
            "index_expression" => {
                // Only as a map key: `m[v] = x`, `m[v]++`, `m[v] += n`.
                if p.child_by_field_name("index").map(|i| i.id()) != Some(cur.id()) {
                    return;
                }
                let Some(container) = p.child_by_field_name("operand") else {
                    return;
                };
                let Some(stmt) = p.parent().and_then(|l| {
                    if l.kind() == "expression_list" {
                        l.parent()
                    } else {
                        Some(l)
                    }
                }) else {
                    return;
                };
                let written = match stmt.kind() {
                    "assignment_statement" => items(stmt.child_by_field_name("left"))
                        .iter()
                        .any(|n| unparen(*n).id() == p.id()),
                    "inc_statement" | "dec_statement" => true,
                    _ => false,
                };
                if written {
                    if let Target::Escapes(_) = classify_target(pkg, file, p) {
                        out.push(here(at, direct).sink(SinkKind::MapKey, stmt, Some(container)));
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

/// Whether a call is a `strings` or `bytes` trim function, whose result is a part of
/// its first argument.
pub(crate) fn is_trim_call(file: &SourceFile, call: Node<'_>) -> bool {
    FileCtx::new(file)
        .qualified(call)
        .is_some_and(|(path, func)| matches!(path, "strings" | "bytes") && is_trim_func(func))
}

/// For a `strings` or `bytes` function whose results are parts of its first argument
/// cut at separators: `Some(false)` for the slice forms (`Split`, `Fields`, ...), indexed
/// or ranged as `for _, part := range`; `Some(true)` for the iterator forms (`Lines`,
/// `SplitSeq`, `FieldsSeq`, ...), ranged as `for part := range`.
pub(crate) fn split_kind(func: &str) -> Option<bool> {
    match func {
        "Split" | "SplitN" | "SplitAfter" | "SplitAfterN" | "Fields" | "FieldsFunc" => Some(false),
        "Lines" | "SplitSeq" | "SplitAfterSeq" | "FieldsSeq" | "FieldsFuncSeq" => Some(true),
        _ => None,
    }
}

/// Whether a `strings` or `bytes` function returns a part of its first argument.
pub(crate) fn is_trim_func(func: &str) -> bool {
    matches!(
        func,
        "TrimSpace"
            | "Trim"
            | "TrimLeft"
            | "TrimRight"
            | "TrimPrefix"
            | "TrimSuffix"
            | "TrimFunc"
            | "TrimLeftFunc"
            | "TrimRightFunc"
    )
}

/// Whether a call is the builtin `name` (not shadowed by a local).
pub(crate) fn is_builtin_call(call: Node<'_>, name: &str, src: &str) -> bool {
    call.kind() == "call_expression"
        && call
            .child_by_field_name("function")
            .map(unparen)
            .is_some_and(|f| {
                f.kind() == "identifier"
                    && syntax::text(f, src) == name
                    && resolve(f, name, src).is_none()
            })
}

/// Whether `call` is the right-hand side of `target = call` at `stmt`.
fn is_assigned_to(stmt: Node<'_>, call: Node<'_>, target: Node<'_>, src: &str) -> bool {
    if stmt.kind() != "assignment_statement" || operator(stmt, src) != "=" {
        return false;
    }
    let left = items(stmt.child_by_field_name("left"));
    let right = items(stmt.child_by_field_name("right"));
    left.len() == right.len()
        && left.iter().zip(right.iter()).any(|(l, r)| {
            unparen(*r).id() == call.id()
                && same_expr(syntax::text(*l, src), syntax::text(target, src))
        })
}

/// The binding a declaration statement makes for one of its names.
fn binding_declared_by<'t>(decl: Node<'t>, name: Node<'t>, src: &str) -> Option<Binding<'t>> {
    let text = syntax::text(name, src);
    let parent = decl.parent()?;
    let stmt = if decl.kind() == "var_spec" {
        ancestors(decl).find(|a| a.kind() == "var_declaration")?
    } else {
        decl
    };
    declares(stmt.parent().unwrap_or(parent), stmt, text, src)
}

/// Follows a local to the places it is stored.
#[allow(clippy::too_many_arguments)]
fn follow<'t>(
    pkg: &Package,
    file: &SourceFile,
    b: &Binding<'t>,
    walk: Walk<'t>,
    returns: bool,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Vec<Sink<'t>>,
) {
    if matches!(b.kind, BindKind::Param) {
        return;
    }
    for u in uses(b, &file.text) {
        let next = Walk {
            at: u,
            origin: walk.origin,
            direct: walk.direct,
        };
        sinks_walk(pkg, file, next, returns, depth + 1, seen, out);
    }
}

/// What an assignment target is.
pub(crate) enum Target<'t> {
    /// Outlives the function.
    Escapes(SinkKind),
    /// A local variable, whose own uses may store the value.
    Local(Binding<'t>),
    /// Blank, or a container local to the function.
    None,
}

pub(crate) fn classify_target<'t>(
    pkg: &Package,
    file: &SourceFile,
    target: Node<'t>,
) -> Target<'t> {
    let src: &str = &file.text;
    let target = unparen(target);
    match target.kind() {
        "identifier" => {
            let name = syntax::text(target, src);
            if name == "_" {
                return Target::None;
            }
            match resolve(target, name, src) {
                Some(b) if b.kind == BindKind::Param => Target::None,
                Some(b) => Target::Local(b),
                None if is_package_var(pkg, name) => Target::Escapes(SinkKind::Global),
                None => Target::None,
            }
        }
        "selector_expression" | "index_expression" | "unary_expression" => {
            let kind = if target.kind() == "index_expression" {
                SinkKind::Element
            } else {
                SinkKind::Field
            };
            if target.kind() == "unary_expression" && operator(target, src) != "*" {
                return Target::None;
            }
            let Some(root) = root_ident(target) else {
                return Target::Escapes(kind);
            };
            // A qualified name of another package: `pkg.Var = v`.
            let root_name = syntax::text(root, src);
            match resolve(root, root_name, src) {
                None if is_package_var(pkg, root_name) => Target::Escapes(kind),
                None => {
                    if imports(file).iter().any(|(n, _)| n == root_name) {
                        Target::Escapes(SinkKind::Global)
                    } else {
                        Target::None
                    }
                }
                Some(b) if b.kind == BindKind::Param => Target::Escapes(kind),
                Some(b) if local_value_container(&b, src) => Target::None,
                Some(b) if local_new_object(&b, src) => Target::Local(b),
                Some(_) => Target::Escapes(kind),
            }
        }
        _ => Target::None,
    }
}

/// Whether a local holds a container or struct value made in this function (a map,
/// slice or struct literal, `make`, or a `var` of a non-pointer type), so writing
/// into it does not outlive the function by itself.
fn local_value_container(b: &Binding<'_>, src: &str) -> bool {
    if let Some(v) = b.value.map(unparen) {
        if b.multi {
            return false;
        }
        return match v.kind() {
            "composite_literal" => true,
            "call_expression" => syntax::callee(v, src) == Some("make"),
            _ => false,
        };
    }
    b.kind == BindKind::Var && b.ty.is_some_and(|t| t.kind() != "pointer_type")
}

/// Whether a local (the parent of a slice or substring) is itself stored where it
/// outlives the call, so a part of it keeps nothing more alive.
pub(crate) fn stored_itself(pkg: &Package, file: &SourceFile, parent: Node<'_>) -> bool {
    let parent = unparen(parent);
    let Some(b) = resolve_ident(parent, &file.text) else {
        return false;
    };
    uses(&b, &file.text).into_iter().any(|u| {
        sinks(pkg, file, u, true)
            .iter()
            .any(|s| s.value.id() == u.id())
    })
}

/// [`stored_itself`], leaving out a return of the local as a field of a result object
/// (`return &Document{Bytes: buf, Info: info}`): a caller keeping only another field of
/// that object (`Info: doc.Info`) does not keep it.
pub(crate) fn stored_beyond_results(pkg: &Package, file: &SourceFile, parent: Node<'_>) -> bool {
    let parent = unparen(parent);
    let Some(b) = resolve_ident(parent, &file.text) else {
        return false;
    };
    uses(&b, &file.text).into_iter().any(|u| {
        sinks(pkg, file, u, true).iter().any(|s| {
            let in_literal = syntax::ancestors(u)
                .take_while(|a| a.id() != s.stmt.id())
                .any(|a| a.kind() == "literal_value");
            s.value.id() == u.id() && !(s.kind == SinkKind::Return && in_literal)
        })
    })
}

/// Whether a local points to an object made in this function (`&T{}`, `new(T)`), so a
/// value written into it goes wherever the object goes.
fn local_new_object(b: &Binding<'_>, src: &str) -> bool {
    if b.multi {
        return false;
    }
    b.value.map(unparen).is_some_and(|v| match v.kind() {
        "unary_expression" => {
            operator(v, src) == "&"
                && v.child_by_field_name("operand")
                    .map(unparen)
                    .is_some_and(|o| o.kind() == "composite_literal")
        }
        "call_expression" => syntax::callee(v, src) == Some("new"),
        _ => false,
    })
}

/// The workspace packages the package's program files import.
pub(crate) fn imported_packages(cx: &Context<'_>) -> Vec<std::sync::Arc<Package>> {
    let paths: std::collections::BTreeSet<String> = cx
        .program_files()
        .flat_map(|f| imports(f).into_iter().map(|(_, p)| p))
        .collect();
    paths.iter().filter_map(|p| cx.other_package(p)).collect()
}

/// Calls of a function or method (by name) in the package's program files, with the
/// file each is in.
pub(crate) fn callers<'p>(
    pkg: &'p Package,
    func: Node<'_>,
    src: &str,
) -> Vec<(&'p SourceFile, Node<'p>)> {
    let Some(name) = syntax::function_name(func, src) else {
        return Vec::new();
    };
    let method = func.kind() == "method_declaration";
    let mut out = Vec::new();
    for f in pkg.program_files() {
        for call in descendants(f.tree.root_node()).filter(|n| n.kind() == "call_expression") {
            let Some(callee) = call.child_by_field_name("function").map(unparen) else {
                continue;
            };
            let hit = if method {
                callee.kind() == "selector_expression"
                    && callee
                        .child_by_field_name("field")
                        .is_some_and(|fl| syntax::text(fl, &f.text) == name)
            } else {
                callee.kind() == "identifier"
                    && syntax::text(callee, &f.text) == name
                    && resolve(callee, name, &f.text).is_none()
            };
            if hit {
                out.push((f, call));
            }
        }
    }
    out
}

/// Calls of a function or method of the context's package from the other workspace
/// packages: `pkg.F(...)` in a file importing the package for a function, `x.M(...)`
/// (not qualified by an import) in a package importing it for a method. Without types a
/// method is matched by name, so a caller may be a method of the same name of another
/// type. `visit` gets each call with its package and file and returns `false` to stop.
pub(crate) fn calls_from_other_packages(
    cx: &Context<'_>,
    func: Node<'_>,
    src: &str,
    visit: &mut dyn FnMut(&Package, &SourceFile, Node<'_>) -> bool,
) {
    let Some(name) = syntax::function_name(func, src) else {
        return;
    };
    let method = func.kind() == "method_declaration";
    for path in cx.packages_calling(name) {
        let Some(other) = cx.other_package(&path) else {
            continue;
        };
        for (file, call) in calls_into(&other, &cx.import_path, name, method) {
            if !visit(&other, file, call) {
                return;
            }
        }
    }
}

/// The calls in `other`'s program files of the function or method `name` of the package
/// `path`: `pkg.name(...)` in a file importing it for a function, `x.name(...)` (not
/// qualified by an import) in a package importing it for a method.
pub(crate) fn calls_into<'o>(
    other: &'o Package,
    path: &str,
    name: &str,
    method: bool,
) -> Vec<(&'o SourceFile, Node<'o>)> {
    let quals: Vec<Option<&str>> = other
        .program_files()
        .map(|f| import_name(f.tree.root_node(), &f.text, path))
        .collect();
    let mut out = Vec::new();
    if quals.iter().all(Option::is_none) {
        return out;
    }
    for (file, qual) in other.program_files().zip(&quals) {
        let fsrc: &str = &file.text;
        if !method && qual.is_none() {
            continue;
        }
        for call in syntax::descendants_of_kind(file.tree.root_node(), "call_expression") {
            let Some(f) = call.child_by_field_name("function").map(unparen) else {
                continue;
            };
            if f.kind() != "selector_expression"
                || f.child_by_field_name("field")
                    .is_none_or(|fl| syntax::text(fl, fsrc) != name)
            {
                continue;
            }
            let qualified = f
                .child_by_field_name("operand")
                .map(unparen)
                .is_some_and(|o| {
                    o.kind() == "identifier"
                        && Some(syntax::text(o, fsrc)) == *qual
                        && resolve_ident(o, fsrc).is_none()
                });
            if qualified != method {
                out.push((file, call));
            }
        }
    }
    out
}

/// For a value that is a parameter of a function or method (`func (m *Memo) Put(k K, v
/// V)`), the allocation sites of the arguments the other workspace packages pass for it
/// (the callers in the package itself are followed by the rules' own value flow).
pub(crate) fn param_alloc_sites_in_callers(
    cx: &Context<'_>,
    file: &SourceFile,
    value: Node<'_>,
    out: &mut Vec<Location>,
) {
    let src: &str = &file.text;
    let Some(b) = resolve_ident(unparen(value), src) else {
        return;
    };
    let Some(pos) = param_position(&b) else {
        return;
    };
    let Some(func) = b.decl.parent().and_then(|l| l.parent()) else {
        return;
    };
    if !matches!(func.kind(), "function_declaration" | "method_declaration") {
        return;
    }
    // A variadic parameter takes the arguments from its position on.
    let variadic = b.decl.kind() == "variadic_parameter_declaration";
    calls_from_other_packages(cx, func, src, &mut |pkg, f, call| {
        let args = syntax::call_args(call);
        let taken = if variadic {
            args.get(pos..).unwrap_or_default()
        } else {
            args.get(pos..=pos).unwrap_or_default()
        };
        for arg in taken {
            alloc_sites(pkg, f, *arg, out);
        }
        true
    });
}

/// Test support: writes `go.mod` (module `example.com/app`, `go` version as given)
/// and the files to a temporary directory and runs `go build ./...` there without
/// network or toolchain downloads. Without `go` on PATH, says so and returns.
#[cfg(test)]
pub(crate) fn assert_go_builds(go_version: &str, files: &[(&str, &str)]) {
    use std::process::Command;
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("note: go is not installed; skipping the compile check of the fixed file");
        return;
    }
    let dir = crate::source::fixture::TempDir::new("gobuild");
    let module = format!("module example.com/app\n\ngo {go_version}\n");
    std::fs::write(dir.path.join("go.mod"), module).expect("write go.mod");
    for (name, text) in files {
        let path = dir.path.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, text).expect("write file");
    }
    let out = Command::new("go")
        .args(["build", "./..."])
        .current_dir(&dir.path)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        files
            .iter()
            .map(|(n, t)| format!("-- {n} --\n{t}"))
            .collect::<String>()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse::parse_tree;

    /// Each case is a function body; the last `x` in it is resolved. The expectation is
    /// the 1-based line (within the case) of the identifier that declares the variable it
    /// names, or `None` for a package-level name.
    #[test]
    fn names_resolve_with_go_scoping() {
        let cases: [(&str, &str, Option<usize>); 9] = [
            ("parameter", "func f(x int) {\nuse(x)\n}", Some(1)),
            ("package level", "func f() {\nuse(x)\n}", None),
            (
                "inner block shadows",
                "func f() {\nx := 1\n{\nx := 2\nuse(x)\n}\n}",
                Some(4),
            ),
            (
                "outer after inner block",
                "func f() {\nx := 1\n{\nx := 2\n_ = x\n}\nuse(x)\n}",
                Some(2),
            ),
            (
                "redeclaration by :=",
                "func f() {\nx, a := g()\nx, b := g()\nuse(x, a, b)\n}",
                Some(2),
            ),
            (
                "redeclared parameter",
                "func f(x int) {\nx, err := g()\nuse(x, err)\n}",
                Some(1),
            ),
            (
                "captured by a literal",
                "func f() {\nx := 1\ngo func() {\nuse(x)\n}()\n}",
                Some(2),
            ),
            (
                "if initializer",
                "func f() {\nif x := g(); x > 0 {\nuse(x)\n}\n}",
                Some(2),
            ),
            (
                "type switch alias in a case",
                "func f(v any) {\nswitch x := v.(type) {\ncase int:\nuse(x)\n}\n}",
                Some(2),
            ),
        ];
        for (what, body, want) in cases {
            let src = format!("package p\n\n{body}\n");
            let tree = parse_tree(&src, None).unwrap();
            let x = syntax::descendants_of_kind(tree.root_node(), "identifier")
                .filter(|n| text(*n, &src) == "x")
                .last()
                .unwrap();
            let got = declaring_ident(x, &src).map(|d| syntax::span(d).start_line as usize - 2);
            assert_eq!(got, want, "{what}");
        }
    }

    /// `alloc_sites` of the last value stored into `items` in each function: a field of
    /// a `var` a package function decodes into is that function's body; a field of a
    /// local literal is that field's value, not the literal.
    #[test]
    fn fields_of_locals_lead_to_what_fills_them() {
        use crate::source::fixture::load;
        use crate::source::index::LoadOptions;
        let fixture = r#"-- go.mod --
module example.com/app

go 1.22
-- a.go --
package app

var items = map[string]Item{}

type Item struct {
	Name string
	Data []byte
}

type request struct {
	Item Item
	ID   string
}

func decode(b []byte, v *request) {
	v.Item.Data = make([]byte, len(b))
}

func handle(b []byte) {
	var req request
	decode(b, &req)
	items[req.ID] = req.Item
}

func add(id string, n int) {
	e := &Item{Name: id, Data: make([]byte, n)}
	items[id] = e.Data
}
"#;
        let (_dir, ws) = load(fixture, &LoadOptions::default());
        let pkg = Package::load(&ws, "example.com/app", &[]);
        let file = pkg.program_files().next().expect("a.go");
        let src: &str = &file.text;
        let lines: Vec<Vec<u32>> =
            syntax::descendants_of_kind(file.tree.root_node(), "assignment_statement")
                .filter(|a| syntax::text(*a, src).starts_with("items["))
                .map(|a| {
                    let value = items(a.child_by_field_name("right"))[0];
                    let mut out = Vec::new();
                    alloc_sites(&pkg, file, value, &mut out);
                    out.iter().map(|l| l.span.start_line).collect()
                })
                .collect();
        // decode's body starts on line 15; the `make` of add's literal is on line 26.
        assert_eq!(lines, vec![vec![15], vec![26]]);
    }

    #[test]
    fn import_names_follow_go_rules() {
        let cases = [
            ("\"net/http\"", Some("http")),
            ("h \"net/http\"", Some("h")),
            ("_ \"net/http\"", None),
            (". \"net/http\"", None),
            ("\"github.com/hashicorp/golang-lru/v2\"", Some("golang-lru")),
            ("\"gopkg.in/yaml.v3\"", Some("yaml")),
            ("\"github.com/mattn/go-sqlite3\"", Some("sqlite3")),
        ];
        for (spec, want) in cases {
            let path = spec
                .rsplit(' ')
                .next()
                .unwrap_or(spec)
                .trim_matches('"')
                .to_string();
            let src = format!("package p\n\nimport (\n\t{spec}\n)\n");
            let tree = parse_tree(&src, None).unwrap();
            assert_eq!(import_name(tree.root_node(), &src, &path), want, "{spec}");
        }
    }
}
