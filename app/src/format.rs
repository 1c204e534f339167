//! How numbers read on the dashboard: sizes, rates, ratios, ETAs and times.

pub use crate::types::format_duration;

/// `1536` as `1.5 KiB`: binary units, three significant digits.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {}", UNITS[unit])
}

/// A transfer rate; zero reads as a dash so idle rows are quiet.
pub fn rate(bytes_per_sec: u64) -> String {
    if bytes_per_sec == 0 {
        "–".into()
    } else {
        format!("{}/s", bytes(bytes_per_sec))
    }
}

/// A rate limit: `unlimited` for 0.
pub fn limit(bytes_per_sec: u64) -> String {
    if bytes_per_sec == 0 {
        "unlimited".into()
    } else {
        rate(bytes_per_sec)
    }
}

/// Bytes per second as whole KiB/s for a form field.
pub fn kib(bytes_per_sec: u64) -> String {
    (bytes_per_sec / 1024).to_string()
}

/// A form field's KiB/s as bytes per second (empty: 0 = unlimited); `None` if malformed.
pub fn parse_kib(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    s.parse::<u64>().ok()?.checked_mul(1024)
}

/// `0.4567` as `45.7%`; never shows 100% before the last byte.
pub fn percent(fraction: f64) -> String {
    let p = (fraction.clamp(0.0, 1.0) * 1000.0).floor() / 10.0;
    format!("{p:.1}%")
}

pub fn ratio(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}")
    } else {
        "∞".into()
    }
}

pub fn eta(secs: Option<u64>) -> String {
    secs.map_or_else(|| "∞".into(), format_duration)
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM` (UTC): the same text on server and browser, so
/// hydration matches.
pub fn datetime_ms(ms: i64) -> String {
    datetime(ms.div_euclid(1000))
}

/// Unix seconds as `YYYY-MM-DD HH:MM` (UTC).
pub fn datetime(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem / 60 % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Percent-encodes a URL component (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Estimated seconds left at the current rate; None when stalled.
pub fn eta_secs(total: u64, done: u64, rate: u64) -> Option<u64> {
    if done >= total {
        Some(0)
    } else if rate == 0 {
        None
    } else {
        Some((total - done).div_ceil(rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(50 * 1024 * 1024), "50.0 MiB");
        assert_eq!(bytes(300 << 30), "300 GiB");
        assert_eq!(rate(0), "–");
        assert_eq!(rate(2048), "2.00 KiB/s");
    }

    #[test]
    fn percent_never_rounds_up_to_done() {
        assert_eq!(percent(0.9999), "99.9%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.4567), "45.6%");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00");
        assert_eq!(datetime(1_795_000_000), "2026-11-18 11:06");
        assert_eq!(datetime_ms(-1000), "1969-12-31 23:59");
    }

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(url_encode("Az09-_.~"), "Az09-_.~");
    }

    #[test]
    fn eta_from_rate() {
        assert_eq!(eta_secs(100, 100, 0), Some(0));
        assert_eq!(eta_secs(100, 0, 0), None);
        assert_eq!(eta_secs(100, 1, 10), Some(10));
    }
}
