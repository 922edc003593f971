//! `workspace/executeCommand`: load profiles, capture from an endpoint, set the baseline,
//! select the sample type, clear, show the top sites, report status; and the
//! `heapspot/status` notification pushed whenever the status changes.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::ExecuteCommandParams;

use crate::findings::Severity;
use crate::mapping::Resolution;
use crate::profile::trend::fit;
use crate::profile::units::format_value;
use crate::profile::{Aggregate, Granularity};

use super::super::analysis::{is_goroutine_profile, Analysis, ProfileCache};
use super::super::convert::{path_arg, uri_of};
use super::super::state::Inner;
use super::live;

pub const LOAD_PROFILE: &str = "heapspot.loadProfile";
pub const CAPTURE_PROFILE: &str = "heapspot.captureProfile";
pub const SET_BASELINE: &str = "heapspot.setBaseline";
pub const SELECT_SAMPLE_TYPE: &str = "heapspot.selectSampleType";
pub const CLEAR_PROFILES: &str = "heapspot.clearProfiles";
pub const SHOW_TOP: &str = "heapspot.showTop";
pub const STATUS: &str = "heapspot.status";
/// Test-only: panics inside a request, to show the server answers with an error and
/// keeps serving. Offered only with `HEAPSPOT_LSP_TEST=1`.
pub const TEST_PANIC: &str = "heapspot.test.panic";

pub const COMMANDS: &[&str] = &[
    LOAD_PROFILE,
    CAPTURE_PROFILE,
    SET_BASELINE,
    SELECT_SAMPLE_TYPE,
    CLEAR_PROFILES,
    SHOW_TOP,
    STATUS,
];

/// The `heapspot/status` notification.
#[derive(Debug)]
pub enum StatusNotification {}

impl Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "heapspot/status";
}

pub fn invalid(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}

/// Arguments that are strings, or one array of strings.
fn string_args(args: &[Value], command: &str) -> Result<Vec<String>> {
    let flat: Vec<&Value> = match args {
        [Value::Array(a)] => a.iter().collect(),
        _ => args.iter().collect(),
    };
    flat.into_iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                invalid(format!("{command}: expected a path or URI string, got {v}"))
            })
        })
        .collect()
}

fn root_of(inner: &Inner) -> Result<PathBuf> {
    inner
        .lock()
        .root
        .clone()
        .ok_or_else(|| invalid("heapspot: no workspace folder is open"))
}

