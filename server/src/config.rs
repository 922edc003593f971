//! `.heapspot.toml` at the workspace root: which profiles to read (globs relative to the
//! root, or absolute, in time order), goroutine profiles, rules on or off, the severity
//! thresholds, path mappings and live sources. Unknown keys are errors that name the
//! file, so a typo never silently disables a check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::mapping::PathMapping;

/// The file name looked up at the workspace root.
pub const FILE_NAME: &str = ".heapspot.toml";

/// Thresholds of the severity policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A site holding at least this share of in-use memory is a retained hotspot.
    pub hotspot_share: f64,
    /// A rule match holding at least this share, without trend data, is a warning.
    pub large_share: f64,
    /// Growth must fit a line at least this well (r²) to count as steady.
    pub growth_min_r_squared: f64,
    /// At least this share of the steps between snapshots must rise.
    pub growth_min_rising_share: f64,
    /// Growth smaller than this many bytes over the whole series is noise.
    pub growth_min_bytes: i64,
    /// A site no rule explains must grow by at least this many standard errors of the
    /// heap profile's sampling (the runtime samples one allocation per 512kB by default,
    /// so a line seen in one or two samples is noise, not growth).
    pub growth_min_z: f64,
    /// A rule match whose in-use memory in the last snapshot is at least this multiple of
    /// the first (and more than `growth_min_bytes` above it) is a leak even when the
    /// series is not steady (sampling and slice doubling make retained slices jumpy).
    pub rule_growth_min_ratio: f64,
    /// A rule match that leaks only when it grows (a map deleted from on some paths) must
    /// grow by at least this many standard errors of the sampling: less than a site no
    /// rule explains (`growth_min_z`), since its pattern already points at a leak.
    pub rule_growth_min_z: f64,
    /// With a baseline, a site that grew by more than this many bytes regressed ...
    pub regression_bytes: i64,
    /// ... and by more than this percentage of its baseline value.
    pub regression_percent: f64,
    /// Goroutines at one blocked line, across snapshots, that count as a leak when rising.
    pub goroutine_min_count: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            hotspot_share: 0.05,
            large_share: 0.10,
            growth_min_r_squared: 0.8,
            growth_min_rising_share: 0.66,
            growth_min_bytes: 64 << 10,
            growth_min_z: 2.0,
            rule_growth_min_ratio: 1.25,
            rule_growth_min_z: 1.5,
            regression_bytes: 1 << 20,
            regression_percent: 10.0,
            goroutine_min_count: 10,
        }
    }
}

/// A rule's setting: `true`/`false`, or a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RuleSetting {
    Enabled(bool),
    Table(RuleTable),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTable {
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A live endpoint polled for snapshots.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub url: String,
    /// Poll interval in seconds.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
}

fn default_interval() -> u64 {
    30
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    from: String,
    to: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    goroutine_profiles: Vec<String>,
    #[serde(default)]
    sample_type: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, RuleSetting>,
    #[serde(default)]
    thresholds: Thresholds,
    #[serde(default)]
    path_mappings: Vec<RawMapping>,
    #[serde(default)]
    sources: Vec<Source>,
}

/// The loaded configuration, paths resolved against the workspace root.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub root: PathBuf,
    /// Heap profile patterns as written.
    pub profiles: Vec<String>,
    pub goroutine_profiles: Vec<String>,
    pub sample_type: Option<String>,
    pub rules: BTreeMap<String, RuleSetting>,
    pub thresholds: Thresholds,
    pub path_mappings: Vec<PathMapping>,
    pub sources: Vec<Source>,
}

impl Config {
    /// Reads `.heapspot.toml` under `root`; a missing file is the default configuration.
    pub fn load(root: &Path) -> Result<Config, String> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(root, &text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config {
                root: root.to_path_buf(),
                ..Config::default()
            }),
            Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
        }
    }

    /// Parses configuration text for a workspace rooted at `root`.
    pub fn parse(root: &Path, text: &str) -> Result<Config, String> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let t = &raw.thresholds;
        for (name, v) in [
            ("hotspot_share", t.hotspot_share),
            ("large_share", t.large_share),
            ("growth_min_r_squared", t.growth_min_r_squared),
            ("growth_min_rising_share", t.growth_min_rising_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!(
                    "thresholds.{name} must be between 0 and 1, not {v}"
                ));
            }
        }
        if !(t.growth_min_z.is_finite() && t.growth_min_z >= 0.0) {
            return Err(format!(
                "thresholds.growth_min_z must be a number of at least 0, not {}",
                t.growth_min_z
            ));
        }
        if !(t.rule_growth_min_z.is_finite() && t.rule_growth_min_z >= 0.0) {
            return Err(format!(
                "thresholds.rule_growth_min_z must be a number of at least 0, not {}",
                t.rule_growth_min_z
            ));
        }
        if !(t.rule_growth_min_ratio.is_finite() && t.rule_growth_min_ratio > 1.0) {
            return Err(format!(
                "thresholds.rule_growth_min_ratio must be a number above 1, not {}",
                t.rule_growth_min_ratio
            ));
        }
        Ok(Config {
            root: root.to_path_buf(),
            profiles: raw.profiles,
            goroutine_profiles: raw.goroutine_profiles,
            sample_type: raw.sample_type,
            rules: raw.rules,
            thresholds: raw.thresholds,
            path_mappings: raw
                .path_mappings
                .into_iter()
                .map(|m| PathMapping {
                    from: m.from,
                    to: if m.to.is_absolute() {
                        m.to
                    } else {
                        root.join(m.to)
                    },
                })
                .collect(),
            sources: raw.sources,
        })
    }

    /// Whether a rule is enabled (rules are on unless configured off).
    pub fn rule_enabled(&self, id: &str) -> bool {
        match self.rules.get(id) {
            None => true,
            Some(RuleSetting::Enabled(b)) => *b,
            Some(RuleSetting::Table(t)) => t.enabled,
        }
    }

    /// Expands heap profile patterns to files, in time order (see [`expand`]).
    pub fn heap_profiles(&self) -> Result<Vec<PathBuf>, String> {
        expand(&self.root, &self.profiles)
    }

    /// Expands goroutine profile patterns to files.
    pub fn goroutine_profile_files(&self) -> Result<Vec<PathBuf>, String> {
        expand(&self.root, &self.goroutine_profiles)
    }
}

