//! Fast resume: what a torrent knows about its data, kept so a restart (even after a crash)
//! need not hash what was already verified.
//!
//! Durability order (the invariant every writer keeps): a piece is set in `have` only after
//! its data was written and `fsync`ed, so a state on disk never claims bytes a crash could
//! lose. Pieces verified after the newest save are found again by [`plan`]: their file's
//! mtime moved, and only their ranges that hold data are hashed.

mod plan;
mod store;

pub use plan::{plan, CheckPlan};
pub use store::ResumeStore;

use crate::bencode::{self, Value};
use crate::storage::FileStat;
use crate::{Bitfield, InfoHash};

const VERSION: i64 = 1;

/// One torrent's resume record.
#[derive(Clone, Debug, PartialEq)]
pub struct ResumeState {
    pub info_hash: InfoHash,
    /// Verified pieces whose data is on disk (fsynced).
    pub have: Bitfield,
    /// Pieces whose `have` bit is known: all after a finished check; a prefix-ish subset while
    /// a check is interrupted, which the next start completes instead of starting over.
    pub checked: Bitfield,
    /// Each file's size and mtime when the record was written (`None`: missing).
    pub files: Vec<Option<FileStat>>,
    /// Payload totals, for callers that have no database of their own (the CLI).
    pub uploaded: u64,
    pub downloaded: u64,
}

/// Why a stored record cannot be used (the store then falls back to an older generation).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResumeError {
    #[error("checksum mismatch (torn or corrupt write)")]
    Checksum,
    #[error("not bencode: {0}")]
    Bencode(#[from] bencode::BencodeError),
    #[error("field {0:?} missing or of the wrong type")]
    Field(&'static str),
    #[error("format version {0} is not supported")]
    Version(i64),
}

impl ResumeState {
    /// SHA-1 of the bencoded body, then the body: a torn write never parses as valid.
    pub fn encode(&self) -> Vec<u8> {
        let files = self
            .files
            .iter()
            .map(|f| match f {
                Some(f) => Value::List(vec![Value::Int(clamp(f.size)), Value::Int(f.mtime_ns)]),
                None => Value::List(Vec::new()),
            })
            .collect();
        let body = bencode::encode(&Value::dict([
            ("v", Value::Int(VERSION)),
            ("ih", Value::bytes(self.info_hash.0.to_vec())),
            ("n", Value::Int(self.have.len() as i64)),
            ("have", Value::bytes(self.have.as_bytes().to_vec())),
            ("checked", Value::bytes(self.checked.as_bytes().to_vec())),
            ("files", Value::List(files)),
            ("up", Value::Int(clamp(self.uploaded))),
            ("down", Value::Int(clamp(self.downloaded))),
        ]));
        let mut out = crate::storage::sha1_piece(&body).to_vec();
        out.extend_from_slice(&body);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ResumeError> {
        if bytes.len() < 20 || crate::storage::sha1_piece(&bytes[20..]) != bytes[..20] {
            return Err(ResumeError::Checksum);
        }
        let v = bencode::decode(&bytes[20..])?;
        let int = |k: &'static str| {
            v.get(k.as_bytes())
                .and_then(Value::as_int)
                .ok_or(ResumeError::Field(k))
        };
        let raw = |k: &'static str| {
            v.get(k.as_bytes())
                .and_then(Value::as_bytes)
                .ok_or(ResumeError::Field(k))
        };
        let version = int("v")?;
        if version != VERSION {
            return Err(ResumeError::Version(version));
        }
        let ih: [u8; 20] = raw("ih")?
            .try_into()
            .map_err(|_| ResumeError::Field("ih"))?;
        let n = usize::try_from(int("n")?).map_err(|_| ResumeError::Field("n"))?;
        let bits =
            |k: &'static str| Bitfield::from_wire(raw(k)?, n).map_err(|_| ResumeError::Field(k));
        let files = v
            .get(b"files")
            .and_then(Value::as_list)
            .ok_or(ResumeError::Field("files"))?
            .iter()
            .map(|f| match f.as_list() {
                Some([]) => Ok(None),
                Some([size, mtime]) => Ok(Some(FileStat {
                    size: size
                        .as_int()
                        .and_then(|s| u64::try_from(s).ok())
                        .ok_or(ResumeError::Field("files"))?,
                    mtime_ns: mtime.as_int().ok_or(ResumeError::Field("files"))?,
                })),
                _ => Err(ResumeError::Field("files")),
            })
            .collect::<Result<_, _>>()?;
        let total = |k| int(k).map(|x| u64::try_from(x).unwrap_or(0));
        Ok(ResumeState {
            info_hash: InfoHash(ih),
            have: bits("have")?,
            checked: bits("checked")?,
            files,
            uploaded: total("up")?,
            downloaded: total("down")?,
        })
    }
}

fn clamp(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> ResumeState {
        let mut have = Bitfield::new(11);
        have.set(0);
        have.set(10);
        ResumeState {
            info_hash: InfoHash([7; 20]),
            have,
            checked: Bitfield::full(11),
            files: vec![
                Some(FileStat {
                    size: 123,
                    mtime_ns: 1_700_000_000_123_456_789,
                }),
                None,
            ],
            uploaded: 5,
            downloaded: 1 << 40,
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        assert_eq!(ResumeState::decode(&s.encode()).unwrap(), s);
    }

    #[test]
    fn torn_and_foreign_records_are_refused() {
        let bytes = sample().encode();
        for cut in [0, 10, 20, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(
                ResumeState::decode(&bytes[..cut]),
                Err(ResumeError::Checksum),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        assert_eq!(ResumeState::decode(&flipped), Err(ResumeError::Checksum));
        // A valid checksum over a body of the wrong shape is still refused by field.
        let body = bencode::encode(&Value::dict([("v", Value::Int(VERSION))]));
        let mut forged = crate::storage::sha1_piece(&body).to_vec();
        forged.extend_from_slice(&body);
        assert_eq!(ResumeState::decode(&forged), Err(ResumeError::Field("ih")));
    }
}