/// Loads profiles on the blocking pool; the error names the file.
async fn load_checked(inner: &Arc<Inner>, paths: Vec<PathBuf>) -> Result<Vec<(PathBuf, bool)>> {
    let cache = Arc::clone(&inner.cache);
    tokio::task::spawn_blocking(move || {
        paths
            .into_iter()
            .map(|p| {
                ProfileCache::load(&cache, &p).map(|prof| {
                    let g = is_goroutine_profile(&prof);
                    (p, g)
                })
            })
            .collect::<std::result::Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| invalid(format!("heapspot: loading failed: {e}")))?
    .map_err(invalid)
}

pub async fn execute(inner: &Arc<Inner>, params: ExecuteCommandParams) -> Result<Option<Value>> {
    let args = params.arguments;
    match params.command.as_str() {
        LOAD_PROFILE => {
            let root = root_of(inner)?;
            let paths = string_args(&args, LOAD_PROFILE)?
                .iter()
                .map(|a| path_arg(a, &root))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(invalid)?;
            if paths.is_empty() {
                return Err(invalid(format!(
                    "{LOAD_PROFILE}: give one or more profile paths"
                )));
            }
            let p = super::progress::begin(inner, "heapspot: loading profiles", "").await;
            let loaded = load_checked(inner, paths).await;
            let loaded = match loaded {
                Ok(l) => l,
                Err(e) => {
                    super::progress::end(p, "failed").await;
                    return Err(e);
                }
            };
            live::set_floor_now(inner);
            {
                let mut s = inner.lock();
                let heap: Vec<PathBuf> = loaded
                    .iter()
                    .filter(|l| !l.1)
                    .map(|l| l.0.clone())
                    .collect();
                let gor: Vec<PathBuf> =
                    loaded.iter().filter(|l| l.1).map(|l| l.0.clone()).collect();
                if !heap.is_empty() {
                    s.heap_override = Some(heap);
                    s.live_heap.clear();
                }
                if !gor.is_empty() {
                    s.goroutine_override = Some(gor);
                    s.live_goroutine.clear();
                }
            }
            inner.refresh().await;
            super::progress::end(p, "done").await;
            Ok(Some(status(inner)))
        }
        CAPTURE_PROFILE => {
            let url = string_args(&args, CAPTURE_PROFILE)?
                .into_iter()
                .next()
                .ok_or_else(|| invalid(format!("{CAPTURE_PROFILE}: give an endpoint URL")))?;
            let path = live::capture_once(inner, &url).await.map_err(invalid)?;
            inner.refresh().await;
            Ok(Some(json!({ "path": path })))
        }
        SET_BASELINE => {
            let root = root_of(inner)?;
            let arg = match args.as_slice() {
                [] | [Value::Null] => None,
                [Value::String(s)] => Some(path_arg(s, &root).map_err(invalid)?),
                other => {
                    return Err(invalid(format!(
                        "{SET_BASELINE}: expected [path], [] or [null], got {}",
                        Value::Array(other.to_vec())
                    )))
                }
            };
            if let Some(p) = &arg {
                let l = load_checked(inner, vec![p.clone()]).await?;
                if l.first().is_some_and(|l| l.1) {
                    return Err(invalid(format!(
                        "{}: a goroutine profile cannot be a heap baseline",
                        p.display()
                    )));
                }
            }
            inner.lock().baseline_override = Some(arg);
            inner.refresh().await;
            Ok(Some(status(inner)))
        }
        SELECT_SAMPLE_TYPE => {
            let a = inner.current();
            let available = a.sample_types();
            if let Some(v) = args.first().filter(|v| !v.is_null()) {
                let name = v.as_str().ok_or_else(|| {
                    invalid(format!("{SELECT_SAMPLE_TYPE}: expected a name, got {v}"))
                })?;
                if !available.iter().any(|t| t == name) {
                    return Err(invalid(format!(
                        "{SELECT_SAMPLE_TYPE}: {name:?} is not a sample type of the loaded profiles ({})",
                        if available.is_empty() { "none loaded".to_string() } else { available.join(", ") }
                    )));
                }
                inner.lock().sample_type = Some(name.to_string());
                inner.refresh().await;
            }
            let a = inner.current();
            Ok(Some(json!({
                "current": a.sample_type_name(),
                "available": a.sample_types(),
            })))
        }
        CLEAR_PROFILES => {
            live::set_floor_now(inner);
            {
                let mut s = inner.lock();
                s.heap_override = Some(Vec::new());
                s.goroutine_override = Some(Vec::new());
                s.baseline_override = Some(None);
                s.live_heap.clear();
                s.live_goroutine.clear();
            }
            inner.refresh().await;
            Ok(Some(status(inner)))
        }
        SHOW_TOP => {
            let opts = args.first().cloned().unwrap_or(Value::Null);
            let n = opts.get("n").and_then(Value::as_u64).unwrap_or(20) as usize;
            let st = opts
                .get("sampleType")
                .and_then(Value::as_str)
                .map(str::to_string);
            let a = inner.current();
            let top = tokio::task::spawn_blocking(move || top(&a, n, st.as_deref()))
                .await
                .map_err(|e| invalid(format!("heapspot: showTop failed: {e}")))?
                .map_err(invalid)?;
            Ok(Some(top))
        }
        STATUS => Ok(Some(status(inner))),
        TEST_PANIC if inner.options.test_commands => {
            panic!("{TEST_PANIC} was asked to panic")
        }
        other => Err(invalid(format!("unknown command {other:?}"))),
    }
}

/// The top sites of the last heap snapshot, as `go tool pprof -top` orders them.
pub fn top(
    a: &Analysis,
    n: usize,
    sample_type: Option<&str>,
) -> std::result::Result<Value, String> {
    let Some(last) = a.heap_profiles.last() else {
        return Err("heapspot.showTop: no heap profile is loaded".into());
    };
    let agg = Aggregate::from_profile(last).map_err(|e| e.to_string())?;
    let wanted = sample_type
        .map(str::to_string)
        .or_else(|| a.sample_type_name());
    let idx = agg
        .sample_index(wanted.as_deref())
        .map_err(|e| e.to_string())?;
    let unit = agg.sample_types[idx].unit.clone();
    let total = agg.total[idx];
    let pct = |v: i64| {
        if total == 0 {
            0.0
        } else {
            (v as f64 / total as f64 * 10000.0).round() / 100.0
        }
    };
    let rows: Vec<Value> = agg
        .top(Granularity::Functions, idx, false)
        .into_iter()
        .take(if n == 0 { usize::MAX } else { n })
        .map(|s| {
            let place = a.mapper.as_ref().and_then(|m| {
                match m.resolve(&s.key.function, &s.key.file, s.start_line, s.start_line) {
                    Resolution::Mapped(ml) => Some((ml.file, ml.line)),
                    _ => None,
                }
            });
            let (file, uri, line) = match &place {
                Some((f, l)) => (json!(f), json!(uri_of(f).map(|u| u.to_string())), json!(l)),
                None => (Value::Null, Value::Null, Value::Null),
            };
            json!({
                "function": s.key.function.as_ref(),
                "file": file,
                "uri": uri,
                "line": line,
                "flat": s.flat[idx],
                "flatText": format_value(s.flat[idx], &unit),
                "flatPercent": pct(s.flat[idx]),
                "cum": s.cum[idx],
                "cumText": format_value(s.cum[idx], &unit),
                "cumPercent": pct(s.cum[idx]),
            })
        })
        .collect();
    Ok(json!({
        "sampleType": agg.sample_types[idx].ty,
        "unit": unit,
        "total": total,
        "totalText": format_value(total, &unit),
        "rows": rows,
    }))
}

/// The status object of the contract.
pub fn status(inner: &Inner) -> Value {
    let a = inner.current();
    let endpoints: Vec<Value> = inner
        .lock()
        .endpoints
        .iter()
        .map(|e| json!({ "url": e.url, "lastCapture": e.last_capture, "error": e.error }))
        .collect();
    let st = a.sample_type_name();
    let (series, unit): (Vec<i64>, String) = match (&a.heap, &st) {
        (Some(h), Some(name)) => match h.type_index(name) {
            Some(i) => (
                h.snapshots.iter().map(|s| s.total[i]).collect(),
                h.sample_types[i].unit.clone(),
            ),
            None => (Vec::new(), String::new()),
        },
        _ => (Vec::new(), String::new()),
    };
    let total = series.last().copied();
    let growth = (series.len() >= 2).then(|| {
        let xs: Vec<f64> = (0..series.len()).map(|i| i as f64).collect();
        let ys: Vec<f64> = series.iter().map(|&v| v as f64).collect();
        fit(&xs, &ys).0.round() as i64
    });
    let count = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    json!({
        "profiles": a.heap_files,
        "goroutineProfiles": a.goroutine_files,
        "snapshots": a.heap.as_ref().map_or(0, |h| h.snapshots.len()),
        "sampleType": st,
        "sampleTypes": a.sample_types(),
        "total": total,
        "totalText": total.map(|t| format_value(t, &unit)),
        "series": series,
        "growthPerSnapshot": growth,
        "growthText": growth.map(|g| format!("{}{}", if g >= 0 { "+" } else { "" }, format_value(g, &unit))),
        "baseline": a.baseline,
        "endpoints": endpoints,
        "findings": {
            "error": count(Severity::Error),
            "warning": count(Severity::Warning),
            "info": count(Severity::Info),
        },
    })
}

/// Sends `heapspot/status` when the status differs from the last one sent.
pub async fn push_status(inner: &Arc<Inner>) {
    let v = status(inner);
    {
        let mut s = inner.lock();
        if s.last_status.as_ref() == Some(&v) {
            return;
        }
        s.last_status = Some(v.clone());
    }
    inner
        .client
        .send_notification::<StatusNotification>(v)
        .await;
}
