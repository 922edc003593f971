//! Turns one Go file into its [`FileSummary`] with tree-sitter-go: the package clause,
//! every function, method and function literal named as pprof names it, package-level
//! declarations, struct types, and the container writes and calls the leak rules read.
//! The tree is walked once, iteratively (no recursion, so deep nesting cannot overflow
//! the stack), and dropped: only the summary is kept.
//!
//! Names follow the Go toolchain (checked against Go 1.26 binaries and profiles):
//! - `F`, methods `(*T).M` and `T.M`; generic functions `F[...]` and methods on generic
//!   types `(*T[...]).M` (profiles show instantiations such as `F[go.shape.int]`, see
//!   [`normalize_symbol`](super::names::normalize_symbol)).
//! - Function literals are numbered in source order per enclosing function: `F.func1`,
//!   `F.func2`; inside a literal the suffix is just the number: `F.func1.1`, `F.func1.2`.
//! - `func init` is `init.0`, `init.1`, ... and literals in package-level initializers are
//!   `init.func1`, `init.func2`, ... (before Go 1.22 `glob..func1`). Both counters run
//!   across the files of a package, so a summary numbers them within its file and the
//!   index shifts them ([`Workspace`](super::index::Workspace)).
//! - `go` and `defer` statements whose call is not a plain call without arguments get a
//!   compiler-made wrapper, `F.gowrap1`, `F.deferwrap2` (one counter for both per
//!   function), which goroutine profiles show as the goroutine's function.
//! - Literals in a function named `_` are `glob..func1`, ... (numbered per file here).
//! - Not named here because no declaration carries the name: bodies of range-over-func
//!   loops (`F-range1`, normalized to `F`), closures renamed by inlining
//!   (`caller.callee.func1`), the package initializer `init` and `map.init.0`, method
//!   wrappers (`(*T).M` for a value method, promoted methods, `-fm`), cgo's `_Cfunc_*`, and
//!   `//go:linkname` aliases. Their frames map by file and line instead.
//!
//! Operations are recorded for what can outlive a call: an index write, `append`,
//! `delete` or `clear` whose operand is rooted at a field, a package-level name or a name
//! captured from an enclosing function is kept; one rooted at a parameter or local of the
//! innermost function is dropped (scopes are tracked, so a local shadowing a global
//! counts as local). `Assign` is a plain `=` to such a target. Every other call is kept
//! as a `Call` (builtins included; `delete` and `clear` are their own kinds).

use std::cell::RefCell;
use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{Language, Node, Parser, Tree};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::model::{
    Decl, DeclKind, Field, FileSummary, Function, FunctionKind, Op, OpKind, Span, StructType,
};

/// Longest initializer text kept in [`Decl::value_text`] and longest operand kept in
/// [`Op::target`]; longer ones are cut at a character boundary and end in `…`.
pub const MAX_TEXT: usize = 256;

/// The tree-sitter-go language.
pub fn language() -> Language {
    tree_sitter_go::LANGUAGE.into()
}

thread_local! {
    /// One parser per thread, reused across files.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Go text, reusing `old` (already edited with [`Tree::edit`]) for an incremental
/// parse. `None` only if the parser could not be set up.
pub fn parse_tree(text: &str, old: Option<&Tree>) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&language()).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(text, old)
    })
}

/// Node kind names by kind id and field ids, looked up once: `Node::kind` measures and
/// validates the C string on every call and `child_by_field_name` searches the field
/// names, which shows in the profile of a workspace load.
struct Grammar {
    kinds: Vec<&'static str>,
    fields: Fields,
}

/// Field ids of the tree-sitter-go grammar (0 when a name is unknown, which matches no
/// child).
struct Fields {
    alias: u16,
    arguments: u16,
    body: u16,
    function: u16,
    left: u16,
    name: u16,
    operand: u16,
    operator: u16,
    parameters: u16,
    path: u16,
    receiver: u16,
    result: u16,
    right: u16,
    type_: u16,
    type_parameters: u16,
    value: u16,
}

fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let lang = language();
        let kinds = (0..lang.node_kind_count())
            .map(|i| {
                u16::try_from(i)
                    .ok()
                    .and_then(|i| lang.node_kind_for_id(i))
                    .unwrap_or("")
            })
            .collect();
        let id = |name: &str| lang.field_id_for_name(name).map_or(0, |f| f.get());
        Grammar {
            kinds,
            fields: Fields {
                alias: id("alias"),
                arguments: id("arguments"),
                body: id("body"),
                function: id("function"),
                left: id("left"),
                name: id("name"),
                operand: id("operand"),
                operator: id("operator"),
                parameters: id("parameters"),
                path: id("path"),
                receiver: id("receiver"),
                result: id("result"),
                right: id("right"),
                type_: id("type"),
                type_parameters: id("type_parameters"),
                value: id("value"),
            },
        }
    })
}

fn ids() -> &'static Fields {
    &grammar().fields
}

