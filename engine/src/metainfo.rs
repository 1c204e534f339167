//! (being written)

/// A single path component or torrent name we are willing to create on disk.
pub(crate) fn valid_component(c: &str) -> bool {
    !c.is_empty() && c != "." && c != ".." && !c.contains(['/', '\\', '\0'])
}
