//! Reads a pprof profile (gzip'd or raw protobuf, detected from the bytes) in two streaming
//! passes: the first keeps the small tables (strings, functions, locations, mappings) and
//! skips samples; the second decodes samples one at a time for a caller to fold. Every
//! index is validated and every size is bounded by [`Limits`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use prost::Message;

use super::error::{ErrorKind, ProfileError, Result};
use super::pb;
use super::wire::{slice_key, slice_repeated_varint, slice_skip, WireError, WireReader, WireType};

/// Size limits that keep a hostile or mistaken input from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted as given (compressed or raw), in bytes.
    pub max_input_bytes: u64,
    /// Largest decoded protobuf accepted, in bytes (bounds gzip bombs).
    pub max_decoded_bytes: u64,
    /// Largest single embedded message or string, in bytes.
    pub max_field_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 1 << 30,
            max_decoded_bytes: 8 << 30,
            max_field_bytes: 64 << 20,
        }
    }
}

/// A sample value's type and unit, e.g. `inuse_space` / `bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ValueType {
    #[serde(rename = "type")]
    pub ty: String,
    pub unit: String,
}

/// A function as the profile names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: Arc<str>,
    pub system_name: Arc<str>,
    pub filename: Arc<str>,
    pub start_line: i64,
}

/// One (possibly inlined) frame of a location: function index and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub function: u32,
    pub line: i64,
}

/// A program counter with its frames, innermost inlined frame first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: u64,
    pub address: u64,
    pub mapping: Option<u32>,
    pub lines: Vec<Line>,
}

/// A mapped binary or library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id: u64,
    pub filename: String,
    pub build_id: String,
}

/// A decoded profile: metadata and tables in memory, samples streamed on demand from the
/// retained input bytes (which are as small as the file: compressed stays compressed).
#[derive(Debug, Clone)]
pub struct Profile {
    /// The name used in messages: a path, URL or label.
    pub name: String,
    pub sample_types: Vec<ValueType>,
    pub default_sample_type: Option<String>,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub comments: Vec<String>,
    pub functions: Vec<Function>,
    pub locations: Vec<Location>,
    pub mappings: Vec<Mapping>,
    /// Number of samples in the profile.
    pub sample_count: u64,
    /// Whether the input was gzip-compressed.
    pub gzipped: bool,
    input: Arc<[u8]>,
    limits: Limits,
    location_index: IdIndex,
}

/// Maps ids to dense indices; a vector when ids are dense (as Go writes them), a hash map
/// otherwise.
#[derive(Debug, Clone)]
enum IdIndex {
    Dense(Vec<u32>),
    Sparse(HashMap<u64, u32>),
}

const NO_INDEX: u32 = u32::MAX;

impl IdIndex {
    fn build(ids: impl Iterator<Item = u64> + Clone, count: usize) -> Self {
        let max = ids.clone().max().unwrap_or(0);
        if max <= (count as u64).saturating_mul(4).saturating_add(1024) {
            let mut v = vec![NO_INDEX; max as usize + 1];
            for (i, id) in ids.enumerate() {
                v[id as usize] = i as u32;
            }
            IdIndex::Dense(v)
        } else {
            IdIndex::Sparse(ids.enumerate().map(|(i, id)| (id, i as u32)).collect())
        }
    }

    fn get(&self, id: u64) -> Option<u32> {
        match self {
            IdIndex::Dense(v) => v
                .get(usize::try_from(id).ok()?)
                .copied()
                .filter(|&i| i != NO_INDEX),
            IdIndex::Sparse(m) => m.get(&id).copied(),
        }
    }
}

fn wire_err(input: &str, e: WireError, gz: bool) -> ProfileError {
    match e {
        WireError::Malformed(m) => ProfileError::new(input, ErrorKind::Wire(m)),
        WireError::Io(io) if gz => ProfileError::new(input, ErrorKind::Gzip(io)),
        WireError::Io(io) => ProfileError::new(input, ErrorKind::Io(io)),
        WireError::Limit { what, limit } => {
            ProfileError::new(input, ErrorKind::TooLarge { what, limit })
        }
    }
}

