//! Identifier splitting for full-text search: `bch2_discard_one_bucket` is indexed as the
//! whole word and as `bch2`, `discard`, `one`, `bucket`, so "discard bucket" finds it.

/// Lowercase search terms of `text`: every identifier-like word, plus its parts when it has
/// several (split at `_` and lower-to-upper case changes).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in words(text) {
        for_each_term(word, |term| out.push(term.to_ascii_lowercase()));
    }
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

/// Appends the terms of `text`, space-separated, to `out` (the indexed form of a field).
pub fn append_terms(text: &str, out: &mut String) {
    for word in words(text) {
        for_each_term(word, |term| {
            out.extend(term.chars().map(|c| c.to_ascii_lowercase()));
            out.push(' ');
        });
    }
}

/// Identifier-like words: runs of ASCII letters, digits and `_` that contain a letter.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// Calls `emit` with each term of `word`, not yet lowercased: its parts, then the whole
/// word (without leading and trailing `_`) when it has several parts.
fn for_each_term<'w>(word: &'w str, mut emit: impl FnMut(&'w str)) {
    let mut n_parts = 0;
    for underscore_part in word.split('_').filter(|part| !part.is_empty()) {
        let bytes = underscore_part.as_bytes();
        let mut part_start = 0;
        for i in 1..bytes.len() {
            if bytes[i - 1].is_ascii_lowercase() && bytes[i].is_ascii_uppercase() {
                emit(&underscore_part[part_start..i]);
                n_parts += 1;
                part_start = i;
            }
        }
        emit(&underscore_part[part_start..]);
        n_parts += 1;
    }
    let whole = word.trim_matches('_');
    if n_parts != 1 && !whole.is_empty() {
        emit(whole);
    }
}

#[cfg(test)]
mod tests {
    use super::terms;

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
    }
}
