//! Go build constraints: whether a file is part of the build for a target platform,
//! from its name (`x_linux.go`, `x_arm64.go`, `x_windows_amd64_test.go`) and its
//! `//go:build` line. The index needs this to number `init.N` functions the way the
//! compiler does, which counts only the files it compiles.

/// Operating systems the toolchain knows (`go tool dist list` and go/build's list).
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// Operating systems that satisfy the `unix` tag.
const UNIX_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "linux",
    "netbsd",
    "openbsd",
    "solaris",
];

/// Architectures the toolchain knows.
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// The platform and tags a build is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    pub goos: String,
    pub goarch: String,
    /// Whether cgo is enabled (the `cgo` tag, and files that `import "C"`).
    pub cgo: bool,
    /// Extra tags given with `-tags`.
    pub tags: Vec<String>,
}

impl Default for BuildContext {
    /// The host platform, overridden by `GOOS`, `GOARCH` and `CGO_ENABLED` in the
    /// environment like the go command does.
    fn default() -> Self {
        let host_os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let host_arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64",
            "loongarch64" => "loong64",
            other => other,
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let goos = env("GOOS").unwrap_or_else(|| host_os.to_string());
        let goarch = env("GOARCH").unwrap_or_else(|| host_arch.to_string());
        let cgo = env("CGO_ENABLED").is_none_or(|v| v != "0");
        BuildContext {
            goos,
            goarch,
            cgo,
            tags: Vec::new(),
        }
    }
}

impl BuildContext {
    /// A context for `goos`/`goarch` with cgo enabled and no extra tags.
    pub fn new(goos: &str, goarch: &str) -> Self {
        BuildContext {
            goos: goos.to_string(),
            goarch: goarch.to_string(),
            cgo: true,
            tags: Vec::new(),
        }
    }

    fn matches_os(&self, name: &str) -> bool {
        self.goos == name
            || (name == "linux" && self.goos == "android")
            || (name == "solaris" && self.goos == "illumos")
            || (name == "darwin" && self.goos == "ios")
    }

    /// Whether a build tag is satisfied.
    pub fn matches_tag(&self, tag: &str) -> bool {
        if self.matches_os(tag) || tag == self.goarch {
            return true;
        }
        match tag {
            "unix" => UNIX_OS.contains(&self.goos.as_str()),
            "gc" => true,
            "cgo" => self.cgo,
            _ => {
                if let Some(minor) = tag.strip_prefix("go1.") {
                    // Every released language version is satisfied by a current toolchain.
                    return !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
                }
                if tag == format!("{}.v1", self.goarch) && self.goarch == "amd64" {
                    return true;
                }
                self.tags.iter().any(|t| t == tag)
            }
        }
    }

    /// Whether the file name's `_GOOS`, `_GOARCH` or `_GOOS_GOARCH` suffix (before
    /// `_test.go` and `.go`) admits the file.
    pub fn matches_file_name(&self, file_name: &str) -> bool {
        let stem = file_name.strip_suffix(".go").unwrap_or(file_name);
        let stem = stem.strip_suffix("_test").unwrap_or(stem);
        let Some(i) = stem.find('_') else {
            return true;
        };
        let parts: Vec<&str> = stem[i..].split('_').collect();
        let n = parts.len();
        if n >= 2 && KNOWN_OS.contains(&parts[n - 2]) && KNOWN_ARCH.contains(&parts[n - 1]) {
            return self.matches_os(parts[n - 2]) && self.goarch == parts[n - 1];
        }
        if n >= 1 && KNOWN_OS.contains(&parts[n - 1]) {
            return self.matches_os(parts[n - 1]);
        }
        if n >= 1 && KNOWN_ARCH.contains(&parts[n - 1]) {
            return self.goarch == parts[n - 1];
        }
        true
    }

    /// Whether a `//go:build` expression is satisfied. An expression that does not parse
    /// admits the file (the compiler would reject it; heapspot still wants its symbols).
    pub fn matches_expr(&self, expr: &str) -> bool {
        let tokens = lex(expr);
        let mut p = ExprParser {
            tokens: &tokens,
            pos: 0,
            ctx: self,
            depth: 0,
        };
        match p.or() {
            Some(v) if p.pos == tokens.len() => v,
            _ => true,
        }
    }

    /// Whether a file with this name and text is part of the build: its name suffix and
    /// its `//go:build` line (read from the header before the package clause).
    pub fn matches_file(&self, file_name: &str, text: &str) -> bool {
        if !self.matches_file_name(file_name) {
            return false;
        }
        match build_line(text) {
            Some(expr) => self.matches_expr(expr),
            None => true,
        }
    }
}

