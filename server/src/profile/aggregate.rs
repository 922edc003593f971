//! Folds a profile's samples into per-site totals for every sample type at once: per
//! function and per (function, file, line), flat (the sample's innermost frame) and
//! cumulative (every frame on the stack, counted once per sample, as pprof does). Also
//! merges replicas and diffs against a base.

use std::collections::HashMap;
use std::sync::Arc;

use super::decode::{sample_index_of, Profile, ValueType};
use super::error::{ProfileError, Result};

/// Identifies a site. Function-level sites have `line == 0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct SiteKey {
    pub function: Arc<str>,
    pub file: Arc<str>,
    pub line: i64,
}

impl SiteKey {
    /// The name pprof prints for the node: the function, plus `file:line` for line sites.
    pub fn printable(&self, lines: bool) -> String {
        if lines && (!self.file.is_empty() || self.line != 0) {
            format!("{} {}:{}", self.function, self.file, self.line)
        } else {
            self.function.to_string()
        }
    }
}

/// Totals of one site across all sample types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub key: SiteKey,
    /// The function's first line as the profile states it (0 when unknown).
    pub start_line: i64,
    pub flat: Box<[i64]>,
    pub cum: Box<[i64]>,
    /// Per sample type (bit `t`, see [`type_bit`]): reached as an inlined frame in a sample
    /// with a non-zero value of that type (pprof marks such nodes `(inline)`).
    pub called_inline: u64,
    /// Per sample type: reached as a physical call from another location.
    pub called_direct: u64,
}

/// The bit standing for sample type `t` in the per-type masks (types past 63 share the
/// last bit).
pub fn type_bit(t: usize) -> u64 {
    1u64 << t.min(63)
}

impl Site {
    /// pprof's suffix for inlined functions in a report of sample type `t`: `(inline)` when
    /// every call into the site is inlined, `(partial-inline)` when some are. pprof skips
    /// the samples whose value of the reported type is zero, so the label is per type.
    pub fn inline_label(&self, t: usize) -> &'static str {
        let b = type_bit(t);
        match (self.called_inline & b != 0, self.called_direct & b != 0) {
            (true, true) => " (partial-inline)",
            (true, false) => " (inline)",
            _ => "",
        }
    }
}

/// Sites indexed by key.
#[derive(Debug, Clone, Default)]
pub struct SiteTable {
    sites: Vec<Site>,
    index: HashMap<SiteKey, u32>,
}

impl SiteTable {
    fn intern(&mut self, key: SiteKey, start_line: i64, n: usize) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.sites.len() as u32;
        self.index.insert(key.clone(), i);
        self.sites.push(Site {
            key,
            start_line,
            flat: vec![0; n].into(),
            cum: vec![0; n].into(),
            called_inline: 0,
            called_direct: 0,
        });
        i
    }

    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    pub fn get(&self, key: &SiteKey) -> Option<&Site> {
        self.index.get(key).map(|&i| &self.sites[i as usize])
    }

    fn add(&mut self, other: &SiteTable, sign: i64, n: usize) {
        for s in &other.sites {
            let i = self.intern(s.key.clone(), s.start_line, n) as usize;
            let d = &mut self.sites[i];
            if d.start_line == 0 {
                d.start_line = s.start_line;
            }
            d.called_inline |= s.called_inline;
            d.called_direct |= s.called_direct;
            for t in 0..n {
                d.flat[t] += sign * s.flat[t];
                d.cum[t] += sign * s.cum[t];
            }
        }
    }
}

/// Which table a report reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Functions,
    Lines,
}

/// The folded form of one profile, or of several merged, or of a diff.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// Names of the profiles folded in.
    pub sources: Vec<String>,
    pub sample_types: Vec<ValueType>,
    pub default_sample_type: Option<String>,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub sample_count: u64,
    /// Sum of absolute sample values per type (pprof's total, the base of percentages).
    pub total: Box<[i64]>,
    pub functions: SiteTable,
    pub lines: SiteTable,
}

