//! The client's settings (the `heapspot` object of the contract, from
//! `initializationOptions`, `workspace/didChangeConfiguration` or `workspace/configuration`)
//! and their merge over `.heapspot.toml`: a key the client gives overrides the file's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{Config, RuleSetting};

/// Snapshot retention of live captures.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotSettings {
    pub max_count: Option<usize>,
    pub max_bytes: Option<u64>,
}

/// `thresholds`: the camelCase names of `.heapspot.toml`'s `[thresholds]` keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThresholdSettings {
    pub hotspot_share: Option<f64>,
    pub large_share: Option<f64>,
    pub growth_min_r_squared: Option<f64>,
    pub growth_min_rising_share: Option<f64>,
    pub growth_min_bytes: Option<i64>,
    pub growth_min_z: Option<f64>,
    pub regression_bytes: Option<i64>,
    pub regression_percent: Option<f64>,
    pub goroutine_min_count: Option<i64>,
}

/// The settings object; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub profiles: Option<Vec<String>>,
    pub goroutine_profiles: Option<Vec<String>>,
    pub baseline: Option<String>,
    pub endpoints: Option<Vec<String>>,
    pub poll_interval_seconds: Option<f64>,
    pub snapshots: Option<SnapshotSettings>,
    pub sample_type: Option<String>,
    pub thresholds: Option<ThresholdSettings>,
    pub rules: Option<BTreeMap<String, bool>>,
    pub code_lens: Option<bool>,
    pub inlay_hints: Option<bool>,
}

/// The keys the contract defines.
const KEYS: &[&str] = &[
    "profiles",
    "goroutineProfiles",
    "baseline",
    "endpoints",
    "pollIntervalSeconds",
    "snapshots",
    "sampleType",
    "thresholds",
    "rules",
    "codeLens",
    "inlayHints",
];

impl Settings {
    /// Reads settings from a client value: the object itself, or its `heapspot` key
    /// when it has one. `null` is the empty object. Returns the settings and warnings
    /// about unknown keys; a key of the wrong type is an error naming it.
    pub fn from_value(value: Option<&Value>) -> Result<(Settings, Vec<String>), String> {
        let v = match value {
            None | Some(Value::Null) => return Ok((Settings::default(), Vec::new())),
            Some(Value::Object(m)) => match m.get("heapspot") {
                Some(inner) => inner,
                None => value.unwrap_or(&Value::Null),
            },
            Some(other) => return Err(format!("heapspot settings must be an object, not {other}")),
        };
        if v.is_null() {
            return Ok((Settings::default(), Vec::new()));
        }
        let Some(obj) = v.as_object() else {
            return Err(format!("heapspot settings must be an object, not {v}"));
        };
        let warnings = obj
            .keys()
            .filter(|k| !KEYS.contains(&k.as_str()))
            .map(|k| format!("heapspot settings: unknown key {k:?} ignored"))
            .collect();
        // Report the first key whose value does not fit, by name.
        for (k, val) in obj {
            if !KEYS.contains(&k.as_str()) {
                continue;
            }
            let one = serde_json::json!({ k.clone(): val.clone() });
            if let Err(e) = serde_json::from_value::<Settings>(one) {
                return Err(format!("heapspot settings: bad value for {k:?}: {e}"));
            }
        }
        let known: serde_json::Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let s = serde_json::from_value(Value::Object(known))
            .map_err(|e| format!("heapspot settings: {e}"))?;
        Ok((s, warnings))
    }
}

/// A live endpoint and how often to poll it.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub url: String,
    pub interval: Duration,
}

/// What the server runs with: the file's configuration with the client's settings on top.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub config: Config,
    pub baseline: Option<PathBuf>,
    pub endpoints: Vec<Endpoint>,
    pub max_snapshots: usize,
    pub max_snapshot_bytes: u64,
    pub sample_type: Option<String>,
    pub code_lens: bool,
    pub inlay_hints: bool,
}

/// Default retention of live snapshots.
pub const DEFAULT_MAX_SNAPSHOTS: usize = 20;
pub const DEFAULT_MAX_SNAPSHOT_BYTES: u64 = 100 << 20;

