//! Bounded bencode decoder and canonical encoder.
//!
//! Input comes from peers and trackers, so decoding never trusts a declared size: nesting
//! is capped at [`MAX_DEPTH`], a string's declared length must fit in what is left of the
//! input before anything is allocated, and integers must be canonical (`i0e`, no leading
//! zeros, no `-0`) and fit an `i64`. Dictionary keys may come unsorted (real-world torrents
//! do this) but never twice. Encoding is canonical: dictionaries come out sorted.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// Deepest nesting of lists/dictionaries accepted.
pub const MAX_DEPTH: usize = 64;

/// A decoded bencode value.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Why an input is not acceptable bencode; every variant carries the byte offset.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum BencodeError {
    #[error("unexpected end of input at byte {0}")]
    UnexpectedEof(usize),
    #[error("unexpected byte 0x{byte:02x} at byte {pos}")]
    UnexpectedByte { pos: usize, byte: u8 },
    #[error("malformed integer at byte {0}")]
    InvalidInt(usize),
    #[error("integer out of range at byte {0}")]
    IntOverflow(usize),
    #[error("malformed string length at byte {0}")]
    InvalidLength(usize),
    #[error("string at byte {pos} declares {len} bytes but only {available} remain")]
    StringTooLong {
        pos: usize,
        len: u64,
        available: usize,
    },
    #[error("nesting deeper than {MAX_DEPTH} at byte {0}")]
    TooDeep(usize),
    #[error("duplicate dictionary key at byte {0}")]
    DuplicateKey(usize),
    #[error("trailing data at byte {0}")]
    TrailingData(usize),
    #[error("expected a dictionary at byte {0}")]
    NotADict(usize),
}

/// Decodes one value that must span the whole input.
pub fn decode(input: &[u8]) -> Result<Value, BencodeError> {
    let (v, used) = decode_prefix(input)?;
    if used != input.len() {
        return Err(BencodeError::TrailingData(used));
    }
    Ok(v)
}

/// Decodes one value at the start of `input` and returns it with the number of bytes it
/// used (BEP 9 metadata messages carry raw data after the dictionary).
pub fn decode_prefix(input: &[u8]) -> Result<(Value, usize), BencodeError> {
    let mut p = Parser { buf: input, pos: 0 };
    let v = p.value(0)?;
    Ok((v, p.pos))
}

/// Byte range, within `input`, of the value stored under `key` in the top-level dictionary.
///
/// The whole input is validated (one dictionary, nothing after it, no duplicate keys) so
/// the span is unambiguous; the info-hash is computed over exactly these original bytes.
pub fn dict_value_span(input: &[u8], key: &[u8]) -> Result<Option<Range<usize>>, BencodeError> {
    let mut p = Parser { buf: input, pos: 0 };
    match p.peek()? {
        b'd' => p.pos += 1,
        _ => return Err(BencodeError::NotADict(0)),
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut found = None;
    loop {
        if p.peek()? == b'e' {
            p.pos += 1;
            break;
        }
        let key_pos = p.pos;
        let k = p.string()?;
        if !seen.insert(k) {
            return Err(BencodeError::DuplicateKey(key_pos));
        }
        let start = p.pos;
        p.skip(1)?;
        if k == key {
            found = Some(start..p.pos);
        }
    }
    if p.pos != input.len() {
        return Err(BencodeError::TrailingData(p.pos));
    }
    Ok(found)
}

/// Canonical encoding of `v`.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(v, &mut out);
    out
}

