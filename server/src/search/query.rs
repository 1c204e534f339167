//! What a search matches: every word of the query, in any order, ignoring case and accents.
//! Text is folded with Unicode NFKD, combining marks dropped and lower-cased, and split into
//! words at anything that is not a letter or digit ("Café_Ñandú.mkv" → `cafe nandu mkv`).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words kept from a query at most, and characters per word.
pub const MAX_WORDS: usize = 16;
const MAX_WORD: usize = 64;
/// Longest query text read.
pub const MAX_QUERY: usize = 512;

/// `s` folded: compatibility-decomposed, without combining marks, lower case.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded words of `s`.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A parsed query: its distinct folded words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    /// None when `q` has no word (an empty query matches nothing: the catalog is not
    /// listed whole by a search).
    pub fn parse(q: &str) -> Option<Query> {
        let cut: String = q.chars().take(MAX_QUERY).collect();
        let mut out: Vec<String> = Vec::new();
        for w in words(&cut) {
            let w: String = w.chars().take(MAX_WORD).collect();
            if !out.contains(&w) && out.len() < MAX_WORDS {
                out.push(w);
            }
        }
        (!out.is_empty()).then_some(Query { words: out })
    }

    #[cfg(test)]
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// How well `name` matches, or None when a word of the query is not in it. Per word: 3
    /// for a whole word of the name, 2 for the start of one, 1 for inside one.
    pub fn score(&self, name: &str) -> Option<u32> {
        let hay = words(name);
        let mut total = 0;
        for w in &self.words {
            let best = hay
                .iter()
                .map(|h| {
                    if h == w {
                        3
                    } else if h.starts_with(w.as_str()) {
                        2
                    } else if h.contains(w.as_str()) {
                        1
                    } else {
                        0
                    }
                })
                .max()
                .unwrap_or(0);
            if best == 0 {
                return None;
            }
            total += best;
        }
        Some(total)
    }

    /// The best score of a torrent's name and (at a third of the weight, at least 1) of its
    /// file paths: a folder shared as one torrent is found by a file inside it.
    pub fn score_torrent<'a>(
        &self,
        name: &str,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> Option<u32> {
        self.score(name).or_else(|| {
            paths
                .into_iter()
                .filter_map(|p| self.score(p))
                .max()
                .map(|s| (s / 3).max(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_compatibility_forms() {
        assert_eq!(fold("Café ÑANDÚ"), "cafe nandu");
        assert_eq!(fold("ﬁle Ⅻ"), "file xii");
        assert_eq!(
            words("Ubuntu-24.04_désktop.iso"),
            ["ubuntu", "24", "04", "desktop", "iso"]
        );
        assert_eq!(words("  \u{200b}…  "), Vec::<String>::new());
    }

    #[test]
    fn every_word_in_any_order() {
        let q = Query::parse("REPORT  café").unwrap();
        assert_eq!(q.words(), ["report", "cafe"]);
        assert!(q.score("Café Ñandú Report 2024.pdf").is_some());
        assert!(q.score("Cafe annual rèport").is_some());
        assert_eq!(q.score("Café only"), None);
        assert_eq!(Query::parse(" -- "), None);
        assert_eq!(Query::parse(""), None);
    }

    #[test]
    fn whole_words_rank_above_prefixes_above_inner_matches() {
        let q = Query::parse("port").unwrap();
        let (whole, prefix, inner) = (
            q.score("port city").unwrap(),
            q.score("portable").unwrap(),
            q.score("report").unwrap(),
        );
        assert!(whole > prefix && prefix > inner, "{whole} {prefix} {inner}");
    }

    #[test]
    fn files_match_at_a_lower_weight() {
        let q = Query::parse("intro").unwrap();
        assert_eq!(q.score_torrent("album", ["album/01 intro.bin"]), Some(1));
        assert_eq!(q.score_torrent("album", ["album/02.bin"]), None);
        assert_eq!(q.score_torrent("intro", ["x"]), Some(3));
    }

    #[test]
    fn queries_are_bounded() {
        let long = "a ".repeat(10_000) + &"b".repeat(10_000);
        let q = Query::parse(&long).unwrap();
        assert_eq!(q.words(), ["a"]);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(Query::parse(&many).unwrap().words().len(), MAX_WORDS);
    }
}
