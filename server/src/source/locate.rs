//! Finds the local file for a path recorded in a profile. Profiles come from other
//! machines (`/home/runner/work/svc/svc/cache/store.go`), containers (`/app/cache/store.go`)
//! and `-trimpath` builds (`example.com/svc/cache/store.go`), so the path is tried under a
//! source root with its leading components removed one at a time, longest suffix first.

use std::path::{Path, PathBuf};

/// Splits a recorded path into its components, accepting `/` and `\` separators.
fn components(recorded: &str) -> Vec<&str> {
    recorded
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Resolves `recorded` to an existing local file. With `root`, the longest suffix of the
/// path that exists under `root` wins; a recorded absolute path that exists as is comes
/// next. Without `root`, the path as is comes first and the current directory serves as
/// the root.
pub fn locate(recorded: &str, root: Option<&Path>) -> Option<PathBuf> {
    let as_is = Path::new(recorded);
    if root.is_none() && as_is.is_absolute() && as_is.is_file() {
        return Some(as_is.to_path_buf());
    }
    let cwd;
    let root = match root {
        Some(r) => r,
        None => {
            cwd = std::env::current_dir().ok()?;
            cwd.as_path()
        }
    };
    let parts = components(recorded);
    if parts.contains(&"..") {
        return None;
    }
    for start in 0..parts.len() {
        let candidate = parts[start..]
            .iter()
            .fold(root.to_path_buf(), |p, c| p.join(c));
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    (as_is.is_absolute() && as_is.is_file()).then(|| as_is.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_existing_suffix() {
        let dir = std::env::temp_dir().join(format!("heapspot-locate-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cache")).unwrap();
        std::fs::create_dir_all(dir.join("other/cache")).unwrap();
        std::fs::write(dir.join("cache/store.go"), "package cache\n").unwrap();
        std::fs::write(dir.join("other/cache/store.go"), "package cache\n").unwrap();
        let got = locate("/home/runner/work/svc/svc/cache/store.go", Some(&dir));
        assert_eq!(got, Some(dir.join("cache/store.go")));
        let got = locate("/app/other/cache/store.go", Some(&dir));
        assert_eq!(got, Some(dir.join("other/cache/store.go")));
        assert_eq!(locate("example.com/svc/missing.go", Some(&dir)), None);
        assert_eq!(locate("../../etc/passwd", Some(&dir)), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
