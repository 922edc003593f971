//! The join of profiles and workspace: every sample of every snapshot is attributed to its
//! innermost workspace frame (see `mapping`), giving per workspace line the values of all
//! sample types in each snapshot and the producers below it. Sites that cannot be placed
//! are kept as stale, with their reason, so a report can say so instead of guessing.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::mapping::{AllocKind, Mapper, Resolution};
use crate::profile::{Profile, ProfileError, ValueType};

/// One snapshot's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub name: String,
    pub time_nanos: i64,
    /// Sum of sample values per type (the whole heap).
    pub total: Box<[i64]>,
    /// The profile's sampling period (bytes between samples for a heap profile, 0 when
    /// the profile does not say).
    pub period: i64,
}

/// What the profiles say about one workspace line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineEvidence {
    pub file: PathBuf,
    pub line: u32,
    /// Per snapshot, per sample type.
    pub values: Vec<Box<[i64]>>,
    /// In the last snapshot, the values per allocation kind (for the default type).
    pub kinds: BTreeMap<AllocKind, i64>,
    /// The profile's function names that landed here.
    pub functions: Vec<String>,
    /// Lines moved since the profile (non-zero shift) were re-anchored.
    pub shift: i64,
}

impl LineEvidence {
    /// The series of one sample type across snapshots.
    pub fn series(&self, idx: usize) -> Vec<i64> {
        self.values.iter().map(|v| v[idx]).collect()
    }
}

/// Memory (or goroutines) whose innermost workspace line is `inner`, reached from the
/// workspace line `line` that called that function: what a call into another workspace
/// function (`proto.NewReader(conn)`) allocates on behalf of the calling line.
#[derive(Debug, Clone, PartialEq)]
pub struct ViaEvidence {
    pub file: PathBuf,
    pub line: u32,
    pub inner_file: PathBuf,
    pub inner_line: u32,
    /// Per snapshot, per sample type.
    pub values: Vec<Box<[i64]>>,
}

/// A workspace frame that could not be placed on a current line.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleSite {
    pub function: String,
    pub recorded_file: String,
    pub recorded_line: i64,
    pub reason: String,
    /// Per snapshot, per sample type.
    pub values: Vec<Box<[i64]>>,
}

/// Everything the profiles say about the workspace.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub sample_types: Vec<ValueType>,
    /// In time order.
    pub snapshots: Vec<Snapshot>,
    pub lines: Vec<LineEvidence>,
    pub stale: Vec<StaleSite>,
    /// Per snapshot, per type: values with no workspace frame at all.
    pub external_only: Vec<Box<[i64]>>,
    /// Per snapshot, the default sample type's value of stacks where net/http's client
    /// transport waits for a response body to be read or closed (`persistConn.readLoop`
    /// parked in its `select`, not peeking for the next response). In a goroutine profile
    /// this counts responses whose bodies are still open; nothing of the workspace is on
    /// those stacks, so this is the only trace an unclosed body leaves there.
    pub unread_response_bodies: Vec<i64>,
    /// The same values as `lines`, keyed by the calling workspace line as well.
    pub via: Vec<ViaEvidence>,
}

impl Evidence {
    /// The evidence of a line, if any.
    pub fn line(&self, file: &std::path::Path, line: u32) -> Option<&LineEvidence> {
        self.lines.iter().find(|l| l.line == line && l.file == file)
    }

    /// Index of a sample type by name.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.sample_types.iter().position(|t| t.ty == name)
    }
}