/// Appends the canonical encoding of `v` to `out`.
pub fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(i) => {
            out.push(b'i');
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b'e');
        }
        Value::Bytes(b) => encode_bytes(b, out),
        Value::List(l) => {
            out.push(b'l');
            for item in l {
                encode_into(item, out);
            }
            out.push(b'e');
        }
        Value::Dict(d) => {
            out.push(b'd');
            for (k, item) in d {
                encode_bytes(k, out);
                encode_into(item, out);
            }
            out.push(b'e');
        }
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Result<u8, BencodeError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(BencodeError::UnexpectedEof(self.pos))
    }

    fn value(&mut self, depth: usize) -> Result<Value, BencodeError> {
        match self.peek()? {
            b'i' => self.int().map(Value::Int),
            b'0'..=b'9' => self.string().map(|s| Value::Bytes(s.to_vec())),
            b'l' => {
                self.enter(depth)?;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.enter(depth)?;
                let mut map = BTreeMap::new();
                while self.peek()? != b'e' {
                    let key_pos = self.pos;
                    let k = self.string()?;
                    let v = self.value(depth + 1)?;
                    if map.insert(k.to_vec(), v).is_some() {
                        return Err(BencodeError::DuplicateKey(key_pos));
                    }
                }
                self.pos += 1;
                Ok(Value::Dict(map))
            }
            byte => Err(BencodeError::UnexpectedByte {
                pos: self.pos,
                byte,
            }),
        }
    }

    /// Validates one value without building it (used for spans).
    fn skip(&mut self, depth: usize) -> Result<(), BencodeError> {
        match self.peek()? {
            b'i' => self.int().map(drop),
            b'0'..=b'9' => self.string().map(drop),
            b'l' => {
                self.enter(depth)?;
                while self.peek()? != b'e' {
                    self.skip(depth + 1)?;
                }
                self.pos += 1;
                Ok(())
            }
            b'd' => {
                self.enter(depth)?;
                let mut seen = std::collections::BTreeSet::new();
                while self.peek()? != b'e' {
                    let key_pos = self.pos;
                    if !seen.insert(self.string()?) {
                        return Err(BencodeError::DuplicateKey(key_pos));
                    }
                    self.skip(depth + 1)?;
                }
                self.pos += 1;
                Ok(())
            }
            byte => Err(BencodeError::UnexpectedByte {
                pos: self.pos,
                byte,
            }),
        }
    }

    /// Steps over a container's opening byte, enforcing the depth cap.
    fn enter(&mut self, depth: usize) -> Result<(), BencodeError> {
        if depth >= MAX_DEPTH {
            return Err(BencodeError::TooDeep(self.pos));
        }
        self.pos += 1;
        Ok(())
    }

    fn int(&mut self) -> Result<i64, BencodeError> {
        let start = self.pos;
        self.pos += 1; // 'i'
        let rest = &self.buf[self.pos..];
        let end = rest
            .iter()
            .position(|&c| c == b'e')
            .ok_or(BencodeError::UnexpectedEof(self.buf.len()))?;
        let digits = &rest[..end];
        let (neg, mag) = match digits.split_first() {
            Some((b'-', m)) => (true, m),
            _ => (false, digits),
        };
        // Canonical: digits only, no leading zero (except "0" itself), no "-0".
        let leading_zero = mag.len() > 1 && mag[0] == b'0';
        let negative_zero = neg && mag == b"0";
        let all_digits = !mag.is_empty() && mag.iter().all(u8::is_ascii_digit);
        if !all_digits || leading_zero || negative_zero {
            return Err(BencodeError::InvalidInt(start));
        }
        let mut n: i64 = 0;
        for &d in mag {
            let d = i64::from(d - b'0');
            // Accumulate negatively so i64::MIN parses.
            n = n
                .checked_mul(10)
                .and_then(|n| {
                    if neg {
                        n.checked_sub(d)
                    } else {
                        n.checked_add(d)
                    }
                })
                .ok_or(BencodeError::IntOverflow(start))?;
        }
        self.pos += end + 1;
        Ok(n)
    }

    /// A byte string `<len>:<bytes>`, borrowed from the input.
    fn string(&mut self) -> Result<&'a [u8], BencodeError> {
        let start = self.pos;
        let mut len: u64 = 0;
        let mut ndigits = 0;
        loop {
            match self.peek()? {
                c @ b'0'..=b'9' => {
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(u64::from(c - b'0')))
                        .ok_or(BencodeError::InvalidLength(start))?;
                    ndigits += 1;
                    self.pos += 1;
                }
                b':' if ndigits > 0 => {
                    self.pos += 1;
                    break;
                }
                byte => {
                    return Err(BencodeError::UnexpectedByte {
                        pos: self.pos,
                        byte,
                    })
                }
            }
        }
        let available = self.buf.len() - self.pos;
        if len > available as u64 {
            return Err(BencodeError::StringTooLong {
                pos: start,
                len,
                available,
            });
        }
        let s = &self.buf[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(s)
    }
}

