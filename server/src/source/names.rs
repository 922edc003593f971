//! Go symbol names as pprof shows them: splitting a profile function name into its
//! package and symbol, normalizing generic instantiations to `[...]`, and the package-wide
//! renumbering of `init.N` functions and `init.funcN` closures.

/// The names a closure may be declared under when the compiler invented its recorded name
/// by inlining: a closure of `inner` inlined into `outer` is recorded as
/// `outer.inner.func1` although the source declares it in `inner` as `inner.func1`. Yields
/// the candidates from the longest to the shortest, each still naming a closure (`….funcN`),
/// for use only when the recorded name itself is not declared.
pub fn inlined_closure_names(symbol: &str) -> impl Iterator<Item = &str> + '_ {
    let mut depth = 0i32;
    let cuts: Vec<usize> = symbol
        .char_indices()
        .filter_map(|(i, c)| {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '.' if depth == 0 => return Some(i + 1),
                _ => {}
            }
            None
        })
        .collect();
    cuts.into_iter().map(move |i| &symbol[i..]).filter(|rest| {
        let first = rest.split('.').next().unwrap_or("");
        let is_closure_segment = first
            .strip_prefix("func")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        !is_closure_segment && rest.contains(".func")
    })
}

/// Rewrites every bracketed group (`[go.shape.string]`, `[go.shape.map[string]int]`,
/// `[...]`) to `[...]`, so that a profile's instantiated name compares equal to the
/// summary's name: `Collect[go.shape.*uint8]` becomes `Collect[...]` and
/// `(*Box[go.shape.int]).Add.func1` becomes `(*Box[...]).Add.func1`. The spelling of
/// closures in package-level initializers used before Go 1.22, `glob..funcN`, becomes
/// today's `init.funcN`. Names of compiler-made functions whose code is the body of a
/// source function lose their suffix: the body of a range-over-func loop, `F-range1`
/// (also nested, `F-range1-range2`), and the method-value wrapper `(*T).M-fm` become `F`
/// and `(*T).M`. Unbalanced brackets are left as they are.
pub fn normalize_symbol(symbol: &str) -> String {
    let mut out = String::with_capacity(symbol.len());
    let mut rest = symbol;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let mut depth = 0usize;
        let mut close = None;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        match close {
            Some(close) => {
                out.push_str("[...]");
                rest = &rest[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    strip_suffixes(&mut out);
    if let Some(tail) = out.strip_prefix("glob..func") {
        if tail.starts_with(|c: char| c.is_ascii_digit()) {
            return format!("init.func{tail}");
        }
    }
    out
}

/// Removes trailing `-rangeN` and `-fm` suffixes.
fn strip_suffixes(s: &mut String) {
    loop {
        if let Some(head) = s.strip_suffix("-fm") {
            let n = head.len();
            s.truncate(n);
            continue;
        }
        let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
        if digits > 0 && s[..s.len() - digits].ends_with("-range") {
            let n = s.len() - digits - "-range".len();
            s.truncate(n);
            continue;
        }
        return;
    }
}

/// Splits a pprof function name into its package path and symbol:
/// `example.com/svc/cache.(*Store).Put` gives `("example.com/svc/cache", "(*Store).Put")`
/// and `main.Collect[go.shape.string]` gives `("main", "Collect[go.shape.string]")`.
/// Slashes inside type arguments do not count. The toolchain escapes dots in the last
/// element of a package path (`gopkg.in/yaml%2ev3`), and the package part is returned
/// still escaped. `None` when there is no package qualifier.
pub fn split_function_name(name: &str) -> Option<(&str, &str)> {
    let head_end = name.find('[').unwrap_or(name.len());
    let last_slash = name[..head_end].rfind('/').map_or(0, |i| i + 1);
    let dot = last_slash + name[last_slash..head_end].find('.')?;
    Some((&name[..dot], &name[dot + 1..]))
}

/// Which package-wide counter a name's leading number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbered {
    /// `init.N...`: the N-th `func init` of the package.
    Init(u32),
    /// `init.funcN...`: the N-th closure in a package-level initializer (1-based).
    InitClosure(u32),
}

/// Reads the package-wide number at the start of a symbol, with the byte range of its
/// digits.
pub(crate) fn leading_number(symbol: &str) -> Option<(Numbered, std::ops::Range<usize>)> {
    let digits = |start: usize| -> Option<(u32, std::ops::Range<usize>)> {
        let tail = &symbol[start..];
        let len = tail.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let end = start + len;
        if end < symbol.len() && symbol.as_bytes()[end] != b'.' {
            return None;
        }
        let n = tail[..len].parse().ok()?;
        Some((n, start..end))
    };
    if symbol.starts_with("init.func") {
        let (n, r) = digits("init.func".len())?;
        return Some((Numbered::InitClosure(n), r));
    }
    if symbol.starts_with("init.") {
        let (n, r) = digits("init.".len())?;
        return Some((Numbered::Init(n), r));
    }
    None
}

/// Shifts the package-wide number of a symbol: `init.N` by `init_offset` and `init.funcN`
/// by `closure_offset`. Other names are returned unchanged.
pub(crate) fn renumber(symbol: &str, init_offset: u32, closure_offset: u32) -> Option<String> {
    let (which, range) = leading_number(symbol)?;
    let n = match which {
        Numbered::Init(n) => n.checked_add(init_offset)?,
        Numbered::InitClosure(n) => n.checked_add(closure_offset)?,
    };
    if n == u32::MAX {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &symbol[..range.start],
        n,
        &symbol[range.end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_instantiations() {
        assert_eq!(normalize_symbol("Collect[go.shape.*uint8]"), "Collect[...]");
        assert_eq!(
            normalize_symbol("(*Box[go.shape.int]).Add.func1"),
            "(*Box[...]).Add.func1"
        );
        assert_eq!(
            normalize_symbol("Map[go.shape.int,go.shape.map[string]int]"),
            "Map[...]"
        );
        assert_eq!(normalize_symbol("Collect[...]"), "Collect[...]");
        assert_eq!(normalize_symbol("(*T).M"), "(*T).M");
        assert_eq!(normalize_symbol("broken[x"), "broken[x");
        assert_eq!(normalize_symbol("glob..func3"), "init.func3");
        assert_eq!(normalize_symbol("glob..func3.1"), "init.func3.1");
        assert_eq!(normalize_symbol("glob..x"), "glob..x");
        assert_eq!(normalize_symbol("containsDotDot-range1"), "containsDotDot");
        assert_eq!(normalize_symbol("F[go.shape.int]-range1-range2"), "F[...]");
        assert_eq!(normalize_symbol("F.func1-range3"), "F.func1");
        assert_eq!(normalize_symbol("(*T).M-fm"), "(*T).M");
        assert_eq!(normalize_symbol("x-range"), "x-range");
    }

    #[test]
    fn splits_profile_names() {
        assert_eq!(
            split_function_name("example.com/svc/cache.(*Store).Put"),
            Some(("example.com/svc/cache", "(*Store).Put"))
        );
        assert_eq!(split_function_name("main.main"), Some(("main", "main")));
        assert_eq!(
            split_function_name("main.F[example.com/x.T]"),
            Some(("main", "F[example.com/x.T]"))
        );
        assert_eq!(
            split_function_name("gopkg.in/yaml%2ev3.(*parser).parse"),
            Some(("gopkg.in/yaml%2ev3", "(*parser).parse"))
        );
        assert_eq!(split_function_name("nodot"), None);
    }

    #[test]
    fn renumbers_init_names() {
        assert_eq!(renumber("init.0", 2, 5).as_deref(), Some("init.2"));
        assert_eq!(
            renumber("init.1.func2", 2, 5).as_deref(),
            Some("init.3.func2")
        );
        assert_eq!(renumber("init.func1", 2, 5).as_deref(), Some("init.func6"));
        assert_eq!(
            renumber("init.func1.3", 2, 5).as_deref(),
            Some("init.func6.3")
        );
        assert_eq!(renumber("initialize", 2, 5), None);
        assert_eq!(renumber("init.x", 2, 5), None);
        assert_eq!(renumber("(*T).init", 2, 5), None);
    }

    #[test]
    fn closures_renamed_by_inlining_offer_their_declared_names() {
        fn names(s: &str) -> Vec<&str> {
            inlined_closure_names(s).collect()
        }
        assert_eq!(
            names("main.inventoryBackend.func1"),
            ["inventoryBackend.func1"]
        );
        assert_eq!(
            names("(*Server).Run.spawn.func2.1"),
            ["Run.spawn.func2.1", "spawn.func2.1"]
        );
        assert_eq!(names("handler.func1"), Vec::<&str>::new());
        assert_eq!(names("F.func1.func2"), Vec::<&str>::new());
        assert_eq!(names("(*List[...]).Push"), Vec::<&str>::new());
    }
}
