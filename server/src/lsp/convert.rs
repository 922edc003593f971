//! The one place that converts between the analysis's byte offsets and 1-based Go lines
//! and LSP positions (UTF-16 code units by default, UTF-8 bytes when negotiated), and
//! between file paths and `file://` URIs. A [`LineIndex`] is built once per document
//! version (or per file text read from disk) and shared.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range, Uri};

use crate::source::model::Span;

/// The unit of `Position::character`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// Picks UTF-8 when the client offers it, else the protocol's default UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    fn width(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
        }
    }
}

/// A text with the byte offset of each line start.
#[derive(Debug, Clone)]
pub struct LineIndex {
    text: Arc<str>,
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: Arc<str>) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// The number of lines (a final newline starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of a 0-based line without its line break.
    fn line_bytes(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(self.text.len(), |&n| n - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        Some((start, end.max(start)))
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let (s, e) = self.line_bytes((line as usize).checked_sub(1)?)?;
        self.text.get(s..e)
    }

    /// The position of a byte offset (clamped to the text and to a character boundary).
    pub fn position(&self, byte: usize, enc: Encoding) -> Position {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= byte) - 1;
        let start = self.starts[line];
        let character = self.text[start..byte].chars().map(|c| enc.width(c)).sum();
        Position {
            line: line as u32,
            character,
        }
    }

    /// The byte offset of a position. A character past the end of its line means the
    /// line's end (as the protocol says); a line past the end is an error.
    pub fn offset(&self, pos: Position, enc: Encoding) -> Result<usize, String> {
        let line = pos.line as usize;
        if line == self.starts.len() && pos.character == 0 {
            return Ok(self.text.len());
        }
        let (start, end) = self.line_bytes(line).ok_or_else(|| {
            format!(
                "position {}:{} is past the end of the document ({} lines)",
                pos.line,
                pos.character,
                self.starts.len()
            )
        })?;
        let mut units = 0u32;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= pos.character {
                return Ok(start + i);
            }
            units += enc.width(c);
        }
        Ok(end)
    }

    /// The range of a span. A span without bytes (a whole-line location from a profile)
    /// covers the line's text from its first non-blank character to its end.
    pub fn range(&self, span: &Span, enc: Encoding) -> Range {
        if span.end_byte > span.start_byte || span.start_byte > 0 {
            return Range {
                start: self.position(span.start_byte, enc),
                end: self.position(span.end_byte.max(span.start_byte), enc),
            };
        }
        self.line_range(span.start_line, enc)
    }

    /// The range of a 1-based line's text, leading blanks excluded.
    pub fn line_range(&self, line: u32, enc: Encoding) -> Range {
        let Some((s, e)) = (line as usize)
            .checked_sub(1)
            .and_then(|l| self.line_bytes(l))
        else {
            let p = self.position(self.text.len(), enc);
            return Range { start: p, end: p };
        };
        let indent = self.text[s..e].len() - self.text[s..e].trim_start().len();
        Range {
            start: self.position(s + indent, enc),
            end: self.position(e, enc),
        }
    }

    /// The position at the end of a 1-based line (before its line break).
    pub fn line_end(&self, line: u32, enc: Encoding) -> Position {
        let byte = (line as usize)
            .checked_sub(1)
            .and_then(|l| self.line_bytes(l))
            .map_or(self.text.len(), |(_, e)| e);
        self.position(byte, enc)
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> usize {
        (line as usize)
            .checked_sub(1)
            .and_then(|l| self.starts.get(l).copied())
            .unwrap_or(self.text.len())
    }
}

/// The path of a `file://` URI.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// The `file://` URI of an absolute path.
pub fn uri_of(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// A path or `file://` URI given as a command argument, resolved against `root`.
pub fn path_arg(arg: &str, root: &Path) -> Result<PathBuf, String> {
    let p = if arg.starts_with("file:") {
        let uri: Uri = arg
            .parse()
            .map_err(|e| format!("{arg}: not a valid URI: {e}"))?;
        path_of(&uri).ok_or_else(|| format!("{arg}: not a file URI"))?
    } else {
        PathBuf::from(arg)
    };
    Ok(if p.is_absolute() { p } else { root.join(p) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(t: &str) -> LineIndex {
        LineIndex::new(Arc::from(t))
    }

    #[test]
    fn utf16_and_utf8_columns_on_non_ascii_text() {
        let text = "package p\n\nvar s = \"héllo 🌍\" + x\n";
        let li = idx(text);
        let x = text.find("+ x").unwrap();
        assert_eq!(
            li.position(x, Encoding::Utf16),
            Position {
                line: 2,
                character: 19
            }
        );
        assert_eq!(
            li.position(x, Encoding::Utf8),
            Position {
                line: 2,
                character: 22
            }
        );
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            let p = li.position(x, enc);
            assert_eq!(li.offset(p, enc).unwrap(), x);
        }
        // Past the line's end means its end; past the last line is an error.
        let end = li
            .offset(
                Position {
                    line: 0,
                    character: 99,
                },
                Encoding::Utf16,
            )
            .unwrap();
        assert_eq!(end, "package p".len());
        assert!(li
            .offset(
                Position {
                    line: 9,
                    character: 0
                },
                Encoding::Utf16
            )
            .is_err());
        assert_eq!(
            li.line_end(3, Encoding::Utf16),
            Position {
                line: 2,
                character: 22
            }
        );
    }

    #[test]
    fn whole_line_spans_skip_indentation_and_crlf() {
        let li = idx("a\r\n\tb := 1\r\n");
        let span = Span {
            start_byte: 0,
            end_byte: 0,
            start_line: 2,
            end_line: 2,
        };
        let r = li.range(&span, Encoding::Utf16);
        assert_eq!((r.start.line, r.start.character), (1, 1));
        assert_eq!((r.end.line, r.end.character), (1, 7));
        assert_eq!(li.line_text(2), Some("\tb := 1"));
    }

    #[test]
    fn uris_and_arguments() {
        let root = Path::new("/ws");
        assert_eq!(
            path_arg("profiles/a.pb.gz", root).unwrap(),
            PathBuf::from("/ws/profiles/a.pb.gz")
        );
        assert_eq!(
            path_arg("file:///tmp/a%20b.pb.gz", root).unwrap(),
            PathBuf::from("/tmp/a b.pb.gz")
        );
        let u = uri_of(Path::new("/tmp/a b.go")).unwrap();
        assert_eq!(path_of(&u).unwrap(), PathBuf::from("/tmp/a b.go"));
    }
}
