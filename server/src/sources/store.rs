//! The snapshot store: profiles taken from live endpoints, saved atomically under names
//! that sort by time (`20261128T010203.123Z-127.0.0.1_6060-heap.pb.gz`) and pruned to a
//! retention per (endpoint, kind).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{SourceError, SourceErrorKind};
use super::{fetch, slug, Endpoint, FetchLimits, Kind};
use crate::profile::decode::is_gzip;

/// How many snapshots of one (endpoint, kind) are kept, and how many bytes they may take.
/// The newest snapshot is always kept, even when it alone is over `max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_count: usize,
    pub max_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_count: 50,
            max_bytes: 256 << 20,
        }
    }
}

impl Retention {
    /// Keeps everything (for a directory the user named).
    pub const UNLIMITED: Retention = Retention {
        max_count: usize::MAX,
        max_bytes: u64::MAX,
    };
}

/// A directory of snapshots. Nothing is created until the first save.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

/// Prefix of the temporary files a save writes before renaming; never listed.
const TEMP_PREFIX: &str = ".tmp-";
/// Temporary files older than this are left-overs of an interrupted save and are removed.
const STALE_TEMP: Duration = Duration::from_secs(3600);
/// Length of the time stamp at the start of a name: `20261128T010203.123Z`.
const STAMP_LEN: usize = 20;

impl SnapshotStore {
    /// The store of a workspace: `<root>/.heapspot/snapshots/` (created on the first save).
    /// `root` must be an existing directory.
    pub fn open(root: &Path) -> Result<SnapshotStore, SourceError> {
        let meta =
            fs::metadata(root).map_err(|e| SourceError::io(root, "open the workspace", e))?;
        if !meta.is_dir() {
            return Err(SourceError::new(
                root.display().to_string(),
                SourceErrorKind::Store("the workspace is not a directory".into()),
            ));
        }
        Ok(Self::at(root.join(".heapspot").join("snapshots")))
    }

    /// A store in a plain directory of the caller's choice (created on the first save).
    pub fn at(dir: impl Into<PathBuf>) -> SnapshotStore {
        SnapshotStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Saves a snapshot atomically (a temporary file in the same directory, flushed to
    /// disk, then renamed into place, so a reader never sees a partial file) under a name
    /// carrying `time` (UTC, to the millisecond), the endpoint's slug and the kind:
    /// `.pb.gz` when the bytes are gzip'd, else `.pb`. A name already taken (two saves in
    /// one millisecond) moves the stamp on by a millisecond, so names stay unique and in
    /// save order. Then removes the oldest snapshots of the same endpoint and kind until
    /// `keep` holds. Returns the new file's path.
    pub fn save(
        &self,
        kind: Kind,
        endpoint: &str,
        bytes: &[u8],
        time: SystemTime,
        keep: &Retention,
    ) -> Result<PathBuf, SourceError> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| SourceError::io(&self.dir, "create the snapshot directory", e))?;
        self.remove_stale_temps();
        let ext = if is_gzip(bytes) { "pb.gz" } else { "pb" };
        let slug = slug(endpoint);
        let mut millis = millis_since_epoch(time).ok_or_else(|| {
            SourceError::new(
                self.dir.display().to_string(),
                SourceErrorKind::Store(format!(
                    "the snapshot time {time:?} cannot be written as a UTC year 1970-9999"
                )),
            )
        })?;
        let temp = self.write_temp(bytes, &slug, kind)?;
        let result = loop {
            let Some(stamp) = stamp(millis) else {
                break Err(SourceError::new(
                    self.dir.display().to_string(),
                    SourceErrorKind::Store("the snapshot time is past the year 9999".into()),
                ));
            };
            let path = self
                .dir
                .join(format!("{stamp}-{slug}-{}.{ext}", kind.as_str()));
            match place(&temp, &path) {
                Ok(()) => break Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => millis += 1,
                Err(e) => break Err(SourceError::io(&path, "save the snapshot", e)),
            }
        };
        // After a successful hard link the temporary name is still there; after a failure
        // it must not be left behind either.
        let _ = fs::remove_file(&temp);
        let path = result?;
        sync_dir(&self.dir);
        self.prune(kind, &slug, &path, keep)?;
        Ok(path)
    }

    /// Fetches one kind of profile from `endpoint` and saves it (stamped with the time
    /// the request was made) under the endpoint's slug; returns the new file's path.
    pub fn capture(
        &self,
        endpoint: &Endpoint,
        kind: Kind,
        limits: &FetchLimits,
        keep: &Retention,
    ) -> Result<PathBuf, SourceError> {
        let time = SystemTime::now();
        let bytes = fetch(endpoint.url(kind), limits)?;
        self.save(kind, &endpoint.heap, &bytes, time, keep)
    }