fn prost_err(input: &str, what: &str, e: prost::DecodeError) -> ProfileError {
    ProfileError::new(input, ErrorKind::Wire(format!("bad {what} message: {e}")))
}

/// Whether the bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

impl Profile {
    /// Reads and decodes a profile file.
    pub fn from_path(path: &Path, limits: Limits) -> Result<Profile> {
        let name = path.display().to_string();
        let file =
            std::fs::File::open(path).map_err(|e| ProfileError::new(&name, ErrorKind::Io(e)))?;
        let mut bytes = Vec::new();
        let got = file
            .take(limits.max_input_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| ProfileError::new(&name, ErrorKind::Io(e)))?;
        if got as u64 > limits.max_input_bytes {
            return Err(ProfileError::new(
                &name,
                ErrorKind::TooLarge {
                    what: "profile file size",
                    limit: limits.max_input_bytes,
                },
            ));
        }
        Profile::from_bytes(name, bytes, limits)
    }

    /// Decodes a profile held in memory; `name` labels it in errors.
    pub fn from_bytes(
        name: impl Into<String>,
        bytes: impl Into<Arc<[u8]>>,
        limits: Limits,
    ) -> Result<Profile> {
        let name = name.into();
        let input: Arc<[u8]> = bytes.into();
        if input.len() as u64 > limits.max_input_bytes {
            return Err(ProfileError::new(
                &name,
                ErrorKind::TooLarge {
                    what: "profile size",
                    limit: limits.max_input_bytes,
                },
            ));
        }
        if input.is_empty() {
            return Err(ProfileError::new(
                &name,
                ErrorKind::Wire("the input is empty".into()),
            ));
        }
        let gzipped = is_gzip(&input);
        let mut p = Profile {
            name,
            sample_types: Vec::new(),
            default_sample_type: None,
            period_type: None,
            period: 0,
            time_nanos: 0,
            duration_nanos: 0,
            comments: Vec::new(),
            functions: Vec::new(),
            locations: Vec::new(),
            mappings: Vec::new(),
            sample_count: 0,
            gzipped,
            input,
            limits,
            location_index: IdIndex::Dense(Vec::new()),
        };
        // Samples are validated as they are streamed (by the fold), not in a pass of
        // their own: a pass costs a full inflate.
        p.read_tables()?;
        Ok(p)
    }

