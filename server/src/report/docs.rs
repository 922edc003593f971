//! The rule documentation (`docs/rules/<id>.md`) compiled into the binary, so an installed
//! heapspot (a `.vsix`, a CI runner) links to pages that exist on its own machine: the
//! pages are written once per version into the user's cache directory when the source
//! tree heapspot was built from is not there.

use std::path::{Path, PathBuf};

/// Every documented rule id and its page, in id order.
pub const RULE_DOCS: &[(&str, &str)] = &[
    (
        "cache-no-eviction",
        include_str!("../../../docs/rules/cache-no-eviction.md"),
    ),
    (
        "closure-registry-leak",
        include_str!("../../../docs/rules/closure-registry-leak.md"),
    ),
    (
        "context-cancel-not-called",
        include_str!("../../../docs/rules/context-cancel-not-called.md"),
    ),
    (
        "defer-in-loop",
        include_str!("../../../docs/rules/defer-in-loop.md"),
    ),
    (
        "finalizer-cycle",
        include_str!("../../../docs/rules/finalizer-cycle.md"),
    ),
    (
        "global-slice-append",
        include_str!("../../../docs/rules/global-slice-append.md"),
    ),
    (
        "goroutine-blocked-recv",
        include_str!("../../../docs/rules/goroutine-blocked-recv.md"),
    ),
    (
        "goroutine-blocked-send",
        include_str!("../../../docs/rules/goroutine-blocked-send.md"),
    ),
    (
        "growing-site",
        include_str!("../../../docs/rules/growing-site.md"),
    ),
    (
        "http-body-not-closed",
        include_str!("../../../docs/rules/http-body-not-closed.md"),
    ),
    (
        "map-field-no-delete",
        include_str!("../../../docs/rules/map-field-no-delete.md"),
    ),
    (
        "map-high-water-mark",
        include_str!("../../../docs/rules/map-high-water-mark.md"),
    ),
    (
        "memory-regression",
        include_str!("../../../docs/rules/memory-regression.md"),
    ),
    (
        "retained-hotspot",
        include_str!("../../../docs/rules/retained-hotspot.md"),
    ),
    (
        "subslice-retains-backing-array",
        include_str!("../../../docs/rules/subslice-retains-backing-array.md"),
    ),
    (
        "substring-retains-string",
        include_str!("../../../docs/rules/substring-retains-string.md"),
    ),
    (
        "sync-pool-oversized-buffer",
        include_str!("../../../docs/rules/sync-pool-oversized-buffer.md"),
    ),
    (
        "ticker-not-stopped",
        include_str!("../../../docs/rules/ticker-not-stopped.md"),
    ),
    (
        "time-after-in-loop",
        include_str!("../../../docs/rules/time-after-in-loop.md"),
    ),
    (
        "unbounded-global-map",
        include_str!("../../../docs/rules/unbounded-global-map.md"),
    ),
];

/// The page of a rule, if it has one.
pub fn rule_doc(rule: &str) -> Option<&'static str> {
    RULE_DOCS
        .binary_search_by(|(id, _)| id.cmp(&rule))
        .ok()
        .map(|i| RULE_DOCS[i].1)
}

/// The `docs/rules/` directory of the source tree heapspot was built from.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("docs/rules")
}

/// The per-version cache directory the pages are written to: `$XDG_CACHE_HOME/heapspot/`
/// or `$HOME/.cache/heapspot/`, then `<version>/docs/rules/`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(
        base.join("heapspot")
            .join(env!("CARGO_PKG_VERSION"))
            .join("docs/rules"),
    )
}

/// Writes every page into `dir` (each file atomically, through a temporary name), unless
/// it is already there with the same text.
pub fn materialize(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (id, text) in RULE_DOCS {
        let path = dir.join(format!("{id}.md"));
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        let tmp = dir.join(format!(".{id}.md.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// The directory rule pages are linked in: the source tree when it is present, else the
/// cache directory once the pages are written there; `None` when neither works.
pub fn local_dir() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let src = source_dir();
        if RULE_DOCS
            .iter()
            .all(|(id, _)| src.join(format!("{id}.md")).is_file())
        {
            return Some(src);
        }
        let dir = cache_dir()?;
        materialize(&dir).ok().map(|()| dir)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_and_finding_kind_has_a_page_and_every_page_a_rule() {
        let ids: Vec<&str> = crate::report::all_rule_meta()
            .iter()
            .map(|m| m.id)
            .collect();
        for id in &ids {
            let doc = rule_doc(id).unwrap_or_else(|| panic!("no page for {id}"));
            assert!(doc.starts_with('#'), "{id}: the page starts with a heading");
        }
        for (id, _) in RULE_DOCS {
            assert!(ids.contains(id), "docs/rules/{id}.md documents no rule");
        }
        assert!(
            RULE_DOCS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted by id"
        );
    }

    #[test]
    fn pages_are_written_once_and_left_alone_when_unchanged() {
        let dir = std::env::temp_dir().join(format!("heapspot-docs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        materialize(&dir).unwrap();
        let page = dir.join("unbounded-global-map.md");
        assert_eq!(
            std::fs::read_to_string(&page).unwrap(),
            rule_doc("unbounded-global-map").unwrap()
        );
        std::fs::write(&page, "stale").unwrap();
        materialize(&dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(&page).unwrap(),
            rule_doc("unbounded-global-map").unwrap(),
            "a changed page is rewritten"
        );
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
