//! The `Range` request header (RFC 9110 §14), for one byte range of a resource of known
//! length. Several ranges are answered with the whole resource (a server may ignore
//! `Range`), as is a header that does not parse; only a well-formed range that starts past
//! the end is unsatisfiable (416).

/// What to send for a request's `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole resource.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Longest header looked at; a longer one is treated as malformed (answered in full).
const MAX_HEADER: usize = 256;

/// Decides the answer for `header` (the raw `Range` value, if any) on `len` bytes.
pub fn answer(header: Option<&[u8]>, len: u64) -> RangeAnswer {
    let Some(raw) = header else {
        return RangeAnswer::Full;
    };
    if raw.len() > MAX_HEADER {
        return RangeAnswer::Full;
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return RangeAnswer::Full;
    };
    let Some(spec) = text.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(_) if len == 0 => RangeAnswer::Unsatisfiable,
            Some(n) => RangeAnswer::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeAnswer::Full,
        },
        // `bytes=A-` or `bytes=A-B`.
        (false, _) => {
            let Some(start) = number(first) else {
                return RangeAnswer::Full;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(e) if e >= start => e,
                    _ => return RangeAnswer::Full,
                }
            };
            if start >= len {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Partial {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        (true, true) => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    fn a(h: &str, len: u64) -> RangeAnswer {
        answer(Some(h.as_bytes()), len)
    }

    #[test]
    fn single_ranges() {
        assert_eq!(answer(None, 10), Full);
        assert_eq!(a("bytes=0-", 10), Partial { start: 0, end: 9 });
        assert_eq!(a("bytes=2-4", 10), Partial { start: 2, end: 4 });
        assert_eq!(a("bytes=5-100", 10), Partial { start: 5, end: 9 });
        assert_eq!(a("bytes=-3", 10), Partial { start: 7, end: 9 });
        assert_eq!(a("bytes=-30", 10), Partial { start: 0, end: 9 });
        assert_eq!(a(" bytes=1-1 ", 10), Partial { start: 1, end: 1 });
    }

    #[test]
    fn out_of_bounds_is_unsatisfiable() {
        assert_eq!(a("bytes=10-", 10), Unsatisfiable);
        assert_eq!(a("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(a("bytes=-0", 10), Unsatisfiable);
        assert_eq!(a("bytes=0-", 0), Unsatisfiable);
        assert_eq!(a("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn malformed_or_multiple_is_answered_in_full() {
        for h in [
            "bytes=0-1,3-4",
            "bytes=4-2",
            "bytes=a-b",
            "bytes=-",
            "bytes=1",
            "items=0-1",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
            "",
        ] {
            assert_eq!(a(h, 10), Full, "{h:?}");
        }
        assert_eq!(answer(Some(&[0xff, 0xfe]), 10), Full);
        assert_eq!(a(&format!("bytes={}-", "0".repeat(300)), 10), Full);
    }
}