    /// Saved snapshots of one kind (of one endpoint when given), oldest first. Files whose
    /// names do not follow the scheme (temporary files, anything else) are ignored; a
    /// missing directory is an empty store.
    pub fn list(&self, kind: Kind, endpoint: Option<&str>) -> Result<Vec<PathBuf>, SourceError> {
        let wanted = endpoint.map(slug);
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.kind == kind && wanted.as_ref().is_none_or(|s| *s == e.slug))
            .map(|e| e.path)
            .collect())
    }

    /// Every snapshot file of the directory, parsed, in name (time) order.
    fn entries(&self) -> Result<Vec<Entry>, SourceError> {
        let read = match fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SourceError::io(&self.dir, "list the snapshots", e)),
        };
        let mut out = Vec::new();
        for entry in read {
            let entry = entry.map_err(|e| SourceError::io(&self.dir, "list the snapshots", e))?;
            let name = entry.file_name();
            let Some(parsed) = name.to_str().and_then(parse_name) else {
                continue;
            };
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            out.push(Entry {
                path: entry.path(),
                name: name.to_string_lossy().into_owned(),
                kind: parsed.0,
                slug: parsed.1,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn write_temp(&self, bytes: &[u8], slug: &str, kind: Kind) -> Result<PathBuf, SourceError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{seq}-{slug}-{}",
            std::process::id(),
            kind.as_str()
        ));
        let written = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        match written {
            Ok(()) => Ok(temp),
            Err(e) => {
                let _ = fs::remove_file(&temp);
                Err(SourceError::io(&temp, "write the snapshot", e))
            }
        }
    }

    /// Removes the oldest snapshots of (slug, kind) until `keep` holds; `newest` stays.
    fn prune(
        &self,
        kind: Kind,
        slug: &str,
        newest: &Path,
        keep: &Retention,
    ) -> Result<(), SourceError> {
        let mine: Vec<(PathBuf, u64)> = self
            .entries()?
            .into_iter()
            .filter(|e| e.kind == kind && e.slug == slug)
            .map(|e| {
                let len = fs::metadata(&e.path).map_or(0, |m| m.len());
                (e.path, len)
            })
            .collect();
        let mut count = mine.len();
        let mut bytes: u64 = mine.iter().map(|(_, n)| n).sum();
        for (path, len) in &mine {
            if count <= keep.max_count.max(1) && bytes <= keep.max_bytes {
                break;
            }
            if path == newest {
                continue;
            }
            match fs::remove_file(path) {
                Ok(()) => {}
                // Another process pruned it first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SourceError::io(path, "remove an old snapshot", e)),
            }
            count -= 1;
            bytes -= len;
        }
        Ok(())
    }

    /// Best effort: temporary files of saves interrupted long ago.
    fn remove_stale_temps(&self) {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in read.flatten() {
            let is_temp = entry.file_name().to_str().is_some_and(is_temp_name);
            let old = entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP);
            if is_temp && old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

struct Entry {
    path: PathBuf,
    name: String,
    kind: Kind,
    slug: String,
}

/// Moves `temp` to `path` without replacing an existing file: a hard link where the file
/// system has them (fails with `AlreadyExists`), else an existence check and a rename.
fn place(temp: &Path, path: &Path) -> std::io::Result<()> {
    match fs::hard_link(temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if path.exists() {
                return Err(std::io::ErrorKind::AlreadyExists.into());
            }
            fs::rename(temp, path)
        }
    }
}

/// Flushes the directory entry of a new file (best effort; not every platform can).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether `name` is a temporary file of a save: `.tmp-PID-SEQ-SLUG-KIND`.
fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    let mut parts = rest.splitn(3, '-');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next())
        && numeric(parts.next())
        && parts
            .next()
            .and_then(|r| r.rsplit_once('-'))
            .is_some_and(|(slug, kind)| !slug.is_empty() && Kind::parse(kind).is_some())
}

/// `(kind, slug)` of a snapshot file name, or `None` for anything else.
fn parse_name(name: &str) -> Option<(Kind, String)> {
    let stem = name
        .strip_suffix(".pb.gz")
        .or_else(|| name.strip_suffix(".pb"))?;
    if stem.len() <= STAMP_LEN + 1 || !is_stamp(stem.get(..STAMP_LEN)?) {
        return None;
    }
    let rest = stem[STAMP_LEN..].strip_prefix('-')?;
    let (slug, kind) = rest.rsplit_once('-')?;
    let kind = Kind::parse(kind)?;
    if slug.is_empty() {
        return None;
    }
    Some((kind, slug.to_string()))
}

/// Whether `s` has the shape `YYYYMMDDTHHMMSS.mmmZ`.
fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == STAMP_LEN
        && b.iter().enumerate().all(|(i, c)| match i {
            8 => *c == b'T',
            15 => *c == b'.',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn millis_since_epoch(time: SystemTime) -> Option<u64> {
    let d = time.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(d.as_millis()).ok()
}

/// `20261128T010203.123Z` for milliseconds since the Unix epoch; `None` past 9999.
pub(crate) fn stamp(millis: u64) -> Option<String> {
    let secs = millis / 1000;
    let days = i64::try_from(secs / 86_400).ok()?;
    let (y, m, d) = civil_from_days(days);
    if y > 9999 {
        return None;
    }
    let rem = secs % 86_400;
    Some(format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        millis % 1000
    ))
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