    fn reader(&self) -> WireReader<Box<dyn BufRead + '_>> {
        let inner: Box<dyn BufRead + '_> = if self.gzipped {
            Box::new(BufReader::with_capacity(
                64 << 10,
                MultiGzDecoder::new(&self.input[..]),
            ))
        } else {
            Box::new(&self.input[..])
        };
        WireReader::new(
            inner,
            self.limits.max_decoded_bytes,
            self.limits.max_field_bytes,
        )
    }

    fn read_tables(&mut self) -> Result<()> {
        let name = self.name.clone();
        let gz = self.gzipped;
        let werr = |e| wire_err(&name, e, gz);
        let perr = |what: &str, e| prost_err(&name, what, e);

        let mut raw_sample_types = Vec::new();
        let mut raw_period_type = None;
        let mut raw_mappings = Vec::new();
        let mut raw_locations = Vec::new();
        let mut raw_functions = Vec::new();
        let mut strings: Vec<String> = Vec::new();
        let mut comment_idx: Vec<u64> = Vec::new();
        let mut default_sample_type = 0i64;
        let mut sample_count = 0u64;
        let (mut time_nanos, mut duration_nanos, mut period) = (0i64, 0i64, 0i64);
        let mut buf = Vec::new();
        {
            let mut r = self.reader();
            while let Some((field, wt)) = r.key().map_err(werr)? {
                let want_len = matches!(field, 1 | 3 | 4 | 5 | 6 | 11);
                let want_varint = matches!(field, 7 | 8 | 9 | 10 | 12 | 14 | 15);
                if field == 2 {
                    expect_wt(&name, field, wt, WireType::Len)?;
                    sample_count += 1;
                    r.skip(wt).map_err(werr)?;
                    continue;
                }
                if field == 13 {
                    // Comments: repeated int64, packed or not.
                    if wt == WireType::Len {
                        r.bytes_into(&mut buf).map_err(werr)?;
                        let mut s = &buf[..];
                        slice_repeated_varint(&mut s, wt, &mut comment_idx).map_err(werr)?;
                    } else {
                        expect_wt(&name, field, wt, WireType::Varint)?;
                        comment_idx.push(r.varint().map_err(werr)?);
                    }
                    continue;
                }
                if want_len {
                    expect_wt(&name, field, wt, WireType::Len)?;
                    r.bytes_into(&mut buf).map_err(werr)?;
                    match field {
                        1 => raw_sample_types.push(
                            pb::ValueType::decode(&buf[..]).map_err(|e| perr("sample_type", e))?,
                        ),
                        3 => raw_mappings
                            .push(pb::Mapping::decode(&buf[..]).map_err(|e| perr("mapping", e))?),
                        4 => raw_locations
                            .push(pb::Location::decode(&buf[..]).map_err(|e| perr("location", e))?),
                        5 => raw_functions
                            .push(pb::Function::decode(&buf[..]).map_err(|e| perr("function", e))?),
                        6 => strings.push(String::from_utf8_lossy(&buf).into_owned()),
                        11 => {
                            raw_period_type = Some(
                                pb::ValueType::decode(&buf[..])
                                    .map_err(|e| perr("period_type", e))?,
                            )
                        }
                        _ => unreachable!("field list above"),
                    }
                } else if want_varint {
                    expect_wt(&name, field, wt, WireType::Varint)?;
                    let v = r.varint().map_err(werr)? as i64;
                    match field {
                        9 => time_nanos = v,
                        10 => duration_nanos = v,
                        12 => period = v,
                        14 => default_sample_type = v,
                        _ => {} // drop_frames, keep_frames, doc_url: not used
                    }
                } else {
                    r.skip(wt).map_err(werr)?;
                }
            }
        }
        self.sample_count = sample_count;
        self.time_nanos = time_nanos;
        self.duration_nanos = duration_nanos;
        self.period = period;

        if strings.is_empty() {
            return Err(ProfileError::invalid(
                &name,
                "it has no string table (string_table[0] must be \"\"): the file is truncated or is not a pprof profile",
            ));
        }
        if !strings[0].is_empty() {
            return Err(ProfileError::invalid(
                &name,
                "string_table[0] is not the empty string",
            ));
        }
        let s = |idx: i64, what: &str| -> Result<&str> {
            usize::try_from(idx)
                .ok()
                .and_then(|i| strings.get(i))
                .map(String::as_str)
                .ok_or_else(|| {
                    ProfileError::invalid(
                        &name,
                        format!(
                            "{what} refers to string {idx}, but the string table has {} entries",
                            strings.len()
                        ),
                    )
                })
        };
        let vt = |v: &pb::ValueType, what: &str| -> Result<ValueType> {
            Ok(ValueType {
                ty: s(v.r#type, what)?.to_owned(),
                unit: s(v.unit, what)?.to_owned(),
            })
        };
        self.sample_types = raw_sample_types
            .iter()
            .enumerate()
            .map(|(i, v)| vt(v, &format!("sample_type[{i}]")))
            .collect::<Result<_>>()?;
        self.period_type = raw_period_type
            .as_ref()
            .map(|v| vt(v, "period_type"))
            .transpose()?;
        if default_sample_type != 0 {
            self.default_sample_type = Some(s(default_sample_type, "default_sample_type")?.into());
        }
        self.comments = comment_idx
            .iter()
            .map(|&i| s(i as i64, "comment").map(str::to_owned))
            .collect::<Result<_>>()?;

        // Functions, interned so that names repeated in the table share one allocation.
        let mut interned: Vec<Option<Arc<str>>> = vec![None; strings.len()];
        let mut intern = |idx: i64, what: &str| -> Result<Arc<str>> {
            let text = s(idx, what)?;
            // In range: `s` checked the index.
            let slot = &mut interned[idx as usize];
            Ok(slot.get_or_insert_with(|| Arc::from(text)).clone())
        };
        let mut function_ids = HashMap::with_capacity(raw_functions.len());
        let mut functions = Vec::with_capacity(raw_functions.len());
        for (i, f) in raw_functions.iter().enumerate() {
            if f.id == 0 {
                return Err(ProfileError::invalid(
                    &name,
                    format!("function #{i} has id 0"),
                ));
            }
            if function_ids.insert(f.id, i as u32).is_some() {
                return Err(ProfileError::invalid(
                    &name,
                    format!("function id {} appears twice", f.id),
                ));
            }
            let what = format!("function {}", f.id);
            functions.push(Function {
                name: intern(f.name, &what)?,
                system_name: intern(f.system_name, &what)?,
                filename: intern(f.filename, &what)?,
                start_line: f.start_line,
            });
        }
        let mut mapping_ids = HashMap::with_capacity(raw_mappings.len());
        let mut mappings = Vec::with_capacity(raw_mappings.len());
        for (i, m) in raw_mappings.iter().enumerate() {
            if m.id == 0 {
                return Err(ProfileError::invalid(
                    &name,
                    format!("mapping #{i} has id 0"),
                ));
            }
            if mapping_ids.insert(m.id, i as u32).is_some() {
                return Err(ProfileError::invalid(
                    &name,
                    format!("mapping id {} appears twice", m.id),
                ));
            }
            let what = format!("mapping {}", m.id);
            mappings.push(Mapping {
                id: m.id,
                filename: s(m.filename, &what)?.to_owned(),
                build_id: s(m.build_id, &what)?.to_owned(),
            });
        }
        let mut locations = Vec::with_capacity(raw_locations.len());
        let mut seen_loc = HashMap::with_capacity(raw_locations.len());
        for (i, l) in raw_locations.iter().enumerate() {
            if l.id == 0 {
                return Err(ProfileError::invalid(
                    &name,
                    format!("location #{i} has id 0"),
                ));
            }
            if seen_loc.insert(l.id, ()).is_some() {
                return Err(ProfileError::invalid(
                    &name,
                    format!("location id {} appears twice", l.id),
                ));
            }
            let mapping = if l.mapping_id == 0 {
                None
            } else {
                Some(*mapping_ids.get(&l.mapping_id).ok_or_else(|| {
                    ProfileError::invalid(
                        &name,
                        format!(
                            "location {} refers to mapping {}, which does not exist",
                            l.id, l.mapping_id
                        ),
                    )
                })?)
            };
            let lines = l
                .line
                .iter()
                .map(|ln| {
                    let function = *function_ids.get(&ln.function_id).ok_or_else(|| {
                        ProfileError::invalid(
                            &name,
                            format!(
                                "location {} refers to function {}, which does not exist",
                                l.id, ln.function_id
                            ),
                        )
                    })?;
                    Ok(Line {
                        function,
                        line: ln.line,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            locations.push(Location {
                id: l.id,
                address: l.address,
                mapping,
                lines,
            });
        }
        self.location_index = IdIndex::build(locations.iter().map(|l| l.id), locations.len());
        self.functions = functions;
        self.mappings = mappings;
        self.locations = locations;
        Ok(())
    }

    /// Streams every sample to `f` as (location indices leaf first, values). Indices refer
    /// to [`Profile::locations`]; the number of values equals the number of sample types.
    pub fn for_each_sample(&self, mut f: impl FnMut(&[u32], &[i64])) -> Result<()> {
        let name = &self.name;
        let gz = self.gzipped;
        let werr = |e| wire_err(name, e, gz);
        let n_types = self.sample_types.len();
        let mut r = self.reader();
        let mut buf = Vec::new();
        let mut ids: Vec<u64> = Vec::new();
        let mut raw_values: Vec<u64> = Vec::new();
        let mut locs: Vec<u32> = Vec::new();
        let mut values: Vec<i64> = Vec::new();
        let mut index = 0u64;
        while let Some((field, wt)) = r.key().map_err(werr)? {
            if field != 2 {
                r.skip(wt).map_err(werr)?;
                continue;
            }
            r.bytes_into(&mut buf).map_err(werr)?;
            ids.clear();
            raw_values.clear();
            let mut s = &buf[..];
            while !s.is_empty() {
                let (fno, wt) = slice_key(&mut s).map_err(werr)?;
                match fno {
                    1 => slice_repeated_varint(&mut s, wt, &mut ids).map_err(werr)?,
                    2 => slice_repeated_varint(&mut s, wt, &mut raw_values).map_err(werr)?,
                    _ => slice_skip(&mut s, wt).map_err(werr)?,
                }
            }
            if raw_values.len() != n_types {
                return Err(ProfileError::invalid(
                    name,
                    format!(
                        "sample #{index} has {} values but the profile declares {n_types} sample types",
                        raw_values.len()
                    ),
                ));
            }
            locs.clear();
            for &id in &ids {
                let li = self.location_index.get(id).ok_or_else(|| {
                    ProfileError::invalid(
                        name,
                        format!("sample #{index} refers to location {id}, which does not exist"),
                    )
                })?;
                locs.push(li);
            }
            values.clear();
            values.extend(raw_values.iter().map(|&v| v as i64));
            f(&locs, &values);
            index += 1;
        }
        Ok(())
    }

    /// Index of a sample type by name or by number (as `-sample_index` accepts both); `None`
    /// picks the default: the profile's declared default, else the last type (pprof's rule,
    /// `inuse_space` for Go heap profiles).
    pub fn sample_index(&self, wanted: Option<&str>) -> Result<usize> {
        sample_index_of(
            &self.name,
            &self.sample_types,
            self.default_sample_type.as_deref(),
            wanted,
        )
    }

    /// The retained input bytes (compressed if the input was).
    pub fn input_bytes(&self) -> &[u8] {
        &self.input
    }
}

/// Resolves a sample type name or number against a list of types.
pub fn sample_index_of(
    input: &str,
    types: &[ValueType],
    default: Option<&str>,
    wanted: Option<&str>,
) -> Result<usize> {
    if types.is_empty() {
        return Err(ProfileError::usage(
            input,
            "the profile has no sample types",
        ));
    }
    let want = match wanted.or(default) {
        None => return Ok(types.len() - 1),
        Some(w) => w,
    };
    if let Some(i) = types.iter().position(|t| t.ty == want) {
        return Ok(i);
    }
    if let Ok(i) = want.parse::<usize>() {
        if i < types.len() {
            return Ok(i);
        }
    }
    if wanted.is_none() {
        // A declared default that names no type falls back to pprof's rule.
        return Ok(types.len() - 1);
    }
    let names: Vec<&str> = types.iter().map(|t| t.ty.as_str()).collect();
    Err(ProfileError::usage(
        input,
        format!(
            "no sample type {want:?}; this profile has: {}",
            names.join(", ")
        ),
    ))
}

fn expect_wt(input: &str, field: u32, got: WireType, want: WireType) -> Result<()> {
    if got != want {
        return Err(ProfileError::new(
            input,
            ErrorKind::Wire(format!(
                "field {field} of Profile has wire type {got:?}, expected {want:?}"
            )),
        ));
    }
    Ok(())
}
