//! Reads `go.mod` (module path and `go` directive) and `go.work` (`use` directives) into
//! [`Module`]s. Only the few directives heapspot needs are interpreted; the rest of the
//! file is tolerated, including comments, parenthesized blocks and quoted paths.

use std::fmt;
use std::path::{Path, PathBuf};

use super::model::Module;

/// A `go.mod` or `go.work` file that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModError {
    /// The file at fault.
    pub path: PathBuf,
    /// The 1-based line of the problem, when it is about one line.
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for GoModError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for GoModError {}

/// The parts of a `go.work` file heapspot uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoWork {
    /// The `go` directive, when present.
    pub go_version: Option<String>,
    /// The `use` directories, resolved against the directory holding `go.work`.
    pub uses: Vec<PathBuf>,
}

/// One directive: its verb, its arguments (unquoted) and its line.
#[derive(Debug)]
struct Directive {
    verb: String,
    args: Vec<String>,
    line: u32,
}

/// Splits a line into tokens: bare words and `"..."` or `` `...` `` strings, stopping at a
/// `//` comment. Parentheses are tokens of their own.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if line[i..].starts_with("//") {
            break;
        } else if c == '(' || c == ')' {
            tokens.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, e)) => s.push(e),
                        None => break,
                    },
                    _ => s.push(c),
                }
            }
            if !closed {
                return Err("unterminated quoted string".to_string());
            }
            tokens.push(s);
        } else if c == '`' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '`' {
                    closed = true;
                    break;
                }
                s.push(c);
            }
            if !closed {
                return Err("unterminated raw string".to_string());
            }
            tokens.push(s);
        } else {
            let start = i;
            let mut end = line.len();
            while let Some(&(j, c)) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' || c == '`' {
                    end = j;
                    break;
                }
                if line[j..].starts_with("//") {
                    end = j;
                    break;
                }
                chars.next();
            }
            tokens.push(line[start..end].to_string());
        }
    }
    Ok(tokens)
}

/// Reads the directives of a `go.mod`-style file, expanding `verb ( ... )` blocks into
/// one directive per line.
fn directives(path: &Path, text: &str) -> Result<Vec<Directive>, GoModError> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let tokens = tokenize(raw).map_err(|message| GoModError {
            path: path.to_path_buf(),
            line: Some(line),
            message,
        })?;
        if tokens.is_empty() {
            continue;
        }
        if let Some(verb) = &block {
            if tokens.len() == 1 && tokens[0] == ")" {
                block = None;
                continue;
            }
            out.push(Directive {
                verb: verb.clone(),
                args: tokens,
                line,
            });
            continue;
        }
        let mut tokens = tokens;
        let verb = tokens.remove(0);
        if tokens.first().map(String::as_str) == Some("(") {
            // `verb (` opens a block; `verb ( arg )` on one line is accepted too.
            tokens.remove(0);
            if tokens.last().map(String::as_str) == Some(")") {
                tokens.pop();
                if !tokens.is_empty() {
                    out.push(Directive {
                        verb,
                        args: tokens,
                        line,
                    });
                }
            } else if tokens.is_empty() {
                block = Some(verb);
            } else {
                return Err(GoModError {
                    path: path.to_path_buf(),
                    line: Some(line),
                    message: format!("unexpected text after `{verb} (`"),
                });
            }
            continue;
        }
        out.push(Directive {
            verb,
            args: tokens,
            line,
        });
    }
    if let Some(verb) = block {
        return Err(GoModError {
            path: path.to_path_buf(),
            line: None,
            message: format!("unterminated `{verb} (` block"),
        });
    }
    Ok(out)
}

/// Parses the text of a `go.mod` file; `path` is the file (its directory becomes the
/// module directory and its name appears in errors).
pub fn parse_go_mod(path: &Path, text: &str) -> Result<Module, GoModError> {
    let mut module_path = None;
    let mut go_version = None;
    for d in directives(path, text)? {
        match d.verb.as_str() {
            "module" => {
                let [p] = d.args.as_slice() else {
                    return Err(GoModError {
                        path: path.to_path_buf(),
                        line: Some(d.line),
                        message: "usage: module module/path".to_string(),
                    });
                };
                if module_path.is_some() {
                    return Err(GoModError {
                        path: path.to_path_buf(),
                        line: Some(d.line),
                        message: "repeated module directive".to_string(),
                    });
                }
                if p.is_empty() {
                    return Err(GoModError {
                        path: path.to_path_buf(),
                        line: Some(d.line),
                        message: "empty module path".to_string(),
                    });
                }
                module_path = Some(p.clone());
            }
            "go" => go_version = d.args.first().cloned(),
            _ => {}
        }
    }
    let Some(module_path) = module_path else {
        return Err(GoModError {
            path: path.to_path_buf(),
            line: None,
            message: "no module directive".to_string(),
        });
    };
    Ok(Module {
        path: module_path,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        go_version,
    })
}

/// Parses the text of a `go.work` file; `use` paths are resolved against its directory.
pub fn parse_go_work(path: &Path, text: &str) -> Result<GoWork, GoModError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut go_version = None;
    let mut uses = Vec::new();
    for d in directives(path, text)? {
        match d.verb.as_str() {
            "go" => go_version = d.args.first().cloned(),
            "use" => {
                let [p] = d.args.as_slice() else {
                    return Err(GoModError {
                        path: path.to_path_buf(),
                        line: Some(d.line),
                        message: "usage: use local/dir".to_string(),
                    });
                };
                let used = Path::new(p);
                let full = if used.is_absolute() {
                    used.to_path_buf()
                } else {
                    normalize(&dir.join(used))
                };
                if !uses.contains(&full) {
                    uses.push(full);
                }
            }
            _ => {}
        }
    }
    Ok(GoWork { go_version, uses })
}

/// Reads and parses a `go.mod` file.
pub fn read_go_mod(path: &Path) -> Result<Module, GoModError> {
    let text = read(path)?;
    parse_go_mod(path, &text)
}

/// Reads and parses a `go.work` file.
pub fn read_go_work(path: &Path) -> Result<GoWork, GoModError> {
    let text = read(path)?;
    parse_go_work(path, &text)
}

fn read(path: &Path) -> Result<String, GoModError> {
    let bytes = std::fs::read(path).map_err(|e| GoModError {
        path: path.to_path_buf(),
        line: None,
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| GoModError {
        path: path.to_path_buf(),
        line: None,
        message: "not UTF-8".to_string(),
    })
}

/// Removes `.` components and folds `dir/..` pairs without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_module_and_go_directive() {
        let text = "// header comment\nmodule example.com/shop // trailing\n\ngo 1.22.3\n\nrequire (\n\tgolang.org/x/sync v0.7.0 // indirect\n)\n";
        let m = parse_go_mod(Path::new("/w/go.mod"), text).unwrap();
        assert_eq!(m.path, "example.com/shop");
        assert_eq!(m.go_version.as_deref(), Some("1.22.3"));
        assert_eq!(m.dir, PathBuf::from("/w"));
    }

    #[test]
    fn accepts_quoted_and_block_module_paths() {
        let m = parse_go_mod(Path::new("/w/go.mod"), "module \"example.com/q\"\n").unwrap();
        assert_eq!(m.path, "example.com/q");
        let m = parse_go_mod(Path::new("/w/go.mod"), "module `example.com/raw`\n").unwrap();
        assert_eq!(m.path, "example.com/raw");
        let m = parse_go_mod(
            Path::new("/w/go.mod"),
            "module (\n  example.com/b\n)\ngo 1.21\n",
        )
        .unwrap();
        assert_eq!(m.path, "example.com/b");
        assert_eq!(m.go_version.as_deref(), Some("1.21"));
    }

    #[test]
    fn errors_name_the_file() {
        let e = parse_go_mod(Path::new("/w/sub/go.mod"), "go 1.22\n").unwrap_err();
        assert_eq!(e.to_string(), "/w/sub/go.mod: no module directive");
        let e = parse_go_mod(Path::new("/w/go.mod"), "module \"unterminated\n").unwrap_err();
        assert_eq!(e.to_string(), "/w/go.mod:1: unterminated quoted string");
        let e = parse_go_mod(Path::new("/w/go.mod"), "require (\n a v1\n").unwrap_err();
        assert_eq!(e.to_string(), "/w/go.mod: unterminated `require (` block");
        let e = parse_go_mod(Path::new("/w/go.mod"), "module a b\n").unwrap_err();
        assert_eq!(e.to_string(), "/w/go.mod:1: usage: module module/path");
    }

    #[test]
    fn reads_go_work_uses() {
        let text =
            "go 1.23\n\nuse ./api // the API\nuse (\n\t./svc\n\t\"./tools/gen\"\n\t../shared\n)\n";
        let w = parse_go_work(Path::new("/w/repo/go.work"), text).unwrap();
        assert_eq!(w.go_version.as_deref(), Some("1.23"));
        assert_eq!(
            w.uses,
            vec![
                PathBuf::from("/w/repo/api"),
                PathBuf::from("/w/repo/svc"),
                PathBuf::from("/w/repo/tools/gen"),
                PathBuf::from("/w/shared"),
            ]
        );
    }
}
