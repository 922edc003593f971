//! Human formatting of sample values as pprof prints them: bytes in B/kB/MB/GB/TB/PB
//! (powers of 1024), durations in ns/us/ms/s/hrs, counts as plain numbers; two decimals
//! with a trailing `.00` dropped.

struct Unit {
    name: &'static str,
    factor: f64,
}

const MEMORY: &[Unit] = &[
    Unit {
        name: "B",
        factor: 1.0,
    },
    Unit {
        name: "kB",
        factor: 1024.0,
    },
    Unit {
        name: "MB",
        factor: 1048576.0,
    },
    Unit {
        name: "GB",
        factor: 1073741824.0,
    },
    Unit {
        name: "TB",
        factor: 1099511627776.0,
    },
    Unit {
        name: "PB",
        factor: 1125899906842624.0,
    },
];

const TIME: &[Unit] = &[
    Unit {
        name: "ns",
        factor: 1.0,
    },
    Unit {
        name: "us",
        factor: 1e3,
    },
    Unit {
        name: "ms",
        factor: 1e6,
    },
    Unit {
        name: "s",
        factor: 1e9,
    },
    Unit {
        name: "hrs",
        factor: 3600e9,
    },
];

/// The unit family and the factor of `unit` within it, for units pprof knows.
fn family(unit: &str) -> Option<(&'static [Unit], f64)> {
    let u = unit.to_ascii_lowercase();
    let mem = match u.as_str() {
        "b" | "byte" | "bytes" => Some(1.0),
        "kb" | "kbyte" | "kbytes" | "kilobyte" | "kilobytes" => Some(1024.0),
        "mb" | "mbyte" | "mbytes" | "megabyte" | "megabytes" => Some(1048576.0),
        "gb" | "gbyte" | "gbytes" | "gigabyte" | "gigabytes" => Some(1073741824.0),
        _ => None,
    };
    if let Some(f) = mem {
        return Some((MEMORY, f));
    }
    let time = match u.as_str() {
        "ns" | "nanosecond" | "nanoseconds" => Some(1.0),
        "us" | "microsecond" | "microseconds" => Some(1e3),
        "ms" | "millisecond" | "milliseconds" => Some(1e6),
        "s" | "sec" | "second" | "seconds" => Some(1e9),
        "hrs" | "hour" | "hours" => Some(3600e9),
        _ => None,
    };
    time.map(|f| (TIME, f))
}

/// Scales a value to the largest unit of its family in which it is at least 1.
pub fn scale(value: i64, unit: &str) -> (f64, &'static str) {
    if value < 0 {
        let (v, u) = scale(value.saturating_neg(), unit);
        return (-v, u);
    }
    let Some((units, factor)) = family(unit) else {
        return (value as f64, "");
    };
    let base = value as f64 * factor;
    let mut best: Option<&Unit> = None;
    for u in units {
        if base / u.factor >= 1.0 && best.is_none_or(|b| u.factor >= b.factor) {
            best = Some(u);
        }
    }
    let u = best.unwrap_or(&units[0]);
    (base / u.factor, u.name)
}

/// Chooses one output unit for a whole report as pprof's `-unit=minimum` does: the unit of
/// the smallest non-zero value shown, moved up when the largest value (the total) is over a
/// hundred times larger so that the smallest still reads as at least 0.01.
pub fn report_unit(values: impl IntoIterator<Item = i64>, total: i64, unit: &str) -> &'static str {
    let min = values
        .into_iter()
        .map(i64::abs)
        .filter(|&v| v > 0)
        .min()
        .unwrap_or(total.abs());
    let max = total.abs();
    let (_, min_unit) = scale(min, unit);
    let (_, max_unit) = scale(max, unit);
    if min_unit != max_unit && min.saturating_mul(100) < max {
        scale(min.saturating_mul(100), unit).1
    } else {
        min_unit
    }
}

/// Formats a value in a fixed output unit of its family (from [`report_unit`]).
pub fn format_in(value: i64, unit: &str, out_unit: &str) -> String {
    let Some((units, factor)) = family(unit) else {
        return format_value(value, unit);
    };
    let Some(target) = units.iter().find(|u| u.name == out_unit) else {
        return format_value(value, unit);
    };
    let v = value as f64 * factor / target.factor;
    let s = format!("{v:.2}");
    let s = s.strip_suffix(".00").unwrap_or(&s);
    if s == "0" || s == "-0" {
        return "0".to_string();
    }
    format!("{s}{}", target.name)
}

/// Formats a value as pprof's text reports do, e.g. `512.02kB`, `1.50MB`, `30ms`, `12`.
pub fn format_value(value: i64, unit: &str) -> String {
    let (v, u) = scale(value, unit);
    let s = format!("{v:.2}");
    let s = s.strip_suffix(".00").unwrap_or(&s);
    if s == "0" || s == "-0" {
        return "0".to_string();
    }
    format!("{s}{u}")
}

/// Formats `part` as a percentage of `total` like pprof's text reports: two decimals from
/// 1% up, two significant digits below, `100%` near one hundred.
pub fn percent(part: i64, total: i64) -> String {
    let ratio = if total == 0 {
        0.0
    } else {
        (part as f64 / total as f64).abs() * 100.0
    };
    if (99.95..=100.05).contains(&ratio) {
        "100%".into()
    } else if ratio >= 1.0 {
        format!("{ratio:.2}%")
    } else {
        format!("{}%", general_2(ratio))
    }
}

/// Go's `%.2g`: two significant digits, trailing zeros dropped, exponent form for tiny values.
fn general_2(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    let rounded: f64 = format!("{x:.1e}").parse().unwrap_or(x);
    let exp = if rounded.abs() >= 10f64.powi(exp + 1) {
        exp + 1
    } else {
        exp
    };
    if !(-4..2).contains(&exp) {
        let s = format!("{x:.1e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", e.abs());
    }
    let decimals = (1 - exp).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_pprof() {
        assert_eq!(format_value(0, "bytes"), "0");
        assert_eq!(format_value(512, "bytes"), "512B");
        assert_eq!(format_value(524288, "bytes"), "512kB");
        assert_eq!(format_value(524800, "bytes"), "512.50kB");
        assert_eq!(format_value(1572864, "bytes"), "1.50MB");
        assert_eq!(format_value(-1572864, "bytes"), "-1.50MB");
        assert_eq!(format_value(30_000_000, "nanoseconds"), "30ms");
        assert_eq!(format_value(1_500_000_000, "nanoseconds"), "1.50s");
        assert_eq!(format_value(12, "count"), "12");
        assert_eq!(percent(1, 3), "33.33%");
        assert_eq!(percent(0, 0), "0%");
        assert_eq!(report_unit([65536, 1 << 20], 11_408_506, "bytes"), "MB");
        assert_eq!(report_unit([65536], 1 << 20, "bytes"), "kB");
        assert_eq!(format_in(65536, "bytes", "MB"), "0.06MB");
        assert_eq!(format_in(0, "bytes", "MB"), "0");
        assert_eq!(format_in(7, "count", ""), "7");
        assert_eq!(percent(5, 1000), "0.5%");
        assert_eq!(percent(123, 100000), "0.12%");
        assert_eq!(percent(1, 10_000_000), "1e-05%");
        assert_eq!(percent(1000, 1000), "100%");
    }
}