impl Aggregate {
    /// Folds every sample of `p`.
    pub fn from_profile(p: &Profile) -> Result<Aggregate> {
        let n = p.sample_types.len();
        let mut functions = SiteTable::default();
        let mut lines = SiteTable::default();
        // Per location, its frames as (function site, line site), innermost first.
        let mut loc_nodes: Vec<Vec<(u32, u32)>> = Vec::with_capacity(p.locations.len());
        let empty: Arc<str> = Arc::from("");
        for loc in &p.locations {
            let mut nodes = Vec::with_capacity(loc.lines.len().max(1));
            if loc.lines.is_empty() {
                let name: Arc<str> = Arc::from(format!("{:#x}", loc.address));
                let key = SiteKey {
                    function: name,
                    file: empty.clone(),
                    line: 0,
                };
                let f = functions.intern(key.clone(), 0, n);
                let l = lines.intern(key, 0, n);
                nodes.push((f, l));
            }
            for ln in &loc.lines {
                let func = &p.functions[ln.function as usize];
                let f = functions.intern(
                    SiteKey {
                        function: func.name.clone(),
                        file: func.filename.clone(),
                        line: 0,
                    },
                    func.start_line,
                    n,
                );
                let l = lines.intern(
                    SiteKey {
                        function: func.name.clone(),
                        file: func.filename.clone(),
                        line: ln.line,
                    },
                    func.start_line,
                    n,
                );
                nodes.push((f, l));
            }
            loc_nodes.push(nodes);
        }

        let mut total = vec![0i64; n].into_boxed_slice();
        let mut f_stamp = vec![0u32; functions.sites.len()];
        let mut l_stamp = vec![0u32; lines.sites.len()];
        let mut stamp = 0u32;
        // Per location, the sample types (bits) of the samples it was seen in with a
        // non-zero value, and of those in which it had a caller below it.
        let mut loc_used = vec![0u64; p.locations.len()];
        let mut loc_called = vec![0u64; p.locations.len()];
        p.for_each_sample(|locs, values| {
            if values.iter().all(|&v| v == 0) {
                return;
            }
            if stamp == u32::MAX {
                f_stamp.fill(0);
                l_stamp.fill(0);
                stamp = 0;
            }
            stamp += 1;
            for (t, v) in values.iter().enumerate() {
                total[t] += v.abs();
            }
            let mask = values
                .iter()
                .enumerate()
                .filter(|&(_, &v)| v != 0)
                .fold(0u64, |m, (t, _)| m | type_bit(t));
            if let Some((&root, callees)) = locs.split_last() {
                loc_used[root as usize] |= mask;
                for &li in callees {
                    loc_used[li as usize] |= mask;
                    loc_called[li as usize] |= mask;
                }
            }
            for &li in locs {
                for &(f, l) in &loc_nodes[li as usize] {
                    if f_stamp[f as usize] != stamp {
                        f_stamp[f as usize] = stamp;
                        add(&mut functions.sites[f as usize].cum, values);
                    }
                    if l_stamp[l as usize] != stamp {
                        l_stamp[l as usize] = stamp;
                        add(&mut lines.sites[l as usize].cum, values);
                    }
                }
            }
            if let Some(&(f, l)) = locs.first().and_then(|&li| loc_nodes[li as usize].first()) {
                add(&mut functions.sites[f as usize].flat, values);
                add(&mut lines.sites[l as usize].flat, values);
            }
        })?;
        for (li, nodes) in loc_nodes.iter().enumerate() {
            let used = loc_used[li];
            if used == 0 {
                continue;
            }
            if let Some((&(f, l), inlined)) = nodes.split_last() {
                for &(fi, lj) in inlined {
                    functions.sites[fi as usize].called_inline |= used;
                    lines.sites[lj as usize].called_inline |= used;
                }
                let called = loc_called[li];
                functions.sites[f as usize].called_direct |= called;
                lines.sites[l as usize].called_direct |= called;
            }
        }

        Ok(Aggregate {
            sources: vec![p.name.clone()],
            sample_types: p.sample_types.clone(),
            default_sample_type: p.default_sample_type.clone(),
            period_type: p.period_type.clone(),
            period: p.period,
            time_nanos: p.time_nanos,
            duration_nanos: p.duration_nanos,
            sample_count: p.sample_count,
            total,
            functions,
            lines,
        })
    }

