//! Identifier splitting for full-text search: `bch2_discard_one_bucket` is indexed as the
//! whole word and as `bch2`, `discard`, `one`, `bucket`, so "discard bucket" finds it.
//!
//! The text index tokenizes with [`TermTokenizer`] and queries use [`terms`]: both list
//! the same terms, from [`for_each_term`].

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Lowercase search terms of `text`: every identifier, plus its parts when it has several
/// (split at `_` and lower-to-upper case changes).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, |start, end| {
        out.push(text[start..end].to_ascii_lowercase())
    });
    out
}

/// Like [`terms`], deduplicated, in first-seen order (for queries).
pub fn unique_terms(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    terms(text)
        .into_iter()
        .filter(|term| seen.insert(term.clone()))
        .collect()
}

/// Identifiers: runs of ASCII letters, digits and `_` that start with a letter or `_` and
/// contain a letter. Numbers (`0x1f`, `1ULL`) are not words: data tables are full of them,
/// and nobody looks for code by its constants in a word index.
fn is_identifier(word: &[u8]) -> bool {
    word.first().is_some_and(|b| !b.is_ascii_digit()) && word.iter().any(u8::is_ascii_alphabetic)
}

/// Calls `emit` with the byte range in `text` of each term, not yet lowercased: for each
/// identifier, its parts, then the whole identifier (without leading and trailing `_`) when
/// it has several parts.
fn for_each_term(text: &str, mut emit: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let is_word_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(is_word_byte) {
            i += 1;
        }
        if is_identifier(&bytes[start..i]) {
            word_terms(bytes, start, i, &mut emit);
        }
    }
}

/// The terms of the identifier `bytes[start..end]`, as [`for_each_term`] lists them.
fn word_terms(bytes: &[u8], start: usize, end: usize, emit: &mut impl FnMut(usize, usize)) {
    let mut n_parts = 0;
    let mut part_start = start;
    for i in start..=end {
        let at_end = i == end || bytes[i] == b'_';
        let case_change = !at_end
            && i > part_start
            && bytes[i - 1].is_ascii_lowercase()
            && bytes[i].is_ascii_uppercase();
        if (at_end || case_change) && i > part_start {
            emit(part_start, i);
            n_parts += 1;
        }
        if at_end {
            part_start = i + 1;
        } else if case_change {
            part_start = i;
        }
    }
    let whole = &bytes[start..end];
    let (lead, trail) = (
        whole.iter().take_while(|&&b| b == b'_').count(),
        whole.iter().rev().take_while(|&&b| b == b'_').count(),
    );
    if n_parts != 1 && lead < whole.len() {
        emit(start + lead, end - trail);
    }
}

/// The text index's tokenizer: the lowercase terms of [`for_each_term`].
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
        for_each_term(text, |start, end| self.ranges.push((start, end)));
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
