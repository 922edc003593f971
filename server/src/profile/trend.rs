//! Growth of each site over N snapshots ordered by time: the series of values, a
//! least-squares growth estimate per snapshot and per minute, and how steady the growth
//! is (fit quality and the share of steps that rose). A leak is retention that grows
//! steadily; churn and one-off spikes are not.

use super::aggregate::{Aggregate, Granularity, SiteKey};
use super::decode::ValueType;
use super::error::{ProfileError, Result};

/// One site's values across snapshots and its growth estimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteTrend {
    pub key: SiteKey,
    /// Flat value per snapshot, in time order (0 where the site is absent).
    pub series: Vec<i64>,
    /// Least-squares slope of the value against the snapshot number.
    pub growth_per_snapshot: f64,
    /// Least-squares slope against wall time, per minute; `None` when the snapshots carry
    /// no distinct times.
    pub growth_per_minute: Option<f64>,
    /// Coefficient of determination of the linear fit against the snapshot number, 0..1;
    /// 0 for a flat series.
    pub r_squared: f64,
    /// How many consecutive steps rose, out of `steps`.
    pub rising_steps: usize,
    pub steps: usize,
}

impl SiteTrend {
    /// Last value minus first value.
    pub fn delta(&self) -> i64 {
        match (self.series.first(), self.series.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    /// Steady growth: positive slope, a good linear fit and most steps rising. Needs three
    /// or more snapshots.
    pub fn is_steady_growth(&self, min_r_squared: f64, min_rising_share: f64) -> bool {
        self.series.len() >= 3
            && self.growth_per_snapshot > 0.0
            && self.r_squared >= min_r_squared
            && self.steps > 0
            && self.rising_steps as f64 / self.steps as f64 >= min_rising_share
    }
}

/// Trends of all sites of one sample type over a series of snapshots.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Trend {
    pub sample_type: ValueType,
    /// Snapshot names, in time order.
    pub sources: Vec<String>,
    /// Snapshot times in nanoseconds since the epoch (0 when unknown), in time order.
    pub times: Vec<i64>,
    pub sites: Vec<SiteTrend>,
}

/// Orders snapshots by their time stamps (stable, so equal or missing times keep the given
/// order) and computes every site's trend for the sample type at `idx`.
pub fn trend(snapshots: &[Aggregate], g: Granularity, idx: usize) -> Result<Trend> {
    let Some(first) = snapshots.first() else {
        return Err(ProfileError::usage("trend", "no snapshots given"));
    };
    for s in &snapshots[1..] {
        if s.sample_types != first.sample_types {
            return Err(ProfileError::usage(
                &s.sources.join(", "),
                format!(
                    "its sample types differ from those of {}; snapshots of a trend must be of one kind",
                    first.sources.join(", ")
                ),
            ));
        }
    }
    let sample_type = first
        .sample_types
        .get(idx)
        .cloned()
        .ok_or_else(|| ProfileError::usage("trend", format!("no sample type #{idx}")))?;
    let mut order: Vec<usize> = (0..snapshots.len()).collect();
    order.sort_by_key(|&i| snapshots[i].time_nanos);
    let ordered: Vec<&Aggregate> = order.iter().map(|&i| &snapshots[i]).collect();
    let times: Vec<i64> = ordered.iter().map(|a| a.time_nanos).collect();
    let sources = ordered.iter().map(|a| a.sources.join("+")).collect();

    let mut keys: Vec<&SiteKey> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in &ordered {
        for s in a.table(g).sites() {
            if s.flat[idx] != 0 && seen.insert(&s.key) {
                keys.push(&s.key);
            }
        }
    }
    let xs: Vec<f64> = (0..ordered.len()).map(|i| i as f64).collect();
    let distinct_times =
        times.iter().all(|&t| t != 0) && times.windows(2).all(|w| w[0] < w[1]) && times.len() >= 2;
    let minutes: Vec<f64> = times
        .iter()
        .map(|&t| (t - times[0]) as f64 / 60e9)
        .collect();
    let sites = keys
        .into_iter()
        .map(|key| {
            let series: Vec<i64> = ordered
                .iter()
                .map(|a| a.table(g).get(key).map_or(0, |s| s.flat[idx]))
                .collect();
            let ys: Vec<f64> = series.iter().map(|&v| v as f64).collect();
            let (slope, r2) = fit(&xs, &ys);
            let growth_per_minute = distinct_times.then(|| fit(&minutes, &ys).0);
            let rising_steps = series.windows(2).filter(|w| w[1] > w[0]).count();
            SiteTrend {
                key: key.clone(),
                series,
                growth_per_snapshot: slope,
                growth_per_minute,
                r_squared: r2,
                rising_steps,
                steps: ordered.len().saturating_sub(1),
            }
        })
        .collect();
    Ok(Trend {
        sample_type,
        sources,
        times,
        sites,
    })
}

/// Ordinary least squares: slope and coefficient of determination.
pub fn fit(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return (0.0, 0.0);
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    if sxx == 0.0 {
        return (0.0, 0.0);
    }
    let slope = sxy / sxx;
    let r2 = if syy == 0.0 {
        0.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    (slope, r2)
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_of_a_line_is_exact() {
        let (slope, r2) = fit(&[0.0, 1.0, 2.0, 3.0], &[10.0, 20.0, 30.0, 40.0]);
        assert!((slope - 10.0).abs() < 1e-9);
        assert!((r2 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn flat_series_has_no_growth_and_no_fit() {
        assert_eq!(fit(&[0.0, 1.0, 2.0], &[5.0, 5.0, 5.0]), (0.0, 0.0));
    }

    #[test]
    fn spike_fits_poorly() {
        let (_, r2) = fit(&[0.0, 1.0, 2.0, 3.0], &[0.0, 100.0, 0.0, 0.0]);
        assert!(r2 < 0.3, "r2 = {r2}");
    }
}