/// Fast node accessors backed by [`grammar`].
trait NodeExt<'t> {
    fn kind_str(&self) -> &'static str;
    fn field(&self, id: u16) -> Option<Node<'t>>;
}

impl<'t> NodeExt<'t> for Node<'t> {
    fn kind_str(&self) -> &'static str {
        grammar()
            .kinds
            .get(usize::from(self.kind_id()))
            .copied()
            .unwrap_or("")
    }

    fn field(&self, id: u16) -> Option<Node<'t>> {
        if id == 0 {
            None
        } else {
            self.child_by_field_id(id)
        }
    }
}

/// The children of `node` in field `id`.
fn field_children(node: Node<'_>, id: u16) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    if id == 0 || !cursor.goto_first_child() {
        return out;
    }
    loop {
        if cursor.field_id().map(|f| f.get()) == Some(id) {
            out.push(cursor.node());
        }
        if !cursor.goto_next_sibling() {
            return out;
        }
    }
}

/// Facts about a file that the index needs but the summary does not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FileMeta {
    /// The file imports `"C"` (cgo files are compiled after the other files of a package).
    pub imports_c: bool,
}

/// Summarizes a Go file. `import_path` is stored as is. Never fails: a file with syntax
/// errors is summarized as far as it parses and flagged with `has_errors`.
pub fn summarize(path: &Path, text: &str, import_path: &str) -> FileSummary {
    summarize_with_meta(path, text, import_path).0
}

/// Summarizes a file from an existing tree of `text` (as kept for an open document).
pub fn summarize_tree(path: &Path, text: &str, tree: &Tree, import_path: &str) -> FileSummary {
    summarize_tree_with_meta(path, text, tree, import_path).0
}

pub(crate) fn summarize_with_meta(
    path: &Path,
    text: &str,
    import_path: &str,
) -> (FileSummary, FileMeta) {
    match parse_tree(text, None) {
        Some(tree) => summarize_tree_with_meta(path, text, &tree, import_path),
        None => {
            let mut s = empty_summary(path, text, import_path);
            s.has_errors = true;
            (s, FileMeta::default())
        }
    }
}

pub(crate) fn summarize_tree_with_meta(
    path: &Path,
    text: &str,
    tree: &Tree,
    import_path: &str,
) -> (FileSummary, FileMeta) {
    let root = tree.root_node();
    let mut s = Summarizer::new(text);
    s.has_errors = root.has_error();
    s.top_level(root);
    let package_start = s.package_start.unwrap_or(text.len());
    let mut summary = empty_summary(path, text, import_path);
    summary.package = s.package;
    summary.is_generated = is_generated(&text[..package_start.min(text.len())]);
    summary.has_errors = s.has_errors;
    summary.functions = s.functions;
    summary.decls = s.decls;
    summary.structs = s.structs;
    summary.ops = s.ops;
    summary.functions.shrink_to_fit();
    summary.decls.shrink_to_fit();
    summary.structs.shrink_to_fit();
    summary.ops.shrink_to_fit();
    (
        summary,
        FileMeta {
            imports_c: s.imports_c,
        },
    )
}

/// A summary with the path-derived flags, line starts and hash filled in.
fn empty_summary(path: &Path, text: &str, import_path: &str) -> FileSummary {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    FileSummary {
        path: path.to_path_buf(),
        package: String::new(),
        import_path: import_path.to_string(),
        is_test: file_name.ends_with("_test.go"),
        is_vendor: path.components().any(|c| c.as_os_str() == "vendor"),
        is_generated: false,
        has_errors: false,
        functions: Vec::new(),
        decls: Vec::new(),
        structs: Vec::new(),
        ops: Vec::new(),
        line_starts: line_starts(text),
        content_hash: content_hash(text),
    }
}

/// The hash of a file's whole text, stable across runs and platforms.
pub fn content_hash(text: &str) -> u64 {
    xxh3_64(text.as_bytes())
}

/// The hash of a text with ASCII whitespace removed.
pub fn body_hash(text: &str) -> u64 {
    let mut h = Xxh3::new();
    for chunk in text.split(|c: char| c.is_ascii_whitespace()) {
        h.update(chunk.as_bytes());
    }
    h.digest()
}

/// Byte offsets of the start of each line.
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut v = Vec::with_capacity(text.len() / 32 + 1);
    v.push(0);
    v.extend(
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v.shrink_to_fit();
    v
}

/// Whether the header (the text before the package clause) has a line matching
/// `^// Code generated .* DO NOT EDIT\.$`.
fn is_generated(header: &str) -> bool {
    const HEAD: &str = "// Code generated ";
    const TAIL: &str = " DO NOT EDIT.";
    header.lines().any(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        line.len() >= HEAD.len() + TAIL.len() && line.starts_with(HEAD) && line.ends_with(TAIL)
    })
}

/// The span of a node.
fn span(node: Node<'_>) -> Span {
    let line = |row: usize| u32::try_from(row.saturating_add(1)).unwrap_or(u32::MAX);
    Span {
        start_byte: node.start_byte(),
        end_byte: node.end_byte(),
        start_line: line(node.start_position().row),
        end_line: line(node.end_position().row),
    }
}