    /// The table for a granularity.
    pub fn table(&self, g: Granularity) -> &SiteTable {
        match g {
            Granularity::Functions => &self.functions,
            Granularity::Lines => &self.lines,
        }
    }

    /// Index of a sample type by name or number; `None` picks the default.
    pub fn sample_index(&self, wanted: Option<&str>) -> Result<usize> {
        sample_index_of(
            &self.sources.join(", "),
            &self.sample_types,
            self.default_sample_type.as_deref(),
            wanted,
        )
    }

    fn check_compatible(&self, other: &Aggregate, verb: &str) -> Result<()> {
        if self.sample_types != other.sample_types {
            let show = |a: &Aggregate| {
                a.sample_types
                    .iter()
                    .map(|t| format!("{}/{}", t.ty, t.unit))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Err(ProfileError::usage(
                &other.sources.join(", "),
                format!(
                    "cannot {verb}: its sample types [{}] differ from [{}] of {}",
                    show(other),
                    show(self),
                    self.sources.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Merges replicas of one profile type (pprof's behaviour with several inputs): values
    /// add up, the earliest time is kept and durations add up.
    pub fn merge(parts: Vec<Aggregate>) -> Result<Aggregate> {
        let mut it = parts.into_iter();
        let Some(mut acc) = it.next() else {
            return Err(ProfileError::usage("merge", "no profiles to merge"));
        };
        let n = acc.sample_types.len();
        for p in it {
            acc.check_compatible(&p, "merge")?;
            acc.functions.add(&p.functions, 1, n);
            acc.lines.add(&p.lines, 1, n);
            for t in 0..n {
                acc.total[t] += p.total[t];
            }
            acc.sources.extend(p.sources);
            acc.sample_count += p.sample_count;
            if p.time_nanos != 0 && (acc.time_nanos == 0 || p.time_nanos < acc.time_nanos) {
                acc.time_nanos = p.time_nanos;
            }
            acc.duration_nanos += p.duration_nanos;
        }
        Ok(acc)
    }

    /// `self - base` per site (pprof's `-base`): positive values grew since the base. The
    /// total stays `self`'s so percentages read as shares of the newer profile.
    pub fn diff(&self, base: &Aggregate) -> Result<Aggregate> {
        self.check_compatible(base, "diff")?;
        let n = self.sample_types.len();
        let mut out = self.clone();
        out.functions.add(&base.functions, -1, n);
        out.lines.add(&base.lines, -1, n);
        Ok(out)
    }

    /// Sites of a table ordered as pprof's `top` orders them, skipping sites whose flat and
    /// cumulative values are both zero for this sample type.
    pub fn top(&self, g: Granularity, idx: usize, by_cum: bool) -> Vec<&Site> {
        let mut rows: Vec<(&Site, String)> = self
            .table(g)
            .sites
            .iter()
            .filter(|s| s.flat[idx] != 0 || s.cum[idx] != 0)
            .map(|s| (s, s.key.printable(g == Granularity::Lines)))
            .collect();
        rows.sort_by(|(a, an), (b, bn)| {
            let (af, ac, bf, bc) = (
                a.flat[idx].abs(),
                a.cum[idx].abs(),
                b.flat[idx].abs(),
                b.cum[idx].abs(),
            );
            if by_cum {
                bc.cmp(&ac)
                    .then_with(|| an.cmp(bn))
                    .then_with(|| bf.cmp(&af))
            } else {
                bf.cmp(&af)
                    .then_with(|| an.cmp(bn))
                    .then_with(|| bc.cmp(&ac))
            }
        });
        rows.into_iter().map(|(s, _)| s).collect()
    }
}

fn add(dst: &mut [i64], values: &[i64]) {
    for (d, v) in dst.iter_mut().zip(values) {
        *d += v;
    }
}