fn resolve(root: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Merges the settings over the file's configuration (or the default one when the file
/// is missing or broken). Threshold values out of range are errors naming the key.
pub fn merge(root: &Path, file: &Config, s: &Settings) -> Result<Effective, String> {
    let mut config = file.clone();
    config.root = root.to_path_buf();
    if let Some(p) = &s.profiles {
        config.profiles = p.clone();
    }
    if let Some(p) = &s.goroutine_profiles {
        config.goroutine_profiles = p.clone();
    }
    if let Some(t) = &s.sample_type {
        config.sample_type = Some(t.clone());
    }
    if let Some(rules) = &s.rules {
        for (id, on) in rules {
            config.rules.insert(id.clone(), RuleSetting::Enabled(*on));
        }
    }
    if let Some(t) = &s.thresholds {
        let c = &mut config.thresholds;
        let shares = [
            ("hotspotShare", t.hotspot_share, &mut c.hotspot_share),
            ("largeShare", t.large_share, &mut c.large_share),
            (
                "growthMinRSquared",
                t.growth_min_r_squared,
                &mut c.growth_min_r_squared,
            ),
            (
                "growthMinRisingShare",
                t.growth_min_rising_share,
                &mut c.growth_min_rising_share,
            ),
        ];
        for (name, v, slot) in shares {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!(
                        "heapspot settings: thresholds.{name} must be between 0 and 1, not {v}"
                    ));
                }
                *slot = v;
            }
        }
        if let Some(v) = t.growth_min_bytes {
            c.growth_min_bytes = v;
        }
        if let Some(v) = t.growth_min_z {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!(
                    "heapspot settings: thresholds.growthMinZ must be a number of at least 0, not {v}"
                ));
            }
            c.growth_min_z = v;
        }
        if let Some(v) = t.regression_bytes {
            c.regression_bytes = v;
        }
        if let Some(v) = t.regression_percent {
            c.regression_percent = v;
        }
        if let Some(v) = t.goroutine_min_count {
            c.goroutine_min_count = v;
        }
    }
    let endpoints = match &s.endpoints {
        Some(urls) => {
            let secs = s.poll_interval_seconds.unwrap_or(30.0);
            if !(secs.is_finite() && secs >= 0.1) {
                return Err(format!(
                    "heapspot settings: pollIntervalSeconds must be at least 0.1, not {secs}"
                ));
            }
            urls.iter()
                .map(|u| Endpoint {
                    url: u.clone(),
                    interval: Duration::from_secs_f64(secs),
                })
                .collect()
        }
        None => file
            .sources
            .iter()
            .map(|src| Endpoint {
                url: src.url.clone(),
                interval: Duration::from_secs_f64(
                    s.poll_interval_seconds
                        .unwrap_or(src.interval_seconds as f64)
                        .max(0.1),
                ),
            })
            .collect(),
    };
    let snaps = s.snapshots.clone().unwrap_or_default();
    Ok(Effective {
        baseline: s.baseline.as_deref().map(|b| resolve(root, b)),
        endpoints,
        max_snapshots: snaps.max_count.unwrap_or(DEFAULT_MAX_SNAPSHOTS).max(1),
        max_snapshot_bytes: snaps.max_bytes.unwrap_or(DEFAULT_MAX_SNAPSHOT_BYTES),
        sample_type: config.sample_type.clone(),
        code_lens: s.code_lens.unwrap_or(true),
        inlay_hints: s.inlay_hints.unwrap_or(true),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_override_the_file() {
        let file = Config::parse(
            Path::new("/ws"),
            "profiles = [\"a/*.pb.gz\"]\n[rules]\ndefer-in-loop = false\n[thresholds]\nhotspot_share = 0.2\n[[sources]]\nurl = \"http://x/debug/pprof/heap\"\ninterval_seconds = 7\n",
        )
        .unwrap();
        let (s, warnings) = Settings::from_value(Some(&json!({
            "heapspot": {
                "profiles": ["b/*.pb.gz"],
                "rules": { "unbounded-global-map": false },
                "thresholds": { "largeShare": 0.3 },
                "codeLens": false,
                "colour": "blue"
            }
        })))
        .unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let e = merge(Path::new("/ws"), &file, &s).unwrap();
        assert_eq!(e.config.profiles, ["b/*.pb.gz"]);
        assert!(!e.config.rule_enabled("unbounded-global-map"));
        assert!(!e.config.rule_enabled("defer-in-loop"));
        assert_eq!(e.config.thresholds.hotspot_share, 0.2);
        assert_eq!(e.config.thresholds.large_share, 0.3);
        assert!(!e.code_lens && e.inlay_hints);
        assert_eq!(e.endpoints[0].interval, Duration::from_secs(7));
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = Settings::from_value(Some(&json!({ "profiles": "x" }))).unwrap_err();
        assert!(e.contains("\"profiles\""), "{e}");
        let (s, _) =
            Settings::from_value(Some(&json!({ "thresholds": { "hotspotShare": 3.0 } }))).unwrap();
        let e = merge(Path::new("/ws"), &Config::default(), &s).unwrap_err();
        assert!(e.contains("thresholds.hotspotShare"), "{e}");
        let e = Settings::from_value(Some(&json!({ "thresholds": { "hot": 1 } }))).unwrap_err();
        assert!(e.contains("thresholds"), "{e}");
    }
}
