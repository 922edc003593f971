//! Call paths into workspace lines, from one profile (the latest snapshot): each sample is
//! attributed to its innermost workspace frame exactly as `evidence::gather` does, and its
//! stack from the outermost frame down to that frame (function names, outermost first,
//! the function at the line last) is a call path into the line. Paths with the same
//! function names are one path; the largest few per line are kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::mapping::{Mapper, Resolution};
use crate::profile::{Profile, ProfileError, ValueType};

/// How many paths are kept per line, largest first.
pub const MAX_PATHS_PER_LINE: usize = 8;

/// One call path into a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPath {
    /// Function names as the profile gives them, outermost first; the last is the
    /// function at the line.
    pub frames: Vec<Arc<str>>,
    /// The value of the sample type the paths were built for.
    pub value: i64,
}

/// The call paths of one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LinePaths {
    /// The line's whole value (every path, not only the kept ones).
    total: i64,
    /// The largest paths, largest first (ties by name).
    paths: Vec<CallPath>,
}

/// Call paths into workspace lines, built once per loaded profile set.
#[derive(Debug, Clone, Default)]
pub struct CallPaths {
    sample_type: Option<ValueType>,
    sample: usize,
    profile: String,
    lines: HashMap<(PathBuf, u32), LinePaths>,
}

impl CallPaths {
    /// Folds every sample of `profile` (the latest snapshot) into per-line call paths,
    /// valued by the sample type at index `sample`.
    pub fn build(
        mapper: &Mapper,
        profile: &Profile,
        sample: usize,
    ) -> Result<CallPaths, ProfileError> {
        let Some(sample_type) = profile.sample_types.get(sample).cloned() else {
            return Err(ProfileError::usage(
                &profile.name,
                format!(
                    "no sample type #{sample}; the profile has {}",
                    profile.sample_types.len()
                ),
            ));
        };
        let mut cache = mapper.scope(profile);
        // Whether each profile function is workspace code, decided once per function.
        let mut workspace: Vec<Option<bool>> = vec![None; profile.functions.len()];
        let mut folded: HashMap<(PathBuf, u32), HashMap<Vec<u32>, i64>> = HashMap::new();
        let mut frames: Vec<u32> = Vec::new();
        profile.for_each_sample(|locs, values| {
            let v = values[sample];
            if v == 0 {
                return;
            }
            let Some(attr) = mapper.attribute_cached(profile, locs, &mut cache) else {
                return;
            };
            let Resolution::Mapped(m) = attr.resolution else {
                return;
            };
            // The stack leaf first, inlined frames innermost first, as `attribute` walks
            // it; the path starts at the first workspace frame.
            frames.clear();
            let mut found = false;
            for &li in locs {
                for ln in &profile.locations[li as usize].lines {
                    let fi = ln.function as usize;
                    if !found {
                        let f = &profile.functions[fi];
                        found = *workspace[fi]
                            .get_or_insert_with(|| mapper.is_workspace_frame(&f.name, &f.filename));
                    }
                    if found {
                        frames.push(ln.function);
                    }
                }
            }
            frames.reverse();
            *folded
                .entry((m.file, m.line))
                .or_default()
                .entry(frames.clone())
                .or_default() += v;
        })?;
        let lines = folded
            .into_iter()
            .map(|(key, paths)| {
                let total = paths.values().sum();
                let mut paths: Vec<CallPath> = paths
                    .into_iter()
                    .map(|(ids, value)| CallPath {
                        frames: ids
                            .iter()
                            .map(|&i| profile.functions[i as usize].name.clone())
                            .collect(),
                        value,
                    })
                    .collect();
                paths.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.frames.cmp(&b.frames)));
                paths.truncate(MAX_PATHS_PER_LINE);
                (key, LinePaths { total, paths })
            })
            .collect();
        Ok(CallPaths {
            sample_type: Some(sample_type),
            sample,
            profile: profile.name.clone(),
            lines,
        })
    }

    /// The sample type the values are of.
    pub fn sample_type(&self) -> Option<&ValueType> {
        self.sample_type.as_ref()
    }

    /// The index of that sample type.
    pub fn sample(&self) -> usize {
        self.sample
    }

    /// The profile the paths come from.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The largest paths into a line (at most `n`, at most [`MAX_PATHS_PER_LINE`]),
    /// largest first.
    pub fn top(&self, file: &Path, line: u32, n: usize) -> &[CallPath] {
        self.lines
            .get(&(file.to_path_buf(), line))
            .map_or(&[], |l| &l.paths[..n.min(l.paths.len())])
    }

    /// The line's whole value over every path.
    pub fn line_total(&self, file: &Path, line: u32) -> i64 {
        self.lines
            .get(&(file.to_path_buf(), line))
            .map_or(0, |l| l.total)
    }

    /// Every line with paths, as (file, line, total value).
    pub fn lines(&self) -> impl Iterator<Item = (&Path, u32, i64)> + '_ {
        self.lines
            .iter()
            .map(|((f, l), p)| (f.as_path(), *l, p.total))
    }
}
