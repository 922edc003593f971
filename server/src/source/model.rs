//! The compact per-file summary of Go source that the rest of heapspot works from: a
//! file's package, functions (named exactly as pprof names them), package-level
//! declarations, struct types and the container operations the leak rules need. Trees
//! are not kept here: a summary is a few kilobytes where a syntax tree is megabytes.
//! Lines are 1-based, byte offsets are 0-based into the file's UTF-8 text.

use std::path::PathBuf;

/// A Go module from a `go.mod` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module path, e.g. `github.com/acme/svc`.
    pub path: String,
    /// The directory holding `go.mod`.
    pub dir: PathBuf,
    /// The `go` directive, e.g. `1.22` or `1.23.4`, when present.
    pub go_version: Option<String>,
}

/// A half-open byte range and the 1-based lines it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start_byte: usize,
    pub end_byte: usize,
    pub start_line: u32,
    pub end_line: u32,
}

/// What kind of function declaration a [`Function`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// `func F()` (including `init`, which pprof names `init.0`, `init.1`, ...).
    Func,
    /// `func (r *T) M()`.
    Method,
    /// A function literal, named `Outer.func1`, `Outer.func1.2`, `glob..func1`.
    Closure,
}

/// A function, method or closure with the name pprof gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The symbol without the import path, as in pprof after the package qualifier:
    /// `F`, `(*T).M`, `T.M`, `F.func1`, `F.func1.2`, `init.0`, `F[...]`, `(*T[...]).M`.
    pub name: String,
    pub kind: FunctionKind,
    /// The whole declaration or literal.
    pub span: Span,
    /// The body's line range (the block), used to re-anchor lines after edits.
    pub body: Span,
    /// A hash of the body's text with whitespace removed, to tell a moved function from a
    /// changed one.
    pub body_hash: u64,
    /// Index of the enclosing function for closures.
    pub parent: Option<usize>,
}

/// `var` or `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Var,
    Const,
}

/// A package-level `var` or `const` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    pub name: String,
    pub kind: DeclKind,
    /// The declared type's text, or the initializer's evident type (`map[string]*T` from
    /// `make(map[string]*T)` or a composite literal), when known.
    pub type_text: Option<String>,
    /// The initializer's text, when present.
    pub value_text: Option<String>,
    pub span: Span,
}

/// A field of a struct type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub type_text: String,
    pub span: Span,
}

/// A named struct type declared at package level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    pub name: String,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// An operation on a container or a call, for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `x[k] = v` (the target is `x`).
    IndexWrite,
    /// `x = append(x, ...)` (the target is `x`).
    Append,
    /// `delete(x, k)`.
    Delete,
    /// `clear(x)`.
    Clear,
    /// `x = ...` other than append (reassignment, reset, truncation).
    Assign,
    /// A call `f(...)` or `x.M(...)` (the target is the callee text).
    Call,
}

/// One operation at a place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    /// The operand as written: `sessions`, `s.items`, `time.NewTicker`, `t.Stop`.
    pub target: String,
    pub span: Span,
    /// Index of the innermost enclosing function in [`FileSummary::functions`].
    pub function: Option<usize>,
}

/// Everything heapspot keeps of one Go file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// Absolute path on disk.
    pub path: PathBuf,
    /// The package clause's name (`main`, `cache`).
    pub package: String,
    /// The package's import path (`example.com/shopsvc/cache`); for files outside any
    /// module, the directory relative to the workspace root.
    pub import_path: String,
    /// `_test.go` file.
    pub is_test: bool,
    /// Under a `vendor/` directory.
    pub is_vendor: bool,
    /// Carries the `// Code generated ... DO NOT EDIT.` marker.
    pub is_generated: bool,
    /// The parse had errors; what parsed is still summarized.
    pub has_errors: bool,
    pub functions: Vec<Function>,
    pub decls: Vec<Decl>,
    pub structs: Vec<StructType>,
    pub ops: Vec<Op>,
    /// Byte offset of the start of each line (line n starts at `line_starts[n - 1]`).
    pub line_starts: Vec<usize>,
    /// Hash of the whole text, to skip re-parsing unchanged files.
    pub content_hash: u64,
}