/// Attributes the samples of snapshots (of one kind, ordered here by time) to workspace
/// lines.
pub fn gather<P: Borrow<Profile>>(
    mapper: &Mapper,
    profiles: &[P],
) -> Result<Evidence, ProfileError> {
    let profiles: Vec<&Profile> = profiles.iter().map(Borrow::borrow).collect();
    let Some(&first) = profiles.first() else {
        return Ok(Evidence::default());
    };
    for p in &profiles[1..] {
        if p.sample_types != first.sample_types {
            return Err(ProfileError::usage(
                &p.name,
                format!(
                    "its sample types differ from those of {}; snapshots must be of one kind",
                    first.name
                ),
            ));
        }
    }
    let n = first.sample_types.len();
    let default_idx = first.sample_index(None)?;
    let mut order: Vec<&Profile> = profiles.clone();
    order.sort_by_key(|p| p.time_nanos);
    let snaps = order.len();

    let mut lines: Vec<LineEvidence> = Vec::new();
    let mut line_index: HashMap<(PathBuf, u32), usize> = HashMap::new();
    let mut stale: Vec<StaleSite> = Vec::new();
    let mut stale_index: HashMap<(String, String, i64), usize> = HashMap::new();
    let mut snapshots = Vec::with_capacity(snaps);
    let mut external_only = Vec::with_capacity(snaps);
    let mut unread_response_bodies = Vec::with_capacity(snaps);
    let mut via: Vec<ViaEvidence> = Vec::new();
    let mut via_index: HashMap<(PathBuf, u32, PathBuf, u32), usize> = HashMap::new();
    let zero = || vec![0i64; n].into_boxed_slice();

    for (si, p) in order.iter().enumerate() {
        let mut total = zero();
        let mut ext = zero();
        let mut unread = 0i64;
        // Attribution depends on the stack below a frame only through the allocation
        // kind, so resolutions are cached per location line.
        let mut cache = mapper.scope(p);
        let mut failed = None;
        p.for_each_sample(|locs, values| {
            for (t, v) in values.iter().enumerate() {
                total[t] += v;
            }
            let Some(attr) = mapper.attribute_cached(p, locs, &mut cache) else {
                for (t, v) in values.iter().enumerate() {
                    ext[t] += v;
                }
                if waits_for_body_read(p, locs) {
                    unread += values[default_idx];
                }
                return;
            };
            match attr.resolution {
                Resolution::Mapped(m) => {
                    if let Some((cf, cl)) = mapper.caller_line(p, locs, &mut cache) {
                        let key = (cf, cl, m.file.clone(), m.line);
                        let i = *via_index.entry(key.clone()).or_insert_with(|| {
                            via.push(ViaEvidence {
                                file: key.0,
                                line: key.1,
                                inner_file: key.2,
                                inner_line: key.3,
                                values: vec![zero(); snaps],
                            });
                            via.len() - 1
                        });
                        for (t, v) in values.iter().enumerate() {
                            via[i].values[si][t] += v;
                        }
                    }
                    let key = (m.file.clone(), m.line);
                    let i = *line_index.entry(key).or_insert_with(|| {
                        lines.push(LineEvidence {
                            file: m.file.clone(),
                            line: m.line,
                            values: vec![zero(); snaps],
                            kinds: BTreeMap::new(),
                            functions: Vec::new(),
                            shift: m.shift,
                        });
                        lines.len() - 1
                    });
                    let le = &mut lines[i];
                    for (t, v) in values.iter().enumerate() {
                        le.values[si][t] += v;
                    }
                    if si + 1 == snaps {
                        *le.kinds.entry(attr.kind).or_default() += values[default_idx];
                    }
                    if !le.functions.contains(&attr.function) {
                        le.functions.push(attr.function);
                    }
                }
                Resolution::Stale { reason, .. } | Resolution::Unmatched { reason } => {
                    let key = (
                        attr.function.clone(),
                        attr.recorded_file.clone(),
                        attr.recorded_line,
                    );
                    let i = *stale_index.entry(key).or_insert_with(|| {
                        stale.push(StaleSite {
                            function: attr.function.clone(),
                            recorded_file: attr.recorded_file.clone(),
                            recorded_line: attr.recorded_line,
                            reason,
                            values: vec![zero(); snaps],
                        });
                        stale.len() - 1
                    });
                    for (t, v) in values.iter().enumerate() {
                        stale[i].values[si][t] += v;
                    }
                }
                Resolution::External => {
                    failed = Some(attr.function);
                }
            }
        })?;
        if let Some(f) = failed {
            // `attribute` only returns workspace frames; an external one is a bug to report.
            return Err(ProfileError::invalid(
                &p.name,
                format!("internal error: frame {f} was attributed but is external"),
            ));
        }
        snapshots.push(Snapshot {
            name: p.name.clone(),
            time_nanos: p.time_nanos,
            total,
            period: p.period,
        });
        external_only.push(ext);
        unread_response_bodies.push(unread);
    }
    Ok(Evidence {
        sample_types: first.sample_types.clone(),
        snapshots,
        lines,
        stale,
        external_only,
        unread_response_bodies,
        via,
    })
}

/// Whether a stack is net/http's client read loop waiting for the caller to finish with
/// a response body: `(*persistConn).readLoop` blocked in `select` (on the body's EOF or
/// close signal). An idle kept-alive connection's read loop waits in `Peek` instead.
fn waits_for_body_read(p: &Profile, locs: &[u32]) -> bool {
    let names = || {
        locs.iter().flat_map(|&li| {
            p.locations
                .get(li as usize)
                .into_iter()
                .flat_map(|l| l.lines.iter())
                .filter_map(|ln| p.functions.get(ln.function as usize))
                .map(|f| f.name.as_ref())
        })
    };
    let mut in_select = false;
    for name in names() {
        match name {
            "runtime.selectgo" => in_select = true,
            "net/http.(*persistConn).readLoop" => return in_select,
            n if n.ends_with(".Peek") || n.ends_with(".Read") => return false,
            _ => {}
        }
    }
    false
}
