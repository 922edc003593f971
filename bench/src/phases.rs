//! `heapspot-bench phases FILE`: where heapspot's time goes, stage by stage, in process
//! through the library (no process start-up, no output formatting).
//!
//! `heapspot top` does: read the file; `Profile::from_bytes` (pass 1 reads the tables and
//! skips samples, then a validation pass decodes every sample); `Aggregate::from_profile`
//! (another sample pass, folding); `Aggregate::top` (sort). Each pass over a gzip'd
//! profile inflates it again, so the cost of inflating alone is shown as a baseline.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use heapspot::profile::{Aggregate, Granularity, Limits, Profile};

fn best<T>(
    repeat: usize,
    mut f: impl FnMut() -> Result<T, String>,
) -> Result<(Duration, T), String> {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..repeat {
        let start = Instant::now();
        let v = f()?;
        let d = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, v));
        }
    }
    best.ok_or_else(|| "no runs".to_owned())
}

fn ms(d: Duration) -> String {
    format!("{:8.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(file: &Path, repeat: usize) -> Result<(), String> {
    let limits = Limits::default();
    let (t_read, bytes) = best(repeat, || {
        std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))
    })?;
    let gz = heapspot::profile::decode::is_gzip(&bytes);
    let (t_inflate, decoded) = best(repeat, || {
        if !gz {
            return Ok(bytes.len() as u64);
        }
        let mut d = MultiGzDecoder::new(&bytes[..]);
        let mut buf = vec![0u8; 64 << 10];
        let mut n = 0u64;
        loop {
            let k = d.read(&mut buf).map_err(|e| format!("inflating: {e}"))?;
            if k == 0 {
                break Ok(n);
            }
            n += k as u64;
        }
    })?;
    let (t_decode, profile) = best(repeat, || {
        Profile::from_bytes(file.display().to_string(), bytes.clone(), limits)
            .map_err(|e| e.to_string())
    })?;
    let (t_pass, samples) = best(repeat, || {
        let mut n = 0u64;
        profile
            .for_each_sample(|_, _| n += 1)
            .map_err(|e| e.to_string())?;
        Ok(n)
    })?;
    let (t_fold, agg) = best(repeat, || {
        Aggregate::from_profile(&profile).map_err(|e| e.to_string())
    })?;
    let idx = agg
        .sample_index(Some("inuse_space"))
        .map_err(|e| e.to_string())?;
    let (t_top, rows) = best(repeat, || {
        Ok(agg.top(Granularity::Functions, idx, false).len())
    })?;

    let mb = |n: u64| n as f64 / f64::from(1u32 << 20);
    println!(
        "{}: {:.1} MiB {}, {:.1} MiB decoded, {} samples, {} locations, {} functions, {} function sites; best of {repeat}",
        file.display(),
        mb(bytes.len() as u64),
        if gz { "gzip'd" } else { "raw" },
        mb(decoded),
        samples,
        profile.locations.len(),
        profile.functions.len(),
        rows
    );
    let rate = |d: Duration| mb(decoded) / d.as_secs_f64().max(1e-9);
    println!("  read file                         {}", ms(t_read));
    println!(
        "  inflate only (baseline per pass)  {}  ({:.0} MiB/s decoded)",
        ms(t_inflate),
        rate(t_inflate)
    );
    println!(
        "  one sample pass (for_each_sample) {}  ({:.0} MiB/s decoded)",
        ms(t_pass),
        rate(t_pass)
    );
    println!(
        "  Profile::from_bytes               {}  = tables pass ~{} + validation sample pass",
        ms(t_decode),
        ms(t_decode.saturating_sub(t_pass)).trim_start()
    );
    println!(
        "  Aggregate::from_profile           {}  = sample pass + fold ~{}",
        ms(t_fold),
        ms(t_fold.saturating_sub(t_pass)).trim_start()
    );
    println!("  Aggregate::top (sort)             {}", ms(t_top));
    let total = t_read + t_decode + t_fold + t_top;
    println!(
        "  total                             {}  of which inflating ~{} ({} passes)",
        ms(total),
        ms(t_inflate * if gz { 3 } else { 0 }).trim_start(),
        if gz { 3 } else { 0 }
    );
    Ok(())
}
