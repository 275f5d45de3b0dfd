//! Identifier splitting for full-text search: `bch2_discard_one_bucket` is indexed as the
//! whole word and as `bch2`, `discard`, `one`, `bucket`, so "discard bucket" finds it.
//!
//! The text index tokenizes with [`TermTokenizer`] and queries use [`terms`]: both list
//! the same terms, from [`term_ranges`].

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Lowercase search terms of `text`: every identifier, plus its parts when it has several
/// (split at `_` and lower-to-upper case changes).
pub fn terms(text: &str) -> Vec<String> {
    let mut ranges = Vec::new();
    term_ranges(text.as_bytes(), &mut ranges);
    ranges
        .into_iter()
        .map(|(start, end)| text[start..end].to_ascii_lowercase())
        .collect()
}

/// Like [`terms`], deduplicated, in first-seen order (for queries).
pub fn unique_terms(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    terms(text)
        .into_iter()
        .filter(|term| seen.insert(term.clone()))
        .collect()
}

/// What a byte is to [`term_ranges`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Other,
    Digit,
    Lower,
    Upper,
    Underscore,
}

/// Every byte's [`Class`], looked up once per byte of every indexed text.
static CLASSES: [Class; 256] = {
    let mut classes = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        classes[b] = match b as u8 {
            b'0'..=b'9' => Class::Digit,
            b'a'..=b'z' => Class::Lower,
            b'A'..=b'Z' => Class::Upper,
            b'_' => Class::Underscore,
            _ => Class::Other,
        };
        b += 1;
    }
    classes
};

/// Appends to `out` the byte range of each term of `text`, not yet lowercased. Identifiers
/// are runs of ASCII letters, digits and `_` that start with a letter or `_` and contain a
/// letter; numbers (`0x1f`, `1ULL`) are not words: data tables are full of them, and nobody
/// looks for code by its constants in a word index. Each identifier gives its parts, then
/// the whole identifier (without leading and trailing `_`) when it has several parts.
fn term_ranges(text: &[u8], out: &mut Vec<(usize, usize)>) {
    let class = |i: usize| CLASSES[usize::from(text[i])];
    let mut i = 0;
    while i < text.len() {
        let first = class(i);
        if first == Class::Other {
            i += 1;
            continue;
        }
        let start = i;
        if first == Class::Digit {
            while i < text.len() && class(i) != Class::Other {
                i += 1;
            }
            continue;
        }
        let parts_from = out.len();
        let (mut part_start, mut previous, mut has_letter) = (i, Class::Other, false);
        while i < text.len() {
            let current = class(i);
            match current {
                Class::Other => break,
                Class::Underscore => {
                    if i > part_start {
                        out.push((part_start, i));
                    }
                    part_start = i + 1;
                }
                Class::Upper if previous == Class::Lower => {
                    out.push((part_start, i));
                    part_start = i;
                    has_letter = true;
                }
                Class::Lower | Class::Upper => has_letter = true,
                Class::Digit => {}
            }
            previous = current;
            i += 1;
        }
        if i > part_start {
            out.push((part_start, i));
        }
        if !has_letter {
            out.truncate(parts_from);
        } else if out.len() - parts_from != 1 {
            let word = &text[start..i];
            let lead = word.iter().take_while(|&&b| b == b'_').count();
            let trail = word.iter().rev().take_while(|&&b| b == b'_').count();
            out.push((start + lead, i - trail));
        }
    }
}

/// The text index's tokenizer: the lowercase terms of [`term_ranges`].
#[derive(Clone, Default)]
pub struct TermTokenizer {
    token: Token,
    ranges: Vec<(usize, usize)>,
}

/// The terms of one text, as tantivy reads them.
pub struct TermStream<'a> {
    text: &'a str,
    ranges: std::slice::Iter<'a, (usize, usize)>,
    token: &'a mut Token,
}

impl Tokenizer for TermTokenizer {
    type TokenStream<'a> = TermStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream<'a> {
        self.token.reset();
        self.ranges.clear();
        term_ranges(text.as_bytes(), &mut self.ranges);
        TermStream {
            text,
            ranges: self.ranges.iter(),
            token: &mut self.token,
        }
    }
}

impl TokenStream for TermStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(start, end)) = self.ranges.next() else {
            return false;
        };
        let token = &mut *self.token;
        token.position = token.position.wrapping_add(1);
        token.offset_from = start;
        token.offset_to = end;
        token.text.clear();
        token.text.push_str(&self.text[start..end]);
        token.text.make_ascii_lowercase();
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::{terms, TermTokenizer};
    use tantivy::tokenizer::{TokenStream, Tokenizer};

    #[test]
    fn splits_identifiers() {
        assert_eq!(
            terms("bch2_discard_one_bucket"),
            [
                "bch2",
                "discard",
                "one",
                "bucket",
                "bch2_discard_one_bucket"
            ]
        );
        assert_eq!(
            terms("kmallocArray x 42"),
            ["kmalloc", "array", "kmallocarray", "x"]
        );
        assert_eq!(terms("__func__"), ["func"]);
        assert_eq!(terms("__a__b_"), ["a", "b", "a__b"]);
        assert!(terms("0x1f 1ULL 4096 ___").is_empty());
    }

    #[test]
    fn the_tokenizer_lists_the_query_terms() {
        let text = "static int bch2_fooBar(struct x *k) { return 0x10 + __func__[0]; }";
        let mut tokenizer = TermTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push(stream.token().text.clone());
        }
        assert_eq!(tokens, terms(text));
    }
}