/// The expression of the `//go:build` line in the file's header (the comments and blank
/// lines before the package clause).
pub fn build_line(text: &str) -> Option<&str> {
    let mut in_block = false;
    for line in text.lines() {
        let t = line.trim();
        if in_block {
            if let Some(i) = t.find("*/") {
                in_block = false;
                if !t[i + 2..].trim().is_empty() {
                    return None;
                }
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("//go:build") {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                return Some(rest.trim());
            }
            continue;
        }
        if t.starts_with("//") {
            continue;
        }
        if let Some(rest) = t.strip_prefix("/*") {
            if !rest.contains("*/") {
                in_block = true;
            }
            continue;
        }
        return None;
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Not,
    And,
    Or,
    Open,
    Close,
    Tag(&'a str),
    Bad,
}

fn lex(expr: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            b'!' => {
                out.push(Token::Not);
                i += 1;
            }
            b'(' => {
                out.push(Token::Open);
                i += 1;
            }
            b')' => {
                out.push(Token::Close);
                i += 1;
            }
            b'&' if b.get(i + 1) == Some(&b'&') => {
                out.push(Token::And);
                i += 2;
            }
            b'|' if b.get(i + 1) == Some(&b'|') => {
                out.push(Token::Or);
                i += 2;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
                {
                    i += 1;
                }
                out.push(Token::Tag(&expr[start..i]));
            }
            _ => {
                out.push(Token::Bad);
                i += 1;
            }
        }
    }
    out
}

/// A recursive-descent parser for `||`, `&&`, `!` and parentheses, limited in depth.
struct ExprParser<'a, 't> {
    tokens: &'t [Token<'a>],
    pos: usize,
    ctx: &'t BuildContext,
    depth: usize,
}

impl ExprParser<'_, '_> {
    fn or(&mut self) -> Option<bool> {
        let mut v = self.and()?;
        while self.tokens.get(self.pos) == Some(&Token::Or) {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Some(v)
    }

    fn and(&mut self) -> Option<bool> {
        let mut v = self.not()?;
        while self.tokens.get(self.pos) == Some(&Token::And) {
            self.pos += 1;
            let r = self.not()?;
            v = v && r;
        }
        Some(v)
    }

    fn not(&mut self) -> Option<bool> {
        self.depth += 1;
        if self.depth > 100 {
            return None;
        }
        let v = match self.tokens.get(self.pos)? {
            Token::Not => {
                self.pos += 1;
                !self.not()?
            }
            Token::Open => {
                self.pos += 1;
                let v = self.or()?;
                if self.tokens.get(self.pos) != Some(&Token::Close) {
                    return None;
                }
                self.pos += 1;
                v
            }
            Token::Tag(t) => {
                self.pos += 1;
                self.ctx.matches_tag(t)
            }
            _ => return None,
        };
        self.depth -= 1;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let c = BuildContext::new("linux", "amd64");
        assert!(c.matches_file_name("store.go"));
        assert!(c.matches_file_name("linux.go"));
        assert!(c.matches_file_name("x_linux.go"));
        assert!(c.matches_file_name("x_linux_amd64_test.go"));
        assert!(!c.matches_file_name("x_windows.go"));
        assert!(!c.matches_file_name("x_arm64.go"));
        assert!(!c.matches_file_name("x_linux_arm64.go"));
        assert!(c.matches_file_name("x_foo.go"));
        let a = BuildContext::new("android", "arm64");
        assert!(a.matches_file_name("x_linux.go"));
    }

    #[test]
    fn expressions() {
        let c = BuildContext::new("linux", "amd64");
        assert!(c.matches_expr("linux && amd64"));
        assert!(c.matches_expr("unix && !windows"));
        assert!(!c.matches_expr("ignore"));
        assert!(c.matches_expr("(darwin || linux) && (amd64 || arm64)"));
        assert!(!c.matches_expr("!cgo"));
        assert!(c.matches_expr("go1.21"));
        assert!(!c.matches_expr("purego || race"));
        assert!(
            c.matches_expr("((((("),
            "an expression that does not parse admits"
        );
    }

    #[test]
    fn header_line() {
        let text = "// Copyright\n\n//go:build linux && !cgo\n\n// Package x does y.\npackage x\n";
        assert_eq!(build_line(text), Some("linux && !cgo"));
        assert_eq!(build_line("package x\n//go:build ignore\n"), None);
        assert_eq!(
            build_line("/* block\n comment */\n//go:build ignore\npackage x\n"),
            Some("ignore")
        );
        let c = BuildContext::new("linux", "amd64");
        assert!(!c.matches_file("a.go", "//go:build linux && !cgo\npackage x\n"));
    }
}
