//! `.magnet` files of watch folders: a small text file holding one magnet link (blank lines
//! and `#` comments around it are allowed). Untrusted: bounded, never panics. Only std and
//! the engine, so `fuzz/` compiles this file as it is.

use engine::magnet::{Magnet, MagnetError};

/// Largest `.magnet` file read.
pub const MAX_MAGNET_FILE: u64 = 8 << 10;

#[derive(Debug, PartialEq, Eq)]
pub enum MagnetFileError {
    TooLarge,
    NotUtf8,
    Empty,
    /// More than one link: which one was meant is not ours to guess.
    SeveralLinks,
    Invalid(MagnetError),
}

impl std::fmt::Display for MagnetFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MagnetFileError::TooLarge => {
                write!(f, "a .magnet file must be at most {MAX_MAGNET_FILE} bytes")
            }
            MagnetFileError::NotUtf8 => f.write_str("the .magnet file is not UTF-8 text"),
            MagnetFileError::Empty => f.write_str("the .magnet file holds no magnet link"),
            MagnetFileError::SeveralLinks => {
                f.write_str("the .magnet file holds more than one line of text")
            }
            MagnetFileError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MagnetFileError {}

/// The magnet link in `bytes` (trimmed, checked by the engine's parser).
pub fn parse(bytes: &[u8]) -> Result<String, MagnetFileError> {
    if bytes.len() as u64 > MAX_MAGNET_FILE {
        return Err(MagnetFileError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| MagnetFileError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let uri = lines.next().ok_or(MagnetFileError::Empty)?;
    if lines.next().is_some() {
        return Err(MagnetFileError::SeveralLinks);
    }
    Magnet::parse(uri).map_err(MagnetFileError::Invalid)?;
    Ok(uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IH: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn one_link_with_comments_and_blank_lines() {
        let text = format!("\u{feff}# from the web\n\n  magnet:?xt=urn:btih:{IH}&dn=x  \r\n\n");
        assert_eq!(
            parse(text.as_bytes()).unwrap(),
            format!("magnet:?xt=urn:btih:{IH}&dn=x")
        );
    }

    #[test]
    fn refuses_what_is_not_one_magnet_link() {
        assert_eq!(parse(b""), Err(MagnetFileError::Empty));
        assert_eq!(parse(b"# only\n\n"), Err(MagnetFileError::Empty));
        assert_eq!(parse(&[0xff, 0xfe]), Err(MagnetFileError::NotUtf8));
        let two = format!("magnet:?xt=urn:btih:{IH}\nmagnet:?xt=urn:btih:{IH}\n");
        assert_eq!(parse(two.as_bytes()), Err(MagnetFileError::SeveralLinks));
        assert!(matches!(
            parse(b"http://example.org/x.torrent"),
            Err(MagnetFileError::Invalid(MagnetError::Scheme))
        ));
        let big = vec![b'a'; MAX_MAGNET_FILE as usize + 1];
        assert_eq!(parse(&big), Err(MagnetFileError::TooLarge));
    }
}
