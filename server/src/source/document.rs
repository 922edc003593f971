//! A Go file open in an editor: its text and syntax tree, kept so that an edit re-parses
//! incrementally (`Tree::edit` and a parse that reuses the old tree) before producing a
//! fresh summary. Only open documents keep trees; the index keeps summaries.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tree_sitter::{InputEdit, Point, Tree};

use super::model::FileSummary;
use super::parse::{self, FileMeta};

/// An edit that does not fit the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub message: String,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EditError {}

/// An editor-open Go file with its tree and current summary.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    path: PathBuf,
    import_path: String,
    text: String,
    /// `None` only if the parser could not be set up.
    tree: Option<Tree>,
    summary: Arc<FileSummary>,
    meta: FileMeta,
}

/// The tree-sitter point (row, byte column) of a byte offset, given the line starts.
fn point_at(line_starts: &[usize], byte: usize) -> Point {
    let row = line_starts
        .partition_point(|&s| s <= byte)
        .saturating_sub(1);
    let start = line_starts.get(row).copied().unwrap_or(0);
    Point {
        row,
        column: byte - start.min(byte),
    }
}

/// The point reached after inserting `text` at `start`.
fn point_after(start: Point, text: &str) -> Point {
    match text.rfind('\n') {
        Some(last) => Point {
            row: start.row + text.bytes().filter(|&b| b == b'\n').count(),
            column: text.len() - last - 1,
        },
        None => Point {
            row: start.row,
            column: start.column + text.len(),
        },
    }
}

impl OpenDocument {
    /// Parses `text` from scratch.
    pub fn new(path: impl Into<PathBuf>, import_path: impl Into<String>, text: String) -> Self {
        let path = path.into();
        let import_path = import_path.into();
        let tree = parse::parse_tree(&text, None);
        let (summary, meta) = summarize(&path, &text, tree.as_ref(), &import_path);
        OpenDocument {
            path,
            import_path,
            text,
            tree,
            summary: Arc::new(summary),
            meta,
        }
    }

    /// Replaces the bytes `start_byte..old_end_byte` with `new_text`, re-parses
    /// incrementally and re-summarizes. Offsets must lie on character boundaries.
    pub fn apply_edit(
        &mut self,
        start_byte: usize,
        old_end_byte: usize,
        new_text: &str,
    ) -> Result<&Arc<FileSummary>, EditError> {
        if start_byte > old_end_byte || old_end_byte > self.text.len() {
            return Err(EditError {
                message: format!(
                    "{}: edit {}..{} outside the document ({} bytes)",
                    self.path.display(),
                    start_byte,
                    old_end_byte,
                    self.text.len()
                ),
            });
        }
        if !self.text.is_char_boundary(start_byte) || !self.text.is_char_boundary(old_end_byte) {
            return Err(EditError {
                message: format!(
                    "{}: edit {}..{} splits a character",
                    self.path.display(),
                    start_byte,
                    old_end_byte
                ),
            });
        }
        let starts = &self.summary.line_starts;
        let start_position = point_at(starts, start_byte);
        let old_end_position = point_at(starts, old_end_byte);
        let edit = InputEdit {
            start_byte,
            old_end_byte,
            new_end_byte: start_byte + new_text.len(),
            start_position,
            old_end_position,
            new_end_position: point_after(start_position, new_text),
        };
        self.text.replace_range(start_byte..old_end_byte, new_text);
        let old = self.tree.take().map(|mut t| {
            t.edit(&edit);
            t
        });
        self.tree = parse::parse_tree(&self.text, old.as_ref());
        let (summary, meta) = summarize(
            &self.path,
            &self.text,
            self.tree.as_ref(),
            &self.import_path,
        );
        self.summary = Arc::new(summary);
        self.meta = meta;
        Ok(&self.summary)
    }

    /// Replaces the whole text (a full-document sync), parsing from scratch.
    pub fn set_text(&mut self, text: String) -> &Arc<FileSummary> {
        *self = OpenDocument::new(
            std::mem::take(&mut self.path),
            std::mem::take(&mut self.import_path),
            text,
        );
        &self.summary
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn import_path(&self) -> &str {
        &self.import_path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The current syntax tree (`None` only if the parser could not be set up).
    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    /// The summary of the current text, with `init` numbers counted within this file
    /// (the workspace renumbers them when it takes the summary).
    pub fn summary(&self) -> &Arc<FileSummary> {
        &self.summary
    }

    pub(crate) fn meta(&self) -> FileMeta {
        self.meta
    }
}

fn summarize(
    path: &Path,
    text: &str,
    tree: Option<&Tree>,
    import_path: &str,
) -> (FileSummary, FileMeta) {
    match tree {
        Some(t) => parse::summarize_tree_with_meta(path, text, t, import_path),
        None => parse::summarize_with_meta(path, text, import_path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_scratch(text: &str) -> String {
        parse::parse_tree(text, None)
            .map(|t| t.root_node().to_sexp())
            .unwrap_or_default()
    }

    #[test]
    fn incremental_tree_equals_a_fresh_parse() {
        let text = "package p\n\nvar m = map[string]int{}\n\nfunc Put(k string) {\n\tm[k] = 1\n}\n\nfunc Get(k string) int {\n\treturn m[k]\n}\n";
        let mut doc = OpenDocument::new("/w/p.go", "example.com/p", text.to_string());
        // Each edit: (find, replace with).
        let edits = [
            ("m[k] = 1", "m[k] = 2\n\tdelete(m, \"x\")"),
            ("func Get", "// Get reads.\nfunc Get"),
            ("return m[k]", "return m[k] + len(m)"),
            ("", "// Package p.\n"),
            ("\tdelete(m, \"x\")\n", ""),
            (
                "func Put(k string) {",
                "func Put(k string) { go func() { m[k]++ }()",
            ),
            ("map[string]int{}", "make(map[string]int, 8) // héllo ✓"),
            ("héllo", "hello"),
            ("}\n", "}\n\nfunc broken( {\n"),
            ("\nfunc broken( {\n", ""),
        ];
        for (find, replace) in edits {
            let start = doc.text().find(find).unwrap();
            let end = start + find.len();
            doc.apply_edit(start, end, replace).unwrap();
            let incremental = doc.tree().unwrap().root_node().to_sexp();
            assert_eq!(
                incremental,
                from_scratch(doc.text()),
                "after {find:?} -> {replace:?}"
            );
            let fresh = parse::summarize(doc.path(), doc.text(), doc.import_path());
            assert_eq!(**doc.summary(), fresh, "after {find:?} -> {replace:?}");
        }
        let names: Vec<&str> = doc
            .summary()
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["Put", "Put.func1", "Get"]);
    }

    #[test]
    fn rejects_edits_outside_the_text() {
        let mut doc = OpenDocument::new("/w/p.go", "p", "package p // é\n".to_string());
        assert!(doc.apply_edit(3, 2, "").is_err());
        assert!(doc.apply_edit(0, 100, "").is_err());
        let e = doc.text().find('é').unwrap();
        assert!(doc.apply_edit(e + 1, e + 1, "x").is_err());
        assert_eq!(doc.text(), "package p // é\n");
    }

    #[test]
    fn points() {
        let starts = parse::line_starts("ab\ncd\n");
        assert_eq!(point_at(&starts, 0), Point { row: 0, column: 0 });
        assert_eq!(point_at(&starts, 4), Point { row: 1, column: 1 });
        assert_eq!(point_at(&starts, 6), Point { row: 2, column: 0 });
        let p = point_after(Point { row: 1, column: 1 }, "x\nyz");
        assert_eq!(p, Point { row: 2, column: 2 });
    }
}