impl Value {
    /// Byte-string value.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Self {
        Value::Bytes(b.into())
    }

    /// Dictionary from `(key, value)` pairs; a repeated key keeps the last value.
    pub fn dict<K: Into<Vec<u8>>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Dict(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Dictionary lookup; `None` if this is not a dictionary or the key is absent.
    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        self.as_dict()?.get(key)
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The byte string as UTF-8, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value::Bytes(b.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}

/// Shows byte strings as text when they are printable, else as a length (pieces blobs).
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn bytes(b: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match std::str::from_utf8(b) {
                Ok(s) if !s.chars().any(char::is_control) => write!(f, "{s:?}"),
                _ => write!(f, "<{} bytes>", b.len()),
            }
        }
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bytes(b) => bytes(b, f),
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Dict(d) => {
                let mut m = f.debug_map();
                for (k, v) in d {
                    m.key(&Value::Bytes(k.clone())).value(v);
                }
                m.finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn decodes_scalars() {
        assert_eq!(decode(b"i42e"), Ok(Value::Int(42)));
        assert_eq!(decode(b"i-7e"), Ok(Value::Int(-7)));
        assert_eq!(decode(b"i0e"), Ok(Value::Int(0)));
        assert_eq!(decode(b"4:spam"), Ok(Value::bytes("spam")));
        assert_eq!(decode(b"0:"), Ok(Value::bytes("")));
        assert_eq!(decode(b"i9223372036854775807e"), Ok(Value::Int(i64::MAX)));
        assert_eq!(decode(b"i-9223372036854775808e"), Ok(Value::Int(i64::MIN)));
    }

    #[test]
    fn decodes_nested_and_round_trips() {
        let input = b"d4:infod6:lengthi10e4:name1:ae4:listli1ei2el1:xeee";
        let v = decode(input).unwrap();
        assert_eq!(
            v.get(b"info")
                .and_then(|i| i.get(b"length"))
                .and_then(Value::as_int),
            Some(10)
        );
        assert_eq!(
            v.get(b"info")
                .and_then(|i| i.get(b"name"))
                .and_then(Value::as_str),
            Some("a")
        );
        assert_eq!(
            v.get(b"list").and_then(Value::as_list).map(<[Value]>::len),
            Some(3)
        );
        assert_eq!(encode(&v), input.to_vec());
    }

    #[test]
    fn rejects_bad_integers() {
        for bad in [
            &b"i-0e"[..],
            b"i03e",
            b"i-03e",
            b"ie",
            b"i-e",
            b"i1.5e",
            b"i+1e",
            b"i 1e",
            b"i12",
        ] {
            let err = decode(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    BencodeError::InvalidInt(0) | BencodeError::UnexpectedEof(_)
                ),
                "{bad:?}: {err:?}"
            );
        }
        assert_eq!(
            decode(b"i9223372036854775808e"),
            Err(BencodeError::IntOverflow(0))
        );
        assert_eq!(
            decode(b"i-9223372036854775809e"),
            Err(BencodeError::IntOverflow(0))
        );
        assert_eq!(
            decode(b"i99999999999999999999999e"),
            Err(BencodeError::IntOverflow(0))
        );
    }

    #[test]
    fn rejects_truncated_and_huge_strings() {
        assert_eq!(
            decode(b"4:spa"),
            Err(BencodeError::StringTooLong {
                pos: 0,
                len: 4,
                available: 3
            })
        );
        assert_eq!(
            decode(b"99999999999:x"),
            Err(BencodeError::StringTooLong {
                pos: 0,
                len: 99_999_999_999,
                available: 1
            })
        );
        assert_eq!(
            decode(b"99999999999999999999999:"),
            Err(BencodeError::InvalidLength(0))
        );
        assert_eq!(decode(b"4"), Err(BencodeError::UnexpectedEof(1)));
        assert_eq!(
            decode(b"4x"),
            Err(BencodeError::UnexpectedByte { pos: 1, byte: b'x' })
        );
        assert_eq!(decode(b""), Err(BencodeError::UnexpectedEof(0)));
        assert_eq!(decode(b"l"), Err(BencodeError::UnexpectedEof(1)));
        assert_eq!(decode(b"d3:key"), Err(BencodeError::UnexpectedEof(6)));
        assert_eq!(decode(b"li1e"), Err(BencodeError::UnexpectedEof(4)));
    }

    #[test]
    fn rejects_structural_errors() {
        assert_eq!(decode(b"i1ei2e"), Err(BencodeError::TrailingData(3)));
        assert_eq!(
            decode(b"di1e1:ae"),
            Err(BencodeError::UnexpectedByte { pos: 1, byte: b'i' })
        );
        assert_eq!(
            decode(b"d1:ai1e1:ai2ee"),
            Err(BencodeError::DuplicateKey(7))
        );
        assert_eq!(
            decode(b"x"),
            Err(BencodeError::UnexpectedByte { pos: 0, byte: b'x' })
        );
        assert_eq!(
            decode(b"e"),
            Err(BencodeError::UnexpectedByte { pos: 0, byte: b'e' })
        );
    }

    #[test]
    fn accepts_unsorted_keys_and_encodes_sorted() {
        let v = decode(b"d1:bi2e1:ai1ee").unwrap();
        assert_eq!(encode(&v), b"d1:ai1e1:bi2ee".to_vec());
    }

    #[test]
    fn depth_is_capped() {
        let ok = format!("{}{}", "l".repeat(MAX_DEPTH), "e".repeat(MAX_DEPTH));
        assert!(decode(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "l".repeat(MAX_DEPTH + 1), "e".repeat(MAX_DEPTH + 1));
        assert_eq!(
            decode(deep.as_bytes()),
            Err(BencodeError::TooDeep(MAX_DEPTH))
        );
        let very_deep = "l".repeat(1_000_000);
        assert_eq!(
            decode(very_deep.as_bytes()),
            Err(BencodeError::TooDeep(MAX_DEPTH))
        );
        let deep_dict = "d1:a".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            decode(deep_dict.as_bytes()),
            Err(BencodeError::TooDeep(_))
        ));
        assert!(matches!(
            dict_value_span(deep_dict.as_bytes(), b"a"),
            Err(BencodeError::TooDeep(_))
        ));
    }

    #[test]
    fn prefix_reports_consumed_bytes() {
        let (v, n) = decode_prefix(b"d8:msg_typei1e5:piecei0eeRAWDATA").unwrap();
        assert_eq!(n, 25);
        assert_eq!(v.get(b"msg_type").and_then(Value::as_int), Some(1));
    }

    #[test]
    fn span_covers_original_bytes() {
        // Unsorted keys inside info: the span must be the original bytes, not a re-encoding.
        let input = b"d8:announce3:url4:infod4:name1:x6:lengthi1ee1:zi0ee";
        let span = dict_value_span(input, b"info").unwrap().unwrap();
        assert_eq!(&input[span], b"d4:name1:x6:lengthi1ee");
        assert_eq!(dict_value_span(input, b"missing"), Ok(None));
        assert_eq!(
            dict_value_span(b"li1ee", b"info"),
            Err(BencodeError::NotADict(0))
        );
        assert_eq!(
            dict_value_span(b"d4:infoi1eex", b"info"),
            Err(BencodeError::TrailingData(11))
        );
        assert!(matches!(
            dict_value_span(b"d4:infoi1e4:infoi2ee", b"info"),
            Err(BencodeError::DuplicateKey(10))
        ));
        assert!(dict_value_span(b"d4:infod1:ai1e1:ai1eee", b"info").is_err());
        assert!(dict_value_span(b"d4:info", b"info").is_err());
    }

    #[test]
    fn constructors_and_accessors() {
        let v = Value::dict([
            ("n", Value::from(3)),
            ("s", Value::from("hi")),
            ("l", Value::List(vec![])),
        ]);
        assert_eq!(v.get(b"n").and_then(Value::as_int), Some(3));
        assert_eq!(v.get(b"s").and_then(Value::as_bytes), Some(&b"hi"[..]));
        assert_eq!(v.get(b"l").and_then(Value::as_list), Some(&[][..]));
        assert_eq!(Value::Int(1).get(b"x"), None);
        assert_eq!(Value::bytes(vec![0xff]).as_str(), None);
        assert_eq!(encode(&v), b"d1:lle1:ni3e1:s2:hie".to_vec());
        assert_eq!(format!("{:?}", Value::bytes(vec![0u8; 40])), "<40 bytes>");
    }

    /// Fuzz-style: random bytes and mutations of valid encodings must never panic, and
    /// whatever decodes must re-encode to something that decodes to the same value.
    #[test]
    fn random_inputs_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let seeds: [&[u8]; 4] = [
            b"d8:announce3:url4:infod6:lengthi10e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
            b"li1ei-2e3:abcld1:xi0eeee",
            b"d1:ad1:bd1:cl1:deeee",
            b"i123456789e",
        ];
        const ALPHABET: &[u8] = b"0123456789ilde:-x";
        for _ in 0..20_000 {
            let input: Vec<u8> = if rng.random_bool(0.3) {
                let n = rng.random_range(0..32);
                (0..n)
                    .map(|_| {
                        if rng.random_bool(0.8) {
                            ALPHABET[rng.random_range(0..ALPHABET.len())]
                        } else {
                            rng.random()
                        }
                    })
                    .collect()
            } else {
                let mut v = seeds[rng.random_range(0..seeds.len())].to_vec();
                for _ in 0..rng.random_range(1..4) {
                    let i = rng.random_range(0..v.len());
                    match rng.random_range(0..3) {
                        0 => v[i] = ALPHABET[rng.random_range(0..ALPHABET.len())],
                        1 => {
                            v.remove(i);
                            if v.is_empty() {
                                break;
                            }
                        }
                        _ => v.truncate(i.max(1)),
                    }
                }
                v
            };
            if let Ok(v) = decode(&input) {
                assert_eq!(decode(&encode(&v)).as_ref(), Ok(&v));
            }
            let _ = decode_prefix(&input);
            let _ = dict_value_span(&input, b"info");
        }
    }
}
