//! Transfer rates on the command line: `500K`, `10M`, `1.5M`, `2G` or plain bytes per
//! second (K, M, G are 1024-based; a trailing `B`, `/s` or `iB` is allowed; `0` = unlimited).

/// Parses a rate into bytes per second.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let mut body = lower.as_str();
    for suffix in ["/s", "ps"] {
        body = body.strip_suffix(suffix).unwrap_or(body);
    }
    body = body
        .strip_suffix("ib")
        .or_else(|| body.strip_suffix('b'))
        .unwrap_or(body);
    let (num, mult) = match body.chars().last() {
        Some('k') => (&body[..body.len() - 1], 1u64 << 10),
        Some('m') => (&body[..body.len() - 1], 1 << 20),
        Some('g') => (&body[..body.len() - 1], 1 << 30),
        _ => (body, 1),
    };
    let bad = || format!("{s:?} is not a rate (like 500K, 10M or bytes per second)");
    let num = num.trim();
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult).ok_or_else(bad);
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    let v = f * mult as f64;
    if !v.is_finite() || v >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_1024_based() {
        assert_eq!(parse_rate("500K"), Ok(500 * 1024));
        assert_eq!(parse_rate("10M"), Ok(10 << 20));
        assert_eq!(parse_rate("2g"), Ok(2 << 30));
        assert_eq!(parse_rate("1.5M"), Ok(3 << 19));
        assert_eq!(parse_rate("64KiB/s"), Ok(64 << 10));
        assert_eq!(parse_rate("64kb"), Ok(64 << 10));
        assert_eq!(parse_rate(" 12345 "), Ok(12345));
        assert_eq!(parse_rate("0"), Ok(0));
    }

    #[test]
    fn refuses_what_is_not_a_rate() {
        for bad in [
            "",
            "K",
            "fast",
            "-1",
            "1T",
            "1.2.3M",
            "99999999999999999999",
            "1e9",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