/// Expands glob patterns (relative to `root` or absolute) to existing files: patterns in
/// the order given, the matches of one pattern in natural order (`heap-2` before
/// `heap-10`), duplicates dropped. A pattern that matches nothing is an error naming it.
pub fn expand(root: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = Vec::new();
    for pat in patterns {
        let full = if Path::new(pat).is_absolute() {
            pat.clone()
        } else {
            root.join(pat).display().to_string()
        };
        let paths = glob::glob(&full).map_err(|e| format!("bad profile pattern {pat:?}: {e}"))?;
        let mut matched: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(format!(
                "profile pattern {pat:?} matches no file under {}",
                root.display()
            ));
        }
        matched.sort_by(|a, b| natural_cmp(&a.display().to_string(), &b.display().to_string()));
        for m in matched {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// Compares strings with runs of digits compared as numbers (ties, such as `02` and `2`,
/// are broken by plain byte order).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    natural(a, b).then_with(|| a.cmp(b))
}

fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (p, q) = (&x[..n], &y[..m]);
                let p = trim_zeros(p);
                let q = trim_zeros(q);
                let ord = p.len().cmp(&q.len()).then_with(|| p.cmp(q));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                x = &x[n..];
                y = &y[m..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let k = s.iter().take_while(|&&c| c == b'0').count();
    &s[k.min(s.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let c = Config::parse(
            Path::new("/ws"),
            r#"
profiles = ["profiles/heap-*.pb.gz"]
goroutine_profiles = ["profiles/goroutine-*.pb.gz"]
sample_type = "inuse_space"

[rules]
ticker-not-stopped = false
defer-in-loop = { enabled = false }
unbounded-global-map = true

[thresholds]
hotspot_share = 0.1
regression_bytes = 2048
rule_growth_min_ratio = 1.5

[[path_mappings]]
from = "/app"
to = "svc"

[[sources]]
url = "http://127.0.0.1:6060/debug/pprof/heap"
interval_seconds = 10
"#,
        )
        .unwrap();
        assert!(!c.rule_enabled("ticker-not-stopped"));
        assert!(!c.rule_enabled("defer-in-loop"));
        assert!(c.rule_enabled("unbounded-global-map"));
        assert!(c.rule_enabled("finalizer-cycle"));
        assert_eq!(c.thresholds.hotspot_share, 0.1);
        assert_eq!(c.thresholds.regression_bytes, 2048);
        assert_eq!(c.thresholds.rule_growth_min_ratio, 1.5);
        assert_eq!(c.thresholds.large_share, Thresholds::default().large_share);
        assert_eq!(c.path_mappings[0].to, PathBuf::from("/ws/svc"));
        assert_eq!(c.sources[0].interval_seconds, 10);
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        let e = Config::parse(Path::new("/ws"), "profile = [\"x\"]").unwrap_err();
        assert!(e.contains("unknown field `profile`"), "{e}");
        let e = Config::parse(Path::new("/ws"), "[thresholds]\nhotspot_share = 5").unwrap_err();
        assert!(e.contains("hotspot_share"), "{e}");
        let e = Config::parse(Path::new("/ws"), "[thresholds]\nhot = 0.1").unwrap_err();
        assert!(e.contains("unknown field `hot`"), "{e}");
        let e = Config::parse(
            Path::new("/ws"),
            "[thresholds]\nrule_growth_min_ratio = 0.9",
        )
        .unwrap_err();
        assert!(e.contains("rule_growth_min_ratio"), "{e}");
    }

    #[test]
    fn natural_order_of_snapshots() {
        let mut v = vec![
            "heap-10.pb.gz",
            "heap-2.pb.gz",
            "heap-1.pb.gz",
            "heap-02.pb.gz",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "heap-1.pb.gz",
                "heap-02.pb.gz",
                "heap-2.pb.gz",
                "heap-10.pb.gz"
            ]
        );
    }

    #[test]
    fn expands_globs_in_time_order() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/service");
        let files = expand(&root, &["profiles/heap-*.pb.gz".into()]).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "heap-1.pb.gz",
                "heap-2.pb.gz",
                "heap-3.pb.gz",
                "heap-4.pb.gz"
            ]
        );
        let e = expand(&root, &["nothing-*.pb.gz".into()]).unwrap_err();
        assert!(e.contains("matches no file"), "{e}");
    }
}