/// An empty span at the end of a node.
fn end_span(node: Node<'_>) -> Span {
    let s = span(node);
    Span {
        start_byte: s.end_byte,
        end_byte: s.end_byte,
        start_line: s.end_line,
        end_line: s.end_line,
    }
}

/// Cuts text longer than [`MAX_TEXT`] bytes.
fn clip(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Skips parentheses around an expression.
fn unparen(mut node: Node<'_>) -> Node<'_> {
    while node.kind_str() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// The named children of a node.
fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// The first named child of the node's field (for an `expression_list` field, its
/// elements).
fn list_field<'t>(node: Node<'t>, field: u16) -> Vec<Node<'t>> {
    match node.field(field) {
        Some(list) if list.kind_str() == "expression_list" => named_children(list)
            .into_iter()
            .filter(|n| n.kind_str() != "comment")
            .collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

const BUILTINS: &[&str] = &[
    "append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make", "max",
    "min", "new", "panic", "print", "println", "real", "recover",
];

/// What kind of function a context is, which decides how its literals are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtxKind {
    /// A declared function or method: literals are `name.funcN`.
    Top,
    /// A function literal: nested literals are `name.N`.
    Closure,
    /// Package-level initializers: literals are `init.funcN`.
    Glob,
    /// A function named `_`: literals are `glob..funcN`.
    Blank,
}

#[derive(Debug)]
struct FnCtx {
    /// Index in `functions`, `None` for package-level initializers.
    index: Option<usize>,
    name: String,
    kind: CtxKind,
    closures: u32,
    wraps: u32,
    /// `names.len()` when the function was entered: names above it are its locals.
    scope_base: usize,
    /// Start and end byte of the node that opened the context.
    node: (usize, usize),
}

/// The walk state for one file.
struct Summarizer<'a> {
    text: &'a str,
    package: String,
    package_start: Option<usize>,
    has_errors: bool,
    imports_c: bool,
    /// Names that imports bring into the file scope.
    imports: Vec<&'a str>,
    functions: Vec<Function>,
    decls: Vec<Decl>,
    structs: Vec<StructType>,
    ops: Vec<Op>,
    inits: u32,
    init_closures: u32,
    blank_closures: u32,
    fns: Vec<FnCtx>,
    /// Names declared in the open scopes, innermost last.
    names: Vec<&'a str>,
    /// `names.len()` at the opening of each open scope.
    scopes: Vec<usize>,
}

impl<'a> Summarizer<'a> {
    fn new(text: &'a str) -> Self {
        Summarizer {
            text,
            package: String::new(),
            package_start: None,
            has_errors: false,
            imports_c: false,
            imports: Vec::new(),
            functions: Vec::new(),
            decls: Vec::new(),
            structs: Vec::new(),
            ops: Vec::new(),
            inits: 0,
            init_closures: 0,
            blank_closures: 0,
            fns: Vec::new(),
            names: Vec::new(),
            scopes: Vec::new(),
        }
    }

    fn text_of(&self, node: Node<'_>) -> &'a str {
        self.text
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    /// The top-level items in source order, including the declarations found inside
    /// error nodes (what the parser could not fit into the grammar).
    fn top_level(&mut self, root: Node<'_>) {
        let mut stack = vec![named_children(root).into_iter()];
        while let Some(items) = stack.last_mut() {
            match items.next() {
                None => {
                    stack.pop();
                }
                Some(node) if node.kind_str() == "ERROR" => {
                    self.has_errors = true;
                    if stack.len() < 64 {
                        stack.push(named_children(node).into_iter());
                    }
                }
                Some(node) if stack.len() > 1 => {
                    // Inside an error node only whole declarations are trusted.
                    if matches!(
                        node.kind_str(),
                        "package_clause"
                            | "import_declaration"
                            | "function_declaration"
                            | "method_declaration"
                            | "var_declaration"
                            | "const_declaration"
                            | "type_declaration"
                    ) {
                        self.top_item(node);
                    }
                }
                Some(node) => self.top_item(node),
            }
        }
    }

    fn top_item(&mut self, node: Node<'_>) {
        match node.kind_str() {
            "package_clause" => {
                if self.package_start.is_none() {
                    self.package_start = Some(node.start_byte());
                    if let Some(id) = named_children(node)
                        .into_iter()
                        .find(|n| n.kind_str() == "package_identifier")
                    {
                        self.package = self.text_of(id).to_string();
                    }
                }
            }
            "import_declaration" => self.imports(node),
            "function_declaration" | "method_declaration" => self.walk(node),
            "var_declaration" | "const_declaration" => {
                let kind = if node.kind_str() == "var_declaration" {
                    DeclKind::Var
                } else {
                    DeclKind::Const
                };
                self.package_decls(node, kind);
                self.in_globals(node);
            }
            "type_declaration" => self.types(node),
            "comment" => {}
            _ => self.in_globals(node),
        }
    }

    /// Walks a node outside any function, where literals are package initializers.
    fn in_globals(&mut self, node: Node<'_>) {
        let scope_base = self.names.len();
        self.fns.push(FnCtx {
            index: None,
            name: "init".to_string(),
            kind: CtxKind::Glob,
            closures: 0,
            wraps: 0,
            scope_base,
            node: (node.start_byte(), node.end_byte()),
        });
        self.walk(node);
        self.fns.pop();
        self.names.truncate(scope_base);
    }

    fn imports(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        for child in named_children(node) {
            match child.kind_str() {
                "import_spec" => specs.push(child),
                "import_spec_list" => specs.extend(
                    named_children(child)
                        .into_iter()
                        .filter(|n| n.kind_str() == "import_spec"),
                ),
                _ => {}
            }
        }
        for spec in specs {
            let path = spec
                .field(ids().path)
                .map(|p| self.text_of(p).trim_matches(|c| c == '"' || c == '`'))
                .unwrap_or("");
            if path == "C" {
                self.imports_c = true;
            }
            match spec.field(ids().name) {
                Some(n) if n.kind_str() == "package_identifier" => {
                    let t = self.text_of(n);
                    self.imports.push(t);
                }
                Some(_) => {}
                None => {
                    if let Some(name) = guess_package_name(path) {
                        self.imports.push(name);
                    }
                }
            }
        }
    }

    fn package_decls(&mut self, node: Node<'_>, kind: DeclKind) {
        let mut specs = Vec::new();
        for child in named_children(node) {
            match child.kind_str() {
                "var_spec" | "const_spec" => specs.push(child),
                "var_spec_list" => specs.extend(
                    named_children(child)
                        .into_iter()
                        .filter(|n| n.kind_str() == "var_spec"),
                ),
                _ => {}
            }
        }
        for spec in specs {
            let names: Vec<Node<'_>> = field_children(spec, ids().name)
                .into_iter()
                .filter(|n| n.kind_str() == "identifier")
                .collect();
            let declared = spec.field(ids().type_);
            let values = list_field(spec, ids().value);
            for (i, name) in names.iter().enumerate() {
                let name_text = self.text_of(*name);
                if name_text == "_" {
                    continue;
                }
                let value = if values.len() == names.len() {
                    values.get(i).copied()
                } else if values.len() == 1 {
                    values.first().copied()
                } else {
                    None
                };
                let type_text = match declared {
                    Some(t) => Some(clip(self.text_of(t))),
                    None => value.and_then(|v| self.evident_type(v)),
                };
                self.decls.push(Decl {
                    name: name_text.to_string(),
                    kind,
                    type_text,
                    value_text: value.map(|v| clip(self.text_of(v))),
                    span: span(spec),
                });
            }
        }
    }

    /// The type an initializer evidently has: `make(T, ...)` and composite literals `T{}`
    /// give `T`, `&T{}` and `new(T)` give `*T`.
    fn evident_type(&self, value: Node<'_>) -> Option<String> {
        let value = unparen(value);
        match value.kind_str() {
            "composite_literal" => value.field(ids().type_).map(|t| clip(self.text_of(t))),
            "unary_expression" => {
                let op = value.field(ids().operator)?;
                let operand = unparen(value.field(ids().operand)?);
                if self.text_of(op) == "&" && operand.kind_str() == "composite_literal" {
                    let t = operand.field(ids().type_)?;
                    Some(clip(&format!("*{}", self.text_of(t))))
                } else {
                    None
                }
            }
            "call_expression" => {
                let f = unparen(value.field(ids().function)?);
                let callee = self.text_of(f);
                if f.kind_str() != "identifier" || !(callee == "make" || callee == "new") {
                    return None;
                }
                let args = value.field(ids().arguments)?;
                let first = named_children(args).into_iter().next()?;
                let t = self.text_of(first);
                Some(clip(&if callee == "new" {
                    format!("*{t}")
                } else {
                    t.to_string()
                }))
            }
            _ => None,
        }
    }

    fn types(&mut self, node: Node<'_>) {
        for spec in named_children(node) {
            if !matches!(spec.kind_str(), "type_spec" | "type_alias") {
                continue;
            }
            let (Some(name), Some(ty)) = (spec.field(ids().name), spec.field(ids().type_)) else {
                continue;
            };
            if ty.kind_str() != "struct_type" {
                continue;
            }
            let fields = self.struct_fields(ty);
            self.structs.push(StructType {
                name: self.text_of(name).to_string(),
                fields,
                span: span(spec),
            });
        }
    }

    fn struct_fields(&self, ty: Node<'_>) -> Vec<Field> {
        let mut out = Vec::new();
        let Some(list) = named_children(ty)
            .into_iter()
            .find(|n| n.kind_str() == "field_declaration_list")
        else {
            return out;
        };
        for decl in named_children(list) {
            if decl.kind_str() != "field_declaration" {
                continue;
            }
            let Some(field_type) = decl.field(ids().type_) else {
                continue;
            };
            let names = field_children(decl, ids().name);
            if names.is_empty() {
                // An embedded field: named after its type, `*T` when written with a star.
                let starred = decl.child(0).is_some_and(|c| c.kind_str() == "*");
                let type_text = if starred {
                    format!("*{}", self.text_of(field_type))
                } else {
                    self.text_of(field_type).to_string()
                };
                out.push(Field {
                    name: self.embedded_name(field_type),
                    type_text: clip(&type_text),
                    span: span(decl),
                });
            } else {
                let type_text = clip(self.text_of(field_type));
                for n in names {
                    out.push(Field {
                        name: self.text_of(n).to_string(),
                        type_text: type_text.clone(),
                        span: span(decl),
                    });
                }
            }
        }
        out
    }

    fn embedded_name(&self, mut ty: Node<'_>) -> String {
        loop {
            match ty.kind_str() {
                "qualified_type" => match ty.field(ids().name) {
                    Some(n) => ty = n,
                    None => break,
                },
                "generic_type" => match ty.field(ids().type_) {
                    Some(n) => ty = n,
                    None => break,
                },
                "pointer_type" | "parenthesized_type" => match ty.named_child(0) {
                    Some(n) => ty = n,
                    None => break,
                },
                _ => break,
            }
        }
        self.text_of(ty).to_string()
    }

    /// The pprof name of a declared function or method.
    fn declared_name(&mut self, node: Node<'_>) -> (String, FunctionKind, CtxKind) {
        let name = node
            .field(ids().name)
            .map(|n| self.text_of(n))
            .unwrap_or("");
        let generic = node.field(ids().type_parameters).is_some();
        if node.kind_str() == "method_declaration" {
            let (pointer, base, generic_recv) = node
                .field(ids().receiver)
                .map(|r| self.receiver(r))
                .unwrap_or((false, String::new(), false));
            let args = if generic_recv { "[...]" } else { "" };
            let full = if pointer {
                format!("(*{base}{args}).{name}")
            } else {
                format!("{base}{args}.{name}")
            };
            return (full, FunctionKind::Method, CtxKind::Top);
        }
        if name == "init" && !generic {
            let n = self.inits;
            self.inits += 1;
            return (format!("init.{n}"), FunctionKind::Func, CtxKind::Top);
        }
        if name == "_" {
            return ("_".to_string(), FunctionKind::Func, CtxKind::Blank);
        }
        let full = if generic {
            format!("{name}[...]")
        } else {
            name.to_string()
        };
        (full, FunctionKind::Func, CtxKind::Top)
    }

    /// The receiver's base type name, whether it is a pointer and whether it has type
    /// parameters.
    fn receiver(&self, list: Node<'_>) -> (bool, String, bool) {
        let Some(param) = named_children(list)
            .into_iter()
            .find(|n| n.kind_str() == "parameter_declaration")
        else {
            return (false, String::new(), false);
        };
        let Some(mut ty) = param.field(ids().type_) else {
            return (false, String::new(), false);
        };
        let mut pointer = false;
        let mut generic = false;
        loop {
            match ty.kind_str() {
                "pointer_type" => {
                    pointer = true;
                    match ty.named_child(0) {
                        Some(n) => ty = n,
                        None => break,
                    }
                }
                "parenthesized_type" => match ty.named_child(0) {
                    Some(n) => ty = n,
                    None => break,
                },
                "generic_type" => {
                    generic = true;
                    match ty.field(ids().type_) {
                        Some(n) => ty = n,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        (pointer, self.text_of(ty).to_string(), generic)
    }

    fn push_scope(&mut self) {
        self.scopes.push(self.names.len());
    }

    fn pop_scope(&mut self) {
        if let Some(mark) = self.scopes.pop() {
            self.names.truncate(mark);
        }
    }

    fn declare(&mut self, node: Node<'_>) {
        if node.kind_str() == "identifier" {
            let t = self.text_of(node);
            self.names.push(t);
        }
    }

    fn declare_list(&mut self, node: Option<Node<'_>>) {
        let Some(node) = node else { return };
        if node.kind_str() == "expression_list" {
            for n in named_children(node) {
                self.declare(n);
            }
        } else {
            self.declare(node);
        }
    }

    /// Whether `name` is declared inside the innermost function (a parameter or a local);
    /// names of enclosing functions (captured by a literal) do not count.
    fn is_local(&self, name: &str) -> bool {
        if name == "_" {
            return true;
        }
        let base = self.fns.last().map_or(0, |f| f.scope_base);
        self.names[base.min(self.names.len())..].contains(&name)
    }

    /// Whether `name` is declared in any open scope (shadowing a builtin or an import).
    fn is_shadowed(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// Whether an operation on `target` is kept: targets rooted at a local of the
    /// innermost function are dropped, fields, package-level and captured names kept.
    fn keep_target(&self, mut node: Node<'_>) -> bool {
        loop {
            match node.kind_str() {
                "identifier" => return !self.is_local(self.text_of(node)),
                "selector_expression" => return true,
                "index_expression" | "slice_expression" | "unary_expression" => {
                    match node.field(ids().operand) {
                        Some(n) => node = n,
                        None => return true,
                    }
                }
                "parenthesized_expression" => match node.named_child(0) {
                    Some(n) => node = n,
                    None => return true,
                },
                _ => return true,
            }
        }
    }

    fn current_function(&self) -> Option<usize> {
        self.fns.last().and_then(|f| f.index)
    }

    fn push_op(&mut self, kind: OpKind, target: &str, at: Node<'_>) {
        let target = if target.contains('\n') {
            target.split_whitespace().collect::<String>()
        } else {
            target.to_string()
        };
        self.ops.push(Op {
            kind,
            target: clip(&target),
            span: span(at),
            function: self.current_function(),
        });
    }

    /// Opens a declared function or a literal.
    fn enter_function(&mut self, node: Node<'_>) {
        let (name, kind, ctx_kind) = if node.kind_str() == "func_literal" {
            let name = match self.fns.last_mut() {
                Some(ctx) => match ctx.kind {
                    CtxKind::Top => {
                        ctx.closures += 1;
                        format!("{}.func{}", ctx.name, ctx.closures)
                    }
                    CtxKind::Closure => {
                        ctx.closures += 1;
                        format!("{}.{}", ctx.name, ctx.closures)
                    }
                    CtxKind::Glob => {
                        self.init_closures += 1;
                        format!("init.func{}", self.init_closures)
                    }
                    CtxKind::Blank => {
                        self.blank_closures += 1;
                        format!("glob..func{}", self.blank_closures)
                    }
                },
                None => {
                    self.init_closures += 1;
                    format!("init.func{}", self.init_closures)
                }
            };
            (name, FunctionKind::Closure, CtxKind::Closure)
        } else {
            self.declared_name(node)
        };
        let body = node.field(ids().body);
        let body_span = body.map_or_else(|| end_span(node), span);
        let hash = body_hash(body.map(|b| self.text_of(b)).unwrap_or(""));
        let parent = self.current_function();
        let index = self.functions.len();
        self.functions.push(Function {
            name: name.clone(),
            kind,
            span: span(node),
            body: body_span,
            body_hash: hash,
            parent: if kind == FunctionKind::Closure {
                parent
            } else {
                None
            },
        });
        self.push_scope();
        self.fns.push(FnCtx {
            index: Some(index),
            name,
            kind: ctx_kind,
            closures: 0,
            wraps: 0,
            scope_base: self.names.len(),
            node: (node.start_byte(), node.end_byte()),
        });
    }

    fn leave_function(&mut self, node: Node<'_>) {
        if self
            .fns
            .last()
            .is_some_and(|f| f.node == (node.start_byte(), node.end_byte()) && f.index.is_some())
        {
            self.fns.pop();
            self.pop_scope();
        }
    }

    /// Adds the compiler's wrapper for a `go` or `defer` statement when it makes one.
    fn go_defer(&mut self, node: Node<'_>) {
        let Some(call) = named_children(node)
            .into_iter()
            .find(|n| n.kind_str() != "comment")
        else {
            return;
        };
        if !self.needs_wrapper(call) {
            return;
        }
        let Some(ctx) = self.fns.last_mut() else {
            return;
        };
        if ctx.index.is_none() {
            return;
        }
        ctx.wraps += 1;
        let what = if node.kind_str() == "go_statement" {
            "gowrap"
        } else {
            "deferwrap"
        };
        let name = format!("{}.{}{}", ctx.name, what, ctx.wraps);
        let parent = ctx.index;
        self.functions.push(Function {
            name,
            kind: FunctionKind::Closure,
            span: span(node),
            body: span(call),
            body_hash: body_hash(self.text_of(call)),
            parent,
        });
    }

    /// Whether the compiler wraps the call of a `go`/`defer` statement in a closure: any
    /// call with arguments, a method call (the receiver is an argument), a builtin, or a
    /// literal with parameters or results. A plain `f()` or `pkg.F()` is assumed to have
    /// no results (types are not known here).
    fn needs_wrapper(&self, call: Node<'_>) -> bool {
        if call.kind_str() != "call_expression" {
            return false;
        }
        if let Some(args) = call.field(ids().arguments) {
            if named_children(args)
                .iter()
                .any(|n| n.kind_str() != "comment")
            {
                return true;
            }
        }
        let Some(f) = call.field(ids().function).map(unparen) else {
            return false;
        };
        match f.kind_str() {
            "func_literal" => {
                let has_params = f
                    .field(ids().parameters)
                    .is_some_and(|p| named_children(p).iter().any(|n| n.kind_str() != "comment"));
                has_params || f.field(ids().result).is_some()
            }
            "identifier" => {
                let name = self.text_of(f);
                BUILTINS.contains(&name) && !self.is_shadowed(name)
            }
            "selector_expression" => {
                let Some(operand) = f.field(ids().operand) else {
                    return true;
                };
                let pkg = operand.kind_str() == "identifier" && {
                    let name = self.text_of(operand);
                    self.imports.contains(&name) && !self.is_shadowed(name)
                };
                !pkg
            }
            _ => false,
        }
    }

    fn assignment(&mut self, node: Node<'_>) {
        let plain = node
            .field(ids().operator)
            .is_some_and(|o| o.kind_str() == "=");
        let lhs = list_field(node, ids().left);
        let rhs = list_field(node, ids().right);
        for (i, left) in lhs.iter().enumerate() {
            let left = unparen(*left);
            match left.kind_str() {
                "index_expression" => {
                    if let Some(operand) = left.field(ids().operand) {
                        if self.keep_target(operand) {
                            let t = self.text_of(operand);
                            self.push_op(OpKind::IndexWrite, t, node);
                        }
                    }
                }
                "identifier" | "selector_expression" if plain => {
                    if !self.keep_target(left) {
                        continue;
                    }
                    let target = self.text_of(left);
                    let value = if lhs.len() == rhs.len() {
                        rhs.get(i).copied()
                    } else {
                        None
                    };
                    let kind = if value.is_some_and(|v| self.is_append_to(v, target)) {
                        OpKind::Append
                    } else {
                        OpKind::Assign
                    };
                    self.push_op(kind, target, node);
                }
                _ => {}
            }
        }
    }

    /// Whether `value` is `append(target, ...)`.
    fn is_append_to(&self, value: Node<'_>, target: &str) -> bool {
        let value = unparen(value);
        if value.kind_str() != "call_expression" {
            return false;
        }
        let is_append = value.field(ids().function).map(unparen).is_some_and(|f| {
            f.kind_str() == "identifier"
                && self.text_of(f) == "append"
                && !self.is_shadowed("append")
        });
        if !is_append {
            return false;
        }
        let first = value.field(ids().arguments).and_then(|a| {
            named_children(a)
                .into_iter()
                .find(|n| n.kind_str() != "comment")
        });
        first.is_some_and(|f| same_text(self.text_of(unparen(f)), target))
    }

    fn inc_dec(&mut self, node: Node<'_>) {
        let Some(operand) = node.named_child(0).map(unparen) else {
            return;
        };
        if operand.kind_str() == "index_expression" {
            if let Some(x) = operand.field(ids().operand) {
                if self.keep_target(x) {
                    let t = self.text_of(x);
                    self.push_op(OpKind::IndexWrite, t, node);
                }
            }
        }
    }

    fn call(&mut self, node: Node<'_>) {
        let Some(f) = node.field(ids().function) else {
            return;
        };
        let fu = unparen(f);
        if fu.kind_str() == "identifier" {
            let name = self.text_of(fu);
            if (name == "delete" || name == "clear") && !self.is_shadowed(name) {
                let first = node.field(ids().arguments).and_then(|a| {
                    named_children(a)
                        .into_iter()
                        .find(|n| n.kind_str() != "comment")
                });
                if let Some(first) = first.filter(|f| self.keep_target(*f)) {
                    let kind = if name == "delete" {
                        OpKind::Delete
                    } else {
                        OpKind::Clear
                    };
                    let t = self.text_of(first);
                    self.push_op(kind, t, node);
                }
                return;
            }
        }
        let target = if fu.kind_str() == "func_literal" {
            "func"
        } else {
            self.text_of(f)
        };
        self.push_op(OpKind::Call, target, node);
    }

    /// Handles a node on the way down; returns whether to visit its children.
    fn enter(&mut self, node: Node<'_>) -> bool {
        match node.kind_str() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                self.enter_function(node)
            }
            "block"
            | "if_statement"
            | "for_statement"
            | "expression_switch_statement"
            | "select_statement"
            | "expression_case"
            | "type_case"
            | "default_case"
            | "communication_case" => self.push_scope(),
            "type_switch_statement" => {
                self.push_scope();
                let alias = node.field(ids().alias);
                self.declare_list(alias);
            }
            "parameter_declaration" | "variadic_parameter_declaration" => {
                for n in field_children(node, ids().name) {
                    self.declare(n);
                }
            }
            "short_var_declaration" => {
                let left = node.field(ids().left);
                self.declare_list(left);
            }
            "range_clause" | "receive_statement" => {
                let defines = {
                    let mut cursor = node.walk();
                    let found = node.children(&mut cursor).any(|c| c.kind_str() == ":=");
                    found
                };
                if defines {
                    let left = node.field(ids().left);
                    self.declare_list(left);
                }
            }
            "var_spec" | "const_spec"
                if self.fns.last().is_some_and(|f| f.kind != CtxKind::Glob) =>
            {
                for n in field_children(node, ids().name) {
                    self.declare(n);
                }
            }
            "assignment_statement" => self.assignment(node),
            "inc_statement" | "dec_statement" => self.inc_dec(node),
            "call_expression" => self.call(node),
            "go_statement" | "defer_statement" => self.go_defer(node),
            "ERROR" => self.has_errors = true,
            "comment"
            | "interpreted_string_literal"
            | "raw_string_literal"
            | "rune_literal"
            | "int_literal"
            | "float_literal"
            | "imaginary_literal"
            | "field_identifier"
            | "type_identifier"
            | "package_identifier"
            | "identifier" => return false,
            _ => {}
        }
        true
    }

    /// Handles a node on the way up.
    fn leave(&mut self, node: Node<'_>) {
        match node.kind_str() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                self.leave_function(node)
            }
            "block"
            | "if_statement"
            | "for_statement"
            | "expression_switch_statement"
            | "type_switch_statement"
            | "select_statement"
            | "expression_case"
            | "type_case"
            | "default_case"
            | "communication_case" => self.pop_scope(),
            _ => {}
        }
    }

    /// Visits `root` and everything below it, depth first, without recursion.
    fn walk(&mut self, root: Node<'_>) {
        let mut cursor = root.walk();
        let mut depth = 0usize;
        loop {
            let node = cursor.node();
            if self.enter(node) && cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            let mut current = node;
            loop {
                self.leave(current);
                if depth == 0 {
                    return;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                depth -= 1;
                current = cursor.node();
            }
        }
    }
}

/// Compares two expressions ignoring whitespace.
fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
        || a.chars()
            .filter(|c| !c.is_whitespace())
            .eq(b.chars().filter(|c| !c.is_whitespace()))
}

/// The name an import without an explicit name most likely binds: the last path element,
/// skipping a `/vN` major version, without a `.vN` suffix or a `go-` prefix.
fn guess_package_name(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    let mut last = parts.next()?;
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
    let last = last.strip_prefix("go-").unwrap_or(last);
    (!last.is_empty()).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<String> {
        summarize(Path::new("/x/a.go"), src, "example.com/x")
            .functions
            .into_iter()
            .map(|f| f.name)
            .collect()
    }

    #[test]
    fn names_functions_like_the_toolchain() {
        let src = r#"package main

var hooks = []func(){ func() {}, func() { func() {}() } }

func init() { func() {}() }
func init() {}

type Box[T any] struct{ v []T }

func (b *Box[T]) Add(x T) { func() {}() }
func (b Box[T]) Len() int  { return 0 }
func (s *S) M()           {}
func (S) V()              {}
func Map[T, U any](xs []T) { _ = func() {} }

func main() {
	var mu sync.Mutex
	defer mu.Unlock()
	go work(1)
	go func() {}()
	go func(n int) { defer wg.Done() }(3)
	defer fmt.Println("x")
	defer cleanup()
	defer close(ch)
	func() {
		func() { func() {}() }()
		func() {}()
	}()
}

func _() { _ = func() {} }
"#;
        assert_eq!(
            names(src),
            [
                "init.func1",
                "init.func2",
                "init.func2.1",
                "init.0",
                "init.0.func1",
                "init.1",
                "(*Box[...]).Add",
                "(*Box[...]).Add.func1",
                "Box[...].Len",
                "(*S).M",
                "S.V",
                "Map[...]",
                "Map[...].func1",
                "main",
                "main.deferwrap1",
                "main.gowrap2",
                "main.func1",
                "main.gowrap3",
                "main.func2",
                "main.func2.deferwrap1",
                "main.deferwrap4",
                "main.deferwrap5",
                "main.func3",
                "main.func3.1",
                "main.func3.1.1",
                "main.func3.2",
                "_",
                "glob..func1",
            ]
        );
    }

    #[test]
    fn unknown_imports_and_versions() {
        assert_eq!(guess_package_name("fmt"), Some("fmt"));
        assert_eq!(guess_package_name("net/http"), Some("http"));
        assert_eq!(guess_package_name("github.com/a/b/v2"), Some("b"));
        assert_eq!(guess_package_name("gopkg.in/yaml.v3"), Some("yaml"));
        assert_eq!(
            guess_package_name("github.com/mattn/go-sqlite3"),
            Some("sqlite3")
        );
    }

    #[test]
    fn generated_header() {
        assert!(is_generated(
            "// Code generated by protoc-gen-go. DO NOT EDIT.\n"
        ));
        assert!(is_generated(
            "// x\n// Code generated by x DO NOT EDIT.\r\n"
        ));
        assert!(!is_generated("// Code generated by x. DO NOT EDIT\n"));
        assert!(!is_generated(" // Code generated by x DO NOT EDIT.\n"));
    }

    #[test]
    fn hashes_ignore_whitespace_in_bodies() {
        assert_eq!(
            body_hash("{ a := 1\n\treturn a }"),
            body_hash("{a:=1 return a}")
        );
        assert_ne!(body_hash("{ a := 1 }"), body_hash("{ a := 2 }"));
        assert_eq!(line_starts("a\nbc\n"), vec![0, 2, 5]);
    }
}
