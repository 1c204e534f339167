//! A tiny bencode writer for the tracker's replies. The engine's encoder builds a `Value` tree
//! (a `BTreeMap` per dictionary) first; a reply here is written straight into one buffer, keys
//! in sorted order by construction, which matters at tens of thousands of announces a second.

pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn with_capacity(n: usize) -> Writer {
        Writer(Vec::with_capacity(n))
    }

    pub fn dict(&mut self) -> &mut Self {
        self.0.push(b'd');
        self
    }

    pub fn list(&mut self) -> &mut Self {
        self.0.push(b'l');
        self
    }

    pub fn end(&mut self) -> &mut Self {
        self.0.push(b'e');
        self
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        push_num(&mut self.0, b.len() as u64);
        self.0.push(b':');
        self.0.extend_from_slice(b);
        self
    }

    /// A byte string of `len` bytes whose content the caller appends next.
    pub fn bytes_header(&mut self, len: usize) -> &mut Self {
        push_num(&mut self.0, len as u64);
        self.0.push(b':');
        self
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        self.0.push(b'i');
        if n < 0 {
            self.0.push(b'-');
        }
        push_num(&mut self.0, n.unsigned_abs());
        self.0.push(b'e');
        self
    }

    /// A `failure reason` reply (BEP 3).
    pub fn failure(reason: &str) -> Vec<u8> {
        let mut w = Writer::with_capacity(32 + reason.len());
        w.dict()
            .bytes(b"failure reason")
            .bytes(reason.as_bytes())
            .end();
        w.0
    }
}

/// Decimal digits of `n`, without a temporary string.
fn push_num(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_the_engine_decodes() {
        let mut w = Writer::with_capacity(0);
        w.dict()
            .bytes(b"a")
            .int(-3)
            .bytes(b"b")
            .list()
            .bytes(b"xy")
            .end()
            .end();
        assert_eq!(w.0, b"d1:ai-3e1:bl2:xyee");
        assert!(engine::bencode::decode(&w.0).is_ok());
        let f = Writer::failure("missing info_hash");
        let v = engine::bencode::decode(&f).unwrap();
        assert_eq!(
            v.get(b"failure reason").and_then(|v| v.as_str()),
            Some("missing info_hash")
        );
    }
}
